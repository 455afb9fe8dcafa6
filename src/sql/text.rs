//! SQL text of compiled statements: quoted identifiers, predicates rendered from the sea-query
//! conditions that `filter.rs` and `access.rs` build, and each database's JSON functions.
//!
//! Compiled statements return their answer as one JSON value. A row is a JSON array of its
//! values in a fixed order (see `shape.rs`), a page an array of rows: PostgreSQL builds them
//! with `json_build_array` / `json_agg`, SQLite with `json_array` / `json_group_array` (its
//! JSON values keep their JSON subtype through scalar subqueries, so levels nest without being
//! re-parsed; measured faster than its binary `jsonb_*` forms), and the answer is sent as text.

use super::{ColumnSpec, SqlCtx};
use crate::model::ScalarType;
use sea_orm::DbBackend;
use sea_orm::sea_query::{Condition, Expr, PostgresQueryBuilder, Query, SqliteQueryBuilder};

/// A quoted identifier.
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `"alias"."column"`.
pub fn column(alias: &str, column: &str) -> String {
    format!("{}.{}", ident(alias), ident(column))
}

/// A predicate as SQL; `None` when it is empty (no restriction).
pub fn condition(cx: &SqlCtx, cond: Condition) -> Option<String> {
    if cond.is_empty() {
        return None;
    }
    let mut q = Query::select();
    q.expr(Expr::cust("1")).cond_where(cond);
    let sql = render(cx.backend, &q);
    sql.split_once(" WHERE ").map(|(_, w)| w.to_string())
}

/// An expression as SQL.
pub fn expr(cx: &SqlCtx, e: Expr) -> String {
    let mut q = Query::select();
    q.expr(e);
    render(cx.backend, &q).trim_start_matches("SELECT ").to_string()
}

fn render(backend: DbBackend, q: &sea_orm::sea_query::SelectStatement) -> String {
    // Slot tokens carry every request value; the builders inline nothing else but the
    // server's own constants.
    match backend {
        DbBackend::Postgres => q.to_string(PostgresQueryBuilder),
        _ => q.to_string(SqliteQueryBuilder),
    }
}

/// `WHERE a AND b ...` of the non-empty predicates, or nothing.
pub fn where_clause(preds: impl IntoIterator<Item = Option<String>>) -> String {
    let preds: Vec<String> = preds.into_iter().flatten().map(|p| format!("({p})")).collect();
    if preds.is_empty() { String::new() } else { format!(" WHERE {}", preds.join(" AND ")) }
}

/// A JSON array of `items` (a row).
pub fn array(backend: DbBackend, items: &[String]) -> String {
    let f = if backend == DbBackend::Postgres { "json_build_array" } else { "json_array" };
    format!("{f}({})", items.join(", "))
}

/// The JSON array of `item` over the rows of a query, in `order` (`[]` for no rows).
pub fn aggregate(backend: DbBackend, item: &str, order: &str) -> String {
    if backend == DbBackend::Postgres {
        format!("coalesce(json_agg({item} ORDER BY {order}), '[]'::json)")
    } else {
        format!("json_group_array({item} ORDER BY {order})")
    }
}

/// The statement's answer as text.
pub fn as_text(backend: DbBackend, json: &str) -> String {
    if backend == DbBackend::Postgres { format!("({json})::text") } else { json.to_string() }
}

/// A JSON value as a text column of a root statement's rows.
pub fn json_text(backend: DbBackend, json: &str) -> String {
    if backend == DbBackend::Postgres { format!("({json})::text") } else { json.to_string() }
}

/// A stored column as a JSON value. PostgreSQL's JSON functions take every type as it is.
/// SQLite stores JSON and lists as text (parsed here so they nest as JSON), and its JSON
/// writes floats with 15 digits: they travel as text with 17 (exact), parsed when decoded.
pub fn value(backend: DbBackend, alias: &str, spec: &ColumnSpec) -> String {
    let c = column(alias, &spec.column);
    if backend == DbBackend::Postgres {
        return c;
    }
    if spec.list || spec.ty == ScalarType::Json {
        format!("json({c})")
    } else if spec.ty == ScalarType::Float {
        format!("iif({c} IS NULL, NULL, printf('%!.17g', {c}))")
    } else {
        c
    }
}

/// `col1 DESC NULLS LAST, col2 ASC` for order keys (`reverse` for backward pages) under
/// `alias`.
pub fn order_by(keys: &[super::cursor::OrderKey], alias: &str, reverse: bool) -> String {
    keys.iter()
        .map(|k| {
            let (order, nulls) = k.sql_order(reverse);
            let dir = if matches!(order, sea_orm::sea_query::Order::Desc) { "DESC" } else { "ASC" };
            let nulls = match nulls {
                Some(sea_orm::sea_query::NullOrdering::First) => " NULLS FIRST",
                Some(sea_orm::sea_query::NullOrdering::Last) => " NULLS LAST",
                None => "",
            };
            format!("{} {dir}{nulls}", column(alias, &k.spec.column))
        })
        .collect::<Vec<_>>()
        .join(", ")
}
