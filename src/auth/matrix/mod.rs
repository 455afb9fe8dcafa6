//! The permission matrix `ferrobase schema rules` prints: per model, which kind of caller may
//! create, read, update and delete which rows, derived from the `@auth` rules (SPEC §4), then
//! each field's own rules.
//!
//! A caller kind gets the union of every rule that applies to it: a signed-in user also gets
//! what `public` grants, an owner or a role holder also gets what a signed-in user gets, and
//! `admin` passes everything.

mod condition;
#[cfg(test)]
mod tests;

use crate::model::{AuthAllow, AuthRule, Field, Model, Operation, Schema};
use condition::{Expr, render_where};

const HEADERS: [&str; 5] = ["caller", "create", "read", "update", "delete"];
const COLUMN_GAP: &str = "   ";
/// Field rules gate reading a field and writing it on create / update; delete is per row.
const FIELD_OPS: [Operation; 3] = [Operation::Create, Operation::Read, Operation::Update];
const LEGEND: &str = "legend: yes = any row, no = never, if <condition> = rows matching the condition, \
own rows = rows whose owner field is the caller; signed-in includes what anonymous gets, owner and role rows \
include what signed-in gets; admin (and the service key) passes every rule; field rules apply on top of the type rules";

/// The text of `ferrobase schema rules`: one table per non-built-in model, in declaration
/// order, then a one-line legend.
pub fn permission_matrix(schema: &Schema) -> String {
    let blocks: Vec<String> = schema.user_models().map(|m| model_block(schema, m)).collect();
    let mut out = if blocks.is_empty() { "no models declared\n".to_string() } else { blocks.join("\n") };
    out.push('\n');
    if let Some(user) = schema.models.iter().find(|m| m.builtin) {
        out.push_str(&user_block(schema, user));
        out.push('\n');
    }
    out.push_str(LEGEND);
    out.push('\n');
    out
}

/// The built-in `User`'s fixed rules, then the field rules of its profile fields.
fn user_block(schema: &Schema, user: &Model) -> String {
    let profile = crate::model::profile_fields(user).next().is_some();
    let mut out = format!(
        "User (built in)\n\
         \x20 anyone      reads id, createdAt, updatedAt{} of the users they reach (relations)\n\
         \x20 the user    reads their own email, emailVerified and roles (me){}\n\
         \x20 admin       everything: users, setUserRoles, setUserClaims, disableUser\n",
        if profile { " and profile fields" } else { "" },
        if profile { "; changes their profile (updateProfile)" } else { "" },
    );
    for field in user.fields.iter().filter(|f| f.auth.is_some()) {
        out.push_str(&field_line(schema, user, field));
        out.push('\n');
    }
    out
}

fn model_block(schema: &Schema, model: &Model) -> String {
    let rules = match &model.auth {
        None => return format!("{}: admin only (no @auth rules)\n", model.name),
        Some(rules) if rules.is_empty() => return format!("{}: admin only (@auth has no rules)\n", model.name),
        Some(rules) => rules,
    };
    let mut rows: Vec<[String; 5]> = vec![HEADERS.map(String::from)];
    for (caller, cells) in matrix_rows(schema, model, rules) {
        let [c, r, u, d] = cells;
        rows.push([caller, c, r, u, d]);
    }
    let mut widths = [0usize; 5];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = format!("{}\n", model.name);
    for row in &rows {
        let cells: Vec<String> = row.iter().zip(widths).map(|(cell, w)| format!("{cell:<w$}")).collect();
        out.push_str(format!("  {}", cells.join(COLUMN_GAP)).trim_end());
        out.push('\n');
    }
    for field in &model.fields {
        if field.auth.is_some() {
            out.push_str(&field_line(schema, model, field));
            out.push('\n');
        }
        for (parent, has_many) in crate::sql::access::inverse_guards(schema, model, field) {
            out.push_str(&format!(
                "  field {}: read only where {}.{} may be read (one link, guarded from both sides)\n",
                field.name, parent.name, has_many.name
            ));
        }
    }
    out
}

/// A kind of caller, one row of the table.
#[derive(Debug, Clone, PartialEq)]
enum Caller {
    Anonymous,
    SignedIn,
    /// The signed-in user the row's owner field points at.
    Owner(String),
    Role(String),
    Admin,
}

