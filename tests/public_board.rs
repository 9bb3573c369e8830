//! The public side of pledges (no token): the board (公示栏) shows approved-and-later pledges
//! only and no personal data, is cacheable, and carries the branch's answers to supervision
//! feedback (群众监督), which is rate-limited, masked for the branch and moderated.

mod common;

use std::collections::BTreeSet;

use common::world::{
    self, CHENG_ADDRESS, CHENG_PHONE, PledgeMembers, World, cheng_id_number, create_member, create_pledge, get,
    member_body, pledge_body, pledge_in_state, pledge_members, pledge_step, wang_id_number,
};
use common::{Reply, TestApp, send, send_json, spawn_app, spawn_app_with_env};
use serde_json::{Value, json};

async fn setup_on(app: TestApp) -> (TestApp, World, PledgeMembers) {
    let mut w = world::build(&app).await;
    let m = pledge_members(&app, &mut w).await;
    (app, w, m)
}

async fn setup() -> (TestApp, World, PledgeMembers) {
    setup_on(spawn_app().await).await
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().unwrap_or_else(|| panic!("no id in {v}")).to_owned()
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .cloned()
        .collect()
}

fn key_set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

/// Every key anywhere in `v`.
fn all_keys(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                out.insert(k.clone());
                all_keys(v, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| all_keys(v, out)),
        _ => {}
    }
}

/// The public board, without a token.
async fn board(app: &TestApp, org: &str, query: &str) -> Reply {
    send(app.server.get(format!("/api/v1/public/orgs/{org}/board{query}"))).await
}

async fn board_json(app: &TestApp, org: &str, query: &str) -> Value {
    let reply = board(app, org, query).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()
}

/// Every pledge on a board, in order.
fn board_pledges(board: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    for section in board["sections"].as_array().unwrap() {
        out.extend(section["collective"].as_array().unwrap().iter().cloned());
        for member in section["members"].as_array().unwrap() {
            out.extend(member["pledges"].as_array().unwrap().iter().cloned());
        }
    }
    out
}

fn titles(pledges: &[Value]) -> Vec<String> {
    pledges
        .iter()
        .map(|p| p["title"].as_str().unwrap().to_owned())
        .collect()
}

/// A pledge of 程军's (member_a's) for 2017, moved to `state` (sec_a reviews).
async fn cheng_pledge(app: &TestApp, w: &World, title: &str, state: &str) -> Value {
    pledge_in_state(app, w.token("member_a"), w.token("sec_a"), pledge_body(title), state).await
}

const PUBLIC_PLEDGE_KEYS: [&str; 12] = [
    "id",
    "title",
    "content",
    "category",
    "state",
    "state_label",
    "due_on",
    "overdue",
    "progress_percent",
    "latest_progress",
    "villager_group",
    "feedback",
];

