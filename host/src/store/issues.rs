//! Issue lifecycle: what an auditor found for an item, remembered across audits.
//!
//! Owns turning one plugin's findings for one item into transitions — new, still open, fixed
//! (kept, never deleted), regressed — under the identity (item, plugin, check id, evidence).
//! The score is not part of the identity, so re-scoring a check keeps its history. It must
//! never decide what is an issue (plugins do) nor touch other plugins' issues.

use std::collections::HashMap;

use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;

use super::{Store, StoreError, begin_write, now_ms, q};

/// One finding as an auditor returned it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundIssue {
    pub check_id: String,
    pub title: String,
    pub score: u32,
    pub notes: String,
    pub remediation: Option<String>,
    /// The operator disabled this check for the item's account: kept, counted nowhere.
    pub disabled: bool,
}

/// The plugin version that decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditedBy {
    pub plugin: String,
    pub version: String,
    pub generation: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Transition {
    New,
    StillOpen,
    Fixed,
    Regressed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IssueChange {
    pub issue_id: i64,
    pub check_id: String,
    pub notes: String,
    pub score: u32,
    pub transition: Transition,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredIssue {
    pub id: i64,
    pub item_id: i64,
    pub plugin: String,
    pub check_id: String,
    pub title: String,
    pub score: u32,
    pub notes: String,
    pub remediation: Option<String>,
    pub open: bool,
    pub first_seen_ms: i64,
    pub last_seen_ms: i64,
    pub fixed_ms: Option<i64>,
    pub regressions: u32,
    pub plugin_version: String,
    pub plugin_generation: u64,
    /// The operator's justification, if one is in force (not expired).
    pub justification: Option<Justification>,
    /// The operator disabled the check: kept, counted towards no score.
    pub disabled: bool,
    /// Closed because its plugin was unloaded, not because anything was fixed.
    pub retired: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Justification {
    pub reason: String,
    pub by: String,
    pub at_ms: i64,
    pub until_ms: Option<i64>,
}

fn notes_hash(notes: &str) -> String {
    hex::encode(Sha256::digest(notes.as_bytes()))
}

struct Existing {
    id: i64,
    open: bool,
    retired: bool,
    score: i64,
}

/// Append one transition to an issue's timeline (`issue_events`), inside the caller's
/// transaction so the timeline never disagrees with `issues`.
async fn record_event(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    issue_id: i64,
    at_ms: i64,
    event: &str,
    score: i64,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO issue_events (issue_id, at_ms, event, score) VALUES ($1, $2, $3, $4)")
        .bind(issue_id)
        .bind(at_ms)
        .bind(event)
        .bind(score)
        .execute(&mut **tx)
        .await
        .map_err(q("recording an issue event"))?;
    Ok(())
}

/// Close every open issue matching `condition` (binds `$2`… from `args`, `$1` is the time) as
/// `event`, recording each in the timeline first; returns the closed issues.
async fn close_open_issues(
    store: &Store,
    condition: &str,
    arg: super::items::Arg,
    event: &'static str,
    what: &'static str,
) -> Result<Vec<IssueChange>, StoreError> {
    let _guard = store.write_guard().await;
    let now = now_ms();
    let mut tx = begin_write(&store.pool, store.backend)
        .await
        .map_err(q(what))?;
    super::items::bind_all(
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO issue_events (issue_id, at_ms, event, score)
             SELECT id, $1, '{event}', score FROM issues WHERE status = 'open' AND {condition}
             ORDER BY id"
        )))
        .bind(now),
        vec![arg.clone()],
    )
    .execute(&mut *tx)
    .await
    .map_err(q(what))?;
    let retired = i64::from(event == "retired");
    let rows = super::items::bind_all(
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE issues SET status = 'fixed', fixed_ms = $1, retired = {retired}
             WHERE status = 'open' AND {condition} RETURNING id, check_id, notes, score"
        )))
        .bind(now),
        vec![arg],
    )
    .fetch_all(&mut *tx)
    .await
    .map_err(q(what))?;
    tx.commit().await.map_err(q(what))?;
    rows.iter()
        .map(|r| {
            let score: i64 = r.try_get("score").map_err(q("reading a fixed issue"))?;
            Ok(IssueChange {
                issue_id: r.try_get("id").map_err(q("reading a fixed issue"))?,
                check_id: r.try_get("check_id").map_err(q("reading a fixed issue"))?,
                notes: r.try_get("notes").map_err(q("reading a fixed issue"))?,
                score: u32::try_from(score).unwrap_or(u32::MAX),
                transition: Transition::Fixed,
            })
        })
        .collect()
}

