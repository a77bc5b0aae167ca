//! The built-in AWS watchers: list the security-relevant configuration of each watched account
//! as items in the AWS Config envelope.
//!
//! Owns talking to AWS (sessions, pagination, retries, pacing) and shaping documents. It must
//! never write the store, run plugins or notify: a listing is handed to the runtime's sweep,
//! which decides what is durable, and a listing that failed anywhere is reported as failed so
//! nothing is mistaken for a deletion.

pub mod account;
pub mod acm;
pub mod cloudtrail;
pub mod doc;
pub mod ec2;
pub mod ec2_shares;
pub mod elb;
pub mod elbv2;
pub mod iam;
pub mod iam_certs;
pub mod kms;
pub mod lambda;
pub mod rds;
pub mod rds_snapshots;
pub mod s3;
pub mod session;
pub mod sns;
pub mod sqs;
pub mod vpc;
pub mod vpc_endpoints;

use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use serde::Serialize;

use crate::item::Item;
use session::AccountSession;

/// The region recorded for global resources (IAM, the account-level item).
pub const GLOBAL_REGION: &str = "global";

/// Where a watcher's listings live, which decides the scopes a sweep records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegionScope {
    /// One listing per account, recorded in region `global` (IAM).
    Global,
    /// One listing per watched region (EC2).
    PerRegion,
    /// One listing per account, asked of the home region; each item carries the region it
    /// lives in (S3 buckets).
    Located,
}

/// One AWS service's watcher: what it lists and what that costs in permissions. A new
/// resource type is one new watcher (a file in `watch/`) added to [`registry`].
#[async_trait::async_trait]
pub trait Watcher: Send + Sync {
    /// The resource types one listing yields.
    fn resource_types(&self) -> &'static [&'static str];

    fn region_scope(&self) -> RegionScope;

    /// Envelope paths of `resource_type` whose changes alone are no revision (last-used
    /// dates, usage counters).
    fn ephemeral_paths(&self, _resource_type: &str) -> &'static [&'static str] {
        &[]
    }

    /// `(service:Operation, iam:Action)` for every AWS call `list` can make.
    fn operations(&self) -> &'static [(&'static str, &'static str)];

    /// Everything of this watcher's types in `region` (for `Global`, the home region, which
    /// the service ignores).
    async fn list(&self, session: &AccountSession, region: &str) -> Result<Vec<Item>, WatchError>;

    /// The items of `resource_type` in `region` that answer to any of `refs` (a resource id,
    /// name or ARN, as a CloudTrail event names it); a ref that matches nothing is gone. An
    /// error means nothing is known. By default the listing, filtered: always the watcher's
    /// own shaping, so an event never makes a document of its own. Override where AWS can
    /// describe a few resources much more cheaply than all of them.
    async fn describe(
        &self,
        session: &AccountSession,
        region: &str,
        resource_type: &str,
        refs: &[String],
    ) -> Result<Vec<Item>, WatchError> {
        describe_by_listing(self, session, region, resource_type, refs).await
    }
}

/// [`Watcher::describe`] by listing everything and keeping what the refs name.
pub async fn describe_by_listing<W: Watcher + ?Sized>(
    watcher: &W,
    session: &AccountSession,
    region: &str,
    resource_type: &str,
    refs: &[String],
) -> Result<Vec<Item>, WatchError> {
    Ok(watcher
        .list(session, region)
        .await?
        .into_iter()
        .filter(|i| i.resource_type == resource_type && refs.iter().any(|r| answers_to(i, r)))
        .collect())
}

/// Whether an item is the one a reference (id, name or ARN) names.
pub fn answers_to(item: &Item, reference: &str) -> bool {
    item.resource_id == reference || item.resource_name == reference || item.arn == reference
}

/// Every watcher, in sweep order.
pub fn registry() -> &'static [&'static dyn Watcher] {
    &[
        &iam::IamWatcher,
        &iam_certs::IamCertificatesWatcher,
        &s3::S3Watcher,
        &ec2::Ec2Watcher,
        &vpc::VpcWatcher,
        &vpc_endpoints::VpcEndpointWatcher,
        &sqs::SqsWatcher,
        &sns::SnsWatcher,
        &kms::KmsWatcher,
        &acm::AcmWatcher,
        &ec2_shares::Ec2SharesWatcher,
        &rds::RdsWatcher,
        &rds_snapshots::RdsSnapshotWatcher,
        &cloudtrail::CloudTrailWatcher,
        &account::AccountWatcher,
        &lambda::LambdaWatcher,
        &elb::ElbWatcher,
        &elbv2::Elbv2Watcher,
    ]
}

/// The watcher that lists `resource_type`.
pub fn watcher_of(resource_type: &str) -> Option<&'static dyn Watcher> {
    registry()
        .iter()
        .copied()
        .find(|w| w.resource_types().contains(&resource_type))
}

/// Why a listing did not complete, as far as AWS said.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum WatchErrorKind {
    /// AWS asked us to slow down; the SDK's retries ran out.
    Throttled,
    /// The role lacks a permission (see `simian iam-policy`) or cannot be assumed.
    AccessDenied,
    /// What was asked about does not exist (where that is not an expected answer).
    NotFound,
    Other,
}

impl std::fmt::Display for WatchErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            WatchErrorKind::Throttled => "throttled",
            WatchErrorKind::AccessDenied => "access denied",
            WatchErrorKind::NotFound => "not found",
            WatchErrorKind::Other => "failed",
        })
    }
}

