//! Plugins in Python and JavaScript through the real binary and the real toolchains
//! (componentize-py and componentize-js, pinned, installed by `simian plugin build` on first
//! use): the shipped example rule's Python and JS ports, built with the toolchains' defaults
//! against the shipped `auditor` world, load into a running host unchanged and raise exactly
//! the Rust rule's issues on the same stored groups; both templates go new → test → build →
//! load; a Python plugin is hot-swapped and swapped back from the compile cache.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use serde_json::{Value, json};
use simian::item::Item;
use simian_tests::{
    Env, HISTORY_ACCOUNT, HostProcess, deploy_shipped, sg_arn, wait_until, workspace,
};

const RUST_RULE: &str = "sg-internet-accessible";
const PY_RULE: &str = "sg-internet-accessible-py";
const JS_RULE: &str = "sg-internet-accessible-js";

/// Every spelling the rule reads: protocols by name and number, all traffic, port ranges,
/// IPv4 and IPv6, open and closed ranges, several ranges per rule, duplicate rules.
fn group(n: usize) -> Item {
    let protocols = ["tcp", "udp", "icmp", "-1", "6", "17", "58", "icmpv6"];
    let v4 = [
        "0.0.0.0/0",
        "10.0.0.0/8",
        "192.168.1.0/24",
        "0.0.0.0/1",
        "203.0.113.7/32",
    ];
    let v6 = ["::/0", "2001:db8::/32", "fd00::/8"];
    let mut permissions = Vec::new();
    for r in 0..(n % 4 + 1) {
        let k = n * 7 + r * 3;
        let protocol = protocols[k % protocols.len()];
        let from = [22, 80, 443, 0, 1024, -1, 3389][k % 7];
        let to = if k.is_multiple_of(5) {
            from + 100
        } else {
            from
        };
        let mut perm = json!({
            "ipProtocol": protocol,
            "ipv4Ranges": (0..(k % 3)).map(|i| json!({"cidrIp": v4[(k + i) % v4.len()]})).collect::<Vec<_>>(),
            "ipv6Ranges": (0..(k % 2)).map(|i| json!({"cidrIpv6": v6[(k + i) % v6.len()]})).collect::<Vec<_>>(),
            "userIdGroupPairs": [], "prefixListIds": []
        });
        if protocol != "-1" {
            perm["fromPort"] = json!(from);
            perm["toPort"] = json!(to);
        }
        permissions.push(perm.clone());
        if n.is_multiple_of(9) {
            // The same rule twice: one issue, not two.
            permissions.push(perm);
        }
    }
    let id = format!("sg-{n:04}");
    Item::from_envelope(&json!({
        "resourceType": "AWS::EC2::SecurityGroup",
        "resourceId": id,
        "resourceName": id,
        "arn": sg_arn(&id),
        "accountId": HISTORY_ACCOUNT,
        "awsRegion": "us-east-1",
        "configurationItemCaptureTime": "2026-11-30T00:00:00Z",
        "configuration": {"groupId": id, "groupName": id, "ipPermissions": permissions,
                          "ipPermissionsEgress": []},
        "tags": {"team": "ops"}
    }))
    .expect("valid group")
}

const GROUPS: usize = 120;

fn simian(args: &[&str], cwd: Option<&Path>) -> Output {
    let mut cmd = Command::new(simian_tests::simian_bin());
    cmd.args(args);
    if let Some(dir) = cwd {
        cmd.current_dir(dir);
    }
    cmd.output().expect("run simian")
}

fn assert_ok(out: &Output, what: &str) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{what}: {:?}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// `simian plugin build DIR --out OUT`: a component, its manifest, and the check's verdict.
fn build(dir: &Path, out: &Path) -> String {
    let text = assert_ok(
        &simian(
            &[
                "plugin",
                "build",
                dir.to_str().expect("utf-8"),
                "--out",
                out.to_str().expect("utf-8"),
            ],
            None,
        ),
        &format!("build {}", dir.display()),
    );
    assert!(text.contains(": valid"), "{text}");
    text
}

