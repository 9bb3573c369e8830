//! Excel workbooks out: every list that exports CSV also answers with a workbook, read back
//! here with calamine (a reader independent of the writer) and by looking into the file's
//! XML; and the import templates.

mod common;

use std::io::{Cursor, Read};

use calamine::{Data, Reader, Xlsx};
use common::world::{self, World, create, create_member, get, id_number, member_body};
use common::*;
use serde_json::json;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

async fn setup() -> (TestApp, World) {
    let app = spawn_app().await;
    let w = world::build(&app).await;
    (app, w)
}

fn pid(n: u32) -> String {
    id_number("340822", "19850612", &format!("{n:03}"))
}

/// GET `path` as `token`, asking for a workbook with `Accept`.
async fn workbook(app: &TestApp, token: &str, path: &str) -> Reply {
    send(app.server.get(path).bearer_auth(token).insert_header(("Accept", XLSX))).await
}

/// The first sheet of a workbook answer: asserts its headers, returns its name and rows.
fn first_sheet(reply: &Reply) -> (String, Vec<Vec<Data>>) {
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("content-type"), Some(XLSX));
    assert!(
        reply
            .header("content-disposition")
            .is_some_and(|d| d.starts_with("attachment") && d.contains(".xlsx")),
        "{:?}",
        reply.header("content-disposition")
    );
    let mut book = Xlsx::new(Cursor::new(reply.body.to_vec())).expect("a workbook");
    let name = book.sheet_names()[0].clone();
    let range = book.worksheet_range_at(0).expect("a first sheet").expect("readable");
    let rows = range.rows().map(|r| r.to_vec()).collect();
    (name, rows)
}

/// The XML of one part of the workbook (e.g. `xl/worksheets/sheet1.xml`).
fn part(reply: &Reply, name: &str) -> String {
    let mut zip = zip::ZipArchive::new(Cursor::new(reply.body.to_vec())).expect("a zip");
    let mut xml = String::new();
    zip.by_name(name)
        .unwrap_or_else(|_| panic!("no {name}"))
        .read_to_string(&mut xml)
        .expect("UTF-8 XML");
    xml
}

/// Excel's serial number of a day (days since 1899-12-30).
fn excel_day(y: i32, m: u32, d: u32) -> f64 {
    let day = chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap();
    let epoch = chrono::NaiveDate::from_ymd_opt(1899, 12, 30).unwrap();
    (day - epoch).num_days() as f64
}

fn column(rows: &[Vec<Data>], header: &str) -> usize {
    rows[0]
        .iter()
        .position(|c| *c == Data::String(header.to_owned()))
        .unwrap_or_else(|| panic!("no column {header} in {:?}", rows[0]))
}

fn row_of<'r>(rows: &'r [Vec<Data>], name: &str) -> &'r [Data] {
    rows.iter()
        .find(|r| r.iter().any(|c| *c == Data::String(name.to_owned())))
        .unwrap_or_else(|| panic!("no row for {name}"))
}

