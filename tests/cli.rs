//! The binary's own duties: the first administrator, `create-admin`, and the signing secret.

mod common;

use common::TestDatabase;
use common::binary::{Server, TempDir, json_body, run};

fn login_body(username: &str, password: &str) -> String {
    serde_json::json!({"username": username, "password": password}).to_string()
}

#[actix_web::test]
async fn first_start_creates_admin_once_and_the_printed_password_works() {
    let dir = TempDir::new("bootstrap");
    let database = TestDatabase::create().await;
    let url = if database.is_postgres() {
        database.url.clone()
    } else {
        dir.sqlite_url()
    };
    let secret = ("DANGJIAN_JWT_SECRET", common::TEST_JWT_SECRET);
    let data_key = ("DANGJIAN_DATA_KEY", common::TEST_DATA_KEY);

    let server = Server::start(&url, &dir.0, &[secret, data_key]);
    let output = server.output();
    let password = output
        .lines()
        .find_map(|l| l.trim().strip_prefix("password: "))
        .unwrap_or_else(|| panic!("password printed: {output}"))
        .to_owned();
    assert_ne!(password, "admin", "never a fixed password");
    let response = server.request(
        "POST",
        "/api/v1/auth/login",
        None,
        Some(&login_body("admin", &password)),
    );
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    let token = json_body(&response)["access_token"].as_str().unwrap().to_owned();
    let me = json_body(&server.request("GET", "/api/v1/me", Some(&token), None));
    assert_eq!(me["grants"][0]["role"], "town_admin");
    assert!(server.terminate().success());

    // A second start finds an account and prints no new password.
    let again = Server::start(&url, &dir.0, &[secret, data_key]);
    assert!(!again.output().contains("password:"), "{}", again.output());
    // Tokens signed before the restart still verify (same secret).
    assert!(
        again
            .request("GET", "/api/v1/me", Some(&token), None)
            .starts_with("HTTP/1.1 200")
    );
    assert!(again.terminate().success());
}

#[actix_web::test]
async fn create_admin_reads_the_password_from_stdin() {
    let dir = TempDir::new("create-admin");
    let database = TestDatabase::create().await;
    let url = if database.is_postgres() {
        database.url.clone()
    } else {
        dir.sqlite_url()
    };
    let secret = ("DANGJIAN_JWT_SECRET", common::TEST_JWT_SECRET);
    let data_key = ("DANGJIAN_DATA_KEY", common::TEST_DATA_KEY);

    let out = run(
        &["create-admin", "--username", "Wang", "--password-stdin"],
        &url,
        &dir.0,
        &[secret, data_key],
        "Town-admin-2017\n",
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("town_admin `wang` is ready"));

    let weak = run(
        &["create-admin", "--username", "wang", "--password-stdin"],
        &url,
        &dir.0,
        &[secret, data_key],
        "weak\n",
    );
    assert!(!weak.status.success());
    assert!(
        String::from_utf8_lossy(&weak.stderr).contains("/password"),
        "{}",
        String::from_utf8_lossy(&weak.stderr)
    );

    let server = Server::start(&url, &dir.0, &[secret, data_key]);
    assert!(
        !server.output().contains("password:"),
        "an admin exists: no bootstrap account"
    );
    let response = server.request(
        "POST",
        "/api/v1/auth/login",
        None,
        Some(&login_body("wang", "Town-admin-2017")),
    );
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(server.terminate().success());
}

#[test]
fn postgres_without_a_signing_secret_refuses_to_start() {
    let dir = TempDir::new("no-secret");
    let out = run(&["serve"], "postgres://postgres@127.0.0.1:9/nowhere", &dir.0, &[], "");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("DANGJIAN_JWT_SECRET"), "{stderr}");
    let secret = ("DANGJIAN_JWT_SECRET", common::TEST_JWT_SECRET);
    let out = run(
        &["serve"],
        "postgres://postgres@127.0.0.1:9/nowhere",
        &dir.0,
        &[secret],
        "",
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("DANGJIAN_DATA_KEY"), "{stderr}");

    let short = run(
        &["serve"],
        &dir.sqlite_url(),
        &dir.0,
        &[("DANGJIAN_JWT_SECRET", "short")],
        "",
    );
    assert_eq!(short.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&short.stderr).contains("DANGJIAN_JWT_SECRET"));
}

#[test]
fn sqlite_without_a_secret_generates_one_in_the_data_dir_and_keeps_it() {
    let dir = TempDir::new("gen-secret");
    let url = dir.sqlite_url();
    let server = Server::start(&url, &dir.0, &[]);
    let key = std::fs::read_to_string(dir.0.join("data-key")).expect("data key file written");
    assert_eq!(key.trim().len(), 64);
    let file = dir.0.join("jwt-secret");
    let secret = std::fs::read_to_string(&file).expect("secret file written");
    assert!(secret.len() >= 32);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    }
    assert!(server.terminate().success());
    let again = Server::start(&url, &dir.0, &[]);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), secret, "kept across restarts");
    assert!(again.terminate().success());
}
