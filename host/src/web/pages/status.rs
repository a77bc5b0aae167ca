//! The plugins and accounts pages, mirroring `simian plugins` and the configuration.

use askama::Template;
use axum::extract::State;
use axum::response::Response;

use super::{Layout, html};
use crate::web::Shared;
use crate::web::auth::Caller;
use crate::web::error::PageResult;
use crate::web::views::{self};

#[derive(Template)]
#[template(path = "plugins.html")]
pub struct PluginsPage {
    pub layout: Layout,
    pub rows: Vec<Vec<String>>,
    pub config_error: Option<String>,
    /// Shadow candidates: a summary line and the entries (what they would change).
    pub shadows: Vec<(String, Vec<Vec<String>>)>,
}

/// One line per shadow run and its entries as table rows (plugin text: escaped by the template).
fn shadow_rows(v: &serde_json::Value) -> Vec<(String, Vec<Vec<String>>)> {
    let runs: Vec<crate::store::ShadowRun> =
        serde_json::from_value(v["shadows"].clone()).unwrap_or_default();
    runs.iter()
        .map(|r| {
            let summary = match &r.error {
                Some(e) => format!("{} {}: failed: {e}", r.plugin, r.version),
                None => format!(
                    "{} {} against live {}: would open {}, would fix {}, would re-score {} ({} unchanged, {} failed, {} items judged)",
                    r.plugin,
                    r.version,
                    r.live_version.as_deref().unwrap_or("-"),
                    r.would_open,
                    r.would_fix,
                    r.would_rescore,
                    r.unchanged,
                    r.failed,
                    r.items
                ),
            };
            let entries = r
                .entries
                .iter()
                .map(|e| {
                    vec![
                        format!("{:?}", e.change).to_lowercase(),
                        e.arn.clone(),
                        e.check_id.clone(),
                        e.score.to_string(),
                        e.live_score.map(|s| s.to_string()).unwrap_or_default(),
                        e.notes.clone(),
                    ]
                })
                .collect();
            (summary, entries)
        })
        .collect()
}

pub async fn plugins(State(s): State<Shared>, caller: Caller) -> PageResult<Response> {
    let v = views::plugins(&s).await;
    let text = |p: &serde_json::Value, k: &str| match &p[k] {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(t) => t.clone(),
        other => other.to_string(),
    };
    let rows = v["plugins"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|p| {
                    let work = if p["reaudit"].is_object() {
                        format!(
                            "re-audit {}/{}",
                            text(&p["reaudit"], "done"),
                            text(&p["reaudit"], "total")
                        )
                    } else if p["outbox"].is_object() {
                        format!(
                            "outbox: {} pending, {} failing",
                            text(&p["outbox"], "pending"),
                            text(&p["outbox"], "failing")
                        )
                    } else {
                        String::new()
                    };
                    vec![
                        text(p, "id"),
                        text(p, "version"),
                        text(p, "kind"),
                        text(p, "status"),
                        p["resource_types"]
                            .as_array()
                            .map(|t| {
                                t.iter()
                                    .filter_map(|x| x.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            })
                            .unwrap_or_default(),
                        work,
                        text(p, "last_error"),
                    ]
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(html(&PluginsPage {
        layout: Layout::new(&caller, "plugins", "Plugins"),
        rows,
        config_error: v["config_error"].as_str().map(String::from),
        shadows: shadow_rows(&v),
    }))
}

#[derive(Template)]
#[template(path = "accounts.html")]
pub struct AccountsPage {
    pub layout: Layout,
    pub rows: Vec<Vec<String>>,
}

pub async fn accounts(State(s): State<Shared>, caller: Caller) -> PageResult<Response> {
    let scores = s.store.scores_by_account_and_type().await?;
    let rows = s
        .runtime
        .config()
        .accounts
        .iter()
        .map(|a| {
            let score: u64 = scores
                .iter()
                .filter(|c| c.account_id == a.id)
                .map(|c| c.score)
                .sum();
            vec![
                a.id.clone(),
                a.name.clone(),
                if a.third_party { "third party" } else { "own" }.to_string(),
                if a.active { "active" } else { "inactive" }.to_string(),
                a.regions.join(", "),
                score.to_string(),
            ]
        })
        .collect();
    Ok(html(&AccountsPage {
        layout: Layout::new(&caller, "accounts", "Accounts"),
        rows,
    }))
}
