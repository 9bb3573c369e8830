//! `/api/v1/pledges`: writing, reviewing, keeping and evaluating pledges; their timeline,
//! statistics, categories and the branch's handling of public feedback.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use sea_orm::sea_query::{Condition, Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, Order, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait,
};
use uuid::Uuid;

use super::entity::{category, event, feedback, pledge};
use super::lifecycle::{PledgeState, Transition};
use super::types::*;
use super::{PledgeAccess, Relation, check_category, find, record_event, state_of, view};
use crate::audit::{self, Event};
use crate::auth::{AuthUser, Scope};
use crate::error::{ApiError, ErrorCode, FieldError, Problem};
use crate::http::conditional::{applied, etag};
use crate::http::extract::OptionalJson;
use crate::http::pagination::keyset_after;
use crate::http::validate::short_text;
use crate::http::{Claim, IdempotencyKey, IfMatch, Json, ListQuery, Page, PageParams, StoredResponse, Versioned};
use crate::members::{self, MemberAccess};
use crate::orgs::{OrgKind, queries as orgs};
use crate::state::AppState;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_pledge)
        .service(list_pledges)
        .service(pledge_stats)
        .service(get_pledge)
        .service(update_pledge)
        .service(add_progress)
        .service(timeline)
        .service(list_feedback)
        .service(reply_feedback)
        .service(feedback_visibility)
        .service(transition)
        .service(create_category)
        .service(update_category);
    super::board::configure(cfg);
}

fn invalid(pointer: &str, code: &'static str, message: &str) -> ApiError {
    ApiError::invalid_field(pointer, code, message.to_owned())
}

