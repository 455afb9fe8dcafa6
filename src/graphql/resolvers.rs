//! Root fields of each model: `post`, `posts`, `createPost`, `updatePost`, `deletePost`, all run
//! under the caller's `@auth` rules (compiled into the SQL by `sql::access`).

use super::context::{self, input_arg, string_arg};
use super::objects::list_arguments;
use super::selection::to_sel;
use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::model::{Model, Operation};
use crate::sql::access::{self, Access};
use crate::sql::fetch::{Loader, Sel};
use crate::sql::{Row, SqlCtx, write};
use async_graphql::dynamic::{Field, FieldFuture, FieldValue, InputValue, Object, ResolverContext, TypeRef};
use sea_orm::sea_query::Condition;
use serde_json::{Map, Value as Json};
use std::sync::Arc;

struct Call<'a> {
    state: &'a Arc<AppState>,
    model: &'a Model,
    caller: &'a Caller,
    sel: Sel,
}

/// Common start of every root resolver: the state, the model, the caller and the selection as
/// request IR.
fn start<'a>(ctx: &ResolverContext<'a>, model_name: &str) -> ApiResult<Call<'a>> {
    let (state, caller) = (context::state(ctx)?, context::caller(ctx));
    let model = state.ir.model(model_name).ok_or_else(|| ApiError::internal(format!("no model {model_name}")))?;
    Ok(Call { state, model, caller, sel: to_sel(ctx.ctx.field())? })
}

impl Call<'_> {
    fn loader<'c, C: sea_orm::ConnectionTrait + Sync>(&'c self, conn: &'c C) -> Loader<'c, C> {
        Loader::for_caller(conn, &self.state.ir, self.state.limits(), self.caller)
    }

    fn cx(&self) -> SqlCtx<'_> {
        SqlCtx::for_caller(&self.state.ir, self.state.backend(), self.caller)
    }

    /// The rule predicate for writing `input`'s fields, or the error when no rule allows it.
    fn write_guard(&self, cx: &SqlCtx, alias: &str, op: Operation, input: &Map<String, Json>) -> ApiResult<Condition> {
        let written: Vec<&str> = input.keys().map(String::as_str).collect();
        match access::write_access(cx, self.model, alias, op, &written)? {
            Access::Denied => Err(access::denied(cx, self.model, op)),
            a => Ok(a.condition()),
        }
    }

    /// Owner fields belong to the caller: set on create, and reassigned by admin only.
    fn own(&self, input: &mut Map<String, Json>, create: bool) -> ApiResult<()> {
        let me = self.caller.user().map(|u| Json::String(u.id.clone()));
        for (field, key) in access::owner_fields(self.model) {
            if self.caller.is_admin() {
                if let (true, Some(me)) = (create, &me) {
                    input.entry(key).or_insert_with(|| me.clone());
                }
                continue;
            }
            // On create the owner can only be the caller; afterwards only admin may reassign it
            // (whatever rule lets someone update the row, it does not make the row theirs).
            if input.get(&key).is_some_and(|v| !create || Some(v) != me.as_ref()) {
                return Err(ApiError::forbidden(format!(
                    "{key} is the owner ({field}): it is set to you on create, and only admin may change it"
                )));
            }
            if let (true, Some(me)) = (create, &me) {
                input.insert(key, me.clone());
            }
        }
        Ok(())
    }

    /// The written row as the caller may see it; of a row they may write but not read (a
    /// write-only form, say), only what [`write_only_selection`](Self::write_only_selection) allows.
    async fn written_row<C: sea_orm::ConnectionTrait + Sync>(
        &self,
        conn: &C,
        id: &str,
        written: &Map<String, Json>,
        op: Operation,
    ) -> ApiResult<Row> {
        let fields = || self.sel.children.iter().collect();
        if let Some(row) = self.loader(conn).find(self.model, id, fields()).await? {
            return Ok(row);
        }
        self.write_only_selection(written, op)?;
        self.loader(conn).find_written(self.model, id, fields()).await?.ok_or_else(|| not_found(&self.model.name, id))
    }

    /// Of a row the caller may write but not read, only `id`, `createdAt`, `updatedAt` and the
    /// fields they wrote may be selected (field rules still apply to those); selecting more is
    /// FORBIDDEN, returned before the transaction commits, so nothing is written.
    fn write_only_selection(&self, written: &Map<String, Json>, op: Operation) -> ApiResult<()> {
        let shown =
            |name: &str| matches!(name, "id" | "createdAt" | "updatedAt" | "__typename") || written.contains_key(name);
        let Some(f) = self.sel.children.iter().find(|f| !shown(&f.name)) else { return Ok(()) };
        let verb = op.as_str();
        let mut fields: Vec<&str> = vec!["id", "createdAt", "updatedAt"];
        fields.extend(written.keys().map(String::as_str));
        Err(ApiError::forbidden(format!(
            "your @auth rules let you {verb} this {} but not read it: select only {} (not {})",
            self.model.name,
            fields.join(", "),
            f.name
        )))
    }

    /// After a guarded write changed nothing: a row the caller can read is FORBIDDEN; a missing
    /// or invisible one is NOT_FOUND (hidden rows stay hidden).
    async fn missing_or_forbidden<C: sea_orm::ConnectionTrait + Sync>(
        &self,
        conn: &C,
        id: &str,
        op: Operation,
    ) -> ApiError {
        match self.loader(conn).find(self.model, id, vec![]).await {
            Ok(Some(_)) => access::denied(&self.cx(), self.model, op),
            Ok(None) | Err(_) => not_found(&self.model.name, id),
        }
    }
}

