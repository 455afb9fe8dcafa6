//! What a delete takes with it: the rows `@belongsTo(onDelete: CASCADE)` deletes and
//! `onDelete: SET_NULL` clears when their parent goes. The database applies those actions itself,
//! silently; so that the change pipeline records a change for every row they touch (a
//! `commentDeleted` when its post is deleted, a `postUpdated` when its category is), a delete
//! reads them inside its transaction, before it runs, level by level (a statement per relation
//! and level, each taking every id of the level as one parameter).
//!
//! On PostgreSQL the rows are read `FOR UPDATE` after the deleted row itself is locked, so a child
//! inserted or changed meanwhile waits for the delete (and then fails its foreign key) rather
//! than vanish unrecorded; SQLite's write transactions are serialized already.

use super::params::list_param;
use super::text::{column, ident};
use super::{ColumnSpec, columns};
use crate::changes::RowImage;
use crate::db::pool::Lease;
use crate::model::{Model, OnDelete};
use sea_orm::DbBackend;
use sea_orm::sea_query::{ArrayType, Value, Values};
use serde_json::Value as Json;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// The relations a delete of one model can reach through `CASCADE` and `SET_NULL`.
#[derive(Debug)]
pub struct Cascade {
    /// By parent model: the relations pointing at it that act on its delete.
    edges: HashMap<String, Vec<Edge>>,
    /// PostgreSQL: locks the row about to be deleted (its id the one parameter).
    lock_root: Option<Arc<str>>,
    backend: DbBackend,
}

/// A `belongsTo` from `child` to a parent, with an action on the parent's delete.
#[derive(Debug)]
struct Edge {
    child: String,
    action: OnDelete,
    /// The foreign key's key in row images (`postId`).
    fk_key: String,
    /// The child rows whose foreign key is one of the parameter's ids, as row images.
    read: Arc<str>,
    columns: Vec<ColumnSpec>,
}

/// The rows a delete takes with it, as they were before it.
#[derive(Debug, Default)]
pub struct Cascaded {
    /// Rows deleted with it.
    pub deleted: Vec<Touched>,
    /// Rows whose foreign key is cleared, and each as it will be.
    pub cleared: Vec<(Touched, RowImage)>,
}

/// A row a delete touches: its model, id and image as it was.
#[derive(Debug)]
pub struct Touched {
    pub model: String,
    pub id: String,
    pub image: RowImage,
}

/// The cascade of a delete of `root`, or `None` when its delete touches no other row.
pub fn plan(models: &[Model], root: &Model, backend: DbBackend) -> Option<Cascade> {
    let mut edges: HashMap<String, Vec<Edge>> = HashMap::new();
    let mut todo = vec![root.name.clone()];
    let mut seen: HashSet<String> = todo.iter().cloned().collect();
    while let Some(parent) = todo.pop() {
        let mut out = Vec::new();
        for child in models {
            for (_, b) in child.belongs_to() {
                if b.target != parent || b.on_delete == OnDelete::Restrict {
                    continue;
                }
                if b.on_delete == OnDelete::Cascade && seen.insert(child.name.clone()) {
                    todo.push(child.name.clone());
                }
                out.push(edge(child, &b.column, &b.id_field, b.on_delete, backend));
            }
        }
        if !out.is_empty() {
            edges.insert(parent, out);
        }
    }
    if edges.is_empty() {
        return None;
    }
    let lock_root = (backend == DbBackend::Postgres)
        .then(|| Arc::from(format!("SELECT 1 FROM {} WHERE \"id\" = $1 FOR UPDATE", ident(&root.table))));
    Some(Cascade { edges, lock_root, backend })
}

fn edge(child: &Model, fk: &str, fk_key: &str, action: OnDelete, backend: DbBackend) -> Edge {
    let columns = columns(child);
    let t = &child.table;
    let list = columns.iter().map(|c| column(t, &c.column)).collect::<Vec<_>>().join(", ");
    let fk = column(t, fk);
    let read = match backend {
        DbBackend::Postgres => format!("SELECT {list} FROM {} WHERE {fk} = ANY($1) FOR UPDATE", ident(t)),
        _ => format!("SELECT {list} FROM {} WHERE {fk} IN (SELECT value FROM json_each(?))", ident(t)),
    };
    Edge { child: child.name.clone(), action, fk_key: fk_key.to_string(), read: Arc::from(read), columns }
}

impl Cascade {
    /// Reads what deleting row `id` of `model` will take with it, on the delete's connection
    /// (inside its transaction, before the delete).
    pub async fn collect(&self, model: &str, id: &str, conn: &mut Lease<'_>) -> Result<Cascaded, sea_orm::DbErr> {
        if let Some(lock) = &self.lock_root {
            conn.fetch_rows(lock, Values(vec![Value::String(Some(id.to_string()))])).await?;
        }
        let mut out = Cascaded::default();
        let mut deleted: HashSet<(String, String)> = HashSet::new();
        deleted.insert((model.to_string(), id.to_string()));
        let mut level: Vec<(String, Vec<String>)> = vec![(model.to_string(), vec![id.to_string()])];
        while !level.is_empty() {
            let mut next: HashMap<String, Vec<String>> = HashMap::new();
            for (parent, ids) in &level {
                for e in self.edges.get(parent).into_iter().flatten() {
                    let ids = ids.iter().map(|i| Value::String(Some(i.clone()))).collect();
                    let rows = conn
                        .fetch_rows(&e.read, Values(vec![list_param(ids, ArrayType::String, self.backend)]))
                        .await?;
                    for i in 0..rows.len() {
                        let image = super::rows::row_image(&rows, i, &e.columns, 0)
                            .map_err(|err| sea_orm::DbErr::Custom(err.message))?;
                        let Some(row_id) = image.get("id").and_then(Json::as_str).map(str::to_string) else {
                            continue;
                        };
                        match e.action {
                            OnDelete::Cascade => {
                                if deleted.insert((e.child.clone(), row_id.clone())) {
                                    next.entry(e.child.clone()).or_default().push(row_id.clone());
                                    out.deleted.push(Touched { model: e.child.clone(), id: row_id, image });
                                }
                            }
                            OnDelete::SetNull => {
                                // A row pointing at deleted rows through two relations is one
                                // change with both cleared.
                                let same = |(t, _): &&mut (Touched, RowImage)| t.model == e.child && t.id == row_id;
                                match out.cleared.iter_mut().find(same) {
                                    Some((_, after)) => {
                                        after.insert(e.fk_key.clone(), Json::Null);
                                    }
                                    None => {
                                        let mut after = image.clone();
                                        after.insert(e.fk_key.clone(), Json::Null);
                                        out.cleared
                                            .push((Touched { model: e.child.clone(), id: row_id, image }, after));
                                    }
                                }
                            }
                            OnDelete::Restrict => {}
                        }
                    }
                }
            }
            level = next.into_iter().collect();
        }
        // A row both cleared and deleted (two relations to the deleted rows) is deleted.
        out.cleared.retain(|(t, _)| !deleted.contains(&(t.model.clone(), t.id.clone())));
        Ok(out)
    }
}
