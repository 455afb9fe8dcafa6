//! The job worker: claims due jobs, runs each by its kind, and completes or fails it.

use super::Shutdown;
use crate::app::AppState;
use crate::jobs::{self, Job};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// Jobs claimed at a time.
const BATCH: u32 = 8;
/// Longest one job may run.
const JOB_TIMEOUT: Duration = Duration::from_secs(60);
/// How often an idle worker looks for jobs enqueued elsewhere (another instance, a retry).
const POLL: Duration = Duration::from_secs(1);

pub async fn run(st: Arc<AppState>, mut shutdown: Shutdown) -> anyhow::Result<()> {
    let db = crate::db::background(&st.config.database_url).await?;
    loop {
        if super::is_stopping(&shutdown) {
            return Ok(());
        }
        let claimed = jobs::claim(&db, BATCH, jobs::LEASE).await.map_err(|e| anyhow::anyhow!(e.message))?;
        if claimed.is_empty() {
            tokio::select! {
                _ = st.jobs.wait(POLL) => {}
                _ = super::stopped(&mut shutdown) => {}
            }
            continue;
        }
        for job in claimed {
            let outcome = match tokio::time::timeout(JOB_TIMEOUT, perform(&st, &job)).await {
                Ok(r) => r,
                Err(_) => Err(anyhow::anyhow!("timed out after {} s", JOB_TIMEOUT.as_secs())),
            };
            let stats = &st.workers;
            match outcome {
                Ok(()) => {
                    jobs::complete(&db, &job).await.map_err(|e| anyhow::anyhow!(e.message))?;
                    stats.jobs_done.fetch_add(1, Ordering::Relaxed);
                }
                Err(e) => {
                    let last = job.attempts >= job.max_attempts;
                    tracing::warn!(job = %job.id, kind = %job.kind, attempt = job.attempts, last, "a job failed: {e:#}");
                    jobs::fail(&db, &job, &format!("{e:#}"), None).await.map_err(|e| anyhow::anyhow!(e.message))?;
                    let counter = if last { &stats.jobs_failed } else { &stats.jobs_retried };
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }
}

/// Runs one job by its kind.
async fn perform(st: &AppState, job: &Job) -> anyhow::Result<()> {
    match job.kind.as_str() {
        crate::graphql::ACCOUNT_EMAIL_JOB => crate::graphql::send_account_email(st, &job.payload).await,
        other => anyhow::bail!("no worker does jobs of kind {other:?}"),
    }
}
