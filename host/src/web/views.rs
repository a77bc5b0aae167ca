//! What a page shows and what the API answers, computed once: the console's pages render
//! these values, the API serialises them. Also the JSON-body extractor and the checks on
//! the values people type (ids, reasons, expiry dates).

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::{FromRequest, Request};
use axum::http::Uri;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::Shared;
use super::auth::Caller;
use super::error::{ApiError, WebError};
use super::params::{ISSUE_PARAMS, Params, issue_filter, item_filter};
use crate::store::{
    Actor, DayPoint, DiffEntry, IssueAction, IssueGroup, IssueRow, ItemSummary, Revision,
    ScopeHealth, ScoreCell, StoredIssue, StoredItem, SweepRecord, diff, now_ms,
};

/// A JSON request body; a wrong content type is a 415 and a malformed body a 400 naming the
/// problem, both as JSON.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        use axum::extract::rejection::JsonRejection;
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(JsonRejection::MissingJsonContentType(_)) => {
                Err(ApiError(WebError::UnsupportedMediaType(
                    "send the body as Content-Type: application/json".into(),
                )))
            }
            Err(JsonRejection::BytesRejection(_)) => {
                Err(ApiError(WebError::TooLarge(super::MAX_BODY)))
            }
            Err(e) => Err(ApiError(WebError::BadRequest(format!(
                "request body: {}",
                crate::text::escape_controls(&e.body_text())
            )))),
        }
    }
}

pub fn item_id(text: &str) -> Result<i64, WebError> {
    text.parse()
        .map_err(|_| WebError::BadRequest("an item id is a number".into()))
}

pub fn issue_id(text: &str) -> Result<i64, WebError> {
    text.parse()
        .map_err(|_| WebError::BadRequest("an issue id is a number".into()))
}

/// A justification's expiry: absent, or a date in the future.
pub fn expiry(text: Option<&str>) -> Result<Option<i64>, WebError> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let until = crate::when::parse_expiry(text)
        .map_err(|e| WebError::BadRequest(format!("expires: {e}")))?;
    if until <= now_ms() {
        return Err(WebError::BadRequest("expires: that is in the past".into()));
    }
    Ok(Some(until))
}

pub const MAX_REASON: usize = 1000;

pub fn reason(text: &str) -> Result<String, WebError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(WebError::BadRequest(
            "reason: say why (it is kept with the issue)".into(),
        ));
    }
    if text.chars().count() > MAX_REASON {
        return Err(WebError::BadRequest(format!(
            "reason: at most {MAX_REASON} characters"
        )));
    }
    Ok(text.to_string())
}

/// When the last sweep started (0 before any): "new" and "fixed" count from here.
pub async fn last_sweep(s: &Shared) -> Result<Option<SweepRecord>, WebError> {
    Ok(s.store.sweeps(1).await?.into_iter().next())
}

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
    let before = params.number::<i64>("cursor", "a cursor from a previous page")?;
    let limit = params.limit()?.min(100);
    let stored = s
        .store
        .item_by_id(item)
        .await?
        .ok_or_else(|| WebError::NotFound(format!("no item with id {item}")))?;
    // One more than shown: the last one shown is diffed against it.
    let mut revisions = s.store.revisions_page(item, before, limit + 1).await?;
    let more = revisions.len() > limit as usize;
    let mut views = Vec::new();
    for i in 0..revisions.len().min(limit as usize) {
        let previous = revisions.get(i + 1);
        let r = &revisions[i];
        views.push(RevisionView {
            diff: previous.map_or_else(Vec::new, |p| {
                diff_lines(&stored.item.resource_type, &p.document, &r.document)
            }),
            first: previous.is_none(),
            revision: r.clone(),
        });
    }
    revisions.clear();
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
    let revisions = revision_page(s, id, params).await?;
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

pub const COMPARE_PARAMS: &[&str] = &["items", "item", "from", "to"];

