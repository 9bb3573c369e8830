//! Party members (党员) through the API: creation and validation, masked personal data and
//! audited reveals, scope per role, edits, transfers, leaving, lists and search, CSV export,
//! posts, and what the database itself holds.

mod common;

use common::world::{self, World, create_member, gender_of, get, id_number, link_member, member_body, member_count};
use common::{Reply, TestApp, send, send_json, spawn_app};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

async fn setup() -> (TestApp, World) {
    let app = spawn_app().await;
    let w = world::build(&app).await;
    (app, w)
}

/// A distinct valid ID number per `n` (born 1985-06-12).
fn pid(n: u32) -> String {
    id_number("340822", "19850612", &format!("{n:03}"))
}

/// `340822198506120017` → `340822************`: the region code alone.
fn masked_id(id: &str) -> String {
    format!("{}************", &id[..6])
}

/// `13812345678` → `138****5678`.
fn masked_phone(phone: &str) -> String {
    format!("{}****{}", &phone[..3], &phone[7..])
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().unwrap_or_else(|| panic!("no id in {v}")).to_owned()
}

fn names(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items in {page}"))
        .iter()
        .map(|m| m["name"].as_str().unwrap().to_owned())
        .collect()
}

/// A member of `org_id` named `name` with ID number `pid(n)`, created as `token`.
async fn new_member(app: &TestApp, token: &str, name: &str, org_id: &str, n: u32) -> Value {
    create_member(app, token, member_body(name, org_id, &pid(n))).await
}

/// Asserts a 422 with exactly one field error at `pointer` (and with `code`, when given).
fn assert_field_error(reply: &Reply, pointer: &str, code: Option<&str>) {
    let body = reply.assert_problem(422, "validation_failed");
    let errors = body["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{body}");
    assert_eq!(errors[0]["pointer"], pointer, "{body}");
    if let Some(code) = code {
        assert_eq!(errors[0]["code"], code, "{body}");
    }
}

async fn post_member(app: &TestApp, token: &str, body: &Value) -> Reply {
    send_json(app.server.post("/api/v1/members").bearer_auth(token), body).await
}

/// A write to a member with an optional `If-Match`.
async fn write(app: &TestApp, method: &str, token: &str, path: &str, if_match: Option<&str>, body: &Value) -> Reply {
    let method = actix_web::http::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = app.server.request(method, app.server.url(path)).bearer_auth(token);
    if let Some(tag) = if_match {
        req = req.insert_header(("If-Match", tag));
    }
    send_json(req, body).await
}

async fn patch_member(app: &TestApp, token: &str, id: &str, if_match: Option<&str>, body: &Value) -> Reply {
    write(app, "PATCH", token, &format!("/api/v1/members/{id}"), if_match, body).await
}

async fn transfer(app: &TestApp, token: &str, id: &str, if_match: Option<&str>, body: &Value) -> Reply {
    let path = format!("/api/v1/members/{id}/transfer");
    write(app, "POST", token, &path, if_match, body).await
}

async fn leave(app: &TestApp, token: &str, id: &str, if_match: Option<&str>, body: &Value) -> Reply {
    write(
        app,
        "POST",
        token,
        &format!("/api/v1/members/{id}/leave"),
        if_match,
        body,
    )
    .await
}

async fn members(app: &TestApp, token: &str, query: &str) -> Value {
    let reply = get(app, token, &format!("/api/v1/members{query}")).await;
    assert_eq!(reply.status, 200, "GET /api/v1/members{query}: {}", reply.text());
    reply.json()
}

/// The audit events about one entity, newest first (as admin).
async fn audit_of(app: &TestApp, w: &World, entity_id: &str) -> Vec<Value> {
    let reply = get(
        app,
        w.token("admin"),
        &format!("/api/v1/audit-events?entity_id={entity_id}&limit=100"),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()["items"].as_array().expect("items").clone()
}

/// Every audit event there is, newest first (as admin).
async fn whole_audit_trail(app: &TestApp, w: &World) -> Vec<Value> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            None => "/api/v1/audit-events?limit=100".to_owned(),
            Some(c) => format!("/api/v1/audit-events?limit=100&cursor={c}"),
        };
        let reply = get(app, w.token("admin"), &url).await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        let page = reply.json();
        all.extend(page["items"].as_array().expect("items").iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return all,
        }
    }
}

#[test]
fn the_id_number_helper_matches_the_published_example() {
    assert_eq!(id_number("110101", "19900307", "451"), "110101199003074514");
    assert_eq!(world::birth_of("110101199003074514"), "1990-03-07");
    assert_eq!(gender_of("110101199003074514"), "male");
    // Every check character is reachable, X included.
    let checks: std::collections::BTreeSet<char> = (0..200).map(|n| pid(n).chars().last().unwrap()).collect();
    assert!(checks.contains(&'X'), "{checks:?}");
    assert_eq!(masked_id("340822198001011236"), "340822************");
    assert_eq!(masked_phone("13812345678"), "138****5678");
}

#[actix_web::test]
async fn a_secretary_creates_a_member_and_reads_it_masked() {
    let (app, w) = setup().await;
    let sec = w.token("sec_a");
    let id = id_number("340822", "19800101", "123");
    let mut body = member_body("程军", &w.branch_a, &id);
    body["ethnicity"] = json!("汉族");
    body["education"] = json!("bachelor");
    body["phone"] = json!("13812345678");
    body["address"] = json!("司山村12号");
    body["group_id"] = json!(w.group_a);
    body["specialty"] = json!("种植");
    body["note"] = json!("老党员");
    body["status"] = json!("probationary");

    let reply = post_member(&app, sec, &body).await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    let created = reply.json();
    let member_id = id_of(&created);
    assert_eq!(
        reply.header("location"),
        Some(format!("/api/v1/members/{member_id}").as_str())
    );
    assert_eq!(reply.header("etag"), Some("\"1\""));
    assert_eq!(created["name"], "程军");
    assert_eq!(created["gender"], gender_of(&id));
    assert!(created["birth_date"].is_null(), "the full date only with reveal");
    assert_eq!(created["birth_year"], 1980);
    assert_eq!(created["ethnicity"], "汉族");
    assert_eq!(created["education"], "bachelor");
    assert_eq!(created["id_number"], masked_id(&id));
    assert_eq!(created["phone"], "138****5678");
    assert_eq!(created["address"], "司山村12号");
    assert_eq!(created["joined_on"], "2015-07-01");
    assert_eq!(created["status"], "probationary");
    assert_eq!(created["org_id"], w.branch_a.as_str());
    assert_eq!(created["group_id"], w.group_a.as_str());
    assert_eq!(created["rural"], true);
    assert_eq!(created["specialty"], "种植");
    assert_eq!(created["note"], "老党员");
    assert_eq!(created["active"], true);
    assert!(created["left_reason"].is_null(), "{created}");
    assert!(created["left_on"].is_null(), "{created}");
    assert_eq!(created["version"], 1);
    assert!(created["created_at"].is_string() && created["updated_at"].is_string());
    assert_eq!(created["pii_revealed"], false);
    assert!(!reply.text().contains(&id), "full ID number in the response");
    assert!(!reply.text().contains("13812345678"), "full phone in the response");

    // Reading it back gives the same masked view and version.
    let read = get(&app, sec, &format!("/api/v1/members/{member_id}")).await;
    assert_eq!(read.status, 200, "{}", read.text());
    assert_eq!(read.header("etag"), Some("\"1\""));
    assert_eq!(read.json(), created);

    // Optional fields may be left out: they come back null.
    let bare = new_member(&app, sec, "李四", &w.branch_a, 1).await;
    assert!(bare["phone"].is_null(), "{bare}");
    assert!(bare["group_id"].is_null(), "{bare}");
    assert!(bare["education"].is_null(), "{bare}");
    assert!(bare["ethnicity"].is_null(), "{bare}");

    // Unknown members are 404.
    get(&app, sec, &format!("/api/v1/members/{}", uuid::Uuid::now_v7()))
        .await
        .assert_problem(404, "not_found");
}

