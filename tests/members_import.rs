//! Importing party members from CSV (`POST /api/v1/members/import`): English and Chinese
//! headers, all or nothing with every bad row named by line, dry runs, limits, scope and
//! Idempotency-Key.

mod common;

use std::time::Duration;

use common::world::{self, World, gender_of, get, id_number, member_body, member_count};
use common::{Reply, TestApp, post_import, send_body, spawn_app};
use serde_json::Value;

async fn setup() -> (TestApp, World) {
    let app = spawn_app().await;
    let w = world::build(&app).await;
    (app, w)
}

const HEADER: &str = "name,gender,birth_date,ethnicity,education,id_number,phone,address,joined_on,status,org_id,group_id,rural,specialty,note";
const HEADER_ZH: &str =
    "姓名,性别,出生日期,民族,学历,身份证号,手机号,住址,入党日期,党员状态,所在支部,党小组,是否农村,特长,备注";

/// A distinct valid ID number for every `n` below 28,000.
fn nth_id(n: usize) -> String {
    id_number(
        "110101",
        &format!("198001{:02}", 1 + n / 1000),
        &format!("{:03}", n % 1000),
    )
}

/// One valid English-header row for member `n` of `org_id`.
fn row(n: usize, org_id: &str, group_id: &str) -> String {
    let id = nth_id(n);
    let birth = world::birth_of(&id);
    let gender = gender_of(&id);
    format!(
        "党员{n:04},{gender},{birth},汉族,bachelor,{id},138{n:08},司山村{n}号,2015-07-01,full,{org_id},{group_id},true,,"
    )
}

fn file(rows: &[String]) -> String {
    let mut text = String::from(HEADER);
    for r in rows {
        text.push('\n');
        text.push_str(r);
    }
    text.push('\n');
    text
}

async fn import(app: &TestApp, token: &str, query: &str, body: impl Into<actix_web::web::Bytes>) -> Reply {
    import_with(app, token, query, None, body).await
}

async fn import_with(
    app: &TestApp,
    token: &str,
    query: &str,
    key: Option<&str>,
    body: impl Into<actix_web::web::Bytes>,
) -> Reply {
    let path = format!("/api/v1/members/import{query}");
    post_import(app, &path, token, key, "text/csv", body).await
}

/// The `(line, column)` of every error of a 422, sorted by line.
fn bad_lines(reply: &Reply) -> Vec<(u64, String)> {
    let body = reply.assert_problem(422, "validation_failed");
    let mut lines: Vec<(u64, String)> = body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| {
            assert!(
                e["message"].as_str().is_some_and(|m| !m.is_empty()),
                "an error without a message: {e}"
            );
            let column = match &e["column"] {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                other => panic!("an error without a column: {other} in {e}"),
            };
            (
                e["line"]
                    .as_u64()
                    .unwrap_or_else(|| panic!("an error without a line: {e}")),
                column,
            )
        })
        .collect();
    lines.sort();
    lines
}

