//! Request and response types of the rating endpoints, and the enums they use.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::labelled_enum;
use crate::members::types::nullable;

labelled_enum! {
    /// What is rated: a member, or an organisation (a branch or a general branch).
    RatingSubject("rating_subject", "评定对象") {
        Member => ("member", "党员"),
        Org => ("org", "党组织"),
    }
}

labelled_enum! {
    /// The level of a rating (星级): one to five stars, or `unqualified` (不合格, members only).
    RatingLevel("rating_level", "星级") {
        FiveStars => ("five_stars", "五星"),
        FourStars => ("four_stars", "四星"),
        ThreeStars => ("three_stars", "三星"),
        TwoStars => ("two_stars", "二星"),
        OneStar => ("one_star", "一星"),
        Unqualified => ("unqualified", "不合格"),
    }
}

labelled_enum! {
    /// Where a rating is in its process. `proposed` by the branch (members) or the town
    /// (organisations), `approved` or `returned` by the town, `noticed` when the town publishes
    /// a year's approved ratings (公示), `final` when the notice ends with no objection open
    /// (an upheld objection sends the rating back to `proposed`).
    RatingState("rating_state", "评定状态") {
        Proposed => ("proposed", "已提名"),
        Approved => ("approved", "已审定"),
        Returned => ("returned", "已退回"),
        Noticed => ("noticed", "公示中"),
        Final => ("final", "已生效"),
    }
}

labelled_enum! {
    /// A step of the process, each its own endpoint: `POST /api/v1/ratings/{id}/{step}`.
    RatingStep("rating_step", "评定操作") {
        Approve => ("approve", "审定"),
        Return => ("return", "退回"),
        Resubmit => ("resubmit", "重新提名"),
    }
}

labelled_enum! {
    /// Where an objection from the public stands (异议).
    ObjectionStatus("objection_status", "异议处理") {
        Open => ("open", "待处理"),
        Dismissed => ("dismissed", "不成立"),
        Upheld => ("upheld", "成立"),
    }
}

labelled_enum! {
    /// The town's answer to an objection: `POST /api/v1/ratings/{id}/objections/{objection_id}/{answer}`.
    ObjectionAnswer("objection_answer", "异议答复") {
        Dismiss => ("dismiss", "不予采纳"),
        Uphold => ("uphold", "予以采纳"),
    }
}

impl RatingState {
    /// The state `step` leads to from here, if it is allowed.
    pub fn after(self, step: RatingStep) -> Option<RatingState> {
        use RatingState::*;
        use RatingStep::*;
        match (self, step) {
            (Proposed, Approve) => Some(Approved),
            (Proposed, Return) => Some(Returned),
            (Returned, Resubmit) => Some(Proposed),
            _ => None,
        }
    }

    /// Every step allowed from here.
    pub fn allowed(self) -> Vec<RatingStep> {
        RatingStep::ALL
            .iter()
            .copied()
            .filter(|s| self.after(*s).is_some())
            .collect()
    }

    /// States in which the proposer may still change or withdraw the rating.
    pub fn is_editable(self) -> bool {
        matches!(self, RatingState::Proposed | RatingState::Returned)
    }
}

/// A proposed rating (提名). Give exactly one subject: `member_id` (a branch secretary or
/// administrator over the member) or `org_id` (a branch or general branch; the town
/// administrator). One rating per subject and year.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"year": 2026, "member_id": "0192f3a4-7c1e-7b2a-9f00-3c5d2e1f0a11", "level": "five_stars",
    "score": 96, "remarks": "承诺全部兑现，群众评价好"}))]
pub struct NewRating {
    /// The year rated (评定年度), 2000–2100. Its results go on the next year's boards.
    #[schema(minimum = 2000, maximum = 2100)]
    pub year: i32,
    pub member_id: Option<Uuid>,
    pub org_id: Option<Uuid>,
    /// `unqualified` is for members only.
    pub level: RatingLevel,
    /// 0–100, optional.
    #[schema(minimum = 0, maximum = 100)]
    pub score: Option<i32>,
    /// At most 1,000 characters; blank means none.
    #[schema(format = "text-or-blank", max_length = 1000)]
    pub remarks: Option<String>,
    /// What the rating is based on (described in [`crate::http::validate::evidence_links`]).
    #[serde(default)]
    #[schema(schema_with = crate::http::validate::evidence_links)]
    pub evidence: Vec<String>,
}

