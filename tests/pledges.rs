//! Pledges (承诺) through the API: who writes which pledge, every transition by every role,
//! nobody reviewing their own pledge, edits, progress, the timeline, overdue pledges, lists
//! and their scope, statistics and the CSV export.

mod common;

use std::collections::BTreeSet;

use common::world::{
    self, PledgeMembers, World, create_member, create_pledge, get, member_body, pledge_body, pledge_in_state,
    pledge_members, pledge_step, step_body,
};
use common::{Reply, TestApp, send, send_json, spawn_app};
use serde_json::{Value, json};

async fn setup() -> (TestApp, World, PledgeMembers) {
    let app = spawn_app().await;
    let mut w = world::build(&app).await;
    let m = pledge_members(&app, &mut w).await;
    (app, w, m)
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().unwrap_or_else(|| panic!("no id in {v}")).to_owned()
}

/// Asserts a 422 with exactly one field error at `pointer`.
fn assert_field_error(reply: &Reply, pointer: &str) {
    let body = reply.assert_problem(422, "validation_failed");
    let errors = body["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{body}");
    assert_eq!(errors[0]["pointer"], pointer, "{body}");
}

/// Asserts `status`, with the problem code that goes with it for refusals.
fn assert_status(reply: &Reply, status: u16, context: &str) {
    match status {
        403 => {
            reply.assert_problem(403, "forbidden");
        }
        404 => {
            reply.assert_problem(404, "not_found");
        }
        409 => {
            reply.assert_problem(409, "invalid_transition");
        }
        _ => assert_eq!(reply.status.as_u16(), status, "{context}: {}", reply.text()),
    }
}

/// A pledge as the administrator reads it.
async fn read(app: &TestApp, w: &World, id: &str) -> Value {
    let reply = get(app, w.token("admin"), &format!("/api/v1/pledges/{id}")).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()
}

async fn timeline(app: &TestApp, token: &str, id: &str) -> Vec<Value> {
    let reply = get(app, token, &format!("/api/v1/pledges/{id}/timeline")).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()["items"].as_array().expect("items").clone()
}

/// The ids of a page's items, in order.
fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items in {page}"))
        .iter()
        .map(id_of)
        .collect()
}

async fn list(app: &TestApp, token: &str, query: &str) -> Value {
    let reply = get(app, token, &format!("/api/v1/pledges{query}")).await;
    assert_eq!(reply.status, 200, "{query}: {}", reply.text());
    reply.json()
}

/// The ids `token` lists with `query`, as a set (all pages).
async fn listed(app: &TestApp, token: &str, query: &str) -> BTreeSet<String> {
    let sep = if query.is_empty() { "?" } else { "&" };
    let page = list(app, token, &format!("{query}{sep}limit=100")).await;
    assert!(page["next_cursor"].is_null(), "{page}");
    ids(&page).into_iter().collect()
}

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

const ROLES: [&str; 6] = ["member_a", "sec_a", "admin", "inspector", "leader_a", "sec_b"];

/// The transitions allowed from each state, in the API's order.
fn allowed_from(state: &str) -> &'static [&'static str] {
    match state {
        "draft" => &["submit", "withdraw"],
        "submitted" => &["approve", "return", "withdraw"],
        "returned" => &["submit", "withdraw"],
        "approved" => &["start"],
        "in_progress" => &["fulfil"],
        "fulfilled" => &["evaluate"],
        "evaluated" | "withdrawn" => &[],
        other => panic!("no state {other}"),
    }
}

const STATES: [&str; 8] = [
    "draft",
    "submitted",
    "returned",
    "withdrawn",
    "approved",
    "in_progress",
    "fulfilled",
    "evaluated",
];
const TRANSITIONS: [&str; 7] = ["submit", "approve", "return", "start", "fulfil", "evaluate", "withdraw"];

#[actix_web::test]
async fn categories_are_public_and_in_order() {
    let app = spawn_app().await;
    let reply = send(app.server.get("/api/v1/public/pledge-categories")).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let items = reply.json()["items"].as_array().unwrap().clone();
    let got: Vec<(String, String)> = items
        .iter()
        .map(|c| {
            assert_eq!(c["active"], true, "{c}");
            (c["code"].as_str().unwrap().into(), c["label"].as_str().unwrap().into())
        })
        .collect();
    let want: Vec<(String, String)> = [
        ("serve_people", "服务群众"),
        ("environment", "环境整治"),
        ("infrastructure", "基础设施"),
        ("poverty_relief", "帮扶济困"),
        ("mediation", "矛盾调解"),
        ("industry", "产业发展"),
        ("other", "其他"),
    ]
    .iter()
    .map(|(c, l)| (c.to_string(), l.to_string()))
    .collect();
    assert_eq!(got, want);
}

