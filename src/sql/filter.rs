//! The `filter` argument → one SQL predicate. The same compiler serves `@auth` row rules
//! (`where:`), so a rule and a filter can never disagree about what a condition means.
//!
//! Semantics: operators follow SQL (`ne: "x"` does not match NULL); `not` is the exact
//! complement of its filter (NULL-safe), and `every` means "no related row fails the filter".

use super::input::Input;
use super::params::{Conv, Source};
use super::{ColumnSpec, SqlCtx, col, column_for};
use crate::error::{ApiError, ApiResult};
use crate::model::operators::{Operator, Quantifier, filter_input};
use crate::model::{FieldKind, Model, naming};
use async_graphql::Value as GqlValue;
use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait, Func, Query, QueryStatementBuilder, SelectStatement};
use serde_json::Value as Json;

/// Compiles `filter` for rows of `model` under table alias `alias`.
pub fn filter_condition(cx: &SqlCtx, model: &Model, alias: &str, filter: &Input) -> ApiResult<Condition> {
    if filter.is_null() {
        return Ok(Condition::all());
    }
    let Some(entries) = filter.entries() else {
        return Err(ApiError::bad_input(format!("{} must be an object", naming::filter_type(&model.name))));
    };
    let mut cond = Condition::all();
    for (key, value) in entries {
        let key = key.as_str();
        if value.is_null() {
            // `{title: null}`, `{not: null}`: no condition.
            continue;
        }
        match key {
            "and" | "or" => {
                let items = value.items();
                if items.is_empty() {
                    cond = cond.add(if key == "and" { always(true) } else { always(false) });
                    continue;
                }
                let mut group = if key == "and" { Condition::all() } else { Condition::any() };
                for item in &items {
                    group = group.add(filter_condition(cx, model, alias, item)?);
                }
                cond = cond.add(group);
            }
            "not" => cond = cond.add(complement(filter_condition(cx, model, alias, &value)?)),
            _ => cond = cond.add(field_condition(cx, model, alias, key, &value)?),
        }
    }
    Ok(cond)
}

/// A rule's `where:` (a constant of the schema) as a filter.
pub fn rule_condition(cx: &SqlCtx, model: &Model, alias: &str, condition: &GqlValue) -> ApiResult<Condition> {
    filter_condition(cx, model, alias, &Input::constant(condition, cx.inputs))
}

