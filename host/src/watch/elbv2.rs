//! Application, network and gateway load balancers of one region: scheme, VPC, security
//! groups, listeners (port, protocol, TLS policy, certificates) and the load balancer's
//! attributes (access logs, deletion protection, …) as a key → value object, and tags.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::doc::{self, Envelope};
use super::session::AccountSession;
use super::{WatchError, is_not_found};
use crate::item::Item;

pub const LOAD_BALANCER_V2: &str = "AWS::ElasticLoadBalancingV2::LoadBalancer";

/// Elastic Load Balancing v2: the region's load balancers.
pub struct Elbv2Watcher;

#[async_trait::async_trait]
impl super::Watcher for Elbv2Watcher {
    fn resource_types(&self) -> &'static [&'static str] {
        &[LOAD_BALANCER_V2]
    }

    fn region_scope(&self) -> super::RegionScope {
        super::RegionScope::PerRegion
    }

    fn ephemeral_paths(&self, _resource_type: &str) -> &'static [&'static str] {
        &["configuration.state"]
    }

    fn operations(&self) -> &'static [(&'static str, &'static str)] {
        &[
            (
                "elbv2:DescribeLoadBalancerAttributes",
                "elasticloadbalancing:DescribeLoadBalancerAttributes",
            ),
            (
                "elbv2:DescribeLoadBalancers",
                "elasticloadbalancing:DescribeLoadBalancers",
            ),
            (
                "elbv2:DescribeListeners",
                "elasticloadbalancing:DescribeListeners",
            ),
            ("elbv2:DescribeTags", "elasticloadbalancing:DescribeTags"),
        ]
    }

    async fn list(&self, session: &AccountSession, region: &str) -> Result<Vec<Item>, WatchError> {
        list(session, region).await
    }
}

/// Tags of the load balancers, by ARN: DescribeTags takes at most 20 at once.
async fn tags(
    s: &AccountSession,
    client: &aws_sdk_elasticloadbalancingv2::Client,
    arns: &[String],
) -> Result<BTreeMap<String, Vec<(String, String)>>, WatchError> {
    let mut by_arn = BTreeMap::new();
    for chunk in arns.chunks(20) {
        s.pace("elbv2").await;
        let out = client
            .describe_tags()
            .set_resource_arns(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(|e| WatchError::sdk("DescribeTags (elbv2)", &e))?;
        for d in out.tag_descriptions() {
            let mut tags: Vec<(String, String)> = d
                .tags()
                .iter()
                .filter_map(|t| {
                    t.key()
                        .map(|k| (k.to_string(), t.value().unwrap_or_default().to_string()))
                })
                .collect();
            tags.sort();
            by_arn.insert(d.resource_arn().unwrap_or_default().to_string(), tags);
        }
    }
    Ok(by_arn)
}

pub async fn list(s: &AccountSession, region: &str) -> Result<Vec<Item>, WatchError> {
    let client = s.elbv2(region);
    let mut balancers = Vec::new();
    let mut pages = client.describe_load_balancers().into_paginator().send();
    loop {
        s.pace("elbv2").await;
        let Some(page) = pages.next().await else {
            break;
        };
        let page =
            page.map_err(|e| WatchError::sdk(format!("DescribeLoadBalancers ({region})"), &e))?;
        balancers.extend(page.load_balancers().iter().cloned());
    }
    let arns: Vec<String> = balancers
        .iter()
        .filter_map(|b| b.load_balancer_arn().map(String::from))
        .collect();
    let mut tags = tags(s, &client, &arns).await?;
    let mut items = Vec::with_capacity(balancers.len());
    for b in &balancers {
        let Some(arn) = b.load_balancer_arn() else {
            continue;
        };
        let mut listeners = Vec::new();
        let mut pages = client
            .describe_listeners()
            .load_balancer_arn(arn)
            .into_paginator()
            .send();
        loop {
            s.pace("elbv2").await;
            let Some(page) = pages.next().await else {
                break;
            };
            let page = match page {
                Ok(p) => p,
                Err(e) if is_not_found(&e) => break,
                Err(e) => return Err(WatchError::sdk(format!("DescribeListeners {arn}"), &e)),
            };
            for l in page.listeners() {
                listeners.push(json!({
                    "port": l.port(),
                    "protocol": l.protocol().map(|p| p.as_str()),
                    "sslPolicy": l.ssl_policy(),
                    "certificates": l.certificates().iter().filter_map(|c| c.certificate_arn()).collect::<Vec<_>>(),
                }));
            }
        }
        listeners.sort_by_key(|l| l["port"].as_i64());
        s.pace("elbv2").await;
        let attributes: BTreeMap<String, Value> = match client
            .describe_load_balancer_attributes()
            .load_balancer_arn(arn)
            .send()
            .await
        {
            Ok(out) => out
                .attributes()
                .iter()
                .filter_map(|a| Some((a.key()?.to_string(), json!(a.value()))))
                .collect(),
            Err(e) if is_not_found(&e) => continue,
            Err(e) => {
                return Err(WatchError::sdk(
                    format!("DescribeLoadBalancerAttributes {arn}"),
                    &e,
                ));
            }
        };
        let name = b.load_balancer_name().unwrap_or(arn).to_string();
        let mut groups = b.security_groups().to_vec();
        groups.sort();
        let tags = tags.remove(arn).unwrap_or_default();
        items.push(
            Envelope {
                resource_type: LOAD_BALANCER_V2,
                resource_id: arn.to_string(),
                resource_name: name.clone(),
                arn: arn.to_string(),
                account_id: &s.account_id,
                region,
                configuration: json!({
                    "loadBalancerArn": arn,
                    "loadBalancerName": name,
                    "dnsName": b.dns_name(),
                    "scheme": b.scheme().map(|s| s.as_str()),
                    "type": b.r#type().map(|t| t.as_str()),
                    "vpcId": b.vpc_id(),
                    "state": b.state().and_then(|s| s.code()).map(|c| c.as_str()),
                    "ipAddressType": b.ip_address_type().map(|t| t.as_str()),
                    "securityGroups": groups,
                    "listeners": listeners,
                    "attributes": attributes,
                    "tags": doc::tag_list(&tags),
                }),
                supplementary: json!({}),
                tags,
            }
            .into_item(),
        );
    }
    Ok(items)
}
