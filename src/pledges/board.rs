//! The public side of pledges (no token): the board (公示栏), the categories, and
//! supervision feedback (群众监督). Nothing here carries personal data.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::{BTreeMap, HashMap};

use sea_orm::sea_query::{Condition, Expr, ExprTrait, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, Order, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::entity::{category, event, feedback, pledge};
use super::lifecycle::PledgeState;
use super::types::{CategoryView, NewFeedback, PledgeKind};
use super::{is_overdue, state_of, view};
use crate::audit::{Event, Write};
use crate::error::{ApiError, Problem};
use crate::http::export::{self, CellKind, ExportFormat};
use crate::http::pagination::keyset_after;
use crate::http::{Json, ListQuery, Page, PageParams};
use crate::members::entity::{member, post};
use crate::members::types::{Items, PostKind};
use crate::orgs::entity as org;
use crate::state::AppState;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(board).service(list_categories).service(give_feedback);
}

/// A pledge as the public sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicPledge {
    pub id: Uuid,
    pub title: String,
    pub content: String,
    /// The category's label, e.g. 基础设施.
    pub category: String,
    pub state: PledgeState,
    /// Chinese label of the state.
    pub state_label: String,
    pub due_on: Option<NaiveDate>,
    pub overdue: bool,
    pub progress_percent: Option<i32>,
    pub latest_progress: Option<PublicProgress>,
    /// The villager group (村民组) it is made to.
    pub villager_group: Option<String>,
    /// Replied feedback from the public, with the branch's answers.
    pub feedback: Vec<PublicFeedback>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PublicProgress {
    pub note: Option<String>,
    pub percentage: Option<i32>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PublicFeedback {
    pub message: String,
    pub reply: Option<String>,
    pub replied_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PublicMember {
    /// The member's name (the board shows who pledged); nothing else about them.
    #[schema(example = "程军")]
    pub name: String,
    /// Posts held now, e.g. `党小组长`, `党员先锋岗：负责环境卫生`.
    pub posts: Vec<String>,
    /// The member's final star rating of the year before (`rating_year`), if any.
    pub star_rating: Option<BoardStar>,
    pub pledges: Vec<PublicPledge>,
}

/// A final star rating shown beside the pledges, as on the physical boards.
#[derive(Debug, Serialize, ToSchema)]
pub struct BoardStar {
    pub level: crate::ratings::types::RatingLevel,
    /// e.g. 五星.
    pub label: String,
}

fn board_star(level: Option<&crate::ratings::types::RatingLevel>) -> Option<BoardStar> {
    level.map(|l| BoardStar {
        level: *l,
        label: l.label().to_owned(),
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BoardSection {
    pub org_id: Uuid,
    pub org_name: String,
    /// The organisation's final star rating of the year before (`rating_year`), if any.
    pub star_rating: Option<BoardStar>,
    /// Collective pledges of this organisation.
    pub collective: Vec<PublicPledge>,
    /// Its members and their individual pledges.
    pub members: Vec<PublicMember>,
}

/// `GET /api/v1/public/orgs/{id}/board`: one page of sections.
#[derive(Debug, Serialize, ToSchema)]
pub struct Board {
    pub org_id: Uuid,
    pub org_name: String,
    pub year: i32,
    /// The year whose final star ratings are shown beside the pledges: the year before
    /// `year`, as on the physical boards (the pledges of 2026 beside the ratings of 2025).
    pub rating_year: i32,
    /// The organisations of the subtree that have public pledges this year, in tree order
    /// (a branch before its groups); a page holds at most `limit` of them.
    pub sections: Vec<BoardSection>,
    /// Pass as `?cursor=` for the next sections; `null` on the last page. A branch with its
    /// groups usually fits on one page; a town's board is paged, so that no phone has to load
    /// the whole town.
    pub next_cursor: Option<String>,
    /// The number of sections on all pages; present only with `?include_total=true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BoardParams {
    /// Default: the current year. 2000–2100.
    #[param(minimum = 2000, maximum = 2100)]
    pub year: Option<i32>,
}

/// The public board (承诺公示栏) of an organisation's subtree for a year: approved pledges and
/// later, grouped by organisation and member, with progress and answered feedback. No token.
/// Paged by section (`limit` sections a page, default 20). Cacheable for a minute;
/// `If-None-Match` gives 304.
#[utoipa::path(tag = "public", params(("id" = Uuid, Path), BoardParams, PageParams), responses(
    (status = 200, description = "The board", body = Board, headers(("ETag" = String), ("Cache-Control" = String))),
    (status = 304, description = "Unchanged since If-None-Match"),
    (status = 404, description = "No such organisation", body = Problem, content_type = "application/problem+json"),
))]
#[get("/api/v1/public/orgs/{id}/board")]
async fn board(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<Uuid>,
    query: ListQuery<BoardParams>,
) -> Result<HttpResponse, ApiError> {
    let year = query.filters.year()?;
    let board = read_board(&state.db, *id, year, &query.page).await?;
    let body = serde_json::to_vec(&board).map_err(ApiError::internal)?;
    Ok(crate::http::conditional::public_json(&req, body))
}

impl BoardParams {
    /// The board's year: the one asked for, else the current year.
    pub fn year(&self) -> Result<i32, ApiError> {
        Ok(super::types::query_year(self.year)?.unwrap_or_else(super::types::this_year))
    }
}

/// One page of the public board of the organisation `id`'s subtree in `year` (the JSON board
/// and the board's web page show the same). 404 when `id` names no live organisation.
pub async fn read_board<C: sea_orm::ConnectionTrait>(
    db: &C,
    id: Uuid,
    year: i32,
    page: &PageParams,
) -> Result<Board, ApiError> {
    let limit = page.limit()?;
    let root = org::Entity::find_by_id(id)
        .filter(org::Column::DeletedAt.is_null())
        .one(db)
        .await?
        .ok_or(ApiError::NotFound)?;
    let public: Vec<&str> = PledgeState::ALL
        .iter()
        .filter(|s| s.is_public())
        .map(|s| s.as_str())
        .collect();

    // The page's sections: organisations of the subtree with a public pledge this year, each
    // tested by a probe of the (org_id, year) index from the cursor on, so a page costs what
    // the organisations it walks cost, not what the subtree's pledges do.
    let with_public_pledges = Query::select()
        .expr(Expr::val(1))
        .from(pledge::Entity)
        .and_where(Expr::col((pledge::Entity, pledge::Column::OrgId)).equals((org::Entity, org::Column::Id)))
        .and_where(Expr::col((pledge::Entity, pledge::Column::Year)).eq(year))
        .and_where(Expr::col((pledge::Entity, pledge::Column::State)).is_in(public.clone()))
        .to_owned();
    let mut sections_query = org::Entity::find()
        .filter(org::Column::DeletedAt.is_null())
        .filter(crate::orgs::queries::path_under(org::Column::Path, &root.path))
        .filter(Condition::all().add(Expr::exists(with_public_pledges)));
    let total = if page.include_total() {
        Some(sections_query.clone().count(db).await?)
    } else {
        None
    };
    if let Some((after,)) = page.after::<(String,)>()? {
        sections_query = sections_query.filter(keyset_after(vec![(
            Expr::col((org::Entity, org::Column::Path)),
            Order::Asc,
            after.into(),
        )]));
    }
    let rows = sections_query
        .order_by_asc(org::Column::Path)
        .limit(limit + 1)
        .all(db)
        .await?;
    let Page {
        items: orgs,
        next_cursor,
        ..
    } = Page::from_rows(rows, limit, |o| (o.path.clone(),));

    let pledges = pledge::Entity::find()
        .filter(pledge::Column::OrgId.is_in(orgs.iter().map(|o| o.id)))
        .filter(pledge::Column::Year.eq(year))
        .filter(pledge::Column::State.is_in(public))
        .order_by_asc(pledge::Column::Id)
        .all(db)
        .await?;
    let ids: Vec<Uuid> = pledges.iter().map(|p| p.id).collect();
    let member_ids: Vec<Uuid> = pledges.iter().filter_map(|p| p.member_id).collect();
    let members: HashMap<Uuid, member::Model> = member::Entity::find()
        .filter(member::Column::Id.is_in(member_ids.clone()))
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.id, m))
        .collect();
    let today = crate::db::now().date_naive();
    let mut posts: HashMap<Uuid, Vec<post::Model>> = HashMap::new();
    for p in post::Entity::find()
        .filter(post::Column::MemberId.is_in(member_ids))
        .filter(post::Column::StartOn.lte(today))
        .filter(
            Condition::any()
                .add(post::Column::EndOn.is_null())
                .add(post::Column::EndOn.gte(today)),
        )
        .order_by_asc(post::Column::Id)
        .all(db)
        .await?
    {
        posts.entry(p.member_id).or_default().push(p);
    }
    let mut latest_progress: HashMap<Uuid, event::Model> = HashMap::new();
    for e in event::Entity::find()
        .filter(event::Column::PledgeId.is_in(ids.clone()))
        .filter(event::Column::Kind.eq("progress"))
        .order_by_desc(event::Column::OccurredAt)
        .order_by_desc(event::Column::Id)
        .all(db)
        .await?
    {
        latest_progress.entry(e.pledge_id).or_insert(e);
    }
    let mut answered: HashMap<Uuid, Vec<feedback::Model>> = HashMap::new();
    for f in feedback::Entity::find()
        .filter(feedback::Column::PledgeId.is_in(ids))
        .filter(feedback::Column::Hidden.eq(false))
        .filter(feedback::Column::Reply.is_not_null())
        .order_by_asc(feedback::Column::CreatedAt)
        .order_by_asc(feedback::Column::Id)
        .all(db)
        .await?
    {
        answered.entry(f.pledge_id).or_default().push(f);
    }
    let (member_stars, org_stars) = crate::ratings::final_levels(
        db,
        year - 1,
        members.keys().copied().collect(),
        orgs.iter().map(|o| o.id).collect(),
    )
    .await?;
    let categories: HashMap<String, String> = category::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.code, c.label))
        .collect();
    let vg_ids: Vec<Uuid> = pledges.iter().filter_map(|p| p.villager_group_id).collect();
    let villager_groups: HashMap<Uuid, String> = crate::places::entity::villager_group::Entity::find()
        .filter(crate::places::entity::villager_group::Column::Id.is_in(vg_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|g| (g.id, g.name))
        .collect();

    let public_pledge = |p: &pledge::Model| {
        let st = state_of(p);
        PublicPledge {
            id: p.id,
            title: p.title.clone(),
            content: p.content.clone(),
            category: categories.get(&p.category_code).cloned().unwrap_or_default(),
            state: st,
            state_label: st.label().into(),
            due_on: p.due_on,
            overdue: is_overdue(p, today),
            progress_percent: p.progress_percent,
            latest_progress: latest_progress.get(&p.id).map(|e| PublicProgress {
                note: e.note.clone(),
                percentage: e.percentage,
                at: e.occurred_at,
            }),
            villager_group: p.villager_group_id.and_then(|vg| villager_groups.get(&vg).cloned()),
            feedback: answered
                .get(&p.id)
                .into_iter()
                .flatten()
                .map(|f| PublicFeedback {
                    message: f.message.clone(),
                    reply: f.reply.clone(),
                    replied_at: f.replied_at,
                })
                .collect(),
        }
    };
    let held_posts = |member_id: Uuid| -> Vec<String> {
        posts
            .get(&member_id)
            .into_iter()
            .flatten()
            .map(|p| {
                let name = if p.kind == PostKind::Other {
                    p.title.clone().unwrap_or_default()
                } else {
                    p.kind.label().to_string()
                };
                match &p.duty {
                    Some(duty) => format!("{name}：{duty}"),
                    None => name,
                }
            })
            .collect()
    };
    let mut by_org: HashMap<Uuid, Vec<&pledge::Model>> = HashMap::new();
    for p in &pledges {
        by_org.entry(p.org_id).or_default().push(p);
    }
    let mut sections = Vec::new();
    for o in &orgs {
        let filed = by_org.remove(&o.id).unwrap_or_default();
        let collective: Vec<PublicPledge> = filed
            .iter()
            .filter(|p| p.kind == PledgeKind::Collective)
            .map(|p| public_pledge(p))
            .collect();
        // Individual pledges stay with the branch they were made in, even if the member moved.
        // (Ordered maps and a stable sort: namesakes keep one order, and the ETag with them.)
        let mut theirs: BTreeMap<Uuid, Vec<PublicPledge>> = BTreeMap::new();
        for p in &filed {
            if let Some(member_id) = p.member_id {
                theirs.entry(member_id).or_default().push(public_pledge(p));
            }
        }
        let mut people: Vec<PublicMember> = theirs
            .into_iter()
            .filter_map(|(member_id, pledges)| {
                Some(PublicMember {
                    name: members.get(&member_id)?.name.clone(),
                    posts: held_posts(member_id),
                    star_rating: board_star(member_stars.get(&member_id)),
                    pledges,
                })
            })
            .collect();
        people.sort_by(|a, b| a.name.cmp(&b.name));
        if !collective.is_empty() || !people.is_empty() {
            sections.push(BoardSection {
                org_id: o.id,
                org_name: o.name.clone(),
                star_rating: board_star(org_stars.get(&o.id)),
                collective,
                members: people,
            });
        }
    }
    Ok(Board {
        org_id: root.id,
        org_name: root.name.clone(),
        year,
        rating_year: year - 1,
        sections,
        next_cursor,
        total,
    })
}

