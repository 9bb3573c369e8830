//! How many ratings of each organisation, year, subject kind and level are on the public
//! star board (`noticed` or `final`): the star board's counts per level read these few rows
//! per organisation instead of counting every member's rating of the subtree. Kept by the
//! two steps that put a rating on the board or take it off (publishing, an upheld
//! objection), in their own transactions; filled here from the ratings already made.

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
                 SELECT org_id, year, subject, level, COUNT(*) FROM ratings \
                 WHERE state IN ('noticed', 'final') GROUP BY org_id, year, subject, level",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_checks(m.get_connection(), CHECKS).await?;
        m.drop_table(Table::drop().table(RatingTallies::Table).to_owned()).await
    }
}
