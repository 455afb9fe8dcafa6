//! Writes → one statement each: create, update and delete of one row, the `@auth` checks of
//! the row before and as written folded into the statement, which returns the written row (with
//! the selection's nested fields) as JSON, like a read.
//!
//! - create: `INSERT INTO t (...) SELECT * FROM (SELECT $1 AS id, ...) AS __new WHERE <create
//!   rules on __new> RETURNING <row>`: the new row's values (defaults filled in from the model)
//!   are checked before anything is written.
//! - update: `UPDATE t SET ... FROM (<the row as it will be>) AS __new WHERE t.id = __new.id AND
//!   <update rules on t> AND <update rules on __new> RETURNING <row>`.
//! - delete: `DELETE FROM t WHERE id = $1 AND <delete rules> RETURNING <row as it was>`. SQLite
//!   runs RETURNING after the row's cascades, so there a selection with relations reads the
//!   row first, in one transaction with the delete.
//!
//! When the caller may write a row but not read it, the answer may only show `id`, `createdAt`,
//! `updatedAt` and the written fields; a wider selection adds "readable as written" to the
//! statement's condition. A statement that writes nothing is explained by a second one (see
//! [`Diagnosis`]): only failures pay for it.

use super::input::Input;
use super::params::{Conv, Source};
use super::select::{Reader, RootRows, Sel};
use super::shape::OutRow;
use super::text::{self, column, ident, where_clause};
use super::{ColumnSpec, SqlCtx, col, columns};
use crate::error::{ApiError, ApiResult};
use crate::model::{FieldKind, Model, Operation, ScalarField, ScalarType};
use sea_orm::sea_query::ExprTrait;
use serde_json::{Map, Value as Json};

/// The alias of the row as written in write statements.
const NEW: &str = "__new";

/// A compiled write.
pub struct CompiledWrite {
    /// The statement; its answer the written row, or no row when nothing was written.
    pub main: String,
    /// SQLite deletes with relations in the selection: the row is read (`main`), then this
    /// deletes it, in one transaction.
    pub then_delete: Option<String>,
    /// Explains a write that wrote nothing.
    pub diagnosis: Diagnosis,
    pub out: OutRow,
    /// The slot of the written row's id (update, delete).
    pub id_slot: Option<usize>,
    /// What the statement's row holds.
    pub rows: RootRows,
    /// Where the change's row images are (after the answer's columns).
    pub image: WriteImage,
}

/// The written row's images for the change pipeline: every scalar column of the model, after the
/// answer's columns in the statement's row.
#[derive(Debug, Clone)]
pub struct WriteImage {
    pub columns: Vec<ColumnSpec>,
    /// The first column of the row as written (create, update).
    pub after: Option<usize>,
    /// The first column of the row as it was (update on PostgreSQL, delete).
    pub before: Option<usize>,
    /// SQLite updates: the row as it was, read first in the write's transaction (its columns
    /// from 0). SQLite's RETURNING cannot see the row before the update.
    pub read_before: Option<String>,
}

#[derive(Debug)]
/// What a write that wrote nothing checks, to say why: a statement whose answer is a JSON array
/// of 0/1 flags (or no row when the row does not exist), and how to read them.
pub struct Diagnosis {
    pub sql: String,
    pub op: Operation,
    pub model: String,
    /// The error of a caller who may write the row but not read it, and selected more than
    /// that allows.
    pub write_only: ApiError,
    /// The error of a caller whom no rule lets do `op` on a row they can read.
    pub denied: ApiError,
}

