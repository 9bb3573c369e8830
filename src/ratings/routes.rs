//! `/api/v1/ratings`: propose, change, withdraw, approve or return a rating; lists, counts
//! per level, the timeline.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use sea_orm::sea_query::Condition;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, SqlErr};
use uuid::Uuid;

use super::entity::{event, rating};
use super::types::*;
use super::{RatingAccess, find_related, forbidden_own_branch, forbidden_self, own_orgs, record_step, view};
use crate::audit::{Event, VersionedEntity, Write};
use crate::auth::AuthUser;
use crate::error::{ApiError, FieldError, Problem};
use crate::http::conditional::etag;
use crate::http::export::{self, CellKind, ExportFormat, ExportParams};
use crate::http::extract::OptionalJson;
use crate::http::pagination::page_by_text;
use crate::http::validate::{check_evidence, short_text};
use crate::http::xlsx::Workbook;
use crate::http::{IfMatch, Json, ListQuery, Page, PageParams, Versioned};
use crate::members::MemberAccess;
use crate::members::types::Items;
use crate::orgs::{OrgKind, queries as orgs};
use crate::state::AppState;
use crate::text;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    use super::notice::*;
    // Order matters: a path is held to the rule of the first route whose path matches it, so
    // fixed paths (`/counts`, `/suggestion`, `/notices`) come before `{id}`, and
    // `{id}/objections` before `{id}/{step}`.
    cfg.service(propose_rating)
        .service(list_ratings)
        .service(rating_counts)
        .service(super::suggestion::suggestion)
        .service(publish)
        .service(get_rating)
        .service(update_rating)
        .service(withdraw_rating)
        .service(rating_timeline)
        .service(list_objections)
        .service(rating_step)
        .service(answer_objection)
        .service(object_to_rating)
        .service(star_board);
}

/// The checked fields of a rating, whoever proposes it.
struct RatingFields {
    level: RatingLevel,
    score: Option<i32>,
    remarks: Option<String>,
    evidence: Vec<String>,
}

/// Checks the level against the subject and the other fields; every problem at once.
fn validate(subject: RatingSubject, f: RatingFields) -> Result<RatingFields, ApiError> {
    let mut errors = Vec::new();
    if f.level == RatingLevel::Unqualified && subject == RatingSubject::Org {
        errors.push(FieldError::body(
            "/level",
            "members_only",
            text!("only a member can be rated unqualified", "只有党员可以评为不合格"),
        ));
    }
    if f.score.is_some_and(|s| !(0..=100).contains(&s)) {
        errors.push(FieldError::body(
            "/score",
            "out_of_range",
            text!("must be 0 to 100", "须在 0 到 100 之间"),
        ));
    }
    let remarks = match f.remarks.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(_) => {
            let text = f.remarks.as_deref().unwrap_or_default();
            match short_text(text, "/remarks", 1000) {
                Ok(t) => Some(t),
                Err(ApiError::Validation(mut e)) => {
                    errors.append(&mut e);
                    None
                }
                Err(e) => return Err(e),
            }
        }
    };
    check_evidence(&f.evidence, "/evidence", &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    Ok(RatingFields { remarks, ..f })
}

fn evidence_json(links: &[String]) -> Option<String> {
    (!links.is_empty()).then(|| serde_json::to_string(links).unwrap_or_default())
}

/// What a refused insert means: the subject already has a rating for the year.
fn rating_conflict(err: sea_orm::DbErr) -> ApiError {
    match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => already_rated(),
        _ => ApiError::from(err),
    }
}

fn already_rated() -> ApiError {
    ApiError::conflict(text!(
        "This subject already has a rating for this year: change that one.",
        "该对象本年度已有星级评定，请修改已有的评定。"
    ))
}

