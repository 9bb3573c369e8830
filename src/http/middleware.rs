//! The two middlewares every request goes through:
//! [`observe`] (request id, tracing span, metrics, access log) on the outside, and
//! [`finish_problems`] on the inside, which turns every error response into problem+json.

use std::sync::Arc;
use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, HttpResponse};
use tracing::Instrument;

use crate::error::{ApiError, ErrorCode, Lang, Problem};
use crate::http::extract::check_query;
use crate::http::metrics::Metrics;
use crate::http::routes::RouteTable;
use crate::text;

pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The route pattern a request matches (`/api/v1/members/{id}`), `None` when none does.
/// Looked up once and kept on the request: actix's look-up tries every route's regex in
/// turn, and the auth rule, the query check and the metrics label each need the pattern.
pub fn route_pattern(req: &actix_web::HttpRequest) -> Option<String> {
    if let Some(MatchedRoute(found)) = req.extensions().get::<MatchedRoute>() {
        return found.clone();
    }
    let found = req.resource_map().match_pattern(req.match_info().as_str());
    req.extensions_mut().insert(MatchedRoute(found.clone()));
    found
}

/// [`route_pattern`]'s answer, kept in the request's extensions.
#[derive(Clone)]
struct MatchedRoute(Option<String>);

/// The id of the current request: the client's `X-Request-Id` when it is sane (1–128 of
/// `A-Za-z0-9._-`), else a fresh UUID v7. Echoed on every response and logged.
#[derive(Clone, Debug)]
pub struct RequestId(pub Arc<str>);

impl RequestId {
    fn for_request(req: &ServiceRequest) -> RequestId {
        let given = req
            .headers()
            .get(&X_REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .filter(|v| {
                (1..=128).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
            });
        RequestId(match given {
            Some(id) => id.into(),
            None => uuid::Uuid::now_v7().to_string().into(),
        })
    }
}

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Outermost middleware: assigns the request id, runs the request inside a tracing span,
/// records metrics by route pattern and status, and logs one line per request.
pub async fn observe(
    metrics: Arc<Metrics>,
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let started = Instant::now();
    let request_id = RequestId::for_request(&req);
    req.extensions_mut().insert(request_id.clone());
    let span = tracing::info_span!("request", method = %req.method(), path = %req.path(), request_id = %request_id);
    // Inner services answer errors as responses; an `Err` here can only come from actix
    // itself, which renders it with the error's own (problem+json for ApiError) response.
    let mut res = next.call(req).instrument(span.clone()).await?.map_into_boxed_body();
    if let Ok(value) = HeaderValue::from_str(&request_id.0) {
        res.headers_mut().insert(X_REQUEST_ID, value);
    }

    let elapsed = started.elapsed();
    let route = route_pattern(res.request());
    let route = route.as_deref().unwrap_or("unmatched");
    let status = res.status();
    metrics.observe(
        res.request().method().as_str(),
        route,
        status.as_str(),
        elapsed.as_secs_f64(),
    );
    span.in_scope(|| {
        tracing::info!(
            status = status.as_u16(),
            route,
            latency_ms = elapsed.as_secs_f64() * 1000.0,
            "request finished"
        )
    });
    Ok(res)
}

/// Inner middleware: every 4xx/5xx leaves as `application/problem+json` with `instance` and
/// `request_id`, whether it came from an [`ApiError`], from actix itself (bad path
/// parameter, payload errors) or from another middleware; under `/p/` the same problem leaves
/// as a Chinese HTML page instead (a page that shows its own error, a form with what to
/// correct, passes as it is). Also marks API responses `Cache-Control: no-store` unless the
/// handler chose otherwise.
pub async fn finish_problems(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let mut res = next.call(req).await?.map_into_boxed_body();
    if res.request().path().starts_with("/api/") && !res.headers().contains_key(header::CACHE_CONTROL) {
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return Ok(res);
    }

    let page = crate::pages::is_page(res.request().path());
    let is_html = |res: &ServiceResponse<BoxBody>| {
        res.headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|t| t.as_bytes().starts_with(b"text/html"))
    };
    if page && is_html(&res) {
        return Ok(res); // a page that shows its own error (a form with what to correct)
    }
    let lang = if page {
        Lang::Zh
    } else {
        Lang::from_accept_language(
            res.request()
                .headers()
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok()),
        )
    };
    let mut problem = problem_for(&res, lang);
    problem.instance = Some(res.request().path().to_owned());
    problem.request_id = res.request().extensions().get::<RequestId>().map(|id| id.0.to_string());
    if page {
        // Under /p/ a villager's browser reads the answer: the same problem, as a page.
        let body = crate::pages::layout::error_page(&problem);
        let res = res.map_body(|head, _| {
            head.headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            head.headers
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            crate::pages::layout::add_security_headers(&mut head.headers);
            head.headers.remove(header::CONTENT_ENCODING);
            head.headers.remove(header::CONTENT_LENGTH);
            BoxBody::new(body)
        });
        return Ok(res);
    }
    let body = serde_json::to_vec(&problem).unwrap_or_default();
    Ok(res.map_body(|head, _| {
        head.headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        head.headers.remove(header::CONTENT_ENCODING);
        head.headers
            .insert(header::CONTENT_LANGUAGE, HeaderValue::from_static(lang.tag()));
        // The body depends on Accept-Language: caches must key on it.
        head.headers
            .append(header::VARY, HeaderValue::from_static("Accept-Language"));
        head.headers.remove(header::CONTENT_LENGTH);
        BoxBody::new(body)
    }))
}

