//! The public directory (公开栏目录): the organisations and villages that have public boards,
//! with names, kinds and the tree and no people, as JSON for apps and as the `/p/` page, so a
//! board can be found without knowing its id.

use actix_web::{HttpRequest, HttpResponse, get, web};
use maud::{Markup, html};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::layout::{cached, page};
use crate::error::ApiError;
use crate::http::pagination::page_by_text;
use crate::http::{ListQuery, Page, PageParams};
use crate::orgs::OrgKind;
use crate::orgs::entity as org;
use crate::places::VillageKind;
use crate::places::entity::village;
use crate::state::AppState;

/// An organisation as the public directory shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicOrg {
    pub id: Uuid,
    /// `null` for the root committee.
    pub parent_id: Option<Uuid>,
    pub kind: OrgKind,
    /// e.g. 党支部.
    pub kind_label: String,
    #[schema(example = "大洼社区党支部")]
    pub name: String,
    /// Levels below the root committee (0 for the root).
    pub depth: u32,
}

impl From<&org::Model> for PublicOrg {
    fn from(o: &org::Model) -> Self {
        PublicOrg {
            id: o.id,
            parent_id: o.parent_id,
            kind: o.kind,
            kind_label: o.kind.label().to_owned(),
            name: o.name.clone(),
            depth: (o.path.matches('/').count() as u32).saturating_sub(2),
        }
    }
}

/// A village or community as the public directory shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicVillage {
    pub id: Uuid,
    pub kind: VillageKind,
    /// 村 or 社区.
    pub kind_label: String,
    #[schema(example = "大洼社区")]
    pub name: String,
    /// The party branch that serves it.
    pub org_id: Uuid,
}

impl From<&village::Model> for PublicVillage {
    fn from(v: &village::Model) -> Self {
        PublicVillage {
            id: v.id,
            kind: v.kind,
            kind_label: v.kind.label().to_owned(),
            name: v.name.clone(),
            org_id: v.org_id,
        }
    }
}

/// `?q=&parent_id=` of the public directory of organisations.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PublicOrgFilters {
    /// Name contains this text.
    #[param(format = "search-text", max_length = 200)]
    pub q: Option<String>,
    /// Only the organisations directly under this one.
    pub parent_id: Option<Uuid>,
}

/// `?q=&org_id=` of the public directory of villages.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PublicVillageFilters {
    /// Name contains this text.
    #[param(format = "search-text", max_length = 200)]
    pub q: Option<String>,
    /// Only villages served by branches of this organisation's subtree.
    pub org_id: Option<Uuid>,
}

fn search_text(q: &Option<String>) -> Option<&str> {
    q.as_deref().map(str::trim).filter(|q| !q.is_empty())
}

/// One page of the live organisations in tree order (a parent before its children).
async fn orgs_page<C: ConnectionTrait>(
    db: &C,
    filters: &PublicOrgFilters,
    page: &PageParams,
) -> Result<Page<PublicOrg>, ApiError> {
    let limit = page.limit()?;
    let mut select = org::Entity::find().filter(org::Column::DeletedAt.is_null());
    if let Some(parent) = filters.parent_id {
        select = select.filter(org::Column::ParentId.eq(parent));
    }
    if let Some(q) = search_text(&filters.q) {
        select = select.filter(org::Column::Name.contains(q));
    }
    let (rows, total) = page_by_text(db, select, org::Column::Path, org::Column::Id, page).await?;
    let page = Page::from_rows(rows, limit, |o| (o.path.clone(), o.id));
    Ok(Page {
        items: page.items.iter().map(PublicOrg::from).collect(),
        next_cursor: page.next_cursor,
        total,
    })
}

/// One page of villages and communities by name.
async fn villages_page<C: ConnectionTrait>(
    db: &C,
    filters: &PublicVillageFilters,
    page: &PageParams,
) -> Result<Page<PublicVillage>, ApiError> {
    let limit = page.limit()?;
    let mut select = village::Entity::find();
    if let Some(org_id) = filters.org_id {
        let top = org::Entity::find_by_id(org_id)
            .filter(org::Column::DeletedAt.is_null())
            .one(db)
            .await?
            .ok_or(ApiError::NotFound)?;
        let branches = crate::orgs::queries::subtree_at(db, &top.path).await?;
        select = select.filter(village::Column::OrgId.is_in(branches.iter().map(|o| o.id)));
    }
    if let Some(q) = search_text(&filters.q) {
        select = select.filter(village::Column::Name.contains(q));
    }
    let (rows, total) = page_by_text(db, select, village::Column::Name, village::Column::Id, page).await?;
    let items: Vec<PublicVillage> = rows.iter().map(PublicVillage::from).collect();
    Ok(Page::from_rows(items, limit, |v| (v.name.clone(), v.id)).with_total(total))
}

/// The public directory of party organisations (党组织), in tree order: names, kinds and
/// parents, no people. Search by name (`q`) or list an organisation's children
/// (`parent_id`); each has a board at `/api/v1/public/orgs/{id}/board` and
/// `/p/orgs/{id}/board`. No token.
#[utoipa::path(tag = "public", params(PublicOrgFilters, PageParams), responses(
    (status = 200, description = "One page", body = Page<PublicOrg>, headers(("ETag" = String), ("Cache-Control" = String))),
    (status = 304, description = "Unchanged since If-None-Match"),
))]
#[get("/api/v1/public/orgs")]
async fn list_public_orgs(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: ListQuery<PublicOrgFilters>,
) -> Result<HttpResponse, ApiError> {
    let page = orgs_page(&state.db, &query.filters, &query.page).await?;
    public(&req, &page)
}

