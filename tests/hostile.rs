//! Hostile plugins against the real host runtime: each misbehaviour is contained, named, and
//! bounded, and the well-behaved plugin's issues in the same audit are intact.

use std::sync::Arc;
use std::time::{Duration, Instant};

use simian::audit::{AuditReport, audit_items};
use simian::item::Item;
use simian::plugin::PluginSet;
use simian::services::HostServices;
use simian::services::items::MemoryItems;
use simian_tests::http::Receiver;
use simian_tests::{Env, sg_items, sg_manifest, wasm};

/// Upper bound for any single audit here; every limit below is far smaller.
const BOUND: Duration = Duration::from_secs(60);

fn hostile_manifest(id: &str) -> String {
    format!(
        r#"id = "{id}"
version = "0.1.0"
kind = "auditor"
contract = "0.1.0"
resource_types = ["AWS::EC2::SecurityGroup"]
wasm = "hostile.wasm"
[capabilities]
accounts = true
items = {{ resource_types = ["AWS::EC2::SecurityGroup", "AWS::IAM::User"] }}
http = {{ origins = ["http://127.0.0.1:1", "http://localhost:1", "http://169.254.169.254", "http://203.0.113.9"] }}
mail = {{ recipients = ["sec@example.com"] }}
"#
    )
}

/// Operator section for one hostile variant: settings, full grants unless `grants` overrides.
fn operator(id: &str, settings: &str, grants: Option<&str>, limits: &str) -> String {
    let grants = grants.map(str::to_string).unwrap_or_else(|| {
        r#"accounts = true
items = { resource_types = ["AWS::EC2::SecurityGroup"] }
http = { origins = ["http://127.0.0.1:1", "http://localhost:1", "http://169.254.169.254"] }
mail = { recipients = ["sec@example.com"] }"#
            .to_string()
    });
    format!(
        "[plugin.{id}.settings]\nid = \"{id}\"\n{settings}\n[plugin.{id}.grants]\n{grants}\n[plugin.{id}.limits]\n{limits}\n"
    )
}

async fn load(env: &Env) -> Arc<PluginSet> {
    let config = Arc::new(env.config());
    let services = Arc::new(
        HostServices::from_config(&config, Arc::new(MemoryItems::default())).expect("services"),
    );
    let set = simian::plugin::plugin_set(config, services).expect("plugin set");
    set.scan().await;
    set
}

async fn audit(set: &PluginSet) -> (AuditReport, Duration) {
    let items = Item::parse_document(&sg_items(), "sg.json").expect("items");
    let started = Instant::now();
    let report = audit_items(set, &items, Arc::new(MemoryItems::new(items.clone())), 64).await;
    (report, started.elapsed())
}

fn deploy_hostile(env: &Env, id: &str) {
    let bytes = std::fs::read(wasm("simian_fixture_hostile")).expect("hostile wasm");
    env.deploy(id, &bytes, &hostile_manifest(id));
}

fn deploy_sg(env: &Env) {
    let bytes = std::fs::read(wasm("simian_plugin_sg_internet_accessible")).expect("sg wasm");
    env.deploy("sg-internet-accessible", &bytes, &sg_manifest());
}

/// The example rule's finding on the open group, which every test expects to survive.
fn assert_sg_intact(report: &AuditReport) {
    let open = &report.items[0];
    let found = open.issues.iter().any(|i| {
        i.plugin == "sg-internet-accessible"
            && i.title == "Internet Accessible"
            && i.score == 10
            && i.notes.contains("0.0.0.0/0")
            && i.notes.contains("ingress:tcp:22")
    });
    assert!(found, "example rule's issue missing: {:#?}", open.issues);
    assert!(
        !report.items[1]
            .issues
            .iter()
            .any(|i| i.plugin == "sg-internet-accessible"),
        "clean group flagged"
    );
}

fn item_error<'a>(report: &'a AuditReport, plugin: &str) -> &'a str {
    report.items[0]
        .errors
        .iter()
        .find(|e| e.plugin == plugin)
        .map(|e| e.error.as_str())
        .unwrap_or_else(|| panic!("no error recorded for {plugin}: {report:#?}"))
}

