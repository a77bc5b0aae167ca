//! Game days end to end: `simian drill` against the emulator while `simian run` sweeps it,
//! with the example rule, the S3 rule, the email notifier (SMTP sink) and the webhook notifier
//! (loopback receiver). Each drill makes its tagged change, times every stage, reverts, and
//! leaves nothing behind — also when it misses the SLO or is interrupted; accounts not named
//! in `[drill]` are refused before anything is touched.

use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use simian_tests::http::Receiver;
use simian_tests::moto::{ACCOUNT, Moto};
use simian_tests::pg::on_postgres;
use simian_tests::smtp::SmtpSink;
use simian_tests::{Env, deploy_shipped, simian_bin, wait_until};

fn config(smtp: u16, hook: u16, drill: &str, storage: Option<&str>) -> String {
    let storage = storage.map_or(String::new(), |url| format!("[storage]\nurl = \"{url}\"\n"));
    let notifiers = simian_tests::notifier_sections(smtp, hook, "sec@example.com", 5);
    format!(
        r#"
{storage}
[[accounts]]
id = "{ACCOUNT}"
name = "drills"
regions = ["us-east-1"]

[aws]
requests_per_second = 0

[watch]
interval_seconds = 2

{drill}

[notify]
retry_initial_ms = 200
retry_max_ms = 1000

[plugin.s3-bucket.grants]
accounts = true

{notifiers}
"#
    )
}

const DRILL: &str = "[drill]\naccounts = [\"123456789012\"]\nslo_seconds = 60";

/// Drill resources left in the emulator: groups and interfaces tagged as drills, buckets
/// named as drills.
async fn leftovers(moto: &Moto) -> Vec<String> {
    let conf = moto.sdk_config().await;
    let ec2 = aws_sdk_ec2::Client::new(&conf);
    let tagged = || {
        aws_sdk_ec2::types::Filter::builder()
            .name("tag-key")
            .values("simian:drill")
            .build()
    };
    let mut out: Vec<String> = ec2
        .describe_security_groups()
        .filters(tagged())
        .send()
        .await
        .expect("groups")
        .security_groups()
        .iter()
        .filter_map(|g| g.group_id().map(str::to_string))
        .collect();
    out.extend(
        ec2.describe_network_interfaces()
            .filters(tagged())
            .send()
            .await
            .expect("interfaces")
            .network_interfaces()
            .iter()
            .filter_map(|n| n.network_interface_id().map(str::to_string)),
    );
    out.extend(
        aws_sdk_s3::Client::new(&conf)
            .list_buckets()
            .send()
            .await
            .expect("buckets")
            .buckets()
            .iter()
            .filter_map(|b| b.name())
            .filter(|n| n.starts_with("simian-drill-"))
            .map(str::to_string),
    );
    out
}

