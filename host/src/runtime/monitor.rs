//! The host watching itself: what is unhealthy right now (listings stale beyond twice their
//! interval or failing again and again, a notifier failing delivery after delivery, the event
//! queue lagging or unreachable, a plugin paused over its budget), readiness, and the scrape-time metrics. A check loop raises
//! a monitoring notice through the notifiers when a problem appears and clears it when it
//! goes, so a broken watcher never looks like a quiet estate.
//!
//! It must never repair what it sees, and never hand a notice about a failing or paused
//! notifier to that notifier.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use serde::Serialize;

use super::Runtime;
use super::sweep::{SweepReport, watched_accounts};
use crate::item::Item;
use crate::metrics::labels;
use crate::notify::{Notice, NoticeIssue, NoticesByAccount};
use crate::plugin::PluginKind;
use crate::resource_types::GLOBAL_REGION;
use crate::store::now_ms;
use crate::watch::{RegionScope, registry};

/// The resource type of a monitoring notice's item.
pub const NOTICE_TYPE: &str = "Simian::Monitor::Alarm";

/// What the host has seen of its own work, beyond what the store records.
pub struct Observed {
    started_ms: i64,
    /// Consecutive failed listings per (account, region, type).
    listing_failures: Mutex<HashMap<(String, String, String), u32>>,
    /// Consecutive failed receives from the event queue.
    pub receive_failures: AtomicU32,
    /// The plugins directory has been scanned once.
    pub scanned: AtomicBool,
    /// Alarms raised and not yet cleared, by key.
    raised: Mutex<BTreeMap<String, Alarm>>,
}

impl Default for Observed {
    fn default() -> Self {
        Observed {
            started_ms: now_ms(),
            listing_failures: Mutex::default(),
            receive_failures: AtomicU32::new(0),
            scanned: AtomicBool::new(false),
            raised: Mutex::default(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AlarmKind {
    StaleListing,
    FailingListing,
    FailingNotifier,
    EventLag,
    EventQueue,
    PluginBudget,
}

impl AlarmKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AlarmKind::StaleListing => "stale-listing",
            AlarmKind::FailingListing => "failing-listing",
            AlarmKind::FailingNotifier => "failing-notifier",
            AlarmKind::EventLag => "event-lag",
            AlarmKind::EventQueue => "event-queue",
            AlarmKind::PluginBudget => "plugin-budget",
        }
    }

    fn title(self) -> &'static str {
        match self {
            AlarmKind::StaleListing => "Listings are stale",
            AlarmKind::FailingListing => "Listings keep failing",
            AlarmKind::FailingNotifier => "A notifier keeps failing",
            AlarmKind::EventLag => "CloudTrail events lag",
            AlarmKind::EventQueue => "The event queue cannot be read",
            AlarmKind::PluginBudget => "A plugin is paused over its budget",
        }
    }
}

/// One problem, as long as it lasts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alarm {
    pub kind: AlarmKind,
    /// An account id, a notifier id or the queue.
    pub subject: String,
    /// The account the notice is filed under (`simian` for the host's own parts).
    pub account_id: String,
    /// A notifier the alarm is about: it is not told.
    pub notifier: Option<String>,
    /// The evidence, stable while the problem lasts.
    pub detail: String,
}

impl Alarm {
    pub fn key(&self) -> String {
        format!("{}:{}", self.kind.as_str(), self.subject)
    }
}

/// What `/health/ready` answers.
#[derive(Debug, Clone, Serialize)]
pub struct Readiness {
    pub ready: bool,
    pub store: Result<(), String>,
    pub plugins_scanned: bool,
    pub plugins_loaded: usize,
    pub plugins_rejected: Vec<String>,
    pub alarms: Vec<Alarm>,
}

