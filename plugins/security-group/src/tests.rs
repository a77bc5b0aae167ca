use serde_json::{Value, json};
use simian_sdk::testing::{TestHost, audit_with};
use simian_sdk::{Auditor, Error, Issue, Item};

use crate::SecurityGroupAuditor;

const OWN: &str = "123456789012";

fn host() -> TestHost {
    TestHost::new()
        .account(OWN, "prod", false)
        .account("222222222222", "dev", false)
        .account("333333333333", "vendor", true)
        .network("corp", "10.0.0.0/8")
        .account_network("dev-vpc", "172.16.0.0/12", "222222222222")
        .account_network("vendor-vpn", "192.168.50.0/24", "333333333333")
}

/// The group of docs/item-format.md, with its rules replaced.
fn group(ingress: Value, egress: Value) -> Item {
    Item::new("AWS::EC2::SecurityGroup", "sg-2ed73137b8718a3f3")
        .with_name("open-ssh")
        .with_arn(format!(
            "arn:aws:ec2:us-east-1:{OWN}:security-group/sg-2ed73137b8718a3f3"
        ))
        .with_account(OWN)
        .with_region("us-east-1")
        .with_configuration(&json!({
            "description": "ssh from anywhere",
            "groupId": "sg-2ed73137b8718a3f3",
            "groupName": "open-ssh",
            "ipPermissions": ingress,
            "ipPermissionsEgress": egress,
            "ownerId": OWN,
            "tags": [],
            "vpcId": "vpc-f7646c2765510d955"
        }))
}

fn documented_ssh() -> Value {
    json!([{"fromPort": 22, "ipProtocol": "tcp", "ipRanges": ["0.0.0.0/0"],
            "ipv4Ranges": [{"cidrIp": "0.0.0.0/0", "description": null}],
            "ipv6Ranges": [], "prefixListIds": [], "toPort": 22, "userIdGroupPairs": []}])
}

fn default_egress() -> Value {
    json!([{"fromPort": null, "ipProtocol": "-1", "ipRanges": ["0.0.0.0/0"],
            "ipv4Ranges": [{"cidrIp": "0.0.0.0/0", "description": null}],
            "ipv6Ranges": [], "prefixListIds": [], "toPort": null, "userIdGroupPairs": []}])
}

fn tcp(port: u16, sources: Value) -> Value {
    let mut rule = json!({"ipProtocol": "tcp", "fromPort": port, "toPort": port});
    if let (Some(rule), Some(sources)) = (rule.as_object_mut(), sources.as_object()) {
        rule.extend(sources.clone());
    }
    rule
}

fn audit_on(host: &TestHost, item: Item) -> Result<Vec<Issue>, Error> {
    let mut results = audit_with::<SecurityGroupAuditor>(host, &[item]);
    assert_eq!(results.len(), 1);
    results.remove(0)
}

fn audit(item: Item) -> Vec<(String, String, u32, String)> {
    audit_on(&host(), item)
        .expect("audited")
        .into_iter()
        .map(|i| (i.check_id, i.title, i.score, i.notes))
        .collect()
}

fn row(id: &str, title: &str, score: u32, notes: &str) -> (String, String, u32, String) {
    (id.into(), title.into(), score, notes.into())
}

#[test]
fn documented_group_is_open_both_ways() {
    assert_eq!(
        audit(group(documented_ssh(), default_egress())),
        [
            row(
                "internet-accessible-ingress",
                "Internet Accessible",
                10,
                "Entity: [cidr:0.0.0.0/0] Access: [ingress:tcp:22]"
            ),
            row(
                "internet-accessible-egress",
                "Internet Accessible",
                10,
                "Entity: [cidr:0.0.0.0/0] Access: [egress:all:all]"
            ),
        ]
    );
    let issues = audit_on(&host(), group(documented_ssh(), json!([]))).expect("audited");
    assert_eq!(issues.len(), 1);
    assert!(
        issues[0]
            .remediation
            .as_deref()
            .is_some_and(|r| r.contains("ingress:tcp:22"))
    );
}

