//! Amazon Resource Names: `arn:partition:service:region:account:resource`.
//!
//! The same code the host runs (`simian-model`); a parse failure converts into [`crate::Error`].

pub use simian_model::arn::*;
