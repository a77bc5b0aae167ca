//! Replay: one auditor run over every stored revision in the order it was recorded, to answer
//! "since when has this been failing?" for a rule written today.
//!
//! Owns following each item's findings from revision to revision (opened, still open,
//! re-scored, fixed, gone with the item) and timing the run. It must never write to the store:
//! the live issue table is the pipeline's, and a replay only reads history.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

use crate::audit::run_auditor;
use crate::item::Item;
use crate::plugin::contract::Issue;
use crate::plugin::{LoadedPlugin, PluginKind};
use crate::services::items::ItemSource;
use crate::store::{ChangeKind, RevisionScan, ScannedRevision, Store, StoreError};
use simian_model::actor::Actor;

/// Revisions read per store query: bounded memory, few round trips.
const PAGE: u32 = 4000;

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("{0} is a notifier; only auditors can be replayed")]
    NotAnAuditor(String),
    #[error("{plugin} does not audit {resource_type} (it audits: {audits})")]
    TypeNotAudited {
        plugin: String,
        resource_type: String,
        audits: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Clone)]
pub struct ReplayOptions {
    pub account_id: Option<String>,
    /// Only these types (each must be one the plugin audits); empty: all the plugin's types.
    pub resource_types: Vec<String>,
    pub since_ms: Option<i64>,
    pub batch_size: usize,
    /// Concurrent plugin calls; each runs in its own instance.
    pub workers: usize,
}

/// A revision where a finding changed state, with who made the change when known.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Mark {
    pub revision: i64,
    pub at_ms: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor: Option<Actor>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Closed {
    /// A later revision no longer had it.
    Fixed,
    /// The item was deleted.
    Deleted,
}

