//! The `households`, `household_people` and `household_incomes` tables.

pub mod household {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "households")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        /// The party branch serving the household's village: its scope.
        pub org_id: Uuid,
        pub village_id: Uuid,
        pub villager_group_id: Option<Uuid>,
        pub head_name: String,
        /// Encrypted; see `members::pii`.
        pub id_number_enc: String,
        /// Keyed hash of the head's ID number (one household per head).
        pub id_number_hash: String,
        /// Encrypted.
        pub phone_enc: Option<String>,
        pub address: Option<String>,
        pub size: i32,
        pub attribute: crate::households::types::HouseholdAttribute,
        pub main_cause: crate::households::types::PovertyCause,
        /// `,cause,cause,` (empty: none), so one `LIKE '%,x,%'` finds a cause.
        pub secondary_causes: String,
        pub identified_year: i32,
        pub status: crate::households::types::HouseholdStatus,
        pub lifted_year: Option<i32>,
        pub note: Option<String>,
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

pub mod person {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "household_people")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub household_id: Uuid,
        pub name: String,
        pub relation: crate::households::types::Relation,
        /// Encrypted.
        pub id_number_enc: Option<String>,
        pub labour: crate::households::types::LabourAbility,
        pub health: Option<String>,
        pub in_school: bool,
        pub working_away: bool,
        pub created_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod income {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "household_incomes")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub household_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub year: i32,
        pub per_capita_fen: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
