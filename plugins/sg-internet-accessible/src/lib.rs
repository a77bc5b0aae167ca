//! Security groups whose ingress rules let the whole internet in.

use simian_sdk::cidr::Cidr;
use simian_sdk::prelude::*;

use simian_sdk::resources::{Direction, SecurityGroup};

const CHECK_ID: &str = "internet-accessible";
const TITLE: &str = "Internet Accessible";
const SCORE: u32 = 10;

/// Public so the host's benchmark can run the same rule natively through the rlib.
pub struct SgInternetAccessible;

impl Auditor for SgInternetAccessible {
    fn new() -> Result<Self, Error> {
        Ok(SgInternetAccessible)
    }

    fn checks() -> Vec<CheckInfo> {
        Checks::new()
            .check(
                CHECK_ID,
                TITLE,
                SCORE,
                "An ingress rule accepts traffic from any address on the internet.",
            )
            .into()
    }

    fn audit(&self, item: &Item) -> Result<Vec<Issue>, Error> {
        let group: SecurityGroup = item.configuration()?;
        let mut issues = Vec::new();
        for permission in &group.ip_permissions {
            let access = permission.access(Direction::Ingress);
            for cidr in permission.cidrs().into_iter().filter(Cidr::is_open) {
                let notes = format!("Entity: [cidr:{cidr}] Access: [{access}]");
                // Two rules with the same protocol and ports would be one issue to the host
                // (notes are part of its identity), so report it once.
                if issues.iter().any(|i: &Issue| i.notes == notes) {
                    continue;
                }
                issues.push(Issue::new(CHECK_ID, TITLE, SCORE).notes(notes).remediation(format!(
                    "Restrict the source of {access} to the addresses that need it instead of \
                     {cidr}, or remove the rule."
                )));
            }
        }
        Ok(issues)
    }
}

register_auditor!(SgInternetAccessible);

#[cfg(test)]
mod tests;
