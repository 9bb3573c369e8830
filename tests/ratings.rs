//! Star ratings (星级评定): a branch proposes its members' ratings and the town its
//! organisations'; the town approves or returns them, never for itself or its own branch;
//! inspectors only read; lists and counts per level agree with the ratings made.

mod common;

use std::collections::BTreeMap;

use common::world::{self, World, get};
use common::{Reply, TestApp, send, send_json, spawn_app};
use serde_json::{Value, json};

struct Setup {
    app: TestApp,
    w: World,
    /// 程军 (支部A), linked to member_a's account.
    cheng: String,
    /// 王书记 (支部A), sec_a's own member record.
    wang: String,
}

async fn setup() -> Setup {
    let app = spawn_app().await;
    let mut w = world::build(&app).await;
    let members = world::pledge_members(&app, &mut w).await;
    Setup {
        cheng: members.cheng_id().to_owned(),
        wang: members.wang_id().to_owned(),
        app,
        w,
    }
}

fn member_rating(member: &str, level: &str) -> Value {
    json!({"year": 2025, "member_id": member, "level": level, "score": 96, "remarks": "承诺全部兑现"})
}

async fn propose(app: &TestApp, token: &str, body: &Value) -> Reply {
    send_json(app.server.post("/api/v1/ratings").bearer_auth(token), body).await
}

async fn step(app: &TestApp, token: &str, id: &str, step: &str, body: Option<Value>) -> Reply {
    let req = app
        .server
        .post(format!("/api/v1/ratings/{id}/{step}"))
        .bearer_auth(token);
    match body {
        Some(b) => send_json(req, &b).await,
        None => send(req).await,
    }
}

async fn audit_actions(app: &TestApp, admin: &str, id: &str) -> Vec<String> {
    let page = get(app, admin, &format!("/api/v1/audit-events?entity_id={id}&limit=100"))
        .await
        .json();
    let mut actions: Vec<String> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    actions.reverse();
    actions
}

