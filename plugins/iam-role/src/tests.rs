use serde_json::{Value, json};
use simian_sdk::testing::{TestHost, audit_with};
use simian_sdk::{Auditor, Error, Issue, Item};

use crate::IamRole;

const OWN: &str = "123456789012";

fn host() -> TestHost {
    TestHost::new()
        .account(OWN, "prod", false)
        .account("222222222222", "dev", false)
        .account("333333333333", "vendor", true)
        .network("corp", "10.0.0.0/8")
}

/// The role of docs/item-format.md, with the trust policy replaced.
fn role(trust: Value) -> Item {
    Item::new("AWS::IAM::Role", "AROARZPUZDIKEOLNBN7RK")
        .with_name("vendor-access")
        .with_arn(format!("arn:aws:iam::{OWN}:role/vendor-access"))
        .with_account(OWN)
        .with_region("global")
        .with_configuration(&json!({
            "arn": format!("arn:aws:iam::{OWN}:role/vendor-access"),
            "assumeRolePolicyDocument": trust,
            "attachedManagedPolicies": [],
            "path": "/",
            "roleId": "AROARZPUZDIKEOLNBN7RK",
            "roleName": "vendor-access",
            "rolePolicyList": [],
            "tags": []
        }))
}

fn trust(principal: Value) -> Value {
    json!({"Version": "2012-10-17", "Statement": [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": principal}
    ]})
}

fn audit_on(host: &TestHost, item: Item) -> Result<Vec<Issue>, Error> {
    let mut results = audit_with::<IamRole>(host, &[item]);
    assert_eq!(results.len(), 1);
    results.remove(0)
}

fn audit(item: Item) -> Vec<Issue> {
    audit_on(&host(), item).expect("audited")
}

fn summary(issues: &[Issue]) -> Vec<(&str, &str, u32, &str)> {
    issues
        .iter()
        .map(|i| {
            (
                i.check_id.as_str(),
                i.title.as_str(),
                i.score,
                i.notes.as_str(),
            )
        })
        .collect()
}

const ASSUME: &str = r#"Actions: ["sts:AssumeRole"]"#;

#[test]
fn unknown_root_is_unknown_access_and_cross_account_root() {
    let issues = audit(role(trust(
        json!({"AWS": "arn:aws:iam::999999999999:root"}),
    )));
    let notes = format!("Entity: [principal:arn:aws:iam::999999999999:root] {ASSUME}");
    assert_eq!(
        summary(&issues),
        [
            ("unknown-access", "Unknown Access", 10, notes.as_str()),
            (
                "cross-account-root",
                "Cross-Account Root IAM",
                6,
                notes.as_str()
            ),
        ]
    );
    assert!(issues.iter().all(|i| i.remediation.is_some()));
}

#[test]
fn internet_accessible() {
    let issues = audit(role(trust(json!({"AWS": "*"}))));
    assert_eq!(
        summary(&issues),
        [(
            "internet-accessible",
            "Internet Accessible",
            10,
            format!("Entity: [principal:*] {ASSUME}").as_str()
        )]
    );
    // NotPrincipal with Allow lets in everybody else.
    let not_principal = role(
        json!({"Statement": {"Effect": "Allow", "Action": "sts:AssumeRole",
        "NotPrincipal": {"AWS": format!("arn:aws:iam::{OWN}:role/x")}}}),
    );
    assert_eq!(audit(not_principal)[0].check_id, "internet-accessible");
}

