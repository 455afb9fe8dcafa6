//! The model IR: what `schema/*.graphql` declares, resolved and validated. Pure data, no I/O.
//!
//! Every later stage reads only this: the DDL planner derives tables from it, the GraphQL
//! builder derives types from it, and the SQL compiler uses it to name tables and columns.

use serde::{Deserialize, Serialize};

/// A place in a schema file, for diagnostics (`file:line:column: message`).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Span {
    pub file: String,
    pub line: usize,
    pub column: usize,
}

/// The whole declared application.
#[derive(Debug, Clone, Default)]
pub struct Schema {
    /// Declared `@model` types plus the built-in `User` (with `builtin: true`), in source order.
    pub models: Vec<Model>,
    pub enums: Vec<EnumDef>,
    /// Non-fatal findings (e.g. a model without `@auth`), printed by `schema check`.
    pub warnings: Vec<crate::model::Diagnostic>,
    /// Hash of the source text, recorded with each applied migration.
    pub sdl_hash: String,
}

impl Schema {
    pub fn model(&self, name: &str) -> Option<&Model> {
        self.models.iter().find(|m| m.name == name)
    }
    pub fn enum_def(&self, name: &str) -> Option<&EnumDef> {
        self.enums.iter().find(|e| e.name == name)
    }
    /// Models that get CRUD queries and mutations (everything but built-ins).
    pub fn user_models(&self) -> impl Iterator<Item = &Model> {
        self.models.iter().filter(|m| !m.builtin)
    }
}

#[derive(Debug, Clone)]
pub struct EnumDef {
    pub name: String,
    pub values: Vec<String>,
    pub description: Option<String>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Model {
    /// GraphQL type name, PascalCase: `Post`.
    pub name: String,
    /// Single query field: `post`.
    pub single: String,
    /// List query field: `posts` (English plural or `@model(plural:)`).
    pub plural: String,
    /// SQL table: `posts`.
    pub table: String,
    /// Managed fields (`id`, `createdAt`, `updatedAt`) first, then declared fields in order.
    pub fields: Vec<Field>,
    /// `@index(fields: [...], unique:)` on the type.
    pub indexes: Vec<CompositeIndex>,
    /// Type-level `@auth` rules; `None` when the type has no `@auth` (admin only).
    pub auth: Option<Vec<AuthRule>>,
    pub description: Option<String>,
    pub span: Span,
    /// The built-in `User`: its table is a system table, it gets no generated CRUD.
    pub builtin: bool,
}

impl Model {
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }
    /// The foreign-key column of belongsTo `field` (an internal error if it is not one: the
    /// parser guarantees owner fields and hasMany `via` fields are).
    pub fn belongs_to_column(&self, field: &str) -> crate::error::ApiResult<&str> {
        match self.field(field).map(|f| &f.kind) {
            Some(FieldKind::BelongsTo(b)) => Ok(&b.column),
            _ => Err(crate::error::ApiError::internal(format!("{}.{field} is not a belongsTo", self.name))),
        }
    }
    /// The field behind an API key: a field's name, or a belongsTo's id field (`authorId`).
    pub fn field_by_key(&self, key: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == key || matches!(&f.kind, FieldKind::BelongsTo(b) if b.id_field == key))
    }
    /// Stored columns: scalar fields and belongsTo foreign keys, in field order.
    pub fn scalar_fields(&self) -> impl Iterator<Item = (&Field, &ScalarField)> {
        self.fields.iter().filter_map(|f| match &f.kind {
            FieldKind::Scalar(s) => Some((f, s)),
            _ => None,
        })
    }
    pub fn belongs_to(&self) -> impl Iterator<Item = (&Field, &BelongsTo)> {
        self.fields.iter().filter_map(|f| match &f.kind {
            FieldKind::BelongsTo(b) => Some((f, b)),
            _ => None,
        })
    }
    pub fn has_many(&self) -> impl Iterator<Item = (&Field, &HasMany)> {
        self.fields.iter().filter_map(|f| match &f.kind {
            FieldKind::HasMany(h) => Some((f, h)),
            _ => None,
        })
    }
}

