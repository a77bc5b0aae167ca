//! Which changes a notifier's recipient wants to hear about.
//!
//! The host may hand a notifier changes that only refresh still-open issues; a subscription
//! keeps those out, so the same open issue is never announced twice.
//!
//! ```
//! use simian_sdk::subscription::Subscription;
//! use simian_sdk::{Change, ChangeKind, Issue, Item};
//!
//! let sub: Subscription = serde_json::from_str(r#"{"accounts": ["1111*"], "min_score": 5}"#)?;
//! let item = Item::new("AWS::S3::Bucket", "logs").with_account("111111111111");
//! let mut change = Change::new(ChangeKind::Modified, item);
//! change.new_issues.push(Issue::new("public", "Public bucket", 10));
//! change.new_issues.push(Issue::new("no-owner", "Missing owner tag", 1));
//! let relevant = sub.filter(&[change]);
//! assert_eq!(relevant[0].new_issues.len(), 1); // the score-1 issue is below min_score
//! # Ok::<(), serde_json::Error>(())
//! ```

use serde::Deserialize;

use crate::policy::wildcard_match;
use crate::{Change, ChangeKind, Error, Issue, settings};

/// A recipient's filter, as the operator writes it in a notifier's settings, e.g.
/// `{ accounts = ["1111*"], min_score = 5 }`. Plugins add their own fields (recipients,
/// channels) next to it with `#[serde(flatten)]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Subscription {
    /// Account id patterns (`*` any run of characters, `?` any one); every account by default.
    #[serde(default = "every_account")]
    pub accounts: Vec<String>,
    /// Issues scoring below this are left out. Above zero, item changes without such an
    /// issue are left out too: the recipient asked for findings, not for every edit.
    #[serde(default)]
    pub min_score: u32,
}

fn every_account() -> Vec<String> {
    vec!["*".to_string()]
}

impl Default for Subscription {
    /// Everything, from every account.
    fn default() -> Subscription {
        Subscription {
            accounts: every_account(),
            min_score: 0,
        }
    }
}

impl Subscription {
    /// Whether `account_id` matches one of the account patterns.
    pub fn matches_account(&self, account_id: &str) -> bool {
        self.accounts.iter().any(|p| wildcard_match(p, account_id))
    }

    /// The part of `change` this subscription wants, or `None` if nothing. Relevant are
    /// changes of a matching account that are an item change (see [`is_item_change`]) while
    /// `min_score` is 0, or that bring a new, regressed or fixed issue scoring at least
    /// `min_score`. Every issue list of the result, still-open included, keeps only issues
    /// scoring at least `min_score`; still-open issues alone never make a change relevant.
    pub fn relevant(&self, change: &Change) -> Option<Change> {
        if !self.matches_account(&change.item.account_id) {
            return None;
        }
        let keep = |issues: &[Issue]| -> Vec<Issue> {
            issues
                .iter()
                .filter(|i| i.score >= self.min_score)
                .cloned()
                .collect()
        };
        let filtered = Change {
            kind: change.kind,
            item: change.item.clone(),
            previous_configuration: change.previous_configuration.clone(),
            new_issues: keep(&change.new_issues),
            regressed_issues: keep(&change.regressed_issues),
            fixed_issues: keep(&change.fixed_issues),
            still_open_issues: keep(&change.still_open_issues),
        };
        let news = !filtered.new_issues.is_empty()
            || !filtered.regressed_issues.is_empty()
            || !filtered.fixed_issues.is_empty();
        (news || (self.min_score == 0 && is_item_change(change))).then_some(filtered)
    }

    /// The relevant part of each change, in order, dropping changes with nothing relevant.
    pub fn filter(&self, changes: &[Change]) -> Vec<Change> {
        changes.iter().filter_map(|c| self.relevant(c)).collect()
    }

    /// Subscriptions from the setting `key` (a list of tables), each with its plugin's own
    /// fields; `None` when the operator did not set it. Errors name the entry, e.g.
    /// `setting `subscriptions[1]`: missing field `to``.
    pub fn list_from_settings<T>(key: &str) -> Result<Option<Vec<T>>, Error>
    where
        T: for<'de> Deserialize<'de>,
    {
        let Some(value) = settings::get::<serde_json::Value>(key)? else {
            return Ok(None);
        };
        let serde_json::Value::Array(entries) = value else {
            return Err(Error::new(format!(
                "setting `{key}` must be a list of tables, not {value}"
            )));
        };
        entries
            .into_iter()
            .enumerate()
            .map(|(i, entry)| {
                T::deserialize(entry)
                    .map_err(|e| Error::from(e).context(format_args!("setting `{key}[{i}]`")))
            })
            .collect::<Result<Vec<T>, Error>>()
            .map(Some)
    }
}

