//! The configuration item the host records, audits and notifies about.
//!
//! The type and its AWS Config envelope (docs/item-format.md) live in `simian-model`, so the
//! host, its CLI and the SDK's test host read one format one way. This module only names them
//! for the host; it must never grow a second reading of the envelope.

pub use simian_model::item::{DocumentError, FieldError, Item};
