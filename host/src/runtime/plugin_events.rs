//! What a change of the plugin set sets off: a loaded or replaced auditor re-audits every
//! current item of its resource types (and what changed is notified); an unloaded plugin's open
//! issues are retired, since no check stands behind them any more.
//!
//! It must never decide which plugins serve (the registry does) nor block the event loop: each
//! re-audit runs on its own task.

use std::sync::Arc;

use tokio::sync::broadcast;

use super::Runtime;
use crate::plugin::registry::{Change, PluginSetEvent};

impl Runtime {
    /// Bring stored results in line with one change of the plugin set.
    pub async fn on_plugin_change(&self, event: &PluginSetEvent) {
        let Some(store) = &self.store else {
            return;
        };
        if event.change == Change::Unloaded {
            self.progress.forget(&event.plugin);
            match store.retire_plugin_issues(&event.plugin).await {
                Ok(n) => {
                    tracing::info!(plugin = %event.plugin, retired = n, "unloaded plugin's open issues retired")
                }
                Err(e) => {
                    tracing::error!(plugin = %event.plugin, "issues could not be retired: {e}")
                }
            }
            return;
        }
        self.reaudit(
            &event.plugin,
            &format!("reaudit:{}@{}", event.plugin, event.generation),
        )
        .await;
    }

    /// Re-audit the stored items of one plugin's resource types and publish what changed.
    pub async fn reaudit(&self, plugin: &str, origin: &str) {
        let Some(store) = &self.store else {
            return;
        };
        let batch = self.config().plugins.batch_size;
        match crate::pipeline::reaudit_plugin(
            store,
            &self.plugins,
            plugin,
            batch,
            Some(&self.progress),
        )
        .await
        {
            Ok(a) => {
                tracing::info!(
                    plugin,
                    audited = a.items_audited,
                    new = a.new,
                    fixed = a.fixed,
                    regressed = a.regressed,
                    failures = a.failures,
                    origin,
                    "re-audited"
                );
                crate::notify::publish(store, &self.plugins, origin, &[], &a, &self.notify_wake)
                    .await;
            }
            Err(e) => tracing::error!(plugin, "re-audit could not be recorded: {e}"),
        }
    }

    /// Handle the changes already queued on `events` (e.g. the plugins found at startup), in
    /// order and to completion.
    pub async fn drain_plugin_events(&self, events: &mut broadcast::Receiver<PluginSetEvent>) {
        while let Ok(event) = events.try_recv() {
            self.on_plugin_change(&event).await;
        }
    }
}

/// Follow the plugin set's changes for as long as the returned task lives; each change is
/// handled on its own task, since a large store takes a while to re-audit.
pub fn follow(
    runtime: Arc<Runtime>,
    mut events: broadcast::Receiver<PluginSetEvent>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match events.recv().await {
                Ok(event) => {
                    tracing::info!(
                        plugin = %event.plugin,
                        change = ?event.change,
                        generation = event.generation,
                        set_generation = event.set_generation,
                        "plugin set changed"
                    );
                    let runtime = runtime.clone();
                    tokio::spawn(async move { runtime.on_plugin_change(&event).await });
                }
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "plugin set changes missed; re-auditing all");
                    for plugin in runtime.plugins.snapshot().keys() {
                        let runtime = runtime.clone();
                        let plugin = plugin.clone();
                        tokio::spawn(async move {
                            runtime.reaudit(&plugin, &format!("reaudit:{plugin}")).await
                        });
                    }
                }
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    })
}
