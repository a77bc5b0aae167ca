//! What a notifier is told about.

use serde::de::DeserializeOwned;

use crate::{Error, Issue, Item};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Created,
    Modified,
    Deleted,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Created => "created",
            ChangeKind::Modified => "modified",
            ChangeKind::Deleted => "deleted",
        }
    }
}

impl std::fmt::Display for ChangeKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One durable change to an item, with the issues it brought or cleared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub kind: ChangeKind,
    /// The item as it is now (for `Deleted`, as it was last seen).
    pub item: Item,
    /// The configuration before the change (JSON text), for `Modified` and `Deleted`.
    pub previous_configuration: Option<String>,
    pub new_issues: Vec<Issue>,
    pub regressed_issues: Vec<Issue>,
    pub fixed_issues: Vec<Issue>,
    pub still_open_issues: Vec<Issue>,
}

impl Change {
    /// A change with no issue lists; tests fill in the fields they care about.
    pub fn new(kind: ChangeKind, item: Item) -> Change {
        Change {
            kind,
            item,
            previous_configuration: None,
            new_issues: Vec::new(),
            regressed_issues: Vec::new(),
            fixed_issues: Vec::new(),
            still_open_issues: Vec::new(),
        }
    }

    /// The previous configuration deserialized, if there was one.
    pub fn previous<T: DeserializeOwned>(&self) -> Result<Option<T>, Error> {
        self.previous_configuration
            .as_deref()
            .map(|text| {
                serde_json::from_str(text).map_err(|e| {
                    Error::from(e).context(format_args!(
                        "previous configuration of {}",
                        self.item.label()
                    ))
                })
            })
            .transpose()
    }
}
