//! The `ratings`, `rating_events` (timeline) and `rating_objections` tables.

pub mod rating {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "ratings")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub year: i32,
        pub subject: crate::ratings::types::RatingSubject,
        pub member_id: Option<Uuid>,
        pub subject_org_id: Option<Uuid>,
        /// The member's branch when proposed, or the rated organisation: the rating's scope.
        pub org_id: Uuid,
        pub subject_name: String,
        pub level: crate::ratings::types::RatingLevel,
        pub score: Option<i32>,
        pub remarks: Option<String>,
        /// JSON array of evidence links.
        pub evidence: Option<String>,
        pub state: crate::ratings::types::RatingState,
        pub return_reason: Option<String>,
        pub proposed_by: Uuid,
        pub decided_by: Option<Uuid>,
        /// The public notice (公示), once published.
        pub notice_starts_at: Option<ChronoDateTimeUtc>,
        pub notice_ends_at: Option<ChronoDateTimeUtc>,
        /// Objections not yet answered: a notice ends in `final` only with none open.
        pub open_objections: i32,
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
    #[sea_orm(table_name = "rating_events")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub rating_id: Uuid,
        pub kind: String,
        pub from_state: Option<crate::ratings::types::RatingState>,
        pub to_state: Option<crate::ratings::types::RatingState>,
        pub note: Option<String>,
        pub actor_user_id: Option<Uuid>,
        pub actor_name: Option<String>,
        pub occurred_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod objection {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "rating_objections")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub rating_id: Uuid,
        pub message: String,
        pub sender_name: Option<String>,
        /// Encrypted with the personal-data key.
        pub phone_enc: Option<String>,
        pub status: crate::ratings::types::ObjectionStatus,
        pub answer: Option<String>,
        pub answered_at: Option<ChronoDateTimeUtc>,
        pub answered_by: Option<Uuid>,
        pub created_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Ratings on the public star board (`noticed` or `final`) per organisation, year, subject
/// kind and level: the star board's counts read these instead of every rating of a subtree.
/// Written only by `ratings::tally`.
pub mod tally {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "rating_tallies")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub org_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub year: i32,
        #[sea_orm(primary_key, auto_increment = false)]
        pub subject: crate::ratings::types::RatingSubject,
        #[sea_orm(primary_key, auto_increment = false)]
        pub level: crate::ratings::types::RatingLevel,
        pub count: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
