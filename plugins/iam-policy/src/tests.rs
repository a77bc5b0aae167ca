use serde_json::{Value, json};
use simian_sdk::testing::{TestHost, audit_with};
use simian_sdk::{Issue, Item};

use crate::IamPolicy;

fn audit_on(host: &TestHost, item: Item) -> Result<Vec<Issue>, simian_sdk::Error> {
    let mut results = audit_with::<IamPolicy>(host, &[item]);
    assert_eq!(results.len(), 1);
    results.remove(0)
}

fn audit(item: Item) -> Vec<Issue> {
    audit_on(&TestHost::new(), item).expect("audited")
}

/// (check id, title, score, notes) of each issue, for whole-result assertions.
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

fn row(check: &str, title: &str, score: u32, notes: &str) -> (String, String, u32, String) {
    (check.into(), title.into(), score, notes.into())
}

fn document(statements: Value) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

fn user_with_inline(name: &str, statements: Value) -> Item {
    Item::new("AWS::IAM::User", "AIDA1")
        .with_account("111111111111")
        .with_configuration(&json!({
            "userName": "alice",
            "userPolicyList": [{"policyName": name, "policyDocument": document(statements)}]
        }))
}

fn allow(actions: Value) -> Value {
    json!([{"Effect": "Allow", "Action": actions, "Resource": "*"}])
}

fn managed(configuration: Value) -> Item {
    Item::new("AWS::IAM::Policy", "ANPA1")
        .with_name("from-envelope")
        .with_configuration(&configuration)
}

#[test]
fn star_is_administrator_access_only() {
    let issues = audit(user_with_inline("admin", allow(json!("*"))));
    assert_eq!(
        summary(&issues),
        [row(
            "full-admin",
            "Administrator Access",
            10,
            "Policy: [inline:admin] Statement: [0] Actions: [\"*\"] Resources: [\"*\"]"
        )]
    );
    assert!(issues[0].remediation.is_some());
    let star_star = audit(user_with_inline(
        "admin",
        allow(json!(["s3:GetObject", "*:*"])),
    ));
    assert_eq!(
        summary(&star_star)[0].3,
        "Policy: [inline:admin] Statement: [0] Actions: [\"*:*\"] Resources: [\"*\"]"
    );
    assert_eq!(star_star.len(), 1);
}

#[test]
fn iam_star_is_administrator_access_and_hides_other_iam_findings() {
    let issues = audit(user_with_inline(
        "iam-all",
        allow(json!(["IAM:*", "iam:PassRole"])),
    ));
    assert_eq!(
        summary(&issues),
        [row(
            "iam-admin",
            "Administrator Access",
            10,
            "Policy: [inline:iam-all] Statement: [0] Actions: [\"IAM:*\"] Resources: [\"*\"]"
        )]
    );
}

#[test]
fn permissions_management_one_issue_per_service() {
    let issues = audit(user_with_inline(
        "grants",
        allow(json!([
            "iam:PutUserPolicy",
            "iam:AttachRolePolicy",
            "s3:PutBucketPolicy",
            "s3:GetObject"
        ])),
    ));
    assert_eq!(
        summary(&issues),
        [
            row(
                "permissions-management",
                "Sensitive Permissions",
                10,
                "Policy: [inline:grants] Statement: [0] Service: [iam] \
                 Actions: [\"iam:AttachRolePolicy\", \"iam:PutUserPolicy\"] Resources: [\"*\"]"
            ),
            row(
                "permissions-management",
                "Sensitive Permissions",
                10,
                "Policy: [inline:grants] Statement: [0] Service: [s3] Actions: [\"s3:PutBucketPolicy\"] Resources: [\"*\"]"
            ),
        ]
    );
}