fn names(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|m| m["name"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn importing_with_english_headers_creates_every_row() {
    let (app, w) = setup().await;
    let mut rows: Vec<String> = (0..3)
        .map(|n| row(n, &w.branch_a, if n == 0 { &w.group_a } else { "" }))
        .collect();
    // Quoted cells may hold commas and quotes.
    rows[2] = rows[2].replace(",司山村2号,", ",\"司山村,2号 \"\"东头\"\"\",");
    let reply = import(&app, w.token("sec_a"), "", file(&rows)).await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    assert_eq!(reply.json()["imported"], 3);
    assert_eq!(member_count(&app, w.token("admin")).await, 3);

    let page = get(&app, w.token("sec_a"), "/api/v1/members").await.json();
    assert_eq!(names(&page), vec!["党员0000", "党员0001", "党员0002"]);
    let first = &page["items"][0];
    assert_eq!(first["org_id"], w.branch_a.as_str());
    assert_eq!(first["group_id"], w.group_a.as_str());
    assert_eq!(first["gender"], gender_of(&nth_id(0)));
    assert_eq!(first["birth_year"], 1980);
    assert_eq!(first["ethnicity"], "汉族");
    assert_eq!(first["education"], "bachelor");
    assert_eq!(first["status"], "full");
    assert_eq!(first["rural"], true);
    assert_eq!(first["joined_on"], "2015-07-01");
    assert_eq!(first["address"], "司山村0号");
    assert_eq!(first["active"], true);
    assert_eq!(first["phone"], "138****0000");
    let id0 = nth_id(0);
    assert_eq!(first["id_number"], format!("{}************", &id0[..6]));
    assert!(page["items"][1]["group_id"].is_null());
    assert_eq!(page["items"][2]["address"], "司山村,2号 \"东头\"");
    assert!(page["items"][1]["specialty"].is_null() || page["items"][1]["specialty"] == "");

    // The full numbers came in: the secretary can reveal them.
    let mid = first["id"].as_str().unwrap();
    let revealed = get(&app, w.token("sec_a"), &format!("/api/v1/members/{mid}?reveal=pii"))
        .await
        .json();
    assert_eq!(revealed["id_number"], id0.as_str());
    assert_eq!(revealed["phone"], "13800000000");
}

#[actix_web::test]
async fn importing_with_chinese_headers_and_labels_and_a_bom() {
    let (app, w) = setup().await;
    let man = nth_id(1);
    let woman = nth_id(2);
    assert_eq!((gender_of(&man), gender_of(&woman)), ("male", "female"));
    let text = format!(
        "\u{FEFF}{HEADER_ZH}\r\n\
         程军,男,{},汉族,,{man},13812345678,司山村1号,2015-07-01,正式,{},{},是,种植,\r\n\
         王芳,女,{},回族,,{woman},,,2023-07-01,预备,{},,否,,新党员\r\n",
        world::birth_of(&man),
        w.branch_a,
        w.group_a,
        world::birth_of(&woman),
        w.branch_a,
    );
    // A bad cell is named by its line, counted after the BOM, with LF line ends...
    let lf = text.replace("13812345678", "1381234").replace("\r\n", "\n");
    let errors = bad_lines(&import(&app, w.token("sec_a"), "", lf).await);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].0, 2, "LF: {errors:?}");

    let reply = import(&app, w.token("sec_a"), "", text).await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    assert_eq!(reply.json()["imported"], 2);

    let page = get(&app, w.token("sec_a"), "/api/v1/members").await.json();
    assert_eq!(names(&page), vec!["王芳", "程军"]);
    let (wang, cheng) = (&page["items"][0], &page["items"][1]);
    assert_eq!(cheng["gender"], "male");
    assert_eq!(cheng["status"], "full");
    assert_eq!(cheng["rural"], true);
    assert_eq!(cheng["group_id"], w.group_a.as_str());
    assert_eq!(cheng["specialty"], "种植");
    assert_eq!(cheng["phone"], "138****5678");
    assert_eq!(wang["gender"], "female");
    assert_eq!(wang["status"], "probationary");
    assert_eq!(wang["rural"], false);
    assert_eq!(wang["ethnicity"], "回族");
    assert_eq!(wang["note"], "新党员");
    assert!(wang["phone"].is_null(), "{wang}");
}

#[actix_web::test]
async fn lines_are_counted_the_same_with_crlf_line_ends() {
    let (app, w) = setup().await;
    let rows: Vec<String> = (0..3).map(|n| row(n, &w.branch_a, "")).collect();
    let lf = file(&rows);
    let crlf = lf.replace('\n', "\r\n");
    for (bad_row, line) in [(0, 2), (2, 4)] {
        let phone = format!(",138{bad_row:08},");
        for (ends, text) in [("LF", &lf), ("CRLF", &crlf)] {
            let bad = text.replace(&phone, ",1381234,");
            let errors = bad_lines(&import(&app, w.token("sec_a"), "", bad).await);
            assert_eq!(errors, vec![(line, "phone".to_owned())], "{ends}");
        }
    }
    // CRLF files import fine otherwise.
    let reply = import(&app, w.token("sec_a"), "", crlf).await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    assert_eq!(member_count(&app, w.token("admin")).await, 3);
}

