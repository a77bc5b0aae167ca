//! `cargo bench -p simian --bench plugins`: the plugin runtime's figures, as ratios taken in one
//! run (the machines are noisy; compare within a run, not across runs).
//!
//! - the example rule as a Wasm plugin vs the same rule compiled natively, 1 KB and 50 KB items;
//! - item-audits per second per core with batching;
//! - instantiate + empty call with the pooling allocator;
//! - hot-reload latency from file write to the new version serving, cold and cache-hit.

#[path = "support/mod.rs"]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use simian::config::Config;
use simian::item::Item;
use simian::plugin::PluginSet;
use simian::services::HostServices;
use simian::services::items::{ItemSource, MemoryItems};
use simian_plugin_sg_internet_accessible::SgInternetAccessible;
use simian_sdk::Auditor;

/// A security group whose configuration JSON is about `target_bytes` long.
fn sg_item(target_bytes: usize, n: usize) -> String {
    let mut rules = Vec::new();
    let mut i = 0;
    loop {
        let cidr = if i % 7 == 0 {
            "0.0.0.0/0".to_string()
        } else {
            format!("10.{}.{}.0/24", i % 250, (i / 250) % 250)
        };
        rules.push(serde_json::json!({
            "ipProtocol": "tcp", "fromPort": 1000 + i, "toPort": 1000 + i,
            "ipv4Ranges": [{"cidrIp": cidr, "description": "rule"}],
            "ipv6Ranges": [], "userIdGroupPairs": [], "prefixListIds": []
        }));
        i += 1;
        let config = serde_json::json!({
            "groupId": format!("sg-{n:08}"), "groupName": "bench", "ownerId": "123456789012",
            "vpcId": "vpc-0123456789abcdef0", "description": "benchmark group",
            "ipPermissions": rules, "ipPermissionsEgress": []
        });
        if config.to_string().len() >= target_bytes {
            return serde_json::json!({
                "resourceType": "AWS::EC2::SecurityGroup", "resourceId": format!("sg-{n:08}"),
                "arn": format!("arn:aws:ec2:us-east-1:123456789012:security-group/sg-{n:08}"),
                "accountId": "123456789012", "awsRegion": "us-east-1",
                "configurationItemCaptureTime": "2026-11-22T00:00:00Z",
                "configuration": config, "tags": {"env": "bench"}
            })
            .to_string();
        }
    }
}

struct Setup {
    _dir: tempfile::TempDir,
    set: Arc<PluginSet>,
    source: Arc<dyn ItemSource>,
}

async fn setup(wasm: &[u8]) -> Setup {
    setup_plugin(RULE, wasm).await
}

const RULE: &str = "sg-internet-accessible";

/// A plugin set holding the shipped plugin `id` (its plugin.toml) with `wasm` as its
/// component, compiled cold: the data directory, and so the compile cache, is new.
async fn setup_plugin(id: &str, wasm: &[u8]) -> Setup {
    let dir = tempfile::tempdir().expect("tempdir");
    let plugin_dir = dir.path().join("plugins").join(id);
    std::fs::create_dir_all(&plugin_dir).expect("mkdir");
    let manifest = std::fs::read_to_string(
        support::workspace()
            .join("plugins")
            .join(id)
            .join("plugin.toml"),
    )
    .expect("manifest");
    let wasm_name = manifest
        .parse::<toml::Table>()
        .ok()
        .and_then(|t| t.get("wasm").and_then(|w| w.as_str()).map(String::from))
        .unwrap_or_else(|| format!("{id}.wasm"));
    std::fs::write(plugin_dir.join(wasm_name), wasm).expect("write");
    std::fs::write(plugin_dir.join("plugin.toml"), manifest).expect("write");
    std::fs::write(
        dir.path().join("simian.toml"),
        "data_dir = \"data\"\n[plugins]\ndir = \"plugins\"\nmax_instances = 64\n",
    )
    .expect("config");
    let config = Arc::new(Config::load(&dir.path().join("simian.toml")).expect("config"));
    let source: Arc<dyn ItemSource> = Arc::new(MemoryItems::default());
    let services = Arc::new(HostServices::from_config(&config, source.clone()).expect("services"));
    let set = simian::plugin::plugin_set(config, services).expect("set");
    set.scan().await;
    assert!(
        set.get(id).is_some(),
        "plugin did not load: {:?}",
        set.statuses().await
    );
    Setup {
        _dir: dir,
        set,
        source,
    }
}