/// Who or what a new rating is of: `(member_id, subject_org_id, org_id, name)`, checked
/// against the caller's rights.
async fn resolve_subject<C: ConnectionTrait>(
    db: &C,
    user: &AuthUser,
    access: &RatingAccess,
    body: &NewRating,
) -> Result<(RatingSubject, Option<Uuid>, Option<Uuid>, Uuid, String), ApiError> {
    match (body.member_id, body.org_id) {
        (Some(member_id), None) => {
            let members = MemberAccess::of(user);
            let (member, manages) = crate::members::find_with_rights(db, &members, member_id).await?;
            if access.own == Some(member.id) {
                return Err(forbidden_self());
            }
            if !manages {
                return Err(ApiError::Forbidden {
                    detail: text!(
                        "Only the member's branch or the town proposes a member's rating.",
                        "只有党员所在党支部或镇党委可以提名党员的星级。"
                    ),
                });
            }
            if !member.active {
                return Err(ApiError::invalid_field(
                    "/member_id",
                    "inactive",
                    text!("this member has left the rolls", "该党员已不在册"),
                ));
            }
            Ok((RatingSubject::Member, Some(member.id), None, member.org_id, member.name))
        }
        (None, Some(org_id)) => {
            let org = orgs::find(db, &access.read, org_id).await?;
            if !access.admin.covers(&org.path) {
                return Err(ApiError::Forbidden {
                    detail: text!(
                        "Only the town administrator proposes an organisation's rating.",
                        "只有镇党委管理员可以提名党组织的星级。"
                    ),
                });
            }
            if !matches!(org.kind, OrgKind::Branch | OrgKind::GeneralBranch) {
                return Err(ApiError::invalid_field(
                    "/org_id",
                    "not_rated",
                    text!("only branches and general branches are rated", "只评定党支部和党总支"),
                ));
            }
            if own_orgs(db, user).await?.contains(&org.id) {
                return Err(forbidden_own_branch());
            }
            Ok((RatingSubject::Org, None, Some(org.id), org.id, org.name))
        }
        _ => Err(ApiError::invalid_field(
            "/member_id",
            "one_subject",
            text!(
                "name exactly one subject: member_id or org_id",
                "须且只能指定一个评定对象：member_id 或 org_id"
            ),
        )),
    }
}

/// Propose a rating (提名) for a year: a branch secretary or administrator for a member of
/// their subtree, the town administrator for a branch or general branch. Nobody proposes
/// their own, nor their own organisation's.
#[utoipa::path(tag = "ratings", security(("bearer" = [])), request_body = NewRating,
    responses(
        (status = 201, description = "Proposed", body = RatingView, headers(("Location" = String), ("ETag" = String))),
        (status = 403, description = "Not yours to propose", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Member or organisation not found in your scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already rated for this year", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not valid", body = Problem, content_type = "application/problem+json"),
))]
#[post("/api/v1/ratings")]
async fn propose_rating(
    state: web::Data<AppState>,
    user: AuthUser,
    Json(body): Json<NewRating>,
) -> Result<HttpResponse, ApiError> {
    let this_year = crate::pledges::types::this_year();
    if !(2000..=this_year).contains(&body.year) {
        return Err(ApiError::invalid_field(
            "/year",
            "out_of_range",
            text!("must be from 2000 to this year", "须在 2000 年到今年之间"),
        ));
    }
    let access = RatingAccess::of(&user);
    let (subject, member_id, subject_org_id, org_id, name) = resolve_subject(&state.db, &user, &access, &body).await?;
    let f = validate(
        subject,
        RatingFields {
            level: body.level,
            score: body.score,
            remarks: body.remarks,
            evidence: body.evidence,
        },
    )?;
    let now = crate::db::now();
    let r = rating::Model {
        id: Uuid::now_v7(),
        year: body.year,
        subject,
        member_id,
        subject_org_id,
        org_id,
        subject_name: name,
        level: f.level,
        score: f.score,
        remarks: f.remarks,
        evidence: evidence_json(&f.evidence),
        state: RatingState::Proposed,
        return_reason: None,
        proposed_by: user.id(),
        decided_by: None,
        notice_starts_at: None,
        notice_ends_at: None,
        open_objections: 0,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let w = Write::begin(&state.db, &user.audit).await?;
    rating::Entity::insert(r.clone().into_active_model())
        .exec_without_returning(w.db())
        .await
        .map_err(rating_conflict)?;
    record_step(&w, &user, r.id, "propose", (None, Some(RatingState::Proposed)), None).await?;
    let after = view(&r);
    w.commit(Event::new("rating.propose", "rating", r.id).org(r.org_id).after(&after))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/ratings/{}", r.id)))
        .insert_header((header::ETAG, etag(r.version)))
        .json(after))
}