#[actix_web::test]
async fn creation_is_validated_field_by_field() {
    let (app, w) = setup().await;
    let admin = w.token("admin");
    let good = pid(7);
    let base = || member_body("李四", &w.branch_a, &good);
    let with = |field: &str, value: Value| {
        let mut body = base();
        body[field] = value;
        body
    };
    // The check character replaced by a wrong one, the birth date still agreeing.
    let last = good.chars().last().unwrap();
    let wrong_check = if last == '0' { '1' } else { '0' };
    let bad_checksum = format!("{}{wrong_check}", &good[..17]);

    let cases: Vec<(Value, &str, Option<&str>)> = vec![
        (with("id_number", json!(bad_checksum)), "/id_number", Some("checksum")),
        (with("birth_date", json!("1985-06-13")), "/birth_date", Some("mismatch")),
        (with("id_number", json!(&good[..17])), "/id_number", Some("format")),
        (
            with("id_number", json!(format!("{good}1"))),
            "/id_number",
            Some("format"),
        ),
        (
            with("id_number", json!(format!("{}A{}", &good[..14], &good[15..]))),
            "/id_number",
            Some("format"),
        ),
        (with("phone", json!("1381234567")), "/phone", Some("format")),
        (with("phone", json!("23812345678")), "/phone", Some("format")),
        (with("phone", json!("138-1234-567")), "/phone", Some("format")),
        (with("phone", json!("138123456789")), "/phone", Some("format")),
        (with("joined_on", json!("2017-02-30")), "/joined_on", None),
        (with("joined_on", json!("2017-13-01")), "/joined_on", None),
        (with("group_id", json!(w.group_b)), "/group_id", None),
        (with("group_id", json!(w.branch_a)), "/group_id", None),
        (with("group_id", json!(uuid::Uuid::now_v7())), "/group_id", None),
        (with("name", json!("")), "/name", None),
        (with("name", json!("党".repeat(51))), "/name", None),
        (with("gender", json!("unknown")), "/gender", None),
        (with("status", json!("candidate")), "/status", None),
        (with("education", json!("phd")), "/education", None),
        // A member belongs to a branch: not to a group or the committee itself.
        (with("org_id", json!(w.group_a)), "/org_id", None),
        (with("org_id", json!(w.root)), "/org_id", None),
    ];
    for (body, pointer, code) in cases {
        let reply = post_member(&app, admin, &body).await;
        assert_field_error(&reply, pointer, code);
    }

    // Unknown fields are refused and named.
    let reply = post_member(&app, admin, &with("colour", json!("red"))).await;
    let problem = reply.assert_problem(422, "validation_failed");
    assert_eq!(problem["errors"][0]["pointer"], "/colour", "{problem}");
    assert_eq!(problem["errors"][0]["code"], "unknown_field", "{problem}");

    // A required field missing.
    let mut missing = base();
    missing.as_object_mut().unwrap().remove("id_number");
    let reply = post_member(&app, admin, &missing).await;
    reply.assert_problem(422, "validation_failed");

    // Nothing was created by any of them.
    assert_eq!(member_count(&app, admin).await, 0);

    // 50 characters is the longest name; a valid `X` check character is fine.
    let long = create_member(&app, admin, with("name", json!("党".repeat(50)))).await;
    assert_eq!(long["name"], "党".repeat(50));
    let x = (0..200).map(pid).find(|id| id.ends_with('X')).unwrap();
    let ok = create_member(&app, admin, member_body("王芳", &w.branch_a, &x)).await;
    assert_eq!(ok["id_number"], masked_id(&x));
    assert_eq!(member_count(&app, admin).await, 2);
}

#[actix_web::test]
async fn an_active_id_number_cannot_be_registered_twice() {
    let (app, w) = setup().await;
    let id = pid(11);
    create_member(&app, w.token("sec_a"), member_body("程军", &w.branch_a, &id)).await;

    let reply = post_member(&app, w.token("sec_a"), &member_body("程军二", &w.branch_a, &id)).await;
    let problem = reply.assert_problem(409, "conflict");
    assert!(
        !problem.to_string().contains(&id),
        "the problem repeats the ID number: {problem}"
    );
    // Also from another branch: the ID number is unique town-wide, but the answer does not
    // confirm that a member elsewhere holds it.
    let reply = post_member(&app, w.token("sec_b"), &member_body("程军三", &w.branch_b, &id)).await;
    reply.assert_problem(409, "cannot_register_here");
    assert_eq!(member_count(&app, w.token("admin")).await, 1);
}

#[actix_web::test]
async fn only_secretaries_and_admins_create_members_in_their_scope() {
    let (app, w) = setup().await;
    let reply = post_member(&app, w.token("sec_a"), &member_body("甲", &w.branch_a, &pid(1))).await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    let reply = post_member(&app, w.token("admin"), &member_body("乙", &w.branch_b, &pid(2))).await;
    assert_eq!(reply.status, 201, "{}", reply.text());

    // Another branch: 404, as if it did not exist.
    post_member(&app, w.token("sec_a"), &member_body("丙", &w.branch_b, &pid(3)))
        .await
        .assert_problem(404, "not_found");
    post_member(&app, w.token("sec_b"), &member_body("丁", &w.branch_a, &pid(4)))
        .await
        .assert_problem(404, "not_found");
    // Roles that may not write members: 403.
    for user in ["inspector", "member_a", "leader_a"] {
        post_member(&app, w.token(user), &member_body("戊", &w.branch_a, &pid(5)))
            .await
            .assert_problem(403, "forbidden");
    }
    assert_eq!(member_count(&app, w.token("admin")).await, 2);
}

#[actix_web::test]
async fn idempotency_key_replays_member_creation() {
    let (app, w) = setup().await;
    let body = member_body("程军", &w.branch_a, &pid(21));
    let post = || {
        app.server
            .post("/api/v1/members")
            .bearer_auth(w.token("sec_a"))
            .insert_header(("Idempotency-Key", "member-create-1"))
    };
    let first = send_json(post(), &body).await;
    assert_eq!(first.status, 201, "{}", first.text());
    let again = send_json(post(), &body).await;
    assert_eq!(again.status, 201, "{}", again.text());
    assert_eq!(again.body, first.body);
    assert_eq!(again.header("location"), first.header("location"));
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(member_count(&app, w.token("admin")).await, 1);

    let reply = send_json(post(), &member_body("李四", &w.branch_a, &pid(22))).await;
    reply.assert_problem(422, "idempotency_key_reused");
    assert_eq!(member_count(&app, w.token("admin")).await, 1);
}

