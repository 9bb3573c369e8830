//! The audit trail (审计日志): one event for every write, committed in the same transaction
//! as the write, then chained: each event is hashed together with the previous event's hash
//! so that any later edit or deletion behind the API's back is detected by
//! `GET /api/v1/audit-events/verify`. Features write through [`Write`], which owns the
//! transaction, commits it only with its event, and chains the event before answering.

pub mod entity;
mod routes;
mod write;

use chrono::SecondsFormat;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, TransactionTrait,
};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::auth::Role;
pub use routes::configure;
pub use write::{Bumped, VersionedEntity, Write};

use entity::{event, head, pending};

/// Who did it, from where: taken from the authenticated caller and the request.
#[derive(Debug, Clone, Default)]
pub struct AuditContext {
    pub actor_user_id: Option<Uuid>,
    pub actor_role: Option<Role>,
    pub request_id: Option<String>,
    pub client_ip: Option<String>,
}

/// Whether the recorded action succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Failure,
}

/// One thing that happened. `before` / `after` are the entity's (masked) views; only the
/// fields that differ are kept, and personal data never (see [`PERSONAL_FIELDS`]).
#[derive(Debug, Clone)]
pub struct Event {
    pub action: &'static str,
    pub entity_type: &'static str,
    pub entity_id: Option<String>,
    pub org_id: Option<Uuid>,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub outcome: Outcome,
}

impl Event {
    pub fn new(action: &'static str, entity_type: &'static str, entity_id: impl ToString) -> Event {
        Event {
            action,
            entity_type,
            entity_id: Some(entity_id.to_string()),
            org_id: None,
            before: None,
            after: None,
            outcome: Outcome::Success,
        }
    }

    pub fn org(mut self, org_id: Uuid) -> Event {
        self.org_id = Some(org_id);
        self
    }

    pub fn before(mut self, value: impl serde::Serialize) -> Event {
        self.before = serde_json::to_value(value).ok();
        self
    }

    pub fn after(mut self, value: impl serde::Serialize) -> Event {
        self.after = serde_json::to_value(value).ok();
        self
    }

    pub fn failed(mut self) -> Event {
        self.outcome = Outcome::Failure;
        self
    }
}

/// The sequence number of the newest chained event. Every write advances it after it commits
/// (see [`chain_pending`]), so it tells whether anything changed since (see `http::computed`).
pub async fn head_seq<C: ConnectionTrait>(conn: &C) -> Result<i64, DbErr> {
    Ok(head::Entity::find_by_id(1).one(conn).await?.map(|h| h.seq).unwrap_or(0))
}

/// Writes `event` to `audit_pending` using `conn`, which must be the transaction of the write
/// it describes, so that the event commits or rolls back with it; returns its place in the
/// queue. Nothing here waits for other writers. Private: features record events through
/// [`Write`], which calls this right before it commits and [`chain_pending`] right after.
async fn stage<C: ConnectionTrait>(conn: &C, ctx: &AuditContext, event: Event) -> Result<i64, DbErr> {
    let res = pending::Entity::insert(pending::ActiveModel {
        pending_seq: NotSet,
        id: Set(Uuid::now_v7()),
        occurred_at: Set(crate::db::now()),
        actor_user_id: Set(ctx.actor_user_id),
        actor_role: Set(ctx.actor_role.map(|r| r.as_str().to_owned())),
        action: Set(event.action.to_owned()),
        entity_type: Set(event.entity_type.to_owned()),
        entity_id: Set(event.entity_id),
        org_id: Set(event.org_id),
        changes: Set(changes(event.before.as_ref(), event.after.as_ref()).to_string()),
        request_id: Set(ctx.request_id.clone()),
        client_ip: Set(ctx.client_ip.clone()),
        outcome: Set(match event.outcome {
            Outcome::Success => "success".into(),
            Outcome::Failure => "failure".into(),
        }),
    })
    .exec(conn)
    .await?;
    Ok(res.last_insert_id)
}

