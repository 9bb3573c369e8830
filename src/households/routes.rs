//! `/api/v1/households`: records, their people and incomes, lists, CSV import and export.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, put, web};
use sea_orm::sea_query::Condition;
use sea_orm::{ColumnTrait, EntityTrait, IntoActiveModel, Order, PaginatorTrait, QueryFilter};
use uuid::Uuid;

use super::entity::{household, income, person};
use super::types::*;
use super::{
    HouseholdAccess, build, build_person, check_place, duplicate_head, find_managed, find_with_rights,
    not_visited_since, paired, refuse_duplicate_head, save, set_pii, summary, validate, validate_person, view,
};
use crate::audit::{Event, Write};
use crate::auth::AuthUser;
use crate::error::{ApiError, Problem};
use crate::http::conditional::etag;
use crate::http::export::{self, CellKind, ExportFormat, ExportParams};
use crate::http::pagination::keyset_rows;
use crate::http::xlsx::Workbook;
use crate::http::{
    Claim, IdempotencyKey, IfMatch, Json, ListQuery, Page, PageParams, Query, StoredResponse, Versioned,
};
use crate::members::types::{ImportParams, Reveal};
use crate::orgs::queries as orgs;
use crate::state::AppState;
use crate::text;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_household)
        .service(list_households)
        .service(import_households)
        .service(super::template::households_import_template)
        .service(get_household)
        .service(update_household)
        .service(delete_household)
        .service(add_person)
        .service(update_person)
        .service(remove_person)
        .service(set_income)
        .service(remove_income);
}

/// Register a poor household (贫困户建档) in a village served by a branch in your scope.
/// Accepts `Idempotency-Key`.
#[utoipa::path(tag = "households", security(("bearer" = [])), request_body = NewHousehold,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    responses(
        (status = 201, description = "Created (personal data masked)", body = HouseholdView, headers(("Location" = String), ("ETag" = String))),
        (status = 403, description = "Role may not manage households", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Village not found in your scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A household with this head's ID number exists", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not valid; every bad field listed", body = Problem, content_type = "application/problem+json"),
))]
#[post("/api/v1/households")]
async fn create_household(
    state: web::Data<AppState>,
    user: AuthUser,
    key: IdempotencyKey,
    Json(body): Json<NewHousehold>,
) -> Result<HttpResponse, ApiError> {
    let fields = validate(body).map_err(ApiError::Validation)?;
    let access = HouseholdAccess::of(&user);
    let village = check_place(&state.db, &access.manage, fields.village_id, fields.villager_group_id).await?;
    let ticket = match key.claim(&state.db, &user.id().to_string()).await? {
        Claim::Replay(stored) => return Ok(stored),
        Claim::Proceed(ticket) => ticket,
    };
    let keys = &state.data_keys;
    let w = Write::begin(&state.db, &user.audit).await?;
    if let Some(visible) = duplicate_head(w.db(), &access, &keys.lookup_hash(&fields.id_number), None).await? {
        w.rollback().await?;
        return Err(refuse_duplicate_head(&state.db, &user, village.org_id, "create", visible).await);
    }
    let h = build(keys, fields, village.org_id, Uuid::now_v7(), crate::db::now());
    household::Entity::insert(h.clone().into_active_model())
        .exec_without_returning(w.db())
        .await?;
    let masked = view(w.db(), &h, keys, false).await?;
    let event = Event::new("household.create", "household", h.id)
        .org(h.org_id)
        .after(view(w.db(), &h, keys, true).await?); // personal fields: named, not kept
    let response = StoredResponse::json(StatusCode::CREATED, &masked)?
        .location(format!("/api/v1/households/{}", h.id))
        .header(header::ETAG, etag(h.version));
    ticket.commit(w, event, response).await
}

