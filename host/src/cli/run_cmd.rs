//! `simian run`: the long-running host: plugins loaded and hot-reloaded, the configuration
//! reloaded live, the watched accounts swept on schedule and refreshed as CloudTrail events
//! arrive, the control socket answering `simian plugins` and `simian audit`.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;

use crate::config::Config;
use crate::runtime::{Runtime, StoreAccess, config_watch, plugin_events, schedule};

pub async fn run(config: Option<&Path>) -> anyhow::Result<ExitCode> {
    let config = Config::discover(config)?;
    let source = config.source.clone();
    std::fs::create_dir_all(&config.plugins.dir)
        .with_context(|| format!("cannot create plugins dir {}", config.plugins.dir.display()))?;
    let runtime = Arc::new(Runtime::open(config, StoreAccess::Writer, None).await?);
    let set = runtime.plugins.clone();
    // Subscribed before the first scan: plugins present at startup are re-audited too.
    let mut events = set.subscribe();
    // Watch before the first scan so nothing dropped in meanwhile is missed.
    let (shadow_tx, shadow_rx) = crate::runtime::shadows::channel();
    let _reloader = crate::plugin::reload::watch(set.clone(), Some(shadow_tx))?;
    set.scan().await;
    runtime
        .observed
        .scanned
        .store(true, std::sync::atomic::Ordering::Relaxed);
    let config = runtime.config();
    let _control =
        crate::control::serve(&config.control_socket(), runtime.control_context()).await?;
    // Delivers what earlier runs left in the outbox, too; woken by what the runtime queues.
    let _deliverer = crate::notify::start(
        runtime.store()?.clone(),
        set.clone(),
        config.notify.clone(),
        runtime.notify_wake.clone(),
    );
    // The plugins found at startup re-audit the store before the first sweep, so a sweep's
    // notifications never race a startup re-audit's over the same issues.
    runtime.drain_plugin_events(&mut events).await;
    let _events = plugin_events::follow(runtime.clone(), events);
    let _shadows = crate::runtime::shadows::start(runtime.clone(), shadow_rx);
    let _config_watcher = match &source {
        Some(path) => Some(config_watch::watch(runtime.clone(), path)?),
        None => None,
    };
    let _schedule = schedule::start(runtime.clone());
    let _reaudits = crate::runtime::reaudit_schedule::start(runtime.clone());
    let _refresh = crate::runtime::refresh::start(runtime.clone()).await;
    // The console is configured at start; a changed `[web]` section takes a restart.
    let _web = match config.web.clone() {
        Some(web) => {
            let scheme = if web.tls.is_some() { "https" } else { "http" };
            let server = crate::web::serve(runtime.clone(), web).await?;
            tracing::info!(url = %format!("{scheme}://{}", server.addr), "console listening");
            Some(server)
        }
        None => match config.monitor.listen {
            // Health and metrics still served without the console.
            Some(addr) => {
                let server = crate::web::monitor::serve(runtime.clone(), addr).await?;
                tracing::info!(url = %format!("http://{}", server.addr), "metrics listening");
                Some(server)
            }
            None => None,
        },
    };
    let _monitor = crate::runtime::monitor::start(runtime.clone());
    let _budgets = crate::runtime::budgets::start(runtime.clone());
    let loaded = set.snapshot().len();
    let rejected = set.rejections().await.len();
    tracing::info!(
        plugins_dir = %config.plugins.dir.display(),
        socket = %config.control_socket().display(),
        loaded,
        rejected,
        "simian host ready"
    );
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("cannot install SIGTERM handler")?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    tracing::info!("simian host stopping");
    if let Some(store) = &runtime.store {
        store.close().await;
    }
    Ok(ExitCode::SUCCESS)
}
