//! The `cadres`, `pairings` and `help_records` tables.

pub mod cadre {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "cadres")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        /// The organisation the cadre serves: their scope.
        pub org_id: Uuid,
        pub name: String,
        pub work_unit: String,
        pub post: Option<String>,
        /// Encrypted.
        pub phone_enc: Option<String>,
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

pub mod pairing {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "pairings")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub household_id: Uuid,
        /// The household's organisation, copied for scope.
        pub org_id: Uuid,
        /// The helper: a party member, or (exactly one of the two) a cadre.
        pub member_id: Option<Uuid>,
        pub cadre_id: Option<Uuid>,
        pub is_primary: bool,
        pub start_on: Date,
        /// The last day of the pairing; `None` while active.
        pub end_on: Option<Date>,
        pub end_reason: Option<String>,
        pub created_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod help_record {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "help_records")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub pairing_id: Uuid,
        /// Copied from the pairing, for lists and coverage.
        pub household_id: Uuid,
        pub org_id: Uuid,
        pub member_id: Option<Uuid>,
        pub cadre_id: Option<Uuid>,
        pub date: Date,
        pub kind: crate::pairings::types::HelpKind,
        pub content: String,
        pub amount_fen: Option<i64>,
        /// JSON array of evidence links.
        pub evidence: Option<String>,
        /// The account that logged it.
        pub recorded_by: Option<Uuid>,
        pub created_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
