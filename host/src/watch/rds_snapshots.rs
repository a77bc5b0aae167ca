//! RDS DB snapshots and DB cluster snapshots of one region, each with the accounts its
//! `restore` attribute lets restore it (`all` when public). Only manual snapshots can be
//! shared, so only theirs are asked for (one attributes call per manual snapshot).

use serde_json::json;

use super::doc::{self, Envelope};
use super::rds::tags;
use super::session::AccountSession;
use super::{WatchError, is_not_found};
use crate::item::Item;

pub const DB_SNAPSHOT: &str = "AWS::RDS::DBSnapshot";
pub const DB_CLUSTER_SNAPSHOT: &str = "AWS::RDS::DBClusterSnapshot";

/// RDS: the DB and DB cluster snapshots of one region.
pub struct RdsSnapshotWatcher;

#[async_trait::async_trait]
impl super::Watcher for RdsSnapshotWatcher {
    fn resource_types(&self) -> &'static [&'static str] {
        &[DB_SNAPSHOT, DB_CLUSTER_SNAPSHOT]
    }

    fn region_scope(&self) -> super::RegionScope {
        super::RegionScope::PerRegion
    }

    fn ephemeral_paths(&self, _resource_type: &str) -> &'static [&'static str] {
        &["configuration.percentProgress"]
    }

    fn operations(&self) -> &'static [(&'static str, &'static str)] {
        &[
            (
                "rds:DescribeDBClusterSnapshotAttributes",
                "rds:DescribeDBClusterSnapshotAttributes",
            ),
            (
                "rds:DescribeDBClusterSnapshots",
                "rds:DescribeDBClusterSnapshots",
            ),
            (
                "rds:DescribeDBSnapshotAttributes",
                "rds:DescribeDBSnapshotAttributes",
            ),
            ("rds:DescribeDBSnapshots", "rds:DescribeDBSnapshots"),
        ]
    }

    async fn list(&self, session: &AccountSession, region: &str) -> Result<Vec<Item>, WatchError> {
        let mut items = db_snapshots(session, region).await?;
        items.extend(cluster_snapshots(session, region).await?);
        Ok(items)
    }
}

/// The values of the `restore` attribute, sorted.
fn restorable_by<'a>(
    attributes: impl Iterator<Item = (Option<&'a str>, &'a [String])>,
) -> Vec<String> {
    let mut who: Vec<String> = attributes
        .filter(|(name, _)| *name == Some("restore"))
        .flat_map(|(_, values)| values.iter().cloned())
        .collect();
    who.sort();
    who.dedup();
    who
}

async fn db_snapshots(s: &AccountSession, region: &str) -> Result<Vec<Item>, WatchError> {
    let rds = s.rds(region);
    let mut items = Vec::new();
    let mut pages = rds.describe_db_snapshots().into_paginator().send();
    loop {
        s.pace("rds").await;
        let Some(page) = pages.next().await else {
            break;
        };
        let page =
            page.map_err(|e| WatchError::sdk(format!("DescribeDBSnapshots ({region})"), &e))?;
        for snap in page.db_snapshots() {
            let id = snap
                .db_snapshot_identifier()
                .unwrap_or_default()
                .to_string();
            let mut shared = Vec::new();
            if snap.snapshot_type() == Some("manual") {
                s.pace("rds").await;
                match rds
                    .describe_db_snapshot_attributes()
                    .db_snapshot_identifier(&id)
                    .send()
                    .await
                {
                    Ok(out) => {
                        if let Some(result) = out.db_snapshot_attributes_result() {
                            shared = restorable_by(
                                result
                                    .db_snapshot_attributes()
                                    .iter()
                                    .map(|a| (a.attribute_name(), a.attribute_values())),
                            );
                        }
                    }
                    Err(e) if is_not_found(&e) => continue,
                    Err(e) => {
                        return Err(WatchError::sdk(
                            format!("DescribeDBSnapshotAttributes {id}"),
                            &e,
                        ));
                    }
                }
            }
            let tags = tags(snap.tag_list());
            let arn = snap.db_snapshot_arn().map_or_else(
                || format!("arn:aws:rds:{region}:{}:snapshot:{id}", s.account_id),
                String::from,
            );
            items.push(
                Envelope {
                    resource_type: DB_SNAPSHOT,
                    resource_id: id.clone(),
                    resource_name: id.clone(),
                    arn,
                    account_id: &s.account_id,
                    region,
                    configuration: json!({
                        "dbSnapshotIdentifier": id,
                        "dbInstanceIdentifier": snap.db_instance_identifier(),
                        "snapshotType": snap.snapshot_type(),
                        "engine": snap.engine(),
                        "engineVersion": snap.engine_version(),
                        "status": snap.status(),
                        "percentProgress": snap.percent_progress(),
                        "snapshotCreateTime": doc::time(snap.snapshot_create_time()),
                        "vpcId": snap.vpc_id(),
                        "port": snap.port(),
                        "encrypted": snap.encrypted(),
                        "kmsKeyId": snap.kms_key_id(),
                        "restorableBy": shared,
                        "tags": doc::tag_list(&tags),
                    }),
                    supplementary: json!({}),
                    tags,
                }
                .into_item(),
            );
        }
    }
    Ok(items)
}

