//! The answer of a compiled statement (JSON, see `sql::shape`) → GraphQL response values, by
//! the selection: each field by response key, stored values decoded by their declared type,
//! cursors and `pageInfo` computed, and a field the caller may not read null with a FORBIDDEN
//! error at its path.
//!
//! Two consumers: the executor's own path writes the response directly (errors collected with
//! their full paths); inside async-graphql's execution (fields such as `me` and auth payloads)
//! a denied field becomes a marker that the object type's resolver turns into the error at the
//! path async-graphql knows (see [`denied_message`]).

use crate::error::ApiError;
use crate::model::ScalarType;
use crate::sql::ColumnSpec;
use crate::sql::shape::{EdgeField, InfoField, Out, OutKind, OutPage, OutRow, PageField};
use crate::sql::values::format_datetime;
use async_graphql::indexmap::IndexMap;
use async_graphql::{Name, PathSegment, Pos, ServerError, Value};
use serde_json::Value as Json;

/// The key of the marker object that stands for a denied field (see [`denied_message`]).
/// Response keys never start with NUL.
const DENIED: &str = "\u{0}denied";

/// For a value rendered for async-graphql's execution: the message of a field the caller may
/// not read.
pub fn denied_message(v: &Value) -> Option<&str> {
    match v {
        Value::Object(o) if o.len() == 1 => match o.get(DENIED) {
            Some(Value::String(m)) => Some(m),
            _ => None,
        },
        _ => None,
    }
}

/// Where a denied field's error goes.
pub enum Mode {
    /// Into the response's errors, with its full path (under `root`).
    Errors,
    /// Into the value, as a marker.
    Markers,
}

pub struct Renderer {
    mode: Mode,
    path: Vec<PathSegment>,
    pub errors: Vec<ServerError>,
}

impl Renderer {
    /// A renderer for answers under response path `root`.
    pub fn new(mode: Mode, root: Vec<PathSegment>) -> Self {
        Renderer { mode, path: root, errors: Vec::new() }
    }

    /// The value of a root field's answer (`None`: no row).
    pub fn answer(&mut self, out: &Out, json: Option<&Json>) -> Value {
        match (out, json) {
            (_, None) => Value::Null,
            (Out::Row(row), Some(j)) => self.row(row, j),
            (Out::Page(page), Some(j)) => self.page(page, j),
        }
    }

    fn deny(&mut self, pos: Pos, message: &str) -> Value {
        match self.mode {
            Mode::Markers => {
                Value::Object([(Name::new(DENIED), Value::String(message.to_string()))].into_iter().collect())
            }
            Mode::Errors => {
                let err: async_graphql::Error = ApiError::forbidden(message).into();
                let mut e = err.into_server_error(pos);
                e.path = self.path.clone();
                self.errors.push(e);
                Value::Null
            }
        }
    }

    fn row(&mut self, out: &OutRow, json: &Json) -> Value {
        let empty = Vec::new();
        let vals = json.as_array().unwrap_or(&empty);
        let at = |i: usize| vals.get(i).unwrap_or(&Json::Null);
        let readable = |g: &Option<crate::sql::shape::Guard>| g.as_ref().is_none_or(|g| at(g.at).as_i64() == Some(1));
        let mut obj = IndexMap::with_capacity(out.fields.len());
        for f in &out.fields {
            self.path.push(PathSegment::Field(f.key.to_string()));
            let v = match &f.kind {
                OutKind::Typename => Value::String(out.typename.to_string()),
                OutKind::Column { guard, .. } | OutKind::One { guard, .. } | OutKind::Many { guard, .. }
                    if !readable(guard) =>
                {
                    let message = guard.as_ref().map(|g| g.message.clone()).unwrap_or_default();
                    self.deny(f.pos, &message)
                }
                OutKind::Column { at: i, spec, .. } => decode(at(*i), spec),
                OutKind::One { at: i, fk_at, row, hidden, .. } => match at(*i) {
                    // The key is set but the row did not load: it exists, unreadable.
                    Json::Null if !at(*fk_at).is_null() => self.deny(f.pos, hidden),
                    Json::Null => Value::Null,
                    r => self.row(row, r),
                },
                OutKind::Many { at: i, page, .. } => self.page(page, at(*i)),
            };
            self.path.pop();
            obj.insert(f.key.clone(), v);
        }
        Value::Object(obj)
    }

