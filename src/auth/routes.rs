//! `/api/v1/auth/*` and `/api/v1/me`: signing in and out, token refresh, the caller's
//! profile and own password.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::Duration;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter,
    TransactionTrait,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::entity::{login_failure, refresh_token};
use super::{AuthUser, Role, client_ip, password, request_audit_context, tokens};
use crate::audit::{Event, Write};
use crate::error::{ApiError, Problem};
use crate::http::Json;
use crate::orgs::entity as org;
use crate::state::AppState;
use crate::text;
use crate::users::entity::user;

/// Failed logins for one username within [`LOCK_MINUTES`] that lock it.
pub const MAX_FAILURES: u64 = 5;
pub const LOCK_MINUTES: i64 = 15;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(login)
        .service(refresh)
        .service(logout)
        .service(me)
        .service(change_own_password);
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"username": "admin", "password": "Example-passw0rd"}))]
pub struct LoginRequest {
    /// At most 64 characters; case-insensitive.
    #[schema(max_length = 64)]
    pub username: String,
    /// At most 128 characters.
    #[schema(max_length = 128)]
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    /// JWT for `Authorization: Bearer …`, valid 15 minutes.
    pub access_token: String,
    /// Opaque, single use: exchange it at `/api/v1/auth/refresh` for a new pair.
    pub refresh_token: String,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    #[schema(example = 900)]
    pub expires_in: i64,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// Usernames are compared in lower case, without surrounding spaces.
pub fn normalize_username(username: &str) -> String {
    username.trim().to_lowercase()
}

/// Sign in (登录): a short-lived access token and a refresh token.
///
/// Unknown user, wrong password, disabled or locked account all get the same 401. After
/// 5 failures within 15 minutes from one address, a username is locked for 15 minutes for that
/// address only (attempts during the lock do not extend it; a password reset by an
/// administrator or `dangjian create-admin` ends it); each client IP has a login rate limit
/// (429 with `Retry-After`).
#[utoipa::path(tag = "auth", request_body = LoginRequest, responses(
    (status = 200, description = "Signed in", body = TokenResponse),
    (status = 401, description = "Wrong credentials, or locked or disabled account", body = Problem, content_type = "application/problem+json"),
    (status = 429, description = "Too many attempts from this address", body = Problem, content_type = "application/problem+json"),
))]
#[post("/api/v1/auth/login")]
async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    Json(body): Json<LoginRequest>,
) -> Result<Json<TokenResponse>, ApiError> {
    let ip = client_ip(&req).unwrap_or_else(|| "unknown".into());
    crate::auth::check_rate(&state.auth.login_limiter, &ip)?;
    if body.username.chars().count() > 64 || body.password.chars().count() > 128 {
        return Err(ApiError::InvalidCredentials);
    }
    let username = normalize_username(&body.username);
    let db = &state.db;
    // The lock is per username *and* address: a stranger elsewhere cannot lock a user out
    // (the per-address rate limit above bounds guessing from any one address).
    let recent_failures = login_failure::Entity::find()
        .filter(login_failure::Column::Username.eq(username.as_str()))
        .filter(login_failure::Column::ClientIp.eq(ip.as_str()))
        .filter(login_failure::Column::FailedAt.gt(crate::db::now() - Duration::minutes(LOCK_MINUTES)))
        .count(db)
        .await?;
    let locked = recent_failures >= MAX_FAILURES;
    let account = user::Entity::find()
        .filter(user::Column::Username.eq(username.as_str()))
        .one(db)
        .await?;
    let password_ok = {
        let stored = account.as_ref().map(|u| u.password_hash.clone());
        let given = body.password;
        web::block(move || match stored {
            Some(hash) => password::verify(&given, &hash),
            None => {
                password::verify_dummy(&given);
                false
            }
        })
        .await
        .map_err(ApiError::internal)?
    };

    let signed_in = matches!(&account, Some(a) if password_ok && !a.disabled && !locked);
    let mut ctx = request_audit_context(&req);
    if signed_in {
        ctx.actor_user_id = account.as_ref().map(|a| a.id);
    }
    let w = Write::begin(db, &ctx).await?;
    match account {
        Some(account) if signed_in => {
            login_failure::Entity::delete_many()
                .filter(login_failure::Column::Username.eq(username.as_str()))
                .filter(login_failure::Column::ClientIp.eq(ip.as_str()))
                .exec(w.db())
                .await?;
            let tokens = issue_tokens(w.db(), &state, &account, None).await?;
            let event = Event::new("auth.login", "user", account.id)
                .org(account.org_id)
                .after(serde_json::json!({"username": username}));
            w.commit(event).await?;
            Ok(Json(tokens))
        }
        account => {
            // Attempts during a lock do not extend it: it ends 15 minutes after the fifth failure.
            if !locked {
                login_failure::Entity::insert(login_failure::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    username: Set(username.clone()),
                    client_ip: Set(ip.clone()),
                    failed_at: Set(crate::db::now()),
                })
                .exec_without_returning(w.db())
                .await?;
            }
            let mut event = Event::new("auth.login", "user", "")
                .after(serde_json::json!({"username": username, "locked": locked}))
                .failed();
            event.entity_id = account.as_ref().map(|a| a.id.to_string());
            event.org_id = account.as_ref().map(|a| a.org_id);
            w.commit(event).await?;
            Err(ApiError::InvalidCredentials)
        }
    }
}