impl Runtime {
    /// Count a sweep's listings and AWS calls, and remember consecutive failures.
    pub fn note_sweep(&self, report: &SweepReport) {
        let m = &self.metrics;
        let result = if report.failed() {
            "partial"
        } else {
            "complete"
        };
        m.sweeps.get_or_create(&labels([("result", result)])).inc();
        let mut failures = self
            .observed
            .listing_failures
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        for s in &report.scopes {
            let result = match (s.complete, s.error_kind) {
                (true, _) => "complete".to_string(),
                (false, Some(kind)) => kind.to_string().replace(' ', "-"),
                (false, None) => "failed".to_string(),
            };
            m.listings
                .get_or_create(&labels([
                    ("account", &s.account_id),
                    ("region", &s.region),
                    ("type", &s.resource_type),
                    ("result", &result),
                ]))
                .inc();
            if s.error_kind == Some(crate::watch::WatchErrorKind::Throttled) {
                m.aws_throttles
                    .get_or_create(&labels([
                        ("account", &s.account_id),
                        ("type", &s.resource_type),
                    ]))
                    .inc();
            }
            let key = (
                s.account_id.clone(),
                s.region.clone(),
                s.resource_type.clone(),
            );
            if s.complete {
                failures.remove(&key);
            } else {
                *failures.entry(key).or_default() += 1;
            }
        }
        for ((account, service), n) in &report.account_calls {
            m.aws_calls
                .get_or_create(&labels([("account", account), ("service", service)]))
                .inc_by(*n);
        }
        for (account, n) in &report.account_retries {
            m.aws_retries
                .get_or_create(&labels([("account", account)]))
                .inc_by(*n);
        }
    }

    /// Every problem there is now.
    pub async fn alarms(&self) -> Vec<Alarm> {
        let config = self.config();
        let mut out = Vec::new();
        let now = now_ms();
        // Listings: stale beyond twice their interval, or failing again and again.
        let ages = match self.store() {
            Ok(store) => store.listing_ages().await.unwrap_or_default(),
            Err(_) => Vec::new(),
        };
        let home = config
            .aws
            .region
            .clone()
            .unwrap_or_else(|| "us-east-1".into());
        let failures = self
            .observed
            .listing_failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        // Indexed once per pass: accounts × types × regions look them up.
        let mut last_complete: HashMap<(&str, &str, &str), Option<i64>> = HashMap::new();
        let mut regions_of: HashMap<(&str, &str), Vec<String>> = HashMap::new();
        for a in &ages {
            last_complete.insert(
                (&a.account_id, &a.region, &a.resource_type),
                a.last_complete_ms,
            );
            regions_of
                .entry((&a.account_id, &a.resource_type))
                .or_default()
                .push(a.region.clone());
        }
        for account in watched_accounts(&config, None) {
            let mut stale: Vec<String> = Vec::new();
            let mut failing: Vec<String> = Vec::new();
            for w in registry() {
                for t in w.resource_types() {
                    let regions: Vec<String> = match w.region_scope() {
                        RegionScope::Global => vec![GLOBAL_REGION.to_string()],
                        RegionScope::PerRegion if !account.regions.is_empty() => {
                            account.regions.clone()
                        }
                        // The home region, wherever the sweeps found it to be (the hub's
                        // region may come from its environment, which only a sweep reads).
                        RegionScope::PerRegion | RegionScope::Located => {
                            match regions_of.get(&(account.id.as_str(), *t)) {
                                Some(rs) => rs.clone(),
                                None => vec![home.clone()],
                            }
                        }
                    };
                    let limit = 2 * config.watch.interval(t).as_millis() as i64;
                    for region in regions {
                        let last = last_complete
                            .get(&(account.id.as_str(), region.as_str(), *t))
                            .copied()
                            .flatten()
                            .unwrap_or(0);
                        let scope = format!("{region}/{t}");
                        if now - last.max(self.observed.started_ms) > limit {
                            stale.push(scope.clone());
                        }
                        let n = failures
                            .get(&(account.id.clone(), region.clone(), t.to_string()))
                            .copied()
                            .unwrap_or(0);
                        if n >= config.monitor.failed_listings {
                            failing.push(scope);
                        }
                    }
                }
            }
            for (kind, scopes) in [
                (AlarmKind::StaleListing, stale),
                (AlarmKind::FailingListing, failing),
            ] {
                if scopes.is_empty() {
                    continue;
                }
                out.push(Alarm {
                    kind,
                    subject: account.id.clone(),
                    account_id: account.id.clone(),
                    notifier: None,
                    detail: scope_summary(&account.id, kind, &scopes),
                });
            }
        }
        // Notifiers whose deliveries keep failing.
        if let Ok(store) = self.store() {
            for (id, p) in self.plugins.snapshot().iter() {
                if p.kind() != PluginKind::Notifier {
                    continue;
                }
                let Ok(stats) = store.outbox_stats(id).await else {
                    continue;
                };
                if stats.max_attempts >= u64::from(config.monitor.failed_deliveries) {
                    out.push(Alarm {
                        kind: AlarmKind::FailingNotifier,
                        subject: id.clone(),
                        account_id: "simian".into(),
                        notifier: Some(id.clone()),
                        detail: format!(
                            "notifier {id}: {} batches waiting, {} failing; deliveries failed {} or more times in a row",
                            stats.pending, stats.failing, config.monitor.failed_deliveries
                        ),
                    });
                }
            }
        }
        out.extend(self.budget_alarms());
        // The event queue: unreadable, or what arrives is old.
        if config.events.queue_url.is_some() {
            let receive_failures = self.observed.receive_failures.load(Ordering::Relaxed);
            if receive_failures >= 3 {
                out.push(Alarm {
                    kind: AlarmKind::EventQueue,
                    subject: "events".into(),
                    account_id: "simian".into(),
                    notifier: None,
                    detail: "the event queue could not be read 3 or more times in a row".into(),
                });
            }
            let lag = self.metrics.event_lag.get_or_create(&vec![]).get();
            if lag > config.events.lag_alarm_seconds as f64 {
                out.push(Alarm {
                    kind: AlarmKind::EventLag,
                    subject: "events".into(),
                    account_id: "simian".into(),
                    notifier: None,
                    detail: format!(
                        "events arrive more than {} s after they happened",
                        config.events.lag_alarm_seconds
                    ),
                });
            }
        }
        out
    }

