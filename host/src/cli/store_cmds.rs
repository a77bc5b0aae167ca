//! `simian sweep`, `simian items`, `simian history`, `simian iam-policy`: the watchers and the
//! configuration history from the command line.

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use serde_json::{Value, json};

use super::Format;
use super::at_cmd;
use super::output::{self, table};
use crate::config::Config;
use crate::runtime::sweep::{self, Progress, ScopeReport, SweepOptions};
use crate::runtime::{Runtime, StoreAccess};
use crate::store::{ItemFilter, Store, diff};

/// Exit code of a sweep in which some listing failed.
pub const PARTIAL_SWEEP: u8 = 4;

/// For commands that only read: never touches sweeps a running host has in flight.
async fn open_reader(config: &Config) -> anyhow::Result<Store> {
    Store::open_reader(&config.storage.url)
        .await
        .with_context(|| format!("cannot open the store at {}", config.storage.url))
}

struct TerminalProgress {
    total: usize,
}

impl Progress for TerminalProgress {
    fn scope_done(&self, done: usize, r: &ScopeReport) {
        let state = if r.complete { "ok" } else { "FAILED" };
        eprint!(
            "\r\x1b[K[{done}/{}] {} {} {} {state}",
            self.total, r.account_id, r.resource_type, r.region
        );
    }
}

// Long because it is argument checks, the sweep, and its table; no logic lives here.

pub async fn sweep(
    config: Option<&Path>,
    account: Option<String>,
    types: Vec<String>,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let config = Config::discover(config)?;
    for t in &types {
        if !crate::resource_types::is_supported(t) {
            anyhow::bail!(
                "--type {t}: unknown resource type; known: {}",
                crate::resource_types::all().join(", ")
            );
        }
    }
    let accounts = sweep::watched_accounts(&config, account.as_deref());
    if accounts.is_empty() {
        anyhow::bail!(
            "no watched account{} in the config (accounts must be active and not third_party)",
            account.map(|a| format!(" {a}")).unwrap_or_default()
        );
    }
    let opts = SweepOptions {
        account,
        resource_types: types,
    };
    let scopes_per_account = 6 + accounts
        .iter()
        .map(|a| a.regions.len().max(1))
        .max()
        .unwrap_or(1);
    let total = scopes_per_account * accounts.len();
    let judge = config.plugins.dir.is_dir();
    let runtime = Runtime::open(config, StoreAccess::Writer, None).await?;
    // Judge what changed with the auditors deployed in the plugins directory; notifications
    // are queued, not sent: `simian run` delivers the outbox (now, or when it next starts).
    if judge {
        runtime.plugins.scan().await;
        for (plugin, error) in runtime.plugins.rejections().await {
            tracing::warn!(plugin = %plugin, "plugin not loaded: {error}");
        }
    }
    let report = if std::io::stderr().is_terminal() && format == Format::Table {
        let r = runtime.sweep(&opts, &TerminalProgress { total }).await;
        eprintln!();
        r
    } else {
        runtime.sweep(&opts, &()).await
    }?;
    let store = runtime.store()?;
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        Format::Table => {
            let rows: Vec<Vec<String>> = report
                .scopes
                .iter()
                .map(|s| {
                    vec![
                        s.account_id.clone(),
                        s.resource_type.clone(),
                        s.region.clone(),
                        if s.complete {
                            "ok".into()
                        } else {
                            "FAILED".into()
                        },
                        s.items.to_string(),
                        s.created.to_string(),
                        s.modified.to_string(),
                        s.deleted.to_string(),
                        s.unchanged.to_string(),
                        match (&s.error, s.error_kind) {
                            (Some(e), Some(kind)) => format!("{kind}: {e}"),
                            (Some(e), None) => e.clone(),
                            (None, _) => String::new(),
                        },
                    ]
                })
                .collect();
            print!(
                "{}",
                table(
                    &[
                        "ACCOUNT",
                        "TYPE",
                        "REGION",
                        "LISTING",
                        "ITEMS",
                        "CREATED",
                        "MODIFIED",
                        "DELETED",
                        "UNCHANGED",
                        "ERROR"
                    ],
                    &rows
                )
            );
            let calls: u64 = report.calls.values().sum();
            let items: usize = report.items.values().sum();
            println!(
                "sweep {}: {} created, {} modified, {} deleted, {} unchanged, {} failed listing(s); {} AWS calls ({} retries) for {} items in {:.1} s",
                report.sweep.id.0,
                report.sweep.created,
                report.sweep.modified,
                report.sweep.deleted,
                report.sweep.unchanged,
                report.sweep.errors,
                calls,
                report.retries,
                items,
                report.elapsed_ms as f64 / 1000.0
            );
            if let Some(a) = &report.audit {
                println!(
                    "audit: {} items; issues {} new, {} still open, {} fixed, {} regressed; {} failed audits",
                    a.items_audited, a.new, a.still_open, a.fixed, a.regressed, a.failures
                );
            }
        }
    }
    store.close().await;
    Ok(if report.failed() {
        ExitCode::from(PARTIAL_SWEEP)
    } else {
        ExitCode::SUCCESS
    })
}

