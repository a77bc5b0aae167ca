use serde_json::{Value, json};
use simian_sdk::Item;
use simian_sdk::testing::{TestHost, audit_with};

use crate::CloudTrailRules;

fn audit(resource_type: &str, configuration: Value) -> Vec<(String, String, u32, String)> {
    let item = Item::new(resource_type, "x").with_configuration(&configuration);
    audit_with::<CloudTrailRules>(&TestHost::new(), &[item])
        .remove(0)
        .expect("audited")
        .into_iter()
        .map(|i| (i.check_id, i.title, i.score, i.notes))
        .collect()
}

fn trail(logging: bool, multi_region: bool) -> Value {
    json!({"name": "org", "isLogging": logging, "isMultiRegionTrail": multi_region})
}

#[test]
fn a_logging_multi_region_trail_is_clean() {
    assert!(audit("AWS::CloudTrail::Trail", trail(true, true)).is_empty());
}

#[test]
fn a_stopped_trail_is_disabled() {
    let found = audit("AWS::CloudTrail::Trail", trail(false, true));
    assert_eq!(
        found,
        [(
            "trail-disabled".to_string(),
            "POLICY - CloudTrail is disabled".to_string(),
            10,
            "IsLogging: false".to_string()
        )]
    );
}

#[test]
fn a_single_region_trail_is_flagged() {
    let found = audit("AWS::CloudTrail::Trail", trail(true, false));
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[0].1,
        "POLICY - CloudTrail is not enabled for multi-region"
    );
    assert_eq!(found[0].2, 10);
    assert_eq!(
        audit("AWS::CloudTrail::Trail", trail(false, false)).len(),
        2
    );
}

#[test]
fn an_account_nothing_logs_is_flagged_on_the_account_item() {
    let none = audit("AWS::::Account", json!({"cloudTrail": {"trails": []}}));
    assert_eq!(
        none,
        [(
            "account-not-logged".to_string(),
            "POLICY - CloudTrail is disabled".to_string(),
            10,
            "Trails: [none]".to_string()
        )]
    );
    let stopped = audit(
        "AWS::::Account",
        json!({"cloudTrail": {"trails": [trail(false, true)]}}),
    );
    assert_eq!(stopped[0].3, "Trails: [org] none logging");
    let logged = audit(
        "AWS::::Account",
        json!({"cloudTrail": {"trails": [trail(false, true), {"name": "b", "isLogging": true}]}}),
    );
    assert!(logged.is_empty());
}

#[test]
fn an_unreadable_configuration_is_an_error() {
    let item =
        Item::new("AWS::::Account", "1").with_configuration(&json!({"cloudTrail": {"trails": 3}}));
    let e = audit_with::<CloudTrailRules>(&TestHost::new(), &[item])
        .remove(0)
        .expect_err("bad");
    assert!(e.to_string().contains("AWS::::Account 1"), "{e}");
    assert!(e.to_string().contains("expected a sequence"), "{e}");
}
