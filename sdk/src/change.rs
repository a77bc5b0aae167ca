//! What a notifier is told about.

use serde::de::DeserializeOwned;

use crate::{Error, Issue, Item};
pub use simian_model::actor::Actor;

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

    /// Who made the change, when the host knows (a CloudTrail event set off the refresh, or
    /// a CloudTrail lookup found it). The text is CloudTrail's: escape it where it is shown.
    pub fn actor(&self) -> Option<Actor> {
        let supplementary: serde_json::Value =
            serde_json::from_str(&self.item.supplementary_configuration).ok()?;
        serde_json::from_value(
            supplementary
                .get(simian_model::actor::SUPPLEMENTARY_KEY)?
                .clone(),
        )
        .ok()
    }

    /// Attach an actor the way the host hands it over (for notifier tests).
    pub fn with_actor(mut self, actor: &Actor) -> Change {
        let mut supplementary: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&self.item.supplementary_configuration).unwrap_or_default();
        if let Ok(value) = serde_json::to_value(actor) {
            supplementary.insert(simian_model::actor::SUPPLEMENTARY_KEY.to_string(), value);
        }
        self.item.supplementary_configuration =
            serde_json::Value::Object(supplementary).to_string();
        self
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
