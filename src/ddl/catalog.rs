//! The live catalog: which tables, columns, indexes and foreign keys the database really has
//! (SQLite: `sqlite_master` and the `pragma_*` table functions; PostgreSQL: `information_schema`
//! and `pg_catalog`, in the current schema).

use anyhow::Context;
use sea_orm::{ConnectionTrait, DbBackend, QueryResult, Statement, Value};
use std::collections::BTreeSet;

/// A column as the database reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveColumn {
    pub name: String,
    /// The declared type as the database spells it (`text`, `timestamp with time zone`, ...).
    pub ty: String,
    pub not_null: bool,
    /// The DEFAULT expression as stored by the database.
    pub default: Option<String>,
    pub primary_key: bool,
}

/// An index as the database reports it (primary-key indexes excluded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveIndex {
    pub name: String,
    pub columns: Vec<String>,
    pub unique: bool,
    /// SQLite only: the `CREATE INDEX` text (`None` for automatic indexes).
    pub sql: Option<String>,
}

/// A single-column foreign key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveForeignKey {
    pub column: String,
    pub ref_table: String,
    pub ref_column: String,
    /// `CASCADE`, `SET NULL`, `RESTRICT`, `NO ACTION` or `SET DEFAULT`.
    pub on_delete: String,
}

fn stmt(backend: DbBackend, sqlite: &str, pg: &str, values: Vec<Value>) -> Statement {
    let sql = if backend == DbBackend::Postgres { pg } else { sqlite };
    Statement::from_sql_and_values(backend, sql, values)
}

async fn rows<C: ConnectionTrait>(
    db: &C,
    sqlite: &str,
    pg: &str,
    table: Option<&str>,
) -> anyhow::Result<Vec<QueryResult>> {
    let values = table.map(|t| vec![Value::from(t.to_string())]).unwrap_or_default();
    db.query_all_raw(stmt(db.get_database_backend(), sqlite, pg, values))
        .await
        .context("cannot read the database catalog")
}

fn get<T: sea_orm::TryGetable>(row: &QueryResult, i: usize) -> anyhow::Result<T> {
    row.try_get_by_index(i).context("unexpected row in the database catalog")
}

/// Names of the tables in the current schema.
pub async fn tables<C: ConnectionTrait>(db: &C) -> anyhow::Result<BTreeSet<String>> {
    let rows = rows(
        db,
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
        None,
    )
    .await?;
    rows.iter().map(|r| get::<String>(r, 0)).collect()
}

/// Whether `table` exists in the current schema.
pub async fn table_exists<C: ConnectionTrait>(db: &C, table: &str) -> anyhow::Result<bool> {
    let rows = rows(
        db,
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
        "SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = $1",
        Some(table),
    )
    .await?;
    Ok(!rows.is_empty())
}

/// Columns of `table`, in table order (empty when the table does not exist).
pub async fn columns<C: ConnectionTrait>(db: &C, table: &str) -> anyhow::Result<Vec<LiveColumn>> {
    let rows = rows(
        db,
        "SELECT name, type, \"notnull\" <> 0, dflt_value, pk <> 0 FROM pragma_table_info(?) ORDER BY cid",
        "SELECT c.column_name::text, \
                CASE WHEN c.data_type = 'USER-DEFINED' THEN c.udt_name::text ELSE c.data_type::text END, \
                c.is_nullable = 'NO', c.column_default::text, \
                EXISTS (SELECT 1 FROM information_schema.table_constraints tc \
                        JOIN information_schema.key_column_usage k \
                          ON k.constraint_name = tc.constraint_name AND k.table_schema = tc.table_schema \
                        WHERE tc.table_schema = c.table_schema AND tc.table_name = c.table_name \
                          AND tc.constraint_type = 'PRIMARY KEY' AND k.column_name = c.column_name) \
         FROM information_schema.columns c \
         WHERE c.table_schema = current_schema() AND c.table_name = $1 ORDER BY c.ordinal_position",
        Some(table),
    )
    .await?;
    rows.iter()
        .map(|r| {
            Ok(LiveColumn {
                name: get(r, 0)?,
                ty: get::<String>(r, 1)?.to_lowercase(),
                not_null: get(r, 2)?,
                default: get(r, 3)?,
                primary_key: get(r, 4)?,
            })
        })
        .collect()
}

/// Indexes of `table` other than its primary key, sorted by name.
pub async fn indexes<C: ConnectionTrait>(db: &C, table: &str) -> anyhow::Result<Vec<LiveIndex>> {
    let rows = rows(
        db,
        "SELECT il.name, il.\"unique\" <> 0, \
                (SELECT group_concat(name, ',') FROM \
                   (SELECT ii.name FROM pragma_index_info(il.name) ii ORDER BY ii.seqno)), \
                m.sql \
         FROM pragma_index_list(?) il LEFT JOIN sqlite_master m ON m.type = 'index' AND m.name = il.name \
         WHERE il.origin <> 'pk' ORDER BY il.name",
        "SELECT i.relname::text, ix.indisunique, \
                array_to_string(ARRAY(SELECT a.attname::text FROM unnest(ix.indkey) WITH ORDINALITY k(attnum, ord) \
                  JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum ORDER BY k.ord), ','), \
                NULL::text \
         FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid JOIN pg_class t ON t.oid = ix.indrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace \
         WHERE n.nspname = current_schema() AND t.relname = $1 AND NOT ix.indisprimary ORDER BY 1",
        Some(table),
    )
    .await?;
    rows.iter()
        .map(|r| {
            let cols: Option<String> = get(r, 2)?;
            Ok(LiveIndex {
                name: get(r, 0)?,
                unique: get(r, 1)?,
                columns: cols.unwrap_or_default().split(',').filter(|s| !s.is_empty()).map(str::to_string).collect(),
                sql: get(r, 3)?,
            })
        })
        .collect()
}

/// Foreign keys of `table`, sorted by column.
pub async fn foreign_keys<C: ConnectionTrait>(db: &C, table: &str) -> anyhow::Result<Vec<LiveForeignKey>> {
    let rows = rows(
        db,
        "SELECT \"from\", \"table\", \"to\", on_delete FROM pragma_foreign_key_list(?) ORDER BY \"from\"",
        "SELECT a.attname::text, rt.relname::text, ra.attname::text, \
                CASE c.confdeltype WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' WHEN 'r' THEN 'RESTRICT' \
                     WHEN 'd' THEN 'SET DEFAULT' ELSE 'NO ACTION' END \
         FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace JOIN pg_class rt ON rt.oid = c.confrelid \
         JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] \
         JOIN pg_attribute ra ON ra.attrelid = c.confrelid AND ra.attnum = c.confkey[1] \
         WHERE c.contype = 'f' AND n.nspname = current_schema() AND t.relname = $1 ORDER BY 1",
        Some(table),
    )
    .await?;
    rows.iter()
        .map(|r| {
            Ok(LiveForeignKey {
                column: get(r, 0)?,
                ref_table: get(r, 1)?,
                ref_column: get(r, 2)?,
                on_delete: get::<String>(r, 3)?.to_uppercase(),
            })
        })
        .collect()
}