fn issue_notes(report: &AuditReport, plugin: &str) -> String {
    report.items[0]
        .issues
        .iter()
        .find(|i| i.plugin == plugin)
        .map(|i| i.notes.clone())
        .unwrap_or_else(|| panic!("no issue from {plugin}: {report:#?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runaway_plugins_are_contained_and_named() {
    let mut config = String::new();
    let cases = [
        ("hostile-loop", "mode = \"loop\"", "timeout_ms = 500"),
        (
            "hostile-memory",
            "mode = \"memory-bomb\"",
            "memory_mib = 32",
        ),
        ("hostile-recursion", "mode = \"recursion\"", ""),
        ("hostile-panic", "mode = \"panic\"", ""),
        (
            "hostile-many",
            "mode = \"many-issues\"\ncount = 3000000",
            "",
        ),
        ("hostile-huge", "mode = \"huge-string\"", ""),
        (
            "hostile-flood",
            "mode = \"stdout-flood\"\nlines = 200000",
            "",
        ),
    ];
    for (id, settings, limits) in cases {
        config.push_str(&operator(id, settings, None, limits));
    }
    let env = Env::new(&config);
    deploy_sg(&env);
    for (id, _, _) in cases {
        deploy_hostile(&env, id);
    }
    let set = load(&env).await;
    assert_eq!(
        set.snapshot().len(),
        8,
        "all plugins load: {:#?}",
        set.statuses().await
    );

    let (report, elapsed) = audit(&set).await;
    assert!(elapsed < BOUND, "audit took {elapsed:?}");
    assert_sg_intact(&report);

    let loop_err = item_error(&report, "hostile-loop");
    assert!(loop_err.contains("timed out after 500 ms"), "{loop_err}");
    let mem_err = item_error(&report, "hostile-memory");
    assert!(mem_err.contains("memory limit of 32 MiB"), "{mem_err}");
    let rec_err = item_error(&report, "hostile-recursion");
    assert!(rec_err.contains("overflowed its stack"), "{rec_err}");
    let panic_err = item_error(&report, "hostile-panic");
    assert!(
        panic_err.contains("panicked: hostile plugin panicked on purpose"),
        "{panic_err}"
    );
    let many_err = item_error(&report, "hostile-many");
    assert!(
        many_err.contains("memory limit") || many_err.contains("issues for one item"),
        "{many_err}"
    );
    let huge_err = item_error(&report, "hostile-huge");
    assert!(huge_err.contains("memory limit of 64 MiB"), "{huge_err}");
    // Flooding stdout is not an error: the output is capped and the answer still arrives.
    assert_eq!(issue_notes(&report, "hostile-flood"), "sg-open");

    // Whole-call failures are listed per plugin too, naming plugin and cause.
    let problems: Vec<String> = report
        .plugin_errors
        .iter()
        .map(|p| format!("{}: {}", p.plugin, p.error))
        .collect();
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("hostile-loop: plugin `hostile-loop` timed out")),
        "{problems:#?}"
    );

    // Counters saw it all, and a trap does not poison the next call (fresh instance).
    let statuses = set.statuses().await;
    let loop_status = statuses
        .iter()
        .find(|s| s.id.as_deref() == Some("hostile-loop"))
        .expect("status");
    assert!(loop_status.counters.as_ref().expect("counters").timeouts >= 1);
    let panic_status = statuses
        .iter()
        .find(|s| s.id.as_deref() == Some("hostile-panic"))
        .expect("status");
    assert!(panic_status.counters.as_ref().expect("counters").traps >= 1);
    let (again, _) = audit(&set).await;
    assert_sg_intact(&again);
    assert!(item_error(&again, "hostile-panic").contains("panicked"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capabilities_are_checked_at_load_and_on_every_call() {
    let receiver = Receiver::start(200, "pong", None);
    let port = receiver.port;
    let redirect = Receiver::start(
        200,
        "",
        Some("http://169.254.169.254/latest/meta-data/".into()),
    );
    let mut config = String::new();
    // Imports http/items/accounts/mail but the operator granted nothing.
    config.push_str(&operator(
        "hostile-nogrant",
        "mode = \"ok\"",
        Some("accounts = false"),
        "",
    ));
    // Granted origins, calling one that is not granted.
    config.push_str(&operator(
        "hostile-http-other",
        "mode = \"http\"\nurl = \"http://203.0.113.9/exfiltrate\"",
        None,
        "",
    ));
    // A granted name that resolves to loopback, without a private-network grant.
    let localhost = format!(
        r#"accounts = true
items = {{ resource_types = ["AWS::EC2::SecurityGroup"] }}
http = {{ origins = ["http://localhost:{port}"] }}
mail = {{ recipients = ["sec@example.com"] }}"#
    );
    config.push_str(&operator(
        "hostile-http-loopback",
        &format!("mode = \"http\"\nurl = \"http://localhost:{port}/x\""),
        Some(&localhost),
        "",
    ));
    config.push_str(&operator(
        "hostile-http-metadata",
        "mode = \"http\"\nurl = \"http://169.254.169.254/latest/meta-data/\"",
        None,
        "",
    ));
    // Loopback explicitly granted: the call goes through (so the denials above mean something).
    let granted = format!(
        r#"accounts = true
items = {{ resource_types = ["AWS::EC2::SecurityGroup"] }}
http = {{ origins = ["http://127.0.0.1:{port}", "http://127.0.0.1:{rport}"], private_networks = ["127.0.0.0/8"] }}
mail = {{ recipients = ["sec@example.com"] }}"#,
        rport = redirect.port
    );
    config.push_str(&operator(
        "hostile-http-ok",
        &format!("mode = \"http\"\nurl = \"http://127.0.0.1:{port}/ping\""),
        Some(&granted),
        "",
    ));
    // Redirect from a granted origin to the metadata address: re-checked and refused.
    config.push_str(&operator(
        "hostile-http-redirect",
        &format!(
            "mode = \"http\"\nurl = \"http://127.0.0.1:{}/go\"",
            redirect.port
        ),
        Some(&granted),
        "",
    ));
    // Items granted for security groups only; asks for IAM users.
    config.push_str(&operator(
        "hostile-items",
        "mode = \"items\"\nresource_type = \"AWS::IAM::User\"",
        None,
        "",
    ));
    config.push_str(&operator(
        "hostile-items-ok",
        "mode = \"items\"\nresource_type = \"AWS::EC2::SecurityGroup\"",
        None,
        "",
    ));
    let env = Env::new(&config);
    // Manifests must request the origins the operator granted.
    let with_origin = |id: &str| {
        hostile_manifest(id).replace(
            "\"http://127.0.0.1:1\"",
            &format!(
                "\"http://127.0.0.1:{port}\", \"http://127.0.0.1:{}\", \"http://localhost:{port}\"",
                redirect.port
            ),
        )
    };
    let bytes = std::fs::read(wasm("simian_fixture_hostile")).expect("hostile wasm");
    for id in [
        "hostile-nogrant",
        "hostile-http-other",
        "hostile-http-loopback",
        "hostile-http-metadata",
        "hostile-http-ok",
        "hostile-http-redirect",
        "hostile-items",
        "hostile-items-ok",
    ] {
        env.deploy(id, &bytes, &with_origin(id));
    }
    let evil = std::fs::read(wasm("simian_fixture_undeclared_import")).expect("evil wasm");
    env.deploy(
        "undeclared-import",
        &evil,
        "id = \"undeclared-import\"\nversion = \"0.1.0\"\nkind = \"auditor\"\ncontract = \"0.1.0\"\nresource_types = [\"AWS::EC2::SecurityGroup\"]\n",
    );
    deploy_sg(&env);
    let set = load(&env).await;

    let statuses = set.statuses().await;
    let status = |id: &str| {
        statuses
            .iter()
            .find(|s| s.id.as_deref() == Some(id))
            .unwrap_or_else(|| panic!("no status for {id}"))
    };
    let nogrant = status("hostile-nogrant");
    assert_eq!(nogrant.status, "rejected");
    let err = nogrant.last_error.as_deref().unwrap_or_default();
    assert!(
        err.contains("plugin `hostile-nogrant` imports capability")
            && err.contains("not granted")
            && err.contains("[plugin.hostile-nogrant.grants]"),
        "{err}"
    );
    let evil_status = status("undeclared-import");
    assert_eq!(evil_status.status, "rejected");
    let err = evil_status.last_error.as_deref().unwrap_or_default();
    assert!(
        err.contains("undeclared-import") && err.contains("evil:"),
        "{err}"
    );

    let (report, elapsed) = audit(&set).await;
    assert!(elapsed < BOUND, "audit took {elapsed:?}");
    assert_sg_intact(&report);
    // Load rejections show up in the audit report without hiding anyone's issues.
    assert!(
        report
            .plugin_errors
            .iter()
            .any(|p| p.plugin == "hostile-nogrant")
    );

    let other = issue_notes(&report, "hostile-http-other");
    assert!(
        other.starts_with("error:denied:") && other.contains("203.0.113.9"),
        "{other}"
    );
    let loopback = issue_notes(&report, "hostile-http-loopback");
    assert!(
        loopback.starts_with("error:denied:") && loopback.contains("loopback"),
        "{loopback}"
    );
    let metadata = issue_notes(&report, "hostile-http-metadata");
    assert!(
        metadata.starts_with("error:denied:") && metadata.contains("link-local"),
        "{metadata}"
    );
    let redirected = issue_notes(&report, "hostile-http-redirect");
    assert!(redirected.starts_with("error:denied:"), "{redirected}");
    assert_eq!(issue_notes(&report, "hostile-http-ok"), "status:200");
    // Only the granted calls (one per audited item) and the redirecting hops reached a server.
    assert_eq!(receiver.count(), 2);
    assert_eq!(redirect.count(), 2);

    let items = issue_notes(&report, "hostile-items");
    assert!(
        items.starts_with("error:denied:") && items.contains("AWS::IAM::User"),
        "{items}"
    );
    assert_eq!(issue_notes(&report, "hostile-items-ok"), "items:2");
}
