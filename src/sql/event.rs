//! A subscription compiled for multiplexed delivery: one statement answers one changed row for
//! many subscribers at once (as Hasura multiplexes its live queries).
//!
//! The statement is the subscription's read of the changed row ([`Reader::event_row`]: the row's
//! image as its source, the caller's read rules, the `filter`, the selection with its nested
//! relations under the caller's rules) joined to a row source of subscribers: one JSON array
//! parameter, an object per subscriber holding the values that differ between subscribers (their
//! variables, user id and claims). Every slot that would bind such a value reads it from the
//! subscriber's object instead; everything else (constants, the row's image) is an ordinary
//! parameter. It returns one row per subscriber who may read the row and whose filter matches,
//! with the subscriber's position last:
//!
//! ```sql
//! -- PostgreSQL
//! SELECT <row>, s.n - 1 FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS s(v, n)
//!   CROSS JOIN (SELECT $2 AS id, $3 AS title, …) AS x WHERE x.author_id = CAST(s.v->>'4' AS text) …
//! -- SQLite
//! SELECT <row>, s.key FROM json_each(?) AS s
//!   CROSS JOIN (SELECT ? AS id, …) AS x WHERE x.author_id = json_extract(s.value, '$."4"') …
//! ```
//!
//! Subscribers share a plan when they share the document, the shape of their variables and their
//! rule profile (which rules apply to them: roles, admin), as compiled plans of requests do.

use super::params::{BindEnv, Conv, Slot, Source};
use super::select::{Reader, RootRows, Sel};
use super::shape::Out;
use super::{ColumnSpec, SqlCtx, list::PageLimits};
use crate::error::ApiResult;
use crate::model::{Model, ScalarType};
use sea_orm::DbBackend;
use sea_orm::sea_query::Value;
use serde_json::Value as Json;
use std::sync::Arc;

/// A subscription's compiled read of a changed row, for many subscribers.
#[derive(Debug)]
pub struct EventPlan {
    pub model: String,
    pub slots: Vec<Slot>,
    /// The statement.
    pub stmt: MuxStmt,
    pub rows: RootRows,
    pub out: Out,
}

/// Compiles subscription field `sel` (`postCreated(filter:) { … }`) on `model` for the caller
/// of `cx`. A caller no read rule lets read `model` gets FORBIDDEN now, not silence later.
/// With `from_table`, the row is read from its table (a delete judged before it happens).
pub fn compile(cx: &SqlCtx, limits: PageLimits, model: &Model, sel: &Sel, from_table: bool) -> ApiResult<EventPlan> {
    let reader = Reader { cx, limits };
    let (items, rest, rows, out) = reader.event_row(model, sel, from_table)?;
    let slots = cx.take_slots();
    let backend = cx.backend;
    let (subscribers, index) = match backend {
        DbBackend::Postgres => ("jsonb_array_elements(\u{2}) WITH ORDINALITY AS s(v, n)", "s.n - 1"),
        _ => ("json_each(\u{2}) AS s", "s.key"),
    };
    let sql = format!("SELECT {}, {index} FROM {subscribers} CROSS JOIN {rest}", items.join(", "));
    let stmt = finish_multiplexed(&sql, backend, &slots);
    Ok(EventPlan { model: model.name.clone(), slots, stmt, rows, out: Out::Row(out) })
}

/// Whether a slot's value differs between subscribers of one plan.
fn per_subscriber(slot: &Slot) -> bool {
    slot.bound.is_none() && matches!(slot.source, Source::Var(..) | Source::CallerId | Source::Claim(_))
}

/// A placeholder of a multiplexed statement.
#[derive(Debug, Clone, Copy)]
pub enum Param {
    /// The subscribers (a JSON array).
    Subscribers,
    /// A slot bound once per event.
    Slot(usize),
}

/// A multiplexed statement: SQL with numbered (`$n`) or positional (`?`) placeholders, and what
/// each placeholder stands for, in order.
#[derive(Debug, Clone)]
pub struct MuxStmt {
    pub sql: Arc<str>,
    pub params: Vec<Param>,
}

