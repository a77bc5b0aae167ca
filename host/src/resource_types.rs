//! The AWS resource types simian watches, looked up by type: the facts each watcher declares
//! (`watch::registry`), for the store and the configuration, which must not know watchers.
//!
//! Owns answering "is this type supported, is it global, which of its values are ephemeral".
//! It must never hold per-item state or talk to AWS; adding a type is done in `watch`, not here.
//!
//! Path syntax: dot-separated keys from the envelope root; `[]` after a key means every
//! element of that array, e.g. `configuration.accessKeys[].lastUsedDate`.

use std::path::PathBuf;

use crate::config::{Config, ConfigError};
use crate::watch::{RegionScope, registry, watcher_of};

/// The region recorded for global (IAM) resources; the watchers own it.
pub use crate::watch::GLOBAL_REGION;

/// Every supported resource type, in watcher order.
pub fn all() -> Vec<&'static str> {
    registry()
        .iter()
        .flat_map(|w| w.resource_types().iter().copied())
        .collect()
}

/// Envelope paths whose changes alone must not create a revision.
pub fn ephemeral_paths(resource_type: &str) -> &'static [&'static str] {
    watcher_of(resource_type).map_or(&[], |w| w.ephemeral_paths(resource_type))
}

/// Whether a diff entry's path (`configuration.accessKeys[0].lastUsedDate`) lies under one of
/// the type's ephemeral paths (`configuration.accessKeys[].lastUsedDate`).
pub fn is_ephemeral_path(resource_type: &str, path: &str) -> bool {
    let mut general = String::with_capacity(path.len());
    let mut rest = path;
    // Array indexes become `[]`, the ephemeral paths' spelling of "every element".
    while let Some(open) = rest.find('[') {
        general.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find(']') {
            Some(close) if after[..close].bytes().all(|b| b.is_ascii_digit()) => {
                general.push_str("[]");
                rest = &after[close + 1..];
            }
            _ => {
                general.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    general.push_str(rest);
    ephemeral_paths(resource_type).iter().any(|p| {
        general == *p
            || general
                .strip_prefix(p)
                .is_some_and(|tail| tail.starts_with('.') || tail.starts_with('['))
    })
}

/// Global types (IAM) live in region [`GLOBAL_REGION`].
pub fn is_global(resource_type: &str) -> bool {
    watcher_of(resource_type).is_some_and(|w| w.region_scope() == RegionScope::Global)
}

pub fn is_supported(resource_type: &str) -> bool {
    watcher_of(resource_type).is_some()
}

/// A configuration may only name supported types (`[watch] intervals`). Checked where the
/// runtime starts or reloads: the configuration module cannot know the watchers.
pub fn check_config(config: &Config) -> Result<(), ConfigError> {
    for t in config.watch.intervals.keys() {
        if !is_supported(t) {
            return Err(ConfigError::Field {
                path: config
                    .source
                    .clone()
                    .unwrap_or_else(|| PathBuf::from("<defaults>")),
                field: format!("watch.intervals.\"{t}\""),
                message: format!("unknown resource type; known: {}", all().join(", ")),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_paths_under_ephemeral_paths_are_recognised() {
        let user = "AWS::IAM::User";
        assert!(is_ephemeral_path(
            user,
            "configuration.accessKeys[0].lastUsedDate"
        ));
        assert!(is_ephemeral_path(
            user,
            "configuration.accessKeys[12].lastUsedRegion"
        ));
        assert!(is_ephemeral_path(user, "configuration.passwordLastUsed"));
        assert!(!is_ephemeral_path(
            user,
            "configuration.accessKeys[0].status"
        ));
        assert!(!is_ephemeral_path(user, "configuration.passwordLastUsedX"));
        assert!(!is_ephemeral_path(user, "configuration.accessKeys[0]"));
        assert!(is_ephemeral_path(
            "AWS::IAM::Role",
            "configuration.roleLastUsed.region"
        ));
        assert!(!is_ephemeral_path(
            "AWS::EC2::SecurityGroup",
            "configuration.passwordLastUsed"
        ));
    }

    #[test]
    fn declared_paths() {
        let all = all();
        assert_eq!(all.len(), 24);
        assert_eq!(ephemeral_paths("AWS::IAM::User").len(), 4);
        assert_eq!(
            ephemeral_paths("AWS::IAM::Role"),
            &["configuration.roleLastUsed"][..]
        );
        assert_eq!(ephemeral_paths("AWS::IAM::Policy").len(), 2);
        assert_eq!(
            ephemeral_paths("AWS::RDS::DBInstance"),
            &["configuration.dbInstanceStatus"][..]
        );
        assert_eq!(
            ephemeral_paths("AWS::EC2::SecurityGroup"),
            &["configuration.networkInterfaceCount"][..]
        );
        for t in [
            "AWS::IAM::Group",
            "AWS::S3::Bucket",
            "AWS::EC2::VPC",
            "AWS::Nope::X",
        ] {
            assert!(ephemeral_paths(t).is_empty(), "{t}");
        }
        for t in &all {
            assert!(is_supported(t));
            let global = t.starts_with("AWS::IAM::") || *t == "AWS::::Account";
            assert_eq!(is_global(t), global, "{t}");
        }
        assert!(!is_global("AWS::S3::Bucket"));
        assert!(!is_supported("AWS::Nope::X"));
    }

    #[test]
    fn unknown_interval_types_are_named() {
        let c = Config::parse("[watch.intervals]\n\"AWS::Nope::X\" = 5\n", None).expect("parses");
        let e = check_config(&c).expect_err("unknown type");
        assert!(
            e.to_string().contains("watch.intervals.\"AWS::Nope::X\""),
            "{e}"
        );
        let ok =
            Config::parse("[watch.intervals]\n\"AWS::IAM::User\" = 5\n", None).expect("parses");
        assert!(check_config(&ok).is_ok());
    }

    #[test]
    fn each_type_has_exactly_one_watcher() {
        let mut all = all();
        let n = all.len();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), n, "a resource type is listed by two watchers");
    }
}
