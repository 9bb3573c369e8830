//! The shared mechanisms features opt into: Idempotency-Key, ETag/If-Match, cursor
//! pagination, compression and CORS, exercised through a test-only "notes" resource.

mod common;

use std::time::Duration;

use common::{notes, send, send_json, spawn_app_with};
use dangjian::config::Config;
use serde_json::json;

async fn app_with_notes() -> common::TestApp {
    let app = spawn_app_with(notes::routes).await;
    notes::create_table(&app.db).await;
    app
}

#[actix_web::test]
async fn idempotent_replay_returns_the_first_response_byte_for_byte() {
    let app = app_with_notes().await;
    let first = send_json(
        app.server.post("/test/notes").insert_header(("Idempotency-Key", "k-1")),
        &json!({"title": "路灯"}),
    )
    .await;
    assert_eq!(first.status, 201, "{}", first.text());
    assert!(first.header("idempotent-replayed").is_none());
    let location = first.header("location").expect("Location").to_owned();
    assert_eq!(
        location,
        format!("/test/notes/{}", first.json()["id"].as_str().unwrap())
    );

    let again = send_json(
        app.server.post("/test/notes").insert_header(("Idempotency-Key", "k-1")),
        &json!({"title": "路灯"}),
    )
    .await;
    assert_eq!(again.status, 201);
    assert_eq!(again.body, first.body, "same bytes");
    assert_eq!(again.header("location"), Some(location.as_str()));
    assert_eq!(again.header("etag"), first.header("etag"));
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(notes::count(&app.db).await, 1, "created once");

    // Without a key every POST creates.
    send_json(app.server.post("/test/notes"), &json!({"title": "路灯"})).await;
    assert_eq!(notes::count(&app.db).await, 2);
}

#[actix_web::test]
async fn same_key_with_a_different_body_is_422() {
    let app = app_with_notes().await;
    send_json(
        app.server.post("/test/notes").insert_header(("Idempotency-Key", "k-2")),
        &json!({"title": "a"}),
    )
    .await;
    let reply = send_json(
        app.server.post("/test/notes").insert_header(("Idempotency-Key", "k-2")),
        &json!({"title": "b"}),
    )
    .await;
    reply.assert_problem(422, "idempotency_key_reused");
    assert_eq!(notes::count(&app.db).await, 1);
}

#[actix_web::test]
async fn same_key_while_the_first_is_running_is_409() {
    let app = app_with_notes().await;
    let body = json!({"title": "slow"});
    let slow = send_json(
        app.server
            .post("/test/notes")
            .insert_header(("Idempotency-Key", "k-3"))
            .insert_header(("X-Test-Delay-Ms", "1500")),
        &body,
    );
    let second = async {
        tokio::time::sleep(Duration::from_millis(400)).await;
        send_json(
            app.server.post("/test/notes").insert_header(("Idempotency-Key", "k-3")),
            &json!({"title": "slow"}),
        )
        .await
    };
    let (first, second) = futures_util::future::join(slow, second).await;
    assert_eq!(first.status, 201);
    second.assert_problem(409, "idempotency_key_in_use");
    let third = send_json(
        app.server.post("/test/notes").insert_header(("Idempotency-Key", "k-3")),
        &json!({"title": "slow"}),
    )
    .await;
    assert_eq!(third.status, 201);
    assert_eq!(third.body, first.body);
    assert_eq!(notes::count(&app.db).await, 1);
}

#[actix_web::test]
async fn a_failed_request_releases_its_key() {
    let app = app_with_notes().await;
    let reply = send_json(
        app.server.post("/test/notes").insert_header(("Idempotency-Key", "k-4")),
        &json!({"title": "fail"}),
    )
    .await;
    assert_eq!(reply.status, 500);
    // The key is released in the background; a retry soon after is processed again.
    let mut retry = None;
    for _ in 0..50 {
        let r = send_json(
            app.server.post("/test/notes").insert_header(("Idempotency-Key", "k-4")),
            &json!({"title": "fail"}),
        )
        .await;
        if r.status != 409 {
            retry = Some(r);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        retry.expect("key released").status,
        500,
        "processed again, not replayed"
    );
    assert_eq!(notes::count(&app.db).await, 0);
}

#[actix_web::test]
async fn bad_idempotency_keys_are_400() {
    let app = app_with_notes().await;
    let long = "k".repeat(256);
    let reply = send_json(
        app.server
            .post("/test/notes")
            .insert_header(("Idempotency-Key", long.as_str())),
        &json!({"title": "a"}),
    )
    .await;
    reply.assert_problem(400, "invalid_header");
    assert_eq!(notes::count(&app.db).await, 0);
}

#[actix_web::test]
async fn updates_require_a_current_if_match() {
    let app = app_with_notes().await;
    let created = send_json(app.server.post("/test/notes"), &json!({"title": "old"})).await;
    let url = created.header("location").unwrap().to_owned();
    assert_eq!(created.header("etag"), Some("\"1\""));

    let reply = send_json(app.server.patch(&url), &json!({"title": "new"})).await;
    reply.assert_problem(428, "precondition_required");

    let reply = send_json(
        app.server.patch(&url).insert_header(("If-Match", "\"7\"")),
        &json!({"title": "new"}),
    )
    .await;
    reply.assert_problem(412, "precondition_failed");

    let reply = send_json(
        app.server.patch(&url).insert_header(("If-Match", "7")),
        &json!({"title": "new"}),
    )
    .await;
    reply.assert_problem(400, "invalid_header");

    let got = send(app.server.get(&url)).await;
    assert_eq!(got.json()["title"], "old", "nothing changed");

    let reply = send_json(
        app.server.patch(&url).insert_header(("If-Match", "\"1\"")),
        &json!({"title": "new"}),
    )
    .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("etag"), Some("\"2\""));
    assert_eq!(reply.json()["title"], "new");

    // The old tag is now stale.
    let reply = send_json(
        app.server.patch(&url).insert_header(("If-Match", "\"1\"")),
        &json!({"title": "newer"}),
    )
    .await;
    reply.assert_problem(412, "precondition_failed");
}

