//! The one error type of the API, [`ApiError`], and its RFC 9457 problem+json body.
//!
//! Handlers return `Result<_, ApiError>`. The `problems` middleware (in `http::middleware`)
//! turns every error response, including those actix produces by itself, into a
//! [`Problem`] carrying the request's path and id.

use std::borrow::Cow;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use sea_orm::{DbErr, RuntimeErr};
use serde::Serialize;
use utoipa::ToSchema;

/// Seconds a client should wait before retrying while the database is unavailable.
pub const DATABASE_RETRY_AFTER_SECS: u64 = 5;

macro_rules! error_codes {
    ($($variant:ident => ($code:literal, $status:literal, $title:literal, $label:literal)),* $(,)?) => {
        /// Stable, snake_case error codes clients can switch on (the `code` of a problem).
        /// Never renamed once released; new ones may be added.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum ErrorCode { $($variant),* }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),*];
            pub fn as_str(self) -> &'static str { match self { $(ErrorCode::$variant => $code),* } }
            pub fn status(self) -> StatusCode {
                match self { $(ErrorCode::$variant => StatusCode::from_u16($status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)),* }
            }
            /// English title of the problem (the `title` field).
            pub fn title(self) -> &'static str { match self { $(ErrorCode::$variant => $title),* } }
            /// Chinese label, served by the dictionaries endpoint.
            pub fn label(self) -> &'static str { match self { $(ErrorCode::$variant => $label),* } }
        }
    };
}

error_codes! {
    MalformedJson => ("malformed_json", 400, "Request body is not valid JSON", "请求内容不是有效的 JSON"),
    MalformedForm => ("malformed_form", 400, "Request body is not a valid multipart/form-data form", "表单格式无效"),
    InvalidQuery => ("invalid_query", 400, "Query string is not valid", "查询参数无效"),
    InvalidPath => ("invalid_path", 400, "Path parameter is not valid", "路径参数无效"),
    InvalidHeader => ("invalid_header", 400, "Request header is not valid", "请求头无效"),
    InvalidCursor => ("invalid_cursor", 400, "Pagination cursor is not valid", "分页游标无效"),
    Unauthorized => ("unauthorized", 401, "Authentication required", "需要登录"),
    InvalidCredentials => ("invalid_credentials", 401, "Wrong username or password", "用户名或密码错误"),
    Forbidden => ("forbidden", 403, "Not allowed for this role", "无权执行此操作"),
    NotFound => ("not_found", 404, "Resource not found", "资源不存在"),
    MethodNotAllowed => ("method_not_allowed", 405, "Method not allowed on this resource", "不支持该请求方法"),
    NotAcceptable => ("not_acceptable", 406, "Requested representation is not available", "不支持请求的格式"),
    Conflict => ("conflict", 409, "Request conflicts with the current state", "与当前状态冲突"),
    InvalidTransition => ("invalid_transition", 409, "Not allowed from the current state", "当前状态不允许此操作"),
    CannotRegisterHere => ("cannot_register_here", 409, "This person cannot be registered here", "无法在此登记，请联系镇党委"),
    IdempotencyKeyInUse => ("idempotency_key_in_use", 409, "A request with this Idempotency-Key is still running", "相同幂等键的请求正在处理"),
    PreconditionFailed => ("precondition_failed", 412, "Resource has changed (stale If-Match)", "资源已被修改，请刷新后重试"),
    PayloadTooLarge => ("payload_too_large", 413, "Request body is too large", "请求内容过大"),
    UnsupportedMediaType => ("unsupported_media_type", 415, "Unsupported content type", "不支持的内容类型"),
    ValidationFailed => ("validation_failed", 422, "Request body is not valid", "提交的数据未通过校验"),
    IdempotencyKeyReused => ("idempotency_key_reused", 422, "Idempotency-Key was used with a different request", "幂等键已用于不同的请求"),
    PreconditionRequired => ("precondition_required", 428, "If-Match header is required", "缺少 If-Match 请求头"),
    RateLimited => ("rate_limited", 429, "Too many requests", "请求过于频繁"),
    Internal => ("internal_error", 500, "Internal server error", "服务器内部错误"),
    DatabaseUnavailable => ("database_unavailable", 503, "Database unavailable", "数据库暂时不可用"),
}

