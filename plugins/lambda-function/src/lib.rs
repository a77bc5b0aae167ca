//! Security Monkey's Lambda auditor: the resource policy of the function, and of each of its
//! aliases and published versions (each can be invoked, and shared, on its own), through the
//! shared resource-policy analysis. Findings on an alias or version say which in the notes,
//! so the same grant on two qualifiers is two issues.

use serde::Deserialize;
use serde_json::Value;
use simian_sdk::policy::{PolicyDocument, policy_checks, policy_issues, resource_policy_findings};
use simian_sdk::prelude::*;

const POLICY: &str = "The function policy";

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Function {
    policy: Option<Value>,
    aliases: Vec<Qualified>,
    versions: Vec<Qualified>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Qualified {
    name: Option<String>,
    version: Option<String>,
    policy: Option<Value>,
}

pub struct LambdaFunction;

impl Auditor for LambdaFunction {
    fn new() -> Result<Self, Error> {
        Ok(LambdaFunction)
    }

    fn checks() -> Vec<CheckInfo> {
        policy_checks(Checks::new(), POLICY).into()
    }

    fn audit(&self, item: &Item) -> Result<Vec<Issue>, Error> {
        let function: Function = item.configuration()?;
        let mut policies: Vec<(Option<String>, &Value, String)> = Vec::new();
        if let Some(p) = &function.policy {
            policies.push((None, p, "configuration.policy".into()));
        }
        for (i, a) in function.aliases.iter().enumerate() {
            if let Some(p) = &a.policy {
                let label = format!("alias:{}", a.name.as_deref().unwrap_or("?"));
                policies.push((Some(label), p, format!("configuration.aliases[{i}].policy")));
            }
        }
        for (i, v) in function.versions.iter().enumerate() {
            if let Some(p) = &v.policy {
                let label = format!("version:{}", v.version.as_deref().unwrap_or("?"));
                policies.push((
                    Some(label),
                    p,
                    format!("configuration.versions[{i}].policy"),
                ));
            }
        }
        let mut issues = Vec::new();
        for (qualifier, value, field) in policies {
            let policy = match value {
                Value::Null => continue,
                Value::String(text) => PolicyDocument::parse(text),
                other => PolicyDocument::from_value(other),
            }
            .map_err(|e| e.context(format_args!("{}: `{field}`", item.label())))?;
            let found = policy_issues(resource_policy_findings(&item.account_id, &policy)?, POLICY);
            issues.extend(found.into_iter().map(|mut issue| {
                if let Some(q) = &qualifier {
                    issue.notes = format!("{} Qualifier: [{q}]", issue.notes);
                }
                issue
            }));
        }
        Ok(issues)
    }
}

register_auditor!(LambdaFunction);

#[cfg(test)]
mod tests;
