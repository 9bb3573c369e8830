//! `dangjian seed-demo`: 平山镇 (Pingshan town, Huaining county) in 2017, as the newspaper
//! report describes it, so that `GET /api/v1/stats/overview?year=2017` gives the report's
//! figures (`../shared/design/domain.md`) and every feature has real data to show.
//!
//! The tree: the town committee, 1 general branch, 37 branches (12 serving a village or
//! community, 25 in town offices, schools and firms) and 52 grid party groups, one for each
//! villager group. 1,462 members on the rolls at the end of 2017 (1,250 rural). Public pledges
//! of 2017: 1,206 rural members and 150 others, and 63 collective items of the village party
//! organisations (the 司山 group's three among them: the road, street lights, greening), on the
//! boards of all 12 villages; a few pledges in every other state. The final ratings of 2016:
//! branches 2 five-star and 5 four-star; members 63 five-star, 306 four-star, 5 two-star (the
//! rest three-star). 327 members paired with 771 poor households (40 lifted households have no
//! helper now), and a cadre helping two of them. The villages' finances of 2016 and 2017: 花车,
//! 鸣凤 and 猫山 with solar stations and farming, each over ¥50,000 in 2017; the others under.
//!
//! "60+" and "1,200+" in the report are 63 and 1,206 here. Only the people the report names
//! are named (程军, 胡汪节, 程秉奎, 汪金生, 丁江波, 朱春林); everyone else is generated, with
//! fictitious ID numbers of Huaining county (340822, valid check character) and phones in the
//! block 170 0000 xxxx. The same data each time (ids and timestamps aside from the root's).

use std::collections::HashSet;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseConnection, EntityTrait, IntoActiveModel};
use serde::Serialize;
use uuid::Uuid;

use super::county::{
    Batches, CountyOptions, Generator, NewPledge, RatingBatches, RatingTimes, date, day_start, id_number_in,
    insert_all, ledger_record, person_name,
};
use super::{SeedError, SplitMix64};
use crate::audit::{Event, Write};
use crate::auth::{Role, password};
use crate::households;
use crate::households::types::{HouseholdAttribute, HouseholdStatus, NewHousehold, PovertyCause};
use crate::income::entity::{project, record, share};
use crate::income::types::{FinanceCategory, ProjectKind, ProjectStatus};
use crate::members::pii::DataKeys;
use crate::members::types::{Education, Gender, MemberStatus, NewMember, PostKind};
use crate::members::{self, entity::post};
use crate::orgs::{OrgKind, entity as org, queries as orgs};
use crate::pairings::entity::{cadre, help_record, pairing};
use crate::pairings::types::HelpKind;
use crate::places::VillageKind;
use crate::places::entity::{village, villager_group};
use crate::pledges::lifecycle::PledgeState;
use crate::pledges::types::PledgeKind;
use crate::ratings::types::RatingLevel;
use crate::users::entity::{grant, user};

/// The programme year the demo shows.
pub const YEAR: i32 = 2017;

/// The demo's villages and communities: name, kind, villager groups. The first five are the
/// report's; the others are made up.
const VILLAGES: &[(&str, VillageKind, &[&str])] = &[
    (
        "大洼社区",
        VillageKind::Community,
        &["司山", "桥头", "黄苗", "大洼一组", "大洼二组", "大洼三组"],
    ),
    (
        "花车村",
        VillageKind::Village,
        &["花车一组", "花车二组", "花车三组", "花车四组", "花车五组"],
    ),
    (
        "鸣凤村",
        VillageKind::Village,
        &["鸣凤一组", "鸣凤二组", "鸣凤三组", "鸣凤四组", "鸣凤五组"],
    ),
    (
        "猫山社区",
        VillageKind::Community,
        &["猫山一组", "猫山二组", "猫山三组", "猫山四组", "猫山五组"],
    ),
    (
        "大段村",
        VillageKind::Village,
        &["大段一组", "大段二组", "大段三组", "大段四组", "大段五组"],
    ),
    (
        "金塘村",
        VillageKind::Village,
        &["金塘一组", "金塘二组", "金塘三组", "金塘四组"],
    ),
    (
        "河口村",
        VillageKind::Village,
        &["河口一组", "河口二组", "河口三组", "河口四组"],
    ),
    (
        "石门村",
        VillageKind::Village,
        &["石门一组", "石门二组", "石门三组", "石门四组"],
    ),
    (
        "龙井村",
        VillageKind::Village,
        &["龙井一组", "龙井二组", "龙井三组", "龙井四组"],
    ),
    (
        "新桥村",
        VillageKind::Village,
        &["新桥一组", "新桥二组", "新桥三组", "新桥四组"],
    ),
    ("双河村", VillageKind::Village, &["双河一组", "双河二组", "双河三组"]),
    ("杨林村", VillageKind::Village, &["杨林一组", "杨林二组", "杨林三组"]),
];

/// Branches outside the villages: four under the general branch, the rest under the town.
const OFFICE_BRANCHES: &[&str] = &[
    "大洼社区老年党支部",
    "大洼社区流动党员党支部",
    "大洼社区非公企业党支部",
    "大洼社区机关党支部",
    "镇机关第一党支部",
    "镇机关第二党支部",
    "镇机关第三党支部",
    "平山中学党支部",
    "平山中心小学党支部",
    "镇卫生院党支部",
    "镇财政所党支部",
    "镇派出所党支部",
    "镇供电所党支部",
    "镇农业服务中心党支部",
    "镇敬老院党支部",
    "镇文化站党支部",
    "镇林业站党支部",
    "镇水利站党支部",
    "镇市场监管所党支部",
    "镇邮政支局党支部",
    "镇信用社党支部",
    "平山茶业公司党支部",
    "平山建材公司党支部",
    "平山农机合作社党支部",
    "平山物流公司党支部",
];