impl ErrorCode {
    /// The problem `type` URI, relative to the API's origin.
    pub fn type_uri(self) -> String {
        format!("/problems/{}", self.as_str().replace('_', "-"))
    }

    /// The code for a status produced outside our handlers (actix, middleware).
    pub fn for_status(status: StatusCode) -> ErrorCode {
        ErrorCode::ALL
            .iter()
            .copied()
            .find(|c| c.status() == status)
            .unwrap_or(if status.is_client_error() {
                ErrorCode::InvalidHeader
            } else {
                ErrorCode::Internal
            })
    }
}

/// One invalid field of a request: `pointer` (JSON Pointer into the body) or `parameter`
/// (query parameter name), a stable `code`, and a human `message`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct FieldError {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "/phone")]
    pub pointer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
    #[schema(example = "format")]
    pub code: Cow<'static, str>,
    #[schema(example = "must be 11 digits")]
    pub message: String,
    /// For uploaded files (CSV): the 1-based line, the header being line 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// For uploaded files (CSV): the column, as named in the header.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
}

impl FieldError {
    /// An error about a field of the JSON body, addressed by JSON Pointer (`/a/0/b`).
    pub fn body(pointer: impl Into<String>, code: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        FieldError {
            pointer: Some(pointer.into()),
            parameter: None,
            code: code.into(),
            message: message.into(),
            line: None,
            column: None,
        }
    }

    /// An error about a query parameter.
    pub fn query(parameter: impl Into<String>, code: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        FieldError {
            pointer: None,
            parameter: Some(parameter.into()),
            code: code.into(),
            message: message.into(),
            line: None,
            column: None,
        }
    }
}

/// RFC 9457 problem details: the body of every 4xx and 5xx response.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: String,
    pub status: u16,
    /// Stable snake_case code; the list is in `GET /api/v1/dictionaries` (`error_code`).
    pub code: String,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// With `invalid_transition`: the transitions allowed from the current state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed: Option<Vec<String>>,
}

