//! The demo town (`dangjian seed-demo`, loaded by itself on the first start of an embedded
//! database): 平山镇 in 2017, whose overview gives the newspaper report's figures
//! (`shared/design/domain.md`), figure by figure; its accounts sign in and work.

mod common;

use common::binary::{Server, TempDir};
use common::world::{get, login};
use common::{TestApp, cpu_time, spawn_app};
use serde_json::Value;

/// Loads the demo into a fresh database; returns the app and the password of each account.
async fn demo() -> (TestApp, Vec<(String, String)>) {
    let app = spawn_app().await;
    let report = dangjian::seed::demo::seed(&app.db, &app.state.data_keys)
        .await
        .expect("the demo loads");
    let accounts = report
        .accounts
        .iter()
        .map(|(u, _, p)| (u.clone(), p.clone().expect("a new account has a password")))
        .collect();
    (app, accounts)
}

async fn sign_in(app: &TestApp, accounts: &[(String, String)], username: &str) -> String {
    let password = &accounts.iter().find(|(u, _)| u == username).expect("a demo account").1;
    let reply = login(app, username, password).await;
    assert_eq!(reply.status, 200, "{username}: {}", reply.text());
    reply.json()["access_token"].as_str().unwrap().to_owned()
}

fn level(counts: &Value, level: &str) -> u64 {
    counts
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["level"] == level)
        .unwrap_or_else(|| panic!("no {level} in {counts}"))["count"]
        .as_u64()
        .unwrap()
}

