//! Poor households (贫困户) with their people and income history; cadre helpers (帮扶干部);
//! pairings of helpers with households (结对帮扶) and the help records logged on them
//! (帮扶记录); an account may be linked to a cadre as it can to a member.

use sea_orm_migration::prelude::*;

use crate::m20261130_000006_enum_checks::{add_checks, drop_checks};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The enum checks of this migration's tables, as in [`crate::ENUM_CHECKS`].
pub const CHECKS: &[(&str, &str, &[&str])] = &[
    ("households", "attribute", &["ordinary", "low_income", "destitute"]),
    (
        "households",
        "status",
        &["in_poverty", "lifted", "returned", "monitored"],
    ),
    ("households", "main_cause", CAUSES),
    (
        "household_people",
        "relation",
        &[
            "head",
            "spouse",
            "child",
            "child_in_law",
            "parent",
            "grandparent",
            "grandchild",
            "sibling",
            "other",
        ],
    ),
    ("household_people", "labour", &["strong", "weak", "none"]),
    (
        "help_records",
        "kind",
        &[
            "visit",
            "policy_explained",
            "job_found",
            "skills_training",
            "goods",
            "money",
            "medical",
            "other",
        ],
    ),
];

const CAUSES: &[&str] = &[
    "illness",
    "disability",
    "schooling",
    "disaster",
    "lack_of_labour",
    "lack_of_skills",
    "lack_of_funds",
    "lack_of_land",
    "lack_of_water",
    "poor_transport",
    "lack_of_drive",
];

