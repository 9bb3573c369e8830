//! `/api/v1/finance-records`: the village ledger (收支记录). Corrections are audited edits
//! with `If-Match`, or reversing records (冲销); nothing is deleted.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use chrono::{Datelike, NaiveDate};
use sea_orm::sea_query::Condition;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, Order, PaginatorTrait, QueryFilter, SqlErr};
use uuid::Uuid;

use super::entity::{project, record};
use super::types::*;
use super::{READERS, find_record};
use crate::audit::{Event, VersionedEntity, Write};
use crate::auth::{Access, AuthUser};
use crate::error::{ApiError, FieldError, Problem};
use crate::http::conditional::etag;
use crate::http::export::{self, CellKind, ExportFormat, ExportParams};
use crate::http::pagination::keyset_rows;
use crate::http::xlsx::Workbook;
use crate::http::{Claim, IdempotencyKey, IfMatch, Json, ListQuery, Page, PageParams, StoredResponse, Versioned};
use crate::members::optional_text;
use crate::orgs::queries as orgs;
use crate::state::AppState;
use crate::text;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_finance_record)
        .service(list_finance_records)
        .service(get_finance_record)
        .service(update_finance_record)
        .service(reverse_finance_record);
}

pub fn view(r: &record::Model) -> FinanceRecordView {
    FinanceRecordView {
        id: r.id,
        village_id: r.village_id,
        org_id: r.org_id,
        year: r.year,
        flow: r.flow,
        flow_label: r.flow.label().to_owned(),
        category: r.category,
        category_label: r.category.label().to_owned(),
        project_id: r.project_id,
        amount_fen: r.amount_fen,
        net_fen: if r.reverses_id.is_some() {
            -r.amount_fen
        } else {
            r.amount_fen
        },
        received_on: r.received_on,
        note: r.note.clone(),
        reverses_id: r.reverses_id,
        reversed_by_id: r.reversed_by_id,
        recorded_by: r.recorded_by,
        version: r.version,
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

/// The checked fields of a record.
struct RecordFields {
    year: i32,
    category: FinanceCategory,
    project_id: Option<Uuid>,
    amount_fen: i64,
    received_on: NaiveDate,
    note: Option<String>,
}

/// Field checks that need no database; every problem at once.
fn validate(f: RecordFields) -> Result<RecordFields, ApiError> {
    let mut errors = Vec::new();
    let today = crate::db::now().date_naive();
    if !(2000..=today.year()).contains(&f.year) {
        errors.push(FieldError::body(
            "/year",
            "out_of_range",
            text!("must be from 2000 to this year", "须在 2000 年到今年之间"),
        ));
    }
    if !(1..=MAX_AMOUNT_FEN).contains(&f.amount_fen) {
        errors.push(FieldError::body(
            "/amount_fen",
            "out_of_range",
            text!("must be 1 to 10¹² fen", "须在 1 到 10¹² 分之间"),
        ));
    }
    if f.received_on > today {
        errors.push(FieldError::body(
            "/received_on",
            "future",
            text!("is in the future", "不能晚于今天"),
        ));
    } else if !(f.year..=f.year.saturating_add(1)).contains(&f.received_on.year()) {
        errors.push(FieldError::body(
            "/received_on",
            "outside_year",
            text!("must fall in the year or the next", "须在本年度或下一年内"),
        ));
    }
    let note = optional_text(f.note, "/note", 1000, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    Ok(RecordFields { note, ..f })
}

/// Refused unless the project is one of the village's.
async fn check_project<C: ConnectionTrait>(db: &C, village_id: Uuid, project_id: Option<Uuid>) -> Result<(), ApiError> {
    let Some(id) = project_id else { return Ok(()) };
    let found = project::Entity::find_by_id(id)
        .filter(project::Column::VillageId.eq(village_id))
        .count(db)
        .await?;
    if found == 0 {
        return Err(ApiError::invalid_field(
            "/project_id",
            "not_of_village",
            text!("must be a project of the same village", "须为本村的产业项目"),
        ));
    }
    Ok(())
}

/// Enter a ledger record for a village (记账): income received, an expenditure or a
/// distribution, by category. Secretaries and administrators over the village. Honours
/// `Idempotency-Key`: a retried request never enters the money twice.
#[utoipa::path(tag = "income", security(("bearer" = [])), request_body = NewFinanceRecord,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    responses(
        (status = 201, description = "Entered", body = FinanceRecordView, headers(("Location" = String), ("ETag" = String))),
        (status = 404, description = "Village not found in your scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not valid", body = Problem, content_type = "application/problem+json"),
))]
#[post("/api/v1/finance-records")]
async fn create_finance_record(
    state: web::Data<AppState>,
    user: AuthUser,
    key: IdempotencyKey,
    Json(body): Json<NewFinanceRecord>,
) -> Result<HttpResponse, ApiError> {
    let f = validate(RecordFields {
        year: body.year,
        category: body.category,
        project_id: body.project_id,
        amount_fen: body.amount_fen,
        received_on: body.received_on,
        note: body.note,
    })?;
    let v = crate::places::find_village(&state.db, &user.scope(Access::MANAGE), body.village_id).await?;
    check_project(&state.db, v.id, f.project_id).await?;
    let ticket = match key.claim(&state.db, &user.id().to_string()).await? {
        Claim::Replay(stored) => return Ok(stored),
        Claim::Proceed(ticket) => ticket,
    };
    let now = crate::db::now();
    let r = record::Model {
        id: Uuid::now_v7(),
        village_id: v.id,
        org_id: v.org_id,
        year: f.year,
        flow: f.category.flow(),
        category: f.category,
        project_id: f.project_id,
        amount_fen: f.amount_fen,
        received_on: f.received_on,
        note: f.note,
        reverses_id: None,
        reversed_by_id: None,
        recorded_by: Some(user.id()),
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let w = Write::begin(&state.db, &user.audit).await?;
    record::Entity::insert(r.clone().into_active_model())
        .exec_without_returning(w.db())
        .await?;
    let after = view(&r);
    let event = Event::new("finance_record.create", "finance_record", r.id)
        .org(r.org_id)
        .after(&after);
    let response = StoredResponse::json(StatusCode::CREATED, &after)?
        .location(format!("/api/v1/finance-records/{}", r.id))
        .header(header::ETAG, etag(1));
    ticket.commit(w, event, response).await
}

/// SQL for the list filters, inside the caller's scope.
async fn list_condition<C: ConnectionTrait>(
    db: &C,
    user: &AuthUser,
    f: &FinanceRecordFilters,
) -> Result<Condition, ApiError> {
    let ids = orgs::subtree_ids(db, &user.scope(READERS), f.org_id).await?;
    let mut all = orgs::ids_condition(&ids, record::Column::OrgId);
    if let Some(v) = f.village_id {
        all = all.add(record::Column::VillageId.eq(v));
    }
    if let Some(year) = crate::pledges::types::query_year(f.year)? {
        all = all.add(record::Column::Year.eq(year));
    }
    if let Some(flow) = f.flow {
        all = all.add(record::Column::Flow.eq(flow));
    }
    if let Some(category) = f.category {
        all = all.add(record::Column::Category.eq(category));
    }
    if let Some(p) = f.project_id {
        all = all.add(record::Column::ProjectId.eq(p));
    }
    Ok(all)
}

/// Ledger records of villages in your scope, newest first: one page, or the whole filtered
/// list as CSV (`Accept: text/csv`, UTF-8 with BOM) or an Excel workbook (`Accept:` the xlsx
/// type), or `?format=csv|xlsx`; amounts in yuan.
#[utoipa::path(tag = "income", security(("bearer" = [])), params(FinanceRecordFilters, PageParams, ExportParams), responses(
    (status = 200, description = "One page (JSON) or the whole list (CSV or workbook)",
        content((Page<FinanceRecordView> = "application/json"), (String = "text/csv"), (Workbook = crate::http::xlsx::MEDIA_TYPE))),
))]
#[get("/api/v1/finance-records")]
async fn list_finance_records(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    query: ListQuery<FinanceRecordFilters>,
) -> Result<HttpResponse, ApiError> {
    let condition = list_condition(&state.db, &user, &query.filters).await?;
    if let Some(format) = export::wanted(&req)? {
        return Ok(export_list(format, state, condition));
    }
    let select = record::Entity::find().filter(condition);
    let total = if query.page.include_total() {
        Some(select.clone().count(&state.db).await?)
    } else {
        None
    };
    let after = query
        .page
        .after::<(NaiveDate, Uuid)>()?
        .map(|(date, id)| (date.into(), id));
    let limit = query.page.limit()?;
    let rows = keyset_rows(
        &state.db,
        select,
        (record::Column::ReceivedOn, record::Column::Id),
        Order::Desc,
        after,
        limit,
    )
    .await?;
    let views: Vec<FinanceRecordView> = rows.iter().map(view).collect();
    Ok(HttpResponse::Ok().json(Page::from_rows(views, limit, |v| (v.received_on, v.id)).with_total(total)))
}

