//! `simian run`: the long-running host.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;

use crate::config::Config;
use crate::services::HostServices;
use crate::services::items::MemoryItems;

pub async fn run(config: Option<&Path>) -> anyhow::Result<ExitCode> {
    let config = Arc::new(Config::discover(config)?);
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create data dir {}", config.data_dir.display()))?;
    std::fs::create_dir_all(&config.plugins.dir)
        .with_context(|| format!("cannot create plugins dir {}", config.plugins.dir.display()))?;
    // Until the store lands, plugins' item lookups see no items.
    let items = Arc::new(MemoryItems::default());
    let services =
        Arc::new(HostServices::from_config(&config, items).map_err(|e| anyhow::anyhow!("{e}"))?);
    let set = crate::plugin::plugin_set(config.clone(), services)?;
    // Watch before the first scan so nothing dropped in meanwhile is missed.
    let _reloader = crate::plugin::reload::watch(set.clone())?;
    set.scan().await;
    let _control = crate::control::serve(
        &config.control_socket(),
        set.clone(),
        config.plugins.batch_size,
    )
    .await?;
    let loaded = set.snapshot().len();
    let rejected = set.rejections().await.len();
    tracing::info!(
        plugins_dir = %config.plugins.dir.display(),
        socket = %config.control_socket().display(),
        loaded,
        rejected,
        "simian host ready"
    );
    let mut events = set.subscribe();
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
                }
            }
        }
    }
    tracing::info!("simian host stopping");
    Ok(ExitCode::SUCCESS)
}
