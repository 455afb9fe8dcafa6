//! The reference model of the rules (SPEC section 4): what every caller may read and write.

use super::case::*;
use std::collections::{BTreeMap, BTreeSet};

/// Who sends a request.
#[derive(Clone, Debug)]
pub(super) struct Caller {
    pub(super) name: String,
    pub(super) token: Option<String>,
    /// The user's id (none for anonymous callers and the service key).
    pub(super) id: Option<String>,
    pub(super) email: Option<String>,
    pub(super) roles: Vec<&'static str>,
    pub(super) org: Option<&'static str>,
    /// The service key, or a user holding role `admin`.
    pub(super) admin: bool,
}

impl Caller {
    /// The code of a root operation no rule lets this caller attempt.
    pub(super) fn denied(&self) -> &'static str {
        if self.id.is_none() { UNAUTHENTICATED } else { FORBIDDEN }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Item {
    pub(super) title: String,
    pub(super) status: St,
    pub(super) level: i64,
    pub(super) org: Option<String>,
    pub(super) owner: Option<String>,
    pub(super) note: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Tag {
    pub(super) label: String,
    pub(super) item: String,
    pub(super) owner: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct State {
    pub(super) items: BTreeMap<String, Item>,
    pub(super) tags: BTreeMap<String, Tag>,
}

/// Whether a rule applies to the caller: who it allows, and no placeholder in its `where:`
/// the caller has no value for (such a rule does not apply at all, wherever the placeholder
/// sits, `not` included: a missing claim never widens access).
pub(super) fn applies<L: Needs>(r: &Rule<L>, c: &Caller) -> bool {
    let who = match &r.allow {
        Allow::Public => true,
        Allow::Private | Allow::Owner => c.id.is_some(),
        Allow::Roles { roles, .. } => c.id.is_some() && c.roles.iter().any(|r| roles.contains(r)),
    };
    who && !r.cond.as_ref().is_some_and(|cond| cond.needs_missing(c))
}

/// Whether a condition names a placeholder (`$user.*`, `$claims.*`) the caller lacks.
pub(super) trait Needs {
    fn needs_missing(&self, c: &Caller) -> bool;
}

impl<L: Needs> Needs for Cond<L> {
    fn needs_missing(&self, c: &Caller) -> bool {
        match self {
            Cond::Leaf(l) => l.needs_missing(c),
            Cond::And(v) | Cond::Or(v) => v.iter().any(|x| x.needs_missing(c)),
            Cond::Not(x) => x.needs_missing(c),
        }
    }
}

fn lacks(s: Str, c: &Caller) -> bool {
    resolve(s, c, true).is_none()
}

impl Needs for ILeaf {
    fn needs_missing(&self, c: &Caller) -> bool {
        match self {
            ILeaf::Title(_, s) | ILeaf::Org(_, s) => lacks(*s, c),
            ILeaf::OrgIn { of, .. } => of.iter().any(|s| lacks(*s, c)),
            ILeaf::Owner { .. } => lacks(Str::UserId, c),
            ILeaf::Tags(_, inner) => inner.needs_missing(c),
            ILeaf::Status(..)
            | ILeaf::StatusIn { .. }
            | ILeaf::Level(..)
            | ILeaf::OrgIsNull(_)
            | ILeaf::OwnerIsNull { .. }
            | ILeaf::Note(..)
            | ILeaf::NoteIsNull(_) => false,
        }
    }
}

impl Needs for TLeaf {
    fn needs_missing(&self, c: &Caller) -> bool {
        match self {
            TLeaf::Label(_, s) => lacks(*s, c),
            TLeaf::Owner(_) => lacks(Str::UserId, c),
            TLeaf::Item(inner) => inner.needs_missing(c),
            TLeaf::LabelIn { .. } | TLeaf::OwnerIsNull(_) => false,
        }
    }
}

/// Whether some rule for `op` lets this caller at the model at all (else the root operation
/// is refused outright).
pub(super) fn root_ok<L: Needs>(spec: &ModelSpec<L>, c: &Caller, op: Op) -> bool {
    c.admin || spec.rules.iter().flatten().any(|r| r.covers(op) && applies(r, c))
}

/// Rules ORed, the parts of one rule ANDed, admin passes, no `@auth` is admin only.
pub(super) fn may<L: Needs>(
    spec: &ModelSpec<L>,
    c: &Caller,
    op: Op,
    owner: Option<&str>,
    eval: impl Fn(&Cond<L>) -> bool,
) -> bool {
    c.admin
        || spec.rules.iter().flatten().any(|r| {
            r.covers(op)
                && applies(r, c)
                && (!matches!(r.allow, Allow::Owner) || (c.id.is_some() && owner == c.id.as_deref()))
                && r.cond.as_ref().is_none_or(&eval)
        })
}

/// A string operand's value: placeholders resolve inside rules (`None`: the caller has no such
/// value) and are plain text in client filters.
pub(super) fn resolve(s: Str, c: &Caller, rule: bool) -> Option<String> {
    if !rule {
        return Some(s.text().to_string());
    }
    match s {
        Str::Lit(t) => Some(t.to_string()),
        Str::Claim => c.org.map(str::to_string),
        Str::UserId => c.id.clone(),
        Str::UserEmail => c.email.clone(),
    }
}

/// SQL comparison: NULL matches neither `eq` nor `ne`; a missing placeholder never matches.
pub(super) fn compare(v: Option<&str>, cmp: Cmp, operand: Option<String>) -> bool {
    match (v, operand) {
        (Some(v), Some(x)) => (v == x) == (cmp == Cmp::Eq),
        _ => false,
    }
}

/// `in` / `notIn`. Items that are missing placeholders never match: they drop out of `in`, and
/// make `notIn` (a conjunction of `ne`s) match nothing, as `ne` does.
pub(super) fn in_list(v: Option<&str>, not: bool, of: Vec<Option<String>>) -> bool {
    if of.is_empty() {
        return not;
    }
    let Some(v) = v else { return false };
    if not {
        of.iter().all(|x| x.as_deref().is_some_and(|x| x != v))
    } else {
        of.iter().any(|x| x.as_deref() == Some(v))
    }
}

/// What a caller is shown of a row's `note`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum NoteView {
    /// The value (null, without an error, when the row has none).
    Shown(Option<String>),
    /// null, with a FORBIDDEN error at the field's path.
    Hidden,
}

pub(super) struct Model<'a> {
    pub(super) case: &'a Case,
    pub(super) st: &'a State,
}

impl Model<'_> {
    pub(super) fn item_may(&self, c: &Caller, op: Op, id: &str, it: &Item) -> bool {
        may(&self.case.item, c, op, it.owner.as_deref(), |cond| self.eval_i(cond, id, it, c, true))
    }

