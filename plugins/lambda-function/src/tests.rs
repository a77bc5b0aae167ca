use serde_json::{Value, json};
use simian_sdk::Item;
use simian_sdk::testing::{TestHost, audit_with};

use crate::LambdaFunction;

const OWN: &str = "111111111111";

fn host() -> TestHost {
    TestHost::new()
        .account(OWN, "prod", false)
        .account("222222222222", "dev", false)
}

fn grant(principal: Value, condition: Option<Value>) -> Value {
    let mut s = json!({"Sid": "invoke", "Effect": "Allow", "Principal": principal,
        "Action": "lambda:InvokeFunction", "Resource": "arn:aws:lambda:us-east-1:111111111111:function:f"});
    if let Some(c) = condition {
        s["Condition"] = c;
    }
    json!({"Version": "2012-10-17", "Statement": [s]})
}

fn audit(configuration: Value) -> Vec<(String, u32, String)> {
    let item = Item::new("AWS::Lambda::Function", "f")
        .with_account(OWN)
        .with_configuration(&configuration);
    audit_with::<LambdaFunction>(&host(), &[item])
        .remove(0)
        .expect("audited")
        .into_iter()
        .map(|i| (i.title, i.score, i.notes))
        .collect()
}

#[test]
fn a_function_without_policies_is_clean() {
    assert!(audit(json!({"policy": null, "aliases": [], "versions": []})).is_empty());
}

#[test]
fn an_open_function_policy_is_internet_accessible() {
    let found = audit(json!({"policy": grant(json!("*"), None)}));
    assert_eq!(found.len(), 1);
    assert_eq!(
        (found[0].0.as_str(), found[0].1),
        ("Internet Accessible", 10)
    );
    assert!(!found[0].2.contains("Qualifier"), "{found:?}");
}

#[test]
fn a_service_principal_narrowed_to_our_account_is_clean() {
    let condition = json!({"StringEquals": {"AWS:SourceAccount": OWN}});
    assert!(
        audit(json!({"policy": grant(json!({"Service": "s3.amazonaws.com"}), Some(condition))}))
            .is_empty()
    );
}

#[test]
fn alias_and_version_policies_are_judged_and_named() {
    let found = audit(json!({
        "policy": null,
        "aliases": [{"name": "prod", "functionVersion": "3",
                     "policy": grant(json!({"AWS": "arn:aws:iam::999999999999:role/x"}), None)}],
        "versions": [{"version": "3", "policy": grant(json!({"AWS": "arn:aws:iam::222222222222:role/x"}), None)}]
    }));
    let got: Vec<(&str, u32)> = found.iter().map(|f| (f.0.as_str(), f.1)).collect();
    assert_eq!(got, [("Unknown Access", 10), ("Friendly Cross Account", 0)]);
    assert!(found[0].2.ends_with("Qualifier: [alias:prod]"), "{found:?}");
    assert!(found[1].2.ends_with("Qualifier: [version:3]"), "{found:?}");
}

#[test]
fn an_unreadable_alias_policy_is_an_error_naming_it() {
    let item = Item::new("AWS::Lambda::Function", "f")
        .with_account(OWN)
        .with_configuration(&json!({"aliases": [{"name": "a", "policy": {"Statement": 5}}]}));
    let e = audit_with::<LambdaFunction>(&host(), &[item])
        .remove(0)
        .expect_err("bad policy");
    assert!(
        e.to_string().contains("configuration.aliases[0].policy"),
        "{e}"
    );
}
