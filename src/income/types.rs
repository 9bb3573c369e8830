//! Request and response types of the village-finance endpoints, and the enums they use.
//! Money is always in fen (分), as 64-bit integers: no floating point anywhere.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::labelled_enum;
use crate::members::types::nullable;

labelled_enum! {
    /// What kind of income-generating project (产业项目) a village runs.
    ProjectKind("project_kind", "产业项目类型") {
        Photovoltaic => ("photovoltaic", "光伏电站"),
        Farming => ("farming", "特色种养"),
        Rental => ("rental", "物业出租"),
        Land => ("land", "土地流转"),
        Cooperative => ("cooperative", "合作社"),
        Enterprise => ("enterprise", "龙头企业合作"),
        Other => ("other", "其他"),
    }
}

labelled_enum! {
    /// Where a project stands.
    ProjectStatus("project_status", "项目状态") {
        Planned => ("planned", "筹建中"),
        Operating => ("operating", "运营中"),
        Stopped => ("stopped", "已停止"),
    }
}

labelled_enum! {
    /// Which side of the village ledger a record is on: money in, money spent, money
    /// distributed (收入, 支出, 分配). Follows from the record's category.
    FinanceFlow("finance_flow", "收支类别") {
        Income => ("income", "收入"),
        Expenditure => ("expenditure", "支出"),
        Distribution => ("distribution", "收益分配"),
    }
}

labelled_enum! {
    /// The category of a ledger record (科目); each belongs to one flow. Income: `operating`,
    /// `contracting`, `investment`, `subsidy`, `other`. Expenditure: `operating_expense`,
    /// `management_expense`, `public_welfare`, `other_expense`. Distribution:
    /// `villager_dividend`, `household_dividend` (to poor households), `reserve_fund`,
    /// `other_distribution`. Operating income is every income but `subsidy`.
    FinanceCategory("finance_category", "收支科目") {
        Operating => ("operating", "经营收入"),
        Contracting => ("contracting", "发包及上交收入"),
        Investment => ("investment", "投资收益"),
        Subsidy => ("subsidy", "补助收入"),
        Other => ("other", "其他收入"),
        OperatingExpense => ("operating_expense", "经营支出"),
        ManagementExpense => ("management_expense", "管理费用"),
        PublicWelfare => ("public_welfare", "公益支出"),
        OtherExpense => ("other_expense", "其他支出"),
        VillagerDividend => ("villager_dividend", "村民分红"),
        HouseholdDividend => ("household_dividend", "贫困户分红"),
        ReserveFund => ("reserve_fund", "提取公积公益金"),
        OtherDistribution => ("other_distribution", "其他分配"),
    }
}

labelled_enum! {
    /// What a village's income is measured against the target on (`DANGJIAN_INCOME_TARGET_BASIS`):
    /// all its collective income, or its operating income (everything but subsidies).
    IncomeBasis("income_basis", "考核口径") {
        Total => ("total", "集体总收入"),
        Operating => ("operating", "经营性收入"),
    }
}

labelled_enum! {
    /// A village's yearly income band, on the measured basis: `none` (zero or less), under
    /// ¥50,000, ¥50,000 up to ¥100,000, ¥100,000 up to and including ¥500,000, over ¥500,000.
    IncomeBand("income_band", "收入档次") {
        NoIncome => ("none", "无收入"),
        Under50k => ("under_50k", "5万元以下"),
        From50kTo100k => ("from_50k_to_100k", "5万至10万元"),
        From100kTo500k => ("from_100k_to_500k", "10万至50万元"),
        Over500k => ("over_500k", "50万元以上"),
    }
}

impl FinanceCategory {
    /// The flow the category belongs to.
    pub fn flow(self) -> FinanceFlow {
        use FinanceCategory::*;
        match self {
            Operating | Contracting | Investment | Subsidy | Other => FinanceFlow::Income,
            OperatingExpense | ManagementExpense | PublicWelfare | OtherExpense => FinanceFlow::Expenditure,
            VillagerDividend | HouseholdDividend | ReserveFund | OtherDistribution => FinanceFlow::Distribution,
        }
    }

    /// Income that counts as operating (经营性收入): every income but subsidies.
    pub fn is_operating_income(self) -> bool {
        self.flow() == FinanceFlow::Income && self != FinanceCategory::Subsidy
    }
}

