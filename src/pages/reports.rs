//! The star board (创星榜) and a village's finances (村务公开) as web pages: the same data as
//! their public JSON routes, read by the same functions.

use actix_web::{HttpRequest, HttpResponse, get, web};
use maud::{Markup, html};
use uuid::Uuid;

use super::layout::{cached, day_of, page, stars, yuan};
use crate::error::ApiError;
use crate::http::{ListQuery, PageParams, Query};
use crate::income::types::{CategoryAmount, VillageFinances, YearParams};
use crate::pledges::types::{YEARS, this_year};
use crate::ratings::notice::read_star_board;
use crate::ratings::types::{LevelCount, RatingState, StarBoard, StarBoardParams, StarEntry};
use crate::state::AppState;

/// The star board of an organisation's subtree for a rating year as a web page: counts per
/// level, the rated organisations and a page of rated members (names, organisation and
/// level only); ratings still on public notice are marked. No token; cacheable for a minute.
#[utoipa::path(tag = "pages", params(("id" = Uuid, Path), StarBoardParams, PageParams), responses(
    (status = 200, description = "The page", content_type = "text/html", body = String, headers(("ETag" = String), ("Cache-Control" = String))),
    (status = 304, description = "Unchanged since If-None-Match"),
))]
#[get("/p/orgs/{id}/stars")]
async fn stars_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<Uuid>,
    query: ListQuery<StarBoardParams>,
) -> Result<HttpResponse, ApiError> {
    let year = crate::pledges::types::query_year_or_last(query.filters.year)?;
    let board = read_star_board(&state.db, *id, year, &query.page).await?;
    Ok(cached(&req, render_stars(&board)))
}

fn render_stars(board: &StarBoard) -> Markup {
    let title = format!("{} {}年度星级评定", board.org_name, board.year);
    page(
        &title,
        html! {
            h1 { (board.org_name) }
            p.muted { (board.year) "年度星级评定（创星榜），与" (board.year + 1) "年度的承诺一同公示" }
            nav.nav {
                @if board.year > *YEARS.start() {
                    a href={ "/p/orgs/" (board.org_id) "/stars?year=" (board.year - 1) } { "‹ " (board.year - 1) "年度" }
                }
                @if board.year + 1 < this_year() {
                    a href={ "/p/orgs/" (board.org_id) "/stars?year=" (board.year + 1) } { (board.year + 1) "年度 ›" }
                }
                @if board.year < *YEARS.end() {
                    a href={ "/p/orgs/" (board.org_id) "/board?year=" (board.year + 1) } { "承诺公示" }
                }
            }
            @if board.orgs.is_empty() && board.members.is_empty() {
                div.empty { (board.year) "年度的星级评定还没有公示。" }
            } @else {
                h2 { "各星级数量" }
                table {
                    tr { th { "星级" } th { "党组织" } th { "党员" } }
                    @for (orgs, members) in board.org_counts.iter().zip(&board.member_counts) {
                        (count_row(orgs, members))
                    }
                }
                @if !board.orgs.is_empty() {
                    h2 { "党组织" }
                    @for entry in &board.orgs { (entry_row(entry)) }
                }
                @if !board.members.is_empty() {
                    h2 { "党员" }
                    @for entry in &board.members { (entry_row(entry)) }
                }
                @if let Some(cursor) = &board.next_cursor {
                    p { a href={ "/p/orgs/" (board.org_id) "/stars?year=" (board.year) "&cursor=" (cursor) } { "更多党员 ›" } }
                }
            }
        },
    )
}

fn count_row(orgs: &LevelCount, members: &LevelCount) -> Markup {
    html! { tr { td { (orgs.label) } td.num { (orgs.count) } td.num { (members.count) } } }
}

