//! Realtime delivery: committed changes (from the change bus) → the subscriptions that follow
//! them, each subscriber getting only rows its rules let it read, as its rules shape them.
//!
//! Subscribers are grouped into cohorts, one per compiled subscription plan (the same document,
//! variable shape and rule profile: see `graphql::executor::Executor::subscribe`). For one
//! change, each cohort that follows the change's model and operation runs ONE statement for all
//! its members (see `sql::event`): statements per event grow with distinct documents, not with
//! subscribers. Members are sent in chunks of [`CHUNK`]; a statement that fails (which values
//! checked at subscribe time should prevent) is split in halves until the member it fails for
//! is found, so one subscriber's rule that cannot be evaluated affects no other.
//!
//! Delivery never waits on a client: each socket has a queue bounded in bytes
//! ([`SOCKET_BACKLOG`]), and a subscriber whose backlog would pass it is dropped (its socket
//! closed with [`SLOW_CLOSE_CODE`]).

mod cohort;

use cohort::Member;
pub use cohort::{Backlog, Outgoing, Sink};

use crate::app::AppState;
use crate::changes::{Change, ChangeOp};
use crate::graphql::Subscribed;
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

/// Subscribers per statement.
pub const CHUNK: usize = 20_000;

/// Bytes of deliveries queued for one socket and not yet written, at most (shared payloads are
/// counted for each socket): a burst (a delete that cascades to a thousand rows) fits; a client
/// that stops reading is closed as too slow once it is reached.
pub const SOCKET_BACKLOG: usize = 1 << 20;

/// Close code of a socket whose client does not keep up with its deliveries.
pub const SLOW_CLOSE_CODE: u16 = 4008;

/// Counts for `/metrics`.
#[derive(Default)]
pub struct RealtimeStats {
    pub sockets: AtomicI64,
    pub subscriptions: AtomicI64,
    /// Messages queued to subscribers.
    pub deliveries: AtomicU64,
    /// Subscribers dropped for being too slow.
    pub dropped: AtomicU64,
    /// Changes handled.
    pub events: AtomicU64,
    /// Statements run for deliveries.
    pub statements: AtomicU64,
    /// Changes missed because delivery fell behind the bus.
    pub missed: AtomicU64,
}

/// The registry of subscriptions and their delivery.
pub struct Realtime {
    state: Arc<AppState>,
    /// Cohorts by plan (the plan's address).
    cohorts: Mutex<HashMap<usize, Arc<cohort::Cohort>>>,
    next_id: AtomicU64,
    pub stats: RealtimeStats,
}

/// A live subscription; dropping it unsubscribes.
pub struct Subscription {
    realtime: Weak<Realtime>,
    cohort: usize,
    id: u64,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(rt) = self.realtime.upgrade() {
            rt.remove(self.cohort, self.id);
        }
    }
}

impl Realtime {
    pub fn new(state: Arc<AppState>) -> Arc<Realtime> {
        Arc::new(Realtime {
            state,
            cohorts: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            stats: RealtimeStats::default(),
        })
    }

    /// Registers a prepared subscriber; its deliveries go to `sink` under `sink.op_id`.
    pub fn add(self: &Arc<Self>, subscribed: Subscribed, sink: Sink) -> Subscription {
        let key = Arc::as_ptr(&subscribed.plan) as usize;
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let member = Member {
            id,
            values: Arc::from(subscribed.values.to_string()),
            values_before: subscribed.values_before.map(|v| Arc::from(v.to_string())),
            sink,
        };
        let mut cohorts = self.cohorts.lock().expect("cohorts lock");
        let cohort = cohorts.entry(key).or_insert_with(|| Arc::new(cohort::Cohort::new(subscribed.plan.clone())));
        cohort.add(member);
        self.stats.subscriptions.fetch_add(1, Ordering::Relaxed);
        Subscription { realtime: Arc::downgrade(self), cohort: key, id }
    }

    fn remove(&self, cohort: usize, id: u64) {
        let mut cohorts = self.cohorts.lock().expect("cohorts lock");
        if let Some(c) = cohorts.get(&cohort) {
            if c.remove(id) {
                self.stats.subscriptions.fetch_sub(1, Ordering::Relaxed);
            }
            if c.is_empty() {
                cohorts.remove(&cohort);
            }
        }
    }

