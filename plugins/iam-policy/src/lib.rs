//! IAM policies that grant administrator, permission-management or other sensitive access:
//! Security Monkey's IAM policy auditor, for users, roles, groups and managed policies.

mod checks;
mod config;

use std::collections::BTreeSet;

use serde_json::Value;
use simian_sdk::policy::{Effect, PolicyDocument};
use simian_sdk::prelude::*;

use crate::checks::{Location, Rules};
use crate::config::{InlinePolicy, ManagedPolicy, Principal};

/// Services whose Write actions are reported when no `sensitive_services` setting is given:
/// the ones that control identity, keys and the audit trail, plus S3, where most data lives.
pub const DEFAULT_SENSITIVE_SERVICES: [&str; 6] =
    ["cloudtrail", "iam", "kms", "organizations", "s3", "sts"];

/// Public so native benchmarks can run the same rule through the rlib.
pub struct IamPolicy {
    rules: Rules,
}

impl Auditor for IamPolicy {
    fn new() -> Result<Self, Error> {
        let sensitive_services = match settings::get::<Vec<String>>("sensitive_services")? {
            Some(list) => list.iter().map(|s| s.trim().to_ascii_lowercase()).collect(),
            None => DEFAULT_SENSITIVE_SERVICES
                .iter()
                .map(|s| s.to_string())
                .collect::<BTreeSet<_>>(),
        };
        Ok(IamPolicy {
            rules: Rules { sensitive_services },
        })
    }

    fn checks() -> Vec<CheckInfo> {
        use checks::*;
        Checks::new()
            .check(
                FULL_ADMIN,
                ADMIN,
                10,
                "A statement allows every action (`*`).",
            )
            .check(
                IAM_ADMIN,
                ADMIN,
                10,
                "A statement allows every IAM action (`iam:*`).",
            )
            .check(
                PERMISSIONS_MANAGEMENT,
                SENSITIVE,
                10,
                "A statement allows actions at the Permissions management access level.",
            )
            .check(PASS_ROLE, SENSITIVE, 10, "A statement allows iam:PassRole.")
            .check(
                SECURITY_GROUP,
                SENSITIVE,
                7,
                "A statement allows ec2:AuthorizeSecurityGroupIngress or Egress.",
            )
            .check(
                SENSITIVE_WRITE,
                SENSITIVE,
                1,
                "A statement allows Write actions on a sensitive service.",
            )
            .check(
                NOT_ACTION,
                AWKWARD,
                10,
                "An Allow statement uses NotAction.",
            )
            .check(
                NOT_RESOURCE,
                AWKWARD,
                10,
                "An Allow statement uses NotResource.",
            )
            .into()
    }

    fn audit(&self, item: &Item) -> Result<Vec<Issue>, Error> {
        let mut issues = Vec::new();
        for (label, field, document) in policies(item)? {
            let document = parse_document(document).map_err(|e| e.context(&field))?;
            for (index, statement) in document.statements.iter().enumerate() {
                if statement.effect == Effect::Allow {
                    let at = Location {
                        policy: &label,
                        index,
                        resources: &statement.resource,
                    };
                    self.rules.audit_statement(&at, statement, &mut issues);
                }
            }
        }
        // Notes are part of an issue's identity on the host: report each fact once.
        let mut seen = BTreeSet::new();
        issues.retain(|i| seen.insert((i.check_id.clone(), i.notes.clone())));
        Ok(issues)
    }
}

register_auditor!(IamPolicy);

/// (label for the notes, field path for errors, document) of every policy the item carries.
fn policies(item: &Item) -> Result<Vec<(String, String, Value)>, Error> {
    let inline = |list: Vec<InlinePolicy>, field: &str| -> Result<Vec<_>, Error> {
        list.into_iter()
            .enumerate()
            .filter_map(|(i, p)| {
                let path = format!("{field}[{i}]");
                let document = p.policy_document.filter(|d| !d.is_null())?;
                Some(match p.policy_name {
                    Some(name) => Ok((
                        format!("inline:{name}"),
                        format!("{path}.policyDocument"),
                        document,
                    )),
                    None => Err(Error::new(format!("`{path}.policyName` is required"))),
                })
            })
            .collect()
    };
    match item.resource_type.as_str() {
        "AWS::IAM::User" | "AWS::IAM::Role" | "AWS::IAM::Group" => {
            let p: Principal = item.configuration()?;
            let mut found = inline(p.user_policy_list, "userPolicyList")?;
            found.extend(inline(p.role_policy_list, "rolePolicyList")?);
            found.extend(inline(p.group_policy_list, "groupPolicyList")?);
            Ok(found)
        }
        "AWS::IAM::Policy" => {
            let policy: ManagedPolicy = item.configuration()?;
            // AWS's own policies matter only where they are used.
            if policy.aws_managed == Some(true) && policy.attachment_count.unwrap_or(0) <= 0 {
                return Ok(Vec::new());
            }
            let name = policy
                .policy_name
                .clone()
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| item.resource_name.clone());
            let Some((index, version)) = policy.default_version() else {
                return Err(Error::new(
                    "`policyVersionList` has no default version (`isDefaultVersion`)",
                ));
            };
            match version.document.clone().filter(|d| !d.is_null()) {
                Some(document) => Ok(vec![(
                    format!("managed:{name}"),
                    format!("policyVersionList[{index}].document"),
                    document,
                )]),
                None => Err(Error::new(format!(
                    "`policyVersionList[{index}].document` is required"
                ))),
            }
        }
        other => Err(Error::new(format!(
            "iam-policy does not audit resource type `{other}`"
        ))),
    }
}

/// A decoded JSON object, or the URL-encoded text AWS Config itself stores.
fn parse_document(document: Value) -> Result<PolicyDocument, Error> {
    match document {
        Value::String(text) => PolicyDocument::parse(&text),
        other => PolicyDocument::from_value(&other),
    }
}

#[cfg(test)]
mod tests;
