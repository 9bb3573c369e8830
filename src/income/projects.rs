//! `/api/v1/income-projects`: a village's income-generating projects (产业项目) and the poor
//! households sharing in their returns.

use std::collections::BTreeSet;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, get, patch, post, web};
use chrono::NaiveDate;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter};
use uuid::Uuid;

use super::entity::{project, share};
use super::types::*;
use super::{READERS, find_project, shares_of};
use crate::audit::{Event, VersionedEntity, Write};
use crate::auth::{Access, AuthUser};
use crate::error::{ApiError, FieldError, Problem};
use crate::http::conditional::etag;
use crate::http::pagination::page_by_text;
use crate::http::{Claim, IdempotencyKey, IfMatch, Json, ListQuery, Page, PageParams, StoredResponse, Versioned};
use crate::members::optional_text;
use crate::orgs::queries as orgs;
use crate::state::AppState;
use crate::text;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_income_project)
        .service(list_income_projects)
        .service(get_income_project)
        .service(update_income_project);
}

/// The checked fields of a project.
struct ProjectFields {
    name: String,
    kind: ProjectKind,
    started_on: Option<NaiveDate>,
    partner: Option<String>,
    capacity: Option<f64>,
    capacity_unit: Option<String>,
    invested_fen: Option<i64>,
    status: ProjectStatus,
    note: Option<String>,
    household_ids: Vec<Uuid>,
}