/// Write a pledge (作出承诺), as a draft. A member writes their own; a secretary or
/// administrator may write a member's or an organisation's (collective). Accepts `Idempotency-Key`.
#[utoipa::path(tag = "pledges", security(("bearer" = [])), request_body = NewPledge,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    responses(
        (status = 201, description = "Created as a draft", body = PledgeView, headers(("Location" = String), ("ETag" = String))),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not yours to write", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Member or organisation not found in your scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not valid", body = Problem, content_type = "application/problem+json"),
))]
#[post("/api/v1/pledges")]
async fn create_pledge(
    state: web::Data<AppState>,
    user: AuthUser,
    key: IdempotencyKey,
    Json(body): Json<NewPledge>,
) -> Result<HttpResponse, ApiError> {
    let title = short_text(&body.title, "/title", 100)?;
    let content = short_text(&body.content, "/content", 2000)?;
    if !(2000..=2100).contains(&body.year) {
        return Err(invalid("/year", "out_of_range", "must be between 2000 and 2100"));
    }
    check_category(&state.db, &body.category).await?;
    if let Some(vg) = body.villager_group_id
        && !crate::places::villager_group_exists(&state.db, vg).await?
    {
        return Err(invalid("/villager_group_id", "not_found", "no such villager group"));
    }
    let kind = body.kind.unwrap_or(PledgeKind::Individual);
    let (member_id, org_id, group_id) = match kind {
        PledgeKind::Individual => {
            if body.org_id.is_some() {
                return Err(invalid(
                    "/org_id",
                    "not_allowed",
                    "an individual pledge belongs to its member's branch",
                ));
            }
            let member_id = body.member_id.or(user.principal.member_id).ok_or_else(|| {
                invalid(
                    "/member_id",
                    "required",
                    "your account is not linked to a member; name the member",
                )
            })?;
            let access = MemberAccess::of(&user);
            let m = members::find(&state.db, &access, member_id).await?;
            if Some(m.id) != user.principal.member_id && !members::manages(&state.db, &access, m.id).await? {
                return Err(ApiError::Forbidden {
                    detail: "Only the member or their branch may write this pledge.".into(),
                });
            }
            if !m.active {
                return Err(invalid("/member_id", "inactive", "this member has left"));
            }
            if let Some(post_id) = body.post_id {
                let held = members::entity::post::Entity::find_by_id(post_id)
                    .filter(members::entity::post::Column::MemberId.eq(m.id))
                    .count(&state.db)
                    .await?;
                if held == 0 {
                    return Err(invalid("/post_id", "not_found", "not one of the member's posts"));
                }
            }
            (Some(m.id), m.org_id, m.group_id)
        }
        PledgeKind::Collective => {
            if body.member_id.is_some() || body.post_id.is_some() {
                return Err(invalid(
                    "/member_id",
                    "not_allowed",
                    "a collective pledge has no member or post",
                ));
            }
            let org_id = body
                .org_id
                .ok_or_else(|| invalid("/org_id", "required", "name the organisation making it"))?;
            let org = orgs::find(&state.db, &user.scope(crate::auth::Access::MANAGE), org_id).await?;
            let group = (org.kind == OrgKind::Group).then_some(org.id);
            (None, org.id, group)
        }
    };
    let ticket = match key.claim(&state.db, &user.id().to_string()).await? {
        Claim::Replay(stored) => return Ok(stored),
        Claim::Proceed(ticket) => ticket,
    };
    let now = crate::db::now();
    let row = pledge::Model {
        id: Uuid::now_v7(),
        year: body.year,
        kind,
        member_id,
        org_id,
        group_id,
        title,
        content,
        category_code: body.category,
        villager_group_id: body.villager_group_id,
        post_id: body.post_id,
        due_on: body.due_on,
        state: PledgeState::Draft,
        return_reason: None,
        evaluation_result: None,
        evaluation_comment: None,
        progress_percent: None,
        author_user_id: user.id(),
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let txn = state.db.begin().await?;
    pledge::Entity::insert(active(&row))
        .exec_without_returning(&txn)
        .await?;
    record_event(
        &txn,
        row.id,
        "state",
        None,
        Some(PledgeState::Draft),
        None,
        None,
        &[],
        &user,
    )
    .await?;
    let v = view(&row);
    audit::record(
        &txn,
        &user.audit,
        Event::new("pledge.create", "pledge", row.id).org(row.org_id).after(&v),
    )
    .await?;
    let response = StoredResponse::json(StatusCode::CREATED, &v)?
        .location(format!("/api/v1/pledges/{}", row.id))
        .header(header::ETAG, etag(row.version));
    ticket.commit(txn, response).await
}

fn active(p: &pledge::Model) -> pledge::ActiveModel {
    pledge::ActiveModel {
        id: Set(p.id),
        year: Set(p.year),
        kind: Set(p.kind),
        member_id: Set(p.member_id),
        org_id: Set(p.org_id),
        group_id: Set(p.group_id),
        title: Set(p.title.clone()),
        content: Set(p.content.clone()),
        category_code: Set(p.category_code.clone()),
        villager_group_id: Set(p.villager_group_id),
        post_id: Set(p.post_id),
        due_on: Set(p.due_on),
        state: Set(p.state),
        return_reason: Set(p.return_reason.clone()),
        evaluation_result: Set(p.evaluation_result),
        evaluation_comment: Set(p.evaluation_comment.clone()),
        progress_percent: Set(p.progress_percent),
        author_user_id: Set(p.author_user_id),
        version: Set(p.version),
        created_at: Set(p.created_at),
        updated_at: Set(p.updated_at),
    }
}

/// Stores `updated` if the pledge is still at `current`'s version and state.
async fn save<C: sea_orm::ConnectionTrait>(
    db: &C,
    current: &pledge::Model,
    mut updated: pledge::Model,
) -> Result<pledge::Model, ApiError> {
    updated.version = current.version + 1;
    updated.updated_at = crate::db::now();
    let mut model = active(&updated);
    model.id = sea_orm::ActiveValue::Unchanged(updated.id);
    let res = pledge::Entity::update_many()
        .set(model)
        .filter(pledge::Column::Id.eq(current.id))
        .filter(pledge::Column::Version.eq(current.version))
        .exec(db)
        .await?;
    applied(res.rows_affected, current.version)?;
    Ok(updated)
}

/// SQL for the list filters, inside what the caller may read.
async fn list_condition(state: &AppState, access: &PledgeAccess, f: &PledgeFilters) -> Result<Condition, ApiError> {
    let mut all = Condition::all().add(access.visible());
    if let Some(org_id) = f.org_id {
        let readable = Scope::new(
            [&access.read, &access.groups]
                .into_iter()
                .flat_map(|s| s.prefixes().to_vec()),
        );
        let root = orgs::find(&state.db, &readable, org_id).await?;
        // A group's pledges are its collective ones and its members' (whose org is the branch).
        let subtree = Scope::new([root.path]);
        all = all.add(
            Condition::any()
                .add(subtree.org_condition(pledge::Column::OrgId))
                .add(subtree.org_condition(pledge::Column::GroupId)),
        );
    }
    if let Some(member_id) = f.member_id {
        all = all.add(pledge::Column::MemberId.eq(member_id));
    }
    if let Some(year) = f.year {
        all = all.add(pledge::Column::Year.eq(year));
    }
    if let Some(kind) = f.kind {
        all = all.add(pledge::Column::Kind.eq(kind.as_str()));
    }
    if let Some(category) = &f.category {
        all = all.add(pledge::Column::CategoryCode.eq(category.as_str()));
    }
    match f.state.as_deref() {
        None => {}
        Some("overdue") => all = all.add(overdue_condition()),
        Some(s) => {
            let s = PledgeState::parse(s).filter(|st| st.as_str() == s).ok_or_else(|| {
                ApiError::bad_request(ErrorCode::InvalidQuery, "state must be a pledge state or `overdue`")
            })?;
            all = all.add(pledge::Column::State.eq(s.as_str()));
        }
    }
    Ok(all)
}

/// SQL: approved or in progress, with a due date already past.
pub(super) fn overdue_condition() -> Condition {
    let today = crate::db::now().date_naive();
    Condition::all()
        .add(pledge::Column::State.is_in([PledgeState::Approved.as_str(), PledgeState::InProgress.as_str()]))
        .add(pledge::Column::DueOn.lt(today))
}

/// Pledges in your scope, newest first; `Accept: text/csv` for the whole filtered list.
#[utoipa::path(tag = "pledges", security(("bearer" = [])), params(PledgeFilters, PageParams), responses(
    (status = 200, description = "One page (JSON) or the whole list (CSV)",
        content((Page<PledgeView> = "application/json"), (String = "text/csv"))),
    (status = 400, description = "Unknown parameter, state or bad cursor", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
))]
#[get("/api/v1/pledges")]
async fn list_pledges(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    query: ListQuery<PledgeFilters>,
) -> Result<HttpResponse, ApiError> {
    let access = PledgeAccess::of(&user);
    let condition = list_condition(&state, &access, &query.filters).await?;
    let wants_csv = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/csv"));
    if wants_csv {
        return Ok(super::board::export_csv(state.clone(), condition));
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
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "Organisation not found in your scope", body = Problem, content_type = "application/problem+json"),
))]
#[get("/api/v1/pledges/stats")]
async fn pledge_stats(
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

/// One pledge.
#[utoipa::path(tag = "pledges", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, description = "The pledge", body = PledgeView, headers(("ETag" = String))),
    (status = 304, description = "Unchanged since If-None-Match"),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "Not found in your scope", body = Problem, content_type = "application/problem+json"),
))]
#[get("/api/v1/pledges/{id}")]
async fn get_pledge(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> Result<Versioned<PledgeView>, ApiError> {
    let p = find(&state.db, &PledgeAccess::of(&user), *id).await?;
    Ok(Versioned::ok(p.version, view(&p)))
}

/// Edit a draft or returned pledge (its author or the branch). Requires `If-Match`.
#[utoipa::path(tag = "pledges", security(("bearer" = [])), request_body = PledgePatch,
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag from your last read")),
    responses(
        (status = 200, description = "Changed", body = PledgeView, headers(("ETag" = String))),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not yours to edit", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not found in your scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Only drafts and returned pledges can be edited", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since your read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not valid", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
))]
#[patch("/api/v1/pledges/{id}")]
async fn update_pledge(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    Json(patch): Json<PledgePatch>,
) -> Result<Versioned<PledgeView>, ApiError> {
    let access = PledgeAccess::of(&user);
    let txn = state.db.begin().await?;
    let current = find(&txn, &access, *id).await?;
    let rel = Relation::of(&txn, &access, &current).await?;
    if !(rel.author || rel.manager) {
        return Err(ApiError::Forbidden {
            detail: "Only the pledge's author or its branch may edit it.".into(),
        });
    }
    if_match.check(current.version)?;
    if !state_of(&current).is_editable() {
        return Err(ApiError::conflict("Only draft and returned pledges can be edited."));
    }
    let mut updated = current.clone();
    if let Some(title) = &patch.title {
        updated.title = short_text(title, "/title", 100)?;
    }
    if let Some(content) = &patch.content {
        updated.content = short_text(content, "/content", 2000)?;
    }
    if let Some(category) = &patch.category {
        check_category(&txn, category).await?;
        updated.category_code = category.clone();
    }
    if let Some(vg) = patch.villager_group_id {
        if let Some(vg) = vg
            && !crate::places::villager_group_exists(&txn, vg).await?
        {
            return Err(invalid("/villager_group_id", "not_found", "no such villager group"));
        }
        updated.villager_group_id = vg;
    }
    if let Some(post_id) = patch.post_id {
        if post_id.is_some() && current.member_id.is_none() {
            return Err(invalid("/post_id", "not_allowed", "a collective pledge has no post"));
        }
        if let (Some(post_id), Some(member_id)) = (post_id, current.member_id) {
            let held = members::entity::post::Entity::find_by_id(post_id)
                .filter(members::entity::post::Column::MemberId.eq(member_id))
                .count(&txn)
                .await?;
            if held == 0 {
                return Err(invalid("/post_id", "not_found", "not one of the member's posts"));
            }
        }
        updated.post_id = post_id;
    }
    if let Some(due_on) = patch.due_on {
        updated.due_on = due_on;
    }
    let saved = save(&txn, &current, updated).await?;
    let (before, after) = (view(&current), view(&saved));
    audit::record(
        &txn,
        &user.audit,
        Event::new("pledge.update", "pledge", saved.id)
            .org(saved.org_id)
            .before(&before)
            .after(&after),
    )
    .await?;
    txn.commit().await?;
    Ok(Versioned::ok(saved.version, after))
}

