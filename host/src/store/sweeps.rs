//! Sweeps: starting and finishing one, applying its listings (`apply` does the work), the
//! sweeps left running by a dead process, and reading sweeps and their listing errors.

use std::fmt;

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};
use tracing::info;

use super::apply::{self, Listing, Scope, ScopeSummary};
use super::{Store, StoreError, begin_write, now_ms, owner, q, u64_of};
use simian_model::actor::Via;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct SweepId(pub i64);

impl fmt::Display for SweepId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SweepStatus {
    Running,
    Complete,
    Partial,
    Aborted,
}

impl SweepStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SweepStatus::Running => "running",
            SweepStatus::Complete => "complete",
            SweepStatus::Partial => "partial",
            SweepStatus::Aborted => "aborted",
        }
    }

    fn parse(s: &str) -> Result<SweepStatus, StoreError> {
        Ok(match s {
            "running" => SweepStatus::Running,
            "complete" => SweepStatus::Complete,
            "partial" => SweepStatus::Partial,
            "aborted" => SweepStatus::Aborted,
            other => {
                return Err(StoreError::Corrupt {
                    what: "sweep status".into(),
                    message: format!("unknown status `{other}`"),
                });
            }
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SweepRecord {
    pub id: SweepId,
    pub started_ms: i64,
    pub finished_ms: Option<i64>,
    pub status: SweepStatus,
    pub created: u64,
    pub modified: u64,
    pub deleted: u64,
    pub unchanged: u64,
    pub ephemeral_updates: u64,
    /// Failed listings.
    pub errors: u64,
    /// A periodic or manual sweep, or an event-driven refresh.
    pub via: Via,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListingError {
    pub sweep_id: SweepId,
    pub account_id: String,
    pub region: String,
    pub resource_type: String,
    pub error: String,
    pub retries: u32,
    pub at_ms: i64,
}

/// The SET clauses that make a sweep's totals the sum of its applied listings (finishing and
/// aborting a sweep both record them).
macro_rules! sweep_totals {
    () => {
        "created = (SELECT CAST(COALESCE(SUM(s.created), 0) AS BIGINT)
                    FROM sweep_scopes s WHERE s.sweep_id = sweeps.id),
         modified = (SELECT CAST(COALESCE(SUM(s.modified), 0) AS BIGINT)
                     FROM sweep_scopes s WHERE s.sweep_id = sweeps.id),
         deleted = (SELECT CAST(COALESCE(SUM(s.deleted), 0) AS BIGINT)
                    FROM sweep_scopes s WHERE s.sweep_id = sweeps.id),
         unchanged = (SELECT CAST(COALESCE(SUM(s.unchanged), 0) AS BIGINT)
                      FROM sweep_scopes s WHERE s.sweep_id = sweeps.id),
         ephemeral_updates = (SELECT CAST(COALESCE(SUM(s.ephemeral_updates), 0) AS BIGINT)
                              FROM sweep_scopes s WHERE s.sweep_id = sweeps.id),
         errors = (SELECT CAST(COUNT(*) AS BIGINT)
                   FROM listing_errors e WHERE e.sweep_id = sweeps.id)"
    };
}

impl Store {
    pub(super) async fn abort_running_sweeps(&self) -> Result<u64, StoreError> {
        let _guard = self.write_guard().await;
        let mut tx = begin_write(&self.pool, self.backend)
            .await
            .map_err(q("begin aborting running sweeps"))?;
        let running =
            sqlx::query("SELECT id, owner, started_ms FROM sweeps WHERE status = 'running'")
                .fetch_all(&mut *tx)
                .await
                .map_err(q("listing running sweeps"))?;
        let mut orphaned = Vec::new();
        for row in running {
            let id: i64 = row.try_get("id").map_err(q("reading a running sweep"))?;
            let owner: Option<String> = row.try_get("owner").map_err(q("reading a sweep owner"))?;
            let started: i64 = row
                .try_get("started_ms")
                .map_err(q("reading a sweep start"))?;
            if owner::is_gone(owner.as_deref(), started, now_ms()) {
                orphaned.push(id);
            }
        }
        let mut aborted = 0;
        for id in orphaned {
            aborted += self.abort_sweep(&mut tx, id).await?;
        }
        tx.commit()
            .await
            .map_err(q("commit aborting running sweeps"))?;
        Ok(aborted)
    }

    async fn abort_sweep(&self, tx: &mut Transaction<'_, Any>, id: i64) -> Result<u64, StoreError> {
        let done = sqlx::query(concat!(
            "UPDATE sweeps SET status = 'aborted', finished_ms = $1, ",
            sweep_totals!(),
            " WHERE id = $2 AND status = 'running'"
        ))
        .bind(now_ms())
        .bind(id)
        .execute(&mut **tx)
        .await
        .map_err(q("marking a running sweep aborted"))?;
        Ok(done.rows_affected())
    }

    /// Start a sweep: listings are applied to it, then [`Store::finish_sweep`].
    pub async fn begin_sweep(&self) -> Result<SweepId, StoreError> {
        self.begin_sweep_via(Via::Sweep).await
    }

    /// Start a sweep found `via` a sweep or an event (an event-driven refresh is a small sweep
    /// of the items its events named; `sweeps` lists only the others).
    pub async fn begin_sweep_via(&self, via: Via) -> Result<SweepId, StoreError> {
        let _guard = self.write_guard().await;
        let row = sqlx::query(
            "INSERT INTO sweeps (started_ms, status, owner, via)
             VALUES ($1, 'running', $2, $3) RETURNING id",
        )
        .bind(now_ms())
        .bind(owner::this_process())
        .bind(via.as_str())
        .fetch_one(&self.pool)
        .await
        .map_err(q("starting a sweep"))?;
        let id = SweepId(row.try_get("id").map_err(q("reading the new sweep id"))?);
        if via == Via::Sweep {
            info!(sweep = %id, "sweep started");
        }
        Ok(id)
    }

    /// Close a sweep: `complete` if no listing failed, else `partial`; totals are the sum of
    /// the listings applied to it.
    pub async fn finish_sweep(&self, sweep: SweepId) -> Result<SweepRecord, StoreError> {
        let _guard = self.write_guard().await;
        let mut tx = begin_write(&self.pool, self.backend)
            .await
            .map_err(q("begin finishing a sweep"))?;
        apply::check_running(&mut tx, sweep).await?;
        sqlx::query(concat!(
            "UPDATE sweeps SET finished_ms = $1, ",
            sweep_totals!(),
            " WHERE id = $2"
        ))
        .bind(now_ms())
        .bind(sweep.0)
        .execute(&mut *tx)
        .await
        .map_err(q("totalling a sweep"))?;
        sqlx::query(
            "UPDATE sweeps SET status = CASE WHEN errors > 0 THEN 'partial' ELSE 'complete' END
             WHERE id = $1",
        )
        .bind(sweep.0)
        .execute(&mut *tx)
        .await
        .map_err(q("closing a sweep"))?;
        let record = Self::sweep_rows(
            sqlx::query(SWEEP_SELECT_BY_ID)
                .bind(sweep.0)
                .fetch_all(&mut *tx)
                .await
                .map_err(q("reading a finished sweep"))?,
        )?
        .pop()
        .ok_or(StoreError::NoSuchSweep(sweep))?;
        tx.commit().await.map_err(q("commit finishing a sweep"))?;
        if record.via == Via::Event {
            return Ok(record);
        }
        info!(
            sweep = %sweep,
            status = record.status.as_str(),
            created = record.created,
            modified = record.modified,
            deleted = record.deleted,
            errors = record.errors,
            "sweep finished"
        );
        Ok(record)
    }

    /// Record one scope's listing in one transaction; see [`Listing`].
    pub async fn apply_listing(
        &self,
        sweep: SweepId,
        scope: &Scope,
        listing: Listing,
    ) -> Result<ScopeSummary, StoreError> {
        let _guard = self.write_guard().await;
        apply::apply(&self.pool, self.backend, sweep, scope, listing).await
    }

    /// Newest first; sweeps only, not event-driven refreshes.
    pub async fn sweeps(&self, limit: u32) -> Result<Vec<SweepRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, started_ms, finished_ms, status, created, modified, deleted, unchanged,
                    ephemeral_updates, errors, via
             FROM sweeps WHERE via = 'sweep' ORDER BY id DESC LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(q("listing sweeps"))?;
        Self::sweep_rows(rows)
    }

    pub async fn sweep(&self, sweep: SweepId) -> Result<Option<SweepRecord>, StoreError> {
        let rows = sqlx::query(SWEEP_SELECT_BY_ID)
            .bind(sweep.0)
            .fetch_all(&self.pool)
            .await
            .map_err(q("reading a sweep"))?;
        Ok(Self::sweep_rows(rows)?.pop())
    }

    fn sweep_rows(rows: Vec<AnyRow>) -> Result<Vec<SweepRecord>, StoreError> {
        let what = "reading sweep rows";
        rows.iter()
            .map(|r| {
                let status: String = r.try_get("status").map_err(q(what))?;
                let count = |column: &str| r.try_get::<i64, _>(column).map(u64_of);
                Ok(SweepRecord {
                    id: SweepId(r.try_get("id").map_err(q(what))?),
                    started_ms: r.try_get("started_ms").map_err(q(what))?,
                    finished_ms: r.try_get("finished_ms").map_err(q(what))?,
                    status: SweepStatus::parse(&status)?,
                    created: count("created").map_err(q(what))?,
                    modified: count("modified").map_err(q(what))?,
                    deleted: count("deleted").map_err(q(what))?,
                    unchanged: count("unchanged").map_err(q(what))?,
                    ephemeral_updates: count("ephemeral_updates").map_err(q(what))?,
                    errors: count("errors").map_err(q(what))?,
                    via: Via::parse(&r.try_get::<String, _>("via").map_err(q(what))?)
                        .unwrap_or(Via::Sweep),
                })
            })
            .collect()
    }

    pub async fn listing_errors(&self, sweep: SweepId) -> Result<Vec<ListingError>, StoreError> {
        let what = "reading listing errors";
        let rows = sqlx::query(
            "SELECT sweep_id, account_id, region, resource_type, error, retries, at_ms
             FROM listing_errors WHERE sweep_id = $1 ORDER BY id",
        )
        .bind(sweep.0)
        .fetch_all(&self.pool)
        .await
        .map_err(q(what))?;
        rows.iter()
            .map(|r| {
                let retries: i64 = r.try_get("retries").map_err(q(what))?;
                Ok(ListingError {
                    sweep_id: SweepId(r.try_get("sweep_id").map_err(q(what))?),
                    account_id: r.try_get("account_id").map_err(q(what))?,
                    region: r.try_get("region").map_err(q(what))?,
                    resource_type: r.try_get("resource_type").map_err(q(what))?,
                    error: r.try_get("error").map_err(q(what))?,
                    retries: u32::try_from(retries).unwrap_or(u32::MAX),
                    at_ms: r.try_get("at_ms").map_err(q(what))?,
                })
            })
            .collect()
    }
}

const SWEEP_SELECT_BY_ID: &str =
    "SELECT id, started_ms, finished_ms, status, created, modified, deleted, unchanged,
            ephemeral_updates, errors, via
     FROM sweeps WHERE id = $1";
