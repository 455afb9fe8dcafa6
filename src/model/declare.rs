//! Pass 1: every type definition of every file, read as one document. Sorts them into enums,
//! models and the `User` profile; reports duplicates, reserved and unsupported declarations,
//! and names that would collide in the generated API or the database.

use super::args::{self, check_args, is_known_directive};
use super::parse::{Cx, Src};
use super::suggest::{is_pascal_case, one_of, to_pascal_case, to_screaming_case};
use super::{EnumDef, Span, naming};
use async_graphql::parser::Positioned;
use async_graphql::parser::types::{
    EnumType, FieldDefinition, ObjectType, ServiceDocument, TypeDefinition, TypeKind, TypeSystemDefinition,
};
use std::collections::HashMap;

/// Scalars a field may have, besides declared enums.
pub(super) const SCALARS: [&str; 8] = ["ID", "String", "Int", "Float", "Boolean", "DateTime", "JSON", "File"];

const ROOTS: [&str; 3] = ["Query", "Mutation", "Subscription"];

/// Types ferrobase itself defines in the generated API.
const RESERVED: [&str; 14] = [
    "PageInfo",
    "Upload",
    "OrderDirection",
    "AuthPayload",
    "SignUpInput",
    "StringFilter",
    "IntFilter",
    "FloatFilter",
    "BooleanFilter",
    "DateTimeFilter",
    "IDFilter",
    "JSONFilter",
    "FileConnection",
    "FileEdge",
];

/// A declared object type, with where it is.
pub(super) struct TypeDecl<'a> {
    pub src: Src<'a>,
    pub def: &'a TypeDefinition,
    pub fields: &'a [Positioned<FieldDefinition>],
    /// Position of the type's name.
    pub span: Span,
}

/// A `type X @model`, with its derived names.
pub(super) struct ModelDecl<'a> {
    pub decl: TypeDecl<'a>,
    pub name: String,
    pub single: String,
    pub plural: String,
    pub table: String,
}

#[derive(Default)]
pub(super) struct Declared<'a> {
    pub enums: Vec<EnumDef>,
    pub models: Vec<ModelDecl<'a>>,
    /// `type User { ... }` (no `@model`): profile fields for the built-in User.
    pub user: Option<TypeDecl<'a>>,
    /// Declared types that are neither enums nor models (each already reported).
    pub others: Vec<String>,
}

impl Declared<'_> {
    pub fn enum_def(&self, name: &str) -> Option<&EnumDef> {
        self.enums.iter().find(|e| e.name == name)
    }
    /// A type a relation may point to: a declared model or the built-in `User`.
    pub fn is_model(&self, name: &str) -> bool {
        name == "User" || self.models.iter().any(|m| m.name == name)
    }
    /// Every type name a field may use, for "did you mean" hints.
    pub fn type_names(&self) -> impl Iterator<Item = &str> {
        SCALARS
            .into_iter()
            .chain(self.enums.iter().map(|e| e.name.as_str()))
            .chain(self.models.iter().map(|m| m.name.as_str()))
            .chain(["User"])
    }
}

