//! The two error types plugins see: [`Error`] for anything that stops an audit or a
//! notification, and [`HostError`] for a host call that did not succeed.

use std::fmt;

/// Why a plugin could not do its job; becomes the per-item (or per-batch) error the host logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    message: String,
}

impl Error {
    pub fn new(message: impl Into<String>) -> Error {
        Error {
            message: message.into(),
        }
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    /// Prefix the message with what was being done, e.g. `configuration of sg-1: ...`.
    pub fn context(self, context: impl fmt::Display) -> Error {
        Error {
            message: format!("{context}: {}", self.message),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Error {
        Error::new(e.to_string())
    }
}

impl From<HostError> for Error {
    fn from(e: HostError) -> Error {
        Error::new(format!("host call failed: {e}"))
    }
}

impl From<String> for Error {
    fn from(message: String) -> Error {
        Error::new(message)
    }
}

impl From<&str> for Error {
    fn from(message: &str) -> Error {
        Error::new(message)
    }
}

/// Why a host call did not succeed. Mirrors the contract's `host-error`: a denial is a value
/// the plugin can handle, never a trap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostError {
    /// The operator has not granted this (capability, scope).
    Denied(String),
    /// The arguments were malformed.
    Invalid(String),
    Timeout,
    /// A response or message exceeded the host's size cap.
    TooLarge(String),
    /// The call was allowed but failed (network, relay, store).
    Failed(String),
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostError::Denied(why) => write!(f, "denied: {why}"),
            HostError::Invalid(why) => write!(f, "invalid: {why}"),
            HostError::Timeout => f.write_str("timeout"),
            HostError::TooLarge(why) => write!(f, "too large: {why}"),
            HostError::Failed(why) => write!(f, "failed: {why}"),
        }
    }
}

impl std::error::Error for HostError {}

impl From<simian_model::ParseError> for Error {
    fn from(e: simian_model::ParseError) -> Error {
        Error::new(e.message())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_conversions() {
        assert_eq!(
            HostError::Denied("no grant".into()).to_string(),
            "denied: no grant"
        );
        assert_eq!(HostError::Timeout.to_string(), "timeout");
        let e: Error = HostError::Failed("relay down".into()).into();
        assert_eq!(e.message(), "host call failed: failed: relay down");
        let json = serde_json::from_str::<u32>("x").map_err(Error::from);
        assert!(json.is_err_and(|e| e.message().contains("expected value")));
        assert_eq!(Error::new("boom").context("sg-1").to_string(), "sg-1: boom");
    }
}
