//! Test helpers: the real app on a fresh database per test, and small HTTP helpers.
//!
//! Without `TEST_DATABASE_URL` each test gets an in-memory SQLite database. With it (a
//! PostgreSQL URL), each test gets a fresh PostgreSQL database, dropped afterwards; if that
//! PostgreSQL cannot be reached the test fails — it never falls back to SQLite.
#![allow(dead_code)]

use actix_web::http::StatusCode;
use actix_web::http::header::HeaderMap;
use actix_web::web::{self, Bytes};
use dangjian::config::Config;
use dangjian::state::AppState;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::Value;

pub mod binary;
pub mod notes;
pub mod proxy;
pub mod world;

/// A database for one test, dropped with it (PostgreSQL only; SQLite lives in memory).
pub struct TestDatabase {
    pub url: String,
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    pub async fn create() -> TestDatabase {
        let Some(admin_url) = std::env::var("TEST_DATABASE_URL").ok().filter(|u| !u.is_empty()) else {
            return TestDatabase {
                url: "sqlite::memory:".into(),
                postgres: None,
            };
        };
        assert!(
            admin_url.starts_with("postgres://") || admin_url.starts_with("postgresql://"),
            "TEST_DATABASE_URL must be a postgres:// URL, got {admin_url}"
        );
        let admin = Database::connect(admin_url.as_str()).await.unwrap_or_else(|e| {
            panic!("TEST_DATABASE_URL is set but PostgreSQL cannot be reached at {admin_url}: {e}")
        });
        let name = format!("dangjian_test_{}", uuid::Uuid::now_v7().simple());
        admin
            .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await
            .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
        let _ = admin.close().await;
        TestDatabase {
            url: with_database_name(&admin_url, &name),
            postgres: Some((admin_url, name)),
        }
    }

    /// No database at all, for apps pointed somewhere unreachable.
    pub fn none() -> TestDatabase {
        TestDatabase {
            url: String::new(),
            postgres: None,
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.postgres.is_some()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some((admin_url, name)) = self.postgres.take() else {
            return;
        };
        // Drop runs outside async context: use a runtime of its own on a plain thread.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                return;
            };
            rt.block_on(async {
                if let Ok(admin) = Database::connect(admin_url.as_str()).await {
                    let _ = admin
                        .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                        .await;
                    let _ = admin.close().await;
                }
            });
        })
        .join();
    }
}

/// `postgres://u@h:p/old?x` → `postgres://u@h:p/new?x`.
pub fn with_database_name(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_part = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{host_part}/{name}?{q}"),
        None => format!("{host_part}/{name}"),
    }
}

/// The signing secret of test apps, so tests can forge tokens with the right key.
pub const TEST_JWT_SECRET: &str = "test-secret-test-secret-test-secret-0123456789";

/// The personal-data key of test apps (64 hex characters).
pub const TEST_DATA_KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

/// Configuration for a test app on `database_url`, everything else at its default.
pub fn test_config(database_url: &str) -> Config {
    let url = database_url.to_owned();
    Config::from_lookup(move |name| match name {
        "DATABASE_URL" => Some(url.clone()),
        "DANGJIAN_BIND" => Some("127.0.0.1:0".into()),
        "DANGJIAN_JWT_SECRET" => Some(TEST_JWT_SECRET.into()),
        "DANGJIAN_DATA_KEY" => Some(TEST_DATA_KEY.into()),
        // Tests sign in often from 127.0.0.1; the rate-limit test sets its own.
        "DANGJIAN_LOGIN_RATE_PER_MINUTE" => Some("100000".into()),
        _ => None,
    })
    .expect("test configuration is valid")
}

