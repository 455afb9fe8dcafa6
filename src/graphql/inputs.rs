//! `Create<Model>Input` and `Update<Model>Input`.

use super::{declared_type, exposed};
use crate::model::{FieldKind, Model, naming};
use async_graphql::dynamic::{InputObject, InputValue, SchemaBuilder, TypeRef};

pub fn register(builder: SchemaBuilder, model: &Model) -> SchemaBuilder {
    let name = &model.name;
    let mut create = InputObject::new(naming::create_input_type(name))
        .description(format!("Fields of a new {name}. id, createdAt and updatedAt are set by the server."));
    let mut update = InputObject::new(naming::update_input_type(name))
        .description(format!("Changes to a {name}: an absent field stays unchanged, null clears it."));
    let owners = crate::sql::access::owner_fields(model);
    for field in &model.fields {
        let doc = field.description.clone().unwrap_or_else(|| field.name.clone());
        match &field.kind {
            FieldKind::Scalar(s) if s.managed.is_none() && exposed(s) => {
                let required = s.required && s.default.is_none();
                let mut d = doc.clone();
                if let Some(def) = &s.default {
                    d.push_str(&format!(" Default: {def}."));
                }
                create = create.field(InputValue::new(&field.name, declared_type(s, required)).description(d));
                update = update.field(InputValue::new(&field.name, declared_type(s, false)).description(doc));
            }
            FieldKind::BelongsTo(b) => {
                // Owner fields are set to the caller, so a signed-in caller need not send them.
                let owner = owners.iter().any(|(_, key)| key == &b.id_field);
                let mut d = format!("Id of the related {} ({}).", b.target, field.name);
                if owner {
                    d.push_str(" The owner: set to you when you leave it out.");
                }
                let ty =
                    if b.required && !owner { TypeRef::named_nn(TypeRef::ID) } else { TypeRef::named(TypeRef::ID) };
                create = create.field(InputValue::new(&b.id_field, ty).description(&d));
                update = update.field(InputValue::new(&b.id_field, TypeRef::named(TypeRef::ID)).description(d));
            }
            _ => {}
        }
    }
    builder.register(create).register(update)
}
