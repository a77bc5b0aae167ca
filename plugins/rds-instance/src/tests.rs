use serde_json::{Value, json};
use simian_sdk::Item;
use simian_sdk::testing::{TestHost, audit_with};

use crate::RdsInstance;

const OWN: &str = "111111111111";

fn group(id: &str, rules: Value) -> Item {
    Item::new("AWS::EC2::SecurityGroup", id)
        .with_account(OWN)
        .with_region("us-east-1")
        .with_configuration(&json!({"groupId": id, "ipPermissions": rules}))
}

fn host() -> TestHost {
    TestHost::new()
        .account(OWN, "prod", false)
        .network("corp", "10.0.0.0/8")
        .account("222222222222", "dev", false)
        .account_network("dev-vpn", "172.16.0.0/12", "222222222222")
        .item(group(
            "sg-open",
            json!([{"ipProtocol": "tcp", "fromPort": 5432, "toPort": 5432,
                    "ipv4Ranges": [{"cidrIp": "0.0.0.0/0"}, {"cidrIp": "10.1.0.0/16"}]},
                   {"ipProtocol": "tcp", "fromPort": 22, "toPort": 22,
                    "ipv4Ranges": [{"cidrIp": "0.0.0.0/0"}]}]),
        ))
        .item(group(
            "sg-partners",
            json!([{"ipProtocol": "-1", "ipv4Ranges": [{"cidrIp": "203.0.113.0/24"}, {"cidrIp": "172.16.5.0/24"}]}]),
        ))
}

fn instance(public: bool, groups: &[&str]) -> Item {
    let memberships: Vec<Value> = groups
        .iter()
        .map(|g| json!({"vpcSecurityGroupId": g, "status": "active"}))
        .collect();
    Item::new("AWS::RDS::DBInstance", "orders-db")
        .with_account(OWN)
        .with_region("us-east-1")
        .with_configuration(&json!({"publiclyAccessible": public,
            "endpoint": {"address": "orders-db.x.rds.amazonaws.com", "port": 5432},
            "vpcSecurityGroups": memberships}))
}

fn audit(host: &TestHost, item: Item) -> Vec<(String, u32, String)> {
    audit_with::<RdsInstance>(host, &[item])
        .remove(0)
        .expect("audited")
        .into_iter()
        .map(|i| (i.title, i.score, i.notes))
        .collect()
}

#[test]
fn a_public_database_inherits_open_ingress_on_its_port_only() {
    let found = audit(&host(), instance(true, &["sg-open"]));
    assert_eq!(
        found,
        [(
            "Internet Accessible".to_string(),
            10,
            "Entity: [cidr:0.0.0.0/0] Access: [ingress:tcp:5432] Port: [5432] SecurityGroup: [sg-open]"
                .to_string()
        )],
        "the corp network is ours and port 22 is not the endpoint's"
    );
}

#[test]
fn a_private_database_inherits_nothing() {
    assert!(audit(&host(), instance(false, &["sg-open", "sg-partners"])).is_empty());
}

#[test]
fn other_networks_are_classified_through_all_protocol_rules() {
    let found = audit(&host(), instance(true, &["sg-partners"]));
    let got: Vec<(&str, u32)> = found.iter().map(|f| (f.0.as_str(), f.1)).collect();
    assert_eq!(got, [("Unknown Access", 10), ("Friendly Cross Account", 0)]);
}

#[test]
fn a_cluster_uses_its_port_and_a_missing_group_is_skipped() {
    let cluster = Item::new("AWS::RDS::DBCluster", "ledger")
        .with_account(OWN)
        .with_region("us-east-1")
        .with_configuration(&json!({"publiclyAccessible": true, "port": 5432,
            "vpcSecurityGroups": [{"vpcSecurityGroupId": "sg-gone"}, {"vpcSecurityGroupId": "sg-open"}]}));
    let host = host();
    let found = audit(&host, cluster);
    assert_eq!(found.len(), 1);
    assert!(
        host.logs().iter().any(|(_, m)| m.contains("sg-gone")),
        "{:?}",
        host.logs()
    );
}

#[test]
fn denied_items_are_an_error() {
    let host = host().deny_items();
    let results = audit_with::<RdsInstance>(&host, &[instance(true, &["sg-open"])]);
    assert!(results[0].is_err());
}
