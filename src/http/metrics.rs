//! `GET /metrics`: Prometheus text format.

use super::HttpState;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use std::sync::atomic::{AtomicU64, Ordering};

/// Counters the HTTP layer keeps.
#[derive(Default)]
pub struct HttpMetrics {
    pub graphql_requests: AtomicU64,
    pub graphql_errors: AtomicU64,
}

pub async fn render(State(s): State<HttpState>) -> impl IntoResponse {
    let m = &s.metrics;
    let st = &s.app.state;
    let plans = &s.app.executor.stats;
    let rt = &s.app.realtime.stats;
    let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
    let mut counters = vec![
        ("ferrobase_graphql_requests_total", "GraphQL operations executed.", load(&m.graphql_requests)),
        ("ferrobase_graphql_errors_total", "GraphQL operations that returned errors.", load(&m.graphql_errors)),
        ("ferrobase_sql_statements_total", "SQL statements run against the database.", st.statement_count()),
        (
            "ferrobase_plans_compiled_total",
            "GraphQL operations compiled into SQL plans (first of their kind).",
            load(&plans.compiled),
        ),
        (
            "ferrobase_plan_cache_hits_total",
            "Operations that ran a cached plan (no parsing, validation or SQL building).",
            load(&plans.reused),
        ),
        (
            "ferrobase_graphql_executor_fallback_total",
            "Operations run by the general GraphQL executor.",
            load(&plans.fallback),
        ),
        ("ferrobase_changes_published_total", "Row changes published after commit.", load(&st.changes.stats.published)),
        ("ferrobase_jobs_done_total", "Background jobs done.", load(&st.workers.jobs_done)),
        ("ferrobase_jobs_retried_total", "Failed job attempts that will be retried.", load(&st.workers.jobs_retried)),
        ("ferrobase_jobs_failed_total", "Jobs kept as failed after their last attempt.", load(&st.workers.jobs_failed)),
        (
            "ferrobase_worker_restarts_total",
            "Background workers restarted after an error or a panic.",
            load(&st.workers.restarts),
        ),
        (
            "ferrobase_subscription_deliveries_total",
            "Subscription results queued to subscribers.",
            load(&rt.deliveries),
        ),
        (
            "ferrobase_subscription_drops_total",
            "Subscribers disconnected for not reading their deliveries in time.",
            load(&rt.dropped),
        ),
        ("ferrobase_subscription_events_total", "Committed changes handled by realtime delivery.", load(&rt.events)),
        (
            "ferrobase_subscription_statements_total",
            "SQL statements run for subscription deliveries (one per plan and change).",
            load(&rt.statements),
        ),
        (
            "ferrobase_subscription_missed_total",
            "Changes realtime delivery missed because it fell behind.",
            load(&rt.missed),
        ),
    ];
    if let Some(c) = &st.cluster {
        counters.extend([
            ("ferrobase_cluster_sent_total", "Changes sent to other instances (NOTIFY).", load(&c.stats.sent)),
            ("ferrobase_cluster_received_total", "Changes received from other instances.", load(&c.stats.received)),
            ("ferrobase_cluster_dropped_total", "Changes not sent: the send queue was full.", load(&c.stats.dropped)),
            (
                "ferrobase_cluster_gaps_total",
                "Times the LISTEN connection was lost (and caught up from the change log).",
                load(&c.stats.gaps),
            ),
            (
                "ferrobase_cluster_replayed_total",
                "Changes from other instances delivered by catching up after a lost LISTEN connection.",
                load(&c.stats.replayed),
            ),
        ]);
    }
    let gauges = [
        ("ferrobase_websockets_open", "WebSocket connections open.", rt.sockets.load(Ordering::Relaxed)),
        ("ferrobase_subscriptions_active", "Subscriptions active.", rt.subscriptions.load(Ordering::Relaxed)),
    ];
    let mut body = String::with_capacity(4096);
    let mut family = |kind: &str, name: &str, help: &str, value: &dyn std::fmt::Display| {
        body.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"));
    };
    for (name, help, value) in &counters {
        family("counter", name, help, value);
    }
    for (name, help, value) in &gauges {
        family("gauge", name, help, value);
    }
    body.push_str(&format!(
        "# HELP ferrobase_info Build information.\n# TYPE ferrobase_info gauge\nferrobase_info{{version=\"{}\",backend=\"{:?}\"}} 1\n",
        env!("CARGO_PKG_VERSION"),
        st.backend(),
    ));
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body)
}
