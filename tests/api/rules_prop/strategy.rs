//! The proptest strategies that generate a case.

use super::case::*;
use proptest::prelude::*;
use proptest::sample::{select, subsequence};
use proptest::strategy::{BoxedStrategy, Union};

pub(super) fn st() -> impl Strategy<Value = St> + Clone {
    prop_oneof![Just(St::A), Just(St::B)]
}

pub(super) fn cmp() -> impl Strategy<Value = Cmp> + Clone {
    prop_oneof![3 => Just(Cmp::Eq), 1 => Just(Cmp::Ne)]
}

pub(super) fn num() -> impl Strategy<Value = Num> + Clone {
    select(vec![Num::Eq, Num::Ne, Num::Lt, Num::Lte, Num::Gt, Num::Gte])
}

pub(super) fn org_str() -> impl Strategy<Value = Str> + Clone {
    prop_oneof![2 => select(CLAIM_ORGS.to_vec()).prop_map(Str::Lit), 3 => Just(Str::Claim)]
}

pub(super) fn title_str() -> impl Strategy<Value = Str> + Clone {
    prop_oneof![
        2 => select(vec!["alpha", "u0@example.com"]).prop_map(Str::Lit),
        2 => Just(Str::UserEmail),
        1 => Just(Str::Claim),
    ]
}

pub(super) fn cond<L: std::fmt::Debug + Clone + 'static>(leaf: BoxedStrategy<L>) -> BoxedStrategy<Cond<L>> {
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
pub(super) struct Shape {
    pub(super) item_owner: Option<&'static str>,
    pub(super) tag_owner: bool,
}

/// Leaves on `Item`; `depth` levels of relations (`tags: { some | none | every }`) below.
pub(super) fn ileaf(sh: Shape, depth: u32) -> BoxedStrategy<ILeaf> {
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
        (2, (cmp(), select(NOTES.to_vec())).prop_map(|(c, n)| ILeaf::Note(c, n)).boxed()),
        (1, any::<bool>().prop_map(ILeaf::NoteIsNull).boxed()),
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
pub(super) fn tleaf(sh: Shape, depth: u32) -> BoxedStrategy<TLeaf> {
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

pub(super) fn ops() -> impl Strategy<Value = Option<Vec<Op>>> {
    let all = vec![Op::Create, Op::Read, Op::Update, Op::Delete];
    prop_oneof![
        1 => Just(None),
        2 => select(all.clone()).prop_map(|op| Some(vec![op])),
        2 => subsequence(all, 1..=4).prop_map(Some),
    ]
}

pub(super) fn allow(owner: bool) -> BoxedStrategy<Allow> {
    let roles = (subsequence(ROLES.to_vec(), 1..=2), any::<bool>())
        .prop_map(|(roles, groups)| Allow::Roles { roles, groups })
        .boxed();
    if owner {
        prop_oneof![1 => Just(Allow::Public), 2 => Just(Allow::Private), 3 => Just(Allow::Owner), 3 => roles].boxed()
    } else {
        prop_oneof![1 => Just(Allow::Public), 2 => Just(Allow::Private), 3 => roles].boxed()
    }
}

/// A rule list (`None`: no `@auth`), present with probability `p`.
pub(super) fn rules<L: std::fmt::Debug + Clone + 'static>(
    p: f64,
    owner: bool,
    conds: BoxedStrategy<Cond<L>>,
) -> BoxedStrategy<Option<Vec<Rule<L>>>> {
    let rule = (allow(owner), ops(), proptest::option::weighted(0.7, conds)).prop_map(|(allow, ops, cond)| Rule {
        allow,
        ops,
        cond,
    });
    proptest::option::weighted(p, proptest::collection::vec(rule, 1..=3)).boxed()
}

/// A filter on the guarded `note` alone, sometimes under `not`.
pub(super) fn note_filter() -> impl Strategy<Value = Cond<ILeaf>> {
    let leaf = prop_oneof![
        3 => (cmp(), select(NOTES.to_vec())).prop_map(|(c, n)| ILeaf::Note(c, n)),
        1 => any::<bool>().prop_map(ILeaf::NoteIsNull),
    ];
    (any::<bool>(), leaf).prop_map(|(not, l)| {
        let c = Cond::Leaf(l);
        if not { Cond::Not(Box::new(c)) } else { c }
    })
}

/// A value of `note`: sent or not (`None`), null or one of [`NOTES`].
pub(super) fn note(sent: f64) -> impl Strategy<Value = Option<Option<&'static str>>> {
    proptest::option::weighted(sent, proptest::option::weighted(0.7, select(NOTES.to_vec())))
}

