//! IAM users that match no employee in the operator's HR roster: the custom rule Netflix's
//! Security Monkey post gives as the reason an organisation writes its own checks. Leavers'
//! accounts, shared logins and accounts made "just for a test" all look like this.

mod config;
mod roster;

use serde::Deserialize;
use simian_sdk::policy::wildcard_match;
use simian_sdk::prelude::*;

use crate::config::{Config, MatchBy};

const CHECK_ID: &str = "not-an-employee";
const TITLE: &str = "IAM user does not match an employee";
const DEFAULT_SCORE: u32 = 5;

/// The fields of AWS Config's `AWS::IAM::User` configuration the rule reads.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct User {
    user_name: Option<String>,
    path: Option<String>,
}

pub struct EmployeeAccounts {
    config: Config,
}

impl Auditor for EmployeeAccounts {
    /// Runs once per instance: the roster is read and indexed here, not per item.
    fn new() -> Result<Self, Error> {
        Ok(EmployeeAccounts {
            config: Config::from_settings()?,
        })
    }

    fn checks() -> Vec<CheckInfo> {
        Checks::new()
            .check(
                CHECK_ID,
                TITLE,
                DEFAULT_SCORE,
                "The user matches no one in the HR roster (by user name, email local part or \
                 employee-id tag): a leaver, a shared login or an unowned service account.",
            )
            .into()
    }

    fn audit(&self, item: &Item) -> Result<Vec<Issue>, Error> {
        let user: User = item.configuration()?;
        let name = user
            .user_name
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| item.resource_name.clone());
        if name.is_empty() {
            return Err(Error::new(format!(
                "configuration of {}: `userName` is missing",
                item.label()
            )));
        }
        let path = user.path.unwrap_or_else(|| "/".to_string());
        let config = &self.config;
        if config.ignore.iter().any(|p| wildcard_match(p, &name))
            || config.ignore_paths.iter().any(|p| wildcard_match(p, &path))
        {
            return Ok(vec![]);
        }
        if config
            .match_by
            .iter()
            .any(|mode| matches(config, mode, &name, item))
        {
            return Ok(vec![]);
        }
        let modes: Vec<String> = config.match_by.iter().map(MatchBy::label).collect();
        Ok(vec![
            Issue::new(CHECK_ID, TITLE, config.score)
                .notes(format!(
                    "Entity: [user:{name}] Roster: [no match by {}]",
                    modes.join(", ")
                ))
                .remediation(format!(
                    "If {name} belongs to an employee, fix their HR roster entry (or tag the user \
                     with their employee id); if it is a service account, move it under an \
                     ignored IAM path or add it to `ignore`; otherwise delete the user and its \
                     access keys."
                )),
        ])
    }
}

register_auditor!(EmployeeAccounts);

/// Whether one `match_by` mode finds `name` (or the user's tag) in the roster.
fn matches(config: &Config, mode: &MatchBy, name: &str, item: &Item) -> bool {
    match mode {
        MatchBy::UserName => config.roster.has_user(name),
        MatchBy::EmailLocalPart => config.roster.has_email_local_part(name),
        MatchBy::Tag(key) => item
            .tag(key)
            .is_some_and(|id| config.roster.has_employee_id(id)),
    }
}

#[cfg(test)]
mod tests;
