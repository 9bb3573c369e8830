//! The rules the spec states are the rules the service enforces: what a schema allows is
//! accepted, what it forbids is refused (the contract fuzzer in `.ci/fuzz` checks the same
//! from the outside; these are the cases it found).

mod common;

use common::world::{self, create_pledge, get, pledge_body, pledge_members, pledge_step};
use common::{send_body, send_json, spawn_app};
use serde_json::json;

#[actix_web::test]
async fn integral_numbers_written_as_floats_are_integers() {
    let app = spawn_app().await;
    let mut w = world::build(&app).await;
    pledge_members(&app, &mut w).await;
    let mut body = pledge_body("修路");
    body["year"] = json!(2017.0);
    let pledge = create_pledge(&app, w.token("member_a"), body).await;
    assert_eq!(pledge["year"], 2017);
    // A real fraction is still refused.
    let mut body = pledge_body("修桥");
    body["year"] = json!(2017.5);
    let reply = send_json(
        app.server.post("/api/v1/pledges").bearer_auth(w.token("member_a")),
        &body,
    )
    .await;
    assert!(reply.status == 400 || reply.status == 422, "{}", reply.text());
}

#[actix_web::test]
async fn query_values_outside_their_schema_are_400() {
    let app = spawn_app().await;
    let w = world::build(&app).await;
    let admin = w.token("admin");
    for path in [
        "/api/v1/pledges?year=1999",
        "/api/v1/pledges?year=2101",
        "/api/v1/pledges/stats?year=3000",
        "/api/v1/pledges?category=Not-A-Code",
        "/api/v1/pledges?state=lost",
        "/api/v1/members?sort=age",
        "/api/v1/orgs?limit=0",
        "/api/v1/orgs?limit=9007199254740992",
    ] {
        get(&app, admin, path).await.assert_problem(400, "invalid_query");
    }
    let board = send_body(
        app.server
            .get(format!("/api/v1/public/orgs/{}/board?year=1999", w.root)),
        "",
    )
    .await;
    board.assert_problem(400, "invalid_query");
    // In range they are fine, and an empty cursor is the first page.
    for path in [
        "/api/v1/pledges?year=2000",
        "/api/v1/pledges?year=2100&state=overdue",
        "/api/v1/orgs?cursor=",
        "/api/v1/members?sort=-joined_on",
        "/api/v1/orgs?limit=9007199254740991",
    ] {
        let reply = get(&app, admin, path).await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.text());
    }
    let orgs = get(&app, admin, "/api/v1/orgs?cursor=").await.json();
    assert_eq!(orgs["items"].as_array().unwrap().len(), 5, "the first page");
}

#[actix_web::test]
async fn if_match_must_be_entity_tags() {
    let app = spawn_app().await;
    let w = world::build(&app).await;
    let admin = w.token("admin");
    let path = format!("/api/v1/orgs/{}", w.group_a);
    for bad in ["\"1\"x", "\"a\"b\"", "1", "\"1\",", "W/1", "\"1\" \"2\""] {
        let reply = send_json(
            app.server
                .patch(&path)
                .bearer_auth(admin)
                .insert_header(("If-Match", bad)),
            &json!({"name": "新名字"}),
        )
        .await;
        reply.assert_problem(400, "invalid_header");
    }
    // Well-formed tags that name another version are 412; a list with the current one works.
    let reply = send_json(
        app.server
            .patch(&path)
            .bearer_auth(admin)
            .insert_header(("If-Match", "W/\"x\", \"9\"")),
        &json!({"name": "新名字"}),
    )
    .await;
    reply.assert_problem(412, "precondition_failed");
    let version = get(&app, admin, &path).await.json()["version"].as_i64().unwrap();
    let reply = send_json(
        app.server
            .patch(&path)
            .bearer_auth(admin)
            .insert_header(("If-Match", format!("\"99\" ,\t\"{version}\""))),
        &json!({"name": "新名字"}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
}

#[actix_web::test]
async fn a_transition_takes_no_body_an_empty_one_or_null() {
    let app = spawn_app().await;
    let mut w = world::build(&app).await;
    pledge_members(&app, &mut w).await;
    let pledge = create_pledge(&app, w.token("member_a"), pledge_body("修路")).await;
    let id = pledge["id"].as_str().unwrap();
    let reply = send_body(
        app.server
            .post(format!("/api/v1/pledges/{id}/submit"))
            .bearer_auth(w.token("member_a"))
            .content_type("application/json"),
        "null",
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["state"], "submitted");
    let reply = pledge_step(&app, w.token("sec_a"), id, "approve", None).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
}

#[actix_web::test]
async fn phones_and_id_numbers_are_taken_exactly_as_their_patterns_say() {
    let app = spawn_app().await;
    let w = world::build(&app).await;
    let sec = w.token("sec_a");
    let id = world::id_number("340822", "19800101", "013");
    for (field, value) in [
        ("phone", " 13812345678".to_string()),
        ("phone", "13812345678 ".to_string()),
        ("id_number", format!(" {id}")),
    ] {
        let mut body = world::member_body("程军", &w.branch_a, &id);
        body[field] = json!(value);
        let reply = send_json(app.server.post("/api/v1/members").bearer_auth(sec), &body).await;
        let problem = reply.assert_problem(422, "validation_failed");
        assert_eq!(problem["errors"][0]["pointer"], format!("/{field}"), "{problem}");
    }
    // An empty phone means none; a lower-case x is taken and stored upper-case.
    let mut body = world::member_body("程军", &w.branch_a, &id.to_lowercase());
    body["phone"] = json!("");
    let member = world::create_member(&app, sec, body).await;
    assert!(member["phone"].is_null());
    assert_eq!(world::member_count(&app, sec).await, 1);
}

#[actix_web::test]
async fn a_leaving_note_may_be_blank_and_is_counted_as_sent() {
    let app = spawn_app().await;
    let w = world::build(&app).await;
    let sec = w.token("sec_a");
    let id = world::id_number("340822", "19800101", "013");
    let member = world::create_member(&app, sec, world::member_body("程军", &w.branch_a, &id)).await;
    let path = format!("/api/v1/members/{}/leave", member["id"].as_str().unwrap());
    let leave = |note: String| {
        let path = path.clone();
        let app = &app;
        async move {
            send_json(
                app.server.post(&path).bearer_auth(sec).insert_header(("If-Match", "*")),
                &json!({"reason": "other", "left_on": "2017-06-30", "note": note}),
            )
            .await
        }
    };
    // Padding counts towards the 1,000 characters, as the schema's maxLength says.
    let reply = leave(format!(" {} ", "备".repeat(999))).await;
    let problem = reply.assert_problem(422, "validation_failed");
    assert_eq!(problem["errors"][0]["pointer"], "/note");
    // A blank note means none: the member leaves and the note stays as it was.
    let reply = leave("   ".to_string()).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert!(reply.json()["note"].is_null(), "{}", reply.text());
    assert_eq!(reply.json()["active"], false);
}