/// Whether the event queued as `pending_seq` still waits to be chained (another write's
/// [`chain_pending`] may have taken it along with its own).
pub(crate) async fn is_pending(db: &DatabaseConnection, pending_seq: i64) -> Result<bool, DbErr> {
    Ok(pending::Entity::find_by_id(pending_seq).one(db).await?.is_some())
}

/// Moves every committed event of `audit_pending` onto the chain: each gets the next `seq`
/// and is hashed with the previous event's hash, in the order this finds them. Only this
/// short move holds the chain's head row, never a write's own transaction and its commit, so
/// writers commit side by side. Its transaction commits without waiting for the disk on
/// PostgreSQL: lost in a crash, it leaves the events pending, and the next move (any write's,
/// or the one at start-up) chains them again. Called after every write, at start-up and before
/// a verification.
pub async fn chain_pending(db: &DatabaseConnection) -> Result<(), DbErr> {
    const BATCH: u64 = 500;
    loop {
        // The one other transaction outside `Write`: it writes only the trail itself.
        #[allow(clippy::disallowed_methods)]
        let txn = db.begin().await?;
        if db.get_database_backend() == DbBackend::Postgres {
            txn.execute_unprepared("SET LOCAL synchronous_commit TO OFF").await?;
        }
        // Taking the head row first makes concurrent moves take turns: PostgreSQL locks and
        // reads it in one statement (this section is where concurrent writes queue); SQLite,
        // which has no row locks, takes the database's write lock by writing to it first.
        let head_row = head::Entity::find_by_id(1);
        let current = if db.get_database_backend() == DbBackend::Postgres {
            head_row.lock_exclusive().one(&txn).await?
        } else {
            head::Entity::update_many()
                .col_expr(head::Column::Seq, Expr::col(head::Column::Seq))
                .filter(head::Column::Id.eq(1))
                .exec(&txn)
                .await?;
            head_row.one(&txn).await?
        }
        .ok_or_else(|| DbErr::RecordNotFound("audit_head".into()))?;
        let waiting = pending::Entity::find()
            .order_by_asc(pending::Column::PendingSeq)
            .limit(BATCH)
            .all(&txn)
            .await?;
        if waiting.is_empty() {
            txn.commit().await?;
            return Ok(());
        }
        let (mut seq, mut prev_hash) = (current.seq, current.hash);
        let mut events = Vec::with_capacity(waiting.len());
        let mut taken = Vec::with_capacity(waiting.len());
        for p in waiting.iter().cloned() {
            seq += 1;
            taken.push(p.pending_seq);
            let mut row = event::Model {
                seq,
                id: p.id,
                occurred_at: p.occurred_at,
                actor_user_id: p.actor_user_id,
                actor_role: p.actor_role,
                action: p.action,
                entity_type: p.entity_type,
                entity_id: p.entity_id,
                org_id: p.org_id,
                changes: p.changes,
                request_id: p.request_id,
                client_ip: p.client_ip,
                outcome: p.outcome,
                prev_hash,
                hash: String::new(),
            };
            row.hash = content_hash(&row);
            prev_hash = row.hash.clone();
            events.push(event::ActiveModel::from(row));
        }
        event::Entity::insert_many(events).exec_without_returning(&txn).await?;
        pending::Entity::delete_many()
            .filter(pending::Column::PendingSeq.is_in(taken))
            .exec(&txn)
            .await?;
        head::Entity::update_many()
            .col_expr(head::Column::Seq, Expr::value(seq))
            .col_expr(head::Column::Hash, Expr::value(prev_hash))
            .filter(head::Column::Id.eq(1))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        if (waiting.len() as u64) < BATCH {
            return Ok(());
        }
    }
}

/// How many events wait to be chained (normally none: only those of writes committing now,
/// or of a move that failed).
pub async fn pending_count(db: &DatabaseConnection) -> Result<u64, DbErr> {
    pending::Entity::find().count(db).await
}

