//! The `orgs` table: the organisation tree (党组织).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "orgs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub parent_id: Option<Uuid>,
    pub kind: crate::orgs::OrgKind,
    pub name: String,
    /// Materialised path `/<root>/<…>/<self>/`; a subtree is every path with this prefix.
    pub path: String,
    pub villager_group_id: Option<Uuid>,
    pub version: i64,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
    pub deleted_at: Option<ChronoDateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl crate::audit::VersionedEntity for Entity {
    const ID: Column = Column::Id;
    const VERSION: Column = Column::Version;
    const UPDATED_AT: Column = Column::UpdatedAt;
}
