//! The `users` and `grants` tables: accounts and their role grants.

pub mod user {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "users")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub username: String,
        pub password_hash: String,
        /// The organisation the account belongs to (who may manage it).
        pub org_id: Uuid,
        pub member_id: Option<Uuid>,
        /// The cadre helper (帮扶干部) this account belongs to, for cadres who are not members.
        pub cadre_id: Option<Uuid>,
        pub disabled: bool,
        /// Bumped to invalidate every token issued before.
        pub token_generation: i64,
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

pub mod grant {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "grants")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub user_id: Uuid,
        pub role: crate::auth::Role,
        pub org_id: Uuid,
        pub created_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
