//! The audit trail (审计日志): one event for every write, appended in the same transaction
//! as the write, each hashed together with the previous event's hash so that any later edit
//! or deletion behind the API's back is detected by `GET /api/v1/audit-events/verify`.
//! Features write through [`Write`], which owns the transaction and commits it only with its
//! event.

pub mod entity;
mod routes;
mod write;

use chrono::SecondsFormat;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::auth::Role;
pub use routes::configure;
pub use write::{Bumped, VersionedEntity, Write};

use entity::{event, head};

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

/// The sequence number of the newest event: every write advances it, so it tells whether
/// anything changed since (see `http::computed`).
pub async fn head_seq<C: ConnectionTrait>(conn: &C) -> Result<i64, DbErr> {
    Ok(head::Entity::find_by_id(1).one(conn).await?.map(|h| h.seq).unwrap_or(0))
}

/// Appends `event` using `conn`, which must be the transaction of the write it describes.
/// Events are serialised through the single `audit_head` row, which the first statement
/// locks until the transaction ends. Private: features record events through [`Write`],
/// which calls this right before it commits.
async fn record<C: ConnectionTrait>(conn: &C, ctx: &AuditContext, event: Event) -> Result<(), DbErr> {
    head::Entity::update_many()
        .col_expr(head::Column::Seq, Expr::col(head::Column::Seq).add(1))
        .filter(head::Column::Id.eq(1))
        .exec(conn)
        .await?;
    let current = head::Entity::find_by_id(1)
        .one(conn)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("audit_head".into()))?;

    let occurred_at = crate::db::now();
    let mut row = event::Model {
        seq: current.seq,
        id: Uuid::now_v7(),
        occurred_at,
        actor_user_id: ctx.actor_user_id,
        actor_role: ctx.actor_role.map(|r| r.as_str().to_owned()),
        action: event.action.to_owned(),
        entity_type: event.entity_type.to_owned(),
        entity_id: event.entity_id,
        org_id: event.org_id,
        changes: changes(event.before.as_ref(), event.after.as_ref()).to_string(),
        request_id: ctx.request_id.clone(),
        client_ip: ctx.client_ip.clone(),
        outcome: match event.outcome {
            Outcome::Success => "success".into(),
            Outcome::Failure => "failure".into(),
        },
        prev_hash: current.hash,
        hash: String::new(),
    };
    row.hash = content_hash(&row);
    let hash = row.hash.clone();
    event::Entity::insert(event::ActiveModel {
        seq: Set(row.seq),
        id: Set(row.id),
        occurred_at: Set(row.occurred_at),
        actor_user_id: Set(row.actor_user_id),
        actor_role: Set(row.actor_role),
        action: Set(row.action),
        entity_type: Set(row.entity_type),
        entity_id: Set(row.entity_id),
        org_id: Set(row.org_id),
        changes: Set(row.changes),
        request_id: Set(row.request_id),
        client_ip: Set(row.client_ip),
        outcome: Set(row.outcome),
        prev_hash: Set(row.prev_hash),
        hash: Set(row.hash),
    })
    .exec_without_returning(conn)
    .await?;
    head::Entity::update_many()
        .col_expr(head::Column::Hash, Expr::value(hash))
        .filter(head::Column::Id.eq(1))
        .exec(conn)
        .await?;
    Ok(())
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
