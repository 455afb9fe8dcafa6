//! Rendering a case to SDL: the `@auth` rules and their `where:` conditions as text.

use super::case::*;
use std::fmt::Write as _;

pub(super) fn quoted(s: &str) -> String {
    serde_json::to_string(s).expect("string")
}

pub(super) fn join(items: impl IntoIterator<Item = String>) -> String {
    items.into_iter().collect::<Vec<_>>().join(", ")
}

pub(super) trait Leaf {
    fn render(&self) -> String;
}

impl<L: Leaf> Cond<L> {
    pub(super) fn render(&self) -> String {
        match self {
            Cond::Leaf(l) => l.render(),
            Cond::And(v) => format!("{{and: [{}]}}", join(v.iter().map(Cond::render))),
            Cond::Or(v) => format!("{{or: [{}]}}", join(v.iter().map(Cond::render))),
            Cond::Not(c) => format!("{{not: {}}}", c.render()),
        }
    }
}

pub(super) fn cmp_name(c: Cmp) -> &'static str {
    match c {
        Cmp::Eq => "eq",
        Cmp::Ne => "ne",
    }
}

pub(super) fn in_name(not: bool) -> &'static str {
    if not { "notIn" } else { "in" }
}

impl Leaf for ILeaf {
    fn render(&self) -> String {
        match self {
            ILeaf::Status(c, s) => format!("{{status: {{{}: {}}}}}", cmp_name(*c), s.name()),
            ILeaf::StatusIn { not, of } => {
                format!("{{status: {{{}: [{}]}}}}", in_name(*not), join(of.iter().map(|s| s.name().to_string())))
            }
            ILeaf::Level(o, n) => {
                let op = match o {
                    Num::Eq => "eq",
                    Num::Ne => "ne",
                    Num::Lt => "lt",
                    Num::Lte => "lte",
                    Num::Gt => "gt",
                    Num::Gte => "gte",
                };
                format!("{{level: {{{op}: {n}}}}}")
            }
            ILeaf::Title(c, s) => format!("{{title: {{{}: {}}}}}", cmp_name(*c), quoted(s.text())),
            ILeaf::Org(c, s) => format!("{{org: {{{}: {}}}}}", cmp_name(*c), quoted(s.text())),
            ILeaf::OrgIn { not, of } => {
                format!("{{org: {{{}: [{}]}}}}", in_name(*not), join(of.iter().map(|s| quoted(s.text()))))
            }
            ILeaf::OrgIsNull(b) => format!("{{org: {{isNull: {b}}}}}"),
            ILeaf::Owner { key, cmp } => format!("{{{key}: {{{}: \"$user.id\"}}}}", cmp_name(*cmp)),
            ILeaf::OwnerIsNull { key, null } => format!("{{{key}: {{isNull: {null}}}}}"),
            ILeaf::Tags(q, c) => {
                let q = match q {
                    Quant::Some => "some",
                    Quant::None => "none",
                    Quant::Every => "every",
                };
                format!("{{tags: {{{q}: {}}}}}", c.render())
            }
            ILeaf::Note(c, n) => format!("{{note: {{{}: {}}}}}", cmp_name(*c), quoted(n)),
            ILeaf::NoteIsNull(b) => format!("{{note: {{isNull: {b}}}}}"),
        }
    }
}

impl Leaf for TLeaf {
    fn render(&self) -> String {
        match self {
            TLeaf::Label(c, s) => format!("{{label: {{{}: {}}}}}", cmp_name(*c), quoted(s.text())),
            TLeaf::LabelIn { not, of } => {
                format!("{{label: {{{}: [{}]}}}}", in_name(*not), join(of.iter().map(|s| quoted(s))))
            }
            TLeaf::Owner(c) => format!("{{ownerId: {{{}: \"$user.id\"}}}}", cmp_name(*c)),
            TLeaf::OwnerIsNull(b) => format!("{{ownerId: {{isNull: {b}}}}}"),
            TLeaf::Item(c) => format!("{{item: {}}}", c.render()),
        }
    }
}

pub(super) fn auth<L: Leaf>(spec: &ModelSpec<L>) -> String {
    let Some(rules) = &spec.rules else { return String::new() };
    let rendered = rules.iter().map(|r| {
        let mut s = match &r.allow {
            Allow::Public => "{ allow: public".to_string(),
            Allow::Private => "{ allow: private".to_string(),
            Allow::Owner => match spec.owner {
                Some("owner") | None => "{ allow: owner".to_string(),
                Some(o) => format!("{{ allow: owner, ownerField: \"{o}\""),
            },
            Allow::Roles { roles, groups } => {
                let key = if *groups { "groups" } else { "roles" };
                format!("{{ allow: {key}, {key}: [{}]", join(roles.iter().map(|r| quoted(r))))
            }
        };
        if let Some(ops) = &r.ops {
            let _ = write!(s, ", operations: [{}]", join(ops.iter().map(|o| o.name().to_string())));
        }
        if let Some(c) = &r.cond {
            let _ = write!(s, ", where: {}", c.render());
        }
        s + " }"
    });
    format!(" @auth(rules: [\n  {}\n])", rendered.collect::<Vec<_>>().join("\n  "))
}

pub(super) fn sdl(case: &Case) -> String {
    let mut s = String::from("enum Status {\n  A\n  B\n}\n\n");
    let _ = writeln!(s, "type Item @model{} {{", auth(&case.item));
    s.push_str("  title: String!\n  status: Status!\n  level: Int!\n  org: String\n");
    let _ = writeln!(s, "  note: String{}", auth(&case.note));
    if let (true, Some(o)) = (case.item.declared, case.item.owner) {
        let _ = writeln!(s, "  {o}: User @belongsTo");
    }
    s.push_str("  tags: [Tag!]! @hasMany\n}\n\n");
    let _ = writeln!(s, "type Tag @model{} {{", auth(&case.tag));
    s.push_str("  label: String!\n  item: Item! @belongsTo(onDelete: CASCADE)\n");
    if case.tag.declared {
        s.push_str("  owner: User @belongsTo\n");
    }
    s.push_str("}\n\n");
    // The sentinel that follows every write for subscribers (see `subs`): readable by all.
    s.push_str("type Ping @model @auth(rules: [{ allow: public, operations: [read] }]) {\n  n: Int!\n}\n");
    s
}
