use serde_json::{Value, json};
use simian_sdk::testing::samples::{
    missing_owner_issue as missing_owner, open_ssh_issue as open_ssh, security_group as group,
};
use simian_sdk::testing::{TestHost, notify_with};
use simian_sdk::{Change, ChangeKind, Issue, Item, Notifier};

use crate::WebhookNotifier;

const URL: &str = "https://hooks.slack.com/services/T0/B0/secret";
const ORIGIN: &str = "https://hooks.slack.com";
const PROD: &str = "123456789012";
const DEV: &str = "210987654321";

/// A group opened to SSH (new issue, score 10) and a deleted user (fixed issue, score 3).
fn sweep(account: &str) -> Vec<Change> {
    let mut modified = Change::new(ChangeKind::Modified, group(account, 22));
    modified.previous_configuration =
        Some(json!({"groupId": "sg-1", "ipPermissions": [{"fromPort": 443}]}).to_string());
    modified.new_issues.push(open_ssh());
    modified.still_open_issues.push(missing_owner());
    let user = Item::new("AWS::IAM::User", "AIDA1")
        .with_name("alice")
        .with_account(account)
        .with_region("global")
        .with_arn(format!("arn:aws:iam::{account}:user/alice"));
    let mut deleted = Change::new(ChangeKind::Deleted, user);
    deleted.previous_configuration = Some("{}".to_string());
    deleted
        .fixed_issues
        .push(Issue::new("iam-inactive-user", "Inactive user", 3).notes("Entity: [user:alice]"));
    vec![modified, deleted]
}

fn slack(status: u16, body: &str) -> TestHost {
    TestHost::new()
        .setting("url", URL)
        .allow_http(ORIGIN)
        .http_response(URL, status, body)
}

/// The JSON bodies posted so far, after checking each request's shape.
fn posted(host: &TestHost) -> Vec<Value> {
    host.requests()
        .iter()
        .map(|request| {
            assert_eq!(request.method, "POST");
            assert_eq!(request.url, URL);
            assert!(
                request
                    .headers
                    .iter()
                    .any(|(n, v)| n.eq_ignore_ascii_case("content-type") && v == "application/json"),
                "{:?}",
                request.headers
            );
            serde_json::from_slice(request.body.as_deref().unwrap_or_default()).expect("JSON body")
        })
        .collect()
}

fn block_texts(payload: &Value) -> Vec<String> {
    payload["blocks"]
        .as_array()
        .expect("blocks")
        .iter()
        .map(|b| {
            assert_eq!(b["type"], "section");
            assert_eq!(b["text"]["type"], "mrkdwn");
            b["text"]["text"].as_str().expect("text").to_string()
        })
        .collect()
}

#[test]
fn posts_one_slack_message_per_call() {
    let host = slack(200, "ok");
    notify_with::<WebhookNotifier>(&host, &sweep(PROD)).expect("posted");
    let bodies = posted(&host);
    assert_eq!(bodies.len(), 1);
    let body = &bodies[0];
    assert_eq!(
        body["text"],
        "simian: 123456789012: 2 changed items, 1 new issue, 1 fixed"
    );
    assert!(
        body.get("username").is_none() && body.get("channel").is_none(),
        "{body}"
    );
    assert_eq!(
        block_texts(body),
        [
            "*simian*: 123456789012: 2 changed items, 1 new issue, 1 fixed",
            "*Modified* `AWS::EC2::SecurityGroup` web (sg-1) in us-east-1\n\
             `arn:aws:ec2:us-east-1:123456789012:security-group/sg-1`\n\
             ```~ ipPermissions[0].fromPort: 443 → 22```",
            "*Deleted* `AWS::IAM::User` alice (AIDA1)\n`arn:aws:iam::123456789012:user/alice`",
            "*New issue* · score 10 · *Internet Accessible*\n\
             `AWS::EC2::SecurityGroup` web (sg-1) in us-east-1\n\
             `arn:aws:ec2:us-east-1:123456789012:security-group/sg-1`\n\
             `Entity: [cidr:0.0.0.0/0] Access: [ingress:tcp:22]`\n\
             _Restrict the source of ingress:tcp:22._",
            "*Fixed issue* · score 3 · *Inactive user*\n\
             `AWS::IAM::User` alice (AIDA1)\n`arn:aws:iam::123456789012:user/alice`\n\
             `Entity: [user:alice]`",
        ]
    );
}

