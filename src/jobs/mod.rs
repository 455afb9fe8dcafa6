//! The durable job queue (`ferrobase_jobs`): background work written in the transaction of the
//! request that needs it, done by a worker after (see `workers`). A job survives a crash or a
//! restart; a failed attempt is retried after `e^attempts` seconds (at most an hour, as
//! graphile-worker does), and a job that used up its attempts is kept with its last error
//! (`failed_at`) for an operator to look at.
//!
//! Claiming is one statement: due jobs are locked for [`LEASE`] (`FOR UPDATE SKIP LOCKED` on
//! PostgreSQL, so several instances share the queue without taking a job twice); a worker that
//! dies mid-job leaves its lock to expire, and the job is claimed again. At least once, by design.

mod queue;

pub use queue::{Job, Queue, claim, complete, enqueue, fail, retry_delay};

/// How long a claimed job is locked: a worker that has not finished by then is presumed dead.
pub const LEASE: std::time::Duration = std::time::Duration::from_secs(300);

/// Attempts of a job before it is kept as failed (default of `job_max_attempts`).
pub const DEFAULT_MAX_ATTEMPTS: i32 = 10;
