//! Request extractors that fail with [`ApiError`] (problem+json) instead of actix's
//! plain-text errors: [`Json`] for bodies, [`Query`] for query strings.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::{Bytes, BytesMut};
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;
use serde_json::Value;
use utoipa::IntoParams;
use utoipa::openapi::path::ParameterIn;

use crate::error::{ApiError, ErrorCode, FieldError};
use crate::http::validate::MAX_QUERY_VALUE;
use crate::text;

/// Largest JSON body accepted by [`Json`] (api-conventions: 64 KiB).
pub const JSON_LIMIT_BYTES: usize = 64 * 1024;

/// The raw bytes of the request body, kept in the request's extensions by [`Json`] so that
/// `Idempotency-Key` handling can fingerprint exactly what the client sent.
#[derive(Clone)]
pub struct RawBody(pub Bytes);

/// A JSON request body: `Content-Type: application/json`, at most 64 KiB, no NUL characters
/// in any string, and fields checked by `T`'s `Deserialize` (use
/// `#[serde(deny_unknown_fields)]` on request types). Errors point at the bad field.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let payload = payload.take();
        Box::pin(async move {
            require_content_type(&req, "application/json")?;
            let bytes = read_body(&req, payload, JSON_LIMIT_BYTES).await?;
            let value = parse_json(&bytes)?;
            let parsed = deserialize_value::<T>(value)?;
            req.extensions_mut().insert(RawBody(bytes));
            Ok(Json(parsed))
        })
    }
}

/// The request's media type in lower case, without parameters such as `charset` (empty when
/// there is none).
pub fn media_type(req: &HttpRequest) -> String {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
        .unwrap_or_default()
}

/// Checks the request's media type. `+json` suffixes are accepted where JSON is expected.
pub fn require_content_type(req: &HttpRequest, expected: &'static str) -> Result<(), ApiError> {
    let mime = media_type(req);
    let ok = mime == expected
        || (expected == "application/json" && mime.starts_with("application/") && mime.ends_with("+json"));
    if ok {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType { expected })
    }
}

/// Reads the whole body, refusing with 413 as soon as it is known to exceed `limit`.
pub async fn read_body(req: &HttpRequest, mut payload: Payload, limit: usize) -> Result<Bytes, ApiError> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|len| len > limit) {
        return Err(too_large(&mut payload, limit, declared).await);
    }
    let mut body = BytesMut::with_capacity(declared.unwrap_or(1024).min(limit));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::bad_request(
                ErrorCode::MalformedJson,
                text!("could not read the body: {e}", "无法读取请求内容：{e}"),
            )
        })?;
        if body.len() + chunk.len() > limit {
            return Err(too_large(&mut payload, limit, declared).await);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// The 413 for a body over `limit`. A body at most four times the limit is first read to its
/// end and thrown away (for two seconds at most): a client still sending would otherwise see
/// the connection closed under it ("broken pipe") instead of the 413. Larger bodies are not
/// read at all.
async fn too_large(payload: &mut Payload, limit: usize, declared: Option<usize>) -> ApiError {
    let cap = limit.saturating_mul(4);
    if declared.is_none_or(|len| len <= cap) {
        let drain = async {
            let mut read = 0usize;
            while let Some(Ok(chunk)) = payload.next().await {
                read += chunk.len();
                if read > cap {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), drain).await;
    }
    ApiError::PayloadTooLarge { limit_bytes: limit }
}

fn parse_json(bytes: &[u8]) -> Result<Value, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            ErrorCode::MalformedJson,
            text!(
                "The request body is empty; send a JSON object.",
                "请求内容为空，请发送一个 JSON 对象。"
            ),
        ));
    }
    let mut value: Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::bad_request(
            ErrorCode::MalformedJson,
            text!("The body is not valid JSON: {e}.", "请求内容不是有效的 JSON：{e}。"),
        )
    })?;
    integral_numbers_as_integers(&mut value);
    let mut nul_errors = Vec::new();
    find_nul(&value, &mut String::new(), &mut nul_errors);
    if !nul_errors.is_empty() {
        return Err(ApiError::Validation(nul_errors));
    }
    Ok(value)
}

/// JSON does not tell `2017` from `2017.0`, and JSON Schema's `integer` takes both: a
/// number with no fraction (within ±2^53, where floats are exact) is read as an integer.
fn integral_numbers_as_integers(value: &mut Value) {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    match value {
        Value::Number(n) if !n.is_i64() && !n.is_u64() => {
            if let Some(f) = n.as_f64()
                && f.fract() == 0.0
                && f.abs() <= EXACT
            {
                *value = Value::from(f as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_numbers_as_integers),
        Value::Object(map) => map.values_mut().for_each(integral_numbers_as_integers),
        _ => {}
    }
}

/// PostgreSQL cannot store NUL in text, and no legitimate text contains it: every string
/// (and object key) holding one is reported as a validation error.
pub(crate) fn find_nul(value: &Value, pointer: &mut String, out: &mut Vec<FieldError>) {
    let len = pointer.len();
    match value {
        Value::String(s) if s.contains('\0') => out.push(FieldError::body(
            pointer.clone(),
            "nul_character",
            text!(
                "must not contain the NUL character (\\u0000)",
                "不能包含 NUL 字符（\\u0000）"
            ),
        )),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                pointer.push('/');
                pointer.push_str(&i.to_string());
                find_nul(item, pointer, out);
                pointer.truncate(len);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                pointer.push('/');
                pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
                if key.contains('\0') {
                    out.push(FieldError::body(
                        pointer.clone(),
                        "nul_character",
                        text!("field names must not contain NUL", "字段名不能包含 NUL 字符"),
                    ));
                } else {
                    find_nul(item, pointer, out);
                }
                pointer.truncate(len);
            }
        }
        _ => {}
    }
}

