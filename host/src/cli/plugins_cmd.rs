//! `simian plugins`: what is loaded, from the running host when there is one: each plugin's
//! state and counters, then what it spends against its budget.

use std::path::Path;
use std::process::ExitCode;

use super::Format;
use super::output::{self, table};
use crate::config::Config;
use crate::control::{self, Request};
use crate::runtime::{Runtime, StoreAccess};

pub async fn run(config: Option<&Path>, format: Format) -> anyhow::Result<ExitCode> {
    let config = Config::discover(config)?;
    let shadows = shadow_runs(&config).await;
    let mut listing = match control::request(&config.control_socket(), &Request::Plugins).await? {
        Some(answer) => answer,
        None => {
            // The store, if there is one yet, knows the notifiers' outboxes.
            let runtime = Runtime::open(config, StoreAccess::ReaderIfPresent, None).await?;
            runtime.plugins.scan().await;
            let plugins = control::plugin_statuses(&runtime.control_context()).await;
            if let Some(store) = &runtime.store {
                store.close().await;
            }
            let set = &runtime.plugins;
            serde_json::json!({
                "source": "local",
                "set_generation": set.set_generation(),
                "plugins": plugins,
            })
        }
    };
    listing["shadows"] = serde_json::to_value(&shadows)?;
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&listing)?),
        Format::Table => print!("{}", render(&listing)),
    }
    Ok(ExitCode::SUCCESS)
}

/// The current shadow run of every plugin with a candidate, from the store (none yet: none).
async fn shadow_runs(config: &Config) -> Vec<crate::store::ShadowRun> {
    let Ok(store) = crate::store::Store::open_reader(&config.storage.url).await else {
        return Vec::new();
    };
    let runs = store.current_shadow_runs(None).await.unwrap_or_else(|e| {
        tracing::warn!("shadow runs not shown: {e}");
        Vec::new()
    });
    store.close().await;
    runs
}

