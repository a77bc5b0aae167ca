//! The notify pipeline: turns what a sweep (or a re-audit) changed into batches of changes —
//! one per account — queues a copy for every loaded notifier in the persistent outbox, and
//! delivers the outbox, retrying failures with backoff until they succeed.
//!
//! Only durable item changes and new, regressed or fixed issues are news: an issue that stays
//! open is never reported twice. It must never drop a queued batch: a batch leaves the outbox
//! only by being delivered. A notifier paused over its budget keeps its batches, held back
//! until its window rolls over, with no delivery attempt counted.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use futures::future::join_all;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::Notify;

use crate::config::NotifyConfig;
use crate::item::Item;
use crate::pipeline::PipelineSummary;
use crate::plugin::contract;
use crate::plugin::{PluginKind, PluginSet};
use crate::services::items::ItemSource;
use crate::store::{Change, ChangeKind, OutboxEntry, Store, StoreError, Transition, now_ms};
use simian_model::actor::Actor;

/// Batches handed to notifiers per pass of the delivery loop.
const DELIVERY_BATCH: u32 = 32;
/// Longest the delivery loop sleeps without looking at the outbox.
const IDLE_CHECK: Duration = Duration::from_secs(5);

/// One change as queued in the outbox (JSON), and as handed to a notifier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    /// `created`, `modified` or `deleted`. A `modified` notice without a previous
    /// configuration reports issues that changed while the configuration did not.
    pub kind: String,
    /// The item in the AWS Config envelope (as last seen, for `deleted`).
    pub item: Value,
    pub previous_configuration: Option<String>,
    pub new_issues: Vec<NoticeIssue>,
    pub regressed_issues: Vec<NoticeIssue>,
    pub fixed_issues: Vec<NoticeIssue>,
    pub still_open_issues: Vec<NoticeIssue>,
    /// Who made the change, when CloudTrail said (absent in entries queued before it was
    /// recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<Actor>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeIssue {
    pub check_id: String,
    pub title: String,
    pub score: u32,
    pub notes: String,
    pub remediation: Option<String>,
}

/// The notices of one sweep or re-audit, by account id.
pub type NoticesByAccount = BTreeMap<String, Vec<Notice>>;

/// Build the notices for a sweep's item changes and the issue transitions its audit recorded
/// (`changes` is empty for a re-audit, which changes issues only).
pub async fn collect(
    store: &Store,
    changes: &[Change],
    audit: &PipelineSummary,
) -> Result<NoticesByAccount, StoreError> {
    // Item id -> (kind, revision, who) of its durable change, if it had one.
    let mut durable: BTreeMap<i64, (ChangeKind, i64, Option<&Actor>)> = BTreeMap::new();
    for c in changes {
        durable.insert(c.item_id, (c.kind, c.revision_id, c.actor.as_ref()));
    }
    let mut ids: Vec<i64> = durable.keys().copied().collect();
    ids.extend(audit.transitions.keys().copied());

    let mut issues = store.issues_of_items(&ids).await?;
    let mut out = NoticesByAccount::new();
    for stored in store.items_by_ids(&ids).await? {
        let item_id = stored.id;
        let transitions: HashMap<i64, Transition> = audit
            .transitions
            .get(&item_id)
            .map(|list| list.iter().map(|t| (t.issue_id, t.transition)).collect())
            .unwrap_or_default();
        let mut notice = Notice {
            kind: String::new(),
            item: stored.item.to_envelope(),
            previous_configuration: None,
            new_issues: Vec::new(),
            regressed_issues: Vec::new(),
            fixed_issues: Vec::new(),
            still_open_issues: Vec::new(),
            actor: None,
        };
        for issue in issues.remove(&item_id).unwrap_or_default() {
            // Checks the operator disabled are nobody's news.
            if issue.disabled {
                continue;
            }
            let brief = NoticeIssue {
                check_id: issue.check_id,
                title: issue.title,
                score: issue.score,
                notes: issue.notes,
                remediation: issue.remediation,
            };
            match transitions.get(&issue.id) {
                Some(Transition::New) => notice.new_issues.push(brief),
                Some(Transition::Regressed) => notice.regressed_issues.push(brief),
                Some(Transition::Fixed) => notice.fixed_issues.push(brief),
                _ if issue.open => notice.still_open_issues.push(brief),
                _ => {}
            }
        }
        match durable.get(&item_id) {
            Some((kind, revision, actor)) => {
                notice.kind = kind.as_str().to_string();
                notice.actor = actor.cloned();
                notice.previous_configuration = match kind {
                    ChangeKind::Created => None,
                    ChangeKind::Modified => store
                        .previous_document(item_id, *revision)
                        .await?
                        .and_then(|d| d.get("configuration").map(Value::to_string)),
                    // The item is shown as it was last seen; that is also what went away.
                    ChangeKind::Deleted => Some(stored.item.configuration.clone()),
                };
            }
            None => {
                let news = notice.new_issues.len()
                    + notice.regressed_issues.len()
                    + notice.fixed_issues.len();
                if news == 0 {
                    continue;
                }
                notice.kind = "modified".to_string();
            }
        }
        out.entry(stored.item.account_id.clone())
            .or_default()
            .push(notice);
    }
    Ok(out)
}