#[derive(Debug, Clone)]
pub struct Field {
    /// GraphQL field name, camelCase: `publishedAt`.
    pub name: String,
    pub description: Option<String>,
    pub kind: FieldKind,
    /// Field-level `@auth` rules.
    pub auth: Option<Vec<AuthRule>>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum FieldKind {
    Scalar(ScalarField),
    BelongsTo(BelongsTo),
    HasMany(HasMany),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Managed {
    Id,
    CreatedAt,
    UpdatedAt,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ScalarType {
    Id,
    String,
    /// 32-bit, per the GraphQL spec.
    Int,
    Float,
    Boolean,
    /// RFC 3339, stored UTC.
    DateTime,
    Json,
    /// A declared enum, by name; stored as its value's name.
    Enum(String),
    /// A reference to an uploaded file (SPEC section 5); stored as the file's id.
    File,
}

impl ScalarType {
    /// The type's name in SDL and in the generated API: `ID`, `String`, `DateTime`, an enum's.
    pub fn name(&self) -> &str {
        match self {
            ScalarType::Id => "ID",
            ScalarType::String => "String",
            ScalarType::Int => "Int",
            ScalarType::Float => "Float",
            ScalarType::Boolean => "Boolean",
            ScalarType::DateTime => "DateTime",
            ScalarType::Json => "JSON",
            ScalarType::Enum(name) => name,
            ScalarType::File => "File",
        }
    }
}

#[derive(Debug, Clone)]
pub struct ScalarField {
    /// SQL column: `published_at`.
    pub column: String,
    pub ty: ScalarType,
    /// `[T]`: stored as JSON.
    pub list: bool,
    /// Declared non-null (`T!` or `[T]!`).
    pub required: bool,
    pub unique: bool,
    /// `@index` on the field.
    pub index: bool,
    /// `@default(value:)`, as JSON of the field's type (enum values as strings).
    pub default: Option<serde_json::Value>,
    /// `@length(min:, max:)`: characters for strings, items for lists.
    pub length: Option<Bounds>,
    /// `@range(min:, max:)` for Int and Float.
    pub range: Option<Bounds>,
    /// `Some` for the server-maintained fields clients never write.
    pub managed: Option<Managed>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Bounds {
    pub min: Option<f64>,
    pub max: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OnDelete {
    Restrict,
    Cascade,
    SetNull,
}

#[derive(Debug, Clone)]
pub struct BelongsTo {
    /// Target model name (may be the built-in `User`).
    pub target: String,
    /// Foreign-key column: `author_id`.
    pub column: String,
    /// The generated id field: `authorId`.
    pub id_field: String,
    /// Declared non-null: the foreign key is NOT NULL.
    pub required: bool,
    pub on_delete: OnDelete,
}

#[derive(Debug, Clone)]
pub struct HasMany {
    /// Target model name.
    pub target: String,
    /// Name of the `@belongsTo` field on the target that points back here.
    pub via: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CompositeIndex {
    /// Field names as declared (belongsTo fields may be named by `author` or `authorId`).
    pub fields: Vec<String>,
    /// Resolved SQL columns, same order.
    pub columns: Vec<String>,
    pub unique: bool,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Operation {
    Create,
    Read,
    Update,
    Delete,
}

impl Operation {
    pub const ALL: [Operation; 4] = [Self::Create, Self::Read, Self::Update, Self::Delete];

    /// As written in `operations: [...]`, and as the verb of messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "create",
            Operation::Read => "read",
            Operation::Update => "update",
            Operation::Delete => "delete",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum AuthAllow {
    /// Anyone, signed in or not.
    Public,
    /// Any signed-in user.
    Private,
    /// Rows whose `field` (a `@belongsTo` to `User`) is the caller.
    Owner { field: String },
    /// Callers holding one of the roles (Amplify's `groups` is an alias).
    Roles(Vec<String>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct AuthRule {
    pub allow: AuthAllow,
    /// Operations the rule grants; all four when not given.
    pub operations: Vec<Operation>,
    /// Row condition in the model's filter syntax (`$user.*` / `$claims.*` placeholders kept
    /// as strings), validated against the models' fields and the operator grammar.
    pub condition: Option<async_graphql::Value>,
    pub span: Span,
}
