//! `cargo bench -p simian --bench store`: the history store's sweep cost, as figures taken in
//! one run (the machines are noisy; compare within a run).
//!
//! Seeds 100,000 items (~1 KB each, four resource types, four scopes) in a first sweep, then
//! times a second sweep in which 1% of the items changed durably and another 1% only in
//! ephemeral fields. The second sweep must write exactly the changes. Runs on SQLite, and on
//! PostgreSQL too when `SIMIAN_TEST_POSTGRES_URL` is set (a scratch database is created and
//! dropped).

#[path = "support/pg.rs"]
mod pg;

use std::time::{Duration, Instant};

use serde_json::json;
use simian::item::Item;
use simian::store::{Listing, Scope, Store};

const ACCOUNT: &str = "123456789012";
const ITEMS: usize = 100_000;
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

/// Item `n` of type `t`: `durable` and `eph` are versions of a durable and an ephemeral field.
fn item(t: &str, n: usize, durable: u32, eph: u32) -> Item {
    let id = format!(
        "{}-{n:06}",
        t.rsplit("::").next().unwrap_or("x").to_lowercase()
    );
    let filler: Vec<String> = (0..6).map(|k| format!("value-{n}-{k}-padding")).collect();
    let configuration = match t {
        "AWS::IAM::User" => json!({
            "userName": id, "userId": format!("AIDA{n:012}"), "path": "/staff/",
            "createDate": "2023-01-01T00:00:00Z", "passwordLastUsed": format!("2024-05-{:02}", 1 + eph % 28),
            "accessKeys": [
                {"accessKeyId": format!("AKIA{n:012}"), "status": "Active",
                 "createDate": "2023-01-01T00:00:00Z",
                 "lastUsedDate": format!("2024-05-01T00:{:02}:00Z", eph % 60),
                 "lastUsedService": "s3", "lastUsedRegion": "us-east-1"}
            ],
            "attachedManagedPolicies": [{"policyName": "ReadOnly", "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}],
            "groupList": ["staff", "developers"],
            "mfaDevices": [{"serialNumber": format!("arn:aws:iam::{ACCOUNT}:mfa/{id}")}],
            "version": durable, "filler": filler,
        }),
        "AWS::IAM::Role" => json!({
            "roleName": id, "roleId": format!("AROA{n:012}"), "path": "/service/",
            "assumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
            "roleLastUsed": {"lastUsedDate": format!("2024-05-01T00:{:02}:00Z", eph % 60), "region": "us-east-1"},
            "maxSessionDuration": 3600 + durable, "filler": filler,
        }),
        "AWS::S3::Bucket" => json!({
            "name": id, "creationDate": "2023-01-01T00:00:00Z",
            "versioning": {"status": if durable.is_multiple_of(2) { "Enabled" } else { "Suspended" }},
            "publicAccessBlock": {"blockPublicAcls": true, "ignorePublicAcls": true,
                                  "blockPublicPolicy": true, "restrictPublicBuckets": true},
            "encryption": {"rules": [{"sseAlgorithm": "aws:kms"}]},
            "revision": durable, "filler": filler,
        }),
        _ => json!({
            "groupId": id, "groupName": format!("web-{n}"), "vpcId": "vpc-0123456789",
            "description": "web servers",
            "ipPermissions": [
                {"ipProtocol": "tcp", "fromPort": 443, "toPort": 443, "ipRanges": ["0.0.0.0/0"]},
                {"ipProtocol": "tcp", "fromPort": 22, "toPort": 22 + durable, "ipRanges": ["10.0.0.0/8"]}
            ],
            "ipPermissionsEgress": [{"ipProtocol": "-1", "ipRanges": ["0.0.0.0/0"]}],
            "filler": filler,
        }),
    };
    Item {
        resource_type: t.to_string(),
        resource_id: id.clone(),
        resource_name: id.clone(),
        arn: format!(
            "arn:aws:{}::{ACCOUNT}:{id}",
            t.to_lowercase().replace("::", "-")
        ),
        account_id: ACCOUNT.to_string(),
        region: region_of(t).to_string(),
        capture_time: "2024-05-01T12:00:00Z".to_string(),
        configuration: configuration.to_string(),
        supplementary_configuration: "{}".to_string(),
        tags: vec![
            ("team".into(), "platform".into()),
            ("env".into(), "prod".into()),
        ],
    }
}

fn scope(t: &str) -> Scope {
    Scope {
        account_id: ACCOUNT.into(),
        region: region_of(t).into(),
        resource_type: t.into(),
    }
}

/// The listings of one sweep. Item `n` changes durably if `n % 100 == 7` and, for the two
/// types with ephemeral paths, ephemerally if `n % 100 == 42` (1% each of the whole set).
fn listings(second: bool) -> Vec<(Scope, Vec<Item>)> {
    let per_type = ITEMS / TYPES.len();
    TYPES
        .iter()
        .enumerate()
        .map(|(ti, t)| {
            let items = (0..per_type)
                .map(|n| {
                    let durable = u32::from(second && n % 100 == 7);
                    // Ephemeral changes concentrated on the two IAM types: 2% of each = 1% of all.
                    let eph = u32::from(second && ti < 2 && n % 50 == 42);
                    item(t, n, durable, eph)
                })
                .collect();
            (scope(t), items)
        })
        .collect()
}

struct Figures {
    seed: Duration,
    second: Duration,
    rows_written: u64,
    expected_rows: u64,
    modified: u64,
    ephemeral: u64,
    unchanged: u64,
    new_revisions: u64,
}

async fn run(url: &str) -> Figures {
    let store = Store::open(url).await.expect("open store");
    let first = listings(false);
    let total: usize = first.iter().map(|(_, i)| i.len()).sum();
    assert_eq!(total, ITEMS);
    let avg = first
        .iter()
        .flat_map(|(_, items)| items.iter())
        .map(|i| i.to_envelope().to_string().len())
        .sum::<usize>()
        / ITEMS;
    eprintln!("  {ITEMS} items, ~{avg} bytes each as JSON");

    let started = Instant::now();
    let sweep = store.begin_sweep().await.expect("begin");
    for (scope, items) in first {
        store
            .apply_listing(sweep, &scope, Listing::Complete(items))
            .await
            .expect("seed");
    }
    store.finish_sweep(sweep).await.expect("finish");
    let seed = started.elapsed();
    let (_, revisions_before) = store.counts().await.expect("counts");

    let second = listings(true);
    let started = Instant::now();
    let sweep = store.begin_sweep().await.expect("begin");
    let (mut rows_written, mut modified, mut ephemeral, mut unchanged) = (0, 0, 0, 0);
    for (scope, items) in second {
        let s = store
            .apply_listing(sweep, &scope, Listing::Complete(items))
            .await
            .expect("second sweep");
        rows_written += s.rows_written;
        modified += s.modified;
        ephemeral += s.ephemeral_updates;
        unchanged += s.unchanged;
        assert_eq!((s.created, s.deleted), (0, 0));
    }
    let record = store.finish_sweep(sweep).await.expect("finish");
    let second = started.elapsed();
    let (_, revisions_after) = store.counts().await.expect("counts");
    assert_eq!(record.modified, modified);
    store.close().await;
    Figures {
        seed,
        second,
        rows_written,
        // A modification: one revision inserted + its item row. An ephemeral change: one
        // revision updated in place + its item row's complete hash.
        expected_rows: 2 * modified + 2 * ephemeral,
        modified,
        ephemeral,
        unchanged,
        new_revisions: revisions_after - revisions_before,
    }
}

fn report(name: &str, f: &Figures) {
    println!("{name}:");
    println!(
        "  seed sweep (100k created):    {:>8.2} s",
        f.seed.as_secs_f64()
    );
    println!(
        "  second sweep (1% + 1%):       {:>8.3} s   [target <= 2 s on SQLite]",
        f.second.as_secs_f64()
    );
    println!(
        "  changes: {} modified, {} ephemeral-only, {} unchanged",
        f.modified, f.ephemeral, f.unchanged
    );
    println!(
        "  rows written: {} (expected {}: {} revisions inserted + {} updated in place + {} item rows); new revisions counted in the database: {}",
        f.rows_written,
        f.expected_rows,
        f.modified,
        f.ephemeral,
        f.modified + f.ephemeral,
        f.new_revisions
    );
    assert_eq!(f.rows_written, f.expected_rows, "{name}: rows written");
    assert_eq!(f.new_revisions, f.modified, "{name}: new revisions");
    assert_eq!(f.modified, (ITEMS / 100) as u64, "{name}: 1% durable");
    assert_eq!(f.ephemeral, (ITEMS / 100) as u64, "{name}: 1% ephemeral");
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        // Hashing alone, for scale: the floor under any sweep of this size.
        let sample = listings(false);
        let started = Instant::now();
        let mut n = 0;
        for (_, items) in &sample {
            for i in items {
                n += simian::store::durable_hash(i).len();
            }
        }
        let hashing = started.elapsed();
        drop(sample);
        println!(
            "hashing 100k items (durable hash, one thread): {:.3} s ({n} hex chars)",
            hashing.as_secs_f64()
        );

        let dir = tempfile::tempdir().expect("tempdir");
        let sqlite_url = format!("sqlite://{}/bench.db", dir.path().display());
        eprintln!("SQLite…");
        let sqlite = run(&sqlite_url).await;
        report("SQLite", &sqlite);

        match std::env::var("SIMIAN_TEST_POSTGRES_URL") {
            Ok(admin) => {
                sqlx::any::install_default_drivers();
                let name = format!("simian_bench_{}", std::process::id());
                pg::scratch_postgres(&admin, &name, true).await;
                eprintln!("PostgreSQL…");
                let pg = run(&pg::with_database(&admin, &name)).await;
                pg::scratch_postgres(&admin, &name, false).await;
                report("PostgreSQL", &pg);
                println!(
                    "ratios PostgreSQL/SQLite: seed x{:.2}, second sweep x{:.2}",
                    pg.seed.as_secs_f64() / sqlite.seed.as_secs_f64(),
                    pg.second.as_secs_f64() / sqlite.second.as_secs_f64()
                );
            }
            Err(_) => println!("PostgreSQL: skipped (set SIMIAN_TEST_POSTGRES_URL)"),
        }
        println!(
            "second sweep / hashing alone (SQLite): x{:.2}",
            sqlite.second.as_secs_f64() / hashing.as_secs_f64()
        );
    });
}
