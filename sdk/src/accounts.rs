//! Who is behind an account id, ARN, CIDR or S3 canonical id, against the accounts and
//! networks the operator configured. Needs the `accounts` grant.

use std::fmt;

use crate::HostError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Relation {
    /// The same account as the item being audited (or one of our own networks).
    Same,
    /// Another account of ours that is not marked third party.
    Friendly,
    /// An account configured as third party (a vendor we trust).
    ThirdParty,
    /// Nobody we know.
    Unknown,
}

impl Relation {
    /// `same`, `friendly`, `third-party` or `unknown`, as the contract spells them.
    pub fn as_str(self) -> &'static str {
        match self {
            Relation::Same => "same",
            Relation::Friendly => "friendly",
            Relation::ThirdParty => "third-party",
            Relation::Unknown => "unknown",
        }
    }
}

impl fmt::Display for Relation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classification {
    pub relation: Relation,
    /// The account the subject belongs to, when it could be determined.
    pub account_id: Option<String>,
    /// The configured account or network name, when known.
    pub name: Option<String>,
}

/// `own_account` is the account of the item under audit.
pub fn classify_account(own_account: &str, account_id: &str) -> Result<Classification, HostError> {
    crate::backend::classify_account(own_account, account_id)
}

pub fn classify_arn(own_account: &str, arn: &str) -> Result<Classification, HostError> {
    crate::backend::classify_arn(own_account, arn)
}

pub fn classify_cidr(own_account: &str, cidr: &str) -> Result<Classification, HostError> {
    crate::backend::classify_cidr(own_account, cidr)
}

pub fn classify_canonical_id(
    own_account: &str,
    canonical_id: &str,
) -> Result<Classification, HostError> {
    crate::backend::classify_canonical_id(own_account, canonical_id)
}