/// Move a pledge along its lifecycle: `submit` (author; the branch for collective pledges),
/// `approve` / `return` (with `reason`) / `evaluate` (with `result`) by the branch, never on
/// your own pledge; `start`, `fulfil`, `withdraw` by the author or the branch. A transition not
/// allowed from the current state is 409 listing the allowed ones. The body is optional.
#[utoipa::path(tag = "pledges", security(("bearer" = [])), request_body(content = TransitionRequest, description = "Optional"),
    params(("id" = Uuid, Path), ("transition" = Transition, Path, description = "submit, approve, return, start, fulfil, evaluate or withdraw")),
    responses(
        (status = 200, description = "Done", body = PledgeView, headers(("ETag" = String))),
        (status = 400, description = "Unknown transition", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not yours to do (e.g. approving your own pledge)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not found in your scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not allowed from the current state; `allowed` lists what is", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Missing reason or result", body = Problem, content_type = "application/problem+json"),
))]
#[post("/api/v1/pledges/{id}/{transition}")]
async fn transition(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Transition)>,
    OptionalJson(body): OptionalJson<TransitionRequest>,
) -> Result<Versioned<PledgeView>, ApiError> {
    let (id, t) = path.into_inner();
    let access = PledgeAccess::of(&user);
    let txn = state.db.begin().await?;
    let current = find(&txn, &access, id).await?;
    let rel = Relation::of(&txn, &access, &current).await?;
    let collective = current.member_id.is_none();
    let wrote_it = current.author_user_id == user.id();
    let member_has_account = match current.member_id {
        Some(member_id) => {
            crate::users::entity::user::Entity::find()
                .filter(crate::users::entity::user::Column::MemberId.eq(member_id))
                .count(&txn)
                .await?
                > 0
        }
        None => false,
    };
    let may = match t {
        // The member submits their own; the branch submits what it wrote: collective pledges,
        // or a pledge for a member who has no account to submit it with.
        Transition::Submit => rel.author || (rel.manager && (collective || (wrote_it && !member_has_account))),
        // Nobody reviews their own pledge, nor a member's pledge they wrote themselves (a
        // collective pledge is the branch's own business: its writer may review it).
        Transition::Approve | Transition::Return | Transition::Evaluate => {
            rel.manager && !rel.author && (collective || !wrote_it)
        }
        Transition::Start | Transition::Fulfil | Transition::Withdraw => rel.author || rel.manager,
    };
    if !may {
        let detail = if rel.manager && (rel.author || (wrote_it && !collective)) {
            "Nobody reviews or evaluates their own pledge."
        } else {
            "Your role may not do this to this pledge."
        };
        return Err(ApiError::Forbidden { detail: detail.into() });
    }
    let from = state_of(&current);
    let Some(to) = from.after(t) else {
        return Err(ApiError::InvalidTransition {
            from: from.as_str(),
            allowed: from.allowed().iter().map(|t| t.as_str()).collect(),
        });
    };
    let note = body.note.as_deref().map(|n| short_text(n, "/note", 2000)).transpose()?;
    let mut updated = current.clone();
    updated.state = to;
    let mut timeline_note = note;
    match t {
        Transition::Return => {
            let reason = body
                .reason
                .as_deref()
                .ok_or_else(|| invalid("/reason", "required", "say why the pledge is returned"))?;
            let reason = short_text(reason, "/reason", 500)?;
            timeline_note = Some(reason.clone());
            updated.return_reason = Some(reason);
        }
        Transition::Approve => updated.return_reason = None,
        Transition::Evaluate => {
            let result = body
                .result
                .ok_or_else(|| invalid("/result", "required", "give the evaluation's result"))?;
            let comment = body
                .comment
                .as_deref()
                .map(|c| short_text(c, "/comment", 1000))
                .transpose()?;
            updated.evaluation_result = Some(result);
            updated.evaluation_comment = comment.clone();
            timeline_note = comment.or(timeline_note);
        }
        Transition::Fulfil => updated.progress_percent = Some(100),
        _ => {}
    }
    let saved = save(&txn, &current, updated).await?;
    record_event(
        &txn,
        saved.id,
        "state",
        Some(from),
        Some(to),
        timeline_note,
        None,
        &[],
        &user,
    )
    .await?;
    let (before, after) = (view(&current), view(&saved));
    let action = match t {
        Transition::Submit => "pledge.submit",
        Transition::Approve => "pledge.approve",
        Transition::Return => "pledge.return",
        Transition::Start => "pledge.start",
        Transition::Fulfil => "pledge.fulfil",
        Transition::Evaluate => "pledge.evaluate",
        Transition::Withdraw => "pledge.withdraw",
    };
    audit::record(
        &txn,
        &user.audit,
        Event::new(action, "pledge", saved.id)
            .org(saved.org_id)
            .before(&before)
            .after(&after),
    )
    .await?;
    txn.commit().await?;
    Ok(Versioned::ok(saved.version, after))
}

