//! Importing from Excel workbooks (`.xlsx`): members and households accept a workbook wherever
//! they accept CSV, with the same columns, limits, dry runs and Idempotency-Key; errors name
//! the sheet and cell; ID numbers typed as numbers, formulas, macros and hostile files (zip
//! bombs, a million rows, a cell at XFD1048576) are refused quickly (under 2 s, and under
//! 100 MB more memory at the peak), and nothing is written.

mod common;

use std::io::{Cursor, Read, Write};
use std::time::{Duration, Instant};

use common::world::{self, World, gender_of, get, id_number};
use common::{Reply, TestApp, cpu_time, post_import, send_body, spawn_app};
use dangjian::http::xlsx::MEDIA_TYPE;
use serde_json::Value;

const HEADER_ZH: [&str; 15] = [
    "姓名",
    "性别",
    "出生日期",
    "民族",
    "学历",
    "身份证号",
    "手机号",
    "住址",
    "入党日期",
    "党员状态",
    "所在支部",
    "党小组",
    "是否农村",
    "特长",
    "备注",
];
const HEADER_EN: [&str; 15] = [
    "name",
    "gender",
    "birth_date",
    "ethnicity",
    "education",
    "id_number",
    "phone",
    "address",
    "joined_on",
    "status",
    "org_id",
    "group_id",
    "rural",
    "specialty",
    "note",
];

/// One cell as a test writes it.
#[derive(Clone)]
enum Cell {
    Text(String),
    Number(f64),
    Bool(bool),
    Date(u16, u8, u8),
    /// A formula and the result Excel cached for it.
    Formula(&'static str, &'static str),
    Blank,
}

fn text(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

/// A fresh app and world, and this binary's turn: its tests run one at a time, so that the
/// memory [`timed_import`] measures is the import's alone.
async fn setup() -> (TestApp, World, tokio::sync::MutexGuard<'static, ()>) {
    let turn = ONE_AT_A_TIME.lock().await;
    let app = spawn_app().await;
    let w = world::build(&app).await;
    (app, w, turn)
}

/// A distinct valid ID number for every `n` below 28,000.
fn nth_id(n: usize) -> String {
    id_number(
        "110101",
        &format!("198001{:02}", 1 + n / 1000),
        &format!("{:03}", n % 1000),
    )
}

/// Member `n` of `org_id` as a workbook row in the order of [`HEADER_ZH`]: real dates, the
/// phone a number, rural a boolean, labels in Chinese.
fn member_row(n: usize, org_id: &str) -> Vec<Cell> {
    let id = nth_id(n);
    let birth = world::birth_of(&id);
    let (y, m, d) = (&birth[0..4], &birth[5..7], &birth[8..10]);
    vec![
        text(format!("党员{n:04}")),
        text(if gender_of(&id) == "male" { "男" } else { "女" }),
        Cell::Date(y.parse().unwrap(), m.parse().unwrap(), d.parse().unwrap()),
        text("汉族"),
        Cell::Blank,
        text(id),
        Cell::Number(13_800_000_000.0 + n as f64),
        text(format!("司山村{n}号")),
        Cell::Date(2015, 7, 1),
        text("正式"),
        text(org_id),
        Cell::Blank,
        Cell::Bool(true),
        Cell::Blank,
        Cell::Blank,
    ]
}

/// A workbook whose first (only) sheet `sheet` holds `header` then `rows`.
fn workbook(sheet: &str, header: &[&str], rows: &[Vec<Cell>]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let date = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
    let ws = book.add_worksheet();
    ws.set_name(sheet).unwrap();
    for (c, h) in header.iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        let r = r as u32 + 1;
        for (c, cell) in row.iter().enumerate() {
            let c = c as u16;
            match cell {
                Cell::Text(s) => {
                    ws.write_string(r, c, s).unwrap();
                }
                Cell::Number(n) => {
                    ws.write_number(r, c, *n).unwrap();
                }
                Cell::Bool(b) => {
                    ws.write_boolean(r, c, *b).unwrap();
                }
                Cell::Date(y, m, d) => {
                    let day = rust_xlsxwriter::ExcelDateTime::from_ymd(*y, *m, *d).unwrap();
                    ws.write_datetime_with_format(r, c, &day, &date).unwrap();
                }
                Cell::Formula(f, result) => {
                    ws.write_formula(r, c, rust_xlsxwriter::Formula::new(*f).set_result(*result))
                        .unwrap();
                }
                Cell::Blank => {}
            }
        }
    }
    book.save_to_buffer().unwrap()
}

