//! The organisation tree through the API: structure rules, validation, reads and lists,
//! rename, move, delete, Idempotency-Key and the audit trail.

mod common;

use common::world::{self, World, create, get};
use common::{Reply, TestApp, send, send_json, spawn_app};
use serde_json::{Value, json};

async fn setup() -> (TestApp, World) {
    let app = spawn_app().await;
    let w = world::build(&app).await;
    (app, w)
}

fn org(parent: &str, kind: &str, name: &str) -> Value {
    json!({"parent_id": parent, "kind": kind, "name": name})
}

async fn post_org(app: &TestApp, token: &str, body: &Value) -> Reply {
    send_json(app.server.post("/api/v1/orgs").bearer_auth(token), body).await
}

/// How many live organisations the admin sees.
async fn org_count(app: &TestApp, w: &World) -> u64 {
    let reply = get(app, w.token("admin"), "/api/v1/orgs?include_total=true").await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()["total"].as_u64().expect("total")
}

fn names(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|o| o["name"].as_str().unwrap().to_owned())
        .collect()
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The ids of every node in a tree (depth first).
fn tree_ids(node: &Value, out: &mut Vec<String>) {
    out.push(node["id"].as_str().unwrap().to_owned());
    for child in node["children"].as_array().expect("children") {
        tree_ids(child, out);
    }
}

fn assert_field_error(body: &Value, pointer: &str, code: &str) {
    let errors = body["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{body}");
    assert_eq!(errors[0]["pointer"], pointer, "{body}");
    assert_eq!(errors[0]["code"], code, "{body}");
}

async fn patch_name(app: &TestApp, token: &str, id: &str, if_match: Option<&str>, name: &str) -> Reply {
    let mut req = app.server.patch(format!("/api/v1/orgs/{id}")).bearer_auth(token);
    if let Some(tag) = if_match {
        req = req.insert_header(("If-Match", tag));
    }
    send_json(req, &json!({"name": name})).await
}

async fn move_org(app: &TestApp, token: &str, id: &str, if_match: &str, parent: &str) -> Reply {
    let req = app
        .server
        .post(format!("/api/v1/orgs/{id}/move"))
        .bearer_auth(token)
        .insert_header(("If-Match", if_match));
    send_json(req, &json!({"parent_id": parent})).await
}

async fn delete_org(app: &TestApp, token: &str, id: &str, if_match: &str) -> Reply {
    let req = app
        .server
        .delete(format!("/api/v1/orgs/{id}"))
        .bearer_auth(token)
        .insert_header(("If-Match", if_match));
    send(req).await
}

#[actix_web::test]
async fn creating_orgs_follows_the_structural_rules() {
    let (app, w) = setup().await;
    let admin = w.token("admin");
    assert_eq!(org_count(&app, &w).await, 5);

    // Allowed: group under branch, branch under committee, general branch under committee,
    // branch under general branch.
    let group = create(&app, admin, "/api/v1/orgs", org(&w.branch_a, "group", "小组A2")).await;
    assert_eq!(group["kind"], "group");
    assert_eq!(group["parent_id"], w.branch_a.as_str());
    assert_eq!(group["name"], "小组A2");
    assert_eq!(group["version"], 1);
    assert!(group["villager_group_id"].is_null());

    let branch = create(&app, admin, "/api/v1/orgs", org(&w.root, "branch", "支部C")).await;
    assert_eq!(branch["kind"], "branch");
    assert_eq!(branch["parent_id"], w.root.as_str());

    let general = create(&app, admin, "/api/v1/orgs", org(&w.root, "general_branch", "总支")).await;
    assert_eq!(general["kind"], "general_branch");
    assert_eq!(general["parent_id"], w.root.as_str());
    let general_id = general["id"].as_str().unwrap();

    let under_general = create(&app, admin, "/api/v1/orgs", org(general_id, "branch", "总支下支部")).await;
    assert_eq!(under_general["kind"], "branch");
    assert_eq!(under_general["parent_id"], general_id);

    // Each one is really there, with the parent it was given.
    for created in [&group, &branch, &general, &under_general] {
        let id = created["id"].as_str().unwrap();
        let reply = get(&app, admin, &format!("/api/v1/orgs/{id}")).await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        let body = reply.json();
        assert_eq!(body["kind"], created["kind"]);
        assert_eq!(body["parent_id"], created["parent_id"]);
        assert_eq!(body["name"], created["name"]);
    }
    assert_eq!(org_count(&app, &w).await, 9);

    // Refused: a group straight under the committee, a branch under a group, a general
    // branch under a branch, a committee anywhere.
    for (parent, kind) in [
        (&w.root, "group"),
        (&w.group_a, "branch"),
        (&w.branch_a, "general_branch"),
        (&w.root, "committee"),
    ] {
        let reply = post_org(&app, admin, &org(parent, kind, "不该存在")).await;
        let body = reply.assert_problem(422, "validation_failed");
        assert_field_error(&body, "/kind", "structure");
    }

    // Nothing was created by the refused requests.
    assert_eq!(org_count(&app, &w).await, 9);
    let search = get(&app, admin, "/api/v1/orgs?q=%E4%B8%8D%E8%AF%A5%E5%AD%98%E5%9C%A8").await;
    assert_eq!(search.status, 200);
    assert_eq!(search.json()["items"], json!([]));
}

