//! Pledge categories, edited by town administrators.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, patch, post, web};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use super::entity::category;
use super::types::*;
use crate::audit::{Event, Write};
use crate::auth::AuthUser;
use crate::error::{ApiError, Problem};
use crate::http::conditional::{applied, etag};
use crate::http::validate::short_text;
use crate::http::{Claim, IdempotencyKey, IfMatch, Json, StoredResponse, Versioned};
use crate::state::AppState;
use crate::text;

pub(super) fn category_view(c: category::Model) -> CategoryView {
    CategoryView {
        code: c.code,
        label: c.label,
        sort_order: c.sort_order,
        active: c.active,
        version: c.version,
    }
}

/// Add a pledge category (town administrators).
#[utoipa::path(tag = "pledges", security(("bearer" = [])), request_body = NewCategory,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    responses(
    (status = 201, description = "Created", body = CategoryView, headers(("ETag" = String))),
    (status = 403, description = "Town administrators only", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "Code taken", body = Problem, content_type = "application/problem+json"),
))]
#[post("/api/v1/pledge-categories")]
pub(super) async fn create_category(
    state: web::Data<AppState>,
    user: AuthUser,
    key: IdempotencyKey,
    Json(body): Json<NewCategory>,
) -> Result<HttpResponse, ApiError> {
    let code = body.code.clone();
    if !crate::http::validate::is_category_code(&code) {
        return Err(ApiError::invalid_field(
            "/code",
            "format",
            text!("1–32 of a-z, 0-9 and _", "须为 1 到 32 个 a-z、0-9 或 _ 字符"),
        ));
    }
    let label = short_text(&body.label, "/label", 50)?;
    let ticket = match key.claim(&state.db, &user.id().to_string()).await? {
        Claim::Replay(stored) => return Ok(stored),
        Claim::Proceed(ticket) => ticket,
    };
    let w = Write::begin(&state.db, &user.audit).await?;
    if category::Entity::find_by_id(code.clone()).count(w.db()).await? > 0 {
        return Err(ApiError::conflict(text!(
            "A category with this code exists.",
            "已有使用此代码的类别。"
        )));
    }
    let row = category::Model {
        code,
        label,
        sort_order: body.sort_order.unwrap_or(100),
        active: true,
        version: 1,
    };
    category::Entity::insert(category::ActiveModel {
        code: Set(row.code.clone()),
        label: Set(row.label.clone()),
        sort_order: Set(row.sort_order),
        active: Set(true),
        version: Set(1),
    })
    .exec_without_returning(w.db())
    .await?;
    let event = Event::new("pledge_category.create", "pledge_category", &row.code)
        .after(serde_json::json!({"label": row.label}));
    let response = StoredResponse::json(StatusCode::CREATED, &category_view(row))?.header(header::ETAG, etag(1));
    ticket.commit(w, event, response).await
}

/// Rename, reorder or retire a pledge category (town administrators). Requires `If-Match`
/// (`"<version>"` from the category list, or the last write's `ETag`).
#[utoipa::path(tag = "pledges", security(("bearer" = [])), request_body = CategoryPatch,
    params(("code" = String, Path), ("If-Match" = String, Header, description = "ETag from your last read")),
    responses(
        (status = 200, description = "Changed", body = CategoryView, headers(("ETag" = String))),
        (status = 403, description = "Town administrators only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such category", body = Problem, content_type = "application/problem+json"),
))]
#[patch("/api/v1/pledge-categories/{code}")]
pub(super) async fn update_category(
    state: web::Data<AppState>,
    user: AuthUser,
    code: web::Path<String>,
    if_match: IfMatch,
    Json(body): Json<CategoryPatch>,
) -> Result<Versioned<CategoryView>, ApiError> {
    let w = Write::begin(&state.db, &user.audit).await?;
    let mut row = category::Entity::find_by_id(code.into_inner())
        .one(w.db())
        .await?
        .ok_or(ApiError::NotFound)?;
    if_match.check(row.version)?;
    let before = category_view(row.clone());
    if let Some(label) = &body.label {
        row.label = short_text(label, "/label", 50)?;
    }
    if let Some(order) = body.sort_order {
        row.sort_order = order;
    }
    if let Some(active) = body.active {
        row.active = active;
    }
    let updated = category::Entity::update_many()
        .col_expr(category::Column::Label, Expr::value(row.label.clone()))
        .col_expr(category::Column::SortOrder, Expr::value(row.sort_order))
        .col_expr(category::Column::Active, Expr::value(row.active))
        .col_expr(category::Column::Version, Expr::value(row.version + 1))
        .filter(category::Column::Code.eq(row.code.clone()))
        .filter(category::Column::Version.eq(row.version))
        .exec(w.db())
        .await?;
    applied(updated.rows_affected, row.version)?;
    row.version += 1;
    let after = category_view(row);
    w.commit(
        Event::new("pledge_category.update", "pledge_category", &after.code)
            .before(&before)
            .after(&after),
    )
    .await?;
    Ok(Versioned::ok(after.version, after))
}
