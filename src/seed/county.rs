//! `dangjian seed-county`: a deterministic county for load tests and benchmarks.
//!
//! ```text
//! root committee (the existing root, or 示范县委)     admin: town_admin (created if missing)
//! └── 20 towns (general_branch)                       bench_inspector: inspector of the whole tree
//!     └── 50 branches each (村/社区党支部)              sec.T.B: secretary of branch B of town T
//!         └── 1 party group each (第一党小组)           bench_sec, bench_leader, bench_member: branch 1.1
//! 50,000 members (5,000 in town 1, the county seat), 500,000 pledges over five years in
//! every state, their timelines, feedback
//! a village (or community) served by every branch, 3–8 villager groups each
//! 20,000 poor households, some with their people and incomes; cadre helpers
//! 8,000 pairings (active and ended), 200,000 help records    bench_helper.N: member helpers
//! star ratings of the 4 years before: every member and branch, final (or still on notice)
//! ```
//!
//! Members are made the way the API makes them: [`members::validate`] then
//! [`members::build_at`] (GB 11643 ID numbers, encrypted and hashed with the configured data
//! key, pinyin); households likewise through [`households::validate`] and
//! [`households::build`]; organisations get the paths [`crate::orgs::queries::insert`]
//! gives. Pairings keep the database's rules (one active pairing per helper and household,
//! one active primary per household). All of it is written in one [`Write`], in multi-row
//! INSERTs, and recorded as one audit event, `seed.county`.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, IntoActiveModel};
use serde::Serialize;
use uuid::Uuid;

use super::{SeedError, SplitMix64, rows_per_insert};
use crate::audit::{Event, Write};
use crate::auth::{Role, password};
use crate::households;
use crate::households::entity::{household, income, person};
use crate::households::types::{
    HouseholdAttribute, HouseholdStatus, LabourAbility, NewHousehold, NewPerson, PovertyCause, Relation,
};
use crate::income::entity::{project as income_project, record as finance_record, share as project_share};
use crate::income::types::{FinanceCategory, ProjectKind, ProjectStatus};
use crate::members::pii::DataKeys;
use crate::members::types::{Education, Gender, LeftReason, MemberStatus, NewMember, PostKind};
use crate::members::{self, entity::post};
use crate::orgs::{OrgKind, entity as org, queries as orgs};
use crate::pairings::entity::{cadre, help_record, pairing};
use crate::pairings::types::HelpKind;
use crate::places::VillageKind;
use crate::places::entity::{village, villager_group};
use crate::pledges::entity::{event, feedback, pledge};
use crate::pledges::lifecycle::PledgeState;
use crate::pledges::types::{EvaluationResult, PledgeKind};
use crate::ratings::entity::{event as rating_event, rating};
use crate::ratings::types::{RatingLevel, RatingState, RatingSubject};
use crate::users::entity::{grant, user};

/// How big a county to make: the options of `dangjian seed-county`, whose defaults (written
/// once, here) are the county of issue 10.
#[derive(Debug, Clone, clap::Args)]
pub struct CountyOptions {
    #[arg(long, default_value_t = 20)]
    pub towns: u32,
    #[arg(long, default_value_t = 50)]
    pub branches_per_town: u32,
    #[arg(long, default_value_t = 1)]
    pub groups_per_branch: u32,
    #[arg(long, default_value_t = 50_000)]
    pub members: u32,
    #[arg(long, default_value_t = 500_000)]
    pub pledges: u32,
    /// Pledges cover this many years, ending with the year of --as-of.
    #[arg(long, default_value_t = 5)]
    pub years: u32,
    /// Poor households (贫困户), spread over the branches' villages.
    #[arg(long, default_value_t = 20_000)]
    pub households: u32,
    /// Pairings of helpers with households (结对), active and ended; at most 3 per household.
    #[arg(long, default_value_t = 8_000)]
    pub pairings: u32,
    /// Help records (帮扶记录) logged on the pairings.
    #[arg(long, default_value_t = 200_000)]
    pub help_records: u32,
    /// Years of star ratings (星级评定), ending the year before --as-of: every member on the
    /// rolls that year and every branch, approved, noticed and (mostly) final.
    #[arg(long, default_value_t = 4)]
    pub rating_years: u32,
    /// The data set's today (YYYY-MM-DD; default: today): nothing is dated later. Same
    /// options, same data.
    #[arg(long, default_value_t = crate::db::now().date_naive())]
    pub as_of: NaiveDate,
    #[arg(long, default_value_t = 20_171_001)]
    pub seed: u64,
}

impl Default for CountyOptions {
    /// The command's defaults, as `dangjian seed-county` with no options has them.
    fn default() -> Self {
        use clap::{Args, FromArgMatches};
        let command = CountyOptions::augment_args(clap::Command::new("seed-county"));
        let matches = command.get_matches_from(["seed-county"]);
        match CountyOptions::from_arg_matches(&matches) {
            Ok(options) => options,
            Err(err) => unreachable!("the defaults parse: {err}"),
        }
    }
}

impl CountyOptions {
    fn check(&self) -> Result<(), SeedError> {
        let bad = |m: &str| Err(SeedError::Invalid(m.to_owned()));
        if !(1..=1000).contains(&self.towns) {
            return bad("--towns must be 1 to 1,000");
        }
        if !(1..=1000).contains(&self.branches_per_town) {
            return bad("--branches-per-town must be 1 to 1,000");
        }
        if self.groups_per_branch > 20 {
            return bad("--groups-per-branch must be 0 to 20");
        }
        if !(1..=2_000_000).contains(&self.members) {
            return bad("--members must be 1 to 2,000,000");
        }
        if self.pledges > 20_000_000 {
            return bad("--pledges must be at most 20,000,000");
        }
        if !(1..=20).contains(&self.years) {
            return bad("--years must be 1 to 20");
        }
        if self.households > 2_000_000 {
            return bad("--households must be at most 2,000,000");
        }
        if u64::from(self.pairings) > 3 * u64::from(self.households) {
            return bad("--pairings must be at most 3 per household (--households)");
        }
        if self.help_records > 20_000_000 || (self.help_records > 0 && self.pairings == 0) {
            return bad("--help-records must be at most 20,000,000, and needs pairings (--pairings)");
        }
        if self.rating_years > 20 || self.as_of.year() - (self.rating_years as i32) < 2000 {
            return bad("--rating-years must be 0 to 20, rating years from 2000 on");
        }
        if self.as_of > crate::db::now().date_naive() || self.as_of.year() - (self.years as i32) < 2000 {
            return bad("--as-of must not be in the future, and the pledge years must start in 2001 or later");
        }
        Ok(())
    }
}

/// What was made.
#[derive(Debug, Clone, Serialize)]
pub struct CountyReport {
    pub root_id: Uuid,
    pub towns: u64,
    pub branches: u64,
    pub groups: u64,
    pub members: u64,
    pub posts: u64,
    pub pledges: u64,
    pub pledge_events: u64,
    pub feedback: u64,
    pub villages: u64,
    pub villager_groups: u64,
    pub households: u64,
    pub household_people: u64,
    pub household_incomes: u64,
    pub cadres: u64,
    pub pairings: u64,
    /// Pairings without an end (the others are history).
    pub active_pairings: u64,
    pub help_records: u64,
    /// Star ratings of members and branches, and their timeline entries.
    pub ratings: u64,
    pub rating_events: u64,
    /// Villages' income-generating projects, the poor households sharing in them, and ledger
    /// records (reversing ones included).
    pub projects: u64,
    pub project_shares: u64,
    pub finance_records: u64,
    /// Accounts created, `(username, role)`.
    pub accounts: Vec<(String, String)>,
    /// The helper accounts (`bench_helper.N`, role member, linked to a member helper) and the
    /// active pairing of that member each may log help records on: `(username, pairing id)`.
    pub bench_helpers: Vec<(String, Uuid)>,
    /// The branch and group of the benchmark accounts (branch 1 of town 1).
    pub bench_branch_id: Uuid,
    pub bench_group_id: Option<Uuid>,
    /// The member `bench_member` is linked to.
    pub bench_member_id: Option<Uuid>,
    #[serde(skip)]
    pub elapsed: Duration,
}

impl CountyReport {
    /// A human-readable summary.
    pub fn summary(&self) -> String {
        let listed = |u: &str| !u.starts_with("sec.") && !u.starts_with(BENCH_HELPER);
        let secretaries = self.accounts.iter().filter(|(u, _)| u.starts_with("sec.")).count();
        let mut named: Vec<String> = self
            .accounts
            .iter()
            .filter(|(u, _)| listed(u))
            .map(|(u, r)| format!("{u} ({r})"))
            .collect();
        if !self.bench_helpers.is_empty() {
            named.push(format!(
                "{} member helpers ({BENCH_HELPER}1 to {BENCH_HELPER}{}, member)",
                self.bench_helpers.len(),
                self.bench_helpers.len()
            ));
        }
        format!(
            "Seeded a county in {:.1} s:\n  organisations: 1 root, {} towns, {} branches, {} groups\n  members: {} ({} posts)\n  pledges: {} ({} timeline entries, {} feedback messages)\n  households: {} ({} people, {} yearly incomes) in {} villages ({} villager groups)\n  pairings: {} ({} active; helpers: members and {} cadres), {} help records\n  ratings: {} ({} timeline entries)\n  finances: {} projects ({} sharing households), {} ledger records\n  accounts: {} branch secretaries (sec.<town>.<branch>), {}\n  benchmark branch (town 1, branch 1): {}",
            self.elapsed.as_secs_f64(),
            self.towns,
            self.branches,
            self.groups,
            self.members,
            self.posts,
            self.pledges,
            self.pledge_events,
            self.feedback,
            self.households,
            self.household_people,
            self.household_incomes,
            self.villages,
            self.villager_groups,
            self.pairings,
            self.active_pairings,
            self.cadres,
            self.help_records,
            self.ratings,
            self.rating_events,
            self.projects,
            self.project_shares,
            self.finance_records,
            secretaries,
            named.join(", "),
            self.bench_branch_id,
        )
    }
}

/// Fills an empty database (at most the bootstrap root and `admin`) with a county. Every
/// account created gets `password`; `admin` is created too if missing. All or nothing.
pub async fn seed(
    db: &DatabaseConnection,
    keys: &DataKeys,
    options: &CountyOptions,
    password: &str,
) -> Result<CountyReport, SeedError> {
    options.check()?;
    password::check_policy(password, "/password")?;
    let started = Instant::now();
    let plain = password.to_owned();
    let hash = actix_web::web::block(move || password::hash(&plain))
        .await
        .map_err(crate::error::ApiError::internal)??;

    let w = super::begin_on_empty(db).await?;
    let mut g = Generator::new(options, keys, hash);
    g.run(&w).await?;
    let mut report = g.report;
    let event = Event::new("seed.county", "org", report.root_id)
        .org(report.root_id)
        .after(&report);
    w.commit(event).await?;
    report.elapsed = started.elapsed();
    Ok(report)
}

/// What pledges need to know about a member.
struct MemberRef {
    id: Uuid,
    name: String,
    branch: usize,
    group_id: Option<Uuid>,
    joined: NaiveDate,
    left: Option<NaiveDate>,
}

