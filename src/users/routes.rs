//! `/api/v1/users`: accounts and their role grants.
//!
//! A caller sees or manages an account only when the account's organisation and every
//! organisation it holds a grant on are in the caller's scope (else 404), and manages it when
//! the caller's role there outranks every role the account holds (else 403).
//! Nobody changes their own grants or disables themselves.

use std::collections::HashMap;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Condition, Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::entity::{grant, user};
use super::{insert_user, set_password, valid_username};
use crate::audit::{Event, Write};
use crate::auth::routes_support::{GrantView, revoke_all_for_user};
use crate::auth::{Access, AuthUser, Principal, Scope, find_placed, password, policy::OVERSEE};
use crate::error::{ApiError, Problem};
use crate::http::conditional::etag;
use crate::http::pagination::page_by_text;
use crate::http::{Claim, IdempotencyKey, IfMatch, Json, ListQuery, Page, PageParams, StoredResponse, Versioned};
use crate::orgs::{entity as org, queries as orgs};
use crate::state::AppState;
use crate::text;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_user)
        .service(list_users)
        .service(get_user)
        .service(update_user)
        .service(reset_password)
        .configure(super::grants::configure);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: Uuid,
    #[schema(example = "chengjun")]
    pub username: String,
    /// The organisation the account belongs to.
    pub org_id: Uuid,
    pub member_id: Option<Uuid>,
    /// The cadre helper (帮扶干部) this account belongs to, if linked.
    pub cadre_id: Option<Uuid>,
    pub disabled: bool,
    pub grants: Vec<GrantView>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub(super) async fn view<C: ConnectionTrait>(conn: &C, u: &user::Model) -> Result<UserView, ApiError> {
    views(conn, std::slice::from_ref(u))
        .await?
        .pop()
        .ok_or_else(|| ApiError::internal("no view of an account"))
}

/// Views of accounts with their grants on live organisations: two statements for any number
/// of accounts (their grants, then those grants' organisations).
async fn views<C: ConnectionTrait>(conn: &C, accounts: &[user::Model]) -> Result<Vec<UserView>, ApiError> {
    let grants = grant::Entity::find()
        .filter(grant::Column::UserId.is_in(accounts.iter().map(|u| u.id)))
        .order_by_asc(grant::Column::CreatedAt)
        .order_by_asc(grant::Column::Id)
        .all(conn)
        .await?;
    let orgs: HashMap<Uuid, org::Model> = if grants.is_empty() {
        HashMap::new()
    } else {
        org::Entity::find()
            .filter(org::Column::Id.is_in(grants.iter().map(|g| g.org_id)))
            .filter(org::Column::DeletedAt.is_null())
            .all(conn)
            .await?
            .into_iter()
            .map(|o| (o.id, o))
            .collect()
    };
    Ok(accounts
        .iter()
        .map(|u| UserView {
            id: u.id,
            username: u.username.clone(),
            org_id: u.org_id,
            member_id: u.member_id,
            cadre_id: u.cadre_id,
            disabled: u.disabled,
            grants: grants
                .iter()
                .filter(|g| g.user_id == u.id)
                .filter_map(|g| {
                    let org = orgs.get(&g.org_id)?;
                    Some(GrantView {
                        id: g.id,
                        role: g.role,
                        org_id: g.org_id,
                        org_name: org.name.clone(),
                    })
                })
                .collect(),
            version: u.version,
            created_at: u.created_at,
            updated_at: u.updated_at,
        })
        .collect())
}

/// SQL: the account holds no grant outside `scope`. Whoever can reset an account's password
/// can act with all its grants, so authority over an account needs authority over
/// everything it reaches. (Correlated, so one account costs a probe of its own grants.)
fn no_grant_outside(scope: &Scope) -> Condition {
    if scope.is_whole_tree() {
        return Condition::all();
    }
    let grants_outside = Query::select()
        .expr(Expr::val(1))
        .from(grant::Entity)
        .inner_join(
            org::Entity,
            Expr::col((org::Entity, org::Column::Id)).equals((grant::Entity, grant::Column::OrgId)),
        )
        .cond_where(
            Condition::all()
                .add(Expr::col((grant::Entity, grant::Column::UserId)).equals((user::Entity, user::Column::Id)))
                .add(
                    Condition::all()
                        .add(scope.path_condition((org::Entity, org::Column::Path)))
                        .not(),
                ),
        )
        .to_owned();
    Condition::all().add(Expr::exists(grants_outside).not())
}

