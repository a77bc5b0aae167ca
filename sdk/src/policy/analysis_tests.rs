use serde_json::{Value, json};

use super::*;
use crate::accounts::Relation;
use crate::testing::TestHost;

const OWN: &str = "111111111111";
const FRIEND: &str = "222222222222";
const VENDOR: &str = "333333333333";
const STRANGER: &str = "999999999999";

fn host() -> TestHost {
    TestHost::new()
        .account(OWN, "prod", false)
        .account(FRIEND, "dev", false)
        .account(VENDOR, "vendor", true)
        .canonical_id(FRIEND, "canon-dev")
        .network("corp", "10.0.0.0/8")
        // Recorded resources whose ids carry no account: placed through the inventory.
        .item(crate::Item::new("AWS::EC2::VPCEndpoint", "vpce-1").with_account(OWN))
        .item(crate::Item::new("AWS::EC2::VPC", "vpc-2").with_account(FRIEND))
        .item(crate::Item::new("AWS::IAM::Role", "AROAOWNROLE").with_account(OWN))
}

fn statement(value: Value) -> Statement {
    let doc = PolicyDocument::from_value(&json!({ "Statement": [value] })).expect("valid");
    doc.statements.into_iter().next().expect("one statement")
}

fn labels(whos: &[Who]) -> Vec<String> {
    whos.iter().map(ToString::to_string).collect()
}

#[test]
fn principals_are_typed() {
    let s = statement(json!({
        "Effect": "Allow", "Action": "sts:AssumeRole",
        "Principal": {"AWS": ["arn:aws:iam::222222222222:root", "333333333333", "*", "AROAXYZ"],
                      "Service": "ec2.amazonaws.com", "Federated": "accounts.google.com",
                      "CanonicalUser": "canon-dev"}
    }));
    let whos = s.whos_allowed();
    let entities: Vec<&Entity> = whos.iter().map(|w| &w.entity).collect();
    assert_eq!(
        entities,
        [
            &Entity::Arn("arn:aws:iam::222222222222:root".into()),
            &Entity::Account("333333333333".into()),
            &Entity::Anyone,
            &Entity::Arn("AROAXYZ".into()),
            &Entity::Service("ec2.amazonaws.com".into()),
            &Entity::Federated("accounts.google.com".into()),
            &Entity::CanonicalUser("canon-dev".into()),
        ]
    );
    assert!(whos.iter().all(|w| w.origin == Origin::Principal));
    assert_eq!(
        whos[0].to_string(),
        "principal:arn:aws:iam::222222222222:root"
    );
    assert!(whos[0].is_account_root() && whos[1].is_account_root());
    assert!(!whos[4].is_account_root());
}

#[test]
fn restricting_conditions_name_entities() {
    let s = statement(json!({
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
        "Condition": {
            "StringEquals": {"AWS:SourceAccount": "222222222222", "aws:PrincipalOrgID": "o-abc"},
            "ForAnyValue:ArnLike": {"aws:SourceArn": ["arn:aws:sns:us-east-1:333333333333:t"]},
            "IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "10.1.0.0/16"]},
            "StringLike": {"aws:SourceVpce": "vpce-1", "aws:sourcevpc": "vpc-1"},
            "StringEqualsIgnoreCase": {"kms:CallerAccount": "999999999999"},
            "ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::999999999999:role/r"}
        }
    }));
    let conditions = labels(&s.condition_entities());
    for expected in [
        "account:222222222222",
        "org:o-abc",
        "arn:arn:aws:sns:us-east-1:333333333333:t",
        "cidr:203.0.113.0/24",
        "cidr:10.1.0.0/16",
        "vpce:vpce-1",
        "vpc:vpc-1",
        "account:999999999999",
        "arn:arn:aws:iam::999999999999:role/r",
    ] {
        assert!(
            conditions.contains(&expected.to_string()),
            "{expected}: {conditions:?}"
        );
    }
    assert_eq!(conditions.len(), 9);
    let friend = s
        .condition_entities()
        .into_iter()
        .find(|w| w.entity == Entity::Account(FRIEND.into()))
        .expect("source account");
    assert_eq!(friend.origin, Origin::Condition("aws:sourceaccount".into()));
    assert!(!s.is_internet_accessible());
    let whos = labels(&s.whos_allowed());
    assert_eq!(whos[0], "principal:*");
    assert_eq!(whos.len(), 10);
}

