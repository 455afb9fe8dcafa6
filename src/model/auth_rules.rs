//! `@auth(rules: [...])` on types and fields → [`AuthRule`]s; the owner fields they need; and
//! the check of their `where:` conditions against the models' fields and the operator grammar.

use super::args::{self, as_list, check_args, enum_like};
use super::naming;
use super::operators::{self, Operand, Operator, Quantifier};
use super::parse::{Cx, Src};
use super::scan::list_item_positions;
use super::suggest::{closest, did_you_mean, is_camel_case, one_of};
use super::values::{self, article};
use super::{AuthAllow, AuthRule, BelongsTo, EnumDef, Field, FieldKind, Model, OnDelete, Operation, ScalarType, Span};
use async_graphql::Value;
use async_graphql::parser::Positioned;
use async_graphql::parser::types::ConstDirective;

const RULE_KEYS: [&str; 6] = ["allow", "operations", "ownerField", "roles", "groups", "where"];
const ALLOW: [&str; 5] = ["public", "private", "owner", "roles", "groups"];
const OPERATIONS: [&str; 6] = ["create", "read", "update", "delete", "get", "list"];

/// Parses one `@auth` directive. Rules with errors are reported and left out.
pub(super) fn parse_auth(cx: &mut Cx, src: Src, dir: &Positioned<ConstDirective>) -> Vec<AuthRule> {
    check_args(cx, src, &dir.node, &["rules"]);
    let Some(rules) = args::arg(&dir.node, "rules") else {
        cx.error(
            src.span(dir.pos),
            "@auth needs rules: [...], e.g. @auth(rules: [{ allow: public, operations: [read] }])",
        );
        return Vec::new();
    };
    let items = as_list(&rules.node);
    let mut positions = list_item_positions(src.text, rules.pos);
    if positions.len() != items.len() {
        positions = vec![rules.pos; items.len()];
    }
    items.iter().zip(positions).filter_map(|(item, pos)| parse_rule(cx, src.span(pos), item)).collect()
}

fn parse_rule(cx: &mut Cx, span: Span, item: &Value) -> Option<AuthRule> {
    let Value::Object(obj) = item else {
        cx.error(span, format!("each @auth rule is an object like {{ allow: public }}, found {item}"));
        return None;
    };
    let errors_before = cx.errors.len();
    let err = |cx: &mut Cx, msg: String| cx.error(span.clone(), msg);
    for key in obj.keys() {
        if !RULE_KEYS.contains(&key.as_str()) {
            let hint = did_you_mean(key, RULE_KEYS);
            err(cx, format!("unknown key \"{key}\" in @auth rule{hint}; expected {}", one_of(&RULE_KEYS)));
        }
    }
    let allow = match obj.get("allow").map(|v| (v, enum_like(v))) {
        None => {
            err(cx, format!("@auth rule needs allow: (one of {})", one_of(&ALLOW[..4])));
            None
        }
        Some((_, Some(a))) if ALLOW.contains(&a) => Some(a),
        Some((v, a)) => {
            let hint = a.map(|a| did_you_mean(a, ALLOW)).unwrap_or_default();
            err(cx, format!("unknown allow: {v} in @auth rule{hint}; expected {}", one_of(&ALLOW[..4])));
            None
        }
    };
    let operations = match obj.get("operations") {
        None => Operation::ALL.to_vec(),
        Some(v) => {
            let mut ops = Vec::new();
            for item in as_list(v) {
                let op = match enum_like(item) {
                    Some("create") => Operation::Create,
                    Some("read" | "get" | "list") => Operation::Read,
                    Some("update") => Operation::Update,
                    Some("delete") => Operation::Delete,
                    _ => {
                        let hint = enum_like(item).map(|o| did_you_mean(o, OPERATIONS)).unwrap_or_default();
                        err(
                            cx,
                            format!(
                                "unknown operation {item} in @auth rule{hint}; expected {}",
                                one_of(&OPERATIONS[..4])
                            ),
                        );
                        continue;
                    }
                };
                if !ops.contains(&op) {
                    ops.push(op);
                }
            }
            if as_list(v).is_empty() {
                err(cx, "operations: [] grants nothing; list operations or leave operations out for all four".into());
            }
            ops
        }
    };
    let owner_field = obj.get("ownerField").and_then(|v| match v {
        Value::String(s) => Some(s.clone()),
        other => {
            err(cx, format!("ownerField: expects a field name string like \"author\", found {other}"));
            None
        }
    });
    if owner_field.is_some() && allow.is_some_and(|a| a != "owner") {
        err(cx, "ownerField: only applies to { allow: owner }".into());
    }
    let roles = role_list(cx, &span, obj.get("roles"), obj.get("groups"), allow);
    let condition = match obj.get("where") {
        None => None,
        Some(v @ Value::Object(_)) => Some(v.clone()),
        Some(other) => {
            err(
                cx,
                format!(
                    "where: expects an object in the model's filter syntax, e.g. {{ status: {{ eq: PUBLISHED }} }}, found {other}"
                ),
            );
            None
        }
    };
    let allow = match allow? {
        "public" => AuthAllow::Public,
        "private" => AuthAllow::Private,
        "owner" => AuthAllow::Owner { field: owner_field.unwrap_or_else(|| "owner".to_string()) },
        _ => AuthAllow::Roles(roles?),
    };
    (cx.errors.len() == errors_before).then_some(AuthRule { allow, operations, condition, span })
}