/// Middleware inside authentication: refuses query parameters the route does not document,
/// and NUL or over-long values in them (400). Running after authentication, it tells an
/// anonymous caller nothing about a protected route's parameters: they get 401 first.
pub async fn refuse_unknown_query(
    routes: Arc<RouteTable>,
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let mut req = req;
    if crate::pages::is_page(req.path()) {
        drop_unknown_query_parameters(&routes, &mut req);
    }
    match unknown_query_parameter(&routes, &req) {
        Some(err) => Ok(req.error_response(err)),
        None => Ok(next.call(req).await?.map_into_boxed_body()),
    }
}

/// Web pages ignore query parameters they do not take: a link shared from a chat app or a QR
/// tool gains some (`from=singlemessage`, `utm_source=…`), and a villager must still see the
/// board. The request goes on without them, so the page's own checks see only its own.
fn drop_unknown_query_parameters(routes: &RouteTable, req: &mut ServiceRequest) {
    let query = req.query_string();
    if query.is_empty() {
        return;
    }
    let Some(pattern) = route_pattern(req.request()) else {
        return;
    };
    let Some(known) = routes.query_params(req.method().as_str(), &pattern) else {
        return;
    };
    let pairs = form_urlencoded::parse(query.as_bytes());
    if pairs.clone().all(|(key, _)| known.iter().any(|k| *k == key)) {
        return;
    }
    let kept = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs.filter(|(key, _)| known.iter().any(|k| *k == *key)))
        .finish();
    let target = if kept.is_empty() {
        req.path().to_owned()
    } else {
        format!("{}?{kept}", req.path())
    };
    if let Ok(uri) = target.parse::<actix_web::http::Uri>() {
        req.match_info_mut().get_mut().update(&uri);
        req.head_mut().uri = uri;
    }
}

/// The check itself, only when there is a query string, so plain requests pay nothing.
fn unknown_query_parameter(routes: &RouteTable, req: &ServiceRequest) -> Option<ApiError> {
    let query = req.query_string();
    if query.is_empty() {
        return None;
    }
    let pattern = route_pattern(req.request())?;
    let known = routes.query_params(req.method().as_str(), &pattern)?;
    check_query(query, known).err()
}

/// The problem for an error response: from the [`ApiError`] that produced it, from a known
/// actix error, or generic for its status.
fn problem_for(res: &ServiceResponse, lang: Lang) -> Problem {
    let status = res.status();
    if let Some(err) = res.response().error() {
        if let Some(api) = err.as_error::<ApiError>() {
            return api.problem(lang);
        }
        if let Some(api) = from_actix_error(err) {
            return api.problem(lang);
        }
        if status.is_server_error() {
            tracing::error!(error = %err, "unhandled error");
        }
    }
    let code = ErrorCode::for_status(status);
    let mut problem = ApiError::Internal(String::new()).problem(lang);
    problem.type_uri = code.type_uri();
    problem.title = code.title_in(lang).into();
    problem.code = code.as_str().into();
    problem.status = status.as_u16();
    problem.detail = match code {
        ErrorCode::NotFound => ApiError::NotFound.problem(lang).detail,
        ErrorCode::Internal => problem.detail,
        _ => code.title_in(lang).into(),
    };
    problem
}

/// Maps the errors actix's own extractors produce, for handlers that use them.
fn from_actix_error(err: &Error) -> Option<ApiError> {
    use actix_web::error::{JsonPayloadError, PathError, PayloadError, QueryPayloadError};
    if let Some(e) = err.as_error::<PathError>() {
        return Some(ApiError::bad_request(
            ErrorCode::InvalidPath,
            text!("{e}", "路径参数无效：{e}"),
        ));
    }
    if let Some(e) = err.as_error::<QueryPayloadError>() {
        return Some(ApiError::bad_request(
            ErrorCode::InvalidQuery,
            text!("{e}", "查询参数无效：{e}"),
        ));
    }
    if let Some(e) = err.as_error::<JsonPayloadError>() {
        return Some(match e {
            JsonPayloadError::OverflowKnownLength { limit, .. } | JsonPayloadError::Overflow { limit } => {
                ApiError::PayloadTooLarge { limit_bytes: *limit }
            }
            JsonPayloadError::ContentType => ApiError::UnsupportedMediaType {
                expected: "application/json",
            },
            other => ApiError::bad_request(
                ErrorCode::MalformedJson,
                text!("{other}", "请求内容不是有效的 JSON：{other}"),
            ),
        });
    }
    if let Some(PayloadError::Overflow) = err.as_error::<PayloadError>() {
        return Some(ApiError::PayloadTooLarge {
            limit_bytes: crate::http::extract::JSON_LIMIT_BYTES,
        });
    }
    None
}

/// The app's default service: 405 with `Allow` when the path exists with other methods,
/// otherwise 404. (actix alone would answer 404 for a wrong method.)
pub async fn not_found_or_method_not_allowed(
    req: actix_web::HttpRequest,
    state: actix_web::web::Data<crate::state::AppState>,
) -> Result<HttpResponse, ApiError> {
    match req.resource_map().match_pattern(req.path()) {
        Some(pattern) => Err(ApiError::MethodNotAllowed {
            allow: state.routes.allowed_methods(&pattern),
        }),
        None => Err(ApiError::NotFound),
    }
}
