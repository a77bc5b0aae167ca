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
use crate::store::{ItemFilter, Listing, Scope, ScopeSummary, Store, StoreError, SweepRecord};
use crate::watch::session::{AccountSession, hub_config};
use crate::watch::{WatchError, ec2, iam, s3};

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
    async fn record(&self, scope: Scope, listing: Listing) -> Result<(), StoreError> {
        let (complete, items, error) = match &listing {
            Listing::Complete(items) => (true, items.len(), None),
            Listing::Failed { partial, error, .. } => (false, partial.len(), Some(error.clone())),
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
        };
        let done = self.done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        self.progress.scope_done(done, &report);
        if let Some(e) = &report.error {
            tracing::warn!(account = %scope.account_id, region = %scope.region, resource_type = %scope.resource_type, "listing failed: {e}");
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
        let listing = match result {
            Ok(items) => Listing::Complete(items),
            Err(e) => Listing::Failed {
                partial: Vec::new(),
                error: e.message,
                retries,
            },
        };
        self.record(scope, listing).await
    }
}

fn scope(account: &str, region: &str, t: &str) -> Scope {
    Scope {
        account_id: account.to_string(),
        region: region.to_string(),
        resource_type: t.to_string(),
    }
}

/// Regions that hold stored S3 buckets of an account: a complete listing must cover them too,
/// or a bucket whose region emptied would never be marked deleted.
async fn stored_regions(
    store: &Store,
    account: &str,
    t: &str,
) -> Result<BTreeSet<String>, StoreError> {
    Ok(store
        .current_items(&ItemFilter {
            resource_type: Some(t.to_string()),
            account_id: Some(account.to_string()),
            ..Default::default()
        })
        .await?
        .into_iter()
        .map(|s| s.item.region)
        .collect())
}

#[derive(Default)]
struct AccountOutcome {
    retries: u64,
    calls: BTreeMap<&'static str, u64>,
    items: BTreeMap<String, usize>,
    operations: BTreeSet<String>,
}

async fn sweep_account(
    config: &Config,
    hub: &aws_config::SdkConfig,
    account: &AccountConfig,
    opts: &SweepOptions,
    rec: &Recorder<'_>,
) -> Result<AccountOutcome, StoreError> {
    let home = config
        .aws
        .region
        .clone()
        .or_else(|| hub.region().map(|r| r.to_string()))
        .unwrap_or_else(|| "us-east-1".into());
    let regions = if account.regions.is_empty() {
        vec![home.clone()]
    } else {
        account.regions.clone()
    };
    let iam_types: Vec<&str> = [iam::USER, iam::ROLE, iam::GROUP, iam::POLICY]
        .into_iter()
        .filter(|t| wanted(opts, t))
        .collect();
    let mut counted: BTreeMap<String, usize> = BTreeMap::new();

    let session = match AccountSession::open(hub, account, &config.aws).await {
        Ok(s) => s,
        Err(e) => {
            // Nothing of this account could be listed: record every scope as failed.
            let msg = e.to_string();
            for t in &iam_types {
                rec.result(
                    scope(&account.id, "global", t),
                    Err(WatchError::new(&msg)),
                    0,
                )
                .await?;
            }
            if wanted(opts, s3::BUCKET) {
                let mut rs = stored_regions(rec.store, &account.id, s3::BUCKET).await?;
                if rs.is_empty() {
                    rs.insert(home.clone());
                }
                for r in rs {
                    rec.result(
                        scope(&account.id, &r, s3::BUCKET),
                        Err(WatchError::new(&msg)),
                        0,
                    )
                    .await?;
                }
            }
            if wanted(opts, ec2::SECURITY_GROUP) {
                for r in &regions {
                    rec.result(
                        scope(&account.id, r, ec2::SECURITY_GROUP),
                        Err(WatchError::new(&msg)),
                        0,
                    )
                    .await?;
                }
            }
            return Ok(AccountOutcome::default());
        }
    };
    let session = &session;

    let iam_job = async {
        if iam_types.is_empty() {
            return Ok::<_, StoreError>(());
        }
        let retries_before = session.counts.retries();
        let listed = iam::list(session).await;
        let retries = (session.counts.retries() - retries_before) as u32;
        match listed {
            Ok(l) => {
                for (t, items) in [
                    (iam::USER, l.users),
                    (iam::ROLE, l.roles),
                    (iam::GROUP, l.groups),
                    (iam::POLICY, l.policies),
                ] {
                    if iam_types.contains(&t) {
                        rec.result(scope(&account.id, "global", t), Ok(items), retries)
                            .await?;
                    }
                }
            }
            Err(e) => {
                for t in &iam_types {
                    rec.result(scope(&account.id, "global", t), Err(e.clone()), retries)
                        .await?;
                }
            }
        }
        Ok(())
    };
    let s3_job = async {
        if !wanted(opts, s3::BUCKET) {
            return Ok::<_, StoreError>(());
        }
        let mut rs = stored_regions(rec.store, &account.id, s3::BUCKET).await?;
        let listed = s3::list(session, &home).await;
        match listed {
            Ok(items) => {
                let mut by_region: BTreeMap<String, Vec<Item>> = BTreeMap::new();
                for item in items {
                    rs.insert(item.region.clone());
                    by_region.entry(item.region.clone()).or_default().push(item);
                }
                for r in rs {
                    let items = by_region.remove(&r).unwrap_or_default();
                    rec.result(scope(&account.id, &r, s3::BUCKET), Ok(items), 0)
                        .await?;
                }
            }
            Err(e) => {
                if rs.is_empty() {
                    rs.insert(home.clone());
                }
                for r in rs {
                    rec.result(scope(&account.id, &r, s3::BUCKET), Err(e.clone()), 0)
                        .await?;
                }
            }
        }
        Ok(())
    };
    let ec2_job = async {
        if !wanted(opts, ec2::SECURITY_GROUP) {
            return Ok::<_, StoreError>(());
        }
        let jobs = regions.iter().map(|r| async move {
            let listed = ec2::list(session, r).await;
            rec.result(scope(&account.id, r, ec2::SECURITY_GROUP), listed, 0)
                .await
        });
        for r in futures::future::join_all(jobs).await {
            r?;
        }
        Ok(())
    };
    let (a, b, c) = tokio::join!(iam_job, s3_job, ec2_job);
    a?;
    b?;
    c?;
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
        retries: session.counts.retries(),
        calls: session.counts.by_service().into_iter().collect(),
        items: counted,
        operations: session.counts.operation_names(),
    })
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
    for r in results {
        let r = r?;
        retries += r.retries;
        for (k, v) in r.calls {
            *calls.entry(k.to_string()).or_default() += v;
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
        changes,
        audit: None,
        elapsed_ms: started.elapsed().as_millis(),
    })
}
