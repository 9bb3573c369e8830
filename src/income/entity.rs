//! The `income_projects`, `income_project_households` and `finance_records` tables.

pub mod project {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "income_projects")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub village_id: Uuid,
        /// The branch serving the village: the project's scope.
        pub org_id: Uuid,
        pub name: String,
        pub kind: crate::income::types::ProjectKind,
        pub started_on: Option<Date>,
        pub partner: Option<String>,
        /// Not money: a PV station's kW, a farm's mu.
        pub capacity: Option<f64>,
        pub capacity_unit: Option<String>,
        pub invested_fen: Option<i64>,
        pub status: crate::income::types::ProjectStatus,
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

pub mod share {
    use sea_orm::entity::prelude::*;

    /// A poor household of the village receiving a share of a project's returns.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "income_project_households")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub project_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub household_id: Uuid,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod record {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "finance_records")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub village_id: Uuid,
        /// The branch serving the village: the record's scope.
        pub org_id: Uuid,
        pub year: i32,
        pub flow: crate::income::types::FinanceFlow,
        pub category: crate::income::types::FinanceCategory,
        pub project_id: Option<Uuid>,
        /// Always positive; a reversing record counts against the one it reverses.
        pub amount_fen: i64,
        pub received_on: Date,
        pub note: Option<String>,
        /// Set on a reversing record (冲销): the record it cancels.
        pub reverses_id: Option<Uuid>,
        /// Set on a reversed record: the record that cancels it.
        pub reversed_by_id: Option<Uuid>,
        pub recorded_by: Option<Uuid>,
        pub version: i64,
        pub created_at: ChronoDateTimeUtc,
        pub updated_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        /// The project the money came from (the summary's income by project kind).
        #[sea_orm(
            belongs_to = "super::project::Entity",
            from = "Column::ProjectId",
            to = "super::project::Column::Id"
        )]
        Project,
    }

    impl ActiveModelBehavior for ActiveModel {}

    impl crate::audit::VersionedEntity for Entity {
        const ID: Column = Column::Id;
        const VERSION: Column = Column::Version;
        const UPDATED_AT: Column = Column::UpdatedAt;
    }
}