#[actix_web::test]
async fn revealing_pii_is_limited_to_the_member_and_their_managers_and_audited() {
    let (app, w) = setup().await;
    let id = pid(31);
    let phone = "13912345678";
    let mut body = member_body("程军", &w.branch_a, &id);
    body["phone"] = json!(phone);
    body["group_id"] = json!(w.group_a);
    let member = create_member(&app, w.token("sec_a"), body).await;
    let mid = id_of(&member);
    let path = format!("/api/v1/members/{mid}");
    let reveal = format!("{path}?reveal=pii");
    let linked = link_member(&app, w.token("admin"), w.user("member_a"), &mid).await;
    assert_eq!(linked.status, 200, "{}", linked.text());

    // Allowed: the branch secretary, the town admin, the member themself.
    for user in ["sec_a", "admin", "member_a"] {
        let reply = get(&app, w.token(user), &reveal).await;
        assert_eq!(reply.status, 200, "{user}: {}", reply.text());
        let body = reply.json();
        assert_eq!(body["id_number"], id.as_str(), "{user}");
        assert_eq!(body["phone"], phone, "{user}");
        assert_eq!(body["pii_revealed"], true, "{user}");
    }
    // The inspector and the group leader read the record, masked, but may not reveal it.
    for user in ["inspector", "leader_a"] {
        let masked = get(&app, w.token(user), &path).await;
        assert_eq!(masked.status, 200, "{user}: {}", masked.text());
        assert_eq!(masked.json()["id_number"], masked_id(&id));
        get(&app, w.token(user), &reveal).await.assert_problem(403, "forbidden");
    }
    // Another branch's secretary does not see it at all.
    get(&app, w.token("sec_b"), &reveal)
        .await
        .assert_problem(404, "not_found");
    get(&app, w.token("sec_b"), &path)
        .await
        .assert_problem(404, "not_found");

    // Without ?reveal=pii it is masked again, for everyone.
    let plain = get(&app, w.token("admin"), &path).await.json();
    assert_eq!(plain["id_number"], masked_id(&id));
    assert_eq!(plain["phone"], masked_phone(phone));
    assert_eq!(plain["pii_revealed"], false);

    // One audit event per reveal, by who revealed it.
    let events = audit_of(&app, &w, &mid).await;
    let reveals: Vec<&Value> = events
        .iter()
        .filter(|e| e["action"] == "member.reveal_pii" && e["outcome"] == "success")
        .collect();
    assert_eq!(reveals.len(), 3, "{events:?}");
    let mut actors: Vec<&str> = reveals.iter().map(|e| e["actor_user_id"].as_str().unwrap()).collect();
    actors.sort();
    let mut expected = vec![w.user("sec_a"), w.user("admin"), w.user("member_a")];
    expected.sort();
    assert_eq!(actors, expected);
    for event in &reveals {
        assert_eq!(event["entity_id"], mid.as_str());
    }

    // The audit trail never holds the full ID number or phone.
    let trail = serde_json::to_string(&whole_audit_trail(&app, &w).await).unwrap();
    assert!(!trail.contains(&id), "full ID number in the audit trail");
    assert!(!trail.contains(phone), "full phone in the audit trail");
}

#[actix_web::test]
async fn secretaries_see_only_their_own_branch() {
    let (app, w) = setup().await;
    let a1 = new_member(&app, w.token("sec_a"), "甲一", &w.branch_a, 1).await;
    let mut a2 = member_body("甲二", &w.branch_a, &pid(2));
    a2["group_id"] = json!(w.group_a);
    let a2 = create_member(&app, w.token("sec_a"), a2).await;
    let b1 = new_member(&app, w.token("sec_b"), "乙一", &w.branch_b, 3).await;

    assert_eq!(names(&members(&app, w.token("sec_a"), "").await), vec!["甲一", "甲二"]);
    assert_eq!(names(&members(&app, w.token("sec_b"), "").await), vec!["乙一"]);
    assert_eq!(
        names(&members(&app, w.token("admin"), "").await),
        vec!["乙一", "甲一", "甲二"]
    );
    assert_eq!(member_count(&app, w.token("sec_a")).await, 2);

    // Each other's members are 404, to read and to write.
    for (user, other) in [("sec_a", &b1), ("sec_b", &a1), ("sec_b", &a2)] {
        let oid = id_of(other);
        get(&app, w.token(user), &format!("/api/v1/members/{oid}"))
            .await
            .assert_problem(404, "not_found");
        patch_member(&app, w.token(user), &oid, Some("\"1\""), &json!({"address": "越权"}))
            .await
            .assert_problem(404, "not_found");
        leave(
            &app,
            w.token(user),
            &oid,
            Some("\"1\""),
            &json!({"reason": "other", "left_on": "2024-01-01"}),
        )
        .await
        .assert_problem(404, "not_found");
        get(&app, w.token(user), &format!("/api/v1/members/{oid}/history"))
            .await
            .assert_problem(404, "not_found");
        get(&app, w.token(user), &format!("/api/v1/members/{oid}/posts"))
            .await
            .assert_problem(404, "not_found");
    }
    // Filtering on the other branch shows none of its members.
    let reply = get(
        &app,
        w.token("sec_a"),
        &format!("/api/v1/members?org_id={}", w.branch_b),
    )
    .await;
    if reply.status == 200 {
        assert_eq!(reply.json()["items"], json!([]), "sec_a lists branch B's members");
    } else {
        reply.assert_problem(404, "not_found");
    }
    let reply = get(
        &app,
        w.token("sec_a"),
        &format!("/api/v1/members?group_id={}", w.group_b),
    )
    .await;
    if reply.status == 200 {
        assert_eq!(reply.json()["items"], json!([]), "sec_a lists group B's members");
    } else {
        assert!(matches!(reply.status.as_u16(), 400 | 404), "{}", reply.text());
    }
    // Nothing changed.
    for m in [&a1, &a2, &b1] {
        let current = get(&app, w.token("admin"), &format!("/api/v1/members/{}", id_of(m))).await;
        assert_eq!(current.header("etag"), Some("\"1\""));
        assert_eq!(current.json()["active"], true);
    }
}

#[actix_web::test]
async fn the_inspector_reads_everything_masked_but_writes_nothing() {
    let (app, w) = setup().await;
    let mut a = member_body("甲一", &w.branch_a, &pid(1));
    a["phone"] = json!("13800001111");
    let a = create_member(&app, w.token("sec_a"), a).await;
    let b = new_member(&app, w.token("sec_b"), "乙一", &w.branch_b, 2).await;
    let inspector = w.token("inspector");

    let reply = get(&app, inspector, "/api/v1/members").await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(names(&reply.json()), vec!["乙一", "甲一"]);
    assert!(!reply.text().contains(&pid(1)) && !reply.text().contains(&pid(2)));
    assert!(!reply.text().contains("13800001111"));
    for m in [&a, &b] {
        let reply = get(&app, inspector, &format!("/api/v1/members/{}", id_of(m))).await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        assert_eq!(reply.json()["id_number"], m["id_number"]);
        assert_eq!(reply.json()["pii_revealed"], false);
    }

    let aid = id_of(&a);
    post_member(&app, inspector, &member_body("丙", &w.branch_a, &pid(3)))
        .await
        .assert_problem(403, "forbidden");
    patch_member(&app, inspector, &aid, Some("\"1\""), &json!({"address": "越权"}))
        .await
        .assert_problem(403, "forbidden");
    transfer(&app, inspector, &aid, Some("\"1\""), &json!({"org_id": w.branch_b}))
        .await
        .assert_problem(403, "forbidden");
    leave(
        &app,
        inspector,
        &aid,
        Some("\"1\""),
        &json!({"reason": "other", "left_on": "2024-01-01"}),
    )
    .await
    .assert_problem(403, "forbidden");
    write(
        &app,
        "POST",
        inspector,
        &format!("/api/v1/members/{aid}/posts"),
        None,
        &json!({"kind": "pioneer_post", "org_id": w.branch_a, "start_on": "2024-01-01"}),
    )
    .await
    .assert_problem(403, "forbidden");
    let current = get(&app, w.token("admin"), &format!("/api/v1/members/{aid}")).await;
    assert_eq!(current.header("etag"), Some("\"1\""));
    assert_eq!(member_count(&app, w.token("admin")).await, 2);
}

