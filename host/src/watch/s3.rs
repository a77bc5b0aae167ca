//! S3 buckets: owner, region, policy, ACL grants, public access block, encryption,
//! versioning, logging, tags. Listing is global (`ListBuckets`); the details are asked of the
//! bucket's own region. A sub-resource that does not exist (no policy, no tags …) is recorded as
//! null, never as an error.

use futures::StreamExt;
use serde_json::{Value, json};

use super::doc::{self, Envelope};
use super::session::AccountSession;
use super::{WatchError, is_not_found};
use crate::item::Item;

pub const BUCKET: &str = "AWS::S3::Bucket";

/// S3: every bucket of the account, each recorded in the region it lives in.
pub struct S3Watcher;

#[async_trait::async_trait]
impl super::Watcher for S3Watcher {
    fn resource_types(&self) -> &'static [&'static str] {
        &[BUCKET]
    }

    fn region_scope(&self) -> super::RegionScope {
        super::RegionScope::Located
    }

    fn operations(&self) -> &'static [(&'static str, &'static str)] {
        &[
            ("s3:GetBucketAcl", "s3:GetBucketAcl"),
            ("s3:GetBucketEncryption", "s3:GetEncryptionConfiguration"),
            ("s3:GetBucketLocation", "s3:GetBucketLocation"),
            ("s3:GetBucketLogging", "s3:GetBucketLogging"),
            ("s3:GetBucketPolicy", "s3:GetBucketPolicy"),
            ("s3:GetBucketTagging", "s3:GetBucketTagging"),
            ("s3:GetBucketVersioning", "s3:GetBucketVersioning"),
            ("s3:GetPublicAccessBlock", "s3:GetBucketPublicAccessBlock"),
            ("s3:ListBuckets", "s3:ListAllMyBuckets"),
        ]
    }

    async fn list(&self, session: &AccountSession, region: &str) -> Result<Vec<Item>, WatchError> {
        list(session, region).await
    }
}

fn region_of(constraint: Option<&str>) -> String {
    match constraint {
        None | Some("") => "us-east-1".to_string(),
        Some("EU") => "eu-west-1".to_string(),
        Some(r) => r.to_string(),
    }
}

/// Turn "not found" into None and anything else into a listing error.
fn optional<T, E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error>(
    what: &str,
    bucket: &str,
    r: Result<T, E>,
) -> Result<Option<T>, WatchError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(WatchError::sdk(format!("{what} {bucket}"), &e)),
    }
}

pub async fn list(s: &AccountSession, home_region: &str) -> Result<Vec<Item>, WatchError> {
    let global = s.s3(home_region);
    s.pace("s3").await;
    let buckets = global
        .list_buckets()
        .send()
        .await
        .map_err(|e| WatchError::sdk("ListBuckets", &e))?;
    let owner = buckets
        .owner()
        .map(|o| json!({"id": o.id(), "displayName": o.display_name()}));
    // A few buckets at a time: each needs ~8 independent calls; `buffered` keeps the order.
    let owner = &owner;
    let global = &global;
    let results: Vec<Result<Item, WatchError>> = {
        // Futures built up front (not in a closure) so the sweep stays `Send`.
        let mut jobs = Vec::with_capacity(buckets.buckets().len());
        for b in buckets.buckets() {
            jobs.push(bucket_item(s, global, owner, b));
        }
        futures::stream::iter(jobs)
            .buffered(BUCKET_CONCURRENCY)
            .collect()
            .await
    };
    results.into_iter().collect()
}

/// Buckets described at once.
const BUCKET_CONCURRENCY: usize = 8;

// Long because a bucket's document is its ~8 sub-resources asked one after another, each

// with its own "does not exist" answer; a helper per call would only rename the calls.

