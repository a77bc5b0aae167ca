//! EC2 VPCs of one region, each with its CIDR blocks, default flag, and the flow logs that
//! capture its traffic (from `DescribeFlowLogs`, matched by resource id).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::WatchError;
use super::doc::{self, Envelope};
use super::session::AccountSession;
use crate::item::Item;

pub const VPC: &str = "AWS::EC2::VPC";

/// EC2: the VPCs of one region and their flow logs.
pub struct VpcWatcher;

#[async_trait::async_trait]
impl super::Watcher for VpcWatcher {
    fn resource_types(&self) -> &'static [&'static str] {
        &[VPC]
    }

    fn region_scope(&self) -> super::RegionScope {
        super::RegionScope::PerRegion
    }

    fn operations(&self) -> &'static [(&'static str, &'static str)] {
        &[
            ("ec2:DescribeVpcs", "ec2:DescribeVpcs"),
            ("ec2:DescribeFlowLogs", "ec2:DescribeFlowLogs"),
        ]
    }

    async fn list(&self, session: &AccountSession, region: &str) -> Result<Vec<Item>, WatchError> {
        list(session, region).await
    }
}

/// Every flow log of the region, by the resource it watches.
async fn flow_logs(
    s: &AccountSession,
    region: &str,
) -> Result<BTreeMap<String, Vec<Value>>, WatchError> {
    let ec2 = s.ec2(region);
    let mut by_resource: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    let mut pages = ec2.describe_flow_logs().into_paginator().send();
    loop {
        s.pace("ec2").await;
        let Some(page) = pages.next().await else {
            break;
        };
        let page = page.map_err(|e| WatchError::sdk(format!("DescribeFlowLogs ({region})"), &e))?;
        for f in page.flow_logs() {
            let Some(resource) = f.resource_id() else {
                continue;
            };
            by_resource
                .entry(resource.to_string())
                .or_default()
                .push(json!({
                    "flowLogId": f.flow_log_id(),
                    "flowLogStatus": f.flow_log_status(),
                    "trafficType": f.traffic_type().map(|t| t.as_str()),
                    "logDestinationType": f.log_destination_type().map(|t| t.as_str()),
                    "logDestination": f.log_destination(),
                    "logGroupName": f.log_group_name(),
                }));
        }
    }
    Ok(by_resource)
}

pub async fn list(s: &AccountSession, region: &str) -> Result<Vec<Item>, WatchError> {
    let logs = flow_logs(s, region).await?;
    let ec2 = s.ec2(region);
    let mut items = Vec::new();
    let mut pages = ec2.describe_vpcs().into_paginator().send();
    loop {
        s.pace("ec2").await;
        let Some(page) = pages.next().await else {
            break;
        };
        let page = page.map_err(|e| WatchError::sdk(format!("DescribeVpcs ({region})"), &e))?;
        for v in page.vpcs() {
            let id = v.vpc_id().unwrap_or_default().to_string();
            let tags = super::ec2::tag_pairs(v.tags());
            let name = tags
                .iter()
                .find(|(k, _)| k == "Name")
                .map_or_else(|| id.clone(), |(_, v)| v.clone());
            let owner = v.owner_id().unwrap_or(&s.account_id).to_string();
            items.push(
                Envelope {
                    resource_type: VPC,
                    resource_id: id.clone(),
                    resource_name: name,
                    arn: format!("arn:aws:ec2:{region}:{owner}:vpc/{id}"),
                    account_id: &s.account_id,
                    region,
                    configuration: json!({
                        "vpcId": id,
                        "cidrBlock": v.cidr_block(),
                        "cidrBlockAssociationSet": v.cidr_block_association_set().iter().map(|a| json!({
                            "cidrBlock": a.cidr_block(),
                            "state": a.cidr_block_state().and_then(|s| s.state()).map(|s| s.as_str()),
                        })).collect::<Vec<_>>(),
                        "isDefault": v.is_default(),
                        "state": v.state().map(|s| s.as_str()),
                        "ownerId": v.owner_id(),
                        "dhcpOptionsId": v.dhcp_options_id(),
                        "instanceTenancy": v.instance_tenancy().map(|t| t.as_str()),
                        "flowLogs": logs.get(&id).cloned().unwrap_or_default(),
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