/// An account wholly inside `scope` (its home organisation and every organisation it holds
/// a grant on), else 404. One statement: the home organisation's path comes with the row.
async fn find<C: ConnectionTrait>(conn: &C, scope: &Scope, id: Uuid) -> Result<user::Model, ApiError> {
    let select = user::Entity::find_by_id(id).filter(no_grant_outside(scope));
    match find_placed(conn, select, user::Column::OrgId, None::<user::Column>).await? {
        Some((account, home)) if scope.covers(&home.org_path) => Ok(account),
        _ => Err(ApiError::NotFound),
    }
}

/// Finds an account the caller may manage: in scope (else 404), not the caller, and holding
/// no role as high as the caller's over its organisation (else 403).
pub(super) async fn find_managed<C: ConnectionTrait>(
    conn: &C,
    caller: &AuthUser,
    id: Uuid,
) -> Result<user::Model, ApiError> {
    let account = find(conn, &caller.scope(Access::MANAGE), id).await?;
    if account.id == caller.id() {
        return Err(ApiError::Forbidden {
            detail: text!(
                "You cannot change your own account's rights or state.",
                "不能修改自己账户的权限或状态。"
            ),
        });
    }
    let home = orgs::find(conn, &caller.scope(Access::MANAGE), account.org_id).await?;
    let caller_role = caller.principal.managing_role_over(&home.path);
    let target = Principal::load_grants_of(conn, &account).await?;
    let outranked = match (caller_role, target.highest_role()) {
        (Some(mine), Some(theirs)) => mine > theirs,
        (Some(_), None) => true,
        (None, _) => false,
    };
    if !outranked {
        return Err(ApiError::Forbidden {
            detail: text!(
                "This account holds a role as high as yours.",
                "该账户拥有与您同级或更高的角色。"
            ),
        });
    }
    // An account linked to a member carries that member's right to see their own personal
    // data: only whoever manages the member (now, after any transfer) may manage the account.
    if let Some(member_id) = account.member_id
        && !crate::members::manages(conn, &crate::members::MemberAccess::of(caller), member_id).await?
    {
        return Err(ApiError::Forbidden {
            detail: text!(
                "This account belongs to a member outside your branch.",
                "该账户属于您党支部以外的党员。"
            ),
        });
    }
    // The same for an account linked to a cadre helper: it logs that cadre's help records.
    if let Some(cadre_id) = account.cadre_id
        && !crate::pairings::cadres::manages(conn, caller, cadre_id).await?
    {
        return Err(ApiError::Forbidden {
            detail: text!(
                "This account belongs to a cadre outside your scope.",
                "该账户属于您权限范围以外的帮扶干部。"
            ),
        });
    }
    Ok(account)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"username": "chengjun", "password": "Sishan-2017", "org_id": "0192f3a4-7c1e-7b2a-9f00-3c5d2e1f0a11"}))]
pub struct NewUser {
    /// 3–64 characters: letters, digits, `.`, `_`, `-`; stored in lower case.
    #[schema(pattern = r"^[A-Za-z0-9._-]{3,64}$")]
    pub username: String,
    /// 8–128 characters with at least three of: lower case, upper case, digits, symbols
    /// (the mix is not expressible in a pattern: a weak password is 422 `too_weak`).
    #[schema(min_length = 8, max_length = 128)]
    pub password: String,
    /// The organisation the account belongs to.
    pub org_id: Uuid,
}

