//! A root field compiled into one statement, and running it: bind the slots from the request,
//! one round trip, the answer as JSON (a failed write explained by a second statement).

use super::input::Input;
use super::list::PageLimits;
use super::params::{BindEnv, Slot, Stmt, bind_all, finish};
use super::select::{Reader, RootRows, Sel};
use super::shape::Out;
use super::write::{Diagnosis, WriteImage};
use super::{SqlCtx, errors};
use crate::auth::Caller;
use crate::changes::{Actor, ChangeOp, ChangeSet, Pipeline};
use crate::db::Pool;
use crate::db::pool::Rows;
use crate::error::{ApiError, ApiResult};
use crate::model::{Model, Operation};
use sea_orm::sea_query::Value;
use serde_json::Value as Json;

/// What a root field does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RootKind {
    /// `post(id:)`
    Single,
    /// `posts(...)`
    List,
    /// `createPost`, `updatePost`, `deletePost`
    Write(Operation),
}

/// A compiled root field: its statement, the slots it binds, and how to read its answer.
#[derive(Debug)]
pub struct Compiled {
    pub model: String,
    pub kind: RootKind,
    pub slots: Vec<Slot>,
    pub main: Stmt,
    /// SQLite deletes whose selection has relations: the delete after `main` read the row.
    pub then_delete: Option<Stmt>,
    /// Writes: why nothing was written, when nothing was.
    pub diagnosis: Option<(Stmt, Diagnosis)>,
    /// The slot of the `id` argument (for messages).
    pub id_slot: Option<usize>,
    /// What the statement's rows hold.
    pub rows: RootRows,
    pub out: Out,
    /// Writes: where the change's row images are, and (SQLite updates) the statement that reads
    /// the row as it was.
    pub image: Option<(WriteImage, Option<Stmt>)>,
    /// Deletes: the rows the delete takes with it through `onDelete: CASCADE | SET_NULL`, read
    /// first so that each gets its change.
    pub cascade: Option<super::cascade::Cascade>,
}

/// Compiles root field `sel` of `kind` on `model` for the caller of `cx`.
pub fn compile(cx: &SqlCtx, limits: PageLimits, model: &Model, kind: RootKind, sel: &Sel) -> ApiResult<Compiled> {
    let reader = Reader { cx, limits };
    let fields: Vec<&Sel> = sel.children.iter().collect();
    let backend = cx.backend;
    let (main, rows, out, then_delete, diagnosis, id_slot, image) = match kind {
        RootKind::Single => {
            let id = sel.arg("id", cx);
            let (sql, rows, row) = reader.by_id(model, id.source(), &fields)?;
            (sql, rows, Out::Row(row), None, None, None, None)
        }
        RootKind::List => {
            let (sql, rows, page) = reader.list(model, sel)?;
            (sql, rows, Out::Page(page), None, None, None, None)
        }
        RootKind::Write(op) => {
            let id = (op != Operation::Create).then(|| sel.arg("id", cx));
            let input = (op != Operation::Delete).then(|| sel.arg("input", cx));
            let w = super::write::compile(&reader, model, op, id.as_ref(), input.as_ref(), &fields)?;
            let diagnosis = Some((finish(&w.diagnosis.sql, backend), w.diagnosis));
            let read_before = w.image.read_before.as_ref().map(|r| finish(r, backend));
            (
                w.main,
                w.rows,
                Out::Row(w.out),
                w.then_delete.map(|d| finish(&d, backend)),
                diagnosis,
                w.id_slot,
                Some((w.image, read_before)),
            )
        }
    };
    Ok(Compiled {
        model: model.name.clone(),
        kind,
        slots: cx.take_slots(),
        main: finish(&main, backend),
        then_delete,
        diagnosis,
        id_slot,
        rows,
        out,
        image,
        cascade: match kind {
            RootKind::Write(Operation::Delete) => super::cascade::plan(&cx.schema.models, model, backend),
            _ => None,
        },
    })
}

