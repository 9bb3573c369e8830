//! Answers computed from many rows (dashboards such as pairing coverage), kept until the
//! next write. Each entry remembers the audit trail's head (`audit_head.seq`) it was computed
//! at; every write through `audit::Write` advances the head after its commit and before it
//! answers, so an entry is served only while nothing at all has changed since, and an answer
//! is never older than the data (the head is read before the data: a write committed in
//! between moves the head later, and the entry is computed again). Per instance and bounded:
//! when full, it starts again empty.

use std::collections::HashMap;
use std::sync::Mutex;

use actix_web::HttpResponse;
use actix_web::web::Bytes;
use sea_orm::DatabaseConnection;

use crate::error::ApiError;

/// Computed JSON bodies by request key, each with the audit head it was computed at.
pub struct ComputedCache {
    entries: Mutex<HashMap<String, (i64, Bytes)>>,
}

impl ComputedCache {
    const MAX_ENTRIES: usize = 512;

    pub fn new() -> ComputedCache {
        ComputedCache {
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The body computed for `key` at audit head `seq`, if any.
    pub fn get(&self, key: &str, seq: i64) -> Option<Bytes> {
        let entries = self.entries.lock().ok()?;
        entries
            .get(key)
            .filter(|(at, _)| *at == seq)
            .map(|(_, body)| body.clone())
    }

    /// Keeps `body`, computed for `key` at audit head `seq`.
    pub fn put(&self, key: String, seq: i64, body: Bytes) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= Self::MAX_ENTRIES && !entries.contains_key(&key) {
                entries.clear();
            }
            entries.insert(key, (seq, body));
        }
    }
}

impl ComputedCache {
    /// The JSON answer to the question `key`: the one kept from an earlier request if nothing
    /// at all has been written since, else `compute`'s, kept for the next.
    pub async fn json<T, F>(&self, db: &DatabaseConnection, key: String, compute: F) -> Result<HttpResponse, ApiError>
    where
        T: serde::Serialize,
        F: std::future::Future<Output = Result<T, ApiError>>,
    {
        let body = self
            .bytes(db, key, async {
                Ok(Bytes::from(
                    serde_json::to_vec(&compute.await?).map_err(ApiError::internal)?,
                ))
            })
            .await?;
        Ok(HttpResponse::Ok().content_type("application/json").body(body))
    }

    /// The body answering `key` (JSON, a rendered page): the one kept from an earlier request
    /// if nothing at all has been written since, else `compute`'s, kept for the next. The audit
    /// head is read before `compute` runs (it runs only when awaited here), so a write
    /// committed meanwhile makes the next request compute again.
    pub async fn bytes<F>(&self, db: &DatabaseConnection, key: String, compute: F) -> Result<Bytes, ApiError>
    where
        F: std::future::Future<Output = Result<Bytes, ApiError>>,
    {
        let seq = crate::audit::head_seq(db).await?;
        if let Some(body) = self.get(&key, seq) {
            return Ok(body);
        }
        let body = compute.await?;
        self.put(key, seq, body.clone());
        Ok(body)
    }
}

impl Default for ComputedCache {
    fn default() -> Self {
        ComputedCache::new()
    }
}
