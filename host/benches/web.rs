//! `cargo bench -p simian --bench web`: the console's and API's server time on a large store,
//! as p50/p99 per endpoint taken in one run (never asserted: the machines are noisy).
//!
//! Seeds 100,000 items (four types), 20,000 open issues over ten checks, and one item with 200
//! revisions; serves the real router on loopback and times requests with a bearer token:
//! the items list (a page, a filtered page, a deep keyset page), the issues grouped by check,
//! an issue page, the item page with 200 revisions, and the CSV export of all 100k items.
//! Runs on SQLite, and on PostgreSQL too when `SIMIAN_TEST_POSTGRES_URL` is set.

#[path = "support/pg.rs"]
mod pg;

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use simian::item::Item;
use simian::store::{AuditedBy, FoundIssue, Listing, Scope, Store};

const ACCOUNT: &str = "123456789012";
const ITEMS: usize = 100_000;
const ISSUES: usize = 20_000;
const REVISIONS: usize = 200;
const RUNS: usize = 60;
const TYPES: [&str; 4] = [
    "AWS::IAM::User",
    "AWS::IAM::Role",
    "AWS::S3::Bucket",
    "AWS::EC2::SecurityGroup",
];

fn region_of(t: &str) -> &'static str {
    if simian::resource_types::is_global(t) {
        "global"
    } else {
        "us-east-1"
    }
}

fn item(t: &str, n: usize, region: &str, version: usize) -> Item {
    let id = format!(
        "{}-{n:06}",
        t.rsplit("::").next().unwrap_or("x").to_lowercase()
    );
    Item {
        resource_type: t.to_string(),
        resource_id: id.clone(),
        resource_name: id.clone(),
        arn: format!("arn:aws:{}:{region}:{ACCOUNT}:{id}", t.to_lowercase().replace("::", "-")),
        account_id: ACCOUNT.to_string(),
        region: region.to_string(),
        capture_time: "2026-11-01T12:00:00Z".to_string(),
        configuration: json!({
            "name": id, "version": version,
            "rules": [{"port": 443, "cidr": "0.0.0.0/0"}, {"port": 22 + version, "cidr": "10.0.0.0/8"}],
            "filler": (0..6).map(|k| format!("value-{n}-{k}-padding")).collect::<Vec<_>>(),
        })
        .to_string(),
        supplementary_configuration: "{}".to_string(),
        tags: vec![("team".into(), "platform".into())],
    }
}

async fn seed(store: &Store) -> i64 {
    let per_type = ITEMS / TYPES.len();
    let sweep = store.begin_sweep().await.expect("begin");
    for t in TYPES {
        let items = (0..per_type).map(|n| item(t, n, region_of(t), 0)).collect();
        let scope = Scope {
            account_id: ACCOUNT.into(),
            region: region_of(t).into(),
            resource_type: t.into(),
        };
        store
            .apply_listing(sweep, &scope, Listing::Complete(items))
            .await
            .expect("seed");
    }
    store.finish_sweep(sweep).await.expect("finish");
    // One group alone in its own region, changed in each of 200 sweeps.
    let scope = Scope {
        account_id: ACCOUNT.into(),
        region: "eu-west-1".into(),
        resource_type: "AWS::EC2::SecurityGroup".into(),
    };
    for version in 0..REVISIONS {
        let sweep = store.begin_sweep().await.expect("begin");
        let one = vec![item(
            "AWS::EC2::SecurityGroup",
            999_999,
            "eu-west-1",
            version,
        )];
        store
            .apply_listing(sweep, &scope, Listing::Complete(one))
            .await
            .expect("revision");
        store.finish_sweep(sweep).await.expect("finish");
    }
    let busy = store
        .current_items(&simian::store::ItemFilter {
            region: Some("eu-west-1".into()),
            ..Default::default()
        })
        .await
        .expect("busy item")[0]
        .id;
    // 20,000 open issues over the first items, ten checks.
    let ids: Vec<i64> = store
        .current_items(&simian::store::ItemFilter {
            limit: Some(ISSUES as u64),
            ..Default::default()
        })
        .await
        .expect("items")
        .iter()
        .map(|s| s.id)
        .collect();
    let by = AuditedBy {
        plugin: "bench-rules".into(),
        version: "1.0.0".into(),
        generation: 1,
    };
    let found: Vec<Vec<FoundIssue>> = (0..ISSUES)
        .map(|n| {
            vec![FoundIssue {
                check_id: format!("check-{}", n % 10),
                title: format!("Bench check {}", n % 10),
                score: (n % 10) as u32 + 1,
                notes: format!("evidence {n}"),
                remediation: None,
                disabled: false,
            }]
        })
        .collect();
    for chunk in ids
        .iter()
        .zip(found.iter())
        .collect::<Vec<_>>()
        .chunks(2000)
    {
        let batch: Vec<(i64, &[FoundIssue])> =
            chunk.iter().map(|(id, f)| (**id, f.as_slice())).collect();
        store.record_audits(&by, &batch).await.expect("issues");
    }
    busy
}

struct Timing {
    name: String,
    p50: Duration,
    p99: Duration,
    target_ms: u64,
}

