//! The parts of AWS Config's `AWS::EC2::SecurityGroup` configuration the rule reads.
//!
//! Typed and minimal on purpose: serde skips every other field without building it, which
//! is what keeps this auditor close to native speed. Every field may be missing.

use serde::{Deserialize, Deserializer};

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct SecurityGroup {
    #[serde(deserialize_with = "null_as_default")]
    pub ip_permissions: Vec<IpPermission>,
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

/// AWS Config sometimes writes `null` for an empty list.
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Option::unwrap_or_default)
}
