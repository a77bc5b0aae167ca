//! The Slack-compatible message: a plain `text` fallback and mrkdwn `blocks`, one section per
//! changed item and per issue. Mattermost and Rocket.Chat read the same `text` field.

use serde_json::{Value, json};
use simian_sdk::subscription::is_item_change;
use simian_sdk::{Change, ChangeKind, Issue, Item, diff};

/// Slack rejects messages with more blocks than this.
const MAX_BLOCKS: usize = 50;
/// Slack rejects section texts longer than this.
const MAX_SECTION_CHARS: usize = 3000;

/// Picks one of a change's issue lists.
type IssueList = fn(&Change) -> &Vec<Issue>;

pub struct Style {
    pub username: Option<String>,
    pub channel: Option<String>,
    pub max_diff_lines: usize,
}

pub fn payload(changes: &[Change], style: &Style, channel: Option<&str>) -> Value {
    let headline = simian_sdk::subscription::headline(changes);
    let mut blocks = vec![section(format!("*simian*: {}", escape(&headline)))];
    for change in changes.iter().filter(|c| is_item_change(c)) {
        blocks.push(section(item_text(change, style.max_diff_lines)));
    }
    let issue_lists: [(&str, IssueList); 3] = [
        ("New issue", |c| &c.new_issues),
        ("Regressed issue", |c| &c.regressed_issues),
        ("Fixed issue", |c| &c.fixed_issues),
    ];
    for (what, pick) in issue_lists {
        for change in changes {
            for issue in pick(change) {
                blocks.push(section(issue_text(what, issue, &change.item)));
            }
        }
    }
    if blocks.len() > MAX_BLOCKS {
        let more = blocks.len() - (MAX_BLOCKS - 1);
        blocks.truncate(MAX_BLOCKS - 1);
        blocks.push(json!({
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": format!("… and {more} more not shown")}],
        }));
    }
    let mut payload = json!({"text": format!("simian: {headline}"), "blocks": blocks});
    if let Some(username) = &style.username {
        payload["username"] = json!(username);
    }
    if let Some(channel) = channel {
        payload["channel"] = json!(channel);
    }
    payload
}

fn item_text(change: &Change, max_diff_lines: usize) -> String {
    let kind = match change.kind {
        ChangeKind::Created => "Created",
        ChangeKind::Modified => "Modified",
        ChangeKind::Deleted => "Deleted",
    };
    let mut text = format!("*{kind}* {}", label(&change.item));
    if let Some(actor) = change.actor() {
        text.push_str(&format!("\nby {}", escape(&actor.summary())));
    }
    let diff_lines = match (&change.previous_configuration, change.kind) {
        (Some(previous), ChangeKind::Modified) => {
            match diff::diff_json(previous, &change.item.configuration) {
                Ok(entries) => diff::render_lines(&entries, max_diff_lines),
                Err(e) => vec![format!("(no configuration diff: {e})")],
            }
        }
        // A whole created or deleted configuration would drown the channel.
        _ => Vec::new(),
    };
    if !diff_lines.is_empty() {
        text.push_str(&format!("\n```{}```", escape(&diff_lines.join("\n"))));
    }
    cap(text)
}

fn issue_text(what: &str, issue: &Issue, item: &Item) -> String {
    let mut text = format!(
        "*{what}* · score {} · *{}*\n{}",
        issue.score,
        escape(&issue.title),
        label(item)
    );
    if !issue.notes.trim().is_empty() {
        text.push_str(&format!("\n`{}`", escape(issue.notes.trim())));
    }
    if let Some(remediation) = &issue.remediation {
        text.push_str(&format!("\n_{}_", escape(remediation)));
    }
    cap(text)
}

/// `` `AWS::EC2::SecurityGroup` web (sg-1) in us-east-1 `` and the ARN on its own line.
fn label(item: &Item) -> String {
    let mut out = format!("`{}`", escape(&item.resource_type));
    if item.resource_name.is_empty() || item.resource_name == item.resource_id {
        out.push_str(&format!(" {}", escape(&item.resource_id)));
    } else {
        out.push_str(&format!(
            " {} ({})",
            escape(&item.resource_name),
            escape(&item.resource_id)
        ));
    }
    if !item.region.is_empty() && item.region != "global" {
        out.push_str(&format!(" in {}", escape(&item.region)));
    }
    if !item.arn.is_empty() {
        out.push_str(&format!("\n`{}`", escape(&item.arn)));
    }
    out
}

fn section(text: String) -> Value {
    json!({"type": "section", "text": {"type": "mrkdwn", "text": text}})
}

fn cap(text: String) -> String {
    match text.char_indices().nth(MAX_SECTION_CHARS - 1) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

/// The three characters Slack's mrkdwn wants escaped; everything else is literal.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
