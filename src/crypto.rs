//! Keys and secrets, in one place below everything that uses them: configuration checks
//! them, the personal-data code encrypts with them, the auth code signs with them.
//!
//! - `DANGJIAN_DATA_KEY` → [`DataKeys`]: ChaCha20-Poly1305 encryption of personal data,
//!   bound to its record and field, and a keyed hash for uniqueness and exact look-up.
//! - `DANGJIAN_JWT_SECRET`: the access tokens' signing secret ([`check_jwt_secret`]).
//! - On SQLite either may be generated once into the data directory
//!   ([`read_or_create_secret`]), readable by the service's user alone.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The shortest signing secret accepted.
pub const MIN_SECRET_BYTES: usize = 32;

type HmacSha256 = Hmac<Sha256>;

/// Keys derived from `DANGJIAN_DATA_KEY`: one to encrypt, one to hash.
pub struct DataKeys {
    cipher: ChaCha20Poly1305,
    hash_key: [u8; 32],
    form_key: [u8; 32],
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
            form_key: derive(b"dangjian form token v1"),
        }
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

    /// The signature of a web form's token (see `pages::form_token`): hex, 128 bits.
    pub fn sign_form_token(&self, token: &str) -> String {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.form_key).expect("HMAC takes any key length");
        mac.update(token.as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..16])
    }

    /// Whether `signature` is [`sign_form_token`](Self::sign_form_token)'s of `token`, compared
    /// in constant time.
    pub fn verify_form_token(&self, token: &str, signature: &str) -> bool {
        let Ok(signature) = hex::decode(signature) else {
            return false;
        };
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.form_key).expect("HMAC takes any key length");
        mac.update(token.as_bytes());
        signature.len() == 16 && mac.verify_truncated_left(&signature).is_ok()
    }

    /// A keyed hash, equal for equal inputs, useless without the key.
    pub fn lookup_hash(&self, value: &str) -> String {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.hash_key).expect("HMAC takes any key length");
        mac.update(value.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

/// Checks a configured data key: 64 hex characters (32 bytes).
pub fn parse_data_key(hex_key: &str) -> Result<[u8; 32], &'static str> {
    let bytes = hex::decode(hex_key.trim()).map_err(|_| "must be 64 hexadecimal characters (32 bytes)")?;
    bytes
        .try_into()
        .map_err(|_| "must be 64 hexadecimal characters (32 bytes)")
}

/// Checks a configured signing secret's length.
pub fn check_jwt_secret(secret: &str) -> Result<(), String> {
    if secret.len() < MIN_SECRET_BYTES {
        return Err(format!("must be at least {MIN_SECRET_BYTES} bytes"));
    }
    Ok(())
}

/// The secret stored in `file` if `valid` accepts it, else a new one from `generate`, written
/// with mode 0600 (and its directory created).
pub fn read_or_create_secret(
    file: &Path,
    valid: impl Fn(&str) -> bool,
    generate: impl FnOnce() -> String,
) -> std::io::Result<String> {
    if let Ok(existing) = std::fs::read_to_string(file)
        && valid(existing.trim())
    {
        return Ok(existing.trim().to_owned());
    }
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let secret = generate();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    std::io::Write::write_all(&mut options.open(file)?, secret.as_bytes())?;
    tracing::info!(file = %file.display(), "generated a secret");
    Ok(secret)
}

/// `bytes` random bytes from the OS, base64url-encoded.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("the operating system provides randomness");
    URL_SAFE_NO_PAD.encode(buf)
}

/// A new data key: 32 random bytes as 64 hex characters.
pub fn new_data_key() -> String {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).expect("the operating system provides randomness");
    hex::encode(key)
}

#[cfg(test)]
mod tests {
    use super::*;

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
