//! Posts members hold (岗位, 设岗定责): giving, listing and ending them.

use actix_web::{HttpResponse, get, post, web};
use sea_orm::sea_query::Condition;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use super::entity::{member, post};
use super::types::*;
use super::{MemberAccess, find, find_managed};
use crate::audit::{Event, Write};
use crate::auth::{Access, AuthUser};
use crate::error::{ApiError, FieldError, Problem};
use crate::http::Json;
use crate::orgs::queries as orgs;
use crate::state::AppState;
use crate::text;

pub(super) fn post_view(p: post::Model, member_name: String) -> PostView {
    PostView {
        id: p.id,
        member_id: p.member_id,
        member_name,
        kind: p.kind,
        title: p.title,
        duty: p.duty,
        org_id: p.org_id,
        start_on: p.start_on,
        end_on: p.end_on,
    }
}

/// Give a member a post (设岗定责): a pioneer post with its duty, group leader, first secretary …
#[utoipa::path(tag = "members", security(("bearer" = [])), request_body = NewPost, params(("id" = Uuid, Path)),
    responses(
        (status = 201, description = "Created", body = PostView),
        (status = 403, description = "Role may not manage members", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Member or organisation not found in your scope", body = Problem, content_type = "application/problem+json"),
))]
#[post("/api/v1/members/{id}/posts")]
pub(super) async fn create_post(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    Json(body): Json<NewPost>,
) -> Result<HttpResponse, ApiError> {
    let access = MemberAccess::of(&user);
    let m = find_managed(&state.db, &access, *id).await?;
    let org = orgs::find(&state.db, &access.manage, body.org_id).await?;
    let mut errors = Vec::new();
    let title = body
        .title
        .as_deref()
        .map(|t| crate::http::validate::short_text(t, "/title", 100))
        .transpose()?;
    let duty = body
        .duty
        .as_deref()
        .map(|d| crate::http::validate::short_text(d, "/duty", 500))
        .transpose()?;
    if body.kind == PostKind::Other && title.is_none() {
        errors.push(FieldError::body(
            "/title",
            "required",
            text!("name the post when kind is other", "岗位类型为“其他”时须填写岗位名称"),
        ));
    }
    if body.end_on.is_some_and(|end| end < body.start_on) {
        errors.push(FieldError::body(
            "/end_on",
            "before_start",
            text!("must not be before start_on", "不能早于 start_on"),
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let row = post::Model {
        id: Uuid::now_v7(),
        member_id: m.id,
        kind: body.kind,
        title,
        duty,
        org_id: org.id,
        start_on: body.start_on,
        end_on: body.end_on,
        created_at: crate::db::now(),
    };
    let w = Write::begin(&state.db, &user.audit).await?;
    post::Entity::insert(post::ActiveModel {
        id: Set(row.id),
        member_id: Set(row.member_id),
        kind: Set(row.kind),
        title: Set(row.title.clone()),
        duty: Set(row.duty.clone()),
        org_id: Set(row.org_id),
        start_on: Set(row.start_on),
        end_on: Set(row.end_on),
        created_at: Set(row.created_at),
    })
    .exec_without_returning(w.db())
    .await?;
    let view = post_view(row, m.name.clone());
    w.commit(
        Event::new("member.post_create", "member_post", view.id)
            .org(org.id)
            .after(&view),
    )
    .await?;
    Ok(HttpResponse::Created().json(view))
}

/// A member's posts, current and past, newest first.
#[utoipa::path(tag = "members", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, description = "The posts", body = Items<PostView>),
))]
#[get("/api/v1/members/{id}/posts")]
pub(super) async fn list_posts(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> Result<Json<Items<PostView>>, ApiError> {
    let m = find(&state.db, &MemberAccess::of(&user), *id).await?;
    let rows = post::Entity::find()
        .filter(post::Column::MemberId.eq(m.id))
        .order_by_desc(post::Column::StartOn)
        .order_by_desc(post::Column::Id)
        .all(&state.db)
        .await?;
    Ok(Json(Items {
        items: rows.into_iter().map(|p| post_view(p, m.name.clone())).collect(),
    }))
}

/// End a post.
#[utoipa::path(tag = "members", security(("bearer" = [])), request_body = EndPost,
    params(("id" = Uuid, Path), ("post_id" = Uuid, Path)),
    responses(
        (status = 200, description = "Ended", body = PostView),
        (status = 403, description = "Role may not manage members", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already ended", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "End before start", body = Problem, content_type = "application/problem+json"),
))]
#[post("/api/v1/members/{id}/posts/{post_id}/end")]
pub(super) async fn end_post(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
    Json(body): Json<EndPost>,
) -> Result<Json<PostView>, ApiError> {
    let (member_id, post_id) = path.into_inner();
    let access = MemberAccess::of(&user);
    let w = Write::begin(&state.db, &user.audit).await?;
    let m = find_managed(w.db(), &access, member_id).await?;
    let p = post::Entity::find_by_id(post_id)
        .filter(post::Column::MemberId.eq(m.id))
        .one(w.db())
        .await?
        .ok_or(ApiError::NotFound)?;
    if p.end_on.is_some() {
        return Err(ApiError::conflict(text!(
            "This post has already ended.",
            "该岗位已经结束。"
        )));
    }
    if body.end_on < p.start_on {
        return Err(ApiError::invalid_field(
            "/end_on",
            "before_start",
            text!("must not be before the post's start", "不能早于岗位的开始日期"),
        ));
    }
    post::Entity::update_many()
        .col_expr(post::Column::EndOn, sea_orm::sea_query::Expr::value(body.end_on))
        .filter(post::Column::Id.eq(p.id))
        .exec(w.db())
        .await?;
    let before = post_view(p.clone(), m.name.clone());
    let mut ended = p;
    ended.end_on = Some(body.end_on);
    let after = post_view(ended, m.name.clone());
    let event = Event::new("member.post_end", "member_post", after.id)
        .org(after.org_id)
        .before(&before)
        .after(&after);
    w.commit(event).await?;
    Ok(Json(after))
}

/// Who holds which post in an organisation today (现任岗位), among the members you may read.
#[utoipa::path(tag = "members", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, description = "Current posts", body = Items<PostView>),
    (status = 404, description = "Organisation not found in your scope", body = Problem, content_type = "application/problem+json"),
))]
#[get("/api/v1/orgs/{id}/posts")]
pub(super) async fn org_posts(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> Result<Json<Items<PostView>>, ApiError> {
    let org = orgs::find(&state.db, &user.scope(Access::READ), *id).await?;
    let today = crate::db::now().date_naive();
    let rows = post::Entity::find()
        .filter(post::Column::OrgId.eq(org.id))
        .filter(post::Column::StartOn.lte(today))
        .filter(
            Condition::any()
                .add(post::Column::EndOn.is_null())
                .add(post::Column::EndOn.gte(today)),
        )
        .order_by_asc(post::Column::Kind)
        .order_by_asc(post::Column::StartOn)
        .all(&state.db)
        .await?;
    // Only holders the caller may read: a member sees their own post, a secretary the branch's.
    let ids: Vec<Uuid> = rows.iter().map(|p| p.member_id).collect();
    let members = member::Entity::find()
        .filter(member::Column::Id.is_in(ids))
        .filter(member::Column::Active.eq(true))
        .filter(MemberAccess::of(&user).visible())
        .all(&state.db)
        .await?;
    let items = rows
        .into_iter()
        .filter_map(|p| {
            let name = members.iter().find(|m| m.id == p.member_id)?.name.clone();
            Some(post_view(p, name))
        })
        .collect();
    Ok(Json(Items { items }))
}