#[actix_web::test]
async fn org_names_are_validated() {
    let (app, w) = setup().await;
    let admin = w.token("admin");

    let cases: [(Value, &str); 4] = [
        (json!(""), "length"),
        (json!("   "), "length"),
        (json!("党".repeat(101)), "length"),
        (json!("小组\u{7}A"), "control_character"),
    ];
    for (name, code) in cases {
        let body = json!({"parent_id": w.branch_a, "kind": "group", "name": name});
        let reply = post_org(&app, admin, &body).await;
        let problem = reply.assert_problem(422, "validation_failed");
        assert_field_error(&problem, "/name", code);
    }

    // Exactly 100 characters is fine. Spaces around a name are trimmed, but count towards
    // the limit as sent, as the spec's maxLength says.
    let hundred = "党".repeat(100);
    let reply = post_org(
        &app,
        admin,
        &json!({"parent_id": w.branch_a, "kind": "group", "name": format!(" {hundred} ")}),
    )
    .await;
    assert_field_error(&reply.assert_problem(422, "validation_failed"), "/name", "length");
    let ok = create(
        &app,
        admin,
        "/api/v1/orgs",
        org(&w.branch_a, "group", &format!(" {} ", "党".repeat(98))),
    )
    .await;
    assert_eq!(ok["name"], "党".repeat(98).as_str());
    let ok = create(&app, admin, "/api/v1/orgs", org(&w.branch_a, "group", &hundred)).await;
    assert_eq!(ok["name"], hundred.as_str());

    // An unknown field is refused, and names the field.
    let body = json!({"parent_id": w.branch_a, "kind": "group", "name": "小组X", "colour": "red"});
    let reply = post_org(&app, admin, &body).await;
    let problem = reply.assert_problem(422, "validation_failed");
    assert_eq!(problem["errors"][0]["code"], "unknown_field", "{problem}");
    assert_eq!(problem["errors"][0]["pointer"], "/colour", "{problem}");

    // An unknown kind too.
    let reply = post_org(&app, admin, &org(&w.branch_a, "cell", "小组Y")).await;
    let problem = reply.assert_problem(422, "validation_failed");
    assert_eq!(problem["errors"][0]["pointer"], "/kind", "{problem}");

    // Only the two valid groups were added.
    assert_eq!(org_count(&app, &w).await, 7);
    let children = get(&app, admin, &format!("/api/v1/orgs/{}/children", w.branch_a))
        .await
        .json();
    assert_eq!(names(&children), vec!["党".repeat(98), hundred, "小组A".to_string()]);
}