    /// Cohorts following `model`'s `op`.
    fn following(&self, model: &str, op: ChangeOp) -> Vec<Arc<cohort::Cohort>> {
        let cohorts = self.cohorts.lock().expect("cohorts lock");
        cohorts.values().filter(|c| c.plan.model == model && c.plan.change == op).cloned().collect()
    }

    /// Whether any subscription follows `model`'s `op` (asked on every delete: no allocation).
    fn follows(&self, model: &str, op: ChangeOp) -> bool {
        let cohorts = self.cohorts.lock().expect("cohorts lock");
        cohorts.values().any(|c| c.plan.model == model && c.plan.change == op)
    }

    /// Delivers one committed change to every subscriber that follows it and may read it.
    pub async fn deliver(&self, change: &Change) {
        self.stats.events.fetch_add(1, Ordering::Relaxed);
        // A delete judged before it happened (on this instance): its deliveries are ready.
        if let Some(ready) = change.prepared.get(CONSUMER).and_then(|p| p.downcast_ref::<JudgedDelete>()) {
            for (sink, payload) in &ready.0 {
                cohort::send(sink, payload.clone(), &self.stats);
            }
            return;
        }
        let image = match change.op {
            ChangeOp::Delete => change.before.as_ref(),
            _ => change.after.as_ref(),
        };
        let Some(image) = image else { return };
        let cohorts = self.following(&change.model, change.op);
        let runs = cohorts.iter().map(|c| c.deliver(&self.state, &self.stats, image));
        futures_util::future::join_all(runs).await;
    }

    /// Delivers changes from the bus until shutdown (a background worker).
    pub async fn run(self: Arc<Self>, mut shutdown: crate::workers::Shutdown) -> anyhow::Result<()> {
        use tokio::sync::broadcast::error::RecvError;
        let mut changes = self.state.bus.subscribe();
        loop {
            tokio::select! {
                received = changes.recv() => match received {
                    Ok(change) => self.deliver(&change).await,
                    Err(RecvError::Lagged(n)) => {
                        self.stats.missed.fetch_add(n, Ordering::Relaxed);
                        tracing::warn!("realtime delivery fell behind: {n} change(s) not delivered");
                    }
                    Err(RecvError::Closed) => return Ok(()),
                },
                _ = crate::workers::stopped(&mut shutdown) => return Ok(()),
            }
        }
    }
}

/// The name realtime goes by in the change pipeline.
const CONSUMER: &str = "realtime";

/// A delete's deliveries, judged before the delete (see [`Judge`]).
struct JudgedDelete(Vec<(Sink, Arc<str>)>);

/// Realtime's part in the change pipeline: it judges deletes inside their transaction, before
/// the row and what its delete cascades to are gone, so that rules and filters that read
/// relations see them as they were. (Changes from other instances arrive without it and are
/// judged on their image after the delete.)
pub struct Judge(pub Weak<Realtime>);

impl crate::changes::Consumer for Judge {
    fn name(&self) -> &'static str {
        CONSUMER
    }
    fn before_delete_for(&self, model: &str) -> bool {
        self.0.upgrade().is_some_and(|rt| rt.follows(model, ChangeOp::Delete))
    }
    fn before_delete<'a>(
        &'a self,
        model: &'a str,
        row_id: &'a str,
        conn: &'a mut crate::db::pool::Lease<'_>,
    ) -> futures_util::future::BoxFuture<'a, Option<Arc<dyn std::any::Any + Send + Sync>>> {
        Box::pin(async move {
            let rt = self.0.upgrade()?;
            // In a savepoint: a statement that fails here must not fail the delete.
            conn.execute("SAVEPOINT ferrobase_realtime").await.ok()?;
            let mut ready = Vec::new();
            let mut failed = false;
            for cohort in rt.following(model, ChangeOp::Delete) {
                match cohort.judge_delete(&rt.state, &rt.stats, row_id, conn).await {
                    Ok(mut d) => ready.append(&mut d),
                    Err(e) => {
                        tracing::warn!("a delete could not be judged for its subscribers: {e}");
                        failed = true;
                        break;
                    }
                }
            }
            let end = if failed {
                "ROLLBACK TO SAVEPOINT ferrobase_realtime"
            } else {
                "RELEASE SAVEPOINT ferrobase_realtime"
            };
            conn.execute(end).await.ok()?;
            if failed {
                // Nothing rather than a judgement on the data after the delete (which could leak).
                ready.clear();
            }
            let judged: Arc<dyn std::any::Any + Send + Sync> = Arc::new(JudgedDelete(ready));
            Some(judged)
        })
    }
}
