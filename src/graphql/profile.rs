//! `updateProfile`: a signed-in user changes their own profile fields (those declared on
//! `type User`), within the fields' `@auth` rules, like any update of a row they own.

use super::auth_api::user_model;
use super::context::{caller, input_arg, state};
use super::declared_type;
use super::document::from_field;
use crate::error::ApiError;
use crate::model::{FieldKind, Model, Operation, profile_fields};
use crate::sql::SqlCtx;
use crate::sql::input::InputEnv;
use crate::sql::root::RootKind;
use async_graphql::Name;
use async_graphql::dynamic::{Field, FieldFuture, FieldValue, InputObject, InputValue, Object, SchemaBuilder, TypeRef};
use async_graphql_value::Value as DocValue;

const INPUT: &str = "UpdateProfileInput";

/// Registers `UpdateProfileInput` (every profile field, optional); nothing when `User` declares
/// no profile fields.
pub fn register(builder: SchemaBuilder, user: &Model) -> SchemaBuilder {
    let mut input = InputObject::new(INPUT)
        .description("Profile fields to change: absent fields are unchanged, null clears a field.");
    let mut any = false;
    for field in profile_fields(user) {
        if let FieldKind::Scalar(s) = &field.kind
            && super::exposed(s)
        {
            let doc = field.description.clone().unwrap_or_else(|| format!("Profile field {}.", field.name));
            input = input.field(InputValue::new(&field.name, declared_type(s, false)).description(doc));
            any = true;
        }
    }
    if any { builder.register(input) } else { builder }
}

pub fn mutations(mutation: Object, user: &Model) -> Object {
    if !profile_fields(user).any(|f| matches!(&f.kind, FieldKind::Scalar(s) if super::exposed(s))) {
        return mutation;
    }
    mutation.field(
        Field::new("updateProfile", TypeRef::named_nn("User"), |ctx| {
            FieldFuture::new(super::at_path(ctx.ctx, async move {
                let st = state(&ctx)?;
                let who = caller(&ctx);
                let me = who.require_user()?;
                let user = user_model(st);
                let input = input_arg(&ctx)?;
                if let Some(key) = input.keys().find(|k| !profile_fields(user).any(|f| f.name == **k)) {
                    return Err(ApiError::invalid_field(key, format!("{key} is not a profile field")).into());
                }
                // An update of the caller's own User row, under its rules (your own row) and each
                // written field's update rules, before and as written: one statement.
                let mut sel = from_field(ctx.ctx.field())?;
                sel.args.push((Name::new("id"), DocValue::String(me.id.clone())));
                let env = InputEnv::empty();
                let compiled = {
                    let cx = SqlCtx::for_caller(&st.ir, st.backend(), &env, who);
                    crate::sql::root::compile(&cx, st.limits(), user, RootKind::Write(Operation::Update), &sel)?
                };
                let row = super::resolvers::run(st, who, &compiled)
                    .await?
                    .ok_or_else(|| ApiError::not_found("your account no longer exists"))?;
                Ok(Some(FieldValue::value(row)))
            }))
        })
        .argument(InputValue::new("input", TypeRef::named_nn(INPUT)).description("The profile fields to change."))
        .description("Changes the signed-in user's profile fields and returns the user."),
    )
}