impl Store {
    /// Record what `by` found for one item (all of that plugin's findings for it) and return
    /// the transitions, in one transaction.
    pub async fn record_audit(
        &self,
        item_id: i64,
        by: &AuditedBy,
        found: &[FoundIssue],
    ) -> Result<Vec<IssueChange>, StoreError> {
        let mut out = self.record_audits(by, &[(item_id, found)]).await?;
        Ok(out.pop().unwrap_or_default())
    }

    /// `record_audit` for many items of one plugin in one transaction: one commit per batch
    /// instead of per item, which is what re-auditing a large store costs.
    pub async fn record_audits(
        &self,
        by: &AuditedBy,
        batch: &[(i64, &[FoundIssue])],
    ) -> Result<Vec<Vec<IssueChange>>, StoreError> {
        let _guard = self.write_guard().await;
        let now = now_ms();
        let mut tx = begin_write(&self.pool, self.backend)
            .await
            .map_err(q("begin recording an audit"))?;
        // The batch's existing issues in one query (an id range, filtered here) rather than
        // one query per item: re-auditing a large store is dominated by these reads.
        let mut existing = load_existing(&mut tx, by, batch).await?;
        let mut all = Vec::with_capacity(batch.len());
        for (item_id, found) in batch {
            let mine = existing.remove(item_id).unwrap_or_default();
            all.push(record_one(&mut tx, now, *item_id, by, found, mine).await?);
        }
        tx.commit().await.map_err(q("commit recording an audit"))?;
        Ok(all)
    }

    /// Close the open issues of a plugin that is no longer loaded: no score counts a check
    /// nobody runs. Returns how many were retired.
    pub async fn retire_plugin_issues(&self, plugin: &str) -> Result<u64, StoreError> {
        let closed = close_open_issues(
            self,
            "plugin = $2",
            super::items::Arg::Text(plugin.to_string()),
            "retired",
            "retiring a plugin's issues",
        )
        .await?;
        Ok(closed.len() as u64)
    }

    /// A deleted item's open issues are fixed: the resource that had them is gone.
    pub async fn fix_deleted_item_issues(
        &self,
        item_id: i64,
    ) -> Result<Vec<IssueChange>, StoreError> {
        close_open_issues(
            self,
            "item_id = $2",
            super::items::Arg::Int(item_id),
            "fixed",
            "fixing a deleted item's issues",
        )
        .await
    }

    /// Every issue of an item (open and fixed), highest score first.
    pub async fn item_issues(&self, item_id: i64) -> Result<Vec<StoredIssue>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ISSUE_COLUMNS} FROM issues WHERE item_id = $1
                 ORDER BY score DESC, plugin, check_id, id"
        )))
        .bind(item_id)
        .fetch_all(&self.pool)
        .await
        .map_err(q("listing an item's issues"))?;
        rows.iter().map(read_issue).collect()
    }

    /// Every issue of each of these items, as `item_issues` orders them, in one query per
    /// chunk of ids; items without issues are absent from the map.
    pub async fn issues_of_items(
        &self,
        item_ids: &[i64],
    ) -> Result<HashMap<i64, Vec<StoredIssue>>, StoreError> {
        let mut out: HashMap<i64, Vec<StoredIssue>> = HashMap::new();
        for chunk in super::items::sorted_unique(item_ids).chunks(super::items::ID_CHUNK) {
            let sql = format!(
                "SELECT {ISSUE_COLUMNS} FROM issues WHERE item_id IN ({})
                 ORDER BY score DESC, plugin, check_id, id",
                super::items::placeholders(chunk.len())
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for id in chunk {
                query = query.bind(*id);
            }
            let rows = query
                .fetch_all(&self.pool)
                .await
                .map_err(q("listing items' issues"))?;
            for row in &rows {
                let issue = read_issue(row)?;
                out.entry(issue.item_id).or_default().push(issue);
            }
        }
        Ok(out)
    }
}

type ExistingByItem = HashMap<i64, HashMap<(String, String), Existing>>;

