//! The board's web page (承诺公示栏) and its printable A3 version (展板): the same data as
//! `GET /api/v1/public/orgs/{id}/board`, read by the same function.

use actix_web::{HttpRequest, HttpResponse, get, web};
use maud::{Markup, PreEscaped, html};
use uuid::Uuid;

use super::layout::{self, cached, date, day_of, page, page_with_style, stars};
use crate::error::ApiError;
use crate::http::{ListQuery, PageParams};
use crate::pledges::board::{Board, BoardParams, BoardStar, PublicPledge, read_board};
use crate::pledges::types::YEARS;
use crate::state::AppState;

/// Sections a board page holds unless `limit` says otherwise, so that a phone on a slow
/// network loads a page at a time. One section holds all of a branch's members, so a page's
/// size follows its largest branch: the demo's busiest page is under 100 KB before
/// compression and about 15 KB gzipped (the browser test checks both).
const PAGE_SECTIONS: u64 = 5;

/// The board of an organisation's subtree for a year as a web page for phones: its
/// sections five at a time (`cursor`), each pledge with its progress, answered feedback and
/// a link to the feedback form. The QR code on the physical board opens it. No token;
/// cacheable for a minute like the JSON board.
#[utoipa::path(tag = "pages", params(("id" = Uuid, Path), BoardParams, PageParams), responses(
    (status = 200, description = "The page", content_type = "text/html", body = String, headers(("ETag" = String), ("Cache-Control" = String))),
    (status = 304, description = "Unchanged since If-None-Match"),
))]
#[get("/p/orgs/{id}/board")]
async fn board_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<Uuid>,
    query: ListQuery<BoardParams>,
) -> Result<HttpResponse, ApiError> {
    let year = query.filters.year()?;
    let page_params = PageParams {
        limit: Some(query.page.limit.unwrap_or(PAGE_SECTIONS)),
        ..query.page.clone()
    };
    let board = read_board(&state.db, *id, year, &page_params).await?;
    let first_page = query.page.cursor.as_deref().unwrap_or_default().is_empty();
    Ok(cached(&req, render_board(&board, first_page)))
}

fn render_board(board: &Board, first_page: bool) -> Markup {
    let this_year = crate::pledges::types::this_year();
    let title = format!("{} {}年承诺公示", board.org_name, board.year);
    page(
        &title,
        html! {
            h1 { (board.org_name) }
            p.muted { (board.year) "年度党员承诺公示 · 星级为" (board.rating_year) "年度评定结果" }
            nav.nav {
                @if board.year > *YEARS.start() {
                    a href={ "/p/orgs/" (board.org_id) "/board?year=" (board.year - 1) } { "‹ " (board.year - 1) "年" }
                }
                @if board.year < this_year && board.year < *YEARS.end() {
                    a href={ "/p/orgs/" (board.org_id) "/board?year=" (board.year + 1) } { (board.year + 1) "年 ›" }
                }
                @if board.rating_year >= *YEARS.start() {
                    a href={ "/p/orgs/" (board.org_id) "/stars?year=" (board.rating_year) } { "星级评定" }
                }
                a href={ "/p/orgs/" (board.org_id) "/board/print?year=" (board.year) } { "打印展板" }
            }
            @if board.sections.is_empty() {
                div.empty {
                    @if !first_page {
                        "没有更多了。"
                    } @else if board.year >= this_year {
                        (board.year) "年度的承诺还没有公示：承诺经支部审核通过后，会在这里公开。"
                    } @else {
                        (board.year) "年度没有公示的承诺。"
                    }
                }
            }
            @for section in &board.sections {
                section {
                    h2 { (section.org_name) " " (badge(&section.star_rating)) }
                    @if !section.collective.is_empty() {
                        h3 { "集体承诺" }
                        @for pledge in &section.collective { (pledge_card(pledge)) }
                    }
                    @for member in &section.members {
                        h3 {
                            (member.name) " " (badge(&member.star_rating))
                        }
                        @if !member.posts.is_empty() {
                            p.muted { (member.posts.join("；")) }
                        }
                        @for pledge in &member.pledges { (pledge_card(pledge)) }
                    }
                }
            }
            @if let Some(cursor) = &board.next_cursor {
                p { a href={ "/p/orgs/" (board.org_id) "/board?year=" (board.year) "&cursor=" (cursor) } { "下一页 ›" } }
            }
        },
    )
}

fn badge(star: &Option<BoardStar>) -> Markup {
    html! {
        @if let Some(star) = star { (stars(star.level, &star.label)) }
    }
}

fn pledge_card(p: &PublicPledge) -> Markup {
    html! {
        div.card {
            strong { (p.title) }
            div {
                span.tag { (p.category) }
                span.tag { (p.state_label) }
                @if p.overdue { span.tag.overdue { "已逾期" } }
                @if let Some(group) = &p.villager_group { span.tag { (group) } }
            }
            p { (p.content) }
            @if let Some(due) = p.due_on { p.muted { "承诺完成时间：" (date(due)) } }
            @if let Some(percent) = p.progress_percent {
                p.muted { "进度 " (percent) "% " progress value=(percent.clamp(0, 100)) max="100" {} }
            }
            @if let Some(progress) = &p.latest_progress {
                @if let Some(note) = &progress.note { p.muted { "最新进展（" (day_of(progress.at)) "）：" (note) } }
            }
            @for f in &p.feedback {
                div.qa {
                    div { "群众：" (f.message) }
                    @if let Some(reply) = &f.reply { div { "答复：" (reply) } }
                }
            }
            p { a.feedback-link href={ "/p/pledges/" (p.id) "/feedback" } { "我要监督" } }
        }
    }
}

