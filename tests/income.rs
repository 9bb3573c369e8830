//! Village collective economy (村集体经济, issue 13): income projects with the poor households
//! sharing in their returns, the village ledger in exact fen, corrections with If-Match and an
//! audit trail, reversing records, a village's year against the income target on either basis,
//! the subtree summary (空壳村 and bands) checked against figures computed here from the
//! records entered, public finances that name nobody, scope and validation.

mod common;

use std::collections::BTreeMap;

use chrono::Datelike;
use common::world::{self, World, create, create_household, create_village, get, head_id_number, household_body};
use common::{Reply, TestApp, send, send_json, spawn_app, spawn_app_with_env};
use serde_json::{Value, json};

/// The year reported on: a whole past year. Its records are dated in December of it.
const YEAR: i32 = 2025;
const PREVIOUS: i32 = 2024;

/// Every income category; operating income is all of them but `subsidy`.
const INCOME: &[&str] = &["operating", "contracting", "investment", "subsidy", "other"];

struct Setup {
    app: TestApp,
    w: World,
    /// 司山村, served by 支部A.
    village_a: String,
    /// 大洼村, served by 支部B.
    village_b: String,
}

async fn setup() -> Setup {
    setup_on(spawn_app().await).await
}

async fn setup_on(app: TestApp) -> Setup {
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

fn id(v: &Value) -> String {
    v["id"].as_str().expect("an id").to_owned()
}

/// A ledger record of `village` for `year`, dated 20 December of that year.
fn record(village: &str, year: i32, category: &str, amount_fen: i64) -> Value {
    json!({
        "village_id": village,
        "year": year,
        "category": category,
        "amount_fen": amount_fen,
        "received_on": format!("{year}-12-20"),
    })
}

async fn post_record(app: &TestApp, token: &str, body: &Value) -> Reply {
    send_json(app.server.post("/api/v1/finance-records").bearer_auth(token), body).await
}

/// Enters a record (expects 201); returns its view.
async fn enter(app: &TestApp, token: &str, body: Value) -> Value {
    create(app, token, "/api/v1/finance-records", body).await
}

/// A photovoltaic project of `village` with these sharing households (expects 201).
async fn create_project(app: &TestApp, token: &str, village: &str, name: &str, households: &[&str]) -> Value {
    create(
        app,
        token,
        "/api/v1/income-projects",
        json!({
            "village_id": village,
            "name": name,
            "kind": "photovoltaic",
            "started_on": "2016-06-30",
            "partner": "平山镇光伏合作社",
            "capacity": 60,
            "capacity_unit": "kW",
            "invested_fen": 48_000_000,
            "status": "operating",
            "household_ids": households,
        }),
    )
    .await
}

async fn patch(app: &TestApp, token: &str, path: &str, etag: Option<&str>, body: Value) -> Reply {
    let mut req = app.server.patch(path).bearer_auth(token);
    if let Some(etag) = etag {
        req = req.insert_header(("If-Match", etag));
    }
    send_json(req, &body).await
}

async fn reverse(app: &TestApp, token: &str, record_id: &str, body: Value) -> Reply {
    send_json(
        app.server
            .post(format!("/api/v1/finance-records/{record_id}/reverse"))
            .bearer_auth(token),
        &body,
    )
    .await
}

/// `GET /api/v1/villages/{id}/income?year=` (expects 200).
async fn village_income(app: &TestApp, token: &str, village: &str, year: i32) -> Value {
    let reply = get(app, token, &format!("/api/v1/villages/{village}/income?year={year}")).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()
}

/// `GET /api/v1/income/summary?{query}` (expects 200).
async fn summary(app: &TestApp, token: &str, query: &str) -> Value {
    let reply = get(app, token, &format!("/api/v1/income/summary?{query}")).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()
}

/// How many ledger records `token` sees with these filters.
async fn record_count(app: &TestApp, token: &str, query: &str) -> u64 {
    let reply = get(
        app,
        token,
        &format!("/api/v1/finance-records?include_total=true&{query}"),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()["total"].as_u64().expect("total")
}

async fn project_count(app: &TestApp, token: &str) -> u64 {
    let reply = get(app, token, "/api/v1/income-projects?include_total=true").await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()["total"].as_u64().expect("total")
}

/// The amount of `category` in a `{total_fen, by_category}` object.
fn category_fen(totals: &Value, category: &str) -> i64 {
    totals["by_category"]
        .as_array()
        .expect("by_category")
        .iter()
        .find(|c| c["category"] == category)
        .unwrap_or_else(|| panic!("no {category} in {totals}"))["amount_fen"]
        .as_i64()
        .expect("an integer")
}

/// A money figure, asserting it is a JSON integer (never a float or a string).
fn fen(v: &Value) -> i64 {
    assert!(v.is_i64(), "money must be an integer number of fen: {v}");
    v.as_i64().unwrap()
}

/// The audit events of an entity, newest first.
async fn audit_events(app: &TestApp, admin: &str, entity_id: &str) -> Vec<Value> {
    let reply = get(
        app,
        admin,
        &format!("/api/v1/audit-events?entity_id={entity_id}&limit=100"),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()["items"].as_array().unwrap().clone()
}

async fn csv(app: &TestApp, token: &str, query: &str) -> Reply {
    send(
        app.server
            .get(format!("/api/v1/finance-records?{query}"))
            .bearer_auth(token)
            .insert_header(("Accept", "text/csv")),
    )
    .await
}

/// The CSV line of a record, split into cells (no cell of these tests holds a comma).
fn csv_line(text: &str, record_id: &str) -> Vec<String> {
    let line = text
        .lines()
        .find(|l| l.starts_with(record_id))
        .unwrap_or_else(|| panic!("no line for {record_id} in {text}"));
    line.split(',').map(str::to_owned).collect()
}

/// The column "金额（元）" of the export.
const AMOUNT_COLUMN: usize = 6;

// ── Money ──────────────────────────────────────────────────────────────────────────────────

#[actix_web::test]
async fn money_is_summed_exactly_in_fen_and_exported_in_yuan_with_two_decimals() {
    let s = setup().await;
    let (app, w) = (&s.app, &s.w);
    let (sec, admin) = (w.token("sec_a"), w.token("admin"));

    let reply = post_record(app, sec, &record(&s.village_a, YEAR, "operating", 900_000_000)).await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    assert_eq!(reply.header("etag"), Some("\"1\""));
    let big = reply.json();
    assert_eq!(
        reply.header("location"),
        Some(format!("/api/v1/finance-records/{}", id(&big)).as_str())
    );
    assert_eq!(fen(&big["amount_fen"]), 900_000_000);
    assert_eq!(fen(&big["net_fen"]), 900_000_000);
    assert_eq!(big["flow"], "income");
    assert_eq!(big["flow_label"], "收入");
    assert_eq!(big["category_label"], "经营收入");
    assert_eq!(big["org_id"], w.branch_a.as_str(), "the branch serving the village");
    assert_eq!(big["recorded_by"], w.user("sec_a"));
    assert_eq!(big["version"], 1);
    assert!(big["reverses_id"].is_null() && big["reversed_by_id"].is_null());
    let second = enter(app, sec, record(&s.village_a, YEAR, "contracting", 800_000_000)).await;
    let one = enter(app, sec, record(&s.village_a, YEAR, "investment", 1)).await;

    let report = village_income(app, sec, &s.village_a, YEAR).await;
    assert_eq!(fen(&report["income"]["total_fen"]), 1_700_000_001, "{report}");
    assert_eq!(fen(&report["income"]["operating_fen"]), 1_700_000_001);
    assert_eq!(category_fen(&report["income"], "operating"), 900_000_000);
    assert_eq!(category_fen(&report["income"], "contracting"), 800_000_000);
    assert_eq!(category_fen(&report["income"], "investment"), 1);
    assert_eq!(category_fen(&report["income"], "subsidy"), 0);
    assert_eq!(fen(&report["income"]["without_project_fen"]), 1_700_000_001);
    assert_eq!(fen(&report["balance_fen"]), 1_700_000_001);
    assert_eq!(fen(&report["target"]["measured_fen"]), 1_700_000_001);
    assert_eq!(report["target"]["band"], "over_500k");

    // One record of 1,700,000,001 fen in the other village: the county sums both exactly.
    let single = enter(app, admin, record(&s.village_b, YEAR, "operating", 1_700_000_001)).await;
    // And a record of the largest amount, 10¹² fen, the year before.
    enter(
        app,
        admin,
        record(&s.village_b, PREVIOUS, "operating", 1_000_000_000_000),
    )
    .await;
    let county = summary(app, admin, &format!("year={YEAR}")).await;
    assert_eq!(fen(&county["income"]["total_fen"]), 3_400_000_002, "{county}");
    assert_eq!(fen(&county["operating_fen"]), 3_400_000_002);
    assert_eq!(fen(&county["previous_year"]["total_fen"]), 1_000_000_000_000);
    assert_eq!(
        fen(&county["previous_year"]["total_change_fen"]),
        3_400_000_002 - 1_000_000_000_000
    );
    let report_b = village_income(app, admin, &s.village_b, YEAR).await;
    assert_eq!(fen(&report_b["previous_year"]["total_fen"]), 1_000_000_000_000);
    assert_eq!(
        fen(&report_b["previous_year"]["total_change_fen"]),
        1_700_000_001 - 1_000_000_000_000
    );

    // The export: yuan with exactly two decimals, one line per record.
    let reply = csv(app, admin, &format!("year={YEAR}")).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert!(
        reply.header("content-type").is_some_and(|t| t.starts_with("text/csv")),
        "{:?}",
        reply.header("content-type")
    );
    assert!(reply.body.starts_with(b"\xEF\xBB\xBF"), "UTF-8 with BOM");
    let text = reply.text();
    assert_eq!(text.lines().count(), 5, "header and four records of {YEAR}: {text}");
    assert!(text.lines().next().unwrap().contains("金额（元）"), "{text}");
    let line = csv_line(&text, &id(&single));
    assert_eq!(line[AMOUNT_COLUMN], "17000000.01", "{line:?}");
    assert_eq!(line[1], s.village_b, "{line:?}");
    assert_eq!(line[2], YEAR.to_string(), "{line:?}");
    assert_eq!(line[7], format!("{YEAR}-12-20"), "{line:?}");
    assert_eq!(csv_line(&text, &id(&big))[AMOUNT_COLUMN], "9000000.00");
    assert_eq!(csv_line(&text, &id(&second))[AMOUNT_COLUMN], "8000000.00");
    assert_eq!(csv_line(&text, &id(&one))[AMOUNT_COLUMN], "0.01");
    let previous = csv(app, admin, &format!("year={PREVIOUS}")).await.text();
    assert!(previous.contains(",10000000000.00,"), "{previous}");
}

#[actix_web::test]
async fn a_retried_record_with_the_same_idempotency_key_is_entered_once() {
    let s = setup().await;
    let (app, sec) = (&s.app, s.w.token("sec_a"));
    let body = record(&s.village_a, YEAR, "operating", 3_650_000);
    let mut ids = Vec::new();
    for _ in 0..2 {
        let reply = send_json(
            app.server
                .post("/api/v1/finance-records")
                .bearer_auth(sec)
                .insert_header(("Idempotency-Key", "ledger-2025-pv-1")),
            &body,
        )
        .await;
        assert_eq!(reply.status, 201, "{}", reply.text());
        ids.push(id(&reply.json()));
    }
    assert_eq!(ids[0], ids[1], "the retry answers with the same record");
    assert_eq!(record_count(app, sec, "").await, 1);
    let report = village_income(app, sec, &s.village_a, YEAR).await;
    assert_eq!(fen(&report["income"]["total_fen"]), 3_650_000, "entered once: {report}");
}

// ── Operating and total income, the target ───────────────────────────────────────────────────

#[actix_web::test]
async fn a_subsidy_counts_in_total_income_but_not_in_operating_income() {
    let s = setup().await;
    let (app, sec) = (&s.app, s.w.token("sec_a"));
    enter(app, sec, record(&s.village_a, YEAR, "operating", 1_000_000)).await;
    enter(app, sec, record(&s.village_a, YEAR, "subsidy", 2_000_000)).await;
    enter(app, sec, record(&s.village_a, YEAR, "other", 30_000)).await;
    // Expenditure and distribution are no income of either kind.
    enter(app, sec, record(&s.village_a, YEAR, "management_expense", 400_000)).await;
    enter(app, sec, record(&s.village_a, YEAR, "reserve_fund", 100_000)).await;

    let report = village_income(app, sec, &s.village_a, YEAR).await;
    let income = &report["income"];
    assert_eq!(fen(&income["total_fen"]), 3_030_000, "{report}");
    assert_eq!(fen(&income["operating_fen"]), 1_030_000);
    assert_eq!(category_fen(income, "subsidy"), 2_000_000);
    assert_eq!(category_fen(income, "operating"), 1_000_000);
    assert_eq!(category_fen(income, "other"), 30_000);
    let categories: Vec<&str> = income["by_category"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["category"].as_str().unwrap())
        .collect();
    assert_eq!(categories, INCOME, "every income category, 0 where none");
    assert_eq!(fen(&report["expenditure"]["total_fen"]), 400_000);
    assert_eq!(category_fen(&report["expenditure"], "management_expense"), 400_000);
    assert_eq!(fen(&report["distribution"]["total_fen"]), 100_000);
    assert_eq!(category_fen(&report["distribution"], "reserve_fund"), 100_000);
    assert_eq!(fen(&report["balance_fen"]), 3_030_000 - 400_000 - 100_000);
    assert_eq!(report["target"]["empty_shell"], false);

    let county = summary(app, s.w.token("admin"), &format!("year={YEAR}")).await;
    assert_eq!(fen(&county["income"]["total_fen"]), 3_030_000, "{county}");
    assert_eq!(fen(&county["operating_fen"]), 1_030_000);
    assert_eq!(category_fen(&county["income"], "subsidy"), 2_000_000);
    assert_eq!(fen(&county["expenditure"]["total_fen"]), 400_000);
    assert_eq!(fen(&county["distribution"]["total_fen"]), 100_000);
}

/// ¥40,000 operating income and a ¥20,000 subsidy in 司山村.
async fn forty_thousand_and_a_subsidy(s: &Setup) {
    let sec = s.w.token("sec_a");
    enter(&s.app, sec, record(&s.village_a, YEAR, "operating", 4_000_000)).await;
    enter(&s.app, sec, record(&s.village_a, YEAR, "subsidy", 2_000_000)).await;
}

#[actix_web::test]
async fn by_default_the_target_is_measured_on_total_income() {
    let s = setup().await;
    forty_thousand_and_a_subsidy(&s).await;
    let report = village_income(&s.app, s.w.token("sec_a"), &s.village_a, YEAR).await;
    let target = &report["target"];
    assert_eq!(target["basis"], "total", "{report}");
    assert_eq!(target["basis_label"], "集体总收入");
    assert_eq!(fen(&target["target_fen"]), 5_000_000);
    assert_eq!(fen(&target["measured_fen"]), 6_000_000);
    assert_eq!(target["reached"], true);
    assert_eq!(target["band"], "from_50k_to_100k");
    assert_eq!(target["empty_shell"], false);
    assert_eq!(fen(&report["income"]["total_fen"]), 6_000_000);
    assert_eq!(fen(&report["income"]["operating_fen"]), 4_000_000);

    let county = summary(&s.app, s.w.token("admin"), &format!("year={YEAR}")).await;
    assert_eq!(county["basis"], "total", "{county}");
    assert_eq!(fen(&county["target_fen"]), 5_000_000);
    assert_eq!(county["villages"], 2);
    assert_eq!(county["at_target"], 1);
    assert_eq!(fen(&county["income"]["total_fen"]), 6_000_000);
    assert_eq!(fen(&county["operating_fen"]), 4_000_000);
}

#[actix_web::test]
async fn on_the_operating_basis_the_same_village_misses_the_target() {
    let s = setup_on(spawn_app_with_env(&[("DANGJIAN_INCOME_TARGET_BASIS", "operating")]).await).await;
    forty_thousand_and_a_subsidy(&s).await;
    let report = village_income(&s.app, s.w.token("sec_a"), &s.village_a, YEAR).await;
    let target = &report["target"];
    assert_eq!(target["basis"], "operating", "{report}");
    assert_eq!(target["basis_label"], "经营性收入");
    assert_eq!(fen(&target["target_fen"]), 5_000_000);
    assert_eq!(fen(&target["measured_fen"]), 4_000_000);
    assert_eq!(target["reached"], false);
    assert_eq!(target["band"], "under_50k", "bands follow the measured basis");
    assert_eq!(target["empty_shell"], false);
    // Both figures are always given.
    assert_eq!(fen(&report["income"]["total_fen"]), 6_000_000);
    assert_eq!(fen(&report["income"]["operating_fen"]), 4_000_000);

    let county = summary(&s.app, s.w.token("admin"), &format!("year={YEAR}")).await;
    assert_eq!(county["basis"], "operating", "{county}");
    assert_eq!(county["at_target"], 0);
    assert_eq!(fen(&county["income"]["total_fen"]), 6_000_000);
    assert_eq!(fen(&county["operating_fen"]), 4_000_000);
    // The public figures say the same.
    let public = send(
        s.app
            .server
            .get(format!("/api/v1/public/villages/{}/finances?year={YEAR}", s.village_a)),
    )
    .await;
    assert_eq!(public.status, 200, "{}", public.text());
    assert_eq!(public.json()["target"], report["target"]);
}

#[actix_web::test]
async fn a_configured_target_is_reached_at_exactly_that_amount() {
    let s = setup_on(
        spawn_app_with_env(&[
            ("DANGJIAN_INCOME_TARGET_BASIS", "operating"),
            ("DANGJIAN_INCOME_TARGET_FEN", "4000000"),
        ])
        .await,
    )
    .await;
    forty_thousand_and_a_subsidy(&s).await;
    enter(
        &s.app,
        s.w.token("sec_b"),
        record(&s.village_b, YEAR, "operating", 3_999_999),
    )
    .await;
    let a = village_income(&s.app, s.w.token("admin"), &s.village_a, YEAR).await;
    assert_eq!(fen(&a["target"]["target_fen"]), 4_000_000, "{a}");
    assert_eq!(a["target"]["reached"], true, "{a}");
    let b = village_income(&s.app, s.w.token("admin"), &s.village_b, YEAR).await;
    assert_eq!(b["target"]["reached"], false, "one fen short: {b}");
    let county = summary(&s.app, s.w.token("admin"), &format!("year={YEAR}")).await;
    assert_eq!(fen(&county["target_fen"]), 4_000_000);
    assert_eq!(county["at_target"], 1, "{county}");
}

// ── The summary against figures computed here ────────────────────────────────────────────────

/// A record the summary scenario enters: village index, year, category, fen, and whether it
/// is reversed afterwards.
struct Entry {
    village: usize,
    year: i32,
    category: &'static str,
    fen: i64,
    reversed: bool,
}

const fn entry(village: usize, year: i32, category: &'static str, fen: i64) -> Entry {
    Entry {
        village,
        year,
        category,
        fen,
        reversed: false,
    }
}

const fn reversed(village: usize, year: i32, category: &'static str, fen: i64) -> Entry {
    Entry {
        village,
        year,
        category,
        fen,
        reversed: true,
    }
}

/// The scenario's villages: name, and whether 支部A serves it (else 支部B).
const VILLAGES: &[(&str, bool)] = &[
    ("甲村", true),
    ("乙村", true),
    ("丙村", false),
    ("丁村", false),
    ("戊村", true),
    ("己村", true),
    ("庚村", false),
    ("辛村", false),
];

/// The records of the scenario. 甲村's ¥600,000 comes from its photovoltaic project.
const ENTRIES: &[Entry] = &[
    // 甲村: over ¥500,000; expenditure and distribution are no income; 2023 is neither year.
    entry(0, YEAR, "operating", 60_000_000),
    entry(0, YEAR, "operating_expense", 10_000_000),
    entry(0, YEAR, "villager_dividend", 5_000_000),
    entry(0, PREVIOUS, "operating", 30_000_000),
    entry(0, 2023, "operating", 9_000_000),
    // 乙村: ¥30,000 operating and a ¥40,000 subsidy; the year before, only a subsidy.
    entry(1, YEAR, "operating", 3_000_000),
    entry(1, YEAR, "subsidy", 4_000_000),
    entry(1, PREVIOUS, "subsidy", 1_000_000),
    // 丙村: only subsidies: an empty shell, however much it receives.
    entry(2, YEAR, "subsidy", 8_000_000),
    entry(2, YEAR, "public_welfare", 500_000),
    entry(2, PREVIOUS, "contracting", 6_000_000),
    // 丁村: nothing at all.
    // 戊村: exactly ¥500,000 (still the band up to ¥500,000); the year before one fen more.
    entry(4, YEAR, "contracting", 50_000_000),
    entry(4, PREVIOUS, "investment", 50_000_001),
    // 己村: exactly the target; the year before one fen short.
    entry(5, YEAR, "investment", 5_000_000),
    entry(5, PREVIOUS, "other", 4_999_999),
    // 庚村: one fen short of ¥50,000, and a reversed record that no longer counts.
    entry(6, YEAR, "other", 4_999_999),
    reversed(6, YEAR, "operating", 2_000_000),
    // 辛村: its only income of the year reversed: an empty shell again.
    reversed(7, YEAR, "operating", 1_000),
    entry(7, PREVIOUS, "operating", 10_000_000),
];

/// A village's (total, operating) income in a year, from the entries.
fn incomes(village: usize, year: i32) -> (i64, i64) {
    ENTRIES
        .iter()
        .filter(|e| e.village == village && e.year == year && !e.reversed && INCOME.contains(&e.category))
        .fold((0, 0), |(total, operating), e| {
            let op = if e.category == "subsidy" { 0 } else { e.fen };
            (total + e.fen, operating + op)
        })
}

fn flow_total(villages: &[usize], year: i32, categories: &[&str]) -> i64 {
    ENTRIES
        .iter()
        .filter(|e| villages.contains(&e.village) && e.year == year && !e.reversed && categories.contains(&e.category))
        .map(|e| e.fen)
        .sum()
}

/// The band of a measured figure, as the issue defines it.
fn band(fen: i64) -> &'static str {
    if fen <= 0 {
        "none"
    } else if fen < 5_000_000 {
        "under_50k"
    } else if fen < 10_000_000 {
        "from_50k_to_100k"
    } else if fen <= 50_000_000 {
        "from_100k_to_500k"
    } else {
        "over_500k"
    }
}

const BANDS: &[&str] = &[
    "none",
    "under_50k",
    "from_50k_to_100k",
    "from_100k_to_500k",
    "over_500k",
];

/// What a summary over `villages` must say, computed from the entries.
struct Expected {
    at_target: u64,
    empty_shell: Vec<&'static str>,
    bands: BTreeMap<&'static str, u64>,
    total: i64,
    operating: i64,
    before_total: i64,
    before_operating: i64,
    before_at_target: u64,
    before_empty_shell: u64,
}

fn expected(villages: &[usize], operating_basis: bool, target: i64) -> Expected {
    let measured = |v: usize, year: i32| {
        let (total, operating) = incomes(v, year);
        if operating_basis { operating } else { total }
    };
    let mut bands: BTreeMap<&'static str, u64> = BANDS.iter().map(|b| (*b, 0)).collect();
    for &v in villages {
        *bands.get_mut(band(measured(v, YEAR))).unwrap() += 1;
    }
    let mut empty_shell: Vec<&'static str> = villages
        .iter()
        .filter(|&&v| incomes(v, YEAR).1 <= 0)
        .map(|&v| VILLAGES[v].0)
        .collect();
    empty_shell.sort();
    let sum =
        |year: i32, pick: fn((i64, i64)) -> i64| -> i64 { villages.iter().map(|&v| pick(incomes(v, year))).sum() };
    Expected {
        at_target: villages.iter().filter(|&&v| measured(v, YEAR) >= target).count() as u64,
        empty_shell,
        bands,
        total: sum(YEAR, |(t, _)| t),
        operating: sum(YEAR, |(_, o)| o),
        before_total: sum(PREVIOUS, |(t, _)| t),
        before_operating: sum(PREVIOUS, |(_, o)| o),
        before_at_target: villages.iter().filter(|&&v| measured(v, PREVIOUS) >= target).count() as u64,
        before_empty_shell: villages.iter().filter(|&&v| incomes(v, PREVIOUS).1 <= 0).count() as u64,
    }
}

fn assert_summary(summary: &Value, villages: &[usize], operating_basis: bool) {
    let e = expected(villages, operating_basis, 5_000_000);
    assert_eq!(summary["year"], YEAR);
    assert_eq!(summary["villages"], villages.len() as u64, "{summary}");
    assert_eq!(summary["at_target"], e.at_target, "at target: {summary}");
    assert_eq!(
        summary["empty_shell"],
        e.empty_shell.len() as u64,
        "empty shells: {summary}"
    );
    let mut names: Vec<&str> = summary["empty_shell_villages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, e.empty_shell, "{summary}");
    let bands: BTreeMap<&str, u64> = summary["bands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["band"].as_str().unwrap(), b["villages"].as_u64().unwrap()))
        .collect();
    let listed: Vec<&str> = summary["bands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["band"].as_str().unwrap())
        .collect();
    assert_eq!(listed, BANDS, "every band, in order");
    assert_eq!(bands, e.bands, "bands: {summary}");
    assert_eq!(fen(&summary["income"]["total_fen"]), e.total);
    assert_eq!(fen(&summary["operating_fen"]), e.operating);
    let prev = &summary["previous_year"];
    assert_eq!(prev["year"], PREVIOUS);
    assert_eq!(fen(&prev["total_fen"]), e.before_total, "{prev}");
    assert_eq!(fen(&prev["operating_fen"]), e.before_operating, "{prev}");
    assert_eq!(prev["at_target"], e.before_at_target, "{prev}");
    assert_eq!(prev["empty_shell"], e.before_empty_shell, "{prev}");
    assert_eq!(fen(&prev["total_change_fen"]), e.total - e.before_total);
    assert_eq!(fen(&prev["operating_change_fen"]), e.operating - e.before_operating);
}

/// Enters the scenario's villages and records (secretaries for their branch's villages) and
/// checks every village's year, the county's summary and each branch's against the figures
/// computed from the entries.
async fn summary_scenario(app: TestApp, operating_basis: bool) {
    let w = world::build(&app).await;
    let admin = w.token("admin").to_owned();
    let mut ids = Vec::new();
    for (name, in_a) in VILLAGES {
        let branch = if *in_a { &w.branch_a } else { &w.branch_b };
        ids.push(create_village(&app, &admin, branch, name).await);
    }
    let writer = |v: usize| {
        if VILLAGES[v].1 {
            w.token("sec_a")
        } else {
            w.token("sec_b")
        }
    };
    let project = create_project(&app, writer(0), &ids[0], "甲村光伏电站", &[]).await;
    for (n, e) in ENTRIES.iter().enumerate() {
        let mut body = record(&ids[e.village], e.year, e.category, e.fen);
        if n == 0 {
            body["project_id"] = project["id"].clone();
        }
        let r = enter(&app, writer(e.village), body).await;
        if e.reversed {
            let reply = reverse(&app, writer(e.village), &id(&r), json!({"reason": "重复入账"})).await;
            assert_eq!(reply.status, 201, "{}", reply.text());
        }
    }

    // Each village's year.
    for (v, village) in ids.iter().enumerate() {
        let report = village_income(&app, &admin, village, YEAR).await;
        let (total, operating) = incomes(v, YEAR);
        let (before_total, before_operating) = incomes(v, PREVIOUS);
        let measured = if operating_basis { operating } else { total };
        let name = VILLAGES[v].0;
        assert_eq!(report["village_name"], name);
        assert_eq!(fen(&report["income"]["total_fen"]), total, "{name}: {report}");
        assert_eq!(fen(&report["income"]["operating_fen"]), operating, "{name}: {report}");
        assert_eq!(fen(&report["target"]["measured_fen"]), measured, "{name}: {report}");
        assert_eq!(report["target"]["band"], band(measured), "{name}: {report}");
        assert_eq!(report["target"]["reached"], measured >= 5_000_000, "{name}: {report}");
        assert_eq!(report["target"]["empty_shell"], operating <= 0, "{name}: {report}");
        let prev = &report["previous_year"];
        assert_eq!(prev["year"], PREVIOUS);
        assert_eq!(fen(&prev["total_fen"]), before_total, "{name}: {prev}");
        assert_eq!(fen(&prev["operating_fen"]), before_operating, "{name}: {prev}");
        assert_eq!(fen(&prev["total_change_fen"]), total - before_total, "{name}: {prev}");
        assert_eq!(
            fen(&prev["operating_change_fen"]),
            operating - before_operating,
            "{name}: {prev}"
        );
        let expenditure = flow_total(
            &[v],
            YEAR,
            &[
                "operating_expense",
                "management_expense",
                "public_welfare",
                "other_expense",
            ],
        );
        assert_eq!(fen(&report["expenditure"]["total_fen"]), expenditure, "{name}");
        let distribution = flow_total(
            &[v],
            YEAR,
            &[
                "villager_dividend",
                "household_dividend",
                "reserve_fund",
                "other_distribution",
            ],
        );
        assert_eq!(fen(&report["distribution"]["total_fen"]), distribution, "{name}");
        assert_eq!(
            fen(&report["balance_fen"]),
            total - expenditure - distribution,
            "{name}"
        );
    }
    // Sanity of the scenario itself: the empty shells are the subsidy-only village, the one
    // with nothing and the one whose income was reversed.
    let all: Vec<usize> = (0..VILLAGES.len()).collect();
    assert_eq!(expected(&all, false, 5_000_000).empty_shell, ["丁村", "丙村", "辛村"]);

    let county = summary(&app, &admin, &format!("year={YEAR}")).await;
    assert_summary(&county, &all, operating_basis);
    assert!(county["org_id"].is_null());
    assert_eq!(county["basis"], if operating_basis { "operating" } else { "total" });
    let kinds: BTreeMap<&str, i64> = county["by_project_kind"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| (k["kind"].as_str().unwrap(), fen(&k["amount_fen"])))
        .collect();
    assert_eq!(kinds.len(), 7, "every kind: {kinds:?}");
    assert_eq!(kinds["photovoltaic"], 60_000_000);
    assert_eq!(kinds.values().sum::<i64>(), 60_000_000);
    assert_eq!(
        fen(&county["without_project_fen"]),
        expected(&all, operating_basis, 5_000_000).total - 60_000_000
    );
    assert_eq!(
        fen(&county["expenditure"]["total_fen"]),
        flow_total(&all, YEAR, &["operating_expense", "public_welfare"])
    );
    assert_eq!(
        fen(&county["distribution"]["total_fen"]),
        flow_total(&all, YEAR, &["villager_dividend"])
    );
    // The inspector reads the same summary.
    assert_eq!(
        summary(&app, w.token("inspector"), &format!("year={YEAR}")).await,
        county
    );

    // Each branch: by ?org_id= and as its secretary's own scope.
    for (branch, secretary, in_a) in [(&w.branch_a, "sec_a", true), (&w.branch_b, "sec_b", false)] {
        let villages: Vec<usize> = all.iter().copied().filter(|&v| VILLAGES[v].1 == in_a).collect();
        let by_org = summary(&app, &admin, &format!("org_id={branch}&year={YEAR}")).await;
        assert_summary(&by_org, &villages, operating_basis);
        assert_eq!(by_org["org_id"], branch.as_str());
        let own = summary(&app, w.token(secretary), &format!("year={YEAR}")).await;
        assert_summary(&own, &villages, operating_basis);
    }
}

#[actix_web::test]
async fn the_summary_counts_empty_shells_and_bands_as_the_records_say() {
    summary_scenario(spawn_app().await, false).await;
}

#[actix_web::test]
async fn on_the_operating_basis_the_summary_counts_bands_and_the_target_on_operating_income() {
    summary_scenario(
        spawn_app_with_env(&[("DANGJIAN_INCOME_TARGET_BASIS", "operating")]).await,
        true,
    )
    .await;
}

// ── Corrections and reversals ────────────────────────────────────────────────────────────────

#[actix_web::test]
async fn a_correction_needs_if_match_keeps_the_flow_and_is_audited_with_before_and_after() {
    let s = setup().await;
    let (app, w) = (&s.app, &s.w);
    let (sec, admin) = (w.token("sec_a"), w.token("admin"));
    let r = enter(app, sec, record(&s.village_a, YEAR, "operating", 1_000_000)).await;
    let path = format!("/api/v1/finance-records/{}", id(&r));
    let fetched = get(app, sec, &path).await;
    assert_eq!(fetched.status, 200);
    assert_eq!(fetched.header("etag"), Some("\"1\""));

    let correction = json!({"amount_fen": 1_200_000, "category": "contracting", "note": "按结算单更正金额"});
    patch(app, sec, &path, None, correction.clone())
        .await
        .assert_problem(428, "precondition_required");
    patch(app, sec, &path, Some("\"7\""), correction.clone())
        .await
        .assert_problem(412, "precondition_failed");
    // Income stays income: another flow's category is refused.
    let problem = patch(app, sec, &path, Some("\"1\""), json!({"category": "operating_expense"}))
        .await
        .assert_problem(422, "validation_failed");
    assert_eq!(problem["errors"][0]["pointer"], "/category", "{problem}");
    assert_eq!(problem["errors"][0]["code"], "other_flow", "{problem}");
    // Nothing of that changed the record.
    let unchanged = get(app, sec, &path).await.json();
    assert_eq!(unchanged["amount_fen"], 1_000_000);
    assert_eq!(unchanged["version"], 1);
    assert_eq!(
        audit_events(app, admin, &id(&r))
            .await
            .iter()
            .filter(|e| e["action"] == "finance_record.update")
            .count(),
        0
    );

    let reply = patch(app, sec, &path, Some("\"1\""), correction.clone()).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("etag"), Some("\"2\""));
    let corrected = reply.json();
    assert_eq!(corrected["amount_fen"], 1_200_000);
    assert_eq!(corrected["category"], "contracting");
    assert_eq!(corrected["category_label"], "发包及上交收入");
    assert_eq!(corrected["flow"], "income");
    assert_eq!(corrected["version"], 2);
    // The same change again with the old tag: 412.
    patch(app, sec, &path, Some("\"1\""), json!({"amount_fen": 1}))
        .await
        .assert_problem(412, "precondition_failed");

    let report = village_income(app, sec, &s.village_a, YEAR).await;
    assert_eq!(fen(&report["income"]["total_fen"]), 1_200_000, "{report}");
    assert_eq!(category_fen(&report["income"], "operating"), 0);
    assert_eq!(category_fen(&report["income"], "contracting"), 1_200_000);

    let events = audit_events(app, admin, &id(&r)).await;
    let actions: Vec<&str> = events.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["finance_record.update", "finance_record.create"]);
    let update = &events[0];
    assert_eq!(update["entity_type"], "finance_record");
    assert_eq!(update["actor_user_id"], w.user("sec_a"));
    let changes = &update["changes"];
    assert_eq!(changes["before"]["amount_fen"], 1_000_000, "{changes}");
    assert_eq!(changes["after"]["amount_fen"], 1_200_000, "{changes}");
    assert_eq!(changes["before"]["category"], "operating", "{changes}");
    assert_eq!(changes["after"]["category"], "contracting", "{changes}");
    assert_eq!(changes["after"]["note"], "按结算单更正金额", "{changes}");
    assert_eq!(changes["after"]["version"], 2, "{changes}");
}

#[actix_web::test]
async fn a_reversed_record_leaves_the_totals_and_can_neither_change_nor_be_reversed_again() {
    let s = setup().await;
    let (app, w) = (&s.app, &s.w);
    let (sec, admin) = (w.token("sec_a"), w.token("admin"));
    let keep = enter(app, sec, record(&s.village_a, YEAR, "operating", 3_000_000)).await;
    let wrong = enter(app, sec, record(&s.village_a, YEAR, "operating", 500_000)).await;
    let wrong_id = id(&wrong);
    let report = village_income(app, sec, &s.village_a, YEAR).await;
    assert_eq!(fen(&report["income"]["total_fen"]), 3_500_000);

    // Not dated before the record, nor in the future.
    let early = reverse(
        app,
        sec,
        &wrong_id,
        json!({"reason": "重复入账", "on": format!("{YEAR}-12-01")}),
    )
    .await;
    assert_eq!(
        early.assert_problem(422, "validation_failed")["errors"][0]["pointer"],
        "/on"
    );
    let tomorrow = chrono::Utc::now().date_naive().succ_opt().unwrap();
    let future = reverse(app, sec, &wrong_id, json!({"reason": "重复入账", "on": tomorrow})).await;
    assert_eq!(
        future.assert_problem(422, "validation_failed")["errors"][0]["pointer"],
        "/on"
    );
    reverse(app, sec, &wrong_id, json!({"reason": ""}))
        .await
        .assert_problem(422, "validation_failed");
    assert_eq!(record_count(app, sec, "").await, 2, "nothing entered");

    let reply = reverse(
        app,
        sec,
        &wrong_id,
        json!({"reason": "重复入账", "on": format!("{YEAR}-12-25")}),
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    assert_eq!(reply.header("etag"), Some("\"1\""));
    let reversal = reply.json();
    let reversal_id = id(&reversal);
    assert_eq!(
        reply.header("location"),
        Some(format!("/api/v1/finance-records/{reversal_id}").as_str())
    );
    assert_eq!(reversal["reverses_id"], wrong_id.as_str());
    assert!(reversal["reversed_by_id"].is_null());
    assert_eq!(fen(&reversal["amount_fen"]), 500_000);
    assert_eq!(fen(&reversal["net_fen"]), -500_000);
    assert_eq!(reversal["year"], YEAR);
    assert_eq!(reversal["category"], "operating");
    assert_eq!(reversal["village_id"], s.village_a.as_str());
    assert_eq!(reversal["received_on"], format!("{YEAR}-12-25"));
    assert_eq!(reversal["note"], "重复入账");
    let original = get(app, sec, &format!("/api/v1/finance-records/{wrong_id}")).await;
    assert_eq!(original.header("etag"), Some("\"2\""));
    let original = original.json();
    assert_eq!(original["reversed_by_id"], reversal_id.as_str());
    assert_eq!(
        fen(&original["net_fen"]),
        500_000,
        "the reversed record itself is unchanged"
    );

    // The totals no longer include it; both records stay in the ledger.
    let report = village_income(app, sec, &s.village_a, YEAR).await;
    assert_eq!(fen(&report["income"]["total_fen"]), 3_000_000, "{report}");
    assert_eq!(fen(&report["income"]["operating_fen"]), 3_000_000);
    assert_eq!(category_fen(&report["income"], "operating"), 3_000_000);
    let county = summary(app, admin, &format!("year={YEAR}")).await;
    assert_eq!(fen(&county["income"]["total_fen"]), 3_000_000, "{county}");
    assert_eq!(record_count(app, sec, "").await, 3);
    let text = csv(app, sec, "").await.text();
    let line = csv_line(&text, &reversal_id);
    assert_eq!(line[AMOUNT_COLUMN], "-5000.00", "{line:?}");
    assert_eq!(line[9], wrong_id, "{line:?}");
    assert_eq!(csv_line(&text, &wrong_id)[AMOUNT_COLUMN], "5000.00");

    // Reversed once only; a reversing record is not reversed; neither changes.
    reverse(app, sec, &wrong_id, json!({"reason": "再次冲销"}))
        .await
        .assert_problem(409, "conflict");
    reverse(app, admin, &reversal_id, json!({"reason": "冲销冲销记录"}))
        .await
        .assert_problem(409, "conflict");
    patch(
        app,
        sec,
        &format!("/api/v1/finance-records/{wrong_id}"),
        Some("\"2\""),
        json!({"amount_fen": 400_000}),
    )
    .await
    .assert_problem(409, "conflict");
    patch(
        app,
        sec,
        &format!("/api/v1/finance-records/{reversal_id}"),
        Some("\"1\""),
        json!({"amount_fen": 400_000}),
    )
    .await
    .assert_problem(409, "conflict");
    assert_eq!(record_count(app, sec, "").await, 3);
    let report = village_income(app, sec, &s.village_a, YEAR).await;
    assert_eq!(fen(&report["income"]["total_fen"]), 3_000_000, "unchanged: {report}");
    // The record kept is still corrected as usual.
    let kept = patch(
        app,
        sec,
        &format!("/api/v1/finance-records/{}", id(&keep)),
        Some("\"1\""),
        json!({"amount_fen": 3_100_000}),
    )
    .await;
    assert_eq!(kept.status, 200, "{}", kept.text());

    let actions: Vec<String> = audit_events(app, admin, &wrong_id)
        .await
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(actions, ["finance_record.reverse", "finance_record.create"]);
    // The reversal's event reads as a change of the reversed record; the reversing record has
    // its own creation event.
    let events = audit_events(app, admin, &wrong_id).await;
    let changes = &events[0]["changes"];
    assert!(changes["before"]["reversed_by_id"].is_null(), "{}", events[0]);
    assert_eq!(
        changes["after"]["reversed_by_id"],
        reversal_id.as_str(),
        "{}",
        events[0]
    );
    let created = audit_events(app, admin, &reversal_id).await;
    assert_eq!(created.len(), 1);
    assert_eq!(created[0]["action"], "finance_record.create");
    assert_eq!(
        created[0]["changes"]["after"]["reverses_id"],
        wrong_id.as_str(),
        "{}",
        created[0]
    );

    // Whoever still holds the version from before the reversal learns that it is settled.
    patch(
        app,
        sec,
        &format!("/api/v1/finance-records/{wrong_id}"),
        Some("\"1\""),
        json!({"amount_fen": 400_000}),
    )
    .await
    .assert_problem(409, "conflict");
}

#[actix_web::test]
async fn a_retried_reversal_answers_as_the_first_and_an_old_record_is_reversed_in_its_next_year() {
    let s = setup().await;
    let (app, w) = (&s.app, &s.w);
    let sec = w.token("sec_a");
    let old = enter(
        app,
        sec,
        json!({"village_id": s.village_a, "year": 2020, "category": "subsidy",
        "amount_fen": 700_000, "received_on": "2020-06-01"}),
    )
    .await;
    let path = format!("/api/v1/finance-records/{}/reverse", id(&old));
    let body = json!({"reason": "科目错误"});
    let send_once = || {
        send_json(
            app.server
                .post(&path)
                .bearer_auth(sec)
                .insert_header(("Idempotency-Key", "reverse-old-subsidy")),
            &body,
        )
    };
    let first = send_once().await;
    assert_eq!(first.status, 201, "{}", first.text());
    // Not dated today: a 2020 record is reversed within 2021 at the latest.
    assert_eq!(first.json()["received_on"], "2021-12-31");
    let again = send_once().await;
    assert_eq!(again.status, 201, "{}", again.text());
    assert_eq!(again.json()["id"], first.json()["id"]);
    assert_eq!(record_count(app, sec, "").await, 2, "reversed once");
    let report = village_income(app, sec, &s.village_a, 2020).await;
    assert_eq!(fen(&report["income"]["total_fen"]), 0, "{report}");
}

#[actix_web::test]
async fn a_correction_that_changes_nothing_makes_no_new_version() {
    let s = setup().await;
    let (app, w) = (&s.app, &s.w);
    let (sec, admin) = (w.token("sec_a"), w.token("admin"));
    let r = enter(app, sec, record(&s.village_a, YEAR, "operating", 3_000_000)).await;
    let path = format!("/api/v1/finance-records/{}", id(&r));
    let same = patch(app, sec, &path, Some("\"1\""), json!({"amount_fen": 3_000_000})).await;
    assert_eq!(same.status, 200, "{}", same.text());
    assert_eq!(same.header("etag"), Some("\"1\""));
    assert_eq!(same.json()["version"], 1);
    let actions: Vec<String> = audit_events(app, admin, &id(&r))
        .await
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(actions, ["finance_record.create"]);
}

// ── Public finances ──────────────────────────────────────────────────────────────────────────

#[actix_web::test]
async fn public_finances_need_no_token_name_nobody_and_answer_304_when_unchanged() {
    let s = setup().await;
    let (app, w) = (&s.app, &s.w);
    let sec = w.token("sec_a");
    let people = [
        ("李大山", head_id_number(1)),
        ("王小花", head_id_number(2)),
        ("张铁柱", head_id_number(3)),
    ];
    let mut households = Vec::new();
    for (name, number) in &people {
        households.push(id(&create_household(
            app,
            sec,
            household_body(name, &s.village_a, number),
        )
        .await));
    }
    let pv = create_project(
        app,
        sec,
        &s.village_a,
        "司山村光伏电站",
        &[households[0].as_str(), households[1].as_str()],
    )
    .await;
    let mut expected_ids = vec![households[0].clone(), households[1].clone()];
    expected_ids.sort();
    assert_eq!(pv["household_ids"], json!(expected_ids));
    let rental = create(
        app,
        sec,
        "/api/v1/income-projects",
        json!({"village_id": s.village_a, "name": "司山村物业出租", "kind": "rental", "status": "operating",
               "household_ids": [households[2]]}),
    )
    .await;
    let idle = create(
        app,
        sec,
        "/api/v1/income-projects",
        json!({"village_id": s.village_a, "name": "司山村茶园", "kind": "farming", "status": "planned"}),
    )
    .await;
    let mut pv_income = record(&s.village_a, YEAR, "operating", 3_650_000);
    pv_income["project_id"] = pv["id"].clone();
    pv_income["note"] = json!("李大山户光伏分红已到账");
    enter(app, sec, pv_income).await;
    let mut rent = record(&s.village_a, YEAR, "contracting", 1_000_000);
    rent["project_id"] = rental["id"].clone();
    enter(app, sec, rent).await;
    enter(app, sec, record(&s.village_a, YEAR, "subsidy", 2_000_000)).await;
    let mut dividend = record(&s.village_a, YEAR, "household_dividend", 800_000);
    dividend["project_id"] = pv["id"].clone();
    enter(app, sec, dividend).await;
    enter(app, sec, record(&s.village_a, YEAR, "management_expense", 300_000)).await;

    let path = format!("/api/v1/public/villages/{}/finances?year={YEAR}", s.village_a);
    let reply = send(app.server.get(&path)).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("cache-control"), Some("public, max-age=60"));
    let tag = reply.header("etag").expect("an ETag").to_owned();
    let text = reply.text();
    let public = reply.json();

    // Nobody is named: no head, no ID number (not even masked), no household, no account.
    for (name, number) in &people {
        assert!(!text.contains(name), "{name} in {text}");
        assert!(!text.contains(number.as_str()), "{number} in {text}");
    }
    assert!(!text.contains("340822"), "not even the masked ID number: {text}");
    for h in &households {
        assert!(!text.contains(h.as_str()), "household {h} in {text}");
    }
    assert!(!text.contains(w.user("sec_a")) && !text.contains("sec_a"), "{text}");
    assert!(!text.contains("household_ids"), "{text}");
    // The note of a record (free text) is not published either.
    assert!(!text.contains("分红已到账"), "{text}");

    // The figures are right, with counts of the households sharing.
    assert_eq!(public["village_name"], "司山村");
    assert_eq!(public["year"], YEAR);
    let by_project: BTreeMap<&str, &Value> = public["income"]["by_project"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["project_id"].as_str().unwrap(), p))
        .collect();
    assert_eq!(by_project.len(), 3, "every project of the village: {public}");
    let pv_row = by_project[pv["id"].as_str().unwrap()];
    assert_eq!(pv_row["households_sharing"], 2, "{pv_row}");
    assert_eq!(fen(&pv_row["amount_fen"]), 3_650_000);
    assert_eq!(pv_row["name"], "司山村光伏电站");
    assert_eq!(pv_row["kind"], "photovoltaic");
    assert_eq!(pv_row["capacity"], 60.0);
    assert_eq!(pv_row["capacity_unit"], "kW");
    let rental_row = by_project[rental["id"].as_str().unwrap()];
    assert_eq!(rental_row["households_sharing"], 1);
    assert_eq!(fen(&rental_row["amount_fen"]), 1_000_000);
    let idle_row = by_project[idle["id"].as_str().unwrap()];
    assert_eq!(idle_row["households_sharing"], 0);
    assert_eq!(fen(&idle_row["amount_fen"]), 0);
    assert_eq!(fen(&public["income"]["total_fen"]), 6_650_000);
    assert_eq!(fen(&public["income"]["operating_fen"]), 4_650_000);
    assert_eq!(fen(&public["income"]["without_project_fen"]), 2_000_000);
    assert_eq!(category_fen(&public["distribution"], "household_dividend"), 800_000);
    assert_eq!(fen(&public["expenditure"]["total_fen"]), 300_000);
    assert_eq!(fen(&public["balance_fen"]), 6_650_000 - 300_000 - 800_000);
    assert_eq!(public["target"]["reached"], true);

    // The same figures as the authenticated report.
    assert_eq!(public, village_income(app, sec, &s.village_a, YEAR).await);

    // Unchanged: 304 without a body.
    let again = send(app.server.get(&path).insert_header(("If-None-Match", tag.as_str()))).await;
    assert_eq!(again.status, 304, "{}", again.text());
    assert!(again.body.is_empty());
    assert_eq!(again.header("etag"), Some(tag.as_str()));
    // A new record changes the figures and the tag.
    enter(app, sec, record(&s.village_a, YEAR, "other", 1)).await;
    let changed = send(app.server.get(&path).insert_header(("If-None-Match", tag.as_str()))).await;
    assert_eq!(changed.status, 200, "{}", changed.text());
    assert_ne!(changed.header("etag"), Some(tag.as_str()));
    assert_eq!(fen(&changed.json()["income"]["total_fen"]), 6_650_001);

    // Any village, by anyone; an unknown one is 404.
    let other = send(
        app.server
            .get(format!("/api/v1/public/villages/{}/finances?year={YEAR}", s.village_b)),
    )
    .await;
    assert_eq!(other.status, 200, "{}", other.text());
    assert_eq!(fen(&other.json()["income"]["total_fen"]), 0);
    assert_eq!(other.json()["target"]["empty_shell"], true);
    send(
        app.server
            .get(format!("/api/v1/public/villages/{}/finances", uuid::Uuid::now_v7())),
    )
    .await
    .assert_problem(404, "not_found");
}

// ── Scope and roles ──────────────────────────────────────────────────────────────────────────

#[actix_web::test]
async fn readers_and_writers_stay_in_their_scope() {
    let s = setup().await;
    let (app, w) = (&s.app, &s.w);
    let (sec_a, sec_b) = (w.token("sec_a"), w.token("sec_b"));
    let project = create_project(app, sec_a, &s.village_a, "司山村光伏电站", &[]).await;
    let project_path = format!("/api/v1/income-projects/{}", id(&project));
    let r = enter(app, sec_a, record(&s.village_a, YEAR, "operating", 4_000_000)).await;
    let record_path = format!("/api/v1/finance-records/{}", id(&r));
    let report_path = format!("/api/v1/villages/{}/income?year={YEAR}", s.village_a);
    enter(app, sec_b, record(&s.village_b, YEAR, "operating", 7_000_000)).await;

    // Another branch's secretary: nothing of 支部A's village exists for them.
    for path in [&report_path, &record_path, &project_path] {
        get(app, sec_b, path).await.assert_problem(404, "not_found");
    }
    let listed = get(
        app,
        sec_b,
        &format!("/api/v1/finance-records?village_id={}", s.village_a),
    )
    .await;
    assert_eq!(listed.status, 200, "{}", listed.text());
    assert_eq!(listed.json()["items"], json!([]));
    assert_eq!(record_count(app, sec_b, "").await, 1, "only 支部B's record");
    assert_eq!(project_count(app, sec_b).await, 0);
    let csv_b = csv(app, sec_b, "").await.text();
    assert!(!csv_b.contains(&id(&r)), "{csv_b}");
    get(app, sec_b, &format!("/api/v1/income/summary?org_id={}", w.branch_a))
        .await
        .assert_problem(404, "not_found");
    let own = summary(app, sec_b, &format!("year={YEAR}")).await;
    assert_eq!(own["villages"], 1, "{own}");
    assert_eq!(fen(&own["income"]["total_fen"]), 7_000_000);
    post_record(app, sec_b, &record(&s.village_a, YEAR, "operating", 1))
        .await
        .assert_problem(404, "not_found");
    patch(app, sec_b, &record_path, Some("\"1\""), json!({"amount_fen": 1}))
        .await
        .assert_problem(404, "not_found");
    reverse(app, sec_b, &id(&r), json!({"reason": "越权"}))
        .await
        .assert_problem(404, "not_found");
    patch(app, sec_b, &project_path, Some("\"1\""), json!({"status": "stopped"}))
        .await
        .assert_problem(404, "not_found");
    send_json(
        app.server.post("/api/v1/income-projects").bearer_auth(sec_b),
        &json!({"village_id": s.village_a, "name": "越权项目", "kind": "other", "status": "planned"}),
    )
    .await
    .assert_problem(404, "not_found");

    // The inspector reads everything and writes nothing.
    let inspector = w.token("inspector");
    for path in [&report_path, &record_path, &project_path] {
        assert_eq!(get(app, inspector, path).await.status, 200, "{path}");
    }
    assert_eq!(record_count(app, inspector, "").await, 2);
    assert_eq!(summary(app, inspector, &format!("year={YEAR}")).await["villages"], 2);
    post_record(app, inspector, &record(&s.village_a, YEAR, "operating", 1))
        .await
        .assert_problem(403, "forbidden");
    patch(app, inspector, &record_path, Some("\"1\""), json!({"amount_fen": 1}))
        .await
        .assert_problem(403, "forbidden");
    reverse(app, inspector, &id(&r), json!({"reason": "检查"}))
        .await
        .assert_problem(403, "forbidden");
    patch(
        app,
        inspector,
        &project_path,
        Some("\"1\""),
        json!({"status": "stopped"}),
    )
    .await
    .assert_problem(403, "forbidden");
    send_json(
        app.server.post("/api/v1/income-projects").bearer_auth(inspector),
        &json!({"village_id": s.village_a, "name": "检查项目", "kind": "other", "status": "planned"}),
    )
    .await
    .assert_problem(403, "forbidden");

    // Members and group leaders read none of it; without a token, nothing but the public page.
    for user in ["member_a", "leader_a"] {
        let token = w.token(user);
        get(app, token, &format!("/api/v1/income/summary?year={YEAR}"))
            .await
            .assert_problem(403, "forbidden");
        for path in [&report_path, &record_path, &project_path] {
            get(app, token, path).await.assert_problem(403, "forbidden");
        }
        post_record(app, token, &record(&s.village_a, YEAR, "operating", 1))
            .await
            .assert_problem(403, "forbidden");
    }
    for path in [
        report_path.clone(),
        record_path.clone(),
        project_path.clone(),
        "/api/v1/finance-records".to_owned(),
        "/api/v1/income/summary".to_owned(),
    ] {
        send(app.server.get(&path)).await.assert_problem(401, "unauthorized");
    }

    // None of the refused writes changed anything.
    let fetched = get(app, sec_a, &record_path).await.json();
    assert_eq!(fetched["amount_fen"], 4_000_000);
    assert_eq!(fetched["version"], 1);
    assert!(fetched["reversed_by_id"].is_null());
    assert_eq!(record_count(app, w.token("admin"), "").await, 2);
    assert_eq!(project_count(app, w.token("admin")).await, 1);
    assert_eq!(get(app, sec_a, &project_path).await.json()["status"], "operating");
}

// ── Validation ───────────────────────────────────────────────────────────────────────────────

/// Asserts a 422 with one error at `pointer` with `code`.
fn assert_invalid(reply: &Reply, pointer: &str, code: &str) {
    let problem = reply.assert_problem(422, "validation_failed");
    let errors = problem["errors"].as_array().expect("errors");
    assert!(
        errors.iter().any(|e| e["pointer"] == pointer && e["code"] == code),
        "{pointer} {code}: {problem}"
    );
}

#[actix_web::test]
async fn invalid_records_are_refused_and_nothing_is_written() {
    let s = setup().await;
    let (app, w) = (&s.app, &s.w);
    let (sec, admin) = (w.token("sec_a"), w.token("admin"));
    let project_b = create_project(app, w.token("sec_b"), &s.village_b, "大洼村光伏电站", &[]).await;
    let project_a = create_project(app, sec, &s.village_a, "司山村光伏电站", &[]).await;
    let today = chrono::Utc::now().date_naive();
    let tomorrow = today.succ_opt().unwrap();

    let mut foreign = record(&s.village_a, YEAR, "operating", 1_000_000);
    foreign["project_id"] = project_b["id"].clone();
    let mut unknown = record(&s.village_a, YEAR, "operating", 1_000_000);
    unknown["project_id"] = json!(uuid::Uuid::now_v7());
    let mut future = record(&s.village_a, today.year(), "operating", 1_000_000);
    future["received_on"] = json!(tomorrow);
    let mut outside = record(&s.village_a, 2023, "operating", 1_000_000);
    outside["received_on"] = json!("2025-01-10");
    for (body, pointer, code) in [
        (
            record(&s.village_a, YEAR, "operating", 0),
            "/amount_fen",
            "out_of_range",
        ),
        (
            record(&s.village_a, YEAR, "operating", -500),
            "/amount_fen",
            "out_of_range",
        ),
        (
            record(&s.village_a, YEAR, "operating", 1_000_000_000_001),
            "/amount_fen",
            "out_of_range",
        ),
        (future, "/received_on", "future"),
        (outside, "/received_on", "outside_year"),
        (record(&s.village_a, 1999, "operating", 1), "/year", "out_of_range"),
        (
            record(&s.village_a, today.year() + 1, "operating", 1),
            "/year",
            "out_of_range",
        ),
        (foreign, "/project_id", "not_of_village"),
        (unknown, "/project_id", "not_of_village"),
    ] {
        let reply = post_record(app, sec, &body).await;
        assert_invalid(&reply, pointer, code);
    }
    assert_eq!(record_count(app, admin, "").await, 0, "nothing written");
    assert_eq!(
        fen(&summary(app, admin, &format!("year={YEAR}")).await["income"]["total_fen"]),
        0
    );

    // A valid record with the village's own project; then a correction to another village's
    // project, a zero amount or a future date is refused and changes nothing.
    let mut own = record(&s.village_a, YEAR, "operating", 1_000_000);
    own["project_id"] = project_a["id"].clone();
    let r = enter(app, sec, own).await;
    let path = format!("/api/v1/finance-records/{}", id(&r));
    for (body, pointer, code) in [
        (json!({"project_id": project_b["id"]}), "/project_id", "not_of_village"),
        (json!({"amount_fen": 0}), "/amount_fen", "out_of_range"),
        (json!({"received_on": tomorrow}), "/received_on", "future"),
        (json!({"year": 2023}), "/received_on", "outside_year"),
    ] {
        assert_invalid(&patch(app, sec, &path, Some("\"1\""), body).await, pointer, code);
    }
    let unchanged = get(app, sec, &path).await.json();
    assert_eq!(unchanged["project_id"], project_a["id"]);
    assert_eq!(unchanged["amount_fen"], 1_000_000);
    assert_eq!(unchanged["version"], 1);
    assert_eq!(record_count(app, admin, "").await, 1);

    // The largest amount is accepted.
    let max = enter(app, sec, record(&s.village_a, YEAR, "other", 1_000_000_000_000)).await;
    assert_eq!(fen(&max["amount_fen"]), 1_000_000_000_000);
}

#[actix_web::test]
async fn only_the_villages_own_households_share_in_a_project() {
    let s = setup().await;
    let (app, w) = (&s.app, &s.w);
    let (sec, admin) = (w.token("sec_a"), w.token("admin"));
    let own = id(&create_household(app, sec, household_body("李大山", &s.village_a, &head_id_number(1))).await);
    let foreign = id(&create_household(
        app,
        w.token("sec_b"),
        household_body("赵二", &s.village_b, &head_id_number(2)),
    )
    .await);

    let body = |households: Value| {
        json!({"village_id": s.village_a, "name": "司山村光伏电站", "kind": "photovoltaic",
               "status": "operating", "household_ids": households})
    };
    for households in [json!([foreign]), json!([own, foreign]), json!([uuid::Uuid::now_v7()])] {
        let reply = send_json(
            app.server.post("/api/v1/income-projects").bearer_auth(admin),
            &body(households),
        )
        .await;
        assert_invalid(&reply, "/household_ids", "not_of_village");
    }
    assert_eq!(project_count(app, admin).await, 0, "nothing written");

    let project = create(app, sec, "/api/v1/income-projects", body(json!([own, own]))).await;
    assert_eq!(project["household_ids"], json!([own]), "each household once");
    let path = format!("/api/v1/income-projects/{}", id(&project));
    let reply = patch(app, sec, &path, Some("\"1\""), json!({"household_ids": [own, foreign]})).await;
    assert_invalid(&reply, "/household_ids", "not_of_village");
    let unchanged = get(app, sec, &path).await;
    assert_eq!(unchanged.header("etag"), Some("\"1\""));
    assert_eq!(unchanged.json()["household_ids"], json!([own]));
    let public = send(
        app.server
            .get(format!("/api/v1/public/villages/{}/finances?year={YEAR}", s.village_a)),
    )
    .await
    .json();
    assert_eq!(public["income"]["by_project"][0]["households_sharing"], 1, "{public}");
}

// ── Projects ─────────────────────────────────────────────────────────────────────────────────

#[actix_web::test]
async fn a_project_is_registered_and_changed_with_if_match_and_audited() {
    let s = setup().await;
    let (app, w) = (&s.app, &s.w);
    let (sec, admin) = (w.token("sec_a"), w.token("admin"));
    let h = id(&create_household(app, sec, household_body("李大山", &s.village_a, &head_id_number(1))).await);
    let reply = send_json(
        app.server.post("/api/v1/income-projects").bearer_auth(sec),
        &json!({"village_id": s.village_a, "name": "司山村光伏电站", "kind": "photovoltaic",
                "capacity": 60, "capacity_unit": "kW", "invested_fen": 48_000_000, "status": "operating",
                "household_ids": [h]}),
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    assert_eq!(reply.header("etag"), Some("\"1\""));
    let project = reply.json();
    let path = format!("/api/v1/income-projects/{}", id(&project));
    assert_eq!(reply.header("location"), Some(path.as_str()));
    assert_eq!(project["org_id"], w.branch_a.as_str());
    assert_eq!(project["village_id"], s.village_a.as_str());
    assert_eq!(project["kind_label"], "光伏电站");
    assert_eq!(project["status_label"], "运营中");
    assert_eq!(fen(&project["invested_fen"]), 48_000_000);
    assert_eq!(project["household_ids"], json!([h]));

    let listed = get(app, sec, &format!("/api/v1/income-projects?village_id={}", s.village_a)).await;
    assert_eq!(listed.json()["items"][0]["id"], project["id"]);

    patch(app, sec, &path, None, json!({"status": "stopped"}))
        .await
        .assert_problem(428, "precondition_required");
    patch(app, sec, &path, Some("\"5\""), json!({"status": "stopped"}))
        .await
        .assert_problem(412, "precondition_failed");
    let reply = patch(
        app,
        sec,
        &path,
        Some("\"1\""),
        json!({"status": "stopped", "note": "设备老化，停运检修", "household_ids": []}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("etag"), Some("\"2\""));
    let changed = reply.json();
    assert_eq!(changed["status"], "stopped");
    assert_eq!(changed["household_ids"], json!([]));
    assert_eq!(changed["capacity"], 60.0, "unchanged fields are kept");

    let events = audit_events(app, admin, &id(&project)).await;
    assert_eq!(events[0]["action"], "income_project.update");
    assert_eq!(events[0]["changes"]["before"]["status"], "operating");
    assert_eq!(events[0]["changes"]["after"]["status"], "stopped");
    assert_eq!(events[0]["changes"]["before"]["household_ids"], json!([h]));
    assert_eq!(events[0]["changes"]["after"]["household_ids"], json!([]));
    assert_eq!(events[1]["action"], "income_project.create");
}

#[actix_web::test]
async fn a_household_sharing_in_a_project_is_not_deleted_until_taken_off_it() {
    let s = setup().await;
    let (app, w) = (&s.app, &s.w);
    let sec = w.token("sec_a");
    let h = id(&create_household(app, sec, household_body("李大山", &s.village_a, &head_id_number(1))).await);
    let project = create_project(app, sec, &s.village_a, "司山村光伏电站", &[h.as_str()]).await;
    let household_path = format!("/api/v1/households/{h}");
    let delete = || {
        send(
            app.server
                .delete(&household_path)
                .bearer_auth(sec)
                .insert_header(("If-Match", "\"1\"")),
        )
    };
    delete().await.assert_problem(409, "conflict");
    assert_eq!(get(app, sec, &household_path).await.status, 200, "still there");
    let project_path = format!("/api/v1/income-projects/{}", id(&project));
    assert_eq!(get(app, sec, &project_path).await.json()["household_ids"], json!([h]));

    let reply = patch(app, sec, &project_path, Some("\"1\""), json!({"household_ids": []})).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let reply = delete().await;
    assert_eq!(reply.status, 204, "{}", reply.text());
    get(app, sec, &household_path).await.assert_problem(404, "not_found");
}

// ── The ledger and project lists ─────────────────────────────────────────────────────────────

/// Every id of a list, following `next_cursor` with `limit=2`.
async fn all_ids(app: &TestApp, token: &str, path: &str, query: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..20 {
        let mut url = format!("{path}?limit=2&{query}");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let reply = get(app, token, &url).await;
        assert_eq!(reply.status, 200, "{url}: {}", reply.text());
        let page = reply.json();
        ids.extend(page["items"].as_array().unwrap().iter().map(id));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return ids,
        }
    }
    panic!("more pages than records: {ids:?}");
}

#[actix_web::test]
async fn the_ledger_is_listed_newest_first_page_by_page_and_filtered() {
    let s = setup().await;
    let (app, w) = (&s.app, &s.w);
    let (sec, admin) = (w.token("sec_a"), w.token("admin"));
    let project = create_project(app, sec, &s.village_a, "司山村光伏电站", &[]).await;
    let dated = |year: i32, category: &str, fen: i64, on: &str| {
        let mut body = record(&s.village_a, year, category, fen);
        body["received_on"] = json!(on);
        body
    };
    let r1 = id(&enter(app, sec, dated(PREVIOUS, "operating", 100, "2024-12-20")).await);
    let mut with_project = dated(YEAR, "operating", 200, "2025-03-01");
    with_project["project_id"] = project["id"].clone();
    let r2 = id(&enter(app, sec, with_project).await);
    let r3 = id(&enter(app, sec, dated(YEAR, "management_expense", 300, "2025-06-01")).await);
    let r4 = id(&enter(app, sec, dated(YEAR, "villager_dividend", 400, "2025-12-20")).await);
    // The same day as r4, entered later.
    let r5 = id(&enter(app, w.token("sec_b"), record(&s.village_b, YEAR, "subsidy", 500)).await);

    let path = "/api/v1/finance-records";
    assert_eq!(
        all_ids(app, admin, path, "").await,
        [r5.as_str(), r4.as_str(), r3.as_str(), r2.as_str(), r1.as_str()],
        "newest first, the later entry first on the same day"
    );
    assert_eq!(
        all_ids(app, sec, path, "").await,
        [r4.as_str(), r3.as_str(), r2.as_str(), r1.as_str()]
    );
    for (query, expected) in [
        ("flow=expenditure", vec![r3.as_str()]),
        ("flow=distribution", vec![r4.as_str()]),
        ("flow=income", vec![r5.as_str(), r2.as_str(), r1.as_str()]),
        ("category=operating", vec![r2.as_str(), r1.as_str()]),
        (&format!("project_id={}", id(&project)), vec![r2.as_str()]),
        (&format!("year={PREVIOUS}"), vec![r1.as_str()]),
        (&format!("year={YEAR}&flow=income"), vec![r5.as_str(), r2.as_str()]),
        (&format!("village_id={}", s.village_b), vec![r5.as_str()]),
        (&format!("org_id={}", w.branch_b), vec![r5.as_str()]),
        (
            &format!("org_id={}", w.branch_a),
            vec![r4.as_str(), r3.as_str(), r2.as_str(), r1.as_str()],
        ),
    ] {
        assert_eq!(all_ids(app, admin, path, query).await, expected, "{query}");
    }
    // The export holds the same records as the list, whatever the filter.
    let text = csv(app, admin, &format!("year={YEAR}&flow=income")).await.text();
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(text.contains(r5.as_str()) && text.contains(r2.as_str()), "{text}");

    // Projects: by name, filtered.
    create(
        app,
        sec,
        "/api/v1/income-projects",
        json!({"village_id": s.village_a, "name": "司山村物业出租", "kind": "rental", "status": "stopped"}),
    )
    .await;
    let projects = "/api/v1/income-projects";
    assert_eq!(all_ids(app, sec, projects, "").await.len(), 2);
    assert_eq!(all_ids(app, sec, projects, "kind=photovoltaic").await, [id(&project)]);
    assert_eq!(all_ids(app, sec, projects, "status=operating").await, [id(&project)]);
    // `q=光伏`, percent-encoded.
    assert_eq!(
        all_ids(app, sec, projects, "q=%E5%85%89%E4%BC%8F").await,
        [id(&project)]
    );
    assert_eq!(
        all_ids(app, admin, projects, &format!("village_id={}", s.village_b)).await,
        Vec::<String>::new()
    );
}
