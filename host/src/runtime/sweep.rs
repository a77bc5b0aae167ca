//! One sweep: list every (watched account, resource type, region) and record each listing in
//! the store, in its own transaction. Accounts and services run concurrently within a bound;
//! one failing account, region or listing never stops the others, and a failed listing is
//! recorded as failed (its items left as they were), never as deletions.
//!
//! The runtime's part of a sweep: the listings come from `watch`, which never writes the store;
//! what to audit and notify afterwards is `Runtime::sweep`'s business.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use futures::StreamExt;
use serde::Serialize;

use crate::config::{AccountConfig, Config};
use crate::item::Item;
use crate::resource_types::GLOBAL_REGION;
use crate::store::{ItemFilter, Listing, Scope, ScopeSummary, Store, StoreError, SweepRecord};
use crate::watch::session::{AccountSession, home_region, hub_config};
use crate::watch::{RegionScope, WatchError, WatchErrorKind, Watcher, registry};

#[derive(Debug, Clone, Default)]
pub struct SweepOptions {
    /// Only this account.
    pub account: Option<String>,
    /// Only these resource types (empty: all).
    pub resource_types: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScopeReport {
    pub account_id: String,
    pub region: String,
    pub resource_type: String,
    pub complete: bool,
    pub items: usize,
    pub created: u64,
    pub modified: u64,
    pub deleted: u64,
    pub unchanged: u64,
    pub ephemeral_updates: u64,
    pub error: Option<String>,
    /// Throttled, access denied, not found or other, when the listing failed.
    pub error_kind: Option<WatchErrorKind>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SweepReport {
    pub sweep: SweepRecord,
    pub scopes: Vec<ScopeReport>,
    /// AWS operations by service, across accounts.
    pub calls: BTreeMap<String, u64>,
    /// Retries the SDK made (throttling, 5xx, timeouts).
    pub retries: u64,
    /// Items listed by resource type.
    pub items: BTreeMap<String, usize>,
    /// Every `service:Operation` called.
    pub operations: BTreeSet<String>,
    /// AWS operations by (account, service), for the metrics.
    #[serde(skip)]
    pub account_calls: BTreeMap<(String, String), u64>,
    /// SDK retries by account.
    #[serde(skip)]
    pub account_retries: BTreeMap<String, u64>,
    /// What the sweep changed, for the audit pipeline.
    #[serde(skip)]
    pub changes: Vec<crate::store::Change>,
    /// Filled in by callers that ran the audit pipeline after the sweep.
    pub audit: Option<crate::pipeline::PipelineSummary>,
    pub elapsed_ms: u128,
}

impl SweepReport {
    pub fn failed(&self) -> bool {
        self.scopes.iter().any(|s| !s.complete)
    }
}

/// Progress of a sweep, for a terminal progress line.
pub trait Progress: Send + Sync {
    fn scope_done(&self, done: usize, report: &ScopeReport);
}

impl Progress for () {
    fn scope_done(&self, _done: usize, _report: &ScopeReport) {}
}

fn wanted(opts: &SweepOptions, t: &str) -> bool {
    opts.resource_types.is_empty() || opts.resource_types.iter().any(|w| w == t)
}

pub fn watched_accounts<'a>(config: &'a Config, only: Option<&str>) -> Vec<&'a AccountConfig> {
    config
        .accounts
        .iter()
        .filter(|a| a.active && !a.third_party)
        .filter(|a| only.is_none_or(|id| id == a.id))
        .collect()
}

struct Recorder<'a> {
    store: &'a Store,
    sweep: crate::store::SweepId,
    progress: &'a dyn Progress,
    done: std::sync::atomic::AtomicUsize,
    reports: tokio::sync::Mutex<Vec<ScopeReport>>,
    changes: tokio::sync::Mutex<Vec<crate::store::Change>>,
}

impl Recorder<'_> {
    async fn record(
        &self,
        scope: Scope,
        listing: Listing,
        error_kind: Option<WatchErrorKind>,
    ) -> Result<(), StoreError> {
        let (complete, items, error) = match &listing {
            Listing::Complete(items) => (true, items.len(), None),
            Listing::Failed { partial, error, .. } => (false, partial.len(), Some(error.clone())),
            Listing::Refresh(r) => (true, r.found.len(), None),
        };
        let mut summary: ScopeSummary = self
            .store
            .apply_listing(self.sweep, &scope, listing)
            .await?;
        self.changes.lock().await.append(&mut summary.changes);
        let report = ScopeReport {
            account_id: scope.account_id.clone(),
            region: scope.region.clone(),
            resource_type: scope.resource_type.clone(),
            complete,
            items,
            created: summary.created,
            modified: summary.modified,
            deleted: summary.deleted,
            unchanged: summary.unchanged,
            ephemeral_updates: summary.ephemeral_updates,
            error,
            error_kind,
        };
        let done = self.done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        self.progress.scope_done(done, &report);
        if let Some(e) = &report.error {
            let kind = error_kind.unwrap_or(WatchErrorKind::Other);
            tracing::warn!(account = %scope.account_id, region = %scope.region, resource_type = %scope.resource_type, %kind, "listing failed ({kind}): {e}");
        }
        self.reports.lock().await.push(report);
        Ok(())
    }

    async fn result(
        &self,
        scope: Scope,
        result: Result<Vec<Item>, WatchError>,
        retries: u32,
    ) -> Result<(), StoreError> {
        let (listing, kind) = match result {
            Ok(items) => (Listing::Complete(items), None),
            Err(e) => (
                Listing::Failed {
                    partial: Vec::new(),
                    error: e.message,
                    retries,
                },
                Some(e.kind),
            ),
        };
        self.record(scope, listing, kind).await
    }
}