struct Branch {
    id: Uuid,
    town: usize,
    /// The village or community, e.g. 大洼村.
    place: String,
    town_name: String,
    groups: Vec<Uuid>,
    secretary: Uuid,
    secretary_name: String,
}

/// A branch's village (or community) and its villager groups `(id, name)`.
struct VillageRef {
    id: Uuid,
    groups: Vec<(Uuid, String)>,
}

/// What pairings need to know about a household.
struct HouseholdRef {
    id: Uuid,
    branch: usize,
    /// In poverty, returned or monitored: should have an active helper.
    needs_help: bool,
    /// Its pairings start no earlier: the programme's start, or January of the year identified.
    first_day: NaiveDate,
}

/// A helper: a member (index into `members`) or a cadre.
#[derive(Clone, Copy, PartialEq)]
enum HelperRef {
    Member(usize),
    Cadre(Uuid),
}

struct PairingRef {
    row: pairing::Model,
    /// The household's branch.
    branch: usize,
    helper: HelperRef,
}

/// How many `bench_helper.N` accounts are made (fewer if fewer member helpers are active).
const BENCH_HELPERS: usize = 64;
const BENCH_HELPER: &str = "bench_helper.";

pub(super) struct Generator<'a> {
    opts: &'a CountyOptions,
    keys: &'a DataKeys,
    hash: String,
    rng: SplitMix64,
    /// When the programme started: organisations, accounts and member records date from then.
    start: DateTime<Utc>,
    /// The evening of `as_of`: nothing happens later.
    end: DateTime<Utc>,
    first_year: i32,
    pub(super) admin: Uuid,
    towns: Vec<org::Model>,
    branches: Vec<Branch>,
    members: Vec<MemberRef>,
    /// Every ID number given (members, heads of household, their people): none twice.
    id_numbers: HashSet<String>,
    /// The village of each branch (same index).
    villages: Vec<VillageRef>,
    households: Vec<HouseholdRef>,
    /// Cadre helpers of each town (same index as `towns`).
    cadres: Vec<Vec<Uuid>>,
    pairings: Vec<PairingRef>,
    /// The accounts linked to member helpers: member index → user id.
    helper_accounts: HashMap<usize, Uuid>,
    report: CountyReport,
}

pub(super) fn day_start(d: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default())
}

pub(super) fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

