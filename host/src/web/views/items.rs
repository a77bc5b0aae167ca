//! An item: the list page, the item with its issues and revisions (each diffed against the
//! one before, ephemeral paths marked), diffs between any two revisions.

use serde::Serialize;
use serde_json::{Value, json};

use super::item_id;
use crate::store::{DiffEntry, IssueAction, ItemSummary, Revision, StoredIssue, StoredItem, diff};
use crate::web::Shared;
use crate::web::error::WebError;
use crate::web::params::{Params, item_filter};

pub struct ItemPage {
    pub items: Vec<ItemSummary>,
    pub total: u64,
    pub next_cursor: Option<String>,
    /// The filter as a query string, without the cursor (for links).
    pub query: String,
}

pub async fn item_page(s: &Shared, params: &Params) -> Result<ItemPage, WebError> {
    let filter = item_filter(params)?;
    let limit = params.limit()?;
    let items = s.store.item_summaries(&filter, limit).await?;
    let next_cursor = (items.len() == limit as usize)
        .then(|| items.last().map(|i| i.id.to_string()))
        .flatten();
    Ok(ItemPage {
        total: s.store.count_items(&filter).await?,
        items,
        next_cursor,
        query: params.query_without(&["cursor"]),
    })
}

/// An item in the CLI's JSON names (`simian items --format json`), without its document.
pub fn summary_json(i: &ItemSummary) -> Value {
    json!({
        "resourceType": i.resource_type,
        "resourceId": i.resource_id,
        "resourceName": i.resource_name,
        "arn": i.arn,
        "accountId": i.account_id,
        "awsRegion": i.region,
        "simian": {
            "itemId": i.id,
            "deleted": i.deleted,
            "lastChangedMs": i.last_changed_ms,
            "score": i.score,
            "openIssues": i.open_issues,
        },
    })
}

/// One line of a diff, with whether it lies under one of the type's ephemeral paths.
#[derive(Debug, Clone, Serialize)]
pub struct DiffLine {
    #[serde(flatten)]
    pub entry: DiffEntry,
    pub ephemeral: bool,
}

fn diff_lines(resource_type: &str, old: &Value, new: &Value) -> Vec<DiffLine> {
    diff(old, new)
        .into_iter()
        .map(|entry| DiffLine {
            ephemeral: crate::resource_types::is_ephemeral_path(resource_type, &entry.path),
            entry,
        })
        .collect()
}

pub struct RevisionView {
    pub revision: Revision,
    /// Against the revision before it; empty for the first.
    pub diff: Vec<DiffLine>,
    pub first: bool,
}

impl RevisionView {
    /// In the CLI's names (`simian history --diff --format json`).
    pub fn to_json(&self) -> Value {
        let r = &self.revision;
        json!({
            "revision": r.id,
            "itemId": r.item_id,
            "kind": r.kind,
            "capturedAtMs": r.captured_at_ms,
            "sweep": r.sweep_id.0,
            "durableHash": r.durable_hash,
            "document": r.document,
            "diff": self.diff,
        })
    }
}

pub struct RevisionPage {
    pub revisions: Vec<RevisionView>,
    pub next_cursor: Option<String>,
}

pub async fn revision_page(
    s: &Shared,
    item: i64,
    params: &Params,
) -> Result<RevisionPage, WebError> {
    let stored = s
        .store
        .item_by_id(item)
        .await?
        .ok_or_else(|| WebError::NotFound(format!("no item with id {item}")))?;
    revisions_of(s, item, &stored.item.resource_type, params).await
}

/// A page of `item`'s revisions (its type decides which paths are ephemeral).
async fn revisions_of(
    s: &Shared,
    item: i64,
    resource_type: &str,
    params: &Params,
) -> Result<RevisionPage, WebError> {
    let before = params.number::<i64>("cursor", "a cursor from a previous page")?;
    let limit = params.limit()?.min(100) as usize;
    // One more than shown: the last one shown is diffed against it.
    let mut revisions = s
        .store
        .revisions_page(item, before, limit as u32 + 1)
        .await?;
    let more = revisions.len() > limit;
    let diffs: Vec<Option<Vec<DiffLine>>> = (0..revisions.len().min(limit))
        .map(|i| {
            revisions.get(i + 1).map(|previous| {
                diff_lines(resource_type, &previous.document, &revisions[i].document)
            })
        })
        .collect();
    revisions.truncate(limit);
    let views: Vec<RevisionView> = revisions
        .into_iter()
        .zip(diffs)
        .map(|(revision, diff)| RevisionView {
            first: diff.is_none(),
            diff: diff.unwrap_or_default(),
            revision,
        })
        .collect();
    Ok(RevisionPage {
        next_cursor: more
            .then(|| views.last().map(|v| v.revision.id.to_string()))
            .flatten(),
        revisions: views,
    })
}