    fn page(&mut self, out: &OutPage, json: &Json) -> Value {
        let meta = &out.meta;
        let empty = Vec::new();
        let items = json.as_array().unwrap_or(&empty);
        let mut rows: Vec<&Json> =
            items.first().and_then(Json::as_array).map(|r| r.iter().collect()).unwrap_or_default();
        let size = meta.size as usize;
        let more = rows.len() > size;
        rows.truncate(size);
        if meta.backward {
            rows.reverse();
        }
        let (has_next, has_prev) = if meta.backward { (meta.from_cursor, more) } else { (more, meta.from_cursor) };
        let cursor = |r: &Json| -> Value {
            let vals = r.as_array();
            let keys: Vec<Json> = meta
                .order
                .iter()
                .zip(&out.cursor_at)
                .map(|(k, &i)| normalize(vals.and_then(|v| v.get(i)).unwrap_or(&Json::Null), &k.spec))
                .collect();
            Value::String(crate::sql::cursor::encode(&meta.signature, &keys))
        };
        let mut obj = IndexMap::with_capacity(out.fields.len());
        for (key, _, field) in &out.fields {
            self.path.push(PathSegment::Field(key.to_string()));
            let v = match field {
                PageField::Typename => Value::String(out.typename.to_string()),
                PageField::TotalCount => {
                    let n = items.get(1).and_then(Json::as_i64).unwrap_or(0);
                    Value::from(i32::try_from(n).unwrap_or(i32::MAX))
                }
                PageField::Nodes(row) => Value::List(
                    rows.iter()
                        .enumerate()
                        .map(|(i, r)| {
                            self.path.push(PathSegment::Index(i));
                            let v = self.row(row, r);
                            self.path.pop();
                            v
                        })
                        .collect(),
                ),
                PageField::Edges(typename, fields) => Value::List(
                    rows.iter()
                        .enumerate()
                        .map(|(i, r)| {
                            self.path.push(PathSegment::Index(i));
                            let mut edge = IndexMap::with_capacity(fields.len());
                            for (k, _, f) in fields {
                                self.path.push(PathSegment::Field(k.to_string()));
                                let v = match f {
                                    EdgeField::Typename => Value::String(typename.to_string()),
                                    EdgeField::Cursor => cursor(r),
                                    EdgeField::Node(row) => self.row(row, r),
                                };
                                self.path.pop();
                                edge.insert(k.clone(), v);
                            }
                            self.path.pop();
                            Value::Object(edge)
                        })
                        .collect(),
                ),
                PageField::PageInfo(fields) => Value::Object(
                    fields
                        .iter()
                        .map(|(k, _, f)| {
                            let v = match f {
                                InfoField::Typename => Value::String("PageInfo".into()),
                                InfoField::HasNextPage => Value::Boolean(has_next),
                                InfoField::HasPreviousPage => Value::Boolean(has_prev),
                                InfoField::StartCursor => rows.first().map(|r| cursor(r)).unwrap_or(Value::Null),
                                InfoField::EndCursor => rows.last().map(|r| cursor(r)).unwrap_or(Value::Null),
                            };
                            (k.clone(), v)
                        })
                        .collect(),
                ),
            };
            self.path.pop();
            obj.insert(key.clone(), v);
        }
        Value::Object(obj)
    }
}

/// A stored value as the API shows it, by its declared type: the one form of every value, for
/// responses and cursors. In nested JSON, PostgreSQL writes timestamps with an offset, SQLite
/// floats as text and booleans as 0/1 (see `sql::text::value`).
pub fn normalize(v: &Json, spec: &ColumnSpec) -> Json {
    if v.is_null() || spec.list || spec.ty == ScalarType::Json {
        return v.clone();
    }
    match spec.ty {
        ScalarType::Float => match v {
            Json::String(s) => {
                s.parse::<f64>().ok().and_then(serde_json::Number::from_f64).map(Json::Number).unwrap_or(Json::Null)
            }
            other => other.as_f64().and_then(serde_json::Number::from_f64).map(Json::Number).unwrap_or(Json::Null),
        },
        ScalarType::Boolean => match v {
            Json::Number(n) => Json::Bool(n.as_i64() != Some(0)),
            other => other.clone(),
        },
        // Already in the API's form (`2026-01-31T12:00:00.000000Z`: how SQLite stores it, and
        // root rows decode it), or another RFC 3339 spelling (PostgreSQL's JSON adds an offset).
        ScalarType::DateTime => match v.as_str() {
            Some(s) if s.len() == 27 && s.ends_with('Z') => v.clone(),
            Some(s) => chrono::DateTime::parse_from_rfc3339(s)
                .map(|d| Json::String(format_datetime(&d.with_timezone(&chrono::Utc))))
                .unwrap_or_else(|_| v.clone()),
            None => v.clone(),
        },
        _ => v.clone(),
    }
}

/// A stored value as a GraphQL output value.
pub fn decode(v: &Json, spec: &ColumnSpec) -> Value {
    to_graphql(&normalize(v, spec), &spec.ty)
}

/// A value in its API form as a GraphQL output value (enums as enum values).
pub fn to_graphql(v: &Json, ty: &ScalarType) -> Value {
    match (v, ty) {
        (Json::Null, _) => Value::Null,
        (Json::String(s), ScalarType::Enum(_)) => Value::Enum(Name::new(s)),
        (Json::Array(items), ScalarType::Enum(_)) => Value::List(items.iter().map(|i| to_graphql(i, ty)).collect()),
        // The common cases directly, without a serde pass.
        (Json::String(s), _) => Value::String(s.clone()),
        (Json::Bool(b), _) => Value::Boolean(*b),
        (Json::Number(n), _) => Value::Number(n.clone()),
        _ => Value::from_json(v.clone()).unwrap_or(Value::Null),
    }
}
