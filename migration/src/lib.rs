//! Database migrations, one file per change, never edited once landed. They run at start-up
//! (`dangjian serve`) or alone (`dangjian migrate`), on SQLite and PostgreSQL alike.

pub use sea_orm_migration::prelude::*;

mod m20261126_000001_idempotency_keys;
mod m20261126_000002_orgs_accounts_audit;
mod m20261126_000003_members;
mod m20261126_000004_pledges;
mod m20261130_000005_login_failures_by_address;
mod m20261130_000006_enum_checks;
mod m20261130_000007_pledge_category_versions;
mod m20261201_000008_households_pairings;
mod m20261201_000009_audit_pending;
mod m20261201_000010_ratings;
mod m20261201_000011_village_finances;
mod m20261201_000012_overview_indexes;
mod m20261201_000013_org_paths_bytewise;
mod m20261201_000014_rating_tallies;

/// The enum checks the database enforces, `(table, column, values)`, migration by
/// migration: a test compares them with the code's enums, so an enum cannot change without a
/// migration.
pub const ENUM_CHECKS: &[&[(&str, &str, &[&str])]] = &[
    m20261130_000006_enum_checks::CHECKS,
    m20261201_000008_households_pairings::CHECKS,
    m20261201_000010_ratings::CHECKS,
    m20261201_000011_village_finances::CHECKS,
    m20261201_000014_rating_tallies::CHECKS,
];

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_idempotency_keys::Migration),
            Box::new(m20261126_000002_orgs_accounts_audit::Migration),
            Box::new(m20261126_000003_members::Migration),
            Box::new(m20261126_000004_pledges::Migration),
            Box::new(m20261130_000005_login_failures_by_address::Migration),
            Box::new(m20261130_000006_enum_checks::Migration),
            Box::new(m20261130_000007_pledge_category_versions::Migration),
            Box::new(m20261201_000008_households_pairings::Migration),
            Box::new(m20261201_000009_audit_pending::Migration),
            Box::new(m20261201_000010_ratings::Migration),
            Box::new(m20261201_000011_village_finances::Migration),
            Box::new(m20261201_000012_overview_indexes::Migration),
            Box::new(m20261201_000013_org_paths_bytewise::Migration),
            Box::new(m20261201_000014_rating_tallies::Migration),
        ]
    }
}
