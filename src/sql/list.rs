//! List arguments (`filter`, `orderBy`, `first`/`after`, `last`/`before`) → statements.

use super::access::{Access, readable};
use super::cursor::{self, OrderKey};
use super::filter::{as_list, filter_condition};
use super::{ColumnSpec, Connection, Edge, Row, SqlCtx, col, column_for};
use crate::error::{ApiError, ApiResult};
use crate::model::{Model, ScalarType};
use async_graphql::{Name, Value as GqlValue};
use sea_orm::sea_query::{Alias, Asterisk, Condition, Expr, ExprTrait, Func, Query, SelectStatement, WindowStatement};
use serde_json::Value as Json;

/// Page-size limits from configuration.
#[derive(Debug, Clone, Copy)]
pub struct PageLimits {
    pub default: u32,
    pub max: u32,
}

/// Parsed list arguments.
#[derive(Debug, Clone)]
pub struct ListArgs {
    pub filter: GqlValue,
    /// Ordering, always ending with `id`.
    pub order: Vec<OrderKey>,
    /// Rows wanted on the page.
    pub limit: u64,
    /// Paging backward (`last`/`before`).
    pub backward: bool,
    /// Key values of the `after`/`before` cursor.
    pub cursor: Option<Vec<Json>>,
}

impl ListArgs {
    pub fn parse(model: &Model, args: &[(Name, GqlValue)], limits: PageLimits) -> ApiResult<ListArgs> {
        let arg =
            |n: &str| args.iter().find(|(k, _)| k.as_str() == n).map(|(_, v)| v).filter(|v| **v != GqlValue::Null);
        let count = |n: &str| -> ApiResult<Option<u64>> {
            let Some(v) = arg(n) else { return Ok(None) };
            let GqlValue::Number(num) = v else {
                return Err(ApiError::invalid_field(n, format!("{n} must be an Int")));
            };
            let k = num.as_i64().ok_or_else(|| ApiError::invalid_field(n, format!("{n} must be an Int")))?;
            if k < 0 {
                return Err(ApiError::invalid_field(n, format!("{n} must not be negative")));
            }
            if k > i64::from(limits.max) {
                return Err(ApiError::invalid_field(
                    n,
                    format!("{n} must be at most {} (the maximum page size)", limits.max),
                ));
            }
            Ok(Some(k as u64))
        };
        let text = |n: &str| -> ApiResult<Option<String>> {
            match arg(n) {
                None => Ok(None),
                Some(GqlValue::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(ApiError::invalid_field(n, format!("{n} must be a cursor string"))),
            }
        };
        let (first, last) = (count("first")?, count("last")?);
        let (after, before) = (text("after")?, text("before")?);
        if (first.is_some() || after.is_some()) && (last.is_some() || before.is_some()) {
            return Err(ApiError::bad_input(
                "page forward with first/after or backward with last/before, not both at once",
            ));
        }
        let backward = last.is_some() || before.is_some();
        let order = order_keys(model, arg("orderBy"))?;
        let cursor = match after.or(before) {
            Some(c) => Some(cursor::decode(&order, &c)?),
            None => None,
        };
        Ok(ListArgs {
            filter: arg("filter").cloned().unwrap_or(GqlValue::Null),
            order,
            limit: first.or(last).unwrap_or(u64::from(limits.default)),
            backward,
            cursor,
        })
    }

    /// `WHERE` of the page: the filter, then the cursor bound.
    fn condition(&self, cx: &SqlCtx, model: &Model, alias: &str) -> ApiResult<Condition> {
        let mut cond = filter_condition(cx, model, alias, &self.filter)?;
        if let Some(values) = &self.cursor {
            cond = cond.add(cursor::after(cx, &self.order, alias, values, self.backward)?);
        }
        Ok(cond)
    }

    /// Turns fetched rows (up to `limit + 1`, in query order) into a page.
    pub fn assemble(&self, mut rows: Vec<Row>) -> Connection {
        let more = rows.len() as u64 > self.limit;
        rows.truncate(self.limit as usize);
        if self.backward {
            rows.reverse();
        }
        let sig = cursor::signature(&self.order);
        Connection {
            edges: rows.into_iter().map(|row| Edge { cursor: cursor::encode(&sig, &self.order, &row), row }).collect(),
            has_next_page: if self.backward { self.cursor.is_some() } else { more },
            has_previous_page: if self.backward { more } else { self.cursor.is_some() },
            total_count: None,
        }
    }
}

/// `orderBy: [{views: DESC}, {title: ASC}]` → keys, ending with `id`.
fn order_keys(model: &Model, order_by: Option<&GqlValue>) -> ApiResult<Vec<OrderKey>> {
    let mut keys: Vec<OrderKey> = Vec::new();
    for item in order_by.map(as_list).unwrap_or_default() {
        let GqlValue::Object(obj) = item else {
            return Err(ApiError::invalid_field("orderBy", "orderBy items must be objects such as {createdAt: DESC}"));
        };
        for (field, dir) in obj {
            let desc = match dir {
                GqlValue::Enum(d) if d.as_str() == "DESC" => true,
                GqlValue::String(d) if d == "DESC" => true,
                GqlValue::Enum(d) if d.as_str() == "ASC" => false,
                GqlValue::String(d) if d == "ASC" => false,
                GqlValue::Null => continue,
                _ => return Err(ApiError::invalid_field("orderBy", "order direction must be ASC or DESC")),
            };
            let spec =
                column_for(model, field.as_str()).filter(|c| !c.list && c.ty != ScalarType::Json).ok_or_else(|| {
                    ApiError::invalid_field("orderBy", format!("{} cannot be ordered by {field}", model.name))
                })?;
            if !keys.iter().any(|k| k.spec.key == spec.key) {
                keys.push(OrderKey { spec, desc });
            }
        }
    }
    if !keys.iter().any(|k| k.spec.key == "id") {
        let spec = column_for(model, "id").expect("every model has id");
        keys.push(OrderKey { spec, desc: false });
    }
    Ok(keys)
}

/// `SELECT <cols> FROM table AS alias`. A guard column (see [`super::fetch::needed_columns`])
/// becomes `CASE WHEN <the field's read rules> THEN 1 ELSE 0 END`.
pub fn select_columns(cx: &SqlCtx, model: &Model, cols: &[ColumnSpec], alias: &str) -> ApiResult<SelectStatement> {
    let mut q = Query::select();
    q.from_as(Alias::new(&model.table), Alias::new(alias));
    for c in cols {
        let expr = match c.guarded_field() {
            None => col(alias, &c.column),
            Some(field) => match super::access::field_read_access(cx, model, field, alias)? {
                None | Some(Access::All) => Expr::cust("1"),
                Some(Access::Denied) => Expr::cust("0"),
                Some(Access::Rows(cond)) => Expr::case(cond, Expr::cust("1")).finally(Expr::cust("0")).into(),
            },
        };
        q.expr_as(expr, Alias::new(&c.column));
    }
    Ok(q)
}

/// A top-level page: `SELECT ... WHERE filter AND cursor AND readable ORDER BY keys LIMIT
/// n+1`, the table under alias `a` and `readable` the caller's read predicate built for it.
pub fn page_query(
    cx: &SqlCtx,
    model: &Model,
    cols: &[ColumnSpec],
    args: &ListArgs,
    (a, readable): (&str, Condition),
) -> ApiResult<SelectStatement> {
    let mut q = select_columns(cx, model, cols, a)?;
    q.cond_where(args.condition(cx, model, a)?);
    q.cond_where(readable);
    for k in &args.order {
        match k.sql_order(args.backward) {
            (order, Some(nulls)) => q.order_by_expr_with_nulls(col(a, &k.spec.column), order, nulls),
            (order, None) => q.order_by_expr(col(a, &k.spec.column), order),
        };
    }
    q.limit(args.limit + 1);
    Ok(q)
}

/// Pages of children for many parents in one statement: rows of `model` whose belongsTo `via`
/// (column `fk`) is in `parents` and readable to the caller, numbered per parent in list order,
/// at most `limit + 1` each. Result columns: `cols`, `__parent`, `__rn`.
pub fn grouped_page_query(
    cx: &SqlCtx,
    model: &Model,
    cols: &[ColumnSpec],
    (via, fk): (&str, &str),
    parents: &[String],
    args: &ListArgs,
) -> ApiResult<SelectStatement> {
    let a = cx.alias();
    let mut inner = select_columns(cx, model, cols, &a)?;
    inner.expr_as(col(&a, fk), Alias::new("__parent"));
    let mut window = WindowStatement::partition_by((Alias::new(&a), Alias::new(fk)));
    for k in &args.order {
        match k.sql_order(args.backward) {
            (order, Some(nulls)) => window.order_by_expr_with_nulls(col(&a, &k.spec.column), order, nulls),
            (order, None) => window.order_by_expr(col(&a, &k.spec.column), order),
        };
    }
    inner.expr_window_as(Expr::cust("ROW_NUMBER()"), window, Alias::new("__rn"));
    inner.and_where(col(&a, fk).is_in(parents.iter().cloned()));
    inner.cond_where(args.condition(cx, model, &a)?);
    inner.cond_where(readable(cx, model, &a)?);
    if let Some(link) = super::access::field_read_condition(cx, model, via, &a)? {
        inner.cond_where(link);
    }
    let mut outer = Query::select();
    outer
        .column(Asterisk)
        .from_subquery(inner, Alias::new("page"))
        .and_where(Expr::col((Alias::new("page"), Alias::new("__rn"))).lte(args.limit as i64 + 1))
        .order_by((Alias::new("page"), Alias::new("__parent")), sea_orm::sea_query::Order::Asc)
        .order_by((Alias::new("page"), Alias::new("__rn")), sea_orm::sea_query::Order::Asc);
    Ok(outer)
}

/// `SELECT COUNT(*) FROM table WHERE filter AND readable` (cursors do not narrow a total), as
/// [`page_query`].
pub fn count_query(
    cx: &SqlCtx,
    model: &Model,
    filter: &GqlValue,
    (a, readable): (&str, Condition),
) -> ApiResult<SelectStatement> {
    let mut q = Query::select();
    q.from_as(Alias::new(&model.table), Alias::new(a))
        .expr_as(Func::count(Expr::col(Asterisk)), Alias::new("__count"))
        .cond_where(filter_condition(cx, model, a, filter)?)
        .cond_where(readable);
    Ok(q)
}

/// Totals per parent: `SELECT fk AS __parent, COUNT(*) ... GROUP BY fk` (as in
/// [`grouped_page_query`]).
pub fn grouped_count_query(
    cx: &SqlCtx,
    model: &Model,
    (via, fk): (&str, &str),
    parents: &[String],
    filter: &GqlValue,
) -> ApiResult<SelectStatement> {
    let a = cx.alias();
    let mut q = Query::select();
    if let Some(link) = super::access::field_read_condition(cx, model, via, &a)? {
        q.cond_where(link);
    }
    q.from_as(Alias::new(&model.table), Alias::new(&a))
        .expr_as(col(&a, fk), Alias::new("__parent"))
        .expr_as(Func::count(Expr::col(Asterisk)), Alias::new("__count"))
        .and_where(col(&a, fk).is_in(parents.iter().cloned()))
        .cond_where(filter_condition(cx, model, &a, filter)?)
        .cond_where(readable(cx, model, &a)?)
        .group_by_col((Alias::new(&a), Alias::new(fk)));
    Ok(q)
}
