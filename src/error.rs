//! The one error type of the API, [`ApiError`], and its RFC 9457 problem+json body.
//!
//! Handlers return `Result<_, ApiError>`. The `problems` middleware (in `http::middleware`)
//! turns every error response, including those actix produces by itself, into a
//! [`Problem`] carrying the request's path and id, in the caller's language
//! (`Accept-Language`, see [`crate::i18n`]): every detail and field message is a [`Text`].

use std::borrow::Cow;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use sea_orm::{DbErr, RuntimeErr};
use serde::Serialize;
use utoipa::ToSchema;

pub use crate::i18n::{Lang, Text};
use crate::text;

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
            /// Chinese title: the `title` for Chinese callers, and the dictionaries' label.
            pub fn label(self) -> &'static str { match self { $(ErrorCode::$variant => $label),* } }
            /// The title in `lang`.
            pub fn title_in(self, lang: Lang) -> &'static str {
                match lang { Lang::En => self.title(), Lang::Zh => self.label() }
            }
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
/// (query parameter name), a stable `code`, and a human `message` in both languages.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    pub pointer: Option<String>,
    pub parameter: Option<String>,
    pub code: Cow<'static, str>,
    pub message: Text,
    /// For uploaded files: the 1-based line (a workbook's row number), the header being line 1.
    pub line: Option<u64>,
    /// For uploaded files: the column, as named in the header.
    pub column: Option<String>,
    /// For uploaded workbooks: the sheet read.
    pub sheet: Option<String>,
    /// For uploaded workbooks: the cell, A1-style (`F2`), as Excel shows it.
    pub cell: Option<String>,
}

impl FieldError {
    /// An error about a field of the JSON body, addressed by JSON Pointer (`/a/0/b`).
    pub fn body(pointer: impl Into<String>, code: impl Into<Cow<'static, str>>, message: Text) -> Self {
        FieldError {
            pointer: Some(pointer.into()),
            parameter: None,
            code: code.into(),
            message,
            line: None,
            column: None,
            sheet: None,
            cell: None,
        }
    }

    /// An error about a query parameter.
    pub fn query(parameter: impl Into<String>, code: impl Into<Cow<'static, str>>, message: Text) -> Self {
        FieldError {
            pointer: None,
            parameter: Some(parameter.into()),
            code: code.into(),
            message,
            line: None,
            column: None,
            sheet: None,
            cell: None,
        }
    }

    /// As it goes out, in `lang`.
    pub fn in_lang(&self, lang: Lang) -> ProblemField {
        ProblemField {
            pointer: self.pointer.clone(),
            parameter: self.parameter.clone(),
            code: self.code.to_string(),
            message: self.message.get(lang).to_owned(),
            line: self.line,
            column: self.column.clone(),
            sheet: self.sheet.clone(),
            cell: self.cell.clone(),
        }
    }
}

/// One invalid field, as a problem's `errors` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(as = FieldError)]
pub struct ProblemField {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "/phone")]
    pub pointer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
    /// Stable snake_case code of the broken rule.
    #[schema(example = "format")]
    pub code: String,
    /// In the caller's language (`Accept-Language: zh-CN` for Chinese).
    #[schema(example = "must be 11 digits")]
    pub message: String,
    /// For uploaded files (CSV or workbook): the 1-based line (a workbook's row number), the
    /// header being line 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// For uploaded files (CSV or workbook): the column, as named in the header.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// For uploaded workbooks (`.xlsx`): the name of the sheet read (the first worksheet).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "Sheet1")]
    pub sheet: Option<String>,
    /// For uploaded workbooks (`.xlsx`): the cell, A1-style, as Excel shows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "F2")]
    pub cell: Option<String>,
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
    pub errors: Vec<ProblemField>,
    /// With `invalid_transition`: the transitions allowed from the current state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed: Option<Vec<String>>,
}

