//! The bucket ACL: who it grants what, and Security Monkey's ACL checks.

use serde_json::Value;
use simian_sdk::accounts::{self, Relation};
use simian_sdk::policy::json_list;
use simian_sdk::{Error, Issue};

const ALL_USERS: &str = "http://acs.amazonaws.com/groups/global/AllUsers";
const AUTHENTICATED_USERS: &str = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";
const LOG_DELIVERY: &str = "http://acs.amazonaws.com/groups/s3/LogDelivery";

pub(crate) const INTERNET: (&str, &str, u32) =
    ("acl-internet-accessible", "Internet Accessible", 10);
pub(crate) const LOG: (&str, &str, u32) = ("acl-log-delivery", "Thirdparty Cross Account", 0);
pub(crate) const FRIENDLY: (&str, &str, u32) =
    ("acl-friendly-cross-account", "Friendly Cross Account", 0);
pub(crate) const THIRD_PARTY: (&str, &str, u32) = (
    "acl-thirdparty-cross-account",
    "Thirdparty Cross Account",
    0,
);
pub(crate) const UNKNOWN: (&str, &str, u32) = ("acl-unknown-access", "Unknown Access", 10);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Grantee {
    /// A group, by its full URI.
    Group(String),
    CanonicalUser(String),
    Email(String),
}

impl Grantee {
    fn value(&self) -> &str {
        match self {
            Grantee::Group(v) | Grantee::CanonicalUser(v) | Grantee::Email(v) => v,
        }
    }
}

/// A grantee with all the permissions the ACL gives it, sorted and once each.
struct Grant {
    grantee: Grantee,
    permissions: Vec<String>,
}

/// The ACL's owner and grants, from `supplementaryConfiguration.AccessControlList` (an
/// object as simian records it, or JSON text as AWS Config writes it). No ACL reads as none.
pub(crate) struct Acl {
    owner: Option<String>,
    grants: Vec<Grant>,
}

impl Acl {
    pub(crate) fn from_value(value: Option<&Value>) -> Result<Acl, Error> {
        let field = "supplementaryConfiguration.AccessControlList";
        let parsed;
        let acl = match value {
            None | Some(Value::Null) => {
                return Ok(Acl {
                    owner: None,
                    grants: Vec::new(),
                });
            }
            Some(Value::String(text)) => {
                parsed = serde_json::from_str::<Value>(text)
                    .map_err(|e| Error::from(e).context(format_args!("`{field}`")))?;
                &parsed
            }
            Some(v) => v,
        };
        let owner = acl
            .pointer("/owner/id")
            .and_then(Value::as_str)
            .map(str::to_string);
        let mut grants: Vec<Grant> = Vec::new();
        let list = match acl.get("grantList") {
            None | Some(Value::Null) => &[][..],
            Some(Value::Array(list)) => list.as_slice(),
            Some(_) => return Err(Error::new(format!("`{field}.grantList` must be a list"))),
        };
        for (i, grant) in list.iter().enumerate() {
            let Some(grantee) = grantee(grant.get("grantee")) else {
                return Err(Error::new(format!(
                    "`{field}.grantList[{i}].grantee` names no group, id or email"
                )));
            };
            let permission = grant
                .get("permission")
                .and_then(Value::as_str)
                .unwrap_or("UNKNOWN")
                .to_string();
            match grants.iter_mut().find(|g| g.grantee == grantee) {
                Some(g) => g.permissions.push(permission),
                None => grants.push(Grant {
                    grantee,
                    permissions: vec![permission],
                }),
            }
        }
        for g in &mut grants {
            g.permissions.sort();
            g.permissions.dedup();
        }
        Ok(Acl { owner, grants })
    }

    /// Security Monkey's ACL checks. The ACL's owner and `owners` (the bucket's
    /// `configuration.owner.id`) are the bucket's own account and raise nothing.
    pub(crate) fn audit(&self, own_account: &str, owners: &[&str]) -> Result<Vec<Issue>, Error> {
        let mut issues = Vec::new();
        for grant in &self.grants {
            let notes = format!(
                "Entity: [ACL:{}] Actions: {}",
                grant.grantee.value(),
                json_list(&grant.permissions)
            );
            let check = match &grant.grantee {
                Grantee::Group(uri) if uri == ALL_USERS || uri == AUTHENTICATED_USERS => {
                    Some(INTERNET)
                }
                Grantee::Group(uri) if uri == LOG_DELIVERY => Some(LOG),
                Grantee::Group(_) | Grantee::Email(_) => Some(UNKNOWN),
                Grantee::CanonicalUser(id)
                    if owners.iter().any(|o| o.eq_ignore_ascii_case(id))
                        || self
                            .owner
                            .as_deref()
                            .is_some_and(|o| o.eq_ignore_ascii_case(id)) =>
                {
                    None
                }
                Grantee::CanonicalUser(id) => {
                    match accounts::classify_canonical_id(own_account, id)?.relation {
                        Relation::Same => None,
                        Relation::Friendly => Some(FRIENDLY),
                        Relation::ThirdParty => Some(THIRD_PARTY),
                        Relation::Unknown => Some(UNKNOWN),
                    }
                }
            };
            if let Some((id, title, score)) = check {
                issues.push(
                    Issue::new(id, title, score)
                        .notes(notes)
                        .remediation(remediation(id)),
                );
            }
        }
        Ok(issues)
    }
}

/// simian writes `{"type": "Group", "uri": ...}` / `{"type": "CanonicalUser", "id": ...}`;
/// AWS Config writes group grantees as bare names (`"AllUsers"`) and users as `{"id": ..}`.
fn grantee(value: Option<&Value>) -> Option<Grantee> {
    let text = |key: &str| {
        value
            .and_then(|v| v.get(key))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    if let Some(Value::String(name)) = value {
        return Some(Grantee::Group(group_uri(name)));
    }
    if let Some(uri) = text("uri") {
        return Some(Grantee::Group(group_uri(uri)));
    }
    if let Some(id) = text("id") {
        return Some(Grantee::CanonicalUser(id.to_string()));
    }
    text("emailAddress").map(|e| Grantee::Email(e.to_string()))
}

/// The full URI of a group given by name or URI, so both spellings make the same notes.
fn group_uri(name_or_uri: &str) -> String {
    let name = name_or_uri.rsplit('/').next().unwrap_or(name_or_uri);
    match name {
        "AllUsers" => ALL_USERS.to_string(),
        "AuthenticatedUsers" => AUTHENTICATED_USERS.to_string(),
        "LogDelivery" => LOG_DELIVERY.to_string(),
        _ => name_or_uri.to_string(),
    }
}

fn remediation(check_id: &str) -> &'static str {
    match check_id {
        "acl-internet-accessible" => {
            "Remove the AllUsers / AuthenticatedUsers grant, and turn on S3 Block Public Access."
        }
        "acl-unknown-access" => {
            "Remove the grant, or configure the grantee's account (with its canonical_id) \
             under [[accounts]]."
        }
        _ => "Informational: confirm the grant is still needed.",
    }
}
