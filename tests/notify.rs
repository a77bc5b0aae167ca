//! Notifications end to end: `simian run` sweeping two emulated accounts on a short interval,
//! the example rule auditing them, the shipped email notifier talking to a real SMTP server
//! (aiosmtpd) and the webhook notifier to a real HTTP receiver on loopback — which is down at
//! first, so the outbox must retry, across a restart, and deliver once it is up.

use std::time::Duration;

use serde_json::Value;
use simian_tests::http::Receiver;
use simian_tests::moto::{ACCOUNT, Moto, allow_tcp, free_port, seed_estate};
use simian_tests::pg::on_postgres;
use simian_tests::smtp::SmtpSink;
use simian_tests::{Env, HostProcess, deploy_shipped, wait_until};

const SECOND: &str = "111111111111";

fn config(smtp_port: u16, hook_port: u16, storage: Option<&str>) -> String {
    let storage = storage.map_or(String::new(), |url| format!("[storage]\nurl = \"{url}\"\n"));
    let notifiers = simian_tests::notifier_sections(smtp_port, hook_port, "sec@example.com", 0);
    format!(
        r#"
{storage}
[[accounts]]
id = "{ACCOUNT}"
name = "demo"
regions = ["us-east-1"]

[[accounts]]
id = "{SECOND}"
name = "second"
role_arn = "arn:aws:iam::{SECOND}:role/simian-audit"
regions = ["us-east-1"]

[aws]
requests_per_second = 0

[watch]
interval_seconds = 2

[notify]
retry_initial_ms = 200
retry_max_ms = 1000

{notifiers}
"#
    )
}

/// Completed sweeps so far, from the host's log.
fn sweeps_done(host: &HostProcess) -> usize {
    host.log_text().matches("scheduled sweep done").count()
}

/// Let the host finish `n` more sweeps (of either account).
fn let_sweeps_pass(host: &HostProcess, n: usize) {
    let start = sweeps_done(host);
    assert!(
        wait_until(Duration::from_secs(60), || sweeps_done(host) >= start + n),
        "sweeps stopped:\n{}",
        host.log_text()
    );
}

fn notifier_entry(env: &Env, moto: &Moto, id: &str) -> Value {
    let out = env.cli_env(&["plugins", "--format", "json"], &moto.env());
    let listing: Value = serde_json::from_slice(&out.stdout).expect("plugins JSON");
    listing["plugins"]
        .as_array()
        .and_then(|list| list.iter().find(|p| p["id"] == id).cloned())
        .unwrap_or(Value::Null)
}

