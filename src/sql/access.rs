//! `@auth` rules → SQL predicates, through the same compiler as the `filter` argument, so a
//! rule means exactly what the same filter would. Rules are ORed, the parts of one rule ANDed;
//! the service key and role `admin` pass everything; a model without `@auth` is admin-only.

use super::filter::rule_condition;
use super::{SqlCtx, col};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::model::{AuthAllow, AuthRule, FieldKind, Model, Operation, Schema};
use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait, Query};

/// What a caller may touch of a table for one operation.
#[derive(Debug, Clone)]
pub enum Access {
    /// Every row (admin, or a rule without a row condition).
    All,
    /// Rows matching the predicate.
    Rows(Condition),
    /// No rule applies to this caller.
    Denied,
}

impl Access {
    /// Both: rows the two grant alike.
    pub fn and(self, other: Access) -> Access {
        match (self, other) {
            (Access::Denied, _) | (_, Access::Denied) => Access::Denied,
            (Access::All, a) | (a, Access::All) => a,
            (Access::Rows(a), Access::Rows(b)) => Access::Rows(Condition::all().add(a).add(b)),
        }
    }

    /// The predicate to AND into a statement (`1 = 0` when denied).
    pub fn condition(self) -> Condition {
        match self {
            Access::All => Condition::all(),
            Access::Rows(c) => c,
            Access::Denied => Condition::all().add(Expr::cust("1 = 0")),
        }
    }
}

/// The built-in `User`: anyone who may read a row pointing at a user may read that user's id
/// and profile; `email`, `emailVerified` and `roles` are the user's own (see
/// [`field_read_access`]); a signed-in user may update their own row (`updateProfile`, within
/// the profile fields' own rules).
fn user_rules() -> &'static [AuthRule] {
    static RULES: std::sync::OnceLock<Vec<AuthRule>> = std::sync::OnceLock::new();
    RULES.get_or_init(|| {
        let own = async_graphql::Value::from_json(serde_json::json!({ "id": { "eq": "$user.id" } }))
            .expect("a constant filter");
        vec![
            AuthRule {
                allow: AuthAllow::Public,
                operations: vec![Operation::Read],
                condition: None,
                span: Default::default(),
            },
            AuthRule {
                allow: AuthAllow::Private,
                operations: vec![Operation::Update],
                condition: Some(own),
                span: Default::default(),
            },
        ]
    })
}

/// Row access of `caller` to `model` for `op`, for rows under table alias `alias`.
pub fn access(cx: &SqlCtx, model: &Model, alias: &str, op: Operation) -> ApiResult<Access> {
    let Some(caller) = cx.caller else { return Ok(Access::All) };
    if caller.is_admin() {
        return Ok(Access::All);
    }
    let rules: &[AuthRule] = if model.builtin { user_rules() } else { model.auth.as_deref().unwrap_or(&[]) };
    rules_access(cx, model, alias, op, caller, rules)
}

/// Access under an explicit rule list (a model's, or a field's).
pub fn rules_access(
    cx: &SqlCtx,
    model: &Model,
    alias: &str,
    op: Operation,
    caller: &Caller,
    rules: &[AuthRule],
) -> ApiResult<Access> {
    let mut any = Condition::any();
    let mut granted = false;
    for rule in rules.iter().filter(|r| rule_applies(cx, r, op, caller)) {
        let mut cond = Condition::all();
        if let AuthAllow::Owner { field } = &rule.allow {
            let column = model.belongs_to_column(field)?;
            cond = cond.add(col(alias, column).eq(cx.caller_id()?));
        }
        if let Some(w) = &rule.condition {
            let was = cx.set_in_rule(true);
            let compiled = rule_condition(cx, model, alias, w);
            cx.set_in_rule(was);
            cond = cond.add(compiled?);
            if let Some(present) = super::filter::profile_values_present(cx, w)? {
                cond = cond.add(present);
            }
        }
        if cond.is_empty() {
            return Ok(Access::All);
        }
        granted = true;
        any = any.add(cond);
    }
    Ok(if granted { Access::Rows(any) } else { Access::Denied })
}

/// Whether `rule` grants `op` to `caller` on some rows: it names the operation, its `allow`
/// covers the caller, and the caller has every value its `where:` names.
fn rule_applies(cx: &SqlCtx, rule: &AuthRule, op: Operation, caller: &Caller) -> bool {
    let user = caller.user();
    rule.operations.contains(&op)
        && match &rule.allow {
            AuthAllow::Public => true,
            AuthAllow::Private | AuthAllow::Owner { .. } => user.is_some(),
            AuthAllow::Roles(roles) => user.is_some_and(|u| u.roles.iter().any(|r| roles.contains(r))),
        }
        && rule.condition.as_ref().is_none_or(|w| !super::filter::needs_missing_value(cx, w))
}