/// Deserializes into `T`, reporting the JSON Pointer of the failing field.
pub fn deserialize_value<T: DeserializeOwned>(value: Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize::<_, T>(value).map_err(|err| {
        let mut pointer = String::new();
        for segment in err.path().iter() {
            use serde_path_to_error::Segment;
            match segment {
                Segment::Seq { index } => pointer.push_str(&format!("/{index}")),
                Segment::Map { key } => pointer.push_str(&format!("/{}", key.replace('~', "~0").replace('/', "~1"))),
                Segment::Enum { variant } => pointer.push_str(&format!("/{variant}")),
                Segment::Unknown => {}
            }
        }
        let message = err.inner().to_string();
        let code = if message.starts_with("unknown field") {
            "unknown_field"
        } else if let Some(rest) = message.strip_prefix("missing field `") {
            pointer.push('/');
            pointer.push_str(rest.trim_end_matches('`'));
            "required"
        } else if message.starts_with("invalid type") {
            "invalid_type"
        } else if message.starts_with("unknown variant") {
            "invalid_value"
        } else {
            "invalid"
        };
        // serde speaks English; the Chinese side names the kind of error and quotes it.
        let message = match code {
            "required" => text!("is required", "为必填项"),
            "unknown_field" => text!("{message}", "不是可接受的字段（{message}）"),
            "invalid_type" => text!("{message}", "类型错误（{message}）"),
            "invalid_value" => text!("{message}", "取值无效（{message}）"),
            _ => text!("{message}", "无效（{message}）"),
        };
        ApiError::Validation(vec![FieldError::body(pointer, code, message)])
    })
}

/// A query string parsed into `T`. Parameters that `T` does not document (its `IntoParams`)
/// are refused with 400, so typos such as `?stauts=` never pass silently.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned + IntoParams> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(parse_query(req.query_string()))
    }
}

/// Parses and checks a query string for [`Query`].
pub fn parse_query<T: DeserializeOwned + IntoParams>(query: &str) -> Result<Query<T>, ApiError> {
    check_query(query, &param_names::<T>())?;
    deserialize_query(query).map(Query)
}

/// The query parameter names `T` documents.
pub fn param_names<T: IntoParams>() -> Vec<String> {
    T::into_params(|| Some(ParameterIn::Query))
        .into_iter()
        .map(|p| p.name)
        .collect()
}

/// Refuses parameters not in `known`, values containing NUL and values over
/// [`MAX_QUERY_VALUE`] characters (400 `invalid_query`, each bad value listed).
pub fn check_query(query: &str, known: &[String]) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        if !known.iter().any(|k| *k == key) {
            let list = if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            };
            return Err(ApiError::bad_request(
                ErrorCode::InvalidQuery,
                text!(
                    "Unknown query parameter `{key}`; this endpoint accepts: {list}.",
                    "未知的查询参数 `{key}`；此接口接受：{list}。"
                ),
            ));
        }
        if value.contains('\0') {
            errors.push(FieldError::query(
                key.into_owned(),
                "nul_character",
                text!("must not contain the NUL character", "不能包含 NUL 字符"),
            ));
        } else if value.chars().count() > MAX_QUERY_VALUE {
            errors.push(FieldError::query(
                key.into_owned(),
                "length",
                text!(
                    "must be at most {MAX_QUERY_VALUE} characters",
                    "至多 {MAX_QUERY_VALUE} 个字符"
                ),
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::InvalidQuery(errors))
    }
}

/// Deserializes a (checked) query string.
pub fn deserialize_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    serde_urlencoded::from_str::<T>(query).map_err(|e| {
        ApiError::bad_request(
            ErrorCode::InvalidQuery,
            text!("Query string is not valid: {e}.", "查询参数无效：{e}。"),
        )
    })
}

/// `Json` also answers: a handler may return `Json(view)` for a 200 JSON response.
impl<T: serde::Serialize> actix_web::Responder for Json<T> {
    type Body = actix_web::body::BoxBody;

    fn respond_to(self, _: &HttpRequest) -> actix_web::HttpResponse {
        actix_web::HttpResponse::Ok().json(self.0)
    }
}

/// A JSON body that may be left out entirely (no body, or `Content-Length: 0`): then it is
/// `T::default()`. For actions such as `POST /pledges/{id}/submit` whose body is optional.
pub struct OptionalJson<T>(pub T);

impl<T: DeserializeOwned + Default + 'static> FromRequest for OptionalJson<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let payload = payload.take();
        Box::pin(async move {
            let declared_empty = req
                .headers()
                .get(header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.trim() == "0");
            if declared_empty || !req.headers().contains_key(header::CONTENT_TYPE) {
                let bytes = read_body(&req, payload, JSON_LIMIT_BYTES).await?;
                if bytes.iter().all(u8::is_ascii_whitespace) {
                    return Ok(OptionalJson(T::default()));
                }
                return Err(ApiError::UnsupportedMediaType {
                    expected: "application/json",
                });
            }
            require_content_type(&req, "application/json")?;
            let bytes = read_body(&req, payload, JSON_LIMIT_BYTES).await?;
            if bytes.iter().all(u8::is_ascii_whitespace) {
                return Ok(OptionalJson(T::default()));
            }
            let value = parse_json(&bytes)?;
            if value.is_null() {
                // `null` is "no body" too, as the spec's `oneOf [..., null]` says.
                return Ok(OptionalJson(T::default()));
            }
            let parsed = deserialize_value::<T>(value)?;
            req.extensions_mut().insert(RawBody(bytes));
            Ok(OptionalJson(parsed))
        })
    }
}