#[actix_web::test]
async fn who_writes_which_pledge() {
    let (app, w, m) = setup().await;
    let (member, sec) = (w.token("member_a"), w.token("sec_a"));

    // A member writes their own: it is a draft of their branch and group.
    let mut body = pledge_body("修复司山村民组道路");
    body["due_on"] = json!("2017-12-31");
    let reply = send_json(app.server.post("/api/v1/pledges").bearer_auth(member), &body).await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    let p = reply.json();
    let pid = id_of(&p);
    assert_eq!(
        reply.header("location"),
        Some(format!("/api/v1/pledges/{pid}").as_str())
    );
    assert_eq!(reply.header("etag"), Some("\"1\""));
    let keys: BTreeSet<&str> = p.as_object().unwrap().keys().map(String::as_str).collect();
    let want: BTreeSet<&str> = [
        "id",
        "year",
        "kind",
        "member_id",
        "org_id",
        "group_id",
        "title",
        "content",
        "category",
        "villager_group_id",
        "post_id",
        "due_on",
        "state",
        "overdue",
        "allowed_transitions",
        "return_reason",
        "evaluation_result",
        "evaluation_comment",
        "progress_percent",
        "version",
        "created_at",
        "updated_at",
    ]
    .into_iter()
    .collect();
    assert_eq!(keys, want);
    assert_eq!(p["year"], 2017);
    assert_eq!(p["kind"], "individual");
    assert_eq!(p["member_id"], m.cheng_id());
    assert_eq!(p["org_id"], w.branch_a.as_str());
    assert_eq!(p["group_id"], w.group_a.as_str());
    assert_eq!(p["title"], "修复司山村民组道路");
    assert_eq!(p["category"], "infrastructure");
    assert_eq!(p["due_on"], "2017-12-31");
    assert_eq!(p["state"], "draft");
    assert_eq!(p["overdue"], false);
    assert_eq!(strings(&p["allowed_transitions"]), ["submit", "withdraw"]);
    assert_eq!(p["version"], 1);
    for field in [
        "return_reason",
        "evaluation_result",
        "evaluation_comment",
        "progress_percent",
        "villager_group_id",
        "post_id",
    ] {
        assert!(p[field].is_null(), "{field}: {p}");
    }
    for user in ["member_a", "sec_a", "admin", "inspector", "leader_a"] {
        let reply = get(&app, w.token(user), &format!("/api/v1/pledges/{pid}")).await;
        assert_eq!(reply.status, 200, "{user}: {}", reply.text());
        assert_eq!(reply.json(), p, "{user}");
    }
    get(&app, w.token("sec_b"), &format!("/api/v1/pledges/{pid}"))
        .await
        .assert_problem(404, "not_found");

    // The secretary writes one for a member of the branch, and collective ones.
    let mut body = pledge_body("帮扶困难户");
    body["member_id"] = json!(m.cheng_id());
    body["category"] = json!("poverty_relief");
    let p = create_pledge(&app, sec, body).await;
    assert_eq!(p["kind"], "individual");
    assert_eq!(p["member_id"], m.cheng_id());
    assert_eq!(p["org_id"], w.branch_a.as_str());
    assert_eq!(p["group_id"], w.group_a.as_str());
    let mut body = pledge_body("整治村容村貌");
    body["kind"] = json!("collective");
    body["org_id"] = json!(w.group_a);
    body["category"] = json!("environment");
    let c = create_pledge(&app, sec, body).await;
    assert_eq!(c["kind"], "collective");
    assert!(c["member_id"].is_null(), "{c}");
    assert_eq!(c["org_id"], w.group_a.as_str());
    assert_eq!(c["group_id"], w.group_a.as_str());
    assert_eq!(c["state"], "draft");
    let mut body = pledge_body("建设村级活动场所");
    body["kind"] = json!("collective");
    body["org_id"] = json!(w.branch_a);
    let c = create_pledge(&app, w.token("admin"), body).await;
    assert_eq!(c["org_id"], w.branch_a.as_str());
    assert!(c["group_id"].is_null(), "{c}");

    // Refused: other branches, roles that do not write for others, nobody linked.
    let for_cheng = {
        let mut b = pledge_body("代写");
        b["member_id"] = json!(m.cheng_id());
        b
    };
    let collective_a = {
        let mut b = pledge_body("集体");
        b["kind"] = json!("collective");
        b["org_id"] = json!(w.group_a);
        b
    };
    let for_wang = {
        let mut b = pledge_body("替书记写");
        b["member_id"] = json!(m.wang_id());
        b
    };
    let refusals: Vec<(&str, &Value, u16)> = vec![
        ("sec_b", &for_cheng, 404),
        ("sec_b", &collective_a, 404),
        ("inspector", &for_cheng, 403),
        ("inspector", &collective_a, 403),
        ("leader_a", &for_cheng, 403),
        ("leader_a", &collective_a, 404),
        ("member_a", &for_wang, 404),
        ("member_a", &collective_a, 404),
    ];
    for (user, body, status) in refusals {
        let reply = send_json(app.server.post("/api/v1/pledges").bearer_auth(w.token(user)), body).await;
        assert_status(&reply, status, &format!("{user} {body}"));
    }

    // Not valid.
    let reply = send_json(
        app.server.post("/api/v1/pledges").bearer_auth(w.token("leader_a")),
        &pledge_body("没有关联党员"),
    )
    .await;
    assert_field_error(&reply, "/member_id");
    let cases: Vec<(Value, &str)> = vec![
        (json!({"category": "karaoke"}), "/category"),
        (json!({"category": ""}), "/category"),
        (json!({"year": 1999}), "/year"),
        (json!({"year": 2101}), "/year"),
        (json!({"title": "  "}), "/title"),
        (json!({"title": "长".repeat(101)}), "/title"),
        (json!({"content": ""}), "/content"),
        (json!({"org_id": w.branch_a}), "/org_id"),
    ];
    for (change, pointer) in cases {
        let mut body = pledge_body("有误的承诺");
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        let reply = send_json(app.server.post("/api/v1/pledges").bearer_auth(member), &body).await;
        assert_field_error(&reply, pointer);
    }
    let mut body = pledge_body("多余字段");
    body["colour"] = json!("red");
    send_json(app.server.post("/api/v1/pledges").bearer_auth(member), &body)
        .await
        .assert_problem(422, "validation_failed");

    // Only what was accepted exists.
    let all = listed(&app, w.token("admin"), "").await;
    assert_eq!(all.len(), 4, "{all:?}");
}

#[actix_web::test]
async fn writing_a_pledge_is_retry_safe() {
    let (app, w, _m) = setup().await;
    let post = || {
        app.server
            .post("/api/v1/pledges")
            .bearer_auth(w.token("member_a"))
            .insert_header(("Idempotency-Key", "pledge-create-1"))
    };
    let body = pledge_body("重试安全");
    let first = send_json(post(), &body).await;
    assert_eq!(first.status, 201, "{}", first.text());
    let again = send_json(post(), &body).await;
    assert_eq!(again.status, 201, "{}", again.text());
    assert_eq!(again.body, first.body);
    assert_eq!(again.header("location"), first.header("location"));
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    send_json(post(), &pledge_body("另一条"))
        .await
        .assert_problem(422, "idempotency_key_reused");
    assert_eq!(listed(&app, w.token("admin"), "").await, set(&[&id_of(&first.json())]));
    // The timeline has the one creation.
    assert_eq!(timeline(&app, w.token("admin"), &id_of(&first.json())).await.len(), 1);
}

/// Who may do each transition to an individual pledge of member_a's (程军's).
const AUTHOR_ONLY: [(&str, u16); 6] = [
    ("member_a", 200),
    ("sec_a", 403),
    ("admin", 403),
    ("inspector", 403),
    ("leader_a", 403),
    ("sec_b", 404),
];
const BRANCH_ONLY: [(&str, u16); 6] = [
    ("member_a", 403),
    ("sec_a", 200),
    ("admin", 200),
    ("inspector", 403),
    ("leader_a", 403),
    ("sec_b", 404),
];
const AUTHOR_OR_BRANCH: [(&str, u16); 6] = [
    ("member_a", 200),
    ("sec_a", 200),
    ("admin", 200),
    ("inspector", 403),
    ("leader_a", 403),
    ("sec_b", 404),
];
/// The same for a collective pledge of 小组A: its branch does everything; the member cannot
/// see it; the group leader sees it but may not move it.
const COLLECTIVE: [(&str, u16); 6] = [
    ("member_a", 404),
    ("sec_a", 200),
    ("admin", 200),
    ("inspector", 403),
    ("leader_a", 403),
    ("sec_b", 404),
];

/// `(transition, from, to, who gets what)`.
type Row = (
    &'static str,
    &'static str,
    &'static str,
    &'static [(&'static str, u16); 6],
);

const INDIVIDUAL_TABLE: [Row; 10] = [
    ("submit", "draft", "submitted", &AUTHOR_ONLY),
    ("submit", "returned", "submitted", &AUTHOR_ONLY),
    ("approve", "submitted", "approved", &BRANCH_ONLY),
    ("return", "submitted", "returned", &BRANCH_ONLY),
    ("start", "approved", "in_progress", &AUTHOR_OR_BRANCH),
    ("fulfil", "in_progress", "fulfilled", &AUTHOR_OR_BRANCH),
    ("evaluate", "fulfilled", "evaluated", &BRANCH_ONLY),
    ("withdraw", "draft", "withdrawn", &AUTHOR_OR_BRANCH),
    ("withdraw", "submitted", "withdrawn", &AUTHOR_OR_BRANCH),
    ("withdraw", "returned", "withdrawn", &AUTHOR_OR_BRANCH),
];

const COLLECTIVE_TABLE: [Row; 10] = [
    ("submit", "draft", "submitted", &COLLECTIVE),
    ("submit", "returned", "submitted", &COLLECTIVE),
    ("approve", "submitted", "approved", &COLLECTIVE),
    ("return", "submitted", "returned", &COLLECTIVE),
    ("start", "approved", "in_progress", &COLLECTIVE),
    ("fulfil", "in_progress", "fulfilled", &COLLECTIVE),
    ("evaluate", "fulfilled", "evaluated", &COLLECTIVE),
    ("withdraw", "draft", "withdrawn", &COLLECTIVE),
    ("withdraw", "submitted", "withdrawn", &COLLECTIVE),
    ("withdraw", "returned", "withdrawn", &COLLECTIVE),
];