#[actix_web::test]
async fn a_branch_proposes_a_member_rating_and_the_town_approves_it() {
    let Setup { app, w, cheng, .. } = setup().await;
    let (sec, admin) = (w.token("sec_a"), w.token("admin"));

    let reply = propose(&app, sec, &member_rating(&cheng, "five_stars")).await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    assert_eq!(reply.headers.get("etag").unwrap(), "\"1\"");
    let rating = reply.json();
    let id = rating["id"].as_str().unwrap().to_owned();
    assert_eq!(
        reply.headers.get("location").unwrap().to_str().unwrap(),
        format!("/api/v1/ratings/{id}")
    );
    assert_eq!(rating["state"], "proposed");
    assert_eq!(rating["subject"], "member");
    assert_eq!(rating["subject_name"], "程军");
    assert_eq!(rating["org_id"], w.branch_a.as_str());
    assert_eq!(rating["level_label"], "五星");
    assert_eq!(rating["allowed_steps"], json!(["approve", "return"]));

    let approved = step(&app, admin, &id, "approve", None).await;
    assert_eq!(approved.status, 200, "{}", approved.text());
    let approved = approved.json();
    assert_eq!(approved["state"], "approved");
    assert_eq!(approved["decided_by"], w.user("admin"));
    assert_eq!(approved["version"], 2);
    assert_eq!(approved["allowed_steps"], json!([]));

    // 程军 reads his own rating; another branch's secretary does not see it.
    let own = get(&app, w.token("member_a"), &format!("/api/v1/ratings/{id}")).await;
    assert_eq!(own.status, 200, "{}", own.text());
    assert_eq!(own.json()["state"], "approved");
    let other = get(&app, w.token("sec_b"), &format!("/api/v1/ratings/{id}")).await;
    assert_eq!(other.status, 404);

    let timeline = get(&app, w.token("inspector"), &format!("/api/v1/ratings/{id}/timeline"))
        .await
        .json();
    let kinds: Vec<&str> = timeline["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["propose", "approve"]);
    assert_eq!(timeline["items"][1]["from_state"], "proposed");
    assert_eq!(timeline["items"][1]["to_state"], "approved");
    assert_eq!(timeline["items"][1]["actor_name"], "admin");
    assert_eq!(
        audit_actions(&app, admin, &id).await,
        ["rating.propose", "rating.approve"]
    );
}

#[actix_web::test]
async fn nobody_rates_themselves_or_decides_on_their_own_branch_and_inspectors_only_read() {
    let Setup { app, w, cheng, wang } = setup().await;
    let admin = w.token("admin").to_owned();

    // sec_a is 王书记: not their own rating.
    let own = propose(&app, w.token("sec_a"), &member_rating(&wang, "five_stars")).await;
    assert_eq!(own.status, 403, "{}", own.text());
    // Members and inspectors propose nothing; another branch's secretary does not see 程军.
    for (user, status) in [("member_a", 403), ("inspector", 403), ("sec_b", 404)] {
        let reply = propose(&app, w.token(user), &member_rating(&cheng, "four_stars")).await;
        assert_eq!(reply.status, status, "{user}: {}", reply.text());
    }
    // Organisations are proposed by the town, not by a secretary.
    let by_sec = propose(
        &app,
        w.token("sec_a"),
        &json!({"year": 2025, "org_id": w.branch_a, "level": "five_stars"}),
    )
    .await;
    assert_eq!(by_sec.status, 403, "{}", by_sec.text());

    // A second town administrator, a member of 支部B: an account of 支部B linked to its
    // member record, then made administrator from the server's shell.
    let (admin_b_id, _) = world::add_account(&app, &admin, "admin_b", &w.branch_b, "member", &w.branch_b).await;
    let zhao = world::member_body("赵六", &w.branch_b, &world::id_number("340822", "19750101", "051"));
    let zhao = world::create_member(&app, w.token("sec_b"), zhao).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let linked = world::link_member(&app, &admin, &admin_b_id, &zhao).await;
    assert_eq!(linked.status, 200, "{}", linked.text());
    dangjian::users::admin::create_or_reset_admin(&app.db, "admin_b", world::PASSWORD)
        .await
        .unwrap();
    let admin_b = world::login(&app, "admin_b", world::PASSWORD).await.json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let branch_b_rating = json!({"year": 2025, "org_id": w.branch_b, "level": "four_stars"});
    let refused = propose(&app, &admin_b, &branch_b_rating).await;
    assert_eq!(refused.status, 403, "{}", refused.text());
    let rating = propose(&app, &admin, &branch_b_rating).await;
    assert_eq!(rating.status, 201, "{}", rating.text());
    let id = rating.json()["id"].as_str().unwrap().to_owned();
    let refused = step(&app, &admin_b, &id, "approve", None).await;
    assert_eq!(refused.status, 403, "{}", refused.text());

    // Inspectors read, never decide; a secretary does not approve either.
    assert_eq!(
        get(&app, w.token("inspector"), &format!("/api/v1/ratings/{id}"))
            .await
            .status,
        200
    );
    for user in ["inspector", "sec_b"] {
        let reply = step(&app, w.token(user), &id, "approve", None).await;
        assert_eq!(reply.status, 403, "{user}: {}", reply.text());
    }
    let member = propose(&app, w.token("sec_a"), &member_rating(&cheng, "four_stars")).await;
    let member_id = member.json()["id"].as_str().unwrap().to_owned();
    let reply = step(&app, w.token("sec_a"), &member_id, "approve", None).await;
    assert_eq!(reply.status, 403, "{}", reply.text());
    // 程军 does not decide on his own rating, even were he an administrator: he reads it.
    let reply = step(&app, w.token("member_a"), &member_id, "approve", None).await;
    assert_eq!(reply.status, 403, "{}", reply.text());

    let fetched = get(&app, &admin, &format!("/api/v1/ratings/{id}")).await.json();
    assert_eq!(fetched["state"], "proposed", "nothing changed: {fetched}");
    let approved = step(&app, &admin, &id, "approve", None).await;
    assert_eq!(approved.status, 200, "{}", approved.text());
}

#[actix_web::test]
async fn a_returned_rating_is_changed_and_resubmitted_and_an_approved_one_is_final_for_the_branch() {
    let Setup { app, w, cheng, .. } = setup().await;
    let (sec, admin) = (w.token("sec_a"), w.token("admin"));
    let id = propose(&app, sec, &member_rating(&cheng, "five_stars")).await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let no_reason = step(&app, admin, &id, "return", None).await;
    assert_eq!(no_reason.status, 422, "{}", no_reason.text());
    assert_eq!(no_reason.json()["errors"][0]["pointer"], "/reason");
    let returned = step(
        &app,
        admin,
        &id,
        "return",
        Some(json!({"reason": "请补充全年承诺兑现情况"})),
    )
    .await;
    assert_eq!(returned.status, 200, "{}", returned.text());
    let returned = returned.json();
    assert_eq!(returned["state"], "returned");
    assert_eq!(returned["return_reason"], "请补充全年承诺兑现情况");
    assert_eq!(returned["allowed_steps"], json!(["resubmit"]));

    let path = format!("/api/v1/ratings/{id}");
    let stale = send_json(
        app.server
            .patch(&path)
            .bearer_auth(sec)
            .insert_header(("If-Match", "\"1\"")),
        &json!({"level": "four_stars"}),
    )
    .await;
    assert_eq!(stale.status, 412, "{}", stale.text());
    let changed = send_json(
        app.server
            .patch(&path)
            .bearer_auth(sec)
            .insert_header(("If-Match", "\"2\"")),
        &json!({"level": "four_stars", "score": null, "evidence": ["https://example.org/minutes.jpg"]}),
    )
    .await;
    assert_eq!(changed.status, 200, "{}", changed.text());
    let changed = changed.json();
    assert_eq!(changed["level"], "four_stars");
    assert!(changed["score"].is_null());
    assert_eq!(changed["remarks"], "承诺全部兑现");
    assert_eq!(changed["evidence"], json!(["https://example.org/minutes.jpg"]));

    // The administrator resubmits nothing of a branch's; the branch does.
    let resubmitted = step(&app, sec, &id, "resubmit", None).await;
    assert_eq!(resubmitted.status, 200, "{}", resubmitted.text());
    assert_eq!(resubmitted.json()["state"], "proposed");
    assert_eq!(step(&app, admin, &id, "approve", None).await.status, 200);

    let again = step(&app, admin, &id, "return", Some(json!({"reason": "x"}))).await;
    assert_eq!(again.status, 409, "{}", again.text());
    assert_eq!(again.json()["allowed"], json!([]));
    let patch = send_json(
        app.server
            .patch(&path)
            .bearer_auth(sec)
            .insert_header(("If-Match", "\"5\"")),
        &json!({"level": "three_stars"}),
    )
    .await;
    assert_eq!(patch.status, 409, "{}", patch.text());
    let withdraw = send(
        app.server
            .delete(&path)
            .bearer_auth(sec)
            .insert_header(("If-Match", "\"5\"")),
    )
    .await;
    assert_eq!(withdraw.status, 409, "{}", withdraw.text());
    let unknown = step(&app, admin, &id, "publish-everything", None).await;
    assert_eq!(unknown.status, 400, "{}", unknown.text());

    let kinds: Vec<String> = get(&app, admin, &format!("{path}/timeline")).await.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kinds, ["propose", "return", "change", "resubmit", "approve"]);
    assert_eq!(
        audit_actions(&app, admin, &id).await,
        [
            "rating.propose",
            "rating.return",
            "rating.update",
            "rating.resubmit",
            "rating.approve"
        ]
    );
}

