//! `/api/v1/members`: records, lists, look-up, CSV import and export. Branch moves and
//! leaving are in `moves`, posts in `posts`.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::entity::member;
use super::queries::{cursor_key, list_condition, page_rows};
use super::types::*;
use super::{
    MemberAccess, check_placement, find_clashes, find_with_rights, insert, refuse_clashes, save, set_pii, validate,
    view,
};
use crate::audit::{Event, Write};
use crate::auth::{Access, AuthUser};
use crate::error::{ApiError, Problem};
use crate::http::conditional::etag;
use crate::http::export::{self, ExportParams};
use crate::http::xlsx::Workbook;
use crate::http::{
    Claim, IdempotencyKey, IfMatch, Json, ListQuery, Page, PageParams, Query, StoredResponse, Versioned,
};
use crate::state::AppState;

use super::moves::*;
use super::posts::*;
use crate::text;
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_member)
        .service(list_members)
        .service(import_members)
        .service(super::template::members_import_template)
        .service(lookup_member)
        .service(get_member)
        .service(update_member)
        .service(transfer_member)
        .service(member_history)
        .service(leave)
        .service(create_post)
        .service(list_posts)
        .service(end_post)
        .service(org_posts);
}

/// Register a member (新增党员) in a branch in your scope. Accepts `Idempotency-Key`.
#[utoipa::path(tag = "members", security(("bearer" = [])), request_body = NewMember,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    responses(
        (status = 201, description = "Created (personal data masked)", body = MemberView, headers(("Location" = String), ("ETag" = String))),
        (status = 403, description = "Role may not manage members", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Branch not found in your scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "An active member has this ID number", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not valid; every bad field listed", body = Problem, content_type = "application/problem+json"),
))]
#[post("/api/v1/members")]
async fn create_member(
    state: web::Data<AppState>,
    user: AuthUser,
    key: IdempotencyKey,
    Json(body): Json<NewMember>,
) -> Result<HttpResponse, ApiError> {
    let fields = validate(body).map_err(ApiError::Validation)?;
    let scope = user.scope(Access::MANAGE);
    check_placement(&state.db, &scope, fields.org_id, fields.group_id).await?;
    let ticket = match key.claim(&state.db, &user.id().to_string()).await? {
        Claim::Replay(stored) => return Ok(stored),
        Claim::Proceed(ticket) => ticket,
    };
    let w = Write::begin(&state.db, &user.audit).await?;
    let clashes = find_clashes(
        w.db(),
        &MemberAccess::of(&user),
        &state.data_keys,
        &fields.id_number,
        None,
    )
    .await?;
    if clashes.any() {
        w.rollback().await?;
        return Err(refuse_clashes(&state.db, &user, fields.org_id, "create", clashes).await);
    }
    let m = insert(&w, &state.data_keys, fields).await?;
    let masked = view(&m, &state.data_keys, false)?;
    let event = Event::new("member.create", "member", m.id)
        .org(m.org_id)
        .after(view(&m, &state.data_keys, true)?); // personal fields: named, not kept
    let response = StoredResponse::json(StatusCode::CREATED, &masked)?
        .location(format!("/api/v1/members/{}", m.id))
        .header(header::ETAG, etag(m.version));
    ticket.commit(w, event, response).await
}

