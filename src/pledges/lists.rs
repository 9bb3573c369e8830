//! Pledge lists (with CSV) and statistics.

use actix_web::{HttpRequest, HttpResponse, get, web};
use sea_orm::sea_query::{Condition, Expr, ExprTrait};
use sea_orm::{ColumnTrait, EntityTrait, Order, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::entity::pledge;
use super::lifecycle::PledgeState;
use super::types::*;
use super::{PledgeAccess, view};
use crate::auth::{AuthUser, Scope};
use crate::error::{ApiError, ErrorCode, Problem};
use crate::http::export::ExportParams;
use crate::http::pagination::keyset_after;
use crate::http::xlsx::Workbook;
use crate::http::{Json, ListQuery, Page, PageParams};
use crate::orgs::{OrgKind, queries as orgs};
use crate::state::AppState;
use crate::text;

/// SQL for the list filters, inside what the caller may read.
pub(super) async fn list_condition(
    state: &AppState,
    access: &PledgeAccess,
    f: &PledgeFilters,
) -> Result<Condition, ApiError> {
    let mut all = Condition::all();
    if let Some(org_id) = f.org_id {
        let readable = Scope::new(
            [&access.read, &access.groups]
                .into_iter()
                .flat_map(|s| s.prefixes().to_vec()),
        );
        let root = orgs::find(&state.db, &readable, org_id).await?;
        // Checked once: a subtree wholly the caller's needs no other scope filter, so the
        // cost follows the subtree, not the caller's scope.
        if !access.read.covers(&root.path) {
            all = all.add(access.visible());
        }
        // A group's pledges are its collective ones and its members' (whose org is the
        // branch, with the group's `group_id`); any other organisation's are those filed under
        // an organisation of its subtree. One condition where it can be, so the (org_id, …)
        // indexes serve it.
        all = all.add(if root.kind == crate::orgs::OrgKind::Group {
            Condition::any()
                .add(pledge::Column::OrgId.eq(root.id))
                .add(pledge::Column::GroupId.eq(root.id))
        } else {
            Scope::new([root.path]).org_condition(pledge::Column::OrgId)
        });
    } else {
        all = all.add(access.visible());
    }
    if let Some(member_id) = f.member_id {
        all = all.add(pledge::Column::MemberId.eq(member_id));
    }
    if let Some(year) = super::types::query_year(f.year)? {
        all = all.add(pledge::Column::Year.eq(year));
    }
    if let Some(kind) = f.kind {
        all = all.add(pledge::Column::Kind.eq(kind.as_str()));
    }
    if let Some(category) = &f.category {
        if !crate::http::validate::is_category_code(category) {
            return Err(ApiError::bad_request(
                ErrorCode::InvalidQuery,
                text!(
                    "category must be a category code (1–32 of a-z 0-9 _)",
                    "category 须为类别代码（1 到 32 个 a-z、0-9 或 _ 字符）"
                ),
            ));
        }
        all = all.add(pledge::Column::CategoryCode.eq(category.as_str()));
    }
    match f.state.as_deref() {
        None => {}
        Some("overdue") => all = all.add(overdue_condition()),
        Some(s) => {
            let s = PledgeState::parse(s).filter(|st| st.as_str() == s).ok_or_else(|| {
                ApiError::bad_request(
                    ErrorCode::InvalidQuery,
                    text!(
                        "state must be a pledge state or `overdue`",
                        "state 须为承诺状态或 `overdue`"
                    ),
                )
            })?;
            all = all.add(pledge::Column::State.eq(s.as_str()));
        }
    }
    Ok(all)
}

/// SQL: approved or in progress, with a due date already past.
pub fn overdue_condition() -> Condition {
    let today = crate::db::now().date_naive();
    Condition::all()
        .add(pledge::Column::State.is_in([PledgeState::Approved.as_str(), PledgeState::InProgress.as_str()]))
        .add(pledge::Column::DueOn.lt(today))
}

/// Pledges in your scope, newest first; the whole filtered list as CSV (`Accept: text/csv`) or
/// an Excel workbook (`Accept:` the xlsx type), or `?format=csv|xlsx`.
#[utoipa::path(tag = "pledges", security(("bearer" = [])), params(PledgeFilters, PageParams, ExportParams), responses(
    (status = 200, description = "One page (JSON) or the whole list (CSV or workbook)",
        content((Page<PledgeView> = "application/json"), (String = "text/csv"), (Workbook = crate::http::xlsx::MEDIA_TYPE))),
    (status = 400, description = "Unknown parameter, state or bad cursor", body = Problem, content_type = "application/problem+json"),
))]
#[get("/api/v1/pledges")]
pub(super) async fn list_pledges(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    query: ListQuery<PledgeFilters>,
) -> Result<HttpResponse, ApiError> {
    let access = PledgeAccess::of(&user);
    let condition = list_condition(&state, &access, &query.filters).await?;
    if let Some(format) = crate::http::export::wanted(&req)? {
        return Ok(super::board::export(format, state.clone(), condition));
    }
    let limit = query.page.limit()?;
    let total = if query.page.include_total() {
        Some(
            pledge::Entity::find()
                .filter(condition.clone())
                .count(&state.db)
                .await?,
        )
    } else {
        None
    };
    let mut select = pledge::Entity::find().filter(condition);
    if let Some((id,)) = query.page.after::<(Uuid,)>()? {
        select = select.filter(keyset_after(vec![(
            Expr::col(pledge::Column::Id),
            Order::Desc,
            id.into(),
        )]));
    }
    let rows = select
        .order_by_desc(pledge::Column::Id)
        .limit(limit + 1)
        .all(&state.db)
        .await?;
    let views: Vec<PledgeView> = rows.iter().map(view).collect();
    Ok(HttpResponse::Ok().json(Page::from_rows(views, limit, |p| (p.id,)).with_total(total)))
}

