//! Single records with their place in the tree, for scope checks whose cost does not grow
//! with the county.
//!
//! A record is read with the paths of the organisations it belongs to, joined by primary
//! key in the same statement; the caller's [`Scope`](super::Scope) then tests those paths
//! in memory ([`Scope::covers`](super::Scope::covers)). No subquery lists the organisations
//! of the caller's scope, so a county administrator and a branch secretary pay the same: one
//! row and one or two index probes. Lists use [`Scope::org_condition`](super::Scope) and
//! [`Scope::narrowed_to`](super::Scope::narrowed_to) instead.

use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait, IntoColumnRef, JoinType, SelectStatement};
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, FromQueryResult, QueryTrait, Select};

use crate::orgs::entity as org;

/// Where a record sits in the organisation tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// The path of the organisation the record is filed under (`/<root>/…/<org>/`).
    pub org_path: String,
    /// The path of its party group (党小组), for records that name one.
    pub group_path: Option<String>,
}

const ORG: &str = "place_org";
const GROUP: &str = "place_group";
const ORG_PATH: &str = "place_org_path";
const GROUP_PATH: &str = "place_group_path";

/// The first record `select` finds, with its [`Place`]: `org_column` is the record's
/// organisation column, `group_column` its group column if it has one. One statement. Only
/// live organisations place a record: one filed under a deleted organisation is not found,
/// and a deleted group gives no `group_path` (as the list conditions treat them).
pub async fn find_placed<E, C>(
    db: &C,
    select: Select<E>,
    org_column: impl IntoColumnRef,
    group_column: Option<impl IntoColumnRef>,
) -> Result<Option<(E::Model, Place)>, DbErr>
where
    E: EntityTrait,
    E::Model: FromQueryResult,
    C: ConnectionTrait,
{
    let mut query = select.into_query();
    join_live_org(&mut query, JoinType::InnerJoin, ORG, org_column, ORG_PATH);
    match group_column {
        Some(group_column) => join_live_org(&mut query, JoinType::LeftJoin, GROUP, group_column, GROUP_PATH),
        None => {
            query.expr_as(Expr::val(Option::<String>::None), Alias::new(GROUP_PATH));
        }
    }
    let Some(row) = db.query_one(&query.limit(1).to_owned()).await? else {
        return Ok(None);
    };
    let record = E::Model::from_query_result(&row, "")?;
    let place = Place {
        org_path: row.try_get("", ORG_PATH)?,
        group_path: row.try_get("", GROUP_PATH)?,
    };
    Ok(Some((record, place)))
}

/// Joins the live organisation `column` names, as `alias`, and selects its path as `path_as`.
fn join_live_org(query: &mut SelectStatement, join: JoinType, alias: &str, column: impl IntoColumnRef, path_as: &str) {
    query
        .join_as(
            join,
            org::Entity,
            Alias::new(alias),
            Condition::all()
                .add(Expr::col((Alias::new(alias), org::Column::Id)).equals(column))
                .add(Expr::col((Alias::new(alias), org::Column::DeletedAt)).is_null()),
        )
        .expr_as(Expr::col((Alias::new(alias), org::Column::Path)), Alias::new(path_as));
}
