//! Security Monkey's certificate expiry rule, shared by every plugin that judges certificates
//! (ACM, IAM server certificates): "Cert has expired." (10), and "Cert will expire soon." as
//! two separate checks, within `soon_days` (10) and within `later_days` (5), so a certificate
//! 20 days from expiry raises both, as it did there.
//!
//! Notes carry the expiry date and the threshold, never a day count, so judging the same
//! certificate again keeps the same issues until it crosses a threshold.

use crate::time::SECONDS_PER_DAY;
use crate::{Checks, Error, Issue, settings};

pub const EXPIRED: (&str, &str, u32) = ("expired", "Cert has expired.", 10);
pub const SOON: (&str, &str, u32) = ("expires-soon", "Cert will expire soon.", 10);
pub const LATER: (&str, &str, u32) = ("expires-later", "Cert will expire soon.", 5);

pub const DEFAULT_SOON_DAYS: i64 = 30;
pub const DEFAULT_LATER_DAYS: i64 = 60;

const RENEW: &str = "Renew or replace the certificate, and move its users to the new one.";

/// The thresholds, in whole days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpiryRule {
    pub soon_days: i64,
    pub later_days: i64,
}

impl Default for ExpiryRule {
    fn default() -> Self {
        ExpiryRule {
            soon_days: DEFAULT_SOON_DAYS,
            later_days: DEFAULT_LATER_DAYS,
        }
    }
}

impl ExpiryRule {
    /// From the plugin settings `soon_days` and `later_days` (each ≥ 1), defaults otherwise.
    pub fn from_settings() -> Result<ExpiryRule, Error> {
        let rule = ExpiryRule {
            soon_days: settings::get_or("soon_days", DEFAULT_SOON_DAYS)?,
            later_days: settings::get_or("later_days", DEFAULT_LATER_DAYS)?,
        };
        if rule.soon_days < 1 || rule.later_days < 1 {
            return Err(Error::new(
                "settings `soon_days` and `later_days` must be at least 1",
            ));
        }
        Ok(rule)
    }

    /// `checks` plus the three expiry checks.
    pub fn checks(checks: Checks) -> Checks {
        checks
            .check(
                EXPIRED.0,
                EXPIRED.1,
                EXPIRED.2,
                "The certificate's NotAfter date has passed.",
            )
            .check(
                SOON.0,
                SOON.1,
                SOON.2,
                "The certificate expires within `soon_days` (30) days.",
            )
            .check(
                LATER.0,
                LATER.1,
                LATER.2,
                "The certificate expires within `later_days` (60) days.",
            )
    }

    /// The issues for a certificate whose `not_after` (as written) is `expiry` seconds since
    /// the epoch, judged at `now`.
    pub fn judge(&self, not_after: &str, expiry: i64, now: i64) -> Vec<Issue> {
        if expiry <= now {
            let (id, title, score) = EXPIRED;
            return vec![
                Issue::new(id, title, score)
                    .notes(format!("NotAfter: {not_after}"))
                    .remediation(RENEW),
            ];
        }
        let mut issues = Vec::new();
        for ((id, title, score), days) in [(SOON, self.soon_days), (LATER, self.later_days)] {
            if expiry - now <= days * SECONDS_PER_DAY {
                issues.push(
                    Issue::new(id, title, score)
                        .notes(format!("NotAfter: {not_after} (within {days} days)"))
                        .remediation(RENEW),
                );
            }
        }
        issues
    }
}
