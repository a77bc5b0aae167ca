//! Per-plugin budgets, end to end: `simian run` against the emulator with an auditor allowed
//! one call and a webhook notifier one http request per 30-second window. After the first
//! sweep both are paused, with the numbers in `simian plugins --format json` and `/metrics`
//! and a monitoring notice mailed. A change made while paused produces no issue and fixes
//! none; the webhook's batches wait in the outbox. When the window rolls over both resume: the
//! skipped change is audited (the new issue appears, the fixed one is fixed), the held batch is
//! delivered, and the notice is mailed as fixed.
//!
//! Nothing here asserts a duration: the test waits for the start of a window so the steps
//! that must happen while paused fit in one, and checks that they did (the pause it saw is
//! still the same one afterwards).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use simian_tests::http::Receiver;
use simian_tests::moto::{
    ACCOUNT, Moto, allow_tcp, attach, aws_env, create_group, free_port, revoke_tcp,
};
use simian_tests::pg::on_postgres;
use simian_tests::smtp::SmtpSink;
use simian_tests::{Env, deploy_shipped, wait_until};

const WINDOW_SECONDS: u64 = 30;
const AUDITOR: &str = "sg-internet-accessible";
const PAUSE_TITLE: &str = "Monitoring: A plugin is paused over its budget";

fn config(smtp: u16, hook: u16, metrics: u16, storage: Option<&str>) -> String {
    let storage = storage.map_or(String::new(), |url| format!("[storage]\nurl = \"{url}\"\n"));
    let notifiers = simian_tests::notifier_sections(smtp, hook, "ops@example.com", 0);
    // The first line continues the `[plugins]` section `Env` writes.
    format!(
        r#"budget_window_seconds = {WINDOW_SECONDS}
{storage}
[[accounts]]
id = "{ACCOUNT}"
name = "main"
regions = ["us-east-1"]

[aws]
requests_per_second = 0

[watch]
interval_seconds = 2

[monitor]
listen = "127.0.0.1:{metrics}"
check_seconds = 1

[notify]
retry_initial_ms = 100
retry_max_ms = 300

[plugin.{AUDITOR}.limits]
calls_per_hour = 1

[plugin.webhook-notifier.limits]
http_per_hour = 1

{notifiers}
"#
    )
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as i64
}

/// Sleep until a budget window has just begun.
fn wait_for_window_start() {
    let window = (WINDOW_SECONDS * 1000) as i64;
    let into = now_ms().rem_euclid(window);
    std::thread::sleep(Duration::from_millis((window - into) as u64 + 200));
}

fn plugin(env: &Env, moto: &Moto, id: &str) -> Value {
    let out = env.cli_env(&["plugins", "--format", "json"], &moto.env());
    let listing: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    listing["plugins"]
        .as_array()
        .and_then(|l| l.iter().find(|p| p["id"] == id).cloned())
        .unwrap_or(Value::Null)
}

/// (resource name, status) of the auditor's issues.
fn issues(env: &Env, moto: &Moto) -> Vec<(String, String)> {
    let out = env.cli_env(
        &["issues", "--status", "all", "--format", "json"],
        &moto.env(),
    );
    let mut found: Vec<(String, String)> = serde_json::from_slice::<Value>(&out.stdout)
        .ok()
        .and_then(|v| v["issues"].as_array().cloned())
        .unwrap_or_default()
        .into_iter()
        .filter(|i| i["plugin"] == AUDITOR)
        .map(|i| {
            (
                i["resource_name"].as_str().unwrap_or("").to_string(),
                if i["open"] == true { "open" } else { "fixed" }.to_string(),
            )
        })
        .collect();
    found.sort();
    found
}

fn mails_with(smtp: &SmtpSink, needles: &[&str]) -> usize {
    smtp.messages()
        .iter()
        .filter(|m| needles.iter().all(|n| m.text.contains(n)))
        .count()
}