#[test]
fn condition_restricted_anyone_is_classified_not_internet() {
    let restricted = |condition: Value| {
        audit(role(
            json!({"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
            "Principal": "*", "Condition": condition}]}),
        ))
    };
    let friendly = restricted(json!({"StringEquals": {"aws:SourceAccount": "222222222222"}}));
    assert_eq!(
        summary(&friendly),
        [(
            "friendly-cross-account",
            "Friendly Cross Account",
            0,
            format!("Entity: [account:222222222222] {ASSUME}").as_str()
        )]
    );
    let org = restricted(json!({"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}));
    assert!(org.is_empty(), "{org:?}");
    let negative = restricted(json!({"StringNotEquals": {"aws:PrincipalAccount": OWN}}));
    assert_eq!(negative[0].check_id, "internet-accessible");
    let if_exists = restricted(json!({"StringEqualsIfExists": {"aws:SourceAccount": OWN}}));
    assert_eq!(if_exists[0].check_id, "internet-accessible");
}

#[test]
fn friendly_and_third_party() {
    let issues = audit(role(trust(json!({"AWS": [
        "arn:aws:iam::222222222222:role/deploy",
        "arn:aws:iam::333333333333:role/support"
    ]}))));
    assert_eq!(
        summary(&issues),
        [
            (
                "friendly-cross-account",
                "Friendly Cross Account",
                0,
                format!("Entity: [principal:arn:aws:iam::222222222222:role/deploy] {ASSUME}")
                    .as_str()
            ),
            (
                "thirdparty-cross-account",
                "Thirdparty Cross Account",
                0,
                format!("Entity: [principal:arn:aws:iam::333333333333:role/support] {ASSUME}")
                    .as_str()
            ),
        ]
    );
    let vendor_root = audit(role(trust(json!({"AWS": "333333333333"}))));
    let checks: Vec<&str> = vendor_root.iter().map(|i| i.check_id.as_str()).collect();
    assert_eq!(checks, ["thirdparty-cross-account", "cross-account-root"]);
}

#[test]
fn same_account_and_services_raise_nothing() {
    for principal in [
        json!({"AWS": format!("arn:aws:iam::{OWN}:root")}),
        json!({"AWS": OWN}),
        json!({"Service": ["ec2.amazonaws.com", "lambda.amazonaws.com"]}),
        json!({"Federated": format!("arn:aws:iam::{OWN}:saml-provider/okta")}),
        json!({"Federated": "cognito-identity.amazonaws.com"}),
    ] {
        let issues = audit(role(trust(principal.clone())));
        assert!(issues.is_empty(), "{principal}: {issues:?}");
    }
}

#[test]
fn deleted_principal_is_a_parse_error() {
    let issues = audit(role(trust(
        json!({"AWS": ["AROAEXAMPLEDELETED", "arn:aws:iam::12:root"]}),
    )));
    assert_eq!(
        summary(&issues),
        [
            (
                "parse-error",
                "Parse Error",
                3,
                "Could not parse ARN - AROAEXAMPLEDELETED"
            ),
            (
                "parse-error",
                "Parse Error",
                3,
                "Could not parse ARN - arn:aws:iam::12:root"
            ),
        ]
    );
}

#[test]
fn url_encoded_trust_policy() {
    let encoded = "%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A\
                   %7B%22AWS%22%3A%22arn%3Aaws%3Aiam%3A%3A222222222222%3Aroot%22%7D%2C\
                   %22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D";
    let issues = audit(role(Value::String(encoded.to_string())));
    let checks: Vec<&str> = issues.iter().map(|i| i.check_id.as_str()).collect();
    assert_eq!(checks, ["friendly-cross-account", "cross-account-root"]);
}

#[test]
fn malformed_or_missing_trust_policy_is_an_error() {
    let missing = Item::new("AWS::IAM::Role", "r").with_account(OWN);
    let e = audit_on(&host(), missing).expect_err("no trust policy");
    assert!(e.message().contains("assumeRolePolicyDocument"), "{e}");
    let bad = role(json!({"Statement": {"Effect": "Perhaps"}}));
    let e = audit_on(&host(), bad).expect_err("bad effect");
    assert!(e.message().contains("unknown `Effect`"), "{e}");
    assert!(e.message().contains("AWS::IAM::Role"), "{e}");
}

#[test]
fn accounts_capability_is_required() {
    let e = audit_on(
        &host().deny_accounts(),
        role(trust(json!({"AWS": "222222222222"}))),
    )
    .expect_err("denied");
    assert!(e.message().contains("denied"), "{e}");
}

#[test]
fn the_checks_are_listed() {
    let checks = IamRole::checks();
    let ids: Vec<&str> = checks.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "internet-accessible",
            "unknown-access",
            "friendly-cross-account",
            "thirdparty-cross-account",
            "cross-account-root",
            "parse-error"
        ]
    );
}
