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

use super::items::{Arg, bind_all};
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

/// Who changed a justification, and through what (`cli`, `web`, `api`).
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    pub name: &'a str,
    pub via: &'a str,
}

/// One entry of an issue's audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IssueAction {
    /// `justify` or `unjustify`.
    pub action: String,
    pub actor: String,
    pub via: String,
    pub reason: Option<String>,
    pub until_ms: Option<i64>,
    pub at_ms: i64,
}

/// Which issues to list; `None` matches everything.
#[derive(Debug, Clone, Default)]
pub struct IssueFilter {
    /// Some(true): open only; Some(false): fixed only.
    pub open: Option<bool>,
    /// A lifecycle state as the console names them; narrows `open`.
    pub state: Option<IssueState>,
    pub min_score: u32,
    pub account_id: Option<String>,
    pub resource_type: Option<String>,
    pub plugin: Option<String>,
    pub check_id: Option<String>,
    pub item_id: Option<i64>,
    /// Issues of checks the operator disabled are left out unless this is set.
    pub include_disabled: bool,
    /// Keyset paging in the listing order: after this (score, id).
    pub after: Option<(u32, i64)>,
    pub limit: Option<u64>,
}

/// Where an issue is in its life, as the console and API filter it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueState {
    /// Open, first seen at or after this time (e.g. the last sweep's start), never regressed.
    NewSince(i64),
    /// Open and not justified.
    Open,
    /// Open with a justification in force.
    Justified,
    /// Fixed (not closed because its plugin went away).
    Fixed,
    /// Open again after having been fixed.
    Regressed,
}

/// An issue with the item it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IssueRow {
    #[serde(flatten)]
    pub issue: StoredIssue,
    pub arn: String,
    pub resource_type: String,
    pub resource_name: String,
    pub account_id: String,
    pub region: String,
}

fn notes_hash(notes: &str) -> String {
    hex::encode(Sha256::digest(notes.as_bytes()))
}

struct Existing {
    id: i64,
    open: bool,
    retired: bool,
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

    /// Excuse one issue (and only its evidence), optionally until a time. Ok(false) if there is
    /// no such issue.
    pub async fn justify(
        &self,
        issue_id: i64,
        reason: &str,
        by: &str,
        until_ms: Option<i64>,
    ) -> Result<bool, StoreError> {
        let actor = Actor {
            name: by,
            via: "cli",
        };
        Ok(self
            .justify_issues(&[issue_id], reason, actor, until_ms)
            .await?
            == 1)
    }

    /// Withdraw one issue's justification. Ok(false) if there is no such issue.
    pub async fn unjustify(&self, issue_id: i64) -> Result<bool, StoreError> {
        let actor = Actor {
            name: "cli",
            via: "cli",
        };
        Ok(self.unjustify_issues(&[issue_id], actor).await? == 1)
    }

    /// Justify every existing issue of `ids` in one transaction, each change recorded in the
    /// audit trail with its actor. Returns how many issues there were.
    pub async fn justify_issues(
        &self,
        ids: &[i64],
        reason: &str,
        actor: Actor<'_>,
        until_ms: Option<i64>,
    ) -> Result<u64, StoreError> {
        let now = now_ms();
        self.change_justifications(ids, actor, Some((reason, until_ms)), now)
            .await
    }

    /// Withdraw the justifications of `ids` in one transaction (recorded like
    /// [`Store::justify_issues`]). Returns how many issues there were.
    pub async fn unjustify_issues(&self, ids: &[i64], actor: Actor<'_>) -> Result<u64, StoreError> {
        self.change_justifications(ids, actor, None, now_ms()).await
    }

