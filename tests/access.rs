//! Who may do what: the route policy covers every route, anonymous callers are refused
//! everywhere but public routes, and a role × route × scope matrix.

mod common;

use std::collections::BTreeSet;

use common::world::{self, World};
use common::{Reply, TestApp, send, send_json, spawn_app};
use dangjian::auth::policy::{Allow, ROUTES};
use dangjian::http::routes::RouteTable;
use serde_json::{Value, json};

#[test]
fn every_documented_route_has_exactly_one_policy_rule() {
    let documented: BTreeSet<(String, String)> = RouteTable::from_spec(&dangjian::openapi::spec())
        .all()
        .into_iter()
        .collect();
    let ruled: Vec<(String, String)> = ROUTES
        .iter()
        .map(|r| (r.method.to_string(), r.pattern.to_string()))
        .collect();
    let ruled_set: BTreeSet<(String, String)> = ruled.iter().cloned().collect();
    assert_eq!(ruled.len(), ruled_set.len(), "a route is listed twice");
    let missing: Vec<_> = documented.difference(&ruled_set).collect();
    assert!(
        missing.is_empty(),
        "routes without an authorisation rule in auth::policy::ROUTES: {missing:?}"
    );
    let stale: Vec<_> = ruled_set.difference(&documented).collect();
    assert!(stale.is_empty(), "rules for routes that do not exist: {stale:?}");
}

fn concrete(path: &str) -> String {
    path.replace("{id}", "01a21954-5986-705a-9dda-29f2d55e5871")
        .replace("{grant_id}", "01a21954-5986-705a-9dda-29f2d55e5872")
}

async fn call(app: &TestApp, method: &str, path: &str, token: Option<&str>, body: Option<&Value>) -> Reply {
    let method = actix_web::http::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = app.server.request(method, app.server.url(path));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    req = req.insert_header(("If-Match", "\"1\""));
    match body {
        Some(body) => send_json(req, body).await,
        None => send(req).await,
    }
}

#[actix_web::test]
async fn anonymous_callers_get_401_on_every_non_public_route() {
    let app = spawn_app().await;
    for rule in ROUTES {
        let (method, path) = (rule.method, rule.pattern);
        let reply = call(&app, method, &concrete(path), None, Some(&json!({}))).await;
        match rule.allow {
            Allow::Public => assert_ne!(reply.status, 401, "{method} {path} is public"),
            _ => {
                reply.assert_problem(401, "unauthorized");
            }
        }
    }
}

/// One row of the matrix: who calls what, and the status they must get.
struct Case {
    method: &'static str,
    path: String,
    body: Option<Value>,
    expect: &'static [(&'static str, u16)],
}

