//! `/api/v1/cadres`: helpers who are not party members of the town's tree (帮扶干部: town or
//! county staff, resident village cadres). Their phone is masked like a member's.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, get, patch, post, web};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter};
use uuid::Uuid;

use super::entity::cadre;
use super::types::*;
use crate::audit::{Event, VersionedEntity, Write};
use crate::auth::{Access, AuthUser, Scope, find_placed};
use crate::error::{ApiError, FieldError, Problem};
use crate::http::conditional::etag;
use crate::http::pagination::page_by_text;
use crate::http::validate::collect_text;
use crate::http::{
    Claim, IdempotencyKey, IfMatch, Json, ListQuery, Page, PageParams, Query, StoredResponse, Versioned,
};
use crate::members::checks::valid_mobile;
use crate::members::optional_text;
use crate::members::pii::{DataKeys, mask_phone};
use crate::members::types::{Reveal, RevealParams};
use crate::orgs::queries as orgs;
use crate::state::AppState;
use crate::text;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_cadre)
        .service(list_cadres)
        .service(get_cadre)
        .service(update_cadre);
}

/// A cadre serving an organisation inside `scope`, else 404.
pub async fn find<C: ConnectionTrait>(db: &C, scope: &Scope, id: Uuid) -> Result<cadre::Model, ApiError> {
    Ok(find_placed_in(db, id)
        .await?
        .filter(|(_, path)| scope.covers(path))
        .ok_or(ApiError::NotFound)?
        .0)
}

async fn find_placed_in<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<Option<(cadre::Model, String)>, ApiError> {
    Ok(find_placed(
        db,
        cadre::Entity::find_by_id(id),
        cadre::Column::OrgId,
        None::<cadre::Column>,
    )
    .await?
    .map(|(c, place)| (c, place.org_path)))
}

/// A cadre the caller may read (the readers of households where the cadre serves, or the
/// cadre themself), else 404.
pub async fn find_readable<C: ConnectionTrait>(db: &C, user: &AuthUser, id: Uuid) -> Result<cadre::Model, ApiError> {
    match find_placed_in(db, id).await? {
        Some((c, path)) if readers(user).covers(&path) || user.principal.cadre_id == Some(c.id) => Ok(c),
        _ => Err(ApiError::NotFound),
    }
}

/// Who reads cadres: those who read the households of their subtree.
fn readers(user: &AuthUser) -> Scope {
    user.scope(crate::households::READERS)
}

/// Whether the caller manages the cadre (false for no such cadre).
pub async fn manages<C: ConnectionTrait>(db: &C, user: &AuthUser, id: Uuid) -> Result<bool, ApiError> {
    Ok(find_placed_in(db, id)
        .await?
        .is_some_and(|(_, path)| user.scope(Access::MANAGE).covers(&path)))
}

/// The cadre an account is being linked to: one the caller manages, else 422.
pub async fn find_managed_for_link<C: ConnectionTrait>(
    db: &C,
    user: &AuthUser,
    id: Uuid,
) -> Result<cadre::Model, ApiError> {
    find(db, &user.scope(Access::MANAGE), id).await.map_err(|e| match e {
        ApiError::NotFound => ApiError::invalid_field(
            "/cadre_id",
            "not_found",
            text!("no such cadre in your scope", "您的权限范围内没有该帮扶干部"),
        ),
        other => other, // an outage stays an outage
    })
}

fn context(id: Uuid) -> String {
    format!("cadre:{id}:phone")
}

/// The view: the phone decrypted, then masked unless `reveal`.
pub fn view(c: &cadre::Model, keys: &DataKeys, reveal: bool) -> Result<CadreView, ApiError> {
    let phone = match &c.phone_enc {
        Some(p) => Some(
            keys.decrypt(p, &context(c.id))
                .ok_or_else(|| ApiError::internal(format!("cadre {}: the stored phone cannot be decrypted", c.id)))?,
        ),
        None => None,
    };
    Ok(CadreView {
        id: c.id,
        org_id: c.org_id,
        name: c.name.clone(),
        work_unit: c.work_unit.clone(),
        post: c.post.clone(),
        phone: phone.map(|p| if reveal { p } else { mask_phone(&p) }),
        pii_revealed: reveal,
        version: c.version,
        created_at: c.created_at,
        updated_at: c.updated_at,
    })
}

