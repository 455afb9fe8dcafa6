//! Stage 3: model IR → one `async_graphql::dynamic::Schema` (SPEC section 3): per model an
//! object type, a connection, filter/orderBy/create/update inputs, queries and mutations.

mod auth_api;
mod auth_email;
mod context;
pub mod document;
pub mod executor;
mod filters;
mod inputs;
mod objects;
pub mod params;
mod profile;
pub mod render;
mod resolvers;
mod scalars;
mod subscriptions;

pub use auth_email::{ACCOUNT_EMAIL_JOB, send_account_email};
pub use executor::{DryRun, Executor, Subscribed, SubscriptionPlan};

use crate::app::AppState;
use crate::model::{ScalarField, ScalarType};
use async_graphql::dynamic::{Enum, EnumItem, Object, Schema, SchemaBuilder, SchemaError, TypeRef};
use std::sync::Arc;

/// Builds the API for `state.ir`. The state travels in the schema data for resolvers.
pub fn build(state: Arc<AppState>) -> Result<Schema, SchemaError> {
    builder(&state.ir, &state.config).data(state).finish()
}

/// The generated SDL (`ferrobase schema print`), without a database.
pub fn sdl(ir: &crate::model::Schema, cfg: &crate::config::Config) -> Result<String, SchemaError> {
    Ok(builder(ir, cfg).finish()?.sdl())
}

fn builder(ir: &crate::model::Schema, cfg: &crate::config::Config) -> SchemaBuilder {
    let mut query = Object::new("Query").description("Read the app's data.");
    let mut mutation = Object::new("Mutation").description("Change the app's data.");
    let mut subscription = async_graphql::dynamic::Subscription::new("Subscription")
        .description("Follow the app's data as it changes (over WebSocket at /graphql).");
    // A schema with no models has nothing to subscribe to (and GraphQL forbids empty types).
    let subscribable = ir.user_models().next().is_some();
    let mut builder = Schema::build("Query", Some("Mutation"), subscribable.then_some("Subscription"));
    builder = scalars::register(builder);
    builder = filters::register_shared(builder, ir);
    for e in &ir.enums {
        let mut en =
            Enum::new(&e.name).description(e.description.clone().unwrap_or_else(|| format!("Values of {}.", e.name)));
        for v in &e.values {
            en = en.item(EnumItem::new(v));
        }
        builder = builder.register(en);
    }

    for model in &ir.models {
        builder = objects::register(builder, ir, model);
        builder = filters::register_model(builder, model);
        if model.builtin {
            continue;
        }
        builder = inputs::register(builder, model);
        query = resolvers::queries(query, model);
        mutation = resolvers::mutations(mutation, model);
        subscription = subscriptions::fields(subscription, model);
    }
    let user = ir.model("User").expect("the built-in User always exists");
    builder = auth_api::register(builder, user);
    builder = profile::register(builder, user);
    query = auth_api::queries(query);
    mutation = auth_api::mutations(mutation);
    mutation = profile::mutations(mutation, user);
    mutation = auth_email::mutations(mutation);
    builder = builder.register(query).register(mutation);
    if subscribable {
        builder = builder.register(subscription);
    }
    limits(builder, cfg)
}

fn limits(mut builder: SchemaBuilder, cfg: &crate::config::Config) -> SchemaBuilder {
    builder = builder.limit_depth(cfg.max_query_depth).limit_complexity(cfg.max_query_complexity);
    if !cfg.introspection {
        builder = builder.disable_introspection();
    }
    builder
}

/// A scalar field's type as declared: `String`, `String!`, `[String!]`, `[String!]!`.
pub(crate) fn declared_type(s: &ScalarField, required: bool) -> TypeRef {
    let name = s.ty.name();
    match (s.list, required) {
        (true, true) => TypeRef::named_nn_list_nn(name),
        (true, false) => TypeRef::named_nn_list(name),
        (false, true) => TypeRef::named_nn(name),
        (false, false) => TypeRef::named(name),
    }
}

/// Fields the generated API exposes; `File` fields join with file storage (SPEC section 5).
pub(crate) fn exposed(s: &ScalarField) -> bool {
    s.ty != ScalarType::File
}

/// Runs a root field's resolver so that its error carries the field's `path` (async-graphql's
/// dynamic executor drops the path of errors resolvers return): the error is recorded at the
/// path and the field resolves to null; for a non-null field the executor then propagates the
/// null as GraphQL says (its own "non-null" note at the same path is dropped by
/// `http::graphql::with_codes`).
pub(crate) async fn at_path<'a, R>(
    ctx: &'a async_graphql::Context<'a>,
    resolver: impl std::future::Future<Output = async_graphql::Result<Option<R>>>,
) -> async_graphql::Result<Option<R>> {
    match resolver.await {
        Ok(value) => Ok(value),
        Err(e) => {
            ctx.add_error(ctx.set_error_path(e.into_server_error(ctx.item.pos)));
            Ok(None)
        }
    }
}