fn render_shadows(runs: &[crate::store::ShadowRun]) -> String {
    let rows: Vec<Vec<String>> = runs
        .iter()
        .map(|r| {
            vec![
                r.plugin.clone(),
                r.version.clone(),
                r.live_version.clone().unwrap_or_else(|| "-".into()),
                match r.state {
                    crate::store::ShadowState::Failed => "failed".into(),
                    _ => "ready".into(),
                },
                r.would_open.to_string(),
                r.would_fix.to_string(),
                r.would_rescore.to_string(),
                r.failed.to_string(),
                crate::when::rfc3339(r.finished_ms),
                r.error.clone().unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    format!(
        "shadow candidates (plugins/.shadow; promote or discard with `simian plugin promote|discard ID`):\n{}",
        table(
            &[
                "ID",
                "VERSION",
                "LIVE",
                "STATE",
                "WOULD_OPEN",
                "WOULD_FIX",
                "RESCORE",
                "FAILED",
                "JUDGED",
                "ERROR",
            ],
            &rows,
        )
    )
}

/// What a plugin is busy with: an auditor's re-audit (`done/total`), a notifier's outbox
/// (`N pending, M failing`).
fn work(p: &serde_json::Value) -> String {
    let n = |v: &serde_json::Value| v.as_u64().unwrap_or(0);
    if let Some(outbox) = p.get("outbox").filter(|o| o.is_object()) {
        return match (n(&outbox["pending"]), n(&outbox["failing"])) {
            (0, _) => format!("outbox empty ({} sent)", n(&outbox["delivered"])),
            (pending, 0) => format!("{pending} pending"),
            (pending, failing) => format!("{pending} pending, {failing} failing"),
        };
    }
    match p.get("reaudit").filter(|r| r.is_object()) {
        Some(r) if r["finished_ms"].is_null() => {
            format!("re-audit {}/{}", n(&r["done"]), n(&r["total"]))
        }
        Some(r) => format!("re-audited {}", n(&r["total"])),
        None => "-".to_string(),
    }
}

fn render(listing: &serde_json::Value) -> String {
    let empty = Vec::new();
    let plugins = listing["plugins"].as_array().unwrap_or(&empty);
    let s = |v: &serde_json::Value| match v {
        serde_json::Value::Null => "-".to_string(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let rows: Vec<Vec<String>> = plugins
        .iter()
        .map(|p| {
            let c = &p["counters"];
            vec![
                s(&p["id"]),
                s(&p["version"]),
                s(&p["kind"]),
                s(&p["generation"]),
                s(&p["status"]),
                s(&c["calls"]),
                c["total_time_ms"]
                    .as_f64()
                    .map_or("-".into(), |t| format!("{t:.1}")),
                s(&c["traps"]),
                s(&c["timeouts"]),
                c["peak_memory_bytes"]
                    .as_u64()
                    .map_or("-".into(), |b| format!("{:.1}", b as f64 / 1048576.0)),
                work(p),
                // A load error first; else why the outbox is stuck.
                match (&p["last_error"], &p["outbox"]["last_error"]) {
                    (serde_json::Value::Null, delivery) => s(delivery),
                    (load, _) => s(load),
                },
            ]
        })
        .collect();
    let mut out = table(
        &[
            "ID",
            "VERSION",
            "KIND",
            "GEN",
            "STATUS",
            "CALLS",
            "TIME_MS",
            "TRAPS",
            "TIMEOUTS",
            "PEAK_MIB",
            "WORK",
            "LAST_ERROR",
        ],
        &rows,
    );
    out.push_str(&format!(
        "({} plugin{}, from {})\n",
        rows.len(),
        if rows.len() == 1 { "" } else { "s" },
        s(&listing["source"])
    ));
    out.push_str(&budgets(plugins));
    if let Ok(runs) =
        serde_json::from_value::<Vec<crate::store::ShadowRun>>(listing["shadows"].clone())
        && !runs.is_empty()
    {
        out.push_str(&render_shadows(&runs));
    }
    if let Some(error) = listing["config_error"].as_str() {
        out.push_str(&format!(
            "configuration: the last edit is NOT in force, the previous one serves: {}\n",
            output::clean(error)
        ));
    }
    out
}

/// Per plugin: serving or paused (and why, until when), calls and CPU this window and in the
/// last sweep, host calls by capability since start, and the budget.
fn budgets(plugins: &[serde_json::Value]) -> String {
    let n = |v: &serde_json::Value| v.as_u64().unwrap_or(0);
    let ms = |us: &serde_json::Value| format!("{:.1}", n(us) as f64 / 1000.0);
    let rows: Vec<Vec<String>> = plugins
        .iter()
        .filter(|p| p["usage"].is_object())
        .map(|p| {
            let u = &p["usage"];
            let (w, t, b) = (&u["window"], &u["totals"], &u["budget"]);
            let sweep = &u["last_sweep"];
            let limits: Vec<String> = [
                ("cpu_ms", "cpu ", " ms"),
                ("calls", "", " calls"),
                ("http", "", " http"),
                ("mails", "", " mails"),
            ]
            .iter()
            .filter_map(|(k, pre, unit)| b[*k].as_u64().map(|v| format!("{pre}{v}{unit}")))
            .collect();
            let budget = if limits.is_empty() {
                "-".to_string()
            } else {
                format!("{} per {} s", limits.join(", "), n(&b["window_seconds"]))
            };
            vec![
                output::clean(p["id"].as_str().unwrap_or("-")).into_owned(),
                match u["paused"].as_str() {
                    Some(why) => output::clean(why).into_owned(),
                    None => "serving".to_string(),
                },
                n(&w["calls"]).to_string(),
                ms(&w["cpu_us"]),
                if sweep.is_object() {
                    format!("{} / {}", n(&sweep["calls"]), ms(&sweep["cpu_us"]))
                } else {
                    "-".to_string()
                },
                format!(
                    "{}/{}/{}/{}",
                    n(&t["http"]),
                    n(&t["mail"]),
                    n(&t["items"]),
                    n(&t["accounts"])
                ),
                budget,
            ]
        })
        .collect();
    if rows.is_empty() {
        return String::new();
    }
    format!(
        "\n{}",
        table(
            &[
                "ID",
                "BUDGET_STATE",
                "WIN_CALLS",
                "WIN_CPU_MS",
                "SWEEP_CALLS/CPU_MS",
                "HTTP/MAIL/ITEMS/ACCOUNTS",
                "BUDGET",
            ],
            &rows,
        )
    )
}
