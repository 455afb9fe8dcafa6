//! The `filter` argument → one SQL predicate. The same compiler will serve `@auth` row rules,
//! so a rule and a filter can never disagree about what a condition means.
//!
//! Semantics: operators follow SQL (`ne: "x"` does not match NULL); `not` is the exact
//! complement of its filter (NULL-safe), and `every` means "no related row fails the filter".

use super::values::{bind, bind_scalar};
use super::{ColumnSpec, SqlCtx, col, column_for};
use crate::error::{ApiError, ApiResult};
use crate::model::{FieldKind, Model, ScalarType};
use async_graphql::Value as GqlValue;
use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait, Func, Query, QueryStatementBuilder, SelectStatement};
use serde_json::Value as Json;

/// Compiles `filter` for rows of `model` under table alias `alias`.
pub fn filter_condition(cx: &SqlCtx, model: &Model, alias: &str, filter: &GqlValue) -> ApiResult<Condition> {
    let obj = match filter {
        GqlValue::Null => return Ok(Condition::all()),
        GqlValue::Object(o) => o,
        _ => return Err(ApiError::bad_input(format!("{}Filter must be an object", model.name))),
    };
    let mut cond = Condition::all();
    for (key, value) in obj {
        let key = key.as_str();
        if value == &GqlValue::Null {
            // `{title: null}`, `{not: null}`: no condition.
            continue;
        }
        match key {
            "and" | "or" => {
                let items = as_list(value);
                if items.is_empty() {
                    cond = cond.add(if key == "and" { always(true) } else { always(false) });
                    continue;
                }
                let mut group = if key == "and" { Condition::all() } else { Condition::any() };
                for item in items {
                    group = group.add(filter_condition(cx, model, alias, item)?);
                }
                cond = cond.add(group);
            }
            "not" => cond = cond.add(complement(filter_condition(cx, model, alias, value)?)),
            _ => cond = cond.add(field_condition(cx, model, alias, key, value)?),
        }
    }
    Ok(cond)
}

fn field_condition(cx: &SqlCtx, model: &Model, alias: &str, key: &str, value: &GqlValue) -> ApiResult<Condition> {
    let cond = match column_for(model, key) {
        Some(spec) => column_condition(cx, &spec, alias, value)?,
        None => {
            let field = model
                .field(key)
                .ok_or_else(|| ApiError::bad_input(format!("{}Filter has no field {key}", model.name)))?;
            relation_condition(cx, alias, key, field, value)?
        }
    };
    // A field the caller may not read cannot be probed by filtering on it either.
    Ok(match super::access::field_read_condition(cx, model, key, alias)? {
        Some(guard) => cond.add(guard),
        None => cond,
    })
}

/// A filter on a relation field: the related rows must match (`some`/`none`/`every` for
/// hasMany), and only related rows the caller may read count.
fn relation_condition(
    cx: &SqlCtx,
    alias: &str,
    key: &str,
    field: &crate::model::Field,
    value: &GqlValue,
) -> ApiResult<Condition> {
    match &field.kind {
        FieldKind::BelongsTo(b) => {
            // The parent row must match: fk IN (SELECT id FROM parent WHERE ...).
            let target = cx.model(&b.target);
            let sub = subquery(cx, target, value, None)?;
            Ok(Condition::all().add(col(alias, &b.column).in_subquery(sub)))
        }
        FieldKind::HasMany(h) => {
            let target = cx.model(&h.target);
            let via = target.belongs_to_column(&h.via)?;
            let GqlValue::Object(ops) = value else {
                return Ok(Condition::all());
            };
            let mut cond = Condition::all();
            for (op, sub_filter) in ops {
                let link = Some((h.via.as_str(), via, alias));
                cond = cond.add(match op.as_str() {
                    "some" => Expr::exists(subquery(cx, target, sub_filter, link)?),
                    "none" => Expr::not_exists(subquery(cx, target, sub_filter, link)?),
                    "every" => {
                        let a = cx.alias();
                        let inner = complement(filter_condition(cx, target, &a, sub_filter)?);
                        let mut q = Query::select();
                        q.expr(Expr::val(1))
                            .from_as(Alias::new(&target.table), Alias::new(&a))
                            .and_where(col(&a, via).equals((Alias::new(alias), Alias::new("id"))))
                            .cond_where(inner)
                            .cond_where(super::access::readable(cx, target, &a)?);
                        if let Some(guard) = super::access::field_read_condition(cx, target, &h.via, &a)? {
                            q.cond_where(guard);
                        }
                        Expr::not_exists(q)
                    }
                    other => {
                        return Err(ApiError::bad_input(format!("{}ListFilter has no operator {other}", target.name)));
                    }
                });
            }
            Ok(cond)
        }
        FieldKind::Scalar(_) => Err(ApiError::bad_input(format!("{key} cannot be filtered"))),
    }
}

