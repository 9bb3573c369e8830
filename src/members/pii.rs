//! Protection of personal data (个人信息): national ID numbers and phone numbers are stored
//! encrypted (ChaCha20-Poly1305, bound to their record and field), with a keyed hash for
//! uniqueness checks and exact look-up, and masked in every response unless revealed.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::config::{Config, ConfigError};

type HmacSha256 = Hmac<Sha256>;

/// Keys derived from `DANGJIAN_DATA_KEY`: one to encrypt, one to hash.
pub struct DataKeys {
    cipher: ChaCha20Poly1305,
    hash_key: [u8; 32],
}

impl DataKeys {
    pub fn from_master(master: &[u8; 32]) -> DataKeys {
        let derive = |label: &[u8]| -> [u8; 32] {
            let mut mac = <HmacSha256 as Mac>::new_from_slice(master).expect("HMAC takes any key length");
            mac.update(label);
            mac.finalize().into_bytes().into()
        };
        let enc = derive(b"dangjian pii encryption v1");
        DataKeys {
            cipher: ChaCha20Poly1305::new(&Key::from(enc)),
            hash_key: derive(b"dangjian pii lookup hash v1"),
        }
    }

    /// `DANGJIAN_DATA_KEY` (64 hex characters), or on SQLite a key generated once into the
    /// data directory. PostgreSQL deployments must set it.
    pub fn resolve(config: &Config) -> Result<DataKeys, ConfigError> {
        let bad = |reason: String| ConfigError {
            variable: "DANGJIAN_DATA_KEY",
            reason,
        };
        let hex_key = match &config.data_key {
            Some(key) => key.clone(),
            None if config.is_sqlite() => {
                let file = config.data_dir.join("data-key");
                read_or_create_key(&file).map_err(|e| bad(format!("cannot use {}: {e}", file.display())))?
            }
            None => {
                return Err(bad(
                    "must be set when DATABASE_URL is PostgreSQL: 64 hex characters, e.g. DANGJIAN_DATA_KEY=$(openssl rand -hex 32)"
                        .into(),
                ));
            }
        };
        let master = parse_key(&hex_key).map_err(|reason| bad(reason.into()))?;
        Ok(DataKeys::from_master(&master))
    }

    /// Encrypts `plain`, binding it to `context` (record and field), as base64(nonce ‖ ciphertext).
    pub fn encrypt(&self, plain: &str, context: &str) -> String {
        let mut nonce = [0u8; 12];
        getrandom::fill(&mut nonce).expect("the operating system provides randomness");
        let sealed = self
            .cipher
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plain.as_bytes(),
                    aad: context.as_bytes(),
                },
            )
            .expect("encryption of a short text cannot fail");
        let mut out = nonce.to_vec();
        out.extend(sealed);
        STANDARD.encode(out)
    }

    /// Decrypts what [`encrypt`](Self::encrypt) produced for the same `context`.
    pub fn decrypt(&self, stored: &str, context: &str) -> Option<String> {
        let bytes = STANDARD.decode(stored).ok()?;
        if bytes.len() < 12 {
            return None;
        }
        let (nonce, sealed) = bytes.split_at(12);
        let nonce: [u8; 12] = nonce.try_into().ok()?;
        let plain = self
            .cipher
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: sealed,
                    aad: context.as_bytes(),
                },
            )
            .ok()?;
        String::from_utf8(plain).ok()
    }

    /// A keyed hash, equal for equal inputs, useless without the key.
    pub fn lookup_hash(&self, value: &str) -> String {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.hash_key).expect("HMAC takes any key length");
        mac.update(value.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

/// Checks a configured key: 64 hex characters (32 bytes).
pub fn parse_key(hex_key: &str) -> Result<[u8; 32], &'static str> {
    let bytes = hex::decode(hex_key.trim()).map_err(|_| "must be 64 hexadecimal characters (32 bytes)")?;
    bytes
        .try_into()
        .map_err(|_| "must be 64 hexadecimal characters (32 bytes)")
}

fn read_or_create_key(file: &Path) -> std::io::Result<String> {
    if let Ok(existing) = std::fs::read_to_string(file)
        && parse_key(&existing).is_ok()
    {
        return Ok(existing.trim().to_owned());
    }
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(|e| std::io::Error::other(e.to_string()))?;
    let hex_key = hex::encode(key);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    std::io::Write::write_all(&mut options.open(file)?, hex_key.as_bytes())?;
    tracing::info!(file = %file.display(), "generated a personal-data encryption key");
    Ok(hex_key)
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

    #[test]
    fn encryption_round_trips_only_in_its_context() {
        let keys = DataKeys::from_master(&[7u8; 32]);
        let sealed = keys.encrypt("13812345678", "member:1:phone");
        assert!(!sealed.contains("13812345678"));
        assert_eq!(keys.decrypt(&sealed, "member:1:phone").as_deref(), Some("13812345678"));
        assert_eq!(
            keys.decrypt(&sealed, "member:2:phone"),
            None,
            "moved to another record: refused"
        );
        assert_ne!(keys.encrypt("x", "c"), keys.encrypt("x", "c"), "random nonce");
        assert_eq!(keys.lookup_hash("a"), keys.lookup_hash("a"));
        assert_ne!(
            DataKeys::from_master(&[8u8; 32]).lookup_hash("a"),
            keys.lookup_hash("a")
        );
    }
}