impl<'a> Generator<'a> {
    pub(super) fn new(opts: &'a CountyOptions, keys: &'a DataKeys, hash: String) -> Generator<'a> {
        let first_year = opts.as_of.year() - opts.years as i32 + 1;
        Generator {
            opts,
            keys,
            hash,
            rng: SplitMix64::new(opts.seed),
            start: day_start(date(first_year - 1, 12, 1)),
            end: day_start(opts.as_of) + chrono::Duration::hours(18),
            first_year,
            admin: Uuid::nil(),
            towns: Vec::new(),
            branches: Vec::new(),
            members: Vec::new(),
            id_numbers: HashSet::new(),
            villages: Vec::new(),
            households: Vec::new(),
            cadres: Vec::new(),
            pairings: Vec::new(),
            helper_accounts: HashMap::new(),
            report: CountyReport {
                root_id: Uuid::nil(),
                towns: 0,
                branches: 0,
                groups: 0,
                members: 0,
                posts: 0,
                pledges: 0,
                pledge_events: 0,
                feedback: 0,
                villages: 0,
                villager_groups: 0,
                households: 0,
                household_people: 0,
                household_incomes: 0,
                cadres: 0,
                pairings: 0,
                active_pairings: 0,
                help_records: 0,
                ratings: 0,
                rating_events: 0,
                projects: 0,
                project_shares: 0,
                finance_records: 0,
                accounts: Vec::new(),
                bench_helpers: Vec::new(),
                bench_branch_id: Uuid::nil(),
                bench_group_id: None,
                bench_member_id: None,
                elapsed: Duration::ZERO,
            },
        }
    }

    async fn run(&mut self, w: &Write) -> Result<(), SeedError> {
        let root = self.orgs(w).await?;
        self.admin(w, &root).await?;
        self.secretaries(w).await?;
        self.members(w).await?;
        self.bench_accounts(w, &root).await?;
        self.pledges(w).await?;
        self.places(w).await?;
        self.households(w).await?;
        self.cadres(w).await?;
        self.pairings(w).await?;
        self.helper_accounts(w).await?;
        self.help_records(w).await?;
        self.ratings(w).await?;
        self.finances(w).await?;
        Ok(())
    }

    /// The root (kept if the bootstrap made it), towns, branches and groups.
    async fn orgs(&mut self, w: &Write) -> Result<org::Model, SeedError> {
        let mut rng = self.rng.fork(1);
        let root = match orgs::root(w.db()).await? {
            Some(root) => root,
            None => orgs::insert(w, None, OrgKind::Committee, "示范县委".into(), None).await?,
        };
        self.report.root_id = root.id;
        let mut at = self.start;
        let mut tick = |rng: &mut SplitMix64| {
            at += chrono::Duration::milliseconds(1);
            (rng.uuid_v7(at), at)
        };
        // What `orgs::queries::insert` stores: the parent's path, the id, a slash.
        let new_org = |id: Uuid, at: DateTime<Utc>, parent: &org::Model, kind: OrgKind, name: String| org::Model {
            id,
            parent_id: Some(parent.id),
            kind,
            name,
            path: format!("{}{id}/", parent.path),
            villager_group_id: None,
            version: 1,
            created_at: at,
            updated_at: at,
            deleted_at: None,
        };
        let mut towns = Vec::new();
        for t in 0..self.opts.towns as usize {
            let (id, at) = tick(&mut rng);
            let base = TOWNS[t % TOWNS.len()];
            let name = if t < TOWNS.len() {
                format!("{base}镇党总支")
            } else {
                format!("{base}{}镇党总支", t / TOWNS.len() + 1)
            };
            towns.push(new_org(id, at, &root, OrgKind::GeneralBranch, name));
        }
        insert_all::<org::Entity, _>(w, towns.clone(), 10).await?;
        let mut branch_rows = Vec::new();
        let combos = PLACE_A.len() * PLACE_B.len();
        for (t, town) in towns.iter().enumerate() {
            let town_name = town.name.trim_end_matches("镇党总支").to_owned();
            for b in 0..self.opts.branches_per_town as usize {
                let (id, at) = tick(&mut rng);
                // A bijection of 0..combos (7 is prime to 600), shifted per town.
                let k = (b * 7 + t * 13) % combos;
                let mut place = format!("{}{}", PLACE_A[k / PLACE_B.len()], PLACE_B[k % PLACE_B.len()]);
                if b >= combos {
                    place.push_str(&(b / combos + 1).to_string());
                }
                place.push_str(if rng.chance(150) { "社区" } else { "村" });
                branch_rows.push(new_org(id, at, town, OrgKind::Branch, format!("{place}党支部")));
                self.branches.push(Branch {
                    id,
                    town: t,
                    place,
                    town_name: town_name.clone(),
                    groups: Vec::new(),
                    secretary: Uuid::nil(),
                    secretary_name: format!("sec.{}.{}", t + 1, b + 1),
                });
            }
        }
        insert_all::<org::Entity, _>(w, branch_rows.clone(), 10).await?;
        let mut group_rows = Vec::new();
        for (branch, row) in self.branches.iter_mut().zip(&branch_rows) {
            for n in 0..self.opts.groups_per_branch as usize {
                let (id, at) = tick(&mut rng);
                let name = format!("第{}党小组", NUMERALS[n.min(NUMERALS.len() - 1)]);
                group_rows.push(new_org(id, at, row, OrgKind::Group, name));
                branch.groups.push(id);
            }
        }
        self.report.towns = towns.len() as u64;
        self.report.branches = branch_rows.len() as u64;
        self.report.groups = group_rows.len() as u64;
        insert_all::<org::Entity, _>(w, group_rows, 10).await?;
        self.report.bench_branch_id = self.branches[0].id;
        self.report.bench_group_id = self.branches[0].groups.first().copied();
        self.towns = towns;
        Ok(root)
    }

    /// `admin` (town administrator on the root) unless the bootstrap made it.
    async fn admin(&mut self, w: &Write, root: &org::Model) -> Result<(), SeedError> {
        use sea_orm::{ColumnTrait, QueryFilter};
        let existing = user::Entity::find()
            .filter(user::Column::Username.eq("admin"))
            .one(w.db())
            .await?;
        self.admin = match existing {
            Some(admin) => admin.id,
            None => {
                let mut rng = self.rng.fork(2);
                let id = rng.uuid_v7(self.start);
                let grant = self.grant(&mut rng, id, Role::TownAdmin, root.id);
                insert_all::<user::Entity, _>(w, vec![self.account(id, "admin", root.id, None)], 10).await?;
                insert_all::<grant::Entity, _>(w, vec![grant], 5).await?;
                self.report
                    .accounts
                    .push(("admin".into(), Role::TownAdmin.as_str().into()));
                id
            }
        };
        Ok(())
    }

    fn account(&self, id: Uuid, username: &str, org_id: Uuid, member_id: Option<Uuid>) -> user::Model {
        user::Model {
            id,
            username: username.to_owned(),
            password_hash: self.hash.clone(),
            org_id,
            member_id,
            cadre_id: None,
            disabled: false,
            token_generation: 1,
            version: 1,
            created_at: self.start,
            updated_at: self.start,
        }
    }

    fn grant(&self, rng: &mut SplitMix64, user_id: Uuid, role: Role, org_id: Uuid) -> grant::Model {
        grant::Model {
            id: rng.uuid_v7(self.start),
            user_id,
            role,
            org_id,
            created_at: self.start,
        }
    }

    /// A secretary account per branch (`sec.T.B`): they wrote their branch's pledges.
    async fn secretaries(&mut self, w: &Write) -> Result<(), SeedError> {
        let mut rng = self.rng.fork(3);
        let mut users = Vec::new();
        let mut grants = Vec::new();
        for i in 0..self.branches.len() {
            let id = rng.uuid_v7(self.start);
            let (branch_id, name) = (self.branches[i].id, self.branches[i].secretary_name.clone());
            users.push(self.account(id, &name, branch_id, None));
            grants.push(self.grant(&mut rng, id, Role::BranchSecretary, branch_id));
            self.branches[i].secretary = id;
            self.report.accounts.push((name, Role::BranchSecretary.as_str().into()));
        }
        insert_all::<user::Entity, _>(w, users, 10).await?;
        insert_all::<grant::Entity, _>(w, grants, 5).await?;
        Ok(())
    }

    /// One account per role on branch 1 of town 1 (`bench_member` is its first active member).
    async fn bench_accounts(&mut self, w: &Write, root: &org::Model) -> Result<(), SeedError> {
        let mut rng = self.rng.fork(4);
        let branch = &self.branches[0];
        let member = self
            .members
            .iter()
            .find(|m| m.branch == 0 && m.left.is_none())
            .map(|m| m.id);
        let mut wanted = vec![
            ("bench_inspector", Role::Inspector, root.id, None),
            ("bench_sec", Role::BranchSecretary, branch.id, None),
        ];
        if let Some(group) = branch.groups.first() {
            wanted.push(("bench_leader", Role::GroupLeader, *group, None));
        }
        if let Some(member) = member {
            wanted.push(("bench_member", Role::Member, branch.id, Some(member)));
        }
        self.report.bench_member_id = member;
        let mut users = Vec::new();
        let mut grants = Vec::new();
        for (name, role, org_id, member_id) in wanted {
            let id = rng.uuid_v7(self.start);
            users.push(self.account(id, name, org_id, member_id));
            grants.push(self.grant(&mut rng, id, role, org_id));
            self.report.accounts.push((name.into(), role.as_str().into()));
        }
        insert_all::<user::Entity, _>(w, users, 10).await?;
        insert_all::<grant::Entity, _>(w, grants, 5).await?;
        Ok(())
    }

    /// Members, spread evenly over the branches, validated and built as the API does. Each
    /// branch's first member holds its secretary post, each group's first its leader post.
    async fn members(&mut self, w: &Write) -> Result<(), SeedError> {
        let mut rng = self.rng.fork(5);
        let mut seen = HashSet::new();
        let total = self.opts.members as usize;
        let nb = self.branches.len();
        let mut rows = Vec::with_capacity(500);
        let mut posts = Vec::new();
        let as_of = self.opts.as_of;
        let first_day = date(self.first_year, 1, 1);
        // Town 1 is the county seat: a tenth of the members (5,000 of 50,000), spread over
        // its branches; the others share the rest.
        let per_town = self.opts.branches_per_town as usize;
        let seat = if self.towns.len() > 1 { total / 10 } else { total };
        let mut placed = vec![0usize; nb];
        for i in 0..total {
            let b = if i < seat {
                i % per_town
            } else {
                per_town + (i - seat) % (nb - per_town)
            };
            let k = placed[b]; // place inside the branch
            placed[b] += 1;
            let branch = &self.branches[b];
            let group_id = if branch.groups.is_empty() || (k > branch.groups.len() && rng.chance(100)) {
                None
            } else {
                Some(branch.groups[k % branch.groups.len()])
            };
            let gender = if rng.chance(720) { Gender::Male } else { Gender::Female };
            // Ages 20–88, more of them older, as in rural branches.
            let age = 20 + ((rng.below(69) + rng.below(69)) / 2 + rng.below(20)).min(68) as i32;
            let birth = date(as_of.year() - age, 1, 1) + chrono::Days::new(rng.below(365));
            let adult = birth
                .with_year(birth.year() + 18)
                .unwrap_or_else(|| date(birth.year() + 18, 3, 1));
            // The third member of every branch and a few young ones joined within the last
            // year (probationary); the others any time after 18.
            let recent = rng.chance(30) && age < 40;
            let joined = if k == 2 || recent {
                (as_of - chrono::Days::new(rng.below(360))).max(adult)
            } else {
                let latest = (as_of - chrono::Days::new(400)).max(adult);
                let span = (latest - adult).num_days().clamp(0, 365 * 45);
                adult + chrono::Days::new(rng.below(span as u64 + 1))
            };
            let status = if as_of - joined < chrono::Duration::days(365) {
                MemberStatus::Probationary
            } else {
                MemberStatus::Full
            };
            let id_number = loop {
                let candidate = id_number(&mut rng, birth, gender);
                if seen.insert(candidate.clone()) {
                    break candidate;
                }
            };
            let name = person_name(&mut rng, gender);
            let phone = rng.chance(850).then(|| mobile(&mut rng));
            let input = NewMember {
                name,
                gender,
                birth_date: birth,
                id_number,
                joined_on: joined,
                status,
                org_id: branch.id,
                rural: !branch.place.ends_with("社区") || rng.chance(200),
                ethnicity: Some(
                    rng.weighted(&[(950, "汉族"), (20, "回族"), (15, "壮族"), (15, "满族")])
                        .into(),
                ),
                education: Some(rng.weighted(&[
                    (120, Education::Primary),
                    (300, Education::JuniorHigh),
                    (220, Education::SeniorHigh),
                    (100, Education::Vocational),
                    (130, Education::College),
                    (110, Education::Bachelor),
                    (20, Education::Master),
                ])),
                phone,
                address: Some(format!(
                    "{}镇{}{}组{}号",
                    branch.town_name,
                    branch.place,
                    rng.between(1, 12),
                    rng.between(1, 80)
                )),
                group_id,
                specialty: rng.chance(150).then(|| rng.pick(SPECIALTIES).to_string()),
                note: None,
            };
            let fields = members::validate(input)
                .map_err(|errors| SeedError::Invalid(format!("generated member {i} is invalid: {errors:?}")))?;
            let created = self.start.max(day_start(joined)) + chrono::Duration::milliseconds(i as i64);
            let id = rng.uuid_v7(created);
            let mut m = members::build_at(self.keys, fields, id, created);
            // About one in a hundred has left (transferred out, or died); never a post holder.
            let holds = if k == 0 {
                Some((PostKind::BranchSecretary, branch.id))
            } else if k <= branch.groups.len() {
                group_id.map(|g| (PostKind::GroupLeader, g))
            } else {
                None
            };
            let mut left = None;
            let earliest = (joined + chrono::Days::new(30)).max(first_day);
            if holds.is_none() && rng.chance(10) && earliest < as_of {
                let on = earliest + chrono::Days::new(rng.below((as_of - earliest).num_days() as u64));
                m.active = false;
                m.left_on = Some(on);
                m.left_reason = Some(if rng.chance(500) {
                    LeftReason::Deceased
                } else {
                    LeftReason::TransferredOut
                });
                m.version = 2;
                m.updated_at = day_start(on).max(created);
                left = Some(on);
            }
            if let Some((kind, org_id)) = holds {
                posts.push(post::Model {
                    id: rng.uuid_v7(created),
                    member_id: id,
                    kind,
                    title: None,
                    duty: None,
                    org_id,
                    start_on: joined.max(first_day),
                    end_on: None,
                    created_at: created,
                });
            }
            self.members.push(MemberRef {
                id,
                name: m.name.clone(),
                branch: b,
                group_id,
                joined,
                left,
            });
            rows.push(m);
            if rows.len() == 500 {
                members::insert_all(w, &rows).await?;
                rows.clear();
            }
        }
        members::insert_all(w, &rows).await?;
        self.id_numbers = seen;
        self.report.members = total as u64;
        self.report.posts = posts.len() as u64;
        insert_all::<post::Entity, _>(w, posts, 9).await?;
        Ok(())
    }

    /// Pledges: 4 % collective (branches, groups, towns), the others spread over the members
    /// and years; each with its timeline and final state; a few public ones have feedback.
    async fn pledges(&mut self, w: &Write) -> Result<(), SeedError> {
        let mut rng = self.rng.fork(6);
        let total = self.opts.pledges as usize;
        let collective = if self.members.is_empty() { total } else { total / 25 };
        let years = self.opts.years as usize;
        let names: HashMap<Uuid, String> = self
            .branches
            .iter()
            .map(|b| (b.secretary, b.secretary_name.clone()))
            .chain([(self.admin, "admin".to_string())])
            .collect();
        let mut out = Batches::default();
        for i in 0..total {
            let new = if i < collective {
                let nb = self.branches.len();
                let branch = &self.branches[i % nb];
                let year = self.first_year + ((i / nb) % years) as i32;
                let which = rng.below(10);
                let (org_id, group_id, author) = if which < 2 && !branch.groups.is_empty() {
                    let g = *rng.pick(&branch.groups);
                    (g, Some(g), branch.secretary)
                } else if which == 2 {
                    (self.towns[branch.town].id, None, self.admin)
                } else {
                    (branch.id, None, branch.secretary)
                };
                NewPledge {
                    kind: PledgeKind::Collective,
                    member_id: None,
                    org_id,
                    group_id,
                    author,
                    secretary: branch.secretary,
                    year,
                    state: None,
                }
            } else {
                let j = i - collective;
                let m = &self.members[j % self.members.len()];
                let mut year = self.first_year + ((j / self.members.len()) % years) as i32;
                year = year.max(m.joined.year());
                if let Some(left) = m.left {
                    year = year.min(left.year());
                }
                let branch = &self.branches[m.branch];
                NewPledge {
                    kind: PledgeKind::Individual,
                    member_id: Some(m.id),
                    org_id: branch.id,
                    group_id: m.group_id,
                    author: branch.secretary,
                    secretary: branch.secretary,
                    year,
                    state: None,
                }
            };
            self.pledge(&mut rng, &mut out, &names, new);
            if out.pledges.len() >= rows_per_insert(PLEDGE_COLUMNS) {
                out.flush(w, false).await?;
            }
        }
        out.flush(w, true).await?;
        self.report.pledges = out.written.0;
        self.report.pledge_events = out.written.1;
        self.report.feedback = out.written.2;
        Ok(())
    }

    /// One pledge, its way to its final state, its timeline, maybe feedback.
    pub(super) fn pledge(&self, rng: &mut SplitMix64, out: &mut Batches, names: &HashMap<Uuid, String>, p: NewPledge) {
        use PledgeState::*;
        let this_year = p.year == self.opts.as_of.year();
        let state = if let Some(state) = p.state {
            state
        } else if this_year {
            rng.weighted(&[
                (100, Draft),
                (100, Submitted),
                (50, Returned),
                (200, Approved),
                (300, InProgress),
                (150, Fulfilled),
                (70, Evaluated),
                (30, Withdrawn),
            ])
        } else {
            rng.weighted(&[
                (5, Draft),
                (10, Submitted),
                (20, Returned),
                (20, Approved),
                (50, InProgress),
                (100, Fulfilled),
                (750, Evaluated),
                (45, Withdrawn),
            ])
        };
        // The way there, one allowed transition after another (some returned once first).
        let mut path = vec![Draft];
        if state != Draft {
            if matches!(state, Approved | InProgress | Fulfilled | Evaluated) && rng.chance(80) {
                path.extend([Submitted, Returned]);
            }
            if !(state == Withdrawn && rng.chance(300)) {
                path.push(Submitted);
            }
            path.extend_from_slice(match state {
                Returned => &[Returned][..],
                Withdrawn => &[Withdrawn],
                Approved => &[Approved],
                InProgress => &[Approved, InProgress],
                Fulfilled => &[Approved, InProgress, Fulfilled],
                Evaluated => &[Approved, InProgress, Fulfilled, Evaluated],
                _ => &[],
            });
        }
        debug_assert!(
            path.windows(2)
                .all(|s| s[0].allowed().iter().any(|t| s[0].after(*t) == Some(s[1])))
        );
        let progress_reports = usize::from(matches!(state, InProgress | Fulfilled | Evaluated));
        let steps = path.len() + progress_reports;
        // Written early in the year; each step days or weeks after the last, none after `end`.
        let latest = self.end.min(day_start(date(p.year, 12, 31)));
        let created =
            (day_start(date(p.year, 1, 1)) + chrono::Duration::seconds(rng.between(0, 100 * 86_400))).min(latest);
        let room = (latest - created).num_seconds().max(steps as i64);
        let gap = (room / (steps as i64 + 1)).clamp(1, rng.between(3 * 86_400, 40 * 86_400));
        let id = rng.uuid_v7(created);
        let (title, content, category) = *rng.pick(PLEDGE_TEXTS);
        let due_on = rng.chance(900).then(|| {
            if rng.chance(600) {
                date(p.year, 12, 31)
            } else {
                date(p.year, *rng.pick(&[6, 9]), 30)
            }
        });
        let author = (p.author, names.get(&p.author).cloned().unwrap_or_default());
        let reviewer = (self.admin, "admin".to_string());
        let mut row = pledge::Model {
            id,
            year: p.year,
            kind: p.kind,
            member_id: p.member_id,
            org_id: p.org_id,
            group_id: p.group_id,
            title: title.to_owned(),
            content: content.to_owned(),
            category_code: category.to_owned(),
            villager_group_id: None,
            post_id: None,
            due_on,
            state,
            return_reason: None,
            evaluation_result: None,
            evaluation_comment: None,
            progress_percent: None,
            author_user_id: p.author,
            version: 1,
            created_at: created,
            updated_at: created,
        };
        let mut at = created;
        let mut entry = |rng: &mut SplitMix64,
                         at: DateTime<Utc>,
                         change: Option<(Option<PledgeState>, PledgeState)>,
                         note: Option<String>,
                         percentage: Option<i32>,
                         actor: &(Uuid, String)| {
            out.events.push(event::Model {
                id: rng.uuid_v7(at),
                pledge_id: id,
                kind: if change.is_some() { "state" } else { "progress" }.into(),
                from_state: change.and_then(|c| c.0),
                to_state: change.map(|c| c.1),
                note,
                percentage,
                evidence: None,
                actor_user_id: Some(actor.0),
                actor_name: Some(actor.1.clone()),
                occurred_at: at,
            });
        };
        entry(rng, at, Some((None, Draft)), None, None, &author);
        for pair in path.windows(2) {
            let (from, to) = (pair[0], pair[1]);
            if to == Fulfilled {
                at += chrono::Duration::seconds(gap);
                let pct = rng.between(5, 9) as i32 * 10;
                let note = rng.pick(PROGRESS_NOTES).to_string();
                entry(rng, at, None, Some(note), Some(pct), &author);
                row.progress_percent = Some(pct);
                row.version += 1;
            }
            at += chrono::Duration::seconds(gap);
            let mut note = None;
            match to {
                Returned => {
                    let reason = rng.pick(RETURN_REASONS).to_string();
                    row.return_reason = Some(reason.clone());
                    note = Some(reason);
                }
                Approved => row.return_reason = None,
                Fulfilled => row.progress_percent = Some(100),
                Evaluated => {
                    row.evaluation_result = Some(rng.weighted(&[
                        (750, EvaluationResult::Satisfied),
                        (200, EvaluationResult::BasicallySatisfied),
                        (50, EvaluationResult::Unsatisfied),
                    ]));
                    row.evaluation_comment = rng.chance(600).then(|| rng.pick(EVALUATION_COMMENTS).to_string());
                    note = row.evaluation_comment.clone();
                }
                _ => {}
            }
            // The branch (here the town administrator) reviews; nobody reviews what they wrote.
            let actor = if matches!(to, Approved | Returned | Evaluated) {
                &reviewer
            } else {
                &author
            };
            entry(rng, at, Some((Some(from), to)), note, None, actor);
            row.version += 1;
        }
        if state == InProgress {
            at += chrono::Duration::seconds(gap);
            let pct = rng.between(1, 8) as i32 * 10;
            let note = rng.pick(PROGRESS_NOTES).to_string();
            entry(rng, at, None, Some(note), Some(pct), &author);
            row.progress_percent = Some(pct);
            row.version += 1;
        }
        row.updated_at = at;
        // Public supervision: a few public pledges have a message, most answered by the branch.
        if state.is_public() && rng.chance(40) {
            let sent = (at + chrono::Duration::hours(2))
                .min(self.end - chrono::Duration::hours(1))
                .max(created);
            let fid = rng.uuid_v7(sent);
            let phone = rng.chance(300).then(|| mobile(rng));
            let replied = rng.chance(700);
            out.feedback.push(feedback::Model {
                id: fid,
                pledge_id: id,
                message: rng.pick(FEEDBACK).to_string(),
                sender_name: rng.chance(400).then(|| "村民".to_string()),
                phone_enc: phone.map(|p| self.keys.encrypt(&p, &format!("feedback:{fid}:phone"))),
                hidden: rng.chance(50),
                reply: replied.then(|| rng.pick(REPLIES).to_string()),
                replied_at: replied.then(|| (sent + chrono::Duration::minutes(30)).min(self.end)),
                replied_by: replied.then_some(p.secretary),
                created_at: sent,
            });
        }
        out.pledges.push(row);
    }

    /// A village (a community where the branch's place is one) for every branch, served by
    /// it, with 3 to 8 villager groups.
    async fn places(&mut self, w: &Write) -> Result<(), SeedError> {
        let mut rng = self.rng.fork(7);
        let mut villages = Vec::with_capacity(self.branches.len());
        let mut groups = Vec::new();
        for (b, branch) in self.branches.iter().enumerate() {
            let at = self.start + chrono::Duration::milliseconds(b as i64);
            let id = rng.uuid_v7(at);
            let kind = if branch.place.ends_with("社区") {
                VillageKind::Community
            } else {
                VillageKind::Village
            };
            villages.push(village::Model {
                id,
                kind,
                name: branch.place.clone(),
                org_id: branch.id,
                version: 1,
                created_at: at,
                updated_at: at,
            });
            let mut mine = Vec::new();
            for numeral in NUMERALS.iter().take(rng.between(3, 8) as usize) {
                let gid = rng.uuid_v7(at);
                let name = format!("{numeral}组");
                groups.push(villager_group::Model {
                    id: gid,
                    village_id: id,
                    name: name.clone(),
                    version: 1,
                    created_at: at,
                    updated_at: at,
                });
                mine.push((gid, name));
            }
            self.villages.push(VillageRef { id, groups: mine });
        }
        self.report.villages = insert_all::<village::Entity, _>(w, villages, 7).await?;
        self.report.villager_groups = insert_all::<villager_group::Entity, _>(w, groups, 6).await?;
        Ok(())
    }

    /// An ID number given to nobody else yet.
    fn new_id_number(&mut self, rng: &mut SplitMix64, birth: NaiveDate, gender: Gender) -> String {
        loop {
            let candidate = id_number(rng, birth, gender);
            if self.id_numbers.insert(candidate.clone()) {
                return candidate;
            }
        }
    }

    /// Poor households (建档立卡户) as identified from 2014 on (most in 2014), most of them
    /// lifted out of poverty since (2016 and 2017 most), some still poor, returned to poverty
    /// or monitored; validated and built as the API does. Four in ten list their people,
    /// six in ten a few years of per-capita income.
    async fn households(&mut self, w: &Write) -> Result<(), SeedError> {
        use HouseholdStatus::*;
        let mut rng = self.rng.fork(8);
        let total = self.opts.households as usize;
        if total == 0 {
            return Ok(());
        }
        // Branches have more or fewer poor households.
        let mut cumulative = Vec::with_capacity(self.branches.len());
        let mut sum = 0;
        for _ in &self.branches {
            sum += rng.between(10, 30) as u64;
            cumulative.push(sum);
        }
        let as_of = self.opts.as_of;
        let this_year = as_of.year();
        let window = self.start.date_naive();
        let mut out = HouseholdBatches::default();
        for i in 0..total {
            let x = rng.below(sum);
            let b = cumulative.partition_point(|c| *c <= x);
            let village = &self.villages[b];
            let (village_id, group) = (
                village.id,
                (!village.groups.is_empty() && rng.chance(900)).then(|| rng.pick(&village.groups).clone()),
            );
            let gender = if rng.chance(780) { Gender::Male } else { Gender::Female };
            let age = 28 + ((rng.below(59) + rng.below(59)) / 2 + rng.below(15)).min(58) as i32;
            let birth = date(this_year - age, 1, 1) + chrono::Days::new(rng.below(365));
            let id_number = self.new_id_number(&mut rng, birth, gender);
            let head_name = person_name(&mut rng, gender);
            let size = rng.weighted(&[
                (100, 1),
                (200, 2),
                (220, 3),
                (220, 4),
                (140, 5),
                (70, 6),
                (30, 7),
                (20, 8),
            ]);
            let identified_year = rng
                .weighted(&[(750, 2014), (120, 2015), (80, 2016), (50, 2017)])
                .min(this_year);
            let status = rng.weighted(&[(680, Lifted), (120, InPoverty), (50, Returned), (150, Monitored)]);
            let lifted = rng
                .weighted(&[(100, 2015), (400, 2016), (350, 2017), (100, 2018), (50, 2019)])
                .clamp(identified_year, this_year);
            // Returned households were lifted once; half the monitored ones too (脱贫不稳定户),
            // the others never poor (边缘易致贫户).
            let lifted_year = match status {
                Lifted | Returned => Some(lifted),
                Monitored => rng.chance(500).then_some(lifted),
                InPoverty => None,
            };
            let main_cause = rng.weighted(CAUSES);
            let mut secondary_causes = Vec::new();
            for _ in 0..rng.weighted(&[(400, 0), (400, 1), (200, 2)]) {
                let c = rng.weighted(CAUSES);
                if c != main_cause && !secondary_causes.contains(&c) {
                    secondary_causes.push(c);
                }
            }
            let branch = &self.branches[b];
            let input = NewHousehold {
                head_name: head_name.clone(),
                id_number: id_number.clone(),
                phone: rng.chance(600).then(|| mobile(&mut rng)),
                village_id,
                villager_group_id: group.as_ref().map(|g| g.0),
                address: rng.chance(800).then(|| {
                    format!(
                        "{}镇{}{}{}号",
                        branch.town_name,
                        branch.place,
                        group.as_ref().map(|g| g.1.as_str()).unwrap_or(""),
                        rng.between(1, 80)
                    )
                }),
                size,
                attribute: rng.weighted(&[
                    (700, HouseholdAttribute::Ordinary),
                    (220, HouseholdAttribute::LowIncome),
                    (80, HouseholdAttribute::Destitute),
                ]),
                main_cause,
                secondary_causes,
                identified_year,
                status,
                lifted_year,
                note: None,
            };
            let fields = households::validate(input)
                .map_err(|errors| SeedError::Invalid(format!("generated household {i} is invalid: {errors:?}")))?;
            let created = self.start + chrono::Duration::milliseconds(i as i64);
            let id = rng.uuid_v7(created);
            out.households
                .push(households::build(self.keys, fields, branch.id, id, created));
            if rng.chance(400) {
                let listed = rng.between(1, 4).min(i64::from(size)) as usize;
                for k in 0..listed {
                    let at = created + chrono::Duration::milliseconds(k as i64);
                    let p = self.household_person(&mut rng, k, &head_name, &id_number, gender, birth)?;
                    out.people
                        .push(households::build_person(self.keys, rng.uuid_v7(at), id, p, at));
                }
            }
            if rng.chance(600) {
                // Per-capita net income against the poverty line (about ¥2,800 in 2014).
                for year in identified_year..=this_year.min(identified_year + 3) {
                    let line = 280_000 + i64::from(year - 2014) * 12_000;
                    let above = (lifted_year.is_some_and(|l| year >= l) && status != Returned) || status == Monitored;
                    let percent = if above {
                        rng.between(110, 180)
                    } else {
                        rng.between(50, 95)
                    };
                    out.incomes.push(income::Model {
                        household_id: id,
                        year,
                        per_capita_fen: line * percent / 100,
                    });
                }
            }
            self.households.push(HouseholdRef {
                id,
                branch: b,
                needs_help: status != Lifted,
                first_day: window.max(date(identified_year, 1, 1)).min(as_of),
            });
            out.flush(w, false).await?;
        }
        out.flush(w, true).await?;
        (
            self.report.households,
            self.report.household_people,
            self.report.household_incomes,
        ) = out.written;
        Ok(())
    }

    /// Person `k` of a household: the head first, then a spouse, children or a parent.
    fn household_person(
        &mut self,
        rng: &mut SplitMix64,
        k: usize,
        head_name: &str,
        head_id: &str,
        head_gender: Gender,
        head_birth: NaiveDate,
    ) -> Result<households::PersonFields, SeedError> {
        let this_year = self.opts.as_of.year();
        let surname: String = head_name.chars().take(1).collect();
        let spouse = if head_gender == Gender::Male {
            Gender::Female
        } else {
            Gender::Male
        };
        let (relation, gender, birth) = match k {
            0 => (Relation::Head, head_gender, head_birth),
            1 if rng.chance(700) => (
                Relation::Spouse,
                spouse,
                head_birth + chrono::Days::new(rng.below(2000)),
            ),
            // A young head's parent, or (most often) a child.
            _ if this_year - head_birth.year() < 55 && rng.chance(300) => {
                let gender = if rng.chance(500) { Gender::Male } else { Gender::Female };
                (
                    Relation::Parent,
                    gender,
                    head_birth - chrono::Days::new(7300 + rng.below(4000)),
                )
            }
            _ => {
                let gender = if rng.chance(520) { Gender::Male } else { Gender::Female };
                // Born when the head was 20 to 35, and not after today.
                let earliest = head_birth + chrono::Days::new(7300);
                let room = (self.opts.as_of - earliest).num_days().clamp(1, 5500) as u64;
                let born = (earliest + chrono::Days::new(rng.below(room))).min(self.opts.as_of);
                (Relation::Child, gender, born)
            }
        };
        let age = this_year - birth.year();
        let name = match relation {
            Relation::Head => head_name.to_owned(),
            Relation::Child => {
                let given = if gender == Gender::Male { MALE } else { FEMALE };
                format!("{surname}{}{}", rng.pick(MIDDLE), rng.pick(given))
            }
            _ => person_name(rng, gender),
        };
        // Children under 16 often have no ID number recorded.
        let id_number = match relation {
            Relation::Head => Some(head_id.to_owned()),
            _ if age < 16 && rng.chance(500) => None,
            _ => Some(self.new_id_number(rng, birth, gender)),
        };
        let labour = if !(16..75).contains(&age) {
            LabourAbility::None
        } else if age >= 60 || rng.chance(200) {
            LabourAbility::Weak
        } else {
            LabourAbility::Strong
        };
        let input = NewPerson {
            name,
            relation,
            id_number,
            labour,
            health: Some(
                rng.weighted(&[(550, "健康"), (250, "长期慢性病"), (120, "大病"), (80, "残疾")])
                    .to_owned(),
            ),
            in_school: (6..=22).contains(&age) && rng.chance(850),
            working_away: (18..60).contains(&age) && relation != Relation::Head && rng.chance(400),
        };
        households::validate_person(input)
            .map_err(|errors| SeedError::Invalid(format!("a generated household member is invalid: {errors:?}")))
    }

    /// Cadre helpers (帮扶干部: county and town staff, resident work teams): one for about
    /// every 25 pairings, at least one per town, serving the town or one of its branches.
    async fn cadres(&mut self, w: &Write) -> Result<(), SeedError> {
        let mut rng = self.rng.fork(9);
        let towns = self.towns.len();
        self.cadres = vec![Vec::new(); towns];
        if self.opts.pairings == 0 {
            return Ok(());
        }
        let count = (self.opts.pairings as usize / 25).max(towns);
        let per_town = self.opts.branches_per_town as usize;
        let mut rows = Vec::with_capacity(count);
        for j in 0..count {
            let t = j % towns;
            let org_id = if rng.chance(600) {
                self.towns[t].id
            } else {
                self.branches[t * per_town + rng.below(per_town as u64) as usize].id
            };
            let at = self.start + chrono::Duration::milliseconds(j as i64);
            let id = rng.uuid_v7(at);
            let gender = if rng.chance(700) { Gender::Male } else { Gender::Female };
            let phone = rng.chance(700).then(|| mobile(&mut rng));
            rows.push(cadre::Model {
                id,
                org_id,
                name: person_name(&mut rng, gender),
                work_unit: rng.pick(WORK_UNITS).to_string(),
                post: rng.chance(800).then(|| rng.pick(CADRE_POSTS).to_string()),
                phone_enc: phone.map(|p| self.keys.encrypt(&p, &format!("cadre:{id}:phone"))),
                version: 1,
                created_at: at,
                updated_at: at,
            });
            self.cadres[t].push(id);
        }
        self.report.cadres = insert_all::<cadre::Entity, _>(w, rows, 9).await?;
        Ok(())
    }

    /// Pairings. Three quarters of the budget are the households' active primary pairings:
    /// households needing help first (except about one in twelve, left unpaired on purpose),
    /// then lifted ones that keep their helper (脱贫不脱帮扶); one in twenty a second, active
    /// helper; the rest history: primary helpers replaced earlier (each ended the day before
    /// the next began), and lifted households whose pairings have all ended. Helpers are
    /// mostly active members of the household's town (half of them of its branch), joined
    /// before the pairing began, else the town's cadres.
    async fn pairings(&mut self, w: &Write) -> Result<(), SeedError> {
        let mut rng = self.rng.fork(10);
        let budget = self.opts.pairings as usize;
        if budget == 0 || self.households.is_empty() {
            return Ok(());
        }
        let mut needing: Vec<usize> = (0..self.households.len())
            .filter(|h| self.households[*h].needs_help)
            .collect();
        let mut lifted: Vec<usize> = (0..self.households.len())
            .filter(|h| !self.households[*h].needs_help)
            .collect();
        shuffle(&mut rng, &mut needing);
        shuffle(&mut rng, &mut lifted);
        needing.truncate(needing.len() - needing.len() / 12);
        let actives = (budget * 3 / 4).max(1).min(needing.len() + lifted.len());
        let active: Vec<usize> = needing.iter().chain(&lifted).copied().take(actives).collect();
        let seconds = (budget / 20).min(actives);
        let ended = budget - actives - seconds;
        let lifted_ended: Vec<usize> = lifted
            .iter()
            .copied()
            .skip(actives.saturating_sub(needing.len()))
            .collect();
        let replaced = if lifted_ended.is_empty() { ended } else { ended / 2 };
        // Per household: (active primary, second helper, ended primaries).
        let mut plan = vec![(false, false, 0usize); self.households.len()];
        for (n, h) in active.iter().enumerate() {
            plan[*h].0 = true;
            plan[*h].1 = n < seconds;
        }
        for j in 0..replaced {
            plan[active[j % active.len()]].2 += 1;
        }
        for j in 0..ended - replaced {
            plan[lifted_ended[j % lifted_ended.len()]].2 += 1;
        }

        let nb = self.branches.len();
        let mut of_branch: Vec<Vec<usize>> = vec![Vec::new(); nb];
        let mut of_town: Vec<Vec<usize>> = vec![Vec::new(); self.towns.len()];
        for (i, m) in self.members.iter().enumerate() {
            if m.left.is_none() {
                of_branch[m.branch].push(i);
                of_town[self.branches[m.branch].town].push(i);
            }
        }
        let pools = HelperPools {
            of_branch,
            of_town,
            cadres: &self.cadres,
        };
        let as_of = self.opts.as_of;
        for (h, (primary_now, second, earlier)) in plan.into_iter().enumerate() {
            let hh = &self.households[h];
            let span = (as_of - hh.first_day).num_days() + 1;
            let chain = (earlier + usize::from(primary_now)).min(span as usize);
            if chain == 0 {
                continue;
            }
            // Start days, strictly increasing, early ones likelier (most pairings began with
            // the programme).
            let mut starts: Vec<i64> = (0..chain)
                .map(|_| rng.below(span as u64).min(rng.below(span as u64)) as i64)
                .collect();
            starts.sort_unstable();
            for j in 1..chain {
                starts[j] = starts[j].max(starts[j - 1] + 1);
            }
            for j in (0..chain).rev() {
                starts[j] = starts[j].min(span - (chain - j) as i64);
            }
            let town = self.branches[hh.branch].town;
            let mut previous = None;
            let mut current = None;
            for j in 0..chain {
                let start_on = hh.first_day + chrono::Days::new(starts[j] as u64);
                let Some(helper) = pools.pick(&mut rng, &self.members, hh.branch, town, start_on, previous) else {
                    continue;
                };
                let (end_on, end_reason) = if j + 1 < chain {
                    let next = hh.first_day + chrono::Days::new(starts[j + 1] as u64);
                    (Some(next - chrono::Days::new(1)), Some("更换主要帮扶责任人".to_owned()))
                } else if primary_now {
                    (None, None)
                } else {
                    let end = start_on + chrono::Days::new(rng.below((as_of - start_on).num_days() as u64 + 1));
                    (Some(end), Some(rng.pick(END_REASONS).to_string()))
                };
                let p = self.new_pairing(&mut rng, h, helper, true, start_on, end_on, end_reason);
                if end_on.is_none() {
                    current = Some((start_on, helper));
                }
                previous = Some(helper);
                self.pairings.push(p);
            }
            if let (true, Some((since, primary))) = (second, current) {
                let start_on = since + chrono::Days::new(rng.below((as_of - since).num_days() as u64 + 1));
                let hh = &self.households[h];
                if let Some(helper) = pools.pick(&mut rng, &self.members, hh.branch, town, start_on, Some(primary)) {
                    let p = self.new_pairing(&mut rng, h, helper, false, start_on, None, None);
                    self.pairings.push(p);
                }
            }
        }
        let rows: Vec<pairing::Model> = self.pairings.iter().map(|p| p.row.clone()).collect();
        self.report.active_pairings = rows.iter().filter(|p| p.end_on.is_none()).count() as u64;
        self.report.pairings = insert_all::<pairing::Entity, _>(w, rows, 10).await?;
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn new_pairing(
        &self,
        rng: &mut SplitMix64,
        h: usize,
        helper: HelperRef,
        is_primary: bool,
        start_on: NaiveDate,
        end_on: Option<NaiveDate>,
        end_reason: Option<String>,
    ) -> PairingRef {
        let hh = &self.households[h];
        let created_at = (day_start(start_on) + chrono::Duration::seconds(rng.between(8 * 3600, 18 * 3600)))
            .max(self.start)
            .min(self.end);
        let (member_id, cadre_id) = match helper {
            HelperRef::Member(i) => (Some(self.members[i].id), None),
            HelperRef::Cadre(c) => (None, Some(c)),
        };
        PairingRef {
            row: pairing::Model {
                id: rng.uuid_v7(created_at),
                household_id: hh.id,
                org_id: self.branches[hh.branch].id,
                member_id,
                cadre_id,
                is_primary,
                start_on,
                end_on,
                end_reason,
                created_at,
            },
            branch: hh.branch,
            helper,
        }
    }

    /// `bench_helper.N` (role member on their branch), each linked to a different member
    /// helper with an active pairing (not `bench_member`'s member): who log help records
    /// on their own pairings in the benchmark.
    async fn helper_accounts(&mut self, w: &Write) -> Result<(), SeedError> {
        let mut rng = self.rng.fork(12);
        let mut users = Vec::new();
        let mut grants = Vec::new();
        let mut taken = HashSet::new();
        for p in &self.pairings {
            if users.len() == BENCH_HELPERS {
                break;
            }
            let HelperRef::Member(m) = p.helper else { continue };
            let member = &self.members[m];
            if p.row.end_on.is_some() || Some(member.id) == self.report.bench_member_id || !taken.insert(m) {
                continue;
            }
            let name = format!("{BENCH_HELPER}{}", users.len() + 1);
            let id = rng.uuid_v7(self.start);
            let branch = self.branches[member.branch].id;
            users.push(self.account(id, &name, branch, Some(member.id)));
            grants.push(self.grant(&mut rng, id, Role::Member, branch));
            self.helper_accounts.insert(m, id);
            self.report.accounts.push((name.clone(), Role::Member.as_str().into()));
            self.report.bench_helpers.push((name, p.row.id));
        }
        insert_all::<user::Entity, _>(w, users, 10).await?;
        insert_all::<grant::Entity, _>(w, grants, 5).await?;
        Ok(())
    }

    /// Help records, spread over the pairings in proportion to how long each ran, dated
    /// within it; about one active pairing in eight has had none for 100 to 400 days (the
    /// households coverage lists as not visited). Helpers with an account logged their own;
    /// the branch secretary logged most of the others.
    async fn help_records(&mut self, w: &Write) -> Result<(), SeedError> {
        let mut rng = self.rng.fork(11);
        let total = u128::from(self.opts.help_records);
        if total == 0 || self.pairings.is_empty() {
            return Ok(());
        }
        let as_of = self.opts.as_of;
        let days = |p: &pairing::Model| (p.end_on.unwrap_or(as_of) - p.start_on).num_days() as u128 + 1;
        let all_days: u128 = self.pairings.iter().map(|p| days(&p.row)).sum();
        let (mut covered, mut given) = (0u128, 0u128);
        let mut rows = Vec::new();
        let mut written = 0;
        for p in &self.pairings {
            covered += days(&p.row);
            let upto = total * covered / all_days;
            let count = upto - given;
            given = upto;
            let last = match p.row.end_on {
                Some(end) => end,
                None if rng.chance(120) => {
                    (as_of - chrono::Days::new(rng.between(100, 400) as u64)).max(p.row.start_on)
                }
                None => as_of,
            };
            let span = (last - p.row.start_on).num_days() as u64 + 1;
            let own = match p.helper {
                HelperRef::Member(m) => self.helper_accounts.get(&m).copied(),
                HelperRef::Cadre(_) => None,
            };
            let secretary = self.branches[p.branch].secretary;
            for _ in 0..count {
                let day = p.row.start_on + chrono::Days::new(rng.below(span));
                let kind = rng.weighted(&[
                    (450, HelpKind::Visit),
                    (150, HelpKind::PolicyExplained),
                    (50, HelpKind::JobFound),
                    (80, HelpKind::SkillsTraining),
                    (100, HelpKind::Goods),
                    (70, HelpKind::Money),
                    (50, HelpKind::Medical),
                    (50, HelpKind::Other),
                ]);
                let (content, amount_fen) = match kind {
                    HelpKind::Visit => (rng.pick(VISITS), None),
                    HelpKind::PolicyExplained => (rng.pick(POLICIES), None),
                    HelpKind::JobFound => (rng.pick(JOBS), None),
                    HelpKind::SkillsTraining => (rng.pick(TRAININGS), None),
                    HelpKind::Goods => (rng.pick(GOODS), rng.chance(700).then(|| rng.between(50, 500) * 100)),
                    HelpKind::Money => (rng.pick(MONEY), Some(rng.between(200, 3000) * 100)),
                    HelpKind::Medical => (rng.pick(MEDICAL), None),
                    HelpKind::Other => (rng.pick(OTHER_HELP), None),
                };
                let created_at = (day_start(day) + chrono::Duration::seconds(rng.between(8 * 3600, 21 * 3600)))
                    .max(self.start)
                    .min(self.end);
                rows.push(help_record::Model {
                    id: rng.uuid_v7(created_at),
                    pairing_id: p.row.id,
                    household_id: p.row.household_id,
                    org_id: p.row.org_id,
                    member_id: p.row.member_id,
                    cadre_id: p.row.cadre_id,
                    date: day,
                    kind,
                    content: content.to_string(),
                    amount_fen,
                    evidence: None,
                    recorded_by: own.or_else(|| rng.chance(900).then_some(secretary)),
                    created_at,
                });
            }
            if rows.len() >= rows_per_insert(HELP_RECORD_COLUMNS) {
                written += insert_some::<help_record::Entity, _>(w, &mut rows, HELP_RECORD_COLUMNS, false).await?;
            }
        }
        written += insert_some::<help_record::Entity, _>(w, &mut rows, HELP_RECORD_COLUMNS, true).await?;
        self.report.help_records = written;
        Ok(())
    }
}