#[actix_web::test]
async fn one_rating_per_subject_and_year_and_bad_input_changes_nothing() {
    let Setup { app, w, cheng, .. } = setup().await;
    let (sec, admin) = (w.token("sec_a"), w.token("admin"));
    let first = propose(&app, sec, &member_rating(&cheng, "five_stars")).await;
    assert_eq!(first.status, 201);
    let id = first.json()["id"].as_str().unwrap().to_owned();
    let twice = propose(&app, admin, &member_rating(&cheng, "three_stars")).await;
    assert_eq!(twice.status, 409, "{}", twice.text());
    // Another year is another rating.
    let mut next = member_rating(&cheng, "three_stars");
    next["year"] = json!(2024);
    assert_eq!(propose(&app, sec, &next).await.status, 201);

    let this_year: i32 = chrono::Datelike::year(&chrono::Utc::now());
    for (body, pointer) in [
        (
            json!({"year": 2025, "org_id": w.branch_a, "level": "unqualified"}),
            "/level",
        ),
        (
            json!({"year": 2025, "member_id": cheng, "level": "four_stars", "score": 101}),
            "/score",
        ),
        (
            json!({"year": 2025, "member_id": cheng, "org_id": w.branch_a, "level": "four_stars"}),
            "/member_id",
        ),
        (json!({"year": 2025, "level": "four_stars"}), "/member_id"),
        (
            json!({"year": this_year + 1, "member_id": cheng, "level": "four_stars"}),
            "/year",
        ),
        (
            json!({"year": 2025, "org_id": w.group_a, "level": "four_stars"}),
            "/org_id",
        ),
        (
            json!({"year": 2023, "member_id": cheng, "level": "four_stars", "evidence": ["ftp://x"]}),
            "/evidence/0",
        ),
        (
            json!({"year": 2023, "member_id": cheng, "level": "four_stars", "remarks": "a\u{7}b"}),
            "/remarks",
        ),
    ] {
        let reply = propose(&app, admin, &body).await;
        assert_eq!(reply.status, 422, "{body}: {}", reply.text());
        assert_eq!(reply.headers.get("content-type").unwrap(), "application/problem+json");
        assert_eq!(reply.json()["errors"][0]["pointer"], pointer, "{body}");
    }
    let unknown_level = propose(
        &app,
        admin,
        &json!({"year": 2023, "member_id": cheng, "level": "six_stars"}),
    )
    .await;
    assert_eq!(unknown_level.status, 422, "{}", unknown_level.text());
    let total = get(&app, admin, "/api/v1/ratings?include_total=true").await.json()["total"].clone();
    assert_eq!(total, 2, "only the two good proposals were stored");

    // Withdrawn, the subject may be proposed again for the year.
    let path = format!("/api/v1/ratings/{id}");
    let withdrawn = send(
        app.server
            .delete(&path)
            .bearer_auth(sec)
            .insert_header(("If-Match", "\"1\"")),
    )
    .await;
    assert_eq!(withdrawn.status, 204, "{}", withdrawn.text());
    assert_eq!(get(&app, sec, &path).await.status, 404);
    assert_eq!(
        propose(&app, sec, &member_rating(&cheng, "four_stars")).await.status,
        201
    );
    assert_eq!(
        audit_actions(&app, admin, &id).await,
        ["rating.propose", "rating.withdraw"]
    );
}

