//! Request and response types of the pledge endpoints.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::lifecycle::{PledgeState, Transition};
use crate::labelled_enum;
use crate::text;

/// The years pledges are made for.
pub const YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;

/// `?year=` of a list, the statistics or the board: in [`YEARS`], else 400.
pub fn query_year(year: Option<i32>) -> Result<Option<i32>, crate::error::ApiError> {
    match year {
        Some(y) if !YEARS.contains(&y) => Err(crate::error::ApiError::bad_request(
            crate::error::ErrorCode::InvalidQuery,
            text!("year must be between 2000 and 2100", "year 须在 2000 到 2100 之间"),
        )),
        _ => Ok(year),
    }
}

/// `?year=` checked as [`query_year`], else last year: the latest whole year, which reports of
/// a year (star board, village finances) show by default.
pub fn query_year_or_last(year: Option<i32>) -> Result<i32, crate::error::ApiError> {
    Ok(query_year(year)?.unwrap_or_else(|| this_year() - 1))
}

/// The current year: the default of a board's `?year=`, and the last year a page links to.
pub fn this_year() -> i32 {
    chrono::Datelike::year(&crate::db::now().date_naive())
}

/// Schema of `?state=`: a pledge state, or `overdue`.
fn state_filter() -> utoipa::openapi::schema::Object {
    let mut values: Vec<&str> = PledgeState::ALL.iter().map(|s| s.as_str()).collect();
    values.push("overdue");
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .enum_values(Some(values))
        .build()
}

labelled_enum! {
    /// Individual (a member's, 个人承诺) or collective (an organisation's, 集体承诺).
    PledgeKind("pledge_kind", "承诺类型") { Individual => ("individual", "个人承诺"), Collective => ("collective", "集体承诺") }
}

labelled_enum! {
    /// The public's verdict on a kept pledge (评诺).
    EvaluationResult("evaluation_result", "评诺结果") {
        Satisfied => ("satisfied", "满意"),
        BasicallySatisfied => ("basically_satisfied", "基本满意"),
        Unsatisfied => ("unsatisfied", "不满意"),
    }
}

/// A pledge as members and managers see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PledgeView {
    pub id: Uuid,
    #[schema(example = 2017)]
    pub year: i32,
    pub kind: PledgeKind,
    /// The member making an individual pledge.
    pub member_id: Option<Uuid>,
    /// The member's branch, or the organisation making a collective pledge.
    pub org_id: Uuid,
    pub group_id: Option<Uuid>,
    #[schema(example = "修复司山村民组道路")]
    pub title: String,
    pub content: String,
    /// A code from `GET /api/v1/public/pledge-categories`.
    #[schema(example = "infrastructure")]
    pub category: String,
    /// The villager group (村民组) the pledge is made to.
    pub villager_group_id: Option<Uuid>,
    /// The pioneer post (党员先锋岗) it is made on.
    pub post_id: Option<Uuid>,
    pub due_on: Option<NaiveDate>,
    pub state: PledgeState,
    /// Past its due date and not yet kept.
    pub overdue: bool,
    /// What may happen next.
    pub allowed_transitions: Vec<Transition>,
    pub return_reason: Option<String>,
    pub evaluation_result: Option<EvaluationResult>,
    pub evaluation_comment: Option<String>,
    /// The latest progress percentage reported.
    pub progress_percent: Option<i32>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"year": 2017, "title": "修复司山村民组道路", "content": "年内修复村民组主干道 800 米",
    "category": "infrastructure", "due_on": "2017-12-31"}))]
pub struct NewPledge {
    /// 2000–2100.
    #[schema(minimum = 2000, maximum = 2100)]
    pub year: i32,
    /// `individual` (default): your own pledge, or, for a secretary, a member's (`member_id`).
    /// `collective`: an organisation's (`org_id`), written by its secretary or above.
    pub kind: Option<PledgeKind>,
    /// For an individual pledge written by a secretary on a member's behalf.
    pub member_id: Option<Uuid>,
    /// For a collective pledge: the organisation making it.
    pub org_id: Option<Uuid>,
    /// 1–100 characters.
    #[schema(format = "short-text", max_length = 100)]
    pub title: String,
    /// 1–2,000 characters.
    #[schema(format = "short-text", max_length = 2000)]
    pub content: String,
    /// The code of an active category (`GET /api/v1/pledge-categories`; another is 422).
    #[schema(format = "category-code")]
    pub category: String,
    pub villager_group_id: Option<Uuid>,
    /// One of the member's pioneer posts.
    pub post_id: Option<Uuid>,
    pub due_on: Option<NaiveDate>,
}

/// Changes to a draft or returned pledge.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PledgePatch {
    #[schema(format = "short-text", max_length = 100)]
    pub title: Option<String>,
    #[schema(format = "short-text", max_length = 2000)]
    pub content: Option<String>,
    #[schema(format = "category-code")]
    pub category: Option<String>,
    #[serde(default, deserialize_with = "crate::members::types::nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub villager_group_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "crate::members::types::nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub post_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "crate::members::types::nullable")]
    #[schema(value_type = Option<NaiveDate>)]
    pub due_on: Option<Option<NaiveDate>>,
}