/// Changes to a proposed or returned rating; `null` clears an optional field, a missing field
/// is left as it is. The subject and year cannot change.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"level": "four_stars", "score": 88}))]
pub struct RatingPatch {
    pub level: Option<RatingLevel>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(minimum = 0, maximum = 100, nullable)]
    pub score: Option<Option<i32>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(format = "text-or-blank", max_length = 1000, nullable)]
    pub remarks: Option<Option<String>>,
    #[schema(schema_with = crate::http::validate::evidence_links)]
    pub evidence: Option<Vec<String>>,
}

/// The optional body of a step: `reason` is required to return a rating.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "请补充全年承诺兑现情况"}))]
pub struct RatingStepRequest {
    /// Why it is returned (1–500 characters); required for `return`.
    #[schema(format = "short-text", max_length = 500)]
    pub reason: Option<String>,
    /// A note for the timeline (1–1,000 characters).
    #[schema(format = "short-text", max_length = 1000)]
    pub note: Option<String>,
}

/// A rating as its readers see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RatingView {
    pub id: Uuid,
    pub year: i32,
    pub subject: RatingSubject,
    pub member_id: Option<Uuid>,
    /// The rated organisation (`subject` = `org`).
    pub subject_org_id: Option<Uuid>,
    /// The member's branch, or the rated organisation: whose scope the rating is in.
    pub org_id: Uuid,
    /// The member's or organisation's name when proposed, as the board shows it.
    pub subject_name: String,
    pub level: RatingLevel,
    pub level_label: String,
    pub score: Option<i32>,
    pub remarks: Option<String>,
    pub evidence: Vec<String>,
    pub state: RatingState,
    pub allowed_steps: Vec<RatingStep>,
    pub return_reason: Option<String>,
    pub proposed_by: Uuid,
    /// The town administrator who approved or returned it last.
    pub decided_by: Option<Uuid>,
    /// The public notice (公示): when it started and ends.
    pub notice_starts_at: Option<DateTime<Utc>>,
    pub notice_ends_at: Option<DateTime<Utc>>,
    /// Objections from the public not yet answered; a notice ends in `final` only with none.
    pub open_objections: i32,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One entry of a rating's timeline: proposed, changed, approved, returned, resubmitted.