/// The rows a list shows.
async fn list_condition(
    state: &AppState,
    access: &HouseholdAccess,
    f: &HouseholdFilters,
) -> Result<Condition, ApiError> {
    let mut all = Condition::all();
    match f.org_id {
        Some(org_id) => {
            let root = orgs::find(&state.db, &access.read, org_id).await?;
            all = all.add(access.read.narrowed_to(&root.path, household::Column::OrgId));
        }
        None => all = all.add(access.visible()),
    }
    if let Some(v) = f.village_id {
        all = all.add(household::Column::VillageId.eq(v));
    }
    if let Some(g) = f.villager_group_id {
        all = all.add(household::Column::VillagerGroupId.eq(g));
    }
    if let Some(s) = f.status {
        all = all.add(household::Column::Status.eq(s.as_str()));
    }
    if let Some(a) = f.attribute {
        all = all.add(household::Column::Attribute.eq(a.as_str()));
    }
    if let Some(c) = f.cause {
        all = all.add(
            Condition::any()
                .add(household::Column::MainCause.eq(c.as_str()))
                .add(household::Column::SecondaryCauses.contains(format!(",{},", c.as_str()))),
        );
    }
    if let Some(yes) = f.paired {
        all = all.add(paired(yes));
    }
    if let Some(days) = f.not_visited_days {
        if !(1..=3650).contains(&days) {
            return Err(ApiError::bad_request(
                crate::error::ErrorCode::InvalidQuery,
                text!(
                    "not_visited_days must be 1 to 3650",
                    "not_visited_days 须在 1 到 3650 之间"
                ),
            ));
        }
        let since = crate::db::now().date_naive() - chrono::Days::new(u64::from(days) - 1);
        all = all.add(not_visited_since(since));
    }
    if let Some(q) = f.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        all = all.add(household::Column::HeadName.contains(q));
    }
    Ok(all)
}

/// One keyset page ordered by head's name, then id.
async fn page_rows<C: sea_orm::ConnectionTrait>(
    db: &C,
    condition: Condition,
    after: Option<(String, Uuid)>,
    limit: u64,
) -> Result<Vec<household::Model>, ApiError> {
    let columns = (household::Column::HeadName, household::Column::Id);
    let after = after.map(|(name, id)| (name.into(), id));
    keyset_rows(
        db,
        household::Entity::find().filter(condition),
        columns,
        Order::Asc,
        after,
        limit,
    )
    .await
}

/// Poor households in your scope (or paired with you), by head's name: one page, or the
/// whole filtered list as CSV (`Accept: text/csv`, UTF-8 with BOM) or an Excel workbook
/// (`Accept:` the xlsx type), or `?format=csv|xlsx`; masked, streamed.
#[utoipa::path(tag = "households", security(("bearer" = [])), params(HouseholdFilters, PageParams, ExportParams), responses(
    (status = 200, description = "One page (JSON) or the whole list (CSV or workbook)",
        content((Page<HouseholdSummary> = "application/json"), (String = "text/csv"),
            (Workbook = crate::http::xlsx::MEDIA_TYPE))),
))]
#[get("/api/v1/households")]
async fn list_households(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    query: ListQuery<HouseholdFilters>,
) -> Result<HttpResponse, ApiError> {
    let access = HouseholdAccess::of(&user);
    let condition = list_condition(&state, &access, &query.filters).await?;
    if let Some(format) = export::wanted(&req)? {
        return Ok(export_list(format, state, condition));
    }
    let limit = query.page.limit()?;
    let total = if query.page.include_total() {
        Some(
            household::Entity::find()
                .filter(condition.clone())
                .count(&state.db)
                .await?,
        )
    } else {
        None
    };
    let rows = page_rows(&state.db, condition, query.page.after()?, limit).await?;
    let items = rows
        .iter()
        .map(|h| summary(h, &state.data_keys, false))
        .collect::<Result<Vec<_>, _>>()?;
    let page = Page::from_rows(items, limit, |h| (h.head_name.clone(), h.id)).with_total(total);
    Ok(HttpResponse::Ok().json(page))
}

