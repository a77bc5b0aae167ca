//! The rules applied to each `Allow` statement of a policy.
//!
//! One statement can match several rules; to keep one finding per fact, a broader finding
//! hides the narrower ones it implies: `*` reports only Administrator Access (not one
//! Sensitive Permissions issue per service), `iam:*` hides the other IAM findings of the
//! statement, and actions with a dedicated check (`iam:PassRole`, the security-group
//! authorizations) are left out of the per-service ones.

use std::collections::{BTreeMap, BTreeSet};

use simian_sdk::Issue;
use simian_sdk::iam_catalog::{self, AccessLevel};
use simian_sdk::policy::{Statement, wildcard_match};

pub(crate) const FULL_ADMIN: &str = "full-admin";
pub(crate) const IAM_ADMIN: &str = "iam-admin";
pub(crate) const PERMISSIONS_MANAGEMENT: &str = "permissions-management";
pub(crate) const PASS_ROLE: &str = "iam-passrole";
pub(crate) const SECURITY_GROUP: &str = "security-group-authorize";
pub(crate) const SENSITIVE_WRITE: &str = "sensitive-service-write";
pub(crate) const NOT_ACTION: &str = "not-action";
pub(crate) const NOT_RESOURCE: &str = "not-resource";

pub(crate) const ADMIN: &str = "Administrator Access";
pub(crate) const SENSITIVE: &str = "Sensitive Permissions";
pub(crate) const AWKWARD: &str = "Awkward Statement Construction";

const PASS_ROLE_ACTION: &str = "iam:PassRole";
const SECURITY_GROUP_ACTIONS: [&str; 2] = [
    "ec2:AuthorizeSecurityGroupEgress",
    "ec2:AuthorizeSecurityGroupIngress",
];

/// Rule settings, resolved once per batch.
pub(crate) struct Rules {
    /// Lower-case service prefixes whose Write actions are reported.
    pub sensitive_services: BTreeSet<String>,
}

/// Where a statement sits and what it covers, for the notes:
/// `Policy: [inline:admin] Statement: [0] … Resources: ["*"]`.
pub(crate) struct Location<'a> {
    pub policy: &'a str,
    pub index: usize,
    /// The statement's `Resource`: part of the evidence, so widening it (one bucket → `*`)
    /// is a new issue and no justification of the narrower grant survives it.
    pub resources: &'a [String],
}

impl Location<'_> {
    fn notes(&self, rest: impl std::fmt::Display) -> String {
        let resources = if self.resources.is_empty() {
            String::new()
        } else {
            format!(" Resources: [{}]", quoted(self.resources))
        };
        format!(
            "Policy: [{}] Statement: [{}] {rest}{resources}",
            self.policy, self.index
        )
    }
}

impl Rules {
    /// Append the issues of one `Allow` statement to `issues`.
    pub(crate) fn audit_statement(
        &self,
        at: &Location<'_>,
        statement: &Statement,
        issues: &mut Vec<Issue>,
    ) {
        if !statement.not_action.is_empty() {
            issues.push(
                Issue::new(NOT_ACTION, AWKWARD, 10)
                    .notes(at.notes(format_args!(
                        "NotAction: [{}]",
                        quoted(&statement.not_action)
                    )))
                    .remediation(
                        "Allow with NotAction grants every action not listed, including \
                         actions AWS adds later; list the allowed actions instead.",
                    ),
            );
        }
        if !statement.not_resource.is_empty() {
            issues.push(
                Issue::new(NOT_RESOURCE, AWKWARD, 10)
                    .notes(at.notes(format_args!(
                        "NotResource: [{}]",
                        quoted(&statement.not_resource)
                    )))
                    .remediation(
                        "Allow with NotResource grants access to every resource not listed, \
                         including ones created later; list the allowed resources instead.",
                    ),
            );
        }

        let patterns: Vec<&str> = statement
            .action
            .iter()
            .map(|a| a.trim())
            .filter(|a| !a.is_empty())
            .collect();

        let everything: Vec<&str> = patterns
            .iter()
            .copied()
            .filter(|p| is_everything(p))
            .collect();
        if !everything.is_empty() {
            issues.push(
                Issue::new(FULL_ADMIN, ADMIN, 10)
                    .notes(at.notes(format_args!("Actions: [{}]", quoted(&everything))))
                    .remediation("Grant only the actions this identity needs instead of `*`."),
            );
            return;
        }

        let all_of_iam: Vec<&str> = patterns
            .iter()
            .copied()
            .filter(|p| is_all_of_iam(p))
            .collect();
        let iam_admin = !all_of_iam.is_empty();
        if iam_admin {
            issues.push(
                Issue::new(IAM_ADMIN, ADMIN, 10)
                    .notes(at.notes(format_args!("Actions: [{}]", quoted(&all_of_iam))))
                    .remediation(
                        "Full IAM access lets this identity grant itself anything; grant only \
                         the IAM actions it needs.",
                    ),
            );
        } else if patterns.iter().any(|p| wildcard_match(p, PASS_ROLE_ACTION)) {
            issues.push(
                Issue::new(PASS_ROLE, SENSITIVE, 10)
                    .notes(at.notes(format_args!("Actions: [{}]", quoted([PASS_ROLE_ACTION]))))
                    .remediation(
                        "iam:PassRole lets this identity hand roles to AWS services; limit \
                         Resource to the roles it must pass.",
                    ),
            );
        }

        let authorizations: Vec<&str> = SECURITY_GROUP_ACTIONS
            .into_iter()
            .filter(|action| patterns.iter().any(|p| wildcard_match(p, action)))
            .collect();
        if !authorizations.is_empty() {
            issues.push(
                Issue::new(SECURITY_GROUP, SENSITIVE, 7)
                    .notes(at.notes(format_args!("Actions: [{}]", quoted(&authorizations))))
                    .remediation(
                        "This identity can open security groups to any source; restrict it \
                         to the groups it manages, or remove the permission.",
                    ),
            );
        }

        self.by_service(at, &patterns, iam_admin, issues);
    }

