//! The frame every public page shares: a Chinese page for a 360-px phone on a slow
//! connection (no script, no web font, one small inline style sheet), the HTML response with
//! its caching and security headers, the error page, and the few formats the pages repeat.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::error::Problem;

/// The pages' style sheet: a system font stack with the Chinese faces phones carry, readable
/// at 360 px, and an A3 layout for the printable board.
const CSS: &str = r#"
:root{--red:#b71c1c;--ink:#222;--muted:#666;--line:#e0e0e0}
*{box-sizing:border-box}
body{margin:0;font-family:-apple-system,"PingFang SC","Hiragino Sans GB","Microsoft YaHei","Noto Sans CJK SC","Source Han Sans SC","WenQuanYi Micro Hei",sans-serif;color:var(--ink);line-height:1.6;background:#fafafa}
header.top{background:var(--red);color:#fff;padding:.5rem 1rem}
header.top a{color:#fff;text-decoration:none;font-weight:bold}
main{max-width:48rem;margin:0 auto;padding:.75rem 1rem 2rem}
h1{font-size:1.35rem;margin:.5rem 0}
h2{font-size:1.15rem;margin:1.25rem 0 .5rem;border-left:4px solid var(--red);padding-left:.5rem}
h3{font-size:1rem;margin:.75rem 0 .25rem}
a{color:#0d47a1}
a.feedback-link{display:inline-block;padding:.5rem 0;min-height:44px}
.card p{margin:.35rem 0}
.muted{color:var(--muted);font-size:.9rem}
.nav{display:flex;flex-wrap:wrap;gap:.5rem 1rem;margin:.5rem 0}
.card{background:#fff;border:1px solid var(--line);border-radius:6px;padding:.6rem .75rem;margin:.5rem 0}
.tag{display:inline-block;font-size:.8rem;padding:0 .4rem;border-radius:3px;background:#eee;margin-right:.25rem}
.tag.overdue{background:#ffebee;color:var(--red)}
.star{color:#e65100;white-space:nowrap}
progress{width:6rem;vertical-align:middle}
.qa{border-top:1px dashed var(--line);margin-top:.4rem;padding-top:.3rem;font-size:.9rem}
.empty{background:#fff;border:1px dashed var(--line);padding:1rem;text-align:center;color:var(--muted)}
table{border-collapse:collapse;width:100%;background:#fff}
td,th{border:1px solid var(--line);padding:.3rem .5rem;text-align:left}
td.num{text-align:right;white-space:nowrap}
form label{display:block;margin:.6rem 0 .2rem}
form textarea,form input{width:100%;font:inherit;padding:.4rem;border:1px solid #bbb;border-radius:4px}
form button{margin-top:.8rem;font:inherit;padding:.5rem 1.5rem;background:var(--red);color:#fff;border:0;border-radius:4px}
.errors{background:#ffebee;border:1px solid #ef9a9a;padding:.5rem .75rem;border-radius:4px}
ul.tree{list-style:none;padding-left:0}
ul.tree li{padding:.15rem 0}
footer{max-width:48rem;margin:0 auto;padding:1rem;color:var(--muted);font-size:.8rem}
"#;

/// A whole page: `title` in the tab and the header, `body` inside `<main>`.
pub fn page(title: &str, body: Markup) -> Markup {
    page_with_style(title, "", None, body)
}

/// [`page`] with more style rules and a class on `<body>` (the printable board's A3 layout).
pub fn page_with_style(title: &str, style: &str, body_class: Option<&str>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                // No icon to fetch: a phone on a slow network loads the page and nothing else.
                link rel="icon" href="data:,";
                title { (title) " · 党员承诺公开" }
                style { (PreEscaped(CSS)) (PreEscaped(style)) }
            }
            body class=[body_class] {
                header.top { a href="/p/" { "党员有限，服务无限 · 公开栏" } }
                main { (body) }
                footer { "承诺公开，接受群众监督。本页不含任何个人隐私信息。" }
            }
        }
    }
}

/// What every page response carries besides its body: no script may run, nothing may frame
/// it, forms post only here, and browsers must not guess the type.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Adds the pages' security headers to a response under construction.
pub fn secure(mut response: HttpResponse) -> HttpResponse {
    add_security_headers(response.headers_mut());
    response
}

/// The pages' security headers, for pages and for the error pages the middleware makes.
pub fn add_security_headers(headers: &mut header::HeaderMap) {
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
    ] {
        headers.insert(name, header::HeaderValue::from_static(value));
    }
}

/// A public page that may be cached for a minute, like the JSON boards: ETag from its bytes,
/// 304 on a matching `If-None-Match`.
pub fn cached(req: &HttpRequest, markup: Markup) -> HttpResponse {
    secure(crate::http::conditional::public_body(
        req,
        markup.into_string().into_bytes(),
        "text/html; charset=utf-8",
    ))
}

/// [`cached`] for a page already rendered (kept in the computed cache).
pub fn cached_bytes(req: &HttpRequest, page: Vec<u8>) -> HttpResponse {
    secure(crate::http::conditional::public_body(
        req,
        page,
        "text/html; charset=utf-8",
    ))
}

/// A page that must not be stored (forms carrying a token, answers to a post).
pub fn uncached(status: actix_web::http::StatusCode, markup: Markup) -> HttpResponse {
    secure(
        HttpResponse::build(status)
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .content_type("text/html; charset=utf-8")
            .body(markup.into_string()),
    )
}

/// The page shown for an error under `/p/`, from the same problem the API would answer with
/// (in Chinese): a villager following a stale QR code sees a page, not JSON.
pub fn error_page(problem: &Problem) -> String {
    let heading = match problem.status {
        _ if problem.code == "invalid_path" => "找不到这个页面",
        404 => "找不到这个页面",
        429 => "提交太频繁了",
        400 | 422 => "请求有误",
        403 => "无法提交",
        s if s >= 500 => "服务暂时不可用",
        _ => "出错了",
    };
    page(
        heading,
        html! {
            h1 { (heading) }
            @if problem.status == 404 || problem.code == "invalid_path" {
                p { "这个组织、村或承诺不存在，或已不再公开。展板上的二维码若已失效，请在公开栏目录中查找。" }
            } @else {
                p { (problem.detail) }
                @if !problem.errors.is_empty() {
                    ul {
                        @for e in &problem.errors {
                            li { @if let Some(name) = &e.parameter { (name) "：" } (e.message) }
                        }
                    }
                }
            }
            p { a href="/p/" { "返回公开栏目录" } }
            @if let Some(id) = &problem.request_id {
                p.muted { "请求编号：" (id) }
            }
        },
    )
    .into_string()
}

/// Fen as yuan with two decimals and thousands separators: `¥12,345.67` (exact: integers).
pub fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let fen = fen.unsigned_abs();
    let whole = (fen / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}¥{grouped}.{:02}", fen % 100)
}

/// `2017年6月30日`.
pub fn date(d: NaiveDate) -> String {
    format!("{}年{}月{}日", d.year(), d.month(), d.day())
}

/// A moment as its date in China (UTC+8), where the boards stand.
pub fn day_of(at: DateTime<Utc>) -> String {
    date((at + chrono::Duration::hours(8)).date_naive())
}

/// A level as stars and its label: `★★★★☆ 四星`.
pub fn stars(level: crate::ratings::types::RatingLevel, label: &str) -> Markup {
    use crate::ratings::types::RatingLevel as L;
    let n = match level {
        L::FiveStars => 5,
        L::FourStars => 4,
        L::ThreeStars => 3,
        L::TwoStars => 2,
        L::OneStar => 1,
        L::Unqualified => 0,
    };
    html! {
        span.star title=(label) { ("★".repeat(n)) ("☆".repeat(5 - n)) " " (label) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuan_groups_thousands_and_keeps_every_fen() {
        assert_eq!(yuan(0), "¥0.00");
        assert_eq!(yuan(5), "¥0.05");
        assert_eq!(yuan(123_456_789), "¥1,234,567.89");
        assert_eq!(yuan(-100_000), "-¥1,000.00");
        assert_eq!(yuan(i64::MIN), "-¥92,233,720,368,547,758.08");
    }
}