/// Whether any rule of `model` grants `op` to the caller (on some rows at least).
pub fn may(cx: &SqlCtx, model: &Model, op: Operation) -> bool {
    let Some(caller) = cx.caller else { return true };
    if caller.is_admin() {
        return true;
    }
    let rules: &[AuthRule] = if model.builtin { user_rules() } else { model.auth.as_deref().unwrap_or(&[]) };
    rules.iter().any(|r| rule_applies(cx, r, op, caller))
}

/// The error for a root operation no rule allows: sign in, or you may not.
pub fn denied(cx: &SqlCtx, model: &Model, op: Operation) -> ApiError {
    let verb = op.as_str();
    match cx.caller {
        Some(Caller::Anonymous) => ApiError::unauthenticated(format!(
            "sign in to {verb} {} rows (no @auth rule allows anonymous callers)",
            model.name
        )),
        _ => ApiError::forbidden(format!("no @auth rule of {} lets you {verb} it", model.name)),
    }
}

/// Read access of the caller to one guarded field (field-level `@auth`, a `@belongsTo` whose
/// inverse `@hasMany` has field rules, or the built-in User's own `email`/`emailVerified`/
/// `roles`) of `model` rows under `alias`: evaluated per row in SQL like row rules, the field's
/// rules ORed, owner and `where:` conditions included. `None` when nothing restricts it: the
/// field is not guarded, the caller is admin or the server itself, or a rule's `where:` is being
/// compiled (rules see every field).
///
/// A relation is one link stored on the `@belongsTo` side, so a rule on either side guards it
/// from both: the belongsTo's reads (`postId`, `post`) follow the inverse hasMany's rules on the
/// parent row too, and pages, counts and `some`/`none`/`every` filters through the hasMany skip
/// children whose link the caller may not read (see [`field_read_condition`]).
pub fn field_read_access(cx: &SqlCtx, model: &Model, key: &str, alias: &str) -> ApiResult<Option<Access>> {
    let Some(caller) = cx.caller.filter(|c| !c.is_admin() && !cx.in_rule()) else { return Ok(None) };
    let Some(field) = guarded_field(cx.schema, model, key) else { return Ok(None) };
    if users_own(model, field) {
        return Ok(Some(match caller.user() {
            Some(_) => Access::Rows(Condition::all().add(col(alias, "id").eq(cx.caller_id()?))),
            None => Access::Denied,
        }));
    }
    let mut access = match &field.auth {
        Some(rules) => rules_access(cx, model, alias, Operation::Read, caller, rules)?,
        None => Access::All,
    };
    if let FieldKind::BelongsTo(b) = &field.kind {
        for (parent, has_many) in inverse_guards(cx.schema, model, field) {
            let rules = has_many.auth.as_deref().unwrap_or_default();
            let pa = cx.alias();
            access = access.and(match rules_access(cx, parent, &pa, Operation::Read, caller, rules)? {
                Access::Rows(cond) => {
                    let mut parents = Query::select();
                    parents.expr(col(&pa, "id")).from_as(Alias::new(&parent.table), Alias::new(&pa)).cond_where(cond);
                    Access::Rows(Condition::all().add(col(alias, &b.column).in_subquery(parents)))
                }
                other => other,
            });
        }
    }
    Ok(Some(access))
}

/// The read rule of a guarded field as a predicate on `model` rows under `alias` (for a
/// client filter on it, or for rows reached through a `@hasMany` whose `@belongsTo` is `key`:
/// the caller must be able to read each row's link); `None` when it is not guarded for them.
pub fn field_read_condition(cx: &SqlCtx, model: &Model, key: &str, alias: &str) -> ApiResult<Option<Condition>> {
    Ok(field_read_access(cx, model, key, alias)?.map(Access::condition))
}

/// The caller's read predicate on `model` rows under `alias`. Inside a rule's own condition,
/// rows are not restricted again: rules see all rows.
pub fn readable(cx: &SqlCtx, model: &Model, alias: &str) -> ApiResult<Condition> {
    if cx.in_rule() {
        return Ok(Condition::all());
    }
    Ok(access(cx, model, alias, Operation::Read)?.condition())
}

/// The guarded field behind `key`: a field name or a belongsTo id field (`authorId`).
pub fn guarded_field<'m>(schema: &Schema, model: &'m Model, key: &str) -> Option<&'m crate::model::Field> {
    model.field_by_key(key).filter(|f| field_guarded(schema, model, f))
}

