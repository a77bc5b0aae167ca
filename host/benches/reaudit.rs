//! `cargo bench -p simian --bench reaudit`: re-audit of 100,000 stored items after a plugin is
//! loaded, end to end (read from the store, audit in Wasm, write the changed issues), on SQLite
//! and — when `SIMIAN_TEST_POSTGRES_URL` names a server — on PostgreSQL (a fresh database,
//! dropped afterwards). Prints wall time (target ≤ 5 s on SQLite), the plugin's own time and
//! peak memory from its counters.

#[path = "support/mod.rs"]
mod support;

use std::sync::Arc;
use std::time::Instant;

use simian::config::Config;
use simian::item::Item;
use simian::services::HostServices;
use simian::store::{Listing, Scope, Store};

const ITEMS: usize = 100_000;

fn sg(i: usize) -> Item {
    // About 1 KB of configuration; one group in a hundred is open to the world on 22.
    let open = i.is_multiple_of(100);
    let rules: Vec<serde_json::Value> = (0..6)
        .map(|r| {
            let cidr = if open && r == 0 {
                "0.0.0.0/0".to_string()
            } else {
                format!("10.{}.{}.0/24", r, i % 250)
            };
            serde_json::json!({"ipProtocol": "tcp", "fromPort": 20 + r * 2, "toPort": 22 + r * 2,
                "ipv4Ranges": [{"cidrIp": cidr, "description": "rule"}], "ipv6Ranges": [],
                "userIdGroupPairs": [], "prefixListIds": []})
        })
        .collect();
    let id = format!("sg-{i:08}");
    Item {
        resource_type: "AWS::EC2::SecurityGroup".into(),
        resource_id: id.clone(),
        resource_name: format!("group-{i}"),
        arn: format!("arn:aws:ec2:us-east-1:123456789012:security-group/{id}"),
        account_id: "123456789012".into(),
        region: "us-east-1".into(),
        capture_time: "2026-11-22T00:00:00Z".into(),
        configuration: serde_json::json!({"groupId": id, "groupName": format!("group-{i}"),
            "ownerId": "123456789012", "vpcId": "vpc-0123456789abcdef0",
            "ipPermissions": rules, "ipPermissionsEgress": []})
        .to_string(),
        supplementary_configuration: "{}".into(),
        tags: vec![("env".into(), "bench".into())],
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let wasm = support::plugin_wasm("sg-internet-accessible");
    let dir = tempfile::tempdir().expect("tempdir");
    let sqlite = format!("sqlite://{}/data/simian.db", dir.path().display());
    let mut results = vec![("SQLite", run(&wasm, dir.path(), &sqlite).await)];
    match std::env::var("SIMIAN_TEST_POSTGRES_URL") {
        Ok(admin) => {
            let (url, db) = fresh_postgres(&admin).await;
            let pg_dir = tempfile::tempdir().expect("tempdir");
            results.push(("PostgreSQL", run(&wasm, pg_dir.path(), &url).await));
            drop_postgres(&admin, &db).await;
        }
        Err(_) => println!("PostgreSQL skipped: set SIMIAN_TEST_POSTGRES_URL to include it"),
    }
    println!("\nbackend      first re-audit   second re-audit");
    for (name, (first, second)) in results {
        println!("{name:<12} {first:>12.2} s   {second:>13.2} s");
    }
}

/// A new, empty database on the server `admin` points at: (its URL, its name).
async fn fresh_postgres(admin: &str) -> (String, String) {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let name = format!("simian_bench_{}", std::process::id());
    let mut conn = sqlx::AnyConnection::connect(admin).await.expect("postgres");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .expect("create database");
    conn.close().await.expect("close");
    let (base, query) = admin.split_once('?').map_or((admin, ""), |(b, q)| (b, q));
    let cut = base.rfind('/').expect("database in url");
    let query = if query.is_empty() {
        String::new()
    } else {
        format!("?{query}")
    };
    (format!("{}/{name}{query}", &base[..cut]), name)
}

async fn drop_postgres(admin: &str, name: &str) {
    use sqlx::Connection;
    let mut conn = sqlx::AnyConnection::connect(admin).await.expect("postgres");
    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name}"
    )))
    .execute(&mut conn)
    .await;
    let _ = conn.close().await;
}

