//! `/api/v1/orgs`: create, read, list, children, subtree, rename, move, delete.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, delete, get, patch, post, web};
use sea_orm::sea_query::Expr;
use uuid::Uuid;

use super::entity::{Column, Entity};
use super::queries;
use super::types::{MoveOrg, NewOrg, OrgFilters, OrgKind, OrgPatch, OrgTreeNode, OrgView};
use crate::audit::{Event, Write};
use crate::auth::{Access, AuthUser};
use crate::error::{ApiError, FieldError, Lang, Problem};
use crate::http::conditional::etag;
use crate::http::pagination::NoFilters;
use crate::http::validate::short_text;
use crate::http::{Claim, IdempotencyKey, IfMatch, Json, ListQuery, Page, PageParams, StoredResponse, Versioned};
use crate::state::AppState;
use crate::text;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_org)
        .service(list_orgs)
        .service(get_org)
        .service(rename_org)
        .service(delete_org)
        .service(list_children)
        .service(get_tree)
        .service(move_org);
}

/// Create an organisation (新建党组织) under a parent in your scope.
///
/// Structure: general branches sit under the committee; branches under the committee or a
/// general branch; groups under a branch. Accepts `Idempotency-Key`.
#[utoipa::path(tag = "orgs", security(("bearer" = [])), request_body = NewOrg,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key, at most 255 characters")),
    responses(
        (status = 201, description = "Created", body = OrgView, headers(("Location" = String), ("ETag" = String))),
        (status = 403, description = "Role may not manage organisations", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Parent not found in your scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not valid (name, structure)", body = Problem, content_type = "application/problem+json"),
))]
#[post("/api/v1/orgs")]
async fn create_org(
    state: web::Data<AppState>,
    user: AuthUser,
    key: IdempotencyKey,
    Json(body): Json<NewOrg>,
) -> Result<HttpResponse, ApiError> {
    let name = short_text(&body.name, "/name", 100)?;
    let scope = user.scope(Access::MANAGE);
    let parent = queries::find(&state.db, &scope, body.parent_id).await?;
    let parent_kind = parent.kind;
    if !body.kind.may_sit_under(parent_kind) {
        return Err(ApiError::invalid_field(
            "/kind",
            "structure",
            text!(
                "a {} cannot sit under a {}",
                "{} 不能设在 {} 之下",
                body.kind.as_str(),
                parent_kind.as_str()
            ),
        ));
    }
    if let Some(vg) = body.villager_group_id {
        if body.kind != OrgKind::Group {
            return Err(ApiError::invalid_field(
                "/villager_group_id",
                "not_allowed",
                text!("only groups serve a villager group", "只有党小组可以对应村民组"),
            ));
        }
        check_grid_group(&state.db, &user, vg, parent.id, "/villager_group_id").await?;
    }
    let ticket = match key.claim(&state.db, &user.id().to_string()).await? {
        Claim::Replay(stored) => return Ok(stored),
        Claim::Proceed(ticket) => ticket,
    };
    let w = Write::begin(&state.db, &user.audit).await?;
    let org = queries::insert(&w, Some(&parent), body.kind, name, body.villager_group_id).await?;
    let view = OrgView::from(&org);
    let event = Event::new("org.create", "org", org.id).org(org.id).after(&view);
    let response = StoredResponse::json(StatusCode::CREATED, &view)?
        .location(format!("/api/v1/orgs/{}", org.id))
        .header(header::ETAG, etag(org.version));
    ticket.commit(w, event, response).await
}

/// List organisations in your scope (党组织列表), ordered by name.
#[utoipa::path(tag = "orgs", security(("bearer" = [])), params(OrgFilters, PageParams), responses(
    (status = 200, description = "One page", body = Page<OrgView>),
))]
#[get("/api/v1/orgs")]
async fn list_orgs(
    state: web::Data<AppState>,
    user: AuthUser,
    query: ListQuery<OrgFilters>,
) -> Result<Json<Page<OrgView>>, ApiError> {
    let (rows, total) = queries::list(&state.db, &user.scope(Access::READ), &query.filters, &query.page, None).await?;
    let limit = query.page.limit()?;
    let views: Vec<OrgView> = rows.iter().map(OrgView::from).collect();
    Ok(Json(
        Page::from_rows(views, limit, |o| (o.name.clone(), o.id)).with_total(total),
    ))
}

