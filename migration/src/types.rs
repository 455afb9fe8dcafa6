//! The column-type contract shared by the system migrations and the model tables.
//!
//! Other code binds and reads values by these types, so they are spelled out exactly rather
//! than left to sea-query's defaults (which, on SQLite, would be e.g. `timestamp_with_timezone_text`).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

/// Format of a timestamp stored as TEXT on SQLite (UTC, microseconds).
pub const SQLITE_DATETIME_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.6fZ";

/// A storage type, independent of the backend (also how recorded schema snapshots name it:
/// `"text"`, `"datetime"`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SqlType {
    /// `text` everywhere.
    Text,
    /// `integer` everywhere.
    Integer,
    /// `real` on SQLite, `double precision` on PostgreSQL.
    Float,
    /// `boolean` (SQLite stores 0/1).
    Boolean,
    /// `text` on SQLite (fixed format [`SQLITE_DATETIME_FORMAT`]), `timestamptz` on PostgreSQL.
    DateTime,
    /// `text` on SQLite, `jsonb` on PostgreSQL.
    Json,
}

impl SqlType {
    /// The SQL spelling of the type on `backend`.
    pub fn name(self, backend: DbBackend) -> &'static str {
        let pg = backend == DbBackend::Postgres;
        match self {
            SqlType::Text => "text",
            SqlType::Integer => "integer",
            SqlType::Float if pg => "double precision",
            SqlType::Float => "real",
            SqlType::Boolean => "boolean",
            SqlType::DateTime if pg => "timestamptz",
            SqlType::DateTime => "text",
            SqlType::Json if pg => "jsonb",
            SqlType::Json => "text",
        }
    }

    /// The sea-query column type that renders as [`SqlType::name`].
    pub fn column_type(self, backend: DbBackend) -> ColumnType {
        ColumnType::custom(self.name(backend))
    }
}

/// A boolean SQL literal: `0`/`1` on SQLite, `false`/`true` on PostgreSQL.
pub fn bool_literal(backend: DbBackend, value: bool) -> &'static str {
    match (backend, value) {
        (DbBackend::Postgres, true) => "true",
        (DbBackend::Postgres, false) => "false",
        (_, true) => "1",
        (_, false) => "0",
    }
}

/// A column of `ty` named `name` (nullable unless the caller says otherwise).
pub fn column<N: IntoIden>(name: N, ty: SqlType, backend: DbBackend) -> ColumnDef {
    ColumnDef::new_with_type(name, ty.column_type(backend))
}
