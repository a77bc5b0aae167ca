//! A fresh PostgreSQL database per end-to-end test, on the server `SIMIAN_TEST_POSTGRES_URL`
//! names (scripts/test.sh starts one). Without it the PostgreSQL variants skip locally and fail
//! when `CI` is set: both backends are mandatory in CI.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};

use sqlx::Connection;

pub const PG_ENV: &str = "SIMIAN_TEST_POSTGRES_URL";

pub struct PgDatabase {
    admin: String,
    name: String,
    /// The database's own URL, for `[storage] url`.
    pub url: String,
}

/// `postgres://…/db?opts` with another database name.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.find('?') {
        Some(i) => (&url[..i], &url[i..]),
        None => (url, ""),
    };
    let host_start = base.find("://").map_or(0, |i| i + 3);
    let cut = base[host_start..]
        .find('/')
        .map_or(base.len(), |i| host_start + i);
    format!("{}/{name}{query}", &base[..cut])
}

impl PgDatabase {
    /// None (after saying so) when no server is configured outside CI.
    pub async fn create(test: &str) -> Option<PgDatabase> {
        let Ok(admin) = std::env::var(PG_ENV) else {
            if std::env::var_os("CI").is_some() {
                panic!("{PG_ENV} is not set but CI is: the PostgreSQL tests are mandatory in CI");
            }
            eprintln!("skipping the PostgreSQL variant of {test}: set {PG_ENV} to run it");
            return None;
        };
        static SEQ: AtomicUsize = AtomicUsize::new(0);
        let name: String = format!(
            "simian_e2e{}_{}_{test}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        )
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(63)
        .collect::<String>()
        .to_ascii_lowercase();
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(&admin)
            .await
            .expect("connect to PostgreSQL");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("create the test database");
        conn.close().await.expect("close");
        Some(PgDatabase {
            url: with_database(&admin, &name),
            admin,
            name,
        })
    }

    /// Drop the database (call at the end of a passing test; a failing one leaves it to look at).
    pub async fn drop_database(self) {
        drop_test_database(&self.admin, &self.name).await;
    }
}

/// `DROP DATABASE … WITH (FORCE)` for a test database, retried while PostgreSQL refuses
/// because a backend the test role may not terminate (an autovacuum worker) is connected; such
/// a worker leaves within moments. A database still there after that is left behind with a
/// warning: the test itself passed, and a leftover database harms nothing.
pub async fn drop_test_database(admin: &str, name: &str) {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(admin)
        .await
        .expect("connect to PostgreSQL");
    let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
    for attempt in 1..=40 {
        match sqlx::raw_sql(sqlx::AssertSqlSafe(sql.clone()))
            .execute(&mut conn)
            .await
        {
            Ok(_) => break,
            Err(e) if e.to_string().contains("pg_signal_backend") && attempt < 40 => {
                tokio::time::sleep(std::time::Duration::from_millis(250)).await;
            }
            Err(e) if e.to_string().contains("pg_signal_backend") => {
                eprintln!("leaving test database {name} behind: {e}");
            }
            Err(e) => panic!("{sql}: {e}"),
        }
    }
    let _ = conn.close().await;
}

/// Run an end-to-end test body with the URL of a fresh database, dropped when the body passes;
/// skipped (or failed, in CI) like [`PgDatabase::create`].
pub async fn on_postgres<F, Fut>(test: &str, body: F)
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = ()>,
{
    if let Some(db) = PgDatabase::create(test).await {
        body(db.url.clone()).await;
        db.drop_database().await;
    }
}