async fn cluster_snapshots(s: &AccountSession, region: &str) -> Result<Vec<Item>, WatchError> {
    let rds = s.rds(region);
    let mut items = Vec::new();
    let mut pages = rds.describe_db_cluster_snapshots().into_paginator().send();
    loop {
        s.pace("rds").await;
        let Some(page) = pages.next().await else {
            break;
        };
        let page = page
            .map_err(|e| WatchError::sdk(format!("DescribeDBClusterSnapshots ({region})"), &e))?;
        for snap in page.db_cluster_snapshots() {
            let id = snap
                .db_cluster_snapshot_identifier()
                .unwrap_or_default()
                .to_string();
            let mut shared = Vec::new();
            if snap.snapshot_type() == Some("manual") {
                s.pace("rds").await;
                match rds
                    .describe_db_cluster_snapshot_attributes()
                    .db_cluster_snapshot_identifier(&id)
                    .send()
                    .await
                {
                    Ok(out) => {
                        if let Some(result) = out.db_cluster_snapshot_attributes_result() {
                            shared = restorable_by(
                                result
                                    .db_cluster_snapshot_attributes()
                                    .iter()
                                    .map(|a| (a.attribute_name(), a.attribute_values())),
                            );
                        }
                    }
                    Err(e) if is_not_found(&e) => continue,
                    Err(e) => {
                        return Err(WatchError::sdk(
                            format!("DescribeDBClusterSnapshotAttributes {id}"),
                            &e,
                        ));
                    }
                }
            }
            let tags = tags(snap.tag_list());
            let arn = snap.db_cluster_snapshot_arn().map_or_else(
                || {
                    format!(
                        "arn:aws:rds:{region}:{}:cluster-snapshot:{id}",
                        s.account_id
                    )
                },
                String::from,
            );
            items.push(
                Envelope {
                    resource_type: DB_CLUSTER_SNAPSHOT,
                    resource_id: id.clone(),
                    resource_name: id.clone(),
                    arn,
                    account_id: &s.account_id,
                    region,
                    configuration: json!({
                        "dbClusterSnapshotIdentifier": id,
                        "dbClusterIdentifier": snap.db_cluster_identifier(),
                        "snapshotType": snap.snapshot_type(),
                        "engine": snap.engine(),
                        "engineVersion": snap.engine_version(),
                        "status": snap.status(),
                        "percentProgress": snap.percent_progress(),
                        "snapshotCreateTime": doc::time(snap.snapshot_create_time()),
                        "vpcId": snap.vpc_id(),
                        "port": snap.port(),
                        "storageEncrypted": snap.storage_encrypted(),
                        "kmsKeyId": snap.kms_key_id(),
                        "restorableBy": shared,
                        "tags": doc::tag_list(&tags),
                    }),
                    supplementary: json!({}),
                    tags,
                }
                .into_item(),
            );
        }
    }
    Ok(items)
}
