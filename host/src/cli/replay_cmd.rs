//! `simian replay`: run one auditor (deployed, or a candidate file) over every stored revision
//! and say, per item, when each finding first appeared, who made that change, and when it was
//! fixed. Reads the store only; the live issues never change.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use super::Format;
use super::output::{clean, table};
use crate::plugin::candidate;
use crate::replay::{Closed, Finding, ReplayOptions, ReplayReport};
use crate::runtime::{Runtime, StoreAccess};
use crate::when::{rfc3339, span};

pub struct Args {
    pub target: String,
    pub since: Option<String>,
    pub account: Option<String>,
    pub types: Vec<String>,
    pub workers: Option<usize>,
    pub format: Format,
}

pub async fn run(config: Option<&Path>, args: Args) -> anyhow::Result<ExitCode> {
    let since_ms = args
        .since
        .as_deref()
        .map(crate::when::parse_instant)
        .transpose()
        .map_err(|e| anyhow::anyhow!("--since {e}"))?;
    let runtime = Runtime::from_cli(config, StoreAccess::Reader).await?;
    let store = runtime.store()?.clone();
    let config = runtime.config();
    let dir = candidate::locate(&args.target, runtime.plugins.plugins_dir())?;
    let plugin = Arc::new(candidate::load(&runtime.plugins, &dir).await?);
    let workers = args.workers.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(usize::from)
            .unwrap_or(1)
    });
    let opts = ReplayOptions {
        account_id: args.account,
        resource_types: args.types,
        since_ms,
        batch_size: config.plugins.batch_size,
        workers,
    };
    let report = crate::replay::replay(&store, plugin, Arc::new(store.clone()), &opts).await?;
    store.close().await;
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        Format::Table => print!("{}", render(&report)),
    }
    Ok(if report.summary.failed > 0 {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    })
}

fn who(mark: &crate::replay::Mark) -> String {
    mark.actor
        .as_ref()
        .map_or_else(|| "-".into(), |a| a.who().to_string())
}

fn render(report: &ReplayReport) -> String {
    let s = &report.summary;
    let mut out = format!(
        "{} {} replayed {} revisions of {} items in {:.2} s ({:.0} revisions/s, {:.2} s in the plugin); {} findings, {} still open, {} revisions failed\n",
        clean(&s.plugin),
        clean(&s.version),
        s.revisions,
        s.items,
        s.elapsed_ms as f64 / 1000.0,
        s.revisions_per_second,
        s.plugin_ms / 1000.0,
        s.findings,
        s.still_open,
        s.failed,
    );
    if !report.findings.is_empty() {
        let rows: Vec<Vec<String>> = report.findings.iter().map(row).collect();
        out.push_str(&table(
            &[
                "ITEM", "CHECK", "SCORE", "STATUS", "SINCE", "REVISION", "BY", "UNTIL", "OPEN FOR",
            ],
            &rows,
        ));
    }
    for f in report.findings.iter().filter(|f| f.closed.is_none()) {
        let by = match who(&f.opened).as_str() {
            "-" => String::new(),
            actor => format!(", changed by {actor}"),
        };
        out.push_str(&format!(
            "{} has had \"{}\" since {}, revision {}{}\n",
            clean(&f.arn),
            clean(&f.title),
            rfc3339(f.opened.at_ms),
            f.opened.revision,
            clean(&by)
        ));
    }
    for e in &report.errors {
        out.push_str(&format!("failed: {}\n", clean(e)));
    }
    out
}

fn row(f: &Finding) -> Vec<String> {
    vec![
        f.arn.clone(),
        f.check_id.clone(),
        f.score.to_string(),
        match f.closed_by {
            None => "open".into(),
            Some(Closed::Fixed) => "fixed".into(),
            Some(Closed::Deleted) => "deleted".into(),
        },
        rfc3339(f.opened.at_ms),
        f.opened.revision.to_string(),
        who(&f.opened),
        f.closed
            .as_ref()
            .map(|c| format!("{} (revision {})", rfc3339(c.at_ms), c.revision))
            .unwrap_or_else(|| "-".into()),
        span(f.open_for_ms),
    ]
}
