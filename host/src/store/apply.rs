//! Applying one scope's listing: classify every observed item against what is stored and
//! write only the differences, in one transaction.
//!
//! Owns the rules: new → created; durable change → modified (re-appearance after deletion →
//! created); ephemeral-only change → latest revision updated in place; identical → nothing
//! written; absent from a complete listing → deleted. It must never delete on a failed
//! listing, and never write a row for an unchanged item (that churn costs seconds per sweep).

use std::collections::HashMap;
use std::fmt::Write as _;

use serde::Serialize;
use sqlx::{Any, AnyPool, AssertSqlSafe, Row, Transaction};
use tracing::debug;

pub use super::plan::Scope;
use super::plan::{Deletion, Outcome, Planned, classify, load_scope, validate};
use super::{Backend, StoreError, SweepId, begin_write, now_ms, q};
use crate::item::Item;
use simian_model::actor::{Actor, Via};

/// Rows per multi-VALUES statement: measured faster than both 1 and 1,000.
const BATCH: usize = 50;

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
    /// A targeted refresh of some items (a CloudTrail event named them): the items found as
    /// observed, and the ids a successful describe did not find. Nothing else in the scope is
    /// touched.
    Refresh(Refresh),
}

/// What one targeted refresh saw in one scope, and who set it off.
#[derive(Debug, Clone, Default)]
pub struct Refresh {
    pub found: Vec<Item>,
    /// Resource ids described and not found: deleted, if stored and live.
    pub gone: Vec<String>,
    /// Who changed each resource id (the latest event naming it).
    pub actors: HashMap<String, Actor>,
    /// `(event id, event name)` of every event this refresh answers, remembered so a
    /// redelivery is recognised.
    pub events: Vec<(String, String)>,
}

/// How the revisions of one apply were found, and who made each change.
struct Provenance<'a> {
    via: Via,
    actors: Option<&'a HashMap<String, Actor>>,
}

impl Provenance<'_> {
    fn actor_json(&self, resource_id: &str) -> Option<String> {
        self.actors
            .and_then(|a| a.get(resource_id))
            .and_then(|a| serde_json::to_string(a).ok())
    }
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
    /// Who made the change, when an event (or a CloudTrail lookup) said.
    pub actor: Option<Actor>,
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
    let status: String = row.try_get("status").map_err(q("reading sweep status"))?;
    if status != "running" {
        return Err(StoreError::SweepNotRunning { id: sweep, status });
    }
    Ok(())
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

/// Record one listing of one scope in one transaction: plan (off the async threads), then
/// write the plan's steps in order.
pub(super) async fn apply(
    pool: &AnyPool,
    backend: Backend,
    sweep: SweepId,
    scope: &Scope,
    listing: Listing,
) -> Result<ScopeSummary, StoreError> {
    let mut refresh = None;
    let (items, complete, failure) = match listing {
        Listing::Complete(items) => (items, true, None),
        Listing::Failed {
            partial,
            error,
            retries,
        } => (partial, false, Some((error, retries))),
        Listing::Refresh(mut r) => {
            let found = std::mem::take(&mut r.found);
            refresh = Some(r);
            (found, false, None)
        }
    };
    let items = validate(scope, items)?;
    let mut tx = begin_write(pool, backend)
        .await
        .map_err(q("begin applying a listing"))?;
    check_running(&mut tx, sweep).await?;
    let stored = load_scope(&mut tx, scope).await?;
    // A refresh deletes exactly what its describe did not find.
    let gone: Vec<Deletion> = refresh
        .iter()
        .flat_map(|r| r.gone.iter())
        .filter_map(|rid| {
            let row = stored.get(rid).filter(|row| !row.deleted)?;
            Some(Deletion {
                id: row.id,
                resource_id: rid.clone(),
                revision_id: row.revision_id?,
                arn: row.arn.clone(),
            })
        })
        .collect();
    let now = now_ms();
    let resource_type = scope.resource_type.clone();
    let mut plan =
        tokio::task::spawn_blocking(move || classify(items, stored, &resource_type, complete, now))
            .await
            .map_err(|e| StoreError::Worker(e.to_string()))?;
    plan.deletions.extend(gone);
    let provenance = Provenance {
        via: if refresh.is_some() {
            Via::Event
        } else {
            Via::Sweep
        },
        actors: refresh.as_ref().map(|r| &r.actors),
    };

    let mut summary = ScopeSummary {
        unchanged: plan.unchanged,
        listing_failed: failure.is_some(),
        ..ScopeSummary::default()
    };
    if let Some((error, retries)) = &failure {
        record_listing_error(&mut tx, sweep, scope, error, *retries, now).await?;
    }
    let mut changed = plan.changed;
    insert_new_items(&mut tx, &mut changed, now, &mut summary).await?;
    let revision_of = insert_revisions(&mut tx, sweep, &changed, &provenance, &mut summary).await?;
    point_items_at_revisions(&mut tx, scope, &changed, &revision_of, now, &mut summary).await?;
    refresh_ephemeral(&mut tx, &changed, &mut summary).await?;
    record_deletions(
        &mut tx,
        sweep,
        scope,
        &plan.deletions,
        &provenance,
        now,
        &mut summary,
    )
    .await?;
    if let Some(r) = &refresh {
        remember_events(&mut tx, &scope.account_id, &r.events, now).await?;
        for c in &mut summary.changes {
            c.actor = r.actors.get(&c.key.resource_id).cloned();
        }
    }
    record_scope_totals(&mut tx, sweep, scope, failure.is_none(), &summary, now).await?;

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

type Tx<'a> = Transaction<'a, Any>;

async fn record_listing_error(
    tx: &mut Tx<'_>,
    sweep: SweepId,
    scope: &Scope,
    error: &str,
    retries: u32,
    now: i64,
) -> Result<(), StoreError> {
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
    .bind(i64::from(retries))
    .bind(now)
    .execute(&mut **tx)
    .await
    .map_err(q("recording a listing error"))?;
    Ok(())
}

/// Step 1: item rows for never-seen items, whose ids the revisions need. Afterwards a new item
/// is written exactly like a re-created one.
async fn insert_new_items(
    tx: &mut Tx<'_>,
    changed: &mut [Planned],
    now: i64,
    summary: &mut ScopeSummary,
) -> Result<(), StoreError> {
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
            .fetch_all(&mut **tx)
            .await
            .map_err(q("inserting new items"))?;
        summary.rows_written += rows.len() as u64;
        for r in &rows {
            let id: i64 = r.try_get("id").map_err(q("reading new item ids"))?;
            let rid: String = r
                .try_get("resource_id")
                .map_err(q("reading new item ids"))?;
            new_ids.insert(rid, id);
        }
    }
    for i in fresh {
        let rid = &changed[i].item.resource_id;
        let id = *new_ids.get(rid).ok_or_else(|| StoreError::Corrupt {
            what: format!("insert of item {rid}"),
            message: "the database returned no id for it".into(),
        })?;
        changed[i].outcome = Outcome::Recreated { id };
    }
    Ok(())
}

