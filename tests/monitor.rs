//! The host watching itself, end to end: `simian run` in front of a fault proxy that makes
//! one account unreachable (its role cannot be assumed) and a webhook receiver that is down.
//! The account's listings keep failing and go stale.
//! The monitor raises a notice for each through the other notifiers (the SMTP sink receives
//! them, the failing webhook never hears about itself), `/health/ready` says not ready and
//! `/metrics` shows the alarms; after recovery every notice is cleared and the host is ready.

use std::time::Duration;

use serde_json::Value;
use simian_tests::fault::{Fault, FaultProxy};
use simian_tests::http::Receiver;
use simian_tests::moto::{ACCOUNT, Moto, allow_tcp, attach, aws_env, create_group, free_port};
use simian_tests::pg::on_postgres;
use simian_tests::smtp::SmtpSink;
use simian_tests::{Env, deploy_shipped, wait_until};

const LOCKED: &str = "111111111111";

fn config(smtp: u16, hook: u16, metrics: u16, storage: Option<&str>) -> String {
    let storage = storage.map_or(String::new(), |url| format!("[storage]\nurl = \"{url}\"\n"));
    let notifiers = simian_tests::notifier_sections(smtp, hook, "ops@example.com", 0);
    format!(
        r#"
{storage}
[[accounts]]
id = "{ACCOUNT}"
name = "main"
regions = ["us-east-1"]

[[accounts]]
id = "{LOCKED}"
name = "locked"
role_arn = "arn:aws:iam::{LOCKED}:role/simian-audit"
regions = ["us-east-1"]

[aws]
requests_per_second = 0
max_attempts = 1

[watch]
interval_seconds = 3

[monitor]
listen = "127.0.0.1:{metrics}"
check_seconds = 1
failed_listings = 2
failed_deliveries = 2

[notify]
retry_initial_ms = 100
retry_max_ms = 300

{notifiers}
"#
    )
}

async fn get(port: u16, path: &str) -> (u16, String) {
    let r = reqwest::get(format!("http://127.0.0.1:{port}{path}"))
        .await
        .expect("reachable");
    (r.status().as_u16(), r.text().await.expect("body"))
}

