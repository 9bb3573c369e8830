//! The authenticated caller ([`Principal`]), its per-instance cache, and the [`AuthUser`]
//! extractor handlers take.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::roles::{Access, Role, Scope, ScopedGrant};
use crate::audit::AuditContext;
use crate::error::ApiError;
use crate::orgs::entity as org;
use crate::text;
use crate::users::entity::{grant, user};

/// A signed-in user with their grants, as loaded from the database.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: Uuid,
    pub username: String,
    pub org_id: Uuid,
    pub member_id: Option<Uuid>,
    /// The cadre helper the account is linked to (cadres log their own help records).
    pub cadre_id: Option<Uuid>,
    pub disabled: bool,
    pub token_generation: i64,
    pub grants: Vec<ScopedGrant>,
}

impl Principal {
    /// The subtrees where the caller holds one of `access`'s roles.
    pub fn scope(&self, access: Access) -> Scope {
        Scope::new(
            self.grants
                .iter()
                .filter(|g| access.0.contains(&g.role))
                .map(|g| g.org_path.clone()),
        )
    }

    pub fn highest_role(&self) -> Option<Role> {
        self.grants.iter().map(|g| g.role).max()
    }

    /// The strongest role the caller holds over the organisation at `path`.
    /// The strongest *managing* role (town admin, branch secretary) the caller holds over the
    /// organisation at `path`. Read-only roles never count as authority over accounts.
    pub fn managing_role_over(&self, path: &str) -> Option<Role> {
        self.grants
            .iter()
            .filter(|g| Access::MANAGE.0.contains(&g.role))
            .filter(|g| path.starts_with(g.org_path.as_str()))
            .map(|g| g.role)
            .max()
    }

    /// Loads a user and their grants (with each organisation's path).
    pub async fn load(db: &DatabaseConnection, user_id: Uuid) -> Result<Option<Principal>, DbErr> {
        let Some(u) = user::Entity::find_by_id(user_id).one(db).await? else {
            return Ok(None);
        };
        Principal::load_grants_of(db, &u).await.map(Some)
    }

    /// The principal of an already loaded account.
    pub async fn load_grants_of<C: ConnectionTrait>(db: &C, u: &user::Model) -> Result<Principal, DbErr> {
        let grants = grant::Entity::find()
            .filter(grant::Column::UserId.eq(u.id))
            .all(db)
            .await?;
        let org_ids: Vec<Uuid> = grants.iter().map(|g| g.org_id).collect();
        let orgs = if org_ids.is_empty() {
            Vec::new()
        } else {
            org::Entity::find()
                .filter(org::Column::Id.is_in(org_ids))
                .filter(org::Column::DeletedAt.is_null())
                .all(db)
                .await?
        };
        let grants = grants
            .into_iter()
            .filter_map(|g| {
                let path = orgs.iter().find(|o| o.id == g.org_id)?.path.clone();
                Some(ScopedGrant {
                    id: g.id,
                    role: g.role,
                    org_id: g.org_id,
                    org_path: path,
                })
            })
            .collect();
        Ok(Principal {
            user_id: u.id,
            username: u.username.clone(),
            org_id: u.org_id,
            member_id: u.member_id,
            cadre_id: u.cadre_id,
            disabled: u.disabled,
            token_generation: u.token_generation,
            grants,
        })
    }
}

/// Principals cached per instance for a few seconds, so a request costs a token check and a
/// map lookup. Writes that change a user's rights evict them here at once; other instances
/// see the change within [`PrincipalCache::TTL`].
#[derive(Default)]
pub struct PrincipalCache {
    entries: RwLock<HashMap<Uuid, (Instant, Arc<Principal>)>>,
}

impl PrincipalCache {
    pub const TTL: Duration = Duration::from_secs(5);
    const MAX_ENTRIES: usize = 50_000;

    pub async fn get(&self, db: &DatabaseConnection, user_id: Uuid) -> Result<Option<Arc<Principal>>, DbErr> {
        if let Ok(entries) = self.entries.read()
            && let Some((loaded, principal)) = entries.get(&user_id)
            && loaded.elapsed() < Self::TTL
        {
            return Ok(Some(principal.clone()));
        }
        let Some(principal) = Principal::load(db, user_id).await?.map(Arc::new) else {
            self.evict(user_id);
            return Ok(None);
        };
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() >= Self::MAX_ENTRIES {
                entries.clear();
            }
            entries.insert(user_id, (Instant::now(), principal.clone()));
        }
        Ok(Some(principal))
    }

    /// Forgets everyone (after organisations move, their paths change).
    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.write() {
            entries.clear();
        }
    }

    pub fn evict(&self, user_id: Uuid) {
        if let Ok(mut entries) = self.entries.write() {
            entries.remove(&user_id);
        }
    }
}

/// The authenticated caller of a request. The `authenticate` middleware has already checked
/// the token and the route's roles; a handler takes `AuthUser` to get the caller, its
/// scope for each kind of access, and the audit context.
#[derive(Clone)]
pub struct AuthUser {
    pub principal: Arc<Principal>,
    pub audit: AuditContext,
}

impl AuthUser {
    pub fn id(&self) -> Uuid {
        self.principal.user_id
    }

    pub fn scope(&self, access: Access) -> Scope {
        self.principal.scope(access)
    }
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let user = req.extensions().get::<Arc<Principal>>().cloned().map(|principal| {
            let mut audit = super::request_audit_context(req);
            audit.actor_user_id = Some(principal.user_id);
            audit.actor_role = principal.highest_role();
            AuthUser { principal, audit }
        });
        std::future::ready(user.ok_or_else(|| ApiError::Unauthorized {
            detail: text!("Sign in first.", "请先登录。"),
        }))
    }
}