fn field_condition(cx: &SqlCtx, model: &Model, alias: &str, key: &str, value: &Input) -> ApiResult<Condition> {
    let cond = match column_for(model, key) {
        Some(spec) => column_condition(cx, &spec, alias, value)?,
        None => {
            let field = model.field(key).ok_or_else(|| {
                ApiError::bad_input(format!("{} has no field {key}", naming::filter_type(&model.name)))
            })?;
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
    value: &Input,
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
            let Some(ops) = value.entries() else {
                return Ok(Condition::all());
            };
            let mut cond = Condition::all();
            for (op, sub_filter) in ops {
                let link = Some((h.via.as_str(), via, alias));
                let Some(quantifier) = Quantifier::parse(op.as_str()) else {
                    return Err(ApiError::bad_input(format!(
                        "{} has no operator {op}",
                        naming::list_filter_type(&target.name)
                    )));
                };
                cond = cond.add(match quantifier {
                    Quantifier::Some => Expr::exists(subquery(cx, target, &sub_filter, link)?),
                    Quantifier::None => Expr::not_exists(subquery(cx, target, &sub_filter, link)?),
                    Quantifier::Every => {
                        let a = cx.alias();
                        let inner = complement(filter_condition(cx, target, &a, &sub_filter)?);
                        let mut q = Query::select();
                        q.expr(Expr::cust("1"))
                            .from_as(Alias::new(&target.table), Alias::new(&a))
                            .and_where(col(&a, via).equals((Alias::new(alias), Alias::new("id"))))
                            .cond_where(inner)
                            .cond_where(super::access::readable(cx, target, &a)?);
                        if let Some(guard) = super::access::field_read_condition(cx, target, &h.via, &a)? {
                            q.cond_where(guard);
                        }
                        Expr::not_exists(q)
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
    filter: &Input,
    link: Option<(&str, &str, &str)>,
) -> ApiResult<SelectStatement> {
    let a = cx.alias();
    let mut q = Query::select();
    q.from_as(Alias::new(&target.table), Alias::new(&a));
    match link {
        Some((via, fk, parent)) => {
            q.expr(Expr::cust("1")).and_where(col(&a, fk).equals((Alias::new(parent), Alias::new("id"))));
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
fn column_condition(cx: &SqlCtx, spec: &ColumnSpec, alias: &str, ops: &Input) -> ApiResult<Condition> {
    let Some(ops) = ops.entries() else {
        return Err(ApiError::invalid_field(&spec.key, format!("{}: expected a filter object", spec.key)));
    };
    if filter_input(&spec.ty, spec.list).is_none() {
        return Err(ApiError::invalid_field(&spec.key, format!("{} cannot be filtered", spec.key)));
    }
    let mut cond = Condition::all();
    for (op, v) in ops {
        cond = cond.add(operator(cx, spec, alias, op.as_str(), &v)?);
    }
    Ok(cond)
}

/// The operand of an operator: where its value comes from on each run.
enum Operand {
    /// One bound value.
    One(Source),
    /// A list of values, bound as one array parameter.
    List(Source),
    /// A list in a rule mixing constants and the caller's values: one parameter per item.
    Items(Vec<Source>),
}

fn operator(cx: &SqlCtx, spec: &ColumnSpec, alias: &str, name: &str, v: &Input) -> ApiResult<Expr> {
    let Some(op) = Operator::parse(name).filter(|op| op.applies_to(&spec.ty)) else {
        return Err(ApiError::invalid_field(
            &spec.key,
            format!("{}: operator {name} does not apply to this field", spec.key),
        ));
    };
    let c = col(alias, &spec.column);
    let operand = if cx.in_rule() {
        // A rule's operands are constants of the schema, with the caller's values for placeholders.
        let value = v.peek().unwrap_or(GqlValue::Null).into_json().map_err(ApiError::internal)?;
        match resolve_placeholders(cx, &value)? {
            Resolved::Missing => return Ok(always(false)),
            Resolved::UserColumn(column) => return user_column_compare(cx, c, op, &column),
            Resolved::Sources(sources) => sources,
        }
    } else if v.is_list() {
        Operand::List(v.source())
    } else {
        Operand::One(v.source())
    };
    if v.is_null() && !matches!(op, Operator::Eq | Operator::Ne) {
        // A null operand sets no condition (as an absent one); only eq/ne give null a meaning.
        return Ok(always(true));
    }
    let one = |operand: Operand| -> ApiResult<Expr> {
        match operand {
            Operand::One(src) => cx.bind(src, Conv::Scalar(spec.clone())),
            _ => Err(ApiError::invalid_field(
                &spec.key,
                format!("{}: {} takes one value, not a list", spec.key, op.name()),
            )),
        }
    };
    Ok(match op {
        Operator::Eq if v.is_null() => c.is_null(),
        Operator::Ne if v.is_null() => c.is_not_null(),
        Operator::Eq => c.eq(one(operand)?),
        Operator::Ne => c.ne(one(operand)?),
        Operator::Lt => c.lt(one(operand)?),
        Operator::Lte => c.lte(one(operand)?),
        Operator::Gt => c.gt(one(operand)?),
        Operator::Gte => c.gte(one(operand)?),
        Operator::In | Operator::NotIn => {
            if v.is_list() && v.items().is_empty() {
                return Ok(always(op == Operator::NotIn));
            }
            let inside = match operand {
                Operand::One(src) | Operand::List(src) => in_list(cx, c, src, spec)?,
                Operand::Items(items) => {
                    let bound = items
                        .into_iter()
                        .map(|s| cx.bind(s, Conv::Scalar(spec.clone())))
                        .collect::<ApiResult<Vec<_>>>()?;
                    c.is_in(bound)
                }
            };
            if op == Operator::In { inside } else { inside.not() }
        }
        Operator::IsNull => match v.peek() {
            Some(GqlValue::Boolean(true)) => c.is_null(),
            Some(GqlValue::Boolean(false)) => c.is_not_null(),
            _ => return Ok(always(true)),
        },
        Operator::Contains | Operator::StartsWith | Operator::EndsWith => text_match(cx, c, op, one(operand)?),
    })
}

/// `column IN <the list>`, the list bound as one parameter: `= ANY($1)` on PostgreSQL (an
/// array, planned once whatever its length), `IN (SELECT value FROM json_each(?))` on SQLite.
fn in_list(cx: &SqlCtx, c: Expr, src: Source, spec: &ColumnSpec) -> ApiResult<Expr> {
    let list = cx.bind(src, Conv::Items(spec.clone()))?;
    Ok(if cx.backend == sea_orm::DatabaseBackend::Postgres {
        Expr::cust_with_exprs("$1 = ANY($2)", [c, list])
    } else {
        Expr::cust_with_exprs("? IN (SELECT value FROM json_each(?))", [c, list])
    })
}

/// A rule operand after placeholder substitution.
enum Resolved {
    Sources(Operand),
    /// A placeholder with no value for this caller. Rules naming one do not apply (see
    /// [`needs_missing_value`]), so this is only a fail-closed fallback: the comparison is false.
    Missing,
    /// `$user.<field>`: compared with the caller's own row in `users`.
    UserColumn(String),
}

/// `"$user.id"`, `"$claims.<name>"` → the caller's values (bound on each run: the plan is
/// shared by callers of one rule profile); `"$user.<field>"` → a column of the caller's `users`
/// row. A list with placeholders binds item by item.
fn resolve_placeholders(cx: &SqlCtx, v: &Json) -> ApiResult<Resolved> {
    Ok(match placeholder(cx, v)? {
        Some(Placeholder::Missing) => Resolved::Missing,
        Some(Placeholder::UserColumn(c)) => Resolved::UserColumn(c),
        Some(Placeholder::Value(src)) => Resolved::Sources(Operand::One(src)),
        None => match v {
            Json::Array(items) if items.iter().any(|i| matches!(i, Json::String(s) if s.starts_with('$'))) => {
                let mut out = Vec::new();
                for item in items {
                    match placeholder(cx, item)? {
                        None => out.push(Source::Value(GqlValue::from_json(item.clone()).map_err(ApiError::internal)?)),
                        Some(Placeholder::Value(src)) => out.push(src),
                        Some(Placeholder::Missing) => return Ok(Resolved::Missing),
                        Some(Placeholder::UserColumn(_)) => {
                            return Err(ApiError::internal("`$user.<field>` is not supported inside a list"));
                        }
                    }
                }
                Resolved::Sources(Operand::Items(out))
            }
            Json::Array(_) => Resolved::Sources(Operand::List(Source::Value(
                GqlValue::from_json(v.clone()).map_err(ApiError::internal)?,
            ))),
            other => Resolved::Sources(Operand::One(Source::Value(
                GqlValue::from_json(other.clone()).map_err(ApiError::internal)?,
            ))),
        },
    })
}

enum Placeholder {
    Value(Source),
    Missing,
    UserColumn(String),
}

/// What a placeholder string stands for, for this caller; `None` when `v` is not one.
fn placeholder(cx: &SqlCtx, v: &Json) -> ApiResult<Option<Placeholder>> {
    let Json::String(s) = v else { return Ok(None) };
    let user = cx.caller.and_then(|c| c.user());
    Ok(Some(if s == "$user.id" {
        if user.is_some() { Placeholder::Value(Source::CallerId) } else { Placeholder::Missing }
    } else if let Some(name) = s.strip_prefix("$claims.") {
        match user.and_then(|u| u.claims.get(name)).filter(|v| !v.is_null()) {
            Some(_) => Placeholder::Value(Source::Claim(name.to_string())),
            None => Placeholder::Missing,
        }
    } else if let Some(field) = s.strip_prefix("$user.") {
        match super::column_for(cx.model("User"), field) {
            Some(spec) if user.is_some() => Placeholder::UserColumn(spec.column),
            Some(_) => Placeholder::Missing,
            None => return Err(ApiError::internal(format!("rule placeholder {s} names no User field"))),
        }
    } else {
        return Ok(None);
    }))
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
            matches!(placeholder(cx, &Json::String(s.clone())), Ok(Some(Placeholder::Missing)))
        }
        _ => false,
    }
}

/// For a rule's `where:` naming `$user.<field>` placeholders: the condition that the caller's
/// values are all present (not NULL) in their `users` row, ANDed to the rule so that an empty
/// profile field, like a missing claim, makes the rule not apply (under `not` too).
pub fn profile_values_present(cx: &SqlCtx, condition: &GqlValue) -> ApiResult<Option<Expr>> {
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
        return Ok(None);
    }
    let mut q = Query::select();
    q.expr(Expr::cust("1")).from(Alias::new("users")).and_where(Expr::col(Alias::new("id")).eq(cx.caller_id()?));
    for c in columns {
        q.and_where(Expr::col(Alias::new(c)).is_not_null());
    }
    Ok(Some(Expr::exists(q)))
}

/// `column <op> (SELECT <user column> FROM users WHERE id = <caller>)`.
fn user_column_compare(cx: &SqlCtx, c: Expr, op: Operator, column: &str) -> ApiResult<Expr> {
    let mut q = Query::select();
    q.column(Alias::new(column)).from(Alias::new("users")).and_where(Expr::col(Alias::new("id")).eq(cx.caller_id()?));
    let sub = Expr::SubQuery(None, Box::new(q.into_sub_query_statement()));
    Ok(match op {
        Operator::Eq => c.eq(sub),
        Operator::Ne => c.ne(sub),
        Operator::Lt => c.lt(sub),
        Operator::Lte => c.lte(sub),
        Operator::Gt => c.gt(sub),
        Operator::Gte => c.gte(sub),
        _ => return Err(ApiError::internal(format!("`$user.<field>` does not work with {}", op.name()))),
    })
}

/// Case-sensitive substring tests, the same on both databases (SQLite's LIKE is not). An empty
/// string matches every non-NULL value, with no special case: the statement does not depend
/// on the value.
fn text_match(cx: &SqlCtx, c: Expr, op: Operator, v: Expr) -> Expr {
    let pg = cx.backend == sea_orm::DatabaseBackend::Postgres;
    match (op, pg) {
        (Operator::Contains, true) => Expr::cust_with_exprs("strpos($1, $2) > 0", [c, v]),
        (Operator::Contains, false) => Expr::cust_with_exprs("instr(?, ?) > 0", [c, v]),
        (Operator::StartsWith, true) => Expr::cust_with_exprs("starts_with($1, $2)", [c, v]),
        (Operator::StartsWith, false) => Expr::cust_with_exprs("substr(?, 1, length(?)) = ?", [c, v.clone(), v]),
        (_, true) => Expr::cust_with_exprs("right($1, length($2)) = $2", [c, v]),
        // From the position that leaves exactly length(v) characters (at or before the start
        // when v is longer, which then cannot match).
        _ => Expr::cust_with_exprs("substr(?, length(?) - length(?) + 1) = ?", [c.clone(), c, v.clone(), v]),
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
    use crate::sql::input::InputEnv;
    use sea_orm::DatabaseBackend;

    fn sql(backend: DatabaseBackend, filter: &str) -> String {
        let ir = parse_sources(&[(
            "t.graphql".into(),
            "type Post @model @auth(rules: [{allow: public}]) { title: String }".into(),
        )])
        .expect("valid schema");
        let env = InputEnv::empty();
        let cx = SqlCtx::new(&ir, backend, &env);
        let v: GqlValue = GqlValue::from_json(serde_json::from_str(filter).unwrap()).unwrap();
        let cond = filter_condition(&cx, ir.model("Post").unwrap(), "p", &Input::constant(&v, &env)).unwrap();
        let text = crate::sql::text::condition(&cx, cond).unwrap();
        let slots = cx.take_slots();
        format!("{text} {slots:?}")
    }

    #[test]
    fn text_operators_bind_their_values() {
        for b in [DatabaseBackend::Sqlite, DatabaseBackend::Postgres] {
            let s = sql(
                b,
                r#"{"title": {"contains": "pha", "startsWith": "a", "endsWith": "z"}, "not": {"title": {"eq": "x"}}}"#,
            );
            let sql_text = s.split(" [Slot").next().unwrap();
            assert!(!sql_text.contains("pha") && !sql_text.contains('\''), "no literal values in SQL: {s}");
            assert!(s.contains("pha"), "the value is bound: {s}");
            assert!(s.contains("NOT COALESCE("), "{s}");
        }
    }
}