/// Field checks that need no database; every problem at once.
fn validate(f: ProjectFields) -> Result<ProjectFields, ApiError> {
    let mut errors = Vec::new();
    let name = crate::http::validate::collect_text(&f.name, "/name", 100, &mut errors);
    let partner = optional_text(f.partner, "/partner", 100, &mut errors);
    let capacity_unit = optional_text(f.capacity_unit, "/capacity_unit", 20, &mut errors);
    let note = optional_text(f.note, "/note", 1000, &mut errors);
    if f.capacity.is_some_and(|c| !(c.is_finite() && c > 0.0 && c <= 1e9)) {
        errors.push(FieldError::body(
            "/capacity",
            "out_of_range",
            text!(
                "must be more than 0 and at most 1,000,000,000",
                "须大于 0 且不超过 1,000,000,000"
            ),
        ));
    }
    if f.invested_fen.is_some_and(|a| !(0..=MAX_AMOUNT_FEN).contains(&a)) {
        errors.push(FieldError::body(
            "/invested_fen",
            "out_of_range",
            text!("must be 0 to 10¹² fen", "须在 0 到 10¹² 分之间"),
        ));
    }
    if f.started_on.is_some_and(|d| chrono::Datelike::year(&d) < 1950) {
        errors.push(FieldError::body(
            "/started_on",
            "out_of_range",
            text!("must be in 1950 or later", "须不早于 1950 年"),
        ));
    }
    if f.household_ids.len() > 1000 {
        errors.push(FieldError::body(
            "/household_ids",
            "too_many",
            text!("at most 1,000 households", "至多 1,000 户"),
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let household_ids: BTreeSet<Uuid> = f.household_ids.into_iter().collect();
    Ok(ProjectFields {
        name,
        partner,
        capacity_unit,
        note,
        household_ids: household_ids.into_iter().collect(),
        ..f
    })
}

/// Refused unless every household is a household of the village.
async fn check_households<C: ConnectionTrait>(db: &C, village_id: Uuid, ids: &[Uuid]) -> Result<(), ApiError> {
    use crate::households::entity::household;
    if ids.is_empty() {
        return Ok(());
    }
    let found = household::Entity::find()
        .filter(household::Column::Id.is_in(ids.iter().copied()))
        .filter(household::Column::VillageId.eq(village_id))
        .count(db)
        .await?;
    if found != ids.len() as u64 {
        return Err(ApiError::invalid_field(
            "/household_ids",
            "not_of_village",
            text!(
                "every household must be a poor household of the project's village",
                "分红户须为本村的贫困户"
            ),
        ));
    }
    Ok(())
}

/// Replaces a project's households, in the write.
async fn set_households(w: &Write, project_id: Uuid, ids: &[Uuid]) -> Result<(), ApiError> {
    share::Entity::delete_many()
        .filter(share::Column::ProjectId.eq(project_id))
        .exec(w.db())
        .await?;
    if !ids.is_empty() {
        share::Entity::insert_many(ids.iter().map(|&household_id| share::ActiveModel {
            project_id: sea_orm::ActiveValue::Set(project_id),
            household_id: sea_orm::ActiveValue::Set(household_id),
        }))
        .exec_without_returning(w.db())
        .await?;
    }
    Ok(())
}

pub fn view(p: &project::Model, household_ids: Vec<Uuid>) -> ProjectView {
    ProjectView {
        id: p.id,
        village_id: p.village_id,
        org_id: p.org_id,
        name: p.name.clone(),
        kind: p.kind,
        kind_label: p.kind.label().to_owned(),
        started_on: p.started_on,
        partner: p.partner.clone(),
        capacity: p.capacity,
        capacity_unit: p.capacity_unit.clone(),
        invested_fen: p.invested_fen,
        status: p.status,
        status_label: p.status.label().to_owned(),
        note: p.note.clone(),
        household_ids,
        version: p.version,
        created_at: p.created_at,
        updated_at: p.updated_at,
    }
}

/// Register a village's income-generating project (新建产业项目), optionally with the poor
/// households of the village that share in its returns. Secretaries and administrators over
/// the village. Honours `Idempotency-Key`.
#[utoipa::path(tag = "income", security(("bearer" = [])), request_body = NewProject,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    responses(
        (status = 201, description = "Created", body = ProjectView, headers(("Location" = String), ("ETag" = String))),
        (status = 404, description = "Village not found in your scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not valid", body = Problem, content_type = "application/problem+json"),
))]
#[post("/api/v1/income-projects")]
async fn create_income_project(
    state: web::Data<AppState>,
    user: AuthUser,
    key: IdempotencyKey,
    Json(body): Json<NewProject>,
) -> Result<HttpResponse, ApiError> {
    let f = validate(ProjectFields {
        name: body.name,
        kind: body.kind,
        started_on: body.started_on,
        partner: body.partner,
        capacity: body.capacity,
        capacity_unit: body.capacity_unit,
        invested_fen: body.invested_fen,
        status: body.status,
        note: body.note,
        household_ids: body.household_ids,
    })?;
    let v = crate::places::find_village(&state.db, &user.scope(Access::MANAGE), body.village_id).await?;
    check_households(&state.db, v.id, &f.household_ids).await?;
    let ticket = match key.claim(&state.db, &user.id().to_string()).await? {
        Claim::Replay(stored) => return Ok(stored),
        Claim::Proceed(ticket) => ticket,
    };
    let now = crate::db::now();
    let p = project::Model {
        id: Uuid::now_v7(),
        village_id: v.id,
        org_id: v.org_id,
        name: f.name,
        kind: f.kind,
        started_on: f.started_on,
        partner: f.partner,
        capacity: f.capacity,
        capacity_unit: f.capacity_unit,
        invested_fen: f.invested_fen,
        status: f.status,
        note: f.note,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let w = Write::begin(&state.db, &user.audit).await?;
    project::Entity::insert(p.clone().into_active_model())
        .exec_without_returning(w.db())
        .await?;
    set_households(&w, p.id, &f.household_ids).await?;
    let after = view(&p, f.household_ids);
    let event = Event::new("income_project.create", "income_project", p.id)
        .org(p.org_id)
        .after(&after);
    let response = StoredResponse::json(StatusCode::CREATED, &after)?
        .location(format!("/api/v1/income-projects/{}", p.id))
        .header(header::ETAG, etag(1));
    ticket.commit(w, event, response).await
}

/// Projects of villages in your scope, by name.
#[utoipa::path(tag = "income", security(("bearer" = [])), params(ProjectFilters, PageParams), responses(
    (status = 200, description = "One page", body = Page<ProjectView>),
))]
#[get("/api/v1/income-projects")]
async fn list_income_projects(
    state: web::Data<AppState>,
    user: AuthUser,
    query: ListQuery<ProjectFilters>,
) -> Result<Json<Page<ProjectView>>, ApiError> {
    let f = &query.filters;
    let ids = orgs::subtree_ids(&state.db, &user.scope(READERS), f.org_id).await?;
    let mut select = project::Entity::find().filter(orgs::ids_condition(&ids, project::Column::OrgId));
    if let Some(v) = f.village_id {
        select = select.filter(project::Column::VillageId.eq(v));
    }
    if let Some(kind) = f.kind {
        select = select.filter(project::Column::Kind.eq(kind));
    }
    if let Some(status) = f.status {
        select = select.filter(project::Column::Status.eq(status));
    }
    if let Some(q) = f.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        select = select.filter(project::Column::Name.contains(q));
    }
    let (rows, total) = page_by_text(
        &state.db,
        select,
        project::Column::Name,
        project::Column::Id,
        &query.page,
    )
    .await?;
    let ids: Vec<Uuid> = rows.iter().map(|p| p.id).collect();
    let mut shares = shares_of(&state.db, &ids).await?;
    let views: Vec<ProjectView> = rows
        .iter()
        .map(|p| view(p, shares.remove(&p.id).unwrap_or_default()))
        .collect();
    let limit = query.page.limit()?;
    Ok(Json(
        Page::from_rows(views, limit, |v| (v.name.clone(), v.id)).with_total(total),
    ))
}

