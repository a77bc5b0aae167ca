//! The configuration-history store: items, their revisions, sweeps and listing errors, on
//! SQLite (default) or PostgreSQL through one code path (sqlx `Any`, runtime queries).
//!
//! Owns deciding what a listing changed (created, modified, ephemeral-only, deleted) and
//! recording it atomically per scope, and answering history queries. It must never call AWS
//! or judge items, and never delete anything on a failed listing: absence in a partial
//! listing proves nothing.
//!
//! Portability rules the SQL here follows: `$n` placeholders everywhere (PostgreSQL rejects
//! `?`), times as BIGINT unix milliseconds, flags as INTEGER 0/1, JSON as TEXT.

mod apply;
mod diff;
mod hash;
mod issues;
mod nodelay;
mod outbox;
mod owner;
mod schema;

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{Any, AnyPool, AssertSqlSafe, Row, Transaction};
use tracing::{debug, info, warn};

use crate::item::Item;

pub use apply::{Change, ChangeKind, ItemKey, Listing, Scope, ScopeSummary};
pub use diff::{DiffEntry, DiffOp, diff};
pub use hash::{complete_hash, durable_hash};
pub use issues::{
    AuditedBy, FoundIssue, IssueChange, IssueFilter, IssueRow, Justification, StoredIssue,
    Transition,
};
pub use outbox::{OutboxEntry, OutboxStats};
pub use schema::CURRENT_VERSION as SCHEMA_VERSION;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("storage url `{0}` is neither sqlite://PATH nor postgres://…")]
    BadUrl(String),
    #[error("cannot create directory {path} for the SQLite database: {source}")]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open the store at {url}: {source}")]
    Connect { url: String, source: sqlx::Error },
    #[error("migrating the store schema to version {version} failed: {source}")]
    Migrate { version: i64, source: sqlx::Error },
    #[error("the store schema is version {found}, newer than this simian knows ({known})")]
    SchemaTooNew { found: i64, known: i64 },
    #[error("store: {what} failed: {source}")]
    Query {
        what: &'static str,
        source: sqlx::Error,
    },
    #[error("sweep {0} does not exist")]
    NoSuchSweep(SweepId),
    #[error("sweep {id} is {status}, not running")]
    SweepNotRunning { id: SweepId, status: String },
    #[error("item {item} does not belong to scope {scope}: its {field} differs")]
    ScopeMismatch {
        item: String,
        scope: String,
        field: &'static str,
    },
    #[error("stored {what} is unreadable: {message}")]
    Corrupt { what: String, message: String },
    #[error("hashing the listing failed: {0}")]
    Worker(String),
}

/// Maps a database error to one that says which operation failed.
fn q(what: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |source| StoreError::Query { what, source }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

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

/// Which current items to return; every `None` matches everything.
#[derive(Debug, Clone, Default)]
pub struct ItemFilter {
    pub resource_type: Option<String>,
    pub account_id: Option<String>,
    pub region: Option<String>,
    /// Case-insensitive substring of the resource name.
    pub name_contains: Option<String>,
    pub include_deleted: bool,
    pub offset: u64,
    pub limit: Option<u64>,
}

/// An item as last recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredItem {
    pub id: i64,
    /// Parsed back from the current revision's document (the last known one if deleted).
    pub item: Item,
    pub revision_id: i64,
    pub deleted: bool,
    pub last_changed_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Revision {
    pub id: i64,
    pub item_id: i64,
    pub kind: ChangeKind,
    pub captured_at_ms: i64,
    pub sweep_id: SweepId,
    pub durable_hash: String,
    pub complete_hash: String,
    pub document: Value,
}

/// The store. Cloning is cheap: clones share the connection pool.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// SQLite has one writer; queueing writers here is fairer than SQLite's busy polling.
    write_lock: Arc<tokio::sync::Mutex<()>>,
    url: Arc<str>,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("url", &self.url)
            .field("backend", &self.backend)
            .finish()
    }
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Start a write transaction. On SQLite take the write lock at BEGIN: a deferred transaction
/// that reads and then writes fails outright (no busy wait) if another process wrote between.
pub(crate) async fn begin_write(
    pool: &AnyPool,
    backend: Backend,
) -> Result<Transaction<'static, Any>, sqlx::Error> {
    match backend {
        Backend::Sqlite => pool.begin_with("BEGIN IMMEDIATE").await,
        Backend::Postgres => pool.begin().await,
    }
}