impl Generator<'_> {
    /// Star ratings of the `--rating-years` years before `as_of`'s: every member on the rolls
    /// at the year's end (proposed by the branch secretary) and every branch (proposed by the
    /// administrator), approved and published in January, final five days later (still on
    /// notice if that is after `as_of`), each with its timeline.
    async fn ratings(&mut self, w: &Write) -> Result<(), SeedError> {
        let mut rng = self.rng.fork(12);
        let last = self.opts.as_of.year() - 1;
        let first = last - self.opts.rating_years as i32 + 1;
        let mut batch = RatingBatches::default();
        for year in first..=last {
            let year_end = date(year, 12, 31);
            let proposed = (day_start(date(year + 1, 1, 5)) + chrono::Duration::hours(9)).min(self.end);
            let approved = (proposed + chrono::Duration::days(5)).min(self.end);
            let published = (approved + chrono::Duration::hours(2)).min(self.end);
            let ends = published + chrono::Duration::days(5);
            let times = RatingTimes {
                proposed,
                approved,
                published,
                ends,
                final_at: (ends <= self.end).then_some(ends),
            };
            for m in &self.members {
                if m.joined > year_end || m.left.is_some_and(|left| left <= year_end) {
                    continue;
                }
                let level = rng.weighted(&[
                    (150, RatingLevel::FiveStars),
                    (550, RatingLevel::FourStars),
                    (250, RatingLevel::ThreeStars),
                    (40, RatingLevel::TwoStars),
                    (5, RatingLevel::OneStar),
                    (5, RatingLevel::Unqualified),
                ]);
                let branch = &self.branches[m.branch];
                let subject = (Some(m.id), None, branch.id, m.name.clone());
                let proposer = (branch.secretary, branch.secretary_name.clone());
                batch.push(&mut rng, year, subject, level, proposer, (self.admin, &times));
            }
            for b in &self.branches {
                let level = rng.weighted(&[
                    (200, RatingLevel::FiveStars),
                    (500, RatingLevel::FourStars),
                    (250, RatingLevel::ThreeStars),
                    (50, RatingLevel::TwoStars),
                ]);
                let subject = (None, Some(b.id), b.id, format!("{}党支部", b.place));
                batch.push(
                    &mut rng,
                    year,
                    subject,
                    level,
                    (self.admin, "admin".into()),
                    (self.admin, &times),
                );
            }
            batch.flush(w, false).await?;
        }
        batch.flush(w, true).await?;
        (self.report.ratings, self.report.rating_events) = batch.written;
        Ok(())
    }
}