#[test]
fn ipv6_open_ranges_and_port_ranges() {
    let ingress = json!([{"ipProtocol": "tcp", "fromPort": 80, "toPort": 443,
                          "ipv6Ranges": [{"cidrIpv6": "::/0"}]}]);
    let egress = json!([{"ipProtocol": "udp", "fromPort": 53, "toPort": 53,
                         "ipv6Ranges": [{"cidrIpv6": "::/0"}]}]);
    assert_eq!(
        audit(group(ingress, egress)),
        [
            row(
                "internet-accessible-ingress",
                "Internet Accessible",
                10,
                "Entity: [cidr:::/0] Access: [ingress:tcp:80-443]"
            ),
            row(
                "internet-accessible-egress",
                "Internet Accessible",
                10,
                "Entity: [cidr:::/0] Access: [egress:udp:53]"
            ),
        ]
    );
}

#[test]
fn our_own_groups_and_networks_raise_nothing() {
    let ingress = json!([
        tcp(
            22,
            json!({"ipv4Ranges": [{"cidrIp": "10.1.0.0/16"}], "ipRanges": ["10.1.0.0/16"]})
        ),
        tcp(
            443,
            json!({"userIdGroupPairs": [
                {"groupId": "sg-1"},
                {"groupId": "sg-2", "userId": OWN},
                {"groupName": "amazon-elb-sg", "userId": "amazon-elb"}
            ]})
        )
    ]);
    let egress = json!([tcp(
        5432,
        json!({"ipv4Ranges": [{"cidrIp": "10.2.3.4/32"}]})
    )]);
    assert!(audit(group(ingress, egress)).is_empty());
}

#[test]
fn friendly_groups_and_networks() {
    let ingress = json!([tcp(
        443,
        json!({
            "userIdGroupPairs": [{"groupId": "sg-2", "userId": "222222222222"}],
            "ipv4Ranges": [{"cidrIp": "172.16.1.0/24"}]
        })
    )]);
    assert_eq!(
        audit(group(ingress, json!([]))),
        [
            row(
                "friendly-cross-account",
                "Friendly Cross Account",
                0,
                "Entity: [cidr:172.16.1.0/24] Access: [ingress:tcp:443]"
            ),
            row(
                "friendly-cross-account",
                "Friendly Cross Account",
                0,
                "Entity: [security_group:222222222222/sg-2] Access: [ingress:tcp:443]"
            ),
        ]
    );
}

#[test]
fn third_party_groups_and_networks() {
    let egress = json!([{"ipProtocol": "-1",
        "userIdGroupPairs": [{"groupId": "sg-9", "userId": "333333333333"}],
        "ipRanges": ["192.168.50.7"]}]);
    assert_eq!(
        audit(group(json!([]), egress)),
        [
            row(
                "thirdparty-cross-account",
                "Thirdparty Cross Account",
                0,
                "Entity: [cidr:192.168.50.7/32] Access: [egress:all:all]"
            ),
            row(
                "thirdparty-cross-account",
                "Thirdparty Cross Account",
                0,
                "Entity: [security_group:333333333333/sg-9] Access: [egress:all:all]"
            ),
        ]
    );
}

#[test]
fn unknown_groups_and_networks() {
    let ingress = json!([tcp(
        3306,
        json!({
            "userIdGroupPairs": [{"groupName": "db", "userId": "999999999999"}],
            "ipv4Ranges": [{"cidrIp": "198.51.100.0/24"}, {"cidrIp": "0.0.0.0/1"}]
        })
    )]);
    assert_eq!(
        audit(group(ingress, json!([]))),
        [
            row(
                "unknown-access",
                "Unknown Access",
                10,
                "Entity: [cidr:198.51.100.0/24] Access: [ingress:tcp:3306]"
            ),
            row(
                "unknown-access",
                "Unknown Access",
                10,
                "Entity: [cidr:0.0.0.0/1] Access: [ingress:tcp:3306]"
            ),
            row(
                "unknown-access",
                "Unknown Access",
                10,
                "Entity: [security_group:999999999999/db] Access: [ingress:tcp:3306]"
            ),
        ]
    );
}

