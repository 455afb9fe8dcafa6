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
    let stats = &s.app.executor.stats;
    let body = format!(
        "# HELP ferrobase_graphql_requests_total GraphQL operations executed.\n\
         # TYPE ferrobase_graphql_requests_total counter\n\
         ferrobase_graphql_requests_total {}\n\
         # HELP ferrobase_graphql_errors_total GraphQL operations that returned errors.\n\
         # TYPE ferrobase_graphql_errors_total counter\n\
         ferrobase_graphql_errors_total {}\n\
         # HELP ferrobase_sql_statements_total SQL statements run against the database.\n\
         # TYPE ferrobase_sql_statements_total counter\n\
         ferrobase_sql_statements_total {}\n\
         # HELP ferrobase_plans_compiled_total GraphQL operations compiled into SQL plans (first of their kind).\n\
         # TYPE ferrobase_plans_compiled_total counter\n\
         ferrobase_plans_compiled_total {}\n\
         # HELP ferrobase_plan_cache_hits_total Operations that ran a cached plan (no parsing, validation or SQL building).\n\
         # TYPE ferrobase_plan_cache_hits_total counter\n\
         ferrobase_plan_cache_hits_total {}\n\
         # HELP ferrobase_graphql_executor_fallback_total Operations run by the general GraphQL executor.\n\
         # TYPE ferrobase_graphql_executor_fallback_total counter\n\
         ferrobase_graphql_executor_fallback_total {}\n\
         # HELP ferrobase_info Build information.\n\
         # TYPE ferrobase_info gauge\n\
         ferrobase_info{{version=\"{}\",backend=\"{:?}\"}} 1\n",
        m.graphql_requests.load(Ordering::Relaxed),
        m.graphql_errors.load(Ordering::Relaxed),
        s.app.state.statement_count(),
        stats.compiled.load(Ordering::Relaxed),
        stats.reused.load(Ordering::Relaxed),
        stats.fallback.load(Ordering::Relaxed),
        env!("CARGO_PKG_VERSION"),
        s.app.state.backend(),
    );
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body)
}