/// The pledge categories (承诺类别), in display order. No token.
#[utoipa::path(tag = "public", responses((status = 200, description = "Categories", body = Items<CategoryView>)))]
#[get("/api/v1/public/pledge-categories")]
async fn list_categories(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let rows = category::Entity::find()
        .order_by_asc(category::Column::SortOrder)
        .order_by_asc(category::Column::Code)
        .all(&state.db)
        .await?;
    let items: Vec<CategoryView> = rows.into_iter().map(super::categories::category_view).collect();
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .json(Items { items }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FeedbackReceipt {
    pub id: Uuid,
    /// What happens next, for the sender.
    #[schema(example = "Thank you. The branch will read your message; answered messages appear on the board.")]
    pub message: String,
}

/// Leave feedback on a pledge on the board (群众监督). No token; rate-limited per address.
/// Name and phone are optional and never shown publicly.
#[utoipa::path(tag = "public", request_body = NewFeedback, params(("id" = Uuid, Path)), responses(
    (status = 201, description = "Received", body = FeedbackReceipt),
    (status = 404, description = "No such pledge on the board", body = Problem, content_type = "application/problem+json"),
    (status = 429, description = "Too many messages from this address", body = Problem, content_type = "application/problem+json"),
))]
#[post("/api/v1/public/pledges/{id}/feedback")]
async fn give_feedback(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<Uuid>,
    Json(body): Json<NewFeedback>,
) -> Result<HttpResponse, ApiError> {
    let fid = leave_feedback(&state, &req, *id, &body).await?;
    Ok(HttpResponse::Created().json(FeedbackReceipt {
        id: fid,
        message: "Thank you. The branch will read your message; answered messages appear on the board.".into(),
    }))
}