impl IncomeBand {
    /// The band of a yearly figure in fen.
    pub fn of(fen: i64) -> IncomeBand {
        match fen {
            i64::MIN..=0 => IncomeBand::NoIncome,
            1..5_000_000 => IncomeBand::Under50k,
            5_000_000..10_000_000 => IncomeBand::From50kTo100k,
            10_000_000..=50_000_000 => IncomeBand::From100kTo500k,
            _ => IncomeBand::Over500k,
        }
    }
}

/// The largest amount one record may carry: ¥10,000,000,000 (10¹² fen), so that no sum of
/// a county's records comes near the 64-bit limit.
pub const MAX_AMOUNT_FEN: i64 = 1_000_000_000_000;

/// A new income-generating project of a village.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"village_id": "0192f3a4-7c1e-7b2a-9f00-3c5d2e1f0a11", "name": "大洼社区光伏电站",
    "kind": "photovoltaic", "started_on": "2016-06-30", "partner": "平山镇光伏合作社", "capacity": 60,
    "capacity_unit": "kW", "invested_fen": 48000000, "status": "operating"}))]
pub struct NewProject {
    pub village_id: Uuid,
    /// 1–100 characters.
    #[schema(format = "short-text", max_length = 100)]
    pub name: String,
    pub kind: ProjectKind,
    pub started_on: Option<NaiveDate>,
    /// The cooperative or company it works with; at most 100 characters.
    #[schema(format = "text-or-blank", max_length = 100)]
    pub partner: Option<String>,
    /// A PV station's kW, a farm's mu: more than 0, at most 1,000,000,000.
    #[schema(exclusive_minimum = 0, maximum = 1000000000)]
    pub capacity: Option<f64>,
    /// The unit of `capacity`, at most 20 characters (`kW`, `亩`).
    #[schema(format = "text-or-blank", max_length = 20)]
    pub capacity_unit: Option<String>,
    /// In fen, 0 to 10¹².
    #[schema(minimum = 0, maximum = 1000000000000_i64)]
    pub invested_fen: Option<i64>,
    pub status: ProjectStatus,
    /// At most 1,000 characters.
    #[schema(format = "text-or-blank", max_length = 1000)]
    pub note: Option<String>,
    /// Poor households of the same village receiving a share of its returns (at most 1,000).
    #[serde(default)]
    #[schema(max_items = 1000)]
    pub household_ids: Vec<Uuid>,
}

/// Changes to a project; `null` clears an optional field, a missing field is left as it is.
/// `household_ids`, when given, replaces the list. The village cannot change.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"status": "stopped", "note": "设备老化，停运检修"}))]
pub struct ProjectPatch {
    #[schema(format = "short-text", max_length = 100)]
    pub name: Option<String>,
    pub kind: Option<ProjectKind>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(nullable)]
    pub started_on: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(format = "text-or-blank", max_length = 100, nullable)]
    pub partner: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(exclusive_minimum = 0, maximum = 1000000000, nullable)]
    pub capacity: Option<Option<f64>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(format = "text-or-blank", max_length = 20, nullable)]
    pub capacity_unit: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(minimum = 0, maximum = 1000000000000_i64, nullable)]
    pub invested_fen: Option<Option<i64>>,
    pub status: Option<ProjectStatus>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(format = "text-or-blank", max_length = 1000, nullable)]
    pub note: Option<Option<String>>,
    #[schema(max_items = 1000)]
    pub household_ids: Option<Vec<Uuid>>,
}

/// An income-generating project (产业项目).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProjectView {
    pub id: Uuid,
    pub village_id: Uuid,
    /// The branch serving the village.
    pub org_id: Uuid,
    #[schema(example = "大洼社区光伏电站")]
    pub name: String,
    pub kind: ProjectKind,
    pub kind_label: String,
    pub started_on: Option<NaiveDate>,
    pub partner: Option<String>,
    pub capacity: Option<f64>,
    pub capacity_unit: Option<String>,
    pub invested_fen: Option<i64>,
    pub status: ProjectStatus,
    pub status_label: String,
    pub note: Option<String>,
    /// Poor households sharing in its returns.
    pub household_ids: Vec<Uuid>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProjectFilters {
    pub village_id: Option<Uuid>,
    /// Projects of villages served by organisations in this subtree.
    pub org_id: Option<Uuid>,
    pub kind: Option<ProjectKind>,
    pub status: Option<ProjectStatus>,
    /// Name contains this text.
    #[param(format = "search-text", max_length = 200)]
    pub q: Option<String>,
}