/// Report progress (践诺进展) on an approved or in-progress pledge: the author, the branch,
/// or the leader of the member's group.
#[utoipa::path(tag = "pledges", security(("bearer" = [])), request_body = NewProgress, params(("id" = Uuid, Path)),
    responses(
        (status = 201, description = "Recorded; the pledge as it is now", body = PledgeView),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not yours to report", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not found in your scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not approved or in progress", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not valid", body = Problem, content_type = "application/problem+json"),
))]
#[post("/api/v1/pledges/{id}/progress")]
async fn add_progress(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    Json(body): Json<NewProgress>,
) -> Result<HttpResponse, ApiError> {
    let note = short_text(&body.note, "/note", 2000)?;
    let mut errors = Vec::new();
    if body.percentage.is_some_and(|p| !(0..=100).contains(&p)) {
        errors.push(FieldError::body("/percentage", "out_of_range", "must be 0 to 100"));
    }
    if body.evidence.len() > 10 {
        errors.push(FieldError::body("/evidence", "too_many", "at most 10 links"));
    }
    for (i, link) in body.evidence.iter().enumerate() {
        if !(link.starts_with("https://") || link.starts_with("http://"))
            || link.len() > 500
            || link.chars().any(char::is_whitespace)
        {
            errors.push(FieldError::body(
                format!("/evidence/{i}"),
                "format",
                "must be an http(s) URL of at most 500 characters",
            ));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let access = PledgeAccess::of(&user);
    let txn = state.db.begin().await?;
    let current = find(&txn, &access, *id).await?;
    let rel = Relation::of(&txn, &access, &current).await?;
    if !(rel.author || rel.manager || rel.group_leader) {
        return Err(ApiError::Forbidden {
            detail: "Only the author, the branch or the group leader report progress.".into(),
        });
    }
    if !matches!(state_of(&current), PledgeState::Approved | PledgeState::InProgress) {
        return Err(ApiError::conflict(
            "Progress is reported on approved or in-progress pledges.",
        ));
    }
    let mut updated = current.clone();
    if body.percentage.is_some() {
        updated.progress_percent = body.percentage;
    }
    let saved = save(&txn, &current, updated).await?;
    record_event(
        &txn,
        saved.id,
        "progress",
        None,
        None,
        Some(note.clone()),
        body.percentage,
        &body.evidence,
        &user,
    )
    .await?;
    let event = Event::new("pledge.progress", "pledge", saved.id)
        .org(saved.org_id)
        .after(serde_json::json!({"note": note, "percentage": body.percentage}));
    audit::record(&txn, &user.audit, event).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created()
        .insert_header((header::ETAG, etag(saved.version)))
        .json(view(&saved)))
}

/// Every state change and progress report of a pledge, oldest first, with who and when.
#[utoipa::path(tag = "pledges", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, description = "The timeline", body = crate::members::types::Items<TimelineEntry>),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "Not found in your scope", body = Problem, content_type = "application/problem+json"),
))]
#[get("/api/v1/pledges/{id}/timeline")]
async fn timeline(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> Result<Json<crate::members::types::Items<TimelineEntry>>, ApiError> {
    let p = find(&state.db, &PledgeAccess::of(&user), *id).await?;
    let rows = event::Entity::find()
        .filter(event::Column::PledgeId.eq(p.id))
        .order_by_asc(event::Column::OccurredAt)
        .order_by_asc(event::Column::Id)
        .all(&state.db)
        .await?;
    let items = rows
        .into_iter()
        .map(|e| TimelineEntry {
            id: e.id,
            kind: e.kind,
            from_state: e.from_state,
            to_state: e.to_state,
            note: e.note,
            percentage: e.percentage,
            evidence: e
                .evidence
                .and_then(|j| serde_json::from_str(&j).ok())
                .unwrap_or_default(),
            actor_user_id: e.actor_user_id,
            actor_name: e.actor_name,
            occurred_at: e.occurred_at,
        })
        .collect();
    Ok(Json(crate::members::types::Items { items }))
}

fn feedback_view(f: feedback::Model, keys: &crate::members::pii::DataKeys) -> FeedbackView {
    let phone = f
        .phone_enc
        .as_ref()
        .and_then(|p| keys.decrypt(p, &format!("feedback:{}:phone", f.id)));
    FeedbackView {
        id: f.id,
        pledge_id: f.pledge_id,
        message: f.message,
        sender_name: f.sender_name,
        phone: phone.map(|p| crate::members::pii::mask_phone(&p)),
        hidden: f.hidden,
        reply: f.reply,
        replied_at: f.replied_at,
        created_at: f.created_at,
    }
}

/// Supervision feedback on a pledge (群众监督), newest first; phones masked.
#[utoipa::path(tag = "pledges", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, description = "The feedback", body = crate::members::types::Items<FeedbackView>),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Role may not read feedback", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "Not found in your scope", body = Problem, content_type = "application/problem+json"),
))]
#[get("/api/v1/pledges/{id}/feedback")]
async fn list_feedback(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> Result<Json<crate::members::types::Items<FeedbackView>>, ApiError> {
    let p = find(&state.db, &PledgeAccess::of(&user), *id).await?;
    let rows = feedback::Entity::find()
        .filter(feedback::Column::PledgeId.eq(p.id))
        .order_by_desc(feedback::Column::CreatedAt)
        .all(&state.db)
        .await?;
    Ok(Json(crate::members::types::Items {
        items: rows.into_iter().map(|f| feedback_view(f, &state.data_keys)).collect(),
    }))
}

async fn managed_feedback(
    state: &AppState,
    user: &AuthUser,
    pledge_id: Uuid,
    feedback_id: Uuid,
) -> Result<(pledge::Model, feedback::Model), ApiError> {
    let access = PledgeAccess::of(user);
    let p = find(&state.db, &access, pledge_id).await?;
    if !Relation::of(&state.db, &access, &p).await?.manager {
        return Err(ApiError::Forbidden {
            detail: "Only the branch handles feedback.".into(),
        });
    }
    let f = feedback::Entity::find_by_id(feedback_id)
        .filter(feedback::Column::PledgeId.eq(p.id))
        .one(&state.db)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok((p, f))
}

/// Reply to feedback; replied feedback that is not hidden shows on the public board.
#[utoipa::path(tag = "pledges", security(("bearer" = [])), request_body = FeedbackReply,
    params(("id" = Uuid, Path), ("feedback_id" = Uuid, Path)),
    responses(
        (status = 200, description = "Replied", body = FeedbackView),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Only the branch", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not found in your scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not valid", body = Problem, content_type = "application/problem+json"),
))]
#[post("/api/v1/pledges/{id}/feedback/{feedback_id}/reply")]
async fn reply_feedback(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
    Json(body): Json<FeedbackReply>,
) -> Result<Json<FeedbackView>, ApiError> {
    let (pledge_id, feedback_id) = path.into_inner();
    let reply = short_text(&body.reply, "/reply", 1000)?;
    let (p, f) = managed_feedback(&state, &user, pledge_id, feedback_id).await?;
    let txn = state.db.begin().await?;
    let now = crate::db::now();
    feedback::Entity::update_many()
        .col_expr(feedback::Column::Reply, Expr::value(reply.clone()))
        .col_expr(feedback::Column::RepliedAt, Expr::value(now))
        .col_expr(feedback::Column::RepliedBy, Expr::value(user.id()))
        .filter(feedback::Column::Id.eq(f.id))
        .exec(&txn)
        .await?;
    let event = Event::new("feedback.reply", "pledge_feedback", f.id)
        .org(p.org_id)
        .after(serde_json::json!({"reply": reply}));
    audit::record(&txn, &user.audit, event).await?;
    txn.commit().await?;
    let mut updated = f;
    updated.reply = Some(reply);
    updated.replied_at = Some(now);
    Ok(Json(feedback_view(updated, &state.data_keys)))
}

