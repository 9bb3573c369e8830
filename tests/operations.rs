//! Operations: health, readiness, metrics, dictionaries, Swagger UI, database outages and
//! graceful shutdown.

mod common;

use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{TestDatabase, send, send_json, spawn_app, test_config};
use sea_orm::Database;
use serde_json::json;

#[actix_web::test]
async fn healthz_and_readyz_answer_200() {
    let app = spawn_app().await;
    let reply = send(app.server.get("/healthz")).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json(), json!({"status": "ok"}));
    let reply = send(app.server.get("/readyz")).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json(), json!({"status": "ready"}));
}

#[actix_web::test]
async fn metrics_count_requests_by_route_and_status() {
    let app = spawn_app().await;
    send(app.server.get("/healthz")).await;
    send(app.server.get("/healthz")).await;
    send(app.server.get("/no/such/route")).await;
    let reply = send(app.server.get("/metrics")).await;
    assert_eq!(reply.status, 200);
    assert!(reply.header("content-type").unwrap().starts_with("text/plain"));
    let text = reply.text();
    assert!(
        text.contains(r#"http_requests_total{method="GET",route="/healthz",status="200"} 2"#),
        "{text}"
    );
    assert!(
        text.contains(r#"http_requests_total{method="GET",route="unmatched",status="404"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"http_request_duration_seconds_bucket{method="GET",route="/healthz",status="200",le="0.1"} 2"#)
    );
    assert!(text.contains(r#"db_pool_connections{state="max"}"#));
    assert!(text.contains(r#"db_pool_connections{state="in_use"}"#));
}

#[actix_web::test]
async fn dictionaries_list_every_error_code_with_chinese_labels() {
    let app = spawn_app().await;
    let reply = send(app.server.get("/api/v1/dictionaries")).await;
    assert_eq!(reply.status, 200);
    let body = reply.json();
    let errors = body["dictionaries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "error_code")
        .expect("error_code");
    let entries = errors["entries"].as_array().unwrap();
    assert_eq!(entries.len(), dangjian::error::ErrorCode::ALL.len());
    assert!(entries.contains(&json!({"value": "not_found", "label": "资源不存在"})));
    assert!(reply.header("cache-control").unwrap().contains("max-age"));
    // Every domain enum is there too, with its Chinese labels.
    let dictionary = |name: &str| {
        body["dictionaries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["name"] == name)
            .unwrap_or_else(|| panic!("no {name} dictionary: {body}"))
            .clone()
    };
    for name in [
        "gender",
        "education",
        "member_status",
        "left_reason",
        "post_kind",
        "org_kind",
        "village_kind",
        "role",
        "pledge_kind",
        "pledge_state",
        "pledge_transition",
        "evaluation_result",
    ] {
        let d = dictionary(name);
        assert!(d["label"].as_str().is_some_and(|l| !l.is_empty()), "{d}");
        assert!(!d["entries"].as_array().unwrap().is_empty(), "{d}");
    }
    assert!(
        dictionary("member_status")["entries"]
            .as_array()
            .unwrap()
            .contains(&json!({"value": "probationary", "label": "预备党员"}))
    );
    assert!(
        dictionary("pledge_state")["entries"]
            .as_array()
            .unwrap()
            .contains(&json!({"value": "in_progress", "label": "践诺中"}))
    );

    let etag = reply.header("etag").expect("ETag").to_owned();
    let again = send(
        app.server
            .get("/api/v1/dictionaries")
            .insert_header(("If-None-Match", etag.as_str())),
    )
    .await;
    assert_eq!(again.status, 304);
}

#[actix_web::test]
async fn api_responses_are_not_cached_by_default() {
    let app = spawn_app().await;
    let reply = send(app.server.get("/api/v1/nothing-here")).await;
    assert_eq!(reply.header("cache-control"), Some("no-store"));
}

#[actix_web::test]
async fn swagger_ui_and_the_spec_are_served() {
    let app = spawn_app().await;
    let no_redirects = awc::Client::builder().disable_redirects().finish();
    let redirect = send(no_redirects.get(app.server.url("/swagger-ui"))).await;
    assert_eq!(redirect.status, 308);
    assert_eq!(redirect.header("location"), Some("/swagger-ui/"));
    let ui = send(app.server.get("/swagger-ui/")).await;
    assert_eq!(ui.status, 200);
    assert!(ui.text().contains("swagger"), "{}", ui.text());
    let init = send(app.server.get("/swagger-ui/swagger-initializer.js")).await;
    assert!(init.text().contains("/api-docs/openapi.json"), "UI points at our spec");
    let spec = send(app.server.get("/api-docs/openapi.json")).await;
    assert_eq!(spec.status, 200);
    let served: serde_json::Value = spec.json();
    let generated: serde_json::Value = serde_json::from_str(&dangjian::openapi::spec_json()).unwrap();
    assert_eq!(served, generated);
}

#[actix_web::test]
async fn unreachable_database_gives_503_with_retry_after_and_liveness_stays_up() {
    // A PostgreSQL URL where nothing listens: the pool connects lazily, so the app starts.
    let config = test_config("postgres://postgres@127.0.0.1:9/nowhere");
    let mut opts = dangjian::db::connect_options(&config.database_url, 2);
    opts.connect_lazy(true)
        .min_connections(0)
        .acquire_timeout(Duration::from_secs(2));
    let db = Database::connect(opts).await.expect("lazy pool");
    let app = common::serve(TestDatabase::none(), db, config, common::notes::routes);

    let reply = send(app.server.get("/readyz")).await;
    reply.assert_problem(503, "database_unavailable");
    assert_eq!(reply.header("retry-after"), Some("5"));
    let reply = send_json(app.server.post("/test/notes"), &json!({"title": "x"})).await;
    reply.assert_problem(503, "database_unavailable");
    assert!(!reply.text().contains("127.0.0.1:9"), "no connection details leak");
    assert_eq!(send(app.server.get("/healthz")).await.status, 200);
}

#[actix_web::test]
async fn database_outage_gives_503_and_the_service_recovers_by_itself() {
    let database = TestDatabase::create().await;
    if !database.is_postgres() {
        eprintln!("database_outage_*: runs with TEST_DATABASE_URL (PostgreSQL); SQLite is embedded and cannot go away");
        return;
    }
    // Route the app's connections through a proxy the test can cut.
    let host_port = database
        .url
        .split('@')
        .nth(1)
        .and_then(|r| r.split('/').next())
        .expect("host:port in URL")
        .to_owned();
    let upstream = std::net::ToSocketAddrs::to_socket_addrs(&host_port)
        .unwrap()
        .next()
        .unwrap();
    let proxy = common::proxy::Proxy::start(upstream);
    let proxied_url = database.url.replacen(&host_port, &proxy.addr.to_string(), 1);
    let config = test_config(&proxied_url);
    let db = dangjian::db::connect(&config).await.unwrap();
    dangjian::db::migrate(&db, &config.database_url).await.unwrap();
    let app = common::serve(database, db, config, common::notes::routes);
    common::notes::create_table(&app.db).await;

    assert_eq!(send(app.server.get("/readyz")).await.status, 200);
    proxy.cut();
    for _ in 0..3 {
        let reply = send(app.server.get("/readyz")).await;
        reply.assert_problem(503, "database_unavailable");
        assert_eq!(reply.header("retry-after"), Some("5"));
    }
    send_json(app.server.post("/test/notes"), &json!({"title": "during outage"}))
        .await
        .assert_problem(503, "database_unavailable");
    assert_eq!(
        send(app.server.get("/healthz")).await.status,
        200,
        "process still alive"
    );

    proxy.restore();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let reply = send(app.server.get("/readyz")).await;
        if reply.status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "did not recover: {}", reply.text());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let created = send_json(app.server.post("/test/notes"), &json!({"title": "after outage"})).await;
    assert_eq!(created.status, 201, "{}", created.text());
}

#[actix_web::test]
async fn graceful_stop_finishes_in_flight_requests_and_refuses_new_ones() {
    let database = TestDatabase::create().await;
    let config = test_config(&database.url);
    let db = dangjian::db::connect(&config).await.unwrap();
    dangjian::db::migrate(&db, &config.database_url).await.unwrap();
    common::notes::create_table(&db).await;
    let state = dangjian::app::state(db.clone(), config).unwrap();
    let (server, addrs) = dangjian::server::start(state, common::notes::routes).expect("server starts");
    let handle = server.handle();
    let running = tokio::spawn(server);
    let base = format!("http://{}", addrs[0]);

    let client = awc::Client::default();
    let slow = client
        .post(format!("{base}/test/notes"))
        .insert_header(("X-Test-Delay-Ms", "1000"))
        .send_json(&json!({"title": "in flight"}));
    let stop = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        // The same graceful stop SIGTERM triggers.
        handle.stop(true).await;
    };
    let (response, ()) = futures_util::future::join(slow, stop).await;
    assert_eq!(response.expect("in-flight request answered").status(), 201);
    running.await.unwrap().expect("server exits cleanly");
    // On PostgreSQL, read on a new pool: connections the pool opened inside the stopped
    // workers' runtimes went with them. (An in-memory SQLite database lives in its one pool.)
    let after = if database.is_postgres() {
        dangjian::db::connect(&test_config(&database.url)).await.unwrap()
    } else {
        db
    };
    assert_eq!(common::notes::count(&after).await, 1, "its write landed");
    assert!(TcpStream::connect(addrs[0]).is_err(), "no longer accepting");
}

#[actix_web::test]
async fn sigterm_stops_the_binary_with_exit_code_0() {
    let dir = common::binary::TempDir::new("shutdown");
    let database = TestDatabase::create().await;
    let url = if database.is_postgres() {
        database.url.clone()
    } else {
        dir.sqlite_url()
    };
    let secret = ("DANGJIAN_JWT_SECRET", common::TEST_JWT_SECRET);
    let data_key = ("DANGJIAN_DATA_KEY", common::TEST_DATA_KEY);
    let server = common::binary::Server::start(&url, &dir.0, &[secret, data_key]);
    assert!(server.request("GET", "/readyz", None, None).starts_with("HTTP/1.1 200"));
    let addr = server.addr.clone();
    let status = server.terminate();
    assert!(status.success(), "exit status {status:?}");
    assert!(TcpStream::connect(&addr).is_err(), "no longer accepting");
}
