//! Villages, communities and villager groups through the API: creation by a branch's
//! secretary, scope, rename with If-Match, grid groups and the delete guard on orgs.

mod common;

use common::world::{self, World, create, get};
use common::{Reply, TestApp, send, send_json, spawn_app};
use serde_json::{Value, json};

async fn setup() -> (TestApp, World) {
    let app = spawn_app().await;
    let w = world::build(&app).await;
    (app, w)
}

async fn post(app: &TestApp, token: &str, path: &str, body: &Value) -> Reply {
    send_json(app.server.post(path).bearer_auth(token), body).await
}

async fn rename(app: &TestApp, token: &str, path: &str, if_match: Option<&str>, name: &str) -> Reply {
    let mut req = app.server.patch(path).bearer_auth(token);
    if let Some(tag) = if_match {
        req = req.insert_header(("If-Match", tag));
    }
    send_json(req, &json!({"name": name})).await
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_owned())
        .collect()
}

fn assert_field_error(body: &Value, pointer: &str, code: &str) {
    let errors = body["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{body}");
    assert_eq!(errors[0]["pointer"], pointer, "{body}");
    assert_eq!(errors[0]["code"], code, "{body}");
}

/// How many villages the admin sees.
async fn village_count(app: &TestApp, w: &World) -> u64 {
    let reply = get(app, w.token("admin"), "/api/v1/villages?include_total=true").await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()["total"].as_u64().expect("total")
}

/// How many villager groups the admin sees.
async fn villager_group_count(app: &TestApp, w: &World) -> u64 {
    let reply = get(app, w.token("admin"), "/api/v1/villager-groups?include_total=true").await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()["total"].as_u64().expect("total")
}