    /// Store reachable, plugins scanned and loaded, and no stale or failing listing.
    pub async fn readiness(&self) -> Readiness {
        let store = match self.store() {
            Ok(s) => s.ping().await.map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        let statuses = self.plugins.statuses().await;
        let plugins_rejected: Vec<String> = statuses
            .iter()
            .filter(|s| s.status == "rejected")
            .map(|s| s.id.clone().unwrap_or_else(|| s.dir.display().to_string()))
            .collect();
        let plugins_loaded = statuses.iter().filter(|s| s.status == "loaded").count();
        let alarms: Vec<Alarm> = self
            .alarms()
            .await
            .into_iter()
            .filter(|a| matches!(a.kind, AlarmKind::StaleListing | AlarmKind::FailingListing))
            .collect();
        let plugins_scanned = self.observed.scanned.load(Ordering::Relaxed);
        Readiness {
            ready: store.is_ok()
                && plugins_scanned
                && plugins_rejected.is_empty()
                && alarms.is_empty(),
            store,
            plugins_scanned,
            plugins_loaded,
            plugins_rejected,
            alarms,
        }
    }

    /// `/metrics`: the counters, with the gauges read now.
    pub async fn scrape(&self) -> String {
        let m = &self.metrics;
        let now = now_ms();
        if let Ok(store) = self.store() {
            m.listing_age.clear();
            for a in store.listing_ages().await.unwrap_or_default() {
                if let Some(last) = a.last_complete_ms {
                    m.listing_age
                        .get_or_create(&labels([
                            ("account", &a.account_id),
                            ("region", &a.region),
                            ("type", &a.resource_type),
                        ]))
                        .set((now - last).max(0) as f64 / 1000.0);
                }
            }
        }
        for s in self.plugins.statuses().await {
            let (Some(id), Some(c)) = (&s.id, &s.counters) else {
                continue;
            };
            let l = labels([("plugin", id)]);
            m.audit_calls.get_or_create(&l).set(c.calls as f64);
            m.audit_seconds
                .get_or_create(&l)
                .set(c.total_time_ms / 1000.0);
            m.plugin_traps.get_or_create(&l).set(c.traps as f64);
            m.plugin_timeouts.get_or_create(&l).set(c.timeouts as f64);
            if let Some(p) = self.progress.get(id) {
                m.reaudit_done.get_or_create(&l).set(p.done as f64);
                m.reaudit_total.get_or_create(&l).set(p.total as f64);
            }
            if s.kind == Some(PluginKind::Notifier)
                && let Ok(store) = self.store()
                && let Ok(stats) = store.outbox_stats(id).await
            {
                let l = labels([("notifier", id)]);
                m.outbox_depth.get_or_create(&l).set(stats.pending as f64);
                m.outbox_failing.get_or_create(&l).set(stats.failing as f64);
            }
        }
        self.export_budgets();
        m.alarms.clear();
        let raised: Vec<Alarm> = self
            .observed
            .raised
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect();
        for a in raised {
            m.alarms
                .get_or_create(&labels([
                    ("kind", a.kind.as_str()),
                    ("subject", &a.subject),
                ]))
                .set(1.0);
        }
        m.render()
    }

    /// One pass of the monitor: raise what is new, clear what is gone. Returns the alarms
    /// raised and cleared.
    pub async fn check_health(&self) -> (Vec<Alarm>, Vec<Alarm>) {
        let now: BTreeMap<String, Alarm> = self
            .alarms()
            .await
            .into_iter()
            .map(|a| (a.key(), a))
            .collect();
        let (raised, cleared) = {
            let mut known = self
                .observed
                .raised
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            let raised: Vec<Alarm> = now
                .iter()
                .filter(|(k, _)| !known.contains_key(*k))
                .map(|(_, a)| a.clone())
                .collect();
            let cleared: Vec<Alarm> = known
                .iter()
                .filter(|(k, _)| !now.contains_key(*k))
                .map(|(_, a)| a.clone())
                .collect();
            for a in &raised {
                known.insert(a.key(), a.clone());
            }
            for a in &cleared {
                known.remove(&a.key());
            }
            (raised, cleared)
        };
        for a in &raised {
            tracing::warn!(kind = a.kind.as_str(), subject = %a.subject, "monitoring alarm: {}", a.detail);
        }
        for a in &cleared {
            tracing::info!(kind = a.kind.as_str(), subject = %a.subject, "monitoring alarm cleared");
        }
        self.send_notices(&raised, &cleared).await;
        (raised, cleared)
    }

    async fn send_notices(&self, raised: &[Alarm], cleared: &[Alarm]) {
        let Ok(store) = self.store() else {
            return;
        };
        // One batch per alarm, so each goes to every notifier but the one it is about.
        for (alarm, is_raised) in raised
            .iter()
            .map(|a| (a, true))
            .chain(cleared.iter().map(|a| (a, false)))
        {
            let mut notices = NoticesByAccount::new();
            notices
                .entry(alarm.account_id.clone())
                .or_default()
                .push(notice(alarm, is_raised));
            let skip = alarm.notifier.as_deref();
            match crate::notify::enqueue_except(store, &self.plugins, "monitor", &notices, skip)
                .await
            {
                Ok(_) => self.notify_wake.notify_one(),
                Err(e) => tracing::error!("cannot queue a monitoring notice: {e}"),
            }
        }
    }
}

/// At most a handful of scopes by name, then a count.
fn scope_summary(account: &str, kind: AlarmKind, scopes: &[String]) -> String {
    const SHOWN: usize = 5;
    let what = match kind {
        AlarmKind::StaleListing => "no complete listing within twice the interval",
        _ => "failed again and again",
    };
    let mut names: Vec<&str> = scopes.iter().take(SHOWN).map(String::as_str).collect();
    let more = scopes.len().saturating_sub(SHOWN);
    let more = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    names.sort();
    format!(
        "account {account}: {} listing(s) {what}: {}{more}",
        scopes.len(),
        names.join(", ")
    )
}

/// A monitoring notice as notifiers take any other: an item (the alarm) with a new issue
/// when raised, the same issue fixed when cleared.
fn notice(alarm: &Alarm, raised: bool) -> Notice {
    let item = Item {
        resource_type: NOTICE_TYPE.into(),
        resource_id: alarm.key(),
        resource_name: format!("{} ({})", alarm.kind.title(), alarm.subject),
        arn: String::new(),
        account_id: alarm.account_id.clone(),
        region: GLOBAL_REGION.into(),
        capture_time: crate::when::rfc3339(now_ms()),
        configuration: serde_json::json!({
            "kind": alarm.kind.as_str(),
            "subject": alarm.subject,
            "detail": alarm.detail,
            "raised": raised,
        })
        .to_string(),
        supplementary_configuration: "{}".into(),
        tags: Vec::new(),
    };
    let issue = NoticeIssue {
        check_id: alarm.kind.as_str().into(),
        title: format!("Monitoring: {}", alarm.kind.title()),
        score: 10,
        notes: alarm.detail.clone(),
        remediation: Some(
            "See `simian sweeps`, `simian plugins` and GET /health/ready on the host.".into(),
        ),
    };
    Notice {
        kind: "modified".into(),
        item: item.to_envelope(),
        previous_configuration: None,
        new_issues: if raised {
            vec![issue.clone()]
        } else {
            Vec::new()
        },
        regressed_issues: Vec::new(),
        fixed_issues: if raised { Vec::new() } else { vec![issue] },
        still_open_issues: Vec::new(),
        actor: None,
    }
}

/// The check loop of `simian run`; `budgets` also runs a pass when a plugin resumes.
pub struct Monitor {
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Monitor {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub fn start(runtime: Arc<Runtime>) -> Monitor {
    let task = tokio::spawn(async move {
        loop {
            let every = Duration::from_secs(runtime.config().monitor.check_seconds.max(1));
            tokio::time::sleep(every).await;
            runtime.check_health().await;
        }
    });
    Monitor { task }
}