pub struct IssueView {
    pub issue: StoredIssue,
    pub actions: Vec<IssueAction>,
    /// The revision the item had when the issue was first seen.
    pub introduced_in: Option<i64>,
}

pub struct ItemDetail {
    pub stored: StoredItem,
    pub score: u32,
    pub revision_count: u64,
    pub revisions: RevisionPage,
    pub issues: Vec<IssueView>,
}

impl ItemDetail {
    pub fn to_json(&self) -> Value {
        let mut doc = self.stored.item.to_envelope();
        doc["simian"] = json!({
            "itemId": self.stored.id,
            "revisionId": self.stored.revision_id,
            "deleted": self.stored.deleted,
            "lastChangedMs": self.stored.last_changed_ms,
            "score": self.score,
            "revisionCount": self.revision_count,
        });
        doc["revisions"] = json!(
            self.revisions
                .revisions
                .iter()
                .map(RevisionView::to_json)
                .collect::<Vec<_>>()
        );
        doc["revisionsNextCursor"] = json!(self.revisions.next_cursor);
        doc["issues"] = json!(
            self.issues
                .iter()
                .map(|v| {
                    let mut i = serde_json::to_value(&v.issue).unwrap_or_default();
                    i["actions"] = json!(v.actions);
                    i["introducedInRevision"] = json!(v.introduced_in);
                    i
                })
                .collect::<Vec<_>>()
        );
        doc
    }
}

pub async fn item_detail(s: &Shared, id: &str) -> Result<ItemDetail, WebError> {
    item_detail_page(s, item_id(id)?, &Params::default()).await
}

pub async fn item_detail_page(
    s: &Shared,
    id: i64,
    params: &Params,
) -> Result<ItemDetail, WebError> {
    let stored = s
        .store
        .item_by_id(id)
        .await?
        .ok_or_else(|| WebError::NotFound(format!("no item with id {id}")))?;
    let revisions = revisions_of(s, id, &stored.item.resource_type, params).await?;
    let times = s.store.revision_times(id).await?;
    let mut issues = Vec::new();
    let mut score = 0u32;
    for issue in s.store.item_issues(id).await? {
        if issue.open && !issue.disabled && issue.justification.is_none() {
            score = score.saturating_add(issue.score);
        }
        let introduced_in = times
            .iter()
            .rev()
            .find(|(_, at)| *at <= issue.first_seen_ms)
            .or(times.first())
            .map(|(rev, _)| *rev);
        issues.push(IssueView {
            actions: s.store.issue_actions(issue.id).await?,
            introduced_in,
            issue,
        });
    }
    // Open first, worst first.
    issues.sort_by_key(|v| (!v.issue.open, std::cmp::Reverse(v.issue.score), v.issue.id));
    Ok(ItemDetail {
        score,
        revision_count: times.len() as u64,
        revisions,
        issues,
        stored,
    })
}

pub struct DiffView {
    pub from: i64,
    pub to: i64,
    pub entries: Vec<DiffLine>,
}

pub async fn revision_diff(s: &Shared, item: i64, params: &Params) -> Result<DiffView, WebError> {
    let rev = |key: &str| -> Result<i64, WebError> {
        params
            .number::<i64>(key, "a revision id")?
            .ok_or_else(|| WebError::BadRequest(format!("parameter `{key}` is required")))
    };
    let (from, to) = (rev("from")?, rev("to")?);
    let stored = s
        .store
        .item_by_id(item)
        .await?
        .ok_or_else(|| WebError::NotFound(format!("no item with id {item}")))?;
    let load = |id: i64| async move {
        match s.store.revision(id).await? {
            Some(r) if r.item_id == item => Ok(r),
            _ => Err(WebError::NotFound(format!(
                "item {item} has no revision {id}"
            ))),
        }
    };
    let (a, b) = (load(from).await?, load(to).await?);
    Ok(DiffView {
        from,
        to,
        entries: diff_lines(&stored.item.resource_type, &a.document, &b.document),
    })
}
