//! Authentication and authorisation: passwords, tokens, roles, the [`Scope`] every data
//! query takes, the route policy and the middleware that enforces it.

pub mod entity;
pub mod password;
pub mod placed;
pub mod policy;
pub mod principal;
pub mod roles;
mod routes;
/// Helpers of the auth endpoints that other features reuse.
pub mod routes_support {
    pub use super::routes::{GrantView, grant_views, issue_tokens, normalize_username, revoke_all_for_user};
}
pub mod tokens;

use std::num::NonZeroU32;
use std::sync::Arc;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, HttpRequest, web};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::audit::AuditContext;
use crate::error::{ApiError, Text};
use crate::http::middleware::RequestId;
use crate::state::AppState;
use crate::text;
pub use placed::{Place, find_placed};
use policy::{Allow, Effect, Policy};
pub use principal::{AuthUser, Principal, PrincipalCache};
pub use roles::{Access, Role, Scope};
pub use routes::configure;
use tokens::JwtKeys;

/// Everything authentication needs, built once at start-up.
pub struct AuthState {
    pub keys: JwtKeys,
    pub principals: PrincipalCache,
    pub policy: Policy,
    /// Login attempts per client IP.
    pub login_limiter: DefaultKeyedRateLimiter<String>,
    /// Public feedback messages per client IP.
    pub feedback_limiter: DefaultKeyedRateLimiter<String>,
    /// Member-import dry runs per account: each checks up to 5,000 ID numbers town-wide.
    pub dry_run_limiter: DefaultKeyedRateLimiter<uuid::Uuid>,
    pub trust_forwarded_for: bool,
}

impl AuthState {
    pub fn new(keys: JwtKeys, config: &crate::config::Config) -> AuthState {
        let nonzero = |n: u32| NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
        AuthState {
            keys,
            principals: PrincipalCache::default(),
            policy: Policy::new(),
            login_limiter: RateLimiter::keyed(Quota::per_minute(nonzero(config.login_rate_per_minute))),
            feedback_limiter: RateLimiter::keyed(Quota::per_hour(nonzero(config.feedback_rate_per_hour))),
            dry_run_limiter: RateLimiter::keyed(Quota::per_hour(nonzero(config.import_dry_runs_per_hour))),
            trust_forwarded_for: config.trust_forwarded_for,
        }
    }
}

/// 429 with the wait, when `limiter` has no room left for `key`.
pub fn check_rate<K: std::hash::Hash + Eq + Clone>(
    limiter: &DefaultKeyedRateLimiter<K>,
    key: &K,
) -> Result<(), ApiError> {
    use governor::clock::{Clock, DefaultClock};
    limiter.check_key(key).map_err(|not_until| ApiError::RateLimited {
        retry_after_secs: Ord::max(not_until.wait_time_from(DefaultClock::default().now()).as_secs(), 1),
    })
}

/// The client's IP: the TCP peer, or, when `DANGJIAN_TRUST_FORWARDED_FOR` says a trusted
/// proxy sits in front, the address that proxy appended last to `X-Forwarded-For` (earlier
/// entries come from the client and can be forged).
pub fn client_ip(req: &HttpRequest) -> Option<String> {
    let trust = req
        .app_data::<web::Data<AppState>>()
        .is_some_and(|s| s.auth.trust_forwarded_for);
    if trust
        && let Some(last) = req
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .last()
    {
        return Some(last.to_owned());
    }
    req.peer_addr().map(|a| a.ip().to_string())
}

/// The request's part of an audit record (no actor yet).
/// The audit context of a write without a token (public feedback, objections), once the
/// caller's address is within the public rate limit (else 429).
pub fn public_write_context(state: &AuthState, req: &HttpRequest) -> Result<AuditContext, ApiError> {
    let ip = client_ip(req).unwrap_or_else(|| "unknown".into());
    check_rate(&state.feedback_limiter, &ip)?;
    Ok(AuditContext {
        client_ip: Some(ip),
        ..request_audit_context(req)
    })
}

pub fn request_audit_context(req: &HttpRequest) -> AuditContext {
    AuditContext {
        actor_user_id: None,
        actor_role: None,
        request_id: req.extensions().get::<RequestId>().map(|id| id.0.to_string()),
        client_ip: client_ip(req),
    }
}

