//! Values in directive arguments: `@default(value:)` against the field's type, and the bounds
//! of `@length` / `@range`.

use super::args::arg;
use super::declare::Declared;
use super::parse::{Cx, Src};
use super::suggest::{did_you_mean, one_of};
use super::{Bounds, EnumDef, ScalarType};
use async_graphql::Value;
use async_graphql::parser::Positioned;
use async_graphql::parser::types::ConstDirective;

/// Checks a `@default(value:)` against the field's type; returns it as JSON
/// (enum values as strings), or why it does not fit.
pub(super) fn default_value(v: &Value, ty: &ScalarType, list: bool, d: &Declared) -> Result<serde_json::Value, String> {
    if matches!(ty, ScalarType::File) {
        return Err("File fields cannot have a default".to_string());
    }
    if matches!(v, Value::Null) {
        return Err("null is not a default; leave the field nullable without @default".into());
    }
    if !list {
        return item(v, ty, &d.enums);
    }
    let Value::List(items) = v else {
        return Err(format!("expected a list of {}, e.g. [], found {v}", ty.name()));
    };
    let items = items.iter().map(|i| item(i, ty, &d.enums)).collect::<Result<Vec<_>, _>>()?;
    Ok(serde_json::Value::Array(items))
}

/// Checks one value (not a list) of type `ty`, as a `@default` or a `where:` operand gives it
/// (enum values bare or as strings); returns it as JSON, or why it does not fit.
pub(super) fn item(v: &Value, ty: &ScalarType, enums: &[EnumDef]) -> Result<serde_json::Value, String> {
    let label = ty.name();
    let mismatch = || format!("expected {} {label}, found {v}", article(label));
    match (ty, v) {
        (ScalarType::Json, v) => v.clone().into_json().map_err(|e| format!("not valid JSON: {e}")),
        (ScalarType::Int, Value::Number(n)) => match n.as_i64() {
            Some(i) if i32::try_from(i).is_ok() => Ok(serde_json::Value::from(i)),
            Some(_) => Err(format!("{n} is outside the 32-bit Int range")),
            None => Err(mismatch()),
        },
        (ScalarType::Float, Value::Number(n)) => Ok(serde_json::Value::Number(n.clone())),
        (ScalarType::Boolean, Value::Boolean(b)) => Ok(serde_json::Value::Bool(*b)),
        (ScalarType::String | ScalarType::Id, Value::String(s)) => Ok(s.clone().into()),
        (ScalarType::DateTime, Value::String(s)) => match chrono::DateTime::parse_from_rfc3339(s) {
            Ok(_) => Ok(s.clone().into()),
            Err(_) => Err(format!("\"{s}\" is not an RFC 3339 date-time; write it like \"2024-01-31T12:00:00Z\"")),
        },
        (ScalarType::Enum(name), Value::Enum(_) | Value::String(_)) => {
            let value = super::args::enum_like(v).expect("matched an enum or a string");
            let def = enums.iter().find(|e| e.name == *name).expect("field types resolve only to declared enums");
            if def.values.iter().any(|x| x == value) {
                Ok(value.to_string().into())
            } else {
                let hint = did_you_mean(value, def.values.iter().map(String::as_str));
                let values: Vec<&str> = def.values.iter().map(String::as_str).collect();
                Err(format!("\"{value}\" is not a value of enum {name}{hint}; expected {}", one_of(&values)))
            }
        }
        _ => Err(mismatch()),
    }
}

pub(super) fn article(word: &str) -> &'static str {
    match word.chars().next() {
        Some('A' | 'E' | 'I' | 'O' | 'U') => "an",
        _ => "a",
    }
}

/// `@length(min:, max:)` (non-negative integers) or `@range(min:, max:)` (numbers).
pub(super) fn bounds(cx: &mut Cx, src: Src, directive: &Positioned<ConstDirective>, integers: bool) -> Option<Bounds> {
    let dir = &directive.node;
    let dname = dir.name.node.as_str();
    let mut ok = true;
    let mut read = |cx: &mut Cx, key: &str| -> Option<f64> {
        let v = arg(dir, key)?;
        let n = match &v.node {
            Value::Number(n) => n,
            other => {
                cx.error(src.span(v.pos), format!("@{dname}({key}:) expects a number, found {other}"));
                ok = false;
                return None;
            }
        };
        if integers && n.as_u64().is_none() {
            cx.error(src.span(v.pos), format!("@{dname}({key}:) must be a non-negative integer, found {n}"));
            ok = false;
            return None;
        }
        n.as_f64()
    };
    let min = read(cx, "min");
    let max = read(cx, "max");
    if !ok {
        return None;
    }
    let at = || src.span(directive.pos);
    match (min, max) {
        (None, None) => {
            cx.error(at(), format!("@{dname} needs min:, max: or both"));
            None
        }
        (Some(lo), Some(hi)) if lo > hi => {
            cx.error(at(), format!("@{dname}(min: {lo}, max: {hi}): min is greater than max"));
            None
        }
        _ => Some(Bounds { min, max }),
    }
}

/// Why a default value breaks the field's own `@length` / `@range`, if it does.
pub(super) fn default_outside_bounds(
    default: &serde_json::Value,
    length: Option<Bounds>,
    range: Option<Bounds>,
) -> Option<String> {
    let within = |b: Bounds, x: f64| b.min.is_none_or(|m| x >= m) && b.max.is_none_or(|m| x <= m);
    if let (Some(b), Some(x)) = (range, default.as_f64())
        && !within(b, x)
    {
        return Some(format!("@default(value: {default}) is outside the field's @range"));
    }
    let len = match default {
        serde_json::Value::String(s) => Some(s.chars().count()),
        serde_json::Value::Array(items) => Some(items.len()),
        _ => None,
    };
    if let (Some(b), Some(n)) = (length, len)
        && !within(b, n as f64)
    {
        return Some(format!("@default(value: {default}) does not satisfy the field's @length"));
    }
    None
}
