//! Field checks shared by every feature's request types.

use crate::error::{ApiError, FieldError};

/// A display name or short text: trimmed, 1–`max` characters, no control characters.
/// Returns the trimmed text.
pub fn short_text(value: &str, pointer: &str, max: usize) -> Result<String, ApiError> {
    let value = value.trim();
    let count = value.chars().count();
    if count == 0 || count > max {
        return Err(ApiError::Validation(vec![FieldError::body(
            pointer,
            "length",
            format!("must be 1 to {max} characters"),
        )]));
    }
    if value.chars().any(char::is_control) {
        return Err(ApiError::Validation(vec![FieldError::body(
            pointer,
            "control_character",
            "must not contain control characters",
        )]));
    }
    Ok(value.to_owned())
}
