//! `/api/v1/pairings`: pair a helper with a household, replace the primary helper, end a
//! pairing; a household's, a member's, a cadre's and the caller's pairings.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use chrono::NaiveDate;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, SqlErr};
use uuid::Uuid;

use super::entity::{cadre, pairing};
use super::types::*;
use super::{Helper, find_with_rights, lock_household, view, views, visible};
use crate::audit::{Event, Write};
use crate::auth::AuthUser;
use crate::error::{ApiError, FieldError, Problem};
use crate::households::{HouseholdAccess, find_managed as find_managed_household};
use crate::http::{Claim, IdempotencyKey, Json, StoredResponse};
use crate::members::MemberAccess;
use crate::members::types::Items;
use crate::state::AppState;
use crate::text;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_pairing)
        .service(get_pairing)
        .service(end_pairing)
        .service(replace_primary)
        .service(household_pairings)
        .service(member_pairings)
        .service(cadre_pairings)
        .service(my_households);
}

/// The helper a request names: exactly one of a member the caller can see (active) or a
/// cadre in the caller's scope; else 422 (or 404 for one out of sight).
async fn resolve_helper<C: ConnectionTrait>(
    db: &C,
    user: &AuthUser,
    member_id: Option<Uuid>,
    cadre_id: Option<Uuid>,
) -> Result<(Option<Uuid>, Option<Uuid>), ApiError> {
    match (member_id, cadre_id) {
        (Some(m), None) => {
            let member = crate::members::find(db, &MemberAccess::of(user), m).await?;
            if !member.active {
                return Err(ApiError::invalid_field(
                    "/member_id",
                    "inactive",
                    text!("this member has left the rolls", "该党员已不在册"),
                ));
            }
            Ok((Some(m), None))
        }
        (None, Some(c)) => {
            super::cadres::find_readable(db, user, c).await?;
            Ok((None, Some(c)))
        }
        _ => Err(ApiError::invalid_field(
            "/member_id",
            "one_helper",
            text!(
                "name exactly one helper: member_id or cadre_id",
                "须且只能指定一名帮扶责任人：member_id 或 cadre_id"
            ),
        )),
    }
}

/// A start or end day: not before 2000, not in the future.
fn check_day(day: NaiveDate, pointer: &str) -> Result<(), ApiError> {
    let today = crate::db::now().date_naive();
    let earliest = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default();
    if day > today || day < earliest {
        return Err(ApiError::invalid_field(
            pointer,
            "out_of_range",
            text!("must be from 2000-01-01 to today", "须在 2000-01-01 到今天之间"),
        ));
    }
    Ok(())
}

/// What a refused insert of a pairing means: the database's unique rules, as 409s.
fn pairing_conflict(err: sea_orm::DbErr) -> ApiError {
    match err.sql_err() {
        // PostgreSQL names the index; SQLite lists its columns.
        Some(SqlErr::UniqueConstraintViolation(detail))
            if detail.contains("one_primary") || detail.trim_end().ends_with("pairings.household_id") =>
        {
            ApiError::conflict(text!(
                "The household already has a primary helper; replace the primary helper instead.",
                "该户已有主要帮扶责任人，请使用更换主要帮扶责任人。"
            ))
        }
        Some(SqlErr::UniqueConstraintViolation(_)) => ApiError::conflict(text!(
            "This helper is already paired with this household.",
            "该帮扶责任人已与该户结对。"
        )),
        _ => ApiError::from(err),
    }
}

/// The active primary pairing of a household, if any.
async fn active_primary<C: ConnectionTrait>(db: &C, household_id: Uuid) -> Result<Option<pairing::Model>, ApiError> {
    Ok(pairing::Entity::find()
        .filter(pairing::Column::HouseholdId.eq(household_id))
        .filter(pairing::Column::EndOn.is_null())
        .filter(pairing::Column::IsPrimary.eq(true))
        .one(db)
        .await?)
}

fn new_pairing(
    household: &crate::households::entity::household::Model,
    helper: (Option<Uuid>, Option<Uuid>),
    is_primary: bool,
    start_on: NaiveDate,
) -> pairing::Model {
    pairing::Model {
        id: Uuid::now_v7(),
        household_id: household.id,
        org_id: household.org_id,
        member_id: helper.0,
        cadre_id: helper.1,
        is_primary,
        start_on,
        end_on: None,
        end_reason: None,
        created_at: crate::db::now(),
    }
}