async fn load_existing(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    by: &AuditedBy,
    batch: &[(i64, &[FoundIssue])],
) -> Result<ExistingByItem, StoreError> {
    let (Some(lo), Some(hi)) = (
        batch.iter().map(|(id, _)| *id).min(),
        batch.iter().map(|(id, _)| *id).max(),
    ) else {
        return Ok(HashMap::new());
    };
    let wanted: std::collections::HashSet<i64> = batch.iter().map(|(id, _)| *id).collect();
    let rows = sqlx::query(
        "SELECT item_id, id, check_id, notes_hash, status, retired, score FROM issues
         WHERE plugin = $1 AND item_id >= $2 AND item_id <= $3",
    )
    .bind(&by.plugin)
    .bind(lo)
    .bind(hi)
    .fetch_all(&mut **tx)
    .await
    .map_err(q("loading the batch's issues"))?;
    let mut out: ExistingByItem = HashMap::new();
    for row in rows {
        let item_id: i64 = row.try_get("item_id").map_err(q("reading an issue"))?;
        if !wanted.contains(&item_id) {
            continue;
        }
        let status: String = row.try_get("status").map_err(q("reading an issue"))?;
        out.entry(item_id).or_default().insert(
            (
                row.try_get("check_id").map_err(q("reading an issue"))?,
                row.try_get("notes_hash").map_err(q("reading an issue"))?,
            ),
            Existing {
                id: row.try_get("id").map_err(q("reading an issue"))?,
                open: status == "open",
                retired: row
                    .try_get::<i64, _>("retired")
                    .map_err(q("reading an issue"))?
                    != 0,
                score: row.try_get("score").map_err(q("reading an issue"))?,
            },
        );
    }
    Ok(out)
}

/// One item's findings from one plugin, inside the caller's transaction.
// Long because it is one item's issue lifecycle in one place (new, still open, regressed,
// fixed, re-scored), where its rules can be read together.
async fn record_one(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    now: i64,
    item_id: i64,
    by: &AuditedBy,
    found: &[FoundIssue],
    mut existing: HashMap<(String, String), Existing>,
) -> Result<Vec<IssueChange>, StoreError> {
    let mut changes = Vec::new();
    let generation = i64::try_from(by.generation).unwrap_or(i64::MAX);
    for f in found {
        let key = (f.check_id.clone(), notes_hash(&f.notes));
        let transition = match existing.remove(&key) {
            Some(e) => {
                sqlx::query(
                    "UPDATE issues SET title = $1, score = $2, remediation = $3, status = 'open',
                        last_seen_ms = $4, fixed_ms = NULL,
                        regressions = regressions + $5,
                        plugin_version = $6, plugin_generation = $7, disabled = $9, retired = 0
                     WHERE id = $8",
                )
                .bind(&f.title)
                .bind(i64::from(f.score))
                .bind(&f.remediation)
                .bind(now)
                .bind(if e.open || e.retired { 0i64 } else { 1i64 })
                .bind(&by.version)
                .bind(generation)
                .bind(e.id)
                .bind(i64::from(f.disabled))
                .execute(&mut **tx)
                .await
                .map_err(q("updating an issue"))?;
                let transition = if e.open {
                    Transition::StillOpen
                } else if e.retired {
                    // Its plugin was away, so nobody saw it fixed: it is news again.
                    Transition::New
                } else {
                    Transition::Regressed
                };
                let score = i64::from(f.score);
                let event = match transition {
                    Transition::StillOpen if score != e.score => Some("rescored"),
                    Transition::StillOpen => None,
                    Transition::New => Some("new"),
                    Transition::Regressed | Transition::Fixed => Some("regressed"),
                };
                if let Some(event) = event {
                    record_event(tx, e.id, now, event, score).await?;
                }
                changes.push((e.id, f, transition));
                continue;
            }
            None => Transition::New,
        };
        let row = sqlx::query(
            "INSERT INTO issues (item_id, plugin, check_id, notes_hash, notes, title, score,
                remediation, status, first_seen_ms, last_seen_ms, plugin_version, plugin_generation,
                disabled)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'open', $9, $9, $10, $11, $12) RETURNING id",
        )
        .bind(item_id)
        .bind(&by.plugin)
        .bind(&f.check_id)
        .bind(&key.1)
        .bind(&f.notes)
        .bind(&f.title)
        .bind(i64::from(f.score))
        .bind(&f.remediation)
        .bind(now)
        .bind(&by.version)
        .bind(generation)
        .bind(i64::from(f.disabled))
        .fetch_one(&mut **tx)
        .await
        .map_err(q("inserting an issue"))?;
        let id: i64 = row.try_get("id").map_err(q("reading a new issue id"))?;
        record_event(tx, id, now, "new", i64::from(f.score)).await?;
        changes.push((id, f, transition));
    }
    let mut out: Vec<IssueChange> = changes
        .into_iter()
        .map(|(issue_id, f, transition)| IssueChange {
            issue_id,
            check_id: f.check_id.clone(),
            notes: f.notes.clone(),
            score: f.score,
            transition,
        })
        .collect();
    // Whatever was open and is no longer produced is fixed (kept, never deleted).
    for (_, e) in existing.into_iter().filter(|(_, e)| e.open) {
        let row = sqlx::query(
            "UPDATE issues SET status = 'fixed', fixed_ms = $1, plugin_version = $2,
                plugin_generation = $3
             WHERE id = $4 RETURNING check_id, notes, score",
        )
        .bind(now)
        .bind(&by.version)
        .bind(generation)
        .bind(e.id)
        .fetch_one(&mut **tx)
        .await
        .map_err(q("fixing an issue"))?;
        let score: i64 = row.try_get("score").map_err(q("reading a fixed issue"))?;
        record_event(tx, e.id, now, "fixed", score).await?;
        out.push(IssueChange {
            issue_id: e.id,
            check_id: row
                .try_get("check_id")
                .map_err(q("reading a fixed issue"))?,
            notes: row.try_get("notes").map_err(q("reading a fixed issue"))?,
            score: u32::try_from(score).unwrap_or(u32::MAX),
            transition: Transition::Fixed,
        });
    }
    Ok(out)
}