#[actix_web::test]
async fn a_dry_run_validates_and_writes_nothing() {
    let (app, w) = setup().await;
    let rows: Vec<String> = (0..4).map(|n| row(n, &w.branch_a, "")).collect();
    let reply = import(&app, w.token("sec_a"), "?dry_run=true", file(&rows)).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let body = reply.json();
    assert_eq!(body["imported"], 0, "{body}");
    assert_eq!(body["valid"], 4, "{body}");
    assert_eq!(member_count(&app, w.token("admin")).await, 0);

    // A dry run reports bad rows just like a real import.
    let mut bad = rows.clone();
    bad[2] = bad[2].replace(",full,", ",retired,");
    let reply = import(&app, w.token("sec_a"), "?dry_run=true", file(&bad)).await;
    let lines: Vec<u64> = bad_lines(&reply).into_iter().map(|(l, _)| l).collect();
    assert_eq!(lines, vec![4]);
    assert_eq!(member_count(&app, w.token("admin")).await, 0);

    // The real thing afterwards.
    let reply = import(&app, w.token("sec_a"), "", file(&rows)).await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    assert_eq!(member_count(&app, w.token("admin")).await, 4);
}

#[actix_web::test]
async fn a_bad_row_refuses_the_whole_file_and_every_bad_row_is_named() {
    let (app, w) = setup().await;
    let mut rows: Vec<String> = (0..8).map(|n| row(n, &w.branch_a, "")).collect();
    // Line 3: a wrong check character.
    let id1 = nth_id(1);
    let last = id1.chars().last().unwrap();
    let wrong = format!("{}{}", &id1[..17], if last == '0' { '1' } else { '0' });
    rows[1] = rows[1].replace(&id1, &wrong);
    // Line 5: a phone number that is not one.
    rows[3] = rows[3].replace(",13800000003,", ",12345,");
    // Line 6: an unknown gender.
    rows[4] = rows[4].replacen(&format!(",{},", gender_of(&nth_id(4))), ",unknown,", 1);
    // Line 8: a date that does not exist.
    rows[6] = rows[6].replace(",2015-07-01,", ",2017-02-30,");
    // Line 9: a group of another branch.
    rows[7] = row(7, &w.branch_a, &w.group_b);

    let reply = import(&app, w.token("sec_a"), "", file(&rows)).await;
    let errors = bad_lines(&reply);
    let lines: Vec<u64> = errors.iter().map(|(l, _)| *l).collect();
    assert_eq!(lines, vec![3, 5, 6, 8, 9], "{errors:?}");
    let columns: Vec<&str> = errors.iter().map(|(_, c)| c.as_str()).collect();
    assert!(columns[0].contains("id_number") || columns[0] == "6", "{errors:?}");
    assert!(columns[1].contains("phone") || columns[1] == "7", "{errors:?}");
    assert_eq!(member_count(&app, w.token("admin")).await, 0);

    // A row whose ID number an active member already has is bad too.
    world::create_member(&app, w.token("sec_a"), member_body("已有", &w.branch_a, &nth_id(100))).await;
    let clash = file(&[row(0, &w.branch_a, ""), row(100, &w.branch_a, "")]);
    let reply = import(&app, w.token("sec_a"), "", clash).await;
    assert!(
        matches!(reply.status.as_u16(), 409 | 422),
        "{} {}",
        reply.status,
        reply.text()
    );
    if reply.status == 422 {
        let lines: Vec<u64> = bad_lines(&reply).into_iter().map(|(l, _)| l).collect();
        assert_eq!(lines, vec![3]);
    }
    assert_eq!(member_count(&app, w.token("admin")).await, 1);

    // A header without a required column, or with an unknown one, is refused.
    let missing = file(&[row(0, &w.branch_a, "")]).replacen("name,", "", 1);
    let reply = import(&app, w.token("sec_a"), "", missing).await;
    assert_eq!(reply.status, 422, "{}", reply.text());
    let unknown = file(&[format!("{},x", row(0, &w.branch_a, ""))]).replacen(",note", ",note,colour", 1);
    let reply = import(&app, w.token("sec_a"), "", unknown).await;
    assert_eq!(reply.status, 422, "{}", reply.text());
    assert_eq!(member_count(&app, w.token("admin")).await, 1);
}

