//! The rules simian's host and its plugin SDK share, so a plugin that passes its tests against
//! the SDK's test host is judged by the same code in the real host: the item envelope, ARN and
//! CIDR parsing, the classification of an account id, ARN, CIDR or S3 canonical id against the
//! operator's accounts and networks, how the `items` capability pages, and the JSON diff that
//! history, the console and the notifiers show, and who made a change (`actor`).
//!
//! Pure: serde and serde_json only. It must never do I/O, know about wasm, AWS or a database.

pub mod accounts;
pub mod actor;
pub mod arn;
pub mod cidr;
pub mod diff;
mod error;
pub mod item;
pub mod items;

pub use error::ParseError;
pub use item::Item;