/// Create an account (新建账户) in an organisation in your scope. Give it roles with
/// `POST /api/v1/users/{id}/grants`. Accepts `Idempotency-Key`.
#[utoipa::path(tag = "users", security(("bearer" = [])), request_body = NewUser,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    responses(
        (status = 201, description = "Created", body = UserView, headers(("Location" = String), ("ETag" = String))),
        (status = 403, description = "Role may not manage accounts", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Organisation not found in your scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Username taken", body = Problem, content_type = "application/problem+json"),
))]
#[post("/api/v1/users")]
async fn create_user(
    state: web::Data<AppState>,
    caller: AuthUser,
    key: IdempotencyKey,
    Json(body): Json<NewUser>,
) -> Result<HttpResponse, ApiError> {
    let username = valid_username(&body.username)?;
    password::check_policy(&body.password, "/password")?;
    let org = orgs::find(&state.db, &caller.scope(Access::MANAGE), body.org_id).await?;
    let ticket = match key.claim(&state.db, &caller.id().to_string()).await? {
        Claim::Replay(stored) => return Ok(stored),
        Claim::Proceed(ticket) => ticket,
    };
    let plain = body.password;
    let hash = web::block(move || password::hash(&plain))
        .await
        .map_err(ApiError::internal)??;
    let w = Write::begin(&state.db, &caller.audit).await?;
    if user::Entity::find()
        .filter(user::Column::Username.eq(username.as_str()))
        .count(w.db())
        .await?
        > 0
    {
        return Err(ApiError::conflict(text!(
            "The username `{username}` is taken.",
            "用户名 `{username}` 已被使用。"
        )));
    }
    let account = insert_user(&w, &username, hash, org.id).await?;
    let view = view(w.db(), &account).await?;
    let event = Event::new("user.create", "user", account.id).org(org.id).after(&view);
    let response = StoredResponse::json(StatusCode::CREATED, &view)?
        .location(format!("/api/v1/users/{}", account.id))
        .header(header::ETAG, etag(account.version));
    ticket.commit(w, event, response).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserFilters {
    /// Only accounts of organisations in this subtree.
    pub org_id: Option<Uuid>,
    /// Username contains this text.
    #[param(format = "search-text", max_length = 200)]
    pub q: Option<String>,
    /// Only disabled (`true`) or enabled (`false`) accounts.
    pub disabled: Option<bool>,
}

/// Accounts in your scope, ordered by username.
#[utoipa::path(tag = "users", security(("bearer" = [])), params(UserFilters, PageParams), responses(
    (status = 200, description = "One page", body = Page<UserView>),
    (status = 403, description = "Role may not list accounts", body = Problem, content_type = "application/problem+json"),
))]
#[get("/api/v1/users")]
async fn list_users(
    state: web::Data<AppState>,
    caller: AuthUser,
    query: ListQuery<UserFilters>,
) -> Result<Json<Page<UserView>>, ApiError> {
    let scope = caller.scope(OVERSEE);
    let limit = query.page.limit()?;
    let mut select = user::Entity::find().filter(no_grant_outside(&scope));
    select = match query.filters.org_id {
        Some(org_id) => {
            let root = orgs::find(&state.db, &scope, org_id).await?;
            select.filter(scope.narrowed_to(&root.path, user::Column::OrgId))
        }
        None => select.filter(scope.org_condition(user::Column::OrgId)),
    };
    if let Some(q) = query.filters.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        select = select.filter(user::Column::Username.contains(q.to_lowercase()));
    }
    if let Some(disabled) = query.filters.disabled {
        select = select.filter(user::Column::Disabled.eq(disabled));
    }
    let (rows, total) = page_by_text(&state.db, select, user::Column::Username, user::Column::Id, &query.page).await?;
    let views = views(&state.db, &rows).await?;
    Ok(Json(
        Page::from_rows(views, limit, |u| (u.username.clone(), u.id)).with_total(total),
    ))
}

/// One account with its grants.
#[utoipa::path(tag = "users", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, description = "The account", body = UserView, headers(("ETag" = String))),
    (status = 403, description = "Role may not read accounts", body = Problem, content_type = "application/problem+json"),
))]
#[get("/api/v1/users/{id}")]
async fn get_user(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<Uuid>,
) -> Result<Versioned<UserView>, ApiError> {
    let account = find(&state.db, &caller.scope(OVERSEE), *id).await?;
    Ok(Versioned::ok(account.version, view(&state.db, &account).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"disabled": true}))]
pub struct UserPatch {
    /// Disabling signs the account out everywhere within seconds.
    pub disabled: Option<bool>,
    /// Link the account to a member record in your scope (the member then sees and edits
    /// their own contact details), or `null` to unlink.
    #[serde(default, deserialize_with = "crate::members::types::nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub member_id: Option<Option<Uuid>>,
    /// Link the account to a cadre helper in your scope (the cadre then logs their own help
    /// records), or `null` to unlink.
    #[serde(default, deserialize_with = "crate::members::types::nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub cadre_id: Option<Option<Uuid>>,
}

