//! Reads → one statement: a row by id or a page, with its nested relations at any depth,
//! `@auth` rules and field guards, filters, ordering, cursors and `totalCount`, all in the
//! statement, which returns the whole answer as one JSON value (see `shape.rs`).
//!
//! A page is a derived table (`SELECT x.* ... ORDER BY ... LIMIT n`, so the database can walk
//! an index and stop) aggregated into a JSON array; each row's relations are correlated
//! subqueries in its JSON: a `@belongsTo` a lookup by primary key, a `@hasMany` a page of its
//! own per parent row. On PostgreSQL:
//!
//! ```sql
//! SELECT (json_build_array(coalesce(json_agg(json_build_array("t1"."id", "t1"."title",
//!          (SELECT json_build_array("t2"."id", "t2"."email") FROM "users" AS "t2"
//!            WHERE ("t2"."id" = "t1"."author_id"))) ORDER BY "t1"."id" ASC), '[]'::json)))::text
//!   FROM (SELECT "t0".* FROM "posts" AS "t0" ORDER BY "t0"."id" ASC LIMIT $1) AS "t1"
//! ```

use super::access::{self, Access};
use super::cursor::{OrderKey, signature};
use super::input::Input;
use super::list::{ListArgs, PageLimits};
use super::params::Source;
use super::shape::{
    EdgeField, Guard, InfoField, OutField, OutKind, OutPage, OutRow, PageField, PageMeta, RelShape, RowShape,
};
use super::text::{self, column, ident, where_clause};
use super::{ColumnSpec, SqlCtx, col, columns};
use crate::error::{ApiError, ApiResult};
use crate::model::{BelongsTo, Field, FieldKind, HasMany, Model, Operation, naming};
use async_graphql::{Name, Pos};
use async_graphql_value::Value as DocValue;
use sea_orm::sea_query::{Condition, ExprTrait};

/// The request IR: one selected field, fragments flattened, arguments as written.
#[derive(Debug, Clone)]
pub struct Sel {
    pub name: String,
    /// Response key: the alias, or the name.
    pub key: String,
    pub args: Vec<(Name, DocValue)>,
    pub children: Vec<Sel>,
    /// Where the field is in the document.
    pub pos: Pos,
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
    /// Argument `name` (null when not given).
    pub fn arg<'a>(&'a self, name: &str, cx: &'a SqlCtx) -> Input<'a> {
        match self.args.iter().find(|(k, _)| k.as_str() == name) {
            Some((_, v)) => Input::doc(v, cx.inputs),
            None => Input::null(cx.inputs),
        }
    }
}

/// Selections grouped by response key, in first-appearance order (a key may be selected
/// several times, through fragments; GraphQL merges them).
fn by_key<'s>(fields: &[&'s Sel]) -> Vec<(&'s str, Vec<&'s Sel>)> {
    let mut groups: Vec<(&str, Vec<&Sel>)> = Vec::new();
    for f in fields {
        match groups.iter_mut().find(|(k, _)| *k == f.key) {
            Some(g) => g.1.push(f),
            None => groups.push((&f.key, vec![f])),
        }
    }
    groups
}

/// The columns a selection needs: `id` (relations and cursors hang off it), the selected
/// scalar fields, the foreign keys of selected `@belongsTo` relations, the order keys, and a
/// guard column (see [`ColumnSpec::guard`]) per selected guarded field when rows are read for a
/// caller, so field rules are decided per row by the same statement.
pub fn needed_columns(cx: &SqlCtx, model: &Model, fields: &[&Sel], order: &[OrderKey]) -> Vec<ColumnSpec> {
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
            if let Some(field) = access::guarded_field(cx.schema, model, &f.name) {
                let spec = ColumnSpec::guard(model, &field.name);
                if !cols.iter().any(|c| c.key == spec.key) {
                    cols.push(spec);
                }
            }
        }
    }
    cols
}

/// Where a page's rows come from.
enum Scope<'s> {
    /// A root list: every row of the table the caller may read.
    Root,
    /// The children of the row under `parent` through belongsTo `via` (column `fk`).
    Children { parent: &'s str, via: &'s str, fk: &'s str },
}

