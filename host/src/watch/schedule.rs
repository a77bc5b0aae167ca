//! The sweep schedule of `simian run`: every (watched account, resource type) is swept at its
//! interval; the account list is re-read whenever the config file changes, so adding or
//! removing an account takes effect without a restart.
//!
//! It must never overlap two sweeps of the same account: sweeps of one tick run one account
//! after another's listing concurrency is exhausted, inside `sweep::run`'s own bounds.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use notify_debouncer_full::{DebounceEventResult, new_debouncer};
use tokio::sync::Notify;

use super::sweep::{self, SweepOptions, watched_accounts};
use crate::accounts::AccountBook;
use crate::config::Config;
use crate::services::HostServices;
use crate::store::Store;

/// After a failed listing, try again sooner than the full interval.
const RETRY_FAILED_AFTER: Duration = Duration::from_secs(5 * 60);
/// Upper bound on how long the scheduler sleeps between checks.
const MAX_NAP: Duration = Duration::from_secs(30);

pub struct Schedule {
    pub config: Arc<ArcSwap<Config>>,
    pub changed: Arc<Notify>,
    _watcher: Option<
        notify_debouncer_full::Debouncer<
            notify::RecommendedWatcher,
            notify_debouncer_full::RecommendedCache,
        >,
    >,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Schedule {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Re-read the config file on change; a broken edit is logged and the old config kept.
fn watch_config(
    path: &Path,
    config: Arc<ArcSwap<Config>>,
    services: Arc<HostServices>,
    changed: Arc<Notify>,
) -> anyhow::Result<
    notify_debouncer_full::Debouncer<
        notify::RecommendedWatcher,
        notify_debouncer_full::RecommendedCache,
    >,
> {
    let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let dir = path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let file = path.clone();
    let mut debouncer = new_debouncer(
        Duration::from_millis(100),
        None,
        move |result: DebounceEventResult| {
            let Ok(events) = result else { return };
            let touched = events.iter().any(|e| {
                !matches!(e.kind, notify::EventKind::Access(_))
                    && e.paths.iter().any(|p| p == &file)
            });
            if !touched {
                return;
            }
            match Config::load(&file) {
                Ok(new) => {
                    services
                        .accounts
                        .store(Arc::new(AccountBook::new(&new.accounts, &new.networks)));
                    let watched = watched_accounts(&new, None).len();
                    config.store(Arc::new(new));
                    tracing::info!(watched_accounts = watched, "configuration reloaded");
                    changed.notify_one();
                }
                Err(e) => tracing::error!("configuration change ignored: {e}"),
            }
        },
    )?;
    debouncer.watch(&dir, notify::RecursiveMode::NonRecursive)?;
    Ok(debouncer)
}

pub fn start(
    initial: Arc<Config>,
    config_path: Option<PathBuf>,
    store: Store,
    plugins: Arc<crate::plugin::PluginSet>,
    notify_wake: Arc<Notify>,
) -> anyhow::Result<Schedule> {
    let services = plugins.services.clone();
    let config = Arc::new(ArcSwap::new(initial));
    let changed = Arc::new(Notify::new());
    let watcher = match &config_path {
        Some(path) => Some(watch_config(
            path,
            config.clone(),
            services,
            changed.clone(),
        )?),
        None => None,
    };
    let task = {
        let config = config.clone();
        let changed = changed.clone();
        tokio::spawn(async move {
            let mut next_due: HashMap<(String, String), Instant> = HashMap::new();
            loop {
                let cfg = config.load_full();
                let now = Instant::now();
                let mut due: BTreeMap<String, Vec<String>> = BTreeMap::new();
                let mut nap = MAX_NAP;
                for account in watched_accounts(&cfg, None) {
                    for t in crate::resource_types::ALL {
                        let key = (account.id.clone(), t.to_string());
                        match next_due.get(&key) {
                            Some(at) if *at > now => nap = nap.min(*at - now),
                            _ => due
                                .entry(account.id.clone())
                                .or_default()
                                .push(t.to_string()),
                        }
                    }
                }
                // The nap above was worked out before these sweeps: after any, look again.
                let swept_any = !due.is_empty();
                for (account, types) in due {
                    let opts = SweepOptions {
                        account: Some(account.clone()),
                        resource_types: types.clone(),
                    };
                    match sweep::run(&cfg, &store, &opts, &()).await {
                        Ok(report) => {
                            let batch = cfg.plugins.batch_size;
                            match crate::pipeline::audit_changes(
                                &store,
                                &plugins,
                                &report.changes,
                                batch,
                            )
                            .await
                            {
                                Ok(a) => {
                                    tracing::info!(
                                        account = %account,
                                        audited = a.items_audited,
                                        new = a.new,
                                        fixed = a.fixed,
                                        regressed = a.regressed,
                                        failures = a.failures,
                                        "audited the sweep's changes"
                                    );
                                    crate::notify::publish(
                                        &store,
                                        &plugins,
                                        &format!("sweep:{}", report.sweep.id.0),
                                        &report.changes,
                                        &a,
                                        &notify_wake,
                                    )
                                    .await;
                                }
                                Err(e) => {
                                    tracing::error!(account = %account, "audit results could not be recorded: {e}")
                                }
                            }
                            tracing::info!(
                                account = %account,
                                sweep = report.sweep.id.0,
                                created = report.sweep.created,
                                modified = report.sweep.modified,
                                deleted = report.sweep.deleted,
                                failed_listings = report.sweep.errors,
                                "scheduled sweep done"
                            );
                            for t in &types {
                                let failed = report
                                    .scopes
                                    .iter()
                                    .any(|s| &s.resource_type == t && !s.complete);
                                let wait = if failed {
                                    RETRY_FAILED_AFTER.min(cfg.watch.interval(t))
                                } else {
                                    cfg.watch.interval(t)
                                };
                                next_due
                                    .insert((account.clone(), t.clone()), Instant::now() + wait);
                            }
                        }
                        Err(e) => {
                            tracing::error!(account = %account, "sweep could not be recorded: {e}");
                            for t in &types {
                                next_due.insert(
                                    (account.clone(), t.clone()),
                                    Instant::now() + RETRY_FAILED_AFTER,
                                );
                            }
                        }
                    }
                }
                if swept_any {
                    continue;
                }
                tokio::select! {
                    _ = tokio::time::sleep(nap) => {}
                    _ = changed.notified() => {}
                }
            }
        })
    };
    Ok(Schedule {
        config,
        changed,
        _watcher: watcher,
        task,
    })
}