#[actix_web::test]
async fn members_export_as_a_workbook_keeps_id_numbers_as_text_and_dates_as_dates() {
    let (app, w) = setup().await;
    let sec = w.token("sec_a");
    let mut cheng = member_body("程军", &w.branch_a, &pid(1));
    cheng["phone"] = json!("13812345678");
    cheng["note"] = json!("=HYPERLINK(\"http://example.com\")");
    create_member(&app, sec, cheng).await;
    create_member(&app, w.token("sec_b"), member_body("王芳", &w.branch_b, &pid(3))).await;

    // Revealed: the ID number is a text cell with all 18 digits, dates are dates.
    let reply = workbook(&app, sec, "/api/v1/members?reveal=pii").await;
    let (sheet_name, rows) = first_sheet(&reply);
    assert_eq!(sheet_name, "党员");
    assert!(reply.header("content-disposition").unwrap().contains("members.xlsx"));
    assert_eq!(rows.len(), 2, "header + the branch's one member: {rows:?}");
    let header: Vec<String> = rows[0].iter().map(|c| c.to_string()).collect();
    assert_eq!(&header[..4], ["编号", "姓名", "性别", "出生日期"], "the CSV's headers");
    let cheng = row_of(&rows, "程军");
    assert_eq!(cheng[column(&rows, "身份证号")], Data::String(pid(1)));
    assert_eq!(cheng[column(&rows, "手机号")], Data::String("13812345678".into()));
    match &cheng[column(&rows, "出生日期")] {
        Data::DateTime(d) => assert_eq!(d.as_f64(), excel_day(1985, 6, 12)),
        other => panic!("birth date is not a date cell: {other:?}"),
    }
    // Text that looks like a formula is text, never a formula.
    assert_eq!(
        cheng[column(&rows, "备注")],
        Data::String("=HYPERLINK(\"http://example.com\")".into())
    );
    let sheet = part(&reply, "xl/worksheets/sheet1.xml");
    assert!(!sheet.contains("<f>"), "a formula in the export: {sheet}");
    assert!(sheet.contains("state=\"frozen\""), "the header row is frozen");
    assert!(sheet.contains("<cols>"), "column widths are set");

    // Masked unless revealed, exactly like the CSV.
    let (_, masked) = first_sheet(&workbook(&app, sec, "/api/v1/members").await);
    let cheng = row_of(&masked, "程军");
    assert_eq!(
        cheng[column(&masked, "身份证号")],
        Data::String(format!("{}************", &pid(1)[..6]))
    );
    assert_eq!(cheng[column(&masked, "手机号")], Data::String("138****5678".into()));

    // Revealing through a workbook is audited like the CSV; refused for those who may not.
    let trail = get(&app, w.token("admin"), "/api/v1/audit-events?limit=100")
        .await
        .json();
    let reveals = trail["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["actor_user_id"] == w.user("sec_a") && e["action"].as_str().unwrap().contains("reveal"))
        .count();
    assert_eq!(reveals, 1, "{trail}");
    workbook(&app, w.token("inspector"), "/api/v1/members?reveal=pii")
        .await
        .assert_problem(403, "forbidden");

    // `?format=xlsx` for links; the admin's scope is the whole tree.
    let reply = send(
        app.server
            .get("/api/v1/members?format=xlsx")
            .bearer_auth(w.token("admin")),
    )
    .await;
    assert_eq!(first_sheet(&reply).1.len(), 3);
    let csv = send(app.server.get("/api/v1/members?format=csv").bearer_auth(sec)).await;
    assert!(csv.header("content-type").is_some_and(|t| t.starts_with("text/csv")));
    send(app.server.get("/api/v1/members?format=pdf").bearer_auth(sec))
        .await
        .assert_problem(400, "invalid_query");
    // Only lists that export take `format`.
    send(app.server.get("/api/v1/orgs?format=xlsx").bearer_auth(sec))
        .await
        .assert_problem(400, "invalid_query");
}

#[actix_web::test]
async fn money_in_a_workbook_is_yuan_with_two_decimals_from_the_fen() {
    let (app, w) = setup().await;
    let admin = w.token("admin");
    let village = world::create_village(&app, admin, &w.branch_a, "司山村").await;
    let mut amounts = Vec::new();
    for (fen, note) in [(1_700_000_001_i64, "大额"), (1, "一分"), (123_456, "=1+1")] {
        let record = create(
            &app,
            admin,
            "/api/v1/finance-records",
            json!({"village_id": village, "year": 2024, "category": "operating",
                "amount_fen": fen, "received_on": "2024-12-20", "note": note}),
        )
        .await;
        amounts.push((record["id"].as_str().unwrap().to_owned(), fen, note));
    }
    let reply = workbook(&app, admin, "/api/v1/finance-records").await;
    let (_, rows) = first_sheet(&reply);
    assert_eq!(rows.len(), 4);
    for (id, fen, note) in amounts {
        let row = row_of(&rows, &id);
        assert_eq!(
            row[column(&rows, "金额（元）")],
            Data::Float(fen as f64 / 100.0),
            "{id}: {fen} fen"
        );
        assert_eq!(row[column(&rows, "年度")], Data::Float(2024.0));
        assert_eq!(row[column(&rows, "备注")], Data::String(note.to_owned()));
        match &row[column(&rows, "日期")] {
            Data::DateTime(d) => assert_eq!(d.as_f64(), excel_day(2024, 12, 20)),
            other => panic!("not a date cell: {other:?}"),
        }
    }
    let styles = part(&reply, "xl/styles.xml");
    assert!(styles.contains("formatCode=\"0.00\""), "two decimals: {styles}");
    let sheet = part(&reply, "xl/worksheets/sheet1.xml");
    assert!(!sheet.contains("<f>"), "=1+1 is text, not a formula");
}

#[actix_web::test]
async fn every_list_that_exports_csv_exports_a_workbook() {
    let (app, w) = setup().await;
    let admin = w.token("admin");
    for (path, first_header) in [
        ("/api/v1/members", "编号"),
        ("/api/v1/pledges", "编号"),
        ("/api/v1/households", "编号"),
        ("/api/v1/finance-records", "编号"),
        ("/api/v1/ratings", "编号"),
        ("/api/v1/help-records", "编号"),
    ] {
        let reply = workbook(&app, admin, path).await;
        let (_, rows) = first_sheet(&reply);
        assert_eq!(rows[0][0], Data::String(first_header.into()), "{path}");
        // The same headers as the CSV.
        let csv = send(
            app.server
                .get(path)
                .bearer_auth(admin)
                .insert_header(("Accept", "text/csv")),
        )
        .await;
        let csv_header = csv
            .text()
            .trim_start_matches('\u{feff}')
            .lines()
            .next()
            .unwrap()
            .to_owned();
        let xlsx_header: Vec<String> = rows[0].iter().map(|c| c.to_string()).collect();
        assert_eq!(csv_header, xlsx_header.join(","), "{path}");
    }
}

/// The sheets of a workbook answer, by name.
fn sheets(reply: &Reply) -> Vec<String> {
    Xlsx::new(Cursor::new(reply.body.to_vec()))
        .expect("a workbook")
        .sheet_names()
        .to_vec()
}

#[actix_web::test]
async fn import_templates_explain_each_column_and_offer_drop_downs() {
    let (app, w) = setup().await;
    let sec = w.token("sec_a");
    let reply = get(&app, sec, "/api/v1/members/import-template.xlsx").await;
    let (name, rows) = first_sheet(&reply);
    assert_eq!(name, "党员");
    assert_eq!(rows.len(), 1, "headers only, ready to fill: {rows:?}");
    assert_eq!(rows[0][0], Data::String("姓名".into()));
    assert_eq!(sheets(&reply), ["党员", "填写说明", "组织"]);
    let mut book = Xlsx::new(Cursor::new(reply.body.to_vec())).unwrap();
    let help = book.worksheet_range("填写说明").unwrap();
    let gender = help
        .rows()
        .find(|r| r[1] == Data::String("gender".into()))
        .expect("a line for gender");
    assert_eq!(gender[2], Data::String("是".into()), "required");
    assert_eq!(gender[4], Data::String("男、女".into()), "the dictionary's labels");
    let orgs = book.worksheet_range("组织").unwrap();
    let listed: Vec<String> = orgs.rows().skip(1).map(|r| r[0].to_string()).collect();
    assert!(
        listed.contains(&w.branch_a) && listed.contains(&w.group_a),
        "{listed:?}"
    );
    assert!(!listed.contains(&w.branch_b), "another branch offered: {listed:?}");
    let sheet = part(&reply, "xl/worksheets/sheet1.xml");
    assert!(sheet.contains("<dataValidation type=\"list\""), "{sheet}");
    assert!(
        sheet.contains("<formula1>\"男,女\"</formula1>"),
        "gender drop-down: {sheet}"
    );
    assert!(sheet.contains("'组织'!$A$2"), "organisation drop-down: {sheet}");
    // The ID number column is formatted as text, so typed numbers stay text.
    let styles = part(&reply, "xl/styles.xml");
    assert!(styles.contains("formatCode=\"@\""), "a text (@) format: {styles}");

    let reply = get(&app, w.token("admin"), "/api/v1/households/import-template.xlsx").await;
    let (name, rows) = first_sheet(&reply);
    assert_eq!(name, "贫困户");
    assert_eq!(rows[0][0], Data::String("户主姓名".into()));
    assert_eq!(sheets(&reply), ["贫困户", "填写说明", "村"]);

    // Only those who import get templates.
    for user in ["inspector", "member_a"] {
        get(&app, w.token(user), "/api/v1/members/import-template.xlsx")
            .await
            .assert_problem(403, "forbidden");
    }
}

/// `workbook` with `row` (cells as `(column letter, XML of the cell's value)`) added as row 2
/// of its first sheet, as someone filling the template in Excel would.
fn fill_row(workbook: &[u8], row: &[(&str, String)]) -> Vec<u8> {
    use std::io::Write;
    let mut zip = zip::ZipArchive::new(Cursor::new(workbook.to_vec())).expect("a zip");
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).unwrap();
        let name = entry.name().to_owned();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        if name == "xl/worksheets/sheet1.xml" {
            let xml = String::from_utf8(bytes).unwrap();
            let cells: String = row
                .iter()
                .map(|(col, value)| format!("<c r=\"{col}2\"{value}</c>"))
                .collect();
            let xml = xml.replacen(
                "</row></sheetData>",
                &format!("</row><row r=\"2\">{cells}</row></sheetData>"),
                1,
            );
            assert!(xml.contains("<row r=\"2\">"), "{xml}");
            bytes = xml.into_bytes();
        }
        out.start_file(name, zip::write::SimpleFileOptions::default()).unwrap();
        out.write_all(&bytes).unwrap();
    }
    out.finish().unwrap().into_inner()
}