/// Compiles reads for one caller.
pub struct Reader<'c, 'a> {
    pub cx: &'c SqlCtx<'a>,
    pub limits: PageLimits,
}

/// The name of a page's total in a root statement's rows.
const TOTAL: &str = "__total";

/// A root statement's answer: SQL rows (not one JSON value), each a row's columns as stored
/// (the driver's typed values: what a hand-written query returns), then its relations as JSON
/// text, then for a page with `totalCount` the total.
#[derive(Debug, Clone)]
pub struct RootRows {
    pub columns: Vec<ColumnSpec>,
    pub relations: usize,
    /// A page (the answer's rows are its rows), or one row (or none).
    pub page: bool,
    /// A page whose rows end with the total (a page with no rows is one row of NULLs then).
    pub total: bool,
}

impl Reader<'_, '_> {
    /// A root read of one row: `SELECT <row> FROM table WHERE id = $id AND <readable>`, its
    /// answer the row or no row. A caller no read rule applies to at all gets an error.
    pub fn by_id(&self, model: &Model, id: Source, fields: &[&Sel]) -> ApiResult<(String, RootRows, OutRow)> {
        let cx = self.cx;
        let x = cx.alias();
        let readable = self.root_rows(model, &x)?;
        let id =
            cx.bind(id, super::params::Conv::Scalar(ColumnSpec::raw("id", crate::model::ScalarType::Id, false)))?;
        let id_pred = text::condition(cx, Condition::all().add(col(&x, "id").eq(id)));
        let columns = needed_columns(cx, model, fields, &[]);
        let (items, rows, shape) = self.root_row_of(model, &x, fields, columns, false, false)?;
        let out = self.out_row(model, &shape, fields)?;
        let sql = format!(
            "SELECT {} FROM {} AS {}{}",
            items.join(", "),
            ident(&model.table),
            ident(&x),
            where_clause([id_pred, text::condition(cx, readable)])
        );
        Ok((sql, rows, out))
    }

    /// A root row of `model` under `a` with `columns` (`computed_guards`: its guard columns
    /// are columns of `a`, computed by a derived table): the select items, what they are, and
    /// the row's shape.
    pub fn root_row_of(
        &self,
        model: &Model,
        a: &str,
        fields: &[&Sel],
        columns: Vec<ColumnSpec>,
        computed_guards: bool,
        page: bool,
    ) -> ApiResult<(Vec<String>, RootRows, RowShape)> {
        let (mut items, relations, shape) = self.row_parts(model, a, fields, columns, computed_guards, false)?;
        for r in relations {
            items.push(text::json_text(self.cx.backend, &r));
        }
        let rows = RootRows { columns: shape.columns.clone(), relations: shape.relations.len(), page, total: false };
        Ok((items, rows, shape))
    }

    /// A subscription's answer for one changed row of `model`: `SELECT <row> FROM (SELECT <the
    /// row's image as bound values>) AS x WHERE <readable> AND <filter>`, the selection of `sel`
    /// and its `filter` argument as in lists. The row source is the image
    /// ([`super::params::Source::Row`]). With `from_table`, the row source is instead the row in
    /// its table (by the image's `id`): a delete is judged there, inside its transaction, before
    /// it happens, with the relations its rules and filter may read as they were. Returns the
    /// select items, the rest of the statement (`FROM …`), the row shape and the answer's shape.
    pub fn event_row(
        &self,
        model: &Model,
        sel: &Sel,
        from_table: bool,
    ) -> ApiResult<(Vec<String>, String, RootRows, OutRow)> {
        use super::params::{Conv, Source};
        let cx = self.cx;
        let x = cx.alias();
        let readable = self.root_rows(model, &x)?;
        let filter = super::filter::filter_condition(cx, model, &x, &sel.arg("filter", cx))?;
        let fields: Vec<&Sel> = sel.children.iter().collect();
        let columns = needed_columns(cx, model, &fields, &[]);
        let (items, rows, shape) = self.root_row_of(model, &x, &fields, columns, false, false)?;
        let out = self.out_row(model, &shape, &fields)?;
        if from_table {
            let id = cx.bind(
                Source::Row("id".into()),
                Conv::Scalar(ColumnSpec::raw("id", crate::model::ScalarType::Id, false)),
            )?;
            let by_id = text::condition(cx, Condition::all().add(col(&x, "id").eq(id)));
            let rest = format!(
                "{} AS {}{}",
                ident(&model.table),
                ident(&x),
                where_clause([by_id, text::condition(cx, readable), text::condition(cx, filter)])
            );
            return Ok((items, rest, rows, out));
        }
        let image = super::columns(model)
            .into_iter()
            .map(|c| {
                let v = text::expr(cx, cx.bind(Source::Row(c.key.clone()), Conv::Column(c.clone()))?);
                Ok(format!("{v} AS {}", ident(&c.column)))
            })
            .collect::<ApiResult<Vec<String>>>()?;
        let rest = format!(
            "(SELECT {}) AS {}{}",
            image.join(", "),
            ident(&x),
            where_clause([text::condition(cx, readable), text::condition(cx, filter)])
        );
        Ok((items, rest, rows, out))
    }

