//! Who is behind an account id, ARN, CIDR or S3 canonical id: the configured accounts and
//! networks handed to `simian-model`'s `AccountBook`, the one implementation of these rules
//! (the SDK's test host runs it too, so a plugin's tests and the host agree).
//!
//! Owns turning the configuration, and the inventory the store records (which account owns
//! each bucket, VPC, VPC endpoint, IAM user and role), into that book (`tests/classification.rs` checks it against the SDK's test
//! host over one table; the rules' own tests live with them). It must never call AWS nor
//! write the store.

use crate::config::{AccountConfig, NetworkConfig};
use crate::store::{ItemFilter, Store, StoreError};
use simian_model::accounts::{Account, Network};
pub use simian_model::accounts::{
    AccountBook, Classification, INVENTORY_TYPES, Inventory, Relation,
};
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

/// Who owns each bucket, VPC, VPC endpoint, IAM user and role the store holds (current, not
/// deleted).
pub async fn inventory(store: &Store) -> Result<Inventory, StoreError> {
    let mut inventory = Inventory::default();
    for resource_type in INVENTORY_TYPES {
        let filter = ItemFilter {
            resource_type: Some(resource_type.to_string()),
            ..Default::default()
        };
        for stored in store.current_items(&filter).await? {
            let item = stored.item;
            inventory.add(&item.resource_type, &item.resource_id, &item.account_id);
        }
    }
    Ok(inventory)
}
