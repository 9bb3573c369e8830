//! A pledge's lifecycle steps, progress reports and timeline.

use actix_web::http::header;
use actix_web::{HttpResponse, get, post, web};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use super::entity::event;
use super::lifecycle::{PledgeState, Transition};
use super::routes::save;
use super::types::*;
use super::{PledgeAccess, find, find_related, record_event, state_of, view};
use crate::audit::{Event, Write};
use crate::auth::AuthUser;
use crate::error::{ApiError, FieldError, Problem};
use crate::http::conditional::etag;
use crate::http::extract::OptionalJson;
use crate::http::validate::short_text;
use crate::http::{Json, Versioned};
use crate::state::AppState;
use crate::text;

/// Move a pledge along its lifecycle: `submit` (author; the branch for collective pledges),
/// `approve` / `return` (with `reason`) / `evaluate` (with `result`) by the branch, never on
/// your own pledge; `start`, `fulfil`, `withdraw` by the author or the branch. A transition not
/// allowed from the current state is 409 listing the allowed ones. The body is optional.
#[utoipa::path(tag = "pledges", security(("bearer" = [])), request_body(content = Option<TransitionRequest>, description = "Optional"),
    params(("id" = Uuid, Path), ("transition" = Transition, Path, description = "submit, approve, return, start, fulfil, evaluate or withdraw")),
    responses(
        (status = 200, description = "Done", body = PledgeView, headers(("ETag" = String))),
        (status = 400, description = "Unknown transition", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not yours to do (e.g. approving your own pledge)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not allowed from the current state; `allowed` lists what is", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Missing reason or result", body = Problem, content_type = "application/problem+json"),
))]
#[post("/api/v1/pledges/{id}/{transition}")]
pub(super) async fn transition(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Transition)>,
    OptionalJson(body): OptionalJson<TransitionRequest>,
) -> Result<Versioned<PledgeView>, ApiError> {
    let (id, t) = path.into_inner();
    let access = PledgeAccess::of(&user);
    let w = Write::begin(&state.db, &user.audit).await?;
    let (current, rel) = find_related(w.db(), &access, id).await?;
    let collective = current.member_id.is_none();
    let wrote_it = current.author_user_id == user.id();
    let member_has_account = match current.member_id {
        Some(member_id) => {
            crate::users::entity::user::Entity::find()
                .filter(crate::users::entity::user::Column::MemberId.eq(member_id))
                .count(w.db())
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
            text!(
                "Nobody reviews or evaluates their own pledge.",
                "任何人都不能审核或评议自己的承诺。"
            )
        } else {
            text!(
                "Your role may not do this to this pledge.",
                "您的角色无权对此承诺执行此操作。"
            )
        };
        return Err(ApiError::Forbidden { detail });
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
            let reason = body.reason.as_deref().ok_or_else(|| {
                ApiError::invalid_field(
                    "/reason",
                    "required",
                    text!("say why the pledge is returned", "请说明退回承诺的原因"),
                )
            })?;
            let reason = short_text(reason, "/reason", 500)?;
            timeline_note = Some(reason.clone());
            updated.return_reason = Some(reason);
        }
        Transition::Approve => updated.return_reason = None,
        Transition::Evaluate => {
            let result = body.result.ok_or_else(|| {
                ApiError::invalid_field(
                    "/result",
                    "required",
                    text!("give the evaluation's result", "请给出评议结果"),
                )
            })?;
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
    let saved = save(&w, &current, updated).await?;
    record_event(
        &w,
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
    w.commit(
        Event::new(action, "pledge", saved.id)
            .org(saved.org_id)
            .before(&before)
            .after(&after),
    )
    .await?;
    Ok(Versioned::ok(saved.version, after))
}

/// Report progress (践诺进展) on an approved or in-progress pledge: the author, the branch,
/// or the leader of the member's group.
#[utoipa::path(tag = "pledges", security(("bearer" = [])), request_body = NewProgress, params(("id" = Uuid, Path)),
    responses(
        (status = 201, description = "Recorded; the pledge as it is now", body = PledgeView),
        (status = 403, description = "Not yours to report", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not approved or in progress", body = Problem, content_type = "application/problem+json"),
))]
#[post("/api/v1/pledges/{id}/progress")]
pub(super) async fn add_progress(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    Json(body): Json<NewProgress>,
) -> Result<HttpResponse, ApiError> {
    let note = short_text(&body.note, "/note", 2000)?;
    let mut errors = Vec::new();
    if body.percentage.is_some_and(|p| !(0..=100).contains(&p)) {
        errors.push(FieldError::body(
            "/percentage",
            "out_of_range",
            text!("must be 0 to 100", "须在 0 到 100 之间"),
        ));
    }
    crate::http::validate::check_evidence(&body.evidence, "/evidence", &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let access = PledgeAccess::of(&user);
    let w = Write::begin(&state.db, &user.audit).await?;
    let (current, rel) = find_related(w.db(), &access, *id).await?;
    if !(rel.author || rel.manager || rel.group_leader) {
        return Err(ApiError::Forbidden {
            detail: text!(
                "Only the author, the branch or the group leader report progress.",
                "只有承诺人、党支部或党小组长可以报告进展。"
            ),
        });
    }
    if !matches!(state_of(&current), PledgeState::Approved | PledgeState::InProgress) {
        return Err(ApiError::conflict(text!(
            "Progress is reported on approved or in-progress pledges.",
            "只有已审核或正在践诺的承诺可以报告进展。"
        )));
    }
    let mut updated = current.clone();
    if body.percentage.is_some() {
        updated.progress_percent = body.percentage;
    }
    let saved = save(&w, &current, updated).await?;
    record_event(
        &w,
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
    w.commit(event).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::ETAG, etag(saved.version)))
        .json(view(&saved)))
}

/// Every state change and progress report of a pledge, oldest first, with who and when.
#[utoipa::path(tag = "pledges", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, description = "The timeline", body = crate::members::types::Items<TimelineEntry>),
))]
#[get("/api/v1/pledges/{id}/timeline")]
pub(super) async fn timeline(
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
