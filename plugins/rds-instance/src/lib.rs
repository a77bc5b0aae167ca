//! Security Monkey's RDS exposure rule: a DB instance or cluster that is publicly accessible
//! inherits the ingress issues of its VPC security groups whose rules cover its endpoint port,
//! with the security group's titles and scores — open to any address (Internet Accessible,
//! 10), a network nobody configured (Unknown Access, 10), another of our accounts or a third
//! party (0). The groups are read through the `items` capability; a group not (yet) recorded
//! is named in a log line, not guessed at.

use serde::Deserialize;
use simian_sdk::accounts::{self, Relation};
use simian_sdk::prelude::*;
use simian_sdk::resources::{Direction, SecurityGroup};

type Check = (&'static str, &'static str, u32, &'static str);

const INTERNET: Check = (
    "internet-accessible",
    "Internet Accessible",
    10,
    "Publicly accessible, and a security group admits any address on the endpoint port.",
);
const UNKNOWN: Check = (
    "unknown-access",
    "Unknown Access",
    10,
    "Publicly accessible, and a security group admits a network nobody configured on the port.",
);
const FRIENDLY: Check = (
    "friendly-cross-account",
    "Friendly Cross Account",
    0,
    "Publicly accessible, and a security group admits another of our accounts' networks.",
);
const THIRD_PARTY: Check = (
    "thirdparty-cross-account",
    "Thirdparty Cross Account",
    0,
    "Publicly accessible, and a security group admits a third party's network.",
);

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
        [INTERNET, UNKNOWN, FRIENDLY, THIRD_PARTY]
            .into_iter()
            .fold(Checks::new(), |c, (id, title, score, description)| {
                c.check(id, title, score, description)
            })
            .into()
    }

    fn audit(&self, item: &Item) -> Result<Vec<Issue>, Error> {
        let db: Database = item.configuration()?;
        if db.publicly_accessible != Some(true) {
            return Ok(Vec::new());
        }
        let Some(port) = db.endpoint.and_then(|e| e.port).or(db.port) else {
            return Ok(Vec::new());
        };
        let mut issues: Vec<Issue> = Vec::new();
        for group_id in db
            .vpc_security_groups
            .iter()
            .filter_map(|m| m.vpc_security_group_id.as_deref())
        {
            let Some(group_item) = items::get(
                &item.account_id,
                &item.region,
                "AWS::EC2::SecurityGroup",
                group_id,
            )?
            else {
                log::warn(format!(
                    "{}: security group {group_id} is not recorded",
                    item.label()
                ));
                continue;
            };
            let group: SecurityGroup = group_item.configuration()?;
            for rule in group
                .ip_permissions
                .iter()
                .filter(|r| r.covers_tcp_port(port))
            {
                let access = rule.access(Direction::Ingress);
                for cidr in rule.cidrs() {
                    let check = if cidr.is_open() {
                        Some(INTERNET)
                    } else {
                        match accounts::classify_cidr(&item.account_id, &cidr.to_string())?.relation
                        {
                            Relation::Same => None,
                            Relation::Friendly => Some(FRIENDLY),
                            Relation::ThirdParty => Some(THIRD_PARTY),
                            Relation::Unknown => Some(UNKNOWN),
                        }
                    };
                    let Some((id, title, score, _)) = check else {
                        continue;
                    };
                    let notes = format!(
                        "Entity: [cidr:{cidr}] Access: [{access}] Port: [{port}] SecurityGroup: [{group_id}]"
                    );
                    if issues.iter().any(|i| i.check_id == id && i.notes == notes) {
                        continue;
                    }
                    issues.push(Issue::new(id, title, score).notes(notes).remediation(format!(
                        "Make the database not publicly accessible, or restrict {access} in \
                         {group_id} to the networks that need it."
                    )));
                }
            }
        }
        Ok(issues)
    }
}

register_auditor!(RdsInstance);

#[cfg(test)]
mod tests;
