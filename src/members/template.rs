//! The members import template (导入模板): the import's columns as an Excel workbook, with a
//! drop-down for every column of fixed values and the organisations the caller may place
//! members in.

use actix_web::{HttpResponse, get, web};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use super::MemberAccess;
use super::csv::COLUMNS;
use super::types::{Education, Gender, MemberStatus};
use crate::auth::AuthUser;
use crate::error::{ApiError, Problem};
use crate::http::export::CellKind;
use crate::http::workbook::{self, PickList, TemplateColumn};
use crate::http::xlsx::Workbook;
use crate::orgs::entity as org;
use crate::state::AppState;

/// What the template says of each import column: its cells, its fixed values, a note.
fn describe(field: &str) -> (CellKind, Vec<&'static str>, &'static str) {
    let labels = |all: &[&'static str]| all.to_vec();
    match field {
        "name" => (CellKind::Text, vec![], "党员姓名"),
        "gender" => (
            CellKind::Text,
            Gender::ALL.iter().map(|g| g.label()).collect(),
            "从下拉列表选择",
        ),
        "birth_date" => (CellKind::Date, vec![], "日期，如 1990-03-07"),
        "ethnicity" => (CellKind::Text, vec![], "如 汉族"),
        "education" => (
            CellKind::Text,
            Education::ALL.iter().map(|e| e.label()).collect(),
            "从下拉列表选择",
        ),
        "id_number" => (
            CellKind::Text,
            vec![],
            "18 位身份证号。本列已设为文本格式，请勿改为数字格式，否则 Excel 会丢失末几位",
        ),
        "phone" => (CellKind::Text, vec![], "11 位手机号"),
        "joined_on" => (CellKind::Date, vec![], "入党日期，如 2012-07-01"),
        "status" => (
            CellKind::Text,
            MemberStatus::ALL.iter().map(|s| s.label()).collect(),
            "从下拉列表选择",
        ),
        "org_id" => (
            CellKind::Text,
            vec![],
            "所在支部的编号，从下拉列表选择（名称见工作表“组织”）",
        ),
        "group_id" => (
            CellKind::Text,
            vec![],
            "党小组编号，可空；须属于所在支部（见工作表“组织”）",
        ),
        "rural" => (CellKind::Text, labels(&["是", "否"]), "是否农村党员"),
        _ => (CellKind::Text, vec![], ""),
    }
}

/// The members import template (`.xlsx`): a sheet 党员 with the import's Chinese headers,
/// ready to fill and import as it is (`POST /api/v1/members/import` takes the workbook);
/// 填写说明, each column with its allowed values and an example; 组织, the organisations you
/// may place members in (their ids go in 所在支部 and 党小组).
#[utoipa::path(tag = "members", security(("bearer" = [])), responses(
    (status = 200, description = "The template",
        content((Workbook = crate::http::xlsx::MEDIA_TYPE))),
    (status = 403, description = "Role may not import members", body = Problem, content_type = "application/problem+json"),
))]
#[get("/api/v1/members/import-template.xlsx")]
pub(super) async fn members_import_template(
    state: web::Data<AppState>,
    user: AuthUser,
) -> Result<HttpResponse, ApiError> {
    let access = MemberAccess::of(&user);
    super::import::may_import(&access)?;
    let orgs = org::Entity::find()
        .filter(org::Column::DeletedAt.is_null())
        .filter(access.manage.path_condition(org::Column::Path))
        .order_by_asc(org::Column::Path)
        .all(&state.db)
        .await?;
    let branch = orgs
        .iter()
        .find(|o| o.kind == crate::orgs::OrgKind::Branch)
        .or(orgs.first())
        .map(|o| o.id.to_string())
        .unwrap_or_default();
    let columns = TemplateColumn::for_import(COLUMNS, describe);
    let example: Vec<String> = columns
        .iter()
        .map(|c| match c.field {
            "name" => "程军".to_owned(),
            "gender" => Gender::Male.label().to_owned(),
            "birth_date" => "1990-03-07".to_owned(),
            "ethnicity" => "汉族".to_owned(),
            "education" => Education::SeniorHigh.label().to_owned(),
            "id_number" => "110101199003074514".to_owned(),
            "phone" => "13812345678".to_owned(),
            "joined_on" => "2012-07-01".to_owned(),
            "status" => MemberStatus::Full.label().to_owned(),
            "org_id" => branch.clone(),
            "rural" => "是".to_owned(),
            _ => String::new(),
        })
        .collect();
    let picked = orgs.len();
    let lists = [PickList {
        sheet: "组织",
        headers: &["编号", "名称", "类型"],
        rows: orgs
            .iter()
            .map(|o| vec![o.id.to_string(), o.name.clone(), o.kind.label().to_owned()])
            .collect(),
        field: "org_id",
        rows_picked: picked,
    }];
    let bytes = web::block(move || workbook::template("党员", &columns, &example, &lists))
        .await
        .map_err(ApiError::internal)??;
    Ok(workbook::attachment("members-import-template.xlsx", bytes))
}
