//! The `audit_events` table (append-only, hash-chained), its one-row head, and
//! `audit_pending`, where an event waits from its write's commit until it is chained.

pub mod event {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "audit_events")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub seq: i64,
        pub id: Uuid,
        pub occurred_at: ChronoDateTimeUtc,
        pub actor_user_id: Option<Uuid>,
        pub actor_role: Option<String>,
        pub action: String,
        pub entity_type: String,
        pub entity_id: Option<String>,
        pub org_id: Option<Uuid>,
        /// `{"before": {…}, "after": {…}}` of the changed fields, as hashed (kept as text so
        /// the bytes never change).
        pub changes: String,
        pub request_id: Option<String>,
        pub client_ip: Option<String>,
        pub outcome: String,
        pub prev_hash: String,
        pub hash: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod head {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "audit_head")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: i32,
        pub seq: i64,
        pub hash: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod pending {
    use sea_orm::entity::prelude::*;

    /// An event committed with its write and not yet on the chain: the event's fields without
    /// its place in the chain (`seq`, `prev_hash`, `hash`), which the move onto the chain
    /// gives it.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "audit_pending")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub pending_seq: i64,
        pub id: Uuid,
        pub occurred_at: ChronoDateTimeUtc,
        pub actor_user_id: Option<Uuid>,
        pub actor_role: Option<String>,
        pub action: String,
        pub entity_type: String,
        pub entity_id: Option<String>,
        pub org_id: Option<Uuid>,
        pub changes: String,
        pub request_id: Option<String>,
        pub client_ip: Option<String>,
        pub outcome: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
