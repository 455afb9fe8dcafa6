//! Stage 2: model IR → tables (SPEC section 2).
//!
//! The system tables (users, sessions, migration history) come from the `migration` crate
//! ([`migrate_system`]). The model tables follow the declared models: [`plan`] derives the
//! physical schema from the IR ([`physical`]), diffs it against the snapshot recorded by the
//! last applied migration (cross-checked against the live catalog), and classifies each change;
//! [`apply`] runs the whole plan in one transaction and records it with its SDL hash.

mod apply;
pub mod catalog;
mod diff;
pub mod history;
pub mod physical;
mod plan;
mod statements;

#[cfg(test)]
mod tests;

use crate::model::Schema;
use anyhow::Context;
use migration::sea_orm_migration::MigratorTrait;
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr};
use std::fmt;

pub use physical::PhysicalSchema;

/// Key of the PostgreSQL advisory lock that serializes schema changes across instances.
const PG_LOCK_KEY: i64 = 0x6665_7272_6f62_6173; // "ferrobas"

/// Runs the pending system migrations (users, sessions, history) in one transaction; on
/// PostgreSQL under an advisory lock, so instances starting together do not race.
pub async fn migrate_system(db: &DatabaseConnection) -> anyhow::Result<()> {
    let txn = crate::db::begin_write(db).await.context("cannot start the system migrations")?;
    lock_schema(&txn).await.context("cannot lock the database for the system migrations")?;
    migration::Migrator::up(&txn, None).await.context("cannot apply the system migrations")?;
    txn.commit().await.context("cannot commit the system migrations")
}

/// On PostgreSQL, takes the advisory lock that serializes schema changes across instances, held
/// until the transaction `txn` ends. Nothing to do on SQLite, whose write transaction already
/// excludes other writers.
async fn lock_schema(txn: &DatabaseTransaction) -> Result<(), DbErr> {
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({PG_LOCK_KEY})")).await?;
    }
    Ok(())
}

/// Computes the plan that makes the model tables follow `schema`. Applies nothing.
pub async fn plan(db: &DatabaseConnection, schema: &Schema) -> anyhow::Result<Plan> {
    plan::make(db, schema).await
}

/// Applies `plan` (made by [`plan`] for the same `schema`) in one transaction and records it
/// in `ferrobase_schema_migrations`. Refuses risky or destructive changes unless
/// `allow_destructive`; an empty plan applies and records nothing.
pub async fn apply(
    db: &DatabaseConnection,
    schema: &Schema,
    plan: &Plan,
    allow_destructive: bool,
) -> Result<Applied, MigrateError> {
    apply::run(db, schema, plan, allow_destructive).await
}

/// How dangerous a change is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Risk {
    /// Applied automatically: new table, new nullable or defaulted column, new index, ...
    Safe,
    /// May fail on existing rows or change their meaning (new required column without default,
    /// new unique index on an existing table, optional → required, type change): needs
    /// `--allow-destructive`.
    Risky,
    /// Loses data (drop table, drop column): needs `--allow-destructive`.
    Destructive,
}

/// One line of a plan and the SQL that carries it out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub risk: Risk,
    /// The plan line, marked: `+` create, `~` alter, `-` drop (safe), `!` risky or destructive.
    pub description: String,
    /// SQL statements, run in order. Empty for a change carried out by a later statement
    /// (e.g. a SQLite table rebuild).
    pub statements: Vec<String>,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.description)
    }
}

/// What it takes to make the model tables follow the declared models.
#[derive(Debug, Clone)]
pub struct Plan {
    /// In execution order.
    pub changes: Vec<Change>,
    /// Hash of the schema source the plan was made for.
    pub sdl_hash: String,
    backend: DbBackend,
    /// The physical schema after applying: recorded as the new snapshot.
    desired: PhysicalSchema,
    /// Id of the last history row the plan was made against.
    base: Option<i64>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// Whether some change is risky or destructive.
    pub fn needs_allow_destructive(&self) -> bool {
        self.changes.iter().any(|c| c.risk != Risk::Safe)
    }

    /// The changes that need `--allow-destructive`.
    pub fn refused(&self) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(|c| c.risk != Risk::Safe)
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.changes.is_empty() {
            return f.write_str("no changes");
        }
        for (i, c) in self.changes.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            f.write_str(&c.description)?;
        }
        Ok(())
    }
}

/// The outcome of [`apply`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// The `ferrobase_schema_migrations` row written (`None` for an empty plan).
    pub history_id: Option<i64>,
    /// Number of plan changes applied.
    pub changes: usize,
}

/// Why [`apply`] applied nothing.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    /// The plan has risky or destructive changes and `allow_destructive` was not given.
    #[error("{}", refused_message(.0))]
    NeedsAllowDestructive(Plan),
    /// The database refused a statement, or the plan is stale; the transaction was rolled back.
    #[error("the migration failed and nothing was applied: {0:#}")]
    Db(anyhow::Error),
}

fn refused_message(plan: &Plan) -> String {
    let lines: Vec<String> = plan.refused().map(|c| format!("  {}", c.description)).collect();
    format!(
        "refusing to apply {} change(s) that can lose data or fail on existing rows:\n{}\n\
         Nothing was applied. Review the plan (`ferrobase migrate --plan`), then apply it with \
         `ferrobase migrate --allow-destructive`.",
        lines.len(),
        lines.join("\n")
    )
}
