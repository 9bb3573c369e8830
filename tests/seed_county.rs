//! `dangjian seed-county`: a small county through the real binary, checked row by row and
//! through the API (poor households, pairings and help records too, with the pairing rules
//! the database keeps); a second run is refused; seeding beside a bootstrap administrator.

mod common;

use std::collections::{HashMap, HashSet};

use chrono::Datelike;
use common::binary::{TempDir, run};
use common::world::{self, get, login};
use common::{TestDatabase, send, send_json};
use dangjian::households::entity::{household, income, person};
use dangjian::households::types::HouseholdStatus;
use dangjian::income::entity::{project as income_project, record as finance_record};
use dangjian::members::checks::{parse_id_number, pinyin_of};
use dangjian::members::entity::member;
use dangjian::members::types::{Gender, MemberStatus};
use dangjian::orgs::{OrgKind, entity as org};
use dangjian::pairings::entity::{cadre, help_record, pairing};
use dangjian::places::entity::{village, villager_group};
use dangjian::pledges::entity::{event, feedback, pledge};
use dangjian::pledges::lifecycle::PledgeState;
use dangjian::ratings::entity::rating;
use dangjian::ratings::types::RatingState;
use dangjian::users::entity::user;
use sea_orm::{Database, EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

const PASSWORD: &str = "Seed-pass-2017";
const ARGS: &[&str] = &[
    "seed-county",
    "--towns",
    "2",
    "--branches-per-town",
    "3",
    "--members",
    "200",
    "--pledges",
    "1000",
    "--households",
    "120",
    "--pairings",
    "60",
    "--help-records",
    "600",
    "--password-stdin",
];

async fn token(app: &common::TestApp, username: &str, password: &str) -> String {
    let reply = login(app, username, password).await;
    assert_eq!(reply.status, 200, "{username}: {}", reply.text());
    reply.json()["access_token"].as_str().unwrap().to_owned()
}

#[actix_web::test]
async fn a_small_county_is_real_valid_and_seeded_once() {
    let dir = TempDir::new("seed-county");
    let database = TestDatabase::create().await;
    let url = if database.is_postgres() {
        database.url.clone()
    } else {
        dir.sqlite_url()
    };
    let env = [
        ("DANGJIAN_JWT_SECRET", common::TEST_JWT_SECRET),
        ("DANGJIAN_DATA_KEY", common::TEST_DATA_KEY),
    ];
    let out = run(ARGS, &url, &dir.0, &env, &format!("{PASSWORD}\n"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("members: 200"), "{stdout}");
    assert!(stdout.contains("pledges: 1000"), "{stdout}");
    assert!(stdout.contains("households: 120"), "{stdout}");
    assert!(stdout.contains("pairings: 60"), "{stdout}");
    assert!(stdout.contains("600 help records"), "{stdout}");
    assert!(!stdout.contains(PASSWORD), "the password read is never printed");

    // A second run finds a full database and refuses, changing nothing.
    let again = run(ARGS, &url, &dir.0, &env, &format!("{PASSWORD}\n"));
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(!again.status.success(), "a second seeding is refused");
    assert!(stderr.contains("not empty"), "{stderr}");

    let config = common::test_config(&url);
    let db = Database::connect(dangjian::db::connect_options(&url, 2)).await.unwrap();
    let keys = dangjian::members::pii::data_keys(&config).unwrap();

    // The tree: one root, 2 towns, 3 branches each, a group in each branch, paths as the app makes them.
    let orgs = org::Entity::find().all(&db).await.unwrap();
    assert_eq!(orgs.len(), 1 + 2 + 6 + 6);
    let by_id: std::collections::HashMap<_, _> = orgs.iter().map(|o| (o.id, o)).collect();
    for o in &orgs {
        match o.parent_id {
            None => {
                assert_eq!(o.kind, OrgKind::Committee);
                assert_eq!(o.path, format!("/{}/", o.id));
            }
            Some(parent) => {
                let parent = by_id[&parent];
                assert!(
                    o.kind.may_sit_under(parent.kind),
                    "{:?} under {:?}",
                    o.kind,
                    parent.kind
                );
                assert_eq!(o.path, format!("{}{}/", parent.path, o.id));
            }
        }
    }
    let count = |kind| orgs.iter().filter(|o| o.kind == kind).count();
    assert_eq!(
        (
            count(OrgKind::GeneralBranch),
            count(OrgKind::Branch),
            count(OrgKind::Group)
        ),
        (2, 6, 6)
    );

    // Members: real ID numbers matching birth date and gender, encrypted and hashed with the
    // configured key, pinyin as the app computes it, joined at 18 or older.
    let members = member::Entity::find().all(&db).await.unwrap();
    assert_eq!(members.len(), 200);
    let today = chrono::Utc::now().date_naive();
    for m in &members {
        let plain = keys
            .decrypt(&m.id_number_enc, &format!("member:{}:id_number", m.id))
            .expect("decrypts with the configured key");
        let (id, birth) = parse_id_number(&plain).expect("a valid GB 11643 number");
        assert_eq!(birth, m.birth_date);
        assert_eq!((id.as_bytes()[16] - b'0') % 2 == 1, m.gender == Gender::Male);
        assert_eq!(m.id_number_hash, keys.lookup_hash(&id));
        assert_eq!((m.name_pinyin.clone(), m.name_initials.clone()), pinyin_of(&m.name));
        let adult = m.birth_date.with_year(m.birth_date.year() + 18).unwrap_or(m.birth_date);
        assert!(m.joined_on >= adult && m.joined_on <= today, "{m:?}");
        assert_eq!(by_id[&m.org_id].kind, OrgKind::Branch);
        if let Some(g) = m.group_id {
            assert_eq!(by_id[&g].parent_id, Some(m.org_id));
        }
        if let Some(phone) = &m.phone_enc {
            let phone = keys.decrypt(phone, &format!("member:{}:phone", m.id)).unwrap();
            assert!(dangjian::members::checks::valid_mobile(&phone));
        }
        assert_eq!(m.active, m.left_on.is_none());
    }
    assert!(members.iter().any(|m| m.status == MemberStatus::Probationary));
    let mut ids: Vec<_> = members.iter().map(|m| m.id_number_hash.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 200, "ID numbers are unique");

    // Pledges: every state, with the fields each state implies, and a timeline ending there.
    let pledges = pledge::Entity::find().all(&db).await.unwrap();
    assert_eq!(pledges.len(), 1000);
    for state in PledgeState::ALL {
        assert!(pledges.iter().any(|p| p.state == *state), "some pledge is {state:?}");
    }
    let events = event::Entity::find().all(&db).await.unwrap();
    for p in &pledges {
        assert_eq!(
            p.evaluation_result.is_some(),
            p.state == PledgeState::Evaluated,
            "{p:?}"
        );
        assert_eq!(p.return_reason.is_some(), p.state == PledgeState::Returned, "{p:?}");
        if matches!(p.state, PledgeState::Fulfilled | PledgeState::Evaluated) {
            assert_eq!(p.progress_percent, Some(100));
        }
        assert_eq!(
            p.member_id.is_some(),
            p.kind == dangjian::pledges::types::PledgeKind::Individual
        );
        let mut timeline: Vec<_> = events.iter().filter(|e| e.pledge_id == p.id).collect();
        timeline.sort_by_key(|e| (e.occurred_at, e.id));
        let states: Vec<_> = timeline.iter().filter_map(|e| e.to_state).collect();
        assert_eq!(states.first(), Some(&PledgeState::Draft));
        assert_eq!(states.last(), Some(&p.state));
        assert_eq!(
            p.version,
            timeline.len() as i64,
            "one version per change after creation"
        );
        assert_eq!(p.updated_at, timeline.last().unwrap().occurred_at);
    }
    let years: std::collections::BTreeSet<i32> = pledges.iter().map(|p| p.year).collect();
    assert_eq!(years.len(), 5, "five years: {years:?}");
    assert!(feedback::Entity::find().count(&db).await.unwrap() > 0);

    // A village served by every branch, with its villager groups.
    let villages: HashMap<_, _> = village::Entity::find()
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|v| (v.id, v))
        .collect();
    assert_eq!(villages.len(), 6);
    let served: HashSet<_> = villages.values().map(|v| v.org_id).collect();
    assert_eq!(served.len(), 6, "one village per branch");
    assert!(served.iter().all(|o| by_id[o].kind == OrgKind::Branch));
    let villager_groups: HashMap<_, _> = villager_group::Entity::find()
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|g| (g.id, g))
        .collect();
    assert!(villager_groups.len() >= 6 * 3);
    assert!(villager_groups.values().all(|g| villages.contains_key(&g.village_id)));

    // Households: in a village, belonging to the branch serving it; the head's ID number
    // valid, encrypted and hashed as the API does, no head twice and none a member's.
    let households: HashMap<_, _> = household::Entity::find()
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|h| (h.id, h))
        .collect();
    assert_eq!(households.len(), 120);
    let member_hashes: HashSet<_> = members.iter().map(|m| m.id_number_hash.clone()).collect();
    let mut heads = HashSet::new();
    for h in households.values() {
        assert_eq!(h.org_id, villages[&h.village_id].org_id, "{h:?}");
        if let Some(g) = h.villager_group_id {
            assert_eq!(villager_groups[&g].village_id, h.village_id);
        }
        let plain = keys
            .decrypt(&h.id_number_enc, &format!("household:{}:id_number", h.id))
            .expect("decrypts with the configured key");
        let (id, _) = parse_id_number(&plain).expect("a valid GB 11643 number");
        assert_eq!(h.id_number_hash, keys.lookup_hash(&id));
        assert!(heads.insert(h.id_number_hash.clone()), "a head heads one household");
        assert!(!member_hashes.contains(&h.id_number_hash));
        assert!((1..=8).contains(&h.size));
        assert!(h.identified_year >= 2000 && h.identified_year <= today.year());
        if h.status == HouseholdStatus::Lifted {
            assert!(
                h.lifted_year
                    .is_some_and(|y| y >= h.identified_year && y <= today.year()),
                "{h:?}"
            );
        }
        if h.status == HouseholdStatus::InPoverty {
            assert_eq!(h.lifted_year, None);
        }
    }
    for status in [
        HouseholdStatus::Lifted,
        HouseholdStatus::InPoverty,
        HouseholdStatus::Monitored,
    ] {
        assert!(
            households.values().any(|h| h.status == status),
            "some household is {status:?}"
        );
    }
    let people = person::Entity::find().all(&db).await.unwrap();
    assert!(!people.is_empty());
    for p in &people {
        let h = &households[&p.household_id];
        assert!(people.iter().filter(|q| q.household_id == h.id).count() <= h.size as usize);
        if let Some(enc) = &p.id_number_enc {
            let plain = keys
                .decrypt(enc, &format!("household_person:{}:id_number", p.id))
                .unwrap();
            parse_id_number(&plain).expect("a valid GB 11643 number");
        }
    }
    assert!(income::Entity::find().count(&db).await.unwrap() > 0);

    // Pairings: the household's organisation; a cadre of the town, or an active member of the
    // household's town who had joined by the start; within their dates; the database's rules
    // (one active pairing per helper and household, one active primary per household that
    // has an active pairing); history (ended pairings); some needy households left unpaired.
    let cadres: HashMap<_, _> = cadre::Entity::find()
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    assert!(!cadres.is_empty());
    let members_by_id: HashMap<_, _> = members.iter().map(|m| (m.id, m)).collect();
    let town_of = |org_id: uuid::Uuid| {
        let path = &by_id[&org_id].path;
        path.split('/').nth(2).unwrap().to_owned()
    };
    let pairings = pairing::Entity::find().all(&db).await.unwrap();
    assert_eq!(pairings.len(), 60);
    let mut active_helpers = HashSet::new();
    let mut primaries: HashMap<uuid::Uuid, usize> = HashMap::new();
    for p in &pairings {
        let h = &households[&p.household_id];
        assert_eq!(p.org_id, h.org_id);
        assert!(p.end_on.is_none_or(|e| e >= p.start_on && e <= today), "{p:?}");
        assert!(p.start_on <= today);
        match (p.member_id, p.cadre_id) {
            (Some(m), None) => {
                let m = members_by_id[&m];
                assert!(m.active, "{p:?}");
                assert!(m.joined_on <= p.start_on, "{p:?}");
                assert_eq!(town_of(m.org_id), town_of(h.org_id));
            }
            (None, Some(c)) => assert_eq!(town_of(cadres[&c].org_id), town_of(h.org_id)),
            other => panic!("one helper: {other:?}"),
        }
        if p.end_on.is_none() {
            assert!(
                active_helpers.insert((p.household_id, p.member_id, p.cadre_id)),
                "one active pairing per helper and household"
            );
            *primaries.entry(p.household_id).or_default() += usize::from(p.is_primary);
        }
    }
    assert!(!primaries.is_empty());
    assert!(
        primaries.values().all(|n| *n == 1),
        "one active primary per household with active pairings: {primaries:?}"
    );
    assert!(pairings.iter().any(|p| p.end_on.is_some()), "some history");
    assert!(
        pairings.iter().any(|p| p.end_on.is_none() && !p.is_primary),
        "second helpers"
    );
    assert!(pairings.iter().any(|p| p.cadre_id.is_some()), "cadre helpers");
    assert!(
        households
            .values()
            .any(|h| h.status != HouseholdStatus::Lifted && !primaries.contains_key(&h.id)),
        "some households needing help are unpaired"
    );

    // Help records: on a pairing, with its household, organisation and helper, dated within it.
    let pairings_by_id: HashMap<_, _> = pairings.iter().map(|p| (p.id, p)).collect();
    let records = help_record::Entity::find().all(&db).await.unwrap();
    assert_eq!(records.len(), 600);
    for r in &records {
        let p = pairings_by_id[&r.pairing_id];
        assert_eq!(
            (r.household_id, r.org_id, r.member_id, r.cadre_id),
            (p.household_id, p.org_id, p.member_id, p.cadre_id)
        );
        assert!(r.date >= p.start_on && r.date <= p.end_on.unwrap_or(today), "{r:?}");
    }

    // admin, a secretary per branch, bench_inspector, bench_sec, bench_leader, bench_member,
    // and the helper accounts, each linked to a member with an active pairing.
    let users = user::Entity::find().all(&db).await.unwrap();
    let helpers: Vec<_> = users
        .iter()
        .filter(|u| u.username.starts_with("bench_helper."))
        .collect();
    assert!(!helpers.is_empty());
    assert_eq!(users.len(), 1 + 6 + 4 + helpers.len());
    let helper_members: HashSet<_> = helpers.iter().map(|u| u.member_id.expect("linked")).collect();
    assert_eq!(helper_members.len(), helpers.len(), "one account per member");
    for m in &helper_members {
        assert!(pairings.iter().any(|p| p.member_id == Some(*m) && p.end_on.is_none()));
    }
    for r in records
        .iter()
        .filter(|r| r.member_id.is_some_and(|m| helper_members.contains(&m)))
    {
        let account = helpers.iter().find(|u| u.member_id == r.member_id).unwrap();
        assert_eq!(r.recorded_by, Some(account.id), "helpers with an account log their own");
    }

    // Through the API: the administrator lists a branch's members; the audit chain verifies;
    // the branch secretary sees their branch only.
    let app = common::serve(TestDatabase::none(), db.clone(), config, |_| {});
    let admin = token(&app, "admin", PASSWORD).await;
    let branch = orgs.iter().find(|o| o.kind == OrgKind::Branch).unwrap();
    let page = get(&app, &admin, &format!("/api/v1/members?org_id={}&limit=100", branch.id))
        .await
        .json();
    let items = page["items"].as_array().expect("items");
    let expected = members.iter().filter(|m| m.org_id == branch.id).count();
    assert_eq!(items.len(), expected, "{page}");
    assert!(items.iter().all(|m| m["org_id"] == branch.id.to_string()));
    let verify = send(app.server.get("/api/v1/audit-events/verify").bearer_auth(&admin))
        .await
        .json();
    assert_eq!(verify["ok"], true, "{verify}");
    let audit = get(&app, &admin, "/api/v1/audit-events?limit=5").await.json();
    assert!(
        audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e: &Value| e["action"] == "seed.county"),
        "{audit}"
    );

    let sec = token(&app, "bench_sec", PASSWORD).await;
    let mine = get(&app, &sec, "/api/v1/members?limit=100").await.json();
    let bench_branch = orgs
        .iter()
        .filter(|o| o.kind == OrgKind::Branch)
        .min_by_key(|o| o.id)
        .unwrap();
    let mine = mine["items"].as_array().unwrap();
    assert!(!mine.is_empty());
    assert!(mine.iter().all(|m| m["org_id"] == bench_branch.id.to_string()));

    // A helper logs a help record on their own pairing, as the benchmark does.
    let helper = helpers[0];
    let own = pairings
        .iter()
        .find(|p| p.member_id == helper.member_id && p.end_on.is_none())
        .unwrap();
    let helper_token = token(&app, &helper.username, PASSWORD).await;
    let logged = send_json(
        app.server
            .post(format!("/api/v1/pairings/{}/help-records", own.id))
            .bearer_auth(&helper_token),
        &json!({"date": today.to_string(), "kind": "visit", "content": "入户走访"}),
    )
    .await;
    assert_eq!(logged.status, 201, "{}", logged.text());

    // The coverage of a town, as the town administrator: its households and pairings.
    let town = orgs.iter().find(|o| o.kind == OrgKind::GeneralBranch).unwrap();
    let in_town: HashSet<_> = households
        .values()
        .filter(|h| by_id[&h.org_id].parent_id == Some(town.id))
        .map(|h| h.id)
        .collect();
    let reply = get(&app, &admin, &format!("/api/v1/pairings/coverage?org_id={}", town.id)).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let coverage = reply.json();
    assert_eq!(coverage["households"], in_town.len(), "{coverage}");
    let paired = primaries.keys().filter(|h| in_town.contains(h)).count();
    assert_eq!(coverage["households_paired"], paired, "{coverage}");

    // Star ratings: for each of the four years before this one, every member on the rolls at
    // the year's end and every branch, published and final (or still on notice); the town's
    // star board counts as many as are filed in its subtree.
    let ratings = rating::Entity::find().all(&db).await.unwrap();
    let last = today.year() - 1;
    let mut expected = 0;
    for year in last - 3..=last {
        let end = chrono::NaiveDate::from_ymd_opt(year, 12, 31).unwrap();
        let on_rolls = members
            .iter()
            .filter(|m| m.joined_on <= end && m.left_on.is_none_or(|left| left > end))
            .count();
        expected += on_rolls + 6;
    }
    assert_eq!(ratings.len(), expected);
    assert!(
        ratings
            .iter()
            .all(|r| matches!(r.state, RatingState::Final | RatingState::Noticed))
    );
    let in_town_ratings = ratings
        .iter()
        .filter(|r| r.year == last && by_id[&r.org_id].parent_id == Some(town.id))
        .count() as u64;
    let board = send(
        app.server
            .get(format!("/api/v1/public/orgs/{}/star-board?year={last}", town.id)),
    )
    .await;
    assert_eq!(board.status, 200, "{}", board.text());
    let board = board.json();
    let counted: u64 = ["member_counts", "org_counts"]
        .iter()
        .flat_map(|k| {
            board[*k]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["count"].as_u64().unwrap())
        })
        .sum();
    assert_eq!(counted, in_town_ratings, "{board}");

    // Village finances: every village has income in each of the five years, reversing records
    // cancel exactly the records they name, and the county's summary of last year adds up to
    // the ledger summed here.
    let records = finance_record::Entity::find().all(&db).await.unwrap();
    let projects = income_project::Entity::find().all(&db).await.unwrap();
    for v in villages.values() {
        for year in today.year() - 4..=today.year() {
            assert!(
                records
                    .iter()
                    .any(|r| r.village_id == v.id && r.year == year && r.flow.as_str() == "income"),
                "{} has no income in {year}",
                v.name
            );
        }
    }
    let by_id_record: HashMap<_, _> = records.iter().map(|r| (r.id, r)).collect();
    for r in records.iter().filter(|r| r.reverses_id.is_some()) {
        let original = by_id_record[&r.reverses_id.unwrap()];
        assert_eq!(original.reversed_by_id, Some(r.id));
        assert_eq!((original.amount_fen, original.category), (r.amount_fen, r.category));
    }
    assert!(projects.iter().all(|p| villages[&p.village_id].org_id == p.org_id));
    let net = |r: &&finance_record::Model| {
        if r.reverses_id.is_some() {
            -r.amount_fen
        } else {
            r.amount_fen
        }
    };
    let income_total: i64 = records
        .iter()
        .filter(|r| r.year == last && r.flow.as_str() == "income")
        .map(|r| net(&r))
        .sum();
    let operating: i64 = records
        .iter()
        .filter(|r| r.year == last && r.flow.as_str() == "income" && r.category.as_str() != "subsidy")
        .map(|r| net(&r))
        .sum();
    let reply = get(&app, &admin, &format!("/api/v1/income/summary?year={last}")).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let summary = reply.json();
    assert_eq!(summary["villages"], villages.len(), "{summary}");
    assert_eq!(summary["income"]["total_fen"], income_total, "{summary}");
    assert_eq!(summary["operating_fen"], operating, "{summary}");
    drop(database);
}

