//! Hostile plugins against the real host runtime: each misbehaviour is contained, named, and
//! bounded, and the well-behaved plugin's issues in the same audit are intact.

use std::sync::Arc;
use std::time::Duration;

use simian::item::Item;
use simian::services::items::MemoryItems;
use simian_tests::hostile::*;
use simian_tests::http::Receiver;
use simian_tests::{Env, logs, wasm};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runaway_plugins_are_contained_and_named() {
    logs::capture();
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
            "timeout_ms = 10000",
        ),
        ("hostile-exit", "mode = \"exit\"", ""),
        ("hostile-remedy", "mode = \"huge-remediation\"", ""),
        (
            "hostile-logflood",
            "mode = \"log-flood\"\ncount = 200000",
            "timeout_ms = 10000",
        ),
        ("hostile-forge", "mode = \"log-forge\"", ""),
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
        cases.len() + 1,
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
    // Flooding stdout is not an error: the output is capped and the answer still arrives,
    // well inside the budget (writes past the cap cost next to nothing).
    assert_eq!(issue_notes(&report, "hostile-flood"), "sg-open");
    assert_well_inside_budget(&set, "hostile-flood", 10_000).await;
    // Exiting is named as such, not as a raw trap with a backtrace.
    let exit_err = item_error(&report, "hostile-exit");
    assert!(
        exit_err.contains("exited (status 0) instead of returning") && !exit_err.contains("wasm"),
        "{exit_err}"
    );
    let remedy_err = item_error(&report, "hostile-remedy");
    assert!(
        remedy_err.contains("bytes of remediation; the limit is 16384"),
        "{remedy_err}"
    );

    // `log` has a per-call budget: 200,000 records cost a bounded log and one summary line.
    assert_eq!(issue_notes(&report, "hostile-logflood"), "sg-open");
    assert_well_inside_budget(&set, "hostile-logflood", 10_000).await;
    let calls = status(&set, "hostile-logflood")
        .await
        .counters
        .expect("counters")
        .calls;
    let records = logs::lines_with("hostile log record").len() as u64;
    assert!(
        records > 0 && records <= calls * u64::from(simian::plugin::host::LOG_RECORDS_PER_CALL),
        "{records} records logged in {calls} calls"
    );
    let summaries = logs::lines_with("log messages over the per-call budget");
    assert!(
        summaries.iter().any(|l| l.contains("hostile-logflood")),
        "no summary line: {summaries:#?}"
    );
    // A record cannot forge a host line, drive the terminal, or leak a webhook path.
    let log = logs::text();
    let forged: Vec<&str> = log.lines().filter(|l| l.contains("innocent")).collect();
    assert!(!forged.is_empty(), "the forging record was not logged");
    for line in &forged {
        assert!(line.contains("innocent\\nERROR simian: FORGED"), "{line}");
        assert!(line.contains("https://hooks.example.com/…"), "{line}");
    }
    assert!(
        !log.lines().any(|l| l.starts_with("ERROR simian: FORGED")),
        "a plugin forged a log line"
    );
    assert!(!log.contains('\x1b'), "an escape sequence reached the log");
    assert!(!log.contains("LOGSECRET"), "a URL path reached the log");

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

/// The plugin's calls took, on average, well under a quarter of its configured budget.
async fn assert_well_inside_budget(set: &simian::plugin::PluginSet, id: &str, budget_ms: u64) {
    let counters = status(set, id).await.counters.expect("counters");
    assert!(
        counters.calls > 0 && counters.timeouts == 0,
        "{id}: {counters:?}"
    );
    let per_call = counters.total_time_ms / counters.calls as f64;
    assert!(
        per_call < budget_ms as f64 / 4.0,
        "{id} took {per_call:.0} ms per call against a {budget_ms} ms budget"
    );
}