#[derive(DeriveIden, Clone, Copy)]
enum Households {
    Table,
    Id,
    OrgId,
    VillageId,
    VillagerGroupId,
    HeadName,
    IdNumberEnc,
    IdNumberHash,
    PhoneEnc,
    Address,
    Size,
    Attribute,
    MainCause,
    SecondaryCauses,
    IdentifiedYear,
    Status,
    LiftedYear,
    Note,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum HouseholdPeople {
    Table,
    Id,
    HouseholdId,
    Name,
    Relation,
    IdNumberEnc,
    Labour,
    Health,
    InSchool,
    WorkingAway,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum HouseholdIncomes {
    Table,
    HouseholdId,
    Year,
    PerCapitaFen,
}

#[derive(DeriveIden, Clone, Copy)]
enum Cadres {
    Table,
    Id,
    OrgId,
    Name,
    WorkUnit,
    Post,
    PhoneEnc,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Pairings {
    Table,
    Id,
    HouseholdId,
    OrgId,
    MemberId,
    CadreId,
    IsPrimary,
    StartOn,
    EndOn,
    EndReason,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum HelpRecords {
    Table,
    Id,
    PairingId,
    HouseholdId,
    OrgId,
    MemberId,
    CadreId,
    Date,
    Kind,
    Content,
    AmountFen,
    Evidence,
    RecordedBy,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    MemberId,
    CadreId,
}

#[derive(DeriveIden, Clone, Copy)]
enum Orgs {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Villages {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum VillagerGroups {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Members {
    Table,
    Id,
}

fn timestamp(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).timestamp_with_time_zone().not_null().to_owned()
}

async fn indexes<T: IntoIden + Copy + 'static, C: IntoIden + Clone + 'static>(
    m: &SchemaManager<'_>,
    table: T,
    list: Vec<(&str, Vec<C>)>,
) -> Result<(), DbErr> {
    for (name, cols) in list {
        let mut index = Index::create().name(name).table(table).to_owned();
        for col in cols {
            index.col(col);
        }
        m.create_index(index).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Households::Table)
                .col(ColumnDef::new(Households::Id).uuid().not_null().primary_key())
                .col(ColumnDef::new(Households::OrgId).uuid().not_null())
                .col(ColumnDef::new(Households::VillageId).uuid().not_null())
                .col(ColumnDef::new(Households::VillagerGroupId).uuid())
                .col(ColumnDef::new(Households::HeadName).string_len(50).not_null())
                .col(ColumnDef::new(Households::IdNumberEnc).string_len(200).not_null())
                .col(ColumnDef::new(Households::IdNumberHash).string_len(64).not_null())
                .col(ColumnDef::new(Households::PhoneEnc).string_len(200))
                .col(ColumnDef::new(Households::Address).string_len(200))
                .col(ColumnDef::new(Households::Size).integer().not_null())
                .col(ColumnDef::new(Households::Attribute).string_len(16).not_null())
                .col(ColumnDef::new(Households::MainCause).string_len(32).not_null())
                .col(ColumnDef::new(Households::SecondaryCauses).string_len(400).not_null())
                .col(ColumnDef::new(Households::IdentifiedYear).integer().not_null())
                .col(ColumnDef::new(Households::Status).string_len(16).not_null())
                .col(ColumnDef::new(Households::LiftedYear).integer())
                .col(ColumnDef::new(Households::Note).string_len(1000))
                .col(ColumnDef::new(Households::Version).big_integer().not_null())
                .col(timestamp(Households::CreatedAt))
                .col(timestamp(Households::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Households::Table, Households::OrgId)
                        .to(Orgs::Table, Orgs::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Households::Table, Households::VillageId)
                        .to(Villages::Table, Villages::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Households::Table, Households::VillagerGroupId)
                        .to(VillagerGroups::Table, VillagerGroups::Id),
                )
                .to_owned(),
        )
        .await?;
        // Lists are `scope + filters, ordered by (head_name, id)`.
        indexes(
            m,
            Households::Table,
            vec![
                (
                    "idx_households_org_name",
                    vec![Households::OrgId, Households::HeadName, Households::Id],
                ),
                ("idx_households_name", vec![Households::HeadName, Households::Id]),
                // Coverage: a subtree's households needing help.
                ("idx_households_org_status", vec![Households::OrgId, Households::Status]),
                ("idx_households_village", vec![Households::VillageId]),
                ("idx_households_villager_group", vec![Households::VillagerGroupId]),
            ],
        )
        .await?;
        // A head of household heads one household.
        m.create_index(
            Index::create()
                .name("idx_households_id_hash")
                .table(Households::Table)
                .col(Households::IdNumberHash)
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(HouseholdPeople::Table)
                .col(ColumnDef::new(HouseholdPeople::Id).uuid().not_null().primary_key())
                .col(ColumnDef::new(HouseholdPeople::HouseholdId).uuid().not_null())
                .col(ColumnDef::new(HouseholdPeople::Name).string_len(50).not_null())
                .col(ColumnDef::new(HouseholdPeople::Relation).string_len(16).not_null())
                .col(ColumnDef::new(HouseholdPeople::IdNumberEnc).string_len(200))
                .col(ColumnDef::new(HouseholdPeople::Labour).string_len(8).not_null())
                .col(ColumnDef::new(HouseholdPeople::Health).string_len(100))
                .col(ColumnDef::new(HouseholdPeople::InSchool).boolean().not_null())
                .col(ColumnDef::new(HouseholdPeople::WorkingAway).boolean().not_null())
                .col(timestamp(HouseholdPeople::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(HouseholdPeople::Table, HouseholdPeople::HouseholdId)
                        .to(Households::Table, Households::Id),
                )
                .to_owned(),
        )
        .await?;
        indexes(
            m,
            HouseholdPeople::Table,
            vec![("idx_household_people_household", vec![HouseholdPeople::HouseholdId])],
        )
        .await?;

        m.create_table(
            Table::create()
                .table(HouseholdIncomes::Table)
                .col(ColumnDef::new(HouseholdIncomes::HouseholdId).uuid().not_null())
                .col(ColumnDef::new(HouseholdIncomes::Year).integer().not_null())
                .col(ColumnDef::new(HouseholdIncomes::PerCapitaFen).big_integer().not_null())
                .primary_key(
                    Index::create()
                        .col(HouseholdIncomes::HouseholdId)
                        .col(HouseholdIncomes::Year),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(HouseholdIncomes::Table, HouseholdIncomes::HouseholdId)
                        .to(Households::Table, Households::Id),
                )
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Cadres::Table)
                .col(ColumnDef::new(Cadres::Id).uuid().not_null().primary_key())
                .col(ColumnDef::new(Cadres::OrgId).uuid().not_null())
                .col(ColumnDef::new(Cadres::Name).string_len(50).not_null())
                .col(ColumnDef::new(Cadres::WorkUnit).string_len(100).not_null())
                .col(ColumnDef::new(Cadres::Post).string_len(100))
                .col(ColumnDef::new(Cadres::PhoneEnc).string_len(200))
                .col(ColumnDef::new(Cadres::Version).big_integer().not_null())
                .col(timestamp(Cadres::CreatedAt))
                .col(timestamp(Cadres::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Cadres::Table, Cadres::OrgId)
                        .to(Orgs::Table, Orgs::Id),
                )
                .to_owned(),
        )
        .await?;
        indexes(
            m,
            Cadres::Table,
            vec![("idx_cadres_org_name", vec![Cadres::OrgId, Cadres::Name, Cadres::Id])],
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Pairings::Table)
                .col(ColumnDef::new(Pairings::Id).uuid().not_null().primary_key())
                .col(ColumnDef::new(Pairings::HouseholdId).uuid().not_null())
                .col(ColumnDef::new(Pairings::OrgId).uuid().not_null())
                .col(ColumnDef::new(Pairings::MemberId).uuid())
                .col(ColumnDef::new(Pairings::CadreId).uuid())
                .col(ColumnDef::new(Pairings::IsPrimary).boolean().not_null())
                .col(ColumnDef::new(Pairings::StartOn).date().not_null())
                .col(ColumnDef::new(Pairings::EndOn).date())
                .col(ColumnDef::new(Pairings::EndReason).string_len(200))
                .col(timestamp(Pairings::CreatedAt))
                .check(
                    Expr::col(Pairings::MemberId)
                        .is_null()
                        .ne(Expr::col(Pairings::CadreId).is_null()),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Pairings::Table, Pairings::HouseholdId)
                        .to(Households::Table, Households::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Pairings::Table, Pairings::MemberId)
                        .to(Members::Table, Members::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Pairings::Table, Pairings::CadreId)
                        .to(Cadres::Table, Cadres::Id),
                )
                .to_owned(),
        )
        .await?;
        indexes(
            m,
            Pairings::Table,
            vec![
                ("idx_pairings_household", vec![Pairings::HouseholdId, Pairings::StartOn]),
                ("idx_pairings_member", vec![Pairings::MemberId]),
                ("idx_pairings_cadre", vec![Pairings::CadreId]),
                ("idx_pairings_org", vec![Pairings::OrgId]),
            ],
        )
        .await?;
        // The pairing rules the database itself keeps, so that two concurrent requests cannot
        // both pass a check made in code: one active pairing per (helper, household), and at
        // most one active primary pairing per household.
        let db = m.get_connection();
        for sql in [
            "CREATE UNIQUE INDEX idx_pairings_active_member ON pairings (household_id, member_id) WHERE end_on IS NULL AND member_id IS NOT NULL",
            "CREATE UNIQUE INDEX idx_pairings_active_cadre ON pairings (household_id, cadre_id) WHERE end_on IS NULL AND cadre_id IS NOT NULL",
            "CREATE UNIQUE INDEX idx_pairings_one_primary ON pairings (household_id) WHERE end_on IS NULL AND is_primary",
        ] {
            db.execute_unprepared(sql).await?;
        }

        m.create_table(
            Table::create()
                .table(HelpRecords::Table)
                .col(ColumnDef::new(HelpRecords::Id).uuid().not_null().primary_key())
                .col(ColumnDef::new(HelpRecords::PairingId).uuid().not_null())
                .col(ColumnDef::new(HelpRecords::HouseholdId).uuid().not_null())
                .col(ColumnDef::new(HelpRecords::OrgId).uuid().not_null())
                .col(ColumnDef::new(HelpRecords::MemberId).uuid())
                .col(ColumnDef::new(HelpRecords::CadreId).uuid())
                .col(ColumnDef::new(HelpRecords::Date).date().not_null())
                .col(ColumnDef::new(HelpRecords::Kind).string_len(32).not_null())
                .col(ColumnDef::new(HelpRecords::Content).string_len(2000).not_null())
                .col(ColumnDef::new(HelpRecords::AmountFen).big_integer())
                .col(ColumnDef::new(HelpRecords::Evidence).text())
                .col(ColumnDef::new(HelpRecords::RecordedBy).uuid())
                .col(timestamp(HelpRecords::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(HelpRecords::Table, HelpRecords::PairingId)
                        .to(Pairings::Table, Pairings::Id),
                )
                .to_owned(),
        )
        .await?;
        // Lists are by pairing, household, helper or subtree, newest first; coverage asks for
        // each household's latest date.
        indexes(
            m,
            HelpRecords::Table,
            vec![
                (
                    "idx_help_records_pairing",
                    vec![HelpRecords::PairingId, HelpRecords::Date, HelpRecords::Id],
                ),
                (
                    "idx_help_records_household",
                    vec![HelpRecords::HouseholdId, HelpRecords::Date, HelpRecords::Id],
                ),
                (
                    "idx_help_records_org",
                    vec![HelpRecords::OrgId, HelpRecords::Date, HelpRecords::Id],
                ),
                (
                    "idx_help_records_member",
                    vec![HelpRecords::MemberId, HelpRecords::Date, HelpRecords::Id],
                ),
                (
                    "idx_help_records_cadre",
                    vec![HelpRecords::CadreId, HelpRecords::Date, HelpRecords::Id],
                ),
                ("idx_help_records_date", vec![HelpRecords::Date, HelpRecords::Id]),
                // Coverage: each household's latest record in a subtree, from the index alone.
                (
                    "idx_help_records_org_household",
                    vec![HelpRecords::OrgId, HelpRecords::HouseholdId, HelpRecords::Date],
                ),
            ],
        )
        .await?;

        m.alter_table(
            Table::alter()
                .table(Users::Table)
                .add_column(ColumnDef::new(Users::CadreId).uuid())
                .to_owned(),
        )
        .await?;
        // One account per member and per cadre (two concurrent links cannot both pass the
        // code's check); whether a helper has an account is asked on every help record.
        for (name, col) in [
            ("idx_users_member", Users::MemberId),
            ("idx_users_cadre", Users::CadreId),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(Users::Table)
                    .col(col)
                    .unique()
                    .to_owned(),
            )
            .await?;
        }
        add_checks(db, CHECKS).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_checks(m.get_connection(), CHECKS).await?;
        for name in ["idx_users_member", "idx_users_cadre"] {
            m.drop_index(Index::drop().name(name).table(Users::Table).to_owned())
                .await?;
        }
        m.alter_table(
            Table::alter()
                .table(Users::Table)
                .drop_column(Users::CadreId)
                .to_owned(),
        )
        .await?;
        for table in [
            HelpRecords::Table.into_iden(),
            Pairings::Table.into_iden(),
            Cadres::Table.into_iden(),
            HouseholdIncomes::Table.into_iden(),
            HouseholdPeople::Table.into_iden(),
            Households::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