fn cases(w: &World) -> Vec<Case> {
    let (a, b, ga, gb, root) = (&w.branch_a, &w.branch_b, &w.group_a, &w.group_b, &w.root);
    let sec_b = w.user("sec_b");
    let member_a = w.user("member_a");
    let org_body = |parent: &str| Some(json!({"parent_id": parent, "kind": "group", "name": "新小组"}));
    vec![
        // Reading organisations: scoped by subtree; everyone may read their own.
        Case {
            method: "GET",
            path: format!("/api/v1/orgs/{a}"),
            body: None,
            expect: &[
                ("admin", 200),
                ("inspector", 200),
                ("sec_a", 200),
                ("member_a", 200),
                ("leader_a", 404),
                ("sec_b", 404),
            ],
        },
        Case {
            method: "GET",
            path: format!("/api/v1/orgs/{ga}"),
            body: None,
            expect: &[("leader_a", 200), ("sec_a", 200), ("sec_b", 404)],
        },
        Case {
            method: "GET",
            path: format!("/api/v1/orgs/{b}/tree"),
            body: None,
            expect: &[
                ("admin", 200),
                ("inspector", 200),
                ("sec_a", 404),
                ("member_a", 404),
                ("sec_b", 200),
            ],
        },
        Case {
            method: "GET",
            path: format!("/api/v1/orgs/{b}/children"),
            body: None,
            expect: &[("sec_a", 404), ("sec_b", 200)],
        },
        Case {
            method: "GET",
            path: format!("/api/v1/orgs/{root}"),
            body: None,
            expect: &[("admin", 200), ("sec_a", 404)],
        },
        Case {
            method: "GET",
            path: "/api/v1/orgs".into(),
            body: None,
            expect: &[
                ("admin", 200),
                ("inspector", 200),
                ("sec_a", 200),
                ("leader_a", 200),
                ("member_a", 200),
            ],
        },
        // Writing organisations: secretaries and admins, inside their scope; never inspectors.
        Case {
            method: "POST",
            path: "/api/v1/orgs".into(),
            body: org_body(b),
            expect: &[("sec_a", 404), ("inspector", 403), ("member_a", 403), ("leader_a", 403)],
        },
        Case {
            method: "PATCH",
            path: format!("/api/v1/orgs/{gb}"),
            body: Some(json!({"name": "改名"})),
            expect: &[("sec_a", 404), ("inspector", 403), ("member_a", 403), ("leader_a", 403)],
        },
        Case {
            method: "POST",
            path: format!("/api/v1/orgs/{gb}/move"),
            body: Some(json!({"parent_id": a})),
            expect: &[("sec_a", 404), ("inspector", 403), ("member_a", 403)],
        },
        Case {
            method: "POST",
            path: format!("/api/v1/orgs/{ga}/move"),
            body: Some(json!({"parent_id": b})),
            expect: &[("sec_a", 404), ("sec_b", 404)],
        },
        Case {
            method: "DELETE",
            path: format!("/api/v1/orgs/{gb}"),
            body: None,
            expect: &[("sec_a", 404), ("inspector", 403), ("member_a", 403), ("leader_a", 403)],
        },
        Case {
            method: "POST",
            path: "/api/v1/villages".into(),
            body: Some(json!({"kind": "village", "name": "村", "org_id": b})),
            expect: &[("sec_a", 404), ("inspector", 403), ("member_a", 403)],
        },
        // Accounts.
        Case {
            method: "GET",
            path: format!("/api/v1/users/{sec_b}"),
            body: None,
            expect: &[
                ("admin", 200),
                ("inspector", 200),
                ("sec_b", 200),
                ("sec_a", 404),
                ("member_a", 403),
                ("leader_a", 403),
            ],
        },
        Case {
            method: "GET",
            path: "/api/v1/users".into(),
            body: None,
            expect: &[("admin", 200), ("inspector", 200), ("sec_a", 200), ("member_a", 403)],
        },
        Case {
            method: "PATCH",
            path: format!("/api/v1/users/{sec_b}"),
            body: Some(json!({"disabled": true})),
            expect: &[("sec_a", 404), ("inspector", 403), ("member_a", 403)],
        },
        Case {
            method: "POST",
            path: format!("/api/v1/users/{sec_b}/password"),
            body: Some(json!({"new_password": "Hijack-pass-1"})),
            expect: &[("sec_a", 404), ("inspector", 403)],
        },
        Case {
            method: "POST",
            path: format!("/api/v1/users/{sec_b}/grants"),
            body: Some(json!({"role": "member", "org_id": a})),
            expect: &[("sec_a", 404), ("inspector", 403)],
        },
        Case {
            method: "POST",
            path: "/api/v1/users".into(),
            body: Some(json!({"username": "intruder", "password": "Intruder-pass-1", "org_id": b})),
            expect: &[("sec_a", 404), ("inspector", 403), ("member_a", 403)],
        },
        // Rights: never your own, never up to your own level.
        Case {
            method: "POST",
            path: format!("/api/v1/users/{}/grants", w.user("sec_a")),
            body: Some(json!({"role": "town_admin", "org_id": root})),
            expect: &[("sec_a", 403)],
        },
        Case {
            method: "POST",
            path: format!("/api/v1/users/{member_a}/grants"),
            body: Some(json!({"role": "branch_secretary", "org_id": a})),
            expect: &[("sec_a", 403)],
        },
        Case {
            method: "POST",
            path: format!("/api/v1/users/{member_a}/grants"),
            body: Some(json!({"role": "inspector", "org_id": a})),
            expect: &[("sec_a", 403)],
        },
        Case {
            method: "POST",
            path: format!("/api/v1/users/{member_a}/grants"),
            body: Some(json!({"role": "group_leader", "org_id": b})),
            expect: &[("sec_a", 404)],
        },
        Case {
            method: "POST",
            path: format!("/api/v1/users/{}/grants", w.user("admin")),
            body: Some(json!({"role": "member", "org_id": a})),
            expect: &[("sec_a", 404)],
        },
        Case {
            method: "POST",
            path: format!("/api/v1/users/{}/grants", w.user("inspector")),
            body: Some(json!({"role": "town_admin", "org_id": root})),
            expect: &[("admin", 403)],
        },
        // The audit trail: administrators and inspectors only.
        Case {
            method: "GET",
            path: "/api/v1/audit-events".into(),
            body: None,
            expect: &[
                ("admin", 200),
                ("inspector", 200),
                ("sec_a", 403),
                ("leader_a", 403),
                ("member_a", 403),
            ],
        },
        Case {
            method: "GET",
            path: "/api/v1/audit-events/verify".into(),
            body: None,
            expect: &[("admin", 200), ("inspector", 200), ("sec_a", 403), ("member_a", 403)],
        },
        Case {
            method: "GET",
            path: "/api/v1/me".into(),
            body: None,
            expect: &[
                ("admin", 200),
                ("inspector", 200),
                ("sec_a", 200),
                ("leader_a", 200),
                ("member_a", 200),
            ],
        },
    ]
}

