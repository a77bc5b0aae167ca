//! IAM users' access keys and console logins: Security Monkey's IAM user auditor.
//!
//! Ages are measured from the item's capture time, not the wall clock, so auditing the same
//! item twice gives the same issues; notes carry dates and thresholds, never day counts,
//! because notes are part of an issue's identity on the host.

mod config;

use simian_sdk::prelude::*;

use crate::config::{AccessKey, User};
use simian_sdk::time::{SECONDS_PER_DAY, parse_rfc3339, utc_date};

const ACTIVE_KEY: &str = "active-key";
const INACTIVE_KEY: &str = "inactive-key";
const KEY_ROTATION: &str = "key-rotation";
const UNUSED_KEY: &str = "unused-key";
const PASSWORD_WITHOUT_MFA: &str = "password-without-mfa";
const PASSWORD_AND_KEY: &str = "password-and-key";

const INFORMATIONAL: &str = "Informational";
const NEEDS_ROTATION: &str = "Needs Rotation";
const UNUSED_ACCESS: &str = "Unused Access";
const INSECURE: &str = "Insecure Configuration";

pub const DEFAULT_ROTATION_DAYS: u32 = 90;
pub const DEFAULT_UNUSED_DAYS: u32 = 90;

/// Public so native benchmarks can run the same rule through the rlib.
pub struct IamUser {
    rotation_days: u32,
    unused_days: u32,
}

impl Auditor for IamUser {
    fn new() -> Result<Self, Error> {
        Ok(IamUser {
            rotation_days: settings::get_or("rotation_days", DEFAULT_ROTATION_DAYS)?,
            unused_days: settings::get_or("unused_days", DEFAULT_UNUSED_DAYS)?,
        })
    }

    fn checks() -> Vec<CheckInfo> {
        Checks::new()
            .check(
                ACTIVE_KEY,
                INFORMATIONAL,
                1,
                "The user has an active access key.",
            )
            .check(
                INACTIVE_KEY,
                INFORMATIONAL,
                0,
                "The user has an inactive access key.",
            )
            .check(
                KEY_ROTATION,
                NEEDS_ROTATION,
                1,
                "An active access key is older than `rotation_days` (default 90).",
            )
            .check(
                UNUSED_KEY,
                UNUSED_ACCESS,
                1,
                "An active access key has not been used for `unused_days` (default 90).",
            )
            .check(
                PASSWORD_WITHOUT_MFA,
                INSECURE,
                1,
                "The user can log in with a password and has no MFA device.",
            )
            .check(
                PASSWORD_AND_KEY,
                INFORMATIONAL,
                1,
                "The user has both a console password and an active access key.",
            )
            .into()
    }

    fn audit(&self, item: &Item) -> Result<Vec<Issue>, Error> {
        let user: User = item.configuration()?;
        let now = now(item)?;
        let mut issues = Vec::new();
        let mut any_active = false;
        for (index, key) in user.access_keys.iter().enumerate() {
            let active = self
                .audit_key(key, now, &mut issues)
                .map_err(|e| e.context(format_args!("accessKeys[{index}]")))?;
            any_active |= active;
        }

        let name = user
            .user_name
            .as_deref()
            .filter(|n| !n.is_empty())
            .or(Some(item.resource_name.as_str()).filter(|n| !n.is_empty()))
            .unwrap_or(&item.resource_id);
        if user.login_profile.is_some() {
            // An absent `mfaDevices` means the recorder didn't look: don't guess.
            let no_mfa = matches!(&user.mfa_devices, Some(None))
                || matches!(&user.mfa_devices, Some(Some(list)) if list.is_empty());
            if no_mfa {
                issues.push(
                    Issue::new(PASSWORD_WITHOUT_MFA, INSECURE, 1)
                        .notes(format!(
                            "Entity: [user:{name}] Access: [password login] MFA: [none]"
                        ))
                        .remediation("Enable an MFA device for this user, or remove its password."),
                );
            }
            if any_active {
                issues.push(
                    Issue::new(PASSWORD_AND_KEY, INFORMATIONAL, 1)
                        .notes(format!(
                            "Entity: [user:{name}] Access: [password login and active access key]"
                        ))
                        .remediation(
                            "People and programs should use separate identities; give the \
                             program its own user or role.",
                        ),
                );
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        issues.retain(|i| seen.insert((i.check_id.clone(), i.notes.clone())));
        Ok(issues)
    }
}

register_auditor!(IamUser);

impl IamUser {
    /// The issues of one access key; returns whether the key is active.
    fn audit_key(&self, key: &AccessKey, now: i64, issues: &mut Vec<Issue>) -> Result<bool, Error> {
        let id = key
            .access_key_id
            .as_deref()
            .filter(|id| !id.is_empty())
            .ok_or_else(|| Error::new("`accessKeyId` is required"))?;
        let status = key.status.as_deref().unwrap_or_default();
        let active = if status.eq_ignore_ascii_case("Active") {
            true
        } else if status.eq_ignore_ascii_case("Inactive") {
            false
        } else {
            return Err(Error::new(format!(
                "`status` must be Active or Inactive, not `{status}`"
            )));
        };
        let date = |field: &str, value: &Option<String>| -> Result<Option<i64>, Error> {
            value
                .as_deref()
                .map(|text| parse_rfc3339(text).map_err(|e| e.context(format_args!("`{field}`"))))
                .transpose()
        };
        let created = date("createDate", &key.create_date)?;
        let last_used = date("lastUsedDate", &key.last_used_date)?;

        if !active {
            issues.push(
                Issue::new(INACTIVE_KEY, INFORMATIONAL, 0)
                    .notes(format!("Entity: [key:{id}] Access: [inactive]"))
                    .remediation("Delete access keys that are no longer needed."),
            );
            return Ok(false);
        }
        issues.push(
            Issue::new(ACTIVE_KEY, INFORMATIONAL, 1)
                .notes(format!("Entity: [key:{id}] Access: [active]")),
        );
        let older_than = |since: i64, days: u32| now - since > i64::from(days) * SECONDS_PER_DAY;
        if let Some(created) = created
            && older_than(created, self.rotation_days)
        {
            issues.push(
                Issue::new(KEY_ROTATION, NEEDS_ROTATION, 1)
                    .notes(format!(
                        "Entity: [key:{id}] Created: [{}] Rotation: [older than {} days]",
                        utc_date(created),
                        self.rotation_days
                    ))
                    .remediation(
                        "Create a new access key, move its users to it, and delete this one.",
                    ),
            );
        }
        // A key never used counts from its creation.
        let since = match (last_used, created) {
            (Some(used), _) => Some((used, format!("LastUsed: [{}]", utc_date(used)))),
            (None, Some(created)) => Some((
                created,
                format!("LastUsed: [never] Created: [{}]", utc_date(created)),
            )),
            (None, None) => None,
        };
        if let Some((since, evidence)) = since
            && older_than(since, self.unused_days)
        {
            issues.push(
                Issue::new(UNUSED_KEY, UNUSED_ACCESS, 1)
                    .notes(format!(
                        "Entity: [key:{id}] {evidence} Unused: [more than {} days]",
                        self.unused_days
                    ))
                    .remediation("Deactivate, then delete, access keys nobody uses."),
            );
        }
        Ok(true)
    }
}

/// The item's capture time in seconds since the epoch; the wall clock if it has none.
fn now(item: &Item) -> Result<i64, Error> {
    if item.capture_time.trim().is_empty() {
        return simian_sdk::time::now();
    }
    parse_rfc3339(&item.capture_time).map_err(|e| e.context("`configurationItemCaptureTime`"))
}

#[cfg(test)]
mod tests;
