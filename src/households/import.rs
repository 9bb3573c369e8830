//! `POST /api/v1/households/import`: households from a CSV file or an Excel workbook, all rows
//! or none, every bad row named by line and column (the same limits and errors as the member
//! import).

use std::collections::HashMap;

use actix_web::dev::Payload;
use actix_web::{HttpRequest, HttpResponse, web};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::entity::household;
use super::types::*;
use super::{HouseholdAccess, HouseholdFields, build, insert_all, validate};
use crate::audit::Write;
use crate::auth::AuthUser;
use crate::error::{ApiError, FieldError};
use crate::http::IdempotencyKey;
use crate::http::csv_import::{Column, IMPORT_MAX_ROWS, ImportRun, ImportStart, Sheet, SheetRow, read_sheet};
use crate::places::entity::{village, villager_group};
use crate::state::AppState;
use crate::text;

/// The import columns (the export's Chinese names are accepted too).
pub(super) const COLUMNS: &[Column] = &[
    ("head_name", "户主姓名", true),
    ("id_number", "身份证号", true),
    ("phone", "手机号", false),
    ("village_id", "所在村", true),
    ("villager_group_id", "村民组", false),
    ("address", "住址", false),
    ("size", "家庭人口", true),
    ("attribute", "贫困户属性", true),
    ("main_cause", "主要致贫原因", true),
    ("secondary_causes", "次要致贫原因", false),
    ("identified_year", "识别年度", true),
    ("status", "状态", true),
    ("lifted_year", "脱贫年度", false),
    ("note", "备注", false),
];

/// Columns a workbook must hold as text: an ID number typed as a number has lost its last
/// digits (Excel keeps 15 significant digits).
const TEXT_ONLY_COLUMNS: &[&str] = &["id_number"];

/// Columns the export writes that an import skips.
const IGNORED_COLUMNS: &[&str] = &["编号", "id"];

/// `POST /api/v1/households/import`. Every import, dry or not, is audited
/// (`household.import`).
pub async fn import(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    key: IdempotencyKey,
    dry_run: bool,
    payload: Payload,
) -> Result<HttpResponse, ApiError> {
    let access = HouseholdAccess::of(&user);
    may_import(&access)?;
    let what = ("household.import", "household");
    let mut run = match ImportRun::start(&state, &user, &req, &key, payload, dry_run, what).await? {
        ImportStart::Replay(stored) => return Ok(stored),
        ImportStart::Proceed(run) => run,
    };
    let (rows, errors, clashes) = parse(&state, &access, run.file.clone()).await?;
    if clashes > 0 {
        // Heads registered already are among the file's errors; the attempt is audited as a
        // single create's would be.
        let event = crate::audit::Event {
            entity_id: None,
            org_id: run.org,
            ..crate::audit::Event::new("household.duplicate_id_number", "household", "")
        }
        .after(serde_json::json!({"source": "import", "clashes": clashes}))
        .failed();
        Write::record_alone(&state.db, &user.audit, event).await?;
    }
    let Some(ticket) = run.writing(&errors) else {
        return run.answer_unwritten(&state, &user, rows.len(), errors).await;
    };
    // Encrypting 5,000 rows is CPU work: off the async workers.
    let keys = state.clone();
    let now = crate::db::now();
    let models: Vec<household::Model> = web::block(move || {
        rows.into_iter()
            .map(|(org_id, f)| build(&keys.data_keys, f, org_id, Uuid::now_v7(), now))
            .collect()
    })
    .await
    .map_err(ApiError::internal)?;
    let w = Write::begin(&state.db, &user.audit).await?;
    insert_all(&w, &models).await?;
    run.commit(ticket, w, models.len()).await
}

