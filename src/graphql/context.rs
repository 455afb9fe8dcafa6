//! What every resolver reads from its context: the app state, the caller, arguments.

use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use async_graphql::dynamic::{FieldFuture, FieldValue, ResolverContext};
use serde_json::{Map, Value as Json};
use std::sync::Arc;

pub fn state<'a>(ctx: &ResolverContext<'a>) -> ApiResult<&'a Arc<AppState>> {
    ctx.data::<Arc<AppState>>().map_err(|e| ApiError::internal(e.message))
}

/// The request's caller (anonymous when the request carried no credentials).
pub fn caller<'a>(ctx: &ResolverContext<'a>) -> &'a Caller {
    ctx.data_opt::<Caller>().unwrap_or(&Caller::Anonymous)
}

pub fn string_arg(ctx: &ResolverContext<'_>, name: &str) -> async_graphql::Result<String> {
    Ok(ctx.args.try_get(name)?.string()?.to_string())
}

/// The `input` argument as a JSON object.
pub fn input_arg(ctx: &ResolverContext<'_>) -> async_graphql::Result<Map<String, Json>> {
    match ctx.args.try_get("input")?.as_value().clone().into_json()? {
        Json::Object(m) => Ok(m),
        _ => Err(ApiError::bad_input("input must be an object").into()),
    }
}

/// Resolves a field of an object from its parent value, with nothing to wait for: a ready
/// future (no allocation; output fields run once per field per row).
pub fn on_parent<'a, T: std::any::Any>(
    ctx: &ResolverContext<'a>,
    answer: impl FnOnce(&'a T) -> async_graphql::Result<Option<FieldValue<'a>>>,
) -> FieldFuture<'a> {
    let parent: &'a FieldValue<'a> = ctx.parent_value;
    match parent.try_downcast_ref::<T>().and_then(answer) {
        Ok(value) => FieldFuture::Value(value),
        Err(e) => FieldFuture::new(async move { Err::<Option<FieldValue<'a>>, _>(e) }),
    }
}
