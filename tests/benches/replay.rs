//! `cargo bench -p simian-tests --bench replay [--profile dev]`: one Wasm rule (the shipped
//! `sg-internet-accessible`) replayed over 1,000,000 stored revisions (100,000 security groups
//! × 10 revisions each, ~1 KB documents, a quarter of them open to the world so findings open
//! and close all the way through) on SQLite. Target: ≤ 60 s. Prints the time, revisions per
//! second, the plugin's share and the ratio to the target, all from one run.
//! `SIMIAN_BENCH_REVISIONS` scales it down (a multiple of 10).

use std::sync::Arc;
use std::time::Instant;

use simian::plugin::candidate;
use simian::replay::{ReplayOptions, replay};
use simian::runtime::{Runtime, StoreAccess};
use simian::store::Store;
use simian_tests::{Env, deploy_shipped};
use sqlx::Connection;

const TARGET_SECONDS: f64 = 60.0;
const PER_ITEM: i64 = 10;

/// Bulk-load `items` groups with `PER_ITEM` revisions each straight into the store's tables:
/// the SQL generates the rows, so seeding a million revisions takes seconds, not minutes.
async fn seed(url: &str, items: i64) {
    Store::open(url)
        .await
        .expect("store migrates")
        .close()
        .await;
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(url).await.expect("connect");
    let base: i64 = 1_767_225_600_000; // 2026-01-01
    let last = (PER_ITEM - 1) * items;
    let statements = [
        format!(
            "INSERT INTO sweeps (id, started_ms, finished_ms, status) VALUES (1, {base}, {base}, 'complete')"
        ),
        format!(
            "INSERT INTO items (id, account_id, region, resource_type, resource_id, arn, resource_name,
                current_revision_id, durable_hash, complete_hash, deleted, first_seen_ms, last_changed_ms)
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {items})
             SELECT i, '123456789012', 'us-east-1', 'AWS::EC2::SecurityGroup', printf('sg-%08d', i),
                printf('arn:aws:ec2:us-east-1:123456789012:security-group/sg-%08d', i),
                printf('group-%d', i), {last} + i, 'h', 'h', 0, {base}, {base}
             FROM n"
        ),
        format!(
            "INSERT INTO revisions (id, item_id, sweep_id, kind, captured_at_ms, durable_hash,
                complete_hash, document, via)
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {items}),
                  k(r) AS (SELECT 0 UNION ALL SELECT r + 1 FROM k WHERE r < {PER_ITEM} - 1)
             SELECT r * {items} + i, i, 1, CASE r WHEN 0 THEN 'created' ELSE 'modified' END,
                {base} + r * 3600000 + i, 'h', 'h',
                printf('{{\"resourceType\":\"AWS::EC2::SecurityGroup\",\"resourceId\":\"sg-%08d\",\"resourceName\":\"group-%d\",\"arn\":\"arn:aws:ec2:us-east-1:123456789012:security-group/sg-%08d\",\"accountId\":\"123456789012\",\"awsRegion\":\"us-east-1\",\"configurationItemCaptureTime\":\"2026-01-01T00:00:00Z\",\"configuration\":{{\"groupId\":\"sg-%08d\",\"groupName\":\"group-%d\",\"description\":\"%s\",\"vpcId\":\"vpc-0a1b2c3d\",\"ownerId\":\"123456789012\",\"ipPermissions\":[{{\"ipProtocol\":\"tcp\",\"fromPort\":22,\"toPort\":22,\"ipv4Ranges\":[{{\"cidrIp\":\"%s\"}}],\"ipv6Ranges\":[]}},{{\"ipProtocol\":\"tcp\",\"fromPort\":443,\"toPort\":443,\"ipv4Ranges\":[{{\"cidrIp\":\"10.%d.0.0/16\"}}],\"ipv6Ranges\":[]}}],\"ipPermissionsEgress\":[{{\"ipProtocol\":\"-1\",\"ipv4Ranges\":[{{\"cidrIp\":\"0.0.0.0/0\"}}]}}]}},\"tags\":{{\"team\":\"team-%d\",\"revision\":\"%d\"}}}}',
                    i, i, i, i, i, substr(replace(hex(zeroblob(256)), '0', 'd'), 1, 400),
                    CASE WHEN (i + r) % 4 = 0 THEN '0.0.0.0/0' ELSE '10.20.0.0/16' END,
                    i % 250, i % 20, r),
                'sweep'
             FROM k, n ORDER BY r, i"
        ),
    ];
    for sql in statements {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut conn)
            .await
            .expect("seed");
    }
    let _ = conn.close().await;
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let revisions: i64 = std::env::var("SIMIAN_BENCH_REVISIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let items = revisions / PER_ITEM;
    let env = Env::new("");
    deploy_shipped(&env, "sg-internet-accessible");
    let url = env.config().storage.url.clone();
    let seeding = Instant::now();
    seed(&url, items).await;
    let seeded = seeding.elapsed().as_secs_f64();
    let db_bytes = std::fs::metadata(env.path().join("data/simian.db"))
        .map(|m| m.len())
        .unwrap_or(0);
    println!(
        "seeded {} revisions of {items} items ({:.0} MB) in {seeded:.1} s",
        items * PER_ITEM,
        db_bytes as f64 / 1e6
    );

    let runtime = Runtime::open(env.config(), StoreAccess::Reader, None)
        .await
        .expect("runtime");
    let store = runtime.store().expect("store").clone();
    let dir = env.plugins_dir().join("sg-internet-accessible");
    let plugin = Arc::new(
        candidate::load(&runtime.plugins, &dir)
            .await
            .expect("rule loads"),
    );
    let cores = std::thread::available_parallelism()
        .map(usize::from)
        .unwrap_or(1);
    let opts = ReplayOptions {
        account_id: None,
        resource_types: Vec::new(),
        since_ms: None,
        batch_size: runtime.config().plugins.batch_size,
        workers: cores,
    };
    let report = replay(&store, plugin, Arc::new(store.clone()), &opts)
        .await
        .expect("replay");
    let s = &report.summary;
    assert_eq!(
        s.revisions as i64,
        items * PER_ITEM,
        "every revision replayed"
    );
    assert_eq!(s.failed, 0, "{:?}", report.errors);
    let seconds = s.elapsed_ms as f64 / 1000.0;
    println!(
        "replayed {} revisions through {} {} ({cores} workers, batch {}): {seconds:.1} s, {:.0} revisions/s",
        s.revisions, s.plugin, s.version, opts.batch_size, s.revisions_per_second
    );
    println!(
        "time inside the plugin: {:.1} s summed over calls ({:.0}% of wall × workers); findings {} ({} still open)",
        s.plugin_ms / 1000.0,
        100.0 * s.plugin_ms / 1000.0 / (seconds * cores as f64),
        s.findings,
        s.still_open
    );
    let scaled = seconds * 1_000_000.0 / s.revisions as f64;
    println!(
        "1,000,000 revisions: {scaled:.1} s against a {TARGET_SECONDS:.0} s target: ratio {:.2} ({})",
        scaled / TARGET_SECONDS,
        if scaled <= TARGET_SECONDS {
            "met"
        } else {
            "NOT met"
        }
    );
    store.close().await;
}
