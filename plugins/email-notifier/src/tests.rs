use serde_json::{Value, json};
use simian_sdk::mail::Message;
use simian_sdk::testing::samples::{
    missing_owner_issue as missing_owner, open_ssh_issue as open_ssh, security_group as group,
};
use simian_sdk::testing::{TestHost, notify_with};
use simian_sdk::{Change, ChangeKind, Issue, Item, Notifier};

use crate::EmailNotifier;

const PROD: &str = "123456789012";
const DEV: &str = "210987654321";

/// A sweep of `account`: a group opened to SSH, a new bucket, a deleted user, a fixed issue.
fn sweep(account: &str) -> Vec<Change> {
    let mut modified = Change::new(ChangeKind::Modified, group(account, 22));
    modified.previous_configuration =
        Some(json!({"groupId": "sg-1", "ipPermissions": [{"fromPort": 443}]}).to_string());
    modified.new_issues.push(open_ssh());
    let bucket = Item::new("AWS::S3::Bucket", "logs")
        .with_account(account)
        .with_region("us-east-1")
        .with_arn("arn:aws:s3:::logs");
    let mut created = Change::new(ChangeKind::Created, bucket);
    created.new_issues.push(missing_owner());
    let user = Item::new("AWS::IAM::User", "AIDA1")
        .with_name("alice")
        .with_account(account)
        .with_region("global")
        .with_arn(format!("arn:aws:iam::{account}:user/alice"));
    let mut deleted = Change::new(ChangeKind::Deleted, user);
    deleted.previous_configuration = Some("{}".to_string());
    deleted.fixed_issues.push(
        Issue::new("iam-inactive-user", "Inactive user", 3)
            .notes("Entity: [user:alice] Access: [console]"),
    );
    vec![modified, created, deleted]
}

/// A re-audit after a plugin changed: only issue lists, no previous configuration.
fn reaudit(account: &str, still_open: Vec<Issue>, new: Vec<Issue>) -> Change {
    let mut change = Change::new(ChangeKind::Modified, group(account, 22));
    change.still_open_issues = still_open;
    change.new_issues = new;
    change
}

fn mail_host(subscriptions: Value) -> TestHost {
    TestHost::new()
        .setting("subscriptions", subscriptions)
        .allow_mail("@example.com")
}

fn send(host: &TestHost, changes: &[Change]) -> Vec<Message> {
    notify_with::<EmailNotifier>(host, changes).expect("notified");
    host.sent_mail()
}

#[test]
fn digest_has_subject_sections_and_recipients() {
    let host = mail_host(json!([{"to": ["sec@example.com", "ops@example.com"]}]));
    let sent = send(&host, &sweep(PROD));
    assert_eq!(sent.len(), 1);
    let mail = &sent[0];
    assert_eq!(mail.to, ["sec@example.com", "ops@example.com"]);
    assert_eq!(
        mail.subject,
        "[simian] 123456789012: 3 changed items, 2 new issues, 1 fixed"
    );
    let expected = "\
simian: 123456789012: 3 changed items, 2 new issues, 1 fixed

Changed items
-------------
* modified AWS::EC2::SecurityGroup web (sg-1) in us-east-1
  ARN: arn:aws:ec2:us-east-1:123456789012:security-group/sg-1
    ~ ipPermissions[0].fromPort: 443 → 22
* created AWS::S3::Bucket logs in us-east-1
  ARN: arn:aws:s3:::logs
* deleted AWS::IAM::User alice (AIDA1)
  ARN: arn:aws:iam::123456789012:user/alice

New issues
----------
* [10] Internet Accessible: AWS::EC2::SecurityGroup web (sg-1) in us-east-1
  ARN: arn:aws:ec2:us-east-1:123456789012:security-group/sg-1
  Entity: [cidr:0.0.0.0/0] Access: [ingress:tcp:22]
  Remediation: Restrict the source of ingress:tcp:22.
* [1] Missing owner tag: AWS::S3::Bucket logs in us-east-1
  ARN: arn:aws:s3:::logs
  Tags: [owner missing]

Fixed issues
------------
* [3] Inactive user: AWS::IAM::User alice (AIDA1)
  ARN: arn:aws:iam::123456789012:user/alice
  Entity: [user:alice] Access: [console]
";
    assert_eq!(mail.text, expected);
    let html = mail.html.as_deref().expect("an HTML alternative");
    assert!(html.contains("<h3>Changed items</h3>"), "{html}");
    assert!(html.contains("<h3>New issues</h3>"), "{html}");
    assert!(html.contains("<h3>Fixed issues</h3>"), "{html}");
    assert!(!html.contains("Regressed"), "{html}");
    assert!(
        html.contains("<pre>~ ipPermissions[0].fromPort: 443 → 22</pre>"),
        "{html}"
    );
    assert!(
        html.contains("<li>[10] <b>Internet Accessible</b>: AWS::EC2::SecurityGroup web (sg-1)"),
        "{html}"
    );
}

