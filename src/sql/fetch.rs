//! Loads what a selection asks for: the root rows in one statement, then each relation of the
//! selection in one statement for all parent rows at once (per-parent pages via window
//! functions). The statement count depends on the query's shape, never on the row count.

use super::access::readable;
use super::cursor::OrderKey;
use super::list::{
    ListArgs, PageLimits, count_query, grouped_count_query, grouped_page_query, page_query, select_columns,
};
use super::rows::decode;
use super::{ColumnSpec, Connection, Relation, Row, SqlCtx, col, columns};
use crate::error::{ApiError, ApiResult};
use crate::model::{FieldKind, Model};
use async_graphql::{Name, Value as GqlValue};
use futures_util::future::BoxFuture;
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Condition, ExprTrait, SelectStatement};
use std::collections::{BTreeSet, HashMap};

/// The request IR: one selected field, fragments flattened, variables resolved.
#[derive(Debug, Clone, Default)]
pub struct Sel {
    pub name: String,
    /// Response key: the alias, or the name.
    pub key: String,
    pub args: Vec<(Name, GqlValue)>,
    pub children: Vec<Sel>,
}

impl Sel {
    /// Whether a direct child field `name` is selected.
    pub fn wants(&self, name: &str) -> bool {
        self.children.iter().any(|c| c.name == name)
    }
    /// For a connection selection: the object fields selected under `nodes` and `edges.node`.
    pub fn node_fields(&self) -> Vec<&Sel> {
        let mut out = Vec::new();
        for c in &self.children {
            match c.name.as_str() {
                "nodes" => out.extend(c.children.iter()),
                "edges" => {
                    for e in c.children.iter().filter(|e| e.name == "node") {
                        out.extend(e.children.iter());
                    }
                }
                _ => {}
            }
        }
        out
    }
}

/// The columns a selection needs: `id` (relations and cursors hang off it), the selected
/// scalar fields, the foreign keys of selected `@belongsTo` relations, the order keys, and a
/// guard column (see [`ColumnSpec::guard`]) per selected guarded field when rows are read for a
/// caller, so field rules are decided per row by the same statement (a constant for admin: the
/// row may be shown to another caller, e.g. an auth payload read as the user signing in).
pub fn needed_columns(cx: &SqlCtx, model: &Model, fields: &[&Sel], order: &[OrderKey]) -> Vec<ColumnSpec> {
    // Each selected field's own key, and a selected belongsTo relation's foreign key.
    let wanted: Vec<&str> = fields
        .iter()
        .flat_map(|f| {
            let fk = match model.field(&f.name).map(|x| &x.kind) {
                Some(FieldKind::BelongsTo(b)) => Some(b.id_field.as_str()),
                _ => None,
            };
            std::iter::once(f.name.as_str()).chain(fk)
        })
        .collect();
    let mut cols: Vec<ColumnSpec> = columns(model)
        .into_iter()
        .filter(|c| c.key == "id" || order.iter().any(|k| k.spec.key == c.key) || wanted.contains(&c.key.as_str()))
        .collect();
    if cx.caller.is_some() {
        for f in fields {
            if let Some(field) = super::access::guarded_field(cx.schema, model, &f.name) {
                let spec = ColumnSpec::guard(model, &field.name);
                if !cols.iter().any(|c| c.key == spec.key) {
                    cols.push(spec);
                }
            }
        }
    }
    cols
}

/// Runs reads for one request on one connection (a pool or a transaction).
pub struct Loader<'a, C: ConnectionTrait + Sync> {
    pub conn: &'a C,
    pub cx: SqlCtx<'a>,
    pub limits: PageLimits,
}

impl<'a, C: ConnectionTrait + Sync> Loader<'a, C> {
    /// A loader that applies no rules (the server's own reads).
    pub fn new(conn: &'a C, schema: &'a crate::model::Schema, limits: PageLimits) -> Self {
        Self { conn, cx: SqlCtx::new(schema, conn.get_database_backend()), limits }
    }

    /// A loader whose every statement is restricted by `caller`'s `@auth` rules.
    pub fn for_caller(
        conn: &'a C,
        schema: &'a crate::model::Schema,
        limits: PageLimits,
        caller: &'a crate::auth::Caller,
    ) -> Self {
        Self { conn, cx: SqlCtx::for_caller(schema, conn.get_database_backend(), caller), limits }
    }