/// The real application served over HTTP on a free port, with its own database.
pub struct TestApp {
    pub server: actix_test::TestServer,
    pub db: DatabaseConnection,
    pub state: web::Data<AppState>,
    pub database: TestDatabase,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Like [`spawn_app`], with some configuration variables set.
pub async fn spawn_app_with_env(vars: &[(&'static str, &'static str)]) -> TestApp {
    let database = TestDatabase::create().await;
    let base = test_config(&database.url);
    let url = database.url.clone();
    let vars = vars.to_vec();
    let config = Config::from_lookup(move |name| {
        if let Some((_, v)) = vars.iter().find(|(k, _)| *k == name) {
            return Some(v.to_string());
        }
        match name {
            "DATABASE_URL" => Some(url.clone()),
            "DANGJIAN_JWT_SECRET" => Some(TEST_JWT_SECRET.into()),
            "DANGJIAN_DATA_KEY" => Some(TEST_DATA_KEY.into()),
            "DANGJIAN_LOGIN_RATE_PER_MINUTE" => Some(base.login_rate_per_minute.to_string()),
            _ => None,
        }
    })
    .expect("valid test configuration");
    let db = dangjian::db::connect(&config)
        .await
        .expect("connect to the test database");
    dangjian::db::migrate(&db, &config.database_url)
        .await
        .expect("migrations apply");
    serve(database, db, config, |_| {})
}

/// Like [`spawn_app`], with extra services registered (test fixtures).
pub async fn spawn_app_with<F>(extra: F) -> TestApp
where
    F: Fn(&mut web::ServiceConfig) + Clone + Send + 'static,
{
    let database = TestDatabase::create().await;
    let config = test_config(&database.url);
    let db = dangjian::db::connect(&config)
        .await
        .expect("connect to the test database");
    dangjian::db::migrate(&db, &config.database_url)
        .await
        .expect("migrations apply");
    serve(database, db, config, extra)
}

/// Serves the app on an already connected database (used to simulate outages).
pub fn serve<F>(database: TestDatabase, db: DatabaseConnection, config: Config, extra: F) -> TestApp
where
    F: Fn(&mut web::ServiceConfig) + Clone + Send + 'static,
{
    let state = dangjian::app::state(db.clone(), config).expect("app state");
    let app_state = state.clone();
    let server = actix_test::start(move || {
        let extra = extra.clone();
        dangjian::app::build(app_state.clone(), move |cfg| extra(cfg))
    });
    TestApp {
        server,
        db,
        state,
        database,
    }
}

/// A response as the client saw it.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Asserts an RFC 9457 problem with this status and code, carrying the request id and
    /// the request path; returns the body.
    pub fn assert_problem(&self, status: u16, code: &str) -> Value {
        assert_eq!(self.status.as_u16(), status, "status; body: {}", self.text());
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "content type"
        );
        let body = self.json();
        assert_eq!(body["status"], status);
        assert_eq!(body["code"], code, "code; body: {body}");
        assert_eq!(body["type"], format!("/problems/{}", code.replace('_', "-")));
        assert!(body["title"].as_str().is_some_and(|t| !t.is_empty()));
        assert!(body["detail"].as_str().is_some_and(|t| !t.is_empty()));
        assert!(body["instance"].as_str().is_some_and(|t| t.starts_with('/')));
        assert_eq!(
            body["request_id"].as_str(),
            self.header("x-request-id"),
            "request_id matches X-Request-Id"
        );
        body
    }
}

pub async fn send(req: awc::ClientRequest) -> Reply {
    collect(req.send().await.expect("request sent")).await
}

pub async fn send_body(req: awc::ClientRequest, body: impl Into<Bytes>) -> Reply {
    collect(req.send_body(body.into()).await.expect("request sent")).await
}

pub async fn send_json(req: awc::ClientRequest, body: &Value) -> Reply {
    collect(req.send_json(body).await.expect("request sent")).await
}

async fn collect<S>(mut res: awc::ClientResponse<S>) -> Reply
where
    S: futures_util::Stream<Item = Result<Bytes, actix_web::error::PayloadError>> + Unpin,
{
    let body = res.body().limit(16 * 1024 * 1024).await.expect("body read");
    Reply {
        status: res.status(),
        headers: res.headers().clone(),
        body,
    }
}

/// CPU time (user and system) a process has used so far: this test process (`None`) or a
/// child. Time limits are asserted on it rather than on the clock, so that they measure the
/// work done and not how busy the machine is (CI runs test binaries side by side).
pub fn cpu_time(pid: Option<u32>) -> std::time::Duration {
    let path = pid.map_or_else(|| "/proc/self/stat".to_owned(), |pid| format!("/proc/{pid}/stat"));
    let stat = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    // Fields after the command name (which is in parentheses and may hold spaces): state is
    // the 3rd field, utime the 14th and stime the 15th.
    let after_name = &stat[stat.rfind(')').expect("stat has a command name") + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    // SAFETY: sysconf only reads a configuration value.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as u64;
    std::time::Duration::from_millis(ticks * 1000 / per_second)
}

/// Sends a file to an import route (`path` with its query) as `content_type`, with an
/// `Idempotency-Key` when given; a large import gets two minutes.
pub async fn post_import(
    app: &TestApp,
    path: &str,
    token: &str,
    key: Option<&str>,
    content_type: &str,
    body: impl Into<Bytes>,
) -> Reply {
    let mut req = app
        .server
        .post(path)
        .bearer_auth(token)
        .timeout(std::time::Duration::from_secs(120))
        .insert_header(("Content-Type", content_type.to_owned()));
    if let Some(key) = key {
        req = req.insert_header(("Idempotency-Key", key));
    }
    send_body(req, body).await
}