/// Everything that can go wrong in a request, each mapped to one status and code. What the
/// caller reads is a [`Text`]; what is only logged (`Internal`, `DatabaseUnavailable`) is not.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{detail}")]
    BadRequest { code: ErrorCode, detail: Text },
    #[error("authentication required: {detail}")]
    Unauthorized { detail: Text },
    /// Wrong username, wrong password, disabled or locked account: one answer for all.
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("forbidden: {detail}")]
    Forbidden { detail: Text },
    #[error("not found")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed { allow: Vec<String> },
    #[error("not acceptable: {detail}")]
    NotAcceptable { detail: Text },
    #[error("{detail}")]
    Conflict { code: ErrorCode, detail: Text },
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
    pub fn bad_request(code: ErrorCode, detail: Text) -> Self {
        ApiError::BadRequest { code, detail }
    }

    pub fn conflict(detail: Text) -> Self {
        ApiError::Conflict {
            code: ErrorCode::Conflict,
            detail,
        }
    }

    /// A single-field validation error on the JSON body.
    pub fn invalid_field(pointer: &str, code: &'static str, message: Text) -> Self {
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

    /// The detail the caller reads, in both languages.
    pub fn detail(&self) -> Text {
        match self {
            ApiError::BadRequest { detail, .. }
            | ApiError::Conflict { detail, .. }
            | ApiError::Unauthorized { detail }
            | ApiError::Forbidden { detail }
            | ApiError::NotAcceptable { detail } => detail.clone(),
            ApiError::InvalidTransition { from, allowed } => {
                let allowed = allowed.join(", ");
                if allowed.is_empty() {
                    text!(
                        "Not allowed while the pledge is `{from}`; nothing is allowed now.",
                        "承诺处于 `{from}` 状态时不允许此操作，当前不允许任何操作。"
                    )
                } else {
                    text!(
                        "Not allowed while the pledge is `{from}`; allowed now: {allowed}.",
                        "承诺处于 `{from}` 状态时不允许此操作；当前允许：{allowed}。"
                    )
                }
            }
            ApiError::InvalidCredentials => text!(
                "The username or password is wrong, or the account is locked or disabled.",
                "用户名或密码错误，或账户已被锁定或停用。"
            ),
            ApiError::NotFound => text!(
                "No resource at this address, or it is outside your scope.",
                "该地址没有资源，或不在您的权限范围内。"
            ),
            ApiError::MethodNotAllowed { allow } => {
                let allow = allow.join(", ");
                text!("Allowed methods: {allow}.", "允许的请求方法：{allow}。")
            }
            ApiError::PreconditionFailed { current_version } => text!(
                "If-Match does not match the current version \"{current_version}\"; fetch the resource again.",
                "If-Match 与当前版本 \"{current_version}\" 不符，请重新获取该资源。"
            ),
            ApiError::TooManyRows { max } => {
                text!(
                    "The file may hold at most {max} rows; split it.",
                    "文件至多 {max} 行，请拆分后导入。"
                )
            }
            ApiError::PayloadTooLarge { limit_bytes } => text!(
                "The body may be at most {limit_bytes} bytes.",
                "请求内容至多 {limit_bytes} 字节。"
            ),
            ApiError::UnsupportedMediaType { expected } => {
                text!("Send the body as {expected}.", "请以 {expected} 格式发送请求内容。")
            }
            ApiError::Validation(errors) => match errors.len() {
                1 => text!("1 field is not valid", "1 个字段未通过校验"),
                n => text!("{n} fields are not valid", "{n} 个字段未通过校验"),
            },
            ApiError::InvalidQuery(errors) => match errors.len() {
                1 => text!("1 query parameter is not valid", "1 个查询参数无效"),
                n => text!("{n} query parameters are not valid", "{n} 个查询参数无效"),
            },
            ApiError::IdempotencyKeyReused => text!(
                "This Idempotency-Key was already used with a different request; use a new key.",
                "该幂等键已用于不同的请求，请换用新的幂等键。"
            ),
            ApiError::PreconditionRequired => text!(
                "Send If-Match with the ETag from your last read of this resource.",
                "请在 If-Match 中发送您上次读取该资源时得到的 ETag。"
            ),
            ApiError::RateLimited { retry_after_secs } => text!(
                "Try again in {retry_after_secs} seconds.",
                "请在 {retry_after_secs} 秒后重试。"
            ),
            ApiError::DatabaseUnavailable(_) => text!(
                "The database cannot be reached; try again in {DATABASE_RETRY_AFTER_SECS} seconds.",
                "暂时无法连接数据库，请在 {DATABASE_RETRY_AFTER_SECS} 秒后重试。"
            ),
            ApiError::Internal(_) => text!(
                "Something went wrong on our side; quote the request_id when reporting it.",
                "服务器内部出错，报告问题时请提供 request_id。"
            ),
        }
    }

    /// The problem body in `lang`, without `instance` and `request_id` (the middleware adds
    /// them).
    pub fn problem(&self, lang: Lang) -> Problem {
        let code = self.code();
        let errors = match self {
            ApiError::Validation(errors) | ApiError::InvalidQuery(errors) => {
                errors.iter().map(|e| e.in_lang(lang)).collect()
            }
            _ => vec![],
        };
        let allowed = match self {
            ApiError::InvalidTransition { allowed, .. } => Some(allowed.iter().map(|a| a.to_string()).collect()),
            _ => None,
        };
        Problem {
            allowed,
            type_uri: code.type_uri(),
            title: code.title_in(lang).into(),
            status: code.status().as_u16(),
            code: code.as_str().into(),
            detail: self.detail().get(lang).to_owned(),
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
        res.content_type("application/problem+json")
            .json(self.problem(Lang::En))
    }
}

impl From<DbErr> for ApiError {
    fn from(err: DbErr) -> Self {
        if is_unavailable(&err) {
            return ApiError::DatabaseUnavailable(err.to_string());
        }
        if let Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) = err.sql_err() {
            return ApiError::conflict(text!(
                "A record with the same unique value already exists.",
                "已有相同唯一值的记录。"
            ));
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
