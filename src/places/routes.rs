//! `/api/v1/villages` and `/api/v1/villager-groups`.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::entity::{village, villager_group};
use super::{find_village, find_villager_group, villages_in};
use crate::audit::{Event, Write};
use crate::auth::{Access, AuthUser};
use crate::error::{ApiError, Problem};
use crate::http::conditional::etag;
use crate::http::pagination::page_by_text;
use crate::http::validate::short_text;
use crate::http::{Claim, IdempotencyKey, IfMatch, Json, ListQuery, Page, PageParams, StoredResponse, Versioned};
use crate::orgs::{OrgKind, queries as orgs};
use crate::state::AppState;
use crate::text;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_village)
        .service(list_villages)
        .service(get_village)
        .service(rename_village)
        .service(create_villager_group)
        .service(list_villager_groups)
        .service(get_villager_group)
        .service(rename_villager_group);
}

crate::labelled_enum! {
    /// Village (村) or urban community (社区).
    VillageKind("village_kind", "村/社区") { Village => ("village", "村"), Community => ("community", "社区") }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VillageView {
    pub id: Uuid,
    pub kind: VillageKind,
    #[schema(example = "大洼社区")]
    pub name: String,
    /// The party branch that serves it.
    pub org_id: Uuid,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&village::Model> for VillageView {
    fn from(m: &village::Model) -> Self {
        VillageView {
            id: m.id,
            kind: m.kind,
            name: m.name.clone(),
            org_id: m.org_id,
            version: m.version,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"kind": "community", "name": "大洼社区", "org_id": "0192f3a4-7c1e-7b2a-9f00-3c5d2e1f0a11"}))]
pub struct NewVillage {
    pub kind: VillageKind,
    /// 1–100 characters.
    #[schema(format = "short-text", max_length = 100)]
    pub name: String,
    /// The party branch (kind `branch`) that serves it.
    pub org_id: Uuid,
}

/// A new name, for villages and villager groups.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rename {
    /// 1–100 characters.
    #[schema(format = "short-text", max_length = 100)]
    pub name: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VillageFilters {
    /// Only villages served by organisations in this subtree.
    pub org_id: Option<Uuid>,
    /// Name contains this text.
    #[param(format = "search-text", max_length = 200)]
    pub q: Option<String>,
}

/// Register a village or community (新建村/社区) served by a branch in your scope.
#[utoipa::path(tag = "places", security(("bearer" = [])), request_body = NewVillage,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    responses(
        (status = 201, description = "Created", body = VillageView, headers(("Location" = String), ("ETag" = String))),
        (status = 403, description = "Role may not manage places", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Branch not found in your scope", body = Problem, content_type = "application/problem+json"),
))]
#[post("/api/v1/villages")]
async fn create_village(
    state: web::Data<AppState>,
    user: AuthUser,
    key: IdempotencyKey,
    Json(body): Json<NewVillage>,
) -> Result<HttpResponse, ApiError> {
    let name = short_text(&body.name, "/name", 100)?;
    let branch = orgs::find(&state.db, &user.scope(Access::MANAGE), body.org_id).await?;
    if branch.kind != OrgKind::Branch {
        return Err(ApiError::invalid_field(
            "/org_id",
            "not_a_branch",
            text!("a village is served by a party branch", "村/社区须由党支部服务"),
        ));
    }
    let ticket = match key.claim(&state.db, &user.id().to_string()).await? {
        Claim::Replay(stored) => return Ok(stored),
        Claim::Proceed(ticket) => ticket,
    };
    let now = crate::db::now();
    let model = village::Model {
        id: Uuid::now_v7(),
        kind: body.kind,
        name,
        org_id: branch.id,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let w = Write::begin(&state.db, &user.audit).await?;
    village::Entity::insert(village::ActiveModel {
        id: Set(model.id),
        kind: Set(model.kind),
        name: Set(model.name.clone()),
        org_id: Set(model.org_id),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .exec_without_returning(w.db())
    .await?;
    let view = VillageView::from(&model);
    let event = Event::new("village.create", "village", model.id)
        .org(branch.id)
        .after(&view);
    let response = StoredResponse::json(StatusCode::CREATED, &view)?
        .location(format!("/api/v1/villages/{}", model.id))
        .header(header::ETAG, etag(1));
    ticket.commit(w, event, response).await
}

/// Villages and communities in your scope, ordered by name.
#[utoipa::path(tag = "places", security(("bearer" = [])), params(VillageFilters, PageParams), responses(
    (status = 200, description = "One page", body = Page<VillageView>),
))]
#[get("/api/v1/villages")]
async fn list_villages(
    state: web::Data<AppState>,
    user: AuthUser,
    query: ListQuery<VillageFilters>,
) -> Result<Json<Page<VillageView>>, ApiError> {
    let scope = user.scope(Access::READ);
    let limit = query.page.limit()?;
    let mut select = match query.filters.org_id {
        Some(org_id) => {
            let root = orgs::find(&state.db, &scope, org_id).await?;
            village::Entity::find().filter(scope.narrowed_to(&root.path, village::Column::OrgId))
        }
        None => village::Entity::find().filter(scope.org_condition(village::Column::OrgId)),
    };
    if let Some(q) = query.filters.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        select = select.filter(village::Column::Name.contains(q));
    }
    let (rows, total) = page_by_text(
        &state.db,
        select,
        village::Column::Name,
        village::Column::Id,
        &query.page,
    )
    .await?;
    let views: Vec<VillageView> = rows.iter().map(VillageView::from).collect();
    Ok(Json(
        Page::from_rows(views, limit, |v| (v.name.clone(), v.id)).with_total(total),
    ))
}

