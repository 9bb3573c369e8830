//! The `members`, `member_transfers` and `member_posts` tables.

pub mod member {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "members")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        /// The party branch (党支部) the member belongs to.
        pub org_id: Uuid,
        /// The party group (党小组) inside that branch, if any.
        pub group_id: Option<Uuid>,
        pub name: String,
        pub name_pinyin: String,
        pub name_initials: String,
        pub gender: crate::members::types::Gender,
        pub birth_date: Date,
        pub ethnicity: Option<String>,
        pub education: Option<crate::members::types::Education>,
        /// Encrypted; see `members::pii`.
        pub id_number_enc: String,
        /// Keyed hash of the ID number, for uniqueness and exact look-up.
        pub id_number_hash: String,
        /// Encrypted.
        pub phone_enc: Option<String>,
        pub address: Option<String>,
        pub joined_on: Date,
        pub status: crate::members::types::MemberStatus,
        pub rural: bool,
        pub specialty: Option<String>,
        pub note: Option<String>,
        pub active: bool,
        pub left_reason: Option<crate::members::types::LeftReason>,
        pub left_on: Option<Date>,
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

pub mod transfer {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "member_transfers")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub member_id: Uuid,
        pub from_org_id: Uuid,
        pub to_org_id: Uuid,
        pub from_group_id: Option<Uuid>,
        pub to_group_id: Option<Uuid>,
        pub moved_at: ChronoDateTimeUtc,
        pub actor_user_id: Option<Uuid>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod post {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "member_posts")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub member_id: Uuid,
        pub kind: crate::members::types::PostKind,
        pub title: Option<String>,
        pub duty: Option<String>,
        pub org_id: Uuid,
        pub start_on: Date,
        pub end_on: Option<Date>,
        pub created_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
