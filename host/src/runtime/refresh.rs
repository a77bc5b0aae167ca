//! Event-driven refresh in `simian run`: long-polls the `[events]` queue, and for each batch
//! of CloudTrail events (debounced, so many events about one item make one refresh)
//! re-describes the items they name with the watchers' own code, records what changed as
//! revisions carrying the actor, audits and notifies as after a sweep, and only then deletes
//! the messages.
//!
//! It must never turn an event into state (the describe does that), never delete a message
//! before what it set off is committed, and never let one bad message hold up the queue.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use simian_model::accounts::INVENTORY_TYPES;
use simian_model::actor::{Actor, Via};
use tokio::sync::mpsc;

use super::Runtime;
use super::sweep::watched_accounts;
use crate::config::Config;
use crate::events::EventResult;
use crate::events::map::targets;
use crate::events::message::{self, CloudEvent};
use crate::events::queue::{EventQueue, Received};
use crate::item::Item;
use crate::metrics::labels;
use crate::resource_types::GLOBAL_REGION;
use crate::store::{Change, Listing, Refresh, Scope};
use crate::text::for_log;
use crate::watch::session::{AccountSession, home_region, hub_config};
use crate::watch::{RegionScope, Watcher, answers_to, watcher_of};

/// Messages one refresh takes at most; the rest wait for the next.
const MAX_BATCH: usize = 1_000;
/// After a failed receive, wait before asking again.
const RECEIVE_BACKOFF: Duration = Duration::from_secs(5);
/// Sessions (assumed roles) are reused this long.
const SESSION_TTL: Duration = Duration::from_secs(15 * 60);

/// The running refresh; dropping it stops it.
pub struct EventRefresh {
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for EventRefresh {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// Start the refresh if `[events] queue_url` is set (a changed queue takes a restart).
pub async fn start(runtime: Arc<Runtime>) -> Option<EventRefresh> {
    let config = runtime.config();
    let url = config.events.queue_url.clone()?;
    let hub = hub_config(&config.aws).await;
    let queue = Arc::new(EventQueue::new(&hub, &url));
    let (tx, mut rx) = mpsc::channel::<Received>(MAX_BATCH * 2);
    let receiver = {
        let queue = queue.clone();
        let runtime = runtime.clone();
        tokio::spawn(async move {
            loop {
                let wait = runtime.config().events.wait_seconds;
                match queue.receive(wait).await {
                    Ok(messages) => {
                        runtime
                            .observed
                            .receive_failures
                            .store(0, Ordering::Relaxed);
                        // A drained queue lags by nothing, however late the last batch was.
                        if messages.is_empty() {
                            runtime.metrics.event_lag.get_or_create(&vec![]).set(0.0);
                        }
                        for m in messages {
                            if tx.send(m).await.is_err() {
                                return;
                            }
                        }
                    }
                    Err(e) => {
                        runtime
                            .observed
                            .receive_failures
                            .fetch_add(1, Ordering::Relaxed);
                        tracing::warn!("cannot read the event queue: {}", for_log(&e.to_string()));
                        tokio::time::sleep(RECEIVE_BACKOFF).await;
                    }
                }
            }
        })
    };
    let refresher = tokio::spawn(async move {
        let mut sessions = Sessions::default();
        while let Some(first) = rx.recv().await {
            let debounce = Duration::from_millis(runtime.config().events.debounce_ms);
            let deadline = tokio::time::Instant::now() + debounce;
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                tokio::select! {
                    m = rx.recv() => match m {
                        Some(m) => batch.push(m),
                        None => break,
                    },
                    _ = tokio::time::sleep_until(deadline) => break,
                }
            }
            let outcome = refresh(&runtime, &mut sessions, batch).await;
            if !outcome.done.is_empty()
                && let Err(e) = queue.delete(&outcome.done).await
            {
                tracing::warn!("{}", for_log(&e.to_string()));
            }
        }
    });
    tracing::info!(queue = %for_log(&url), "following CloudTrail events");
    Some(EventRefresh {
        tasks: vec![receiver, refresher],
    })
}

/// Assumed-role sessions by account, reused across batches.
#[derive(Default)]
pub struct Sessions {
    hub: Option<aws_config::SdkConfig>,
    config: Option<Arc<Config>>,
    open: HashMap<String, (Arc<AccountSession>, Instant)>,
}

impl Sessions {
    /// A reloaded configuration may have changed roles or AWS settings: start afresh.
    async fn follow(&mut self, config: &Arc<Config>) {
        if !self.config.as_ref().is_some_and(|c| Arc::ptr_eq(c, config)) {
            self.open.clear();
            self.hub = Some(hub_config(&config.aws).await);
            self.config = Some(config.clone());
        }
    }

