//! Request and response types of helpers, pairings, help records and coverage.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::households::types::HouseholdStatus;
use crate::labelled_enum;

labelled_enum! {
    /// What a helper did (帮扶方式).
    HelpKind("help_kind", "帮扶方式") {
        Visit => ("visit", "走访慰问"),
        PolicyExplained => ("policy_explained", "政策宣讲"),
        JobFound => ("job_found", "就业帮扶"),
        SkillsTraining => ("skills_training", "技能培训"),
        Goods => ("goods", "物资帮扶"),
        Money => ("money", "资金帮扶"),
        Medical => ("medical", "医疗帮扶"),
        Other => ("other", "其他"),
    }
}

labelled_enum! {
    /// Who a helper (帮扶责任人) is: a party member of the town's tree, or a cadre who is not.
    HelperKind("helper_kind", "帮扶责任人类型") { Member => ("member", "党员"), Cadre => ("cadre", "帮扶干部") }
}

/// A helper as pairings show them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HelperView {
    pub kind: HelperKind,
    /// The member (kind `member`).
    pub member_id: Option<Uuid>,
    /// The cadre (kind `cadre`).
    pub cadre_id: Option<Uuid>,
    #[schema(example = "程军")]
    pub name: String,
}

/// The household a pairing is about, without personal data.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PairedHousehold {
    pub id: Uuid,
    #[schema(example = "李大山")]
    pub head_name: String,
    pub village_id: Uuid,
    pub villager_group_id: Option<Uuid>,
    pub status: HouseholdStatus,
}

/// A pairing (结对) of a helper with a household.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PairingView {
    pub id: Uuid,
    pub household: PairedHousehold,
    pub helper: HelperView,
    /// The household's primary helper (主要帮扶责任人): exactly one of its active pairings.
    pub is_primary: bool,
    pub start_on: NaiveDate,
    /// The last day of the pairing; `null` while it is active.
    pub end_on: Option<NaiveDate>,
    pub end_reason: Option<String>,
    pub active: bool,
    /// The branch the household belongs to.
    pub org_id: Uuid,
    pub created_at: DateTime<Utc>,
}

/// A new pairing. The household's first active pairing is its primary one whatever
/// `primary` says; asking for `primary` while it has one is 409 (replace the primary
/// helper instead).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"household_id": "0192f3a4-7c1e-7b2a-9f00-3c5d2e1f0a11", "member_id": "0192f3a4-7c1e-7b2a-9f00-3c5d2e1f0a12", "start_on": "2017-03-01"}))]
pub struct NewPairing {
    pub household_id: Uuid,
    /// A party member you can see (or `cadre_id`).
    pub member_id: Option<Uuid>,
    /// A cadre in your scope (or `member_id`).
    pub cadre_id: Option<Uuid>,
    /// Not in the future.
    pub start_on: NaiveDate,
    #[serde(default)]
    pub primary: bool,
}

/// Replace a household's primary helper: the current primary pairing ends the day before
/// `start_on`, and the new helper's pairing starts on it, in one transaction.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"member_id": "0192f3a4-7c1e-7b2a-9f00-3c5d2e1f0a12", "start_on": "2018-01-01"}))]
pub struct NewPrimaryHelper {
    pub member_id: Option<Uuid>,
    pub cadre_id: Option<Uuid>,
    /// Not in the future, and after the current primary pairing's start.
    pub start_on: NaiveDate,
    /// Why the old helper hands over, at most 200 characters.
    #[schema(format = "text-or-blank", max_length = 200)]
    pub reason: Option<String>,
}

/// End a pairing.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"end_on": "2018-12-31", "reason": "驻村工作期满"}))]
pub struct EndPairing {
    /// The last day; from the start to today.
    pub end_on: NaiveDate,
    /// At most 200 characters; blank means none.
    #[schema(format = "text-or-blank", max_length = 200)]
    pub reason: Option<String>,
}

/// A cadre helper (帮扶干部): town or county staff, a resident village cadre (驻村干部).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CadreView {
    pub id: Uuid,
    /// The organisation the cadre serves (their scope).
    pub org_id: Uuid,
    #[schema(example = "周明")]
    pub name: String,
    #[schema(example = "县农业农村局")]
    pub work_unit: String,
    #[schema(example = "驻村工作队队员")]
    pub post: Option<String>,
    /// Masked (`138****5678`) unless `pii_revealed`.
    #[schema(example = "138****5678")]
    pub phone: Option<String>,
    pub pii_revealed: bool,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"org_id": "0192f3a4-7c1e-7b2a-9f00-3c5d2e1f0a11", "name": "周明", "work_unit": "县农业农村局", "post": "驻村工作队队员", "phone": "13912345678"}))]
pub struct NewCadre {
    /// An organisation in your scope that the cadre serves.
    pub org_id: Uuid,
    /// 1–50 characters.
    #[schema(format = "short-text", max_length = 50)]
    pub name: String,
    /// 1–100 characters.
    #[schema(format = "short-text", max_length = 100)]
    pub work_unit: String,
    /// At most 100 characters; blank means none.
    #[schema(format = "text-or-blank", max_length = 100)]
    pub post: Option<String>,
    /// 11 digits starting with 1; empty means none.
    #[schema(format = "mobile-or-empty")]
    pub phone: Option<String>,
}