async fn bucket_item(
    s: &AccountSession,
    global: &aws_sdk_s3::Client,
    owner: &Option<Value>,
    b: &aws_sdk_s3::types::Bucket,
) -> Result<Item, WatchError> {
    let name = b.name().unwrap_or_default().to_string();
    s.pace("s3").await;
    let location = global
        .get_bucket_location()
        .bucket(&name)
        .send()
        .await
        .map_err(|e| WatchError::sdk(format!("GetBucketLocation {name}"), &e))?;
    let region = region_of(location.location_constraint().map(|c| c.as_str()));
    let c = s.s3(&region);

    s.pace("s3").await;
    let policy = optional(
        "GetBucketPolicy",
        &name,
        c.get_bucket_policy().bucket(&name).send().await,
    )?
    .and_then(|p| p.policy().map(|t| doc::policy_document(Some(t))));
    s.pace("s3").await;
    let acl = c
        .get_bucket_acl()
        .bucket(&name)
        .send()
        .await
        .map_err(|e| WatchError::sdk(format!("GetBucketAcl {name}"), &e))?;
    let grants: Vec<Value> = acl
        .grants()
        .iter()
        .map(|g| {
            let grantee = g.grantee();
            json!({
                "grantee": {
                    "type": grantee.map(|g| g.r#type().as_str()),
                    "id": grantee.and_then(|g| g.id()),
                    "displayName": grantee.and_then(|g| g.display_name()),
                    "uri": grantee.and_then(|g| g.uri()),
                    "emailAddress": grantee.and_then(|g| g.email_address()),
                },
                "permission": g.permission().map(|p| p.as_str()),
            })
        })
        .collect();
    s.pace("s3").await;
    let pab = optional(
        "GetPublicAccessBlock",
        &name,
        c.get_public_access_block().bucket(&name).send().await,
    )?
    .and_then(|p| {
        p.public_access_block_configuration().map(|p| {
            json!({
                "blockPublicAcls": p.block_public_acls(),
                "ignorePublicAcls": p.ignore_public_acls(),
                "blockPublicPolicy": p.block_public_policy(),
                "restrictPublicBuckets": p.restrict_public_buckets(),
            })
        })
    });
    s.pace("s3").await;
    let encryption = optional("GetBucketEncryption", &name, c.get_bucket_encryption().bucket(&name).send().await)?
        .and_then(|e| {
            e.server_side_encryption_configuration().map(|cfg| {
                json!({"rules": cfg.rules().iter().map(|r| json!({
                    "applyServerSideEncryptionByDefault": r.apply_server_side_encryption_by_default().map(|d| json!({
                        "sseAlgorithm": d.sse_algorithm().as_str(),
                        "kmsMasterKeyID": d.kms_master_key_id(),
                    })),
                    "bucketKeyEnabled": r.bucket_key_enabled(),
                })).collect::<Vec<_>>()})
            })
        });
    s.pace("s3").await;
    let versioning = c
        .get_bucket_versioning()
        .bucket(&name)
        .send()
        .await
        .map_err(|e| WatchError::sdk(format!("GetBucketVersioning {name}"), &e))?;
    s.pace("s3").await;
    let logging = c
        .get_bucket_logging()
        .bucket(&name)
        .send()
        .await
        .map_err(|e| WatchError::sdk(format!("GetBucketLogging {name}"), &e))?;
    s.pace("s3").await;
    let tags: Vec<(String, String)> = optional(
        "GetBucketTagging",
        &name,
        c.get_bucket_tagging().bucket(&name).send().await,
    )?
    .map(|t| {
        t.tag_set()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect()
    })
    .unwrap_or_default();

    let configuration = json!({
        "name": name,
        "owner": owner,
        "creationDate": doc::time(b.creation_date()),
        "region": region,
    });
    let supplementary = json!({
        "AccessControlList": {
            "owner": acl.owner().map(|o| json!({"id": o.id(), "displayName": o.display_name()})),
            "grantList": grants,
        },
        "BucketPolicy": {"policyText": policy},
        "PublicAccessBlockConfiguration": pab,
        "ServerSideEncryptionConfiguration": encryption,
        "BucketVersioningConfiguration": {
            "status": versioning.status().map(|s| s.as_str()).unwrap_or("Off"),
            "isMfaDeleteEnabled": versioning.mfa_delete().map(|m| m.as_str() == "Enabled"),
        },
        "BucketLoggingConfiguration": {
            "destinationBucketName": logging.logging_enabled().map(|l| l.target_bucket()),
            "logFilePrefix": logging.logging_enabled().map(|l| l.target_prefix()),
        },
        "BucketTaggingConfiguration": {
            "tagSets": [{"tags": tags
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect::<serde_json::Map<String, Value>>()}],
        },
    });
    Ok(Envelope {
        resource_type: BUCKET,
        resource_id: name.clone(),
        resource_name: name.clone(),
        arn: format!("arn:aws:s3:::{name}"),
        account_id: &s.account_id,
        region: &region,
        configuration,
        supplementary,
        tags,
    }
    .into_item())
}
