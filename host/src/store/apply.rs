//! Applying one scope's listing: classify every observed item against what is stored and
//! write only the differences, in one transaction.
//!
//! Owns the rules: new → created; durable change → modified (re-appearance after deletion →
//! created); ephemeral-only change → latest revision updated in place; identical → nothing
//! written; absent from a complete listing → deleted. It must never delete on a failed
//! listing, and never write a row for an unchanged item (that churn costs seconds per sweep).

use std::collections::{HashMap, HashSet};
use std::fmt::{self, Write as _};

use serde::Serialize;
use sqlx::{Any, AnyPool, AssertSqlSafe, Row, Transaction};
use tracing::{debug, warn};

use super::hash::{Hasher, Hashes, canonical_document};
use super::{Backend, StoreError, SweepId, begin_write, now_ms, q};
use crate::item::Item;

/// Rows per multi-VALUES statement: measured faster than both 1 and 1,000.
const BATCH: usize = 50;

/// Below this many items, splitting the hashing across threads costs more than it saves.
const PARALLEL_MIN: usize = 2_000;

/// What one listing covers: every item of one type in one account and region.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Scope {
    pub account_id: String,
    pub region: String,
    pub resource_type: String,
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{}",
            self.account_id, self.region, self.resource_type
        )
    }
}

/// The result of listing one scope.
#[derive(Debug, Clone)]
pub enum Listing {
    /// Everything the scope holds: anything stored but absent is deleted.
    Complete(Vec<Item>),
    /// The listing gave up (after `retries`); `partial` is what it saw before. Nothing is
    /// deleted.
    Failed {
        partial: Vec<Item>,
        error: String,
        retries: u32,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Created,
    Modified,
    Deleted,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Created => "created",
            ChangeKind::Modified => "modified",
            ChangeKind::Deleted => "deleted",
        }
    }

    pub(crate) fn parse(s: &str) -> Result<ChangeKind, StoreError> {
        Ok(match s {
            "created" => ChangeKind::Created,
            "modified" => ChangeKind::Modified,
            "deleted" => ChangeKind::Deleted,
            other => {
                return Err(StoreError::Corrupt {
                    what: "revision kind".into(),
                    message: format!("unknown kind `{other}`"),
                });
            }
        })
    }
}

/// An item's identity.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct ItemKey {
    pub account_id: String,
    pub region: String,
    pub resource_type: String,
    pub resource_id: String,
}

/// One new revision, for the audit pipeline to pick up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub item_id: i64,
    pub key: ItemKey,
    pub arn: String,
    pub kind: ChangeKind,
    pub revision_id: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ScopeSummary {
    pub created: u64,
    pub modified: u64,
    pub deleted: u64,
    pub unchanged: u64,
    pub ephemeral_updates: u64,
    /// The listing was `Failed` (its error is recorded against the sweep).
    pub listing_failed: bool,
    /// Item and revision rows the database reported written (bookkeeping rows for the sweep
    /// and listing errors not included).
    pub rows_written: u64,
    /// Revisions created, in the order written.
    pub changes: Vec<Change>,
}

/// The stored state of one item, as needed to classify an observation.
#[derive(Debug, Clone)]
struct StoredRow {
    id: i64,
    durable_hash: String,
    complete_hash: String,
    deleted: bool,
    revision_id: Option<i64>,
    arn: String,
}

#[derive(Debug)]
enum Outcome {
    New,
    Recreated { id: i64 },
    Modified { id: i64 },
    Ephemeral { id: i64, revision_id: i64 },
}

struct Planned {
    item: Item,
    outcome: Outcome,
    hashes: Hashes,
    document: String,
    captured_at_ms: i64,
}

struct Deletion {
    id: i64,
    resource_id: String,
    revision_id: i64,
    arn: String,
}

struct Plan {
    changed: Vec<Planned>,
    unchanged: u64,
    deletions: Vec<Deletion>,
}