fn entry_row(entry: &StarEntry) -> Markup {
    html! {
        div.card {
            strong { (entry.name) } " " (stars(entry.level, &entry.level_label))
            @if entry.org_name != entry.name { div.muted { (entry.org_name) } }
            @if entry.state == RatingState::Noticed {
                div.muted {
                    "公示中"
                    @if let Some(end) = entry.notice_ends_at { "，至" (day_of(end)) }
                    "；如有异议，可向镇党委反映。"
                }
            }
        }
    }
}

/// A village's collective finances in a year as a web page (村务公开): income by category and
/// by project, expenditure, distribution, balance and the income target. No person is named.
/// No token; cacheable for a minute.
#[utoipa::path(tag = "pages", params(("id" = Uuid, Path), YearParams), responses(
    (status = 200, description = "The page", content_type = "text/html", body = String, headers(("ETag" = String), ("Cache-Control" = String))),
    (status = 304, description = "Unchanged since If-None-Match"),
))]
#[get("/p/villages/{id}/finances")]
async fn finances_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<Uuid>,
    Query(params): Query<YearParams>,
) -> Result<HttpResponse, ApiError> {
    let year = crate::pledges::types::query_year_or_last(params.year)?;
    let finances = crate::income::reports::public_village_finances(&state, *id, year).await?;
    Ok(cached(&req, render_finances(&finances)))
}

fn render_finances(f: &VillageFinances) -> Markup {
    let title = format!("{} {}年村集体经济", f.village_name, f.year);
    let recorded = f.income.total_fen != 0 || f.expenditure.total_fen != 0 || f.distribution.total_fen != 0;
    page(
        &title,
        html! {
            h1 { (f.village_name) }
            p.muted { (f.year) "年度村集体经济收支公开" }
            nav.nav {
                @if f.year > *YEARS.start() {
                    a href={ "/p/villages/" (f.village_id) "/finances?year=" (f.year - 1) } { "‹ " (f.year - 1) "年" }
                }
                @if f.year < this_year() && f.year < *YEARS.end() {
                    a href={ "/p/villages/" (f.village_id) "/finances?year=" (f.year + 1) } { (f.year + 1) "年 ›" }
                }
            }
            @if !recorded {
                div.empty { (f.year) "年度还没有公开的收支记录。" }
            } @else {
                table {
                    tr { th { "集体总收入" } td.num { (yuan(f.income.total_fen)) } }
                    tr { th { "其中经营性收入" } td.num { (yuan(f.income.operating_fen)) } }
                    tr { th { "支出" } td.num { (yuan(f.expenditure.total_fen)) } }
                    tr { th { "分配" } td.num { (yuan(f.distribution.total_fen)) } }
                    tr { th { "结余" } td.num { (yuan(f.balance_fen)) } }
                    tr { th { "上年集体总收入" } td.num { (yuan(f.previous_year.total_fen)) } }
                }
                p {
                    "目标：" (f.target.basis_label) "达到 " (yuan(f.target.target_fen)) "，"
                    @if f.target.reached { strong { "已达到" } } @else { strong { "未达到" } }
                    "（" (f.target.band_label) "）"
                    @if f.target.empty_shell { "；无经营性收入（空壳村）" }
                }
                h2 { "收入" }
                (amounts(&f.income.by_category))
                @if !f.income.by_project.is_empty() {
                    h2 { "项目收益" }
                    table {
                        tr { th { "项目" } th { "类型" } th { "受益贫困户" } th { "收入" } }
                        @for p in &f.income.by_project {
                            tr {
                                td { (p.name) }
                                td { (p.kind_label) }
                                td.num { (p.households_sharing) "户" }
                                td.num { (yuan(p.amount_fen)) }
                            }
                        }
                    }
                }
                h2 { "支出" }
                (amounts(&f.expenditure.by_category))
                h2 { "分配" }
                (amounts(&f.distribution.by_category))
            }
        },
    )
}

fn amounts(rows: &[CategoryAmount]) -> Markup {
    html! {
        table {
            @for row in rows {
                tr { td { (row.label) } td.num { (yuan(row.amount_fen)) } }
            }
        }
    }
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(stars_page).service(finances_page);
}
