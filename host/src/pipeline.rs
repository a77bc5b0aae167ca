//! The audit pipeline: after a sweep, every created or modified item goes, in batches, through
//! the serving auditors whose resource types match, and what they found is recorded in the
//! store's issue lifecycle (new, still open, fixed, regressed).
//!
//! It must never mark an issue fixed because a plugin failed or was paused over its budget: a
//! failed or skipped call leaves that plugin's issues for the item as they were.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::audit::run_auditor;
use crate::plugin::{PluginKind, PluginSet};
use crate::services::items::ItemSource;
use crate::store::{
    AuditedBy, Change, ChangeKind, FoundIssue, IssueChange, ItemFilter, Store, StoreError,
    Transition,
};

/// Items re-audited between two progress updates (and held in memory at once).
const REAUDIT_CHUNK: usize = 4096;

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct PipelineSummary {
    pub items_audited: u64,
    pub new: u64,
    pub still_open: u64,
    pub fixed: u64,
    pub regressed: u64,
    /// (plugin, item) pairs whose audit failed; their issues were left as they were.
    pub failures: u64,
    /// (plugin, item) pairs not audited because the plugin was paused over its budget; their
    /// issues were left as they were, and the plugin re-audits when it resumes.
    pub paused: u64,
    /// What changed, per store item id: what the notify pipeline reports.
    #[serde(skip)]
    pub transitions: BTreeMap<i64, Vec<IssueChange>>,
}

impl PipelineSummary {
    fn add(&mut self, other: PipelineSummary) {
        self.items_audited += other.items_audited;
        self.new += other.new;
        self.still_open += other.still_open;
        self.fixed += other.fixed;
        self.regressed += other.regressed;
        self.failures += other.failures;
        self.paused += other.paused;
        for (item, changes) in other.transitions {
            self.transitions.entry(item).or_default().extend(changes);
        }
    }
}

/// How far each plugin's latest re-audit has got, for `simian plugins`.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct ReauditProgress {
    pub generation: u64,
    pub total: u64,
    pub done: u64,
    pub started_ms: i64,
    pub finished_ms: Option<i64>,
    pub new: u64,
    pub fixed: u64,
    pub regressed: u64,
    pub failures: u64,
}

/// Shared between the re-audit tasks and the control socket.
#[derive(Debug, Default)]
pub struct Progress {
    by_plugin: Mutex<BTreeMap<String, ReauditProgress>>,
}

impl Progress {
    pub fn get(&self, plugin: &str) -> Option<ReauditProgress> {
        self.by_plugin.lock().ok()?.get(plugin).cloned()
    }

    fn update(&self, plugin: &str, f: impl FnOnce(&mut ReauditProgress)) {
        if let Ok(mut map) = self.by_plugin.lock() {
            f(map.entry(plugin.to_string()).or_default());
        }
    }

    /// A re-audit of `plugin` is about to start (before `reaudit_plugin` records it itself).
    pub fn mark_started(&self, plugin: &str, now_ms: i64) {
        self.update(plugin, |p| {
            p.started_ms = now_ms;
            p.finished_ms = None;
        });
    }

    pub fn forget(&self, plugin: &str) {
        if let Ok(mut map) = self.by_plugin.lock() {
            map.remove(plugin);
        }
    }
}