/// Writes a worksheet's XML.
type SheetWriter<'a> = &'a dyn Fn(&mut dyn Write);

/// `xlsx` with its first sheet's XML written by `sheet` (when given) and `extra` parts added.
fn rezip(xlsx: &[u8], sheet: Option<SheetWriter>, extra: &[(&str, &[u8])]) -> Vec<u8> {
    const SHEET: &str = "xl/worksheets/sheet1.xml";
    let mut archive = zip::ZipArchive::new(Cursor::new(xlsx)).unwrap();
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let deflated = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for i in 0..archive.len() {
        let part = archive.by_index(i).unwrap();
        match sheet {
            Some(write) if part.name() == SHEET => {
                drop(part);
                out.start_file(SHEET, deflated).unwrap();
                write(&mut out);
            }
            _ => out.raw_copy_file(part).unwrap(),
        }
    }
    for (name, content) in extra {
        out.start_file(*name, deflated).unwrap();
        out.write_all(content).unwrap();
    }
    out.finish().unwrap().into_inner()
}

/// The start and end of a worksheet's XML around its rows.
const SHEET_START: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">"#;
const SHEET_END: &str = "</sheetData></worksheet>";

/// Row `line` of inline-string cells from column A.
fn xml_row(line: u32, cells: &[&str]) -> String {
    let mut xml = format!(r#"<row r="{line}">"#);
    for (c, value) in cells.iter().enumerate() {
        let letter = (b'A' + c as u8) as char;
        xml.push_str(&format!(
            r#"<c r="{letter}{line}" t="inlineStr"><is><t>{value}</t></is></c>"#
        ));
    }
    xml.push_str("</row>");
    xml
}

/// The header and one valid member of `org_id` as the first rows of a sheet's XML.
fn xml_member_rows(org_id: &str) -> String {
    let id = nth_id(0);
    let birth = world::birth_of(&id);
    let gender = gender_of(&id);
    let member = [
        "党员0000",
        gender,
        &birth,
        "",
        "",
        &id,
        "",
        "",
        "2015-07-01",
        "full",
        org_id,
        "",
        "true",
    ];
    xml_row(1, &HEADER_EN) + &xml_row(2, &member)
}

async fn import(app: &TestApp, path: &str, token: &str, key: Option<&str>, content_type: &str, body: Vec<u8>) -> Reply {
    post_import(app, path, token, key, content_type, body).await
}

/// Imports members from a raw workbook.
async fn import_members(app: &TestApp, token: &str, query: &str, body: Vec<u8>) -> Reply {
    let path = format!("/api/v1/members/import{query}");
    import(app, &path, token, None, MEDIA_TYPE, body).await
}

/// A figure of this process from `/proc/self/status`, in bytes (`VmRSS`, `VmHWM`).
fn memory(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("Linux /proc");
    let line = status
        .lines()
        .find(|l| l.starts_with(field))
        .unwrap_or_else(|| panic!("no {field}"));
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

/// The most CPU time reading a hostile file may take in these tests. The target, 2 s, is the
/// release build's and the benchmark shows it (`bench/run`, "hostile workbooks"); a debug build
/// beside other test binaries is several times slower, so this bound catches work that grows
/// with what a file claims (rows, sizes, cells), not a slow machine.
const CPU_LIMIT: Duration = Duration::from_secs(10);

static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Like [`import_members`], with the CPU time the import took (this process serves it, and
/// the binary's tests take turns) and asserting that the service held under 100 MB more than
/// before at its peak: the peak is reset first (`clear_refs` 5). The clock only guards against
/// a hang: on a busy machine it says more about the machine than about the import.
async fn timed_import(app: &TestApp, token: &str, query: &str, body: Vec<u8>) -> (Reply, Duration) {
    std::fs::write("/proc/self/clear_refs", "5").expect("reset the peak");
    let before = memory("VmRSS:");
    let (started, cpu_before) = (Instant::now(), cpu_time(None));
    let reply = import_members(app, token, query, body).await;
    let took = cpu_time(None).saturating_sub(cpu_before);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "hung: {:?}",
        started.elapsed()
    );
    let grown = memory("VmHWM:").saturating_sub(before);
    assert!(grown < 100 * 1024 * 1024, "held {} MB more", grown / (1024 * 1024));
    (reply, took)
}

async fn member_count(app: &TestApp, w: &World) -> u64 {
    world::member_count(app, w.token("admin")).await
}

/// The one error of a 422 and its code.
fn only_error(reply: &Reply) -> Value {
    let problem = reply.assert_problem(422, "validation_failed");
    let errors = problem["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{problem}");
    errors[0].clone()
}

#[actix_web::test]
async fn a_workbook_with_chinese_headers_imports_after_a_dry_run() {
    let (app, w, _turn) = setup().await;
    let sec = w.token("sec_a");
    let rows: Vec<Vec<Cell>> = (0..3).map(|n| member_row(n, &w.branch_a)).collect();
    let book = workbook("党员名册", &HEADER_ZH, &rows);

    let dry = import_members(&app, sec, "?dry_run=true", book.clone()).await;
    assert_eq!(dry.status, 200, "{}", dry.text());
    assert_eq!(dry.json()["valid"], 3);
    assert_eq!(dry.json()["imported"], 0);
    assert_eq!(member_count(&app, &w).await, 0, "a dry run writes nothing");

    let path = "/api/v1/members/import";
    let reply = import(&app, path, sec, Some("xlsx-1"), MEDIA_TYPE, book.clone()).await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    assert_eq!(reply.json()["imported"], 3);
    assert_eq!(member_count(&app, &w).await, 3);

    // Dates, numbers and booleans came in as the validators read them.
    let page = get(&app, sec, "/api/v1/members").await.json();
    let first = &page["items"][0];
    assert_eq!(first["name"], "党员0000", "{page}");
    assert_eq!(first["birth_year"], 1980);
    assert_eq!(first["joined_on"], "2015-07-01");
    assert_eq!(first["status"], "full");
    assert_eq!(first["rural"], true);
    assert_eq!(first["gender"], gender_of(&nth_id(0)));
    let id = first["id"].as_str().unwrap();
    let revealed = get(&app, sec, &format!("/api/v1/members/{id}?reveal=pii")).await.json();
    assert_eq!(revealed["id_number"], nth_id(0).as_str());
    assert_eq!(revealed["phone"], "13800000000");
    assert_eq!(revealed["birth_date"], world::birth_of(&nth_id(0)).as_str());

    // The same bytes under the same key replay; other bytes under it are refused.
    let again = import(&app, path, sec, Some("xlsx-1"), MEDIA_TYPE, book).await;
    assert_eq!(again.status, 201, "{}", again.text());
    assert_eq!(again.body, reply.body);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    let other = workbook("党员名册", &HEADER_ZH, &[member_row(9, &w.branch_a)]);
    import(&app, path, sec, Some("xlsx-1"), MEDIA_TYPE, other)
        .await
        .assert_problem(422, "idempotency_key_reused");
    assert_eq!(member_count(&app, &w).await, 3);
}

#[actix_web::test]
async fn english_headers_work_and_the_bytes_decide_not_the_declared_type() {
    let (app, w, _turn) = setup().await;
    let sec = w.token("sec_a");
    let book = workbook("Sheet1", &HEADER_EN, &[member_row(0, &w.branch_a)]);

    // Declared as CSV, or sent as a form's `file` part: still read as a workbook.
    let reply = import(
        &app,
        "/api/v1/members/import?dry_run=true",
        sec,
        None,
        "text/csv",
        book.clone(),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["valid"], 1);

    let boundary = "----excel-import-boundary";
    let mut form = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"m.xlsx\"\r\nContent-Type: {MEDIA_TYPE}\r\n\r\n"
    )
    .into_bytes();
    form.extend_from_slice(&book);
    form.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let content_type = format!("multipart/form-data; boundary={boundary}");
    let reply = import(&app, "/api/v1/members/import", sec, None, &content_type, form).await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    assert_eq!(member_count(&app, &w).await, 1);

    // Neither CSV nor a workbook: 415 names every accepted type.
    let reply = import(&app, "/api/v1/members/import", sec, None, "application/pdf", book).await;
    let problem = reply.assert_problem(415, "unsupported_media_type");
    assert!(problem["detail"].as_str().unwrap().contains(MEDIA_TYPE), "{problem}");
}

#[actix_web::test]
async fn a_bad_cell_is_named_by_sheet_line_column_and_cell() {
    let (app, w, _turn) = setup().await;
    let mut rows: Vec<Vec<Cell>> = (0..3).map(|n| member_row(n, &w.branch_a)).collect();
    rows[1][6] = Cell::Number(1_381_234.0); // G3: not a phone number
    rows[2][0] = Cell::Blank; // A4: the name is required
    let book = workbook("党员名册", &HEADER_ZH, &rows);
    let reply = import_members(&app, w.token("sec_a"), "", book).await;
    let problem = reply.assert_problem(422, "validation_failed");
    let errors = problem["errors"].as_array().unwrap();
    let found: Vec<(u64, &str, &str, &str)> = errors
        .iter()
        .map(|e| {
            (
                e["line"].as_u64().unwrap(),
                e["column"].as_str().unwrap(),
                e["cell"].as_str().unwrap(),
                e["sheet"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        found,
        vec![(3, "手机号", "G3", "党员名册"), (4, "姓名", "A4", "党员名册")],
        "{problem}"
    );
    assert_eq!(errors[1]["code"], "required");
    assert_eq!(member_count(&app, &w).await, 0);

    // An unknown column is named by its header cell.
    let mut header = HEADER_ZH.to_vec();
    header.push("颜色");
    let book = workbook("Sheet1", &header, &[member_row(0, &w.branch_a)]);
    let error = only_error(&import_members(&app, w.token("sec_a"), "", book).await);
    assert_eq!(error["code"], "unknown_column", "{error}");
    assert_eq!(error["cell"], "P1");
    assert_eq!(error["column"], "颜色");

    // CSV errors carry neither a sheet nor a cell.
    let csv = format!("{}\nx\n", HEADER_EN.join(","));
    let reply = import(
        &app,
        "/api/v1/members/import",
        w.token("sec_a"),
        None,
        "text/csv",
        csv.into_bytes(),
    )
    .await;
    let problem = reply.assert_problem(422, "validation_failed");
    for e in problem["errors"].as_array().unwrap() {
        assert!(e.get("sheet").is_none() && e.get("cell").is_none(), "{e}");
    }
    assert_eq!(member_count(&app, &w).await, 0);
}

#[actix_web::test]
async fn an_id_number_typed_as_a_number_is_refused_and_never_guessed() {
    let (app, w, _turn) = setup().await;
    let mut rows: Vec<Vec<Cell>> = (0..2).map(|n| member_row(n, &w.branch_a)).collect();
    // What Excel keeps of 110101198001010011 typed into a General cell.
    rows[1][5] = Cell::Number(nth_id(1).parse::<f64>().unwrap());
    let book = workbook("党员名册", &HEADER_ZH, &rows);
    for query in ["?dry_run=true", ""] {
        let reply = send_body(
            app.server
                .post(format!("/api/v1/members/import{query}"))
                .bearer_auth(w.token("sec_a"))
                .insert_header(("Content-Type", MEDIA_TYPE))
                .insert_header(("Accept-Language", "zh-CN")),
            book.clone(),
        )
        .await;
        let error = only_error(&reply);
        assert_eq!(error["code"], "id_number_as_number", "{error}");
        assert_eq!((&error["line"], &error["cell"]), (&Value::from(3), &Value::from("F3")));
        assert_eq!(error["column"], "身份证号");
        let message = error["message"].as_str().unwrap();
        assert!(
            message.contains("15") && message.contains("设置单元格格式 → 文本"),
            "{message}"
        );
        assert!(!message.contains(&nth_id(1)[..15]), "no digits guessed: {message}");
    }
    assert_eq!(member_count(&app, &w).await, 0);
}

#[actix_web::test]
async fn formulas_and_error_values_are_refused() {
    let (app, w, _turn) = setup().await;
    let mut rows: Vec<Vec<Cell>> = (0..2).map(|n| member_row(n, &w.branch_a)).collect();
    rows[1][7] = Cell::Formula("=\"司山村\"&\"1号\"", "司山村1号"); // H3
    let book = workbook("Sheet1", &HEADER_ZH, &rows);
    let error = only_error(&import_members(&app, w.token("sec_a"), "", book).await);
    assert_eq!(error["code"], "formula", "{error}");
    assert_eq!(error["cell"], "H3");
    assert!(error["message"].as_str().unwrap().contains("values"), "{error}");

    // An error value (#N/A) where a value is read.
    let base = workbook("Sheet1", &HEADER_EN, &[]);
    let sheet = format!(
        "{SHEET_START}<sheetData>{}<row r=\"3\"><c r=\"A3\" t=\"e\"><v>#N/A</v></c></row>{SHEET_END}",
        xml_member_rows(&w.branch_a)
    );
    let book = rezip(
        &base,
        Some(&|out: &mut dyn Write| out.write_all(sheet.as_bytes()).unwrap()),
        &[],
    );
    let error = only_error(&import_members(&app, w.token("sec_a"), "", book).await);
    assert_eq!(error["code"], "error_value", "{error}");
    assert_eq!(error["cell"], "A3");

    // Formulas filled down (shared), even ones claiming the whole sheet or a huge index: the
    // file is refused at once, nothing laid out.
    for shared in [
        r#"<f t="shared" ref="A3:A4" si="0">1+1</f><v>2</v>"#,
        r#"<f t="shared" ref="A3:XFD1048576" si="0">1+1</f><v>2</v>"#,
        r#"<f t="shared" ref="A3" si="4000000000">1+1</f><v>2</v>"#,
    ] {
        let sheet = format!(
            "{SHEET_START}<sheetData>{}<row r=\"3\"><c r=\"A3\">{shared}</c></row>{SHEET_END}",
            xml_member_rows(&w.branch_a)
        );
        let book = rezip(
            &base,
            Some(&|out: &mut dyn Write| out.write_all(sheet.as_bytes()).unwrap()),
            &[],
        );
        let (reply, took) = timed_import(&app, w.token("sec_a"), "", book).await;
        assert!(took < CPU_LIMIT, "{shared}: took {took:?}");
        assert_eq!(only_error(&reply)["code"], "formula", "{shared}");
    }
    assert_eq!(member_count(&app, &w).await, 0);
}

#[actix_web::test]
async fn macros_are_refused_and_external_links_ignored() {
    let (app, w, _turn) = setup().await;
    let book = workbook("Sheet1", &HEADER_ZH, &[member_row(0, &w.branch_a)]);
    let xlsm = rezip(
        &book,
        None,
        &[("xl/vbaProject.bin", b"\xD0\xCF\x11\xE0 not really VBA")],
    );
    let error = only_error(&import_members(&app, w.token("sec_a"), "", xlsm).await);
    assert_eq!(error["code"], "macro_workbook", "{error}");
    assert_eq!(member_count(&app, &w).await, 0);

    // A link to another workbook is never followed: the part is not read at all.
    let link = br#"<?xml version="1.0" encoding="UTF-8"?><externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><externalBook xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" r:id="rId1"/></externalLink>"#;
    let rels = br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/externalLinkPath" Target="http://127.0.0.1:9/other.xlsx" TargetMode="External"/></Relationships>"#;
    let linked = rezip(
        &book,
        None,
        &[
            ("xl/externalLinks/externalLink1.xml", link),
            ("xl/externalLinks/_rels/externalLink1.xml.rels", rels),
        ],
    );
    let reply = import_members(&app, w.token("sec_a"), "", linked).await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    assert_eq!(member_count(&app, &w).await, 1);
}

#[actix_web::test]
async fn files_that_are_no_workbook_are_refused_with_a_clear_message() {
    let (app, w, _turn) = setup().await;
    let book = workbook("Sheet1", &HEADER_ZH, &[member_row(0, &w.branch_a)]);
    let mut truncated = book.clone();
    truncated.truncate(book.len() / 2);
    let mut xls = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    xls.extend_from_slice(&[0; 1024]);
    let mut not_xml = rezip(
        &book,
        Some(&|out: &mut dyn Write| out.write_all(b"\x00\x01 not xml").unwrap()),
        &[],
    );
    for (what, body) in [
        ("a truncated zip", truncated),
        ("an .xls or encrypted file", xls),
        ("a zip without a workbook", rezip_only(&book, "[Content_Types].xml")),
        ("a sheet that is not XML", std::mem::take(&mut not_xml)),
    ] {
        let error = only_error(&import_members(&app, w.token("sec_a"), "", body).await);
        assert_eq!(error["code"], "not_a_workbook", "{what}: {error}");
        let message = error["message"].as_str().unwrap();
        assert!(message.contains(".xlsx"), "{what}: {message}");
    }
    assert_eq!(member_count(&app, &w).await, 0);
}

/// A zip holding only the part `name` of `xlsx`.
fn rezip_only(xlsx: &[u8], name: &str) -> Vec<u8> {
    let mut archive = zip::ZipArchive::new(Cursor::new(xlsx)).unwrap();
    let mut content = Vec::new();
    archive.by_name(name).unwrap().read_to_end(&mut content).unwrap();
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    out.start_file(name, zip::write::SimpleFileOptions::default()).unwrap();
    out.write_all(&content).unwrap();
    out.finish().unwrap().into_inner()
}

#[actix_web::test]
async fn a_zip_bomb_is_refused_quickly_whatever_sizes_it_declares() {
    let (app, w, _turn) = setup().await;
    let base = workbook("Sheet1", &HEADER_EN, &[]);
    // 200 MB of whitespace between the rows: about 200 KB once compressed.
    let rows = xml_member_rows(&w.branch_a);
    let bomb = rezip(
        &base,
        Some(&|out: &mut dyn Write| {
            out.write_all(format!("{SHEET_START}<sheetData>{rows}").as_bytes())
                .unwrap();
            let spaces = vec![b' '; 1 << 20];
            for _ in 0..200 {
                out.write_all(&spaces).unwrap();
            }
            out.write_all(SHEET_END.as_bytes()).unwrap();
        }),
        &[],
    );
    assert!(bomb.len() < 2 * 1024 * 1024, "{} bytes", bomb.len());

    // The same archive declaring the sheet unpacks to 1,000 bytes.
    let mut liar = bomb.clone();
    {
        let mut archive = zip::ZipArchive::new(Cursor::new(bomb.clone())).unwrap();
        let sheet = archive.by_name("xl/worksheets/sheet1.xml").unwrap();
        let (local, central) = (sheet.header_start() as usize, sheet.central_header_start() as usize);
        liar[local + 22..local + 26].copy_from_slice(&1000u32.to_le_bytes());
        liar[central + 24..central + 28].copy_from_slice(&1000u32.to_le_bytes());
    }

    // One long string shared by many cells: 96 KB stored once, 29 MB if copied to each (and
    // 6 GB in 5,000 rows of 12 such cells).
    let long = text("长".repeat(32_000));
    let rows: Vec<Vec<Cell>> = (0..300).map(|_| vec![long.clone()]).collect();
    let shared = workbook("Sheet1", &HEADER_EN, &rows);
    assert!(shared.len() < 2 * 1024 * 1024, "{} bytes", shared.len());

    for (what, body) in [("honest", bomb), ("lying", liar), ("shared", shared)] {
        let (reply, took) = timed_import(&app, w.token("sec_a"), "?dry_run=true", body).await;
        assert!(took < CPU_LIMIT, "{what}: took {took:?}");
        let error = only_error(&reply);
        assert_eq!(error["code"], "workbook_too_large", "{what}: {error}");
    }
    assert_eq!(member_count(&app, &w).await, 0);
}

#[actix_web::test]
async fn a_million_empty_rows_are_read_quickly_and_far_cells_never_allocate() {
    let (app, w, _turn) = setup().await;
    let base = workbook("Sheet1", &HEADER_EN, &[]);
    let rows = xml_member_rows(&w.branch_a);
    let sheet = |dimension: &'static str, tail: &'static str| {
        let head = format!("{SHEET_START}<dimension ref=\"{dimension}\"/><sheetData>{rows}");
        rezip(
            &base,
            Some(&move |out: &mut dyn Write| {
                out.write_all(head.as_bytes()).unwrap();
                out.write_all(tail.as_bytes()).unwrap();
                out.write_all(SHEET_END.as_bytes()).unwrap();
            }),
            &[],
        )
    };

    // A million formatted but empty rows after the data: skipped.
    let million: &'static str = Box::leak("<row/>".repeat(1_000_000).into_boxed_str());
    let (reply, took) = timed_import(&app, w.token("sec_a"), "?dry_run=true", sheet("A1:M1000002", million)).await;
    assert!(took < CPU_LIMIT, "took {took:?}");
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["valid"], 1);

    // As many as a worksheet may hold: still quick.
    let most: &'static str = Box::leak("<row/>".repeat(2_090_000).into_boxed_str());
    let (reply, took) = timed_import(&app, w.token("sec_a"), "?dry_run=true", sheet("A1:M1000002", most)).await;
    assert!(took < CPU_LIMIT, "took {took:?}");
    assert_eq!(reply.status, 200, "{}", reply.text());

    // The same behind a formula: the formula pass reads them too, and the formula is refused.
    let formula: &'static str =
        Box::leak(format!(r#"<row r="3"><c r="A3"><f>1+1</f><v>2</v></c></row>{most}"#).into_boxed_str());
    let (reply, took) = timed_import(&app, w.token("sec_a"), "?dry_run=true", sheet("A1:M1000002", formula)).await;
    assert!(took < CPU_LIMIT, "took {took:?}");
    assert_eq!(only_error(&reply)["code"], "formula");

    // A sheet claiming A1:XFD1048576, with an empty formatted cell there: ignored.
    let far_empty = r#"<row r="1048576"><c r="XFD1048576" s="0"/></row>"#;
    let (reply, took) = timed_import(
        &app,
        w.token("sec_a"),
        "?dry_run=true",
        sheet("A1:XFD1048576", far_empty),
    )
    .await;
    assert!(took < CPU_LIMIT, "took {took:?}");
    assert_eq!(reply.status, 200, "{}", reply.text());

    // Data there is refused: too wide, or too far down.
    let far = r#"<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>"#;
    let (reply, took) = timed_import(&app, w.token("sec_a"), "", sheet("A1:XFD1048576", far)).await;
    assert!(took < CPU_LIMIT, "took {took:?}");
    let error = only_error(&reply);
    assert_eq!(error["code"], "too_many_columns", "{error}");
    assert_eq!(error["cell"], "XFD1048576");
    let down = r#"<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>x</t></is></c></row>"#;
    let (reply, took) = timed_import(&app, w.token("sec_a"), "", sheet("A1:A1048576", down)).await;
    assert!(took < CPU_LIMIT, "took {took:?}");
    reply.assert_problem(413, "payload_too_large");
    assert_eq!(member_count(&app, &w).await, 0);
}

#[actix_web::test]
async fn a_workbook_of_ten_thousand_rows_is_413() {
    let (app, w, _turn) = setup().await;
    let rows: Vec<Vec<Cell>> = (0..10_000).map(|n| member_row(n, &w.branch_a)).collect();
    let book = workbook("Sheet1", &HEADER_ZH, &rows);
    assert!(book.len() < 2 * 1024 * 1024, "{} bytes", book.len());
    let reply = import_members(&app, w.token("admin"), "", book).await;
    let problem = reply.assert_problem(413, "payload_too_large");
    assert!(problem["detail"].as_str().unwrap().contains("5000"), "{problem}");
    assert_eq!(member_count(&app, &w).await, 0);

    // 5,000 rows are allowed.
    let book = workbook("Sheet1", &HEADER_ZH, &rows[..5000]);
    let reply = import_members(&app, w.token("admin"), "?dry_run=true", book).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["valid"], 5000);
}

#[actix_web::test]
async fn households_import_a_workbook_too() {
    let (app, w, _turn) = setup().await;
    let admin = w.token("admin").to_owned();
    let village = world::create_village(&app, &admin, &w.branch_a, "司山村").await;
    let sec = w.token("sec_a");
    let header = [
        "户主姓名",
        "身份证号",
        "所在村",
        "家庭人口",
        "贫困户属性",
        "主要致贫原因",
        "次要致贫原因",
        "识别年度",
        "状态",
        "脱贫年度",
    ];
    let rows = vec![
        vec![
            text("户1"),
            text(world::head_id_number(1)),
            text(&village),
            Cell::Number(3.0),
            text("一般贫困户"),
            text("因病"),
            text("缺资金、缺技术"),
            Cell::Number(2014.0),
            text("未脱贫"),
            Cell::Blank,
        ],
        vec![
            text("户2"),
            text(world::head_id_number(2)),
            text(&village),
            Cell::Number(2.0),
            text("低保贫困户"),
            text("因残"),
            Cell::Blank,
            Cell::Number(2014.0),
            text("已脱贫"),
            Cell::Number(2016.0),
        ],
    ];
    let count = || async {
        get(&app, sec, "/api/v1/households?include_total=true").await.json()["total"]
            .as_u64()
            .unwrap()
    };
    let path = "/api/v1/households/import";

    // The head's ID number typed as a number is refused.
    let mut bad = rows.clone();
    bad[0][1] = Cell::Number(world::head_id_number(1).parse::<f64>().unwrap());
    let reply = import(&app, path, sec, None, MEDIA_TYPE, workbook("贫困户", &header, &bad)).await;
    let error = only_error(&reply);
    assert_eq!(error["code"], "id_number_as_number", "{error}");
    assert_eq!(
        (error["cell"].as_str(), error["sheet"].as_str()),
        (Some("B2"), Some("贫困户"))
    );
    assert_eq!(count().await, 0);

    let book = workbook("贫困户", &header, &rows);
    let dry = import(
        &app,
        &format!("{path}?dry_run=true"),
        sec,
        None,
        MEDIA_TYPE,
        book.clone(),
    )
    .await;
    assert_eq!(dry.status, 200, "{}", dry.text());
    assert_eq!(dry.json()["valid"], 2);
    assert_eq!(count().await, 0);
    let reply = import(&app, path, sec, Some("h-1"), MEDIA_TYPE, book).await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    assert_eq!(count().await, 2);
    let lifted = get(&app, sec, "/api/v1/households?status=lifted").await.json();
    assert_eq!(lifted["items"][0]["lifted_year"], 2016, "{lifted}");
    assert_eq!(lifted["items"][0]["size"], 2);
}

/// Zip archives stuffed with end records (a zip reader tries each in turn, scanning the whole
/// file for each) are refused quickly.
#[actix_web::test]
async fn a_zip_of_end_records_is_refused_quickly() {
    let (app, w, _turn) = setup().await;
    for variant in ["no directory", "directory elsewhere", "directory headers"] {
        let mut body = b"PK\x03\x04".to_vec();
        if variant == "directory headers" {
            body.extend_from_slice(&b"PK\x01\x02".repeat(10));
        }
        let mut end = b"PK\x05\x06\0\0\0\0".to_vec();
        end.extend_from_slice(&1u16.to_le_bytes()); // entries on this disk
        end.extend_from_slice(&1u16.to_le_bytes()); // entries
        end.extend_from_slice(&46u32.to_le_bytes()); // directory size
        let offset: u32 = if variant == "no directory" { 0 } else { 4 };
        end.extend_from_slice(&offset.to_le_bytes());
        end.extend_from_slice(&0u16.to_le_bytes()); // comment length
        while body.len() + end.len() < 2 * 1024 * 1024 {
            body.extend_from_slice(&end);
        }
        let (reply, took) = timed_import(&app, w.token("sec_a"), "?dry_run=true", body).await;
        assert!(took < CPU_LIMIT, "{variant}: took {took:?}");
        assert_eq!(only_error(&reply)["code"], "not_a_workbook", "{variant}");
    }
    assert_eq!(member_count(&app, &w).await, 0);
}
