//! [`Write`]: the one way to change the database from a request. It owns the transaction and
//! the caller's [`AuditContext`], and commits only together with an audit [`Event`], so
//! "every change is audited in its own transaction" holds by construction rather than by
//! habit. A `Write` dropped without committing (an early `?` or `return Err`) rolls back.
//!
//! ```text
//! let w = Write::begin(&state.db, &user.audit).await?;
//! let org = queries::find(w.db(), &scope, id).await?;          // loads see the transaction
//! if_match.check(org.version)?;
//! w.update_versioned::<org::Entity>(org.id, org.version, vec![(Column::Name, Expr::value(name))]).await?;
//! w.commit(Event::new("org.rename", "org", org.id).before(&old).after(&new)).await?;
//! ```
//!
//! Opening a transaction anywhere else is refused by clippy (`disallowed-methods` in
//! `clippy.toml`); the one exception, token refresh, says why where it allows it. Helpers that
//! write take `&Write` rather than any connection, so they too run only inside a write.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, SimpleExpr};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, IdenStatic, Iterable, ModelTrait, QueryFilter,
    TransactionTrait,
};
use uuid::Uuid;

use super::{AuditContext, Event};
use crate::error::ApiError;

/// One unit of work: a transaction, who is acting, and (at commit) what they did.
pub struct Write {
    txn: DatabaseTransaction,
    ctx: AuditContext,
    /// The pool, to chain the event once the transaction has committed.
    db: DatabaseConnection,
}

impl Write {
    /// Starts a write on behalf of `ctx` (usually `&user.audit`).
    // The one place where a transaction is opened: see the module documentation.
    #[allow(clippy::disallowed_methods)]
    pub async fn begin(db: &DatabaseConnection, ctx: &AuditContext) -> Result<Write, ApiError> {
        Ok(Write {
            txn: db.begin().await?,
            ctx: ctx.clone(),
            db: db.clone(),
        })
    }

    /// The transaction, for every load and statement that belongs to this write. (Reading
    /// through the pool instead would not see the write's own changes, and on in-memory
    /// SQLite, whose pool has one connection, would wait for the connection this write holds.)
    pub fn db(&self) -> &DatabaseTransaction {
        &self.txn
    }

    /// Commits the change together with `event`, then puts the event on the audit chain
    /// (unless another write's move already took it). The change stands once committed: a
    /// failure to chain is logged and left to the next move, which picks the event up.
    pub async fn commit(self, event: Event) -> Result<(), ApiError> {
        let queued = super::stage(&self.txn, &self.ctx, event).await?;
        self.txn.commit().await?;
        let chained = async {
            if super::is_pending(&self.db, queued).await? {
                super::chain_pending(&self.db).await?;
            }
            Ok::<_, sea_orm::DbErr>(())
        };
        if let Err(e) = chained.await {
            tracing::error!(error = %e, "audit event committed but not yet chained");
        }
        Ok(())
    }

    /// Adds a further event to this write, for a change that makes or touches a second record
    /// (a reversing ledger record and the record it reverses). It is committed with the write,
    /// before the event given to [`Write::commit`].
    pub async fn also(&self, event: Event) -> Result<(), ApiError> {
        super::stage(&self.txn, &self.ctx, event).await?;
        Ok(())
    }

    /// Undoes everything at once. Dropping a `Write` does the same, but only later, on the
    /// connection's next use: roll back explicitly before writing anything else (such as the
    /// audit event of a refused attempt, with [`Write::record_alone`]).
    pub async fn rollback(self) -> Result<(), ApiError> {
        self.txn.rollback().await?;
        Ok(())
    }

    /// Records an event that changes nothing else, in a transaction of its own: audited reads
    /// (personal data revealed), refused attempts, dry runs.
    pub async fn record_alone(db: &DatabaseConnection, ctx: &AuditContext, event: Event) -> Result<(), ApiError> {
        Write::begin(db, ctx).await?.commit(event).await
    }

    /// The optimistic update of a versioned record: applies `changes` to row `id` only if it
    /// is still at `version`, bumping `version` and `updated_at`. When someone else changed the
    /// row since it was read, nothing is written and the answer is 412.
    pub async fn update_versioned<E: VersionedEntity>(
        &self,
        id: Uuid,
        version: i64,
        changes: Vec<(E::Column, SimpleExpr)>,
    ) -> Result<Bumped, ApiError> {
        let bumped = Bumped {
            version: version + 1,
            updated_at: crate::db::now(),
        };
        let mut update = E::update_many()
            .col_expr(E::VERSION, Expr::value(bumped.version))
            .col_expr(E::UPDATED_AT, Expr::value(bumped.updated_at));
        for (column, value) in changes {
            update = update.col_expr(column, value);
        }
        let res = update
            .filter(ColumnTrait::eq(&E::ID, id))
            .filter(ColumnTrait::eq(&E::VERSION, version))
            .exec(&self.txn)
            .await?;
        crate::http::conditional::applied(res.rows_affected, version)?;
        Ok(bumped)
    }
}

/// What [`Write::update_versioned`] stored besides the caller's changes.
#[derive(Debug, Clone, Copy)]
pub struct Bumped {
    pub version: i64,
    pub updated_at: DateTime<Utc>,
}

/// A table with optimistic concurrency (`ETag: "<version>"`, `If-Match`): a UUID `id`, a
/// `version` that every change bumps, and `updated_at`.
pub trait VersionedEntity: EntityTrait {
    const ID: Self::Column;
    const VERSION: Self::Column;
    const UPDATED_AT: Self::Column;

    /// The columns where `after` differs from `before` (a changed copy of it), as changes for
    /// [`Write::update_versioned`]; the id, version and `updated_at` are left to it.
    fn changes(before: &Self::Model, after: &Self::Model) -> Vec<(Self::Column, SimpleExpr)> {
        let managed = [Self::ID, Self::VERSION, Self::UPDATED_AT].map(|c| c.as_str());
        Self::Column::iter()
            .filter(|c| !managed.contains(&c.as_str()))
            .filter(|c| before.get(*c) != after.get(*c))
            .map(|c| (c, Expr::value(after.get(c))))
            .collect()
    }
}