#[actix_web::test]
async fn reading_one_org_gives_an_etag_and_honours_if_none_match() {
    let (app, w) = setup().await;
    let admin = w.token("admin");
    let path = format!("/api/v1/orgs/{}", w.group_a);

    let reply = get(&app, admin, &path).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("etag"), Some("\"1\""));
    let body = reply.json();
    assert_eq!(body["id"], w.group_a.as_str());
    assert_eq!(body["parent_id"], w.branch_a.as_str());
    assert_eq!(body["kind"], "group");
    assert_eq!(body["name"], "小组A");
    assert_eq!(body["version"], 1);

    let reply = send(
        app.server
            .get(&path)
            .bearer_auth(admin)
            .insert_header(("If-None-Match", "\"1\"")),
    )
    .await;
    assert_eq!(reply.status, 304);
    assert_eq!(reply.header("etag"), Some("\"1\""));
    assert!(reply.body.is_empty());

    // Another version's tag gets the full body.
    let reply = send(
        app.server
            .get(&path)
            .bearer_auth(admin)
            .insert_header(("If-None-Match", "\"2\"")),
    )
    .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["name"], "小组A");

    // Unknown and out-of-scope organisations look the same: 404.
    let reply = get(&app, admin, &format!("/api/v1/orgs/{}", uuid::Uuid::now_v7())).await;
    reply.assert_problem(404, "not_found");
    let reply = get(&app, w.token("sec_a"), &format!("/api/v1/orgs/{}", w.group_b)).await;
    reply.assert_problem(404, "not_found");
}

#[actix_web::test]
async fn children_are_paginated_and_sorted_by_name() {
    let (app, w) = setup().await;
    let admin = w.token("admin");
    // Created after the others, but sorts first.
    let c0 = create(&app, admin, "/api/v1/orgs", org(&w.root, "branch", "支部0")).await;

    let path = format!("/api/v1/orgs/{}/children", w.root);
    let all = get(&app, admin, &path).await;
    assert_eq!(all.status, 200, "{}", all.text());
    let all = all.json();
    assert_eq!(names(&all), vec!["支部0", "支部A", "支部B"]);
    assert_eq!(
        ids(&all),
        vec![c0["id"].as_str().unwrap(), w.branch_a.as_str(), w.branch_b.as_str()]
    );
    assert!(all["next_cursor"].is_null());
    // Only direct children: no groups.
    assert!(all["items"].as_array().unwrap().iter().all(|o| o["kind"] == "branch"));

    // One at a time, following the cursor.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..3 {
        let url = match &cursor {
            None => format!("{path}?limit=1"),
            Some(c) => format!("{path}?limit=1&cursor={c}"),
        };
        let page = get(&app, admin, &url).await;
        assert_eq!(page.status, 200, "{}", page.text());
        let page = page.json();
        assert_eq!(page["items"].as_array().unwrap().len(), 1);
        seen.extend(names(&page));
        cursor = page["next_cursor"].as_str().map(str::to_owned);
        if seen.len() < 3 {
            assert!(cursor.is_some(), "next_cursor on a page that is not the last: {page}");
        }
    }
    assert_eq!(seen, vec!["支部0", "支部A", "支部B"]);
    assert!(cursor.is_none(), "no cursor on the last page");

    // With the total.
    let page = get(&app, admin, &format!("{path}?limit=1&include_total=true"))
        .await
        .json();
    assert_eq!(page["total"], 3);

    // A branch secretary sees only the children inside their scope; the root itself is not
    // in sec_a's scope at all.
    let reply = get(&app, w.token("sec_a"), &path).await;
    reply.assert_problem(404, "not_found");
    let page = get(&app, w.token("sec_a"), &format!("/api/v1/orgs/{}/children", w.branch_a))
        .await
        .json();
    assert_eq!(ids(&page), vec![w.group_a.as_str()]);
}

