//! Rows of system tables read through sea-orm (sessions, accounts) → their values as JSON,
//! decoded by each column's declared type. (Compiled statements return JSON themselves.)

use super::ColumnSpec;
use super::values::{SQLITE_DATETIME, format_datetime};
use crate::error::ApiResult;
use crate::model::ScalarType;
use chrono::{DateTime, NaiveDateTime, Utc};
use sea_orm::{DatabaseBackend, QueryResult};
use serde_json::Value as Json;

/// A decoded row: column values by key.
pub struct Row {
    pub values: serde_json::Map<String, Json>,
}

/// Decodes the columns of one row (selected under their column names).
pub fn decode(row: &QueryResult, cols: &[ColumnSpec], backend: DatabaseBackend) -> ApiResult<Row> {
    let mut values = serde_json::Map::with_capacity(cols.len());
    for c in cols {
        values.insert(c.key.clone(), decode_column(row, c, backend)?);
    }
    Ok(Row { values })
}

fn get<T: sea_orm::TryGetable>(row: &QueryResult, column: &str) -> ApiResult<Option<T>> {
    Ok(row.try_get::<Option<T>>("", column)?)
}

fn decode_column(row: &QueryResult, c: &ColumnSpec, backend: DatabaseBackend) -> ApiResult<Json> {
    let pg = backend == DatabaseBackend::Postgres;
    if c.list || c.ty == ScalarType::Json {
        return Ok(if pg {
            get::<Json>(row, &c.column)?.unwrap_or(Json::Null)
        } else {
            match get::<String>(row, &c.column)? {
                Some(s) => serde_json::from_str(&s).map_err(crate::error::ApiError::internal)?,
                None => Json::Null,
            }
        });
    }
    Ok(match c.ty {
        ScalarType::Int => get::<i32>(row, &c.column)?.map(Json::from).unwrap_or(Json::Null),
        ScalarType::Float => get::<f64>(row, &c.column)?.map(Json::from).unwrap_or(Json::Null),
        ScalarType::Boolean => get::<bool>(row, &c.column)?.map(Json::from).unwrap_or(Json::Null),
        ScalarType::DateTime => {
            let d = if pg {
                get::<DateTime<Utc>>(row, &c.column)?
            } else {
                get::<String>(row, &c.column)?
                    .map(|s| {
                        NaiveDateTime::parse_from_str(&s, SQLITE_DATETIME)
                            .map(|n| n.and_utc())
                            .or_else(|_| DateTime::parse_from_rfc3339(&s).map(|d| d.with_timezone(&Utc)))
                            .map_err(crate::error::ApiError::internal)
                    })
                    .transpose()?
            };
            d.map(|d| Json::String(format_datetime(&d))).unwrap_or(Json::Null)
        }
        _ => get::<String>(row, &c.column)?.map(Json::String).unwrap_or(Json::Null),
    })
}
