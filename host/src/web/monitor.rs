//! Health and metrics over HTTP: `/health` (liveness: "ok" while the process serves),
//! `/health/ready` (503 until the store answers, the plugins are scanned and loaded and no
//! listing is stale or failing; counts only, no account or plugin names, so it needs no
//! login), and `/metrics` (Prometheus text: behind the console's login on the console's
//! listener, open on the metrics-only listener `[monitor] listen`, which the operator binds
//! to a private address).
//!
//! It must never expose more without a login than whether the host is healthy.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use super::auth::Caller;
use super::{ServeError, Shared, WebServer};
use crate::runtime::Runtime;

/// `/health` and `/health/ready`, for any router.
pub fn open_routes<S: Clone + Send + Sync + 'static>(runtime: Arc<Runtime>) -> Router<S> {
    Router::new()
        .route("/health", get(|| async { "ok" }))
        .route(
            "/health/ready",
            get(move || {
                let runtime = runtime.clone();
                async move { ready(&runtime).await }
            }),
        )
}

async fn ready(runtime: &Runtime) -> Response {
    let r = runtime.readiness().await;
    let stale = r
        .alarms
        .iter()
        .filter(|a| a.kind == crate::runtime::monitor::AlarmKind::StaleListing)
        .count();
    let failing = r.alarms.len() - stale;
    let body = json!({
        "ready": r.ready,
        "store": if r.store.is_ok() { "ok" } else { "unreachable" },
        "plugins_scanned": r.plugins_scanned,
        "plugins_loaded": r.plugins_loaded,
        "plugins_rejected": r.plugins_rejected.len(),
        "accounts_with_stale_listings": stale,
        "accounts_with_failing_listings": failing,
    });
    let status = if r.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(body)).into_response()
}

fn prometheus(text: String) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

/// `/metrics` on the console: any signed-in user or token.
pub async fn metrics(State(s): State<Shared>, _c: Caller) -> Response {
    prometheus(s.runtime.scrape().await)
}

/// The listener for `[monitor] listen` when the console is off: health and metrics only.
pub async fn serve(runtime: Arc<Runtime>, addr: SocketAddr) -> Result<WebServer, ServeError> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })?;
    let addr = listener
        .local_addr()
        .map_err(|source| ServeError::Bind { addr, source })?;
    let scraped = runtime.clone();
    let app: Router = open_routes(runtime).route(
        "/metrics",
        get(move || {
            let runtime = scraped.clone();
            async move { prometheus(runtime.scrape().await) }
        }),
    );
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!("metrics listener stopped: {e}");
        }
    });
    Ok(WebServer { addr, task })
}