fn native_per_item(doc: &str, reps: usize) -> (Duration, usize) {
    let item = simian_sdk::Item::from_envelope_json(doc).expect("sdk item");
    let rule = SgInternetAccessible::new().expect("rule");
    let mut issues = 0;
    let start = Instant::now();
    for _ in 0..reps {
        issues += std::hint::black_box(rule.audit(std::hint::black_box(&item)))
            .expect("audit")
            .len();
    }
    (start.elapsed() / reps as u32, issues / reps)
}

async fn wasm_per_item(s: &Setup, doc: &str, reps: usize, batch: usize) -> (Duration, usize) {
    let item = Item::parse_document(doc, "bench").expect("item").remove(0);
    // The host converts each item to the contract's types per call, as the pipeline does.
    let wit: Vec<&Item> = (0..batch).map(|_| &item).collect();
    let plugin = s.set.snapshot().values().next().cloned().expect("plugin");
    let calls = (reps / batch).max(1);
    let mut issues = 0;
    let start = Instant::now();
    for _ in 0..calls {
        let r = plugin.audit(&wit, s.source.clone()).await.expect("audit");
        issues += r[0].as_ref().expect("ok").len();
    }
    (start.elapsed() / (calls * batch) as u32, issues / calls)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Append a custom section so the bytes (and the cache key) differ but the code does not.
fn variant(wasm: &[u8], tag: u32) -> Vec<u8> {
    let name = b"simian-bench";
    let payload = tag.to_le_bytes();
    let size = 1 + name.len() + payload.len();
    let mut out = wasm.to_vec();
    out.push(0);
    out.push(size as u8);
    out.push(name.len() as u8);
    out.extend_from_slice(name);
    out.extend_from_slice(&payload);
    out
}

async fn reload_latency(s: &Setup, wasm: &[u8], cold: bool, runs: u32) -> Vec<Duration> {
    let _reloader = simian::plugin::reload::watch(s.set.clone(), None).expect("watch");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let dir = s.set.plugins_dir().join("sg-internet-accessible");
    let mut events = s.set.subscribe();
    let mut out = Vec::new();
    for run in 0..runs {
        // Cold: a never-seen variant. Cached: alternate between two variants seen before.
        let tag = if cold { 1000 + run } else { run % 2 };
        let bytes = variant(wasm, tag);
        let tmp = dir.join(".next.wasm");
        std::fs::write(&tmp, &bytes).expect("write");
        let before = s
            .set
            .get("sg-internet-accessible")
            .map(|p| p.generation)
            .unwrap_or(0);
        let start = Instant::now();
        std::fs::rename(&tmp, dir.join("sg-internet-accessible.wasm")).expect("rename");
        loop {
            match tokio::time::timeout(Duration::from_secs(10), events.recv()).await {
                Ok(Ok(e)) if e.generation > before => break,
                Ok(_) => continue,
                Err(_) => panic!("reload never happened"),
            }
        }
        out.push(start.elapsed());
        tokio::time::sleep(Duration::from_millis(60)).await;
    }
    out
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let wasm = support::plugin_wasm("sg-internet-accessible");
    let s = setup(&wasm).await;
    let small = sg_item(1024, 1);
    let large = sg_item(50 * 1024, 2);
    println!(
        "plugin: sg-internet-accessible, {} bytes of wasm",
        wasm.len()
    );
    println!(
        "items: {} B and {} B of configuration JSON (with envelope: {} B, {} B)",
        serde_json::from_str::<serde_json::Value>(&small)
            .map(|v| v["configuration"].to_string().len())
            .unwrap_or(0),
        serde_json::from_str::<serde_json::Value>(&large)
            .map(|v| v["configuration"].to_string().len())
            .unwrap_or(0),
        small.len(),
        large.len()
    );

    // Warm up both paths.
    native_per_item(&small, 2000);
    wasm_per_item(&s, &small, 2000, 256).await;

    println!("\n== rule: Wasm plugin vs native (same source), per item");
    for (label, doc, reps) in [("1 KB", &small, 40_000), ("50 KB", &large, 1_000)] {
        let (native, n_issues) = native_per_item(doc, reps);
        let (unbatched, w1) = wasm_per_item(&s, doc, reps / 4, 1).await;
        let (batched, w2) = wasm_per_item(&s, doc, reps, 256).await;
        assert_eq!(n_issues, w1);
        assert_eq!(n_issues, w2);
        println!(
            "{label:>6}: native {:8.2} µs | wasm batched(256) {:8.2} µs = {:.2}x | wasm unbatched {:8.2} µs = {:.2}x  ({n_issues} issues/item)",
            us(native),
            us(batched),
            us(batched) / us(native),
            us(unbatched),
            us(unbatched) / us(native)
        );
    }

    languages(&s, &small).await;

    println!("\n== throughput, 1 KB items, batches of 256");
    for tasks in [1usize, 2] {
        let n_per_task = 100_000usize;
        let start = Instant::now();
        let mut handles = Vec::new();
        for _ in 0..tasks {
            let set = s.set.clone();
            let source = s.source.clone();
            let item = Item::parse_document(&small, "bench")
                .expect("item")
                .remove(0);
            handles.push(tokio::spawn(async move {
                let wit: Vec<&Item> = (0..256).map(|_| &item).collect();
                let plugin = set.get("sg-internet-accessible").expect("plugin");
                for _ in 0..n_per_task / 256 {
                    plugin.audit(&wit, source.clone()).await.expect("audit");
                }
            }));
        }
        for h in handles {
            h.await.expect("task");
        }
        let per_sec = (tasks * (n_per_task / 256) * 256) as f64 / start.elapsed().as_secs_f64();
        println!(
            "{tasks} concurrent caller(s): {per_sec:>10.0} item-audits/s ({:.0} per core)",
            per_sec / tasks as f64
        );
    }

    println!("\n== instantiate + empty call (pooling allocator, fresh instance per call)");
    let plugin = s.set.get("sg-internet-accessible").expect("plugin");
    let mut samples = Vec::new();
    for _ in 0..2000 {
        let start = Instant::now();
        plugin
            .audit(&[], s.source.clone())
            .await
            .expect("empty audit");
        samples.push(start.elapsed());
    }
    println!(
        "median {:.1} µs, p90 {:.1} µs",
        us(median(samples.clone())),
        {
            samples.sort();
            us(samples[samples.len() * 9 / 10])
        }
    );

    println!("\n== hot reload: file rename -> new generation serving");
    let cold = reload_latency(&s, &wasm, true, 7).await;
    let cached = reload_latency(&s, &wasm, false, 9).await;
    println!(
        "cold compile: median {:.1} ms (min {:.1}, max {:.1})",
        median(cold.clone()).as_secs_f64() * 1e3,
        cold.iter().min().map_or(0.0, |d| d.as_secs_f64() * 1e3),
        cold.iter().max().map_or(0.0, |d| d.as_secs_f64() * 1e3)
    );
    println!(
        "cache hit:    median {:.1} ms (min {:.1}, max {:.1})",
        median(cached[2..].to_vec()).as_secs_f64() * 1e3,
        cached[2..]
            .iter()
            .min()
            .map_or(0.0, |d| d.as_secs_f64() * 1e3),
        cached[2..]
            .iter()
            .max()
            .map_or(0.0, |d| d.as_secs_f64() * 1e3)
    );
}

/// The example rule's Python and JavaScript ports, built with `simian plugin build` (the
/// toolchains' defaults, against the shipped world): the host's first compile of each, as this
/// (release) host does it, and their time per 1 KB item against the Rust rule's.
async fn languages(rust: &Setup, doc: &str) {
    println!("\n== the same rule in Python and JavaScript (componentize-py, componentize-js)");
    let (rust_wasm, _) = wasm_per_item(rust, doc, 20_000, 256).await;
    let (native, _) = native_per_item(doc, 20_000);
    for id in ["sg-internet-accessible-py", "sg-internet-accessible-js"] {
        let out = tempfile::tempdir().expect("tempdir");
        let built = simian::cli::build_plugin(
            &support::workspace().join("plugins").join(id),
            Some(out.path().to_path_buf()),
        )
        .await;
        if !matches!(built, Ok(code) if code == std::process::ExitCode::SUCCESS) {
            println!("{id}: build failed: {built:?}");
            continue;
        }
        let wasm = std::fs::read(out.path().join(format!("{id}.wasm"))).expect("component");
        let s = setup_plugin(id, &wasm).await;
        let plugin = s.set.get(id).expect("loaded");
        assert!(
            !plugin.from_cache,
            "a fresh data directory has no compile cache"
        );
        let first_compile = plugin.load_time;
        let (per_item, issues) = wasm_per_item(&s, doc, 2_000, 256).await;
        println!(
            "{id:>27}: {:5.1} MB, first compile + load {:6.2} s | per 1 KB item {:8.2} µs = {:5.1}x the Rust Wasm rule ({:.2} µs), {:5.1}x native  ({issues} issues/item)",
            wasm.len() as f64 / 1e6,
            first_compile.as_secs_f64(),
            us(per_item),
            us(per_item) / us(rust_wasm),
            us(rust_wasm),
            us(per_item) / us(native),
        );
    }
}
