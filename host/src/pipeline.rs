//! The audit pipeline: after a sweep, every created or modified item goes, in batches, through
//! the serving auditors whose resource types match, and what they found is recorded in the
//! store's issue lifecycle (new, still open, fixed, regressed).
//!
//! It must never mark an issue fixed because a plugin failed: a failed call leaves that
//! plugin's issues for the item as they were.

use std::sync::Arc;

use serde::Serialize;

use crate::audit::run_auditor;
use crate::plugin::bindings::v0_1_0::types;
use crate::plugin::host::item_to_wit;
use crate::plugin::{PluginKind, PluginSet};
use crate::services::items::ItemSource;
use crate::store::{AuditedBy, Change, ChangeKind, FoundIssue, Store, StoreError, Transition};

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct PipelineSummary {
    pub items_audited: u64,
    pub new: u64,
    pub still_open: u64,
    pub fixed: u64,
    pub regressed: u64,
    /// (plugin, item) pairs whose audit failed; their issues were left as they were.
    pub failures: u64,
}

/// Audit the created and modified items of a sweep.
pub async fn audit_changes(
    store: &Store,
    set: &PluginSet,
    changes: &[Change],
    batch_size: usize,
) -> Result<PipelineSummary, StoreError> {
    let mut ids: Vec<i64> = changes
        .iter()
        .filter(|c| matches!(c.kind, ChangeKind::Created | ChangeKind::Modified))
        .map(|c| c.item_id)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let mut items = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(stored) = store.item_by_id(id).await?
            && !stored.deleted
        {
            items.push((stored.id, stored.item));
        }
    }
    audit_items(store, set, &items, batch_size).await
}

/// Run every serving auditor over `items` (store id, item) and record the outcomes.
pub async fn audit_items(
    store: &Store,
    set: &PluginSet,
    items: &[(i64, crate::item::Item)],
    batch_size: usize,
) -> Result<PipelineSummary, StoreError> {
    audit_items_with(store, set, items, batch_size, None).await
}

/// Re-audit every current item of a plugin's resource types with that plugin, e.g. after it
/// was loaded or hot-swapped, so its results are current without waiting for a change.
pub async fn reaudit_plugin(
    store: &Store,
    set: &PluginSet,
    plugin_id: &str,
    batch_size: usize,
) -> Result<PipelineSummary, StoreError> {
    let Some(plugin) = set.get(plugin_id) else {
        return Ok(PipelineSummary::default());
    };
    if plugin.kind() != PluginKind::Auditor {
        return Ok(PipelineSummary::default());
    }
    let mut items = Vec::new();
    for resource_type in &plugin.info.resource_types {
        let filter = crate::store::ItemFilter {
            resource_type: (resource_type != "*").then(|| resource_type.clone()),
            ..Default::default()
        };
        for stored in store.current_items(&filter).await? {
            items.push((stored.id, stored.item));
        }
    }
    audit_items_with(store, set, &items, batch_size, Some(plugin_id)).await
}

async fn audit_items_with(
    store: &Store,
    set: &PluginSet,
    items: &[(i64, crate::item::Item)],
    batch_size: usize,
    only: Option<&str>,
) -> Result<PipelineSummary, StoreError> {
    let mut summary = PipelineSummary {
        items_audited: items.len() as u64,
        ..Default::default()
    };
    let source: Arc<dyn ItemSource> = Arc::new(store.clone());
    let overrides = set.config();
    let snapshot = set.snapshot();
    for plugin in snapshot
        .values()
        .filter(|p| p.kind() == PluginKind::Auditor)
        .filter(|p| only.is_none_or(|id| p.info.id == id))
    {
        let selected: Vec<&(i64, crate::item::Item)> = items
            .iter()
            .filter(|(_, i)| plugin.handles(&i.resource_type))
            .collect();
        if selected.is_empty() {
            continue;
        }
        let wit: Vec<types::Item> = selected.iter().map(|(_, i)| item_to_wit(i)).collect();
        let (outcomes, failures) = run_auditor(plugin, &wit, batch_size, source.clone()).await;
        for f in failures {
            tracing::warn!(plugin = %plugin.info.id, "audit call failed: {f}");
        }
        let by = AuditedBy {
            plugin: plugin.info.id.clone(),
            version: plugin.info.version.clone(),
            generation: plugin.generation,
        };
        let mut audited: Vec<(i64, Vec<FoundIssue>)> = Vec::with_capacity(selected.len());
        for ((item_id, item), outcome) in selected.iter().zip(outcomes) {
            let issues = match outcome {
                Ok(issues) => issues,
                Err(e) => {
                    summary.failures += 1;
                    tracing::warn!(plugin = %by.plugin, item = %item.label(), "not audited: {e}");
                    continue;
                }
            };
            let found: Vec<FoundIssue> = issues
                .into_iter()
                .map(|i| {
                    let o = overrides.override_for(&by.plugin, &i.check_id, &item.account_id);
                    FoundIssue {
                        score: o.and_then(|o| o.score).unwrap_or(i.score),
                        disabled: o.is_some_and(|o| o.disabled),
                        check_id: i.check_id,
                        title: i.title,
                        notes: i.notes,
                        remediation: i.remediation,
                    }
                })
                .collect();
            audited.push((*item_id, found));
        }
        // One transaction per batch, not per item.
        for chunk in audited.chunks(batch_size.max(1)) {
            let batch: Vec<(i64, &[FoundIssue])> =
                chunk.iter().map(|(id, f)| (*id, f.as_slice())).collect();
            for change in store
                .record_audits(&by, &batch)
                .await?
                .into_iter()
                .flatten()
            {
                match change.transition {
                    Transition::New => summary.new += 1,
                    Transition::StillOpen => summary.still_open += 1,
                    Transition::Fixed => summary.fixed += 1,
                    Transition::Regressed => summary.regressed += 1,
                }
            }
        }
    }
    Ok(summary)
}