/// One village or community.
#[utoipa::path(tag = "places", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, description = "The village", body = VillageView, headers(("ETag" = String))),
))]
#[get("/api/v1/villages/{id}")]
async fn get_village(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> Result<Versioned<VillageView>, ApiError> {
    let v = find_village(&state.db, &user.scope(Access::READ), *id).await?;
    Ok(Versioned::ok(v.version, VillageView::from(&v)))
}

/// Rename a village or community. Requires `If-Match`.
#[utoipa::path(tag = "places", security(("bearer" = [])), request_body = Rename,
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag from your last read")),
    responses(
        (status = 200, description = "Renamed", body = VillageView, headers(("ETag" = String))),
        (status = 403, description = "Role may not manage places", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Name not valid", body = Problem, content_type = "application/problem+json"),
))]
#[patch("/api/v1/villages/{id}")]
async fn rename_village(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    Json(body): Json<Rename>,
) -> Result<Versioned<VillageView>, ApiError> {
    let name = short_text(&body.name, "/name", 100)?;
    let scope = user.scope(Access::MANAGE);
    let w = Write::begin(&state.db, &user.audit).await?;
    let v = find_village(w.db(), &scope, *id).await?;
    if_match.check(v.version)?;
    let renamed = vec![(village::Column::Name, Expr::value(name))];
    w.update_versioned::<village::Entity>(v.id, v.version, renamed).await?;
    let after = find_village(w.db(), &scope, v.id).await?;
    let (old, new) = (VillageView::from(&v), VillageView::from(&after));
    w.commit(
        Event::new("village.rename", "village", v.id)
            .org(v.org_id)
            .before(&old)
            .after(&new),
    )
    .await?;
    Ok(Versioned::ok(after.version, new))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VillagerGroupView {
    pub id: Uuid,
    pub village_id: Uuid,
    #[schema(example = "司山村民组")]
    pub name: String,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&villager_group::Model> for VillagerGroupView {
    fn from(m: &villager_group::Model) -> Self {
        VillagerGroupView {
            id: m.id,
            village_id: m.village_id,
            name: m.name.clone(),
            version: m.version,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"village_id": "0192f3a4-7c1e-7b2a-9f00-3c5d2e1f0a11", "name": "司山村民组"}))]
pub struct NewVillagerGroup {
    pub village_id: Uuid,
    /// 1–100 characters.
    #[schema(format = "short-text", max_length = 100)]
    pub name: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VillagerGroupFilters {
    /// Only this village's groups.
    pub village_id: Option<Uuid>,
}

/// Register a villager group (新建村民组) in a village in your scope.
#[utoipa::path(tag = "places", security(("bearer" = [])), request_body = NewVillagerGroup,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    responses(
        (status = 201, description = "Created", body = VillagerGroupView, headers(("Location" = String), ("ETag" = String))),
        (status = 403, description = "Role may not manage places", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Village not found in your scope", body = Problem, content_type = "application/problem+json"),
))]
#[post("/api/v1/villager-groups")]
async fn create_villager_group(
    state: web::Data<AppState>,
    user: AuthUser,
    key: IdempotencyKey,
    Json(body): Json<NewVillagerGroup>,
) -> Result<HttpResponse, ApiError> {
    let name = short_text(&body.name, "/name", 100)?;
    let v = find_village(&state.db, &user.scope(Access::MANAGE), body.village_id).await?;
    let ticket = match key.claim(&state.db, &user.id().to_string()).await? {
        Claim::Replay(stored) => return Ok(stored),
        Claim::Proceed(ticket) => ticket,
    };
    let now = crate::db::now();
    let model = villager_group::Model {
        id: Uuid::now_v7(),
        village_id: v.id,
        name,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let w = Write::begin(&state.db, &user.audit).await?;
    villager_group::Entity::insert(villager_group::ActiveModel {
        id: Set(model.id),
        village_id: Set(model.village_id),
        name: Set(model.name.clone()),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .exec_without_returning(w.db())
    .await?;
    let view = VillagerGroupView::from(&model);
    let event = Event::new("villager_group.create", "villager_group", model.id)
        .org(v.org_id)
        .after(&view);
    let response = StoredResponse::json(StatusCode::CREATED, &view)?
        .location(format!("/api/v1/villager-groups/{}", model.id))
        .header(header::ETAG, etag(1));
    ticket.commit(w, event, response).await
}

/// Villager groups in your scope, ordered by name.
#[utoipa::path(tag = "places", security(("bearer" = [])), params(VillagerGroupFilters, PageParams), responses(
    (status = 200, description = "One page", body = Page<VillagerGroupView>),
))]
#[get("/api/v1/villager-groups")]
async fn list_villager_groups(
    state: web::Data<AppState>,
    user: AuthUser,
    query: ListQuery<VillagerGroupFilters>,
) -> Result<Json<Page<VillagerGroupView>>, ApiError> {
    let limit = query.page.limit()?;
    let mut select = villager_group::Entity::find().filter(villages_in(
        &user.scope(Access::READ),
        villager_group::Column::VillageId,
    ));
    if let Some(village_id) = query.filters.village_id {
        select = select.filter(villager_group::Column::VillageId.eq(village_id));
    }
    let rows = page_by_text(
        &state.db,
        select,
        villager_group::Column::Name,
        villager_group::Column::Id,
        &query.page,
    )
    .await?;
    let total = rows.1;
    let views: Vec<VillagerGroupView> = rows.0.iter().map(VillagerGroupView::from).collect();
    Ok(Json(
        Page::from_rows(views, limit, |v| (v.name.clone(), v.id)).with_total(total),
    ))
}

