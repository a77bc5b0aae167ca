use serde_json::{Value, json};
use simian_sdk::testing::{TestHost, audit_with};
use simian_sdk::{Auditor, Error, Issue, Item};

use crate::S3Bucket;

const OWN: &str = "123456789012";
const ACL_OWNER: &str = "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a";
const CONFIG_OWNER: &str = "bcaf1ffd86f41161ca5fb16fd081034f";
const ALL_USERS: &str = "http://acs.amazonaws.com/groups/global/AllUsers";

fn host() -> TestHost {
    TestHost::new()
        .account(OWN, "prod", false)
        .account("222222222222", "dev", false)
        .account("333333333333", "vendor", true)
        .canonical_id(OWN, "canon-prod")
        .canonical_id("222222222222", "canon-dev")
        .canonical_id("333333333333", "canon-vendor")
        .network("corp", "10.0.0.0/8")
}

fn owner_grant() -> Value {
    json!({"grantee": {"displayName": null, "emailAddress": null, "id": ACL_OWNER,
                       "type": "CanonicalUser", "uri": null},
           "permission": "FULL_CONTROL"})
}

/// The bucket of docs/item-format.md, with its policy text and extra grants replaced.
fn bucket(policy_text: Value, extra_grants: Value) -> Item {
    let mut grants = vec![owner_grant()];
    grants.extend(extra_grants.as_array().cloned().unwrap_or_default());
    Item::new("AWS::S3::Bucket", "open-policy-bucket")
        .with_name("open-policy-bucket")
        .with_arn("arn:aws:s3:::open-policy-bucket")
        .with_account(OWN)
        .with_region("us-east-1")
        .with_configuration(&json!({
            "creationDate": "2026-11-23T00:49:20Z",
            "name": "open-policy-bucket",
            "owner": {"displayName": "webfile", "id": CONFIG_OWNER},
            "region": "us-east-1"
        }))
        .with_supplementary(&json!({
            "AccessControlList": {
                "grantList": grants,
                "owner": {"displayName": "webfile", "id": ACL_OWNER}
            },
            "BucketLoggingConfiguration": {"destinationBucketName": null, "logFilePrefix": null},
            "BucketPolicy": {"policyText": policy_text},
            "PublicAccessBlockConfiguration": null
        }))
}

fn open_policy() -> Value {
    json!({"Statement": [{"Action": "s3:GetObject", "Effect": "Allow", "Principal": "*",
                          "Resource": "arn:aws:s3:::open-policy-bucket/*", "Sid": "Open"}],
           "Version": "2012-10-17"})
}

fn policy(statement: Value) -> Value {
    json!({"Version": "2012-10-17", "Statement": [statement]})
}

fn audit_on(host: &TestHost, item: Item) -> Result<Vec<Issue>, Error> {
    let mut results = audit_with::<S3Bucket>(host, &[item]);
    assert_eq!(results.len(), 1);
    results.remove(0)
}

fn audit(item: Item) -> Vec<Issue> {
    audit_on(&host(), item).expect("audited")
}

fn summary(issues: &[Issue]) -> Vec<(String, String, u32, String)> {
    issues
        .iter()
        .map(|i| {
            (
                i.check_id.clone(),
                i.title.clone(),
                i.score,
                i.notes.clone(),
            )
        })
        .collect()
}

fn row(id: &str, title: &str, score: u32, notes: &str) -> (String, String, u32, String) {
    (id.into(), title.into(), score, notes.into())
}

#[test]
fn documented_open_bucket() {
    let issues = audit(bucket(open_policy(), json!([])));
    assert_eq!(
        summary(&issues),
        [row(
            "internet-accessible",
            "Internet Accessible",
            10,
            r#"Entity: [principal:*] Actions: ["s3:GetObject"]"#
        )]
    );
    assert!(issues[0].remediation.is_some());
}

