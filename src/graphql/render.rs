//! The answer of a compiled statement (JSON, see `sql::shape`) → the response, by the
//! selection: each field by response key, stored values in their API form by their declared
//! type, cursors and `pageInfo` computed, and a field the caller may not read null with a
//! FORBIDDEN error at its path.
//!
//! One walk over the answer ([`Walk`]) feeds one of two sinks:
//! - [`Text`]: the executor's own path writes the response as JSON text directly (no value
//!   tree), collecting a denied field's error with its full path;
//! - [`Tree`]: inside async-graphql's execution (fields such as `me` and auth payloads) a
//!   [`Value`], where a denied field becomes a marker that the object type's resolver turns into
//!   the error at the path async-graphql knows (see [`denied_message`]).

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

/// A root field's answer as a value for async-graphql (denied fields as markers).
pub fn tree(out: &Out, json: Option<&Json>) -> Value {
    let mut walk = Walk { sink: Tree::default(), path: Vec::new() };
    walk.answer(out, json);
    walk.sink.done.unwrap_or(Value::Null)
}

/// A root field's answer as JSON text, and the errors of the fields the caller may not read
/// (their paths under `root`).
pub fn text(out: &Out, json: Option<&Json>, root: &[PathSegment]) -> (String, Vec<ServerError>) {
    let mut walk = Walk { sink: Text { buf: Vec::with_capacity(256), errors: Vec::new(), root }, path: Vec::new() };
    walk.answer(out, json);
    let Text { buf, errors, .. } = walk.sink;
    (String::from_utf8(buf).expect("JSON text is UTF-8"), errors)
}

/// A response value that is JSON text already: serialized as it is (async-graphql's
/// `raw_value`), so a compiled answer is never turned into a value tree.
pub fn raw(text: String) -> Value {
    Value::Object([(Name::new(async_graphql_value::RAW_VALUE_TOKEN), Value::String(text))].into_iter().collect())
}

/// A step of the path to the field being rendered (borrowed: built only for an error).
#[derive(Clone, Copy)]
enum Step<'o> {
    Key(&'o Name),
    Index(usize),
}

/// Where a rendered answer goes: values, and objects and lists around them.
trait Sink {
    fn null(&mut self);
    fn bool(&mut self, b: bool);
    fn int(&mut self, n: i64);
    fn str(&mut self, s: &str);
    /// A stored value in its API form (enums by their declared type).
    fn stored(&mut self, v: &Json, ty: &ScalarType);
    fn begin_object(&mut self, len: usize);
    fn key(&mut self, key: &Name);
    fn end_object(&mut self);
    fn begin_list(&mut self, len: usize);
    fn end_list(&mut self);
    /// A field the caller may not read, at `path`.
    fn denied(&mut self, pos: Pos, path: &[Step], message: &str);
}

/// The walk over an answer by its selection.
struct Walk<'o, S> {
    sink: S,
    path: Vec<Step<'o>>,
}

impl<'o, S: Sink> Walk<'o, S> {
    fn answer(&mut self, out: &'o Out, json: Option<&Json>) {
        match (out, json) {
            (_, None) => self.sink.null(),
            (Out::Row(row), Some(j)) => self.row(row, j),
            (Out::Page(page), Some(j)) => self.page(page, j),
        }
    }

    fn deny(&mut self, pos: Pos, message: &str) {
        self.sink.denied(pos, &self.path, message);
    }

    fn row(&mut self, out: &'o OutRow, json: &Json) {
        let vals: &[Json] = json.as_array().map(Vec::as_slice).unwrap_or_default();
        let at = |i: usize| vals.get(i).unwrap_or(&Json::Null);
        let readable = |g: &Option<crate::sql::shape::Guard>| g.as_ref().is_none_or(|g| at(g.at).as_i64() == Some(1));
        self.sink.begin_object(out.fields.len());
        for f in &out.fields {
            self.sink.key(&f.key);
            self.path.push(Step::Key(&f.key));
            match &f.kind {
                OutKind::Typename => self.sink.str(&out.typename),
                OutKind::Column { guard, .. } | OutKind::One { guard, .. } | OutKind::Many { guard, .. }
                    if !readable(guard) =>
                {
                    let message = guard.as_ref().map(|g| &*g.message).unwrap_or_default();
                    self.deny(f.pos, message);
                }
                OutKind::Column { at: i, spec, .. } => self.stored(at(*i), spec),
                OutKind::One { at: i, fk_at, row, hidden, .. } => match at(*i) {
                    // The key is set but the row did not load: it exists, unreadable.
                    Json::Null if !at(*fk_at).is_null() => self.deny(f.pos, hidden),
                    Json::Null => self.sink.null(),
                    r => self.row(row, r),
                },
                OutKind::Many { at: i, page, .. } => self.page(page, at(*i)),
            }
            self.path.pop();
        }
        self.sink.end_object();
    }