#[actix_web::test]
async fn listing_orgs_filters_by_kind_subtree_and_scope() {
    let (app, w) = setup().await;

    let admin_groups = get(&app, w.token("admin"), "/api/v1/orgs?kind=group").await;
    assert_eq!(admin_groups.status, 200, "{}", admin_groups.text());
    let admin_groups = admin_groups.json();
    assert_eq!(names(&admin_groups), vec!["小组A", "小组B"]);
    assert_eq!(ids(&admin_groups), vec![w.group_a.as_str(), w.group_b.as_str()]);

    let sec_a_groups = get(&app, w.token("sec_a"), "/api/v1/orgs?kind=group").await;
    assert_eq!(sec_a_groups.status, 200);
    assert_eq!(ids(&sec_a_groups.json()), vec![w.group_a.as_str()]);

    let sec_b_groups = get(&app, w.token("sec_b"), "/api/v1/orgs?kind=group").await.json();
    assert_eq!(ids(&sec_b_groups), vec![w.group_b.as_str()]);

    // Everything sec_a can see: their branch and its group.
    let sec_a_all = get(&app, w.token("sec_a"), "/api/v1/orgs").await.json();
    assert_eq!(names(&sec_a_all), vec!["小组A", "支部A"]);

    // ?org_id= restricts to that subtree, itself included.
    let subtree = get(&app, w.token("admin"), &format!("/api/v1/orgs?org_id={}", w.branch_a))
        .await
        .json();
    assert_eq!(names(&subtree), vec!["小组A", "支部A"]);
    let subtree_groups = get(
        &app,
        w.token("admin"),
        &format!("/api/v1/orgs?org_id={}&kind=group", w.branch_b),
    )
    .await
    .json();
    assert_eq!(ids(&subtree_groups), vec![w.group_b.as_str()]);
    // A subtree outside the caller's scope is 404, not an empty list.
    let reply = get(&app, w.token("sec_a"), &format!("/api/v1/orgs?org_id={}", w.branch_b)).await;
    reply.assert_problem(404, "not_found");

    // ?q= matches part of the name.
    let q = get(&app, w.token("admin"), "/api/v1/orgs?q=B").await.json();
    assert_eq!(names(&q), vec!["小组B", "支部B"]);

    // Unknown parameters and kinds are refused.
    let reply = get(&app, w.token("admin"), "/api/v1/orgs?knd=group").await;
    reply.assert_problem(400, "invalid_query");
    let reply = get(&app, w.token("admin"), "/api/v1/orgs?kind=cell").await;
    reply.assert_problem(400, "invalid_query");
}

#[actix_web::test]
async fn the_tree_nests_children() {
    let (app, w) = setup().await;
    let admin = w.token("admin");
    let reply = get(&app, admin, &format!("/api/v1/orgs/{}/tree", w.root)).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let tree = reply.json();
    assert_eq!(tree["id"], w.root.as_str());
    assert_eq!(tree["kind"], "committee");
    let branches = tree["children"].as_array().unwrap();
    assert_eq!(branches.len(), 2);
    assert_eq!(branches[0]["id"], w.branch_a.as_str());
    assert_eq!(branches[0]["name"], "支部A");
    assert_eq!(branches[0]["kind"], "branch");
    assert_eq!(branches[0]["children"].as_array().unwrap().len(), 1);
    assert_eq!(branches[0]["children"][0]["id"], w.group_a.as_str());
    assert_eq!(branches[0]["children"][0]["kind"], "group");
    assert_eq!(branches[0]["children"][0]["children"], json!([]));
    assert_eq!(branches[1]["id"], w.branch_b.as_str());
    assert_eq!(branches[1]["children"][0]["id"], w.group_b.as_str());

    // A subtree from a branch, for its secretary.
    let sub = get(&app, w.token("sec_a"), &format!("/api/v1/orgs/{}/tree", w.branch_a))
        .await
        .json();
    assert_eq!(sub["id"], w.branch_a.as_str());
    let mut all = Vec::new();
    tree_ids(&sub, &mut all);
    assert_eq!(all, vec![w.branch_a.clone(), w.group_a.clone()]);
    // Not another branch's.
    let reply = get(&app, w.token("sec_a"), &format!("/api/v1/orgs/{}/tree", w.branch_b)).await;
    reply.assert_problem(404, "not_found");
}

