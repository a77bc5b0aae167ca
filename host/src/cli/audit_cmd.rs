//! `simian audit --item`: run the auditors over documents given on the command line.

use std::io::Read;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;

use super::Format;
use super::output::{clean, table};
use crate::audit::{self, AuditReport};
use crate::config::Config;
use crate::control::{self, Request};
use crate::item::Item;
use crate::runtime::{Runtime, StoreAccess};
use crate::services::items::MemoryItems;

pub async fn run(item: &str, config: Option<&Path>, format: Format) -> anyhow::Result<ExitCode> {
    let config = Config::discover(config)?;
    let (text, source_name) = if item == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read items from standard input")?;
        (text, "<stdin>".to_string())
    } else {
        let text = std::fs::read_to_string(item).with_context(|| format!("cannot read {item}"))?;
        (text, item.to_string())
    };
    let items = Item::parse_document(&text, &source_name)?;

    let request = Request::Audit {
        items: items.iter().map(Item::to_envelope).collect(),
    };
    let report: AuditReport = match control::request(&config.control_socket(), &request).await? {
        Some(answer) => serde_json::from_value(answer["report"].clone())
            .context("the running host's report is not readable")?,
        None => {
            let batch = config.plugins.batch_size;
            let runtime = Runtime::open(config, StoreAccess::None, Some(items.clone())).await?;
            runtime.plugins.scan().await;
            let source = Arc::new(MemoryItems::new(items.clone()));
            audit::audit_items(&runtime.plugins, &items, source, batch).await
        }
    };
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        Format::Table => print!("{}", render(&report)),
    }
    Ok(if report.has_errors() {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    })
}

fn render(report: &AuditReport) -> String {
    let mut out = String::new();
    for item in &report.items {
        let label = if item.arn.is_empty() {
            format!("{} {}", item.resource_type, item.resource_id)
        } else {
            item.arn.clone()
        };
        out.push_str(&format!("{}  (score {})\n", clean(&label), item.score));
        if item.issues.is_empty() && item.errors.is_empty() {
            out.push_str("  no issues\n");
        }
        if !item.issues.is_empty() {
            let rows: Vec<Vec<String>> = item
                .issues
                .iter()
                .map(|i| {
                    vec![
                        format!("  {}", i.plugin),
                        i.check_id.clone(),
                        i.score.to_string(),
                        i.title.clone(),
                        i.notes.clone(),
                    ]
                })
                .collect();
            out.push_str(&table(
                &["  PLUGIN", "CHECK", "SCORE", "TITLE", "NOTES"],
                &rows,
            ));
        }
        for e in &item.errors {
            out.push_str(&format!("  ERROR {}: {}\n", e.plugin, clean(&e.error)));
        }
    }
    for p in &report.plugin_errors {
        out.push_str(&format!(
            "plugin error: {}: {}\n",
            p.plugin,
            clean(&p.error)
        ));
    }
    out
}
