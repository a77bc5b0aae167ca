//! Read-only item lookup for plugins.
//!
//! The `items` capability reads through this trait so the host can answer from whatever holds
//! the items: the documents handed to `simian audit`, or the store.

use std::sync::RwLock;

use crate::item::Item;

#[async_trait::async_trait]
pub trait ItemSource: Send + Sync {
    async fn get_by_arn(&self, arn: &str) -> Result<Option<Item>, String>;
    async fn get(
        &self,
        account_id: &str,
        region: &str,
        resource_type: &str,
        resource_id: &str,
    ) -> Result<Option<Item>, String>;
    async fn list(
        &self,
        resource_type: &str,
        account_id: Option<&str>,
        offset: u32,
        limit: u32,
    ) -> Result<Vec<Item>, String>;
}

/// Items held in memory, e.g. the documents given to `simian audit --item`.
#[derive(Default)]
pub struct MemoryItems {
    items: RwLock<Vec<Item>>,
}

impl MemoryItems {
    pub fn new(items: Vec<Item>) -> MemoryItems {
        MemoryItems {
            items: RwLock::new(items),
        }
    }

    pub fn replace(&self, items: Vec<Item>) {
        if let Ok(mut guard) = self.items.write() {
            *guard = items;
        }
    }

    fn read(&self) -> Result<std::sync::RwLockReadGuard<'_, Vec<Item>>, String> {
        self.items
            .read()
            .map_err(|_| "item source poisoned".to_string())
    }
}

#[async_trait::async_trait]
impl ItemSource for MemoryItems {
    async fn get_by_arn(&self, arn: &str) -> Result<Option<Item>, String> {
        Ok(self.read()?.iter().find(|i| i.arn == arn).cloned())
    }

    async fn get(
        &self,
        account_id: &str,
        region: &str,
        resource_type: &str,
        resource_id: &str,
    ) -> Result<Option<Item>, String> {
        Ok(self
            .read()?
            .iter()
            .find(|i| {
                i.account_id == account_id
                    && i.region == region
                    && i.resource_type == resource_type
                    && i.resource_id == resource_id
            })
            .cloned())
    }

    async fn list(
        &self,
        resource_type: &str,
        account_id: Option<&str>,
        offset: u32,
        limit: u32,
    ) -> Result<Vec<Item>, String> {
        let items = self.read()?;
        let matching = items
            .iter()
            .filter(|i| i.resource_type == resource_type)
            .filter(|i| account_id.is_none_or(|a| a == i.account_id))
            .cloned();
        Ok(simian_model::items::page(matching, offset, limit))
    }
}