/// Compiles a read of one row of `model` with `fields` (for rows the API returns outside the
/// generated root fields: `me`, the user of an auth payload).
pub fn compile_by_id(
    cx: &SqlCtx,
    limits: PageLimits,
    model: &Model,
    id: &Input,
    fields: &[&Sel],
) -> ApiResult<Compiled> {
    let reader = Reader { cx, limits };
    let (sql, rows, row) = reader.by_id(model, id.source(), fields)?;
    Ok(Compiled {
        model: model.name.clone(),
        kind: RootKind::Single,
        slots: cx.take_slots(),
        main: finish(&sql, cx.backend),
        then_delete: None,
        diagnosis: None,
        id_slot: None,
        rows,
        out: Out::Row(row),
        image: None,
        cascade: None,
    })
}

impl Compiled {
    /// Binds the slots for this run: every value of the statement, from the request's variables
    /// and caller.
    pub fn bind(&self, env: &BindEnv) -> ApiResult<Vec<Value>> {
        bind_all(&self.slots, env)
    }

    /// Runs the statement with the values `bound` (see [`bind`](Self::bind)); the answer as
    /// JSON, or `None` (a row that does not exist or that the caller may not read). A write by
    /// `caller` goes through the change [`Pipeline`] (its change recorded in its transaction and
    /// published after commit); a write that wrote nothing is an error saying why.
    pub async fn run(
        &self,
        pool: &Pool,
        bound: &[Value],
        models: &[Model],
        changes: Option<(&Pipeline, &Caller)>,
    ) -> ApiResult<Option<Json>> {
        let rows = match (&self.image, changes) {
            (Some(image), Some((pipeline, caller))) => self.write(pool, bound, image, pipeline, caller).await,
            (Some(_), None) => return Err(ApiError::internal("a write outside the change pipeline")),
            (None, _) => pool.fetch_rows(&self.main.sql, self.main.values(bound)).await,
        };
        let rows = match rows {
            Ok(r) => r,
            Err(e) => return Err(self.failed(e, models)),
        };
        match super::rows::root_answer(&rows, &self.rows)? {
            Some(answer) => Ok(Some(answer)),
            None => match &self.diagnosis {
                None => Ok(None),
                Some((stmt, diagnosis)) => {
                    let flags = pool.fetch_text(&stmt.sql, stmt.values(bound)).await?;
                    let flags: Option<Vec<bool>> = match flags {
                        Some(t) => {
                            let v: Vec<i64> = serde_json::from_str(&t).map_err(ApiError::internal)?;
                            Some(v.into_iter().map(|f| f == 1).collect())
                        }
                        None => None,
                    };
                    let id = match self.id_slot.map(|i| &bound[i]) {
                        Some(Value::String(Some(s))) => s.as_str(),
                        _ => "",
                    };
                    Err(diagnosis.explain(flags.as_deref(), id))
                }
            },
        }
    }