/// One villager group.
#[utoipa::path(tag = "places", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, description = "The villager group", body = VillagerGroupView, headers(("ETag" = String))),
))]
#[get("/api/v1/villager-groups/{id}")]
async fn get_villager_group(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> Result<Versioned<VillagerGroupView>, ApiError> {
    let g = find_villager_group(&state.db, &user.scope(Access::READ), *id).await?;
    Ok(Versioned::ok(g.version, VillagerGroupView::from(&g)))
}

/// Rename a villager group. Requires `If-Match`.
#[utoipa::path(tag = "places", security(("bearer" = [])), request_body = Rename,
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag from your last read")),
    responses(
        (status = 200, description = "Renamed", body = VillagerGroupView, headers(("ETag" = String))),
        (status = 403, description = "Role may not manage places", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Name not valid", body = Problem, content_type = "application/problem+json"),
))]
#[patch("/api/v1/villager-groups/{id}")]
async fn rename_villager_group(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    Json(body): Json<Rename>,
) -> Result<Versioned<VillagerGroupView>, ApiError> {
    let name = short_text(&body.name, "/name", 100)?;
    let scope = user.scope(Access::MANAGE);
    let w = Write::begin(&state.db, &user.audit).await?;
    let g = find_villager_group(w.db(), &scope, *id).await?;
    if_match.check(g.version)?;
    let renamed = vec![(villager_group::Column::Name, Expr::value(name))];
    w.update_versioned::<villager_group::Entity>(g.id, g.version, renamed)
        .await?;
    let after = find_villager_group(w.db(), &scope, g.id).await?;
    let village = find_village(w.db(), &scope, g.village_id).await?;
    let (old, new) = (VillagerGroupView::from(&g), VillagerGroupView::from(&after));
    let event = Event::new("villager_group.rename", "villager_group", g.id)
        .org(village.org_id)
        .before(&old)
        .after(&new);
    w.commit(event).await?;
    Ok(Versioned::ok(after.version, new))
}
