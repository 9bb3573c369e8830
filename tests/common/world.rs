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
        let (id, token) = add_account(app, &admin, username, org_id, role, org_id).await;
        tokens.insert(username.to_string(), token);
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

/// Creates an account at `home_org` with one grant of `role` on `grant_org`, as `admin`, and
/// signs it in: returns its id and access token.
pub async fn add_account(
    app: &TestApp,
    admin: &str,
    username: &str,
    home_org: &str,
    role: &str,
    grant_org: &str,
) -> (String, String) {
    let user = create(
        app,
        admin,
        "/api/v1/users",
        json!({"username": username, "password": PASSWORD, "org_id": home_org}),
    )
    .await;
    let id = user["id"].as_str().unwrap().to_owned();
    create(
        app,
        admin,
        &format!("/api/v1/users/{id}/grants"),
        json!({"role": role, "org_id": grant_org}),
    )
    .await;
    let reply = login(app, username, PASSWORD).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    (id, reply.json()["access_token"].as_str().unwrap().to_owned())
}

/// GB 11643 weights of the first 17 digits of a resident ID number.
const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

/// A resident ID number (身份证号) with the correct GB 11643 check character:
/// `region` (6 digits) + `birth` (YYYYMMDD) + `seq` (3 digits) + check.
pub fn id_number(region: &str, birth: &str, seq: &str) -> String {
    let body = format!("{region}{birth}{seq}");
    assert_eq!(body.len(), 17, "region 6 + birth 8 + seq 3 digits: {body}");
    let sum: u32 = body
        .chars()
        .zip(ID_WEIGHTS)
        .map(|(c, w)| c.to_digit(10).expect("digits only") * w)
        .sum();
    let check = b"10X98765432"[(sum % 11) as usize] as char;
    format!("{body}{check}")
}

/// The birth date an ID number encodes (digits 7–14), as `YYYY-MM-DD`.
pub fn birth_of(id_number: &str) -> String {
    format!("{}-{}-{}", &id_number[6..10], &id_number[10..12], &id_number[12..14])
}

/// The gender an ID number encodes: the 17th digit is odd for men, even for women.
pub fn gender_of(id_number: &str) -> &'static str {
    let digit = id_number[16..17].parse::<u32>().expect("17th character is a digit");
    if digit % 2 == 1 { "male" } else { "female" }
}

/// A valid body for `POST /api/v1/members`: a full, rural member of `org_id` whose birth date
/// and gender agree with `id_number`.
pub fn member_body(name: &str, org_id: &str, id_number: &str) -> Value {
    json!({
        "name": name,
        "gender": gender_of(id_number),
        "birth_date": birth_of(id_number),
        "id_number": id_number,
        "joined_on": "2015-07-01",
        "status": "full",
        "org_id": org_id,
        "rural": true,
    })
}

/// Creates a party member and returns its view (expects 201).
pub async fn create_member(app: &TestApp, token: &str, body: Value) -> Value {
    create(app, token, "/api/v1/members", body).await
}

/// Links an account to a party member record (`PATCH /api/v1/users/{id}` with the account's
/// current ETag), as `token`.
pub async fn link_member(app: &TestApp, token: &str, user_id: &str, member_id: &str) -> Reply {
    let path = format!("/api/v1/users/{user_id}");
    let current = get(app, token, &path).await;
    assert_eq!(current.status, 200, "GET {path}: {}", current.text());
    let tag = current.header("etag").expect("ETag on a user").to_owned();
    send_json(
        app.server
            .patch(&path)
            .bearer_auth(token)
            .insert_header(("If-Match", tag)),
        &json!({"member_id": member_id}),
    )
    .await
}

/// How many party members `token` sees (`GET /api/v1/members?include_total=true`).
pub async fn member_count(app: &TestApp, token: &str) -> u64 {
    let reply = get(app, token, "/api/v1/members?include_total=true").await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()["total"].as_u64().expect("total")
}

// ── Pledges (承诺) ──────────────────────────────────────────────────────────────────────────

/// 程军's phone and address, to look for where they must not appear.
pub const CHENG_PHONE: &str = "13812345678";
pub const CHENG_ADDRESS: &str = "司山村十二号";

/// The member records behind the pledge tests, as `POST /api/v1/members` returned them.
pub struct PledgeMembers {
    /// 程军: 支部A, 小组A, with a phone and an address; member_a's account is linked to him.
    pub cheng: Value,
    /// 王书记: 支部A, no group; sec_a's own record (sec_a's account is linked to it).
    pub wang: Value,
}

impl PledgeMembers {
    pub fn cheng_id(&self) -> &str {
        self.cheng["id"].as_str().expect("member id")
    }

    pub fn wang_id(&self) -> &str {
        self.wang["id"].as_str().expect("member id")
    }
}

/// 程军's and 王书记's ID numbers.
pub fn cheng_id_number() -> String {
    id_number("340822", "19790315", "013")
}

pub fn wang_id_number() -> String {
    id_number("340822", "19700101", "021")
}

/// Creates 程军 and 王书记 as sec_a; sec_a links member_a's account to 程军 and the
/// administrator links sec_a's own account to 王书记 (nobody changes their own account); both
/// accounts sign in again so `w.token("member_a")` and `w.token("sec_a")` carry the links.
pub async fn pledge_members(app: &TestApp, w: &mut World) -> PledgeMembers {
    let sec = w.token("sec_a").to_owned();
    let admin = w.token("admin").to_owned();
    let mut body = member_body("程军", &w.branch_a, &cheng_id_number());
    body["group_id"] = json!(w.group_a);
    body["phone"] = json!(CHENG_PHONE);
    body["address"] = json!(CHENG_ADDRESS);
    let cheng = create_member(app, &sec, body).await;
    let wang = create_member(app, &sec, member_body("王书记", &w.branch_a, &wang_id_number())).await;
    for (username, member, by) in [("member_a", &cheng, &sec), ("sec_a", &wang, &admin)] {
        let reply = link_member(app, by, w.user(username), member["id"].as_str().unwrap()).await;
        assert_eq!(reply.status, 200, "link {username}: {}", reply.text());
        let reply = login(app, username, PASSWORD).await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        let token = reply.json()["access_token"].as_str().unwrap().to_owned();
        w.tokens.insert(username.to_string(), token);
    }
    PledgeMembers { cheng, wang }
}