#[actix_web::test]
async fn lists_and_counts_per_level_agree_with_the_ratings_made() {
    let Setup { app, w, cheng, wang } = setup().await;
    let (sec_a, sec_b, admin) = (w.token("sec_a"), w.token("sec_b"), w.token("admin"));
    // 支部B's members, rated by their secretary.
    let mut b_members = Vec::new();
    for (i, name) in ["赵一", "钱二", "孙三", "周四"].iter().enumerate() {
        let body = world::member_body(
            name,
            &w.branch_b,
            &world::id_number("340822", "19810101", &format!("{:03}", 40 + i)),
        );
        b_members.push(
            world::create_member(&app, sec_b, body).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let mut made: Vec<(&str, &str, &str)> = Vec::new(); // (subject, level, branch)
    let levels_b = ["five_stars", "four_stars", "four_stars", "unqualified"];
    for (member, level) in b_members.iter().zip(levels_b) {
        assert_eq!(propose(&app, sec_b, &member_rating(member, level)).await.status, 201);
        made.push(("member", level, "b"));
    }
    assert_eq!(
        propose(&app, sec_a, &member_rating(&cheng, "four_stars")).await.status,
        201
    );
    made.push(("member", "four_stars", "a"));
    assert_eq!(
        propose(&app, admin, &member_rating(&wang, "three_stars")).await.status,
        201
    );
    made.push(("member", "three_stars", "a"));
    for (org, level, branch) in [(&w.branch_a, "five_stars", "a"), (&w.branch_b, "four_stars", "b")] {
        let body = json!({"year": 2025, "org_id": org, "level": level});
        assert_eq!(propose(&app, admin, &body).await.status, 201);
        made.push(("org", level, branch));
    }
    // A rating of another year does not count in 2025.
    let mut old = member_rating(&cheng, "one_star");
    old["year"] = json!(2024);
    assert_eq!(propose(&app, sec_a, &old).await.status, 201);

    let expect = |subject: &str, branch: Option<&str>| -> BTreeMap<String, u64> {
        let mut m = BTreeMap::new();
        for (s, l, b) in &made {
            if *s == subject && branch.is_none_or(|x| x == *b) {
                *m.entry(l.to_string()).or_insert(0) += 1;
            }
        }
        m
    };
    let counted = |v: &Value| -> BTreeMap<String, u64> {
        v.as_array()
            .unwrap()
            .iter()
            .filter(|c| c["count"] != 0)
            .map(|c| (c["level"].as_str().unwrap().to_owned(), c["count"].as_u64().unwrap()))
            .collect()
    };
    let town = get(&app, w.token("inspector"), "/api/v1/ratings/counts?year=2025").await;
    assert_eq!(town.status, 200, "{}", town.text());
    let town = town.json();
    assert_eq!(counted(&town["members"]), expect("member", None));
    assert_eq!(counted(&town["orgs"]), expect("org", None));
    assert_eq!(town["members"].as_array().unwrap().len(), 6, "every level listed");
    assert_eq!(
        town["orgs"].as_array().unwrap().len(),
        5,
        "organisations are never unqualified"
    );
    let b = get(&app, sec_b, "/api/v1/ratings/counts?year=2025").await.json();
    assert_eq!(counted(&b["members"]), expect("member", Some("b")));
    assert_eq!(counted(&b["orgs"]), expect("org", Some("b")));

    // Lists: scoped, filtered, by name.
    let names = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["subject_name"].as_str().unwrap().to_owned())
            .collect()
    };
    let b_list = get(&app, sec_b, "/api/v1/ratings?year=2025&subject=member")
        .await
        .json();
    let mut expected = vec!["赵一", "钱二", "孙三", "周四"];
    expected.sort();
    assert_eq!(names(&b_list), expected);
    let four = get(
        &app,
        admin,
        "/api/v1/ratings?year=2025&level=four_stars&include_total=true",
    )
    .await
    .json();
    assert_eq!(four["total"], 4, "{four}");
    let a_subtree = get(&app, admin, &format!("/api/v1/ratings?org_id={}&year=2025", w.branch_a))
        .await
        .json();
    let mut a_names = names(&a_subtree);
    a_names.sort();
    let mut expected_a = vec!["王书记".to_owned(), "程军".to_owned(), "支部A".to_owned()];
    expected_a.sort();
    assert_eq!(a_names, expected_a);
    let out_of_scope = get(&app, sec_b, &format!("/api/v1/ratings?org_id={}", w.branch_a)).await;
    assert_eq!(out_of_scope.status, 404);
    let paged = get(&app, admin, "/api/v1/ratings?limit=3").await.json();
    assert_eq!(paged["items"].as_array().unwrap().len(), 3);
    let next = paged["next_cursor"].as_str().unwrap();
    let rest = get(&app, admin, &format!("/api/v1/ratings?limit=100&cursor={next}"))
        .await
        .json();
    assert_eq!(rest["items"].as_array().unwrap().len(), made.len() + 1 - 3);
    let bad = get(&app, admin, "/api/v1/ratings?level=six_stars").await;
    assert_eq!(bad.status, 400, "{}", bad.text());

    let csv = send(
        app.server
            .get("/api/v1/ratings?year=2025&subject=org")
            .bearer_auth(admin)
            .insert_header(("Accept", "text/csv")),
    )
    .await;
    assert_eq!(csv.status, 200);
    let text = String::from_utf8(csv.body.to_vec()).unwrap();
    assert!(text.starts_with('\u{feff}'), "BOM");
    let lines: Vec<&str> = text.trim_end().lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(
        lines[1].contains("支部A") && lines[1].contains("五星") && lines[1].contains("已提名"),
        "{text}"
    );
}

