//! The whole configuration reloads in a running host: an override re-scores stored issues in
//! place, a new grant admits a plugin (which re-audits), a broken edit changes nothing and says
//! why, and a revoked grant unloads the plugin it admitted — all without a restart.

use std::time::Duration;

use serde_json::Value;
use simian_tests::hostile::{hostile_manifest, hostile_wasm, operator};
use simian_tests::moto::{ACCOUNT, Moto, seed_estate};
use simian_tests::pg::on_postgres;
use simian_tests::{Env, deploy_shipped, wait_until};

const ITEMS_MODE: &str = "mode = \"items\"\nresource_type = \"AWS::EC2::SecurityGroup\"";

fn full_grants() -> &'static str {
    "accounts = true\nitems = { resource_types = [\"AWS::EC2::SecurityGroup\"] }\nhttp = { origins = [\"http://127.0.0.1:1\"] }\nmail = { recipients = [\"sec@example.com\"] }"
}

fn listing(env: &Env) -> Value {
    let out = env.cli(&["plugins", "--format", "json"]);
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}

fn entry(env: &Env, id: &str) -> Value {
    listing(env)["plugins"]
        .as_array()
        .and_then(|a| a.iter().find(|p| p["id"] == id).cloned())
        .unwrap_or(Value::Null)
}