/// Sections a printed board holds at most: a branch with its groups fits many times over; a
/// town's board is printed per branch.
const PRINT_SECTIONS: u64 = 300;

/// The board for printing on A3 (展板): the subtree's pledges of the year with the members'
/// names and posts, and the QR code that opens the live page. Print it from the browser
/// (A3, no margins needed); no browser chrome is part of the page. At most 300 sections (a
/// town prints a board per branch). No token; cacheable for a minute.
#[utoipa::path(tag = "pages", params(("id" = Uuid, Path), BoardParams), responses(
    (status = 200, description = "The printable page", content_type = "text/html", body = String, headers(("ETag" = String), ("Cache-Control" = String))),
    (status = 304, description = "Unchanged since If-None-Match"),
))]
#[get("/p/orgs/{id}/board/print")]
async fn print_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<Uuid>,
    query: ListQuery<BoardParams>,
) -> Result<HttpResponse, ApiError> {
    let year = query.filters.year()?;
    // The heaviest page (a town's print reads up to 300 sections): rendered once until the next
    // write anywhere, however often it is asked for.
    let key = format!("print-board {id} {year}");
    let page = state
        .computed
        .bytes(&state.db, key, async {
            let board = read_print_board(&state, *id, year).await?;
            let qr = super::qr::svg(&super::qr::board_url(&state.config, *id), 220)?;
            Ok(render_print(&board, &qr).into_string().into())
        })
        .await?;
    Ok(layout::cached_bytes(&req, page.to_vec()))
}

/// The board's sections for print, up to [`PRINT_SECTIONS`]; `next_cursor` is kept when more
/// are left out, so the page can say so.
async fn read_print_board(state: &AppState, id: Uuid, year: i32) -> Result<Board, ApiError> {
    let mut page_params = PageParams {
        limit: Some(100),
        cursor: None,
        include_total: None,
    };
    let mut board = read_board(&state.db, id, year, &page_params).await?;
    while (board.sections.len() as u64) < PRINT_SECTIONS
        && let Some(cursor) = board.next_cursor.take()
    {
        page_params.cursor = Some(cursor);
        let next = read_board(&state.db, id, year, &page_params).await?;
        board.sections.extend(next.sections);
        board.next_cursor = next.next_cursor;
    }
    Ok(board)
}

/// A3 portrait, two columns of pledges, nothing but the board when printed.
const PRINT_CSS: &str = r#"
@page{size:A3 portrait;margin:12mm}
body.print{background:#fff}
.print header.top,.print footer{display:none}
.print main{max-width:none;padding:0}
.print .head{display:flex;justify-content:space-between;align-items:center;border-bottom:4px solid var(--red);padding-bottom:4mm;margin-bottom:4mm}
.print .head h1{font-size:28pt;color:var(--red);margin:0}
.print .head .qr{text-align:center;font-size:13pt}
.print .head .qr svg{width:80mm;height:80mm}
.print .cols{column-count:2;column-gap:8mm}
.print h2,.print h3{break-after:avoid}
.print .card{break-inside:avoid;font-size:12pt;margin:.3rem 0;padding:.4rem .6rem}
.print .noprint{margin:1rem 0}
@media print{.print .noprint{display:none}}
"#;

fn render_print(board: &Board, qr: &str) -> Markup {
    let title = format!("{} {}年党员承诺展板", board.org_name, board.year);
    let body = html! {
        div.noprint.muted {
            "用浏览器打印本页（纸张 A3，纵向）即得展板。"
            a href={ "/p/orgs/" (board.org_id) "/board?year=" (board.year) } { "返回实时公开栏" }
        }
        div.head {
            div {
                h1 { (board.org_name) }
                div { (board.year) "年度 党员公开承诺" }
                div.muted { "党员有限，服务无限 · 承诺上墙，接受群众监督" }
            }
            div.qr { (PreEscaped(qr)) div { "扫码查看实时进度、留言监督" } }
        }
        @if board.sections.is_empty() {
            div.empty { (board.year) "年度没有公示的承诺。" }
        }
        div.cols {
            @for section in &board.sections {
                section {
                    h2 { (section.org_name) " " (badge(&section.star_rating)) }
                    @for p in &section.collective {
                        div.card { strong { "集体承诺：" (p.title) } div { (p.content) } }
                    }
                    @for member in &section.members {
                        div.card {
                            strong { (member.name) } " " (badge(&member.star_rating))
                            @if !member.posts.is_empty() { div.muted { (member.posts.join("；")) } }
                            @for p in &member.pledges {
                                div { "▪ " (p.title) "：" (p.content)
                                    @if let Some(due) = p.due_on { span.muted { "（" (date(due)) "前）" } }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if board.next_cursor.is_some() {
            p.muted { "展板只容得下前 " (PRINT_SECTIONS) " 个组织，请按支部分别打印。" }
        }
    };
    page_with_style(&title, PRINT_CSS, Some("print"), body)
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(board_page).service(print_page);
}
