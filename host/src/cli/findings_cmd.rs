//! `simian issues --format jsonl|csv|ocsf` and `simian report --format ocsf`: the issue
//! listings written as exports. Chooses the writer and pages through the store; the formats
//! themselves live in `crate::findings`.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::ValueEnum;

use super::{Format, store_cmds};
use crate::config::Config;
use crate::findings::{ExportFormat, Exporter, ocsf};
use crate::store::{IssueFilter, Store};

/// Issues fetched per store query: memory stays flat however many match.
const PAGE: u64 = 2000;

/// `simian issues --format`.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum IssuesFormat {
    Table,
    Json,
    /// One issue per line, the fields `json` prints per issue.
    Jsonl,
    /// A header row, one issue per record; formula cells defused.
    Csv,
    /// OCSF 1.6.0 Detection Findings, one per line.
    Ocsf,
}

/// `simian report --format`.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum ReportFormat {
    Table,
    Json,
    /// The report's open findings as OCSF 1.6.0 Detection Findings, one per line.
    Ocsf,
}

/// With `at`, the issues as recorded at that moment (`--at`), in every format.
pub async fn issues(
    config: Option<&Path>,
    filter: IssueFilter,
    at: Option<i64>,
    format: IssuesFormat,
) -> anyhow::Result<ExitCode> {
    match format {
        IssuesFormat::Table => store_cmds::issues(config, filter, at, Format::Table).await,
        IssuesFormat::Json => store_cmds::issues(config, filter, at, Format::Json).await,
        IssuesFormat::Jsonl => export(config, filter, at, ExportFormat::Jsonl).await,
        IssuesFormat::Csv => export(config, filter, at, ExportFormat::Csv).await,
        IssuesFormat::Ocsf => export(config, filter, at, ExportFormat::Ocsf).await,
    }
}

pub async fn report(
    config: Option<&Path>,
    filter: IssueFilter,
    at: Option<i64>,
    format: ReportFormat,
) -> anyhow::Result<ExitCode> {
    match format {
        ReportFormat::Table => store_cmds::report(config, filter, at, Format::Table).await,
        ReportFormat::Json => store_cmds::report(config, filter, at, Format::Json).await,
        // The report's findings: its items' open issues, under its filter.
        ReportFormat::Ocsf => {
            let filter = IssueFilter {
                open: Some(true),
                state: None,
                ..filter
            };
            export(config, filter, at, ExportFormat::Ocsf).await
        }
    }
}

async fn export(
    config: Option<&Path>,
    filter: IssueFilter,
    at: Option<i64>,
    format: ExportFormat,
) -> anyhow::Result<ExitCode> {
    let config = Config::discover(config)?;
    let mut context = ocsf::Context::new(env!("CARGO_PKG_VERSION"));
    context.account_names = config
        .accounts
        .iter()
        .map(|a| (a.id.clone(), a.name.clone()))
        .collect();
    let store = Store::open_reader(&config.storage.url)
        .await
        .with_context(|| format!("cannot open the store at {}", config.storage.url))?;
    let stdout = std::io::stdout().lock();
    let out = std::io::BufWriter::new(stdout);
    let result = match at {
        Some(at) => write_at(&store, at, filter, format, context, out).await,
        None => write_pages(&store, filter, format, context, out).await,
    };
    store.close().await;
    match result {
        Ok(()) => Ok(ExitCode::SUCCESS),
        // `simian issues --format csv | head`: the reader had enough.
        Err(e) if is_broken_pipe(&e) => Ok(ExitCode::SUCCESS),
        Err(e) => Err(e),
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.downcast_ref::<std::io::Error>()
        .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
}

async fn write_pages(
    store: &Store,
    filter: IssueFilter,
    format: ExportFormat,
    context: ocsf::Context,
    out: impl Write,
) -> anyhow::Result<()> {
    let mut exporter = Exporter::new(format, context, out)?;
    let mut page_filter = IssueFilter {
        after: None,
        limit: Some(PAGE),
        ..filter
    };
    loop {
        let page = store.issues(&page_filter).await?;
        exporter.note_rescored(rescored(store, &page, i64::MAX).await?);
        for row in &page {
            exporter.write(row)?;
        }
        if (page.len() as u64) < PAGE {
            break;
        }
        page_filter.after = page.last().map(|r| (r.issue.score, r.issue.id));
    }
    exporter.finish()?;
    Ok(())
}

/// The issues as recorded at `at` (time travel answers them in one piece, not paged).
async fn write_at(
    store: &Store,
    at: i64,
    filter: IssueFilter,
    format: ExportFormat,
    context: ocsf::Context,
    out: impl Write,
) -> anyhow::Result<()> {
    let mut exporter = Exporter::new(format, context, out)?;
    let rows = store.issues_at(at, &filter).await?;
    exporter.note_rescored(rescored(store, &rows, at).await?);
    for row in &rows {
        exporter.write(row)?;
    }
    exporter.finish()?;
    Ok(())
}

/// Which of these issues had changed score by `at` since first recorded (their OCSF activity
/// is Update).
async fn rescored(
    store: &Store,
    rows: &[crate::store::IssueRow],
    at: i64,
) -> anyhow::Result<std::collections::HashSet<i64>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.issue.id).collect();
    Ok(store.rescored_issues(&ids, at).await?)
}
