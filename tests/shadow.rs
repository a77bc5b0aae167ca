//! Shadow runs through the real binary: a next version of the shipped rule is staged beside
//! the live one, judged by `simian plugin shadow` and by the running host, compared against the
//! live version's open issues (would open / fix / re-score, with the items), then discarded or
//! promoted and hot-swapped in. A trapping candidate and one asking for more than the operator
//! granted change nothing live. On SQLite and PostgreSQL.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Value, json};
use simian::item::Item;
use simian_tests::pg::on_postgres;
use simian_tests::{Env, deploy_shipped, put, sg_arn, sg_item, wait_until, wasm};

const RULE: &str = "sg-internet-accessible";

fn sg(id: &str, port: i64, cidr: &str) -> Item {
    sg_item(id, &[(port, cidr)], "ops", "2026-11-30T00:00:00Z")
}

fn arn(id: &str) -> String {
    sg_arn(id)
}

fn json_of(out: &std::process::Output) -> Value {
    assert!(
        out.status.success() || out.status.code() == Some(3),
        "status {:?}\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json output")
}

/// A candidate directory outside the plugins directory: `wasm` under the manifest's name.
fn candidate(env: &Env, name: &str, wasm_bytes: &[u8], manifest: &str) -> PathBuf {
    let dir = env.path().join(name);
    std::fs::create_dir_all(&dir).expect("candidate dir");
    put(&dir.join(format!("{RULE}.wasm")), wasm_bytes);
    put(&dir.join("plugin.toml"), manifest.as_bytes());
    dir
}

