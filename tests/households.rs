//! Poor households (贫困户): registration, personal data masked and revealed with an audit
//! event, If-Match on every change (people and incomes under the household's ETag), scope,
//! filters, CSV export and the all-or-nothing import. Households appear on no public endpoint.

mod common;

use common::world::{self, World, create, create_household, create_village, get, head_id_number, household_body};
use common::{Reply, TestApp, post_import, send, send_json, spawn_app};
use serde_json::{Value, json};

const PHONE: &str = "13912345678";

struct Setup {
    app: TestApp,
    w: World,
    /// 司山村, served by 支部A.
    village_a: String,
    /// 大洼村, served by 支部B.
    village_b: String,
}

async fn setup() -> Setup {
    let app = spawn_app().await;
    let w = world::build(&app).await;
    let admin = w.token("admin").to_owned();
    let village_a = create_village(&app, &admin, &w.branch_a, "司山村").await;
    let village_b = create_village(&app, &admin, &w.branch_b, "大洼村").await;
    Setup {
        app,
        w,
        village_a,
        village_b,
    }
}

async fn patch(app: &TestApp, token: &str, path: &str, etag: Option<&str>, body: Value) -> Reply {
    let mut req = app.server.patch(path).bearer_auth(token);
    if let Some(etag) = etag {
        req = req.insert_header(("If-Match", etag));
    }
    send_json(req, &body).await
}

