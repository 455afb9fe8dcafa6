//! The one place background workers run: started beside the HTTP server, stopped by its shutdown
//! signal (a worker finishes the job in hand, then returns), and restarted with backoff when one
//! fails or panics. Workers: the job queue (emails first, see `jobs`).

mod jobs;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinSet;

/// `true` once the server is shutting down.
pub type Shutdown = watch::Receiver<bool>;

/// Waits until the server shuts down (or the signal's sender is gone).
pub async fn stopped(sd: &mut Shutdown) {
    let _ = sd.wait_for(|stop| *stop).await;
}

/// Whether the server is shutting down (or the signal's sender is gone).
pub fn is_stopping(sd: &Shutdown) -> bool {
    *sd.borrow() || sd.has_changed().is_err()
}

/// Counts for `/metrics`.
#[derive(Default)]
pub struct WorkerStats {
    /// Workers restarted after an error or a panic.
    pub restarts: AtomicU64,
    /// Jobs done.
    pub jobs_done: AtomicU64,
    /// Failed attempts that will be retried.
    pub jobs_retried: AtomicU64,
    /// Jobs kept as failed after their last attempt.
    pub jobs_failed: AtomicU64,
}

/// Starts every worker into `set` (dropping the set stops them).
pub fn start(app: &crate::app::App, set: &mut JoinSet<()>, shutdown: Shutdown) {
    let state = &app.state;
    let st = state.clone();
    supervise(set, "jobs", state.workers.clone(), shutdown.clone(), move |sd| jobs::run(st.clone(), sd));
    let rt = app.realtime.clone();
    supervise(set, "realtime", state.workers.clone(), shutdown.clone(), move |sd| rt.clone().run(sd));
    if let Some(cluster) = &state.cluster {
        let c = cluster.clone();
        supervise(set, "cluster-publish", state.workers.clone(), shutdown.clone(), move |sd| c.clone().publish(sd));
        let (c, bus) = (cluster.clone(), state.bus.clone());
        supervise(set, "cluster-listen", state.workers.clone(), shutdown, move |sd| c.clone().listen(bus.clone(), sd));
    }
}

/// Runs `worker` until shutdown, restarting it (after 0.1 s, doubling to 30 s; reset after a
/// minute of health) whenever it returns an error, returns early or panics.
pub fn supervise<F, Fut>(
    set: &mut JoinSet<()>,
    name: &'static str,
    stats: Arc<WorkerStats>,
    shutdown: Shutdown,
    worker: F,
) where
    F: Fn(Shutdown) -> Fut + Send + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    set.spawn(async move {
        let mut shutdown = shutdown;
        let mut delay = Duration::from_millis(100);
        loop {
            if is_stopping(&shutdown) {
                return;
            }
            let started = tokio::time::Instant::now();
            let mut task = AbortOnDrop(tokio::spawn(worker(shutdown.clone())));
            let outcome = (&mut task.0).await;
            if is_stopping(&shutdown) {
                return;
            }
            match outcome {
                Ok(Ok(())) => tracing::error!(worker = name, "a worker stopped on its own; restarting it"),
                Ok(Err(e)) => tracing::error!(worker = name, "a worker failed: {e:#}; restarting it"),
                Err(e) => tracing::error!(worker = name, "a worker panicked: {e}; restarting it"),
            }
            stats.restarts.fetch_add(1, Ordering::Relaxed);
            if started.elapsed() > Duration::from_secs(60) {
                delay = Duration::from_millis(100);
            }
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = stopped(&mut shutdown) => {}
            }
            delay = (delay * 2).min(Duration::from_secs(30));
        }
    });
}

/// A task aborted when its handle is dropped (the supervisor's set was dropped).
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU32;

    #[tokio::test]
    async fn failed_and_panicking_workers_are_restarted_until_shutdown() {
        let runs = Arc::new(AtomicU32::new(0));
        let stats = Arc::new(WorkerStats::default());
        let (tx, rx) = watch::channel(false);
        let mut set = JoinSet::new();
        let r = runs.clone();
        supervise(&mut set, "test", stats.clone(), rx, move |mut sd| {
            let n = r.fetch_add(1, Ordering::SeqCst);
            async move {
                match n {
                    0 => anyhow::bail!("first run fails"),
                    1 => panic!("second run panics"),
                    _ => {
                        // Third run: healthy until shutdown.
                        let _ = sd.wait_for(|stop| *stop).await;
                        Ok(())
                    }
                }
            }
        });
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while runs.load(Ordering::SeqCst) < 3 {
            assert!(tokio::time::Instant::now() < deadline, "the worker was not restarted twice");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(stats.restarts.load(Ordering::Relaxed), 2);
        tx.send(true).unwrap();
        tokio::time::timeout(Duration::from_secs(10), set.join_next()).await.expect("stops on shutdown");
        assert_eq!(runs.load(Ordering::SeqCst), 3, "not restarted after shutdown");
    }
}