/// Queue the notices for every loaded notifier: one outbox entry per (notifier, account).
/// Returns how many entries were queued.
pub async fn enqueue(
    store: &Store,
    set: &PluginSet,
    origin: &str,
    notices: &NoticesByAccount,
) -> Result<usize, StoreError> {
    enqueue_except(store, set, origin, notices, None).await
}

/// [`enqueue`] for every notifier but `skip` (a notice about a failing notifier is no use to
/// that notifier).
pub async fn enqueue_except(
    store: &Store,
    set: &PluginSet,
    origin: &str,
    notices: &NoticesByAccount,
    skip: Option<&str>,
) -> Result<usize, StoreError> {
    let notifiers: Vec<String> = set
        .snapshot()
        .values()
        .filter(|p| p.kind() == PluginKind::Notifier)
        .map(|p| p.info.id.clone())
        .filter(|id| Some(id.as_str()) != skip)
        .collect();
    let mut entries = Vec::new();
    for (account, list) in notices.iter().filter(|(_, l)| !l.is_empty()) {
        let payload = serde_json::to_string(list).map_err(|e| StoreError::Corrupt {
            what: "notification payload".into(),
            message: e.to_string(),
        })?;
        for plugin in &notifiers {
            entries.push((
                plugin.clone(),
                account.clone(),
                origin.to_string(),
                payload.clone(),
            ));
        }
    }
    Ok(store.enqueue_notifications(&entries).await?.len())
}

/// Collect, queue and wake the deliverer, logging rather than failing: notification trouble
/// must never stop sweeps or audits.
pub async fn publish(
    store: &Store,
    set: &PluginSet,
    origin: &str,
    changes: &[Change],
    audit: &PipelineSummary,
    wake: &Notify,
) {
    let queued = match collect(store, changes, audit).await {
        Ok(notices) => enqueue(store, set, origin, &notices).await,
        Err(e) => Err(e),
    };
    match queued {
        Ok(0) => {}
        Ok(n) => {
            tracing::info!(origin, batches = n, "notifications queued");
            wake.notify_one();
        }
        Err(e) => tracing::error!(origin, "notifications could not be queued: {e}"),
    }
}

/// The wait before attempt `attempts + 1`, doubling from the initial delay up to the cap.
pub fn backoff(config: &NotifyConfig, attempts: u32) -> Duration {
    let initial = config.retry_initial_ms.max(1);
    let factor = 1u64 << attempts.min(30);
    Duration::from_millis(
        initial
            .saturating_mul(factor)
            .min(config.retry_max_ms.max(initial)),
    )
}

/// A queued notice as the change a notifier is handed.
fn to_change(notice: &Notice) -> Result<contract::Change, String> {
    let kind = match notice.kind.as_str() {
        "created" => contract::ChangeKind::Created,
        "modified" => contract::ChangeKind::Modified,
        "deleted" => contract::ChangeKind::Deleted,
        other => return Err(format!("unknown change kind `{other}`")),
    };
    let item = Item::from_envelope(&notice.item).map_err(|e| format!("item {e}"))?;
    let issues = |list: &[NoticeIssue]| -> Vec<contract::Issue> {
        list.iter()
            .map(|i| contract::Issue {
                check_id: i.check_id.clone(),
                title: i.title.clone(),
                score: i.score,
                notes: i.notes.clone(),
                remediation: i.remediation.clone(),
            })
            .collect()
    };
    Ok(contract::Change {
        kind,
        item,
        previous_configuration: notice.previous_configuration.clone(),
        new_issues: issues(&notice.new_issues),
        regressed_issues: issues(&notice.regressed_issues),
        fixed_issues: issues(&notice.fixed_issues),
        still_open_issues: issues(&notice.still_open_issues),
        actor: notice.actor.clone(),
    })
}

/// Hand one outbox entry to its notifier. Err is why it was not delivered.
async fn deliver(
    entry: &OutboxEntry,
    set: &PluginSet,
    items: Arc<dyn ItemSource>,
) -> Result<(), String> {
    let plugin = set
        .get(&entry.plugin)
        .filter(|p| p.kind() == PluginKind::Notifier)
        .ok_or_else(|| format!("notifier `{}` is not loaded", entry.plugin))?;
    let notices: Vec<Notice> = serde_json::from_str(&entry.payload)
        .map_err(|e| format!("outbox entry {} is unreadable: {e}", entry.id))?;
    let changes = notices
        .iter()
        .map(to_change)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("outbox entry {}: {e}", entry.id))?;
    match plugin.notify(&changes, items).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(message)) => Err(message),
        Err(failure) => Err(failure.to_string()),
    }
}

