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

/// A root statement's rows (see [`super::select::RootRows`]) as the JSON its answer stands
/// for: a row as its JSON array (values in their API form, relations parsed), a page as
/// `[rows, total]`; `None` for a row statement that returned no row.
pub fn root_answer(rows: &crate::db::pool::Rows, shape: &super::select::RootRows) -> ApiResult<Option<Json>> {
    use crate::db::pool::Rows;
    use sea_orm::sqlx::Row as _;
    let width = shape.columns.len() + shape.relations;
    let id_at = shape.columns.iter().position(|c| c.key == "id");
    let mut out = Vec::with_capacity(rows.len());
    let mut total = Json::Null;
    for i in 0..rows.len() {
        let values = row_values(rows, i, shape)?;
        if shape.total {
            let n: i64 = match rows {
                Rows::Postgres(r) => r[i].try_get(width),
                Rows::Sqlite(r) => r[i].try_get(width),
            }
            .map_err(crate::error::ApiError::internal)?;
            total = Json::from(n);
        }
        // A page with a total and no rows is one row of NULLs.
        if id_at.is_some_and(|k| values[k].is_null()) {
            continue;
        }
        out.push(Json::Array(values));
    }
    Ok(if shape.page { Some(Json::Array(vec![Json::Array(out), total])) } else { out.into_iter().next() })
}

/// A multiplexed event statement's rows (see `sql::event`): each row's answer, as
/// [`root_answer`] gives one row, with the subscriber's position (the column after the row's).
pub fn event_answers(rows: &crate::db::pool::Rows, shape: &super::select::RootRows) -> ApiResult<Vec<(usize, Json)>> {
    use crate::db::pool::Rows;
    use sea_orm::sqlx::Row as _;
    let width = shape.columns.len() + shape.relations;
    (0..rows.len())
        .map(|i| {
            let n: i64 = match rows {
                Rows::Postgres(r) => r[i].try_get(width),
                Rows::Sqlite(r) => r[i].try_get(width),
            }
            .map_err(crate::error::ApiError::internal)?;
            Ok((
                usize::try_from(n).map_err(crate::error::ApiError::internal)?,
                Json::Array(row_values(rows, i, shape)?),
            ))
        })
        .collect()
}

/// Row `i`'s columns (in API form) and relations (parsed).
fn row_values(rows: &crate::db::pool::Rows, i: usize, shape: &super::select::RootRows) -> ApiResult<Vec<Json>> {
    use crate::db::pool::Rows;
    use sea_orm::sqlx::Row as _;
    let width = shape.columns.len() + shape.relations;
    let mut values = Vec::with_capacity(width);
    for (j, c) in shape.columns.iter().enumerate() {
        values.push(match rows {
            Rows::Postgres(r) => pg_value(&r[i], j, c)?,
            Rows::Sqlite(r) => sqlite_value(&r[i], j, c)?,
        });
    }
    for j in shape.columns.len()..width {
        let text: Option<String> = match rows {
            Rows::Postgres(r) => r[i].try_get(j),
            Rows::Sqlite(r) => r[i].try_get(j),
        }
        .map_err(crate::error::ApiError::internal)?;
        values.push(match text {
            Some(t) => serde_json::from_str(&t).map_err(crate::error::ApiError::internal)?,
            None => Json::Null,
        });
    }
    Ok(values)
}

fn pg_value(row: &sea_orm::sqlx::postgres::PgRow, i: usize, c: &ColumnSpec) -> ApiResult<Json> {
    use sea_orm::sqlx::Row as _;
    let e = crate::error::ApiError::internal;
    if c.list || c.ty == ScalarType::Json {
        return Ok(row.try_get::<Option<Json>, _>(i).map_err(e)?.unwrap_or(Json::Null));
    }
    Ok(match c.ty {
        ScalarType::Int => row.try_get::<Option<i32>, _>(i).map_err(e)?.map(Json::from),
        ScalarType::Float => {
            row.try_get::<Option<f64>, _>(i).map_err(e)?.and_then(serde_json::Number::from_f64).map(Json::Number)
        }
        ScalarType::Boolean => row.try_get::<Option<bool>, _>(i).map_err(e)?.map(Json::Bool),
        ScalarType::DateTime => {
            row.try_get::<Option<DateTime<Utc>>, _>(i).map_err(e)?.map(|d| Json::String(format_datetime(&d)))
        }
        _ => row.try_get::<Option<String>, _>(i).map_err(e)?.map(Json::String),
    }
    .unwrap_or(Json::Null))
}

fn sqlite_value(row: &sea_orm::sqlx::sqlite::SqliteRow, i: usize, c: &ColumnSpec) -> ApiResult<Json> {
    use sea_orm::sqlx::Row as _;
    let e = crate::error::ApiError::internal;
    if c.list || c.ty == ScalarType::Json {
        return match row.try_get::<Option<String>, _>(i).map_err(e)? {
            Some(s) => serde_json::from_str(&s).map_err(crate::error::ApiError::internal),
            None => Ok(Json::Null),
        };
    }
    Ok(match c.ty {
        ScalarType::Int => row.try_get::<Option<i64>, _>(i).map_err(e)?.map(Json::from),
        ScalarType::Float => {
            row.try_get::<Option<f64>, _>(i).map_err(e)?.and_then(serde_json::Number::from_f64).map(Json::Number)
        }
        ScalarType::Boolean => row.try_get::<Option<bool>, _>(i).map_err(e)?.map(Json::Bool),
        _ => row.try_get::<Option<String>, _>(i).map_err(e)?.map(Json::String),
    }
    .unwrap_or(Json::Null))
}

/// Row `i` of `rows` from column `at` on: the columns `cols` (every scalar column of a model,
/// see [`super::columns`]) as a change's row image.
pub fn row_image(
    rows: &crate::db::pool::Rows,
    i: usize,
    cols: &[ColumnSpec],
    at: usize,
) -> ApiResult<crate::changes::RowImage> {
    use crate::db::pool::Rows;
    let mut image = serde_json::Map::with_capacity(cols.len());
    for (j, c) in cols.iter().enumerate() {
        let v = match rows {
            Rows::Postgres(r) => pg_value(&r[i], at + j, c)?,
            Rows::Sqlite(r) => sqlite_value(&r[i], at + j, c)?,
        };
        image.insert(c.key.clone(), v);
    }
    Ok(image)
}

/// Row `id` of `model` as a change's row image, read through sea-orm (inside a writer's
/// transaction); `None` when there is no such row.
pub async fn read_image<C: sea_orm::ConnectionTrait>(
    db: &C,
    model: &crate::model::Model,
    id: &str,
) -> ApiResult<Option<crate::changes::RowImage>> {
    use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
    let cols = super::columns(model);
    let mut q = Query::select();
    q.from(Alias::new(&model.table));
    for c in &cols {
        q.expr_as(Expr::col(Alias::new(&c.column)), Alias::new(&c.column));
    }
    q.and_where(Expr::col(Alias::new("id")).eq(id.to_string()));
    let backend = db.get_database_backend();
    let Some(row) = db.query_one(&q).await? else { return Ok(None) };
    Ok(Some(decode(&row, &cols, backend)?.values))
}