#[derive(Debug, Serialize, ToSchema)]
pub struct RatingTimelineEntry {
    pub id: Uuid,
    /// `propose`, `change`, `approve`, `return` or `resubmit`.
    pub kind: String,
    pub from_state: Option<RatingState>,
    pub to_state: Option<RatingState>,
    pub note: Option<String>,
    pub actor_user_id: Option<Uuid>,
    /// The acting account's username.
    pub actor_name: Option<String>,
    pub occurred_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RatingFilters {
    /// Ratings in this organisation's subtree (members of its branches, and the
    /// organisations themselves).
    pub org_id: Option<Uuid>,
    /// 2000–2100.
    #[param(minimum = 2000, maximum = 2100)]
    pub year: Option<i32>,
    pub subject: Option<RatingSubject>,
    pub level: Option<RatingLevel>,
    pub state: Option<RatingState>,
}

/// How many ratings of each level, for members and for organisations.
#[derive(Debug, Serialize, ToSchema)]
pub struct RatingCounts {
    pub year: Option<i32>,
    pub org_id: Option<Uuid>,
    pub members: Vec<LevelCount>,
    pub orgs: Vec<LevelCount>,
}

/// One level and how many ratings have it (every level is listed, with 0 where none).
#[derive(Debug, Serialize, ToSchema)]
pub struct LevelCount {
    pub level: RatingLevel,
    pub label: String,
    pub count: u64,
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SuggestionParams {
    /// The member to suggest a level for; or give `org_id`.
    pub member_id: Option<Uuid>,
    /// The branch or general branch to suggest a level for; or give `member_id`.
    pub org_id: Option<Uuid>,
    /// The year rated, 2000–2100.
    #[param(minimum = 2000, maximum = 2100)]
    pub year: i32,
}

/// A suggested level and the evidence behind it, for whoever proposes the rating. Never
/// applied by itself, and never `unqualified`: that is a judgement of conduct, not of counts.
#[derive(Debug, Serialize, ToSchema)]
pub struct RatingSuggestion {
    pub year: i32,
    pub subject: RatingSubject,
    pub member_id: Option<Uuid>,
    pub org_id: Option<Uuid>,
    pub subject_name: String,
    pub level: RatingLevel,
    pub level_label: String,
    /// 0–100: the sum of the reasons' points.
    pub score: u32,
    /// Each part of the score: what was counted and the points it gave.
    pub reasons: Vec<SuggestionReason>,
    /// The rule, in words, with this service's thresholds.
    pub rule: String,
}

/// One part of a suggestion's score.
#[derive(Debug, Serialize, ToSchema)]
pub struct SuggestionReason {
    /// `pledges_kept`, `satisfaction`, `help_records`, `feedback_answered` or `nothing_overdue`.
    pub code: &'static str,
    /// The part in Chinese, e.g. 承诺兑现.
    pub label: &'static str,
    pub points: u32,
    pub max_points: u32,
    /// What was counted (kept pledges, satisfied evaluations, help records, answered
    /// feedback, overdue pledges) …
    pub count: u64,
    /// … out of how many (approved pledges, evaluations, help records expected, feedback
    /// received; for overdue pledges, the approved ones).
    pub of: u64,
}

/// Publish a year's approved ratings of a subtree for public notice (公示).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"year": 2025, "org_id": "0192f3a4-7c1e-7b2a-9f00-3c5d2e1f0a11", "notice_days": 5}))]
pub struct NewNotice {
    /// The year rated, 2000–2100.
    #[schema(minimum = 2000, maximum = 2100)]
    pub year: i32,
    /// The organisation whose subtree's approved ratings are published.
    pub org_id: Uuid,
    /// 1–30 days; default `DANGJIAN_RATING_NOTICE_DAYS` (5).
    #[schema(minimum = 1, maximum = 30)]
    pub notice_days: Option<u32>,
}

/// What a publication did.
#[derive(Debug, Serialize, ToSchema)]
pub struct NoticeReport {
    pub year: i32,
    pub org_id: Uuid,
    /// Ratings now on notice (0 when none was approved and waiting).
    pub published: u64,
    pub notice_starts_at: DateTime<Utc>,
    pub notice_ends_at: DateTime<Utc>,
    pub rating_ids: Vec<Uuid>,
}

/// An objection to a rating on notice (异议), from anyone, without a token.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"message": "该党员全年多次缺席组织生活，评为五星不妥", "name": "村民", "phone": "13812345678"}))]
pub struct NewObjection {
    /// 1–500 characters.
    #[schema(format = "short-text", max_length = 500)]
    pub message: String,
    /// Optional, at most 50 characters.
    #[schema(format = "text-or-blank", max_length = 50)]
    pub name: Option<String>,
    /// Optional, for an answer: 11 digits starting with 1; never shown in full.
    #[schema(format = "mobile-or-empty")]
    pub phone: Option<String>,
}

/// An objection as the town sees it (phone masked).
#[derive(Debug, Serialize, ToSchema)]
pub struct ObjectionView {
    pub id: Uuid,
    pub rating_id: Uuid,
    pub message: String,
    pub sender_name: Option<String>,
    pub phone: Option<String>,
    pub status: ObjectionStatus,
    pub answer: Option<String>,
    pub answered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// The town's answer to an objection.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"answer": "经核实，该党员缺席情况属实，退回重新评定"}))]
pub struct ObjectionAnswerBody {
    /// 1–1,000 characters.
    #[schema(format = "short-text", max_length = 1000)]
    pub answer: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StarBoardParams {
    /// The year rated (评定年度), 2000–2100; default last year. The pledge board of a year
    /// shows the ratings of the year before, so the board of 2026 shows rating year 2025.
    #[param(minimum = 2000, maximum = 2100)]
    pub year: Option<i32>,
}

/// The public star board (创星榜) of a subtree for a rating year.
#[derive(Debug, Serialize, ToSchema)]
pub struct StarBoard {
    pub org_id: Uuid,
    pub org_name: String,
    /// The year rated.
    pub year: i32,
    /// Organisations on the board, by level.
    pub org_counts: Vec<LevelCount>,
    /// Members on the board, by level.
    pub member_counts: Vec<LevelCount>,
    /// Every rated organisation, highest level first, then by name.
    pub orgs: Vec<StarEntry>,
    /// One page of rated members, highest level first, then by name.
    pub members: Vec<StarEntry>,
    /// Pass as `?cursor=` for the next page of members; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// One rating on the board: a name, its organisation and level; nothing else about a person.
#[derive(Debug, Serialize, ToSchema)]
pub struct StarEntry {
    pub name: String,
    /// The member's branch, or the organisation itself.
    pub org_name: String,
    pub level: RatingLevel,
    pub level_label: String,
    /// `final`, or `noticed` while the public notice runs (objections are still possible).
    pub state: RatingState,
    pub notice_ends_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::RatingState::*;
    use super::RatingStep::*;

    #[test]
    fn the_process() {
        assert_eq!(Proposed.after(Approve), Some(Approved));
        assert_eq!(Proposed.after(Return), Some(Returned));
        assert_eq!(Returned.after(Resubmit), Some(Proposed));
        assert_eq!(Approved.after(Return), None);
        assert_eq!(Approved.allowed(), vec![]);
        assert_eq!(Proposed.allowed(), vec![Approve, Return]);
    }
}
