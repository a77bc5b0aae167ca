//! Placing a policy's entities against the operator's accounts and networks (the host's
//! `accounts` service), and the Security Monkey findings that follow.

use super::PolicyDocument;
use super::entities::{Entity, Origin, Who, json_list};
use crate::accounts::{self, Classification, Relation};
use crate::arn::{Arn, is_account_id};
use crate::cidr::Cidr;
use crate::{Error, HostError};

/// What an entity is, relative to the account of the item under audit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntityAccess {
    /// An account or network the host could place (same, friendly, third party, unknown).
    Account(Classification),
    /// Anybody: `*`, account `*`, an open CIDR.
    Anyone,
    /// Not an account: service principals, organisations, identity providers named by host
    /// name, VPC or endpoint id patterns, and AWS-owned ARNs (account `aws`). The host cannot
    /// tie these to an account, so they raise nothing.
    NotAnAccount,
    /// The value does not parse as what its key says it is. `input_type` is `ARN`,
    /// `account`, `CIDR` or `canonical id`, for the notes.
    Unparseable { input_type: &'static str },
}

/// Classify one entity for an item of `own_account`. Needs the `accounts` capability; a
/// denied or failed host call is an error, a value the host calls invalid is `Unparseable`.
pub fn classify_entity(own_account: &str, entity: &Entity) -> Result<EntityAccess, Error> {
    if entity.is_anyone() {
        return Ok(EntityAccess::Anyone);
    }
    let placed = |result: Result<Classification, HostError>, input_type| match result {
        Ok(c) => Ok(EntityAccess::Account(c)),
        Err(HostError::Invalid(_)) => Ok(EntityAccess::Unparseable { input_type }),
        Err(e) => Err(Error::from(e)),
    };
    match entity {
        Entity::Account(id) if is_account_id(id) => {
            placed(accounts::classify_account(own_account, id), "account")
        }
        Entity::Account(_) => Ok(EntityAccess::Unparseable {
            input_type: "account",
        }),
        Entity::Arn(text) => classify_arn(own_account, text, "ARN", placed),
        // Provider ARNs belong to an account; names like `accounts.google.com` do not.
        Entity::Federated(text) if text.starts_with("arn:") => {
            classify_arn(own_account, text, "ARN", placed)
        }
        Entity::Cidr(text) => match Cidr::parse(text.trim()) {
            Ok(cidr) => placed(
                accounts::classify_cidr(own_account, &cidr.to_string()),
                "CIDR",
            ),
            Err(_) => Ok(EntityAccess::Unparseable { input_type: "CIDR" }),
        },
        Entity::CanonicalUser(id) => placed(
            accounts::classify_canonical_id(own_account, id),
            "canonical id",
        ),
        // VPC and endpoint ids carry no account: the host places them through its recorded
        // inventory, asked as the account-less ARN of the VPC or endpoint. A pattern names
        // no one VPC and is left alone.
        Entity::Vpc(id) | Entity::Vpce(id) if id.contains(['*', '?']) => {
            Ok(EntityAccess::NotAnAccount)
        }
        Entity::Vpc(id) => classify_arn(
            own_account,
            &format!("arn:aws:ec2:::vpc/{}", id.trim()),
            "VPC",
            placed,
        ),
        Entity::Vpce(id) => classify_arn(
            own_account,
            &format!("arn:aws:ec2:::vpc-endpoint/{}", id.trim()),
            "VPC endpoint",
            placed,
        ),
        // `AROA…:session` names a role (every session of it); the part before the colon is a
        // unique id the host places through the recorded IAM users and roles, or an account id.
        Entity::UserId(value) => {
            let id = value.split(':').next().unwrap_or_default().trim();
            if is_account_id(id) {
                placed(accounts::classify_account(own_account, id), "account")
            } else if id.is_empty() || id.contains(['*', '?']) {
                Ok(EntityAccess::NotAnAccount)
            } else {
                classify_arn(
                    own_account,
                    &format!("arn:aws:iam:::unique-id/{id}"),
                    "user id",
                    placed,
                )
            }
        }
        Entity::Anyone => Ok(EntityAccess::Anyone),
        Entity::Federated(_) | Entity::Service(_) | Entity::OrgId(_) => {
            Ok(EntityAccess::NotAnAccount)
        }
    }
}

fn classify_arn(
    own_account: &str,
    text: &str,
    input_type: &'static str,
    placed: impl Fn(Result<Classification, HostError>, &'static str) -> Result<EntityAccess, Error>,
) -> Result<EntityAccess, Error> {
    match Arn::parse(text.trim()) {
        Err(_) => Ok(EntityAccess::Unparseable { input_type }),
        Ok(arn) if arn.account == "aws" => Ok(EntityAccess::NotAnAccount),
        Ok(arn) => placed(
            accounts::classify_arn(own_account, &arn.to_string()),
            input_type,
        ),
    }
}

/// The Security Monkey categories a resource policy can raise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FindingKind {
    /// "Internet Accessible", 10.
    InternetAccessible,
    /// "Friendly Cross Account", 0.
    FriendlyCrossAccount,
    /// "Thirdparty Cross Account", 0.
    ThirdPartyCrossAccount,
    /// "Unknown Access", 10.
    UnknownAccess,
    /// "Cross-Account Root IAM", 6: another account's root (every principal in it).
    CrossAccountRoot,
    /// "Parse Error", 3.
    ParseError,
}

