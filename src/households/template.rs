//! The households import template (导入模板): the import's columns as an Excel workbook, with
//! a drop-down for every column of fixed values and the villages the caller may register
//! households in.

use actix_web::{HttpResponse, get, web};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use super::HouseholdAccess;
use super::import::COLUMNS;
use super::types::{HouseholdAttribute, HouseholdStatus, PovertyCause};
use crate::auth::AuthUser;
use crate::error::{ApiError, Problem};
use crate::http::export::CellKind;
use crate::http::workbook::{self, PickList, TemplateColumn};
use crate::http::xlsx::Workbook;
use crate::places::entity::{village, villager_group};
use crate::state::AppState;

/// What the template says of each import column: its cells, its fixed values, a note.
fn describe(field: &str) -> (CellKind, Vec<&'static str>, &'static str) {
    match field {
        "head_name" => (CellKind::Text, vec![], "户主姓名"),
        "id_number" => (
            CellKind::Text,
            vec![],
            "户主 18 位身份证号。本列已设为文本格式，请勿改为数字格式，否则 Excel 会丢失末几位",
        ),
        "phone" => (CellKind::Text, vec![], "11 位手机号"),
        "village_id" => (
            CellKind::Text,
            vec![],
            "所在村的编号，从下拉列表选择（名称见工作表“村”）",
        ),
        "villager_group_id" => (CellKind::Text, vec![], "村民组编号，可空；须属于所在村（见工作表“村”）"),
        "size" => (CellKind::Integer, vec![], "家庭人口数"),
        "attribute" => (
            CellKind::Text,
            HouseholdAttribute::ALL.iter().map(|a| a.label()).collect(),
            "从下拉列表选择",
        ),
        "main_cause" => (
            CellKind::Text,
            PovertyCause::ALL.iter().map(|c| c.label()).collect(),
            "从下拉列表选择",
        ),
        "secondary_causes" => (
            CellKind::Text,
            vec![],
            "可空；多个原因用“、”分隔，可填的值同主要致贫原因",
        ),
        "identified_year" => (CellKind::Integer, vec![], "识别为贫困户的年度，如 2014"),
        "status" => (
            CellKind::Text,
            HouseholdStatus::ALL.iter().map(|s| s.label()).collect(),
            "从下拉列表选择",
        ),
        "lifted_year" => (CellKind::Integer, vec![], "脱贫年度，已脱贫时填写"),
        _ => (CellKind::Text, vec![], ""),
    }
}

/// The households import template (`.xlsx`): a sheet 贫困户 with the import's Chinese headers,
/// ready to fill and import as it is (`POST /api/v1/households/import` takes the workbook);
/// 填写说明, each column with its allowed values and an example; 村, the villages (and their
/// villager groups) you may register households in.
#[utoipa::path(tag = "households", security(("bearer" = [])), responses(
    (status = 200, description = "The template",
        content((Workbook = crate::http::xlsx::MEDIA_TYPE))),
    (status = 403, description = "Role may not import households", body = Problem, content_type = "application/problem+json"),
))]
#[get("/api/v1/households/import-template.xlsx")]
pub(super) async fn households_import_template(
    state: web::Data<AppState>,
    user: AuthUser,
) -> Result<HttpResponse, ApiError> {
    let access = HouseholdAccess::of(&user);
    super::import::may_import(&access)?;
    let villages = village::Entity::find()
        .filter(access.manage.org_condition(village::Column::OrgId))
        .order_by_asc(village::Column::Name)
        .all(&state.db)
        .await?;
    let groups = villager_group::Entity::find()
        .filter(villager_group::Column::VillageId.is_in(villages.iter().map(|v| v.id)))
        .order_by_asc(villager_group::Column::Name)
        .all(&state.db)
        .await?;
    let columns = TemplateColumn::for_import(COLUMNS, describe);
    let village = villages.first().map(|v| v.id.to_string()).unwrap_or_default();
    let example: Vec<String> = columns
        .iter()
        .map(|c| match c.field {
            "head_name" => "李大山".to_owned(),
            "id_number" => "340822196505120014".to_owned(),
            "village_id" => village.clone(),
            "size" => "4".to_owned(),
            "attribute" => HouseholdAttribute::ALL[0].label().to_owned(),
            "main_cause" => PovertyCause::Illness.label().to_owned(),
            "identified_year" => "2014".to_owned(),
            "status" => HouseholdStatus::InPoverty.label().to_owned(),
            _ => String::new(),
        })
        .collect();
    // Villages first (the drop-down reads the first column down to the last village), then
    // their villager groups, whose ids go in 村民组.
    let mut rows: Vec<Vec<String>> = villages
        .iter()
        .map(|v| vec![v.id.to_string(), v.name.clone(), String::new(), String::new()])
        .collect();
    let names: std::collections::HashMap<_, _> = villages.iter().map(|v| (v.id, v.name.clone())).collect();
    let village_rows = rows.len();
    rows.extend(groups.iter().map(|g| {
        vec![
            String::new(),
            names.get(&g.village_id).cloned().unwrap_or_default(),
            g.id.to_string(),
            g.name.clone(),
        ]
    }));
    let lists = [PickList {
        sheet: "村",
        headers: &["村编号", "村名", "村民组编号", "村民组"],
        rows,
        field: "village_id",
        rows_picked: village_rows,
    }];
    let bytes = web::block(move || workbook::template("贫困户", &columns, &example, &lists))
        .await
        .map_err(ApiError::internal)??;
    Ok(workbook::attachment("households-import-template.xlsx", bytes))
}