#[actix_web::test]
async fn one_bad_row_in_a_thousand_is_named_by_line_and_nothing_is_written() {
    let (app, w) = setup().await;
    let admin = w.token("admin");
    world::create_member(&app, admin, member_body("已有", &w.branch_b, &nth_id(5000))).await;
    let before = member_count(&app, admin).await;

    let mut rows: Vec<String> = (0..1000).map(|n| row(n, &w.branch_a, "")).collect();
    // Row 999 is line 1000 (the header is line 1).
    let id = nth_id(998);
    let last = id.chars().last().unwrap();
    rows[998] = rows[998].replace(&id, &format!("{}{}", &id[..17], if last == '0' { '1' } else { '0' }));
    let reply = import(&app, admin, "", file(&rows)).await;
    let errors = bad_lines(&reply);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].0, 1000, "{errors:?}");
    assert_eq!(member_count(&app, admin).await, before);

    // Fixed, the same thousand go in.
    rows[998] = row(998, &w.branch_a, "");
    let reply = import(&app, admin, "", file(&rows)).await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    assert_eq!(reply.json()["imported"], 1000);
    assert_eq!(member_count(&app, admin).await, before + 1000);
    assert_eq!(member_count(&app, w.token("sec_a")).await, 1000);
}

#[actix_web::test]
async fn duplicate_id_numbers_inside_the_file_are_refused() {
    let (app, w) = setup().await;
    let mut rows: Vec<String> = (0..5).map(|n| row(n, &w.branch_a, "")).collect();
    // Line 6 repeats line 3's ID number (under another name and phone).
    rows[4] = row(1, &w.branch_a, "")
        .replace("党员0001", "党员重复")
        .replace(",13800000001,", ",13900000001,");
    let reply = import(&app, w.token("sec_a"), "", file(&rows)).await;
    let errors = bad_lines(&reply);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].0, 6, "the second occurrence is the bad one: {errors:?}");
    assert_eq!(member_count(&app, w.token("admin")).await, 0);
}

#[actix_web::test]
async fn files_over_the_limits_are_refused_with_413() {
    let (app, w) = setup().await;
    let admin = w.token("admin");

    // 5,000 rows are allowed (checked with a dry run).
    let rows: Vec<String> = (0..5000).map(|n| row(n, &w.branch_a, "")).collect();
    let reply = import(&app, admin, "?dry_run=true", file(&rows)).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["valid"], 5000);

    // Anything over 2 MiB is refused, whatever the row count.
    let padding = "备".repeat(600);
    let big: Vec<String> = (0..1400)
        .map(|n| format!("{}{padding}", row(n, &w.branch_a, "")))
        .collect();
    let big = file(&big);
    assert!(big.len() > 2 * 1024 * 1024, "{} bytes", big.len());
    let reply = import(&app, admin, "", big).await;
    reply.assert_problem(413, "payload_too_large");

    // So are 5,001 rows.
    let mut more = rows.clone();
    more.push(row(5000, &w.branch_a, ""));
    let reply = import(&app, admin, "", file(&more)).await;
    reply.assert_problem(413, "payload_too_large");

    assert_eq!(member_count(&app, admin).await, 0);
}