/// One organisation (党组织). `ETag` carries its version.
#[utoipa::path(tag = "orgs", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, description = "The organisation", body = OrgView, headers(("ETag" = String))),
    (status = 304, description = "Unchanged since If-None-Match"),
))]
#[get("/api/v1/orgs/{id}")]
async fn get_org(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> Result<Versioned<OrgView>, ApiError> {
    let org = queries::find(&state.db, &user.scope(Access::READ), *id).await?;
    Ok(Versioned::ok(org.version, OrgView::from(&org)))
}

/// Rename an organisation. Requires `If-Match`.
#[utoipa::path(tag = "orgs", security(("bearer" = [])), request_body = OrgPatch,
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag from your last read")),
    responses(
        (status = 200, description = "Renamed", body = OrgView, headers(("ETag" = String))),
        (status = 403, description = "Role may not manage organisations", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Name not valid", body = Problem, content_type = "application/problem+json"),
))]
#[patch("/api/v1/orgs/{id}")]
async fn rename_org(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    Json(body): Json<OrgPatch>,
) -> Result<Versioned<OrgView>, ApiError> {
    let name = short_text(&body.name, "/name", 100)?;
    let scope = user.scope(Access::MANAGE);
    let w = Write::begin(&state.db, &user.audit).await?;
    let org = queries::find(w.db(), &scope, *id).await?;
    if_match.check(org.version)?;
    w.update_versioned::<Entity>(org.id, org.version, vec![(Column::Name, Expr::value(name))])
        .await?;
    let updated = queries::find(w.db(), &scope, org.id).await?;
    let (before, after) = (OrgView::from(&org), OrgView::from(&updated));
    w.commit(
        Event::new("org.rename", "org", org.id)
            .org(org.id)
            .before(&before)
            .after(&after),
    )
    .await?;
    Ok(Versioned::ok(updated.version, after))
}

/// Delete an empty organisation: nothing may be filed under it (child organisations,
/// villages, members or posts, pledges, star ratings, poor households or helpers, accounts or
/// grants; 409 names what is). Requires `If-Match`. The record is kept for the audit trail.
#[utoipa::path(tag = "orgs", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag from your last read")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Role may not manage organisations", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not empty, or the root", body = Problem, content_type = "application/problem+json"),
))]
#[delete("/api/v1/orgs/{id}")]
async fn delete_org(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let w = Write::begin(&state.db, &user.audit).await?;
    let org = queries::find(w.db(), &user.scope(Access::MANAGE), *id).await?;
    if_match.check(org.version)?;
    if org.parent_id.is_none() {
        return Err(ApiError::conflict(text!(
            "The root committee cannot be deleted.",
            "不能删除党委（根组织）。"
        )));
    }
    if let Some(reason) = queries::blocking_dependents(w.db(), &org).await? {
        let (reason_en, reason_zh) = (reason.get(Lang::En), reason.get(Lang::Zh));
        return Err(ApiError::conflict(text!(
            "This organisation cannot be deleted: {reason_en}.",
            "不能删除该组织：{reason_zh}。"
        )));
    }
    let deleted = vec![(Column::DeletedAt, Expr::value(crate::db::now()))];
    w.update_versioned::<Entity>(org.id, org.version, deleted).await?;
    w.commit(
        Event::new("org.delete", "org", org.id)
            .org(org.id)
            .before(OrgView::from(&org)),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The direct children of an organisation, ordered by name.
#[utoipa::path(tag = "orgs", security(("bearer" = [])), params(("id" = Uuid, Path), PageParams), responses(
    (status = 200, description = "One page of children", body = Page<OrgView>),
))]
#[get("/api/v1/orgs/{id}/children")]
async fn list_children(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    query: ListQuery<NoFilters>,
) -> Result<Json<Page<OrgView>>, ApiError> {
    let scope = user.scope(Access::READ);
    let parent = queries::find(&state.db, &scope, *id).await?;
    let filters = OrgFilters {
        org_id: None,
        kind: None,
        q: None,
    };
    let (rows, total) = queries::list(&state.db, &scope, &filters, &query.page, Some(parent.id)).await?;
    let views: Vec<OrgView> = rows.iter().map(OrgView::from).collect();
    Ok(Json(
        Page::from_rows(views, query.page.limit()?, |o| (o.name.clone(), o.id)).with_total(total),
    ))
}