/// The body of a transition; which fields are needed depends on it.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "请写明完成时限"}))]
pub struct TransitionRequest {
    /// Required to `return`: why (1–500 characters).
    #[schema(format = "short-text", max_length = 500)]
    pub reason: Option<String>,
    /// Required to `evaluate`.
    pub result: Option<EvaluationResult>,
    /// With `evaluate`: the evaluation's comment (at most 1,000 characters).
    #[schema(format = "short-text", max_length = 1000)]
    pub comment: Option<String>,
    /// Any transition may carry a note for the timeline (at most 2,000 characters).
    #[schema(format = "short-text", max_length = 2000)]
    pub note: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"note": "已完成路基铺设", "percentage": 60, "evidence": ["https://example.cn/photos/road-60.jpg"]}))]
pub struct NewProgress {
    /// 1–2,000 characters.
    #[schema(format = "short-text", max_length = 2000)]
    pub note: String,
    /// 0–100.
    #[schema(minimum = 0, maximum = 100)]
    pub percentage: Option<i32>,
    /// Links to photos or documents (described in [`crate::http::validate::evidence_links`]).
    #[serde(default)]
    #[schema(schema_with = crate::http::validate::evidence_links)]
    pub evidence: Vec<String>,
}

/// One entry of a pledge's timeline: a state change or a progress report.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineEntry {
    pub id: Uuid,
    /// `state` or `progress`.
    pub kind: String,
    pub from_state: Option<PledgeState>,
    pub to_state: Option<PledgeState>,
    pub note: Option<String>,
    pub percentage: Option<i32>,
    pub evidence: Vec<String>,
    pub actor_user_id: Option<Uuid>,
    /// The acting account's username.
    pub actor_name: Option<String>,
    pub occurred_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PledgeFilters {
    /// Pledges of organisations in this subtree.
    pub org_id: Option<Uuid>,
    pub member_id: Option<Uuid>,
    /// 2000–2100.
    #[param(minimum = 2000, maximum = 2100)]
    pub year: Option<i32>,
    /// A state, or `overdue` (past due, not yet kept).
    #[param(schema_with = state_filter)]
    pub state: Option<String>,
    #[param(format = "category-code")]
    pub category: Option<String>,
    pub kind: Option<PledgeKind>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsParams {
    /// The subtree to count (default: all of your scope).
    pub org_id: Option<Uuid>,
    /// 2000–2100.
    #[param(minimum = 2000, maximum = 2100)]
    pub year: Option<i32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StateCount {
    pub state: String,
    pub count: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BranchCount {
    pub org_id: Uuid,
    pub org_name: String,
    pub pledges: u64,
}

/// `GET /api/v1/pledges/stats`.
#[derive(Debug, Serialize, ToSchema)]
pub struct PledgeStats {
    pub total: u64,
    /// Per state, plus `overdue`.
    pub by_state: Vec<StateCount>,
    /// Pledges per branch (collective pledges of groups count for their branch).
    pub by_branch: Vec<BranchCount>,
    /// Members with at least one approved (or later) pledge.
    pub members_with_approved_pledge: u64,
    /// Kept (fulfilled or evaluated) among approved-and-later pledges, 0–1.
    pub fulfilment_rate: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryView {
    #[schema(example = "infrastructure")]
    pub code: String,
    #[schema(example = "基础设施")]
    pub label: String,
    pub sort_order: i32,
    pub active: bool,
    /// The version a change names in `If-Match` (as `"<version>"`).
    pub version: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"code": "culture", "label": "文化活动", "sort_order": 8}))]
pub struct NewCategory {
    /// 1–32 of `a-z 0-9 _`.
    #[schema(format = "category-code")]
    pub code: String,
    /// 1–50 characters.
    #[schema(format = "short-text", max_length = 50)]
    pub label: String,
    pub sort_order: Option<i32>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryPatch {
    #[schema(format = "short-text", max_length = 50)]
    pub label: Option<String>,
    pub sort_order: Option<i32>,
    /// Inactive categories stay on old pledges but cannot be chosen for new ones.
    pub active: Option<bool>,
}

/// Supervision feedback as the branch sees it: the phone is masked.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedbackView {
    pub id: Uuid,
    pub pledge_id: Uuid,
    pub message: String,
    pub sender_name: Option<String>,
    #[schema(example = "138****5678")]
    pub phone: Option<String>,
    pub hidden: bool,
    pub reply: Option<String>,
    pub replied_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"message": "路灯已经修好了，谢谢！", "name": "村民"}))]
pub struct NewFeedback {
    /// 1–500 characters.
    #[schema(format = "short-text", max_length = 500)]
    pub message: String,
    /// Optional, at most 50 characters (blank means none); never shown publicly.
    #[schema(format = "text-or-blank", max_length = 50)]
    pub name: Option<String>,
    /// Optional mobile number, so the branch can call back; never shown publicly.
    #[schema(format = "mobile-or-empty")]
    pub phone: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackReply {
    /// 1–1,000 characters; shown on the public board under the message.
    #[schema(format = "short-text", max_length = 1000)]
    pub reply: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackVisibility {
    /// Hidden feedback never shows on the public board.
    pub hidden: bool,
}
