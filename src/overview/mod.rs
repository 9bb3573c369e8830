//! The overview (统计概览): a committee's whole programme on one screen — organisations,
//! members, the year's public pledges, last year's star ratings, pairings and the villages'
//! income — counted from the records of one subtree when asked.

pub mod types;

use std::collections::{HashMap, HashSet};

use actix_web::{HttpResponse, get, web};
use chrono::{Datelike, Months, NaiveDate};
use sea_orm::sea_query::{Asterisk, Condition, Expr, ExprTrait, Query as SqlQuery};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::auth::{Access, AuthUser};
use crate::error::{ApiError, Problem};
use crate::households::entity::household;
use crate::households::types::HouseholdStatus;
use crate::http::Query;
use crate::members::entity::member;
use crate::members::types::{Education, Gender, MemberStatus};
use crate::orgs::{OrgKind, entity as org, queries as orgs};
use crate::pairings::entity::pairing;
use crate::places::entity::village;
use crate::pledges::entity::{feedback, pledge};
use crate::pledges::lifecycle::PledgeState;
use crate::pledges::types::PledgeKind;
use crate::ratings::entity::rating;
use crate::ratings::types::{RatingState, RatingSubject};
use crate::state::AppState;
use types::*;

/// Who reads the overview of their subtree: the town, inspectors and secretaries.
pub const READERS: Access = crate::members::READERS;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(overview);
}

/// The programme of a subtree in a year, on one screen (统计概览): organisations by kind and
/// grid groups; members by status, rural, gender, age, education and years in the Party;
/// the year's public pledges (collective items, members who pledged, rural ones among them,
/// kept, overdue, feedback answered, villages on the board); the final ratings of the year
/// before per level; pairings; the villages' income against the target. Each figure's
/// definition is in its schema. Computed from the records (kept until the next write
/// anywhere); with the article's data (`dangjian seed-demo`) `?year=2017` gives its figures.
#[utoipa::path(tag = "overview", security(("bearer" = [])), params(OverviewParams), responses(
    (status = 200, description = "The overview", body = Overview),
    (status = 404, description = "Organisation not found in your scope", body = Problem, content_type = "application/problem+json"),
))]
#[get("/api/v1/stats/overview")]
async fn overview(
    state: web::Data<AppState>,
    user: AuthUser,
    Query(params): Query<OverviewParams>,
) -> Result<HttpResponse, ApiError> {
    let db = &state.db;
    let today = crate::db::now().date_naive();
    let year = crate::pledges::types::query_year(params.year)?.unwrap_or(today.year());
    let scope = user.scope(READERS);
    let key = format!("overview {:?} {:?} {year} {today}", scope.prefixes(), params.org_id);
    let compute = async {
        let ids = orgs::subtree_ids(db, &scope, params.org_id).await?;
        let as_of = Ord::min(today, NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(today));
        let tree = org_figures(db, &ids).await?;
        let target = crate::income::Target::of(&state.config);
        let income = crate::income::reports::summarise(db, target, &ids, year).await?;
        Ok(Overview {
            org_id: params.org_id,
            year,
            as_of,
            members: member_figures(db, &tree, &ids, as_of).await?,
            pledges: pledge_figures(db, &ids, year, &tree).await?,
            ratings: rating_figures(db, &ids, year - 1).await?,
            pairings: pairing_figures(db, &ids, as_of).await?,
            income: IncomeFigures {
                villages: income.villages,
                at_target: income.at_target,
                empty_shell: income.empty_shell,
                bands: income.bands,
                target_fen: income.target_fen,
                basis: income.basis,
            },
            orgs: tree.figures,
        })
    };
    state.computed.json(db, key, compute).await
}

/// The subtree's organisations as the other figures need them.
struct Tree {
    figures: OrgFigures,
    /// The branch each organisation counts for: itself, or a group's branch.
    branch_of: HashMap<Uuid, Uuid>,
    /// Groups of the subtree whose branch is not in it (a group's own overview).
    lone_groups: Vec<Uuid>,
}