pub(super) fn fields() -> impl Strategy<Value = Fields> {
    (select(TITLES.to_vec()), st(), 0i64..=5, proptest::option::of(select(ROW_ORGS.to_vec())), note(0.6))
        .prop_map(|(title, status, level, org, note)| Fields { title, status, level, org, note })
}

pub(super) fn owner_arg() -> impl Strategy<Value = OwnerArg> {
    prop_oneof![2 => Just(OwnerArg::Me), 2 => (0..4usize).prop_map(OwnerArg::User), 1 => Just(OwnerArg::Null)]
}

pub(super) fn patch() -> impl Strategy<Value = Patch> {
    (
        proptest::option::weighted(0.3, select(TITLES.to_vec())),
        proptest::option::weighted(0.4, st()),
        proptest::option::weighted(0.4, 0i64..=5),
        proptest::option::weighted(0.3, proptest::option::of(select(ROW_ORGS.to_vec()))),
        proptest::option::weighted(0.2, owner_arg()),
        note(0.35),
    )
        .prop_map(|(title, status, level, org, owner, note)| Patch { title, status, level, org, owner, note })
}

pub(super) fn mutation() -> impl Strategy<Value = Mutation> {
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

pub(super) fn user_spec() -> impl Strategy<Value = UserSpec> {
    (
        subsequence(ROLES.to_vec(), 0..=2),
        proptest::bool::weighted(0.08),
        proptest::option::of(select(CLAIM_ORGS.to_vec())),
    )
        .prop_map(|(roles, admin, org)| UserSpec { roles, admin, org })
}

/// Decides the owner fields first (conditions and rules depend on them), then everything else.
pub(super) fn case() -> impl Strategy<Value = Case> {
    let shape = (
        proptest::option::weighted(0.7, select(vec!["owner", "owner", "author"])),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    );
    shape.prop_flat_map(|(item_owner, item_declared, tag_owner, tag_declared)| {
        let sh = Shape { item_owner, tag_owner };
        let item_rules = rules(0.9, item_owner.is_some(), cond(ileaf(sh, 1)));
        let tag_rules = rules(0.9, tag_owner, cond(tleaf(sh, 1)));
        // Field rules on `Item.note`, like the model's; 30% without `@auth`.
        let note_rules = rules(0.7, item_owner.is_some(), cond(ileaf(sh, 1)));
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
            (proptest::collection::vec(cond(ileaf(sh, 2)), 3), note_filter()),
            (0i64..=5, proptest::collection::vec(cond(tleaf(sh, 2)), 2)),
            proptest::collection::vec(mutation(), 8..=16),
        );
        ((item_rules, note_rules), tag_rules, rows, checks).prop_map(
            move |(
                (item_rules, note_rules),
                tag_rules,
                (users, items, tags),
                ((mut item_filters, note_filter), (level, mut tag_filters), mutations),
            )| {
                item_filters.push(note_filter);
                // One relation filter of the fixed shape `{item: {level: {gte: N}}}`.
                tag_filters.insert(0, Cond::Leaf(TLeaf::Item(Box::new(Cond::Leaf(ILeaf::Level(Num::Gte, level))))));
                let mut item = ModelSpec { rules: item_rules, owner: item_owner, declared: item_declared };
                item.declared = item.owner.is_some() && (item.declared || !item.managed());
                let mut tag =
                    ModelSpec { rules: tag_rules, owner: tag_owner.then_some("owner"), declared: tag_declared };
                tag.declared = tag.owner.is_some() && (tag.declared || !tag.managed());
                let note = ModelSpec { rules: note_rules, owner: item_owner, declared: false };
                Case { item, note, tag, users, items, tags, item_filters, tag_filters, mutations }
            },
        )
    })
}