/// A new ledger record of a village: income received, money spent or distributed. The
/// category decides the flow.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"village_id": "0192f3a4-7c1e-7b2a-9f00-3c5d2e1f0a11", "year": 2017,
    "category": "operating", "project_id": "0192f3a4-7c1e-7b2a-9f00-3c5d2e1f0a12", "amount_fen": 3650000,
    "received_on": "2017-12-20", "note": "光伏电站全年发电收益"}))]
pub struct NewFinanceRecord {
    pub village_id: Uuid,
    /// The accounting year (年度), 2000 to this year.
    #[schema(minimum = 2000, maximum = 2100)]
    pub year: i32,
    pub category: FinanceCategory,
    /// A project of the same village this money came from or went to.
    pub project_id: Option<Uuid>,
    /// In fen, more than 0, at most 10¹² (¥10,000,000,000).
    #[schema(minimum = 1, maximum = 1000000000000_i64)]
    pub amount_fen: i64,
    /// When the money came in or went out: in the year or the next (a year's income may be
    /// paid early the year after), and not in the future.
    pub received_on: NaiveDate,
    /// At most 1,000 characters.
    #[schema(format = "text-or-blank", max_length = 1000)]
    pub note: Option<String>,
}

/// A correction to a record (更正); `null` clears an optional field. The village and the
/// flow cannot change: reverse the record and enter a new one instead.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"amount_fen": 3560000, "note": "按结算单更正金额"}))]
pub struct FinanceRecordPatch {
    #[schema(minimum = 2000, maximum = 2100)]
    pub year: Option<i32>,
    /// Another category of the same flow.
    pub category: Option<FinanceCategory>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(nullable)]
    pub project_id: Option<Option<Uuid>>,
    #[schema(minimum = 1, maximum = 1000000000000_i64)]
    pub amount_fen: Option<i64>,
    pub received_on: Option<NaiveDate>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(format = "text-or-blank", max_length = 1000, nullable)]
    pub note: Option<Option<String>>,
}

/// Why a record is reversed (冲销), and when.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "重复入账"}))]
pub struct ReverseRequest {
    /// 1–500 characters.
    #[schema(format = "short-text", max_length = 500)]
    pub reason: String,
    /// The reversal's date (default today); not before the record's nor in the future.
    pub on: Option<NaiveDate>,
}

/// A record of the village ledger (收支记录).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FinanceRecordView {
    pub id: Uuid,
    pub village_id: Uuid,
    pub org_id: Uuid,
    pub year: i32,
    pub flow: FinanceFlow,
    pub flow_label: String,
    pub category: FinanceCategory,
    pub category_label: String,
    pub project_id: Option<Uuid>,
    /// Always positive.
    pub amount_fen: i64,
    /// What the record adds to its category's total: `amount_fen`, or its negative for a
    /// reversing record.
    pub net_fen: i64,
    pub received_on: NaiveDate,
    pub note: Option<String>,
    /// On a reversing record: the record it cancels.
    pub reverses_id: Option<Uuid>,
    /// On a reversed record: the record that cancels it.
    pub reversed_by_id: Option<Uuid>,
    pub recorded_by: Option<Uuid>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FinanceRecordFilters {
    pub village_id: Option<Uuid>,
    /// Records of villages served by organisations in this subtree.
    pub org_id: Option<Uuid>,
    #[param(minimum = 2000, maximum = 2100)]
    pub year: Option<i32>,
    pub flow: Option<FinanceFlow>,
    pub category: Option<FinanceCategory>,
    pub project_id: Option<Uuid>,
}

/// `?year=` of the finance reports.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct YearParams {
    /// The year (default: last year, the latest whole one).
    #[param(minimum = 2000, maximum = 2100)]
    pub year: Option<i32>,
}

/// `?org_id=&year=` of the income summary.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SummaryParams {
    /// The subtree (default: your whole scope).
    pub org_id: Option<Uuid>,
    /// The year (default: last year, the latest whole one).
    #[param(minimum = 2000, maximum = 2100)]
    pub year: Option<i32>,
}

/// A net amount of one category.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CategoryAmount {
    pub category: FinanceCategory,
    pub label: String,
    pub amount_fen: i64,
}

