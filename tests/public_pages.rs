//! The public side on the web (no token): the directory, the board, star board and finances
//! as pages under `/p/`, the feedback form, the printable board and the boards' QR codes.
//! Pages show what the public JSON shows and nothing private; user-written text is escaped;
//! errors are pages.

mod common;

use common::world::{
    self, CHENG_ADDRESS, CHENG_PHONE, World, cheng_id_number, create, create_village, get, pledge_body,
    pledge_in_state, pledge_members, wang_id_number,
};
use common::{Reply, TestApp, send, send_body, send_json, spawn_app, spawn_app_with_env};
use serde_json::{Value, json};

/// A world with 程军's pledge titled like a script (approved) and a draft, both of 支部A.
async fn setup_on(app: TestApp) -> (TestApp, World, Value) {
    let mut w = world::build(&app).await;
    let members = pledge_members(&app, &mut w).await;
    let (member, sec) = (w.token("member_a").to_owned(), w.token("sec_a").to_owned());
    // 程军 holds a pioneer post (党员先锋岗): boards show it beside his name.
    create(
        &app,
        &sec,
        &format!("/api/v1/members/{}/posts", members.cheng_id()),
        json!({"kind": "pioneer_post", "duty": "负责环境卫生", "org_id": w.branch_a, "start_on": "2017-01-01"}),
    )
    .await;
    let shown = pledge_in_state(
        &app,
        &member,
        &sec,
        pledge_body("<script>alert(1)</script>修路"),
        "approved",
    )
    .await;
    let draft = create(&app, &member, "/api/v1/pledges", pledge_body("草稿里的承诺")).await;
    assert_eq!(draft["state"], "draft");
    (app, w, shown)
}

async fn setup() -> (TestApp, World, Value) {
    setup_on(spawn_app().await).await
}

async fn page(app: &TestApp, path: &str) -> Reply {
    send(app.server.get(path)).await
}

