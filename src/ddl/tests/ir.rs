//! Hand-built model IR for the tests (independent of the SDL parser).

use crate::model::naming::snake_case;
use crate::model::*;

fn scalar_field(name: &str, ty: ScalarType, required: bool, managed: Option<Managed>) -> Field {
    Field {
        name: name.to_string(),
        description: None,
        kind: FieldKind::Scalar(ScalarField {
            column: snake_case(name),
            ty,
            list: false,
            required,
            unique: false,
            index: false,
            default: None,
            length: None,
            range: None,
            managed,
        }),
        auth: None,
        span: Span::default(),
    }
}

/// An optional scalar field; refine with [`FieldExt`].
pub fn field(name: &str, ty: ScalarType) -> Field {
    scalar_field(name, ty, false, None)
}

/// `name: Target @belongsTo(onDelete: ...)`, column `<name>_id`.
pub fn belongs_to(name: &str, target: &str, required: bool, on_delete: OnDelete) -> Field {
    Field {
        name: name.to_string(),
        description: None,
        kind: FieldKind::BelongsTo(BelongsTo {
            target: target.to_string(),
            column: format!("{}_id", snake_case(name)),
            id_field: format!("{name}Id"),
            required,
            on_delete,
        }),
        auth: None,
        span: Span::default(),
    }
}

pub trait FieldExt {
    fn scalar(&mut self) -> &mut ScalarField;
    fn required(mut self) -> Self
    where
        Self: Sized,
    {
        self.scalar().required = true;
        self
    }
    fn unique(mut self) -> Self
    where
        Self: Sized,
    {
        self.scalar().unique = true;
        self
    }
    fn index(mut self) -> Self
    where
        Self: Sized,
    {
        self.scalar().index = true;
        self
    }
    fn list(mut self) -> Self
    where
        Self: Sized,
    {
        self.scalar().list = true;
        self
    }
    fn default(mut self, value: serde_json::Value) -> Self
    where
        Self: Sized,
    {
        self.scalar().default = Some(value);
        self
    }
}

impl FieldExt for Field {
    fn scalar(&mut self) -> &mut ScalarField {
        match &mut self.kind {
            FieldKind::Scalar(s) => s,
            _ => panic!("not a scalar field"),
        }
    }
}

fn managed_fields() -> Vec<Field> {
    vec![
        scalar_field("id", ScalarType::Id, true, Some(Managed::Id)),
        scalar_field("createdAt", ScalarType::DateTime, true, Some(Managed::CreatedAt)),
        scalar_field("updatedAt", ScalarType::DateTime, true, Some(Managed::UpdatedAt)),
    ]
}

/// A `@model` type with the managed fields first; table = snake_case plural (`name` + "s").
pub fn model(name: &str, fields: Vec<Field>) -> Model {
    let table = format!("{}s", snake_case(name));
    let mut all = managed_fields();
    all.extend(fields);
    Model {
        name: name.to_string(),
        single: naming::lower_first(name),
        plural: naming::lower_first(&format!("{name}s")),
        table,
        fields: all,
        indexes: vec![],
        auth: None,
        description: None,
        span: Span::default(),
        builtin: false,
    }
}

/// Adds `@index(fields: [...], unique:)` to a model (fields named by column here).
pub fn with_index(mut m: Model, columns: &[&str], unique: bool) -> Model {
    m.indexes.push(CompositeIndex {
        fields: columns.iter().map(|c| c.to_string()).collect(),
        columns: columns.iter().map(|c| c.to_string()).collect(),
        unique,
        span: Span::default(),
    });
    m
}

/// The built-in `User` with extra profile fields.
pub fn user(profile: Vec<Field>) -> Model {
    let mut fields = vec![
        scalar_field("id", ScalarType::Id, true, Some(Managed::Id)),
        scalar_field("email", ScalarType::String, true, None),
        scalar_field("emailVerified", ScalarType::Boolean, true, None),
        scalar_field("roles", ScalarType::String, true, None).list(),
        scalar_field("createdAt", ScalarType::DateTime, true, Some(Managed::CreatedAt)),
        scalar_field("updatedAt", ScalarType::DateTime, true, Some(Managed::UpdatedAt)),
    ];
    fields.extend(profile);
    Model {
        name: "User".into(),
        single: "user".into(),
        plural: "users".into(),
        table: "users".into(),
        fields,
        indexes: vec![],
        auth: None,
        description: None,
        span: Span::default(),
        builtin: true,
    }
}

/// A schema of `models` plus the plain built-in `User` (unless one is given).
pub fn schema(hash: &str, mut models: Vec<Model>) -> Schema {
    if !models.iter().any(|m| m.builtin) {
        models.insert(0, user(vec![]));
    }
    Schema { models, enums: vec![], warnings: vec![], sdl_hash: hash.to_string() }
}
