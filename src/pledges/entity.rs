//! The `pledges`, `pledge_events`, `pledge_feedback` and `pledge_categories` tables.

pub mod pledge {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "pledges")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub year: i32,
        pub kind: crate::pledges::types::PledgeKind,
        pub member_id: Option<Uuid>,
        /// The member's branch, or the organisation making a collective pledge.
        pub org_id: Uuid,
        /// The member's party group, or the group itself for a group's collective pledge.
        pub group_id: Option<Uuid>,
        pub title: String,
        pub content: String,
        pub category_code: String,
        pub villager_group_id: Option<Uuid>,
        pub post_id: Option<Uuid>,
        pub due_on: Option<Date>,
        pub state: crate::pledges::lifecycle::PledgeState,
        pub return_reason: Option<String>,
        pub evaluation_result: Option<crate::pledges::types::EvaluationResult>,
        pub evaluation_comment: Option<String>,
        pub progress_percent: Option<i32>,
        pub author_user_id: Uuid,
        pub version: i64,
        pub created_at: ChronoDateTimeUtc,
        pub updated_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}

    impl crate::audit::VersionedEntity for Entity {
        const ID: Column = Column::Id;
        const VERSION: Column = Column::Version;
        const UPDATED_AT: Column = Column::UpdatedAt;
    }
}

pub mod event {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "pledge_events")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub pledge_id: Uuid,
        /// `state` or `progress`.
        pub kind: String,
        pub from_state: Option<crate::pledges::lifecycle::PledgeState>,
        pub to_state: Option<crate::pledges::lifecycle::PledgeState>,
        pub note: Option<String>,
        pub percentage: Option<i32>,
        /// JSON array of evidence links.
        pub evidence: Option<String>,
        pub actor_user_id: Option<Uuid>,
        pub actor_name: Option<String>,
        pub occurred_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod feedback {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "pledge_feedback")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub pledge_id: Uuid,
        pub message: String,
        pub sender_name: Option<String>,
        /// Encrypted with the personal-data key.
        pub phone_enc: Option<String>,
        pub hidden: bool,
        pub reply: Option<String>,
        pub replied_at: Option<ChronoDateTimeUtc>,
        pub replied_by: Option<Uuid>,
        pub created_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod category {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "pledge_categories")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub code: String,
        pub label: String,
        pub sort_order: i32,
        pub active: bool,
        /// Bumped by every change; `If-Match` names it.
        pub version: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
