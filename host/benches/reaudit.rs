//! `cargo bench -p simian --bench reaudit`: re-audit of 100,000 stored items after a plugin is
//! loaded, end to end (read from the store, audit in Wasm, write the changed issues), on SQLite.
//! Prints wall time (target ≤ 5 s), the plugin's own time and peak memory from its counters.

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
    let workspace = support::workspace();
    let wasm = support::example_plugin_wasm();

    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("simian.toml"),
        "data_dir = \"data\"\n[plugins]\ndir = \"plugins\"\n",
    )
    .expect("config");
    let config = Arc::new(Config::load(&dir.path().join("simian.toml")).expect("config"));
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
    std::fs::write(plugin_dir.join("sg-internet-accessible.wasm"), &wasm).expect("wasm");
    std::fs::copy(
        workspace.join("plugins/sg-internet-accessible/plugin.toml"),
        plugin_dir.join("plugin.toml"),
    )
    .expect("manifest");
    let services =
        Arc::new(HostServices::from_config(&config, Arc::new(store.clone())).expect("services"));
    let set = simian::plugin::plugin_set(config.clone(), services).expect("set");
    set.scan().await;

    for round in [
        "first re-audit (issues created)",
        "second re-audit (all still open)",
    ] {
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
        println!(
            "{round}: {} items in {:.2} s (target ≤ 5 s); issues new {} still-open {}; plugin calls {} taking {:.2} s in total, peak memory {:.1} MiB",
            summary.items_audited,
            wall.as_secs_f64(),
            summary.new,
            summary.still_open,
            c.calls,
            c.total_time_ms / 1000.0,
            c.peak_memory_bytes as f64 / 1048576.0
        );
        assert_eq!(summary.items_audited as usize, ITEMS);
    }
    store.close().await;
}