pub fn queries(query: Object, model: &Model) -> Object {
    let name = model.name.clone();
    let single = {
        let n = name.clone();
        Field::new(&model.single, TypeRef::named(&model.name), move |ctx| {
            let name = n.clone();
            FieldFuture::new(super::at_path(ctx.ctx, async move {
                let call = start(&ctx, &name)?;
                let id = string_arg(&ctx, "id")?;
                let row =
                    call.loader(&call.state.db).by_id(call.model, &id, call.sel.children.iter().collect()).await?;
                Ok(row.map(FieldValue::owned_any))
            }))
        })
        .argument(InputValue::new("id", TypeRef::named_nn(TypeRef::ID)).description(format!("Id of the {name}.")))
        .description(format!("One {name} by id; null when there is none or you may not read it."))
    };
    let list = {
        let n = name.clone();
        let f = Field::new(&model.plural, TypeRef::named_nn(format!("{}Connection", model.name)), move |ctx| {
            let name = n.clone();
            FieldFuture::new(super::at_path(ctx.ctx, async move {
                let call = start(&ctx, &name)?;
                Ok(Some(FieldValue::owned_any(call.loader(&call.state.db).list(call.model, &call.sel).await?)))
            }))
        })
        .description(format!("A page of the {} rows you may read, filtered and ordered.", model.name));
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
            FieldFuture::new(super::at_path(ctx.ctx, async move {
                let call = start(&ctx, &name)?;
                let mut input = input_arg(&ctx)?;
                call.own(&mut input, true)?;
                let cx = call.cx();
                let guard = call.write_guard(&cx, &call.model.table, Operation::Create, &input)?;
                let txn = crate::db::begin_write(&call.state.db).await.map_err(ApiError::from)?;
                let id = write::insert(&txn, &cx, call.model, &input).await?;
                if !write::satisfies(&txn, call.model, &id, guard).await? {
                    return Err(ApiError::forbidden(format!(
                        "the {name} as written does not satisfy your @auth create rules"
                    ))
                    .into());
                }
                let row = call.written_row(&txn, &id, &input, Operation::Create).await?;
                txn.commit().await.map_err(ApiError::from)?;
                Ok(Some(FieldValue::owned_any(row)))
            }))
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
            FieldFuture::new(super::at_path(ctx.ctx, async move {
                let call = start(&ctx, &name)?;
                let (id, mut input) = (string_arg(&ctx, "id")?, input_arg(&ctx)?);
                call.own(&mut input, false)?;
                let cx = call.cx();
                // The row before must pass the update rules, and the row as written too.
                let guard = call.write_guard(&cx, &call.model.table, Operation::Update, &input)?;
                let txn = crate::db::begin_write(&call.state.db).await.map_err(ApiError::from)?;
                if !write::update(&txn, &cx, call.model, &id, &input, guard.clone()).await? {
                    return Err(call.missing_or_forbidden(&txn, &id, Operation::Update).await.into());
                }
                if !write::satisfies(&txn, call.model, &id, guard).await? {
                    return Err(ApiError::forbidden(format!(
                        "the {name} as written does not satisfy your @auth update rules"
                    ))
                    .into());
                }
                let row = call.written_row(&txn, &id, &input, Operation::Update).await?;
                txn.commit().await.map_err(ApiError::from)?;
                Ok(Some(FieldValue::owned_any(row)))
            }))
        })
        .argument(InputValue::new("id", TypeRef::named_nn(TypeRef::ID)).description(&id_doc))
        .argument(
            InputValue::new("input", TypeRef::named_nn(format!("Update{name}Input")))
                .description("The fields to change."),
        )
        .description(format!("Changes a {name} and returns it; NOT_FOUND when there is no such row you may see."))
    };
    let delete = {
        let n = name.clone();
        Field::new(format!("delete{name}"), TypeRef::named_nn(&name), move |ctx| {
            let name = n.clone();
            FieldFuture::new(super::at_path(ctx.ctx, async move {
                let call = start(&ctx, &name)?;
                let id = string_arg(&ctx, "id")?;
                let cx = call.cx();
                let guard = call.write_guard(&cx, &call.model.table, Operation::Delete, &Map::new())?;
                let txn = crate::db::begin_write(&call.state.db).await.map_err(ApiError::from)?;
                // The row as it was, as the caller may see it; hidden rows they may not delete
                // stay NOT_FOUND, and one they may delete but not read shows only its id.
                let readable = call.loader(&txn).find(call.model, &id, call.sel.children.iter().collect()).await?;
                let write_only = match readable {
                    Some(_) => None,
                    None => call.loader(&txn).find_written(call.model, &id, vec![]).await?,
                };
                if !write::delete(&txn, &cx, call.model, &id, guard).await? {
                    return Err(call.missing_or_forbidden(&txn, &id, Operation::Delete).await.into());
                }
                let row = match (readable, write_only) {
                    (Some(row), _) => row,
                    (None, Some(_)) => {
                        call.write_only_selection(&Map::new(), Operation::Delete)?;
                        Row {
                            values: [("id".to_string(), Json::String(id.clone()))].into_iter().collect(),
                            ..Row::default()
                        }
                    }
                    (None, None) => return Err(not_found(&name, &id).into()),
                };
                txn.commit().await.map_err(ApiError::from)?;
                Ok(Some(FieldValue::owned_any(row)))
            }))
        })
        .argument(InputValue::new("id", TypeRef::named_nn(TypeRef::ID)).description(&id_doc))
        .description(format!(
            "Deletes a {name} and returns it as it was; NOT_FOUND when there is no such row you may see."
        ))
    };
    mutation.field(create).field(update).field(delete)
}

fn not_found(model: &str, id: &str) -> ApiError {
    ApiError::not_found(format!("no {model} with id {id}"))
}
