//! Several instances on one PostgreSQL: each committed change is also sent to the other
//! instances with `NOTIFY`, and each instance `LISTEN`s and hands the others' changes to its own
//! bus, so a mutation on instance A reaches subscribers on instance B with no extra
//! infrastructure.
//!
//! - **Publishing** is a consumer of the [`Pipeline`](super::Pipeline): after commit a change is
//!   queued (never blocking the write) and a worker sends what is queued, in commit order, on a
//!   connection of its own: one statement per batch writes the changes to
//!   `ferrobase_change_log` (numbered, kept [`LOG_TTL`]) and notifies each. A change over
//!   `NOTIFY`'s 8,000-byte limit is notified without its body, which listeners read from the log.
//! - **Listening** is a worker on a dedicated connection (`LISTEN` cannot share the pool). When
//!   the connection is lost it reconnects, `LISTEN`s again and then **catches up**: it reads from
//!   the log every change committed since the last one it received (less [`SLACK`], for commits
//!   that finish out of order) and delivers those it has not seen, so a change reaches each
//!   instance once even across a lost connection (up to [`LOG_TTL`] of it). Counted:
//!   `ferrobase_cluster_gaps_total` (connections lost), `ferrobase_cluster_replayed_total`.
//!
//! Each instance skips its own changes (it delivered them from its bus already). A batch whose
//! send fails is sent again when the worker restarts. A change is lost to the other instances
//! only if its instance stops between commit and sending it, or its send queue ([`QUEUE`])
//! overflows (counted as dropped).

use super::{Bus, Change, Consumer};
use crate::db::ConnectOptions;
use sea_orm::sqlx::postgres::{PgConnectOptions, PgListener, PgPool, PgPoolOptions};
use sea_orm::sqlx::{self, Connection, PgConnection};
use serde::Deserialize;
use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

/// The `NOTIFY` channel.
pub const CHANNEL: &str = "ferrobase_changes";
/// Changes up to this many bytes travel in the notification (PostgreSQL's limit for the whole
/// payload is 8,000).
pub const INLINE_LIMIT: usize = 7800;
/// How long changes stay in the log: the longest gap a listener recovers from.
pub const LOG_TTL: Duration = Duration::from_secs(300);
/// How far before the last change it received a reconnected listener reads the log again.
pub const SLACK: Duration = Duration::from_secs(10);
/// Changes queued for sending before new ones are dropped (counted).
const QUEUE: usize = 10_000;
/// Changes sent per statement, at most.
const BATCH: usize = 256;
/// Change numbers remembered to deliver each change once.
const REMEMBERED: usize = 200_000;

/// What a notification carries: the sending instance, the change's number and commit time (µs
/// since the epoch), and the change itself unless it is too large.
#[derive(Deserialize)]
struct Envelope {
    o: String,
    s: i64,
    t: i64,
    #[serde(default)]
    c: Option<Change>,
}

/// Counts for `/metrics`.
#[derive(Default)]
pub struct ClusterStats {
    pub sent: AtomicU64,
    pub received: AtomicU64,
    /// Changes not sent: the queue was full.
    pub dropped: AtomicU64,
    /// Times the listening connection was lost (and then caught up).
    pub gaps: AtomicU64,
    /// Changes delivered by catching up after a gap.
    pub replayed: AtomicU64,
}

/// What this instance has received: the commit time of the latest change (the listener catches
/// up from there) and the numbers of recent ones (each is delivered once).
#[derive(Default)]
struct Received {
    /// µs since the epoch; `None` until the first connection.
    watermark: Option<i64>,
    seen: HashSet<i64>,
    order: VecDeque<i64>,
}

impl Received {
    /// Records change `seq`; `false` if it was seen already.
    fn first_time(&mut self, seq: i64, at: i64) -> bool {
        self.watermark = Some(self.watermark.map_or(at, |w| w.max(at)));
        if !self.seen.insert(seq) {
            return false;
        }
        self.order.push_back(seq);
        if self.order.len() > REMEMBERED
            && let Some(old) = self.order.pop_front()
        {
            self.seen.remove(&old);
        }
        true
    }
}

