//! The sweep schedule of `simian run`: every (watched account, resource type) is swept at its
//! interval, as the configuration in force says; a change of the configuration makes it look
//! again at once, so adding or removing an account takes effect without a restart.
//!
//! It must never overlap two sweeps of the same account: due accounts are swept one after
//! another, each within `sweep::run`'s own concurrency bounds.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::Runtime;
use super::sweep::{SweepOptions, watched_accounts};

/// After a failed listing, try again sooner than the full interval.
const RETRY_FAILED_AFTER: Duration = Duration::from_secs(5 * 60);
/// Upper bound on how long the scheduler sleeps between checks.
const MAX_NAP: Duration = Duration::from_secs(30);

pub struct Schedule {
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Schedule {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub fn start(runtime: Arc<Runtime>) -> Schedule {
    let task = tokio::spawn(async move {
        let mut next_due: HashMap<(String, String), Instant> = HashMap::new();
        loop {
            let cfg = runtime.config();
            let now = Instant::now();
            let mut due: BTreeMap<String, Vec<String>> = BTreeMap::new();
            let mut nap = MAX_NAP;
            for account in watched_accounts(&cfg, None) {
                for t in crate::resource_types::all() {
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
                let waits: Vec<Duration> = match runtime.sweep(&opts, &()).await {
                    Ok(report) => {
                        if let Some(a) = &report.audit {
                            tracing::info!(
                                account = %account,
                                audited = a.items_audited,
                                new = a.new,
                                fixed = a.fixed,
                                regressed = a.regressed,
                                failures = a.failures,
                                "audited the sweep's changes"
                            );
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
                        types
                            .iter()
                            .map(|t| {
                                let failed = report
                                    .scopes
                                    .iter()
                                    .any(|s| &s.resource_type == t && !s.complete);
                                if failed {
                                    RETRY_FAILED_AFTER.min(cfg.watch.interval(t))
                                } else {
                                    cfg.watch.interval(t)
                                }
                            })
                            .collect()
                    }
                    Err(e) => {
                        tracing::error!(account = %account, "sweep could not be recorded: {e:#}");
                        types.iter().map(|_| RETRY_FAILED_AFTER).collect()
                    }
                };
                for (t, wait) in types.iter().zip(waits) {
                    next_due.insert((account.clone(), t.clone()), Instant::now() + wait);
                }
            }
            if swept_any {
                continue;
            }
            tokio::select! {
                _ = tokio::time::sleep(nap) => {}
                _ = runtime.config_changed.notified() => {}
            }
        }
    });
    Schedule { task }
}
