//! Filter and ordering inputs: `StringFilter`, ..., `<Model>Filter`, `<Model>ListFilter`,
//! `<Model>OrderBy`.

use super::exposed;
use crate::model::operators::{FILTERABLE_SCALARS, Operand, Quantifier, filter_input, operators_of};
use crate::model::{FieldKind, Model, ScalarType, Schema, naming};
use async_graphql::dynamic::{InputObject, InputValue, SchemaBuilder, TypeRef};

/// `<Type>Filter`: the operators of the operator grammar that apply to `ty`.
fn filter_type(ty: &ScalarType) -> InputObject {
    let of = ty.name();
    let mut o = InputObject::new(naming::filter_type(of))
        .description(format!("Conditions on a {of} field; all given conditions must hold."));
    for op in operators_of(ty) {
        let operand = match op.operand() {
            Operand::One => TypeRef::named(of),
            Operand::List => TypeRef::named_nn_list(of),
            Operand::Boolean => TypeRef::named(TypeRef::BOOLEAN),
        };
        o = o.field(InputValue::new(op.name(), operand).description(op.description()));
    }
    o
}

/// Filter inputs for the built-in scalars and every declared enum.
pub fn register_shared(mut builder: SchemaBuilder, ir: &Schema) -> SchemaBuilder {
    for ty in &FILTERABLE_SCALARS {
        builder = builder.register(filter_type(ty));
    }
    for e in &ir.enums {
        builder = builder.register(filter_type(&ScalarType::Enum(e.name.clone())));
    }
    builder
}

/// `<Model>Filter`, `<Model>ListFilter` and `<Model>OrderBy`.
pub fn register_model(builder: SchemaBuilder, model: &Model) -> SchemaBuilder {
    let name = &model.name;
    let mut filter = InputObject::new(naming::filter_type(name))
        .description(format!("Selects {name} rows: every given field condition must hold; combine with and/or/not."));
    let mut order = InputObject::new(naming::order_by_type(name)).description(format!(
        "A sort key for {name} lists; give one field per item, e.g. `[{{createdAt: DESC}}]`. Ties are broken by id."
    ));
    for field in &model.fields {
        match &field.kind {
            FieldKind::Scalar(s) if exposed(s) => {
                if let Some(f) = filter_input(&s.ty, s.list) {
                    filter = filter.field(
                        InputValue::new(&field.name, TypeRef::named(f))
                            .description(format!("Conditions on {}.", field.name)),
                    );
                    order = order.field(
                        InputValue::new(&field.name, TypeRef::named("OrderDirection"))
                            .description(format!("Sort by {}.", field.name)),
                    );
                }
            }
            FieldKind::Scalar(_) => {}
            FieldKind::BelongsTo(b) => {
                filter = filter
                    .field(
                        InputValue::new(&b.id_field, TypeRef::named(naming::filter_type(ScalarType::Id.name())))
                            .description(format!("Conditions on the id of {}.", field.name)),
                    )
                    .field(
                        InputValue::new(&field.name, TypeRef::named(naming::filter_type(&b.target)))
                            .description(format!("The related {} must match this filter.", b.target)),
                    );
                order = order.field(
                    InputValue::new(&b.id_field, TypeRef::named("OrderDirection"))
                        .description(format!("Sort by {}.", b.id_field)),
                );
            }
            FieldKind::HasMany(h) => {
                filter = filter.field(
                    InputValue::new(&field.name, TypeRef::named(naming::list_filter_type(&h.target)))
                        .description(format!("Conditions on the related {} rows.", h.target)),
                );
            }
        }
    }
    let nested = naming::filter_type(name);
    filter = filter
        .field(InputValue::new("and", TypeRef::named_nn_list(&nested)).description("All of these filters must match."))
        .field(
            InputValue::new("or", TypeRef::named_nn_list(&nested))
                .description("At least one of these filters must match."),
        )
        .field(InputValue::new("not", TypeRef::named(&nested)).description("This filter must not match."));
    let list = InputObject::new(naming::list_filter_type(name))
        .description(format!("Conditions on a list of related {name} rows."));
    let list = Quantifier::ALL.into_iter().fold(list, |list, q| {
        list.field(InputValue::new(q.name(), TypeRef::named(&nested)).description(q.description()))
    });
    builder.register(filter).register(list).register(order)
}
