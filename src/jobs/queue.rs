//! Enqueueing, claiming, completing and failing jobs.

use crate::error::{ApiError, ApiResult};
use crate::sql::values::{datetime, now};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};
use serde_json::Value as Json;
use std::time::Duration;

const TABLE: &str = migration::JOBS_TABLE;

/// A claimed job.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: String,
    pub kind: String,
    pub payload: Json,
    /// Attempts so far, this one included.
    pub attempts: i32,
    pub max_attempts: i32,
}

/// Wakes idle workers when a job is enqueued in this process (others poll).
#[derive(Default)]
pub struct Queue {
    wake: tokio::sync::Notify,
}

impl Queue {
    /// Tells a waiting worker there is work (call after the enqueueing transaction commits).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Waits until [`wake`](Self::wake) or `timeout`.
    pub async fn wait(&self, timeout: Duration) {
        let _ = tokio::time::timeout(timeout, self.wake.notified()).await;
    }
}

/// Writes a job of `kind` with `payload`, due now, in `db` (a request's transaction, so the job
/// exists if and only if the request's writes do). Returns its id.
pub async fn enqueue<C: ConnectionTrait>(db: &C, kind: &str, payload: &Json, max_attempts: i32) -> ApiResult<String> {
    let backend = db.get_database_backend();
    let id = uuid::Uuid::now_v7().to_string();
    let t = datetime(now(), backend);
    let mut q = Query::insert();
    q.into_table(Alias::new(TABLE))
        .columns(["id", "kind", "payload", "run_at", "attempts", "max_attempts", "created_at"].map(Alias::new))
        .values_panic([
            id.clone().into(),
            kind.into(),
            crate::auth::json_value(payload.clone(), backend).into(),
            t.clone().into(),
            0.into(),
            max_attempts.into(),
            t.into(),
        ]);
    db.execute(&q).await?;
    Ok(id)
}

/// Claims up to `limit` due jobs, oldest first, locking them for `lease`.
pub async fn claim<C: ConnectionTrait>(db: &C, limit: u32, lease: Duration) -> ApiResult<Vec<Job>> {
    let backend = db.get_database_backend();
    let t = now();
    let until = t + chrono::Duration::from_std(lease).map_err(ApiError::internal)?;
    let (sql, lock, payload) = match backend {
        DatabaseBackend::Postgres => ("$", " FOR UPDATE SKIP LOCKED", "payload::text"),
        _ => ("?", "", "payload"),
    };
    let p = |n: usize| if sql == "$" { format!("${n}") } else { "?".to_string() };
    let text = format!(
        "UPDATE {TABLE} SET locked_until = {}, attempts = attempts + 1 WHERE id IN (SELECT id FROM {TABLE} \
         WHERE failed_at IS NULL AND run_at <= {} AND (locked_until IS NULL OR locked_until < {}) \
         ORDER BY run_at LIMIT {limit}{lock}) RETURNING id, kind, {payload} AS payload, attempts, max_attempts",
        p(1),
        p(2),
        p(3)
    );
    let values = vec![datetime(until, backend), datetime(t, backend), datetime(t, backend)];
    let rows = db.query_all_raw(Statement::from_sql_and_values(backend, text, values)).await?;
    let mut jobs = rows
        .iter()
        .map(|r| {
            let payload: String = r.try_get("", "payload")?;
            Ok(Job {
                id: r.try_get("", "id")?,
                kind: r.try_get("", "kind")?,
                payload: serde_json::from_str(&payload).map_err(ApiError::internal)?,
                attempts: r.try_get("", "attempts")?,
                max_attempts: r.try_get("", "max_attempts")?,
            })
        })
        .collect::<ApiResult<Vec<Job>>>()?;
    // RETURNING follows no ORDER BY: oldest first again (ids are UUIDv7, ordered by time).
    jobs.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(jobs)
}

/// A job is done: it leaves the queue.
pub async fn complete<C: ConnectionTrait>(db: &C, job: &Job) -> ApiResult<()> {
    let mut q = Query::delete();
    q.from_table(Alias::new(TABLE)).and_where(Expr::col("id").eq(job.id.clone()));
    db.execute(&q).await?;
    Ok(())
}

/// The wait before the attempt after `attempts` failed ones: `e^attempts` seconds, at most an
/// hour (2.7 s, 7.4 s, 20 s, 55 s, 2.5 min, ...).
pub fn retry_delay(attempts: i32) -> Duration {
    Duration::from_secs_f64((attempts.clamp(0, 10) as f64).exp().min(3600.0))
}

