//! What a plugin says about itself. Id, version, kind and resource types are `plugin.toml`'s;
//! the code contributes its checks.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PluginKind {
    Auditor,
    Notifier,
}

/// A check an auditor can raise, for listings and operator overrides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckInfo {
    pub id: String,
    pub title: String,
    pub score: u32,
    pub description: String,
}

impl CheckInfo {
    pub fn new(
        id: impl Into<String>,
        title: impl Into<String>,
        score: u32,
        description: impl Into<String>,
    ) -> CheckInfo {
        CheckInfo {
            id: id.into(),
            title: title.into(),
            score,
            description: description.into(),
        }
    }
}

/// A plugin's description as the contract carries it. Plugins built with this SDK leave id,
/// version and resource types empty: the host reads them from `plugin.toml`. (A plugin written
/// without the SDK may fill them in; the host then checks they agree with the manifest.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginInfo {
    pub id: String,
    pub version: String,
    pub kind: PluginKind,
    pub description: String,
    /// Resource types an auditor wants to see; empty for notifiers.
    pub resource_types: Vec<String>,
    pub checks: Vec<CheckInfo>,
}

impl PluginInfo {
    pub fn auditor(id: impl Into<String>, version: impl Into<String>) -> PluginInfo {
        PluginInfo::new(PluginKind::Auditor, id.into(), version.into())
    }

    pub fn notifier(id: impl Into<String>, version: impl Into<String>) -> PluginInfo {
        PluginInfo::new(PluginKind::Notifier, id.into(), version.into())
    }

    fn new(kind: PluginKind, id: String, version: String) -> PluginInfo {
        PluginInfo {
            id,
            version,
            kind,
            description: String::new(),
            resource_types: Vec::new(),
            checks: Vec::new(),
        }
    }

    pub fn description(mut self, description: impl Into<String>) -> PluginInfo {
        self.description = description.into();
        self
    }

    pub fn resource_types<I, S>(mut self, resource_types: I) -> PluginInfo
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.resource_types = resource_types.into_iter().map(Into::into).collect();
        self
    }

    pub fn check(
        mut self,
        id: impl Into<String>,
        title: impl Into<String>,
        score: u32,
        description: impl Into<String>,
    ) -> PluginInfo {
        self.checks
            .push(CheckInfo::new(id, title, score, description));
        self
    }
}

/// An auditor's checks, built in one expression:
/// `Checks::new().check("id", "Title", 10, "What it means.").into()`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Checks(Vec<CheckInfo>);

impl Checks {
    pub fn new() -> Checks {
        Checks::default()
    }

    pub fn check(
        mut self,
        id: impl Into<String>,
        title: impl Into<String>,
        score: u32,
        description: impl Into<String>,
    ) -> Checks {
        self.0.push(CheckInfo::new(id, title, score, description));
        self
    }
}

impl From<Checks> for Vec<CheckInfo> {
    fn from(checks: Checks) -> Vec<CheckInfo> {
        checks.0
    }
}
