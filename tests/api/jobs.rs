//! The durable job queue and its worker, through account emails: a failed send is retried with
//! backoff, a crash loses nothing, and a job out of attempts is kept with its error.

use crate::common::*;
use crate::mail::smtp_sink::SmtpSink;
use sea_orm::ConnectionTrait;
use serde_json::json;

const REQUEST_RESET: &str = "mutation($e: String!) { requestPasswordReset(email: $e) }";

/// A port nothing listens on (bound, then released).
async fn closed_port() -> u16 {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    l.local_addr().unwrap().port()
}

/// `(attempts, last_error, failed)` of every job, oldest first.
async fn jobs(s: &TestServer) -> Vec<(i32, Option<String>, bool)> {
    let sql = "SELECT attempts, last_error, failed_at IS NOT NULL AS failed FROM ferrobase_jobs ORDER BY id";
    let rows = s.state.db.query_all_raw(sea_orm::Statement::from_string(s.state.backend(), sql)).await.unwrap();
    rows.iter()
        .map(|r| {
            (r.try_get("", "attempts").unwrap(), r.try_get("", "last_error").unwrap(), r.try_get("", "failed").unwrap())
        })
        .collect()
}

#[tokio::test]
async fn a_failed_email_is_retried_and_survives_a_crash() {
    for backend in backends() {
        let down = closed_port().await;
        let s = TestServer::start_with(backend, BLOG, |c| c.smtp_url = Some(format!("smtp://127.0.0.1:{down}"))).await;
        sign_up(&s, "ada@example.com").await;
        let r = s.gql_as(None, REQUEST_RESET, json!({"e": "ada@example.com"})).await;
        assert_eq!(r["data"]["requestPasswordReset"], true, "{r}");
        // The worker tried, failed, and scheduled a retry (the job stays in the queue).
        eventually("the first attempt failed", || async {
            jobs(&s).await.first().is_some_and(|(attempts, err, failed)| *attempts == 1 && err.is_some() && !failed)
        })
        .await;

        // A crash, then a restart with the mail server up: the queued email is sent.
        let (sink, port) = SmtpSink::start().await;
        let s = s.crash_and_restart(|c| c.smtp_url = Some(format!("smtp://127.0.0.1:{port}"))).await;
        eventually("the email arrived after the restart", || async { !sink.messages().is_empty() }).await;
        let m = &sink.messages()[0];
        assert_eq!(m.rcpt_to, vec!["ada@example.com".to_string()], "{backend:?}");
        assert!(m.body().contains("/reset-password?token="), "{}", m.body());
        eventually("the job left the queue", || async { jobs(&s).await.is_empty() }).await;
        // Counted just after the job leaves the queue.
        let done = || s.state.workers.jobs_done.load(std::sync::atomic::Ordering::Relaxed);
        eventually("the job was counted as done", || async { done() >= 1 }).await;
        assert_eq!(done(), 1, "{backend:?}: done once");
        s.finish().await;
    }
}

#[tokio::test]
async fn a_job_out_of_attempts_is_kept_with_its_error() {
    for backend in backends() {
        let down = closed_port().await;
        let s = TestServer::start_with(backend, BLOG, |c| {
            c.smtp_url = Some(format!("smtp://127.0.0.1:{down}"));
            c.job_max_attempts = 1;
        })
        .await;
        sign_up(&s, "bob@example.com").await;
        s.gql_as(None, REQUEST_RESET, json!({"e": "bob@example.com"})).await;
        eventually("the job failed for good", || async {
            jobs(&s).await.first().is_some_and(|(attempts, err, failed)| *attempts == 1 && err.is_some() && *failed)
        })
        .await;
        let metrics = s.client.get(format!("{}/metrics", s.url)).send().await.unwrap().text().await.unwrap();
        assert!(metrics.contains("ferrobase_jobs_failed_total 1"), "{metrics}");
        // An unknown email queues the same job, which finds no account and sends nothing.
        s.gql_as(None, REQUEST_RESET, json!({"e": "nobody@example.com"})).await;
        eventually("the unknown email's job is done", || async { jobs(&s).await.len() == 1 }).await;
        s.finish().await;
    }
}