/// The item id and change kind of a planned durable change (None: ephemeral only).
fn durable(p: &Planned) -> Option<(i64, ChangeKind)> {
    match p.outcome {
        Outcome::Modified { id } => Some((id, ChangeKind::Modified)),
        Outcome::Recreated { id } => Some((id, ChangeKind::Created)),
        // New was rewritten to Recreated by step 1.
        Outcome::New | Outcome::Ephemeral { .. } => None,
    }
}

/// Step 2: a full-snapshot revision per durable change; returns item id → revision id.
async fn insert_revisions(
    tx: &mut Tx<'_>,
    sweep: SweepId,
    changed: &[Planned],
    provenance: &Provenance<'_>,
    summary: &mut ScopeSummary,
) -> Result<HashMap<i64, i64>, StoreError> {
    let revised: Vec<&Planned> = changed.iter().filter(|p| durable(p).is_some()).collect();
    let mut revision_of: HashMap<i64, i64> = HashMap::with_capacity(revised.len());
    for chunk in revised.chunks(BATCH) {
        let sql = format!(
            "INSERT INTO revisions (item_id, sweep_id, kind, captured_at_ms, durable_hash,
                complete_hash, document, via, actor)
             VALUES {} RETURNING id, item_id",
            placeholders(chunk.len(), 9, 1)
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for p in chunk {
            let Some((id, kind)) = durable(p) else {
                continue;
            };
            query = query
                .bind(id)
                .bind(sweep.0)
                .bind(kind.as_str())
                .bind(p.captured_at_ms)
                .bind(&p.hashes.durable)
                .bind(&p.hashes.complete)
                .bind(&p.document)
                .bind(provenance.via.as_str())
                .bind(provenance.actor_json(&p.item.resource_id));
        }
        let rows = query
            .fetch_all(&mut **tx)
            .await
            .map_err(q("inserting revisions"))?;
        summary.rows_written += rows.len() as u64;
        for r in &rows {
            let rev: i64 = r.try_get("id").map_err(q("reading revision ids"))?;
            let item: i64 = r.try_get("item_id").map_err(q("reading revision ids"))?;
            revision_of.insert(item, rev);
        }
    }
    Ok(revision_of)
}

/// Step 3: point the changed items at their new revisions, and note each change.
async fn point_items_at_revisions(
    tx: &mut Tx<'_>,
    scope: &Scope,
    changed: &[Planned],
    revision_of: &HashMap<i64, i64>,
    now: i64,
    summary: &mut ScopeSummary,
) -> Result<(), StoreError> {
    let revised: Vec<(&Planned, i64, ChangeKind)> = changed
        .iter()
        .filter_map(|p| durable(p).map(|(id, kind)| (p, id, kind)))
        .collect();
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
        for (p, id, _) in chunk {
            let rev = *revision_of.get(id).ok_or_else(|| StoreError::Corrupt {
                what: format!("revision insert for item {id}"),
                message: "the database returned no revision id for it".into(),
            })?;
            query = query
                .bind(*id)
                .bind(rev)
                .bind(&p.hashes.durable)
                .bind(&p.hashes.complete)
                .bind(&p.item.arn)
                .bind(&p.item.resource_name);
        }
        let done = query
            .bind(now)
            .execute(&mut **tx)
            .await
            .map_err(q("updating changed items"))?;
        summary.rows_written += done.rows_affected();
    }
    for (p, id, kind) in revised {
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
            actor: None,
        });
    }
    Ok(())
}

