//! Access tokens (JWT, HS256, 15 minutes) and refresh tokens (opaque, stored hashed).

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::config::{Config, ConfigError};

pub const ISSUER: &str = "dangjian";
pub const AUDIENCE: &str = "dangjian-api";
pub const ACCESS_TOKEN_SECONDS: i64 = 15 * 60;
pub const REFRESH_TOKEN_DAYS: i64 = 14;
use crate::crypto::{MIN_SECRET_BYTES, random_token};

/// The claims of an access token.
#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    /// The user's id.
    pub sub: String,
    pub iat: i64,
    pub exp: i64,
    /// The user's token generation: bumped when the password changes or the account is
    /// disabled, which makes every earlier token invalid.
    #[serde(rename = "gen")]
    pub generation: i64,
}

/// Signing and verification keys, built once from the secret.
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl JwtKeys {
    pub fn from_secret(secret: &[u8]) -> JwtKeys {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 5;
        JwtKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        }
    }

    pub fn issue(&self, user_id: Uuid, generation: i64) -> Result<String, jsonwebtoken::errors::Error> {
        let now = crate::db::now().timestamp();
        let claims = Claims {
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            sub: user_id.to_string(),
            iat: now,
            exp: now + ACCESS_TOKEN_SECONDS,
            generation,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
    }

    /// Verifies signature (HS256 only), expiry, issuer and audience.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .ok()
            .map(|data| data.claims)
    }

    /// The signing secret: `DANGJIAN_JWT_SECRET`, or on SQLite a secret generated once and
    /// kept in the data directory. PostgreSQL deployments must set it (several instances
    /// must share it).
    pub fn resolve(config: &Config) -> Result<JwtKeys, ConfigError> {
        let bad = |reason: String| ConfigError {
            variable: "DANGJIAN_JWT_SECRET",
            reason,
        };
        if let Some(secret) = &config.jwt_secret {
            return Ok(JwtKeys::from_secret(secret.as_bytes()));
        }
        if !config.is_sqlite() {
            return Err(bad(format!(
                "must be set (at least {MIN_SECRET_BYTES} bytes) when DATABASE_URL is PostgreSQL, \
                 e.g. DANGJIAN_JWT_SECRET=$(openssl rand -hex 32)"
            )));
        }
        let file = config.data_dir.join("jwt-secret");
        let secret = crate::crypto::read_or_create_secret(
            &file,
            |s| crate::crypto::check_jwt_secret(s).is_ok(),
            || random_token(48),
        )
        .map_err(|e| bad(format!("cannot use {}: {e}", file.display())))?;
        Ok(JwtKeys::from_secret(secret.as_bytes()))
    }
}

/// A new refresh token: what the client gets, and the hash that is stored.
pub fn new_refresh_token() -> (String, String) {
    let token = format!("rt_{}", random_token(32));
    let hash = hash_refresh_token(&token);
    (token, hash)
}

pub fn hash_refresh_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}
