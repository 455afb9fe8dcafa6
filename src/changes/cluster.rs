//! Several instances on one PostgreSQL: each committed change is also sent to the other
//! instances with `NOTIFY`, and each instance `LISTEN`s and hands the others' changes to its own
//! bus, so a mutation on instance A reaches subscribers on instance B with no extra
//! infrastructure.
//!
//! - **Publishing** is a consumer of the [`Pipeline`](super::Pipeline): after commit a change is
//!   queued (never blocking the write) and a worker sends it on a connection of its own, in
//!   commit order. A payload over `NOTIFY`'s 8,000-byte limit is written to
//!   `ferrobase_change_payloads` and sent by reference (in the same statement); those rows are
//!   deleted after [`PAYLOAD_TTL`].
//! - **Listening** is a worker on a dedicated connection (`LISTEN` cannot share the pool); sqlx
//!   reconnects it when it drops. Changes sent while it was disconnected are not recovered: they
//!   are counted (`ferrobase_cluster_gaps_total`) and logged. Realtime delivery is at most once
//!   across instances; durable consumers (webhooks) use the transactional moment instead.
//!
//! Each instance skips its own notifications (it delivered them from its bus already).

use super::{Bus, Change, Consumer};
use crate::db::ConnectOptions;
use sea_orm::sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use sea_orm::sqlx::{self, Connection, PgConnection};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;

/// The `NOTIFY` channel.
pub const CHANNEL: &str = "ferrobase_changes";
/// Payloads up to this many bytes travel inline (PostgreSQL's limit is 8,000).
pub const INLINE_LIMIT: usize = 7900;
/// How long a payload sent by reference is kept.
pub const PAYLOAD_TTL: Duration = Duration::from_secs(300);
/// Changes queued for sending before new ones are dropped (counted).
const QUEUE: usize = 10_000;

/// What travels on the channel: the sending instance and the change, or a reference to it.
#[derive(Serialize, Deserialize)]
struct Envelope {
    /// The sending instance.
    o: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    c: Option<Change>,
    /// The id of a `ferrobase_change_payloads` row holding the change.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    r: Option<String>,
}

/// Counts for `/metrics`.
#[derive(Default)]
pub struct ClusterStats {
    pub sent: AtomicU64,
    pub received: AtomicU64,
    /// Changes not sent: the queue was full.
    pub dropped: AtomicU64,
    /// Times the listening connection was lost (changes sent meanwhile were missed).
    pub gaps: AtomicU64,
}

/// This instance's link to the others.
pub struct Cluster {
    instance: String,
    opts: PgConnectOptions,
    queue: mpsc::Sender<Arc<Change>>,
    pending: tokio::sync::Mutex<mpsc::Receiver<Arc<Change>>>,
    pub stats: ClusterStats,
}

impl Cluster {
    /// For a PostgreSQL database (`None` for SQLite: one process, the bus is enough).
    pub fn for_database(url: &str) -> anyhow::Result<Option<Arc<Cluster>>> {
        let ConnectOptions::Postgres(opts) = ConnectOptions::from_url(url)? else { return Ok(None) };
        let (queue, pending) = mpsc::channel(QUEUE);
        Ok(Some(Arc::new(Cluster {
            instance: uuid::Uuid::now_v7().to_string(),
            opts,
            queue,
            pending: tokio::sync::Mutex::new(pending),
            stats: ClusterStats::default(),
        })))
    }

    /// Sends queued changes until shutdown (a background worker).
    pub async fn publish(self: Arc<Self>, mut shutdown: crate::workers::Shutdown) -> anyhow::Result<()> {
        let mut pending = self.pending.lock().await;
        let mut conn = PgConnection::connect_with(&self.opts).await?;
        let mut cleanup = tokio::time::interval(PAYLOAD_TTL / 5);
        loop {
            let change = tokio::select! {
                c = pending.recv() => match c { Some(c) => c, None => return Ok(()) },
                _ = cleanup.tick() => {
                    let ttl = format!("{} seconds", PAYLOAD_TTL.as_secs());
                    sqlx::query("DELETE FROM ferrobase_change_payloads WHERE created_at < now() - CAST($1 AS interval)")
                        .bind(ttl)
                        .execute(&mut conn)
                        .await?;
                    continue;
                }
                _ = crate::workers::stopped(&mut shutdown) => return Ok(()),
            };
            let inline =
                serde_json::to_string(&Envelope { o: self.instance.clone(), c: Some((*change).clone()), r: None })?;
            if inline.len() <= INLINE_LIMIT {
                sqlx::query("SELECT pg_notify($1, $2)").bind(CHANNEL).bind(inline).execute(&mut conn).await?;
            } else {
                let id = uuid::Uuid::now_v7().to_string();
                let reference =
                    serde_json::to_string(&Envelope { o: self.instance.clone(), c: None, r: Some(id.clone()) })?;
                let body = serde_json::to_string(&*change)?;
                sqlx::query(
                    "WITH p AS (INSERT INTO ferrobase_change_payloads (id, payload, created_at) VALUES ($2, $3, now()) RETURNING id) \
                     SELECT pg_notify($1, $4) FROM p",
                )
                .bind(CHANNEL)
                .bind(id)
                .bind(body)
                .bind(reference)
                .execute(&mut conn)
                .await?;
            }
            self.stats.sent.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Hands the other instances' changes to `bus` until shutdown (a background worker).
    pub async fn listen(self: Arc<Self>, bus: Arc<Bus>, mut shutdown: crate::workers::Shutdown) -> anyhow::Result<()> {
        let pool = PgPoolOptions::new().max_connections(2).connect_lazy_with(self.opts.clone());
        let mut listener = PgListener::connect_with(&pool).await?;
        listener.listen(CHANNEL).await?;
        loop {
            let received = tokio::select! {
                r = listener.try_recv() => r?,
                _ = crate::workers::stopped(&mut shutdown) => return Ok(()),
            };
            let Some(n) = received else {
                // The connection was lost and is being re-established: anything sent meanwhile
                // is gone.
                self.stats.gaps.fetch_add(1, Ordering::Relaxed);
                tracing::warn!("the LISTEN connection was lost; changes from other instances may have been missed");
                continue;
            };
            let envelope: Envelope = match serde_json::from_str(n.payload()) {
                Ok(e) => e,
                Err(e) => {
                    tracing::warn!("an unreadable change notification: {e}");
                    continue;
                }
            };
            if envelope.o == self.instance {
                continue;
            }
            let change = match (envelope.c, envelope.r) {
                (Some(c), _) => c,
                (None, Some(id)) => {
                    let row: Option<(String,)> =
                        sqlx::query_as("SELECT payload FROM ferrobase_change_payloads WHERE id = $1")
                            .bind(&id)
                            .fetch_optional(&pool)
                            .await?;
                    match row.map(|(p,)| serde_json::from_str::<Change>(&p)) {
                        Some(Ok(c)) => c,
                        _ => {
                            tracing::warn!(id, "a change sent by reference is gone");
                            continue;
                        }
                    }
                }
                (None, None) => continue,
            };
            self.stats.received.fetch_add(1, Ordering::Relaxed);
            bus.send(Arc::new(change));
        }
    }
}

impl Consumer for Cluster {
    fn name(&self) -> &'static str {
        "cluster"
    }
    fn after_commit(&self, change: &Arc<Change>) {
        if self.queue.try_send(change.clone()).is_err() {
            self.stats.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}
