//! The branch's handling of public supervision feedback (群众监督).

use actix_web::{get, post, web};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use super::entity::{feedback, pledge};
use super::types::*;
use super::{PledgeAccess, find, find_related};
use crate::audit::{Event, Write};
use crate::auth::AuthUser;
use crate::error::{ApiError, Problem};
use crate::http::Json;
use crate::http::validate::short_text;
use crate::state::AppState;
use crate::text;

pub(super) fn feedback_view(f: feedback::Model, keys: &crate::members::pii::DataKeys) -> FeedbackView {
    let phone = f
        .phone_enc
        .as_ref()
        .and_then(|p| keys.decrypt(p, &format!("feedback:{}:phone", f.id)));
    FeedbackView {
        id: f.id,
        pledge_id: f.pledge_id,
        message: f.message,
        sender_name: f.sender_name,
        phone: phone.map(|p| crate::members::pii::mask_phone(&p)),
        hidden: f.hidden,
        reply: f.reply,
        replied_at: f.replied_at,
        created_at: f.created_at,
    }
}

/// Supervision feedback on a pledge (群众监督), newest first; phones masked.
#[utoipa::path(tag = "pledges", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, description = "The feedback", body = crate::members::types::Items<FeedbackView>),
    (status = 403, description = "Role may not read feedback", body = Problem, content_type = "application/problem+json"),
))]
#[get("/api/v1/pledges/{id}/feedback")]
pub(super) async fn list_feedback(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> Result<Json<crate::members::types::Items<FeedbackView>>, ApiError> {
    let p = find(&state.db, &PledgeAccess::of(&user), *id).await?;
    let rows = feedback::Entity::find()
        .filter(feedback::Column::PledgeId.eq(p.id))
        .order_by_desc(feedback::Column::CreatedAt)
        .all(&state.db)
        .await?;
    Ok(Json(crate::members::types::Items {
        items: rows.into_iter().map(|f| feedback_view(f, &state.data_keys)).collect(),
    }))
}

pub(super) async fn managed_feedback<C: sea_orm::ConnectionTrait>(
    db: &C,
    user: &AuthUser,
    pledge_id: Uuid,
    feedback_id: Uuid,
) -> Result<(pledge::Model, feedback::Model), ApiError> {
    let access = PledgeAccess::of(user);
    let (p, relation) = find_related(db, &access, pledge_id).await?;
    if !relation.manager {
        return Err(ApiError::Forbidden {
            detail: text!("Only the branch handles feedback.", "只有党支部可以处理群众反馈。"),
        });
    }
    let f = feedback::Entity::find_by_id(feedback_id)
        .filter(feedback::Column::PledgeId.eq(p.id))
        .one(db)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok((p, f))
}

/// Reply to feedback; replied feedback that is not hidden shows on the public board.
#[utoipa::path(tag = "pledges", security(("bearer" = [])), request_body = FeedbackReply,
    params(("id" = Uuid, Path), ("feedback_id" = Uuid, Path)),
    responses(
        (status = 200, description = "Replied", body = FeedbackView),
        (status = 403, description = "Only the branch", body = Problem, content_type = "application/problem+json"),
))]
#[post("/api/v1/pledges/{id}/feedback/{feedback_id}/reply")]
pub(super) async fn reply_feedback(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
    Json(body): Json<FeedbackReply>,
) -> Result<Json<FeedbackView>, ApiError> {
    let (pledge_id, feedback_id) = path.into_inner();
    let reply = short_text(&body.reply, "/reply", 1000)?;
    let w = Write::begin(&state.db, &user.audit).await?;
    let (p, f) = managed_feedback(w.db(), &user, pledge_id, feedback_id).await?;
    let now = crate::db::now();
    feedback::Entity::update_many()
        .col_expr(feedback::Column::Reply, Expr::value(reply.clone()))
        .col_expr(feedback::Column::RepliedAt, Expr::value(now))
        .col_expr(feedback::Column::RepliedBy, Expr::value(user.id()))
        .filter(feedback::Column::Id.eq(f.id))
        .exec(w.db())
        .await?;
    let event = Event::new("feedback.reply", "pledge_feedback", f.id)
        .org(p.org_id)
        .after(serde_json::json!({"reply": reply}));
    w.commit(event).await?;
    let mut updated = f;
    updated.reply = Some(reply);
    updated.replied_at = Some(now);
    Ok(Json(feedback_view(updated, &state.data_keys)))
}

/// Hide or show feedback on the public board (moderation).
#[utoipa::path(tag = "pledges", security(("bearer" = [])), request_body = FeedbackVisibility,
    params(("id" = Uuid, Path), ("feedback_id" = Uuid, Path)),
    responses(
        (status = 200, description = "Changed", body = FeedbackView),
        (status = 403, description = "Only the branch", body = Problem, content_type = "application/problem+json"),
))]
#[post("/api/v1/pledges/{id}/feedback/{feedback_id}/visibility")]
pub(super) async fn feedback_visibility(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
    Json(body): Json<FeedbackVisibility>,
) -> Result<Json<FeedbackView>, ApiError> {
    let (pledge_id, feedback_id) = path.into_inner();
    let w = Write::begin(&state.db, &user.audit).await?;
    let (p, f) = managed_feedback(w.db(), &user, pledge_id, feedback_id).await?;
    feedback::Entity::update_many()
        .col_expr(feedback::Column::Hidden, Expr::value(body.hidden))
        .filter(feedback::Column::Id.eq(f.id))
        .exec(w.db())
        .await?;
    let action = if body.hidden { "feedback.hide" } else { "feedback.show" };
    w.commit(Event::new(action, "pledge_feedback", f.id).org(p.org_id))
        .await?;
    let mut updated = f;
    updated.hidden = body.hidden;
    Ok(Json(feedback_view(updated, &state.data_keys)))
}