    /// A write: its statements (in one transaction when there are several, or when a consumer
    /// works inside it), its change recorded and the consumers' statements run before commit,
    /// the change published after.
    async fn write(
        &self,
        pool: &Pool,
        bound: &[Value],
        (image, read_before): &(WriteImage, Option<Stmt>),
        pipeline: &Pipeline,
        caller: &Caller,
    ) -> Result<Rows, sea_orm::DbErr> {
        let mut lease = pool.acquire().await?;
        let is_delete = self.kind == RootKind::Write(crate::model::Operation::Delete);
        let judge_before = is_delete && pipeline.needs_before_delete(&self.model);
        let transaction = read_before.is_some()
            || self.then_delete.is_some()
            || judge_before
            || self.cascade.is_some()
            || pipeline.needs_transaction(&self.model);
        if transaction {
            lease.begin().await?;
        }
        let mut recorded = ChangeSet::new(Actor::of(caller));
        let result = async {
            // Consumers that judge a delete before it happens (realtime: the row and its
            // relations as they were).
            let deleted_id = match self.id_slot.map(|i| &bound[i]) {
                Some(Value::String(Some(id))) if is_delete => Some(id.as_str()),
                _ => None,
            };
            // The rows the delete takes with it, as they are now; their deletes judged too.
            let cascaded = match (&self.cascade, deleted_id) {
                (Some(cascade), Some(id)) => Some(cascade.collect(&self.model, id, &mut lease).await?),
                _ => None,
            };
            let prepared = match (judge_before, deleted_id) {
                (true, Some(id)) => pipeline.before_delete(&self.model, id, &mut lease).await,
                _ => Default::default(),
            };
            let mut cascaded_prepared = Vec::new();
            for row in cascaded.iter().flat_map(|c| &c.deleted) {
                cascaded_prepared.push(if pipeline.needs_before_delete(&row.model) {
                    pipeline.before_delete(&row.model, &row.id, &mut lease).await
                } else {
                    Default::default()
                });
            }
            let before = match read_before {
                Some(read) => {
                    let rows = lease.fetch_rows(&read.sql, read.values(bound)).await?;
                    if rows.is_empty() { None } else { Some(super::rows::row_image(&rows, 0, &image.columns, 0)) }
                }
                None => None,
            };
            let rows = lease.fetch_rows(&self.main.sql, self.main.values(bound)).await?;
            if rows.is_empty() {
                return Ok(rows);
            }
            if let Some(delete) = &self.then_delete {
                lease.fetch_rows(&delete.sql, delete.values(bound)).await?;
            }
            let img = |at: Option<usize>| at.map(|at| super::rows::row_image(&rows, 0, &image.columns, at)).transpose();
            let images = (|| -> ApiResult<_> {
                let before = match before {
                    Some(b) => Some(b?),
                    None => img(image.before)?,
                };
                Ok((before, img(image.after)?))
            })();
            let (before, after) = images.map_err(|e| sea_orm::DbErr::Custom(e.message))?;
            let op = match self.kind {
                RootKind::Write(op) => ChangeOp::of(op).expect("a write's operation"),
                _ => unreachable!("only writes have images"),
            };
            let row_id = after.as_ref().or(before.as_ref()).and_then(|r| r.get("id")).and_then(|v| v.as_str());
            let row_id = row_id.unwrap_or_default().to_string();
            recorded.record(&self.model, op, &row_id, before, after).prepared = prepared;
            if let Some(cascaded) = cascaded {
                for (row, prepared) in cascaded.deleted.into_iter().zip(cascaded_prepared) {
                    recorded.record(&row.model, ChangeOp::Delete, &row.id, Some(row.image), None).prepared = prepared;
                }
                for (row, after) in cascaded.cleared {
                    recorded.record(&row.model, ChangeOp::Update, &row.id, Some(row.image), Some(after));
                }
            }
            if transaction {
                for s in pipeline.in_transaction(&recorded, pool.backend()) {
                    lease.fetch_rows(&s.sql, s.values).await?;
                }
            }
            Ok(rows)
        }
        .await;
        match result {
            Ok(rows) => {
                if transaction {
                    lease.commit().await?;
                }
                drop(lease);
                pipeline.publish(recorded);
                Ok(rows)
            }
            Err(e) => {
                if transaction {
                    lease.rollback().await.ok();
                }
                Err(e)
            }
        }
    }

    /// A database error: a constraint a write broke is the client's (CONFLICT); anything else
    /// is ours.
    fn failed(&self, e: sea_orm::DbErr, models: &[Model]) -> ApiError {
        let Some(model) = models.iter().find(|m| m.name == self.model) else { return ApiError::internal(e) };
        match self.kind {
            RootKind::Write(Operation::Delete) => errors::write_error(model, e, errors::WriteOp::Delete, models),
            RootKind::Write(_) => errors::write_error(model, e, errors::WriteOp::Write, models),
            _ => ApiError::internal(e),
        }
    }
}