/// The delivery loop of `simian run`; stops when dropped.
///
/// Each notifier delivers on its own task, so a notifier that hangs until its budget runs out
/// (or fails forever) delays only its own outbox, never another notifier's.
pub struct Deliverer {
    pub wake: Arc<Notify>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Deliverer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Start delivering; `wake` is what queuing code notifies.
pub fn start(
    store: Store,
    set: Arc<PluginSet>,
    config: NotifyConfig,
    wake: Arc<Notify>,
) -> Deliverer {
    let task =
        {
            let wake = wake.clone();
            tokio::spawn(async move {
                let items: Arc<dyn ItemSource> = Arc::new(store.clone());
                let busy: Arc<std::sync::Mutex<HashSet<String>>> = Arc::default();
                let mut workers = tokio::task::JoinSet::new();
                loop {
                    match store.notifiers_due(now_ms()).await {
                        Ok(plugins) => {
                            for plugin in plugins {
                                let mut in_flight = busy.lock().unwrap_or_else(|p| p.into_inner());
                                if !in_flight.insert(plugin.clone()) {
                                    continue;
                                }
                                drop(in_flight);
                                let (store, set, config, items, busy, wake) = (
                                    store.clone(),
                                    set.clone(),
                                    config.clone(),
                                    items.clone(),
                                    busy.clone(),
                                    wake.clone(),
                                );
                                workers.spawn(async move {
                                if let Err(e) =
                                    deliver_due_for(&store, &set, &config, items, &plugin).await
                                {
                                    tracing::error!(plugin = %plugin, "notification outbox: {e}");
                                }
                                busy.lock().unwrap_or_else(|p| p.into_inner()).remove(&plugin);
                                wake.notify_one();
                            });
                            }
                        }
                        Err(e) => tracing::error!("notification outbox: {e}"),
                    }
                    // Finished workers' results are not needed; reap them so the set stays small.
                    while workers.try_join_next().is_some() {}
                    let nap = match store.next_notification_due().await {
                        // Something due now belongs to a busy notifier: its worker wakes us.
                        Ok(Some(at)) if at <= now_ms() => IDLE_CHECK,
                        Ok(Some(at)) => {
                            Duration::from_millis(u64::try_from(at - now_ms()).unwrap_or(0))
                                .min(IDLE_CHECK)
                        }
                        _ => IDLE_CHECK,
                    };
                    tokio::select! {
                        _ = tokio::time::sleep(nap) => {}
                        _ = wake.notified() => {}
                    }
                }
            })
        };
    Deliverer { wake, task }
}

/// Deliver everything due now, every notifier on its own task; failures are rescheduled with
/// backoff. Returns when all of them are done.
pub async fn deliver_due(
    store: &Store,
    set: &PluginSet,
    config: &NotifyConfig,
    items: Arc<dyn ItemSource>,
) -> Result<(), StoreError> {
    let plugins = store.notifiers_due(now_ms()).await?;
    let runs = plugins
        .iter()
        .map(|plugin| deliver_due_for(store, set, config, items.clone(), plugin));
    for result in join_all(runs).await {
        result?;
    }
    Ok(())
}

/// Deliver one notifier's due entries, oldest first, until none is due.
async fn deliver_due_for(
    store: &Store,
    set: &PluginSet,
    config: &NotifyConfig,
    items: Arc<dyn ItemSource>,
    plugin: &str,
) -> Result<(), StoreError> {
    loop {
        let due = store
            .due_notifications_for(plugin, now_ms(), DELIVERY_BATCH)
            .await?;
        if due.is_empty() {
            return Ok(());
        }
        for entry in &due {
            // Checked per batch: the notifier may spend its budget on the one before.
            if let Some(pause) = set.get(plugin).and_then(|p| p.paused(now_ms())) {
                let held = store
                    .notifications_postponed(plugin, pause.until_ms, &pause.to_string())
                    .await?;
                tracing::info!(plugin, held, "notifications held back: {pause}");
                return Ok(());
            }
            match deliver(entry, set, items.clone()).await {
                Ok(()) => {
                    store.notification_delivered(entry.id).await?;
                    tracing::info!(
                        plugin = %entry.plugin,
                        account = %entry.account_id,
                        origin = %entry.origin,
                        attempts = entry.attempts + 1,
                        "notification delivered"
                    );
                }
                Err(error) => {
                    // Stored and shown: already escaped by the plugin runtime, and cut to
                    // origins here too, whoever wrote it.
                    let error = crate::text::for_log(&error);
                    let wait = backoff(config, entry.attempts);
                    let retry_at = now_ms() + i64::try_from(wait.as_millis()).unwrap_or(i64::MAX);
                    store
                        .notification_failed(entry.id, &error, retry_at)
                        .await?;
                    tracing::warn!(
                        plugin = %entry.plugin,
                        account = %entry.account_id,
                        attempts = entry.attempts + 1,
                        retry_in_ms = wait.as_millis() as u64,
                        "notification not delivered: {error}"
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let config = NotifyConfig {
            retry_initial_ms: 500,
            retry_max_ms: 3_000,
        };
        let waits: Vec<u128> = (0..6).map(|a| backoff(&config, a).as_millis()).collect();
        assert_eq!(waits, [500, 1_000, 2_000, 3_000, 3_000, 3_000]);
        assert_eq!(backoff(&config, u32::MAX).as_millis(), 3_000);
    }
}