/// Audit the created and modified items of a sweep; the open issues of deleted items are
/// fixed (the resource is gone).
pub async fn audit_changes(
    store: &Store,
    set: &PluginSet,
    changes: &[Change],
    batch_size: usize,
) -> Result<PipelineSummary, StoreError> {
    let mut fixed_by_deletion = PipelineSummary::default();
    for change in changes.iter().filter(|c| c.kind == ChangeKind::Deleted) {
        let fixed = store.fix_deleted_item_issues(change.item_id).await?;
        if !fixed.is_empty() {
            fixed_by_deletion.fixed += fixed.len() as u64;
            fixed_by_deletion.transitions.insert(change.item_id, fixed);
        }
    }
    let ids: Vec<i64> = changes
        .iter()
        .filter(|c| matches!(c.kind, ChangeKind::Created | ChangeKind::Modified))
        .map(|c| c.item_id)
        .collect();
    let items: Vec<(i64, crate::item::Item)> = store
        .items_by_ids(&ids)
        .await?
        .into_iter()
        .filter(|s| !s.deleted)
        .map(|s| (s.id, s.item))
        .collect();
    let mut summary = audit_items(store, set, &items, batch_size).await?;
    summary.add(fixed_by_deletion);
    Ok(summary)
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
/// was loaded or hot-swapped, so its results are current without waiting for a change. Items
/// go in pages: the next page is read and the last one recorded while the plugin judges this
/// one, each page's results committed (and visible) in turn; `progress` follows.
pub async fn reaudit_plugin(
    store: &Store,
    set: &PluginSet,
    plugin_id: &str,
    batch_size: usize,
    progress: Option<&Progress>,
) -> Result<PipelineSummary, StoreError> {
    let Some(plugin) = set.get(plugin_id) else {
        return Ok(PipelineSummary::default());
    };
    if plugin.kind() != PluginKind::Auditor {
        return Ok(PipelineSummary::default());
    }
    let filters: Vec<ItemFilter> = plugin
        .info
        .resource_types
        .iter()
        .map(|t| ItemFilter {
            resource_type: (t != "*").then(|| t.clone()),
            ..Default::default()
        })
        .collect();
    let mut total = 0;
    for filter in &filters {
        total += store.count_items(filter).await?;
    }
    if let Some(p) = progress {
        p.update(plugin_id, |p| {
            *p = ReauditProgress {
                generation: plugin.generation,
                total,
                started_ms: crate::store::now_ms(),
                ..Default::default()
            }
        });
    }
    // Pages are read one ahead of the plugin, on another thread.
    let (pages, mut next_page) = tokio::sync::mpsc::channel(1);
    let reader = tokio::spawn(read_pages(store.clone(), filters, pages));
    let mut summary = PipelineSummary::default();
    let mut tally = |part: PipelineSummary| {
        if let Some(p) = progress {
            p.update(plugin_id, |p| {
                p.done += part.items_audited;
                p.new += part.new;
                p.fixed += part.fixed;
                p.regressed += part.regressed;
                p.failures += part.failures;
            });
        }
        summary.add(part);
    };
    // The plugin judges one chunk while the store records the one before, on another thread:
    // the store's work and the plugin's overlap instead of taking turns.
    let mut recording: Option<tokio::task::JoinHandle<Result<PipelineSummary, StoreError>>> = None;
    while let Some(page) = next_page.recv().await {
        let chunk: Vec<(i64, crate::item::Item)> =
            page?.into_iter().map(|s| (s.id, s.item)).collect();
        let judged = judge(store, set, &chunk, batch_size, Some(plugin_id)).await;
        if let Some(previous) = recording.take() {
            tally(joined(previous).await?);
        }
        let store = store.clone();
        recording = Some(tokio::spawn(async move {
            record(&store, judged, batch_size).await
        }));
    }
    if let Some(last) = recording {
        tally(joined(last).await?);
    }
    // The reader has sent its last page (or its error) by now.
    let _ = reader.await;
    if let Some(p) = progress {
        p.update(plugin_id, |p| p.finished_ms = Some(crate::store::now_ms()));
    }
    Ok(summary)
}

type Page = Result<Vec<crate::store::StoredItem>, StoreError>;

/// Send the current items `filters` select, page by page, until done, an error (sent too), or
/// the receiver has gone.
async fn read_pages(
    store: Store,
    filters: Vec<ItemFilter>,
    pages: tokio::sync::mpsc::Sender<Page>,
) {
    for filter in filters {
        if pages.is_closed() {
            return;
        }
        store
            .send_current_items(&filter, REAUDIT_CHUNK, &pages)
            .await;
    }
}

/// A recording task's result; a task that panicked or was cancelled is a store error.
async fn joined(
    task: tokio::task::JoinHandle<Result<PipelineSummary, StoreError>>,
) -> Result<PipelineSummary, StoreError> {
    task.await
        .map_err(|e| StoreError::Task(format!("recording a re-audit failed: {e}")))?
}

async fn audit_items_with(
    store: &Store,
    set: &PluginSet,
    items: &[(i64, crate::item::Item)],
    batch_size: usize,
    only: Option<&str>,
) -> Result<PipelineSummary, StoreError> {
    let judged = judge(store, set, items, batch_size, only).await;
    record(store, judged, batch_size).await
}

/// The issues one plugin found, per store item id.
type Findings = Vec<(i64, Vec<FoundIssue>)>;

/// What the auditors found on a set of items, not yet recorded.
struct Judged {
    summary: PipelineSummary,
    /// Per plugin: who judged, and what it found.
    audited: Vec<(AuditedBy, Findings)>,
}

/// Run the serving auditors (or only `only`) over `items`; failures and pauses are counted,
/// and their items left out so their issues stay as they were.
async fn judge(
    store: &Store,
    set: &PluginSet,
    items: &[(i64, crate::item::Item)],
    batch_size: usize,
    only: Option<&str>,
) -> Judged {
    let mut summary = PipelineSummary {
        items_audited: items.len() as u64,
        ..Default::default()
    };
    let mut judged = Vec::new();
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
        if let Some(pause) = plugin.paused(crate::store::now_ms()) {
            tracing::info!(plugin = %plugin.info.id, items = selected.len(), "not audited: {pause}");
            summary.paused += selected.len() as u64;
            plugin.counters.usage.note_skipped(selected.len() as u64);
            continue;
        }
        let batch: Vec<&crate::item::Item> = selected.iter().map(|(_, i)| i).collect();
        let (outcomes, failures) = run_auditor(plugin, &batch, batch_size, source.clone()).await;
        for f in failures {
            tracing::warn!(plugin = %plugin.info.id, "audit call failed: {f}");
        }
        let by = AuditedBy {
            plugin: plugin.info.id.clone(),
            version: plugin.info.version.clone(),
            generation: plugin.generation,
        };
        let mut audited: Findings = Vec::with_capacity(selected.len());
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
        judged.push((by, audited));
    }
    Judged {
        summary,
        audited: judged,
    }
}