#[test]
fn non_restricting_conditions_leave_it_open() {
    for condition in [
        json!({"StringNotEquals": {"aws:SourceAccount": "222222222222"}}),
        json!({"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}),
        json!({"StringEqualsIfExists": {"aws:SourceAccount": "222222222222"}}),
        json!({"ForAnyValue:StringLikeIfExists": {"aws:SourceVpce": "vpce-1"}}),
        json!({"StringEquals": {"aws:SourceAccount": "*"}}),
        json!({"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "0.0.0.0/0"]}}),
        json!({"IpAddress": {"aws:SourceIp": "::/0"}}),
        json!({"ArnLike": {"aws:SourceArn": "arn:aws:sns:*:*:topic"}}),
        json!({"StringEquals": {"s3:x-amz-acl": "public-read", "aws:UserAgent": "me"}}),
        json!({"Bool": {"aws:SecureTransport": "true"}}),
    ] {
        let s = statement(json!({
            "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:GetObject",
            "Condition": condition
        }));
        assert!(s.is_internet_accessible(), "{condition}");
        assert!(s.condition_entities().is_empty(), "{condition}");
    }
}

#[test]
fn internet_accessible_shapes() {
    let open = |principal: Value| {
        statement(json!({"Effect": "Allow", "Principal": principal, "Action": "*"}))
            .is_internet_accessible()
    };
    assert!(open(json!("*")));
    assert!(open(json!({"AWS": "*"})));
    assert!(open(json!({"AWS": ["arn:aws:iam::*:root"]})));
    assert!(!open(json!({"AWS": "arn:aws:iam::222222222222:root"})));
    assert!(!open(json!({"Service": "lambda.amazonaws.com"})));
    let not_principal = statement(json!({
        "Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::111111111111:root"},
        "Action": "s3:*"
    }));
    assert!(not_principal.is_internet_accessible());
    let deny = statement(json!({"Effect": "Deny", "Principal": "*", "Action": "*"}));
    assert!(!deny.is_internet_accessible());
    let restricted = statement(json!({
        "Effect": "Allow", "Principal": "*", "Action": "*",
        "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}
    }));
    assert!(!restricted.is_internet_accessible());
}

#[test]
fn actions_are_sorted_once_and_json_like_python() {
    let doc = PolicyDocument::from_value(&json!({"Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": ["s3:PutObject", "s3:GetObject"]},
        {"Effect": "Allow", "Principal": "*", "NotAction": "iam:*"},
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"},
        {"Effect": "Allow", "Principal": {"AWS": "222222222222"}, "Action": "kms:*"}
    ]}))
    .expect("valid");
    assert!(doc.is_internet_accessible());
    assert_eq!(
        json_list(&doc.internet_accessible_actions()),
        r#"["NOT iam:*", "s3:GetObject", "s3:PutObject"]"#
    );
    assert_eq!(json_list(&[]), "[]");
}

#[test]
fn classification_follows_the_host() {
    let _h = host().install();
    let relation = |entity: Entity| match classify_entity(OWN, &entity).expect("granted") {
        EntityAccess::Account(c) => Some(c.relation),
        _ => None,
    };
    assert_eq!(relation(Entity::Account(OWN.into())), Some(Relation::Same));
    assert_eq!(
        relation(Entity::Arn(format!("arn:aws:iam::{FRIEND}:role/x"))),
        Some(Relation::Friendly)
    );
    assert_eq!(
        relation(Entity::Account(VENDOR.into())),
        Some(Relation::ThirdParty)
    );
    assert_eq!(
        relation(Entity::Account(STRANGER.into())),
        Some(Relation::Unknown)
    );
    assert_eq!(
        relation(Entity::Cidr("10.2.0.0/16".into())),
        Some(Relation::Same)
    );
    assert_eq!(
        relation(Entity::Cidr("203.0.113.7".into())),
        Some(Relation::Unknown)
    );
    assert_eq!(
        relation(Entity::CanonicalUser("CANON-DEV".into())),
        Some(Relation::Friendly)
    );
    assert_eq!(
        relation(Entity::Federated(format!(
            "arn:aws:iam::{STRANGER}:saml-provider/okta"
        ))),
        Some(Relation::Unknown)
    );
    let access = |entity: Entity| classify_entity(OWN, &entity).expect("granted");
    for not_account in [
        Entity::Service("lambda.amazonaws.com".into()),
        Entity::Federated("cognito-identity.amazonaws.com".into()),
        Entity::Vpc("vpc-*".into()),
        Entity::Vpce("vpce-?bc".into()),
        Entity::OrgId("o-1".into()),
        Entity::Arn("arn:aws:iam::aws:policy/ReadOnlyAccess".into()),
    ] {
        assert_eq!(
            access(not_account.clone()),
            EntityAccess::NotAnAccount,
            "{not_account:?}"
        );
    }
    assert_eq!(access(Entity::Anyone), EntityAccess::Anyone);
    assert_eq!(
        access(Entity::Cidr("0.0.0.0/0".into())),
        EntityAccess::Anyone
    );
    assert_eq!(
        access(Entity::Arn("AROAXYZ".into())),
        EntityAccess::Unparseable { input_type: "ARN" }
    );
    assert_eq!(
        access(Entity::Account("1111*".into())),
        EntityAccess::Unparseable {
            input_type: "account"
        }
    );
    assert_eq!(
        access(Entity::Cidr("10.0.0/8".into())),
        EntityAccess::Unparseable { input_type: "CIDR" }
    );
}

#[test]
fn classification_without_the_grant_is_an_error() {
    let _h = host().deny_accounts().install();
    let e = classify_entity(OWN, &Entity::Account(FRIEND.into())).expect_err("denied");
    assert!(e.message().contains("denied"), "{e}");
}

fn findings(policy: Value) -> Vec<(FindingKind, String)> {
    let _h = host().install();
    let doc = PolicyDocument::from_value(&policy).expect("valid");
    resource_policy_findings(OWN, &doc)
        .expect("granted")
        .into_iter()
        .map(|f| (f.kind, f.notes))
        .collect()
}

fn trust(principal: Value) -> Value {
    json!({"Statement": [{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}]})
}

#[test]
fn findings_per_relation() {
    use FindingKind::*;
    assert_eq!(
        findings(trust(
            json!({"AWS": format!("arn:aws:iam::{STRANGER}:root")})
        )),
        [
            (
                UnknownAccess,
                r#"Entity: [principal:arn:aws:iam::999999999999:root] Actions: ["sts:AssumeRole"]"#
                    .to_string()
            ),
            (
                CrossAccountRoot,
                r#"Entity: [principal:arn:aws:iam::999999999999:root] Actions: ["sts:AssumeRole"]"#
                    .to_string()
            ),
        ]
    );
    assert_eq!(
        findings(trust(
            json!({"AWS": format!("arn:aws:iam::{FRIEND}:role/ci")})
        )),
        [(
            FriendlyCrossAccount,
            r#"Entity: [principal:arn:aws:iam::222222222222:role/ci] Actions: ["sts:AssumeRole"]"#
                .to_string()
        )]
    );
    let vendor = findings(trust(json!({"AWS": VENDOR})));
    assert_eq!(
        vendor.iter().map(|f| f.0).collect::<Vec<_>>(),
        [ThirdPartyCrossAccount, CrossAccountRoot]
    );
    assert_eq!(
        vendor[0].1,
        r#"Entity: [principal:333333333333] Actions: ["sts:AssumeRole"]"#
    );
    assert!(findings(trust(json!({"AWS": format!("arn:aws:iam::{OWN}:root")}))).is_empty());
    assert!(findings(trust(json!({"Service": "ec2.amazonaws.com"}))).is_empty());
    assert_eq!(
        findings(trust(json!({"AWS": "AROAXYZ"}))),
        [(ParseError, "Could not parse ARN - AROAXYZ".to_string())]
    );
}

#[test]
fn a_bare_principal_is_judged_and_says_so() {
    use FindingKind::*;
    let found = findings(trust(json!(format!("arn:aws:iam::{STRANGER}:root"))));
    assert_eq!(
        found.iter().map(|f| f.0).collect::<Vec<_>>(),
        [UnknownAccess, CrossAccountRoot]
    );
    assert_eq!(
        found[0].1,
        r#"Entity: [principal:arn:aws:iam::999999999999:root] Actions: ["sts:AssumeRole"] Note: [Principal is a bare string; read as {"AWS": ...}]"#
    );
    // A bare principal of our own account raises nothing, as its object form would not.
    assert!(findings(trust(json!(format!("arn:aws:iam::{OWN}:root")))).is_empty());
}

#[test]
fn internet_accessible_policy_skips_unknown_access() {
    use FindingKind::*;
    let policy = json!({"Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"},
        {"Effect": "Allow", "Principal": {"AWS": [format!("arn:aws:iam::{STRANGER}:user/u"),
                                                  format!("arn:aws:iam::{FRIEND}:user/u")]},
         "Action": "s3:PutObject"}
    ]});
    assert_eq!(
        findings(policy),
        [
            (
                InternetAccessible,
                r#"Entity: [principal:*] Actions: ["s3:GetObject"]"#.to_string()
            ),
            (
                FriendlyCrossAccount,
                r#"Entity: [principal:arn:aws:iam::222222222222:user/u] Actions: ["s3:PutObject"]"#
                    .to_string()
            ),
        ]
    );
}