/// A cadre's fields after validation.
struct CadreFields {
    name: String,
    work_unit: String,
    post: Option<String>,
    phone: Option<String>,
}

fn validate(name: &str, work_unit: &str, post: Option<String>, phone: Option<String>) -> Result<CadreFields, ApiError> {
    let mut errors = Vec::new();
    let name = collect_text(name, "/name", 50, &mut errors);
    let work_unit = collect_text(work_unit, "/work_unit", 100, &mut errors);
    let post = optional_text(post, "/post", 100, &mut errors);
    let phone = phone.filter(|p| !p.is_empty());
    if phone.as_deref().is_some_and(|p| !valid_mobile(p)) {
        errors.push(FieldError::body(
            "/phone",
            "format",
            text!("must be 11 digits starting with 1", "须为以 1 开头的 11 位数字"),
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    Ok(CadreFields {
        name,
        work_unit,
        post,
        phone,
    })
}

/// Register a cadre helper (新增帮扶干部) serving an organisation in your scope. Accepts
/// `Idempotency-Key`.
#[utoipa::path(tag = "pairings", security(("bearer" = [])), request_body = NewCadre,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    responses(
        (status = 201, description = "Created (phone masked)", body = CadreView, headers(("Location" = String), ("ETag" = String))),
        (status = 403, description = "Role may not manage cadres", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Organisation not found in your scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not valid", body = Problem, content_type = "application/problem+json"),
))]
#[post("/api/v1/cadres")]
async fn create_cadre(
    state: web::Data<AppState>,
    user: AuthUser,
    key: IdempotencyKey,
    Json(body): Json<NewCadre>,
) -> Result<HttpResponse, ApiError> {
    let f = validate(&body.name, &body.work_unit, body.post, body.phone)?;
    let org = orgs::find(&state.db, &user.scope(Access::MANAGE), body.org_id).await?;
    let ticket = match key.claim(&state.db, &user.id().to_string()).await? {
        Claim::Replay(stored) => return Ok(stored),
        Claim::Proceed(ticket) => ticket,
    };
    let now = crate::db::now();
    let id = Uuid::now_v7();
    let c = cadre::Model {
        id,
        org_id: org.id,
        name: f.name,
        work_unit: f.work_unit,
        post: f.post,
        phone_enc: f.phone.map(|p| state.data_keys.encrypt(&p, &context(id))),
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let w = Write::begin(&state.db, &user.audit).await?;
    cadre::Entity::insert(c.clone().into_active_model())
        .exec_without_returning(w.db())
        .await?;
    let masked = view(&c, &state.data_keys, false)?;
    let event = Event::new("cadre.create", "cadre", c.id)
        .org(c.org_id)
        .after(view(&c, &state.data_keys, true)?);
    let response = StoredResponse::json(StatusCode::CREATED, &masked)?
        .location(format!("/api/v1/cadres/{}", c.id))
        .header(header::ETAG, etag(1));
    ticket.commit(w, event, response).await
}

/// Cadre helpers serving organisations in your scope, by name.
#[utoipa::path(tag = "pairings", security(("bearer" = [])), params(CadreFilters, PageParams), responses(
    (status = 200, description = "One page", body = Page<CadreView>),
))]
#[get("/api/v1/cadres")]
async fn list_cadres(
    state: web::Data<AppState>,
    user: AuthUser,
    query: ListQuery<CadreFilters>,
) -> Result<Json<Page<CadreView>>, ApiError> {
    let scope = readers(&user);
    let limit = query.page.limit()?;
    let mut select = match query.filters.org_id {
        Some(org_id) => {
            let root = orgs::find(&state.db, &scope, org_id).await?;
            cadre::Entity::find().filter(scope.narrowed_to(&root.path, cadre::Column::OrgId))
        }
        None => cadre::Entity::find().filter(scope.org_condition(cadre::Column::OrgId)),
    };
    if let Some(q) = query.filters.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        select = select.filter(cadre::Column::Name.contains(q));
    }
    let (rows, total) = page_by_text(&state.db, select, cadre::Column::Name, cadre::Column::Id, &query.page).await?;
    let views = rows
        .iter()
        .map(|c| view(c, &state.data_keys, false))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Json(
        Page::from_rows(views, limit, |c| (c.name.clone(), c.id)).with_total(total),
    ))
}

