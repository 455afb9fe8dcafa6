//! The generated case: operations, rules, conditions and their leaves, users, rows and writes.

pub(super) const ROLES: [&str; 2] = ["editor", "viewer"];
/// Values of the `org` claim.
pub(super) const CLAIM_ORGS: [&str; 2] = ["acme", "globex"];
/// Row values of `org`: the claim values, and a placeholder's literal text, which a client
/// filter must compare as plain text.
pub(super) const ROW_ORGS: [&str; 3] = ["acme", "globex", "$claims.org"];
/// Row titles: two users' emails (for `$user.email` rules) and a placeholder's literal text.
pub(super) const TITLES: [&str; 4] = ["alpha", "u0@example.com", "u1@example.com", "$user.email"];
pub(super) const LABELS: [&str; 3] = ["red", "green", "blue"];
/// Values of `Item.note`, the field with field-level rules (lower-case ASCII: both databases
/// order them alike).
pub(super) const NOTES: [&str; 2] = ["memo", "secret"];
pub(super) const PASSWORD: &str = "correct horse";
pub(super) const FORBIDDEN: &str = "FORBIDDEN";
pub(super) const NOT_FOUND: &str = "NOT_FOUND";
pub(super) const UNAUTHENTICATED: &str = "UNAUTHENTICATED";

// ---------------------------------------------------------------------------------------------
// The generated case.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Op {
    Create,
    Read,
    Update,
    Delete,
}

impl Op {
    pub(super) fn name(self) -> &'static str {
        match self {
            Op::Create => "create",
            Op::Read => "read",
            Op::Update => "update",
            Op::Delete => "delete",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum St {
    A,
    B,
}

impl St {
    pub(super) fn name(self) -> &'static str {
        match self {
            St::A => "A",
            St::B => "B",
        }
    }
}

#[derive(Clone, Debug)]
pub(super) enum Allow {
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
pub(super) struct Rule<L> {
    pub(super) allow: Allow,
    /// `None`: all four operations.
    pub(super) ops: Option<Vec<Op>>,
    pub(super) cond: Option<Cond<L>>,
}

impl<L> Rule<L> {
    pub(super) fn covers(&self, op: Op) -> bool {
        self.ops.as_ref().is_none_or(|ops| ops.contains(&op))
    }
}

#[derive(Clone, Debug)]
pub(super) enum Cond<L> {
    Leaf(L),
    And(Vec<Cond<L>>),
    Or(Vec<Cond<L>>),
    Not(Box<Cond<L>>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Cmp {
    Eq,
    Ne,
}

#[derive(Clone, Copy, Debug)]
pub(super) enum Num {
    Eq,
    Ne,
    Lt,
    Lte,
    Gt,
    Gte,
}

/// A string operand: a literal, or a placeholder (its literal text in a client filter).
#[derive(Clone, Copy, Debug)]
pub(super) enum Str {
    Lit(&'static str),
    Claim,
    UserId,
    UserEmail,
}

impl Str {
    pub(super) fn text(self) -> &'static str {
        match self {
            Str::Lit(t) => t,
            Str::Claim => "$claims.org",
            Str::UserId => "$user.id",
            Str::UserEmail => "$user.email",
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub(super) enum Quant {
    Some,
    None,
    Every,
}

/// A condition on one field of `Item`.
#[derive(Clone, Debug)]
pub(super) enum ILeaf {
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
    /// `note`, the guarded field: in a client filter only rows whose note the caller may read
    /// can match (the condition ANDed with the field's read rules, complemented as a whole
    /// under `not`); inside a rule it is a plain condition.
    Note(Cmp, &'static str),
    NoteIsNull(bool),
}

/// A condition on one field of `Tag`.
#[derive(Clone, Debug)]
pub(super) enum TLeaf {
    Label(Cmp, Str),
    LabelIn { not: bool, of: Vec<&'static str> },
    Owner(Cmp),
    OwnerIsNull(bool),
    Item(Box<Cond<ILeaf>>),
}

#[derive(Clone, Debug)]
pub(super) struct ModelSpec<L> {
    /// `None`: no `@auth` (admin only).
    pub(super) rules: Option<Vec<Rule<L>>>,
    /// The owner field (`owner` or `author`), when the model has one.
    pub(super) owner: Option<&'static str>,
    /// Declared in the SDL as `<owner>: User @belongsTo` (else an owner rule adds it).
    pub(super) declared: bool,
}

impl<L> ModelSpec<L> {
    /// Owner rules make the owner field the server's: set to the caller, never written by others.
    pub(super) fn managed(&self) -> bool {
        self.rules.iter().flatten().any(|r| matches!(r.allow, Allow::Owner))
    }
    pub(super) fn owner_key(&self) -> Option<String> {
        self.owner.map(|o| format!("{o}Id"))
    }
}

#[derive(Clone, Debug)]
pub(super) struct UserSpec {
    pub(super) roles: Vec<&'static str>,
    /// Also holds the `admin` role.
    pub(super) admin: bool,
    pub(super) org: Option<&'static str>,
}

#[derive(Clone, Debug)]
pub(super) struct Fields {
    pub(super) title: &'static str,
    pub(super) status: St,
    pub(super) level: i64,
    pub(super) org: Option<&'static str>,
    /// `None`: not sent (null); `Some(v)`: `note: v` in the input (a null too).
    pub(super) note: Option<Option<&'static str>>,
}

#[derive(Clone, Debug)]
pub(super) struct ItemRow {
    pub(super) fields: Fields,
    /// A user index.
    pub(super) owner: Option<usize>,
}

#[derive(Clone, Debug)]
pub(super) struct TagRow {
    pub(super) label: &'static str,
    /// An item index.
    pub(super) item: usize,
    pub(super) owner: Option<usize>,
}

/// The `ownerId` a write passes.
#[derive(Clone, Copy, Debug)]
pub(super) enum OwnerArg {
    Me,
    User(usize),
    Null,
}

#[derive(Clone, Debug)]
pub(super) struct Patch {
    pub(super) title: Option<&'static str>,
    pub(super) status: Option<St>,
    pub(super) level: Option<i64>,
    pub(super) org: Option<Option<&'static str>>,
    pub(super) owner: Option<OwnerArg>,
    pub(super) note: Option<Option<&'static str>>,
}

#[derive(Clone, Debug)]
pub(super) enum Mut {
    CreateItem(Fields, Option<OwnerArg>),
    /// `row` indexes every item id ever created (deleted ones too).
    UpdateItem(usize, Patch),
    DeleteItem(usize),
    /// `item` indexes the live items.
    CreateTag(&'static str, usize, Option<OwnerArg>),
    DeleteTag(usize),
}

#[derive(Clone, Debug)]
pub(super) struct Mutation {
    /// 0: anonymous, 1..=n: a user, n + 1: admin (service key); taken modulo.
    pub(super) caller: usize,
    pub(super) kind: Mut,
}

#[derive(Clone, Debug)]
pub(super) struct Case {
    pub(super) item: ModelSpec<ILeaf>,
    /// The field rules of `Item.note` (`rules: None`: the field has no `@auth`, it reads and
    /// writes with its row); `owner` is Item's owner field.
    pub(super) note: ModelSpec<ILeaf>,
    pub(super) tag: ModelSpec<TLeaf>,
    pub(super) users: Vec<UserSpec>,
    pub(super) items: Vec<ItemRow>,
    pub(super) tags: Vec<TagRow>,
    pub(super) item_filters: Vec<Cond<ILeaf>>,
    pub(super) tag_filters: Vec<Cond<TLeaf>>,
    pub(super) mutations: Vec<Mutation>,
}