/// Hide or show feedback on the public board (moderation).
#[utoipa::path(tag = "pledges", security(("bearer" = [])), request_body = FeedbackVisibility,
    params(("id" = Uuid, Path), ("feedback_id" = Uuid, Path)),
    responses(
        (status = 200, description = "Changed", body = FeedbackView),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Only the branch", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not found in your scope", body = Problem, content_type = "application/problem+json"),
))]
#[post("/api/v1/pledges/{id}/feedback/{feedback_id}/visibility")]
async fn feedback_visibility(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
    Json(body): Json<FeedbackVisibility>,
) -> Result<Json<FeedbackView>, ApiError> {
    let (pledge_id, feedback_id) = path.into_inner();
    let (p, f) = managed_feedback(&state, &user, pledge_id, feedback_id).await?;
    let txn = state.db.begin().await?;
    feedback::Entity::update_many()
        .col_expr(feedback::Column::Hidden, Expr::value(body.hidden))
        .filter(feedback::Column::Id.eq(f.id))
        .exec(&txn)
        .await?;
    let action = if body.hidden { "feedback.hide" } else { "feedback.show" };
    audit::record(
        &txn,
        &user.audit,
        Event::new(action, "pledge_feedback", f.id).org(p.org_id),
    )
    .await?;
    txn.commit().await?;
    let mut updated = f;
    updated.hidden = body.hidden;
    Ok(Json(feedback_view(updated, &state.data_keys)))
}