fn scope(account: &str, region: &str, t: &str) -> Scope {
    Scope {
        account_id: account.to_string(),
        region: region.to_string(),
        resource_type: t.to_string(),
    }
}

/// Regions that hold stored items of these types in an account: a complete listing must cover
/// them too, or an item whose region emptied would never be marked deleted.
async fn stored_regions(
    store: &Store,
    account: &str,
    types: &[&str],
) -> Result<BTreeSet<String>, StoreError> {
    let mut regions = BTreeSet::new();
    for t in types {
        let items = store
            .current_items(&ItemFilter {
                resource_type: Some(t.to_string()),
                account_id: Some(account.to_string()),
                ..Default::default()
            })
            .await?;
        regions.extend(items.into_iter().map(|s| s.item.region));
    }
    Ok(regions)
}

#[derive(Default)]
struct AccountOutcome {
    account: String,
    retries: u64,
    calls: BTreeMap<&'static str, u64>,
    items: BTreeMap<String, usize>,
    operations: BTreeSet<String>,
}

/// The regions a watcher's listings are recorded in, when nothing could be listed.
async fn scope_regions(
    store: &Store,
    account: &str,
    watcher: &dyn Watcher,
    home: &str,
    regions: &[String],
) -> Result<BTreeSet<String>, StoreError> {
    Ok(match watcher.region_scope() {
        RegionScope::Global => BTreeSet::from([GLOBAL_REGION.to_string()]),
        RegionScope::PerRegion => regions.iter().cloned().collect(),
        RegionScope::Located => {
            let mut rs = stored_regions(store, account, watcher.resource_types()).await?;
            if rs.is_empty() {
                rs.insert(home.to_string());
            }
            rs
        }
    })
}

async fn sweep_account(
    config: &Config,
    hub: &aws_config::SdkConfig,
    account: &AccountConfig,
    opts: &SweepOptions,
    rec: &Recorder<'_>,
) -> Result<AccountOutcome, StoreError> {
    let home = home_region(&config.aws, hub);
    let regions = if account.regions.is_empty() {
        vec![home.clone()]
    } else {
        account.regions.clone()
    };
    // Each watcher with something wanted, and which of its types to record.
    let watchers: Vec<(&'static dyn Watcher, Vec<&'static str>)> = registry()
        .iter()
        .filter_map(|w| {
            let types: Vec<&'static str> = w
                .resource_types()
                .iter()
                .copied()
                .filter(|t| wanted(opts, t))
                .collect();
            (!types.is_empty()).then_some((*w, types))
        })
        .collect();

    let session = match AccountSession::open(hub, account, &config.aws).await {
        Ok(s) => s,
        Err(e) => {
            // Nothing of this account could be listed: record every scope as failed.
            let error = WatchError::new(e.to_string()).with_kind(WatchErrorKind::AccessDenied);
            for (w, types) in &watchers {
                for region in scope_regions(rec.store, &account.id, *w, &home, &regions).await? {
                    record(rec, &account.id, &region, types, Err(error.clone()), 0).await?;
                }
            }
            return Ok(AccountOutcome::default());
        }
    };
    let session = &session;
    // Futures built up front (not in a closure) so the whole sweep stays `Send`.
    let mut jobs = Vec::with_capacity(watchers.len());
    for (w, types) in &watchers {
        jobs.push(sweep_watcher(
            session,
            &account.id,
            *w,
            types,
            &home,
            &regions,
            rec,
        ));
    }
    for r in futures::future::join_all(jobs).await {
        r?;
    }
    let mut counted: BTreeMap<String, usize> = BTreeMap::new();
    for r in rec
        .reports
        .lock()
        .await
        .iter()
        .filter(|r| r.account_id == account.id)
    {
        *counted.entry(r.resource_type.clone()).or_default() += r.items;
    }
    Ok(AccountOutcome {
        account: account.id.clone(),
        retries: session.counts.retries(),
        calls: session.counts.by_service().into_iter().collect(),
        items: counted,
        operations: session.counts.operation_names(),
    })
}

