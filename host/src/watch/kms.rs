//! KMS keys of one region: the key's metadata, its key policy (decoded), whether automatic
//! rotation is on (customer-managed symmetric keys, the only ones that can rotate), its
//! aliases and its tags.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::doc::{self, Envelope};
use super::session::AccountSession;
use super::{WatchError, is_not_found};
use crate::item::Item;

pub const KEY: &str = "AWS::KMS::Key";

/// KMS: the keys of one region.
pub struct KmsWatcher;

#[async_trait::async_trait]
impl super::Watcher for KmsWatcher {
    fn resource_types(&self) -> &'static [&'static str] {
        &[KEY]
    }

    fn region_scope(&self) -> super::RegionScope {
        super::RegionScope::PerRegion
    }

    fn operations(&self) -> &'static [(&'static str, &'static str)] {
        &[
            ("kms:DescribeKey", "kms:DescribeKey"),
            ("kms:GetKeyPolicy", "kms:GetKeyPolicy"),
            ("kms:GetKeyRotationStatus", "kms:GetKeyRotationStatus"),
            ("kms:ListAliases", "kms:ListAliases"),
            ("kms:ListKeys", "kms:ListKeys"),
            ("kms:ListResourceTags", "kms:ListResourceTags"),
        ]
    }

    async fn list(&self, session: &AccountSession, region: &str) -> Result<Vec<Item>, WatchError> {
        list(session, region).await
    }
}

/// Error codes that mean "this key cannot answer that in its state" (pending deletion,
/// asymmetric): recorded as null rather than failing the listing.
const NOT_APPLICABLE: &[&str] = &["KMSInvalidStateException", "UnsupportedOperationException"];

fn not_applicable<E: aws_sdk_kms::error::ProvideErrorMetadata>(e: &E) -> bool {
    e.code().is_some_and(|c| NOT_APPLICABLE.contains(&c))
}

/// Every alias of the region, by the key it names.
async fn aliases(
    s: &AccountSession,
    kms: &aws_sdk_kms::Client,
    region: &str,
) -> Result<BTreeMap<String, Vec<String>>, WatchError> {
    let mut by_key: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut pages = kms.list_aliases().into_paginator().send();
    loop {
        s.pace("kms").await;
        let Some(page) = pages.next().await else {
            break;
        };
        let page = page.map_err(|e| WatchError::sdk(format!("ListAliases ({region})"), &e))?;
        for a in page.aliases() {
            if let (Some(key), Some(name)) = (a.target_key_id(), a.alias_name()) {
                by_key
                    .entry(key.to_string())
                    .or_default()
                    .push(name.to_string());
            }
        }
    }
    for names in by_key.values_mut() {
        names.sort();
    }
    Ok(by_key)
}

pub async fn list(s: &AccountSession, region: &str) -> Result<Vec<Item>, WatchError> {
    let kms = s.kms(region);
    let aliases = aliases(s, &kms, region).await?;
    let mut ids = Vec::new();
    let mut pages = kms.list_keys().into_paginator().send();
    loop {
        s.pace("kms").await;
        let Some(page) = pages.next().await else {
            break;
        };
        let page = page.map_err(|e| WatchError::sdk(format!("ListKeys ({region})"), &e))?;
        ids.extend(
            page.keys()
                .iter()
                .filter_map(|k| k.key_id())
                .map(String::from),
        );
    }
    let mut items = Vec::with_capacity(ids.len());
    for id in ids {
        let names = aliases.get(&id).cloned().unwrap_or_default();
        if let Some(item) = key_item(s, &kms, region, &id, names).await? {
            items.push(item);
        }
    }
    Ok(items)
}

// Long because a key's document is four calls, each with its own "not for this key" answer.
/// `None` when the key went away between the listing and the describe.
async fn key_item(
    s: &AccountSession,
    kms: &aws_sdk_kms::Client,
    region: &str,
    id: &str,
    aliases: Vec<String>,
) -> Result<Option<Item>, WatchError> {
    s.pace("kms").await;
    let described = match kms.describe_key().key_id(id).send().await {
        Ok(out) => out,
        Err(e) if is_not_found(&e) => return Ok(None),
        Err(e) => return Err(WatchError::sdk(format!("DescribeKey {id}"), &e)),
    };
    let Some(meta) = described.key_metadata() else {
        return Err(WatchError::new(format!(
            "DescribeKey {id}: no KeyMetadata in the answer"
        )));
    };
    let customer = meta.key_manager().map(|m| m.as_str()) == Some("CUSTOMER");
    let symmetric = meta.key_spec().map(|k| k.as_str()) == Some("SYMMETRIC_DEFAULT");
    s.pace("kms").await;
    let policy = match kms
        .get_key_policy()
        .key_id(id)
        .policy_name("default")
        .send()
        .await
    {
        Ok(out) => doc::policy_document(out.policy()),
        Err(e) if is_not_found(&e) => return Ok(None),
        Err(e) if not_applicable(&e) => Value::Null,
        Err(e) => return Err(WatchError::sdk(format!("GetKeyPolicy {id}"), &e)),
    };
    let mut rotation = Value::Null;
    if customer && symmetric {
        s.pace("kms").await;
        rotation = match kms.get_key_rotation_status().key_id(id).send().await {
            Ok(out) => json!(out.key_rotation_enabled()),
            Err(e) if is_not_found(&e) => return Ok(None),
            Err(e) if not_applicable(&e) => Value::Null,
            Err(e) => return Err(WatchError::sdk(format!("GetKeyRotationStatus {id}"), &e)),
        };
    }
    let mut tags = Vec::new();
    if customer {
        s.pace("kms").await;
        tags = match kms.list_resource_tags().key_id(id).send().await {
            Ok(out) => out
                .tags()
                .iter()
                .map(|t| (t.tag_key().to_string(), t.tag_value().to_string()))
                .collect(),
            Err(e) if is_not_found(&e) => return Ok(None),
            Err(e) => return Err(WatchError::sdk(format!("ListResourceTags {id}"), &e)),
        };
        tags.sort();
    }
    let arn = meta
        .arn()
        .map(String::from)
        .unwrap_or_else(|| format!("arn:aws:kms:{region}:{}:key/{id}", s.account_id));
    let name = aliases.first().cloned().unwrap_or_else(|| id.to_string());
    let configuration = json!({
        "keyId": meta.key_id(),
        "arn": arn,
        "awsAccountId": meta.aws_account_id(),
        "description": meta.description(),
        "enabled": meta.enabled(),
        "keyState": meta.key_state().map(|k| k.as_str()),
        "keyManager": meta.key_manager().map(|k| k.as_str()),
        "keySpec": meta.key_spec().map(|k| k.as_str()),
        "keyUsage": meta.key_usage().map(|k| k.as_str()),
        "origin": meta.origin().map(|k| k.as_str()),
        "multiRegion": meta.multi_region(),
        "creationDate": doc::time(meta.creation_date()),
        "deletionDate": doc::time(meta.deletion_date()),
        "keyPolicy": policy,
        "keyRotationEnabled": rotation,
        "aliases": aliases,
        "tags": doc::tag_list(&tags),
    });
    Ok(Some(
        Envelope {
            resource_type: KEY,
            resource_id: id.to_string(),
            resource_name: name,
            arn,
            account_id: &s.account_id,
            region,
            configuration,
            supplementary: json!({}),
            tags,
        }
        .into_item(),
    ))
}
