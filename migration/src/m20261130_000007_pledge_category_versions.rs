//! Pledge categories are versioned like every other record people edit: a change names the
//! version it was made from (`If-Match`), so two administrators cannot overwrite each other.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PledgeCategories {
    Table,
    Version,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(PledgeCategories::Table)
                .add_column(
                    ColumnDef::new(PledgeCategories::Version)
                        .big_integer()
                        .not_null()
                        .default(1),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(PledgeCategories::Table)
                .drop_column(PledgeCategories::Version)
                .to_owned(),
        )
        .await
    }
}
