//! Help records (帮扶记录): `POST /api/v1/pairings/{id}/help-records` and the lists.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use sea_orm::sea_query::Condition;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, Order, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

use super::entity::{help_record, pairing};
use super::find_with_rights;
use super::types::*;
use crate::audit::{Event, Write};
use crate::auth::{AuthUser, Scope};
use crate::error::{ApiError, Problem};
use crate::http::export::{self, CellKind, ExportParams};
use crate::http::pagination::keyset_rows;
use crate::http::validate::{check_evidence, collect_text};
use crate::http::xlsx::Workbook;
use crate::http::{Claim, IdempotencyKey, Json, ListQuery, Page, PageParams, StoredResponse};
use crate::orgs::queries as orgs;
use crate::state::AppState;
use crate::text;
use crate::users::entity::user;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_help_record).service(list_help_records);
}

/// The date of the latest help record on a pairing.
pub async fn latest_on<C: ConnectionTrait>(db: &C, pairing_id: Uuid) -> Result<Option<chrono::NaiveDate>, ApiError> {
    Ok(help_record::Entity::find()
        .select_only()
        .column(help_record::Column::Date)
        .filter(help_record::Column::PairingId.eq(pairing_id))
        .order_by_desc(help_record::Column::Date)
        .limit(1)
        .into_tuple()
        .one(db)
        .await?)
}

/// Whether an enabled account is linked to the pairing's helper (who then logs their own records).
async fn helper_has_account<C: ConnectionTrait>(db: &C, p: &pairing::Model) -> Result<bool, ApiError> {
    let linked = match (p.member_id, p.cadre_id) {
        (Some(m), _) => user::Column::MemberId.eq(m),
        (_, Some(c)) => user::Column::CadreId.eq(c),
        _ => return Ok(false),
    };
    Ok(user::Entity::find()
        .filter(linked)
        .filter(user::Column::Disabled.eq(false))
        .count(db)
        .await?
        > 0)
}

