//! Pledges (承诺), their timeline, categories, and public supervision feedback.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PledgeCategories {
    Table,
    Code,
    Label,
    SortOrder,
    Active,
}

#[derive(DeriveIden)]
enum Pledges {
    Table,
    Id,
    Year,
    Kind,
    MemberId,
    OrgId,
    GroupId,
    Title,
    Content,
    CategoryCode,
    VillagerGroupId,
    PostId,
    DueOn,
    State,
    ReturnReason,
    EvaluationResult,
    EvaluationComment,
    ProgressPercent,
    AuthorUserId,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum PledgeEvents {
    Table,
    Id,
    PledgeId,
    Kind,
    FromState,
    ToState,
    Note,
    Percentage,
    Evidence,
    ActorUserId,
    ActorName,
    OccurredAt,
}

#[derive(DeriveIden)]
enum PledgeFeedback {
    Table,
    Id,
    PledgeId,
    Message,
    SenderName,
    PhoneEnc,
    Hidden,
    Reply,
    RepliedAt,
    RepliedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Orgs {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Members {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(PledgeCategories::Table)
                .col(
                    ColumnDef::new(PledgeCategories::Code)
                        .string_len(32)
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(PledgeCategories::Label).string_len(50).not_null())
                .col(ColumnDef::new(PledgeCategories::SortOrder).integer().not_null())
                .col(ColumnDef::new(PledgeCategories::Active).boolean().not_null())
                .to_owned(),
        )
        .await?;
        let mut insert = Query::insert()
            .into_table(PledgeCategories::Table)
            .columns([
                PledgeCategories::Code,
                PledgeCategories::Label,
                PledgeCategories::SortOrder,
                PledgeCategories::Active,
            ])
            .to_owned();
        for (i, (code, label)) in [
            ("serve_people", "服务群众"),
            ("environment", "环境整治"),
            ("infrastructure", "基础设施"),
            ("poverty_relief", "帮扶济困"),
            ("mediation", "矛盾调解"),
            ("industry", "产业发展"),
            ("other", "其他"),
        ]
        .into_iter()
        .enumerate()
        {
            insert.values_panic([code.into(), label.into(), (i as i32 + 1).into(), true.into()]);
        }
        m.exec_stmt(insert).await?;

        m.create_table(
            Table::create()
                .table(Pledges::Table)
                .col(ColumnDef::new(Pledges::Id).uuid().not_null().primary_key())
                .col(ColumnDef::new(Pledges::Year).integer().not_null())
                .col(ColumnDef::new(Pledges::Kind).string_len(16).not_null())
                .col(ColumnDef::new(Pledges::MemberId).uuid())
                .col(ColumnDef::new(Pledges::OrgId).uuid().not_null())
                .col(ColumnDef::new(Pledges::GroupId).uuid())
                .col(ColumnDef::new(Pledges::Title).string_len(100).not_null())
                .col(ColumnDef::new(Pledges::Content).string_len(2000).not_null())
                .col(ColumnDef::new(Pledges::CategoryCode).string_len(32).not_null())
                .col(ColumnDef::new(Pledges::VillagerGroupId).uuid())
                .col(ColumnDef::new(Pledges::PostId).uuid())
                .col(ColumnDef::new(Pledges::DueOn).date())
                .col(ColumnDef::new(Pledges::State).string_len(16).not_null())
                .col(ColumnDef::new(Pledges::ReturnReason).string_len(500))
                .col(ColumnDef::new(Pledges::EvaluationResult).string_len(32))
                .col(ColumnDef::new(Pledges::EvaluationComment).string_len(1000))
                .col(ColumnDef::new(Pledges::ProgressPercent).integer())
                .col(ColumnDef::new(Pledges::AuthorUserId).uuid().not_null())
                .col(ColumnDef::new(Pledges::Version).big_integer().not_null())
                .col(ColumnDef::new(Pledges::CreatedAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(Pledges::UpdatedAt).timestamp_with_time_zone().not_null())
                .foreign_key(
                    ForeignKey::create()
                        .from(Pledges::Table, Pledges::OrgId)
                        .to(Orgs::Table, Orgs::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Pledges::Table, Pledges::MemberId)
                        .to(Members::Table, Members::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Pledges::Table, Pledges::CategoryCode)
                        .to(PledgeCategories::Table, PledgeCategories::Code),
                )
                .to_owned(),
        )
        .await?;
        for (name, cols) in [
            ("idx_pledges_org_year", vec![Pledges::OrgId, Pledges::Year, Pledges::Id]),
            ("idx_pledges_member", vec![Pledges::MemberId, Pledges::Year]),
            ("idx_pledges_group", vec![Pledges::GroupId]),
            ("idx_pledges_state", vec![Pledges::State, Pledges::DueOn]),
        ] {
            let mut index = Index::create().name(name).table(Pledges::Table).to_owned();
            for col in cols {
                index.col(col);
            }
            m.create_index(index).await?;
        }

        m.create_table(
            Table::create()
                .table(PledgeEvents::Table)
                .col(ColumnDef::new(PledgeEvents::Id).uuid().not_null().primary_key())
                .col(ColumnDef::new(PledgeEvents::PledgeId).uuid().not_null())
                .col(ColumnDef::new(PledgeEvents::Kind).string_len(16).not_null())
                .col(ColumnDef::new(PledgeEvents::FromState).string_len(16))
                .col(ColumnDef::new(PledgeEvents::ToState).string_len(16))
                .col(ColumnDef::new(PledgeEvents::Note).string_len(2000))
                .col(ColumnDef::new(PledgeEvents::Percentage).integer())
                .col(ColumnDef::new(PledgeEvents::Evidence).text())
                .col(ColumnDef::new(PledgeEvents::ActorUserId).uuid())
                .col(ColumnDef::new(PledgeEvents::ActorName).string_len(64))
                .col(
                    ColumnDef::new(PledgeEvents::OccurredAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(PledgeEvents::Table, PledgeEvents::PledgeId)
                        .to(Pledges::Table, Pledges::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_pledge_events_pledge")
                .table(PledgeEvents::Table)
                .col(PledgeEvents::PledgeId)
                .col(PledgeEvents::OccurredAt)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(PledgeFeedback::Table)
                .col(ColumnDef::new(PledgeFeedback::Id).uuid().not_null().primary_key())
                .col(ColumnDef::new(PledgeFeedback::PledgeId).uuid().not_null())
                .col(ColumnDef::new(PledgeFeedback::Message).string_len(500).not_null())
                .col(ColumnDef::new(PledgeFeedback::SenderName).string_len(50))
                .col(ColumnDef::new(PledgeFeedback::PhoneEnc).string_len(200))
                .col(ColumnDef::new(PledgeFeedback::Hidden).boolean().not_null())
                .col(ColumnDef::new(PledgeFeedback::Reply).string_len(1000))
                .col(ColumnDef::new(PledgeFeedback::RepliedAt).timestamp_with_time_zone())
                .col(ColumnDef::new(PledgeFeedback::RepliedBy).uuid())
                .col(
                    ColumnDef::new(PledgeFeedback::CreatedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(PledgeFeedback::Table, PledgeFeedback::PledgeId)
                        .to(Pledges::Table, Pledges::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_pledge_feedback_pledge")
                .table(PledgeFeedback::Table)
                .col(PledgeFeedback::PledgeId)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in ["pledge_feedback", "pledge_events", "pledges", "pledge_categories"] {
            m.drop_table(Table::drop().table(Alias::new(table)).to_owned()).await?;
        }
        Ok(())
    }
}