/// Mails whose text mentions all of `needles`.
fn mails_with(smtp: &SmtpSink, needles: &[&str]) -> usize {
    smtp.messages()
        .iter()
        .filter(|m| needles.iter().all(|n| m.text.contains(n)))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_watcher_and_notifier_raise_and_clear_notices_on_sqlite() {
    monitoring(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_watcher_and_notifier_raise_and_clear_notices_on_postgres() {
    on_postgres("monitor", |url| async move { monitoring(Some(&url)).await }).await;
}

async fn monitoring(storage: Option<&str>) {
    let moto = Moto::start();
    let ec2 = aws_sdk_ec2::Client::new(&moto.sdk_config().await);
    let open = create_group(&ec2, "open-ssh", "ssh from anywhere").await;
    allow_tcp(&ec2, &open, 22, "0.0.0.0/0").await;
    attach(&ec2, &[&open]).await;
    let proxy = FaultProxy::start(moto.port);
    proxy.faults.add(Fault::Deny, None, |s| {
        s.action() == "AssumeRole" && s.params.get("RoleArn").is_some_and(|r| r.contains(LOCKED))
    });
    let smtp = SmtpSink::start();
    // Nothing listens here yet: webhook deliveries fail.
    let hook_port = free_port();
    let metrics = free_port();
    let env = Env::new(&config(smtp.port, hook_port, metrics, storage));
    for id in [
        "sg-internet-accessible",
        "email-notifier",
        "webhook-notifier",
    ] {
        deploy_shipped(&env, id);
    }
    let host = env.start_host_env(&aws_env(&proxy.endpoint()));
    assert!(
        wait_until(Duration::from_secs(60), || std::net::TcpStream::connect((
            "127.0.0.1",
            metrics
        ))
        .is_ok()),
        "no metrics listener:\n{}",
        host.log_text()
    );
    assert_eq!(get(metrics, "/health").await, (200, "ok".to_string()));

    // The locked account's listings keep failing: a notice by mail, naming the account.
    assert!(
        wait_until(Duration::from_secs(60), || mails_with(
            &smtp,
            &["Monitoring: Listings keep failing", LOCKED]
        ) == 1),
        "no failing-listing notice:\n{:#?}\n{}",
        smtp.messages(),
        host.log_text()
    );
    // Its listings also go stale: no complete listing within twice the interval.
    assert!(
        wait_until(Duration::from_secs(60), || mails_with(
            &smtp,
            &["Monitoring: Listings are stale", LOCKED]
        ) == 1),
        "no staleness notice:\n{:#?}\n{}",
        smtp.messages(),
        host.log_text()
    );
    // And the webhook, failing delivery after delivery, is reported to the others only.
    assert!(
        wait_until(Duration::from_secs(60), || mails_with(
            &smtp,
            &["Monitoring: A notifier keeps failing", "webhook-notifier"]
        ) == 1),
        "no failing-notifier notice:\n{:#?}\n{}",
        smtp.messages(),
        host.log_text()
    );
    let (status, body) = get(metrics, "/health/ready").await;
    assert_eq!(status, 503, "{body}");
    let ready: Value = serde_json::from_str(&body).expect("readiness JSON");
    assert_eq!(ready["ready"], false);
    assert_eq!(ready["store"], "ok");
    assert_eq!(ready["plugins_loaded"], 3);
    assert!(
        ready["accounts_with_failing_listings"].as_u64() >= Some(1),
        "{ready}"
    );
    assert!(!body.contains(LOCKED), "readiness names no account: {body}");
    let (_, text) = get(metrics, "/metrics").await;
    for line in [
        format!("simian_alarm{{kind=\"failing-listing\",subject=\"{LOCKED}\"}} 1"),
        "simian_alarm{kind=\"failing-notifier\",subject=\"webhook-notifier\"} 1".to_string(),
        format!(
            "simian_listings_total{{account=\"{LOCKED}\",region=\"us-east-1\",type=\"AWS::EC2::SecurityGroup\",result=\"access-denied\"}}"
        ),
        format!(
            "simian_listings_total{{account=\"{ACCOUNT}\",region=\"us-east-1\",type=\"AWS::EC2::SecurityGroup\",result=\"complete\"}}"
        ),
        "simian_outbox_failing{notifier=\"webhook-notifier\"}".to_string(),
        "simian_plugin_calls{plugin=\"sg-internet-accessible\"}".to_string(),
        format!("simian_aws_calls_total{{account=\"{ACCOUNT}\",service=\"ec2\"}}"),
        format!(
            "simian_listing_age_seconds{{account=\"{ACCOUNT}\",region=\"us-east-1\",type=\"AWS::EC2::SecurityGroup\"}}"
        ),
    ] {
        assert!(text.contains(&line), "missing {line} in\n{text}");
    }

    // Recovery: the role can be assumed again and the webhook comes up.
    proxy.faults.clear();
    let hook = Receiver::start_on(hook_port, 200, "ok", None);
    assert!(
        wait_until(Duration::from_secs(60), || {
            mails_with(
                &smtp,
                &["Fixed issues", "Monitoring: Listings keep failing", LOCKED],
            ) == 1
                && mails_with(
                    &smtp,
                    &["Fixed issues", "Monitoring: A notifier keeps failing"],
                ) == 1
                && mails_with(
                    &smtp,
                    &["Fixed issues", "Monitoring: Listings are stale", LOCKED],
                ) == 1
        }),
        "the notices were not cleared:\n{:#?}\n{}",
        smtp.messages(),
        host.log_text()
    );
    let mut ready = (0, String::new());
    for _ in 0..300 {
        ready = get(metrics, "/health/ready").await;
        if ready.0 == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(ready.0, 200, "not ready after recovery: {ready:?}");
    // The webhook got its backlog and the notices about the account, none about itself.
    let bodies: Vec<String> = hook
        .received
        .lock()
        .map(|r| {
            r.iter()
                .map(|q| String::from_utf8_lossy(&q.body).into_owned())
                .collect()
        })
        .unwrap_or_default();
    assert!(
        bodies.iter().any(|b| b.contains("Listings keep failing")),
        "{bodies:#?}"
    );
    assert!(
        !bodies
            .iter()
            .any(|b| b.contains("A notifier keeps failing")),
        "{bodies:#?}"
    );
    let (_, text) = get(metrics, "/metrics").await;
    assert!(
        !text.contains("simian_alarm{"),
        "alarms still raised:\n{text}"
    );
    drop(host);
}
