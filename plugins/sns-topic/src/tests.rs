use serde_json::{Value, json};
use simian_sdk::Item;
use simian_sdk::testing::{TestHost, audit_with};

use crate::SnsTopic;

const OWN: &str = "111111111111";

fn host() -> TestHost {
    TestHost::new()
        .account(OWN, "prod", false)
        .account("222222222222", "dev", false)
        .account("333333333333", "vendor", true)
}

fn topic(policy: Value, owners: &[&str]) -> Item {
    let subs: Vec<Value> = owners
        .iter()
        .map(|o| json!({"owner": o, "protocol": "sqs", "endpoint": "arn:aws:sqs:us-east-1:1:q"}))
        .collect();
    Item::new("AWS::SNS::Topic", "arn:aws:sns:us-east-1:111111111111:t")
        .with_account(OWN)
        .with_configuration(&json!({"policy": policy, "subscriptions": subs}))
}

fn own_policy() -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111111111111:root"}, "Action": "sns:Publish",
        "Resource": "arn:aws:sns:us-east-1:111111111111:t"}]})
}

fn audit(item: Item) -> Vec<(String, u32, String)> {
    audit_with::<SnsTopic>(&host(), &[item])
        .remove(0)
        .expect("audited")
        .into_iter()
        .map(|i| (i.title, i.score, i.notes))
        .collect()
}

#[test]
fn an_empty_policy_is_flagged() {
    assert_eq!(
        audit(topic(Value::Null, &[])),
        [(
            "SNS Topic Policy is empty".to_string(),
            1,
            "Policy: [none]".to_string()
        )]
    );
    let no_statements = json!({"Version": "2012-10-17", "Statement": []});
    assert_eq!(
        audit(topic(no_statements, &[]))[0].0,
        "SNS Topic Policy is empty"
    );
    assert!(audit(topic(own_policy(), &[])).is_empty());
}

#[test]
fn an_open_topic_policy_is_internet_accessible() {
    let open = json!({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sns:Subscribe",
        "Resource": "*"}]});
    let found = audit(topic(open, &[]));
    assert_eq!(found.len(), 1);
    assert_eq!(
        (found[0].0.as_str(), found[0].1),
        ("Internet Accessible", 10)
    );
}

#[test]
fn subscriptions_of_other_accounts_are_classified() {
    let found = audit(topic(
        own_policy(),
        &[OWN, "222222222222", "333333333333", "999999999999"],
    ));
    let got: Vec<(&str, u32)> = found.iter().map(|f| (f.0.as_str(), f.1)).collect();
    assert_eq!(
        got,
        [
            ("Friendly Cross Account", 0),
            ("Thirdparty Cross Account", 0),
            ("Unknown Access", 10)
        ]
    );
    assert_eq!(
        found[2].2,
        "Entity: [account:999999999999] Actions: [\"sns:Subscribe\"]"
    );
}

#[test]
fn an_unreadable_policy_is_an_error_naming_the_field() {
    let mut results = audit_with::<SnsTopic>(&host(), &[topic(json!({"Statement": 1}), &[])]);
    let e = results.remove(0).expect_err("not a policy");
    assert!(e.to_string().contains("configuration.policy"), "{e}");
}
