use serde_json::json;
use simian_sdk::Item;
use simian_sdk::testing::{TestHost, audit_with};

use crate::VpcFlowLogs;

fn vpc(flow_logs: serde_json::Value) -> Item {
    Item::new("AWS::EC2::VPC", "vpc-1")
        .with_account("111111111111")
        .with_configuration(&json!({"vpcId": "vpc-1", "isDefault": false, "flowLogs": flow_logs}))
}

fn audit(item: Item) -> Vec<(String, String, u32, String)> {
    let mut results = audit_with::<VpcFlowLogs>(&TestHost::new(), &[item]);
    results
        .remove(0)
        .expect("audited")
        .into_iter()
        .map(|i| (i.check_id, i.title, i.score, i.notes))
        .collect()
}

#[test]
fn a_vpc_without_flow_logs_is_flagged() {
    assert_eq!(
        audit(vpc(json!([]))),
        [(
            "flow-logs-disabled".to_string(),
            "Flow Logs not enabled for VPC".to_string(),
            5,
            "Flow Logs: [none]".to_string()
        )]
    );
    // A configuration recorded without the field reads as none.
    let bare = Item::new("AWS::EC2::VPC", "vpc-2").with_configuration(&json!({"vpcId": "vpc-2"}));
    assert_eq!(audit(bare).len(), 1);
}

#[test]
fn only_an_active_flow_log_counts() {
    assert!(
        audit(vpc(json!([
            {"flowLogId": "fl-1", "flowLogStatus": "ACTIVE", "trafficType": "ALL"}
        ])))
        .is_empty()
    );
    assert_eq!(
        audit(vpc(
            json!([{"flowLogId": "fl-2", "flowLogStatus": "INACTIVE"}])
        ))[0]
            .3,
        "Flow Logs: [fl-2] none active"
    );
}

#[test]
fn an_unreadable_configuration_is_an_error_naming_the_item() {
    let item = Item::new("AWS::EC2::VPC", "vpc-3").with_configuration_text("{\"flowLogs\": 3}");
    let mut results = audit_with::<VpcFlowLogs>(&TestHost::new(), &[item]);
    let e = results.remove(0).expect_err("not a list");
    assert!(e.message().contains("vpc-3"), "{e}");
}