/// Record what was judged in the issue lifecycle, one transaction per batch.
async fn record(
    store: &Store,
    judged: Judged,
    batch_size: usize,
) -> Result<PipelineSummary, StoreError> {
    let Judged {
        mut summary,
        audited: judged,
    } = judged;
    for (by, audited) in judged {
        // One transaction per batch, not per item.
        for chunk in audited.chunks(batch_size.max(1)) {
            let batch: Vec<(i64, &[FoundIssue])> =
                chunk.iter().map(|(id, f)| (*id, f.as_slice())).collect();
            let recorded = store.record_audits(&by, &batch).await?;
            for ((item_id, _), changes) in batch.iter().zip(recorded) {
                for change in &changes {
                    match change.transition {
                        Transition::New => summary.new += 1,
                        Transition::StillOpen => summary.still_open += 1,
                        Transition::Fixed => summary.fixed += 1,
                        Transition::Regressed => summary.regressed += 1,
                    }
                }
                let news: Vec<IssueChange> = changes
                    .into_iter()
                    .filter(|c| c.transition != Transition::StillOpen)
                    .collect();
                if !news.is_empty() {
                    summary
                        .transitions
                        .entry(*item_id)
                        .or_default()
                        .extend(news);
                }
            }
        }
    }
    Ok(summary)
}