async fn org_figures<C: ConnectionTrait>(db: &C, ids: &Option<Vec<Uuid>>) -> Result<Tree, ApiError> {
    let rows: Vec<(Uuid, OrgKind, Option<Uuid>, Option<Uuid>)> = org::Entity::find()
        .select_only()
        .columns([
            org::Column::Id,
            org::Column::Kind,
            org::Column::ParentId,
            org::Column::VillagerGroupId,
        ])
        .filter(org::Column::DeletedAt.is_null())
        .filter(orgs::ids_condition(ids, org::Column::Id))
        .into_tuple()
        .all(db)
        .await?;
    let count = |k: OrgKind| rows.iter().filter(|r| r.1 == k).count() as u64;
    let branch_of = rows
        .iter()
        .map(|(id, kind, parent, _)| match (kind, parent) {
            (OrgKind::Group, Some(p)) => (*id, *p),
            _ => (*id, *id),
        })
        .collect();
    let in_tree: HashSet<Uuid> = rows.iter().map(|r| r.0).collect();
    let lone_groups = rows
        .iter()
        .filter(|(_, kind, parent, _)| *kind == OrgKind::Group && parent.is_none_or(|p| !in_tree.contains(&p)))
        .map(|r| r.0)
        .collect();
    Ok(Tree {
        lone_groups,
        figures: OrgFigures {
            committees: count(OrgKind::Committee),
            general_branches: count(OrgKind::GeneralBranch),
            branches: count(OrgKind::Branch),
            groups: count(OrgKind::Group),
            grid_groups: rows.iter().filter(|r| r.1 == OrgKind::Group && r.3.is_some()).count() as u64,
        },
        branch_of,
    })
}

/// SQL: the band index (0, 1, …) of a date column: 0 when later than the first bound, 1 when
/// later than the second, and so on; the last index when none.
fn band_of(column: member::Column, bounds: &[NaiveDate]) -> Expr {
    let mut case = Expr::case(Expr::col(column).gt(bounds[0]), 0);
    for (i, bound) in bounds.iter().enumerate().skip(1) {
        case = case.case(Expr::col(column).gt(*bound), i as i32);
    }
    case.finally(bounds.len() as i32).into()
}

fn years_before(day: NaiveDate, years: u32) -> NaiveDate {
    day.checked_sub_months(Months::new(12 * years))
        .unwrap_or(NaiveDate::MIN)
}

/// Members counted by status, rural, gender, education, age band and Party-years band.
type MemberRow = (MemberStatus, bool, Gender, Option<Education>, i32, i32, i64);

async fn member_figures<C: ConnectionTrait>(
    db: &C,
    tree: &Tree,
    ids: &Option<Vec<Uuid>>,
    as_of: NaiveDate,
) -> Result<MemberFigures, ApiError> {
    // Age 35 or under: born after the day 36 years before; and so on.
    let age = band_of(
        member::Column::BirthDate,
        &[36, 46, 56, 66].map(|y| years_before(as_of, y)),
    );
    let party = band_of(
        member::Column::JoinedOn,
        &[5, 10, 20, 30].map(|y| years_before(as_of, y)),
    );
    let rows: Vec<MemberRow> = member::Entity::find()
        .select_only()
        .columns([
            member::Column::Status,
            member::Column::Rural,
            member::Column::Gender,
            member::Column::Education,
        ])
        .column_as(age, "age_band")
        .column_as(party, "party_band")
        .column_as(Expr::col(Asterisk).count(), "n")
        .filter(in_branch_or_group(
            tree,
            ids,
            member::Column::OrgId,
            member::Column::GroupId,
        ))
        .filter(member::Column::JoinedOn.lte(as_of))
        .filter(
            Condition::any()
                .add(member::Column::LeftOn.is_null())
                .add(member::Column::LeftOn.gt(as_of)),
        )
        .group_by(member::Column::Status)
        .group_by(member::Column::Rural)
        .group_by(member::Column::Gender)
        .group_by(member::Column::Education)
        // By the output names: repeating the expressions would bind their dates again, as
        // other parameters, which PostgreSQL does not take for the same expression.
        .group_by(Expr::cust("age_band"))
        .group_by(Expr::cust("party_band"))
        .into_tuple()
        .all(db)
        .await?;
    let sum = |f: &dyn Fn(&MemberRow) -> bool| rows.iter().filter(|r| f(r)).map(|r| r.6 as u64).sum::<u64>();
    Ok(MemberFigures {
        total: sum(&|_| true),
        full: sum(&|r| r.0 == MemberStatus::Full),
        probationary: sum(&|r| r.0 == MemberStatus::Probationary),
        rural: sum(&|r| r.1),
        by_gender: Gender::ALL
            .iter()
            .map(|&g| counted(g, g.label(), sum(&|r| r.2 == g)))
            .collect(),
        by_age: AgeBand::ALL
            .iter()
            .enumerate()
            .map(|(i, &b)| counted(b, b.label(), sum(&|r| r.4 == i as i32)))
            .collect(),
        by_education: Education::ALL
            .iter()
            .map(|&e| counted(e, e.label(), sum(&|r| r.3 == Some(e))))
            .collect(),
        education_unknown: sum(&|r| r.3.is_none()),
        by_party_years: PartyYearsBand::ALL
            .iter()
            .enumerate()
            .map(|(i, &b)| counted(b, b.label(), sum(&|r| r.5 == i as i32)))
            .collect(),
    })
}

