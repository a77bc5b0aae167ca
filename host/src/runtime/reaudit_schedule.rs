//! Scheduled re-audits in `simian run`: every serving auditor judges all current items of its
//! resource types again every `[plugins] reaudit_minutes` (or its own
//! `[plugin.<id>] reaudit_minutes`), counted from the start of its last re-audit, so checks that
//! depend on the clock (a certificate crossing its 30-day mark) fire on items that never change.
//!
//! It must never start a plugin's re-audit while one is running, nor decide what a re-audit
//! does (the pipeline does).

use std::sync::Arc;
use std::time::Duration;

use super::Runtime;
use crate::pipeline::ReauditProgress;
use crate::plugin::PluginKind;

/// How often the schedule looks; bounds how late a due re-audit starts.
const CHECK_EVERY: Duration = Duration::from_secs(15);

/// Whether a plugin whose last re-audit is `last` is due at `now_ms` under `interval_minutes`.
/// A plugin never re-audited is left to its load re-audit; a running one is never due.
pub fn due(last: Option<&ReauditProgress>, interval_minutes: u64, now_ms: i64) -> bool {
    let Some(last) = last else { return false };
    if interval_minutes == 0 || last.finished_ms.is_none() {
        return false;
    }
    let interval_ms = i64::try_from(interval_minutes.saturating_mul(60_000)).unwrap_or(i64::MAX);
    now_ms.saturating_sub(last.started_ms) >= interval_ms
}

pub fn start(runtime: Arc<Runtime>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(CHECK_EVERY).await;
            let config = runtime.config();
            let now = crate::store::now_ms();
            for (id, plugin) in runtime.plugins.snapshot().iter() {
                if plugin.kind() != PluginKind::Auditor {
                    continue;
                }
                let minutes = config
                    .operator(id)
                    .reaudit_minutes
                    .unwrap_or(config.plugins.reaudit_minutes);
                if !due(runtime.progress.get(id).as_ref(), minutes, now) {
                    continue;
                }
                // Marked started before the task runs, so the next look does not start another.
                runtime.progress.mark_started(id, now);
                let runtime = runtime.clone();
                let id = id.clone();
                tokio::spawn(async move {
                    runtime
                        .reaudit(&id, &format!("reaudit:{id}:scheduled"))
                        .await;
                });
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finished(started_ms: i64) -> ReauditProgress {
        ReauditProgress {
            started_ms,
            finished_ms: Some(started_ms + 10),
            ..Default::default()
        }
    }

    #[test]
    fn a_plugin_is_due_once_its_interval_has_passed_since_the_last_start() {
        let last = finished(1_000);
        assert!(!due(Some(&last), 1, 1_000 + 59_999));
        assert!(due(Some(&last), 1, 1_000 + 60_000));
        assert!(due(Some(&last), 24 * 60, 1_000 + 86_400_000));
    }

    #[test]
    fn running_unstarted_and_disabled_plugins_are_never_due() {
        let running = ReauditProgress {
            started_ms: 0,
            finished_ms: None,
            ..Default::default()
        };
        assert!(!due(Some(&running), 1, i64::MAX));
        assert!(!due(None, 1, i64::MAX));
        assert!(!due(Some(&finished(0)), 0, i64::MAX));
        assert!(!due(Some(&finished(0)), u64::MAX, 10));
    }
}
