//! CloudTrail trails whose home region is the region listed: where they deliver, whether they
//! cover every region and global services, validation, encryption, and whether they are
//! logging now (`GetTrailStatus`). Delivery times are never recorded: they move by the minute.

use serde_json::json;

use super::doc::Envelope;
use super::session::AccountSession;
use super::{WatchError, is_not_found};
use crate::item::Item;

pub const TRAIL: &str = "AWS::CloudTrail::Trail";

/// CloudTrail: the trails created in one region.
pub struct CloudTrailWatcher;

#[async_trait::async_trait]
impl super::Watcher for CloudTrailWatcher {
    fn resource_types(&self) -> &'static [&'static str] {
        &[TRAIL]
    }

    fn region_scope(&self) -> super::RegionScope {
        super::RegionScope::PerRegion
    }

    fn operations(&self) -> &'static [(&'static str, &'static str)] {
        OPERATIONS
    }

    async fn list(&self, session: &AccountSession, region: &str) -> Result<Vec<Item>, WatchError> {
        let mut items = Vec::new();
        for trail in trails(session, region, false).await? {
            let arn = trail["trailArn"].as_str().unwrap_or_default().to_string();
            let name = trail["name"].as_str().unwrap_or_default().to_string();
            items.push(
                Envelope {
                    resource_type: TRAIL,
                    resource_id: name.clone(),
                    resource_name: name,
                    arn,
                    account_id: &session.account_id,
                    region,
                    configuration: trail,
                    supplementary: json!({}),
                    tags: Vec::new(),
                }
                .into_item(),
            );
        }
        Ok(items)
    }
}

pub const OPERATIONS: &[(&str, &str)] = &[
    ("cloudtrail:DescribeTrails", "cloudtrail:DescribeTrails"),
    ("cloudtrail:GetTrailStatus", "cloudtrail:GetTrailStatus"),
];

/// The trails `DescribeTrails` answers in `region`, each with `isLogging`: with `shadows`,
/// also the multi-region trails of other home regions that apply here (their status asked
/// of their home region). A trail deleted between the two calls is left out.
pub async fn trails(
    s: &AccountSession,
    region: &str,
    shadows: bool,
) -> Result<Vec<serde_json::Value>, WatchError> {
    let client = s.cloudtrail(region);
    s.pace("cloudtrail").await;
    // DescribeTrails is not paginated: one answer holds every trail.
    let out = client
        .describe_trails()
        .include_shadow_trails(shadows)
        .send()
        .await
        .map_err(|e| WatchError::sdk(format!("DescribeTrails ({region})"), &e))?;
    let mut trails = Vec::new();
    for t in out.trail_list() {
        let Some(arn) = t.trail_arn() else { continue };
        let home = t.home_region().unwrap_or(region);
        if !shadows && home != region {
            continue;
        }
        s.pace("cloudtrail").await;
        let status = match s.cloudtrail(home).get_trail_status().name(arn).send().await {
            Ok(out) => out,
            Err(e) if is_not_found(&e) => continue,
            Err(e) => return Err(WatchError::sdk(format!("GetTrailStatus {arn}"), &e)),
        };
        trails.push(json!({
            "name": t.name(),
            "trailArn": arn,
            "homeRegion": home,
            "isMultiRegionTrail": t.is_multi_region_trail(),
            "isOrganizationTrail": t.is_organization_trail(),
            "includeGlobalServiceEvents": t.include_global_service_events(),
            "isLogging": status.is_logging(),
            "s3BucketName": t.s3_bucket_name(),
            "s3KeyPrefix": t.s3_key_prefix(),
            "snsTopicArn": t.sns_topic_arn(),
            "logFileValidationEnabled": t.log_file_validation_enabled(),
            "cloudWatchLogsLogGroupArn": t.cloud_watch_logs_log_group_arn(),
            "kmsKeyId": t.kms_key_id(),
            "hasCustomEventSelectors": t.has_custom_event_selectors(),
        }));
    }
    trails.sort_by(|a, b| a["trailArn"].as_str().cmp(&b["trailArn"].as_str()));
    Ok(trails)
}
