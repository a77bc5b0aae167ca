//! The parts of AWS Config's `AWS::EC2::SecurityGroup` configuration the rules read; every
//! other field is skipped without being built. Every field may be missing or `null`.

use serde::{Deserialize, Deserializer};

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct SecurityGroup {
    #[serde(deserialize_with = "null_as_default")]
    pub ip_permissions: Vec<IpPermission>,
    #[serde(deserialize_with = "null_as_default")]
    pub ip_permissions_egress: Vec<IpPermission>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct IpPermission {
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
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum LegacyRange {
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

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct Ipv4Range {
    pub cidr_ip: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct Ipv6Range {
    pub cidr_ipv6: Option<String>,
}

/// A referenced security group; `userId` is the account owning it.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct GroupPair {
    pub group_id: Option<String>,
    pub group_name: Option<String>,
    pub user_id: Option<String>,
}

impl IpPermission {
    /// The rule's CIDR sources as written, in the order AWS lists them.
    pub fn cidrs(&self) -> impl Iterator<Item = &str> {
        self.ipv4_ranges
            .iter()
            .filter_map(|r| r.cidr_ip.as_deref())
            .chain(self.ip_ranges.iter().filter_map(|r| r.cidr()))
            .chain(
                self.ipv6_ranges
                    .iter()
                    .filter_map(|r| r.cidr_ipv6.as_deref()),
            )
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