/// Pair a helper with a household (结对). The household's first active pairing is its
/// primary one. Accepts `Idempotency-Key`.
#[utoipa::path(tag = "pairings", security(("bearer" = [])), request_body = NewPairing,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    responses(
        (status = 201, description = "Paired", body = PairingView, headers(("Location" = String))),
        (status = 403, description = "Not your household", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Household or helper not found in your scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already paired, or the household has a primary helper", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not valid", body = Problem, content_type = "application/problem+json"),
))]
#[post("/api/v1/pairings")]
async fn create_pairing(
    state: web::Data<AppState>,
    user: AuthUser,
    key: IdempotencyKey,
    Json(body): Json<NewPairing>,
) -> Result<HttpResponse, ApiError> {
    check_day(body.start_on, "/start_on")?;
    let household = find_managed_household(&state.db, &HouseholdAccess::of(&user), body.household_id).await?;
    let helper = resolve_helper(&state.db, &user, body.member_id, body.cadre_id).await?;
    let ticket = match key.claim(&state.db, &user.id().to_string()).await? {
        Claim::Replay(stored) => return Ok(stored),
        Claim::Proceed(ticket) => ticket,
    };
    let w = Write::begin(&state.db, &user.audit).await?;
    lock_household(&w, household.id).await?;
    let primary = active_primary(w.db(), household.id).await?;
    if body.primary && primary.is_some() {
        return Err(ApiError::conflict(text!(
            "The household already has a primary helper; replace the primary helper instead.",
            "该户已有主要帮扶责任人，请使用更换主要帮扶责任人。"
        )));
    }
    let p = new_pairing(&household, helper, primary.is_none(), body.start_on);
    pairing::Entity::insert(p.clone().into_active_model())
        .exec_without_returning(w.db())
        .await
        .map_err(pairing_conflict)?;
    let view = view(w.db(), &p).await?;
    let event = Event::new("pairing.create", "pairing", p.id).org(p.org_id).after(&view);
    let response = StoredResponse::json(StatusCode::CREATED, &view)?.location(format!("/api/v1/pairings/{}", p.id));
    ticket.commit(w, event, response).await
}