async fn snapshot(app: &TestApp, w: &World) -> Vec<Value> {
    let admin = w.token("admin");
    let mut out = Vec::new();
    for path in [
        format!("/api/v1/orgs/{}/tree", w.root),
        format!("/api/v1/users/{}", w.user("sec_b")),
        format!("/api/v1/users/{}", w.user("member_a")),
        format!("/api/v1/users/{}", w.user("sec_a")),
        format!("/api/v1/users/{}", w.user("inspector")),
        "/api/v1/villages".to_string(),
        "/api/v1/users?limit=100".to_string(),
    ] {
        out.push(world::get(app, admin, &path).await.json());
    }
    out
}

#[actix_web::test]
async fn role_route_scope_matrix() {
    let app = spawn_app().await;
    let w = world::build(&app).await;
    let before = snapshot(&app, &w).await;
    for case in cases(&w) {
        for (who, status) in case.expect {
            let reply = call(&app, case.method, &case.path, Some(w.token(who)), case.body.as_ref()).await;
            assert_eq!(
                reply.status.as_u16(),
                *status,
                "{who} {} {}: {}",
                case.method,
                case.path,
                reply.text()
            );
            if *status >= 400 {
                reply.assert_problem(*status, reply.json()["code"].as_str().unwrap());
            }
        }
    }
    // Every refused write left the data as it was (the allowed ones above are reads).
    assert_eq!(snapshot(&app, &w).await, before, "a refused request changed data");
}

