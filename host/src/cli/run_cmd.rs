//! `simian run`: the long-running host: plugins loaded and hot-reloaded, the watched accounts
//! swept on schedule, the control socket answering `simian plugins` and `simian audit`.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;

use crate::config::Config;
use crate::services::HostServices;

pub async fn run(config: Option<&Path>) -> anyhow::Result<ExitCode> {
    let config = Arc::new(Config::discover(config)?);
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create data dir {}", config.data_dir.display()))?;
    std::fs::create_dir_all(&config.plugins.dir)
        .with_context(|| format!("cannot create plugins dir {}", config.plugins.dir.display()))?;
    let store = crate::store::Store::open(&config.storage.url)
        .await
        .with_context(|| format!("cannot open the store at {}", config.storage.url))?;
    // Plugins' `items` lookups read the recorded configuration.
    let services = Arc::new(
        HostServices::from_config(&config, Arc::new(store.clone()))
            .map_err(|e| anyhow::anyhow!("{e}"))?,
    );
    let set = crate::plugin::plugin_set(config.clone(), services)?;
    // Subscribed before the first scan: plugins present at startup are re-audited too.
    let mut events = set.subscribe();
    // Watch before the first scan so nothing dropped in meanwhile is missed.
    let _reloader = crate::plugin::reload::watch(set.clone())?;
    set.scan().await;
    let _control = crate::control::serve(
        &config.control_socket(),
        set.clone(),
        config.plugins.batch_size,
    )
    .await?;
    let _schedule = crate::watch::schedule::start(
        config.clone(),
        config.source.clone(),
        store.clone(),
        set.clone(),
    )?;
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
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            _ = term.recv() => break,
            event = events.recv() => {
                if let Ok(event) = event {
                    tracing::info!(
                        plugin = %event.plugin,
                        change = ?event.change,
                        generation = event.generation,
                        set_generation = event.set_generation,
                        "plugin set changed"
                    );
                    if event.change != crate::plugin::registry::Change::Unloaded {
                        // Off the event loop: a large store takes a while to re-audit.
                        let (store, set) = (store.clone(), set.clone());
                        let batch = config.plugins.batch_size;
                        tokio::spawn(async move {
                            match crate::pipeline::reaudit_plugin(&store, &set, &event.plugin, batch).await {
                                Ok(a) => tracing::info!(
                                    plugin = %event.plugin,
                                    generation = event.generation,
                                    audited = a.items_audited,
                                    new = a.new,
                                    fixed = a.fixed,
                                    regressed = a.regressed,
                                    failures = a.failures,
                                    "re-audited after the plugin set changed"
                                ),
                                Err(e) => tracing::error!(plugin = %event.plugin, "re-audit could not be recorded: {e}"),
                            }
                        });
                    }
                }
            }
        }
    }
    tracing::info!("simian host stopping");
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