#[test]
fn username_and_channels() {
    let host = slack(200, "ok")
        .setting("username", "simian-bot")
        .setting("channel", "#security")
        .setting(
            "subscriptions",
            json!([
                {"accounts": [PROD]},
                {"accounts": ["*"], "min_score": 10, "channel": "#alerts"},
                {"accounts": [DEV], "channel": "#dev"},
            ]),
        );
    notify_with::<WebhookNotifier>(&host, &sweep(PROD)).expect("posted");
    let bodies = posted(&host);
    assert_eq!(bodies.len(), 2);
    assert_eq!(bodies[0]["username"], "simian-bot");
    assert_eq!(bodies[0]["channel"], "#security");
    assert_eq!(bodies[1]["channel"], "#alerts");
    assert_eq!(
        bodies[1]["text"],
        "simian: 123456789012: 1 changed item, 1 new issue"
    );
    assert_eq!(block_texts(&bodies[1]).len(), 3);
}

#[test]
fn nothing_relevant_posts_nothing() {
    // Still-open issues alone, from a re-audit.
    let mut reaudit = Change::new(ChangeKind::Modified, group(PROD, 22));
    reaudit.still_open_issues = vec![open_ssh(), missing_owner()];
    let host = slack(200, "ok");
    notify_with::<WebhookNotifier>(&host, std::slice::from_ref(&reaudit)).expect("ok");
    assert!(host.requests().is_empty());

    let host = slack(200, "ok").setting("subscriptions", json!([{"min_score": 11}]));
    notify_with::<WebhookNotifier>(&host, &sweep(PROD)).expect("ok");
    assert!(host.requests().is_empty());

    let host = slack(200, "ok").setting("subscriptions", json!([{"accounts": [DEV]}]));
    notify_with::<WebhookNotifier>(&host, &sweep(PROD)).expect("ok");
    assert!(host.requests().is_empty());

    let host = slack(200, "ok");
    notify_with::<WebhookNotifier>(&host, &[]).expect("ok");
    assert!(host.requests().is_empty());
}

#[test]
fn server_error_is_an_error_with_the_status_and_body() {
    let host = slack(500, "rollup_error\n");
    let e = notify_with::<WebhookNotifier>(&host, &sweep(PROD)).expect_err("HTTP 500");
    assert_eq!(e.message(), "webhook answered HTTP 500: rollup_error");
    assert!(!e.message().contains("secret"));

    let host = slack(404, &"no_service ".repeat(100));
    let e = notify_with::<WebhookNotifier>(&host, &sweep(PROD)).expect_err("HTTP 404");
    assert!(
        e.message()
            .starts_with("webhook answered HTTP 404: no_service no_service")
    );
    assert!(e.message().ends_with('…'), "{e}");
    assert!(e.message().chars().count() < 240, "{e}");

    let host = slack(503, "").setting("channel", "#security");
    let e = notify_with::<WebhookNotifier>(&host, &sweep(PROD)).expect_err("HTTP 503");
    assert_eq!(
        e.message(),
        "message for #security: webhook answered HTTP 503: (empty body)"
    );
}

#[test]
fn denied_origin_is_an_error() {
    let host = TestHost::new()
        .setting("url", URL)
        .allow_http("https://hooks.example.com");
    let e = notify_with::<WebhookNotifier>(&host, &sweep(PROD)).expect_err("not granted");
    assert_eq!(
        e.message(),
        "webhook POST failed: denied: http to https://hooks.slack.com is not granted"
    );
    assert!(host.requests().is_empty());
}

#[test]
fn mrkdwn_is_escaped() {
    let mut change = Change::new(ChangeKind::Modified, group(PROD, 22));
    change
        .regressed_issues
        .push(Issue::new("x", "<!channel> & co", 5).notes("Entity: [principal:<b>]"));
    let host = slack(200, "ok");
    notify_with::<WebhookNotifier>(&host, &[change]).expect("posted");
    let texts = block_texts(&posted(&host)[0]);
    assert_eq!(texts[0], "*simian*: 123456789012: 1 regressed");
    assert!(
        texts[1].starts_with("*Regressed issue* · score 5 · *&lt;!channel&gt; &amp; co*"),
        "{}",
        texts[1]
    );
    assert!(
        texts[1].contains("`Entity: [principal:&lt;b&gt;]`"),
        "{}",
        texts[1]
    );
}

