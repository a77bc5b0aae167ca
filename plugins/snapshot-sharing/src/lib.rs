//! Security Monkey's snapshot and image rules: an RDS DB or cluster snapshot whose `restore`
//! attribute, an EBS snapshot whose create-volume permissions, or an AMI whose launch
//! permissions name `all` (or `aws-marketplace`) is Internet Accessible (10); each account
//! named is friendly (0), third party (0) or unknown (10) by the operator's accounts.

use serde::Deserialize;
use simian_sdk::policy::{policy_checks, policy_issues, sharing_findings};
use simian_sdk::prelude::*;

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Shared {
    /// RDS snapshots.
    restorable_by: Vec<String>,
    /// EBS snapshots and AMIs.
    shared_with: Vec<String>,
    /// AMIs: `DescribeImages` says public even where no launch permission was read.
    public: Option<bool>,
}

/// What sharing the resource type lets the other party do, and how to say it.
fn sharing_of(resource_type: &str) -> Option<(&'static str, &'static str)> {
    match resource_type {
        "AWS::RDS::DBSnapshot" => Some((
            "rds:RestoreDBInstanceFromDBSnapshot",
            "The snapshot's restore attribute",
        )),
        "AWS::RDS::DBClusterSnapshot" => Some((
            "rds:RestoreDBClusterFromSnapshot",
            "The cluster snapshot's restore attribute",
        )),
        "AWS::EC2::Snapshot" => Some((
            "ec2:CreateVolume",
            "The snapshot's create-volume permissions",
        )),
        "AWS::EC2::Image" => Some(("ec2:RunInstances", "The image's launch permissions")),
        _ => None,
    }
}

pub struct SnapshotSharing;

impl Auditor for SnapshotSharing {
    fn new() -> Result<Self, Error> {
        Ok(SnapshotSharing)
    }

    fn checks() -> Vec<CheckInfo> {
        policy_checks(Checks::new(), "The snapshot's or image's sharing").into()
    }

    fn audit(&self, item: &Item) -> Result<Vec<Issue>, Error> {
        let Some((action, what)) = sharing_of(&item.resource_type) else {
            return Ok(Vec::new());
        };
        let shared: Shared = item.configuration()?;
        let mut who: Vec<String> = shared.restorable_by;
        who.extend(shared.shared_with);
        if shared.public == Some(true) && !who.iter().any(|w| w == "all") {
            who.push("all".to_string());
        }
        let findings = sharing_findings(&item.account_id, &who, &[action])?;
        Ok(policy_issues(findings, what))
    }
}

register_auditor!(SnapshotSharing);

#[cfg(test)]
mod tests;
