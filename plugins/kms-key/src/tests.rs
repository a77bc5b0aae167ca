use serde_json::{Value, json};
use simian_sdk::Item;
use simian_sdk::testing::{TestHost, audit_with};

use crate::KmsKey;

const OWN: &str = "111111111111";

fn host() -> TestHost {
    TestHost::new()
        .account(OWN, "prod", false)
        .account("222222222222", "dev", false)
}

fn key(policy: Value, manager: &str, rotation: Option<bool>) -> Item {
    Item::new("AWS::KMS::Key", "k-1")
        .with_account(OWN)
        .with_configuration(
            &json!({"keyId": "k-1", "keyPolicy": policy, "keyManager": manager,
            "keySpec": "SYMMETRIC_DEFAULT", "keyState": "Enabled", "keyRotationEnabled": rotation}),
        )
}

fn default_policy() -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Sid": "Enable IAM User Permissions",
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
        "Action": "kms:*", "Resource": "*"}]})
}

fn with_principal(principal: Value) -> Value {
    let mut p = default_policy();
    p["Statement"][0]["Principal"] = principal;
    p
}

fn audit(item: Item) -> Vec<(String, u32, String)> {
    audit_with::<KmsKey>(&host(), &[item])
        .remove(0)
        .expect("audited")
        .into_iter()
        .map(|i| (i.title, i.score, i.notes))
        .collect()
}

fn titles(item: Item) -> Vec<(String, u32)> {
    audit(item).into_iter().map(|(t, s, _)| (t, s)).collect()
}

#[test]
fn a_rotating_key_with_the_default_policy_is_clean() {
    assert!(audit(key(default_policy(), "CUSTOMER", Some(true))).is_empty());
}

#[test]
fn a_customer_key_without_rotation_is_flagged() {
    assert_eq!(
        audit(key(default_policy(), "CUSTOMER", Some(false))),
        [(
            "KMS key is not configured for rotation.".to_string(),
            1,
            "KeyRotationEnabled: false".to_string()
        )]
    );
    // AWS-managed keys rotate on AWS's schedule; unknown rotation (asymmetric) is not judged.
    assert!(audit(key(default_policy(), "AWS", Some(false))).is_empty());
    assert!(audit(key(default_policy(), "CUSTOMER", None)).is_empty());
}

#[test]
fn policy_principals_are_judged() {
    let open = titles(key(with_principal(json!("*")), "CUSTOMER", Some(true)));
    assert_eq!(open, [("Internet Accessible".to_string(), 10)]);
    let unknown = titles(key(
        with_principal(json!({"AWS": "arn:aws:iam::999999999999:root"})),
        "CUSTOMER",
        Some(true),
    ));
    assert_eq!(
        unknown,
        [
            ("Unknown Access".to_string(), 10),
            ("Cross-Account Root IAM".to_string(), 6)
        ]
    );
    let friendly = titles(key(
        with_principal(json!({"AWS": "arn:aws:iam::222222222222:role/app"})),
        "CUSTOMER",
        Some(true),
    ));
    assert_eq!(friendly, [("Friendly Cross Account".to_string(), 0)]);
}

#[test]
fn an_aws_managed_key_policy_restricted_by_caller_account_is_not_open() {
    let mut policy = with_principal(json!({"AWS": "*"}));
    policy["Statement"][0]["Condition"] = json!({"StringEquals": {"kms:CallerAccount": OWN, "kms:ViaService": "s3.us-east-1.amazonaws.com"}});
    assert!(audit(key(policy, "AWS", None)).is_empty());
}

#[test]
fn an_unreadable_policy_is_an_error_naming_the_field() {
    let mut results = audit_with::<KmsKey>(
        &host(),
        &[key(json!({"Statement": 2}), "CUSTOMER", Some(true))],
    );
    let e = results.remove(0).expect_err("not a policy");
    assert!(e.to_string().contains("configuration.keyPolicy"), "{e}");
}