/// One rating.
#[utoipa::path(tag = "ratings", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, description = "The rating", body = RatingView, headers(("ETag" = String))),
))]
#[get("/api/v1/ratings/{id}")]
async fn get_rating(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> Result<Versioned<RatingView>, ApiError> {
    let (r, _) = find_related(&state.db, &RatingAccess::of(&user), *id).await?;
    Ok(Versioned::ok(r.version, view(&r)))
}

/// A rating the caller may change: proposed or returned, theirs to propose, not their own.
async fn find_changeable<C: ConnectionTrait>(db: &C, user: &AuthUser, id: Uuid) -> Result<rating::Model, ApiError> {
    let (r, relation) = find_related(db, &RatingAccess::of(user), id).await?;
    if relation.own {
        return Err(forbidden_self());
    }
    if !relation.proposer {
        return Err(ApiError::Forbidden {
            detail: text!(
                "Only whoever proposes ratings like this one changes it.",
                "只有提名方可以修改此星级评定。"
            ),
        });
    }
    if !r.state.is_editable() {
        return Err(ApiError::conflict(text!(
            "Only a proposed or returned rating can be changed or withdrawn.",
            "只有已提名或已退回的星级评定可以修改或撤回。"
        )));
    }
    Ok(r)
}

/// Change a proposed or returned rating (`null` clears an optional field). Requires
/// `If-Match`.
#[utoipa::path(tag = "ratings", security(("bearer" = [])), request_body = RatingPatch,
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag from your last read")),
    responses(
        (status = 200, description = "Changed", body = RatingView, headers(("ETag" = String))),
        (status = 403, description = "Not yours to change", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already approved", body = Problem, content_type = "application/problem+json"),
))]
#[patch("/api/v1/ratings/{id}")]
async fn update_rating(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    Json(patch): Json<RatingPatch>,
) -> Result<Versioned<RatingView>, ApiError> {
    let w = Write::begin(&state.db, &user.audit).await?;
    let current = find_changeable(w.db(), &user, *id).await?;
    if_match.check(current.version)?;
    let before = view(&current);
    let f = validate(
        current.subject,
        RatingFields {
            level: patch.level.unwrap_or(current.level),
            score: patch.score.unwrap_or(current.score),
            remarks: patch.remarks.unwrap_or(current.remarks.clone()),
            evidence: patch.evidence.unwrap_or(before.evidence.clone()),
        },
    )?;
    let mut updated = current.clone();
    updated.level = f.level;
    updated.score = f.score;
    updated.remarks = f.remarks;
    updated.evidence = evidence_json(&f.evidence);
    let bumped = w
        .update_versioned::<rating::Entity>(current.id, current.version, rating::Entity::changes(&current, &updated))
        .await?;
    updated.version = bumped.version;
    updated.updated_at = bumped.updated_at;
    record_step(&w, &user, current.id, "change", (None, None), None).await?;
    let after = view(&updated);
    w.commit(
        Event::new("rating.update", "rating", current.id)
            .org(current.org_id)
            .before(&before)
            .after(&after),
    )
    .await?;
    Ok(Versioned::ok(updated.version, after))
}