#[actix_web::test]
async fn seeding_keeps_the_bootstrap_root_and_administrator() {
    let app = common::spawn_app().await;
    let admin = world::admin_token(&app).await;
    let root_before = get(&app, &admin, "/api/v1/me").await.json()["grants"][0]["org_id"].clone();
    let options = dangjian::seed::county::CountyOptions {
        towns: 1,
        branches_per_town: 2,
        members: 20,
        pledges: 100,
        households: 30,
        pairings: 12,
        help_records: 100,
        ..Default::default()
    };
    let report = dangjian::seed::county::seed(&app.db, &app.state.data_keys, &options, PASSWORD)
        .await
        .expect("seeded");
    assert_eq!(report.root_id.to_string(), root_before.as_str().unwrap());
    assert!(report.accounts.iter().all(|(u, _)| u != "admin"), "admin is kept");
    // The administrator's password is unchanged; the new accounts use the seeding password.
    let reply = login(&app, "admin", world::PASSWORD).await;
    assert_eq!(reply.status, 200);
    token(&app, "sec.1.2", PASSWORD).await;
    let verify = get(&app, &admin, "/api/v1/audit-events/verify").await.json();
    assert_eq!(verify["ok"], true, "{verify}");

    let again = dangjian::seed::county::seed(&app.db, &app.state.data_keys, &options, PASSWORD).await;
    assert!(
        matches!(again, Err(dangjian::seed::SeedError::NotEmpty(_))),
        "{again:?}"
    );
}
