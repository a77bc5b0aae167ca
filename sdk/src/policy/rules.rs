//! The resource-policy rule set as checks and issues, worded for the resource that carries
//! the policy ("the queue policy", "the key policy"), so every plugin judging a resource
//! policy lists and raises the same checks without a copy of their texts.

use super::classify::{Finding, FindingKind};
use crate::{Checks, Issue};

/// `checks` plus one check per [`FindingKind`], described for `policy` ("The queue policy").
pub fn policy_checks(checks: Checks, policy: &str) -> Checks {
    FindingKind::ALL.iter().fold(checks, |checks, kind| {
        checks.check(
            kind.check_id(),
            kind.title(),
            kind.score(),
            describe(*kind, policy),
        )
    })
}

/// One issue per finding, with the kind's title, score and remediation.
pub fn policy_issues(findings: Vec<Finding>, policy: &str) -> Vec<Issue> {
    findings
        .into_iter()
        .map(|f| {
            Issue::new(f.kind.check_id(), f.kind.title(), f.kind.score())
                .notes(f.notes)
                .remediation(remediation(f.kind, policy))
        })
        .collect()
}

fn describe(kind: FindingKind, policy: &str) -> String {
    match kind {
        FindingKind::InternetAccessible => format!(
            "{policy} allows anyone (`*`, NotPrincipal, or everyone it is shared with) without \
             a condition restricting it to known accounts or networks."
        ),
        FindingKind::UnknownAccess => format!(
            "{policy} names an account, ARN or network nobody configured (not reported when it \
             is internet accessible anyway)."
        ),
        FindingKind::FriendlyCrossAccount => format!("{policy} allows another of our accounts."),
        FindingKind::ThirdPartyCrossAccount => format!("{policy} allows a third-party account."),
        FindingKind::CrossAccountRoot => {
            format!("{policy} allows another account's root, so everything that account permits.")
        }
        FindingKind::ParseError => {
            format!(
                "A principal, account or CIDR in {} does not parse.",
                lower(policy)
            )
        }
    }
}

fn remediation(kind: FindingKind, policy: &str) -> String {
    match kind {
        FindingKind::InternetAccessible => format!(
            "Name the principals in {}, or restrict it with aws:SourceAccount, \
             aws:PrincipalOrgID, aws:SourceVpce or aws:SourceIp conditions.",
            lower(policy)
        ),
        FindingKind::UnknownAccess => {
            "Remove the grant, or configure its account under [[accounts]].".to_string()
        }
        FindingKind::FriendlyCrossAccount | FindingKind::ThirdPartyCrossAccount => {
            "Informational: confirm the cross-account access is still needed.".to_string()
        }
        FindingKind::CrossAccountRoot => {
            "Allow a specific role of the other account instead of its root.".to_string()
        }
        FindingKind::ParseError => "Remove principals of deleted roles or users.".to_string(),
    }
}

/// "The queue policy" → "the queue policy", for use mid-sentence.
fn lower(policy: &str) -> String {
    let mut chars = policy.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().collect::<String>() + chars.as_str(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_listed_once_with_its_title_and_score() {
        let checks: Vec<crate::CheckInfo> = policy_checks(Checks::new(), "The key policy").into();
        assert_eq!(checks.len(), FindingKind::ALL.len());
        let internet = checks
            .iter()
            .find(|c| c.id == "internet-accessible")
            .expect("listed");
        assert_eq!(internet.title, "Internet Accessible");
        assert_eq!(internet.score, 10);
        assert!(
            internet
                .description
                .starts_with("The key policy allows anyone")
        );
    }

    #[test]
    fn issues_keep_the_findings_notes() {
        let issues = policy_issues(
            vec![Finding {
                kind: FindingKind::UnknownAccess,
                notes: "Entity: [account:999999999999] Actions: [\"sqs:SendMessage\"]".into(),
            }],
            "The queue policy",
        );
        assert_eq!(issues.len(), 1);
        assert_eq!(issues[0].title, "Unknown Access");
        assert_eq!(issues[0].score, 10);
        assert!(issues[0].notes.contains("999999999999"));
    }
}