#[test]
fn html_escapes_what_plugins_and_aws_wrote() {
    let host = mail_host(json!([{"to": ["sec@example.com"]}]));
    let mut change = reaudit(PROD, vec![], vec![]);
    change
        .regressed_issues
        .push(Issue::new("x", "Policy <allows> \"*\"", 5).notes("Entity: [principal:*] & more"));
    let sent = send(&host, &[change]);
    let html = sent[0].html.as_deref().expect("html");
    assert!(
        html.contains("<b>Policy &lt;allows&gt; &quot;*&quot;</b>"),
        "{html}"
    );
    assert!(html.contains("Entity: [principal:*] &amp; more"), "{html}");
    assert!(!html.contains("<allows>"), "{html}");
    // The text part stays verbatim.
    assert!(
        sent[0]
            .text
            .contains("Regressed issues\n----------------\n* [5] Policy <allows> \"*\"")
    );
    assert_eq!(sent[0].subject, "[simian] 123456789012: 1 regressed");
}

#[test]
fn reaudit_news_has_no_changed_items() {
    let host = mail_host(json!([{"to": ["sec@example.com"]}])).setting("subject_prefix", "[aws]");
    let sent = send(
        &host,
        &[reaudit(PROD, vec![missing_owner()], vec![open_ssh()])],
    );
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].subject, "[aws] 123456789012: 1 new issue");
    assert!(!sent[0].text.contains("Changed items"), "{}", sent[0].text);
    // Still-open issues are context the digest leaves out.
    assert!(
        !sent[0].text.contains("Missing owner tag"),
        "{}",
        sent[0].text
    );
}

#[test]
fn still_open_only_sends_nothing() {
    let host = mail_host(json!([{"to": ["sec@example.com"]}]));
    let sent = send(
        &host,
        &[reaudit(PROD, vec![open_ssh(), missing_owner()], vec![])],
    );
    assert!(sent.is_empty(), "{sent:?}");
}

#[test]
fn min_score_leaves_out_edits_and_low_issues() {
    let host = mail_host(json!([{"to": ["sec@example.com"], "min_score": 5}]));
    let sent = send(&host, &sweep(PROD));
    assert_eq!(sent.len(), 1);
    // Only the score-10 issue counts; its change is still shown as the cause.
    assert_eq!(
        sent[0].subject,
        "[simian] 123456789012: 1 changed item, 1 new issue"
    );
    assert!(!sent[0].text.contains("Missing owner tag"));
    assert!(!sent[0].text.contains("Fixed issues"));
    assert!(!sent[0].text.contains("AWS::S3::Bucket"));

    let host = mail_host(json!([{"to": ["sec@example.com"], "min_score": 11}]));
    assert!(send(&host, &sweep(PROD)).is_empty());
    // Only edits, no issues at all, with a threshold: nothing.
    let mut edit = Change::new(ChangeKind::Created, group(PROD, 22));
    edit.still_open_issues.push(open_ssh());
    let host = mail_host(json!([{"to": ["sec@example.com"], "min_score": 1}]));
    assert!(send(&host, &[edit]).is_empty());
}

#[test]
fn account_patterns_pick_the_mailbox() {
    let host = mail_host(json!([
        {"to": ["prod@example.com"], "accounts": ["1234*"]},
        {"to": ["dev@example.com"], "accounts": [DEV]},
        {"to": ["high@example.com"], "min_score": 10},
    ]));
    let sent = send(&host, &sweep(DEV));
    let to: Vec<&str> = sent.iter().map(|m| m.to[0].as_str()).collect();
    assert_eq!(to, ["dev@example.com", "high@example.com"]);
    assert_eq!(
        sent[1].subject,
        "[simian] 210987654321: 1 changed item, 1 new issue"
    );

    let host = mail_host(json!([{"to": ["prod@example.com"], "accounts": ["1234*"]}]));
    assert!(send(&host, &sweep(DEV)).is_empty());
}

