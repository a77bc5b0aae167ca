//! `cargo bench -p simian-tests --bench timetravel` (add `--profile dev` for a debug host):
//! time travel over 100,000 items × 10 revisions (~1 KB documents, 1% deleted in the last
//! sweep), bulk-inserted in SQL, on SQLite and — when `SIMIAN_TEST_POSTGRES_URL` is set —
//! PostgreSQL. Times, for a moment in the middle of the history, the store's `items_at` (the
//! SQL and parsing every document), the SQL alone, and `simian items --at T --format json`
//! end to end, beside today's `current_items` over as many documents; then the same without
//! the `revisions (item_id, captured_at_ms, id)` index, so the figures say what it buys. One
//! run, printed against the 1 s target, never asserted.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use simian::item::Item;
use simian::store::{ItemFilter, REVISIONS_AT_INDEX, Store};
use simian_tests::pg::PgDatabase;
use sqlx::AssertSqlSafe;

const ITEMS: i64 = 100_000;
const REVISIONS: i64 = 10;
const HOUR_MS: i64 = 3_600_000;
const BASE_MS: i64 = 1_764_000_000_000;
const TARGET: Duration = Duration::from_secs(1);

/// An item envelope with `__N__` (item number) and `__V__` (revision) to fill in SQL, ~1 KB.
fn template() -> String {
    let filler: Vec<String> = (0..16).map(|k| format!("rule-__N__-{k}-padding")).collect();
    let item = Item {
        resource_type: "AWS::EC2::SecurityGroup".into(),
        resource_id: "sg-__N__".into(),
        resource_name: "group-__N__".into(),
        arn: "arn:aws:ec2:us-east-1:123456789012:security-group/sg-__N__".into(),
        account_id: "123456789012".into(),
        region: "us-east-1".into(),
        capture_time: "2026-11-01T12:00:00Z".into(),
        configuration: serde_json::json!({
            "groupId": "sg-__N__", "groupName": "group-__N__", "version": "__V__",
            "ipPermissions": [
                {"ipProtocol": "tcp", "fromPort": 443, "toPort": 443,
                 "ipv4Ranges": [{"cidrIp": "10.0.0.0/8"}]}
            ],
            "filler": filler,
        })
        .to_string(),
        supplementary_configuration: "{}".into(),
        tags: vec![("team".into(), "platform".into())],
    };
    item.to_envelope().to_string()
}

/// Numbers 1..=N and revisions 0..R as recursive CTEs (both backends speak them).
fn numbers() -> String {
    format!(
        "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {ITEMS}),
              v(v) AS (SELECT 0 UNION ALL SELECT v + 1 FROM v WHERE v < {})",
        REVISIONS - 1
    )
}

