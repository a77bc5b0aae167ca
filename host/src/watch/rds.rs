//! RDS DB instances and DB clusters of one region: engine, endpoint and port, public
//! accessibility, VPC security groups, encryption, IAM authentication, deletion protection,
//! backups, tags. Statuses are recorded but ephemeral (a nightly backup is no change).

use serde_json::{Value, json};

use super::WatchError;
use super::doc::{self, Envelope};
use super::session::AccountSession;
use crate::item::Item;

pub const DB_INSTANCE: &str = "AWS::RDS::DBInstance";
pub const DB_CLUSTER: &str = "AWS::RDS::DBCluster";

/// RDS: the DB instances and clusters of one region.
pub struct RdsWatcher;

#[async_trait::async_trait]
impl super::Watcher for RdsWatcher {
    fn resource_types(&self) -> &'static [&'static str] {
        &[DB_INSTANCE, DB_CLUSTER]
    }

    fn region_scope(&self) -> super::RegionScope {
        super::RegionScope::PerRegion
    }

    fn ephemeral_paths(&self, resource_type: &str) -> &'static [&'static str] {
        match resource_type {
            DB_INSTANCE => &["configuration.dbInstanceStatus"],
            DB_CLUSTER => &["configuration.status"],
            _ => &[],
        }
    }

    fn operations(&self) -> &'static [(&'static str, &'static str)] {
        &[
            ("rds:DescribeDBClusters", "rds:DescribeDBClusters"),
            ("rds:DescribeDBInstances", "rds:DescribeDBInstances"),
        ]
    }

    async fn list(&self, session: &AccountSession, region: &str) -> Result<Vec<Item>, WatchError> {
        let mut items = instances(session, region).await?;
        items.extend(clusters(session, region).await?);
        Ok(items)
    }
}

/// RDS tags, sorted.
pub fn tags(list: &[aws_sdk_rds::types::Tag]) -> Vec<(String, String)> {
    let mut tags: Vec<(String, String)> = list
        .iter()
        .filter_map(|t| {
            t.key()
                .map(|k| (k.to_string(), t.value().unwrap_or_default().to_string()))
        })
        .collect();
    tags.sort();
    tags
}

fn security_groups(list: &[aws_sdk_rds::types::VpcSecurityGroupMembership]) -> Value {
    Value::Array(
        list.iter()
            .map(|g| json!({"vpcSecurityGroupId": g.vpc_security_group_id(), "status": g.status()}))
            .collect(),
    )
}

async fn instances(s: &AccountSession, region: &str) -> Result<Vec<Item>, WatchError> {
    let rds = s.rds(region);
    let mut items = Vec::new();
    let mut pages = rds.describe_db_instances().into_paginator().send();
    loop {
        s.pace("rds").await;
        let Some(page) = pages.next().await else {
            break;
        };
        let page =
            page.map_err(|e| WatchError::sdk(format!("DescribeDBInstances ({region})"), &e))?;
        for db in page.db_instances() {
            let id = db.db_instance_identifier().unwrap_or_default().to_string();
            let tags = tags(db.tag_list());
            let arn = db.db_instance_arn().map_or_else(
                || format!("arn:aws:rds:{region}:{}:db:{id}", s.account_id),
                String::from,
            );
            let endpoint = db
                .endpoint()
                .map(|e| json!({"address": e.address(), "port": e.port()}));
            items.push(
                Envelope {
                    resource_type: DB_INSTANCE,
                    resource_id: id.clone(),
                    resource_name: id.clone(),
                    arn,
                    account_id: &s.account_id,
                    region,
                    configuration: json!({
                        "dbInstanceIdentifier": id,
                        "dbInstanceClass": db.db_instance_class(),
                        "engine": db.engine(),
                        "engineVersion": db.engine_version(),
                        "dbInstanceStatus": db.db_instance_status(),
                        "endpoint": endpoint,
                        "publiclyAccessible": db.publicly_accessible(),
                        "vpcSecurityGroups": security_groups(db.vpc_security_groups()),
                        "dbSubnetGroup": db.db_subnet_group().map(|g| json!({
                            "dbSubnetGroupName": g.db_subnet_group_name(),
                            "vpcId": g.vpc_id(),
                        })),
                        "dbClusterIdentifier": db.db_cluster_identifier(),
                        "multiAZ": db.multi_az(),
                        "storageEncrypted": db.storage_encrypted(),
                        "kmsKeyId": db.kms_key_id(),
                        "iamDatabaseAuthenticationEnabled": db.iam_database_authentication_enabled(),
                        "deletionProtection": db.deletion_protection(),
                        "backupRetentionPeriod": db.backup_retention_period(),
                        "autoMinorVersionUpgrade": db.auto_minor_version_upgrade(),
                        "caCertificateIdentifier": db.ca_certificate_identifier(),
                        "instanceCreateTime": doc::time(db.instance_create_time()),
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

async fn clusters(s: &AccountSession, region: &str) -> Result<Vec<Item>, WatchError> {
    let rds = s.rds(region);
    let mut items = Vec::new();
    let mut pages = rds.describe_db_clusters().into_paginator().send();
    loop {
        s.pace("rds").await;
        let Some(page) = pages.next().await else {
            break;
        };
        let page =
            page.map_err(|e| WatchError::sdk(format!("DescribeDBClusters ({region})"), &e))?;
        for c in page.db_clusters() {
            let id = c.db_cluster_identifier().unwrap_or_default().to_string();
            let tags = tags(c.tag_list());
            let arn = c.db_cluster_arn().map_or_else(
                || format!("arn:aws:rds:{region}:{}:cluster:{id}", s.account_id),
                String::from,
            );
            let mut members: Vec<&str> = c
                .db_cluster_members()
                .iter()
                .filter_map(|m| m.db_instance_identifier())
                .collect();
            members.sort();
            items.push(
                Envelope {
                    resource_type: DB_CLUSTER,
                    resource_id: id.clone(),
                    resource_name: id.clone(),
                    arn,
                    account_id: &s.account_id,
                    region,
                    configuration: json!({
                        "dbClusterIdentifier": id,
                        "engine": c.engine(),
                        "engineVersion": c.engine_version(),
                        "status": c.status(),
                        "endpoint": c.endpoint(),
                        "readerEndpoint": c.reader_endpoint(),
                        "port": c.port(),
                        "publiclyAccessible": c.publicly_accessible(),
                        "vpcSecurityGroups": security_groups(c.vpc_security_groups()),
                        "dbSubnetGroup": c.db_subnet_group(),
                        "dbClusterMembers": members,
                        "multiAZ": c.multi_az(),
                        "storageEncrypted": c.storage_encrypted(),
                        "kmsKeyId": c.kms_key_id(),
                        "iamDatabaseAuthenticationEnabled": c.iam_database_authentication_enabled(),
                        "deletionProtection": c.deletion_protection(),
                        "backupRetentionPeriod": c.backup_retention_period(),
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
