//! Security Monkey's RDS exposure rule: a DB instance or cluster that is publicly accessible
//! inherits the ingress issues of its VPC security groups whose rules cover its endpoint port
//! (`simian_sdk::exposure`), with the security group's titles and scores — open to any address
//! (Internet Accessible, 10), a network nobody configured (Unknown Access, 10), another of our
//! accounts or a third party (0).

use serde::Deserialize;
use simian_sdk::exposure::{exposure_checks, inherited_ingress};
use simian_sdk::prelude::*;

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Database {
    publicly_accessible: Option<bool>,
    /// DB instances.
    endpoint: Option<Endpoint>,
    /// DB clusters.
    port: Option<i64>,
    vpc_security_groups: Vec<Membership>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Endpoint {
    port: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Membership {
    vpc_security_group_id: Option<String>,
}

pub struct RdsInstance;

impl Auditor for RdsInstance {
    fn new() -> Result<Self, Error> {
        Ok(RdsInstance)
    }

    fn checks() -> Vec<CheckInfo> {
        exposure_checks(Checks::new()).into()
    }

    fn audit(&self, item: &Item) -> Result<Vec<Issue>, Error> {
        let db: Database = item.configuration()?;
        if db.publicly_accessible != Some(true) {
            return Ok(Vec::new());
        }
        let Some(port) = db.endpoint.and_then(|e| e.port).or(db.port) else {
            return Ok(Vec::new());
        };
        let groups: Vec<&str> = db
            .vpc_security_groups
            .iter()
            .filter_map(|m| m.vpc_security_group_id.as_deref())
            .collect();
        inherited_ingress(
            item,
            &groups,
            &[port],
            "Make the database not publicly accessible",
        )
    }
}

register_auditor!(RdsInstance);

#[cfg(test)]
mod tests;