/// 大洼社区, served by 支部A, created by its secretary; returns its id.
async fn dawa(app: &TestApp, w: &World) -> String {
    let body = json!({"kind": "community", "name": "大洼社区", "org_id": w.branch_a});
    create(app, w.token("sec_a"), "/api/v1/villages", body).await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// 大洼社区's 司山村民组 (created by sec_a); returns the villager group's id.
async fn sishan(app: &TestApp, w: &World) -> String {
    let village = dawa(app, w).await;
    create(
        app,
        w.token("sec_a"),
        "/api/v1/villager-groups",
        json!({"village_id": village, "name": "司山村民组"}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[actix_web::test]
async fn a_branch_secretary_registers_villages_for_their_branch_only() {
    let (app, w) = setup().await;
    let sec_a = w.token("sec_a");
    let sec_b = w.token("sec_b");

    let reply = post(
        &app,
        sec_a,
        "/api/v1/villages",
        &json!({"kind": "community", "name": "大洼社区", "org_id": w.branch_a}),
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    let village = reply.json();
    let id = village["id"].as_str().unwrap().to_owned();
    assert_eq!(village["kind"], "community");
    assert_eq!(village["name"], "大洼社区");
    assert_eq!(village["org_id"], w.branch_a.as_str());
    assert_eq!(village["version"], 1);
    assert_eq!(
        reply.header("location"),
        Some(format!("/api/v1/villages/{id}").as_str())
    );
    assert_eq!(reply.header("etag"), Some("\"1\""));

    // Stored as returned.
    let reread = get(&app, sec_a, &format!("/api/v1/villages/{id}")).await;
    assert_eq!(reread.status, 200, "{}", reread.text());
    assert_eq!(reread.header("etag"), Some("\"1\""));
    assert_eq!(reread.json()["name"], "大洼社区");
    assert_eq!(reread.json()["org_id"], w.branch_a.as_str());
    assert_eq!(village_count(&app, &w).await, 1);

    // A village is served by a branch, not a group.
    let reply = post(
        &app,
        sec_a,
        "/api/v1/villages",
        &json!({"kind": "village", "name": "司山村", "org_id": w.group_a}),
    )
    .await;
    let body = reply.assert_problem(422, "validation_failed");
    assert_field_error(&body, "/org_id", "not_a_branch");
    // Nor by the committee.
    let reply = post(
        &app,
        w.token("admin"),
        "/api/v1/villages",
        &json!({"kind": "village", "name": "司山村", "org_id": w.root}),
    )
    .await;
    let body = reply.assert_problem(422, "validation_failed");
    assert_field_error(&body, "/org_id", "not_a_branch");

    // Another branch's secretary cannot register one for 支部A: it is not in their scope.
    let reply = post(
        &app,
        sec_b,
        "/api/v1/villages",
        &json!({"kind": "village", "name": "司山村", "org_id": w.branch_a}),
    )
    .await;
    reply.assert_problem(404, "not_found");

    // Roles that may not manage places: 403.
    for who in ["member_a", "inspector"] {
        let reply = post(
            &app,
            w.token(who),
            "/api/v1/villages",
            &json!({"kind": "village", "name": "司山村", "org_id": w.branch_a}),
        )
        .await;
        reply.assert_problem(403, "forbidden");
    }

    // Bad names and kinds.
    let reply = post(
        &app,
        sec_a,
        "/api/v1/villages",
        &json!({"kind": "village", "name": " ", "org_id": w.branch_a}),
    )
    .await;
    let body = reply.assert_problem(422, "validation_failed");
    assert_field_error(&body, "/name", "length");
    let reply = post(
        &app,
        sec_a,
        "/api/v1/villages",
        &json!({"kind": "town", "name": "司山村", "org_id": w.branch_a}),
    )
    .await;
    let body = reply.assert_problem(422, "validation_failed");
    assert_eq!(body["errors"][0]["pointer"], "/kind", "{body}");

    // None of the refused requests created anything.
    assert_eq!(village_count(&app, &w).await, 1);
}

#[actix_web::test]
async fn villages_are_visible_only_inside_the_serving_branch_scope() {
    let (app, w) = setup().await;
    let id = dawa(&app, &w).await;
    let b_village = create(
        &app,
        w.token("sec_b"),
        "/api/v1/villages",
        json!({"kind": "village", "name": "司山村", "org_id": w.branch_b}),
    )
    .await;
    let b_id = b_village["id"].as_str().unwrap().to_owned();

    let list_a = get(&app, w.token("sec_a"), "/api/v1/villages").await;
    assert_eq!(list_a.status, 200, "{}", list_a.text());
    assert_eq!(ids(&list_a.json()), vec![id.clone()]);
    // A member of the branch reads it too.
    let list = get(&app, w.token("member_a"), "/api/v1/villages").await.json();
    assert_eq!(ids(&list), vec![id.clone()]);

    let list_b = get(&app, w.token("sec_b"), "/api/v1/villages").await.json();
    assert_eq!(ids(&list_b), vec![b_id.clone()]);
    assert!(!ids(&list_b).contains(&id));

    let reply = get(&app, w.token("sec_b"), &format!("/api/v1/villages/{id}")).await;
    reply.assert_problem(404, "not_found");
    let reply = get(&app, w.token("sec_a"), &format!("/api/v1/villages/{b_id}")).await;
    reply.assert_problem(404, "not_found");

    // The admin sees both, sorted by name (司 U+53F8 before 大 U+5927); ?org_id= narrows to
    // one branch's subtree.
    let all = get(&app, w.token("admin"), "/api/v1/villages").await.json();
    assert_eq!(ids(&all), vec![b_id.clone(), id.clone()]);
    let only_b = get(
        &app,
        w.token("admin"),
        &format!("/api/v1/villages?org_id={}", w.branch_b),
    )
    .await
    .json();
    assert_eq!(ids(&only_b), vec![b_id.clone()]);
    let reply = get(
        &app,
        w.token("sec_a"),
        &format!("/api/v1/villages?org_id={}", w.branch_b),
    )
    .await;
    reply.assert_problem(404, "not_found");
    let q = get(&app, w.token("admin"), "/api/v1/villages?q=%E5%A4%A7%E6%B4%BC")
        .await
        .json();
    assert_eq!(ids(&q), vec![id.clone()]);

    // Paging one at a time.
    let page = get(&app, w.token("admin"), "/api/v1/villages?limit=1").await.json();
    assert_eq!(ids(&page), vec![b_id.clone()]);
    let cursor = page["next_cursor"].as_str().expect("next_cursor").to_owned();
    let page = get(
        &app,
        w.token("admin"),
        &format!("/api/v1/villages?limit=1&cursor={cursor}"),
    )
    .await
    .json();
    assert_eq!(ids(&page), vec![id.clone()]);
    assert!(page["next_cursor"].is_null());
}

#[actix_web::test]
async fn renaming_a_village_needs_a_current_if_match() {
    let (app, w) = setup().await;
    let id = dawa(&app, &w).await;
    let path = format!("/api/v1/villages/{id}");
    let sec_a = w.token("sec_a");

    let reply = rename(&app, sec_a, &path, None, "大洼新社区").await;
    reply.assert_problem(428, "precondition_required");
    let reply = rename(&app, sec_a, &path, Some("\"5\""), "大洼新社区").await;
    reply.assert_problem(412, "precondition_failed");
    assert_eq!(get(&app, sec_a, &path).await.json()["name"], "大洼社区");

    let reply = rename(&app, sec_a, &path, Some("\"1\""), "大洼新社区").await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("etag"), Some("\"2\""));
    let body = reply.json();
    assert_eq!(body["name"], "大洼新社区");
    assert_eq!(body["version"], 2);
    assert_eq!(body["kind"], "community");
    assert_eq!(body["org_id"], w.branch_a.as_str());

    let reread = get(&app, sec_a, &path).await;
    assert_eq!(reread.header("etag"), Some("\"2\""));
    assert_eq!(reread.json()["name"], "大洼新社区");

    // The first tag is stale now.
    let reply = rename(&app, sec_a, &path, Some("\"1\""), "又一个名字").await;
    reply.assert_problem(412, "precondition_failed");
    // sec_b cannot rename it at all.
    let reply = rename(&app, w.token("sec_b"), &path, Some("\"2\""), "越权").await;
    reply.assert_problem(404, "not_found");
    assert_eq!(get(&app, sec_a, &path).await.json()["name"], "大洼新社区");

    // The rename is audited.
    let events = get(&app, w.token("admin"), &format!("/api/v1/audit-events?entity_id={id}"))
        .await
        .json();
    let latest = &events["items"][0];
    assert_eq!(latest["action"], "village.rename");
    assert_eq!(latest["org_id"], w.branch_a.as_str());
    assert_eq!(latest["changes"]["before"]["name"], "大洼社区");
    assert_eq!(latest["changes"]["after"]["name"], "大洼新社区");
}

#[actix_web::test]
async fn villager_groups_belong_to_a_village_in_scope() {
    let (app, w) = setup().await;
    let sec_a = w.token("sec_a");
    let village = dawa(&app, &w).await;
    let other_village = create(
        &app,
        sec_a,
        "/api/v1/villages",
        json!({"kind": "village", "name": "司山村", "org_id": w.branch_a}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let reply = post(
        &app,
        sec_a,
        "/api/v1/villager-groups",
        &json!({"village_id": village, "name": "司山村民组"}),
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    let group = reply.json();
    let id = group["id"].as_str().unwrap().to_owned();
    assert_eq!(group["village_id"], village.as_str());
    assert_eq!(group["name"], "司山村民组");
    assert_eq!(group["version"], 1);
    assert_eq!(
        reply.header("location"),
        Some(format!("/api/v1/villager-groups/{id}").as_str())
    );
    assert_eq!(reply.header("etag"), Some("\"1\""));

    let other = create(
        &app,
        sec_a,
        "/api/v1/villager-groups",
        json!({"village_id": other_village, "name": "东头村民组"}),
    )
    .await;
    let other_id = other["id"].as_str().unwrap().to_owned();

    // ?village_id= keeps one village's groups.
    let all = get(&app, sec_a, "/api/v1/villager-groups").await;
    assert_eq!(all.status, 200, "{}", all.text());
    let mut all_ids = ids(&all.json());
    all_ids.sort();
    let mut expected = vec![id.clone(), other_id.clone()];
    expected.sort();
    assert_eq!(all_ids, expected);
    let filtered = get(&app, sec_a, &format!("/api/v1/villager-groups?village_id={village}"))
        .await
        .json();
    assert_eq!(ids(&filtered), vec![id.clone()]);
    let filtered = get(
        &app,
        sec_a,
        &format!("/api/v1/villager-groups?village_id={other_village}"),
    )
    .await
    .json();
    assert_eq!(ids(&filtered), vec![other_id.clone()]);

    // Another branch sees none of them, by list, filter or id, and cannot add to the village.
    let sec_b = w.token("sec_b");
    assert_eq!(
        get(&app, sec_b, "/api/v1/villager-groups").await.json()["items"],
        json!([])
    );
    let filtered = get(&app, sec_b, &format!("/api/v1/villager-groups?village_id={village}"))
        .await
        .json();
    assert_eq!(filtered["items"], json!([]));
    let reply = get(&app, sec_b, &format!("/api/v1/villager-groups/{id}")).await;
    reply.assert_problem(404, "not_found");
    let reply = post(
        &app,
        sec_b,
        "/api/v1/villager-groups",
        &json!({"village_id": village, "name": "越权村民组"}),
    )
    .await;
    reply.assert_problem(404, "not_found");
    let reply = post(
        &app,
        sec_a,
        "/api/v1/villager-groups",
        &json!({"village_id": uuid::Uuid::now_v7(), "name": "无村村民组"}),
    )
    .await;
    reply.assert_problem(404, "not_found");
    assert_eq!(villager_group_count(&app, &w).await, 2);

    // Rename with If-Match.
    let path = format!("/api/v1/villager-groups/{id}");
    let reply = rename(&app, sec_a, &path, None, "司山一组").await;
    reply.assert_problem(428, "precondition_required");
    let reply = rename(&app, sec_a, &path, Some("\"1\""), "司山一组").await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("etag"), Some("\"2\""));
    assert_eq!(reply.json()["name"], "司山一组");
    assert_eq!(reply.json()["version"], 2);
    let reread = get(&app, sec_a, &path).await;
    assert_eq!(reread.status, 200);
    assert_eq!(reread.header("etag"), Some("\"2\""));
    assert_eq!(reread.json()["name"], "司山一组");
    let reply = rename(&app, sec_a, &path, Some("\"1\""), "司山二组").await;
    reply.assert_problem(412, "precondition_failed");
    let reply = rename(&app, sec_b, &path, Some("\"2\""), "越权").await;
    reply.assert_problem(404, "not_found");
    assert_eq!(get(&app, sec_a, &path).await.json()["name"], "司山一组");
}

#[actix_web::test]
async fn a_grid_group_serves_a_villager_group() {
    let (app, w) = setup().await;
    let sec_a = w.token("sec_a");
    let vg = sishan(&app, &w).await;

    let reply = post(
        &app,
        sec_a,
        "/api/v1/orgs",
        &json!({"parent_id": w.branch_a, "kind": "group", "name": "司山网格党小组", "villager_group_id": vg}),
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    let grid = reply.json();
    let grid_id = grid["id"].as_str().unwrap().to_owned();
    assert_eq!(grid["villager_group_id"], vg.as_str());
    assert_eq!(grid["kind"], "group");
    assert_eq!(grid["parent_id"], w.branch_a.as_str());

    let reread = get(&app, sec_a, &format!("/api/v1/orgs/{grid_id}")).await.json();
    assert_eq!(reread["villager_group_id"], vg.as_str());
    let tree = get(&app, sec_a, &format!("/api/v1/orgs/{}/tree", w.branch_a))
        .await
        .json();
    let node = tree["children"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == grid_id.as_str())
        .expect("grid group in the tree")
        .clone();
    assert_eq!(node["villager_group_id"], vg.as_str());
    // Plain groups have none.
    let plain = get(&app, sec_a, &format!("/api/v1/orgs/{}", w.group_a)).await.json();
    assert!(plain["villager_group_id"].is_null());

    let count_before = get(&app, w.token("admin"), "/api/v1/orgs?include_total=true")
        .await
        .json()["total"]
        .clone();

    // Only groups serve villager groups.
    let reply = post(
        &app,
        w.token("admin"),
        "/api/v1/orgs",
        &json!({"parent_id": w.root, "kind": "branch", "name": "网格支部", "villager_group_id": vg}),
    )
    .await;
    let body = reply.assert_problem(422, "validation_failed");
    assert_field_error(&body, "/villager_group_id", "not_allowed");

    // A grid group serves a villager group of a village its own branch serves.
    let reply = post(
        &app,
        w.token("admin"),
        "/api/v1/orgs",
        &json!({"parent_id": w.branch_b, "kind": "group", "name": "越界网格小组", "villager_group_id": vg}),
    )
    .await;
    let body = reply.assert_problem(422, "validation_failed");
    assert_field_error(&body, "/villager_group_id", "other_branch");

    // An unknown villager group, or one outside the caller's scope.
    let reply = post(
        &app,
        sec_a,
        "/api/v1/orgs",
        &json!({"parent_id": w.branch_a, "kind": "group", "name": "无组网格", "villager_group_id": uuid::Uuid::now_v7()}),
    )
    .await;
    let body = reply.assert_problem(422, "validation_failed");
    assert_field_error(&body, "/villager_group_id", "not_found");
    let reply = post(
        &app,
        w.token("sec_b"),
        "/api/v1/orgs",
        &json!({"parent_id": w.branch_b, "kind": "group", "name": "越权网格", "villager_group_id": vg}),
    )
    .await;
    let body = reply.assert_problem(422, "validation_failed");
    assert_field_error(&body, "/villager_group_id", "not_found");

    // None of those was created.
    let count_after = get(&app, w.token("admin"), "/api/v1/orgs?include_total=true")
        .await
        .json()["total"]
        .clone();
    assert_eq!(count_after, count_before);
}

#[actix_web::test]
async fn an_org_serving_a_village_cannot_be_deleted() {
    let (app, w) = setup().await;
    let admin = w.token("admin");
    // An otherwise empty branch: no children, accounts or grants.
    let branch = create(
        &app,
        admin,
        "/api/v1/orgs",
        json!({"parent_id": w.root, "kind": "branch", "name": "支部C"}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let village = create(
        &app,
        admin,
        "/api/v1/villages",
        json!({"kind": "village", "name": "司山村", "org_id": branch}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let reply = send(
        app.server
            .delete(format!("/api/v1/orgs/{branch}"))
            .bearer_auth(admin)
            .insert_header(("If-Match", "\"1\"")),
    )
    .await;
    let body = reply.assert_problem(409, "conflict");
    assert!(body["detail"].as_str().unwrap().contains("villages"), "{body}");

    // Both are still there, unchanged.
    let org = get(&app, admin, &format!("/api/v1/orgs/{branch}")).await;
    assert_eq!(org.status, 200);
    assert_eq!(org.header("etag"), Some("\"1\""));
    let v = get(&app, admin, &format!("/api/v1/villages/{village}")).await;
    assert_eq!(v.status, 200);
    assert_eq!(v.json()["org_id"], branch.as_str());

    // The same branch without a village is deletable: the village was the only obstacle.
    let empty = create(
        &app,
        admin,
        "/api/v1/orgs",
        json!({"parent_id": w.root, "kind": "branch", "name": "支部D"}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let reply = send(
        app.server
            .delete(format!("/api/v1/orgs/{empty}"))
            .bearer_auth(admin)
            .insert_header(("If-Match", "\"1\"")),
    )
    .await;
    assert_eq!(reply.status, 204, "{}", reply.text());
}

#[actix_web::test]
async fn a_grid_group_moves_only_to_a_branch_serving_its_village() {
    let (app, w) = setup().await;
    let vg = sishan(&app, &w).await;
    let grid = create(
        &app,
        w.token("sec_a"),
        "/api/v1/orgs",
        json!({"parent_id": w.branch_a, "kind": "group", "name": "司山网格党小组", "villager_group_id": vg}),
    )
    .await;
    let grid_id = grid["id"].as_str().unwrap();
    // 支部B does not serve 大洼社区: the move is refused as creation there would be.
    let reply = send_json(
        app.server
            .post(format!("/api/v1/orgs/{grid_id}/move"))
            .bearer_auth(w.token("admin"))
            .insert_header(("If-Match", "\"1\"")),
        &json!({"parent_id": w.branch_b}),
    )
    .await;
    let body = reply.assert_problem(422, "validation_failed");
    assert_field_error(&body, "/parent_id", "other_branch");
    let unchanged = get(&app, w.token("admin"), &format!("/api/v1/orgs/{grid_id}"))
        .await
        .json();
    assert_eq!(unchanged["parent_id"], w.branch_a.as_str());
    assert_eq!(unchanged["version"], 1);
}