fn open_issues(env: &Env, moto: &Moto, plugin: &str) -> Vec<Value> {
    let out = env.cli_env(&["issues", "--format", "json"], &moto.env());
    serde_json::from_slice::<Value>(&out.stdout)
        .ok()
        .and_then(|v| v["issues"].as_array().cloned())
        .unwrap_or_default()
        .into_iter()
        .filter(|i| i["plugin"] == plugin)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configuration_edits_take_effect_without_a_restart_on_sqlite() {
    live_reload(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configuration_edits_take_effect_without_a_restart_on_postgres() {
    on_postgres(
        "live_config",
        |url| async move { live_reload(Some(&url)).await },
    )
    .await;
}

async fn live_reload(storage: Option<&str>) {
    let moto = Moto::start();
    seed_estate(&moto.sdk_config().await).await;
    let storage = storage.map_or(String::new(), |url| format!("[storage]\nurl = \"{url}\"\n"));
    let base = format!(
        "{storage}[[accounts]]\nid = \"{ACCOUNT}\"\nname = \"demo\"\nregions = [\"us-east-1\"]\n\n[aws]\nrequests_per_second = 0\n"
    );
    // The items checker asks for capabilities the operator has not granted yet.
    let env = Env::new(&format!(
        "{base}{}",
        operator("hostile-items", ITEMS_MODE, Some("accounts = true"), "")
    ));
    deploy_shipped(&env, "sg-internet-accessible");
    env.deploy(
        "hostile-items",
        &hostile_wasm(),
        &hostile_manifest("hostile-items"),
    );
    let host = env.start_host_env(&moto.env());
    assert!(
        wait_until(Duration::from_secs(90), || !open_issues(
            &env,
            &moto,
            "sg-internet-accessible"
        )
        .is_empty()),
        "no issues:\n{}",
        host.log_text()
    );
    let before = open_issues(&env, &moto, "sg-internet-accessible");
    assert!(before.iter().all(|i| i["score"] == 10), "{before:#?}");
    let rejected = entry(&env, "hostile-items");
    assert_eq!(rejected["status"], "rejected", "{rejected}");
    assert!(
        rejected["last_error"]
            .as_str()
            .unwrap_or_default()
            .contains("not granted"),
        "{rejected}"
    );

    // One edit: an override for the rule, the missing grants for the checker.
    let edited = format!(
        "{base}[[overrides]]\nplugin = \"sg-internet-accessible\"\nscore = 3\n{}",
        operator("hostile-items", ITEMS_MODE, Some(full_grants()), "")
    );
    env.write_config(&edited);
    assert!(
        wait_until(Duration::from_secs(60), || {
            let now = open_issues(&env, &moto, "sg-internet-accessible");
            now.len() == before.len() && now.iter().all(|i| i["score"] == 3)
        }),
        "override not applied:\n{}",
        host.log_text()
    );
    // Re-scored in place: the same issues, not new ones.
    let ids = |list: &[Value]| {
        let mut ids: Vec<i64> = list.iter().filter_map(|i| i["id"].as_i64()).collect();
        ids.sort_unstable();
        ids
    };
    assert_eq!(
        ids(&open_issues(&env, &moto, "sg-internet-accessible")),
        ids(&before)
    );
    assert!(
        wait_until(Duration::from_secs(60), || !open_issues(
            &env,
            &moto,
            "hostile-items"
        )
        .is_empty()),
        "the newly granted plugin never re-audited:\n{}",
        host.log_text()
    );
    assert_eq!(entry(&env, "hostile-items")["status"], "loaded");
    let notes = open_issues(&env, &moto, "hostile-items")[0]["notes"].clone();
    assert!(
        notes.as_str().unwrap_or_default().starts_with("items:"),
        "{notes}"
    );

    // A broken edit changes nothing and says so: the host keeps the previous configuration,
    // and the CLI names the file and field.
    env.write_config(&format!("{edited}\n[plugins.nonsense]\n"));
    assert!(
        wait_until(Duration::from_secs(30), || host
            .log_text()
            .contains("configuration change ignored, the previous one serves")),
        "broken edit not reported:\n{}",
        host.log_text()
    );
    let out = env.cli(&["plugins"]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !out.status.success() && err.contains("simian.toml") && err.contains("nonsense"),
        "{err}"
    );

    // Revoking a grant unloads the plugin it admitted; its issues are retired, not fixed.
    env.write_config(&format!(
        "{base}[[overrides]]\nplugin = \"sg-internet-accessible\"\nscore = 3\n{}",
        operator("hostile-items", ITEMS_MODE, Some("accounts = true"), "")
    ));
    assert!(
        wait_until(
            Duration::from_secs(30),
            || entry(&env, "hostile-items")["status"] == "rejected"
        ),
        "revoked grant still serving:\n{}",
        host.log_text()
    );
    // The running host applied the repaired file: nothing is reported as not in force.
    assert!(listing(&env)["config_error"].is_null(), "{}", listing(&env));
    assert!(
        wait_until(Duration::from_secs(30), || open_issues(
            &env,
            &moto,
            "hostile-items"
        )
        .is_empty()),
        "{}",
        host.log_text()
    );
    let out = env.cli_env(
        &["issues", "--status", "fixed", "--format", "json"],
        &moto.env(),
    );
    let fixed: Value = serde_json::from_slice(&out.stdout).expect("issues");
    assert!(
        fixed["issues"]
            .as_array()
            .is_some_and(|a| a.iter().all(|i| i["plugin"] != "hostile-items")),
        "retired issues reported as fixed: {fixed}"
    );
    let out = env.cli_env(
        &["issues", "--status", "all", "--format", "json"],
        &moto.env(),
    );
    let all: Value = serde_json::from_slice(&out.stdout).expect("issues");
    let retired: Vec<&Value> = all["issues"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|i| i["plugin"] == "hostile-items")
                .collect()
        })
        .unwrap_or_default();
    assert!(
        !retired.is_empty() && retired.iter().all(|i| i["retired"] == true),
        "{all}"
    );
    drop(host);
}

/// `reaudit_minutes` re-audits a plugin's items on a schedule (so clock-dependent checks such as
/// certificate expiry are judged again on items that never change); 0 turns it off.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auditors_are_re_audited_on_their_schedule() {
    let env = Env::new(
        "[plugin.sg-internet-accessible]\nreaudit_minutes = 1\n\n[plugin.vpc-flow-logs]\nreaudit_minutes = 0\n",
    );
    deploy_shipped(&env, "sg-internet-accessible");
    deploy_shipped(&env, "vpc-flow-logs");
    let host = env.start_host();
    let started = |id: &str| entry(&env, id)["reaudit"]["started_ms"].as_i64();
    let finished = |id: &str| entry(&env, id)["reaudit"]["finished_ms"].as_i64();
    assert!(
        wait_until(Duration::from_secs(60), || {
            finished("sg-internet-accessible").is_some() && finished("vpc-flow-logs").is_some()
        }),
        "the load re-audits did not finish: {}",
        listing(&env)
    );
    let (first, other) = (started("sg-internet-accessible"), started("vpc-flow-logs"));
    assert!(
        wait_until(Duration::from_secs(120), || {
            started("sg-internet-accessible") > first
        }),
        "no scheduled re-audit within two minutes: {}\n{}",
        listing(&env),
        host.log_text()
    );
    assert!(
        host.log_text()
            .contains("reaudit:sg-internet-accessible:scheduled")
    );
    assert_eq!(
        started("vpc-flow-logs"),
        other,
        "a plugin with 0 was re-audited"
    );
}