#[actix_web::test]
async fn renaming_needs_a_current_if_match() {
    let (app, w) = setup().await;
    let admin = w.token("admin");
    let path = format!("/api/v1/orgs/{}", w.group_a);

    let reply = patch_name(&app, admin, &w.group_a, None, "新名字").await;
    reply.assert_problem(428, "precondition_required");
    let reply = patch_name(&app, admin, &w.group_a, Some("\"7\""), "新名字").await;
    reply.assert_problem(412, "precondition_failed");
    // Neither changed anything.
    let unchanged = get(&app, admin, &path).await;
    assert_eq!(unchanged.header("etag"), Some("\"1\""));
    assert_eq!(unchanged.json()["name"], "小组A");

    let reply = patch_name(&app, admin, &w.group_a, Some("\"1\""), "  司山网格党小组 ").await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("etag"), Some("\"2\""));
    let body = reply.json();
    assert_eq!(body["name"], "司山网格党小组");
    assert_eq!(body["version"], 2);
    assert_eq!(body["id"], w.group_a.as_str());

    let reread = get(&app, admin, &path).await;
    assert_eq!(reread.header("etag"), Some("\"2\""));
    assert_eq!(reread.json()["name"], "司山网格党小组");

    // The old tag is now stale.
    let reply = patch_name(&app, admin, &w.group_a, Some("\"1\""), "又一个名字").await;
    reply.assert_problem(412, "precondition_failed");
    assert_eq!(get(&app, admin, &path).await.json()["name"], "司山网格党小组");

    // A bad name with a good tag is 422 and changes nothing.
    let reply = patch_name(&app, admin, &w.group_a, Some("\"2\""), "").await;
    let problem = reply.assert_problem(422, "validation_failed");
    assert_field_error(&problem, "/name", "length");
    assert_eq!(get(&app, admin, &path).await.header("etag"), Some("\"2\""));

    // Another branch's secretary cannot rename it (404), an inspector may not write (403).
    let reply = patch_name(&app, w.token("sec_b"), &w.group_a, Some("\"2\""), "越权").await;
    reply.assert_problem(404, "not_found");
    let reply = patch_name(&app, w.token("inspector"), &w.group_a, Some("\"2\""), "越权").await;
    reply.assert_problem(403, "forbidden");
    assert_eq!(get(&app, admin, &path).await.json()["name"], "司山网格党小组");
}

#[actix_web::test]
async fn moving_a_group_to_another_branch_moves_its_scope() {
    let (app, w) = setup().await;
    let admin = w.token("admin");
    let group_path = format!("/api/v1/orgs/{}", w.group_a);

    // Before: sec_a sees it, sec_b does not.
    assert_eq!(get(&app, w.token("sec_a"), &group_path).await.status, 200);
    assert_eq!(get(&app, w.token("sec_b"), &group_path).await.status, 404);

    let reply = move_org(&app, admin, &w.group_a, "\"1\"", &w.branch_b).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("etag"), Some("\"2\""));
    let body = reply.json();
    assert_eq!(body["parent_id"], w.branch_b.as_str());
    assert_eq!(body["version"], 2);

    // The tree of 支部B now holds both groups; 支部A's holds none.
    let tree_b = get(&app, admin, &format!("/api/v1/orgs/{}/tree", w.branch_b))
        .await
        .json();
    let children: Vec<&str> = tree_b["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(children, vec![w.group_a.as_str(), w.group_b.as_str()]);
    let tree_a = get(&app, admin, &format!("/api/v1/orgs/{}/tree", w.branch_a))
        .await
        .json();
    assert_eq!(tree_a["children"], json!([]));

    // The scopes follow the new path.
    get(&app, w.token("sec_a"), &group_path)
        .await
        .assert_problem(404, "not_found");
    let seen_by_b = get(&app, w.token("sec_b"), &group_path).await;
    assert_eq!(seen_by_b.status, 200, "{}", seen_by_b.text());
    assert_eq!(seen_by_b.json()["parent_id"], w.branch_b.as_str());
    let sec_a_groups = get(&app, w.token("sec_a"), "/api/v1/orgs?kind=group").await.json();
    assert_eq!(sec_a_groups["items"], json!([]));
    let sec_b_groups = get(&app, w.token("sec_b"), "/api/v1/orgs?kind=group").await.json();
    assert_eq!(ids(&sec_b_groups), vec![w.group_a.as_str(), w.group_b.as_str()]);
    // The group leader's grant on the group still covers it.
    assert_eq!(get(&app, w.token("leader_a"), &group_path).await.status, 200);

    // A stale tag is refused.
    let reply = move_org(&app, admin, &w.group_a, "\"1\"", &w.branch_a).await;
    reply.assert_problem(412, "precondition_failed");
    assert_eq!(
        get(&app, admin, &group_path).await.json()["parent_id"],
        w.branch_b.as_str()
    );
}