/// Everything that can go wrong in a request, each mapped to one status and code.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{detail}")]
    BadRequest { code: ErrorCode, detail: String },
    #[error("authentication required")]
    Unauthorized { detail: String },
    /// Wrong username, wrong password, disabled or locked account: one answer for all.
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("forbidden")]
    Forbidden { detail: String },
    #[error("not found")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed { allow: Vec<String> },
    #[error("not acceptable")]
    NotAcceptable { detail: String },
    #[error("{detail}")]
    Conflict { code: ErrorCode, detail: String },
    /// A lifecycle step not allowed from the current state.
    #[error("invalid transition from {from}")]
    InvalidTransition {
        from: &'static str,
        allowed: Vec<&'static str>,
    },
    #[error("precondition failed")]
    PreconditionFailed { current_version: i64 },
    #[error("payload too large")]
    PayloadTooLarge { limit_bytes: usize },
    /// An upload with more rows than an import takes.
    #[error("too many rows")]
    TooManyRows { max: usize },
    #[error("unsupported media type")]
    UnsupportedMediaType { expected: &'static str },
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// Query parameters whose values break a rule (NUL, too long), each listed.
    #[error("invalid query")]
    InvalidQuery(Vec<FieldError>),
    #[error("idempotency key reused with a different request")]
    IdempotencyKeyReused,
    #[error("precondition required")]
    PreconditionRequired,
    #[error("rate limited")]
    RateLimited { retry_after_secs: u64 },
    #[error("database unavailable: {0}")]
    DatabaseUnavailable(String),
    /// Logged in full with the request id; the client sees only a generic message.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn bad_request(code: ErrorCode, detail: impl Into<String>) -> Self {
        ApiError::BadRequest {
            code,
            detail: detail.into(),
        }
    }

    pub fn conflict(detail: impl Into<String>) -> Self {
        ApiError::Conflict {
            code: ErrorCode::Conflict,
            detail: detail.into(),
        }
    }

    /// A single-field validation error on the JSON body.
    pub fn invalid_field(pointer: &str, code: &'static str, message: impl Into<String>) -> Self {
        ApiError::Validation(vec![FieldError::body(pointer, code, message)])
    }

    pub fn internal(err: impl std::fmt::Display) -> Self {
        ApiError::Internal(err.to_string())
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            ApiError::BadRequest { code, .. } | ApiError::Conflict { code, .. } => *code,
            ApiError::Unauthorized { .. } => ErrorCode::Unauthorized,
            ApiError::InvalidCredentials => ErrorCode::InvalidCredentials,
            ApiError::Forbidden { .. } => ErrorCode::Forbidden,
            ApiError::NotFound => ErrorCode::NotFound,
            ApiError::InvalidTransition { .. } => ErrorCode::InvalidTransition,
            ApiError::MethodNotAllowed { .. } => ErrorCode::MethodNotAllowed,
            ApiError::NotAcceptable { .. } => ErrorCode::NotAcceptable,
            ApiError::PreconditionFailed { .. } => ErrorCode::PreconditionFailed,
            ApiError::PayloadTooLarge { .. } | ApiError::TooManyRows { .. } => ErrorCode::PayloadTooLarge,
            ApiError::UnsupportedMediaType { .. } => ErrorCode::UnsupportedMediaType,
            ApiError::Validation(_) => ErrorCode::ValidationFailed,
            ApiError::InvalidQuery(_) => ErrorCode::InvalidQuery,
            ApiError::IdempotencyKeyReused => ErrorCode::IdempotencyKeyReused,
            ApiError::PreconditionRequired => ErrorCode::PreconditionRequired,
            ApiError::RateLimited { .. } => ErrorCode::RateLimited,
            ApiError::DatabaseUnavailable(_) => ErrorCode::DatabaseUnavailable,
            ApiError::Internal(_) => ErrorCode::Internal,
        }
    }

    /// The problem body, without `instance` and `request_id` (the middleware adds them).
    pub fn problem(&self) -> Problem {
        let code = self.code();
        let (detail, errors) = match self {
            ApiError::BadRequest { detail, .. }
            | ApiError::Conflict { detail, .. }
            | ApiError::Unauthorized { detail }
            | ApiError::Forbidden { detail }
            | ApiError::NotAcceptable { detail } => (detail.clone(), vec![]),
            ApiError::InvalidTransition { from, allowed } => (
                format!(
                    "Not allowed while the pledge is `{from}`; allowed now: {}.",
                    if allowed.is_empty() {
                        "nothing".to_string()
                    } else {
                        allowed.join(", ")
                    }
                ),
                vec![],
            ),
            ApiError::InvalidCredentials => (
                "The username or password is wrong, or the account is locked or disabled.".into(),
                vec![],
            ),
            ApiError::NotFound => (
                "No resource at this address, or it is outside your scope.".into(),
                vec![],
            ),
            ApiError::MethodNotAllowed { allow } => (format!("Allowed methods: {}.", allow.join(", ")), vec![]),
            ApiError::PreconditionFailed { current_version } => (
                format!("If-Match does not match the current version \"{current_version}\"; fetch the resource again."),
                vec![],
            ),
            ApiError::TooManyRows { max } => (format!("The file may hold at most {max} rows; split it."), vec![]),
            ApiError::PayloadTooLarge { limit_bytes } => {
                (format!("The body may be at most {limit_bytes} bytes."), vec![])
            }
            ApiError::UnsupportedMediaType { expected } => (format!("Send the body as {expected}."), vec![]),
            ApiError::Validation(errors) => (
                match errors.len() {
                    1 => "1 field is not valid".to_string(),
                    n => format!("{n} fields are not valid"),
                },
                errors.clone(),
            ),
            ApiError::InvalidQuery(errors) => (
                match errors.len() {
                    1 => "1 query parameter is not valid".to_string(),
                    n => format!("{n} query parameters are not valid"),
                },
                errors.clone(),
            ),
            ApiError::IdempotencyKeyReused => (
                "This Idempotency-Key was already used with a different request; use a new key.".into(),
                vec![],
            ),
            ApiError::PreconditionRequired => (
                "Send If-Match with the ETag from your last read of this resource.".into(),
                vec![],
            ),
            ApiError::RateLimited { retry_after_secs } => (format!("Try again in {retry_after_secs} seconds."), vec![]),
            ApiError::DatabaseUnavailable(_) => (
                format!("The database cannot be reached; try again in {DATABASE_RETRY_AFTER_SECS} seconds."),
                vec![],
            ),
            ApiError::Internal(_) => (
                "Something went wrong on our side; quote the request_id when reporting it.".into(),
                vec![],
            ),
        };
        let allowed = match self {
            ApiError::InvalidTransition { allowed, .. } => Some(allowed.iter().map(|a| a.to_string()).collect()),
            _ => None,
        };
        Problem {
            allowed,
            type_uri: code.type_uri(),
            title: code.title().into(),
            status: code.status().as_u16(),
            code: code.as_str().into(),
            detail,
            instance: None,
            request_id: None,
            errors,
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.code().status()
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            ApiError::Internal(msg) => tracing::error!(error = %msg, "internal error"),
            ApiError::DatabaseUnavailable(msg) => tracing::warn!(error = %msg, "database unavailable"),
            _ => {}
        }
        let mut res = HttpResponse::build(self.status_code());
        match self {
            ApiError::MethodNotAllowed { allow } => {
                res.insert_header((header::ALLOW, allow.join(", ")));
            }
            ApiError::Unauthorized { .. } | ApiError::InvalidCredentials => {
                res.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            ApiError::RateLimited { retry_after_secs } => {
                res.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            ApiError::DatabaseUnavailable(_) => {
                res.insert_header((header::RETRY_AFTER, DATABASE_RETRY_AFTER_SECS.to_string()));
            }
            _ => {}
        }
        res.content_type("application/problem+json").json(self.problem())
    }
}

impl From<DbErr> for ApiError {
    fn from(err: DbErr) -> Self {
        if is_unavailable(&err) {
            return ApiError::DatabaseUnavailable(err.to_string());
        }
        if let Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) = err.sql_err() {
            return ApiError::conflict("A record with the same unique value already exists.");
        }
        ApiError::Internal(err.to_string())
    }
}

/// True when the error means "the database cannot be reached right now" (connection
/// refused or dropped, pool timed out, server shutting down) rather than a bad query.
pub fn is_unavailable(err: &DbErr) -> bool {
    use sea_orm::sqlx::Error as SqlxError;
    let runtime = match err {
        DbErr::ConnectionAcquire(_) => return true,
        DbErr::Conn(r) | DbErr::Exec(r) | DbErr::Query(r) => r,
        _ => return false,
    };
    match runtime {
        RuntimeErr::SqlxError(e) => match e.as_ref() {
            SqlxError::Io(_)
            | SqlxError::Tls(_)
            | SqlxError::PoolTimedOut
            | SqlxError::PoolClosed
            | SqlxError::WorkerCrashed
            | SqlxError::Protocol(_) => true,
            // PostgreSQL classes 08 (connection exception) and 57P (operator intervention:
            // admin shutdown, crash shutdown, cannot connect now).
            SqlxError::Database(db) => db.code().is_some_and(|c| c.starts_with("08") || c.starts_with("57P")),
            _ => false,
        },
        // A connection error without a sqlx error (e.g. the pool could not connect).
        _ => matches!(err, DbErr::Conn(_)),
    }
}