/// Members in your scope (党员名册), one page, or the whole filtered list as CSV
/// (`Accept: text/csv`, UTF-8 with BOM) or an Excel workbook (`Accept:` the xlsx type), or
/// `?format=csv|xlsx`; streamed. Personal data masked unless `reveal=pii`.
#[utoipa::path(tag = "members", security(("bearer" = [])), params(MemberFilters, PageParams, ExportParams), responses(
    (status = 200, description = "One page (JSON) or the whole list (CSV or workbook)",
        content((Page<MemberView> = "application/json"), (String = "text/csv"), (Workbook = crate::http::xlsx::MEDIA_TYPE))),
    (status = 403, description = "reveal=pii without the right", body = Problem, content_type = "application/problem+json"),
))]
#[get("/api/v1/members")]
async fn list_members(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    query: ListQuery<MemberFilters>,
) -> Result<HttpResponse, ApiError> {
    let access = MemberAccess::of(&user);
    let filters = query.filters;
    let reveal = filters.reveal == Some(Reveal::Pii);
    let condition = list_condition(&state, &access, &filters, reveal).await?;
    let sort = filters.sort.unwrap_or(MemberSort::Name);
    if let Some(format) = export::wanted(&req)? {
        if reveal {
            let ids: Vec<Uuid> = member::Entity::find()
                .select_only()
                .column(member::Column::Id)
                .filter(condition.clone())
                .into_tuple()
                .all(&state.db)
                .await?;
            record_list_reveal(&state, &user, &access, filters.org_id, true, ids).await?;
        }
        return Ok(super::csv::export(format, state.clone(), condition, sort, reveal));
    }
    let limit = query.page.limit()?;
    let total = if query.page.include_total() {
        Some(sea_orm::PaginatorTrait::count(member::Entity::find().filter(condition.clone()), &state.db).await?)
    } else {
        None
    };
    let after = query.page.after::<(String, String, Uuid)>()?;
    let rows = page_rows(&state.db, condition, sort, after, limit).await?;
    if reveal {
        let ids = rows.iter().take(limit as usize).map(|m| m.id).collect();
        record_list_reveal(&state, &user, &access, filters.org_id, false, ids).await?;
    }
    let views = rows
        .iter()
        .map(|m| view(m, &state.data_keys, reveal))
        .collect::<Result<Vec<MemberView>, _>>()?;
    let page = Page::from_rows(views, limit, |m| cursor_key(sort, m.name.clone(), m.joined_on, m.id)).with_total(total);
    Ok(HttpResponse::Ok().json(page))
}

/// Audits a list shown with personal data: whose (`member_ids`, `count`), under the
/// organisation filtered on (else the top of the caller's scope), so that the auditors of that
/// subtree find it.
async fn record_list_reveal(
    state: &AppState,
    user: &AuthUser,
    access: &MemberAccess,
    org_filter: Option<Uuid>,
    csv: bool,
    member_ids: Vec<Uuid>,
) -> Result<(), ApiError> {
    let event = Event {
        entity_id: None,
        org_id: org_filter.or_else(|| access.manage.top_orgs().first().copied()),
        ..Event::new("member.reveal_pii", "member", "")
    }
    .after(serde_json::json!({
        "list": true,
        "csv": csv,
        "org_filter": org_filter,
        "count": member_ids.len(),
        "member_ids": member_ids,
    }));
    Write::record_alone(&state.db, &user.audit, event).await
}

/// Find members by exact ID number (身份证号查询), in your scope; the number travels in the
/// body so it never lands in URLs or access logs. Results are masked.
#[utoipa::path(tag = "members", security(("bearer" = [])), request_body = IdNumberLookup, responses(
    (status = 200, description = "Matching members (active first)", body = Items<MemberView>),
    (status = 422, description = "Not a valid ID number", body = Problem, content_type = "application/problem+json"),
))]
#[post("/api/v1/members/lookup")]
async fn lookup_member(
    state: web::Data<AppState>,
    user: AuthUser,
    Json(body): Json<IdNumberLookup>,
) -> Result<Json<Items<MemberView>>, ApiError> {
    let (id_number, _) = super::checks::parse_id_number(&body.id_number).map_err(|_| {
        ApiError::invalid_field(
            "/id_number",
            "format",
            text!("is not a valid ID number", "不是有效的身份证号"),
        )
    })?;
    let rows = member::Entity::find()
        .filter(MemberAccess::of(&user).visible())
        .filter(member::Column::IdNumberHash.eq(state.data_keys.lookup_hash(&id_number)))
        .order_by_desc(member::Column::Active)
        .order_by_asc(member::Column::Id)
        .limit(20)
        .all(&state.db)
        .await?;
    Ok(Json(Items {
        items: rows
            .iter()
            .map(|m| view(m, &state.data_keys, false))
            .collect::<Result<_, _>>()?,
    }))
}