/// The one-line summary notifiers lead with:
/// `123456789012: 2 changed items, 1 new issue, 1 regressed, 1 fixed`. The host sends one
/// account per batch; several are named rather than hidden.
pub fn headline(changes: &[Change]) -> String {
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
    let mut ids: Vec<&str> = Vec::new();
    for change in changes {
        if !ids.contains(&change.item.account_id.as_str()) {
            ids.push(&change.item.account_id);
        }
    }
    let accounts = match ids.as_slice() {
        [] => "no account".to_string(),
        [one] => (*one).to_string(),
        [first, second] => format!("{first}, {second}"),
        [first, second, rest @ ..] => format!("{first}, {second} and {} more", rest.len()),
    };
    format!("{accounts}: {}", parts.join(", "))
}

/// Whether the item itself changed: created, deleted, or modified with a previous
/// configuration. A `Modified` change without one only carries a re-audit's issues.
pub fn is_item_change(change: &Change) -> bool {
    match change.kind {
        ChangeKind::Created | ChangeKind::Deleted => true,
        ChangeKind::Modified => change.previous_configuration.is_some(),
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::*;
    use crate::Item;
    use crate::testing::TestHost;

    fn change(kind: ChangeKind, account: &str) -> Change {
        let item = Item::new("AWS::S3::Bucket", "logs").with_account(account);
        let mut change = Change::new(kind, item);
        if kind != ChangeKind::Created {
            change.previous_configuration = Some("{}".to_string());
        }
        change
    }

    fn sub(accounts: &[&str], min_score: u32) -> Subscription {
        Subscription {
            accounts: accounts.iter().map(|a| a.to_string()).collect(),
            min_score,
        }
    }

    fn titles(issues: &[Issue]) -> Vec<&str> {
        issues.iter().map(|i| i.title.as_str()).collect()
    }

    #[test]
    fn headline_counts_news_per_kind() {
        let mut modified = change(ChangeKind::Modified, "111111111111");
        modified.previous_configuration = Some("{}".into());
        modified.new_issues = vec![Issue::new("a", "A", 1), Issue::new("b", "B", 2)];
        let mut rescored = change(ChangeKind::Modified, "111111111111");
        // Only its issues changed (a re-audit): not a changed item.
        rescored.previous_configuration = None;
        rescored.fixed_issues = vec![Issue::new("c", "C", 3)];
        rescored.still_open_issues = vec![Issue::new("d", "D", 4)];
        let created = change(ChangeKind::Created, "111111111111");
        assert_eq!(
            headline(&[modified.clone(), rescored, created]),
            "111111111111: 2 changed items, 2 new issues, 1 fixed"
        );
        let others = [
            modified.clone(),
            change(ChangeKind::Deleted, "222222222222"),
            change(ChangeKind::Deleted, "333333333333"),
        ];
        assert_eq!(
            headline(&others),
            "111111111111, 222222222222 and 1 more: 3 changed items, 2 new issues"
        );
        assert_eq!(headline(&[]), "no account: ");
    }

    #[test]
    fn defaults_cover_everything() {
        let parsed: Subscription = serde_json::from_value(json!({})).expect("defaults");
        assert_eq!(parsed, Subscription::default());
        assert_eq!(parsed.accounts, ["*"]);
        assert_eq!(parsed.min_score, 0);
        let e =
            serde_json::from_value::<Subscription>(json!({"min_score": -1})).expect_err("negative");
        assert!(e.to_string().contains("invalid value"), "{e}");
    }

    #[test]
    fn accounts_match_patterns() {
        let s = sub(&["1111*", "222222222222"], 0);
        assert!(s.matches_account("111111111111"));
        assert!(s.matches_account("222222222222"));
        assert!(!s.matches_account("333333333333"));
        assert!(
            s.filter(&[change(ChangeKind::Created, "333333333333")])
                .is_empty()
        );
        assert_eq!(
            s.filter(&[change(ChangeKind::Created, "111100000000")])
                .len(),
            1
        );
        assert!(!sub(&[], 0).matches_account("111111111111"));
    }

    #[test]
    fn item_changes_count_only_without_min_score() {
        for kind in [
            ChangeKind::Created,
            ChangeKind::Modified,
            ChangeKind::Deleted,
        ] {
            let c = change(kind, "111111111111");
            assert!(is_item_change(&c), "{kind}");
            assert_eq!(sub(&["*"], 0).relevant(&c), Some(c.clone()), "{kind}");
            assert_eq!(sub(&["*"], 1).relevant(&c), None, "{kind}");
        }
    }

    #[test]
    fn reaudit_without_news_is_not_relevant() {
        let mut c = change(ChangeKind::Modified, "111111111111");
        c.previous_configuration = None;
        assert!(!is_item_change(&c));
        assert_eq!(sub(&["*"], 0).relevant(&c), None);
        c.fixed_issues.push(Issue::new("x", "Gone", 3));
        let got = sub(&["*"], 0).relevant(&c).expect("a fixed issue is news");
        assert_eq!(titles(&got.fixed_issues), ["Gone"]);
    }

    #[test]
    fn still_open_issues_alone_are_never_relevant() {
        let mut c = change(ChangeKind::Modified, "111111111111");
        c.previous_configuration = None;
        c.still_open_issues.push(Issue::new("x", "Open", 10));
        assert_eq!(sub(&["*"], 0).relevant(&c), None);
        assert_eq!(sub(&["*"], 10).relevant(&c), None);
        // Alongside news they stay, as context.
        c.regressed_issues.push(Issue::new("y", "Back", 10));
        let got = sub(&["*"], 5).relevant(&c).expect("regressed");
        assert_eq!(titles(&got.still_open_issues), ["Open"]);
        assert_eq!(titles(&got.regressed_issues), ["Back"]);
    }

    #[test]
    fn min_score_filters_every_issue_list() {
        let mut c = change(ChangeKind::Modified, "111111111111");
        c.new_issues = vec![Issue::new("a", "High", 10), Issue::new("b", "Low", 1)];
        c.regressed_issues = vec![Issue::new("c", "Low again", 2)];
        c.fixed_issues = vec![Issue::new("d", "Fixed high", 5)];
        c.still_open_issues = vec![Issue::new("e", "Open low", 4)];
        let got = sub(&["*"], 5).relevant(&c).expect("relevant");
        assert_eq!(titles(&got.new_issues), ["High"]);
        assert!(got.regressed_issues.is_empty());
        assert_eq!(titles(&got.fixed_issues), ["Fixed high"]);
        assert!(got.still_open_issues.is_empty());
        assert_eq!(got.item, c.item);
        assert_eq!(got.previous_configuration, c.previous_configuration);
        // Every issue below the threshold, and min_score > 0: nothing.
        assert_eq!(sub(&["*"], 11).relevant(&c), None);
        // Exactly at the threshold counts.
        assert!(sub(&["*"], 10).relevant(&c).is_some());
    }

    #[derive(Debug, Deserialize)]
    struct Mailbox {
        to: Vec<String>,
        #[serde(flatten)]
        subscription: Subscription,
    }

    #[test]
    fn list_from_settings_with_plugin_fields() {
        let host = TestHost::new()
            .setting(
                "subscriptions",
                json!([{"to": ["a@x"]}, {"to": ["b@x"], "accounts": ["1*"], "min_score": 7}]),
            )
            .setting("bad", json!([{"to": ["a@x"]}, {"accounts": ["*"]}]))
            .setting("scalar", "x");
        let _h = host.install();
        let list = Subscription::list_from_settings::<Mailbox>("subscriptions")
            .expect("valid")
            .expect("set");
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].to, ["a@x"]);
        assert_eq!(list[0].subscription, Subscription::default());
        assert_eq!(list[1].subscription, sub(&["1*"], 7));
        assert!(matches!(
            Subscription::list_from_settings::<Mailbox>("unset"),
            Ok(None)
        ));
        let e = Subscription::list_from_settings::<Mailbox>("bad").expect_err("no `to`");
        assert!(
            e.message()
                .starts_with("setting `bad[1]`: missing field `to`"),
            "{e}"
        );
        let e = Subscription::list_from_settings::<Mailbox>("scalar").expect_err("not a list");
        assert!(e.message().contains("must be a list of tables"), "{e}");
    }
}