/// Removes every personal field from `value`, at any depth, into `out` by path (null values
/// are dropped: a field that was never set is not personal data).
fn strip_personal(value: &mut Value, path: &str, out: &mut Map<String, Value>) {
    let at = |key: &str| {
        if path.is_empty() {
            key.to_owned()
        } else {
            format!("{path}/{key}")
        }
    };
    match value {
        Value::Object(map) => {
            for field in PERSONAL_FIELDS {
                if let Some(v) = map.remove(*field).filter(|v| !v.is_null()) {
                    out.insert(at(field), v);
                }
            }
            for (key, child) in map.iter_mut() {
                strip_personal(child, &at(key), out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter_mut().enumerate() {
                strip_personal(child, &at(&i.to_string()), out);
            }
        }
        _ => {}
    }
}

/// Fields holding personal data (个人信息; `health` is sensitive personal data), whatever the
/// entity: the trail records that they
/// were set or changed (`personal_data_changed`), never their values, so neither a reader of
/// the trail nor someone holding a copy of the database can rebuild an ID number from it.
pub const PERSONAL_FIELDS: &[&str] = &["id_number", "phone", "birth_date", "health"];

/// The fields that changed: `{"before": {...}, "after": {...}}`, plus
/// `"personal_data_changed": [...]` naming the personal fields that were set or changed, at
/// any depth (`id_number`, `people/0/id_number`).
pub fn changes(before: Option<&Value>, after: Option<&Value>) -> Value {
    let (mut before, mut after) = (before.cloned(), after.cloned());
    let (mut old_personal, mut new_personal) = (Map::new(), Map::new());
    if let Some(v) = before.as_mut() {
        strip_personal(v, "", &mut old_personal);
    }
    if let Some(v) = after.as_mut() {
        strip_personal(v, "", &mut new_personal);
    }
    let mut personal = Vec::new();
    for key in old_personal
        .keys()
        .chain(new_personal.keys().filter(|k| !old_personal.contains_key(*k)))
    {
        if old_personal.get(key) != new_personal.get(key) {
            personal.push(Value::from(key.as_str()));
        }
    }
    let mut out = match (&before, &after) {
        (Some(Value::Object(b)), Some(Value::Object(a))) => {
            let mut old = Map::new();
            let mut new = Map::new();
            for key in b.keys().chain(a.keys().filter(|k| !b.contains_key(*k))) {
                let (x, y) = (b.get(key).unwrap_or(&Value::Null), a.get(key).unwrap_or(&Value::Null));
                if x != y {
                    old.insert(key.clone(), x.clone());
                    new.insert(key.clone(), y.clone());
                }
            }
            serde_json::json!({"before": old, "after": new})
        }
        (b, a) => serde_json::json!({"before": b, "after": a}),
    };
    if !personal.is_empty() {
        out["personal_data_changed"] = Value::Array(personal);
    }
    out
}

/// SHA-256 over every field of the event and the previous event's hash.
pub fn content_hash(e: &event::Model) -> String {
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let text = [
        e.seq.to_string(),
        e.id.to_string(),
        e.occurred_at.to_rfc3339_opts(SecondsFormat::Micros, true),
        e.actor_user_id.map(|u| u.to_string()).unwrap_or_default(),
        opt(&e.actor_role),
        e.action.clone(),
        e.entity_type.clone(),
        opt(&e.entity_id),
        e.org_id.map(|u| u.to_string()).unwrap_or_default(),
        e.changes.clone(),
        opt(&e.request_id),
        opt(&e.client_ip),
        e.outcome.clone(),
        e.prev_hash.clone(),
    ]
    .join("\u{1f}");
    hex::encode(Sha256::digest(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn personal_fields_are_named_never_kept() {
        let before = serde_json::json!({"name": "程军", "phone": "138****5678", "birth_date": "1979-03-15"});
        let after = serde_json::json!({"name": "程军", "phone": "139****5678", "birth_date": "1979-03-15"});
        let c = changes(Some(&before), Some(&after));
        assert_eq!(c["personal_data_changed"], serde_json::json!(["phone"]));
        assert!(
            !c.to_string().contains("5678") && !c.to_string().contains("1979"),
            "{c}"
        );
        let created = changes(
            None,
            Some(&serde_json::json!({"id_number": "340822************", "name": "x"})),
        );
        assert_eq!(created["personal_data_changed"], serde_json::json!(["id_number"]));
        assert_eq!(created["after"], serde_json::json!({"name": "x"}));
    }
}
