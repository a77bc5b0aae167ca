use serde_json::{Value, json};
use simian_sdk::Item;
use simian_sdk::testing::{TestHost, audit_with};

use crate::SqsQueue;

const OWN: &str = "111111111111";

fn host() -> TestHost {
    TestHost::new()
        .account(OWN, "prod", false)
        .account("222222222222", "dev", false)
        .account("333333333333", "vendor", true)
}

fn queue(policy: Value) -> Item {
    Item::new(
        "AWS::SQS::Queue",
        "https://sqs.us-east-1.amazonaws.com/111111111111/q",
    )
    .with_account(OWN)
    .with_configuration(&json!({"queueName": "q", "policy": policy}))
}

fn statement(principal: Value, condition: Option<Value>) -> Value {
    let mut s = json!({"Effect": "Allow", "Principal": principal, "Action": "sqs:SendMessage",
                       "Resource": "arn:aws:sqs:us-east-1:111111111111:q"});
    if let Some(c) = condition {
        s["Condition"] = c;
    }
    json!({"Version": "2012-10-17", "Statement": [s]})
}

fn audit(item: Item) -> Vec<(String, u32, String)> {
    audit_with::<SqsQueue>(&host(), &[item])
        .remove(0)
        .expect("audited")
        .into_iter()
        .map(|i| (i.title, i.score, i.notes))
        .collect()
}

#[test]
fn a_queue_open_to_everyone_is_internet_accessible() {
    let found = audit(queue(statement(json!("*"), None)));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, "Internet Accessible");
    assert_eq!(found[0].1, 10);
    assert!(found[0].2.contains("sqs:SendMessage"), "{found:?}");
}

#[test]
fn a_condition_naming_our_account_closes_it() {
    let condition = json!({"StringEquals": {"aws:SourceAccount": OWN}});
    assert!(audit(queue(statement(json!("*"), Some(condition)))).is_empty());
}

#[test]
fn accounts_are_classified() {
    let unknown = audit(queue(statement(
        json!({"AWS": "arn:aws:iam::999999999999:role/x"}),
        None,
    )));
    assert_eq!(
        unknown,
        [(
            "Unknown Access".to_string(),
            10,
            "Entity: [principal:arn:aws:iam::999999999999:role/x] Actions: [\"sqs:SendMessage\"]"
                .to_string()
        )]
    );
    let friendly = audit(queue(statement(
        json!({"AWS": "arn:aws:iam::222222222222:role/x"}),
        None,
    )));
    assert_eq!(friendly[0].0, "Friendly Cross Account");
    assert_eq!(friendly[0].1, 0);
    let vendor = audit(queue(statement(json!({"AWS": "333333333333"}), None)));
    let titles: Vec<&str> = vendor.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(
        titles,
        ["Thirdparty Cross Account", "Cross-Account Root IAM"]
    );
    assert_eq!(vendor[1].1, 6);
}

#[test]
fn our_own_account_and_no_policy_raise_nothing() {
    assert!(
        audit(queue(statement(
            json!({"AWS": "arn:aws:iam::111111111111:role/x"}),
            None
        )))
        .is_empty()
    );
    assert!(audit(queue(Value::Null)).is_empty());
    // AWS Config writes the policy as text.
    let text = statement(json!("*"), None).to_string();
    assert_eq!(
        audit(queue(Value::String(text)))[0].0,
        "Internet Accessible"
    );
}

#[test]
fn an_unreadable_policy_is_an_error_naming_the_field() {
    let mut results = audit_with::<SqsQueue>(&host(), &[queue(json!({"Statement": 7}))]);
    let e = results.remove(0).expect_err("not a policy");
    assert!(e.to_string().contains("configuration.policy"), "{e}");
}