    /// A stored value as the API shows it (see [`normalize`]; the common cases without a copy).
    fn stored(&mut self, v: &Json, spec: &ColumnSpec) {
        match (v, &spec.ty) {
            (Json::Null, _) => self.sink.null(),
            (Json::String(s), ScalarType::DateTime) if s.len() == 27 && s.ends_with('Z') => self.sink.str(s),
            (Json::String(_), ScalarType::Enum(_)) => self.sink.stored(v, &spec.ty),
            (Json::String(_), ScalarType::DateTime | ScalarType::Float) => {
                self.sink.stored(&normalize(v, spec), &spec.ty)
            }
            (Json::String(s), _) => self.sink.str(s),
            (Json::Bool(b), _) => self.sink.bool(*b),
            (Json::Number(n), ScalarType::Int) if n.is_i64() => self.sink.int(n.as_i64().unwrap_or_default()),
            _ => self.sink.stored(&normalize(v, spec), &spec.ty),
        }
    }

    fn page(&mut self, out: &'o OutPage, json: &Json) {
        let meta = &out.meta;
        let items: &[Json] = json.as_array().map(Vec::as_slice).unwrap_or_default();
        let mut rows: Vec<&Json> =
            items.first().and_then(Json::as_array).map(|r| r.iter().collect()).unwrap_or_default();
        let size = meta.size as usize;
        let more = rows.len() > size;
        rows.truncate(size);
        if meta.backward {
            rows.reverse();
        }
        let (has_next, has_prev) = if meta.backward { (meta.from_cursor, more) } else { (more, meta.from_cursor) };
        let cursor = |r: &Json| -> String {
            let vals = r.as_array();
            let keys: Vec<Json> = meta
                .order
                .iter()
                .zip(&out.cursor_at)
                .map(|(k, &i)| normalize(vals.and_then(|v| v.get(i)).unwrap_or(&Json::Null), &k.spec))
                .collect();
            crate::sql::cursor::encode(&meta.signature, &keys)
        };
        self.sink.begin_object(out.fields.len());
        for (key, _, field) in &out.fields {
            self.sink.key(key);
            self.path.push(Step::Key(key));
            match field {
                PageField::Typename => self.sink.str(&out.typename),
                PageField::TotalCount => {
                    let n = items.get(1).and_then(Json::as_i64).unwrap_or(0);
                    self.sink.int(n.min(i64::from(i32::MAX)));
                }
                PageField::Nodes(row) => {
                    self.sink.begin_list(rows.len());
                    for (i, r) in rows.iter().enumerate() {
                        self.path.push(Step::Index(i));
                        self.row(row, r);
                        self.path.pop();
                    }
                    self.sink.end_list();
                }
                PageField::Edges(typename, fields) => {
                    self.sink.begin_list(rows.len());
                    for (i, r) in rows.iter().enumerate() {
                        self.path.push(Step::Index(i));
                        self.sink.begin_object(fields.len());
                        for (k, _, f) in fields {
                            self.sink.key(k);
                            self.path.push(Step::Key(k));
                            match f {
                                EdgeField::Typename => self.sink.str(typename),
                                EdgeField::Cursor => self.sink.str(&cursor(r)),
                                EdgeField::Node(row) => self.row(row, r),
                            }
                            self.path.pop();
                        }
                        self.sink.end_object();
                        self.path.pop();
                    }
                    self.sink.end_list();
                }
                PageField::PageInfo(fields) => {
                    self.sink.begin_object(fields.len());
                    for (k, _, f) in fields {
                        self.sink.key(k);
                        match f {
                            InfoField::Typename => self.sink.str("PageInfo"),
                            InfoField::HasNextPage => self.sink.bool(has_next),
                            InfoField::HasPreviousPage => self.sink.bool(has_prev),
                            InfoField::StartCursor | InfoField::EndCursor => {
                                let r = if matches!(f, InfoField::StartCursor) { rows.first() } else { rows.last() };
                                match r {
                                    Some(r) => self.sink.str(&cursor(r)),
                                    None => self.sink.null(),
                                }
                            }
                        }
                    }
                    self.sink.end_object();
                }
            }
            self.path.pop();
        }
        self.sink.end_object();
    }
}