impl Generator<'_> {
    /// Every village's collective finances over the `--years` years: up to three projects
    /// (solar stations shared with poor households of the village), and each year's income
    /// (a level drawn per village so that every band and some empty-shell villages occur,
    /// growing a little each year), subsidies, expenditure and distribution; about one
    /// record in a hundred entered wrongly and reversed. Nothing is dated after `as_of`.
    async fn finances(&mut self, w: &Write) -> Result<(), SeedError> {
        let mut rng = self.rng.fork(13);
        let mut by_branch: HashMap<usize, Vec<Uuid>> = HashMap::new();
        for h in &self.households {
            by_branch.entry(h.branch).or_default().push(h.id);
        }
        let (mut projects, mut shares, mut records) = (Vec::new(), Vec::new(), Vec::new());
        let last_year = self.opts.as_of.year();
        for (b, v) in self.villages.iter().enumerate() {
            let org_id = self.branches[b].id;
            let place = &self.branches[b].place;
            let at = self.start + chrono::Duration::milliseconds(b as i64);
            let mut mine: Vec<(Uuid, ProjectKind)> = Vec::new();
            for n in 0..rng.weighted(&[(250, 0u32), (450, 1), (220, 2), (80, 3)]) {
                let kind = rng.weighted(&[
                    (400, ProjectKind::Photovoltaic),
                    (250, ProjectKind::Farming),
                    (100, ProjectKind::Rental),
                    (100, ProjectKind::Land),
                    (80, ProjectKind::Cooperative),
                    (50, ProjectKind::Enterprise),
                    (20, ProjectKind::Other),
                ]);
                let id = rng.uuid_v7(at);
                let (capacity, unit) = match kind {
                    ProjectKind::Photovoltaic => (Some(rng.between(30, 300) as f64), Some("kW".to_owned())),
                    ProjectKind::Farming | ProjectKind::Land => {
                        (Some(rng.between(20, 800) as f64), Some("亩".to_owned()))
                    }
                    _ => (None, None),
                };
                if kind == ProjectKind::Photovoltaic
                    && let Some(households) = by_branch.get(&b)
                {
                    for h in households.iter().take(rng.between(0, 12) as usize) {
                        shares.push(project_share::Model {
                            project_id: id,
                            household_id: *h,
                        });
                    }
                }
                projects.push(income_project::Model {
                    id,
                    village_id: v.id,
                    org_id,
                    name: format!("{place}{}{}", kind.label(), NUMERALS[n as usize]),
                    kind,
                    started_on: Some(date(rng.between(2012, 2016) as i32, rng.between(1, 12) as u32, 1)),
                    partner: (kind != ProjectKind::Photovoltaic).then(|| format!("{place}{}合作社", kind.label())),
                    capacity,
                    capacity_unit: unit,
                    invested_fen: Some(rng.between(100_000, 2_000_000) * 100),
                    status: if rng.chance(50) {
                        ProjectStatus::Stopped
                    } else {
                        ProjectStatus::Operating
                    },
                    note: None,
                    version: 1,
                    created_at: at,
                    updated_at: at,
                });
                mine.push((id, kind));
            }
            // The village's operating income in the first year, in yuan: 0 for empty shells.
            let band = rng.weighted(&[(60, 0usize), (250, 1), (350, 2), (290, 3), (50, 4)]);
            let (lo, hi) = [
                (0, 0),
                (5_000, 49_000),
                (50_000, 99_000),
                (100_000, 480_000),
                (500_000, 2_000_000),
            ][band];
            let mut level = rng.between(lo, hi);
            for year in self.first_year..=last_year {
                let days = if year == last_year {
                    self.opts.as_of.ordinal()
                } else {
                    365
                };
                let on = |rng: &mut SplitMix64| {
                    NaiveDate::from_yo_opt(year, rng.between(1, i64::from(days)) as u32).unwrap_or(self.opts.as_of)
                };
                let mut entries: Vec<(FinanceCategory, Option<Uuid>, i64)> = Vec::new();
                if level > 0 {
                    let mut left = level * 100;
                    for (project, _) in &mine {
                        let share = left / 2;
                        entries.push((FinanceCategory::Operating, Some(*project), share));
                        left -= share;
                    }
                    let parts = [
                        FinanceCategory::Contracting,
                        FinanceCategory::Investment,
                        FinanceCategory::Other,
                    ];
                    let part = *rng.pick(&parts);
                    let third = left / 3;
                    entries.push((part, None, third));
                    entries.push((FinanceCategory::Operating, None, left - third));
                }
                entries.push((FinanceCategory::Subsidy, None, rng.between(5_000, 60_000) * 100));
                let income: i64 = entries.iter().map(|e| e.2).sum();
                entries.push((FinanceCategory::ManagementExpense, None, income / 5));
                entries.push((FinanceCategory::PublicWelfare, None, income / 10));
                if level > 0 {
                    entries.push((FinanceCategory::OperatingExpense, None, income / 10));
                    if mine.iter().any(|(_, k)| *k == ProjectKind::Photovoltaic) {
                        entries.push((FinanceCategory::HouseholdDividend, None, income / 20));
                    }
                    entries.push((FinanceCategory::ReserveFund, None, income / 20));
                }
                for (category, project_id, fen) in entries {
                    if fen <= 0 {
                        continue;
                    }
                    let received_on = on(&mut rng);
                    let when = day_start(received_on) + chrono::Duration::hours(10);
                    let r = ledger_record(
                        &mut rng,
                        (v.id, org_id),
                        year,
                        (category, project_id, fen),
                        received_on,
                        self.branches[b].secretary,
                    );
                    if rng.chance(10) {
                        // Entered twice by mistake; the copy reversed the same day.
                        let copy_id = rng.uuid_v7(when);
                        let reversal_id = rng.uuid_v7(when);
                        records.push(finance_record::Model {
                            id: copy_id,
                            reversed_by_id: Some(reversal_id),
                            version: 2,
                            ..r.clone()
                        });
                        records.push(finance_record::Model {
                            id: reversal_id,
                            reverses_id: Some(copy_id),
                            note: Some("重复入账".to_owned()),
                            ..r.clone()
                        });
                    }
                    records.push(r);
                }
                level += level * rng.between(0, 20) / 100;
            }
        }
        self.report.projects = insert_all::<income_project::Entity, _>(w, projects, 16).await?;
        self.report.project_shares = insert_all::<project_share::Entity, _>(w, shares, 2).await?;
        // Reversing records after the records they reverse (the foreign key).
        records.sort_by_key(|r| r.reverses_id.is_some());
        self.report.finance_records = insert_all::<finance_record::Entity, _>(w, records, 17).await?;
        Ok(())
    }
}

