//! The physical schema: tables, columns, foreign keys and indexes derived from the model IR.
//!
//! It is also the snapshot format: the physical schema after each applied migration is stored
//! as JSON in `ferrobase_schema_migrations`, and the next plan diffs against it.

use crate::model::{FieldKind, Managed, Model, OnDelete, ScalarField, ScalarType, Schema};
use migration::types::{SQLITE_DATETIME_FORMAT, SqlType, bool_literal};
use sea_orm::DbBackend;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Version of the snapshot JSON written by this code.
pub const SNAPSHOT_VERSION: u32 = 1;

/// PostgreSQL truncates identifiers beyond 63 bytes; longer names get a hash suffix.
const MAX_IDENT: usize = 63;

/// Every table the declared models need, by table name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhysicalSchema {
    pub version: u32,
    pub tables: BTreeMap<String, Table>,
}

/// One table. For a system table (`users`) only the profile columns and their indexes are
/// listed: the table itself and its other columns belong to the system migrations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Table {
    pub name: String,
    #[serde(default)]
    pub system: bool,
    pub columns: Vec<Column>,
    /// Sorted by name.
    pub indexes: Vec<Index>,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// The storage type of a scalar field.
pub fn storage_type(ty: &ScalarType, list: bool) -> SqlType {
    if list {
        return SqlType::Json;
    }
    match ty {
        ScalarType::Id | ScalarType::String | ScalarType::Enum(_) | ScalarType::File => SqlType::Text,
        ScalarType::Int => SqlType::Integer,
        ScalarType::Float => SqlType::Float,
        ScalarType::Boolean => SqlType::Boolean,
        ScalarType::DateTime => SqlType::DateTime,
        ScalarType::Json => SqlType::Json,
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: SqlType,
    pub nullable: bool,
    /// The DEFAULT clause as a SQL literal of the column type on this database.
    pub default: Option<String>,
    #[serde(default)]
    pub primary_key: bool,
    pub references: Option<Reference>,
}

impl Column {
    /// `text NOT NULL DEFAULT 'x' REFERENCES users (id) ON DELETE CASCADE`, for plans.
    pub fn summary(&self, backend: DbBackend) -> String {
        let mut s = self.ty.name(backend).to_string();
        if self.primary_key {
            s.push_str(" PRIMARY KEY");
        } else if !self.nullable {
            s.push_str(" NOT NULL");
        }
        if let Some(d) = &self.default {
            s.push_str(" DEFAULT ");
            s.push_str(d);
        }
        if let Some(r) = &self.references {
            s.push(' ');
            s.push_str(&r.summary());
        }
        s
    }
}

/// A foreign key from one column to `table(column)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reference {
    pub table: String,
    pub column: String,
    pub on_delete: OnDelete,
}

impl Reference {
    pub fn summary(&self) -> String {
        format!("REFERENCES {} ({}) ON DELETE {}", self.table, self.column, on_delete_sql(self.on_delete))
    }
}

/// `CASCADE`, `SET NULL`, `RESTRICT`.
pub fn on_delete_sql(on_delete: OnDelete) -> &'static str {
    match on_delete {
        OnDelete::Restrict => "RESTRICT",
        OnDelete::Cascade => "CASCADE",
        OnDelete::SetNull => "SET NULL",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Index {
    pub name: String,
    pub columns: Vec<String>,
    pub unique: bool,
}

impl Index {
    pub fn summary(&self, table: &str) -> String {
        let kind = if self.unique { "unique index" } else { "index" };
        format!("{kind} {} on {table} ({})", self.name, self.columns.join(", "))
    }
}

/// A deterministic constraint or index name: `<prefix>_<table>_<columns>`, shortened with a hash
/// suffix when longer than PostgreSQL's 63-byte limit.
pub fn object_name(prefix: &str, table: &str, columns: &[String]) -> String {
    let full = format!("{prefix}_{table}_{}", columns.join("_"));
    if full.len() <= MAX_IDENT {
        return full;
    }
    let hash = Sha256::digest(full.as_bytes());
    let suffix: String = hash.iter().take(4).map(|b| format!("{b:02x}")).collect();
    let mut cut = MAX_IDENT - suffix.len() - 1;
    while !full.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}_{suffix}", &full[..cut])
}

/// Name of the foreign-key constraint on `table.column`.
pub fn fk_name(table: &str, column: &str) -> String {
    object_name("fk", table, &[column.to_string()])
}

impl PhysicalSchema {
    pub fn empty() -> Self {
        PhysicalSchema { version: SNAPSHOT_VERSION, tables: BTreeMap::new() }
    }
}

/// Derives the physical schema the declared models need on `backend`. Reports every problem
/// found (a reserved table name, a default that does not fit its column) in one error.
pub fn derive(schema: &Schema, backend: DbBackend) -> anyhow::Result<PhysicalSchema> {
    let mut out = PhysicalSchema::empty();
    let mut problems = Vec::new();
    for model in &schema.models {
        let table = derive_table(schema, model, backend, &mut problems);
        if let Some(prev) = out.tables.get(&table.name) {
            problems.push(format!("models share the table `{}` ({} and {})", table.name, prev.name, model.name));
            continue;
        }
        out.tables.insert(table.name.clone(), table);
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        anyhow::bail!("the declared models cannot be mapped to tables:\n  {}", problems.join("\n  "))
    }
}