/// A text cell's XML after `<c r="..."`.
fn text(value: &str) -> String {
    format!(" t=\"inlineStr\"><is><t>{value}</t></is>")
}

async fn import_workbook(app: &TestApp, token: &str, query: &str, key: Option<&str>, body: Vec<u8>) -> Reply {
    post_import(app, &format!("/api/v1/members/import{query}"), token, key, XLSX, body).await
}

#[actix_web::test]
async fn the_template_imports_after_filling_one_row() {
    let (app, w) = setup().await;
    let sec = w.token("sec_a");
    let template = get(&app, sec, "/api/v1/members/import-template.xlsx").await;
    assert_eq!(template.status, 200);
    let filled = fill_row(
        &template.body,
        &[
            ("A", text("程军")),
            ("B", text("男")),
            ("C", text("1985-06-12")),
            ("D", text("汉族")),
            ("E", text("高中")),
            ("F", text(&pid(7))),
            // A phone typed as a number is still a phone.
            ("G", "><v>13812345678</v>".to_owned()),
            ("I", text("2012-07-01")),
            ("J", text("正式党员")),
            ("K", text(&w.branch_a)),
            ("M", text("是")),
        ],
    );
    let dry = import_workbook(&app, sec, "?dry_run=true", None, filled.clone()).await;
    assert_eq!(dry.status, 200, "{}", dry.text());
    assert_eq!(dry.json()["valid"], 1);
    let done = import_workbook(&app, sec, "", Some("template-1"), filled).await;
    assert_eq!(done.status, 201, "{}", done.text());
    assert_eq!(done.json()["imported"], 1);
    let listed = get(&app, sec, "/api/v1/members?q=%E7%A8%8B%E5%86%9B&reveal=pii")
        .await
        .json();
    let cheng = &listed["items"][0];
    assert_eq!(cheng["id_number"], pid(7));
    assert_eq!(cheng["phone"], "13812345678");
    assert_eq!(cheng["birth_date"], "1985-06-12");
    assert_eq!(cheng["education"], "senior_high");
    assert_eq!(cheng["org_id"], w.branch_a.as_str());

    // An ID number Excel has turned into a number is refused, with the way to fix it.
    let damaged = fill_row(
        &template.body,
        &[
            ("A", text("李四")),
            ("B", text("男")),
            ("C", text("1985-06-12")),
            ("F", "><v>3.40822198506121E+17</v>".to_owned()),
            ("I", text("2012-07-01")),
            ("J", text("正式党员")),
            ("K", text(&w.branch_a)),
            ("M", text("是")),
        ],
    );
    let refused = import_workbook(&app, sec, "?dry_run=true", None, damaged).await;
    let body = refused.assert_problem(422, "validation_failed");
    let error = &body["errors"][0];
    assert_eq!(error["code"], "id_number_as_number", "{body}");
    assert_eq!(error["cell"], "F2", "{body}");
    assert_eq!(error["line"], 2, "{body}");
    assert!(error["message"].as_str().unwrap().contains("text"), "{body}");
}