/// Open issues of one plugin as (arn, check, title, score, notes, remediation).
type Row = (String, String, String, u64, String, String);

fn issues_of(env: &Env, plugin: &str) -> BTreeSet<Row> {
    let out = env.cli(&["issues", "--format", "json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    let s = |i: &Value, k: &str| i[k].as_str().unwrap_or_default().to_string();
    v["issues"]
        .as_array()
        .map(|a| a.as_slice())
        .unwrap_or_default()
        .iter()
        .filter(|i| i["plugin"] == plugin)
        .map(|i| {
            (
                s(i, "arn"),
                s(i, "check_id"),
                s(i, "title"),
                i["score"].as_u64().unwrap_or_default(),
                s(i, "notes"),
                s(i, "remediation"),
            )
        })
        .collect()
}

fn plugin_status(env: &Env, id: &str) -> Value {
    let out = env.cli(&["plugins", "--format", "json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    v["plugins"]
        .as_array()
        .and_then(|a| a.iter().find(|p| p["id"] == id).cloned())
        .unwrap_or(Value::Null)
}

fn wait_for(host: &HostProcess, what: &str, f: impl FnMut() -> bool) {
    assert!(
        wait_until(Duration::from_secs(240), f),
        "{what}\n{}",
        host.log_text()
    );
}

/// The Python interpreter with pytest (scripts/pytest-venv.sh, installed on first use).
fn pytest_python() -> PathBuf {
    let out = Command::new("bash")
        .arg(workspace().join("scripts/pytest-venv.sh"))
        .output()
        .expect("run scripts/pytest-venv.sh");
    assert!(out.status.success(), "pytest venv setup failed");
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

/// Run a generated plugin's own tests; they must pass, and really run some.
fn run_template_tests(lang: &str, dir: &Path) {
    let out = match lang {
        "python" => Command::new(pytest_python())
            .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
            .current_dir(dir)
            .output(),
        _ => Command::new("node").arg("--test").current_dir(dir).output(),
    }
    .expect("run the template's tests");
    let text = assert_ok(&out, &format!("{lang} template tests"));
    let passed = match lang {
        "python" => text.contains(" passed"),
        _ => text
            .lines()
            .any(|l| l.starts_with("# pass ") && l != "# pass 0"),
    };
    assert!(passed, "no test ran:\n{text}");
}

// Long because it is one story against one running host: the ports' parity, both templates'
// round trip, and the Python plugin's hot swap and cached swap back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_and_javascript_plugins_load_unchanged_and_audit_like_rust() {
    let env = Env::new("");
    simian_tests::seed_groups(&env, (0..GROUPS).map(group).collect()).await;
    deploy_shipped(&env, RUST_RULE);
    // The shipped ports, built in place (the JS rule imports the SDK from the repository).
    for id in [PY_RULE, JS_RULE] {
        build(
            &workspace().join("plugins").join(id),
            &env.plugins_dir().join(id),
        );
    }
    let host = env.start_host();

    // Loaded unchanged: the toolchains imported every capability of the world; none is
    // declared, so none is granted, and the plugin serves.
    // Settled: the re-audit at start writes its issues chunk by chunk.
    let mut last = BTreeSet::new();
    wait_for(&host, "the Rust rule audits the groups", || {
        let now = issues_of(&env, RUST_RULE);
        let settled = now.len() > 10 && now == last;
        last = now;
        std::thread::sleep(Duration::from_secs(1));
        settled
    });
    let rust = last;
    for id in [PY_RULE, JS_RULE] {
        wait_for(
            &host,
            &format!("{id} raises the Rust rule's issues"),
            || issues_of(&env, id) == rust,
        );
        let status = plugin_status(&env, id);
        assert_eq!(status["status"], "loaded", "{status}");
        assert_eq!(
            status["undeclared_capabilities"],
            json!(["accounts", "items", "http", "mail"]),
            "{status}"
        );
    }
    // The corpus reaches both sides of the rule: open IPv4, open IPv6, all traffic.
    let notes: Vec<&str> = rust.iter().map(|r| r.4.as_str()).collect();
    assert!(
        notes.iter().any(|n| n.contains("cidr:0.0.0.0/0")),
        "{notes:?}"
    );
    assert!(notes.iter().any(|n| n.contains("cidr:::/0")), "{notes:?}");
    assert!(
        notes.iter().any(|n| n.contains("Access: [ingress:all")),
        "{notes:?}"
    );
    let flagged: BTreeSet<&str> = rust.iter().map(|r| r.0.as_str()).collect();
    assert!(
        flagged.len() < GROUPS,
        "every group flagged: the corpus has no clean one"
    );

    // Both templates: new → their own tests → build → hot-loaded by the running host.
    let scratch = tempfile::tempdir().expect("scratch");
    for (lang, id) in [("python", "owner-py"), ("js", "owner-js")] {
        let dir = scratch.path().join(id);
        assert_ok(
            &simian(
                &[
                    "plugin",
                    "new",
                    id,
                    "--lang",
                    lang,
                    "--dir",
                    dir.to_str().expect("utf-8"),
                ],
                None,
            ),
            &format!("plugin new --lang {lang}"),
        );
        run_template_tests(lang, &dir);
        build(&dir, &env.plugins_dir().join(id));
    }
    for id in ["owner-py", "owner-js"] {
        wait_for(
            &host,
            &format!("{id} flags every group without an owner tag"),
            || {
                let rows = issues_of(&env, id);
                rows.len() == GROUPS && rows.iter().all(|r| r.1 == "missing-owner-tag" && r.3 == 1)
            },
        );
    }

    // Hot swap: version 0.2.0 of the Python template scores 7.
    let py = scratch.path().join("owner-py");
    let first_wasm = std::fs::read(env.plugins_dir().join("owner-py/owner-py.wasm")).expect("wasm");
    let first_manifest = std::fs::read_to_string(py.join("plugin.toml")).expect("manifest");
    let before = plugin_status(&env, "owner-py");
    let app = std::fs::read_to_string(py.join("app.py")).expect("app.py");
    assert!(
        app.contains("DEFAULT_SCORE = 1\n"),
        "template changed: {app}"
    );
    std::fs::write(
        py.join("app.py"),
        app.replace("DEFAULT_SCORE = 1\n", "DEFAULT_SCORE = 7\n"),
    )
    .expect("edit app.py");
    std::fs::write(
        py.join("plugin.toml"),
        first_manifest.replacen("version = \"0.1.0\"", "version = \"0.2.0\"", 1),
    )
    .expect("edit plugin.toml");
    build(&py, &env.plugins_dir().join("owner-py"));
    wait_for(&host, "owner-py 0.2.0 re-scores its issues", || {
        let rows = issues_of(&env, "owner-py");
        rows.len() == GROUPS && rows.iter().all(|r| r.3 == 7)
    });
    let swapped = plugin_status(&env, "owner-py");
    assert_eq!(swapped["version"], "0.2.0", "{swapped}");
    assert_eq!(swapped["from_cache"], false, "{swapped}");
    assert!(
        swapped["generation"].as_u64() > before["generation"].as_u64(),
        "{before} → {swapped}"
    );

    // Back to the first build: compiled before, so the host takes it from its cache.
    let dir = env.plugins_dir().join("owner-py");
    simian_tests::put(&dir.join("owner-py.wasm"), &first_wasm);
    simian_tests::put(&dir.join("plugin.toml"), first_manifest.as_bytes());
    wait_for(
        &host,
        "owner-py 0.1.0 is back from the compile cache",
        || {
            let s = plugin_status(&env, "owner-py");
            s["version"] == "0.1.0" && s["from_cache"] == true
        },
    );
    wait_for(&host, "owner-py 0.1.0 scores 1 again", || {
        issues_of(&env, "owner-py").iter().all(|r| r.3 == 1)
    });
}
