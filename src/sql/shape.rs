//! What a compiled statement returns, and how it maps onto the selection.
//!
//! The statement's answer is one JSON value. A row is a JSON array: the row's columns first
//! (in [`RowShape::columns`] order: stored values, and for each guarded field the caller's read
//! decision as 0/1), then one item per selected relation: a row (or null) for a `@belongsTo`,
//! a page for a `@hasMany`. A page is `[rows, totalCount?]`, its rows in query order, one more
//! than the page size when another page follows.
//!
//! The `Out*` types describe the response to build from it: each selected field by response
//! key, with the position of its value (see `graphql::render`).

use super::ColumnSpec;
use super::cursor::OrderKey;
use async_graphql::{Name, Pos};
use std::sync::Arc;

/// The JSON array of one row.
#[derive(Debug, Clone, Default)]
pub struct RowShape {
    pub columns: Vec<ColumnSpec>,
    /// Relations by response key, after the columns.
    pub relations: Vec<(String, RelShape)>,
}

#[derive(Debug, Clone)]
pub enum RelShape {
    One(RowShape),
    Many(RowShape, PageMeta),
}

/// How a page was read: what its rows mean for `pageInfo` and cursors.
#[derive(Debug, Clone)]
pub struct PageMeta {
    pub order: Arc<[OrderKey]>,
    /// [`super::cursor::signature`] of the order.
    pub signature: Arc<str>,
    /// The page size (the statement reads one row more, telling whether more follow).
    pub size: u64,
    pub backward: bool,
    /// Whether the page starts after (or ends before) a cursor.
    pub from_cursor: bool,
    /// Whether the page's JSON carries `totalCount` (after the rows).
    pub total: bool,
}

impl RowShape {
    /// The position of the column with [`ColumnSpec::key`] `key`.
    pub fn column(&self, key: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.key == key)
    }
    /// The position of the relation selected under `key`, and its shape.
    pub fn relation(&self, key: &str) -> Option<(usize, &RelShape)> {
        self.relations.iter().position(|(k, _)| k == key).map(|i| (self.columns.len() + i, &self.relations[i].1))
    }
}

/// A row's selection.
#[derive(Debug, Clone)]
pub struct OutRow {
    /// The object type's name (`__typename`).
    pub typename: Name,
    pub fields: Vec<OutField>,
}

#[derive(Debug, Clone)]
pub struct OutField {
    /// Response key.
    pub key: Name,
    /// Where the field is in the document (for errors).
    pub pos: Pos,
    pub kind: OutKind,
}

/// The read decision of a guarded field: its position in the row, and the error of a caller
/// who may not read it.
#[derive(Debug, Clone)]
pub struct Guard {
    pub at: usize,
    pub message: Arc<str>,
}

#[derive(Debug, Clone)]
pub enum OutKind {
    Typename,
    /// A stored value (a scalar field, a belongsTo's id field).
    Column {
        at: usize,
        spec: ColumnSpec,
        guard: Option<Guard>,
    },
    /// A `@belongsTo` row: null when unset; when set but not loaded, the caller may not read it.
    One {
        at: usize,
        fk_at: usize,
        row: OutRow,
        guard: Option<Guard>,
        hidden: Arc<str>,
    },
    /// A `@hasMany` page.
    Many {
        at: usize,
        page: OutPage,
        guard: Option<Guard>,
    },
}

/// A connection's selection over a page.
#[derive(Debug, Clone)]
pub struct OutPage {
    /// `PostConnection`.
    pub typename: Name,
    pub fields: Vec<(Name, Pos, PageField)>,
    pub meta: PageMeta,
    /// Position of each order key in the row.
    pub cursor_at: Vec<usize>,
}

#[derive(Debug, Clone)]
pub enum PageField {
    Typename,
    Nodes(OutRow),
    /// `edges` (with the edge type's name).
    Edges(Name, Vec<(Name, Pos, EdgeField)>),
    PageInfo(Vec<(Name, Pos, InfoField)>),
    TotalCount,
}

#[derive(Debug, Clone)]
pub enum EdgeField {
    Typename,
    Cursor,
    Node(OutRow),
}

#[derive(Debug, Clone, Copy)]
pub enum InfoField {
    Typename,
    HasNextPage,
    HasPreviousPage,
    StartCursor,
    EndCursor,
}

/// What a root field's statement returns: a row (or none), or a page.
#[derive(Debug, Clone)]
pub enum Out {
    Row(OutRow),
    Page(OutPage),
}
