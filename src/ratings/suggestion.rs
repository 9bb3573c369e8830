//! `GET /api/v1/ratings/suggestion`: a level suggested from a year's evidence (pledges kept
//! and how they were judged, help records, answered feedback, nothing overdue), so that a
//! secretary proposes from the record rather than from memory. Never applied by itself.

use actix_web::{get, web};
use chrono::NaiveDate;
use sea_orm::sea_query::{Condition, Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::READERS;
use super::types::*;
use crate::auth::AuthUser;
use crate::config::Config;
use crate::error::{ApiError, Problem};
use crate::http::Json;
use crate::members::MemberAccess;
use crate::orgs::{OrgKind, queries as orgs};
use crate::pairings::entity::{help_record, pairing};
use crate::pledges::entity::{feedback, pledge};
use crate::pledges::lifecycle::PledgeState;
use crate::pledges::types::EvaluationResult;
use crate::state::AppState;
use crate::text;

/// What a year's record holds, as the rule counts it.
#[derive(Debug, Default)]
struct Evidence {
    /// Pledges approved and later (on the public board).
    approved: u64,
    /// Of those, fulfilled or evaluated.
    kept: u64,
    evaluated: u64,
    satisfied: u64,
    basically_satisfied: u64,
    /// Approved or in progress and past due on the year's last day (or today).
    overdue: u64,
    help_records: u64,
    /// Help records the rule expects: the yearly number per member helping a household
    /// that year (none expected of who helps nobody).
    help_expected: u64,
    /// Feedback from the public on those pledges, not hidden by moderation.
    feedback_received: u64,
    feedback_answered: u64,
}

/// The points of each part, from `evidence`, and the level `thresholds` give their sum.
fn score(evidence: &Evidence, thresholds: [u32; 4]) -> (RatingLevel, u32, Vec<SuggestionReason>) {
    let share = |n: f64, of: u64, when_none: f64| if of == 0 { when_none } else { n / of as f64 };
    let e = evidence;
    let parts = [
        (
            "pledges_kept",
            "承诺兑现",
            40,
            share(e.kept as f64, e.approved, 0.0),
            e.kept,
            e.approved,
        ),
        (
            "satisfaction",
            "群众满意",
            30,
            share(
                e.satisfied as f64 + e.basically_satisfied as f64 / 2.0,
                e.evaluated,
                0.0,
            ),
            e.satisfied,
            e.evaluated,
        ),
        (
            "help_records",
            "结对帮扶",
            10,
            share(e.help_records as f64, e.help_expected, 1.0).min(1.0),
            e.help_records,
            e.help_expected,
        ),
        (
            "feedback_answered",
            "反馈回复",
            10,
            share(e.feedback_answered as f64, e.feedback_received, 1.0),
            e.feedback_answered,
            e.feedback_received,
        ),
        (
            "nothing_overdue",
            "无逾期承诺",
            10,
            if e.overdue == 0 { 1.0 } else { 0.0 },
            e.overdue,
            e.approved,
        ),
    ];
    let reasons: Vec<SuggestionReason> = parts
        .into_iter()
        .map(|(code, label, max_points, fraction, count, of)| SuggestionReason {
            code,
            label,
            points: (f64::from(max_points) * fraction).round() as u32,
            max_points,
            count,
            of,
        })
        .collect();
    let total = reasons.iter().map(|r| r.points).sum::<u32>();
    let level = match total {
        t if t >= thresholds[0] => RatingLevel::FiveStars,
        t if t >= thresholds[1] => RatingLevel::FourStars,
        t if t >= thresholds[2] => RatingLevel::ThreeStars,
        t if t >= thresholds[3] => RatingLevel::TwoStars,
        _ => RatingLevel::OneStar,
    };
    (level, total, reasons)
}

/// The rule in words, with the configured numbers.
fn rule(config: &Config) -> String {
    let [five, four, three, two] = config.rating_star_thresholds;
    format!(
        "score = 40 × kept ÷ approved pledges + 30 × (satisfied + ½ basically satisfied) ÷ evaluated + \
         10 × help records ÷ {} a year per member helping a household (at most 10; full when none is expected) + \
         10 × answered ÷ received feedback (full when none) + 10 when no pledge is overdue; \
         five stars from {five}, four from {four}, three from {three}, two from {two}, else one star",
        config.rating_help_records_per_year
    )
}

/// Counts the pledges matching `condition` of `year`, their evaluations, overdue ones and
/// the feedback on them.
async fn pledge_evidence<C: ConnectionTrait>(
    db: &C,
    condition: Condition,
    year: i32,
    as_of: NaiveDate,
    e: &mut Evidence,
) -> Result<(), ApiError> {
    let public: Vec<PledgeState> = PledgeState::ALL.iter().copied().filter(|s| s.is_public()).collect();
    let of_year = Condition::all()
        .add(condition)
        .add(pledge::Column::Year.eq(year))
        .add(pledge::Column::State.is_in(public));
    let rows: Vec<(PledgeState, Option<EvaluationResult>, Option<NaiveDate>)> = pledge::Entity::find()
        .select_only()
        .column(pledge::Column::State)
        .column(pledge::Column::EvaluationResult)
        .column(pledge::Column::DueOn)
        .filter(of_year.clone())
        .into_tuple()
        .all(db)
        .await?;
    for (state, result, due_on) in rows {
        e.approved += 1;
        if matches!(state, PledgeState::Fulfilled | PledgeState::Evaluated) {
            e.kept += 1;
        }
        match result {
            Some(EvaluationResult::Satisfied) => e.satisfied += 1,
            Some(EvaluationResult::BasicallySatisfied) => e.basically_satisfied += 1,
            Some(EvaluationResult::Unsatisfied) | None => {}
        }
        e.evaluated += u64::from(result.is_some());
        if state.can_be_overdue() && due_on.is_some_and(|d| d < as_of) {
            e.overdue += 1;
        }
    }
    let pledges = Query::select()
        .column(pledge::Column::Id)
        .from(pledge::Entity)
        .cond_where(of_year)
        .to_owned();
    let received = feedback::Entity::find()
        .filter(Expr::col(feedback::Column::PledgeId).in_subquery(pledges))
        .filter(feedback::Column::Hidden.eq(false));
    e.feedback_received = received.clone().count(db).await?;
    e.feedback_answered = received.filter(feedback::Column::Reply.is_not_null()).count(db).await?;
    Ok(())
}

/// Counts the help records matching `records` dated in `year`, and how many the rule
/// expects of the members helping in `pairings` that year.
async fn help_evidence<C: ConnectionTrait>(
    db: &C,
    records: Condition,
    pairings: Condition,
    year: i32,
    per_year: u32,
    e: &mut Evidence,
) -> Result<(), ApiError> {
    let (first, last) = year_bounds(year);
    e.help_records = help_record::Entity::find()
        .filter(records)
        .filter(help_record::Column::Date.between(first, last))
        .count(db)
        .await?;
    let helpers: Vec<Option<Uuid>> = pairing::Entity::find()
        .select_only()
        .column(pairing::Column::MemberId)
        .distinct()
        .filter(pairings)
        .filter(pairing::Column::MemberId.is_not_null())
        .filter(pairing::Column::StartOn.lte(last))
        .filter(
            Condition::any()
                .add(pairing::Column::EndOn.is_null())
                .add(pairing::Column::EndOn.gte(first)),
        )
        .into_tuple()
        .all(db)
        .await?;
    e.help_expected = helpers.len() as u64 * u64::from(per_year);
    Ok(())
}

fn year_bounds(year: i32) -> (NaiveDate, NaiveDate) {
    (
        NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(NaiveDate::MIN),
        NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(NaiveDate::MAX),
    )
}

/// A suggested level (建议星级) for a member or a branch and year, with every count behind
/// it and the rule (configurable: `DANGJIAN_RATING_STAR_THRESHOLDS`,
/// `DANGJIAN_RATING_HELP_RECORDS_PER_YEAR`). Out of 100: 40 for pledges kept of those
/// approved; 30 for evaluations (satisfied counts whole, basically satisfied half); 10 for
/// help records against the yearly number expected of each member helping a household (full
/// when nobody helps); 10 for public feedback answered (full when none came); 10 when no
/// pledge is overdue. Five stars from 90, four from 80, three from 70, two from 60 (by
/// default), else one. For a branch, its subtree's pledges, help records and helpers count.
/// Never `unqualified`, and never applied by itself.
#[utoipa::path(tag = "ratings", security(("bearer" = [])), params(SuggestionParams), responses(
    (status = 200, description = "The suggestion and its evidence", body = RatingSuggestion),
    (status = 404, description = "Member or organisation not found in your scope", body = Problem, content_type = "application/problem+json"),
    (status = 400, description = "No year, not exactly one subject, or an organisation that is not rated", body = Problem, content_type = "application/problem+json"),
))]
#[get("/api/v1/ratings/suggestion")]
pub(super) async fn suggestion(
    state: web::Data<AppState>,
    user: AuthUser,
    crate::http::Query(params): crate::http::Query<SuggestionParams>,
) -> Result<Json<RatingSuggestion>, ApiError> {
    let year = params.year;
    crate::pledges::types::query_year(Some(year))?;
    let db = &state.db;
    let config = &state.config;
    let today = crate::db::now().date_naive();
    let as_of = Ord::min(today, year_bounds(year).1);
    let mut e = Evidence::default();
    let (subject, member_id, org_id, name) = match (params.member_id, params.org_id) {
        (Some(id), None) => {
            let member = crate::members::find(db, &MemberAccess::of(&user), id).await?;
            pledge_evidence(
                db,
                Condition::all().add(pledge::Column::MemberId.eq(member.id)),
                year,
                as_of,
                &mut e,
            )
            .await?;
            help_evidence(
                db,
                Condition::all().add(help_record::Column::MemberId.eq(member.id)),
                Condition::all().add(pairing::Column::MemberId.eq(member.id)),
                year,
                config.rating_help_records_per_year,
                &mut e,
            )
            .await?;
            (RatingSubject::Member, Some(member.id), None, member.name)
        }
        (None, Some(id)) => {
            let org = orgs::find(db, &user.scope(READERS), id).await?;
            if !matches!(org.kind, OrgKind::Branch | OrgKind::GeneralBranch) {
                return Err(ApiError::bad_request(
                    crate::error::ErrorCode::InvalidQuery,
                    text!("only branches and general branches are rated", "只评定党支部和党总支"),
                ));
            }
            let ids: Vec<Uuid> = orgs::subtree_at(db, &org.path)
                .await?
                .into_iter()
                .map(|o| o.id)
                .collect();
            let pledges = Condition::all().add(pledge::Column::OrgId.is_in(ids.clone()));
            pledge_evidence(db, pledges, year, as_of, &mut e).await?;
            help_evidence(
                db,
                Condition::all().add(help_record::Column::OrgId.is_in(ids.clone())),
                Condition::all().add(pairing::Column::OrgId.is_in(ids.clone())),
                year,
                config.rating_help_records_per_year,
                &mut e,
            )
            .await?;
            (RatingSubject::Org, None, Some(org.id), org.name)
        }
        _ => {
            return Err(ApiError::bad_request(
                crate::error::ErrorCode::InvalidQuery,
                text!(
                    "give exactly one of member_id and org_id",
                    "须且只能指定 member_id 或 org_id 之一"
                ),
            ));
        }
    };
    let (level, score, reasons) = score(&e, config.rating_star_thresholds);
    Ok(Json(RatingSuggestion {
        year,
        subject,
        member_id,
        org_id,
        subject_name: name,
        level,
        level_label: level.label().to_owned(),
        score,
        reasons,
        rule: rule(config),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_score_adds_up_its_parts_and_the_thresholds_pick_the_level() {
        let e = Evidence {
            approved: 3,
            kept: 2,
            evaluated: 1,
            satisfied: 1,
            overdue: 1,
            help_records: 2,
            help_expected: 4,
            feedback_received: 2,
            feedback_answered: 1,
            ..Evidence::default()
        };
        let (level, total, reasons) = score(&e, [90, 80, 70, 60]);
        let points: Vec<u32> = reasons.iter().map(|r| r.points).collect();
        assert_eq!(points, [27, 30, 5, 5, 0]);
        assert_eq!((level, total), (RatingLevel::TwoStars, 67));
        let (level, _, _) = score(&e, [90, 80, 70, 67]);
        assert_eq!(level, RatingLevel::TwoStars, "a threshold is reached at its value");
        // Nothing expected, nothing received, nothing approved: only those parts are full.
        let (level, total, _) = score(&Evidence::default(), [90, 80, 70, 60]);
        assert_eq!((level, total), (RatingLevel::OneStar, 30));
    }
}
