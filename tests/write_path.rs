//! The one write path (`audit::Write`): a database that fails during a check is an error
//! (500/503), never a refusal (403) or a complaint about the request (422).
//!
//! A failing query is simulated by renaming a column with raw SQL: the column the check's query
//! reads, and no column the queries before it need. Renamed back afterwards, the record shows
//! that nothing was written.

mod common;

use common::world::{self, create_member, get, member_body, pledge_body, pledge_members};
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
    // first query to read `orgs.name` is the check whether sec_a manages the pledge's branch.
    let current = get(&app, sec, &path).await;
    assert_eq!(current.status, 200, "{}", current.text());
    let etag = current.header("etag").unwrap().to_owned();

    execute(&app, "ALTER TABLE orgs RENAME COLUMN name TO name_away").await;
    let reply = patch(&app, sec, &path, &etag, json!({"title": "修村道"})).await;
    execute(&app, "ALTER TABLE orgs RENAME COLUMN name_away TO name").await;
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