/// The grants `operator` gives by default, with the `mail` line replaced if asked.
fn default_grants(mail: Option<&str>) -> String {
    let mail = mail.unwrap_or("mail = { recipients = [\"sec@example.com\"] }");
    format!(
        "accounts = true\nitems = {{ resource_types = [\"AWS::EC2::SecurityGroup\"] }}\nhttp = {{ origins = [\"http://127.0.0.1:1\"] }}\n{mail}"
    )
}

/// `n` open security groups.
fn many_groups(n: usize) -> Vec<Item> {
    let doc = serde_json::Value::Array(
        (0..n)
            .map(|i| {
                serde_json::json!({
                    "resourceType": "AWS::EC2::SecurityGroup",
                    "resourceId": format!("sg-{i}"),
                    "resourceName": format!("group-{i}"),
                    "arn": format!("arn:aws:ec2:us-east-1:123456789012:security-group/sg-{i}"),
                    "accountId": "123456789012",
                    "awsRegion": "us-east-1",
                    "configurationItemCaptureTime": "2026-11-22T00:00:00Z",
                    "configuration": {"groupId": format!("sg-{i}"), "ipPermissions": []}
                })
            })
            .collect(),
    );
    Item::parse_document(&doc.to_string(), "groups.json").expect("items")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_trap_is_not_retried_item_by_item_past_its_budget() {
    // Every call traps after 300 ms of a 500 ms budget: splitting a batch of 20 into single
    // items would cost 21 calls; the split may spend two budgets.
    let (timeout_ms, spin_ms, items) = (500u64, 300u64, 20usize);
    let env = Env::new(&operator(
        "hostile-late",
        &format!("mode = \"late-trap\"\nspin_ms = {spin_ms}"),
        None,
        &format!("timeout_ms = {timeout_ms}"),
    ));
    deploy_hostile(&env, "hostile-late");
    let set = load(&env).await;
    let (report, _) = audit_these(&set, many_groups(items)).await;
    for item in &report.items {
        let err = &item.errors.first().expect("an error per item").error;
        assert!(err.contains("panicked"), "{err}");
    }
    let budget_calls = u64::from(simian::audit::SPLIT_BUDGET_CALLS) * timeout_ms / spin_ms + 1;
    let calls = status(&set, "hostile-late")
        .await
        .counters
        .expect("counters")
        .calls;
    // One describe() at load, the batch, then the bounded split.
    assert!(
        calls <= 2 + budget_calls && calls < 2 + items as u64,
        "{calls} calls for one batch of {items}"
    );
    let skipped = report
        .items
        .iter()
        .filter(|i| i.errors[0].error.contains("not retried item by item"))
        .count();
    assert!(skipped >= items - budget_calls as usize, "{report:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminal_escapes_never_reach_the_operators_terminal() {
    let env = Env::new(&operator(
        "hostile-terminal",
        "mode = \"terminal\"",
        None,
        "",
    ));
    deploy_hostile(&env, "hostile-terminal");
    let items = env.write_file("items.json", &simian_tests::sg_items());
    let path = items.to_str().expect("path");
    let table = env.cli(&["audit", "--item", path]);
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(table.status.success(), "{text}");
    assert!(text.contains("Title\\nFORGED ROW"), "{text}");
    assert!(!text.contains('\x1b') && !text.contains('\r'), "{text:?}");
    assert!(!text.lines().any(|l| l.starts_with("FORGED ROW")), "{text}");
    assert!(text.contains("\\u{202e}"), "{text}");
    // JSON keeps the plugin's text exactly (escaped the JSON way).
    let json = env.cli(&["audit", "--item", path, "--format", "json"]);
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(
        report["items"][0]["issues"][0]["title"],
        "\x1b]0;pwned\x07\x1b[2JTitle\nFORGED ROW"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn items_outside_the_grant_look_exactly_like_unknown_ones() {
    let user_arn = "arn:aws:iam::123456789012:user/alice";
    let user = serde_json::json!([{
        "resourceType": "AWS::IAM::User",
        "resourceId": "AIDAALICE",
        "resourceName": "alice",
        "arn": user_arn,
        "accountId": "123456789012",
        "awsRegion": "global",
        "configurationItemCaptureTime": "2026-11-22T00:00:00Z",
        "configuration": {"userName": "alice"}
    }]);
    let mut stored = Item::parse_document(&user.to_string(), "user.json").expect("user");
    stored.extend(Item::parse_document(&simian_tests::sg_items(), "sg.json").expect("sgs"));
    let mut config = String::new();
    for (id, arn) in [
        ("hostile-arn-user", user_arn),
        (
            "hostile-arn-unknown",
            "arn:aws:iam::123456789012:user/nobody",
        ),
        (
            "hostile-arn-sg",
            "arn:aws:ec2:us-east-1:123456789012:security-group/sg-clean",
        ),
    ] {
        config.push_str(&operator(
            id,
            &format!("mode = \"items-arn\"\narn = \"{arn}\""),
            None,
            "",
        ));
    }
    let env = Env::new(&config);
    for id in ["hostile-arn-user", "hostile-arn-unknown", "hostile-arn-sg"] {
        deploy_hostile(&env, id);
    }
    let set = load_with(&env, Arc::new(MemoryItems::new(stored.clone()))).await;
    let items = Item::parse_document(&simian_tests::sg_items(), "sg.json").expect("items");
    let report =
        simian::audit::audit_items(&set, &items, Arc::new(MemoryItems::new(stored)), 64).await;
    // Granted security groups only: the IAM user answers like an ARN nobody has.
    assert_eq!(issue_notes(&report, "hostile-arn-user"), "none");
    assert_eq!(issue_notes(&report, "hostile-arn-unknown"), "none");
    assert_eq!(
        issue_notes(&report, "hostile-arn-sg"),
        "some:AWS::EC2::SecurityGroup"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ipv6_forms_embedding_loopback_or_metadata_are_refused() {
    let receiver = Receiver::start(200, "pong", None);
    let port = receiver.port;
    let mut config = String::new();
    let urls = [
        (
            "hostile-v6-compat",
            format!("http://[::127.0.0.1]:{port}/x"),
        ),
        (
            "hostile-v6-nat64",
            format!("http://[64:ff9b::7f00:1]:{port}/x"),
        ),
        (
            "hostile-v6-6to4",
            format!("http://[2002:7f00:1::1]:{port}/x"),
        ),
        (
            "hostile-v6-meta",
            "http://[64:ff9b::a9fe:a9fe]/latest/meta-data/".to_string(),
        ),
    ];
    let origins: Vec<String> = urls
        .iter()
        .map(|(_, u)| {
            let url = url_origin(u);
            format!("\"{url}\"")
        })
        .collect();
    let grants = format!(
        "accounts = true\nitems = {{ resource_types = [\"AWS::EC2::SecurityGroup\"] }}\nhttp = {{ origins = [{}] }}\nmail = {{ recipients = [\"sec@example.com\"] }}",
        origins.join(", ")
    );
    for (id, url) in &urls {
        config.push_str(&operator(
            id,
            &format!("mode = \"http\"\nurl = \"{url}\""),
            Some(&grants),
            "",
        ));
    }
    let env = Env::new(&config);
    for (id, _) in &urls {
        let manifest = hostile_manifest(id).replace("\"http://127.0.0.1:1\"", &origins.join(", "));
        env.deploy(id, &hostile_wasm(), &manifest);
    }
    let set = load(&env).await;
    assert_eq!(
        set.snapshot().len(),
        urls.len(),
        "{:#?}",
        set.statuses().await
    );
    let (report, _) = audit(&set).await;
    for (id, want) in [
        ("hostile-v6-compat", "loopback"),
        ("hostile-v6-nat64", "loopback"),
        ("hostile-v6-6to4", "loopback"),
        ("hostile-v6-meta", "link-local"),
    ] {
        let notes = issue_notes(&report, id);
        assert!(
            notes.starts_with("error:denied:") && notes.contains(want),
            "{id}: {notes}"
        );
    }
    assert_eq!(receiver.count(), 0, "a refused call reached the server");
}

/// `scheme://host:port` of a URL, as a grant names it.
fn url_origin(url: &str) -> String {
    let after = url.find("://").map_or(0, |i| i + 3);
    let end = url[after..].find('/').map_or(url.len(), |i| after + i);
    url[..end].to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn granted_directories_serve_regular_files_only() {
    let granted = tempfile::tempdir().expect("tempdir");
    std::fs::write(granted.path().join("roster.csv"), "alice\nbob\n").expect("roster");
    let fifo = granted.path().join("roster.fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    let dir = granted.path().display().to_string();
    let grants = format!("{}\nfiles = {{ dirs = [\"{dir}\"] }}", default_grants(None));
    let mut config = String::new();
    for (id, file) in [
        ("hostile-fifo", "roster.fifo"),
        ("hostile-file", "roster.csv"),
    ] {
        config.push_str(&operator(
            id,
            &format!("mode = \"file\"\npath = \"{dir}/{file}\""),
            Some(&grants),
            "timeout_ms = 5000",
        ));
    }
    let env = Env::new(&config);
    for id in ["hostile-fifo", "hostile-file"] {
        let manifest = format!("{}files = true\n", hostile_manifest(id));
        env.deploy(id, &hostile_wasm(), &manifest);
    }
    let set = load(&env).await;
    assert_eq!(set.snapshot().len(), 2, "{:#?}", set.statuses().await);
    let threads_before = process_threads();
    // Many calls: a blocking open would leak a thread each (and time out).
    for _ in 0..5 {
        let (report, _) = audit(&set).await;
        let fifo_notes = issue_notes(&report, "hostile-fifo");
        assert_eq!(fifo_notes, "refused:PermissionDenied", "{report:#?}");
        assert_eq!(issue_notes(&report, "hostile-file"), "read:10");
    }
    let counters = status(&set, "hostile-fifo")
        .await
        .counters
        .expect("counters");
    assert_eq!(counters.timeouts, 0);
    // No thread left blocked behind a FIFO (allow the runtime some slack of its own).
    let threads_after = process_threads();
    assert!(
        threads_after <= threads_before + 4,
        "threads {threads_before} -> {threads_after}"
    );
}

fn process_threads() -> usize {
    std::fs::read_dir("/proc/self/task").map_or(0, |d| d.count())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_recipients_are_plain_addresses_and_star_means_anyone() {
    let sink = simian_tests::smtp::SmtpSink::start();
    let domain_grant = default_grants(Some("mail = { recipients = [\"@corp.example\"] }"));
    let anyone = default_grants(Some("mail = { recipients = [\"*\"] }"));
    let cases = [
        (
            "hostile-mail-percent",
            "evil%attacker.example@corp.example",
            &domain_grant,
        ),
        (
            "hostile-mail-bang",
            "attacker.example!evil@corp.example",
            &domain_grant,
        ),
        (
            "hostile-mail-route",
            "@attacker.example:evil@corp.example",
            &domain_grant,
        ),
        ("hostile-mail-plain", "sec@corp.example", &domain_grant),
        ("hostile-mail-anyone", "someone@elsewhere.example", &anyone),
    ];
    let mut config = format!(
        "[smtp]\nhost = \"127.0.0.1\"\nport = {}\nfrom = \"simian@corp.example\"\ntls = \"none\"\n",
        sink.port
    );
    for (id, to, grant) in cases {
        config.push_str(&operator(
            id,
            &format!("mode = \"mail\"\nto = \"{to}\"\nbody = \"line one\\rline two\\r\\n.\\r\\nline three\""),
            Some(grant),
            "",
        ));
    }
    let env = Env::new(&config);
    for (id, _, _) in cases {
        let manifest = hostile_manifest(id).replace("[\"sec@example.com\"]", "[\"*\"]");
        env.deploy(id, &hostile_wasm(), &manifest);
    }
    let set = load(&env).await;
    assert_eq!(
        set.snapshot().len(),
        cases.len(),
        "{:#?}",
        set.statuses().await
    );
    let (report, _) = audit(&set).await;
    for id in [
        "hostile-mail-percent",
        "hostile-mail-bang",
        "hostile-mail-route",
    ] {
        let notes = issue_notes(&report, id);
        assert!(notes.starts_with("error:denied:"), "{id}: {notes}");
    }
    assert_eq!(issue_notes(&report, "hostile-mail-plain"), "sent");
    assert_eq!(issue_notes(&report, "hostile-mail-anyone"), "sent");
    // Two plugins, two items each: exactly those four mails, to exactly those addresses.
    assert!(
        simian_tests::wait_until(Duration::from_secs(10), || sink.messages().len() >= 4),
        "mails: {:#?}",
        sink.messages()
    );
    let mails = sink.messages();
    assert_eq!(mails.len(), 4, "{mails:#?}");
    for mail in &mails {
        assert!(
            mail.to == ["sec@corp.example"] || mail.to == ["someone@elsewhere.example"],
            "{mail:#?}"
        );
        assert!(!mail.bare_cr, "a bare CR reached the relay: {mail:#?}");
        let text = mail.text.replace("\r\n", "\n");
        assert!(
            text.contains("line one\nline two\n.\nline three"),
            "{mail:#?}"
        );
    }
}

/// A plugin that imports capabilities its manifest does not declare (as componentize-py and
/// componentize-js build every plugin) loads, and each such call is denied with what to declare
/// and grant; the operator's grants do not reach it, since the plugin never asked for them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undeclared_capabilities_load_and_answer_denied() {
    let modes = [
        ("http", "mode = \"http\"\nurl = \"http://127.0.0.1:1/x\""),
        ("mail", "mode = \"mail\"\nto = \"sec@example.com\""),
        (
            "items",
            "mode = \"items\"\nresource_type = \"AWS::EC2::SecurityGroup\"",
        ),
        (
            "accounts",
            "mode = \"accounts\"\naccount = \"222222222222\"",
        ),
    ];
    let mut config = String::new();
    for (cap, settings) in modes {
        // Full grants from the operator: still denied, the manifest does not ask.
        config.push_str(&operator(&format!("undeclared-{cap}"), settings, None, ""));
    }
    let env = Env::new(&config);
    let bytes = hostile_wasm();
    for (cap, _) in modes {
        let id = format!("undeclared-{cap}");
        let manifest = format!(
            "id = \"{id}\"\nversion = \"0.1.0\"\nkind = \"auditor\"\ncontract = \"0.1.0\"\nresource_types = [\"AWS::EC2::SecurityGroup\"]\nwasm = \"hostile.wasm\"\n[capabilities]\n"
        );
        env.deploy(&id, &bytes, &manifest);
    }
    deploy_sg(&env);
    let set = load(&env).await;
    for (cap, _) in modes {
        let id = format!("undeclared-{cap}");
        let s = status(&set, &id).await;
        assert_eq!(s.status, "loaded", "{id}: {:?}", s.last_error);
        assert!(s.capabilities.is_empty(), "{id}: {:?}", s.capabilities);
        assert_eq!(
            s.undeclared_capabilities,
            ["accounts", "items", "http", "mail"],
            "{id}"
        );
    }
    let (report, _) = audit(&set).await;
    assert_sg_intact(&report);
    for (cap, _) in modes {
        let id = format!("undeclared-{cap}");
        let notes = issue_notes(&report, &id);
        assert!(
            notes.starts_with("error:")
                && notes.contains("denied")
                && notes.contains(&format!(
                    "capability `{cap}` is not declared by plugin `{id}`"
                ))
                && notes.contains("[capabilities] in its plugin.toml")
                && notes.contains(&format!("[plugin.{id}.grants] {cap}")),
            "{id}: {notes}"
        );
    }
}