impl Caller {
    fn label(&self) -> String {
        match self {
            Caller::Anonymous => "anonymous".into(),
            Caller::SignedIn => "signed-in".into(),
            Caller::Owner(field) => format!("owner ({field})"),
            Caller::Role(role) => format!("role {role}"),
            Caller::Admin => "admin".into(),
        }
    }

    /// Whether `rule` grants anything to this caller, and if so whether only on own rows.
    fn matches(&self, allow: &AuthAllow) -> Option<bool> {
        match (allow, self) {
            (_, Caller::Admin) => Some(false),
            (AuthAllow::Public, _) => Some(false),
            (AuthAllow::Private, Caller::SignedIn | Caller::Owner(_) | Caller::Role(_)) => Some(false),
            (AuthAllow::Owner { field }, Caller::Owner(f)) if f == field => Some(true),
            (AuthAllow::Roles(roles), Caller::Role(r)) if roles.contains(r) => Some(false),
            _ => None,
        }
    }
}

/// The callers that matter for a model: anonymous, signed-in, one owner row per owner field,
/// one row per role (sorted), admin.
fn callers(rules: &[AuthRule]) -> Vec<Caller> {
    let mut owners: Vec<Caller> = Vec::new();
    let mut roles: Vec<String> = Vec::new();
    for rule in rules {
        match &rule.allow {
            AuthAllow::Owner { field } if !owners.contains(&Caller::Owner(field.clone())) => {
                owners.push(Caller::Owner(field.clone()));
            }
            AuthAllow::Roles(names) => roles.extend(names.iter().filter(|r| *r != "admin").cloned()),
            _ => {}
        }
    }
    roles.sort();
    roles.dedup();
    let mut out = vec![Caller::Anonymous, Caller::SignedIn];
    out.extend(owners);
    out.extend(roles.into_iter().map(Caller::Role));
    out.push(Caller::Admin);
    out
}

/// Each caller's label and its create / read / update / delete cells.
fn matrix_rows(schema: &Schema, model: &Model, rules: &[AuthRule]) -> Vec<(String, [String; 4])> {
    callers(rules)
        .into_iter()
        .map(|caller| {
            let cells = Operation::ALL.map(|op| {
                if caller == Caller::Admin {
                    return "yes".to_string();
                }
                let grants = rules.iter().filter(|r| r.operations.contains(&op)).filter_map(|r| {
                    let own = caller.matches(&r.allow)?;
                    Some(Grant { own, cond: condition(schema, model, r) })
                });
                cell(grants.collect())
            });
            (caller.label(), cells)
        })
        .collect()
}

/// One rule's contribution to a cell: all rows, or only the caller's own, optionally filtered.
#[derive(Debug, Clone, PartialEq)]
struct Grant {
    own: bool,
    cond: Option<Expr>,
}

impl Grant {
    /// Whether every row `other` allows is allowed by `self`.
    fn covers(&self, other: &Grant) -> bool {
        (!self.own || other.own) && (self.cond.is_none() || self.cond == other.cond)
    }
}

fn condition(schema: &Schema, model: &Model, rule: &AuthRule) -> Option<Expr> {
    rule.condition.as_ref().map(|c| render_where(schema, model, c)).filter(|e| *e != Expr::True)
}

/// Keeps the items not covered by another (the first of equal items survives).
fn prune<T: Clone>(items: Vec<T>, covers: impl Fn(&T, &T) -> bool) -> Vec<T> {
    let keep = |i: usize| {
        !items
            .iter()
            .enumerate()
            .any(|(j, other)| j != i && covers(other, &items[i]) && (j < i || !covers(&items[i], other)))
    };
    (0..items.len()).filter(|&i| keep(i)).map(|i| items[i].clone()).collect()
}

