//! Ordering and opaque cursors. Every ordering ends with `id`, so a cursor (the row's order-key
//! values) names one position exactly. NULLs sort as the smallest value on both databases.

use super::input::Input;
use super::params::Conv;
use super::{ColumnSpec, SqlCtx, col};
use crate::error::{ApiError, ApiResult};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sea_orm::sea_query::{Condition, Expr, ExprTrait, NullOrdering, Order};
use serde_json::Value as Json;
use std::sync::Arc;

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

/// The opaque cursor of a row whose order-key values are `values` under an ordering whose
/// [`signature`] is `sig`.
pub fn encode(sig: &str, values: &[Json]) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&(sig, values)).expect("JSON values serialize"))
}

/// The key values a cursor holds; a cursor from another ordering is `BAD_USER_INPUT`.
pub fn decode(keys: &[OrderKey], cursor: &str) -> ApiResult<Vec<Json>> {
    let bad = invalid;
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

/// The error for a cursor that is not one of this list's.
pub fn invalid() -> ApiError {
    ApiError::bad_input("invalid cursor: pass a cursor this list returned, with the same orderBy")
}

/// Rows strictly after the position of the cursor `cursor` in the ordering `keys` (`reverse`
/// for backward pages): `(k1 > v1) OR (k1 = v1 AND k2 > v2) OR ...`, each `v` bound from the
/// cursor on every run (see [`Conv::CursorKey`]). Keys that may be NULL compare NULL-safely
/// (NULL as the smallest value), so the statement does not depend on which values are NULL.
pub fn after(cx: &SqlCtx, keys: &Arc<[OrderKey]>, alias: &str, cursor: &Input, reverse: bool) -> ApiResult<Condition> {
    let values: Vec<Expr> = (0..keys.len())
        .map(|index| cx.bind(cursor.source(), Conv::CursorKey { order: keys.clone(), index }))
        .collect::<ApiResult<_>>()?;
    let mut any = Condition::any();
    for i in 0..keys.len() {
        let mut all = Condition::all();
        for (k, v) in keys[..i].iter().zip(&values) {
            all = all.add(equal(cx, k, alias, v.clone()));
        }
        all = all.add(beyond(&keys[i], alias, values[i].clone(), reverse));
        any = any.add(all);
    }
    Ok(any)
}

fn equal(cx: &SqlCtx, k: &OrderKey, alias: &str, v: Expr) -> Expr {
    let c = col(alias, &k.spec.column);
    if !k.spec.nullable {
        return c.eq(v);
    }
    // Templates in each builder's own placeholder syntax.
    let template =
        if cx.backend == sea_orm::DatabaseBackend::Postgres { "($1 IS NOT DISTINCT FROM $2)" } else { "(? IS ?)" };
    Expr::cust_with_exprs(template, [c, v])
}

/// Strictly beyond `v` in the key's direction, with NULL as the smallest value.
fn beyond(k: &OrderKey, alias: &str, v: Expr, reverse: bool) -> Expr {
    let c = col(alias, &k.spec.column);
    let ascending = k.desc == reverse;
    match (ascending, k.spec.nullable) {
        (true, false) => c.gt(v),
        (false, false) => c.lt(v),
        // NULL < any value: after NULL come the values; after a value, the larger ones.
        (true, true) => c.clone().gt(v.clone()).or(v.is_null().and(c.is_not_null())),
        // Descending, NULLs last: after a value come the smaller ones and the NULLs.
        (false, true) => c.clone().lt(v.clone()).or(v.is_not_null().and(c.is_null())),
    }
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
