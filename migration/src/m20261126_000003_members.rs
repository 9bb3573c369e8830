//! Party members, their branch transfers and the posts they hold.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Members {
    Table,
    Id,
    OrgId,
    GroupId,
    Name,
    NamePinyin,
    NameInitials,
    Gender,
    BirthDate,
    Ethnicity,
    Education,
    IdNumberEnc,
    IdNumberHash,
    PhoneEnc,
    Address,
    JoinedOn,
    Status,
    Rural,
    Specialty,
    Note,
    Active,
    LeftReason,
    LeftOn,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum MemberTransfers {
    Table,
    Id,
    MemberId,
    FromOrgId,
    ToOrgId,
    FromGroupId,
    ToGroupId,
    MovedAt,
    ActorUserId,
}

#[derive(DeriveIden)]
enum MemberPosts {
    Table,
    Id,
    MemberId,
    Kind,
    Title,
    Duty,
    OrgId,
    StartOn,
    EndOn,
    CreatedAt,
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
                .table(Members::Table)
                .col(ColumnDef::new(Members::Id).uuid().not_null().primary_key())
                .col(ColumnDef::new(Members::OrgId).uuid().not_null())
                .col(ColumnDef::new(Members::GroupId).uuid())
                .col(ColumnDef::new(Members::Name).string_len(50).not_null())
                .col(ColumnDef::new(Members::NamePinyin).string_len(300).not_null())
                .col(ColumnDef::new(Members::NameInitials).string_len(60).not_null())
                .col(ColumnDef::new(Members::Gender).string_len(8).not_null())
                .col(ColumnDef::new(Members::BirthDate).date().not_null())
                .col(ColumnDef::new(Members::Ethnicity).string_len(20))
                .col(ColumnDef::new(Members::Education).string_len(20))
                .col(ColumnDef::new(Members::IdNumberEnc).string_len(200).not_null())
                .col(ColumnDef::new(Members::IdNumberHash).string_len(64).not_null())
                .col(ColumnDef::new(Members::PhoneEnc).string_len(200))
                .col(ColumnDef::new(Members::Address).string_len(200))
                .col(ColumnDef::new(Members::JoinedOn).date().not_null())
                .col(ColumnDef::new(Members::Status).string_len(16).not_null())
                .col(ColumnDef::new(Members::Rural).boolean().not_null())
                .col(ColumnDef::new(Members::Specialty).string_len(200))
                .col(ColumnDef::new(Members::Note).string_len(1000))
                .col(ColumnDef::new(Members::Active).boolean().not_null())
                .col(ColumnDef::new(Members::LeftReason).string_len(20))
                .col(ColumnDef::new(Members::LeftOn).date())
                .col(ColumnDef::new(Members::Version).big_integer().not_null())
                .col(ColumnDef::new(Members::CreatedAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(Members::UpdatedAt).timestamp_with_time_zone().not_null())
                .foreign_key(
                    ForeignKey::create()
                        .from(Members::Table, Members::OrgId)
                        .to(Orgs::Table, Orgs::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Members::Table, Members::GroupId)
                        .to(Orgs::Table, Orgs::Id),
                )
                .to_owned(),
        )
        .await?;
        // Every list is `scope filter + order by (name|joined_on, id)`: these serve the
        // filters and make each keyset page an index range scan.
        for (name, cols) in [
            ("idx_members_org_name", vec![Members::OrgId, Members::Name, Members::Id]),
            (
                "idx_members_org_joined",
                vec![Members::OrgId, Members::JoinedOn, Members::Id],
            ),
            ("idx_members_name", vec![Members::Name, Members::Id]),
            ("idx_members_joined", vec![Members::JoinedOn, Members::Id]),
            ("idx_members_group", vec![Members::GroupId]),
            ("idx_members_pinyin", vec![Members::NamePinyin]),
            ("idx_members_initials", vec![Members::NameInitials]),
            ("idx_members_id_hash", vec![Members::IdNumberHash]),
        ] {
            let mut index = Index::create().name(name).table(Members::Table).to_owned();
            for col in cols {
                index.col(col);
            }
            m.create_index(index).await?;
        }
        // One active member per ID number (a member who left may come back as a new record).
        m.get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX idx_members_active_id_number ON members (id_number_hash) WHERE active",
            )
            .await?;

        m.create_table(
            Table::create()
                .table(MemberTransfers::Table)
                .col(ColumnDef::new(MemberTransfers::Id).uuid().not_null().primary_key())
                .col(ColumnDef::new(MemberTransfers::MemberId).uuid().not_null())
                .col(ColumnDef::new(MemberTransfers::FromOrgId).uuid().not_null())
                .col(ColumnDef::new(MemberTransfers::ToOrgId).uuid().not_null())
                .col(ColumnDef::new(MemberTransfers::FromGroupId).uuid())
                .col(ColumnDef::new(MemberTransfers::ToGroupId).uuid())
                .col(
                    ColumnDef::new(MemberTransfers::MovedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .col(ColumnDef::new(MemberTransfers::ActorUserId).uuid())
                .foreign_key(
                    ForeignKey::create()
                        .from(MemberTransfers::Table, MemberTransfers::MemberId)
                        .to(Members::Table, Members::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_member_transfers_member")
                .table(MemberTransfers::Table)
                .col(MemberTransfers::MemberId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(MemberPosts::Table)
                .col(ColumnDef::new(MemberPosts::Id).uuid().not_null().primary_key())
                .col(ColumnDef::new(MemberPosts::MemberId).uuid().not_null())
                .col(ColumnDef::new(MemberPosts::Kind).string_len(32).not_null())
                .col(ColumnDef::new(MemberPosts::Title).string_len(100))
                .col(ColumnDef::new(MemberPosts::Duty).string_len(500))
                .col(ColumnDef::new(MemberPosts::OrgId).uuid().not_null())
                .col(ColumnDef::new(MemberPosts::StartOn).date().not_null())
                .col(ColumnDef::new(MemberPosts::EndOn).date())
                .col(
                    ColumnDef::new(MemberPosts::CreatedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(MemberPosts::Table, MemberPosts::MemberId)
                        .to(Members::Table, Members::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(MemberPosts::Table, MemberPosts::OrgId)
                        .to(Orgs::Table, Orgs::Id),
                )
                .to_owned(),
        )
        .await?;
        for (name, col) in [
            ("idx_member_posts_member", MemberPosts::MemberId),
            ("idx_member_posts_org", MemberPosts::OrgId),
        ] {
            m.create_index(Index::create().name(name).table(MemberPosts::Table).col(col).to_owned())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in ["member_posts", "member_transfers", "members"] {
            m.drop_table(Table::drop().table(Alias::new(table)).to_owned()).await?;
        }
        Ok(())
    }
}
