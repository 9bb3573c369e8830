//! `dangjian seed-county`: a small county through the real binary, checked row by row and
//! through the API; a second run is refused; seeding beside a bootstrap administrator.

mod common;

use chrono::Datelike;
use common::binary::{TempDir, run};
use common::world::{self, get, login};
use common::{TestDatabase, send};
use dangjian::members::checks::{parse_id_number, pinyin_of};
use dangjian::members::entity::member;
use dangjian::members::types::{Gender, MemberStatus};
use dangjian::orgs::{OrgKind, entity as org};
use dangjian::pledges::entity::{event, feedback, pledge};
use dangjian::pledges::lifecycle::PledgeState;
use dangjian::users::entity::user;
use sea_orm::{Database, EntityTrait, PaginatorTrait};
use serde_json::Value;

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
    // admin, a secretary per branch, and bench_inspector, bench_sec, bench_leader, bench_member.
    assert_eq!(user::Entity::find().count(&db).await.unwrap(), 1 + 6 + 4);

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