    /// A root list (`posts(...)`): one page of rows with their relations (and `totalCount`),
    /// answered as rows.
    pub fn list(&self, model: &Model, sel: &Sel) -> ApiResult<(String, RootRows, OutPage)> {
        let cx = self.cx;
        if !access::may(cx, model, Operation::Read) {
            return Err(access::denied(cx, model, Operation::Read));
        }
        let args = ListArgs::parse(model, |n| sel.arg(n, cx), self.limits)?;
        access::check_order(cx, model, &args.order)?;
        let fields = sel.node_fields();
        let total = sel.wants("totalCount");
        let (from, p, columns) = self.page_rows(model, &args, &fields, &Scope::Root)?;
        let (mut items, mut rows, shape) = self.root_row_of(model, &p, &fields, columns, true, true)?;
        let order = text::order_by(&args.order, &p, args.backward);
        let sql = if total {
            // The total in every row; with no row on the page, one row of NULLs carries it.
            let c = cx.alias();
            items.push(column(&c, TOTAL));
            rows.total = true;
            format!(
                "SELECT {} FROM ({}) AS {} LEFT JOIN {from} ON 1 = 1 ORDER BY {order}",
                items.join(", "),
                self.count(model, &args, &Scope::Root)?,
                ident(&c)
            )
        } else {
            format!("SELECT {} FROM {from} ORDER BY {order}", items.join(", "))
        };
        Ok((sql, rows, self.out_page(model, &shape, self.meta(&args, total), &[sel])?))
    }

    /// The caller's read predicate on a root read of `model` under `alias`; a caller no read
    /// rule applies to at all is refused (rather than given an empty answer).
    fn root_rows(&self, model: &Model, alias: &str) -> ApiResult<Condition> {
        match access::access(self.cx, model, alias, Operation::Read)? {
            Access::Denied => Err(access::denied(self.cx, model, Operation::Read)),
            a => Ok(a.condition()),
        }
    }

    /// A row of `model` under table alias `a` as a JSON array (see `shape.rs`), with the
    /// relations `fields` select. `order` keys are included for cursors.
    pub fn row(&self, model: &Model, a: &str, fields: &[&Sel], order: &[OrderKey]) -> ApiResult<(String, RowShape)> {
        let columns = needed_columns(self.cx, model, fields, order);
        let (mut items, relations, shape) = self.row_parts(model, a, fields, columns, false, true)?;
        items.extend(relations);
        Ok((text::array(self.cx.backend, &items), shape))
    }

    /// The parts of a row of `model` under `a`: the values of `columns` (as JSON values when
    /// `encode`, else as stored; guard columns computed from the field's rules unless
    /// `computed_guards`), and the relations `fields` select as JSON, correlated to the row.
    fn row_parts(
        &self,
        model: &Model,
        a: &str,
        fields: &[&Sel],
        columns: Vec<ColumnSpec>,
        computed_guards: bool,
        encode: bool,
    ) -> ApiResult<(Vec<String>, Vec<String>, RowShape)> {
        let cx = self.cx;
        let items = columns
            .iter()
            .map(|c| match c.guarded_field() {
                Some(field) if !computed_guards => guard_case(cx, model, field, a),
                _ if encode => Ok(text::value(cx.backend, a, c)),
                _ => Ok(column(a, &c.column)),
            })
            .collect::<ApiResult<Vec<_>>>()?;
        let mut sqls = Vec::new();
        let mut relations = Vec::new();
        for (key, field, sels) in relation_groups(model, fields)? {
            let (sql, shape) = match &field.kind {
                FieldKind::BelongsTo(b) => self.belongs_to(b, a, &sels)?,
                FieldKind::HasMany(h) => self.has_many(h, a, &sels)?,
                FieldKind::Scalar(_) => continue,
            };
            sqls.push(sql);
            relations.push((key.to_string(), shape));
        }
        Ok((items, sqls, RowShape { columns, relations }))
    }