/// Changes to a cadre; `null` clears an optional field.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CadrePatch {
    #[schema(format = "short-text", max_length = 50)]
    pub name: Option<String>,
    #[schema(format = "short-text", max_length = 100)]
    pub work_unit: Option<String>,
    #[serde(default, deserialize_with = "crate::members::types::nullable")]
    #[schema(value_type = Option<String>, format = "text-or-blank", max_length = 100)]
    pub post: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::members::types::nullable")]
    #[schema(value_type = Option<String>, format = "mobile-or-empty")]
    pub phone: Option<Option<String>>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CadreFilters {
    /// Cadres serving organisations in this subtree.
    pub org_id: Option<Uuid>,
    /// Name contains this text.
    #[param(format = "search-text", max_length = 200)]
    pub q: Option<String>,
}

/// A help record (帮扶记录): what a helper did for a household, on which day.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HelpRecordView {
    pub id: Uuid,
    pub pairing_id: Uuid,
    pub household_id: Uuid,
    pub member_id: Option<Uuid>,
    pub cadre_id: Option<Uuid>,
    pub date: NaiveDate,
    pub kind: HelpKind,
    #[schema(example = "走访了解春耕资金缺口，协助申请小额信贷")]
    pub content: String,
    /// In fen (分), for goods and money.
    pub amount_fen: Option<i64>,
    pub evidence: Vec<String>,
    /// The account that logged it.
    pub recorded_by: Option<Uuid>,
    pub org_id: Uuid,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"date": "2017-04-12", "kind": "visit", "content": "走访了解春耕资金缺口，协助申请小额信贷"}))]
pub struct NewHelpRecord {
    /// Within the pairing's period and not in the future.
    pub date: NaiveDate,
    pub kind: HelpKind,
    /// 1–2,000 characters.
    #[schema(format = "short-text", max_length = 2000)]
    pub content: String,
    /// In fen, 0 to 100,000,000 (¥1,000,000).
    #[schema(minimum = 0, maximum = 100000000)]
    pub amount_fen: Option<i64>,
    /// Links to photos or documents (described in [`crate::http::validate::evidence_links`]).
    #[serde(default)]
    #[schema(schema_with = crate::http::validate::evidence_links)]
    pub evidence: Vec<String>,
}

/// Filters of `GET /api/v1/help-records`.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HelpRecordFilters {
    pub pairing_id: Option<Uuid>,
    pub household_id: Option<Uuid>,
    /// Records of this member helper.
    pub member_id: Option<Uuid>,
    /// Records of this cadre helper.
    pub cadre_id: Option<Uuid>,
    /// Records about households of organisations in this subtree.
    pub org_id: Option<Uuid>,
    pub kind: Option<HelpKind>,
    /// On or after this day.
    pub from: Option<NaiveDate>,
    /// On or before this day.
    pub to: Option<NaiveDate>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CoverageParams {
    /// The subtree (default: your whole scope).
    pub org_id: Option<Uuid>,
    /// The day the figures are for (default: today).
    pub as_of: Option<NaiveDate>,
    /// A household is stale when its latest help record is older than this many days
    /// before `as_of` (default 90, 1–3650).
    #[param(minimum = 1, maximum = 3650)]
    pub stale_days: Option<u32>,
    /// Help records are counted from this day (default: `stale_days` before `as_of`) to
    /// `as_of` (a later day counts none).
    pub from: Option<NaiveDate>,
    /// Helpers with more active households than this are listed (default 5, 1–1000).
    #[param(minimum = 1, maximum = 1000)]
    pub max_households: Option<u32>,
}

/// A household in a coverage list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CoverageHousehold {
    pub id: Uuid,
    #[schema(example = "李大山")]
    pub head_name: String,
    pub village_id: Uuid,
    pub status: HouseholdStatus,
    /// Its latest help record on or before `as_of`.
    pub last_help_on: Option<NaiveDate>,
}

/// A helper with many households.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BusyHelper {
    pub helper: HelperView,
    pub households: u64,
}

/// How many help records of one kind.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KindCount {
    pub kind: HelpKind,
    pub count: u64,
}

/// The secretary's dashboard (帮扶工作覆盖情况), every figure computed from the records.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Coverage {
    pub as_of: NaiveDate,
    pub from: NaiveDate,
    pub stale_days: u32,
    /// Households of the subtree, whatever their status.
    pub households: u64,
    /// Members with an active pairing on `as_of`.
    pub members_helping: u64,
    /// Cadres with an active pairing on `as_of`.
    pub cadres_helping: u64,
    /// Households with an active pairing on `as_of`.
    pub households_paired: u64,
    /// Households in poverty, returned or monitored without an active pairing (all listed).
    pub unpaired: Vec<CoverageHousehold>,
    /// Households paired on `as_of` with no help record from `stale_days` before `as_of`
    /// up to `as_of` (all listed).
    pub stale: Vec<CoverageHousehold>,
    /// Help records dated `from`..=`as_of`, by kind (every kind listed).
    pub help_records_by_kind: Vec<KindCount>,
    /// Helpers with more than `max_households` active households.
    pub busy_helpers: Vec<BusyHelper>,
    pub max_households: u32,
}
