//! Who made a change a sweep found: CloudTrail `LookupEvents` for the latest write event that
//! names the resource, behind a trait (the emulator has no `LookupEvents`, so tests use a fake)
//! and held to CloudTrail's 2 requests per second per account and region.
//!
//! It must never invent an actor: no matching write event is no actor.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use simian_model::actor::Actor;

use super::map;
use super::message;
use crate::watch::session::{AccountSession, RateLimit};

/// CloudTrail's documented limit for `LookupEvents`, per account and region.
pub const LOOKUPS_PER_SECOND: f64 = 2.0;

#[derive(Debug, thiserror::Error)]
#[error("CloudTrail LookupEvents in {account}/{region}: {message}")]
pub struct LookupError {
    pub account: String,
    pub region: String,
    pub message: String,
}

/// What to look up: one changed item.
#[derive(Debug, Clone)]
pub struct LookupRequest {
    pub account_id: String,
    /// Where its events are recorded (the home region for global resources).
    pub region: String,
    pub resource_type: String,
    /// Names CloudTrail may index the resource under, tried in order (ARN, id, name).
    pub names: Vec<String>,
    /// Only events in this window (unix ms).
    pub since_ms: i64,
    pub until_ms: i64,
}

#[async_trait::async_trait]
pub trait ActorLookup: Send + Sync {
    /// The newest successful write event in the window that names the resource and is one of
    /// its type's mapped events.
    async fn latest(
        &self,
        session: &AccountSession,
        request: &LookupRequest,
    ) -> Result<Option<Actor>, LookupError>;
}

/// The real thing: `LookupEvents` by resource name.
#[derive(Default)]
pub struct CloudTrailLookup {
    limits: Mutex<HashMap<(String, String), Arc<RateLimit>>>,
}

impl CloudTrailLookup {
    fn limit(&self, account: &str, region: &str) -> Arc<RateLimit> {
        let mut limits = self.limits.lock().unwrap_or_else(|p| p.into_inner());
        limits
            .entry((account.to_string(), region.to_string()))
            .or_insert_with(|| Arc::new(RateLimit::new(LOOKUPS_PER_SECOND)))
            .clone()
    }
}

/// Whether a CloudTrail record (as `LookupEvents` returns it) is a successful change of a
/// resource of `resource_type`, and who made it.
pub fn actor_of_record(record: &str, resource_type: &str) -> Option<Actor> {
    let event = message::parse(record).ok()?;
    if event.error_code.is_some() {
        return None;
    }
    let named = map::targets(
        &event.actor.event_source,
        &event.actor.event_name,
        &event.request,
        &event.response,
    );
    named
        .iter()
        .any(|t| t.resource_type == resource_type)
        .then_some(event.actor)
}

#[async_trait::async_trait]
impl ActorLookup for CloudTrailLookup {
    async fn latest(
        &self,
        session: &AccountSession,
        request: &LookupRequest,
    ) -> Result<Option<Actor>, LookupError> {
        let client = session.cloudtrail(&request.region);
        let limit = self.limit(&request.account_id, &request.region);
        for name in &request.names {
            limit.wait().await;
            let attribute = aws_sdk_cloudtrail::types::LookupAttribute::builder()
                .attribute_key(aws_sdk_cloudtrail::types::LookupAttributeKey::ResourceName)
                .attribute_value(name)
                .build()
                .map_err(|e| LookupError {
                    account: request.account_id.clone(),
                    region: request.region.clone(),
                    message: e.to_string(),
                })?;
            let out = client
                .lookup_events()
                .lookup_attributes(attribute)
                .start_time(aws_smithy_types::DateTime::from_millis(request.since_ms))
                .end_time(aws_smithy_types::DateTime::from_millis(request.until_ms))
                .max_results(50)
                .send()
                .await
                .map_err(|e| LookupError {
                    account: request.account_id.clone(),
                    region: request.region.clone(),
                    message: crate::watch::error_text(&e),
                })?;
            // Newest first, as CloudTrail returns them.
            let found = out
                .events()
                .iter()
                .filter_map(|e| e.cloud_trail_event())
                .find_map(|record| actor_of_record(record, &request.resource_type));
            if found.is_some() {
                return Ok(found);
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_successful_mapped_writes_name_an_actor() {
        let record = |name: &str, error: Option<&str>| {
            let mut r = serde_json::json!({
                "eventVersion": "1.08",
                "userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::1:assumed-role/ops/bob"},
                "eventTime": "2026-11-30T09:00:00Z",
                "eventSource": "ec2.amazonaws.com",
                "eventName": name,
                "requestParameters": {"groupId": "sg-1"},
                "eventID": "e-9",
            });
            if let Some(code) = error {
                r["errorCode"] = code.into();
            }
            r.to_string()
        };
        let sg = crate::watch::ec2::SECURITY_GROUP;
        let actor = actor_of_record(&record("AuthorizeSecurityGroupIngress", None), sg);
        assert_eq!(
            actor.and_then(|a| a.arn).as_deref(),
            Some("arn:aws:sts::1:assumed-role/ops/bob")
        );
        assert!(
            actor_of_record(
                &record(
                    "AuthorizeSecurityGroupIngress",
                    Some("Client.UnauthorizedOperation")
                ),
                sg
            )
            .is_none()
        );
        assert!(actor_of_record(&record("DescribeSecurityGroups", None), sg).is_none());
        assert!(
            actor_of_record(
                &record("AuthorizeSecurityGroupIngress", None),
                crate::watch::s3::BUCKET
            )
            .is_none()
        );
    }
}
