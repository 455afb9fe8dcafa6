//! Reading directive arguments, with a diagnostic for every misuse.

use super::parse::{Cx, Src};
use super::suggest::{closest, did_you_mean, one_of};
use async_graphql::Value;
use async_graphql::parser::Positioned;
use async_graphql::parser::types::ConstDirective;

/// Directives understood on a model type.
pub(super) const TYPE_DIRECTIVES: [&str; 3] = ["model", "auth", "index"];
/// Directives understood on a model field.
pub(super) const FIELD_DIRECTIVES: [&str; 8] =
    ["unique", "index", "default", "length", "range", "auth", "belongsTo", "hasMany"];
/// Directives of later SPEC sections, recognised so the message can say "not yet supported".
const LATER_DIRECTIVES: [&str; 4] = ["file", "function", "trigger", "webhook"];

/// Every directive name a schema may mention (a `directive @x ...` definition of one of these
/// is tolerated, for editors that want the definitions).
pub(super) fn is_known_directive(name: &str) -> bool {
    TYPE_DIRECTIVES.contains(&name) || FIELD_DIRECTIVES.contains(&name) || LATER_DIRECTIVES.contains(&name)
}

/// Why a directive that is not valid at this place (`on` is "type" or "field") is wrong.
pub(super) fn misplaced_directive(name: &str, on: &str) -> String {
    let hint = match name {
        "hasOne" => ": use @belongsTo on one side of the relation",
        "manyToMany" => ": declare a join model with two @belongsTo fields",
        "primaryKey" | "key" => ": every model has a managed `id: ID!`; use @unique for other keys",
        "connection" => ": use @belongsTo on the side that stores the reference and @hasMany on the other",
        "aws_auth" | "aws_cognito_user_pools" | "aws_iam" | "aws_api_key" => ": use @auth(rules: [...])",
        _ => "",
    };
    if !hint.is_empty() {
        return format!("@{name} is not supported{hint}");
    }
    if LATER_DIRECTIVES.contains(&name) {
        return format!("@{name} is not supported yet");
    }
    let (here, there, there_name) = match on {
        "type" => (&TYPE_DIRECTIVES[..], &FIELD_DIRECTIVES[..], "field"),
        _ => (&FIELD_DIRECTIVES[..], &TYPE_DIRECTIVES[..], "type"),
    };
    if there.contains(&name) {
        return format!("@{name} belongs on a {there_name}, not on a {on}");
    }
    let hint = closest(name, here.iter().copied()).map(|c| format!(" (did you mean @{c}?)")).unwrap_or_default();
    format!("unknown directive @{name}{hint}")
}

/// Reports arguments other than `allowed`, and arguments given twice.
pub(super) fn check_args(cx: &mut Cx, src: Src, dir: &ConstDirective, allowed: &[&str]) {
    let dname = dir.name.node.as_str();
    for (i, (name, _)) in dir.arguments.iter().enumerate() {
        let n = name.node.as_str();
        if dir.arguments[..i].iter().any(|(prev, _)| prev.node == name.node) {
            cx.error(src.span(name.pos), format!("argument \"{n}\" is given twice on @{dname}"));
        } else if !allowed.contains(&n) {
            let msg = if allowed.is_empty() {
                format!("@{dname} takes no arguments (found \"{n}\")")
            } else {
                let hint = did_you_mean(n, allowed.iter().copied());
                format!("unknown argument \"{n}\" on @{dname}{hint}; expected {}", one_of(allowed))
            };
            cx.error(src.span(name.pos), msg);
        }
    }
}

pub(super) fn arg<'d>(dir: &'d ConstDirective, name: &str) -> Option<&'d Positioned<Value>> {
    dir.get_argument(name)
}

/// A string argument; a wrong kind of value is reported and read as absent.
pub(super) fn string_arg(cx: &mut Cx, src: Src, dir: &ConstDirective, name: &str) -> Option<String> {
    let v = arg(dir, name)?;
    match &v.node {
        Value::String(s) => Some(s.clone()),
        other => {
            cx.error(
                src.span(v.pos),
                format!("@{}({name}:) expects a string like \"...\", found {other}", dir.name.node),
            );
            None
        }
    }
}

/// A boolean argument; a wrong kind of value is reported and read as absent.
pub(super) fn bool_arg(cx: &mut Cx, src: Src, dir: &ConstDirective, name: &str) -> Option<bool> {
    let v = arg(dir, name)?;
    match &v.node {
        Value::Boolean(b) => Some(*b),
        other => {
            let d = &dir.name.node;
            cx.error(src.span(v.pos), format!("@{d}({name}:) expects true or false, found {other}"));
            None
        }
    }
}

/// An enum literal, or a string spelling one (`DRAFT` or `"DRAFT"`).
pub(super) fn enum_like(v: &Value) -> Option<&str> {
    match v {
        Value::Enum(n) => Some(n.as_str()),
        Value::String(s) => Some(s.as_str()),
        _ => None,
    }
}

/// GraphQL input coercion: a single value where a list is expected is a list of one.
pub(super) fn as_list(v: &Value) -> &[Value] {
    match v {
        Value::List(items) => items,
        other => std::slice::from_ref(other),
    }
}