/// The export of this list: its file, its sheet and its columns.
const EXPORT: export::Export = export::Export {
    file: "households",
    sheet: "贫困户",
    columns: &[
        ("编号", CellKind::Text),
        ("户主姓名", CellKind::Text),
        ("身份证号", CellKind::Text),
        ("手机号", CellKind::Text),
        ("所在村", CellKind::Text),
        ("村民组", CellKind::Text),
        ("住址", CellKind::Text),
        ("家庭人口", CellKind::Integer),
        ("贫困户属性", CellKind::Text),
        ("主要致贫原因", CellKind::Text),
        ("次要致贫原因", CellKind::Text),
        ("识别年度", CellKind::Integer),
        ("状态", CellKind::Text),
        ("脱贫年度", CellKind::Integer),
        ("备注", CellKind::Text),
    ],
};

/// Streams every household matching `condition` (masked) as `format`, batch by batch.
fn export_list(format: ExportFormat, state: web::Data<AppState>, condition: Condition) -> HttpResponse {
    let db = state.clone();
    export::stream_pages(
        format,
        &EXPORT,
        move |after, limit| {
            let (db, condition) = (db.clone(), condition.clone());
            async move { page_rows(&db.db, condition, after, limit).await }
        },
        |h| (h.head_name.clone(), h.id),
        move |h| summary(h, &state.data_keys, false).map(|s| export_row(&s)),
    )
}

fn export_row(h: &HouseholdSummary) -> Vec<String> {
    let opt = |o: &Option<String>| o.clone().unwrap_or_default();
    vec![
        h.id.to_string(),
        h.head_name.clone(),
        h.id_number.clone(),
        opt(&h.phone),
        h.village_id.to_string(),
        h.villager_group_id.map(|g| g.to_string()).unwrap_or_default(),
        opt(&h.address),
        h.size.to_string(),
        h.attribute.label().into(),
        h.main_cause.label().into(),
        h.secondary_causes
            .iter()
            .map(|c| c.label())
            .collect::<Vec<_>>()
            .join("、"),
        h.identified_year.to_string(),
        h.status.label().into(),
        h.lifted_year.map(|y| y.to_string()).unwrap_or_default(),
        opt(&h.note),
    ]
}

/// One household with its people and incomes. With `reveal=pii` ID numbers and the phone
/// are shown in full, to secretaries and administrators over it; each reveal is audited.
#[utoipa::path(tag = "households", security(("bearer" = [])), params(("id" = Uuid, Path), HouseholdRevealParams), responses(
    (status = 200, description = "The household", body = HouseholdView, headers(("ETag" = String))),
    (status = 304, description = "Unchanged since If-None-Match"),
    (status = 403, description = "reveal=pii without the right", body = Problem, content_type = "application/problem+json"),
))]
#[get("/api/v1/households/{id}")]
async fn get_household(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    Query(params): Query<HouseholdRevealParams>,
) -> Result<Versioned<HouseholdView>, ApiError> {
    let access = HouseholdAccess::of(&user);
    let (h, manages) = find_with_rights(&state.db, &access, *id).await?;
    let reveal = params.reveal == Some(Reveal::Pii);
    if reveal {
        if !manages {
            return Err(ApiError::Forbidden {
                detail: text!(
                    "Only the secretaries and administrators over a household may reveal its personal data.",
                    "只有该户所属支部书记或管理员可以查看完整个人信息。"
                ),
            });
        }
        let event = Event::new("household.reveal_pii", "household", h.id).org(h.org_id);
        Write::record_alone(&state.db, &user.audit, event).await?;
    }
    Ok(Versioned::ok(
        h.version,
        view(&state.db, &h, &state.data_keys, reveal).await?,
    ))
}

