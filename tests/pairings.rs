//! Helpers, pairings and help records (帮扶责任人, 结对帮扶, 帮扶记录): one primary helper per
//! household (also under a race), history kept when the helper changes, who may log help,
//! retried logs written once, and coverage figures that match the records.

mod common;

use std::collections::{BTreeMap, HashSet};

use chrono::NaiveDate;
use common::world::{
    self, World, create, create_household, create_village, get, head_id_number, household_body, log_help, pair,
};
use common::{Reply, TestApp, send, send_json, spawn_app};
use serde_json::{Value, json};

struct Setup {
    app: TestApp,
    w: World,
    village_a: String,
    /// Members of 支部A without accounts: 张三 (in 小组A) and 李四.
    zhang: String,
    li: String,
    /// 程军, linked to member_a's account.
    cheng: String,
}

async fn setup() -> Setup {
    let app = spawn_app().await;
    let mut w = world::build(&app).await;
    let members = world::pledge_members(&app, &mut w).await;
    let sec = w.token("sec_a").to_owned();
    let village_a = create_village(&app, w.token("admin"), &w.branch_a, "司山村").await;
    let mut zhang = world::member_body("张三", &w.branch_a, &world::id_number("340822", "19800101", "031"));
    zhang["group_id"] = json!(w.group_a);
    let zhang = world::create_member(&app, &sec, zhang).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let li = world::create_member(
        &app,
        &sec,
        world::member_body("李四", &w.branch_a, &world::id_number("340822", "19810101", "041")),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let cheng = members.cheng_id().to_owned();
    Setup {
        app,
        w,
        village_a,
        zhang,
        li,
        cheng,
    }
}

impl Setup {
    fn sec(&self) -> &str {
        self.w.token("sec_a")
    }

    async fn household(&self, n: usize, name: &str) -> String {
        create_household(
            &self.app,
            self.sec(),
            household_body(name, &self.village_a, &head_id_number(n)),
        )
        .await["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn paired(&self, household: &str, helper: Value) -> Value {
        let reply = pair(&self.app, self.sec(), household, helper).await;
        assert_eq!(reply.status, 201, "{}", reply.text());
        reply.json()
    }

    async fn history(&self, household: &str) -> Vec<Value> {
        let reply = get(
            &self.app,
            self.sec(),
            &format!("/api/v1/households/{household}/pairings"),
        )
        .await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        reply.json()["items"].as_array().unwrap().clone()
    }
}

fn active_primaries(history: &[Value]) -> usize {
    history
        .iter()
        .filter(|p| p["active"] == true && p["is_primary"] == true)
        .count()
}

#[actix_web::test]
async fn the_first_pairing_is_primary_and_a_second_primary_is_refused() {
    let s = setup().await;
    let h = s.household(1, "甲").await;
    let first = s.paired(&h, json!({"member_id": s.zhang})).await;
    assert_eq!(first["is_primary"], true, "the first active pairing is the primary one");
    assert_eq!(first["helper"]["name"], "张三");
    assert_eq!(first["helper"]["kind"], "member");
    let second = s.paired(&h, json!({"member_id": s.li})).await;
    assert_eq!(second["is_primary"], false);
    // The same helper twice, a second primary, no helper or two: refused, nothing written.
    pair(&s.app, s.sec(), &h, json!({"member_id": s.zhang}))
        .await
        .assert_problem(409, "conflict");
    pair(&s.app, s.sec(), &h, json!({"member_id": s.cheng, "primary": true}))
        .await
        .assert_problem(409, "conflict");
    pair(&s.app, s.sec(), &h, json!({}))
        .await
        .assert_problem(422, "validation_failed");
    pair(&s.app, s.sec(), &h, json!({"member_id": s.cheng, "cadre_id": s.cheng}))
        .await
        .assert_problem(422, "validation_failed");
    assert_eq!(s.history(&h).await.len(), 2);
    // Only the branch pairs: the inspector and a member may not, the other branch sees nothing.
    pair(&s.app, s.w.token("inspector"), &h, json!({"member_id": s.cheng}))
        .await
        .assert_problem(403, "forbidden");
    pair(&s.app, s.w.token("sec_b"), &h, json!({"member_id": s.cheng}))
        .await
        .assert_problem(404, "not_found");
}

#[actix_web::test]
async fn of_two_concurrent_requests_making_a_primary_exactly_one_wins() {
    let s = setup().await;
    for round in 0..3 {
        let h = s.household(10 + round, &format!("户{round}")).await;
        let requests = [s.zhang.clone(), s.li.clone(), s.cheng.clone()].map(|m| {
            let body = json!({"household_id": h, "member_id": m, "start_on": "2017-03-01", "primary": true});
            let req = s.app.server.post("/api/v1/pairings").bearer_auth(s.sec());
            async move { send_json(req, &body).await }
        });
        let replies: Vec<Reply> = futures_util::future::join_all(requests).await;
        let mut statuses: Vec<u16> = replies.iter().map(|r| r.status.as_u16()).collect();
        statuses.sort();
        assert_eq!(
            statuses,
            [201, 409, 409],
            "{:?}",
            replies.iter().map(Reply::text).collect::<Vec<_>>()
        );
        for r in replies.iter().filter(|r| r.status == 409) {
            r.assert_problem(409, "conflict");
        }
        let history = s.history(&h).await;
        assert_eq!(history.len(), 1);
        assert_eq!(active_primaries(&history), 1);
    }
}

#[actix_web::test]
async fn replacing_the_primary_helper_ends_the_old_pairing_and_keeps_the_history() {
    let s = setup().await;
    let h = s.household(1, "甲").await;
    let old = s.paired(&h, json!({"member_id": s.zhang})).await;
    let other = s.paired(&h, json!({"member_id": s.li})).await;
    let path = format!("/api/v1/households/{h}/primary-helper");
    let body = json!({"member_id": s.li, "start_on": "2017-06-01", "reason": "工作调整"});
    let reply = send_json(s.app.server.post(&path).bearer_auth(s.sec()), &body).await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    let new = reply.json();
    assert_eq!(new["is_primary"], true);
    assert_eq!(new["helper"]["name"], "李四");
    assert_eq!(new["start_on"], "2017-06-01");

    let history = s.history(&h).await;
    assert_eq!(
        history.len(),
        3,
        "the old primary, 李四's earlier pairing and the new one"
    );
    let by_id = |id: &Value| history.iter().find(|p| p["id"] == *id).unwrap().clone();
    let old = by_id(&old["id"]);
    assert_eq!(old["active"], false);
    assert_eq!(old["end_on"], "2017-05-31", "the day before the new helper starts");
    assert_eq!(old["end_reason"], "工作调整");
    assert_eq!(old["is_primary"], true, "it was the primary one while it lasted");
    assert_eq!(by_id(&other["id"])["end_on"], "2017-05-31");
    assert_eq!(active_primaries(&history), 1);
    // The old helper's own list keeps it.
    let zhang = get(&s.app, s.sec(), &format!("/api/v1/members/{}/pairings", s.zhang))
        .await
        .json();
    assert_eq!(zhang["items"][0]["end_on"], "2017-05-31");

    // The same helper again, or a start before the current primary's: refused.
    let again = json!({"member_id": s.li, "start_on": "2017-07-01"});
    send_json(s.app.server.post(&path).bearer_auth(s.sec()), &again)
        .await
        .assert_problem(409, "conflict");
    let early = json!({"member_id": s.zhang, "start_on": "2017-06-01"});
    send_json(s.app.server.post(&path).bearer_auth(s.sec()), &early)
        .await
        .assert_problem(422, "validation_failed");
    assert_eq!(s.history(&h).await.len(), 3, "nothing written");
}

#[actix_web::test]
async fn the_primary_ends_last_and_a_lifted_household_keeps_its_helpers() {
    let s = setup().await;
    let h = s.household(1, "甲").await;
    let primary = s.paired(&h, json!({"member_id": s.zhang})).await;
    let second = s.paired(&h, json!({"member_id": s.li})).await;
    let end = |id: &Value, body: Value| {
        let req = s
            .app
            .server
            .post(format!("/api/v1/pairings/{}/end", id.as_str().unwrap()))
            .bearer_auth(s.sec());
        async move { send_json(req, &body).await }
    };
    end(&primary["id"], json!({"end_on": "2017-08-01"}))
        .await
        .assert_problem(409, "conflict");
    end(&second["id"], json!({"end_on": "2017-02-01"}))
        .await
        .assert_problem(422, "validation_failed");

    // 脱贫不脱帮扶: lifting the household ends nothing.
    let reply = send_json(
        s.app
            .server
            .patch(format!("/api/v1/households/{h}"))
            .bearer_auth(s.sec())
            .insert_header(("If-Match", "\"1\"")),
        &json!({"status": "lifted", "lifted_year": 2017}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert!(s.history(&h).await.iter().all(|p| p["active"] == true));

    let reply = end(&second["id"], json!({"end_on": "2017-08-01", "reason": "外出务工"})).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["active"], false);
    end(&second["id"], json!({"end_on": "2017-08-01"}))
        .await
        .assert_problem(409, "conflict");
    log_help(&s.app, s.sec(), second["id"].as_str().unwrap(), "2017-07-01", "visit")
        .await
        .assert_problem(409, "conflict");
    let reply = end(&primary["id"], json!({"end_on": "2017-08-01"})).await;
    assert_eq!(
        reply.status,
        200,
        "the primary is the last active pairing now: {}",
        reply.text()
    );
    assert_eq!(active_primaries(&s.history(&h).await), 0);
}

async fn help_count(app: &TestApp, token: &str, pairing: &str) -> u64 {
    let reply = get(
        app,
        token,
        &format!("/api/v1/help-records?pairing_id={pairing}&include_total=true"),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()["total"].as_u64().unwrap()
}

#[actix_web::test]
async fn helpers_log_their_own_help_and_others_only_for_helpers_without_an_account() {
    let s = setup().await;
    let (app, w) = (&s.app, &s.w);
    let h1 = s.household(1, "甲").await;
    let h2 = s.household(2, "乙").await;
    let chengs = s.paired(&h1, json!({"member_id": s.cheng})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let zhangs = s.paired(&h2, json!({"member_id": s.zhang})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let lis = s.paired(&h1, json!({"member_id": s.li})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let member = w.token("member_a");

    // 程军 (member_a) logs on his own pairing and sees the household as his.
    let reply = log_help(app, member, &chengs, "2017-04-12", "visit").await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    assert_eq!(reply.json()["recorded_by"], w.user("member_a"));
    let mine = get(app, member, "/api/v1/me/households").await.json();
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    assert_eq!(mine["items"][0]["household"]["head_name"], "甲");
    let household = get(app, member, &format!("/api/v1/households/{h1}")).await;
    assert_eq!(household.status, 200, "a helper reads the household they help");
    assert_eq!(household.json()["id_number"], "340822************");
    get(app, member, &format!("/api/v1/households/{h1}?reveal=pii"))
        .await
        .assert_problem(403, "forbidden");
    // ... but not on anyone else's pairing.
    log_help(app, member, &zhangs, "2017-04-12", "visit")
        .await
        .assert_problem(404, "not_found");
    log_help(app, member, &lis, "2017-04-12", "visit")
        .await
        .assert_problem(403, "forbidden");
    // The secretary may not log for a helper who has an account, but may for 张三 and 李四.
    log_help(app, s.sec(), &chengs, "2017-04-12", "visit")
        .await
        .assert_problem(403, "forbidden");
    assert_eq!(log_help(app, s.sec(), &lis, "2017-04-12", "goods").await.status, 201);
    // The group leader of 张三's group logs for him, not for 李四 (no group).
    assert_eq!(
        log_help(app, w.token("leader_a"), &zhangs, "2017-04-13", "visit")
            .await
            .status,
        201
    );
    log_help(app, w.token("leader_a"), &lis, "2017-04-13", "visit")
        .await
        .assert_problem(404, "not_found");
    // The inspector never writes; the other branch sees nothing.
    log_help(app, w.token("inspector"), &lis, "2017-04-13", "visit")
        .await
        .assert_problem(403, "forbidden");
    log_help(app, w.token("sec_b"), &lis, "2017-04-13", "visit")
        .await
        .assert_problem(404, "not_found");
    // Dates: not in the future, not before the pairing.
    let tomorrow = (chrono::Utc::now().date_naive() + chrono::Days::new(1)).to_string();
    log_help(app, member, &chengs, &tomorrow, "visit")
        .await
        .assert_problem(422, "validation_failed");
    log_help(app, member, &chengs, "2017-02-28", "visit")
        .await
        .assert_problem(422, "validation_failed");
    let reply = send_json(
        app.server
            .post(format!("/api/v1/pairings/{chengs}/help-records"))
            .bearer_auth(member),
        &json!({"date": "2017-04-12", "kind": "money", "content": "慰问金", "amount_fen": -5, "evidence": ["ftp://x"]}),
    )
    .await;
    let problem = reply.assert_problem(422, "validation_failed");
    let pointers: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pointer"].as_str().unwrap())
        .collect();
    assert_eq!(pointers, ["/amount_fen", "/evidence/0"]);

    assert_eq!(help_count(app, s.sec(), &chengs).await, 1);
    assert_eq!(help_count(app, s.sec(), &lis).await, 1);
    assert_eq!(help_count(app, s.sec(), &zhangs).await, 1);
    // A member sees their own records only.
    let own = get(app, member, "/api/v1/help-records?include_total=true").await.json();
    assert_eq!(own["total"], 1);
}

#[actix_web::test]
async fn a_retried_help_record_is_written_once() {
    let s = setup().await;
    let h = s.household(1, "甲").await;
    let pairing = s.paired(&h, json!({"member_id": s.cheng})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let member = s.w.token("member_a");
    let body = json!({"date": "2017-04-12", "kind": "policy_explained", "content": "宣讲产业扶持政策"});
    let post = |key: &str, body: &Value| {
        let req = s
            .app
            .server
            .post(format!("/api/v1/pairings/{pairing}/help-records"))
            .bearer_auth(member)
            .insert_header(("Idempotency-Key", key.to_owned()));
        let body = body.clone();
        async move { send_json(req, &body).await }
    };
    let first = post("field-visit-0412", &body).await;
    assert_eq!(first.status, 201, "{}", first.text());
    let second = post("field-visit-0412", &body).await;
    assert_eq!(second.status, 201);
    assert_eq!(
        first.json()["id"],
        second.json()["id"],
        "the same record answers the retry"
    );
    assert_eq!(help_count(&s.app, s.sec(), &pairing).await, 1);
    let mut other = body.clone();
    other["content"] = json!("另一件事");
    post("field-visit-0412", &other)
        .await
        .assert_problem(422, "idempotency_key_reused");
    assert_eq!(help_count(&s.app, s.sec(), &pairing).await, 1);
}

#[actix_web::test]
async fn a_cadre_is_a_helper_whose_account_logs_their_own_visits() {
    let s = setup().await;
    let (app, w) = (&s.app, &s.w);
    let admin = w.token("admin");
    let cadre = create(
        app,
        s.sec(),
        "/api/v1/cadres",
        json!({"org_id": w.branch_a, "name": "周明", "work_unit": "县农业农村局", "post": "驻村工作队队员", "phone": "13912345678"}),
    )
    .await;
    assert_eq!(cadre["phone"], "139****5678");
    let cadre_id = cadre["id"].as_str().unwrap().to_owned();
    let h = s.household(1, "甲").await;
    let pairing = s.paired(&h, json!({"cadre_id": cadre_id})).await;
    assert_eq!(pairing["helper"]["kind"], "cadre");
    assert_eq!(pairing["helper"]["name"], "周明");
    let pairing_id = pairing["id"].as_str().unwrap();
    // Without an account the secretary logs for the cadre.
    assert_eq!(
        log_help(app, s.sec(), pairing_id, "2017-04-01", "visit").await.status,
        201
    );

    // An account linked to the cadre: then only the cadre logs.
    let (user_id, _) = world::add_account(app, admin, "zhouming", &w.branch_a, "member", &w.branch_a).await;
    let current = get(app, admin, &format!("/api/v1/users/{user_id}")).await;
    let tag = current.header("etag").unwrap().to_owned();
    let reply = send_json(
        app.server
            .patch(format!("/api/v1/users/{user_id}"))
            .bearer_auth(admin)
            .insert_header(("If-Match", tag)),
        &json!({"cadre_id": cadre_id}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["cadre_id"], cadre_id.as_str());
    let token = world::login(app, "zhouming", world::PASSWORD).await.json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        get(app, &token, "/api/v1/me").await.json()["cadre_id"],
        cadre_id.as_str()
    );
    assert_eq!(
        log_help(app, &token, pairing_id, "2017-04-02", "skills_training")
            .await
            .status,
        201
    );
    log_help(app, s.sec(), pairing_id, "2017-04-03", "visit")
        .await
        .assert_problem(403, "forbidden");
    let mine = get(app, &token, "/api/v1/me/households").await.json();
    assert_eq!(mine["items"][0]["household"]["id"], h.as_str());
    // The cadre reveals their own phone; the branch reveals it too, audited.
    let revealed = get(app, &token, &format!("/api/v1/cadres/{cadre_id}?reveal=pii")).await;
    assert_eq!(revealed.json()["phone"], "13912345678");
    get(
        app,
        w.token("inspector"),
        &format!("/api/v1/cadres/{cadre_id}?reveal=pii"),
    )
    .await
    .assert_problem(403, "forbidden");
    let cadre_pairings = get(app, s.sec(), &format!("/api/v1/cadres/{cadre_id}/pairings"))
        .await
        .json();
    assert_eq!(cadre_pairings["items"].as_array().unwrap().len(), 1);
    // An organisation with a cadre cannot be deleted.
    let org = get(app, admin, &format!("/api/v1/orgs/{}", w.branch_a)).await;
    let tag = org.header("etag").unwrap().to_owned();
    let reply = send(
        app.server
            .delete(format!("/api/v1/orgs/{}", w.branch_a))
            .bearer_auth(admin)
            .insert_header(("If-Match", tag)),
    )
    .await;
    assert_eq!(reply.status, 409, "{}", reply.text());
}

/// A pairing of the plan: helper, start, end, and the help records (date, kind) logged on it.
type PlannedPairing = (
    &'static str,
    &'static str,
    Option<&'static str>,
    Vec<(&'static str, &'static str)>,
);

/// One household of the hand-built coverage data set.
struct Planned {
    name: &'static str,
    status: &'static str,
    pairings: Vec<PlannedPairing>,
}

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

#[actix_web::test]
async fn coverage_figures_equal_counts_computed_from_the_records() {
    let s = setup().await;
    let (app, w) = (&s.app, &s.w);
    let cadre = create(
        app,
        s.sec(),
        "/api/v1/cadres",
        json!({"org_id": w.branch_a, "name": "周明", "work_unit": "镇政府"}),
    )
    .await;
    let helpers: BTreeMap<&str, Value> = BTreeMap::from([
        ("张三", json!({"member_id": s.zhang})),
        ("李四", json!({"member_id": s.li})),
        ("周明", json!({"cadre_id": cadre["id"]})),
    ]);
    let plan = vec![
        Planned {
            name: "甲",
            status: "in_poverty",
            pairings: vec![(
                "张三",
                "2017-03-01",
                None,
                vec![("2017-05-01", "visit"), ("2017-06-01", "money")],
            )],
        },
        Planned {
            name: "乙",
            status: "returned",
            pairings: vec![],
        },
        Planned {
            name: "丙",
            status: "monitored",
            pairings: vec![
                ("周明", "2017-03-01", None, vec![]),
                ("张三", "2017-03-01", None, vec![("2017-03-15", "visit")]),
            ],
        },
        Planned {
            name: "丁",
            status: "lifted",
            pairings: vec![],
        },
        Planned {
            name: "戊",
            status: "in_poverty",
            pairings: vec![("李四", "2017-03-01", Some("2017-04-30"), vec![("2017-04-10", "goods")])],
        },
        Planned {
            name: "己",
            status: "in_poverty",
            pairings: vec![(
                "张三",
                "2017-03-01",
                None,
                vec![("2017-06-20", "job_found"), ("2017-07-05", "visit")],
            )],
        },
    ];
    for (n, p) in plan.iter().enumerate() {
        let mut body = household_body(p.name, &s.village_a, &head_id_number(n + 1));
        body["status"] = json!(p.status);
        if p.status == "lifted" {
            body["lifted_year"] = json!(2016);
        }
        let h = create_household(app, s.sec(), body).await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        for (helper, start, end, records) in &p.pairings {
            let mut body = helpers[helper].clone();
            body["household_id"] = json!(h);
            body["start_on"] = json!(start);
            let reply = send_json(app.server.post("/api/v1/pairings").bearer_auth(s.sec()), &body).await;
            assert_eq!(reply.status, 201, "{}", reply.text());
            let id = reply.json()["id"].as_str().unwrap().to_owned();
            for (date, kind) in records {
                assert_eq!(log_help(app, s.sec(), &id, date, kind).await.status, 201);
            }
            if let Some(end) = end {
                let req = app
                    .server
                    .post(format!("/api/v1/pairings/{id}/end"))
                    .bearer_auth(s.sec());
                assert_eq!(send_json(req, &json!({"end_on": end})).await.status, 200);
            }
        }
    }
    // Another branch's household never counts.
    let village_b = create_village(app, w.token("admin"), &w.branch_b, "大洼村").await;
    create_household(
        app,
        w.token("sec_b"),
        household_body("庚", &village_b, &head_id_number(99)),
    )
    .await;

    let (as_of, stale_days, max) = (day("2017-07-01"), 90u64, 1usize);
    let reply = get(
        app,
        s.sec(),
        &format!(
            "/api/v1/pairings/coverage?org_id={}&as_of={as_of}&stale_days={stale_days}&max_households={max}",
            w.branch_a
        ),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let c = reply.json();

    // The same figures, from the plan.
    let active =
        |p: &(&str, &str, Option<&str>, Vec<(&str, &str)>)| day(p.1) <= as_of && p.2.is_none_or(|e| day(e) >= as_of);
    let paired: Vec<&Planned> = plan.iter().filter(|h| h.pairings.iter().any(active)).collect();
    let helping = |kind: &str| -> HashSet<&str> {
        plan.iter()
            .flat_map(|h| h.pairings.iter().filter(|p| active(p)).map(|p| p.0))
            .filter(|name| helpers[name].get(kind).is_some())
            .collect()
    };
    let cutoff = as_of - chrono::Days::new(stale_days);
    let latest = |h: &Planned| {
        h.pairings
            .iter()
            .flat_map(|p| p.3.iter().map(|r| day(r.0)))
            .filter(|d| *d <= as_of)
            .max()
    };
    let mut unpaired: Vec<&str> = plan
        .iter()
        .filter(|h| ["in_poverty", "returned", "monitored"].contains(&h.status))
        .filter(|h| !h.pairings.iter().any(active))
        .map(|h| h.name)
        .collect();
    unpaired.sort();
    let mut stale: Vec<&str> = paired
        .iter()
        .filter(|h| latest(h).is_none_or(|d| d < cutoff))
        .map(|h| h.name)
        .collect();
    stale.sort();
    let from = cutoff;
    let mut by_kind: BTreeMap<&str, u64> = BTreeMap::new();
    for h in &plan {
        for r in h.pairings.iter().flat_map(|p| p.3.iter()) {
            if day(r.0) >= from && day(r.0) <= as_of {
                *by_kind.entry(r.1).or_default() += 1;
            }
        }
    }
    let mut load: BTreeMap<&str, usize> = BTreeMap::new();
    for h in &plan {
        for p in h.pairings.iter().filter(|p| active(p)) {
            *load.entry(p.0).or_default() += 1;
        }
    }
    let busy: Vec<(&str, usize)> = load.into_iter().filter(|(_, n)| *n > max).collect();

    let names = |v: &Value| -> Vec<String> {
        let mut n: Vec<String> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["head_name"].as_str().unwrap().to_owned())
            .collect();
        n.sort();
        n
    };
    assert_eq!(c["households"], plan.len());
    assert_eq!(c["households_paired"], paired.len());
    assert_eq!(c["members_helping"], helping("member_id").len());
    assert_eq!(c["cadres_helping"], helping("cadre_id").len());
    assert_eq!(names(&c["unpaired"]), unpaired);
    assert_eq!(names(&c["stale"]), stale);
    for k in c["help_records_by_kind"].as_array().unwrap() {
        let kind = k["kind"].as_str().unwrap();
        assert_eq!(k["count"], by_kind.get(kind).copied().unwrap_or(0), "{kind}");
    }
    let reported: Vec<(String, u64)> = c["busy_helpers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["helper"]["name"].as_str().unwrap().to_owned(),
                b["households"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        reported,
        busy.iter().map(|(n, c)| (n.to_string(), *c as u64)).collect::<Vec<_>>()
    );
    // The plan is not trivial: every list has something in it.
    assert!(!unpaired.is_empty() && !stale.is_empty() && !busy.is_empty() && by_kind.len() > 1);
    let unpaired_row = c["unpaired"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["head_name"] == "戊")
        .unwrap();
    assert_eq!(unpaired_row["last_help_on"], "2017-04-10");

    // Bad parameters are 400; the other branch sees nothing of branch A; members may not ask.
    get(app, s.sec(), "/api/v1/pairings/coverage?stale_days=0")
        .await
        .assert_problem(400, "invalid_query");
    get(
        app,
        w.token("sec_b"),
        &format!("/api/v1/pairings/coverage?org_id={}", w.branch_a),
    )
    .await
    .assert_problem(404, "not_found");
    get(app, w.token("member_a"), "/api/v1/pairings/coverage")
        .await
        .assert_problem(403, "forbidden");
    let whole = get(
        app,
        w.token("admin"),
        &format!("/api/v1/pairings/coverage?as_of={as_of}"),
    )
    .await
    .json();
    assert_eq!(whole["households"], plan.len() + 1, "the town sees both branches");

    // Asked again after a write, the answer follows the data at once.
    let path = format!(
        "/api/v1/pairings/coverage?org_id={}&as_of={as_of}&stale_days={stale_days}&max_households={max}",
        w.branch_a
    );
    let medical = |c: &Value| {
        c["help_records_by_kind"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["kind"] == "medical")
            .unwrap()["count"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(medical(&get(app, s.sec(), &path).await.json()), 0);
    let pairing = get(app, s.sec(), &format!("/api/v1/members/{}/pairings", s.zhang))
        .await
        .json()["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        log_help(app, s.sec(), &pairing, "2017-06-30", "medical").await.status,
        201
    );
    assert_eq!(medical(&get(app, s.sec(), &path).await.json()), 1);
}

/// The dates of the help records `GET /api/v1/help-records?{q}` lists for `token`.
async fn record_dates(app: &TestApp, token: &str, q: &str) -> Vec<String> {
    let path = format!("/api/v1/help-records?{q}");
    let reply = get(app, token, &path).await;
    assert_eq!(reply.status, 200, "{path}: {}", reply.text());
    reply.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["date"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn help_records_are_listed_by_household_helper_and_period_and_exported() {
    let s = setup().await;
    let (app, w) = (&s.app, &s.w);
    let h1 = s.household(1, "甲").await;
    let h2 = s.household(2, "乙").await;
    let p1 = s.paired(&h1, json!({"member_id": s.zhang})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let p2 = s.paired(&h2, json!({"member_id": s.li})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for (p, date, kind) in [
        (&p1, "2017-04-01", "visit"),
        (&p1, "2017-05-01", "goods"),
        (&p2, "2017-05-02", "visit"),
    ] {
        assert_eq!(log_help(app, s.sec(), p, date, kind).await.status, 201);
    }
    assert_eq!(
        record_dates(app, s.sec(), "").await,
        ["2017-05-02", "2017-05-01", "2017-04-01"],
        "newest first"
    );
    assert_eq!(
        record_dates(app, s.sec(), &format!("household_id={h1}")).await,
        ["2017-05-01", "2017-04-01"]
    );
    assert_eq!(
        record_dates(app, s.sec(), &format!("member_id={}", s.li)).await,
        ["2017-05-02"]
    );
    assert_eq!(
        record_dates(app, s.sec(), "from=2017-04-15&to=2017-05-01").await,
        ["2017-05-01"]
    );
    assert_eq!(record_dates(app, s.sec(), "kind=visit&limit=1").await, ["2017-05-02"]);
    assert_eq!(
        record_dates(app, s.sec(), &format!("org_id={}", w.branch_a))
            .await
            .len(),
        3
    );
    assert!(
        record_dates(app, s.sec(), "from=2017-05-01&to=2017-04-01")
            .await
            .is_empty(),
        "an empty period"
    );
    assert!(
        get(app, w.token("sec_b"), "/api/v1/help-records").await.json()["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let csv = send(
        app.server
            .get("/api/v1/help-records")
            .bearer_auth(s.sec())
            .insert_header(("Accept", "text/csv")),
    )
    .await;
    assert_eq!(csv.status, 200);
    assert!(csv.body.starts_with(b"\xEF\xBB\xBF"));
    assert!(
        csv.text().contains("帮扶方式") && csv.text().contains("物资帮扶"),
        "{}",
        csv.text()
    );
    assert_eq!(csv.text().lines().count(), 4);
}

#[actix_web::test]
async fn pairing_lists_show_only_what_the_caller_may_read() {
    let s = setup().await;
    let (app, w) = (&s.app, &s.w);
    let admin = w.token("admin");
    // 张三 (branch A) also helps a household of branch B, paired by the town.
    let village_b = create_village(app, admin, &w.branch_b, "大洼村").await;
    let h_b = create_household(app, admin, household_body("丁", &village_b, &head_id_number(9))).await;
    let reply = pair(app, admin, h_b["id"].as_str().unwrap(), json!({"member_id": s.zhang})).await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    let h_a = s.household(1, "甲").await;
    s.paired(&h_a, json!({"member_id": s.zhang})).await;
    let heads = |v: Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["household"]["head_name"].as_str().unwrap().to_owned())
            .collect()
    };
    let path = format!("/api/v1/members/{}/pairings", s.zhang);
    assert_eq!(
        heads(get(app, s.sec(), &path).await.json()),
        ["甲"],
        "branch A does not see branch B's household"
    );
    assert_eq!(heads(get(app, admin, &path).await.json()).len(), 2);

    // Cadres are read by those who read households: not by members.
    let cadre = create(
        app,
        admin,
        "/api/v1/cadres",
        json!({"org_id": w.root, "name": "周明", "work_unit": "镇政府"}),
    )
    .await;
    let cadre_id = cadre["id"].as_str().unwrap();
    let reply = pair(app, admin, h_b["id"].as_str().unwrap(), json!({"cadre_id": cadre_id})).await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    let listed = get(app, w.token("member_a"), "/api/v1/cadres").await;
    assert_eq!(listed.status, 200);
    assert!(listed.json()["items"].as_array().unwrap().is_empty());
    get(app, w.token("member_a"), &format!("/api/v1/cadres/{cadre_id}/pairings"))
        .await
        .assert_problem(404, "not_found");
    // A secretary cannot pair a cadre of the town they cannot see.
    pair(app, s.sec(), &h_a, json!({"cadre_id": cadre_id}))
        .await
        .assert_problem(404, "not_found");

    // An account linked to that cadre is not branch A's to manage.
    let (user_id, _) = world::add_account(app, admin, "zhouming", &w.branch_a, "member", &w.branch_a).await;
    let tag = get(app, admin, &format!("/api/v1/users/{user_id}"))
        .await
        .header("etag")
        .unwrap()
        .to_owned();
    let reply = send_json(
        app.server
            .patch(format!("/api/v1/users/{user_id}"))
            .bearer_auth(admin)
            .insert_header(("If-Match", tag)),
        &json!({"cadre_id": cadre_id}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    send_json(
        app.server
            .post(format!("/api/v1/users/{user_id}/password"))
            .bearer_auth(s.sec()),
        &json!({"new_password": "Another-pass-2017"}),
    )
    .await
    .assert_problem(403, "forbidden");
}

#[actix_web::test]
async fn a_pairing_does_not_end_before_the_help_logged_on_it_and_its_helper_cannot_leave() {
    let s = setup().await;
    let h = s.household(1, "甲").await;
    let p = s.paired(&h, json!({"member_id": s.zhang})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(log_help(&s.app, s.sec(), &p, "2017-06-01", "visit").await.status, 201);
    let end = |end_on: &str| {
        let req = s
            .app
            .server
            .post(format!("/api/v1/pairings/{p}/end"))
            .bearer_auth(s.sec());
        let body = json!({"end_on": end_on});
        async move { send_json(req, &body).await }
    };
    let problem = end("2017-05-31").await.assert_problem(422, "validation_failed");
    assert_eq!(problem["errors"][0]["code"], "help_logged_after");
    // Nor can the primary be replaced from a day before that help.
    let replace = json!({"member_id": s.li, "start_on": "2017-05-01"});
    send_json(
        s.app
            .server
            .post(format!("/api/v1/households/{h}/primary-helper"))
            .bearer_auth(s.sec()),
        &replace,
    )
    .await
    .assert_problem(422, "validation_failed");

    // 张三 still helps: leaving the rolls waits for the hand-over.
    let member = get(&s.app, s.sec(), &format!("/api/v1/members/{}", s.zhang)).await;
    let tag = member.header("etag").unwrap().to_owned();
    let leave = json!({"reason": "transferred_out", "left_on": "2017-07-01"});
    let req = s
        .app
        .server
        .post(format!("/api/v1/members/{}/leave", s.zhang))
        .bearer_auth(s.sec());
    send_json(req.insert_header(("If-Match", tag.clone())), &leave)
        .await
        .assert_problem(409, "conflict");
    assert_eq!(end("2017-06-30").await.status, 200);
    // Once ended, no help is logged on it.
    log_help(&s.app, s.sec(), &p, "2017-06-15", "visit")
        .await
        .assert_problem(409, "conflict");
    assert_eq!(help_count(&s.app, s.sec(), &p).await, 1, "nothing written");
    let req = s
        .app
        .server
        .post(format!("/api/v1/members/{}/leave", s.zhang))
        .bearer_auth(s.sec());
    let reply = send_json(req.insert_header(("If-Match", tag)), &leave).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
}