    /// The parent row of a `@belongsTo`, if the caller may read it.
    fn belongs_to(&self, b: &BelongsTo, a: &str, sels: &[&Sel]) -> ApiResult<(String, RelShape)> {
        let cx = self.cx;
        let target = cx.model(&b.target);
        let x = cx.alias();
        let children: Vec<&Sel> = sels.iter().flat_map(|s| s.children.iter()).collect();
        let (row, shape) = self.row(target, &x, &children, &[])?;
        let link = Some(format!("{} = {}", column(&x, "id"), column(a, &b.column)));
        let readable = text::condition(cx, access::readable(cx, target, &x)?);
        let sql =
            format!("(SELECT {row} FROM {} AS {}{})", ident(&target.table), ident(&x), where_clause([link, readable]));
        Ok((sql, RelShape::One(shape)))
    }

    /// The page of children of a `@hasMany` for the row under `a`: `[rows, total?]` as JSON.
    fn has_many(&self, h: &HasMany, a: &str, sels: &[&Sel]) -> ApiResult<(String, RelShape)> {
        let cx = self.cx;
        let target = cx.model(&h.target);
        let fk = target.belongs_to_column(&h.via)?;
        let args = ListArgs::parse(target, |n| sels[0].arg(n, cx), self.limits)?;
        access::check_order(cx, target, &args.order)?;
        let fields: Vec<&Sel> = sels.iter().flat_map(|s| s.node_fields()).collect();
        let total = sels.iter().any(|s| s.wants("totalCount"));
        let scope = Scope::Children { parent: a, via: &h.via, fk };
        let (from, p, columns) = self.page_rows(target, &args, &fields, &scope)?;
        let (mut items, relations, shape) = self.row_parts(target, &p, &fields, columns, true, true)?;
        items.extend(relations);
        let row = text::array(cx.backend, &items);
        let mut page = vec![text::aggregate(cx.backend, &row, &text::order_by(&args.order, &p, args.backward))];
        if total {
            page.push(format!("({})", self.count(target, &args, &scope)?));
        }
        let sql = format!("(SELECT {} FROM {from})", text::array(cx.backend, &page));
        Ok((sql, RelShape::Many(shape, self.meta(&args, total))))
    }

    /// The rows of a page as a derived table (`(SELECT ... ORDER BY ... LIMIT n) AS p`), its
    /// alias and columns: just the columns the rows need (guards decided in it, over the table),
    /// so the database reads and copies no more, and can walk an index and stop.
    fn page_rows(
        &self,
        model: &Model,
        args: &ListArgs,
        fields: &[&Sel],
        scope: &Scope,
    ) -> ApiResult<(String, String, Vec<ColumnSpec>)> {
        let cx = self.cx;
        let x = cx.alias();
        let mut preds = self.scope_preds(model, scope, &x)?;
        preds.push(text::condition(cx, super::filter::filter_condition(cx, model, &x, &args.filter)?));
        if let Some(cursor) = &args.cursor {
            preds.push(text::condition(cx, super::cursor::after(cx, &args.order, &x, cursor, args.backward)?));
        }
        let columns = needed_columns(cx, model, fields, &args.order);
        let select: Vec<String> = columns
            .iter()
            .map(|c| {
                Ok(match c.guarded_field() {
                    None => format!("{} AS {}", column(&x, &c.column), ident(&c.column)),
                    Some(field) => format!("{} AS {}", guard_case(cx, model, field, &x)?, ident(&c.column)),
                })
            })
            .collect::<ApiResult<_>>()?;
        let inner = format!(
            "SELECT {} FROM {} AS {}{} ORDER BY {} LIMIT {}",
            select.join(", "),
            ident(&model.table),
            ident(&x),
            where_clause(preds),
            text::order_by(&args.order, &x, args.backward),
            args.size + 1
        );
        let p = cx.alias();
        Ok((format!("({inner}) AS {}", ident(&p)), p, columns))
    }