/// One project.
#[utoipa::path(tag = "income", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, description = "The project", body = ProjectView, headers(("ETag" = String))),
))]
#[get("/api/v1/income-projects/{id}")]
async fn get_income_project(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> Result<Versioned<ProjectView>, ApiError> {
    let p = find_project(&state.db, &user.scope(READERS), *id).await?;
    let households = shares_of(&state.db, &[p.id]).await?.remove(&p.id).unwrap_or_default();
    Ok(Versioned::ok(p.version, view(&p, households)))
}

/// Change a project (`null` clears an optional field; `household_ids` replaces the list).
/// A project is never deleted: set its status to `stopped`. Requires `If-Match`.
#[utoipa::path(tag = "income", security(("bearer" = [])), request_body = ProjectPatch,
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag from your last read")),
    responses(
        (status = 200, description = "Changed", body = ProjectView, headers(("ETag" = String))),
        (status = 422, description = "Not valid", body = Problem, content_type = "application/problem+json"),
))]
#[patch("/api/v1/income-projects/{id}")]
async fn update_income_project(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    Json(patch): Json<ProjectPatch>,
) -> Result<Versioned<ProjectView>, ApiError> {
    let w = Write::begin(&state.db, &user.audit).await?;
    let current = find_project(w.db(), &user.scope(Access::MANAGE), *id).await?;
    if_match.check(current.version)?;
    let households = shares_of(w.db(), &[current.id])
        .await?
        .remove(&current.id)
        .unwrap_or_default();
    let f = validate(ProjectFields {
        name: patch.name.unwrap_or(current.name.clone()),
        kind: patch.kind.unwrap_or(current.kind),
        started_on: patch.started_on.unwrap_or(current.started_on),
        partner: patch.partner.unwrap_or(current.partner.clone()),
        capacity: patch.capacity.unwrap_or(current.capacity),
        capacity_unit: patch.capacity_unit.unwrap_or(current.capacity_unit.clone()),
        invested_fen: patch.invested_fen.unwrap_or(current.invested_fen),
        status: patch.status.unwrap_or(current.status),
        note: patch.note.unwrap_or(current.note.clone()),
        household_ids: patch.household_ids.clone().unwrap_or(households.clone()),
    })?;
    let households_changed = f.household_ids != households;
    if households_changed {
        check_households(w.db(), current.village_id, &f.household_ids).await?;
    }
    let mut updated = current.clone();
    updated.name = f.name;
    updated.kind = f.kind;
    updated.started_on = f.started_on;
    updated.partner = f.partner;
    updated.capacity = f.capacity;
    updated.capacity_unit = f.capacity_unit;
    updated.invested_fen = f.invested_fen;
    updated.status = f.status;
    updated.note = f.note;
    let changes = project::Entity::changes(&current, &updated);
    if changes.is_empty() && !households_changed {
        // Nothing to change: no new version, no audit event.
        w.rollback().await?;
        return Ok(Versioned::ok(current.version, view(&current, households)));
    }
    let bumped = w
        .update_versioned::<project::Entity>(current.id, current.version, changes)
        .await?;
    updated.version = bumped.version;
    updated.updated_at = bumped.updated_at;
    if households_changed {
        set_households(&w, current.id, &f.household_ids).await?;
    }
    let (before, after) = (view(&current, households), view(&updated, f.household_ids));
    w.commit(
        Event::new("income_project.update", "income_project", current.id)
            .org(current.org_id)
            .before(&before)
            .after(&after),
    )
    .await?;
    Ok(Versioned::ok(updated.version, after))
}
