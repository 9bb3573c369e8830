//! The holes an outside security review reproduced against the release build (issue 8),
//! one test per finding, named after it. Each failed on the code before its fix.

mod common;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::world::{self, PASSWORD, World, create_member, id_number, login, member_body};
use common::{Reply, TestApp, send, send_json, spawn_app, spawn_app_with_env};
use serde_json::{Value, json};

/// 程军: born 1979-03-15 in region 340822, sequence 013.
fn cheng_number() -> String {
    id_number("340822", "19790315", "013")
}

async fn token_of(app: &TestApp, username: &str, password: &str) -> String {
    let reply = login(app, username, password).await;
    assert_eq!(reply.status, 200, "login {username}: {}", reply.text());
    reply.json()["access_token"].as_str().unwrap().to_owned()
}

/// Creates an account in `home` holding `role` on `grant_org`, as the administrator.
async fn account_with_grant(app: &TestApp, w: &World, name: &str, home: &str, role: &str, grant_org: &str) -> String {
    let user = world::create(
        app,
        w.token("admin"),
        "/api/v1/users",
        json!({"username": name, "password": PASSWORD, "org_id": home}),
    )
    .await;
    let id = user["id"].as_str().unwrap().to_owned();
    world::create(
        app,
        w.token("admin"),
        &format!("/api/v1/users/{id}/grants"),
        json!({"role": role, "org_id": grant_org}),
    )
    .await;
    id
}

async fn audit_events(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let reply = world::get(app, token, &format!("/api/v1/audit-events?limit=100&{query}")).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()["items"].as_array().unwrap().clone()
}

// ── 1. A masked ID number can be rebuilt ────────────────────────────────────────────────────

/// What a reader who may not reveal must not find anywhere in `text`: the digits after the
/// region code, the full birth date in any spelling, the phone.
fn assert_no_rebuildable_pii(text: &str, what: &str) {
    let number = cheng_number();
    for secret in [
        &number[6..],
        &number[14..],
        "19790315",
        "1979-03-15",
        "1979/03/15",
        "13812345678",
    ] {
        assert!(!text.contains(secret), "{what} shows `{secret}`: {text}");
    }
}