#[test]
fn permissions_management_expands_wildcards() {
    let issues = audit(user_with_inline("kms", allow(json!("kms:Put*"))));
    let pm: Vec<_> = issues
        .iter()
        .filter(|i| i.check_id == "permissions-management")
        .collect();
    assert_eq!(pm.len(), 1);
    assert!(pm[0].notes.contains("Service: [kms]"), "{}", pm[0].notes);
    assert!(
        pm[0].notes.contains("\"kms:PutKeyPolicy\""),
        "{}",
        pm[0].notes
    );
}

#[test]
fn read_and_list_only_are_clean() {
    let issues = audit(user_with_inline(
        "readonly",
        allow(json!([
            "s3:GetObject",
            "s3:List*",
            "iam:Get*",
            "ec2:Describe*"
        ])),
    ));
    assert!(issues.is_empty(), "{:?}", summary(&issues));
}

#[test]
fn pass_role() {
    let issues = audit(user_with_inline("deploy", allow(json!(["iam:PassRole"]))));
    assert_eq!(
        summary(&issues),
        [row(
            "iam-passrole",
            "Sensitive Permissions",
            10,
            "Policy: [inline:deploy] Statement: [0] Actions: [\"iam:PassRole\"] Resources: [\"*\"]"
        )]
    );
    // A wildcard covering it counts too; the rest of iam:Pass* is not PassRole.
    let wildcard = audit(user_with_inline("deploy", allow(json!("iam:Pass*"))));
    assert!(wildcard.iter().any(|i| i.check_id == "iam-passrole"));
    let other = audit(user_with_inline("deploy", allow(json!("iam:GetRole"))));
    assert!(other.iter().all(|i| i.check_id != "iam-passrole"));
}

#[test]
fn security_group_authorizations() {
    let issues = audit(user_with_inline(
        "sg",
        allow(json!([
            "ec2:AuthorizeSecurityGroup*",
            "ec2:DescribeSecurityGroups"
        ])),
    ));
    assert_eq!(
        summary(&issues),
        [row(
            "security-group-authorize",
            "Sensitive Permissions",
            7,
            "Policy: [inline:sg] Statement: [0] Actions: \
             [\"ec2:AuthorizeSecurityGroupEgress\", \"ec2:AuthorizeSecurityGroupIngress\"] Resources: [\"*\"]"
        )]
    );
    let revoke = audit(user_with_inline(
        "sg",
        allow(json!("ec2:RevokeSecurityGroupIngress")),
    ));
    assert!(
        revoke
            .iter()
            .all(|i| i.check_id != "security-group-authorize")
    );
}

#[test]
fn writes_on_sensitive_services() {
    let issues = audit(user_with_inline(
        "writer",
        allow(json!(["s3:PutObject", "s3:Put*", "sqs:SendMessage"])),
    ));
    let writes: Vec<_> = summary(&issues)
        .into_iter()
        .filter(|r| r.0 == "sensitive-service-write")
        .collect();
    assert_eq!(
        writes,
        [row(
            "sensitive-service-write",
            "Sensitive Permissions",
            1,
            "Policy: [inline:writer] Statement: [0] Service: [s3] Actions: [\"s3:Put*\", \"s3:PutObject\"] Resources: [\"*\"]"
        )]
    );
    // sqs is not sensitive by default.
    assert!(issues.iter().all(|i| !i.notes.contains("Service: [sqs]")));
}

#[test]
fn sensitive_services_setting() {
    let host = TestHost::new().setting("sensitive_services", json!(["SQS"]));
    let item = user_with_inline("writer", allow(json!(["s3:PutObject", "sqs:SendMessage"])));
    let issues = audit_on(&host, item).expect("audited");
    assert_eq!(
        summary(&issues),
        [row(
            "sensitive-service-write",
            "Sensitive Permissions",
            1,
            "Policy: [inline:writer] Statement: [0] Service: [sqs] Actions: [\"sqs:SendMessage\"] Resources: [\"*\"]"
        )]
    );
    let bad = TestHost::new().setting("sensitive_services", "s3");
    let e = audit_on(&bad, user_with_inline("w", allow(json!("s3:PutObject"))))
        .expect_err("not a list");
    assert!(e.message().contains("sensitive_services"), "{e}");
}