/// The `@hasMany` fields with field rules on the other side of belongsTo `field` of `model`.
pub fn inverse_guards<'s>(
    schema: &'s Schema,
    model: &'s Model,
    field: &'s crate::model::Field,
) -> impl Iterator<Item = (&'s Model, &'s crate::model::Field)> {
    let parent = match &field.kind {
        FieldKind::BelongsTo(b) => schema.model(&b.target),
        _ => None,
    };
    parent.into_iter().flat_map(move |parent| {
        parent
            .fields
            .iter()
            .filter(move |f| {
                f.auth.is_some()
                    && matches!(&f.kind, FieldKind::HasMany(h) if h.target == model.name && h.via == field.name)
            })
            .map(move |f| (parent, f))
    })
}

/// The predicate a write must satisfy: the model's rules for `op`, ANDed with the field rules
/// of every field written (`written` holds input keys). `Denied` when either denies.
pub fn write_access(cx: &SqlCtx, model: &Model, alias: &str, op: Operation, written: &[&str]) -> ApiResult<Access> {
    let mut cond = match access(cx, model, alias, op)? {
        Access::Denied => return Ok(Access::Denied),
        Access::All => Condition::all(),
        Access::Rows(c) => Condition::all().add(c),
    };
    let Some(caller) = cx.caller.filter(|c| !c.is_admin()) else { return Ok(Access::All) };
    for key in written {
        if let Some(rules) = model.field_by_key(key).and_then(|f| f.auth.as_deref()) {
            match rules_access(cx, model, alias, op, caller, rules)? {
                Access::Denied => return Ok(Access::Denied),
                Access::All => {}
                Access::Rows(c) => cond = cond.add(c),
            }
        }
    }
    Ok(if cond.is_empty() { Access::All } else { Access::Rows(cond) })
}

/// Owner fields of a model (the `ownerField` of every owner rule): `(field, id field)`.
pub fn owner_fields(model: &Model) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for rule in model.auth.iter().flatten() {
        if let AuthAllow::Owner { field } = &rule.allow
            && let Some(FieldKind::BelongsTo(b)) = model.field(field).map(|f| &f.kind)
            && !out.iter().any(|(f, _)| f == field)
        {
            out.push((field.clone(), b.id_field.clone()));
        }
    }
    out
}

/// Ordering by a field the caller may not read in every row would reveal the order of hidden
/// values: ordering by a guarded field (field-level `@auth`, the built-in User's own fields)
/// needs a field rule that lets the caller read it in every row (no owner or `where:` part).
pub fn check_order(cx: &SqlCtx, model: &Model, keys: &[super::cursor::OrderKey]) -> ApiResult<()> {
    for k in keys {
        match field_read_access(cx, model, &k.spec.key, "t")? {
            None | Some(Access::All) => {}
            Some(_) => {
                return Err(ApiError::forbidden(format!(
                    "you may not order {} by {} (its field @auth rules do not let you read it in every row)",
                    model.name, k.spec.key
                )));
            }
        }
    }
    Ok(())
}

/// The built-in User's `email`, `emailVerified` and `roles`: readable by that user only.
fn users_own(model: &Model, field: &crate::model::Field) -> bool {
    model.builtin && matches!(field.name.as_str(), "email" | "emailVerified" | "roles")
}

/// Whether a field is guarded for reading: field-level `@auth` (on it, or for a `@belongsTo`
/// on its inverse `@hasMany`), or one of the built-in User's own fields. Guarded fields are
/// nullable in the API, so a denied read is a valid `null`.
pub fn field_guarded(schema: &Schema, model: &Model, field: &crate::model::Field) -> bool {
    field.auth.is_some() || users_own(model, field) || inverse_guards(schema, model, field).next().is_some()
}

/// Whether some caller may be unable to read a row of `model` that exists (a rule with a row
/// condition, or no public read at all): relations to it are nullable in the API.
pub fn rows_may_be_hidden(model: &Model) -> bool {
    if model.builtin {
        return false;
    }
    !model
        .auth
        .iter()
        .flatten()
        .any(|r| r.allow == AuthAllow::Public && r.condition.is_none() && r.operations.contains(&Operation::Read))
}

/// Whether a caller who is not admin may set `field` when signing up (profile fields with
/// field-level rules need a create rule for any signed-in user, without a condition).
pub fn sign_up_may_set(field: &crate::model::Field) -> bool {
    field.auth.as_deref().is_none_or(|rules| {
        rules.iter().any(|r| {
            r.operations.contains(&Operation::Create)
                && r.condition.is_none()
                && matches!(r.allow, AuthAllow::Public | AuthAllow::Private)
        })
    })
}