    /// Permission-management actions, and writes on sensitive services, one issue per service.
    fn by_service(
        &self,
        at: &Location<'_>,
        patterns: &[&str],
        iam_admin: bool,
        issues: &mut Vec<Issue>,
    ) {
        // Sorted maps and sets keep the notes (part of an issue's identity) deterministic.
        let mut permissions: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
        let mut writes: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for &pattern in patterns {
            for action in iam_catalog::expand(pattern) {
                if (iam_admin && action.service == "iam") || has_own_check(&action.to_string()) {
                    continue;
                }
                match action.level {
                    AccessLevel::PermissionsManagement => {
                        permissions
                            .entry(action.service)
                            .or_default()
                            .insert(action.to_string());
                    }
                    AccessLevel::Write if self.sensitive_services.contains(action.service) => {
                        writes.entry(action.service).or_default().insert(pattern);
                    }
                    _ => {}
                }
            }
        }
        for (service, actions) in permissions {
            issues.push(
                Issue::new(PERMISSIONS_MANAGEMENT, SENSITIVE, 10)
                    .notes(at.notes(format_args!(
                        "Service: [{service}] Actions: [{}]",
                        quoted(&actions)
                    )))
                    .remediation(format!(
                        "These {service} actions change who may do what; grant them only to \
                         identities that administer access, on specific resources."
                    )),
            );
        }
        for (service, granted_by) in writes {
            issues.push(
                Issue::new(SENSITIVE_WRITE, SENSITIVE, 1)
                    .notes(at.notes(format_args!(
                        "Service: [{service}] Actions: [{}]",
                        quoted(&granted_by)
                    )))
                    .remediation(format!(
                        "Write access to {service} is sensitive; check it is needed and \
                         scoped to specific resources."
                    )),
            );
        }
    }
}

/// `*`, `*:*`, `**`: every action of every service.
fn is_everything(pattern: &str) -> bool {
    let only_stars = |s: &str| !s.is_empty() && s.bytes().all(|b| b == b'*');
    match pattern.split_once(':') {
        Some((service, name)) => only_stars(service) && only_stars(name),
        None => only_stars(pattern),
    }
}

/// Every IAM action: `iam:*`, `IAM:*`, `i*:*`.
fn is_all_of_iam(pattern: &str) -> bool {
    pattern.split_once(':').is_some_and(|(service, name)| {
        wildcard_match(service, "iam") && !name.is_empty() && name.bytes().all(|b| b == b'*')
    })
}

fn has_own_check(action: &str) -> bool {
    action.eq_ignore_ascii_case(PASS_ROLE_ACTION)
        || SECURITY_GROUP_ACTIONS
            .iter()
            .any(|a| a.eq_ignore_ascii_case(action))
}

/// `"a", "b"`: each value as a JSON string, as Security Monkey writes its notes.
fn quoted<S: AsRef<str>>(values: impl IntoIterator<Item = S>) -> String {
    values
        .into_iter()
        .map(|v| serde_json::Value::from(v.as_ref()).to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
