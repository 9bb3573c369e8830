//! `POST /api/v1/members/import`: members from a CSV file or an Excel workbook, all rows or
//! none, every bad row named by line and column. The columns are those of the export (`csv.rs`).

use std::collections::HashMap;

use actix_web::dev::Payload;
use actix_web::web;
use actix_web::{HttpRequest, HttpResponse};
use chrono::NaiveDate;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::csv::{COLUMNS, IGNORED_COLUMNS, TEXT_ONLY_COLUMNS};
use super::entity::member;
use super::types::{Education, Gender, MemberStatus, NewMember};
use super::{MemberAccess, build, insert_all, validate};
use crate::audit::Write;
use crate::auth::AuthUser;
use crate::error::{ApiError, FieldError, Text};
use crate::http::IdempotencyKey;
use crate::http::csv_import::{
    IMPORT_MAX_ROWS, ImportRun, ImportStart, Sheet, SheetColumns, SheetRow, parse_bool, read_sheet,
};
use crate::orgs::{OrgKind, entity as org};
use crate::state::AppState;
use crate::text;

/// `POST /api/v1/members/import`. Every import, dry or not, is audited (`member.import`),
/// and so is every clash with an existing member (`member.duplicate_id_number`).
pub async fn import(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    key: IdempotencyKey,
    dry_run: bool,
    payload: Payload,
) -> Result<HttpResponse, ApiError> {
    let access = MemberAccess::of(&user);
    may_import(&access)?;
    let what = ("member.import", "member");
    let mut run = match ImportRun::start(&state, &user, &req, &key, payload, dry_run, what).await? {
        ImportStart::Replay(stored) => return Ok(stored),
        ImportStart::Proceed(run) => run,
    };
    let parsed = parse(&state, &access, run.file.clone()).await?;
    if parsed.clashes.any() {
        // The clashing rows are among the file's errors; a failure to record them is an error.
        super::record_clashes(&state.db, &user, run.org.unwrap_or_default(), "import", parsed.clashes).await?;
    }
    let Some(ticket) = run.writing(&parsed.errors) else {
        return run
            .answer_unwritten(&state, &user, parsed.rows.len(), parsed.errors)
            .await;
    };
    // Encrypting 5,000 rows is CPU work too.
    let keys = state.clone();
    let rows: Vec<member::Model> =
        web::block(move || parsed.rows.into_iter().map(|f| build(&keys.data_keys, f)).collect())
            .await
            .map_err(ApiError::internal)?;
    let w = Write::begin(&state.db, &user.audit).await?;
    insert_all(&w, &rows).await?;
    run.commit(ticket, w, rows.len()).await
}

/// A file read and checked: the valid rows, every problem (sorted by line), and the clashes
/// with existing members.
struct Parsed {
    rows: Vec<super::MemberFields>,
    errors: Vec<FieldError>,
    clashes: super::Clashes,
}

/// Reads and checks every row. Problems with the file or its rows are in `errors`; an
/// ID number held by a member outside the caller's scope is reported once, without its line.
async fn parse(state: &web::Data<AppState>, access: &MemberAccess, bytes: web::Bytes) -> Result<Parsed, ApiError> {
    // Organisations the caller may place members in.
    let placeable: HashMap<Uuid, org::Model> = org::Entity::find()
        .filter(org::Column::DeletedAt.is_null())
        .filter(access.manage.path_condition(org::Column::Path))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect();
    // Reading, validating and hashing up to 5,000 rows is CPU work: off the async workers.
    let keys = state.clone();
    let read = web::block(move || read_rows(&bytes, &placeable, &keys.data_keys))
        .await
        .map_err(ApiError::internal)??;
    let Read {
        mut rows,
        mut errors,
        line_of,
        columns,
    } = read;

    // ID numbers that already belong to active members: named by line when the caller can
    // see that member, otherwise one error for the whole file that says neither which nor where.
    let holders = super::holders(&state.db, access, line_of.keys().cloned().collect(), None).await?;
    let mut clashes = super::Clashes::default();
    for (m, readable) in holders {
        if readable {
            clashes.in_scope += 1;
            errors.push(columns.error(
                line_of.get(&m.id_number_hash).copied().unwrap_or(0),
                "id_number",
                "duplicate",
                text!(
                    "an active member already has this ID number",
                    "已有在册党员使用此身份证号"
                ),
            ));
        } else {
            clashes.elsewhere += 1;
        }
    }
    errors.sort_by_key(|e| e.line);
    if clashes.elsewhere > 0 {
        let mut e = FieldError::body(
            "",
            "cannot_register_here",
            text!(
                "one or more ID numbers in this file cannot be registered here; ask the town committee (镇党委), which sees every branch",
                "文件中有身份证号无法在此登记，请联系能看到所有党支部的镇党委"
            ),
        );
        e.pointer = None;
        errors.push(e);
    }
    if !errors.is_empty() {
        rows.clear();
    }
    Ok(Parsed { rows, errors, clashes })
}

