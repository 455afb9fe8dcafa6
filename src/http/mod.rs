//! HTTP transport: one router assembling each feature's routes, and graceful shutdown.

mod graphql;
mod metrics;
mod playground;
mod ws;

use crate::app::App;
use axum::Router;
use axum::routing::get;
use std::sync::Arc;

/// Shared by the handlers.
#[derive(Clone)]
pub struct HttpState {
    pub app: Arc<App>,
    pub metrics: Arc<metrics::HttpMetrics>,
    /// `true` once the server is shutting down (WebSockets close).
    pub shutdown: tokio::sync::watch::Receiver<bool>,
}

pub fn router(app: Arc<App>, shutdown: tokio::sync::watch::Receiver<bool>) -> Router {
    let cors = cors(&app.state.config.cors_origins);
    let state = HttpState { app, metrics: Default::default(), shutdown };
    let router = Router::new()
        .route("/graphql", get(graphql::get).post(graphql::post))
        .route("/", get(playground::page))
        .route("/playground/{file}", get(playground::asset))
        .route("/healthz", get(health))
        .route("/metrics", get(metrics::render))
        .with_state(state);
    router.layer(cors)
}

/// The CORS policy: with no allowlist configured, any origin may call the API, without
/// credentials (tokens travel in the `Authorization` header, never in cookies, so a page on
/// another origin can only act with a token it was given), as PocketBase and Supabase allow: a
/// front-end on another local port works on the first try. A configured list narrows it.
fn cors(origins: &[String]) -> tower_http::cors::CorsLayer {
    use axum::http::{HeaderValue, Method, header};
    use tower_http::cors::{AllowOrigin, CorsLayer};
    let allow = if origins.is_empty() || origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
    };
    CorsLayer::new()
        .allow_origin(allow)
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
        .max_age(std::time::Duration::from_secs(600))
}

async fn health() -> &'static str {
    "ok"
}

/// Serves until Ctrl-C / SIGTERM, with the background workers beside it; then drains in-flight
/// requests and lets the workers finish what they hold.
pub async fn serve(app: App, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    // Dropping the set (this future cancelled) stops the workers too.
    let mut workers = tokio::task::JoinSet::new();
    let app = Arc::new(app);
    crate::workers::start(&app, &mut workers, shutdown.clone());
    let realtime = app.realtime.clone();
    let signal = async move {
        shutdown_signal().await;
        // WebSockets and workers learn of it now; HTTP requests drain.
        let _ = stop.send(true);
    };
    // Small writes (a subscription's deliveries, one after another on a socket) go out at once,
    // not held back by Nagle's algorithm until the previous one is acknowledged.
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!("TCP_NODELAY could not be set: {e}");
        }
    });
    let served =
        axum::serve(listener, router(app, shutdown).into_make_service_with_connect_info::<std::net::SocketAddr>())
            .with_graceful_shutdown(signal)
            .await;
    // Upgraded sockets are not HTTP requests: wait for them to say goodbye (1001).
    let closing = async {
        while realtime.stats.sockets.load(std::sync::atomic::Ordering::Relaxed) > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    };
    if tokio::time::timeout(std::time::Duration::from_secs(15), closing).await.is_err() {
        tracing::warn!("some WebSockets did not close within 15 s");
    }
    if tokio::time::timeout(std::time::Duration::from_secs(30), async { while workers.join_next().await.is_some() {} })
        .await
        .is_err()
    {
        tracing::warn!("background workers did not stop within 30 s");
    }
    served
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down: draining requests");
}