/// A pledge on the public board (approved or later), else 404.
pub async fn public_pledge<C: sea_orm::ConnectionTrait>(db: &C, id: Uuid) -> Result<pledge::Model, ApiError> {
    pledge::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|p| state_of(p).is_public())
        .ok_or(ApiError::NotFound)
}

/// The one write path of public feedback, for the JSON route and the board page's form alike:
/// validated (422), on a pledge of the board (404), within the address's rate limit (429),
/// stored with the phone encrypted and audited. Returns the feedback's id.
pub async fn leave_feedback(
    state: &AppState,
    req: &HttpRequest,
    pledge_id: Uuid,
    body: &NewFeedback,
) -> Result<Uuid, ApiError> {
    let (message, name, phone) =
        crate::http::validate::public_message(&body.message, 500, body.name.as_deref(), body.phone.as_deref())?;
    let p = public_pledge(&state.db, pledge_id).await?;
    let ctx = crate::auth::public_write_context(&state.auth, req)?;
    let fid = Uuid::now_v7();
    let w = Write::begin(&state.db, &ctx).await?;
    feedback::Entity::insert(feedback::ActiveModel {
        id: Set(fid),
        pledge_id: Set(p.id),
        message: Set(message),
        sender_name: Set(name),
        phone_enc: Set(phone.map(|ph| state.data_keys.encrypt(&ph, &format!("feedback:{fid}:phone")))),
        hidden: Set(false),
        reply: Set(None),
        replied_at: Set(None),
        replied_by: Set(None),
        created_at: Set(crate::db::now()),
    })
    .exec_without_returning(w.db())
    .await?;
    w.commit(Event::new("feedback.create", "pledge_feedback", fid).org(p.org_id))
        .await?;
    Ok(fid)
}