#[actix_web::test]
async fn moves_that_break_the_tree_are_refused() {
    let (app, w) = setup().await;
    let admin = w.token("admin");

    // A branch under its own group: a cycle.
    let reply = move_org(&app, admin, &w.branch_a, "\"1\"", &w.group_a).await;
    let body = reply.assert_problem(422, "validation_failed");
    assert_field_error(&body, "/parent_id", "cycle");
    // Under itself: also a cycle.
    let reply = move_org(&app, admin, &w.branch_a, "\"1\"", &w.branch_a).await;
    let body = reply.assert_problem(422, "validation_failed");
    assert_field_error(&body, "/parent_id", "cycle");

    // A group straight under the committee.
    let reply = move_org(&app, admin, &w.group_a, "\"1\"", &w.root).await;
    let body = reply.assert_problem(422, "validation_failed");
    assert_field_error(&body, "/parent_id", "structure");
    // A branch under another branch.
    let reply = move_org(&app, admin, &w.branch_a, "\"1\"", &w.branch_b).await;
    let body = reply.assert_problem(422, "validation_failed");
    assert_field_error(&body, "/parent_id", "structure");

    // The root cannot move at all.
    let reply = move_org(&app, admin, &w.root, "\"1\"", &w.branch_a).await;
    reply.assert_problem(409, "conflict");

    // Without If-Match: 428.
    let reply = send_json(
        app.server
            .post(format!("/api/v1/orgs/{}/move", w.group_a))
            .bearer_auth(admin),
        &json!({"parent_id": w.branch_b}),
    )
    .await;
    reply.assert_problem(428, "precondition_required");

    // sec_a cannot move their group to a branch outside their scope.
    let reply = move_org(&app, w.token("sec_a"), &w.group_a, "\"1\"", &w.branch_b).await;
    reply.assert_problem(404, "not_found");

    // Nothing moved, nothing changed version.
    let tree = get(&app, admin, &format!("/api/v1/orgs/{}/tree", w.root)).await.json();
    assert_eq!(tree["children"][0]["id"], w.branch_a.as_str());
    assert_eq!(tree["children"][0]["children"][0]["id"], w.group_a.as_str());
    assert_eq!(tree["children"][1]["id"], w.branch_b.as_str());
    assert_eq!(tree["children"][1]["children"][0]["id"], w.group_b.as_str());
    for id in [&w.root, &w.branch_a, &w.group_a, &w.branch_b] {
        let reply = get(&app, admin, &format!("/api/v1/orgs/{id}")).await;
        assert_eq!(reply.header("etag"), Some("\"1\""), "{id}");
    }
}

#[actix_web::test]
async fn moving_a_branch_carries_its_subtree() {
    let (app, w) = setup().await;
    let admin = w.token("admin");
    let general = create(&app, admin, "/api/v1/orgs", org(&w.root, "general_branch", "总支")).await;
    let general_id = general["id"].as_str().unwrap();

    let reply = move_org(&app, admin, &w.branch_a, "\"1\"", general_id).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["parent_id"], general_id);

    let tree = get(&app, admin, &format!("/api/v1/orgs/{general_id}/tree"))
        .await
        .json();
    let mut all = Vec::new();
    tree_ids(&tree, &mut all);
    assert_eq!(all, vec![general_id.to_owned(), w.branch_a.clone(), w.group_a.clone()]);
    // The group is in the general branch's subtree for list filters too.
    let groups = get(&app, admin, &format!("/api/v1/orgs?org_id={general_id}&kind=group"))
        .await
        .json();
    assert_eq!(ids(&groups), vec![w.group_a.as_str()]);
    // sec_a still manages their branch and its group.
    assert_eq!(
        get(&app, w.token("sec_a"), &format!("/api/v1/orgs/{}", w.group_a))
            .await
            .status,
        200
    );
}