/// `yes`, `no`, `own rows`, `own rows if C`, `if C`, or `own rows or if C` for a mix.
fn cell(grants: Vec<Grant>) -> String {
    let grants = prune(grants, Grant::covers);
    if grants.is_empty() {
        return "no".into();
    }
    if grants.iter().any(|g| !g.own && g.cond.is_none()) {
        return "yes".into();
    }
    let conds =
        |own: bool| -> Vec<Option<Expr>> { grants.iter().filter(|g| g.own == own).map(|g| g.cond.clone()).collect() };
    let (own, rest) = (conds(true), conds(false));
    let own_text = match own.iter().cloned().collect::<Option<Vec<Expr>>>() {
        _ if own.is_empty() => None,
        None => Some("own rows".to_string()),
        Some(exprs) => Some(format!("own rows if {}", Expr::or(exprs))),
    };
    let rest_text = (!rest.is_empty()).then(|| format!("if {}", Expr::or(rest.into_iter().flatten().collect())));
    match (own_text, rest_text) {
        (Some(o), Some(r)) if o.contains(" if ") => format!("({o}) or {r}"),
        (Some(o), Some(r)) => format!("{o} or {r}"),
        (Some(t), None) | (None, Some(t)) => t,
        (None, None) => "no".into(),
    }
}

/// Who a field rule lets through, in the matrix's vocabulary.
#[derive(Debug, Clone, PartialEq)]
enum Who {
    Anyone,
    SignedIn,
    Owner(String),
    Roles(Vec<String>),
}

impl Who {
    fn includes(&self, other: &Who) -> bool {
        match (self, other) {
            (Who::Anyone, _) => true,
            (Who::SignedIn, other) => *other != Who::Anyone,
            (Who::Owner(a), Who::Owner(b)) => a == b,
            (Who::Roles(a), Who::Roles(b)) => b.iter().all(|r| a.contains(r)),
            _ => false,
        }
    }

    fn label(&self) -> String {
        match self {
            Who::Anyone => "anyone".into(),
            Who::SignedIn => "signed-in".into(),
            Who::Owner(field) => format!("owner ({field})"),
            Who::Roles(roles) if roles.len() == 1 => format!("role {}", roles[0]),
            Who::Roles(roles) => format!("roles {}", roles.join(", ")),
        }
    }
}

/// `  field secretNotes: read: owner (author); create, update: admin only`.
fn field_line(schema: &Schema, model: &Model, field: &Field) -> String {
    let rules = field.auth.as_deref().unwrap_or_default();
    let mut groups: Vec<(String, Vec<&str>)> = Vec::new();
    for op in FIELD_OPS {
        let text = field_op_text(schema, model, rules, op);
        match groups.iter_mut().find(|(t, _)| *t == text) {
            Some((_, ops)) => ops.push(op.as_str()),
            None => groups.push((text, vec![op.as_str()])),
        }
    }
    let parts: Vec<String> = groups.iter().map(|(text, ops)| format!("{}: {text}", ops.join(", "))).collect();
    format!("  field {}: {}", field.name, parts.join("; "))
}

/// Who the field rules let do `op`, e.g. `owner (author) or role editor`, or `admin only`.
fn field_op_text(schema: &Schema, model: &Model, rules: &[AuthRule], op: Operation) -> String {
    let terms = rules.iter().filter(|r| r.operations.contains(&op)).filter_map(|r| {
        let who = match &r.allow {
            AuthAllow::Public => Who::Anyone,
            AuthAllow::Private => Who::SignedIn,
            AuthAllow::Owner { field } => Who::Owner(field.clone()),
            AuthAllow::Roles(roles) => {
                let mut roles: Vec<String> = roles.iter().filter(|r| *r != "admin").cloned().collect();
                roles.sort();
                roles.dedup();
                if roles.is_empty() {
                    return None;
                }
                Who::Roles(roles)
            }
        };
        Some((who, condition(schema, model, r)))
    });
    let terms = prune(terms.collect(), |(w1, c1), (w2, c2)| w1.includes(w2) && (c1.is_none() || c1 == c2));
    if terms.is_empty() {
        return "admin only".into();
    }
    let several = terms.len() > 1;
    let texts: Vec<String> = terms
        .iter()
        .map(|(who, cond)| match cond {
            None => who.label(),
            Some(c) if several => format!("({} if {c})", who.label()),
            Some(c) => format!("{} if {c}", who.label()),
        })
        .collect();
    texts.join(" or ")
}