/// One member. With `reveal=pii` the ID number and phone are shown in full, to the member
/// themself and to secretaries and administrators above them; each reveal is audited.
#[utoipa::path(tag = "members", security(("bearer" = [])), params(("id" = Uuid, Path), RevealParams), responses(
    (status = 200, description = "The member", body = MemberView, headers(("ETag" = String))),
    (status = 304, description = "Unchanged since If-None-Match"),
    (status = 403, description = "reveal=pii without the right", body = Problem, content_type = "application/problem+json"),
))]
#[get("/api/v1/members/{id}")]
async fn get_member(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    Query(params): Query<RevealParams>,
) -> Result<Versioned<MemberView>, ApiError> {
    let access = MemberAccess::of(&user);
    let (m, manager) = find_with_rights(&state.db, &access, *id).await?;
    let reveal = params.reveal == Some(Reveal::Pii);
    if reveal {
        if access.own != Some(m.id) && !manager {
            return Err(ApiError::Forbidden {
                detail: text!(
                    "Only the member and the secretaries or administrators above them may reveal personal data.",
                    "只有党员本人及其上级支部书记或管理员可以查看完整个人信息。"
                ),
            });
        }
        let event = Event::new("member.reveal_pii", "member", m.id).org(m.org_id);
        Write::record_alone(&state.db, &user.audit, event).await?;
    }
    Ok(Versioned::ok(m.version, view(&m, &state.data_keys, reveal)?))
}

/// Change a member. Secretaries and administrators may change every field; the member
/// themself only `phone` and `address`. Requires `If-Match`.
#[utoipa::path(tag = "members", security(("bearer" = [])), request_body = MemberPatch,
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag from your last read")),
    responses(
        (status = 200, description = "Changed", body = MemberView, headers(("ETag" = String))),
        (status = 403, description = "Not yours to change (or not these fields)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "An active member has this ID number", body = Problem, content_type = "application/problem+json"),
))]
#[patch("/api/v1/members/{id}")]
async fn update_member(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    Json(patch): Json<MemberPatch>,
) -> Result<Versioned<MemberView>, ApiError> {
    let access = MemberAccess::of(&user);
    let keys = &state.data_keys;
    let w = Write::begin(&state.db, &user.audit).await?;
    let (current, manager) = find_with_rights(w.db(), &access, *id).await?;
    let own = access.own == Some(current.id);
    let allowed = manager || (own && patch.only_contact_fields());
    if !allowed {
        return Err(ApiError::Forbidden {
            detail: text!(
                "Members may change only their own phone and address; other changes are the branch's.",
                "党员本人只能修改自己的手机号和住址，其他信息由党支部修改。"
            ),
        });
    }
    if_match.check(current.version)?;
    let before = view(&current, keys, false)?;
    let revealed = view(&current, keys, true)?;
    // Re-validate the whole record with the changes applied, so cross-field rules hold.
    let input = NewMember {
        name: patch.name.clone().unwrap_or(current.name.clone()),
        gender: patch.gender.unwrap_or(before.gender),
        birth_date: patch.birth_date.unwrap_or(current.birth_date),
        id_number: patch.id_number.clone().unwrap_or(revealed.id_number.clone()),
        joined_on: patch.joined_on.unwrap_or(current.joined_on),
        status: patch.status.unwrap_or(before.status),
        org_id: current.org_id,
        rural: patch.rural.unwrap_or(current.rural),
        ethnicity: patch.ethnicity.clone().unwrap_or(current.ethnicity.clone()),
        education: patch.education.unwrap_or(before.education),
        phone: patch.phone.clone().unwrap_or(revealed.phone.clone()),
        address: patch.address.clone().unwrap_or(current.address.clone()),
        group_id: patch.group_id.unwrap_or(current.group_id),
        specialty: patch.specialty.clone().unwrap_or(current.specialty.clone()),
        note: patch.note.clone().unwrap_or(current.note.clone()),
    };
    let f = validate(input).map_err(ApiError::Validation)?;
    if f.group_id != current.group_id {
        check_placement(w.db(), &access.manage, current.org_id, f.group_id).await?;
    }
    if f.id_number != revealed.id_number && current.active {
        let clashes = find_clashes(w.db(), &access, keys, &f.id_number, Some(current.id)).await?;
        if clashes.any() {
            w.rollback().await?;
            return Err(refuse_clashes(&state.db, &user, current.org_id, "update", clashes).await);
        }
    }
    let mut updated = current.clone();
    let (pinyin, initials) = super::checks::pinyin_of(&f.name);
    updated.name = f.name;
    updated.name_pinyin = pinyin;
    updated.name_initials = initials;
    updated.gender = f.gender;
    updated.birth_date = f.birth_date;
    updated.joined_on = f.joined_on;
    updated.status = f.status;
    updated.rural = f.rural;
    updated.ethnicity = f.ethnicity;
    updated.education = f.education;
    updated.address = f.address;
    updated.group_id = f.group_id;
    updated.specialty = f.specialty;
    updated.note = f.note;
    let new_id = (f.id_number != revealed.id_number).then_some(f.id_number.as_str());
    let new_phone = (f.phone != revealed.phone).then_some(f.phone.as_deref());
    set_pii(&mut updated, keys, new_id, new_phone);
    let saved = save(&w, &current, updated).await?;
    let after = view(&saved, keys, false)?;
    // The trail is given the full views so it can tell which personal fields changed; it
    // keeps only their names (audit::PERSONAL_FIELDS).
    let event = Event::new("member.update", "member", saved.id)
        .org(saved.org_id)
        .before(&revealed)
        .after(view(&saved, keys, true)?);
    w.commit(event).await?;
    Ok(Versioned::ok(saved.version, after))
}

