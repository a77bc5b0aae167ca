use serde_json::{Value, json};
use simian_sdk::Item;
use simian_sdk::testing::{TestHost, audit_with};

use crate::SnapshotSharing;

const OWN: &str = "111111111111";

fn host() -> TestHost {
    TestHost::new()
        .account(OWN, "prod", false)
        .account("222222222222", "dev", false)
        .account("333333333333", "vendor", true)
}

fn audit(resource_type: &str, configuration: Value) -> Vec<(String, u32, String)> {
    let item = Item::new(resource_type, "x-1")
        .with_account(OWN)
        .with_configuration(&configuration);
    audit_with::<SnapshotSharing>(&host(), &[item])
        .remove(0)
        .expect("audited")
        .into_iter()
        .map(|i| (i.title, i.score, i.notes))
        .collect()
}

#[test]
fn a_public_rds_snapshot_is_internet_accessible() {
    assert_eq!(
        audit("AWS::RDS::DBSnapshot", json!({"restorableBy": ["all"]})),
        [(
            "Internet Accessible".to_string(),
            10,
            "Entity: [group:all] Actions: [\"rds:RestoreDBInstanceFromDBSnapshot\"]".to_string()
        )]
    );
    let cluster = audit(
        "AWS::RDS::DBClusterSnapshot",
        json!({"restorableBy": ["all"]}),
    );
    assert!(cluster[0].2.contains("rds:RestoreDBClusterFromSnapshot"));
}

#[test]
fn shared_accounts_are_classified_for_every_type() {
    for (t, field) in [
        ("AWS::RDS::DBSnapshot", "restorableBy"),
        ("AWS::RDS::DBClusterSnapshot", "restorableBy"),
        ("AWS::EC2::Snapshot", "sharedWith"),
        ("AWS::EC2::Image", "sharedWith"),
    ] {
        let found = audit(
            t,
            json!({field: ["222222222222", "333333333333", "999999999999"]}),
        );
        let got: Vec<(&str, u32)> = found.iter().map(|f| (f.0.as_str(), f.1)).collect();
        assert_eq!(
            got,
            [
                ("Friendly Cross Account", 0),
                ("Thirdparty Cross Account", 0),
                ("Unknown Access", 10)
            ],
            "{t}"
        );
    }
}

#[test]
fn private_and_own_account_shares_raise_nothing() {
    assert!(audit("AWS::RDS::DBSnapshot", json!({"restorableBy": []})).is_empty());
    assert!(audit("AWS::EC2::Snapshot", json!({"sharedWith": [OWN]})).is_empty());
    assert!(audit("AWS::EC2::Image", json!({"public": false})).is_empty());
}

#[test]
fn marketplace_snapshots_and_public_images_are_internet_accessible() {
    let ebs = audit(
        "AWS::EC2::Snapshot",
        json!({"sharedWith": ["aws-marketplace"]}),
    );
    assert_eq!((ebs[0].0.as_str(), ebs[0].1), ("Internet Accessible", 10));
    let ami = audit("AWS::EC2::Image", json!({"public": true, "sharedWith": []}));
    assert_eq!(
        ami[0].2,
        "Entity: [group:all] Actions: [\"ec2:RunInstances\"]"
    );
}

#[test]
fn a_malformed_share_is_a_parse_error_and_a_bad_document_an_error() {
    let found = audit("AWS::EC2::Snapshot", json!({"sharedWith": ["12ab"]}));
    assert_eq!((found[0].0.as_str(), found[0].1), ("Parse Error", 3));
    let item = Item::new("AWS::EC2::Snapshot", "snap-1")
        .with_account(OWN)
        .with_configuration(&json!({"sharedWith": "all"}));
    let e = audit_with::<SnapshotSharing>(&host(), &[item])
        .remove(0)
        .expect_err("not a list");
    assert!(e.to_string().contains("snap-1"), "{e}");
    assert!(e.to_string().contains("expected a sequence"), "{e}");
}
