//! Security Monkey's SQS auditor: the queue policy through the shared resource-policy
//! analysis of `simian_sdk::policy` (internet accessible, unknown, friendly and third-party
//! accounts, another account's root, principals that do not parse).

use serde::Deserialize;
use serde_json::Value;
use simian_sdk::policy::{PolicyDocument, policy_checks, policy_issues, resource_policy_findings};
use simian_sdk::prelude::*;

const POLICY: &str = "The queue policy";

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Queue {
    policy: Option<Value>,
}

pub struct SqsQueue;

impl Auditor for SqsQueue {
    fn new() -> Result<Self, Error> {
        Ok(SqsQueue)
    }

    fn checks() -> Vec<CheckInfo> {
        policy_checks(Checks::new(), POLICY).into()
    }

    fn audit(&self, item: &Item) -> Result<Vec<Issue>, Error> {
        let queue: Queue = item.configuration()?;
        let policy = match queue.policy {
            None | Some(Value::Null) => return Ok(Vec::new()),
            // Recorded decoded; AWS Config and older records keep it as JSON text.
            Some(Value::String(text)) => PolicyDocument::parse(&text),
            Some(value) => PolicyDocument::from_value(&value),
        }
        .map_err(|e| e.context(format_args!("{}: `configuration.policy`", item.label())))?;
        let findings = resource_policy_findings(&item.account_id, &policy)?;
        Ok(policy_issues(findings, POLICY))
    }
}

register_auditor!(SqsQueue);

#[cfg(test)]
mod tests;
