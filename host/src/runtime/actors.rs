//! Who made what a sweep found (`[events] lookup = true`): before the sweep's changes are
//! audited and notified, each is looked up in CloudTrail (`events::lookup`, rate-limited per
//! account and region) and the latest matching actor is attached to its revision, so history
//! and notifications name someone even without the event queue.
//!
//! It must never hold up a sweep for long: at most [`MAX_LOOKUPS`] changes per sweep are looked
//! up, and a failed lookup only leaves the change without an actor.

use std::collections::HashMap;

use super::Runtime;
use crate::events::lookup::LookupRequest;
use crate::resource_types::GLOBAL_REGION;
use crate::store::{Change, ChangeKind, now_ms};
use crate::text::for_log;
use crate::watch::session::{AccountSession, home_region, hub_config};

/// Changes looked up per sweep (CloudTrail answers 2 lookups a second per account and region).
pub const MAX_LOOKUPS: usize = 50;
/// How far back a change without an earlier revision is looked for.
const FIRST_SEEN_WINDOW_MS: i64 = 24 * 3600 * 1000;

impl Runtime {
    /// Attach CloudTrail's actor to changes that have none; returns how many got one.
    pub async fn attach_actors(&self, changes: &mut [Change]) -> usize {
        let config = self.config();
        let Ok(store) = self.store() else {
            return 0;
        };
        let lookup = self.actor_lookup();
        let hub = hub_config(&config.aws).await;
        let home = home_region(&config.aws, &hub);
        let mut sessions: HashMap<String, Option<AccountSession>> = HashMap::new();
        let pending = changes.iter().filter(|c| c.actor.is_none()).count();
        if pending > MAX_LOOKUPS {
            tracing::info!(
                changes = pending,
                looked_up = MAX_LOOKUPS,
                "more changes than CloudTrail lookups per sweep; the rest keep no actor"
            );
        }
        let mut found = 0;
        for change in changes
            .iter_mut()
            .filter(|c| c.actor.is_none())
            .take(MAX_LOOKUPS)
        {
            let account = change.key.account_id.clone();
            if !sessions.contains_key(&account) {
                let session = match config.accounts.iter().find(|a| a.id == account) {
                    Some(a) => AccountSession::open(&hub, a, &config.aws).await.ok(),
                    None => None,
                };
                sessions.insert(account.clone(), session);
            }
            let Some(Some(session)) = sessions.get(&account) else {
                continue;
            };
            // The change happened after the revision before it was captured.
            let times = store
                .revision_times(change.item_id)
                .await
                .unwrap_or_default();
            let since = times
                .iter()
                .rev()
                .find(|(id, _)| *id < change.revision_id)
                .map(|(_, at)| *at)
                .unwrap_or_else(|| now_ms() - FIRST_SEEN_WINDOW_MS);
            let region = if change.key.region == GLOBAL_REGION {
                home.clone()
            } else {
                change.key.region.clone()
            };
            let mut names = vec![change.arn.clone(), change.key.resource_id.clone()];
            names.retain(|n| !n.is_empty());
            names.dedup();
            let request = LookupRequest {
                account_id: account.clone(),
                region,
                resource_type: change.key.resource_type.clone(),
                names,
                since_ms: since,
                until_ms: now_ms(),
            };
            match lookup.latest(session, &request).await {
                Ok(Some(actor)) => {
                    // A deletion found by a sweep is only news if the actor deleted.
                    if change.kind == ChangeKind::Deleted && !actor.event_name.starts_with("Delete")
                    {
                        continue;
                    }
                    if store
                        .attach_actor(change.revision_id, &actor)
                        .await
                        .unwrap_or(false)
                    {
                        change.actor = Some(actor);
                        found += 1;
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!("{}", for_log(&e.to_string()));
                }
            }
        }
        found
    }
}
