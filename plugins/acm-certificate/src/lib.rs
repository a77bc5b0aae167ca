//! Security Monkey's ACM auditor: the shared certificate expiry rule of `simian_sdk::expiry`
//! ("Cert has expired." 10; "Cert will expire soon." within 30 days 10 and within 60 days 5,
//! separate checks; thresholds are the settings `soon_days` and `later_days`), judged on
//! `configuration.notAfter` against the clock at audit time.

use serde::Deserialize;
use simian_sdk::expiry::ExpiryRule;
use simian_sdk::prelude::*;
use simian_sdk::time::parse_rfc3339;

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Certificate {
    not_after: Option<String>,
}

pub struct AcmCertificate {
    rule: ExpiryRule,
}

impl Auditor for AcmCertificate {
    fn new() -> Result<Self, Error> {
        Ok(AcmCertificate {
            rule: ExpiryRule::from_settings()?,
        })
    }

    fn checks() -> Vec<CheckInfo> {
        ExpiryRule::checks(Checks::new()).into()
    }

    fn audit(&self, item: &Item) -> Result<Vec<Issue>, Error> {
        let cert: Certificate = item.configuration()?;
        let Some(not_after) = cert.not_after.filter(|t| !t.trim().is_empty()) else {
            // Pending validation or failed: nothing has been issued that could expire.
            return Ok(Vec::new());
        };
        let expiry = parse_rfc3339(&not_after)
            .map_err(|e| e.context(format_args!("{}: `configuration.notAfter`", item.label())))?;
        Ok(self
            .rule
            .judge(&not_after, expiry, simian_sdk::time::now()?))
    }
}

register_auditor!(AcmCertificate);

#[cfg(test)]
mod tests;
