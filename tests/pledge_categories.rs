//! Pledge categories are a dictionary town administrators edit.

mod common;

use common::world;
use common::{send, send_json, spawn_app};
use serde_json::json;

#[actix_web::test]
async fn administrators_add_rename_and_retire_categories() {
    let app = spawn_app().await;
    let w = world::build(&app).await;
    let new = json!({"code": "culture", "label": "文化活动", "sort_order": 8});

    let refused = send_json(
        app.server
            .post("/api/v1/pledge-categories")
            .bearer_auth(w.token("sec_a")),
        &new,
    )
    .await;
    refused.assert_problem(403, "forbidden");
    let create = || {
        app.server
            .post("/api/v1/pledge-categories")
            .bearer_auth(w.token("admin"))
            .insert_header(("Idempotency-Key", "add-culture"))
    };
    let created = send_json(create(), &new).await;
    assert_eq!(created.status, 201, "{}", created.text());
    assert_eq!(
        created.json(),
        json!({"code": "culture", "label": "文化活动", "sort_order": 8, "active": true, "version": 1})
    );
    assert_eq!(created.header("etag"), Some("\"1\""));
    // A retry with the same key (a lost answer on a slow network) gets the same answer and
    // adds nothing.
    let replayed = send_json(create(), &new).await;
    assert_eq!(replayed.status, 201, "{}", replayed.text());
    assert_eq!(replayed.json(), created.json());
    let again = send_json(
        app.server
            .post("/api/v1/pledge-categories")
            .bearer_auth(w.token("admin")),
        &new,
    )
    .await;
    again.assert_problem(409, "conflict");
    let bad = send_json(
        app.server
            .post("/api/v1/pledge-categories")
            .bearer_auth(w.token("admin")),
        &json!({"code": "Bad Code", "label": "x"}),
    )
    .await;
    assert_eq!(
        bad.assert_problem(422, "validation_failed")["errors"][0]["pointer"],
        "/code"
    );

    let listed = send(app.server.get("/api/v1/public/pledge-categories")).await.json();
    let codes: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes.last(), Some(&"culture"), "ordered by sort_order: {codes:?}");
    assert_eq!(codes.len(), 8);

    // A change names the version it was made from: none is 428, an old one 412, and
    // neither changes anything.
    let patch = |tag: Option<&str>| {
        let request = app
            .server
            .patch("/api/v1/pledge-categories/culture")
            .bearer_auth(w.token("admin"));
        match tag {
            Some(tag) => request.insert_header(("If-Match", tag.to_owned())),
            None => request,
        }
    };
    let rename = json!({"label": "文化体育", "active": false});
    send_json(patch(None), &rename)
        .await
        .assert_problem(428, "precondition_required");
    send_json(patch(Some("\"7\"")), &rename)
        .await
        .assert_problem(412, "precondition_failed");
    let renamed = send_json(patch(Some("\"1\"")), &rename).await;
    assert_eq!(renamed.status, 200, "{}", renamed.text());
    assert_eq!(renamed.json()["label"], "文化体育");
    assert_eq!(renamed.json()["active"], false);
    assert_eq!(renamed.json()["version"], 2);
    assert_eq!(renamed.header("etag"), Some("\"2\""));
    let stale = send_json(patch(Some("\"1\"")), &json!({"label": "旧的改动"})).await;
    stale.assert_problem(412, "precondition_failed");
    let listed = send(app.server.get("/api/v1/public/pledge-categories")).await.json();
    let culture = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == "culture")
        .cloned()
        .unwrap();
    assert_eq!(culture["label"], "文化体育", "the stale change left nothing: {culture}");
    assert_eq!(culture["version"], 2);

    // A retired category cannot be chosen for a new pledge.
    let mut body = world::pledge_body("办一场村晚");
    body["kind"] = json!("collective");
    body["org_id"] = json!(w.branch_a);
    body["category"] = json!("culture");
    let refused = send_json(app.server.post("/api/v1/pledges").bearer_auth(w.token("sec_a")), &body).await;
    assert_eq!(
        refused.assert_problem(422, "validation_failed")["errors"][0]["pointer"],
        "/category"
    );
    let missing = send_json(
        app.server
            .patch("/api/v1/pledge-categories/nothing")
            .bearer_auth(w.token("admin"))
            .insert_header(("If-Match", "\"1\"")),
        &json!({"label": "x"}),
    )
    .await;
    missing.assert_problem(404, "not_found");
}
