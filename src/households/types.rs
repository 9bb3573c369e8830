//! Request and response types of the household endpoints, and the enums they use.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::labelled_enum;
use crate::members::types::{Reveal, nullable};

labelled_enum! {
    /// Household attribute (贫困户属性).
    HouseholdAttribute("household_attribute", "贫困户属性") {
        Ordinary => ("ordinary", "一般贫困户"),
        LowIncome => ("low_income", "低保贫困户"),
        Destitute => ("destitute", "特困供养户"),
    }
}

labelled_enum! {
    /// Where a household stands (贫困户状态). `lifted` needs the year (脱贫年度).
    HouseholdStatus("household_status", "贫困户状态") {
        InPoverty => ("in_poverty", "未脱贫"),
        Lifted => ("lifted", "已脱贫"),
        Returned => ("returned", "返贫"),
        Monitored => ("monitored", "监测户"),
    }
}

impl HouseholdStatus {
    /// Households that need an active helper: not (yet, or no longer) out of poverty.
    pub const NEEDING_HELP: &'static [HouseholdStatus] = &[
        HouseholdStatus::InPoverty,
        HouseholdStatus::Returned,
        HouseholdStatus::Monitored,
    ];
}

labelled_enum! {
    /// Cause of poverty (致贫原因).
    PovertyCause("poverty_cause", "致贫原因") {
        Illness => ("illness", "因病"),
        Disability => ("disability", "因残"),
        Schooling => ("schooling", "因学"),
        Disaster => ("disaster", "因灾"),
        LackOfLabour => ("lack_of_labour", "缺劳力"),
        LackOfSkills => ("lack_of_skills", "缺技术"),
        LackOfFunds => ("lack_of_funds", "缺资金"),
        LackOfLand => ("lack_of_land", "缺土地"),
        LackOfWater => ("lack_of_water", "缺水"),
        PoorTransport => ("poor_transport", "交通条件落后"),
        LackOfDrive => ("lack_of_drive", "自身发展动力不足"),
    }
}

labelled_enum! {
    /// A person's relation to the head of household (与户主关系).
    Relation("household_relation", "与户主关系") {
        Head => ("head", "户主"),
        Spouse => ("spouse", "配偶"),
        Child => ("child", "子女"),
        ChildInLaw => ("child_in_law", "儿媳/女婿"),
        Parent => ("parent", "父母"),
        Grandparent => ("grandparent", "祖父母/外祖父母"),
        Grandchild => ("grandchild", "孙子女/外孙子女"),
        Sibling => ("sibling", "兄弟姐妹"),
        Other => ("other", "其他"),
    }
}

labelled_enum! {
    /// Labour ability (劳动能力): counted later, e.g. workers from poor households.
    LabourAbility("labour_ability", "劳动能力") {
        Strong => ("strong", "有劳动力"),
        Weak => ("weak", "弱劳动力"),
        None => ("none", "无劳动力"),
    }
}

/// A poor household as the API shows it: the record with its people and incomes. The
/// head's `id_number` and `phone`, and each person's `id_number`, are masked
/// (`340822************`, `138****5678`) unless `pii_revealed`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HouseholdView {
    #[serde(flatten)]
    pub household: HouseholdSummary,
    /// The people of the household (家庭成员).
    pub people: Vec<PersonView>,
    /// Per-capita net income by year (人均纯收入), oldest first.
    pub incomes: Vec<IncomeView>,
    /// True when ID numbers and the phone are shown in full (`?reveal=pii`, audited).
    pub pii_revealed: bool,
}

/// A household in a list: the record without its people and incomes (masked).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HouseholdSummary {
    pub id: Uuid,
    /// The branch serving the village (the household's scope).
    pub org_id: Uuid,
    pub village_id: Uuid,
    pub villager_group_id: Option<Uuid>,
    /// Head of household (户主).
    #[schema(example = "李大山")]
    pub head_name: String,
    #[schema(example = "340822************")]
    pub id_number: String,
    #[schema(example = "138****5678")]
    pub phone: Option<String>,
    pub address: Option<String>,
    /// Number of people (家庭人口).
    #[schema(example = 4)]
    pub size: i32,
    pub attribute: HouseholdAttribute,
    pub main_cause: PovertyCause,
    pub secondary_causes: Vec<PovertyCause>,
    /// Year identified (识别年度).
    #[schema(example = 2014)]
    pub identified_year: i32,
    pub status: HouseholdStatus,
    /// Year lifted out of poverty (脱贫年度).
    pub lifted_year: Option<i32>,
    pub note: Option<String>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One person of a household.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PersonView {
    pub id: Uuid,
    #[schema(example = "李小花")]
    pub name: String,
    pub relation: Relation,
    /// Masked unless the household is shown with `pii_revealed`.
    #[schema(example = "340822************")]
    pub id_number: Option<String>,
    pub labour: LabourAbility,
    /// Health (健康状况), free text: `健康`, `长期慢性病`, …
    pub health: Option<String>,
    pub in_school: bool,
    /// Working away from home (外出务工).
    pub working_away: bool,
}

/// One year's per-capita net income.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IncomeView {
    #[schema(example = 2016)]
    pub year: i32,
    /// In fen (分): 325000 is ¥3,250.00.
    #[schema(example = 325000)]
    pub per_capita_fen: i64,
}

