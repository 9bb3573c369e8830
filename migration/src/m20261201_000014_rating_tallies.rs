//! How many ratings of each organisation's subtree, year, subject kind and level are on the
//! public star board (`noticed` or `final`): a star board's counts per level are then the
//! dozen rows of its own organisation instead of a count of every rating of the subtree. A
//! rating counts at its organisation and at each ancestor. Kept by the two steps that put a
//! rating on the board or take it off (publishing, an upheld objection) and by moving or
//! deleting an organisation, in their own transactions; filled here from the ratings already
//! made (an ancestor is an organisation whose path starts the other's).

use sea_orm_migration::prelude::*;

use crate::m20261130_000006_enum_checks::{add_checks, drop_checks};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The enum checks of this migration's tables, as in [`crate::ENUM_CHECKS`].
pub const CHECKS: &[(&str, &str, &[&str])] = &[
    ("rating_tallies", "subject", &["member", "org"]),
    (
        "rating_tallies",
        "level",
        &[
            "five_stars",
            "four_stars",
            "three_stars",
            "two_stars",
            "one_star",
            "unqualified",
        ],
    ),
];

#[derive(DeriveIden)]
enum RatingTallies {
    Table,
    OrgId,
    Year,
    Subject,
    Level,
    Count,
}

#[derive(DeriveIden)]
enum Orgs {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(RatingTallies::Table)
                .col(ColumnDef::new(RatingTallies::OrgId).uuid().not_null())
                .col(ColumnDef::new(RatingTallies::Year).integer().not_null())
                .col(ColumnDef::new(RatingTallies::Subject).string_len(16).not_null())
                .col(ColumnDef::new(RatingTallies::Level).string_len(16).not_null())
                .col(ColumnDef::new(RatingTallies::Count).big_integer().not_null())
                .primary_key(
                    Index::create()
                        .col(RatingTallies::OrgId)
                        .col(RatingTallies::Year)
                        .col(RatingTallies::Subject)
                        .col(RatingTallies::Level),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(RatingTallies::Table, RatingTallies::OrgId)
                        .to(Orgs::Table, Orgs::Id),
                )
                .to_owned(),
        )
        .await?;
        add_checks(m.get_connection(), CHECKS).await?;
        m.get_connection()
            .execute_unprepared(
                "INSERT INTO rating_tallies (org_id, year, subject, level, count) \
                 SELECT a.id, t.year, t.subject, t.level, SUM(t.n) FROM \
                 (SELECT org_id, year, subject, level, COUNT(*) AS n FROM ratings \
                  WHERE state IN ('noticed', 'final') GROUP BY org_id, year, subject, level) t \
                 JOIN orgs o ON o.id = t.org_id AND o.deleted_at IS NULL \
                 JOIN orgs a ON a.deleted_at IS NULL AND a.path = substr(o.path, 1, length(a.path)) \
                 GROUP BY a.id, t.year, t.subject, t.level",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_checks(m.get_connection(), CHECKS).await?;
        m.drop_table(Table::drop().table(RatingTallies::Table).to_owned()).await
    }
}
