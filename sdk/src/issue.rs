//! Findings an auditor raises.

/// A finding against one item. `check_id` and `notes` are part of the issue's identity in the
/// host (that is how it tells a new issue from one still open), so keep notes deterministic:
/// no timestamps, no unordered collections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// Stable identifier of the check within the plugin, e.g. `internet-accessible`.
    pub check_id: String,
    pub title: String,
    pub score: u32,
    /// The evidence.
    pub notes: String,
    pub remediation: Option<String>,
}

impl Issue {
    pub fn new(check_id: impl Into<String>, title: impl Into<String>, score: u32) -> Issue {
        Issue {
            check_id: check_id.into(),
            title: title.into(),
            score,
            notes: String::new(),
            remediation: None,
        }
    }

    pub fn notes(mut self, notes: impl Into<String>) -> Issue {
        self.notes = notes.into();
        self
    }

    pub fn remediation(mut self, remediation: impl Into<String>) -> Issue {
        self.remediation = Some(remediation.into());
        self
    }
}
