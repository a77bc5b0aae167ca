//! Shadow runs: a candidate version of an auditor judges the current items of its types beside
//! the live version, and what it would change — would open, would fix, would re-score — is
//! compared against the live version's open issues and recorded for the operator.
//!
//! Owns that comparison. It must never record issues or notify: the candidate's findings go
//! only into the shadow run. A candidate that traps or runs slow costs its own calls only (its
//! own instances and counters); the items it failed on are counted as failed, never as fixed.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::audit::run_auditor;
use crate::plugin::candidate::{self, CandidateError};
use crate::plugin::{PluginKind, PluginSet};
use crate::store::{
    IssueFilter, ItemFilter, ShadowChange, ShadowEntry, ShadowRun, ShadowState, Store, StoreError,
    now_ms,
};

/// Where the candidates a running host watches live: `plugins/.shadow/<id>/`.
pub const SHADOW_DIR: &str = ".shadow";

#[derive(Debug, thiserror::Error)]
pub enum ShadowError {
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Load the candidate in `dir`, judge, compare and record. A candidate that cannot be loaded
/// (or is not an auditor) is recorded as a failed run, so the operator sees why.
pub async fn run(
    store: &Store,
    set: &PluginSet,
    dir: &Path,
    via: &str,
) -> Result<ShadowRun, ShadowError> {
    let started_ms = now_ms();
    let mut run = match candidate::load(set, dir).await {
        Ok(plugin) if plugin.kind() != PluginKind::Auditor => failed(
            blank(&plugin.info.id, &plugin.info.version),
            "only auditors can be shadowed: a notifier's effect is its deliveries".into(),
        ),
        Ok(plugin) => judge(store, set, Arc::new(plugin)).await?,
        // Not loaded, so no manifest to name it: the candidate directory is named after its id.
        Err(e) => {
            let id = dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            failed(blank(&id, "?"), describe_load_error(&e))
        }
    };
    run.via = via.to_string();
    run.started_ms = started_ms;
    run.finished_ms = now_ms();
    run.id = store.record_shadow_run(&run).await?;
    tracing::info!(
        plugin = %run.plugin,
        version = %crate::text::for_log(&run.version),
        would_open = run.would_open,
        would_fix = run.would_fix,
        would_rescore = run.would_rescore,
        failed = run.failed,
        state = ?run.state,
        "shadow run recorded"
    );
    Ok(run)
}

fn describe_load_error(e: &CandidateError) -> String {
    format!("the candidate was not loaded: {e}")
}

/// A run of `plugin` `version` that judged nothing yet.
fn blank(plugin: &str, version: &str) -> ShadowRun {
    ShadowRun {
        id: 0,
        plugin: plugin.to_string(),
        version: version.to_string(),
        wasm_sha256: String::new(),
        live_version: None,
        via: String::new(),
        started_ms: 0,
        finished_ms: 0,
        items: 0,
        would_open: 0,
        would_fix: 0,
        would_rescore: 0,
        unchanged: 0,
        failed: 0,
        state: ShadowState::Ready,
        error: None,
        entries: Vec::new(),
    }
}

fn failed(run: ShadowRun, error: String) -> ShadowRun {
    ShadowRun {
        state: ShadowState::Failed,
        error: Some(error),
        ..run
    }
}

/// Identity of an issue for one item: (check id, evidence), as the issue table keys it.
type Key = (i64, String, String);

// Long because it is one comparison: the candidate's verdicts, the live issues, and the walk
// over both that sorts every finding into open, fix, rescore or unchanged.
async fn judge(
    store: &Store,
    set: &PluginSet,
    plugin: Arc<crate::plugin::LoadedPlugin>,
) -> Result<ShadowRun, ShadowError> {
    let id = plugin.info.id.clone();
    let wasm_sha256 = std::fs::read(&plugin.wasm_path)
        .map(|b| hex::encode(Sha256::digest(&b)))
        .unwrap_or_default();
    let types: Vec<Option<String>> = if plugin.info.resource_types.iter().any(|t| t == "*") {
        vec![None]
    } else {
        plugin
            .info
            .resource_types
            .iter()
            .cloned()
            .map(Some)
            .collect()
    };
    let mut items = Vec::new();
    for resource_type in types {
        let filter = ItemFilter {
            resource_type,
            ..Default::default()
        };
        items.extend(store.current_items(&filter).await?);
    }
    let refs: Vec<&crate::item::Item> = items.iter().map(|s| &s.item).collect();
    let batch = set.config().plugins.batch_size;
    let (outcomes, _) = run_auditor(&plugin, &refs, batch, Arc::new(store.clone())).await;

    let live = store
        .issues(&IssueFilter {
            open: Some(true),
            plugin: Some(id.clone()),
            include_disabled: true,
            ..Default::default()
        })
        .await?;
    let mut live_open: HashMap<Key, (i64, u32, String)> = live
        .into_iter()
        .map(|r| {
            (
                (r.issue.item_id, r.issue.check_id, r.issue.notes),
                (r.issue.id, r.issue.score, r.issue.title),
            )
        })
        .collect();

    let mut run = blank(&id, &plugin.info.version);
    run.wasm_sha256 = wasm_sha256;
    run.live_version = set.get(&id).map(|p| p.info.version.clone());
    run.items = items.len() as u64;
    let mut judged_items = std::collections::HashSet::new();
    for (stored, outcome) in items.iter().zip(outcomes) {
        // A failed item is not judged: its live issues count as neither kept nor fixed (the
        // fixes below come from judged items only), since a failure proves nothing.
        let Ok(issues) = outcome else {
            run.failed += 1;
            continue;
        };
        judged_items.insert(stored.id);
        for issue in issues {
            let key = (stored.id, issue.check_id.clone(), issue.notes.clone());
            match live_open.remove(&key) {
                Some((_, score, _)) if score == issue.score => run.unchanged += 1,
                Some((issue_id, score, _)) => {
                    run.would_rescore += 1;
                    run.entries.push(entry(
                        ShadowChange::Rescore,
                        stored,
                        &issue,
                        Some((issue_id, score)),
                    ));
                }
                None => {
                    run.would_open += 1;
                    run.entries
                        .push(entry(ShadowChange::Open, stored, &issue, None));
                }
            }
        }
    }
    // What is left of the live issues on judged items, the candidate no longer finds.
    let by_id: HashMap<i64, &crate::store::StoredItem> = items.iter().map(|s| (s.id, s)).collect();
    let mut fixes: Vec<_> = live_open
        .into_iter()
        .filter(|((item, _, _), _)| judged_items.contains(item))
        .collect();
    fixes.sort_by_key(|(_, (issue_id, _, _))| *issue_id);
    for ((item, check_id, notes), (issue_id, score, title)) in fixes {
        run.would_fix += 1;
        run.entries.push(ShadowEntry {
            change: ShadowChange::Fix,
            item_id: item,
            arn: by_id
                .get(&item)
                .map(|s| s.item.arn.clone())
                .unwrap_or_default(),
            check_id,
            title,
            notes,
            score,
            live_score: Some(score),
            issue_id: Some(issue_id),
        });
    }
    Ok(run)
}

fn entry(
    change: ShadowChange,
    stored: &crate::store::StoredItem,
    issue: &crate::plugin::contract::Issue,
    live: Option<(i64, u32)>,
) -> ShadowEntry {
    ShadowEntry {
        change,
        item_id: stored.id,
        arn: stored.item.arn.clone(),
        check_id: issue.check_id.clone(),
        title: issue.title.clone(),
        notes: issue.notes.clone(),
        score: issue.score,
        live_score: live.map(|(_, s)| s),
        issue_id: live.map(|(id, _)| id),
    }
}
