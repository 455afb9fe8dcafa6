//! Renders an `@auth` rule's `where:` filter readably, in the filter syntax:
//! `{ status: { eq: PUBLISHED } }` → `status = PUBLISHED`,
//! `{ author: { email: { endsWith: "@x.com" } } }` → `author.email endsWith "@x.com"`,
//! `{ comments: { some: { ... } } }` → `comments some (...)`.

use crate::model::operators::{Operator, Quantifier};
use crate::model::{FieldKind, Model, Schema};
use async_graphql::Value;
use std::fmt;

/// A boolean expression over rows, kept as a tree so `and` / `or` nest with parentheses.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Expr {
    /// Matches every row (an empty filter).
    True,
    Atom(String),
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
}

impl Expr {
    /// Conjunction, flattening nested `and`s and dropping `True`.
    pub(super) fn and(items: Vec<Expr>) -> Expr {
        let mut out = Vec::new();
        for item in items {
            match item {
                Expr::True => {}
                Expr::And(inner) => out.extend(inner),
                other => out.push(other),
            }
        }
        match out.len() {
            0 => Expr::True,
            1 => out.remove(0),
            _ => Expr::And(out),
        }
    }

    /// Disjunction, flattening nested `or`s and removing repeats; `True` absorbs the rest.
    pub(super) fn or(items: Vec<Expr>) -> Expr {
        let mut out: Vec<Expr> = Vec::new();
        for item in items {
            let parts = match item {
                Expr::True => return Expr::True,
                Expr::Or(inner) => inner,
                other => vec![other],
            };
            for part in parts {
                if !out.contains(&part) {
                    out.push(part);
                }
            }
        }
        match out.len() {
            0 => Expr::Atom("false".into()),
            1 => out.remove(0),
            _ => Expr::Or(out),
        }
    }

    /// Whether the text has a top-level `and` / `or` (needs parentheses when combined).
    pub(super) fn is_compound(&self) -> bool {
        matches!(self, Expr::And(_) | Expr::Or(_))
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let join = |f: &mut fmt::Formatter<'_>, items: &[Expr], sep: &str| -> fmt::Result {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    f.write_str(sep)?;
                }
                if item.is_compound() { write!(f, "({item})")? } else { write!(f, "{item}")? }
            }
            Ok(())
        };
        match self {
            Expr::True => f.write_str("any"),
            Expr::Atom(s) => f.write_str(s),
            Expr::And(items) => join(f, items, " and "),
            Expr::Or(items) => join(f, items, " or "),
            Expr::Not(inner) => write!(f, "not ({inner})"),
        }
    }
}

/// The `where:` filter of a rule on `model`, as an expression.
pub(super) fn render_where(schema: &Schema, model: &Model, filter: &Value) -> Expr {
    render_filter(schema, Some(model), "", filter)
}

/// A filter object on `model` (unknown when `None`); field paths get `prefix` (`author.`).
fn render_filter(schema: &Schema, model: Option<&Model>, prefix: &str, filter: &Value) -> Expr {
    let Value::Object(obj) = filter else {
        return Expr::Atom(format!("{prefix}{}", value(filter)));
    };
    let parts = obj.iter().map(|(key, v)| {
        let items = || list(v).iter().map(|i| render_filter(schema, model, prefix, i)).collect();
        match key.as_str() {
            "and" => Expr::and(items()),
            "or" => Expr::or(items()),
            "not" => Expr::Not(Box::new(render_filter(schema, model, prefix, v))),
            k => render_field(schema, model, &format!("{prefix}{k}"), k, v),
        }
    });
    Expr::and(parts.collect())
}

/// One `field: { ... }` entry: a scalar comparison, a belongsTo filter or a hasMany quantifier.
fn render_field(schema: &Schema, model: Option<&Model>, path: &str, key: &str, v: &Value) -> Expr {
    let kind = model.and_then(|m| m.field(key)).map(|f| &f.kind);
    let is_id_field = model.is_some_and(|m| m.belongs_to().any(|(_, b)| b.id_field == key));
    match kind {
        Some(FieldKind::BelongsTo(b)) => render_filter(schema, schema.model(&b.target), &format!("{path}."), v),
        Some(FieldKind::HasMany(h)) => render_quantifiers(schema, schema.model(&h.target), path, v),
        Some(FieldKind::Scalar(_)) => render_ops(path, v),
        None if is_id_field || has_only_keys(v, |k| Operator::parse(k).is_some()) => render_ops(path, v),
        None if has_only_keys(v, |k| Quantifier::parse(k).is_some()) => render_quantifiers(schema, None, path, v),
        None => render_filter(schema, None, &format!("{path}."), v),
    }
}

fn has_only_keys(v: &Value, is_key: impl Fn(&str) -> bool) -> bool {
    matches!(v, Value::Object(obj) if !obj.is_empty() && obj.keys().all(|k| is_key(k.as_str())))
}

/// `{ some: F, none: F, every: F }` on a hasMany relation.
fn render_quantifiers(schema: &Schema, target: Option<&Model>, path: &str, v: &Value) -> Expr {
    let Value::Object(obj) = v else {
        return Expr::Atom(format!("{path} {}", value(v)));
    };
    let parts = obj.iter().map(|(q, inner)| {
        let inner = render_filter(schema, target, "", inner);
        Expr::Atom(format!("{path} {q} ({inner})"))
    });
    Expr::and(parts.collect())
}

/// `{ eq: X, gt: Y, ... }` on a scalar: `path = X and path > Y`.
fn render_ops(path: &str, v: &Value) -> Expr {
    let Value::Object(obj) = v else {
        return Expr::Atom(format!("{path} = {}", value(v)));
    };
    let parts = obj.iter().map(|(op, x)| {
        let x_text = value(x);
        let text = match Operator::parse(op.as_str()) {
            Some(Operator::Eq) => format!("{path} = {x_text}"),
            Some(Operator::Ne) => format!("{path} != {x_text}"),
            Some(Operator::Lt) => format!("{path} < {x_text}"),
            Some(Operator::Lte) => format!("{path} <= {x_text}"),
            Some(Operator::Gt) => format!("{path} > {x_text}"),
            Some(Operator::Gte) => format!("{path} >= {x_text}"),
            Some(Operator::NotIn) => format!("{path} not in {x_text}"),
            Some(Operator::IsNull) => match x {
                Value::Boolean(true) => format!("{path} is null"),
                Value::Boolean(false) => format!("{path} is not null"),
                _ => format!("{path} isNull {x_text}"),
            },
            _ => format!("{path} {op} {x_text}"),
        };
        Expr::Atom(text)
    });
    Expr::and(parts.collect())
}

fn list(v: &Value) -> &[Value] {
    match v {
        Value::List(items) => items,
        other => std::slice::from_ref(other),
    }
}

/// A filter value: placeholders (`$user.id`, `$claims.org`) and enum values bare, strings quoted.
fn value(v: &Value) -> String {
    match v {
        Value::String(s) if s.starts_with("$user.") || s.starts_with("$claims.") => s.clone(),
        Value::Enum(name) => name.to_string(),
        Value::List(items) => format!("[{}]", items.iter().map(value).collect::<Vec<_>>().join(", ")),
        other => other.to_string(),
    }
}
