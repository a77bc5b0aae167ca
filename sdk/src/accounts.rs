//! Who is behind an account id, ARN, CIDR or S3 canonical id, against the accounts and
//! networks the operator configured. Needs the `accounts` grant.

use crate::HostError;

/// The relation and classification types are `simian-model`'s: the host classifies with the
/// very same rules.
pub use simian_model::accounts::{Classification, Relation};

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