pub(crate) async fn check_running(
    tx: &mut Transaction<'static, Any>,
    sweep: SweepId,
) -> Result<(), StoreError> {
    let row = sqlx::query("SELECT status FROM sweeps WHERE id = $1")
        .bind(sweep.0)
        .fetch_optional(&mut **tx)
        .await
        .map_err(q("reading sweep status"))?
        .ok_or(StoreError::NoSuchSweep(sweep))?;
    let status: String = row.try_get(0).map_err(q("reading sweep status"))?;
    if status != "running" {
        return Err(StoreError::SweepNotRunning { id: sweep, status });
    }
    Ok(())
}

/// Reject items from another scope (they would corrupt this scope's deletions) and keep the
/// last of any duplicates.
fn validate(scope: &Scope, items: Vec<Item>) -> Result<Vec<Item>, StoreError> {
    for item in &items {
        let field = if item.account_id != scope.account_id {
            "account id"
        } else if item.region != scope.region {
            "region"
        } else if item.resource_type != scope.resource_type {
            "resource type"
        } else {
            continue;
        };
        return Err(StoreError::ScopeMismatch {
            item: item.label(),
            scope: scope.to_string(),
            field,
        });
    }
    let distinct: HashSet<&str> = items.iter().map(|i| i.resource_id.as_str()).collect();
    if distinct.len() == items.len() {
        return Ok(items);
    }
    let duplicates = items.len() - distinct.len();
    drop(distinct);
    warn!(%scope, duplicates, "listing repeats resource ids; keeping the last of each");
    let mut last: HashMap<String, usize> = HashMap::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        last.insert(item.resource_id.clone(), i);
    }
    Ok(items
        .into_iter()
        .enumerate()
        .filter(|(i, item)| last.get(&item.resource_id) == Some(i))
        .map(|(_, item)| item)
        .collect())
}

async fn load_scope(
    tx: &mut Transaction<'static, Any>,
    scope: &Scope,
) -> Result<HashMap<String, StoredRow>, StoreError> {
    let what = "loading the scope's stored hashes";
    let rows = sqlx::query(
        "SELECT id, resource_id, durable_hash, complete_hash, deleted, current_revision_id, arn
         FROM items WHERE account_id = $1 AND region = $2 AND resource_type = $3",
    )
    .bind(&scope.account_id)
    .bind(&scope.region)
    .bind(&scope.resource_type)
    .fetch_all(&mut **tx)
    .await
    .map_err(q(what))?;
    let mut stored = HashMap::with_capacity(rows.len());
    for r in &rows {
        let deleted: i64 = r.try_get(4).map_err(q(what))?;
        stored.insert(
            r.try_get::<String, _>(1).map_err(q(what))?,
            StoredRow {
                id: r.try_get(0).map_err(q(what))?,
                durable_hash: r.try_get(2).map_err(q(what))?,
                complete_hash: r.try_get(3).map_err(q(what))?,
                deleted: deleted != 0,
                revision_id: r.try_get(5).map_err(q(what))?,
                arn: r.try_get(6).map_err(q(what))?,
            },
        );
    }
    Ok(stored)
}

