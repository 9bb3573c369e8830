//! Places: villages and communities (村 / 社区), each served by a party branch, and their
//! villager groups (村民组). Pledges, households and income refer to them.

pub mod entity;
mod routes;

use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};
use uuid::Uuid;

use crate::auth::{Scope, find_placed};
use crate::error::ApiError;
use entity::{village, villager_group};
pub use routes::{VillageKind, configure};

/// A village served by a branch inside `scope`, else 404. One statement.
pub async fn find_village<C: ConnectionTrait>(db: &C, scope: &Scope, id: Uuid) -> Result<village::Model, ApiError> {
    match find_placed(
        db,
        village::Entity::find_by_id(id),
        village::Column::OrgId,
        None::<village::Column>,
    )
    .await?
    {
        Some((village, place)) if scope.covers(&place.org_path) => Ok(village),
        _ => Err(ApiError::NotFound),
    }
}

/// A villager group whose village is inside `scope`, else 404.
pub async fn find_villager_group<C: ConnectionTrait>(
    db: &C,
    scope: &Scope,
    id: Uuid,
) -> Result<villager_group::Model, ApiError> {
    let group = villager_group::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound)?;
    find_village(db, scope, group.village_id).await?;
    Ok(group)
}

/// SQL: `column` names a village inside `scope`.
fn villages_in(scope: &Scope, column: villager_group::Column) -> sea_orm::Condition {
    let villages = Query::select()
        .column(village::Column::Id)
        .from(village::Entity)
        .cond_where(scope.org_condition(village::Column::OrgId))
        .to_owned();
    sea_orm::Condition::all().add(Expr::col(column).in_subquery(villages))
}

/// How many villages an organisation serves (an organisation serving any cannot be deleted).
pub async fn count_villages_of<C: ConnectionTrait>(db: &C, org_id: Uuid) -> Result<u64, sea_orm::DbErr> {
    village::Entity::find()
        .filter(village::Column::OrgId.eq(org_id))
        .count(db)
        .await
}

/// Whether a villager group exists (its name is public information).
pub async fn villager_group_exists<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<bool, sea_orm::DbErr> {
    Ok(villager_group::Entity::find_by_id(id).count(db).await? > 0)
}