/// One watcher's listings of one account, recorded scope by scope.
async fn sweep_watcher(
    session: &AccountSession,
    account: &str,
    watcher: &dyn Watcher,
    types: &[&'static str],
    home: &str,
    regions: &[String],
    rec: &Recorder<'_>,
) -> Result<(), StoreError> {
    match watcher.region_scope() {
        RegionScope::Global => {
            let retries_before = session.counts.retries();
            let listed = watcher.list(session, home).await;
            let retries = (session.counts.retries() - retries_before) as u32;
            record(rec, account, GLOBAL_REGION, types, listed, retries).await
        }
        RegionScope::PerRegion => {
            let jobs = regions.iter().map(|r| async move {
                let listed = watcher.list(session, r).await;
                record(rec, account, r, types, listed, 0).await
            });
            for r in futures::future::join_all(jobs).await {
                r?;
            }
            Ok(())
        }
        RegionScope::Located => {
            // Regions holding stored items must be covered too, or an item whose region
            // emptied would never be marked deleted.
            let mut rs = stored_regions(rec.store, account, watcher.resource_types()).await?;
            match watcher.list(session, home).await {
                Ok(items) => {
                    let mut by_region: BTreeMap<String, Vec<Item>> = BTreeMap::new();
                    for item in items {
                        rs.insert(item.region.clone());
                        by_region.entry(item.region.clone()).or_default().push(item);
                    }
                    // Nothing anywhere is still a complete listing, recorded where a failure
                    // would be (the home region), so the listing is known to be fresh.
                    if rs.is_empty() {
                        rs.insert(home.to_string());
                    }
                    for r in rs {
                        let items = by_region.remove(&r).unwrap_or_default();
                        record(rec, account, &r, types, Ok(items), 0).await?;
                    }
                }
                Err(e) => {
                    if rs.is_empty() {
                        rs.insert(home.to_string());
                    }
                    for r in rs {
                        record(rec, account, &r, types, Err(e.clone()), 0).await?;
                    }
                }
            }
            Ok(())
        }
    }
}

/// Record one listing of `region` as one scope per resource type: a type with no items is a
/// complete, empty listing; a failure fails every type's scope.
async fn record(
    rec: &Recorder<'_>,
    account: &str,
    region: &str,
    types: &[&'static str],
    listed: Result<Vec<Item>, WatchError>,
    retries: u32,
) -> Result<(), StoreError> {
    match listed {
        Ok(items) => {
            let mut by_type: BTreeMap<&str, Vec<Item>> = BTreeMap::new();
            for item in items {
                if let Some(t) = types.iter().find(|t| **t == item.resource_type) {
                    by_type.entry(t).or_default().push(item);
                }
            }
            for t in types {
                let items = by_type.remove(t).unwrap_or_default();
                rec.result(scope(account, region, t), Ok(items), retries)
                    .await?;
            }
        }
        Err(e) => {
            for t in types {
                rec.result(scope(account, region, t), Err(e.clone()), retries)
                    .await?;
            }
        }
    }
    Ok(())
}

/// Run one sweep now.
pub async fn run(
    config: &Config,
    store: &Store,
    opts: &SweepOptions,
    progress: &dyn Progress,
) -> Result<SweepReport, StoreError> {
    let started = Instant::now();
    let hub = hub_config(&config.aws).await;
    let sweep = store.begin_sweep().await?;
    let rec = Recorder {
        store,
        sweep,
        progress,
        done: Default::default(),
        reports: Default::default(),
        changes: Default::default(),
    };
    let accounts = watched_accounts(config, opts.account.as_deref());
    // Futures built up front (not in a closure) so the whole sweep stays `Send`.
    let mut jobs = Vec::with_capacity(accounts.len());
    for a in accounts {
        jobs.push(sweep_account(config, &hub, a, opts, &rec));
    }
    let results: Vec<_> = futures::stream::iter(jobs)
        .buffer_unordered(config.watch.concurrency.max(1))
        .collect()
        .await;
    let mut calls: BTreeMap<String, u64> = BTreeMap::new();
    let mut retries = 0;
    let mut items: BTreeMap<String, usize> = BTreeMap::new();
    let mut operations = BTreeSet::new();
    let mut account_calls = BTreeMap::new();
    let mut account_retries = BTreeMap::new();
    for r in results {
        let r = r?;
        retries += r.retries;
        if !r.account.is_empty() {
            account_retries.insert(r.account.clone(), r.retries);
        }
        for (k, v) in r.calls {
            *calls.entry(k.to_string()).or_default() += v;
            account_calls.insert((r.account.clone(), k.to_string()), v);
        }
        for (k, v) in r.items {
            *items.entry(k).or_default() += v;
        }
        operations.extend(r.operations);
    }
    let record = store.finish_sweep(sweep).await?;
    let changes = rec.changes.into_inner();
    let mut scopes = rec.reports.into_inner();
    scopes.sort_by(|a, b| {
        (&a.account_id, &a.resource_type, &a.region).cmp(&(
            &b.account_id,
            &b.resource_type,
            &b.region,
        ))
    });
    Ok(SweepReport {
        sweep: record,
        scopes,
        calls,
        retries,
        items,
        operations,
        account_calls,
        account_retries,
        changes,
        audit: None,
        elapsed_ms: started.elapsed().as_millis(),
    })
}