/// A ledger record of the village `(village, its branch)`, entered by `recorded_by` on the
/// morning of the day the money came in or went out.
pub(super) fn ledger_record(
    rng: &mut SplitMix64,
    (village_id, org_id): (Uuid, Uuid),
    year: i32,
    (category, project_id, fen): (FinanceCategory, Option<Uuid>, i64),
    received_on: NaiveDate,
    recorded_by: Uuid,
) -> finance_record::Model {
    let when = day_start(received_on) + chrono::Duration::hours(10);
    finance_record::Model {
        id: rng.uuid_v7(when),
        village_id,
        org_id,
        year,
        flow: category.flow(),
        category,
        project_id,
        amount_fen: fen,
        received_on,
        note: None,
        reverses_id: None,
        reversed_by_id: None,
        recorded_by: Some(recorded_by),
        version: 1,
        created_at: when,
        updated_at: when,
    }
}

/// When a generated year of ratings was proposed, approved, published and made final.
pub(super) struct RatingTimes {
    pub proposed: DateTime<Utc>,
    pub approved: DateTime<Utc>,
    pub published: DateTime<Utc>,
    pub ends: DateTime<Utc>,
    /// `None`: still on notice at `as_of`.
    pub final_at: Option<DateTime<Utc>>,
}

const RATING_COLUMNS: usize = 21;
const RATING_EVENT_COLUMNS: usize = 9;

