//! Game days (`simian drill`): make a real, clearly tagged risky change in an account the
//! operator designated for drills, watch the alarm chain react stage by stage — the change
//! recorded (by an event or a sweep), the issue opened, each notifier's delivery — revert it,
//! watch the issue get fixed, and report every stage's latency against the SLO.
//!
//! It must never run against an account `[drill]` does not name, never leave its change
//! behind (it reverts on success, failure and interruption alike, and says what it could not
//! undo), and never write the store: it only watches what the running host records.

pub mod scenario;

use std::future::Future;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::config::{AccountConfig, Config};
use crate::plugin::PluginKind;
use crate::plugin::manifest::{MANIFEST_FILE, Manifest};
use crate::store::{Store, now_ms};
use crate::watch::session::{AccountSession, hub_config};
pub use scenario::{Made, Scenario};

/// How often the store is looked at.
const POLL: Duration = Duration::from_millis(200);

#[derive(Debug, thiserror::Error)]
pub enum DrillError {
    #[error(
        "no drill accounts: name them in [drill] accounts = [\"…\"] (drills are off until then)"
    )]
    NotConfigured,
    #[error("account {0} is not a drill account; [drill] accounts names {1}")]
    NotADrillAccount(String, String),
    #[error("drill account {0} is not a watched account")]
    Unwatched(String),
    #[error("cannot act as the drill account: {0}")]
    Session(String),
    #[error("the store: {0}")]
    Store(#[from] crate::store::StoreError),
}

/// What a drill will do, checked before anything is touched.
#[derive(Debug, Clone)]
pub struct Plan {
    pub id: String,
    pub scenario: Scenario,
    pub account: AccountConfig,
    pub region: String,
    pub slo: Duration,
    /// The notifiers the host delivers through (each must deliver the drill's notice).
    pub notifiers: Vec<String>,
}

/// Refuse anything but a named drill account.
pub fn plan(
    config: &Config,
    account: Option<&str>,
    scenario: Scenario,
) -> Result<Plan, DrillError> {
    let allowed = &config.drill.accounts;
    let Some(first) = allowed.first() else {
        return Err(DrillError::NotConfigured);
    };
    let id = account.unwrap_or(first);
    if !allowed.iter().any(|a| a == id) {
        return Err(DrillError::NotADrillAccount(
            crate::text::escape_controls(id).into_owned(),
            allowed.join(", "),
        ));
    }
    let mut account = crate::runtime::sweep::watched_accounts(config, Some(id))
        .into_iter()
        .next()
        .cloned()
        .ok_or_else(|| DrillError::Unwatched(id.to_string()))?;
    if let Some(role) = &config.drill.role_arn {
        account.role_arn = Some(role.clone());
    }
    let region = config
        .drill
        .region
        .clone()
        .or_else(|| config.aws.region.clone())
        .or_else(|| account.regions.first().cloned())
        .unwrap_or_else(|| "us-east-1".into());
    Ok(Plan {
        id: drill_id(now_ms()),
        scenario,
        account,
        region,
        slo: config.drill.slo(),
        notifiers: notifiers(config),
    })
}

/// `20261130t094647`: the drill's time, usable in group and bucket names.
fn drill_id(ms: i64) -> String {
    crate::when::rfc3339(ms)
        .chars()
        .take_while(|c| *c != '.' && *c != 'Z')
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_lowercase()
}

/// Whether a delivered batch told of the drill item's new issue.
fn tells_of_issue(payload: &str, arn: &str) -> bool {
    serde_json::from_str::<Vec<crate::notify::Notice>>(payload).is_ok_and(|notices| {
        notices.iter().any(|n| {
            n.item.get("arn").and_then(|a| a.as_str()) == Some(arn) && !n.new_issues.is_empty()
        })
    })
}

/// The enabled notifier plugins deployed in the plugins directory.
fn notifiers(config: &Config) -> Vec<String> {
    let Ok(dirs) = std::fs::read_dir(&config.plugins.dir) else {
        return Vec::new();
    };
    let mut out: Vec<String> = dirs
        .flatten()
        .filter_map(|d| Manifest::load(&d.path().join(MANIFEST_FILE)).ok())
        .filter(|m| m.kind == PluginKind::Notifier && config.operator(&m.id).enabled)
        .map(|m| m.id)
        .collect();
    out.sort();
    out.dedup();
    out
}

/// One stage of the alarm chain.
#[derive(Debug, Clone, Serialize)]
pub struct Stage {
    pub name: String,
    /// From the change (for `issue fixed`, from the revert); None: not seen in time.
    pub latency_ms: Option<u64>,
    /// Whether it counts against the SLO (the change and the revert are the drill's own).
    pub measured: bool,
    pub within_slo: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub id: String,
    pub scenario: Scenario,
    pub account_id: String,
    pub region: String,
    pub slo_seconds: u64,
    pub resource: Option<Made>,
    /// How the host first recorded the change: `event` or `sweep`.
    pub seen_via: Option<String>,
    pub stages: Vec<Stage>,
    /// What could not be undone (empty: nothing left behind).
    pub left_behind: Vec<String>,
    pub interrupted: bool,
    pub error: Option<String>,
    pub passed: bool,
}

/// What the store shows of the drill's item so far.
#[derive(Default)]
struct Seen {
    revision: Option<String>,
    issue_open: bool,
    issue_fixed: bool,
}

