//! Field checks shared by every feature's request types, and the named string formats
//! that state the same rules in the spec (so generated clients and forms check before they
//! send).
//!
//! A request field names its rule once, next to its documentation:
//! `#[schema(format = "short-text", max_length = 100)]` on a field the handler checks with
//! `short_text(.., 100)`. The spec build (`openapi::formats`) turns each format of
//! [`FORMATS`] into its pattern.

use crate::error::{ApiError, FieldError};
use crate::text;

/// [`short_text`]'s rule as an ECMA-262 pattern: no control characters (C0, DEL, C1) and at
/// least one character that is not white space.
pub const TEXT_PATTERN: &str =
    r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$";

/// No control characters; blank allowed (optional member fields, where blank means none).
pub const NO_CONTROL_PATTERN: &str = r"^[^\u0000-\u001F\u007F-\u009F]*$";

/// The string formats request fields use, each with its pattern and the least length it
/// implies. `short-text` is [`short_text`]; `text-or-blank` is an optional text where blank
/// means none; `mobile-or-empty` a mobile number or nothing; `id-number` the shape of a GB
/// 11643 number (the check character is the service's); `category-code` a pledge category
/// code ([`is_category_code`]); `search-text` a query parameter (no NUL).
pub const FORMATS: &[(&str, &str, Option<usize>)] = &[
    ("short-text", TEXT_PATTERN, Some(1)),
    ("text-or-blank", NO_CONTROL_PATTERN, None),
    ("mobile-or-empty", r"^(1[0-9]{10})?$", None),
    ("id-number", r"^[0-9]{17}[0-9Xx]$", None),
    ("category-code", r"^[a-z0-9_]{1,32}$", None),
    ("search-text", r"^[^\u0000]*$", None),
];

/// True for a well-formed pledge category code: 1–32 of `a-z 0-9 _` (`category-code`).
pub fn is_category_code(code: &str) -> bool {
    (1..=32).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// A display name or short text: 1–`max` characters, not blank, no control characters.
/// Returns the text trimmed. The length is counted as sent, so the rule is the schema's.
pub fn short_text(value: &str, pointer: &str, max: usize) -> Result<String, ApiError> {
    let sent = value.chars().count();
    let value = value.trim();
    let count = value.chars().count();
    if count == 0 || sent > max {
        return Err(ApiError::Validation(vec![FieldError::body(
            pointer,
            "length",
            text!("must be 1 to {max} characters", "长度须为 1 到 {max} 个字符"),
        )]));
    }
    if value.chars().any(char::is_control) {
        return Err(ApiError::Validation(vec![FieldError::body(
            pointer,
            "control_character",
            text!("must not contain control characters", "不能包含控制字符"),
        )]));
    }
    Ok(value.to_owned())
}

/// The longest query parameter value the API takes (searches, filters).
pub const MAX_QUERY_VALUE: usize = 200;

/// A required text field checked as [`short_text`], its problem added to `errors` (so every
/// field of a body is reported at once).
pub fn collect_text(value: &str, pointer: &str, max: usize, errors: &mut Vec<FieldError>) -> String {
    match short_text(value, pointer, max) {
        Ok(v) => v,
        Err(ApiError::Validation(mut e)) => {
            errors.append(&mut e);
            String::new()
        }
        Err(_) => String::new(),
    }
}

/// Evidence links (photos, documents): at most 10, each an http(s) URL of at most 500
/// characters without white space (NUL is refused before any handler). Problems are added to `errors` at `pointer/<i>`.
pub fn check_evidence(links: &[String], pointer: &str, errors: &mut Vec<FieldError>) {
    if links.len() > 10 {
        errors.push(FieldError::body(
            pointer,
            "too_many",
            text!("at most 10 links", "至多 10 个链接"),
        ));
    }
    for (i, link) in links.iter().enumerate() {
        if !(link.starts_with("https://") || link.starts_with("http://"))
            || link.chars().count() > 500
            || link.chars().any(char::is_whitespace)
        {
            errors.push(FieldError::body(
                format!("{pointer}/{i}"),
                "format",
                text!(
                    "must be an http(s) URL of at most 500 characters",
                    "须为至多 500 个字符的 http(s) 链接"
                ),
            ));
        }
    }
}

/// The schema of evidence links, as [`check_evidence`] checks them (a schema made by a
/// function carries no doc comment, so its description is here).
pub fn evidence_links() -> utoipa::openapi::schema::Array {
    utoipa::openapi::schema::ArrayBuilder::new()
        .description(Some(
            "Links to photos or documents (at most 10, each an http(s) URL of at most 500 characters).",
        ))
        .items(
            utoipa::openapi::schema::ObjectBuilder::new()
                .schema_type(utoipa::openapi::Type::String)
                .max_length(Some(500))
                .pattern(Some(r"^https?://[^\s\u0000]*$")),
        )
        .max_items(Some(10))
        .build()
}

/// A message from the public (feedback on a pledge, an objection to a rating): the message
/// (1–`max` characters), an optional name (blank is none) and an optional mobile phone for
/// an answer (empty is none). Returns them checked, trimmed.
pub fn public_message(
    message: &str,
    max: usize,
    name: Option<&str>,
    phone: Option<&str>,
) -> Result<(String, Option<String>, Option<String>), ApiError> {
    let message = short_text(message, "/message", max)?;
    let name = name
        .filter(|n| !n.trim().is_empty())
        .map(|n| short_text(n, "/name", 50))
        .transpose()?;
    let phone = phone.filter(|p| !p.is_empty()).map(str::to_owned);
    if let Some(p) = &phone
        && !crate::members::checks::valid_mobile(p)
    {
        return Err(ApiError::invalid_field(
            "/phone",
            "format",
            text!("must be 11 digits starting with 1", "须为以 1 开头的 11 位数字"),
        ));
    }
    Ok((message, name, phone))
}