#[actix_web::test]
async fn imports_are_scoped_and_role_checked() {
    let (app, w) = setup().await;
    let to_b = file(&[row(0, &w.branch_a, ""), row(1, &w.branch_b, "")]);
    // sec_a may not import into branch B.
    let reply = import(&app, w.token("sec_a"), "", to_b.clone()).await;
    assert!(
        matches!(reply.status.as_u16(), 404 | 422),
        "import into another branch: {} {}",
        reply.status,
        reply.text()
    );
    if reply.status == 422 {
        let lines: Vec<u64> = bad_lines(&reply).into_iter().map(|(l, _)| l).collect();
        assert_eq!(lines, vec![3]);
    }
    assert_eq!(member_count(&app, w.token("admin")).await, 0);

    for user in ["inspector", "leader_a", "member_a"] {
        import(&app, w.token(user), "", file(&[row(0, &w.branch_a, "")]))
            .await
            .assert_problem(403, "forbidden");
    }
    assert_eq!(member_count(&app, w.token("admin")).await, 0);

    // JSON is not CSV.
    let reply = send_body(
        app.server
            .post("/api/v1/members/import")
            .bearer_auth(w.token("admin"))
            .content_type("application/json"),
        "{}",
    )
    .await;
    reply.assert_problem(415, "unsupported_media_type");

    // The admin may import into both.
    let reply = import(&app, w.token("admin"), "", to_b).await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    assert_eq!(member_count(&app, w.token("sec_a")).await, 1);
    assert_eq!(member_count(&app, w.token("sec_b")).await, 1);

    // The audit trail records the import, without the numbers it brought in.
    let trail = get(&app, w.token("admin"), "/api/v1/audit-events?limit=100")
        .await
        .text();
    assert!(trail.contains("member."), "the import is audited: {trail}");
    for n in 0..2 {
        assert!(!trail.contains(&nth_id(n)), "a full ID number in the audit trail");
        assert!(
            !trail.contains(&format!("138{n:08}")),
            "a full phone in the audit trail"
        );
    }
}

#[actix_web::test]
async fn idempotency_key_replays_an_import() {
    let (app, w) = setup().await;
    let rows: Vec<String> = (0..3).map(|n| row(n, &w.branch_a, "")).collect();
    let body = file(&rows);
    let first = import_with(&app, w.token("sec_a"), "", Some("import-1"), body.clone()).await;
    assert_eq!(first.status, 201, "{}", first.text());
    assert_eq!(member_count(&app, w.token("admin")).await, 3);

    // Another file under the same key is refused.
    let other = file(&[row(10, &w.branch_a, "")]);
    import_with(&app, w.token("sec_a"), "", Some("import-1"), other)
        .await
        .assert_problem(422, "idempotency_key_reused");
    // Without a key, the same file again clashes with the members it created.
    let reply = import(&app, w.token("sec_a"), "", body.clone()).await;
    assert!(matches!(reply.status.as_u16(), 409 | 422), "{}", reply.text());
    assert_eq!(member_count(&app, w.token("admin")).await, 3);

    // The same key and file: the first response again, nothing imported twice.
    let again = import_with(&app, w.token("sec_a"), "", Some("import-1"), body).await;
    assert_eq!(again.status, 201, "{}", again.text());
    assert_eq!(again.body, first.body);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(member_count(&app, w.token("admin")).await, 3);
}

/// A revealed export can be edited and imported again: the export-only columns are skipped.
#[actix_web::test]
async fn an_export_with_revealed_data_imports_again() {
    let app = common::spawn_app().await;
    let w = world::build(&app).await;
    let body = world::member_body("程军", &w.branch_a, &world::id_number("340822", "19790315", "013"));
    let created = world::create_member(&app, w.token("sec_a"), body).await;
    let export = common::send(
        app.server
            .get("/api/v1/members?reveal=pii")
            .bearer_auth(w.token("sec_a"))
            .insert_header(("Accept", "text/csv")),
    )
    .await;
    assert_eq!(export.status, 200);
    // Leave the member, so the same ID number may be registered again, then re-import the file.
    let tag = world::get(
        &app,
        w.token("sec_a"),
        &format!("/api/v1/members/{}", created["id"].as_str().unwrap()),
    )
    .await
    .header("etag")
    .unwrap()
    .to_owned();
    let left = common::send_json(
        app.server
            .post(format!("/api/v1/members/{}/leave", created["id"].as_str().unwrap()))
            .bearer_auth(w.token("sec_a"))
            .insert_header(("If-Match", tag)),
        &serde_json::json!({"reason": "other", "left_on": "2017-06-30"}),
    )
    .await;
    assert_eq!(left.status, 200, "{}", left.text());
    let reply = common::send_body(
        app.server
            .post("/api/v1/members/import?dry_run=true")
            .bearer_auth(w.token("sec_a"))
            .content_type("text/csv"),
        export.body.clone(),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["valid"], 1);
}