/// `roles: [...]`, or Amplify's `groups: [...]`; required by (and only allowed for) a roles rule.
fn role_list(
    cx: &mut Cx,
    span: &Span,
    roles: Option<&Value>,
    groups: Option<&Value>,
    allow: Option<&str>,
) -> Option<Vec<String>> {
    let is_roles = matches!(allow, Some("roles" | "groups"));
    let (key, value) = match (roles, groups) {
        (Some(_), Some(_)) => {
            cx.error(span.clone(), "give roles: or groups: (its Amplify alias), not both");
            return None;
        }
        (Some(v), None) => ("roles", v),
        (None, Some(v)) => ("groups", v),
        (None, None) => {
            if is_roles {
                cx.error(span.clone(), "{ allow: roles } needs a non-empty roles: [\"...\"] list");
            }
            return None;
        }
    };
    if !is_roles {
        if allow.is_some() {
            cx.error(span.clone(), format!("{key}: only applies to {{ allow: roles }}"));
        }
        return None;
    }
    let names: Option<Vec<String>> = as_list(value)
        .iter()
        .map(|v| match v {
            Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
            _ => None,
        })
        .collect();
    match names {
        Some(names) if !names.is_empty() => Some(names),
        _ => {
            cx.error(
                span.clone(),
                format!("{key}: expects a non-empty list of role names like [\"editor\"], found {value}"),
            );
            None
        }
    }
}

/// Every rule of the model and of its fields.
fn all_rules(model: &Model) -> impl Iterator<Item = &AuthRule> {
    model.auth.iter().flatten().chain(model.fields.iter().flat_map(|f| f.auth.iter().flatten()))
}

/// Every owner rule's field must be a `@belongsTo` to `User`; `owner: User @belongsTo` (or the
/// named field) is added when the model has no field of that name.
pub(super) fn resolve_owners(cx: &mut Cx, model: &mut Model) {
    let owners: Vec<(String, Span)> = all_rules(model)
        .filter_map(|r| match &r.allow {
            AuthAllow::Owner { field } => Some((field.clone(), r.span.clone())),
            _ => None,
        })
        .collect();
    let mut renames: Vec<(String, String)> = Vec::new();
    for (name, span) in owners {
        match model.field(&name).map(|f| &f.kind) {
            Some(FieldKind::BelongsTo(b)) if b.target == "User" => {}
            Some(kind) => {
                let is = match kind {
                    FieldKind::Scalar(s) => format!("a {} field", s.ty.name()),
                    FieldKind::BelongsTo(b) => format!("a @belongsTo to {}", b.target),
                    FieldKind::HasMany(_) => "a @hasMany field".to_string(),
                };
                cx.error(
                    span,
                    format!(
                        "ownerField \"{name}\" must be a @belongsTo to User (`{name}: User @belongsTo`), but it is {is}"
                    ),
                );
            }
            None => {
                if let Some((f, _)) = model.belongs_to().find(|(_, b)| b.id_field == name && b.target == "User") {
                    renames.push((name.clone(), f.name.clone()));
                    continue;
                }
                let names = model.fields.iter().map(|f| f.name.as_str());
                if name != "owner"
                    && let Some(similar) = closest(&name, names)
                {
                    cx.error(
                        span,
                        format!("ownerField \"{name}\" is not a field of {} (did you mean \"{similar}\"?)", model.name),
                    );
                    continue;
                }
                if !is_camel_case(&name) {
                    cx.error(span, format!("ownerField \"{name}\" must be a camelCase field name"));
                    continue;
                }
                model.fields.push(owner_field(&name, span));
            }
        }
    }
    let rules = model.auth.iter_mut().flatten();
    let rules = rules.chain(model.fields.iter_mut().flat_map(|f| f.auth.iter_mut().flatten()));
    for rule in rules {
        if let AuthAllow::Owner { field } = &mut rule.allow
            && let Some((_, to)) = renames.iter().find(|(from, _)| from == field)
        {
            *field = to.clone();
        }
    }
}

