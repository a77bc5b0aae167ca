//! Who a statement lets in: its principals, and the accounts, ARNs, networks and
//! organisations its conditions narrow it to. Follows policyuniverse, the library Security
//! Monkey judged resource policies with.

use std::fmt;

use serde_json::Value;

use super::{Effect, PolicyDocument, Statement};
use crate::arn::Arn;
use crate::cidr::Cidr;

/// One party a statement names, typed by what it is.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Entity {
    /// `*`: anybody.
    Anyone,
    /// A bare account id (or, from a condition, whatever the key's value was).
    Account(String),
    /// An ARN as written; it may not parse (deleted principals show up as unique ids).
    Arn(String),
    /// An address or CIDR block from `aws:SourceIp`.
    Cidr(String),
    Vpc(String),
    Vpce(String),
    /// An AWS Organizations id from `aws:PrincipalOrgID`.
    OrgId(String),
    /// `lambda.amazonaws.com` and the like.
    Service(String),
    /// An S3 canonical user id.
    CanonicalUser(String),
    /// An identity provider: a SAML/OIDC provider ARN or a name like `accounts.google.com`.
    Federated(String),
    /// `aws:userid`: a user's or role's unique id (`AIDA…`, `AROA…:session`), or an account
    /// id for its root.
    UserId(String),
}

impl Entity {
    /// The entity kind as Security Monkey's notes spell it (`account`, `arn`, `cidr`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            Entity::Anyone => "principal",
            Entity::Account(_) => "account",
            Entity::Arn(_) => "arn",
            Entity::Cidr(_) => "cidr",
            Entity::Vpc(_) => "vpc",
            Entity::Vpce(_) => "vpce",
            Entity::OrgId(_) => "org",
            Entity::Service(_) => "service",
            Entity::CanonicalUser(_) => "canonical_user",
            Entity::Federated(_) => "federated",
            Entity::UserId(_) => "userid",
        }
    }

    pub fn value(&self) -> &str {
        match self {
            Entity::Anyone => "*",
            Entity::Account(v)
            | Entity::Arn(v)
            | Entity::Cidr(v)
            | Entity::Vpc(v)
            | Entity::Vpce(v)
            | Entity::OrgId(v)
            | Entity::Service(v)
            | Entity::CanonicalUser(v)
            | Entity::Federated(v)
            | Entity::UserId(v) => v,
        }
    }

    /// Anybody at all: `*`, an ARN whose account is `*`, or an open CIDR.
    pub fn is_anyone(&self) -> bool {
        match self {
            Entity::Anyone => true,
            Entity::Arn(text) | Entity::Federated(text) => {
                Arn::parse(text).is_ok_and(|a| a.is_any_account())
            }
            Entity::Cidr(text) => Cidr::parse(text).is_ok_and(|c| c.is_open()),
            Entity::Account(text) | Entity::UserId(text) => text == "*",
            _ => false,
        }
    }
}

/// Where in the statement an entity was found.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Origin {
    /// `Principal` (or `NotPrincipal`, which yields [`Entity::Anyone`]).
    Principal,
    /// A restricting condition on this key, lower-cased (`aws:sourceaccount`).
    Condition(String),
}

/// An entity and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Who {
    pub entity: Entity,
    pub origin: Origin,
}

impl Who {
    /// `principal` for anything named in `Principal` (as policyuniverse reports it), else
    /// the entity's kind.
    pub fn category(&self) -> &'static str {
        match self.origin {
            Origin::Principal => "principal",
            Origin::Condition(_) => self.entity.kind(),
        }
    }

    /// A whole account's root: an ARN ending in `:root`, or a bare account id as a principal
    /// (AWS stores `"123456789012"` as `arn:aws:iam::123456789012:root`).
    pub fn is_account_root(&self) -> bool {
        match (&self.entity, &self.origin) {
            (Entity::Arn(text), _) => Arn::parse(text).is_ok_and(|a| a.resource == "root"),
            (Entity::Account(_), Origin::Principal) => true,
            _ => false,
        }
    }
}

/// `principal:arn:aws:iam::999999999999:root`, `cidr:10.0.0.0/8`: the inside of `Entity: [..]`.
impl fmt::Display for Who {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.category(), self.entity.value())
    }
}

/// The condition keys that say who may use a resource, and what their values are.
fn entity_for_key(key: &str, value: &str) -> Option<Entity> {
    let value = value.to_string();
    Some(match key.to_ascii_lowercase().as_str() {
        "aws:sourcearn" | "aws:principalarn" => Entity::Arn(value),
        "aws:sourceaccount" | "aws:sourceowner" | "aws:principalaccount" | "kms:calleraccount" => {
            Entity::Account(value)
        }
        "aws:principalorgid" => Entity::OrgId(value),
        "aws:sourceip" => Entity::Cidr(value),
        "aws:sourcevpc" => Entity::Vpc(value),
        "aws:sourcevpce" => Entity::Vpce(value),
        "aws:userid" => Entity::UserId(value),
        _ => return None,
    })
}