pub(super) fn collect<'a>(cx: &mut Cx, docs: &'a [(Src<'a>, ServiceDocument)]) -> Declared<'a> {
    let mut out = Declared::default();
    let mut seen: HashMap<&str, Span> = HashMap::new();
    for (src, doc) in docs {
        for def in &doc.definitions {
            match def {
                TypeSystemDefinition::Schema(s) => cx.error(
                    src.span(s.pos),
                    "a `schema { ... }` definition is not supported: ferrobase generates the \
                     Query, Mutation and Subscription roots",
                ),
                TypeSystemDefinition::Directive(d) => {
                    let name = &d.node.name;
                    if !is_known_directive(&name.node) {
                        cx.error(src.span(name.pos), format!("custom directive @{} is not supported", name.node));
                    }
                }
                TypeSystemDefinition::Type(t) => type_def(cx, &mut out, &mut seen, *src, &t.node),
            }
        }
    }
    check_generated_names(cx, &out);
    check_model_names(cx, &out);
    out
}

fn type_def<'a>(
    cx: &mut Cx,
    out: &mut Declared<'a>,
    seen: &mut HashMap<&'a str, Span>,
    src: Src<'a>,
    t: &'a TypeDefinition,
) {
    let name = t.name.node.as_str();
    let span = src.span(t.name.pos);
    if t.extend {
        let msg = if ROOTS.contains(&name) {
            format!("extend type {name}: custom fields need @function (not yet supported)")
        } else {
            format!(
                "`extend type {name}` is not supported: declare all fields of {name} in one \
                 `type {name} {{ ... }}`"
            )
        };
        cx.error(span, msg);
        return;
    }
    if let Some(first) = seen.get(name) {
        let at = format!("{}:{}:{}", first.file, first.line, first.column);
        cx.error(span, format!("duplicate type \"{name}\" (first declared at {at})"));
        return;
    }
    seen.insert(name, span.clone());
    if let Some(msg) = reserved(name) {
        cx.error(span, msg);
        return;
    }
    let unsupported = |what: &str| {
        format!(
            "{what} \"{name}\" is not supported: declare object types with @model (interfaces, \
             unions, input types and custom scalars are not supported)"
        )
    };
    match &t.kind {
        TypeKind::Scalar => {
            cx.error(span, format!("custom scalar \"{name}\" is not supported; use one of {}", one_of(&SCALARS)))
        }
        TypeKind::Interface(_) => cx.error(span, unsupported("interface")),
        TypeKind::Union(_) => cx.error(span, unsupported("union")),
        TypeKind::InputObject(_) => cx.error(span, unsupported("input type")),
        TypeKind::Enum(e) => enum_def(cx, out, src, t, e, span),
        TypeKind::Object(o) => object_def(cx, out, src, t, o, span),
    }
}

fn reserved(name: &str) -> Option<String> {
    if ROOTS.contains(&name) {
        Some(format!(
            "type {name} is generated by ferrobase; custom fields need @function (not yet \
             supported)"
        ))
    } else if SCALARS.contains(&name) {
        Some(format!("\"{name}\" is a built-in scalar; remove this declaration"))
    } else if RESERVED.contains(&name) {
        Some(format!("\"{name}\" is a reserved type name (ferrobase generates it); rename this type"))
    } else {
        None
    }
}

fn enum_def(cx: &mut Cx, out: &mut Declared, src: Src, t: &TypeDefinition, e: &EnumType, span: Span) {
    let name = t.name.node.as_str();
    if !is_pascal_case(name) {
        let fix = to_pascal_case(name);
        cx.error(span.clone(), format!("enum name \"{name}\" must be PascalCase, e.g. \"{fix}\""));
    }
    for d in &t.directives {
        cx.error(src.span(d.pos), format!("@{} is not supported on an enum", d.node.name.node));
    }
    let mut values: Vec<String> = Vec::new();
    for v in &e.values {
        let value = v.node.value.node.as_str();
        let at = src.span(v.node.value.pos);
        if values.iter().any(|seen| seen == value) {
            cx.error(at, format!("duplicate enum value \"{value}\" in {name}"));
            continue;
        }
        if !naming::is_screaming_case(value) {
            let fix = to_screaming_case(value);
            cx.error(at.clone(), format!("enum value \"{value}\" of {name} must be SCREAMING_CASE, e.g. \"{fix}\""));
        }
        for d in &v.node.directives {
            cx.error(src.span(d.pos), format!("@{} is not supported on an enum value", d.node.name.node));
        }
        values.push(value.to_string());
    }
    out.enums.push(EnumDef {
        name: name.to_string(),
        values,
        description: t.description.as_ref().map(|d| d.node.clone()),
        span,
    });
}

fn object_def<'a>(
    cx: &mut Cx,
    out: &mut Declared<'a>,
    src: Src<'a>,
    t: &'a TypeDefinition,
    o: &'a ObjectType,
    span: Span,
) {
    let name = t.name.node.as_str();
    if let Some(i) = o.implements.first() {
        cx.error(src.span(i.pos), "interfaces are not supported: remove `implements ...`");
    }
    let model_dir = t.directives.iter().find(|d| d.node.name.node == "model");
    let decl = TypeDecl { src, def: t, fields: &o.fields, span: span.clone() };
    if name == "User" {
        if let Some(d) = model_dir {
            cx.error(
                src.span(d.pos),
                "User is built in; declare `type User { ... }` without @model to add profile \
                 fields",
            );
            return;
        }
        for d in &t.directives {
            cx.error(
                src.span(d.pos),
                format!(
                    "@{} is not allowed on User: the built-in User's access rules are fixed \
                     (use field-level @auth on profile fields)",
                    d.node.name.node
                ),
            );
        }
        out.user = Some(decl);
        return;
    }
    let Some(model_dir) = model_dir else {
        out.others.push(name.to_string());
        cx.error(span, format!("type \"{name}\" has no @model: add @model to store it as a table, or remove it"));
        return;
    };
    if !is_pascal_case(name) {
        let fix = to_pascal_case(name);
        cx.error(span.clone(), format!("model name \"{name}\" must be PascalCase, e.g. \"{fix}\""));
    }
    check_args(cx, src, &model_dir.node, &["plural"]);
    let plural_arg = args::string_arg(cx, src, &model_dir.node, "plural").filter(|p| {
        let ok =
            p.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) && p.chars().all(|c| c.is_ascii_alphanumeric());
        if !ok {
            let at = args::arg(&model_dir.node, "plural").map_or(span.clone(), |v| src.span(v.pos));
            cx.error(at, format!("@model(plural: \"{p}\") must be a name of letters and digits, e.g. \"people\""));
        }
        ok
    });
    let plural = naming::lower_first(&plural_arg.unwrap_or_else(|| naming::plural(name)));
    out.models.push(ModelDecl {
        decl,
        name: name.to_string(),
        single: naming::lower_first(name),
        table: naming::snake_case(&plural),
        plural,
    });
}