#[actix_web::test]
async fn item1_masked_id_number_cannot_be_rebuilt() {
    let app = spawn_app().await;
    let w = world::build(&app).await;
    let mut body = member_body("程军", &w.branch_a, &cheng_number());
    body["group_id"] = json!(w.group_a);
    body["phone"] = json!("13812345678");
    let created = create_member(&app, w.token("sec_a"), body).await;
    let id = created["id"].as_str().unwrap();
    assert_no_rebuildable_pii(&created.to_string(), "the create response");

    // Everyone who reads without revealing sees the region code, the birth year, the gender.
    for reader in ["inspector", "leader_a", "sec_a", "admin"] {
        let one = world::get(&app, w.token(reader), &format!("/api/v1/members/{id}")).await;
        assert_eq!(one.status, 200, "{reader}: {}", one.text());
        let v = one.json();
        assert_eq!(v["id_number"], "340822************", "{reader}");
        assert_eq!(v["birth_year"], 1979, "{reader}");
        assert!(v["birth_date"].is_null(), "{reader} sees the birth date: {v}");
        assert_eq!(v["phone"], "138****5678");
        assert_no_rebuildable_pii(&one.text(), reader);
        let list = world::get(&app, w.token(reader), "/api/v1/members").await;
        assert_no_rebuildable_pii(&list.text(), &format!("{reader}'s list"));
    }
    let csv = world::get(&app, w.token("sec_a"), "/api/v1/members?limit=5").await;
    assert_no_rebuildable_pii(&csv.text(), "the list");
    let export = send(
        app.server
            .get("/api/v1/members")
            .bearer_auth(w.token("sec_a"))
            .insert_header(("Accept", "text/csv")),
    )
    .await;
    assert_eq!(export.status, 200);
    assert!(export.text().contains("340822************"), "{}", export.text());
    assert_no_rebuildable_pii(&export.text(), "the CSV export");

    // Those who may reveal still can, and then see the whole date.
    let revealed = world::get(&app, w.token("sec_a"), &format!("/api/v1/members/{id}?reveal=pii")).await;
    assert_eq!(revealed.json()["id_number"], cheng_number());
    assert_eq!(revealed.json()["birth_date"], "1979-03-15");

    // A change of every personal field: the audit trail says which changed, never the values.
    let tag = revealed.header("etag").unwrap().to_owned();
    let new_number = id_number("340822", "19790316", "013");
    let patched = send_json(
        app.server
            .patch(format!("/api/v1/members/{id}"))
            .bearer_auth(w.token("sec_a"))
            .insert_header(("If-Match", tag)),
        &json!({"id_number": new_number, "birth_date": "1979-03-16", "phone": "13912345678"}),
    )
    .await;
    assert_eq!(patched.status, 200, "{}", patched.text());
    let events = audit_events(&app, w.token("admin"), "entity_type=member").await;
    assert!(events.len() >= 2, "{events:?}");
    for e in &events {
        let text = e["changes"].to_string();
        assert_no_rebuildable_pii(&text, &format!("audit event {}", e["action"]));
        for secret in [&new_number[6..], "19790316", "1979-03-16", "13912345678"] {
            assert!(!text.contains(secret), "audit shows `{secret}`: {text}");
        }
    }
    let update = events
        .iter()
        .find(|e| e["action"] == "member.update")
        .expect("update event");
    let changed = update["changes"]["personal_data_changed"]
        .as_array()
        .expect("names the fields");
    for field in ["id_number", "birth_date", "phone"] {
        assert!(changed.contains(&json!(field)), "{update}");
    }
    // And in the stored rows, read behind the API's back.
    use sea_orm::{ConnectionTrait, Statement};
    let rows = app
        .db
        .query_all_raw(Statement::from_string(
            app.db.get_database_backend(),
            "SELECT changes FROM audit_events",
        ))
        .await
        .unwrap();
    for row in rows {
        let changes: String = row.try_get("", "changes").unwrap();
        assert_no_rebuildable_pii(&changes, "a stored audit row");
    }
}

#[cfg(unix)]
#[actix_web::test]
async fn item1_sqlite_file_and_its_journal_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("dangjian-mode-{}", uuid::Uuid::now_v7().simple()));
    let url = format!("sqlite://{}/dangjian.db?mode=rwc", dir.display());
    let config = common::test_config(&url);
    std::fs::create_dir_all(&dir).unwrap();
    let db = dangjian::db::connect(&config).await.expect("connect");
    dangjian::db::migrate(&db, &config.database_url).await.expect("migrate");
    let mut seen = 0;
    for name in ["dangjian.db", "dangjian.db-wal", "dangjian.db-shm"] {
        if let Ok(meta) = std::fs::metadata(dir.join(name)) {
            seen += 1;
            assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{name} is readable by others");
        }
    }
    assert!(seen >= 1, "the database file exists");
    let _ = db.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

// ── 2. A secretary can take over an account that holds roles in another branch ─────────────