#[test]
fn policy_restricted_to_a_friendly_account_or_our_network() {
    let friendly = audit(bucket(
        policy(
            json!({"Effect": "Allow", "Principal": "*", "Action": "s3:PutObject",
                      "Condition": {"StringEquals": {"aws:SourceAccount": "222222222222"}}}),
        ),
        json!([]),
    ));
    assert_eq!(
        summary(&friendly),
        [row(
            "friendly-cross-account",
            "Friendly Cross Account",
            0,
            r#"Entity: [account:222222222222] Actions: ["s3:PutObject"]"#
        )]
    );
    let ours = audit(bucket(
        policy(
            json!({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                      "Condition": {"IpAddress": {"aws:SourceIp": ["10.1.0.0/16"]}}}),
        ),
        json!([]),
    ));
    assert!(ours.is_empty(), "{ours:?}");
    let stranger = audit(bucket(
        policy(
            json!({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                      "Condition": {"IpAddress": {"aws:SourceIp": "198.51.100.7/32"}}}),
        ),
        json!([]),
    ));
    assert_eq!(
        summary(&stranger),
        [row(
            "unknown-access",
            "Unknown Access",
            10,
            r#"Entity: [cidr:198.51.100.7/32] Actions: ["s3:GetObject"]"#
        )]
    );
}

#[test]
fn policy_principals_by_relation() {
    let issues = audit(bucket(
        policy(
            json!({"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
            "Principal": {"AWS": ["arn:aws:iam::333333333333:role/backup",
                                 "arn:aws:iam::999999999999:root",
                                 format!("arn:aws:iam::{OWN}:role/app"),
                                 "not-an-arn"]}}),
        ),
        json!([]),
    ));
    let actions = r#"Actions: ["s3:GetObject", "s3:ListBucket"]"#;
    assert_eq!(
        summary(&issues),
        [
            row(
                "thirdparty-cross-account",
                "Thirdparty Cross Account",
                0,
                &format!("Entity: [principal:arn:aws:iam::333333333333:role/backup] {actions}")
            ),
            row(
                "unknown-access",
                "Unknown Access",
                10,
                &format!("Entity: [principal:arn:aws:iam::999999999999:root] {actions}")
            ),
            row(
                "cross-account-root",
                "Cross-Account Root IAM",
                6,
                &format!("Entity: [principal:arn:aws:iam::999999999999:root] {actions}")
            ),
            row(
                "parse-error",
                "Parse Error",
                3,
                "Could not parse ARN - not-an-arn"
            ),
        ]
    );
}

#[test]
fn no_policy() {
    for policy_text in [Value::Null, json!("")] {
        let issues = audit(bucket(policy_text, json!([])));
        assert_eq!(
            summary(&issues),
            [row(
                "no-bucket-policy",
                "POLICY - No Policy.",
                0,
                "BucketPolicy: [none]"
            )]
        );
    }
    let without_sub_resources = Item::new("AWS::S3::Bucket", "b").with_account(OWN);
    assert_eq!(audit(without_sub_resources)[0].check_id, "no-bucket-policy");
    let same_account_policy = audit(bucket(
        policy(json!({"Effect": "Allow", "Principal": {"AWS": OWN}, "Action": "s3:*"})),
        json!([]),
    ));
    assert!(same_account_policy.is_empty(), "{same_account_policy:?}");
}