#[test]
fn duplicate_rules_raise_one_issue() {
    let ingress = json!([
        tcp(22, json!({"ipv4Ranges": [{"cidrIp": "198.51.100.1/24"}]})),
        tcp(22, json!({"ipRanges": ["198.51.100.0/24"]})),
        tcp(22, json!({"ipRanges": ["0.0.0.0/0", "not-a-cidr"]})),
        tcp(22, json!({"ipv4Ranges": [{"cidrIp": "0.0.0.0/0"}]}))
    ]);
    let found = audit(group(ingress, json!(null)));
    let checks: Vec<&str> = found.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(checks, ["unknown-access", "internet-accessible-ingress"]);
}

#[test]
fn accounts_capability_is_required() {
    let ingress = json!([tcp(22, json!({"ipRanges": ["198.51.100.0/24"]}))]);
    let e = audit_on(&host().deny_accounts(), group(ingress, json!([]))).expect_err("denied");
    assert!(e.message().contains("denied"), "{e}");
}

#[test]
fn malformed_configuration_is_an_error() {
    let truncated = Item::new("AWS::EC2::SecurityGroup", "sg-bad")
        .with_configuration_text("{\"ipPermissionsEgress\": [");
    let e = audit_on(&host(), truncated).expect_err("truncated");
    assert!(
        e.message()
            .contains("configuration of AWS::EC2::SecurityGroup sg-bad"),
        "{e}"
    );
    let wrong = group(json!([]), json!([{"userIdGroupPairs": "sg-1"}]));
    assert!(audit_on(&host(), wrong).is_err());
}

#[test]
fn the_checks_are_listed() {
    let listed = SecurityGroupAuditor::checks();
    let checks: Vec<(&str, &str, u32)> = listed
        .iter()
        .map(|c| (c.id.as_str(), c.title.as_str(), c.score))
        .collect();
    assert_eq!(
        checks,
        [
            ("internet-accessible-ingress", "Internet Accessible", 10),
            ("internet-accessible-egress", "Internet Accessible", 10),
            ("friendly-cross-account", "Friendly Cross Account", 0),
            ("thirdparty-cross-account", "Thirdparty Cross Account", 0),
            ("unknown-access", "Unknown Access", 10),
        ]
    );
}

/// The documented group with `inUse` set as the watcher records it.
fn group_in_use(in_use: Option<bool>) -> Item {
    let mut item = group(documented_ssh(), json!([]));
    let mut config: Value = serde_json::from_str(&item.configuration).expect("json");
    if let Some(flag) = in_use {
        config["inUse"] = json!(flag);
    }
    item.configuration = config.to_string();
    item
}

#[test]
fn an_unused_group_scores_zero_with_the_same_notes() {
    let attached = audit(group_in_use(Some(true)));
    let unused = audit(group_in_use(Some(false)));
    assert_eq!(attached.len(), 1);
    assert_eq!(attached[0].2, 10);
    assert_eq!(unused.len(), 1);
    assert_eq!(unused[0].2, 0);
    // Same check and notes: attaching the group re-scores the issue rather than opening one.
    assert_eq!(
        (&unused[0].0, &unused[0].3),
        (&attached[0].0, &attached[0].3)
    );
    // A document that does not say (AWS Config's own shape) is judged as used.
    assert_eq!(audit(group_in_use(None))[0].2, 10);
}

#[test]
fn unused_groups_score_in_full_when_configured() {
    let host = host().setting("unused_groups", "full");
    let found = audit_on(&host, group_in_use(Some(false))).expect("audited");
    assert_eq!(found[0].score, 10);
    let bad = host_with_bad_setting();
    let e = audit_on(&bad, group_in_use(Some(false))).expect_err("bad setting");
    assert!(e.to_string().contains("unused_groups"), "{e}");
}

fn host_with_bad_setting() -> TestHost {
    host().setting("unused_groups", "sometimes")
}