#[actix_web::test]
async fn an_exported_workbook_imports_again_unchanged() {
    let (app, w) = setup().await;
    let sec = w.token("sec_a");
    let mut cheng = member_body("程军", &w.branch_a, &pid(1));
    cheng["phone"] = json!("13812345678");
    cheng["education"] = json!("bachelor");
    cheng["address"] = json!("司山村一组");
    cheng["note"] = json!("=SUM(1,2) 不是公式");
    let mut li = member_body("李四", &w.branch_a, &pid(2));
    li["status"] = json!("probationary");
    li["group_id"] = json!(w.group_a);
    let created = [
        create_member(&app, sec, cheng).await,
        create_member(&app, sec, li).await,
    ];
    let exported = workbook(&app, sec, "/api/v1/members?reveal=pii").await;
    let (_, before) = first_sheet(&exported);
    // Both leave, so that their ID numbers may be registered again; then the file comes back.
    for member in &created {
        let id = member["id"].as_str().unwrap();
        let tag = get(&app, sec, &format!("/api/v1/members/{id}")).await;
        let left = send_json(
            app.server
                .post(format!("/api/v1/members/{id}/leave"))
                .bearer_auth(sec)
                .insert_header(("If-Match", tag.header("etag").unwrap())),
            &json!({"reason": "other", "left_on": "2017-06-30"}),
        )
        .await;
        assert_eq!(left.status, 200, "{}", left.text());
    }
    let done = import_workbook(&app, sec, "", Some("again-1"), exported.body.to_vec()).await;
    assert_eq!(done.status, 201, "{}", done.text());
    assert_eq!(done.json()["imported"], 2);
    let (_, after) = first_sheet(&workbook(&app, sec, "/api/v1/members?reveal=pii").await);
    let on_rolls = column(&after, "在册");
    let id_col = column(&after, "身份证号");
    for old in &before[1..] {
        let new = after[1..]
            .iter()
            .find(|r| r[id_col] == old[id_col] && r[on_rolls] == Data::String("是".into()))
            .unwrap_or_else(|| panic!("{:?} not imported again", old[id_col]));
        // Everything but the new record's id is as it was.
        assert_eq!(old[1..], new[1..], "re-imported row differs");
    }
}
