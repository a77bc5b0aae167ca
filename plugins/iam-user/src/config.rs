//! The parts of an `AWS::IAM::User` configuration the rule reads (simian's additions to AWS
//! Config's shape: `accessKeys`, `loginProfile`, `mfaDevices`).
//!
//! Typed and minimal: serde skips every other field.

use serde::de::IgnoredAny;
use serde::{Deserialize, Deserializer};

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct User {
    pub user_name: Option<String>,
    #[serde(deserialize_with = "null_as_default")]
    pub access_keys: Vec<AccessKey>,
    /// `None` when absent or `null`: the user has no console password.
    pub login_profile: Option<IgnoredAny>,
    /// Outer `None`: the field is absent, so MFA is unknown; `Some(None)`: `null`, none.
    #[serde(deserialize_with = "present")]
    pub mfa_devices: Option<Option<Vec<IgnoredAny>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct AccessKey {
    pub access_key_id: Option<String>,
    pub status: Option<String>,
    pub create_date: Option<String>,
    pub last_used_date: Option<String>,
}

/// AWS Config sometimes writes `null` for an empty list.
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Option::unwrap_or_default)
}

/// Tells a `null` field from an absent one (which `#[serde(default)]` leaves as `None`).
fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}