/// The whole subtree under an organisation, nested.
#[utoipa::path(tag = "orgs", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, description = "The subtree", body = OrgTreeNode),
))]
#[get("/api/v1/orgs/{id}/tree")]
async fn get_tree(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> Result<Json<OrgTreeNode>, ApiError> {
    let rows = queries::subtree(&state.db, &user.scope(Access::READ), *id).await?;
    // Rows are ordered by path, so every parent comes before its children.
    fn build(rows: &[super::entity::Model], parent: Uuid) -> Vec<OrgTreeNode> {
        let mut children: Vec<OrgTreeNode> = rows
            .iter()
            .filter(|r| r.parent_id == Some(parent))
            .map(|r| OrgTreeNode {
                id: r.id,
                kind: r.kind,
                name: r.name.clone(),
                villager_group_id: r.villager_group_id,
                children: build(rows, r.id),
            })
            .collect();
        children.sort_by(|a, b| a.name.cmp(&b.name));
        children
    }
    let root = rows.first().ok_or(ApiError::NotFound)?;
    Ok(Json(OrgTreeNode {
        id: root.id,
        kind: root.kind,
        name: root.name.clone(),
        villager_group_id: root.villager_group_id,
        children: build(&rows, root.id),
    }))
}

/// Move an organisation and its subtree under another parent (调整隶属关系). Both must be in
/// your scope. Requires `If-Match`.
#[utoipa::path(tag = "orgs", security(("bearer" = [])), request_body = MoveOrg,
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag from your last read")),
    responses(
        (status = 200, description = "Moved", body = OrgView, headers(("ETag" = String))),
        (status = 403, description = "Role may not manage organisations", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Organisation or new parent not found in your scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The root cannot move", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Breaks the structure or makes a cycle", body = Problem, content_type = "application/problem+json"),
))]
#[post("/api/v1/orgs/{id}/move")]
async fn move_org(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    Json(body): Json<MoveOrg>,
) -> Result<Versioned<OrgView>, ApiError> {
    let scope = user.scope(Access::MANAGE);
    let w = Write::begin(&state.db, &user.audit).await?;
    let org = queries::find(w.db(), &scope, *id).await?;
    if_match.check(org.version)?;
    if org.parent_id.is_none() {
        return Err(ApiError::conflict(text!(
            "The root committee cannot move.",
            "党委（根组织）不能调整隶属关系。"
        )));
    }
    let parent = queries::find(w.db(), &scope, body.parent_id).await?;
    if parent.path.starts_with(org.path.as_str()) {
        return Err(ApiError::Validation(vec![FieldError::body(
            "/parent_id",
            "cycle",
            text!(
                "cannot move an organisation under itself or its own subtree",
                "不能把组织移到它自身或其下级组织之下"
            ),
        )]));
    }
    let kind = org.kind;
    let parent_kind = parent.kind;
    if !kind.may_sit_under(parent_kind) {
        return Err(ApiError::invalid_field(
            "/parent_id",
            "structure",
            text!(
                "a {} cannot sit under a {}",
                "{} 不能设在 {} 之下",
                kind.as_str(),
                parent_kind.as_str()
            ),
        ));
    }
    if let Some(vg) = org.villager_group_id {
        // The same rule as at creation: a grid group moves only to a branch serving its village.
        check_grid_group(w.db(), &user, vg, parent.id, "/parent_id").await?;
    }
    queries::move_subtree(&w, &org, &parent).await?;
    if kind == OrgKind::Group {
        // A group's members belong to the branch the group sits in; each move is in their history.
        crate::members::follow_group(&w, org.id, parent.id, user.id()).await?;
    }
    let moved = queries::find(w.db(), &scope, org.id).await?;
    let (before, after) = (OrgView::from(&org), OrgView::from(&moved));
    w.commit(
        Event::new("org.move", "org", org.id)
            .org(org.id)
            .before(&before)
            .after(&after),
    )
    .await?;
    // Cached grants hold organisation paths: reload them.
    state.auth.principals.clear();
    Ok(Versioned::ok(moved.version, after))
}

/// A grid group (网格党小组) serves a villager group of a village that its branch serves.
/// `pointer` names the field the caller can fix.
async fn check_grid_group<C: sea_orm::ConnectionTrait>(
    db: &C,
    user: &AuthUser,
    villager_group_id: Uuid,
    branch_id: Uuid,
    pointer: &str,
) -> Result<(), ApiError> {
    let not_found = |e: ApiError| match e {
        ApiError::NotFound => ApiError::invalid_field(
            pointer,
            "not_found",
            text!("no such villager group in your scope", "您的权限范围内没有该村民组"),
        ),
        other => other, // an outage stays an outage
    };
    let scope = user.scope(Access::READ);
    let group = crate::places::find_villager_group(db, &scope, villager_group_id)
        .await
        .map_err(not_found)?;
    let village = crate::places::find_village(db, &scope, group.village_id)
        .await
        .map_err(not_found)?;
    if village.org_id != branch_id {
        return Err(ApiError::invalid_field(
            pointer,
            "other_branch",
            text!(
                "a grid group serves a villager group of a village its branch serves",
                "网格党小组只能对应其党支部所服务村的村民组"
            ),
        ));
    }
    Ok(())
}