/// Operators under which a key's values are the only ones allowed. `...IfExists` passes when
/// the key is absent and the negative operators allow everything else, so neither restricts.
fn is_restricting_operator(operator: &str) -> bool {
    let lower = operator.to_ascii_lowercase();
    let base = lower
        .strip_prefix("foranyvalue:")
        .or_else(|| lower.strip_prefix("forallvalues:"))
        .unwrap_or(&lower);
    matches!(
        base,
        "stringequals"
            | "stringequalsignorecase"
            | "stringlike"
            | "arnequals"
            | "arnlike"
            | "ipaddress"
    )
}

/// Condition values may be strings, lists, or (sloppily) numbers.
fn condition_values(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => vec![s.clone()],
        Value::Number(n) => vec![n.to_string()],
        Value::Array(list) => list.iter().flat_map(condition_values).collect(),
        _ => Vec::new(),
    }
}

impl Statement {
    /// The entities this statement's conditions restrict it to. A key counts only under a
    /// restricting operator and only when none of its values is open (`*`, `0.0.0.0/0`,
    /// an ARN of account `*`): any one open value lets everybody through.
    pub fn condition_entities(&self) -> Vec<Who> {
        let mut found = Vec::new();
        let Some(Value::Object(operators)) = &self.condition else {
            return found;
        };
        for (operator, keys) in operators {
            let Value::Object(keys) = keys else { continue };
            if !is_restricting_operator(operator) {
                continue;
            }
            for (key, values) in keys {
                let entities: Option<Vec<Entity>> = condition_values(values)
                    .iter()
                    .map(|v| entity_for_key(key, v))
                    .collect();
                let Some(entities) = entities else { continue };
                if entities.is_empty() || entities.iter().any(Entity::is_anyone) {
                    continue;
                }
                let origin = Origin::Condition(key.to_ascii_lowercase());
                for entity in entities {
                    push_unique(
                        &mut found,
                        Who {
                            entity,
                            origin: origin.clone(),
                        },
                    );
                }
            }
        }
        found
    }

    /// Everyone this statement names: its principals (`NotPrincipal` reads as `*`), then the
    /// entities its conditions restrict it to. Duplicates are dropped; the order is stable.
    pub fn whos_allowed(&self) -> Vec<Who> {
        let mut found = Vec::new();
        let principal = |entity| Who {
            entity,
            origin: Origin::Principal,
        };
        if self.not_principal.is_some() {
            push_unique(&mut found, principal(Entity::Anyone));
        }
        if let Some(p) = &self.principal {
            if p.any {
                push_unique(&mut found, principal(Entity::Anyone));
            }
            for aws in &p.aws {
                let entity = match aws.as_str() {
                    "*" => Entity::Anyone,
                    id if crate::arn::is_account_id(id) => Entity::Account(id.to_string()),
                    // Anything else should be an ARN; a unique id of a deleted role is not,
                    // and classifying it reports the parse error.
                    other => Entity::Arn(other.to_string()),
                };
                push_unique(&mut found, principal(entity));
            }
            for s in &p.service {
                push_unique(&mut found, principal(Entity::Service(s.clone())));
            }
            for f in &p.federated {
                push_unique(&mut found, principal(Entity::Federated(f.clone())));
            }
            for c in &p.canonical_user {
                push_unique(&mut found, principal(Entity::CanonicalUser(c.clone())));
            }
        }
        for who in self.condition_entities() {
            push_unique(&mut found, who);
        }
        found
    }

    /// Open to the internet: it allows, names anybody (`*`, an ARN of account `*`, or uses
    /// `NotPrincipal`), and no condition restricts it to particular accounts or networks.
    pub fn is_internet_accessible(&self) -> bool {
        if self.effect != Effect::Allow {
            return false;
        }
        let names_anyone = self.not_principal.is_some()
            || self.principal.as_ref().is_some_and(|p| {
                p.is_anyone() || p.aws.iter().any(|a| Entity::Arn(a.clone()).is_anyone())
            });
        names_anyone && self.condition_entities().is_empty()
    }

    /// The actions as notes show them, sorted and once each; `NotAction` entries read
    /// `NOT <action>`.
    pub fn action_summary(&self) -> Vec<String> {
        let mut actions: Vec<String> = self
            .action
            .iter()
            .cloned()
            .chain(self.not_action.iter().map(|a| format!("NOT {a}")))
            .collect();
        actions.sort();
        actions.dedup();
        actions
    }
}

impl PolicyDocument {
    /// Whether any statement is [internet accessible](Statement::is_internet_accessible).
    pub fn is_internet_accessible(&self) -> bool {
        self.statements
            .iter()
            .any(Statement::is_internet_accessible)
    }

    /// The actions of the internet-accessible statements, sorted and once each.
    pub fn internet_accessible_actions(&self) -> Vec<String> {
        let mut actions: Vec<String> = self
            .statements
            .iter()
            .filter(|s| s.is_internet_accessible())
            .flat_map(Statement::action_summary)
            .collect();
        actions.sort();
        actions.dedup();
        actions
    }
}

fn push_unique(found: &mut Vec<Who>, who: Who) {
    if !found.contains(&who) {
        found.push(who);
    }
}

/// A JSON list the way Python's `json.dumps` writes it, as in Security Monkey's notes:
/// `["s3:GetObject", "s3:PutObject"]`.
pub fn json_list(items: &[String]) -> String {
    let quoted: Vec<String> = items
        .iter()
        .map(|i| Value::String(i.clone()).to_string())
        .collect();
    format!("[{}]", quoted.join(", "))
}
