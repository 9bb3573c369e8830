//! File uploads: the same file either as the raw body (`Content-Type: text/csv`, or the
//! `.xlsx` workbook type) or as the `file` part of a `multipart/form-data` form, which is what
//! Swagger UI, browsers' forms and generated clients send. All obey the same size limit.

use actix_multipart::Multipart;
use actix_web::dev::Payload;
use actix_web::web::{Bytes, BytesMut};
use actix_web::{HttpMessage, HttpRequest};
use futures_util::StreamExt;
use utoipa::ToSchema;

use crate::error::{ApiError, ErrorCode};
use crate::http::extract::{RawBody, media_type, read_body};
use crate::http::xlsx;
use crate::text;

/// What a form adds around the file: boundaries and part headers.
const FORM_OVERHEAD_BYTES: usize = 16 * 1024;

/// The `multipart/form-data` form of an upload, for the spec: the `file` part and no other
/// (other well-formed parts are read past, but the spec promises nothing for them).
#[derive(ToSchema, serde::Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // only its schema is used
pub struct FileUpload {
    /// The file itself.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// The media types a spreadsheet may be sent as in the raw body. Which of them a file really
/// is, the import tells from its bytes (a workbook is a zip archive), not from this header.
pub const SPREADSHEET_TYPES: [&str; 2] = ["text/csv", xlsx::MEDIA_TYPE];

/// The 415 answer's list, built once from [`SPREADSHEET_TYPES`].
static EXPECTED: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "{}, or multipart/form-data with a `file` part",
        SPREADSHEET_TYPES.join(", ")
    )
});

/// Reads an uploaded spreadsheet (CSV or `.xlsx`) of at most `limit` bytes, sent raw or as the
/// `file` part of a form. The file's bytes are what idempotency fingerprints (a form's
/// boundary changes on every retry).
pub async fn read_file(req: &HttpRequest, payload: Payload, limit: usize) -> Result<Bytes, ApiError> {
    let content_type = media_type(req);
    let file = if SPREADSHEET_TYPES.contains(&content_type.as_str()) {
        read_body(req, payload, limit).await?
    } else if content_type == "multipart/form-data" {
        let body = read_body(req, payload, limit + FORM_OVERHEAD_BYTES).await?;
        file_part(req, body, limit).await?
    } else {
        return Err(ApiError::UnsupportedMediaType {
            expected: EXPECTED.as_str(),
        });
    };
    req.extensions_mut().insert(RawBody(file.clone()));
    Ok(file)
}

/// The `file` part of a form already read into memory.
async fn file_part(req: &HttpRequest, body: Bytes, limit: usize) -> Result<Bytes, ApiError> {
    let malformed = |e: actix_multipart::MultipartError| {
        ApiError::bad_request(
            ErrorCode::MalformedForm,
            text!(
                "The form is not valid multipart/form-data: {e}.",
                "表单不是有效的 multipart/form-data：{e}。"
            ),
        )
    };
    let stream = futures_util::stream::once(async move { Ok::<_, actix_web::error::PayloadError>(body) });
    let mut form = Multipart::new(req.headers(), stream);
    while let Some(part) = form.next().await {
        let mut part = part.map_err(malformed)?;
        if part.name() != Some("file") {
            // Other parts are read past and ignored.
            while let Some(chunk) = part.next().await {
                chunk.map_err(malformed)?;
            }
            continue;
        }
        let mut file = BytesMut::new();
        while let Some(chunk) = part.next().await {
            let chunk = chunk.map_err(malformed)?;
            if file.len() + chunk.len() > limit {
                return Err(ApiError::PayloadTooLarge { limit_bytes: limit });
            }
            file.extend_from_slice(&chunk);
        }
        return Ok(file.freeze());
    }
    Err(ApiError::invalid_field(
        "/file",
        "required",
        text!(
            "send the file as the form's `file` part",
            "请将文件放在表单的 `file` 部分中发送"
        ),
    ))
}
