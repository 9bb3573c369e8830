//! Plumbing: remembered `Idempotency-Key`s and their stored responses.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    Principal,
    Key,
    Fingerprint,
    Status,
    ResponseHeaders,
    ResponseBody,
    CreatedAt,
    CompletedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(IdempotencyKeys::Table)
                    .col(ColumnDef::new(IdempotencyKeys::Principal).string_len(64).not_null())
                    .col(ColumnDef::new(IdempotencyKeys::Key).string_len(255).not_null())
                    .col(ColumnDef::new(IdempotencyKeys::Fingerprint).string_len(64).not_null())
                    .col(ColumnDef::new(IdempotencyKeys::Status).integer())
                    .col(ColumnDef::new(IdempotencyKeys::ResponseHeaders).json())
                    .col(ColumnDef::new(IdempotencyKeys::ResponseBody).blob())
                    .col(
                        ColumnDef::new(IdempotencyKeys::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(IdempotencyKeys::CompletedAt).timestamp_with_time_zone())
                    .primary_key(
                        Index::create()
                            .col(IdempotencyKeys::Principal)
                            .col(IdempotencyKeys::Key),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_idempotency_keys_created_at")
                    .table(IdempotencyKeys::Table)
                    .col(IdempotencyKeys::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(IdempotencyKeys::Table).to_owned())
            .await
    }
}
