//! A tiny "notes" resource mounted only in tests, built exactly as a feature would be, to
//! exercise the shared plumbing (JSON bodies, queries, pagination, Idempotency-Key,
//! ETag/If-Match, error mapping) through the real app and a real database.

use std::time::Duration;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use dangjian::audit::{AuditContext, Event, Write};
use dangjian::error::ApiError;
use dangjian::http::conditional::etag;
use dangjian::http::pagination::keyset_after;
use dangjian::http::{Claim, IdempotencyKey, IfMatch, Json, ListQuery, Page, StoredResponse, Versioned};
use dangjian::state::AppState;
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DatabaseConnection, Order, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "test_notes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub title: String,
    pub version: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

pub async fn create_table(db: &DatabaseConnection) {
    db.execute_unprepared(
        "CREATE TABLE test_notes (id VARCHAR(36) PRIMARY KEY, title VARCHAR(100) NOT NULL, version BIGINT NOT NULL)",
    )
    .await
    .expect("create test_notes");
}

pub async fn count(db: &DatabaseConnection) -> u64 {
    Entity::find().count(db).await.expect("count notes")
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/test/notes", web::post().to(create))
        .route("/test/notes", web::get().to(list))
        .route("/test/notes/{id}", web::get().to(get))
        .route("/test/notes/{id}", web::patch().to(update))
        .route("/test/boom", web::get().to(boom));
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewNote {
    title: String,
    #[serde(default)]
    tags: Vec<String>,
}

async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    key: IdempotencyKey,
    Json(body): Json<NewNote>,
) -> Result<HttpResponse, ApiError> {
    let _ = body.tags;
    if body.title.is_empty() || body.title.chars().count() > 50 {
        return Err(ApiError::invalid_field(
            "/title",
            "length",
            dangjian::text!("must be 1 to 50 characters", "长度须为 1 到 50 个字符"),
        ));
    }
    let ticket = match key.claim(&state.db, "anonymous").await? {
        Claim::Replay(stored) => return Ok(stored),
        Claim::Proceed(ticket) => ticket,
    };
    if let Some(ms) = req
        .headers()
        .get("x-test-delay-ms")
        .and_then(|v| v.to_str().ok()?.parse().ok())
    {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    if body.title == "fail" {
        return Err(ApiError::internal("SELECT secret_column FROM test_notes failed"));
    }
    let w = Write::begin(&state.db, &AuditContext::default()).await?;
    let note = ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        title: Set(body.title),
        version: Set(1),
    }
    .insert(w.db())
    .await?;
    let event = Event::new("note.create", "test_note", &note.id);
    let response = StoredResponse::json(StatusCode::CREATED, &note)?
        .location(format!("/test/notes/{}", note.id))
        .header(header::ETAG, etag(note.version));
    ticket.commit(w, event, response).await
}

async fn get(state: web::Data<AppState>, id: web::Path<uuid::Uuid>) -> Result<Versioned<Model>, ApiError> {
    let note = Entity::find_by_id(id.to_string())
        .one(&state.db)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Versioned::ok(note.version, note))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotePatch {
    title: String,
}

async fn update(
    state: web::Data<AppState>,
    id: web::Path<uuid::Uuid>,
    if_match: IfMatch,
    Json(patch): Json<NotePatch>,
) -> Result<Versioned<Model>, ApiError> {
    let note = Entity::find_by_id(id.to_string())
        .one(&state.db)
        .await?
        .ok_or(ApiError::NotFound)?;
    if_match.check(note.version)?;
    let updated = Entity::update_many()
        .col_expr(Column::Title, Expr::value(patch.title))
        .col_expr(Column::Version, Expr::value(note.version + 1))
        .filter(Column::Id.eq(note.id.clone()))
        .filter(Column::Version.eq(note.version))
        .exec(&state.db)
        .await?;
    if updated.rows_affected == 0 {
        return Err(ApiError::PreconditionFailed {
            current_version: note.version + 1,
        });
    }
    let note = Entity::find_by_id(note.id)
        .one(&state.db)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Versioned::ok(note.version, note))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListNotes {
    /// Titles starting with this text.
    prefix: Option<String>,
}

async fn list(state: web::Data<AppState>, query: ListQuery<ListNotes>) -> Result<Json<Page<Model>>, ApiError> {
    let limit = query.page.limit()?;
    let mut select = Entity::find();
    if let Some(prefix) = &query.filters.prefix {
        select = select.filter(Column::Title.starts_with(prefix.as_str()));
    }
    let total = if query.page.include_total() {
        Some(select.clone().count(&state.db).await?)
    } else {
        None
    };
    if let Some((title, id)) = query.page.after::<(String, String)>()? {
        select = select.filter(keyset_after(vec![
            (Expr::col(Column::Title), Order::Asc, title.into()),
            (Expr::col(Column::Id), Order::Asc, id.into()),
        ]));
    }
    let rows = select
        .order_by(Column::Title, Order::Asc)
        .order_by(Column::Id, Order::Asc)
        .limit(limit + 1)
        .all(&state.db)
        .await?;
    Ok(Json(
        Page::from_rows(rows, limit, |n| (n.title.clone(), n.id.clone())).with_total(total),
    ))
}

/// A database error whose text must never reach the client.
async fn boom(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    state
        .db
        .execute_unprepared("SELECT secret_column FROM no_such_table")
        .await?;
    Ok(HttpResponse::Ok().finish())
}
