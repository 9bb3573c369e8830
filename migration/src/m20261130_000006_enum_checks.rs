//! The database refuses enum values the code does not know: every column holding a domain
//! enum gets a check of its allowed values (PostgreSQL: CHECK constraints; SQLite, which cannot
//! add a constraint to an existing table: triggers that abort the insert or update).
//! A later change to an enum adds a migration that replaces its check.

use sea_orm_migration::SchemaManagerConnection;
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// `(table, column, allowed values)` as of this migration.
pub const CHECKS: &[(&str, &str, &[&str])] = &[
    ("orgs", "kind", &["committee", "general_branch", "branch", "group"]),
    ("villages", "kind", &["village", "community"]),
    (
        "grants",
        "role",
        &["member", "group_leader", "branch_secretary", "inspector", "town_admin"],
    ),
    ("members", "gender", &["male", "female"]),
    (
        "members",
        "education",
        &[
            "primary",
            "junior_high",
            "senior_high",
            "vocational",
            "college",
            "bachelor",
            "master",
            "doctorate",
        ],
    ),
    ("members", "status", &["probationary", "full"]),
    ("members", "left_reason", &["transferred_out", "deceased", "other"]),
    (
        "member_posts",
        "kind",
        &[
            "group_leader",
            "branch_secretary",
            "deputy_secretary",
            "first_secretary",
            "council_head",
            "pioneer_post",
            "other",
        ],
    ),
    ("pledges", "kind", &["individual", "collective"]),
    ("pledges", "state", PLEDGE_STATES),
    (
        "pledges",
        "evaluation_result",
        &["satisfied", "basically_satisfied", "unsatisfied"],
    ),
    ("pledge_events", "kind", &["state", "progress"]),
    ("pledge_events", "from_state", PLEDGE_STATES),
    ("pledge_events", "to_state", PLEDGE_STATES),
];

const PLEDGE_STATES: &[&str] = &[
    "draft",
    "submitted",
    "approved",
    "returned",
    "in_progress",
    "fulfilled",
    "evaluated",
    "withdrawn",
];

fn allowed(values: &[&str]) -> String {
    values.iter().map(|v| format!("'{v}'")).collect::<Vec<_>>().join(", ")
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        add_checks(m.get_connection(), CHECKS).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_checks(m.get_connection(), CHECKS).await
    }
}

/// Adds the check of each `(table, column, values)`; later migrations use it for new tables.
pub(crate) async fn add_checks(
    db: &SchemaManagerConnection<'_>,
    checks: &[(&str, &str, &[&str])],
) -> Result<(), DbErr> {
    for (table, column, values) in checks {
        let name = format!("ck_{table}_{column}");
        let list = allowed(values);
        if db.get_database_backend() == DatabaseBackend::Postgres {
            db.execute_unprepared(&format!(
                r#"ALTER TABLE "{table}" ADD CONSTRAINT "{name}" CHECK ("{column}" IN ({list}))"#
            ))
            .await?;
        } else {
            for (event, suffix) in [("INSERT", "insert"), (&format!("UPDATE OF \"{column}\""), "update")] {
                db.execute_unprepared(&format!(
                    r#"CREATE TRIGGER "{name}_{suffix}" BEFORE {event} ON "{table}"
                       WHEN NEW."{column}" NOT IN ({list})
                       BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: {name}'); END"#
                ))
                .await?;
            }
        }
    }
    Ok(())
}

/// Removes what [`add_checks`] added.
pub(crate) async fn drop_checks(
    db: &SchemaManagerConnection<'_>,
    checks: &[(&str, &str, &[&str])],
) -> Result<(), DbErr> {
    for (table, column, _) in checks {
        let name = format!("ck_{table}_{column}");
        if db.get_database_backend() == DatabaseBackend::Postgres {
            db.execute_unprepared(&format!(r#"ALTER TABLE "{table}" DROP CONSTRAINT "{name}""#))
                .await?;
        } else {
            for suffix in ["insert", "update"] {
                db.execute_unprepared(&format!(r#"DROP TRIGGER IF EXISTS "{name}_{suffix}""#))
                    .await?;
            }
        }
    }
    Ok(())
}
