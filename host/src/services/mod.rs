//! Services the host offers plugins through capabilities: account classification, item
//! lookup, outbound HTTP, e-mail.
//!
//! Owns doing those things safely on a plugin's behalf. It must never decide whether a plugin
//! may use them (that is `plugin::grants`) nor touch wasmtime types (that is `plugin::host`).

pub mod egress;
pub mod items;
pub mod mail;

use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::accounts::AccountBook;
use crate::config::Config;

/// Why a host call did not succeed; mirrors the WIT `host-error` variant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostError {
    #[error("denied: {0}")]
    Denied(String),
    #[error("invalid: {0}")]
    Invalid(String),
    #[error("timeout")]
    Timeout,
    #[error("too large: {0}")]
    TooLarge(String),
    #[error("failed: {0}")]
    Failed(String),
}

/// Everything shared by all plugins' host calls.
pub struct HostServices {
    /// Rebuilt when the configuration changes and after each sweep (`rebuild_accounts`).
    pub accounts: ArcSwap<AccountBook>,
    /// Who owns each recorded bucket, VPC and endpoint, as of the last look at the store.
    inventory: ArcSwap<crate::accounts::Inventory>,
    pub items: Arc<dyn items::ItemSource>,
    pub mail: Option<mail::MailRelay>,
    pub http: egress::HttpLimits,
}

impl HostServices {
    pub fn from_config(config: &Config, items: Arc<dyn items::ItemSource>) -> Result<Self, String> {
        let mail = match &config.smtp {
            Some(smtp) => Some(mail::MailRelay::new(smtp)?),
            None => None,
        };
        Ok(HostServices {
            accounts: ArcSwap::from_pointee(crate::accounts::book(
                &config.accounts,
                &config.networks,
            )),
            inventory: ArcSwap::from_pointee(crate::accounts::Inventory::default()),
            items,
            mail,
            http: egress::HttpLimits::default(),
        })
    }

    /// The account book for `config`, with the inventory last recorded.
    pub fn rebuild_accounts(&self, config: &Config) {
        let book = crate::accounts::book(&config.accounts, &config.networks)
            .with_inventory(self.inventory.load().as_ref().clone());
        self.accounts.store(Arc::new(book));
    }

    /// Take the inventory from the store, then rebuild the book.
    pub async fn refresh_inventory(
        &self,
        store: &crate::store::Store,
        config: &Config,
    ) -> Result<(), crate::store::StoreError> {
        let inventory = crate::accounts::inventory(store).await?;
        self.inventory.store(Arc::new(inventory));
        self.rebuild_accounts(config);
        Ok(())
    }
}