/// A container being built: an object's entries, or a list's items.
type Open = (Option<IndexMap<Name, Value>>, Vec<Value>);

/// Builds a [`Value`]; a denied field is a marker.
#[derive(Default)]
struct Tree {
    open: Vec<Open>,
    keys: Vec<Name>,
    done: Option<Value>,
}

impl Tree {
    fn put(&mut self, v: Value) {
        match self.open.last_mut() {
            Some((Some(obj), _)) => {
                let key = self.keys.pop().expect("a key before each object value");
                obj.insert(key, v);
            }
            Some((None, list)) => list.push(v),
            None => self.done = Some(v),
        }
    }
}

impl Sink for Tree {
    fn null(&mut self) {
        self.put(Value::Null)
    }
    fn bool(&mut self, b: bool) {
        self.put(Value::Boolean(b))
    }
    fn int(&mut self, n: i64) {
        self.put(Value::from(n))
    }
    fn str(&mut self, s: &str) {
        self.put(Value::String(s.to_string()))
    }
    fn stored(&mut self, v: &Json, ty: &ScalarType) {
        self.put(to_graphql(v, ty))
    }
    fn begin_object(&mut self, len: usize) {
        self.open.push((Some(IndexMap::with_capacity(len)), Vec::new()));
    }
    fn key(&mut self, key: &Name) {
        self.keys.push(key.clone());
    }
    fn end_object(&mut self) {
        if let Some((Some(obj), _)) = self.open.pop() {
            self.put(Value::Object(obj));
        }
    }
    fn begin_list(&mut self, len: usize) {
        self.open.push((None, Vec::with_capacity(len)));
    }
    fn end_list(&mut self) {
        if let Some((None, list)) = self.open.pop() {
            self.put(Value::List(list));
        }
    }
    fn denied(&mut self, _pos: Pos, _path: &[Step], message: &str) {
        self.put(Value::Object([(Name::new(DENIED), Value::String(message.to_string()))].into_iter().collect()))
    }
}

/// Writes JSON text; a denied field is null, with its error.
struct Text<'r> {
    buf: Vec<u8>,
    errors: Vec<ServerError>,
    root: &'r [PathSegment],
}

impl Text<'_> {
    /// A comma before a value or key that follows another.
    fn sep(&mut self) {
        if let Some(&b) = self.buf.last()
            && !matches!(b, b'{' | b'[' | b':')
        {
            self.buf.push(b',');
        }
    }
}

impl Sink for Text<'_> {
    fn null(&mut self) {
        self.sep();
        self.buf.extend_from_slice(b"null");
    }
    fn bool(&mut self, b: bool) {
        self.sep();
        self.buf.extend_from_slice(if b { b"true" } else { b"false" });
    }
    fn int(&mut self, n: i64) {
        self.sep();
        self.buf.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
    }
    fn str(&mut self, s: &str) {
        self.sep();
        serde_json::to_writer(&mut self.buf, s).expect("a string serializes");
    }
    fn stored(&mut self, v: &Json, _ty: &ScalarType) {
        self.sep();
        serde_json::to_writer(&mut self.buf, v).expect("a JSON value serializes");
    }
    fn begin_object(&mut self, _len: usize) {
        self.sep();
        self.buf.push(b'{');
    }
    fn key(&mut self, key: &Name) {
        self.sep();
        serde_json::to_writer(&mut self.buf, key.as_str()).expect("a key serializes");
        self.buf.push(b':');
    }
    fn end_object(&mut self) {
        self.buf.push(b'}');
    }
    fn begin_list(&mut self, _len: usize) {
        self.sep();
        self.buf.push(b'[');
    }
    fn end_list(&mut self) {
        self.buf.push(b']');
    }
    fn denied(&mut self, pos: Pos, path: &[Step], message: &str) {
        self.null();
        let err: async_graphql::Error = ApiError::forbidden(message).into();
        let mut e = err.into_server_error(pos);
        e.path = self.root.to_vec();
        e.path.extend(path.iter().map(|s| match s {
            Step::Key(k) => PathSegment::Field(k.to_string()),
            Step::Index(i) => PathSegment::Index(*i),
        }));
        self.errors.push(e);
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