/// Log what a helper did (记录帮扶): the helper logs their own (when their account is
/// linked); group leaders and secretaries in scope log for helpers without an account. Only
/// on active pairings, dated within the pairing and not in the future. Honours
/// `Idempotency-Key`: a retried request never creates a second record.
#[utoipa::path(tag = "pairings", security(("bearer" = [])), request_body = NewHelpRecord,
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    responses(
        (status = 201, description = "Logged", body = HelpRecordView, headers(("Location" = String))),
        (status = 403, description = "Not your pairing to log on", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The pairing has ended", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not valid", body = Problem, content_type = "application/problem+json"),
))]
#[post("/api/v1/pairings/{id}/help-records")]
async fn create_help_record(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    key: IdempotencyKey,
    Json(body): Json<NewHelpRecord>,
) -> Result<HttpResponse, ApiError> {
    let mut errors = Vec::new();
    let content = collect_text(&body.content, "/content", 2000, &mut errors);
    if body.amount_fen.is_some_and(|a| !(0..=100_000_000).contains(&a)) {
        errors.push(crate::error::FieldError::body(
            "/amount_fen",
            "out_of_range",
            text!("must be 0 to 100,000,000 fen", "须在 0 到 100,000,000 分之间"),
        ));
    }
    check_evidence(&body.evidence, "/evidence", &mut errors);
    if body.date > crate::db::now().date_naive() {
        errors.push(crate::error::FieldError::body(
            "/date",
            "future",
            text!("is in the future", "不能晚于今天"),
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    // The key first: a retry is answered as the first request was, whatever changed since.
    let ticket = match key.claim(&state.db, &user.id().to_string()).await? {
        Claim::Replay(stored) => return Ok(stored),
        Claim::Proceed(ticket) => ticket,
    };
    let w = Write::begin(&state.db, &user.audit).await?;
    let (p, rights) = find_with_rights(w.db(), &user, *id).await?;
    // The helper's own account logs its own records (it is, by being theirs, the account
    // linked to the helper); others only for a helper without one.
    let may = rights.own || (!helper_has_account(w.db(), &p).await? && (rights.manage || rights.group_leader));
    if !may {
        return Err(ApiError::Forbidden {
            detail: text!(
                "Helpers log their own help records; group leaders and secretaries log only for helpers without an account.",
                "帮扶记录由帮扶责任人本人填写；党小组长和支部书记只能为没有账户的帮扶责任人代填。"
            ),
        });
    }
    // Locking the pairing while it is active: it cannot end before this write commits (ending
    // it updates this row), and one that ended meanwhile is found ended.
    let still_active = pairing::Entity::update_many()
        .col_expr(pairing::Column::Id, sea_orm::sea_query::Expr::col(pairing::Column::Id))
        .filter(pairing::Column::Id.eq(p.id))
        .filter(pairing::Column::EndOn.is_null())
        .exec(w.db())
        .await?;
    if still_active.rows_affected == 0 {
        return Err(ApiError::conflict(text!(
            "This pairing has ended; help is logged on active pairings.",
            "该结对已结束，只能在进行中的结对上记录帮扶。"
        )));
    }
    if body.date < p.start_on {
        return Err(ApiError::invalid_field(
            "/date",
            "before_start",
            text!("is before the pairing started", "早于结对开始日期"),
        ));
    }
    let record = help_record::Model {
        id: Uuid::now_v7(),
        pairing_id: p.id,
        household_id: p.household_id,
        org_id: p.org_id,
        member_id: p.member_id,
        cadre_id: p.cadre_id,
        date: body.date,
        kind: body.kind,
        content,
        amount_fen: body.amount_fen,
        evidence: (!body.evidence.is_empty()).then(|| serde_json::to_string(&body.evidence).unwrap_or_default()),
        recorded_by: Some(user.id()),
        created_at: crate::db::now(),
    };
    help_record::Entity::insert(record.clone().into_active_model())
        .exec_without_returning(w.db())
        .await?;
    let view = view(&record);
    let event = Event::new("help_record.create", "help_record", record.id)
        .org(record.org_id)
        .after(&view);
    let response =
        StoredResponse::json(StatusCode::CREATED, &view)?.location(format!("/api/v1/help-records?pairing_id={}", p.id));
    ticket.commit(w, event, response).await
}

pub fn view(r: &help_record::Model) -> HelpRecordView {
    HelpRecordView {
        id: r.id,
        pairing_id: r.pairing_id,
        household_id: r.household_id,
        member_id: r.member_id,
        cadre_id: r.cadre_id,
        date: r.date,
        kind: r.kind,
        content: r.content.clone(),
        amount_fen: r.amount_fen,
        evidence: r
            .evidence
            .as_deref()
            .and_then(|e| serde_json::from_str(e).ok())
            .unwrap_or_default(),
        recorded_by: r.recorded_by,
        org_id: r.org_id,
        created_at: r.created_at,
    }
}

/// The records a list shows: those about households the caller reads, and the caller's own.
async fn list_condition(state: &AppState, user: &AuthUser, f: &HelpRecordFilters) -> Result<Condition, ApiError> {
    let read: Scope = user.scope(crate::households::READERS);
    let mut all = Condition::all();
    match f.org_id {
        Some(org_id) => {
            let root = orgs::find(&state.db, &read, org_id).await?;
            all = all.add(read.narrowed_to(&root.path, help_record::Column::OrgId));
        }
        None => {
            let mut any = Condition::any().add(read.org_condition(help_record::Column::OrgId));
            let helper = super::Helper::of(user);
            if let Some(m) = helper.member_id {
                any = any.add(help_record::Column::MemberId.eq(m));
            }
            if let Some(c) = helper.cadre_id {
                any = any.add(help_record::Column::CadreId.eq(c));
            }
            all = all.add(any);
        }
    }
    if let Some(v) = f.pairing_id {
        all = all.add(help_record::Column::PairingId.eq(v));
    }
    if let Some(v) = f.household_id {
        all = all.add(help_record::Column::HouseholdId.eq(v));
    }
    if let Some(v) = f.member_id {
        all = all.add(help_record::Column::MemberId.eq(v));
    }
    if let Some(v) = f.cadre_id {
        all = all.add(help_record::Column::CadreId.eq(v));
    }
    if let Some(k) = f.kind {
        all = all.add(help_record::Column::Kind.eq(k.as_str()));
    }
    if let Some(from) = f.from {
        all = all.add(help_record::Column::Date.gte(from));
    }
    if let Some(to) = f.to {
        all = all.add(help_record::Column::Date.lte(to));
    }
    Ok(all)
}

/// One keyset page, newest first.
async fn page_rows<C: ConnectionTrait>(
    db: &C,
    condition: Condition,
    after: Option<(chrono::NaiveDate, Uuid)>,
    limit: u64,
) -> Result<Vec<help_record::Model>, ApiError> {
    let columns = (help_record::Column::Date, help_record::Column::Id);
    let after = after.map(|(date, id)| (date.into(), id));
    keyset_rows(
        db,
        help_record::Entity::find().filter(condition),
        columns,
        Order::Desc,
        after,
        limit,
    )
    .await
}

/// The export of this list: its file, its sheet and its columns.
const EXPORT: export::Export = export::Export {
    file: "help-records",
    sheet: "帮扶记录",
    columns: &[
        ("编号", CellKind::Text),
        ("结对", CellKind::Text),
        ("贫困户", CellKind::Text),
        ("帮扶党员", CellKind::Text),
        ("帮扶干部", CellKind::Text),
        ("日期", CellKind::Date),
        ("帮扶方式", CellKind::Text),
        ("内容", CellKind::Text),
        ("金额（元）", CellKind::Money),
        ("佐证材料", CellKind::Text),
    ],
};

/// Help records about households in your scope (and your own), newest first: one page, or
/// the whole filtered list as CSV (`Accept: text/csv`, UTF-8 with BOM) or an Excel workbook
/// (`Accept:` the xlsx type), or `?format=csv|xlsx`; amounts in yuan; streamed.
#[utoipa::path(tag = "pairings", security(("bearer" = [])), params(HelpRecordFilters, PageParams, ExportParams), responses(
    (status = 200, description = "One page (JSON) or the whole list (CSV or workbook)",
        content((Page<HelpRecordView> = "application/json"), (String = "text/csv"), (Workbook = crate::http::xlsx::MEDIA_TYPE))),
))]
#[get("/api/v1/help-records")]
async fn list_help_records(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    query: ListQuery<HelpRecordFilters>,
) -> Result<HttpResponse, ApiError> {
    let condition = list_condition(&state, &user, &query.filters).await?;
    if let Some(format) = export::wanted(&req)? {
        let opt = |v: Option<Uuid>| v.map(|v| v.to_string()).unwrap_or_default();
        return Ok(export::stream_pages(
            format,
            &EXPORT,
            move |after, limit| {
                let (state, condition) = (state.clone(), condition.clone());
                async move { page_rows(&state.db, condition, after, limit).await }
            },
            |r| (r.date, r.id),
            move |r| {
                let r = view(r);
                Ok(vec![
                    r.id.to_string(),
                    r.pairing_id.to_string(),
                    r.household_id.to_string(),
                    opt(r.member_id),
                    opt(r.cadre_id),
                    r.date.to_string(),
                    r.kind.label().to_owned(),
                    r.content,
                    r.amount_fen.map(export::yuan).unwrap_or_default(),
                    r.evidence.join(" "),
                ])
            },
        ));
    }
    let limit = query.page.limit()?;
    let total = if query.page.include_total() {
        Some(
            help_record::Entity::find()
                .filter(condition.clone())
                .count(&state.db)
                .await?,
        )
    } else {
        None
    };
    let rows = page_rows(&state.db, condition, query.page.after()?, limit).await?;
    let items: Vec<HelpRecordView> = rows.iter().map(view).collect();
    Ok(HttpResponse::Ok().json(Page::from_rows(items, limit, |r| (r.date, r.id)).with_total(total)))
}