async fn seed(url: &str) {
    // Opening migrates: the real schema, with its indexes.
    Store::open(url).await.expect("store").close().await;
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(url).await.expect("pool");
    let started = Instant::now();
    let mut tx = pool.begin().await.expect("begin");
    let last = REVISIONS - 1;
    let statements = [
        format!(
            "INSERT INTO sweeps (id, started_ms, finished_ms, status)
             {} SELECT v + 1, {BASE_MS} + v * {HOUR_MS}, {BASE_MS} + v * {HOUR_MS} + 1000,
                'complete' FROM v",
            numbers()
        ),
        format!(
            "INSERT INTO items (id, account_id, region, resource_type, resource_id, arn,
                resource_name, current_revision_id, durable_hash, complete_hash, deleted,
                first_seen_ms, last_changed_ms)
             {} SELECT n, '123456789012', 'us-east-1', 'AWS::EC2::SecurityGroup',
                'sg-' || CAST(n AS TEXT),
                'arn:aws:ec2:us-east-1:123456789012:security-group/sg-' || CAST(n AS TEXT),
                'group-' || CAST(n AS TEXT), {last} * {ITEMS} + n, 'd', 'c',
                CASE WHEN n % 100 = 0 THEN 1 ELSE 0 END, {BASE_MS},
                {BASE_MS} + {last} * {HOUR_MS} + n % 1000 FROM s",
            numbers()
        ),
        // Sweep by sweep, as history grows; the last sweep deletes 1% of the items.
        format!(
            "INSERT INTO revisions (id, item_id, sweep_id, kind, captured_at_ms, durable_hash,
                complete_hash, document, via)
             {} SELECT v * {ITEMS} + n, n, v + 1,
                CASE WHEN v = 0 THEN 'created'
                     WHEN v = {last} AND n % 100 = 0 THEN 'deleted' ELSE 'modified' END,
                {BASE_MS} + v * {HOUR_MS} + n % 1000, 'd', 'c',
                REPLACE(REPLACE($1, '__N__', CAST(n AS TEXT)), '__V__', CAST(v AS TEXT)),
                'sweep'
             FROM v CROSS JOIN s ORDER BY v, n",
            numbers()
        ),
    ];
    for sql in statements {
        sqlx::query(AssertSqlSafe(sql))
            .bind(template())
            .execute(&mut *tx)
            .await
            .expect("seed");
    }
    tx.commit().await.expect("commit");
    // Planner statistics, as a store that has lived a while has them.
    for table in ["sweeps", "items", "revisions"] {
        sqlx::query(AssertSqlSafe(format!("ANALYZE {table}")))
            .execute(&pool)
            .await
            .expect("analyze");
    }
    pool.close().await;
    println!(
        "  seeded {} items × {REVISIONS} revisions in {:.1} s",
        ITEMS,
        started.elapsed().as_secs_f64()
    );
}

/// The SQL alone (as `items_at` spells it per backend, documents read but not parsed): how
/// many items were live at `at`.
async fn count_at(pool: &sqlx::AnyPool, postgres: bool, at: i64) -> i64 {
    use sqlx::Row;
    let sql = if postgres {
        "SELECT CAST(COUNT(*) AS BIGINT) AS n, CAST(SUM(r.size) AS BIGINT) AS bytes
         FROM items i CROSS JOIN LATERAL (SELECT r2.id, r2.kind, LENGTH(r2.document) AS size
            FROM revisions r2 WHERE r2.item_id = i.id AND r2.captured_at_ms <= $1
            ORDER BY r2.captured_at_ms DESC, r2.id DESC LIMIT 1) r
         WHERE r.kind <> 'deleted'"
    } else {
        "SELECT CAST(COUNT(*) AS BIGINT) AS n, CAST(SUM(LENGTH(r.document)) AS BIGINT) AS bytes
         FROM (SELECT i.id, (SELECT r2.id FROM revisions r2
                WHERE r2.item_id = i.id AND r2.captured_at_ms <= $1
                ORDER BY r2.captured_at_ms DESC, r2.id DESC LIMIT 1) AS rev FROM items i) i
         JOIN revisions r ON r.id = i.rev
         WHERE r.kind <> 'deleted'"
    };
    let row = sqlx::query(sql)
        .bind(at)
        .fetch_one(pool)
        .await
        .expect("count");
    row.try_get("n").expect("n")
}

/// `simian items --at` as a whole process: `json` prints every document, `table` the
/// identities (read without documents).
fn cli_items_at(config: &std::path::Path, at: i64, format: &str) -> (Duration, usize) {
    let started = Instant::now();
    let out = Command::new(simian_tests::simian_bin())
        .args([
            "items",
            "--at",
            &at.to_string(),
            "--format",
            format,
            "--config",
        ])
        .arg(config)
        .env_remove("SIMIAN_CONFIG")
        .stderr(Stdio::inherit())
        .output()
        .expect("simian items --at");
    let elapsed = started.elapsed();
    assert!(out.status.success(), "simian items --at failed");
    let n = if format == "json" {
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        v["items"].as_array().map_or(0, Vec::len)
    } else {
        // The table's rows start with the item id.
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| {
                l.split_whitespace()
                    .next()
                    .is_some_and(|c| c.parse::<i64>().is_ok())
            })
            .count()
    };
    (elapsed, n)
}

