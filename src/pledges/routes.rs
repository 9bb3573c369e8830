//! `/api/v1/pledges`: writing and editing pledges. The other jobs have files of their own:
//! `lists` (lists and statistics), `steps` (lifecycle, progress, timeline), `feedback` (the
//! branch's handling of public feedback), `categories`.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, get, patch, post, web};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use uuid::Uuid;

use super::entity::pledge;
use super::lifecycle::PledgeState;
use super::types::*;
use super::{PledgeAccess, check_category, find, find_related, record_event, state_of, view};
use crate::audit::{Event, VersionedEntity, Write};
use crate::auth::AuthUser;
use crate::error::{ApiError, Problem};
use crate::http::conditional::etag;
use crate::http::validate::short_text;
use crate::http::{Claim, IdempotencyKey, IfMatch, Json, StoredResponse, Versioned};
use crate::members::{self, MemberAccess};
use crate::orgs::{OrgKind, queries as orgs};
use crate::state::AppState;

use super::categories::*;
use super::feedback::*;
use super::lists::*;
use super::steps::*;
use crate::text;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    // Order matters: fixed paths (`/stats`, `/progress`, `/feedback`) before `{id}` and
    // `{id}/{transition}`.
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

/// Write a pledge (作出承诺), as a draft. A member writes their own; a secretary or
/// administrator may write a member's or an organisation's (collective). Accepts `Idempotency-Key`.
#[utoipa::path(tag = "pledges", security(("bearer" = [])), request_body = NewPledge,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    responses(
        (status = 201, description = "Created as a draft", body = PledgeView, headers(("Location" = String), ("ETag" = String))),
        (status = 403, description = "Not yours to write", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Member or organisation not found in your scope", body = Problem, content_type = "application/problem+json"),
))]
#[post("/api/v1/pledges")]
pub(super) async fn create_pledge(
    state: web::Data<AppState>,
    user: AuthUser,
    key: IdempotencyKey,
    Json(body): Json<NewPledge>,
) -> Result<HttpResponse, ApiError> {
    let title = short_text(&body.title, "/title", 100)?;
    let content = short_text(&body.content, "/content", 2000)?;
    if !super::types::YEARS.contains(&body.year) {
        return Err(ApiError::invalid_field(
            "/year",
            "out_of_range",
            text!("must be between 2000 and 2100", "须在 2000 到 2100 之间"),
        ));
    }
    check_category(&state.db, &body.category).await?;
    if let Some(vg) = body.villager_group_id
        && !crate::places::villager_group_exists(&state.db, vg).await?
    {
        return Err(ApiError::invalid_field(
            "/villager_group_id",
            "not_found",
            text!("no such villager group", "没有该村民组"),
        ));
    }
    let kind = body.kind.unwrap_or(PledgeKind::Individual);
    let (member_id, org_id, group_id) = match kind {
        PledgeKind::Individual => {
            if body.org_id.is_some() {
                return Err(ApiError::invalid_field(
                    "/org_id",
                    "not_allowed",
                    text!(
                        "an individual pledge belongs to its member's branch",
                        "个人承诺属于该党员所在的党支部"
                    ),
                ));
            }
            let member_id = body.member_id.or(user.principal.member_id).ok_or_else(|| {
                ApiError::invalid_field(
                    "/member_id",
                    "required",
                    text!(
                        "your account is not linked to a member; name the member",
                        "您的账户未关联党员，请指定党员"
                    ),
                )
            })?;
            let access = MemberAccess::of(&user);
            let (m, manages) = members::find_with_rights(&state.db, &access, member_id).await?;
            if Some(m.id) != user.principal.member_id && !manages {
                return Err(ApiError::Forbidden {
                    detail: text!(
                        "Only the member or their branch may write this pledge.",
                        "只有党员本人或其党支部可以填写此承诺。"
                    ),
                });
            }
            if !m.active {
                return Err(ApiError::invalid_field(
                    "/member_id",
                    "inactive",
                    text!("this member has left", "该党员已离开"),
                ));
            }
            if let Some(post_id) = body.post_id {
                let held = members::entity::post::Entity::find_by_id(post_id)
                    .filter(members::entity::post::Column::MemberId.eq(m.id))
                    .count(&state.db)
                    .await?;
                if held == 0 {
                    return Err(ApiError::invalid_field(
                        "/post_id",
                        "not_found",
                        text!("not one of the member's posts", "不是该党员的岗位"),
                    ));
                }
            }
            (Some(m.id), m.org_id, m.group_id)
        }
        PledgeKind::Collective => {
            if body.member_id.is_some() || body.post_id.is_some() {
                return Err(ApiError::invalid_field(
                    "/member_id",
                    "not_allowed",
                    text!("a collective pledge has no member or post", "集体承诺没有党员或岗位"),
                ));
            }
            let org_id = body.org_id.ok_or_else(|| {
                ApiError::invalid_field(
                    "/org_id",
                    "required",
                    text!("name the organisation making it", "请指定作出承诺的组织"),
                )
            })?;
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
    let w = Write::begin(&state.db, &user.audit).await?;
    pledge::Entity::insert(active(&row))
        .exec_without_returning(w.db())
        .await?;
    record_event(
        &w,
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
    let event = Event::new("pledge.create", "pledge", row.id).org(row.org_id).after(&v);
    let response = StoredResponse::json(StatusCode::CREATED, &v)?
        .location(format!("/api/v1/pledges/{}", row.id))
        .header(header::ETAG, etag(row.version));
    ticket.commit(w, event, response).await
}

pub(super) fn active(p: &pledge::Model) -> pledge::ActiveModel {
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

/// Stores `updated` (a changed copy of `current`) if the pledge is still at `current`'s
/// version, hence in its state; 412 otherwise.
pub(super) async fn save(
    w: &Write,
    current: &pledge::Model,
    mut updated: pledge::Model,
) -> Result<pledge::Model, ApiError> {
    let changes = pledge::Entity::changes(current, &updated);
    let bumped = w
        .update_versioned::<pledge::Entity>(current.id, current.version, changes)
        .await?;
    updated.version = bumped.version;
    updated.updated_at = bumped.updated_at;
    Ok(updated)
}

/// One pledge.
#[utoipa::path(tag = "pledges", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, description = "The pledge", body = PledgeView, headers(("ETag" = String))),
    (status = 304, description = "Unchanged since If-None-Match"),
))]
#[get("/api/v1/pledges/{id}")]
pub(super) async fn get_pledge(
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
        (status = 403, description = "Not yours to edit", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Only drafts and returned pledges can be edited", body = Problem, content_type = "application/problem+json"),
))]
#[patch("/api/v1/pledges/{id}")]
pub(super) async fn update_pledge(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    Json(patch): Json<PledgePatch>,
) -> Result<Versioned<PledgeView>, ApiError> {
    let access = PledgeAccess::of(&user);
    let w = Write::begin(&state.db, &user.audit).await?;
    let (current, rel) = find_related(w.db(), &access, *id).await?;
    if !(rel.author || rel.manager) {
        return Err(ApiError::Forbidden {
            detail: text!(
                "Only the pledge's author or its branch may edit it.",
                "只有承诺的填写人或其党支部可以修改。"
            ),
        });
    }
    if_match.check(current.version)?;
    if !state_of(&current).is_editable() {
        return Err(ApiError::conflict(text!(
            "Only draft and returned pledges can be edited.",
            "只有草稿和被退回的承诺可以修改。"
        )));
    }
    let mut updated = current.clone();
    if let Some(title) = &patch.title {
        updated.title = short_text(title, "/title", 100)?;
    }
    if let Some(content) = &patch.content {
        updated.content = short_text(content, "/content", 2000)?;
    }
    if let Some(category) = &patch.category {
        check_category(w.db(), category).await?;
        updated.category_code = category.clone();
    }
    if let Some(vg) = patch.villager_group_id {
        if let Some(vg) = vg
            && !crate::places::villager_group_exists(w.db(), vg).await?
        {
            return Err(ApiError::invalid_field(
                "/villager_group_id",
                "not_found",
                text!("no such villager group", "没有该村民组"),
            ));
        }
        updated.villager_group_id = vg;
    }
    if let Some(post_id) = patch.post_id {
        if post_id.is_some() && current.member_id.is_none() {
            return Err(ApiError::invalid_field(
                "/post_id",
                "not_allowed",
                text!("a collective pledge has no post", "集体承诺没有岗位"),
            ));
        }
        if let (Some(post_id), Some(member_id)) = (post_id, current.member_id) {
            let held = members::entity::post::Entity::find_by_id(post_id)
                .filter(members::entity::post::Column::MemberId.eq(member_id))
                .count(w.db())
                .await?;
            if held == 0 {
                return Err(ApiError::invalid_field(
                    "/post_id",
                    "not_found",
                    text!("not one of the member's posts", "不是该党员的岗位"),
                ));
            }
        }
        updated.post_id = post_id;
    }
    if let Some(due_on) = patch.due_on {
        updated.due_on = due_on;
    }
    let saved = save(&w, &current, updated).await?;
    let (before, after) = (view(&current), view(&saved));
    w.commit(
        Event::new("pledge.update", "pledge", saved.id)
            .org(saved.org_id)
            .before(&before)
            .after(&after),
    )
    .await?;
    Ok(Versioned::ok(saved.version, after))
}