#[actix_web::test]
async fn item2_secretary_cannot_take_over_an_account_with_a_grant_elsewhere() {
    let app = spawn_app().await;
    let w = world::build(&app).await;
    // Home in branch A, but group leader of B's group.
    let id = account_with_grant(&app, &w, "straddler", &w.branch_a, "group_leader", &w.group_b).await;
    let grants = world::get(&app, w.token("admin"), &format!("/api/v1/users/{id}"))
        .await
        .json()["grants"]
        .clone();
    let grant_id = grants[0]["id"].as_str().unwrap().to_owned();
    let admin_tag = world::get(&app, w.token("admin"), &format!("/api/v1/users/{id}"))
        .await
        .header("etag")
        .unwrap()
        .to_owned();

    for sec in ["sec_a", "sec_b"] {
        let t = w.token(sec);
        world::get(&app, t, &format!("/api/v1/users/{id}"))
            .await
            .assert_problem(404, "not_found");
        let list = world::get(&app, t, "/api/v1/users?limit=100").await;
        assert!(!list.text().contains(&id), "{sec} lists it: {}", list.text());
        send_json(
            app.server.post(format!("/api/v1/users/{id}/password")).bearer_auth(t),
            &json!({"new_password": "Taken-over-1"}),
        )
        .await
        .assert_problem(404, "not_found");
        send_json(
            app.server
                .patch(format!("/api/v1/users/{id}"))
                .bearer_auth(t)
                .insert_header(("If-Match", admin_tag.clone())),
            &json!({"disabled": true}),
        )
        .await
        .assert_problem(404, "not_found");
        send_json(
            app.server.post(format!("/api/v1/users/{id}/grants")).bearer_auth(t),
            &json!({"role": "member", "org_id": w.branch_a}),
        )
        .await
        .assert_problem(404, "not_found");
        send(
            app.server
                .delete(format!("/api/v1/users/{id}/grants/{grant_id}"))
                .bearer_auth(t),
        )
        .await
        .assert_problem(404, "not_found");
    }
    // Nothing changed: the account still signs in with its password and holds its grant.
    let token = token_of(&app, "straddler", PASSWORD).await;
    let me = world::get(&app, &token, "/api/v1/me").await.json();
    assert_eq!(me["grants"].as_array().unwrap().len(), 1, "{me}");
    // The administrator, whose scope covers both branches, still manages it.
    let reset = send_json(
        app.server
            .post(format!("/api/v1/users/{id}/password"))
            .bearer_auth(w.token("admin")),
        &json!({"new_password": "Reset-by-admin-1"}),
    )
    .await;
    assert_eq!(reset.status, 204, "{}", reset.text());
}

// ── 3. Town-wide ID-number oracle ───────────────────────────────────────────────────────────

fn csv_of(rows: &[(&str, &str, String)]) -> String {
    let mut out = String::from("name,gender,birth_date,id_number,joined_on,status,org_id,rural\n");
    for (name, org, number) in rows {
        out.push_str(&format!(
            "{name},{},{},{number},2015-07-01,full,{org},true\n",
            world::gender_of(number),
            world::birth_of(number),
        ));
    }
    out
}

async fn import(app: &TestApp, token: &str, dry_run: bool, csv: &str) -> Reply {
    common::send_body(
        app.server
            .post(format!("/api/v1/members/import?dry_run={dry_run}"))
            .bearer_auth(token)
            .insert_header(("Content-Type", "text/csv")),
        csv.to_owned(),
    )
    .await
}

