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
    let progress = Arc::new(crate::pipeline::Progress::default());
    let _control = crate::control::serve(
        &config.control_socket(),
        crate::control::Context {
            set: set.clone(),
            batch_size: config.plugins.batch_size,
            store: Some(store.clone()),
            progress: progress.clone(),
        },
    )
    .await?;
    // Delivers what earlier runs left in the outbox, too.
    let deliverer = crate::notify::start(store.clone(), set.clone(), config.notify.clone());
    // The plugins found at startup re-audit the store before the first sweep, so a sweep's
    // notifications never race a startup re-audit's over the same issues.
    while let Ok(event) = events.try_recv() {
        on_plugin_change(
            &store,
            &set,
            &progress,
            &event,
            config.plugins.batch_size,
            &deliverer.wake,
        )
        .await;
    }
    let _schedule = crate::watch::schedule::start(
        config.clone(),
        config.source.clone(),
        store.clone(),
        set.clone(),
        deliverer.wake.clone(),
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
                    let (store, set, progress) = (store.clone(), set.clone(), progress.clone());
                    let batch = config.plugins.batch_size;
                    let wake = deliverer.wake.clone();
                    // Off the event loop: a large store takes a while to re-audit.
                    tokio::spawn(async move {
                        on_plugin_change(&store, &set, &progress, &event, batch, &wake).await;
                    });
                }
            }
        }
    }
    tracing::info!("simian host stopping");
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

/// Bring stored results in line with the plugin set: a loaded or replaced auditor re-audits
/// every current item of its resource types (what changed is notified); an unloaded plugin's
/// open issues are retired, since no check stands behind them any more.
async fn on_plugin_change(
    store: &crate::store::Store,
    set: &crate::plugin::PluginSet,
    progress: &crate::pipeline::Progress,
    event: &crate::plugin::registry::PluginSetEvent,
    batch: usize,
    wake: &tokio::sync::Notify,
) {
    if event.change == crate::plugin::registry::Change::Unloaded {
        progress.forget(&event.plugin);
        match store.retire_plugin_issues(&event.plugin).await {
            Ok(n) => {
                tracing::info!(plugin = %event.plugin, retired = n, "unloaded plugin's open issues retired")
            }
            Err(e) => tracing::error!(plugin = %event.plugin, "issues could not be retired: {e}"),
        }
        return;
    }
    match crate::pipeline::reaudit_plugin(store, set, &event.plugin, batch, Some(progress)).await {
        Ok(a) => {
            tracing::info!(
                plugin = %event.plugin,
                generation = event.generation,
                audited = a.items_audited,
                new = a.new,
                fixed = a.fixed,
                regressed = a.regressed,
                failures = a.failures,
                "re-audited after the plugin set changed"
            );
            let origin = format!("reaudit:{}@{}", event.plugin, event.generation);
            crate::notify::publish(store, set, &origin, &[], &a, wake).await;
        }
        Err(e) => tracing::error!(plugin = %event.plugin, "re-audit could not be recorded: {e}"),
    }
}
