//! Security Monkey's resource-policy rules applied to IAM role trust policies: who may
//! assume the role.

use serde::Deserialize;
use serde_json::Value;
use simian_sdk::policy::{FindingKind, PolicyDocument, resource_policy_findings};
use simian_sdk::prelude::*;

/// The one field of AWS Config's `AWS::IAM::Role` configuration the rules read.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Role {
    assume_role_policy_document: Option<Value>,
}

pub struct IamRole;

impl Auditor for IamRole {
    fn new() -> Result<Self, Error> {
        Ok(IamRole)
    }

    fn checks() -> Vec<CheckInfo> {
        FindingKind::ALL
            .iter()
            .fold(Checks::new(), |info, kind| {
                info.check(kind.check_id(), kind.title(), kind.score(), describe(*kind))
            })
            .into()
    }

    fn audit(&self, item: &Item) -> Result<Vec<Issue>, Error> {
        let role: Role = item.configuration()?;
        let trust = trust_policy(role.assume_role_policy_document.as_ref())
            .map_err(|e| e.context(format_args!("{}", item.label())))?;
        Ok(resource_policy_findings(&item.account_id, &trust)?
            .into_iter()
            .map(|f| {
                Issue::new(f.kind.check_id(), f.kind.title(), f.kind.score())
                    .notes(f.notes)
                    .remediation(remediation(f.kind))
            })
            .collect())
    }
}

register_auditor!(IamRole);

/// simian records the trust policy as a JSON object; AWS Config itself writes URL-encoded
/// text, which is accepted too.
fn trust_policy(value: Option<&Value>) -> Result<PolicyDocument, Error> {
    let field = "configuration.assumeRolePolicyDocument";
    match value {
        None | Some(Value::Null) => Err(Error::new(format!("`{field}` is required"))),
        Some(Value::String(text)) => PolicyDocument::parse(text),
        Some(other) => PolicyDocument::from_value(other),
    }
    .map_err(|e| e.context(format_args!("`{field}`")))
}

fn describe(kind: FindingKind) -> &'static str {
    match kind {
        FindingKind::InternetAccessible => {
            "Anybody may assume the role: Principal `*` (or NotPrincipal) without a condition \
             restricting it to known accounts or networks."
        }
        FindingKind::UnknownAccess => {
            "A principal or condition names an account, ARN or network the operator has not \
             configured (not reported when the policy is internet accessible anyway)."
        }
        FindingKind::FriendlyCrossAccount => {
            "Another of our accounts (not third party) may assume the role."
        }
        FindingKind::ThirdPartyCrossAccount => {
            "An account configured as third party may assume the role."
        }
        FindingKind::CrossAccountRoot => {
            "Another account's root is trusted, so every principal that account allows may \
             assume the role."
        }
        FindingKind::ParseError => {
            "A principal, account or CIDR in the trust policy does not parse (a deleted \
             principal shows as its unique id)."
        }
    }
}

fn remediation(kind: FindingKind) -> &'static str {
    match kind {
        FindingKind::InternetAccessible => {
            "Name the principals that may assume the role, or add a condition restricting \
             aws:SourceAccount, aws:PrincipalOrgID or aws:SourceIp."
        }
        FindingKind::UnknownAccess => {
            "Remove the principal, or configure its account under [[accounts]] if it is ours \
             or a vendor's."
        }
        FindingKind::FriendlyCrossAccount | FindingKind::ThirdPartyCrossAccount => {
            "Informational: confirm the cross-account trust is still needed."
        }
        FindingKind::CrossAccountRoot => {
            "Trust a specific role of the other account instead of its root."
        }
        FindingKind::ParseError => {
            "Remove principals of deleted roles or users and fix malformed values."
        }
    }
}

#[cfg(test)]
mod tests;