#[actix_web::test]
async fn a_member_account_sees_and_edits_only_its_own_record() {
    let (app, w) = setup().await;
    let mut own = member_body("程军", &w.branch_a, &pid(1));
    own["phone"] = json!("13812345678");
    own["address"] = json!("司山村1号");
    let own = create_member(&app, w.token("sec_a"), own).await;
    let other_a = new_member(&app, w.token("sec_a"), "李四", &w.branch_a, 2).await;
    let other_b = new_member(&app, w.token("sec_b"), "王芳", &w.branch_b, 3).await;
    let (own_id, other_a_id, other_b_id) = (id_of(&own), id_of(&other_a), id_of(&other_b));

    // An account with the member role but no member record sees no one.
    let reply = get(&app, w.token("member_a"), "/api/v1/members").await;
    if reply.status == 200 {
        assert_eq!(
            reply.json()["items"],
            json!([]),
            "an unlinked member account lists members"
        );
    } else {
        reply.assert_problem(403, "forbidden");
    }
    let reply = get(&app, w.token("member_a"), &format!("/api/v1/members/{own_id}")).await;
    assert!(matches!(reply.status.as_u16(), 403 | 404), "{}", reply.text());

    // sec_a may not link an account to a member outside their branch.
    let reply = link_member(&app, w.token("sec_a"), w.user("member_a"), &other_b_id).await;
    assert!(
        matches!(reply.status.as_u16(), 404 | 422),
        "linking to another branch's member: {} {}",
        reply.status,
        reply.text()
    );
    let me = get(&app, w.token("member_a"), "/api/v1/me").await.json();
    assert!(me["member_id"].is_null(), "{me}");

    // sec_a links member_a's account to its record.
    let reply = link_member(&app, w.token("sec_a"), w.user("member_a"), &own_id).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["member_id"], own_id.as_str());
    let me = get(&app, w.token("member_a"), "/api/v1/me").await.json();
    assert_eq!(me["member_id"], own_id.as_str(), "{me}");

    let token = w.token("member_a");
    assert_eq!(names(&members(&app, token, "").await), vec!["程军"]);
    assert_eq!(member_count(&app, token).await, 1);
    let reply = get(&app, token, &format!("/api/v1/members/{own_id}")).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["phone"], "138****5678");
    for other in [&other_a_id, &other_b_id] {
        get(&app, token, &format!("/api/v1/members/{other}"))
            .await
            .assert_problem(404, "not_found");
        get(&app, token, &format!("/api/v1/members/{other}?reveal=pii"))
            .await
            .assert_problem(404, "not_found");
        patch_member(&app, token, other, Some("\"1\""), &json!({"phone": "13700000000"}))
            .await
            .assert_problem(404, "not_found");
    }

    // Filters and exports stay inside their own record.
    let reply = get(&app, token, &format!("/api/v1/members?org_id={}", w.branch_a)).await;
    if reply.status == 200 {
        assert_eq!(names(&reply.json()), vec!["程军"], "a member lists their branch");
    } else {
        reply.assert_problem(404, "not_found");
    }
    assert_eq!(names(&members(&app, token, "?q=ls").await), Vec::<String>::new());
    let lines = csv_lines(&export(&app, token, "").await);
    assert_eq!(lines.len(), 2, "header + their own record: {lines:?}");
    assert!(lines[1].contains("程军"), "{lines:?}");
    let reply = export(&app, token, "?reveal=pii").await;
    if reply.status == 200 {
        let lines = csv_lines(&reply);
        assert_eq!(lines.len(), 2, "header + their own record: {lines:?}");
        assert!(lines[1].contains("程军"), "{lines:?}");
    } else {
        reply.assert_problem(403, "forbidden");
    }

    // Their own phone and address they may change.
    let reply = patch_member(
        &app,
        token,
        &own_id,
        Some("\"1\""),
        &json!({"phone": "13987654321", "address": "司山村2号"}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("etag"), Some("\"2\""));
    let body = reply.json();
    assert_eq!(body["phone"], "139****4321");
    assert_eq!(body["address"], "司山村2号");
    assert_eq!(body["version"], 2);
    let revealed = get(&app, token, &format!("/api/v1/members/{own_id}?reveal=pii"))
        .await
        .json();
    assert_eq!(revealed["phone"], "13987654321");

    // Nothing else.
    for change in [
        json!({"name": "程大军"}),
        json!({"status": "probationary"}),
        json!({"note": "自己改的"}),
        json!({"group_id": w.group_a}),
        json!({"phone": "13900000000", "specialty": "无"}),
    ] {
        patch_member(&app, token, &own_id, Some("\"2\""), &change)
            .await
            .assert_problem(403, "forbidden");
    }
    transfer(&app, token, &own_id, Some("\"2\""), &json!({"org_id": w.branch_b}))
        .await
        .assert_problem(403, "forbidden");
    leave(
        &app,
        token,
        &own_id,
        Some("\"2\""),
        &json!({"reason": "other", "left_on": "2024-01-01"}),
    )
    .await
    .assert_problem(403, "forbidden");
    let current = get(&app, w.token("admin"), &format!("/api/v1/members/{own_id}?reveal=pii")).await;
    assert_eq!(current.header("etag"), Some("\"2\""));
    let current = current.json();
    assert_eq!(current["name"], "程军");
    assert_eq!(current["phone"], "13987654321");
    assert_eq!(current["active"], true);
    let trail = serde_json::to_string(&whole_audit_trail(&app, &w).await).unwrap();
    for secret in ["13812345678", "13987654321"] {
        assert!(!trail.contains(secret), "{secret} in the audit trail");
    }
    assert!(!trail.contains(&pid(1)), "a full ID number in the audit trail");
}

#[actix_web::test]
async fn a_group_leader_sees_the_members_of_their_group_only() {
    let (app, w) = setup().await;
    let mut in_group = member_body("组内", &w.branch_a, &pid(1));
    in_group["group_id"] = json!(w.group_a);
    let in_group = create_member(&app, w.token("sec_a"), in_group).await;
    let no_group = new_member(&app, w.token("sec_a"), "组外", &w.branch_a, 2).await;
    let mut other = member_body("别组", &w.branch_b, &pid(3));
    other["group_id"] = json!(w.group_b);
    let other = create_member(&app, w.token("sec_b"), other).await;
    let leader = w.token("leader_a");

    assert_eq!(names(&members(&app, leader, "").await), vec!["组内"]);
    assert_eq!(member_count(&app, leader).await, 1);
    let reply = get(&app, leader, &format!("/api/v1/members?org_id={}", w.branch_a)).await;
    if reply.status == 200 {
        assert_eq!(
            names(&reply.json()),
            vec!["组内"],
            "a group leader lists the whole branch"
        );
    } else {
        reply.assert_problem(404, "not_found");
    }
    // 组外 = zuwai, zw.
    assert_eq!(names(&members(&app, leader, "?q=zw").await), Vec::<String>::new());
    assert_eq!(names(&members(&app, leader, "?rural=true").await), vec!["组内"]);
    let lines = csv_lines(&export(&app, leader, "").await);
    assert_eq!(lines.len(), 2, "header + the group's member: {lines:?}");
    assert!(lines[1].contains("组内"), "{lines:?}");
    let reply = get(&app, leader, &format!("/api/v1/members/{}", id_of(&in_group))).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["pii_revealed"], false);
    for m in [&no_group, &other] {
        get(&app, leader, &format!("/api/v1/members/{}", id_of(m)))
            .await
            .assert_problem(404, "not_found");
    }
    patch_member(
        &app,
        leader,
        &id_of(&in_group),
        Some("\"1\""),
        &json!({"address": "改"}),
    )
    .await
    .assert_problem(403, "forbidden");
}

