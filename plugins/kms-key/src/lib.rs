//! Security Monkey's KMS auditor: the key policy through the shared resource-policy analysis,
//! and "KMS key is not configured for rotation." for customer-managed symmetric keys (the
//! only keys AWS can rotate; AWS-managed keys rotate on their own).

use serde::Deserialize;
use serde_json::Value;
use simian_sdk::policy::{PolicyDocument, policy_checks, policy_issues, resource_policy_findings};
use simian_sdk::prelude::*;

const POLICY: &str = "The key policy";
const ROTATION: (&str, &str, u32) = (
    "rotation-disabled",
    "KMS key is not configured for rotation.",
    1,
);

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Key {
    key_policy: Option<Value>,
    key_manager: Option<String>,
    key_spec: Option<String>,
    key_state: Option<String>,
    key_rotation_enabled: Option<bool>,
}

pub struct KmsKey;

impl Auditor for KmsKey {
    fn new() -> Result<Self, Error> {
        Ok(KmsKey)
    }

    fn checks() -> Vec<CheckInfo> {
        let (id, title, score) = ROTATION;
        policy_checks(Checks::new(), POLICY)
            .check(
                id,
                title,
                score,
                "A customer-managed symmetric key does not rotate its key material yearly.",
            )
            .into()
    }

    fn audit(&self, item: &Item) -> Result<Vec<Issue>, Error> {
        let key: Key = item.configuration()?;
        let mut issues = Vec::new();
        let policy = match &key.key_policy {
            None | Some(Value::Null) => None,
            Some(Value::String(text)) => Some(PolicyDocument::parse(text)),
            Some(value) => Some(PolicyDocument::from_value(value)),
        }
        .transpose()
        .map_err(|e| e.context(format_args!("{}: `configuration.keyPolicy`", item.label())))?;
        if let Some(policy) = policy {
            let findings = resource_policy_findings(&item.account_id, &policy)?;
            issues.extend(policy_issues(findings, POLICY));
        }
        let rotatable = key.key_manager.as_deref() == Some("CUSTOMER")
            && key.key_spec.as_deref().unwrap_or("SYMMETRIC_DEFAULT") == "SYMMETRIC_DEFAULT"
            && key.key_state.as_deref() != Some("PendingDeletion");
        if rotatable && key.key_rotation_enabled == Some(false) {
            let (id, title, score) = ROTATION;
            issues.push(
                Issue::new(id, title, score)
                    .notes("KeyRotationEnabled: false")
                    .remediation("Enable automatic key rotation (EnableKeyRotation)."),
            );
        }
        Ok(issues)
    }
}

register_auditor!(KmsKey);

#[cfg(test)]
mod tests;