/// A job's attempt failed with `error`: it is retried later (not before `not_before`, when the
/// other side said when), or kept as failed once it has used up its attempts.
pub async fn fail<C: ConnectionTrait>(
    db: &C,
    job: &Job,
    error: &str,
    not_before: Option<DateTime<Utc>>,
) -> ApiResult<()> {
    let backend = db.get_database_backend();
    let t = now();
    let mut q = Query::update();
    q.table(Alias::new(TABLE)).value(Alias::new("last_error"), error.chars().take(2000).collect::<String>());
    q.value(Alias::new("locked_until"), Expr::cust("NULL"));
    if job.attempts >= job.max_attempts {
        q.value(Alias::new("failed_at"), datetime(t, backend));
    } else {
        let next = t + chrono::Duration::from_std(retry_delay(job.attempts)).map_err(ApiError::internal)?;
        let next = not_before.map_or(next, |n| Ord::max(n, next));
        q.value(Alias::new("run_at"), datetime(next, backend));
    }
    q.and_where(Expr::col("id").eq(job.id.clone()));
    db.execute(&q).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{TestDb, backends};
    use serde_json::json;

    #[test]
    fn retries_back_off_exponentially_up_to_an_hour() {
        assert_eq!(retry_delay(1).as_millis(), 2718);
        assert!(retry_delay(2) > retry_delay(1) * 2);
        assert_eq!(retry_delay(50), Duration::from_secs(3600).min(retry_delay(10)));
    }

    #[tokio::test]
    async fn jobs_are_claimed_once_retried_later_and_kept_when_they_run_out_of_attempts() {
        for backend in backends() {
            let dir = tempfile::tempdir().unwrap();
            let test_db = TestDb::create(backend, dir.path()).await.unwrap();
            let db = crate::db::connect(&test_db.url).await.unwrap();
            crate::ddl::migrate_system(&db).await.unwrap();
            let a = enqueue(&db, "email", &json!({"n": 1}), 2).await.unwrap();
            let b = enqueue(&db, "email", &json!({"n": 2}), 1).await.unwrap();
            let lease = Duration::from_secs(60);
            let jobs = claim(&db, 10, lease).await.unwrap();
            assert_eq!(
                jobs.iter().map(|j| j.id.clone()).collect::<Vec<_>>(),
                vec![a.clone(), b.clone()],
                "{backend:?}"
            );
            assert_eq!((jobs[0].payload.clone(), jobs[0].attempts), (json!({"n": 1}), 1));
            assert!(claim(&db, 10, lease).await.unwrap().is_empty(), "{backend:?}: locked jobs are not claimed twice");
            // a fails once: due again in e^1 s, not now; b fails on its last attempt: kept as failed.
            fail(&db, &jobs[0], "smtp down", None).await.unwrap();
            fail(&db, &jobs[1], "bad address", None).await.unwrap();
            assert!(claim(&db, 10, lease).await.unwrap().is_empty(), "{backend:?}");
            let row = |id: String| {
                let db = &db;
                async move {
                    let r = db
                        .query_one_raw(Statement::from_sql_and_values(
                            backend_of(db),
                            format!("SELECT attempts, last_error, CASE WHEN failed_at IS NULL THEN 0 ELSE 1 END AS failed FROM {TABLE} WHERE id = {}", if backend_of(db) == DatabaseBackend::Postgres { "$1" } else { "?" }),
                            [id.into()],
                        ))
                        .await
                        .unwrap()
                        .expect("the job is kept");
                    (
                        r.try_get::<i32>("", "attempts").unwrap(),
                        r.try_get::<String>("", "last_error").unwrap(),
                        r.try_get::<i32>("", "failed").unwrap(),
                    )
                }
            };
            assert_eq!(row(a.clone()).await, (1, "smtp down".into(), 0), "{backend:?}");
            assert_eq!(row(b.clone()).await, (1, "bad address".into(), 1), "{backend:?}");
            // A lease that ran out (a dead worker) frees the job for another claim.
            let c = enqueue(&db, "email", &json!({}), 3).await.unwrap();
            let first = claim(&db, 10, Duration::ZERO).await.unwrap();
            assert_eq!(first.len(), 1);
            let again = claim(&db, 10, lease).await.unwrap();
            assert_eq!((again[0].id.clone(), again[0].attempts), (c.clone(), 2), "{backend:?}");
            complete(&db, &again[0]).await.unwrap();
            assert!(claim(&db, 10, Duration::ZERO).await.unwrap().is_empty());
            db.close().await.ok();
            test_db.drop_database().await;
        }
    }

    fn backend_of(db: &sea_orm::DatabaseConnection) -> DatabaseBackend {
        db.get_database_backend()
    }
}