/// Runs every cell of `table` on a fresh pledge: `body` is written by `author` and moved to
/// the row's state (`reviewer` approving, returning and evaluating), then the role tries the
/// transition; the state afterwards must be the target on success, unchanged otherwise.
async fn run_table(app: &TestApp, w: &World, table: &[Row], author: &str, reviewer: &str, body: Value) {
    for (transition, from, to, expect) in table {
        let roles: Vec<&str> = expect.iter().map(|(r, _)| *r).collect();
        assert_eq!(roles, ROLES, "every role has an expectation");
        for (role, status) in expect.iter() {
            let context = format!("{role} {transition} from {from}");
            let p = pledge_in_state(app, w.token(author), w.token(reviewer), body.clone(), from).await;
            let id = id_of(&p);
            let before = timeline(app, w.token("admin"), &id).await;
            let reply = pledge_step(app, w.token(role), &id, transition, step_body(transition)).await;
            assert_status(&reply, *status, &context);
            let after = read(app, w, &id).await;
            let events = timeline(app, w.token("admin"), &id).await;
            if *status == 200 {
                let view = reply.json();
                assert_eq!(view["state"], *to, "{context}: {view}");
                assert_eq!(after["state"], *to, "{context}: {after}");
                assert_eq!(after["version"], p["version"].as_i64().unwrap() + 1, "{context}");
                assert_eq!(reply.header("etag"), Some(format!("\"{}\"", after["version"]).as_str()));
                assert_eq!(strings(&after["allowed_transitions"]), allowed_from(to), "{context}");
                assert_eq!(events.len(), before.len() + 1, "{context}");
                let last = events.last().unwrap();
                assert_eq!(last["kind"], "state", "{context}");
                assert_eq!(last["from_state"], *from, "{context}");
                assert_eq!(last["to_state"], *to, "{context}");
                assert_eq!(last["actor_user_id"], w.user(role), "{context}");
                assert_eq!(last["actor_name"], *role, "{context}");
            } else {
                assert_eq!(after["state"], *from, "{context}: {after}");
                assert_eq!(after["version"], p["version"], "{context}");
                assert_eq!(events.len(), before.len(), "{context}");
            }
        }
    }
}

#[actix_web::test]
async fn every_transition_of_an_individual_pledge_by_every_role() {
    let (app, w, _m) = setup().await;
    run_table(
        &app,
        &w,
        &INDIVIDUAL_TABLE,
        "member_a",
        "sec_a",
        pledge_body("个人承诺"),
    )
    .await;
}

#[actix_web::test]
async fn every_transition_of_a_collective_pledge_by_every_role() {
    let (app, w, _m) = setup().await;
    let mut body = pledge_body("集体承诺");
    body["kind"] = json!("collective");
    body["org_id"] = json!(w.group_a);
    run_table(&app, &w, &COLLECTIVE_TABLE, "sec_a", "admin", body).await;
}

#[actix_web::test]
async fn transitions_not_allowed_from_the_state_are_409_and_roles_are_checked_first() {
    let (app, w, _m) = setup().await;
    for from in STATES {
        let p = pledge_in_state(&app, w.token("member_a"), w.token("sec_a"), pledge_body(from), from).await;
        let id = id_of(&p);
        assert_eq!(strings(&p["allowed_transitions"]), allowed_from(from), "{from}");
        for t in TRANSITIONS {
            let context = format!("{t} from {from}");
            // Roles first: these are refused whatever the state.
            for (role, status) in [("inspector", 403), ("leader_a", 403), ("sec_b", 404)] {
                let reply = pledge_step(&app, w.token(role), &id, t, step_body(t)).await;
                assert_status(&reply, status, &format!("{role} {context}"));
            }
            let refused_role = if matches!(t, "approve" | "return" | "evaluate") {
                "member_a"
            } else if t == "submit" {
                "sec_a"
            } else {
                continue;
            };
            let reply = pledge_step(&app, w.token(refused_role), &id, t, step_body(t)).await;
            assert_status(&reply, 403, &format!("{refused_role} {context}"));
        }
        // Someone who may do it, in a state that does not allow it: 409 with what is allowed.
        for t in TRANSITIONS.iter().filter(|t| !allowed_from(from).contains(t)) {
            let actor = if matches!(*t, "approve" | "return" | "evaluate") {
                "sec_a"
            } else {
                "member_a"
            };
            let reply = pledge_step(&app, w.token(actor), &id, t, step_body(t)).await;
            let problem = reply.assert_problem(409, "invalid_transition");
            assert_eq!(
                strings(&problem["allowed"]),
                allowed_from(from),
                "{t} from {from}: {problem}"
            );
        }
        let after = read(&app, &w, &id).await;
        assert_eq!(after["state"], from);
        assert_eq!(after["version"], p["version"], "nothing changed {from}");
    }
}

#[actix_web::test]
async fn transition_bodies_and_names_are_checked() {
    let (app, w, _m) = setup().await;
    let p = pledge_in_state(
        &app,
        w.token("member_a"),
        w.token("sec_a"),
        pledge_body("检查"),
        "submitted",
    )
    .await;
    let id = id_of(&p);
    let sec = w.token("sec_a");
    send(
        app.server
            .post(format!("/api/v1/pledges/{id}/publish"))
            .bearer_auth(sec),
    )
    .await
    .assert_problem(400, "invalid_path");
    let reply = pledge_step(&app, sec, &id, "return", None).await;
    assert_field_error(&reply, "/reason");
    let reply = pledge_step(&app, sec, &id, "return", Some(json!({"reason": " "}))).await;
    assert_field_error(&reply, "/reason");
    let reply = pledge_step(&app, sec, &id, "return", Some(json!({"reason": "长".repeat(501)}))).await;
    assert_field_error(&reply, "/reason");
    let reply = pledge_step(&app, sec, &id, "approve", Some(json!({"colour": "red"}))).await;
    reply.assert_problem(422, "validation_failed");
    assert_eq!(read(&app, &w, &id).await["state"], "submitted");

    let reply = pledge_step(&app, sec, &id, "return", Some(json!({"reason": "请写明完成时限"}))).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["return_reason"], "请写明完成时限");

    assert_eq!(read(&app, &w, &id).await["state"], "returned");
    for t in ["submit", "approve", "start", "fulfil"] {
        let token = if t == "approve" { sec } else { w.token("member_a") };
        let reply = pledge_step(&app, token, &id, t, None).await;
        assert_eq!(reply.status, 200, "{t}: {}", reply.text());
    }
    let reply = pledge_step(&app, sec, &id, "evaluate", None).await;
    assert_field_error(&reply, "/result");
    let reply = pledge_step(&app, sec, &id, "evaluate", Some(json!({"result": "great"}))).await;
    reply.assert_problem(422, "validation_failed");
    assert_eq!(read(&app, &w, &id).await["state"], "fulfilled");
    let reply = pledge_step(
        &app,
        sec,
        &id,
        "evaluate",
        Some(json!({"result": "basically_satisfied", "comment": "进度稍慢"})),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let p = reply.json();
    assert_eq!(p["evaluation_result"], "basically_satisfied");
    assert_eq!(p["evaluation_comment"], "进度稍慢");
    assert!(p["return_reason"].is_null(), "approving clears the return reason: {p}");
    assert_eq!(p["progress_percent"], 100, "fulfilling is 100 %");
}