/// Replaces the subscribers' marker and the slot tokens: a per-subscriber slot by a read of the
/// subscriber's object, any other by a placeholder, in textual order.
fn finish_multiplexed(sql: &str, backend: DbBackend, slots: &[Slot]) -> MuxStmt {
    let pg = backend == DbBackend::Postgres;
    let mut out = String::with_capacity(sql.len() + 64);
    let mut params = Vec::new();
    let placeholder = |out: &mut String, p: Param, params: &mut Vec<Param>| {
        params.push(p);
        if pg {
            out.push_str(&format!("${}", params.len()));
        } else {
            out.push('?');
        }
    };
    let mut rest = sql;
    while let Some(at) = rest.find(['\u{1}', '\u{2}']) {
        out.push_str(&rest[..at]);
        if rest[at..].starts_with('\u{2}') {
            placeholder(&mut out, Param::Subscribers, &mut params);
            if pg {
                out.push_str("::text::jsonb");
            }
            rest = &rest[at + 1..];
            continue;
        }
        let end = at + 1 + rest[at + 1..].find('\u{1}').expect("tokens are closed");
        let i: usize = rest[at + 1..end].parse().expect("tokens hold slot numbers");
        if per_subscriber(&slots[i]) {
            out.push_str(&subscriber_value(i, &slots[i].conv, pg));
        } else {
            placeholder(&mut out, Param::Slot(i), &mut params);
        }
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    MuxStmt { sql: Arc::from(out), params }
}

/// SQL reading slot `i`'s value from the subscriber's object (`s`), typed for its place.
fn subscriber_value(i: usize, conv: &Conv, pg: bool) -> String {
    if !pg {
        return format!("json_extract(s.value, '$.\"{i}\"')");
    }
    let spec = match conv {
        Conv::Scalar(s) | Conv::Column(s) | Conv::Items(s) => Some(s),
        Conv::Written(w) => Some(&w.0),
        _ => None,
    };
    let ty = spec.map(pg_type).unwrap_or("text");
    match conv {
        Conv::Items(_) => {
            format!("ARRAY(SELECT CAST(e AS {ty}) FROM jsonb_array_elements_text(s.v->'{i}') AS t(e))")
        }
        Conv::Column(s) if s.list || s.ty == ScalarType::Json => format!("(s.v->'{i}')"),
        _ => format!("CAST(s.v->>'{i}' AS {ty})"),
    }
}

fn pg_type(spec: &ColumnSpec) -> &'static str {
    match spec.ty {
        ScalarType::Int => "integer",
        ScalarType::Float => "double precision",
        ScalarType::Boolean => "boolean",
        ScalarType::DateTime => "timestamptz",
        ScalarType::Json => "jsonb",
        _ => "text",
    }
}

impl EventPlan {
    /// One subscriber's values (their variables, id and claims, checked and typed as a request's
    /// would be) as the JSON object the statement reads them from.
    pub fn subscriber(&self, env: &BindEnv) -> ApiResult<Json> {
        let mut o = serde_json::Map::new();
        for (i, slot) in self.slots.iter().enumerate() {
            if per_subscriber(slot) {
                o.insert(i.to_string(), to_json(slot.bind(env)?));
            }
        }
        Ok(Json::Object(o))
    }

    /// The statement's values for one event: the subscribers (their
    /// [`subscriber`](Self::subscriber) objects as JSON text, joined into one JSON array: sent
    /// as text, cast by the statement) and the other slots bound from `env` (whose `row` is the
    /// changed row's image).
    pub fn values(&self, subscribers: &[&str], env: &BindEnv) -> ApiResult<sea_orm::sea_query::Values> {
        let mut list = String::with_capacity(subscribers.iter().map(|s| s.len() + 1).sum::<usize>() + 2);
        list.push('[');
        for (i, s) in subscribers.iter().enumerate() {
            if i > 0 {
                list.push(',');
            }
            list.push_str(s);
        }
        list.push(']');
        let mut list = Some(list);
        let mut values = Vec::with_capacity(self.stmt.params.len());
        for p in &self.stmt.params {
            values.push(match p {
                Param::Subscribers => Value::String(list.take()),
                Param::Slot(i) => self.slots[*i].bind(env)?,
            });
        }
        Ok(sea_orm::sea_query::Values(values))
    }
}

/// A bound value as JSON, for the subscribers' parameter.
fn to_json(v: Value) -> Json {
    match v {
        Value::Bool(Some(b)) => Json::Bool(b),
        Value::TinyInt(Some(n)) => Json::from(n),
        Value::SmallInt(Some(n)) => Json::from(n),
        Value::Int(Some(n)) => Json::from(n),
        Value::BigInt(Some(n)) => Json::from(n),
        Value::Double(Some(f)) => Json::from(f),
        Value::Float(Some(f)) => Json::from(f),
        Value::String(Some(s)) => Json::String(s),
        Value::ChronoDateTimeUtc(Some(d)) => Json::String(d.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)),
        Value::Json(Some(j)) => *j,
        Value::Array(_, Some(items)) => Json::Array(items.into_iter().map(to_json).collect()),
        _ => Json::Null,
    }
}
