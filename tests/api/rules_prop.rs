//! Property-based `@auth` test: random rule sets (public, private, owner, roles and the Amplify
//! `groups` alias, with operations and `where:` conditions over the model's fields, relations
//! and `$user` / `$claims` placeholders), users with random roles and claims, rows, filters and
//! writes, run against a real server over HTTP as every caller (anonymous, each user, admin),
//! every outcome compared with the small reference model of SPEC section 4 written below:
//! zero leaks, zero wrongful denials.
//!
//! A failing case prints its SDL, users, rows and every outcome that differed (caller,
//! operation, expected, actual), then proptest shrinks it. Cases: `FERROBASE_PROPTEST_CASES`
//! (default 24 on SQLite, 8 on PostgreSQL); seed: `FERROBASE_PROPTEST_SEED` (default fixed);
//! shrink steps: `FERROBASE_PROPTEST_SHRINK_ITERS` (default 256); `FERROBASE_PROPTEST_KEEP_GOING=1`
//! runs every case, printing each failing one unshrunk, and fails at the end (a survey of bugs).

use crate::common::TestServer;
use ferrobase::testing::{TestBackend, backends};
use proptest::prelude::*;
use proptest::sample::{select, subsequence};
use proptest::strategy::{BoxedStrategy, Union};
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use serde_json::{Value, json};
use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

const ROLES: [&str; 2] = ["editor", "viewer"];
/// Values of the `org` claim.
const CLAIM_ORGS: [&str; 2] = ["acme", "globex"];
/// Row values of `org`: the claim values, and a placeholder's literal text, which a client
/// filter must compare as plain text.
const ROW_ORGS: [&str; 3] = ["acme", "globex", "$claims.org"];
/// Row titles: two users' emails (for `$user.email` rules) and a placeholder's literal text.
const TITLES: [&str; 4] = ["alpha", "u0@example.com", "u1@example.com", "$user.email"];
const LABELS: [&str; 3] = ["red", "green", "blue"];
const PASSWORD: &str = "correct horse";
const FORBIDDEN: &str = "FORBIDDEN";
const NOT_FOUND: &str = "NOT_FOUND";
const UNAUTHENTICATED: &str = "UNAUTHENTICATED";

// ---------------------------------------------------------------------------------------------
// The generated case.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Create,
    Read,
    Update,
    Delete,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Create => "create",
            Op::Read => "read",
            Op::Update => "update",
            Op::Delete => "delete",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum St {
    A,
    B,
}

impl St {
    fn name(self) -> &'static str {
        match self {
            St::A => "A",
            St::B => "B",
        }
    }
}

#[derive(Clone, Debug)]
enum Allow {
    Public,
    Private,
    Owner,
    /// `groups: true` spells it the Amplify way.
    Roles {
        roles: Vec<&'static str>,
        groups: bool,
    },
}

#[derive(Clone, Debug)]
struct Rule<L> {
    allow: Allow,
    /// `None`: all four operations.
    ops: Option<Vec<Op>>,
    cond: Option<Cond<L>>,
}

impl<L> Rule<L> {
    fn covers(&self, op: Op) -> bool {
        self.ops.as_ref().is_none_or(|ops| ops.contains(&op))
    }
}