fn line(what: &str, took: Duration, n: impl std::fmt::Display) {
    println!(
        "  {what:<44} {:>8.3} s  ({n} items)  {:.2}× the 1 s target",
        took.as_secs_f64(),
        took.as_secs_f64() / TARGET.as_secs_f64()
    );
}

async fn measure(backend: &str, url: &str, config: &std::path::Path) {
    println!("{backend}:");
    seed(url).await;
    // Mid-history: after the 5th sweep (revision 4), before the 6th.
    let at = BASE_MS + 4 * HOUR_MS + 30 * 60_000;
    let store = Store::open_reader(url).await.expect("store");
    // Build the binary now, not inside the first timed run.
    let _ = simian_tests::simian_bin();
    let pool = sqlx::AnyPool::connect(url).await.expect("pool");
    // The reference: today's listing reads and parses the same number of documents.
    let _ = store.current_items(&ItemFilter::default()).await;
    let started = Instant::now();
    let live = store
        .current_items(&ItemFilter::default())
        .await
        .expect("current items");
    line(
        "store current_items (today, reference)",
        started.elapsed(),
        live.len(),
    );
    drop(live);
    for with_index in [true, false] {
        let label = if with_index {
            format!("with {REVISIONS_AT_INDEX}")
        } else {
            format!("without {REVISIONS_AT_INDEX}")
        };
        if !with_index {
            sqlx::query(AssertSqlSafe(format!("DROP INDEX {REVISIONS_AT_INDEX}")))
                .execute(&pool)
                .await
                .expect("drop index");
        }
        // A first pass warms the caches; the second is the figure.
        let postgres = url.starts_with("postgres");
        let _ = count_at(&pool, postgres, at).await;
        let started = Instant::now();
        let n = count_at(&pool, postgres, at).await;
        line(&format!("SQL only, {label}"), started.elapsed(), n);
        let _ = store.items_at(at, &ItemFilter::default()).await;
        let started = Instant::now();
        let items = store
            .items_at(at, &ItemFilter::default())
            .await
            .expect("items_at");
        line(
            &format!("store items_at, {label}"),
            started.elapsed(),
            items.len(),
        );
        assert_eq!(items.len() as i64, ITEMS, "every item was live mid-history");
        assert!(items.iter().all(|s| s.revision_id == 4 * ITEMS + s.id));
        let started = Instant::now();
        let listed = store
            .item_identities_at(at, &ItemFilter::default())
            .await
            .expect("item_identities_at");
        line(
            &format!("store item_identities_at, {label}"),
            started.elapsed(),
            listed.len(),
        );
        assert_eq!(listed.len() as i64, ITEMS);
        for format in ["table", "json"] {
            let (took, n) = cli_items_at(config, at, format);
            assert_eq!(n as i64, ITEMS, "{format}");
            line(
                &format!("simian items --at --format {format}, {label}"),
                took,
                n,
            );
        }
    }
    sqlx::query(AssertSqlSafe(format!(
        "CREATE INDEX {REVISIONS_AT_INDEX} ON revisions (item_id, captured_at_ms, id)"
    )))
    .execute(&pool)
    .await
    .expect("re-create index");
    pool.close().await;
    store.close().await;
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("timetravel.db");
        let url = format!("sqlite://{}", db.display());
        let config = dir.path().join("simian.toml");
        let write_config = |url: &str| {
            std::fs::write(
                &config,
                format!(
                    "data_dir = \"{}\"\n[storage]\nurl = \"{url}\"\n",
                    dir.path().display()
                ),
            )
            .expect("config");
        };
        println!(
            "time travel: {ITEMS} items × {REVISIONS} revisions, items at a moment mid-history"
        );
        write_config(&url);
        measure("SQLite", &url, &config).await;
        if let Some(pg) = PgDatabase::create("timetravel_bench").await {
            write_config(&pg.url);
            measure("PostgreSQL", &pg.url, &config).await;
            pg.drop_database().await;
        }
    });
}
