//! Constraint violations → `CONFLICT` errors that say which rule and field, in the model's
//! terms (never SQL).

use super::columns;
use crate::error::ApiError;
use crate::model::Model;
use sea_orm::{DbErr, RuntimeErr, SqlErr};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOp {
    Write,
    Delete,
}

/// The error for a failed write of `model` (`schema` names the rows that refer to it).
pub fn write_error(model: &Model, e: DbErr, op: WriteOp, schema: &[Model]) -> ApiError {
    match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(msg)) => {
            let fields = unique_fields(model, &msg, &e);
            let mut err = ApiError::conflict(if fields.is_empty() {
                format!("a {} with these values already exists (@unique)", model.name)
            } else {
                format!("a {} with this {} already exists (@unique)", model.name, fields.join(" and "))
            });
            err.field = fields.into_iter().next();
            err
        }
        Some(SqlErr::ForeignKeyConstraintViolation(_)) if op == WriteOp::Delete => {
            let refs: Vec<String> = schema
                .iter()
                .flat_map(|m| {
                    m.belongs_to()
                        .filter(|(_, b)| b.target == model.name && b.on_delete == crate::model::OnDelete::Restrict)
                        .map(move |(f, _)| format!("{}.{}", m.name, f.name))
                })
                .collect();
            ApiError::conflict(format!(
                "cannot delete this {}: other rows still refer to it ({}; onDelete: RESTRICT)",
                model.name,
                refs.join(", ")
            ))
        }
        Some(SqlErr::ForeignKeyConstraintViolation(_)) => {
            let rels: Vec<String> = model.belongs_to().map(|(_, b)| format!("{} ({})", b.id_field, b.target)).collect();
            ApiError::conflict(format!("a referenced row does not exist: check {}", rels.join(", ")))
        }
        _ => ApiError::internal(e),
    }
}

/// The fields of a unique violation: SQLite names `table.column`; PostgreSQL's detail says
/// `Key (column)=(...)`.
fn unique_fields(model: &Model, msg: &str, e: &DbErr) -> Vec<String> {
    let mut cols: Vec<String> = Vec::new();
    if let Some(list) = msg.strip_prefix("UNIQUE constraint failed: ") {
        cols = list.split(", ").filter_map(|tc| tc.split('.').nth(1)).map(str::to_string).collect();
    }
    if let DbErr::Exec(RuntimeErr::SqlxError(err)) | DbErr::Query(RuntimeErr::SqlxError(err)) = e
        && let Some(db) = err.as_database_error()
        && let Some(pg) = db.try_downcast_ref::<sea_orm::sqlx::postgres::PgDatabaseError>()
        && let Some(detail) = pg.detail()
        && let Some(inner) = detail.strip_prefix("Key (").and_then(|d| d.split(")=").next())
    {
        cols = inner.split(", ").map(str::to_string).collect();
    }
    let specs = columns(model);
    cols.iter().filter_map(|c| specs.iter().find(|s| &s.column == c).map(|s| s.key.clone())).collect()
}
