//! The overview (统计概览, issue 14), black box: a small town built by hand through the API
//! — organisations with grid groups and a deleted group, members of every kind (one who left,
//! one who left after the year, one who joined after it), pledges of the year in every state,
//! feedback answered, unanswered and hidden, last year's ratings (final, on notice, approved,
//! proposed), households with and without helpers and an ended pairing, village ledgers —
//! with a plain record here of everything created. Every figure the overview gives is
//! computed here from that record, independently of the server, and compared figure by
//! figure: for the whole town, for one branch, for a secretary's own scope, for a general
//! branch's, and for this year. Then who may read it, and that a write changes the answer.
//!
//! The overview's year is 2025 (ratings of 2024); a few records are dated in early 2026 (a
//! member joining, one leaving, a pairing starting after the year), so the clock must be past
//! 2026-02-01.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashSet};

use chrono::{Datelike, NaiveDate};
use common::world::{self, World, create, get};
use common::{Reply, TestApp, send, send_json, spawn_app_with_env};
use serde_json::{Value, json};

/// The overview's year: pledges are of it, ratings of the year before.
const YEAR: i32 = 2025;
/// `DANGJIAN_INCOME_TARGET_FEN` at its default, measured on total income (the default basis).
const TARGET_FEN: i64 = 5_000_000;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn today() -> NaiveDate {
    chrono::Utc::now().date_naive()
}

/// The day the overview of `year` counts members and pairings on: the year's last day, or
/// today for this year.
fn as_of(year: i32) -> NaiveDate {
    today().min(NaiveDate::from_ymd_opt(year, 12, 31).unwrap())
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap_or_else(|| panic!("no id in {v}")).to_owned()
}

// ── The record of what was created ──────────────────────────────────────────────────────────

struct OrgRec {
    id: String,
    kind: &'static str,
    parent: Option<String>,
    grid: bool,
    deleted: bool,
}

struct MemberRec {
    id: String,
    /// The branch (`org_id`).
    branch: String,
    group: Option<String>,
    gender: &'static str,
    birth: NaiveDate,
    joined: NaiveDate,
    status: &'static str,
    rural: bool,
    education: Option<&'static str>,
    left_on: Option<NaiveDate>,
}

struct PledgeRec {
    id: String,
    year: i32,
    member: Option<String>,
    /// The member's branch, or the organisation making a collective pledge.
    org: String,
    state: &'static str,
    due: Option<NaiveDate>,
}

struct FeedbackRec {
    pledge: String,
    answered: bool,
    hidden: bool,
}

struct RatingRec {
    year: i32,
    member: bool,
    /// The member's branch, or the organisation rated.
    org: String,
    level: &'static str,
    is_final: bool,
}

struct VillageRec {
    id: String,
    branch: String,
}

struct HouseholdRec {
    id: String,
    branch: String,
    status: &'static str,
}

struct PairingRec {
    household: String,
    branch: String,
    member: Option<String>,
    cadre: Option<String>,
    start: NaiveDate,
    end: Option<NaiveDate>,
}

struct RecordRec {
    village: String,
    year: i32,
    category: &'static str,
    fen: i64,
}

#[derive(Default)]
struct Book {
    orgs: Vec<OrgRec>,
    members: Vec<MemberRec>,
    pledges: Vec<PledgeRec>,
    feedback: Vec<FeedbackRec>,
    ratings: Vec<RatingRec>,
    villages: Vec<VillageRec>,
    households: Vec<HouseholdRec>,
    pairings: Vec<PairingRec>,
    records: Vec<RecordRec>,
}

const GENDERS: &[&str] = &["male", "female"];
const AGE_BANDS: &[&str] = &["up_to_35", "from_36_to_45", "from_46_to_55", "from_56_to_65", "over_65"];
const EDUCATION: &[&str] = &[
    "primary",
    "junior_high",
    "senior_high",
    "vocational",
    "college",
    "bachelor",
    "master",
    "doctorate",
];
const PARTY_BANDS: &[&str] = &["under_5", "from_5_to_9", "from_10_to_19", "from_20_to_29", "from_30"];
const LEVELS: &[&str] = &[
    "five_stars",
    "four_stars",
    "three_stars",
    "two_stars",
    "one_star",
    "unqualified",
];
const INCOME_BANDS: &[&str] = &[
    "none",
    "under_50k",
    "from_50k_to_100k",
    "from_100k_to_500k",
    "over_500k",
];
const PUBLIC: &[&str] = &["approved", "in_progress", "fulfilled", "evaluated"];
const NEEDING_HELP: &[&str] = &["in_poverty", "returned", "monitored"];
const INCOME: &[&str] = &["operating", "contracting", "investment", "subsidy", "other"];

/// Whole years from `from` to `on`.
fn whole_years(from: NaiveDate, on: NaiveDate) -> i32 {
    let mut years = on.year() - from.year();
    if (on.month(), on.day()) < (from.month(), from.day()) {
        years -= 1;
    }
    years
}

fn age_band(age: i32) -> &'static str {
    match age {
        ..=35 => "up_to_35",
        36..=45 => "from_36_to_45",
        46..=55 => "from_46_to_55",
        56..=65 => "from_56_to_65",
        _ => "over_65",
    }
}

fn party_band(years: i32) -> &'static str {
    match years {
        ..5 => "under_5",
        5..10 => "from_5_to_9",
        10..20 => "from_10_to_19",
        20..30 => "from_20_to_29",
        _ => "from_30",
    }
}

fn income_band(fen: i64) -> &'static str {
    match fen {
        ..=0 => "none",
        1..5_000_000 => "under_50k",
        5_000_000..10_000_000 => "from_50k_to_100k",
        10_000_000..=50_000_000 => "from_100k_to_500k",
        _ => "over_500k",
    }
}

impl Book {
    fn org(&self, id: &str) -> &OrgRec {
        self.orgs
            .iter()
            .find(|o| o.id == id)
            .expect("an organisation of the book")
    }

    fn member(&self, id: &str) -> &MemberRec {
        self.members.iter().find(|m| m.id == id).expect("a member of the book")
    }

    /// The live organisations of `top`'s subtree (itself included), or all of them.
    fn subtree(&self, top: Option<&str>) -> HashSet<String> {
        self.orgs
            .iter()
            .filter(|o| !o.deleted)
            .filter(|o| {
                let Some(top) = top else { return true };
                let mut at = Some(o.id.clone());
                while let Some(current) = at {
                    if current == top {
                        return true;
                    }
                    at = self.org(&current).parent.clone();
                }
                false
            })
            .map(|o| o.id.clone())
            .collect()
    }

