//! Exact look-up of a member by ID number, through the keyed hash.

mod common;

use common::world;
use common::{send_json, spawn_app};
use serde_json::json;

#[actix_web::test]
async fn lookup_by_id_number_finds_only_members_in_scope() {
    let app = spawn_app().await;
    let w = world::build(&app).await;
    let member = world::create(
        &app,
        w.token("sec_a"),
        "/api/v1/members",
        json!({"name": "程军", "gender": "male", "birth_date": "1990-03-07", "id_number": "110101199003074514",
               "joined_on": "2012-07-01", "status": "full", "org_id": w.branch_a, "rural": true}),
    )
    .await;
    let body = json!({"id_number": "110101199003074514"});
    let lookup = |token: &str| send_json(app.server.post("/api/v1/members/lookup").bearer_auth(token), &body);
    let found = lookup(w.token("sec_a")).await;
    assert_eq!(found.status, 200, "{}", found.text());
    let items = found.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], member["id"]);
    assert_eq!(items[0]["id_number"], "110101************", "masked");

    let other = lookup(w.token("sec_b")).await;
    assert_eq!(
        other.json()["items"].as_array().unwrap().len(),
        0,
        "outside scope: nothing"
    );

    let bad = send_json(
        app.server.post("/api/v1/members/lookup").bearer_auth(w.token("sec_a")),
        &json!({"id_number": "110101199003074515"}),
    )
    .await;
    assert_eq!(
        bad.assert_problem(422, "validation_failed")["errors"][0]["pointer"],
        "/id_number"
    );
}