fn category_view(c: category::Model) -> CategoryView {
    CategoryView {
        code: c.code,
        label: c.label,
        sort_order: c.sort_order,
        active: c.active,
    }
}

/// Add a pledge category (town administrators).
#[utoipa::path(tag = "pledges", security(("bearer" = [])), request_body = NewCategory, responses(
    (status = 201, description = "Created", body = CategoryView),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Town administrators only", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "Code taken", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "Not valid", body = Problem, content_type = "application/problem+json"),
))]
#[post("/api/v1/pledge-categories")]
async fn create_category(
    state: web::Data<AppState>,
    user: AuthUser,
    Json(body): Json<NewCategory>,
) -> Result<HttpResponse, ApiError> {
    let code = body.code.trim().to_owned();
    if code.is_empty()
        || code.len() > 32
        || !code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(invalid("/code", "format", "1–32 of a-z, 0-9 and _"));
    }
    let label = short_text(&body.label, "/label", 50)?;
    let txn = state.db.begin().await?;
    if category::Entity::find_by_id(code.clone()).count(&txn).await? > 0 {
        return Err(ApiError::conflict("A category with this code exists."));
    }
    let row = category::Model {
        code,
        label,
        sort_order: body.sort_order.unwrap_or(100),
        active: true,
    };
    category::Entity::insert(category::ActiveModel {
        code: Set(row.code.clone()),
        label: Set(row.label.clone()),
        sort_order: Set(row.sort_order),
        active: Set(true),
    })
    .exec_without_returning(&txn)
    .await?;
    let event = Event::new("pledge_category.create", "pledge_category", &row.code)
        .after(serde_json::json!({"label": row.label}));
    audit::record(&txn, &user.audit, event).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(category_view(row)))
}