/// Withdraw a proposed or returned rating (its subject may then be proposed again).
/// Requires `If-Match`.
#[utoipa::path(tag = "ratings", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag from your last read")),
    responses(
        (status = 204, description = "Withdrawn"),
        (status = 403, description = "Not yours to withdraw", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already approved", body = Problem, content_type = "application/problem+json"),
))]
#[delete("/api/v1/ratings/{id}")]
async fn withdraw_rating(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let w = Write::begin(&state.db, &user.audit).await?;
    let current = find_changeable(w.db(), &user, *id).await?;
    if_match.check(current.version)?;
    event::Entity::delete_many()
        .filter(event::Column::RatingId.eq(current.id))
        .exec(w.db())
        .await?;
    let deleted = rating::Entity::delete_many()
        .filter(rating::Column::Id.eq(current.id))
        .filter(rating::Column::Version.eq(current.version))
        .exec(w.db())
        .await?;
    crate::http::conditional::applied(deleted.rows_affected, current.version)?;
    w.commit(
        Event::new("rating.withdraw", "rating", current.id)
            .org(current.org_id)
            .before(view(&current)),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Move a rating along its process: `approve` or `return` (with `reason`) by the town
/// administrator, never for their own organisation or themselves; `resubmit` a returned
/// rating by whoever proposes it. A step not allowed from the current state is 409 listing
/// the allowed ones. The body is optional.
#[utoipa::path(tag = "ratings", security(("bearer" = [])), request_body(content = Option<RatingStepRequest>, description = "Optional"),
    params(("id" = Uuid, Path), ("step" = RatingStep, Path, description = "approve, return or resubmit")),
    responses(
        (status = 200, description = "Done", body = RatingView, headers(("ETag" = String))),
        (status = 400, description = "Unknown step", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not yours to do", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not allowed from the current state; `allowed` lists what is", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Missing reason", body = Problem, content_type = "application/problem+json"),
))]
#[post("/api/v1/ratings/{id}/{step}")]
async fn rating_step(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, RatingStep)>,
    OptionalJson(body): OptionalJson<RatingStepRequest>,
) -> Result<Versioned<RatingView>, ApiError> {
    let (id, step) = path.into_inner();
    let note = body.note.as_deref().map(|n| short_text(n, "/note", 1000)).transpose()?;
    let reason = body
        .reason
        .as_deref()
        .map(|r| short_text(r, "/reason", 500))
        .transpose()?;
    let w = Write::begin(&state.db, &user.audit).await?;
    let (current, relation) = find_related(w.db(), &RatingAccess::of(&user), id).await?;
    if relation.own {
        return Err(forbidden_self());
    }
    let deciding = matches!(step, RatingStep::Approve | RatingStep::Return);
    let may = if deciding { relation.approver } else { relation.proposer };
    if !may {
        return Err(ApiError::Forbidden {
            detail: if deciding {
                text!(
                    "Only the town administrator approves or returns ratings.",
                    "只有镇党委管理员可以审定或退回星级评定。"
                )
            } else {
                text!(
                    "Only whoever proposes ratings like this one resubmits it.",
                    "只有提名方可以重新提名。"
                )
            },
        });
    }
    if deciding {
        super::refuse_own_organisation(w.db(), &user, &current).await?;
    }
    let from = current.state;
    let Some(to) = from.after(step) else {
        return Err(ApiError::InvalidTransition {
            from: from.as_str(),
            allowed: from.allowed().iter().map(|s| s.as_str()).collect(),
        });
    };
    let mut updated = current.clone();
    updated.state = to;
    let mut timeline_note = note;
    match step {
        RatingStep::Return => {
            let reason = reason.ok_or_else(|| {
                ApiError::invalid_field(
                    "/reason",
                    "required",
                    text!("say why the rating is returned", "请说明退回的原因"),
                )
            })?;
            timeline_note = Some(reason.clone());
            updated.return_reason = Some(reason);
            updated.decided_by = Some(user.id());
        }
        RatingStep::Approve => {
            updated.return_reason = None;
            updated.decided_by = Some(user.id());
        }
        RatingStep::Resubmit => {}
    }
    let bumped = w
        .update_versioned::<rating::Entity>(current.id, current.version, rating::Entity::changes(&current, &updated))
        .await?;
    updated.version = bumped.version;
    updated.updated_at = bumped.updated_at;
    record_step(
        &w,
        &user,
        current.id,
        step.as_str(),
        (Some(from), Some(to)),
        timeline_note,
    )
    .await?;
    let (before, after) = (view(&current), view(&updated));
    let action = match step {
        RatingStep::Approve => "rating.approve",
        RatingStep::Return => "rating.return",
        RatingStep::Resubmit => "rating.resubmit",
    };
    w.commit(
        Event::new(action, "rating", current.id)
            .org(current.org_id)
            .before(&before)
            .after(&after),
    )
    .await?;
    Ok(Versioned::ok(updated.version, after))
}