    /// `SELECT count(*) FROM <the page's scope, filtered>` (cursors do not narrow a total).
    fn count(&self, model: &Model, args: &ListArgs, scope: &Scope) -> ApiResult<String> {
        let cx = self.cx;
        let y = cx.alias();
        let mut preds = self.scope_preds(model, scope, &y)?;
        preds.push(text::condition(cx, super::filter::filter_condition(cx, model, &y, &args.filter)?));
        Ok(format!(
            "SELECT count(*) AS {} FROM {} AS {}{}",
            ident(TOTAL),
            ident(&model.table),
            ident(&y),
            where_clause(preds)
        ))
    }

    fn meta(&self, args: &ListArgs, total: bool) -> PageMeta {
        PageMeta {
            signature: signature(&args.order).into(),
            order: args.order.clone(),
            size: args.size,
            backward: args.backward,
            from_cursor: args.cursor.is_some(),
            total,
        }
    }

    /// The rows of a page's scope under `x` the caller may read.
    fn scope_preds(&self, model: &Model, scope: &Scope, x: &str) -> ApiResult<Vec<Option<String>>> {
        let cx = self.cx;
        Ok(match scope {
            Scope::Root => vec![text::condition(cx, self.root_rows(model, x)?)],
            Scope::Children { parent, via, fk } => {
                let link = access::field_read_condition(cx, model, via, x)?;
                vec![
                    Some(format!("{} = {}", column(x, fk), column(parent, "id"))),
                    text::condition(cx, access::readable(cx, model, x)?),
                    link.and_then(|l| text::condition(cx, l)),
                ]
            }
        })
    }

    /// The response of `fields` over a row of `shape`.
    pub fn out_row(&self, model: &Model, shape: &RowShape, fields: &[&Sel]) -> ApiResult<OutRow> {
        let cx = self.cx;
        let mut out = Vec::new();
        for (key, sels) in by_key(fields) {
            let sel = sels[0];
            let (key, pos) = (Name::new(key), sel.pos);
            if sel.name == "__typename" {
                out.push(OutField { key, pos, kind: OutKind::Typename });
                continue;
            }
            let guard = self.guard(model, shape, &sel.name);
            if let Some(at) = super::column_for(model, &sel.name).and_then(|c| shape.column(&c.key)) {
                let spec = shape.columns[at].clone();
                out.push(OutField { key, pos, kind: OutKind::Column { at, spec, guard } });
                continue;
            }
            let field = model.field(&sel.name).ok_or_else(|| no_field(model, &sel.name))?;
            let (at, rel) = shape.relation(&sel.key).ok_or_else(|| no_field(model, &sel.name))?;
            let kind = match (&field.kind, rel) {
                (FieldKind::BelongsTo(b), RelShape::One(sub)) => {
                    let target = cx.model(&b.target);
                    let children: Vec<&Sel> = sels.iter().flat_map(|s| s.children.iter()).collect();
                    OutKind::One {
                        at,
                        fk_at: shape.column(&b.id_field).ok_or_else(|| no_field(model, &b.id_field))?,
                        row: self.out_row(target, sub, &children)?,
                        guard,
                        hidden: format!("you may not read this {} (@auth rules)", b.target).into(),
                    }
                }
                (FieldKind::HasMany(h), RelShape::Many(sub, meta)) => {
                    let target = cx.model(&h.target);
                    OutKind::Many { at, page: self.out_page(target, sub, meta.clone(), &sels)?, guard }
                }
                _ => return Err(ApiError::internal(format!("{}.{} does not match its shape", model.name, sel.name))),
            };
            out.push(OutField { key, pos, kind });
        }
        Ok(OutRow { typename: Name::new(&model.name), fields: out })
    }