    pub(super) fn tag_may(&self, c: &Caller, op: Op, tg: &Tag) -> bool {
        may(&self.case.tag, c, op, tg.owner.as_deref(), |cond| self.eval_t(cond, tg, c, true))
    }

    /// Field rules of `note` for `op` on this row (as written, for create and update): no
    /// `@auth` on the field restricts nothing beyond the row; else admin, or some rule for `op`
    /// that applies to the caller with its owner and `where:` conditions holding on the row.
    /// A model rule never grants the field, a field rule never grants the row.
    pub(super) fn note_may(&self, c: &Caller, op: Op, id: &str, it: &Item) -> bool {
        self.case.note.rules.is_none()
            || may(&self.case.note, c, op, it.owner.as_deref(), |cond| self.eval_i(cond, id, it, c, true))
    }

    /// Whether some field rule of `note` for `op` applies to the caller at all (else writing it
    /// is refused outright, like a root operation no model rule allows).
    pub(super) fn note_root_ok(&self, c: &Caller, op: Op) -> bool {
        self.case.note.rules.is_none() || root_ok(&self.case.note, c, op)
    }

    /// The `note` a caller reads of a row they may read.
    pub(super) fn note_view(&self, c: &Caller, id: &str, it: &Item) -> NoteView {
        if self.note_may(c, Op::Read, id, it) { NoteView::Shown(it.note.clone()) } else { NoteView::Hidden }
    }