/// The rows of a file checked on their own (no database): valid rows, problems, and the
/// line of each ID number's hash.
struct Read {
    rows: Vec<super::MemberFields>,
    errors: Vec<FieldError>,
    line_of: HashMap<String, u64>,
    /// Where the file's columns are, to name the cells of later errors.
    columns: SheetColumns,
}

fn read_rows(
    bytes: &[u8],
    placeable: &HashMap<Uuid, org::Model>,
    keys: &super::pii::DataKeys,
) -> Result<Read, ApiError> {
    let sheet = read_sheet(bytes, COLUMNS, IGNORED_COLUMNS, TEXT_ONLY_COLUMNS, IMPORT_MAX_ROWS)?;
    let mut errors = sheet.errors.clone();
    let mut rows = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    for record in &sheet.rows {
        let line = record.line;
        match row(&sheet, record) {
            Err(mut e) => errors.append(&mut e),
            Ok(input) => match validate(input) {
                Err(e) => errors.extend(e.into_iter().map(|fe| sheet.validation_error(line, fe))),
                Ok(fields) => {
                    let mut bad = false;
                    match placeable.get(&fields.org_id) {
                        Some(o) if o.kind == OrgKind::Branch => {}
                        _ => {
                            errors.push(sheet.error(
                                line,
                                "org_id",
                                "not_found",
                                text!("no such branch in your scope", "您的权限范围内没有该党支部"),
                            ));
                            bad = true;
                        }
                    }
                    if let Some(g) = fields.group_id
                        && !placeable
                            .get(&g)
                            .is_some_and(|o| o.kind == OrgKind::Group && o.parent_id == Some(fields.org_id))
                    {
                        errors.push(sheet.error(
                            line,
                            "group_id",
                            "not_in_branch",
                            text!("must be a party group inside the branch", "须为该党支部下的党小组"),
                        ));
                        bad = true;
                    }
                    let hash = keys.lookup_hash(&fields.id_number);
                    if let Some(first) = seen.get(&hash) {
                        errors.push(sheet.error(
                            line,
                            "id_number",
                            "duplicate",
                            text!(
                                "the same ID number is on line {first}",
                                "第 {first} 行已有相同的身份证号"
                            ),
                        ));
                        bad = true;
                    } else {
                        seen.insert(hash, line);
                    }
                    if !bad {
                        rows.push(fields);
                    }
                }
            },
        }
    }
    if rows.is_empty() && errors.is_empty() {
        errors.push(sheet.error(
            2,
            "",
            "empty",
            text!("the file has no member rows", "文件中没有党员数据行"),
        ));
    }

    Ok(Read {
        rows,
        errors,
        line_of: seen,
        columns: sheet.columns,
    })
}

