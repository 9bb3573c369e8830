//! The audit trail: every write leaves one event, in the same transaction; the hash chain
//! exposes edits made behind the API's back.

mod common;

use common::world::{self, PASSWORD, login};
use common::{send, send_json, spawn_app};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

async fn events(app: &common::TestApp, token: &str, query: &str) -> Value {
    let reply = world::get(app, token, &format!("/api/v1/audit-events?{query}")).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()
}

async fn verify(app: &common::TestApp, token: &str) -> Value {
    world::get(app, token, "/api/v1/audit-events/verify").await.json()
}

#[actix_web::test]
async fn a_write_appends_one_event_with_who_what_and_where() {
    let app = spawn_app().await;
    let w = world::build(&app).await;
    let admin = w.token("admin");
    let before = events(&app, admin, "include_total=true").await["total"]
        .as_u64()
        .unwrap();

    let reply = send_json(
        app.server
            .post("/api/v1/orgs")
            .bearer_auth(w.token("sec_a"))
            .insert_header(("X-Request-Id", "req-audit-1")),
        &json!({"parent_id": w.branch_a, "kind": "group", "name": "司山党小组"}),
    )
    .await;
    assert_eq!(reply.status, 201);
    let org_id = reply.json()["id"].as_str().unwrap().to_owned();

    let page = events(&app, admin, "include_total=true").await;
    assert_eq!(page["total"].as_u64().unwrap(), before + 1);
    let event = &page["items"][0];
    assert_eq!(event["action"], "org.create");
    assert_eq!(event["entity_type"], "org");
    assert_eq!(event["entity_id"], org_id.as_str());
    assert_eq!(event["actor_user_id"], w.user("sec_a"));
    assert_eq!(event["actor_role"], "branch_secretary");
    assert_eq!(event["request_id"], "req-audit-1");
    assert_eq!(event["client_ip"], "127.0.0.1");
    assert_eq!(event["outcome"], "success");
    assert_eq!(event["changes"]["after"]["name"], "司山党小组");
    assert!(event["changes"]["before"].is_null());
}

#[actix_web::test]
async fn a_refused_write_leaves_no_event() {
    let app = spawn_app().await;
    let w = world::build(&app).await;
    let admin = w.token("admin");
    let before = events(&app, admin, "include_total=true").await["total"]
        .as_u64()
        .unwrap();
    // Branch A still has a group: deleting it is refused.
    let reply = send(
        app.server
            .delete(format!("/api/v1/orgs/{}", w.branch_a))
            .bearer_auth(admin)
            .insert_header(("If-Match", "\"1\"")),
    )
    .await;
    reply.assert_problem(409, "conflict");
    assert_eq!(
        events(&app, admin, "include_total=true").await["total"]
            .as_u64()
            .unwrap(),
        before
    );
}

#[actix_web::test]
async fn logins_are_recorded_success_and_failure() {
    let app = spawn_app().await;
    let w = world::build(&app).await;
    login(&app, "sec_a", "Wrong-pass-1").await;
    login(&app, "sec_a", PASSWORD).await;
    let page = events(&app, w.token("admin"), &format!("entity_id={}", w.user("sec_a"))).await;
    let logins: Vec<&Value> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "auth.login")
        .collect();
    assert_eq!(logins[0]["outcome"], "success");
    assert_eq!(logins[1]["outcome"], "failure");
    assert!(
        !page.to_string().contains("Wrong-pass-1"),
        "passwords are never recorded"
    );
}

#[actix_web::test]
async fn renames_record_before_and_after_of_the_changed_fields_only() {
    let app = spawn_app().await;
    let w = world::build(&app).await;
    let url = format!("/api/v1/orgs/{}", w.group_a);
    let reply = send_json(
        app.server
            .patch(&url)
            .bearer_auth(w.token("sec_a"))
            .insert_header(("If-Match", "\"1\"")),
        &json!({"name": "司山网格党小组"}),
    )
    .await;
    assert_eq!(reply.status, 200);
    let page = events(
        &app,
        w.token("admin"),
        &format!("entity_id={}&entity_type=org", w.group_a),
    )
    .await;
    let changes = &page["items"][0]["changes"];
    assert_eq!(page["items"][0]["action"], "org.rename");
    assert_eq!(changes["before"]["name"], "小组A");
    assert_eq!(changes["after"]["name"], "司山网格党小组");
    assert_eq!(changes["after"]["version"], 2);
    assert!(changes["after"].get("kind").is_none(), "unchanged fields are left out");
}