/// `SELECT id FROM target WHERE filter`, or, with `link = (via, fk, parent_alias)` (a hasMany
/// through belongsTo `via`), `SELECT 1 FROM target WHERE target.fk = parent.id AND filter`
/// over the children whose link the caller may read.
fn subquery(
    cx: &SqlCtx,
    target: &Model,
    filter: &GqlValue,
    link: Option<(&str, &str, &str)>,
) -> ApiResult<SelectStatement> {
    let a = cx.alias();
    let mut q = Query::select();
    q.from_as(Alias::new(&target.table), Alias::new(&a));
    match link {
        Some((via, fk, parent)) => {
            q.expr(Expr::val(1)).and_where(col(&a, fk).equals((Alias::new(parent), Alias::new("id"))));
            if let Some(guard) = super::access::field_read_condition(cx, target, via, &a)? {
                q.cond_where(guard);
            }
        }
        None => {
            q.expr(col(&a, "id"));
        }
    }
    q.cond_where(filter_condition(cx, target, &a, filter)?);
    q.cond_where(super::access::readable(cx, target, &a)?);
    Ok(q)
}

/// Compiles one `<Type>Filter` object on a column.
fn column_condition(cx: &SqlCtx, spec: &ColumnSpec, alias: &str, ops: &GqlValue) -> ApiResult<Condition> {
    let GqlValue::Object(ops) = ops else {
        return Err(ApiError::invalid_field(&spec.key, format!("{}: expected a filter object", spec.key)));
    };
    if spec.list || spec.ty == ScalarType::Json {
        return Err(ApiError::invalid_field(&spec.key, format!("{} cannot be filtered", spec.key)));
    }
    let mut cond = Condition::all();
    for (op, v) in ops {
        cond = cond.add(operator(cx, spec, alias, op.as_str(), v)?);
    }
    Ok(cond)
}

fn operator(cx: &SqlCtx, spec: &ColumnSpec, alias: &str, op: &str, v: &GqlValue) -> ApiResult<Expr> {
    let c = col(alias, &spec.column);
    let mut json = v.clone().into_json().map_err(ApiError::internal)?;
    if cx.in_rule() {
        match resolve_placeholders(cx, &json)? {
            Resolved::Literal(v) => json = v,
            Resolved::Missing => return Ok(always(false)),
            Resolved::UserColumn(column) => return user_column_compare(cx, c, op, &column),
        }
    }
    let one = |j: &serde_json::Value| bind_scalar(spec, j, cx.backend);
    let is_text = matches!(spec.ty, ScalarType::String | ScalarType::Id);
    if Json::is_null(&json) && !matches!(op, "eq" | "ne") {
        // A null operand sets no condition (as an absent one); only eq/ne give null a meaning.
        return Ok(always(true));
    }
    Ok(match op {
        "eq" if Json::is_null(&json) => c.is_null(),
        "ne" if Json::is_null(&json) => c.is_not_null(),
        "eq" => c.eq(bind(spec, &json, cx.backend)?),
        "ne" => c.ne(bind(spec, &json, cx.backend)?),
        "lt" | "lte" | "gt" | "gte" if spec.ty != ScalarType::Boolean => {
            let b = one(&json)?;
            match op {
                "lt" => c.lt(b),
                "lte" => c.lte(b),
                "gt" => c.gt(b),
                _ => c.gte(b),
            }
        }
        "in" | "notIn" => {
            let items: Vec<serde_json::Value> = match json {
                serde_json::Value::Array(a) => a,
                serde_json::Value::Null => return Ok(always(true)),
                other => vec![other],
            };
            if items.is_empty() {
                return Ok(always(op == "notIn"));
            }
            let bound = items.iter().map(one).collect::<ApiResult<Vec<_>>>()?;
            if op == "in" { c.is_in(bound) } else { c.is_not_in(bound) }
        }
        "isNull" => match json.as_bool() {
            Some(true) => c.is_null(),
            Some(false) => c.is_not_null(),
            None => return Ok(always(true)),
        },
        "contains" | "startsWith" | "endsWith" if is_text && spec.ty == ScalarType::String => {
            let Some(s) = json.as_str() else {
                return Ok(always(true));
            };
            if s.is_empty() {
                return Ok(c.is_not_null());
            }
            text_match(cx, c, op, s)
        }
        _ => {
            return Err(ApiError::invalid_field(
                &spec.key,
                format!("{}: operator {op} does not apply to this field", spec.key),
            ));
        }
    })
}

