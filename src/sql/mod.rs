//! Stage 4: a request (arguments and selection) → sea-query statements with bound values →
//! rows. `filter.rs` compiles the `filter` argument (and, later, `@auth` row rules) into one
//! SQL predicate; `fetch.rs` loads a selection's relations with one statement per relation
//! level; `write.rs` runs create/update/delete.

pub mod access;
pub mod cursor;
pub mod errors;
pub mod fetch;
pub mod filter;
pub mod list;
pub mod rows;
pub mod values;
pub mod write;

use crate::model::{FieldKind, Model, ScalarType, Schema};
use sea_orm::DatabaseBackend;
use sea_orm::sea_query::{Alias, Expr};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A stored column of a model as the SQL layer sees it.
#[derive(Debug, Clone)]
pub struct ColumnSpec {
    /// Key in [`Row::values`]: the GraphQL field name (`title`, `authorId`).
    pub key: String,
    pub column: String,
    pub ty: ScalarType,
    pub list: bool,
    pub nullable: bool,
}

impl ColumnSpec {
    /// The per-row read decision of guarded field `field` of `model`, selected as `__r<n>` (`n`
    /// its position: short whatever the field's name, under PostgreSQL's 63-byte identifiers).
    pub fn guard(model: &Model, field: &str) -> ColumnSpec {
        let n = model.fields.iter().position(|f| f.name == field).unwrap_or(usize::MAX);
        ColumnSpec {
            key: guard_key(field),
            column: format!("__r{n}"),
            ty: ScalarType::Int,
            list: false,
            nullable: false,
        }
    }

    /// A nullable column of a system table read under its own name (`users.roles`, ...).
    pub fn raw(column: &str, ty: ScalarType, list: bool) -> ColumnSpec {
        ColumnSpec { key: column.into(), column: column.into(), ty, list, nullable: true }
    }

    /// For a guard column: the field it decides.
    pub fn guarded_field(&self) -> Option<&str> {
        self.key.strip_prefix(GUARD)
    }
}

/// The stored columns of a model: scalar fields and belongsTo foreign keys.
pub fn columns(model: &Model) -> Vec<ColumnSpec> {
    model
        .fields
        .iter()
        .filter_map(|f| match &f.kind {
            FieldKind::Scalar(s) => Some(ColumnSpec {
                key: f.name.clone(),
                column: s.column.clone(),
                ty: s.ty.clone(),
                list: s.list,
                nullable: !s.required,
            }),
            FieldKind::BelongsTo(b) => Some(ColumnSpec {
                key: b.id_field.clone(),
                column: b.column.clone(),
                ty: ScalarType::Id,
                list: false,
                nullable: !b.required,
            }),
            FieldKind::HasMany(_) => None,
        })
        .collect()
}

/// The column behind a field name usable in filters and ordering (`title`, `authorId`).
pub fn column_for(model: &Model, key: &str) -> Option<ColumnSpec> {
    columns(model).into_iter().find(|c| c.key == key)
}

/// Prefix of the keys in [`Row::values`] holding a guarded field's read decision for that row
/// (`1` readable, `0` not), computed in SQL with the row (see [`guard_key`]). Field names never
/// start with NUL.
const GUARD: &str = "\u{0}r:";

/// The [`Row::values`] key of `field`'s per-row read decision.
pub fn guard_key(field: &str) -> String {
    format!("{GUARD}{field}")
}

/// A loaded row: column values by field name, plus the relations the selection asked for,
/// by response key (alias or field name).
#[derive(Debug, Clone, Default)]
pub struct Row {
    pub values: serde_json::Map<String, serde_json::Value>,
    pub relations: HashMap<String, Relation>,
}

impl Row {
    pub fn id(&self) -> Option<&str> {
        self.values.get("id").and_then(|v| v.as_str())
    }
}

#[derive(Debug, Clone)]
pub enum Relation {
    /// Shared: many child rows may point at one parent.
    One(Option<std::sync::Arc<Row>>),
    Many(Connection),
}

/// One page of a list, as the `...Connection` type shows it.
#[derive(Debug, Clone, Default)]
pub struct Connection {
    pub edges: Vec<Edge>,
    pub has_next_page: bool,
    pub has_previous_page: bool,
    /// Filled when the selection asks for `totalCount`.
    pub total_count: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct Edge {
    pub cursor: String,
    pub row: Row,
}

/// What every statement builder needs: the IR, the SQL dialect, fresh table aliases, and whose
/// `@auth` rules apply.
pub struct SqlCtx<'a> {
    pub schema: &'a Schema,
    pub backend: DatabaseBackend,
    next_alias: AtomicUsize,
    /// The caller whose rules restrict every table read; `None` for the server's own work.
    pub caller: Option<&'a crate::auth::Caller>,
    /// Set while compiling a rule's `where:`: `$user.*`/`$claims.*` placeholders are live and
    /// relation subqueries are not restricted again (rules see all rows; no rule recursion).
    in_rule: std::sync::atomic::AtomicBool,
}

impl<'a> SqlCtx<'a> {
    pub fn new(schema: &'a Schema, backend: DatabaseBackend) -> Self {
        Self {
            schema,
            backend,
            next_alias: AtomicUsize::new(0),
            caller: None,
            in_rule: std::sync::atomic::AtomicBool::new(false),
        }
    }
    /// The same context, restricted by `caller`'s rules.
    pub fn for_caller(schema: &'a Schema, backend: DatabaseBackend, caller: &'a crate::auth::Caller) -> Self {
        Self { caller: Some(caller), ..Self::new(schema, backend) }
    }
    pub fn in_rule(&self) -> bool {
        self.in_rule.load(Ordering::Relaxed)
    }
    pub(crate) fn set_in_rule(&self, on: bool) -> bool {
        self.in_rule.swap(on, Ordering::Relaxed)
    }
    /// A table alias not used elsewhere in the statement: `t0`, `t1`, ...
    pub fn alias(&self) -> String {
        let n = self.next_alias.fetch_add(1, Ordering::Relaxed);
        format!("t{n}")
    }
    pub fn model(&self, name: &str) -> &'a Model {
        self.schema.model(name).expect("relation targets are validated by the parser")
    }
}

/// `alias.column` as an expression.
pub fn col(alias: &str, column: &str) -> Expr {
    Expr::col((Alias::new(alias), Alias::new(column)))
}