/// This instance's link to the others.
pub struct Cluster {
    instance: String,
    opts: PgConnectOptions,
    queue: mpsc::Sender<Arc<Change>>,
    pending: tokio::sync::Mutex<mpsc::Receiver<Arc<Change>>>,
    received: Mutex<Received>,
    /// Changes taken from the queue but not sent yet (the sending connection failed).
    unsent: Mutex<Vec<String>>,
    pub stats: ClusterStats,
}

/// Writes a batch of changes (`$3`, JSON texts) to the log and notifies each.
const SEND: &str = r#"WITH c AS (
  INSERT INTO ferrobase_change_log (instance, payload, created_at)
  SELECT $2, p.payload, clock_timestamp() FROM unnest($3::text[]) WITH ORDINALITY AS p(payload, n) ORDER BY p.n
  RETURNING seq, payload, created_at)
SELECT pg_notify($1, '{"o":"' || $2 || '","s":' || seq || ',"t":' || (extract(epoch FROM created_at) * 1000000)::bigint
  || CASE WHEN octet_length(payload) <= $4 THEN ',"c":' || payload ELSE '' END || '}')
FROM c ORDER BY seq"#;

/// The logged changes of other instances committed after `$1` (µs since the epoch) less the slack.
const CATCH_UP: &str = "SELECT seq, (extract(epoch FROM created_at) * 1000000)::bigint, payload FROM ferrobase_change_log \
     WHERE created_at > to_timestamp($1::float8 / 1000000) - make_interval(secs => $2) AND instance <> $3 ORDER BY seq";

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
            received: Mutex::default(),
            unsent: Mutex::default(),
            stats: ClusterStats::default(),
        })))
    }

    /// Sends queued changes until shutdown (a background worker); removes expired log rows. A
    /// batch that could not be sent (the connection failed) is kept for the worker's restart.
    pub async fn publish(self: Arc<Self>, mut shutdown: crate::workers::Shutdown) -> anyhow::Result<()> {
        let mut pending = self.pending.lock().await;
        let mut conn = PgConnection::connect_with(&self.opts).await?;
        let mut cleanup = tokio::time::interval(LOG_TTL / 5);
        loop {
            let mut batch = std::mem::take(&mut *self.unsent.lock().expect("unsent lock"));
            if batch.is_empty() {
                let first = tokio::select! {
                    c = pending.recv() => match c { Some(c) => c, None => return Ok(()) },
                    _ = cleanup.tick() => {
                        sqlx::query("DELETE FROM ferrobase_change_log WHERE created_at < now() - make_interval(secs => $1)")
                            .bind(LOG_TTL.as_secs_f64())
                            .execute(&mut conn)
                            .await?;
                        continue;
                    }
                    _ = crate::workers::stopped(&mut shutdown) => return Ok(()),
                };
                batch.push(serde_json::to_string(&*first)?);
            }
            while batch.len() < BATCH {
                let Ok(c) = pending.try_recv() else { break };
                batch.push(serde_json::to_string(&*c)?);
            }
            let sent = sqlx::query(SEND)
                .bind(CHANNEL)
                .bind(&self.instance)
                .bind(&batch)
                .bind(INLINE_LIMIT as i32)
                .execute(&mut conn)
                .await;
            if let Err(e) = sent {
                *self.unsent.lock().expect("unsent lock") = batch;
                return Err(e.into());
            }
            self.stats.sent.fetch_add(batch.len() as u64, Ordering::Relaxed);
        }
    }

    /// Hands the other instances' changes to `bus` until shutdown (a background worker):
    /// listens, catches up on what it missed, and does both again whenever the connection is lost.
    pub async fn listen(self: Arc<Self>, bus: Arc<Bus>, mut shutdown: crate::workers::Shutdown) -> anyhow::Result<()> {
        // The listening connection is taken out of a pool of its own, so that a lost one is
        // replaced by a new connection (not by one the catch-up used).
        let pool = PgPoolOptions::new().max_connections(2).connect_lazy_with(self.opts.clone());
        let listening = PgPoolOptions::new().max_connections(1).connect_lazy_with(self.opts.clone());
        loop {
            let mut listener = PgListener::connect_with(&listening).await?;
            listener.listen(CHANNEL).await?;
            // Listening from here on; then what was committed before.
            self.catch_up(&pool, &bus).await?;
            loop {
                let received = tokio::select! {
                    r = listener.try_recv() => r,
                    _ = crate::workers::stopped(&mut shutdown) => return Ok(()),
                };
                // A connection that closed (None) or failed (the server ended it, say).
                let n = match received {
                    Ok(Some(n)) => n,
                    lost => {
                        self.stats.gaps.fetch_add(1, Ordering::Relaxed);
                        let why = lost.err().map(|e| e.to_string()).unwrap_or_else(|| "closed".into());
                        tracing::warn!("the LISTEN connection was lost ({why}); reconnecting to catch up");
                        break;
                    }
                };
                let envelope: Envelope = match serde_json::from_str(n.payload()) {
                    Ok(e) => e,
                    Err(e) => {
                        tracing::warn!("an unreadable change notification: {e}");
                        continue;
                    }
                };
                // Its own changes too are noted (they move the watermark) but not delivered again.
                if !self.first_time(envelope.s, envelope.t) || envelope.o == self.instance {
                    continue;
                }
                let change = match envelope.c {
                    Some(c) => c,
                    None => {
                        let row: Option<(String,)> =
                            sqlx::query_as("SELECT payload FROM ferrobase_change_log WHERE seq = $1")
                                .bind(envelope.s)
                                .fetch_optional(&pool)
                                .await?;
                        match row.map(|(p,)| serde_json::from_str::<Change>(&p)) {
                            Some(Ok(c)) => c,
                            _ => {
                                tracing::warn!(seq = envelope.s, "a change sent by reference is gone");
                                continue;
                            }
                        }
                    }
                };
                self.stats.received.fetch_add(1, Ordering::Relaxed);
                bus.send(Arc::new(change));
            }
        }
    }

    fn first_time(&self, seq: i64, at: i64) -> bool {
        self.received.lock().expect("received lock").first_time(seq, at)
    }

    /// Delivers the logged changes of other instances committed since the last one received
    /// that were not received. On the first connection, only notes the recent ones as seen.
    async fn catch_up(&self, pool: &PgPool, bus: &Bus) -> anyhow::Result<()> {
        let watermark = self.received.lock().expect("received lock").watermark;
        let (now,): (i64,) =
            sqlx::query_as("SELECT (extract(epoch FROM now()) * 1000000)::bigint").fetch_one(pool).await?;
        let (since, deliver) = match watermark {
            Some(w) => (w, true),
            None => (now, false),
        };
        let rows: Vec<(i64, i64, String)> = sqlx::query_as(CATCH_UP)
            .bind(since as f64)
            .bind(SLACK.as_secs_f64())
            .bind(&self.instance)
            .fetch_all(pool)
            .await?;
        let mut replayed = 0;
        for (seq, at, payload) in rows {
            if !self.first_time(seq, at) || !deliver {
                continue;
            }
            match serde_json::from_str::<Change>(&payload) {
                Ok(c) => {
                    replayed += 1;
                    bus.send(Arc::new(c));
                }
                Err(e) => tracing::warn!(seq, "an unreadable logged change: {e}"),
            }
        }
        {
            let mut received = self.received.lock().expect("received lock");
            received.watermark = Some(received.watermark.unwrap_or(since).max(since));
        }
        if replayed > 0 {
            self.stats.replayed.fetch_add(replayed, Ordering::Relaxed);
            self.stats.received.fetch_add(replayed, Ordering::Relaxed);
            tracing::info!(replayed, "caught up on changes from other instances");
        }
        if watermark.is_some_and(|w| now - w > (LOG_TTL - SLACK).as_micros() as i64) {
            tracing::warn!(
                "nothing was received for longer than the change log is kept: changes from other instances may have been missed"
            );
        }
        Ok(())
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