#[actix_web::test]
async fn editing_needs_a_current_if_match_and_is_validated() {
    let (app, w) = setup().await;
    let sec = w.token("sec_a");
    let mut body = member_body("程军", &w.branch_a, &pid(1));
    body["phone"] = json!("13812345678");
    let member = create_member(&app, sec, body).await;
    let mid = id_of(&member);
    let path = format!("/api/v1/members/{mid}");
    let change = json!({"name": "程俊", "status": "probationary", "phone": "13900001111",
        "group_id": w.group_a, "education": "college", "rural": false, "specialty": "电商"});

    patch_member(&app, sec, &mid, None, &change)
        .await
        .assert_problem(428, "precondition_required");
    patch_member(&app, sec, &mid, Some("\"7\""), &change)
        .await
        .assert_problem(412, "precondition_failed");
    assert_eq!(get(&app, sec, &path).await.json()["name"], "程军");

    let reply = patch_member(&app, sec, &mid, Some("\"1\""), &change).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("etag"), Some("\"2\""));
    let updated = reply.json();
    assert_eq!(updated["name"], "程俊");
    assert_eq!(updated["status"], "probationary");
    assert_eq!(updated["phone"], "139****1111");
    assert_eq!(updated["group_id"], w.group_a.as_str());
    assert_eq!(updated["education"], "college");
    assert_eq!(updated["rural"], false);
    assert_eq!(updated["specialty"], "电商");
    assert_eq!(updated["version"], 2);
    // Untouched fields stay.
    assert_eq!(updated["id_number"], masked_id(&pid(1)));
    assert_eq!(updated["joined_on"], "2015-07-01");
    let reread = get(&app, sec, &path).await;
    assert_eq!(reread.header("etag"), Some("\"2\""));
    assert_eq!(reread.json(), updated);

    // The old tag is stale now.
    patch_member(&app, sec, &mid, Some("\"1\""), &json!({"name": "又改"}))
        .await
        .assert_problem(412, "precondition_failed");

    // Bad values with a good tag: 422, nothing changes.
    let last = pid(1).chars().last().unwrap();
    let bad_checksum = format!("{}{}", &pid(1)[..17], if last == '0' { '1' } else { '0' });
    for (change, pointer) in [
        (json!({"phone": "12345"}), "/phone"),
        (json!({"group_id": w.group_b}), "/group_id"),
        (json!({"id_number": bad_checksum}), "/id_number"),
        (json!({"name": ""}), "/name"),
        (json!({"joined_on": "2017-02-30"}), "/joined_on"),
        (json!({"colour": "red"}), "/colour"),
    ] {
        let reply = patch_member(&app, sec, &mid, Some("\"2\""), &change).await;
        assert_field_error(&reply, pointer, None);
    }
    // Another member's active ID number: 409.
    let other_id = pid(2);
    create_member(&app, sec, member_body("李四", &w.branch_a, &other_id)).await;
    let reply = patch_member(
        &app,
        sec,
        &mid,
        Some("\"2\""),
        &json!({"id_number": other_id, "birth_date": "1985-06-12", "gender": gender_of(&other_id)}),
    )
    .await;
    reply.assert_problem(409, "conflict");
    assert_eq!(get(&app, sec, &path).await.header("etag"), Some("\"2\""));

    // A corrected ID number: the old one is free again, the new one taken.
    let new_id = pid(3);
    let reply = patch_member(
        &app,
        sec,
        &mid,
        Some("\"2\""),
        &json!({"id_number": new_id, "gender": gender_of(&new_id)}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["id_number"], masked_id(&new_id));
    assert!(!reply.text().contains(&new_id));
    let revealed = get(&app, sec, &format!("{path}?reveal=pii")).await.json();
    assert_eq!(revealed["id_number"], new_id.as_str());
    assert_eq!(revealed["phone"], "13900001111");
    post_member(&app, sec, &member_body("王芳", &w.branch_a, &new_id))
        .await
        .assert_problem(409, "conflict");
    create_member(&app, sec, member_body("王芳", &w.branch_a, &pid(1))).await;

    // Old and new ID and phone numbers stay out of the audit trail.
    let trail = serde_json::to_string(&audit_of(&app, &w, &mid).await).unwrap();
    assert!(trail.contains("程俊"), "the edit is audited: {trail}");
    assert!(
        !trail.contains("13812345678") && !trail.contains("13900001111"),
        "{trail}"
    );
    assert!(!trail.contains(&pid(1)) && !trail.contains(&new_id), "{trail}");
}

#[actix_web::test]
async fn a_transfer_moves_a_member_to_another_branch_and_is_kept_in_history() {
    let (app, w) = setup().await;
    let admin = w.token("admin");
    let mut body = member_body("程军", &w.branch_a, &pid(1));
    body["group_id"] = json!(w.group_a);
    let member = create_member(&app, w.token("sec_a"), body).await;
    let mid = id_of(&member);
    let other = new_member(&app, w.token("sec_a"), "李四", &w.branch_a, 2).await;
    let oid = id_of(&other);
    let to_b = json!({"org_id": w.branch_b, "group_id": w.group_b});
    let linked = link_member(&app, admin, w.user("member_a"), &mid).await;
    assert_eq!(linked.status, 200, "{}", linked.text());

    transfer(&app, admin, &mid, None, &to_b)
        .await
        .assert_problem(428, "precondition_required");
    transfer(&app, admin, &mid, Some("\"5\""), &to_b)
        .await
        .assert_problem(412, "precondition_failed");
    // sec_a cannot move a member out of their scope.
    transfer(
        &app,
        w.token("sec_a"),
        &oid,
        Some("\"1\""),
        &json!({"org_id": w.branch_b}),
    )
    .await
    .assert_problem(404, "not_found");
    // A group of another branch.
    let reply = transfer(
        &app,
        admin,
        &oid,
        Some("\"1\""),
        &json!({"org_id": w.branch_b, "group_id": w.group_a}),
    )
    .await;
    assert_field_error(&reply, "/group_id", None);
    let unchanged = get(&app, admin, &format!("/api/v1/members/{oid}")).await;
    assert_eq!(unchanged.header("etag"), Some("\"1\""));
    assert_eq!(unchanged.json()["org_id"], w.branch_a.as_str());

    let reply = transfer(&app, admin, &mid, Some("\"1\""), &to_b).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("etag"), Some("\"2\""));
    let moved = reply.json();
    assert_eq!(moved["org_id"], w.branch_b.as_str());
    assert_eq!(moved["group_id"], w.group_b.as_str());
    assert_eq!(moved["version"], 2);
    assert_eq!(moved["active"], true);

    // Scope follows the member.
    get(&app, w.token("sec_a"), &format!("/api/v1/members/{mid}"))
        .await
        .assert_problem(404, "not_found");
    let seen = get(&app, w.token("sec_b"), &format!("/api/v1/members/{mid}")).await;
    assert_eq!(seen.status, 200, "{}", seen.text());
    assert_eq!(names(&members(&app, w.token("sec_a"), "").await), vec!["李四"]);
    assert_eq!(names(&members(&app, w.token("sec_b"), "").await), vec!["程军"]);
    assert_eq!(
        names(&members(&app, w.token("leader_a"), "").await),
        Vec::<String>::new()
    );
    // The member still sees their own record, wherever it is now.
    let own = get(&app, w.token("member_a"), &format!("/api/v1/members/{mid}")).await;
    assert_eq!(own.status, 200, "{}", own.text());
    assert_eq!(names(&members(&app, w.token("member_a"), "").await), vec!["程军"]);

    let reply = get(&app, w.token("sec_b"), &format!("/api/v1/members/{mid}/history")).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let history = reply.json();
    let items = history["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{history}");
    let step = &items[0];
    assert_eq!(step["from_org_id"], w.branch_a.as_str());
    assert_eq!(step["to_org_id"], w.branch_b.as_str());
    assert_eq!(step["from_group_id"], w.group_a.as_str());
    assert_eq!(step["to_group_id"], w.group_b.as_str());
    assert_eq!(step["actor_user_id"], w.user("admin"));
    assert!(step["moved_at"].is_string(), "{step}");

    // The member who stayed has no history.
    let history = get(&app, admin, &format!("/api/v1/members/{oid}/history")).await.json();
    assert_eq!(history["items"], json!([]));
}

