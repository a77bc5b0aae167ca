//! The parts of the IAM items' configurations that hold policy documents.
//!
//! Typed and minimal: serde skips every other field. Every field may be missing or `null`.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// A user, role or group: only one of the lists is present, depending on the type.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct Principal {
    #[serde(deserialize_with = "null_as_default")]
    pub user_policy_list: Vec<InlinePolicy>,
    #[serde(deserialize_with = "null_as_default")]
    pub role_policy_list: Vec<InlinePolicy>,
    #[serde(deserialize_with = "null_as_default")]
    pub group_policy_list: Vec<InlinePolicy>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct InlinePolicy {
    pub policy_name: Option<String>,
    /// A JSON object, or (as AWS Config itself stores it) URL-encoded JSON text.
    pub policy_document: Option<Value>,
}

/// An `AWS::IAM::Policy` item: a customer- or AWS-managed policy.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct ManagedPolicy {
    pub policy_name: Option<String>,
    pub aws_managed: Option<bool>,
    pub attachment_count: Option<i64>,
    pub default_version_id: Option<String>,
    #[serde(deserialize_with = "null_as_default")]
    pub policy_version_list: Vec<PolicyVersion>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct PolicyVersion {
    pub version_id: Option<String>,
    pub is_default_version: Option<bool>,
    pub document: Option<Value>,
}

impl ManagedPolicy {
    /// The version in force: the one flagged default, else the one `defaultVersionId` names.
    pub fn default_version(&self) -> Option<(usize, &PolicyVersion)> {
        self.policy_version_list
            .iter()
            .enumerate()
            .find(|(_, v)| v.is_default_version == Some(true))
            .or_else(|| {
                let wanted = self.default_version_id.as_deref()?;
                self.policy_version_list
                    .iter()
                    .enumerate()
                    .find(|(_, v)| v.version_id.as_deref() == Some(wanted))
            })
    }
}

/// AWS Config sometimes writes `null` for an empty list.
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Option::unwrap_or_default)
}