/// The export of this list: its file, its sheet and its columns.
const EXPORT: export::Export = export::Export {
    file: "pledges",
    sheet: "承诺",
    columns: &[
        ("编号", CellKind::Text),
        ("年度", CellKind::Integer),
        ("类型", CellKind::Text),
        ("党员编号", CellKind::Text),
        ("组织编号", CellKind::Text),
        ("标题", CellKind::Text),
        ("内容", CellKind::Text),
        ("类别", CellKind::Text),
        ("截止日期", CellKind::Date),
        ("状态", CellKind::Text),
        ("逾期", CellKind::Text),
        ("进度", CellKind::Integer),
    ],
};

/// Streams the filtered pledges as `format`.
pub fn export(format: ExportFormat, state: web::Data<AppState>, condition: Condition) -> HttpResponse {
    export::stream_pages(
        format,
        &EXPORT,
        move |after: Option<Uuid>, limit| {
            let (state, condition) = (state.clone(), condition.clone());
            async move {
                let mut select = pledge::Entity::find().filter(condition);
                if let Some(after) = after {
                    select = select.filter(pledge::Column::Id.lt(after));
                }
                Ok(select
                    .order_by_desc(pledge::Column::Id)
                    .limit(limit + 1)
                    .all(&state.db)
                    .await?)
            }
        },
        |p: &pledge::Model| p.id,
        |p| {
            let v = view(p);
            Ok(vec![
                v.id.to_string(),
                v.year.to_string(),
                v.kind.label().into(),
                v.member_id.map(|m| m.to_string()).unwrap_or_default(),
                v.org_id.to_string(),
                v.title,
                v.content,
                v.category,
                v.due_on.map(|d| d.to_string()).unwrap_or_default(),
                v.state.label().into(),
                if v.overdue { "是" } else { "否" }.into(),
                v.progress_percent.map(|p| p.to_string()).unwrap_or_default(),
            ])
        },
    )
}