/// One cadre. With `reveal=pii` the phone is shown in full, to the cadre and to secretaries
/// and administrators over them; each reveal is audited.
#[utoipa::path(tag = "pairings", security(("bearer" = [])), params(("id" = Uuid, Path), RevealParams), responses(
    (status = 200, description = "The cadre", body = CadreView, headers(("ETag" = String))),
    (status = 304, description = "Unchanged since If-None-Match"),
    (status = 403, description = "reveal=pii without the right", body = Problem, content_type = "application/problem+json"),
))]
#[get("/api/v1/cadres/{id}")]
async fn get_cadre(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    Query(params): Query<RevealParams>,
) -> Result<Versioned<CadreView>, ApiError> {
    let c = find_readable(&state.db, &user, *id).await?;
    let reveal = params.reveal == Some(Reveal::Pii);
    if reveal {
        let own = user.principal.cadre_id == Some(c.id);
        if !own && !manages(&state.db, &user, c.id).await? {
            return Err(ApiError::Forbidden {
                detail: text!(
                    "Only the cadre and the secretaries or administrators over them may reveal personal data.",
                    "只有本人及其上级支部书记或管理员可以查看完整个人信息。"
                ),
            });
        }
        let event = Event::new("cadre.reveal_pii", "cadre", c.id).org(c.org_id);
        Write::record_alone(&state.db, &user.audit, event).await?;
    }
    Ok(Versioned::ok(c.version, view(&c, &state.data_keys, reveal)?))
}

/// Change a cadre (`null` clears an optional field). Requires `If-Match`.
#[utoipa::path(tag = "pairings", security(("bearer" = [])), request_body = CadrePatch,
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag from your last read")),
    responses(
        (status = 200, description = "Changed", body = CadreView, headers(("ETag" = String))),
        (status = 403, description = "Not yours to change", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not valid", body = Problem, content_type = "application/problem+json"),
))]
#[patch("/api/v1/cadres/{id}")]
async fn update_cadre(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    Json(patch): Json<CadrePatch>,
) -> Result<Versioned<CadreView>, ApiError> {
    let keys = &state.data_keys;
    let w = Write::begin(&state.db, &user.audit).await?;
    let current = find_readable(w.db(), &user, *id).await?;
    if !manages(w.db(), &user, current.id).await? {
        return Err(ApiError::Forbidden {
            detail: text!(
                "Only the branch secretary or an administrator changes a cadre.",
                "只有支部书记或管理员可以修改帮扶干部信息。"
            ),
        });
    }
    if_match.check(current.version)?;
    let revealed = view(&current, keys, true)?;
    let f = validate(
        &patch.name.unwrap_or(current.name.clone()),
        &patch.work_unit.unwrap_or(current.work_unit.clone()),
        patch.post.unwrap_or(current.post.clone()),
        patch.phone.unwrap_or(revealed.phone.clone()),
    )?;
    let mut updated = current.clone();
    updated.name = f.name;
    updated.work_unit = f.work_unit;
    updated.post = f.post;
    if f.phone != revealed.phone {
        updated.phone_enc = f.phone.map(|p| keys.encrypt(&p, &context(current.id)));
    }
    let changes = cadre::Entity::changes(&current, &updated);
    let bumped = w
        .update_versioned::<cadre::Entity>(current.id, current.version, changes)
        .await?;
    updated.version = bumped.version;
    updated.updated_at = bumped.updated_at;
    let event = Event::new("cadre.update", "cadre", current.id)
        .org(current.org_id)
        .before(&revealed)
        .after(view(&updated, keys, true)?);
    w.commit(event).await?;
    Ok(Versioned::ok(updated.version, view(&updated, keys, false)?))
}
