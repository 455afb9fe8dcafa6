//! Bound values of compiled statements. The compiler never puts a value into SQL text: each
//! value becomes a [`Slot`] (where the value comes from, and how it is checked and typed) and
//! a placeholder token in the statement. A plan keeps its slots; every run binds them again
//! from that request's variables and caller ([`bind_all`]), so one compiled statement serves
//! every request of its shape.

use super::ColumnSpec;
use super::cursor::OrderKey;
use super::input::{Seg, lookup};
use super::values::{bind, bind_scalar, datetime, now};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::model::{ScalarField, ScalarType, Schema};
use async_graphql::{Name, Value as ConstValue, Variables};
use sea_orm::DbBackend;
use sea_orm::sea_query::{ArrayType, Value};
use serde_json::Value as Json;
use std::sync::Arc;

/// Where a bound value comes from.
#[derive(Debug, Clone)]
pub enum Source {
    /// A constant: a literal of the document, a value in a rule, a server constant.
    Value(ConstValue),
    /// The request variable `$name` at a path.
    Var(Name, Vec<Seg>),
    /// The signed-in caller's id (`$user.id`, owner rules).
    CallerId,
    /// A claim of the caller's access token (`$claims.<name>`).
    Claim(String),
    /// The time of the request (`createdAt`, `updatedAt`), the same for every slot of a run.
    Now,
    /// A new row id (UUIDv7), the same for every slot of a run.
    NewId,
    /// A column of the changed row a subscription event is about (its image, by field key).
    Row(String),
}

/// How a value is checked and typed for its place in the statement.
#[derive(Debug, Clone)]
pub enum Conv {
    /// One value of the column's scalar type: a filter operand, an id, a cursor key.
    Scalar(ColumnSpec),
    /// A column value as stored (lists and JSON too).
    Column(ColumnSpec),
    /// A list of scalar values of the column's type as one array parameter (`in`, `notIn`).
    Items(ColumnSpec),
    /// A value a client writes into a field: checked against the field's declared rules
    /// (`@length`, `@range`, DateTime syntax), then stored.
    Written(Box<(ColumnSpec, Option<ScalarField>)>),
    /// Key `index` of a cursor for the ordering `order` (checked against it).
    CursorKey { order: Arc<[OrderKey]>, index: usize },
    /// The owner of a new row, written by a caller who is not admin: it must be themselves
    /// (else FORBIDDEN with this message).
    Owner(String),
}

/// One bound value of a compiled statement.
#[derive(Debug, Clone)]
pub struct Slot {
    pub source: Source,
    pub conv: Conv,
    /// Bound once at compile time when the source is a constant.
    pub bound: Option<Value>,
}

/// What a run binds slots from.
pub struct BindEnv<'a> {
    pub vars: &'a Variables,
    pub caller: &'a Caller,
    pub schema: &'a Schema,
    pub backend: DbBackend,
    /// The changed row of a subscription event ([`Source::Row`]).
    pub row: Option<&'a serde_json::Map<String, Json>>,
    now: std::cell::OnceCell<Value>,
    new_id: std::cell::OnceCell<String>,
}

impl<'a> BindEnv<'a> {
    pub fn new(vars: &'a Variables, caller: &'a Caller, schema: &'a Schema, backend: DbBackend) -> Self {
        BindEnv { vars, caller, schema, backend, row: None, now: Default::default(), new_id: Default::default() }
    }

    /// Starts binding the next root field of a request: it gets an id of its own for a row it
    /// creates (every slot of one statement shares one; `now` stays the request's).
    pub fn next_root(&mut self) {
        self.new_id = Default::default();
    }
}

impl Slot {
    /// A slot; a constant source is bound (and checked) at once.
    pub fn new(source: Source, conv: Conv, schema: &Schema, backend: DbBackend) -> ApiResult<Slot> {
        let bound = match &source {
            // A check against the caller runs on every run.
            Source::Value(_) if matches!(conv, Conv::Owner(_)) => None,
            Source::Value(v) => {
                let vars = Variables::default();
                let env = BindEnv::new(&vars, &Caller::Anonymous, schema, backend);
                Some(convert(&conv, &json(v)?, &env)?)
            }
            _ => None,
        };
        Ok(Slot { source, conv, bound })
    }

