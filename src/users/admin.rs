//! The first administrator: created on first start with a random password, or created or
//! reset from the command line (`dangjian create-admin`).

use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
};

use super::entity::user;
use super::{ensure_grant, insert_user, set_password, valid_username};
use crate::audit::{AuditContext, Event, Write};
use crate::auth::{Role, password};
use crate::error::ApiError;
use crate::orgs::{OrgKind, queries as orgs};

/// Name given to the root committee when the tree is empty.
pub const DEFAULT_ROOT_NAME: &str = "镇党委";

/// Key of the PostgreSQL advisory lock that instances starting together take in turns to
/// create the first administrator (one prints a password; the others find the account).
const BOOTSTRAP_LOCK_KEY: i64 = 0x64_616e_676a_6962;

/// What to do when the account already exists.
#[derive(Clone, Copy, PartialEq, Eq)]
enum IfExists {
    /// `create-admin`: reset its password, re-enable it, restore its grant.
    Reset,
    /// First start: leave it alone (another instance created it).
    Leave,
}

/// Creates `username` as a town administrator on the root committee (creating the root when
/// the tree is empty), or resets that account's password, re-enables it and restores the grant.
pub async fn create_or_reset_admin(db: &DatabaseConnection, username: &str, plain: &str) -> Result<(), ApiError> {
    admin(db, username, plain, IfExists::Reset).await.map(|_| ())
}

/// The one write behind both: true when it created or reset the account.
async fn admin(db: &DatabaseConnection, username: &str, plain: &str, if_exists: IfExists) -> Result<bool, ApiError> {
    let username = valid_username(username)?;
    password::check_policy(plain, "/password")?;
    let plain = plain.to_owned();
    let hash = actix_web::web::block(move || password::hash(&plain))
        .await
        .map_err(ApiError::internal)??;
    // The shell has no caller: the event names no actor.
    let w = Write::begin(db, &AuditContext::default()).await?;
    if if_exists == IfExists::Leave {
        if db.get_database_backend() == DatabaseBackend::Postgres {
            w.db()
                .execute_unprepared(&format!("SELECT pg_advisory_xact_lock({BOOTSTRAP_LOCK_KEY})"))
                .await?;
        }
        // Counted under the lock: an instance that waited sees the first one's account.
        if user::Entity::find().count(w.db()).await? > 0 {
            w.rollback().await?;
            return Ok(false);
        }
    }
    let root = match orgs::root(w.db()).await? {
        Some(root) => root,
        None => orgs::insert(&w, None, OrgKind::Committee, DEFAULT_ROOT_NAME.into(), None).await?,
    };
    let existing = user::Entity::find()
        .filter(user::Column::Username.eq(username.as_str()))
        .one(w.db())
        .await?;
    let (account, action) = match existing {
        Some(account) => {
            set_password(&w, &account, hash).await?;
            user::Entity::update_many()
                .col_expr(user::Column::Disabled, Expr::value(false))
                .filter(user::Column::Id.eq(account.id))
                .exec(w.db())
                .await?;
            (account, "user.admin_reset")
        }
        None => (insert_user(&w, &username, hash, root.id).await?, "user.admin_create"),
    };
    ensure_grant(&w, account.id, Role::TownAdmin, root.id).await?;
    let event = Event::new(action, "user", account.id)
        .org(root.id)
        .after(serde_json::json!({"username": username}));
    w.commit(event).await?;
    Ok(true)
}

/// On a database without any account, creates `admin` with a random password and returns
/// the password (to be shown once). Several instances starting together create it once: the
/// others find it and return `None` (never resetting the password the first one printed).
pub async fn bootstrap(db: &DatabaseConnection) -> Result<Option<String>, ApiError> {
    if user::Entity::find().count(db).await? > 0 {
        return Ok(None);
    }
    let plain = password::generate();
    match admin(db, "admin", &plain, IfExists::Leave).await {
        Ok(true) => Ok(Some(plain)),
        Ok(false) | Err(ApiError::Conflict { .. }) => Ok(None), // another instance was first
        Err(err) => Err(err),
    }
}
