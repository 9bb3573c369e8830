//! Holes a review found in the access rules, each kept closed by a test.

mod common;

use common::world::{self, PASSWORD, create_member, id_number, link_member, login, member_body, pledge_body};
use common::{send, send_json, spawn_app, spawn_app_with_env};
use serde_json::json;

async fn etag_of(app: &common::TestApp, token: &str, path: &str) -> String {
    world::get(app, token, path)
        .await
        .header("etag")
        .expect("ETag")
        .to_owned()
}

#[actix_web::test]
async fn an_inspector_grant_gives_no_authority_over_accounts() {
    let app = spawn_app().await;
    let w = world::build(&app).await;
    // sec_a also becomes inspector of the whole town.
    world::create(
        &app,
        w.token("admin"),
        &format!("/api/v1/users/{}/grants", w.user("sec_a")),
        json!({"role": "inspector", "org_id": w.root}),
    )
    .await;
    let dual = login(&app, "sec_a", PASSWORD).await.json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    // An account homed in branch A but holding branch_secretary over B.
    let victim = world::create(
        &app,
        w.token("admin"),
        "/api/v1/users",
        json!({"username": "victim", "password": PASSWORD, "org_id": w.branch_a}),
    )
    .await;
    let victim_id = victim["id"].as_str().unwrap();
    world::create(
        &app,
        w.token("admin"),
        &format!("/api/v1/users/{victim_id}/grants"),
        json!({"role": "branch_secretary", "org_id": w.branch_b}),
    )
    .await;

    let reset = send_json(
        app.server
            .post(format!("/api/v1/users/{victim_id}/password"))
            .bearer_auth(&dual),
        &json!({"new_password": "Taken-over-1"}),
    )
    .await;
    // Its grant on B is outside sec_a's managing scope: the account is not sec_a's to see.
    reset.assert_problem(404, "not_found");
    let peer = send_json(
        app.server
            .post(format!("/api/v1/users/{}/grants", w.user("member_a")))
            .bearer_auth(&dual),
        &json!({"role": "branch_secretary", "org_id": w.branch_a}),
    )
    .await;
    peer.assert_problem(403, "forbidden");
    assert_eq!(login(&app, "victim", PASSWORD).await.status, 200, "password unchanged");
}

#[actix_web::test]
async fn a_member_link_is_unique_and_follows_the_member_to_their_new_branch() {
    let app = spawn_app().await;
    let w = world::build(&app).await;
    let cheng = create_member(
        &app,
        w.token("sec_a"),
        member_body("程军", &w.branch_a, &id_number("340822", "19790315", "013")),
    )
    .await;
    let cheng_id = cheng["id"].as_str().unwrap();
    assert_eq!(
        link_member(&app, w.token("sec_a"), w.user("member_a"), cheng_id)
            .await
            .status,
        200
    );
    let other = world::create(
        &app,
        w.token("sec_a"),
        "/api/v1/users",
        json!({"username": "second", "password": PASSWORD, "org_id": w.branch_a}),
    )
    .await;
    link_member(&app, w.token("sec_a"), other["id"].as_str().unwrap(), cheng_id)
        .await
        .assert_problem(409, "conflict");

    // 程军 moves to branch B: sec_a no longer manages the account that can reveal his data.
    let tag = etag_of(&app, w.token("admin"), &format!("/api/v1/members/{cheng_id}")).await;
    let moved = send_json(
        app.server
            .post(format!("/api/v1/members/{cheng_id}/transfer"))
            .bearer_auth(w.token("admin"))
            .insert_header(("If-Match", tag)),
        &json!({"org_id": w.branch_b}),
    )
    .await;
    assert_eq!(moved.status, 200, "{}", moved.text());
    let reset = send_json(
        app.server
            .post(format!("/api/v1/users/{}/password", w.user("member_a")))
            .bearer_auth(w.token("sec_a")),
        &json!({"new_password": "Taken-over-1"}),
    )
    .await;
    reset.assert_problem(403, "forbidden");
    assert_eq!(
        login(&app, "member_a", PASSWORD).await.status,
        200,
        "password unchanged"
    );
}