    /// The slot's value for this run.
    pub fn bind(&self, env: &BindEnv) -> ApiResult<Value> {
        if let Some(v) = &self.bound {
            return Ok(v.clone());
        }
        let value = match &self.source {
            Source::Value(v) => json(v)?,
            Source::Var(name, path) => json(lookup(env.vars, name, path).unwrap_or(&ConstValue::Null))?,
            Source::CallerId => env.caller.user().map(|u| Json::String(u.id.clone())).unwrap_or(Json::Null),
            Source::Claim(name) => env.caller.user().and_then(|u| u.claims.get(name).cloned()).unwrap_or(Json::Null),
            Source::Row(key) => env.row.and_then(|r| r.get(key)).cloned().unwrap_or(Json::Null),
            Source::Now => return Ok(env.now.get_or_init(|| datetime(now(), env.backend)).clone()),
            Source::NewId => {
                return Ok(Value::String(Some(env.new_id.get_or_init(|| uuid::Uuid::now_v7().to_string()).clone())));
            }
        };
        convert(&self.conv, &value, env)
    }
}

/// Every slot's value for this run, in slot order.
pub fn bind_all(slots: &[Slot], env: &BindEnv) -> ApiResult<Vec<Value>> {
    slots.iter().map(|s| s.bind(env)).collect()
}

fn json(v: &ConstValue) -> ApiResult<Json> {
    v.clone().into_json().map_err(|e| ApiError::bad_input(format!("invalid value: {e}")))
}

fn convert(conv: &Conv, v: &Json, env: &BindEnv) -> ApiResult<Value> {
    match conv {
        Conv::Scalar(spec) => scalar(spec, v, env),
        Conv::Column(spec) => bind(spec, v, env.backend),
        Conv::Items(spec) => items(spec, v, env),
        Conv::Written(w) => {
            let (spec, field) = w.as_ref();
            if let (false, Some(field)) = (v.is_null(), field) {
                super::write::check_rules(field, &spec.key, v)?;
            }
            if spec.list || spec.ty == ScalarType::Json {
                bind(spec, v, env.backend)
            } else if v.is_null() {
                Ok(super::values::null(spec, env.backend))
            } else {
                scalar(spec, v, env)
            }
        }
        Conv::CursorKey { order, index } => {
            let cursor = v.as_str().ok_or_else(super::cursor::invalid)?;
            let values = super::cursor::decode(order, cursor)?;
            let key = &order[*index];
            match &values[*index] {
                Json::Null => Ok(super::values::null(&key.spec, env.backend)),
                value => bind_scalar(&key.spec, value, env.backend).map_err(|_| super::cursor::invalid()),
            }
        }
        Conv::Owner(message) => {
            let me = env.caller.user().map(|u| u.id.as_str());
            if v.as_str() != me || me.is_none() {
                return Err(ApiError::forbidden(message.clone()));
            }
            Ok(Value::String(me.map(str::to_string)))
        }
    }
}

/// One scalar value of the column's type; enum values must be the enum's, and an ID may be
/// given as an integer (as GraphQL's ID accepts).
fn scalar(spec: &ColumnSpec, v: &Json, env: &BindEnv) -> ApiResult<Value> {
    if v.is_null() {
        return Ok(super::values::null(spec, env.backend));
    }
    match &spec.ty {
        ScalarType::Enum(name) => {
            let ok =
                env.schema.enum_def(name).is_none_or(|e| v.as_str().is_some_and(|s| e.values.iter().any(|x| x == s)));
            if !ok {
                return Err(ApiError::invalid_field(&spec.key, format!("{}: {v} is not a value of {name}", spec.key)));
            }
        }
        ScalarType::Id if v.is_i64() || v.is_u64() => return Ok(Value::String(Some(v.to_string()))),
        _ => {}
    }
    bind_scalar(spec, v, env.backend)
}