async fn time(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    name: &str,
    path: &str,
    target_ms: u64,
) -> Timing {
    let mut samples = Vec::with_capacity(RUNS);
    for run in 0..RUNS {
        let started = Instant::now();
        let r = client
            .get(format!("{base}{path}"))
            .bearer_auth(token)
            .send()
            .await
            .expect("request");
        assert!(r.status().is_success(), "{path}: {}", r.status());
        let _ = r.bytes().await.expect("body");
        samples.push(started.elapsed());
        if run == 0 {
            eprintln!(
                "    {name}: first {:.1} ms",
                started.elapsed().as_secs_f64() * 1000.0
            );
        }
    }
    samples.sort();
    eprintln!(
        "    {name}: p50 {:.1} ms",
        samples[RUNS / 2].as_secs_f64() * 1000.0
    );
    Timing {
        name: name.to_string(),
        p50: samples[RUNS / 2],
        p99: samples[(RUNS * 99 / 100).min(RUNS - 1)],
        target_ms,
    }
}

async fn run(url: &str, label: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = simian::config::Config::parse(
        &format!(
            "data_dir = \"{}\"\n[storage]\nurl = \"{url}\"\n[web]\nlisten = \"127.0.0.1:0\"\n",
            dir.path().display()
        ),
        None,
    )
    .expect("config");
    let web = config.web.clone().expect("web");
    let runtime = Arc::new(
        simian::runtime::Runtime::open(config, simian::runtime::StoreAccess::Writer, None)
            .await
            .expect("runtime"),
    );
    let store = runtime.store().expect("store").clone();
    let started = Instant::now();
    let busy = seed(&store).await;
    eprintln!("  seeded in {:.1} s", started.elapsed().as_secs_f64());
    store.add_user("bench", "viewer", None).await.expect("user");
    let (token, hash) = simian::users::new_secret(simian::users::TOKEN_PREFIX).expect("token");
    store.add_token("bench", &hash, None).await.expect("token");
    let server = simian::web::serve(runtime.clone(), web)
        .await
        .expect("serve");
    let base = format!("http://{}", server.addr);
    let client = reqwest::Client::new();
    // Warm the pool and the store's caches once.
    let _ = time(&client, &base, &token, "warm", "/api/v1/items", 0).await;
    let deep = ITEMS as i64 - 200;
    // (what, path, target p99 in ms)
    let endpoints = [
        ("items page (50)", "/api/v1/items".to_string(), 200),
        (
            "items: type + min score",
            "/api/v1/items?type=AWS::S3::Bucket&min_score=5".into(),
            200,
        ),
        (
            "items: deep keyset page",
            format!("/api/v1/items?cursor={deep}"),
            200,
        ),
        (
            "items: name substring",
            "/api/v1/items?q=role-0123".into(),
            200,
        ),
        (
            "issues grouped by check",
            "/api/v1/issues/groups".into(),
            200,
        ),
        ("issues page (50)", "/api/v1/issues".into(), 200),
        (
            "item page, 200 revisions",
            format!("/api/v1/items/{busy}"),
            100,
        ),
    ];
    let mut timings = Vec::new();
    for (name, path, target) in &endpoints {
        timings.push(time(&client, &base, &token, name, path, *target).await);
    }
    println!("{label}: p50 / p99 per endpoint ({RUNS} requests each, loopback)");
    for t in &timings {
        let met = if t.p99.as_millis() as u64 <= t.target_ms {
            "met"
        } else {
            "NOT met"
        };
        println!(
            "  {:<28} {:>8.1} ms {:>8.1} ms   target p99 <= {} ms: {met}",
            t.name,
            t.p50.as_secs_f64() * 1000.0,
            t.p99.as_secs_f64() * 1000.0,
            t.target_ms
        );
    }
    let started = Instant::now();
    let body = client
        .get(format!("{base}/api/v1/export/items.csv"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("export")
        .bytes()
        .await
        .expect("body");
    let took = started.elapsed();
    let rows = body.iter().filter(|b| **b == b'\n').count() - 1;
    assert_eq!(rows, ITEMS + 1, "every item exported");
    let rate = rows as f64 / took.as_secs_f64();
    println!(
        "  export of {rows} items as CSV: {:.2} s, {:.0} items/s ({} MB)   target >= 50,000 items/s: {}",
        took.as_secs_f64(),
        rate,
        body.len() / 1_000_000,
        if rate >= 50_000.0 { "met" } else { "NOT met" }
    );
    drop(server);
    store.close().await;
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let dir = tempfile::tempdir().expect("tempdir");
        eprintln!("SQLite…");
        run(
            &format!("sqlite://{}/bench.db", dir.path().display()),
            "SQLite",
        )
        .await;
        if let Ok(admin) = std::env::var("SIMIAN_TEST_POSTGRES_URL") {
            sqlx::any::install_default_drivers();
            let name = format!("simian_webbench_{}", std::process::id());
            pg::scratch_postgres(&admin, &name, true).await;
            eprintln!("PostgreSQL…");
            run(&pg::with_database(&admin, &name), "PostgreSQL").await;
            pg::scratch_postgres(&admin, &name, false).await;
        }
    });
}
