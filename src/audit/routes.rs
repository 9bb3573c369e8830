//! `GET /api/v1/audit-events` and `GET /api/v1/audit-events/verify`.

use actix_web::{get, web};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, Order, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::entity::{event, head};
use super::{chain_pending, content_hash, pending_count};
use crate::auth::{Access, AuthUser};
use crate::error::{ApiError, Problem};
use crate::http::pagination::keyset_after;
use crate::http::{Json, ListQuery, Page, PageParams};
use crate::state::AppState;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_events).service(verify_chain);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventView {
    pub id: Uuid,
    /// Position in the chain, from 1.
    pub seq: i64,
    pub occurred_at: DateTime<Utc>,
    pub actor_user_id: Option<Uuid>,
    pub actor_role: Option<String>,
    #[schema(example = "org.rename")]
    pub action: String,
    #[schema(example = "org")]
    pub entity_type: String,
    pub entity_id: Option<String>,
    pub org_id: Option<Uuid>,
    /// The changed fields: `{"before": {…}, "after": {…}}` (personal data masked).
    #[schema(value_type = Object)]
    pub changes: serde_json::Value,
    pub request_id: Option<String>,
    pub client_ip: Option<String>,
    /// `success` or `failure`.
    pub outcome: String,
    /// SHA-256 over this event and the previous event's hash.
    pub hash: String,
}

impl From<event::Model> for AuditEventView {
    fn from(e: event::Model) -> Self {
        AuditEventView {
            id: e.id,
            seq: e.seq,
            occurred_at: e.occurred_at,
            actor_user_id: e.actor_user_id,
            actor_role: e.actor_role,
            action: e.action,
            entity_type: e.entity_type,
            entity_id: e.entity_id,
            org_id: e.org_id,
            changes: serde_json::from_str(&e.changes).unwrap_or(serde_json::Value::Null),
            request_id: e.request_id,
            client_ip: e.client_ip,
            outcome: e.outcome,
            hash: e.hash,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditFilters {
    /// Entity type, e.g. `org`, `user`.
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    /// The user who acted.
    pub actor_id: Option<Uuid>,
    /// From this time (inclusive), RFC 3339.
    pub from: Option<DateTime<Utc>>,
    /// Before this time (exclusive), RFC 3339.
    pub to: Option<DateTime<Utc>>,
}

/// The audit trail in your scope (审计日志), newest first. Events about organisations
/// outside your subtree are not shown; events tied to no organisation (failed logins of
/// unknown names) only to holders of a grant on the root.
#[utoipa::path(tag = "audit", security(("bearer" = [])), params(AuditFilters, PageParams), responses(
    (status = 200, description = "One page", body = Page<AuditEventView>),
    (status = 403, description = "Only town administrators and inspectors", body = Problem, content_type = "application/problem+json"),
))]
#[get("/api/v1/audit-events")]
async fn list_events(
    state: web::Data<AppState>,
    user: AuthUser,
    query: ListQuery<AuditFilters>,
) -> Result<Json<Page<AuditEventView>>, ApiError> {
    let scope = user.scope(Access::AUDIT);
    let limit = query.page.limit()?;
    let mut select = event::Entity::find().filter(scope.org_condition(event::Column::OrgId));
    let f = &query.filters;
    if let Some(t) = &f.entity_type {
        select = select.filter(event::Column::EntityType.eq(t.as_str()));
    }
    if let Some(id) = &f.entity_id {
        select = select.filter(event::Column::EntityId.eq(id.as_str()));
    }
    if let Some(actor) = f.actor_id {
        select = select.filter(event::Column::ActorUserId.eq(actor));
    }
    if let Some(from) = f.from {
        select = select.filter(event::Column::OccurredAt.gte(from));
    }
    if let Some(to) = f.to {
        select = select.filter(event::Column::OccurredAt.lt(to));
    }
    let total = if query.page.include_total() {
        Some(select.clone().count(&state.db).await?)
    } else {
        None
    };
    if let Some((seq,)) = query.page.after::<(i64,)>()? {
        select = select.filter(keyset_after(vec![(
            Expr::col(event::Column::Seq),
            Order::Desc,
            seq.into(),
        )]));
    }
    let rows = select
        .order_by_desc(event::Column::Seq)
        .limit(limit + 1)
        .all(&state.db)
        .await?;
    let views: Vec<AuditEventView> = rows.into_iter().map(AuditEventView::from).collect();
    Ok(Json(Page::from_rows(views, limit, |e| (e.seq,)).with_total(total)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChainReport {
    /// True when every event's hash and link are intact and the chain ends where it should.
    pub ok: bool,
    /// Events checked.
    pub checked: u64,
    /// The first event whose content or link does not match, if any.
    pub first_bad_id: Option<Uuid>,
    /// Events committed with their writes but not on the chain yet, so not checked: normally
    /// 0, as each write chains its event before it answers and this check chains any left.
    pub pending: u64,
}

/// Verify the whole audit chain (校验审计日志): chains any events still waiting, then
/// recomputes every event's hash and link.
#[utoipa::path(tag = "audit", security(("bearer" = [])), responses(
    (status = 200, description = "The verdict", body = ChainReport),
    (status = 403, description = "Only town administrators and inspectors", body = Problem, content_type = "application/problem+json"),
))]
#[get("/api/v1/audit-events/verify")]
async fn verify_chain(state: web::Data<AppState>, _user: AuthUser) -> Result<Json<ChainReport>, ApiError> {
    const BATCH: u64 = 1000;
    chain_pending(&state.db).await?;
    let pending = pending_count(&state.db).await?;
    // Read the head first and check the chain up to it: events committed meanwhile are
    // simply not part of this check.
    let Some(head) = head::Entity::find_by_id(1).one(&state.db).await? else {
        return Err(ApiError::internal("audit head row is missing"));
    };
    let mut prev_hash = "0".repeat(64);
    let mut expected_seq = 1;
    let mut checked = 0;
    let mut last_id = None;
    while expected_seq <= head.seq {
        let rows = event::Entity::find()
            .filter(event::Column::Seq.gte(expected_seq))
            .filter(event::Column::Seq.lte(head.seq))
            .order_by_asc(event::Column::Seq)
            .limit(BATCH)
            .all(&state.db)
            .await?;
        if rows.is_empty() {
            break;
        }
        for row in rows {
            let intact = row.seq == expected_seq && row.prev_hash == prev_hash && content_hash(&row) == row.hash;
            if !intact {
                return Ok(Json(ChainReport {
                    ok: false,
                    checked,
                    first_bad_id: Some(row.id),
                    pending,
                }));
            }
            checked += 1;
            expected_seq += 1;
            prev_hash = row.hash;
            last_id = Some(row.id);
        }
    }
    // Events removed from the end leave the head pointing past the chain.
    let tail_ok = head.seq == expected_seq - 1 && head.hash == prev_hash;
    Ok(Json(ChainReport {
        ok: tail_ok,
        checked,
        first_bad_id: if tail_ok { None } else { last_id },
        pending,
    }))
}