    /// The read check of a guarded field, when the row carries one.
    fn guard(&self, model: &Model, shape: &RowShape, name: &str) -> Option<Guard> {
        let field = access::guarded_field(self.cx.schema, model, name)?;
        let at = shape.column(&super::guard_key(&field.name))?;
        Some(Guard { at, message: format!("you may not read {}.{name} (field @auth rules)", model.name).into() })
    }

    /// The response of connection selections `sels` over a page of `shape` rows.
    fn out_page(&self, model: &Model, shape: &RowShape, meta: PageMeta, sels: &[&Sel]) -> ApiResult<OutPage> {
        let children: Vec<&Sel> = sels.iter().flat_map(|s| s.children.iter()).collect();
        let mut fields = Vec::new();
        for (key, group) in by_key(&children) {
            let grand: Vec<&Sel> = group.iter().flat_map(|s| s.children.iter()).collect();
            let field = match group[0].name.as_str() {
                "__typename" => PageField::Typename,
                "nodes" => PageField::Nodes(self.out_row(model, shape, &grand)?),
                "totalCount" => PageField::TotalCount,
                "edges" => {
                    let mut edge = Vec::new();
                    for (k, g) in by_key(&grand) {
                        let f = match g[0].name.as_str() {
                            "__typename" => EdgeField::Typename,
                            "cursor" => EdgeField::Cursor,
                            "node" => {
                                let node: Vec<&Sel> = g.iter().flat_map(|s| s.children.iter()).collect();
                                EdgeField::Node(self.out_row(model, shape, &node)?)
                            }
                            other => return Err(no_field(model, other)),
                        };
                        edge.push((Name::new(k), g[0].pos, f));
                    }
                    PageField::Edges(Name::new(naming::edge_type(&model.name)), edge)
                }
                "pageInfo" => {
                    let mut info = Vec::new();
                    for (k, g) in by_key(&grand) {
                        let f = match g[0].name.as_str() {
                            "__typename" => InfoField::Typename,
                            "hasNextPage" => InfoField::HasNextPage,
                            "hasPreviousPage" => InfoField::HasPreviousPage,
                            "startCursor" => InfoField::StartCursor,
                            "endCursor" => InfoField::EndCursor,
                            other => return Err(no_field(model, other)),
                        };
                        info.push((Name::new(k), g[0].pos, f));
                    }
                    PageField::PageInfo(info)
                }
                other => return Err(no_field(model, other)),
            };
            fields.push((Name::new(key), group[0].pos, field));
        }
        let cursor_at = meta
            .order
            .iter()
            .map(|k| shape.column(&k.spec.key).ok_or_else(|| no_field(model, &k.spec.key)))
            .collect::<ApiResult<Vec<_>>>()?;
        Ok(OutPage { typename: Name::new(naming::connection_type(&model.name)), fields, meta, cursor_at })
    }
}

/// A guard column: `CASE WHEN <the field's read rules> THEN 1 ELSE 0 END` (a constant where
/// the rules need no row).
fn guard_case(cx: &SqlCtx, model: &Model, field: &str, a: &str) -> ApiResult<String> {
    Ok(match access::field_read_access(cx, model, field, a)? {
        None | Some(Access::All) => "1".into(),
        Some(Access::Denied) => "0".into(),
        Some(Access::Rows(cond)) => match text::condition(cx, cond) {
            Some(c) => format!("CASE WHEN {c} THEN 1 ELSE 0 END"),
            None => "1".into(),
        },
    })
}

/// The relation fields of a selection, grouped by response key. Two relations under one
/// response key is invalid GraphQL (fields that cannot merge): refused rather than answered
/// with one's rows for the other.
fn relation_groups<'m, 's>(model: &'m Model, fields: &[&'s Sel]) -> ApiResult<Vec<(&'s str, &'m Field, Vec<&'s Sel>)>> {
    let mut groups: Vec<(&str, &Field, Vec<&Sel>)> = Vec::new();
    for sel in fields {
        let Some(field) = model.field(&sel.name) else { continue };
        if matches!(field.kind, FieldKind::Scalar(_)) {
            continue;
        }
        match groups.iter_mut().find(|(k, _, _)| *k == sel.key) {
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
    Ok(groups)
}

fn no_field(model: &Model, name: &str) -> ApiError {
    ApiError::bad_input(format!("{} has no field {name}", model.name))
}
