//! `ferrobase_schema_migrations`: the applied-migration history and the last snapshot.

use super::catalog;
use super::physical::{PhysicalSchema, SNAPSHOT_VERSION};
use anyhow::Context;
use migration::SCHEMA_HISTORY_TABLE;
use migration::types::SQLITE_DATETIME_FORMAT;
use sea_orm::sea_query::{Alias, Expr, Func, Order, Query};
use sea_orm::{ConnectionTrait, DbBackend, Value};

/// One recorded migration.
#[derive(Debug, Clone)]
pub struct HistoryRow {
    pub id: i64,
    pub sdl_hash: String,
    pub plan: String,
    pub snapshot: String,
}

fn t() -> Alias {
    Alias::new(SCHEMA_HISTORY_TABLE)
}

fn c(name: &str) -> Alias {
    Alias::new(name)
}

/// Whether the system migrations created the history table.
pub async fn installed<C: ConnectionTrait>(db: &C) -> anyhow::Result<bool> {
    catalog::table_exists(db, SCHEMA_HISTORY_TABLE).await
}

/// Id of the most recent row (`None` when nothing was applied yet).
pub async fn last_id<C: ConnectionTrait>(db: &C) -> anyhow::Result<Option<i64>> {
    let stmt = Query::select().expr(Func::max(Expr::col(c("id")))).from(t()).to_owned();
    let row = db.query_one(&stmt).await.context("cannot read ferrobase_schema_migrations")?;
    match row {
        Some(row) => {
            let id: Option<i32> = row.try_get_by_index(0).context("unexpected id in ferrobase_schema_migrations")?;
            Ok(id.map(i64::from))
        }
        None => Ok(None),
    }
}

/// The most recent snapshot and its row id; `None` when the history table is missing or empty.
pub async fn last_snapshot<C: ConnectionTrait>(db: &C) -> anyhow::Result<Option<(i64, PhysicalSchema)>> {
    if !installed(db).await? {
        return Ok(None);
    }
    let stmt =
        Query::select().columns([c("id"), c("snapshot")]).from(t()).order_by(c("id"), Order::Desc).limit(1).to_owned();
    let Some(row) = db.query_one(&stmt).await.context("cannot read ferrobase_schema_migrations")? else {
        return Ok(None);
    };
    let id: i32 = row.try_get_by_index(0).context("unexpected id in ferrobase_schema_migrations")?;
    let text: String = row.try_get_by_index(1).context("unexpected snapshot in ferrobase_schema_migrations")?;
    let snapshot: PhysicalSchema = serde_json::from_str(&text)
        .with_context(|| format!("the snapshot of migration {id} in ferrobase_schema_migrations cannot be read"))?;
    if snapshot.version > SNAPSHOT_VERSION {
        anyhow::bail!(
            "the snapshot of migration {id} was written by a newer ferrobase (format {}); upgrade ferrobase",
            snapshot.version
        );
    }
    Ok(Some((i64::from(id), snapshot)))
}

/// Every recorded migration, oldest first.
pub async fn rows<C: ConnectionTrait>(db: &C) -> anyhow::Result<Vec<HistoryRow>> {
    let stmt = Query::select()
        .columns([c("id"), c("sdl_hash"), c("plan"), c("snapshot")])
        .from(t())
        .order_by(c("id"), Order::Asc)
        .to_owned();
    let rows = db.query_all(&stmt).await.context("cannot read ferrobase_schema_migrations")?;
    rows.iter()
        .map(|r| {
            Ok(HistoryRow {
                id: i64::from(r.try_get_by_index::<i32>(0)?),
                sdl_hash: r.try_get_by_index(1)?,
                plan: r.try_get_by_index(2)?,
                snapshot: r.try_get_by_index(3)?,
            })
        })
        .collect::<Result<_, sea_orm::DbErr>>()
        .context("unexpected row in ferrobase_schema_migrations")
}

/// Records an applied migration; returns its id.
pub async fn record<C: ConnectionTrait>(
    db: &C,
    sdl_hash: &str,
    plan: &str,
    snapshot: &PhysicalSchema,
) -> anyhow::Result<i64> {
    let now = chrono::Utc::now();
    let applied_at: Value = match db.get_database_backend() {
        DbBackend::Postgres => now.into(),
        _ => now.format(SQLITE_DATETIME_FORMAT).to_string().into(),
    };
    let snapshot = serde_json::to_string(snapshot).context("cannot serialize the schema snapshot")?;
    let mut stmt = Query::insert();
    stmt.into_table(t()).columns([c("applied_at"), c("sdl_hash"), c("plan"), c("snapshot")]);
    stmt.values([applied_at.into(), sdl_hash.into(), plan.into(), snapshot.into()])
        .context("cannot build the history row")?
        .returning_col(c("id"));
    let row = db
        .query_one(&stmt)
        .await
        .context("cannot record the migration in ferrobase_schema_migrations")?
        .context("the recorded migration is missing")?;
    let id: i32 = row.try_get_by_index(0).context("unexpected id in ferrobase_schema_migrations")?;
    Ok(i64::from(id))
}
