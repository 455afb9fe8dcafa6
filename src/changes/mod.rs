//! The change pipeline: every write in the product (generated mutations, the auth API's writes
//! to users, the CLI; functions and the dashboard later) records what it changed here, inside
//! its transaction, and the change is published only after the transaction commits. A write that
//! rolls back, or that writes nothing, publishes nothing.
//!
//! A change is one row: its model, the operation, the row as it was and as it is (every scalar
//! column, in API form, keyed by field name), who wrote it and when. Consumers plug in at two
//! moments (as PocketBase's hooks do, see `docs/changes.md`):
//! - **in the transaction** ([`Consumer::in_transaction`]): statements that must commit or roll
//!   back with the write (an outbox row for webhooks, say: at least once, and never for a
//!   rolled-back write);
//! - **after commit** ([`Consumer::after_commit`]): work that must only see committed data
//!   (realtime delivery through the [`bus`]).
//!
//! Writers do not know the consumers: they build a [`ChangeSet`], run
//! [`Pipeline::in_transaction`]'s statements before they commit, and hand the set to
//! [`Pipeline::publish`] after.

pub mod bus;
pub mod cluster;
mod pipeline;

pub use bus::Bus;
pub use pipeline::{Consumer, Pipeline, PipelineStats, TxStatement};

use crate::auth::Caller;
use crate::model::Operation;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// A row's scalar columns in API form, by field name (`title`, `authorId`).
pub type RowImage = serde_json::Map<String, serde_json::Value>;

/// One committed change of one row.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    /// Unique per change (UUIDv7: ordered by time).
    pub id: uuid::Uuid,
    /// The model's name (`Post`, `User`).
    pub model: String,
    pub op: ChangeOp,
    /// The changed row's id.
    pub row_id: String,
    /// The row before the write (update, delete).
    pub before: Option<RowImage>,
    /// The row after the write (create, update).
    pub after: Option<RowImage>,
    pub actor: Actor,
    pub at: DateTime<Utc>,
    /// What consumers prepared for this change inside its transaction, before the write (see
    /// [`Consumer::before_delete`]); not sent to other instances.
    #[serde(skip)]
    pub prepared: Prepared,
}

/// Work consumers prepared for a change before its write, by consumer name.
#[derive(Clone, Default)]
pub struct Prepared(pub Vec<(&'static str, std::sync::Arc<dyn std::any::Any + Send + Sync>)>);

impl Prepared {
    /// What consumer `name` prepared.
    pub fn get(&self, name: &str) -> Option<&std::sync::Arc<dyn std::any::Any + Send + Sync>> {
        self.0.iter().find(|(n, _)| *n == name).map(|(_, p)| p)
    }
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.iter().map(|(n, _)| n)).finish()
    }
}

/// Changes compare by what they record; what consumers prepared is not part of it.
impl PartialEq for Prepared {
    fn eq(&self, _: &Prepared) -> bool {
        true
    }
}

/// What a write did to its row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeOp {
    Create,
    Update,
    Delete,
}

impl ChangeOp {
    pub fn of(op: Operation) -> Option<ChangeOp> {
        match op {
            Operation::Create => Some(ChangeOp::Create),
            Operation::Update => Some(ChangeOp::Update),
            Operation::Delete => Some(ChangeOp::Delete),
            Operation::Read => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeOp::Create => "create",
            ChangeOp::Update => "update",
            ChangeOp::Delete => "delete",
        }
    }
}

/// Who made a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Actor {
    /// A request without credentials.
    Anonymous,
    /// A signed-in user.
    User { id: String },
    /// The service key.
    Admin,
    /// The server itself on behalf of a tool or flow (`cli`, `signUp`, ...).
    System { via: String },
}

impl Actor {
    pub fn of(caller: &Caller) -> Actor {
        match caller {
            Caller::Anonymous => Actor::Anonymous,
            Caller::User(u) => Actor::User { id: u.id.clone() },
            Caller::Admin => Actor::Admin,
        }
    }
    pub fn system(via: &str) -> Actor {
        Actor::System { via: via.to_string() }
    }
}

/// The changes one transaction made, published together after it commits.
#[must_use = "a change set is published after the transaction commits"]
#[derive(Debug)]
pub struct ChangeSet {
    pub actor: Actor,
    pub changes: Vec<Change>,
}

impl ChangeSet {
    pub fn new(actor: Actor) -> ChangeSet {
        ChangeSet { actor, changes: Vec::new() }
    }

    /// Records that `op` changed row `row_id` of `model` from `before` to `after`.
    pub fn record(
        &mut self,
        model: &str,
        op: ChangeOp,
        row_id: &str,
        before: Option<RowImage>,
        after: Option<RowImage>,
    ) -> &mut Change {
        self.changes.push(Change {
            id: uuid::Uuid::now_v7(),
            model: model.to_string(),
            op,
            row_id: row_id.to_string(),
            before,
            after,
            actor: self.actor.clone(),
            at: Utc::now(),
            prepared: Prepared::default(),
        });
        self.changes.last_mut().expect("just pushed")
    }
}