impl Diagnosis {
    /// The error for a write that wrote nothing, from the diagnosis' flags (`None`: no row).
    pub fn explain(&self, flags: Option<&[bool]>, id: &str) -> ApiError {
        let not_found = || ApiError::not_found(format!("no {} with id {id}", self.model));
        let as_written = || {
            ApiError::forbidden(format!(
                "the {} as written does not satisfy your @auth {} rules",
                self.model,
                self.op.as_str()
            ))
        };
        let Some(f) = flags else { return not_found() };
        match (self.op, f) {
            // [satisfies the create rules, readable]
            (Operation::Create, [false, _]) => as_written(),
            (Operation::Create, _) => self.write_only.clone(),
            // [readable, rules on the row, rules on the row as written, readable as written]
            (Operation::Update, [readable, false, _, _]) => {
                if *readable {
                    self.denied.clone()
                } else {
                    not_found()
                }
            }
            (Operation::Update, [_, true, false, _]) => as_written(),
            (Operation::Update, [_, true, true, false]) => self.write_only.clone(),
            // [readable, rules on the row]
            (Operation::Delete, [true, false]) => self.denied.clone(),
            (Operation::Delete, [false, true]) => self.write_only.clone(),
            _ => not_found(),
        }
    }
}

/// A write of `model` by the caller of `cx`: `op` on row `id` (update, delete) with `input`
/// (create, update), returning the selection `fields`.
pub fn compile(
    reader: &Reader,
    model: &Model,
    op: Operation,
    id: Option<&Input>,
    input: Option<&Input>,
    fields: &[&Sel],
) -> ApiResult<CompiledWrite> {
    let cx = reader.cx;
    let mut written = match input {
        Some(i) => written_fields(model, i, op == Operation::Create)?,
        None => Vec::new(),
    };
    own(cx, model, &mut written, op)?;
    if op == Operation::Create {
        check_required(model, &written)?;
    }
    let keys: Vec<&str> = written.iter().map(|(k, _)| k.as_str()).collect();
    let write_only = write_only_error(model, op, &keys, fields);
    let denied = super::access::denied(cx, model, op);
    let guard = |alias: &str| -> ApiResult<Option<String>> {
        match super::access::write_access(cx, model, alias, op, &keys)? {
            super::access::Access::Denied => Err(denied.clone()),
            a => Ok(text::condition(cx, a.condition())),
        }
    };
    let readable = |alias: &str| -> ApiResult<Option<String>> {
        Ok(Some(text::condition(cx, super::access::readable(cx, model, alias)?).unwrap_or_else(|| "1 = 1".into())))
    };
    let flag = |pred: Option<String>| match pred {
        Some(p) => format!("CASE WHEN {p} THEN 1 ELSE 0 END"),
        None => "1".to_string(),
    };
    let must_read = write_only.is_some();
    let write_only = write_only.unwrap_or_else(|| ApiError::forbidden("unreachable"));
    let table = &model.table;
    let id_slot = match id {
        Some(id) if op != Operation::Create => {
            Some(cx.slot(id.source(), Conv::Scalar(ColumnSpec::raw("id", ScalarType::Id, false)))?)
        }
        _ => None,
    };
    let id_source = || -> ApiResult<String> {
        id_slot.map(super::params::token).ok_or_else(|| ApiError::internal("a write of an existing row needs its id"))
    };
    // The written row as a root statement's row (see `select::RootRows`).
    let returning = |alias: &str| -> ApiResult<(String, RootRows, super::shape::RowShape)> {
        let columns = super::select::needed_columns(cx, model, fields, &[]);
        let (items, rows, shape) = reader.root_row_of(model, alias, fields, columns, false, false)?;
        Ok((items.join(", "), rows, shape))
    };
    let diagnosis = |sql: String| Diagnosis {
        sql,
        op,
        model: model.name.clone(),
        write_only: write_only.clone(),
        denied: denied.clone(),
    };
    let as_text = |json: &str| text::as_text(cx.backend, json);
    let array = |items: &[String]| text::array(cx.backend, items);
    let image_columns = columns(model);
    let image_of = |alias: &str| -> String {
        image_columns.iter().map(|c| column(alias, &c.column)).collect::<Vec<_>>().join(", ")
    };
    let width = |rows: &RootRows| rows.columns.len() + rows.relations;
    let pg = cx.backend == sea_orm::DatabaseBackend::Postgres;

    let compiled = match op {
        Operation::Create => {
            let values = new_row(cx, model, &written)?;
            let names: Vec<String> = values.iter().map(|(c, _)| ident(c)).collect();
            let select: Vec<String> = values.iter().map(|(c, v)| format!("{v} AS {}", ident(c))).collect();
            let new_row = format!("(SELECT {}) AS {}", select.join(", "), ident(NEW));
            let g = guard(NEW)?;
            let r = if must_read { readable(NEW)? } else { None };
            let (row, rows, shape) = returning(table)?;
            // With no rule to check on the row, a plain INSERT … VALUES … RETURNING.
            let main = if g.is_none() && r.is_none() {
                let vals: Vec<&str> = values.iter().map(|(_, v)| v.as_str()).collect();
                format!(
                    "INSERT INTO {} ({}) VALUES ({}) RETURNING {row}, {}",
                    ident(table),
                    names.join(", "),
                    vals.join(", "),
                    image_of(table)
                )
            } else {
                format!(
                    "INSERT INTO {} ({}) SELECT * FROM {new_row}{} RETURNING {row}, {}",
                    ident(table),
                    names.join(", "),
                    where_clause([g.clone(), r]),
                    image_of(table)
                )
            };
            let image = WriteImage {
                columns: image_columns.clone(),
                after: Some(width(&rows)),
                before: None,
                read_before: None,
            };
            let diag = format!("SELECT {} FROM {new_row}", as_text(&array(&[flag(g), flag(readable(NEW)?)])));
            CompiledWrite {
                main,
                then_delete: None,
                diagnosis: diagnosis(diag),
                out: reader.out_row(model, &shape, fields)?,
                id_slot,
                rows,
                image,
            }
        }
        Operation::Update => {
            let id = id_source()?;
            let mut set = Vec::new();
            let mut new_values = Vec::new();
            let o = cx.alias();
            let now = text::expr(cx, cx.bind(Source::Now, Conv::Column(timestamp()))?);
            for spec in columns(model) {
                let value = match written.iter().find(|(k, _)| *k == spec.key) {
                    Some((_, w)) => {
                        let v = text::expr(cx, cx.bind(w.source.clone(), w.conv.clone())?);
                        set.push(format!("{} = {v}", ident(&spec.column)));
                        v
                    }
                    None if spec.column == "updated_at" => now.clone(),
                    None => column(&o, &spec.column),
                };
                new_values.push(format!("{value} AS {}", ident(&spec.column)));
            }
            if pg {
                // The row as it was, beside the row as it will be: the update's FROM reads it
                // from the statement's snapshot.
                for (i, spec) in image_columns.iter().enumerate() {
                    new_values.push(format!("{} AS {}", column(&o, &spec.column), ident(&format!("__o{i}"))));
                }
            }
            set.push(format!("{} = {now}", ident("updated_at")));
            let new_row = format!(
                "(SELECT {} FROM {} AS {} WHERE {} = {id}) AS {}",
                new_values.join(", "),
                ident(table),
                ident(&o),
                column(&o, "id"),
                ident(NEW)
            );
            let (g_old, g_new) = (guard(table)?, guard(NEW)?);
            let r = if must_read { readable(NEW)? } else { None };
            let (row, rows, shape) = returning(table)?;
            let link = Some(format!("{} = {}", column(table, "id"), column(NEW, "id")));
            let n = image_columns.len();
            let (before, read_before) = if pg {
                let old: Vec<String> = (0..n).map(|i| column(NEW, &format!("__o{i}"))).collect();
                (format!(", {}", old.join(", ")), None)
            } else {
                let read =
                    format!("SELECT {} FROM {}{}", image_of(table), ident(table), where_clause([link_id(table, &id)]));
                (String::new(), Some(read))
            };
            let main = format!(
                "UPDATE {} SET {} FROM {new_row}{} RETURNING {row}, {}{before}",
                ident(table),
                set.join(", "),
                where_clause([link.clone(), g_old.clone(), g_new.clone(), r]),
                image_of(table)
            );
            let image = WriteImage {
                columns: image_columns.clone(),
                after: Some(width(&rows)),
                before: pg.then(|| width(&rows) + n),
                read_before,
            };
            let flags = [flag(readable(table)?), flag(g_old), flag(g_new), flag(readable(NEW)?)];
            let diag =
                format!("SELECT {} FROM {}, {new_row}{}", as_text(&array(&flags)), ident(table), where_clause([link]));
            CompiledWrite {
                main,
                then_delete: None,
                diagnosis: diagnosis(diag),
                out: reader.out_row(model, &shape, fields)?,
                id_slot,
                rows,
                image,
            }
        }
        Operation::Delete => {
            let id = id_source()?;
            let by_id = |alias: &str| Some(format!("{} = {id}", column(alias, "id")));
            let g = guard(table)?;
            let r = if must_read { readable(table)? } else { None };
            let flags = [flag(readable(table)?), flag(g.clone())];
            let diag =
                format!("SELECT {} FROM {}{}", as_text(&array(&flags)), ident(table), where_clause([by_id(table)]));
            let has_relations =
                fields.iter().any(|f| model.field(&f.name).is_some_and(|x| !matches!(x.kind, FieldKind::Scalar(_))));
            if cx.backend == sea_orm::DatabaseBackend::Sqlite && has_relations {
                let x = cx.alias();
                let g = guard(&x)?;
                let r = if must_read { readable(&x)? } else { None };
                let (row, rows, shape) = returning(&x)?;
                let main = format!(
                    "SELECT {row}, {} FROM {} AS {}{}",
                    image_of(&x),
                    ident(table),
                    ident(&x),
                    where_clause([by_id(&x), g, r])
                );
                let image = WriteImage {
                    columns: image_columns.clone(),
                    after: None,
                    before: Some(width(&rows)),
                    read_before: None,
                };
                let then = format!("DELETE FROM {}{}", ident(table), where_clause([by_id(table)]));
                CompiledWrite {
                    main,
                    then_delete: Some(then),
                    diagnosis: diagnosis(diag),
                    out: reader.out_row(model, &shape, fields)?,
                    id_slot,
                    rows,
                    image,
                }
            } else {
                let (row, rows, shape) = returning(table)?;
                let main = format!(
                    "DELETE FROM {}{} RETURNING {row}, {}",
                    ident(table),
                    where_clause([by_id(table), g, r]),
                    image_of(table)
                );
                let image = WriteImage {
                    columns: image_columns.clone(),
                    after: None,
                    before: Some(width(&rows)),
                    read_before: None,
                };
                CompiledWrite {
                    main,
                    then_delete: None,
                    diagnosis: diagnosis(diag),
                    out: reader.out_row(model, &shape, fields)?,
                    id_slot,
                    rows,
                    image,
                }
            }
        }
        Operation::Read => return Err(ApiError::internal("a read is not a write")),
    };
    Ok(compiled)
}

