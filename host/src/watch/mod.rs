//! The built-in AWS watchers: list the security-relevant configuration of each watched account
//! as items in the AWS Config envelope.
//!
//! Owns talking to AWS (sessions, pagination, retries, pacing) and shaping documents. It must
//! never write the store, run plugins or notify: a listing is handed to the runtime's sweep,
//! which decides what is durable, and a listing that failed anywhere is reported as failed so
//! nothing is mistaken for a deletion.

pub mod doc;
pub mod ec2;
pub mod iam;
pub mod s3;
pub mod session;

use aws_smithy_types::error::display::DisplayErrorContext;

/// A listing that did not complete.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct WatchError {
    pub message: String,
}

impl WatchError {
    pub fn new(message: impl Into<String>) -> WatchError {
        WatchError {
            message: message.into(),
        }
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
];

/// Whether an AWS error says the thing asked about does not exist.
pub fn is_not_found<E: aws_sdk_iam::error::ProvideErrorMetadata>(e: &E) -> bool {
    e.code().is_some_and(|c| NOT_FOUND.contains(&c))
}

/// Every AWS operation the watchers call, with the IAM action that authorises it.
pub const OPERATIONS: &[(&str, &str)] = &[
    ("ec2:DescribeSecurityGroups", "ec2:DescribeSecurityGroups"),
    ("iam:GetAccessKeyLastUsed", "iam:GetAccessKeyLastUsed"),
    (
        "iam:GetAccountAuthorizationDetails",
        "iam:GetAccountAuthorizationDetails",
    ),
    ("iam:GetLoginProfile", "iam:GetLoginProfile"),
    // Only when GetAccountAuthorizationDetails omits a policy's name or id.
    ("iam:GetPolicy", "iam:GetPolicy"),
    ("iam:ListAccessKeys", "iam:ListAccessKeys"),
    ("iam:ListMFADevices", "iam:ListMFADevices"),
    ("iam:ListUsers", "iam:ListUsers"),
    ("s3:GetBucketAcl", "s3:GetBucketAcl"),
    ("s3:GetBucketEncryption", "s3:GetEncryptionConfiguration"),
    ("s3:GetBucketLocation", "s3:GetBucketLocation"),
    ("s3:GetBucketLogging", "s3:GetBucketLogging"),
    ("s3:GetBucketPolicy", "s3:GetBucketPolicy"),
    ("s3:GetBucketTagging", "s3:GetBucketTagging"),
    ("s3:GetBucketVersioning", "s3:GetBucketVersioning"),
    ("s3:GetPublicAccessBlock", "s3:GetBucketPublicAccessBlock"),
    ("s3:ListBuckets", "s3:ListAllMyBuckets"),
    // Assuming each watched account's role is done by the hub identity.
    ("sts:AssumeRole", "sts:AssumeRole"),
];

/// The least-privilege read-only policy the watchers need in each watched account: exactly
/// the actions behind `OPERATIONS` (AssumeRole belongs to the hub's policy instead).
pub fn iam_policy() -> serde_json::Value {
    let mut actions: Vec<&str> = OPERATIONS
        .iter()
        .map(|(_, action)| *action)
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
