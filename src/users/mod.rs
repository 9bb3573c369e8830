//! User accounts (账户) and their role grants. Accounts belong to an organisation; a grant
//! `(role, org)` gives that role over the organisation's subtree.

pub mod admin;
pub mod entity;
mod grants;
mod routes;

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
};
use uuid::Uuid;

use crate::audit::Write;
use crate::auth::Role;
use crate::error::{ApiError, FieldError};
use crate::text;
use entity::{grant, user};
pub use routes::configure;

/// Stores a new password hash, invalidates every token issued before and ends any sign-in
/// lock on the account (a reset is how a locked-out user gets back in).
pub async fn set_password(w: &Write, account: &user::Model, hash: String) -> Result<(), ApiError> {
    crate::auth::entity::login_failure::Entity::delete_many()
        .filter(crate::auth::entity::login_failure::Column::Username.eq(account.username.as_str()))
        .exec(w.db())
        .await?;
    user::Entity::update_many()
        .col_expr(user::Column::PasswordHash, Expr::value(hash))
        .col_expr(
            user::Column::TokenGeneration,
            Expr::col(user::Column::TokenGeneration).add(1),
        )
        .col_expr(user::Column::Version, Expr::col(user::Column::Version).add(1))
        .col_expr(user::Column::UpdatedAt, Expr::value(crate::db::now()))
        .filter(user::Column::Id.eq(account.id))
        .exec(w.db())
        .await?;
    crate::auth::routes_support::revoke_all_for_user(w, account.id).await
}

/// Accounts and grants attached to an organisation.
pub async fn count_attached_to<C: ConnectionTrait>(db: &C, org_id: Uuid) -> Result<u64, DbErr> {
    let users = user::Entity::find()
        .filter(user::Column::OrgId.eq(org_id))
        .count(db)
        .await?;
    let grants = grant::Entity::find()
        .filter(grant::Column::OrgId.eq(org_id))
        .count(db)
        .await?;
    Ok(users + grants)
}

/// Usernames: 3–64 characters of `a-z 0-9 . _ -`, compared in lower case.
pub fn valid_username(username: &str) -> Result<String, ApiError> {
    let name = crate::auth::routes_support::normalize_username(username);
    let ok = (3..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if ok {
        Ok(name)
    } else {
        Err(ApiError::Validation(vec![FieldError::body(
            "/username",
            "format",
            text!(
                "must be 3 to 64 characters: letters, digits, '.', '_' or '-'",
                "须为 3 到 64 个字符：字母、数字、'.'、'_' 或 '-'"
            ),
        )]))
    }
}

/// Inserts an account (password already hashed).
pub async fn insert_user(w: &Write, username: &str, password_hash: String, org_id: Uuid) -> Result<user::Model, DbErr> {
    let now = crate::db::now();
    let model = user::Model {
        id: Uuid::now_v7(),
        username: username.to_owned(),
        password_hash,
        org_id,
        member_id: None,
        cadre_id: None,
        disabled: false,
        token_generation: 1,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    user::Entity::insert(model.clone().into_active_model())
        .exec_without_returning(w.db())
        .await?;
    Ok(model)
}

/// Inserts a grant unless the same one exists; returns its id.
pub async fn ensure_grant(w: &Write, user_id: Uuid, role: Role, org_id: Uuid) -> Result<Uuid, DbErr> {
    if let Some(existing) = grant::Entity::find()
        .filter(grant::Column::UserId.eq(user_id))
        .filter(grant::Column::Role.eq(role.as_str()))
        .filter(grant::Column::OrgId.eq(org_id))
        .one(w.db())
        .await?
    {
        return Ok(existing.id);
    }
    let id = Uuid::now_v7();
    grant::Entity::insert(grant::ActiveModel {
        id: Set(id),
        user_id: Set(user_id),
        role: Set(role),
        org_id: Set(org_id),
        created_at: Set(crate::db::now()),
    })
    .exec_without_returning(w.db())
    .await?;
    Ok(id)
}