/// Change a household (`null` clears an optional field). Requires `If-Match`.
#[utoipa::path(tag = "households", security(("bearer" = [])), request_body = HouseholdPatch,
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag from your last read")),
    responses(
        (status = 200, description = "Changed", body = HouseholdView, headers(("ETag" = String))),
        (status = 403, description = "Not yours to change", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A household with this head's ID number exists", body = Problem, content_type = "application/problem+json"),
))]
#[patch("/api/v1/households/{id}")]
async fn update_household(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    Json(patch): Json<HouseholdPatch>,
) -> Result<Versioned<HouseholdView>, ApiError> {
    let access = HouseholdAccess::of(&user);
    let keys = &state.data_keys;
    let w = Write::begin(&state.db, &user.audit).await?;
    let current = find_managed(w.db(), &access, *id).await?;
    if_match.check(current.version)?;
    let revealed = view(w.db(), &current, keys, true).await?;
    // Re-validate the whole record with the changes applied, so cross-field rules hold.
    let input = NewHousehold {
        head_name: patch.head_name.unwrap_or(revealed.household.head_name.clone()),
        id_number: patch.id_number.unwrap_or(revealed.household.id_number.clone()),
        phone: patch.phone.unwrap_or(revealed.household.phone.clone()),
        village_id: current.village_id,
        villager_group_id: patch.villager_group_id.unwrap_or(current.villager_group_id),
        address: patch.address.unwrap_or(current.address.clone()),
        size: patch.size.unwrap_or(current.size),
        attribute: patch.attribute.unwrap_or(current.attribute),
        main_cause: patch.main_cause.unwrap_or(current.main_cause),
        secondary_causes: patch
            .secondary_causes
            .unwrap_or(revealed.household.secondary_causes.clone()),
        identified_year: patch.identified_year.unwrap_or(current.identified_year),
        status: patch.status.unwrap_or(current.status),
        lifted_year: patch.lifted_year.unwrap_or(current.lifted_year),
        note: patch.note.unwrap_or(current.note.clone()),
    };
    let f = validate(input).map_err(ApiError::Validation)?;
    if f.villager_group_id != current.villager_group_id {
        check_place(w.db(), &access.manage, current.village_id, f.villager_group_id).await?;
    }
    if f.id_number != revealed.household.id_number
        && let Some(visible) =
            duplicate_head(w.db(), &access, &keys.lookup_hash(&f.id_number), Some(current.id)).await?
    {
        w.rollback().await?;
        return Err(refuse_duplicate_head(&state.db, &user, current.org_id, "update", visible).await);
    }
    let mut updated = current.clone();
    updated.head_name = f.head_name;
    updated.villager_group_id = f.villager_group_id;
    updated.address = f.address;
    updated.size = f.size;
    updated.attribute = f.attribute;
    updated.main_cause = f.main_cause;
    updated.secondary_causes = super::encode_causes(&f.secondary_causes);
    updated.identified_year = f.identified_year;
    updated.status = f.status;
    updated.lifted_year = f.lifted_year;
    updated.note = f.note;
    let new_id = (f.id_number != revealed.household.id_number).then_some(f.id_number.as_str());
    let new_phone = (f.phone != revealed.household.phone).then_some(f.phone.as_deref());
    set_pii(&mut updated, keys, new_id, new_phone);
    let saved = save(&w, &current, updated).await?;
    let after = view(w.db(), &saved, keys, true).await?;
    let event = Event::new("household.update", "household", saved.id)
        .org(saved.org_id)
        .before(&revealed)
        .after(&after);
    let masked = view(w.db(), &saved, keys, false).await?;
    w.commit(event).await?;
    Ok(Versioned::ok(saved.version, masked))
}