async fn look(store: &Store, arn: &str) -> Result<Seen, DrillError> {
    let history = store.history(arn).await?;
    let Some(first) = history.first() else {
        return Ok(Seen::default());
    };
    let issues = store.issues_of_items(&[first.item_id]).await?;
    let issues = issues.get(&first.item_id).cloned().unwrap_or_default();
    Ok(Seen {
        revision: Some(first.via.as_str().to_string()),
        issue_open: issues.iter().any(|i| i.open),
        issue_fixed: !issues.is_empty() && issues.iter().all(|i| !i.open),
    })
}

fn stage(name: impl Into<String>, at: Option<Duration>, measured: bool, slo: Duration) -> Stage {
    Stage {
        name: name.into(),
        latency_ms: at.map(|d| d.as_millis() as u64),
        measured,
        within_slo: !measured || at.is_some_and(|d| d <= slo),
    }
}

/// Run the drill; `interrupted` resolving (Ctrl-C) stops the waiting, never the revert.
pub async fn run(
    config: &Config,
    store: &Store,
    plan: &Plan,
    interrupted: impl Future<Output = ()>,
) -> Result<Report, DrillError> {
    let hub = hub_config(&config.aws).await;
    let session = AccountSession::open(&hub, &plan.account, &config.aws)
        .await
        .map_err(|e| DrillError::Session(e.to_string()))?;
    let mut report = Report {
        id: plan.id.clone(),
        scenario: plan.scenario,
        account_id: plan.account.id.clone(),
        region: plan.region.clone(),
        slo_seconds: plan.slo.as_secs(),
        resource: None,
        seen_via: None,
        stages: Vec::new(),
        left_behind: Vec::new(),
        interrupted: false,
        error: None,
        passed: false,
    };
    tokio::pin!(interrupted);
    let started_ms = now_ms();
    let made = match scenario::make(plan.scenario, &session, &plan.region, &plan.id).await {
        Ok(made) => made,
        Err(e) => {
            report.error = Some(e.to_string());
            if let Some(partial) = &e.partial {
                report.left_behind = scenario::undo(&session, &plan.region, partial).await;
            }
            return Ok(report);
        }
    };
    let t0 = Instant::now();
    report.resource = Some(made.clone());
    report
        .stages
        .push(stage("change made", Some(Duration::ZERO), false, plan.slo));

    // Watch the chain until every stage is seen or the SLO is spent.
    let mut at_revision = None;
    let mut at_issue = None;
    let mut at_notified: Vec<(String, Option<Duration>)> =
        plan.notifiers.iter().map(|n| (n.clone(), None)).collect();
    let watching = async {
        loop {
            let seen = look(store, &made.arn).await?;
            if at_revision.is_none() && seen.revision.is_some() {
                at_revision = Some(t0.elapsed());
                report.seen_via = seen.revision.clone();
            }
            if at_issue.is_none() && seen.issue_open {
                at_issue = Some(t0.elapsed());
            }
            for (notifier, at) in at_notified.iter_mut().filter(|(_, at)| at.is_none()) {
                let delivered = store.deliveries_since(notifier, started_ms).await?;
                if delivered.iter().any(|p| tells_of_issue(p, &made.arn)) {
                    *at = Some(t0.elapsed());
                }
            }
            let done = at_revision.is_some()
                && at_issue.is_some()
                && at_notified.iter().all(|(_, at)| at.is_some());
            if done || t0.elapsed() > plan.slo {
                return Ok::<(), DrillError>(());
            }
            tokio::time::sleep(POLL).await;
        }
    };
    let watched = tokio::select! {
        r = watching => Some(r),
        _ = &mut interrupted => None,
    };
    let via = report.seen_via.clone().unwrap_or_else(|| "not seen".into());
    report.stages.push(stage(
        format!("revision stored ({via})"),
        at_revision,
        true,
        plan.slo,
    ));
    report
        .stages
        .push(stage("issue opened", at_issue, true, plan.slo));
    for (notifier, at) in &at_notified {
        report.stages.push(stage(
            format!("notified by {notifier}"),
            *at,
            true,
            plan.slo,
        ));
    }

    // Always revert, whatever happened above.
    report.left_behind = scenario::undo(&session, &plan.region, &made).await;
    let reverted = Instant::now();
    report.stages.push(stage(
        "reverted",
        Some(reverted.duration_since(t0)),
        false,
        plan.slo,
    ));
    match watched {
        None => report.interrupted = true,
        Some(Err(e)) => report.error = Some(e.to_string()),
        Some(Ok(())) => {
            let mut at_fixed = None;
            let waiting_fixed = async {
                while reverted.elapsed() <= plan.slo {
                    if look(store, &made.arn).await?.issue_fixed {
                        at_fixed = Some(reverted.elapsed());
                        break;
                    }
                    tokio::time::sleep(POLL).await;
                }
                Ok::<(), DrillError>(())
            };
            tokio::select! {
                r = waiting_fixed => if let Err(e) = r { report.error = Some(e.to_string()) },
                _ = &mut interrupted => report.interrupted = true,
            }
            report.stages.push(stage(
                "issue fixed (after the revert)",
                at_fixed,
                true,
                plan.slo,
            ));
        }
    }
    report.passed = report.error.is_none()
        && !report.interrupted
        && report.left_behind.is_empty()
        && report.stages.iter().all(|s| s.within_slo);
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drill_ids_fit_in_resource_names() {
        // 2026-11-30T09:46:47.571Z
        assert_eq!(drill_id(1_796_032_007_571), "20261130t094647");
    }
}
