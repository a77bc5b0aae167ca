//! `plugin.toml`, the manifest that sits beside each plugin's `.wasm`.
//!
//! Owns parsing and checking the manifest on its own terms (field shapes, id syntax). It must
//! never decide what a plugin is allowed to do: that is `grants`, which weighs the manifest's
//! requests against the operator's grants.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use crate::scopes::is_plugin_id;
use crate::scopes::{ItemsGrant, Limits, MailGrant};

pub const MANIFEST_FILE: &str = "plugin.toml";

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid manifest {path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PluginKind {
    Auditor,
    Notifier,
}

impl std::fmt::Display for PluginKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PluginKind::Auditor => "auditor",
            PluginKind::Notifier => "notifier",
        })
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub id: String,
    pub version: String,
    pub kind: PluginKind,
    /// The `simian:plugin` contract version the plugin was built against.
    pub contract: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub resource_types: Vec<String>,
    /// The component file, relative to the manifest; default `<id>.wasm`.
    pub wasm: Option<String>,
    #[serde(default)]
    pub capabilities: RequestedCapabilities,
    #[serde(default)]
    pub limits: RequestedLimits,
}

/// What a plugin says it needs. Scopes use the same shapes as the operator's grants.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RequestedCapabilities {
    #[serde(default)]
    pub accounts: bool,
    pub items: Option<ItemsGrant>,
    pub http: Option<RequestedHttp>,
    pub mail: Option<MailGrant>,
    /// Read operator-granted directories (`[plugin.<id>.grants] files = { dirs = [...] }`).
    #[serde(default)]
    pub files: bool,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RequestedHttp {
    pub origins: Vec<String>,
}

impl RequestedCapabilities {
    /// Whether plugin.toml asks for `cap` under [capabilities].
    pub fn declares(&self, cap: super::grants::Capability) -> bool {
        use super::grants::Capability;
        match cap {
            Capability::Accounts => self.accounts,
            Capability::Items => self.items.is_some(),
            Capability::Http => self.http.is_some(),
            Capability::Mail => self.mail.is_some(),
        }
    }
}

/// What a manifest's `[limits]` asks for.
pub type RequestedLimits = Limits;

impl Manifest {
    pub fn load(path: &Path) -> Result<Manifest, ManifestError> {
        let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<Manifest, ManifestError> {
        let invalid = |message: String| ManifestError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        let manifest: Manifest = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        if !is_plugin_id(&manifest.id) {
            return Err(invalid(format!(
                "field `id`: `{}` must be lowercase letters, digits and dashes, starting with a letter",
                manifest.id
            )));
        }
        if manifest.version.trim().is_empty() {
            return Err(invalid("field `version` is empty".into()));
        }
        if manifest.kind == PluginKind::Auditor && manifest.resource_types.is_empty() {
            return Err(invalid(
                "field `resource_types`: an auditor must name at least one resource type".into(),
            ));
        }
        if let Some(wasm) = &manifest.wasm
            && (wasm.contains('/') || wasm.contains('\\') || !wasm.ends_with(".wasm"))
        {
            return Err(invalid(format!(
                "field `wasm`: `{wasm}` must be a plain file name ending in .wasm beside the manifest"
            )));
        }
        if let Some(http) = &manifest.capabilities.http {
            // `*`: wherever the operator grants (a webhook notifier cannot know the URL).
            for (i, origin) in http.origins.iter().enumerate().filter(|(_, o)| *o != "*") {
                crate::scopes::Origin::parse(origin)
                    .map_err(|e| invalid(format!("field `capabilities.http.origins[{i}]`: {e}")))?;
            }
        }
        if let Some(mail) = &manifest.capabilities.mail {
            for (i, r) in mail.recipients.iter().enumerate() {
                crate::scopes::check_recipient_pattern(r).map_err(|e| {
                    invalid(format!("field `capabilities.mail.recipients[{i}]`: {e}"))
                })?;
            }
        }
        Ok(manifest)
    }

    pub fn wasm_file(&self) -> String {
        self.wasm
            .clone()
            .unwrap_or_else(|| format!("{}.wasm", self.id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
id = "sg-open"
version = "1.2.0"
kind = "auditor"
contract = "0.1.0"
resource_types = ["AWS::EC2::SecurityGroup"]
[capabilities]
http = { origins = ["https://hooks.example.com"] }
[limits]
memory_mib = 16
"#;

    #[test]
    fn parses_good_manifest() {
        let m = Manifest::parse(GOOD, Path::new("p/plugin.toml")).expect("valid");
        assert_eq!(m.wasm_file(), "sg-open.wasm");
        assert_eq!(m.limits.memory_mib, Some(16));
        assert_eq!(
            m.capabilities.http.map(|h| h.origins),
            Some(vec!["https://hooks.example.com".to_string()])
        );
    }

    #[test]
    fn errors_name_file_and_field() {
        let bad = GOOD.replace("\"sg-open\"", "\"Sg Open\"");
        let e = Manifest::parse(&bad, Path::new("p/plugin.toml")).expect_err("bad id");
        assert!(
            e.to_string().contains("p/plugin.toml") && e.to_string().contains("`id`"),
            "{e}"
        );
        let bad = GOOD.replace("kind = \"auditor\"", "kind = \"judge\"");
        let e = Manifest::parse(&bad, Path::new("p/plugin.toml")).expect_err("bad kind");
        assert!(e.to_string().contains("kind"), "{e}");
        let bad = GOOD.replace("https://hooks", "ftp://hooks");
        let e = Manifest::parse(&bad, Path::new("p/plugin.toml")).expect_err("bad origin");
        assert!(
            e.to_string().contains("capabilities.http.origins[0]"),
            "{e}"
        );
        let bad = GOOD.replace("resource_types = [\"AWS::EC2::SecurityGroup\"]", "");
        assert!(Manifest::parse(&bad, Path::new("x")).is_err());
    }
}