impl FindingKind {
    /// Security Monkey's issue title.
    pub fn title(self) -> &'static str {
        match self {
            FindingKind::InternetAccessible => "Internet Accessible",
            FindingKind::FriendlyCrossAccount => "Friendly Cross Account",
            FindingKind::ThirdPartyCrossAccount => "Thirdparty Cross Account",
            FindingKind::UnknownAccess => "Unknown Access",
            FindingKind::CrossAccountRoot => "Cross-Account Root IAM",
            FindingKind::ParseError => "Parse Error",
        }
    }

    /// Security Monkey's score.
    pub fn score(self) -> u32 {
        match self {
            FindingKind::InternetAccessible | FindingKind::UnknownAccess => 10,
            FindingKind::CrossAccountRoot => 6,
            FindingKind::ParseError => 3,
            FindingKind::FriendlyCrossAccount | FindingKind::ThirdPartyCrossAccount => 0,
        }
    }

    /// A stable kebab-case check id: `internet-accessible`, `friendly-cross-account`,
    /// `thirdparty-cross-account`, `unknown-access`, `cross-account-root`, `parse-error`.
    pub fn check_id(self) -> &'static str {
        match self {
            FindingKind::InternetAccessible => "internet-accessible",
            FindingKind::FriendlyCrossAccount => "friendly-cross-account",
            FindingKind::ThirdPartyCrossAccount => "thirdparty-cross-account",
            FindingKind::UnknownAccess => "unknown-access",
            FindingKind::CrossAccountRoot => "cross-account-root",
            FindingKind::ParseError => "parse-error",
        }
    }

    /// Every kind, in the order plugins list their checks.
    pub const ALL: [FindingKind; 6] = [
        FindingKind::InternetAccessible,
        FindingKind::UnknownAccess,
        FindingKind::FriendlyCrossAccount,
        FindingKind::ThirdPartyCrossAccount,
        FindingKind::CrossAccountRoot,
        FindingKind::ParseError,
    ];
}

/// One finding of [`resource_policy_findings`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub kind: FindingKind,
    /// `Entity: [principal:arn:aws:iam::999999999999:root] Actions: ["sts:AssumeRole"]`,
    /// or `Could not parse ARN - <input>` for parse errors. Security Monkey's
    /// `Account: [id/name]` prefix is left out: notes are part of an issue's identity, and
    /// renaming an account in the configuration should not reopen its issues.
    pub notes: String,
}

/// Security Monkey's resource-policy rules for a policy on an item of `own_account`:
///
/// - internet accessible (one finding for the policy, listing the open actions);
/// - every allowed entity of another account: friendly, third party, or unknown (unknown
///   is not reported when the policy is internet accessible anyway);
/// - another account's root as a principal, whatever its relation;
/// - principals, accounts and CIDRs that do not parse.
///
/// Same-account entities, service principals and other non-accounts raise nothing. Findings
/// are in statement order, each (kind, notes) once.
pub fn resource_policy_findings(
    own_account: &str,
    policy: &PolicyDocument,
) -> Result<Vec<Finding>, Error> {
    let mut findings = Vec::new();
    let mut add = |kind, notes: String| {
        let finding = Finding { kind, notes };
        if !findings.contains(&finding) {
            findings.push(finding);
        }
    };
    let internet = policy.is_internet_accessible();
    if internet {
        let actions = json_list(&policy.internet_accessible_actions());
        add(
            FindingKind::InternetAccessible,
            format!("Entity: [principal:*] Actions: {actions}"),
        );
    }
    for statement in policy.allows() {
        let actions = json_list(&statement.action_summary());
        let bare = statement.principal.as_ref().is_some_and(|p| p.bare);
        for who in statement.whos_allowed() {
            // Judged as `{"AWS": …}`; the note keeps that reading visible to whoever triages.
            let note = if bare && who.origin == Origin::Principal {
                " Note: [Principal is a bare string; read as {\"AWS\": ...}]"
            } else {
                ""
            };
            let notes = || format!("Entity: [{who}] Actions: {actions}{note}");
            let relation = match classify_entity(own_account, &who.entity)? {
                EntityAccess::Anyone | EntityAccess::NotAnAccount => continue,
                EntityAccess::Unparseable { input_type } => {
                    add(FindingKind::ParseError, parse_error_notes(input_type, &who));
                    continue;
                }
                EntityAccess::Account(c) => c.relation,
            };
            match relation {
                Relation::Same => continue,
                Relation::Friendly => add(FindingKind::FriendlyCrossAccount, notes()),
                Relation::ThirdParty => add(FindingKind::ThirdPartyCrossAccount, notes()),
                Relation::Unknown if !internet => add(FindingKind::UnknownAccess, notes()),
                Relation::Unknown => {}
            }
            if who.is_account_root() {
                add(FindingKind::CrossAccountRoot, notes());
            }
        }
    }
    Ok(findings)
}

fn parse_error_notes(input_type: &str, who: &Who) -> String {
    format!("Could not parse {input_type} - {}", who.entity.value())
}
