//! A member's branch moves (组织关系转接), their history, and leaving the rolls.

use actix_web::{get, post, web};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use super::entity::member::Model;
use super::entity::transfer;
use super::pii::DataKeys;
use super::types::*;
use super::{MemberAccess, check_placement, find, find_managed, save, view};
use crate::audit::{Event, Write};
use crate::auth::AuthUser;
use crate::error::{ApiError, Problem};
use crate::http::{IfMatch, Json, Versioned};
use crate::state::AppState;
use crate::text;

/// Move a member to another branch (组织关系转接); the move is kept in the member's history.
/// Both branches must be in your scope. Requires `If-Match`.
#[utoipa::path(tag = "members", security(("bearer" = [])), request_body = TransferRequest,
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag from your last read")),
    responses(
        (status = 200, description = "Moved", body = MemberView, headers(("ETag" = String))),
        (status = 403, description = "Role may not manage members", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Member or branch not found in your scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The member has left", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Same branch, or group not in the branch", body = Problem, content_type = "application/problem+json"),
))]
#[post("/api/v1/members/{id}/transfer")]
pub(super) async fn transfer_member(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    Json(body): Json<TransferRequest>,
) -> Result<Versioned<MemberView>, ApiError> {
    let access = MemberAccess::of(&user);
    let w = Write::begin(&state.db, &user.audit).await?;
    let current = find_managed(w.db(), &access, *id).await?;
    if_match.check(current.version)?;
    if !current.active {
        return Err(ApiError::conflict(text!(
            "This member has left; register them again instead.",
            "该党员已离开，请重新登记。"
        )));
    }
    if body.org_id == current.org_id {
        return Err(ApiError::invalid_field(
            "/org_id",
            "same_branch",
            text!(
                "the member is already in this branch; change group_id with PATCH",
                "该党员已在此党支部；调整党小组请用 PATCH 修改 group_id"
            ),
        ));
    }
    check_placement(w.db(), &access.manage, body.org_id, body.group_id).await?;
    transfer::Entity::insert(transfer::ActiveModel {
        id: Set(Uuid::now_v7()),
        member_id: Set(current.id),
        from_org_id: Set(current.org_id),
        to_org_id: Set(body.org_id),
        from_group_id: Set(current.group_id),
        to_group_id: Set(body.group_id),
        moved_at: Set(crate::db::now()),
        actor_user_id: Set(Some(user.id())),
    })
    .exec_without_returning(w.db())
    .await?;
    let mut updated = current.clone();
    updated.org_id = body.org_id;
    updated.group_id = body.group_id;
    commit_change(w, &state.data_keys, &current, updated, "member.transfer").await
}

/// A member's branch moves, oldest first.
#[utoipa::path(tag = "members", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, description = "The moves", body = Items<TransferView>),
))]
#[get("/api/v1/members/{id}/history")]
pub(super) async fn member_history(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> Result<Json<Items<TransferView>>, ApiError> {
    let m = find(&state.db, &MemberAccess::of(&user), *id).await?;
    let rows = transfer::Entity::find()
        .filter(transfer::Column::MemberId.eq(m.id))
        .order_by_asc(transfer::Column::MovedAt)
        .order_by_asc(transfer::Column::Id)
        .all(&state.db)
        .await?;
    Ok(Json(Items {
        items: rows
            .into_iter()
            .map(|t| TransferView {
                id: t.id,
                from_org_id: t.from_org_id,
                to_org_id: t.to_org_id,
                from_group_id: t.from_group_id,
                to_group_id: t.to_group_id,
                moved_at: t.moved_at,
                actor_user_id: t.actor_user_id,
            })
            .collect(),
    }))
}

/// Record that a member left (转出, 去世 …). The record stays, inactive. Requires `If-Match`.
#[utoipa::path(tag = "members", security(("bearer" = [])), request_body = LeaveRequest,
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag from your last read")),
    responses(
        (status = 200, description = "Left", body = MemberView, headers(("ETag" = String))),
        (status = 403, description = "Role may not manage members", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already left", body = Problem, content_type = "application/problem+json"),
))]
#[post("/api/v1/members/{id}/leave")]
pub(super) async fn leave(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    Json(body): Json<LeaveRequest>,
) -> Result<Versioned<MemberView>, ApiError> {
    let access = MemberAccess::of(&user);
    let w = Write::begin(&state.db, &user.audit).await?;
    let current = find_managed(w.db(), &access, *id).await?;
    if_match.check(current.version)?;
    if !current.active {
        return Err(ApiError::conflict(text!(
            "This member has already left.",
            "该党员已经离开。"
        )));
    }
    if body.left_on < current.joined_on || body.left_on > crate::db::now().date_naive() {
        return Err(ApiError::invalid_field(
            "/left_on",
            "out_of_range",
            text!("must be between joining and today", "须在入党日期与今天之间"),
        ));
    }
    // A member who leaves stops helping: their households must be handed over first.
    if crate::pairings::active_pairings_of_member(w.db(), current.id).await? > 0 {
        return Err(ApiError::conflict(text!(
            "This member still helps poor households: end those pairings or replace them as primary helper first.",
            "该党员仍有结对帮扶户：请先结束这些结对或更换主要帮扶责任人。"
        )));
    }
    let mut updated = current.clone();
    updated.active = false;
    updated.left_reason = Some(body.reason);
    updated.left_on = Some(body.left_on);
    // Blank means no note; the length is counted as sent, as the schema states it.
    if let Some(note) = body.note.as_deref().filter(|n| !n.trim().is_empty()) {
        let note = crate::http::validate::short_text(note, "/note", 1000)?;
        updated.note = Some(match &current.note {
            Some(old) => format!("{old}\n{note}"),
            None => note,
        })
        .map(|n| n.chars().take(1000).collect());
    }
    commit_change(w, &state.data_keys, &current, updated, "member.leave").await
}

/// Saves `updated` (a changed copy of `current`) with the audit event `action`, filed under
/// the member's new organisation, and answers the member as saved (masked).
async fn commit_change(
    w: Write,
    keys: &DataKeys,
    current: &Model,
    updated: Model,
    action: &'static str,
) -> Result<Versioned<MemberView>, ApiError> {
    let saved = save(&w, current, updated).await?;
    let (before, after) = (view(current, keys, false)?, view(&saved, keys, false)?);
    let event = Event::new(action, "member", saved.id)
        .org(saved.org_id)
        .before(&before)
        .after(&after);
    w.commit(event).await?;
    Ok(Versioned::ok(saved.version, after))
}