/// A declared type may not take a name the generated API uses (`PostConnection`, ...).
fn check_generated_names(cx: &mut Cx, d: &Declared) {
    let mut generated: HashMap<String, String> = HashMap::new();
    for m in d.models.iter().map(|m| m.name.as_str()).chain(["User"]) {
        for g in naming::model_types(m) {
            generated.insert(g, format!("model {m}"));
        }
    }
    for e in &d.enums {
        generated.insert(naming::filter_type(&e.name), format!("enum {}", e.name));
    }
    let declared = d.enums.iter().map(|e| (&e.name, &e.span)).chain(d.models.iter().map(|m| (&m.name, &m.decl.span)));
    for (name, span) in declared {
        if let Some(owner) = generated.get(name.as_str()) {
            cx.error(
                span.clone(),
                format!(
                    "type name \"{name}\" is reserved: ferrobase generates it for {owner}; \
                     rename this type"
                ),
            );
        }
    }
}

/// Query fields (`post`, `posts`) and tables must be distinct across models.
fn check_model_names(cx: &mut Cx, d: &Declared) {
    let mut fields: HashMap<&str, String> = HashMap::new();
    for f in ["me", "user", "users", "file", "files"] {
        fields.insert(f, "a built-in query field".to_string());
    }
    let mut tables: HashMap<&str, String> = HashMap::new();
    let plural_hint = |m: &ModelDecl| format!("@model(plural: \"{}List\")", m.single);
    for m in &d.models {
        if m.single == m.plural {
            cx.error(
                m.decl.span.clone(),
                format!(
                    "model {}: its plural \"{}\" is the same as its single name; give it a \
                     distinct plural, e.g. {}",
                    m.name,
                    m.plural,
                    plural_hint(m)
                ),
            );
        } else {
            for (kind, field) in [("single", &m.single), ("plural", &m.plural)] {
                if let Some(owner) = fields.get(field.as_str()) {
                    let fix = match kind {
                        "single" => "rename the model".to_string(),
                        _ => format!("choose another plural, e.g. {}", plural_hint(m)),
                    };
                    cx.error(
                        m.decl.span.clone(),
                        format!("model {}: its {kind} query field \"{field}\" is already {owner}; {fix}", m.name),
                    );
                }
                fields.insert(field, format!("the {kind} query field of model {}", m.name));
            }
        }
        let system = migration::is_reserved_table(&m.table).then(|| "a system table".to_string());
        if let Some(owner) = system.as_ref().or(tables.get(m.table.as_str())) {
            cx.error(
                m.decl.span.clone(),
                format!(
                    "model {}: its table \"{}\" is already {owner}; choose another plural, e.g. {}",
                    m.name,
                    m.table,
                    plural_hint(m)
                ),
            );
        }
        tables.insert(&m.table, format!("the table of model {}", m.name));
    }
}
