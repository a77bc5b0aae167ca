//! Shadow runs: what a candidate version of a plugin would change against the live version's
//! open issues, kept so `simian plugins` and the console can show it until the candidate is
//! promoted or discarded.
//!
//! Owns the `shadow_runs` table. It must never touch `issues`: a shadow run records what
//! would happen, nothing that did.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::{Store, StoreError, begin_write, q};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ShadowChange {
    /// The candidate finds it; the live version has no such open issue.
    Open,
    /// The live version's open issue; the candidate no longer finds it.
    Fix,
    /// Both find it, with different scores.
    Rescore,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShadowEntry {
    pub change: ShadowChange,
    pub item_id: i64,
    pub arn: String,
    pub check_id: String,
    pub title: String,
    /// The evidence (the issue's notes).
    pub notes: String,
    /// The candidate's score (for `fix`: the live score).
    pub score: u32,
    /// The live issue's score, for `fix` and `rescore`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live_score: Option<u32>,
    /// The live issue, for `fix` and `rescore`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issue_id: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ShadowState {
    /// The diff is current: the candidate waits for promote or discard.
    Ready,
    /// The candidate could not be loaded or run; `error` says why.
    Failed,
    Promoted,
    Discarded,
}

impl ShadowState {
    fn as_str(self) -> &'static str {
        match self {
            ShadowState::Ready => "ready",
            ShadowState::Failed => "failed",
            ShadowState::Promoted => "promoted",
            ShadowState::Discarded => "discarded",
        }
    }

    fn parse(s: &str) -> Result<ShadowState, StoreError> {
        Ok(match s {
            "ready" => ShadowState::Ready,
            "failed" => ShadowState::Failed,
            "promoted" => ShadowState::Promoted,
            "discarded" => ShadowState::Discarded,
            other => {
                return Err(StoreError::Corrupt {
                    what: "shadow run state".into(),
                    message: format!("unknown state `{other}`"),
                });
            }
        })
    }
}

/// At most this many entries are kept per run; the counts stay exact.
pub const MAX_SHADOW_ENTRIES: usize = 5_000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShadowRun {
    /// 0 until recorded.
    pub id: i64,
    pub plugin: String,
    pub version: String,
    pub wasm_sha256: String,
    /// The live version compared against (none: the plugin is not live).
    pub live_version: Option<String>,
    /// Who ran it: `cli` (`simian plugin shadow`) or `host` (a running host saw the files).
    pub via: String,
    pub started_ms: i64,
    pub finished_ms: i64,
    /// Current items of the candidate's types it judged.
    pub items: u64,
    pub would_open: u64,
    pub would_fix: u64,
    pub would_rescore: u64,
    pub unchanged: u64,
    /// Items the candidate failed on: their live issues are counted as neither kept nor fixed.
    pub failed: u64,
    pub state: ShadowState,
    pub error: Option<String>,
    pub entries: Vec<ShadowEntry>,
}

const COLUMNS: &str =
    "id, plugin, version, wasm_sha256, live_version, via, started_ms, finished_ms,
    items, would_open, would_fix, would_rescore, unchanged, failed, state, error, entries";

