//! Classic load balancers of one region: scheme, VPC, subnets, security groups, listeners
//! (protocols, ports, certificate, the policies on each), access logging, and the SSL
//! negotiation policies with their attributes (a reference policy names itself in
//! `Reference-Security-Policy`; a custom one lists its protocols and ciphers), and tags.
//! Registered instances are not recorded: they come and go with scaling.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::doc::{self, Envelope};
use super::session::AccountSession;
use super::{WatchError, is_not_found};
use crate::item::Item;

pub const LOAD_BALANCER: &str = "AWS::ElasticLoadBalancing::LoadBalancer";

/// Elastic Load Balancing (classic): the region's load balancers.
pub struct ElbWatcher;

#[async_trait::async_trait]
impl super::Watcher for ElbWatcher {
    fn resource_types(&self) -> &'static [&'static str] {
        &[LOAD_BALANCER]
    }

    fn region_scope(&self) -> super::RegionScope {
        super::RegionScope::PerRegion
    }

    fn operations(&self) -> &'static [(&'static str, &'static str)] {
        &[
            (
                "elasticloadbalancing:DescribeLoadBalancerAttributes",
                "elasticloadbalancing:DescribeLoadBalancerAttributes",
            ),
            (
                "elasticloadbalancing:DescribeLoadBalancerPolicies",
                "elasticloadbalancing:DescribeLoadBalancerPolicies",
            ),
            (
                "elasticloadbalancing:DescribeLoadBalancers",
                "elasticloadbalancing:DescribeLoadBalancers",
            ),
            (
                "elasticloadbalancing:DescribeTags",
                "elasticloadbalancing:DescribeTags",
            ),
        ]
    }

    async fn list(&self, session: &AccountSession, region: &str) -> Result<Vec<Item>, WatchError> {
        list(session, region).await
    }
}

/// Tags of the load balancers, by name: DescribeTags takes at most 20 at once.
async fn tags(
    s: &AccountSession,
    client: &aws_sdk_elasticloadbalancing::Client,
    names: &[String],
) -> Result<BTreeMap<String, Vec<(String, String)>>, WatchError> {
    let mut by_name = BTreeMap::new();
    for chunk in names.chunks(20) {
        s.pace("elasticloadbalancing").await;
        let out = client
            .describe_tags()
            .set_load_balancer_names(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(|e| WatchError::sdk("DescribeTags (classic ELB)", &e))?;
        for d in out.tag_descriptions() {
            let mut tags: Vec<(String, String)> = d
                .tags()
                .iter()
                .map(|t| {
                    (
                        t.key().to_string(),
                        t.value().unwrap_or_default().to_string(),
                    )
                })
                .collect();
            tags.sort();
            by_name.insert(d.load_balancer_name().unwrap_or_default().to_string(), tags);
        }
    }
    Ok(by_name)
}

/// The SSL negotiation policies of one load balancer, each with its attributes as an object.
async fn ssl_policies(
    s: &AccountSession,
    client: &aws_sdk_elasticloadbalancing::Client,
    name: &str,
) -> Result<Option<Vec<Value>>, WatchError> {
    s.pace("elasticloadbalancing").await;
    let out = match client
        .describe_load_balancer_policies()
        .load_balancer_name(name)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) if is_not_found(&e) => return Ok(None),
        Err(e) => {
            return Err(WatchError::sdk(
                format!("DescribeLoadBalancerPolicies {name}"),
                &e,
            ));
        }
    };
    let mut policies: Vec<Value> = out
        .policy_descriptions()
        .iter()
        .filter(|p| p.policy_type_name() == Some("SSLNegotiationPolicyType"))
        .map(|p| {
            let attributes: BTreeMap<&str, &str> = p
                .policy_attribute_descriptions()
                .iter()
                .filter_map(|a| Some((a.attribute_name()?, a.attribute_value()?)))
                .collect();
            json!({
                "policyName": p.policy_name(),
                "policyTypeName": p.policy_type_name(),
                "attributes": attributes,
            })
        })
        .collect();
    policies.sort_by(|a, b| a["policyName"].as_str().cmp(&b["policyName"].as_str()));
    Ok(Some(policies))
}

pub async fn list(s: &AccountSession, region: &str) -> Result<Vec<Item>, WatchError> {
    let client = s.elb(region);
    let mut balancers = Vec::new();
    let mut pages = client.describe_load_balancers().into_paginator().send();
    loop {
        s.pace("elasticloadbalancing").await;
        let Some(page) = pages.next().await else {
            break;
        };
        let page =
            page.map_err(|e| WatchError::sdk(format!("DescribeLoadBalancers ({region})"), &e))?;
        balancers.extend(page.load_balancer_descriptions().iter().cloned());
    }
    let names: Vec<String> = balancers
        .iter()
        .filter_map(|b| b.load_balancer_name().map(String::from))
        .collect();
    let mut tags = tags(s, &client, &names).await?;
    let mut items = Vec::with_capacity(balancers.len());
    for b in &balancers {
        let Some(name) = b.load_balancer_name() else {
            continue;
        };
        s.pace("elasticloadbalancing").await;
        let access_log = match client
            .describe_load_balancer_attributes()
            .load_balancer_name(name)
            .send()
            .await
        {
            Ok(out) => out
                .load_balancer_attributes()
                .and_then(|a| a.access_log())
                .map(|l| json!({"enabled": l.enabled(), "s3BucketName": l.s3_bucket_name()})),
            Err(e) if is_not_found(&e) => continue,
            Err(e) => {
                return Err(WatchError::sdk(
                    format!("DescribeLoadBalancerAttributes {name}"),
                    &e,
                ));
            }
        };
        let Some(policies) = ssl_policies(s, &client, name).await? else {
            continue;
        };
        let mut listeners: Vec<Value> = b
            .listener_descriptions()
            .iter()
            .filter_map(|d| {
                let l = d.listener()?;
                Some(json!({
                    "protocol": l.protocol(),
                    "loadBalancerPort": l.load_balancer_port(),
                    "instanceProtocol": l.instance_protocol(),
                    "instancePort": l.instance_port(),
                    "sslCertificateId": l.ssl_certificate_id(),
                    "policyNames": d.policy_names(),
                }))
            })
            .collect();
        listeners.sort_by_key(|l| l["loadBalancerPort"].as_i64());
        let mut groups = b.security_groups().to_vec();
        groups.sort();
        let mut subnets = b.subnets().to_vec();
        subnets.sort();
        let tags = tags.remove(name).unwrap_or_default();
        items.push(
            Envelope {
                resource_type: LOAD_BALANCER,
                resource_id: name.to_string(),
                resource_name: name.to_string(),
                arn: format!(
                    "arn:aws:elasticloadbalancing:{region}:{}:loadbalancer/{name}",
                    s.account_id
                ),
                account_id: &s.account_id,
                region,
                configuration: json!({
                    "loadBalancerName": name,
                    "dnsName": b.dns_name(),
                    "scheme": b.scheme(),
                    "vpcId": b.vpc_id(),
                    "subnets": subnets,
                    "securityGroups": groups,
                    "listeners": listeners,
                    "accessLog": access_log,
                    "sslNegotiationPolicies": policies,
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
