//! What the account's EC2 resources let other accounts use: its own AMIs with their launch
//! permissions and its own EBS snapshots with their create-volume permissions, one
//! `DescribeImageAttribute` / `DescribeSnapshotAttribute` per resource. Public and
//! AWS-provided images of other owners are never listed.

use serde_json::{Value, json};

use super::doc::{self, Envelope};
use super::session::AccountSession;
use super::{WatchError, is_not_found};
use crate::item::Item;

pub const IMAGE: &str = "AWS::EC2::Image";
pub const SNAPSHOT: &str = "AWS::EC2::Snapshot";

/// EC2: the region's AMIs and EBS snapshots owned by the account.
pub struct Ec2SharesWatcher;

#[async_trait::async_trait]
impl super::Watcher for Ec2SharesWatcher {
    fn resource_types(&self) -> &'static [&'static str] {
        &[IMAGE, SNAPSHOT]
    }

    fn region_scope(&self) -> super::RegionScope {
        super::RegionScope::PerRegion
    }

    fn operations(&self) -> &'static [(&'static str, &'static str)] {
        &[
            ("ec2:DescribeImageAttribute", "ec2:DescribeImageAttribute"),
            ("ec2:DescribeImages", "ec2:DescribeImages"),
            (
                "ec2:DescribeSnapshotAttribute",
                "ec2:DescribeSnapshotAttribute",
            ),
            ("ec2:DescribeSnapshots", "ec2:DescribeSnapshots"),
        ]
    }

    async fn list(&self, session: &AccountSession, region: &str) -> Result<Vec<Item>, WatchError> {
        let mut items = images(session, region).await?;
        items.extend(snapshots(session, region).await?);
        Ok(items)
    }
}

/// `[{group: "all"}, {userId: "…"}]` → `["all", "…"]`, sorted: who the resource is shared with.
fn shared_with<'a>(
    entries: impl Iterator<Item = (Option<&'a str>, Option<&'a str>)>,
) -> Vec<String> {
    let mut who: Vec<String> = entries
        .filter_map(|(group, user)| group.or(user).map(String::from))
        .collect();
    who.sort();
    who.dedup();
    who
}

fn name_tag(tags: &[(String, String)], fallback: &str) -> String {
    tags.iter()
        .find(|(k, _)| k == "Name")
        .map_or_else(|| fallback.to_string(), |(_, v)| v.clone())
}

pub async fn images(s: &AccountSession, region: &str) -> Result<Vec<Item>, WatchError> {
    let ec2 = s.ec2(region);
    s.pace("ec2").await;
    // DescribeImages with an owner filter returns everything in one page.
    let out = ec2
        .describe_images()
        .owners("self")
        .send()
        .await
        .map_err(|e| WatchError::sdk(format!("DescribeImages ({region})"), &e))?;
    let mut items = Vec::new();
    for image in out
        .images()
        .iter()
        .filter(|image| image.owner_id().is_none_or(|o| o == s.account_id))
    {
        let Some(id) = image.image_id() else {
            continue;
        };
        s.pace("ec2").await;
        let permissions = match ec2
            .describe_image_attribute()
            .image_id(id)
            .attribute(aws_sdk_ec2::types::ImageAttributeName::LaunchPermission)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) if is_not_found(&e) => continue,
            Err(e) => return Err(WatchError::sdk(format!("DescribeImageAttribute {id}"), &e)),
        };
        let launch: Vec<Value> = permissions
            .launch_permissions()
            .iter()
            .map(|p| {
                json!({
                    "group": p.group().map(|g| g.as_str()),
                    "userId": p.user_id(),
                    "organizationArn": p.organization_arn(),
                    "organizationalUnitArn": p.organizational_unit_arn(),
                })
            })
            .collect();
        let who = shared_with(
            permissions
                .launch_permissions()
                .iter()
                .map(|p| (p.group().map(|g| g.as_str()), p.user_id())),
        );
        let tags = super::ec2::tag_pairs(image.tags());
        let owner = image.owner_id().unwrap_or(&s.account_id).to_string();
        items.push(
            Envelope {
                resource_type: IMAGE,
                resource_id: id.to_string(),
                resource_name: image
                    .name()
                    .map_or_else(|| name_tag(&tags, id), String::from),
                arn: format!("arn:aws:ec2:{region}::image/{id}"),
                account_id: &s.account_id,
                region,
                configuration: json!({
                    "imageId": id,
                    "name": image.name(),
                    "description": image.description(),
                    "ownerId": owner,
                    "state": image.state().map(|s| s.as_str()),
                    "public": image.public(),
                    "creationDate": image.creation_date(),
                    "architecture": image.architecture().map(|a| a.as_str()),
                    "rootDeviceType": image.root_device_type().map(|r| r.as_str()),
                    "launchPermissions": launch,
                    "sharedWith": who,
                    "tags": doc::tag_list(&tags),
                }),
                supplementary: json!({}),
                tags,
            }
            .into_item(),
        );
    }
    Ok(items)
}

pub async fn snapshots(s: &AccountSession, region: &str) -> Result<Vec<Item>, WatchError> {
    let ec2 = s.ec2(region);
    let mut items = Vec::new();
    let mut pages = ec2
        .describe_snapshots()
        .owner_ids("self")
        .into_paginator()
        .send();
    loop {
        s.pace("ec2").await;
        let Some(page) = pages.next().await else {
            break;
        };
        let page =
            page.map_err(|e| WatchError::sdk(format!("DescribeSnapshots ({region})"), &e))?;
        // The owner filter is asked for and checked again: an answer listing someone else's
        // snapshots (moto lists its stock ones) must not become our items.
        for snap in page
            .snapshots()
            .iter()
            .filter(|snap| snap.owner_id().is_none_or(|o| o == s.account_id))
        {
            let Some(id) = snap.snapshot_id() else {
                continue;
            };
            s.pace("ec2").await;
            let permissions = match ec2
                .describe_snapshot_attribute()
                .snapshot_id(id)
                .attribute(aws_sdk_ec2::types::SnapshotAttributeName::CreateVolumePermission)
                .send()
                .await
            {
                Ok(out) => out,
                Err(e) if is_not_found(&e) => continue,
                Err(e) => {
                    return Err(WatchError::sdk(
                        format!("DescribeSnapshotAttribute {id}"),
                        &e,
                    ));
                }
            };
            let who = shared_with(
                permissions
                    .create_volume_permissions()
                    .iter()
                    .map(|p| (p.group().map(|g| g.as_str()), p.user_id())),
            );
            let tags = super::ec2::tag_pairs(snap.tags());
            let owner = snap.owner_id().unwrap_or(&s.account_id).to_string();
            items.push(
                Envelope {
                    resource_type: SNAPSHOT,
                    resource_id: id.to_string(),
                    resource_name: name_tag(&tags, id),
                    arn: format!("arn:aws:ec2:{region}::snapshot/{id}"),
                    account_id: &s.account_id,
                    region,
                    configuration: json!({
                        "snapshotId": id,
                        "volumeId": snap.volume_id(),
                        "volumeSize": snap.volume_size(),
                        "ownerId": owner,
                        "description": snap.description(),
                        "state": snap.state().map(|s| s.as_str()),
                        "startTime": doc::time(snap.start_time()),
                        "encrypted": snap.encrypted(),
                        "kmsKeyId": snap.kms_key_id(),
                        "createVolumePermissions": permissions.create_volume_permissions().iter().map(|p| json!({
                            "group": p.group().map(|g| g.as_str()),
                            "userId": p.user_id(),
                        })).collect::<Vec<_>>(),
                        "sharedWith": who,
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