/// A hand-built 2017 for 程军: three pledges on the board (one evaluated satisfied, one
/// fulfilled, one in progress and overdue), one draft that does not count; two help records
/// that year and one the next; two feedback messages, one answered.
#[actix_web::test]
async fn a_suggestion_lists_its_evidence_and_matches_a_hand_built_year() {
    let Setup { app, w, cheng, wang } = setup().await;
    let (sec, member, admin) = (w.token("sec_a"), w.token("member_a"), w.token("admin"));
    let body = world::pledge_body;
    let evaluated = world::pledge_in_state(&app, member, sec, body("修缮村道"), "evaluated").await;
    let fulfilled = world::pledge_in_state(&app, member, sec, body("清扫河道"), "fulfilled").await;
    let mut late = body("安装路灯");
    late["due_on"] = json!("2017-06-30");
    world::pledge_in_state(&app, member, sec, late, "in_progress").await;
    world::pledge_in_state(&app, member, sec, body("草稿不计"), "draft").await;
    // 王书记's pledge counts for the branch, not for 程军.
    world::pledge_in_state(&app, sec, admin, body("支部书记的承诺"), "approved").await;

    for (pledge, answer) in [(&evaluated, Some("已修好")), (&fulfilled, None)] {
        let pledge = pledge["id"].as_str().unwrap();
        let sent = send_json(
            app.server.post(format!("/api/v1/public/pledges/{pledge}/feedback")),
            &json!({"message": "感谢党员同志"}),
        )
        .await;
        assert_eq!(sent.status, 201, "{}", sent.text());
        if let Some(reply) = answer {
            let fid = sent.json()["id"].as_str().unwrap().to_owned();
            let replied = send_json(
                app.server
                    .post(format!("/api/v1/pledges/{pledge}/feedback/{fid}/reply"))
                    .bearer_auth(sec),
                &json!({"reply": reply}),
            )
            .await;
            assert_eq!(replied.status, 200, "{}", replied.text());
        }
    }

    let village = world::create_village(&app, admin, &w.branch_a, "司山村").await;
    let household = world::create_household(
        &app,
        sec,
        world::household_body("李大山", &village, &world::head_id_number(7)),
    )
    .await;
    let paired = world::pair(
        &app,
        sec,
        household["id"].as_str().unwrap(),
        json!({"member_id": cheng}),
    )
    .await;
    assert_eq!(paired.status, 201, "{}", paired.text());
    let pairing = paired.json()["id"].as_str().unwrap().to_owned();
    for date in ["2017-04-12", "2017-09-01", "2018-01-05"] {
        let logged = world::log_help(&app, member, &pairing, date, "visit").await;
        assert_eq!(logged.status, 201, "{}", logged.text());
    }

    let reply = get(
        &app,
        sec,
        &format!("/api/v1/ratings/suggestion?member_id={cheng}&year=2017"),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let s = reply.json();
    let parts = |s: &Value| -> Vec<(String, u64, u64, u64)> {
        s["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["code"].as_str().unwrap().to_owned(),
                    r["points"].as_u64().unwrap(),
                    r["count"].as_u64().unwrap(),
                    r["of"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    let expected = [
        ("pledges_kept", 27, 2, 3),     // 40 × 2/3
        ("satisfaction", 30, 1, 1),     // 30 × 1/1
        ("help_records", 5, 2, 4),      // 10 × 2/4 (2018's does not count)
        ("feedback_answered", 5, 1, 2), // 10 × 1/2
        ("nothing_overdue", 0, 1, 3),
    ]
    .map(|(c, p, n, of)| (c.to_owned(), p, n, of));
    assert_eq!(parts(&s), expected, "{s}");
    assert_eq!(s["score"], 67);
    assert_eq!(s["level"], "two_stars");
    assert_eq!(s["subject_name"], "程军");
    assert!(s["rule"].as_str().unwrap().contains("five stars from 90"), "{s}");

    // The branch: 王书记's approved pledge too (kept 2 of 4), the same helper and feedback.
    let branch = get(
        &app,
        admin,
        &format!("/api/v1/ratings/suggestion?org_id={}&year=2017", w.branch_a),
    )
    .await;
    assert_eq!(branch.status, 200, "{}", branch.text());
    let branch = branch.json();
    assert_eq!(parts(&branch)[0], ("pledges_kept".to_owned(), 20, 2, 4), "{branch}");
    assert_eq!(branch["score"], 60);
    assert_eq!(branch["level"], "two_stars");

    // Someone without pledges or pairings: only the parts with nothing expected are full.
    let quiet = get(
        &app,
        admin,
        &format!("/api/v1/ratings/suggestion?member_id={wang}&year=2016"),
    )
    .await
    .json();
    assert_eq!(quiet["score"], 30, "{quiet}");
    assert_eq!(quiet["level"], "one_star");

    // Out of scope, two subjects, a group, no year: refused; nothing was proposed.
    let hidden = get(
        &app,
        w.token("sec_b"),
        &format!("/api/v1/ratings/suggestion?member_id={cheng}&year=2017"),
    )
    .await;
    assert_eq!(hidden.status, 404);
    for query in [
        format!("member_id={cheng}&org_id={}&year=2017", w.branch_a),
        format!("org_id={}&year=2017", w.group_a),
        format!("member_id={cheng}"),
        format!("member_id={cheng}&year=1999"),
    ] {
        let reply = get(&app, admin, &format!("/api/v1/ratings/suggestion?{query}")).await;
        assert_eq!(reply.status, 400, "{query}: {}", reply.text());
    }
    let total = get(&app, admin, "/api/v1/ratings?include_total=true").await.json()["total"].clone();
    assert_eq!(total, 0, "a suggestion is never applied by itself");
}

/// Moves every notice's end a day into the past, as time passing would.
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

async fn object(app: &TestApp, rating: &str, body: &Value) -> Reply {
    send_json(
        app.server.post(format!("/api/v1/public/ratings/{rating}/objections")),
        body,
    )
    .await
}

async fn answer(app: &TestApp, token: &str, rating: &str, objection: &str, what: &str) -> Reply {
    send_json(
        app.server
            .post(format!("/api/v1/ratings/{rating}/objections/{objection}/{what}"))
            .bearer_auth(token),
        &json!({"answer": "经核实"}),
    )
    .await
}

fn board_names(board: &Value, list: &str) -> Vec<(String, String, String)> {
    board[list]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["name"].as_str().unwrap().to_owned(),
                e["level"].as_str().unwrap().to_owned(),
                e["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// 程军 (objected to, upheld: back to proposed), 王书记 (no objection: final when the notice
/// ends) and 支部B (objected to, dismissed: final once answered) go on notice together; a
/// proposed rating never shows.
#[actix_web::test]
async fn the_notice_period_with_an_objection_upheld_and_one_dismissed() {
    let Setup { app, w, cheng, wang } = setup().await;
    let (sec, admin) = (w.token("sec_a"), w.token("admin"));
    let mut ids = BTreeMap::new();
    for (name, token, body) in [
        ("cheng", sec, member_rating(&cheng, "five_stars")),
        ("wang", admin, member_rating(&wang, "four_stars")),
        (
            "branch_b",
            admin,
            json!({"year": 2025, "org_id": w.branch_b, "level": "five_stars"}),
        ),
    ] {
        let id = propose(&app, token, &body).await.json()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(step(&app, admin, &id, "approve", None).await.status, 200);
        ids.insert(name, id);
    }
    let mut proposed_only = member_rating(&cheng, "three_stars");
    proposed_only["year"] = json!(2024);
    let not_approved = propose(&app, sec, &proposed_only).await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let board_path = format!("/api/v1/public/orgs/{}/star-board?year=2025", w.root);
    let empty = send(app.server.get(&board_path)).await.json();
    assert_eq!(empty["members"], json!([]), "approved is not yet public: {empty}");

    // Only the town administrator publishes.
    let notice = json!({"year": 2025, "org_id": w.root, "notice_days": 5});
    for user in ["sec_a", "inspector"] {
        let reply = send_json(
            app.server.post("/api/v1/ratings/notices").bearer_auth(w.token(user)),
            &notice,
        )
        .await;
        assert_eq!(reply.status, 403, "{user}: {}", reply.text());
    }
    let bad = send_json(
        app.server.post("/api/v1/ratings/notices").bearer_auth(admin),
        &json!({"year": 2025, "org_id": w.root, "notice_days": 31}),
    )
    .await;
    assert_eq!(bad.status, 422, "{}", bad.text());
    let published = send_json(app.server.post("/api/v1/ratings/notices").bearer_auth(admin), &notice).await;
    assert_eq!(published.status, 200, "{}", published.text());
    assert_eq!(published.json()["published"], 3);
    let again = send_json(app.server.post("/api/v1/ratings/notices").bearer_auth(admin), &notice).await;
    assert_eq!(again.json()["published"], 0, "nothing approved is left waiting");

    let board = send(app.server.get(&board_path)).await;
    assert_eq!(board.status, 200);
    assert_eq!(board.headers.get("cache-control").unwrap(), "public, max-age=60");
    let etag = board.headers.get("etag").unwrap().to_str().unwrap().to_owned();
    let cached = send(
        app.server
            .get(&board_path)
            .insert_header(("If-None-Match", etag.as_str())),
    )
    .await;
    assert_eq!(cached.status, 304);
    let board = board.json();
    assert_eq!(
        board_names(&board, "members"),
        [
            ("程军".to_owned(), "five_stars".to_owned(), "noticed".to_owned()),
            ("王书记".to_owned(), "four_stars".to_owned(), "noticed".to_owned()),
        ]
    );
    assert_eq!(board["members"][0]["org_name"], "支部A");
    assert!(board["members"][0]["notice_ends_at"].is_string());
    assert_eq!(
        board_names(&board, "orgs"),
        [("支部B".to_owned(), "five_stars".to_owned(), "noticed".to_owned())]
    );
    // Nothing else about a person: exactly these fields, and no member id anywhere. (Not a
    // search for "138": the notice's timestamp may hold those digits.)
    for entry in board["members"]
        .as_array()
        .unwrap()
        .iter()
        .chain(board["orgs"].as_array().unwrap())
    {
        let mut keys: Vec<&str> = entry.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(
            keys,
            ["level", "level_label", "name", "notice_ends_at", "org_name", "state"],
            "{entry}"
        );
    }
    assert!(!board.to_string().contains(&cheng), "{board}");
    // Members come a page at a time; the counts and organisations are on every page.
    let first = send(app.server.get(format!("{board_path}&limit=1"))).await.json();
    assert_eq!(board_names(&first, "members")[0].0, "程军");
    assert_eq!(first["orgs"].as_array().unwrap().len(), 1);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = send(app.server.get(format!("{board_path}&limit=1&cursor={cursor}")))
        .await
        .json();
    assert_eq!(board_names(&second, "members")[0].0, "王书记");
    assert!(second["next_cursor"].is_null(), "{second}");
    let five = first["member_counts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["level"] == "five_stars")
        .unwrap()
        .clone();
    assert_eq!(five["count"], 1);

    // Objections: only to ratings on notice; checked like feedback.
    let sent = object(
        &app,
        &ids["cheng"],
        &json!({"message": "该党员全年多次缺席组织生活", "phone": "13812345678"}),
    )
    .await;
    assert_eq!(sent.status, 201, "{}", sent.text());
    let on_cheng = sent.json()["id"].as_str().unwrap().to_owned();
    let on_b = object(&app, &ids["branch_b"], &json!({"message": "支部B 的道路承诺没有完成"})).await;
    assert_eq!(on_b.status, 201, "{}", on_b.text());
    let on_b = on_b.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(object(&app, &not_approved, &json!({"message": "x"})).await.status, 404);
    assert_eq!(
        object(&app, &ids["wang"], &json!({"message": "x", "phone": "123"}))
            .await
            .status,
        422
    );
    let listed = get(&app, admin, &format!("/api/v1/ratings/{}/objections", ids["cheng"]))
        .await
        .json();
    assert_eq!(listed["items"][0]["status"], "open");
    assert_eq!(listed["items"][0]["phone"], "138****5678");
    let rating = get(&app, admin, &format!("/api/v1/ratings/{}", ids["cheng"]))
        .await
        .json();
    assert_eq!(rating["open_objections"], 1);

    // The notice ends: 王书记's rating, with no objection, is final; the objected ones wait.
    end_notices(&app).await;
    let state = |id: String| {
        let app = &app;
        async move { get(app, admin, &format!("/api/v1/ratings/{id}")).await.json()["state"].clone() }
    };
    assert_eq!(state(ids["wang"].clone()).await, "final");
    assert_eq!(state(ids["cheng"].clone()).await, "noticed");
    assert_eq!(state(ids["branch_b"].clone()).await, "noticed");
    let late = object(&app, &ids["cheng"], &json!({"message": "还有意见"})).await;
    assert_eq!(late.status, 409, "{}", late.text());

    // Answers: inspectors never; the administrator dismisses one and upholds the other.
    assert_eq!(
        answer(&app, w.token("inspector"), &ids["branch_b"], &on_b, "dismiss")
            .await
            .status,
        403
    );
    let dismissed = answer(&app, admin, &ids["branch_b"], &on_b, "dismiss").await;
    assert_eq!(dismissed.status, 200, "{}", dismissed.text());
    assert_eq!(dismissed.json()["state"], "final");
    assert_eq!(answer(&app, admin, &ids["branch_b"], &on_b, "uphold").await.status, 409);
    let upheld = answer(&app, admin, &ids["cheng"], &on_cheng, "uphold").await;
    assert_eq!(upheld.status, 200, "{}", upheld.text());
    let upheld = upheld.json();
    assert_eq!(upheld["state"], "proposed");
    assert!(upheld["notice_ends_at"].is_null());
    assert_eq!(upheld["allowed_steps"], json!(["approve", "return"]));

    let board = send(app.server.get(&board_path)).await.json();
    assert_eq!(
        board_names(&board, "members"),
        [("王书记".to_owned(), "four_stars".to_owned(), "final".to_owned())]
    );
    assert_eq!(
        board_names(&board, "orgs"),
        [("支部B".to_owned(), "five_stars".to_owned(), "final".to_owned())]
    );
    let counts: Vec<(String, i64)> = board["member_counts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["level"].as_str().unwrap().to_owned(), c["count"].as_i64().unwrap()))
        .collect();
    assert!(counts.contains(&("four_stars".to_owned(), 1)), "{counts:?}");
    assert!(
        counts.contains(&("five_stars".to_owned(), 0)),
        "the upheld rating left the counts: {counts:?}"
    );
    assert_eq!(board["org_counts"][0]["level"], "five_stars");
    assert_eq!(board["org_counts"][0]["count"], 1, "{board}");

    // The sweeper writes down what reads already show.
    assert_eq!(dangjian::ratings::notice::finalise_due(&app.db).await.unwrap(), 2);
    assert_eq!(dangjian::ratings::notice::finalise_due(&app.db).await.unwrap(), 0);
    let final_list = get(&app, admin, "/api/v1/ratings?state=final&include_total=true")
        .await
        .json();
    assert_eq!(final_list["total"], 2, "{final_list}");
    let kinds: Vec<String> = get(&app, admin, &format!("/api/v1/ratings/{}/timeline", ids["wang"]))
        .await
        .json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kinds, ["propose", "approve", "publish", "finalise"]);
    let kinds: Vec<String> = get(&app, admin, &format!("/api/v1/ratings/{}/timeline", ids["cheng"]))
        .await
        .json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        kinds,
        ["propose", "approve", "publish", "objection", "objection_upheld"]
    );
    assert_eq!(
        audit_actions(&app, admin, &ids["cheng"]).await,
        ["rating.propose", "rating.approve", "rating.objection_uphold"]
    );
    let finalised = get(&app, admin, "/api/v1/audit-events?entity_type=rating&limit=100")
        .await
        .json();
    assert!(
        finalised["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "rating.finalise"),
        "{finalised}"
    );
    assert_eq!(
        object(&app, &ids["wang"], &json!({"message": "x"})).await.status,
        409,
        "final: no more objections"
    );
}

/// The pledge board of 2017 shows, beside the pledges, the final ratings of 2016: 程军's and
/// 支部A's; a rating still on notice, or of another year, is not shown.
#[actix_web::test]
async fn the_pledge_board_shows_last_years_final_ratings() {
    let Setup { app, w, cheng, wang } = setup().await;
    let (sec, member, admin) = (w.token("sec_a"), w.token("member_a"), w.token("admin"));
    world::pledge_in_state(&app, member, sec, world::pledge_body("修缮村道"), "approved").await;
    world::pledge_in_state(&app, sec, admin, world::pledge_body("支部书记的承诺"), "approved").await;
    let mut collective = world::pledge_body("支部集体承诺");
    collective["kind"] = json!("collective");
    collective["org_id"] = json!(w.branch_a);
    world::pledge_in_state(&app, admin, sec, collective, "approved").await;

    let rate = |body: Value| {
        let app = &app;
        async move {
            let id = propose(app, admin, &body).await.json()["id"]
                .as_str()
                .unwrap()
                .to_owned();
            assert_eq!(step(app, admin, &id, "approve", None).await.status, 200);
        }
    };
    rate(json!({"year": 2016, "member_id": cheng, "level": "five_stars"})).await;
    rate(json!({"year": 2016, "org_id": w.branch_a, "level": "four_stars"})).await;
    rate(json!({"year": 2017, "member_id": wang, "level": "three_stars"})).await;
    for year in [2016, 2017] {
        let published = send_json(
            app.server.post("/api/v1/ratings/notices").bearer_auth(admin),
            &json!({"year": year, "org_id": w.root}),
        )
        .await;
        assert_eq!(published.status, 200, "{}", published.text());
    }
    let path = format!("/api/v1/public/orgs/{}/board?year=2017", w.branch_a);
    let on_notice = send(app.server.get(&path)).await.json();
    assert_eq!(on_notice["rating_year"], 2016);
    assert!(
        on_notice["sections"][0]["star_rating"].is_null(),
        "on notice, not yet final: {on_notice}"
    );

    end_notices(&app).await;
    let board = send(app.server.get(&path)).await.json();
    let section = &board["sections"][0];
    assert_eq!(section["org_name"], "支部A");
    assert_eq!(section["star_rating"], json!({"level": "four_stars", "label": "四星"}));
    let star = |name: &str| {
        section["members"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == name)
            .unwrap()["star_rating"]
            .clone()
    };
    assert_eq!(star("程军"), json!({"level": "five_stars", "label": "五星"}));
    assert!(
        star("王书记").is_null(),
        "2017's rating goes with the board of 2018: {board}"
    );
}

/// The star board's counts of a subtree follow its organisations: a branch moved under a
/// general branch takes its ratings' counts to the general branch's board (the town's stay,
/// since both are under it); an organisation with ratings is not deleted.
#[actix_web::test]
async fn board_counts_follow_a_branch_that_moves_and_a_rated_branch_is_kept() {
    let Setup { app, w, cheng, wang } = setup().await;
    let admin = w.token("admin");
    let under_root = |kind: &'static str, name: &'static str| {
        let (app, root) = (&app, w.root.clone());
        async move {
            let body = json!({"parent_id": root, "kind": kind, "name": name});
            let org = world::create(app, admin, "/api/v1/orgs", body).await;
            org["id"].as_str().unwrap().to_owned()
        }
    };
    let general = under_root("general_branch", "总支").await;
    let empty = under_root("branch", "支部C").await;
    for body in [
        member_rating(&cheng, "five_stars"),
        member_rating(&wang, "four_stars"),
        json!({"year": 2025, "org_id": w.branch_a, "level": "three_stars"}),
        json!({"year": 2025, "org_id": empty, "level": "two_stars"}),
    ] {
        let id = propose(&app, admin, &body).await.json()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(step(&app, admin, &id, "approve", None).await.status, 200);
    }
    let published = send_json(
        app.server.post("/api/v1/ratings/notices").bearer_auth(admin),
        &json!({"year": 2025, "org_id": w.root}),
    )
    .await;
    assert_eq!(published.json()["published"], 4, "{}", published.text());

    // (organisations, members): level → count, the levels counted at least once.
    let counts = |org: String| {
        let app = &app;
        async move {
            let path = format!("/api/v1/public/orgs/{org}/star-board?year=2025");
            let board = send(app.server.get(path)).await;
            assert_eq!(board.status, 200, "{}", board.text());
            let board = board.json();
            let of = |list: &str| -> BTreeMap<String, u64> {
                board[list]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|c| c["count"] != 0)
                    .map(|c| (c["level"].as_str().unwrap().to_owned(), c["count"].as_u64().unwrap()))
                    .collect()
            };
            (of("org_counts"), of("member_counts"))
        }
    };
    let levels =
        |pairs: &[(&str, u64)]| -> BTreeMap<String, u64> { pairs.iter().map(|(l, n)| (l.to_string(), *n)).collect() };
    let branch_a = (
        levels(&[("three_stars", 1)]),
        levels(&[("five_stars", 1), ("four_stars", 1)]),
    );
    let town = (
        levels(&[("three_stars", 1), ("two_stars", 1)]),
        levels(&[("five_stars", 1), ("four_stars", 1)]),
    );
    assert_eq!(counts(w.root.clone()).await, town);
    assert_eq!(counts(general.clone()).await, (levels(&[]), levels(&[])));

    let etag = |id: String| {
        let app = &app;
        async move {
            let reply = get(app, admin, &format!("/api/v1/orgs/{id}")).await;
            reply.header("etag").unwrap().to_owned()
        }
    };
    let moved = send_json(
        app.server
            .post(format!("/api/v1/orgs/{}/move", w.branch_a))
            .bearer_auth(admin)
            .insert_header(("If-Match", etag(w.branch_a.clone()).await)),
        &json!({"parent_id": general}),
    )
    .await;
    assert_eq!(moved.status, 200, "{}", moved.text());
    assert_eq!(
        counts(general.clone()).await,
        branch_a,
        "the general branch now holds branch A"
    );
    assert_eq!(counts(w.branch_a.clone()).await, branch_a);
    assert_eq!(counts(w.root.clone()).await, town, "both still under the town");

    // And back: the general branch's board is empty again.
    let back = send_json(
        app.server
            .post(format!("/api/v1/orgs/{}/move", w.branch_a))
            .bearer_auth(admin)
            .insert_header(("If-Match", etag(w.branch_a.clone()).await)),
        &json!({"parent_id": w.root}),
    )
    .await;
    assert_eq!(back.status, 200, "{}", back.text());
    assert_eq!(counts(general.clone()).await, (levels(&[]), levels(&[])));
    assert_eq!(counts(w.root.clone()).await, town);

    // A branch with ratings is their record: it stays, and so do its counts.
    let deleted = send(
        app.server
            .delete(format!("/api/v1/orgs/{empty}"))
            .bearer_auth(admin)
            .insert_header(("If-Match", etag(empty.clone()).await)),
    )
    .await;
    let problem = deleted.assert_problem(409, "conflict");
    assert!(
        problem["detail"].as_str().unwrap().contains("star ratings"),
        "{problem}"
    );
    assert_eq!(counts(w.root.clone()).await, town);
}