/// `alias.id = <id>`.
fn link_id(alias: &str, id: &str) -> Option<String> {
    Some(format!("{} = {id}", column(alias, "id")))
}

/// One written field: its key (`title`, `authorId`) and where its value comes from.
struct Written {
    source: Source,
    conv: Conv,
}

/// The fields `input` writes, checked against the model: known writable fields, no null where
/// the field is required, and on create every required field without a default. Values are
/// checked against the fields' rules (`@length`, `@range`) when bound, on every run.
fn written_fields(model: &Model, input: &Input, create: bool) -> ApiResult<Vec<(String, Written)>> {
    let entries = input.entries().ok_or_else(|| ApiError::bad_input("input must be an object"))?;
    let cols = columns(model);
    let mut out = Vec::new();
    for (key, v) in entries {
        let key = key.as_str();
        let spec = cols
            .iter()
            .find(|c| c.key == key)
            .ok_or_else(|| ApiError::invalid_field(key, format!("{} has no writable field {key}", model.name)))?;
        if is_managed(model, key) {
            return Err(ApiError::invalid_field(key, format!("{key} is set by the server")));
        }
        if v.is_null() {
            if !(spec.nullable || create && has_default(model, key)) {
                return Err(ApiError::invalid_field(key, format!("{key} cannot be null")));
            }
            if create && has_default(model, key) {
                continue; // the default applies
            }
        }
        let field = match model.field(key).map(|f| &f.kind) {
            Some(FieldKind::Scalar(s)) => Some(s.clone()),
            _ => None,
        };
        out.push((
            key.to_string(),
            Written { source: v.source(), conv: Conv::Written(Box::new((spec.clone(), field))) },
        ));
    }
    Ok(out)
}