/// The export of this list: its file, its sheet and its columns.
const EXPORT: export::Export = export::Export {
    file: "finance-records",
    sheet: "村集体收支",
    columns: &[
        ("编号", CellKind::Text),
        ("村/社区编号", CellKind::Text),
        ("年度", CellKind::Integer),
        ("收支类别", CellKind::Text),
        ("科目", CellKind::Text),
        ("产业项目编号", CellKind::Text),
        ("金额（元）", CellKind::Money),
        ("日期", CellKind::Date),
        ("备注", CellKind::Text),
        ("冲销记录", CellKind::Text),
    ],
};

/// Streams every record matching `condition` as `format`, batch by batch.
fn export_list(format: ExportFormat, state: web::Data<AppState>, condition: Condition) -> HttpResponse {
    export::stream_pages(
        format,
        &EXPORT,
        move |after: Option<(NaiveDate, Uuid)>, limit| {
            let (state, condition) = (state.clone(), condition.clone());
            async move {
                keyset_rows(
                    &state.db,
                    record::Entity::find().filter(condition),
                    (record::Column::ReceivedOn, record::Column::Id),
                    Order::Desc,
                    after.map(|(date, id)| (date.into(), id)),
                    limit,
                )
                .await
            }
        },
        |r: &record::Model| (r.received_on, r.id),
        |r| {
            let v = view(r);
            Ok(vec![
                r.id.to_string(),
                r.village_id.to_string(),
                r.year.to_string(),
                r.flow.label().into(),
                r.category.label().into(),
                r.project_id.map(|p| p.to_string()).unwrap_or_default(),
                export::yuan(v.net_fen),
                r.received_on.to_string(),
                r.note.clone().unwrap_or_default(),
                r.reverses_id.map(|p| p.to_string()).unwrap_or_default(),
            ])
        },
    )
}

