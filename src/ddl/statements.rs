//! SQL for each kind of change, built with sea-query (rendered per backend to plain SQL text,
//! so a plan can be printed and applied later). DDL cannot bind values: the only literals are
//! the DEFAULT clauses rendered and escaped by [`super::physical`].

use super::catalog::{LiveColumn, LiveForeignKey, LiveIndex};
use super::physical::{Column, Index, Reference, Table, fk_name, quote_ident};
use crate::model::OnDelete;
use migration::types::SqlType;
use sea_orm::DbBackend;
use sea_orm::sea_query::{
    Alias, ColumnDef, ColumnType, Expr, ForeignKey, ForeignKeyAction, Index as SqIndex, IndexCreateStatement,
    Table as SqTable, TableForeignKey,
};

fn a(name: &str) -> Alias {
    Alias::new(name)
}

fn action(on_delete: OnDelete) -> ForeignKeyAction {
    match on_delete {
        OnDelete::Restrict => ForeignKeyAction::Restrict,
        OnDelete::Cascade => ForeignKeyAction::Cascade,
        OnDelete::SetNull => ForeignKeyAction::SetNull,
    }
}

fn action_sql(on_delete: &str) -> Option<ForeignKeyAction> {
    Some(match on_delete {
        "CASCADE" => ForeignKeyAction::Cascade,
        "SET NULL" => ForeignKeyAction::SetNull,
        "RESTRICT" => ForeignKeyAction::Restrict,
        "SET DEFAULT" => ForeignKeyAction::SetDefault,
        "NO ACTION" => ForeignKeyAction::NoAction,
        _ => return None,
    })
}

/// The column definition: type, NOT NULL, DEFAULT, PRIMARY KEY (foreign keys are separate).
pub fn column_def(c: &Column, backend: DbBackend) -> ColumnDef {
    let mut def = migration::types::column(a(&c.name), c.ty, backend);
    if c.nullable {
        def.null();
    } else {
        def.not_null();
    }
    if let Some(d) = &c.default {
        def.default(Expr::cust(d.clone()));
    }
    if c.primary_key {
        def.primary_key();
    }
    def
}

/// The foreign key of `table.column`, named deterministically.
pub fn foreign_key(table: &str, column: &str, r: &Reference) -> TableForeignKey {
    ForeignKey::create()
        .name(fk_name(table, column))
        .from(a(table), a(column))
        .to(a(&r.table), a(&r.column))
        .on_delete(action(r.on_delete))
        .get_foreign_key()
        .clone()
}

/// `CREATE TABLE` for `t`, with the foreign keys `inline_fk` accepts (the others are added
/// later with [`add_foreign_key`]).
pub fn build_create_table(t: &Table, backend: DbBackend, inline_fk: impl Fn(&Reference) -> bool) -> String {
    let mut create = SqTable::create();
    create.table(a(&t.name));
    for c in &t.columns {
        create.col(column_def(c, backend));
    }
    for c in &t.columns {
        if let Some(r) = c.references.as_ref().filter(|r| inline_fk(r)) {
            create.foreign_key(
                ForeignKey::create()
                    .name(fk_name(&t.name, &c.name))
                    .from(a(&t.name), a(&c.name))
                    .to(a(&r.table), a(&r.column))
                    .on_delete(action(r.on_delete)),
            );
        }
    }
    backend.build(&create).sql
}

pub fn create_index(table: &str, idx: &Index) -> IndexCreateStatement {
    let mut stmt = SqIndex::create();
    stmt.name(&idx.name).table(a(table));
    for c in &idx.columns {
        stmt.col(a(c));
    }
    if idx.unique {
        stmt.unique();
    }
    stmt
}

pub fn build_create_index(table: &str, idx: &Index, backend: DbBackend) -> String {
    backend.build(&create_index(table, idx)).sql
}

pub fn drop_index(name: &str, backend: DbBackend) -> String {
    backend.build(SqIndex::drop().name(name)).sql
}