    /// Whether the caller may order by `note`: no field rules, admin, or a read rule that
    /// applies to them without an owner or `where:` part (they can read it in every row).
    pub(super) fn note_orderable(&self, c: &Caller) -> bool {
        c.admin
            || self.case.note.rules.as_ref().is_none_or(|rules| {
                rules.iter().any(|r| {
                    r.covers(Op::Read) && applies(r, c) && !matches!(r.allow, Allow::Owner) && r.cond.is_none()
                })
            })
    }

    pub(super) fn item_readable(&self, c: &Caller, id: &str) -> bool {
        self.st.items.get(id).is_some_and(|it| self.item_may(c, Op::Read, id, it))
    }

    pub(super) fn eval_i(&self, cond: &Cond<ILeaf>, id: &str, it: &Item, c: &Caller, rule: bool) -> bool {
        match cond {
            Cond::And(v) => v.iter().all(|x| self.eval_i(x, id, it, c, rule)),
            Cond::Or(v) => v.iter().any(|x| self.eval_i(x, id, it, c, rule)),
            Cond::Not(x) => !self.eval_i(x, id, it, c, rule),
            Cond::Leaf(l) => match l {
                ILeaf::Status(cmp, s) => (it.status == *s) == (*cmp == Cmp::Eq),
                ILeaf::StatusIn { not, of } => of.contains(&it.status) != *not,
                ILeaf::Level(o, n) => match o {
                    Num::Eq => it.level == *n,
                    Num::Ne => it.level != *n,
                    Num::Lt => it.level < *n,
                    Num::Lte => it.level <= *n,
                    Num::Gt => it.level > *n,
                    Num::Gte => it.level >= *n,
                },
                ILeaf::Title(cmp, s) => compare(Some(&it.title), *cmp, resolve(*s, c, rule)),
                ILeaf::Org(cmp, s) => compare(it.org.as_deref(), *cmp, resolve(*s, c, rule)),
                ILeaf::OrgIn { not, of } => {
                    in_list(it.org.as_deref(), *not, of.iter().map(|s| resolve(*s, c, rule)).collect())
                }
                ILeaf::OrgIsNull(b) => it.org.is_none() == *b,
                ILeaf::Owner { cmp, .. } => compare(it.owner.as_deref(), *cmp, resolve(Str::UserId, c, rule)),
                ILeaf::OwnerIsNull { null, .. } => it.owner.is_none() == *null,
                ILeaf::Tags(q, inner) => {
                    // Inside a rule, related rows are not restricted again; in a client filter
                    // only related rows the caller may read count.
                    let mut related = self
                        .st
                        .tags
                        .values()
                        .filter(|t| t.item == id && (rule || self.tag_may(c, Op::Read, t)))
                        .map(|t| self.eval_t(inner, t, c, rule));
                    match q {
                        Quant::Some => related.any(|m| m),
                        Quant::None => !related.any(|m| m),
                        Quant::Every => related.all(|m| m),
                    }
                }
                // A client filter on the guarded field is ANDed with its read rules (so `not`
                // complements both): hidden values are never probed. Rules see every field.
                ILeaf::Note(cmp, n) => {
                    compare(it.note.as_deref(), *cmp, Some(n.to_string()))
                        && (rule || self.note_may(c, Op::Read, id, it))
                }
                ILeaf::NoteIsNull(b) => (it.note.is_none() == *b) && (rule || self.note_may(c, Op::Read, id, it)),
            },
        }
    }

