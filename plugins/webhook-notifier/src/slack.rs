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
    let headline = headline(changes);
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

/// `123456789012: 2 changed items, 1 new issue, 1 fixed`.
fn headline(changes: &[Change]) -> String {
    let count = |pick: fn(&Change) -> usize| changes.iter().map(pick).sum::<usize>();
    let mut parts = Vec::new();
    let mut add = |n: usize, one: &str, many: &str| {
        if n > 0 {
            parts.push(format!("{n} {}", if n == 1 { one } else { many }));
        }
    };
    add(
        changes.iter().filter(|c| is_item_change(c)).count(),
        "changed item",
        "changed items",
    );
    add(count(|c| c.new_issues.len()), "new issue", "new issues");
    add(
        count(|c| c.regressed_issues.len()),
        "regressed",
        "regressed",
    );
    add(count(|c| c.fixed_issues.len()), "fixed", "fixed");
    format!("{}: {}", accounts(changes), parts.join(", "))
}

/// The host sends one account per call; several are listed rather than hidden.
fn accounts(changes: &[Change]) -> String {
    let mut ids: Vec<&str> = Vec::new();
    for change in changes {
        if !ids.contains(&change.item.account_id.as_str()) {
            ids.push(&change.item.account_id);
        }
    }
    match ids.as_slice() {
        [] => "no account".to_string(),
        [one] => (*one).to_string(),
        [first, second] => format!("{first}, {second}"),
        [first, second, rest @ ..] => format!("{first}, {second} and {} more", rest.len()),
    }
}

fn item_text(change: &Change, max_diff_lines: usize) -> String {
    let kind = match change.kind {
        ChangeKind::Created => "Created",
        ChangeKind::Modified => "Modified",
        ChangeKind::Deleted => "Deleted",
    };
    let mut text = format!("*{kind}* {}", label(&change.item));
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
