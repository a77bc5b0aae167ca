//! CloudTrail-driven refresh end to end: `simian run` following an SQS queue that an
//! EventBridge rule fills with "AWS API Call via CloudTrail" events, in the emulator. The test
//! plays CloudTrail: it changes a resource through the SDK, then puts the event that change
//! would have made. The sweep interval is an hour, so every revision after the first sweep is
//! the events' doing.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use simian_tests::cloudtrail::{ALICE, EventPipe, group_event, record};
use simian_tests::http::Receiver;
use simian_tests::moto::{ACCOUNT, Moto, allow_tcp, attach, create_group, free_port, revoke_tcp};
use simian_tests::pg::on_postgres;
use simian_tests::smtp::SmtpSink;
use simian_tests::{Env, HostProcess, deploy_shipped, wait_until};

fn config(queue_url: &str, smtp: u16, hook: u16, metrics: u16, storage: Option<&str>) -> String {
    let storage = storage.map_or(String::new(), |url| format!("[storage]\nurl = \"{url}\"\n"));
    let notifiers = simian_tests::notifier_sections(smtp, hook, "sec@example.com", 0);
    format!(
        r#"
{storage}
[[accounts]]
id = "{ACCOUNT}"
name = "demo"
regions = ["us-east-1"]

[aws]
requests_per_second = 0

[watch]
interval_minutes = 60

[events]
queue_url = "{queue_url}"
debounce_ms = 100
wait_seconds = 2
lag_alarm_seconds = 60

[monitor]
listen = "127.0.0.1:{metrics}"
check_seconds = 1

[notify]
retry_initial_ms = 200
retry_max_ms = 1000

{notifiers}
"#
    )
}

fn history(env: &Env, moto: &Moto, arn: &str) -> Vec<Value> {
    let out = env.cli_env(&["history", arn, "--format", "json"], &moto.env());
    if !out.status.success() {
        return Vec::new();
    }
    let v: Value = serde_json::from_slice(&out.stdout).expect("history JSON");
    v["revisions"].as_array().cloned().unwrap_or_default()
}

