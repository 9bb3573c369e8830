//! Village collective finances (村集体经济): income-generating projects (产业项目) with the
//! poor households sharing in their returns, and the village ledger of income, expenditure
//! and distribution (收入, 支出, 分配), corrected by reversing records, never deleted.

use sea_orm_migration::prelude::*;

use crate::m20261130_000006_enum_checks::{add_checks, drop_checks};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The enum checks of this migration's tables, as in [`crate::ENUM_CHECKS`].
pub const CHECKS: &[(&str, &str, &[&str])] = &[
    (
        "income_projects",
        "kind",
        &[
            "photovoltaic",
            "farming",
            "rental",
            "land",
            "cooperative",
            "enterprise",
            "other",
        ],
    ),
    ("income_projects", "status", &["planned", "operating", "stopped"]),
    ("finance_records", "flow", &["income", "expenditure", "distribution"]),
    (
        "finance_records",
        "category",
        &[
            "operating",
            "contracting",
            "investment",
            "subsidy",
            "other",
            "operating_expense",
            "management_expense",
            "public_welfare",
            "other_expense",
            "villager_dividend",
            "household_dividend",
            "reserve_fund",
            "other_distribution",
        ],
    ),
];

#[derive(DeriveIden)]
enum IncomeProjects {
    Table,
    Id,
    VillageId,
    OrgId,
    Name,
    Kind,
    StartedOn,
    Partner,
    Capacity,
    CapacityUnit,
    InvestedFen,
    Status,
    Note,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum IncomeProjectHouseholds {
    Table,
    ProjectId,
    HouseholdId,
}

#[derive(DeriveIden)]
enum FinanceRecords {
    Table,
    Id,
    VillageId,
    OrgId,
    Year,
    Flow,
    Category,
    ProjectId,
    AmountFen,
    ReceivedOn,
    Note,
    ReversesId,
    ReversedById,
    RecordedBy,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Villages {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Households {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Orgs {
    Table,
    Id,
}

fn timestamp(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).timestamp_with_time_zone().not_null().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(IncomeProjects::Table)
                .col(ColumnDef::new(IncomeProjects::Id).uuid().not_null().primary_key())
                .col(ColumnDef::new(IncomeProjects::VillageId).uuid().not_null())
                .col(ColumnDef::new(IncomeProjects::OrgId).uuid().not_null())
                .col(ColumnDef::new(IncomeProjects::Name).string_len(100).not_null())
                .col(ColumnDef::new(IncomeProjects::Kind).string_len(32).not_null())
                .col(ColumnDef::new(IncomeProjects::StartedOn).date())
                .col(ColumnDef::new(IncomeProjects::Partner).string_len(100))
                .col(ColumnDef::new(IncomeProjects::Capacity).double())
                .col(ColumnDef::new(IncomeProjects::CapacityUnit).string_len(20))
                .col(ColumnDef::new(IncomeProjects::InvestedFen).big_integer())
                .col(ColumnDef::new(IncomeProjects::Status).string_len(32).not_null())
                .col(ColumnDef::new(IncomeProjects::Note).text())
                .col(ColumnDef::new(IncomeProjects::Version).big_integer().not_null())
                .col(timestamp(IncomeProjects::CreatedAt))
                .col(timestamp(IncomeProjects::UpdatedAt))
                .check(Expr::col(IncomeProjects::InvestedFen).gte(0))
                .foreign_key(
                    ForeignKey::create()
                        .from(IncomeProjects::Table, IncomeProjects::VillageId)
                        .to(Villages::Table, Villages::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(IncomeProjects::Table, IncomeProjects::OrgId)
                        .to(Orgs::Table, Orgs::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_income_projects_village")
                .table(IncomeProjects::Table)
                .col(IncomeProjects::VillageId)
                .col(IncomeProjects::Name)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_income_projects_org_name")
                .table(IncomeProjects::Table)
                .col(IncomeProjects::OrgId)
                .col(IncomeProjects::Name)
                .col(IncomeProjects::Id)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_income_projects_name")
                .table(IncomeProjects::Table)
                .col(IncomeProjects::Name)
                .col(IncomeProjects::Id)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(IncomeProjectHouseholds::Table)
                .col(ColumnDef::new(IncomeProjectHouseholds::ProjectId).uuid().not_null())
                .col(ColumnDef::new(IncomeProjectHouseholds::HouseholdId).uuid().not_null())
                .primary_key(
                    Index::create()
                        .col(IncomeProjectHouseholds::ProjectId)
                        .col(IncomeProjectHouseholds::HouseholdId),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(IncomeProjectHouseholds::Table, IncomeProjectHouseholds::ProjectId)
                        .to(IncomeProjects::Table, IncomeProjects::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(IncomeProjectHouseholds::Table, IncomeProjectHouseholds::HouseholdId)
                        .to(Households::Table, Households::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_income_project_households_household")
                .table(IncomeProjectHouseholds::Table)
                .col(IncomeProjectHouseholds::HouseholdId)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(FinanceRecords::Table)
                .col(ColumnDef::new(FinanceRecords::Id).uuid().not_null().primary_key())
                .col(ColumnDef::new(FinanceRecords::VillageId).uuid().not_null())
                .col(ColumnDef::new(FinanceRecords::OrgId).uuid().not_null())
                .col(ColumnDef::new(FinanceRecords::Year).integer().not_null())
                .col(ColumnDef::new(FinanceRecords::Flow).string_len(32).not_null())
                .col(ColumnDef::new(FinanceRecords::Category).string_len(32).not_null())
                .col(ColumnDef::new(FinanceRecords::ProjectId).uuid())
                .col(ColumnDef::new(FinanceRecords::AmountFen).big_integer().not_null())
                .col(ColumnDef::new(FinanceRecords::ReceivedOn).date().not_null())
                .col(ColumnDef::new(FinanceRecords::Note).text())
                .col(ColumnDef::new(FinanceRecords::ReversesId).uuid())
                .col(ColumnDef::new(FinanceRecords::ReversedById).uuid())
                .col(ColumnDef::new(FinanceRecords::RecordedBy).uuid())
                .col(ColumnDef::new(FinanceRecords::Version).big_integer().not_null())
                .col(timestamp(FinanceRecords::CreatedAt))
                .col(timestamp(FinanceRecords::UpdatedAt))
                .check(Expr::col(FinanceRecords::AmountFen).gt(0))
                .foreign_key(
                    ForeignKey::create()
                        .from(FinanceRecords::Table, FinanceRecords::VillageId)
                        .to(Villages::Table, Villages::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(FinanceRecords::Table, FinanceRecords::OrgId)
                        .to(Orgs::Table, Orgs::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(FinanceRecords::Table, FinanceRecords::ProjectId)
                        .to(IncomeProjects::Table, IncomeProjects::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(FinanceRecords::Table, FinanceRecords::ReversesId)
                        .to(FinanceRecords::Table, FinanceRecords::Id),
                )
                .to_owned(),
        )
        .await?;
        // A record is reversed at most once.
        m.create_index(
            Index::create()
                .name("idx_finance_records_reverses")
                .table(FinanceRecords::Table)
                .col(FinanceRecords::ReversesId)
                .unique()
                .to_owned(),
        )
        .await?;
        // A subtree's year, summed from the index alone (the summary of a county).
        m.create_index(
            Index::create()
                .name("idx_finance_records_year_org")
                .table(FinanceRecords::Table)
                .col(FinanceRecords::Year)
                .col(FinanceRecords::OrgId)
                .col(FinanceRecords::VillageId)
                .col(FinanceRecords::Category)
                .col(FinanceRecords::ProjectId)
                .col(FinanceRecords::AmountFen)
                .col(FinanceRecords::ReversesId)
                .to_owned(),
        )
        .await?;
        // One village's records, newest first (its ledger and its yearly figures).
        m.create_index(
            Index::create()
                .name("idx_finance_records_village")
                .table(FinanceRecords::Table)
                .col(FinanceRecords::VillageId)
                .col(FinanceRecords::Year)
                .col(FinanceRecords::ReceivedOn)
                .col(FinanceRecords::Id)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_finance_records_org_date")
                .table(FinanceRecords::Table)
                .col(FinanceRecords::OrgId)
                .col(FinanceRecords::ReceivedOn)
                .col(FinanceRecords::Id)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_finance_records_date")
                .table(FinanceRecords::Table)
                .col(FinanceRecords::ReceivedOn)
                .col(FinanceRecords::Id)
                .to_owned(),
        )
        .await?;
        add_checks(m.get_connection(), CHECKS).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_checks(m.get_connection(), CHECKS).await?;
        m.drop_table(Table::drop().table(FinanceRecords::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(IncomeProjectHouseholds::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(IncomeProjects::Table).to_owned())
            .await
    }
}