#[actix_web::test]
async fn item3_id_numbers_outside_your_scope_are_no_oracle() {
    let app = spawn_app_with_env(&[("DANGJIAN_IMPORT_DRY_RUNS_PER_HOUR", "2")]).await;
    let w = world::build(&app).await;
    // A member of branch B, unknown to branch A.
    let theirs = cheng_number();
    create_member(&app, w.token("sec_b"), member_body("程军", &w.branch_b, &theirs)).await;
    let candidates = [
        ("甲", w.branch_a.as_str(), id_number("340822", "19800101", "011")),
        ("乙", w.branch_a.as_str(), theirs.clone()),
        ("丙", w.branch_a.as_str(), id_number("340822", "19800101", "031")),
    ];

    // The dry run refuses the file without saying which line matched.
    let dry = import(&app, w.token("sec_a"), true, &csv_of(&candidates)).await;
    let body = dry.assert_problem(422, "validation_failed");
    let errors = body["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{body}");
    assert_eq!(errors[0]["code"], "cannot_register_here", "{body}");
    assert!(errors[0].get("line").is_none(), "names the line: {body}");
    assert!(
        errors[0]["message"].as_str().unwrap().contains("town committee"),
        "{body}"
    );
    // The real import says the same and writes nothing.
    let real = import(&app, w.token("sec_a"), false, &csv_of(&candidates)).await;
    assert_eq!(real.json()["errors"], body["errors"]);
    assert_eq!(world::member_count(&app, w.token("sec_a")).await, 0);

    // A single registration: refused with the same generic words, no "already a member".
    let single = send_json(
        app.server.post("/api/v1/members").bearer_auth(w.token("sec_a")),
        &member_body("乙", &w.branch_a, &theirs),
    )
    .await;
    let problem = single.assert_problem(409, "cannot_register_here");
    assert!(!problem.to_string().contains("active member"), "{problem}");

    // A duplicate inside your own scope is still named, with its line, to help you fix it.
    let ours = id_number("340822", "19800101", "051");
    create_member(&app, w.token("sec_a"), member_body("丁", &w.branch_a, &ours)).await;
    let own = import(
        &app,
        w.token("sec_a"),
        true,
        &csv_of(&[("丁", w.branch_a.as_str(), ours.clone())]),
    )
    .await;
    let own = own.assert_problem(422, "validation_failed");
    assert_eq!(own["errors"][0]["code"], "duplicate", "{own}");
    assert_eq!(own["errors"][0]["line"], 2, "{own}");

    // Dry runs are limited per account: the third within the hour is refused.
    let third = import(&app, w.token("sec_a"), true, &csv_of(&candidates[..1])).await;
    third.assert_problem(429, "rate_limited");
    assert!(third.header("retry-after").is_some());
    // Another account is not affected.
    let other = import(&app, w.token("admin"), true, &csv_of(&candidates[..1])).await;
    assert_eq!(other.status, 200, "{}", other.text());

    // Every import, dry or not, and every duplicate hit is in the audit trail.
    let events = audit_events(&app, w.token("admin"), "entity_type=member").await;
    let count = |action: &str| events.iter().filter(|e| e["action"] == action).count();
    assert!(count("member.import") >= 4, "{events:?}");
    assert!(count("member.duplicate_id_number") >= 4, "{events:?}");
    let hit = events
        .iter()
        .find(|e| e["action"] == "member.duplicate_id_number")
        .unwrap();
    assert_eq!(hit["actor_user_id"], w.user("sec_a"));
    assert_no_rebuildable_pii(&hit.to_string(), "the duplicate event");
}

// ── 4. Anyone can lock out an administrator ─────────────────────────────────────────────────

async fn login_from(app: &TestApp, ip: &str, username: &str, password: &str) -> Reply {
    send_json(
        app.server
            .post("/api/v1/auth/login")
            .insert_header(("X-Forwarded-For", ip)),
        &json!({"username": username, "password": password}),
    )
    .await
}

