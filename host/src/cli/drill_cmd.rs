//! `simian drill`: a game day from the command line. The running host does the detecting;
//! this command makes the change, watches the store, reverts and prints the stage table (or
//! JSON). Ctrl-C stops the waiting, never the revert.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use super::{Format, output};
use crate::config::Config;
use crate::drill::{self, Scenario};
use crate::store::Store;

pub async fn run(
    config: Option<&Path>,
    account: Option<&str>,
    scenario: Scenario,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let config = Config::discover(config)?;
    let plan = drill::plan(&config, account, scenario)?;
    let store = Store::open_reader(&config.storage.url)
        .await
        .with_context(|| format!("cannot open the store at {}", config.storage.url))?;
    if format == Format::Table {
        eprintln!(
            "drill {} ({}) in {}/{}: making the change; the SLO is {} s per stage",
            plan.id,
            scenario.as_str(),
            plan.account.id,
            plan.region,
            plan.slo.as_secs()
        );
    }
    let interrupted = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let report = drill::run(&config, &store, &plan, interrupted).await?;
    store.close().await;
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        Format::Table => {
            if let Some(r) = &report.resource {
                println!("resource  {}", output::clean(&r.arn));
            }
            let rows: Vec<Vec<String>> = report
                .stages
                .iter()
                .map(|s| {
                    vec![
                        s.name.clone(),
                        s.latency_ms.map_or("not seen".into(), |ms| {
                            format!("{:.1} s", ms as f64 / 1000.0)
                        }),
                        match (s.measured, s.within_slo) {
                            (false, _) => "-".into(),
                            (true, true) => "ok".into(),
                            (true, false) => "MISSED".into(),
                        },
                    ]
                })
                .collect();
            print!("{}", output::table(&["stage", "latency", "slo"], &rows));
            for left in &report.left_behind {
                println!("NOT UNDONE: {}", output::clean(left));
            }
            if let Some(e) = &report.error {
                println!("error: {}", output::clean(e));
            }
            println!(
                "{}",
                if report.passed {
                    format!("PASS: every stage within {} s", report.slo_seconds)
                } else if report.interrupted {
                    "INTERRUPTED: the change was reverted".to_string()
                } else {
                    format!("FAIL: not every stage within {} s", report.slo_seconds)
                }
            );
        }
    }
    Ok(if report.passed {
        ExitCode::SUCCESS
    } else if report.interrupted {
        ExitCode::from(130)
    } else {
        ExitCode::from(5)
    })
}