/// The public directory of villages and communities (村/社区) by name, each with the branch
/// that serves it; their finances are at `/api/v1/public/villages/{id}/finances` and
/// `/p/villages/{id}/finances`. No token.
#[utoipa::path(tag = "public", params(PublicVillageFilters, PageParams), responses(
    (status = 200, description = "One page", body = Page<PublicVillage>, headers(("ETag" = String), ("Cache-Control" = String))),
    (status = 304, description = "Unchanged since If-None-Match"),
    (status = 404, description = "No such organisation (`org_id`)", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[get("/api/v1/public/villages")]
async fn list_public_villages(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: ListQuery<PublicVillageFilters>,
) -> Result<HttpResponse, ApiError> {
    let page = villages_page(&state.db, &query.filters, &query.page).await?;
    public(&req, &page)
}

/// Cached like the boards (a minute, ETag, 304): the tree changes rarely.
fn public<T: Serialize>(req: &HttpRequest, body: &T) -> Result<HttpResponse, ApiError> {
    let body = serde_json::to_vec(body).map_err(ApiError::internal)?;
    Ok(crate::http::conditional::public_json(req, body))
}

/// `?q=` of the directory page.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DirectoryParams {
    /// Find organisations and villages whose name contains this text.
    #[param(format = "search-text", max_length = 200)]
    pub q: Option<String>,
}

/// Organisations a directory page lists: a town's tree fits on one.
const DIRECTORY_PAGE: u64 = 100;

/// The directory as a web page (公开栏目录): organisations in tree order, each linking to its
/// board and star board, and villages linking to their finances; a search box finds either by
/// name. No token; cacheable for a minute.
#[utoipa::path(tag = "pages", params(DirectoryParams, PageParams), responses(
    (status = 200, description = "The page", content_type = "text/html", body = String, headers(("ETag" = String), ("Cache-Control" = String))),
    (status = 304, description = "Unchanged since If-None-Match"),
))]
#[get("/p/")]
async fn directory_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: ListQuery<DirectoryParams>,
) -> Result<HttpResponse, ApiError> {
    let q = search_text(&query.filters.q).map(str::to_owned);
    let orgs = orgs_page(
        &state.db,
        &PublicOrgFilters {
            q: q.clone(),
            parent_id: None,
        },
        &PageParams {
            limit: Some(query.page.limit.unwrap_or(DIRECTORY_PAGE)),
            ..query.page.clone()
        },
    )
    .await?;
    let first_page = query.page.cursor.as_deref().unwrap_or_default().is_empty();
    let villages = if first_page {
        villages_page(
            &state.db,
            &PublicVillageFilters {
                q: q.clone(),
                org_id: None,
            },
            &PageParams {
                limit: Some(DIRECTORY_PAGE),
                cursor: None,
                include_total: None,
            },
        )
        .await?
    } else {
        Page::empty()
    };
    Ok(cached(&req, render_directory(q.as_deref(), &orgs, &villages)))
}

fn render_directory(q: Option<&str>, orgs: &Page<PublicOrg>, villages: &Page<PublicVillage>) -> Markup {
    page(
        "公开栏目录",
        html! {
            h1 { "党员承诺公开栏" }
            p.muted { "选择一个党组织，查看党员的公开承诺、办理进度和星级评定；选择一个村，查看村集体收支。" }
            form method="get" action="/p/" {
                label for="q" { "按名称查找" }
                input #q type="search" name="q" value=[q] maxlength="200" placeholder="如：大洼";
                button type="submit" { "查找" }
            }
            h2 { "党组织" }
            @if orgs.items.is_empty() {
                div.empty { @if q.is_some() { "没有名称含“" (q.unwrap_or_default()) "”的党组织。" } @else { "还没有党组织。" } }
            }
            ul.tree {
                @for o in &orgs.items {
                    li style={ "padding-left:" (if q.is_some() { 0 } else { o.depth }) "rem" } {
                        a href={ "/p/orgs/" (o.id) "/board" } { (o.name) }
                        " " span.muted { (o.kind_label) }
                        " · " a.muted href={ "/p/orgs/" (o.id) "/stars" } { "星级" }
                    }
                }
            }
            @if let Some(cursor) = &orgs.next_cursor {
                p { a href={ "/p/?cursor=" (cursor) @if let Some(q) = q { "&q=" (encode(q)) } } { "下一页 ›" } }
            }
            @if !villages.items.is_empty() {
                h2 { "村/社区集体经济" }
                ul.tree {
                    @for v in &villages.items {
                        li { a href={ "/p/villages/" (v.id) "/finances" } { (v.name) } " " span.muted { (v.kind_label) } }
                    }
                }
                @if villages.next_cursor.is_some() { p.muted { "只列出前 " (DIRECTORY_PAGE) " 个，请按名称查找。" } }
            }
        },
    )
}

/// `q` for a link's query string.
fn encode(q: &str) -> String {
    form_urlencoded::byte_serialize(q.as_bytes()).collect()
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_public_orgs)
        .service(list_public_villages)
        .service(directory_page);
}
