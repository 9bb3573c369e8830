//! `/api/v1/users/{id}/grants`: granting and revoking roles (授予、撤销角色). The same
//! rules as for managing the account apply ([`super::routes`]), and a role granted or revoked
//! must be below the caller's own over that organisation.

use actix_web::http::header;
use actix_web::{HttpResponse, delete, post, web};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::ensure_grant;
use super::entity::grant;
use super::routes::{find_managed, view};
use crate::audit::{Event, Write};
use crate::auth::routes_support::GrantView;
use crate::auth::{Access, AuthUser, Role};
use crate::error::{ApiError, Problem};
use crate::http::Json;
use crate::orgs::queries as orgs;
use crate::state::AppState;
use crate::text;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(add_grant).service(remove_grant);
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"role": "group_leader", "org_id": "0192f3a4-7c1e-7b2a-9f00-3c5d2e1f0a11"}))]
pub struct NewGrant {
    /// A role below your own.
    pub role: Role,
    /// An organisation in your scope; the grant covers its subtree.
    pub org_id: Uuid,
}

/// Grant a role (授予角色) over an organisation's subtree. You can only grant roles below
/// your own, inside your own scope, and never to yourself.
#[utoipa::path(tag = "users", security(("bearer" = [])), request_body = NewGrant, params(("id" = Uuid, Path)),
    responses(
        (status = 201, description = "Granted", body = GrantView, headers(("Location" = String))),
        (status = 403, description = "Role not below yours, or your own account", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Account or organisation not found in your scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already granted", body = Problem, content_type = "application/problem+json"),
))]
#[post("/api/v1/users/{id}/grants")]
async fn add_grant(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<Uuid>,
    Json(body): Json<NewGrant>,
) -> Result<HttpResponse, ApiError> {
    let w = Write::begin(&state.db, &caller.audit).await?;
    let account = find_managed(w.db(), &caller, *id).await?;
    let org = orgs::find(w.db(), &caller.scope(Access::MANAGE), body.org_id).await?;
    if caller
        .principal
        .managing_role_over(&org.path)
        .is_none_or(|mine| mine <= body.role)
    {
        return Err(ApiError::Forbidden {
            detail: text!("You can only grant roles below your own.", "您只能授予低于自己的角色。"),
        });
    }
    let before = view(w.db(), &account).await?;
    if before.grants.iter().any(|g| g.role == body.role && g.org_id == org.id) {
        return Err(ApiError::conflict(text!(
            "The account already holds this role here.",
            "该账户在此已拥有此角色。"
        )));
    }
    let grant_id = ensure_grant(&w, account.id, body.role, org.id).await?;
    let after = view(w.db(), &account).await?;
    let event = Event::new("user.grant", "user", account.id)
        .org(org.id)
        .before(&before)
        .after(&after);
    w.commit(event).await?;
    state.auth.principals.evict(account.id);
    let granted = after
        .grants
        .into_iter()
        .find(|g| g.id == grant_id)
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/users/{}", account.id)))
        .json(granted))
}

/// Revoke a grant. The same rules as granting apply.
#[utoipa::path(tag = "users", security(("bearer" = [])), params(("id" = Uuid, Path), ("grant_id" = Uuid, Path)),
    responses(
        (status = 204, description = "Revoked"),
        (status = 403, description = "Role not below yours, or your own account", body = Problem, content_type = "application/problem+json"),
))]
#[delete("/api/v1/users/{id}/grants/{grant_id}")]
async fn remove_grant(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (user_id, grant_id) = path.into_inner();
    let w = Write::begin(&state.db, &caller.audit).await?;
    let account = find_managed(w.db(), &caller, user_id).await?;
    let g = grant::Entity::find_by_id(grant_id)
        .filter(grant::Column::UserId.eq(account.id))
        .one(w.db())
        .await?
        .ok_or(ApiError::NotFound)?;
    let org = orgs::find(w.db(), &caller.scope(Access::MANAGE), g.org_id).await?;
    let role = g.role;
    if caller
        .principal
        .managing_role_over(&org.path)
        .is_none_or(|mine| mine <= role)
    {
        return Err(ApiError::Forbidden {
            detail: text!(
                "You can only revoke roles below your own.",
                "您只能撤销低于自己的角色。"
            ),
        });
    }
    let before = view(w.db(), &account).await?;
    grant::Entity::delete_by_id(g.id).exec(w.db()).await?;
    let after = view(w.db(), &account).await?;
    let event = Event::new("user.revoke", "user", account.id)
        .org(org.id)
        .before(&before)
        .after(&after);
    w.commit(event).await?;
    state.auth.principals.evict(account.id);
    Ok(HttpResponse::NoContent().finish())
}
