//! Protection of personal data (个人信息): national ID numbers and phone numbers are stored
//! encrypted with the keys of [`crate::crypto::DataKeys`] and masked in every response unless
//! revealed.

use crate::config::{Config, ConfigError};
pub use crate::crypto::DataKeys;

/// `DANGJIAN_DATA_KEY` (64 hex characters), or on SQLite a key generated once into the data
/// directory. PostgreSQL deployments must set it: every instance needs the same key.
pub fn data_keys(config: &Config) -> Result<DataKeys, ConfigError> {
    let bad = |reason: String| ConfigError {
        variable: "DANGJIAN_DATA_KEY",
        reason,
    };
    let hex_key = match &config.data_key {
        Some(key) => key.clone(),
        None if config.is_sqlite() => {
            let file = config.data_dir.join("data-key");
            crate::crypto::read_or_create_secret(
                &file,
                |k| crate::crypto::parse_data_key(k).is_ok(),
                crate::crypto::new_data_key,
            )
            .map_err(|e| bad(format!("cannot use {}: {e}", file.display())))?
        }
        None => {
            return Err(bad(
                "must be set when DATABASE_URL is PostgreSQL: 64 hex characters, e.g. DANGJIAN_DATA_KEY=$(openssl rand -hex 32)"
                    .into(),
            ));
        }
    };
    let master = crate::crypto::parse_data_key(&hex_key).map_err(|reason| bad(reason.into()))?;
    Ok(DataKeys::from_master(&master))
}

/// `340822************`: only the region code (known to every local) is kept. With the birth
/// year and gender that readers may see, some 180,000 numbers remain possible; showing the last
/// four digits as well, or the full birth date, would let anyone rebuild the number.
pub fn mask_id_number(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    if chars.len() < 10 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..6].iter().collect();
    format!("{head}{}", "*".repeat(chars.len() - 6))
}

/// `138****5678`.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    if chars.len() < 7 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 7))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_keep_only_what_the_conventions_show() {
        assert_eq!(mask_id_number("34082219900307123X"), "340822************");
        assert_eq!(mask_phone("13812345678"), "138****5678");
    }
}