async fn audit_actions(app: &TestApp, admin: &str, entity_id: &str) -> Vec<String> {
    let reply = get(
        app,
        admin,
        &format!("/api/v1/audit-events?entity_id={entity_id}&limit=100"),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn a_household_is_registered_with_its_personal_data_masked_and_revealed_only_with_an_audit_event() {
    let s = setup().await;
    let (app, w) = (&s.app, &s.w);
    let sec = w.token("sec_a");
    let mut body = household_body("李大山", &s.village_a, &head_id_number(1));
    body["phone"] = json!(PHONE);
    body["secondary_causes"] = json!(["lack_of_funds", "lack_of_skills"]);
    let reply = send_json(app.server.post("/api/v1/households").bearer_auth(sec), &body).await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    assert_eq!(reply.header("etag"), Some("\"1\""));
    let h = reply.json();
    let id = h["id"].as_str().unwrap();
    assert_eq!(
        reply.header("location"),
        Some(format!("/api/v1/households/{id}").as_str())
    );
    assert_eq!(h["id_number"], "340822************");
    assert_eq!(h["phone"], "139****5678");
    assert_eq!(
        h["org_id"],
        w.branch_a.as_str(),
        "belongs to the branch serving its village"
    );
    assert_eq!(h["secondary_causes"], json!(["lack_of_funds", "lack_of_skills"]));
    assert_eq!(h["pii_revealed"], false);

    // The stored row holds neither the number nor the phone in clear.
    let raw = stored_row(app, id).await;
    assert!(!raw.contains(&head_id_number(1)) && !raw.contains(PHONE), "{raw}");

    // The branch reveals, and it is audited.
    let reply = get(app, sec, &format!("/api/v1/households/{id}?reveal=pii")).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["id_number"], head_id_number(1));
    assert_eq!(reply.json()["phone"], PHONE);
    assert_eq!(reply.json()["pii_revealed"], true);
    let actions = audit_actions(app, w.token("admin"), id).await;
    assert!(actions.contains(&"household.reveal_pii".to_owned()), "{actions:?}");
    assert!(actions.contains(&"household.create".to_owned()), "{actions:?}");
    // The trail never holds the number.
    let trail = get(app, w.token("admin"), &format!("/api/v1/audit-events?entity_id={id}")).await;
    assert!(!trail.text().contains(&head_id_number(1)) && !trail.text().contains(PHONE));

    // The inspector reads, masked, and may not reveal; the other branch sees nothing.
    let reply = get(app, w.token("inspector"), &format!("/api/v1/households/{id}")).await;
    assert_eq!(reply.json()["id_number"], "340822************");
    get(
        app,
        w.token("inspector"),
        &format!("/api/v1/households/{id}?reveal=pii"),
    )
    .await
    .assert_problem(403, "forbidden");
    get(app, w.token("sec_b"), &format!("/api/v1/households/{id}"))
        .await
        .assert_problem(404, "not_found");
    get(app, w.token("member_a"), &format!("/api/v1/households/{id}"))
        .await
        .assert_problem(404, "not_found");
}

/// A stored household's encrypted fields and hash, as the database holds them.
async fn stored_row(app: &TestApp, id: &str) -> String {
    use sea_orm::EntityTrait;
    let row = dangjian::households::entity::household::Entity::find_by_id(id.parse::<uuid::Uuid>().unwrap())
        .one(&app.db)
        .await
        .unwrap()
        .expect("the row");
    format!("{} {:?} {}", row.id_number_enc, row.phone_enc, row.id_number_hash)
}

#[actix_web::test]
async fn no_household_field_is_reachable_without_a_token_or_on_a_public_page() {
    let s = setup().await;
    let (app, w) = (&s.app, &s.w);
    let h = create_household(
        app,
        w.token("sec_a"),
        household_body("李大山", &s.village_a, &head_id_number(1)),
    )
    .await;
    let id = h["id"].as_str().unwrap();
    for path in [
        "/api/v1/households".to_owned(),
        format!("/api/v1/households/{id}"),
        format!("/api/v1/households/{id}/pairings"),
        "/api/v1/help-records".to_owned(),
        "/api/v1/pairings/coverage".to_owned(),
        "/api/v1/cadres".to_owned(),
        "/api/v1/me/households".to_owned(),
    ] {
        send(app.server.get(&path)).await.assert_problem(401, "unauthorized");
    }
    // The public board of the branch names no household.
    let board = send(app.server.get(format!("/api/v1/public/orgs/{}/board", w.branch_a))).await;
    assert_eq!(board.status, 200, "{}", board.text());
    assert!(!board.text().contains("李大山"));
    // No public route of the spec is about households.
    let spec: Value = serde_json::from_str(&dangjian::openapi::spec_json()).unwrap();
    for (path, _) in spec["paths"].as_object().unwrap() {
        if path.starts_with("/api/v1/public") {
            assert!(
                !path.contains("household") && !path.contains("pairing") && !path.contains("help"),
                "{path}"
            );
        }
    }
}

#[actix_web::test]
async fn changes_need_if_match_and_keep_the_rules_of_a_new_record() {
    let s = setup().await;
    let (app, w) = (&s.app, &s.w);
    let sec = w.token("sec_a");
    let h = create_household(app, sec, household_body("李大山", &s.village_a, &head_id_number(1))).await;
    let path = format!("/api/v1/households/{}", h["id"].as_str().unwrap());

    patch(app, sec, &path, None, json!({"size": 5}))
        .await
        .assert_problem(428, "precondition_required");
    patch(app, sec, &path, Some("\"7\""), json!({"size": 5}))
        .await
        .assert_problem(412, "precondition_failed");
    // Lifted without the year: 422, nothing changed.
    let reply = patch(app, sec, &path, Some("\"1\""), json!({"status": "lifted"})).await;
    let problem = reply.assert_problem(422, "validation_failed");
    assert_eq!(problem["errors"][0]["pointer"], "/lifted_year");
    assert_eq!(get(app, sec, &path).await.json()["status"], "in_poverty");
    // The main cause twice: 422.
    let reply = patch(app, sec, &path, Some("\"1\""), json!({"secondary_causes": ["illness"]})).await;
    assert_eq!(
        reply.assert_problem(422, "validation_failed")["errors"][0]["pointer"],
        "/secondary_causes/0"
    );

    let reply = patch(
        app,
        sec,
        &path,
        Some("\"1\""),
        json!({"status": "lifted", "lifted_year": 2017, "phone": PHONE}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("etag"), Some("\"2\""));
    assert_eq!(reply.json()["status"], "lifted");
    assert_eq!(reply.json()["phone"], "139****5678");
    // Another branch's secretary and the inspector cannot change it.
    patch(app, w.token("sec_b"), &path, Some("\"2\""), json!({"size": 2}))
        .await
        .assert_problem(404, "not_found");
    patch(app, w.token("inspector"), &path, Some("\"2\""), json!({"size": 2}))
        .await
        .assert_problem(403, "forbidden");
}

#[actix_web::test]
async fn a_head_of_household_heads_one_household() {
    let s = setup().await;
    let (app, w) = (&s.app, &s.w);
    create_household(
        app,
        w.token("sec_a"),
        household_body("李大山", &s.village_a, &head_id_number(1)),
    )
    .await;
    let again = household_body("李大山", &s.village_a, &head_id_number(1));
    send_json(
        app.server.post("/api/v1/households").bearer_auth(w.token("sec_a")),
        &again,
    )
    .await
    .assert_problem(409, "conflict");
    // Branch B cannot see it: it is told neither where nor who.
    let elsewhere = household_body("李大山", &s.village_b, &head_id_number(1));
    send_json(
        app.server.post("/api/v1/households").bearer_auth(w.token("sec_b")),
        &elsewhere,
    )
    .await
    .assert_problem(409, "cannot_register_here");
    // A village out of scope is not found.
    let other = household_body("王五", &s.village_b, &head_id_number(2));
    send_json(
        app.server.post("/api/v1/households").bearer_auth(w.token("sec_a")),
        &other,
    )
    .await
    .assert_problem(404, "not_found");
}

#[actix_web::test]
async fn people_and_incomes_change_under_the_households_etag() {
    let s = setup().await;
    let (app, w) = (&s.app, &s.w);
    let sec = w.token("sec_a");
    let h = create_household(app, sec, household_body("李大山", &s.village_a, &head_id_number(1))).await;
    let base = format!("/api/v1/households/{}", h["id"].as_str().unwrap());
    let child_id = world::id_number("340822", "20080301", "024");
    let person =
        json!({"name": "李小花", "relation": "child", "id_number": child_id, "labour": "none", "in_school": true});

    let req = app.server.post(format!("{base}/people")).bearer_auth(sec);
    send_json(req, &person)
        .await
        .assert_problem(428, "precondition_required");
    let req = app
        .server
        .post(format!("{base}/people"))
        .bearer_auth(sec)
        .insert_header(("If-Match", "\"1\""));
    let reply = send_json(req, &person).await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    assert_eq!(reply.header("etag"), Some("\"2\""));
    let view = reply.json();
    assert_eq!(view["people"][0]["id_number"], "340822************");
    assert_eq!(view["people"][0]["in_school"], true);
    let person_id = view["people"][0]["id"].as_str().unwrap().to_owned();

    // Revealed, the person's number is whole; the trail of the change never holds it.
    let revealed = get(app, sec, &format!("{base}?reveal=pii")).await.json();
    assert_eq!(revealed["people"][0]["id_number"], child_id);
    let trail = get(
        app,
        w.token("admin"),
        &format!("/api/v1/audit-events?entity_id={}", h["id"].as_str().unwrap()),
    )
    .await;
    assert!(!trail.text().contains(&child_id), "{}", trail.text());

    // A stale ETag changes nothing.
    let req = app
        .server
        .put(format!("{base}/people/{person_id}"))
        .bearer_auth(sec)
        .insert_header(("If-Match", "\"1\""));
    let mut changed = person.clone();
    changed["working_away"] = json!(true);
    send_json(req, &changed)
        .await
        .assert_problem(412, "precondition_failed");
    let req = app
        .server
        .put(format!("{base}/people/{person_id}"))
        .bearer_auth(sec)
        .insert_header(("If-Match", "\"2\""));
    let reply = send_json(req, &changed).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["people"][0]["working_away"], true);
    assert_eq!(reply.json()["people"][0]["id"], person_id.as_str(), "the same person");

    // Income by year: set, replace, remove.
    let req = app
        .server
        .put(format!("{base}/incomes/2016"))
        .bearer_auth(sec)
        .insert_header(("If-Match", "\"3\""));
    let reply = send_json(req, &json!({"per_capita_fen": 280000})).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let req = app
        .server
        .put(format!("{base}/incomes/2016"))
        .bearer_auth(sec)
        .insert_header(("If-Match", "\"4\""));
    let reply = send_json(req, &json!({"per_capita_fen": 325000})).await;
    assert_eq!(
        reply.json()["incomes"],
        json!([{"year": 2016, "per_capita_fen": 325000}])
    );
    let req = app
        .server
        .put(format!("{base}/incomes/2016"))
        .bearer_auth(sec)
        .insert_header(("If-Match", "\"5\""));
    send_json(req, &json!({"per_capita_fen": -1}))
        .await
        .assert_problem(422, "validation_failed");
    let req = app
        .server
        .put(format!("{base}/incomes/1999"))
        .bearer_auth(sec)
        .insert_header(("If-Match", "\"5\""));
    send_json(req, &json!({"per_capita_fen": 1}))
        .await
        .assert_problem(400, "invalid_path");
    let reply = send(
        app.server
            .delete(format!("{base}/incomes/2016"))
            .bearer_auth(sec)
            .insert_header(("If-Match", "\"5\"")),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["incomes"], json!([]));
    let reply = send(
        app.server
            .delete(format!("{base}/people/{person_id}"))
            .bearer_auth(sec)
            .insert_header(("If-Match", "\"6\"")),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["people"], json!([]));
    assert_eq!(reply.header("etag"), Some("\"7\""));
}

/// `text` percent-encoded for a query string.
fn enc(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

fn head_names(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|h| h["head_name"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn lists_filter_by_status_attribute_cause_pairing_and_visits_and_export_masked_csv() {
    let s = setup().await;
    let (app, w) = (&s.app, &s.w);
    let sec = w.token("sec_a").to_owned();
    let admin = w.token("admin").to_owned();
    let group = create(
        app,
        &admin,
        "/api/v1/villager-groups",
        json!({"village_id": s.village_a, "name": "司山村民组"}),
    )
    .await;
    let mut a = household_body("甲", &s.village_a, &head_id_number(1));
    a["villager_group_id"] = group["id"].clone();
    a["phone"] = json!(PHONE);
    let a = create_household(app, &sec, a).await;
    let mut b = household_body("乙", &s.village_a, &head_id_number(2));
    b["attribute"] = json!("low_income");
    b["main_cause"] = json!("disability");
    b["secondary_causes"] = json!(["illness"]);
    b["status"] = json!("lifted");
    b["lifted_year"] = json!(2016);
    create_household(app, &sec, b).await;
    let mut c = household_body("丙", &s.village_a, &head_id_number(3));
    c["main_cause"] = json!("lack_of_water");
    create_household(app, w.token("sec_a"), c).await;
    create_household(
        app,
        w.token("sec_b"),
        household_body("丁", &s.village_b, &head_id_number(4)),
    )
    .await;

    // 程军 helps 甲 and visited today.
    let cheng = world::create_member(
        app,
        &sec,
        world::member_body("程军", &w.branch_a, &world::cheng_id_number()),
    )
    .await;
    let pairing = world::pair(app, &sec, a["id"].as_str().unwrap(), json!({"member_id": cheng["id"]})).await;
    assert_eq!(pairing.status, 201, "{}", pairing.text());
    let today = chrono::Utc::now().date_naive().to_string();
    let logged = world::log_help(app, &sec, pairing.json()["id"].as_str().unwrap(), &today, "visit").await;
    assert_eq!(logged.status, 201, "{}", logged.text());

    let list = |q: &str| {
        let q = q.to_owned();
        let sec = sec.clone();
        async move {
            let reply = get(app, &sec, &format!("/api/v1/households?{q}")).await;
            assert_eq!(reply.status, 200, "{q}: {}", reply.text());
            head_names(&reply.json())
        }
    };
    assert_eq!(
        list("").await,
        ["丙", "乙", "甲"].map(String::from).to_vec(),
        "by name, own branch only"
    );
    assert_eq!(list("status=lifted").await, ["乙"]);
    assert_eq!(list("attribute=low_income").await, ["乙"]);
    assert_eq!(list("cause=illness").await, ["乙", "甲"], "main or secondary cause");
    assert_eq!(list("cause=lack_of_water").await, ["丙"]);
    assert_eq!(list("paired=true").await, ["甲"]);
    assert_eq!(list("paired=false").await, ["丙", "乙"]);
    assert_eq!(list("not_visited_days=30").await, ["丙", "乙"]);
    assert_eq!(
        list(&format!("villager_group_id={}", group["id"].as_str().unwrap())).await,
        ["甲"]
    );
    assert_eq!(list(&format!("q={}", enc("乙"))).await, ["乙"]);
    assert_eq!(list(&format!("village_id={}", s.village_b)).await, Vec::<String>::new());
    let reply = get(app, &sec, "/api/v1/households?not_visited_days=0").await;
    reply.assert_problem(400, "invalid_query");
    let total = get(app, &admin, "/api/v1/households?include_total=true&limit=1")
        .await
        .json();
    assert_eq!(total["total"], 4);
    assert!(total["next_cursor"].is_string());

    // The CSV export: BOM, Chinese headers, masked.
    let reply = send(
        app.server
            .get("/api/v1/households")
            .bearer_auth(&sec)
            .insert_header(("Accept", "text/csv")),
    )
    .await;
    assert_eq!(reply.status, 200);
    assert!(reply.body.starts_with(b"\xEF\xBB\xBF"));
    let text = reply.text();
    assert!(
        text.contains("户主姓名") && text.contains("340822************") && text.contains("139****5678"),
        "{text}"
    );
    assert!(!text.contains(&head_id_number(1)) && !text.contains(PHONE));
    assert_eq!(text.lines().count(), 4, "header and three households: {text}");
}

fn import_file(header: &str, rows: &[String]) -> String {
    let mut text = format!("{header}\n");
    for r in rows {
        text.push_str(r);
        text.push('\n');
    }
    text
}

async fn import(app: &TestApp, token: &str, query: &str, key: Option<&str>, content_type: &str, body: String) -> Reply {
    post_import(
        app,
        &format!("/api/v1/households/import{query}"),
        token,
        key,
        content_type,
        body,
    )
    .await
}

async fn household_count(app: &TestApp, token: &str) -> u64 {
    get(app, token, "/api/v1/households?include_total=true").await.json()["total"]
        .as_u64()
        .unwrap()
}

#[actix_web::test]
async fn an_import_is_all_or_nothing_with_every_bad_line_named() {
    let s = setup().await;
    let (app, w) = (&s.app, &s.w);
    let sec = w.token("sec_a");
    const EN: &str =
        "head_name,id_number,village_id,size,attribute,main_cause,secondary_causes,identified_year,status,lifted_year";
    let good = |n: usize| {
        format!(
            "户{n},{},{},3,ordinary,illness,lack_of_funds;lack_of_skills,2014,in_poverty,",
            head_id_number(n),
            s.village_a
        )
    };
    let rows = vec![
        good(1),
        format!(
            "户2,{},{},3,ordinary,illness,,2014,lifted,",
            head_id_number(2),
            s.village_a
        ), // lifted without year
        good(3),
        format!(
            "户4,{},{},3,ordinary,flood,,2014,in_poverty,",
            head_id_number(4),
            s.village_a
        ), // unknown cause
        format!(
            "户5,{},{},3,ordinary,illness,,2014,in_poverty,",
            head_id_number(1),
            s.village_a
        ), // same head as line 2
        format!(
            "户6,{},{},3,ordinary,illness,,2014,in_poverty,",
            head_id_number(6),
            s.village_b
        ), // village out of scope
    ];
    let reply = import(app, sec, "", None, "text/csv", import_file(EN, &rows)).await;
    let problem = reply.assert_problem(422, "validation_failed");
    let lines: Vec<(u64, String)> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["line"].as_u64().unwrap(), e["column"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(
        lines,
        vec![
            (3, "lifted_year".to_owned()),
            (5, "main_cause".to_owned()),
            (6, "id_number".to_owned()),
            (7, "village_id".to_owned()),
        ],
        "{problem}"
    );
    assert_eq!(household_count(app, sec).await, 0, "nothing written");

    // Chinese headers and labels, uploaded as a form, written in one go; a dry run first.
    const ZH: &str = "户主姓名,身份证号,所在村,家庭人口,贫困户属性,主要致贫原因,次要致贫原因,识别年度,状态,脱贫年度";
    let rows = vec![
        format!(
            "户1,{},{},3,一般贫困户,因病,缺资金、缺技术,2014,未脱贫,",
            head_id_number(1),
            s.village_a
        ),
        format!(
            "户2,{},{},2,低保贫困户,因残,,2014,已脱贫,2016",
            head_id_number(2),
            s.village_a
        ),
    ];
    let boundary = "----households-test-boundary";
    let form = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"h.csv\"\r\nContent-Type: text/csv\r\n\r\n{}\r\n--{boundary}--\r\n",
        import_file(ZH, &rows)
    );
    let content_type = format!("multipart/form-data; boundary={boundary}");
    let dry = import(app, sec, "?dry_run=true", None, &content_type, form.clone()).await;
    assert_eq!(dry.status, 200, "{}", dry.text());
    assert_eq!(dry.json()["valid"], 2);
    assert_eq!(household_count(app, sec).await, 0, "a dry run writes nothing");
    let reply = import(app, sec, "", Some("import-1"), &content_type, form.clone()).await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    assert_eq!(reply.json()["imported"], 2);
    let again = import(app, sec, "", Some("import-1"), &content_type, form).await;
    assert_eq!(again.status, 201, "a replay answers the same");
    assert_eq!(household_count(app, sec).await, 2, "and writes nothing more");
    let listed = get(app, sec, "/api/v1/households?status=lifted").await.json();
    assert_eq!(listed["items"][0]["attribute"], "low_income");
    assert_eq!(listed["items"][0]["lifted_year"], 2016);
    let first = get(app, sec, &format!("/api/v1/households?q={}", enc("户1")))
        .await
        .json();
    assert_eq!(
        first["items"][0]["secondary_causes"],
        json!(["lack_of_funds", "lack_of_skills"])
    );

    // Importing a head registered elsewhere is refused without saying where.
    let row = format!(
        "户9,{},{},3,ordinary,illness,,2014,in_poverty,",
        head_id_number(1),
        s.village_b
    );
    let reply = import(app, w.token("sec_b"), "", None, "text/csv", import_file(EN, &[row])).await;
    let problem = reply.assert_problem(422, "validation_failed");
    assert_eq!(problem["errors"][0]["code"], "cannot_register_here", "{problem}");
    // Members and inspectors may not import.
    let reply = import(
        app,
        w.token("inspector"),
        "",
        None,
        "text/csv",
        import_file(EN, &[good(7)]),
    )
    .await;
    reply.assert_problem(403, "forbidden");
}

#[actix_web::test]
async fn a_household_registered_by_mistake_is_deleted_but_one_ever_paired_is_kept() {
    let s = setup().await;
    let (app, w) = (&s.app, &s.w);
    let sec = w.token("sec_a");
    let h = create_household(app, sec, household_body("甲", &s.village_a, &head_id_number(1))).await;
    let path = format!("/api/v1/households/{}", h["id"].as_str().unwrap());
    send(app.server.delete(&path).bearer_auth(sec))
        .await
        .assert_problem(428, "precondition_required");
    let reply = send(
        app.server
            .delete(&path)
            .bearer_auth(sec)
            .insert_header(("If-Match", "\"1\"")),
    )
    .await;
    assert_eq!(reply.status, 204, "{}", reply.text());
    get(app, sec, &path).await.assert_problem(404, "not_found");

    let h = create_household(app, sec, household_body("乙", &s.village_a, &head_id_number(2))).await;
    let cheng = world::create_member(
        app,
        sec,
        world::member_body("程军", &w.branch_a, &world::cheng_id_number()),
    )
    .await;
    let paired = world::pair(app, sec, h["id"].as_str().unwrap(), json!({"member_id": cheng["id"]})).await;
    assert_eq!(paired.status, 201, "{}", paired.text());
    let path = format!("/api/v1/households/{}", h["id"].as_str().unwrap());
    send(
        app.server
            .delete(&path)
            .bearer_auth(sec)
            .insert_header(("If-Match", "\"1\"")),
    )
    .await
    .assert_problem(409, "conflict");
    assert_eq!(get(app, sec, &path).await.status, 200);
}
