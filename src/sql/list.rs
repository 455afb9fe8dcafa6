//! List arguments (`filter`, `orderBy`, `first`/`after`, `last`/`before`) of a page.

use super::column_for;
use super::cursor::OrderKey;
use super::input::Input;
use crate::error::{ApiError, ApiResult};
use crate::model::{Model, ScalarType};
use async_graphql::Value as ConstValue;
use std::sync::Arc;

/// Page-size limits from configuration.
#[derive(Debug, Clone, Copy)]
pub struct PageLimits {
    pub default: u32,
    pub max: u32,
}

/// Parsed list arguments.
pub struct ListArgs<'a> {
    pub filter: Input<'a>,
    /// Ordering, always ending with `id`.
    pub order: Arc<[OrderKey]>,
    /// The page size: `first`, `last`, or the default.
    pub size: u64,
    /// Paging backward (`last`/`before`).
    pub backward: bool,
    /// The `after`/`before` cursor.
    pub cursor: Option<Input<'a>>,
}

impl<'a> ListArgs<'a> {
    /// Reads the list arguments of a field (`arg` looks one up by name).
    pub fn parse(model: &Model, arg: impl Fn(&str) -> Input<'a>, limits: PageLimits) -> ApiResult<ListArgs<'a>> {
        let given = |n: &str| Some(arg(n)).filter(|v| !v.is_null());
        let (first, last) = (given("first"), given("last"));
        let (after, before) = (given("after"), given("before"));
        if (first.is_some() || after.is_some()) && (last.is_some() || before.is_some()) {
            return Err(ApiError::bad_input(
                "page forward with first/after or backward with last/before, not both at once",
            ));
        }
        let backward = last.is_some() || before.is_some();
        // The page size is part of the statement (a LIMIT the planner can see: with an index on
        // the order it reads that many rows and stops), so a plan depends on its value.
        let size = match (first, last) {
            (Some(n), _) | (_, Some(n)) => page_size(if backward { "last" } else { "first" }, &n, limits)?,
            _ => u64::from(limits.default),
        };
        if let Some(c) = after.as_ref().or(before.as_ref())
            && c.peek().is_some_and(|v| !matches!(v, ConstValue::String(_)))
        {
            let name = if backward { "before" } else { "after" };
            return Err(ApiError::invalid_field(name, format!("{name} must be a cursor string")));
        }
        Ok(ListArgs {
            filter: arg("filter"),
            order: order_keys(model, &arg("orderBy"))?.into(),
            size,
            backward,
            cursor: after.or(before),
        })
    }
}

/// A `first` / `last` argument: a non-negative Int up to the maximum page size.
fn page_size(arg: &str, n: &Input, limits: PageLimits) -> ApiResult<u64> {
    let k = match n.decide() {
        Some(ConstValue::Number(k)) => k.as_i64(),
        _ => None,
    }
    .ok_or_else(|| ApiError::invalid_field(arg, format!("{arg} must be an Int")))?;
    if k < 0 {
        return Err(ApiError::invalid_field(arg, format!("{arg} must not be negative")));
    }
    if k > i64::from(limits.max) {
        return Err(ApiError::invalid_field(
            arg,
            format!("{arg} must be at most {} (the maximum page size)", limits.max),
        ));
    }
    Ok(k as u64)
}

/// `orderBy: [{views: DESC}, {title: ASC}]` → keys, ending with `id`. A direction given in a
/// variable is a decision the compiled statement depends on (see [`Input::decide`]).
fn order_keys(model: &Model, order_by: &Input) -> ApiResult<Vec<OrderKey>> {
    let mut keys: Vec<OrderKey> = Vec::new();
    for item in order_by.items() {
        let Some(entries) = item.entries() else {
            return Err(ApiError::invalid_field("orderBy", "orderBy items must be objects such as {createdAt: DESC}"));
        };
        for (field, dir) in entries {
            let desc = match dir.decide() {
                Some(ConstValue::Enum(d)) if d.as_str() == "DESC" => true,
                Some(ConstValue::String(d)) if d == "DESC" => true,
                Some(ConstValue::Enum(d)) if d.as_str() == "ASC" => false,
                Some(ConstValue::String(d)) if d == "ASC" => false,
                Some(ConstValue::Null) => continue,
                _ => return Err(ApiError::invalid_field("orderBy", "order direction must be ASC or DESC")),
            };
            let spec =
                column_for(model, field.as_str()).filter(|c| !c.list && c.ty != ScalarType::Json).ok_or_else(|| {
                    ApiError::invalid_field("orderBy", format!("{} cannot be ordered by {field}", model.name))
                })?;
            if !keys.iter().any(|k| k.spec.key == spec.key) {
                keys.push(OrderKey { spec, desc });
            }
        }
    }
    if !keys.iter().any(|k| k.spec.key == "id") {
        let spec = column_for(model, "id").expect("every model has id");
        keys.push(OrderKey { spec, desc: false });
    }
    Ok(keys)
}