#[actix_web::test]
async fn leaving_deactivates_without_deleting_and_frees_the_id_number() {
    let (app, w) = setup().await;
    let sec = w.token("sec_a");
    let id = pid(1);
    let member = create_member(&app, sec, member_body("程军", &w.branch_a, &id)).await;
    let mid = id_of(&member);
    let stays = new_member(&app, sec, "李四", &w.branch_a, 2).await;
    let departure = json!({"reason": "deceased", "left_on": "2024-05-01", "note": "病故"});

    leave(&app, sec, &mid, None, &departure)
        .await
        .assert_problem(428, "precondition_required");
    let reply = leave(
        &app,
        sec,
        &mid,
        Some("\"1\""),
        &json!({"reason": "retired", "left_on": "2024-05-01"}),
    )
    .await;
    assert_field_error(&reply, "/reason", None);
    let reply = leave(
        &app,
        sec,
        &mid,
        Some("\"1\""),
        &json!({"reason": "other", "left_on": "2024-02-30"}),
    )
    .await;
    assert_field_error(&reply, "/left_on", None);
    leave(&app, w.token("sec_b"), &mid, Some("\"1\""), &departure)
        .await
        .assert_problem(404, "not_found");

    let reply = leave(&app, sec, &mid, Some("\"1\""), &departure).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("etag"), Some("\"2\""));
    let left = reply.json();
    assert_eq!(left["active"], false);
    assert_eq!(left["left_reason"], "deceased");
    assert_eq!(left["left_on"], "2024-05-01");
    assert_eq!(left["version"], 2);

    // Still there.
    let reply = get(&app, sec, &format!("/api/v1/members/{mid}")).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["active"], false);
    assert_eq!(names(&members(&app, sec, "?active=false").await), vec!["程军"]);
    assert_eq!(names(&members(&app, sec, "?active=true").await), vec!["李四"]);
    assert_eq!(
        id_of(&members(&app, sec, "?active=true").await["items"][0]),
        id_of(&stays)
    );

    // Its ID number may be used by a new active member — but only by one.
    let again = create_member(&app, sec, member_body("程军", &w.branch_a, &id)).await;
    assert_eq!(again["active"], true);
    assert_ne!(id_of(&again), mid);
    post_member(&app, w.token("sec_b"), &member_body("程军", &w.branch_b, &id))
        .await
        .assert_problem(409, "cannot_register_here");
}

#[actix_web::test]
async fn lists_filter_sort_and_paginate() {
    let (app, w) = setup().await;
    let admin = w.token("admin");
    let mut a = member_body("党员A", &w.branch_a, &pid(1));
    a["group_id"] = json!(w.group_a);
    a["status"] = json!("probationary");
    a["joined_on"] = json!("2015-07-01");
    let mut b = member_body("党员B", &w.branch_a, &pid(2));
    b["rural"] = json!(false);
    b["joined_on"] = json!("2020-07-01");
    let mut c = member_body("党员C", &w.branch_b, &pid(3));
    c["group_id"] = json!(w.group_b);
    c["joined_on"] = json!("2010-07-01");
    // Created out of name order.
    for body in [c, a, b] {
        create_member(&app, admin, body).await;
    }

    for (query, expected) in [
        ("", vec!["党员A", "党员B", "党员C"]),
        ("?sort=name", vec!["党员A", "党员B", "党员C"]),
        ("?sort=-name", vec!["党员C", "党员B", "党员A"]),
        ("?sort=joined_on", vec!["党员C", "党员A", "党员B"]),
        ("?sort=-joined_on", vec!["党员B", "党员A", "党员C"]),
        ("?status=probationary", vec!["党员A"]),
        ("?status=full", vec!["党员B", "党员C"]),
        ("?rural=false", vec!["党员B"]),
        ("?rural=true", vec!["党员A", "党员C"]),
        ("?active=true", vec!["党员A", "党员B", "党员C"]),
        ("?active=false", vec![]),
    ] {
        assert_eq!(names(&members(&app, admin, query).await), expected, "{query}");
    }
    for (query, expected) in [
        (format!("?group_id={}", w.group_a), vec!["党员A"]),
        (format!("?group_id={}", w.group_b), vec!["党员C"]),
        (format!("?org_id={}", w.root), vec!["党员A", "党员B", "党员C"]),
        (format!("?org_id={}", w.branch_a), vec!["党员A", "党员B"]),
        (format!("?org_id={}", w.branch_b), vec!["党员C"]),
        (format!("?org_id={}&rural=true", w.branch_a), vec!["党员A"]),
        (format!("?org_id={}&sort=-name", w.branch_a), vec!["党员B", "党员A"]),
    ] {
        assert_eq!(names(&members(&app, admin, &query).await), expected, "{query}");
    }

    // One at a time, following the cursor, in a non-default order.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for round in 0..3 {
        let query = match &cursor {
            None => "?sort=-joined_on&limit=1&include_total=true".to_owned(),
            Some(c) => format!("?sort=-joined_on&limit=1&include_total=true&cursor={c}"),
        };
        let page = members(&app, admin, &query).await;
        assert_eq!(page["total"], 3, "{page}");
        assert_eq!(page["items"].as_array().unwrap().len(), 1);
        seen.extend(names(&page));
        cursor = page["next_cursor"].as_str().map(str::to_owned);
        assert_eq!(cursor.is_some(), round < 2, "next_cursor on page {round}: {page}");
    }
    assert_eq!(seen, vec!["党员B", "党员A", "党员C"]);
    let page = members(&app, admin, "?limit=2").await;
    assert_eq!(names(&page), vec!["党员A", "党员B"]);
    let next = page["next_cursor"].as_str().expect("a second page");
    assert_eq!(
        names(&members(&app, admin, &format!("?limit=2&cursor={next}")).await),
        vec!["党员C"]
    );

    // Unknown parameters and values are refused.
    for query in [
        "?colour=red",
        "?status=candidate",
        "?sort=age",
        "?rural=maybe",
        "?post=king",
    ] {
        get(&app, admin, &format!("/api/v1/members{query}"))
            .await
            .assert_problem(400, "invalid_query");
    }
}

#[actix_web::test]
async fn search_matches_the_name_its_pinyin_and_its_initials() {
    let (app, w) = setup().await;
    let admin = w.token("admin");
    new_member(&app, admin, "程军", &w.branch_a, 1).await;
    new_member(&app, admin, "李四", &w.branch_a, 2).await;
    new_member(&app, admin, "王芳", &w.branch_a, 3).await;
    new_member(&app, admin, "陈杰", &w.branch_b, 4).await;

    for (q, expected) in [
        ("cj", vec!["程军", "陈杰"]),
        ("chengjun", vec!["程军"]),
        ("%E7%A8%8B", vec!["程军"]),          // 程
        ("%E7%A8%8B%E5%86%9B", vec!["程军"]), // 程军
        ("ls", vec!["李四"]),
        ("wangfang", vec!["王芳"]),
        ("chenjie", vec!["陈杰"]),
        ("zz", vec![]),
    ] {
        let mut found = names(&members(&app, admin, &format!("?q={q}")).await);
        found.sort();
        let mut expected: Vec<String> = expected.into_iter().map(str::to_owned).collect();
        expected.sort();
        assert_eq!(found, expected, "?q={q}");
    }
    // Search stays inside the caller's scope.
    assert_eq!(names(&members(&app, w.token("sec_a"), "?q=cj").await), vec!["程军"]);
    assert_eq!(names(&members(&app, w.token("sec_b"), "?q=cj").await), vec!["陈杰"]);
}

