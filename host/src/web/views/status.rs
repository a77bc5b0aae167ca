//! The dashboard's figures, the accounts and the plugins.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};

use super::last_sweep;
use crate::store::{DayPoint, ScopeHealth, ScoreCell, SweepRecord, now_ms};
use crate::web::Shared;
use crate::web::error::WebError;

/// The configured accounts, without credentials or external ids.
pub fn accounts(s: &Shared) -> Vec<Value> {
    s.runtime
        .config()
        .accounts
        .iter()
        .map(|a| {
            json!({
                "id": a.id,
                "name": a.name,
                "third_party": a.third_party,
                "active": a.active,
                "regions": a.regions,
                "role_arn": a.role_arn,
            })
        })
        .collect()
}

pub async fn plugins(s: &Shared) -> Value {
    let context = s.runtime.control_context();
    // Shadow candidates and what they would change, as `simian plugins` lists them.
    let shadows = s.store.current_shadow_runs(None).await.unwrap_or_else(|e| {
        tracing::warn!("shadow runs not shown: {e}");
        Vec::new()
    });
    json!({
        "plugins": crate::control::plugin_statuses(&context).await,
        "config_error": s.runtime.config_error(),
        "shadows": shadows,
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct ScopeView {
    #[serde(flatten)]
    pub health: ScopeHealth,
    /// No complete listing for three intervals, or the last attempt failed.
    pub stale: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Dashboard {
    pub scores: Vec<ScoreCell>,
    pub by_account: BTreeMap<String, u64>,
    pub by_type: BTreeMap<String, u64>,
    /// Open unjustified issues by score: 10+, 5–9, 1–4, 0.
    pub bands: [u64; 4],
    pub new: u64,
    pub regressed: u64,
    pub fixed: u64,
    pub last_sweep: Option<SweepRecord>,
    pub scopes: Vec<ScopeView>,
    pub days: Vec<DayPoint>,
}

pub async fn dashboard(s: &Shared) -> Result<Dashboard, WebError> {
    let last = last_sweep(s).await?;
    let (new, regressed, fixed) = s
        .store
        .issue_news_since(last.as_ref().map_or(0, |w| w.started_ms))
        .await?;
    let scores = s.store.scores_by_account_and_type().await?;
    let mut by_account = BTreeMap::new();
    let mut by_type = BTreeMap::new();
    for c in &scores {
        *by_account.entry(c.account_id.clone()).or_insert(0) += c.score;
        *by_type.entry(c.resource_type.clone()).or_insert(0) += c.score;
    }
    let config = s.runtime.config();
    let interval_ms = config.watch.interval_seconds.map_or(
        config.watch.interval_minutes.saturating_mul(60_000),
        |sec| sec.saturating_mul(1000),
    );
    let now = now_ms();
    let scopes = s
        .store
        .scope_health()
        .await?
        .into_iter()
        .map(|health| {
            let too_old = health.last_complete_ms.is_none_or(|t| {
                now - t > i64::try_from(interval_ms.saturating_mul(3)).unwrap_or(i64::MAX)
            });
            let failing = health
                .last_error_ms
                .is_some_and(|e| health.last_listed_ms.is_none_or(|l| e >= l));
            ScopeView {
                stale: too_old || failing,
                health,
            }
        })
        .collect();
    Ok(Dashboard {
        bands: s.store.score_bands().await?,
        by_account,
        by_type,
        scores,
        new,
        regressed,
        fixed,
        last_sweep: last,
        scopes,
        days: s.store.daily_series(30).await?,
    })
}
