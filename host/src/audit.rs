//! Running auditors over items.
//!
//! Owns choosing the auditors for each item, batching, isolating a failing plugin (and a
//! poisonous item within a batch) and assembling the report. It must never store results:
//! the pipeline that keeps issue history builds on this.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::future::join_all;
use serde::{Deserialize, Serialize};

use crate::item::Item;
use crate::plugin::contract::Issue;
use crate::plugin::{FailureCause, LoadedPlugin, PluginKind, PluginSet};
use crate::services::items::ItemSource;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ReportedIssue {
    pub plugin: String,
    pub plugin_version: String,
    pub generation: u64,
    pub check_id: String,
    pub title: String,
    pub score: u32,
    pub notes: String,
    pub remediation: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ItemError {
    pub plugin: String,
    pub error: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ItemReport {
    pub resource_type: String,
    pub resource_id: String,
    pub resource_name: String,
    pub arn: String,
    pub account_id: String,
    pub region: String,
    /// Sum of the issues' scores.
    pub score: u64,
    pub issues: Vec<ReportedIssue>,
    pub errors: Vec<ItemError>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PluginProblem {
    pub plugin: String,
    pub error: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuditReport {
    pub items: Vec<ItemReport>,
    /// Plugins that failed on some batch, or could not be loaded at all.
    pub plugin_errors: Vec<PluginProblem>,
    /// Auditors that ran, with their versions and generations.
    pub auditors: Vec<AuditorUsed>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuditorUsed {
    pub plugin: String,
    pub version: String,
    pub generation: u64,
}

impl AuditReport {
    pub fn has_errors(&self) -> bool {
        !self.plugin_errors.is_empty() || self.items.iter().any(|i| !i.errors.is_empty())
    }
}

type Outcome = Result<Vec<Issue>, String>;

/// Run one plugin over `items` in batches; returns one outcome per item and any whole-call
/// failures. A trapped batch is retried item by item (each in a fresh instance) so one
/// poisonous item does not cost its neighbours their results. That retry is bounded: a
/// timed-out batch is not split at all, the split stops at its first timeout, and the whole
/// split may spend at most [`SPLIT_BUDGET_CALLS`] times the plugin's budget, so a plugin that
/// traps just before its deadline cannot turn one batch into N+1 full-length calls.
pub async fn run_auditor(
    plugin: &LoadedPlugin,
    items: &[&Item],
    batch_size: usize,
    source: Arc<dyn ItemSource>,
) -> (Vec<Outcome>, Vec<String>) {
    let mut outcomes = Vec::with_capacity(items.len());
    let mut failures = Vec::new();
    for batch in items.chunks(batch_size.max(1)) {
        match plugin.audit(batch, source.clone()).await {
            Ok(results) => outcomes.extend(results),
            Err(failure) => {
                failures.push(failure.to_string());
                // A paused plugin is not called again until its window rolls over.
                let retry = batch.len() > 1
                    && !matches!(
                        failure.cause,
                        FailureCause::Timeout { .. } | FailureCause::Paused { .. }
                    );
                if !retry {
                    outcomes.extend(batch.iter().map(|_| Err(failure.cause.to_string())));
                    continue;
                }
                outcomes.extend(split_batch(plugin, batch, &failure.cause, source.clone()).await);
            }
        }
    }
    (outcomes, failures)
}

/// How many of the plugin's full budgets retrying one failed batch item by item may take.
pub const SPLIT_BUDGET_CALLS: u32 = 2;

async fn split_batch(
    plugin: &LoadedPlugin,
    batch: &[&Item],
    batch_cause: &FailureCause,
    source: Arc<dyn ItemSource>,
) -> Vec<Outcome> {
    let deadline = std::time::Instant::now() + plugin.timeout * SPLIT_BUDGET_CALLS;
    let mut outcomes = Vec::with_capacity(batch.len());
    let mut stopped: Option<String> = None;
    for one in batch {
        if let Some(why) = &stopped {
            outcomes.push(Err(why.clone()));
            continue;
        }
        match plugin
            .audit(std::slice::from_ref(one), source.clone())
            .await
        {
            Ok(mut r) => outcomes.push(r.pop().unwrap_or_else(|| Err("no result".into()))),
            Err(f) => {
                if matches!(f.cause, FailureCause::Timeout { .. }) {
                    stopped = Some(format!(
                        "{batch_cause}; not retried item by item after a retry {}",
                        f.cause
                    ));
                }
                outcomes.push(Err(f.cause.to_string()));
            }
        }
        if stopped.is_none() && std::time::Instant::now() >= deadline {
            stopped = Some(format!(
                "{batch_cause}; not retried item by item: the retry budget ({SPLIT_BUDGET_CALLS} x {} ms) is spent",
                plugin.timeout.as_millis()
            ));
        }
    }
    outcomes
}

/// Audit items with every serving auditor whose resource types match.
// Long because it is one pass: pick each auditor's items, run the auditors concurrently, then
// fold their outcomes into per-item reports; split, the parts would pass the same state around.
pub async fn audit_items(
    set: &PluginSet,
    items: &[Item],
    source: Arc<dyn ItemSource>,
    batch_size: usize,
) -> AuditReport {
    let plugins = set.snapshot();
    let auditors: Vec<Arc<LoadedPlugin>> = plugins
        .values()
        .filter(|p| p.kind() == PluginKind::Auditor)
        .cloned()
        .collect();

    let runs = auditors.iter().map(|plugin| {
        let source = source.clone();
        async move {
            let indices: Vec<usize> = items
                .iter()
                .enumerate()
                .filter(|(_, i)| plugin.handles(&i.resource_type))
                .map(|(n, _)| n)
                .collect();
            let selected: Vec<&Item> = indices.iter().map(|&n| &items[n]).collect();
            let (outcomes, failures) = run_auditor(plugin, &selected, batch_size, source).await;
            (plugin.clone(), indices, outcomes, failures)
        }
    });
    let results = join_all(runs).await;

    let mut reports: Vec<ItemReport> = items
        .iter()
        .map(|i| ItemReport {
            resource_type: i.resource_type.clone(),
            resource_id: i.resource_id.clone(),
            resource_name: i.resource_name.clone(),
            arn: i.arn.clone(),
            account_id: i.account_id.clone(),
            region: i.region.clone(),
            score: 0,
            issues: Vec::new(),
            errors: Vec::new(),
        })
        .collect();
    let mut plugin_errors = Vec::new();
    for (plugin, indices, outcomes, failures) in &results {
        for (n, outcome) in indices.iter().zip(outcomes) {
            let report = &mut reports[*n];
            match outcome {
                Ok(issues) => {
                    for issue in issues {
                        report.issues.push(ReportedIssue {
                            plugin: plugin.info.id.clone(),
                            plugin_version: plugin.info.version.clone(),
                            generation: plugin.generation,
                            check_id: issue.check_id.clone(),
                            title: issue.title.clone(),
                            score: issue.score,
                            notes: issue.notes.clone(),
                            remediation: issue.remediation.clone(),
                        });
                    }
                }
                Err(error) => report.errors.push(ItemError {
                    plugin: plugin.info.id.clone(),
                    error: error.clone(),
                }),
            }
        }
        let mut seen = BTreeMap::new();
        for f in failures {
            *seen.entry(f.clone()).or_insert(0u32) += 1;
        }
        for (error, _) in seen {
            plugin_errors.push(PluginProblem {
                plugin: plugin.info.id.clone(),
                error,
            });
        }
    }
    for (plugin, error) in set.rejections().await {
        plugin_errors.push(PluginProblem { plugin, error });
    }
    for r in &mut reports {
        r.issues.sort_by(|a, b| {
            (b.score, &a.plugin, &a.check_id, &a.notes).cmp(&(
                a.score,
                &b.plugin,
                &b.check_id,
                &b.notes,
            ))
        });
        r.score = r.issues.iter().map(|i| u64::from(i.score)).sum();
    }
    AuditReport {
        items: reports,
        plugin_errors,
        auditors: auditors
            .iter()
            .map(|p| AuditorUsed {
                plugin: p.info.id.clone(),
                version: p.info.version.clone(),
                generation: p.generation,
            })
            .collect(),
    }
}
