//! Security Monkey's CloudTrail auditor: a trail that is not logging ("POLICY - CloudTrail is
//! disabled", 10) or records one region only ("POLICY - CloudTrail is not enabled for
//! multi-region", 10); and, on the account-level item (`AWS::::Account`), an account whose
//! activity no trail records at all, which no per-trail check can see.

use serde::Deserialize;
use simian_sdk::prelude::*;

const DISABLED: (&str, &str, u32) = ("trail-disabled", "POLICY - CloudTrail is disabled", 10);
const SINGLE_REGION: (&str, &str, u32) = (
    "not-multi-region",
    "POLICY - CloudTrail is not enabled for multi-region",
    10,
);
const ACCOUNT_UNLOGGED: (&str, &str, u32) =
    ("account-not-logged", "POLICY - CloudTrail is disabled", 10);

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Trail {
    name: Option<String>,
    is_logging: Option<bool>,
    is_multi_region_trail: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Account {
    cloud_trail: CloudTrail,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CloudTrail {
    trails: Vec<Trail>,
}

pub struct CloudTrailRules;

impl Auditor for CloudTrailRules {
    fn new() -> Result<Self, Error> {
        Ok(CloudTrailRules)
    }

    fn checks() -> Vec<CheckInfo> {
        [
            (DISABLED, "The trail exists but is not logging."),
            (SINGLE_REGION, "The trail records its home region only."),
            (
                ACCOUNT_UNLOGGED,
                "No trail that applies to the account's home region is logging.",
            ),
        ]
        .into_iter()
        .fold(Checks::new(), |c, ((id, title, score), description)| {
            c.check(id, title, score, description)
        })
        .into()
    }

    fn audit(&self, item: &Item) -> Result<Vec<Issue>, Error> {
        match item.resource_type.as_str() {
            "AWS::::Account" => audit_account(item),
            _ => audit_trail(item),
        }
    }
}

fn audit_trail(item: &Item) -> Result<Vec<Issue>, Error> {
    let trail: Trail = item.configuration()?;
    let mut issues = Vec::new();
    if trail.is_logging != Some(true) {
        let (id, title, score) = DISABLED;
        issues.push(
            Issue::new(id, title, score)
                .notes("IsLogging: false")
                .remediation("Start logging (StartLogging), or delete the trail if it is unused."),
        );
    }
    if trail.is_multi_region_trail != Some(true) {
        let (id, title, score) = SINGLE_REGION;
        issues.push(
            Issue::new(id, title, score)
                .notes("IsMultiRegionTrail: false")
                .remediation("Make the trail multi-region (UpdateTrail --is-multi-region-trail)."),
        );
    }
    Ok(issues)
}

fn audit_account(item: &Item) -> Result<Vec<Issue>, Error> {
    let account: Account = item.configuration()?;
    let trails = &account.cloud_trail.trails;
    if trails.iter().any(|t| t.is_logging == Some(true)) {
        return Ok(Vec::new());
    }
    let mut names: Vec<&str> = trails.iter().filter_map(|t| t.name.as_deref()).collect();
    names.sort_unstable();
    let notes = if names.is_empty() {
        "Trails: [none]".to_string()
    } else {
        format!("Trails: [{}] none logging", names.join(", "))
    };
    let (id, title, score) = ACCOUNT_UNLOGGED;
    Ok(vec![Issue::new(id, title, score).notes(notes).remediation(
        "Create a multi-region trail that logs to a bucket in a security account, and keep it logging.",
    )])
}

register_auditor!(CloudTrailRules);

#[cfg(test)]
mod tests;
