//! create / update / delete of one row, with input validated against the declared rules first.

use super::errors::{WriteOp, write_error};
use super::values::{bind, datetime, now};
use super::{ColumnSpec, SqlCtx, col, columns};
use crate::error::{ApiError, ApiResult};
use crate::model::{FieldKind, Model, ScalarType};
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait, Query, SimpleExpr};
use serde_json::{Map, Value as Json};

/// Checks an input object against the model: known writable fields, no NULL where the field
/// is required, `@length` and `@range`. `create` also requires every required field without a
/// default.
pub fn validate(model: &Model, input: &Map<String, Json>, create: bool) -> ApiResult<()> {
    let cols = columns(model);
    for (key, v) in input {
        let spec = cols
            .iter()
            .find(|c| &c.key == key)
            .ok_or_else(|| ApiError::invalid_field(key, format!("{} has no writable field {key}", model.name)))?;
        if is_managed(model, key) {
            return Err(ApiError::invalid_field(key, format!("{key} is set by the server")));
        }
        if v.is_null() {
            if !(spec.nullable || create && has_default(model, key)) {
                return Err(ApiError::invalid_field(key, format!("{key} cannot be null")));
            }
            continue;
        }
        check_rules(model, spec, v)?;
    }
    if create {
        for c in cols.iter().filter(|c| !c.nullable && !is_managed(model, &c.key) && !has_default(model, &c.key)) {
            if input.get(&c.key).is_none_or(Json::is_null) {
                return Err(ApiError::invalid_field(&c.key, format!("{} is required", c.key)));
            }
        }
    }
    Ok(())
}

fn is_managed(model: &Model, key: &str) -> bool {
    matches!(model.field(key).map(|f| &f.kind), Some(FieldKind::Scalar(s)) if s.managed.is_some())
}

fn has_default(model: &Model, key: &str) -> bool {
    matches!(model.field(key).map(|f| &f.kind), Some(FieldKind::Scalar(s)) if s.default.is_some())
}

/// `@length` (characters of a string, items of a list) and `@range`.
fn check_rules(model: &Model, spec: &ColumnSpec, v: &Json) -> ApiResult<()> {
    let Some(FieldKind::Scalar(s)) = model.field(&spec.key).map(|f| &f.kind) else {
        return Ok(());
    };
    let key = &spec.key;
    if let Some(b) = s.length {
        let (len, unit) = match v {
            Json::String(t) => (t.chars().count() as f64, "character"),
            Json::Array(a) => (a.len() as f64, "item"),
            _ => (0.0, ""),
        };
        if !unit.is_empty() {
            if let Some(min) = b.min.filter(|m| len < *m) {
                let s = if min == 1.0 { "" } else { "s" };
                return Err(ApiError::invalid_field(
                    key,
                    format!("{key} must have at least {min} {unit}{s} (@length)"),
                ));
            }
            if let Some(max) = b.max.filter(|m| len > *m) {
                let s = if max == 1.0 { "" } else { "s" };
                return Err(ApiError::invalid_field(key, format!("{key} must have at most {max} {unit}{s} (@length)")));
            }
        }
    }
    if let (Some(b), Some(n)) = (s.range, v.as_f64()) {
        if let Some(min) = b.min.filter(|m| n < *m) {
            return Err(ApiError::invalid_field(key, format!("{key} must be at least {min} (@range)")));
        }
        if let Some(max) = b.max.filter(|m| n > *m) {
            return Err(ApiError::invalid_field(key, format!("{key} must be at most {max} (@range)")));
        }
    }
    if s.ty == ScalarType::DateTime && !s.list && v.as_str().and_then(super::values::parse_datetime).is_none() {
        return Err(ApiError::invalid_field(
            key,
            format!("{key} must be an RFC 3339 DateTime such as 2026-01-31T12:00:00Z"),
        ));
    }
    Ok(())
}

/// Values to write for the input's fields (absent fields are left out, so column defaults
/// apply on create and values stay on update).
fn assignments(
    cx: &SqlCtx,
    model: &Model,
    input: &Map<String, Json>,
    create: bool,
) -> ApiResult<Vec<(String, SimpleExpr)>> {
    let mut out = Vec::new();
    for spec in columns(model) {
        let Some(v) = input.get(&spec.key) else { continue };
        if v.is_null() && create && has_default(model, &spec.key) {
            continue;
        }
        out.push((spec.column.clone(), bind(&spec, v, cx.backend)?.into()));
    }
    Ok(out)
}

/// Inserts a row; returns its new id.
pub async fn insert<C: ConnectionTrait>(
    conn: &C,
    cx: &SqlCtx<'_>,
    model: &Model,
    input: &Map<String, Json>,
) -> ApiResult<String> {
    validate(model, input, true)?;
    let id = uuid::Uuid::now_v7().to_string();
    let ts = datetime(now(), cx.backend);
    let mut cols = vec![Alias::new("id"), Alias::new("created_at"), Alias::new("updated_at")];
    let mut vals: Vec<SimpleExpr> = vec![id.clone().into(), ts.clone().into(), ts.into()];
    for (c, v) in assignments(cx, model, input, true)? {
        cols.push(Alias::new(c));
        vals.push(v);
    }
    let mut q = Query::insert();
    q.into_table(Alias::new(&model.table)).columns(cols);
    q.values(vals).map_err(ApiError::internal)?;
    conn.execute(&q).await.map_err(|e| write_error(cx, model, e, WriteOp::Write))?;
    Ok(id)
}

/// Updates the fields present in `input` of the row `id` if it also matches `guard` (rules,
/// with the table name as alias); `false` when no such row.
pub async fn update<C: ConnectionTrait>(
    conn: &C,
    cx: &SqlCtx<'_>,
    model: &Model,
    id: &str,
    input: &Map<String, Json>,
    guard: Condition,
) -> ApiResult<bool> {
    validate(model, input, false)?;
    let mut q = Query::update();
    q.table(Alias::new(&model.table));
    for (c, v) in assignments(cx, model, input, false)? {
        q.value(Alias::new(c), v);
    }
    q.value(Alias::new("updated_at"), datetime(now(), cx.backend));
    q.and_where(col(&model.table, "id").eq(id.to_string()));
    q.cond_where(guard);
    let res = conn.execute(&q).await.map_err(|e| write_error(cx, model, e, WriteOp::Write))?;
    Ok(res.rows_affected() > 0)
}

/// Whether the row `id` matches `pred` (built with the table's name as its alias, as for
/// [`update`] and [`delete`]): the check of a row as written.
pub async fn satisfies<C: ConnectionTrait>(conn: &C, model: &Model, id: &str, pred: Condition) -> ApiResult<bool> {
    let mut q = Query::select();
    q.expr(Expr::val(1))
        .from(Alias::new(&model.table))
        .and_where(col(&model.table, "id").eq(id.to_string()))
        .cond_where(pred);
    Ok(conn.query_one(&q).await?.is_some())
}

/// Deletes the row `id` if it matches `guard` (table name as alias); `false` when no such row.
pub async fn delete<C: ConnectionTrait>(
    conn: &C,
    cx: &SqlCtx<'_>,
    model: &Model,
    id: &str,
    guard: Condition,
) -> ApiResult<bool> {
    let mut q = Query::delete();
    q.from_table(Alias::new(&model.table)).and_where(col(&model.table, "id").eq(id.to_string())).cond_where(guard);
    let res = conn.execute(&q).await.map_err(|e| write_error(cx, model, e, WriteOp::Delete))?;
    Ok(res.rows_affected() > 0)
}