/// Open issues as (arn, check, score), sorted.
fn open_issues(env: &Env) -> Vec<(String, String, u64)> {
    let v = json_of(&env.cli(&["issues", "--format", "json"]));
    let mut rows: Vec<(String, String, u64)> = v["issues"]
        .as_array()
        .expect("issues")
        .iter()
        .map(|i| {
            (
                i["arn"].as_str().unwrap_or_default().to_string(),
                i["check_id"].as_str().unwrap_or_default().to_string(),
                i["score"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    rows.sort();
    rows
}

/// `simian plugin shadow DIR --format json`.
fn shadow_cli(env: &Env, dir: &std::path::Path) -> std::process::Output {
    env.cli(&[
        "plugin",
        "shadow",
        dir.to_str().expect("utf-8 path"),
        "--format",
        "json",
    ])
}

fn wait_for_issues(
    env: &Env,
    host: &simian_tests::HostProcess,
    expected: &[(String, String, u64)],
    what: &str,
) {
    assert!(
        wait_until(Duration::from_secs(60), || open_issues(env) == expected),
        "{what}: {:?}\n{}",
        open_issues(env),
        host.log_text()
    );
}

fn shadows(env: &Env) -> Vec<Value> {
    json_of(&env.cli(&["plugins", "--format", "json"]))["shadows"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn live_generation(env: &Env) -> (u64, String) {
    let v = json_of(&env.cli(&["plugins", "--format", "json"]));
    let p = v["plugins"]
        .as_array()
        .expect("plugins")
        .iter()
        .find(|p| p["id"] == RULE)
        .cloned()
        .expect("live rule listed");
    (
        p["generation"].as_u64().unwrap_or_default(),
        p["version"].as_str().unwrap_or_default().to_string(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shadow_promote_discard_on_sqlite() {
    shadow_lifecycle(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shadow_promote_discard_on_postgres() {
    on_postgres("shadow", |url| async move {
        shadow_lifecycle(Some(&url)).await;
    })
    .await;
}

/// The operator's terms for the rule's id: the shipped rule ignores them; the hostile
/// candidates (same id) read `mode`, and may use the grants, no more.
fn config_text(storage: &str, mode: &str) -> String {
    format!(
        "{storage}[plugin.{RULE}.settings]\nmode = \"{mode}\"\nurl = \"https://exfil.example.com/steal\"\n\
         [plugin.{RULE}.grants]\naccounts = true\nitems = {{ resource_types = [\"*\"] }}\n\
         http = {{ origins = [\"http://127.0.0.1:1\"] }}\nmail = {{ recipients = [\"sec@example.com\"] }}\n"
    )
}

/// The hostile fixture as a candidate version of the rule, asking for http to `origin`.
fn hostile_manifest(version: &str, origin: &str) -> String {
    format!(
        "id = \"{RULE}\"\nversion = \"{version}\"\nkind = \"auditor\"\ncontract = \"0.1.0\"\n\
         resource_types = [\"AWS::EC2::SecurityGroup\"]\nwasm = \"{RULE}.wasm\"\n[capabilities]\n\
         accounts = true\nitems = {{ resource_types = [\"AWS::EC2::SecurityGroup\"] }}\n\
         http = {{ origins = [\"{origin}\"] }}\nmail = {{ recipients = [\"sec@example.com\"] }}\n"
    )
}

fn entry<'a>(run: &'a Value, change: &str, id: &str) -> Option<&'a Value> {
    run["entries"]
        .as_array()?
        .iter()
        .find(|e| e["change"] == change && e["arn"] == arn(id))
}

// Long because it is one lifecycle against one running host: seed, shadow (CLI and host),
// hostile candidates, discard, promote.
async fn shadow_lifecycle(storage: Option<&str>) {
    let web_port = simian_tests::moto::free_port();
    let storage = match storage {
        Some(url) => format!("[storage]\nurl = \"{url}\"\n"),
        None => String::new(),
    } + &format!("[web]\nlisten = \"127.0.0.1:{web_port}\"\n");
    let env = Env::new(&config_text(&storage, "ok"));
    deploy_shipped(&env, RULE);
    simian_tests::seed_groups(
        &env,
        vec![
            sg("g-ssh", 22, "0.0.0.0/0"),      // live 10 → next 20: re-scored
            sg("g-https", 443, "0.0.0.0/0"),   // live 10 → next accepts it: fixed
            sg("g-private", 22, "10.0.0.0/8"), // live nothing → next 5: opened
            sg("g-rdp", 3389, "0.0.0.0/0"),    // 10 both: unchanged
            sg("g-clean", 443, "10.0.0.0/8"),  // nothing either way
        ],
    )
    .await;

    // The host re-audits the store with the live rule at start: three open issues.
    let host = env.start_host();
    let live_issues = vec![
        (arn("g-https"), "internet-accessible".to_string(), 10),
        (arn("g-rdp"), "internet-accessible".to_string(), 10),
        (arn("g-ssh"), "internet-accessible".to_string(), 10),
    ];
    wait_for_issues(&env, &host, &live_issues, "live issues");
    let (generation, version) = live_generation(&env);
    assert_eq!(version, "0.1.0");

    let next_wasm = std::fs::read(wasm("simian_fixture_sg_rule_next")).expect("next wasm");
    let next_manifest = std::fs::read_to_string(
        simian_tests::workspace().join("tests/fixtures/sg-rule-next/plugin.toml"),
    )
    .expect("next manifest");
    let next = candidate(&env, "next", &next_wasm, &next_manifest);

    // The CLI stages and judges it.
    let run = json_of(&shadow_cli(&env, &next));
    assert_eq!(run["state"], "ready", "{run}");
    assert_eq!(run["version"], "0.2.0");
    assert_eq!(run["liveVersion"], "0.1.0");
    assert_eq!(run["items"], 5);
    assert_eq!(
        (
            &run["wouldOpen"],
            &run["wouldFix"],
            &run["wouldRescore"],
            &run["unchanged"],
            &run["failed"]
        ),
        (&json!(1), &json!(1), &json!(1), &json!(1), &json!(0)),
        "{run}"
    );
    let opened = entry(&run, "open", "g-private").expect("g-private opened");
    assert_eq!(opened["checkId"], "wide-private-ssh");
    assert_eq!(
        opened["notes"],
        "Entity: [cidr:10.0.0.0/8] Access: [ingress:tcp:22]"
    );
    assert_eq!(
        entry(&run, "fix", "g-https").expect("fixed")["liveScore"],
        10
    );
    let rescored = entry(&run, "rescore", "g-ssh").expect("rescored");
    assert_eq!(
        (&rescored["score"], &rescored["liveScore"]),
        (&json!(20), &json!(10))
    );
    let stage = env.plugins_dir().join(".shadow").join(RULE);
    assert!(stage.join("plugin.toml").is_file() && stage.join(format!("{RULE}.wasm")).is_file());

    // The running host judges the staged candidate too, with the same result.
    assert!(
        wait_until(Duration::from_secs(60), || shadows(&env)
            .first()
            .is_some_and(|s| s["via"] == "host")),
        "host shadow run: {:?}\n{}",
        shadows(&env),
        host.log_text()
    );
    let by_host = &shadows(&env)[0];
    assert_eq!(
        (
            &by_host["wouldOpen"],
            &by_host["wouldFix"],
            &by_host["wouldRescore"]
        ),
        (&json!(1), &json!(1), &json!(1))
    );
    let table = String::from_utf8_lossy(&env.cli(&["plugins"]).stdout).into_owned();
    assert!(table.contains("shadow candidates"), "{table}");
    assert!(table.contains("0.2.0"), "{table}");
    // Shadowing recorded no issues and left the live rule serving as it was.
    assert_eq!(open_issues(&env), live_issues);
    assert_eq!(live_generation(&env), (generation, "0.1.0".to_string()));

    // A candidate asking for more than the operator granted is refused exactly as the live
    // rule would be: a shadow gets the live rule's grants, never more.
    let hostile = std::fs::read(wasm("simian_fixture_hostile")).expect("hostile wasm");
    let greedy = candidate(
        &env,
        "greedy",
        &hostile,
        &hostile_manifest("7.7.7", "https://exfil.example.com"),
    );
    let out = shadow_cli(&env, &greedy);
    assert_eq!(out.status.code(), Some(1));
    let run: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(run["state"], "failed", "{run}");
    let error = run["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("capability `http`") && error.contains("not granted"),
        "{run}"
    );
    let listed = shadows(&env);
    assert_eq!(
        (listed.len(), &listed[0]["state"]),
        (1, &json!("failed")),
        "{listed:?}"
    );
    let out = env.cli(&["plugin", "promote", RULE]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("failed"),
        "a failed candidate is not promoted: {out:?}"
    );
    assert_eq!(open_issues(&env), live_issues);
    assert_eq!(live_generation(&env), (generation, "0.1.0".to_string()));

    // A candidate that panics on every item: every item failed, so nothing counts as fixed,
    // and the live rule keeps serving. (The settings are the plugin id's, so the live rule is
    // reloaded under them too; it ignores `mode`.)
    env.write_config(&config_text(&storage, "panic"));
    assert!(
        wait_until(Duration::from_secs(30), || live_generation(&env).0
            > generation),
        "{}",
        host.log_text()
    );
    let generation = live_generation(&env).0;
    let trapping = candidate(
        &env,
        "trapping",
        &hostile,
        &hostile_manifest("6.6.6-<script>x</script>", "http://127.0.0.1:1"),
    );
    let out = shadow_cli(&env, &trapping);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = json_of(&out);
    assert_eq!(
        (&run["failed"], &run["wouldFix"], &run["wouldOpen"]),
        (&json!(5), &json!(0), &json!(0)),
        "{run}"
    );
    // The console's plugins page and the API show the current run; the candidate's own text
    // (its version here) is escaped.
    simian_tests::console::add_user(&env, "viewer", "viewer", simian_tests::console::PASSWORD);
    let token = String::from_utf8_lossy(&env.cli(&["token", "create", "--user", "viewer"]).stdout)
        .trim()
        .to_string();
    let http = reqwest::Client::new();
    let get = |path: &str| {
        let request = http
            .get(format!("http://127.0.0.1:{web_port}{path}"))
            .bearer_auth(&token)
            .send();
        async move {
            let r = request.await.expect("GET");
            assert_eq!(r.status().as_u16(), 200);
            r.text().await.expect("body")
        }
    };
    let api: Value = serde_json::from_str(&get("/api/v1/plugins").await).expect("json");
    assert_eq!(
        api["shadows"][0]["version"], "6.6.6-<script>x</script>",
        "{api}"
    );
    assert_eq!(api["shadows"][0]["failed"], 5, "{api}");
    let page = get("/plugins").await;
    assert!(page.contains("Shadow candidates"), "{page}");
    assert!(
        page.contains("would open 0, would fix 0, would re-score 0 (0 unchanged, 5 failed"),
        "{page}"
    );
    assert!(
        page.contains("6.6.6-&#60;script&#62;x&#60;/script&#62;") && !page.contains("<script>x"),
        "{page}"
    );
    assert_eq!(open_issues(&env), live_issues);
    assert_eq!(live_generation(&env), (generation, "0.1.0".to_string()));

    // Discard drops the candidate and its run; the live rule is untouched.
    let out = env.cli(&["plugin", "discard", RULE]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!stage.exists());
    assert!(
        wait_until(Duration::from_secs(10), || shadows(&env).is_empty()),
        "{:?}",
        shadows(&env)
    );
    let out = env.cli(&["plugin", "discard", RULE]);
    assert!(!out.status.success(), "nothing left to discard");
    for bad in ["../../etc", "Sg", ""] {
        let out = env.cli(&["plugin", "promote", bad]);
        assert!(!out.status.success());
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("not a plugin id"),
            "{bad}: {out:?}"
        );
    }

    // Promote: stage again, swap in; the host hot-swaps and re-audits with the new version.
    let run = json_of(&shadow_cli(&env, &next));
    assert_eq!(run["wouldOpen"], 1);
    let out = env.cli(&["plugin", "promote", RULE]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("would open 1, fix 1, re-score 1"),
        "{out:?}"
    );
    assert!(!stage.exists());
    let promoted = vec![
        (arn("g-private"), "wide-private-ssh".to_string(), 5),
        (arn("g-rdp"), "internet-accessible".to_string(), 10),
        (arn("g-ssh"), "internet-accessible".to_string(), 20),
    ];
    wait_for_issues(&env, &host, &promoted, "after promote");
    let (new_generation, version) = live_generation(&env);
    assert_eq!(version, "0.2.0");
    assert!(new_generation > generation);
    assert!(shadows(&env).is_empty());
    drop(host);
}
