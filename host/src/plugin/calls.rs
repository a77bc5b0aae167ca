//! Calling a loaded plugin safely: a fresh instance per call from the pooling allocator, the
//! memory cap, the epoch deadline plus an async timeout, captured output forwarded to the log,
//! the counters (CPU time charged to the plugin's budget window), refusing a call while the
//! plugin is paused, and the plugin's answer held to the output limits.
//!
//! It must never decide which plugins are live (`registry`) or what their answers mean (the
//! pipelines).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use wasmtime::{Store, UpdateDeadline};

use super::budget::CpuTimed;
use super::contract::{Change, Issue, PluginInfo};
use super::engine::EPOCH_TICK;
use super::failure::{FailureCause, PluginFailure};
use super::host::{DeadlineExceeded, HostState};
use super::loaded::LoadedPlugin;
use crate::item::Item;
use crate::services::items::ItemSource;
use crate::text::{escape_controls, for_log};

/// Beyond the epoch deadline, how long the async timeout waits before abandoning a call stuck
/// in a host function.
const HOST_GRACE: Duration = Duration::from_millis(500);
/// Output bounds on what an auditor may return per item.
pub const MAX_ISSUES_PER_ITEM: usize = 10_000;
pub const MAX_NOTES_BYTES: usize = 64 * 1024;
pub const MAX_TITLE_BYTES: usize = 1024;
pub const MAX_REMEDIATION_BYTES: usize = 16 * 1024;
/// The most a `describe()` call may take, whatever the plugin's own budget: it runs at every
/// load and reload, and only lists checks.
pub const DESCRIBE_BUDGET: Duration = Duration::from_secs(2);

impl LoadedPlugin {
    async fn permit(&self) -> Result<tokio::sync::OwnedSemaphorePermit, PluginFailure> {
        self.engine
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| PluginFailure {
                plugin: self.info.id.clone(),
                cause: FailureCause::Failed {
                    message: "host is shutting down".into(),
                },
            })
    }

    /// Refuse to start a call while a budget of this window is spent; a call already running
    /// (the batch in progress) is never stopped for it.
    fn check_budget(&self, work_items: usize) -> Result<(), PluginFailure> {
        match self.paused(crate::store::now_ms()) {
            None => Ok(()),
            Some(pause) => Err({
                self.counters.usage.note_skipped(work_items as u64);
                PluginFailure {
                    plugin: self.info.id.clone(),
                    cause: FailureCause::Paused {
                        message: pause.to_string(),
                    },
                }
            }),
        }
    }

    /// A fresh store with this plugin's memory cap and the given time budget.
    fn new_store(&self, items: Arc<dyn ItemSource>, budget: Duration) -> Store<HostState> {
        let ticks = (budget.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64;
        let mut store = Store::new(
            &self.engine.engine,
            HostState::new(self.ctx.clone(), items, self.memory_bytes, ticks),
        );
        store.limiter(|s| &mut s.limiter);
        store.set_epoch_deadline(1);
        // Yield to the runtime at every tick so one busy plugin cannot starve others, and trap
        // once the budget is spent.
        store.epoch_deadline_callback(|mut ctx| {
            let state = ctx.data_mut();
            if state.ticks_left == 0 {
                return Err(wasmtime::Error::new(DeadlineExceeded));
            }
            state.ticks_left -= 1;
            Ok(UpdateDeadline::Yield(1))
        });
        store
    }

    /// Forward captured output, update counters, release the instance, and name a failure.
    fn finish<R>(
        &self,
        store: Store<HostState>,
        permit: tokio::sync::OwnedSemaphorePermit,
        call: CallStart,
        outcome: Result<wasmtime::Result<R>, tokio::time::error::Elapsed>,
    ) -> Result<R, PluginFailure> {
        let fail = |cause: FailureCause| PluginFailure {
            plugin: self.info.id.clone(),
            cause,
        };
        let elapsed = call.started.elapsed();
        let state = store.data();
        let plugin = self.info.id.as_str();
        let (out, out_dropped) = state.stdout.take();
        let (err, err_dropped) = state.stderr.take();
        // One record per line, each escaped: a plugin must not forge the host's log lines.
        for line in out.lines().filter(|l| !l.trim().is_empty()) {
            tracing::info!(plugin, stream = "stdout", "{}", for_log(line));
        }
        for line in err.lines().filter(|l| !l.trim().is_empty()) {
            tracing::warn!(plugin, stream = "stderr", "{}", for_log(line));
        }
        if out_dropped + err_dropped > 0 {
            tracing::warn!(
                plugin,
                dropped_bytes = out_dropped + err_dropped,
                "plugin output over the capture cap was dropped"
            );
        }
        if state.log_budget.suppressed > 0 {
            tracing::warn!(
                plugin,
                suppressed = state.log_budget.suppressed,
                "suppressed {} log messages over the per-call budget",
                state.log_budget.suppressed
            );
        }
        let c = &self.counters;
        c.calls.fetch_add(1, Ordering::Relaxed);
        c.items.fetch_add(call.work_items, Ordering::Relaxed);
        c.total_time_us
            .fetch_add(elapsed.as_micros() as u64, Ordering::Relaxed);
        c.peak_memory_bytes
            .fetch_max(state.limiter.peak as u64, Ordering::Relaxed);
        if let Some(cpu_us) = call.cpu_us {
            c.usage.charge_call(
                self.ctx.budget.window_seconds,
                crate::store::now_ms(),
                cpu_us,
            );
        }
        let refused = state.limiter.refused;
        drop(store);
        drop(permit);

        let timeout = FailureCause::Timeout {
            ms: call.budget.as_millis() as u64,
        };
        let error = match outcome {
            Ok(Ok(value)) => return Ok(value),
            Err(_elapsed) => {
                c.timeouts.fetch_add(1, Ordering::Relaxed);
                return Err(fail(timeout));
            }
            Ok(Err(error)) => error,
        };
        let cause = super::failure::classify(&error, timeout, refused, self.memory_bytes, &err);
        if matches!(cause, FailureCause::Timeout { .. }) {
            c.timeouts.fetch_add(1, Ordering::Relaxed);
        } else {
            c.traps.fetch_add(1, Ordering::Relaxed);
        }
        if let FailureCause::Trap { .. } = cause {
            tracing::debug!(plugin, "trap: {}", for_log(&format!("{error:?}")));
        }
        Err(fail(cause))
    }

    /// `describe()` under [`DESCRIBE_BUDGET`] (or the plugin's own budget, if smaller).
    pub async fn describe(&self, items: Arc<dyn ItemSource>) -> Result<PluginInfo, PluginFailure> {
        let permit = self.permit().await?;
        let call = CallStart::new(self.timeout.min(DESCRIBE_BUDGET), 0);
        let mut store = self.new_store(items, call.budget);
        let outcome =
            tokio::time::timeout(call.budget + HOST_GRACE, self.pre.describe(&mut store)).await;
        self.finish(store, permit, call, outcome)
    }

    /// Audit a batch: one result per item, in order. A failure of the whole call (trap,
    /// timeout) is the outer error; a per-item refusal is the inner one.
    pub async fn audit(
        &self,
        batch: &[&Item],
        items: Arc<dyn ItemSource>,
    ) -> Result<Vec<Result<Vec<Issue>, String>>, PluginFailure> {
        self.check_budget(batch.len())?;
        let permit = self.permit().await?;
        let mut call = CallStart::new(self.timeout, batch.len() as u64);
        let mut store = self.new_store(items, call.budget);
        let mut timed = CpuTimed::new(self.pre.audit(&mut store, batch));
        let outcome = tokio::time::timeout(call.budget + HOST_GRACE, &mut timed).await;
        call.cpu_us = Some(timed.cpu_us);
        drop(timed);
        let results = self.finish(store, permit, call, outcome)?;
        if results.len() != batch.len() {
            return Err(PluginFailure {
                plugin: self.info.id.clone(),
                cause: FailureCause::BadOutput {
                    message: format!(
                        "returned {} results for a batch of {} items",
                        results.len(),
                        batch.len()
                    ),
                },
            });
        }
        Ok(results
            .into_iter()
            .map(|r| r.map_err(|e| for_log(&e)).and_then(validate_issues))
            .collect())
    }

    /// Hand a batch of changes to a notifier. The inner error is the notifier's own refusal,
    /// escaped and with URLs cut to their origin, since it is shown and stored.
    pub async fn notify(
        &self,
        changes: &[Change],
        items: Arc<dyn ItemSource>,
    ) -> Result<Result<(), String>, PluginFailure> {
        self.check_budget(1)?;
        let permit = self.permit().await?;
        let mut call = CallStart::new(self.timeout, changes.len() as u64);
        let mut store = self.new_store(items, call.budget);
        let mut timed = CpuTimed::new(self.pre.notify(&mut store, changes));
        let outcome = tokio::time::timeout(call.budget + HOST_GRACE, &mut timed).await;
        call.cpu_us = Some(timed.cpu_us);
        drop(timed);
        self.finish(store, permit, call, outcome)
            .map(|r| r.map_err(|e| for_log(&e)))
    }
}