#[derive(Default)]
pub(super) struct RatingBatches {
    ratings: Vec<rating::Model>,
    events: Vec<rating_event::Model>,
    pub written: (u64, u64),
}

impl RatingBatches {
    /// One rating of `subject` `(member, rated organisation, scope organisation, name)` with
    /// its timeline.
    pub(super) fn push(
        &mut self,
        rng: &mut SplitMix64,
        year: i32,
        subject: (Option<Uuid>, Option<Uuid>, Uuid, String),
        level: RatingLevel,
        proposer: (Uuid, String),
        (admin, t): (Uuid, &RatingTimes),
    ) {
        let (member_id, subject_org_id, org_id, subject_name) = subject;
        let id = rng.uuid_v7(t.proposed);
        let score = match level {
            RatingLevel::FiveStars => rng.between(90, 100),
            RatingLevel::FourStars => rng.between(80, 89),
            RatingLevel::ThreeStars => rng.between(70, 79),
            RatingLevel::TwoStars => rng.between(60, 69),
            RatingLevel::OneStar | RatingLevel::Unqualified => rng.between(30, 59),
        } as i32;
        let state = if t.final_at.is_some() {
            RatingState::Final
        } else {
            RatingState::Noticed
        };
        self.ratings.push(rating::Model {
            id,
            year,
            subject: if member_id.is_some() {
                RatingSubject::Member
            } else {
                RatingSubject::Org
            },
            member_id,
            subject_org_id,
            org_id,
            subject_name,
            level,
            score: Some(score),
            remarks: None,
            evidence: None,
            state,
            return_reason: None,
            proposed_by: proposer.0,
            decided_by: Some(admin),
            notice_starts_at: Some(t.published),
            notice_ends_at: Some(t.ends),
            open_objections: 0,
            version: if t.final_at.is_some() { 4 } else { 3 },
            created_at: t.proposed,
            updated_at: t.final_at.unwrap_or(t.published),
        });
        use RatingState::*;
        let mut steps = vec![
            ("propose", None, Some(Proposed), t.proposed, Some(proposer)),
            (
                "approve",
                Some(Proposed),
                Some(Approved),
                t.approved,
                Some((admin, "admin".into())),
            ),
            (
                "publish",
                Some(Approved),
                Some(Noticed),
                t.published,
                Some((admin, "admin".into())),
            ),
        ];
        if let Some(at) = t.final_at {
            steps.push(("finalise", Some(Noticed), Some(Final), at, None));
        }
        for (kind, from, to, at, actor) in steps {
            self.events.push(rating_event::Model {
                id: rng.uuid_v7(at),
                rating_id: id,
                kind: kind.into(),
                from_state: from,
                to_state: to,
                note: None,
                actor_user_id: actor.as_ref().map(|a| a.0),
                actor_name: actor.map(|a| a.1),
                occurred_at: at,
            });
        }
    }

    /// Writes the ratings, then their timelines: all of it when `all`, else full statements.
    /// The last flush (`all`) counts the star board's tallies of everything written.
    pub(super) async fn flush(&mut self, w: &Write, all: bool) -> Result<(), SeedError> {
        self.written.0 += insert_some::<rating::Entity, _>(w, &mut self.ratings, RATING_COLUMNS, true).await?;
        self.written.1 +=
            insert_some::<rating_event::Entity, _>(w, &mut self.events, RATING_EVENT_COLUMNS, all).await?;
        if all {
            crate::ratings::tally::recount(w).await?;
        }
        Ok(())
    }
}

/// Who may help a household: active members of its branch and town, the town's cadres.
struct HelperPools<'c> {
    of_branch: Vec<Vec<usize>>,
    of_town: Vec<Vec<usize>>,
    cadres: &'c [Vec<Uuid>],
}

impl HelperPools<'_> {
    /// A helper for a pairing starting `on`: a member of the branch or town who had joined
    /// by then (four in five), else a cadre of the town; never `not`.
    fn pick(
        &self,
        rng: &mut SplitMix64,
        members: &[MemberRef],
        branch: usize,
        town: usize,
        on: NaiveDate,
        not: Option<HelperRef>,
    ) -> Option<HelperRef> {
        if rng.chance(800) {
            for _ in 0..8 {
                let pool = if rng.chance(500) {
                    &self.of_branch[branch]
                } else {
                    &self.of_town[town]
                };
                if pool.is_empty() {
                    continue;
                }
                let m = *rng.pick(pool);
                if members[m].joined <= on && not != Some(HelperRef::Member(m)) {
                    return Some(HelperRef::Member(m));
                }
            }
        }
        let cadres = &self.cadres[town];
        for _ in 0..8 {
            if cadres.is_empty() {
                break;
            }
            let c = HelperRef::Cadre(*rng.pick(cadres));
            if not != Some(c) {
                return Some(c);
            }
        }
        // A town whose only cadre is taken: any member of the town who had joined.
        self.of_town[town]
            .iter()
            .map(|m| HelperRef::Member(*m))
            .find(|h| matches!(h, HelperRef::Member(m) if members[*m].joined <= on) && not != Some(*h))
    }
}

/// Fisher–Yates, with the generator's randomness.
fn shuffle<T>(rng: &mut SplitMix64, items: &mut [T]) {
    for i in (1..items.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        items.swap(i, j);
    }
}

const HOUSEHOLD_COLUMNS: usize = 21;
const PERSON_COLUMNS: usize = 10;
const INCOME_COLUMNS: usize = 3;
const HELP_RECORD_COLUMNS: usize = 14;

/// Households, their people and incomes waiting for their multi-row INSERTs.
#[derive(Default)]
struct HouseholdBatches {
    households: Vec<household::Model>,
    people: Vec<person::Model>,
    incomes: Vec<income::Model>,
    written: (u64, u64, u64),
}

impl HouseholdBatches {
    /// Writes full statements (all rows when `all`); the households first, as the others
    /// refer to them.
    async fn flush(&mut self, w: &Write, all: bool) -> Result<(), SeedError> {
        let full = |len: usize, columns: usize| all || len >= rows_per_insert(columns);
        if full(self.households.len(), HOUSEHOLD_COLUMNS)
            || full(self.people.len(), PERSON_COLUMNS)
            || full(self.incomes.len(), INCOME_COLUMNS)
        {
            self.written.0 +=
                insert_some::<household::Entity, _>(w, &mut self.households, HOUSEHOLD_COLUMNS, true).await?;
            self.written.1 += insert_some::<person::Entity, _>(w, &mut self.people, PERSON_COLUMNS, all).await?;
            self.written.2 += insert_some::<income::Entity, _>(w, &mut self.incomes, INCOME_COLUMNS, all).await?;
        }
        Ok(())
    }
}

pub(super) struct NewPledge {
    pub kind: PledgeKind,
    pub member_id: Option<Uuid>,
    pub org_id: Uuid,
    pub group_id: Option<Uuid>,
    pub author: Uuid,
    /// The secretary of the branch concerned: answers its feedback.
    pub secretary: Uuid,
    pub year: i32,
    /// The state it ends in (default: drawn, as a year's pledges are spread).
    pub state: Option<PledgeState>,
}

const PLEDGE_COLUMNS: usize = 21;
const EVENT_COLUMNS: usize = 11;
const FEEDBACK_COLUMNS: usize = 10;

