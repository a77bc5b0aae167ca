//! The runtime: the one owner of a live host.
//!
//! Owns the only live configuration (reloaded whole, in place), the store, the plugin set, the
//! host services, re-audit progress and the notification waker, built by one bootstrap every
//! command uses; and the sequences that tie them together: sweep → audit → notify, and what a
//! change of the plugin set or the configuration sets off. It must never parse arguments or
//! print: the CLI does that, and `watch`, `plugin`, `pipeline` and `notify` each do one step.

pub mod actors;
pub mod budgets;
pub mod config_watch;
pub mod monitor;
pub mod plugin_events;
pub mod reaudit_schedule;
pub mod refresh;
pub mod schedule;
pub mod shadows;
pub mod sweep;

use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use arc_swap::ArcSwap;
use tokio::sync::Notify;

use crate::config::Config;
use crate::events::lookup::{ActorLookup, CloudTrailLookup};
use crate::pipeline::Progress;
use crate::plugin::PluginSet;
use crate::services::HostServices;
use crate::services::items::{ItemSource, MemoryItems};
use crate::store::Store;
use sweep::{SweepOptions, SweepReport};

/// How a command uses the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreAccess {
    /// Sweeps and records: opening also marks sweeps a dead process left running as aborted.
    Writer,
    /// Only reads; never touches what a running host has in flight.
    Reader,
    /// Reads if there is a store yet, else runs without one (`simian plugins` before any sweep).
    ReaderIfPresent,
    /// No store: plugins' `items` lookups are answered from the given items.
    None,
}

pub struct Runtime {
    config: Arc<ArcSwap<Config>>,
    pub store: Option<Store>,
    pub plugins: Arc<PluginSet>,
    pub services: Arc<HostServices>,
    pub progress: Arc<Progress>,
    /// Wakes the notification deliverer (if one runs in this process).
    pub notify_wake: Arc<Notify>,
    /// Signalled after the configuration changed (the schedule looks again).
    pub config_changed: Arc<Notify>,
    /// Signalled after a sweep or refresh was judged (shadow candidates are judged again).
    pub swept: Arc<Notify>,
    /// Why the last edit of the configuration file was not applied, until one is.
    config_error: Arc<Mutex<Option<String>>>,
    /// The host's own figures (`/metrics`).
    pub metrics: Arc<crate::metrics::Metrics>,
    /// What the monitor knows beyond the store (failure streaks, raised alarms).
    pub observed: Arc<monitor::Observed>,
    /// Who made what a sweep found (`[events] lookup`): CloudTrail, or a stand-in in tests.
    actor_lookup: ArcSwap<Arc<dyn ActorLookup>>,
}

impl Runtime {
    /// The one bootstrap: configuration, directories, store, services and an empty plugin set
    /// (call `plugins.scan()` to load what is deployed). With `StoreAccess::None`, `items`
    /// answers plugins' lookups.
    pub async fn open(
        config: Config,
        access: StoreAccess,
        items: Option<Vec<crate::item::Item>>,
    ) -> anyhow::Result<Runtime> {
        crate::resource_types::check_config(&config)?;
        if access == StoreAccess::Writer {
            std::fs::create_dir_all(&config.data_dir)
                .with_context(|| format!("cannot create data dir {}", config.data_dir.display()))?;
        }
        let url = config.storage.url.clone();
        let store = match access {
            StoreAccess::Writer => Some(
                Store::open(&url)
                    .await
                    .with_context(|| format!("cannot open the store at {url}"))?,
            ),
            StoreAccess::Reader => Some(
                Store::open_reader(&url)
                    .await
                    .with_context(|| format!("cannot open the store at {url}"))?,
            ),
            StoreAccess::ReaderIfPresent => Store::open_reader(&url).await.ok(),
            StoreAccess::None => None,
        };
        // Plugins' `items` lookups read the recorded configuration when there is a store.
        let source: Arc<dyn ItemSource> = match (&store, access) {
            (Some(store), StoreAccess::Writer | StoreAccess::Reader) => Arc::new(store.clone()),
            _ => Arc::new(MemoryItems::new(items.unwrap_or_default())),
        };
        let services = Arc::new(
            HostServices::from_config(&config, source).map_err(|e| anyhow::anyhow!("{e}"))?,
        );
        if let (Some(store), StoreAccess::Writer | StoreAccess::Reader) = (&store, access) {
            services.refresh_inventory(store, &config).await?;
        }
        let config = Arc::new(ArcSwap::from_pointee(config));
        let plugins = crate::plugin::live_plugin_set(config.clone(), services.clone())?;
        Ok(Runtime {
            config,
            store,
            plugins,
            services,
            progress: Arc::new(Progress::default()),
            notify_wake: Arc::new(Notify::new()),
            config_changed: Arc::new(Notify::new()),
            swept: Arc::new(Notify::new()),
            config_error: Arc::new(Mutex::new(None)),
            metrics: Arc::new(crate::metrics::Metrics::default()),
            observed: Arc::new(monitor::Observed::default()),
            actor_lookup: ArcSwap::from_pointee(Arc::new(CloudTrailLookup::default())),
        })
    }