/// Issues an access token and a refresh token (in `family`, or a new family) for `account`.
pub async fn issue_tokens(
    txn: &DatabaseTransaction,
    state: &AppState,
    account: &user::Model,
    family: Option<Uuid>,
) -> Result<TokenResponse, ApiError> {
    let access_token = state
        .auth
        .keys
        .issue(account.id, account.token_generation)
        .map_err(ApiError::internal)?;
    let (new_refresh_token, hash) = tokens::new_refresh_token();
    let now = crate::db::now();
    refresh_token::Entity::insert(refresh_token::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(account.id),
        family_id: Set(family.unwrap_or_else(Uuid::now_v7)),
        token_hash: Set(hash),
        expires_at: Set(now + Duration::days(tokens::REFRESH_TOKEN_DAYS)),
        used_at: Set(None),
        revoked_at: Set(None),
        created_at: Set(now),
    })
    .exec_without_returning(txn)
    .await?;
    Ok(TokenResponse {
        access_token,
        refresh_token: new_refresh_token,
        token_type: "Bearer",
        expires_in: tokens::ACCESS_TOKEN_SECONDS,
    })
}

async fn revoke_family<C: ConnectionTrait>(conn: &C, family_id: Uuid) -> Result<(), ApiError> {
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(crate::db::now()))
        .filter(refresh_token::Column::FamilyId.eq(family_id))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    Ok(())
}

/// Revokes every refresh token of a user (password change, disabling).
pub async fn revoke_all_for_user(w: &Write, user_id: Uuid) -> Result<(), ApiError> {
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(crate::db::now()))
        .filter(refresh_token::Column::UserId.eq(user_id))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(w.db())
        .await?;
    Ok(())
}

/// Rotate tokens (刷新令牌): a refresh token buys a new pair once. Presenting a spent refresh
/// token again revokes every token descended from the same sign-in.
#[utoipa::path(tag = "auth", request_body = RefreshRequest, responses(
    (status = 200, description = "New tokens; the old refresh token is spent", body = TokenResponse),
    (status = 401, description = "Unknown, expired, spent or revoked refresh token", body = Problem, content_type = "application/problem+json"),
))]
#[post("/api/v1/auth/refresh")]
async fn refresh(
    state: web::Data<AppState>,
    req: HttpRequest,
    Json(body): Json<RefreshRequest>,
) -> Result<Json<TokenResponse>, ApiError> {
    let invalid = || ApiError::Unauthorized {
        detail: text!(
            "The refresh token is not valid; sign in again.",
            "刷新令牌无效，请重新登录。"
        ),
    };
    let hash = tokens::hash_refresh_token(&body.refresh_token);
    // The one transaction without an audit event, hence not a `Write`: every client rotates
    // its tokens every 15 minutes and the trail would drown in it (sign-ins, sign-outs and
    // reuse are audited). The spend and the new token must still commit together, or a
    // failure would sign the client out.
    #[allow(clippy::disallowed_methods)]
    let txn = state.db.begin().await?;
    let Some(token) = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(hash))
        .one(&txn)
        .await?
    else {
        return Err(invalid());
    };
    // Spend it atomically: of two concurrent uses, only one wins.
    let spent = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::UsedAt, Expr::value(crate::db::now()))
        .filter(refresh_token::Column::Id.eq(token.id))
        .filter(refresh_token::Column::UsedAt.is_null())
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?;
    if spent.rows_affected != 1 {
        // Nothing was spent. Reuse is theft or a bug: end the sign-in, audited.
        txn.rollback().await?;
        let mut ctx = request_audit_context(&req);
        ctx.actor_user_id = Some(token.user_id);
        let w = Write::begin(&state.db, &ctx).await?;
        revoke_family(w.db(), token.family_id).await?;
        w.commit(Event::new("auth.refresh_reuse", "user", token.user_id).failed())
            .await?;
        return Err(invalid());
    }
    let account = user::Entity::find_by_id(token.user_id).one(&txn).await?;
    let Some(account) = account.filter(|a| !a.disabled && token.expires_at > crate::db::now()) else {
        return Err(invalid());
    };
    let tokens = issue_tokens(&txn, &state, &account, Some(token.family_id)).await?;
    txn.commit().await?;
    Ok(Json(tokens))
}

