//! The digest: subject, plain-text body and an HTML alternative with the same content.

use std::fmt::Write as _;

use simian_sdk::mail::Message;
use simian_sdk::subscription::is_item_change;
use simian_sdk::{Change, Issue, Item, diff};

pub struct Style {
    pub subject_prefix: String,
    pub max_diff_lines: usize,
}

/// One changed item, ready to print.
struct ItemEntry<'a> {
    change: &'a Change,
    /// Diff lines for a modified item, or a note on why there are none.
    details: Vec<String>,
}

/// One issue with the item it is on.
struct IssueEntry<'a> {
    issue: &'a Issue,
    item: &'a Item,
}

/// The sections of a digest, in the order they are printed.
struct Digest<'a> {
    items: Vec<ItemEntry<'a>>,
    new: Vec<IssueEntry<'a>>,
    regressed: Vec<IssueEntry<'a>>,
    fixed: Vec<IssueEntry<'a>>,
}

pub fn message(to: &[String], changes: &[Change], style: &Style) -> Message {
    let digest = Digest::new(changes, style);
    let headline = simian_sdk::subscription::headline(changes);
    let subject = if style.subject_prefix.is_empty() {
        headline.clone()
    } else {
        format!("{} {headline}", style.subject_prefix)
    };
    Message::new(to.iter().cloned(), subject, digest.text(&headline)).html(digest.html(&headline))
}

impl<'a> Digest<'a> {
    fn new(changes: &'a [Change], style: &Style) -> Digest<'a> {
        let issues = |pick: fn(&Change) -> &Vec<Issue>| -> Vec<IssueEntry<'a>> {
            changes
                .iter()
                .flat_map(|c| {
                    pick(c).iter().map(move |issue| IssueEntry {
                        issue,
                        item: &c.item,
                    })
                })
                .collect()
        };
        Digest {
            items: changes
                .iter()
                .filter(|c| is_item_change(c))
                .map(|change| ItemEntry {
                    change,
                    details: details(change, style.max_diff_lines),
                })
                .collect(),
            new: issues(|c| &c.new_issues),
            regressed: issues(|c| &c.regressed_issues),
            fixed: issues(|c| &c.fixed_issues),
        }
    }

    fn issue_sections(&self) -> [(&'static str, &[IssueEntry<'a>]); 3] {
        [
            ("New issues", &self.new),
            ("Regressed issues", &self.regressed),
            ("Fixed issues", &self.fixed),
        ]
    }

    fn text(&self, headline: &str) -> String {
        let mut out = format!("simian: {headline}\n");
        if !self.items.is_empty() {
            heading(&mut out, "Changed items");
            for entry in &self.items {
                let item = &entry.change.item;
                let _ = writeln!(out, "* {} {}", entry.change.kind, label(item));
                if !item.arn.is_empty() {
                    let _ = writeln!(out, "  ARN: {}", item.arn);
                }
                if let Some(actor) = entry.change.actor() {
                    let _ = writeln!(out, "  By: {}", actor.summary());
                }
                for line in &entry.details {
                    let _ = writeln!(out, "    {line}");
                }
            }
        }
        for (title, entries) in self.issue_sections() {
            if entries.is_empty() {
                continue;
            }
            heading(&mut out, title);
            for entry in entries {
                let issue = entry.issue;
                let _ = writeln!(
                    out,
                    "* [{}] {}: {}",
                    issue.score,
                    issue.title,
                    label(entry.item)
                );
                if !entry.item.arn.is_empty() {
                    let _ = writeln!(out, "  ARN: {}", entry.item.arn);
                }
                for line in issue.notes.lines().filter(|l| !l.trim().is_empty()) {
                    let _ = writeln!(out, "  {line}");
                }
                if let Some(remediation) = &issue.remediation {
                    let _ = writeln!(out, "  Remediation: {remediation}");
                }
            }
        }
        out
    }

    fn html(&self, headline: &str) -> String {
        let mut out = format!(
            "<html><body style=\"font-family: sans-serif\">\n<p><b>simian</b>: {}</p>\n",
            escape(headline)
        );
        if !self.items.is_empty() {
            out.push_str("<h3>Changed items</h3>\n<ul>\n");
            for entry in &self.items {
                let item = &entry.change.item;
                let _ = write!(
                    out,
                    "<li><b>{}</b> {}",
                    entry.change.kind,
                    escape(&label(item))
                );
                if !item.arn.is_empty() {
                    let _ = write!(out, "<br><code>{}</code>", escape(&item.arn));
                }
                if let Some(actor) = entry.change.actor() {
                    let _ = write!(out, "<br>By {}", escape(&actor.summary()));
                }
                if !entry.details.is_empty() {
                    let _ = write!(out, "<pre>{}</pre>", escape(&entry.details.join("\n")));
                }
                out.push_str("</li>\n");
            }
            out.push_str("</ul>\n");
        }
        for (title, entries) in self.issue_sections() {
            if entries.is_empty() {
                continue;
            }
            let _ = writeln!(out, "<h3>{title}</h3>\n<ul>");
            for entry in entries {
                let issue = entry.issue;
                let _ = write!(
                    out,
                    "<li>[{}] <b>{}</b>: {}",
                    issue.score,
                    escape(&issue.title),
                    escape(&label(entry.item))
                );
                if !entry.item.arn.is_empty() {
                    let _ = write!(out, "<br><code>{}</code>", escape(&entry.item.arn));
                }
                if !issue.notes.trim().is_empty() {
                    let _ = write!(out, "<br><code>{}</code>", escape(issue.notes.trim()));
                }
                if let Some(remediation) = &issue.remediation {
                    let _ = write!(out, "<br>Remediation: {}", escape(remediation));
                }
                out.push_str("</li>\n");
            }
            out.push_str("</ul>\n");
        }
        out.push_str("</body></html>\n");
        out
    }
}

fn heading(out: &mut String, title: &str) {
    let _ = write!(out, "\n{title}\n{}\n", "-".repeat(title.chars().count()));
}

/// `AWS::EC2::SecurityGroup web (sg-1) in us-east-1`.
fn label(item: &Item) -> String {
    let mut out = item.resource_type.clone();
    if item.resource_name.is_empty() || item.resource_name == item.resource_id {
        let _ = write!(out, " {}", item.resource_id);
    } else {
        let _ = write!(out, " {} ({})", item.resource_name, item.resource_id);
    }
    if !item.region.is_empty() && item.region != "global" {
        let _ = write!(out, " in {}", item.region);
    }
    out
}

/// The configuration diff of a modified item. Created and deleted items have none: their
/// whole configuration would drown the message.
fn details(change: &Change, max_lines: usize) -> Vec<String> {
    let Some(previous) = &change.previous_configuration else {
        return Vec::new();
    };
    if change.kind != simian_sdk::ChangeKind::Modified {
        return Vec::new();
    }
    // A diff that cannot be computed still leaves the change worth telling.
    match diff::diff_json(previous, &change.item.configuration) {
        Ok(entries) if entries.is_empty() => {
            vec!["(no configuration difference)".to_string()]
        }
        Ok(entries) => diff::render_lines(&entries, max_lines),
        Err(e) => vec![format!("(no configuration diff: {e})")],
    }
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
