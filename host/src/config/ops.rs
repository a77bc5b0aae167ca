//! The operations sections of `simian.toml`: `[events]` (CloudTrail-driven refresh),
//! `[drill]` (game days) and `[monitor]` (health, metrics and staleness alarms).
//!
//! Parsing and validating only, like the rest of `config`.

use serde::Deserialize;

/// `[events]`: refresh items as CloudTrail reports changes, between sweeps.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EventsConfig {
    /// The SQS queue EventBridge rules forward "AWS API Call via CloudTrail" events to (in
    /// the hub account). No queue: no event-driven refresh.
    pub queue_url: Option<String>,
    /// Long-poll wait per receive (SQS allows 0–20).
    pub wait_seconds: i32,
    /// Events naming one item within this window make one refresh.
    pub debounce_ms: u64,
    /// Ask CloudTrail `LookupEvents` who made the changes a sweep found.
    pub lookup: bool,
    /// Raise a monitoring notice when the oldest event waiting is older than this.
    pub lag_alarm_seconds: u64,
}

impl Default for EventsConfig {
    fn default() -> Self {
        EventsConfig {
            queue_url: None,
            wait_seconds: 20,
            debounce_ms: 250,
            lookup: false,
            lag_alarm_seconds: 300,
        }
    }
}

/// `[drill]`: where `simian drill` may make its risky change. Nothing here: no drills.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DrillConfig {
    /// Watched accounts designated for drills; `simian drill` refuses every other.
    pub accounts: Vec<String>,
    /// The region the drill's resources are made in (default: the AWS home region).
    pub region: Option<String>,
    /// The role the drill assumes in the drill account to make and undo its change (the
    /// watchers' role is read-only); default: the account's own `role_arn`.
    pub role_arn: Option<String>,
    /// Seconds each stage may take from the change (default 300: five minutes).
    pub slo_seconds: Option<u64>,
}

impl DrillConfig {
    pub fn slo(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.slo_seconds.unwrap_or(300).max(1))
    }
}

/// `[monitor]`: how the host watches itself.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MonitorConfig {
    /// Where `/health` and `/metrics` are served when the console (`[web]`) is off.
    pub listen: Option<std::net::SocketAddr>,
    /// Consecutive failed listings of one scope before a notice.
    pub failed_listings: u32,
    /// Consecutive failed deliveries of one notifier before a notice.
    pub failed_deliveries: u32,
    /// Seconds between health checks.
    pub check_seconds: u64,
}

impl Default for MonitorConfig {
    fn default() -> Self {
        MonitorConfig {
            listen: None,
            failed_listings: 3,
            failed_deliveries: 3,
            check_seconds: 30,
        }
    }
}

/// Field-level checks of the three sections; `watched` are the accounts simian sweeps.
pub(super) fn check(
    events: &EventsConfig,
    drill: &DrillConfig,
    monitor: &MonitorConfig,
    watched: &[&str],
) -> Result<(), (String, String)> {
    if let Some(url) = &events.queue_url {
        match url::Url::parse(url) {
            Ok(u) if matches!(u.scheme(), "https" | "http") => {}
            _ => {
                return Err((
                    "events.queue_url".into(),
                    "must be an SQS queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME)"
                        .into(),
                ));
            }
        }
    }
    if !(0..=20).contains(&events.wait_seconds) {
        return Err(("events.wait_seconds".into(), "must be 0 to 20".into()));
    }
    if events.debounce_ms > 60_000 {
        return Err(("events.debounce_ms".into(), "must be at most 60000".into()));
    }
    for (i, a) in drill.accounts.iter().enumerate() {
        if !watched.contains(&a.as_str()) {
            return Err((
                format!("drill.accounts[{i}]"),
                format!(
                    "`{}` is not a watched account in [[accounts]]",
                    crate::text::escape_controls(a)
                ),
            ));
        }
    }
    if monitor.failed_listings == 0 {
        return Err((
            "monitor.failed_listings".into(),
            "must be at least 1".into(),
        ));
    }
    if monitor.failed_deliveries == 0 {
        return Err((
            "monitor.failed_deliveries".into(),
            "must be at least 1".into(),
        ));
    }
    if monitor.check_seconds == 0 {
        return Err(("monitor.check_seconds".into(), "must be at least 1".into()));
    }
    Ok(())
}
