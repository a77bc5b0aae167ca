//! Live reload of the whole configuration file: accounts and networks, overrides, and each
//! plugin's settings, grants, limits and pin, without a restart.
//!
//! Owns watching the file and working out what an edit changed: plugins whose operator
//! section (or the `[plugins]` limits) changed are loaded again under the new terms (a plugin
//! that no longer passes them is unloaded), plugins whose overrides changed re-audit, the
//! schedule looks again. A broken edit changes nothing: the previous configuration keeps
//! serving and the error shows in the log and `simian plugins`. It must never apply half an
//! edit.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use notify_debouncer_full::{DebounceEventResult, Debouncer, RecommendedCache, new_debouncer};

use super::Runtime;
use crate::config::Config;

/// What one applied edit set off.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigChange {
    /// Plugins loaded again under new settings, grants, limits or pin.
    pub reloaded: Vec<String>,
    /// Plugins re-audited because their overrides changed.
    pub reaudited: Vec<String>,
    /// Settings that changed but only take effect at the next start.
    pub needs_restart: Vec<&'static str>,
}

impl Runtime {
    /// Make `new` the configuration in force and bring everything in line with it.
    pub async fn apply_config(&self, new: Config) -> ConfigChange {
        let old = self.config();
        let mut change = ConfigChange::default();
        for (what, differs) in [
            ("data_dir", old.data_dir != new.data_dir),
            ("storage.url", old.storage.url != new.storage.url),
            ("plugins.dir", old.plugins.dir != new.plugins.dir),
            (
                "plugins.max_instances",
                old.plugins.max_instances != new.plugins.max_instances,
            ),
            (
                "plugins.max_memory_mib",
                old.plugins.max_memory_mib != new.plugins.max_memory_mib,
            ),
            ("smtp", old.smtp != new.smtp),
            (
                "events.queue_url",
                old.events.queue_url != new.events.queue_url,
            ),
            ("monitor.listen", old.monitor.listen != new.monitor.listen),
        ] {
            if differs {
                change.needs_restart.push(what);
            }
        }

        // Every plugin when the defaults or ceilings all plugins run under changed.
        let limits_changed = (
            old.plugins.memory_mib,
            old.plugins.timeout_ms,
            old.plugins.max_timeout_ms,
            old.plugins.max_file_bytes,
            old.plugins.budget_window_seconds,
        ) != (
            new.plugins.memory_mib,
            new.plugins.timeout_ms,
            new.plugins.max_timeout_ms,
            new.plugins.max_file_bytes,
            new.plugins.budget_window_seconds,
        );
        let mut ids: BTreeSet<String> = old
            .plugin
            .keys()
            .chain(new.plugin.keys())
            .cloned()
            .collect();
        if limits_changed {
            ids.extend(self.plugins.snapshot().keys().cloned());
            ids.extend(self.plugins.statuses().await.into_iter().filter_map(|s| {
                s.dir
                    .file_name()
                    .and_then(|n| n.to_str())
                    .map(str::to_string)
            }));
        }
        let reload: BTreeSet<String> = ids
            .into_iter()
            .filter(|id| limits_changed || old.plugin.get(id) != new.plugin.get(id))
            .collect();
        let overridden = |c: &Config, id: &str| -> Vec<crate::config::Override> {
            c.overrides
                .iter()
                .filter(|o| o.plugin == id)
                .cloned()
                .collect()
        };
        let named: BTreeSet<String> = old
            .overrides
            .iter()
            .chain(new.overrides.iter())
            .map(|o| o.plugin.clone())
            .collect();
        let reaudit: Vec<String> = named
            .into_iter()
            .filter(|id| overridden(&old, id) != overridden(&new, id) && !reload.contains(id))
            .collect();

        self.services.rebuild_accounts(&new);
        self.config.store(Arc::new(new));
        self.set_config_error(None);

        for id in &reload {
            // Its re-audit follows from the plugin set's change event.
            self.plugins.reload_plugin(id).await;
        }
        for id in &reaudit {
            if self.plugins.get(id).is_some() {
                self.reaudit(id, &format!("reaudit:{id}:overrides")).await;
            }
        }
        change.reloaded = reload.into_iter().collect();
        change.reaudited = reaudit;
        change
    }

    /// Read the file again and apply it, or keep the configuration serving and say why not.
    pub async fn reload_config_file(&self, path: &Path) -> Result<ConfigChange, String> {
        match Config::load(path).and_then(|c| crate::resource_types::check_config(&c).map(|_| c)) {
            Ok(new) => {
                let change = self.apply_config(new).await;
                let watched = super::sweep::watched_accounts(&self.config(), None).len();
                tracing::info!(
                    watched_accounts = watched,
                    reloaded = ?change.reloaded,
                    reaudited = ?change.reaudited,
                    "configuration reloaded"
                );
                if !change.needs_restart.is_empty() {
                    tracing::warn!(
                        settings = ?change.needs_restart,
                        "these settings changed but take effect only when simian run restarts"
                    );
                }
                self.config_changed.notify_one();
                Ok(change)
            }
            Err(e) => {
                let message = e.to_string();
                tracing::error!("configuration change ignored, the previous one serves: {message}");
                self.set_config_error(Some(message.clone()));
                Err(message)
            }
        }
    }
}

/// Watches the configuration file for as long as it lives.
pub struct ConfigWatcher {
    _debouncer: Debouncer<notify::RecommendedWatcher, RecommendedCache>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ConfigWatcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub fn watch(runtime: Arc<Runtime>, path: &Path) -> anyhow::Result<ConfigWatcher> {
    let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let dir = path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    let file = path.clone();
    // Editors replace files by rename; watch the directory and pick out the file.
    let mut debouncer = new_debouncer(
        Duration::from_millis(100),
        None,
        move |result: DebounceEventResult| {
            let Ok(events) = result else { return };
            let touched = events.iter().any(|e| {
                !matches!(e.kind, notify::EventKind::Access(_))
                    && e.paths.iter().any(|p| p == &file)
            });
            if touched {
                let _ = tx.send(());
            }
        },
    )?;
    debouncer.watch(&dir, notify::RecursiveMode::NonRecursive)?;
    let task = tokio::spawn(async move {
        while rx.recv().await.is_some() {
            // One reload for a burst of events.
            while rx.try_recv().is_ok() {}
            let _ = runtime.reload_config_file(&path).await;
        }
    });
    Ok(ConfigWatcher {
        _debouncer: debouncer,
        task,
    })
}
