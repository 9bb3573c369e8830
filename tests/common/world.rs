//! A small organisation tree with one account per role, built through the API, for the
//! access tests:
//!
//! ```text
//! 镇党委 (root)            admin: town_admin, inspector: inspector
//! ├── 支部A (branch)        sec_a: branch_secretary, member_a: member
//! │   └── 小组A (group)      leader_a: group_leader
//! └── 支部B (branch)        sec_b: branch_secretary
//!     └── 小组B (group)
//! ```
#![allow(dead_code)]

use std::collections::HashMap;

use serde_json::{Value, json};

use super::{Reply, TestApp, send, send_json};

pub const PASSWORD: &str = "Test-pass-2017";

pub struct World {
    pub root: String,
    pub branch_a: String,
    pub group_a: String,
    pub branch_b: String,
    pub group_b: String,
    /// username → access token
    pub tokens: HashMap<String, String>,
    /// username → user id
    pub users: HashMap<String, String>,
}

impl World {
    pub fn token(&self, username: &str) -> &str {
        self.tokens
            .get(username)
            .unwrap_or_else(|| panic!("no token for {username}"))
    }

    pub fn user(&self, username: &str) -> &str {
        self.users.get(username).unwrap_or_else(|| panic!("no user {username}"))
    }
}

/// Signs in through the API.
pub async fn login(app: &TestApp, username: &str, password: &str) -> Reply {
    send_json(
        app.server.post("/api/v1/auth/login"),
        &json!({"username": username, "password": password}),
    )
    .await
}

/// Creates the administrator (as `dangjian create-admin` does) and returns its token.
pub async fn admin_token(app: &TestApp) -> String {
    dangjian::users::admin::create_or_reset_admin(&app.db, "admin", PASSWORD)
        .await
        .expect("admin created");
    let reply = login(app, "admin", PASSWORD).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()["access_token"].as_str().unwrap().to_owned()
}

/// POSTs JSON with a token and expects 201; returns the body.
pub async fn create(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let reply = send_json(app.server.post(path).bearer_auth(token), &body).await;
    assert_eq!(reply.status, 201, "POST {path} {body}: {}", reply.text());
    reply.json()
}

pub async fn get(app: &TestApp, token: &str, path: &str) -> Reply {
    send(app.server.get(path).bearer_auth(token)).await
}

pub async fn build(app: &TestApp) -> World {
    let admin = admin_token(app).await;
    let me = get(app, &admin, "/api/v1/me").await.json();
    let root = me["grants"][0]["org_id"].as_str().unwrap().to_owned();
    let org = |parent: &str, kind: &str, name: &str| json!({"parent_id": parent, "kind": kind, "name": name});
    let branch_a = create(app, &admin, "/api/v1/orgs", org(&root, "branch", "支部A")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let group_a = create(app, &admin, "/api/v1/orgs", org(&branch_a, "group", "小组A")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let branch_b = create(app, &admin, "/api/v1/orgs", org(&root, "branch", "支部B")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let group_b = create(app, &admin, "/api/v1/orgs", org(&branch_b, "group", "小组B")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let mut tokens = HashMap::from([("admin".to_string(), admin.clone())]);
    let mut users = HashMap::from([("admin".to_string(), me["id"].as_str().unwrap().to_owned())]);
    for (username, role, org_id) in [
        ("inspector", "inspector", &root),
        ("sec_a", "branch_secretary", &branch_a),
        ("member_a", "member", &branch_a),
        ("leader_a", "group_leader", &group_a),
        ("sec_b", "branch_secretary", &branch_b),
    ] {
        let user = create(
            app,
            &admin,
            "/api/v1/users",
            json!({"username": username, "password": PASSWORD, "org_id": org_id}),
        )
        .await;
        let id = user["id"].as_str().unwrap().to_owned();
        create(
            app,
            &admin,
            &format!("/api/v1/users/{id}/grants"),
            json!({"role": role, "org_id": org_id}),
        )
        .await;
        let reply = login(app, username, PASSWORD).await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        tokens.insert(
            username.to_string(),
            reply.json()["access_token"].as_str().unwrap().to_owned(),
        );
        users.insert(username.to_string(), id);
    }
    World {
        root,
        branch_a,
        group_a,
        branch_b,
        group_b,
        tokens,
        users,
    }
}
