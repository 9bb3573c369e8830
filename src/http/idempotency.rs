//! `Idempotency-Key` for creating POSTs, so a retry over a flaky rural network never
//! creates a record twice.
//!
//! The same key from the same caller with the same request within 24 hours replays the first
//! response byte for byte (with `Idempotent-Replayed: true`); with a different request it is
//! 422; while the first is still running it is 409. A handler opts in like this:
//!
//! ```text
//! let ticket = match key.claim(&db, principal).await? {
//!     Claim::Replay(stored) => return Ok(stored),
//!     Claim::Proceed(ticket) => ticket,
//! };
//! let w = Write::begin(&db, &user.audit).await?;
//! // ... write through w.db() ...
//! ticket.commit(w, event, StoredResponse::json(StatusCode::CREATED, &view)?.location(url)).await
//! ```
//! The stored response is written in the same transaction as the records it describes and
//! their audit event.

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse};
use chrono::{DateTime, Duration, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, DatabaseConnection, QueryFilter};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::audit::{Event, Write};
use crate::error::{ApiError, ErrorCode};
use crate::http::extract::RawBody;
use crate::text;

pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");

/// A key's syntax for the spec: 1–255 visible ASCII characters.
pub const IDEMPOTENCY_KEY_PATTERN: &str = r"^[\x21-\x7E]{1,255}$";
pub const IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// How long a completed key is remembered.
const RETENTION_HOURS: i64 = 24;
/// A claim still unfinished after this long belongs to a request that died; it is taken over.
const ABANDONED_AFTER_SECS: i64 = 300;

/// One remembered `Idempotency-Key`: in flight while `completed_at` is null, then the stored response.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "idempotency_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub principal: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    pub fingerprint: String,
    pub status: Option<i32>,
    pub response_headers: Option<Json>,
    pub response_body: Option<Vec<u8>>,
    pub created_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// The optional `Idempotency-Key` header of a request (at most 255 visible ASCII characters).
pub struct IdempotencyKey {
    key: Option<String>,
    req: HttpRequest,
}

impl FromRequest for IdempotencyKey {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let key = match req.headers().get(&IDEMPOTENCY_KEY) {
            None => Ok(None),
            Some(v) => match v.to_str() {
                Ok(s) if (1..=255).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_graphic()) => {
                    Ok(Some(s.to_owned()))
                }
                _ => Err(ApiError::bad_request(
                    ErrorCode::InvalidHeader,
                    text!(
                        "Idempotency-Key must be 1 to 255 visible ASCII characters",
                        "Idempotency-Key 须为 1 到 255 个可见 ASCII 字符"
                    ),
                )),
            },
        };
        std::future::ready(key.map(|key| IdempotencyKey { key, req: req.clone() }))
    }
}

/// What to do with a request after claiming its key.
pub enum Claim {
    /// Same key, same request, already done: send this stored response again.
    Replay(HttpResponse),
    /// First time (or no key): do the work, then [`Ticket::commit`].
    Proceed(Ticket),
}

impl IdempotencyKey {
    /// Looks the key up for `principal` (the caller's user id, or `anonymous`).
    pub async fn claim(&self, db: &DatabaseConnection, principal: &str) -> Result<Claim, ApiError> {
        let Some(key) = &self.key else {
            return Ok(Claim::Proceed(Ticket { claimed: None }));
        };
        let fingerprint = self.fingerprint();
        let now = crate::db::now();
        // Two rounds at most: a stale row is removed and the insert tried once more.
        for _ in 0..2 {
            let existing = Entity::find_by_id((principal.to_owned(), key.clone())).one(db).await?;
            if let Some(row) = existing {
                let expired = row.created_at < now - Duration::hours(RETENTION_HOURS);
                let abandoned =
                    row.completed_at.is_none() && row.created_at < now - Duration::seconds(ABANDONED_AFTER_SECS);
                if expired || abandoned {
                    Entity::delete_many()
                        .filter(Column::Principal.eq(principal))
                        .filter(Column::Key.eq(key.as_str()))
                        .filter(Column::CreatedAt.eq(row.created_at))
                        .exec(db)
                        .await?;
                    continue;
                }
                if row.fingerprint != fingerprint {
                    return Err(ApiError::IdempotencyKeyReused);
                }
                return match row.completed_at {
                    Some(_) => Ok(Claim::Replay(replay(&row))),
                    None => Err(ApiError::Conflict {
                        code: ErrorCode::IdempotencyKeyInUse,
                        detail: text!(
                            "The first request with this Idempotency-Key is still running; retry shortly.",
                            "使用该幂等键的第一个请求仍在处理中，请稍后重试。"
                        ),
                    }),
                };
            }
            let claim = ActiveModel {
                principal: Set(principal.to_owned()),
                key: Set(key.clone()),
                fingerprint: Set(fingerprint.clone()),
                status: Set(None),
                response_headers: Set(None),
                response_body: Set(None),
                created_at: Set(now),
                completed_at: Set(None),
            };
            match Entity::insert(claim).exec_without_returning(db).await {
                Ok(_) => {
                    return Ok(Claim::Proceed(Ticket {
                        claimed: Some(Claimed {
                            db: db.clone(),
                            principal: principal.to_owned(),
                            key: key.clone(),
                        }),
                    }));
                }
                // Another request claimed it between our read and insert: look again.
                Err(err) if matches!(err.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) => continue,
                Err(err) => return Err(err.into()),
            }
        }
        Err(ApiError::Conflict {
            code: ErrorCode::IdempotencyKeyInUse,
            detail: text!(
                "The first request with this Idempotency-Key is still running; retry shortly.",
                "使用该幂等键的第一个请求仍在处理中，请稍后重试。"
            ),
        })
    }

