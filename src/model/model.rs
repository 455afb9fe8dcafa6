//! One `type X @model { ... }` → a [`Model`]: type directives, managed and declared fields,
//! rules, owner fields and composite indexes. `@hasMany` is finished in `relations`.

use super::args::misplaced_directive;
use super::declare::{Declared, ModelDecl};
use super::fields::{self, MANAGED, PendingHasMany};
use super::parse::Cx;
use super::{Model, Span, auth_rules, relations};
use std::collections::HashMap;

pub(super) struct BuiltModel {
    pub model: Model,
    pub has_many: Vec<PendingHasMany>,
}

pub(super) fn build_model(cx: &mut Cx, d: &Declared, md: &ModelDecl) -> BuiltModel {
    let src = md.decl.src;
    let def = md.decl.def;
    let mut auth_dir = None;
    let mut index_dirs = Vec::new();
    let mut seen_model = false;
    for dir in &def.directives {
        let dname = dir.node.name.node.as_str();
        let twice = match dname {
            "model" => std::mem::replace(&mut seen_model, true),
            "auth" => auth_dir.replace(dir).is_some(),
            "index" => {
                index_dirs.push(dir);
                false
            }
            other => {
                cx.error(src.span(dir.pos), misplaced_directive(other, "type"));
                false
            }
        };
        if twice {
            let hint = if dname == "auth" { "; put all rules in one rules: [...] list" } else { "" };
            cx.error(src.span(dir.pos), format!("@{dname} is given twice on {}{hint}", md.name));
        }
    }

    let mut fields: Vec<_> =
        MANAGED.iter().map(|(_, _, which)| fields::managed_field(*which, md.decl.span.clone())).collect();
    let mut seen: HashMap<&str, Span> = HashMap::new();
    let mut has_many = Vec::new();
    for fd in md.decl.fields {
        let fd = &fd.node;
        let name = fd.name.node.as_str();
        let span = src.span(fd.name.pos);
        if let Some(first) = seen.get(name) {
            let at = format!("{}:{}", first.line, first.column);
            cx.error(span, format!("duplicate field \"{name}\" in {} (first declared at {at})", md.name));
            continue;
        }
        seen.insert(name, span);
        if let Some(i) = MANAGED.iter().position(|(n, _, _)| *n == name) {
            fields::redeclared_managed(cx, src, fd, &mut fields[i]);
            continue;
        }
        if let Some(built) = fields::build_field(cx, d, src, &md.name, fd) {
            fields.push(built.field);
            has_many.extend(built.has_many);
        }
    }

    let auth = auth_dir.map(|dir| auth_rules::parse_auth(cx, src, dir));
    let mut model = Model {
        name: md.name.clone(),
        single: md.single.clone(),
        plural: md.plural.clone(),
        table: md.table.clone(),
        fields,
        indexes: Vec::new(),
        auth,
        description: def.description.as_ref().map(|d| d.node.clone()),
        span: md.decl.span.clone(),
        builtin: false,
    };
    auth_rules::resolve_owners(cx, &mut model);
    relations::check_generated_fields(cx, &model);
    model.indexes = index_dirs.into_iter().filter_map(|dir| relations::composite_index(cx, src, &model, dir)).collect();
    BuiltModel { model, has_many }
}
