//! Every error the service produces is RFC 9457 problem+json, including actix's own.

mod common;

use common::{notes, send, send_body, send_json, spawn_app, spawn_app_with};
use serde_json::json;

async fn app_with_notes() -> common::TestApp {
    let app = spawn_app_with(notes::routes).await;
    notes::create_table(&app.db).await;
    app
}

#[actix_web::test]
async fn unknown_route_is_a_404_problem() {
    let app = spawn_app().await;
    let reply = send(app.server.get("/api/v1/no-such-thing")).await;
    let body = reply.assert_problem(404, "not_found");
    assert_eq!(body["instance"], "/api/v1/no-such-thing");
}

#[actix_web::test]
async fn wrong_method_is_405_with_allow() {
    let app = spawn_app().await;
    for path in ["/healthz", "/api/v1/dictionaries"] {
        let reply = send(app.server.delete(path)).await;
        reply.assert_problem(405, "method_not_allowed");
        assert_eq!(reply.header("allow"), Some("GET"), "{path}");
    }
}

#[actix_web::test]
async fn malformed_json_is_400_and_writes_nothing() {
    let app = app_with_notes().await;
    let reply = send_body(
        app.server.post("/test/notes").content_type("application/json"),
        "{\"title\": ",
    )
    .await;
    reply.assert_problem(400, "malformed_json");
    let reply = send_body(app.server.post("/test/notes").content_type("application/json"), "").await;
    reply.assert_problem(400, "malformed_json");
    assert_eq!(notes::count(&app.db).await, 0);
}

#[actix_web::test]
async fn wrong_content_type_is_415() {
    let app = app_with_notes().await;
    let reply = send_body(
        app.server.post("/test/notes").content_type("text/plain"),
        "{\"title\":\"x\"}",
    )
    .await;
    reply.assert_problem(415, "unsupported_media_type");
    assert_eq!(notes::count(&app.db).await, 0);
}

#[actix_web::test]
async fn unknown_missing_and_mistyped_fields_are_422_with_pointers() {
    let app = app_with_notes().await;
    let cases = [
        (json!({"title": "a", "colour": "red"}), "/colour", "unknown_field"),
        (json!({}), "/title", "required"),
        (json!({"title": 5}), "/title", "invalid_type"),
        (json!({"title": "a", "tags": ["x", 3]}), "/tags/1", "invalid_type"),
        (json!({"title": ""}), "/title", "length"),
    ];
    for (body, pointer, code) in cases {
        let reply = send_json(app.server.post("/test/notes"), &body).await;
        let problem = reply.assert_problem(422, "validation_failed");
        assert_eq!(problem["errors"][0]["pointer"], pointer, "{body}");
        assert_eq!(problem["errors"][0]["code"], code, "{body}");
    }
    assert_eq!(notes::count(&app.db).await, 0);
}

#[actix_web::test]
async fn nul_characters_are_refused_never_500() {
    let app = app_with_notes().await;
    let reply = send_json(app.server.post("/test/notes"), &json!({"title": "a\u{0000}b"})).await;
    let problem = reply.assert_problem(422, "validation_failed");
    assert_eq!(problem["errors"][0]["pointer"], "/title");
    assert_eq!(problem["errors"][0]["code"], "nul_character");
    let reply = send(app.server.get("/test/notes?prefix=a%00")).await;
    let problem = reply.assert_problem(400, "invalid_query");
    assert_eq!(problem["errors"][0]["parameter"], "prefix");
    assert_eq!(problem["errors"][0]["code"], "nul_character");
    let long = format!("/test/notes?prefix={}", "a".repeat(201));
    let problem = send(app.server.get(&long)).await.assert_problem(400, "invalid_query");
    assert_eq!(problem["errors"][0]["code"], "length");
    assert_eq!(notes::count(&app.db).await, 0);
}

#[actix_web::test]
async fn body_over_64_kib_is_413() {
    let app = app_with_notes().await;
    let big = format!("{{\"title\": \"{}\"}}", "x".repeat(70 * 1024));
    let reply = send_body(app.server.post("/test/notes").content_type("application/json"), big).await;
    reply.assert_problem(413, "payload_too_large");
    assert_eq!(notes::count(&app.db).await, 0);
}

#[actix_web::test]
async fn malformed_uuid_in_path_is_400_problem() {
    let app = app_with_notes().await;
    let reply = send(app.server.get("/test/notes/not-a-uuid")).await;
    reply.assert_problem(400, "invalid_path");
}

#[actix_web::test]
async fn unknown_or_bad_query_parameters_are_400() {
    let app = app_with_notes().await;
    let reply = send(app.server.get("/test/notes?prefx=a")).await;
    let problem = reply.assert_problem(400, "invalid_query");
    assert!(problem["detail"].as_str().unwrap().contains("prefx"));
    send(app.server.get("/test/notes?limit=many"))
        .await
        .assert_problem(400, "invalid_query");
    send(app.server.get("/test/notes?limit=0"))
        .await
        .assert_problem(400, "invalid_query");
    send(app.server.get("/test/notes?cursor=garbage"))
        .await
        .assert_problem(400, "invalid_cursor");
    send(app.server.get("/api/v1/dictionaries?x=1"))
        .await
        .assert_problem(400, "invalid_query");
}

#[actix_web::test]
async fn internal_errors_hide_their_details() {
    let app = app_with_notes().await;
    let reply = send(app.server.get("/test/boom")).await;
    reply.assert_problem(500, "internal_error");
    assert!(!reply.text().contains("secret_column"), "{}", reply.text());
    assert!(!reply.text().to_lowercase().contains("select"), "{}", reply.text());

    let reply = send_json(app.server.post("/test/notes"), &json!({"title": "fail"})).await;
    reply.assert_problem(500, "internal_error");
    assert!(!reply.text().contains("secret_column"));
}

#[actix_web::test]
async fn request_id_is_echoed_or_generated() {
    let app = spawn_app().await;
    let reply = send(app.server.get("/healthz").insert_header(("X-Request-Id", "abc-123"))).await;
    assert_eq!(reply.header("x-request-id"), Some("abc-123"));

    let reply = send(app.server.get("/healthz")).await;
    let generated = reply.header("x-request-id").expect("generated id");
    assert!(uuid::Uuid::parse_str(generated).is_ok(), "{generated}");

    // An unsafe id is replaced, never echoed into logs and headers.
    let reply = send(
        app.server
            .get("/healthz")
            .insert_header(("X-Request-Id", "a b<script>")),
    )
    .await;
    assert_ne!(reply.header("x-request-id"), Some("a b<script>"));

    let reply = send(app.server.get("/nowhere").insert_header(("X-Request-Id", "trace-me"))).await;
    assert_eq!(reply.assert_problem(404, "not_found")["request_id"], "trace-me");
}