/// The URL with any password replaced, fit for errors and logs.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

/// `sqlite://PATH`, `sqlite:PATH` → PATH (without any `?params`).
fn sqlite_path(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty()).then_some(path)
}

fn u64_of(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

impl Store {
    /// Open (creating if needed) and migrate the store, then mark sweeps left `running` by a
    /// process that died as `aborted`. Only the process that runs sweeps should call this;
    /// readers use [`Store::open_reader`].
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        let store = Store::open_reader(url).await?;
        let aborted = store.abort_running_sweeps().await?;
        if aborted > 0 {
            warn!(
                aborted,
                "sweeps left running by a previous process marked aborted"
            );
        }
        Ok(store)
    }

    /// Open and migrate without touching sweeps, so a CLI reading history next to a running
    /// `simian run` does not abort its sweep.
    pub async fn open_reader(url: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let shown = redact(url);
        let connect_err = |source| StoreError::Connect {
            url: shown.clone(),
            source,
        };
        let (backend, pool) = if let Some(path) = sqlite_path(url) {
            let memory = path == ":memory:";
            if !memory
                && let Some(parent) = std::path::Path::new(path).parent()
                && !parent.as_os_str().is_empty()
            {
                std::fs::create_dir_all(parent).map_err(|source| StoreError::CreateDir {
                    path: parent.to_path_buf(),
                    source,
                })?;
            }
            let encoded: String = path
                .chars()
                .map(|c| match c {
                    '%' => "%25".to_string(),
                    '?' => "%3F".to_string(),
                    '#' => "%23".to_string(),
                    ' ' => "%20".to_string(),
                    c => c.to_string(),
                })
                .collect();
            let connect = if memory {
                "sqlite::memory:".to_string()
            } else {
                format!("sqlite://{encoded}?mode=rwc")
            };
            let pool = AnyPoolOptions::new()
                // An in-memory database exists per connection: keep exactly one.
                .max_connections(if memory { 1 } else { 4 })
                .min_connections(if memory { 1 } else { 0 })
                .acquire_timeout(Duration::from_secs(60))
                .idle_timeout(if memory {
                    None
                } else {
                    Some(Duration::from_secs(600))
                })
                .max_lifetime(if memory {
                    None
                } else {
                    Some(Duration::from_secs(3600))
                })
                .after_connect(|conn, _meta| {
                    Box::pin(async move {
                        sqlx::query("PRAGMA busy_timeout = 30000")
                            .execute(&mut *conn)
                            .await?;
                        // Safe with WAL: a crash loses at most the last commits, never
                        // consistency.
                        sqlx::query("PRAGMA synchronous = NORMAL")
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query("PRAGMA foreign_keys = ON")
                            .execute(&mut *conn)
                            .await?;
                        Ok(())
                    })
                })
                .connect(&connect)
                .await
                .map_err(connect_err)?;
            if !memory {
                // Readers must not block the writer; WAL is a property of the file, so one
                // connection setting it is enough.
                let row = sqlx::query("PRAGMA journal_mode = WAL")
                    .fetch_one(&pool)
                    .await
                    .map_err(connect_err)?;
                let mode: String = row.try_get(0).map_err(connect_err)?;
                if !mode.eq_ignore_ascii_case("wal") {
                    warn!(mode, path, "SQLite refused WAL journal mode");
                }
            }
            (Backend::Sqlite, pool)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let url_port = url::Url::parse(url)
                .ok()
                .and_then(|u| u.port())
                .unwrap_or(5432);
            let pool = AnyPoolOptions::new()
                .max_connections(8)
                .acquire_timeout(Duration::from_secs(30))
                .after_connect(move |conn, _meta| {
                    Box::pin(async move {
                        // NULL on a Unix socket, where Nagle does not apply.
                        let row = sqlx::query(
                            "SELECT CAST(inet_client_port() AS BIGINT),
                                    CAST(inet_server_port() AS BIGINT)",
                        )
                        .fetch_one(&mut *conn)
                        .await?;
                        let port = |i: usize| -> Result<Option<u16>, sqlx::Error> {
                            let p: Option<i64> = row.try_get(i)?;
                            Ok(p.and_then(|p| u16::try_from(p).ok()))
                        };
                        if let (Some(local), server) = (port(0)?, port(1)?) {
                            let peers = [url_port, server.unwrap_or(url_port)];
                            let set = nodelay::set_for(local, &peers);
                            debug!(set, local, "TCP_NODELAY on a store connection");
                        }
                        Ok(())
                    })
                })
                .connect(url)
                .await
                .map_err(connect_err)?;
            (Backend::Postgres, pool)
        } else {
            return Err(StoreError::BadUrl(shown));
        };
        schema::migrate(&pool, backend).await?;
        info!(url = %shown, "store open");
        Ok(Store {
            pool,
            backend,
            write_lock: Arc::new(tokio::sync::Mutex::new(())),
            url: shown.into(),
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Close the pool; pending work finishes first.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    async fn write_guard(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match self.backend {
            Backend::Sqlite => Some(self.write_lock.lock().await),
            Backend::Postgres => None,
        }
    }

    async fn abort_running_sweeps(&self) -> Result<u64, StoreError> {
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
            let id: i64 = row.try_get(0).map_err(q("reading a running sweep"))?;
            let owner: Option<String> = row.try_get(1).map_err(q("reading a sweep owner"))?;
            let started: i64 = row.try_get(2).map_err(q("reading a sweep start"))?;
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
        let done = sqlx::query(
            "UPDATE sweeps SET status = 'aborted', finished_ms = $1,
                created = (SELECT CAST(COALESCE(SUM(s.created), 0) AS BIGINT)
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
                          FROM listing_errors e WHERE e.sweep_id = sweeps.id)
             WHERE id = $2 AND status = 'running'",
        )
        .bind(now_ms())
        .bind(id)
        .execute(&mut **tx)
        .await
        .map_err(q("marking a running sweep aborted"))?;
        Ok(done.rows_affected())
    }

    /// Start a sweep: listings are applied to it, then [`Store::finish_sweep`].
    pub async fn begin_sweep(&self) -> Result<SweepId, StoreError> {
        let _guard = self.write_guard().await;
        let row = sqlx::query(
            "INSERT INTO sweeps (started_ms, status, owner) VALUES ($1, 'running', $2) RETURNING id",
        )
        .bind(now_ms())
        .bind(owner::this_process())
        .fetch_one(&self.pool)
        .await
        .map_err(q("starting a sweep"))?;
        let id = SweepId(row.try_get(0).map_err(q("reading the new sweep id"))?);
        info!(sweep = %id, "sweep started");
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
        sqlx::query(
            "UPDATE sweeps SET finished_ms = $1,
                created = (SELECT CAST(COALESCE(SUM(s.created), 0) AS BIGINT)
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
                          FROM listing_errors e WHERE e.sweep_id = sweeps.id)
             WHERE id = $2",
        )
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

    /// Newest first.
    pub async fn sweeps(&self, limit: u32) -> Result<Vec<SweepRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, started_ms, finished_ms, status, created, modified, deleted, unchanged,
                    ephemeral_updates, errors
             FROM sweeps ORDER BY id DESC LIMIT $1",
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
                let status: String = r.try_get(3).map_err(q(what))?;
                Ok(SweepRecord {
                    id: SweepId(r.try_get(0).map_err(q(what))?),
                    started_ms: r.try_get(1).map_err(q(what))?,
                    finished_ms: r.try_get(2).map_err(q(what))?,
                    status: SweepStatus::parse(&status)?,
                    created: u64_of(r.try_get(4).map_err(q(what))?),
                    modified: u64_of(r.try_get(5).map_err(q(what))?),
                    deleted: u64_of(r.try_get(6).map_err(q(what))?),
                    unchanged: u64_of(r.try_get(7).map_err(q(what))?),
                    ephemeral_updates: u64_of(r.try_get(8).map_err(q(what))?),
                    errors: u64_of(r.try_get(9).map_err(q(what))?),
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
                let retries: i64 = r.try_get(5).map_err(q(what))?;
                Ok(ListingError {
                    sweep_id: SweepId(r.try_get(0).map_err(q(what))?),
                    account_id: r.try_get(1).map_err(q(what))?,
                    region: r.try_get(2).map_err(q(what))?,
                    resource_type: r.try_get(3).map_err(q(what))?,
                    error: r.try_get(4).map_err(q(what))?,
                    retries: u32::try_from(retries).unwrap_or(u32::MAX),
                    at_ms: r.try_get(6).map_err(q(what))?,
                })
            })
            .collect()
    }

    /// Current items matching `filter`, ordered by item id.
    pub async fn current_items(&self, filter: &ItemFilter) -> Result<Vec<StoredItem>, StoreError> {
        let mut sql = String::from(ITEM_SELECT);
        let mut args: Vec<String> = Vec::new();
        for (column, value) in [
            ("resource_type", &filter.resource_type),
            ("account_id", &filter.account_id),
            ("region", &filter.region),
        ] {
            if let Some(v) = value {
                args.push(v.clone());
                sql.push_str(&format!(" AND i.{column} = ${}", args.len()));
            }
        }
        if let Some(name) = &filter.name_contains {
            let escaped = name
                .to_lowercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            args.push(format!("%{escaped}%"));
            sql.push_str(&format!(
                " AND LOWER(i.resource_name) LIKE ${} ESCAPE '\\'",
                args.len()
            ));
        }
        if !filter.include_deleted {
            sql.push_str(" AND i.deleted = 0");
        }
        sql.push_str(" ORDER BY i.id");
        let paged = filter.limit.is_some() || filter.offset > 0;
        if paged {
            sql.push_str(&format!(
                " LIMIT ${} OFFSET ${}",
                args.len() + 1,
                args.len() + 2
            ));
        }
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for a in args {
            query = query.bind(a);
        }
        if paged {
            // No portable "no limit" keyword: SQLite wants -1, PostgreSQL ALL.
            let limit = filter
                .limit
                .map_or(i64::MAX, |l| i64::try_from(l).unwrap_or(i64::MAX));
            query = query
                .bind(limit)
                .bind(i64::try_from(filter.offset).unwrap_or(i64::MAX));
        }
        let rows = query
            .fetch_all(&self.pool)
            .await
            .map_err(q("listing current items"))?;
        rows.iter().map(stored_item).collect()
    }

    /// The item with this ARN: the live one if any, else the most recently changed.
    pub async fn item_by_arn(&self, arn: &str) -> Result<Option<StoredItem>, StoreError> {
        let sql = format!(
            "{ITEM_SELECT} AND i.arn = $1 ORDER BY i.deleted, i.last_changed_ms DESC, i.id DESC LIMIT 1"
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(arn)
            .fetch_optional(&self.pool)
            .await
            .map_err(q("looking an item up by ARN"))?;
        row.as_ref().map(stored_item).transpose()
    }

    /// The document of the revision before `revision_id` of an item: what a modification
    /// changed from.
    pub async fn previous_document(
        &self,
        item_id: i64,
        revision_id: i64,
    ) -> Result<Option<Value>, StoreError> {
        let row = sqlx::query(
            "SELECT document FROM revisions WHERE item_id = $1 AND id < $2
             ORDER BY id DESC LIMIT 1",
        )
        .bind(item_id)
        .bind(revision_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(q("reading the previous revision"))?;
        let Some(row) = row else { return Ok(None) };
        let text: String = row.try_get(0).map_err(q("reading the previous revision"))?;
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| StoreError::Corrupt {
                what: format!("previous revision of item {item_id}"),
                message: e.to_string(),
            })
    }

    /// Many items by store id (live or deleted), in id order; ids that do not exist are
    /// skipped. One query per [`ID_CHUNK`] ids rather than one per item.
    pub async fn items_by_ids(&self, ids: &[i64]) -> Result<Vec<StoredItem>, StoreError> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in sorted_unique(ids).chunks(ID_CHUNK) {
            let sql = format!(
                "{ITEM_SELECT} AND i.id IN ({}) ORDER BY i.id",
                placeholders(chunk.len())
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for id in chunk {
                query = query.bind(*id);
            }
            let rows = query
                .fetch_all(&self.pool)
                .await
                .map_err(q("looking items up by id"))?;
            for row in &rows {
                out.push(stored_item(row)?);
            }
        }
        Ok(out)
    }

    pub async fn item_by_id(&self, id: i64) -> Result<Option<StoredItem>, StoreError> {
        let sql = format!("{ITEM_SELECT} AND i.id = $1");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(q("looking an item up by id"))?;
        row.as_ref().map(stored_item).transpose()
    }

    /// The live item with this identity.
    pub async fn item_by_key(&self, key: &ItemKey) -> Result<Option<StoredItem>, StoreError> {
        let sql = format!(
            "{ITEM_SELECT} AND i.account_id = $1 AND i.region = $2 AND i.resource_type = $3
             AND i.resource_id = $4"
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(&key.account_id)
            .bind(&key.region)
            .bind(&key.resource_type)
            .bind(&key.resource_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(q("looking an item up by key"))?;
        row.as_ref().map(stored_item).transpose()
    }

    /// Every revision of an item, oldest first. `key` is a numeric item id or an ARN (an ARN
    /// covers every item that had it, e.g. an IAM user deleted and re-created under a new
    /// id). Unknown keys give an empty list.
    pub async fn history(&self, key: &str) -> Result<Vec<Revision>, StoreError> {
        let what = "reading item history";
        let base = "SELECT r.id, r.item_id, r.kind, r.captured_at_ms, r.sweep_id, r.durable_hash,
                           r.complete_hash, r.document
                    FROM revisions r";
        let rows = if let Ok(id) = key.trim().parse::<i64>() {
            sqlx::query(AssertSqlSafe(format!(
                "{base} WHERE r.item_id = $1 ORDER BY r.id"
            )))
            .bind(id)
            .fetch_all(&self.pool)
            .await
        } else {
            sqlx::query(AssertSqlSafe(format!(
                "{base} WHERE r.item_id IN (SELECT id FROM items WHERE arn = $1) ORDER BY r.id"
            )))
            .bind(key)
            .fetch_all(&self.pool)
            .await
        }
        .map_err(q(what))?;
        rows.iter()
            .map(|r| {
                let id: i64 = r.try_get(0).map_err(q(what))?;
                let kind: String = r.try_get(2).map_err(q(what))?;
                let document: String = r.try_get(7).map_err(q(what))?;
                Ok(Revision {
                    id,
                    item_id: r.try_get(1).map_err(q(what))?,
                    kind: ChangeKind::parse(&kind)?,
                    captured_at_ms: r.try_get(3).map_err(q(what))?,
                    sweep_id: SweepId(r.try_get(4).map_err(q(what))?),
                    durable_hash: r.try_get(5).map_err(q(what))?,
                    complete_hash: r.try_get(6).map_err(q(what))?,
                    document: serde_json::from_str(&document).map_err(|e| StoreError::Corrupt {
                        what: format!("revision {id}"),
                        message: e.to_string(),
                    })?,
                })
            })
            .collect()
    }

    /// Number of stored items and revisions (figures for benchmarks and status output).
    pub async fn counts(&self) -> Result<(u64, u64), StoreError> {
        let row = sqlx::query(
            "SELECT (SELECT CAST(COUNT(*) AS BIGINT) FROM items),
                    (SELECT CAST(COUNT(*) AS BIGINT) FROM revisions)",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(q("counting rows"))?;
        let items: i64 = row.try_get(0).map_err(q("counting rows"))?;
        let revisions: i64 = row.try_get(1).map_err(q("counting rows"))?;
        Ok((u64_of(items), u64_of(revisions)))
    }
}

const SWEEP_SELECT_BY_ID: &str =
    "SELECT id, started_ms, finished_ms, status, created, modified, deleted, unchanged,
            ephemeral_updates, errors
     FROM sweeps WHERE id = $1";

/// Items joined to their current revision; callers append `AND …` conditions.
/// Ids bound per `IN (...)` query: well under SQLite's and PostgreSQL's parameter limits.
const ID_CHUNK: usize = 500;

fn sorted_unique(ids: &[i64]) -> Vec<i64> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// `$1, $2, …, $n`.
fn placeholders(n: usize) -> String {
    (1..=n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

const ITEM_SELECT: &str =
    "SELECT i.id, i.current_revision_id, i.deleted, i.last_changed_ms, r.document
     FROM items i JOIN revisions r ON r.id = i.current_revision_id
     WHERE 1 = 1";

fn stored_item(r: &AnyRow) -> Result<StoredItem, StoreError> {
    let what = "reading an item row";
    let id: i64 = r.try_get(0).map_err(q(what))?;
    let document: String = r.try_get(4).map_err(q(what))?;
    let corrupt = |message: String| StoreError::Corrupt {
        what: format!("document of item {id}"),
        message,
    };
    let value: Value = serde_json::from_str(&document).map_err(|e| corrupt(e.to_string()))?;
    let item =
        Item::from_envelope(&value).map_err(|(field, msg)| corrupt(format!("{field}: {msg}")))?;
    let deleted: i64 = r.try_get(2).map_err(q(what))?;
    Ok(StoredItem {
        id,
        item,
        revision_id: r.try_get(1).map_err(q(what))?,
        deleted: deleted != 0,
        last_changed_ms: r.try_get(3).map_err(q(what))?,
    })
}

#[async_trait::async_trait]
impl crate::services::items::ItemSource for Store {
    async fn get_by_arn(&self, arn: &str) -> Result<Option<Item>, String> {
        Ok(self
            .item_by_arn(arn)
            .await
            .map_err(|e| e.to_string())?
            .filter(|s| !s.deleted)
            .map(|s| s.item))
    }

    async fn get(
        &self,
        account_id: &str,
        region: &str,
        resource_type: &str,
        resource_id: &str,
    ) -> Result<Option<Item>, String> {
        let key = ItemKey {
            account_id: account_id.into(),
            region: region.into(),
            resource_type: resource_type.into(),
            resource_id: resource_id.into(),
        };
        Ok(self
            .item_by_key(&key)
            .await
            .map_err(|e| e.to_string())?
            .filter(|s| !s.deleted)
            .map(|s| s.item))
    }

    async fn list(
        &self,
        resource_type: &str,
        account_id: Option<&str>,
        offset: u32,
        limit: u32,
    ) -> Result<Vec<Item>, String> {
        let filter = ItemFilter {
            resource_type: Some(resource_type.into()),
            account_id: account_id.map(str::to_string),
            offset: u64::from(offset),
            limit: Some(u64::from(limit.min(1000))),
            ..ItemFilter::default()
        };
        Ok(self
            .current_items(&filter)
            .await
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(|s| s.item)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_static<T: Send + 'static>(_: &T) {}

    /// The sweep runs scopes as futures built from closures over borrowed data and spawns the
    /// whole thing: the store's futures must stay `Send` under higher-ranked lifetimes.
    #[test]
    fn futures_are_send_when_spawned_from_closures() {
        async fn each(store: &Store, scopes: &[Scope]) -> Result<u64, StoreError> {
            let sweep = store.begin_sweep().await?;
            let jobs = scopes.iter().map(|scope| async move {
                let s = store
                    .apply_listing(sweep, scope, Listing::Complete(Vec::new()))
                    .await?;
                store.current_items(&ItemFilter::default()).await?;
                store.history(&scope.account_id).await?;
                Ok::<u64, StoreError>(s.created)
            });
            let mut total = 0;
            for r in futures::future::join_all(jobs).await {
                total += r?;
            }
            store.finish_sweep(sweep).await?;
            Ok(total)
        }
        let task = async {
            let store = Store::open("sqlite::memory:").await?;
            let scopes = vec![Scope {
                account_id: "123456789012".into(),
                region: "us-east-1".into(),
                resource_type: "AWS::S3::Bucket".into(),
            }];
            each(&store, &scopes).await
        };
        assert_send_static(&task);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        assert_eq!(rt.block_on(task).expect("in-memory store works"), 0);
    }

    #[test]
    fn urls() {
        assert_eq!(sqlite_path("sqlite:///var/lib/s.db"), Some("/var/lib/s.db"));
        assert_eq!(sqlite_path("sqlite:rel/s.db?mode=rwc"), Some("rel/s.db"));
        assert_eq!(sqlite_path("sqlite://"), None);
        assert_eq!(sqlite_path("postgres://x"), None);
        assert_eq!(
            redact("postgres://simian:secret@db:5432/x"),
            "postgres://simian:***@db:5432/x"
        );
    }
}
