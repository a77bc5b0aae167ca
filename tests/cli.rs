//! The `simian` binary end to end: the plugin author's round trip from the template to a
//! running host, hot swap (with the stored items re-audited) and a broken replacement while
//! `simian run` is up, and bad input everywhere giving clear errors and nonzero exits.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use serde_json::Value;
use simian_tests::moto::{ACCOUNT, Moto, seed_estate};
use simian_tests::pg::on_postgres;
use simian_tests::{Env, put, sg_items, sg_manifest, simian_bin, target_dir, wait_until, wasm};

fn json(out: &Output) -> Value {
    assert!(
        out.status.code() == Some(0) || out.status.code() == Some(3),
        "simian failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A plugin author's shell: the binary, with a target dir shared across runs so the template's
/// dependencies compile once.
fn author(args: &[&str]) -> Output {
    author_in("template-plugins", args)
}

/// `author` with its own target dir: tests that build the same crate name in parallel must not
/// overwrite each other's component between build and copy.
fn author_in(target: &str, args: &[&str]) -> Output {
    let out = Command::new(simian_bin())
        .args(args)
        .env("CARGO_TARGET_DIR", target_dir().join(target))
        .output()
        .expect("run simian");
    assert!(
        out.status.success(),
        "simian {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn plugin_entry(env: &Env, id: &str) -> Option<Value> {
    let listing = json(&env.cli(&["plugins", "--format", "json"]));
    assert_eq!(listing["source"], "running-host", "{listing}");
    listing["plugins"]
        .as_array()?
        .iter()
        .find(|p| p["id"] == id)
        .cloned()
}

fn issues_of<'a>(report: &'a Value, resource_id: &str, plugin: &str) -> Vec<&'a Value> {
    report["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|i| i["resource_id"] == resource_id)
        .flat_map(|i| i["issues"].as_array().expect("issues").iter())
        .filter(|i| i["plugin"] == plugin)
        .collect()
}

fn deploy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("plugin dir");
    // Component first, manifest last: what a careful operator (and `plugin build`) does.
    let mut entries: Vec<PathBuf> = std::fs::read_dir(from)
        .expect("build dir")
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort_by_key(|p| p.file_name().is_some_and(|n| n == "plugin.toml"));
    for path in entries {
        let bytes = std::fs::read(&path).expect("read build output");
        put(&to.join(path.file_name().expect("name")), &bytes);
    }
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).expect("read");
    assert!(text.contains(from), "{} lacks `{from}`", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).expect("write");
}

/// The stored open issues of one plugin, from the CLI.
fn stored_issues(env: &Env, moto: &Moto, plugin: &str, status: &str) -> Vec<Value> {
    let out = env.cli_env(
        &["issues", "--status", status, "--format", "json"],
        &moto.env(),
    );
    serde_json::from_slice::<Value>(&out.stdout)
        .ok()
        .and_then(|v| v["issues"].as_array().cloned())
        .unwrap_or_default()
        .into_iter()
        .filter(|i| i["plugin"] == plugin)
        .collect()
}

