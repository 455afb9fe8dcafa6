//! Root fields of each model: `post`, `posts`, `createPost`, `updatePost`, `deletePost`.
//!
//! The executor runs operations made of these fields itself, as compiled plans (see
//! `executor.rs`); these resolvers serve the rest: documents that mix them with other root
//! fields. Either way a root field is compiled by `sql::root` into one statement under the
//! caller's `@auth` rules.

use super::context;
use super::document::from_field;
use super::objects::list_arguments;
use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::model::{Model, Operation, naming};
use crate::sql::SqlCtx;
use crate::sql::input::{Input, InputEnv};
use crate::sql::params::BindEnv;
use crate::sql::root::{Compiled, RootKind};
use crate::sql::select::Sel;
use async_graphql::Value;
use async_graphql::dynamic::{Field, FieldFuture, FieldValue, InputValue, Object, ResolverContext, TypeRef};

/// Compiles and runs root field `kind` of `model` for the field being resolved.
async fn root_field(ctx: &ResolverContext<'_>, model: &str, kind: RootKind) -> ApiResult<Option<Value>> {
    let st = context::state(ctx)?;
    let model = st.ir.model(model).ok_or_else(|| ApiError::internal(format!("no model {model}")))?;
    let sel = from_field(ctx.ctx.field())?;
    let caller = context::caller(ctx);
    let env = InputEnv::empty();
    let compiled = {
        let cx = SqlCtx::for_caller(&st.ir, st.backend(), &env, caller);
        crate::sql::root::compile(&cx, st.limits(), model, kind, &sel)?
    };
    run(st, caller, &compiled).await
}

/// Reads row `id` of `model` as `caller` may see it, with the selection `sel` (of a field that
/// returns such a row: `me`, an auth payload's `user`); `None` when missing or unreadable.
pub async fn read_row(st: &AppState, caller: &Caller, model: &Model, id: &str, sel: &Sel) -> ApiResult<Option<Value>> {
    let env = InputEnv::empty();
    let compiled = {
        let id = async_graphql::Value::String(id.to_string());
        let cx = SqlCtx::for_caller(&st.ir, st.backend(), &env, caller);
        let fields: Vec<&Sel> = sel.children.iter().collect();
        crate::sql::root::compile_by_id(&cx, st.limits(), model, &Input::constant(&id, &env), &fields)?
    };
    run(st, caller, &compiled).await
}

/// Reads a page of `model` for the list field `sel` as `caller` may see it.
pub async fn read_list(st: &AppState, caller: &Caller, model: &Model, sel: &Sel) -> ApiResult<Value> {
    let env = InputEnv::empty();
    let compiled = {
        let cx = SqlCtx::for_caller(&st.ir, st.backend(), &env, caller);
        crate::sql::root::compile(&cx, st.limits(), model, RootKind::List, sel)?
    };
    Ok(run(st, caller, &compiled).await?.unwrap_or(Value::Null))
}

/// Runs `compiled` and renders its answer for async-graphql (fields the caller may not read as
/// markers its object resolvers turn into errors).
pub async fn run(st: &AppState, caller: &Caller, compiled: &Compiled) -> ApiResult<Option<Value>> {
    let vars = async_graphql::Variables::default();
    let bound = compiled.bind(&BindEnv::new(&vars, caller, &st.ir, st.backend()))?;
    let json = compiled.run(&st.pool, &bound, &st.ir.models, Some((&st.changes, caller))).await?;
    if json.is_none() {
        return Ok(None);
    }
    Ok(Some(super::render::tree(&compiled.out, json.as_ref())))
}

/// The resolver of a root field: idle during validation (see `executor::DryRun`), its errors
/// at its path.
fn resolver(name: String, kind: RootKind) -> impl Fn(ResolverContext) -> FieldFuture + Send + Sync {
    move |ctx| {
        let name = name.clone();
        if ctx.data_opt::<super::executor::DryRun>().is_some() {
            return FieldFuture::Value(None);
        }
        FieldFuture::new(super::at_path(ctx.ctx, async move {
            Ok(root_field(&ctx, &name, kind).await?.map(FieldValue::value))
        }))
    }
}

pub fn queries(query: Object, model: &Model) -> Object {
    let name = &model.name;
    let single = Field::new(&model.single, TypeRef::named(name), resolver(name.clone(), RootKind::Single))
        .argument(InputValue::new("id", TypeRef::named_nn(TypeRef::ID)).description(format!("Id of the {name}.")))
        .description(format!("One {name} by id; null when there is none or you may not read it."));
    let list = Field::new(
        &model.plural,
        TypeRef::named_nn(naming::connection_type(name)),
        resolver(name.clone(), RootKind::List),
    )
    .description(format!("A page of the {name} rows you may read, filtered and ordered."));
    query.field(single).field(list_arguments(list, name))
}

pub fn mutations(mutation: Object, model: &Model) -> Object {
    let name = &model.name;
    let id_doc = format!("Id of the {name}.");
    let write = |op: Operation| resolver(name.clone(), RootKind::Write(op));
    let create = Field::new(naming::create_mutation(name), TypeRef::named_nn(name), write(Operation::Create))
        .argument(
            InputValue::new("input", TypeRef::named_nn(naming::create_input_type(name)))
                .description("The new row's fields."),
        )
        .description(format!("Creates a {name} and returns it."));
    let update = Field::new(naming::update_mutation(name), TypeRef::named_nn(name), write(Operation::Update))
        .argument(InputValue::new("id", TypeRef::named_nn(TypeRef::ID)).description(&id_doc))
        .argument(
            InputValue::new("input", TypeRef::named_nn(naming::update_input_type(name)))
                .description("The fields to change."),
        )
        .description(format!("Changes a {name} and returns it; NOT_FOUND when there is no such row you may see."));
    let delete = Field::new(naming::delete_mutation(name), TypeRef::named_nn(name), write(Operation::Delete))
        .argument(InputValue::new("id", TypeRef::named_nn(TypeRef::ID)).description(&id_doc))
        .description(format!(
            "Deletes a {name} and returns it as it was; NOT_FOUND when there is no such row you may see."
        ));
    mutation.field(create).field(update).field(delete)
}