/// On create, every required field without a default must be written (owners included, which
/// [`own`] sets for a signed-in caller).
fn check_required(model: &Model, written: &[(String, Written)]) -> ApiResult<()> {
    for c in columns(model).iter().filter(|c| !c.nullable && !is_managed(model, &c.key) && !has_default(model, &c.key))
    {
        if !written.iter().any(|(k, _)| *k == c.key) {
            return Err(ApiError::invalid_field(&c.key, format!("{} is required", c.key)));
        }
    }
    Ok(())
}

/// Owner fields belong to the caller: set to them on create, and reassigned by admin only
/// (whatever rule lets someone update the row, it does not make the row theirs).
fn own(cx: &SqlCtx, model: &Model, written: &mut Vec<(String, Written)>, op: Operation) -> ApiResult<()> {
    let Some(caller) = cx.caller else { return Ok(()) };
    let create = op == Operation::Create;
    for (field, key) in super::access::owner_fields(model) {
        let spec = super::column_for(model, &key).ok_or_else(|| ApiError::internal("owner fields are stored"))?;
        let at = written.iter().position(|(k, _)| *k == key);
        if caller.is_admin() {
            if create && at.is_none() && caller.user().is_some() {
                written.push((key, Written { source: Source::CallerId, conv: Conv::Column(spec) }));
            }
            continue;
        }
        let message = format!("{key} is the owner ({field}): it is set to you on create, and only admin may change it");
        match at {
            Some(_) if !create || caller.user().is_none() => return Err(ApiError::forbidden(message)),
            // On create the owner may be given, as long as it is the caller.
            Some(i) => written[i].1.conv = Conv::Owner(message),
            None if create => written.push((key, Written { source: Source::CallerId, conv: Conv::Column(spec) })),
            None => {}
        }
    }
    Ok(())
}

