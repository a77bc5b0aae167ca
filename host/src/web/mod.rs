//! The console and the REST API, served by `simian run` when `[web]` is configured.
//!
//! Owns HTTP: routes, authentication of each request (session cookie, bearer token or a
//! trusted proxy's header), CSRF and security headers, turning query strings into store
//! filters, and rendering. The console's pages call the same functions as the API's JSON
//! routes. It must never write the store except through the operations a role allows
//! (justify, unjustify, users and tokens), never render a stored string unescaped (item
//! names, tags and plugin output are attacker-controlled), and never answer 500 to bad input.

mod api;
mod assets;
mod auth;
mod error;
mod export;
pub mod monitor;
mod openapi;
mod pages;
mod params;
mod render;
mod security;
mod views;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

use crate::config::WebConfig;
use crate::runtime::Runtime;
use crate::store::Store;

pub use auth::LoginLimiter;

/// Requests larger than this are refused (413) before a handler reads them.
const MAX_BODY: usize = 64 * 1024;

/// What every handler sees.
pub struct WebState {
    pub runtime: Arc<Runtime>,
    pub store: Store,
    pub web: WebConfig,
    pub limiter: LoginLimiter,
    /// Per-process secret for the CSRF tokens of header-authenticated users (who have no
    /// session row to keep one in).
    header_csrf_key: [u8; 32],
}

pub type Shared = Arc<WebState>;

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("the console needs the store, and this host has none")]
    NoStore,
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("TLS: {0}")]
    Tls(String),
    #[error("the system's random source failed: {0}")]
    Random(String),
}

impl WebState {
    pub fn new(runtime: Arc<Runtime>, web: WebConfig) -> Result<Shared, ServeError> {
        let store = runtime.store().map_err(|_| ServeError::NoStore)?.clone();
        let mut header_csrf_key = [0u8; 32];
        getrandom::fill(&mut header_csrf_key).map_err(|e| ServeError::Random(e.to_string()))?;
        Ok(Arc::new(WebState {
            runtime,
            store,
            web,
            limiter: LoginLimiter::default(),
            header_csrf_key,
        }))
    }
}

/// Every route. `/health`, `/health/ready` and the login page are the only ones open to
/// anonymous callers.
pub fn router(state: Shared) -> Router {
    let api = Router::new()
        .route("/items", get(api::items))
        .route("/items/{id}", get(api::item))
        .route("/items/{id}/revisions", get(api::revisions))
        .route("/items/{id}/diff", get(api::diff))
        .route("/compare", get(api::compare))
        .route("/issues", get(api::issues))
        .route("/issues/groups", get(api::issue_groups))
        .route("/issues/justify", post(api::justify_bulk))
        .route("/issues/{id}", get(api::issue))
        .route("/issues/{id}/justify", post(api::justify))
        .route("/issues/{id}/unjustify", post(api::unjustify))
        .route("/accounts", get(api::accounts))
        .route("/plugins", get(api::plugins))
        .route("/sweeps", get(api::sweeps))
        .route("/dashboard", get(api::dashboard))
        .route("/users", get(api::users))
        .route("/tokens", get(api::tokens).post(api::create_token))
        .route("/tokens/{id}/revoke", post(api::revoke_token))
        .route("/export/items.csv", get(export::items_csv))
        .route("/export/items.json", get(export::items_json))
        .route("/export/issues.csv", get(export::issues_csv))
        .route("/export/issues.json", get(export::issues_json))
        .route("/openapi.json", get(openapi::document))
        .fallback(api::not_found);
    Router::new()
        .merge(monitor::open_routes(state.runtime.clone()))
        .route("/metrics", get(monitor::metrics))
        .route("/login", get(auth::login_page).post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/", get(pages::dashboard))
        .route("/items", get(pages::items))
        .route("/items/{id}", get(pages::item))
        .route("/issues", get(pages::issues))
        .route("/issues/group", get(pages::issue_group))
        .route("/issues/justify", post(pages::justify_bulk))
        .route("/issues/{id}/justify", post(pages::justify))
        .route("/issues/{id}/unjustify", post(pages::unjustify))
        .route("/compare", get(pages::compare))
        .route("/plugins", get(pages::plugins))
        .route("/accounts", get(pages::accounts))
        .route("/api", get(openapi::page))
        .route("/static/{name}", get(assets::file))
        .nest("/api/v1", api)
        .fallback(pages::not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security::headers,
        ))
        .with_state(state)
}

/// A running console: its address, and the task serving it (aborted on drop).
pub struct WebServer {
    pub addr: SocketAddr,
    pub(crate) task: tokio::task::JoinHandle<()>,
}

impl Drop for WebServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Listen on `[web] listen` (port 0 picks a free one) and serve until dropped.
pub async fn serve(runtime: Arc<Runtime>, web: WebConfig) -> Result<WebServer, ServeError> {
    let tls = web.tls.clone();
    let state = WebState::new(runtime, web)?;
    let listener = tokio::net::TcpListener::bind(state.web.listen)
        .await
        .map_err(|source| ServeError::Bind {
            addr: state.web.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| ServeError::Bind {
        addr: state.web.listen,
        source,
    })?;
    let app = router(state).into_make_service_with_connect_info::<security::PeerAddr>();
    let task = match tls {
        None => tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!("console stopped: {e}");
            }
        }),
        Some((cert, key)) => {
            let listener = security::TlsListener::new(listener, &cert, &key)?;
            tokio::spawn(async move {
                if let Err(e) = axum::serve(listener, app).await {
                    tracing::error!("console stopped: {e}");
                }
            })
        }
    };
    Ok(WebServer { addr, task })
}