    /// The caller's read predicate on a root read of `model` under `alias`; a caller no read
    /// rule applies to at all is refused (rather than given an empty answer).
    fn root_rows(&self, model: &Model, alias: &str) -> ApiResult<Condition> {
        match super::access::access(&self.cx, model, alias, crate::model::Operation::Read)? {
            super::access::Access::Denied => Err(super::access::denied(&self.cx, model, crate::model::Operation::Read)),
            access => Ok(access.condition()),
        }
    }

    async fn rows(&self, cols: &[ColumnSpec], q: &SelectStatement) -> ApiResult<Vec<Row>> {
        let backend = self.conn.get_database_backend();
        self.conn.query_all(q).await?.iter().map(|r| decode(r, cols, backend)).collect()
    }

    /// A list query (`posts(...)`): one page, its relations, and `totalCount` when selected.
    pub async fn list(&self, model: &Model, sel: &Sel) -> ApiResult<Connection> {
        let a = self.cx.alias();
        let readable_rows = self.root_rows(model, &a)?;
        let args = ListArgs::parse(model, &sel.args, self.limits)?;
        super::access::check_order(&self.cx, model, &args.order)?;
        let fields = sel.node_fields();
        let cols = needed_columns(&self.cx, model, &fields, &args.order);
        let q = page_query(&self.cx, model, &cols, &args, (&a, readable_rows.clone()))?;
        let rows = self.rows(&cols, &q).await?;
        let mut page = args.assemble(rows);
        if sel.wants("totalCount") {
            let q = count_query(&self.cx, model, &args.filter, (&a, readable_rows))?;
            let row = self.conn.query_one(&q).await?.ok_or_else(|| ApiError::internal("COUNT returned no row"))?;
            page.total_count = Some(row.try_get::<i64>("", "__count")?);
        }
        let rows = page.edges.iter_mut().map(|e| std::mem::take(&mut e.row)).collect();
        let rows = self.load_relations(model, rows, fields).await?;
        for (edge, row) in page.edges.iter_mut().zip(rows) {
            edge.row = row;
        }
        Ok(page)
    }

    /// One row by id with the relations `fields` select; `None` when missing or unreadable. A
    /// caller no read rule applies to at all gets an error (a root query).
    pub async fn by_id(&self, model: &Model, id: &str, fields: Vec<&Sel>) -> ApiResult<Option<Row>> {
        let a = self.cx.alias();
        let readable_rows = self.root_rows(model, &a)?;
        self.find_where(model, id, fields, &a, Some(readable_rows)).await
    }

    /// Like [`by_id`](Self::by_id), but `None` (never an error) when the caller may not read the
    /// row: for writes, whose callers may hold write rules without read rules.
    pub async fn find(&self, model: &Model, id: &str, fields: Vec<&Sel>) -> ApiResult<Option<Row>> {
        let a = self.cx.alias();
        let readable_rows = readable(&self.cx, model, &a)?;
        self.find_where(model, id, fields, &a, Some(readable_rows)).await
    }

    /// The row a caller just wrote under a write rule that does not let them read it: its
    /// stored fields (scalars and belongsTo ids; field rules still apply), no relations.
    pub async fn find_written(&self, model: &Model, id: &str, fields: Vec<&Sel>) -> ApiResult<Option<Row>> {
        let own: Vec<&Sel> = fields.into_iter().filter(|f| super::column_for(model, &f.name).is_some()).collect();
        self.find_where(model, id, own, &self.cx.alias(), None).await
    }

    /// Row `id` under `alias`, restricted by `readable_rows` (built for that alias) if given.
    async fn find_where(
        &self,
        model: &Model,
        id: &str,
        fields: Vec<&Sel>,
        a: &str,
        readable_rows: Option<Condition>,
    ) -> ApiResult<Option<Row>> {
        let cols = needed_columns(&self.cx, model, &fields, &[]);
        let mut q = select_columns(&self.cx, model, &cols, a)?;
        q.and_where(col(a, "id").eq(id.to_string()));
        if let Some(rows) = readable_rows {
            q.cond_where(rows);
        }
        let rows = self.rows(&cols, &q).await?;
        Ok(self.load_relations(model, rows, fields).await?.into_iter().next())
    }