fn derive_table(schema: &Schema, model: &Model, backend: DbBackend, problems: &mut Vec<String>) -> Table {
    let system = model.builtin;
    if !system && migration::is_reserved_table(&model.table) {
        problems.push(format!(
            "model `{}` uses the table name `{}`, which is reserved for a system table; choose another model name",
            model.name, model.table
        ));
    }
    let mut columns: Vec<Column> = Vec::new();
    let mut indexes: BTreeMap<Vec<String>, bool> = BTreeMap::new();
    for field in &model.fields {
        if system && crate::model::BUILTIN_USER_FIELDS.contains(&field.name.as_str()) {
            continue;
        }
        let column = match &field.kind {
            FieldKind::HasMany(_) => continue,
            FieldKind::Scalar(s) => {
                if s.unique {
                    indexes.insert(vec![s.column.clone()], true);
                } else if s.index {
                    indexes.entry(vec![s.column.clone()]).or_insert(false);
                }
                let default = match &s.default {
                    Some(v) => match render_default(s, v, backend) {
                        Ok(d) => Some(d),
                        Err(e) => {
                            problems.push(format!("{}.{}: {e}", model.name, field.name));
                            None
                        }
                    },
                    None => None,
                };
                let primary_key = !system && (s.managed == Some(Managed::Id) || s.column == "id");
                Column {
                    name: s.column.clone(),
                    ty: storage_type(&s.ty, s.list),
                    nullable: !s.required && !primary_key,
                    default,
                    primary_key,
                    references: None,
                }
            }
            FieldKind::BelongsTo(b) => {
                let Some(target) = schema.model(&b.target) else {
                    problems.push(format!("{}.{}: unknown target model `{}`", model.name, field.name, b.target));
                    continue;
                };
                Column {
                    name: b.column.clone(),
                    ty: SqlType::Text,
                    nullable: !b.required,
                    default: None,
                    primary_key: false,
                    references: Some(Reference {
                        table: target.table.clone(),
                        column: "id".to_string(),
                        on_delete: b.on_delete,
                    }),
                }
            }
        };
        if system && migration::USERS_SYSTEM_COLUMNS.contains(&column.name.as_str()) {
            problems.push(format!(
                "User.{}: the column `{}` is a system column of `users`; rename the profile field",
                field.name, column.name
            ));
            continue;
        }
        if columns.iter().any(|c| c.name == column.name) {
            problems.push(format!("{}.{}: duplicate column `{}`", model.name, field.name, column.name));
            continue;
        }
        columns.push(column);
    }
    for composite in &model.indexes {
        let entry = indexes.entry(composite.columns.clone()).or_insert(false);
        *entry |= composite.unique;
    }
    // Lists ordered by creation time (newest first is the usual feed) read an index, not a
    // sorted scan of the table.
    if !system && !indexes.keys().any(|cols| cols.first().is_some_and(|c| c == "created_at")) {
        indexes.insert(vec!["created_at".to_string()], false);
    }
    // A foreign key column gets an index unless another index already starts with it.
    for column in columns.iter().filter(|c| c.references.is_some()) {
        if !indexes.keys().any(|cols| cols.first() == Some(&column.name)) {
            indexes.insert(vec![column.name.clone()], false);
        }
    }
    let mut indexes: Vec<Index> = indexes
        .into_iter()
        .map(|(cols, unique)| Index {
            name: object_name(if unique { "uq" } else { "idx" }, &model.table, &cols),
            columns: cols,
            unique,
        })
        .collect();
    indexes.sort_by(|a, b| a.name.cmp(&b.name));
    Table { name: model.table.clone(), system, columns, indexes }
}

/// A SQL string literal, quotes doubled.
pub fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// A quoted SQL identifier (`"name"`), quotes doubled.
pub fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// Renders `@default(value:)` as a SQL literal of the column's type.
fn render_default(field: &ScalarField, value: &serde_json::Value, backend: DbBackend) -> Result<String, String> {
    use serde_json::Value;
    let text = |s: &str| -> Result<String, String> {
        if s.contains('\0') {
            return Err("a default may not contain a NUL character".into());
        }
        Ok(quote_literal(s))
    };
    match storage_type(&field.ty, field.list) {
        SqlType::Json => text(&value.to_string()),
        SqlType::Text => match value {
            Value::String(s) => text(s),
            other => Err(format!("the default {other} is not a string")),
        },
        SqlType::Integer => match value.as_i64() {
            Some(n) => Ok(n.to_string()),
            None => Err(format!("the default {value} is not an integer")),
        },
        SqlType::Float => match value.as_f64() {
            Some(n) if n.is_finite() => Ok(value.to_string()),
            _ => Err(format!("the default {value} is not a number")),
        },
        SqlType::Boolean => match value.as_bool() {
            Some(b) => Ok(bool_literal(backend, b).to_string()),
            None => Err(format!("the default {value} is not a boolean")),
        },
        SqlType::DateTime => {
            let Value::String(s) = value else {
                return Err(format!("the default {value} is not a DateTime string"));
            };
            let parsed = chrono::DateTime::parse_from_rfc3339(s)
                .map_err(|e| format!("the default {s:?} is not an RFC 3339 DateTime: {e}"))?;
            let utc = parsed.with_timezone(&chrono::Utc);
            match backend {
                DbBackend::Postgres => text(&utc.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
                _ => text(&utc.format(SQLITE_DATETIME_FORMAT).to_string()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_names_are_shortened_deterministically() {
        let cols = vec!["a_really_long_column_name".to_string(), "another_really_long_column".to_string()];
        let a = object_name("uq", "some_long_table_name", &cols);
        assert!(a.len() <= MAX_IDENT, "{a}");
        assert_eq!(a, object_name("uq", "some_long_table_name", &cols));
        assert_ne!(a, object_name("idx", "some_long_table_name", &cols));
        assert_eq!(object_name("idx", "posts", &["slug".into()]), "idx_posts_slug");
    }

    #[test]
    fn quotes_are_escaped() {
        assert_eq!(quote_literal("it's"), "'it''s'");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
    }
}