fn owner_field(name: &str, span: Span) -> Field {
    Field {
        name: name.to_string(),
        description: Some("The user who owns this row (added for an @auth owner rule).".into()),
        kind: FieldKind::BelongsTo(BelongsTo {
            target: "User".to_string(),
            column: format!("{}_id", naming::column_name(name)),
            id_field: naming::fk_field(name),
            required: false,
            on_delete: OnDelete::Restrict,
        }),
        auth: None,
        span,
    }
}

/// Every rule's `where:` against the fields of its model, in the model's filter syntax: keys
/// are `and` / `or` / `not` or fields; a scalar field (or a belongsTo's id field) takes the
/// operators of the operator grammar for its type, each with a value of the field's type or a
/// placeholder (`"$user.<field>"` must name a User field); a belongsTo relation takes a filter
/// on its target and a hasMany relation `some` / `none` / `every` filters on its target.
/// Runs once every model is built, so relation filters are checked against their targets.
pub(super) fn check_conditions(cx: &mut Cx, models: &[Model], enums: &[EnumDef]) {
    let Some(user) = models.iter().find(|m| m.builtin) else { return };
    let scope = Scope { models, enums, user };
    for model in models {
        for rule in all_rules(model) {
            if let Some(cond) = &rule.condition {
                scope.check_filter(cx, &rule.span, model, cond);
            }
        }
    }
}

/// What a `where:` may refer to: every model, the declared enums and the built-in User.
struct Scope<'a> {
    models: &'a [Model],
    enums: &'a [EnumDef],
    user: &'a Model,
}

