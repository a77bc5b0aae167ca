//! Read-only lookup of other items the host knows. Needs the `items` grant, scoped by
//! resource type.

use crate::{HostError, Item};

pub fn get_by_arn(arn: &str) -> Result<Option<Item>, HostError> {
    crate::backend::get_item_by_arn(arn)
}

pub fn get(
    account_id: &str,
    region: &str,
    resource_type: &str,
    resource_id: &str,
) -> Result<Option<Item>, HostError> {
    crate::backend::get_item(account_id, region, resource_type, resource_id)
}

/// One page of the items of `resource_type`, optionally of one account.
pub fn list(
    resource_type: &str,
    account_id: Option<&str>,
    offset: u32,
    limit: u32,
) -> Result<Vec<Item>, HostError> {
    crate::backend::list_items(resource_type, account_id, offset, limit)
}
