//! Applying a plan: every statement and the history row in one transaction.
//!
//! SQLite: the transaction runs on a dedicated connection opened with `foreign_keys = OFF`
//! (the pragma cannot change inside a transaction, and with it ON, dropping the old table of
//! a rebuild would fire ON DELETE CASCADE / SET NULL in the child tables);
//! `PRAGMA foreign_key_check` verifies the result before commit. PostgreSQL: an advisory lock
//! serializes concurrent instances.

use super::physical;
use super::{Applied, Change, MigrateError, Plan, history, lock_schema};
use crate::model::Schema;
use anyhow::{Context, anyhow};
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, Statement};

pub(super) async fn run(
    db: &DatabaseConnection,
    schema: &Schema,
    plan: &Plan,
    allow_destructive: bool,
) -> Result<Applied, MigrateError> {
    if plan.needs_allow_destructive() && !allow_destructive {
        return Err(MigrateError::NeedsAllowDestructive(plan.clone()));
    }
    if plan.is_empty() {
        return Ok(Applied { history_id: None, changes: 0 });
    }
    let backend = db.get_database_backend();
    if backend != plan.backend {
        return Err(MigrateError::Db(anyhow!("the plan was made for another database backend")));
    }
    let desired = physical::derive(schema, backend).map_err(MigrateError::Db)?;
    if desired != plan.desired {
        return Err(MigrateError::Db(anyhow!("the plan was made for a different schema; make a new plan")));
    }
    if !history::installed(db).await.map_err(MigrateError::Db)? {
        return Err(MigrateError::Db(anyhow!(
            "the system tables are missing: run the system migrations first (`ferrobase migrate`)"
        )));
    }
    if backend == DbBackend::Sqlite {
        let conn = sqlite_connection_without_fks(db).await.map_err(MigrateError::Db)?;
        let result = in_transaction(&conn, plan).await;
        let _ = conn.close().await;
        result
    } else {
        in_transaction(db, plan).await
    }
}

/// A one-connection pool to the same SQLite database with foreign key enforcement off.
async fn sqlite_connection_without_fks(db: &DatabaseConnection) -> anyhow::Result<DatabaseConnection> {
    use sea_orm::sqlx::sqlite::SqlitePoolOptions;
    let options = (*db.get_sqlite_connection_pool().connect_options()).clone().foreign_keys(false);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .context("cannot open a migration connection to SQLite")?;
    Ok(sea_orm::SqlxSqliteConnector::from_sqlx_sqlite_pool(pool))
}

async fn in_transaction(conn: &DatabaseConnection, plan: &Plan) -> Result<Applied, MigrateError> {
    let txn = crate::db::begin_write(conn).await.context("cannot start the migration transaction");
    let txn = txn.map_err(MigrateError::Db)?;
    match run_statements(&txn, plan).await {
        Ok(history_id) => {
            txn.commit().await.context("cannot commit the migration").map_err(MigrateError::Db)?;
            Ok(Applied { history_id: Some(history_id), changes: plan.changes.len() })
        }
        Err(e) => {
            let _ = txn.rollback().await;
            Err(MigrateError::Db(e))
        }
    }
}

async fn run_statements(txn: &DatabaseTransaction, plan: &Plan) -> anyhow::Result<i64> {
    let backend = txn.get_database_backend();
    lock_schema(txn).await.context("cannot lock the database for the migration")?;
    if history::last_id(txn).await? != plan.base {
        anyhow::bail!("another migration was applied since this plan was made; make a new plan");
    }
    for change in &plan.changes {
        for sql in &change.statements {
            txn.execute_raw(Statement::from_string(backend, sql.clone())).await.map_err(|e| explain(change, sql, e))?;
        }
    }
    if backend == DbBackend::Sqlite {
        check_foreign_keys(txn).await?;
    }
    history::record(txn, &plan.sdl_hash, &plan.to_string(), &plan.desired).await
}

/// SQLite: with enforcement off during the migration, verify every foreign key before commit.
async fn check_foreign_keys(txn: &DatabaseTransaction) -> anyhow::Result<()> {
    let rows = txn
        .query_all_raw(Statement::from_string(DbBackend::Sqlite, "PRAGMA foreign_key_check"))
        .await
        .context("cannot check foreign keys")?;
    if rows.is_empty() {
        return Ok(());
    }
    let mut found = Vec::new();
    for row in rows.iter().take(5) {
        let table: String = row.try_get_by_index(0).context("unexpected foreign_key_check row")?;
        let parent: String = row.try_get_by_index(2).context("unexpected foreign_key_check row")?;
        found.push(format!("a row of {table} references a missing row of {parent}"));
    }
    anyhow::bail!("{} row(s) would violate a foreign key: {}; fix or remove them first", rows.len(), found.join("; "))
}

/// Turns a failed statement into a message naming the plan line, the database's words and, for
/// the usual causes, what to do about it.
fn explain(change: &Change, sql: &str, err: DbErr) -> anyhow::Error {
    let msg = database_message(&err);
    let lower = msg.to_lowercase();
    let hint = if lower.contains("contains null values") || lower.contains("not null constraint failed") {
        "\n  hint: existing rows have no value for a column that is now required: give the field a \
         @default(value: ...), make it optional, or fill in the values first"
    } else if lower.contains("could not create unique index") || lower.contains("unique constraint failed") {
        "\n  hint: existing rows have duplicate values for what is now unique: remove the duplicates first"
    } else if lower.contains("foreign key") {
        "\n  hint: existing rows reference rows that do not exist"
    } else if lower.contains("invalid input syntax") || lower.contains("cannot be cast") {
        "\n  hint: existing values cannot be converted to the new type"
    } else {
        ""
    };
    anyhow!("{}\n  the database refused: {msg}\n  statement: {sql}{hint}", change.description)
}

/// The database's own message (plus PostgreSQL's detail line), without driver decoration.
fn database_message(err: &DbErr) -> String {
    use sea_orm::RuntimeErr;
    use sea_orm::sqlx::{Error as SqlxError, postgres::PgDatabaseError};
    if let DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) = err
        && let SqlxError::Database(db_err) = e.as_ref()
    {
        let mut msg = db_err.message().to_string();
        if let Some(detail) = db_err.try_downcast_ref::<PgDatabaseError>().and_then(|pg| pg.detail()) {
            msg.push_str(" (");
            msg.push_str(detail);
            msg.push(')');
        }
        return msg;
    }
    err.to_string()
}