/// Seed, load the rule, re-audit twice; the two wall times in seconds.
async fn run(wasm: &[u8], dir: &std::path::Path, url: &str) -> (f64, f64) {
    let workspace = support::workspace();
    std::fs::write(
        dir.join("simian.toml"),
        format!("data_dir = \"data\"\n[storage]\nurl = \"{url}\"\n[plugins]\ndir = \"plugins\"\n"),
    )
    .expect("config");
    let config = Arc::new(Config::load(&dir.join("simian.toml")).expect("config"));
    println!(
        "\n== {}",
        if url.starts_with("postgres") {
            "PostgreSQL"
        } else {
            "SQLite"
        }
    );
    let store = Store::open(&config.storage.url).await.expect("store");
    let started = Instant::now();
    let sweep = store.begin_sweep().await.expect("sweep");
    let scope = Scope {
        account_id: "123456789012".into(),
        region: "us-east-1".into(),
        resource_type: "AWS::EC2::SecurityGroup".into(),
    };
    store
        .apply_listing(
            sweep,
            &scope,
            Listing::Complete((0..ITEMS).map(sg).collect()),
        )
        .await
        .expect("seed");
    store.finish_sweep(sweep).await.expect("finish");
    println!(
        "seeded {ITEMS} security groups in {:.2} s",
        started.elapsed().as_secs_f64()
    );

    let plugin_dir = config.plugins.dir.join("sg-internet-accessible");
    std::fs::create_dir_all(&plugin_dir).expect("dir");
    std::fs::write(plugin_dir.join("sg-internet-accessible.wasm"), wasm).expect("wasm");
    std::fs::copy(
        workspace.join("plugins/sg-internet-accessible/plugin.toml"),
        plugin_dir.join("plugin.toml"),
    )
    .expect("manifest");
    let services =
        Arc::new(HostServices::from_config(&config, Arc::new(store.clone())).expect("services"));
    let set = simian::plugin::plugin_set(config.clone(), services).expect("set");
    set.scan().await;

    // What reading the items alone costs (the re-audit reads them the same way).
    let t = Instant::now();
    let read = store
        .current_items(&simian::store::ItemFilter {
            resource_type: Some("AWS::EC2::SecurityGroup".into()),
            ..Default::default()
        })
        .await
        .expect("read");
    println!(
        "reading the {} current items alone: {:.2} s",
        read.len(),
        t.elapsed().as_secs_f64()
    );
    drop(read);

    let mut walls = Vec::new();
    for round in [
        "first re-audit (issues created)",
        "second re-audit (all still open)",
    ] {
        let before = set
            .get("sg-internet-accessible")
            .expect("plugin")
            .counters
            .snapshot();
        let t = Instant::now();
        let summary = simian::pipeline::reaudit_plugin(
            &store,
            &set,
            "sg-internet-accessible",
            config.plugins.batch_size,
            None,
        )
        .await
        .expect("re-audit");
        let wall = t.elapsed();
        let plugin = set.get("sg-internet-accessible").expect("plugin");
        let c = plugin.counters.snapshot();
        // This round's share of the plugin's counters; peak memory is the instance peak.
        println!(
            "{round}: {} items in {:.2} s (target ≤ 5 s); issues new {} still-open {}; plugin: {} calls taking {:.2} s, peak memory {:.1} MiB",
            summary.items_audited,
            wall.as_secs_f64(),
            summary.new,
            summary.still_open,
            c.calls - before.calls,
            (c.total_time_ms - before.total_time_ms) / 1000.0,
            c.peak_memory_bytes as f64 / 1048576.0
        );
        // The plugin's time is the sum of its calls; the rest of the wall time is the store
        // (reading items, writing issues) and the pipeline around the calls.
        let plugin_s = (c.total_time_ms - before.total_time_ms) / 1000.0;
        let share = (wall.as_secs_f64() - plugin_s).max(0.0) / wall.as_secs_f64();
        println!(
            "  store and pipeline share of the wall time: {:.0}% (target ≤ 33%: {})",
            share * 100.0,
            if share <= 1.0 / 3.0 { "met" } else { "NOT met" }
        );
        assert_eq!(summary.items_audited as usize, ITEMS);
        walls.push(wall.as_secs_f64());
    }
    store.close().await;
    (walls[0], walls[1])
}
