//! The plugin-facing surface end to end, natively: traits, register macros, test harness.

use serde_json::json;
use simian_sdk::prelude::*;
use simian_sdk::testing::{TestHost, audit_with, notify_with};

pub struct Counter {
    limit: usize,
}

impl Auditor for Counter {
    fn new() -> Result<Self, Error> {
        let limit = settings::get::<usize>("limit")?
            .ok_or_else(|| Error::new("setting `limit` is required"))?;
        Ok(Counter { limit })
    }

    fn checks() -> Vec<CheckInfo> {
        Checks::new()
            .check("too-many", "Too many rules", 3, "More rules than `limit`.")
            .into()
    }

    fn audit(&self, item: &Item) -> Result<Vec<Issue>, Error> {
        let config: serde_json::Value = item.configuration()?;
        let rules = config["rules"].as_array().map_or(0, Vec::len);
        Ok((rules > self.limit)
            .then(|| Issue::new("too-many", "Too many rules", 3).notes(format!("rules:{rules}")))
            .into_iter()
            .collect())
    }
}

register_auditor!(Counter);

pub struct Mailer;

impl Notifier for Mailer {
    fn new() -> Result<Self, Error> {
        Ok(Mailer)
    }

    fn notify(&self, changes: &[Change]) -> Result<(), Error> {
        let lines: Vec<String> = changes
            .iter()
            .map(|c| format!("{} {}", c.kind, c.item.resource_id))
            .collect();
        mail::send(mail::Message::new(
            ["sec@example.com"],
            "changes",
            lines.join("\n"),
        ))?;
        Ok(())
    }
}

register_notifier!(Mailer);

fn group(id: &str, rules: usize) -> Item {
    Item::new("AWS::EC2::SecurityGroup", id).with_configuration(&json!({"rules": vec![0; rules]}))
}

#[test]
fn auditor_runs_per_item_in_order() {
    let host = TestHost::new().setting("limit", 1);
    let bad = Item::new("AWS::EC2::SecurityGroup", "sg-bad").with_configuration_text("{");
    let results = audit_with::<Counter>(&host, &[group("sg-1", 2), group("sg-2", 1), bad]);
    assert_eq!(results.len(), 3);
    let issues = results[0].as_ref().expect("audited");
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0].notes, "rules:2");
    assert_eq!(results[1].as_ref().map(Vec::len), Ok(0));
    let e = results[2].as_ref().expect_err("malformed configuration");
    assert!(e.message().contains("sg-bad"), "{e}");
}

#[test]
fn failed_start_fails_every_item() {
    let results = audit_with::<Counter>(&TestHost::new(), &[group("a", 0), group("b", 0)]);
    assert_eq!(results.len(), 2);
    for result in results {
        let e = result.expect_err("new() failed");
        assert_eq!(
            e.message(),
            "plugin failed to start: setting `limit` is required"
        );
    }
}

#[test]
fn checks_are_listed_in_order() {
    let checks = Counter::checks();
    assert_eq!(checks.len(), 1);
    assert_eq!(
        checks[0],
        CheckInfo::new("too-many", "Too many rules", 3, "More rules than `limit`.")
    );
}

#[test]
fn notifier_sends_through_the_granted_relay() {
    let changes = [
        Change::new(ChangeKind::Created, group("sg-1", 0)),
        Change::new(ChangeKind::Deleted, group("sg-2", 0)),
    ];
    let granted = TestHost::new().allow_mail("@example.com");
    notify_with::<Mailer>(&granted, &changes).expect("granted");
    let sent = granted.sent_mail();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].text, "created sg-1\ndeleted sg-2");

    let e = notify_with::<Mailer>(&TestHost::new(), &changes).expect_err("not granted");
    assert!(
        e.message().contains("denied: mail to sec@example.com"),
        "{e}"
    );
}