#[actix_web::test]
async fn get_with_matching_if_none_match_is_304() {
    let app = app_with_notes().await;
    let created = send_json(app.server.post("/test/notes"), &json!({"title": "x"})).await;
    let url = created.header("location").unwrap().to_owned();
    let reply = send(app.server.get(&url).insert_header(("If-None-Match", "\"1\""))).await;
    assert_eq!(reply.status, 304);
    assert!(reply.body.is_empty());
    let reply = send(app.server.get(&url).insert_header(("If-None-Match", "\"0\""))).await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.header("cache-control"),
        None,
        "non-API fixture path is not marked"
    );
}

#[actix_web::test]
async fn cursor_pagination_walks_every_item_once() {
    let app = app_with_notes().await;
    for i in 0..25 {
        send_json(
            app.server.post("/test/notes"),
            &json!({"title": format!("note {:02}", 24 - i)}),
        )
        .await;
    }
    let mut seen = Vec::new();
    let mut url = "/test/notes?limit=10&include_total=true".to_string();
    let mut pages = 0;
    loop {
        let reply = send(app.server.get(&url)).await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        let page = reply.json();
        assert_eq!(page["total"], 25);
        pages += 1;
        for item in page["items"].as_array().unwrap() {
            seen.push(item["title"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(cursor) => url = format!("/test/notes?limit=10&include_total=true&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let expected: Vec<String> = (0..25).map(|i| format!("note {i:02}")).collect();
    assert_eq!(seen, expected, "sorted, no gaps, no repeats");

    let page = send(app.server.get("/test/notes")).await.json();
    assert_eq!(page["items"].as_array().unwrap().len(), 20, "default limit");
    assert!(page.get("total").is_none(), "total only when asked");
    let page = send(app.server.get("/test/notes?limit=500")).await.json();
    assert_eq!(
        page["items"].as_array().unwrap().len(),
        25,
        "clamped to 100, all 25 fit"
    );
    let page = send(app.server.get("/test/notes?prefix=note%202")).await.json();
    assert_eq!(page["items"].as_array().unwrap().len(), 5);
}

#[actix_web::test]
async fn large_responses_are_compressed_when_asked() {
    let app = app_with_notes().await;
    let reply = send(
        app.server
            .get("/api-docs/openapi.json")
            .insert_header(("Accept-Encoding", "gzip")),
    )
    .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-encoding"), Some("gzip"));
    assert!(reply.json()["paths"].is_object(), "client decodes it");
}

#[actix_web::test]
async fn cors_allows_only_configured_origins() {
    let database = common::TestDatabase::create().await;
    let url = database.url.clone();
    let config = Config::from_lookup(move |name| match name {
        "DATABASE_URL" => Some(url.clone()),
        "DANGJIAN_CORS_ORIGINS" => Some("https://app.example.cn".into()),
        "DANGJIAN_JWT_SECRET" => Some(common::TEST_JWT_SECRET.into()),
        "DANGJIAN_DATA_KEY" => Some(common::TEST_DATA_KEY.into()),
        _ => None,
    })
    .unwrap();
    let db = dangjian::db::connect(&config).await.unwrap();
    dangjian::db::migrate(&db, &config.database_url).await.unwrap();
    let app = common::serve(database, db, config, |_| {});

    let allowed = send(
        app.server
            .get("/healthz")
            .insert_header(("Origin", "https://app.example.cn")),
    )
    .await;
    assert_eq!(
        allowed.header("access-control-allow-origin"),
        Some("https://app.example.cn")
    );
    let other = send(
        app.server
            .get("/healthz")
            .insert_header(("Origin", "https://evil.example")),
    )
    .await;
    assert_eq!(other.header("access-control-allow-origin"), None);

    let preflight = send(
        app.server
            .request(actix_web::http::Method::OPTIONS, app.server.url("/api/v1/dictionaries"))
            .insert_header(("Origin", "https://app.example.cn"))
            .insert_header(("Access-Control-Request-Method", "POST"))
            .insert_header((
                "Access-Control-Request-Headers",
                "authorization, idempotency-key, if-match",
            )),
    )
    .await;
    assert_eq!(preflight.status, 200, "{}", preflight.text());
    assert_eq!(
        preflight.header("access-control-allow-origin"),
        Some("https://app.example.cn")
    );
}