/// One ledger record.
#[utoipa::path(tag = "income", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, description = "The record", body = FinanceRecordView, headers(("ETag" = String))),
))]
#[get("/api/v1/finance-records/{id}")]
async fn get_finance_record(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> Result<Versioned<FinanceRecordView>, ApiError> {
    let r = find_record(&state.db, &user.scope(READERS), *id).await?;
    Ok(Versioned::ok(r.version, view(&r)))
}

/// Refused: a reversed or reversing record is settled.
fn settled() -> ApiError {
    ApiError::conflict(text!(
        "A reversed or reversing record cannot change: enter a new record instead.",
        "已冲销的记录和冲销记录不能修改，请另行记账。"
    ))
}

/// Correct a record (更正): year, category (of the same flow), project, amount, date, note.
/// The change and the values before it are in the audit trail. Not for reversed or
/// reversing records. Requires `If-Match`.
#[utoipa::path(tag = "income", security(("bearer" = [])), request_body = FinanceRecordPatch,
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag from your last read")),
    responses(
        (status = 200, description = "Corrected", body = FinanceRecordView, headers(("ETag" = String))),
        (status = 409, description = "Reversed or reversing", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not valid", body = Problem, content_type = "application/problem+json"),
))]
#[patch("/api/v1/finance-records/{id}")]
async fn update_finance_record(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    Json(patch): Json<FinanceRecordPatch>,
) -> Result<Versioned<FinanceRecordView>, ApiError> {
    let w = Write::begin(&state.db, &user.audit).await?;
    let current = find_record(w.db(), &user.scope(Access::MANAGE), *id).await?;
    // Settled first: whoever read it before it was reversed learns why, not just that it changed.
    if current.reverses_id.is_some() || current.reversed_by_id.is_some() {
        return Err(settled());
    }
    if_match.check(current.version)?;
    let category = patch.category.unwrap_or(current.category);
    if category.flow() != current.flow {
        return Err(ApiError::invalid_field(
            "/category",
            "other_flow",
            text!(
                "must be a category of the record's flow; reverse the record and enter a new one",
                "须为同一收支类别的科目；如需改类别，请冲销后另行记账"
            ),
        ));
    }
    let f = validate(RecordFields {
        year: patch.year.unwrap_or(current.year),
        category,
        project_id: patch.project_id.unwrap_or(current.project_id),
        amount_fen: patch.amount_fen.unwrap_or(current.amount_fen),
        received_on: patch.received_on.unwrap_or(current.received_on),
        note: patch.note.unwrap_or(current.note.clone()),
    })?;
    if f.project_id != current.project_id {
        check_project(w.db(), current.village_id, f.project_id).await?;
    }
    let mut updated = current.clone();
    updated.year = f.year;
    updated.category = f.category;
    updated.project_id = f.project_id;
    updated.amount_fen = f.amount_fen;
    updated.received_on = f.received_on;
    updated.note = f.note;
    let changes = record::Entity::changes(&current, &updated);
    if changes.is_empty() {
        // Nothing to correct: no new version, no audit event.
        w.rollback().await?;
        return Ok(Versioned::ok(current.version, view(&current)));
    }
    let bumped = w
        .update_versioned::<record::Entity>(current.id, current.version, changes)
        .await?;
    updated.version = bumped.version;
    updated.updated_at = bumped.updated_at;
    let (before, after) = (view(&current), view(&updated));
    w.commit(
        Event::new("finance_record.update", "finance_record", current.id)
            .org(current.org_id)
            .before(&before)
            .after(&after),
    )
    .await?;
    Ok(Versioned::ok(updated.version, after))
}