    /// Method, path, query and the exact body bytes: "the same request".
    fn fingerprint(&self) -> String {
        let mut hash = Sha256::new();
        hash.update(self.req.method().as_str());
        hash.update(b" ");
        hash.update(self.req.uri().to_string());
        hash.update(b"\n");
        if let Some(RawBody(body)) = self.req.extensions().get::<RawBody>() {
            hash.update(body);
        }
        hex::encode(hash.finalize())
    }
}

struct Claimed {
    db: DatabaseConnection,
    principal: String,
    key: String,
}

/// Proof of a fresh claim. [`Ticket::commit`] stores the response with the work; a ticket
/// dropped without committing (the handler failed) releases the key so the client may retry.
pub struct Ticket {
    claimed: Option<Claimed>,
}

impl Ticket {
    /// Stores `response` under the key in `write`, commits it with its audit `event`, and
    /// returns the response.
    pub async fn commit(
        mut self,
        write: Write,
        event: Event,
        response: StoredResponse,
    ) -> Result<HttpResponse, ApiError> {
        if let Some(claimed) = &self.claimed {
            let headers = serde_json::to_value(&response.headers).map_err(ApiError::internal)?;
            let updated = Entity::update_many()
                .col_expr(Column::Status, Expr::value(i32::from(response.status.as_u16())))
                .col_expr(Column::ResponseHeaders, Expr::value(headers))
                .col_expr(Column::ResponseBody, Expr::value(response.body.clone()))
                .col_expr(Column::CompletedAt, Expr::value(crate::db::now()))
                .filter(Column::Principal.eq(claimed.principal.as_str()))
                .filter(Column::Key.eq(claimed.key.as_str()))
                .exec(write.db())
                .await?;
            if updated.rows_affected != 1 {
                return Err(ApiError::Conflict {
                    code: ErrorCode::IdempotencyKeyInUse,
                    detail: text!(
                        "This Idempotency-Key was taken over by another request.",
                        "该幂等键已被另一个请求占用。"
                    ),
                });
            }
        }
        write.commit(event).await?;
        self.claimed = None;
        Ok(response.into_response())
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if let Some(Claimed { db, principal, key }) = self.claimed.take() {
            // Runs on the request's runtime; losing it only means the key stays claimed
            // until it is abandoned (ABANDONED_AFTER_SECS).
            if let Ok(handle) = tokio::runtime::Handle::try_current() {
                handle.spawn(async move {
                    let _ = Entity::delete_many()
                        .filter(Column::Principal.eq(principal))
                        .filter(Column::Key.eq(key))
                        .filter(Column::CompletedAt.is_null())
                        .exec(&db)
                        .await;
                });
            }
        }
    }
}

/// A response that can be stored and replayed exactly: status, a few headers, body bytes.
#[derive(Debug, Clone)]
pub struct StoredResponse {
    pub status: StatusCode,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl StoredResponse {
    pub fn json<T: Serialize>(status: StatusCode, body: &T) -> Result<Self, ApiError> {
        Ok(StoredResponse {
            status,
            headers: vec![(header::CONTENT_TYPE.to_string(), "application/json".into())],
            body: serde_json::to_vec(body).map_err(ApiError::internal)?,
        })
    }

    pub fn header(mut self, name: HeaderName, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    pub fn location(self, url: impl Into<String>) -> Self {
        self.header(header::LOCATION, url)
    }

    pub fn into_response(self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status);
        for (name, value) in &self.headers {
            if let (Ok(n), Ok(v)) = (HeaderName::try_from(name.as_str()), HeaderValue::from_str(value)) {
                res.append_header((n, v));
            }
        }
        res.body(self.body)
    }
}

fn replay(row: &Model) -> HttpResponse {
    let headers: Vec<(String, String)> = row
        .response_headers
        .clone()
        .and_then(|h| serde_json::from_value(h).ok())
        .unwrap_or_default();
    let stored = StoredResponse {
        status: row
            .status
            .and_then(|s| StatusCode::from_u16(s as u16).ok())
            .unwrap_or(StatusCode::OK),
        headers,
        body: row.response_body.clone().unwrap_or_default(),
    };
    let mut res = stored.into_response();
    res.headers_mut()
        .insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
    res
}

/// Deletes keys older than the retention period; run periodically by `serve`.
pub async fn purge_expired(db: &DatabaseConnection) -> Result<u64, sea_orm::DbErr> {
    let cutoff = crate::db::now() - Duration::hours(RETENTION_HOURS);
    let res = Entity::delete_many()
        .filter(Column::CreatedAt.lt(cutoff))
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}
