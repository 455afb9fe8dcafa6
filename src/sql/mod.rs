//! Stage 4: a root field (arguments and selection) → one SQL statement, values always bound.
//!
//! `select.rs` compiles a read (a row by id, a page, with nested relations at any depth) into
//! one statement that returns the whole answer as JSON; `write.rs` compiles create, update and
//! delete (the rule checks folded into the same statement) returning the written row the same
//! way. `filter.rs` compiles the `filter` argument and, through `access.rs`, `@auth` rules into
//! SQL predicates; `cursor.rs` and `list.rs` paging; `params.rs` the bound values, re-bound from
//! each request's variables (`input.rs`) when a compiled plan runs again; `shape.rs` says what
//! the returned JSON holds.

pub mod access;
pub mod cascade;
pub mod cursor;
pub mod errors;
pub mod event;
pub mod filter;
pub mod input;
pub mod list;
pub mod params;
pub mod root;
pub mod rows;
pub mod select;
pub mod shape;
pub mod text;
pub mod values;
pub mod write;

use crate::model::{FieldKind, Model, ScalarType, Schema};
use input::InputEnv;
use sea_orm::DatabaseBackend;
use sea_orm::sea_query::{Alias, Expr};
use std::cell::{Cell, RefCell};

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

/// What every statement builder needs: the IR, the SQL dialect, fresh table aliases, whose
/// `@auth` rules apply, and the slots of the values the statement binds (see [`params`]).
pub struct SqlCtx<'a> {
    pub schema: &'a Schema,
    pub backend: DatabaseBackend,
    next_alias: Cell<usize>,
    /// The caller whose rules restrict every table read; `None` for the server's own work.
    pub caller: Option<&'a crate::auth::Caller>,
    /// Set while compiling a rule's `where:`: `$user.*`/`$claims.*` placeholders are live and
    /// relation subqueries are not restricted again (rules see all rows; no rule recursion).
    in_rule: Cell<bool>,
    /// The request's variables, for reading arguments (see [`input::Input`]).
    pub inputs: &'a InputEnv,
    slots: RefCell<Vec<params::Slot>>,
}

impl<'a> SqlCtx<'a> {
    /// A context for the server's own statements (no rules apply).
    pub fn new(schema: &'a Schema, backend: DatabaseBackend, inputs: &'a InputEnv) -> Self {
        Self {
            schema,
            backend,
            next_alias: Cell::new(0),
            caller: None,
            in_rule: Cell::new(false),
            inputs,
            slots: RefCell::new(Vec::new()),
        }
    }
    /// The same context, restricted by `caller`'s rules.
    pub fn for_caller(
        schema: &'a Schema,
        backend: DatabaseBackend,
        inputs: &'a InputEnv,
        caller: &'a crate::auth::Caller,
    ) -> Self {
        Self { caller: Some(caller), ..Self::new(schema, backend, inputs) }
    }
    pub fn in_rule(&self) -> bool {
        self.in_rule.get()
    }
    pub(crate) fn set_in_rule(&self, on: bool) -> bool {
        self.in_rule.replace(on)
    }
    /// A table alias not used elsewhere in the statement: `t0`, `t1`, ...
    pub fn alias(&self) -> String {
        let n = self.next_alias.get();
        self.next_alias.set(n + 1);
        format!("t{n}")
    }
    pub fn model(&self, name: &str) -> &'a Model {
        self.schema.model(name).expect("relation targets are validated by the parser")
    }
    /// A bound value: a new slot for `source` checked and typed by `conv`, as the expression
    /// that stands for it in the statement.
    pub fn bind(&self, source: params::Source, conv: params::Conv) -> crate::error::ApiResult<Expr> {
        Ok(Expr::cust(params::token(self.slot(source, conv)?)))
    }
    /// A new slot (see [`bind`](Self::bind)); its number.
    pub fn slot(&self, source: params::Source, conv: params::Conv) -> crate::error::ApiResult<usize> {
        let slot = params::Slot::new(source, conv, self.schema, self.backend)?;
        let mut slots = self.slots.borrow_mut();
        slots.push(slot);
        Ok(slots.len() - 1)
    }
    /// The signed-in caller's id, bound.
    pub fn caller_id(&self) -> crate::error::ApiResult<Expr> {
        self.bind(params::Source::CallerId, params::Conv::Scalar(ColumnSpec::raw("id", ScalarType::Id, false)))
    }
    /// The slots bound so far (the compiled statement's).
    pub fn take_slots(&self) -> Vec<params::Slot> {
        self.slots.take()
    }
}

/// `alias.column` as an expression.
pub fn col(alias: &str, column: &str) -> Expr {
    Expr::col((Alias::new(alias), Alias::new(column)))
}