    /// Loads every relation `fields` select on `rows`, recursively, one statement per
    /// relation field (plus one per `totalCount`).
    pub fn load_relations<'s>(
        &'s self,
        model: &'s Model,
        mut rows: Vec<Row>,
        fields: Vec<&'s Sel>,
    ) -> BoxFuture<'s, ApiResult<Vec<Row>>> {
        Box::pin(async move {
            if rows.is_empty() {
                return Ok(rows);
            }
            // Group selections by response key (the same key may be selected several times).
            let mut groups: Vec<(&str, &crate::model::Field, Vec<&Sel>)> = Vec::new();
            for sel in fields {
                let Some(field) = model.field(&sel.name) else { continue };
                if matches!(field.kind, FieldKind::Scalar(_)) {
                    continue;
                }
                match groups.iter_mut().find(|(k, _, _)| *k == sel.key) {
                    // Two relations under one response key is invalid GraphQL (fields that
                    // cannot merge); refuse it rather than answer one with the other's rows.
                    Some(g) if g.1.name != field.name => {
                        return Err(ApiError::bad_input(format!(
                            "\"{}\" selects both {} and {}: give them different aliases",
                            sel.key, g.1.name, field.name
                        )));
                    }
                    Some(g) => g.2.push(sel),
                    None => groups.push((&sel.key, field, vec![sel])),
                }
            }
            for (key, field, sels) in groups {
                match &field.kind {
                    FieldKind::BelongsTo(b) => {
                        let target = self.cx.model(&b.target);
                        let ids: BTreeSet<String> = rows
                            .iter()
                            .filter_map(|r| r.values.get(&b.id_field).and_then(|v| v.as_str()).map(str::to_string))
                            .collect();
                        let mut by_id: HashMap<String, std::sync::Arc<Row>> = HashMap::new();
                        if !ids.is_empty() {
                            let a = self.cx.alias();
                            let child_fields: Vec<&Sel> = sels.iter().flat_map(|s| s.children.iter()).collect();
                            let cols = needed_columns(&self.cx, target, &child_fields, &[]);
                            let mut q = select_columns(&self.cx, target, &cols, &a)?;
                            q.and_where(col(&a, "id").is_in(ids));
                            q.cond_where(readable(&self.cx, target, &a)?);
                            let parents = self.rows(&cols, &q).await?;
                            for p in self.load_relations(target, parents, child_fields).await? {
                                by_id.insert(p.id().unwrap_or_default().to_string(), std::sync::Arc::new(p));
                            }
                        }
                        for r in rows.iter_mut() {
                            let parent =
                                r.values.get(&b.id_field).and_then(|v| v.as_str()).and_then(|id| by_id.get(id));
                            r.relations.insert(key.to_string(), Relation::One(parent.cloned()));
                        }
                    }
                    FieldKind::HasMany(h) => {
                        let target = self.cx.model(&h.target);
                        let fk = target.belongs_to_column(&h.via)?.to_string();
                        let args = ListArgs::parse(target, &sels[0].args, self.limits)?;
                        super::access::check_order(&self.cx, target, &args.order)?;
                        let parents: Vec<String> = rows.iter().filter_map(|r| r.id().map(str::to_string)).collect();
                        let child_fields: Vec<&Sel> = sels.iter().flat_map(|s| s.node_fields()).collect();
                        let cols = needed_columns(&self.cx, target, &child_fields, &args.order);
                        let q = grouped_page_query(&self.cx, target, &cols, (&h.via, &fk), &parents, &args)?;
                        let backend = self.conn.get_database_backend();
                        let mut children: Vec<Row> = Vec::new();
                        let mut owner: Vec<String> = Vec::new();
                        for r in self.conn.query_all(&q).await? {
                            owner.push(r.try_get::<String>("", "__parent")?);
                            children.push(decode(&r, &cols, backend)?);
                        }
                        let children = self.load_relations(target, children, child_fields).await?;
                        let mut per_parent: HashMap<String, Vec<Row>> = HashMap::new();
                        for (p, c) in owner.into_iter().zip(children) {
                            per_parent.entry(p).or_default().push(c);
                        }
                        let mut totals: HashMap<String, i64> = HashMap::new();
                        if sels.iter().any(|s| s.wants("totalCount")) {
                            let q = grouped_count_query(&self.cx, target, (&h.via, &fk), &parents, &args.filter)?;
                            for r in self.conn.query_all(&q).await? {
                                totals.insert(r.try_get::<String>("", "__parent")?, r.try_get::<i64>("", "__count")?);
                            }
                        }
                        for r in rows.iter_mut() {
                            let id = r.id().unwrap_or_default().to_string();
                            let mut page = args.assemble(per_parent.remove(&id).unwrap_or_default());
                            page.total_count = Some(totals.get(&id).copied().unwrap_or(0));
                            r.relations.insert(key.to_string(), Relation::Many(page));
                        }
                    }
                    FieldKind::Scalar(_) => {}
                }
            }
            Ok(rows)
        })
    }
}