/// Step 4: ephemeral-only changes refresh the latest snapshot in place, no new revision.
async fn refresh_ephemeral(
    tx: &mut Tx<'_>,
    changed: &[Planned],
    summary: &mut ScopeSummary,
) -> Result<(), StoreError> {
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
            .execute(&mut **tx)
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
            .execute(&mut **tx)
            .await
            .map_err(q("updating items' complete hashes"))?;
        summary.rows_written += done.rows_affected();
    }
    summary.ephemeral_updates = ephemeral.len() as u64;
    Ok(())
}

/// Step 5 (complete listings only): a 'deleted' revision carrying the last known document,
/// copied inside the database, and the item marked deleted.
async fn record_deletions(
    tx: &mut Tx<'_>,
    sweep: SweepId,
    scope: &Scope,
    deletions: &[Deletion],
    provenance: &Provenance<'_>,
    now: i64,
    summary: &mut ScopeSummary,
) -> Result<(), StoreError> {
    for chunk in deletions.chunks(BATCH) {
        // (last revision id, who deleted it) per deletion.
        let sql = format!(
            "WITH v (rev, actor) AS (VALUES {})
             INSERT INTO revisions (item_id, sweep_id, kind, captured_at_ms, durable_hash,
                complete_hash, document, via, actor)
             SELECT r.item_id, $1, 'deleted', $2, r.durable_hash, r.complete_hash, r.document,
                $3, v.actor
             FROM revisions r JOIN v ON r.id = v.rev
             RETURNING id, item_id",
            placeholders(chunk.len(), 2, 4)
        );
        let mut query = sqlx::query(AssertSqlSafe(sql))
            .bind(sweep.0)
            .bind(now)
            .bind(provenance.via.as_str());
        for d in chunk {
            query = query
                .bind(d.revision_id)
                .bind(provenance.actor_json(&d.resource_id));
        }
        let rows = query
            .fetch_all(&mut **tx)
            .await
            .map_err(q("recording deletions"))?;
        summary.rows_written += rows.len() as u64;
        let mut revs: HashMap<i64, i64> = HashMap::with_capacity(rows.len());
        for r in &rows {
            let rev: i64 = r
                .try_get("id")
                .map_err(q("reading deletion revision ids"))?;
            let item: i64 = r
                .try_get("item_id")
                .map_err(q("reading deletion revision ids"))?;
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
            .execute(&mut **tx)
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
                actor: None,
            });
        }
    }
    Ok(())
}

/// Remember the events a refresh answered (a redelivered one is then a duplicate).
async fn remember_events(
    tx: &mut Tx<'_>,
    account: &str,
    events: &[(String, String)],
    now: i64,
) -> Result<(), StoreError> {
    for chunk in events.chunks(BATCH) {
        let sql = format!(
            "INSERT INTO cloud_events (event_id, account_id, event_name, processed_ms)
             VALUES {} ON CONFLICT (event_id) DO NOTHING",
            placeholders(chunk.len(), 4, 1)
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for (id, name) in chunk {
            query = query.bind(id).bind(account).bind(name).bind(now);
        }
        query
            .execute(&mut **tx)
            .await
            .map_err(q("remembering processed events"))?;
    }
    Ok(())
}

async fn record_scope_totals(
    tx: &mut Tx<'_>,
    sweep: SweepId,
    scope: &Scope,
    complete: bool,
    summary: &ScopeSummary,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO sweep_scopes (sweep_id, account_id, region, resource_type, complete,
            created, modified, deleted, unchanged, ephemeral_updates, applied_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(sweep.0)
    .bind(&scope.account_id)
    .bind(&scope.region)
    .bind(&scope.resource_type)
    .bind(i32::from(complete))
    .bind(summary.created as i64)
    .bind(summary.modified as i64)
    .bind(summary.deleted as i64)
    .bind(summary.unchanged as i64)
    .bind(summary.ephemeral_updates as i64)
    .bind(now)
    .execute(&mut **tx)
    .await
    .map_err(q("recording the scope's totals"))?;
    Ok(())
}

fn key_of(scope: &Scope, resource_id: &str) -> ItemKey {
    ItemKey {
        account_id: scope.account_id.clone(),
        region: scope.region.clone(),
        resource_type: scope.resource_type.clone(),
        resource_id: resource_id.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholder_numbering() {
        assert_eq!(placeholders(2, 3, 1), "($1,$2,$3),($4,$5,$6)");
        assert_eq!(placeholders(1, 2, 5), "($5,$6)");
    }
}