/// When a call started, its budget, how many items it carried and the CPU it spent (for the
/// counters; `None` for `describe()`, which is not charged to the plugin's budget window).
struct CallStart {
    started: Instant,
    budget: Duration,
    work_items: u64,
    cpu_us: Option<u64>,
}

impl CallStart {
    fn new(budget: Duration, work_items: u64) -> CallStart {
        CallStart {
            started: Instant::now(),
            budget,
            work_items,
            cpu_us: None,
        }
    }
}

fn validate_issues(issues: Vec<Issue>) -> Result<Vec<Issue>, String> {
    if issues.len() > MAX_ISSUES_PER_ITEM {
        return Err(format!(
            "returned {} issues for one item; the limit is {MAX_ISSUES_PER_ITEM}",
            issues.len()
        ));
    }
    for issue in &issues {
        if issue.notes.len() > MAX_NOTES_BYTES {
            return Err(format!(
                "issue `{}` has {} bytes of notes; the limit is {MAX_NOTES_BYTES}",
                escape_controls(crate::text::truncate(&issue.check_id, 64)),
                issue.notes.len()
            ));
        }
        if let Some(remediation) = &issue.remediation
            && remediation.len() > MAX_REMEDIATION_BYTES
        {
            return Err(format!(
                "issue `{}` has {} bytes of remediation; the limit is {MAX_REMEDIATION_BYTES}",
                escape_controls(crate::text::truncate(&issue.check_id, 64)),
                remediation.len()
            ));
        }
        if issue.title.len() > MAX_TITLE_BYTES || issue.check_id.len() > MAX_TITLE_BYTES {
            return Err(format!(
                "issue `{}` has an over-long title or check id",
                escape_controls(crate::text::truncate(&issue.check_id, 64))
            ));
        }
        if issue.check_id.is_empty() {
            return Err("an issue has an empty check id".into());
        }
    }
    Ok(issues)
}