#[test]
fn condition_restricted_anyone() {
    use FindingKind::*;
    let restricted = |condition: Value| {
        findings(json!({"Statement": {"Effect": "Allow", "Principal": "*",
                                      "Action": "sns:Publish", "Condition": condition}}))
    };
    assert_eq!(
        restricted(json!({"StringEquals": {"aws:SourceAccount": FRIEND}})),
        [(
            FriendlyCrossAccount,
            r#"Entity: [account:222222222222] Actions: ["sns:Publish"]"#.to_string()
        )]
    );
    // A source account is not a principal, so no root finding.
    assert_eq!(
        restricted(json!({"StringEquals": {"aws:SourceAccount": STRANGER}})),
        [(
            UnknownAccess,
            r#"Entity: [account:999999999999] Actions: ["sns:Publish"]"#.to_string()
        )]
    );
    assert!(restricted(json!({"IpAddress": {"aws:SourceIp": "10.9.0.0/16"}})).is_empty());
    // `aws:userid` restricts too: a recorded role of ours (every session), our root, or an
    // id nobody recorded.
    assert!(restricted(json!({"StringLike": {"aws:userid": "AROAOWNROLE:*"}})).is_empty());
    assert!(restricted(json!({"StringEquals": {"aws:userid": OWN}})).is_empty());
    assert_eq!(
        restricted(json!({"StringLike": {"aws:userid": ["AROAOWNROLE:*", "AIDASTRANGER"]}})),
        [(
            UnknownAccess,
            r#"Entity: [userid:AIDASTRANGER] Actions: ["sns:Publish"]"#.to_string()
        )]
    );
    // VPCs and endpoints are placed through the recorded inventory.
    assert!(restricted(json!({"StringEquals": {"aws:SourceVpce": "vpce-1"}})).is_empty());
    assert_eq!(
        restricted(json!({"StringEquals": {"aws:SourceVpc": "vpc-2"}})),
        [(
            FriendlyCrossAccount,
            r#"Entity: [vpc:vpc-2] Actions: ["sns:Publish"]"#.to_string()
        )]
    );
    assert_eq!(
        restricted(json!({"StringEquals": {"aws:SourceVpce": "vpce-9"}})),
        [(
            UnknownAccess,
            r#"Entity: [vpce:vpce-9] Actions: ["sns:Publish"]"#.to_string()
        )]
    );
    assert_eq!(
        restricted(json!({"IpAddress": {"aws:SourceIp": "198.51.100.0/24"}})),
        [(
            UnknownAccess,
            r#"Entity: [cidr:198.51.100.0/24] Actions: ["sns:Publish"]"#.to_string()
        )]
    );
    assert_eq!(
        restricted(json!({"StringNotEquals": {"aws:SourceAccount": FRIEND}})),
        [(
            InternetAccessible,
            r#"Entity: [principal:*] Actions: ["sns:Publish"]"#.to_string()
        )]
    );
    assert_eq!(
        restricted(json!({"ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::999999999999:root"}})),
        [
            (
                UnknownAccess,
                r#"Entity: [arn:arn:aws:iam::999999999999:root] Actions: ["sns:Publish"]"#
                    .to_string()
            ),
            (
                CrossAccountRoot,
                r#"Entity: [arn:arn:aws:iam::999999999999:root] Actions: ["sns:Publish"]"#
                    .to_string()
            ),
        ]
    );
    assert_eq!(
        restricted(json!({"StringEquals": {"aws:SourceAccount": "12345"}})),
        [(ParseError, "Could not parse account - 12345".to_string())]
    );
}

