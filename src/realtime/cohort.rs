//! A cohort: the subscribers of one subscription plan, answered together.

use super::RealtimeStats;
use crate::app::AppState;
use crate::changes::RowImage;
use crate::graphql::SubscriptionPlan;
use crate::graphql::render;
use crate::sql::params::BindEnv;
use async_graphql::{PathSegment, Variables};
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// A message for a socket.
#[derive(Debug)]
pub enum Outgoing {
    /// A subscription's result (`payload`: a GraphQL response as JSON text, shared by the
    /// subscribers whose answer is the same).
    Next { op_id: Arc<str>, payload: Arc<str> },
}

impl Outgoing {
    /// What it counts against its socket's [`super::SOCKET_BACKLOG`].
    pub fn bytes(&self) -> usize {
        let Outgoing::Next { op_id, payload } = self;
        op_id.len() + payload.len() + 64
    }
}

/// Where a subscriber's deliveries go: its socket's queue, bounded in bytes.
#[derive(Clone)]
pub struct Sink {
    pub op_id: Arc<str>,
    pub tx: mpsc::UnboundedSender<Outgoing>,
    /// The socket's backlog: too long, and the socket closes as too slow.
    pub backlog: Arc<Backlog>,
}

/// A socket's deliveries queued and not yet written, bounded in bytes
/// ([`super::SOCKET_BACKLOG`]), and a flag raised once when a delivery would pass the bound.
#[derive(Default)]
pub struct Backlog {
    raised: AtomicBool,
    pub notify: tokio::sync::Notify,
    /// Bytes queued and not yet written (see [`Outgoing::bytes`]).
    queued: AtomicUsize,
}

impl Backlog {
    fn raise(&self) -> bool {
        let first = !self.raised.swap(true, Ordering::AcqRel);
        if first {
            self.notify.notify_one();
        }
        first
    }
    /// Counts `bytes` more as queued, unless that passes the bound on a backlog that is not
    /// empty (a delivery larger than the bound alone still goes).
    fn reserve(&self, bytes: usize) -> bool {
        let before = self.queued.fetch_add(bytes, Ordering::AcqRel);
        if before > 0 && before + bytes > super::SOCKET_BACKLOG {
            self.queued.fetch_sub(bytes, Ordering::AcqRel);
            return false;
        }
        true
    }
    /// The socket took `out` off its queue.
    pub fn dequeued(&self, out: &Outgoing) {
        self.queued.fetch_sub(out.bytes(), Ordering::AcqRel);
    }
}

/// One subscriber.
#[derive(Clone)]
pub struct Member {
    pub id: u64,
    /// Its values for the plan's statement (see `sql::event`), as JSON text.
    pub values: Arc<str>,
    /// Deletes: its values for the plan that judges the row before the delete.
    pub values_before: Option<Arc<str>>,
    pub sink: Sink,
}

pub(super) struct Cohort {
    pub plan: Arc<SubscriptionPlan>,
    members: Mutex<Members>,
}

/// The members by id (the order they subscribed in), and the list events use, kept until the
/// members change (thousands of subscribers are not copied on every event).
#[derive(Default)]
struct Members {
    by_id: BTreeMap<u64, Member>,
    snapshot: Option<Arc<[Member]>>,
}

impl Cohort {
    pub fn new(plan: Arc<SubscriptionPlan>) -> Cohort {
        Cohort { plan, members: Mutex::new(Members::default()) }
    }
    pub fn add(&self, m: Member) {
        let mut members = self.members.lock().expect("members lock");
        members.by_id.insert(m.id, m);
        members.snapshot = None;
    }
    /// Whether `id` was a member.
    pub fn remove(&self, id: u64) -> bool {
        let mut members = self.members.lock().expect("members lock");
        members.snapshot = None;
        members.by_id.remove(&id).is_some()
    }
    pub fn is_empty(&self) -> bool {
        self.members.lock().expect("members lock").by_id.is_empty()
    }

    /// The members now, in the order they subscribed.
    fn snapshot(&self) -> Arc<[Member]> {
        let mut members = self.members.lock().expect("members lock");
        let members = &mut *members;
        members.snapshot.get_or_insert_with(|| members.by_id.values().cloned().collect()).clone()
    }

    /// Answers the changed row (`image`) for every member, a statement per [`super::CHUNK`].
    pub async fn deliver(&self, st: &AppState, stats: &RealtimeStats, image: &RowImage) {
        let members = self.snapshot();
        for chunk in members.chunks(super::CHUNK) {
            self.deliver_chunk(st, stats, image, chunk).await;
        }
    }