fn csv_lines(reply: &Reply) -> Vec<String> {
    assert_eq!(reply.status, 200, "{}", reply.text());
    let content_type = reply.header("content-type").unwrap_or_default();
    assert!(content_type.starts_with("text/csv"), "content-type {content_type}");
    assert!(
        reply.body.starts_with(&[0xEF, 0xBB, 0xBF]),
        "no UTF-8 BOM: {:?}",
        &reply.body[..reply.body.len().min(8)]
    );
    let text = std::str::from_utf8(&reply.body[3..]).expect("UTF-8");
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

async fn export(app: &TestApp, token: &str, query: &str) -> Reply {
    send(
        app.server
            .get(format!("/api/v1/members{query}"))
            .bearer_auth(token)
            .insert_header(("Accept", "text/csv")),
    )
    .await
}

#[actix_web::test]
async fn csv_export_is_masked_scoped_and_reveals_only_when_allowed() {
    let (app, w) = setup().await;
    let mut a1 = member_body("程军", &w.branch_a, &pid(1));
    a1["phone"] = json!("13812345678");
    create_member(&app, w.token("sec_a"), a1).await;
    new_member(&app, w.token("sec_a"), "李四", &w.branch_a, 2).await;
    new_member(&app, w.token("sec_b"), "王芳", &w.branch_b, 3).await;

    let reply = export(&app, w.token("sec_a"), "").await;
    let lines = csv_lines(&reply);
    assert_eq!(lines.len(), 3, "header + 2 members: {lines:?}");
    assert!(
        lines[0].contains("id_number") || lines[0].contains("身份证号"),
        "header row: {}",
        lines[0]
    );
    let body = lines.join("\n");
    assert!(body.contains("程军") && body.contains("李四"), "{body}");
    assert!(!body.contains("王芳"), "another branch's member exported: {body}");
    assert!(
        body.contains(&masked_id(&pid(1))) && body.contains("138****5678"),
        "{body}"
    );
    for secret in [
        pid(1),
        pid(2),
        pid(3),
        "13812345678".to_owned(),
        "1985-06-12".to_owned(),
    ] {
        assert!(!body.contains(&secret), "unmasked {secret} in {body}");
    }

    // The admin gets everyone; filters apply.
    assert_eq!(csv_lines(&export(&app, w.token("admin"), "").await).len(), 4);
    let only_b = csv_lines(&export(&app, w.token("admin"), &format!("?org_id={}", w.branch_b)).await);
    assert_eq!(only_b.len(), 2, "{only_b:?}");
    assert!(only_b[1].contains("王芳"));
    // The inspector too, masked.
    let inspected = csv_lines(&export(&app, w.token("inspector"), "").await).join("\n");
    assert!(!inspected.contains(&pid(3)) && inspected.contains("王芳") && inspected.contains(&masked_id(&pid(3))));

    // Revealed for the secretary, audited.
    let before = whole_audit_trail(&app, &w).await.len();
    let revealed = csv_lines(&export(&app, w.token("sec_a"), "?reveal=pii").await).join("\n");
    assert!(revealed.contains(&pid(1)) && revealed.contains(&pid(2)), "{revealed}");
    assert!(revealed.contains("13812345678"), "{revealed}");
    assert!(!revealed.contains(&pid(3)) && !revealed.contains("王芳"), "{revealed}");
    let trail = whole_audit_trail(&app, &w).await;
    assert!(trail.len() > before, "revealing export not audited");
    let newest = &trail[0];
    assert_eq!(newest["actor_user_id"], w.user("sec_a"), "{newest}");
    assert!(
        newest["action"].as_str().unwrap().contains("reveal") || newest["action"].as_str().unwrap().contains("export"),
        "{newest}"
    );
    let trail = serde_json::to_string(&trail).unwrap();
    assert!(!trail.contains(&pid(1)) && !trail.contains("13812345678"));

    // Not for those who may not reveal.
    for user in ["inspector", "leader_a"] {
        export(&app, w.token(user), "?reveal=pii")
            .await
            .assert_problem(403, "forbidden");
    }
}

/// Who holds which post in `org` now (as admin).
async fn org_posts(app: &TestApp, w: &World, org: &str) -> Vec<Value> {
    let reply = get(app, w.token("admin"), &format!("/api/v1/orgs/{org}/posts")).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()["items"].as_array().expect("items").clone()
}

#[actix_web::test]
async fn posts_are_held_listed_per_org_and_ended() {
    let (app, w) = setup().await;
    let sec = w.token("sec_a");
    let mut body = member_body("程军", &w.branch_a, &pid(1));
    body["group_id"] = json!(w.group_a);
    let member = create_member(&app, sec, body).await;
    let mid = id_of(&member);
    new_member(&app, sec, "李四", &w.branch_a, 2).await;
    let posts_path = format!("/api/v1/members/{mid}/posts");

    let pioneer = json!({"kind": "pioneer_post", "title": "党员先锋岗", "duty": "环境整治",
        "org_id": w.branch_a, "start_on": "2024-01-01"});
    let reply = send_json(app.server.post(&posts_path).bearer_auth(sec), &pioneer).await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    let post = reply.json();
    let post_id = id_of(&post);
    assert_eq!(post["kind"], "pioneer_post");
    assert_eq!(post["title"], "党员先锋岗");
    assert_eq!(post["duty"], "环境整治");
    assert_eq!(post["org_id"], w.branch_a.as_str());
    assert_eq!(post["start_on"], "2024-01-01");
    assert!(post["end_on"].is_null(), "{post}");
    let leader_post = json!({"kind": "group_leader", "org_id": w.group_a, "start_on": "2023-03-01"});
    let reply = send_json(app.server.post(&posts_path).bearer_auth(sec), &leader_post).await;
    assert_eq!(reply.status, 201, "{}", reply.text());

    // Refused: an unknown kind, an end before the start, someone else's branch, other roles.
    let reply = send_json(
        app.server.post(&posts_path).bearer_auth(sec),
        &json!({"kind": "king", "org_id": w.branch_a, "start_on": "2024-01-01"}),
    )
    .await;
    assert_field_error(&reply, "/kind", None);
    let reply = send_json(
        app.server.post(&posts_path).bearer_auth(sec),
        &json!({"kind": "other", "title": "信息员", "org_id": w.branch_a, "start_on": "2024-01-01",
            "end_on": "2023-01-01"}),
    )
    .await;
    assert_field_error(&reply, "/end_on", None);
    send_json(
        app.server.post(&posts_path).bearer_auth(sec),
        &json!({"kind": "other", "title": "信息员", "org_id": w.branch_b, "start_on": "2024-01-01"}),
    )
    .await
    .assert_problem(404, "not_found");
    send_json(app.server.post(&posts_path).bearer_auth(w.token("sec_b")), &pioneer)
        .await
        .assert_problem(404, "not_found");
    for user in ["leader_a", "member_a"] {
        send_json(app.server.post(&posts_path).bearer_auth(w.token(user)), &pioneer)
            .await
            .assert_problem(403, "forbidden");
    }

    let held = get(&app, sec, &posts_path).await;
    assert_eq!(held.status, 200, "{}", held.text());
    let mut kinds: Vec<String> = held.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["kind"].as_str().unwrap().to_owned())
        .collect();
    kinds.sort();
    assert_eq!(kinds, vec!["group_leader", "pioneer_post"]);

    // Who holds what in the branch now.
    let in_branch = org_posts(&app, &w, &w.branch_a).await;
    let found = in_branch
        .iter()
        .find(|p| p["id"] == post_id.as_str())
        .unwrap_or_else(|| panic!("pioneer post not listed: {in_branch:?}"));
    assert_eq!(found["member_id"], mid.as_str());
    assert_eq!(found["member_name"], "程军");
    assert_eq!(found["kind"], "pioneer_post");
    let in_group = org_posts(&app, &w, &w.group_a).await;
    assert!(
        in_group
            .iter()
            .any(|p| p["kind"] == "group_leader" && p["member_id"] == mid.as_str()),
        "{in_group:?}"
    );
    assert!(org_posts(&app, &w, &w.branch_b).await.is_empty());
    get(&app, w.token("sec_b"), &format!("/api/v1/orgs/{}/posts", w.branch_a))
        .await
        .assert_problem(404, "not_found");

    // The member list finds the holders, in the caller's scope.
    assert_eq!(names(&members(&app, sec, "?post=pioneer_post").await), vec!["程军"]);
    assert_eq!(
        names(&members(&app, w.token("sec_b"), "?post=pioneer_post").await),
        Vec::<String>::new()
    );
    assert_eq!(
        names(&members(&app, sec, "?post=first_secretary").await),
        Vec::<String>::new()
    );

    // Ending the post.
    let end_path = format!("{posts_path}/{post_id}/end");
    let reply = send_json(
        app.server.post(&end_path).bearer_auth(sec),
        &json!({"end_on": "2023-06-30"}),
    )
    .await;
    assert_field_error(&reply, "/end_on", None);
    let reply = send_json(
        app.server.post(&end_path).bearer_auth(sec),
        &json!({"end_on": "2024-06-30"}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["end_on"], "2024-06-30");

    let in_branch = org_posts(&app, &w, &w.branch_a).await;
    assert!(
        !in_branch.iter().any(|p| p["id"] == post_id.as_str()),
        "an ended post is still listed: {in_branch:?}"
    );
    assert_eq!(
        names(&members(&app, sec, "?post=pioneer_post").await),
        Vec::<String>::new()
    );
    assert_eq!(names(&members(&app, sec, "?post=group_leader").await), vec!["程军"]);
    // The member's own list keeps the ended post, with its end date.
    let held = get(&app, sec, &posts_path).await.json();
    let ended = held["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == post_id.as_str())
        .unwrap_or_else(|| panic!("ended post gone from the member's posts: {held}"));
    assert_eq!(ended["end_on"], "2024-06-30");
}

/// The text of every column of every row of `table`, whatever the column types.
async fn raw_rows(app: &TestApp, table: &str) -> Vec<Vec<(String, String)>> {
    let backend = app.db.get_database_backend();
    let rows = app
        .db
        .query_all_raw(Statement::from_string(backend, format!("SELECT * FROM {table}")))
        .await
        .unwrap_or_else(|e| panic!("SELECT * FROM {table}: {e}"));
    rows.iter()
        .map(|row| {
            row.column_names()
                .into_iter()
                .enumerate()
                .map(|(i, name)| {
                    let text = if let Ok(Some(s)) = row.try_get_by_index::<Option<String>>(i) {
                        s
                    } else if let Ok(Some(b)) = row.try_get_by_index::<Option<Vec<u8>>>(i) {
                        String::from_utf8_lossy(&b).into_owned()
                    } else {
                        String::new()
                    };
                    (name, text)
                })
                .collect()
        })
        .collect()
}

#[actix_web::test]
async fn stored_pii_is_not_readable_in_the_database() {
    let (app, w) = setup().await;
    let id = id_number("340822", "19800101", "123");
    let phone = "13812345678";
    let mut body = member_body("程军", &w.branch_a, &id);
    body["phone"] = json!(phone);
    create_member(&app, w.token("sec_a"), body).await;

    let rows = raw_rows(&app, "members").await;
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    let columns: Vec<&str> = row.iter().map(|(name, _)| name.as_str()).collect();
    for expected in ["id_number_enc", "phone_enc", "id_number_hash"] {
        let (_, text) = row
            .iter()
            .find(|(name, _)| name == expected)
            .unwrap_or_else(|| panic!("no column {expected} in {columns:?}"));
        assert!(text.len() >= 16, "column {expected} was not read or is empty: {text:?}");
    }
    // Neither the numbers nor long runs of their digits appear anywhere in the row.
    let windows = |s: &str, n: usize| -> Vec<String> { (0..=s.len() - n).map(|i| s[i..i + n].to_owned()).collect() };
    let mut secrets = windows(&id, 10);
    secrets.extend(windows(phone, 8));
    for (name, text) in row {
        for secret in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "column {name} holds {secret} (from the ID number or phone): {text}"
            );
        }
    }
    // Not even the masked forms' hidden digits come back through the API.
    let listed = get(&app, w.token("admin"), "/api/v1/members").await.text();
    assert!(!listed.contains(&id) && !listed.contains(phone));
}

