//! The capability granter: what a plugin may do is what its manifest asks for AND what the
//! operator granted, scope by scope.
//!
//! Owns that intersection and the per-call scope checks (origin, recipient, resource type).
//! It must never perform the calls it authorises.

use std::collections::BTreeSet;

use serde::Serialize;

use super::manifest::RequestedCapabilities;
use crate::config::GrantsConfig;
pub use crate::scopes::{HttpScope, Origin, check_recipient_pattern, plain_address};

/// A capability a plugin can import, by its WIT interface name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Capability {
    Accounts,
    Items,
    Http,
    Mail,
}

impl Capability {
    pub const ALL: [Capability; 4] = [
        Capability::Accounts,
        Capability::Items,
        Capability::Http,
        Capability::Mail,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Capability::Accounts => "accounts",
            Capability::Items => "items",
            Capability::Http => "http",
            Capability::Mail => "mail",
        }
    }

    pub fn from_interface(name: &str) -> Option<Capability> {
        Capability::ALL.into_iter().find(|c| c.name() == name)
    }

    /// What the plugin's author would add to plugin.toml to ask for it.
    pub fn declare_hint(self) -> &'static str {
        match self {
            Capability::Accounts => "accounts = true",
            Capability::Items => "items = { resource_types = [\"AWS::IAM::User\"] }",
            Capability::Http => "http = { origins = [\"https://host.example.com\"] }",
            Capability::Mail => "mail = { recipients = [\"security@example.com\"] }",
        }
    }

    /// What the operator would add to simian.toml to grant it.
    pub fn grant_hint(self, plugin_id: &str) -> String {
        match self {
            Capability::Accounts => format!("[plugin.{plugin_id}.grants] accounts = true"),
            Capability::Items => format!(
                "[plugin.{plugin_id}.grants] items = {{ resource_types = [\"AWS::IAM::User\"] }}"
            ),
            Capability::Http => format!(
                "[plugin.{plugin_id}.grants] http = {{ origins = [\"https://host.example.com\"] }}"
            ),
            Capability::Mail => format!(
                "[plugin.{plugin_id}.grants] mail = {{ recipients = [\"security@example.com\"] }}"
            ),
        }
    }
}

impl std::fmt::Display for Capability {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The effective permissions of one loaded plugin.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Grants {
    pub accounts: bool,
    /// Resource types (or `*`).
    pub items: Option<BTreeSet<String>>,
    pub http: Option<HttpScope>,
    /// Addresses or `@domain`s.
    pub mail: Option<BTreeSet<String>>,
    /// Directories preopened read-only, at the same path inside the sandbox.
    pub files: Vec<std::path::PathBuf>,
}

impl Grants {
    /// Intersect what the manifest requests with what the operator granted.
    pub fn effective(requested: &RequestedCapabilities, granted: &GrantsConfig) -> Grants {
        let items = match (&requested.items, &granted.items) {
            (Some(req), Some(grant)) => {
                let grant: BTreeSet<&str> =
                    grant.resource_types.iter().map(String::as_str).collect();
                let set: BTreeSet<String> = req
                    .resource_types
                    .iter()
                    .filter(|t| grant.contains("*") || grant.contains(t.as_str()))
                    .cloned()
                    .collect();
                (!set.is_empty()).then_some(set)
            }
            _ => None,
        };
        let http = match (&requested.http, &granted.http) {
            (Some(req), Some(grant)) => {
                let granted: BTreeSet<Origin> = grant.origins.iter().cloned().collect();
                // A request for `*` takes whatever origins the operator granted.
                let origins: BTreeSet<Origin> = if req.origins.iter().any(|o| o == "*") {
                    granted
                } else {
                    req.origins
                        .iter()
                        .filter_map(|o| Origin::parse(o).ok())
                        .filter(|o| granted.contains(o))
                        .collect()
                };
                (!origins.is_empty()).then(|| HttpScope {
                    origins,
                    private_networks: grant.private_networks.clone(),
                })
            }
            _ => None,
        };
        let mail = match (&requested.mail, &granted.mail) {
            (Some(req), Some(grant)) => {
                let lower = |list: &[String]| -> Vec<String> {
                    list.iter().map(|r| r.trim().to_ascii_lowercase()).collect()
                };
                let (req, grant) = (lower(&req.recipients), lower(&grant.recipients));
                // The narrower of each overlapping pair: a requested domain with a granted
                // address gives the address, and the other way round.
                let set: BTreeSet<String> = req
                    .iter()
                    .filter(|r| grant.iter().any(|g| recipient_covers(g, r)))
                    .chain(
                        grant
                            .iter()
                            .filter(|g| req.iter().any(|r| recipient_covers(r, g))),
                    )
                    .cloned()
                    .collect();
                (!set.is_empty()).then_some(set)
            }
            _ => None,
        };
        let files = match (&granted.files, requested.files) {
            (Some(grant), true) => grant.dirs.clone(),
            _ => Vec::new(),
        };
        Grants {
            accounts: requested.accounts && granted.accounts,
            items,
            http,
            mail,
            files,
        }
    }