/// The valid rows (with the branch each belongs to), every problem sorted by line, and how
/// many heads are registered already.
async fn parse(
    state: &web::Data<AppState>,
    access: &HouseholdAccess,
    bytes: web::Bytes,
) -> Result<(Vec<(Uuid, HouseholdFields)>, Vec<FieldError>, usize), ApiError> {
    // Villages the caller may register households in, and their groups.
    let villages: HashMap<Uuid, village::Model> = village::Entity::find()
        .filter(access.manage.org_condition(village::Column::OrgId))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|v| (v.id, v))
        .collect();
    let groups: HashMap<Uuid, Uuid> = villager_group::Entity::find()
        .filter(villager_group::Column::VillageId.is_in(villages.keys().copied()))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|g| (g.id, g.village_id))
        .collect();
    let keys = state.clone();
    let (rows, mut errors, line_of, columns) = web::block(move || -> Result<_, ApiError> {
        let sheet = read_sheet(&bytes, COLUMNS, IGNORED_COLUMNS, TEXT_ONLY_COLUMNS, IMPORT_MAX_ROWS)?;
        let mut errors = sheet.errors.clone();
        let mut rows = Vec::new();
        let mut line_of: HashMap<String, u64> = HashMap::new();
        for record in &sheet.rows {
            let line = record.line;
            let fields = match row(&sheet, record).and_then(|input| {
                validate(input).map_err(|e| e.into_iter().map(|fe| sheet.validation_error(line, fe)).collect())
            }) {
                Ok(f) => f,
                Err(mut e) => {
                    errors.append(&mut e);
                    continue;
                }
            };
            let Some(village) = villages.get(&fields.village_id) else {
                errors.push(sheet.error(
                    line,
                    "village_id",
                    "not_found",
                    text!("no such village in your scope", "您的权限范围内没有该村"),
                ));
                continue;
            };
            if fields
                .villager_group_id
                .is_some_and(|g| groups.get(&g) != Some(&village.id))
            {
                errors.push(sheet.error(
                    line,
                    "villager_group_id",
                    "not_in_village",
                    text!("must be a villager group of the village", "须为该村的村民组"),
                ));
                continue;
            }
            let hash = keys.data_keys.lookup_hash(&fields.id_number);
            if let Some(first) = line_of.get(&hash) {
                errors.push(sheet.error(
                    line,
                    "id_number",
                    "duplicate",
                    text!(
                        "the same ID number is on line {first}",
                        "第 {first} 行已有相同的身份证号"
                    ),
                ));
                continue;
            }
            line_of.insert(hash, line);
            rows.push((village.org_id, fields));
        }
        if rows.is_empty() && errors.is_empty() {
            errors.push(sheet.error(
                2,
                "",
                "empty",
                text!("the file has no household rows", "文件中没有贫困户数据行"),
            ));
        }
        Ok((rows, errors, line_of, sheet.columns))
    })
    .await
    .map_err(ApiError::internal)??;

    // Heads already registered: named by line when the caller can see that household,
    // otherwise one error for the whole file that says neither which nor where.
    let (mut elsewhere, mut clashes) = (0, 0);
    let hashes: Vec<String> = line_of.keys().cloned().collect();
    for chunk in hashes.chunks(500) {
        let holders = household::Entity::find()
            .filter(household::Column::IdNumberHash.is_in(chunk.to_vec()))
            .all(&state.db)
            .await?;
        if holders.is_empty() {
            continue;
        }
        let visible: Vec<Uuid> = household::Entity::find()
            .filter(household::Column::Id.is_in(holders.iter().map(|h| h.id)))
            .filter(access.visible())
            .all(&state.db)
            .await?
            .into_iter()
            .map(|h| h.id)
            .collect();
        for h in holders {
            clashes += 1;
            if visible.contains(&h.id) {
                errors.push(columns.error(
                    line_of.get(&h.id_number_hash).copied().unwrap_or(0),
                    "id_number",
                    "duplicate",
                    text!(
                        "a household with this head's ID number is already registered",
                        "已有以此身份证号为户主的贫困户"
                    ),
                ));
            } else {
                elsewhere += 1;
            }
        }
    }
    errors.sort_by_key(|e| e.line);
    if elsewhere > 0 {
        let mut e = FieldError::body(
            "",
            "cannot_register_here",
            text!(
                "one or more heads of household in this file cannot be registered here; ask the town committee (镇党委), which sees every village",
                "文件中有户主无法在此登记，请联系能看到所有村的镇党委"
            ),
        );
        e.pointer = None;
        errors.push(e);
    }
    Ok((rows, errors, clashes))
}