#[actix_web::test]
async fn deleting_refuses_non_empty_orgs_and_removes_empty_ones() {
    let (app, w) = setup().await;
    let admin = w.token("admin");

    // 支部B still has 小组B.
    let reply = delete_org(&app, admin, &w.branch_b, "\"1\"").await;
    let body = reply.assert_problem(409, "conflict");
    assert!(body["detail"].as_str().unwrap().contains("child"), "{body}");
    assert_eq!(
        get(&app, admin, &format!("/api/v1/orgs/{}", w.branch_b)).await.status,
        200
    );

    // 小组A has leader_a's account and grant.
    let reply = delete_org(&app, admin, &w.group_a, "\"1\"").await;
    let body = reply.assert_problem(409, "conflict");
    assert!(body["detail"].as_str().unwrap().contains("user accounts"), "{body}");
    assert_eq!(
        get(&app, admin, &format!("/api/v1/orgs/{}", w.group_a)).await.status,
        200
    );

    // A grant alone (no account) also blocks: give sec_b a second grant on a fresh group.
    let extra = create(&app, admin, "/api/v1/orgs", org(&w.branch_b, "group", "小组B2")).await;
    let extra_id = extra["id"].as_str().unwrap();
    create(
        &app,
        admin,
        &format!("/api/v1/users/{}/grants", w.user("sec_b")),
        json!({"role": "group_leader", "org_id": extra_id}),
    )
    .await;
    let reply = delete_org(&app, admin, extra_id, "\"1\"").await;
    reply.assert_problem(409, "conflict");
    assert_eq!(get(&app, admin, &format!("/api/v1/orgs/{extra_id}")).await.status, 200);

    // The root cannot be deleted.
    let reply = delete_org(&app, admin, &w.root, "\"1\"").await;
    reply.assert_problem(409, "conflict");

    // An empty group: If-Match required, then 204.
    let reply = send(
        app.server
            .delete(format!("/api/v1/orgs/{}", w.group_b))
            .bearer_auth(admin),
    )
    .await;
    reply.assert_problem(428, "precondition_required");
    let reply = delete_org(&app, admin, &w.group_b, "\"9\"").await;
    reply.assert_problem(412, "precondition_failed");
    assert_eq!(
        get(&app, admin, &format!("/api/v1/orgs/{}", w.group_b)).await.status,
        200
    );

    let reply = delete_org(&app, admin, &w.group_b, "\"1\"").await;
    assert_eq!(reply.status, 204, "{}", reply.text());
    assert!(reply.body.is_empty());

    let reply = get(&app, admin, &format!("/api/v1/orgs/{}", w.group_b)).await;
    reply.assert_problem(404, "not_found");
    let children = get(&app, admin, &format!("/api/v1/orgs/{}/children", w.branch_b))
        .await
        .json();
    assert_eq!(ids(&children), vec![extra_id]);
    let groups = get(&app, admin, "/api/v1/orgs?kind=group").await.json();
    assert!(!ids(&groups).contains(&w.group_b), "{groups}");
    let tree = get(&app, admin, &format!("/api/v1/orgs/{}/tree", w.branch_b))
        .await
        .json();
    let mut all = Vec::new();
    tree_ids(&tree, &mut all);
    assert!(!all.contains(&w.group_b));
    // Deleting it again: it is gone.
    let reply = delete_org(&app, admin, &w.group_b, "\"2\"").await;
    reply.assert_problem(404, "not_found");
}