    /// Grants that allow nothing (used by `simian plugin check`).
    pub fn none() -> Grants {
        Grants::default()
    }

    pub fn has(&self, cap: Capability) -> bool {
        match cap {
            Capability::Accounts => self.accounts,
            Capability::Items => self.items.is_some(),
            Capability::Http => self.http.is_some(),
            Capability::Mail => self.mail.is_some(),
        }
    }

    pub fn list(&self) -> Vec<Capability> {
        Capability::ALL
            .into_iter()
            .filter(|c| self.has(*c))
            .collect()
    }

    pub fn check_items(&self, resource_type: &str) -> Result<(), String> {
        match &self.items {
            None => Err("capability `items` is not granted".into()),
            Some(types) if types.contains("*") || types.contains(resource_type) => Ok(()),
            Some(_) => Err(format!(
                "capability `items` is not granted for resource type `{resource_type}`"
            )),
        }
    }

    pub fn check_origin(&self, origin: &Origin) -> Result<&HttpScope, String> {
        match &self.http {
            None => Err("capability `http` is not granted".into()),
            Some(scope) => scope.check(origin).map(|()| scope),
        }
    }

    /// The plain, lowercased address if the plugin may mail it.
    pub fn check_recipient(&self, address: &str) -> Result<String, String> {
        let Some(allowed) = &self.mail else {
            return Err("capability `mail` is not granted".into());
        };
        // Only plain `local@domain`: `%` and `!` routing, source routes, quoting and comments
        // would let an address that ends in a granted domain be relayed somewhere else.
        let address = plain_address(address)?;
        let ok = allowed.iter().any(|a| {
            a == "*" || *a == address || (a.starts_with('@') && address.ends_with(a.as_str()))
        });
        if ok {
            Ok(address)
        } else {
            Err(format!(
                "capability `mail` is not granted for recipient {address}"
            ))
        }
    }
}

/// Whether scope `wide` (an address, `@domain`, or `*` for anyone) includes `narrow`.
fn recipient_covers(wide: &str, narrow: &str) -> bool {
    wide == "*" || wide == narrow || (wide.starts_with('@') && narrow.ends_with(wide))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{HttpGrant, ItemsGrant, MailGrant};
    use crate::plugin::manifest::RequestedHttp;

    fn requested() -> RequestedCapabilities {
        RequestedCapabilities {
            accounts: true,
            items: Some(ItemsGrant {
                resource_types: vec!["AWS::IAM::User".into(), "AWS::S3::Bucket".into()],
            }),
            http: Some(RequestedHttp {
                origins: vec![
                    "https://hooks.example.com".into(),
                    "https://evil.example".into(),
                ],
            }),
            mail: Some(MailGrant {
                recipients: vec!["sec@example.com".into(), "ops@other.org".into()],
            }),
            files: false,
        }
    }

    #[test]
    fn mail_scopes_intersect_to_the_narrower_side() {
        let requested = RequestedCapabilities {
            mail: Some(MailGrant {
                recipients: vec!["@example.com".into(), "ops@other.org".into()],
            }),
            ..Default::default()
        };
        let granted = GrantsConfig {
            mail: Some(MailGrant {
                recipients: vec!["Sec@Example.com".into(), "@third.net".into()],
            }),
            ..Default::default()
        };
        let g = Grants::effective(&requested, &granted);
        assert!(g.check_recipient("sec@example.com").is_ok());
        assert!(g.check_recipient("other@example.com").is_err());
        assert!(g.check_recipient("ops@other.org").is_err());
        assert!(g.check_recipient("x@third.net").is_err());

        // A notifier that mails whoever the operator says asks for `*`.
        let anyone = RequestedCapabilities {
            mail: Some(MailGrant {
                recipients: vec!["*".into()],
            }),
            http: Some(RequestedHttp {
                origins: vec!["*".into()],
            }),
            ..Default::default()
        };
        let granted = GrantsConfig {
            mail: Some(MailGrant {
                recipients: vec!["sec@corp.example".into()],
            }),
            http: Some(HttpGrant {
                origins: vec![Origin::parse("https://hooks.slack.com").expect("origin")],
                private_networks: vec![],
            }),
            ..Default::default()
        };
        let g = Grants::effective(&anyone, &granted);
        assert!(g.check_recipient("sec@corp.example").is_ok());
        assert!(g.check_recipient("other@corp.example").is_err());
        let slack = Origin::parse("https://hooks.slack.com").expect("origin");
        assert!(g.check_origin(&slack).is_ok());
        let evil = Origin::parse("https://evil.example").expect("origin");
        assert!(g.check_origin(&evil).is_err());
        assert!(
            Grants::effective(&anyone, &GrantsConfig::default())
                .list()
                .is_empty()
        );
    }

    #[test]
    fn recipients_must_be_plain_addresses_and_star_means_anyone() {
        let requested = RequestedCapabilities {
            mail: Some(MailGrant {
                recipients: vec!["*".into()],
            }),
            ..Default::default()
        };
        let domain = GrantsConfig {
            mail: Some(MailGrant {
                recipients: vec!["@corp.example".into()],
            }),
            ..Default::default()
        };
        let g = Grants::effective(&requested, &domain);
        assert_eq!(
            g.check_recipient(" Sec@Corp.example "),
            Ok("sec@corp.example".to_string())
        );
        for routed in [
            "evil%attacker.example@corp.example",
            "attacker.example!evil@corp.example",
            "@attacker.example:evil@corp.example",
            "\"evil@attacker.example\"@corp.example",
            "evil@attacker.example@corp.example",
            "evil(comment)@corp.example",
            "evil@[127.0.0.1]",
            "evil@corp.example\r\nRCPT TO:<x@y.example>",
            "evil@corp.example ",
        ] {
            let r = g.check_recipient(routed);
            // A trailing space is trimmed; everything else here is refused.
            if routed.trim() == "evil@corp.example" {
                assert!(r.is_ok(), "{routed}");
            } else {
                assert!(r.is_err(), "{routed} accepted");
            }
        }
        let anyone = GrantsConfig {
            mail: Some(MailGrant {
                recipients: vec!["*".into()],
            }),
            ..Default::default()
        };
        let g = Grants::effective(&requested, &anyone);
        assert!(g.check_recipient("someone@elsewhere.example").is_ok());
        assert!(g.check_recipient("evil%x@elsewhere.example").is_err());
        assert!(check_recipient_pattern("*").is_ok());
        assert!(check_recipient_pattern("@corp.example").is_ok());
        assert!(check_recipient_pattern("@corp").is_err());
        assert!(check_recipient_pattern("a!b@corp.example").is_err());
    }

    #[test]
    fn files_need_both_request_and_grant() {
        let granted = GrantsConfig {
            files: Some(crate::config::FilesGrant {
                dirs: vec!["/srv/hr".into()],
            }),
            ..Default::default()
        };
        let asked = RequestedCapabilities {
            files: true,
            ..Default::default()
        };
        assert_eq!(
            Grants::effective(&asked, &granted).files,
            [std::path::PathBuf::from("/srv/hr")]
        );
        assert!(
            Grants::effective(&RequestedCapabilities::default(), &granted)
                .files
                .is_empty()
        );
        assert!(
            Grants::effective(&asked, &GrantsConfig::default())
                .files
                .is_empty()
        );
    }

    #[test]
    fn nothing_granted_means_nothing() {
        let g = Grants::effective(&requested(), &GrantsConfig::default());
        assert!(g.list().is_empty());
        assert!(g.check_items("AWS::IAM::User").is_err());
    }

    #[test]
    fn intersection_keeps_only_common_scopes() {
        let granted = GrantsConfig {
            accounts: true,
            items: Some(ItemsGrant {
                resource_types: vec!["AWS::IAM::User".into()],
            }),
            http: Some(HttpGrant {
                origins: vec![Origin::parse("https://hooks.example.com:443").expect("origin")],
                private_networks: vec![],
            }),
            mail: Some(MailGrant {
                recipients: vec!["@example.com".into()],
            }),
            files: None,
        };
        let g = Grants::effective(&requested(), &granted);
        assert_eq!(g.list(), Capability::ALL.to_vec());
        assert!(g.check_items("AWS::IAM::User").is_ok());
        assert!(g.check_items("AWS::S3::Bucket").is_err());
        let hooks = Origin::parse("https://hooks.example.com").expect("origin");
        assert!(g.check_origin(&hooks).is_ok());
        let evil = Origin::parse("https://evil.example").expect("origin");
        assert!(g.check_origin(&evil).is_err());
        assert!(g.check_recipient("SEC@example.com").is_ok());
        assert!(g.check_recipient("ops@other.org").is_err());
    }

    #[test]
    fn operator_grant_without_request_gives_nothing() {
        let granted = GrantsConfig {
            accounts: true,
            ..Default::default()
        };
        let g = Grants::effective(&RequestedCapabilities::default(), &granted);
        assert!(!g.accounts);
    }

    #[test]
    fn origins_normalise_default_ports() {
        assert_eq!(
            Origin::parse("https://A.example.com").expect("ok"),
            Origin::parse("https://a.example.com:443/").expect("ok")
        );
        assert!(Origin::parse("https://a.example.com/path").is_err());
        assert!(Origin::parse("file:///etc/passwd").is_err());
    }
}
