//! Plugin budgets in a live host: marking each sweep's share of what plugins spend, the
//! monitoring alarm of a paused plugin, its figures in `/metrics`, and what a resume sets off:
//! an auditor that skipped work while paused re-audits its items (so a change made meanwhile
//! is judged), a notifier's held-back batches are delivered, and the monitor looks at once so
//! the notice clears.
//!
//! It must never pause or resume a plugin itself (the window does, in `plugin::budget`), nor
//! call a paused plugin.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use super::Runtime;
use super::monitor::{Alarm, AlarmKind};
use crate::metrics::labels;
use crate::plugin::PluginKind;
use crate::plugin::budget::HostCall;
use crate::store::now_ms;

/// How often the watcher looks for plugins that paused or resumed; bounds how late a resumed
/// plugin's re-audit starts.
const CHECK_EVERY: Duration = Duration::from_millis(250);

impl Runtime {
    /// A sweep starts: what plugins spend until `end_sweep_accounting` is this sweep's.
    pub fn begin_sweep_accounting(&self) {
        for p in self.plugins.snapshot().values() {
            p.counters.usage.begin_sweep();
        }
    }

    pub fn end_sweep_accounting(&self) {
        for p in self.plugins.snapshot().values() {
            p.counters.usage.end_sweep();
        }
    }

    /// One alarm per paused plugin. A paused notifier is not handed its own notice.
    pub(super) fn budget_alarms(&self) -> Vec<Alarm> {
        let now = now_ms();
        self.plugins
            .snapshot()
            .iter()
            .filter_map(|(id, p)| {
                let pause = p.paused(now)?;
                Some(Alarm {
                    kind: AlarmKind::PluginBudget,
                    subject: id.clone(),
                    account_id: "simian".into(),
                    notifier: (p.kind() == PluginKind::Notifier).then(|| id.clone()),
                    detail: format!("plugin {id} {pause}"),
                })
            })
            .collect()
    }

    /// The budget figures of every serving plugin, set at scrape time.
    pub(super) fn export_budgets(&self) {
        let m = &self.metrics;
        let now = now_ms();
        for (id, p) in self.plugins.snapshot().iter() {
            let usage = p.usage(now);
            let l = labels([("plugin", id)]);
            m.plugin_cpu_seconds
                .get_or_create(&l)
                .set(usage.totals.cpu_us as f64 / 1e6);
            m.plugin_window_cpu_seconds
                .get_or_create(&l)
                .set(usage.window.cpu_us as f64 / 1e6);
            m.plugin_window_calls
                .get_or_create(&l)
                .set(usage.window.calls as f64);
            m.plugin_peak_memory
                .get_or_create(&l)
                .set(p.counters.snapshot().peak_memory_bytes as f64);
            m.plugin_paused
                .get_or_create(&l)
                .set(if usage.paused.is_some() { 1.0 } else { 0.0 });
            for call in HostCall::ALL {
                m.plugin_host_calls
                    .get_or_create(&labels([("plugin", id), ("capability", call.as_str())]))
                    .set(usage.totals.host_calls(call) as f64);
            }
        }
    }

    /// A plugin serves again (`was_paused`: the watcher saw it paused), or serves with work it
    /// skipped while paused: make up for that work, and let the monitor clear its notice.
    async fn on_resume(
        self: &Arc<Self>,
        id: &str,
        kind: PluginKind,
        skipped: u64,
        was_paused: bool,
    ) {
        if was_paused {
            tracing::info!(
                plugin = id,
                skipped,
                "plugin resumed: its budget window rolled over"
            );
            self.check_health().await;
        }
        match kind {
            PluginKind::Auditor if skipped > 0 => {
                let runtime = self.clone();
                let id = id.to_string();
                tokio::spawn(async move {
                    runtime.reaudit(&id, &format!("reaudit:{id}:resumed")).await;
                });
            }
            PluginKind::Notifier => self.notify_wake.notify_one(),
            PluginKind::Auditor => {}
        }
    }
}

/// Follow pauses and resumes for as long as the returned task lives.
pub fn start(runtime: Arc<Runtime>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut paused: BTreeSet<String> = BTreeSet::new();
        loop {
            tokio::time::sleep(CHECK_EVERY).await;
            let now = now_ms();
            let mut newly_paused = false;
            for (id, p) in runtime.plugins.snapshot().iter() {
                if let Some(pause) = p.paused(now) {
                    if paused.insert(id.clone()) {
                        tracing::warn!(plugin = %id, "plugin {pause}");
                        newly_paused = true;
                    }
                    continue;
                }
                // Also work skipped during a pause too short for this loop to see.
                let was_paused = paused.remove(id);
                let skipped = p.counters.usage.take_skipped();
                if was_paused || skipped > 0 {
                    runtime.on_resume(id, p.kind(), skipped, was_paused).await;
                }
            }
            // An unloaded plugin is no longer paused.
            let serving = runtime.plugins.snapshot();
            paused.retain(|id| serving.contains_key(id));
            if newly_paused {
                runtime.check_health().await;
            }
        }
    })
}