/// Sign out (退出): revokes the refresh token and every token rotated from the same sign-in.
/// Always 204, whether or not the token was known.
#[utoipa::path(tag = "auth", request_body = RefreshRequest, responses(
    (status = 204, description = "Signed out"),
))]
#[post("/api/v1/auth/logout")]
async fn logout(
    state: web::Data<AppState>,
    req: HttpRequest,
    Json(body): Json<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let hash = tokens::hash_refresh_token(&body.refresh_token);
    if let Some(token) = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(hash))
        .one(&state.db)
        .await?
    {
        let mut ctx = request_audit_context(&req);
        ctx.actor_user_id = Some(token.user_id);
        let w = Write::begin(&state.db, &ctx).await?;
        revoke_family(w.db(), token.family_id).await?;
        w.commit(Event::new("auth.logout", "user", token.user_id)).await?;
    }
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GrantView {
    pub id: Uuid,
    pub role: Role,
    pub org_id: Uuid,
    #[schema(example = "大洼社区党支部")]
    pub org_name: String,
}

#[derive(Serialize, ToSchema)]
pub struct MeView {
    pub id: Uuid,
    #[schema(example = "admin")]
    pub username: String,
    /// The organisation the account belongs to.
    pub org_id: Uuid,
    /// The party member this account is, if linked.
    pub member_id: Option<Uuid>,
    /// The cadre helper (帮扶干部) this account is, if linked.
    pub cadre_id: Option<Uuid>,
    /// Role grants; each covers its organisation's whole subtree.
    pub grants: Vec<GrantView>,
}

/// Grants with their organisations' names, for `/me` and the users endpoints.
pub async fn grant_views<C: ConnectionTrait>(
    conn: &C,
    grants: &[super::roles::ScopedGrant],
) -> Result<Vec<GrantView>, ApiError> {
    let ids: Vec<Uuid> = grants.iter().map(|g| g.org_id).collect();
    let orgs = org::Entity::find().filter(org::Column::Id.is_in(ids)).all(conn).await?;
    Ok(grants
        .iter()
        .map(|g| GrantView {
            id: g.id,
            role: g.role,
            org_id: g.org_id,
            org_name: orgs
                .iter()
                .find(|o| o.id == g.org_id)
                .map(|o| o.name.clone())
                .unwrap_or_default(),
        })
        .collect())
}

/// The caller (我的账户): account, linked member and role grants.
#[utoipa::path(tag = "auth", security(("bearer" = [])), responses(
    (status = 200, description = "The caller", body = MeView),
))]
#[get("/api/v1/me")]
async fn me(state: web::Data<AppState>, user: AuthUser) -> Result<Json<MeView>, ApiError> {
    let p = &user.principal;
    Ok(Json(MeView {
        id: p.user_id,
        username: p.username.clone(),
        org_id: p.org_id,
        member_id: p.member_id,
        cadre_id: p.cadre_id,
        grants: grant_views(&state.db, &p.grants).await?,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePassword {
    /// A wrong current password is 422 `wrong_password`.
    #[schema(max_length = 128)]
    pub current_password: String,
    /// 8–128 characters with at least three of: lower case, upper case, digits, symbols
    /// (a weak password is 422 `too_weak`).
    #[schema(min_length = 8, max_length = 128)]
    pub new_password: String,
}

/// Change your own password. Every token issued before stops working at once; sign in again.
#[utoipa::path(tag = "auth", security(("bearer" = [])), request_body = ChangePassword, responses(
    (status = 204, description = "Changed; sign in again"),
    (status = 422, description = "Wrong current password or weak new password", body = Problem, content_type = "application/problem+json"),
))]
#[post("/api/v1/me/password")]
async fn change_own_password(
    state: web::Data<AppState>,
    user: AuthUser,
    Json(body): Json<ChangePassword>,
) -> Result<HttpResponse, ApiError> {
    password::check_policy(&body.new_password, "/new_password")?;
    let account = user::Entity::find_by_id(user.id())
        .one(&state.db)
        .await?
        .ok_or(ApiError::NotFound)?;
    let stored = account.password_hash.clone();
    let current = body.current_password;
    let ok = web::block(move || password::verify(&current, &stored))
        .await
        .map_err(ApiError::internal)?;
    if !ok {
        return Err(ApiError::invalid_field(
            "/current_password",
            "mismatch",
            text!("is not your current password", "与当前密码不符"),
        ));
    }
    let new_password = body.new_password;
    let hash = web::block(move || password::hash(&new_password))
        .await
        .map_err(ApiError::internal)??;
    let w = Write::begin(&state.db, &user.audit).await?;
    crate::users::set_password(&w, &account, hash).await?;
    w.commit(Event::new("user.password_change", "user", account.id).org(account.org_id))
        .await?;
    state.auth.principals.evict(account.id);
    Ok(HttpResponse::NoContent().finish())
}