/// A rule operand after placeholder substitution.
enum Resolved {
    Literal(Json),
    /// A placeholder with no value for this caller. Rules naming one do not apply (see
    /// [`needs_missing_value`]), so this is only a fail-closed fallback: the comparison is false.
    Missing,
    /// `$user.<field>`: compared with the caller's own row in `users`.
    UserColumn(String),
}

/// `"$user.id"`, `"$claims.<name>"` → the caller's values; `"$user.<field>"` → a column of the
/// caller's `users` row. Lists substitute item by item (a list with a missing item is missing).
fn resolve_placeholders(cx: &SqlCtx, v: &Json) -> ApiResult<Resolved> {
    let user = cx.caller.and_then(|c| c.user());
    Ok(match v {
        Json::String(s) if s == "$user.id" => match user {
            Some(u) => Resolved::Literal(Json::String(u.id.clone())),
            None => Resolved::Missing,
        },
        Json::String(s) if s.starts_with("$claims.") => {
            match user.and_then(|u| u.claims.get(&s["$claims.".len()..])).filter(|v| !v.is_null()) {
                Some(v) => Resolved::Literal(v.clone()),
                None => Resolved::Missing,
            }
        }
        Json::String(s) if s.starts_with("$user.") => {
            let users = cx.model("User");
            let field = &s["$user.".len()..];
            match super::column_for(users, field) {
                Some(spec) if user.is_some() => Resolved::UserColumn(spec.column),
                Some(_) => Resolved::Missing,
                None => return Err(ApiError::internal(format!("rule placeholder {s} names no User field"))),
            }
        }
        Json::Array(items) => {
            let mut out = Vec::new();
            for item in items {
                match resolve_placeholders(cx, item)? {
                    Resolved::Literal(v) => out.push(v),
                    Resolved::Missing => return Ok(Resolved::Missing),
                    Resolved::UserColumn(_) => {
                        return Err(ApiError::internal("`$user.<field>` is not supported inside a list"));
                    }
                }
            }
            Resolved::Literal(Json::Array(out))
        }
        other => Resolved::Literal(other.clone()),
    })
}

/// Whether a rule's `where:` names a placeholder the caller has no value for (`$claims.<name>`
/// the token lacks, any `$user.*` for an anonymous caller): such a rule does not apply to the
/// caller at all, wherever the placeholder sits (under `not` too), so a missing value can
/// never widen access.
pub fn needs_missing_value(cx: &SqlCtx, condition: &GqlValue) -> bool {
    match condition {
        GqlValue::Object(o) => o.values().any(|v| needs_missing_value(cx, v)),
        GqlValue::List(items) => items.iter().any(|v| needs_missing_value(cx, v)),
        GqlValue::String(s) if s.starts_with("$user.") || s.starts_with("$claims.") => {
            matches!(resolve_placeholders(cx, &Json::String(s.clone())), Ok(Resolved::Missing))
        }
        _ => false,
    }
}

/// For a rule's `where:` naming `$user.<field>` placeholders: the condition that the caller's
/// values are all present (not NULL) in their `users` row, ANDed to the rule so that an empty
/// profile field, like a missing claim, makes the rule not apply (under `not` too).
pub fn profile_values_present(cx: &SqlCtx, condition: &GqlValue) -> Option<Expr> {
    fn collect(v: &GqlValue, out: &mut Vec<String>) {
        match v {
            GqlValue::Object(o) => o.values().for_each(|v| collect(v, out)),
            GqlValue::List(items) => items.iter().for_each(|v| collect(v, out)),
            GqlValue::String(s) if s.starts_with("$user.") && s != "$user.id" => out.push(s["$user.".len()..].into()),
            _ => {}
        }
    }
    let mut fields = Vec::new();
    collect(condition, &mut fields);
    let users = cx.model("User");
    let columns: Vec<String> = fields.iter().filter_map(|f| super::column_for(users, f)).map(|c| c.column).collect();
    if columns.is_empty() {
        return None;
    }
    let me = cx.caller.and_then(|c| c.user()).map(|u| u.id.clone()).unwrap_or_default();
    let mut q = Query::select();
    q.expr(Expr::val(1)).from(Alias::new("users")).and_where(Expr::col(Alias::new("id")).eq(me));
    for c in columns {
        q.and_where(Expr::col(Alias::new(c)).is_not_null());
    }
    Some(Expr::exists(q))
}

