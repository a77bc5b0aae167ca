//! Security Monkey's S3 rules: the bucket policy (the shared resource-policy analysis of
//! `simian_sdk::policy`) and the bucket ACL.

mod acl;

use serde::Deserialize;
use serde_json::Value;
use simian_sdk::policy::{FindingKind, PolicyDocument, resource_policy_findings};
use simian_sdk::prelude::*;

use crate::acl::Acl;

const NO_POLICY: (&str, &str, u32) = ("no-bucket-policy", "POLICY - No Policy.", 0);

/// The parts of the bucket's configuration the rules read.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Bucket {
    owner: Option<Owner>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Owner {
    id: Option<String>,
}

/// Where AWS Config (and simian) keep the bucket's sub-resources.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Supplementary {
    #[serde(rename = "BucketPolicy")]
    bucket_policy: Option<Value>,
    #[serde(rename = "AccessControlList")]
    access_control_list: Option<Value>,
}

pub struct S3Bucket;

impl Auditor for S3Bucket {
    fn new() -> Result<Self, Error> {
        Ok(S3Bucket)
    }

    fn checks() -> Vec<CheckInfo> {
        let info = Checks::new();
        let info = FindingKind::ALL.iter().fold(info, |info, kind| {
            info.check(
                kind.check_id(),
                kind.title(),
                kind.score(),
                describe_policy(*kind),
            )
        });
        let acl_checks = [
            (
                acl::INTERNET,
                "The ACL grants AllUsers or AuthenticatedUsers.",
            ),
            (
                acl::LOG,
                "The ACL grants the S3 LogDelivery group (access logging).",
            ),
            (
                acl::FRIENDLY,
                "The ACL grants another of our accounts, by canonical id.",
            ),
            (
                acl::THIRD_PARTY,
                "The ACL grants a third-party account, by canonical id.",
            ),
            (
                acl::UNKNOWN,
                "The ACL grants a canonical id, e-mail address or group nobody configured.",
            ),
            (
                NO_POLICY,
                "The bucket has no bucket policy (informational).",
            ),
        ];
        acl_checks
            .into_iter()
            .fold(info, |info, ((id, title, score), description)| {
                info.check(id, title, score, description)
            })
            .into()
    }

    fn audit(&self, item: &Item) -> Result<Vec<Issue>, Error> {
        let bucket: Bucket = item.configuration()?;
        let supplementary: Supplementary = item.supplementary()?;
        let mut issues = Vec::new();
        match bucket_policy(supplementary.bucket_policy.as_ref())
            .map_err(|e| e.context(format_args!("{}", item.label())))?
        {
            Some(policy) => {
                for f in resource_policy_findings(&item.account_id, &policy)? {
                    issues.push(
                        Issue::new(f.kind.check_id(), f.kind.title(), f.kind.score())
                            .notes(f.notes)
                            .remediation(remediation_policy(f.kind)),
                    );
                }
            }
            None => {
                let (id, title, score) = NO_POLICY;
                issues.push(Issue::new(id, title, score).notes("BucketPolicy: [none]"));
            }
        }
        let acl = Acl::from_value(supplementary.access_control_list.as_ref())
            .map_err(|e| e.context(format_args!("{}", item.label())))?;
        let owners: Vec<&str> = bucket
            .owner
            .as_ref()
            .and_then(|o| o.id.as_deref())
            .into_iter()
            .collect();
        issues.extend(acl.audit(&item.account_id, &owners)?);
        Ok(issues)
    }
}

register_auditor!(S3Bucket);

/// `supplementaryConfiguration.BucketPolicy.policyText`: a JSON object as simian records it,
/// JSON text as AWS Config writes it (the `BucketPolicy` value itself may be text too).
/// `None` when the bucket has no policy.
fn bucket_policy(value: Option<&Value>) -> Result<Option<PolicyDocument>, Error> {
    let field = "supplementaryConfiguration.BucketPolicy";
    let parsed;
    let wrapper = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(text)) => {
            parsed = serde_json::from_str::<Value>(text)
                .map_err(|e| Error::from(e).context(format_args!("`{field}`")))?;
            &parsed
        }
        Some(v) => v,
    };
    let Value::Object(wrapper) = wrapper else {
        return Err(Error::new(format!("`{field}` must be an object")));
    };
    match wrapper.get("policyText") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if text.trim().is_empty() => Ok(None),
        Some(Value::String(text)) => PolicyDocument::parse(text).map(Some),
        Some(other) => PolicyDocument::from_value(other).map(Some),
    }
    .map_err(|e| e.context(format_args!("`{field}.policyText`")))
}

fn describe_policy(kind: FindingKind) -> &'static str {
    match kind {
        FindingKind::InternetAccessible => {
            "The bucket policy allows `*` (or uses NotPrincipal) without a condition \
             restricting it to known accounts or networks."
        }
        FindingKind::UnknownAccess => {
            "The bucket policy names an account, ARN or network nobody configured (not \
             reported when the policy is internet accessible anyway)."
        }
        FindingKind::FriendlyCrossAccount => "The bucket policy allows another of our accounts.",
        FindingKind::ThirdPartyCrossAccount => "The bucket policy allows a third-party account.",
        FindingKind::CrossAccountRoot => {
            "The bucket policy allows another account's root, so everything that account \
             permits."
        }
        FindingKind::ParseError => {
            "A principal, account or CIDR in the bucket policy does not parse."
        }
    }
}

fn remediation_policy(kind: FindingKind) -> &'static str {
    match kind {
        FindingKind::InternetAccessible => {
            "Name the principals in the bucket policy, or restrict it with aws:SourceAccount, \
             aws:PrincipalOrgID, aws:SourceVpce or aws:SourceIp conditions."
        }
        FindingKind::UnknownAccess => {
            "Remove the statement, or configure its account under [[accounts]]."
        }
        FindingKind::FriendlyCrossAccount | FindingKind::ThirdPartyCrossAccount => {
            "Informational: confirm the cross-account access is still needed."
        }
        FindingKind::CrossAccountRoot => {
            "Allow a specific role of the other account instead of its root."
        }
        FindingKind::ParseError => "Remove principals of deleted roles or users.",
    }
}

#[cfg(test)]
mod tests;