/// Disable or enable an account, or link it to a member or cadre record. Requires `If-Match`.
#[utoipa::path(tag = "users", security(("bearer" = [])), request_body = UserPatch,
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag from your last read")),
    responses(
        (status = 200, description = "Updated", body = UserView, headers(("ETag" = String))),
        (status = 403, description = "Not yours to manage", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another account is already linked to this member or cadre", body = Problem, content_type = "application/problem+json"),
))]
#[patch("/api/v1/users/{id}")]
async fn update_user(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    Json(body): Json<UserPatch>,
) -> Result<Versioned<UserView>, ApiError> {
    let w = Write::begin(&state.db, &caller.audit).await?;
    let account = find_managed(w.db(), &caller, *id).await?;
    if_match.check(account.version)?;
    let before = view(w.db(), &account).await?;
    let disabled = body.disabled.unwrap_or(account.disabled);
    let mut changes = vec![(user::Column::Disabled, Expr::value(disabled))];
    if let Some(member_id) = body.member_id {
        if let Some(member_id) = member_id {
            let access = crate::members::MemberAccess::of(&caller);
            let (_, manages) = crate::members::find_with_rights(w.db(), &access, member_id)
                .await
                .map_err(|e| match e {
                    ApiError::NotFound => ApiError::invalid_field(
                        "/member_id",
                        "not_found",
                        text!("no such member in your scope", "您的权限范围内没有该党员"),
                    ),
                    other => other, // an outage stays an outage
                })?;
            if !manages {
                return Err(ApiError::invalid_field(
                    "/member_id",
                    "not_found",
                    text!("no such member in your scope", "您的权限范围内没有该党员"),
                ));
            }
            let taken = user::Entity::find()
                .filter(user::Column::MemberId.eq(member_id))
                .filter(user::Column::Id.ne(account.id))
                .count(w.db())
                .await?;
            if taken > 0 {
                return Err(ApiError::conflict(text!(
                    "Another account is already linked to this member.",
                    "已有其他账户关联到该党员。"
                )));
            }
        }
        changes.push((user::Column::MemberId, Expr::value(member_id)));
    }
    if let Some(cadre_id) = body.cadre_id {
        if let Some(cadre_id) = cadre_id {
            crate::pairings::cadres::find_managed_for_link(w.db(), &caller, cadre_id).await?;
            let taken = user::Entity::find()
                .filter(user::Column::CadreId.eq(cadre_id))
                .filter(user::Column::Id.ne(account.id))
                .count(w.db())
                .await?;
            if taken > 0 {
                return Err(ApiError::conflict(text!(
                    "Another account is already linked to this cadre.",
                    "已有其他账户关联到该帮扶干部。"
                )));
            }
        }
        changes.push((user::Column::CadreId, Expr::value(cadre_id)));
    }
    if disabled && !account.disabled {
        changes.push((
            user::Column::TokenGeneration,
            Expr::col(user::Column::TokenGeneration).add(1),
        ));
        revoke_all_for_user(&w, account.id).await?;
    }
    w.update_versioned::<user::Entity>(account.id, account.version, changes)
        .await?;
    let updated = find(w.db(), &caller.scope(Access::MANAGE), account.id).await?;
    let after = view(w.db(), &updated).await?;
    let action = match body.disabled {
        Some(true) if !account.disabled => "user.disable",
        Some(false) if account.disabled => "user.enable",
        _ => "user.update",
    };
    let event = Event::new(action, "user", account.id)
        .org(account.org_id)
        .before(&before)
        .after(&after);
    w.commit(event).await?;
    state.auth.principals.evict(account.id);
    Ok(Versioned::ok(updated.version, after))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPassword {
    /// 8–128 characters with at least three of: lower case, upper case, digits, symbols
    /// (a weak password is 422 `too_weak`).
    #[schema(min_length = 8, max_length = 128)]
    pub new_password: String,
}

/// Reset an account's password (重置密码). Its tokens stop working at once.
#[utoipa::path(tag = "users", security(("bearer" = [])), request_body = NewPassword, params(("id" = Uuid, Path)),
    responses(
        (status = 204, description = "Reset"),
        (status = 403, description = "Not yours to manage", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Password too weak", body = Problem, content_type = "application/problem+json"),
))]
#[post("/api/v1/users/{id}/password")]
async fn reset_password(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<Uuid>,
    Json(body): Json<NewPassword>,
) -> Result<HttpResponse, ApiError> {
    password::check_policy(&body.new_password, "/new_password")?;
    let plain = body.new_password;
    let hash = web::block(move || password::hash(&plain))
        .await
        .map_err(ApiError::internal)??;
    let w = Write::begin(&state.db, &caller.audit).await?;
    let account = find_managed(w.db(), &caller, *id).await?;
    set_password(&w, &account, hash).await?;
    w.commit(Event::new("user.password_reset", "user", account.id).org(account.org_id))
        .await?;
    state.auth.principals.evict(account.id);
    Ok(HttpResponse::NoContent().finish())
}
