//! Write simian auditor and notifier plugins in idiomatic Rust.
//!
//! A plugin is a `cdylib` crate built for `wasm32-wasip2`; the build produces a WebAssembly
//! component that the simian host runs in a sandbox. This crate is the only dependency a
//! plugin needs: it hides the generated bindings of the `simian:plugin@0.1.0` contract
//! behind plain Rust types, and runs the same plugin code natively for `cargo test`.
//!
//! ```
//! use simian_sdk::prelude::*;
//!
//! pub struct MissingOwner {
//!     score: u32,
//! }
//!
//! impl Auditor for MissingOwner {
//!     fn new() -> Result<Self, Error> {
//!         Ok(MissingOwner { score: settings::get_or("score", 1)? })
//!     }
//!
//!     fn checks() -> Vec<CheckInfo> {
//!         vec![CheckInfo::new("missing-owner-tag", "Missing owner tag", 1, "Buckets need an owner tag.")]
//!     }
//!
//!     fn audit(&self, item: &Item) -> Result<Vec<Issue>, Error> {
//!         if item.tag("owner").is_some() {
//!             return Ok(vec![]);
//!         }
//!         Ok(vec![Issue::new("missing-owner-tag", "Missing owner tag", self.score)
//!             .notes("Tags: [owner missing]")
//!             .remediation("Tag the bucket with its owning team.")])
//!     }
//! }
//!
//! // Exports the type as the component's `auditor` world (a no-op natively). Its id, version
//! // and resource types are stated once, in the crate's `plugin.toml`.
//! register_auditor!(MissingOwner);
//!
//! // Natively, against a fake host:
//! let host = simian_sdk::testing::TestHost::new().setting("score", serde_json::json!(5));
//! let bucket = Item::new("AWS::S3::Bucket", "logs");
//! let results = simian_sdk::testing::audit_with::<MissingOwner>(&host, &[bucket]);
//! assert_eq!(results[0].as_ref().unwrap()[0].score, 5);
//! ```
//!
//! Host services ([`log`], [`settings`], [`accounts`], [`items`], [`http`], [`mail`]) have the
//! same API on both targets. Inside a component they call the host; natively they call the
//! `testing::TestHost` installed on the current thread. A component imports only the
//! services its code calls, and the host refuses to load a plugin that imports a capability
//! the operator has not granted, so call only what `plugin.toml` declares.

// The export macros name `simian_sdk::...`, which must also resolve inside this crate.
extern crate self as simian_sdk;

pub mod accounts;
pub mod arn;
mod backend;
#[cfg(target_arch = "wasm32")]
mod bindings;
mod change;
pub mod cidr;
#[cfg(target_arch = "wasm32")]
mod convert;
pub mod diff;
mod error;
pub mod expiry;
mod export;
pub mod exposure;
pub mod http;
#[cfg(feature = "iam-catalog")]
pub mod iam_catalog;
mod info;
mod issue;
mod item;
pub mod items;
pub mod log;
pub mod mail;
mod plugin;
pub mod policy;
pub mod resources;
pub mod settings;
pub mod subscription;
#[cfg(not(target_arch = "wasm32"))]
pub mod testing;
pub mod time;

pub use change::{Actor, Change, ChangeKind};
pub use error::{Error, HostError};
pub use info::{CheckInfo, Checks, PluginInfo, PluginKind};
pub use issue::Issue;
pub use item::Item;
pub use plugin::{Auditor, Notifier};

/// Everything a typical plugin uses: `use simian_sdk::prelude::*;`.
pub mod prelude {
    pub use crate::{
        Auditor, Change, ChangeKind, CheckInfo, Checks, Error, HostError, Issue, Item, Notifier,
    };
    pub use crate::{accounts, http, items, log, mail, settings};
    pub use crate::{register_auditor, register_notifier};
}

#[doc(hidden)]
pub mod __private {
    #[cfg(target_arch = "wasm32")]
    pub use crate::export::glue::*;
}
