//! Answers computed from many rows (dashboards such as pairing coverage), kept until the
//! next write. Each entry remembers the audit trail's head (`audit_head.seq`) it was computed
//! at; every write through `audit::Write` advances the head after its commit and before it
//! answers, so an entry is served only while nothing at all has changed since, and an answer
//! is never older than the data (the head is read before the data: a write committed in
//! between moves the head later, and the entry is computed again). Per instance and bounded:
//! when full, it starts again empty.

use std::collections::HashMap;
use std::sync::Mutex;

use actix_web::web::Bytes;

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

impl Default for ComputedCache {
    fn default() -> Self {
        ComputedCache::new()
    }
}
