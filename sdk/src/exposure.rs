//! What an internet-reachable resource (a public database, an internet-facing load balancer)
//! inherits from its security groups: Security Monkey copied the group's ingress issues whose
//! rules cover one of the resource's ports onto the resource. The groups are read through the
//! `items` capability and their sources placed through `accounts`.

use crate::accounts::{self, Relation};
use crate::resources::{Direction, SecurityGroup};
use crate::{Checks, Error, Issue, Item, items, log};

type Check = (&'static str, &'static str, u32, &'static str);

pub const INTERNET: Check = (
    "internet-accessible",
    "Internet Accessible",
    10,
    "Reachable from the internet, and a security group admits any address on one of its ports.",
);
pub const UNKNOWN: Check = (
    "unknown-access",
    "Unknown Access",
    10,
    "Reachable from the internet, and a security group admits a network nobody configured on one of its ports.",
);
pub const FRIENDLY: Check = (
    "friendly-cross-account",
    "Friendly Cross Account",
    0,
    "A security group admits another of our accounts' networks on one of its ports.",
);
pub const THIRD_PARTY: Check = (
    "thirdparty-cross-account",
    "Thirdparty Cross Account",
    0,
    "A security group admits a third party's network on one of its ports.",
);

/// `checks` plus the four inherited checks.
pub fn exposure_checks(checks: Checks) -> Checks {
    [INTERNET, UNKNOWN, FRIENDLY, THIRD_PARTY]
        .into_iter()
        .fold(checks, |c, (id, title, score, description)| {
            c.check(id, title, score, description)
        })
}

/// The issues `item` inherits from the ingress rules of `group_ids` (same account and region)
/// that admit TCP on one of `ports`. Notes name the entity, the rule, the port and the group:
/// `Entity: [cidr:0.0.0.0/0] Access: [ingress:tcp:443] Port: [443] SecurityGroup: [sg-1]`.
/// A group not recorded (yet) is named in a warning and skipped.
pub fn inherited_ingress(
    item: &Item,
    group_ids: &[&str],
    ports: &[i64],
    remedy: &str,
) -> Result<Vec<Issue>, Error> {
    let mut issues: Vec<Issue> = Vec::new();
    for group_id in group_ids {
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
        for port in ports {
            for rule in group
                .ip_permissions
                .iter()
                .filter(|r| r.covers_tcp_port(*port))
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
                        "{remedy}, or restrict {access} in {group_id} to the networks that need it."
                    )));
                }
            }
        }
    }
    Ok(issues)
}