pub fn drop_table(table: &str, backend: DbBackend) -> String {
    backend.build(SqTable::drop().table(a(table))).sql
}

/// `ALTER TABLE t ADD COLUMN ...` (no foreign key: see [`add_foreign_key`]).
pub fn add_column(table: &str, c: &Column, backend: DbBackend) -> String {
    backend.build(SqTable::alter().table(a(table)).add_column(column_def(c, backend))).sql
}

pub fn drop_column(table: &str, column: &str, backend: DbBackend) -> String {
    backend.build(SqTable::alter().table(a(table)).drop_column(a(column))).sql
}

/// PostgreSQL only: `ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY ...`.
pub fn add_foreign_key(table: &str, column: &str, r: &Reference) -> String {
    DbBackend::Postgres.build(SqTable::alter().table(a(table)).add_foreign_key(&foreign_key(table, column, r))).sql
}

/// PostgreSQL only: `ALTER TABLE t DROP CONSTRAINT fk`.
pub fn drop_foreign_key(table: &str, column: &str) -> String {
    DbBackend::Postgres.build(SqTable::alter().table(a(table)).drop_foreign_key(a(&fk_name(table, column)))).sql
}

/// PostgreSQL only: `ALTER COLUMN c TYPE x USING <conversion>`.
pub fn alter_type(table: &str, column: &str, from: SqlType, to: SqlType) -> String {
    let col = quote_ident(column);
    let using = match (from, to) {
        (SqlType::Json, SqlType::Text) => format!("{col} #>> '{{}}'"),
        (SqlType::Text, SqlType::Json) => format!("{col}::jsonb"),
        (_, SqlType::Json) => format!("to_jsonb({col})"),
        (SqlType::DateTime, SqlType::Text) => {
            format!("to_char({col} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
        }
        (_, to) => format!("{col}::{}", to.name(DbBackend::Postgres)),
    };
    let def = migration::types::column(a(column), to, DbBackend::Postgres).using(Expr::cust(using)).to_owned();
    DbBackend::Postgres.build(SqTable::alter().table(a(table)).modify_column(def)).sql
}

/// PostgreSQL only: `ALTER COLUMN c SET NOT NULL` / `DROP NOT NULL`.
pub fn alter_nullable(table: &str, column: &str, nullable: bool) -> String {
    let mut def = ColumnDef::new(a(column));
    if nullable {
        def.null();
    } else {
        def.not_null();
    }
    DbBackend::Postgres.build(SqTable::alter().table(a(table)).modify_column(def)).sql
}

/// PostgreSQL only: `ALTER COLUMN c SET DEFAULT x` / `DROP DEFAULT`.
pub fn alter_default(table: &str, column: &str, default: Option<&str>) -> String {
    match default {
        Some(d) => {
            let def = ColumnDef::new(a(column)).default(Expr::cust(d.to_string())).to_owned();
            DbBackend::Postgres.build(SqTable::alter().table(a(table)).modify_column(def)).sql
        }
        None => format!("ALTER TABLE {} ALTER COLUMN {} DROP DEFAULT", quote_ident(table), quote_ident(column)),
    }
}

/// `UPDATE t SET c = <default> WHERE c IS NULL`, before a column with a default becomes NOT NULL.
pub fn fill_nulls(table: &str, column: &str, default: &str) -> String {
    let (t, c) = (quote_ident(table), quote_ident(column));
    format!("UPDATE {t} SET {c} = {default} WHERE {c} IS NULL")
}

/// What a SQLite rebuild of a system table keeps from the live table: the columns, foreign
/// keys and indexes the system migrations made.
#[derive(Debug, Clone, Default)]
pub struct SystemLive {
    pub columns: Vec<LiveColumn>,
    pub foreign_keys: Vec<LiveForeignKey>,
    pub indexes: Vec<LiveIndex>,
}

/// SQLite: the standard table rebuild (create the new shape under a temporary name, copy the
/// rows, drop the old table, rename, recreate the indexes). Must run on a connection with
/// `foreign_keys = OFF`, otherwise dropping the old table fires ON DELETE actions in child
/// tables. For a system table, the live columns not managed by the diff are kept as they are.
pub fn sqlite_rebuild(old: &Table, new: &Table, system: Option<&SystemLive>) -> anyhow::Result<Vec<String>> {
    let backend = DbBackend::Sqlite;
    let tmp = format!("{}__ferrobase_rebuild", new.name);
    let mut create = SqTable::create();
    create.table(a(&tmp));
    // (column, SELECT expression) pairs copied from the old table.
    let mut copied: Vec<(String, String)> = Vec::new();
    let mut keep_indexes = Vec::new();
    if let Some(live) = system {
        // System columns first, in their live order and with their live definition.
        for lc in live.columns.iter().filter(|lc| old.column(&lc.name).is_none()) {
            let mut def = ColumnDef::new_with_type(a(&lc.name), ColumnType::custom(a(&lc.ty)));
            if lc.not_null {
                def.not_null();
            }
            if let Some(d) = &lc.default {
                def.default(Expr::cust(d.clone()));
            }
            if lc.primary_key {
                def.primary_key();
            }
            create.col(def);
            copied.push((lc.name.clone(), quote_ident(&lc.name)));
        }
        for fk in live.foreign_keys.iter().filter(|fk| old.column(&fk.column).is_none()) {
            let Some(on_delete) = action_sql(&fk.on_delete) else {
                anyhow::bail!("cannot rebuild {}: unknown ON DELETE action {}", new.name, fk.on_delete);
            };
            create.foreign_key(
                ForeignKey::create()
                    .from(a(&tmp), a(&fk.column))
                    .to(a(&fk.ref_table), a(&fk.ref_column))
                    .on_delete(on_delete),
            );
        }
        // Indexes of the system migrations (automatic ones come back with their columns).
        let managed = |name: &str| old.indexes.iter().chain(&new.indexes).any(|i| i.name == name);
        keep_indexes.extend(live.indexes.iter().filter(|i| !managed(&i.name)).filter_map(|i| i.sql.clone()));
    }
    for c in &new.columns {
        create.col(column_def(c, backend));
    }
    for c in &new.columns {
        if let Some(r) = &c.references {
            create.foreign_key(
                ForeignKey::create()
                    .name(fk_name(&new.name, &c.name))
                    .from(a(&tmp), a(&c.name))
                    .to(a(&r.table), a(&r.column))
                    .on_delete(action(r.on_delete)),
            );
        }
    }
    for c in &new.columns {
        let Some(oc) = old.column(&c.name) else { continue };
        let col = quote_ident(&c.name);
        // A column that becomes NOT NULL with a default: rows without a value get the default.
        let expr = match (&c.default, oc.nullable && !c.nullable) {
            (Some(d), true) => format!("COALESCE({col}, {d})"),
            _ => col,
        };
        copied.push((c.name.clone(), expr));
    }
    let mut out = vec![backend.build(&create).sql];
    if !copied.is_empty() {
        let cols: Vec<String> = copied.iter().map(|(n, _)| quote_ident(n)).collect();
        let exprs: Vec<&str> = copied.iter().map(|(_, e)| e.as_str()).collect();
        out.push(format!(
            "INSERT INTO {} ({}) SELECT {} FROM {}",
            quote_ident(&tmp),
            cols.join(", "),
            exprs.join(", "),
            quote_ident(&new.name)
        ));
    }
    out.push(drop_table(&new.name, backend));
    out.push(backend.build(SqTable::rename().table(a(&tmp), a(&new.name))).sql);
    out.extend(keep_indexes);
    out.extend(new.indexes.iter().map(|i| build_create_index(&new.name, i, backend)));
    Ok(out)
}