/// A new poor household. Unknown fields are refused.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"head_name": "李大山", "id_number": "340822196505120014", "phone": "13812345678",
    "village_id": "0192f3a4-7c1e-7b2a-9f00-3c5d2e1f0a11", "address": "司山村民组 8 号", "size": 4,
    "attribute": "ordinary", "main_cause": "illness", "secondary_causes": ["lack_of_funds"],
    "identified_year": 2014, "status": "in_poverty"}))]
pub struct NewHousehold {
    /// 1–50 characters.
    #[schema(format = "short-text", max_length = 50)]
    pub head_name: String,
    /// The head's ID number: 18 characters with a valid GB 11643 check character; one
    /// household per head.
    #[schema(format = "id-number")]
    pub id_number: String,
    /// 11 digits starting with 1; empty means none.
    #[schema(format = "mobile-or-empty")]
    pub phone: Option<String>,
    /// A village served by a branch in your scope: the household belongs to that branch.
    pub village_id: Uuid,
    /// A villager group of that village.
    pub villager_group_id: Option<Uuid>,
    /// At most 200 characters; blank means none.
    #[schema(format = "text-or-blank", max_length = 200)]
    pub address: Option<String>,
    /// 1–30 people.
    #[schema(minimum = 1, maximum = 30)]
    pub size: i32,
    pub attribute: HouseholdAttribute,
    pub main_cause: PovertyCause,
    /// Other causes (at most 10, none twice, not the main cause).
    #[serde(default)]
    pub secondary_causes: Vec<PovertyCause>,
    /// 2000 to this year.
    #[schema(minimum = 2000, maximum = 2100)]
    pub identified_year: i32,
    pub status: HouseholdStatus,
    /// Required for `lifted`; from `identified_year` to this year.
    #[schema(minimum = 2000, maximum = 2100)]
    pub lifted_year: Option<i32>,
    /// At most 1,000 characters; blank means none.
    #[schema(format = "text-or-blank", max_length = 1000)]
    pub note: Option<String>,
}

/// Changes to a household; `null` clears an optional field, a missing field is left as it
/// is. The village cannot change (register the household again in the other village).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"status": "lifted", "lifted_year": 2017}))]
pub struct HouseholdPatch {
    #[schema(format = "short-text", max_length = 50)]
    pub head_name: Option<String>,
    #[schema(format = "id-number")]
    pub id_number: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, format = "mobile-or-empty")]
    pub phone: Option<Option<String>>,
    /// A villager group of the household's village, or `null`.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub villager_group_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, format = "text-or-blank", max_length = 200)]
    pub address: Option<Option<String>>,
    #[schema(minimum = 1, maximum = 30)]
    pub size: Option<i32>,
    pub attribute: Option<HouseholdAttribute>,
    pub main_cause: Option<PovertyCause>,
    pub secondary_causes: Option<Vec<PovertyCause>>,
    #[schema(minimum = 2000, maximum = 2100)]
    pub identified_year: Option<i32>,
    pub status: Option<HouseholdStatus>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i32>, minimum = 2000, maximum = 2100)]
    pub lifted_year: Option<Option<i32>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, format = "text-or-blank", max_length = 1000)]
    pub note: Option<Option<String>>,
}

/// A person of a household, new or replacing what was there.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "李小花", "relation": "child", "labour": "none", "in_school": true, "working_away": false}))]
pub struct NewPerson {
    /// 1–50 characters.
    #[schema(format = "short-text", max_length = 50)]
    pub name: String,
    pub relation: Relation,
    /// 18 characters with a valid check character; may be left out (children without one).
    #[schema(format = "id-number")]
    pub id_number: Option<String>,
    pub labour: LabourAbility,
    /// At most 100 characters; blank means none.
    #[schema(format = "text-or-blank", max_length = 100)]
    pub health: Option<String>,
    #[serde(default)]
    pub in_school: bool,
    #[serde(default)]
    pub working_away: bool,
}

/// One year's per-capita net income, set or replaced.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"per_capita_fen": 325000}))]
pub struct IncomeInput {
    /// In fen, 0 to 10,000,000 (¥100,000).
    #[schema(minimum = 0, maximum = 10000000)]
    pub per_capita_fen: i64,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HouseholdRevealParams {
    /// `pii` to see ID numbers and the phone in full (secretaries and administrators over
    /// the household; audited).
    pub reveal: Option<Reveal>,
}

/// Filters of `GET /api/v1/households`.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HouseholdFilters {
    /// Households of organisations in this subtree.
    pub org_id: Option<Uuid>,
    pub village_id: Option<Uuid>,
    pub villager_group_id: Option<Uuid>,
    pub status: Option<HouseholdStatus>,
    pub attribute: Option<HouseholdAttribute>,
    /// Main or secondary cause.
    pub cause: Option<PovertyCause>,
    /// `true`: with an active pairing; `false`: without one.
    pub paired: Option<bool>,
    /// Only households with no help record in the last N days (1–3650).
    #[param(minimum = 1, maximum = 3650)]
    pub not_visited_days: Option<u32>,
    /// Head's name contains this text.
    #[param(format = "search-text", max_length = 200)]
    pub q: Option<String>,
}

/// Path of a person: `/households/{id}/people/{person_id}`.
#[derive(Debug, Deserialize)]
pub struct PersonPath {
    pub id: Uuid,
    pub person_id: Uuid,
}

/// Path of a year's income: `/households/{id}/incomes/{year}`.
#[derive(Debug, Deserialize)]
pub struct IncomePath {
    pub id: Uuid,
    pub year: i32,
}

pub use crate::http::csv_import::ImportReport;