/// One row as a [`NewHousehold`], or the cells that could not be read.
fn row(sheet: &Sheet, record: &SheetRow) -> Result<NewHousehold, Vec<FieldError>> {
    let line = record.line;
    let mut errors = Vec::new();
    let mut required = |f: &str| {
        let v = record.get(f);
        if v.is_none() {
            errors.push(sheet.error(line, f, "required", text!("is required", "为必填项")));
        }
        v.unwrap_or_default().to_owned()
    };
    let head_name = required("head_name");
    let id_number = required("id_number");
    let village_cell = required("village_id");
    let size_cell = required("size");
    let attribute_cell = required("attribute");
    let main_cause_cell = required("main_cause");
    let year_cell = required("identified_year");
    let status_cell = required("status");
    let mut bad = |f: &str, message| errors.push(sheet.error(line, f, "invalid", message));

    let uuid = |f: &str, cell: &str, bad: &mut dyn FnMut(&str, crate::error::Text)| -> Option<Uuid> {
        let parsed = Uuid::parse_str(cell).ok();
        if parsed.is_none() && !cell.is_empty() {
            bad(f, text!("must be an id (a UUID)", "须为 id（UUID）"));
        }
        parsed
    };
    let number = |f: &str, cell: &str, bad: &mut dyn FnMut(&str, crate::error::Text)| -> Option<i32> {
        let parsed = cell.parse().ok();
        if parsed.is_none() && !cell.is_empty() {
            bad(f, text!("must be a whole number", "须为整数"));
        }
        parsed
    };
    let village_id = uuid("village_id", &village_cell, &mut bad);
    let villager_group_id = record
        .get("villager_group_id")
        .and_then(|g| uuid("villager_group_id", g, &mut bad));
    let size = number("size", &size_cell, &mut bad);
    let identified_year = number("identified_year", &year_cell, &mut bad);
    let lifted_year = record
        .get("lifted_year")
        .and_then(|y| number("lifted_year", y, &mut bad));
    let attribute = HouseholdAttribute::parse(&attribute_cell);
    if attribute.is_none() && !attribute_cell.is_empty() {
        bad(
            "attribute",
            text!(
                "is not a known attribute (see the household_attribute dictionary)",
                "不是已知的贫困户属性（见 household_attribute 字典）"
            ),
        );
    }
    let main_cause = PovertyCause::parse(&main_cause_cell);
    if main_cause.is_none() && !main_cause_cell.is_empty() {
        bad(
            "main_cause",
            text!(
                "is not a known cause (see the poverty_cause dictionary)",
                "不是已知的致贫原因（见 poverty_cause 字典）"
            ),
        );
    }
    let status = HouseholdStatus::parse(&status_cell);
    if status.is_none() && !status_cell.is_empty() {
        bad(
            "status",
            text!(
                "is not a known status (see the household_status dictionary)",
                "不是已知的状态（见 household_status 字典）"
            ),
        );
    }
    let mut secondary_causes = Vec::new();
    for cause in record
        .get("secondary_causes")
        .unwrap_or_default()
        .split(['、', ';', '；', '|', ','])
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        match PovertyCause::parse(cause) {
            Some(c) => secondary_causes.push(c),
            None => bad(
                "secondary_causes",
                text!(
                    "{cause} is not a known cause (see the poverty_cause dictionary)",
                    "{cause} 不是已知的致贫原因（见 poverty_cause 字典）"
                ),
            ),
        }
    }
    match (village_id, size, attribute, main_cause, identified_year, status) {
        (Some(village_id), Some(size), Some(attribute), Some(main_cause), Some(identified_year), Some(status))
            if errors.is_empty() =>
        {
            Ok(NewHousehold {
                head_name,
                id_number,
                phone: record.get("phone").map(str::to_owned),
                village_id,
                villager_group_id,
                address: record.get("address").map(str::to_owned),
                size,
                attribute,
                main_cause,
                secondary_causes,
                identified_year,
                status,
                lifted_year,
                note: record.get("note").map(str::to_owned),
            })
        }
        _ => Err(errors),
    }
}

/// Only those who manage households (secretaries and administrators) import them, and get the
/// import's template.
pub(super) fn may_import(access: &HouseholdAccess) -> Result<(), ApiError> {
    if access.manage.is_empty() {
        return Err(ApiError::Forbidden {
            detail: text!(
                "Only secretaries and administrators import households.",
                "只有支部书记和管理员可以导入贫困户。"
            ),
        });
    }
    Ok(())
}