/// Hash every item and compare with the stored rows. CPU-bound: runs off the async threads,
/// split across cores for large listings.
fn classify(
    items: Vec<Item>,
    stored: HashMap<String, StoredRow>,
    resource_type: &str,
    complete: bool,
    now: i64,
) -> Plan {
    let threads = if items.len() < PARALLEL_MIN {
        1
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get().min(8))
    };
    let chunk = items.len().div_ceil(threads).max(1);
    let judge = |offset: usize, slice: &[Item]| {
        let mut hasher = Hasher::for_type(resource_type);
        let mut out = Vec::new();
        for (i, item) in slice.iter().enumerate() {
            let envelope = item.to_envelope();
            let hashes = hasher.hash_envelope(&envelope);
            let outcome = match stored.get(&item.resource_id) {
                None => Outcome::New,
                Some(s) if s.deleted => Outcome::Recreated { id: s.id },
                Some(s) if s.durable_hash != hashes.durable => Outcome::Modified { id: s.id },
                Some(s) if s.complete_hash != hashes.complete => match s.revision_id {
                    Some(revision_id) => Outcome::Ephemeral {
                        id: s.id,
                        revision_id,
                    },
                    None => Outcome::Modified { id: s.id },
                },
                Some(_) => continue,
            };
            let document = canonical_document(&envelope);
            let captured_at_ms = parse_capture_ms(&item.capture_time).unwrap_or(now);
            out.push((offset + i, outcome, hashes, document, captured_at_ms));
        }
        out
    };
    let mut found = if threads == 1 {
        judge(0, &items)
    } else {
        std::thread::scope(|s| {
            let handles: Vec<_> = items
                .chunks(chunk)
                .enumerate()
                .map(|(n, slice)| {
                    let judge = &judge;
                    s.spawn(move || judge(n * chunk, slice))
                })
                .collect();
            handles
                .into_iter()
                // A panicking hasher thread re-panics here; spawn_blocking reports it.
                .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                .collect()
        })
    };
    found.sort_by_key(|f| f.0);

    let deletions = if complete {
        let seen: HashSet<&str> = items.iter().map(|i| i.resource_id.as_str()).collect();
        let mut gone: Vec<Deletion> = stored
            .iter()
            .filter(|(rid, s)| !s.deleted && !seen.contains(rid.as_str()))
            .filter_map(|(rid, s)| match s.revision_id {
                Some(revision_id) => Some(Deletion {
                    id: s.id,
                    resource_id: rid.clone(),
                    revision_id,
                    arn: s.arn.clone(),
                }),
                None => {
                    warn!(
                        item = s.id,
                        "stored item has no revision; cannot record its deletion"
                    );
                    None
                }
            })
            .collect();
        gone.sort_by_key(|d| d.id);
        gone
    } else {
        Vec::new()
    };

    let unchanged = (items.len() - found.len()) as u64;
    let mut found = found.into_iter().peekable();
    let mut changed = Vec::with_capacity(found.len());
    for (i, item) in items.into_iter().enumerate() {
        if found.peek().is_some_and(|f| f.0 == i)
            && let Some((_, outcome, hashes, document, captured_at_ms)) = found.next()
        {
            changed.push(Planned {
                item,
                outcome,
                hashes,
                document,
                captured_at_ms,
            });
        }
    }
    Plan {
        changed,
        unchanged,
        deletions,
    }
}

/// `($1,$2),($3,$4)` for `rows` rows of `cols` parameters starting at `$first`.
fn placeholders(rows: usize, cols: usize, first: usize) -> String {
    let mut s = String::with_capacity(rows * (cols * 5 + 3));
    for r in 0..rows {
        if r > 0 {
            s.push(',');
        }
        s.push('(');
        for c in 0..cols {
            if c > 0 {
                s.push(',');
            }
            let _ = write!(s, "${}", first + r * cols + c);
        }
        s.push(')');
    }
    s
}