    pub(super) fn eval_t(&self, cond: &Cond<TLeaf>, tg: &Tag, c: &Caller, rule: bool) -> bool {
        match cond {
            Cond::And(v) => v.iter().all(|x| self.eval_t(x, tg, c, rule)),
            Cond::Or(v) => v.iter().any(|x| self.eval_t(x, tg, c, rule)),
            Cond::Not(x) => !self.eval_t(x, tg, c, rule),
            Cond::Leaf(l) => match l {
                TLeaf::Label(cmp, s) => compare(Some(&tg.label), *cmp, resolve(*s, c, rule)),
                TLeaf::LabelIn { not, of } => {
                    in_list(Some(&tg.label), *not, of.iter().map(|s| Some(s.to_string())).collect())
                }
                TLeaf::Owner(cmp) => compare(tg.owner.as_deref(), *cmp, resolve(Str::UserId, c, rule)),
                TLeaf::OwnerIsNull(b) => tg.owner.is_none() == *b,
                TLeaf::Item(inner) => self.st.items.get(&tg.item).is_some_and(|it| {
                    (rule || self.item_may(c, Op::Read, &tg.item, it)) && self.eval_i(inner, &tg.item, it, c, rule)
                }),
            },
        }
    }

    /// Item ids the caller may list, or the code of a refused root read.
    pub(super) fn items_readable(&self, c: &Caller) -> Result<BTreeSet<String>, &'static str> {
        if !root_ok(&self.case.item, c, Op::Read) {
            return Err(c.denied());
        }
        Ok(self
            .st
            .items
            .iter()
            .filter(|(id, it)| self.item_may(c, Op::Read, id, it))
            .map(|(id, _)| id.clone())
            .collect())
    }

    pub(super) fn tags_readable(&self, c: &Caller) -> Result<BTreeSet<String>, &'static str> {
        if !root_ok(&self.case.tag, c, Op::Read) {
            return Err(c.denied());
        }
        Ok(self.st.tags.iter().filter(|(_, t)| self.tag_may(c, Op::Read, t)).map(|(id, _)| id.clone()).collect())
    }
}

/// What a write should do.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Expect {
    Ok,
    /// Refused with one of these codes, nothing written.
    Refused(Vec<&'static str>),
}

pub(super) fn refused(code: &'static str) -> Expect {
    Expect::Refused(vec![code])
}

/// The `ownerId` a write sends, if any (`Some(None)`: null). `Me` for a caller without a user
/// id (anonymous, the service key) sends nothing.
pub(super) fn owner_value(arg: Option<OwnerArg>, c: &Caller, user_ids: &[String]) -> Option<Option<String>> {
    match arg? {
        OwnerArg::Me => c.id.clone().map(Some),
        OwnerArg::User(i) => Some(Some(user_ids[i % user_ids.len()].clone())),
        OwnerArg::Null => Some(None),
    }
}

/// Create: the row as written (the owner is the caller's for non-admin callers when owner rules
/// manage it; admin may set any owner, a user holding `admin` owns the row by default), and
/// whether a create rule accepts it. `fields_ok`: whether some create rule of every guarded
/// field written applies to the caller (else refused like a root operation).
pub(super) fn expect_create<L: Needs>(
    spec: &ModelSpec<L>,
    c: &Caller,
    sent_owner: Option<Option<String>>,
    fields_ok: bool,
    accepts: impl Fn(Option<String>) -> bool,
) -> (Expect, Option<String>) {
    let managed = spec.managed();
    let owner = match sent_owner {
        Some(v) if !managed || c.admin => v,
        Some(v) => {
            if v.is_none() || v != c.id {
                return (refused(FORBIDDEN), None);
            }
            v
        }
        None if managed => c.id.clone(),
        None => None,
    };
    if c.admin {
        return (Expect::Ok, owner);
    }
    if !root_ok(spec, c, Op::Create) || !fields_ok {
        return (refused(c.denied()), owner);
    }
    if accepts(owner.clone()) { (Expect::Ok, owner) } else { (refused(FORBIDDEN), owner) }
}
