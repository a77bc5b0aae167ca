//! Findings out: issues written in the formats other tools take (JSON Lines, CSV, OCSF
//! Detection Findings as JSON Lines), one issue at a time so an export of any size streams.
//!
//! Owns the shape of each exported format and each issue's stable identity outside simian
//! ([`finding_uid`]). It must never query the store or decide which issues to export (the
//! caller pages through the store with its filter), and never changes a format's existing
//! fields: consumers key on them.

pub mod csv;
pub mod ocsf;

use std::io::Write;

use sha2::{Digest, Sha256};

use crate::store::IssueRow;

/// The formats an export can take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// One issue per line, the fields `simian issues --format json` prints per issue.
    Jsonl,
    /// A header row and one issue per record (RFC 4180, formula cells defused).
    Csv,
    /// One OCSF 1.6.0 Detection Finding per line.
    Ocsf,
}

/// The issue's identity wherever it is exported: `simian:` and the hex SHA-256 of the
/// item's ARN, the plugin id, the check id and the evidence hash (the SHA-256 of the notes,
/// as the store keys issues), each length-prefixed so no two tuples hash alike. Unlike the
/// issue's row id it is the same in every store that recorded the same finding (a SQLite
/// and a PostgreSQL installation, a rebuilt store), so a consumer can deduplicate on it.
pub fn finding_uid(arn: &str, plugin: &str, check_id: &str, notes: &str) -> String {
    let evidence = hex::encode(Sha256::digest(notes.as_bytes()));
    let mut h = Sha256::new();
    for part in [arn, plugin, check_id, evidence.as_str()] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    format!("simian:{}", hex::encode(h.finalize()))
}

/// [`finding_uid`] of a listed issue.
pub fn row_uid(r: &IssueRow) -> String {
    finding_uid(&r.arn, &r.issue.plugin, &r.issue.check_id, &r.issue.notes)
}

/// Writes issues in one format; [`Exporter::finish`] flushes (and must be called).
pub struct Exporter<W: Write> {
    sink: Sink<W>,
}

enum Sink<W: Write> {
    Jsonl(W),
    Csv(Box<csv::IssueWriter<W>>),
    Ocsf(W, ocsf::Context),
}

impl<W: Write> Exporter<W> {
    /// `context` names the product and the accounts in OCSF findings (unused otherwise).
    pub fn new(format: ExportFormat, context: ocsf::Context, out: W) -> std::io::Result<Self> {
        let sink = match format {
            ExportFormat::Jsonl => Sink::Jsonl(out),
            ExportFormat::Csv => Sink::Csv(Box::new(csv::IssueWriter::new(out)?)),
            ExportFormat::Ocsf => Sink::Ocsf(out, context),
        };
        Ok(Exporter { sink })
    }

    /// The issues (of the rows about to be written) whose score changed since first recorded.
    pub fn note_rescored(&mut self, ids: std::collections::HashSet<i64>) {
        if let Sink::Ocsf(_, context) = &mut self.sink {
            context.rescored = ids;
        }
    }

    pub fn write(&mut self, row: &IssueRow) -> std::io::Result<()> {
        match &mut self.sink {
            Sink::Jsonl(w) => json_line(w, row),
            Sink::Csv(w) => w.write(row),
            Sink::Ocsf(w, context) => json_line(w, &ocsf::detection_finding(row, context)),
        }
    }

    pub fn finish(self) -> std::io::Result<()> {
        match self.sink {
            Sink::Jsonl(mut w) | Sink::Ocsf(mut w, _) => w.flush(),
            Sink::Csv(w) => w.finish(),
        }
    }
}

fn json_line<T: serde::Serialize>(w: &mut impl Write, value: &T) -> std::io::Result<()> {
    serde_json::to_writer(&mut *w, value)?;
    w.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_depends_on_every_part_and_not_on_where_they_split() {
        let a = finding_uid("arn:x", "p", "c", "notes");
        assert!(a.starts_with("simian:") && a.len() == "simian:".len() + 64);
        assert_eq!(a, finding_uid("arn:x", "p", "c", "notes"));
        assert_ne!(a, finding_uid("arn:x", "p", "c", "notes2"));
        assert_ne!(a, finding_uid("arn:xp", "", "c", "notes"));
        assert_ne!(a, finding_uid("arn:x", "pc", "", "notes"));
    }
}
