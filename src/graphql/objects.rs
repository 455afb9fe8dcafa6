//! Output types: `<Model>`, `<Model>Connection`, `<Model>Edge`.
//!
//! Their values are rendered whole from a compiled statement's answer (see `render.rs`): each
//! field resolves by picking its response key from its parent's value, and a field the caller
//! may not read (a marker in the value) resolves to null with a FORBIDDEN error at its path.

use super::declared_type;
use super::exposed;
use super::render::denied_message;
use crate::error::ApiError;
use crate::model::{FieldKind, Model, Schema, naming};
use async_graphql::Value;
use async_graphql::dynamic::{
    Field, FieldFuture, FieldValue, InputValue, Object, ResolverContext, SchemaBuilder, TypeRef,
};

pub fn register(builder: SchemaBuilder, ir: &Schema, model: &Model) -> SchemaBuilder {
    let name = &model.name;
    let mut obj = Object::new(name).description(model.description.clone().unwrap_or_else(|| format!("A {name} row.")));
    for field in &model.fields {
        let doc = field.description.clone();
        let guarded = crate::sql::access::field_guarded(ir, model, field);
        match &field.kind {
            FieldKind::Scalar(s) if exposed(s) => {
                let d = doc.unwrap_or_else(|| match s.managed {
                    Some(crate::model::Managed::Id) => "Unique id (UUIDv7), set by the server.".into(),
                    Some(crate::model::Managed::CreatedAt) => "When the row was created.".into(),
                    Some(crate::model::Managed::UpdatedAt) => "When the row was last changed.".into(),
                    None => format!("The {} of this {name}.", field.name),
                });
                obj = obj.field(Field::new(&field.name, declared_type(s, s.required && !guarded), pick).description(d));
            }
            FieldKind::Scalar(_) => {}
            FieldKind::BelongsTo(b) => {
                let ty =
                    if b.required && !guarded { TypeRef::named_nn(TypeRef::ID) } else { TypeRef::named(TypeRef::ID) };
                obj = obj.field(
                    Field::new(&b.id_field, ty, pick)
                        .description(format!("Id of the related {} (no join needed).", b.target)),
                );
                let hidden = ir.model(&b.target).is_some_and(crate::sql::access::rows_may_be_hidden);
                let ty = if b.required && !hidden && !guarded {
                    TypeRef::named_nn(&b.target)
                } else {
                    TypeRef::named(&b.target)
                };
                obj = obj.field(
                    Field::new(&field.name, ty, pick)
                        .description(doc.unwrap_or_else(|| format!("The related {}.", b.target))),
                );
            }
            FieldKind::HasMany(h) => {
                let connection = naming::connection_type(&h.target);
                let ty = if guarded { TypeRef::named(connection) } else { TypeRef::named_nn(connection) };
                let f = Field::new(&field.name, ty, pick)
                    .description(doc.unwrap_or_else(|| format!("The related {} rows, as a page.", h.target)));
                obj = obj.field(list_arguments(f, &h.target));
            }
        }
    }
    builder.register(obj).register(connection(model)).register(edge(model))
}

/// Resolves a field from its parent's rendered value, by the field's response key.
pub fn pick(ctx: ResolverContext<'_>) -> FieldFuture<'_> {
    let field = ctx.ctx.field();
    let key = field.alias().unwrap_or(field.name());
    let value = match ctx.parent_value.as_value() {
        Some(Value::Object(o)) => o.get(key),
        _ => None,
    };
    match value {
        None | Some(Value::Null) => FieldFuture::Value(None),
        Some(v) => match denied_message(v) {
            Some(message) => {
                let err: async_graphql::Error = ApiError::forbidden(message).into();
                ctx.ctx.add_error(ctx.ctx.set_error_path(err.into_server_error(ctx.ctx.item.pos)));
                FieldFuture::Value(None)
            }
            None => FieldFuture::Value(Some(FieldValue::value(v.clone()))),
        },
    }
}

/// `filter`, `orderBy`, `first`, `after`, `last`, `before` on a list field.
pub fn list_arguments(f: Field, target: &str) -> Field {
    f.argument(
        InputValue::new("filter", TypeRef::named(naming::filter_type(target)))
            .description("Only rows matching this filter."),
    )
    .argument(
        InputValue::new("orderBy", TypeRef::named_nn_list(naming::order_by_type(target)))
            .description("Sort keys, most significant first; id is always the last tie-breaker."),
    )
    .argument(
        InputValue::new("first", TypeRef::named(TypeRef::INT))
            .description("Page size, from the start or after `after` (default 20, at most 100)."),
    )
    .argument(
        InputValue::new("after", TypeRef::named(TypeRef::STRING))
            .description("Rows after this cursor (an `endCursor` or edge cursor)."),
    )
    .argument(
        InputValue::new("last", TypeRef::named(TypeRef::INT))
            .description("Page size, from the end or before `before`."),
    )
    .argument(
        InputValue::new("before", TypeRef::named(TypeRef::STRING))
            .description("Rows before this cursor (a `startCursor` or edge cursor)."),
    )
}

fn connection(model: &Model) -> Object {
    let name = &model.name;
    Object::new(naming::connection_type(name))
        .description(format!("A page of {name} rows."))
        .field(
            Field::new("edges", TypeRef::named_nn_list_nn(naming::edge_type(name)), pick)
                .description("The rows of this page with their cursors."),
        )
        .field(Field::new("nodes", TypeRef::named_nn_list_nn(name), pick).description("The rows of this page."))
        .field(
            Field::new("pageInfo", TypeRef::named_nn("PageInfo"), pick)
                .description("Cursors and whether more pages exist."),
        )
        .field(
            Field::new("totalCount", TypeRef::named_nn(TypeRef::INT), pick)
                .description("How many rows match the filter in all pages."),
        )
}

fn edge(model: &Model) -> Object {
    let name = &model.name;
    Object::new(naming::edge_type(name))
        .description(format!("A {name} row with its cursor."))
        .field(
            Field::new("cursor", TypeRef::named_nn(TypeRef::STRING), pick)
                .description("Opaque position of this row; pass it as `after` or `before`."),
        )
        .field(Field::new("node", TypeRef::named_nn(name), pick).description(format!("The {name} row.")))
}