    async fn change_justifications(
        &self,
        ids: &[i64],
        actor: Actor<'_>,
        justify: Option<(&str, Option<i64>)>,
        now: i64,
    ) -> Result<u64, StoreError> {
        let _guard = self.write_guard().await;
        let mut tx = begin_write(&self.pool, self.backend)
            .await
            .map_err(q("begin changing justifications"))?;
        let mut changed = 0;
        for id in ids {
            let done = match justify {
                Some((reason, until)) => sqlx::query(
                    "UPDATE issues SET justified_reason = $1, justified_by = $2,
                        justified_ms = $3, justified_until_ms = $4 WHERE id = $5",
                )
                .bind(reason)
                .bind(actor.name)
                .bind(now)
                .bind(until)
                .bind(id),
                None => sqlx::query(
                    "UPDATE issues SET justified_reason = NULL, justified_by = NULL,
                        justified_ms = NULL, justified_until_ms = NULL WHERE id = $1",
                )
                .bind(id),
            }
            .execute(&mut *tx)
            .await
            .map_err(q("changing a justification"))?;
            if done.rows_affected() == 0 {
                continue;
            }
            changed += 1;
            sqlx::query(
                "INSERT INTO issue_actions (issue_id, action, actor, via, reason, until_ms, at_ms)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(id)
            .bind(if justify.is_some() {
                "justify"
            } else {
                "unjustify"
            })
            .bind(actor.name)
            .bind(actor.via)
            .bind(justify.map(|(reason, _)| reason))
            .bind(justify.and_then(|(_, until)| until))
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(q("recording a justification change"))?;
        }
        tx.commit()
            .await
            .map_err(q("commit changing justifications"))?;
        Ok(changed)
    }

    /// The audit trail of one issue, oldest first.
    pub async fn issue_actions(&self, issue_id: i64) -> Result<Vec<IssueAction>, StoreError> {
        let rows = sqlx::query(
            "SELECT action, actor, via, reason, until_ms, at_ms FROM issue_actions
             WHERE issue_id = $1 ORDER BY id",
        )
        .bind(issue_id)
        .fetch_all(&self.pool)
        .await
        .map_err(q("listing an issue's actions"))?;
        let what = "reading an issue action";
        rows.iter()
            .map(|r| {
                Ok(IssueAction {
                    action: r.try_get("action").map_err(q(what))?,
                    actor: r.try_get("actor").map_err(q(what))?,
                    via: r.try_get("via").map_err(q(what))?,
                    reason: r.try_get("reason").map_err(q(what))?,
                    until_ms: r.try_get("until_ms").map_err(q(what))?,
                    at_ms: r.try_get("at_ms").map_err(q(what))?,
                })
            })
            .collect()
    }

    /// Close the open issues of a plugin that is no longer loaded: no score counts a check
    /// nobody runs. Returns how many were retired.
    pub async fn retire_plugin_issues(&self, plugin: &str) -> Result<u64, StoreError> {
        let _guard = self.write_guard().await;
        let done = sqlx::query(
            "UPDATE issues SET status = 'fixed', fixed_ms = $1, retired = 1
             WHERE plugin = $2 AND status = 'open'",
        )
        .bind(now_ms())
        .bind(plugin)
        .execute(&self.pool)
        .await
        .map_err(q("retiring a plugin's issues"))?;
        Ok(done.rows_affected())
    }

    /// A deleted item's open issues are fixed: the resource that had them is gone.
    pub async fn fix_deleted_item_issues(
        &self,
        item_id: i64,
    ) -> Result<Vec<IssueChange>, StoreError> {
        let _guard = self.write_guard().await;
        let rows = sqlx::query(
            "UPDATE issues SET status = 'fixed', fixed_ms = $1
             WHERE item_id = $2 AND status = 'open' RETURNING id, check_id, notes, score",
        )
        .bind(now_ms())
        .bind(item_id)
        .fetch_all(&self.pool)
        .await
        .map_err(q("fixing a deleted item's issues"))?;
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

    /// Issues across items, highest score first.
    pub async fn issues(&self, filter: &IssueFilter) -> Result<Vec<IssueRow>, StoreError> {
        let (conditions, args) = filter.conditions(now_ms());
        let mut sql = format!(
            "SELECT {ISSUE_COLUMNS_I}, it.arn, it.resource_type, it.resource_name, it.account_id,
                it.region
             FROM issues i JOIN items it ON it.id = i.item_id WHERE 1 = 1{conditions}"
        );
        // Pages need the keyset order; whole listings keep the CLI's reading order.
        if filter.after.is_some() || filter.limit.is_some() {
            sql.push_str(" ORDER BY i.score DESC, i.id");
        } else {
            sql.push_str(" ORDER BY i.score DESC, it.arn, i.plugin, i.check_id, i.id");
        }
        if let Some(limit) = filter.limit {
            sql.push_str(&format!(" LIMIT {}", limit.min(i64::MAX as u64)));
        }
        let rows = bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), args)
            .fetch_all(&self.pool)
            .await
            .map_err(q("listing issues"))?;
        rows.iter().map(issue_row).collect()
    }