#[test]
fn acl_public_groups_are_internet_accessible() {
    let issues = audit(bucket(
        open_policy(),
        json!([
            {"grantee": {"type": "Group", "uri": ALL_USERS, "id": null}, "permission": "READ"},
            {"grantee": {"type": "Group", "uri": ALL_USERS}, "permission": "READ_ACP"},
            {"grantee": "AuthenticatedUsers", "permission": "Write"}
        ]),
    ));
    assert_eq!(
        summary(&issues[1..]),
        [
            row(
                "acl-internet-accessible",
                "Internet Accessible",
                10,
                &format!(r#"Entity: [ACL:{ALL_USERS}] Actions: ["READ", "READ_ACP"]"#)
            ),
            row(
                "acl-internet-accessible",
                "Internet Accessible",
                10,
                r#"Entity: [ACL:http://acs.amazonaws.com/groups/global/AuthenticatedUsers] Actions: ["Write"]"#
            ),
        ]
    );
}

#[test]
fn acl_log_delivery_is_third_party() {
    let issues = audit(bucket(
        open_policy(),
        json!([{"grantee": {"type": "Group",
                            "uri": "http://acs.amazonaws.com/groups/s3/LogDelivery"},
                "permission": "WRITE"}]),
    ));
    assert_eq!(
        summary(&issues[1..]),
        [row(
            "acl-log-delivery",
            "Thirdparty Cross Account",
            0,
            r#"Entity: [ACL:http://acs.amazonaws.com/groups/s3/LogDelivery] Actions: ["WRITE"]"#
        )]
    );
}

#[test]
fn acl_canonical_ids_by_relation() {
    let user =
        |id: &str| json!({"grantee": {"type": "CanonicalUser", "id": id}, "permission": "READ"});
    let issues = audit(bucket(
        open_policy(),
        json!([
            user("canon-dev"),
            user("canon-vendor"),
            user("canon-stranger"),
            {"grantee": {"type": "AmazonCustomerByEmail", "emailAddress": "x@example.com"},
             "permission": "READ"},
            user("canon-prod"),
            user(CONFIG_OWNER),
        ]),
    ));
    assert_eq!(
        summary(&issues[1..]),
        [
            row(
                "acl-friendly-cross-account",
                "Friendly Cross Account",
                0,
                r#"Entity: [ACL:canon-dev] Actions: ["READ"]"#
            ),
            row(
                "acl-thirdparty-cross-account",
                "Thirdparty Cross Account",
                0,
                r#"Entity: [ACL:canon-vendor] Actions: ["READ"]"#
            ),
            row(
                "acl-unknown-access",
                "Unknown Access",
                10,
                r#"Entity: [ACL:canon-stranger] Actions: ["READ"]"#
            ),
            row(
                "acl-unknown-access",
                "Unknown Access",
                10,
                r#"Entity: [ACL:x@example.com] Actions: ["READ"]"#
            ),
        ]
    );
}

#[test]
fn aws_config_text_forms() {
    let item = Item::new("AWS::S3::Bucket", "b")
        .with_account(OWN)
        .with_supplementary(&json!({
            "BucketPolicy": json!({"policyText": open_policy().to_string()}).to_string(),
            "AccessControlList": json!({
                "grantList": [{"grantee": "AllUsers", "permission": "Read"}],
                "owner": {"id": ACL_OWNER}
            }).to_string()
        }));
    let checks: Vec<String> = audit(item).into_iter().map(|i| i.check_id).collect();
    assert_eq!(checks, ["internet-accessible", "acl-internet-accessible"]);
}

#[test]
fn malformed_documents_are_errors_naming_the_field() {
    let bad_policy = bucket(
        json!({"Statement": {"Effect": "Allow", "Principal": 3}}),
        json!([]),
    );
    let e = audit_on(&host(), bad_policy).expect_err("bad principal");
    assert!(e.message().contains("BucketPolicy.policyText"), "{e}");
    let bad_acl = Item::new("AWS::S3::Bucket", "b")
        .with_account(OWN)
        .with_supplementary(&json!({"AccessControlList": {"grantList": {}}}));
    let e = audit_on(&host(), bad_acl).expect_err("grantList not a list");
    assert!(e.message().contains("AccessControlList.grantList"), "{e}");
    let no_grantee = Item::new("AWS::S3::Bucket", "b")
        .with_account(OWN)
        .with_supplementary(&json!({"AccessControlList": {"grantList": [{"permission": "READ"}]}}));
    let e = audit_on(&host(), no_grantee).expect_err("no grantee");
    assert!(e.message().contains("grantList[0].grantee"), "{e}");
}

#[test]
fn accounts_capability_is_required() {
    let e = audit_on(
        &host().deny_accounts(),
        bucket(
            open_policy(),
            json!([
                {"grantee": {"type": "CanonicalUser", "id": "canon-dev"}, "permission": "READ"}
            ]),
        ),
    )
    .expect_err("denied");
    assert!(e.message().contains("denied"), "{e}");
}

#[test]
fn the_checks_are_listed() {
    let checks = S3Bucket::checks();
    let ids: Vec<&str> = checks.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "internet-accessible",
            "unknown-access",
            "friendly-cross-account",
            "thirdparty-cross-account",
            "cross-account-root",
            "parse-error",
            "acl-internet-accessible",
            "acl-log-delivery",
            "acl-friendly-cross-account",
            "acl-thirdparty-cross-account",
            "acl-unknown-access",
            "no-bucket-policy"
        ]
    );
}
