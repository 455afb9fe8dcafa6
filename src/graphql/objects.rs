//! Output types: `<Model>`, `<Model>Connection`, `<Model>Edge`.

use super::context::on_parent;
use super::{declared_type, exposed};
use crate::error::ApiError;
use crate::model::{FieldKind, Model, ScalarType, Schema};
use crate::sql::{Connection, Edge, Relation, Row};
use async_graphql::dynamic::{
    Field, FieldFuture, FieldValue, InputValue, Object, ResolverContext, SchemaBuilder, TypeRef,
};
use async_graphql::{Name, Value};
use serde_json::Value as Json;

pub fn register(builder: SchemaBuilder, ir: &Schema, model: &Model) -> SchemaBuilder {
    let name = &model.name;
    let mut obj = Object::new(name).description(model.description.clone().unwrap_or_else(|| format!("A {name} row.")));
    for field in &model.fields {
        let doc = field.description.clone();
        let guarded = crate::sql::access::field_guarded(ir, model, field);
        match &field.kind {
            FieldKind::Scalar(s) if exposed(s) => {
                let (key, ty) = (field.name.clone(), s.ty.clone());
                let guard = Guard::new(guarded, model, field, &field.name);
                let d = doc.unwrap_or_else(|| match s.managed {
                    Some(crate::model::Managed::Id) => "Unique id (UUIDv7), set by the server.".into(),
                    Some(crate::model::Managed::CreatedAt) => "When the row was created.".into(),
                    Some(crate::model::Managed::UpdatedAt) => "When the row was last changed.".into(),
                    None => format!("The {} of this {name}.", field.name),
                });
                obj = obj.field(
                    Field::new(&field.name, declared_type(s, s.required && !guarded), move |ctx| {
                        on_row(&ctx, &guard, |row| {
                            Ok(match row.values.get(&key) {
                                None | Some(Json::Null) => None,
                                Some(v) => Some(FieldValue::value(to_graphql(v, &ty))),
                            })
                        })
                    })
                    .description(d),
                );
            }
            FieldKind::Scalar(_) => {}
            FieldKind::BelongsTo(b) => {
                let key = b.id_field.clone();
                let guard = Guard::new(guarded, model, field, &b.id_field);
                let ty =
                    if b.required && !guarded { TypeRef::named_nn(TypeRef::ID) } else { TypeRef::named(TypeRef::ID) };
                obj = obj.field(
                    Field::new(&b.id_field, ty, move |ctx| {
                        on_row(&ctx, &guard, |row| {
                            let id = row.values.get(&key).unwrap_or(&Json::Null);
                            Ok(Some(FieldValue::value(to_graphql(id, &ScalarType::Id))))
                        })
                    })
                    .description(format!("Id of the related {} (no join needed).", b.target)),
                );
                let hidden = ir.model(&b.target).is_some_and(crate::sql::access::rows_may_be_hidden);
                let ty = if b.required && !hidden && !guarded {
                    TypeRef::named_nn(&b.target)
                } else {
                    TypeRef::named(&b.target)
                };
                let (id_key, target) = (b.id_field.clone(), b.target.clone());
                let guard = Guard::new(guarded, model, field, &field.name);
                obj = obj.field(
                    Field::new(&field.name, ty, move |ctx| {
                        on_row(&ctx, &guard, |row| {
                            match relation(row, &ctx)? {
                                Relation::One(Some(r)) => Ok(Some(FieldValue::borrowed_any(r.as_ref()))),
                                // The key is set but the row did not load: it exists, unreadable.
                                Relation::One(None) if row.values.get(&id_key).is_some_and(|v| !v.is_null()) => {
                                    deny(&ctx, format!("you may not read this {target} (@auth rules)"))
                                }
                                Relation::One(None) => Ok(None),
                                Relation::Many(_) => Err(ApiError::internal("relation shape mismatch").into()),
                            }
                        })
                    })
                    .description(doc.unwrap_or_else(|| format!("The related {}.", b.target))),
                );
            }
            FieldKind::HasMany(h) => {
                let connection = format!("{}Connection", h.target);
                let ty = if guarded { TypeRef::named(connection) } else { TypeRef::named_nn(connection) };
                let guard = Guard::new(guarded, model, field, &field.name);
                let f = Field::new(&field.name, ty, move |ctx| {
                    on_row(&ctx, &guard, |row| match relation(row, &ctx)? {
                        Relation::Many(c) => Ok(Some(FieldValue::borrowed_any(c))),
                        Relation::One(_) => Err(ApiError::internal("relation shape mismatch").into()),
                    })
                })
                .description(doc.unwrap_or_else(|| format!("The related {} rows, as a page.", h.target)));
                obj = obj.field(list_arguments(f, &h.target));
            }
        }
    }
    builder.register(obj).register(connection(model)).register(edge(model))
}

/// A field the caller may not read: null, with a FORBIDDEN error at the field's path.
/// (async-graphql's dynamic executor drops the path of errors resolvers return, so the error
/// is recorded here; see `http::graphql::with_codes` for the non-null case.)
fn deny<'a>(
    ctx: &async_graphql::dynamic::ResolverContext<'_>,
    message: String,
) -> async_graphql::Result<Option<FieldValue<'a>>> {
    let err: async_graphql::Error = ApiError::forbidden(message).into();
    ctx.ctx.add_error(ctx.ctx.set_error_path(err.into_server_error(ctx.ctx.item.pos)));
    Ok(None)
}