/// One pairing.
#[utoipa::path(tag = "pairings", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, description = "The pairing", body = PairingView),
))]
#[get("/api/v1/pairings/{id}")]
async fn get_pairing(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> Result<Json<PairingView>, ApiError> {
    let (p, _) = find_with_rights(&state.db, &user, *id).await?;
    Ok(Json(view(&state.db, &p).await?))
}

/// End a pairing (on its last day). The primary pairing ends only when it is the last active
/// one; otherwise replace the primary helper first (409). Lifted households keep their
/// helpers (脱贫不脱帮扶) until their pairings are ended here.
#[utoipa::path(tag = "pairings", security(("bearer" = [])), request_body = EndPairing,
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "Ended", body = PairingView),
        (status = 403, description = "Not yours to change", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already ended, or the primary of several active pairings", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not valid", body = Problem, content_type = "application/problem+json"),
))]
#[post("/api/v1/pairings/{id}/end")]
async fn end_pairing(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    Json(body): Json<EndPairing>,
) -> Result<Json<PairingView>, ApiError> {
    check_day(body.end_on, "/end_on")?;
    let mut errors = Vec::new();
    let reason = crate::members::optional_text(body.reason, "/reason", 200, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let w = Write::begin(&state.db, &user.audit).await?;
    let (p, rights) = find_with_rights(w.db(), &user, *id).await?;
    if !rights.manage {
        return Err(forbidden_to_change());
    }
    lock_household(&w, p.household_id).await?;
    let p = current(w.db(), p.id).await?;
    if p.end_on.is_some() {
        return Err(ApiError::conflict(text!(
            "This pairing has already ended.",
            "该结对已结束。"
        )));
    }
    if body.end_on < p.start_on {
        return Err(ApiError::invalid_field(
            "/end_on",
            "before_start",
            text!("is before the pairing started", "早于结对开始日期"),
        ));
    }
    check_no_help_after(w.db(), &p, body.end_on, "/end_on").await?;
    if p.is_primary {
        let others = pairing::Entity::find()
            .filter(pairing::Column::HouseholdId.eq(p.household_id))
            .filter(pairing::Column::EndOn.is_null())
            .filter(pairing::Column::Id.ne(p.id))
            .all(w.db())
            .await?;
        if !others.is_empty() {
            return Err(ApiError::conflict(text!(
                "This is the household's primary pairing and others are active: replace the primary helper first (POST /api/v1/households/{{id}}/primary-helper).",
                "这是该户的主要帮扶结对，且还有其他结对：请先更换主要帮扶责任人。"
            )));
        }
    }
    let ended = close(&w, &p, body.end_on, reason).await?;
    let before = view(w.db(), &p).await?;
    let after = view(w.db(), &ended).await?;
    w.commit(
        Event::new("pairing.end", "pairing", p.id)
            .org(p.org_id)
            .before(&before)
            .after(&after),
    )
    .await?;
    Ok(Json(after))
}

/// The pairing as it is now (read again after the household's lock was taken).
async fn current<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<pairing::Model, ApiError> {
    pairing::Entity::find_by_id(id).one(db).await?.ok_or(ApiError::NotFound)
}

/// A pairing cannot end before help logged on it: 422 at `pointer` naming the latest record.
async fn check_no_help_after<C: ConnectionTrait>(
    db: &C,
    p: &pairing::Model,
    last_day: NaiveDate,
    pointer: &str,
) -> Result<(), ApiError> {
    if let Some(latest) = super::help_records::latest_on(db, p.id).await?
        && latest > last_day
    {
        return Err(ApiError::invalid_field(
            pointer,
            "help_logged_after",
            text!(
                "help was logged on this pairing on {latest}, after its last day {last_day}",
                "该结对在 {latest} 有帮扶记录，晚于结束日期 {last_day}"
            ),
        ));
    }
    Ok(())
}

fn forbidden_to_change() -> ApiError {
    ApiError::Forbidden {
        detail: text!(
            "Only the branch secretary or an administrator over the household changes its pairings.",
            "只有该户所属支部书记或管理员可以调整结对。"
        ),
    }
}

/// Ends `p` on `end_on`, if nobody ended it meanwhile (else 409): the update names the row's
/// active state, so of two concurrent requests one ends it and the other is told.
async fn close(
    w: &Write,
    p: &pairing::Model,
    end_on: NaiveDate,
    reason: Option<String>,
) -> Result<pairing::Model, ApiError> {
    let res = pairing::Entity::update_many()
        .col_expr(pairing::Column::EndOn, Expr::value(end_on))
        .col_expr(pairing::Column::EndReason, Expr::value(reason.clone()))
        .filter(pairing::Column::Id.eq(p.id))
        .filter(pairing::Column::EndOn.is_null())
        .exec(w.db())
        .await?;
    if res.rows_affected != 1 {
        return Err(ApiError::conflict(text!(
            "This pairing was changed by another request; reload and try again.",
            "该结对已被其他请求修改，请刷新后重试。"
        )));
    }
    Ok(pairing::Model {
        end_on: Some(end_on),
        end_reason: reason,
        ..p.clone()
    })
}

/// Replace a household's primary helper (更换主要帮扶责任人): the current primary pairing
/// ends the day before `start_on` and the new helper's primary pairing starts on it, in one
/// transaction (a non-primary pairing the new helper had ends too, so history shows when
/// they became primary). Of two concurrent replacements one wins; the other gets 409.
/// Accepts `Idempotency-Key`.
#[utoipa::path(tag = "pairings", security(("bearer" = [])), request_body = NewPrimaryHelper,
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    responses(
        (status = 201, description = "The new primary pairing", body = PairingView, headers(("Location" = String))),
        (status = 403, description = "Not your household", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No primary to replace, the same helper, or a concurrent change", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not valid", body = Problem, content_type = "application/problem+json"),
))]
#[post("/api/v1/households/{id}/primary-helper")]
async fn replace_primary(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    key: IdempotencyKey,
    Json(body): Json<NewPrimaryHelper>,
) -> Result<HttpResponse, ApiError> {
    check_day(body.start_on, "/start_on")?;
    let mut errors: Vec<FieldError> = Vec::new();
    let reason = crate::members::optional_text(body.reason, "/reason", 200, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let household = find_managed_household(&state.db, &HouseholdAccess::of(&user), *id).await?;
    let helper = resolve_helper(&state.db, &user, body.member_id, body.cadre_id).await?;
    let ticket = match key.claim(&state.db, &user.id().to_string()).await? {
        Claim::Replay(stored) => return Ok(stored),
        Claim::Proceed(ticket) => ticket,
    };
    let w = Write::begin(&state.db, &user.audit).await?;
    lock_household(&w, household.id).await?;
    let Some(old) = active_primary(w.db(), household.id).await? else {
        return Err(ApiError::conflict(text!(
            "The household has no primary helper to replace; pair a helper instead (POST /api/v1/pairings).",
            "该户没有可更换的主要帮扶责任人，请直接结对。"
        )));
    };
    if (old.member_id, old.cadre_id) == helper {
        return Err(ApiError::conflict(text!(
            "This helper is already the primary one.",
            "该帮扶责任人已是主要帮扶责任人。"
        )));
    }
    let Some(last_day) = body.start_on.pred_opt().filter(|d| *d >= old.start_on) else {
        return Err(ApiError::invalid_field(
            "/start_on",
            "before_current",
            text!(
                "must be after the current primary pairing started ({})",
                "须晚于现主要帮扶结对的开始日期（{}）",
                old.start_on
            ),
        ));
    };
    check_no_help_after(w.db(), &old, last_day, "/start_on").await?;
    let reason = reason.or(Some("更换主要帮扶责任人".to_owned()));
    let old_ended = close(&w, &old, last_day, reason.clone()).await?;
    let mut own_earlier = pairing::Entity::find()
        .filter(pairing::Column::HouseholdId.eq(household.id))
        .filter(pairing::Column::EndOn.is_null());
    own_earlier = match helper {
        (Some(m), _) => own_earlier.filter(pairing::Column::MemberId.eq(m)),
        (_, Some(c)) => own_earlier.filter(pairing::Column::CadreId.eq(c)),
        _ => own_earlier,
    };
    let mut ended = vec![old_ended];
    if let Some(earlier) = own_earlier.one(w.db()).await? {
        // The new helper's own non-primary pairing ends the day before, as the old primary's.
        if last_day < earlier.start_on {
            return Err(ApiError::invalid_field(
                "/start_on",
                "before_current",
                text!(
                    "must be after this helper's current pairing started ({})",
                    "须晚于该帮扶责任人现有结对的开始日期（{}）",
                    earlier.start_on
                ),
            ));
        }
        check_no_help_after(w.db(), &earlier, last_day, "/start_on").await?;
        ended.push(close(&w, &earlier, last_day, Some("转为主要帮扶责任人".to_owned())).await?);
    }
    let p = new_pairing(&household, helper, true, body.start_on);
    pairing::Entity::insert(p.clone().into_active_model())
        .exec_without_returning(w.db())
        .await
        .map_err(pairing_conflict)?;
    let view = view(w.db(), &p).await?;
    let event = Event::new("pairing.replace_primary", "pairing", p.id)
        .org(p.org_id)
        .before(serde_json::json!({"primary": super::view(w.db(), &old).await?}))
        .after(serde_json::json!({"primary": &view, "ended": views(w.db(), &ended).await?}));
    let response = StoredResponse::json(StatusCode::CREATED, &view)?.location(format!("/api/v1/pairings/{}", p.id));
    ticket.commit(w, event, response).await
}

/// Every pairing of `filter`, newest first, as views.
async fn listed<C: ConnectionTrait>(db: &C, filter: sea_orm::Condition) -> Result<Items<PairingView>, ApiError> {
    let rows = pairing::Entity::find()
        .filter(filter)
        .order_by_desc(pairing::Column::StartOn)
        .order_by_desc(pairing::Column::Id)
        .all(db)
        .await?;
    Ok(Items {
        items: views(db, &rows).await?,
    })
}

/// A household's pairings, past and present (帮扶历史), newest first.
#[utoipa::path(tag = "pairings", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, description = "Its pairings", body = Items<PairingView>),
))]
#[get("/api/v1/households/{id}/pairings")]
async fn household_pairings(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> Result<Json<Items<PairingView>>, ApiError> {
    let (h, _) = crate::households::find_with_rights(&state.db, &HouseholdAccess::of(&user), *id).await?;
    let filter = sea_orm::Condition::all().add(pairing::Column::HouseholdId.eq(h.id));
    Ok(Json(listed(&state.db, filter).await?))
}

/// A member's pairings as a helper, past and present, newest first.
#[utoipa::path(tag = "pairings", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, description = "Their pairings", body = Items<PairingView>),
))]
#[get("/api/v1/members/{id}/pairings")]
async fn member_pairings(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> Result<Json<Items<PairingView>>, ApiError> {
    let m = crate::members::find(&state.db, &MemberAccess::of(&user), *id).await?;
    let filter = sea_orm::Condition::all()
        .add(pairing::Column::MemberId.eq(m.id))
        .add(visible(&user));
    Ok(Json(listed(&state.db, filter).await?))
}

/// A cadre's pairings, past and present, newest first.
#[utoipa::path(tag = "pairings", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, description = "Their pairings", body = Items<PairingView>),
))]
#[get("/api/v1/cadres/{id}/pairings")]
async fn cadre_pairings(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> Result<Json<Items<PairingView>>, ApiError> {
    let c: cadre::Model = super::cadres::find_readable(&state.db, &user, *id).await?;
    let filter = sea_orm::Condition::all()
        .add(pairing::Column::CadreId.eq(c.id))
        .add(visible(&user));
    Ok(Json(listed(&state.db, filter).await?))
}

/// The households you help now (我的帮扶户): your active pairings, for an account linked to a
/// member or a cadre (empty otherwise).
#[utoipa::path(tag = "pairings", security(("bearer" = [])), responses(
    (status = 200, description = "Your active pairings", body = Items<PairingView>),
))]
#[get("/api/v1/me/households")]
async fn my_households(state: web::Data<AppState>, user: AuthUser) -> Result<Json<Items<PairingView>>, ApiError> {
    let Some(own) = Helper::of(&user).own_pairings() else {
        return Ok(Json(Items { items: Vec::new() }));
    };
    let filter = sea_orm::Condition::all().add(own).add(pairing::Column::EndOn.is_null());
    Ok(Json(listed(&state.db, filter).await?))
}
