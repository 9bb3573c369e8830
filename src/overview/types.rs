//! The overview's figures, each with its definition.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::labelled_enum;
use crate::members::types::{Education, Gender};
use crate::ratings::types::LevelCount;

labelled_enum! {
    /// A member's age on the overview's reference day, in bands (年龄段).
    AgeBand("age_band", "年龄段") {
        UpTo35 => ("up_to_35", "35岁及以下"),
        From36To45 => ("from_36_to_45", "36至45岁"),
        From46To55 => ("from_46_to_55", "46至55岁"),
        From56To65 => ("from_56_to_65", "56至65岁"),
        Over65 => ("over_65", "66岁及以上"),
    }
}

labelled_enum! {
    /// Whole years since a member joined the Party (党龄), on the reference day, in bands.
    PartyYearsBand("party_years_band", "党龄段") {
        Under5 => ("under_5", "不满5年"),
        From5To9 => ("from_5_to_9", "5至9年"),
        From10To19 => ("from_10_to_19", "10至19年"),
        From20To29 => ("from_20_to_29", "20至29年"),
        From30 => ("from_30", "30年及以上"),
    }
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OverviewParams {
    /// The subtree (default: your whole scope).
    pub org_id: Option<Uuid>,
    /// The programme year (default: this year). Ratings are those of the year before.
    #[param(minimum = 2000, maximum = 2100)]
    pub year: Option<i32>,
}

/// Live organisations of the subtree, the top one included, by kind.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrgFigures {
    /// Party committees (党委).
    pub committees: u64,
    /// General branches (党总支).
    pub general_branches: u64,
    /// Branches (党支部).
    pub branches: u64,
    /// Party groups (党小组), grid groups included.
    pub groups: u64,
    /// Grid party groups (网格党小组): party groups tied to a villager group.
    pub grid_groups: u64,
}

/// A count of members with one value of a dictionary.
#[derive(Debug, Serialize, ToSchema)]
pub struct Counted<T> {
    pub value: T,
    pub label: String,
    pub members: u64,
}

/// Members on the rolls on the reference day: joined on or before it and not left by it.
/// Status (full or probationary) is the member's status now.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberFigures {
    pub total: u64,
    /// 正式党员.
    pub full: u64,
    /// 预备党员.
    pub probationary: u64,
    /// Rural members (农村党员).
    pub rural: u64,
    pub by_gender: Vec<Counted<Gender>>,
    /// Every band, 0 where none.
    pub by_age: Vec<Counted<AgeBand>>,
    /// Every education level, 0 where none; members without one are `education_unknown`.
    pub by_education: Vec<Counted<Education>>,
    pub education_unknown: u64,
    pub by_party_years: Vec<Counted<PartyYearsBand>>,
}

/// The year's pledges on the public board: approved, in progress, fulfilled or evaluated
/// (公示 and later), of organisations in the subtree and their members.
#[derive(Debug, Serialize, ToSchema)]
pub struct PledgeFigures {
    /// Every public pledge of the year.
    pub public_items: u64,
    /// Collective pledge items (集体承诺) of organisations.
    pub collective_items: u64,
    /// Members with at least one public individual pledge (党员公开承诺), whether or not
    /// still on the rolls.
    pub members_pledged: u64,
    /// Of those, rural members (农村党员), as the article counts them.
    pub rural_members_pledged: u64,
    /// Public pledges kept: fulfilled (践诺) and those also evaluated (评诺).
    pub fulfilled: u64,
    pub evaluated: u64,
    /// Approved or in progress and past their due day, today.
    pub overdue: u64,
    /// Feedback from the public on these pledges (not hidden by moderation), and how much of
    /// it has an answer.
    pub feedback_received: u64,
    pub feedback_answered: u64,
    /// Villages and communities whose serving branch (itself or one of its groups) has a public
    /// pledge this year: the villages whose pledges are on the board (上墙).
    pub villages_on_board: u64,
}

/// The final star ratings of the year before (the ones the year's boards show).
#[derive(Debug, Serialize, ToSchema)]
pub struct RatingFigures {
    pub year: i32,
    /// Branches and general branches per level.
    pub orgs: Vec<LevelCount>,
    /// Members per level.
    pub members: Vec<LevelCount>,
}

/// Pairings active on the reference day (结对帮扶): started by it and not ended before it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PairingFigures {
    /// Members helping at least one household.
    pub members_helping: u64,
    /// Cadres (not party members of the tree) helping.
    pub cadres_helping: u64,
    /// Households with at least one active helper.
    pub households_paired: u64,
    /// Households in poverty, returned to it or monitored (status now).
    pub households_needing_help: u64,
    /// Of those, households without an active helper.
    pub households_without_helper: u64,
}

/// The villages' collective income of the year against the target (see `/income/summary`).
#[derive(Debug, Serialize, ToSchema)]
pub struct IncomeFigures {
    pub villages: u64,
    pub at_target: u64,
    /// 空壳村: villages with no operating income.
    pub empty_shell: u64,
    pub bands: Vec<crate::income::types::BandCount>,
    pub target_fen: i64,
    pub basis: crate::income::types::IncomeBasis,
}

/// The whole programme of a subtree on one screen. Every figure is counted from the records
/// when asked (kept until the next write anywhere), none from a stored counter.
#[derive(Debug, Serialize, ToSchema)]
pub struct Overview {
    /// The subtree asked for (`null`: the caller's whole scope).
    pub org_id: Option<Uuid>,
    pub year: i32,
    /// The day the membership and pairing figures are for: the year's last day, or today
    /// for this year.
    pub as_of: NaiveDate,
    pub orgs: OrgFigures,
    pub members: MemberFigures,
    pub pledges: PledgeFigures,
    pub ratings: RatingFigures,
    pub pairings: PairingFigures,
    pub income: IncomeFigures,
}