/// (issue id, score, generation) of each issue, sorted.
fn id_score_generation(issues: &[Value]) -> Vec<(i64, u64, u64)> {
    let mut out: Vec<(i64, u64, u64)> = issues
        .iter()
        .map(|i| {
            (
                i["id"].as_i64().unwrap_or(-1),
                i["score"].as_u64().unwrap_or(0),
                i["plugin_generation"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    out.sort_unstable();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn template_round_trip_then_hot_swap_and_broken_replacement_on_sqlite() {
    round_trip_and_hot_swap(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn template_round_trip_then_hot_swap_and_broken_replacement_on_postgres() {
    on_postgres("hot_swap", |url| async move {
        round_trip_and_hot_swap(Some(&url)).await
    })
    .await;
}

async fn round_trip_and_hot_swap(storage: Option<&str>) {
    let target = if storage.is_some() {
        "template-plugins-pg"
    } else {
        "template-plugins"
    };
    let author = |args: &[&str]| author_in(target, args);
    let storage = storage.map_or(String::new(), |url| format!("[storage]\nurl = \"{url}\"\n"));
    // The host also watches an emulated account, so a swap must re-score stored items.
    let moto = Moto::start();
    seed_estate(&moto.sdk_config().await).await;
    let env = Env::new(&format!(
        "{storage}[[accounts]]\nid = \"{ACCOUNT}\"\nname = \"demo\"\nregions = [\"us-east-1\"]\n\n[aws]\nrequests_per_second = 0\n"
    ));
    let items = env.write_file("items.json", &sg_items());
    let items = items.to_str().expect("utf-8 path");
    let crate_dir = env.path().join("src/owner-tag");
    let crate_str = crate_dir.to_str().expect("utf-8 path");

    // plugin new → plugin build → plugin check
    author(&[
        "plugin",
        "new",
        "owner-tag",
        "--kind",
        "auditor",
        "--dir",
        crate_str,
    ]);
    for f in ["Cargo.toml", "src/lib.rs", "plugin.toml", "README.md"] {
        assert!(crate_dir.join(f).exists(), "template lacks {f}");
    }
    let v1 = env.path().join("build-v1");
    author(&[
        "plugin",
        "build",
        crate_str,
        "--out",
        v1.to_str().expect("path"),
    ]);
    let wasm_v1 = v1.join("owner-tag.wasm");
    let check = json(&author(&[
        "plugin",
        "check",
        wasm_v1.to_str().expect("path"),
        "--format",
        "json",
    ]));
    assert_eq!(check["valid"], true, "{check}");
    assert_eq!(check["describe"]["id"], "owner-tag");
    assert_eq!(check["describe"]["version"], "0.1.0");
    assert_eq!(check["contract"], "0.1.0");

    // A running host picks it up from the plugins dir without a restart.
    let host = env.start_host_env(&moto.env());
    let swept = || {
        let out = env.cli_env(&["items", "--format", "json"], &moto.env());
        serde_json::from_slice::<Value>(&out.stdout)
            .ok()
            .and_then(|v| v["items"].as_array().map(Vec::len))
            .unwrap_or(0)
    };
    assert!(
        wait_until(Duration::from_secs(60), || swept() >= 14),
        "no sweep:\n{}",
        host.log_text()
    );
    let before = json(&env.cli(&["audit", "--item", items, "--format", "json"]));
    assert!(issues_of(&before, "sg-clean", "owner-tag").is_empty());
    deploy_dir(&v1, &env.plugins_dir().join("owner-tag"));
    assert!(
        wait_until(Duration::from_secs(30), || plugin_entry(&env, "owner-tag")
            .is_some_and(|p| p["generation"] == 1 && p["status"] == "loaded")),
        "v1 never loaded:\n{}",
        host.log_text()
    );
    let report = json(&env.cli(&["audit", "--item", items, "--format", "json"]));
    let found = issues_of(&report, "sg-clean", "owner-tag");
    assert_eq!(found.len(), 1, "{report}");
    assert_eq!(found[0]["plugin_version"], "0.1.0");
    assert_eq!(found[0]["generation"], 1);
    let v1_score = found[0]["score"].as_u64().expect("score");
    assert!(
        issues_of(&report, "sg-open", "owner-tag").is_empty(),
        "tagged item flagged"
    );
    // Loading it re-audited the stored items: untagged groups and buckets are flagged, the
    // `reports` bucket (tagged owner=data) is not.
    assert!(
        wait_until(Duration::from_secs(60), || stored_issues(
            &env,
            &moto,
            "owner-tag",
            "open"
        )
        .len()
            >= 4),
        "stored items not re-audited after the load:\n{}",
        host.log_text()
    );
    let v1_stored = stored_issues(&env, &moto, "owner-tag", "open");
    assert!(v1_stored.iter().all(|i| i["resource_name"] != "reports"));
    assert!(
        v1_stored
            .iter()
            .all(|i| i["score"].as_u64() == Some(v1_score) && i["plugin_generation"] == 1),
        "{v1_stored:?}"
    );

    // Version 2 scores differently; replacing the files swaps it in.
    edit(
        &crate_dir.join("Cargo.toml"),
        "version = \"0.1.0\"",
        "version = \"0.2.0\"",
    );
    edit(
        &crate_dir.join("plugin.toml"),
        "version = \"0.1.0\"",
        "version = \"0.2.0\"",
    );
    edit(
        &crate_dir.join("src/lib.rs"),
        "DEFAULT_SCORE: u32 = 1",
        "DEFAULT_SCORE: u32 = 7",
    );
    let v2 = env.path().join("build-v2");
    author(&[
        "plugin",
        "build",
        crate_str,
        "--out",
        v2.to_str().expect("path"),
    ]);
    deploy_dir(&v2, &env.plugins_dir().join("owner-tag"));
    assert!(
        wait_until(Duration::from_secs(30), || plugin_entry(&env, "owner-tag")
            .is_some_and(|p| p["generation"] == 2 && p["version"] == "0.2.0")),
        "v2 never served:\n{}",
        host.log_text()
    );
    let report = json(&env.cli(&["audit", "--item", items, "--format", "json"]));
    let found = issues_of(&report, "sg-clean", "owner-tag");
    assert_eq!(found.len(), 1, "{report}");
    assert_eq!(found[0]["plugin_version"], "0.2.0");
    assert_eq!(found[0]["score"], 7);
    assert_ne!(v1_score, 7);
    // The swap re-scored every stored issue in place: same issues (identity excludes the
    // score), new score, decided by generation 2; the progress says the re-audit finished.
    let expected: Vec<(i64, u64, u64)> = id_score_generation(&v1_stored)
        .into_iter()
        .map(|(id, _, _)| (id, 7, 2))
        .collect();
    assert!(
        wait_until(Duration::from_secs(60), || id_score_generation(
            &stored_issues(&env, &moto, "owner-tag", "open")
        ) == expected),
        "not re-scored after the swap: {:?}\n{}",
        stored_issues(&env, &moto, "owner-tag", "open"),
        host.log_text()
    );
    let progress = &plugin_entry(&env, "owner-tag").expect("listed")["reaudit"];
    assert_eq!(progress["generation"], 2, "{progress}");
    assert!(
        progress["total"].as_u64().is_some_and(|t| t >= 4),
        "{progress}"
    );
    assert_eq!(progress["done"], progress["total"], "{progress}");
    assert!(progress["finished_ms"].is_number(), "{progress}");

    // A broken replacement is refused; version 2 keeps serving and the reason is visible.
    let dir = env.plugins_dir().join("owner-tag");
    put(
        &dir.join("owner-tag.wasm"),
        b"\0asm\x0d\0\x01\0 definitely not a component",
    );
    edit(
        &dir.join("plugin.toml"),
        "version = \"0.2.0\"",
        "version = \"0.3.0\"",
    );
    assert!(
        wait_until(Duration::from_secs(30), || plugin_entry(&env, "owner-tag")
            .is_some_and(|p| !p["last_error"].is_null())),
        "broken file not reported:\n{}",
        host.log_text()
    );
    let entry = plugin_entry(&env, "owner-tag").expect("still listed");
    assert_eq!(entry["status"], "loaded");
    assert_eq!(entry["generation"], 2);
    assert_eq!(entry["version"], "0.2.0");
    assert!(
        entry["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("owner-tag.wasm")),
        "{entry}"
    );
    let report = json(&env.cli(&["audit", "--item", items, "--format", "json"]));
    assert_eq!(
        issues_of(&report, "sg-clean", "owner-tag")[0]["plugin_version"],
        "0.2.0"
    );

    // The table form shows the same plugin with its counters.
    let table = env.cli(&["plugins"]);
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(
        table.contains("owner-tag") && table.contains("0.2.0"),
        "{table}"
    );

    // Removing the directory unloads it.
    env.remove("owner-tag");
    assert!(
        wait_until(Duration::from_secs(30), || plugin_entry(&env, "owner-tag")
            .is_none()),
        "not unloaded:\n{}",
        host.log_text()
    );
    let report = json(&env.cli(&["audit", "--item", items, "--format", "json"]));
    assert!(issues_of(&report, "sg-clean", "owner-tag").is_empty());
    // Its stored issues are retired: no longer open or counted, kept, and not "fixed".
    assert!(
        wait_until(Duration::from_secs(30), || stored_issues(
            &env,
            &moto,
            "owner-tag",
            "open"
        )
        .is_empty()),
        "unloaded plugin's issues still open:\n{}",
        host.log_text()
    );
    let all = stored_issues(&env, &moto, "owner-tag", "all");
    assert_eq!(all.len(), expected.len());
    assert!(all.iter().all(|i| i["retired"] == true), "{all:?}");
    assert!(stored_issues(&env, &moto, "owner-tag", "fixed").is_empty());
    drop(host);
}

#[test]
fn notifier_template_builds_and_checks() {
    let env = Env::new("");
    let crate_dir = env.path().join("notify-me");
    let crate_str = crate_dir.to_str().expect("path");
    author(&[
        "plugin",
        "new",
        "notify-me",
        "--kind",
        "notifier",
        "--dir",
        crate_str,
    ]);
    let out = env.path().join("out");
    author(&[
        "plugin",
        "build",
        crate_str,
        "--out",
        out.to_str().expect("path"),
    ]);
    let check = json(&author(&[
        "plugin",
        "check",
        out.join("notify-me.wasm").to_str().expect("path"),
        "--format",
        "json",
    ]));
    assert_eq!(check["valid"], true, "{check}");
    assert_eq!(check["kind"], "notifier");
    assert_eq!(check["describe"]["kind"], "notifier");
}

#[test]
fn audit_without_a_running_host_loads_plugins_itself() {
    let env = Env::new("");
    let bytes = std::fs::read(wasm("simian_plugin_sg_internet_accessible")).expect("wasm");
    env.deploy("sg-internet-accessible", &bytes, &sg_manifest());
    let items = env.write_file("items.json", &sg_items());
    let out = env.cli(&[
        "audit",
        "--item",
        items.to_str().expect("path"),
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report = json(&out);
    let open = issues_of(&report, "sg-open", "sg-internet-accessible");
    assert_eq!(open.len(), 1, "{report}");
    assert_eq!(open[0]["title"], "Internet Accessible");
    assert_eq!(open[0]["score"], 10);
    assert!(issues_of(&report, "sg-clean", "sg-internet-accessible").is_empty());

    // Table output names the rule too; items can come on stdin.
    let mut child = Command::new(simian_bin())
        .args(["audit", "--item", "-", "--config"])
        .arg(env.config_path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(sg_items().as_bytes()).expect("write stdin");
    }
    let out = child.wait_with_output().expect("wait");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Internet Accessible") && text.contains("ingress:tcp:22"),
        "{text}"
    );
}

#[test]
fn bad_input_gets_clear_errors_and_nonzero_exits() {
    let env = Env::new("");
    // Malformed config: the file and the field are named.
    let bad = env.write_file("bad.toml", "[plugins]\ndir = \"p\"\ntimeout = 5\n");
    let out = Command::new(simian_bin())
        .args(["plugins", "--config"])
        .arg(&bad)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("bad.toml") && err.contains("timeout"), "{err}");

    let bad = env.write_file("bad2.toml", "[[accounts]]\nid = \"abc\"\nname = \"x\"\n");
    let out = Command::new(simian_bin())
        .args(["run", "--config"])
        .arg(&bad)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("accounts[0].id"), "{}", stderr(&out));

    // A garbage plugin file.
    let junk = env.write_file("junk.wasm", "hello");
    let out = Command::new(simian_bin())
        .args(["plugin", "check"])
        .arg(&junk)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("not a WebAssembly file"));

    // A bad item document names the item and the field, and audits nothing.
    let doc = sg_items().replacen("\"resourceId\":\"sg-clean\",", "", 1);
    let items = env.write_file("items.json", &doc);
    let out = env.cli(&["audit", "--item", items.to_str().expect("path")]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("items.json") && err.contains("item[1]") && err.contains("resourceId"),
        "{err}"
    );

    // A plugin that fails makes `simian audit` exit 3 while still printing the others' issues.
    env.write_config(
        "[plugin.hostile-panic.settings]\nid = \"hostile-panic\"\nmode = \"panic\"\n[plugin.hostile-panic.grants]\naccounts = true\nitems = { resource_types = [\"*\"] }\nhttp = { origins = [\"http://127.0.0.1:1\"] }\nmail = { recipients = [\"sec@example.com\"] }\n",
    );
    let hostile = std::fs::read(wasm("simian_fixture_hostile")).expect("wasm");
    env.deploy(
        "hostile-panic",
        &hostile,
        "id = \"hostile-panic\"\nversion = \"0.1.0\"\nkind = \"auditor\"\ncontract = \"0.1.0\"\nresource_types = [\"AWS::EC2::SecurityGroup\"]\nwasm = \"hostile.wasm\"\n[capabilities]\naccounts = true\nitems = { resource_types = [\"AWS::EC2::SecurityGroup\"] }\nhttp = { origins = [\"http://127.0.0.1:1\"] }\nmail = { recipients = [\"sec@example.com\"] }\n",
    );
    let sg = std::fs::read(wasm("simian_plugin_sg_internet_accessible")).expect("wasm");
    env.deploy("sg-internet-accessible", &sg, &sg_manifest());
    let items = env.write_file("items.json", &sg_items());
    let out = env.cli(&[
        "audit",
        "--item",
        items.to_str().expect("path"),
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let report = json(&out);
    assert_eq!(
        issues_of(&report, "sg-open", "sg-internet-accessible").len(),
        1
    );
    let errors = report["items"][0]["errors"].to_string();
    assert!(
        errors.contains("hostile-panic") && errors.contains("panicked"),
        "{errors}"
    );
}
