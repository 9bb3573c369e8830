//! The overview (`/stats/overview`) reads a year's pledges of a subtree several ways; this
//! index answers each of those statements from the index alone.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Pledges {
    Table,
    Year,
    State,
    Kind,
    OrgId,
    GroupId,
    MemberId,
    DueOn,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(
            Index::create()
                .name("idx_pledges_year_state")
                .table(Pledges::Table)
                .col(Pledges::Year)
                .col(Pledges::State)
                .col(Pledges::Kind)
                .col(Pledges::OrgId)
                .col(Pledges::GroupId)
                .col(Pledges::MemberId)
                .col(Pledges::DueOn)
                .col(Pledges::Id)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("idx_pledges_year_state")
                .table(Pledges::Table)
                .to_owned(),
        )
        .await
    }
}