#[actix_web::test]
async fn nobody_reviews_or_evaluates_their_own_pledge() {
    let (app, w, m) = setup().await;
    let (sec, admin) = (w.token("sec_a"), w.token("admin"));
    // sec_a's account is linked to 王书记: an individual pledge written by sec_a is their own.
    let p = create_pledge(&app, sec, pledge_body("书记带头承诺")).await;
    let id = id_of(&p);
    assert_eq!(p["kind"], "individual");
    assert_eq!(p["member_id"], m.wang_id());
    let reply = pledge_step(&app, sec, &id, "submit", None).await;
    assert_eq!(reply.status, 200, "the author submits: {}", reply.text());
    for t in ["approve", "return"] {
        let reply = pledge_step(&app, sec, &id, t, step_body(t)).await;
        let problem = reply.assert_problem(403, "forbidden");
        assert!(
            problem["detail"].as_str().unwrap().contains("own"),
            "says why: {problem}"
        );
        assert_eq!(read(&app, &w, &id).await["state"], "submitted");
    }
    // Nobody else in the branch may either; the town administrator may.
    for (user, status) in [("member_a", 404), ("leader_a", 404), ("inspector", 403)] {
        let reply = pledge_step(&app, w.token(user), &id, "approve", None).await;
        assert_status(&reply, status, user);
    }
    let reply = pledge_step(&app, admin, &id, "approve", None).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    for t in ["start", "fulfil"] {
        let reply = pledge_step(&app, sec, &id, t, None).await;
        assert_eq!(reply.status, 200, "{t}: {}", reply.text());
    }
    let reply = pledge_step(&app, sec, &id, "evaluate", step_body("evaluate")).await;
    reply.assert_problem(403, "forbidden");
    assert_eq!(read(&app, &w, &id).await["state"], "fulfilled");
    let reply = pledge_step(&app, admin, &id, "evaluate", step_body("evaluate")).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let actors: Vec<String> = timeline(&app, admin, &id)
        .await
        .iter()
        .map(|e| e["actor_name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(actors, ["sec_a", "sec_a", "admin", "sec_a", "sec_a", "admin"]);

    // A member approving their own pledge is refused just the same.
    let p = pledge_in_state(
        &app,
        w.token("member_a"),
        sec,
        pledge_body("党员自己的承诺"),
        "submitted",
    )
    .await;
    let reply = pledge_step(&app, w.token("member_a"), &id_of(&p), "approve", None).await;
    reply.assert_problem(403, "forbidden");
    assert_eq!(read(&app, &w, &id_of(&p)).await["state"], "submitted");
}

/// `PATCH /api/v1/pledges/{id}` with `If-Match: "version"`.
async fn patch(app: &TestApp, token: &str, id: &str, version: Option<i64>, body: &Value) -> Reply {
    let mut req = app.server.patch(format!("/api/v1/pledges/{id}")).bearer_auth(token);
    if let Some(v) = version {
        req = req.insert_header(("If-Match", format!("\"{v}\"")));
    }
    send_json(req, body).await
}

#[actix_web::test]
async fn returned_edited_resubmitted_and_kept_shows_a_complete_timeline() {
    let (app, w, _m) = setup().await;
    let (member, sec, leader) = (w.token("member_a"), w.token("sec_a"), w.token("leader_a"));
    let p = create_pledge(&app, member, pledge_body("修路")).await;
    let id = id_of(&p);
    let ok = |reply: Reply, what: &str| {
        assert!(reply.status.is_success(), "{what}: {}", reply.text());
        reply.json()
    };

    ok(pledge_step(&app, member, &id, "submit", None).await, "submit");
    let v = ok(
        pledge_step(&app, sec, &id, "return", Some(json!({"reason": "请写明完成时限"}))).await,
        "return",
    );
    assert_eq!(v["state"], "returned");
    assert_eq!(v["return_reason"], "请写明完成时限");
    assert_eq!(strings(&v["allowed_transitions"]), ["submit", "withdraw"]);

    let reply = patch(
        &app,
        member,
        &id,
        Some(3),
        &json!({"title": "修复司山村民组道路", "due_on": "2017-11-30"}),
    )
    .await;
    assert_eq!(reply.header("etag"), Some("\"4\""));
    let v = ok(reply, "edit");
    assert_eq!(v["title"], "修复司山村民组道路");
    assert_eq!(v["due_on"], "2017-11-30");
    assert_eq!(v["state"], "returned");
    assert_eq!(v["version"], 4);

    ok(
        pledge_step(&app, member, &id, "submit", Some(json!({"note": "已补充完成时限"}))).await,
        "resubmit",
    );
    let v = ok(pledge_step(&app, sec, &id, "approve", None).await, "approve");
    assert_eq!(v["state"], "approved");
    assert!(v["return_reason"].is_null(), "{v}");
    let progress = json!({"note": "已完成路基铺设", "percentage": 30,
        "evidence": ["https://example.cn/photos/road-30.jpg"]});
    let reply = send_json(
        app.server
            .post(format!("/api/v1/pledges/{id}/progress"))
            .bearer_auth(leader),
        &progress,
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    assert_eq!(reply.json()["progress_percent"], 30);
    ok(pledge_step(&app, member, &id, "start", None).await, "start");
    let reply = send_json(
        app.server
            .post(format!("/api/v1/pledges/{id}/progress"))
            .bearer_auth(member),
        &json!({"note": "路面硬化过半", "percentage": 60}),
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    ok(pledge_step(&app, member, &id, "fulfil", None).await, "fulfil");
    let v = ok(
        pledge_step(
            &app,
            sec,
            &id,
            "evaluate",
            Some(json!({"result": "satisfied", "comment": "群众满意"})),
        )
        .await,
        "evaluate",
    );
    assert_eq!(v["state"], "evaluated");
    assert_eq!(v["evaluation_result"], "satisfied");
    assert_eq!(v["evaluation_comment"], "群众满意");
    assert_eq!(v["progress_percent"], 100);
    assert_eq!(v["version"], 11, "create, 9 changes and an edit: {v}");
    assert_eq!(strings(&v["allowed_transitions"]), Vec::<String>::new());

    // (kind, from, to, actor, note, percentage)
    type Expected<'a> = (
        &'a str,
        Option<&'a str>,
        Option<&'a str>,
        &'a str,
        Option<&'a str>,
        Option<i64>,
    );
    let expected: Vec<Expected> = vec![
        ("state", None, Some("draft"), "member_a", None, None),
        ("state", Some("draft"), Some("submitted"), "member_a", None, None),
        (
            "state",
            Some("submitted"),
            Some("returned"),
            "sec_a",
            Some("请写明完成时限"),
            None,
        ),
        (
            "state",
            Some("returned"),
            Some("submitted"),
            "member_a",
            Some("已补充完成时限"),
            None,
        ),
        ("state", Some("submitted"), Some("approved"), "sec_a", None, None),
        ("progress", None, None, "leader_a", Some("已完成路基铺设"), Some(30)),
        ("state", Some("approved"), Some("in_progress"), "member_a", None, None),
        ("progress", None, None, "member_a", Some("路面硬化过半"), Some(60)),
        ("state", Some("in_progress"), Some("fulfilled"), "member_a", None, None),
        (
            "state",
            Some("fulfilled"),
            Some("evaluated"),
            "sec_a",
            Some("群众满意"),
            None,
        ),
    ];
    let items = timeline(&app, member, &id).await;
    assert_eq!(items.len(), expected.len(), "{items:#?}");
    let mut previous = String::new();
    for (item, (kind, from, to, actor, note, percentage)) in items.iter().zip(&expected) {
        assert_eq!(item["kind"], *kind, "{item}");
        assert_eq!(item["from_state"].as_str(), *from, "{item}");
        assert_eq!(item["to_state"].as_str(), *to, "{item}");
        assert_eq!(item["actor_user_id"], w.user(actor), "{item}");
        assert_eq!(item["actor_name"], *actor, "{item}");
        assert_eq!(item["note"].as_str(), *note, "{item}");
        assert_eq!(item["percentage"].as_i64(), *percentage, "{item}");
        let at = item["occurred_at"].as_str().expect("occurred_at").to_owned();
        assert!(at >= previous, "in order: {at} after {previous}");
        previous = at;
    }
    assert_eq!(
        strings(&items[5]["evidence"]),
        ["https://example.cn/photos/road-30.jpg"]
    );
    assert_eq!(items[7]["evidence"], json!([]));

    // Everyone who reads the pledge reads the same timeline; other branches do not.
    for user in ["sec_a", "admin", "inspector", "leader_a"] {
        assert_eq!(timeline(&app, w.token(user), &id).await, items, "{user}");
    }
    get(&app, w.token("sec_b"), &format!("/api/v1/pledges/{id}/timeline"))
        .await
        .assert_problem(404, "not_found");
}

#[actix_web::test]
async fn only_drafts_and_returned_pledges_are_edited() {
    let (app, w, _m) = setup().await;
    let member = w.token("member_a");
    let p = create_pledge(&app, member, pledge_body("草稿")).await;
    let id = id_of(&p);
    let change = json!({"content": "改写内容"});

    patch(&app, member, &id, None, &change)
        .await
        .assert_problem(428, "precondition_required");
    for (user, status) in [("leader_a", 403), ("inspector", 403), ("sec_b", 404)] {
        let reply = patch(&app, w.token(user), &id, Some(1), &change).await;
        assert_status(&reply, status, user);
    }
    let reply = patch(&app, member, &id, Some(1), &change).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["content"], "改写内容");
    patch(&app, member, &id, Some(1), &change)
        .await
        .assert_problem(412, "precondition_failed");
    let reply = patch(&app, member, &id, Some(2), &json!({"category": "karaoke"})).await;
    assert_field_error(&reply, "/category");
    let reply = patch(&app, member, &id, Some(2), &json!({"title": ""})).await;
    assert_field_error(&reply, "/title");
    // The branch may edit too; setting a field to null clears it.
    let reply = patch(
        &app,
        w.token("sec_a"),
        &id,
        Some(2),
        &json!({"category": "mediation", "due_on": "2017-06-30"}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let reply = patch(&app, member, &id, Some(3), &json!({"due_on": null})).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let v = reply.json();
    assert_eq!(v["category"], "mediation");
    assert!(v["due_on"].is_null(), "{v}");

    // Past review, or withdrawn: 409, the pledge unchanged.
    for state in [
        "submitted",
        "approved",
        "in_progress",
        "fulfilled",
        "evaluated",
        "withdrawn",
    ] {
        let p = pledge_in_state(&app, member, w.token("sec_a"), pledge_body(state), state).await;
        let reply = patch(&app, member, &id_of(&p), p["version"].as_i64(), &change).await;
        reply.assert_problem(409, "conflict");
        let after = read(&app, &w, &id_of(&p)).await;
        assert_eq!(after["content"], p["content"], "{state}");
        assert_eq!(after["version"], p["version"], "{state}");
    }
}

#[actix_web::test]
async fn progress_is_reported_on_approved_and_in_progress_pledges() {
    let (app, w, _m) = setup().await;
    let (member, sec) = (w.token("member_a"), w.token("sec_a"));
    let report = |note: &str, pct: Option<i64>| json!({"note": note, "percentage": pct});
    let progress = |id: &str| format!("/api/v1/pledges/{id}/progress");

    for state in ["draft", "submitted", "returned", "withdrawn", "fulfilled", "evaluated"] {
        let p = pledge_in_state(&app, member, sec, pledge_body(state), state).await;
        let reply = send_json(
            app.server.post(progress(&id_of(&p))).bearer_auth(member),
            &report("进展", Some(10)),
        )
        .await;
        reply.assert_problem(409, "conflict");
    }

    let p = pledge_in_state(&app, member, sec, pledge_body("践诺"), "approved").await;
    let id = id_of(&p);
    let mut pct = 0;
    for user in ["member_a", "sec_a", "admin", "leader_a"] {
        pct += 10;
        let reply = send_json(
            app.server.post(progress(&id)).bearer_auth(w.token(user)),
            &report(&format!("{user} 报告"), Some(pct)),
        )
        .await;
        assert_eq!(reply.status, 201, "{user}: {}", reply.text());
        assert_eq!(reply.json()["progress_percent"], pct, "{user}");
        assert_eq!(reply.json()["state"], "approved", "progress does not move the state");
    }
    for (user, status) in [("inspector", 403), ("sec_b", 404)] {
        let reply = send_json(
            app.server.post(progress(&id)).bearer_auth(w.token(user)),
            &report("不该记录", Some(99)),
        )
        .await;
        assert_status(&reply, status, user);
    }
    let bad: Vec<(Value, &str)> = vec![
        (report("超过", Some(101)), "/percentage"),
        (report("负数", Some(-1)), "/percentage"),
        (report(" ", Some(50)), "/note"),
        (
            json!({"note": "链接", "evidence": ["ftp://example.cn/a.jpg"]}),
            "/evidence/0",
        ),
        (
            json!({"note": "链接", "evidence": ["https://example.cn/a b.jpg"]}),
            "/evidence/0",
        ),
    ];
    for (body, pointer) in bad {
        let reply = send_json(app.server.post(progress(&id)).bearer_auth(member), &body).await;
        assert_field_error(&reply, pointer);
    }
    let eleven: Vec<String> = (0..11).map(|i| format!("https://example.cn/{i}.jpg")).collect();
    let reply = send_json(
        app.server.post(progress(&id)).bearer_auth(member),
        &json!({"note": "太多链接", "evidence": eleven}),
    )
    .await;
    assert_field_error(&reply, "/evidence");
    // 0 and 100 are fine; no percentage keeps the last one.
    for pct in [0, 100] {
        let reply = send_json(
            app.server.post(progress(&id)).bearer_auth(member),
            &report("边界", Some(pct)),
        )
        .await;
        assert_eq!(reply.status, 201, "{pct}: {}", reply.text());
    }
    let reply = send_json(
        app.server.post(progress(&id)).bearer_auth(member),
        &json!({"note": "只写说明"}),
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    assert_eq!(reply.json()["progress_percent"], 100);

    let reply = pledge_step(&app, member, &id, "start", None).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let reply = send_json(
        app.server.post(progress(&id)).bearer_auth(w.token("leader_a")),
        &report("践诺中", Some(70)),
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    let items = timeline(&app, sec, &id).await;
    let progress_by: Vec<(String, Option<i64>)> = items
        .iter()
        .filter(|e| e["kind"] == "progress")
        .map(|e| (e["actor_name"].as_str().unwrap().to_owned(), e["percentage"].as_i64()))
        .collect();
    let want: Vec<(String, Option<i64>)> = [
        ("member_a", Some(10)),
        ("sec_a", Some(20)),
        ("admin", Some(30)),
        ("leader_a", Some(40)),
        ("member_a", Some(0)),
        ("member_a", Some(100)),
        ("member_a", None),
        ("leader_a", Some(70)),
    ]
    .iter()
    .map(|(u, p)| (u.to_string(), *p))
    .collect();
    assert_eq!(progress_by, want);

    // The group leader reports on their group's collective pledge, not on a member outside it.
    let mut body = pledge_body("小组集体承诺");
    body["kind"] = json!("collective");
    body["org_id"] = json!(w.group_a);
    let c = pledge_in_state(&app, sec, w.token("admin"), body, "approved").await;
    let reply = send_json(
        app.server.post(progress(&id_of(&c))).bearer_auth(w.token("leader_a")),
        &report("小组进展", Some(20)),
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    let reply = send_json(
        app.server.post(progress(&id_of(&c))).bearer_auth(member),
        &report("不是我的", Some(20)),
    )
    .await;
    reply.assert_problem(404, "not_found");
    let own = pledge_in_state(&app, sec, w.token("admin"), pledge_body("书记的承诺"), "approved").await;
    let reply = send_json(
        app.server.post(progress(&id_of(&own))).bearer_auth(w.token("leader_a")),
        &report("不在小组", Some(20)),
    )
    .await;
    reply.assert_problem(404, "not_found");
}

#[actix_web::test]
async fn overdue_pledges_are_found_by_the_overdue_filter() {
    let (app, w, _m) = setup().await;
    let (member, sec) = (w.token("member_a"), w.token("sec_a"));
    let due = |title: &str, due_on: Option<&str>| {
        let mut b = pledge_body(title);
        if let Some(d) = due_on {
            b["due_on"] = json!(d);
        }
        b
    };
    let late_approved = pledge_in_state(&app, member, sec, due("逾期已公示", Some("2017-01-31")), "approved").await;
    let late_started = pledge_in_state(&app, member, sec, due("逾期践诺中", Some("2017-01-31")), "in_progress").await;
    let late_draft = pledge_in_state(&app, member, sec, due("逾期草稿", Some("2017-01-31")), "draft").await;
    let late_submitted = pledge_in_state(&app, member, sec, due("逾期待审", Some("2017-01-31")), "submitted").await;
    let late_kept = pledge_in_state(&app, member, sec, due("逾期已兑现", Some("2017-01-31")), "fulfilled").await;
    let future = pledge_in_state(&app, member, sec, due("未到期", Some("2099-12-31")), "approved").await;
    let undated = pledge_in_state(&app, member, sec, due("无期限", None), "in_progress").await;

    let overdue = set(&[&id_of(&late_approved), &id_of(&late_started)]);
    for user in ["sec_a", "admin", "inspector", "member_a", "leader_a"] {
        let page = list(&app, w.token(user), "?state=overdue").await;
        let got: BTreeSet<String> = ids(&page).into_iter().collect();
        assert_eq!(got, overdue, "{user}");
        for item in page["items"].as_array().unwrap() {
            assert_eq!(item["overdue"], true, "{item}");
        }
    }
    assert!(ids(&list(&app, w.token("sec_b"), "?state=overdue").await).is_empty());
    for (p, want) in [
        (&late_approved, true),
        (&late_started, true),
        (&late_draft, false),
        (&late_submitted, false),
        (&late_kept, false),
        (&future, false),
        (&undated, false),
    ] {
        assert_eq!(read(&app, &w, &id_of(p)).await["overdue"], want, "{}", p["title"]);
    }
    // Kept late is no longer overdue.
    let reply = pledge_step(&app, member, &id_of(&late_started), "fulfil", None).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["overdue"], false);
    assert_eq!(
        listed(&app, sec, "?state=overdue").await,
        set(&[&id_of(&late_approved)])
    );
    // The stored state is still `approved`.
    assert!(
        listed(&app, sec, "?state=approved")
            .await
            .contains(&id_of(&late_approved))
    );
    get(&app, sec, "/api/v1/pledges?state=late")
        .await
        .assert_problem(400, "invalid_query");
}

#[actix_web::test]
async fn lists_are_scoped_filtered_and_paged() {
    let (app, w, m) = setup().await;
    let (member, sec, admin) = (w.token("member_a"), w.token("sec_a"), w.token("admin"));
    let with = |title: &str, year: i32, category: &str| {
        let mut b = pledge_body(title);
        b["year"] = json!(year);
        b["category"] = json!(category);
        b
    };
    let p1 = id_of(&pledge_in_state(&app, member, sec, with("P1", 2017, "infrastructure"), "draft").await);
    let p2 = id_of(&pledge_in_state(&app, member, sec, with("P2", 2017, "environment"), "approved").await);
    let p3 = id_of(&pledge_in_state(&app, member, sec, with("P3", 2018, "infrastructure"), "submitted").await);
    let w1 = id_of(&pledge_in_state(&app, sec, admin, with("W1", 2017, "mediation"), "approved").await);
    let mut c = with("C1", 2017, "serve_people");
    c["kind"] = json!("collective");
    c["org_id"] = json!(w.group_a);
    let c1 = id_of(&create_pledge(&app, sec, c.clone()).await);
    c["org_id"] = json!(w.branch_a);
    c["title"] = json!("C2");
    let c2 = id_of(&create_pledge(&app, sec, c).await);
    let li = create_member(
        &app,
        w.token("sec_b"),
        member_body("李四", &w.branch_b, &world::id_number("340822", "19800808", "035")),
    )
    .await;
    let mut b = with("B1", 2017, "industry");
    b["member_id"] = json!(id_of(&li));
    let b1 = id_of(&create_pledge(&app, w.token("sec_b"), b).await);

    let all = set(&[&p1, &p2, &p3, &w1, &c1, &c2, &b1]);
    let branch_a = set(&[&p1, &p2, &p3, &w1, &c1, &c2]);
    for (user, want) in [
        ("admin", all.clone()),
        ("inspector", all.clone()),
        ("sec_a", branch_a.clone()),
        ("member_a", set(&[&p1, &p2, &p3])),
        ("leader_a", set(&[&p1, &p2, &p3, &c1])),
        ("sec_b", set(&[&b1])),
    ] {
        assert_eq!(listed(&app, w.token(user), "").await, want, "{user}");
    }
    // Reading one pledge follows the same scope.
    for (user, id, status) in [
        ("sec_b", &p1, 404),
        ("member_a", &w1, 404),
        ("member_a", &c1, 404),
        ("leader_a", &w1, 404),
        ("leader_a", &c1, 200),
        ("sec_a", &b1, 404),
        ("inspector", &b1, 200),
    ] {
        let reply = get(&app, w.token(user), &format!("/api/v1/pledges/{id}")).await;
        assert_status(&reply, status, &format!("{user} reads {id}"));
    }

    // Filters.
    let cheng = m.cheng_id();
    for (query, want) in [
        ("?year=2018", set(&[&p3])),
        ("?year=2017", set(&[&p1, &p2, &w1, &c1, &c2])),
        ("?state=approved", set(&[&p2, &w1])),
        ("?state=draft", set(&[&p1, &c1, &c2])),
        ("?category=environment", set(&[&p2])),
        ("?kind=collective", set(&[&c1, &c2])),
        ("?kind=individual", set(&[&p1, &p2, &p3, &w1])),
        (&format!("?member_id={cheng}") as &str, set(&[&p1, &p2, &p3])),
        (&format!("?org_id={}", w.branch_a) as &str, branch_a.clone()),
        ("?year=2017&category=infrastructure&state=draft", set(&[&p1])),
    ] {
        assert_eq!(listed(&app, sec, query).await, want, "{query}");
    }
    assert_eq!(
        listed(&app, admin, &format!("?org_id={}", w.branch_b)).await,
        set(&[&b1])
    );
    assert_eq!(listed(&app, admin, &format!("?org_id={}", w.root)).await, all);
    for (user, query) in [
        ("sec_b", format!("?org_id={}", w.branch_a)),
        ("sec_a", format!("?org_id={}", w.branch_b)),
    ] {
        get(&app, w.token(user), &format!("/api/v1/pledges{query}"))
            .await
            .assert_problem(404, "not_found");
    }
    for query in ["?state=bogus", "?kind=bogus", "?colour=red", "?limit=0"] {
        let reply = get(&app, sec, &format!("/api/v1/pledges{query}")).await;
        assert_eq!(reply.status, 400, "{query}: {}", reply.text());
    }

    // Newest first, in pages.
    let page = list(&app, sec, "?limit=4&include_total=true").await;
    assert_eq!(page["total"], 6);
    assert_eq!(ids(&page), [c2.as_str(), c1.as_str(), w1.as_str(), p3.as_str()]);
    let cursor = page["next_cursor"].as_str().expect("a next page").to_owned();
    let page = list(&app, sec, &format!("?limit=4&cursor={cursor}")).await;
    assert_eq!(ids(&page), [p2.as_str(), p1.as_str()]);
    assert!(page["next_cursor"].is_null(), "{page}");
}

#[actix_web::test]
async fn filtering_by_a_group_includes_its_members_pledges() {
    let (app, w, _m) = setup().await;
    let (member, sec) = (w.token("member_a"), w.token("sec_a"));
    let p = id_of(&create_pledge(&app, member, pledge_body("组员承诺")).await);
    let mut c = pledge_body("小组集体承诺");
    c["kind"] = json!("collective");
    c["org_id"] = json!(w.group_a);
    let c = id_of(&create_pledge(&app, sec, c).await);
    let query = format!("?org_id={}", w.group_a);
    for user in ["leader_a", "sec_a"] {
        assert!(
            listed(&app, w.token(user), "").await.is_superset(&set(&[&p, &c])),
            "{user}"
        );
        assert_eq!(listed(&app, w.token(user), &query).await, set(&[&p, &c]), "{user}");
    }
}

/// The stats as `token` sees them for `query`.
async fn stats(app: &TestApp, token: &str, query: &str) -> Value {
    let reply = get(app, token, &format!("/api/v1/pledges/stats{query}")).await;
    assert_eq!(reply.status, 200, "{query}: {}", reply.text());
    reply.json()
}

/// `by_state` in the API's order: draft, submitted, approved, returned, in_progress,
/// fulfilled, evaluated, withdrawn, then overdue.
fn by_state(counts: [u64; 9]) -> Value {
    let names = [
        "draft",
        "submitted",
        "approved",
        "returned",
        "in_progress",
        "fulfilled",
        "evaluated",
        "withdrawn",
        "overdue",
    ];
    Value::Array(
        names
            .iter()
            .zip(counts)
            .map(|(s, n)| json!({"state": s, "count": n}))
            .collect(),
    )
}

fn assert_stats(s: &Value, total: u64, states: [u64; 9], branches: Value, members: u64, rate: f64, what: &str) {
    assert_eq!(s["total"], total, "{what}: {s}");
    assert_eq!(s["by_state"], by_state(states), "{what}: {s}");
    assert_eq!(s["by_branch"], branches, "{what}: {s}");
    assert_eq!(s["members_with_approved_pledge"], members, "{what}: {s}");
    assert_eq!(s["fulfilment_rate"].as_f64(), Some(rate), "{what}: {s}");
}

#[actix_web::test]
async fn statistics_match_the_pledges_made() {
    let (app, w, _m) = setup().await;
    let (member, sec, admin, sec_b) = (
        w.token("member_a"),
        w.token("sec_a"),
        w.token("admin"),
        w.token("sec_b"),
    );
    // 程军: one pledge in every state; the approved one is overdue.
    for state in STATES {
        let mut body = pledge_body(state);
        if state == "approved" {
            body["due_on"] = json!("2017-01-31");
        }
        pledge_in_state(&app, member, sec, body, state).await;
    }
    // 王书记 (sec_a's own, approved by the administrator), a collective pledge of 小组A.
    pledge_in_state(&app, sec, admin, pledge_body("书记承诺"), "approved").await;
    let mut c = pledge_body("小组集体承诺");
    c["kind"] = json!("collective");
    c["org_id"] = json!(w.group_a);
    pledge_in_state(&app, sec, admin, c, "approved").await;
    // A draft of another year.
    let mut other_year = pledge_body("明年的承诺");
    other_year["year"] = json!(2018);
    create_pledge(&app, member, other_year).await;
    // 支部B: a collective pledge, approved (no member: it counts for no member).
    let mut b = pledge_body("支部B集体承诺");
    b["kind"] = json!("collective");
    b["org_id"] = json!(w.branch_b);
    pledge_in_state(&app, sec_b, admin, b, "approved").await;

    let both = |a: u64, b: u64| {
        json!([
            {"org_id": w.branch_a, "org_name": "支部A", "pledges": a},
            {"org_id": w.branch_b, "org_name": "支部B", "pledges": b},
        ])
    };
    let only_a = |n: u64| json!([{"org_id": w.branch_a, "org_name": "支部A", "pledges": n}]);
    let only_b = |n: u64| json!([{"org_id": w.branch_b, "org_name": "支部B", "pledges": n}]);

    // Town-wide, 2017: 11 pledges; 7 approved or later, 2 of them kept; 2 members.
    for user in ["admin", "inspector"] {
        let s = stats(&app, w.token(user), "?year=2017").await;
        assert_stats(&s, 11, [1, 1, 4, 1, 1, 1, 1, 1, 1], both(10, 1), 2, 2.0 / 7.0, user);
        let s = stats(&app, w.token(user), &format!("?year=2017&org_id={}", w.root)).await;
        assert_stats(&s, 11, [1, 1, 4, 1, 1, 1, 1, 1, 1], both(10, 1), 2, 2.0 / 7.0, user);
    }
    // Every year.
    let s = stats(&app, admin, "").await;
    assert_stats(
        &s,
        12,
        [2, 1, 4, 1, 1, 1, 1, 1, 1],
        both(11, 1),
        2,
        2.0 / 7.0,
        "all years",
    );
    // 支部A.
    for query in ["?year=2017".to_string(), format!("?year=2017&org_id={}", w.branch_a)] {
        let s = stats(&app, sec, &query).await;
        assert_stats(&s, 10, [1, 1, 3, 1, 1, 1, 1, 1, 1], only_a(10), 2, 2.0 / 6.0, &query);
    }
    let s = stats(&app, admin, &format!("?year=2017&org_id={}", w.branch_a)).await;
    assert_stats(
        &s,
        10,
        [1, 1, 3, 1, 1, 1, 1, 1, 1],
        only_a(10),
        2,
        2.0 / 6.0,
        "admin, 支部A",
    );
    // 支部B.
    let s = stats(&app, sec_b, "?year=2017").await;
    assert_stats(&s, 1, [0, 0, 1, 0, 0, 0, 0, 0, 0], only_b(1), 0, 0.0, "sec_b");
    let s = stats(&app, admin, &format!("?year=2017&org_id={}", w.branch_b)).await;
    assert_stats(&s, 1, [0, 0, 1, 0, 0, 0, 0, 0, 0], only_b(1), 0, 0.0, "admin, 支部B");
    // A member counts their own; the group leader their group's (the collective one counts
    // for the branch).
    let s = stats(&app, member, "?year=2017").await;
    assert_stats(&s, 8, [1, 1, 1, 1, 1, 1, 1, 1, 1], only_a(8), 1, 2.0 / 4.0, "member_a");
    let s = stats(&app, w.token("leader_a"), "?year=2017").await;
    assert_stats(&s, 9, [1, 1, 2, 1, 1, 1, 1, 1, 1], only_a(9), 1, 2.0 / 5.0, "leader_a");
    // Nothing that year.
    let s = stats(&app, admin, "?year=2030").await;
    assert_stats(&s, 0, [0; 9], json!([]), 0, 0.0, "2030");
    // Outside the scope.
    get(&app, sec_b, &format!("/api/v1/pledges/stats?org_id={}", w.branch_a))
        .await
        .assert_problem(404, "not_found");
}

#[actix_web::test]
async fn pledges_export_as_csv() {
    let (app, w, m) = setup().await;
    let (member, sec) = (w.token("member_a"), w.token("sec_a"));
    let mut body = pledge_body("修路，\"加宽\"");
    body["due_on"] = json!("2017-12-31");
    let p1 = create_pledge(&app, member, body).await;
    let mut body = pledge_body("=HYPERLINK(\"http://x\")");
    body["due_on"] = json!("2017-01-31");
    body["category"] = json!("environment");
    let p2 = pledge_in_state(&app, member, sec, body, "approved").await;
    let reply = send_json(
        app.server
            .post(format!("/api/v1/pledges/{}/progress", id_of(&p2)))
            .bearer_auth(member),
        &json!({"note": "进展", "percentage": 40}),
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    let mut c = pledge_body("小组集体承诺");
    c["kind"] = json!("collective");
    c["org_id"] = json!(w.group_a);
    let c1 = create_pledge(&app, sec, c).await;
    let li = create_member(
        &app,
        w.token("sec_b"),
        member_body("李四", &w.branch_b, &world::id_number("340822", "19800808", "035")),
    )
    .await;
    let mut b = pledge_body("李四的承诺");
    b["member_id"] = json!(id_of(&li));
    let b1 = create_pledge(&app, w.token("sec_b"), b).await;

    let csv_of = |token: &str, query: &str| {
        let req = app
            .server
            .get(format!("/api/v1/pledges{query}"))
            .bearer_auth(token)
            .insert_header(("Accept", "text/csv"));
        async move {
            let reply = send(req).await;
            assert_eq!(reply.status, 200, "{}", reply.text());
            assert!(
                reply.header("content-type").is_some_and(|t| t.starts_with("text/csv")),
                "{:?}",
                reply.headers
            );
            assert!(reply.body.starts_with(b"\xEF\xBB\xBF"), "BOM first");
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(true)
                .from_reader(&reply.body[3..]);
            let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
            assert_eq!(
                header,
                [
                    "编号",
                    "年度",
                    "类型",
                    "党员编号",
                    "组织编号",
                    "标题",
                    "内容",
                    "类别",
                    "截止日期",
                    "状态",
                    "逾期",
                    "进度"
                ]
            );
            let rows: Vec<Vec<String>> = reader
                .records()
                .map(|r| r.unwrap().iter().map(str::to_owned).collect())
                .collect();
            // One line per pledge (no cell here spans lines), after the header.
            assert_eq!(reply.text().lines().count(), rows.len() + 1);
            (reply, rows)
        }
    };

    let (reply, rows) = csv_of(sec, "").await;
    assert!(
        reply
            .header("content-disposition")
            .is_some_and(|d| d.contains("pledges.csv")),
        "{:?}",
        reply.headers
    );
    let cheng = m.cheng_id();
    let (a, ga) = (w.branch_a.as_str(), w.group_a.as_str());
    let expected: Vec<Vec<String>> = vec![
        vec![
            id_of(&c1),
            "2017".into(),
            "集体承诺".into(),
            "".into(),
            ga.into(),
            "小组集体承诺".into(),
            "小组集体承诺：年内完成".into(),
            "infrastructure".into(),
            "".into(),
            "草稿".into(),
            "否".into(),
            "".into(),
        ],
        vec![
            id_of(&p2),
            "2017".into(),
            "个人承诺".into(),
            cheng.into(),
            a.into(),
            "'=HYPERLINK(\"http://x\")".into(),
            "'=HYPERLINK(\"http://x\")：年内完成".into(),
            "environment".into(),
            "2017-01-31".into(),
            "已公示".into(),
            "是".into(),
            "40".into(),
        ],
        vec![
            id_of(&p1),
            "2017".into(),
            "个人承诺".into(),
            cheng.into(),
            a.into(),
            "修路，\"加宽\"".into(),
            "修路，\"加宽\"：年内完成".into(),
            "infrastructure".into(),
            "2017-12-31".into(),
            "草稿".into(),
            "否".into(),
            "".into(),
        ],
    ];
    assert_eq!(rows, expected);

    // The same scope and filters as the JSON list.
    let (_, rows) = csv_of(member, "").await;
    assert_eq!(
        rows.iter().map(|r| r[0].clone()).collect::<Vec<_>>(),
        [id_of(&p2), id_of(&p1)]
    );
    let (_, rows) = csv_of(w.token("sec_b"), "").await;
    assert_eq!(rows.iter().map(|r| r[0].clone()).collect::<Vec<_>>(), [id_of(&b1)]);
    let (_, rows) = csv_of(w.token("admin"), "").await;
    assert_eq!(rows.len(), 4);
    let (_, rows) = csv_of(sec, "?state=overdue").await;
    assert_eq!(rows.iter().map(|r| r[0].clone()).collect::<Vec<_>>(), [id_of(&p2)]);
    let (_, rows) = csv_of(sec, "?kind=collective").await;
    assert_eq!(rows.iter().map(|r| r[0].clone()).collect::<Vec<_>>(), [id_of(&c1)]);
    let (_, rows) = csv_of(w.token("leader_a"), "").await;
    assert_eq!(rows.len(), 3, "the group's pledges");
}

/// Many rural members have no account: their branch writes and submits the pledge for them,
/// and another manager reviews it.
#[actix_web::test]
async fn a_secretary_submits_a_pledge_written_for_a_member_without_an_account() {
    let app = common::spawn_app().await;
    let w = world::build(&app).await;
    let id_number = world::id_number("340822", "19650302", "215");
    let elder = world::create_member(
        &app,
        w.token("sec_a"),
        world::member_body("汪金生", &w.branch_a, &id_number),
    )
    .await;
    let mut body = world::pledge_body("义务调解邻里纠纷");
    body["member_id"] = elder["id"].clone();
    let pledge = world::create_pledge(&app, w.token("sec_a"), body).await;
    let id = pledge["id"].as_str().unwrap();

    // sec_b cannot see it; the member's other secretary-level reader may not submit what sec_a wrote.
    world::pledge_step(&app, w.token("sec_b"), id, "submit", None)
        .await
        .assert_problem(404, "not_found");
    world::pledge_step(&app, w.token("admin"), id, "submit", None)
        .await
        .assert_problem(403, "forbidden");
    let submitted = world::pledge_step(&app, w.token("sec_a"), id, "submit", None).await;
    assert_eq!(submitted.status, 200, "{}", submitted.text());
    assert_eq!(submitted.json()["state"], "submitted");
    let approved = world::pledge_step(&app, w.token("admin"), id, "approve", None).await;
    assert_eq!(approved.json()["state"], "approved");
}