/// Every step of a rating, oldest first, with who and when.
#[utoipa::path(tag = "ratings", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, description = "The timeline", body = Items<RatingTimelineEntry>),
))]
#[get("/api/v1/ratings/{id}/timeline")]
async fn rating_timeline(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> Result<Json<Items<RatingTimelineEntry>>, ApiError> {
    let (r, _) = find_related(&state.db, &RatingAccess::of(&user), *id).await?;
    let rows = event::Entity::find()
        .filter(event::Column::RatingId.eq(r.id))
        .order_by_asc(event::Column::OccurredAt)
        .order_by_asc(event::Column::Id)
        .all(&state.db)
        .await?;
    let items = rows
        .into_iter()
        .map(|e| RatingTimelineEntry {
            id: e.id,
            kind: e.kind,
            from_state: e.from_state,
            to_state: e.to_state,
            note: e.note,
            actor_user_id: e.actor_user_id,
            actor_name: e.actor_name,
            occurred_at: e.occurred_at,
        })
        .collect();
    Ok(Json(Items { items }))
}

/// SQL for the list filters, inside what the caller may read: with `org_id`, that subtree
/// (found in the caller's scope), else the caller's scope and their own rating.
async fn list_condition<C: ConnectionTrait>(
    db: &C,
    access: &RatingAccess,
    f: &RatingFilters,
) -> Result<Condition, ApiError> {
    let mut all = Condition::all();
    // The subtree's organisations are named (see `orgs::subtree_ids`); without `org_id`, the
    // caller's own rating too.
    if let Some(ids) = orgs::subtree_ids(db, &access.read, f.org_id).await? {
        let mut any = Condition::any().add(rating::Column::OrgId.is_in(ids));
        if f.org_id.is_none()
            && let Some(own) = access.own
        {
            any = any.add(rating::Column::MemberId.eq(own));
        }
        all = all.add(any);
    }
    if let Some(year) = crate::pledges::types::query_year(f.year)? {
        all = all.add(rating::Column::Year.eq(year));
    }
    if let Some(subject) = f.subject {
        all = all.add(rating::Column::Subject.eq(subject));
    }
    if let Some(level) = f.level {
        all = all.add(rating::Column::Level.eq(level));
    }
    if let Some(state) = f.state {
        all = all.add(super::state_condition(state, crate::db::now()));
    }
    Ok(all)
}

/// Ratings in your scope (and your own), by name: one page, or the whole filtered list as CSV
/// (`Accept: text/csv`, UTF-8 with BOM) or an Excel workbook (`Accept:` the xlsx type), or
/// `?format=csv|xlsx`.
#[utoipa::path(tag = "ratings", security(("bearer" = [])), params(RatingFilters, PageParams, ExportParams), responses(
    (status = 200, description = "One page (JSON) or the whole list (CSV or workbook)",
        content((Page<RatingView> = "application/json"), (String = "text/csv"), (Workbook = crate::http::xlsx::MEDIA_TYPE))),
))]
#[get("/api/v1/ratings")]
async fn list_ratings(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    query: ListQuery<RatingFilters>,
) -> Result<HttpResponse, ApiError> {
    let access = RatingAccess::of(&user);
    let condition = list_condition(&state.db, &access, &query.filters).await?;
    if let Some(format) = export::wanted(&req)? {
        return Ok(export_list(format, state, condition));
    }
    let select = rating::Entity::find().filter(condition);
    let (rows, total) = page_by_text(
        &state.db,
        select,
        rating::Column::SubjectName,
        rating::Column::Id,
        &query.page,
    )
    .await?;
    let items: Vec<RatingView> = rows.iter().map(view).collect();
    let limit = query.page.limit()?;
    let page = Page::from_rows(items, limit, |r| (r.subject_name.clone(), r.id)).with_total(total);
    Ok(HttpResponse::Ok().json(page))
}

/// The export of this list: its file, its sheet and its columns.
const EXPORT: export::Export = export::Export {
    file: "ratings",
    sheet: "星级评定",
    columns: &[
        ("编号", CellKind::Text),
        ("评定年度", CellKind::Integer),
        ("评定对象", CellKind::Text),
        ("名称", CellKind::Text),
        ("所在组织", CellKind::Text),
        ("星级", CellKind::Text),
        ("得分", CellKind::Integer),
        ("评语", CellKind::Text),
        ("状态", CellKind::Text),
    ],
};

/// Streams every rating matching `condition` as `format`, batch by batch.
fn export_list(format: ExportFormat, state: web::Data<AppState>, condition: Condition) -> HttpResponse {
    export::stream_pages(
        format,
        &EXPORT,
        move |after: Option<(String, Uuid)>, limit| {
            let (state, condition) = (state.clone(), condition.clone());
            async move {
                crate::http::pagination::keyset_rows(
                    &state.db,
                    rating::Entity::find().filter(condition),
                    (rating::Column::SubjectName, rating::Column::Id),
                    sea_orm::Order::Asc,
                    after.map(|(name, id)| (name.into(), id)),
                    limit,
                )
                .await
            }
        },
        |r: &rating::Model| (r.subject_name.clone(), r.id),
        |r| {
            Ok(vec![
                r.id.to_string(),
                r.year.to_string(),
                r.subject.label().into(),
                r.subject_name.clone(),
                r.org_id.to_string(),
                r.level.label().into(),
                r.score.map(|s| s.to_string()).unwrap_or_default(),
                r.remarks.clone().unwrap_or_default(),
                super::state_at(r, crate::db::now()).label().into(),
            ])
        },
    )
}

/// How many ratings of each level, for members and organisations, under the same filters as
/// the list (every level listed, 0 where none).
#[utoipa::path(tag = "ratings", security(("bearer" = [])), params(RatingFilters), responses(
    (status = 200, description = "Counts per level", body = RatingCounts),
))]
#[get("/api/v1/ratings/counts")]
async fn rating_counts(
    state: web::Data<AppState>,
    user: AuthUser,
    crate::http::Query(query): crate::http::Query<RatingFilters>,
) -> Result<Json<RatingCounts>, ApiError> {
    let access = RatingAccess::of(&user);
    let condition = list_condition(&state.db, &access, &query).await?;
    let rows = super::count_levels(&state.db, condition).await?;
    Ok(Json(RatingCounts {
        year: query.year,
        org_id: query.org_id,
        members: super::level_counts(&rows, RatingSubject::Member),
        orgs: super::level_counts(&rows, RatingSubject::Org),
    }))
}