/// One finding's life over the replayed history.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    pub item_id: i64,
    pub arn: String,
    pub check_id: String,
    pub title: String,
    /// The score of the last revision that had it.
    pub score: u32,
    pub notes: String,
    pub opened: Mark,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed: Option<Mark>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed_by: Option<Closed>,
    /// Until it closed, or until the replay ran if it is still open.
    pub open_for_ms: i64,
    /// How often its score changed while open.
    pub rescored: u32,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplaySummary {
    pub plugin: String,
    pub version: String,
    pub revisions: u64,
    pub items: u64,
    /// Revisions the plugin judged (deletions are not judged).
    pub audited: u64,
    /// Revisions the plugin failed on (their items' findings stay as they were).
    pub failed: u64,
    pub findings: u64,
    pub still_open: u64,
    pub elapsed_ms: u64,
    pub revisions_per_second: f64,
    /// Time spent inside the plugin, summed over its calls.
    pub plugin_ms: f64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplayReport {
    pub summary: ReplaySummary,
    pub findings: Vec<Finding>,
    /// The first few failures, for the operator (escaped by whoever prints them).
    pub errors: Vec<String>,
}

/// The findings currently open per item: identity (check id, evidence) → index in `findings`.
#[derive(Default)]
struct Tracker {
    open: HashMap<i64, HashMap<(String, String), usize>>,
    findings: Vec<Finding>,
    items: std::collections::HashSet<i64>,
}

impl Tracker {
    fn mark(rev: &ScannedRevision) -> Mark {
        Mark {
            revision: rev.id,
            at_ms: rev.captured_at_ms,
            actor: rev.actor.clone(),
        }
    }

    /// Apply what the rule said about one revision.
    fn judged(&mut self, rev: &ScannedRevision, issues: &[Issue]) {
        let mut open = self.open.remove(&rev.item_id).unwrap_or_default();
        let mut seen: HashMap<(String, String), usize> = HashMap::with_capacity(issues.len());
        for issue in issues {
            let key = (issue.check_id.clone(), issue.notes.clone());
            if seen.contains_key(&key) {
                continue;
            }
            let index = match open.remove(&key) {
                Some(index) => {
                    let f = &mut self.findings[index];
                    if f.score != issue.score {
                        f.rescored += 1;
                        f.score = issue.score;
                    }
                    f.title.clone_from(&issue.title);
                    index
                }
                None => {
                    self.findings.push(Finding {
                        item_id: rev.item_id,
                        arn: rev.arn.clone(),
                        check_id: issue.check_id.clone(),
                        title: issue.title.clone(),
                        score: issue.score,
                        notes: issue.notes.clone(),
                        opened: Self::mark(rev),
                        closed: None,
                        closed_by: None,
                        open_for_ms: 0,
                        rescored: 0,
                    });
                    self.findings.len() - 1
                }
            };
            seen.insert(key, index);
        }
        for (_, index) in open {
            self.close(index, rev, Closed::Fixed);
        }
        if !seen.is_empty() {
            self.open.insert(rev.item_id, seen);
        }
    }

    fn deleted(&mut self, rev: &ScannedRevision) {
        if let Some(open) = self.open.remove(&rev.item_id) {
            for (_, index) in open {
                self.close(index, rev, Closed::Deleted);
            }
        }
    }

    fn close(&mut self, index: usize, rev: &ScannedRevision, by: Closed) {
        let f = &mut self.findings[index];
        f.open_for_ms = rev.captured_at_ms - f.opened.at_ms;
        f.closed = Some(Self::mark(rev));
        f.closed_by = Some(by);
    }
}

/// Run `plugin` over the history `opts` selects, in revision order.
pub async fn replay(
    store: &Store,
    plugin: Arc<LoadedPlugin>,
    source: Arc<dyn ItemSource>,
    opts: &ReplayOptions,
) -> Result<ReplayReport, ReplayError> {
    if plugin.kind() != PluginKind::Auditor {
        return Err(ReplayError::NotAnAuditor(plugin.id().to_string()));
    }
    let scan = scan_for(&plugin, opts)?;
    let started = Instant::now();
    let time_before = plugin.counters.snapshot().total_time_ms;
    let mut tracker = Tracker::default();
    let mut errors = Vec::new();
    let (mut revisions, mut audited, mut failed) = (0u64, 0u64, 0u64);
    let mut after = 0i64;
    // The next page is read while this one is judged: the store and the plugin overlap.
    let mut next_page = Some(fetch(store.clone(), scan.clone(), after));
    while let Some(pending) = next_page.take() {
        let page = pending
            .await
            .map_err(|e| StoreError::Worker(e.to_string()))??;
        let Some(last) = page.last() else { break };
        after = last.id;
        if page.len() == PAGE as usize {
            next_page = Some(fetch(store.clone(), scan.clone(), after));
        }
        revisions += page.len() as u64;
        let outcomes = judge_page(&plugin, &page, source.clone(), opts).await;
        for (rev, outcome) in page.iter().zip(outcomes) {
            tracker.items.insert(rev.item_id);
            match outcome {
                Judged::Deleted => tracker.deleted(rev),
                Judged::Issues(issues) => {
                    audited += 1;
                    tracker.judged(rev, &issues);
                }
                Judged::Failed(error) => {
                    failed += 1;
                    if errors.len() < 20 {
                        errors.push(format!("revision {} of {}: {error}", rev.id, rev.arn));
                    }
                }
            }
        }
    }
    let now = crate::store::now_ms();
    for f in tracker.findings.iter_mut().filter(|f| f.closed.is_none()) {
        f.open_for_ms = now - f.opened.at_ms;
    }
    let elapsed = started.elapsed();
    let mut findings = tracker.findings;
    findings.sort_by(|a, b| (&a.arn, a.opened.revision).cmp(&(&b.arn, b.opened.revision)));
    let still_open = findings.iter().filter(|f| f.closed.is_none()).count() as u64;
    Ok(ReplayReport {
        summary: ReplaySummary {
            plugin: plugin.id().to_string(),
            version: plugin.info.version.clone(),
            revisions,
            items: tracker.items.len() as u64,
            audited,
            failed,
            findings: findings.len() as u64,
            still_open,
            elapsed_ms: elapsed.as_millis() as u64,
            revisions_per_second: revisions as f64 / elapsed.as_secs_f64().max(1e-9),
            plugin_ms: plugin.counters.snapshot().total_time_ms - time_before,
        },
        findings,
        errors,
    })
}

fn scan_for(plugin: &LoadedPlugin, opts: &ReplayOptions) -> Result<RevisionScan, ReplayError> {
    for t in &opts.resource_types {
        if !plugin.handles(t) {
            return Err(ReplayError::TypeNotAudited {
                plugin: plugin.id().to_string(),
                resource_type: crate::text::escape_controls(t).into_owned(),
                audits: plugin.info.resource_types.join(", "),
            });
        }
    }
    let resource_types = if !opts.resource_types.is_empty() {
        opts.resource_types.clone()
    } else if plugin.info.resource_types.iter().any(|t| t == "*") {
        Vec::new()
    } else {
        plugin.info.resource_types.clone()
    };
    Ok(RevisionScan {
        resource_types,
        account_id: opts.account_id.clone(),
        since_ms: opts.since_ms,
    })
}

type Page = Result<Vec<ScannedRevision>, StoreError>;

fn fetch(store: Store, scan: RevisionScan, after: i64) -> tokio::task::JoinHandle<Page> {
    tokio::spawn(async move { store.scan_revisions(&scan, after, PAGE).await })
}

enum Judged {
    Deleted,
    Issues(Vec<Issue>),
    Failed(String),
}

/// The rule's verdict on every revision of a page, in page order. The page is cut into one
/// contiguous share per worker; each share runs on its own task (and so its own core).
async fn judge_page(
    plugin: &Arc<LoadedPlugin>,
    page: &[ScannedRevision],
    source: Arc<dyn ItemSource>,
    opts: &ReplayOptions,
) -> Vec<Judged> {
    let mut verdicts: Vec<Option<Judged>> = Vec::with_capacity(page.len());
    let mut to_audit: Vec<(usize, Item)> = Vec::new();
    for (n, rev) in page.iter().enumerate() {
        if rev.kind == ChangeKind::Deleted {
            verdicts.push(Some(Judged::Deleted));
            continue;
        }
        match Item::from_envelope(&rev.document) {
            Ok(item) => {
                verdicts.push(None);
                to_audit.push((n, item));
            }
            Err(e) => verdicts.push(Some(Judged::Failed(format!(
                "stored document unreadable: {}: {}",
                e.field, e.message
            )))),
        }
    }
    let workers = opts.workers.max(1);
    let share = to_audit.len().div_ceil(workers).max(1);
    let mut tasks = Vec::new();
    let mut rest = to_audit;
    while !rest.is_empty() {
        let tail = rest.split_off(share.min(rest.len()));
        let chunk = std::mem::replace(&mut rest, tail);
        let plugin = plugin.clone();
        let source = source.clone();
        let batch = opts.batch_size;
        tasks.push(tokio::spawn(async move {
            let items: Vec<&Item> = chunk.iter().map(|(_, i)| i).collect();
            let (outcomes, _) = run_auditor(&plugin, &items, batch, source).await;
            chunk
                .iter()
                .map(|(n, _)| *n)
                .zip(outcomes)
                .collect::<Vec<_>>()
        }));
    }
    for task in tasks {
        match task.await {
            Ok(results) => {
                for (n, outcome) in results {
                    verdicts[n] = Some(match outcome {
                        Ok(issues) => Judged::Issues(issues),
                        Err(e) => Judged::Failed(e),
                    });
                }
            }
            Err(e) => tracing::error!("a replay worker stopped: {e}"),
        }
    }
    verdicts
        .into_iter()
        .map(|v| v.unwrap_or_else(|| Judged::Failed("no verdict (worker stopped)".into())))
        .collect()
}
