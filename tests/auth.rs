//! Signing in, tokens and their revocation, lockout and rate limiting.

mod common;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::world::{self, PASSWORD, login};
use common::{TEST_JWT_SECRET, send, send_json, spawn_app, spawn_app_with_env};
use jsonwebtoken::{EncodingKey, Header};
use serde_json::{Value, json};

fn claims(sub: &str) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({"iss": "dangjian", "aud": "dangjian-api", "sub": sub, "iat": now, "exp": now + 600, "gen": 1})
}

fn sign(claims: &Value, secret: &str) -> String {
    jsonwebtoken::encode(&Header::default(), claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
}

async fn me(app: &common::TestApp, token: &str) -> common::Reply {
    send(app.server.get("/api/v1/me").bearer_auth(token)).await
}

#[actix_web::test]
async fn login_returns_tokens_that_open_me() {
    let app = spawn_app().await;
    let token = world::admin_token(&app).await;
    let reply = login(&app, "ADMIN ", PASSWORD).await;
    assert_eq!(reply.status, 200, "usernames are case-insensitive");
    let body = reply.json();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert!(body["refresh_token"].as_str().unwrap().starts_with("rt_"));
    let me = me(&app, &token).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.header("cache-control"), Some("no-store"));
    let me = me.json();
    assert_eq!(me["username"], "admin");
    assert_eq!(me["grants"][0]["role"], "town_admin");
    assert_eq!(me["grants"][0]["org_name"], "镇党委");
    assert!(me["member_id"].is_null());
}