/// One side of the ledger: its total and every category of it (0 where none).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FlowTotals {
    pub total_fen: i64,
    pub by_category: Vec<CategoryAmount>,
}

/// A project's income in the year, and how many poor households share in its returns (a
/// count: no household is named).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProjectIncome {
    pub project_id: Uuid,
    pub name: String,
    pub kind: ProjectKind,
    pub kind_label: String,
    pub status: ProjectStatus,
    pub capacity: Option<f64>,
    pub capacity_unit: Option<String>,
    pub households_sharing: u64,
    pub amount_fen: i64,
}

/// A village's income in a year.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IncomeTotals {
    /// All collective income (集体总收入).
    pub total_fen: i64,
    /// Operating income (经营性收入): all but subsidies.
    pub operating_fen: i64,
    pub by_category: Vec<CategoryAmount>,
    /// Income from each of the village's projects (every project, 0 where none).
    pub by_project: Vec<ProjectIncome>,
    /// Income recorded without a project.
    pub without_project_fen: i64,
}

/// How a village's year measures against the target (`DANGJIAN_INCOME_TARGET_FEN` on
/// `DANGJIAN_INCOME_TARGET_BASIS`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TargetStatus {
    pub basis: IncomeBasis,
    pub basis_label: String,
    pub target_fen: i64,
    /// The year's income on the basis: `total_fen` or `operating_fen`.
    pub measured_fen: i64,
    /// `measured_fen` is at least `target_fen`.
    pub reached: bool,
    /// The band of `measured_fen`.
    pub band: IncomeBand,
    pub band_label: String,
    /// No operating income (空壳村): `operating_fen` is 0 or less.
    pub empty_shell: bool,
}

/// The year before, and the change from it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PreviousYear {
    pub year: i32,
    pub total_fen: i64,
    pub operating_fen: i64,
    /// This year's total income minus the year before's.
    pub total_change_fen: i64,
    pub operating_change_fen: i64,
}

/// A village's finances in a year (村务公开): income by category and by project,
/// expenditure, distribution, the balance and the target status. The same figures are
/// public (`/public/villages/{id}/finances`): nothing in them names a person.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VillageFinances {
    pub village_id: Uuid,
    #[schema(example = "大洼社区")]
    pub village_name: String,
    pub year: i32,
    pub income: IncomeTotals,
    pub expenditure: FlowTotals,
    pub distribution: FlowTotals,
    /// Income minus expenditure minus distribution.
    pub balance_fen: i64,
    pub target: TargetStatus,
    pub previous_year: PreviousYear,
}

/// A village named in a summary.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VillageRef {
    pub id: Uuid,
    pub name: String,
}

/// How many villages fall in a band.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BandCount {
    pub band: IncomeBand,
    pub label: String,
    pub villages: u64,
}

/// Income by project kind across a subtree.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KindAmount {
    pub kind: ProjectKind,
    pub label: String,
    pub amount_fen: i64,
}

/// The previous year of a summary.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SummaryPreviousYear {
    pub year: i32,
    pub total_fen: i64,
    pub operating_fen: i64,
    pub at_target: u64,
    pub empty_shell: u64,
    pub total_change_fen: i64,
    pub operating_change_fen: i64,
}

/// The collective economy of a subtree's villages in a year.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IncomeSummary {
    /// The subtree asked for (`null`: the caller's whole scope).
    pub org_id: Option<Uuid>,
    pub year: i32,
    pub basis: IncomeBasis,
    pub basis_label: String,
    pub target_fen: i64,
    /// Villages and communities in the subtree.
    pub villages: u64,
    /// Villages whose measured income reaches the target.
    pub at_target: u64,
    /// Villages with no operating income (空壳村).
    pub empty_shell: u64,
    /// Those villages, by name.
    pub empty_shell_villages: Vec<VillageRef>,
    /// Villages per band of measured income (every band, 0 where none).
    pub bands: Vec<BandCount>,
    /// Income of all the villages: total, operating and by category.
    pub income: FlowTotals,
    pub operating_fen: i64,
    /// Income by the kind of project it came from (every kind, 0 where none).
    pub by_project_kind: Vec<KindAmount>,
    pub without_project_fen: i64,
    pub expenditure: FlowTotals,
    pub distribution: FlowTotals,
    pub previous_year: SummaryPreviousYear,
}
