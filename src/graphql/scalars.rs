//! Custom scalars and the small shared types: `DateTime`, `JSON`, `OrderDirection`, `PageInfo`.

use crate::sql::values::parse_datetime;
use async_graphql::Value;
use async_graphql::dynamic::{Enum, EnumItem, Field, Object, Scalar, SchemaBuilder, TypeRef};

pub fn register(builder: SchemaBuilder) -> SchemaBuilder {
    let datetime = Scalar::new("DateTime")
        .description("A point in time, RFC 3339 (e.g. `2026-01-31T12:00:00Z`); returned in UTC.")
        .specified_by_url("https://datatracker.ietf.org/doc/html/rfc3339")
        .validator(|v| matches!(v, Value::String(s) if parse_datetime(s).is_some()));
    let json = Scalar::new("JSON").description("Any JSON value, stored as given.");
    let direction = Enum::new("OrderDirection")
        .description("Sort direction. NULLs sort first ascending and last descending.")
        .item(EnumItem::new("ASC").description("Smallest first."))
        .item(EnumItem::new("DESC").description("Largest first."));
    let page_info = Object::new("PageInfo")
        .description("Where a page sits in the whole list (Relay cursor connections).")
        .field(page_field("hasNextPage", TypeRef::named_nn(TypeRef::BOOLEAN), "Whether more rows follow this page."))
        .field(page_field("hasPreviousPage", TypeRef::named_nn(TypeRef::BOOLEAN), "Whether rows precede this page."))
        .field(page_field(
            "startCursor",
            TypeRef::named(TypeRef::STRING),
            "Cursor of the first row; pass as `before` for the previous page.",
        ))
        .field(page_field(
            "endCursor",
            TypeRef::named(TypeRef::STRING),
            "Cursor of the last row; pass as `after` for the next page.",
        ));
    builder.register(datetime).register(json).register(direction).register(page_info)
}

fn page_field(name: &str, ty: TypeRef, description: &str) -> Field {
    Field::new(name, ty, super::objects::pick).description(description)
}
