//! Security groups whose ingress rules let the whole internet in.

mod config;

use simian_sdk::cidr::Cidr;
use simian_sdk::prelude::*;

use crate::config::{IpPermission, SecurityGroup};

const CHECK_ID: &str = "internet-accessible";
const TITLE: &str = "Internet Accessible";
const SCORE: u32 = 10;

/// Public so the host's benchmark can run the same rule natively through the rlib.
pub struct SgInternetAccessible;

impl Auditor for SgInternetAccessible {
    fn new() -> Result<Self, Error> {
        Ok(SgInternetAccessible)
    }

    fn describe() -> PluginInfo {
        PluginInfo::auditor("sg-internet-accessible", env!("CARGO_PKG_VERSION"))
            .description("Flags security group ingress rules open to 0.0.0.0/0 or ::/0")
            .resource_types(["AWS::EC2::SecurityGroup"])
            .check(
                CHECK_ID,
                TITLE,
                SCORE,
                "An ingress rule accepts traffic from any address on the internet.",
            )
    }

    fn audit(&self, item: &Item) -> Result<Vec<Issue>, Error> {
        let group: SecurityGroup = item.configuration()?;
        let mut issues = Vec::new();
        for permission in &group.ip_permissions {
            let access = access(permission);
            for cidr in open_ranges(permission) {
                let notes = format!("Entity: [cidr:{cidr}] Access: [{access}]");
                // Two rules with the same protocol and ports would be one issue to the host
                // (notes are part of its identity), so report it once.
                if issues.iter().any(|i: &Issue| i.notes == notes) {
                    continue;
                }
                issues.push(Issue::new(CHECK_ID, TITLE, SCORE).notes(notes).remediation(format!(
                    "Restrict the source of {access} to the addresses that need it instead of \
                     {cidr}, or remove the rule."
                )));
            }
        }
        Ok(issues)
    }
}

register_auditor!(SgInternetAccessible);

/// `ingress:<protocol>:<ports>`: `all:all` for every protocol, `22` for one port, `80-443`
/// for a range, `all` when AWS gives no ports (or `-1`, its "any" for ICMP).
fn access(permission: &IpPermission) -> String {
    let protocol = permission.ip_protocol.as_deref().unwrap_or("-1");
    if protocol == "-1" {
        return "ingress:all:all".to_string();
    }
    let port = |p: Option<i64>| p.filter(|p| *p >= 0);
    match (port(permission.from_port), port(permission.to_port)) {
        (Some(from), Some(to)) if from == to => format!("ingress:{protocol}:{from}"),
        (Some(from), Some(to)) => format!("ingress:{protocol}:{from}-{to}"),
        _ => format!("ingress:{protocol}:all"),
    }
}

/// The open ranges of one rule, once each, in the order AWS lists them (the legacy
/// `ipRanges` usually repeats `ipv4Ranges`).
fn open_ranges(permission: &IpPermission) -> Vec<Cidr> {
    let sources = permission
        .ipv4_ranges
        .iter()
        .filter_map(|r| r.cidr_ip.as_deref())
        .chain(permission.ip_ranges.iter().filter_map(|r| r.cidr()))
        .chain(
            permission
                .ipv6_ranges
                .iter()
                .filter_map(|r| r.cidr_ipv6.as_deref()),
        );
    let mut open: Vec<Cidr> = Vec::new();
    for source in sources {
        // An unparsable range cannot be the whole internet; AWS validates these anyway.
        if let Ok(cidr) = Cidr::parse(source.trim())
            && cidr.is_open()
            && !open.contains(&cidr)
        {
            open.push(cidr);
        }
    }
    open
}

#[cfg(test)]
mod tests;
