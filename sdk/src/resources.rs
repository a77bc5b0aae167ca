//! Typed views of item configurations, for `item.configuration::<T>()`.
//!
//! Each type holds the parts of AWS Config's shape that rules read; unknown fields are skipped
//! and every field may be missing or `null`, so a new AWS field never breaks a plugin.

use serde::{Deserialize, Deserializer};

use crate::cidr::Cidr;

/// `AWS::EC2::SecurityGroup`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct SecurityGroup {
    #[serde(deserialize_with = "null_as_default")]
    pub group_id: Option<String>,
    #[serde(deserialize_with = "null_as_default")]
    pub group_name: Option<String>,
    #[serde(deserialize_with = "null_as_default")]
    pub ip_permissions: Vec<IpPermission>,
    #[serde(deserialize_with = "null_as_default")]
    pub ip_permissions_egress: Vec<IpPermission>,
    /// Whether any network interface uses the group; `None` where the document does not
    /// say (AWS Config's shape, older records).
    #[serde(deserialize_with = "null_as_default")]
    pub in_use: Option<bool>,
}

/// Which way a rule lets traffic through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Ingress,
    Egress,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Ingress => "ingress",
            Direction::Egress => "egress",
        }
    }
}

/// One rule of a security group.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct IpPermission {
    pub ip_protocol: Option<String>,
    pub from_port: Option<i64>,
    pub to_port: Option<i64>,
    #[serde(deserialize_with = "null_as_default")]
    pub ipv4_ranges: Vec<Ipv4Range>,
    #[serde(deserialize_with = "null_as_default")]
    pub ipv6_ranges: Vec<Ipv6Range>,
    /// The legacy list; may appear instead of, or as well as, `ipv4Ranges`.
    #[serde(deserialize_with = "null_as_default")]
    pub ip_ranges: Vec<LegacyRange>,
    #[serde(deserialize_with = "null_as_default")]
    pub user_id_group_pairs: Vec<GroupPair>,
}

/// AWS Config writes plain strings here; EC2's API shape (`{"cidrIp": ..}`) is accepted too.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum LegacyRange {
    Text(String),
    Object(Ipv4Range),
}

