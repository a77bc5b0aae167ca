//! Security Monkey's security group rules: rules open to the internet (ingress and egress
//! judged separately), and rules whose sources or destinations belong to other accounts or
//! to networks nobody configured. As in Security Monkey, a group nothing uses (no network
//! interface) scores 0 on every check, since its rules admit nothing yet; the setting
//! `unused_groups = "full"` scores them like attached groups. The notes do not change with
//! use, so a group's first attachment re-scores its open issues instead of opening new ones.

use simian_sdk::accounts::{self, Relation};
use simian_sdk::arn::is_account_id;
use simian_sdk::prelude::*;

use simian_sdk::resources::{Direction, SecurityGroup};

/// (check id, title, score, description).
type Check = (&'static str, &'static str, u32, &'static str);

const INGRESS: Check = (
    "internet-accessible-ingress",
    "Internet Accessible",
    10,
    "An ingress rule accepts traffic from any address (0.0.0.0/0 or ::/0).",
);
const EGRESS: Check = (
    "internet-accessible-egress",
    "Internet Accessible",
    10,
    "An egress rule sends traffic to any address (0.0.0.0/0 or ::/0), including the \
     default allow-all egress rule.",
);
const FRIENDLY: Check = (
    "friendly-cross-account",
    "Friendly Cross Account",
    0,
    "A rule references a group or network of another of our accounts.",
);
const THIRD_PARTY: Check = (
    "thirdparty-cross-account",
    "Thirdparty Cross Account",
    0,
    "A rule references a group or network of a third-party account.",
);
const UNKNOWN: Check = (
    "unknown-access",
    "Unknown Access",
    10,
    "A rule references a group of an unknown account, or a CIDR outside every configured \
     network.",
);
const CHECKS: [Check; 5] = [INGRESS, EGRESS, FRIENDLY, THIRD_PARTY, UNKNOWN];

pub struct SecurityGroupAuditor {
    /// Score unused groups' issues like attached groups' (`unused_groups = "full"`).
    full_unused: bool,
}

impl Auditor for SecurityGroupAuditor {
    fn new() -> Result<Self, Error> {
        let full_unused = match settings::get_str("unused_groups")?.as_deref() {
            None | Some("zero") => false,
            Some("full") => true,
            Some(other) => {
                return Err(Error::new(format!(
                    "setting `unused_groups` is `{other}`; use \"zero\" (Security Monkey's \
                     default: unused groups score 0) or \"full\""
                )));
            }
        };
        Ok(SecurityGroupAuditor { full_unused })
    }

    fn checks() -> Vec<CheckInfo> {
        CHECKS
            .iter()
            .fold(Checks::new(), |info, (id, title, score, description)| {
                info.check(*id, *title, *score, *description)
            })
            .into()
    }

    fn audit(&self, item: &Item) -> Result<Vec<Issue>, Error> {
        let group: SecurityGroup = item.configuration()?;
        let mut issues = Issues {
            zero: group.in_use == Some(false) && !self.full_unused,
            ..Default::default()
        };
        let directions = [
            (Direction::Ingress, &group.ip_permissions, INGRESS),
            (Direction::Egress, &group.ip_permissions_egress, EGRESS),
        ];
        for (direction, rules, internet) in directions {
            for rule in rules {
                let access = rule.access(direction);
                for cidr in rule.cidrs() {
                    let check = if cidr.is_open() {
                        Some(internet)
                    } else {
                        relation_check(
                            accounts::classify_cidr(&item.account_id, &cidr.to_string())?.relation,
                        )
                    };
                    issues.add(check, &format!("cidr:{cidr}"), &access);
                }
                for pair in &rule.user_id_group_pairs {
                    // A pair without userId is a group of this account.
                    let account = pair
                        .user_id
                        .as_deref()
                        .map(str::trim)
                        .filter(|u| !u.is_empty())
                        .unwrap_or(&item.account_id);
                    // `amazon-elb` and other AWS-owned sources are not accounts to place.
                    if !is_account_id(account) {
                        continue;
                    }
                    let relation = accounts::classify_account(&item.account_id, account)?.relation;
                    let name = pair
                        .group_id
                        .as_deref()
                        .or(pair.group_name.as_deref())
                        .unwrap_or("?");
                    issues.add(
                        relation_check(relation),
                        &format!("security_group:{account}/{name}"),
                        &access,
                    );
                }
            }
        }
        Ok(issues.found)
    }
}

register_auditor!(SecurityGroupAuditor);

/// Issues of one group, each (check, notes) once: two rules with the same protocol and ports
/// would be one issue to the host anyway.
#[derive(Default)]
struct Issues {
    found: Vec<Issue>,
    /// The group is unused: every issue scores 0.
    zero: bool,
}

impl Issues {
    fn add(&mut self, check: Option<Check>, entity: &str, access: &str) {
        let Some((id, title, score, _)) = check else {
            return;
        };
        let score = if self.zero { 0 } else { score };
        let notes = format!("Entity: [{entity}] Access: [{access}]");
        if self
            .found
            .iter()
            .any(|i| i.check_id == id && i.notes == notes)
        {
            return;
        }
        self.found.push(
            Issue::new(id, title, score)
                .notes(notes)
                .remediation(remediation(id, entity, access)),
        );
    }
}

fn relation_check(relation: Relation) -> Option<Check> {
    match relation {
        Relation::Same => None,
        Relation::Friendly => Some(FRIENDLY),
        Relation::ThirdParty => Some(THIRD_PARTY),
        Relation::Unknown => Some(UNKNOWN),
    }
}

fn remediation(check_id: &str, entity: &str, access: &str) -> String {
    match check_id {
        "internet-accessible-ingress" | "internet-accessible-egress" => format!(
            "Restrict {access} to the addresses that need it instead of {entity}, or remove \
             the rule."
        ),
        "unknown-access" => format!(
            "Remove the rule for {entity}, or configure its owner under [[accounts]] or \
             [[networks]]."
        ),
        _ => "Informational: confirm the cross-account rule is still needed.".to_string(),
    }
}

#[cfg(test)]
mod tests;