#[actix_web::test]
async fn the_demo_overview_gives_the_reports_figures() {
    let (app, accounts) = demo().await;
    let token = sign_in(&app, &accounts, "demo.inspector").await;
    let reply = get(&app, &token, "/api/v1/stats/overview?year=2017").await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let o = reply.json();
    // party general branches / branches under the town committee: 1 / 37
    assert_eq!(o["orgs"]["general_branches"], 1, "{o}");
    assert_eq!(o["orgs"]["branches"], 37, "{o}");
    // party members: 1,462; grid party groups: 52
    assert_eq!(o["members"]["total"], 1462, "{o}");
    assert_eq!(o["orgs"]["grid_groups"], 52, "{o}");
    // public pledge items by village party organisations: 60+ (63)
    assert_eq!(o["pledges"]["collective_items"], 63, "{o}");
    // rural members who made pledges: 1,200+ (1,206)
    assert_eq!(o["pledges"]["rural_members_pledged"], 1206, "{o}");
    // villages (communities) whose pledges were posted on the 2017 board: 12
    assert_eq!(o["pledges"]["villages_on_board"], 12, "{o}");
    // previous year's ratings: five-star / four-star branches 2 / 5
    assert_eq!(o["ratings"]["year"], 2016);
    assert_eq!(level(&o["ratings"]["orgs"], "five_stars"), 2);
    assert_eq!(level(&o["ratings"]["orgs"], "four_stars"), 5);
    // members: five-star / four-star / two-star 63 / 306 / 5
    assert_eq!(level(&o["ratings"]["members"], "five_stars"), 63);
    assert_eq!(level(&o["ratings"]["members"], "four_stars"), 306);
    assert_eq!(level(&o["ratings"]["members"], "two_stars"), 5);
    // members paired with poor households / households paired: 327 / 771
    assert_eq!(o["pairings"]["members_helping"], 327, "{o}");
    assert_eq!(o["pairings"]["households_paired"], 771, "{o}");
    // 花车, 鸣凤 and 猫山: each over ¥50,000 of collective income in 2017
    assert_eq!(o["income"]["at_target"], 3, "{o}");
    let summary = get(&app, &token, "/api/v1/income/summary?year=2017").await.json();
    assert_eq!(summary["at_target"], 3);

    // The 司山 group of 大洼社区: 15 members posted pledges; 3 collective pledges (road,
    // street lights, greening).
    let groups = get(&app, &token, "/api/v1/orgs?kind=group&limit=100").await.json();
    let sishan = groups["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "司山网格党小组")
        .unwrap_or_else(|| panic!("no 司山 group in {groups}"))["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let group = get(
        &app,
        &token,
        &format!("/api/v1/stats/overview?year=2017&org_id={sishan}"),
    )
    .await
    .json();
    assert_eq!(group["pledges"]["members_pledged"], 15, "{group}");
    assert_eq!(group["pledges"]["collective_items"], 3, "{group}");
    let pledges = get(
        &app,
        &token,
        &format!("/api/v1/pledges?org_id={sishan}&year=2017&kind=collective&limit=10"),
    )
    .await
    .json();
    let mut titles: Vec<&str> = pledges["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["title"].as_str().unwrap())
        .collect();
    titles.sort();
    assert_eq!(titles, ["更换组内路灯", "组内绿化", "维修组内道路"], "{pledges}");
}

#[actix_web::test]
async fn every_demo_account_signs_in_and_the_secretary_approves_a_pledge_onto_the_board() {
    let (app, accounts) = demo().await;
    let names: Vec<&str> = accounts.iter().map(|(u, _)| u.as_str()).collect();
    assert_eq!(
        names,
        [
            "admin",
            "demo.inspector",
            "demo.secretary",
            "demo.leader",
            "demo.member",
            "demo.cadre"
        ]
    );
    for (username, _) in &accounts {
        sign_in(&app, &accounts, username).await;
    }
    // The quick start: the secretary lists the branch's submitted pledges and approves one; it
    // is then on the public board.
    let sec = sign_in(&app, &accounts, "demo.secretary").await;
    let me = get(&app, &sec, "/api/v1/me").await.json();
    let branch = me["grants"][0]["org_id"].as_str().unwrap().to_owned();
    let submitted = get(
        &app,
        &sec,
        &format!("/api/v1/pledges?org_id={branch}&year=2017&state=submitted&limit=5"),
    )
    .await
    .json();
    let pledge = submitted["items"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("a submitted pledge in {submitted}"))
        .to_owned();
    let approved = common::send(
        app.server
            .post(format!("/api/v1/pledges/{pledge}/approve"))
            .bearer_auth(&sec),
    )
    .await;
    assert_eq!(approved.status, 200, "{}", approved.text());
    let board = common::send(
        app.server
            .get(format!("/api/v1/public/orgs/{branch}/board?year=2017&limit=100")),
    )
    .await;
    assert_eq!(board.status, 200, "{}", board.text());
    assert!(board.text().contains(&pledge), "the approved pledge is on the board");
    // 程军 reads his own record; the cadre's account sees the households it helps.
    let leader = sign_in(&app, &accounts, "demo.leader").await;
    let me = get(&app, &leader, "/api/v1/me").await.json();
    let member = me["member_id"].as_str().unwrap().to_owned();
    let chengjun = get(&app, &leader, &format!("/api/v1/members/{member}")).await.json();
    assert_eq!(chengjun["name"], "程军");
    let cadre = sign_in(&app, &accounts, "demo.cadre").await;
    let helped = get(&app, &cadre, "/api/v1/me/households").await;
    assert_eq!(helped.status, 200, "{}", helped.text());
    assert_eq!(helped.json()["items"].as_array().unwrap().len(), 2, "{}", helped.text());
    // Loading again is refused: the database is no longer empty.
    let again = dangjian::seed::demo::seed(&app.db, &app.state.data_keys).await;
    assert!(again.is_err());
}

#[test]
fn the_first_start_of_an_embedded_database_loads_the_demo_in_seconds() {
    let dir = TempDir::new("demo-first-start");
    // DANGJIAN_DEMO unset (empty counts as unset): the default on SQLite loads it.
    let server = Server::start(&dir.sqlite_url(), &dir.0, &[("DANGJIAN_DEMO", "")]);
    // The work of starting (migrating, loading the demo), as CPU time: the clock would also
    // count whatever else a busy machine is doing.
    let took = cpu_time(Some(server.pid() as u32));
    let output = server.output();
    assert!(output.contains("Loaded the demo town 平山镇"), "{output}");
    assert!(output.contains("demo.secretary"), "{output}");
    assert!(took < std::time::Duration::from_secs(5), "took {took:?}");
    let health = server.request("GET", "/healthz", None, None);
    assert!(health.contains("200"), "{health}");
    drop(server);
}