#[actix_web::test]
async fn bad_tokens_are_401() {
    let app = spawn_app().await;
    let token = world::admin_token(&app).await;
    let user_id = me(&app, &token).await.json()["id"].as_str().unwrap().to_owned();
    let refresh = login(&app, "admin", PASSWORD).await.json()["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();

    let header_none = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let body = URL_SAFE_NO_PAD.encode(claims(&user_id).to_string());
    let alg_none = format!("{header_none}.{body}.");

    let mut expired = claims(&user_id);
    expired["exp"] = json!(chrono::Utc::now().timestamp() - 3600);
    let mut wrong_aud = claims(&user_id);
    wrong_aud["aud"] = json!("someone-else");
    let mut wrong_iss = claims(&user_id);
    wrong_iss["iss"] = json!("someone-else");
    let mut no_sub = claims(&user_id);
    no_sub.as_object_mut().unwrap().remove("sub");

    let cases = [
        ("alg none", alg_none),
        (
            "wrong key",
            sign(&claims(&user_id), "another-secret-another-secret-another-secret"),
        ),
        ("expired", sign(&expired, TEST_JWT_SECRET)),
        ("wrong aud", sign(&wrong_aud, TEST_JWT_SECRET)),
        ("wrong iss", sign(&wrong_iss, TEST_JWT_SECRET)),
        ("no sub", sign(&no_sub, TEST_JWT_SECRET)),
        ("refresh token as access token", refresh),
        ("garbage", "not-a-token".into()),
    ];
    for (name, bad) in cases {
        let reply = me(&app, &bad).await;
        reply.assert_problem(401, "unauthorized");
        assert_eq!(reply.header("www-authenticate"), Some("Bearer"), "{name}");
    }
    send(app.server.get("/api/v1/me"))
        .await
        .assert_problem(401, "unauthorized");
    // The right key and claims do work: the cases above fail for their own reason.
    assert_eq!(me(&app, &sign(&claims(&user_id), TEST_JWT_SECRET)).await.status, 200);
}

#[actix_web::test]
async fn refresh_rotates_and_reuse_revokes_the_family() {
    let app = spawn_app().await;
    world::admin_token(&app).await;
    let first = login(&app, "admin", PASSWORD).await.json();
    let r1 = first["refresh_token"].as_str().unwrap();

    let second = send_json(app.server.post("/api/v1/auth/refresh"), &json!({"refresh_token": r1})).await;
    assert_eq!(second.status, 200);
    let second = second.json();
    let r2 = second["refresh_token"].as_str().unwrap();
    assert_ne!(r1, r2);
    assert_eq!(me(&app, second["access_token"].as_str().unwrap()).await.status, 200);

    // r1 again: refused, and r2 (same family) dies with it.
    let reuse = send_json(app.server.post("/api/v1/auth/refresh"), &json!({"refresh_token": r1})).await;
    reuse.assert_problem(401, "unauthorized");
    let after = send_json(app.server.post("/api/v1/auth/refresh"), &json!({"refresh_token": r2})).await;
    after.assert_problem(401, "unauthorized");

    // Another sign-in's family is untouched.
    let other = login(&app, "admin", PASSWORD).await.json();
    let ok = send_json(
        app.server.post("/api/v1/auth/refresh"),
        &json!({"refresh_token": other["refresh_token"]}),
    )
    .await;
    assert_eq!(ok.status, 200);
}

#[actix_web::test]
async fn logout_revokes_the_refresh_token() {
    let app = spawn_app().await;
    world::admin_token(&app).await;
    let tokens = login(&app, "admin", PASSWORD).await.json();
    let body = json!({"refresh_token": tokens["refresh_token"]});
    let out = send_json(app.server.post("/api/v1/auth/logout"), &body).await;
    assert_eq!(out.status, 204);
    send_json(app.server.post("/api/v1/auth/refresh"), &body)
        .await
        .assert_problem(401, "unauthorized");
    let unknown = send_json(
        app.server.post("/api/v1/auth/logout"),
        &json!({"refresh_token": "rt_unknown"}),
    )
    .await;
    assert_eq!(unknown.status, 204, "no hint whether a token existed");
}

#[actix_web::test]
async fn disabling_a_user_invalidates_their_tokens_at_once() {
    let app = spawn_app().await;
    let w = world::build(&app).await;
    let member = w.token("member_a").to_owned();
    let refresh = login(&app, "member_a", PASSWORD).await.json()["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(me(&app, &member).await.status, 200);

    let url = format!("/api/v1/users/{}", w.user("member_a"));
    let etag = send(app.server.get(&url).bearer_auth(w.token("sec_a")))
        .await
        .header("etag")
        .unwrap()
        .to_owned();
    let reply = send_json(
        app.server
            .patch(&url)
            .bearer_auth(w.token("sec_a"))
            .insert_header(("If-Match", etag.as_str())),
        &json!({"disabled": true}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["disabled"], true);

    me(&app, &member).await.assert_problem(401, "unauthorized");
    send_json(
        app.server.post("/api/v1/auth/refresh"),
        &json!({"refresh_token": refresh}),
    )
    .await
    .assert_problem(401, "unauthorized");
    login(&app, "member_a", PASSWORD)
        .await
        .assert_problem(401, "invalid_credentials");
}

#[actix_web::test]
async fn changing_a_password_invalidates_old_tokens() {
    let app = spawn_app().await;
    let w = world::build(&app).await;
    let old = w.token("member_a").to_owned();
    let old_refresh = login(&app, "member_a", PASSWORD).await.json()["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();

    let weak = send_json(
        app.server.post("/api/v1/me/password").bearer_auth(&old),
        &json!({"current_password": PASSWORD, "new_password": "short"}),
    )
    .await;
    assert_eq!(
        weak.assert_problem(422, "validation_failed")["errors"][0]["pointer"],
        "/new_password"
    );
    let wrong = send_json(
        app.server.post("/api/v1/me/password").bearer_auth(&old),
        &json!({"current_password": "Wrong-pass-1", "new_password": "New-pass-2018"}),
    )
    .await;
    assert_eq!(
        wrong.assert_problem(422, "validation_failed")["errors"][0]["pointer"],
        "/current_password"
    );
    assert_eq!(me(&app, &old).await.status, 200, "failed attempts change nothing");

    let changed = send_json(
        app.server.post("/api/v1/me/password").bearer_auth(&old),
        &json!({"current_password": PASSWORD, "new_password": "New-pass-2018"}),
    )
    .await;
    assert_eq!(changed.status, 204, "{}", changed.text());
    me(&app, &old).await.assert_problem(401, "unauthorized");
    send_json(
        app.server.post("/api/v1/auth/refresh"),
        &json!({"refresh_token": old_refresh}),
    )
    .await
    .assert_problem(401, "unauthorized");
    login(&app, "member_a", PASSWORD)
        .await
        .assert_problem(401, "invalid_credentials");
    assert_eq!(login(&app, "member_a", "New-pass-2018").await.status, 200);
}

#[actix_web::test]
async fn five_failures_lock_a_username_and_every_refusal_looks_the_same() {
    let app = spawn_app().await;
    let w = world::build(&app).await;
    let _ = w;
    let unknown = login(&app, "nobody", PASSWORD).await;
    let wrong = login(&app, "sec_a", "Wrong-pass-1").await;
    let a = unknown.assert_problem(401, "invalid_credentials");
    let b = wrong.assert_problem(401, "invalid_credentials");
    assert_eq!(a["detail"], b["detail"]);
    for _ in 0..4 {
        login(&app, "sec_a", "Wrong-pass-1")
            .await
            .assert_problem(401, "invalid_credentials");
    }
    // Locked now: even the right password is refused, with the same answer.
    let locked = login(&app, "sec_a", PASSWORD).await;
    assert_eq!(locked.assert_problem(401, "invalid_credentials")["detail"], a["detail"]);
    // Other usernames are not affected.
    assert_eq!(login(&app, "sec_b", PASSWORD).await.status, 200);
}

#[actix_web::test]
async fn logins_are_rate_limited_per_address() {
    let app = spawn_app_with_env(&[("DANGJIAN_LOGIN_RATE_PER_MINUTE", "3")]).await;
    for _ in 0..3 {
        login(&app, "nobody", PASSWORD)
            .await
            .assert_problem(401, "invalid_credentials");
    }
    let limited = login(&app, "nobody", PASSWORD).await;
    limited.assert_problem(429, "rate_limited");
    let retry: u64 = limited.header("retry-after").expect("Retry-After").parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
}

#[actix_web::test]
async fn login_validates_its_body() {
    let app = spawn_app().await;
    let reply = send_json(app.server.post("/api/v1/auth/login"), &json!({"username": "a"})).await;
    assert_eq!(
        reply.assert_problem(422, "validation_failed")["errors"][0]["pointer"],
        "/password"
    );
    let reply = send_json(
        app.server.post("/api/v1/auth/login"),
        &json!({"username": "a", "password": "b", "x": 1}),
    )
    .await;
    reply.assert_problem(422, "validation_failed");
}

#[actix_web::test]
async fn create_admin_resets_password_and_rights() {
    let app = spawn_app().await;
    world::admin_token(&app).await;
    dangjian::users::admin::create_or_reset_admin(&app.db, "admin", "Another-pass-1")
        .await
        .unwrap();
    login(&app, "admin", PASSWORD)
        .await
        .assert_problem(401, "invalid_credentials");
    let token = login(&app, "admin", "Another-pass-1").await.json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let me = me(&app, &token).await.json();
    assert_eq!(me["grants"].as_array().unwrap().len(), 1, "grant not duplicated");
    let weak = dangjian::users::admin::create_or_reset_admin(&app.db, "admin", "weak").await;
    assert!(weak.is_err());
}