fn webhook_texts(receiver: &Receiver) -> Vec<String> {
    receiver
        .received
        .lock()
        .map(|r| {
            r.iter()
                .map(|req| String::from_utf8_lossy(&req.body).into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// One counter from the host's `/metrics`.
async fn metric(port: u16, line_start: &str) -> f64 {
    let text = reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
        .await
        .expect("metrics reachable")
        .text()
        .await
        .expect("metrics text");
    text.lines()
        .find(|l| l.starts_with(line_start))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

/// Wait until a counter reaches `at_least`.
async fn wait_metric(port: u16, line_start: &str, at_least: f64) -> bool {
    let until = Instant::now() + Duration::from_secs(30);
    while Instant::now() < until {
        if metric(port, line_start).await >= at_least {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_refresh_items_with_their_actor_on_sqlite() {
    events_refresh(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_refresh_items_with_their_actor_on_postgres() {
    on_postgres(
        "events",
        |url| async move { events_refresh(Some(&url)).await },
    )
    .await;
}

async fn events_refresh(storage: Option<&str>) {
    let moto = Moto::start();
    let conf = moto.sdk_config().await;
    let ec2 = aws_sdk_ec2::Client::new(&conf);
    let web = create_group(&ec2, "web", "web servers").await;
    attach(&ec2, &[&web]).await;
    let pipe = EventPipe::create(&conf, "simian-events").await;
    let smtp = SmtpSink::start();
    let hook = Receiver::start(200, "ok", None);
    let metrics = free_port();
    let env = Env::new(&config(
        &pipe.queue_url,
        smtp.port,
        hook.port,
        metrics,
        storage,
    ));
    for id in [
        "sg-internet-accessible",
        "email-notifier",
        "webhook-notifier",
    ] {
        deploy_shipped(&env, id);
    }
    let host = env.start_host_env(&moto.env());
    let arn = format!("arn:aws:ec2:us-east-1:{ACCOUNT}:security-group/{web}");
    assert!(
        wait_until(Duration::from_secs(90), || history(&env, &moto, &arn).len()
            == 1),
        "the first sweep did not record the group:\n{}",
        host.log_text()
    );

    // Alice opens SSH to the world; CloudTrail says so.
    allow_tcp(&ec2, &web, 22, "0.0.0.0/0").await;
    let changed = Instant::now();
    let ingress = record(
        ACCOUNT,
        "ec2.amazonaws.com",
        "AuthorizeSecurityGroupIngress",
        json!({"groupId": web, "ipPermissions": {"items": [{"ipProtocol": "tcp", "fromPort": 22}]}}),
        json!({"_return": true}),
        "evt-open-ssh",
    );
    pipe.put(&ingress).await;
    assert!(
        wait_until(Duration::from_secs(30), || history(&env, &moto, &arn).len()
            == 2),
        "no revision from the event:\n{}",
        host.log_text()
    );
    let to_revision = changed.elapsed();
    let revisions = history(&env, &moto, &arn);
    let latest = &revisions[1];
    assert_eq!(latest["via"], "event", "{latest:#}");
    assert_eq!(latest["kind"], "modified");
    let actor = &latest["actor"];
    assert_eq!(actor["arn"], ALICE, "{latest:#}");
    assert_eq!(actor["identityType"], "IAMUser");
    assert_eq!(actor["eventName"], "AuthorizeSecurityGroupIngress");
    assert_eq!(actor["eventId"], "evt-open-ssh");
    assert_eq!(actor["sourceIp"], "203.0.113.7");
    assert_eq!(actor["userAgent"], "aws-cli/2.15.0");
    assert_eq!(revisions[0]["via"], "sweep");
    assert!(revisions[0]["actor"].is_null());
    // The table says who, when and from where.
    let table = env.cli_env(&["history", &arn], &moto.env());
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(table.contains("modified  event"), "{table}");
    assert!(
        table.contains(&format!(
            "by {ALICE} (IAMUser) AuthorizeSecurityGroupIngress at {}",
            actor["eventTime"].as_str().unwrap_or_default()
        )),
        "{table}"
    );
    assert!(table.contains("from 203.0.113.7"), "{table}");

    // Audited and notified as after a sweep, naming alice.
    assert!(
        wait_until(Duration::from_secs(30), || {
            smtp.messages()
                .iter()
                .any(|m| m.text.contains(&format!("By: {ALICE}")))
                && webhook_texts(&hook)
                    .iter()
                    .any(|t| t.contains(&format!("by {ALICE}")))
        }),
        "the change was not notified with its actor:\n{:#?}\n{:#?}\n{}",
        smtp.messages(),
        webhook_texts(&hook),
        host.log_text()
    );
    let to_notified = changed.elapsed();
    let mail = smtp
        .messages()
        .into_iter()
        .find(|m| m.text.contains(&format!("By: {ALICE}")))
        .expect("mail");
    assert!(mail.subject.contains("1 new issue"), "{}", mail.subject);
    assert!(mail.text.contains("ingress:tcp:22"), "{}", mail.text);
    println!("event to revision {to_revision:?}, to both notifications {to_notified:?}");
    assert!(
        pipe.wait_drained(Duration::from_secs(10)).await,
        "the message was not deleted"
    );

    // A redelivery of the same event is recognised: no second refresh, no revision.
    pipe.put(&ingress).await;
    assert!(pipe.wait_drained(Duration::from_secs(30)).await);
    assert!(
        wait_metric(metrics, "simian_events_total{result=\"duplicate\"}", 1.0).await,
        "no duplicate counted"
    );
    assert_eq!(history(&env, &moto, &arn).len(), 2);

    // Poison first, then a real change: the poison is dropped and the change still lands.
    pipe.send_raw("this is not an event").await;
    pipe.send_raw(r#"{"detail": {"eventName": "AuthorizeSecurityGroupIngress"}}"#)
        .await;
    revoke_tcp(&ec2, &web, 22, "0.0.0.0/0").await;
    pipe.put(&group_event(
        "RevokeSecurityGroupIngress",
        &web,
        "evt-close-ssh",
    ))
    .await;
    assert!(
        wait_until(Duration::from_secs(30), || history(&env, &moto, &arn).len()
            == 3),
        "the change behind the poison was not refreshed:\n{}",
        host.log_text()
    );
    assert!(
        pipe.wait_drained(Duration::from_secs(30)).await,
        "poison stayed on the queue"
    );
    assert!(metric(metrics, "simian_events_total{result=\"invalid\"}").await >= 2.0);
    let issues = env.cli_env(&["issues", "--format", "json"], &moto.env());
    let issues: Value = serde_json::from_slice(&issues.stdout).expect("issues JSON");
    assert!(
        issues["issues"]
            .as_array()
            .is_some_and(|l| l.iter().all(|i| i["status"] == "fixed")),
        "the revoke did not fix the issue: {issues:#}"
    );

    // Failed calls and unmapped events change nothing and leave nothing behind.
    let mut denied = record(
        ACCOUNT,
        "ec2.amazonaws.com",
        "AuthorizeSecurityGroupIngress",
        json!({"groupId": web}),
        Value::Null,
        "evt-denied",
    );
    denied["errorCode"] = "Client.UnauthorizedOperation".into();
    pipe.put(&denied).await;
    pipe.put(&record(
        ACCOUNT,
        "ec2.amazonaws.com",
        "RunInstances",
        json!({}),
        Value::Null,
        "evt-run",
    ))
    .await;
    assert!(pipe.wait_drained(Duration::from_secs(30)).await);
    assert!(metric(metrics, "simian_events_total{result=\"failed-call\"}").await >= 1.0);
    assert!(metric(metrics, "simian_events_total{result=\"unmapped\"}").await >= 1.0);
    assert_eq!(history(&env, &moto, &arn).len(), 3);

    // A group created and deleted: the delete event makes a deletion only once it is gone.
    let temp = create_group(&ec2, "temp", "short-lived").await;
    pipe.put(&record(
        ACCOUNT,
        "ec2.amazonaws.com",
        "CreateSecurityGroup",
        json!({"groupName": "temp", "groupDescription": "short-lived"}),
        json!({"_return": true, "groupId": temp}),
        "evt-create-temp",
    ))
    .await;
    let temp_arn = format!("arn:aws:ec2:us-east-1:{ACCOUNT}:security-group/{temp}");
    assert!(
        wait_until(Duration::from_secs(30), || history(&env, &moto, &temp_arn)
            .len()
            == 1),
        "the created group was not recorded:\n{}",
        host.log_text()
    );
    assert_eq!(history(&env, &moto, &temp_arn)[0]["kind"], "created");
    // Said deleted while it still exists (a failed or premature delete): no deletion.
    let early = group_event("DeleteSecurityGroup", &temp, "evt-delete-early");
    pipe.put(&early).await;
    assert!(pipe.wait_drained(Duration::from_secs(30)).await);
    assert_eq!(history(&env, &moto, &temp_arn).len(), 1);
    ec2.delete_security_group()
        .group_id(&temp)
        .send()
        .await
        .expect("delete");
    pipe.put(&group_event("DeleteSecurityGroup", &temp, "evt-delete"))
        .await;
    assert!(
        wait_until(Duration::from_secs(30), || history(&env, &moto, &temp_arn)
            .len()
            == 2),
        "the deletion was not recorded:\n{}",
        host.log_text()
    );
    let gone = &history(&env, &moto, &temp_arn)[1];
    assert_eq!(gone["kind"], "deleted");
    assert_eq!(gone["actor"]["eventId"], "evt-delete");

    // An event that took an hour to arrive raises the lag notice; the drained queue clears it.
    let mut late = group_event("AuthorizeSecurityGroupIngress", &web, "evt-late");
    late["eventTime"] = simian::when::rfc3339(simian::store::now_ms() - 3_600_000).into();
    pipe.put(&late).await;
    let lag_notice = |fixed: bool| {
        smtp.messages().iter().any(|m| {
            m.text.contains("Monitoring: CloudTrail events lag")
                && m.text.contains("Fixed issues") == fixed
        })
    };
    assert!(
        wait_until(Duration::from_secs(30), || lag_notice(false)),
        "no lag notice:\n{}",
        host.log_text()
    );
    assert!(
        wait_until(Duration::from_secs(30), || lag_notice(true)),
        "the lag notice was not cleared:\n{}",
        host.log_text()
    );

    // Another queue takes a restart, and the host says so rather than silently ignoring it.
    env.write_config(&config(
        &format!("{}-other", pipe.queue_url),
        smtp.port,
        hook.port,
        metrics,
        storage,
    ));
    assert!(
        wait_until(Duration::from_secs(30), || host
            .log_text()
            .contains("\"events.queue_url\"")),
        "no restart notice for the queue:\n{}",
        host.log_text()
    );
    stop(host);
}

fn stop(host: HostProcess) {
    let log = host.log_text();
    drop(host);
    assert!(!log.contains("panicked"), "{log}");
}
