//! Sample items and issues for plugin tests, so notifier and auditor tests share one picture of
//! a typical change instead of each building its own.

use serde_json::json;

use crate::{Issue, Item};

/// Security group `sg-1` ("web") in `us-east-1` of `account`, with one rule from `from_port`.
pub fn security_group(account: &str, from_port: u16) -> Item {
    Item::new("AWS::EC2::SecurityGroup", "sg-1")
        .with_name("web")
        .with_account(account)
        .with_region("us-east-1")
        .with_arn(format!(
            "arn:aws:ec2:us-east-1:{account}:security-group/sg-1"
        ))
        .with_configuration(&json!({"groupId": "sg-1", "ipPermissions": [{"fromPort": from_port}]}))
}

/// What the example rule says about SSH open to the world (score 10).
pub fn open_ssh_issue() -> Issue {
    Issue::new("internet-accessible", "Internet Accessible", 10)
        .notes("Entity: [cidr:0.0.0.0/0] Access: [ingress:tcp:22]")
        .remediation("Restrict the source of ingress:tcp:22.")
}

/// A low-scoring tagging issue (score 1), as the template's rule raises.
pub fn missing_owner_issue() -> Issue {
    Issue::new("missing-owner-tag", "Missing owner tag", 1).notes("Tags: [owner missing]")
}