/// The villages over the target in 2017 (花车, 鸣凤, 猫山): their projects and 2017 operating
/// income in yuan.
/// A project: name, kind, capacity and its unit.
type Project = (&'static str, ProjectKind, Option<f64>, &'static str);

const EARNERS: &[(&str, &[Project], i64)] = &[
    (
        "花车村",
        &[("花车村光伏电站", ProjectKind::Photovoltaic, Some(60.0), "kW")],
        58_000,
    ),
    (
        "鸣凤村",
        &[
            ("鸣凤村光伏电站", ProjectKind::Photovoltaic, Some(100.0), "kW"),
            ("鸣凤村特色种养基地", ProjectKind::Farming, Some(120.0), "亩"),
        ],
        76_500,
    ),
    (
        "猫山社区",
        &[("猫山社区特色种养合作基地", ProjectKind::Farming, Some(200.0), "亩")],
        63_200,
    ),
];

/// What the demo made, and the accounts to sign in with (passwords shown once).
#[derive(Debug, Clone, Serialize)]
pub struct DemoReport {
    pub root_id: Uuid,
    pub members: u64,
    pub pledges: u64,
    pub households: u64,
    pub pairings: u64,
    /// `(username, role, password)`; the password is `None` for an account that existed.
    #[serde(skip)]
    pub accounts: Vec<(String, String, Option<String>)>,
    /// The 大洼社区 branch and the 司山 grid group, where the demo accounts work.
    pub branch_id: Uuid,
    pub group_id: Uuid,
    #[serde(skip)]
    pub elapsed: Duration,
}

impl DemoReport {
    /// What to print: the accounts and where to click first.
    pub fn summary(&self) -> String {
        let mut out = format!(
            "Loaded the demo town 平山镇 (2017) in {:.1} s: {} members, {} pledges, {} poor households, {} pairings.\n\nDemo accounts (passwords are shown only now):\n",
            self.elapsed.as_secs_f64(),
            self.members,
            self.pledges,
            self.households,
            self.pairings
        );
        for (username, role, password) in &self.accounts {
            let password = password.as_deref().unwrap_or("(unchanged)");
            out.push_str(&format!("  {username:<16} {role:<17} {password}\n"));
        }
        out.push_str(&format!(
            "\nTry first (Swagger UI, /swagger-ui/): sign in as demo.secretary (POST /api/v1/auth/login), \
             list the branch's submitted pledges (GET /api/v1/pledges?org_id={}&year=2017&state=submitted), \
             approve one (POST /api/v1/pledges/{{id}}/approve), see it on the public board \
             (GET /api/v1/public/orgs/{}/board?year=2017), and read the overview (GET /api/v1/stats/overview?year=2017).\n",
            self.branch_id, self.branch_id
        ));
        out
    }
}

/// A branch of the demo and what the later steps need of it.
struct DemoBranch {
    id: Uuid,
    /// The village it serves (index into `VILLAGES`), if any.
    village: Option<usize>,
    /// The account that writes its pledges and answers its feedback.
    secretary: Uuid,
    secretary_name: String,
}

struct DemoMember {
    id: Uuid,
    name: String,
    branch: usize,
    group: Option<Uuid>,
    rural: bool,
}

/// Fills an empty database (at most the bootstrap root and `admin`) with the demo town. All or
/// nothing; every account gets its own random password, returned in the report.
pub async fn seed(db: &DatabaseConnection, keys: &DataKeys) -> Result<DemoReport, SeedError> {
    let started = Instant::now();
    let w = super::begin_on_empty(db).await?;
    let mut demo = Demo::new(keys);
    demo.run(&w).await?;
    let mut report = demo.report;
    let event = Event::new("seed.demo", "org", report.root_id)
        .org(report.root_id)
        .after(&report);
    w.commit(event).await?;
    report.elapsed = started.elapsed();
    Ok(report)
}

struct Demo<'a> {
    keys: &'a DataKeys,
    rng: SplitMix64,
    /// When the records were made: the programme's start (members, accounts) and its year.
    start: DateTime<Utc>,
    root: Option<org::Model>,
    admin: Uuid,
    branches: Vec<DemoBranch>,
    /// `(villager group id, grid group id)` of each village, in `VILLAGES` order.
    groups: Vec<Vec<(Uuid, Uuid)>>,
    villages: Vec<Uuid>,
    members: Vec<DemoMember>,
    id_numbers: HashSet<String>,
    /// Hash of the password of the branch secretaries' accounts other than the demo's (never
    /// shown: an administrator resets one to use it).
    hidden_hash: String,
    report: DemoReport,
}