/// Rename, reorder or retire a pledge category (town administrators).
#[utoipa::path(tag = "pledges", security(("bearer" = [])), request_body = CategoryPatch, params(("code" = String, Path)),
    responses(
        (status = 200, description = "Changed", body = CategoryView),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Town administrators only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such category", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not valid", body = Problem, content_type = "application/problem+json"),
))]
#[patch("/api/v1/pledge-categories/{code}")]
async fn update_category(
    state: web::Data<AppState>,
    user: AuthUser,
    code: web::Path<String>,
    Json(body): Json<CategoryPatch>,
) -> Result<Json<CategoryView>, ApiError> {
    let txn = state.db.begin().await?;
    let mut row = category::Entity::find_by_id(code.into_inner())
        .one(&txn)
        .await?
        .ok_or(ApiError::NotFound)?;
    let before = category_view(row.clone());
    if let Some(label) = &body.label {
        row.label = short_text(label, "/label", 50)?;
    }
    if let Some(order) = body.sort_order {
        row.sort_order = order;
    }
    if let Some(active) = body.active {
        row.active = active;
    }
    category::Entity::update_many()
        .col_expr(category::Column::Label, Expr::value(row.label.clone()))
        .col_expr(category::Column::SortOrder, Expr::value(row.sort_order))
        .col_expr(category::Column::Active, Expr::value(row.active))
        .filter(category::Column::Code.eq(row.code.clone()))
        .exec(&txn)
        .await?;
    let after = category_view(row);
    audit::record(
        &txn,
        &user.audit,
        Event::new("pledge_category.update", "pledge_category", &after.code)
            .before(&before)
            .after(&after),
    )
    .await?;
    txn.commit().await?;
    Ok(Json(after))
}