#[derive(Clone, Debug)]
enum Cond<L> {
    Leaf(L),
    And(Vec<Cond<L>>),
    Or(Vec<Cond<L>>),
    Not(Box<Cond<L>>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cmp {
    Eq,
    Ne,
}

#[derive(Clone, Copy, Debug)]
enum Num {
    Eq,
    Ne,
    Lt,
    Lte,
    Gt,
    Gte,
}

/// A string operand: a literal, or a placeholder (its literal text in a client filter).
#[derive(Clone, Copy, Debug)]
enum Str {
    Lit(&'static str),
    Claim,
    UserId,
    UserEmail,
}

impl Str {
    fn text(self) -> &'static str {
        match self {
            Str::Lit(t) => t,
            Str::Claim => "$claims.org",
            Str::UserId => "$user.id",
            Str::UserEmail => "$user.email",
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Quant {
    Some,
    None,
    Every,
}

/// A condition on one field of `Item`.
#[derive(Clone, Debug)]
enum ILeaf {
    Status(Cmp, St),
    StatusIn {
        not: bool,
        of: Vec<St>,
    },
    Level(Num, i64),
    Title(Cmp, Str),
    Org(Cmp, Str),
    OrgIn {
        not: bool,
        of: Vec<Str>,
    },
    OrgIsNull(bool),
    /// `<owner>Id` compared with `"$user.id"`; `key` is `ownerId` or `authorId`.
    Owner {
        key: &'static str,
        cmp: Cmp,
    },
    OwnerIsNull {
        key: &'static str,
        null: bool,
    },
    Tags(Quant, Box<Cond<TLeaf>>),
}

/// A condition on one field of `Tag`.
#[derive(Clone, Debug)]
enum TLeaf {
    Label(Cmp, Str),
    LabelIn { not: bool, of: Vec<&'static str> },
    Owner(Cmp),
    OwnerIsNull(bool),
    Item(Box<Cond<ILeaf>>),
}

#[derive(Clone, Debug)]
struct ModelSpec<L> {
    /// `None`: no `@auth` (admin only).
    rules: Option<Vec<Rule<L>>>,
    /// The owner field (`owner` or `author`), when the model has one.
    owner: Option<&'static str>,
    /// Declared in the SDL as `<owner>: User @belongsTo` (else an owner rule adds it).
    declared: bool,
}

impl<L> ModelSpec<L> {
    /// Owner rules make the owner field the server's: set to the caller, never written by others.
    fn managed(&self) -> bool {
        self.rules.iter().flatten().any(|r| matches!(r.allow, Allow::Owner))
    }
    fn owner_key(&self) -> Option<String> {
        self.owner.map(|o| format!("{o}Id"))
    }
}

#[derive(Clone, Debug)]
struct UserSpec {
    roles: Vec<&'static str>,
    /// Also holds the `admin` role.
    admin: bool,
    org: Option<&'static str>,
}

#[derive(Clone, Debug)]
struct Fields {
    title: &'static str,
    status: St,
    level: i64,
    org: Option<&'static str>,
}

#[derive(Clone, Debug)]
struct ItemRow {
    fields: Fields,
    /// A user index.
    owner: Option<usize>,
}

#[derive(Clone, Debug)]
struct TagRow {
    label: &'static str,
    /// An item index.
    item: usize,
    owner: Option<usize>,
}

/// The `ownerId` a write passes.
#[derive(Clone, Copy, Debug)]
enum OwnerArg {
    Me,
    User(usize),
    Null,
}

#[derive(Clone, Debug)]
struct Patch {
    title: Option<&'static str>,
    status: Option<St>,
    level: Option<i64>,
    org: Option<Option<&'static str>>,
    owner: Option<OwnerArg>,
}

#[derive(Clone, Debug)]
enum Mut {
    CreateItem(Fields, Option<OwnerArg>),
    /// `row` indexes every item id ever created (deleted ones too).
    UpdateItem(usize, Patch),
    DeleteItem(usize),
    /// `item` indexes the live items.
    CreateTag(&'static str, usize, Option<OwnerArg>),
    DeleteTag(usize),
}

#[derive(Clone, Debug)]
struct Mutation {
    /// 0: anonymous, 1..=n: a user, n + 1: admin (service key); taken modulo.
    caller: usize,
    kind: Mut,
}

#[derive(Clone, Debug)]
struct Case {
    item: ModelSpec<ILeaf>,
    tag: ModelSpec<TLeaf>,
    users: Vec<UserSpec>,
    items: Vec<ItemRow>,
    tags: Vec<TagRow>,
    item_filters: Vec<Cond<ILeaf>>,
    tag_filters: Vec<Cond<TLeaf>>,
    mutations: Vec<Mutation>,
}

// ---------------------------------------------------------------------------------------------
// Strategies.

fn st() -> impl Strategy<Value = St> + Clone {
    prop_oneof![Just(St::A), Just(St::B)]
}

fn cmp() -> impl Strategy<Value = Cmp> + Clone {
    prop_oneof![3 => Just(Cmp::Eq), 1 => Just(Cmp::Ne)]
}

fn num() -> impl Strategy<Value = Num> + Clone {
    select(vec![Num::Eq, Num::Ne, Num::Lt, Num::Lte, Num::Gt, Num::Gte])
}

fn org_str() -> impl Strategy<Value = Str> + Clone {
    prop_oneof![2 => select(CLAIM_ORGS.to_vec()).prop_map(Str::Lit), 3 => Just(Str::Claim)]
}

fn title_str() -> impl Strategy<Value = Str> + Clone {
    prop_oneof![
        2 => select(vec!["alpha", "u0@example.com"]).prop_map(Str::Lit),
        2 => Just(Str::UserEmail),
        1 => Just(Str::Claim),
    ]
}

fn cond<L: std::fmt::Debug + Clone + 'static>(leaf: BoxedStrategy<L>) -> BoxedStrategy<Cond<L>> {
    leaf.prop_map(Cond::Leaf)
        .prop_recursive(2, 6, 2, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..=2).prop_map(Cond::And),
                proptest::collection::vec(inner.clone(), 0..=2).prop_map(Cond::Or),
                inner.prop_map(|c| Cond::Not(Box::new(c))),
            ]
        })
        .boxed()
}

/// The owner fields: what conditions may name.
#[derive(Clone, Copy, Debug)]
struct Shape {
    item_owner: Option<&'static str>,
    tag_owner: bool,
}

/// Leaves on `Item`; `depth` levels of relations (`tags: { some | none | every }`) below.
fn ileaf(sh: Shape, depth: u32) -> BoxedStrategy<ILeaf> {
    let mut arms: Vec<(u32, BoxedStrategy<ILeaf>)> = vec![
        (3, (cmp(), st()).prop_map(|(c, s)| ILeaf::Status(c, s)).boxed()),
        (
            1,
            (any::<bool>(), subsequence(vec![St::A, St::B], 0..=2))
                .prop_map(|(not, of)| ILeaf::StatusIn { not, of })
                .boxed(),
        ),
        (3, (num(), 0i64..=5).prop_map(|(o, n)| ILeaf::Level(o, n)).boxed()),
        (2, (cmp(), title_str()).prop_map(|(c, s)| ILeaf::Title(c, s)).boxed()),
        (3, (cmp(), org_str()).prop_map(|(c, s)| ILeaf::Org(c, s)).boxed()),
        (
            1,
            (any::<bool>(), proptest::collection::vec(org_str(), 0..=2))
                .prop_map(|(not, of)| ILeaf::OrgIn { not, of })
                .boxed(),
        ),
        (1, any::<bool>().prop_map(ILeaf::OrgIsNull).boxed()),
    ];
    if let Some(o) = sh.item_owner {
        let key: &'static str = if o == "owner" { "ownerId" } else { "authorId" };
        arms.push((2, cmp().prop_map(move |cmp| ILeaf::Owner { key, cmp }).boxed()));
        arms.push((1, any::<bool>().prop_map(move |null| ILeaf::OwnerIsNull { key, null }).boxed()));
    }
    if depth > 0 {
        let quant = select(vec![Quant::Some, Quant::None, Quant::Every]);
        let inner = cond(tleaf(sh, depth - 1));
        arms.push((1, (quant, inner).prop_map(|(q, c)| ILeaf::Tags(q, Box::new(c))).boxed()));
    }
    Union::new_weighted(arms).boxed()
}

/// Leaves on `Tag`; `depth` levels of relations (`item: { ... }`) below.
fn tleaf(sh: Shape, depth: u32) -> BoxedStrategy<TLeaf> {
    let mut arms: Vec<(u32, BoxedStrategy<TLeaf>)> = vec![
        (2, (cmp(), select(LABELS.to_vec())).prop_map(|(c, l)| TLeaf::Label(c, Str::Lit(l))).boxed()),
        (
            1,
            (any::<bool>(), subsequence(LABELS.to_vec(), 0..=2))
                .prop_map(|(not, of)| TLeaf::LabelIn { not, of })
                .boxed(),
        ),
    ];
    if sh.tag_owner {
        arms.push((2, cmp().prop_map(TLeaf::Owner).boxed()));
        arms.push((1, any::<bool>().prop_map(TLeaf::OwnerIsNull).boxed()));
    }
    if depth > 0 {
        arms.push((3, cond(ileaf(sh, depth - 1)).prop_map(|c| TLeaf::Item(Box::new(c))).boxed()));
    }
    Union::new_weighted(arms).boxed()
}

fn ops() -> impl Strategy<Value = Option<Vec<Op>>> {
    let all = vec![Op::Create, Op::Read, Op::Update, Op::Delete];
    prop_oneof![
        1 => Just(None),
        2 => select(all.clone()).prop_map(|op| Some(vec![op])),
        2 => subsequence(all, 1..=4).prop_map(Some),
    ]
}

fn allow(owner: bool) -> BoxedStrategy<Allow> {
    let roles = (subsequence(ROLES.to_vec(), 1..=2), any::<bool>())
        .prop_map(|(roles, groups)| Allow::Roles { roles, groups })
        .boxed();
    if owner {
        prop_oneof![1 => Just(Allow::Public), 2 => Just(Allow::Private), 3 => Just(Allow::Owner), 3 => roles].boxed()
    } else {
        prop_oneof![1 => Just(Allow::Public), 2 => Just(Allow::Private), 3 => roles].boxed()
    }
}

fn rules<L: std::fmt::Debug + Clone + 'static>(
    owner: bool,
    conds: BoxedStrategy<Cond<L>>,
) -> BoxedStrategy<Option<Vec<Rule<L>>>> {
    let rule = (allow(owner), ops(), proptest::option::weighted(0.7, conds)).prop_map(|(allow, ops, cond)| Rule {
        allow,
        ops,
        cond,
    });
    proptest::option::weighted(0.9, proptest::collection::vec(rule, 1..=3)).boxed()
}

fn fields() -> impl Strategy<Value = Fields> {
    (select(TITLES.to_vec()), st(), 0i64..=5, proptest::option::of(select(ROW_ORGS.to_vec())))
        .prop_map(|(title, status, level, org)| Fields { title, status, level, org })
}

fn owner_arg() -> impl Strategy<Value = OwnerArg> {
    prop_oneof![2 => Just(OwnerArg::Me), 2 => (0..4usize).prop_map(OwnerArg::User), 1 => Just(OwnerArg::Null)]
}

fn patch() -> impl Strategy<Value = Patch> {
    (
        proptest::option::weighted(0.3, select(TITLES.to_vec())),
        proptest::option::weighted(0.4, st()),
        proptest::option::weighted(0.4, 0i64..=5),
        proptest::option::weighted(0.3, proptest::option::of(select(ROW_ORGS.to_vec()))),
        proptest::option::weighted(0.2, owner_arg()),
    )
        .prop_map(|(title, status, level, org, owner)| Patch { title, status, level, org, owner })
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let kind = prop_oneof![
        3 => (fields(), proptest::option::weighted(0.4, owner_arg())).prop_map(|(f, o)| Mut::CreateItem(f, o)),
        5 => (0..32usize, patch()).prop_map(|(r, p)| Mut::UpdateItem(r, p)),
        3 => (0..32usize).prop_map(Mut::DeleteItem),
        2 => (select(LABELS.to_vec()), 0..16usize, proptest::option::weighted(0.3, owner_arg()))
            .prop_map(|(l, i, o)| Mut::CreateTag(l, i, o)),
        1 => (0..16usize).prop_map(Mut::DeleteTag),
    ];
    (0..8usize, kind).prop_map(|(caller, kind)| Mutation { caller, kind })
}

fn user_spec() -> impl Strategy<Value = UserSpec> {
    (
        subsequence(ROLES.to_vec(), 0..=2),
        proptest::bool::weighted(0.08),
        proptest::option::of(select(CLAIM_ORGS.to_vec())),
    )
        .prop_map(|(roles, admin, org)| UserSpec { roles, admin, org })
}

/// Decides the owner fields first (conditions and rules depend on them), then everything else.
fn case() -> impl Strategy<Value = Case> {
    let shape = (
        proptest::option::weighted(0.7, select(vec!["owner", "owner", "author"])),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    );
    shape.prop_flat_map(|(item_owner, item_declared, tag_owner, tag_declared)| {
        let sh = Shape { item_owner, tag_owner };
        let item_rules = rules(item_owner.is_some(), cond(ileaf(sh, 1)));
        let tag_rules = rules(tag_owner, cond(tleaf(sh, 1)));
        let rows = (
            proptest::collection::vec(user_spec(), 3..=4),
            proptest::collection::vec(
                (fields(), proptest::option::weighted(0.8, 0..4usize))
                    .prop_map(|(fields, owner)| ItemRow { fields, owner }),
                2..=7,
            ),
            proptest::collection::vec(
                (select(LABELS.to_vec()), 0..16usize, proptest::option::of(0..4usize))
                    .prop_map(|(label, item, owner)| TagRow { label, item, owner }),
                0..=6,
            ),
        );
        let checks = (
            proptest::collection::vec(cond(ileaf(sh, 2)), 3),
            (0i64..=5, proptest::collection::vec(cond(tleaf(sh, 2)), 2)),
            proptest::collection::vec(mutation(), 8..=16),
        );
        (item_rules, tag_rules, rows, checks).prop_map(
            move |(
                item_rules,
                tag_rules,
                (users, items, tags),
                (item_filters, (level, mut tag_filters), mutations),
            )| {
                // One relation filter of the fixed shape `{item: {level: {gte: N}}}`.
                tag_filters.insert(0, Cond::Leaf(TLeaf::Item(Box::new(Cond::Leaf(ILeaf::Level(Num::Gte, level))))));
                let mut item = ModelSpec { rules: item_rules, owner: item_owner, declared: item_declared };
                item.declared = item.owner.is_some() && (item.declared || !item.managed());
                let mut tag =
                    ModelSpec { rules: tag_rules, owner: tag_owner.then_some("owner"), declared: tag_declared };
                tag.declared = tag.owner.is_some() && (tag.declared || !tag.managed());
                Case { item, tag, users, items, tags, item_filters, tag_filters, mutations }
            },
        )
    })
}

// ---------------------------------------------------------------------------------------------
// SDL and filter text.

fn quoted(s: &str) -> String {
    serde_json::to_string(s).expect("string")
}

fn join(items: impl IntoIterator<Item = String>) -> String {
    items.into_iter().collect::<Vec<_>>().join(", ")
}

trait Leaf {
    fn render(&self) -> String;
}

impl<L: Leaf> Cond<L> {
    fn render(&self) -> String {
        match self {
            Cond::Leaf(l) => l.render(),
            Cond::And(v) => format!("{{and: [{}]}}", join(v.iter().map(Cond::render))),
            Cond::Or(v) => format!("{{or: [{}]}}", join(v.iter().map(Cond::render))),
            Cond::Not(c) => format!("{{not: {}}}", c.render()),
        }
    }
}

fn cmp_name(c: Cmp) -> &'static str {
    match c {
        Cmp::Eq => "eq",
        Cmp::Ne => "ne",
    }
}

fn in_name(not: bool) -> &'static str {
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

fn auth<L: Leaf>(spec: &ModelSpec<L>) -> String {
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

fn sdl(case: &Case) -> String {
    let mut s = String::from("enum Status {\n  A\n  B\n}\n\n");
    let _ = writeln!(s, "type Item @model{} {{", auth(&case.item));
    s.push_str("  title: String!\n  status: Status!\n  level: Int!\n  org: String\n");
    if let (true, Some(o)) = (case.item.declared, case.item.owner) {
        let _ = writeln!(s, "  {o}: User @belongsTo");
    }
    s.push_str("  tags: [Tag!]! @hasMany\n}\n\n");
    let _ = writeln!(s, "type Tag @model{} {{", auth(&case.tag));
    s.push_str("  label: String!\n  item: Item! @belongsTo(onDelete: CASCADE)\n");
    if case.tag.declared {
        s.push_str("  owner: User @belongsTo\n");
    }
    s.push_str("}\n");
    s
}

// ---------------------------------------------------------------------------------------------
// The reference model.

/// Who sends a request.
#[derive(Clone, Debug)]
struct Caller {
    name: String,
    token: Option<String>,
    /// The user's id (none for anonymous callers and the service key).
    id: Option<String>,
    email: Option<String>,
    roles: Vec<&'static str>,
    org: Option<&'static str>,
    /// The service key, or a user holding role `admin`.
    admin: bool,
}

impl Caller {
    /// The code of a root operation no rule lets this caller attempt.
    fn denied(&self) -> &'static str {
        if self.id.is_none() { UNAUTHENTICATED } else { FORBIDDEN }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Item {
    title: String,
    status: St,
    level: i64,
    org: Option<String>,
    owner: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Tag {
    label: String,
    item: String,
    owner: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct State {
    items: BTreeMap<String, Item>,
    tags: BTreeMap<String, Tag>,
}

fn applies(allow: &Allow, c: &Caller) -> bool {
    match allow {
        Allow::Public => true,
        Allow::Private | Allow::Owner => c.id.is_some(),
        Allow::Roles { roles, .. } => c.id.is_some() && c.roles.iter().any(|r| roles.contains(r)),
    }
}

/// Whether some rule for `op` lets this caller at the model at all (else the root operation
/// is refused outright).
fn root_ok<L>(spec: &ModelSpec<L>, c: &Caller, op: Op) -> bool {
    c.admin || spec.rules.iter().flatten().any(|r| r.covers(op) && applies(&r.allow, c))
}

/// Rules ORed, the parts of one rule ANDed, admin passes, no `@auth` is admin only.
fn may<L>(spec: &ModelSpec<L>, c: &Caller, op: Op, owner: Option<&str>, eval: impl Fn(&Cond<L>) -> bool) -> bool {
    c.admin
        || spec.rules.iter().flatten().any(|r| {
            r.covers(op)
                && applies(&r.allow, c)
                && (!matches!(r.allow, Allow::Owner) || (c.id.is_some() && owner == c.id.as_deref()))
                && r.cond.as_ref().is_none_or(&eval)
        })
}

/// A string operand's value: placeholders resolve inside rules (`None`: the caller has no such
/// value) and are plain text in client filters.
fn resolve(s: Str, c: &Caller, rule: bool) -> Option<String> {
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
fn compare(v: Option<&str>, cmp: Cmp, operand: Option<String>) -> bool {
    match (v, operand) {
        (Some(v), Some(x)) => (v == x) == (cmp == Cmp::Eq),
        _ => false,
    }
}

/// `in` / `notIn`. Items that are missing placeholders never match: they drop out of `in`, and
/// make `notIn` (a conjunction of `ne`s) match nothing, as `ne` does.
fn in_list(v: Option<&str>, not: bool, of: Vec<Option<String>>) -> bool {
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

struct Model<'a> {
    case: &'a Case,
    st: &'a State,
}

impl Model<'_> {
    fn item_may(&self, c: &Caller, op: Op, id: &str, it: &Item) -> bool {
        may(&self.case.item, c, op, it.owner.as_deref(), |cond| self.eval_i(cond, id, it, c, true))
    }

    fn tag_may(&self, c: &Caller, op: Op, tg: &Tag) -> bool {
        may(&self.case.tag, c, op, tg.owner.as_deref(), |cond| self.eval_t(cond, tg, c, true))
    }

    fn item_readable(&self, c: &Caller, id: &str) -> bool {
        self.st.items.get(id).is_some_and(|it| self.item_may(c, Op::Read, id, it))
    }

    fn eval_i(&self, cond: &Cond<ILeaf>, id: &str, it: &Item, c: &Caller, rule: bool) -> bool {
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
            },
        }
    }

    fn eval_t(&self, cond: &Cond<TLeaf>, tg: &Tag, c: &Caller, rule: bool) -> bool {
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
    fn items_readable(&self, c: &Caller) -> Result<BTreeSet<String>, &'static str> {
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

    fn tags_readable(&self, c: &Caller) -> Result<BTreeSet<String>, &'static str> {
        if !root_ok(&self.case.tag, c, Op::Read) {
            return Err(c.denied());
        }
        Ok(self.st.tags.iter().filter(|(_, t)| self.tag_may(c, Op::Read, t)).map(|(id, _)| id.clone()).collect())
    }
}

/// What a write should do.
#[derive(Clone, Debug, PartialEq)]
enum Expect {
    Ok,
    /// Refused with one of these codes, nothing written.
    Refused(Vec<&'static str>),
}

fn refused(code: &'static str) -> Expect {
    Expect::Refused(vec![code])
}

/// The `ownerId` a write sends, if any (`Some(None)`: null). `Me` for a caller without a user
/// id (anonymous, the service key) sends nothing.
fn owner_value(arg: Option<OwnerArg>, c: &Caller, user_ids: &[String]) -> Option<Option<String>> {
    match arg? {
        OwnerArg::Me => c.id.clone().map(Some),
        OwnerArg::User(i) => Some(Some(user_ids[i % user_ids.len()].clone())),
        OwnerArg::Null => Some(None),
    }
}

/// Create: the row as written (the owner is the caller's for non-admin callers when owner rules
/// manage it; admin may set any owner, a user holding `admin` owns the row by default), and
/// whether a create rule accepts it.
fn expect_create<L>(
    spec: &ModelSpec<L>,
    c: &Caller,
    sent_owner: Option<Option<String>>,
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
    if !root_ok(spec, c, Op::Create) {
        return (refused(c.denied()), owner);
    }
    if accepts(owner.clone()) { (Expect::Ok, owner) } else { (refused(FORBIDDEN), owner) }
}

// ---------------------------------------------------------------------------------------------
// Running a case.

struct Run<'a> {
    s: &'a TestServer,
    case: &'a Case,
    callers: Vec<Caller>,
    user_ids: Vec<String>,
    /// Every item id ever created, in order (deleted ones stay: they must read as missing).
    item_ids: Vec<String>,
    st: State,
    checks: u64,
    failures: Vec<String>,
}

fn codes(r: &Value) -> Vec<String> {
    r["errors"]
        .as_array()
        .map(|errs| errs.iter().map(|e| e["extensions"]["code"].as_str().unwrap_or("<no code>").to_string()).collect())
        .unwrap_or_default()
}

fn ids(v: &Value) -> Option<Vec<String>> {
    v.as_array()?.iter().map(|n| n["id"].as_str().map(str::to_string)).collect()
}

fn show_expected<T: std::fmt::Debug>(e: &Result<T, &str>) -> String {
    match e {
        Ok(v) => format!("{v:?}"),
        Err(code) => format!("refused with {code}"),
    }
}

impl<'a> Run<'a> {
    fn model(&self) -> Model<'_> {
        Model { case: self.case, st: &self.st }
    }

    fn check(&mut self, ok: bool, c: &Caller, op: &str, expected: impl FnOnce() -> String, actual: &Value) {
        self.checks += 1;
        if !ok {
            self.failures.push(format!(
                "caller: {}\n  operation: {op}\n  expected: {}\n  actual: {actual}",
                c.name,
                expected()
            ));
        }
    }

    async fn gql(&self, c: &Caller, q: &str, vars: Value) -> Value {
        self.s.gql_as(c.token.as_deref(), q, vars).await
    }

    async fn admin(&self, q: &str, vars: Value) -> Value {
        self.s.data(q, vars).await
    }

    /// A list query's answer: the node ids and totalCount, or the refusal code.
    fn list_matches(r: &Value, field: &str, expected: &Result<BTreeSet<String>, &str>) -> bool {
        match expected {
            Err(code) => codes(r).first().map(String::as_str) == Some(*code) && r["data"][field].is_null(),
            Ok(set) => {
                let nodes = ids(&r["data"][field]["nodes"]);
                r.get("errors").is_none()
                    && r["data"][field]["totalCount"].as_u64() == Some(set.len() as u64)
                    && nodes.is_some_and(|n| n.len() == set.len() && n.into_iter().collect::<BTreeSet<_>>() == *set)
            }
        }
    }

    async fn reads(&mut self, c: &Caller) {
        // Lists and totalCount.
        let q = "{ items(first: 100) { totalCount nodes { id } } }";
        let expected = self.model().items_readable(c);
        let r = self.gql(c, q, json!({})).await;
        self.check(Self::list_matches(&r, "items", &expected), c, q, || show_expected(&expected), &r);

        // A first page of two: the first readable rows in id order, and whether more follow.
        let q = "{ items(first: 2) { pageInfo { hasNextPage } nodes { id } } }";
        let expected = self.model().items_readable(c).map(|set| (set.iter().take(2).cloned().collect(), set.len() > 2));
        let r = self.gql(c, q, json!({})).await;
        let ok = match &expected {
            Err(code) => codes(&r).first().map(String::as_str) == Some(*code),
            Ok((first, more)) => {
                r.get("errors").is_none()
                    && ids(&r["data"]["items"]["nodes"]).as_ref() == Some(first)
                    && r["data"]["items"]["pageInfo"]["hasNextPage"].as_bool() == Some(*more)
            }
        };
        self.check(ok, c, q, || show_expected::<(Vec<String>, bool)>(&expected), &r);

        // Single reads: null exactly when not readable (deleted rows too).
        let q = "query($id: ID!) { item(id: $id) { id } }";
        for id in self.item_ids.clone() {
            let root = root_ok(&self.case.item, c, Op::Read);
            let readable = self.model().item_readable(c, &id);
            let r = self.gql(c, q, json!({ "id": id })).await;
            let ok = if !root {
                codes(&r).first().map(String::as_str) == Some(c.denied()) && r["data"]["item"].is_null()
            } else if readable {
                r.get("errors").is_none() && r["data"]["item"]["id"] == id.as_str()
            } else {
                r.get("errors").is_none() && r["data"]["item"].is_null()
            };
            let expected = || match (root, readable) {
                (false, _) => format!("refused with {}", c.denied()),
                (true, true) => format!("the row {id}"),
                (true, false) => "null, no error".into(),
            };
            self.check(ok, c, &format!("{q} with id {id}"), expected, &r);
        }

        // Client filters: the readable rows matching the filter; placeholders are plain text.
        for f in self.case.item_filters.clone() {
            let q = format!("{{ items(first: 100, filter: {}) {{ totalCount nodes {{ id }} }} }}", f.render());
            let expected = self.model().items_readable(c).map(|set| {
                let m = self.model();
                set.into_iter().filter(|id| m.eval_i(&f, id, &self.st.items[id], c, false)).collect()
            });
            let r = self.gql(c, &q, json!({})).await;
            self.check(Self::list_matches(&r, "items", &expected), c, &q, || show_expected(&expected), &r);
        }

        // Tags with their item: an unreadable item is null with a FORBIDDEN error at its path.
        let q = "{ tags(first: 100) { totalCount nodes { id item { id } } } }";
        let expected = self.model().tags_readable(c);
        let r = self.gql(c, q, json!({})).await;
        let ok = match &expected {
            Err(code) => codes(&r).first().map(String::as_str) == Some(*code) && r["data"]["tags"].is_null(),
            Ok(set) => {
                let nodes = r["data"]["tags"]["nodes"].as_array().cloned().unwrap_or_default();
                let got: BTreeSet<String> = nodes.iter().filter_map(|n| n["id"].as_str().map(str::to_string)).collect();
                let mut ok = got == *set
                    && nodes.len() == set.len()
                    && r["data"]["tags"]["totalCount"].as_u64() == Some(set.len() as u64);
                let mut forbidden = 0;
                for (i, n) in nodes.iter().enumerate() {
                    let Some(tag) = n["id"].as_str().and_then(|id| self.st.tags.get(id)) else {
                        ok = false;
                        continue;
                    };
                    if self.model().item_readable(c, &tag.item) {
                        ok &= n["item"]["id"] == tag.item.as_str();
                    } else {
                        forbidden += 1;
                        ok &= n["item"].is_null();
                        let path = json!(["tags", "nodes", i, "item"]);
                        ok &= r["errors"].as_array().is_some_and(|errs| {
                            errs.iter().any(|e| e["path"] == path && e["extensions"]["code"] == FORBIDDEN)
                        });
                    }
                }
                ok && codes(&r).len() == forbidden && codes(&r).iter().all(|c| c == FORBIDDEN)
            }
        };
        let expected_text = match &expected {
            _ if ok => String::new(),
            Err(code) => format!("refused with {code}"),
            Ok(set) => {
                let m = self.model();
                let rows = set.iter().map(|t| {
                    let item = &self.st.tags[t].item;
                    let shown = if m.item_readable(c, item) { item.clone() } else { "null + FORBIDDEN".into() };
                    format!("{t} -> item {shown}")
                });
                format!("[{}]", join(rows))
            }
        };
        self.check(ok, c, q, || expected_text, &r);

        // Relation filters count only tags whose item is readable and matches.
        for f in self.case.tag_filters.clone() {
            let q = format!("{{ tags(first: 100, filter: {}) {{ totalCount nodes {{ id }} }} }}", f.render());
            let expected = self.model().tags_readable(c).map(|set| {
                let m = self.model();
                set.into_iter().filter(|id| m.eval_t(&f, &self.st.tags[id], c, false)).collect()
            });
            let r = self.gql(c, &q, json!({})).await;
            self.check(Self::list_matches(&r, "tags", &expected), c, &q, || show_expected(&expected), &r);
        }

        // Nested hasMany, unfiltered and filtered: each readable item's readable (matching) tags.
        let filters = [None, self.case.tag_filters.last().cloned()];
        for f in filters {
            let arg = f.as_ref().map(|f| format!(", filter: {}", f.render())).unwrap_or_default();
            let q = format!(
                "{{ items(first: 100) {{ nodes {{ id tags(first: 100{arg}) {{ totalCount nodes {{ id }} }} }} }} }}"
            );
            let expected: Result<BTreeMap<String, BTreeSet<String>>, &str> =
                self.model().items_readable(c).map(|set| {
                    let m = self.model();
                    let wanted =
                        |t: &Tag| m.tag_may(c, Op::Read, t) && f.as_ref().is_none_or(|f| m.eval_t(f, t, c, false));
                    set.into_iter()
                        .map(|id| {
                            let tags = self.st.tags.iter().filter(|(_, t)| t.item == id && wanted(t));
                            let tags = tags.map(|(tid, _)| tid.clone()).collect();
                            (id, tags)
                        })
                        .collect()
                });
            let r = self.gql(c, &q, json!({})).await;
            let ok = match &expected {
                Err(code) => codes(&r).first().map(String::as_str) == Some(*code),
                Ok(map) => {
                    let nodes = r["data"]["items"]["nodes"].as_array().cloned().unwrap_or_default();
                    r.get("errors").is_none()
                        && nodes.len() == map.len()
                        && nodes.iter().all(|n| {
                            let want = n["id"].as_str().and_then(|id| map.get(id));
                            let got = ids(&n["tags"]["nodes"]).map(|v| v.into_iter().collect::<BTreeSet<_>>());
                            want.is_some_and(|w| {
                                got.as_ref() == Some(w) && n["tags"]["totalCount"].as_u64() == Some(w.len() as u64)
                            })
                        })
                }
            };
            self.check(ok, c, &q, || show_expected(&expected), &r);
        }
    }

    /// Everything, as admin sees it.
    async fn server_state(&self) -> State {
        let io = self.case.item.owner_key().map(|k| format!(" {k}")).unwrap_or_default();
        let to = if self.case.tag.owner.is_some() { " ownerId" } else { "" };
        let q = format!(
            "{{ items(first: 100) {{ nodes {{ id title status level org{io} }} }} \
             tags(first: 100) {{ nodes {{ id label itemId{to} }} }} }}"
        );
        let d = self.admin(&q, json!({})).await;
        let text = |v: &Value| v.as_str().map(str::to_string);
        let mut st = State::default();
        for n in d["items"]["nodes"].as_array().expect("items") {
            let owner = self.case.item.owner_key().and_then(|k| text(&n[k]));
            let item = Item {
                title: text(&n["title"]).expect("title"),
                status: if n["status"] == "A" { St::A } else { St::B },
                level: n["level"].as_i64().expect("level"),
                org: text(&n["org"]),
                owner,
            };
            st.items.insert(text(&n["id"]).expect("id"), item);
        }
        for n in d["tags"]["nodes"].as_array().expect("tags") {
            let tag = Tag {
                label: text(&n["label"]).expect("label"),
                item: text(&n["itemId"]).expect("itemId"),
                owner: text(&n["ownerId"]),
            };
            st.tags.insert(text(&n["id"]).expect("id"), tag);
        }
        st
    }

    fn caller(&self, i: usize) -> Caller {
        self.callers[i % self.callers.len()].clone()
    }

    /// One write: its outcome against the reference, then the whole data set as admin sees it
    /// (a refused write changed nothing; an accepted one wrote exactly the row expected).
    async fn write(&mut self, m: &Mutation) {
        let c = self.caller(m.caller);
        let item_key = self.case.item.owner_key();
        let mut next = self.st.clone();
        let (op, expect, field) = match &m.kind {
            Mut::CreateItem(f, arg) => {
                let sent = item_key.as_ref().and_then(|_| owner_value(*arg, &c, &self.user_ids));
                let item = |owner| Item {
                    title: f.title.into(),
                    status: f.status,
                    level: f.level,
                    org: f.org.map(str::to_string),
                    owner,
                };
                let m = self.model();
                let (expect, owner) = expect_create(&self.case.item, &c, sent.clone(), |owner| {
                    m.item_may(&c, Op::Create, "", &item(owner))
                });
                let mut input = format!(
                    "title: {}, status: {}, level: {}, org: {}",
                    quoted(f.title),
                    f.status.name(),
                    f.level,
                    f.org.map(quoted).unwrap_or("null".into())
                );
                if let (Some(k), Some(v)) = (&item_key, &sent) {
                    let _ = write!(input, ", {k}: {}", v.as_deref().map(quoted).unwrap_or("null".into()));
                }
                next.items.insert(String::new(), item(owner));
                (format!("mutation {{ createItem(input: {{{input}}}) {{ id }} }}"), expect, "createItem")
            }
            Mut::UpdateItem(row, p) => {
                let id = self.item_ids[row % self.item_ids.len()].clone();
                let sent = item_key.as_ref().and_then(|_| owner_value(p.owner, &c, &self.user_ids));
                let before = self.st.items.get(&id).cloned();
                let mut parts = Vec::new();
                let mut after = before.clone();
                if let Some(t) = p.title {
                    parts.push(format!("title: {}", quoted(t)));
                    after.iter_mut().for_each(|a| a.title = t.into());
                }
                if let Some(s) = p.status {
                    parts.push(format!("status: {}", s.name()));
                    after.iter_mut().for_each(|a| a.status = s);
                }
                if let Some(l) = p.level {
                    parts.push(format!("level: {l}"));
                    after.iter_mut().for_each(|a| a.level = l);
                }
                if let Some(o) = p.org {
                    parts.push(format!("org: {}", o.map(quoted).unwrap_or("null".into())));
                    after.iter_mut().for_each(|a| a.org = o.map(str::to_string));
                }
                if let (Some(k), Some(v)) = (&item_key, &sent) {
                    parts.push(format!("{k}: {}", v.as_deref().map(quoted).unwrap_or("null".into())));
                    after.iter_mut().for_each(|a| a.owner = v.clone());
                }
                let m = self.model();
                let readable = m.item_readable(&c, &id);
                let expect = if c.admin {
                    if before.is_some() { Expect::Ok } else { refused(NOT_FOUND) }
                } else if self.case.item.managed() && sent.is_some() {
                    // Only admin may reassign the owner (not taken by others, nor given away).
                    Expect::Refused(vec![FORBIDDEN, NOT_FOUND, UNAUTHENTICATED])
                } else if !root_ok(&self.case.item, &c, Op::Update) {
                    refused(c.denied())
                } else if let (Some(b), Some(a)) = (&before, &after) {
                    if !m.item_may(&c, Op::Update, &id, b) {
                        refused(if readable { FORBIDDEN } else { NOT_FOUND })
                    } else if !m.item_may(&c, Op::Update, &id, a) {
                        refused(FORBIDDEN)
                    } else {
                        Expect::Ok
                    }
                } else {
                    refused(NOT_FOUND)
                };
                if let Some(a) = after {
                    next.items.insert(id.clone(), a);
                }
                let q = format!("mutation {{ updateItem(id: {}, input: {{{}}}) {{ id }} }}", quoted(&id), join(parts));
                (q, expect, "updateItem")
            }
            Mut::DeleteItem(row) => {
                let id = self.item_ids[row % self.item_ids.len()].clone();
                let m = self.model();
                let expect = match self.st.items.get(&id) {
                    _ if !c.admin && !root_ok(&self.case.item, &c, Op::Delete) => refused(c.denied()),
                    None => refused(NOT_FOUND),
                    Some(it) if m.item_may(&c, Op::Delete, &id, it) => Expect::Ok,
                    Some(_) => refused(if m.item_readable(&c, &id) { FORBIDDEN } else { NOT_FOUND }),
                };
                next.items.remove(&id);
                next.tags.retain(|_, t| t.item != id);
                (format!("mutation {{ deleteItem(id: {}) {{ id }} }}", quoted(&id)), expect, "deleteItem")
            }
            Mut::CreateTag(label, item, arg) => {
                let live: Vec<&String> = self.st.items.keys().collect();
                if live.is_empty() {
                    return;
                }
                let item_id = live[item % live.len()].clone();
                let sent = self.case.tag.owner.and_then(|_| owner_value(*arg, &c, &self.user_ids));
                let tag = |owner| Tag { label: label.to_string(), item: item_id.clone(), owner };
                let m = self.model();
                let (expect, owner) =
                    expect_create(&self.case.tag, &c, sent.clone(), |owner| m.tag_may(&c, Op::Create, &tag(owner)));
                let mut input = format!("label: {}, itemId: {}", quoted(label), quoted(&item_id));
                if let (Some(_), Some(v)) = (self.case.tag.owner, &sent) {
                    let _ = write!(input, ", ownerId: {}", v.as_deref().map(quoted).unwrap_or("null".into()));
                }
                next.tags.insert(String::new(), tag(owner));
                (format!("mutation {{ createTag(input: {{{input}}}) {{ id }} }}"), expect, "createTag")
            }
            Mut::DeleteTag(row) => {
                let all: Vec<&String> = self.st.tags.keys().collect();
                if all.is_empty() {
                    return;
                }
                let id = all[row % all.len()].clone();
                let m = self.model();
                let tag = &self.st.tags[&id];
                let expect = if c.admin || m.tag_may(&c, Op::Delete, tag) {
                    Expect::Ok
                } else if !root_ok(&self.case.tag, &c, Op::Delete) {
                    refused(c.denied())
                } else if m.tag_may(&c, Op::Read, tag) {
                    refused(FORBIDDEN)
                } else {
                    refused(NOT_FOUND)
                };
                next.tags.remove(&id);
                (format!("mutation {{ deleteTag(id: {}) {{ id }} }}", quoted(&id)), expect, "deleteTag")
            }
        };
        let r = self.gql(&c, &op, json!({})).await;
        let got_codes = codes(&r);
        let ok = match &expect {
            Expect::Ok => r.get("errors").is_none() && r["data"][field]["id"].is_string(),
            Expect::Refused(allowed) => {
                got_codes.len() == 1 && allowed.iter().any(|a| *a == got_codes[0]) && r["data"].is_null()
            }
        };
        self.check(ok, &c, &op, || format!("{expect:?}"), &r);

        // The data afterwards, as admin sees it.
        let now = self.server_state().await;
        if ok {
            let new_id = r["data"][field]["id"].as_str().unwrap_or_default().to_string();
            let mut want = if expect == Expect::Ok { next } else { self.st.clone() };
            if let Some(row) = want.items.remove("") {
                want.items.insert(new_id.clone(), row);
            }
            if let Some(row) = want.tags.remove("") {
                want.tags.insert(new_id.clone(), row);
            }
            let same = now == want;
            let shown = json!(format!("{now:?}"));
            self.check(same, &c, &format!("{op} (then the data as admin reads it)"), || format!("{want:?}"), &shown);
        }
        if field == "createItem"
            && let Some(id) = r["data"][field]["id"].as_str()
        {
            self.item_ids.push(id.to_string());
        }
        self.st = now;
    }
}

async fn sign_in(s: &TestServer, email: &str) -> String {
    let q = "mutation($e: String!, $p: String!) { signIn(email: $e, password: $p) { accessToken } }";
    let r = s.gql_as(None, q, json!({ "e": email, "p": PASSWORD })).await;
    r["data"]["signIn"]["accessToken"].as_str().unwrap_or_else(|| panic!("signIn: {r}")).to_string()
}

/// Runs one case on a fresh server: the number of checks, and the failure report if any failed.
async fn run_case(backend: TestBackend, case: &Case) -> (u64, Result<(), String>) {
    let sdl = sdl(case);
    let s = TestServer::start_with(backend, &sdl, |c| {
        c.auth_rate_limit_per_ip = 0;
        c.auth_rate_limit_per_account = 0;
    })
    .await;

    // Users: sign up, get roles and claims as admin, sign in again for a token carrying them.
    let mut callers = vec![Caller {
        name: "anonymous".into(),
        token: None,
        id: None,
        email: None,
        roles: vec![],
        org: None,
        admin: false,
    }];
    let mut user_ids = Vec::new();
    for (i, u) in case.users.iter().enumerate() {
        let email = format!("u{i}@example.com");
        let r = s
            .gql_as(
                None,
                "mutation($e: String!, $p: String!) { signUp(input: {email: $e, password: $p}) { accessToken user { id } } }",
                json!({ "e": email, "p": PASSWORD }),
            )
            .await;
        let id = r["data"]["signUp"]["user"]["id"].as_str().unwrap_or_else(|| panic!("signUp: {r}")).to_string();
        let mut token = r["data"]["signUp"]["accessToken"].as_str().expect("token").to_string();
        let mut roles = u.roles.clone();
        if u.admin {
            roles.push("admin");
        }
        if !roles.is_empty() {
            s.data(
                "mutation($u: ID!, $r: [String!]!) { setUserRoles(userId: $u, roles: $r) { id } }",
                json!({ "u": id, "r": roles }),
            )
            .await;
        }
        if let Some(org) = u.org {
            s.data(
                "mutation($u: ID!, $c: JSON!) { setUserClaims(userId: $u, claims: $c) { id } }",
                json!({ "u": id, "c": { "org": org } }),
            )
            .await;
        }
        if !roles.is_empty() || u.org.is_some() {
            token = sign_in(&s, &email).await;
        }
        callers.push(Caller {
            name: format!("u{i} (roles {roles:?}, org claim {:?})", u.org),
            token: Some(token),
            id: Some(id.clone()),
            email: Some(email),
            roles: u.roles.clone(),
            org: u.org,
            admin: u.admin,
        });
        user_ids.push(id);
    }
    callers.push(Caller {
        name: "admin (service key)".into(),
        token: Some(s.key.clone()),
        id: None,
        email: None,
        roles: vec![],
        org: None,
        admin: true,
    });

    // Rows, as admin.
    let mut item_ids = Vec::new();
    for row in &case.items {
        let f = &row.fields;
        let mut input = format!(
            "title: {}, status: {}, level: {}, org: {}",
            quoted(f.title),
            f.status.name(),
            f.level,
            f.org.map(quoted).unwrap_or("null".into())
        );
        if let (Some(k), Some(o)) = (case.item.owner_key(), row.owner) {
            let _ = write!(input, ", {k}: {}", quoted(&user_ids[o % user_ids.len()]));
        }
        let d = s.data(&format!("mutation {{ createItem(input: {{{input}}}) {{ id }} }}"), json!({})).await;
        item_ids.push(d["createItem"]["id"].as_str().expect("id").to_string());
    }
    for t in &case.tags {
        let mut input = format!("label: {}, itemId: {}", quoted(t.label), quoted(&item_ids[t.item % item_ids.len()]));
        if let (Some(_), Some(o)) = (case.tag.owner, t.owner) {
            let _ = write!(input, ", ownerId: {}", quoted(&user_ids[o % user_ids.len()]));
        }
        s.data(&format!("mutation {{ createTag(input: {{{input}}}) {{ id }} }}"), json!({})).await;
    }

    let mut run =
        Run { s: &s, case, callers, user_ids, item_ids, st: State::default(), checks: 0, failures: Vec::new() };
    run.st = run.server_state().await;
    let seeded = run.st.clone();

    for c in run.callers.clone() {
        run.reads(&c).await;
    }
    for m in &case.mutations {
        run.write(m).await;
    }
    for c in run.callers.clone() {
        run.reads(&c).await;
    }

    let result = if run.failures.is_empty() {
        Ok(())
    } else {
        let mut report = format!(
            "{} of {} checks failed on {backend:?}\n--- SDL ---\n{sdl}--- users ---\n",
            run.failures.len(),
            run.checks
        );
        for c in &run.callers[1..run.callers.len() - 1] {
            let _ = writeln!(report, "{} = {}", c.name, c.id.as_deref().unwrap_or_default());
        }
        let _ = writeln!(report, "--- rows as seeded ---\n{seeded:#?}\n--- failures ---");
        for f in run.failures.iter().take(12) {
            let _ = writeln!(report, "{f}\n");
        }
        Err(report)
    };
    let checks = run.checks;
    s.finish().await;
    (checks, result)
}

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

/// One proptest run per backend with a fixed seed; a failure shrinks (bounded in iterations and
/// time), the other backends still run, and the test fails at the end with every report.
#[test]
fn rules_hold_for_random_rules_users_rows_and_operations() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let seed = env_number("FERROBASE_PROPTEST_SEED").unwrap_or(0x5eed_fe11);
    let mut summary = Vec::new();
    let mut failures = Vec::new();
    let keep_going = std::env::var("FERROBASE_PROPTEST_KEEP_GOING").is_ok_and(|v| v == "1");
    for backend in backends() {
        let default_cases = if backend == TestBackend::Sqlite { 24 } else { 8 };
        let cases = env_number("FERROBASE_PROPTEST_CASES").map_or(default_cases, |n| n as u32);
        let config = Config {
            cases,
            failure_persistence: None,
            max_shrink_iters: env_number("FERROBASE_PROPTEST_SHRINK_ITERS").map_or(256, |n| n as u32),
            max_shrink_time: 120_000,
            ..Config::default()
        };
        let mut seed_bytes = [0u8; 32];
        seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
        let mut runner = TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes));
        // Counted until the first failure (shrinking reruns variants of the failing case).
        let (checks, ran, failed, kept) = (Cell::new(0u64), Cell::new(0u32), Cell::new(false), Cell::new(0u32));
        let started = std::time::Instant::now();
        let result = runner.run(&case(), |case| {
            let (n, outcome) = rt.block_on(run_case(backend, &case));
            if !failed.get() {
                checks.set(checks.get() + n);
                ran.set(ran.get() + 1);
            }
            match outcome {
                Ok(()) => Ok(()),
                Err(report) if keep_going => {
                    eprintln!("=== rules_prop: failing case (not shrunk) ===\n{report}");
                    kept.set(kept.get() + 1);
                    Ok(())
                }
                Err(report) => {
                    failed.set(true);
                    Err(TestCaseError::fail(report))
                }
            }
        });
        let failing = kept.get() + u32::from(result.is_err());
        let verdict = if failing > 0 { format!(" ({failing} FAILING)") } else { String::new() };
        summary.push(format!(
            "{} cases{verdict}, {} checks on {backend:?} ({:.1} s)",
            ran.get(),
            checks.get(),
            started.elapsed().as_secs_f64()
        ));
        if kept.get() > 0 {
            failures
                .push(format!("rules_prop on {backend:?} (seed {seed}): {} failing cases, printed above", kept.get()));
        }
        if let Err(e) = result {
            failures.push(format!("rules_prop on {backend:?} (seed {seed}): {e}"));
        }
    }
    eprintln!("rules_prop: {} (seed {seed})", summary.join("; "));
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