/// Delete a household registered by mistake, with its people and incomes. A household that
/// was ever paired keeps its history and cannot be deleted (409). Requires `If-Match`.
#[utoipa::path(tag = "households", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag from your last read")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not yours to change", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The household has pairings", body = Problem, content_type = "application/problem+json"),
))]
#[delete("/api/v1/households/{id}")]
async fn delete_household(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    use crate::pairings::entity::pairing;
    let access = HouseholdAccess::of(&user);
    let w = Write::begin(&state.db, &user.audit).await?;
    let h = find_managed(w.db(), &access, *id).await?;
    if_match.check(h.version)?;
    let pairings = pairing::Entity::find()
        .filter(pairing::Column::HouseholdId.eq(h.id))
        .count(w.db())
        .await?;
    if pairings > 0 {
        return Err(ApiError::conflict(text!(
            "This household has pairings; its history is kept. Change its status instead.",
            "该户已有结对帮扶记录，须保留历史，请改为修改其状态。"
        )));
    }
    if crate::income::household_shares(w.db(), h.id).await? {
        return Err(ApiError::conflict(text!(
            "This household shares in a village project's returns; take it off the project first.",
            "该户享有村产业项目收益分红，请先从项目中移除。"
        )));
    }
    let before = view(w.db(), &h, &state.data_keys, true).await?;
    person::Entity::delete_many()
        .filter(person::Column::HouseholdId.eq(h.id))
        .exec(w.db())
        .await?;
    income::Entity::delete_many()
        .filter(income::Column::HouseholdId.eq(h.id))
        .exec(w.db())
        .await?;
    let deleted = household::Entity::delete_many()
        .filter(household::Column::Id.eq(h.id))
        .filter(household::Column::Version.eq(h.version))
        .exec(w.db())
        .await?;
    crate::http::conditional::applied(deleted.rows_affected, h.version)?;
    w.commit(
        Event::new("household.delete", "household", h.id)
            .org(h.org_id)
            .before(&before),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A change to a household's people or incomes under way: its write, the household (found,
/// managed by the caller, at the version of `If-Match`) and its view before the change.
struct ChildChange {
    w: Write,
    household: household::Model,
    before: HouseholdView,
}

async fn begin_child_change(
    state: &AppState,
    user: &AuthUser,
    id: Uuid,
    if_match: &IfMatch,
) -> Result<ChildChange, ApiError> {
    let w = Write::begin(&state.db, &user.audit).await?;
    let household = find_managed(w.db(), &HouseholdAccess::of(user), id).await?;
    if_match.check(household.version)?;
    let before = view(w.db(), &household, &state.data_keys, true).await?;
    Ok(ChildChange { w, household, before })
}

/// Commits a change to a household's people or incomes: bumps the household's version (its
/// ETag covers them), records `action`, and answers with the whole household.
async fn commit_child_change(
    state: &AppState,
    w: Write,
    current: &household::Model,
    before: HouseholdView,
    action: &'static str,
    status: StatusCode,
) -> Result<HttpResponse, ApiError> {
    let saved = save(&w, current, current.clone()).await?;
    let after = view(w.db(), &saved, &state.data_keys, false).await?;
    // The trail gets revealed views, so that it can tell which personal fields changed (it
    // keeps only their names; audit::PERSONAL_FIELDS).
    let event = Event::new(action, "household", saved.id)
        .org(saved.org_id)
        .before(&before)
        .after(view(w.db(), &saved, &state.data_keys, true).await?);
    w.commit(event).await?;
    Ok(HttpResponse::build(status)
        .insert_header((header::ETAG, etag(saved.version)))
        .json(after))
}

/// Add a person to a household (家庭成员). Requires the household's `If-Match`; answers with
/// the whole household and its new ETag.
#[utoipa::path(tag = "households", security(("bearer" = [])), request_body = NewPerson,
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "The household's ETag")),
    responses(
        (status = 201, description = "Added", body = HouseholdView, headers(("ETag" = String))),
        (status = 403, description = "Not yours to change", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The household already lists 30 people", body = Problem, content_type = "application/problem+json"),
))]
#[post("/api/v1/households/{id}/people")]
async fn add_person(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    Json(body): Json<NewPerson>,
) -> Result<HttpResponse, ApiError> {
    let fields = validate_person(body).map_err(ApiError::Validation)?;
    let ChildChange {
        w,
        household: h,
        before,
    } = begin_child_change(&state, &user, *id, &if_match).await?;
    if before.people.len() >= 30 {
        return Err(ApiError::conflict(text!(
            "A household lists at most 30 people.",
            "每户至多登记 30 名家庭成员。"
        )));
    }
    let p = build_person(&state.data_keys, Uuid::now_v7(), h.id, fields, crate::db::now());
    person::Entity::insert(p.into_active_model())
        .exec_without_returning(w.db())
        .await?;
    commit_child_change(&state, w, &h, before, "household.add_person", StatusCode::CREATED).await
}