impl Store {
    /// Record a finished shadow run; earlier ready or failed runs of the plugin are superseded
    /// (discarded), so each plugin has at most one current run.
    pub async fn record_shadow_run(&self, run: &ShadowRun) -> Result<i64, StoreError> {
        let what = "recording a shadow run";
        let _w = self.write_guard().await;
        let mut tx = begin_write(&self.pool, self.backend)
            .await
            .map_err(q(what))?;
        sqlx::query(
            "UPDATE shadow_runs SET state = 'discarded'
             WHERE plugin = $1 AND state IN ('ready', 'failed')",
        )
        .bind(&run.plugin)
        .execute(&mut *tx)
        .await
        .map_err(q(what))?;
        let entries =
            serde_json::to_string(&run.entries[..run.entries.len().min(MAX_SHADOW_ENTRIES)])
                .map_err(|e| StoreError::Worker(e.to_string()))?;
        let row = sqlx::query(
            "INSERT INTO shadow_runs (plugin, version, wasm_sha256, live_version, via,
                started_ms, finished_ms, items, would_open, would_fix, would_rescore, unchanged,
                failed, state, error, entries)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
             RETURNING id",
        )
        .bind(&run.plugin)
        .bind(&run.version)
        .bind(&run.wasm_sha256)
        .bind(run.live_version.clone())
        .bind(&run.via)
        .bind(run.started_ms)
        .bind(run.finished_ms)
        .bind(run.items as i64)
        .bind(run.would_open as i64)
        .bind(run.would_fix as i64)
        .bind(run.would_rescore as i64)
        .bind(run.unchanged as i64)
        .bind(run.failed as i64)
        .bind(run.state.as_str())
        .bind(run.error.clone())
        .bind(entries)
        .fetch_one(&mut *tx)
        .await
        .map_err(q(what))?;
        let id: i64 = row.try_get("id").map_err(q(what))?;
        tx.commit().await.map_err(q(what))?;
        Ok(id)
    }

    /// The current (ready or failed) shadow run of every plugin, or of one.
    pub async fn current_shadow_runs(
        &self,
        plugin: Option<&str>,
    ) -> Result<Vec<ShadowRun>, StoreError> {
        let what = "reading shadow runs";
        let sql = format!(
            "SELECT {COLUMNS} FROM shadow_runs WHERE state IN ('ready', 'failed')
             AND ($1 = '' OR plugin = $1) ORDER BY plugin, id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(plugin.unwrap_or(""))
            .fetch_all(&self.pool)
            .await
            .map_err(q(what))?;
        rows.iter().map(shadow_run).collect()
    }

    /// Close the plugin's current shadow run as promoted or discarded; how many were closed.
    pub async fn close_shadow_runs(
        &self,
        plugin: &str,
        state: ShadowState,
    ) -> Result<u64, StoreError> {
        let what = "closing shadow runs";
        let _w = self.write_guard().await;
        let done = sqlx::query(
            "UPDATE shadow_runs SET state = $1 WHERE plugin = $2 AND state IN ('ready', 'failed')",
        )
        .bind(state.as_str())
        .bind(plugin)
        .execute(&self.pool)
        .await
        .map_err(q(what))?;
        Ok(done.rows_affected())
    }
}

fn shadow_run(r: &sqlx::any::AnyRow) -> Result<ShadowRun, StoreError> {
    let what = "reading a shadow run";
    let id: i64 = r.try_get("id").map_err(q(what))?;
    let count = |column: &str| -> Result<u64, StoreError> {
        let n: i64 = r.try_get(column).map_err(q(what))?;
        Ok(n.max(0) as u64)
    };
    let entries: String = r.try_get("entries").map_err(q(what))?;
    Ok(ShadowRun {
        id,
        plugin: r.try_get("plugin").map_err(q(what))?,
        version: r.try_get("version").map_err(q(what))?,
        wasm_sha256: r.try_get("wasm_sha256").map_err(q(what))?,
        live_version: r.try_get("live_version").map_err(q(what))?,
        via: r.try_get("via").map_err(q(what))?,
        started_ms: r.try_get("started_ms").map_err(q(what))?,
        finished_ms: r.try_get("finished_ms").map_err(q(what))?,
        items: count("items")?,
        would_open: count("would_open")?,
        would_fix: count("would_fix")?,
        would_rescore: count("would_rescore")?,
        unchanged: count("unchanged")?,
        failed: count("failed")?,
        state: ShadowState::parse(&r.try_get::<String, _>("state").map_err(q(what))?)?,
        error: r.try_get("error").map_err(q(what))?,
        entries: serde_json::from_str(&entries).map_err(|e| StoreError::Corrupt {
            what: format!("shadow run {id}"),
            message: e.to_string(),
        })?,
    })
}