#[test]
fn not_action_and_not_resource() {
    let issues = audit(user_with_inline(
        "awkward",
        json!([
            {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"},
            {"Effect": "Allow", "Action": "s3:GetObject", "NotResource": ["arn:aws:s3:::secret/*"]},
            {"Effect": "Deny", "NotAction": "s3:*", "NotResource": "*"}
        ]),
    ));
    assert_eq!(
        summary(&issues),
        [
            row(
                "not-action",
                "Awkward Statement Construction",
                10,
                "Policy: [inline:awkward] Statement: [0] NotAction: [\"iam:*\"] Resources: [\"*\"]"
            ),
            row(
                "not-resource",
                "Awkward Statement Construction",
                10,
                "Policy: [inline:awkward] Statement: [1] NotResource: [\"arn:aws:s3:::secret/*\"]"
            ),
        ]
    );
}

#[test]
fn deny_statements_are_ignored() {
    let issues = audit(user_with_inline(
        "deny",
        json!([{"Effect": "Deny", "Action": ["*", "iam:PassRole"], "Resource": "*"}]),
    ));
    assert!(issues.is_empty(), "{:?}", summary(&issues));
}

#[test]
fn roles_and_groups_use_their_own_lists() {
    let role = Item::new("AWS::IAM::Role", "AROA1").with_configuration(&json!({
        "rolePolicyList": [{"policyName": "r", "policyDocument": document(allow(json!("*")))}],
        "assumeRolePolicyDocument": document(json!([{"Effect": "Allow", "Action": "sts:AssumeRole",
            "Principal": {"AWS": "*"}}]))
    }));
    assert_eq!(
        summary(&audit(role))[0].3,
        "Policy: [inline:r] Statement: [0] Actions: [\"*\"] Resources: [\"*\"]"
    );
    let group = Item::new("AWS::IAM::Group", "AGPA1").with_configuration(&json!({
        "groupPolicyList": [
            {"policyName": "a", "policyDocument": document(allow(json!("iam:PassRole")))},
            {"policyName": "b", "policyDocument": document(allow(json!("s3:GetObject")))}
        ]
    }));
    assert_eq!(
        summary(&audit(group)),
        [row(
            "iam-passrole",
            "Sensitive Permissions",
            10,
            "Policy: [inline:a] Statement: [0] Actions: [\"iam:PassRole\"] Resources: [\"*\"]"
        )]
    );
    let empty = Item::new("AWS::IAM::Group", "AGPA2")
        .with_configuration(&json!({"groupPolicyList": null, "attachedManagedPolicies": []}));
    assert!(audit(empty).is_empty());
}

#[test]
fn url_encoded_inline_documents() {
    let item = Item::new("AWS::IAM::User", "AIDA1").with_configuration(&json!({
        "userPolicyList": [{"policyName": "enc",
            "policyDocument": "%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22*%22%7D%5D%7D"}]
    }));
    assert_eq!(summary(&audit(item))[0].0, "full-admin");
}

#[test]
fn managed_policy_uses_the_default_version() {
    let item = managed(json!({
        "policyName": "deployer",
        "awsManaged": false,
        "attachmentCount": 0,
        "policyVersionList": [
            {"versionId": "v1", "isDefaultVersion": false, "document": document(allow(json!("*")))},
            {"versionId": "v2", "isDefaultVersion": true, "document": document(allow(json!("iam:PassRole")))}
        ]
    }));
    assert_eq!(
        summary(&audit(item)),
        [row(
            "iam-passrole",
            "Sensitive Permissions",
            10,
            "Policy: [managed:deployer] Statement: [0] Actions: [\"iam:PassRole\"] Resources: [\"*\"]"
        )]
    );
    // Without the flag, `defaultVersionId` picks the version; the envelope names the policy.
    let by_id = managed(json!({
        "defaultVersionId": "v1",
        "policyVersionList": [{"versionId": "v1", "document": document(allow(json!("*")))}]
    }));
    assert_eq!(
        summary(&audit(by_id))[0].3,
        "Policy: [managed:from-envelope] Statement: [0] Actions: [\"*\"] Resources: [\"*\"]"
    );
}

#[test]
fn aws_managed_policies_only_when_attached() {
    let config = |count: Value| {
        json!({
            "policyName": "AdministratorAccess",
            "awsManaged": true,
            "attachmentCount": count,
            "policyVersionList": [{"versionId": "v1", "isDefaultVersion": true,
                                   "document": document(allow(json!("*")))}]
        })
    };
    assert!(audit(managed(config(json!(0)))).is_empty());
    assert!(audit(managed(config(Value::Null))).is_empty());
    assert_eq!(
        summary(&audit(managed(config(json!(2))))),
        [row(
            "full-admin",
            "Administrator Access",
            10,
            "Policy: [managed:AdministratorAccess] Statement: [0] Actions: [\"*\"] Resources: [\"*\"]"
        )]
    );
}

#[test]
fn duplicate_findings_are_reported_once() {
    let issues = audit(user_with_inline(
        "twice",
        json!([
            {"Effect": "Allow", "Action": ["iam:PassRole", "iam:Pass*"], "Resource": "*"}
        ]),
    ));
    assert_eq!(issues.len(), 1, "{:?}", summary(&issues));
}

#[test]
fn malformed_input_names_the_field() {
    let bad_doc = Item::new("AWS::IAM::User", "AIDA1").with_configuration(&json!({
        "userPolicyList": [{"policyName": "x", "policyDocument": {"Statement": [{"Action": "*"}]}}]
    }));
    let e = audit_on(&TestHost::new(), bad_doc).expect_err("no Effect");
    assert!(
        e.message().contains("userPolicyList[0].policyDocument"),
        "{e}"
    );

    let no_name = Item::new("AWS::IAM::Role", "AROA1").with_configuration(&json!({
        "rolePolicyList": [{"policyDocument": document(allow(json!("*")))}]
    }));
    let e = audit_on(&TestHost::new(), no_name).expect_err("no name");
    assert!(e.message().contains("rolePolicyList[0].policyName"), "{e}");

    let no_default = managed(json!({"policyVersionList": [{"versionId": "v1"}]}));
    let e = audit_on(&TestHost::new(), no_default).expect_err("no default");
    assert!(e.message().contains("policyVersionList"), "{e}");

    let wrong_shape = Item::new("AWS::IAM::User", "AIDA1")
        .with_configuration(&json!({"userPolicyList": "admin"}));
    assert!(audit_on(&TestHost::new(), wrong_shape).is_err());

    let other_type = Item::new("AWS::S3::Bucket", "b");
    assert!(audit_on(&TestHost::new(), other_type).is_err());
}

#[test]
fn widening_a_statements_resources_is_new_evidence() {
    let on = |resource: Value| {
        audit(user_with_inline(
            "deploy",
            json!([{"Effect": "Allow", "Action": "iam:PassRole", "Resource": resource}]),
        ))
    };
    let narrow = on(json!("arn:aws:iam::111111111111:role/app"));
    let wide = on(json!("*"));
    assert_eq!(
        narrow[0].notes,
        "Policy: [inline:deploy] Statement: [0] Actions: [\"iam:PassRole\"] \
         Resources: [\"arn:aws:iam::111111111111:role/app\"]"
    );
    // Same check, different evidence: a justification of the narrow grant does not cover `*`.
    assert_eq!(narrow[0].check_id, wide[0].check_id);
    assert_ne!(narrow[0].notes, wide[0].notes);
}