    /// Every figure of the overview of the organisations `ids` in `year`, as the doc comments
    /// of `src/overview/types.rs` define them, flattened as [`flatten`] flattens the answer.
    fn expected(&self, ids: &HashSet<String>, year: i32) -> BTreeMap<String, Value> {
        let (as_of, today) = (as_of(year), today());
        let mut f: BTreeMap<String, Value> = BTreeMap::new();
        f.insert("year".into(), json!(year));
        f.insert("ratings.year".into(), json!(year - 1));
        f.insert("income.target_fen".into(), json!(TARGET_FEN));
        f.insert("income.basis".into(), json!("total"));
        let mut put = |key: String, n: usize| {
            f.insert(key, json!(n));
        };

        // Organisations.
        let live: Vec<&OrgRec> = self.orgs.iter().filter(|o| ids.contains(&o.id)).collect();
        for (figure, kind) in [
            ("committees", "committee"),
            ("general_branches", "general_branch"),
            ("branches", "branch"),
            ("groups", "group"),
        ] {
            put(format!("orgs.{figure}"), live.iter().filter(|o| o.kind == kind).count());
        }
        put("orgs.grid_groups".into(), live.iter().filter(|o| o.grid).count());

        // Members on the rolls on the reference day.
        let rolls: Vec<&MemberRec> = self
            .members
            .iter()
            .filter(|m| ids.contains(&m.branch))
            .filter(|m| m.joined <= as_of && m.left_on.is_none_or(|l| l > as_of))
            .collect();
        put("members.total".into(), rolls.len());
        put(
            "members.full".into(),
            rolls.iter().filter(|m| m.status == "full").count(),
        );
        put(
            "members.probationary".into(),
            rolls.iter().filter(|m| m.status == "probationary").count(),
        );
        put("members.rural".into(), rolls.iter().filter(|m| m.rural).count());
        for g in GENDERS {
            put(
                format!("members.by_gender.{g}"),
                rolls.iter().filter(|m| m.gender == *g).count(),
            );
        }
        for b in AGE_BANDS {
            let n = rolls
                .iter()
                .filter(|m| age_band(whole_years(m.birth, as_of)) == *b)
                .count();
            put(format!("members.by_age.{b}"), n);
        }
        for e in EDUCATION {
            put(
                format!("members.by_education.{e}"),
                rolls.iter().filter(|m| m.education == Some(*e)).count(),
            );
        }
        put(
            "members.education_unknown".into(),
            rolls.iter().filter(|m| m.education.is_none()).count(),
        );
        for b in PARTY_BANDS {
            let n = rolls
                .iter()
                .filter(|m| party_band(whole_years(m.joined, as_of)) == *b)
                .count();
            put(format!("members.by_party_years.{b}"), n);
        }

        // The year's public pledges.
        let of_year: Vec<&PledgeRec> = self
            .pledges
            .iter()
            .filter(|p| p.year == year && ids.contains(&p.org))
            .collect();
        let public: Vec<&PledgeRec> = of_year.iter().copied().filter(|p| PUBLIC.contains(&p.state)).collect();
        put("pledges.public_items".into(), public.len());
        put(
            "pledges.collective_items".into(),
            public.iter().filter(|p| p.member.is_none()).count(),
        );
        let pledged: BTreeSet<&str> = public.iter().filter_map(|p| p.member.as_deref()).collect();
        put("pledges.members_pledged".into(), pledged.len());
        put(
            "pledges.rural_members_pledged".into(),
            pledged.iter().filter(|m| self.member(m).rural).count(),
        );
        put(
            "pledges.fulfilled".into(),
            public
                .iter()
                .filter(|p| matches!(p.state, "fulfilled" | "evaluated"))
                .count(),
        );
        put(
            "pledges.evaluated".into(),
            public.iter().filter(|p| p.state == "evaluated").count(),
        );
        put(
            "pledges.overdue".into(),
            of_year
                .iter()
                .filter(|p| matches!(p.state, "approved" | "in_progress"))
                .filter(|p| p.due.is_some_and(|due| due < today))
                .count(),
        );
        let on_board: HashSet<&str> = public.iter().map(|p| p.id.as_str()).collect();
        let visible: Vec<&FeedbackRec> = self
            .feedback
            .iter()
            .filter(|fb| on_board.contains(fb.pledge.as_str()) && !fb.hidden)
            .collect();
        put("pledges.feedback_received".into(), visible.len());
        put(
            "pledges.feedback_answered".into(),
            visible.iter().filter(|fb| fb.answered).count(),
        );
        // The branch a pledge counts for: its organisation, or a group's branch.
        let serving: HashSet<String> = public
            .iter()
            .map(|p| {
                let o = self.org(&p.org);
                if o.kind == "group" {
                    o.parent.clone().unwrap()
                } else {
                    o.id.clone()
                }
            })
            .collect();
        put(
            "pledges.villages_on_board".into(),
            self.villages.iter().filter(|v| serving.contains(&v.branch)).count(),
        );

        // Last year's final ratings.
        let finals: Vec<&RatingRec> = self
            .ratings
            .iter()
            .filter(|r| r.year == year - 1 && r.is_final && ids.contains(&r.org))
            .collect();
        for level in LEVELS {
            put(
                format!("ratings.members.{level}"),
                finals.iter().filter(|r| r.member && r.level == *level).count(),
            );
            if *level != "unqualified" {
                put(
                    format!("ratings.orgs.{level}"),
                    finals.iter().filter(|r| !r.member && r.level == *level).count(),
                );
            }
        }

        // Pairings active on the reference day.
        let active: Vec<&PairingRec> = self
            .pairings
            .iter()
            .filter(|p| ids.contains(&p.branch))
            .filter(|p| p.start <= as_of && p.end.is_none_or(|e| e >= as_of))
            .collect();
        let distinct = |f: &dyn Fn(&PairingRec) -> Option<String>| -> usize {
            active.iter().filter_map(|p| f(p)).collect::<HashSet<_>>().len()
        };
        put(
            "pairings.members_helping".into(),
            distinct(&|p: &PairingRec| p.member.clone()),
        );
        put(
            "pairings.cadres_helping".into(),
            distinct(&|p: &PairingRec| p.cadre.clone()),
        );
        put(
            "pairings.households_paired".into(),
            distinct(&|p: &PairingRec| Some(p.household.clone())),
        );
        let helped: HashSet<&str> = active.iter().map(|p| p.household.as_str()).collect();
        let needing: Vec<&HouseholdRec> = self
            .households
            .iter()
            .filter(|h| ids.contains(&h.branch) && NEEDING_HELP.contains(&h.status))
            .collect();
        put("pairings.households_needing_help".into(), needing.len());
        put(
            "pairings.households_without_helper".into(),
            needing.iter().filter(|h| !helped.contains(h.id.as_str())).count(),
        );

        // The villages' income of the year against the target (on total income).
        let villages: Vec<&VillageRec> = self.villages.iter().filter(|v| ids.contains(&v.branch)).collect();
        put("income.villages".into(), villages.len());
        let (mut at_target, mut empty_shell) = (0, 0);
        let mut bands: BTreeMap<&str, usize> = INCOME_BANDS.iter().map(|b| (*b, 0)).collect();
        for v in &villages {
            let sum = |cats: &[&str]| -> i64 {
                self.records
                    .iter()
                    .filter(|r| r.village == v.id && r.year == year && cats.contains(&r.category))
                    .map(|r| r.fen)
                    .sum()
            };
            let total = sum(INCOME);
            let operating = total - sum(&["subsidy"]);
            at_target += usize::from(total >= TARGET_FEN);
            empty_shell += usize::from(operating <= 0);
            *bands.get_mut(income_band(total)).unwrap() += 1;
        }
        put("income.at_target".into(), at_target);
        put("income.empty_shell".into(), empty_shell);
        for (band, n) in bands {
            put(format!("income.bands.{band}"), n);
        }
        f
    }
}