#[actix_web::test]
async fn verify_detects_an_event_edited_behind_the_api() {
    let app = spawn_app().await;
    let w = world::build(&app).await;
    let admin = w.token("admin");
    let report = verify(&app, admin).await;
    assert_eq!(report["ok"], true, "{report}");
    let checked = report["checked"].as_u64().unwrap();
    assert!(checked >= 10, "{report}");
    assert!(report["first_bad_id"].is_null());

    let third = events(&app, admin, "limit=100").await["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["seq"] == 3)
        .cloned()
        .unwrap();
    app.db
        .execute_unprepared(r#"UPDATE audit_events SET changes = '{"before":null,"after":null}' WHERE seq = 3"#)
        .await
        .unwrap();
    let report = verify(&app, w.token("inspector")).await;
    assert_eq!(report["ok"], false);
    assert_eq!(report["first_bad_id"], third["id"]);
    assert_eq!(report["checked"], 2, "events before it are fine");
}

#[actix_web::test]
async fn verify_detects_the_newest_event_removed() {
    let app = spawn_app().await;
    let w = world::build(&app).await;
    let admin = w.token("admin");
    assert_eq!(verify(&app, admin).await["ok"], true);
    app.db
        .execute_unprepared("DELETE FROM audit_events WHERE seq = (SELECT MAX(seq) FROM audit_events)")
        .await
        .unwrap();
    assert_eq!(verify(&app, admin).await["ok"], false);
}

#[actix_web::test]
async fn concurrent_writes_keep_one_unbroken_chain() {
    let app = spawn_app().await;
    let w = world::build(&app).await;
    let admin = w.token("admin").to_owned();
    let bodies: Vec<Value> = (0..8)
        .map(|i| json!({"parent_id": w.branch_b, "kind": "group", "name": format!("并发小组{i}")}))
        .collect();
    let replies = futures_util::future::join_all(
        bodies
            .iter()
            .map(|body| send_json(app.server.post("/api/v1/orgs").bearer_auth(&admin), body)),
    )
    .await;
    assert!(
        replies.iter().all(|r| r.status == 201),
        "{:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    // Each write answers only once its event is on the chain: all eight are listed at once,
    // with consecutive places, and none waits.
    let page = events(&app, &admin, "entity_type=org&limit=100").await;
    let created: Vec<&Value> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "org.create")
        .filter(|e| {
            e["changes"]["after"]["name"]
                .as_str()
                .is_some_and(|n| n.starts_with("并发小组"))
        })
        .collect();
    assert_eq!(created.len(), 8, "{page}");
    let report = verify(&app, &admin).await;
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["pending"], 0, "{report}");
    let total = events(&app, &admin, "include_total=true&limit=1").await;
    assert_eq!(
        report["checked"], total["total"],
        "every event is on the chain: {report} {total}"
    );
    assert_eq!(
        total["items"][0]["seq"], total["total"],
        "places run from 1 without a gap"
    );
}

/// Puts an event in `audit_pending` as a write leaves it there when the process dies between
/// its commit and the move onto the chain.
async fn leave_pending(app: &common::TestApp, id: &str, action: &str) {
    use dangjian::audit::entity::pending;
    use sea_orm::{ActiveValue::Set, EntityTrait, NotSet};
    pending::Entity::insert(pending::ActiveModel {
        pending_seq: NotSet,
        id: Set(id.parse().unwrap()),
        occurred_at: Set(chrono::Utc::now()),
        actor_user_id: Set(None),
        actor_role: Set(None),
        action: Set(action.into()),
        entity_type: Set("org".into()),
        entity_id: Set(None),
        org_id: Set(None),
        changes: Set(r#"{"before":null,"after":null}"#.into()),
        request_id: Set(None),
        client_ip: Set(None),
        outcome: Set("success".into()),
    })
    .exec(&app.db)
    .await
    .unwrap();
}

/// A crash between a write's commit and the move of its event onto the chain leaves the
/// event in `audit_pending`: the next write, or a verification, chains it.
#[actix_web::test]
async fn an_event_left_waiting_by_a_crash_is_chained_by_the_next_write() {
    let app = spawn_app().await;
    let w = world::build(&app).await;
    let admin = w.token("admin");
    let before = events(&app, admin, "include_total=true&limit=1").await["total"]
        .as_u64()
        .unwrap();
    leave_pending(&app, "0190f0c0-0000-7000-8000-000000000001", "org.rename").await;

    let reply = send_json(
        app.server.post("/api/v1/orgs").bearer_auth(admin),
        &json!({"parent_id": w.branch_b, "kind": "group", "name": "恢复小组"}),
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    let page = events(&app, admin, "include_total=true&limit=2").await;
    assert_eq!(page["total"].as_u64().unwrap(), before + 2, "{page}");
    let ids: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"0190f0c0-0000-7000-8000-000000000001"), "{page}");
    let report = verify(&app, admin).await;
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["pending"], 0, "{report}");

    // Left waiting with no write after it, verification chains it before checking.
    leave_pending(&app, "0190f0c0-0000-7000-8000-000000000002", "auth.login").await;
    let report = verify(&app, admin).await;
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["pending"], 0, "{report}");
    assert_eq!(report["checked"].as_u64().unwrap(), before + 3, "{report}");
}

#[actix_web::test]
async fn the_trail_is_paged_filtered_and_scoped() {
    let app = spawn_app().await;
    let w = world::build(&app).await;
    let admin = w.token("admin");
    let all = events(&app, admin, "include_total=true&limit=100").await;
    let total = all["total"].as_u64().unwrap();
    let seqs: Vec<i64> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_i64().unwrap())
        .collect();
    assert!(seqs.windows(2).all(|p| p[0] > p[1]), "newest first");

    let mut seen = 0;
    let mut query = "limit=4".to_string();
    loop {
        let page = events(&app, admin, &query).await;
        seen += page["items"].as_array().unwrap().len() as u64;
        match page["next_cursor"].as_str() {
            Some(c) => query = format!("limit=4&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, total);

    let by_actor = events(&app, admin, &format!("actor_id={}", w.user("admin"))).await;
    assert!(
        by_actor["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["actor_user_id"] == w.user("admin"))
    );
    let future = events(&app, admin, "from=2999-01-01T00:00:00Z").await;
    assert_eq!(future["items"].as_array().unwrap().len(), 0);
    let past = events(&app, admin, "to=2000-01-01T00:00:00Z").await;
    assert_eq!(past["items"].as_array().unwrap().len(), 0);
    world::get(&app, admin, "/api/v1/audit-events?from=yesterday")
        .await
        .assert_problem(400, "invalid_query");
    world::get(&app, w.token("sec_a"), "/api/v1/audit-events")
        .await
        .assert_problem(403, "forbidden");
}
