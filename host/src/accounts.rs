//! Who is behind an account id, ARN, CIDR or S3 canonical id: the configured accounts and
//! networks handed to `simian-model`'s `AccountBook`, the one implementation of these rules
//! (the SDK's test host runs it too, so a plugin's tests and the host agree).
//!
//! Owns turning the configuration into that book (`tests/classification.rs` checks it against
//! the SDK's test host over one table; the rules' own tests live with them). It must never call
//! AWS.

use crate::config::{AccountConfig, NetworkConfig};
use simian_model::accounts::{Account, Network};
pub use simian_model::accounts::{AccountBook, Classification, Relation};
use simian_model::cidr::Cidr;

/// The book of the configured accounts and networks.
pub fn book(accounts: &[AccountConfig], networks: &[NetworkConfig]) -> AccountBook {
    let accounts: Vec<Account> = accounts
        .iter()
        .map(|a| Account {
            id: a.id.clone(),
            name: a.name.clone(),
            third_party: a.third_party,
            canonical_id: a.canonical_id.clone(),
        })
        .collect();
    let networks: Vec<Network> = networks
        .iter()
        .filter_map(|n| {
            // A parsed network always converts; the filter keeps this total.
            Cidr::new(n.cidr.network(), n.cidr.prefix_len())
                .ok()
                .map(|cidr| Network {
                    name: n.name.clone(),
                    cidr,
                    account: n.account.clone(),
                })
        })
        .collect();
    AccountBook::new(&accounts, &networks)
}