#[test]
fn long_batches_stay_within_slack_limits() {
    let changes: Vec<Change> = (0..60)
        .map(|n| Change::new(ChangeKind::Created, group(PROD, n)))
        .collect();
    let host = slack(200, "ok").setting("max_diff_lines", 3);
    notify_with::<WebhookNotifier>(&host, &changes).expect("posted");
    let body = &posted(&host)[0];
    let blocks = body["blocks"].as_array().expect("blocks");
    assert_eq!(blocks.len(), 50);
    assert_eq!(blocks[49]["type"], "context");
    assert_eq!(blocks[49]["elements"][0]["text"], "… and 12 more not shown");
    assert_eq!(body["text"], "simian: 123456789012: 60 changed items");

    // A huge diff is cut to the line cap, and the section to Slack's 3000 characters.
    let wide: serde_json::Map<String, Value> = (0..40)
        .map(|n| (format!("k{n:02}"), json!("v".repeat(200))))
        .collect();
    let mut change = Change::new(
        ChangeKind::Modified,
        group(PROD, 22).with_configuration(&Value::Object(wide)),
    );
    change.previous_configuration = Some("{}".to_string());
    let host = slack(200, "ok").setting("max_diff_lines", 100);
    notify_with::<WebhookNotifier>(&host, &[change]).expect("posted");
    let texts = block_texts(&posted(&host)[0]);
    assert_eq!(texts[1].chars().count(), 3000);
    assert!(texts[1].starts_with("*Modified*"));
    assert!(texts[1].contains("\n```+ k00: \"vvv"));
}

#[test]
fn settings_are_checked() {
    let start = |host: TestHost| {
        let _h = host.install();
        WebhookNotifier::new()
            .err()
            .map(|e| e.message().to_string())
    };
    let missing = start(TestHost::new()).expect("url is required");
    assert!(
        missing.starts_with("setting `url` is required"),
        "{missing}"
    );
    for bad in [
        "hooks.slack.com/x",
        "ftp://hooks.slack.com/x",
        "https:///x",
        "https://",
    ] {
        let e = start(TestHost::new().setting("url", bad)).expect("not http");
        assert!(
            e.starts_with("setting `url` must be an http(s) URL"),
            "{bad}: {e}"
        );
    }
    let e = start(TestHost::new().setting("url", 5)).expect("not a string");
    assert!(e.starts_with("setting `url` must be a string"), "{e}");
    let e = start(slack(200, "ok").setting("subscriptions", json!([{"min_score": "high"}])))
        .expect("bad min_score");
    assert!(e.starts_with("setting `subscriptions[0]`: "), "{e}");
    let e = start(slack(200, "ok").setting("channel", json!(["#a"]))).expect("bad channel");
    assert!(e.starts_with("setting `channel` must be a string"), "{e}");
    assert_eq!(start(slack(200, "ok")), None);
    assert_eq!(
        start(TestHost::new().setting("url", "HTTP://localhost:8080/hook")),
        None
    );
}

#[test]
fn a_change_names_who_made_it_escaped_for_slack() {
    let host = slack(200, "ok");
    let mut changes = sweep(PROD);
    let actor = simian_sdk::Actor {
        arn: Some("arn:aws:sts::123456789012:assumed-role/ops/<!channel>".into()),
        identity_type: Some("AssumedRole".into()),
        event_source: "ec2.amazonaws.com".into(),
        event_name: "AuthorizeSecurityGroupIngress".into(),
        event_time: "2026-11-30T09:00:00Z".into(),
        event_id: "e-1".into(),
        ..Default::default()
    };
    changes[0] = changes[0].clone().with_actor(&actor);
    notify_with::<WebhookNotifier>(&host, &changes).expect("posted");
    let texts = block_texts(&posted(&host)[0]);
    let first = texts
        .iter()
        .find(|t| t.contains("Modified"))
        .expect("modified block");
    assert!(
        first.contains(
            "by arn:aws:sts::123456789012:assumed-role/ops/&lt;!channel&gt; (AssumedRole) \
             AuthorizeSecurityGroupIngress at 2026-11-30T09:00:00Z"
        ),
        "{first}"
    );
    assert!(!texts.iter().any(|t| t.contains("<!channel>")), "{texts:?}");
}