pub(super) async fn apply(
    pool: &AnyPool,
    backend: Backend,
    sweep: SweepId,
    scope: &Scope,
    listing: Listing,
) -> Result<ScopeSummary, StoreError> {
    let (items, complete, failure) = match listing {
        Listing::Complete(items) => (items, true, None),
        Listing::Failed {
            partial,
            error,
            retries,
        } => (partial, false, Some((error, retries))),
    };
    let items = validate(scope, items)?;
    let mut tx = begin_write(pool, backend)
        .await
        .map_err(q("begin applying a listing"))?;
    check_running(&mut tx, sweep).await?;
    let stored = load_scope(&mut tx, scope).await?;
    let now = now_ms();
    let resource_type = scope.resource_type.clone();
    let plan =
        tokio::task::spawn_blocking(move || classify(items, stored, &resource_type, complete, now))
            .await
            .map_err(|e| StoreError::Worker(e.to_string()))?;

    let mut summary = ScopeSummary {
        unchanged: plan.unchanged,
        listing_failed: failure.is_some(),
        ..ScopeSummary::default()
    };
    if let Some((error, retries)) = &failure {
        sqlx::query(
            "INSERT INTO listing_errors
                (sweep_id, account_id, region, resource_type, error, retries, at_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(sweep.0)
        .bind(&scope.account_id)
        .bind(&scope.region)
        .bind(&scope.resource_type)
        .bind(error)
        .bind(i64::from(*retries))
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(q("recording a listing error"))?;
    }

    // 1. Item rows for never-seen items; their ids are needed by the revisions.
    let mut changed = plan.changed;
    let mut new_ids: HashMap<String, i64> = HashMap::new();
    let fresh: Vec<usize> = (0..changed.len())
        .filter(|&i| matches!(changed[i].outcome, Outcome::New))
        .collect();
    for chunk in fresh.chunks(BATCH) {
        let sql = format!(
            "INSERT INTO items (account_id, region, resource_type, resource_id, arn,
                resource_name, durable_hash, complete_hash, first_seen_ms, last_changed_ms)
             VALUES {} RETURNING id, resource_id",
            placeholders(chunk.len(), 10, 1)
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for &i in chunk {
            let p = &changed[i];
            query = query
                .bind(&p.item.account_id)
                .bind(&p.item.region)
                .bind(&p.item.resource_type)
                .bind(&p.item.resource_id)
                .bind(&p.item.arn)
                .bind(&p.item.resource_name)
                .bind(&p.hashes.durable)
                .bind(&p.hashes.complete)
                .bind(now)
                .bind(now);
        }
        let rows = query
            .fetch_all(&mut *tx)
            .await
            .map_err(q("inserting new items"))?;
        summary.rows_written += rows.len() as u64;
        for r in &rows {
            let id: i64 = r.try_get(0).map_err(q("reading new item ids"))?;
            let rid: String = r.try_get(1).map_err(q("reading new item ids"))?;
            new_ids.insert(rid, id);
        }
    }
    for i in fresh {
        let rid = &changed[i].item.resource_id;
        let id = *new_ids.get(rid).ok_or_else(|| StoreError::Corrupt {
            what: format!("insert of item {rid}"),
            message: "the database returned no id for it".into(),
        })?;
        // From here on a new item is written exactly like a re-created one.
        changed[i].outcome = Outcome::Recreated { id };
    }

    // 2. A full-snapshot revision per durable change.
    let revised: Vec<usize> = (0..changed.len())
        .filter(|&i| !matches!(changed[i].outcome, Outcome::Ephemeral { .. }))
        .collect();
    let mut revision_of: HashMap<i64, i64> = HashMap::with_capacity(revised.len());
    for chunk in revised.chunks(BATCH) {
        let sql = format!(
            "INSERT INTO revisions (item_id, sweep_id, kind, captured_at_ms, durable_hash,
                complete_hash, document)
             VALUES {} RETURNING id, item_id",
            placeholders(chunk.len(), 7, 1)
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for &i in chunk {
            let p = &changed[i];
            let (id, kind) = match p.outcome {
                Outcome::Modified { id } => (id, ChangeKind::Modified),
                Outcome::Recreated { id } => (id, ChangeKind::Created),
                // Filtered out above; New was rewritten to Recreated.
                Outcome::New | Outcome::Ephemeral { .. } => continue,
            };
            query = query
                .bind(id)
                .bind(sweep.0)
                .bind(kind.as_str())
                .bind(p.captured_at_ms)
                .bind(&p.hashes.durable)
                .bind(&p.hashes.complete)
                .bind(&p.document);
        }
        let rows = query
            .fetch_all(&mut *tx)
            .await
            .map_err(q("inserting revisions"))?;
        summary.rows_written += rows.len() as u64;
        for r in &rows {
            let rev: i64 = r.try_get(0).map_err(q("reading revision ids"))?;
            let item: i64 = r.try_get(1).map_err(q("reading revision ids"))?;
            revision_of.insert(item, rev);
        }
    }

    // 3. Point the items at their new revisions.
    for chunk in revised.chunks(BATCH) {
        let cols = 6;
        let sql = format!(
            "WITH v (id, rev, dh, ch, arn, name) AS (VALUES {})
             UPDATE items SET current_revision_id = v.rev, durable_hash = v.dh,
                complete_hash = v.ch, arn = v.arn, resource_name = v.name, deleted = 0,
                last_changed_ms = ${}
             FROM v WHERE items.id = v.id",
            placeholders(chunk.len(), cols, 1),
            chunk.len() * cols + 1
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for &i in chunk {
            let p = &changed[i];
            let id = match p.outcome {
                Outcome::Modified { id } | Outcome::Recreated { id } => id,
                Outcome::New | Outcome::Ephemeral { .. } => continue,
            };
            let rev = *revision_of.get(&id).ok_or_else(|| StoreError::Corrupt {
                what: format!("revision insert for item {id}"),
                message: "the database returned no revision id for it".into(),
            })?;
            query = query
                .bind(id)
                .bind(rev)
                .bind(&p.hashes.durable)
                .bind(&p.hashes.complete)
                .bind(&p.item.arn)
                .bind(&p.item.resource_name);
        }
        let done = query
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(q("updating changed items"))?;
        summary.rows_written += done.rows_affected();
    }
    for &i in &revised {
        let p = &changed[i];
        let (id, kind) = match p.outcome {
            Outcome::Modified { id } => (id, ChangeKind::Modified),
            Outcome::Recreated { id } => (id, ChangeKind::Created),
            Outcome::New | Outcome::Ephemeral { .. } => continue,
        };
        match kind {
            ChangeKind::Modified => summary.modified += 1,
            _ => summary.created += 1,
        }
        summary.changes.push(Change {
            item_id: id,
            key: key_of(scope, &p.item.resource_id),
            arn: p.item.arn.clone(),
            kind,
            revision_id: revision_of.get(&id).copied().unwrap_or_default(),
        });
    }

    // 4. Ephemeral-only changes: refresh the latest snapshot in place, no new revision.
    let ephemeral: Vec<(i64, i64, &Planned)> = changed
        .iter()
        .filter_map(|p| match p.outcome {
            Outcome::Ephemeral { id, revision_id } => Some((id, revision_id, p)),
            _ => None,
        })
        .collect();
    for chunk in ephemeral.chunks(BATCH) {
        let sql = format!(
            "WITH v (id, ch, doc) AS (VALUES {})
             UPDATE revisions SET complete_hash = v.ch, document = v.doc
             FROM v WHERE revisions.id = v.id",
            placeholders(chunk.len(), 3, 1)
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for (_, rev, p) in chunk {
            query = query.bind(*rev).bind(&p.hashes.complete).bind(&p.document);
        }
        let done = query
            .execute(&mut *tx)
            .await
            .map_err(q("updating revisions in place"))?;
        summary.rows_written += done.rows_affected();

        let sql = format!(
            "WITH v (id, ch) AS (VALUES {})
             UPDATE items SET complete_hash = v.ch FROM v WHERE items.id = v.id",
            placeholders(chunk.len(), 2, 1)
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for (id, _, p) in chunk {
            query = query.bind(*id).bind(&p.hashes.complete);
        }
        let done = query
            .execute(&mut *tx)
            .await
            .map_err(q("updating items' complete hashes"))?;
        summary.rows_written += done.rows_affected();
    }
    summary.ephemeral_updates = ephemeral.len() as u64;

    // 5. Deletions (complete listings only): a 'deleted' revision carrying the last known
    //    document, copied inside the database.
    for chunk in plan.deletions.chunks(BATCH) {
        let list: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 3)).collect();
        let sql = format!(
            "INSERT INTO revisions (item_id, sweep_id, kind, captured_at_ms, durable_hash,
                complete_hash, document)
             SELECT r.item_id, $1, 'deleted', $2, r.durable_hash, r.complete_hash, r.document
             FROM revisions r WHERE r.id IN ({})
             RETURNING id, item_id",
            list.join(",")
        );
        let mut query = sqlx::query(AssertSqlSafe(sql)).bind(sweep.0).bind(now);
        for d in chunk {
            query = query.bind(d.revision_id);
        }
        let rows = query
            .fetch_all(&mut *tx)
            .await
            .map_err(q("recording deletions"))?;
        summary.rows_written += rows.len() as u64;
        let mut revs: HashMap<i64, i64> = HashMap::with_capacity(rows.len());
        for r in &rows {
            let rev: i64 = r.try_get(0).map_err(q("reading deletion revision ids"))?;
            let item: i64 = r.try_get(1).map_err(q("reading deletion revision ids"))?;
            revs.insert(item, rev);
        }

        let sql = format!(
            "WITH v (id, rev) AS (VALUES {})
             UPDATE items SET deleted = 1, current_revision_id = v.rev, last_changed_ms = ${}
             FROM v WHERE items.id = v.id",
            placeholders(revs.len(), 2, 1),
            revs.len() * 2 + 1
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        let mut written = Vec::with_capacity(chunk.len());
        for d in chunk {
            if let Some(rev) = revs.get(&d.id) {
                query = query.bind(d.id).bind(*rev);
                written.push((d, *rev));
            }
        }
        if written.is_empty() {
            continue;
        }
        let done = query
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(q("marking items deleted"))?;
        summary.rows_written += done.rows_affected();
        for (d, rev) in written {
            summary.deleted += 1;
            summary.changes.push(Change {
                item_id: d.id,
                key: key_of(scope, &d.resource_id),
                arn: d.arn.clone(),
                kind: ChangeKind::Deleted,
                revision_id: rev,
            });
        }
    }

    sqlx::query(
        "INSERT INTO sweep_scopes (sweep_id, account_id, region, resource_type, complete,
            created, modified, deleted, unchanged, ephemeral_updates, applied_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(sweep.0)
    .bind(&scope.account_id)
    .bind(&scope.region)
    .bind(&scope.resource_type)
    .bind(i32::from(failure.is_none()))
    .bind(summary.created as i64)
    .bind(summary.modified as i64)
    .bind(summary.deleted as i64)
    .bind(summary.unchanged as i64)
    .bind(summary.ephemeral_updates as i64)
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(q("recording the scope's totals"))?;

    tx.commit().await.map_err(q("commit applying a listing"))?;
    debug!(
        %scope,
        sweep = %sweep,
        created = summary.created,
        modified = summary.modified,
        deleted = summary.deleted,
        unchanged = summary.unchanged,
        ephemeral = summary.ephemeral_updates,
        failed = summary.listing_failed,
        "listing applied"
    );
    Ok(summary)
}

fn key_of(scope: &Scope, resource_id: &str) -> ItemKey {
    ItemKey {
        account_id: scope.account_id.clone(),
        region: scope.region.clone(),
        resource_type: scope.resource_type.clone(),
        resource_id: resource_id.to_string(),
    }
}

/// RFC 3339 (`2024-05-01T12:00:00.123Z`, `…+02:00`) to unix milliseconds.
pub(crate) fn parse_capture_ms(s: &str) -> Option<i64> {
    let b = s.trim().as_bytes();
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<i64> {
        let part = b.get(from..to)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut i = 19;
    let mut millis = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        let digits = &b[start..i];
        if digits.is_empty() {
            return None;
        }
        for k in 0..3 {
            millis = millis * 10 + digits.get(k).map_or(0, |d| i64::from(d - b'0'));
        }
    }
    let offset_min = match b.get(i) {
        None | Some(b'Z') | Some(b'z') if b.len() <= i + 1 => 0,
        Some(&sign) if sign == b'+' || sign == b'-' => {
            let (h, m) = if b.len() == i + 6 && b[i + 3] == b':' {
                (num(i + 1, i + 3)?, num(i + 4, i + 6)?)
            } else if b.len() == i + 5 {
                (num(i + 1, i + 3)?, num(i + 3, i + 5)?)
            } else {
                return None;
            };
            let total = h * 60 + m;
            if sign == b'+' { total } else { -total }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3_600 + minute * 60 + second - offset_min * 60;
    Some(secs * 1_000 + millis)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capture_times() {
        assert_eq!(parse_capture_ms("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_capture_ms("2024-02-29T12:34:56.789Z"),
            Some(1_709_210_096_789)
        );
        assert_eq!(
            parse_capture_ms("2024-02-29T14:34:56.7+02:00"),
            Some(1_709_210_096_700)
        );
        assert_eq!(
            parse_capture_ms("2024-02-29T12:34:56"),
            Some(1_709_210_096_000)
        );
        assert_eq!(parse_capture_ms(""), None);
        assert_eq!(parse_capture_ms("2024-13-01T00:00:00Z"), None);
        assert_eq!(parse_capture_ms("2024-01-01T00:00:00Zjunk"), None);
    }

    #[test]
    fn placeholder_numbering() {
        assert_eq!(placeholders(2, 3, 1), "($1,$2,$3),($4,$5,$6)");
        assert_eq!(placeholders(1, 2, 5), "($5,$6)");
    }
}