/// A person of the household `path.id`, else 404.
async fn find_person<C: sea_orm::ConnectionTrait>(db: &C, path: &PersonPath) -> Result<person::Model, ApiError> {
    person::Entity::find_by_id(path.person_id)
        .filter(person::Column::HouseholdId.eq(path.id))
        .one(db)
        .await?
        .ok_or(ApiError::NotFound)
}

/// Replace a person's details. Requires the household's `If-Match`.
#[utoipa::path(tag = "households", security(("bearer" = [])), request_body = NewPerson,
    params(("id" = Uuid, Path), ("person_id" = Uuid, Path), ("If-Match" = String, Header, description = "The household's ETag")),
    responses(
        (status = 200, description = "Changed", body = HouseholdView, headers(("ETag" = String))),
        (status = 403, description = "Not yours to change", body = Problem, content_type = "application/problem+json"),
))]
#[put("/api/v1/households/{id}/people/{person_id}")]
async fn update_person(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<PersonPath>,
    if_match: IfMatch,
    Json(body): Json<NewPerson>,
) -> Result<HttpResponse, ApiError> {
    let fields = validate_person(body).map_err(ApiError::Validation)?;
    let ChildChange {
        w,
        household: h,
        before,
    } = begin_child_change(&state, &user, path.id, &if_match).await?;
    let current = find_person(w.db(), &path).await?;
    let replaced = build_person(&state.data_keys, current.id, h.id, fields, current.created_at);
    person::Entity::update(sea_orm::ActiveModelTrait::reset_all(replaced.into_active_model()))
        .exec(w.db())
        .await?;
    commit_child_change(&state, w, &h, before, "household.update_person", StatusCode::OK).await
}

/// Remove a person from a household. Requires the household's `If-Match`.
#[utoipa::path(tag = "households", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("person_id" = Uuid, Path), ("If-Match" = String, Header, description = "The household's ETag")),
    responses(
        (status = 200, description = "Removed", body = HouseholdView, headers(("ETag" = String))),
        (status = 403, description = "Not yours to change", body = Problem, content_type = "application/problem+json"),
))]
#[delete("/api/v1/households/{id}/people/{person_id}")]
async fn remove_person(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<PersonPath>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let ChildChange {
        w,
        household: h,
        before,
    } = begin_child_change(&state, &user, path.id, &if_match).await?;
    let p = find_person(w.db(), &path).await?;
    person::Entity::delete_by_id(p.id).exec(w.db()).await?;
    commit_child_change(&state, w, &h, before, "household.remove_person", StatusCode::OK).await
}

/// The year of an income row: 2000–2100, as the path's schema says.
fn check_year(year: i32) -> Result<(), ApiError> {
    if !(2000..=2100).contains(&year) {
        return Err(ApiError::bad_request(
            crate::error::ErrorCode::InvalidPath,
            text!("the year must be 2000 to 2100", "年度须在 2000 到 2100 之间"),
        ));
    }
    Ok(())
}

