//! The configuration-history store: items, their revisions, sweeps and listing errors, on
//! SQLite (default) or PostgreSQL through one code path (sqlx `Any`, runtime queries).
//!
//! Owns deciding what a listing changed (created, modified, ephemeral-only, deleted) and
//! recording it atomically per scope, and answering history queries. This file holds the
//! connection and what every part shares; `sweeps`, `apply` (with `events`), `items`, `issues` (with `issue_list` and
//! `justify`), `outbox` and `users` each own their tables' queries; `browse` holds the console's read-only queries,
//! `at_time` the same history read as of a past moment. It must never call AWS
//! or judge items, and never delete anything on a failed listing: absence in a partial
//! listing proves nothing.
//!
//! Portability rules the SQL here follows: `$n` placeholders everywhere (PostgreSQL rejects
//! `?`), times as BIGINT unix milliseconds, flags as INTEGER 0/1, JSON as TEXT.

mod apply;
mod at_time;
mod at_time_list;
mod browse;
mod events;
mod hash;
mod issue_list;
mod issues;
mod items;
mod justify;
mod nodelay;
mod outbox;
mod owner;
mod plan;
mod revision_scan;
mod schema;
mod shadow;
mod sweeps;
mod users;

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::{Any, AnyPool, Row, Transaction};
use tracing::{debug, info, warn};

pub use apply::{Change, ChangeKind, ItemKey, Listing, Refresh, Scope, ScopeSummary};
pub use at_time::IssueEvent;
pub use at_time_list::ItemAt;
pub use browse::{DayPoint, IssueGroup, ItemSummary, ListingAge, ScopeHealth, ScoreCell};
pub use hash::{complete_hash, durable_hash};
pub use issue_list::{IssueFilter, IssueRow, IssueState};
pub use issues::{AuditedBy, FoundIssue, IssueChange, Justification, StoredIssue, Transition};
pub use items::{ItemFilter, Revision, StoredItem};
pub use justify::{Actor, IssueAction};
pub use outbox::{OutboxEntry, OutboxStats};
pub use revision_scan::{RevisionScan, ScannedRevision};
pub use schema::CURRENT_VERSION as SCHEMA_VERSION;
pub use schema::REVISIONS_AT_INDEX;
pub use simian_model::actor::Via;
// History is read revision by revision; what changed between two is the shared diff.
pub use shadow::{MAX_SHADOW_ENTRIES, ShadowChange, ShadowEntry, ShadowRun, ShadowState};
pub use simian_model::diff::{DiffEntry, DiffOp, diff};
pub use sweeps::{ListingError, SweepId, SweepRecord, SweepStatus};
pub use users::{SessionRow, TokenRow, UserRow};

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
    #[error("{0}")]
    Task(String),
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
    // Long because opening differs per backend (SQLite file, WAL and pool sizing; PostgreSQL
    // socket options) and then migrates; each branch is straight-line setup.
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
                // A pragma's one column is named after it; read it by position.
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

    /// Whether the database answers (readiness checks).
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1 AS one")
            .fetch_one(&self.pool)
            .await
            .map_err(q("reaching the store"))?;
        Ok(())
    }

    /// Close the pool; pending work finishes first.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub(super) async fn write_guard(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match self.backend {
            Backend::Sqlite => Some(self.write_lock.lock().await),
            Backend::Postgres => None,
        }
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
