//! The notification outbox: batches of changes waiting to be handed to a notifier plugin,
//! persisted so a failed or interrupted delivery is retried — across restarts — and never lost.
//!
//! Owns the rows and their retry bookkeeping. It must never decide what is worth notifying
//! (the notify pipeline does) nor call plugins.

use serde::Serialize;
use sqlx::Row;

use super::{Store, StoreError, now_ms, q};

/// One batch for one notifier: the changes of one account from one sweep or re-audit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    pub id: i64,
    pub plugin: String,
    pub account_id: String,
    /// What produced it: `sweep:<id>` or `reaudit:<plugin>@<generation>`.
    pub origin: String,
    /// The changes as JSON (the notify pipeline's format).
    pub payload: String,
    pub attempts: u32,
}

/// Delivery state of one notifier's outbox, for `simian plugins`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OutboxStats {
    pub pending: u64,
    /// Pending entries whose last attempt failed.
    pub failing: u64,
    pub delivered: u64,
    pub last_error: Option<String>,
    pub last_attempt_ms: Option<i64>,
    pub next_attempt_ms: Option<i64>,
    /// The most delivery attempts any waiting batch has had (how long it keeps failing).
    pub max_attempts: u64,
}

impl Store {
    /// Queue batches for delivery, all in one transaction; returns their ids.
    pub async fn enqueue_notifications(
        &self,
        entries: &[(String, String, String, String)],
    ) -> Result<Vec<i64>, StoreError> {
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        let _guard = self.write_guard().await;
        let now = now_ms();
        let mut tx = super::begin_write(&self.pool, self.backend)
            .await
            .map_err(q("begin queueing notifications"))?;
        let mut ids = Vec::with_capacity(entries.len());
        for (plugin, account, origin, payload) in entries {
            let row = sqlx::query(
                "INSERT INTO outbox (plugin, account_id, origin, payload, created_ms,
                    next_attempt_ms) VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
            )
            .bind(plugin)
            .bind(account)
            .bind(origin)
            .bind(payload)
            .bind(now)
            .fetch_one(&mut *tx)
            .await
            .map_err(q("queueing a notification"))?;
            ids.push(row.try_get("id").map_err(q("reading a notification id"))?);
        }
        tx.commit()
            .await
            .map_err(q("commit queueing notifications"))?;
        Ok(ids)
    }

    /// Undelivered entries due by `now_ms`, oldest first.
    pub async fn due_notifications(
        &self,
        now: i64,
        limit: u32,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, plugin, account_id, origin, payload, attempts FROM outbox
             WHERE delivered_ms IS NULL AND next_attempt_ms <= $1 ORDER BY id LIMIT $2",
        )
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(q("listing due notifications"))?;
        rows.iter().map(outbox_entry).collect()
    }

    /// One notifier's undelivered entries due by `now_ms`, oldest first.
    pub async fn due_notifications_for(
        &self,
        plugin: &str,
        now: i64,
        limit: u32,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, plugin, account_id, origin, payload, attempts FROM outbox
             WHERE plugin = $1 AND delivered_ms IS NULL AND next_attempt_ms <= $2
             ORDER BY id LIMIT $3",
        )
        .bind(plugin)
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(q("listing due notifications"))?;
        rows.iter().map(outbox_entry).collect()
    }

    /// The notifiers that have entries due by `now_ms`.
    pub async fn notifiers_due(&self, now: i64) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT DISTINCT plugin FROM outbox
             WHERE delivered_ms IS NULL AND next_attempt_ms <= $1 ORDER BY plugin",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await
        .map_err(q("listing due notifiers"))?;
        rows.iter()
            .map(|r| r.try_get("plugin").map_err(q("reading a notifier")))
            .collect()
    }

    /// The earliest time an undelivered entry is due, if any.
    pub async fn next_notification_due(&self) -> Result<Option<i64>, StoreError> {
        let row = sqlx::query("SELECT MIN(next_attempt_ms) FROM outbox WHERE delivered_ms IS NULL")
            .fetch_one(&self.pool)
            .await
            .map_err(q("finding the next due notification"))?;
        row.try_get::<Option<i64>, _>(0)
            .map_err(q("reading the next due notification"))
    }

    pub async fn notification_delivered(&self, id: i64) -> Result<(), StoreError> {
        let _guard = self.write_guard().await;
        let now = now_ms();
        sqlx::query(
            "UPDATE outbox SET delivered_ms = $1, last_attempt_ms = $1, attempts = attempts + 1
             WHERE id = $2",
        )
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(q("marking a notification delivered"))?;
        Ok(())
    }

    /// Record a failed attempt and when to try again.
    pub async fn notification_failed(
        &self,
        id: i64,
        error: &str,
        retry_at_ms: i64,
    ) -> Result<(), StoreError> {
        let _guard = self.write_guard().await;
        sqlx::query(
            "UPDATE outbox SET attempts = attempts + 1, last_error = $1, last_attempt_ms = $2,
                next_attempt_ms = $3 WHERE id = $4",
        )
        .bind(error)
        .bind(now_ms())
        .bind(retry_at_ms)
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(q("recording a failed notification"))?;
        Ok(())
    }

    /// Hold back every undelivered entry of `plugin` due before `until_ms` (its notifier is
    /// paused over its budget) without counting an attempt: a pause is not a failed delivery.
    pub async fn notifications_postponed(
        &self,
        plugin: &str,
        until_ms: i64,
        why: &str,
    ) -> Result<u64, StoreError> {
        let _guard = self.write_guard().await;
        let done = sqlx::query(
            "UPDATE outbox SET next_attempt_ms = $1, last_error = $2
             WHERE plugin = $3 AND delivered_ms IS NULL AND next_attempt_ms < $1",
        )
        .bind(until_ms)
        .bind(why)
        .bind(plugin)
        .execute(&self.pool)
        .await
        .map_err(q("postponing notifications"))?;
        Ok(done.rows_affected())
    }

    /// Per-notifier delivery state.
    /// The payloads `plugin` delivered of batches queued since `since_ms`, oldest first (a
    /// game day looks for its own among them).
    pub async fn deliveries_since(
        &self,
        plugin: &str,
        since_ms: i64,
    ) -> Result<Vec<String>, StoreError> {
        let what = "reading delivered notifications";
        let rows = sqlx::query(
            "SELECT payload FROM outbox
             WHERE plugin = $1 AND created_ms >= $2 AND delivered_ms IS NOT NULL ORDER BY id",
        )
        .bind(plugin)
        .bind(since_ms)
        .fetch_all(&self.pool)
        .await
        .map_err(q(what))?;
        rows.iter()
            .map(|r| r.try_get("payload").map_err(q(what)))
            .collect()
    }

    pub async fn outbox_stats(&self, plugin: &str) -> Result<OutboxStats, StoreError> {
        let row = sqlx::query(
            "SELECT
                CAST(COALESCE(SUM(CASE WHEN delivered_ms IS NULL THEN 1 ELSE 0 END), 0) AS BIGINT),
                CAST(COALESCE(SUM(CASE WHEN delivered_ms IS NULL AND attempts > 0 THEN 1 ELSE 0 END), 0) AS BIGINT),
                CAST(COALESCE(SUM(CASE WHEN delivered_ms IS NOT NULL THEN 1 ELSE 0 END), 0) AS BIGINT),
                MAX(last_attempt_ms),
                MIN(CASE WHEN delivered_ms IS NULL THEN next_attempt_ms END),
                CAST(COALESCE(MAX(CASE WHEN delivered_ms IS NULL THEN attempts END), 0) AS BIGINT)
             FROM outbox WHERE plugin = $1",
        )
        .bind(plugin)
        .fetch_one(&self.pool)
        .await
        .map_err(q("summarising the outbox"))?;
        let count = |i: usize| -> Result<u64, StoreError> {
            let n: i64 = row.try_get(i).map_err(q("reading the outbox summary"))?;
            Ok(u64::try_from(n).unwrap_or(0))
        };
        let last_error = sqlx::query(
            "SELECT last_error FROM outbox WHERE plugin = $1 AND delivered_ms IS NULL
                AND last_error IS NOT NULL ORDER BY last_attempt_ms DESC LIMIT 1",
        )
        .bind(plugin)
        .fetch_optional(&self.pool)
        .await
        .map_err(q("reading the last delivery error"))?
        .map(|r| r.try_get::<String, _>(0))
        .transpose()
        .map_err(q("reading the last delivery error"))?;
        Ok(OutboxStats {
            pending: count(0)?,
            failing: count(1)?,
            delivered: count(2)?,
            last_error,
            last_attempt_ms: row
                .try_get::<Option<i64>, _>(3)
                .map_err(q("reading the outbox summary"))?,
            next_attempt_ms: row
                .try_get::<Option<i64>, _>(4)
                .map_err(q("reading the outbox summary"))?,
            max_attempts: count(5)?,
        })
    }
}

fn outbox_entry(r: &sqlx::any::AnyRow) -> Result<OutboxEntry, StoreError> {
    let attempts: i64 = r.try_get("attempts").map_err(q("reading a notification"))?;
    Ok(OutboxEntry {
        id: r.try_get("id").map_err(q("reading a notification"))?,
        plugin: r.try_get("plugin").map_err(q("reading a notification"))?,
        account_id: r
            .try_get("account_id")
            .map_err(q("reading a notification"))?,
        origin: r.try_get("origin").map_err(q("reading a notification"))?,
        payload: r.try_get("payload").map_err(q("reading a notification"))?,
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
    })
}
