//! The rules simian's host and its plugin SDK share, so a plugin that passes its tests against
//! the SDK's test host is judged by the same code in the real host: ARN and CIDR parsing, and
//! the classification of an account id, ARN, CIDR or S3 canonical id against the operator's
//! accounts and networks, and how the `items` capability pages.
//!
//! Pure: standard library only. It must never do I/O, know about wasm, AWS or a database.

pub mod accounts;
pub mod arn;
pub mod cidr;
mod error;
pub mod items;

pub use error::ParseError;