/// A listing that did not complete.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct WatchError {
    pub kind: WatchErrorKind,
    pub message: String,
}

impl WatchError {
    pub fn new(message: impl Into<String>) -> WatchError {
        WatchError {
            kind: WatchErrorKind::Other,
            message: message.into(),
        }
    }

    /// An AWS SDK error while doing `what`, classified by its error code.
    pub fn sdk<E: ProvideErrorMetadata + std::error::Error>(
        what: impl std::fmt::Display,
        e: &E,
    ) -> WatchError {
        WatchError {
            kind: classify(e.code()),
            message: format!("{what}: {}", error_text(e)),
        }
    }

    pub fn with_kind(mut self, kind: WatchErrorKind) -> WatchError {
        self.kind = kind;
        self
    }
}

const THROTTLED: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestThrottledException",
    "SlowDown",
    "TooManyRequestsException",
    "PriorRequestNotComplete",
];

const DENIED: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "AllAccessDisabled",
    "AuthFailure",
    "ExpiredToken",
    "InvalidAccessKeyId",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "UnauthorizedOperation",
    "UnrecognizedClientException",
];

/// The kind of an AWS error code.
pub fn classify(code: Option<&str>) -> WatchErrorKind {
    match code {
        Some(c) if THROTTLED.contains(&c) => WatchErrorKind::Throttled,
        Some(c) if DENIED.contains(&c) => WatchErrorKind::AccessDenied,
        Some(c) if NOT_FOUND.contains(&c) || c.ends_with(".NotFound") || c == "NoSuchBucket" => {
            WatchErrorKind::NotFound
        }
        _ => WatchErrorKind::Other,
    }
}

/// The whole error chain on one line (the SDK's Display alone says only "service error").
pub fn error_text<E: std::error::Error>(e: &E) -> String {
    format!("{}", DisplayErrorContext(e))
}

const NOT_FOUND: &[&str] = &[
    "NoSuchEntity",
    "NoSuchBucketPolicy",
    "NoSuchPublicAccessBlockConfiguration",
    "ServerSideEncryptionConfigurationNotFoundError",
    "NoSuchTagSet",
    "NoSuchTagSetError",
    // SQS (query and JSON protocols), SNS, KMS, Lambda, ACM, CloudTrail.
    "AWS.SimpleQueueService.NonExistentQueue",
    "QueueDoesNotExist",
    "NotFound",
    "NotFoundException",
    "ResourceNotFoundException",
    "TrailNotFoundException",
    // Elastic Load Balancing (classic and v2).
    "LoadBalancerNotFound",
    "AccessPointNotFound",
];

/// Whether an AWS error says the thing asked about does not exist.
pub fn is_not_found<E: ProvideErrorMetadata>(e: &E) -> bool {
    e.code().is_some_and(|c| NOT_FOUND.contains(&c))
}

/// Every AWS operation simian calls, with the IAM action that authorises it: each watcher's,
/// and assuming each watched account's role (done by the hub identity).
pub fn operations() -> Vec<(&'static str, &'static str)> {
    let mut ops: Vec<(&'static str, &'static str)> = registry()
        .iter()
        .flat_map(|w| w.operations().iter().copied())
        .chain(session::OPERATIONS.iter().copied())
        .collect();
    ops.sort();
    ops.dedup();
    ops
}

/// The least-privilege read-only policy the watchers need in each watched account: exactly
/// the actions behind [`operations`] (AssumeRole belongs to the hub's policy instead).
pub fn iam_policy() -> serde_json::Value {
    let mut actions: Vec<&str> = operations()
        .into_iter()
        .map(|(_, action)| action)
        .filter(|a| !a.starts_with("sts:"))
        .collect();
    actions.sort();
    actions.dedup();
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "SimianReadOnly",
            "Effect": "Allow",
            "Action": actions,
            "Resource": "*"
        }]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_are_told_apart() {
        assert_eq!(classify(Some("Throttling")), WatchErrorKind::Throttled);
        assert_eq!(classify(Some("SlowDown")), WatchErrorKind::Throttled);
        assert_eq!(
            classify(Some("RequestLimitExceeded")),
            WatchErrorKind::Throttled
        );
        assert_eq!(classify(Some("AccessDenied")), WatchErrorKind::AccessDenied);
        assert_eq!(
            classify(Some("UnauthorizedOperation")),
            WatchErrorKind::AccessDenied
        );
        assert_eq!(classify(Some("NoSuchEntity")), WatchErrorKind::NotFound);
        assert_eq!(
            classify(Some("InvalidGroup.NotFound")),
            WatchErrorKind::NotFound
        );
        assert_eq!(classify(Some("InternalError")), WatchErrorKind::Other);
        assert_eq!(classify(None), WatchErrorKind::Other);
    }

    #[test]
    fn the_policy_is_generated_from_the_registry() {
        let policy = iam_policy();
        let actions: Vec<&str> = policy["Statement"][0]["Action"]
            .as_array()
            .expect("actions")
            .iter()
            .filter_map(|a| a.as_str())
            .collect();
        for w in registry() {
            for (_, action) in w.operations() {
                assert!(actions.contains(action), "{action} missing");
            }
        }
        assert!(!actions.iter().any(|a| a.starts_with("sts:")));
        let mut sorted = actions.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(actions, sorted);
    }
}