/// A `multipart/form-data` body with `parts` of `(name, filename, content)`.
fn form(parts: &[(&str, Option<&str>, &str)]) -> (String, String) {
    let boundary = "----dangjian-test-boundary-7f3a";
    let mut body = String::new();
    for (name, filename, content) in parts {
        body.push_str(&format!("--{boundary}\r\n"));
        match filename {
            Some(f) => body.push_str(&format!(
                "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: text/csv\r\n\r\n"
            )),
            None => body.push_str(&format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n")),
        }
        body.push_str(content);
        body.push_str("\r\n");
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn upload(app: &TestApp, token: &str, query: &str, key: Option<&str>, form: (String, String)) -> Reply {
    let mut req = app
        .server
        .post(format!("/api/v1/members/import{query}"))
        .bearer_auth(token)
        .timeout(Duration::from_secs(120))
        .insert_header(("Content-Type", form.0));
    if let Some(key) = key {
        req = req.insert_header(("Idempotency-Key", key));
    }
    send_body(req, form.1).await
}

#[actix_web::test]
async fn a_file_uploaded_as_a_form_imports_like_a_raw_body() {
    let (app, w) = setup().await;
    let rows: Vec<String> = (0..2).map(|n| row(n, &w.branch_a, "")).collect();
    let csv = file(&rows);

    // Swagger UI sends the file as the `file` part; other parts are ignored.
    let dry = upload(
        &app,
        w.token("sec_a"),
        "?dry_run=true",
        None,
        form(&[("note", None, "ignored"), ("file", Some("members.csv"), &csv)]),
    )
    .await;
    assert_eq!(dry.status, 200, "{}", dry.text());
    assert_eq!(dry.json()["valid"], 2);
    assert_eq!(
        member_count(&app, w.token("admin")).await,
        0,
        "a dry run writes nothing"
    );

    let reply = upload(
        &app,
        w.token("sec_a"),
        "",
        Some("form-1"),
        form(&[("file", Some("members.csv"), &csv)]),
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    assert_eq!(reply.json()["imported"], 2);
    assert_eq!(member_count(&app, w.token("admin")).await, 2);

    // A retry is the same file under the same key, whatever the form's boundary: replayed.
    let retry = import_with(&app, w.token("sec_a"), "", Some("form-1"), csv.clone()).await;
    assert_eq!(retry.status, 201, "{}", retry.text());
    assert_eq!(member_count(&app, w.token("admin")).await, 2);

    // Bad rows are named by line exactly as for a raw body.
    let bad = file(&[row(5, &w.branch_a, "")
        .replace(",male,", ",unknown,")
        .replace(",female,", ",unknown,")]);
    let reply = upload(
        &app,
        w.token("sec_a"),
        "",
        None,
        form(&[("file", Some("bad.csv"), &bad)]),
    )
    .await;
    assert_eq!(bad_lines(&reply), vec![(2, "gender".to_string())]);
}

#[actix_web::test]
async fn a_form_without_a_file_or_too_big_or_garbled_is_refused() {
    let (app, w) = setup().await;
    let token = w.token("sec_a");
    let reply = upload(&app, token, "", None, form(&[("other", None, "x")])).await;
    let problem = reply.assert_problem(422, "validation_failed");
    assert_eq!(problem["errors"][0]["pointer"], "/file");

    let huge = "x".repeat(2 * 1024 * 1024 + 1);
    let reply = upload(&app, token, "", None, form(&[("file", Some("big.csv"), &huge)])).await;
    reply.assert_problem(413, "payload_too_large");

    let garbled = send_body(
        app.server
            .post("/api/v1/members/import")
            .bearer_auth(token)
            .insert_header(("Content-Type", "multipart/form-data; boundary=abc")),
        "this is not a form",
    )
    .await;
    garbled.assert_problem(400, "malformed_form");

    let json = send_body(
        app.server
            .post("/api/v1/members/import")
            .bearer_auth(token)
            .insert_header(("Content-Type", "application/json")),
        "{}",
    )
    .await;
    json.assert_problem(415, "unsupported_media_type");
    assert_eq!(member_count(&app, w.token("admin")).await, 0);
}
