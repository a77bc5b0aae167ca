//! Resources shared by attribute rather than by policy: RDS and EBS snapshots (restore /
//! create-volume permissions) and AMIs (launch permissions). Security Monkey judged them with
//! the same categories as a resource policy: shared with everyone is Internet Accessible,
//! shared with an account is friendly, third party or unknown by that account.

use super::classify::{EntityAccess, Finding, FindingKind, classify_entity};
use super::entities::{Entity, json_list};
use crate::Error;
use crate::accounts::Relation;

/// Values of a sharing attribute that mean "everyone": `all` (RDS, EC2) and, for EBS
/// snapshots, `aws-marketplace` (any marketplace seller may use it).
pub const EVERYONE: &[&str] = &["all", "aws-marketplace"];

/// Findings for a resource of `own_account` shared with `shared_with` (account ids or the
/// [`EVERYONE`] values), each saying which `actions` the share permits. Accounts that do not
/// parse are parse errors; the owner's own account raises nothing.
pub fn sharing_findings(
    own_account: &str,
    shared_with: &[String],
    actions: &[&str],
) -> Result<Vec<Finding>, Error> {
    let actions = json_list(&actions.iter().map(|a| a.to_string()).collect::<Vec<_>>());
    let mut findings: Vec<Finding> = Vec::new();
    let mut add = |kind, notes: String| {
        let f = Finding { kind, notes };
        if !findings.contains(&f) {
            findings.push(f);
        }
    };
    let everyone: Vec<&str> = shared_with
        .iter()
        .map(|s| s.trim())
        .filter(|s| EVERYONE.contains(s))
        .collect();
    for group in &everyone {
        add(
            FindingKind::InternetAccessible,
            format!("Entity: [group:{group}] Actions: {actions}"),
        );
    }
    for account in shared_with.iter().map(|s| s.trim()) {
        if EVERYONE.contains(&account) {
            continue;
        }
        let notes = || format!("Entity: [account:{account}] Actions: {actions}");
        match classify_entity(own_account, &Entity::Account(account.to_string()))? {
            EntityAccess::Unparseable { .. } => add(
                FindingKind::ParseError,
                format!("Could not parse account - {account}"),
            ),
            EntityAccess::Anyone | EntityAccess::NotAnAccount => {}
            EntityAccess::Account(c) => match c.relation {
                Relation::Same => {}
                Relation::Friendly => add(FindingKind::FriendlyCrossAccount, notes()),
                Relation::ThirdParty => add(FindingKind::ThirdPartyCrossAccount, notes()),
                // Shared with everyone anyway: one account more adds nothing to triage.
                Relation::Unknown if everyone.is_empty() => {
                    add(FindingKind::UnknownAccess, notes())
                }
                Relation::Unknown => {}
            },
        }
    }
    Ok(findings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TestHost;

    const OWN: &str = "111111111111";
    const ACTIONS: &[&str] = &["rds:RestoreDBInstanceFromDBSnapshot"];

    fn findings(shared_with: &[&str]) -> Vec<(FindingKind, String)> {
        let _host = TestHost::new()
            .account(OWN, "prod", false)
            .account("222222222222", "dev", false)
            .account("333333333333", "vendor", true)
            .install();
        let shared: Vec<String> = shared_with.iter().map(|s| s.to_string()).collect();
        sharing_findings(OWN, &shared, ACTIONS)
            .expect("classified")
            .into_iter()
            .map(|f| (f.kind, f.notes))
            .collect()
    }

    #[test]
    fn shared_with_everyone_is_internet_accessible() {
        let found = findings(&["all"]);
        assert_eq!(
            found,
            [(
                FindingKind::InternetAccessible,
                "Entity: [group:all] Actions: [\"rds:RestoreDBInstanceFromDBSnapshot\"]".into()
            )]
        );
        assert_eq!(
            findings(&["aws-marketplace"])[0].0,
            FindingKind::InternetAccessible
        );
    }

    #[test]
    fn accounts_are_classified() {
        let kinds: Vec<FindingKind> =
            findings(&[OWN, "222222222222", "333333333333", "999999999999"])
                .into_iter()
                .map(|(k, _)| k)
                .collect();
        assert_eq!(
            kinds,
            [
                FindingKind::FriendlyCrossAccount,
                FindingKind::ThirdPartyCrossAccount,
                FindingKind::UnknownAccess
            ]
        );
        assert!(findings(&[]).is_empty());
        assert!(findings(&[OWN]).is_empty());
    }

    #[test]
    fn unknown_accounts_are_not_repeated_when_shared_with_everyone() {
        let kinds: Vec<FindingKind> = findings(&["all", "999999999999"])
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(kinds, [FindingKind::InternetAccessible]);
    }

    #[test]
    fn a_malformed_account_is_a_parse_error() {
        let found = findings(&["12ab"]);
        assert_eq!(found[0].0, FindingKind::ParseError);
        assert_eq!(found[0].1, "Could not parse account - 12ab");
    }
}
