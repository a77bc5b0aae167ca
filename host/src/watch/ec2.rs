//! EC2 security groups of one region: ingress and egress rules (IPv4 and IPv6 CIDRs,
//! referenced groups with their owner account, prefix lists), VPC, owner, and whether anything
//! uses the group (network interfaces from `DescribeNetworkInterfaces`: `inUse` is durable,
//! the count ephemeral, so scaling is no change but a group's first or last use is).

use std::collections::HashMap;

use serde_json::{Value, json};

use super::WatchError;
use super::doc::{self, Envelope};
use super::session::AccountSession;
use crate::item::Item;

pub const SECURITY_GROUP: &str = "AWS::EC2::SecurityGroup";

/// EC2 takes at most 200 values per filter.
const FILTER_VALUES: usize = 200;

/// EC2: the security groups of one region.
pub struct Ec2Watcher;

#[async_trait::async_trait]
impl super::Watcher for Ec2Watcher {
    fn resource_types(&self) -> &'static [&'static str] {
        &[SECURITY_GROUP]
    }

    fn region_scope(&self) -> super::RegionScope {
        super::RegionScope::PerRegion
    }

    fn ephemeral_paths(&self, _resource_type: &str) -> &'static [&'static str] {
        &["configuration.networkInterfaceCount"]
    }

    fn operations(&self) -> &'static [(&'static str, &'static str)] {
        &[
            (
                "ec2:DescribeNetworkInterfaces",
                "ec2:DescribeNetworkInterfaces",
            ),
            ("ec2:DescribeSecurityGroups", "ec2:DescribeSecurityGroups"),
        ]
    }

    async fn list(&self, session: &AccountSession, region: &str) -> Result<Vec<Item>, WatchError> {
        list(session, region).await
    }

    /// Only the named groups (and the interfaces using them), not the region's thousands.
    async fn describe(
        &self,
        session: &AccountSession,
        region: &str,
        resource_type: &str,
        refs: &[String],
    ) -> Result<Vec<Item>, WatchError> {
        if refs.is_empty() || !refs.iter().all(|r| r.starts_with("sg-")) {
            return super::describe_by_listing(self, session, region, resource_type, refs).await;
        }
        let mut items = Vec::with_capacity(refs.len());
        for chunk in refs.chunks(FILTER_VALUES) {
            items.extend(fetch(session, region, Some(chunk)).await?);
        }
        Ok(items)
    }
}

fn permissions(list: &[aws_sdk_ec2::types::IpPermission]) -> Value {
    Value::Array(
        list.iter()
            .map(|p| {
                json!({
                    "ipProtocol": p.ip_protocol(),
                    "fromPort": p.from_port(),
                    "toPort": p.to_port(),
                    "ipv4Ranges": p.ip_ranges().iter().map(|r| json!({"cidrIp": r.cidr_ip(), "description": r.description()})).collect::<Vec<_>>(),
                    "ipRanges": p.ip_ranges().iter().filter_map(|r| r.cidr_ip()).collect::<Vec<_>>(),
                    "ipv6Ranges": p.ipv6_ranges().iter().map(|r| json!({"cidrIpv6": r.cidr_ipv6(), "description": r.description()})).collect::<Vec<_>>(),
                    "prefixListIds": p.prefix_list_ids().iter().map(|r| json!({"prefixListId": r.prefix_list_id(), "description": r.description()})).collect::<Vec<_>>(),
                    "userIdGroupPairs": p.user_id_group_pairs().iter().map(|g| json!({
                        "groupId": g.group_id(),
                        "groupName": g.group_name(),
                        "userId": g.user_id(),
                        "vpcId": g.vpc_id(),
                        "vpcPeeringConnectionId": g.vpc_peering_connection_id(),
                        "peeringStatus": g.peering_status(),
                        "description": g.description(),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect(),
    )
}

/// EC2's tag list as (key, value) pairs, in the order EC2 gave them.
pub(super) fn tag_pairs(tags: &[aws_sdk_ec2::types::Tag]) -> Vec<(String, String)> {
    tags.iter()
        .map(|t| {
            (
                t.key().unwrap_or_default().to_string(),
                t.value().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// How many network interfaces of the region use each security group.
async fn interfaces_by_group(
    s: &AccountSession,
    ec2: &aws_sdk_ec2::Client,
    region: &str,
    only: Option<&aws_sdk_ec2::types::Filter>,
) -> Result<HashMap<String, u64>, WatchError> {
    let mut counts: HashMap<String, u64> = HashMap::new();
    let mut pages = ec2
        .describe_network_interfaces()
        .set_filters(only.map(|f| vec![f.clone()]))
        .into_paginator()
        .send();
    loop {
        s.pace("ec2").await;
        let Some(page) = pages.next().await else {
            break;
        };
        let page =
            page.map_err(|e| WatchError::sdk(format!("DescribeNetworkInterfaces ({region})"), &e))?;
        for eni in page.network_interfaces() {
            for group in eni.groups().iter().filter_map(|g| g.group_id()) {
                *counts.entry(group.to_string()).or_default() += 1;
            }
        }
    }
    Ok(counts)
}

pub async fn list(s: &AccountSession, region: &str) -> Result<Vec<Item>, WatchError> {
    fetch(s, region, None).await
}

/// Every group of the region, or only those with the given ids (a filter, not `GroupIds`,
/// so an id that no longer exists is simply absent rather than failing the call).
async fn fetch(
    s: &AccountSession,
    region: &str,
    ids: Option<&[String]>,
) -> Result<Vec<Item>, WatchError> {
    let ec2 = s.ec2(region);
    let only = ids.map(|ids| {
        aws_sdk_ec2::types::Filter::builder()
            .name("group-id")
            .set_values(Some(ids.to_vec()))
            .build()
    });
    let mut groups = Vec::new();
    let mut pages = ec2
        .describe_security_groups()
        .set_filters(only.clone().map(|f| vec![f]))
        .into_paginator()
        .send();
    loop {
        s.pace("ec2").await;
        let Some(page) = pages.next().await else {
            break;
        };
        let page =
            page.map_err(|e| WatchError::sdk(format!("DescribeSecurityGroups ({region})"), &e))?;
        groups.extend(page.security_groups().iter().cloned());
    }
    // Asked after the groups: an interface created meanwhile can only add a use.
    let used = interfaces_by_group(s, &ec2, region, only.as_ref()).await?;
    let mut items = Vec::with_capacity(groups.len());
    {
        for g in &groups {
            let id = g.group_id().unwrap_or_default().to_string();
            let tags = tag_pairs(g.tags());
            let owner = g.owner_id().unwrap_or(&s.account_id).to_string();
            let interfaces = used.get(&id).copied().unwrap_or(0);
            items.push(
                Envelope {
                    resource_type: SECURITY_GROUP,
                    resource_id: id.clone(),
                    resource_name: g.group_name().unwrap_or_default().to_string(),
                    arn: format!("arn:aws:ec2:{region}:{owner}:security-group/{id}"),
                    account_id: &s.account_id,
                    region,
                    configuration: json!({
                        "description": g.description(),
                        "groupName": g.group_name(),
                        "groupId": id,
                        "ownerId": g.owner_id(),
                        "vpcId": g.vpc_id(),
                        "ipPermissions": permissions(g.ip_permissions()),
                        "ipPermissionsEgress": permissions(g.ip_permissions_egress()),
                        "inUse": interfaces > 0,
                        "networkInterfaceCount": interfaces,
                        "tags": doc::tag_list(&tags),
                    }),
                    supplementary: json!({}),
                    tags,
                }
                .into_item(),
            );
        }
    }
    Ok(items)
}
