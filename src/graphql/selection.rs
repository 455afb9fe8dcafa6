//! The selection of the field being resolved → the SQL layer's request IR ([`Sel`]).

use crate::error::ApiError;
use crate::sql::fetch::Sel;
use async_graphql::SelectionField;

pub fn to_sel(f: SelectionField<'_>) -> Result<Sel, ApiError> {
    Ok(Sel {
        name: f.name().to_string(),
        key: f.alias().unwrap_or(f.name()).to_string(),
        args: f.arguments().map_err(|e| ApiError::bad_input(e.message))?,
        children: f.selection_set().map(to_sel).collect::<Result<_, _>>()?,
    })
}