    /// One issue with its item, by id.
    pub async fn issue(&self, id: i64) -> Result<Option<IssueRow>, StoreError> {
        let sql = format!(
            "SELECT {ISSUE_COLUMNS_I}, it.arn, it.resource_type, it.resource_name, it.account_id,
                it.region
             FROM issues i JOIN items it ON it.id = i.item_id WHERE i.id = $1"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(q("looking an issue up"))?;
        row.as_ref().map(issue_row).transpose()
    }
}

impl IssueFilter {
    /// ` AND …` conditions on `issues i JOIN items it`, with binds from `$1`.
    pub(super) fn conditions(&self, now: i64) -> (String, Vec<Arg>) {
        let mut sql = String::new();
        let mut args: Vec<Arg> = Vec::new();
        let mut bind = |a: Arg| {
            args.push(a);
            args.len()
        };
        let n = bind(Arg::Int(i64::from(self.min_score)));
        sql.push_str(&format!(" AND i.score >= ${n}"));
        if let Some(open) = self.open {
            sql.push_str(if open {
                " AND i.status = 'open'"
            } else {
                " AND i.status = 'fixed' AND i.retired = 0"
            });
        }
        // In force: set, and without an expiry or expiring later.
        let justified = |n: usize| {
            format!(
                "(i.justified_reason IS NOT NULL
                  AND (i.justified_until_ms IS NULL OR i.justified_until_ms > ${n}))"
            )
        };
        match self.state {
            None => {}
            Some(IssueState::NewSince(since)) => {
                let n = bind(Arg::Int(since));
                sql.push_str(&format!(
                    " AND i.status = 'open' AND i.regressions = 0 AND i.first_seen_ms >= ${n}"
                ));
            }
            Some(IssueState::Open) => {
                let n = bind(Arg::Int(now));
                sql.push_str(&format!(" AND i.status = 'open' AND NOT {}", justified(n)));
            }
            Some(IssueState::Justified) => {
                let n = bind(Arg::Int(now));
                sql.push_str(&format!(" AND i.status = 'open' AND {}", justified(n)));
            }
            Some(IssueState::Fixed) => sql.push_str(" AND i.status = 'fixed' AND i.retired = 0"),
            Some(IssueState::Regressed) => {
                sql.push_str(" AND i.status = 'open' AND i.regressions > 0")
            }
        }
        if !self.include_disabled {
            sql.push_str(" AND i.disabled = 0");
        }
        for (column, value) in [
            ("it.account_id", &self.account_id),
            ("it.resource_type", &self.resource_type),
            ("i.plugin", &self.plugin),
            ("i.check_id", &self.check_id),
        ] {
            if let Some(v) = value {
                let n = bind(Arg::Text(v.clone()));
                sql.push_str(&format!(" AND {column} = ${n}"));
            }
        }
        if let Some(item) = self.item_id {
            let n = bind(Arg::Int(item));
            sql.push_str(&format!(" AND i.item_id = ${n}"));
        }
        if let Some((score, id)) = self.after {
            let s = bind(Arg::Int(i64::from(score)));
            let n = bind(Arg::Int(id));
            sql.push_str(&format!(
                " AND (i.score < ${s} OR (i.score = ${s} AND i.id > ${n}))"
            ));
        }
        (sql, args)
    }
}

fn issue_row(r: &sqlx::any::AnyRow) -> Result<IssueRow, StoreError> {
    let what = "reading an issue's item";
    Ok(IssueRow {
        issue: read_issue(r)?,
        arn: r.try_get("arn").map_err(q(what))?,
        resource_type: r.try_get("resource_type").map_err(q(what))?,
        resource_name: r.try_get("resource_name").map_err(q(what))?,
        account_id: r.try_get("account_id").map_err(q(what))?,
        region: r.try_get("region").map_err(q(what))?,
    })
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
        "SELECT item_id, id, check_id, notes_hash, status, retired FROM issues
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
                changes.push((
                    e.id,
                    f,
                    if e.open {
                        Transition::StillOpen
                    } else if e.retired {
                        // Its plugin was away, so nobody saw it fixed: it is news again.
                        Transition::New
                    } else {
                        Transition::Regressed
                    },
                ));
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

/// The columns `read_issue` reads (by name).
/// [`ISSUE_COLUMNS`] of `issues i`.
const ISSUE_COLUMNS_I: &str = "i.id, i.item_id, i.plugin, i.check_id, i.title, i.score, i.notes,
    i.remediation, i.status, i.first_seen_ms, i.last_seen_ms, i.fixed_ms, i.regressions,
    i.plugin_version, i.plugin_generation, i.justified_reason, i.justified_by, i.justified_ms,
    i.justified_until_ms, i.disabled, i.retired";

const ISSUE_COLUMNS: &str = "id, item_id, plugin, check_id, title, score, notes, remediation,
    status, first_seen_ms, last_seen_ms, fixed_ms, regressions, plugin_version,
    plugin_generation, justified_reason, justified_by, justified_ms, justified_until_ms,
    disabled, retired";

fn read_issue(r: &sqlx::any::AnyRow) -> Result<StoredIssue, StoreError> {
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