async fn failures_stored(app: &TestApp) -> i64 {
    use sea_orm::{ConnectionTrait, Statement};
    let row = app
        .db
        .query_one_raw(Statement::from_string(
            app.db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM login_failures",
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get("", "n").unwrap()
}

#[actix_web::test]
async fn item4_a_stranger_cannot_lock_out_an_administrator() {
    let app = spawn_app_with_env(&[("DANGJIAN_TRUST_FORWARDED_FOR", "true")]).await;
    let w = world::build(&app).await;
    let stranger = "203.0.113.9";
    for _ in 0..5 {
        login_from(&app, stranger, "admin", "wrong-password")
            .await
            .assert_problem(401, "invalid_credentials");
    }
    // Locked for the stranger's address, even with the right password …
    login_from(&app, stranger, "admin", PASSWORD)
        .await
        .assert_problem(401, "invalid_credentials");
    // … and trying while locked does not extend the lock.
    let stored = failures_stored(&app).await;
    login_from(&app, stranger, "admin", PASSWORD).await;
    login_from(&app, stranger, "admin", "wrong-again").await;
    assert_eq!(failures_stored(&app).await, stored, "attempts during a lock extend it");
    // The administrator, elsewhere, signs in as usual.
    let office = login_from(&app, "198.51.100.7", "admin", PASSWORD).await;
    assert_eq!(office.status, 200, "{}", office.text());

    // `create-admin` (the documented reset) clears the lock.
    dangjian::users::admin::create_or_reset_admin(&app.db, "admin", "Reset-passw0rd")
        .await
        .unwrap();
    app.state.auth.principals.clear(); // the command runs in another process, with no cache
    let after_reset = login_from(&app, stranger, "admin", "Reset-passw0rd").await;
    assert_eq!(after_reset.status, 200, "{}", after_reset.text());

    // So does an administrator's reset of a locked account.
    for _ in 0..5 {
        login_from(&app, "192.0.2.1", "sec_a", "wrong-password").await;
    }
    login_from(&app, "192.0.2.1", "sec_a", PASSWORD)
        .await
        .assert_problem(401, "invalid_credentials");
    let admin = token_of(&app, "admin", "Reset-passw0rd").await;
    let reset = send_json(
        app.server
            .post(format!("/api/v1/users/{}/password", w.user("sec_a")))
            .bearer_auth(&admin),
        &json!({"new_password": "New-secret-2017"}),
    )
    .await;
    assert_eq!(reset.status, 204, "{}", reset.text());
    let unlocked = login_from(&app, "192.0.2.1", "sec_a", "New-secret-2017").await;
    assert_eq!(unlocked.status, 200, "{}", unlocked.text());
}

// ── 5. NUL inside a pagination cursor, or in a path segment ────────────────────────────────

#[actix_web::test]
async fn item5_nul_in_a_cursor_or_path_segment_is_a_client_error() {
    let app = spawn_app().await;
    let w = world::build(&app).await;
    let id = uuid::Uuid::now_v7().to_string();
    let cursor = |key: Value| URL_SAFE_NO_PAD.encode(key.to_string());
    for (path, key) in [
        ("/api/v1/members", json!(["Name", "a\u{0}b", id])),
        ("/api/v1/orgs", json!(["a\u{0}b", id])),
        ("/api/v1/users", json!(["a\u{0}b", id])),
        ("/api/v1/villages", json!(["a\u{0}b", id])),
        ("/api/v1/villager-groups", json!(["a\u{0}b", id])),
    ] {
        let reply = world::get(&app, w.token("admin"), &format!("{path}?cursor={}", cursor(key))).await;
        reply.assert_problem(400, "invalid_cursor");
    }
    let reply = send_json(
        app.server
            .patch("/api/v1/pledge-categories/a%00b")
            .bearer_auth(w.token("admin"))
            .insert_header(("If-Match", "\"1\"")),
        &json!({"label": "x"}),
    )
    .await;
    reply.assert_problem(404, "not_found");
}

// ── 6. List reveals are audited without subjects ───────────────────────────────────────────

#[actix_web::test]
async fn item6_list_reveals_name_whose_data_was_seen() {
    let app = spawn_app().await;
    let w = world::build(&app).await;
    let a = create_member(
        &app,
        w.token("sec_a"),
        member_body("程军", &w.branch_a, &cheng_number()),
    )
    .await;
    let b = create_member(
        &app,
        w.token("sec_a"),
        member_body("胡汪节", &w.branch_a, &id_number("340822", "19800101", "011")),
    )
    .await;
    let ids = [a["id"].as_str().unwrap(), b["id"].as_str().unwrap()];
    // An inspector of branch A alone.
    account_with_grant(&app, &w, "inspector_a", &w.branch_a, "inspector", &w.branch_a).await;
    let inspector_a = token_of(&app, "inspector_a", PASSWORD).await;

    let page = world::get(
        &app,
        w.token("sec_a"),
        &format!("/api/v1/members?reveal=pii&org_id={}", w.branch_a),
    )
    .await;
    assert_eq!(page.status, 200, "{}", page.text());
    let csv = send(
        app.server
            .get("/api/v1/members?reveal=pii")
            .bearer_auth(w.token("sec_a"))
            .insert_header(("Accept", "text/csv")),
    )
    .await;
    assert_eq!(csv.status, 200);

    let events = audit_events(&app, &inspector_a, "").await;
    let reveals: Vec<&Value> = events.iter().filter(|e| e["action"] == "member.reveal_pii").collect();
    assert_eq!(
        reveals.len(),
        2,
        "the branch's inspector finds both reveals: {events:?}"
    );
    for e in reveals {
        assert_eq!(e["org_id"], w.branch_a, "{e}");
        let details = &e["changes"]["after"];
        assert_eq!(details["count"], 2, "{e}");
        let revealed: Vec<&str> = details["member_ids"]
            .as_array()
            .expect("member ids")
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        for id in ids {
            assert!(revealed.contains(&id), "{e}");
        }
    }
    // Branch B's secretary-side inspector sees none of it.
    account_with_grant(&app, &w, "inspector_b", &w.branch_b, "inspector", &w.branch_b).await;
    let inspector_b = token_of(&app, "inspector_b", PASSWORD).await;
    let theirs = audit_events(&app, &inspector_b, "").await;
    assert!(!theirs.iter().any(|e| e["action"] == "member.reveal_pii"), "{theirs:?}");
}

// ── 7. Authentication matches the raw, percent-encoded path ────────────────────────────────

#[actix_web::test]
async fn item7_rules_match_the_decoded_path_the_router_uses() {
    let app = spawn_app().await;
    let w = world::build(&app).await;
    let me = world::get(&app, w.token("member_a"), "/api/v1/%6De").await;
    assert_eq!(me.status, 200, "{}", me.text());
    assert_eq!(me.json()["username"], "member_a");
    // Encoded paths are held to the same rules as plain ones.
    send(app.server.get("/api/v1/%6De"))
        .await
        .assert_problem(401, "unauthorized");
    send(app.server.get("/%61pi/v1/members"))
        .await
        .assert_problem(401, "unauthorized");
    world::get(&app, w.token("member_a"), "/api/v1/%75sers")
        .await
        .assert_problem(403, "forbidden");
}

// ── 8. Inspectors get 403 on read-only POSTs ───────────────────────────────────────────────

#[actix_web::test]
async fn item8_inspectors_may_use_every_operation_that_only_reads() {
    use dangjian::auth::policy::{Allow, Effect, ROUTES};
    let app = spawn_app().await;
    let w = world::build(&app).await;
    let lookup = send_json(
        app.server
            .post("/api/v1/members/lookup")
            .bearer_auth(w.token("inspector")),
        &json!({"id_number": cheng_number()}),
    )
    .await;
    assert_eq!(lookup.status, 200, "{}", lookup.text());
    assert_eq!(lookup.json()["items"], json!([]));

    // Every rule that only reads and names the inspector is open to them, whatever the method.
    let mut checked = 0;
    for rule in ROUTES {
        let Allow::Roles(access) = rule.allow else { continue };
        if rule.effect != Effect::Reads || !access.0.contains(&dangjian::auth::Role::Inspector) {
            continue;
        }
        let path = rule.pattern.replace("{id}", &w.root).replace("{code}", "x");
        let path = regex_free_fill(&path);
        let req = match rule.method {
            "GET" => app.server.get(&path),
            "POST" => app.server.post(&path),
            other => panic!("a read-only rule with method {other}"),
        };
        let reply = send_json(req.bearer_auth(w.token("inspector")), &json!({})).await;
        assert_ne!(reply.status, 403, "{} {}: {}", rule.method, rule.pattern, reply.text());
        checked += 1;
    }
    assert!(checked > 10, "only {checked} rules checked");
    // Writes stay closed to them, by what they do rather than by method.
    for rule in ROUTES.iter().filter(|r| r.effect == Effect::Writes) {
        assert_ne!(rule.method, "GET", "{} is a GET that writes", rule.pattern);
    }
}

/// Fills any remaining `{name}` placeholder with a fresh id.
fn regex_free_fill(path: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('}').map(|e| start + e + 1).unwrap_or(rest.len());
        out.push_str(&uuid::Uuid::now_v7().to_string());
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}