#[actix_web::test]
async fn personal_data_that_cannot_be_decrypted_is_a_server_error_not_a_blank() {
    let (app, w) = setup().await;
    let mut body = member_body("程军", &w.branch_a, &pid(7));
    body["phone"] = json!("13812345678");
    let created = create_member(&app, w.token("sec_a"), body).await;
    let id = created["id"].as_str().unwrap().to_owned();
    // As after a wrong DANGJIAN_DATA_KEY or a damaged row.
    let backend = app.db.get_database_backend();
    let sql = match backend {
        sea_orm::DatabaseBackend::Postgres => "UPDATE members SET phone_enc = 'AAAAAAAAAAAAAAAAAAAAAAAA' WHERE id = $1",
        _ => "UPDATE members SET phone_enc = 'AAAAAAAAAAAAAAAAAAAAAAAA' WHERE id = ?",
    };
    let uuid: uuid::Uuid = id.parse().unwrap();
    app.db
        .execute_raw(Statement::from_sql_and_values(backend, sql, [uuid.into()]))
        .await
        .unwrap();
    let path = format!("/api/v1/members/{id}");
    get(&app, w.token("sec_a"), &path)
        .await
        .assert_problem(500, "internal_error");
    // An edit is refused the same way, not with a misleading 422 about the phone.
    let reply = send_json(
        app.server
            .patch(&path)
            .bearer_auth(w.token("sec_a"))
            .insert_header(("If-Match", "\"1\"")),
        &json!({"address": "司山村"}),
    )
    .await;
    reply.assert_problem(500, "internal_error");
}

#[actix_web::test]
async fn an_organisations_posts_show_only_holders_the_caller_may_read() {
    let (app, mut w) = setup().await;
    let people = world::pledge_members(&app, &mut w).await;
    for (member, title) in [(people.cheng_id(), "道路维护岗"), (people.wang_id(), "政策宣传岗")] {
        let reply = send_json(
            app.server
                .post(format!("/api/v1/members/{member}/posts"))
                .bearer_auth(w.token("admin")),
            &json!({"kind": "pioneer_post", "title": title, "duty": "每月巡查", "org_id": w.branch_a, "start_on": "2017-01-01"}),
        )
        .await;
        assert_eq!(reply.status, 201, "{}", reply.text());
    }
    let path = format!("/api/v1/orgs/{}/posts", w.branch_a);
    let titles = |reply: Reply| -> Vec<String> {
        reply.json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["title"].as_str().unwrap().to_owned())
            .collect()
    };
    let mut all = titles(get(&app, w.token("sec_a"), &path).await);
    all.sort();
    assert_eq!(all, vec!["政策宣传岗", "道路维护岗"]);
    // member_a is 程军: his own post only, no other member's name.
    let own = get(&app, w.token("member_a"), &path).await;
    assert!(!own.text().contains("王书记"), "{}", own.text());
    assert_eq!(titles(own), vec!["道路维护岗"]);
}
