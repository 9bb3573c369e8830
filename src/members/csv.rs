//! Members as files: the columns both ways, and the streamed export (CSV or workbook). The
//! import is in `import.rs`.

use actix_web::HttpResponse;
use actix_web::web;
use sea_orm::sea_query::Condition;

use super::queries::{cursor_key, page_rows};
use super::types::MemberSort;
use super::view;
use crate::http::export::{self, CellKind, ExportFormat};
use crate::state::AppState;

/// The import columns: English name (as in JSON) and Chinese name, and whether required.
pub(super) const COLUMNS: &[crate::http::csv_import::Column] = &[
    ("name", "姓名", true),
    ("gender", "性别", true),
    ("birth_date", "出生日期", true),
    ("ethnicity", "民族", false),
    ("education", "学历", false),
    ("id_number", "身份证号", true),
    ("phone", "手机号", false),
    ("address", "住址", false),
    ("joined_on", "入党日期", true),
    ("status", "党员状态", true),
    ("org_id", "所在支部", true),
    ("group_id", "党小组", false),
    ("rural", "是否农村", true),
    ("specialty", "特长", false),
    ("note", "备注", false),
];

/// Columns a workbook must hold as text: an ID number typed as a number has lost its last
/// digits (Excel keeps 15 significant digits).
pub(super) const TEXT_ONLY_COLUMNS: &[&str] = &["id_number"];

/// Columns the export writes that an import skips, so an exported file (with full personal
/// data, `reveal=pii`) can be edited and imported again.
pub(super) const IGNORED_COLUMNS: &[&str] = &[
    "编号",
    "id",
    "在册",
    "active",
    "离开原因",
    "left_reason",
    "离开日期",
    "left_on",
];

/// The export of this list: its file, its sheet and its columns.
const EXPORT: export::Export = export::Export {
    file: "members",
    sheet: "党员",
    columns: &[
        ("编号", CellKind::Text),
        ("姓名", CellKind::Text),
        ("性别", CellKind::Text),
        ("出生日期", CellKind::Date),
        ("民族", CellKind::Text),
        ("学历", CellKind::Text),
        ("身份证号", CellKind::Text),
        ("手机号", CellKind::Text),
        ("住址", CellKind::Text),
        ("入党日期", CellKind::Date),
        ("党员状态", CellKind::Text),
        ("所在支部", CellKind::Text),
        ("党小组", CellKind::Text),
        ("是否农村", CellKind::Text),
        ("特长", CellKind::Text),
        ("备注", CellKind::Text),
        ("在册", CellKind::Text),
        ("离开原因", CellKind::Text),
        ("离开日期", CellKind::Date),
    ],
};

/// Streams every member matching `condition` as `format`, batch by batch.
pub fn export(
    format: ExportFormat,
    state: web::Data<AppState>,
    condition: Condition,
    sort: MemberSort,
    reveal: bool,
) -> HttpResponse {
    let db = state.clone();
    export::stream_pages(
        format,
        &EXPORT,
        move |after, limit| {
            let (db, condition) = (db.clone(), condition.clone());
            async move { page_rows(&db.db, condition, sort, after, limit).await }
        },
        move |m| cursor_key(sort, m.name.clone(), m.joined_on, m.id),
        move |m| view(m, &state.data_keys, reveal).map(|v| export_row(&v)),
    )
}

fn export_row(v: &super::types::MemberView) -> Vec<String> {
    let opt = |o: &Option<String>| o.clone().unwrap_or_default();
    vec![
        v.id.to_string(),
        v.name.clone(),
        v.gender.label().into(),
        // Without reveal, only the year: with the region code the full date narrows the ID number.
        v.birth_date
            .map(|d| d.to_string())
            .unwrap_or_else(|| v.birth_year.to_string()),
        opt(&v.ethnicity),
        v.education.map(|e| e.label().to_string()).unwrap_or_default(),
        v.id_number.clone(),
        opt(&v.phone),
        opt(&v.address),
        v.joined_on.to_string(),
        v.status.label().into(),
        v.org_id.to_string(),
        v.group_id.map(|g| g.to_string()).unwrap_or_default(),
        if v.rural { "是" } else { "否" }.into(),
        opt(&v.specialty),
        opt(&v.note),
        if v.active { "是" } else { "否" }.into(),
        v.left_reason.map(|r| r.label().to_string()).unwrap_or_default(),
        v.left_on.map(|d| d.to_string()).unwrap_or_default(),
    ]
}