/// The values of a new row, every column: the id, the timestamps, the written fields, and for
/// the others their declared default or NULL (so rules see the row exactly as it is stored).
fn new_row(cx: &SqlCtx, model: &Model, written: &[(String, Written)]) -> ApiResult<Vec<(String, String)>> {
    let mut out = Vec::new();
    let now = text::expr(cx, cx.bind(Source::Now, Conv::Column(timestamp()))?);
    for spec in columns(model) {
        let value = match spec.column.as_str() {
            "id" if is_managed(model, &spec.key) => text::expr(cx, cx.bind(Source::NewId, Conv::Column(spec.clone()))?),
            "created_at" | "updated_at" if is_managed(model, &spec.key) => now.clone(),
            _ => match written.iter().find(|(k, _)| *k == spec.key) {
                Some((_, w)) => text::expr(cx, cx.bind(w.source.clone(), w.conv.clone())?),
                None => {
                    let default = match model.field(&spec.key).map(|f| &f.kind) {
                        Some(FieldKind::Scalar(s)) => s.default.clone(),
                        _ => None,
                    };
                    let value =
                        async_graphql::Value::from_json(default.unwrap_or(Json::Null)).map_err(ApiError::internal)?;
                    text::expr(cx, cx.bind(Source::Value(value), Conv::Column(spec.clone()))?)
                }
            },
        };
        out.push((spec.column.clone(), value));
    }
    Ok(out)
}

fn timestamp() -> ColumnSpec {
    ColumnSpec::raw("updatedAt", ScalarType::DateTime, false)
}