fn drill(env: &Env, moto: &Moto, args: &[&str]) -> (i32, String, String) {
    let mut all = vec!["drill"];
    all.extend_from_slice(args);
    let out = env.cli_env(&all, &moto.env());
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drill_passes_and_leaves_nothing_behind_on_sqlite() {
    game_day(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drill_passes_and_leaves_nothing_behind_on_postgres() {
    on_postgres("drill", |url| async move { game_day(Some(&url)).await }).await;
}

async fn game_day(storage: Option<&str>) {
    let moto = Moto::start();
    let smtp = SmtpSink::start();
    let hook = Receiver::start(200, "ok", None);
    let env = Env::new(&config(smtp.port, hook.port, DRILL, storage));
    for id in [
        "sg-internet-accessible",
        "s3-bucket",
        "email-notifier",
        "webhook-notifier",
    ] {
        deploy_shipped(&env, id);
    }

    // Refused before anything is touched: an account [drill] does not name.
    let (code, _, err) = drill(&env, &moto, &["--account", "999999999999"]);
    assert_ne!(code, 0);
    assert!(err.contains("999999999999 is not a drill account"), "{err}");
    assert!(leftovers(&moto).await.is_empty());

    let host = env.start_host_env(&moto.env());
    assert!(
        wait_until(Duration::from_secs(90), || host
            .log_text()
            .contains("scheduled sweep done")),
        "{}",
        host.log_text()
    );

    // The open group: every stage seen well within the SLO, then reverted and fixed.
    let (code, table, err) = drill(&env, &moto, &[]);
    println!("{table}");
    assert_eq!(code, 0, "{table}\n{err}\n{}", host.log_text());
    for stage in [
        "change made",
        "revision stored (sweep)",
        "issue opened",
        "notified by email-notifier",
        "notified by webhook-notifier",
        "reverted",
        "issue fixed (after the revert)",
    ] {
        assert!(table.contains(stage), "no `{stage}` in\n{table}");
    }
    assert!(table.contains("PASS: every stage within 60 s"), "{table}");
    assert!(!table.contains("MISSED"), "{table}");
    assert!(leftovers(&moto).await.is_empty(), "{table}");
    // Both notifiers' messages say it is a drill.
    assert!(
        smtp.messages()
            .iter()
            .any(|m| m.text.contains("simian-drill-")),
        "{:#?}",
        smtp.messages()
    );
    let posted = hook
        .received
        .lock()
        .map(|r| {
            r.iter()
                .any(|q| String::from_utf8_lossy(&q.body).contains("simian-drill-"))
        })
        .unwrap_or(false);
    assert!(posted, "the webhook never heard of the drill");

    // The public bucket, as JSON.
    let (code, json, err) = drill(
        &env,
        &moto,
        &["--scenario", "public-bucket-policy", "--format", "json"],
    );
    assert_eq!(code, 0, "{json}\n{err}\n{}", host.log_text());
    let report: Value = serde_json::from_str(&json).expect("drill JSON");
    assert_eq!(report["passed"], true, "{report:#}");
    assert_eq!(report["scenario"], "public-bucket-policy");
    assert_eq!(report["seen_via"], "sweep");
    assert_eq!(report["slo_seconds"], 60);
    assert!(
        report["resource"]["arn"]
            .as_str()
            .is_some_and(|a| a.starts_with("arn:aws:s3:::simian-drill-123456789012-")),
        "{report:#}"
    );
    let stages = report["stages"].as_array().expect("stages");
    assert_eq!(stages.len(), 7, "{report:#}");
    for s in stages {
        assert!(s["latency_ms"].as_u64().is_some(), "{s}");
        assert_eq!(s["within_slo"], true, "{s}");
    }
    assert!(leftovers(&moto).await.is_empty());

    // Interrupted while waiting: reverted all the same, exit 130.
    let child = Command::new(simian_bin())
        .args(["drill", "--config"])
        .arg(env.config_path())
        .envs(moto.env())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the drill");
    let made = {
        let until = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            if !leftovers(&moto).await.is_empty() || std::time::Instant::now() > until {
                break !leftovers(&moto).await.is_empty();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    assert!(made, "the drill made no change");
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let out = child.wait_with_output().expect("drill output");
    let table = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(130), "{table}");
    assert!(
        table.contains("INTERRUPTED: the change was reverted"),
        "{table}"
    );
    assert!(leftovers(&moto).await.is_empty(), "{table}");

    // No host watching: every stage missed, exit 5, and still nothing left behind.
    drop(host);
    env.write_config(&config(
        smtp.port,
        hook.port,
        "[drill]\naccounts = [\"123456789012\"]\nslo_seconds = 2",
        storage,
    ));
    let (code, table, _) = drill(&env, &moto, &[]);
    assert_eq!(code, 5, "{table}");
    assert!(table.contains("MISSED"), "{table}");
    assert!(
        table.contains("FAIL: not every stage within 2 s"),
        "{table}"
    );
    assert!(leftovers(&moto).await.is_empty(), "{table}");

    // Without a [drill] section, drills are off.
    env.write_config(&config(smtp.port, hook.port, "", storage));
    let (code, _, err) = drill(&env, &moto, &[]);
    assert_ne!(code, 0);
    assert!(err.contains("no drill accounts"), "{err}");
}