/// SQL: a member's or pledge's branch (`org_id`) is one of `ids`, or its party group
/// (`group_id`) is one of the subtree's groups whose branch is outside it (a group's own
/// overview counts the group's members and their pledges). A subtree holding its groups'
/// branches needs no `group_id` test, which would keep PostgreSQL off the `org_id` indexes.
fn in_branch_or_group(
    tree: &Tree,
    ids: &Option<Vec<Uuid>>,
    org: impl ColumnTrait,
    group: impl ColumnTrait,
) -> Condition {
    let by_branch = orgs::ids_condition(ids, org);
    if tree.lone_groups.is_empty() {
        return by_branch;
    }
    Condition::any()
        .add(by_branch)
        .add(group.is_in(tree.lone_groups.iter().copied()))
}

fn counted<T>(value: T, label: &str, members: u64) -> Counted<T> {
    Counted {
        value,
        label: label.to_owned(),
        members,
    }
}

async fn pledge_figures<C: ConnectionTrait>(
    db: &C,
    ids: &Option<Vec<Uuid>>,
    year: i32,
    tree: &Tree,
) -> Result<PledgeFigures, ApiError> {
    let public: Vec<PledgeState> = PledgeState::ALL.iter().copied().filter(|s| s.is_public()).collect();
    let on_board = Condition::all()
        .add(in_branch_or_group(
            tree,
            ids,
            pledge::Column::OrgId,
            pledge::Column::GroupId,
        ))
        .add(pledge::Column::Year.eq(year))
        .add(pledge::Column::State.is_in(public.clone()));
    // Every pledge of the year by kind and state, with how many of them are overdue.
    let this_year = Condition::all()
        .add(in_branch_or_group(
            tree,
            ids,
            pledge::Column::OrgId,
            pledge::Column::GroupId,
        ))
        .add(pledge::Column::Year.eq(year));
    let overdue = Expr::case(crate::pledges::lists::overdue_condition(), 1).finally(0);
    let by_state: Vec<(PledgeKind, PledgeState, i64, i64)> = pledge::Entity::find()
        .select_only()
        .columns([pledge::Column::Kind, pledge::Column::State])
        .column_as(Expr::col(Asterisk).count(), "n")
        .column_as(crate::db::sum_i64(overdue.into()), "overdue")
        .filter(this_year)
        .group_by(pledge::Column::Kind)
        .group_by(pledge::Column::State)
        .into_tuple()
        .all(db)
        .await?;
    let count = |f: &dyn Fn(PledgeKind, PledgeState) -> bool| {
        by_state
            .iter()
            .filter(|(k, s, _, _)| s.is_public() && f(*k, *s))
            .map(|r| r.2 as u64)
            .sum::<u64>()
    };
    let overdue = by_state.iter().map(|r| r.3 as u64).sum::<u64>();
    // Members with a public pledge, and the rural ones among them: a hash semi-join of the
    // members with the year's pledges (a tenth of the time of two distinct counts).
    let pledged_members = SqlQuery::select()
        .column(pledge::Column::MemberId)
        .from(pledge::Entity)
        .cond_where(on_board.clone().add(pledge::Column::Kind.eq(PledgeKind::Individual)))
        .to_owned();
    let rural = Expr::case(member::Column::Rural.eq(true), 1).finally(0);
    let (members, rural): (i64, i64) = member::Entity::find()
        .select_only()
        .column_as(Expr::col(Asterisk).count(), "members")
        .column_as(crate::db::sum_i64(rural.into()), "rural")
        .filter(member::Column::Id.in_subquery(pledged_members))
        .into_tuple::<(i64, Option<i64>)>()
        .one(db)
        .await?
        .map(|(m, r)| (m, r.unwrap_or(0)))
        .unwrap_or((0, 0));
    let board_pledges = SqlQuery::select()
        .column(pledge::Column::Id)
        .from(pledge::Entity)
        .cond_where(on_board.clone())
        .to_owned();
    let (received, answered): (i64, i64) = feedback::Entity::find()
        .select_only()
        .column_as(Expr::col(Asterisk).count(), "received")
        .column_as(Expr::col(feedback::Column::Reply).count(), "answered")
        .filter(feedback::Column::Hidden.eq(false))
        .filter(feedback::Column::PledgeId.in_subquery(board_pledges))
        .into_tuple()
        .one(db)
        .await?
        .unwrap_or((0, 0));
    let pledging_orgs: Vec<Uuid> = pledge::Entity::find()
        .select_only()
        .column(pledge::Column::OrgId)
        .distinct()
        .filter(on_board)
        .into_tuple()
        .all(db)
        .await?;
    let branches: HashSet<Uuid> = pledging_orgs
        .iter()
        .map(|o| tree.branch_of.get(o).copied().unwrap_or(*o))
        .collect();
    let villages = if branches.is_empty() {
        0
    } else {
        village::Entity::find()
            .filter(village::Column::OrgId.is_in(branches))
            .count(db)
            .await?
    };
    Ok(PledgeFigures {
        public_items: count(&|_, _| true),
        collective_items: count(&|k, _| k == PledgeKind::Collective),
        members_pledged: members as u64,
        rural_members_pledged: rural as u64,
        fulfilled: count(&|_, s| matches!(s, PledgeState::Fulfilled | PledgeState::Evaluated)),
        evaluated: count(&|_, s| s == PledgeState::Evaluated),
        overdue,
        feedback_received: received as u64,
        feedback_answered: answered as u64,
        villages_on_board: villages,
    })
}