/// When the selection shows more of a written row than a caller who may write it but not read
/// it may see (`id`, `createdAt`, `updatedAt` and the fields they wrote): the error they get if
/// they cannot read it.
fn write_only_error(model: &Model, op: Operation, written: &[&str], fields: &[&Sel]) -> Option<ApiError> {
    let shown = |name: &str| matches!(name, "id" | "createdAt" | "updatedAt" | "__typename") || written.contains(&name);
    let f = fields.iter().find(|f| !shown(&f.name))?;
    let mut names: Vec<&str> = vec!["id", "createdAt", "updatedAt"];
    names.extend(written.iter().copied());
    Some(ApiError::forbidden(format!(
        "your @auth rules let you {} this {} but not read it: select only {} (not {})",
        op.as_str(),
        model.name,
        names.join(", "),
        f.name
    )))
}

fn is_managed(model: &Model, key: &str) -> bool {
    matches!(model.field(key).map(|f| &f.kind), Some(FieldKind::Scalar(s)) if s.managed.is_some())
}

fn has_default(model: &Model, key: &str) -> bool {
    matches!(model.field(key).map(|f| &f.kind), Some(FieldKind::Scalar(s)) if s.default.is_some())
}

/// `@length` (characters of a string, items of a list), `@range`, and DateTime syntax, for a
/// non-null value written into `field`.
pub fn check_rules(field: &ScalarField, key: &str, v: &Json) -> ApiResult<()> {
    if let Some(b) = field.length {
        let (len, unit) = match v {
            Json::String(t) => (t.chars().count() as f64, "character"),
            Json::Array(a) => (a.len() as f64, "item"),
            _ => (0.0, ""),
        };
        if !unit.is_empty() {
            if let Some(min) = b.min.filter(|m| len < *m) {
                let s = if min == 1.0 { "" } else { "s" };
                return Err(ApiError::invalid_field(
                    key,
                    format!("{key} must have at least {min} {unit}{s} (@length)"),
                ));
            }
            if let Some(max) = b.max.filter(|m| len > *m) {
                let s = if max == 1.0 { "" } else { "s" };
                return Err(ApiError::invalid_field(key, format!("{key} must have at most {max} {unit}{s} (@length)")));
            }
        }
    }
    if let (Some(b), Some(n)) = (field.range, v.as_f64()) {
        if let Some(min) = b.min.filter(|m| n < *m) {
            return Err(ApiError::invalid_field(key, format!("{key} must be at least {min} (@range)")));
        }
        if let Some(max) = b.max.filter(|m| n > *m) {
            return Err(ApiError::invalid_field(key, format!("{key} must be at most {max} (@range)")));
        }
    }
    if field.ty == ScalarType::DateTime && !field.list && v.as_str().and_then(super::values::parse_datetime).is_none() {
        return Err(ApiError::invalid_field(
            key,
            format!("{key} must be an RFC 3339 DateTime such as 2026-01-31T12:00:00Z"),
        ));
    }
    Ok(())
}

/// Sets profile fields of a user inside the sign-up transaction (the server's own write: the
/// sign-up rules were checked by its caller): validated like any write, then one UPDATE.
pub async fn set_user_fields<C: sea_orm::ConnectionTrait>(
    conn: &C,
    model: &Model,
    id: &str,
    input: &Map<String, Json>,
) -> ApiResult<()> {
    let backend = conn.get_database_backend();
    let cols = columns(model);
    let mut q = sea_orm::sea_query::Query::update();
    q.table(sea_orm::sea_query::Alias::new(&model.table));
    for (key, v) in input {
        let spec = cols
            .iter()
            .find(|c| &c.key == key && !is_managed(model, key))
            .ok_or_else(|| ApiError::invalid_field(key, format!("{} has no writable field {key}", model.name)))?;
        if v.is_null() && !spec.nullable {
            return Err(ApiError::invalid_field(key, format!("{key} cannot be null")));
        }
        if let (false, Some(FieldKind::Scalar(s))) = (v.is_null(), model.field(key).map(|f| &f.kind)) {
            check_rules(s, key, v)?;
        }
        q.value(sea_orm::sea_query::Alias::new(&spec.column), super::values::bind(spec, v, backend)?);
    }
    q.and_where(col(&model.table, "id").eq(id.to_string()));
    conn.execute(&q).await.map_err(|e| super::errors::write_error(model, e, super::errors::WriteOp::Write, &[]))?;
    Ok(())
}
