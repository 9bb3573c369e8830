//! The organisation tree and places, user accounts with role grants, refresh tokens, login
//! failures (for lockout), and the hash-chained audit trail.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Orgs {
    Table,
    Id,
    ParentId,
    Kind,
    Name,
    Path,
    VillagerGroupId,
    Version,
    DeletedAt,
}

#[derive(DeriveIden)]
enum Villages {
    Table,
    Id,
    Kind,
    Name,
    OrgId,
    Version,
}

#[derive(DeriveIden)]
enum VillagerGroups {
    Table,
    Id,
    VillageId,
    Name,
    Version,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Username,
    PasswordHash,
    OrgId,
    MemberId,
    Disabled,
    TokenGeneration,
    Version,
}

#[derive(DeriveIden)]
enum Grants {
    Table,
    Id,
    UserId,
    Role,
    OrgId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    Id,
    UserId,
    FamilyId,
    TokenHash,
    ExpiresAt,
    UsedAt,
    RevokedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum LoginFailures {
    Table,
    Id,
    Username,
    FailedAt,
}

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Seq,
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
    PrevHash,
    Hash,
}

#[derive(DeriveIden)]
enum AuditHead {
    Table,
    Id,
    Seq,
    Hash,
}

fn timestamps(table: &mut TableCreateStatement) -> &mut TableCreateStatement {
    table
        .col(
            ColumnDef::new(Alias::new("created_at"))
                .timestamp_with_time_zone()
                .not_null(),
        )
        .col(
            ColumnDef::new(Alias::new("updated_at"))
                .timestamp_with_time_zone()
                .not_null(),
        )
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            timestamps(
                Table::create()
                    .table(Orgs::Table)
                    .col(ColumnDef::new(Orgs::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Orgs::ParentId).uuid())
                    .col(ColumnDef::new(Orgs::Kind).string_len(32).not_null())
                    .col(ColumnDef::new(Orgs::Name).string_len(100).not_null())
                    .col(ColumnDef::new(Orgs::Path).string_len(1024).not_null())
                    .col(ColumnDef::new(Orgs::VillagerGroupId).uuid())
                    .col(ColumnDef::new(Orgs::Version).big_integer().not_null())
                    .col(ColumnDef::new(Orgs::DeletedAt).timestamp_with_time_zone())
                    .foreign_key(
                        ForeignKey::create()
                            .from(Orgs::Table, Orgs::ParentId)
                            .to(Orgs::Table, Orgs::Id),
                    ),
            )
            .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_orgs_path")
                .table(Orgs::Table)
                .col(Orgs::Path)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_orgs_parent")
                .table(Orgs::Table)
                .col(Orgs::ParentId)
                .to_owned(),
        )
        .await?;
        if m.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            // Prefix searches (`path LIKE '/a/b/%'`) use this index whatever the collation.
            m.get_connection()
                .execute_unprepared("CREATE INDEX idx_orgs_path_prefix ON orgs (path text_pattern_ops)")
                .await?;
        }

        m.create_table(
            timestamps(
                Table::create()
                    .table(Villages::Table)
                    .col(ColumnDef::new(Villages::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Villages::Kind).string_len(32).not_null())
                    .col(ColumnDef::new(Villages::Name).string_len(100).not_null())
                    .col(ColumnDef::new(Villages::OrgId).uuid().not_null())
                    .col(ColumnDef::new(Villages::Version).big_integer().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(Villages::Table, Villages::OrgId)
                            .to(Orgs::Table, Orgs::Id),
                    ),
            )
            .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_villages_org")
                .table(Villages::Table)
                .col(Villages::OrgId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            timestamps(
                Table::create()
                    .table(VillagerGroups::Table)
                    .col(ColumnDef::new(VillagerGroups::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(VillagerGroups::VillageId).uuid().not_null())
                    .col(ColumnDef::new(VillagerGroups::Name).string_len(100).not_null())
                    .col(ColumnDef::new(VillagerGroups::Version).big_integer().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(VillagerGroups::Table, VillagerGroups::VillageId)
                            .to(Villages::Table, Villages::Id),
                    ),
            )
            .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_villager_groups_village")
                .table(VillagerGroups::Table)
                .col(VillagerGroups::VillageId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            timestamps(
                Table::create()
                    .table(Users::Table)
                    .col(ColumnDef::new(Users::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Users::Username).string_len(64).not_null().unique_key())
                    .col(ColumnDef::new(Users::PasswordHash).string_len(255).not_null())
                    .col(ColumnDef::new(Users::OrgId).uuid().not_null())
                    .col(ColumnDef::new(Users::MemberId).uuid())
                    .col(ColumnDef::new(Users::Disabled).boolean().not_null())
                    .col(ColumnDef::new(Users::TokenGeneration).big_integer().not_null())
                    .col(ColumnDef::new(Users::Version).big_integer().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(Users::Table, Users::OrgId)
                            .to(Orgs::Table, Orgs::Id),
                    ),
            )
            .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_users_org")
                .table(Users::Table)
                .col(Users::OrgId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Grants::Table)
                .col(ColumnDef::new(Grants::Id).uuid().not_null().primary_key())
                .col(ColumnDef::new(Grants::UserId).uuid().not_null())
                .col(ColumnDef::new(Grants::Role).string_len(32).not_null())
                .col(ColumnDef::new(Grants::OrgId).uuid().not_null())
                .col(ColumnDef::new(Grants::CreatedAt).timestamp_with_time_zone().not_null())
                .foreign_key(
                    ForeignKey::create()
                        .from(Grants::Table, Grants::UserId)
                        .to(Users::Table, Users::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Grants::Table, Grants::OrgId)
                        .to(Orgs::Table, Orgs::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_grants_unique")
                .table(Grants::Table)
                .col(Grants::UserId)
                .col(Grants::Role)
                .col(Grants::OrgId)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_grants_org")
                .table(Grants::Table)
                .col(Grants::OrgId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(RefreshTokens::Table)
                .col(ColumnDef::new(RefreshTokens::Id).uuid().not_null().primary_key())
                .col(ColumnDef::new(RefreshTokens::UserId).uuid().not_null())
                .col(ColumnDef::new(RefreshTokens::FamilyId).uuid().not_null())
                .col(
                    ColumnDef::new(RefreshTokens::TokenHash)
                        .string_len(64)
                        .not_null()
                        .unique_key(),
                )
                .col(
                    ColumnDef::new(RefreshTokens::ExpiresAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .col(ColumnDef::new(RefreshTokens::UsedAt).timestamp_with_time_zone())
                .col(ColumnDef::new(RefreshTokens::RevokedAt).timestamp_with_time_zone())
                .col(
                    ColumnDef::new(RefreshTokens::CreatedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(RefreshTokens::Table, RefreshTokens::UserId)
                        .to(Users::Table, Users::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_refresh_tokens_family")
                .table(RefreshTokens::Table)
                .col(RefreshTokens::FamilyId)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_refresh_tokens_user")
                .table(RefreshTokens::Table)
                .col(RefreshTokens::UserId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(LoginFailures::Table)
                .col(ColumnDef::new(LoginFailures::Id).uuid().not_null().primary_key())
                .col(ColumnDef::new(LoginFailures::Username).string_len(64).not_null())
                .col(
                    ColumnDef::new(LoginFailures::FailedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_login_failures_username")
                .table(LoginFailures::Table)
                .col(LoginFailures::Username)
                .col(LoginFailures::FailedAt)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(AuditEvents::Table)
                .col(ColumnDef::new(AuditEvents::Seq).big_integer().not_null().primary_key())
                .col(ColumnDef::new(AuditEvents::Id).uuid().not_null().unique_key())
                .col(
                    ColumnDef::new(AuditEvents::OccurredAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .col(ColumnDef::new(AuditEvents::ActorUserId).uuid())
                .col(ColumnDef::new(AuditEvents::ActorRole).string_len(32))
                .col(ColumnDef::new(AuditEvents::Action).string_len(64).not_null())
                .col(ColumnDef::new(AuditEvents::EntityType).string_len(64).not_null())
                .col(ColumnDef::new(AuditEvents::EntityId).string_len(64))
                .col(ColumnDef::new(AuditEvents::OrgId).uuid())
                .col(ColumnDef::new(AuditEvents::Changes).text().not_null())
                .col(ColumnDef::new(AuditEvents::RequestId).string_len(128))
                .col(ColumnDef::new(AuditEvents::ClientIp).string_len(64))
                .col(ColumnDef::new(AuditEvents::Outcome).string_len(16).not_null())
                .col(ColumnDef::new(AuditEvents::PrevHash).string_len(64).not_null())
                .col(ColumnDef::new(AuditEvents::Hash).string_len(64).not_null())
                .to_owned(),
        )
        .await?;
        for (name, col) in [
            ("idx_audit_entity", AuditEvents::EntityId),
            ("idx_audit_actor", AuditEvents::ActorUserId),
            ("idx_audit_org", AuditEvents::OrgId),
            ("idx_audit_time", AuditEvents::OccurredAt),
        ] {
            m.create_index(Index::create().name(name).table(AuditEvents::Table).col(col).to_owned())
                .await?;
        }

        m.create_table(
            Table::create()
                .table(AuditHead::Table)
                .col(ColumnDef::new(AuditHead::Id).integer().not_null().primary_key())
                .col(ColumnDef::new(AuditHead::Seq).big_integer().not_null())
                .col(ColumnDef::new(AuditHead::Hash).string_len(64).not_null())
                .to_owned(),
        )
        .await?;
        m.exec_stmt(
            Query::insert()
                .into_table(AuditHead::Table)
                .columns([AuditHead::Id, AuditHead::Seq, AuditHead::Hash])
                .values_panic([1.into(), 0i64.into(), "0".repeat(64).into()])
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "audit_head",
            "audit_events",
            "login_failures",
            "refresh_tokens",
            "grants",
            "users",
        ] {
            m.drop_table(Table::drop().table(Alias::new(table)).to_owned()).await?;
        }
        for table in ["villager_groups", "villages", "orgs"] {
            m.drop_table(Table::drop().table(Alias::new(table)).to_owned()).await?;
        }
        Ok(())
    }
}