/// The overview's figures as `path → value`: lists of counts by their value (`by_gender.male`,
/// `ratings.orgs.five_stars`, `income.bands.none`), each label checked to be there. `org_id`
/// and `as_of` are left out (checked on their own).
fn flatten(overview: &Value) -> BTreeMap<String, Value> {
    fn walk(prefix: &str, v: &Value, out: &mut BTreeMap<String, Value>) {
        match v {
            Value::Object(map) => {
                for (k, v) in map {
                    let path = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&path, v, out);
                }
            }
            Value::Array(items) => {
                for item in items {
                    let key = ["value", "level", "band"]
                        .iter()
                        .find_map(|k| item[*k].as_str())
                        .unwrap_or_else(|| panic!("{prefix}: an entry without a value: {item}"));
                    let count = ["members", "count", "villages"]
                        .iter()
                        .map(|k| &item[*k])
                        .find(|c| !c.is_null())
                        .unwrap_or_else(|| panic!("{prefix}: an entry without a count: {item}"));
                    assert!(
                        item["label"].as_str().is_some_and(|l| !l.is_empty()),
                        "{prefix}.{key} has no label: {item}"
                    );
                    let path = format!("{prefix}.{key}");
                    assert!(!out.contains_key(&path), "{path} listed twice");
                    out.insert(path, count.clone());
                }
            }
            other => {
                out.insert(prefix.to_owned(), other.clone());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk("", overview, &mut out);
    out.remove("org_id");
    out.remove("as_of");
    out
}

/// Compares every figure; on any difference, fails listing all of them.
fn assert_figures(what: &str, overview: &Value, expected: &BTreeMap<String, Value>) {
    let actual = flatten(overview);
    let mut wrong = Vec::new();
    for (key, want) in expected {
        match actual.get(key) {
            Some(got) if got == want => {}
            Some(got) => wrong.push(format!("  {key}: expected {want}, got {got}")),
            None => wrong.push(format!("  {key}: expected {want}, missing")),
        }
    }
    for key in actual.keys().filter(|k| !expected.contains_key(*k)) {
        wrong.push(format!("  {key}: not computed here (got {})", actual[key]));
    }
    assert!(
        wrong.is_empty(),
        "{what}: {} figure(s) differ:\n{}\nanswer: {overview}",
        wrong.len(),
        wrong.join("\n")
    );
}

// ── Building the town through the API ───────────────────────────────────────────────────────

struct Town {
    app: TestApp,
    w: World,
    book: Book,
    /// 小组A's grid sibling 网格一组 (支部A), 总支C, 支部C1 (under 总支C), 网格三组 (支部C1).
    grid_a: String,
    general_c: String,
    branch_c1: String,
    grid_c: String,
    /// A 2025 public pledge of 支部A (for feedback after the fact).
    a_public_pledge: String,
}

async fn new_org(
    app: &TestApp,
    token: &str,
    parent: &str,
    kind: &str,
    name: &str,
    villager_group: Option<&str>,
) -> String {
    let mut body = json!({"parent_id": parent, "kind": kind, "name": name});
    if let Some(vg) = villager_group {
        body["villager_group_id"] = json!(vg);
    }
    id(&create(app, token, "/api/v1/orgs", body).await)
}

async fn villager_group(app: &TestApp, token: &str, village: &str, name: &str) -> String {
    id(&create(
        app,
        token,
        "/api/v1/villager-groups",
        json!({"village_id": village, "name": name}),
    )
    .await)
}

/// The ETag of the resource at `path`.
async fn etag(app: &TestApp, token: &str, path: &str) -> String {
    let reply = get(app, token, path).await;
    assert_eq!(reply.status, 200, "GET {path}: {}", reply.text());
    reply.header("etag").expect("an ETag").to_owned()
}

struct NewMember {
    name: &'static str,
    branch: String,
    group: Option<String>,
    gender: &'static str,
    birth: &'static str,
    joined: &'static str,
    status: &'static str,
    rural: bool,
    education: Option<&'static str>,
}

impl Book {
    async fn add_member(&mut self, app: &TestApp, token: &str, m: NewMember) -> String {
        let n = self.members.len() + 1;
        // The 17th digit of an ID number is odd for men, even for women.
        let seq = format!("{n:02}{}", if m.gender == "male" { 1 } else { 2 });
        let number = world::id_number("340822", &m.birth.replace('-', ""), &seq);
        let mut body = json!({
            "name": m.name,
            "gender": m.gender,
            "birth_date": m.birth,
            "id_number": number,
            "joined_on": m.joined,
            "status": m.status,
            "org_id": m.branch,
            "rural": m.rural,
        });
        if let Some(g) = &m.group {
            body["group_id"] = json!(g);
        }
        if let Some(e) = m.education {
            body["education"] = json!(e);
        }
        let member_id = id(&world::create_member(app, token, body).await);
        self.members.push(MemberRec {
            id: member_id.clone(),
            branch: m.branch,
            group: m.group,
            gender: m.gender,
            birth: d(m.birth),
            joined: d(m.joined),
            status: m.status,
            rural: m.rural,
            education: m.education,
            left_on: None,
        });
        member_id
    }

    async fn leave(&mut self, app: &TestApp, token: &str, member: &str, left_on: &str) {
        let path = format!("/api/v1/members/{member}");
        let tag = etag(app, token, &path).await;
        let reply = send_json(
            app.server
                .post(format!("{path}/leave"))
                .bearer_auth(token)
                .insert_header(("If-Match", tag)),
            &json!({"reason": "transferred_out", "left_on": left_on}),
        )
        .await;
        assert_eq!(reply.status, 200, "leave {member}: {}", reply.text());
        let m = self.members.iter_mut().find(|m| m.id == member).unwrap();
        m.left_on = Some(d(left_on));
    }

    /// A pledge of `year` written by `author`, moved to `state` (`reviewer` approves, returns
    /// and evaluates): an individual one of `member`, or a collective one of `org`.
    #[allow(clippy::too_many_arguments)]
    async fn pledge(
        &mut self,
        app: &TestApp,
        (author, reviewer): (&str, &str),
        year: i32,
        who: Who<'_>,
        state: &'static str,
        due: Option<&str>,
    ) -> String {
        let title = format!("{year}年承诺{}", self.pledges.len() + 1);
        let mut body = json!({
            "year": year,
            "title": title,
            "content": format!("{title}：年内完成"),
            "category": "infrastructure",
        });
        if let Some(due) = due {
            body["due_on"] = json!(due);
        }
        let (member, org) = match who {
            Who::Member(m) => {
                body["member_id"] = json!(m);
                (Some(m.to_owned()), self.member(m).branch.clone())
            }
            Who::Org(o) => {
                body["kind"] = json!("collective");
                body["org_id"] = json!(o);
                (None, o.to_owned())
            }
        };
        let view = world::pledge_in_state(app, author, reviewer, body, state).await;
        assert_eq!(view["org_id"], org.as_str(), "{view}");
        let pledge_id = id(&view);
        self.pledges.push(PledgeRec {
            id: pledge_id.clone(),
            year,
            member,
            org,
            state,
            due: due.map(d),
        });
        pledge_id
    }

    /// Public feedback on `pledge`; answered and hidden by `token` as asked.
    async fn feedback(&mut self, app: &TestApp, token: &str, pledge: &str, answered: bool, hidden: bool) {
        let n = self.feedback.len() + 1;
        let reply = send_json(
            app.server.post(format!("/api/v1/public/pledges/{pledge}/feedback")),
            &json!({"message": format!("第{n}条留言")}),
        )
        .await;
        assert_eq!(reply.status, 201, "feedback: {}", reply.text());
        let fid = id(&reply.json());
        for (yes, what, body) in [
            (answered, "reply", json!({"reply": "已落实"})),
            (hidden, "visibility", json!({"hidden": true})),
        ] {
            if yes {
                let reply = send_json(
                    app.server
                        .post(format!("/api/v1/pledges/{pledge}/feedback/{fid}/{what}"))
                        .bearer_auth(token),
                    &body,
                )
                .await;
                assert_eq!(reply.status, 200, "{what}: {}", reply.text());
            }
        }
        self.feedback.push(FeedbackRec {
            pledge: pledge.to_owned(),
            answered,
            hidden,
        });
    }

    /// A rating proposed by `admin`, approved unless `approve` is false. Whether it becomes
    /// final is set in the book when its notice ends.
    async fn rate(&mut self, app: &TestApp, admin: &str, year: i32, who: Who<'_>, level: &'static str, approve: bool) {
        let (mut body, member, org) = match who {
            Who::Member(m) => (json!({"member_id": m}), true, self.member(m).branch.clone()),
            Who::Org(o) => (json!({"org_id": o}), false, o.to_owned()),
        };
        body["year"] = json!(year);
        body["level"] = json!(level);
        let reply = send_json(app.server.post("/api/v1/ratings").bearer_auth(admin), &body).await;
        assert_eq!(reply.status, 201, "rate {body}: {}", reply.text());
        let rating = reply.json();
        assert_eq!(rating["org_id"], org.as_str(), "{rating}");
        if approve {
            let reply = send(
                app.server
                    .post(format!("/api/v1/ratings/{}/approve", id(&rating)))
                    .bearer_auth(admin),
            )
            .await;
            assert_eq!(reply.status, 200, "approve: {}", reply.text());
        }
        self.ratings.push(RatingRec {
            year,
            member,
            org,
            level,
            is_final: false,
        });
    }

    async fn household(&mut self, app: &TestApp, token: &str, village: &str, status: &'static str) -> String {
        let n = self.households.len() + 1;
        let mut body = world::household_body(&format!("户主{n}"), village, &world::head_id_number(n));
        body["status"] = json!(status);
        if status == "lifted" {
            body["lifted_year"] = json!(2024);
        }
        let h = world::create_household(app, token, body).await;
        let branch = self.villages.iter().find(|v| v.id == village).unwrap().branch.clone();
        assert_eq!(h["org_id"], branch.as_str(), "{h}");
        self.households.push(HouseholdRec {
            id: id(&h),
            branch,
            status,
        });
        id(&h)
    }

    /// Pairs a helper (`{"member_id": …}` or `{"cadre_id": …}`) with a household from `start`,
    /// ended on `end` if given.
    async fn pair(
        &mut self,
        app: &TestApp,
        token: &str,
        household: &str,
        helper: Value,
        start: &str,
        end: Option<&str>,
    ) {
        let mut body = helper.clone();
        body["household_id"] = json!(household);
        body["start_on"] = json!(start);
        let reply = send_json(app.server.post("/api/v1/pairings").bearer_auth(token), &body).await;
        assert_eq!(reply.status, 201, "pair {body}: {}", reply.text());
        let pairing = reply.json();
        if let Some(end) = end {
            let reply = send_json(
                app.server
                    .post(format!("/api/v1/pairings/{}/end", id(&pairing)))
                    .bearer_auth(token),
                &json!({"end_on": end, "reason": "工作调整"}),
            )
            .await;
            assert_eq!(reply.status, 200, "end: {}", reply.text());
        }
        let branch = self
            .households
            .iter()
            .find(|h| h.id == household)
            .unwrap()
            .branch
            .clone();
        self.pairings.push(PairingRec {
            household: household.to_owned(),
            branch,
            member: helper["member_id"].as_str().map(str::to_owned),
            cadre: helper["cadre_id"].as_str().map(str::to_owned),
            start: d(start),
            end: end.map(d),
        });
    }

    async fn record(&mut self, app: &TestApp, token: &str, village: &str, year: i32, category: &'static str, fen: i64) {
        create(
            app,
            token,
            "/api/v1/finance-records",
            json!({
                "village_id": village,
                "year": year,
                "category": category,
                "amount_fen": fen,
                "received_on": format!("{year}-12-20"),
            }),
        )
        .await;
        self.records.push(RecordRec {
            village: village.to_owned(),
            year,
            category,
            fen,
        });
    }
}

#[derive(Clone, Copy)]
enum Who<'a> {
    Member(&'a str),
    Org(&'a str),
}

/// Every notice's end a day into the past, as time passing would (as in `tests/ratings.rs`).
async fn end_notices(app: &TestApp) {
    use dangjian::ratings::entity::rating;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
    rating::Entity::update_many()
        .col_expr(
            rating::Column::NoticeEndsAt,
            Expr::value(chrono::Utc::now() - chrono::Duration::days(1)),
        )
        .filter(rating::Column::NoticeEndsAt.is_not_null())
        .exec(&app.db)
        .await
        .unwrap();
}

async fn publish(app: &TestApp, admin: &str, year: i32, root: &str) -> u64 {
    let reply = send_json(
        app.server.post("/api/v1/ratings/notices").bearer_auth(admin),
        &json!({"year": year, "org_id": root}),
    )
    .await;
    assert_eq!(reply.status, 200, "publish {year}: {}", reply.text());
    reply.json()["published"].as_u64().unwrap()
}

/// ```text
/// 镇党委 (root)
/// ├── 支部A ─ 司山村 (villager group 一组)
/// │   ├── 小组A
/// │   └── 网格一组 (grid group of 司山村一组)
/// ├── 支部B ─ 大洼社区, 五里村
/// │   ├── 小组B
/// │   └── 待撤小组 (deleted)
/// └── 总支C (general branch)
///     └── 支部C1 ─ 河口村 (villager group 三组)
///         └── 网格三组 (grid group of 河口村三组)
/// ```
async fn build_town() -> Town {
    let app = spawn_app_with_env(&[("DANGJIAN_FEEDBACK_RATE_PER_HOUR", "1000")]).await;
    let mut w = world::build(&app).await;
    let admin = w.token("admin").to_owned();
    let (sec_a, sec_b) = (w.token("sec_a").to_owned(), w.token("sec_b").to_owned());
    let mut book = Book::default();

    // Organisations and places.
    let org = |id: &str, kind: &'static str, parent: Option<&str>| OrgRec {
        id: id.to_owned(),
        kind,
        parent: parent.map(str::to_owned),
        grid: false,
        deleted: false,
    };
    book.orgs.push(org(&w.root, "committee", None));
    book.orgs.push(org(&w.branch_a, "branch", Some(&w.root)));
    book.orgs.push(org(&w.group_a, "group", Some(&w.branch_a)));
    book.orgs.push(org(&w.branch_b, "branch", Some(&w.root)));
    book.orgs.push(org(&w.group_b, "group", Some(&w.branch_b)));
    let general_c = new_org(&app, &admin, &w.root, "general_branch", "总支C", None).await;
    book.orgs.push(org(&general_c, "general_branch", Some(&w.root)));
    let branch_c1 = new_org(&app, &admin, &general_c, "branch", "支部C1", None).await;
    book.orgs.push(org(&branch_c1, "branch", Some(&general_c)));

    let village = async |branch: &str, kind: &str, name: &str, book: &mut Book| {
        let v = id(&create(
            &app,
            &admin,
            "/api/v1/villages",
            json!({"kind": kind, "name": name, "org_id": branch}),
        )
        .await);
        book.villages.push(VillageRec {
            id: v.clone(),
            branch: branch.to_owned(),
        });
        v
    };
    let sishan = village(&w.branch_a, "village", "司山村", &mut book).await;
    let dawa = village(&w.branch_b, "community", "大洼社区", &mut book).await;
    let wuli = village(&w.branch_b, "village", "五里村", &mut book).await;
    let hekou = village(&branch_c1, "village", "河口村", &mut book).await;

    let yizu = villager_group(&app, &admin, &sishan, "一组").await;
    let sanzu = villager_group(&app, &admin, &hekou, "三组").await;
    let grid_a = new_org(&app, &admin, &w.branch_a, "group", "网格一组", Some(&yizu)).await;
    book.orgs.push(OrgRec {
        grid: true,
        ..org(&grid_a, "group", Some(&w.branch_a))
    });
    let grid_c = new_org(&app, &admin, &branch_c1, "group", "网格三组", Some(&sanzu)).await;
    book.orgs.push(OrgRec {
        grid: true,
        ..org(&grid_c, "group", Some(&branch_c1))
    });
    // A group set up and deleted again: not counted.
    let gone = new_org(&app, &admin, &w.branch_b, "group", "待撤小组", None).await;
    let path = format!("/api/v1/orgs/{gone}");
    let tag = etag(&app, &admin, &path).await;
    let reply = send(
        app.server
            .delete(&path)
            .bearer_auth(&admin)
            .insert_header(("If-Match", tag)),
    )
    .await;
    assert_eq!(reply.status, 204, "delete: {}", reply.text());
    book.orgs.push(OrgRec {
        deleted: true,
        ..org(&gone, "group", Some(&w.branch_b))
    });

    // 总支C's secretary writes 支部C1's pledges.
    let (sec_c_id, sec_c) = world::add_account(&app, &admin, "sec_c", &general_c, "branch_secretary", &general_c).await;
    w.tokens.insert("sec_c".into(), sec_c.clone());
    w.users.insert("sec_c".into(), sec_c_id);

    // Members. Ages and years in the Party on 2025-12-31 in the comments; the boundaries of
    // the bands are exact days.
    let m = |name, branch: &str, group: Option<&str>, gender, birth, joined, status, rural, education| NewMember {
        name,
        branch: branch.to_owned(),
        group: group.map(str::to_owned),
        gender,
        birth,
        joined,
        status,
        rural,
        education,
    };
    let (a, b) = (w.branch_a.clone(), w.branch_b.clone());
    // 支部A
    let cheng = book
        .add_member(
            &app,
            &sec_a,
            m(
                "程军",
                &a,
                Some(&w.group_a),
                "male",
                "1979-03-15",
                "2015-07-01",
                "full",
                true,
                Some("junior_high"),
            ),
        )
        .await; // 46, 10 years
    let wang = book
        .add_member(
            &app,
            &sec_a,
            m(
                "王芳",
                &a,
                Some(&grid_a),
                "female",
                "1990-01-01",
                "2021-01-01",
                "probationary",
                true,
                Some("college"),
            ),
        )
        .await; // 35 (36 the next day), 4 years (5 the next day)
    let li = book
        .add_member(
            &app,
            &sec_a,
            m(
                "李强",
                &a,
                None,
                "male",
                "1989-12-31",
                "2020-12-31",
                "full",
                false,
                Some("bachelor"),
            ),
        )
        .await; // 36 that day, 5 years that day
    let zhao = book
        .add_member(
            &app,
            &sec_a,
            m(
                "赵敏",
                &a,
                None,
                "female",
                "1955-06-01",
                "1985-07-01",
                "full",
                true,
                None,
            ),
        )
        .await; // 70, 40 years; no education recorded
    let sun = book
        .add_member(
            &app,
            &sec_a,
            m(
                "孙离",
                &a,
                None,
                "male",
                "1970-01-01",
                "2000-07-01",
                "full",
                true,
                Some("primary"),
            ),
        )
        .await; // left 2025-06-30
    let _zhou = book
        .add_member(
            &app,
            &sec_a,
            m(
                "周新",
                &a,
                None,
                "female",
                "2000-05-05",
                "2026-01-20",
                "probationary",
                true,
                Some("senior_high"),
            ),
        )
        .await; // joined after the year
    let wu = book
        .add_member(
            &app,
            &sec_a,
            m(
                "吴末",
                &a,
                Some(&w.group_a),
                "male",
                "1960-12-31",
                "1995-12-31",
                "full",
                true,
                Some("vocational"),
            ),
        )
        .await; // 65 that day, 30 years that day; leaves 2026-02-01: on the rolls
    let zheng = book
        .add_member(
            &app,
            &sec_a,
            m(
                "郑同",
                &a,
                None,
                "female",
                "1980-02-29",
                "2005-12-31",
                "full",
                true,
                Some("college"),
            ),
        )
        .await; // leaves on 2025-12-31 itself: not on the rolls that day
    // 支部B
    let chen = book
        .add_member(
            &app,
            &sec_b,
            m(
                "陈一",
                &b,
                Some(&w.group_b),
                "male",
                "1975-05-05",
                "2010-01-01",
                "full",
                true,
                Some("master"),
            ),
        )
        .await; // 50, 15 years
    let lin = book
        .add_member(
            &app,
            &sec_b,
            m(
                "林二",
                &b,
                None,
                "female",
                "1985-08-08",
                "2015-08-08",
                "full",
                false,
                Some("doctorate"),
            ),
        )
        .await; // 40, 10 years
    let huang = book
        .add_member(
            &app,
            &sec_b,
            m("黄三", &b, None, "male", "1966-01-01", "1996-01-01", "full", true, None),
        )
        .await; // 59, 29 years
    let he = book
        .add_member(
            &app,
            &sec_b,
            m(
                "何四",
                &b,
                None,
                "female",
                "1995-03-03",
                "2024-07-01",
                "probationary",
                true,
                Some("senior_high"),
            ),
        )
        .await; // 30, 1 year
    // 支部C1
    let ma = book
        .add_member(
            &app,
            &sec_c,
            m(
                "马五",
                &branch_c1,
                Some(&grid_c),
                "male",
                "1976-10-10",
                "2001-10-10",
                "full",
                true,
                Some("junior_high"),
            ),
        )
        .await; // 49, 24 years
    let _luo = book
        .add_member(
            &app,
            &sec_c,
            m(
                "罗六",
                &branch_c1,
                None,
                "female",
                "1981-11-11",
                "2016-11-11",
                "full",
                false,
                Some("bachelor"),
            ),
        )
        .await; // 44, 9 years

    // Pledges: secretaries write, the town reviews.
    let by_a = (sec_a.as_str(), admin.as_str());
    let by_b = (sec_b.as_str(), admin.as_str());
    let by_c = (sec_c.as_str(), admin.as_str());
    let by_town = (admin.as_str(), admin.as_str());
    let p_cheng_approved = book
        .pledge(&app, by_a, YEAR, Who::Member(&cheng), "approved", Some("2025-06-30"))
        .await; // overdue
    book.pledge(&app, by_a, YEAR, Who::Member(&cheng), "fulfilled", Some("2025-05-31"))
        .await;
    let p_wang_in_progress = book
        .pledge(&app, by_a, YEAR, Who::Member(&wang), "in_progress", Some("2025-09-30"))
        .await; // overdue
    book.pledge(&app, by_a, YEAR, Who::Member(&li), "evaluated", Some("2025-10-31"))
        .await;
    book.pledge(&app, by_a, YEAR, Who::Member(&zhao), "draft", Some("2025-03-31"))
        .await;
    book.pledge(&app, by_a, YEAR, Who::Member(&zhao), "submitted", Some("2025-03-31"))
        .await;
    book.pledge(&app, by_a, YEAR, Who::Member(&wu), "returned", Some("2025-03-31"))
        .await;
    book.pledge(&app, by_a, YEAR, Who::Member(&wang), "withdrawn", None)
        .await;
    book.pledge(&app, by_a, YEAR, Who::Member(&sun), "fulfilled", None)
        .await; // before he left
    book.pledge(&app, by_a, YEAR, Who::Org(&w.group_a), "approved", None)
        .await;
    book.pledge(
        &app,
        by_a,
        YEAR,
        Who::Org(&w.branch_a),
        "in_progress",
        Some("2099-06-30"),
    )
    .await; // due far ahead: never overdue
    book.pledge(&app, by_a, YEAR, Who::Org(&grid_a), "evaluated", None)
        .await;
    let p_cheng_last_year = book
        .pledge(
            &app,
            by_a,
            YEAR - 1,
            Who::Member(&cheng),
            "approved",
            Some("2024-06-30"),
        )
        .await; // another year
    let p_chen = book
        .pledge(&app, by_b, YEAR, Who::Member(&chen), "approved", Some("2025-03-31"))
        .await; // overdue
    book.pledge(&app, by_b, YEAR, Who::Member(&lin), "fulfilled", Some("2025-03-31"))
        .await;
    book.pledge(&app, by_b, YEAR, Who::Member(&he), "in_progress", None)
        .await;
    book.pledge(&app, by_b, YEAR, Who::Member(&he), "approved", Some("2025-11-30"))
        .await; // 何四's second: counted once among members; overdue
    book.pledge(&app, by_b, YEAR, Who::Org(&w.group_b), "draft", None).await;
    book.pledge(&app, by_c, YEAR, Who::Member(&ma), "submitted", Some("2025-03-31"))
        .await;
    let p_general = book
        .pledge(&app, by_c, YEAR, Who::Org(&general_c), "approved", None)
        .await; // a general branch's: no village
    book.pledge(&app, by_town, YEAR, Who::Org(&w.root), "fulfilled", Some("2025-12-01"))
        .await;

    // Feedback: the town answers and hides.
    book.feedback(&app, &admin, &p_cheng_approved, true, false).await;
    book.feedback(&app, &admin, &p_cheng_approved, false, false).await;
    book.feedback(&app, &admin, &p_cheng_approved, true, true).await;
    book.feedback(&app, &admin, &p_wang_in_progress, false, true).await;
    book.feedback(&app, &sec_b, &p_chen, true, false).await;
    book.feedback(&app, &admin, &p_cheng_last_year, true, false).await;
    book.feedback(&app, &admin, &p_general, false, false).await;

    // Ratings: of 2024 (the year before), and of 2025 and 2023 (not the year before).
    let last = YEAR - 1;
    book.rate(&app, &admin, last, Who::Member(&cheng), "five_stars", true)
        .await;
    book.rate(&app, &admin, last, Who::Member(&wang), "four_stars", true)
        .await;
    book.rate(&app, &admin, last, Who::Member(&li), "three_stars", true)
        .await;
    book.rate(&app, &admin, last, Who::Member(&zhao), "unqualified", true)
        .await;
    book.rate(&app, &admin, last, Who::Member(&sun), "five_stars", true)
        .await;
    book.rate(&app, &admin, last, Who::Member(&chen), "five_stars", true)
        .await;
    book.rate(&app, &admin, last, Who::Member(&ma), "four_stars", true)
        .await;
    book.rate(&app, &admin, last, Who::Org(&w.branch_a), "five_stars", true)
        .await;
    book.rate(&app, &admin, last, Who::Org(&w.branch_b), "four_stars", true)
        .await;
    book.rate(&app, &admin, last, Who::Org(&general_c), "three_stars", true)
        .await;
    book.rate(&app, &admin, YEAR, Who::Member(&cheng), "one_star", true)
        .await;
    book.rate(&app, &admin, YEAR - 2, Who::Org(&w.branch_a), "two_stars", true)
        .await;
    for year in [last, YEAR, YEAR - 2] {
        assert!(publish(&app, &admin, year, &w.root).await > 0);
    }
    end_notices(&app).await;
    for r in &mut book.ratings {
        r.is_final = true;
    }
    // On notice still, approved only, proposed only: not final.
    book.rate(&app, &admin, last, Who::Member(&huang), "two_stars", true)
        .await;
    assert_eq!(publish(&app, &admin, last, &w.root).await, 1);
    book.rate(&app, &admin, last, Who::Org(&branch_c1), "four_stars", true)
        .await;
    book.rate(&app, &admin, last, Who::Member(&lin), "one_star", false)
        .await;

    // Members leave: 孙离 in the year, 郑同 on its last day, 吴末 after it.
    book.leave(&app, &sec_a, &sun, "2025-06-30").await;
    book.leave(&app, &sec_a, &zheng, "2025-12-31").await;
    book.leave(&app, &sec_a, &wu, "2026-02-01").await;

    // Households and pairings.
    let cadre = |org: &str, name: &str| json!({"org_id": org, "name": name, "work_unit": "平山镇政府"});
    let cadre_a = id(&create(&app, &admin, "/api/v1/cadres", cadre(&w.branch_a, "张干部")).await);
    let cadre_b = id(&create(&app, &admin, "/api/v1/cadres", cadre(&w.branch_b, "刘干部")).await);
    let h1 = book.household(&app, &sec_a, &sishan, "in_poverty").await;
    let h2 = book.household(&app, &sec_a, &sishan, "monitored").await;
    let h3 = book.household(&app, &sec_a, &sishan, "returned").await;
    let h4 = book.household(&app, &sec_a, &sishan, "lifted").await;
    let h5 = book.household(&app, &sec_b, &dawa, "in_poverty").await;
    let h6 = book.household(&app, &sec_b, &dawa, "in_poverty").await;
    book.household(&app, &sec_b, &wuli, "monitored").await; // nobody helps
    let h8 = book.household(&app, &sec_c, &hekou, "in_poverty").await;
    book.household(&app, &sec_c, &hekou, "lifted").await;
    book.pair(&app, &sec_a, &h1, json!({"member_id": cheng}), "2024-03-01", None)
        .await;
    book.pair(&app, &sec_a, &h2, json!({"cadre_id": cadre_a}), "2025-01-01", None)
        .await;
    book.pair(&app, &sec_a, &h2, json!({"member_id": wang}), "2025-02-01", None)
        .await; // a second helper
    book.pair(
        &app,
        &sec_a,
        &h3,
        json!({"member_id": li}),
        "2023-01-01",
        Some("2025-06-30"),
    )
    .await; // ended in the year
    book.pair(&app, &sec_a, &h4, json!({"member_id": cheng}), "2024-03-01", None)
        .await; // lifted, still helped (脱贫不脱帮扶)
    book.pair(&app, &sec_b, &h5, json!({"member_id": chen}), "2026-02-01", None)
        .await; // starts after the year
    book.pair(
        &app,
        &sec_b,
        &h6,
        json!({"cadre_id": cadre_b}),
        "2024-05-01",
        Some("2025-12-31"),
    )
    .await; // its last day is the year's last day: active on it
    book.pair(&app, &sec_c, &h8, json!({"member_id": ma}), "2025-04-01", None)
        .await;

    // Village ledgers.
    book.record(&app, &admin, &sishan, YEAR, "operating", 3_000_000).await;
    book.record(&app, &admin, &sishan, YEAR, "subsidy", 2_500_000).await; // 55,000 yuan in all: at target
    book.record(&app, &admin, &sishan, YEAR, "operating_expense", 4_000_000)
        .await; // not income
    book.record(&app, &admin, &dawa, YEAR, "subsidy", 1_000_000).await; // subsidies only: empty shell
    book.record(&app, &admin, &wuli, YEAR - 1, "operating", 20_000_000)
        .await; // last year only
    book.record(&app, &admin, &hekou, YEAR, "contracting", 60_000_000).await;
    book.record(&app, &admin, &hekou, YEAR, "villager_dividend", 1_000_000)
        .await;

    let a_public_pledge = p_cheng_approved;
    Town {
        app,
        w,
        book,
        grid_a,
        general_c,
        branch_c1,
        grid_c,
        a_public_pledge,
    }
}

async fn overview(app: &TestApp, token: &str, query: &str) -> Reply {
    get(app, token, &format!("/api/v1/stats/overview?{query}")).await
}

async fn overview_json(app: &TestApp, token: &str, query: &str) -> Value {
    let reply = overview(app, token, query).await;
    assert_eq!(reply.status, 200, "overview?{query}: {}", reply.text());
    reply.json()
}

/// The overview's income figures are the income summary's.
async fn assert_income_as_summary(app: &TestApp, token: &str, query: &str, overview: &Value) {
    let reply = get(app, token, &format!("/api/v1/income/summary?{query}")).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let summary = reply.json();
    for figure in ["villages", "at_target", "empty_shell", "bands", "target_fen", "basis"] {
        assert_eq!(
            overview["income"][figure], summary[figure],
            "income.{figure} of ?{query}: the summary says {}",
            summary[figure]
        );
    }
}

// ── The tests ───────────────────────────────────────────────────────────────────────────────

#[actix_web::test]
async fn every_figure_matches_the_town_built_by_hand() {
    let t = build_town().await;
    let (app, w, book) = (&t.app, &t.w, &t.book);
    let query = format!("year={YEAR}");

    // The whole town, for the administrator.
    let all = overview_json(app, w.token("admin"), &query).await;
    assert!(all["org_id"].is_null(), "{all}");
    assert_eq!(all["as_of"], as_of(YEAR).to_string());
    let expected = book.expected(&book.subtree(None), YEAR);
    assert_figures("the whole town", &all, &expected);
    assert_income_as_summary(app, w.token("admin"), &query, &all).await;
    // A few figures by hand, so that the book itself is checked against what was meant.
    assert_eq!(expected["orgs.groups"], 4, "小组A, 网格一组, 小组B, 网格三组");
    assert_eq!(expected["orgs.grid_groups"], 2);
    assert_eq!(expected["members.total"], 11, "14 less 孙离, 郑同 and 周新");
    assert_eq!(expected["pledges.public_items"], 14);
    assert_eq!(expected["pledges.members_pledged"], 7);
    assert_eq!(expected["pledges.rural_members_pledged"], 5);
    assert_eq!(expected["pledges.overdue"], 4);
    assert_eq!(expected["pledges.villages_on_board"], 3);
    assert_eq!(expected["pledges.feedback_received"], 4);
    assert_eq!(expected["pledges.feedback_answered"], 2);
    assert_eq!(expected["pairings.households_without_helper"], 3);

    // The inspector reads the same.
    let inspector = overview_json(app, w.token("inspector"), &query).await;
    assert_figures("the inspector's town", &inspector, &expected);

    // One branch, asked by the administrator; each branch's secretary's own scope.
    for (branch, secretary) in [(&w.branch_a, "sec_a"), (&w.branch_b, "sec_b")] {
        let expected = book.expected(&book.subtree(Some(branch)), YEAR);
        let by_org = overview_json(app, w.token("admin"), &format!("org_id={branch}&{query}")).await;
        assert_eq!(by_org["org_id"], branch.as_str());
        assert_figures(&format!("org_id={branch} ({secretary}'s branch)"), &by_org, &expected);
        assert_income_as_summary(app, w.token("admin"), &format!("org_id={branch}&{query}"), &by_org).await;
        let own = overview_json(app, w.token(secretary), &query).await;
        assert!(own["org_id"].is_null());
        assert_figures(&format!("{secretary}'s own scope"), &own, &expected);
    }
    // A general branch's secretary: 总支C, 支部C1 and its grid group.
    let expected = book.expected(&book.subtree(Some(&t.general_c)), YEAR);
    assert_eq!(expected["orgs.general_branches"], 1);
    assert_eq!(
        expected["pledges.villages_on_board"], 0,
        "a general branch serves no village"
    );
    let own = overview_json(app, w.token("sec_c"), &query).await;
    assert_figures("sec_c's own scope (总支C)", &own, &expected);
    let c1 = overview_json(app, w.token("sec_c"), &format!("org_id={}&{query}", t.branch_c1)).await;
    assert_figures("支部C1", &c1, &book.expected(&book.subtree(Some(&t.branch_c1)), YEAR));
}

/// Without `year`, the overview is of this year, on today: members who joined this year are on
/// the rolls, pairings started this year count, those ended last year do not, and the ratings
/// are last year's.
#[actix_web::test]
async fn this_year_is_counted_on_today() {
    let t = build_town().await;
    let (app, w, book) = (&t.app, &t.w, &t.book);
    let this_year = today().year();
    let current = overview_json(app, w.token("admin"), "").await;
    assert_eq!(current["year"], this_year);
    assert_eq!(current["as_of"], today().to_string());
    assert_figures("this year", &current, &book.expected(&book.subtree(None), this_year));
    let same = overview_json(app, w.token("admin"), &format!("year={this_year}")).await;
    assert_eq!(same, current);
}

#[actix_web::test]
async fn readers_are_the_town_inspectors_and_secretaries_in_their_scope() {
    let t = build_town().await;
    let (app, w) = (&t.app, &t.w);
    let query = format!("year={YEAR}");
    for user in ["admin", "inspector", "sec_a", "sec_b", "sec_c"] {
        assert_eq!(overview(app, w.token(user), &query).await.status, 200, "{user}");
    }
    for user in ["member_a", "leader_a"] {
        overview(app, w.token(user), &query)
            .await
            .assert_problem(403, "forbidden");
    }
    let reply = send(app.server.get(format!("/api/v1/stats/overview?{query}"))).await;
    assert_eq!(reply.status, 401, "{}", reply.text());
    // Outside one's scope, or no such organisation: not found.
    for (user, org) in [
        ("sec_b", &w.branch_a),
        ("sec_b", &t.grid_a),
        ("sec_a", &w.branch_b),
        ("sec_a", &t.general_c),
        ("sec_c", &w.root),
    ] {
        overview(app, w.token(user), &format!("org_id={org}&{query}"))
            .await
            .assert_problem(404, "not_found");
    }
    overview(app, w.token("admin"), "org_id=01a21954-5986-705a-9dda-29f2d55e5871")
        .await
        .assert_problem(404, "not_found");
    // Inside it: a secretary asks for a part of their subtree.
    assert_eq!(
        overview(app, w.token("sec_c"), &format!("org_id={}&{query}", t.grid_c))
            .await
            .status,
        200
    );
    // Not valid.
    for bad in ["year=1999", "year=2101", "year=abc", "org_id=abc", "colour=red"] {
        let reply = overview(app, w.token("admin"), bad).await;
        assert_eq!(reply.status, 400, "{bad}: {}", reply.text());
    }
}

/// The answer is kept until the next write: a new member, public feedback (a write without an
/// account) and a member leaving each change it at once.
#[actix_web::test]
async fn a_write_changes_the_answer() {
    let mut t = build_town().await;
    let query = format!("year={YEAR}");
    let admin = t.w.token("admin").to_owned();
    let sec_a = t.w.token("sec_a").to_owned();
    let first = overview_json(&t.app, &admin, &query).await;
    let again = overview_json(&t.app, &admin, &query).await;
    assert_eq!(first, again);
    let branch_a_before = overview_json(&t.app, &sec_a, &query).await;

    let branch = t.w.branch_a.clone();
    let newcomer = t
        .book
        .add_member(
            &t.app,
            &sec_a,
            NewMember {
                name: "新党员",
                branch,
                group: None,
                gender: "female",
                birth: "1992-04-04",
                joined: "2019-06-30",
                status: "full",
                rural: false,
                education: Some("master"),
            },
        )
        .await;
    let after = overview_json(&t.app, &admin, &query).await;
    assert_eq!(
        after["members"]["total"],
        first["members"]["total"].as_u64().unwrap() + 1,
        "the new member is counted at once"
    );
    assert_figures(
        "after a new member",
        &after,
        &t.book.expected(&t.book.subtree(None), YEAR),
    );
    let branch_a_after = overview_json(&t.app, &sec_a, &query).await;
    assert_eq!(
        branch_a_after["members"]["total"],
        branch_a_before["members"]["total"].as_u64().unwrap() + 1
    );

    // Feedback from the public: no account, still a write.
    let pledge = t.a_public_pledge.clone();
    t.book.feedback(&t.app, &admin, &pledge, false, false).await;
    let after_feedback = overview_json(&t.app, &admin, &query).await;
    assert_eq!(
        after_feedback["pledges"]["feedback_received"],
        after["pledges"]["feedback_received"].as_u64().unwrap() + 1
    );

    // The newcomer leaves within the year: off the rolls again.
    t.book.leave(&t.app, &sec_a, &newcomer, "2025-10-01").await;
    let after_leaving = overview_json(&t.app, &admin, &query).await;
    assert_eq!(after_leaving["members"]["total"], first["members"]["total"]);
    assert_figures(
        "after the newcomer left",
        &after_leaving,
        &t.book.expected(&t.book.subtree(None), YEAR),
    );
}

/// A party group's overview counts the group's members — those whose `group_id` is the group,
/// as `GET /api/v1/members?org_id=` and `GET /api/v1/pledges?org_id=` count a group's (members
/// belong to branches: their `org_id` is the branch) — and their public pledges with the
/// group's collective ones.
#[actix_web::test]
async fn a_groups_overview_counts_the_groups_members_and_their_pledges() {
    let t = build_town().await;
    let (app, w, book) = (&t.app, &t.w, &t.book);
    let sec_a = w.token("sec_a");
    // 程军 and 吴末 (who left after the year) are 小组A's members; the member list says so.
    let listed = get(
        app,
        sec_a,
        &format!("/api/v1/members?org_id={}&include_total=true", w.group_a),
    )
    .await
    .json();
    assert_eq!(listed["total"], 2, "the member list of 小组A: {listed}");
    // 小组A's public pledges of the year as the pledge list gives them: 程军's approved
    // (overdue, two visible messages, one answered) and fulfilled ones and 小组A's own.
    let listed = get(
        app,
        sec_a,
        &format!("/api/v1/pledges?org_id={}&year={YEAR}&include_total=true", w.group_a),
    )
    .await
    .json();
    let public = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| PUBLIC.contains(&p["state"].as_str().unwrap()))
        .count();
    assert_eq!(public, 3, "the pledge list of 小组A: {listed}");

    let on_rolls: Vec<&MemberRec> = book
        .members
        .iter()
        .filter(|m| m.group.as_deref() == Some(w.group_a.as_str()))
        .filter(|m| m.joined <= as_of(YEAR) && m.left_on.is_none_or(|l| l > as_of(YEAR)))
        .collect();
    let expected: BTreeMap<String, Value> = [
        ("orgs.groups", json!(1)),
        ("members.total", json!(on_rolls.len())),
        ("members.full", json!(2)),
        ("members.rural", json!(2)),
        ("members.by_gender.male", json!(2)),
        ("members.by_age.from_46_to_55", json!(1)),
        ("members.by_age.from_56_to_65", json!(1)),
        ("members.by_party_years.from_10_to_19", json!(1)),
        ("members.by_party_years.from_30", json!(1)),
        ("pledges.public_items", json!(public)),
        ("pledges.collective_items", json!(1)),
        ("pledges.members_pledged", json!(1)),
        ("pledges.rural_members_pledged", json!(1)),
        ("pledges.fulfilled", json!(1)),
        ("pledges.overdue", json!(1)),
        ("pledges.feedback_received", json!(2)),
        ("pledges.feedback_answered", json!(1)),
        ("pledges.villages_on_board", json!(1)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    assert_eq!(on_rolls.len(), 2);
    let group = overview_json(app, sec_a, &format!("org_id={}&year={YEAR}", w.group_a)).await;
    let actual = flatten(&group);
    let wrong: Vec<String> = expected
        .iter()
        .filter(|(k, v)| actual.get(*k) != Some(v))
        .map(|(k, v)| format!("  {k}: expected {v}, got {}", actual[k]))
        .collect();
    assert!(
        wrong.is_empty(),
        "小组A's overview: {} figure(s) differ:\n{}\nanswer: {group}",
        wrong.len(),
        wrong.join("\n")
    );
}
