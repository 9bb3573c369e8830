//! Audit events are first written beside the change they describe, to `audit_pending`, and
//! moved onto the hash chain (`audit_events`) right after that change commits. Writers no
//! longer wait for one another's commits on the chain's head row: only the short move does.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditPending {
    Table,
    PendingSeq,
    Id,
    OccurredAt,
    ActorUserId,
    ActorRole,
    Action,
    EntityType,
    EntityId,
    OrgId,
    Changes,
    RequestId,
    ClientIp,
    Outcome,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(AuditPending::Table)
                .col(
                    ColumnDef::new(AuditPending::PendingSeq)
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(ColumnDef::new(AuditPending::Id).uuid().not_null().unique_key())
                .col(
                    ColumnDef::new(AuditPending::OccurredAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .col(ColumnDef::new(AuditPending::ActorUserId).uuid())
                .col(ColumnDef::new(AuditPending::ActorRole).string_len(32))
                .col(ColumnDef::new(AuditPending::Action).string_len(64).not_null())
                .col(ColumnDef::new(AuditPending::EntityType).string_len(64).not_null())
                .col(ColumnDef::new(AuditPending::EntityId).string_len(64))
                .col(ColumnDef::new(AuditPending::OrgId).uuid())
                .col(ColumnDef::new(AuditPending::Changes).text().not_null())
                .col(ColumnDef::new(AuditPending::RequestId).string_len(128))
                .col(ColumnDef::new(AuditPending::ClientIp).string_len(64))
                .col(ColumnDef::new(AuditPending::Outcome).string_len(16).not_null())
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(AuditPending::Table).to_owned()).await
    }
}
