//! Security Monkey's ACM auditor: "Cert has expired." (10), and "Cert will expire soon." as
//! two separate checks, within 30 days (10) and within 60 days (5), so a certificate 20 days
//! from expiry raises both, as it did there. The thresholds are the settings `soon_days` and
//! `later_days`.
//!
//! Expiry is judged against the clock at audit time; notes carry the expiry date and the
//! threshold, never a day count, so re-auditing the same certificate keeps the same issues
//! until it crosses a threshold.

use serde::Deserialize;
use simian_sdk::prelude::*;
use simian_sdk::time::{SECONDS_PER_DAY, parse_rfc3339};

const EXPIRED: (&str, &str, u32) = ("expired", "Cert has expired.", 10);
const SOON: (&str, &str, u32) = ("expires-soon", "Cert will expire soon.", 10);
const LATER: (&str, &str, u32) = ("expires-later", "Cert will expire soon.", 5);

pub const DEFAULT_SOON_DAYS: i64 = 30;
pub const DEFAULT_LATER_DAYS: i64 = 60;

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Certificate {
    not_after: Option<String>,
}

pub struct AcmCertificate {
    soon_days: i64,
    later_days: i64,
}

impl Auditor for AcmCertificate {
    fn new() -> Result<Self, Error> {
        let soon_days = settings::get_or("soon_days", DEFAULT_SOON_DAYS)?;
        let later_days = settings::get_or("later_days", DEFAULT_LATER_DAYS)?;
        if soon_days < 1 || later_days < 1 {
            return Err(Error::new(
                "settings `soon_days` and `later_days` must be at least 1",
            ));
        }
        Ok(AcmCertificate {
            soon_days,
            later_days,
        })
    }

    fn checks() -> Vec<CheckInfo> {
        let list = [
            (EXPIRED, "The certificate's NotAfter date has passed."),
            (
                SOON,
                "The certificate expires within `soon_days` (30) days.",
            ),
            (
                LATER,
                "The certificate expires within `later_days` (60) days.",
            ),
        ];
        list.into_iter()
            .fold(Checks::new(), |c, ((id, title, score), description)| {
                c.check(id, title, score, description)
            })
            .into()
    }

    fn audit(&self, item: &Item) -> Result<Vec<Issue>, Error> {
        let cert: Certificate = item.configuration()?;
        let Some(not_after) = cert.not_after.filter(|t| !t.trim().is_empty()) else {
            // Pending validation or failed: nothing has been issued that could expire.
            return Ok(Vec::new());
        };
        let expiry = parse_rfc3339(&not_after)
            .map_err(|e| e.context(format_args!("{}: `configuration.notAfter`", item.label())))?;
        Ok(self.judge(&not_after, expiry, simian_sdk::time::now()?))
    }
}

impl AcmCertificate {
    /// The issues for a certificate expiring at `expiry` (seconds), judged at `now`.
    pub fn judge(&self, not_after: &str, expiry: i64, now: i64) -> Vec<Issue> {
        let renew = "Renew or replace the certificate, and move its users to the new one.";
        if expiry <= now {
            let (id, title, score) = EXPIRED;
            return vec![
                Issue::new(id, title, score)
                    .notes(format!("NotAfter: {not_after}"))
                    .remediation(renew),
            ];
        }
        let mut issues = Vec::new();
        for ((id, title, score), days) in [(SOON, self.soon_days), (LATER, self.later_days)] {
            if expiry - now <= days * SECONDS_PER_DAY {
                issues.push(
                    Issue::new(id, title, score)
                        .notes(format!("NotAfter: {not_after} (within {days} days)"))
                        .remediation(renew),
                );
            }
        }
        issues
    }
}

register_auditor!(AcmCertificate);

#[cfg(test)]
mod tests;