#[actix_web::test]
async fn the_board_shows_approved_and_later_pledges_and_no_personal_data() {
    let (app, w, m) = setup().await;
    let (sec, admin) = (w.token("sec_a"), w.token("admin"));
    // 程军 holds a pioneer post.
    let reply = send_json(
        app.server
            .post(format!("/api/v1/members/{}/posts", m.cheng_id()))
            .bearer_auth(sec),
        &json!({"kind": "pioneer_post", "title": "党员先锋岗", "duty": "环境整治", "org_id": w.branch_a,
            "start_on": "2017-01-01"}),
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.text());

    // 程军: one pledge in every state.
    let mut by_state = std::collections::HashMap::new();
    for state in [
        "draft",
        "submitted",
        "returned",
        "withdrawn",
        "approved",
        "in_progress",
        "fulfilled",
        "evaluated",
    ] {
        let p = cheng_pledge(&app, &w, &format!("程军-{state}"), state).await;
        by_state.insert(state, id_of(&p));
    }
    let reply = send_json(
        app.server
            .post(format!("/api/v1/pledges/{}/progress", by_state["in_progress"]))
            .bearer_auth(w.token("leader_a")),
        &json!({"note": "已完成一半", "percentage": 50, "evidence": ["https://example.cn/half.jpg"]}),
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    // 王书记 (sec_a's own, the administrator reviews), collective pledges of 小组A.
    let wang = pledge_in_state(&app, sec, admin, pledge_body("王书记-in_progress"), "in_progress").await;
    let collective = |title: &str, org: &str| {
        let mut b = pledge_body(title);
        b["kind"] = json!("collective");
        b["org_id"] = json!(org);
        b["category"] = json!("environment");
        b
    };
    let group_approved = pledge_in_state(&app, sec, admin, collective("小组A-approved", &w.group_a), "approved").await;
    pledge_in_state(&app, sec, admin, collective("小组A-submitted", &w.group_a), "submitted").await;
    // Another year, and 支部B.
    let mut next_year = pledge_body("程军-2018");
    next_year["year"] = json!(2018);
    let next_year = pledge_in_state(&app, w.token("member_a"), sec, next_year, "approved").await;
    let li = create_member(
        &app,
        w.token("sec_b"),
        member_body("李四", &w.branch_b, &world::id_number("340822", "19800808", "035")),
    )
    .await;
    pledge_in_state(
        &app,
        w.token("sec_b"),
        admin,
        collective("支部B-approved", &w.branch_b),
        "approved",
    )
    .await;

    let reply = board(&app, &w.branch_a, "?year=2017").await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let b = reply.json();
    assert_eq!(
        keys(&b),
        key_set(&["org_id", "org_name", "year", "rating_year", "sections", "next_cursor"])
    );
    assert_eq!(b["next_cursor"], Value::Null, "a branch's board is one page");
    assert_eq!(b["org_id"], w.branch_a.as_str());
    assert_eq!(b["org_name"], "支部A");
    assert_eq!(b["year"], 2017);
    let sections = b["sections"].as_array().unwrap();
    let names: Vec<&str> = sections.iter().map(|s| s["org_name"].as_str().unwrap()).collect();
    assert_eq!(names, ["支部A", "小组A"], "{b}");
    for s in sections {
        assert_eq!(
            keys(s),
            key_set(&["org_id", "org_name", "star_rating", "collective", "members"])
        );
    }
    let (branch, group) = (&sections[0], &sections[1]);
    assert_eq!(branch["org_id"], w.branch_a.as_str());
    assert_eq!(group["org_id"], w.group_a.as_str());
    assert_eq!(branch["collective"], json!([]));
    assert_eq!(titles(group["collective"].as_array().unwrap()), ["小组A-approved"]);
    assert_eq!(group["members"], json!([]));
    let members = branch["members"].as_array().unwrap();
    let people: Vec<&str> = members.iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(people, ["王书记", "程军"], "sorted by name");
    for person in members {
        assert_eq!(keys(person), key_set(&["name", "posts", "star_rating", "pledges"]));
    }
    assert_eq!(members[0]["posts"], json!([]));
    assert_eq!(
        titles(members[0]["pledges"].as_array().unwrap()),
        ["王书记-in_progress"]
    );
    assert_eq!(members[1]["posts"], json!(["党员先锋岗：环境整治"]));
    let cheng = members[1]["pledges"].as_array().unwrap().clone();
    assert_eq!(
        titles(&cheng),
        ["程军-approved", "程军-in_progress", "程军-fulfilled", "程军-evaluated"]
    );

    // Each public pledge: exactly these fields, labels for people.
    for p in board_pledges(&b) {
        assert_eq!(keys(&p), key_set(&PUBLIC_PLEDGE_KEYS), "{p}");
        assert_eq!(p["feedback"], json!([]), "no feedback answered yet");
        assert_eq!(p["overdue"], false);
        assert!(p["villager_group"].is_null(), "{p}");
    }
    let labels: Vec<(&str, &str, &str)> = cheng
        .iter()
        .map(|p| {
            (
                p["state"].as_str().unwrap(),
                p["state_label"].as_str().unwrap(),
                p["category"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        labels,
        [
            ("approved", "已公示", "基础设施"),
            ("in_progress", "践诺中", "基础设施"),
            ("fulfilled", "已兑现", "基础设施"),
            ("evaluated", "已评议", "基础设施"),
        ]
    );
    assert_eq!(group["collective"][0]["category"], "环境整治");
    assert_eq!(group["collective"][0]["id"], id_of(&group_approved).as_str());
    let started = &cheng[1];
    assert_eq!(started["id"], by_state["in_progress"].as_str());
    assert_eq!(started["content"], "程军-in_progress：年内完成");
    assert_eq!(started["progress_percent"], 50);
    assert_eq!(
        keys(&started["latest_progress"]),
        key_set(&["note", "percentage", "at"])
    );
    assert_eq!(started["latest_progress"]["note"], "已完成一半");
    assert_eq!(started["latest_progress"]["percentage"], 50);
    assert!(cheng[0]["latest_progress"].is_null());
    assert_eq!(cheng[2]["progress_percent"], 100);
    assert_eq!(members[0]["pledges"][0]["id"], id_of(&wang).as_str());

    // Never draft, submitted, returned or withdrawn; never another year's or branch's.
    let text = reply.text();
    for hidden in [
        "程军-draft",
        "程军-submitted",
        "程军-returned",
        "程军-withdrawn",
        "小组A-submitted",
        "程军-2018",
        "支部B-approved",
    ] {
        assert!(!text.contains(hidden), "{hidden} is on the board: {text}");
    }
    for state in ["draft", "submitted", "returned", "withdrawn"] {
        assert!(!text.contains(&by_state[state]), "{state} pledge's id is on the board");
    }

    // No personal data: no ID number, phone, birth date, address, gender; no ids of member
    // records or accounts; no usernames.
    let cheng_number = cheng_id_number();
    let wang_number = wang_id_number();
    let mut forbidden: Vec<String> = vec![
        cheng_number.clone(),
        wang_number.clone(),
        format!("{}************", &cheng_number[..6]),
        format!("{}****", &cheng_number[..6]),
        CHENG_PHONE.into(),
        format!("{}****{}", &CHENG_PHONE[..3], &CHENG_PHONE[7..]),
        "1979-03-15".into(),
        "1970-01-01".into(),
        "19790315".into(),
        CHENG_ADDRESS.into(),
        m.cheng_id().into(),
        m.wang_id().into(),
        id_of(&li),
        "male".into(),
        "female".into(),
    ];
    forbidden.extend(w.users.values().cloned());
    forbidden.extend(w.users.keys().cloned());
    for needle in &forbidden {
        assert!(!text.contains(needle.as_str()), "board leaks {needle}: {text}");
    }
    let mut found = BTreeSet::new();
    all_keys(&b, &mut found);
    for key in [
        "member_id",
        "user_id",
        "actor_user_id",
        "actor_name",
        "author_user_id",
        "id_number",
        "phone",
        "birth_date",
        "address",
        "gender",
        "username",
        "evidence",
        "sender_name",
    ] {
        assert!(!found.contains(key), "board has a `{key}` field");
    }

    // The whole town; 支部B alone; another year.
    let town = board_json(&app, &w.root, "?year=2017").await;
    let names: BTreeSet<&str> = town["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["org_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["支部A", "小组A", "支部B"].into_iter().collect());
    assert_eq!(board_pledges(&town).len(), 7);

    // A town's board is paged by section: one a page, the pages add up to the whole board
    // in the same order, and the total counts sections, not pledges.
    let mut paged = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = board_json(
            &app,
            &w.root,
            &format!("?year=2017&limit=1&include_total=true&cursor={cursor}"),
        )
        .await;
        assert_eq!(page["total"], 3, "{page}");
        let sections = page["sections"].as_array().unwrap();
        assert_eq!(sections.len(), 1, "{page}");
        paged.extend(sections.iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(
        Value::Array(paged),
        town["sections"],
        "the pages make up the whole board"
    );
    let reply = board(&app, &w.root, "?year=2017&cursor=not-a-cursor").await;
    reply.assert_problem(400, "invalid_cursor");
    let reply = board(&app, &w.root, "?year=2017&limit=0").await;
    reply.assert_problem(400, "invalid_query");
    let b_board = board_json(&app, &w.branch_b, "?year=2017").await;
    assert_eq!(titles(&board_pledges(&b_board)), ["支部B-approved"]);
    let later = board_json(&app, &w.branch_a, "?year=2018").await;
    assert_eq!(titles(&board_pledges(&later)), ["程军-2018"]);
    assert_eq!(board_pledges(&later)[0]["id"], id_of(&next_year).as_str());
    // The default year is this year, when nothing was pledged.
    let now = board_json(&app, &w.branch_a, "").await;
    let this_year = chrono::Datelike::year(&chrono::Utc::now().date_naive());
    assert_eq!(now["year"], this_year);
    assert_eq!(now["sections"], json!([]));

    // Approving a pledge puts it on the board.
    let reply = pledge_step(&app, w.token("sec_a"), &by_state["submitted"], "approve", None).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let after = board_json(&app, &w.branch_a, "?year=2017").await;
    assert!(titles(&board_pledges(&after)).contains(&"程军-submitted".to_string()));
}

#[actix_web::test]
async fn overdue_pledges_are_marked_on_the_board() {
    let (app, w, _m) = setup().await;
    let mut body = pledge_body("逾期承诺");
    body["due_on"] = json!("2017-01-31");
    pledge_in_state(&app, w.token("member_a"), w.token("sec_a"), body, "approved").await;
    let b = board_json(&app, &w.branch_a, "?year=2017").await;
    let pledges = board_pledges(&b);
    assert_eq!(pledges.len(), 1);
    assert_eq!(pledges[0]["overdue"], true);
    assert_eq!(pledges[0]["due_on"], "2017-01-31");
}

#[actix_web::test]
async fn the_board_is_cacheable_and_unknown_organisations_are_404() {
    let (app, w, _m) = setup().await;
    let p = cheng_pledge(&app, &w, "公示", "approved").await;
    let first = board(&app, &w.branch_a, "?year=2017").await;
    assert_eq!(first.status, 200, "{}", first.text());
    assert_eq!(first.header("cache-control"), Some("public, max-age=60"));
    let tag = first.header("etag").expect("ETag").to_owned();
    assert!(tag.starts_with('"') && tag.ends_with('"'), "{tag}");

    // The same board again: the same tag and body; with If-None-Match, 304 and no body.
    let again = board(&app, &w.branch_a, "?year=2017").await;
    assert_eq!(again.header("etag"), Some(tag.as_str()));
    assert_eq!(again.body, first.body);
    let not_modified = send(
        app.server
            .get(format!("/api/v1/public/orgs/{}/board?year=2017", w.branch_a))
            .insert_header(("If-None-Match", tag.clone())),
    )
    .await;
    assert_eq!(not_modified.status, 304, "{}", not_modified.text());
    assert!(not_modified.body.is_empty());
    assert_eq!(not_modified.header("etag"), Some(tag.as_str()));
    assert_eq!(not_modified.header("cache-control"), Some("public, max-age=60"));
    let listed = send(
        app.server
            .get(format!("/api/v1/public/orgs/{}/board?year=2017", w.branch_a))
            .insert_header(("If-None-Match", format!("\"other\", {tag}"))),
    )
    .await;
    assert_eq!(listed.status, 304);

    // A change (progress) changes the board and its tag.
    let reply = send_json(
        app.server
            .post(format!("/api/v1/pledges/{}/progress", id_of(&p)))
            .bearer_auth(w.token("member_a")),
        &json!({"note": "开工", "percentage": 10}),
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    let changed = send(
        app.server
            .get(format!("/api/v1/public/orgs/{}/board?year=2017", w.branch_a))
            .insert_header(("If-None-Match", tag.clone())),
    )
    .await;
    assert_eq!(changed.status, 200);
    assert_ne!(changed.header("etag"), Some(tag.as_str()));
    assert_eq!(board_pledges(&changed.json())[0]["progress_percent"], 10);
    // Each year its own tag.
    let other_year = board(&app, &w.branch_a, "?year=2018").await;
    assert_ne!(other_year.header("etag"), changed.header("etag"));

    // Unknown organisations.
    board(&app, "01a21954-5986-705a-9dda-29f2d55e5871", "")
        .await
        .assert_problem(404, "not_found");
    board(&app, "not-a-uuid", "").await.assert_problem(400, "invalid_path");
}

/// Public feedback on a pledge, without a token.
async fn feedback(app: &TestApp, pledge: &str, body: &Value) -> Reply {
    send_json(
        app.server.post(format!("/api/v1/public/pledges/{pledge}/feedback")),
        body,
    )
    .await
}

/// The branch's view of a pledge's feedback, as `token`.
async fn branch_feedback(app: &TestApp, token: &str, pledge: &str) -> Vec<Value> {
    let reply = get(app, token, &format!("/api/v1/pledges/{pledge}/feedback")).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()["items"].as_array().unwrap().clone()
}

async fn moderate(app: &TestApp, token: &str, pledge: &str, fid: &str, what: &str, body: Value) -> Reply {
    send_json(
        app.server
            .post(format!("/api/v1/pledges/{pledge}/feedback/{fid}/{what}"))
            .bearer_auth(token),
        &body,
    )
    .await
}

/// The feedback under pledge `id` on 支部A's 2017 board.
async fn on_board(app: &TestApp, w: &World, id: &str) -> Vec<Value> {
    let b = board_json(app, &w.branch_a, "?year=2017").await;
    let p = board_pledges(&b)
        .into_iter()
        .find(|p| p["id"] == id)
        .unwrap_or_else(|| panic!("pledge {id} not on the board"));
    p["feedback"].as_array().unwrap().clone()
}

#[actix_web::test]
async fn feedback_is_masked_for_the_branch_and_only_answered_visible_feedback_is_public() {
    let (app, w, _m) = setup().await;
    let (sec, admin) = (w.token("sec_a"), w.token("admin"));
    let approved = id_of(&cheng_pledge(&app, &w, "修路灯", "approved").await);

    // Only pledges on the board take feedback.
    for state in ["draft", "submitted", "returned", "withdrawn"] {
        let p = cheng_pledge(&app, &w, state, state).await;
        feedback(&app, &id_of(&p), &json!({"message": "看看"}))
            .await
            .assert_problem(404, "not_found");
    }
    feedback(
        &app,
        "01a21954-5986-705a-9dda-29f2d55e5871",
        &json!({"message": "看看"}),
    )
    .await
    .assert_problem(404, "not_found");
    for state in ["in_progress", "fulfilled", "evaluated"] {
        let p = cheng_pledge(&app, &w, state, state).await;
        let reply = feedback(&app, &id_of(&p), &json!({"message": "加油"})).await;
        assert_eq!(reply.status, 201, "{state}: {}", reply.text());
    }

    // Not valid.
    for (body, pointer) in [
        (json!({"message": "好".repeat(501)}), "/message"),
        (json!({"message": "  "}), "/message"),
        (json!({"message": "电话不对", "phone": "12345"}), "/phone"),
        (json!({"message": "名字太长", "name": "名".repeat(51)}), "/name"),
    ] {
        let reply = feedback(&app, &approved, &body).await;
        let problem = reply.assert_problem(422, "validation_failed");
        assert_eq!(problem["errors"][0]["pointer"], pointer, "{problem}");
    }

    // Accepted: 500 characters is the most.
    let sent = [
        json!({"message": "路灯什么时候修好？", "name": "张三", "phone": "13900001111"}),
        json!({"message": "第二条，不回复"}),
        json!({"message": "第三条，回复后隐藏", "phone": "13700002222"}),
        json!({"message": "长".repeat(500)}),
    ];
    let mut fids = Vec::new();
    for body in &sent {
        let reply = feedback(&app, &approved, body).await;
        assert_eq!(reply.status, 201, "{}", reply.text());
        let receipt = reply.json();
        assert_eq!(keys(&receipt), key_set(&["id", "message"]));
        fids.push(id_of(&receipt));
    }

    // The branch reads it, newest first, the phone masked.
    let items = branch_feedback(&app, sec, &approved).await;
    let ids: Vec<String> = items.iter().map(id_of).collect();
    let newest_first: Vec<String> = fids.iter().rev().cloned().collect();
    assert_eq!(ids, newest_first);
    let first = &items[3];
    assert_eq!(first["message"], "路灯什么时候修好？");
    assert_eq!(first["sender_name"], "张三");
    assert_eq!(first["phone"], "139****1111");
    assert_eq!(first["pledge_id"], approved.as_str());
    assert_eq!(first["hidden"], false);
    assert!(first["reply"].is_null() && first["replied_at"].is_null(), "{first}");
    assert_eq!(items[1]["phone"], "137****2222");
    assert!(items[2]["phone"].is_null());
    for user in ["admin", "inspector", "sec_a"] {
        let reply = get(&app, w.token(user), &format!("/api/v1/pledges/{approved}/feedback")).await;
        assert_eq!(reply.status, 200, "{user}");
        for phone in ["13900001111", "13700002222"] {
            assert!(!reply.text().contains(phone), "{user} sees {phone} in clear");
        }
    }
    for (user, status, code) in [
        ("member_a", 403, "forbidden"),
        ("leader_a", 403, "forbidden"),
        ("sec_b", 404, "not_found"),
    ] {
        get(&app, w.token(user), &format!("/api/v1/pledges/{approved}/feedback"))
            .await
            .assert_problem(status, code);
    }

    // Unanswered feedback is not public.
    assert_eq!(on_board(&app, &w, &approved).await, Vec::<Value>::new());

    // Answers: the branch and the administrator; nobody else.
    let reply = moderate(
        &app,
        sec,
        &approved,
        &fids[0],
        "reply",
        json!({"reply": "本月底前修好"}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let answered = reply.json();
    assert_eq!(answered["reply"], "本月底前修好");
    assert!(answered["replied_at"].is_string(), "{answered}");
    assert_eq!(answered["phone"], "139****1111");
    let reply = moderate(&app, admin, &approved, &fids[2], "reply", json!({"reply": "已转交"})).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    for (user, status, code) in [
        ("member_a", 403, "forbidden"),
        ("leader_a", 403, "forbidden"),
        ("inspector", 403, "forbidden"),
        ("sec_b", 404, "not_found"),
    ] {
        for (what, body) in [
            ("reply", json!({"reply": "越权回复"})),
            ("visibility", json!({"hidden": true})),
        ] {
            moderate(&app, w.token(user), &approved, &fids[1], what, body)
                .await
                .assert_problem(status, code);
        }
    }
    let reply = moderate(&app, sec, &approved, &fids[1], "reply", json!({"reply": " "})).await;
    reply.assert_problem(422, "validation_failed");
    moderate(
        &app,
        sec,
        &approved,
        "01a21954-5986-705a-9dda-29f2d55e5871",
        "reply",
        json!({"reply": "无此留言"}),
    )
    .await
    .assert_problem(404, "not_found");

    // Hide the third: answered and visible feedback only is public.
    let reply = moderate(&app, sec, &approved, &fids[2], "visibility", json!({"hidden": true})).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["hidden"], true);
    let public = on_board(&app, &w, &approved).await;
    assert_eq!(public.len(), 1, "{public:?}");
    assert_eq!(keys(&public[0]), key_set(&["message", "reply", "replied_at"]));
    assert_eq!(public[0]["message"], "路灯什么时候修好？");
    assert_eq!(public[0]["reply"], "本月底前修好");
    assert_eq!(public[0]["replied_at"], answered["replied_at"]);
    let text = board(&app, &w.branch_a, "?year=2017").await.text();
    for secret in [
        "张三",
        "13900001111",
        "139****1111",
        "13700002222",
        "第二条，不回复",
        "第三条，回复后隐藏",
        "已转交",
    ] {
        assert!(!text.contains(secret), "board shows {secret}");
    }
    let hidden: Vec<bool> = branch_feedback(&app, sec, &approved)
        .await
        .iter()
        .map(|f| f["hidden"].as_bool().unwrap())
        .collect();
    assert_eq!(
        hidden,
        [false, true, false, false],
        "the branch still sees hidden feedback"
    );

    // Shown again, it is back, in the order it was sent.
    let reply = moderate(&app, sec, &approved, &fids[2], "visibility", json!({"hidden": false})).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let public: Vec<String> = on_board(&app, &w, &approved)
        .await
        .iter()
        .map(|f| f["message"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(public, ["路灯什么时候修好？", "第三条，回复后隐藏"]);
}

#[actix_web::test]
async fn feedback_is_rate_limited_per_address() {
    let app = spawn_app_with_env(&[("DANGJIAN_FEEDBACK_RATE_PER_HOUR", "2")]).await;
    let (app, w, _m) = setup_on(app).await;
    let first = id_of(&cheng_pledge(&app, &w, "第一", "approved").await);
    let second = id_of(&cheng_pledge(&app, &w, "第二", "approved").await);
    for n in 1..=2 {
        let reply = feedback(&app, &first, &json!({"message": format!("第{n}条")})).await;
        assert_eq!(reply.status, 201, "{n}: {}", reply.text());
    }
    let reply = feedback(&app, &first, &json!({"message": "第3条"})).await;
    reply.assert_problem(429, "rate_limited");
    let wait: u64 = reply
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("seconds");
    assert!((1..=3600).contains(&wait), "{wait}");
    // Per address, not per pledge.
    let reply = feedback(&app, &second, &json!({"message": "换一条承诺"})).await;
    reply.assert_problem(429, "rate_limited");
    assert_eq!(branch_feedback(&app, w.token("sec_a"), &first).await.len(), 2);
    assert!(branch_feedback(&app, w.token("sec_a"), &second).await.is_empty());
    // Signed-in work is not limited by it.
    let reply = create_pledge(&app, w.token("member_a"), pledge_body("照常")).await;
    assert_eq!(reply["state"], "draft");
}

#[actix_web::test]
async fn a_public_pledge_stays_on_its_branchs_board_when_its_member_moves() {
    let (app, w, m) = setup().await;
    let p = cheng_pledge(&app, &w, "转走前的承诺", "approved").await;
    let path = format!("/api/v1/members/{}", m.cheng_id());
    let tag = get(&app, w.token("admin"), &path)
        .await
        .header("etag")
        .expect("ETag")
        .to_owned();
    let reply = send_json(
        app.server
            .post(format!("{path}/transfer"))
            .bearer_auth(w.token("admin"))
            .insert_header(("If-Match", tag)),
        &json!({"org_id": w.branch_b}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    // The pledge is still 支部A's.
    let view = get(&app, w.token("sec_a"), &format!("/api/v1/pledges/{}", id_of(&p))).await;
    assert_eq!(view.status, 200);
    assert_eq!(view.json()["org_id"], w.branch_a.as_str());

    let a = board_json(&app, &w.branch_a, "?year=2017").await;
    assert_eq!(titles(&board_pledges(&a)), ["转走前的承诺"], "{a}");
    let town = board_json(&app, &w.root, "?year=2017").await;
    let sections: Vec<(String, Vec<String>)> = town["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["org_name"].as_str().unwrap().to_owned(),
                titles(&board_pledges(&json!({"sections": [s]}))),
            )
        })
        .collect();
    assert_eq!(
        sections,
        [("支部A".to_string(), vec!["转走前的承诺".to_string()])],
        "{town}"
    );
}
