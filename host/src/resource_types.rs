//! The AWS resource types simian watches, and which of their values are ephemeral.
//!
//! Owns the static facts about each supported type: whether it is global and which envelope
//! paths change without a durable change (last-used dates, usage counters). It must never
//! hold per-item state or talk to AWS; the store uses it to decide what is a revision.
//!
//! Path syntax: dot-separated keys from the envelope root; `[]` after a key means every
//! element of that array, e.g. `configuration.accessKeys[].lastUsedDate`.

pub const IAM_USER: &str = "AWS::IAM::User";
pub const IAM_ROLE: &str = "AWS::IAM::Role";
pub const IAM_POLICY: &str = "AWS::IAM::Policy";
pub const IAM_GROUP: &str = "AWS::IAM::Group";
pub const S3_BUCKET: &str = "AWS::S3::Bucket";
pub const EC2_SECURITY_GROUP: &str = "AWS::EC2::SecurityGroup";

/// Every supported resource type.
pub const ALL: &[&str] = &[
    IAM_USER,
    IAM_ROLE,
    IAM_POLICY,
    IAM_GROUP,
    S3_BUCKET,
    EC2_SECURITY_GROUP,
];

/// The region recorded for global (IAM) resources.
pub const GLOBAL_REGION: &str = "global";

/// Envelope paths whose changes alone must not create a revision.
pub fn ephemeral_paths(resource_type: &str) -> &'static [&'static str] {
    match resource_type {
        IAM_USER => &[
            "configuration.accessKeys[].lastUsedDate",
            "configuration.accessKeys[].lastUsedService",
            "configuration.accessKeys[].lastUsedRegion",
            "configuration.passwordLastUsed",
        ],
        IAM_ROLE => &["configuration.roleLastUsed"],
        IAM_POLICY => &[
            "configuration.attachmentCount",
            "configuration.permissionsBoundaryUsageCount",
        ],
        _ => &[],
    }
}

/// IAM is global: its items live in region [`GLOBAL_REGION`].
pub fn is_global(resource_type: &str) -> bool {
    resource_type.starts_with("AWS::IAM::")
}

pub fn is_supported(resource_type: &str) -> bool {
    ALL.contains(&resource_type)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_paths() {
        assert_eq!(ALL.len(), 6);
        assert_eq!(ephemeral_paths(IAM_USER).len(), 4);
        assert_eq!(
            ephemeral_paths(IAM_ROLE),
            &["configuration.roleLastUsed"][..]
        );
        assert_eq!(ephemeral_paths(IAM_POLICY).len(), 2);
        for t in [IAM_GROUP, S3_BUCKET, EC2_SECURITY_GROUP, "AWS::Nope::X"] {
            assert!(ephemeral_paths(t).is_empty(), "{t}");
        }
        for t in ALL {
            assert!(is_supported(t));
            assert_eq!(is_global(t), t.starts_with("AWS::IAM::"), "{t}");
        }
        assert!(!is_global(S3_BUCKET));
    }
}