/// `column <op> (SELECT <user column> FROM users WHERE id = <caller>)`.
fn user_column_compare(cx: &SqlCtx, c: Expr, op: &str, column: &str) -> ApiResult<Expr> {
    let me = cx.caller.and_then(|c| c.user()).map(|u| u.id.clone()).unwrap_or_default();
    let mut q = Query::select();
    q.column(Alias::new(column)).from(Alias::new("users")).and_where(Expr::col(Alias::new("id")).eq(me));
    let sub = Expr::SubQuery(None, Box::new(q.into_sub_query_statement()));
    Ok(match op {
        "eq" => c.eq(sub),
        "ne" => c.ne(sub),
        "lt" => c.lt(sub),
        "lte" => c.lte(sub),
        "gt" => c.gt(sub),
        "gte" => c.gte(sub),
        _ => return Err(ApiError::internal(format!("`$user.<field>` does not work with {op}"))),
    })
}

/// Case-sensitive substring tests, the same on both databases (SQLite's LIKE is not).
fn text_match(cx: &SqlCtx, c: Expr, op: &str, s: &str) -> Expr {
    let v = || Expr::val(s.to_string());
    let len = || Expr::from(Func::cust("length").arg(v()));
    let pg = cx.backend == sea_orm::DatabaseBackend::Postgres;
    match (op, pg) {
        ("contains", true) => Expr::from(Func::cust("strpos").arg(c).arg(v())).gt(0),
        ("contains", false) => Expr::from(Func::cust("instr").arg(c).arg(v())).gt(0),
        ("startsWith", true) => Func::cust("starts_with").arg(c).arg(v()).into(),
        ("startsWith", false) => Expr::from(Func::cust("substr").arg(c).arg(1).arg(len())).eq(v()),
        ("endsWith", true) => Expr::from(Func::cust("right").arg(c).arg(len())).eq(v()),
        _ => Expr::from(Func::cust("substr").arg(c).arg(Expr::val(0).sub(len()))).eq(v()),
    }
}

/// `NOT COALESCE(cond, FALSE)`: the rows `cond` does not match, NULLs included.
fn complement(cond: Condition) -> Condition {
    if cond.is_empty() {
        return Condition::all().add(always(false));
    }
    Condition::all().add(Expr::from(Func::coalesce([Expr::from(cond), Expr::cust("FALSE")])).not())
}

fn always(b: bool) -> Expr {
    Expr::cust(if b { "1 = 1" } else { "1 = 0" })
}

/// GraphQL input coercion: a single value stands for a one-item list.
pub fn as_list(v: &GqlValue) -> Vec<&GqlValue> {
    match v {
        GqlValue::List(items) => items.iter().collect(),
        GqlValue::Null => vec![],
        other => vec![other],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::parse_sources;
    use sea_orm::DatabaseBackend;

    fn sql(backend: DatabaseBackend, filter: &str) -> String {
        let ir = parse_sources(&[(
            "t.graphql".into(),
            "type Post @model @auth(rules: [{allow: public}]) { title: String }".into(),
        )])
        .expect("valid schema");
        let cx = SqlCtx::new(&ir, backend);
        let v: GqlValue = GqlValue::from_json(serde_json::from_str(filter).unwrap()).unwrap();
        let cond = filter_condition(&cx, ir.model("Post").unwrap(), "p", &v).unwrap();
        let mut q = Query::select();
        q.expr(Expr::val(1)).from_as(Alias::new("posts"), Alias::new("p")).cond_where(cond);
        let (s, values) = match backend {
            DatabaseBackend::Postgres => q.build(sea_orm::sea_query::PostgresQueryBuilder),
            _ => q.build(sea_orm::sea_query::SqliteQueryBuilder),
        };
        format!("{s} {values:?}")
    }

    #[test]
    fn text_operators_bind_their_values() {
        for b in [DatabaseBackend::Sqlite, DatabaseBackend::Postgres] {
            let s = sql(
                b,
                r#"{"title": {"contains": "pha", "startsWith": "a", "endsWith": "z"}, "not": {"title": {"eq": "x"}}}"#,
            );
            assert!(!s.contains("pha'"), "values are bound: {s}");
            let sql_text = s.split(" Values(").next().unwrap();
            assert!(!sql_text.contains("pha") && !sql_text.contains("'"), "no literal values in SQL: {s}");
            assert!(s.contains("NOT COALESCE("), "{s}");
        }
    }
}
