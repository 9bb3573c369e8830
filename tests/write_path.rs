//! The one write path (`audit::Write`): a database that fails during a check is an error
//! (500/503), never a refusal (403) or a complaint about the request (422); and of concurrent
//! versioned updates from the same version one wins and the others get 412, leaving no trace.
//!
//! A failing query is simulated by renaming a column with raw SQL: the column the check's query
//! reads, and no column the queries before it need. Renamed back afterwards, the record shows
//! that nothing was written.

mod common;

use common::world::{self, World, create_member, get, member_body, pledge_body, pledge_members};
use common::{Reply, TestApp, send_json, spawn_app};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

async fn execute(app: &TestApp, sql: &str) {
    app.db
        .execute_unprepared(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// An error answer from the server's side: 500 or 503 as problem+json, never a refusal.
fn assert_server_error(reply: &Reply, context: &str) {
    assert!(
        matches!(reply.status.as_u16(), 500 | 503),
        "{context}: expected 500 or 503, got {}: {}",
        reply.status,
        reply.text()
    );
    let code = if reply.status == 500 {
        "internal_error"
    } else {
        "database_unavailable"
    };
    reply.assert_problem(reply.status.as_u16(), code);
}

async fn patch(app: &TestApp, token: &str, path: &str, etag: &str, body: Value) -> Reply {
    send_json(
        app.server
            .patch(path)
            .bearer_auth(token)
            .insert_header(("If-Match", etag.to_owned())),
        &body,
    )
    .await
}

#[actix_web::test]
async fn a_failing_scope_check_on_a_pledge_is_an_error_not_a_refusal() {
    let app = spawn_app().await;
    let mut w = world::build(&app).await;
    pledge_members(&app, &mut w).await;
    // 程军 (member_a) writes his own pledge; sec_a edits it as his branch: a manager, not the author.
    let pledge = world::create_pledge(&app, w.token("member_a"), pledge_body("修路")).await;
    let path = format!("/api/v1/pledges/{}", pledge["id"].as_str().unwrap());
    let sec = w.token("sec_a");
    // Read it as sec_a just before, so sec_a's grants come from the principal cache and the
    // first query to read `orgs.path` is the one that reads the pledge with the paths its
    // scope checks test.
    let current = get(&app, sec, &path).await;
    assert_eq!(current.status, 200, "{}", current.text());
    let etag = current.header("etag").unwrap().to_owned();

    execute(&app, "ALTER TABLE orgs RENAME COLUMN path TO path_away").await;
    let reply = patch(&app, sec, &path, &etag, json!({"title": "修村道"})).await;
    execute(&app, "ALTER TABLE orgs RENAME COLUMN path_away TO path").await;
    assert_server_error(&reply, "PATCH a pledge while its branch cannot be read");

    let after = get(&app, w.token("admin"), &path).await.json();
    assert_eq!(after["title"], "修路", "nothing changed: {after}");
    assert_eq!(after["version"], 1);
    // The same edit with the database back: sec_a manages the branch.
    let reply = patch(&app, sec, &path, &etag, json!({"title": "修村道"})).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
}

#[actix_web::test]
async fn a_failing_member_lookup_when_linking_an_account_is_an_error_not_a_422() {
    let app = spawn_app().await;
    let w = world::build(&app).await;
    let admin = w.token("admin");
    let cheng = create_member(
        &app,
        admin,
        member_body("程军", &w.branch_a, &world::id_number("340822", "19790315", "013")),
    )
    .await;
    let path = format!("/api/v1/users/{}", w.user("member_a"));
    let current = get(&app, admin, &path).await;
    assert_eq!(current.status, 200, "{}", current.text());
    let etag = current.header("etag").unwrap().to_owned();

    // Only the member look-up reads `members.note`.
    execute(&app, "ALTER TABLE members RENAME COLUMN note TO note_away").await;
    let reply = patch(&app, admin, &path, &etag, json!({"member_id": cheng["id"]})).await;
    execute(&app, "ALTER TABLE members RENAME COLUMN note_away TO note").await;
    assert_server_error(&reply, "link an account while members cannot be read");

    let after = get(&app, admin, &path).await;
    assert_eq!(after.header("etag"), Some(etag.as_str()), "nothing changed");
    assert!(after.json()["member_id"].is_null());
    // A member that truly is not there is still the caller's mistake.
    let reply = patch(
        &app,
        admin,
        &path,
        &etag,
        json!({"member_id": "0192f3a4-7c1e-7b2a-9f00-3c5d2e1f0a11"}),
    )
    .await;
    let problem = reply.assert_problem(422, "validation_failed");
    assert_eq!(problem["errors"][0]["pointer"], "/member_id", "{problem}");
    let reply = patch(&app, admin, &path, &etag, json!({"member_id": cheng["id"]})).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
}

/// Sends every update in `bodies` at once, all with `If-Match: "1"`: one succeeds, every other
/// is 412, the resource ends at version 2 with the winner's `field`, and the audit trail holds
/// a single `action`. On PostgreSQL a loser that read version 1 before the winner committed is
/// refused by the update's version filter (`Write::update_versioned`); on SQLite, whose
/// in-memory pool serialises the requests, by the If-Match check.
async fn race(app: &TestApp, w: &World, path: &str, field: &str, bodies: Vec<Value>, entity_id: &str, action: &str) {
    let admin = w.token("admin").to_owned();
    let replies = futures_util::future::join_all(
        bodies
            .iter()
            .map(|body| patch(app, &admin, path, "\"1\"", body.clone())),
    )
    .await;
    let won: Vec<&Reply> = replies.iter().filter(|r| r.status == 200).collect();
    assert_eq!(
        won.len(),
        1,
        "{path}: exactly one winner; {:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    for lost in replies.iter().filter(|r| r.status != 200) {
        let problem = lost.assert_problem(412, "precondition_failed");
        assert!(problem["detail"].as_str().unwrap().contains("\"2\""), "{problem}");
    }
    let now = get(app, &admin, path).await;
    assert_eq!(now.header("etag"), Some("\"2\""));
    assert_eq!(now.json()[field], won[0].json()[field], "the winner's change stands");

    let trail = get(
        app,
        &admin,
        &format!("/api/v1/audit-events?entity_id={entity_id}&limit=100"),
    )
    .await;
    assert_eq!(trail.status, 200, "{}", trail.text());
    let recorded = trail.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == action)
        .count();
    assert_eq!(recorded, 1, "{path}: only the winner is in the trail");
}

fn renames(n: usize) -> Vec<Value> {
    (0..n).map(|i| json!({"name": format!("新名字{i}")})).collect()
}

#[actix_web::test]
async fn concurrent_updates_of_an_organisation_from_one_version_let_one_win() {
    let app = spawn_app().await;
    let w = world::build(&app).await;
    let path = format!("/api/v1/orgs/{}", w.group_b);
    race(&app, &w, &path, "name", renames(6), &w.group_b, "org.rename").await;
}

#[actix_web::test]
async fn concurrent_updates_of_a_village_from_one_version_let_one_win() {
    let app = spawn_app().await;
    let w = world::build(&app).await;
    let village = world::create(
        &app,
        w.token("admin"),
        "/api/v1/villages",
        json!({"kind": "village", "name": "司山村", "org_id": w.branch_b}),
    )
    .await;
    let id = village["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/villages/{id}");
    race(&app, &w, &path, "name", renames(6), &id, "village.rename").await;
}

#[actix_web::test]
async fn concurrent_updates_of_a_member_from_one_version_let_one_win() {
    let app = spawn_app().await;
    let w = world::build(&app).await;
    let member = create_member(
        &app,
        w.token("admin"),
        member_body("程军", &w.branch_a, &world::id_number("340822", "19790315", "013")),
    )
    .await;
    let id = member["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/members/{id}");
    let addresses = (0..6).map(|i| json!({"address": format!("司山村{i}号")})).collect();
    race(&app, &w, &path, "address", addresses, &id, "member.update").await;
}