#[actix_web::test]
async fn a_secretary_cannot_publish_a_pledge_in_a_members_name_nor_approve_what_they_wrote() {
    let app = spawn_app().await;
    let w = world::build(&app).await;
    // 程军 has an account (member_a): only he may submit his pledge.
    let cheng = create_member(
        &app,
        w.token("sec_a"),
        member_body("程军", &w.branch_a, &id_number("340822", "19790315", "013")),
    )
    .await;
    link_member(
        &app,
        w.token("sec_a"),
        w.user("member_a"),
        cheng["id"].as_str().unwrap(),
    )
    .await;
    let mut body = pledge_body("替他承诺");
    body["member_id"] = cheng["id"].clone();
    let p = world::create_pledge(&app, w.token("sec_a"), body).await;
    let id = p["id"].as_str().unwrap();
    world::pledge_step(&app, w.token("sec_a"), id, "submit", None)
        .await
        .assert_problem(403, "forbidden");

    // A member without an account: sec_a writes and submits, but another manager approves.
    let elder = create_member(
        &app,
        w.token("sec_a"),
        member_body("汪金生", &w.branch_a, &id_number("340822", "19550101", "017")),
    )
    .await;
    let mut body = pledge_body("义务巡河");
    body["member_id"] = elder["id"].clone();
    let p = world::create_pledge(&app, w.token("sec_a"), body).await;
    let id = p["id"].as_str().unwrap();
    assert_eq!(
        world::pledge_step(&app, w.token("sec_a"), id, "submit", None)
            .await
            .status,
        200
    );
    world::pledge_step(&app, w.token("sec_a"), id, "approve", None)
        .await
        .assert_problem(403, "forbidden");
    assert_eq!(
        world::pledge_step(&app, w.token("admin"), id, "approve", None)
            .await
            .status,
        200
    );
}

#[actix_web::test]
async fn inspectors_write_nothing_even_with_a_member_record() {
    let app = spawn_app().await;
    let w = world::build(&app).await;
    let record = create_member(
        &app,
        w.token("sec_a"),
        member_body("督查员", &w.branch_a, &id_number("340822", "19800101", "019")),
    )
    .await;
    let record_id = record["id"].as_str().unwrap();
    link_member(&app, w.token("admin"), w.user("inspector"), record_id).await;
    let token = login(&app, "inspector", PASSWORD).await.json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    send_json(
        app.server.post("/api/v1/pledges").bearer_auth(&token),
        &pledge_body("督查承诺"),
    )
    .await
    .assert_problem(403, "forbidden");
    let tag = etag_of(&app, &token, &format!("/api/v1/members/{record_id}")).await;
    send_json(
        app.server
            .patch(format!("/api/v1/members/{record_id}"))
            .bearer_auth(&token)
            .insert_header(("If-Match", tag)),
        &json!({"phone": "13912345678"}),
    )
    .await
    .assert_problem(403, "forbidden");
    // Reading is still fine.
    assert_eq!(
        world::get(&app, &token, &format!("/api/v1/members/{record_id}"))
            .await
            .status,
        200
    );
}

#[actix_web::test]
async fn behind_a_trusted_proxy_the_last_forwarded_hop_is_the_client() {
    let app = spawn_app_with_env(&[
        ("DANGJIAN_TRUST_FORWARDED_FOR", "true"),
        ("DANGJIAN_LOGIN_RATE_PER_MINUTE", "3"),
    ])
    .await;
    let body = json!({"username": "nobody", "password": PASSWORD});
    for i in 0..3 {
        // The client forges the first entry; the proxy appends the real address last.
        let forged = format!("10.0.0.{i}, 203.0.113.7");
        let reply = send_json(
            app.server
                .post("/api/v1/auth/login")
                .insert_header(("X-Forwarded-For", forged)),
            &body,
        )
        .await;
        reply.assert_problem(401, "invalid_credentials");
    }
    let reply = send_json(
        app.server
            .post("/api/v1/auth/login")
            .insert_header(("X-Forwarded-For", "10.9.9.9, 203.0.113.7")),
        &body,
    )
    .await;
    reply.assert_problem(429, "rate_limited");
    let other = send_json(
        app.server
            .post("/api/v1/auth/login")
            .insert_header(("X-Forwarded-For", "203.0.113.8")),
        &body,
    )
    .await;
    other.assert_problem(401, "invalid_credentials");
}

#[actix_web::test]
async fn moving_a_group_moves_its_members_to_the_new_branch() {
    let app = spawn_app().await;
    let w = world::build(&app).await;
    let mut body = member_body("程军", &w.branch_a, &id_number("340822", "19790315", "013"));
    body["group_id"] = json!(w.group_a);
    let cheng = create_member(&app, w.token("sec_a"), body).await;
    let tag = etag_of(&app, w.token("admin"), &format!("/api/v1/orgs/{}", w.group_a)).await;
    let moved = send_json(
        app.server
            .post(format!("/api/v1/orgs/{}/move", w.group_a))
            .bearer_auth(w.token("admin"))
            .insert_header(("If-Match", tag)),
        &json!({"parent_id": w.branch_b}),
    )
    .await;
    assert_eq!(moved.status, 200, "{}", moved.text());
    let after = world::get(
        &app,
        w.token("sec_b"),
        &format!("/api/v1/members/{}", cheng["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(after.status, 200, "{}", after.text());
    assert_eq!(after.json()["org_id"], w.branch_b.as_str());
    assert_eq!(after.json()["group_id"], w.group_a.as_str());
    let hidden = send(
        app.server
            .get(format!("/api/v1/members/{}", cheng["id"].as_str().unwrap()))
            .bearer_auth(w.token("sec_a")),
    )
    .await;
    hidden.assert_problem(404, "not_found");
}
