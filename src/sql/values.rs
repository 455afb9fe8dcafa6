//! GraphQL/JSON values ⇄ bound SQL values, typed by the field's declared type so PostgreSQL
//! gets `timestamptz`/`jsonb`/typed NULLs and SQLite gets its text encodings.

use super::ColumnSpec;
use crate::error::{ApiError, ApiResult};
use crate::model::ScalarType;
use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::DatabaseBackend;
use sea_orm::sea_query::Value;
use serde_json::Value as Json;

/// The one text form of a DateTime on SQLite (sorts and compares correctly as text); defined
/// beside the column types in the migration crate.
pub use migration::types::SQLITE_DATETIME_FORMAT as SQLITE_DATETIME;

/// Parses an RFC 3339 DateTime input.
pub fn parse_datetime(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s).ok().map(|d| d.with_timezone(&Utc))
}

/// The output form of a DateTime: RFC 3339 in UTC with microseconds.
pub fn format_datetime(d: &DateTime<Utc>) -> String {
    d.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Now, truncated to the microseconds both databases keep.
pub fn now() -> DateTime<Utc> {
    let n = Utc::now();
    DateTime::from_timestamp_micros(n.timestamp_micros()).expect("current time is in range")
}

/// A typed SQL NULL for a column.
pub fn null(spec: &ColumnSpec, backend: DatabaseBackend) -> Value {
    if spec.list {
        return json_null(backend);
    }
    match spec.ty {
        ScalarType::Int => Value::Int(None),
        ScalarType::Float => Value::Double(None),
        ScalarType::Boolean => Value::Bool(None),
        ScalarType::DateTime if backend == DatabaseBackend::Postgres => Value::ChronoDateTimeUtc(None),
        ScalarType::Json => json_null(backend),
        _ => Value::String(None),
    }
}

fn json_null(backend: DatabaseBackend) -> Value {
    if backend == DatabaseBackend::Postgres { Value::Json(None) } else { Value::String(None) }
}

/// A DateTime as the backend stores it.
pub fn datetime(d: DateTime<Utc>, backend: DatabaseBackend) -> Value {
    if backend == DatabaseBackend::Postgres {
        Value::ChronoDateTimeUtc(Some(d))
    } else {
        Value::String(Some(d.format(SQLITE_DATETIME).to_string()))
    }
}

/// Binds a JSON value (from GraphQL input, a cursor or a rule) as the column's type.
/// Errors name the field; a wrong type is `BAD_USER_INPUT`.
pub fn bind(spec: &ColumnSpec, v: &Json, backend: DatabaseBackend) -> ApiResult<Value> {
    if v.is_null() {
        return Ok(null(spec, backend));
    }
    if spec.list || spec.ty == ScalarType::Json {
        return Ok(if backend == DatabaseBackend::Postgres {
            Value::Json(Some(Box::new(v.clone())))
        } else {
            Value::String(Some(v.to_string()))
        });
    }
    bind_scalar(spec, v, backend)
}

/// Binds one item of a scalar (non-list) type; used for list items in `in` filters too.
pub fn bind_scalar(spec: &ColumnSpec, v: &Json, backend: DatabaseBackend) -> ApiResult<Value> {
    let wrong = |what: &str| ApiError::invalid_field(&spec.key, format!("{}: expected {what}, got {v}", spec.key));
    Ok(match &spec.ty {
        ScalarType::Int => {
            let n = v.as_i64().ok_or_else(|| wrong("an Int"))?;
            Value::Int(Some(i32::try_from(n).map_err(|_| wrong("a 32-bit Int"))?))
        }
        ScalarType::Float => Value::Double(Some(v.as_f64().ok_or_else(|| wrong("a Float"))?)),
        ScalarType::Boolean => Value::Bool(Some(v.as_bool().ok_or_else(|| wrong("a Boolean"))?)),
        ScalarType::DateTime => {
            let s = v.as_str().ok_or_else(|| wrong("an RFC 3339 DateTime string"))?;
            let d = parse_datetime(s).ok_or_else(|| wrong("an RFC 3339 DateTime such as 2026-01-31T12:00:00Z"))?;
            datetime(d, backend)
        }
        ScalarType::Json => bind(spec, v, backend)?,
        ScalarType::Id | ScalarType::String | ScalarType::Enum(_) | ScalarType::File => {
            Value::String(Some(v.as_str().ok_or_else(|| wrong("a String"))?.to_string()))
        }
    })
}
