use serde_json::{Value, json};
use simian_sdk::testing::{TestHost, audit_with};
use simian_sdk::{Auditor, Issue, Item};

use crate::SgInternetAccessible;

fn group(configuration: Value) -> Item {
    Item::new("AWS::EC2::SecurityGroup", "sg-1")
        .with_account("111111111111")
        .with_region("us-east-1")
        .with_configuration(&configuration)
}

fn audit(item: Item) -> Result<Vec<Issue>, simian_sdk::Error> {
    let mut results = audit_with::<SgInternetAccessible>(&TestHost::new(), &[item]);
    assert_eq!(results.len(), 1);
    results.remove(0)
}

fn notes(configuration: Value) -> Vec<String> {
    audit(group(configuration))
        .expect("audited")
        .into_iter()
        .map(|i| i.notes)
        .collect()
}

fn ingress(permission: Value) -> Value {
    json!({"groupId": "sg-1", "ipPermissions": [permission], "ipPermissionsEgress": []})
}

#[test]
fn open_ssh_over_ipv4() {
    let issues = audit(group(ingress(json!({
        "ipProtocol": "tcp", "fromPort": 22, "toPort": 22,
        "ipv4Ranges": [{"cidrIp": "0.0.0.0/0"}]
    }))))
    .expect("audited");
    assert_eq!(issues.len(), 1);
    let issue = &issues[0];
    assert_eq!(issue.check_id, "internet-accessible");
    assert_eq!(issue.title, "Internet Accessible");
    assert_eq!(issue.score, 10);
    assert_eq!(
        issue.notes,
        "Entity: [cidr:0.0.0.0/0] Access: [ingress:tcp:22]"
    );
    assert!(
        issue
            .remediation
            .as_deref()
            .is_some_and(|r| r.contains("Restrict"))
    );
}

#[test]
fn open_port_range_over_ipv6() {
    let found = notes(ingress(json!({
        "ipProtocol": "tcp", "fromPort": 80, "toPort": 443,
        "ipv6Ranges": [{"cidrIpv6": "::/0"}, {"cidrIpv6": "2001:db8::/32"}]
    })));
    assert_eq!(found, ["Entity: [cidr:::/0] Access: [ingress:tcp:80-443]"]);
}

#[test]
fn legacy_ip_ranges_count_once() {
    let both = notes(ingress(json!({
        "ipProtocol": "udp", "fromPort": 53, "toPort": 53,
        "ipv4Ranges": [{"cidrIp": "0.0.0.0/0"}],
        "ipRanges": ["0.0.0.0/0"]
    })));
    assert_eq!(both, ["Entity: [cidr:0.0.0.0/0] Access: [ingress:udp:53]"]);
    let legacy_only = notes(ingress(json!({
        "ipProtocol": "tcp", "fromPort": 3389, "toPort": 3389, "ipRanges": ["0.0.0.0/0"]
    })));
    assert_eq!(
        legacy_only,
        ["Entity: [cidr:0.0.0.0/0] Access: [ingress:tcp:3389]"]
    );
}

#[test]
fn private_ranges_are_not_flagged() {
    let found = notes(ingress(json!({
        "ipProtocol": "tcp", "fromPort": 22, "toPort": 22,
        "ipv4Ranges": [{"cidrIp": "10.0.0.0/8"}], "ipRanges": ["10.0.0.0/8"],
        "userIdGroupPairs": [{"groupId": "sg-2"}], "prefixListIds": []
    })));
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn open_egress_alone_is_not_flagged() {
    let found = notes(json!({
        "groupId": "sg-1",
        "ipPermissions": [],
        "ipPermissionsEgress": [{"ipProtocol": "-1", "ipv4Ranges": [{"cidrIp": "0.0.0.0/0"}],
                                 "ipv6Ranges": [{"cidrIpv6": "::/0"}]}]
    }));
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn all_protocols_and_missing_ports() {
    let found = notes(json!({"ipPermissions": [
        {"ipProtocol": "-1", "ipv4Ranges": [{"cidrIp": "0.0.0.0/0"}],
         "ipv6Ranges": [{"cidrIpv6": "::/0"}]},
        {"ipProtocol": "icmp", "fromPort": -1, "toPort": -1, "ipRanges": ["0.0.0.0/0"]},
        {"ipProtocol": "tcp", "ipv4Ranges": [{"cidrIp": "0.0.0.0/0"}]}
    ]}));
    assert_eq!(
        found,
        [
            "Entity: [cidr:0.0.0.0/0] Access: [ingress:all:all]",
            "Entity: [cidr:::/0] Access: [ingress:all:all]",
            "Entity: [cidr:0.0.0.0/0] Access: [ingress:icmp:all]",
            "Entity: [cidr:0.0.0.0/0] Access: [ingress:tcp:all]",
        ]
    );
}

#[test]
fn missing_and_null_fields_are_empty() {
    assert!(notes(json!({})).is_empty());
    assert!(notes(json!({"ipPermissions": null})).is_empty());
    let found = notes(ingress(json!({
        "ipProtocol": "tcp", "fromPort": 443, "toPort": 443,
        "ipv4Ranges": null, "ipv6Ranges": [{}], "ipRanges": [{"cidrIp": "0.0.0.0/0"}]
    })));
    assert_eq!(
        found,
        ["Entity: [cidr:0.0.0.0/0] Access: [ingress:tcp:443]"]
    );
}

#[test]
fn malformed_configuration_is_an_error() {
    let truncated = Item::new("AWS::EC2::SecurityGroup", "sg-bad")
        .with_configuration_text("{\"ipPermissions\": [");
    let e = audit(truncated).expect_err("truncated JSON");
    assert!(
        e.message()
            .contains("configuration of AWS::EC2::SecurityGroup sg-bad"),
        "{e}"
    );
    let wrong_shape = group(json!({"ipPermissions": "open"}));
    assert!(audit(wrong_shape).is_err());
    let wrong_port = group(ingress(json!({"ipProtocol": "tcp", "fromPort": "ssh"})));
    assert!(audit(wrong_port).is_err());
}

#[test]
fn the_checks_are_listed() {
    let checks = SgInternetAccessible::checks();
    assert_eq!(checks[0].id, "internet-accessible");
}