#[actix_web::test]
async fn secretaries_manage_grants_inside_their_branch() {
    let app = spawn_app().await;
    let w = world::build(&app).await;
    let member = w.user("member_a");
    let granted = world::create(
        &app,
        w.token("sec_a"),
        &format!("/api/v1/users/{member}/grants"),
        json!({"role": "group_leader", "org_id": w.group_a}),
    )
    .await;
    assert_eq!(granted["role"], "group_leader");
    assert_eq!(granted["org_name"], "小组A");
    let again = send_json(
        app.server
            .post(format!("/api/v1/users/{member}/grants"))
            .bearer_auth(w.token("sec_a")),
        &json!({"role": "group_leader", "org_id": w.group_a}),
    )
    .await;
    again.assert_problem(409, "conflict");

    // The new right works at once for the member's existing token.
    let me = world::get(&app, w.token("member_a"), "/api/v1/me").await.json();
    assert_eq!(me["grants"].as_array().unwrap().len(), 2);

    let grant_id = granted["id"].as_str().unwrap();
    let url = format!("/api/v1/users/{member}/grants/{grant_id}");
    send(app.server.delete(&url).bearer_auth(w.token("sec_b")))
        .await
        .assert_problem(404, "not_found");
    let gone = send(app.server.delete(&url).bearer_auth(w.token("sec_a"))).await;
    assert_eq!(gone.status, 204);
    let me = world::get(&app, w.token("member_a"), "/api/v1/me").await.json();
    assert_eq!(me["grants"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn users_are_validated_and_unique() {
    let app = spawn_app().await;
    let w = world::build(&app).await;
    let post =
        async |body: Value| send_json(app.server.post("/api/v1/users").bearer_auth(w.token("sec_a")), &body).await;
    let weak = post(json!({"username": "newbie", "password": "password", "org_id": w.branch_a})).await;
    assert_eq!(
        weak.assert_problem(422, "validation_failed")["errors"][0]["pointer"],
        "/password"
    );
    let bad = post(json!({"username": "a b", "password": "Good-pass-1", "org_id": w.branch_a})).await;
    assert_eq!(
        bad.assert_problem(422, "validation_failed")["errors"][0]["pointer"],
        "/username"
    );
    let taken = post(json!({"username": "SEC_B", "password": "Good-pass-1", "org_id": w.branch_a})).await;
    taken.assert_problem(409, "conflict");
    let ok = post(json!({"username": "Newbie", "password": "Good-pass-1", "org_id": w.branch_a})).await;
    assert_eq!(ok.status, 201, "{}", ok.text());
    assert_eq!(ok.json()["username"], "newbie");
    assert!(ok.json().get("password_hash").is_none());
    // sec_b does not see sec_a's new account.
    let list = world::get(&app, w.token("sec_b"), "/api/v1/users?q=newbie")
        .await
        .json();
    assert_eq!(list["items"].as_array().unwrap().len(), 0);
    let list = world::get(&app, w.token("sec_a"), "/api/v1/users?q=newbie")
        .await
        .json();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn listing_accounts_costs_the_same_statements_for_any_page_size() {
    let app = spawn_app().await;
    let w = world::build(&app).await;
    let statements = |reply: &Reply| assert_eq!(reply.status, 200, "{}", reply.text());
    let count = || app.state.metrics.db_statements.get();
    let mut seen = Vec::new();
    for limit in [1, 6] {
        // Warm the caller's cached principal, so both measured requests find it there.
        world::get(&app, w.token("admin"), "/api/v1/me").await;
        let before = count();
        let reply = common::send(
            app.server
                .get(format!("/api/v1/users?limit={limit}"))
                .bearer_auth(w.token("admin")),
        )
        .await;
        statements(&reply);
        assert_eq!(reply.json()["items"].as_array().unwrap().len(), limit);
        assert!(
            reply.json()["items"][0]["grants"]
                .as_array()
                .is_some_and(|g| !g.is_empty())
        );
        seen.push(count() - before);
    }
    assert_eq!(seen[0], seen[1], "statements for 1 and 6 accounts: {seen:?}");
}

#[actix_web::test]
async fn anonymous_callers_learn_nothing_about_a_routes_parameters() {
    let app = spawn_app().await;
    let w = world::build(&app).await;
    // Without a token: 401 first, whatever the query says.
    for path in [
        "/api/v1/pledges/stats?foo=1",
        "/api/v1/users?q=%00",
        "/api/v1/orgs?nope=1",
    ] {
        send(app.server.get(path)).await.assert_problem(401, "unauthorized");
    }
    // Signed in, the same queries are refused for what they are.
    world::get(&app, w.token("admin"), "/api/v1/pledges/stats?foo=1")
        .await
        .assert_problem(400, "invalid_query");
    world::get(&app, w.token("admin"), "/api/v1/users?q=%00")
        .await
        .assert_problem(400, "invalid_query");
    // Public routes still check their parameters without a token.
    send(app.server.get("/api/v1/dictionaries?x=1"))
        .await
        .assert_problem(400, "invalid_query");
}

/// A group leader's grant covers groups: granted on the whole tree, they read the members of
/// every group, and no member outside a group, in lists and one by one alike.
#[actix_web::test]
async fn a_group_leader_on_the_whole_tree_reads_only_members_in_groups() {
    let app = spawn_app().await;
    let w = world::build(&app).await;
    let admin = w.token("admin");
    let mut in_group = world::member_body("程军", &w.branch_a, &world::id_number("340822", "19800101", "011"));
    in_group["group_id"] = json!(w.group_a);
    let in_group = world::create_member(&app, admin, in_group).await;
    let no_group = world::create_member(
        &app,
        admin,
        world::member_body("王芳", &w.branch_b, &world::id_number("340822", "19810101", "022")),
    )
    .await;
    let (_, token) = world::add_account(&app, admin, "leader_all", &w.root, "group_leader", &w.root).await;

    let list = world::get(&app, &token, "/api/v1/members").await;
    assert_eq!(list.status, 200, "{}", list.text());
    let items = list.json()["items"].as_array().unwrap().clone();
    let names: Vec<&str> = items.iter().map(|m| m["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["程军"], "only the member in a group");
    let one = |m: &Value| format!("/api/v1/members/{}", m["id"].as_str().unwrap());
    assert_eq!(world::get(&app, &token, &one(&in_group)).await.status, 200);
    world::get(&app, &token, &one(&no_group))
        .await
        .assert_problem(404, "not_found");
}

/// A pledge keeps the group it was made in even after the group is deleted (its members moved
/// away): a deleted group gives nobody rights, so a group leader whose grant covers the
/// branch no longer reads the pledge through that group, one by one or in a list.
#[actix_web::test]
async fn a_deleted_group_gives_no_rights_over_the_pledges_that_name_it() {
    let app = spawn_app().await;
    let w = world::build(&app).await;
    let (admin, sec) = (w.token("admin"), w.token("sec_a"));
    let group = world::create(
        &app,
        admin,
        "/api/v1/orgs",
        json!({"parent_id": w.branch_a, "kind": "group", "name": "小组C"}),
    )
    .await;
    let group_id = group["id"].as_str().unwrap();
    let mut body = world::member_body("程军", &w.branch_a, &world::id_number("340822", "19800101", "011"));
    body["group_id"] = json!(group_id);
    let member = world::create_member(&app, sec, body).await;
    let member_id = member["id"].as_str().unwrap();
    let mut pledge = world::pledge_body("修路");
    pledge["kind"] = json!("individual");
    pledge["member_id"] = json!(member_id);
    let pledge = world::create_pledge(&app, sec, pledge).await;
    assert_eq!(pledge["group_id"], group_id, "{pledge}");
    let pledge_path = format!("/api/v1/pledges/{}", pledge["id"].as_str().unwrap());

    // A group leader granted on the branch reads it through its group.
    let (_, token) = world::add_account(&app, admin, "leader_branch", &w.branch_a, "group_leader", &w.branch_a).await;
    assert_eq!(world::get(&app, &token, &pledge_path).await.status, 200);

    // The member leaves the group, the group is deleted.
    let member_path = format!("/api/v1/members/{member_id}");
    let tag = world::get(&app, sec, &member_path)
        .await
        .header("etag")
        .unwrap()
        .to_owned();
    let moved = send_json(
        app.server
            .patch(&member_path)
            .bearer_auth(sec)
            .insert_header(("If-Match", tag)),
        &json!({"group_id": null}),
    )
    .await;
    assert_eq!(moved.status, 200, "{}", moved.text());
    let group_path = format!("/api/v1/orgs/{group_id}");
    let tag = world::get(&app, admin, &group_path)
        .await
        .header("etag")
        .unwrap()
        .to_owned();
    let deleted = send(
        app.server
            .delete(&group_path)
            .bearer_auth(admin)
            .insert_header(("If-Match", tag)),
    )
    .await;
    assert!(deleted.status.is_success(), "{}", deleted.text());

    world::get(&app, &token, &pledge_path)
        .await
        .assert_problem(404, "not_found");
    let list = world::get(&app, &token, "/api/v1/pledges").await;
    assert_eq!(list.status, 200, "{}", list.text());
    assert_eq!(list.json()["items"], json!([]), "{}", list.text());
    // Its branch still reads it.
    assert_eq!(world::get(&app, sec, &pledge_path).await.status, 200);
}