fn posted(receiver: &Receiver) -> Vec<Value> {
    receiver
        .received
        .lock()
        .map(|r| {
            r.iter()
                .map(|req| {
                    assert_eq!(
                        (req.method.as_str(), req.path.as_str()),
                        ("POST", "/hooks/simian")
                    );
                    serde_json::from_slice(&req.body).expect("webhook body is JSON")
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_message_per_account_per_sweep_and_the_outbox_survives_a_restart_on_sqlite() {
    notifications(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_message_per_account_per_sweep_and_the_outbox_survives_a_restart_on_postgres() {
    on_postgres(
        "notify",
        |url| async move { notifications(Some(&url)).await },
    )
    .await;
}

async fn notifications(storage: Option<&str>) {
    let moto = Moto::start();
    let conf = moto.sdk_config().await;
    seed_estate(&conf).await;
    // The second account has one risky group of its own.
    let second = aws_sdk_ec2::Client::new(&moto.assumed_config(SECOND).await);
    let rdp = second
        .create_security_group()
        .group_name("open-rdp")
        .description("rdp from anywhere")
        .send()
        .await
        .expect("sg");
    allow_tcp(&second, rdp.group_id().expect("id"), 3389, "0.0.0.0/0").await;
    simian_tests::moto::attach(&second, &[rdp.group_id().expect("id")]).await;

    let smtp = SmtpSink::start();
    // Nothing listens here yet: every webhook delivery fails until the receiver starts.
    let hook_port = free_port();
    let env = Env::new(&config(smtp.port, hook_port, storage));
    for id in [
        "sg-internet-accessible",
        "email-notifier",
        "webhook-notifier",
    ] {
        deploy_shipped(&env, id);
    }
    let host = env.start_host_env(&moto.env());

    // The first sweep of each account: one mail each, with that account's findings.
    assert!(
        wait_until(Duration::from_secs(90), || smtp.messages().len() >= 2),
        "no mail:\n{}",
        host.log_text()
    );
    let_sweeps_pass(&host, 4);
    let mails = smtp.messages();
    assert_eq!(mails.len(), 2, "unchanged sweeps must not mail: {mails:#?}");
    let of = |account: &str| {
        mails
            .iter()
            .find(|m| m.subject.contains(account))
            .unwrap_or_else(|| panic!("no mail for {account}: {mails:#?}"))
    };
    let (first, other) = (of(ACCOUNT), of(SECOND));
    for mail in [first, other] {
        assert_eq!(mail.to, ["sec@example.com"]);
        assert_eq!(mail.from, "simian@example.com");
        assert!(mail.subject.starts_with("[simian] "), "{}", mail.subject);
        assert!(mail.subject.contains("1 new issue"), "{}", mail.subject);
        assert!(!mail.html.is_empty());
    }
    assert!(
        first
            .text
            .contains("Entity: [cidr:0.0.0.0/0] Access: [ingress:tcp:22]"),
        "{}",
        first.text
    );
    assert!(first.text.contains("open-ssh") && first.text.contains("alice"));
    assert!(!first.text.contains("3389"), "{}", first.text);
    assert!(other.text.contains("ingress:tcp:3389"), "{}", other.text);
    assert!(!other.text.contains("open-ssh"), "{}", other.text);

    // The webhook is down: its batches wait in the outbox, and `simian plugins` says why.
    let entry = notifier_entry(&env, &moto, "webhook-notifier");
    let outbox = &entry["outbox"];
    assert_eq!(outbox["pending"], 2, "{entry}");
    assert_eq!(outbox["failing"], 2, "{entry}");
    assert!(
        outbox["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("webhook POST failed")),
        "{entry}"
    );
    assert_eq!(
        notifier_entry(&env, &moto, "email-notifier")["outbox"]["delivered"],
        2
    );
    let table = env.cli_env(&["plugins"], &moto.env());
    let table = String::from_utf8_lossy(&table.stdout);
    let row = table
        .lines()
        .find(|l| l.starts_with("webhook-notifier"))
        .unwrap_or_else(|| panic!("no webhook row:\n{table}"));
    assert!(
        row.contains("2 pending, 2 failing") && row.contains("webhook POST failed"),
        "{table}"
    );

    // Restart with the receiver up: the queued batches are delivered, once each.
    drop(host);
    let receiver = Receiver::start_on(hook_port, 200, "ok", None);
    let host = env.start_host_env(&moto.env());
    assert!(
        wait_until(Duration::from_secs(60), || receiver.count() >= 2),
        "outbox not delivered after the restart:\n{}",
        host.log_text()
    );
    let_sweeps_pass(&host, 4);
    let posts = posted(&receiver);
    assert_eq!(posts.len(), 2, "{posts:#?}");
    let texts: Vec<&str> = posts.iter().filter_map(|p| p["text"].as_str()).collect();
    assert!(texts.iter().any(|t| t.contains(ACCOUNT)), "{texts:?}");
    assert!(texts.iter().any(|t| t.contains(SECOND)), "{texts:?}");
    assert!(posts.iter().all(|p| p["blocks"].is_array()));
    let outbox = &notifier_entry(&env, &moto, "webhook-notifier")["outbox"];
    assert_eq!(
        (&outbox["pending"], &outbox["delivered"]),
        (&0.into(), &2.into())
    );
    assert_eq!(smtp.messages().len(), 2, "the restart re-sent mail");

    // A new risk in the first account: one more message, for that account only, with the
    // new issue and the configuration diff.
    let ec2 = aws_sdk_ec2::Client::new(&conf);
    let groups = ec2
        .describe_security_groups()
        .group_names("internal-web")
        .send()
        .await
        .expect("describe");
    let internal = groups.security_groups()[0]
        .group_id()
        .expect("id")
        .to_string();
    allow_tcp(&ec2, &internal, 80, "0.0.0.0/0").await;
    assert!(
        wait_until(Duration::from_secs(60), || smtp.messages().len() >= 3),
        "the change was not mailed:\n{}",
        host.log_text()
    );
    let_sweeps_pass(&host, 4);
    let mails = smtp.messages();
    assert_eq!(mails.len(), 3, "{mails:#?}");
    let news = &mails[2];
    assert!(news.subject.contains(ACCOUNT), "{}", news.subject);
    assert!(news.subject.contains("1 changed item"), "{}", news.subject);
    assert!(news.text.contains("ingress:tcp:80"), "{}", news.text);
    assert!(news.text.contains("internal-web"), "{}", news.text);
    assert!(news.text.contains("ipPermissions"), "{}", news.text);
    assert!(
        !news.text.contains("ingress:tcp:22]"),
        "still-open issue re-sent: {}",
        news.text
    );
    assert!(
        wait_until(Duration::from_secs(30), || receiver.count() >= 3),
        "the change was not posted:\n{}",
        host.log_text()
    );
    drop(host);
}