    /// `open` for a command given `--config` (or none): discovery as the CLI documents it.
    pub async fn from_cli(config: Option<&Path>, access: StoreAccess) -> anyhow::Result<Runtime> {
        Self::open(Config::discover(config)?, access, None).await
    }

    /// The configuration in force now.
    pub fn config(&self) -> Arc<Config> {
        self.config.load_full()
    }

    /// The store; commands opened with `StoreAccess::None` have none.
    pub fn store(&self) -> anyhow::Result<&Store> {
        self.store
            .as_ref()
            .context("this command runs without a store")
    }

    /// Why the configuration file's last edit was refused, while the previous one serves.
    pub fn config_error(&self) -> Option<String> {
        self.config_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// One sweep, then its audit by the serving auditors, then its news queued for every
    /// notifier (and the deliverer woken). `simian sweep` and the schedule both run this.
    pub async fn sweep(
        &self,
        opts: &SweepOptions,
        progress: &dyn sweep::Progress,
    ) -> anyhow::Result<SweepReport> {
        let store = self.store()?;
        let config = self.config();
        self.begin_sweep_accounting();
        let mut report = sweep::run(&config, store, opts, progress).await?;
        self.note_sweep(&report);
        if config.events.lookup {
            self.attach_actors(&mut report.changes).await;
        }
        // What the sweep recorded places bucket ARNs in accounts for the audit that follows.
        self.services.refresh_inventory(store, &config).await?;
        // Always, even with no auditor serving: a deleted item's open issues are fixed (the
        // resource is gone), whoever raised them.
        let judged = !self.plugins.snapshot().is_empty();
        let origin = format!("sweep:{}", report.sweep.id.0);
        let audit = self.judge_and_notify(&report.changes, &origin).await?;
        self.end_sweep_accounting();
        if judged {
            report.audit = Some(audit);
        }
        Ok(report)
    }

    /// Audit recorded changes with the serving auditors, then queue their news for every
    /// notifier (and wake the deliverer): what follows a sweep and an event refresh alike.
    pub async fn judge_and_notify(
        &self,
        changes: &[crate::store::Change],
        origin: &str,
    ) -> anyhow::Result<crate::pipeline::PipelineSummary> {
        let store = self.store()?;
        let audit = crate::pipeline::audit_changes(
            store,
            &self.plugins,
            changes,
            self.config().plugins.batch_size,
        )
        .await?;
        crate::notify::publish(
            store,
            &self.plugins,
            origin,
            changes,
            &audit,
            &self.notify_wake,
        )
        .await;
        if !changes.is_empty() {
            self.swept.notify_waiters();
        }
        Ok(audit)
    }

    /// Where `[events] lookup` asks who made a change.
    pub fn actor_lookup(&self) -> Arc<dyn ActorLookup> {
        self.actor_lookup.load_full().as_ref().clone()
    }

    /// Ask `lookup` instead of CloudTrail (tests: the emulator has no `LookupEvents`).
    pub fn set_actor_lookup(&self, lookup: Arc<dyn ActorLookup>) {
        self.actor_lookup.store(Arc::new(lookup));
    }

    /// The context the control socket answers from.
    pub fn control_context(&self) -> crate::control::Context {
        crate::control::Context {
            set: self.plugins.clone(),
            config_error: self.config_error.clone(),
            store: self.store.clone(),
            progress: self.progress.clone(),
        }
    }

    fn set_config_error(&self, error: Option<String>) {
        *self.config_error.lock().unwrap_or_else(|p| p.into_inner()) = error;
    }
}