    /// One statement for `members`; on failure, halves until the failing member is alone.
    fn deliver_chunk<'a>(
        &'a self,
        st: &'a AppState,
        stats: &'a RealtimeStats,
        image: &'a RowImage,
        members: &'a [Member],
    ) -> futures_util::future::BoxFuture<'a, ()> {
        Box::pin(async move {
            match self.answer(st, stats, image, members).await {
                Ok(()) => {}
                Err(e) if members.len() > 1 => {
                    tracing::warn!("a multiplexed delivery failed ({e}); splitting it");
                    let (a, b) = members.split_at(members.len() / 2);
                    self.deliver_chunk(st, stats, image, a).await;
                    self.deliver_chunk(st, stats, image, b).await;
                }
                Err(e) => {
                    tracing::warn!(subscriber = members[0].id, "a subscription cannot be answered: {e}");
                }
            }
        })
    }

    async fn answer(
        &self,
        st: &AppState,
        stats: &RealtimeStats,
        image: &RowImage,
        members: &[Member],
    ) -> Result<(), String> {
        let plan = &self.plan.plan;
        let vars = Variables::default();
        let mut env = BindEnv::new(&vars, &crate::auth::Caller::Anonymous, &st.ir, st.backend());
        env.row = Some(image);
        let values: Vec<&str> = members.iter().map(|m| m.values.as_ref()).collect();
        let bound = plan.values(&values, &env).map_err(|e| e.message)?;
        stats.statements.fetch_add(1, Ordering::Relaxed);
        let rows = st.pool.fetch_rows(&plan.stmt.sql, bound).await.map_err(|e| e.to_string())?;
        for (member, payload) in self.payloads(plan, &rows, members)? {
            send(&member.sink, payload, stats);
        }
        Ok(())
    }

    /// Judges a delete of row `id` before it happens, on the delete's connection (inside its
    /// transaction): what each member will receive once it commits.
    pub async fn judge_delete(
        &self,
        st: &AppState,
        stats: &RealtimeStats,
        id: &str,
        conn: &mut crate::db::pool::Lease<'_>,
    ) -> Result<Vec<(Sink, Arc<str>)>, String> {
        let Some(plan) = &self.plan.before else { return Ok(Vec::new()) };
        // Members of a delete plan all have values for its `before` plan.
        let members = self.snapshot();
        if members.is_empty() {
            return Ok(Vec::new());
        }
        let vars = Variables::default();
        let row: RowImage = [("id".to_string(), Json::String(id.to_string()))].into_iter().collect();
        let mut env = BindEnv::new(&vars, &crate::auth::Caller::Anonymous, &st.ir, st.backend());
        env.row = Some(&row);
        let values: Vec<&str> = members.iter().filter_map(|m| m.values_before.as_deref()).collect();
        let bound = plan.values(&values, &env).map_err(|e| e.message)?;
        stats.statements.fetch_add(1, Ordering::Relaxed);
        let rows = conn.fetch_rows(&plan.stmt.sql, bound).await.map_err(|e| e.to_string())?;
        Ok(self.payloads(plan, &rows, &members)?.into_iter().map(|(m, p)| (m.sink.clone(), p)).collect())
    }

    /// Each answered member and its payload (members with the same answer share it).
    fn payloads<'m>(
        &self,
        plan: &crate::sql::event::EventPlan,
        rows: &crate::db::pool::Rows,
        members: &'m [Member],
    ) -> Result<Vec<(&'m Member, Arc<str>)>, String> {
        let answers = crate::sql::rows::event_answers(rows, &plan.rows).map_err(|e| e.message)?;
        let mut out = Vec::with_capacity(answers.len());
        let path = [PathSegment::Field(self.plan.key.clone())];
        let key = serde_json::to_string(&self.plan.key).expect("a key serializes");
        // Subscribers with the same answer (most of them, usually) share one rendering.
        let mut last: Option<(Json, Arc<str>)> = None;
        for (i, json) in answers {
            let Some(member) = members.get(i) else { continue };
            let payload = match &last {
                Some((prev, payload)) if *prev == json => payload.clone(),
                _ => {
                    let (text, errors) = render::text(&plan.out, Some(&json), &path);
                    let mut payload = format!("{{\"data\":{{{key}:{text}}}");
                    if !errors.is_empty() {
                        payload.push_str(",\"errors\":");
                        payload.push_str(&serde_json::to_string(&errors).expect("errors serialize"));
                    }
                    payload.push('}');
                    let payload: Arc<str> = Arc::from(payload);
                    last = Some((json, payload.clone()));
                    payload
                }
            };
            out.push((member, payload));
        }
        Ok(out)
    }
}

/// Queues `payload` on `sink` without waiting; a socket whose backlog it would overflow is
/// marked as too slow instead.
pub(super) fn send(sink: &Sink, payload: Arc<str>, stats: &RealtimeStats) {
    let out = Outgoing::Next { op_id: sink.op_id.clone(), payload };
    let bytes = out.bytes();
    if !sink.backlog.reserve(bytes) {
        if sink.backlog.raise() {
            stats.dropped.fetch_add(1, Ordering::Relaxed);
        }
        return;
    }
    match sink.tx.send(out) {
        Ok(()) => {
            stats.deliveries.fetch_add(1, Ordering::Relaxed);
        }
        Err(mpsc::error::SendError(out)) => sink.backlog.dequeued(&out),
    }
}
