//! Optimistic concurrency with `ETag` / `If-Match` / `If-None-Match`.
//!
//! Every mutable resource has an integer `version`; its ETag is `"<version>"`.
//! A feature opts in with one line on each side:
//! - updates and deletes take an [`IfMatch`] argument and call `if_match.check(row.version)?`
//!   (missing header: 428, stale: 412), then `Write::update_versioned`, which updates
//!   `WHERE version = <that version>` (412 when someone else was faster);
//! - reads return [`Versioned`], which sets `ETag` and answers 304 to a matching
//!   `If-None-Match`.

use actix_web::body::BoxBody;
use actix_web::dev::Payload;
use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpRequest, HttpResponse, Responder};
use serde::Serialize;

use crate::error::{ApiError, ErrorCode};
use crate::text;

/// The ETag of a resource at `version`.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// Parses one entity tag (`"7"` or `W/"7"`) into a version; `None` for tags that are not ours.
fn parse_tag(tag: &str) -> Option<i64> {
    let tag = tag.trim();
    let tag = tag.strip_prefix("W/").unwrap_or(tag);
    tag.strip_prefix('"')?.strip_suffix('"')?.parse().ok()
}

/// Optional white space around header list items (RFC 9110 section 5.6.3).
const OWS: &[char] = &[' ', '\t'];

/// `If-Match`'s syntax (RFC 9110 section 8.8.3) as an ECMA-262 pattern, for the spec.
pub const IF_MATCH_PATTERN: &str =
    r#"^[ \t]*(\*|(W/)?"[\x21\x23-\x2B\x2D-\x7E]*"([ \t]*,[ \t]*(W/)?"[\x21\x23-\x2B\x2D-\x7E]*")*)[ \t]*$"#;

/// `"…"` or `W/"…"` around visible ASCII other than `"` and `,` (which separates tags).
fn is_entity_tag(tag: &str) -> bool {
    let opaque = tag.strip_prefix("W/").unwrap_or(tag);
    opaque.len() >= 2
        && opaque.starts_with('"')
        && opaque.ends_with('"')
        && opaque[1..opaque.len() - 1]
            .bytes()
            .all(|b| b == 0x21 || ((0x23..=0x7E).contains(&b) && b != b','))
}

/// The `If-Match` precondition of a write. Required: without it the request is 428.
#[derive(Debug, Clone)]
pub struct IfMatch {
    /// Versions the client says it last saw; `None` means `*` (any current version).
    versions: Option<Vec<i64>>,
}

impl IfMatch {
    /// Succeeds when the client's tag names `current_version`; otherwise 412.
    pub fn check(&self, current_version: i64) -> Result<(), ApiError> {
        match &self.versions {
            None => Ok(()),
            Some(v) if v.contains(&current_version) => Ok(()),
            Some(_) => Err(ApiError::PreconditionFailed { current_version }),
        }
    }
}

impl FromRequest for IfMatch {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(parse_if_match(req))
    }
}

fn parse_if_match(req: &HttpRequest) -> Result<IfMatch, ApiError> {
    let Some(value) = req.headers().get(header::IF_MATCH) else {
        return Err(ApiError::PreconditionRequired);
    };
    let value = value
        .to_str()
        .map_err(|_| {
            ApiError::bad_request(
                ErrorCode::InvalidHeader,
                text!("If-Match must be ASCII", "If-Match 只能包含 ASCII 字符"),
            )
        })?
        .trim_matches(OWS);
    if value == "*" {
        return Ok(IfMatch { versions: None });
    }
    let mut versions = Vec::new();
    for tag in value.split(',') {
        let tag = tag.trim_matches(OWS);
        if !is_entity_tag(tag) {
            return Err(ApiError::bad_request(
                ErrorCode::InvalidHeader,
                text!(
                    "If-Match must hold entity tags as sent in ETag, e.g. If-Match: \"3\"",
                    "If-Match 须为 ETag 中给出的实体标签，例如 If-Match: \"3\""
                ),
            ));
        }
        // A well-formed tag that is not one of ours simply matches nothing (412).
        versions.extend(parse_tag(tag));
    }
    Ok(IfMatch {
        versions: Some(versions),
    })
}

/// After `UPDATE … WHERE version = <current_version>`: one row changed means the write
/// applied; none means someone else changed the resource first (412).
pub fn applied(rows_affected: u64, current_version: i64) -> Result<(), ApiError> {
    if rows_affected == 1 {
        Ok(())
    } else {
        Err(ApiError::PreconditionFailed {
            current_version: current_version + 1,
        })
    }
}

/// A JSON response for a versioned resource: sets `ETag`, and answers `304 Not Modified`
/// when the request's `If-None-Match` already names this version.
pub struct Versioned<T> {
    pub version: i64,
    pub body: T,
    pub status: StatusCode,
}

impl<T> Versioned<T> {
    pub fn ok(version: i64, body: T) -> Self {
        Versioned {
            version,
            body,
            status: StatusCode::OK,
        }
    }
}

impl<T: Serialize> Responder for Versioned<T> {
    type Body = BoxBody;

    fn respond_to(self, req: &HttpRequest) -> HttpResponse {
        let tag = etag(self.version);
        let not_modified = req
            .headers()
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() == "*" || v.split(',').any(|t| parse_tag(t) == Some(self.version)));
        if not_modified && self.status == StatusCode::OK {
            return HttpResponse::NotModified().insert_header((header::ETAG, tag)).finish();
        }
        HttpResponse::build(self.status)
            .insert_header((header::ETAG, tag))
            .json(self.body)
    }
}

/// A public JSON body that may be cached for a minute (boards): its ETag is a hash of the
/// body, and a matching `If-None-Match` gets 304 without it.
pub fn public_json(req: &HttpRequest, body: Vec<u8>) -> HttpResponse {
    public_body(req, body, "application/json")
}

/// [`public_json`] for any media type: the boards' web pages and QR codes are cached alike.
pub fn public_body(req: &HttpRequest, body: Vec<u8>, content_type: &'static str) -> HttpResponse {
    use sha2::Digest;
    let tag = format!("\"{}\"", &hex::encode(sha2::Sha256::digest(&body))[..20]);
    let cache = (header::CACHE_CONTROL, "public, max-age=60");
    let matches = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        // Weak comparison (RFC 9110 section 13.1.2): a proxy that compresses the body marks
        // the tag weak (`W/"…"`), and the copy it holds is still current.
        .is_some_and(|v| v.split(',').any(|t| t.trim().trim_start_matches("W/") == tag));
    if matches {
        return HttpResponse::NotModified()
            .insert_header(cache)
            .insert_header((header::ETAG, tag))
            .finish();
    }
    HttpResponse::Ok()
        .insert_header(cache)
        .insert_header((header::ETAG, tag))
        .content_type(content_type)
        .body(body)
}
