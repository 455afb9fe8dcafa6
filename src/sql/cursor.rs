//! Ordering and opaque cursors. Every ordering ends with `id`, so a cursor (the row's order-key
//! values) names one position exactly. NULLs sort as the smallest value on both databases.

use super::values::bind_scalar;
use super::{ColumnSpec, Row, SqlCtx, col};
use crate::error::{ApiError, ApiResult};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sea_orm::sea_query::{Condition, Expr, ExprTrait, NullOrdering, Order};
use serde_json::Value as Json;

/// One key of an ordering.
#[derive(Debug, Clone)]
pub struct OrderKey {
    pub spec: ColumnSpec,
    pub desc: bool,
}

impl OrderKey {
    /// SQL order and NULL placement; `reverse` flips both (for `last`/`before`). A column that
    /// cannot be NULL gets no NULLS clause, so a plain btree index (the primary key's, say) can
    /// serve the order on PostgreSQL.
    pub fn sql_order(&self, reverse: bool) -> (Order, Option<NullOrdering>) {
        let (order, nulls) =
            if self.desc != reverse { (Order::Desc, NullOrdering::Last) } else { (Order::Asc, NullOrdering::First) };
        (order, self.spec.nullable.then_some(nulls))
    }
}

/// The ordering a cursor belongs to, e.g. `views:d,id:a`: a cursor is only valid under it.
pub fn signature(keys: &[OrderKey]) -> String {
    keys.iter().map(|k| format!("{}:{}", k.spec.key, if k.desc { 'd' } else { 'a' })).collect::<Vec<_>>().join(",")
}

/// The opaque cursor of `row` under `keys` (whose [`signature`] is `sig`, computed once per
/// page): the ordering's signature and the row's key values.
pub fn encode(sig: &str, keys: &[OrderKey], row: &Row) -> String {
    let values: Vec<&Json> = keys.iter().map(|k| row.values.get(&k.spec.key).unwrap_or(&Json::Null)).collect();
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&(sig, values)).expect("JSON values serialize"))
}

/// The key values a cursor holds; a cursor from another ordering is `BAD_USER_INPUT`.
pub fn decode(keys: &[OrderKey], cursor: &str) -> ApiResult<Vec<Json>> {
    let bad = || ApiError::bad_input("invalid cursor: pass a cursor this list returned, with the same orderBy");
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let (sig, values): (String, Vec<Json>) = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    if sig != signature(keys) {
        return Err(ApiError::bad_input(format!(
            "this cursor belongs to another orderBy ({sig}); pass the same orderBy as the query that returned it"
        )));
    }
    if values.len() != keys.len() || values.last().is_none_or(|id| !id.is_string()) {
        return Err(bad());
    }
    Ok(values)
}

/// Rows strictly after the cursor position in the ordering (`reverse` for backward pages):
/// `(k1 > v1) OR (k1 = v1 AND k2 > v2) OR ...`.
pub fn after(cx: &SqlCtx, keys: &[OrderKey], alias: &str, values: &[Json], reverse: bool) -> ApiResult<Condition> {
    let mut any = Condition::any();
    for i in 0..keys.len() {
        let mut all = Condition::all();
        for (k, v) in keys[..i].iter().zip(values) {
            all = all.add(equal(cx, k, alias, v)?);
        }
        all = all.add(beyond(cx, &keys[i], alias, &values[i], reverse)?);
        any = any.add(all);
    }
    Ok(any)
}

fn equal(cx: &SqlCtx, k: &OrderKey, alias: &str, v: &Json) -> ApiResult<Expr> {
    let c = col(alias, &k.spec.column);
    Ok(if v.is_null() { c.is_null() } else { c.eq(bind_scalar(&k.spec, v, cx.backend).map_err(cursor_err)?) })
}

/// Strictly beyond `v` in the key's direction, with NULL as the smallest value.
fn beyond(cx: &SqlCtx, k: &OrderKey, alias: &str, v: &Json, reverse: bool) -> ApiResult<Expr> {
    let c = col(alias, &k.spec.column);
    let ascending = k.desc == reverse;
    if v.is_null() {
        return Ok(if ascending { c.is_not_null() } else { Expr::cust("1 = 0") });
    }
    let b = bind_scalar(&k.spec, v, cx.backend).map_err(cursor_err)?;
    Ok(if ascending { c.gt(b) } else { c.clone().lt(b).or(c.is_null()) })
}

fn cursor_err(_: ApiError) -> ApiError {
    ApiError::bad_input("invalid cursor: pass a cursor this list returned, with the same orderBy")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ScalarType;

    fn key(nullable: bool, desc: bool) -> OrderKey {
        let spec = ColumnSpec { key: "k".into(), column: "k".into(), ty: ScalarType::Int, list: false, nullable };
        OrderKey { spec, desc }
    }

    #[test]
    fn only_nullable_keys_carry_a_nulls_clause() {
        assert_eq!(key(false, false).sql_order(false), (Order::Asc, None), "index-friendly");
        assert_eq!(key(true, false).sql_order(false), (Order::Asc, Some(NullOrdering::First)));
        assert_eq!(key(true, true).sql_order(false), (Order::Desc, Some(NullOrdering::Last)));
        assert_eq!(key(true, false).sql_order(true), (Order::Desc, Some(NullOrdering::Last)), "reversed");
    }
}