/// Set one year's per-capita net income (人均纯收入), replacing what was there. Requires the
/// household's `If-Match`.
#[utoipa::path(tag = "households", security(("bearer" = [])), request_body = IncomeInput,
    params(("id" = Uuid, Path), ("year" = i32, Path, minimum = 2000, maximum = 2100), ("If-Match" = String, Header, description = "The household's ETag")),
    responses(
        (status = 200, description = "Set", body = HouseholdView, headers(("ETag" = String))),
        (status = 403, description = "Not yours to change", body = Problem, content_type = "application/problem+json"),
))]
#[put("/api/v1/households/{id}/incomes/{year}")]
async fn set_income(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<IncomePath>,
    if_match: IfMatch,
    Json(body): Json<IncomeInput>,
) -> Result<HttpResponse, ApiError> {
    check_year(path.year)?;
    if !(0..=10_000_000).contains(&body.per_capita_fen) {
        return Err(ApiError::invalid_field(
            "/per_capita_fen",
            "out_of_range",
            text!("must be 0 to 10,000,000 fen", "须在 0 到 10,000,000 分之间"),
        ));
    }
    let ChildChange {
        w,
        household: h,
        before,
    } = begin_child_change(&state, &user, path.id, &if_match).await?;
    income::Entity::delete_by_id((h.id, path.year)).exec(w.db()).await?;
    let row = income::Model {
        household_id: h.id,
        year: path.year,
        per_capita_fen: body.per_capita_fen,
    };
    income::Entity::insert(row.into_active_model())
        .exec_without_returning(w.db())
        .await?;
    commit_child_change(&state, w, &h, before, "household.set_income", StatusCode::OK).await
}

/// Remove one year's income. Requires the household's `If-Match`.
#[utoipa::path(tag = "households", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("year" = i32, Path, minimum = 2000, maximum = 2100), ("If-Match" = String, Header, description = "The household's ETag")),
    responses(
        (status = 200, description = "Removed", body = HouseholdView, headers(("ETag" = String))),
        (status = 403, description = "Not yours to change", body = Problem, content_type = "application/problem+json"),
))]
#[delete("/api/v1/households/{id}/incomes/{year}")]
async fn remove_income(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<IncomePath>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    check_year(path.year)?;
    let ChildChange {
        w,
        household: h,
        before,
    } = begin_child_change(&state, &user, path.id, &if_match).await?;
    let deleted = income::Entity::delete_by_id((h.id, path.year)).exec(w.db()).await?;
    if deleted.rows_affected == 0 {
        return Err(ApiError::NotFound);
    }
    commit_child_change(&state, w, &h, before, "household.remove_income", StatusCode::OK).await
}

/// Import households from CSV or Excel (批量导入): all rows or none. Up to 5,000 rows and 2 MiB:
/// CSV in UTF-8 (BOM optional), or an `.xlsx` workbook (its first worksheet); English or
/// Chinese column names. `dry_run=true` only validates. A 422 lists every bad row with its line
/// and column (in a workbook, also its sheet and cell). Accepts `Idempotency-Key`.
#[utoipa::path(tag = "households", security(("bearer" = [])),
    request_body(description = "The file: a header row, then one household per row. Raw CSV (`text/csv`), a raw Excel workbook (`.xlsx`, whose first worksheet is read; ID numbers must be cells formatted as Text, and formulas and macros are refused), or either as the `file` part of a form.",
        content(
            (String = "text/csv", example = "head_name,id_number,village_id,size,attribute,main_cause,identified_year,status\n李大山,340822196505120014,0192f3a4-7c1e-7b2a-9f00-3c5d2e1f0a11,4,ordinary,illness,2014,in_poverty\n"),
            (crate::http::xlsx::Workbook = crate::http::xlsx::MEDIA_TYPE),
            (crate::http::upload::FileUpload = "multipart/form-data"),
        )),
    params(ImportParams, ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    responses(
        (status = 200, description = "Dry run: valid, nothing written", body = ImportReport),
        (status = 201, description = "Imported", body = ImportReport),
        (status = 403, description = "Role may not manage households", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A head's ID number is already another household's", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Over 2 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not text/csv, an .xlsx workbook or multipart/form-data", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad rows, each listed with its line and column (and, in a workbook, its sheet and cell); or a file that cannot be read", body = Problem, content_type = "application/problem+json"),
))]
#[post("/api/v1/households/import")]
async fn import_households(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    key: IdempotencyKey,
    Query(params): Query<ImportParams>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    super::import::import(
        state,
        user,
        req,
        key,
        params.dry_run.unwrap_or(false),
        payload.into_inner(),
    )
    .await
}
