//! What depends on several fields or models: generated id fields and columns that collide,
//! type-level `@index(fields:)`, and the `via` of each `@hasMany`.

use super::args::{self, check_args};
use super::fields::{PendingHasMany, string_list};
use super::parse::{Cx, Src};
use super::suggest::did_you_mean;
use super::{CompositeIndex, FieldKind, Model};
use async_graphql::parser::Positioned;
use async_graphql::parser::types::ConstDirective;
use std::collections::HashMap;

/// The generated `xId` of a `@belongsTo` may not be a declared field, and two fields may not
/// map to one column (`fooBar` and `fooBAR`).
pub(super) fn check_generated_fields(cx: &mut Cx, model: &Model) {
    let mut reported = Vec::new();
    for (rel, b) in model.belongs_to() {
        if let Some(other) = model.field(&b.id_field) {
            let added = if is_added_owner(rel) { " (added for an @auth owner rule)" } else { "" };
            cx.error(
                other.span.clone(),
                format!(
                    "field \"{}\" collides with the id field generated for @belongsTo \"{}\"{added}; \
                     rename it (the id is readable as \"{}\" already)",
                    other.name, rel.name, b.id_field
                ),
            );
            reported.push(other.name.as_str());
        }
    }
    let mut columns: HashMap<&str, &str> = HashMap::new();
    for f in &model.fields {
        let column = match &f.kind {
            FieldKind::Scalar(s) => s.column.as_str(),
            FieldKind::BelongsTo(b) => b.column.as_str(),
            FieldKind::HasMany(_) => continue,
        };
        if let Some(first) = columns.insert(column, &f.name)
            && !reported.contains(&f.name.as_str())
        {
            cx.error(
                f.span.clone(),
                format!(
                    "field \"{}\" maps to the same column \"{column}\" as field \"{first}\"; \
                     rename one of them",
                    f.name
                ),
            );
        }
    }
}

fn is_added_owner(f: &super::Field) -> bool {
    f.description.as_deref().is_some_and(|d| d.contains("added for an @auth owner rule"))
}

/// One `@index(fields: [...], unique:)` on a model type.
pub(super) fn composite_index(
    cx: &mut Cx,
    src: Src,
    model: &Model,
    dir: &Positioned<ConstDirective>,
) -> Option<CompositeIndex> {
    check_args(cx, src, &dir.node, &["fields", "unique"]);
    let span = src.span(dir.pos);
    let unique = args::bool_arg(cx, src, &dir.node, "unique").unwrap_or(false);
    let Some(fields) = string_list(cx, src, &dir.node, "fields") else {
        if args::arg(&dir.node, "fields").is_none() {
            cx.error(span, "@index on a type needs fields: [\"a\", \"b\"]");
        }
        return None;
    };
    if fields.is_empty() {
        cx.error(span, "@index(fields: []) needs at least one field");
        return None;
    }
    let mut columns = Vec::new();
    for (i, name) in fields.iter().enumerate() {
        if fields[..i].contains(name) {
            cx.error(span.clone(), format!("@index lists \"{name}\" twice"));
            continue;
        }
        let by_id = model.belongs_to().find(|(_, b)| &b.id_field == name).map(|(f, _)| f);
        match model.field(name).or(by_id).map(|f| &f.kind) {
            Some(FieldKind::Scalar(s)) if s.list || s.ty == super::ScalarType::Json => cx.error(
                span.clone(),
                format!("@index cannot include \"{name}\": list and JSON fields are not indexable"),
            ),
            Some(FieldKind::Scalar(s)) => columns.push(s.column.clone()),
            Some(FieldKind::BelongsTo(b)) => columns.push(b.column.clone()),
            Some(FieldKind::HasMany(h)) => cx.error(
                span.clone(),
                format!(
                    "@index cannot include the @hasMany field \"{name}\": it has no column; index \
                     the @belongsTo side on {} instead",
                    h.target
                ),
            ),
            None => {
                let names = model.fields.iter().map(|f| f.name.as_str());
                let hint = did_you_mean(name, names);
                cx.error(span.clone(), format!("@index: {} has no field \"{name}\"{hint}", model.name));
            }
        }
    }
    (columns.len() == fields.len()).then_some(CompositeIndex { fields, columns, unique, span })
}

/// Sets each `@hasMany`'s `via`: the `@belongsTo` on the target that points back.
pub(super) fn resolve_has_many(cx: &mut Cx, models: &mut [Model], pending: &[PendingHasMany]) {
    let mut resolved = Vec::new();
    for p in pending {
        let Some(model) = models.iter().find(|m| m.name == p.model) else { continue };
        let Some(FieldKind::HasMany(h)) = model.field(&p.field).map(|f| &f.kind) else { continue };
        let Some(target) = models.iter().find(|m| m.name == h.target) else { continue };
        let back: Vec<&str> =
            target.belongs_to().filter(|(_, b)| b.target == p.model).map(|(f, _)| f.name.as_str()).collect();
        let via = match &p.via {
            Some((via, span)) => {
                if back.contains(&via.as_str()) {
                    Some(via.clone())
                } else {
                    let hint = did_you_mean(via, back.iter().copied());
                    cx.error(
                        span.clone(),
                        format!(
                            "@hasMany(field: \"{via}\"): {} has no @belongsTo field \"{via}\" to {}{hint}",
                            target.name, p.model
                        ),
                    );
                    None
                }
            }
            None => match back.as_slice() {
                [one] => Some(one.to_string()),
                [] => {
                    let example = super::naming::lower_first(&p.model);
                    let msg = if target.builtin {
                        format!(
                            "@hasMany \"{}\": a @hasMany with no matching @belongsTo on the target; \
                             the built-in User cannot have @belongsTo fields, so declare a join \
                             model with `{example}: {} @belongsTo` and `user: User @belongsTo`",
                            p.field, p.model
                        )
                    } else {
                        format!(
                            "@hasMany \"{}\": a @hasMany with no matching @belongsTo on the target; \
                             add `{example}: {} @belongsTo` to {}",
                            p.field, p.model, target.name
                        )
                    };
                    cx.error(p.span.clone(), msg);
                    None
                }
                several => {
                    cx.error(
                        p.span.clone(),
                        format!(
                            "@hasMany \"{}\": {} has several @belongsTo to {} ({}); choose one with \
                             @hasMany(field: \"{}\")",
                            p.field,
                            target.name,
                            p.model,
                            several.join(", "),
                            several[0]
                        ),
                    );
                    None
                }
            },
        };
        if let Some(via) = via {
            resolved.push((p.model.clone(), p.field.clone(), via));
        }
    }
    for (model, field, via) in resolved {
        let model = models.iter_mut().find(|m| m.name == model).expect("pending names a built model");
        if let Some(FieldKind::HasMany(h)) = model.fields.iter_mut().find(|f| f.name == field).map(|f| &mut f.kind) {
            h.via = via;
        }
    }
}
