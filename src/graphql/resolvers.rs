//! Root fields of each model: `post`, `posts`, `createPost`, `updatePost`, `deletePost`.

use super::objects::list_arguments;
use super::selection::to_sel;
use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::model::{Model, naming};
use crate::sql::fetch::{Loader, Sel};
use crate::sql::{SqlCtx, write};
use async_graphql::dynamic::{Field, FieldFuture, FieldValue, InputValue, Object, ResolverContext, TypeRef};
use std::sync::Arc;

struct Call<'a> {
    state: &'a Arc<AppState>,
    model: &'a Model,
    sel: Sel,
}

/// Common start of every root resolver: the state, the model, the caller check and the
/// selection as request IR.
fn start<'a>(ctx: &ResolverContext<'a>, model_name: &str) -> ApiResult<Call<'a>> {
    let state = ctx.data::<Arc<AppState>>().map_err(|e| ApiError::internal(e.message))?;
    ctx.data_opt::<Caller>().unwrap_or(&Caller::Anonymous).require_admin()?;
    let model = state.ir.model(model_name).ok_or_else(|| ApiError::internal(format!("no model {model_name}")))?;
    Ok(Call { state, model, sel: to_sel(ctx.ctx.field())? })
}

fn id_arg(ctx: &ResolverContext<'_>) -> async_graphql::Result<String> {
    Ok(ctx.args.try_get("id")?.string()?.to_string())
}

fn input_arg(ctx: &ResolverContext<'_>) -> async_graphql::Result<serde_json::Map<String, serde_json::Value>> {
    match ctx.args.try_get("input")?.as_value().clone().into_json()? {
        serde_json::Value::Object(m) => Ok(m),
        _ => Err(ApiError::bad_input("input must be an object").into()),
    }
}

pub fn queries(query: Object, model: &Model) -> Object {
    let name = model.name.clone();
    let single = {
        let n = name.clone();
        Field::new(&model.single, TypeRef::named(&model.name), move |ctx| {
            let name = n.clone();
            FieldFuture::new(async move {
                let call = start(&ctx, &name)?;
                let id = id_arg(&ctx)?;
                let loader = Loader::new(&call.state.db, &call.state.ir, call.state.limits());
                let row = loader.by_id(call.model, &id, call.sel.children.iter().collect()).await?;
                Ok(row.map(FieldValue::owned_any))
            })
        })
        .argument(InputValue::new("id", TypeRef::named_nn(TypeRef::ID)).description(format!("Id of the {name}.")))
        .description(format!("One {name} by id; null when there is none."))
    };
    let list = {
        let n = name.clone();
        let f = Field::new(&model.plural, TypeRef::named_nn(format!("{}Connection", model.name)), move |ctx| {
            let name = n.clone();
            FieldFuture::new(async move {
                let call = start(&ctx, &name)?;
                let loader = Loader::new(&call.state.db, &call.state.ir, call.state.limits());
                Ok(Some(FieldValue::owned_any(loader.list(call.model, &call.sel).await?)))
            })
        })
        .description(format!("A page of {} rows, filtered and ordered.", model.name));
        list_arguments(f, &model.name)
    };
    query.field(single).field(list)
}

pub fn mutations(mutation: Object, model: &Model) -> Object {
    let name = model.name.clone();
    let id_doc = format!("Id of the {name}.");
    let create = {
        let n = name.clone();
        Field::new(format!("create{name}"), TypeRef::named_nn(&name), move |ctx| {
            let name = n.clone();
            FieldFuture::new(async move {
                let call = start(&ctx, &name)?;
                let input = input_arg(&ctx)?;
                let txn = crate::db::begin_write(&call.state.db).await.map_err(ApiError::from)?;
                let loader = Loader::new(&txn, &call.state.ir, call.state.limits());
                let id = write::insert(&txn, &loader.cx, call.model, &input).await?;
                let row = loader.by_id(call.model, &id, call.sel.children.iter().collect()).await?;
                txn.commit().await.map_err(ApiError::from)?;
                Ok(Some(FieldValue::owned_any(row.ok_or_else(|| ApiError::internal("created row vanished"))?)))
            })
        })
        .argument(
            InputValue::new("input", TypeRef::named_nn(format!("Create{name}Input")))
                .description("The new row's fields."),
        )
        .description(format!("Creates a {name} and returns it."))
    };
    let update = {
        let n = name.clone();
        Field::new(format!("update{name}"), TypeRef::named_nn(&name), move |ctx| {
            let name = n.clone();
            FieldFuture::new(async move {
                let call = start(&ctx, &name)?;
                let (id, input) = (id_arg(&ctx)?, input_arg(&ctx)?);
                let txn = crate::db::begin_write(&call.state.db).await.map_err(ApiError::from)?;
                let loader = Loader::new(&txn, &call.state.ir, call.state.limits());
                if !write::update(&txn, &loader.cx, call.model, &id, &input).await? {
                    return Err(not_found(&name, &id).into());
                }
                let row = loader.by_id(call.model, &id, call.sel.children.iter().collect()).await?;
                txn.commit().await.map_err(ApiError::from)?;
                Ok(Some(FieldValue::owned_any(row.ok_or_else(|| not_found(&name, &id))?)))
            })
        })
        .argument(InputValue::new("id", TypeRef::named_nn(TypeRef::ID)).description(&id_doc))
        .argument(
            InputValue::new("input", TypeRef::named_nn(format!("Update{name}Input")))
                .description("The fields to change."),
        )
        .description(format!("Changes a {name} and returns it; NOT_FOUND when there is no such row."))
    };
    let delete = {
        let n = name.clone();
        Field::new(format!("delete{name}"), TypeRef::named_nn(&name), move |ctx| {
            let name = n.clone();
            FieldFuture::new(async move {
                let call = start(&ctx, &name)?;
                let id = id_arg(&ctx)?;
                let txn = crate::db::begin_write(&call.state.db).await.map_err(ApiError::from)?;
                let loader = Loader::new(&txn, &call.state.ir, call.state.limits());
                let row = loader.by_id(call.model, &id, call.sel.children.iter().collect()).await?;
                let row = row.ok_or_else(|| not_found(&name, &id))?;
                let cx = SqlCtx::new(&call.state.ir, call.state.backend());
                write::delete(&txn, &cx, call.model, &id).await?;
                txn.commit().await.map_err(ApiError::from)?;
                Ok(Some(FieldValue::owned_any(row)))
            })
        })
        .argument(InputValue::new("id", TypeRef::named_nn(TypeRef::ID)).description(&id_doc))
        .description(format!("Deletes a {name} and returns it as it was; NOT_FOUND when there is no such row."))
    };
    let _ = naming::lower_first;
    mutation.field(create).field(update).field(delete)
}

fn not_found(model: &str, id: &str) -> ApiError {
    ApiError::not_found(format!("no {model} with id {id}"))
}
