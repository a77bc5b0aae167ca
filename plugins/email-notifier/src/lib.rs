//! Mails one digest per subscription for each batch of changes the host hands over.
//!
//! The host calls `notify` with one account's changes from one sweep and retries the call
//! from its outbox when it fails, so a mail that could not be sent must surface as an error.

mod render;

use serde::Deserialize;
use simian_sdk::prelude::*;
use simian_sdk::subscription::Subscription;

const DEFAULT_SUBJECT_PREFIX: &str = "[simian]";
const DEFAULT_MAX_DIFF_LINES: usize = 20;

pub struct EmailNotifier {
    mailboxes: Vec<Mailbox>,
    style: render::Style,
}

/// One entry of the `subscriptions` setting.
#[derive(Debug, Deserialize)]
struct Mailbox {
    to: Vec<String>,
    #[serde(flatten)]
    subscription: Subscription,
}

impl Notifier for EmailNotifier {
    fn new() -> Result<Self, Error> {
        let mailboxes =
            Subscription::list_from_settings::<Mailbox>("subscriptions")?.ok_or_else(|| {
                Error::new(
                    "setting `subscriptions` is required, e.g. \
                     subscriptions = [{ to = [\"security@example.com\"] }]",
                )
            })?;
        for (i, mailbox) in mailboxes.iter().enumerate() {
            check_recipients(&mailbox.to)
                .map_err(|e| e.context(format_args!("setting `subscriptions[{i}].to`")))?;
        }
        let subject_prefix = settings::get_str("subject_prefix")?
            .unwrap_or_else(|| DEFAULT_SUBJECT_PREFIX.to_string());
        // A line break would end the header early (and the relay would refuse it anyway).
        if subject_prefix.chars().any(char::is_control) {
            return Err(Error::new(
                "setting `subject_prefix` must not contain line breaks or control characters",
            ));
        }
        let max_diff_lines = settings::get_or("max_diff_lines", DEFAULT_MAX_DIFF_LINES)?;
        Ok(EmailNotifier {
            mailboxes,
            style: render::Style {
                subject_prefix,
                max_diff_lines,
            },
        })
    }

    fn notify(&self, changes: &[Change]) -> Result<(), Error> {
        let mut failures = Vec::new();
        for mailbox in &self.mailboxes {
            let relevant = mailbox.subscription.filter(changes);
            if relevant.is_empty() {
                continue;
            }
            let message = render::message(&mailbox.to, &relevant, &self.style);
            // The others are still tried: a dead mailbox should not hold up the rest. The
            // host retries the whole call, so those may get this digest twice.
            if let Err(e) = mail::send(message) {
                failures.push(format!("mail to {} failed: {e}", mailbox.to.join(", ")));
            }
        }
        if failures.is_empty() {
            Ok(())
        } else {
            Err(Error::new(failures.join("; ")))
        }
    }
}

register_notifier!(EmailNotifier);

/// Plausible addresses only; the relay and the operator's grant have the final word.
fn check_recipients(to: &[String]) -> Result<(), Error> {
    if to.is_empty() {
        return Err(Error::new("needs at least one address"));
    }
    for address in to {
        let plausible = address.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && !domain.is_empty() && !domain.contains('@')
        }) && !address
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == ',' || c == ';');
        if !plausible {
            return Err(Error::new(format!("`{address}` is not an e-mail address")));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
