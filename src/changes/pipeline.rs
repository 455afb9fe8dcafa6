//! The consumers of changes, and the two moments they are called at.

use super::{Change, ChangeSet};
use sea_orm::sea_query::Values;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

/// A statement a consumer runs inside the write's transaction: SQL with `$n` (PostgreSQL) or
/// `?` (SQLite) placeholders and its values.
#[derive(Debug, Clone)]
pub struct TxStatement {
    pub sql: Arc<str>,
    pub values: Values,
}

/// Something that acts on changes. Register with [`Pipeline::register`].
pub trait Consumer: Send + Sync {
    /// For logs and metrics.
    fn name(&self) -> &'static str;

    /// Whether this consumer has work inside the transaction of a write to `model` (writers then
    /// open one for a write that would otherwise be a single autocommitted statement).
    fn in_transaction_for(&self, _model: &str) -> bool {
        false
    }

    /// Statements to run inside the write's transaction, for `change` (committed or rolled back
    /// with the write). `backend` says which placeholders to use.
    fn in_transaction(&self, _change: &Change, _backend: sea_orm::DatabaseBackend) -> Vec<TxStatement> {
        Vec::new()
    }

    /// Whether this consumer judges deletes of `model` before they happen (see
    /// [`before_delete`](Self::before_delete)).
    fn before_delete_for(&self, _model: &str) -> bool {
        false
    }

    /// Called inside the transaction of a delete of row `row_id` of `model`, before the row and
    /// the rows its delete cascades to are gone, on the write's connection; what it returns
    /// travels with the change (see [`super::Change::prepared`]). Errors are the consumer's to
    /// contain: the delete goes on.
    fn before_delete<'a>(
        &'a self,
        _model: &'a str,
        _row_id: &'a str,
        _conn: &'a mut crate::db::pool::Lease<'_>,
    ) -> futures_util::future::BoxFuture<'a, Option<Arc<dyn std::any::Any + Send + Sync>>> {
        Box::pin(async { None })
    }

    /// Called once per change after its transaction committed, in commit order for one writer.
    /// Must not block: hand slow work to a queue or a task.
    fn after_commit(&self, _change: &Arc<Change>) {}
}

/// Counts for `/metrics`.
#[derive(Default)]
pub struct PipelineStats {
    /// Changes published after commit.
    pub published: AtomicU64,
}

/// The registered consumers; shared by every writer.
#[derive(Default)]
pub struct Pipeline {
    consumers: RwLock<Vec<Arc<dyn Consumer>>>,
    pub stats: PipelineStats,
}

impl Pipeline {
    pub fn new() -> Pipeline {
        Pipeline::default()
    }

    /// Adds a consumer; it sees the changes committed from now on.
    pub fn register(&self, consumer: Arc<dyn Consumer>) {
        self.consumers.write().expect("consumers lock").push(consumer);
    }

    fn consumers(&self) -> Vec<Arc<dyn Consumer>> {
        self.consumers.read().expect("consumers lock").clone()
    }

    /// Whether a write to `model` must run in a transaction for the consumers' sake.
    pub fn needs_transaction(&self, model: &str) -> bool {
        self.consumers.read().expect("consumers lock").iter().any(|c| c.in_transaction_for(model))
    }

    /// Whether a delete of `model` must run in a transaction for a consumer's
    /// [`Consumer::before_delete`].
    pub fn needs_before_delete(&self, model: &str) -> bool {
        self.consumers.read().expect("consumers lock").iter().any(|c| c.before_delete_for(model))
    }

    /// Runs every consumer's [`Consumer::before_delete`] for row `row_id` of `model` on `conn`.
    pub async fn before_delete(
        &self,
        model: &str,
        row_id: &str,
        conn: &mut crate::db::pool::Lease<'_>,
    ) -> super::Prepared {
        let mut prepared = super::Prepared::default();
        for c in self.consumers() {
            if c.before_delete_for(model)
                && let Some(p) = c.before_delete(model, row_id, conn).await
            {
                prepared.0.push((c.name(), p));
            }
        }
        prepared
    }

    /// The consumers' statements for `set`, to run inside its transaction before commit.
    pub fn in_transaction(&self, set: &ChangeSet, backend: sea_orm::DatabaseBackend) -> Vec<TxStatement> {
        let consumers = self.consumers();
        let mut out = Vec::new();
        for change in &set.changes {
            for c in &consumers {
                if c.in_transaction_for(&change.model) {
                    out.extend(c.in_transaction(change, backend));
                }
            }
        }
        out
    }

    /// Hands a committed transaction's changes to every consumer.
    pub fn publish(&self, set: ChangeSet) {
        if set.changes.is_empty() {
            return;
        }
        let consumers = self.consumers();
        for change in set.changes {
            let change = Arc::new(change);
            self.stats.published.fetch_add(1, Ordering::Relaxed);
            for c in &consumers {
                c.after_commit(&change);
            }
        }
    }

    /// Runs the consumers' in-transaction statements for `set` on a sea-orm transaction, commits
    /// it, and publishes the changes (for writers that use sea-orm: the auth API, the CLI).
    pub async fn commit_orm(&self, txn: sea_orm::DatabaseTransaction, set: ChangeSet) -> Result<(), sea_orm::DbErr> {
        use sea_orm::ConnectionTrait;
        let backend = txn.get_database_backend();
        for s in self.in_transaction(&set, backend) {
            txn.execute_raw(sea_orm::Statement::from_sql_and_values(backend, s.sql.to_string(), s.values)).await?;
        }
        // A failed commit drops the set: nothing is published for it.
        txn.commit().await?;
        self.publish(set);
        Ok(())
    }
}
