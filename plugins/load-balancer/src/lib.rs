//! Security Monkey's ELB and ALB auditors: an internet-facing load balancer inherits its
//! security groups' ingress issues on its listener ports (`simian_sdk::exposure`); access logs
//! off and, for application load balancers, deletion protection off are each a
//! "Recommendation" (1); a classic listener using a custom SSL negotiation policy (one that
//! does not follow an AWS reference policy) is "Insecure TLS" (8), and Security Monkey's TLS
//! table (`tls`) judges the policy itself: the known weaknesses of each reference policy
//! version, and a custom policy's protocols, cipher order and ciphers.

mod tls;

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;
use simian_sdk::exposure::{exposure_checks, inherited_ingress};
use simian_sdk::prelude::*;

type Check = (&'static str, &'static str, u32, &'static str);

const ACCESS_LOGS: Check = (
    "access-logs-disabled",
    "Recommendation",
    1,
    "Access logging is off: requests leave no trail.",
);
const DELETION_PROTECTION: Check = (
    "deletion-protection-disabled",
    "Recommendation",
    1,
    "Deletion protection is off on an application load balancer.",
);
const CUSTOM_TLS: Check = (
    "insecure-tls",
    "Insecure TLS",
    8,
    "A classic listener uses a custom SSL negotiation policy instead of an AWS reference policy.",
);

/// `AWS::ElasticLoadBalancingV2::LoadBalancer`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct V2 {
    scheme: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    security_groups: Vec<String>,
    listeners: Vec<V2Listener>,
    attributes: BTreeMap<String, Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct V2Listener {
    port: Option<i64>,
}

/// `AWS::ElasticLoadBalancing::LoadBalancer`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Classic {
    scheme: Option<String>,
    security_groups: Vec<String>,
    listeners: Vec<ClassicListener>,
    access_log: Option<AccessLog>,
    ssl_negotiation_policies: Vec<SslPolicy>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct ClassicListener {
    load_balancer_port: Option<i64>,
    policy_names: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AccessLog {
    enabled: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct SslPolicy {
    policy_name: Option<String>,
    attributes: BTreeMap<String, String>,
}

fn issue((id, title, score, _): Check, notes: String, remediation: &str) -> Issue {
    Issue::new(id, title, score)
        .notes(notes)
        .remediation(remediation)
}

const EXPOSED_REMEDY: &str = "Make the load balancer internal";

pub struct LoadBalancer;

impl Auditor for LoadBalancer {
    fn new() -> Result<Self, Error> {
        Ok(LoadBalancer)
    }

    fn checks() -> Vec<CheckInfo> {
        [ACCESS_LOGS, DELETION_PROTECTION, CUSTOM_TLS]
            .into_iter()
            .chain(tls::CHECKS.iter().copied())
            .fold(
                exposure_checks(Checks::new()),
                |c, (id, title, score, d)| c.check(id, title, score, d),
            )
            .into()
    }

    fn audit(&self, item: &Item) -> Result<Vec<Issue>, Error> {
        if item.resource_type == "AWS::ElasticLoadBalancing::LoadBalancer" {
            audit_classic(item)
        } else {
            audit_v2(item)
        }
    }
}

fn internet_facing(scheme: Option<&str>) -> bool {
    scheme == Some("internet-facing")
}

fn audit_v2(item: &Item) -> Result<Vec<Issue>, Error> {
    let lb: V2 = item.configuration()?;
    let mut issues = Vec::new();
    if internet_facing(lb.scheme.as_deref()) {
        let groups: Vec<&str> = lb.security_groups.iter().map(String::as_str).collect();
        let ports: Vec<i64> = lb.listeners.iter().filter_map(|l| l.port).collect();
        issues.extend(inherited_ingress(item, &groups, &ports, EXPOSED_REMEDY)?);
    }
    let off = |key: &str| lb.attributes.get(key).and_then(Value::as_str) == Some("false");
    if off("access_logs.s3.enabled") {
        issues.push(issue(
            ACCESS_LOGS,
            "AccessLogs: [disabled]".into(),
            "Turn on access logs (attribute access_logs.s3.enabled) to an S3 bucket.",
        ));
    }
    if lb.kind.as_deref() == Some("application") && off("deletion_protection.enabled") {
        issues.push(issue(
            DELETION_PROTECTION,
            "DeletionProtection: [disabled]".into(),
            "Turn on deletion protection (attribute deletion_protection.enabled).",
        ));
    }
    Ok(issues)
}

fn audit_classic(item: &Item) -> Result<Vec<Issue>, Error> {
    let lb: Classic = item.configuration()?;
    let mut issues = Vec::new();
    if internet_facing(lb.scheme.as_deref()) {
        let groups: Vec<&str> = lb.security_groups.iter().map(String::as_str).collect();
        let ports: Vec<i64> = lb
            .listeners
            .iter()
            .filter_map(|l| l.load_balancer_port)
            .collect();
        issues.extend(inherited_ingress(item, &groups, &ports, EXPOSED_REMEDY)?);
    }
    if lb.access_log.as_ref().and_then(|l| l.enabled) == Some(false) {
        issues.push(issue(
            ACCESS_LOGS,
            "AccessLogs: [disabled]".into(),
            "Turn on access logs (ModifyLoadBalancerAttributes AccessLog) to an S3 bucket.",
        ));
    }
    for listener in &lb.listeners {
        for name in &listener.policy_names {
            let Some(policy) = lb
                .ssl_negotiation_policies
                .iter()
                .find(|p| p.policy_name.as_deref() == Some(name.as_str()))
            else {
                continue;
            };
            let port = listener
                .load_balancer_port
                .map_or_else(|| "?".to_string(), |p| p.to_string());
            if !policy.attributes.contains_key("Reference-Security-Policy") {
                issues.push(issue(
                    CUSTOM_TLS,
                    format!("Policy: [{name}] Listener: [{port}] custom"),
                    "Use a current AWS reference security policy (ELBSecurityPolicy-…) on the listener.",
                ));
            }
            issues.extend(tls::policy_findings(
                &format!("Policy: [{name}] Listener: [{port}]"),
                &policy.attributes,
            ));
        }
    }
    Ok(issues)
}

register_auditor!(LoadBalancer);

#[cfg(test)]
mod tests;
