//! Password hashing (argon2id, OWASP parameters) and the password policy.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::error::{ApiError, FieldError};
use crate::text;

/// OWASP's recommended argon2id settings: 19 MiB memory, 2 iterations, 1 lane.
fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn hash(password: &str) -> Result<String, ApiError> {
    let salt = SaltString::generate(&mut OsRng);
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(ApiError::internal)
}

/// Checks `password` against a stored hash; a malformed hash never matches.
pub fn verify(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|parsed| hasher().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// Spends the same time as a real check, so unknown usernames cannot be told apart by timing.
pub fn verify_dummy(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash("dummy password for timing").unwrap_or_default());
    let _ = verify(password, dummy);
}

/// 8–128 characters with at least three of: lower case, upper case, digit, symbol.
pub fn check_policy(password: &str, pointer: &str) -> Result<(), ApiError> {
    let len = password.chars().count();
    let classes = [
        password.chars().any(|c| c.is_lowercase()),
        password.chars().any(|c| c.is_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_alphanumeric()),
    ]
    .iter()
    .filter(|x| **x)
    .count();
    if !(8..=128).contains(&len) {
        return Err(ApiError::Validation(vec![FieldError::body(
            pointer,
            "length",
            text!("must be 8 to 128 characters", "长度须为 8 到 128 个字符"),
        )]));
    }
    if classes < 3 {
        return Err(ApiError::Validation(vec![FieldError::body(
            pointer,
            "too_weak",
            text!(
                "must contain at least three of: lower case, upper case, digits, symbols",
                "须至少包含小写字母、大写字母、数字、符号中的三类"
            ),
        )]));
    }
    Ok(())
}

/// A random password that satisfies the policy, for the first administrator.
pub fn generate() -> String {
    let token = crate::crypto::random_token(18);
    format!("Dj-{token}7a")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_needs_length_and_three_classes() {
        assert!(check_policy("Abcdefg1", "/p").is_ok());
        assert!(check_policy("abcdefg1!", "/p").is_ok());
        assert!(check_policy("abcdefgh1", "/p").is_err());
        assert!(check_policy("Ab1!", "/p").is_err());
        assert!(check_policy(&"Ab1!".repeat(40), "/p").is_err());
        assert!(check_policy(&generate(), "/p").is_ok());
    }

    #[test]
    fn hashes_verify_only_their_password() {
        let h = hash("Correct-horse1").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify("Correct-horse1", &h));
        assert!(!verify("correct-horse1", &h));
        assert!(!verify("x", "not a hash"));
    }
}