impl LegacyRange {
    pub fn cidr(&self) -> Option<&str> {
        match self {
            LegacyRange::Text(cidr) => Some(cidr),
            LegacyRange::Object(range) => range.cidr_ip.as_deref(),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Ipv4Range {
    pub cidr_ip: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Ipv6Range {
    pub cidr_ipv6: Option<String>,
}

/// A referenced security group; `userId` is the account owning it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct GroupPair {
    pub group_id: Option<String>,
    pub group_name: Option<String>,
    pub user_id: Option<String>,
}

impl IpPermission {
    /// The rule's CIDR sources as written, in the order AWS lists them.
    pub fn cidr_texts(&self) -> impl Iterator<Item = &str> {
        self.ipv4_ranges
            .iter()
            .filter_map(|r| r.cidr_ip.as_deref())
            .chain(self.ip_ranges.iter().filter_map(LegacyRange::cidr))
            .chain(
                self.ipv6_ranges
                    .iter()
                    .filter_map(|r| r.cidr_ipv6.as_deref()),
            )
    }

    /// The rule's CIDRs in canonical form, once each (the legacy `ipRanges` usually repeats
    /// `ipv4Ranges`). An unparsable range is skipped: AWS validates these.
    pub fn cidrs(&self) -> Vec<Cidr> {
        let mut found: Vec<Cidr> = Vec::new();
        for text in self.cidr_texts() {
            if let Ok(cidr) = Cidr::parse(text.trim())
                && !found.contains(&cidr)
            {
                found.push(cidr);
            }
        }
        found
    }

    /// Whether the rule admits TCP traffic to `port`: every protocol (`-1`), or TCP with a
    /// range covering it (no ports given means all ports).
    pub fn covers_tcp_port(&self, port: i64) -> bool {
        match self.ip_protocol.as_deref().unwrap_or("-1") {
            "-1" | "all" => true,
            "tcp" | "6" => {
                let from = self.from_port.filter(|p| *p >= 0);
                let to = self.to_port.filter(|p| *p >= 0);
                match (from, to) {
                    (Some(from), Some(to)) => from <= port && port <= to,
                    _ => true,
                }
            }
            _ => false,
        }
    }

    /// `<direction>:<protocol>:<ports>` as Security Monkey's notes spell it: `all:all` for
    /// every protocol, `22` for one port, `80-443` for a range, `all` when AWS gives no ports
    /// (or `-1`, its "any" for ICMP).
    pub fn access(&self, direction: Direction) -> String {
        let direction = direction.as_str();
        let protocol = self.ip_protocol.as_deref().unwrap_or("-1");
        if protocol == "-1" {
            return format!("{direction}:all:all");
        }
        let port = |p: Option<i64>| p.filter(|p| *p >= 0);
        match (port(self.from_port), port(self.to_port)) {
            (Some(from), Some(to)) if from == to => format!("{direction}:{protocol}:{from}"),
            (Some(from), Some(to)) => format!("{direction}:{protocol}:{from}-{to}"),
            _ => format!("{direction}:{protocol}:all"),
        }
    }
}

/// AWS Config sometimes writes `null` for an empty list.
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Option::unwrap_or_default)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn group(value: serde_json::Value) -> SecurityGroup {
        serde_json::from_value(value).expect("valid group")
    }

    #[test]
    fn access_spelling() {
        let g = group(json!({"ipPermissions": [
            {"ipProtocol": "tcp", "fromPort": 22, "toPort": 22},
            {"ipProtocol": "tcp", "fromPort": 80, "toPort": 443},
            {"ipProtocol": "-1"},
            {"ipProtocol": "icmp", "fromPort": -1, "toPort": -1},
        ]}));
        let spelled: Vec<String> = g
            .ip_permissions
            .iter()
            .map(|p| p.access(Direction::Ingress))
            .collect();
        assert_eq!(
            spelled,
            [
                "ingress:tcp:22",
                "ingress:tcp:80-443",
                "ingress:all:all",
                "ingress:icmp:all"
            ]
        );
        assert_eq!(
            g.ip_permissions[0].access(Direction::Egress),
            "egress:tcp:22"
        );
    }

    #[test]
    fn tcp_port_coverage() {
        let g = group(json!({"ipPermissions": [
            {"ipProtocol": "tcp", "fromPort": 5432, "toPort": 5432},
            {"ipProtocol": "tcp", "fromPort": 1024, "toPort": 2048},
            {"ipProtocol": "-1"},
            {"ipProtocol": "udp", "fromPort": 0, "toPort": 65535},
        ]}));
        let covers = |i: usize, port| g.ip_permissions[i].covers_tcp_port(port);
        assert!(covers(0, 5432) && !covers(0, 5433));
        assert!(covers(1, 1024) && covers(1, 2048) && !covers(1, 3306));
        assert!(covers(2, 3306));
        assert!(!covers(3, 5432));
    }

    #[test]
    fn cidrs_from_every_list_once_each() {
        let g = group(json!({"ipPermissionsEgress": [{
            "ipv4Ranges": [{"cidrIp": "0.0.0.0/0"}, {"cidrIp": "10.1.2.3/8"}],
            "ipRanges": ["0.0.0.0/0", {"cidrIp": "192.168.0.0/16"}, "not a cidr"],
            "ipv6Ranges": [{"cidrIpv6": "::/0"}],
            "userIdGroupPairs": [{"groupId": "sg-2", "userId": "222222222222"}]
        }]}));
        let rule = &g.ip_permissions_egress[0];
        let cidrs: Vec<String> = rule.cidrs().iter().map(|c| c.to_string()).collect();
        assert_eq!(cidrs, ["0.0.0.0/0", "10.0.0.0/8", "192.168.0.0/16", "::/0"]);
        assert_eq!(rule.cidr_texts().count(), 6);
        assert_eq!(
            rule.user_id_group_pairs[0].user_id.as_deref(),
            Some("222222222222")
        );
    }

    #[test]
    fn nulls_and_missing_fields_are_empty() {
        let g = group(json!({"ipPermissions": null, "groupName": null}));
        assert!(g.ip_permissions.is_empty() && g.ip_permissions_egress.is_empty());
        assert_eq!(g.group_name, None);
        let bad: Result<SecurityGroup, _> =
            serde_json::from_value(json!({"ipPermissions": [{"fromPort": "x"}]}));
        assert!(bad.is_err());
    }
}