/// One row as a [`NewMember`], or the cells that could not be read.
fn row(sheet: &Sheet, record: &SheetRow) -> Result<NewMember, Vec<FieldError>> {
    let line = record.line;
    let mut errors = Vec::new();
    let text = |f: &str| record.get(f).map(str::to_owned);
    let mut required = |f: &str| {
        let v = text(f);
        if v.is_none() {
            errors.push(sheet.error(line, f, "required", text!("is required", "为必填项")));
        }
        v.unwrap_or_default()
    };
    let name = required("name");
    let gender_cell = required("gender");
    let birth_cell = required("birth_date");
    let id_number = required("id_number");
    let joined_cell = required("joined_on");
    let status_cell = required("status");
    let org_cell = required("org_id");
    let rural_cell = required("rural");
    let mut bad = |f: &str, message: Text| errors.push(sheet.error(line, f, "invalid", message));

    let date = |s: &str| {
        NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .or_else(|_| NaiveDate::parse_from_str(s, "%Y/%m/%d"))
            .ok()
    };
    let gender = Gender::parse(&gender_cell);
    if gender.is_none() && !gender_cell.is_empty() {
        bad(
            "gender",
            text!("must be male/female or 男/女", "须为 male/female 或 男/女"),
        );
    }
    let birth_date = date(&birth_cell);
    if birth_date.is_none() && !birth_cell.is_empty() {
        bad(
            "birth_date",
            text!("must be a real date, YYYY-MM-DD", "须为有效日期，格式 YYYY-MM-DD"),
        );
    }
    let joined_on = date(&joined_cell);
    if joined_on.is_none() && !joined_cell.is_empty() {
        bad(
            "joined_on",
            text!("must be a real date, YYYY-MM-DD", "须为有效日期，格式 YYYY-MM-DD"),
        );
    }
    let status = match status_cell.as_str() {
        "正式" => Some(MemberStatus::Full),
        "预备" => Some(MemberStatus::Probationary),
        other => MemberStatus::parse(other),
    };
    if status.is_none() && !status_cell.is_empty() {
        bad(
            "status",
            text!(
                "must be full/probationary or 正式/预备",
                "须为 full/probationary 或 正式/预备"
            ),
        );
    }
    let org_id = Uuid::parse_str(&org_cell).ok();
    if org_id.is_none() && !org_cell.is_empty() {
        bad(
            "org_id",
            text!("must be the branch's id (a UUID)", "须为党支部的 id（UUID）"),
        );
    }
    let rural = match parse_bool(&rural_cell) {
        Some(b) => Some(b),
        None if rural_cell.is_empty() => None,
        None => {
            bad(
                "rural",
                text!("must be true/false or 是/否", "须为 true/false 或 是/否"),
            );
            None
        }
    };
    let education = match text("education") {
        Some(e) => match Education::parse(&e) {
            Some(e) => Some(e),
            None => {
                bad(
                    "education",
                    text!(
                        "is not a known level (see the education dictionary)",
                        "不是已知的学历（见 education 字典）"
                    ),
                );
                None
            }
        },
        None => None,
    };
    let group_id = match text("group_id") {
        Some(g) => match Uuid::parse_str(&g) {
            Ok(g) => Some(g),
            Err(_) => {
                bad(
                    "group_id",
                    text!("must be the group's id (a UUID)", "须为党小组的 id（UUID）"),
                );
                None
            }
        },
        None => None,
    };
    match (gender, birth_date, joined_on, status, org_id, rural) {
        (Some(gender), Some(birth_date), Some(joined_on), Some(status), Some(org_id), Some(rural))
            if errors.is_empty() =>
        {
            Ok(NewMember {
                name,
                gender,
                birth_date,
                id_number,
                joined_on,
                status,
                org_id,
                rural,
                ethnicity: text("ethnicity"),
                education,
                phone: text("phone"),
                address: text("address"),
                group_id,
                specialty: text("specialty"),
                note: text("note"),
            })
        }
        _ => Err(errors),
    }
}

/// Only those who manage members (secretaries and administrators) import them, and get the
/// import's template.
pub(super) fn may_import(access: &MemberAccess) -> Result<(), ApiError> {
    if access.manage.is_empty() {
        return Err(ApiError::Forbidden {
            detail: text!(
                "Only secretaries and administrators import members.",
                "只有支部书记和管理员可以导入党员。"
            ),
        });
    }
    Ok(())
}