/// A valid pledge body for 2017 (an individual pledge of the caller's own member record).
pub fn pledge_body(title: &str) -> Value {
    json!({
        "year": 2017,
        "title": title,
        "content": format!("{title}：年内完成"),
        "category": "infrastructure",
    })
}

/// Writes a pledge as `token` (expects 201); returns its view.
pub async fn create_pledge(app: &TestApp, token: &str, body: Value) -> Value {
    create(app, token, "/api/v1/pledges", body).await
}

/// `POST /api/v1/pledges/{id}/{transition}` as `token`, with a body if given.
pub async fn pledge_step(app: &TestApp, token: &str, id: &str, transition: &str, body: Option<Value>) -> Reply {
    let req = app
        .server
        .post(format!("/api/v1/pledges/{id}/{transition}"))
        .bearer_auth(token);
    match body {
        Some(body) => send_json(req, &body).await,
        None => send(req).await,
    }
}

/// The body a transition needs: a reason to return, a result to evaluate.
pub fn step_body(transition: &str) -> Option<Value> {
    match transition {
        "return" => Some(json!({"reason": "请写明完成时限"})),
        "evaluate" => Some(json!({"result": "satisfied", "comment": "群众满意"})),
        _ => None,
    }
}

/// The transitions that take a new draft to `state`.
pub fn steps_to(state: &str) -> &'static [&'static str] {
    match state {
        "draft" => &[],
        "submitted" => &["submit"],
        "returned" => &["submit", "return"],
        "withdrawn" => &["withdraw"],
        "approved" => &["submit", "approve"],
        "in_progress" => &["submit", "approve", "start"],
        "fulfilled" => &["submit", "approve", "start", "fulfil"],
        "evaluated" => &["submit", "approve", "start", "fulfil", "evaluate"],
        other => panic!("no such pledge state: {other}"),
    }
}

/// Moves pledge `id` from draft to `state`: `author` submits, starts, fulfils and withdraws,
/// `reviewer` approves, returns and evaluates; every step must succeed. Returns the view.
pub async fn advance(app: &TestApp, id: &str, state: &str, author: &str, reviewer: &str) -> Value {
    let mut view = Value::Null;
    for t in steps_to(state) {
        let token = if matches!(*t, "approve" | "return" | "evaluate") {
            reviewer
        } else {
            author
        };
        let reply = pledge_step(app, token, id, t, step_body(t)).await;
        assert_eq!(reply.status, 200, "{t} on {id}: {}", reply.text());
        view = reply.json();
    }
    if view.is_null() {
        view = get(app, author, &format!("/api/v1/pledges/{id}")).await.json();
    }
    assert_eq!(view["state"], state, "{view}");
    view
}

/// Writes a pledge as `author` and moves it to `state` (see [`advance`]); returns the view.
pub async fn pledge_in_state(app: &TestApp, author: &str, reviewer: &str, body: Value, state: &str) -> Value {
    let created = create_pledge(app, author, body).await;
    advance(app, created["id"].as_str().unwrap(), state, author, reviewer).await
}

// ── Households and pairings (贫困户, 结对帮扶) ───────────────────────────────────────────────

/// Registers a village served by `branch` (as `token`); returns its id.
pub async fn create_village(app: &TestApp, token: &str, branch: &str, name: &str) -> String {
    create(
        app,
        token,
        "/api/v1/villages",
        json!({"kind": "village", "name": name, "org_id": branch}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The head's ID number of test household `n` (distinct for each `n` below 1,000).
pub fn head_id_number(n: usize) -> String {
    id_number("340822", "19650512", &format!("{:03}", n % 1000))
}

/// A valid body for `POST /api/v1/households`: an ordinary household in poverty since 2014,
/// caused by illness.
pub fn household_body(head_name: &str, village_id: &str, id_number: &str) -> Value {
    json!({
        "head_name": head_name,
        "id_number": id_number,
        "village_id": village_id,
        "size": 4,
        "attribute": "ordinary",
        "main_cause": "illness",
        "identified_year": 2014,
        "status": "in_poverty",
    })
}

/// Registers a household (expects 201); returns its view.
pub async fn create_household(app: &TestApp, token: &str, body: Value) -> Value {
    create(app, token, "/api/v1/households", body).await
}

/// Pairs a helper (`{"member_id": …}` or `{"cadre_id": …}`) with a household from
/// 2017-03-01, as `token`.
pub async fn pair(app: &TestApp, token: &str, household_id: &str, helper: Value) -> Reply {
    let mut body = helper;
    body["household_id"] = json!(household_id);
    body["start_on"] = json!("2017-03-01");
    send_json(app.server.post("/api/v1/pairings").bearer_auth(token), &body).await
}

/// Logs a help record on a pairing as `token`.
pub async fn log_help(app: &TestApp, token: &str, pairing_id: &str, date: &str, kind: &str) -> Reply {
    send_json(
        app.server
            .post(format!("/api/v1/pairings/{pairing_id}/help-records"))
            .bearer_auth(token),
        &json!({"date": date, "kind": kind, "content": "走访了解生产生活情况"}),
    )
    .await
}