pub async fn items(
    config: Option<&Path>,
    filter: ItemFilter,
    at: Option<i64>,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let config = Config::discover(config)?;
    let store = open_reader(&config).await?;
    // A table needs no documents: at a past moment, list identities only (much less to read).
    if let (Format::Table, Some(at)) = (format, at) {
        let items = store.item_identities_at(at, &filter).await?;
        store.close().await;
        at_cmd::banner(Some(at));
        let rows: Vec<Vec<String>> = items
            .iter()
            .map(|s| {
                vec![
                    s.id.to_string(),
                    s.account_id.clone(),
                    s.region.clone(),
                    s.resource_type.clone(),
                    s.resource_name.clone(),
                    s.arn.clone(),
                ]
            })
            .collect();
        print_items(&rows);
        return Ok(ExitCode::SUCCESS);
    }
    let items = match at {
        Some(at) => store.items_at(at, &filter).await?,
        None => store.current_items(&filter).await?,
    };
    match format {
        Format::Json => {
            let docs: Vec<Value> = items
                .iter()
                .map(|s| {
                    let mut doc = s.item.to_envelope();
                    doc["simian"] = json!({
                        "itemId": s.id,
                        "revisionId": s.revision_id,
                        "deleted": s.deleted,
                        "lastChangedMs": s.last_changed_ms,
                    });
                    doc
                })
                .collect();
            println!(
                "{}",
                serde_json::to_string_pretty(&at_cmd::mark(json!({ "items": docs }), at))?
            );
        }
        Format::Table => {
            at_cmd::banner(at);
            let rows: Vec<Vec<String>> = items
                .iter()
                .map(|s| {
                    vec![
                        s.id.to_string(),
                        s.item.account_id.clone(),
                        s.item.region.clone(),
                        s.item.resource_type.clone(),
                        s.item.resource_name.clone(),
                        s.item.arn.clone(),
                    ]
                })
                .collect();
            print_items(&rows);
        }
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

fn print_items(rows: &[Vec<String>]) {
    print!(
        "{}",
        table(&["ID", "ACCOUNT", "REGION", "TYPE", "NAME", "ARN"], rows)
    );
    println!("({} items)", rows.len());
}

pub async fn history(
    config: Option<&Path>,
    key: &str,
    with_diff: bool,
    at: Option<i64>,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let config = Config::discover(config)?;
    let store = open_reader(&config).await?;
    let (revisions, before) = match at {
        Some(at) => at_cmd::revision_at(&store, key, at, with_diff).await?,
        None => (store.history(key).await?, None),
    };
    store.close().await;
    if revisions.is_empty() && at.is_none() {
        anyhow::bail!("no item with ARN or id `{key}` in the store");
    }
    let mut out = Vec::new();
    let mut diffs = Vec::new();
    let mut previous: Option<&Value> = before.as_ref();
    for r in &revisions {
        let mut entry = json!({
            "revision": r.id,
            "itemId": r.item_id,
            "kind": r.kind,
            "capturedAtMs": r.captured_at_ms,
            "sweep": r.sweep_id.0,
            "via": r.via,
            "actor": r.actor,
            "durableHash": r.durable_hash,
            "document": r.document,
        });
        if with_diff {
            let changes = match previous {
                Some(p) => diff(p, &r.document),
                None => Vec::new(),
            };
            entry["diff"] = serde_json::to_value(&changes)?;
            diffs.push(changes);
        }
        previous = Some(&r.document);
        out.push(entry);
    }
    match format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&at_cmd::mark(json!({ "revisions": out }), at))?
        ),
        Format::Table => {
            at_cmd::banner(at);
            if out.is_empty() {
                println!("(no revision in force then: the item did not exist yet)");
            }
            for (i, e) in out.iter().enumerate() {
                println!(
                    "revision {}  {}  {} {}  captured {}",
                    e["revision"],
                    e["kind"].as_str().unwrap_or_default(),
                    e["via"].as_str().unwrap_or("sweep"),
                    e["sweep"],
                    e["document"]["configurationItemCaptureTime"]
                        .as_str()
                        .unwrap_or("-")
                );
                // Who, when and from where: CloudTrail's words, so escaped like any other.
                if let Some(actor) = &revisions[i].actor {
                    println!("  by {}", output::clean(&actor.summary()));
                    if let Some(agent) = &actor.user_agent {
                        println!("     user agent {}", output::clean(agent));
                    }
                    println!("     event {}", output::clean(&actor.event_id));
                }
                // The same lines the notifiers mail, so both describe a change alike.
                for change in diffs.get(i).into_iter().flatten() {
                    println!("  {}", output::clean(&change.render()));
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn iam_policy() -> anyhow::Result<ExitCode> {
    println!(
        "{}",
        serde_json::to_string_pretty(&crate::watch::iam_policy())?
    );
    Ok(ExitCode::SUCCESS)
}

pub async fn issues(
    config: Option<&Path>,
    filter: crate::store::IssueFilter,
    at: Option<i64>,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let config = Config::discover(config)?;
    let store = open_reader(&config).await?;
    let rows = match at {
        Some(at) => store.issues_at(at, &filter).await?,
        None => store.issues(&filter).await?,
    };
    store.close().await;
    match format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&at_cmd::mark(json!({ "issues": rows }), at))?
        ),
        Format::Table => {
            at_cmd::banner(at);
            let table_rows: Vec<Vec<String>> = rows
                .iter()
                .map(|r| {
                    vec![
                        r.issue.id.to_string(),
                        if r.issue.open {
                            "open".into()
                        } else {
                            "fixed".into()
                        },
                        r.issue.score.to_string(),
                        r.issue.plugin.clone(),
                        r.issue.title.clone(),
                        r.arn.clone(),
                        r.issue.notes.clone(),
                    ]
                })
                .collect();
            print!(
                "{}",
                table(
                    &["ID", "STATUS", "SCORE", "PLUGIN", "TITLE", "ITEM", "NOTES"],
                    &table_rows
                )
            );
            println!("({} issues)", table_rows.len());
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn parse_expiry(text: &str) -> anyhow::Result<i64> {
    crate::when::parse_expiry(text).map_err(|e| anyhow::anyhow!("--expires {e}"))
}

pub async fn justify(
    config: Option<&Path>,
    issue: i64,
    reason: &str,
    by: &str,
    expires: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let until = expires.map(parse_expiry).transpose()?;
    if until.is_some_and(|u| u <= crate::store::now_ms()) {
        anyhow::bail!("--expires is in the past");
    }
    let config = Config::discover(config)?;
    let store = open_reader(&config).await?;
    let found = store.justify(issue, reason, by, until).await?;
    store.close().await;
    if !found {
        anyhow::bail!("no issue with id {issue}");
    }
    println!("issue {issue} justified by {by}");
    Ok(ExitCode::SUCCESS)
}

pub async fn unjustify(config: Option<&Path>, issue: i64, by: &str) -> anyhow::Result<ExitCode> {
    let config = Config::discover(config)?;
    let store = open_reader(&config).await?;
    let actor = crate::store::Actor {
        name: by,
        via: "cli",
    };
    let found = store.unjustify_issues(&[issue], actor).await? == 1;
    store.close().await;
    if !found {
        anyhow::bail!("no issue with id {issue}");
    }
    println!("issue {issue} unjustified");
    Ok(ExitCode::SUCCESS)
}

/// Items by total score with their open issues, like Security Monkey's audit report.
// Long because it is one report: the query and its two output formats.
pub async fn report(
    config: Option<&Path>,
    filter: crate::store::IssueFilter,
    at: Option<i64>,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let config = Config::discover(config)?;
    let store = open_reader(&config).await?;
    let item_filter = crate::store::ItemFilter {
        resource_type: filter.resource_type.clone(),
        account_id: filter.account_id.clone(),
        ..Default::default()
    };
    let filter = crate::store::IssueFilter {
        open: Some(true),
        ..filter
    };
    let (current, rows) = match at {
        Some(at) => (
            store.items_at(at, &item_filter).await?,
            store.issues_at(at, &filter).await?,
        ),
        None => (
            store.current_items(&item_filter).await?,
            store.issues(&filter).await?,
        ),
    };
    store.close().await;
    let mut items: Vec<(String, Value)> = Vec::new();
    for r in rows {
        let pos = match items.iter().position(|(arn, _)| *arn == r.arn) {
            Some(p) => p,
            None => {
                items.push((
                    r.arn.clone(),
                    json!({
                        "arn": r.arn, "resource_type": r.resource_type, "resource_name": r.resource_name,
                        "account_id": r.account_id, "region": r.region,
                        "score": 0, "unjustified_score": 0, "issues": [],
                    }),
                ));
                items.len() - 1
            }
        };
        let entry = &mut items[pos].1;
        // Disabled checks are listed but counted nowhere.
        let score = if r.issue.disabled {
            0
        } else {
            u64::from(r.issue.score)
        };
        entry["score"] = json!(entry["score"].as_u64().unwrap_or(0) + score);
        if r.issue.justification.is_none() {
            entry["unjustified_score"] =
                json!(entry["unjustified_score"].as_u64().unwrap_or(0) + score);
        }
        if let Some(list) = entry["issues"].as_array_mut() {
            list.push(serde_json::to_value(&r.issue)?);
        }
    }
    let mut items: Vec<Value> = items.into_iter().map(|(_, v)| v).collect();
    items
        .sort_by_key(|v| std::cmp::Reverse((v["unjustified_score"].as_u64(), v["score"].as_u64())));
    // Current items that score nothing: the resources the rules found clean.
    let scored: std::collections::HashSet<&str> = items
        .iter()
        .filter(|v| v["score"].as_u64().unwrap_or(0) > 0)
        .filter_map(|v| v["arn"].as_str())
        .collect();
    let mut clean: Vec<Value> = current
        .iter()
        .filter(|s| !scored.contains(s.item.arn.as_str()))
        .map(|s| {
            json!({
                "arn": s.item.arn, "resource_type": s.item.resource_type,
                "resource_name": s.item.resource_name, "account_id": s.item.account_id,
            })
        })
        .collect();
    clean.sort_by(|a, b| {
        (a["resource_type"].as_str(), a["resource_name"].as_str())
            .cmp(&(b["resource_type"].as_str(), b["resource_name"].as_str()))
    });
    match format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&at_cmd::mark(
                json!({ "items": items, "clean": clean }),
                at
            ))?
        ),
        Format::Table => {
            at_cmd::banner(at);
            for item in &items {
                println!(
                    "{}  {}  score {} (unjustified {})",
                    output::clean(item["resource_name"].as_str().unwrap_or_default()),
                    output::clean(item["arn"].as_str().unwrap_or_default()),
                    item["score"],
                    item["unjustified_score"]
                );
                for i in item["issues"].as_array().into_iter().flatten() {
                    println!(
                        "  [{}] {} {} ({}){}: {}",
                        i["id"],
                        i["score"],
                        output::clean(i["title"].as_str().unwrap_or_default()),
                        i["plugin"].as_str().unwrap_or_default(),
                        if i["justification"].is_null() {
                            ""
                        } else {
                            " JUSTIFIED"
                        },
                        output::clean(i["notes"].as_str().unwrap_or_default())
                    );
                }
            }
            println!("({} items with open issues)", items.len());
            println!("clean (score 0): {} items", clean.len());
            let mut by_type: Vec<(&str, Vec<&str>)> = Vec::new();
            for c in &clean {
                let (t, n) = (
                    c["resource_type"].as_str().unwrap_or_default(),
                    c["resource_name"].as_str().unwrap_or_default(),
                );
                match by_type.iter_mut().find(|(ty, _)| *ty == t) {
                    Some((_, names)) => names.push(n),
                    None => by_type.push((t, vec![n])),
                }
            }
            for (t, names) in by_type {
                println!("  {t}: {}", output::clean(&names.join(", ")));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