/// Reverse a record (冲销): a new record of the same village, year, category, project and
/// amount that counts against it, so the totals no longer include it while both stay in the
/// ledger. A record is reversed once; a reversing record is not reversed. The reversal is
/// dated `on` (default today, or the last day of the year after the record's if that is
/// earlier): not before the record, not in the future, in the record's year or the next.
/// Honours `Idempotency-Key`: a retried request answers as the first did.
#[utoipa::path(tag = "income", security(("bearer" = [])), request_body = ReverseRequest,
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    responses(
        (status = 201, description = "The reversing record", body = FinanceRecordView, headers(("Location" = String), ("ETag" = String))),
        (status = 409, description = "Already reversed, or a reversing record", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not valid", body = Problem, content_type = "application/problem+json"),
))]
#[post("/api/v1/finance-records/{id}/reverse")]
async fn reverse_finance_record(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    key: IdempotencyKey,
    Json(body): Json<ReverseRequest>,
) -> Result<HttpResponse, ApiError> {
    let reason = crate::http::validate::short_text(&body.reason, "/reason", 500)?;
    let ticket = match key.claim(&state.db, &user.id().to_string()).await? {
        Claim::Replay(stored) => return Ok(stored),
        Claim::Proceed(ticket) => ticket,
    };
    let w = Write::begin(&state.db, &user.audit).await?;
    let original = find_record(w.db(), &user.scope(Access::MANAGE), *id).await?;
    if original.reverses_id.is_some() || original.reversed_by_id.is_some() {
        return Err(ApiError::conflict(text!(
            "This record is already reversed, or reverses another.",
            "该记录已被冲销，或本身是冲销记录。"
        )));
    }
    let today = crate::db::now().date_naive();
    let last = NaiveDate::from_ymd_opt(original.year.saturating_add(1), 12, 31).unwrap_or(today);
    let on = body.on.unwrap_or(Ord::max(Ord::min(today, last), original.received_on));
    if on > today || on > last || on < original.received_on {
        return Err(ApiError::invalid_field(
            "/on",
            "out_of_range",
            text!(
                "must be between the record's date and today, in the record's year or the next",
                "须在原记录日期与今天之间，且在原记录年度或下一年内"
            ),
        ));
    }
    let now = crate::db::now();
    let reversal = record::Model {
        id: Uuid::now_v7(),
        received_on: on,
        note: Some(reason),
        reverses_id: Some(original.id),
        reversed_by_id: None,
        recorded_by: Some(user.id()),
        version: 1,
        created_at: now,
        updated_at: now,
        ..original.clone()
    };
    record::Entity::insert(reversal.clone().into_active_model())
        .exec_without_returning(w.db())
        .await
        .map_err(|e| match e.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => {
                ApiError::conflict(text!("This record has just been reversed.", "该记录刚刚已被冲销。"))
            }
            _ => ApiError::from(e),
        })?;
    let mut reversed = original.clone();
    reversed.reversed_by_id = Some(reversal.id);
    let bumped = w
        .update_versioned::<record::Entity>(
            original.id,
            original.version,
            record::Entity::changes(&original, &reversed),
        )
        .await?;
    reversed.version = bumped.version;
    reversed.updated_at = bumped.updated_at;
    let after = view(&reversal);
    w.also(
        Event::new("finance_record.create", "finance_record", reversal.id)
            .org(reversal.org_id)
            .after(&after),
    )
    .await?;
    let event = Event::new("finance_record.reverse", "finance_record", original.id)
        .org(original.org_id)
        .before(view(&original))
        .after(view(&reversed));
    let response = StoredResponse::json(StatusCode::CREATED, &after)?
        .location(format!("/api/v1/finance-records/{}", reversal.id))
        .header(header::ETAG, etag(1));
    ticket.commit(w, event, response).await
}
