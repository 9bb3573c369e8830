//! Generated data sets for an empty database: `dangjian seed-county` (a whole county, for
//! load tests and benchmarks). Everything is generated from a fixed-seed PRNG, so the same
//! options give the same organisations, people, ID numbers, pledges and feedback; rows are
//! written with multi-row INSERTs inside one [`crate::audit::Write`], recorded as one audit
//! event.

pub mod county;
pub mod demo;

use sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait};

use crate::error::ApiError;

/// Why a data set was not generated.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// The database already holds data beyond the bootstrap root committee and administrator.
    #[error(
        "the database is not empty ({0}): seeding fills only a new database, holding at most the root committee and the `admin` account"
    )]
    NotEmpty(String),
    /// An option is out of range.
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}

/// SplitMix64 (Steele, Lea and Flood 2014): small, fast and good enough for test data, and
/// the same sequence on every platform.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64(seed)
    }

    /// An independent stream for one purpose (`label`), so that adding draws to one part of a
    /// generator does not shift every other part.
    pub fn fork(&self, label: u64) -> SplitMix64 {
        let mut s = SplitMix64(self.0 ^ label.wrapping_mul(0xD6E8_FEB8_6659_FD93));
        s.next_u64();
        s
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    pub fn between(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        lo + self.below((hi - lo + 1) as u64) as i64
    }

    /// True with probability `per_mille` / 1000.
    pub fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// An item of `(weight, item)` pairs, chosen in proportion to the weights.
    pub fn weighted<T: Copy>(&mut self, items: &[(u64, T)]) -> T {
        let total: u64 = items.iter().map(|(w, _)| w).sum();
        let mut x = self.below(total);
        for (w, item) in items {
            if x < *w {
                return *item;
            }
            x -= w;
        }
        items[items.len() - 1].1
    }

    /// A UUID version 7 for `at`, its other bits from this generator: ids sort by time like
    /// the application's own, yet are the same on every run.
    pub fn uuid_v7(&mut self, at: chrono::DateTime<chrono::Utc>) -> uuid::Uuid {
        let mut bytes = [0u8; 10];
        bytes[..8].copy_from_slice(&self.next_u64().to_le_bytes());
        bytes[8..].copy_from_slice(&self.next_u64().to_le_bytes()[..2]);
        uuid::Builder::from_unix_timestamp_millis(at.timestamp_millis().max(0) as u64, &bytes).into_uuid()
    }
}

/// Rows per multi-row INSERT of a table with `columns` columns: SQLite binds at most 32,766
/// parameters per statement (PostgreSQL 65,535).
pub fn rows_per_insert(columns: usize) -> usize {
    (32_000 / columns.max(1)).max(1)
}

/// The one write a seeder fills the database in, refused unless the database is empty (at
/// most a bootstrap root committee and administrator).
pub async fn begin_on_empty(db: &sea_orm::DatabaseConnection) -> Result<crate::audit::Write, SeedError> {
    let w = crate::audit::Write::begin(db, &crate::audit::AuditContext::default()).await?;
    if let Some(what) = occupied(w.db()).await? {
        w.rollback().await?;
        return Err(SeedError::NotEmpty(what));
    }
    Ok(w)
}

/// What the database holds besides a bootstrap root committee and administrator, if anything.
pub async fn occupied<C: ConnectionTrait>(db: &C) -> Result<Option<String>, sea_orm::DbErr> {
    let orgs = crate::orgs::entity::Entity::find().count(db).await?;
    let users = crate::users::entity::user::Entity::find().count(db).await?;
    let members = crate::members::entity::member::Entity::find().count(db).await?;
    let pledges = crate::pledges::entity::pledge::Entity::find().count(db).await?;
    let mut found = Vec::new();
    if orgs > 1 {
        found.push(format!("{orgs} organisations"));
    }
    if users > 1 {
        found.push(format!("{users} accounts"));
    }
    if members > 0 {
        found.push(format!("{members} members"));
    }
    if pledges > 0 {
        found.push(format!("{pledges} pledges"));
    }
    Ok((!found.is_empty()).then(|| found.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::SplitMix64;

    #[test]
    fn splitmix_is_the_reference_sequence_and_bounded() {
        // First outputs for seed 1234567 (reference implementation by Vigna).
        let mut r = SplitMix64::new(1234567);
        assert_eq!(r.next_u64(), 6457827717110365317);
        assert_eq!(r.next_u64(), 3203168211198807973);
        let mut r = SplitMix64::new(7);
        for _ in 0..1000 {
            assert!(r.below(10) < 10);
            let x = r.between(-3, 3);
            assert!((-3..=3).contains(&x));
        }
        assert_eq!(
            SplitMix64::new(9).fork(1).next_u64(),
            SplitMix64::new(9).fork(1).next_u64()
        );
        assert_ne!(
            SplitMix64::new(9).fork(1).next_u64(),
            SplitMix64::new(9).fork(2).next_u64()
        );
    }
}