async fn metrics(port: u16) -> String {
    reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
        .await
        .expect("metrics reachable")
        .text()
        .await
        .expect("body")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_auditor_and_a_notifier_over_budget_pause_and_resume_on_sqlite() {
    budgets(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_auditor_and_a_notifier_over_budget_pause_and_resume_on_postgres() {
    on_postgres("budgets", |url| async move { budgets(Some(&url)).await }).await;
}

// Long because it is one story in order: pause, what a pause holds back, resume.
async fn budgets(storage: Option<&str>) {
    let moto = Moto::start();
    let ec2 = aws_sdk_ec2::Client::new(&moto.sdk_config().await);
    let ssh = create_group(&ec2, "open-ssh", "ssh from anywhere").await;
    allow_tcp(&ec2, &ssh, 22, "0.0.0.0/0").await;
    attach(&ec2, &[&ssh]).await;
    let smtp = SmtpSink::start();
    let hook = Receiver::start(200, "ok", None);
    let metrics_port = free_port();
    let env = Env::new(&config(smtp.port, hook.port, metrics_port, storage));
    for id in [AUDITOR, "email-notifier", "webhook-notifier"] {
        deploy_shipped(&env, id);
    }
    wait_for_window_start();
    let host = env.start_host_env(&aws_env(&moto.endpoint()));

    // The first sweep's audit is the auditor's one call: it finds open-ssh, then pauses.
    assert!(
        wait_until(
            Duration::from_secs(60),
            || plugin(&env, &moto, AUDITOR)["usage"]["status"] == "paused"
        ),
        "the auditor did not pause:\n{:#}\n{}",
        plugin(&env, &moto, AUDITOR),
        host.log_text()
    );
    assert_eq!(
        issues(&env, &moto),
        [("open-ssh".to_string(), "open".to_string())]
    );
    let auditor = plugin(&env, &moto, AUDITOR);
    let usage = &auditor["usage"];
    let until = usage["paused_until_ms"].as_i64().expect("paused until");
    assert_eq!(usage["budget"]["calls"], 1, "{usage:#}");
    assert_eq!(usage["budget"]["window_seconds"], WINDOW_SECONDS);
    assert_eq!(usage["window"]["calls"], 1, "{usage:#}");
    assert_eq!(usage["window_end_ms"].as_i64(), Some(until));
    assert_eq!(until.rem_euclid((WINDOW_SECONDS * 1000) as i64), 0);
    assert!(
        usage["paused"].as_str().is_some_and(
            |p| p.starts_with("paused: calls budget 1 calls per 30 s spent (1 calls) until ")
        ),
        "{usage:#}"
    );
    assert_eq!(usage["last_sweep"]["calls"], 1, "{usage:#}");
    assert!(auditor["counters"]["peak_memory_bytes"].as_u64() > Some(0));

    // The webhook delivered the sweep's news with its one request, then paused.
    assert!(
        wait_until(Duration::from_secs(30), || plugin(
            &env,
            &moto,
            "webhook-notifier"
        )["usage"]["status"]
            == "paused"),
        "the webhook did not pause:\n{:#}\n{}",
        plugin(&env, &moto, "webhook-notifier"),
        host.log_text()
    );
    assert_eq!(hook.count(), 1);
    let webhook = plugin(&env, &moto, "webhook-notifier");
    assert_eq!(webhook["usage"]["window"]["http"], 1, "{webhook:#}");
    assert_eq!(webhook["usage"]["totals"]["http"], 1, "{webhook:#}");
    assert_eq!(webhook["usage"]["budget"]["http"], 1, "{webhook:#}");

    // Each pause is mailed (by the email notifier, which has no budget).
    assert!(
        wait_until(Duration::from_secs(30), || mails_with(
            &smtp,
            &[
                PAUSE_TITLE,
                AUDITOR,
                "paused: calls budget 1 calls per 30 s"
            ]
        ) == 1
            && mails_with(
                &smtp,
                &[
                    PAUSE_TITLE,
                    "webhook-notifier",
                    "paused: http budget 1 requests per 30 s"
                ]
            ) == 1),
        "no pause notices:\n{:#?}\n{}",
        smtp.messages(),
        host.log_text()
    );
    let text = metrics(metrics_port).await;
    for line in [
        format!("simian_plugin_paused{{plugin=\"{AUDITOR}\"}} 1"),
        "simian_plugin_paused{plugin=\"email-notifier\"} 0".to_string(),
        format!("simian_plugin_window_calls{{plugin=\"{AUDITOR}\"}} 1"),
        "simian_plugin_host_calls{plugin=\"webhook-notifier\",capability=\"http\"} 1".to_string(),
        "simian_plugin_host_calls{plugin=\"email-notifier\",capability=\"mail\"}".to_string(),
        format!("simian_plugin_peak_memory_bytes{{plugin=\"{AUDITOR}\"}}"),
        format!("simian_plugin_cpu_seconds{{plugin=\"{AUDITOR}\"}}"),
        format!("simian_alarm{{kind=\"plugin-budget\",subject=\"{AUDITOR}\"}} 1"),
    ] {
        assert!(text.contains(&line), "missing {line} in\n{text}");
    }

    // While paused: open-ssh is fixed in AWS and open-rdp opened. Sweeps record both changes,
    // but the auditor is not called: no new issue, and open-ssh's is not marked fixed.
    revoke_tcp(&ec2, &ssh, 22, "0.0.0.0/0").await;
    let rdp = create_group(&ec2, "open-rdp", "rdp from anywhere").await;
    allow_tcp(&ec2, &rdp, 3389, "0.0.0.0/0").await;
    attach(&ec2, &[&rdp]).await;
    assert!(
        wait_until(
            Duration::from_secs(20),
            || plugin(&env, &moto, AUDITOR)["usage"]["skipped"].as_u64() >= Some(2)
        ),
        "the changes were not held back:\n{:#}\n{}",
        plugin(&env, &moto, AUDITOR),
        host.log_text()
    );
    assert_eq!(
        issues(&env, &moto),
        [("open-ssh".to_string(), "open".to_string())]
    );
    let still = plugin(&env, &moto, AUDITOR);
    assert_eq!(
        still["usage"]["paused_until_ms"].as_i64(),
        Some(until),
        "the window rolled over before the change was held back (machine too slow for a {WINDOW_SECONDS} s window):\n{still:#}"
    );
    assert_eq!(still["usage"]["window"]["calls"], 1, "{still:#}");
    // The webhook's batches (the auditor's pause notice at least) wait in its outbox.
    let webhook = plugin(&env, &moto, "webhook-notifier");
    assert!(
        webhook["outbox"]["pending"].as_u64() >= Some(1),
        "{webhook:#}"
    );
    assert_eq!(webhook["outbox"]["failing"], 0, "{webhook:#}");
    assert_eq!(hook.count(), 1);

    // The window rolls over: the auditor audits what it skipped, the webhook delivers.
    assert!(
        wait_until(Duration::from_secs(60), || issues(&env, &moto)
            == [
                ("open-rdp".to_string(), "open".to_string()),
                ("open-ssh".to_string(), "fixed".to_string()),
            ]),
        "the skipped changes were not audited on resume: {:?}\n{}",
        issues(&env, &moto),
        host.log_text()
    );
    assert!(now_ms() >= until);
    assert!(
        wait_until(Duration::from_secs(30), || mails_with(
            &smtp,
            &["Fixed issues", PAUSE_TITLE, AUDITOR]
        ) >= 1),
        "the auditor's pause notice was not cleared:\n{:#?}\n{}",
        smtp.messages(),
        host.log_text()
    );
    assert!(
        wait_until(Duration::from_secs(30), || hook.count() >= 2),
        "the held batch was not delivered:\n{}",
        host.log_text()
    );
    let resumed = plugin(&env, &moto, AUDITOR);
    // The resume's re-audit was this window's call.
    assert_eq!(resumed["usage"]["window"]["calls"], 1, "{resumed:#}");
    assert_eq!(resumed["usage"]["totals"]["calls"], 2, "{resumed:#}");
    assert_eq!(resumed["usage"]["skipped"], 0, "{resumed:#}");
    assert!(resumed["usage"]["window_start_ms"].as_i64() >= Some(until));
    let table = env.cli_env(&["plugins"], &moto.env());
    let table = String::from_utf8_lossy(&table.stdout);
    // Shown when run with --nocapture: the figures the docs quote.
    println!("{table}");
    assert!(table.contains("BUDGET_STATE"), "{table}");
    assert!(table.contains("1 calls per 30 s"), "{table}");
}