/// Resolves a field of the row being resolved (see [`on_parent`]); when `guard` denies the
/// caller the field in this row, the answer is null with FORBIDDEN at the field's path.
fn on_row<'a>(
    ctx: &ResolverContext<'a>,
    guard: &Option<Guard>,
    answer: impl FnOnce(&'a Row) -> async_graphql::Result<Option<FieldValue<'a>>>,
) -> FieldFuture<'a> {
    on_parent(ctx, |row: &'a Row| match guard {
        Some(g) if !g.readable(ctx, row) => deny(ctx, g.message.clone()),
        _ => answer(row),
    })
}

/// The read check of a guarded field (field-level `@auth`, a guarded relation link, the built-in
/// User's own fields), built once with the schema: the key of the per-row decision computed in
/// SQL with the row (see `sql::fetch::needed_columns`), and the message a denied caller gets.
struct Guard {
    decision: String,
    message: String,
}

impl Guard {
    /// `shown` is the API field the message names (`authorId` for a belongsTo's id field).
    fn new(guarded: bool, model: &Model, field: &crate::model::Field, shown: &str) -> Option<Guard> {
        guarded.then(|| Guard {
            decision: crate::sql::guard_key(&field.name),
            message: format!("you may not read {}.{shown} (field @auth rules)", model.name),
        })
    }

    /// Whether the caller may read the field in `row`. A row loaded without a decision was read
    /// by the server for itself or for admin: only admin may see the field.
    fn readable(&self, ctx: &ResolverContext<'_>, row: &Row) -> bool {
        match row.values.get(&self.decision) {
            Some(decision) => decision.as_i64() == Some(1),
            None => ctx.data_opt::<crate::auth::Caller>().is_some_and(crate::auth::Caller::is_admin),
        }
    }
}

/// The prefetched relation of the field being resolved (keyed by its response key).
fn relation<'a>(
    row: &'a Row,
    ctx: &async_graphql::dynamic::ResolverContext<'_>,
) -> async_graphql::Result<&'a Relation> {
    let f = ctx.ctx.field();
    let key = f.alias().unwrap_or(f.name());
    row.relations.get(key).ok_or_else(|| ApiError::internal(format!("relation {key} was not loaded")).into())
}

/// `filter`, `orderBy`, `first`, `after`, `last`, `before` on a list field.
pub fn list_arguments(f: Field, target: &str) -> Field {
    f.argument(
        InputValue::new("filter", TypeRef::named(format!("{target}Filter")))
            .description("Only rows matching this filter."),
    )
    .argument(
        InputValue::new("orderBy", TypeRef::named_nn_list(format!("{target}OrderBy")))
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
    Object::new(format!("{name}Connection"))
        .description(format!("A page of {name} rows."))
        .field(
            Field::new("edges", TypeRef::named_nn_list_nn(format!("{name}Edge")), |ctx| {
                on_parent(&ctx, |c: &Connection| {
                    Ok(Some(FieldValue::list(c.edges.iter().map(|e| FieldValue::borrowed_any(e)))))
                })
            })
            .description("The rows of this page with their cursors."),
        )
        .field(
            Field::new("nodes", TypeRef::named_nn_list_nn(name), |ctx| {
                on_parent(&ctx, |c: &Connection| {
                    Ok(Some(FieldValue::list(c.edges.iter().map(|e| FieldValue::borrowed_any(&e.row)))))
                })
            })
            .description("The rows of this page."),
        )
        .field(
            Field::new("pageInfo", TypeRef::named_nn("PageInfo"), |ctx| {
                on_parent(&ctx, |c: &Connection| Ok(Some(FieldValue::borrowed_any(c))))
            })
            .description("Cursors and whether more pages exist."),
        )
        .field(
            Field::new("totalCount", TypeRef::named_nn(TypeRef::INT), |ctx| {
                on_parent(&ctx, |c: &Connection| {
                    let n = c.total_count.ok_or_else(|| ApiError::internal("totalCount was not loaded"))?;
                    Ok(Some(Value::from(i32::try_from(n).unwrap_or(i32::MAX)).into()))
                })
            })
            .description("How many rows match the filter in all pages."),
        )
}

fn edge(model: &Model) -> Object {
    let name = &model.name;
    Object::new(format!("{name}Edge"))
        .description(format!("A {name} row with its cursor."))
        .field(
            Field::new("cursor", TypeRef::named_nn(TypeRef::STRING), |ctx| {
                on_parent(&ctx, |e: &Edge| Ok(Some(Value::from(e.cursor.clone()).into())))
            })
            .description("Opaque position of this row; pass it as `after` or `before`."),
        )
        .field(
            Field::new("node", TypeRef::named_nn(name), |ctx| {
                on_parent(&ctx, |e: &Edge| Ok(Some(FieldValue::borrowed_any(&e.row))))
            })
            .description(format!("The {name} row.")),
        )
}

/// A stored value as a GraphQL output value (enums as enum values).
pub fn to_graphql(v: &Json, ty: &ScalarType) -> Value {
    match (v, ty) {
        (Json::Null, _) => Value::Null,
        (Json::String(s), ScalarType::Enum(_)) => Value::Enum(Name::new(s)),
        (Json::Array(items), ScalarType::Enum(_)) => Value::List(items.iter().map(|i| to_graphql(i, ty)).collect()),
        // The common cases directly, without a serde pass.
        (Json::String(s), _) => Value::String(s.clone()),
        (Json::Bool(b), _) => Value::Boolean(*b),
        (Json::Number(n), _) => Value::Number(n.clone()),
        _ => Value::from_json(v.clone()).unwrap_or(Value::Null),
    }
}