/// Asserts an HTML page with this status; returns its text.
fn html(reply: &Reply, status: u16) -> String {
    assert_eq!(reply.status.as_u16(), status, "{}", reply.text());
    assert_eq!(reply.header("content-type"), Some("text/html; charset=utf-8"));
    let text = reply.text();
    assert!(text.starts_with("<!DOCTYPE html>"), "{text}");
    assert!(text.contains(r#"<html lang="zh-CN">"#));
    text
}

/// Nothing about a person beyond names on any page: no phone, address or ID number.
fn assert_no_personal_data(text: &str) {
    for private in [CHENG_PHONE, CHENG_ADDRESS, &cheng_id_number(), &wang_id_number()] {
        assert!(!text.contains(private), "{private} on a public page");
    }
}

/// The value of `name="<field>" value="…"` in a form.
fn form_value(text: &str, field: &str) -> String {
    let start = text
        .find(&format!(r#"name="{field}" value=""#))
        .unwrap_or_else(|| panic!("no {field} in {text}"))
        + field.len()
        + 15;
    text[start..start + text[start..].find('"').unwrap()].to_owned()
}

#[actix_web::test]
async fn the_board_page_shows_approved_pledges_as_text_and_nothing_private() {
    let (app, w, shown) = setup().await;
    let path = format!("/p/orgs/{}/board?year=2017", w.branch_a);
    let reply = page(&app, &path).await;
    let text = html(&reply, 200);
    assert_eq!(reply.header("cache-control"), Some("public, max-age=60"));
    assert!(
        reply
            .header("content-security-policy")
            .is_some_and(|csp| csp.contains("default-src 'none'"))
    );
    assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
    // The title is text, never markup.
    assert!(text.contains("&lt;script&gt;alert(1)&lt;/script&gt;修路"), "{text}");
    assert!(!text.contains("<script"), "{text}");
    assert!(text.contains("<h1>支部A</h1>"));
    assert!(text.contains("程军"));
    assert!(text.contains("党员先锋岗：负责环境卫生"), "{text}");
    assert!(text.contains(&format!(
        r#"href="/p/pledges/{}/feedback""#,
        shown["id"].as_str().unwrap()
    )));
    assert!(!text.contains("草稿里的承诺"), "a draft is not public");
    assert_no_personal_data(&text);
    assert!(reply.body.len() < 100_000, "{} bytes", reply.body.len());

    // The same ETag answers 304, also weakened by a compressing proxy.
    let etag = reply.header("etag").expect("etag").to_owned();
    let again = send(app.server.get(&path).insert_header(("If-None-Match", etag.clone()))).await;
    assert_eq!(again.status, 304);
    let again = send(
        app.server
            .get(&path)
            .insert_header(("If-None-Match", format!("W/{etag}"))),
    )
    .await;
    assert_eq!(again.status, 304);

    // A link shared from a chat app or a QR tool gains parameters: the page ignores them.
    let shared = page(
        &app,
        &format!("{path}&from=singlemessage&isappinstalled=0&utm_source=qr"),
    )
    .await;
    assert_eq!(html(&shared, 200), text);
    // The JSON API still refuses what it does not know.
    page(
        &app,
        &format!("/api/v1/public/orgs/{}/board?year=2017&from=x", w.branch_a),
    )
    .await
    .assert_problem(400, "invalid_query");
}

#[actix_web::test]
async fn pages_say_when_there_is_nothing_and_errors_are_pages() {
    let (app, w, _) = setup().await;
    let this_year = chrono::Datelike::year(&chrono::Utc::now().date_naive());
    let text = html(
        &page(&app, &format!("/p/orgs/{}/board?year={this_year}", w.branch_a)).await,
        200,
    );
    assert!(text.contains("的承诺还没有公示"), "{text}");
    let text = html(
        &page(&app, &format!("/p/orgs/{}/board?year=2016", w.branch_a)).await,
        200,
    );
    assert!(text.contains("2016年度没有公示的承诺"), "{text}");
    let text = html(
        &page(&app, &format!("/p/orgs/{}/stars?year=2016", w.branch_a)).await,
        200,
    );
    assert!(text.contains("2016年度的星级评定还没有公示"), "{text}");

    // No such organisation, pledge, village or page: a 404 page in Chinese, never cached.
    for path in [
        "/p/orgs/0190a0a0-0000-7000-8000-000000000000/board".to_owned(),
        "/p/orgs/0190a0a0-0000-7000-8000-000000000000/stars".to_owned(),
        "/p/villages/0190a0a0-0000-7000-8000-000000000000/finances".to_owned(),
        "/p/pledges/0190a0a0-0000-7000-8000-000000000000/feedback".to_owned(),
        "/p/no-such-page".to_owned(),
    ] {
        let reply = page(&app, &path).await;
        let text = html(&reply, 404);
        assert!(text.contains("找不到这个页面"), "{path}: {text}");
        assert_eq!(reply.header("cache-control"), Some("no-store"), "{path}");
        assert!(
            reply
                .header("content-security-policy")
                .is_some_and(|csp| csp.contains("default-src 'none'")),
            "{path}: error pages are locked down too"
        );
    }
    // A mistyped id in a link: the same page, without the parser's words.
    let text = html(&page(&app, "/p/orgs/not-a-uuid/board").await, 400);
    assert!(text.contains("找不到这个页面") && !text.contains("UUID"), "{text}");
    // Year links stay in the years the API takes.
    let text = html(
        &page(&app, &format!("/p/orgs/{}/board?year=2000", w.branch_a)).await,
        200,
    );
    assert!(!text.contains("year=1999"), "{text}");
    // A bad query is a page that says what is wrong.
    let text = html(
        &page(&app, &format!("/p/orgs/{}/board?year=1999", w.branch_a)).await,
        400,
    );
    assert!(text.contains("year 须在 2000 到 2100 之间"), "{text}");
    // `/p` leads to the directory.
    let no_redirects = awc::Client::builder().disable_redirects().finish();
    let reply = send(no_redirects.get(app.server.url("/p"))).await;
    assert_eq!(reply.status, 308);
    assert_eq!(reply.header("location"), Some("/p/"));
}

/// Opens the form and posts it as a browser would: the cookie it set and the token it holds.
async fn post_form(app: &TestApp, pledge: &str, fields: &[(&str, &str)], cookie: bool) -> Reply {
    post_form_with(app, pledge, fields, cookie, &[]).await
}

/// [`post_form`] with more request headers (a browser's `Origin`, a proxy's `Forwarded`).
async fn post_form_with(
    app: &TestApp,
    pledge: &str,
    fields: &[(&str, &str)],
    cookie: bool,
    headers: &[(&str, &str)],
) -> Reply {
    let form = page(app, &format!("/p/pledges/{pledge}/feedback")).await;
    let text = html(&form, 200);
    assert_eq!(form.header("cache-control"), Some("no-store"));
    let token = form_value(&text, "token");
    let set_cookie = form.header("set-cookie").expect("cookie").to_owned();
    assert!(
        set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Strict"),
        "{set_cookie}"
    );
    let cookie_pair = set_cookie.split(';').next().unwrap().to_owned();
    let mut body: Vec<(&str, &str)> = vec![("token", &token)];
    body.extend_from_slice(fields);
    // As a browser posts: the 303 is looked at, not followed.
    let no_redirects = awc::Client::builder().disable_redirects().finish();
    let mut req = no_redirects
        .post(app.server.url(&format!("/p/pledges/{pledge}/feedback")))
        .insert_header(("Content-Type", "application/x-www-form-urlencoded"));
    if cookie {
        req = req.insert_header(("Cookie", cookie_pair));
    }
    for (name, value) in headers {
        req = req.insert_header((*name, *value));
    }
    send_body(req, serde_urlencoded::to_string(&body).unwrap()).await
}

/// The messages the branch sees on a pledge.
async fn feedback_messages(app: &TestApp, w: &World, pledge: &str) -> Vec<String> {
    let reply = get(app, w.token("sec_a"), &format!("/api/v1/pledges/{pledge}/feedback")).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["message"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn feedback_sent_from_the_form_reaches_the_branch_and_forged_posts_do_not() {
    let (app, w, shown) = setup().await;
    let pledge = shown["id"].as_str().unwrap();

    // From the form: on to the thank-you page; the branch reads it.
    let reply = post_form(
        &app,
        pledge,
        &[("message", "路灯还没修好"), ("name", "村民"), ("phone", "")],
        true,
    )
    .await;
    assert_eq!(reply.status, 303, "{}", reply.text());
    let thanks = reply.header("location").unwrap().to_owned();
    assert_eq!(thanks, format!("/p/pledges/{pledge}/feedback/thanks"));
    let text = html(&page(&app, &thanks).await, 200);
    assert!(text.contains(r#"<h1 id="thanks">"#), "{text}");
    assert_eq!(
        feedback_messages(&app, &w, pledge).await,
        vec!["路灯还没修好".to_owned()]
    );
    // On the board once answered, never before; the sender's name never.
    let board_path = format!("/p/orgs/{}/board?year=2017", w.branch_a);
    assert!(!html(&page(&app, &board_path).await, 200).contains("路灯还没修好"));
    let listed = get(&app, w.token("sec_a"), &format!("/api/v1/pledges/{pledge}/feedback"))
        .await
        .json();
    let feedback_id = listed["items"][0]["id"].as_str().unwrap().to_owned();
    let reply = send_json(
        app.server
            .post(format!("/api/v1/pledges/{pledge}/feedback/{feedback_id}/reply"))
            .bearer_auth(w.token("sec_a")),
        &json!({"reply": "已安排维修"}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let text = html(&page(&app, &board_path).await, 200);
    assert!(
        text.contains("群众：路灯还没修好") && text.contains("答复：已安排维修"),
        "{text}"
    );
    assert!(!text.contains("村民"), "the sender's name is not public: {text}");

    // Without the form's cookie (another site's page posting here): refused, nothing stored.
    let reply = post_form(&app, pledge, &[("message", "伪造的留言")], false).await;
    let text = html(&reply, 403);
    assert!(text.contains("表单已过期"), "{text}");
    // The form comes back with what was typed and a fresh token: an expired form is sent again.
    assert!(
        text.contains("伪造的留言</textarea>") && text.contains(r#"name="token""#),
        "{text}"
    );
    assert!(reply.header("set-cookie").is_some_and(|c| c.starts_with("dj_form=")));
    // Posted from another origin: refused as well, even with forwarded headers naming it.
    let evil = ("Origin", "https://evil.example");
    let reply = post_form_with(&app, pledge, &[("message", "跨站留言")], true, &[evil]).await;
    html(&reply, 403);
    let forwarded = [
        evil,
        ("X-Forwarded-Host", "evil.example"),
        ("Forwarded", "host=evil.example"),
    ];
    let reply = post_form_with(&app, pledge, &[("message", "跨站留言")], true, &forwarded).await;
    html(&reply, 403);
    // A forged token in both places: refused.
    let reply = send_body(
        app.server
            .post(format!("/p/pledges/{pledge}/feedback"))
            .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
            .insert_header(("Cookie", "dj_form=1.abc.0000")),
        "token=1.abc.0000&message=x",
    )
    .await;
    html(&reply, 403);

    // Invalid input: the form again, in Chinese, with what was typed; nothing stored.
    let reply = post_form(&app, pledge, &[("message", "   ")], true).await;
    let text = html(&reply, 422);
    assert!(text.contains(r#"id="feedback-form""#), "{text}");
    assert!(text.contains("意见或建议：长度须为 1 到 500 个字符"), "{text}");
    let reply = post_form(&app, pledge, &[("message", "<b>路灯</b>"), ("phone", "123")], true).await;
    let text = html(&reply, 422);
    assert!(text.contains("手机号："), "{text}");
    assert!(text.contains(r#"value="123""#), "what was typed stays: {text}");
    assert!(
        text.contains("&lt;b&gt;路灯&lt;/b&gt;</textarea>"),
        "and is text: {text}"
    );
    assert_eq!(feedback_messages(&app, &w, pledge).await.len(), 1);

    // A pledge not on the board has no form.
    let member = w.token("member_a").to_owned();
    let draft = create(&app, &member, "/api/v1/pledges", pledge_body("草稿")).await;
    html(
        &page(&app, &format!("/p/pledges/{}/feedback", draft["id"].as_str().unwrap())).await,
        404,
    );
}

#[actix_web::test]
async fn the_form_keeps_the_public_rate_limit() {
    let (app, w, shown) = setup_on(spawn_app_with_env(&[("DANGJIAN_FEEDBACK_RATE_PER_HOUR", "1")]).await).await;
    let pledge = shown["id"].as_str().unwrap();
    let reply = post_form(&app, pledge, &[("message", "第一条")], true).await;
    assert_eq!(reply.status, 303, "{}", reply.text());
    let reply = post_form(&app, pledge, &[("message", "第二条")], true).await;
    let text = html(&reply, 429);
    assert!(reply.header("retry-after").is_some());
    assert!(
        text.contains(r#"id="feedback-form""#) && text.contains("第二条"),
        "{text}"
    );
    assert_eq!(feedback_messages(&app, &w, pledge).await, vec!["第一条".to_owned()]);
}

/// Decodes a PNG QR code with an independent reader (rqrr).
fn decode_png(bytes: &[u8]) -> (u32, String) {
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut pixels = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut pixels).expect("a frame");
    assert_eq!(info.color_type, png::ColorType::Grayscale);
    let (width, height) = (info.width as usize, info.height as usize);
    assert_eq!(width, height);
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| pixels[y * width + x]);
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one code");
    let (_, content) = grids[0].decode().expect("decodes");
    (info.width, content)
}

#[actix_web::test]
async fn qr_codes_decode_to_the_board_page_under_the_public_address() {
    let app = spawn_app_with_env(&[("DANGJIAN_PUBLIC_BASE_URL", "https://dangjian.example.cn/")]).await;
    let w = world::build(&app).await;
    let expected = format!("https://dangjian.example.cn/p/orgs/{}/board", w.branch_a);
    for size in ["", "?size=64", "?size=512"] {
        let reply = page(&app, &format!("/api/v1/public/orgs/{}/board/qr.png{size}", w.branch_a)).await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        assert_eq!(reply.header("content-type"), Some("image/png"));
        assert_eq!(reply.header("cache-control"), Some("public, max-age=60"));
        let (width, content) = decode_png(&reply.body);
        assert_eq!(content, expected);
        let wanted = size.strip_prefix("?size=").map_or(300, |s| s.parse().unwrap());
        assert_eq!(width, wanted);
    }
    let reply = page(&app, &format!("/api/v1/public/orgs/{}/board/qr.svg", w.branch_a)).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("image/svg+xml"));
    assert!(reply.text().starts_with("<svg"), "{}", reply.text());

    for size in ["63", "2049", "-1", "big"] {
        let reply = page(
            &app,
            &format!("/api/v1/public/orgs/{}/board/qr.png?size={size}", w.branch_a),
        )
        .await;
        reply.assert_problem(400, "invalid_query");
    }
    page(
        &app,
        "/api/v1/public/orgs/0190a0a0-0000-7000-8000-000000000000/board/qr.svg",
    )
    .await
    .assert_problem(404, "not_found");

    // The printed board carries the same code, with the names and posts of the pledges.
    let text = html(
        &page(&app, &format!("/p/orgs/{}/board/print?year=2017", w.branch_a)).await,
        200,
    );
    assert!(text.contains("@page{size:A3"), "{text}");
    assert!(text.contains("<svg"), "{text}");
}

#[actix_web::test]
async fn the_printable_board_lists_members_posts_and_pledges() {
    let (app, w, _) = setup().await;
    let text = html(
        &page(&app, &format!("/p/orgs/{}/board/print?year=2017", w.branch_a)).await,
        200,
    );
    assert!(text.contains("支部A"));
    assert!(text.contains("程军"));
    assert!(text.contains("党员先锋岗：负责环境卫生"), "{text}");
    assert!(text.contains("&lt;script&gt;alert(1)&lt;/script&gt;修路"));
    assert!(!text.contains("<script"));
    assert!(!text.contains("草稿里的承诺"));
    assert!(text.contains(r#"<body class="print">"#));
    assert_no_personal_data(&text);
}

#[actix_web::test]
async fn the_directory_finds_organisations_and_villages_without_people() {
    let (app, w, _) = setup().await;
    let village = create_village(&app, w.token("admin"), &w.branch_a, "司山村").await;

    let reply = page(&app, "/api/v1/public/orgs").await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("cache-control"), Some("public, max-age=60"));
    let etag = reply.header("etag").expect("etag").to_owned();
    let again = send(
        app.server
            .get("/api/v1/public/orgs")
            .insert_header(("If-None-Match", etag)),
    )
    .await;
    assert_eq!(again.status, 304);
    let items = reply.json()["items"].as_array().unwrap().clone();
    let names: Vec<&str> = items.iter().map(|o| o["name"].as_str().unwrap()).collect();
    // Tree order: a branch before its group.
    let (a, group_a) = (
        names.iter().position(|n| *n == "支部A").unwrap(),
        names.iter().position(|n| *n == "小组A").unwrap(),
    );
    assert!(a < group_a, "{names:?}");
    let keys: Vec<&String> = items[0].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["depth", "id", "kind", "kind_label", "name", "parent_id"]);
    assert_eq!(items[0]["depth"], 0);

    let found = page(&app, "/api/v1/public/orgs?q=%E5%B0%8F%E7%BB%84").await.json(); // 小组
    let found: Vec<&str> = found["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(found, ["小组A", "小组B"]);
    let children = page(&app, &format!("/api/v1/public/orgs?parent_id={}", w.branch_a))
        .await
        .json();
    assert_eq!(children["items"][0]["name"], "小组A");
    assert_eq!(children["items"].as_array().unwrap().len(), 1);

    let villages = page(&app, &format!("/api/v1/public/villages?org_id={}", w.root))
        .await
        .json();
    assert_eq!(
        villages["items"],
        json!([{"id": village, "kind": "village", "kind_label": "村", "name": "司山村", "org_id": w.branch_a}])
    );

    let text = html(&page(&app, "/p/").await, 200);
    assert!(
        text.contains(&format!(r#"href="/p/orgs/{}/board""#, w.branch_a)),
        "{text}"
    );
    assert!(
        text.contains(&format!(r#"href="/p/villages/{village}/finances""#)),
        "{text}"
    );
    assert!(!text.contains("程军"), "the directory names no person");
    let text = html(&page(&app, "/p/?q=%E6%94%AF%E9%83%A8B").await, 200); // 支部B
    assert!(text.contains("支部B") && !text.contains(">支部A<"), "{text}");

    // The village's finances page, with a record of the year.
    create(
        &app,
        w.token("sec_a"),
        "/api/v1/finance-records",
        json!({"village_id": village, "year": 2017, "category": "operating", "amount_fen": 5_234_567, "received_on": "2017-12-20"}),
    )
    .await;
    let text = html(
        &page(&app, &format!("/p/villages/{village}/finances?year=2017")).await,
        200,
    );
    assert!(text.contains("司山村"), "{text}");
    assert!(text.contains("¥52,345.67"), "{text}");
    let text = html(
        &page(&app, &format!("/p/villages/{village}/finances?year=2016")).await,
        200,
    );
    assert!(text.contains("2016年度还没有公开的收支记录"), "{text}");
}

#[actix_web::test]
async fn the_star_board_page_shows_the_demo_towns_ratings() {
    let app = spawn_app().await;
    dangjian::seed::demo::seed(&app.db, &app.state.data_keys)
        .await
        .expect("the demo loads");
    let root = page(&app, "/api/v1/public/orgs?limit=1").await.json()["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let text = html(&page(&app, &format!("/p/orgs/{root}/stars?year=2016")).await, 200);
    // The report's 2016 figures: 2 five-star and 5 four-star branches; 63, 306 and 5 five-,
    // four- and two-star members (and the demo's five two-star branches).
    for (label, orgs, members) in [("五星", 2, 63), ("四星", 5, 306), ("二星", 5, 5)] {
        let row = format!(r#"<tr><td>{label}</td><td class="num">{orgs}</td><td class="num">{members}</td></tr>"#);
        assert!(text.contains(&row), "{row} in {text}");
    }
    assert!(text.contains("★★★★★ 五星"), "{text}");
    assert!(
        text.contains(&format!(r#"href="/p/orgs/{root}/board?year=2017""#)),
        "{text}"
    );
    assert_no_personal_data(&text);
}