/// Import members from CSV or Excel (批量导入): all rows or none. Up to 5,000 rows and 2 MiB:
/// CSV in UTF-8 (BOM optional), or an `.xlsx` workbook (its first worksheet); English or
/// Chinese column names. `dry_run=true` only validates. A 422 lists every bad row with its line
/// and column (in a workbook, also its sheet and cell). Accepts `Idempotency-Key`.
#[utoipa::path(tag = "members", security(("bearer" = [])),
    request_body(description = "The file: a header row, then one member per row. Raw CSV (`text/csv`), a raw Excel workbook (`.xlsx`, whose first worksheet is read; ID numbers must be cells formatted as Text, and formulas and macros are refused), or either as the `file` part of a form.",
        content(
            (String = "text/csv", example = "name,gender,birth_date,id_number,joined_on,status,org_id,rural,phone\n程军,male,1990-03-07,110101199003074514,2012-07-01,full,0192f3a4-7c1e-7b2a-9f00-3c5d2e1f0a11,true,13812345678\n"),
            (crate::http::xlsx::Workbook = crate::http::xlsx::MEDIA_TYPE),
            (crate::http::upload::FileUpload = "multipart/form-data"),
        )),
    params(ImportParams, ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    responses(
        (status = 200, description = "Dry run: valid, nothing written", body = ImportReport),
        (status = 201, description = "Imported", body = ImportReport),
        (status = 403, description = "Role may not manage members", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "An ID number is already an active member's", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Over 2 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not text/csv, an .xlsx workbook or multipart/form-data", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad rows, each listed with its line and column (and, in a workbook, its sheet and cell); or a file that cannot be read", body = Problem, content_type = "application/problem+json"),
))]
#[post("/api/v1/members/import")]
pub(super) async fn import_members(
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