/// [`ISSUE_COLUMNS`] of `issues i`.
pub(super) const ISSUE_COLUMNS_I: &str =
    "i.id, i.item_id, i.plugin, i.check_id, i.title, i.score, i.notes,
    i.remediation, i.status, i.first_seen_ms, i.last_seen_ms, i.fixed_ms, i.regressions,
    i.plugin_version, i.plugin_generation, i.justified_reason, i.justified_by, i.justified_ms,
    i.justified_until_ms, i.disabled, i.retired";

/// The columns `read_issue` reads (by name).
const ISSUE_COLUMNS: &str = "id, item_id, plugin, check_id, title, score, notes, remediation,
    status, first_seen_ms, last_seen_ms, fixed_ms, regressions, plugin_version,
    plugin_generation, justified_reason, justified_by, justified_ms, justified_until_ms,
    disabled, retired";

pub(super) fn read_issue(r: &sqlx::any::AnyRow) -> Result<StoredIssue, StoreError> {
    let score: i64 = r.try_get("score").map_err(q("reading an issue"))?;
    let status: String = r.try_get("status").map_err(q("reading an issue"))?;
    let regressions: i64 = r.try_get("regressions").map_err(q("reading an issue"))?;
    let generation: i64 = r
        .try_get("plugin_generation")
        .map_err(q("reading an issue"))?;
    Ok(StoredIssue {
        id: r.try_get("id").map_err(q("reading an issue"))?,
        item_id: r.try_get("item_id").map_err(q("reading an issue"))?,
        plugin: r.try_get("plugin").map_err(q("reading an issue"))?,
        check_id: r.try_get("check_id").map_err(q("reading an issue"))?,
        title: r.try_get("title").map_err(q("reading an issue"))?,
        score: u32::try_from(score).unwrap_or(u32::MAX),
        notes: r.try_get("notes").map_err(q("reading an issue"))?,
        remediation: r.try_get("remediation").map_err(q("reading an issue"))?,
        open: status == "open",
        first_seen_ms: r.try_get("first_seen_ms").map_err(q("reading an issue"))?,
        last_seen_ms: r.try_get("last_seen_ms").map_err(q("reading an issue"))?,
        fixed_ms: r.try_get("fixed_ms").map_err(q("reading an issue"))?,
        regressions: u32::try_from(regressions).unwrap_or(u32::MAX),
        plugin_version: r.try_get("plugin_version").map_err(q("reading an issue"))?,
        plugin_generation: u64::try_from(generation).unwrap_or(0),
        justification: {
            let reason: Option<String> = r
                .try_get("justified_reason")
                .map_err(q("reading a justification"))?;
            let until: Option<i64> = r
                .try_get("justified_until_ms")
                .map_err(q("reading a justification"))?;
            // An expired justification has lapsed.
            match reason {
                Some(reason) if until.is_none_or(|u| u > now_ms()) => Some(Justification {
                    reason,
                    by: r
                        .try_get::<Option<String>, _>(16)
                        .map_err(q("reading a justification"))?
                        .unwrap_or_default(),
                    at_ms: r
                        .try_get::<Option<i64>, _>(17)
                        .map_err(q("reading a justification"))?
                        .unwrap_or_default(),
                    until_ms: until,
                }),
                _ => None,
            }
        },
        disabled: r
            .try_get::<i64, _>("disabled")
            .map_err(q("reading an issue"))?
            != 0,
        retired: r
            .try_get::<i64, _>("retired")
            .map_err(q("reading an issue"))?
            != 0,
    })
}