    /// The home region, as the sweep has it.
    async fn home(&mut self, config: &Arc<Config>) -> String {
        self.follow(config).await;
        match &self.hub {
            Some(hub) => home_region(&config.aws, hub),
            None => config
                .aws
                .region
                .clone()
                .unwrap_or_else(|| "us-east-1".into()),
        }
    }

    async fn get(
        &mut self,
        config: &Arc<Config>,
        account: &str,
    ) -> Result<Arc<AccountSession>, String> {
        self.follow(config).await;
        if let Some((s, at)) = self.open.get(account)
            && at.elapsed() < SESSION_TTL
        {
            return Ok(s.clone());
        }
        let Some(a) = config.accounts.iter().find(|a| a.id == account) else {
            return Err(format!("account {account} is not configured"));
        };
        let hub = self.hub.as_ref().ok_or("no hub configuration")?;
        let session = Arc::new(
            AccountSession::open(hub, a, &config.aws)
                .await
                .map_err(|e| e.to_string())?,
        );
        self.open
            .insert(account.to_string(), (session.clone(), Instant::now()));
        Ok(session)
    }
}

/// What became of one batch.
#[derive(Debug, Default)]
pub struct BatchOutcome {
    /// Receipts of messages dealt with (recorded, or dropped for good): delete these.
    pub done: Vec<String>,
    pub results: BTreeMap<EventResult, u64>,
    pub changes: Vec<Change>,
}

/// The events naming one (account, type, describe region).
#[derive(Default)]
struct Group {
    refs: BTreeSet<String>,
    /// The latest event naming each ref.
    actor_of: HashMap<String, (i64, Actor)>,
    events: Vec<(String, String)>,
    receipts: Vec<String>,
}

type GroupKey = (String, &'static str, String);

/// A message naming watched items, before the duplicate check.
struct Candidate {
    message: Received,
    event: CloudEvent,
    named: Vec<crate::events::map::Target>,
    /// (resource type, region to describe it in) per named item.
    places: Vec<(&'static str, String)>,
}

/// The region to describe an event's resource in, or None if it is not one simian watches.
fn describe_region(
    config: &Config,
    home: &str,
    account: &str,
    watcher: &dyn Watcher,
    event: &CloudEvent,
) -> Option<String> {
    match watcher.region_scope() {
        RegionScope::Global | RegionScope::Located => Some(home.to_string()),
        RegionScope::PerRegion => {
            let region = event.region.clone()?;
            let a = config.accounts.iter().find(|a| a.id == account)?;
            let watched = if a.regions.is_empty() {
                region == home
            } else {
                a.regions.contains(&region)
            };
            watched.then_some(region)
        }
    }
}

/// Sort one batch into groups to refresh, and the messages to drop.
async fn sort(
    runtime: &Runtime,
    config: &Config,
    home: &str,
    batch: Vec<Received>,
    out: &mut BatchOutcome,
) -> BTreeMap<GroupKey, Group> {
    let watched: Vec<&str> = watched_accounts(config, None)
        .iter()
        .map(|a| a.id.as_str())
        .collect();
    let dismiss = |out: &mut BatchOutcome, r: EventResult, receipt: String| {
        *out.results.entry(r).or_default() += 1;
        out.done.push(receipt);
    };
    let mut candidates: Vec<Candidate> = Vec::new();
    for m in batch {
        let event = match message::parse(&m.body) {
            Ok(e) => e,
            Err(e) => {
                tracing::warn!(message = %for_log(&m.message_id), "dropping an event message: {e}");
                dismiss(out, EventResult::Invalid, m.receipt);
                continue;
            }
        };
        if event.error_code.is_some() {
            dismiss(out, EventResult::FailedCall, m.receipt);
            continue;
        }
        let Some(account) = event
            .account_id
            .clone()
            .filter(|a| watched.contains(&a.as_str()))
        else {
            dismiss(out, EventResult::Unwatched, m.receipt);
            continue;
        };
        let named = targets(
            &event.actor.event_source,
            &event.actor.event_name,
            &event.request,
            &event.response,
        );
        let mut places = Vec::new();
        for t in &named {
            if let Some(w) = watcher_of(t.resource_type)
                && let Some(region) = describe_region(config, home, &account, w, &event)
            {
                places.push((t.resource_type, region));
            }
        }
        if named.is_empty() {
            dismiss(out, EventResult::Unmapped, m.receipt);
        } else if places.is_empty() {
            dismiss(out, EventResult::Unwatched, m.receipt);
        } else {
            candidates.push(Candidate {
                message: m,
                event,
                named,
                places,
            });
        }
    }
    // A redelivered event was already recorded: nothing to do but forget the message.
    let ids: Vec<String> = candidates
        .iter()
        .map(|c| c.event.actor.event_id.clone())
        .collect();
    let seen = match runtime.store() {
        Ok(store) => store.seen_events(&ids).await.unwrap_or_default(),
        Err(_) => Default::default(),
    };
    let mut in_batch: BTreeSet<String> = BTreeSet::new();
    let mut groups: BTreeMap<GroupKey, Group> = BTreeMap::new();
    for Candidate {
        message: m,
        event,
        named,
        places,
    } in candidates
    {
        let id = event.actor.event_id.clone();
        if seen.contains(&id) || !in_batch.insert(id.clone()) {
            dismiss(out, EventResult::Duplicate, m.receipt);
            continue;
        }
        *out.results.entry(EventResult::Mapped).or_default() += 1;
        let account = event.account_id.clone().unwrap_or_default();
        for (resource_type, region) in places {
            let g = groups
                .entry((account.clone(), resource_type, region))
                .or_default();
            let time = event.event_time_ms.unwrap_or(0);
            for t in named.iter().filter(|t| t.resource_type == resource_type) {
                g.refs.insert(t.reference.clone());
                let newer = g
                    .actor_of
                    .get(&t.reference)
                    .is_none_or(|(at, _)| *at <= time);
                if newer {
                    g.actor_of
                        .insert(t.reference.clone(), (time, event.actor.clone()));
                }
            }
            g.events.push((id.clone(), event.actor.event_name.clone()));
            g.receipts.push(m.receipt.clone());
        }
    }
    groups
}

/// The latest actor among the refs an item answers to.
fn actor_for(item: &Item, group: &Group) -> Option<Actor> {
    group
        .actor_of
        .iter()
        .filter(|(r, _)| answers_to(item, r))
        .max_by_key(|(_, (at, _))| *at)
        .map(|(_, (_, a))| a.clone())
}

/// Describe one group's items and work out the refresh of each scope it touches.
async fn plan_group(
    runtime: &Runtime,
    session: &AccountSession,
    key: &GroupKey,
    group: &Group,
) -> Result<BTreeMap<Scope, Refresh>, String> {
    let (account, resource_type, region) = key;
    let watcher = watcher_of(resource_type).ok_or("no watcher")?;
    let refs: Vec<String> = group.refs.iter().cloned().collect();
    let found = watcher
        .describe(session, region, resource_type, &refs)
        .await
        .map_err(|e| e.message)?;
    let scope_region = |item_region: &str| match watcher.region_scope() {
        RegionScope::Global => GLOBAL_REGION.to_string(),
        _ => item_region.to_string(),
    };
    let scope_of = |r: String| Scope {
        account_id: account.clone(),
        region: r,
        resource_type: resource_type.to_string(),
    };
    let mut plans: BTreeMap<Scope, Refresh> = BTreeMap::new();
    let missing: Vec<String> = refs
        .iter()
        .filter(|r| !found.iter().any(|i| answers_to(i, r)))
        .cloned()
        .collect();
    for item in found.into_iter().filter(|i| &i.account_id == account) {
        let plan = plans
            .entry(scope_of(scope_region(&item.region)))
            .or_default();
        if let Some(actor) = actor_for(&item, group) {
            plan.actors.insert(item.resource_id.clone(), actor);
        }
        plan.found.push(item);
    }
    if !missing.is_empty() {
        let store = runtime.store().map_err(|e| e.to_string())?;
        let stored = store
            .live_items_named(account, resource_type, &missing)
            .await
            .map_err(|e| e.to_string())?;
        for s in stored {
            // A per-region type's namesake in another region is another resource.
            if watcher.region_scope() == RegionScope::PerRegion && &s.item.region != region {
                continue;
            }
            let plan = plans.entry(scope_of(s.item.region.clone())).or_default();
            if let Some(actor) = actor_for(&s.item, group) {
                plan.actors.insert(s.item.resource_id.clone(), actor);
            }
            plan.gone.push(s.item.resource_id);
        }
    }
    // The events are remembered with the group's first scope (or an empty refresh of the
    // scope described, when the describe found nothing to record).
    let first = match plans.keys().next() {
        Some(s) => s.clone(),
        None => scope_of(scope_region(region)),
    };
    plans.entry(first).or_default().events = group.events.clone();
    Ok(plans)
}

/// One batch: sort, describe, record, audit, notify. Returns what to delete from the queue.
pub async fn refresh(
    runtime: &Runtime,
    sessions: &mut Sessions,
    batch: Vec<Received>,
) -> BatchOutcome {
    let config = runtime.config();
    let started = Instant::now();
    let mut out = BatchOutcome::default();
    let home = sessions.home(&config).await;
    let groups = sort(runtime, &config, &home, batch, &mut out).await;
    let oldest = groups
        .values()
        .flat_map(|g| g.actor_of.values().map(|(t, _)| *t))
        .min();
    if let Some(oldest) = oldest.filter(|t| *t > 0) {
        let lag = (crate::store::now_ms() - oldest).max(0) as f64 / 1000.0;
        runtime.metrics.event_lag.get_or_create(&vec![]).set(lag);
    }
    if let Err(e) = record_groups(runtime, &config, sessions, groups, &mut out).await {
        tracing::error!(
            "event refresh could not be recorded: {}",
            for_log(&format!("{e:#}"))
        );
    }
    for (r, n) in &out.results {
        runtime
            .metrics
            .events
            .get_or_create(&labels([("result", r.as_str())]))
            .inc_by(*n);
    }
    runtime
        .metrics
        .event_refresh_seconds
        .get_or_create(&vec![])
        .inc_by(started.elapsed().as_secs_f64());
    out
}

async fn record_groups(
    runtime: &Runtime,
    config: &Arc<Config>,
    sessions: &mut Sessions,
    groups: BTreeMap<GroupKey, Group>,
    out: &mut BatchOutcome,
) -> anyhow::Result<()> {
    if groups.is_empty() {
        return Ok(());
    }
    let store = runtime.store()?;
    let sweep = store.begin_sweep_via(Via::Event).await?;
    for (key, group) in &groups {
        let planned = match sessions.get(config, &key.0).await {
            Ok(session) => plan_group(runtime, &session, key, group).await,
            Err(e) => Err(e),
        };
        let plans = match planned {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(account = %key.0, resource_type = key.1, region = %key.2,
                    "event refresh failed; the events will be retried: {}", for_log(&e));
                *out.results.entry(EventResult::Retried).or_default() +=
                    group.receipts.len() as u64;
                continue;
            }
        };
        let mut recorded = true;
        for (scope, plan) in plans {
            match store
                .apply_listing(sweep, &scope, Listing::Refresh(plan))
                .await
            {
                Ok(mut summary) => out.changes.append(&mut summary.changes),
                Err(e) => {
                    tracing::warn!(%scope, "event refresh not recorded; the events will be retried: {e}");
                    recorded = false;
                }
            }
        }
        if recorded {
            out.done.extend(group.receipts.iter().cloned());
        } else {
            *out.results.entry(EventResult::Retried).or_default() += group.receipts.len() as u64;
        }
    }
    store.finish_sweep(sweep).await?;
    if out.changes.is_empty() {
        return Ok(());
    }
    if out
        .changes
        .iter()
        .any(|c| INVENTORY_TYPES.contains(&c.key.resource_type.as_str()))
    {
        runtime.services.refresh_inventory(store, config).await?;
    }
    let audit = runtime
        .judge_and_notify(&out.changes, &format!("event:{}", sweep.0))
        .await?;
    tracing::info!(
        sweep = sweep.0,
        changes = out.changes.len(),
        new = audit.new,
        fixed = audit.fixed,
        "recorded what CloudTrail events named"
    );
    Ok(())
}
