//! The contract's data as the host sees it, whatever contract version a plugin was built
//! against: what `describe()` says, what an auditor returns, what a notifier is handed.
//!
//! Owns these version-independent types. It must never name a contract version: the
//! conversions to and from each released version live in `wit`.

use serde::Serialize;

use super::manifest::PluginKind;
use crate::item::Item;

/// One finding an auditor reported for one item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub check_id: String,
    pub title: String,
    pub score: u32,
    pub notes: String,
    pub remediation: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Created,
    Modified,
    Deleted,
}

/// One change handed to a notifier.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub kind: ChangeKind,
    pub item: Item,
    pub previous_configuration: Option<String>,
    pub new_issues: Vec<Issue>,
    pub regressed_issues: Vec<Issue>,
    pub fixed_issues: Vec<Issue>,
    pub still_open_issues: Vec<Issue>,
    /// Who made the change, when CloudTrail said.
    pub actor: Option<simian_model::actor::Actor>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CheckInfo {
    pub id: String,
    pub title: String,
    pub score: u32,
    pub description: String,
}

/// What the plugin's `describe()` said.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PluginInfo {
    pub id: String,
    pub version: String,
    pub kind: PluginKind,
    pub description: String,
    pub resource_types: Vec<String>,
    pub checks: Vec<CheckInfo>,
}
