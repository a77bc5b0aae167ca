//! VPC endpoints of one region: type, service, VPC, route tables, subnets, security groups,
//! and the endpoint policy (decoded). Recorded so that `aws:SourceVpce` conditions naming our
//! own endpoints are placed in our accounts (and unknown ones flagged), and the endpoint
//! policy can be judged.

use serde_json::json;

use super::WatchError;
use super::doc::{self, Envelope};
use super::session::AccountSession;
use crate::item::Item;

pub const VPC_ENDPOINT: &str = "AWS::EC2::VPCEndpoint";

/// EC2: the VPC endpoints of one region.
pub struct VpcEndpointWatcher;

#[async_trait::async_trait]
impl super::Watcher for VpcEndpointWatcher {
    fn resource_types(&self) -> &'static [&'static str] {
        &[VPC_ENDPOINT]
    }

    fn region_scope(&self) -> super::RegionScope {
        super::RegionScope::PerRegion
    }

    fn operations(&self) -> &'static [(&'static str, &'static str)] {
        &[("ec2:DescribeVpcEndpoints", "ec2:DescribeVpcEndpoints")]
    }

    async fn list(&self, session: &AccountSession, region: &str) -> Result<Vec<Item>, WatchError> {
        list(session, region).await
    }
}

fn sorted(list: &[String]) -> Vec<String> {
    let mut list = list.to_vec();
    list.sort();
    list
}

pub async fn list(s: &AccountSession, region: &str) -> Result<Vec<Item>, WatchError> {
    let ec2 = s.ec2(region);
    let mut items = Vec::new();
    let mut pages = ec2.describe_vpc_endpoints().into_paginator().send();
    loop {
        s.pace("ec2").await;
        let Some(page) = pages.next().await else {
            break;
        };
        let page =
            page.map_err(|e| WatchError::sdk(format!("DescribeVpcEndpoints ({region})"), &e))?;
        for e in page.vpc_endpoints() {
            let Some(id) = e.vpc_endpoint_id() else {
                continue;
            };
            let tags = super::ec2::tag_pairs(e.tags());
            let owner = e.owner_id().unwrap_or(&s.account_id).to_string();
            let mut groups: Vec<&str> = e.groups().iter().filter_map(|g| g.group_id()).collect();
            groups.sort_unstable();
            items.push(
                Envelope {
                    resource_type: VPC_ENDPOINT,
                    resource_id: id.to_string(),
                    resource_name: tags
                        .iter()
                        .find(|(k, _)| k == "Name")
                        .map_or_else(|| id.to_string(), |(_, v)| v.clone()),
                    arn: format!("arn:aws:ec2:{region}:{owner}:vpc-endpoint/{id}"),
                    account_id: &s.account_id,
                    region,
                    configuration: json!({
                        "vpcEndpointId": id,
                        "vpcEndpointType": e.vpc_endpoint_type().map(|t| t.as_str()),
                        "vpcId": e.vpc_id(),
                        "serviceName": e.service_name(),
                        "state": e.state().map(|s| s.as_str()),
                        "policyDocument": doc::policy_document(e.policy_document()),
                        "routeTableIds": sorted(e.route_table_ids()),
                        "subnetIds": sorted(e.subnet_ids()),
                        "groups": groups,
                        "privateDnsEnabled": e.private_dns_enabled(),
                        "ownerId": e.owner_id(),
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
