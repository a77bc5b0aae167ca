//! Posts one Slack-compatible message per matching subscription for each batch of changes.
//!
//! The host calls `notify` with one account's changes from one sweep and retries the call
//! from its outbox when it fails, so a refused or failed POST must surface as an error.

mod slack;

use serde::Deserialize;
use simian_sdk::prelude::*;
use simian_sdk::subscription::Subscription;

const DEFAULT_MAX_DIFF_LINES: usize = 10;
/// Enough of a refusal to tell why (Slack answers `invalid_payload`, `no_service`, ...).
const EXCERPT_CHARS: usize = 200;

pub struct WebhookNotifier {
    url: String,
    targets: Vec<Target>,
    style: slack::Style,
}

/// One entry of the `subscriptions` setting.
#[derive(Debug, Deserialize)]
struct Target {
    /// Overrides the top-level `channel` for this subscription.
    #[serde(default)]
    channel: Option<String>,
    #[serde(flatten)]
    subscription: Subscription,
}

impl Notifier for WebhookNotifier {
    fn new() -> Result<Self, Error> {
        let url = settings::get_str("url")?.ok_or_else(|| {
            Error::new(
                "setting `url` is required, e.g. url = \"https://hooks.slack.com/services/...\"",
            )
        })?;
        check_url(&url)?;
        let targets =
            Subscription::list_from_settings::<Target>("subscriptions")?.unwrap_or_else(|| {
                vec![Target {
                    channel: None,
                    subscription: Subscription::default(),
                }]
            });
        Ok(WebhookNotifier {
            url,
            targets,
            style: slack::Style {
                username: settings::get_str("username")?,
                channel: settings::get_str("channel")?,
                max_diff_lines: settings::get_or("max_diff_lines", DEFAULT_MAX_DIFF_LINES)?,
            },
        })
    }

    fn notify(&self, changes: &[Change]) -> Result<(), Error> {
        let mut failures = Vec::new();
        for target in &self.targets {
            let relevant = target.subscription.filter(changes);
            if relevant.is_empty() {
                continue;
            }
            let channel = target.channel.as_deref().or(self.style.channel.as_deref());
            let payload = slack::payload(&relevant, &self.style, channel);
            // The others are still tried; the host retries the whole call, so those may
            // see this message twice.
            if let Err(e) = self.post(&payload) {
                failures.push(match channel {
                    Some(channel) => e.context(format_args!("message for {channel}")),
                    None => e,
                });
            }
        }
        match failures.as_slice() {
            [] => Ok(()),
            [one] => Err(one.clone()),
            _ => Err(Error::new(
                failures
                    .iter()
                    .map(Error::message)
                    .collect::<Vec<_>>()
                    .join("; "),
            )),
        }
    }
}

register_notifier!(WebhookNotifier);

impl WebhookNotifier {
    /// Errors never include the URL: a Slack webhook URL is itself the credential.
    fn post(&self, payload: &serde_json::Value) -> Result<(), Error> {
        let request = http::Request::post(self.url.as_str()).json(payload)?;
        let response =
            http::send(request).map_err(|e| Error::new(format!("webhook POST failed: {e}")))?;
        if response.is_success() {
            return Ok(());
        }
        Err(Error::new(format!(
            "webhook answered HTTP {}: {}",
            response.status,
            excerpt(&response.body)
        )))
    }
}

fn check_url(url: &str) -> Result<(), Error> {
    let rest = ["https://", "http://"].iter().find_map(|scheme| {
        url.get(..scheme.len())
            .filter(|s| s.eq_ignore_ascii_case(scheme))
            .map(|_| &url[scheme.len()..])
    });
    match rest {
        Some(rest) if !rest.is_empty() && !rest.starts_with('/') => Ok(()),
        _ => Err(Error::new(
            "setting `url` must be an http(s) URL such as https://hooks.slack.com/services/...",
        )),
    }
}

/// The start of a response body on one line, for error messages.
fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let flat: String = text
        .trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    match flat.char_indices().nth(EXCERPT_CHARS) {
        Some((cut, _)) => format!("{}…", &flat[..cut]),
        None if flat.is_empty() => "(empty body)".to_string(),
        None => flat,
    }
}

#[cfg(test)]
mod tests;