async fn rating_figures<C: ConnectionTrait>(
    db: &C,
    ids: &Option<Vec<Uuid>>,
    year: i32,
) -> Result<RatingFigures, ApiError> {
    let rows = crate::ratings::count_levels(
        db,
        Condition::all()
            .add(orgs::ids_condition(ids, rating::Column::OrgId))
            .add(rating::Column::Year.eq(year))
            .add(crate::ratings::state_condition(RatingState::Final, crate::db::now())),
    )
    .await?;
    Ok(RatingFigures {
        year,
        orgs: crate::ratings::level_counts(&rows, RatingSubject::Org),
        members: crate::ratings::level_counts(&rows, RatingSubject::Member),
    })
}

async fn pairing_figures<C: ConnectionTrait>(
    db: &C,
    ids: &Option<Vec<Uuid>>,
    as_of: NaiveDate,
) -> Result<PairingFigures, ApiError> {
    let active = || {
        Condition::all()
            .add(orgs::ids_condition(ids, pairing::Column::OrgId))
            .add(pairing::Column::StartOn.lte(as_of))
            .add(
                Condition::any()
                    .add(pairing::Column::EndOn.is_null())
                    .add(pairing::Column::EndOn.gte(as_of)),
            )
    };
    let distinct = |column: pairing::Column| {
        pairing::Entity::find()
            .select_only()
            .column_as(Expr::col(column).count_distinct(), "n")
            .filter(active())
            .into_tuple::<i64>()
            .one(db)
    };
    let members = distinct(pairing::Column::MemberId).await?.unwrap_or(0) as u64;
    let cadres = distinct(pairing::Column::CadreId).await?.unwrap_or(0) as u64;
    let paired = distinct(pairing::Column::HouseholdId).await?.unwrap_or(0) as u64;
    let needing = || {
        household::Entity::find()
            .filter(orgs::ids_condition(ids, household::Column::OrgId))
            .filter(household::Column::Status.is_in(HouseholdStatus::NEEDING_HELP.iter().copied()))
    };
    let needing_help = needing().count(db).await?;
    let helped = SqlQuery::select()
        .column(pairing::Column::HouseholdId)
        .from(pairing::Entity)
        .cond_where(active())
        .to_owned();
    let without = needing()
        .filter(household::Column::Id.not_in_subquery(helped))
        .count(db)
        .await?;
    Ok(PairingFigures {
        members_helping: members,
        cadres_helping: cadres,
        households_paired: paired,
        households_needing_help: needing_help,
        households_without_helper: without,
    })
}
