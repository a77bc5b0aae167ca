//! Issues as CSV that opens in a spreadsheet as is: UTF-8 without a byte-order mark, a header
//! row, RFC 4180 quoting and CRLF record ends (the `csv` crate's own default is LF; RFC 4180
//! says CRLF, and every spreadsheet reads it).
//!
//! Owns the column set and defusing cells a spreadsheet would run as a formula: names, titles,
//! notes and tags come from AWS accounts and plugins an attacker may control, so any cell
//! starting with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`. It must
//! never drop or reorder columns (append new ones at the end).

use std::borrow::Cow;
use std::io::Write;

use crate::store::IssueRow;

/// The header row, in column order.
pub const HEADER: &[&str] = &[
    "finding_uid",
    "issue_id",
    "status",
    "justified",
    "score",
    "severity",
    "plugin",
    "plugin_version",
    "check_id",
    "title",
    "account_id",
    "region",
    "resource_type",
    "resource_name",
    "arn",
    "first_seen",
    "last_seen",
    "fixed",
    "regressions",
    "justified_by",
    "justification",
    "justified_until",
    "notes",
    "remediation",
];

/// A spreadsheet must show these cells, not evaluate them.
pub fn cell(text: &str) -> Cow<'_, str> {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}").into(),
        _ => text.into(),
    }
}

/// `open`, `fixed`, or `retired` (closed because its plugin was unloaded).
pub fn status_word(r: &IssueRow) -> &'static str {
    match (r.issue.open, r.issue.retired) {
        (true, _) => "open",
        (false, true) => "retired",
        (false, false) => "fixed",
    }
}

/// A CSV writer of issues; the header is written on creation.
pub struct IssueWriter<W: Write> {
    inner: csv::Writer<W>,
}

impl<W: Write> IssueWriter<W> {
    pub fn new(out: W) -> std::io::Result<Self> {
        let mut inner = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(out);
        inner.write_record(HEADER).map_err(std::io::Error::other)?;
        Ok(IssueWriter { inner })
    }

    pub fn write(&mut self, r: &IssueRow) -> std::io::Result<()> {
        let cells = record(r);
        self.inner
            .write_record(cells.iter().map(|c| cell(c).into_owned()))
            .map_err(into_io)
    }

    pub fn finish(mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn into_io(e: csv::Error) -> std::io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => std::io::Error::other(format!("{other:?}")),
    }
}

/// One issue's cells in [`HEADER`] order, before defusing.
pub fn record(r: &IssueRow) -> Vec<String> {
    let i = &r.issue;
    let time = |ms: Option<i64>| ms.map(crate::when::rfc3339).unwrap_or_default();
    let j = i.justification.as_ref();
    vec![
        super::row_uid(r),
        i.id.to_string(),
        status_word(r).into(),
        if j.is_some() { "yes" } else { "no" }.into(),
        i.score.to_string(),
        super::ocsf::Severity::of_score(i.score).caption().into(),
        i.plugin.clone(),
        i.plugin_version.clone(),
        i.check_id.clone(),
        i.title.clone(),
        r.account_id.clone(),
        r.region.clone(),
        r.resource_type.clone(),
        r.resource_name.clone(),
        r.arn.clone(),
        time(Some(i.first_seen_ms)),
        time(Some(i.last_seen_ms)),
        time(i.fixed_ms),
        i.regressions.to_string(),
        j.map(|j| j.by.clone()).unwrap_or_default(),
        j.map(|j| j.reason.clone()).unwrap_or_default(),
        time(j.and_then(|j| j.until_ms)),
        i.notes.clone(),
        i.remediation.clone().unwrap_or_default(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_defused_and_other_text_kept() {
        for hostile in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(cell(hostile), format!("'{hostile}"));
        }
        for plain in ["", "arn:aws:s3:::b", "Internet Accessible", "1", "'quoted"] {
            assert_eq!(cell(plain), plain);
        }
    }

    #[test]
    fn header_and_record_line_up() {
        let row = crate::findings::ocsf::tests::row();
        assert_eq!(record(&row).len(), HEADER.len());
    }
}