/// Pledge statistics for a subtree and year (承诺统计).
#[utoipa::path(tag = "pledges", security(("bearer" = [])), params(StatsParams), responses(
    (status = 200, description = "Counts", body = PledgeStats),
    (status = 404, description = "Organisation not found in your scope", body = Problem, content_type = "application/problem+json"),
))]
#[get("/api/v1/pledges/stats")]
pub(super) async fn pledge_stats(
    state: web::Data<AppState>,
    user: AuthUser,
    crate::http::Query(params): crate::http::Query<StatsParams>,
) -> Result<Json<PledgeStats>, ApiError> {
    let access = PledgeAccess::of(&user);
    let filters = PledgeFilters {
        org_id: params.org_id,
        member_id: None,
        year: params.year,
        state: None,
        category: None,
        kind: None,
    };
    let condition = list_condition(&state, &access, &filters).await?;
    let db = &state.db;
    let by_state: Vec<(String, i64)> = pledge::Entity::find()
        .select_only()
        .column(pledge::Column::State)
        .column_as(Expr::col(pledge::Column::Id).count(), "n")
        .filter(condition.clone())
        .group_by(pledge::Column::State)
        .into_tuple()
        .all(db)
        .await?;
    let count_of = |s: PledgeState| {
        by_state
            .iter()
            .find(|(k, _)| k == s.as_str())
            .map(|(_, n)| *n as u64)
            .unwrap_or(0)
    };
    let overdue = pledge::Entity::find()
        .filter(condition.clone())
        .filter(overdue_condition())
        .count(db)
        .await?;
    let mut states: Vec<StateCount> = PledgeState::ALL
        .iter()
        .map(|s| StateCount {
            state: s.as_str().into(),
            count: count_of(*s),
        })
        .collect();
    states.push(StateCount {
        state: "overdue".into(),
        count: overdue,
    });
    let total = states.iter().take(PledgeState::ALL.len()).map(|s| s.count).sum();

    let public_states: Vec<&str> = PledgeState::ALL
        .iter()
        .filter(|s| s.is_public())
        .map(|s| s.as_str())
        .collect();
    let members_with_approved: Option<i64> = pledge::Entity::find()
        .select_only()
        .column_as(Expr::col(pledge::Column::MemberId).count_distinct(), "n")
        .filter(condition.clone())
        .filter(pledge::Column::State.is_in(public_states.clone()))
        .into_tuple()
        .one(db)
        .await?;
    let public: u64 = PledgeState::ALL
        .iter()
        .filter(|s| s.is_public())
        .map(|s| count_of(*s))
        .sum();
    let kept = count_of(PledgeState::Fulfilled) + count_of(PledgeState::Evaluated);

    // Pledges per branch: a group's pledges count for its branch.
    let by_org: Vec<(Uuid, i64)> = pledge::Entity::find()
        .select_only()
        .column(pledge::Column::OrgId)
        .column_as(Expr::col(pledge::Column::Id).count(), "n")
        .filter(condition)
        .group_by(pledge::Column::OrgId)
        .into_tuple()
        .all(db)
        .await?;
    let org_rows = crate::orgs::entity::Entity::find()
        .filter(crate::orgs::entity::Column::Id.is_in(by_org.iter().map(|(id, _)| *id).collect::<Vec<_>>()))
        .all(db)
        .await?;
    let parents: Vec<Uuid> = org_rows
        .iter()
        .filter(|o| o.kind == OrgKind::Group)
        .filter_map(|o| o.parent_id)
        .collect();
    let parent_rows = crate::orgs::entity::Entity::find()
        .filter(crate::orgs::entity::Column::Id.is_in(parents))
        .all(db)
        .await?;
    let mut by_branch: Vec<BranchCount> = Vec::new();
    for (org_id, n) in by_org {
        let Some(o) = org_rows.iter().find(|o| o.id == org_id) else {
            continue;
        };
        let branch = if o.kind == OrgKind::Group {
            parent_rows.iter().find(|p| Some(p.id) == o.parent_id).unwrap_or(o)
        } else {
            o
        };
        match by_branch.iter_mut().find(|b| b.org_id == branch.id) {
            Some(b) => b.pledges += n as u64,
            None => by_branch.push(BranchCount {
                org_id: branch.id,
                org_name: branch.name.clone(),
                pledges: n as u64,
            }),
        }
    }
    by_branch.sort_by(|a, b| a.org_name.cmp(&b.org_name));
    Ok(Json(PledgeStats {
        total,
        by_state: states,
        by_branch,
        members_with_approved_pledge: members_with_approved.unwrap_or(0) as u64,
        fulfilment_rate: if public == 0 { 0.0 } else { kept as f64 / public as f64 },
    }))
}
