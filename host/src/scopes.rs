//! The shapes in which the operator grants and a plugin asks: origins, mail recipient
//! patterns, resource-type lists, directories, limits, plugin ids. Parsed and checked here,
//! once, so everyone else holds values rather than strings to re-parse.
//!
//! A leaf: it imports nothing of simian's but `text`. It must never decide what a plugin may do
//! (`plugin::grants` weighs requests against grants) nor read files.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// `scheme://host:port`, with the default port made explicit so comparisons are exact.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Origin {
    pub scheme: String,
    pub host: String,
    pub port: u16,
}

impl Origin {
    pub fn parse(text: &str) -> Result<Origin, String> {
        let url = url::Url::parse(text).map_err(|e| format!("`{text}` is not a URL: {e}"))?;
        let origin = Self::of_url(&url).map_err(|e| format!("`{text}`: {e}"))?;
        if url.path() != "/" && !url.path().is_empty() || url.query().is_some() {
            return Err(format!(
                "`{text}` must be an origin (scheme://host[:port]) without a path"
            ));
        }
        Ok(origin)
    }

    pub fn of_url(url: &url::Url) -> Result<Origin, String> {
        let scheme = url.scheme().to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return Err(format!("scheme `{scheme}` is not http or https"));
        }
        let host = url
            .host_str()
            .ok_or_else(|| "no host".to_string())?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        let port = url
            .port_or_known_default()
            .ok_or_else(|| "no port".to_string())?;
        Ok(Origin { scheme, host, port })
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}:{}", self.scheme, self.host, self.port)
    }
}

/// Where a plugin's HTTP may go: exact origins, and the private ranges it may still reach.
#[derive(Debug, Clone, Default, Serialize)]
pub struct HttpScope {
    pub origins: BTreeSet<Origin>,
    #[serde(serialize_with = "serialize_nets")]
    pub private_networks: Vec<ipnet::IpNet>,
}

fn serialize_nets<S: serde::Serializer>(nets: &[ipnet::IpNet], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(nets.iter().map(|n| n.to_string()))
}

impl HttpScope {
    /// Whether a request to `origin` is inside the scope.
    pub fn check(&self, origin: &Origin) -> Result<(), String> {
        if self.origins.contains(origin) {
            Ok(())
        } else {
            Err(format!(
                "capability `http` is not granted for origin {origin}"
            ))
        }
    }
}

/// Resource types a plugin may read (`*` for all); the same shape requested and granted.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ItemsGrant {
    pub resource_types: Vec<String>,
}

/// Mail recipients: addresses, `@domain` for a whole domain, or `*` for anyone.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct MailGrant {
    pub recipients: Vec<String>,
}

/// Directories a plugin may read (absolute paths, preopened read-only at the same path).
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FilesGrant {
    pub dirs: Vec<PathBuf>,
}

/// Per-call limits and per-window budgets, as the operator sets them
/// (`[plugin.<id>.limits]`) or a manifest asks (`[limits]`, which can only lower the
/// operator's). The `*_per_hour` budgets count per budget window (`[plugins]
/// budget_window_seconds`, an hour unless the operator says otherwise).
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    pub memory_mib: Option<u32>,
    pub timeout_ms: Option<u64>,
    pub cpu_ms_per_hour: Option<u64>,
    pub calls_per_hour: Option<u64>,
    pub http_per_hour: Option<u64>,
    pub mails_per_hour: Option<u64>,
}

pub fn is_plugin_id(id: &str) -> bool {
    let mut chars = id.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// `address` as a plain, lowercased `local@domain`, or why it is not one.
pub fn plain_address(address: &str) -> Result<String, String> {
    let address = address.trim().to_ascii_lowercase();
    let shown = crate::text::escape_controls(crate::text::truncate(&address, 320)).into_owned();
    let refuse = |why: &str| Err(format!("recipient `{shown}` {why}"));
    let Some((local, domain)) = address.split_once('@') else {
        return refuse("is not an address (local@domain)");
    };
    if address.len() > 254 || local.is_empty() || local.len() > 64 {
        return refuse("is not an address (local@domain)");
    }
    let local_ok = local.split('.').all(|atom| {
        !atom.is_empty()
            && atom.bytes().all(|b| {
                b.is_ascii_alphanumeric()
                    || matches!(
                        b,
                        b'+' | b'-'
                            | b'_'
                            | b'='
                            | b'#'
                            | b'$'
                            | b'&'
                            | b'*'
                            | b'/'
                            | b'^'
                            | b'{'
                            | b'}'
                            | b'|'
                            | b'~'
                            | b'`'
                            | b'\''
                            | b'?'
                    )
            })
    });
    if !local_ok {
        return refuse(
            "has a local part with characters a relay may route on (only letters, digits and .+-_ and the like)",
        );
    }
    if !is_domain(domain) {
        return refuse("has no plain domain after its single `@`");
    }
    Ok(address)
}

fn is_domain(domain: &str) -> bool {
    domain.len() <= 253
        && domain.contains('.')
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// A recipient scope in a grant or manifest: `*`, `@domain` or a plain address.
pub fn check_recipient_pattern(pattern: &str) -> Result<(), String> {
    let p = pattern.trim().to_ascii_lowercase();
    if p == "*" {
        return Ok(());
    }
    if let Some(domain) = p.strip_prefix('@') {
        return if is_domain(domain) {
            Ok(())
        } else {
            Err(format!("`{pattern}` is not `*`, `@domain` or an address"))
        };
    }
    plain_address(&p).map(|_| ())
}