impl<'a> Demo<'a> {
    fn new(keys: &'a DataKeys) -> Demo<'a> {
        Demo {
            keys,
            rng: SplitMix64::new(20_171_216),
            start: day_start(date(YEAR - 1, 12, 1)),
            root: None,
            admin: Uuid::nil(),
            branches: Vec::new(),
            groups: Vec::new(),
            villages: Vec::new(),
            members: Vec::new(),
            id_numbers: HashSet::new(),
            hidden_hash: String::new(),
            report: DemoReport {
                root_id: Uuid::nil(),
                members: 0,
                pledges: 0,
                households: 0,
                pairings: 0,
                accounts: Vec::new(),
                branch_id: Uuid::nil(),
                group_id: Uuid::nil(),
                elapsed: Duration::ZERO,
            },
        }
    }

    async fn run(&mut self, w: &Write) -> Result<(), SeedError> {
        self.hidden_hash = hash(password::generate()).await?;
        self.tree(w).await?;
        self.accounts(w).await?;
        self.members(w).await?;
        self.pledges(w).await?;
        self.ratings(w).await?;
        self.pairings(w).await?;
        self.finances(w).await?;
        Ok(())
    }

    fn at(&mut self, ms: i64) -> (Uuid, DateTime<Utc>) {
        let at = self.start + chrono::Duration::milliseconds(ms);
        (self.rng.uuid_v7(at), at)
    }

    fn new_org(&mut self, ms: i64, parent: &org::Model, kind: OrgKind, name: &str, vg: Option<Uuid>) -> org::Model {
        let (id, at) = self.at(ms);
        org::Model {
            id,
            parent_id: Some(parent.id),
            kind,
            name: name.to_owned(),
            path: format!("{}{id}/", parent.path),
            villager_group_id: vg,
            version: 1,
            created_at: at,
            updated_at: at,
            deleted_at: None,
        }
    }

    /// The town committee (the bootstrap root, renamed, if there is one), the general branch,
    /// the branches, the villages with their villager groups, and a grid group for each.
    async fn tree(&mut self, w: &Write) -> Result<(), SeedError> {
        let root = match orgs::root(w.db()).await? {
            Some(root) => {
                let mut renamed = root.clone().into_active_model();
                renamed.name = Set("平山镇党委".to_owned());
                renamed.update(w.db()).await?;
                org::Model {
                    name: "平山镇党委".into(),
                    ..root
                }
            }
            None => orgs::insert(w, None, OrgKind::Committee, "平山镇党委".into(), None).await?,
        };
        self.report.root_id = root.id;
        let general = self.new_org(1, &root, OrgKind::GeneralBranch, "大洼社区党总支", None);
        let mut rows = vec![general.clone()];
        let mut places = Vec::new();
        let mut villager_groups = Vec::new();
        let mut grid = Vec::new();
        for (v, (name, kind, vgs)) in VILLAGES.iter().enumerate() {
            let parent = if v == 0 { &general } else { &root };
            let branch = self.new_org(10 + v as i64, parent, OrgKind::Branch, &format!("{name}党支部"), None);
            let (village_id, at) = self.at(100 + v as i64);
            places.push(village::Model {
                id: village_id,
                kind: *kind,
                name: (*name).to_owned(),
                org_id: branch.id,
                version: 1,
                created_at: at,
                updated_at: at,
            });
            let mut mine = Vec::new();
            for (g, vg_name) in vgs.iter().enumerate() {
                let (vg_id, at) = self.at(200 + (v * 10 + g) as i64);
                villager_groups.push(villager_group::Model {
                    id: vg_id,
                    village_id,
                    name: format!("{vg_name}村民组"),
                    version: 1,
                    created_at: at,
                    updated_at: at,
                });
                let group = self.new_org(
                    400 + (v * 10 + g) as i64,
                    &branch,
                    OrgKind::Group,
                    &format!("{vg_name}网格党小组"),
                    Some(vg_id),
                );
                mine.push((vg_id, group.id));
                grid.push(group);
            }
            self.groups.push(mine);
            self.villages.push(village_id);
            self.branches.push(DemoBranch {
                id: branch.id,
                village: Some(v),
                secretary: Uuid::nil(),
                secretary_name: String::new(),
            });
            rows.push(branch);
        }
        for (b, name) in OFFICE_BRANCHES.iter().enumerate() {
            let parent = if b < 4 { &general } else { &root };
            let branch = self.new_org(40 + b as i64, parent, OrgKind::Branch, name, None);
            self.branches.push(DemoBranch {
                id: branch.id,
                village: None,
                secretary: Uuid::nil(),
                secretary_name: String::new(),
            });
            rows.push(branch);
        }
        insert_all::<org::Entity, _>(w, rows, 10).await?;
        insert_all::<org::Entity, _>(w, grid, 10).await?;
        insert_all::<village::Entity, _>(w, places, 7).await?;
        insert_all::<villager_group::Entity, _>(w, villager_groups, 6).await?;
        self.report.branch_id = self.branches[0].id;
        self.report.group_id = self.groups[0][0].1;
        self.root = Some(root);
        Ok(())
    }

    fn account(&self, id: Uuid, username: &str, hash: String, org_id: Uuid) -> user::Model {
        user::Model {
            id,
            username: username.to_owned(),
            password_hash: hash,
            org_id,
            member_id: None,
            cadre_id: None,
            disabled: false,
            token_generation: 1,
            version: 1,
            created_at: self.start,
            updated_at: self.start,
        }
    }

    fn grant(&mut self, user_id: Uuid, role: Role, org_id: Uuid) -> grant::Model {
        grant::Model {
            id: self.rng.uuid_v7(self.start),
            user_id,
            role,
            org_id,
            created_at: self.start,
        }
    }

    /// `admin` (kept if the bootstrap made it), `demo.inspector`, and a secretary account for
    /// every branch (`demo.secretary` for 大洼社区党支部; the others' password is not shown).
    async fn accounts(&mut self, w: &Write) -> Result<(), SeedError> {
        use sea_orm::{ColumnTrait, QueryFilter};
        let root = self.root.clone().ok_or_else(|| SeedError::Invalid("no root".into()))?;
        let (mut users, mut grants) = (Vec::new(), Vec::new());
        let existing = user::Entity::find()
            .filter(user::Column::Username.eq("admin"))
            .one(w.db())
            .await?;
        self.admin = match existing {
            Some(admin) => {
                self.report.accounts.push(("admin".into(), "town_admin".into(), None));
                admin.id
            }
            None => {
                let id = self.rng.uuid_v7(self.start);
                let plain = password::generate();
                users.push(self.account(id, "admin", hash(plain.clone()).await?, root.id));
                grants.push(self.grant(id, Role::TownAdmin, root.id));
                self.report
                    .accounts
                    .push(("admin".into(), "town_admin".into(), Some(plain)));
                id
            }
        };
        let id = self.rng.uuid_v7(self.start);
        let plain = password::generate();
        users.push(self.account(id, "demo.inspector", hash(plain.clone()).await?, root.id));
        grants.push(self.grant(id, Role::Inspector, root.id));
        self.report
            .accounts
            .push(("demo.inspector".into(), "inspector".into(), Some(plain)));
        for b in 0..self.branches.len() {
            let id = self.rng.uuid_v7(self.start);
            let branch_id = self.branches[b].id;
            let (username, password_hash) = if b == 0 {
                let plain = password::generate();
                let hashed = hash(plain.clone()).await?;
                self.report
                    .accounts
                    .push(("demo.secretary".into(), "branch_secretary".into(), Some(plain)));
                ("demo.secretary".to_owned(), hashed)
            } else {
                (format!("pingshan.sec.{:02}", b + 1), self.hidden_hash.clone())
            };
            users.push(self.account(id, &username, password_hash, branch_id));
            grants.push(self.grant(id, Role::BranchSecretary, branch_id));
            self.branches[b].secretary = id;
            self.branches[b].secretary_name = username;
        }
        insert_all::<user::Entity, _>(w, users, 10).await?;
        insert_all::<grant::Entity, _>(w, grants, 5).await?;
        Ok(())
    }

    /// A member of branch `b` (group `group`), generated unless `name` is given.
    fn member(
        &mut self,
        n: usize,
        b: usize,
        group: Option<Uuid>,
        name: Option<&str>,
        gender: Option<Gender>,
    ) -> Result<members::entity::member::Model, SeedError> {
        let rng = &mut self.rng;
        let gender = gender.unwrap_or(if rng.chance(700) { Gender::Male } else { Gender::Female });
        let rural = self.branches[b].village.is_some();
        let age = 22 + ((rng.below(60) + rng.below(60)) / 2 + rng.below(14)).min(64) as i32;
        let birth = date(YEAR - age, 1, 1) + chrono::Days::new(rng.below(365));
        let adult = birth
            .checked_add_months(chrono::Months::new(18 * 12 + 1))
            .unwrap_or(birth);
        // All on the rolls by mid-2016 (so rated for 2016); a few probationary members
        // joined in its first half.
        let latest = date(2016, 6, 30);
        let joined = if rng.chance(25) {
            (date(2016, 1, 1) + chrono::Days::new(rng.below(180))).max(adult)
        } else {
            let span = (latest - adult).num_days().clamp(0, 365 * 50);
            (adult + chrono::Days::new(rng.below(span as u64 + 1))).min(latest)
        };
        let status = if joined >= date(2016, 12, 31) - chrono::Days::new(365) {
            MemberStatus::Probationary
        } else {
            MemberStatus::Full
        };
        let id_number = loop {
            let candidate = id_number_in(rng, "340822", birth, gender);
            if self.id_numbers.insert(candidate.clone()) {
                break candidate;
            }
        };
        let name = match name {
            Some(n) => n.to_owned(),
            None => person_name(rng, gender),
        };
        let place = match self.branches[b].village {
            Some(v) => VILLAGES[v].0.to_owned(),
            None => "平山镇".to_owned(),
        };
        let input = NewMember {
            name,
            gender,
            birth_date: birth,
            id_number,
            joined_on: joined,
            status,
            org_id: self.branches[b].id,
            rural,
            ethnicity: Some("汉族".into()),
            education: Some(rng.weighted(&[
                (150, Education::Primary),
                (380, Education::JuniorHigh),
                (220, Education::SeniorHigh),
                (80, Education::Vocational),
                (100, Education::College),
                (60, Education::Bachelor),
                (10, Education::Master),
            ])),
            phone: rng.chance(800).then(|| format!("1700000{:04}", n % 10_000)),
            address: Some(format!("怀宁县平山镇{place}")),
            group_id: group,
            specialty: None,
            note: None,
        };
        let fields = members::validate(input)
            .map_err(|errors| SeedError::Invalid(format!("demo member {n} is invalid: {errors:?}")))?;
        let created = self.start + chrono::Duration::milliseconds(1_000 + n as i64);
        let id = self.rng.uuid_v7(created);
        Ok(members::build_at(self.keys, fields, id, created))
    }

    /// 1,462 members: 1,250 rural ones in the villages' grid groups (17 in 司山, with 程军 its
    /// leader, 胡汪节 the council head and 程秉奎), 212 in the other branches (汪金生 and
    /// 丁江波 in the town office's first branch). Branch secretaries, group leaders, pioneer
    /// posts and a first secretary.
    async fn members(&mut self, w: &Write) -> Result<(), SeedError> {
        let mut rows = Vec::new();
        let mut posts = Vec::new();
        let mut n = 0usize;
        let start_on = date(YEAR, 1, 1);
        // Grid groups: 司山 17, nine with 25, the rest 24 (1,250 together).
        let mut sizes = Vec::new();
        for (v, groups) in self.groups.clone().iter().enumerate() {
            for (g, (_, group_id)) in groups.iter().enumerate() {
                let size = if v == 0 && g == 0 {
                    17
                } else if sizes.len() <= 9 {
                    25
                } else {
                    24
                };
                sizes.push((v, *group_id, size));
            }
        }
        for (v, group_id, size) in sizes {
            for k in 0..size {
                let sishan = group_id == self.report.group_id;
                let named = match (sishan, k) {
                    (true, 0) => Some(("程军", Gender::Male)),
                    (true, 1) => Some(("胡汪节", Gender::Male)),
                    (true, 2) => Some(("程秉奎", Gender::Male)),
                    // 朱春林, the workshop's manager, an ordinary member in 猫山.
                    (false, 1) if group_id == self.groups[3][0].1 => Some(("朱春林", Gender::Male)),
                    _ => None,
                };
                let m = self.member(n, v, Some(group_id), named.map(|x| x.0), named.map(|x| x.1))?;
                n += 1;
                let post = if k == 0 {
                    Some((PostKind::GroupLeader, None, group_id))
                } else if v == 0 && group_id == self.report.group_id && k == 1 {
                    Some((PostKind::CouncilHead, None, group_id))
                } else if k == 2 {
                    Some((PostKind::PioneerPost, Some("党员先锋岗"), self.branches[v].id))
                } else {
                    None
                };
                if let Some((kind, title, org_id)) = post {
                    posts.push(post::Model {
                        id: self.rng.uuid_v7(m.created_at),
                        member_id: m.id,
                        kind,
                        title: title.map(str::to_owned),
                        duty: None,
                        org_id,
                        start_on,
                        end_on: None,
                        created_at: m.created_at,
                    });
                }
                self.members.push(DemoMember {
                    id: m.id,
                    name: m.name.clone(),
                    branch: v,
                    group: Some(group_id),
                    rural: true,
                });
                rows.push(m);
            }
        }
        // Secretaries of the village branches: the second member of each village's first group.
        for v in 0..VILLAGES.len() {
            let first = self.members.iter().filter(|m| m.branch == v).nth(1).map(|m| m.id);
            if let Some(member_id) = first {
                posts.push(post::Model {
                    id: self.rng.uuid_v7(self.start),
                    member_id,
                    kind: PostKind::BranchSecretary,
                    title: None,
                    duty: None,
                    org_id: self.branches[v].id,
                    start_on,
                    end_on: None,
                    created_at: self.start,
                });
            }
        }
        // The other branches: twelve with 9 members, thirteen with 8 (212).
        for o in 0..OFFICE_BRANCHES.len() {
            let b = VILLAGES.len() + o;
            let size = if o < 12 { 9 } else { 8 };
            for k in 0..size {
                let named = match (o, k) {
                    (4, 0) => Some(("汪金生", Gender::Male)),
                    (4, 1) => Some(("丁江波", Gender::Male)),
                    _ => None,
                };
                let m = self.member(n, b, None, named.map(|x| x.0), named.map(|x| x.1))?;
                n += 1;
                if k == 0 {
                    posts.push(post::Model {
                        id: self.rng.uuid_v7(m.created_at),
                        member_id: m.id,
                        kind: PostKind::BranchSecretary,
                        title: None,
                        duty: None,
                        org_id: self.branches[b].id,
                        start_on,
                        end_on: None,
                        created_at: m.created_at,
                    });
                }
                // A first secretary (第一书记) sent from the town office to 大段村.
                if (o, k) == (5, 1) {
                    posts.push(post::Model {
                        id: self.rng.uuid_v7(m.created_at),
                        member_id: m.id,
                        kind: PostKind::FirstSecretary,
                        title: None,
                        duty: Some("驻大段村第一书记".into()),
                        org_id: self.branches[4].id,
                        start_on,
                        end_on: None,
                        created_at: m.created_at,
                    });
                }
                self.members.push(DemoMember {
                    id: m.id,
                    name: m.name.clone(),
                    branch: b,
                    group: None,
                    rural: false,
                });
                rows.push(m);
            }
        }
        for chunk in rows.chunks(500) {
            members::insert_all(w, chunk).await?;
        }
        insert_all::<post::Entity, _>(w, posts, 9).await?;
        self.report.members = rows.len() as u64;
        Ok(())
    }

    /// The pledges of 2017: one public pledge for 1,206 rural and 150 other members, 63
    /// collective items of the village party organisations (司山's three first), and a few in
    /// every other state; timelines and feedback as `seed-county` writes them.
    async fn pledges(&mut self, w: &Write) -> Result<(), SeedError> {
        let opts = CountyOptions {
            as_of: date(YEAR, 12, 31),
            years: 1,
            ..Default::default()
        };
        let mut g = Generator::new(&opts, self.keys, String::new());
        g.admin = self.admin;
        let names: std::collections::HashMap<Uuid, String> = self
            .branches
            .iter()
            .map(|b| (b.secretary, b.secretary_name.clone()))
            .chain([(self.admin, "admin".to_string())])
            .collect();
        let mut out = Batches::default();
        let public = [
            (100, PledgeState::Approved),
            (300, PledgeState::InProgress),
            (350, PledgeState::Fulfilled),
            (250, PledgeState::Evaluated),
        ];
        let other = [
            PledgeState::Draft,
            PledgeState::Submitted,
            PledgeState::Returned,
            PledgeState::Withdrawn,
        ];
        // Who pledged: all of the grid groups' members but two in 司山 and one in each of 42
        // other groups (1,206 rural members), and six members of each other branch.
        let mut skips: std::collections::HashMap<Uuid, usize> = Default::default();
        for (k, (_, group_id)) in self.groups.iter().flatten().enumerate() {
            let skip = if *group_id == self.report.group_id {
                2
            } else {
                usize::from(k <= 42)
            };
            skips.insert(*group_id, skip);
        }
        let mut office_pledged: std::collections::HashMap<usize, usize> = Default::default();
        let mut quiet = 0usize;
        for i in 0..self.members.len() {
            let (id, branch, group, rural) = {
                let m = &self.members[i];
                (m.id, m.branch, m.group, m.rural)
            };
            let pledged = if rural {
                let skip = skips.get(&group.unwrap_or_default()).copied().unwrap_or(0);
                // The last members of a group are the ones who did not pledge.
                let size = self.members.iter().filter(|m| m.group == group).count();
                let position = self.members[..i].iter().filter(|m| m.group == group).count();
                position < size - skip
            } else {
                let count = office_pledged.entry(branch).or_default();
                *count += 1;
                *count <= 6
            };
            let sishan = group == Some(self.report.group_id);
            let state = if pledged {
                Some(self.rng.weighted(&public))
            } else if sishan {
                // Waiting for the branch's review: what `demo.secretary` approves first.
                Some(PledgeState::Submitted)
            } else if quiet.is_multiple_of(3) {
                Some(other[(quiet / 3) % other.len()])
            } else {
                None
            };
            if !pledged {
                quiet += 1;
            }
            let Some(state) = state else { continue };
            let b = &self.branches[branch];
            // The branch's secretary wrote its members' pledges down (the town reviewed them);
            // those not yet reviewed were entered at the town, so the secretary reviews them.
            let author = if matches!(state, PledgeState::Draft | PledgeState::Submitted) {
                self.admin
            } else {
                b.secretary
            };
            g.pledge(
                &mut self.rng,
                &mut out,
                &names,
                NewPledge {
                    kind: PledgeKind::Individual,
                    member_id: Some(id),
                    org_id: b.id,
                    group_id: group,
                    author,
                    secretary: b.secretary,
                    year: YEAR,
                    state: Some(state),
                },
            );
        }
        // Collective: 司山's three, two of each village branch, one of 36 other grid groups.
        let sishan: [(&str, &str, &str); 3] = [
            (
                "维修组内道路",
                "年内组织党员和群众修复司山村民组通组道路",
                "infrastructure",
            ),
            (
                "更换组内路灯",
                "年内更换司山村民组损坏的路灯，保证夜间出行",
                "infrastructure",
            ),
            ("组内绿化", "年内在司山村民组道路两旁和房前屋后植树绿化", "environment"),
        ];
        let mut collective: Vec<(Uuid, Option<Uuid>, usize)> =
            vec![(self.report.group_id, Some(self.report.group_id), 0); 3];
        for v in 0..VILLAGES.len() {
            collective.push((self.branches[v].id, None, v));
            collective.push((self.branches[v].id, None, v));
        }
        let other_groups: Vec<(Uuid, usize)> = self
            .groups
            .iter()
            .enumerate()
            .flat_map(|(v, gs)| gs.iter().map(move |(_, g)| (*g, v)))
            .filter(|(g, _)| *g != self.report.group_id)
            .take(36)
            .collect();
        for (group_id, v) in other_groups {
            collective.push((group_id, Some(group_id), v));
        }
        for (k, (org_id, group_id, v)) in collective.into_iter().enumerate() {
            let state = self.rng.weighted(&public);
            let b = &self.branches[v];
            g.pledge(
                &mut self.rng,
                &mut out,
                &names,
                NewPledge {
                    kind: PledgeKind::Collective,
                    member_id: None,
                    org_id,
                    group_id,
                    author: b.secretary,
                    secretary: b.secretary,
                    year: YEAR,
                    state: Some(state),
                },
            );
            if let (Some((title, content, category)), Some(p)) = (sishan.get(k), out.pledges.last_mut()) {
                p.title = (*title).to_owned();
                p.content = (*content).to_owned();
                p.category_code = (*category).to_owned();
            }
        }
        // Two drafts of office branches: not public, not counted.
        for b in VILLAGES.len()..VILLAGES.len() + 2 {
            let br = &self.branches[b];
            g.pledge(
                &mut self.rng,
                &mut out,
                &names,
                NewPledge {
                    kind: PledgeKind::Collective,
                    member_id: None,
                    org_id: br.id,
                    group_id: None,
                    author: br.secretary,
                    secretary: br.secretary,
                    year: YEAR,
                    state: Some(PledgeState::Draft),
                },
            );
        }
        out.flush(w, true).await?;
        self.report.pledges = out.written.0;
        Ok(())
    }

    /// The final ratings of 2016, published in January 2017.
    async fn ratings(&mut self, w: &Write) -> Result<(), SeedError> {
        let proposed = day_start(date(YEAR, 1, 5)) + chrono::Duration::hours(9);
        let times = RatingTimes {
            proposed,
            approved: proposed + chrono::Duration::days(5),
            published: proposed + chrono::Duration::days(5) + chrono::Duration::hours(2),
            ends: proposed + chrono::Duration::days(10) + chrono::Duration::hours(2),
            final_at: Some(proposed + chrono::Duration::days(10) + chrono::Duration::hours(2)),
        };
        let mut batch = RatingBatches::default();
        // Members: 63 five-star, 306 four-star, 5 two-star, the rest three-star, spread by a
        // shuffle of the members.
        let mut order: Vec<usize> = (0..self.members.len()).collect();
        for i in (1..order.len()).rev() {
            let j = self.rng.below(i as u64 + 1) as usize;
            order.swap(i, j);
        }
        for (rank, &i) in order.iter().enumerate() {
            let level = match rank {
                0..63 => RatingLevel::FiveStars,
                63..369 => RatingLevel::FourStars,
                369..374 => RatingLevel::TwoStars,
                _ => RatingLevel::ThreeStars,
            };
            let m = &self.members[i];
            let b = &self.branches[m.branch];
            let subject = (Some(m.id), None, b.id, m.name.clone());
            let proposer = (b.secretary, b.secretary_name.clone());
            batch.push(&mut self.rng, YEAR - 1, subject, level, proposer, (self.admin, &times));
        }
        // Branches: 2 five-star, 5 four-star, 25 three-star, 5 two-star.
        for (b, branch) in self.branches.iter().enumerate() {
            let level = match b {
                0 | 1 => RatingLevel::FiveStars,
                2..7 => RatingLevel::FourStars,
                7..32 => RatingLevel::ThreeStars,
                _ => RatingLevel::TwoStars,
            };
            let name = match branch.village {
                Some(v) => format!("{}党支部", VILLAGES[v].0),
                None => OFFICE_BRANCHES[b - VILLAGES.len()].to_owned(),
            };
            let subject = (None, Some(branch.id), branch.id, name);
            batch.push(
                &mut self.rng,
                YEAR - 1,
                subject,
                level,
                (self.admin, "admin".into()),
                (self.admin, &times),
            );
        }
        batch.flush(w, true).await?;
        Ok(())
    }

    /// 811 poor households of the villages: 771 needing help, each paired with one of 327
    /// rural members of its village (程军 with one low-income household, 118 members with
    /// three, 208 with two), 40 lifted with no helper now; a cadre (`demo.cadre`) helping two
    /// of 大洼社区's households beside their member helpers; one to three help records a
    /// pairing. Accounts for 程军 (`demo.leader`), 程秉奎 (`demo.member`) and the cadre.
    async fn pairings(&mut self, w: &Write) -> Result<(), SeedError> {
        let (mut households, mut pairings, mut records) = (Vec::new(), Vec::new(), Vec::new());
        // Helpers: 程军 first, then every third rural member.
        let mut helpers: Vec<usize> = vec![0];
        helpers.extend(
            (1..self.members.len())
                .filter(|i| self.members[*i].rural && i % 3 == 2)
                .take(326),
        );
        let start_on = date(YEAR, 3, 1);
        let mut n = 0usize;
        for (h, &i) in helpers.iter().enumerate() {
            let count = match h {
                0 => 1,
                1..=118 => 3,
                _ => 2,
            };
            for _ in 0..count {
                let household = self.household(n, self.members[i].branch, i == 0, HouseholdStatus::InPoverty)?;
                let (pid, at) = self.at(5_000 + n as i64);
                pairings.push(pairing::Model {
                    id: pid,
                    household_id: household.id,
                    org_id: household.org_id,
                    member_id: Some(self.members[i].id),
                    cadre_id: None,
                    is_primary: true,
                    start_on,
                    end_on: None,
                    end_reason: None,
                    created_at: at,
                });
                for r in 0..self.rng.between(1, 3) {
                    let day = date(YEAR, 3 + 3 * r as u32, 1) + chrono::Days::new(self.rng.below(60));
                    records.push(self.help_record(&pairings[pairings.len() - 1], day));
                }
                households.push(household);
                n += 1;
            }
        }
        for k in 0..40 {
            let v = k % VILLAGES.len();
            households.push(self.household(n, v, false, HouseholdStatus::Lifted)?);
            n += 1;
        }
        // The cadre, with an account, beside the member helpers of two 大洼社区 households.
        let (cadre_id, at) = self.at(9_000);
        let cadre = cadre::Model {
            id: cadre_id,
            org_id: self.branches[0].id,
            name: "周建国".into(),
            work_unit: "怀宁县农业农村局".into(),
            post: Some("驻村工作队员".into()),
            phone_enc: Some(self.keys.encrypt("17000009999", &format!("cadre:{cadre_id}:phone"))),
            version: 1,
            created_at: at,
            updated_at: at,
        };
        let dawa: Vec<pairing::Model> = pairings
            .iter()
            .filter(|p| p.org_id == self.branches[0].id)
            .take(2)
            .cloned()
            .collect();
        for p in dawa {
            let (pid, at) = self.at(9_100 + pairings.len() as i64);
            pairings.push(pairing::Model {
                id: pid,
                member_id: None,
                cadre_id: Some(cadre_id),
                is_primary: false,
                created_at: at,
                ..p
            });
            let record = self.help_record(&pairings[pairings.len() - 1], date(YEAR, 4, 12));
            records.push(record);
        }
        insert_all::<households::entity::household::Entity, _>(w, households.clone(), 20).await?;
        insert_all::<cadre::Entity, _>(w, vec![cadre], 9).await?;
        self.report.households = households.len() as u64;
        self.report.pairings = insert_all::<pairing::Entity, _>(w, pairings, 10).await?;
        insert_all::<help_record::Entity, _>(w, records, 13).await?;

        // Accounts for 程军 (group leader of 司山), 程秉奎 (a member) and the cadre.
        let group = self.report.group_id;
        let branch = self.branches[0].id;
        let chengjun = self.members[0].id;
        let bingkui = self.members[2].id;
        let mut users = Vec::new();
        let mut grants = Vec::new();
        for (username, role, org_id, member_id, cadre) in [
            ("demo.leader", Role::GroupLeader, group, Some(chengjun), None),
            ("demo.member", Role::Member, branch, Some(bingkui), None),
            ("demo.cadre", Role::Member, branch, None, Some(cadre_id)),
        ] {
            let id = self.rng.uuid_v7(self.start);
            let plain = password::generate();
            let mut u = self.account(id, username, hash(plain.clone()).await?, org_id);
            u.member_id = member_id;
            u.cadre_id = cadre;
            users.push(u);
            grants.push(self.grant(id, role, org_id));
            self.report
                .accounts
                .push((username.into(), role.as_str().into(), Some(plain)));
        }
        insert_all::<user::Entity, _>(w, users, 10).await?;
        insert_all::<grant::Entity, _>(w, grants, 5).await?;
        Ok(())
    }

    fn household(
        &mut self,
        n: usize,
        v: usize,
        low_income: bool,
        status: HouseholdStatus,
    ) -> Result<households::entity::household::Model, SeedError> {
        let rng = &mut self.rng;
        let gender = if rng.chance(780) { Gender::Male } else { Gender::Female };
        let age = 35 + rng.below(45) as i32;
        let birth = date(YEAR - age, 1, 1) + chrono::Days::new(rng.below(365));
        let id_number = loop {
            let candidate = id_number_in(rng, "340822", birth, gender);
            if self.id_numbers.insert(candidate.clone()) {
                break candidate;
            }
        };
        let groups = &self.groups[v];
        let vg = groups[rng.below(groups.len() as u64) as usize].0;
        let input = NewHousehold {
            head_name: person_name(rng, gender),
            id_number,
            phone: rng.chance(500).then(|| format!("1700001{:04}", n % 10_000)),
            village_id: self.villages[v],
            villager_group_id: Some(vg),
            address: Some(format!("怀宁县平山镇{}", VILLAGES[v].0)),
            size: rng.between(1, 6) as i32,
            attribute: if low_income {
                HouseholdAttribute::LowIncome
            } else {
                rng.weighted(&[
                    (700, HouseholdAttribute::Ordinary),
                    (220, HouseholdAttribute::LowIncome),
                    (80, HouseholdAttribute::Destitute),
                ])
            },
            main_cause: rng.weighted(&[
                (350, PovertyCause::Illness),
                (150, PovertyCause::Disability),
                (100, PovertyCause::Schooling),
                (150, PovertyCause::LackOfLabour),
                (150, PovertyCause::LackOfSkills),
                (100, PovertyCause::LackOfFunds),
            ]),
            secondary_causes: Vec::new(),
            identified_year: 2014,
            status,
            lifted_year: (status == HouseholdStatus::Lifted).then_some(2016),
            note: None,
        };
        let fields = households::validate(input)
            .map_err(|errors| SeedError::Invalid(format!("demo household {n} is invalid: {errors:?}")))?;
        let (id, at) = self.at(3_000 + n as i64);
        Ok(households::build(self.keys, fields, self.branches[v].id, id, at))
    }

    fn help_record(&mut self, p: &pairing::Model, day: NaiveDate) -> help_record::Model {
        let kind = self.rng.weighted(&[
            (500, HelpKind::Visit),
            (200, HelpKind::PolicyExplained),
            (100, HelpKind::SkillsTraining),
            (100, HelpKind::Goods),
            (100, HelpKind::Medical),
        ]);
        let content = match kind {
            HelpKind::Visit => "入户走访，了解生产生活情况",
            HelpKind::PolicyExplained => "宣讲产业扶贫和健康扶贫政策",
            HelpKind::SkillsTraining => "介绍参加镇里的种养技术培训",
            HelpKind::Goods => "送去大米和食用油",
            _ => "陪同到镇卫生院体检",
        };
        let at = day_start(day) + chrono::Duration::hours(15);
        help_record::Model {
            id: self.rng.uuid_v7(at),
            pairing_id: p.id,
            household_id: p.household_id,
            org_id: p.org_id,
            member_id: p.member_id,
            cadre_id: p.cadre_id,
            date: day,
            kind,
            content: content.into(),
            amount_fen: (kind == HelpKind::Goods).then_some(20_000),
            evidence: None,
            recorded_by: None,
            created_at: at,
        }
    }

    /// 2016 and 2017 of every village: 花车, 鸣凤 and 猫山 over ¥50,000 in 2017 with their
    /// solar stations and farms (the 花车 station shared with its village's first poor
    /// households); the others under, none an empty shell; subsidies, expenditure and
    /// distribution beside.
    async fn finances(&mut self, w: &Write) -> Result<(), SeedError> {
        let (mut projects, mut shares, mut records) = (Vec::new(), Vec::new(), Vec::new());
        for (v, (name, _, _)) in VILLAGES.iter().enumerate() {
            let org_id = self.branches[v].id;
            let village_id = self.villages[v];
            let earner = EARNERS.iter().find(|e| e.0 == *name);
            let mut mine = Vec::new();
            if let Some((_, list, _)) = earner {
                for (pname, kind, capacity, unit) in list.iter() {
                    let (id, at) = self.at(10_000 + projects.len() as i64);
                    projects.push(project::Model {
                        id,
                        village_id,
                        org_id,
                        name: (*pname).to_owned(),
                        kind: *kind,
                        started_on: Some(date(2016, 6, 30)),
                        partner: (*kind == ProjectKind::Farming).then(|| format!("{name}种养专业合作社")),
                        capacity: *capacity,
                        capacity_unit: Some((*unit).to_owned()),
                        invested_fen: Some(50_000_000),
                        status: ProjectStatus::Operating,
                        note: None,
                        version: 1,
                        created_at: at,
                        updated_at: at,
                    });
                    mine.push(id);
                }
            }
            for year in [YEAR - 1, YEAR] {
                // Operating income in yuan: the earners' own figure in 2017 (four fifths of it
                // in 2016), the others between ¥8,000 and ¥30,000.
                let operating = match earner {
                    Some((_, _, yuan)) if year == YEAR => *yuan,
                    Some((_, _, yuan)) => yuan * 4 / 5,
                    None => self.rng.between(8, 30) * 1_000,
                };
                let subsidy = self.rng.between(5, 15) * 1_000;
                let mut entries: Vec<(FinanceCategory, Option<Uuid>, i64)> = Vec::new();
                let mut left = operating * 100;
                for p in &mine {
                    let part = left * 2 / 3;
                    entries.push((FinanceCategory::Operating, Some(*p), part));
                    left -= part;
                }
                entries.push((FinanceCategory::Contracting, None, left));
                entries.push((FinanceCategory::Subsidy, None, subsidy * 100));
                let income = operating * 100 + subsidy * 100;
                entries.push((FinanceCategory::ManagementExpense, None, income / 5));
                entries.push((FinanceCategory::PublicWelfare, None, income / 10));
                if !mine.is_empty() {
                    entries.push((FinanceCategory::HouseholdDividend, None, income / 20));
                }
                for (k, (category, project_id, fen)) in entries.into_iter().enumerate() {
                    let received_on = date(year, 3 + 2 * (k as u32 % 5), 20);
                    records.push(ledger_record(
                        &mut self.rng,
                        (village_id, org_id),
                        year,
                        (category, project_id, fen),
                        received_on,
                        self.branches[v].secretary,
                    ));
                }
            }
        }
        // The 花车 station's returns shared with ten poor households of 花车村.
        if let Some(station) = projects.first() {
            use sea_orm::{ColumnTrait, QueryFilter, QuerySelect};
            let ids: Vec<Uuid> = households::entity::household::Entity::find()
                .select_only()
                .column(households::entity::household::Column::Id)
                .filter(households::entity::household::Column::VillageId.eq(station.village_id))
                .limit(10)
                .into_tuple()
                .all(w.db())
                .await?;
            for household_id in ids {
                shares.push(share::Model {
                    project_id: station.id,
                    household_id,
                });
            }
        }
        insert_all::<project::Entity, _>(w, projects, 16).await?;
        insert_all::<share::Entity, _>(w, shares, 2).await?;
        insert_all::<record::Entity, _>(w, records, 17).await?;
        Ok(())
    }
}

/// The argon2 hash of `plain`, off the async threads.
async fn hash(plain: String) -> Result<String, SeedError> {
    Ok(actix_web::web::block(move || password::hash(&plain))
        .await
        .map_err(crate::error::ApiError::internal)??)
}