#[test]
fn deny_statements_and_duplicates_raise_nothing_twice() {
    use FindingKind::*;
    let policy = json!({"Statement": [
        {"Effect": "Deny", "Principal": {"AWS": STRANGER}, "Action": "*"},
        {"Effect": "Allow", "Principal": {"AWS": FRIEND}, "Action": "s3:GetObject"},
        {"Effect": "Allow", "Principal": {"AWS": FRIEND}, "Action": "s3:GetObject"}
    ]});
    let found = findings(policy);
    assert_eq!(
        found.iter().map(|f| f.0).collect::<Vec<_>>(),
        [FriendlyCrossAccount, CrossAccountRoot]
    );
}

#[test]
fn kinds_match_security_monkey() {
    let table: Vec<(&str, &str, u32)> = FindingKind::ALL
        .iter()
        .map(|k| (k.check_id(), k.title(), k.score()))
        .collect();
    assert_eq!(
        table,
        [
            ("internet-accessible", "Internet Accessible", 10),
            ("unknown-access", "Unknown Access", 10),
            ("friendly-cross-account", "Friendly Cross Account", 0),
            ("thirdparty-cross-account", "Thirdparty Cross Account", 0),
            ("cross-account-root", "Cross-Account Root IAM", 6),
            ("parse-error", "Parse Error", 3),
        ]
    );
}
