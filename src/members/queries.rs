//! Queries of member lists shared by the JSON handlers and the CSV export.

use sea_orm::sea_query::Condition;
use sea_orm::{ColumnTrait, EntityTrait, Order, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::MemberAccess;
use super::entity::member;
use super::holding_post;
use super::types::{MemberFilters, MemberSort};
use crate::error::ApiError;
use crate::http::pagination::keyset_after;
use crate::orgs::queries as orgs;
use crate::state::AppState;
use crate::text;

/// The rows a list shows: visible (or, when revealing, managed) members matching the filters.
pub async fn list_condition(
    state: &AppState,
    access: &MemberAccess,
    f: &MemberFilters,
    reveal: bool,
) -> Result<Condition, ApiError> {
    let in_scope = if reveal { access.managed() } else { access.visible() };
    let mut all = Condition::all();
    if reveal && access.manage.is_empty() {
        return Err(ApiError::Forbidden {
            detail: text!(
                "Only secretaries and administrators may reveal personal data.",
                "只有支部书记和管理员可以查看完整个人信息。"
            ),
        });
    }
    if let Some(org_id) = f.org_id {
        let readable = crate::auth::Scope::new(
            [&access.read, &access.groups]
                .into_iter()
                .flat_map(|s| s.prefixes().to_vec()),
        );
        let root = orgs::find(&state.db, &readable, org_id).await?;
        // Checked once: when the whole subtree is the caller's, the subtree alone is the
        // filter, and its cost follows the subtree, not the caller's (possibly county-wide)
        // scope.
        let covered = if reveal { &access.manage } else { &access.read }.covers(&root.path);
        if !covered {
            all = all.add(in_scope);
        }
        // Members belong to branches: a group's members are those with its `group_id`; any
        // other organisation's are those of the branches in its subtree. (One condition, not
        // an OR of both: the OR kept PostgreSQL off the (org_id, name) index, 55 ms and
        // 28,620 buffers for one branch's page in a county, against 0.2 ms and 18.)
        // A branch's are those with its `org_id`: an equality PostgreSQL plans once and
        // serves from the (org_id, name) index (the subtree's path pattern cost 0.4 ms of
        // planning on every request).
        all = all.add(match root.kind {
            crate::orgs::OrgKind::Group => Condition::all().add(member::Column::GroupId.eq(root.id)),
            crate::orgs::OrgKind::Branch => Condition::all().add(member::Column::OrgId.eq(root.id)),
            _ => crate::auth::Scope::new([root.path]).org_condition(member::Column::OrgId),
        });
    } else {
        all = all.add(in_scope);
    }
    if let Some(status) = f.status {
        all = all.add(member::Column::Status.eq(status.as_str()));
    }
    if let Some(group_id) = f.group_id {
        all = all.add(member::Column::GroupId.eq(group_id));
    }
    if let Some(active) = f.active {
        all = all.add(member::Column::Active.eq(active));
    }
    if let Some(rural) = f.rural {
        all = all.add(member::Column::Rural.eq(rural));
    }
    if let Some(kind) = f.post {
        all = all.add(holding_post(kind, crate::db::now().date_naive()));
    }
    if let Some(q) = f.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let ascii = q.to_lowercase().replace(' ', "");
        all = all.add(
            Condition::any()
                .add(member::Column::Name.contains(q))
                .add(member::Column::NamePinyin.starts_with(ascii.as_str()))
                .add(member::Column::NameInitials.starts_with(ascii.as_str())),
        );
    }
    Ok(all)
}

/// The cursor of a row: the sort, its key, and the id that breaks ties.
pub fn cursor_key(sort: MemberSort, name: String, joined_on: chrono::NaiveDate, id: Uuid) -> (String, String, Uuid) {
    match sort {
        MemberSort::Name | MemberSort::NameDesc => (format!("{sort:?}"), name, id),
        MemberSort::JoinedOn | MemberSort::JoinedOnDesc => (format!("{sort:?}"), joined_on.to_string(), id),
    }
}

/// One keyset page of members in `sort` order after `after`.
pub async fn page_rows<C: sea_orm::ConnectionTrait>(
    db: &C,
    condition: Condition,
    sort: MemberSort,
    after: Option<(String, String, Uuid)>,
    limit: u64,
) -> Result<Vec<member::Model>, ApiError> {
    use sea_orm::sea_query::Expr;
    let (column, order) = match sort {
        MemberSort::Name => (member::Column::Name, Order::Asc),
        MemberSort::NameDesc => (member::Column::Name, Order::Desc),
        MemberSort::JoinedOn => (member::Column::JoinedOn, Order::Asc),
        MemberSort::JoinedOnDesc => (member::Column::JoinedOn, Order::Desc),
    };
    let mut select = member::Entity::find().filter(condition);
    if let Some((tag, key, id)) = after {
        let invalid = || {
            ApiError::bad_request(
                crate::error::ErrorCode::InvalidCursor,
                text!("cursor belongs to another sort order", "分页游标属于另一种排序方式"),
            )
        };
        if tag != format!("{sort:?}") {
            return Err(invalid());
        }
        let value: sea_orm::Value = match sort {
            MemberSort::Name | MemberSort::NameDesc => key.into(),
            _ => chrono::NaiveDate::parse_from_str(&key, "%Y-%m-%d")
                .map_err(|_| invalid())?
                .into(),
        };
        select = select.filter(keyset_after(vec![
            (Expr::col(column), order.clone(), value),
            (Expr::col(member::Column::Id), order.clone(), id.into()),
        ]));
    }
    Ok(select
        .order_by(column, order.clone())
        .order_by(member::Column::Id, order)
        .limit(limit + 1)
        .all(db)
        .await?)
}
