//! Filter and ordering inputs: `StringFilter`, ..., `<Model>Filter`, `<Model>ListFilter`,
//! `<Model>OrderBy`.

use super::exposed;
use crate::model::{FieldKind, Model, ScalarType, Schema, naming};
use async_graphql::dynamic::{InputObject, InputValue, SchemaBuilder, TypeRef};

/// Which operators a filter type offers.
#[derive(Clone, Copy, PartialEq)]
enum Ops {
    /// eq ne in notIn lt lte gt gte isNull
    Ordered,
    /// + contains startsWith endsWith
    Text,
    /// eq ne isNull
    Boolean,
    /// eq ne in notIn isNull
    Enum,
}

fn filter_type(name: &str, of: &str, ops: Ops, description: String) -> InputObject {
    let mut o = InputObject::new(name).description(description);
    let one = |n: &str, d: &str| InputValue::new(n, TypeRef::named(of)).description(d);
    let many = |n: &str, d: &str| InputValue::new(n, TypeRef::named_nn_list(of)).description(d);
    o = o.field(one("eq", "Equal to (null: is null).")).field(one(
        "ne",
        "Not equal to (null: is not null). Rows where the field is null do not match a non-null value.",
    ));
    if ops != Ops::Boolean {
        o = o.field(many("in", "Equal to one of.")).field(many("notIn", "Equal to none of."));
    }
    if matches!(ops, Ops::Ordered | Ops::Text) {
        o = o
            .field(one("lt", "Less than."))
            .field(one("lte", "Less than or equal to."))
            .field(one("gt", "Greater than."))
            .field(one("gte", "Greater than or equal to."));
    }
    if ops == Ops::Text {
        o = o
            .field(one("contains", "Contains this text (case-sensitive)."))
            .field(one("startsWith", "Starts with this text (case-sensitive)."))
            .field(one("endsWith", "Ends with this text (case-sensitive)."));
    }
    o.field(
        InputValue::new("isNull", TypeRef::named(TypeRef::BOOLEAN))
            .description("true: only rows where the field is null; false: only rows where it is not."),
    )
}

/// Filter inputs for the built-in scalars and every declared enum.
pub fn register_shared(mut builder: SchemaBuilder, ir: &Schema) -> SchemaBuilder {
    for (name, of, ops) in [
        ("StringFilter", TypeRef::STRING, Ops::Text),
        ("IntFilter", TypeRef::INT, Ops::Ordered),
        ("FloatFilter", TypeRef::FLOAT, Ops::Ordered),
        ("DateTimeFilter", "DateTime", Ops::Ordered),
        ("IDFilter", TypeRef::ID, Ops::Ordered),
        ("BooleanFilter", TypeRef::BOOLEAN, Ops::Boolean),
    ] {
        builder = builder.register(filter_type(
            name,
            of,
            ops,
            format!("Conditions on a {of} field; all given conditions must hold."),
        ));
    }
    for e in &ir.enums {
        builder = builder.register(filter_type(
            &naming::filter_type(&e.name),
            &e.name,
            Ops::Enum,
            format!("Conditions on a {} field; all given conditions must hold.", e.name),
        ));
    }
    builder
}

/// The filter input type of a scalar field, if it can be filtered.
fn scalar_filter(ty: &ScalarType, list: bool) -> Option<String> {
    if list {
        return None;
    }
    Some(match ty {
        ScalarType::String => "StringFilter".into(),
        ScalarType::Int => "IntFilter".into(),
        ScalarType::Float => "FloatFilter".into(),
        ScalarType::Boolean => "BooleanFilter".into(),
        ScalarType::DateTime => "DateTimeFilter".into(),
        ScalarType::Id => "IDFilter".into(),
        ScalarType::Enum(e) => naming::filter_type(e),
        ScalarType::Json | ScalarType::File => return None,
    })
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
                if let Some(f) = scalar_filter(&s.ty, s.list) {
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
                        InputValue::new(&b.id_field, TypeRef::named("IDFilter"))
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
        .description(format!("Conditions on a list of related {name} rows."))
        .field(InputValue::new("some", TypeRef::named(&nested)).description("At least one related row matches."))
        .field(InputValue::new("none", TypeRef::named(&nested)).description("No related row matches."))
        .field(
            InputValue::new("every", TypeRef::named(&nested))
                .description("Every related row matches (true when there are none)."),
        );
    builder.register(filter).register(list).register(order)
}