/// Middleware: applies [`policy::ROUTES`] to every request. Public routes pass; others need
/// a valid bearer token of an enabled user whose token generation is current (401), and
/// one of the route's roles (403). The caller is left in the request for [`AuthUser`].
pub async fn authenticate(
    state: web::Data<AppState>,
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    match check(&state, &req).await {
        Ok(()) => Ok(next.call(req).await?.map_into_boxed_body()),
        Err(err) => Ok(req.error_response(err)),
    }
}

async fn check(state: &AppState, req: &ServiceRequest) -> Result<(), ApiError> {
    // The path as the router sees it (percent-encoding of unreserved characters decoded), so
    // `/api/v1/%6De` is held to the rule of `/api/v1/me`.
    let path = req.match_info().as_str();
    if path.contains('\0') {
        return Err(ApiError::NotFound); // nothing is named with NUL
    }
    if !path.starts_with("/api/") {
        return Ok(()); // operations and documentation are public
    }
    let Some(pattern) = crate::http::middleware::route_pattern(req.request()) else {
        return Ok(()); // no such route: 404 follows
    };
    let rule = match state.auth.policy.rule(req.method().as_str(), &pattern) {
        Some(rule) => rule,
        // A documented route nobody wrote a rule for: refuse rather than expose it.
        None if state.routes.query_params(req.method().as_str(), &pattern).is_some() => {
            tracing::error!(method = %req.method(), route = %pattern, "route has no authorisation rule");
            return Err(ApiError::Forbidden {
                detail: text!("This route has no authorisation rule.", "此路由没有授权规则。"),
            });
        }
        None => return Ok(()), // wrong method (405 follows) or a route outside the API spec
    };
    let roles = match rule.allow {
        Allow::Public => return Ok(()),
        Allow::SignedIn => None,
        Allow::Roles(access) => Some(access.0),
    };
    let principal = principal_from_token(state, req).await?;
    // Inspectors read everything in scope and write nothing: an operation that writes needs a
    // writing role. What it does is the rule's, not the HTTP method's.
    let writes = rule.effect == Effect::Writes;
    if let Some(roles) = roles
        && !principal
            .grants
            .iter()
            .any(|g| roles.contains(&g.role) && (!writes || g.role.can_write()))
    {
        return Err(ApiError::Forbidden {
            detail: text!("Your role may not do this.", "您的角色无权执行此操作。"),
        });
    }
    req.extensions_mut().insert(principal);
    Ok(())
}

async fn principal_from_token(state: &AppState, req: &ServiceRequest) -> Result<Arc<Principal>, ApiError> {
    let unauthorized = |detail: Text| ApiError::Unauthorized { detail };
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .ok_or_else(|| {
            unauthorized(text!(
                "Send an access token: Authorization: Bearer <token>.",
                "请发送访问令牌：Authorization: Bearer <token>。"
            ))
        })?;
    if token.trim_start().to_ascii_lowercase().starts_with("bearer ") {
        return Err(unauthorized(text!(
            "The token starts with a second \"Bearer \": send the access token alone after \"Bearer \".",
            "令牌前多了一个 \"Bearer \"：\"Bearer \" 之后只需发送访问令牌本身。"
        )));
    }
    let claims = state.auth.keys.verify(token.trim()).ok_or_else(|| {
        unauthorized(text!(
            "The access token is not valid or has expired.",
            "访问令牌无效或已过期。"
        ))
    })?;
    let user_id = claims
        .sub
        .parse()
        .map_err(|_| unauthorized(text!("The access token is not valid.", "访问令牌无效。")))?;
    let principal = state
        .auth
        .principals
        .get(&state.db, user_id)
        .await?
        .filter(|p| !p.disabled && p.token_generation == claims.generation)
        .ok_or_else(|| {
            unauthorized(text!(
                "The access token is no longer valid; sign in again.",
                "访问令牌已失效，请重新登录。"
            ))
        })?;
    Ok(principal)
}

/// Deletes failed-login records older than a day (lockout looks back 15 minutes).
pub async fn purge_login_failures(db: &sea_orm::DatabaseConnection) -> Result<u64, sea_orm::DbErr> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let cutoff = crate::db::now() - chrono::Duration::days(1);
    let res = entity::login_failure::Entity::delete_many()
        .filter(entity::login_failure::Column::FailedAt.lt(cutoff))
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}