#[test]
fn diff_is_capped() {
    let host = mail_host(json!([{"to": ["sec@example.com"]}])).setting("max_diff_lines", 2);
    let mut change = Change::new(
        ChangeKind::Modified,
        group(PROD, 22).with_configuration(&json!({"a": 2, "b": 2, "c": 2})),
    );
    change.previous_configuration = Some(json!({"a": 1, "b": 1, "c": 1}).to_string());
    let sent = send(&host, &[change]);
    assert!(
        sent[0]
            .text
            .contains("    ~ a: 1 → 2\n    … and 2 more changes\n"),
        "{}",
        sent[0].text
    );
    assert!(!sent[0].text.contains("~ b:"));
}

#[test]
fn unreadable_previous_configuration_still_mails() {
    let host = mail_host(json!([{"to": ["sec@example.com"]}]));
    let mut change = Change::new(ChangeKind::Modified, group(PROD, 22));
    change.previous_configuration = Some("{oops".to_string());
    let sent = send(&host, &[change]);
    assert!(
        sent[0]
            .text
            .contains("    (no configuration diff: previous configuration: "),
        "{}",
        sent[0].text
    );
}

#[test]
fn mail_failure_names_the_recipients_and_spares_the_others() {
    let host = TestHost::new()
        .setting(
            "subscriptions",
            json!([
                {"to": ["sec@example.com", "boss@elsewhere.example"]},
                {"to": ["ops@example.com"]},
            ]),
        )
        .allow_mail("@example.com");
    let e = notify_with::<EmailNotifier>(&host, &sweep(PROD)).expect_err("denied");
    assert_eq!(
        e.message(),
        "mail to sec@example.com, boss@elsewhere.example failed: \
         denied: mail to boss@elsewhere.example is not granted"
    );
    let sent = host.sent_mail();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].to, ["ops@example.com"]);
}

#[test]
fn no_changes_no_mail() {
    let host = mail_host(json!([{"to": ["sec@example.com"]}]));
    assert!(send(&host, &[]).is_empty());
}

#[test]
fn settings_are_checked() {
    let start = |host: TestHost| {
        let _h = host.install();
        EmailNotifier::new().err().map(|e| e.message().to_string())
    };
    let missing = start(TestHost::new()).expect("subscriptions are required");
    assert!(
        missing.starts_with("setting `subscriptions` is required"),
        "{missing}"
    );
    let bad = start(mail_host(
        json!([{"to": ["sec@example.com"]}, {"to": ["not an address"]}]),
    ))
    .expect("bad address");
    assert_eq!(
        bad,
        "setting `subscriptions[1].to`: `not an address` is not an e-mail address"
    );
    let empty = start(mail_host(json!([{"to": []}]))).expect("no recipients");
    assert_eq!(
        empty,
        "setting `subscriptions[0].to`: needs at least one address"
    );
    let no_to = start(mail_host(json!([{"accounts": ["*"]}]))).expect("no `to`");
    assert!(
        no_to.starts_with("setting `subscriptions[0]`: missing field `to`"),
        "{no_to}"
    );
    let prefix =
        start(mail_host(json!([{"to": ["a@example.com"]}])).setting("subject_prefix", "x\nBcc: y"))
            .expect("header injection");
    assert!(
        prefix.starts_with("setting `subject_prefix` must not"),
        "{prefix}"
    );
    assert_eq!(start(mail_host(json!([{"to": ["a@example.com"]}]))), None);
}

fn hostile_actor() -> simian_sdk::Actor {
    simian_sdk::Actor {
        arn: Some("arn:aws:iam::123456789012:user/<script>alert(1)</script>".into()),
        identity_type: Some("IAMUser".into()),
        event_source: "ec2.amazonaws.com".into(),
        event_name: "AuthorizeSecurityGroupIngress".into(),
        event_time: "2026-11-30T09:00:00Z".into(),
        source_ip: Some("203.0.113.7".into()),
        event_id: "e-1".into(),
        ..Default::default()
    }
}

#[test]
fn a_change_names_who_made_it_escaped_in_html() {
    let host = mail_host(json!([{"to": ["sec@example.com"]}]));
    let mut changes = sweep(PROD);
    changes[0] = changes[0].clone().with_actor(&hostile_actor());
    let sent = send(&host, &changes);
    assert!(
        sent[0].text.contains(
            "  By: arn:aws:iam::123456789012:user/<script>alert(1)</script> (IAMUser) \
             AuthorizeSecurityGroupIngress at 2026-11-30T09:00:00Z from 203.0.113.7"
        ),
        "{}",
        sent[0].text
    );
    let html = sent[0].html.as_deref().expect("html");
    assert!(
        html.contains("By arn:aws:iam::123456789012:user/&lt;script&gt;"),
        "{html}"
    );
    assert!(!html.contains("<script>"), "{html}");
    // Only the change with an actor says who.
    assert_eq!(sent[0].text.matches("  By: ").count(), 1);
}