/// Documents side by side: one row per leaf path present in any of them.
pub struct Comparison {
    pub columns: Vec<String>,
    pub column_links: Vec<String>,
    pub rows: Vec<CompareRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CompareRow {
    pub path: String,
    /// Compact JSON per column; `None` where the path is absent.
    pub values: Vec<Option<String>>,
    pub differs: bool,
}

impl Comparison {
    pub fn to_json(&self) -> Value {
        json!({ "columns": self.columns, "rows": self.rows })
    }
}

/// `items=1,2[,3,4]` compares items' current configurations (with tags and region);
/// `item=ID&from=R1&to=R2` two revisions of one item.
pub async fn compare(s: &Shared, params: &Params) -> Result<Comparison, WebError> {
    let mut columns = Vec::new();
    let mut links = Vec::new();
    let mut docs = Vec::new();
    if let Some(list) = params.text("items") {
        let ids: Vec<i64> = list
            .split(',')
            .map(|t| item_id(t.trim()))
            .collect::<Result<_, _>>()?;
        if !(2..=4).contains(&ids.len()) {
            return Err(WebError::BadRequest(
                "compare 2 to 4 items (`items=1,2`)".into(),
            ));
        }
        for id in ids {
            let stored = s
                .store
                .item_by_id(id)
                .await?
                .ok_or_else(|| WebError::NotFound(format!("no item with id {id}")))?;
            let envelope = stored.item.to_envelope();
            columns.push(format!(
                "{} · {} · {}",
                stored.item.resource_name, stored.item.account_id, stored.item.region
            ));
            links.push(format!("/items/{id}"));
            docs.push(json!({
                "configuration": envelope["configuration"],
                "supplementaryConfiguration": envelope["supplementaryConfiguration"],
                "tags": envelope["tags"],
            }));
        }
    } else {
        let item = params.number::<i64>("item", "an item id")?.ok_or_else(|| {
            WebError::BadRequest("give `items=1,2` or `item=ID&from=R&to=R`".into())
        })?;
        for key in ["from", "to"] {
            let id = params
                .number::<i64>(key, "a revision id")?
                .ok_or_else(|| WebError::BadRequest(format!("parameter `{key}` is required")))?;
            let revision = match s.store.revision(id).await? {
                Some(r) if r.item_id == item => r,
                _ => {
                    return Err(WebError::NotFound(format!(
                        "item {item} has no revision {id}"
                    )));
                }
            };
            columns.push(format!(
                "revision {id} · {}",
                crate::when::rfc3339(revision.captured_at_ms)
            ));
            links.push(format!("/items/{item}"));
            docs.push(revision.document);
        }
    }
    let flat: Vec<BTreeMap<String, String>> = docs.iter().map(flatten).collect();
    let paths: BTreeSet<&String> = flat.iter().flat_map(|f| f.keys()).collect();
    let rows = paths
        .into_iter()
        .map(|path| {
            let values: Vec<Option<String>> = flat.iter().map(|f| f.get(path).cloned()).collect();
            let differs = values.windows(2).any(|w| w[0] != w[1]);
            CompareRow {
                path: path.clone(),
                values,
                differs,
            }
        })
        .collect();
    Ok(Comparison {
        columns,
        column_links: links,
        rows,
    })
}

/// Leaf paths to compact JSON; arrays of scalars stay whole (they read as one value).
fn flatten(doc: &Value) -> BTreeMap<String, String> {
    fn walk(path: String, v: &Value, out: &mut BTreeMap<String, String>) {
        match v {
            Value::Object(map) if !map.is_empty() => {
                for (k, v) in map {
                    let p = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    walk(p, v, out);
                }
            }
            Value::Array(list)
                if !list.is_empty() && list.iter().any(|e| e.is_object() || e.is_array()) =>
            {
                for (i, v) in list.iter().enumerate() {
                    walk(format!("{path}[{i}]"), v, out);
                }
            }
            _ => {
                out.insert(path, v.to_string());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(String::new(), doc, &mut out);
    out
}

pub struct IssuePage {
    pub issues: Vec<IssueRow>,
    pub next_cursor: Option<String>,
    pub query: String,
}

pub async fn issue_page(s: &Shared, params: &Params) -> Result<IssuePage, WebError> {
    let since = last_sweep(s).await?.map_or(0, |w| w.started_ms);
    let mut filter = issue_filter(params, since)?;
    let limit = params.limit()?;
    filter.limit = Some(u64::from(limit));
    let issues = s.store.issues(&filter).await?;
    let next_cursor = (issues.len() == limit as usize)
        .then(|| {
            issues
                .last()
                .map(|r| format!("{}.{}", r.issue.score, r.issue.id))
        })
        .flatten();
    Ok(IssuePage {
        issues,
        next_cursor,
        query: params.query_without(&["cursor"]),
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct GroupView {
    #[serde(flatten)]
    pub group: IssueGroup,
    /// Live items of the group's resource types: the Y of "X of Y items".
    pub of_items: u64,
}

pub async fn issue_groups(s: &Shared, params: &Params) -> Result<Vec<GroupView>, WebError> {
    let since = last_sweep(s).await?.map_or(0, |w| w.started_ms);
    let filter = issue_filter(params, since)?;
    let per_type = s.store.items_per_type().await?;
    Ok(s.store
        .issue_groups(&filter)
        .await?
        .into_iter()
        .map(|group| GroupView {
            of_items: group
                .resource_types
                .iter()
                .map(|t| per_type.get(t).copied().unwrap_or(0))
                .sum(),
            group,
        })
        .collect())
}

pub async fn issue_with_actions(
    s: &Shared,
    id: i64,
) -> Result<(IssueRow, Vec<IssueAction>), WebError> {
    let issue = s
        .store
        .issue(id)
        .await?
        .ok_or_else(|| WebError::NotFound(format!("no issue with id {id}")))?;
    Ok((issue, s.store.issue_actions(id).await?))
}

/// What a bulk justification matched, and whether it was applied.
#[derive(Debug, Clone, Serialize)]
pub struct BulkOutcome {
    pub matched: u64,
    /// The first few, to see what the filter catches.
    pub sample: Vec<IssueRow>,
    pub applied: Option<u64>,
    pub filter: String,
}

const BULK_SAMPLE: usize = 20;

pub async fn bulk_justify(
    s: &Shared,
    caller: &Caller,
    filter_query: &str,
    reason_text: Option<&str>,
    expires: Option<&str>,
    confirm: Option<u64>,
) -> Result<BulkOutcome, WebError> {
    let uri: Uri = format!("/?{}", filter_query.trim_start_matches('?'))
        .parse()
        .map_err(|_| WebError::BadRequest("filter: not a query string".into()))?;
    let params = Params::parse(&uri, ISSUE_PARAMS)?;
    if params.text("cursor").is_some() || params.text("limit").is_some() {
        return Err(WebError::BadRequest(
            "filter: a bulk justification takes the whole filtered set (no cursor or limit)".into(),
        ));
    }
    let since = last_sweep(s).await?.map_or(0, |w| w.started_ms);
    let mut filter = issue_filter(&params, since)?;
    // Only open issues can be excused.
    if filter.open == Some(false) {
        return Err(WebError::BadRequest(
            "filter: fixed issues need no justification".into(),
        ));
    }
    filter.open = Some(true);
    let matched = s.store.issues(&filter).await?;
    let count = matched.len() as u64;
    let mut outcome = BulkOutcome {
        matched: count,
        sample: matched.iter().take(BULK_SAMPLE).cloned().collect(),
        applied: None,
        filter: params.query_without(&[]),
    };
    let Some(confirm) = confirm else {
        return Ok(outcome);
    };
    if confirm != count {
        return Err(WebError::BadRequest(format!(
            "the filter now matches {count} issues, not the {confirm} you previewed; preview again"
        )));
    }
    let reason = reason(reason_text.unwrap_or(""))?;
    let until = expiry(expires)?;
    let ids: Vec<i64> = matched.iter().map(|r| r.issue.id).collect();
    let actor = Actor {
        name: &caller.name,
        via: caller.via.as_str(),
    };
    let applied = s.store.justify_issues(&ids, &reason, actor, until).await?;
    tracing::info!(by = %caller.name, issues = applied, "bulk justification");
    outcome.applied = Some(applied);
    Ok(outcome)
}

/// The configured accounts, without credentials or external ids.
pub fn accounts(s: &Shared) -> Vec<Value> {
    s.runtime
        .config()
        .accounts
        .iter()
        .map(|a| {
            json!({
                "id": a.id,
                "name": a.name,
                "third_party": a.third_party,
                "active": a.active,
                "regions": a.regions,
                "role_arn": a.role_arn,
            })
        })
        .collect()
}

pub async fn plugins(s: &Shared) -> Value {
    let context = s.runtime.control_context();
    json!({
        "plugins": crate::control::plugin_statuses(&context).await,
        "config_error": s.runtime.config_error(),
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct ScopeView {
    #[serde(flatten)]
    pub health: ScopeHealth,
    /// No complete listing for three intervals, or the last attempt failed.
    pub stale: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Dashboard {
    pub scores: Vec<ScoreCell>,
    pub by_account: BTreeMap<String, u64>,
    pub by_type: BTreeMap<String, u64>,
    /// Open unjustified issues by score: 10+, 5–9, 1–4, 0.
    pub bands: [u64; 4],
    pub new: u64,
    pub regressed: u64,
    pub fixed: u64,
    pub last_sweep: Option<SweepRecord>,
    pub scopes: Vec<ScopeView>,
    pub days: Vec<DayPoint>,
}

pub async fn dashboard(s: &Shared) -> Result<Dashboard, WebError> {
    let last = last_sweep(s).await?;
    let (new, regressed, fixed) = s
        .store
        .issue_news_since(last.as_ref().map_or(0, |w| w.started_ms))
        .await?;
    let scores = s.store.scores_by_account_and_type().await?;
    let mut by_account = BTreeMap::new();
    let mut by_type = BTreeMap::new();
    for c in &scores {
        *by_account.entry(c.account_id.clone()).or_insert(0) += c.score;
        *by_type.entry(c.resource_type.clone()).or_insert(0) += c.score;
    }
    let config = s.runtime.config();
    let interval_ms = config.watch.interval_seconds.map_or(
        config.watch.interval_minutes.saturating_mul(60_000),
        |sec| sec.saturating_mul(1000),
    );
    let now = now_ms();
    let scopes = s
        .store
        .scope_health()
        .await?
        .into_iter()
        .map(|health| {
            let too_old = health.last_complete_ms.is_none_or(|t| {
                now - t > i64::try_from(interval_ms.saturating_mul(3)).unwrap_or(i64::MAX)
            });
            let failing = health
                .last_error_ms
                .is_some_and(|e| health.last_listed_ms.is_none_or(|l| e >= l));
            ScopeView {
                stale: too_old || failing,
                health,
            }
        })
        .collect();
    Ok(Dashboard {
        bands: s.store.score_bands().await?,
        by_account,
        by_type,
        scores,
        new,
        regressed,
        fixed,
        last_sweep: last,
        scopes,
        days: s.store.daily_series(30).await?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flatten_keeps_scalar_lists_whole() {
        let f = flatten(&json!({"a": {"b": 1}, "l": ["x", "y"], "rules": [{"p": 22}], "e": {}}));
        assert_eq!(f.get("a.b").map(String::as_str), Some("1"));
        assert_eq!(f.get("l").map(String::as_str), Some("[\"x\",\"y\"]"));
        assert_eq!(f.get("rules[0].p").map(String::as_str), Some("22"));
        assert_eq!(f.get("e").map(String::as_str), Some("{}"));
    }

    #[test]
    fn typed_values_are_checked() {
        assert!(item_id("12").is_ok());
        assert!(item_id("12; DROP TABLE items").is_err());
        assert!(reason("  ").is_err());
        assert!(reason(&"x".repeat(MAX_REASON + 1)).is_err());
        assert_eq!(reason(" ok ").expect("reason"), "ok");
        assert!(expiry(Some("2001-01-01")).is_err(), "past");
        assert!(expiry(Some("soon")).is_err());
        assert_eq!(expiry(Some("")).expect("none"), None);
        assert!(expiry(Some("2999-01-01")).expect("future").is_some());
    }
}