/// A list of values as one parameter: a typed array on PostgreSQL (`= ANY($1)`), a JSON array
/// on SQLite (`IN (SELECT value FROM json_each(?))`). A single value is a one-item list.
fn items(spec: &ColumnSpec, v: &Json, env: &BindEnv) -> ApiResult<Value> {
    let list: Vec<&Json> = match v {
        Json::Array(a) => a.iter().collect(),
        Json::Null => Vec::new(),
        other => vec![other],
    };
    let bound = list.into_iter().map(|i| scalar(spec, i, env)).collect::<ApiResult<Vec<Value>>>()?;
    let ty = match spec.ty {
        ScalarType::Int => ArrayType::Int,
        ScalarType::Float => ArrayType::Double,
        ScalarType::Boolean => ArrayType::Bool,
        ScalarType::DateTime => ArrayType::ChronoDateTimeUtc,
        _ => ArrayType::String,
    };
    Ok(list_param(bound, ty, env.backend))
}

/// Bound values (of array type `ty`) as one list parameter: a typed array on PostgreSQL, a JSON
/// array on SQLite.
pub fn list_param(bound: Vec<Value>, ty: ArrayType, backend: DbBackend) -> Value {
    if backend == DbBackend::Postgres {
        return Value::Array(ty, Some(Box::new(bound)));
    }
    let items: Vec<Json> = bound
        .into_iter()
        .map(|b| match b {
            Value::Int(Some(n)) => Json::from(n),
            Value::Double(Some(f)) => Json::from(f),
            Value::Bool(Some(b)) => Json::from(b),
            Value::String(Some(s)) => Json::String(s),
            _ => Json::Null,
        })
        .collect();
    Value::String(Some(Json::Array(items).to_string()))
}

/// The text standing for slot `n` in statements under construction; [`finish`] replaces each by
/// the backend's placeholder. (Identifiers and SQL never contain the control character.)
pub fn token(n: usize) -> String {
    format!("\u{1}{n}\u{1}")
}

/// A statement ready to run: its SQL with placeholders, and the slot behind each placeholder.
#[derive(Debug, Clone)]
pub struct Stmt {
    pub sql: Arc<str>,
    pub slots: Vec<usize>,
}

impl Stmt {
    /// The values for this statement's placeholders, from every slot's value for this run.
    pub fn values(&self, bound: &[Value]) -> sea_orm::sea_query::Values {
        sea_orm::sea_query::Values(self.slots.iter().map(|&i| bound[i].clone()).collect())
    }
}

/// Replaces slot tokens by `$1`, `$2`, ... (PostgreSQL) or `?` (SQLite), in order.
pub fn finish(sql: &str, backend: DbBackend) -> Stmt {
    let mut out = String::with_capacity(sql.len());
    let mut slots = Vec::new();
    let mut parts = sql.split('\u{1}');
    if let Some(first) = parts.next() {
        out.push_str(first);
    }
    while let (Some(n), Some(rest)) = (parts.next(), parts.next()) {
        slots.push(n.parse().expect("tokens hold slot numbers"));
        if backend == DbBackend::Postgres {
            out.push('$');
            out.push_str(&slots.len().to_string());
        } else {
            out.push('?');
        }
        out.push_str(rest);
    }
    Stmt { sql: Arc::from(out), slots }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_become_numbered_placeholders_in_order() {
        let sql = format!("SELECT {} WHERE a = {} AND b = {}", token(2), token(0), token(2));
        let pg = finish(&sql, DbBackend::Postgres);
        assert_eq!(&*pg.sql, "SELECT $1 WHERE a = $2 AND b = $3");
        assert_eq!(pg.slots, vec![2, 0, 2]);
        let lite = finish(&sql, DbBackend::Sqlite);
        assert_eq!(&*lite.sql, "SELECT ? WHERE a = ? AND b = ?");
    }
}