#[actix_web::test]
async fn idempotency_key_replays_the_first_creation() {
    let (app, w) = setup().await;
    let admin = w.token("admin");
    let body = org(&w.branch_a, "group", "幂等小组");
    let post = || {
        app.server
            .post("/api/v1/orgs")
            .bearer_auth(admin)
            .insert_header(("Idempotency-Key", "org-create-1"))
    };

    let first = send_json(post(), &body).await;
    assert_eq!(first.status, 201, "{}", first.text());
    let id = first.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(first.header("location"), Some(format!("/api/v1/orgs/{id}").as_str()));
    assert_eq!(first.header("etag"), Some("\"1\""));

    let again = send_json(post(), &body).await;
    assert_eq!(again.status, 201, "{}", again.text());
    assert_eq!(again.body, first.body, "same body");
    assert_eq!(again.header("location"), first.header("location"));
    assert_eq!(again.header("idempotent-replayed"), Some("true"));

    // One organisation with that name exists.
    let found = get(&app, admin, "/api/v1/orgs?q=%E5%B9%82%E7%AD%89&include_total=true")
        .await
        .json();
    assert_eq!(found["total"], 1);
    assert_eq!(ids(&found), vec![id.as_str()]);
    assert_eq!(org_count(&app, &w).await, 6);

    // The same key with another body is refused and creates nothing.
    let reply = send_json(post(), &org(&w.branch_a, "group", "另一个")).await;
    reply.assert_problem(422, "idempotency_key_reused");
    assert_eq!(org_count(&app, &w).await, 6);
}

#[actix_web::test]
async fn renames_are_audited_with_before_and_after() {
    let (app, w) = setup().await;
    let admin = w.token("admin");
    let renamed = patch_name(&app, admin, &w.group_a, Some("\"1\""), "司山网格党小组").await;
    assert_eq!(renamed.status, 200, "{}", renamed.text());
    let request_id = renamed.header("x-request-id").expect("X-Request-Id").to_owned();

    let reply = get(&app, admin, &format!("/api/v1/audit-events?entity_id={}", w.group_a)).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let page = reply.json();
    let events = page["items"].as_array().unwrap();
    // Newest first: the rename, then the creation.
    let actions: Vec<&str> = events.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, vec!["org.rename", "org.create"]);
    let rename = &events[0];
    assert_eq!(rename["entity_type"], "org");
    assert_eq!(rename["entity_id"], w.group_a.as_str());
    assert_eq!(rename["org_id"], w.group_a.as_str());
    assert_eq!(rename["actor_user_id"], w.user("admin"));
    assert_eq!(rename["actor_role"], "town_admin");
    assert_eq!(rename["outcome"], "success");
    assert_eq!(rename["changes"]["before"]["name"], "小组A");
    assert_eq!(rename["changes"]["after"]["name"], "司山网格党小组");
    assert_eq!(rename["changes"]["before"]["version"], 1);
    assert_eq!(rename["changes"]["after"]["version"], 2);
    // Unchanged fields are left out.
    assert!(rename["changes"]["before"].get("kind").is_none(), "{rename}");
    assert_eq!(rename["request_id"], request_id.as_str());

    // The chain still verifies.
    let verdict = get(&app, admin, "/api/v1/audit-events/verify").await.json();
    assert_eq!(verdict["ok"], true, "{verdict}");

    // A branch secretary may not read the audit trail.
    let reply = get(&app, w.token("sec_a"), "/api/v1/audit-events").await;
    reply.assert_problem(403, "forbidden");
}

#[actix_web::test]
async fn members_moved_with_their_group_have_the_move_in_their_history() {
    let (app, w) = setup().await;
    let mut body = world::member_body("程军", &w.branch_a, &world::id_number("340822", "19790315", "013"));
    body["group_id"] = json!(w.group_a);
    let cheng = world::create_member(&app, w.token("sec_a"), body).await;
    let id = cheng["id"].as_str().unwrap();
    let reply = move_org(&app, w.token("admin"), &w.group_a, "\"1\"", &w.branch_b).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let history = get(&app, w.token("admin"), &format!("/api/v1/members/{id}/history"))
        .await
        .json();
    let moves = history["items"].as_array().unwrap();
    assert_eq!(moves.len(), 1, "{history}");
    assert_eq!(moves[0]["from_org_id"], w.branch_a.as_str());
    assert_eq!(moves[0]["to_org_id"], w.branch_b.as_str());
    assert_eq!(moves[0]["to_group_id"], w.group_a.as_str());
    assert_eq!(moves[0]["actor_user_id"], w.user("admin"));
    let member = get(&app, w.token("admin"), &format!("/api/v1/members/{id}"))
        .await
        .json();
    assert_eq!(member["org_id"], w.branch_b.as_str());
}
