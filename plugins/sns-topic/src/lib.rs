//! Security Monkey's SNS auditor: the topic policy through the shared resource-policy
//! analysis, "SNS Topic Policy is empty", and subscriptions owned by another account
//! (unknown → Unknown Access 10, friendly or third party → 0).

use serde::Deserialize;
use serde_json::Value;
use simian_sdk::policy::{
    PolicyDocument, policy_checks, policy_issues, resource_policy_findings, sharing_findings,
};
use simian_sdk::prelude::*;

const POLICY: &str = "The topic policy";
const EMPTY: (&str, &str, u32) = ("empty-policy", "SNS Topic Policy is empty", 1);

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Topic {
    policy: Option<Value>,
    subscriptions: Vec<Subscription>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Subscription {
    owner: Option<String>,
}

pub struct SnsTopic;

impl Auditor for SnsTopic {
    fn new() -> Result<Self, Error> {
        Ok(SnsTopic)
    }

    fn checks() -> Vec<CheckInfo> {
        let (id, title, score) = EMPTY;
        policy_checks(Checks::new(), POLICY)
            .check(
                id,
                title,
                score,
                "The topic has no policy, or one without statements.",
            )
            .into()
    }

    fn audit(&self, item: &Item) -> Result<Vec<Issue>, Error> {
        let topic: Topic = item.configuration()?;
        let policy = match &topic.policy {
            None | Some(Value::Null) => None,
            Some(Value::String(text)) if text.trim().is_empty() => None,
            Some(Value::String(text)) => Some(PolicyDocument::parse(text)),
            Some(value) => Some(PolicyDocument::from_value(value)),
        }
        .transpose()
        .map_err(|e| e.context(format_args!("{}: `configuration.policy`", item.label())))?;
        let mut issues = Vec::new();
        match policy {
            Some(policy) if !policy.statements.is_empty() => {
                let findings = resource_policy_findings(&item.account_id, &policy)?;
                issues.extend(policy_issues(findings, POLICY));
            }
            _ => {
                let (id, title, score) = EMPTY;
                issues.push(
                    Issue::new(id, title, score)
                        .notes("Policy: [none]")
                        .remediation(
                            "Give the topic a policy naming who may publish and subscribe.",
                        ),
                );
            }
        }
        let mut owners: Vec<String> = topic
            .subscriptions
            .iter()
            .filter_map(|s| s.owner.clone())
            .collect();
        owners.sort();
        owners.dedup();
        let findings = sharing_findings(&item.account_id, &owners, &["sns:Subscribe"])?;
        issues.extend(policy_issues(findings, "A subscription"));
        Ok(issues)
    }
}

register_auditor!(SnsTopic);

#[cfg(test)]
mod tests;