impl Scope<'_> {
    fn model(&self, name: &str) -> Option<&Model> {
        self.models.iter().find(|m| m.name == name)
    }

    fn check_filter(&self, cx: &mut Cx, span: &Span, model: &Model, v: &Value) {
        let Value::Object(obj) = v else {
            cx.error(
                span.clone(),
                format!("where: expects a filter object like {{ status: {{ eq: PUBLISHED }} }}, found {v}"),
            );
            return;
        };
        for (key, value) in obj {
            match key.as_str() {
                "and" | "or" => as_list(value).iter().for_each(|i| self.check_filter(cx, span, model, i)),
                "not" => self.check_filter(cx, span, model, value),
                k => match model.field(k).map(|f| &f.kind) {
                    Some(FieldKind::Scalar(s)) => self.check_column(cx, span, k, &s.ty, s.list, value),
                    Some(FieldKind::BelongsTo(b)) => {
                        if !matches!(value, Value::Object(_)) {
                            cx.error(
                                span.clone(),
                                format!(
                                    "where: {{ {k}: {value} }} needs a condition on the fields of {}, e.g. \
                                     {{ {k}: {{ id: {{ eq: {value} }} }} }} (or {{ {}: {{ eq: {value} }} }})",
                                    b.target, b.id_field
                                ),
                            );
                        } else if let Some(target) = self.model(&b.target) {
                            self.check_filter(cx, span, target, value);
                        }
                    }
                    Some(FieldKind::HasMany(h)) => self.check_related(cx, span, k, &h.target, value),
                    None if model.belongs_to().any(|(_, b)| b.id_field == k) => {
                        self.check_column(cx, span, k, &ScalarType::Id, false, value)
                    }
                    None => {
                        let names = model.fields.iter().map(|f| f.name.as_str());
                        let ids = model.belongs_to().map(|(_, b)| b.id_field.as_str());
                        let hint = did_you_mean(k, names.chain(ids));
                        cx.error(
                            span.clone(),
                            format!("unknown field \"{k}\" in @auth where: of {}{hint}", model.name),
                        );
                    }
                },
            }
        }
    }

    /// `{ some: F, none: F, every: F }` on a hasMany field `key` to `target`.
    fn check_related(&self, cx: &mut Cx, span: &Span, key: &str, target: &str, value: &Value) {
        let names = Quantifier::ALL.map(Quantifier::name);
        let Value::Object(obj) = value else {
            cx.error(
                span.clone(),
                format!("where: {{ {key}: {value} }} needs {}: {{ {key}: {{ some: {{ ... }} }} }}", one_of(&names)),
            );
            return;
        };
        for (q, filter) in obj {
            if Quantifier::parse(q).is_none() {
                let hint = did_you_mean(q, names);
                cx.error(
                    span.clone(),
                    format!(
                        "where: {{ {key}: {{ {q}: ... }} }}: unknown operator \"{q}\" for a @hasMany field{hint}; \
                         expected {}",
                        one_of(&names)
                    ),
                );
            } else if let (false, Some(target)) = (matches!(filter, Value::Null), self.model(target)) {
                self.check_filter(cx, span, target, filter);
            }
        }
    }

    /// `{ op: value, ... }` on a column of type `ty`.
    fn check_column(&self, cx: &mut Cx, span: &Span, key: &str, ty: &ScalarType, list: bool, value: &Value) {
        let Value::Object(ops) = value else {
            cx.error(
                span.clone(),
                format!("where: {{ {key}: {value} }} needs an operator: {{ {key}: {{ eq: {value} }} }}"),
            );
            return;
        };
        if operators::filter_input(ty, list).is_none() {
            let what =
                if list { "a list field".to_string() } else { format!("{} {} field", article(ty.name()), ty.name()) };
            cx.error(span.clone(), format!("where: {{ {key}: ... }}: {key} cannot be filtered ({what})"));
            return;
        }
        let offered = operators::operators_of(ty);
        let offered_names: Vec<&str> = offered.iter().map(|op| op.name()).collect();
        for (name, operand) in ops {
            let at = format!("where: {{ {key}: {{ {name}: {operand} }} }}");
            let op = match Operator::parse(name) {
                Some(op) if offered.contains(&op) => op,
                Some(_) => {
                    cx.error(
                        span.clone(),
                        format!(
                            "{at}: {name} does not apply to {} {} field; expected {}",
                            article(ty.name()),
                            ty.name(),
                            one_of(&offered_names)
                        ),
                    );
                    continue;
                }
                None => {
                    let hint = did_you_mean(name, offered_names.iter().copied());
                    cx.error(
                        span.clone(),
                        format!(
                            "{at}: unknown operator \"{name}\" for {} {} field{hint}; expected {}",
                            article(ty.name()),
                            ty.name(),
                            one_of(&offered_names)
                        ),
                    );
                    continue;
                }
            };
            let problem = match (op.operand(), operand) {
                (_, Value::Null) => None,
                (Operand::Boolean, Value::Boolean(_)) => None,
                (Operand::Boolean, other) => {
                    Some(Problem::Operand(format!("{name} takes true or false, found {other}")))
                }
                (Operand::List, Value::List(items)) => {
                    items.iter().find_map(|item| self.value_problem(ty, op, item, true))
                }
                (Operand::List | Operand::One, one) => self.value_problem(ty, op, one, false),
            };
            match problem {
                Some(Problem::Operand(why)) => cx.error(span.clone(), format!("{at}: {why}")),
                Some(Problem::Whole(message)) => cx.error(span.clone(), message),
                None => {}
            }
        }
    }

    /// Why `v` is not an operand of `op` on a field of type `ty` (an item of a list when
    /// `in_list`): a value of the type, or a placeholder where the SQL compiler takes one.
    fn value_problem(&self, ty: &ScalarType, op: Operator, v: &Value, in_list: bool) -> Option<Problem> {
        if let Value::String(s) = v {
            if s.starts_with("$claims.") || s == "$user.id" {
                return None;
            }
            if let Some(f) = s.strip_prefix("$user.") {
                if !matches!(self.user.field(f).map(|f| &f.kind), Some(FieldKind::Scalar(_))) {
                    let names = self.user.scalar_fields().map(|(f, _)| f.name.as_str());
                    let hint = did_you_mean(f, names);
                    return Some(Problem::Whole(format!("\"{s}\" in @auth where: is not a field of User{hint}")));
                }
                // Compared with the caller's `users` row in a subquery: one value, compared.
                let compared = [Operator::Eq, Operator::Ne, Operator::Lt, Operator::Lte, Operator::Gt, Operator::Gte];
                if in_list || !compared.contains(&op) {
                    let names = compared.map(Operator::name);
                    return Some(Problem::Operand(format!(
                        "\"{s}\" can only be the value of {} (only \"$user.id\" and \"$claims.<name>\" can be an item of in: or notIn:)",
                        one_of(&names)
                    )));
                }
                return None;
            }
        }
        if in_list && matches!(v, Value::Null) {
            return Some(Problem::Operand(format!("expected {} {}, found null", article(ty.name()), ty.name())));
        }
        // An ID may be given as an integer, as GraphQL's ID accepts.
        if *ty == ScalarType::Id && matches!(v, Value::Number(n) if n.is_i64() || n.is_u64()) {
            return None;
        }
        values::item(v, ty, self.enums).err().map(Problem::Operand)
    }
}

/// What is wrong with an operand: said of the operand (after the `where: { ... }` it is in), or
/// a message of its own.
enum Problem {
    Operand(String),
    Whole(String),
}