/// Rows waiting for their multi-row INSERT, and how many of each were written.
#[derive(Default)]
pub(super) struct Batches {
    pub pledges: Vec<pledge::Model>,
    events: Vec<event::Model>,
    feedback: Vec<feedback::Model>,
    pub written: (u64, u64, u64),
}

impl Batches {
    /// Writes the pledges, then the timelines and feedback that refer to them: all of it when
    /// `all`, else only full statements.
    pub(super) async fn flush(&mut self, w: &Write, all: bool) -> Result<(), SeedError> {
        self.written.0 += insert_some::<pledge::Entity, _>(w, &mut self.pledges, PLEDGE_COLUMNS, true).await?;
        self.written.1 += insert_some::<event::Entity, _>(w, &mut self.events, EVENT_COLUMNS, all).await?;
        self.written.2 += insert_some::<feedback::Entity, _>(w, &mut self.feedback, FEEDBACK_COLUMNS, all).await?;
        Ok(())
    }
}

/// Inserts `rows` in statements of [`rows_per_insert`] rows; unless `all`, the rows of a last
/// partial statement stay in `rows`. Returns how many were written.
async fn insert_some<E, M>(w: &Write, rows: &mut Vec<M>, columns: usize, all: bool) -> Result<u64, SeedError>
where
    E: EntityTrait<Model = M>,
    M: IntoActiveModel<E::ActiveModel> + Clone,
    E::ActiveModel: ActiveModelTrait<Entity = E> + Send,
{
    let size = rows_per_insert(columns);
    let whole = if all { rows.len() } else { rows.len() / size * size };
    for chunk in rows[..whole].chunks(size) {
        // `reset_all`: every column is written, as a plain INSERT of the whole row.
        E::insert_many(chunk.iter().map(|m| m.clone().into_active_model().reset_all()))
            .exec_without_returning(w.db())
            .await?;
    }
    rows.drain(..whole);
    Ok(whole as u64)
}

pub(super) async fn insert_all<E, M>(w: &Write, mut rows: Vec<M>, columns: usize) -> Result<u64, SeedError>
where
    E: EntityTrait<Model = M>,
    M: IntoActiveModel<E::ActiveModel> + Clone,
    E::ActiveModel: ActiveModelTrait<Entity = E> + Send,
{
    insert_some::<E, M>(w, &mut rows, columns, true).await
}

/// A GB 11643 ID number: a region code of the county (mostly), the birth date, a sequence
/// number odd for men and even for women, and the MOD 11-2 check character.
pub fn id_number(rng: &mut SplitMix64, birth: NaiveDate, gender: Gender) -> String {
    let region = rng.weighted(&[
        (900, "340822"),
        (40, "340811"),
        (30, "340826"),
        (20, "340102"),
        (10, "110105"),
    ]);
    id_number_in(rng, region, birth, gender)
}

/// A GB 11643 ID number of the region `region` (six digits).
pub fn id_number_in(rng: &mut SplitMix64, region: &str, birth: NaiveDate, gender: Gender) -> String {
    let seq = rng.below(500) as u32 * 2 + u32::from(gender == Gender::Male);
    let body = format!("{region}{}{seq:03}", birth.format("%Y%m%d"));
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let sum: u32 = body.bytes().zip(WEIGHTS).map(|(d, w)| u32::from(d - b'0') * w).sum();
    format!("{body}{}", CHECK[(sum % 11) as usize] as char)
}

pub(super) fn mobile(rng: &mut SplitMix64) -> String {
    let prefix = rng.pick(&["135", "136", "138", "139", "150", "151", "158", "177", "180", "189"]);
    format!("{prefix}{:08}", rng.below(100_000_000))
}

pub(super) fn person_name(rng: &mut SplitMix64, gender: Gender) -> String {
    let surname = rng.pick(SURNAMES);
    let given = if gender == Gender::Male { MALE } else { FEMALE };
    if rng.chance(650) {
        format!("{surname}{}{}", rng.pick(MIDDLE), rng.pick(given))
    } else {
        format!("{surname}{}", rng.pick(given))
    }
}

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林",
    "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾", "程", "汪", "江", "方", "储", "查",
    "潘", "檀",
];
const MALE: &[&str] = &[
    "军", "伟", "强", "磊", "洋", "勇", "杰", "涛", "明", "超", "刚", "平", "辉", "鹏", "华", "飞", "鑫", "波", "斌",
    "宇", "浩", "凯", "健", "俊", "帆", "旭", "宁", "龙", "林", "峰",
];
const FEMALE: &[&str] = &[
    "芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "秀", "英", "慧", "玲", "燕", "红", "梅", "兰", "萍", "婷", "雪",
    "琳", "洁", "莉", "倩", "琴", "云",
];
const MIDDLE: &[&str] = &[
    "建", "国", "志", "文", "德", "新", "春", "海", "永", "玉", "金", "小", "晓", "立", "少", "家", "继", "长", "先",
    "光",
];
const TOWNS: &[&str] = &[
    "高河", "石牌", "月山", "洪铺", "江镇", "公岭", "黄龙", "小市", "平山", "马庙", "金拱", "秀山", "清河", "雷埠",
    "茶岭", "三桥", "凉亭", "石镜", "黄墩", "龙山", "独秀", "腊树", "五横", "海口",
];
const PLACE_A: &[&str] = &[
    "大", "小", "东", "西", "南", "北", "新", "老", "上", "下", "前", "后", "石", "山", "河", "桥", "杨", "柳", "黄",
    "白", "青", "龙", "凤", "桃", "李", "马", "牛", "金", "银", "长",
];
const PLACE_B: &[&str] = &[
    "洼", "庄", "岗", "湾", "冲", "畈", "岭", "圩", "塘", "桥", "铺", "店", "埠", "墩", "山", "河", "林", "园", "坝",
    "集",
];
const NUMERALS: &[&str] = &[
    "一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二", "十三", "十四", "十五", "十六", "十七",
    "十八", "十九", "二十",
];
const SPECIALTIES: &[&str] = &[
    "水稻种植",
    "茶叶加工",
    "水产养殖",
    "电工",
    "农机维修",
    "家政服务",
    "电商",
];

/// `(title, content, category)`
const PLEDGE_TEXTS: &[(&str, &str, &str)] = &[
    (
        "为困难群众代办事项",
        "年内为本组困难群众代办医保、低保等事项，做到随叫随到",
        "serve_people",
    ),
    (
        "走访联系户",
        "每月走访联系户不少于两次，帮助解决实际困难",
        "serve_people",
    ),
    (
        "清理村民组垃圾死角",
        "组织党员每季度清理一次村民组垃圾死角和河塘漂浮物",
        "environment",
    ),
    ("落实门前三包", "带头落实门前三包，带动周边农户美化庭院", "environment"),
    (
        "修复村民组道路",
        "年内修复村民组主干道 800 米，保障群众出行",
        "infrastructure",
    ),
    ("安装路灯", "协调资金在村民组安装太阳能路灯 20 盏", "infrastructure"),
    (
        "结对帮扶脱贫户",
        "结对帮扶两户脱贫户，帮助发展庭院经济",
        "poverty_relief",
    ),
    ("助学帮困", "资助一名困难家庭学生完成学业", "poverty_relief"),
    ("化解邻里纠纷", "参与调解邻里纠纷，做到小事不出组", "mediation"),
    ("发展特色种植", "带头发展特色种植 20 亩，带动五户群众增收", "industry"),
    ("村集体经济增收", "协助村集体盘活闲置资产，增加集体收入", "industry"),
    ("义务宣讲政策", "每季度向群众宣讲一次惠民政策", "other"),
];
const RETURN_REASONS: &[&str] = &["请写明完成时限", "承诺内容不够具体，请补充", "请说明所需经费来源"];
const EVALUATION_COMMENTS: &[&str] = &[
    "群众评价良好",
    "按期兑现",
    "基本完成，个别事项待跟进",
    "群众有意见，需改进",
];
const PROGRESS_NOTES: &[&str] = &[
    "已完成大部分工作",
    "正在推进",
    "已走访完毕，正在落实",
    "材料已采购，开始施工",
];
const FEEDBACK: &[&str] = &[
    "路灯已经修好了，谢谢！",
    "道路还有一段没修完",
    "服务很及时，点赞",
    "希望尽快落实",
];
const REPLIES: &[&str] = &["感谢监督，我们会抓紧落实", "已安排专人跟进", "谢谢您的肯定"];

const CAUSES: &[(u64, PovertyCause)] = &[
    (300, PovertyCause::Illness),
    (120, PovertyCause::Disability),
    (80, PovertyCause::Schooling),
    (30, PovertyCause::Disaster),
    (120, PovertyCause::LackOfLabour),
    (100, PovertyCause::LackOfSkills),
    (120, PovertyCause::LackOfFunds),
    (30, PovertyCause::LackOfLand),
    (20, PovertyCause::LackOfWater),
    (30, PovertyCause::PoorTransport),
    (50, PovertyCause::LackOfDrive),
];
const WORK_UNITS: &[&str] = &[
    "县农委",
    "县财政局",
    "县人社局",
    "县卫计委",
    "县教育局",
    "县交通局",
    "县扶贫办",
    "县农商行",
    "县供电公司",
    "镇政府",
];
const CADRE_POSTS: &[&str] = &["驻村扶贫工作队员", "选派第一书记", "科员", "副局长", "镇扶贫专干"];
const END_REASONS: &[&str] = &["已稳定脱贫，结对结束", "帮扶责任人工作调动", "结对调整"];
const VISITS: &[&str] = &[
    "入户走访，了解家庭近况",
    "走访了解春耕资金缺口，协助申请小额信贷",
    "节日走访慰问",
    "了解子女就学情况",
];
const POLICIES: &[&str] = &["宣讲健康脱贫政策", "讲解产业奖补政策，协助填写申请", "宣讲教育资助政策"];
const JOBS: &[&str] = &[
    "联系县城工业园就业岗位",
    "推荐到村扶贫车间务工",
    "介绍公益性岗位（护林员）",
];
const TRAININGS: &[&str] = &[
    "组织参加茶叶种植技术培训",
    "推荐参加电商培训班",
    "联系农技员上门指导养殖",
];
const GOODS: &[&str] = &["送去米、油等生活物资", "送去化肥和种子", "送去冬衣棉被"];
const MONEY: &[&str] = &["发放慰问金", "协助申请小额信贷贴息", "落实产业奖补资金"];
const MEDICAL: &[&str] = &["协助办理大病救助", "陪同到县医院就诊", "协助办理慢性病卡"];
const OTHER_HELP: &[&str] = &["帮助修缮房屋", "协调解决饮水问题", "帮助销售农产品"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_id_numbers_are_valid_and_match_birth_and_gender() {
        let mut rng = SplitMix64::new(1);
        for i in 0..2000 {
            let birth = date(1950, 1, 1) + chrono::Days::new(i * 13);
            let gender = if i % 2 == 0 { Gender::Male } else { Gender::Female };
            let id = id_number(&mut rng, birth, gender);
            let (id, parsed) = crate::members::checks::parse_id_number(&id).expect("valid");
            assert_eq!(parsed, birth);
            assert_eq!((id.as_bytes()[16] - b'0') % 2 == 1, gender == Gender::Male);
        }
    }
}
