//! The plugin contract, contained: generated bindings, one module per released contract
//! version (frozen like the WIT itself), and the conversions between each and the host's own
//! types (`contract`).
//!
//! Owns everything that names a contract version. Nothing outside this module does: the rest
//! of the host speaks `contract` types, so a new contract version is one new module here.

use wasmtime::Store;
use wasmtime::component::{InstancePre, Linker};

use super::contract::{Change, Issue, PluginInfo};
use super::host::HostState;
use super::manifest::PluginKind;
use crate::item::Item;

pub mod since_v0_1_0;
/// The newest released contract.
pub use since_v0_1_0 as latest;

/// The contract versions this host links, newest last.
pub const SUPPORTED_CONTRACTS: &[&str] = &[since_v0_1_0::VERSION];

/// Link every supported contract version's imports for plugins of `kind`.
pub fn add_to_linker(linker: &mut Linker<HostState>, kind: PluginKind) -> anyhow::Result<()> {
    since_v0_1_0::add_to_linker(linker, kind)
}

/// A component checked against its contract version's world, ready to instantiate per call.
pub enum ContractPre {
    V0_1_0(since_v0_1_0::Pre),
}

impl ContractPre {
    /// Check a linked component against the world of `kind` in contract `version`.
    pub fn new(
        version: &str,
        kind: PluginKind,
        pre: InstancePre<HostState>,
    ) -> Result<ContractPre, String> {
        match version {
            since_v0_1_0::VERSION => since_v0_1_0::Pre::new(kind, pre).map(ContractPre::V0_1_0),
            other => Err(format!(
                "built against simian:plugin@{other}; this host supports {}",
                SUPPORTED_CONTRACTS.join(", ")
            )),
        }
    }

    pub async fn describe(&self, store: &mut Store<HostState>) -> wasmtime::Result<PluginInfo> {
        match self {
            ContractPre::V0_1_0(pre) => pre.describe(store).await,
        }
    }

    /// One result per item, in order: its issues or the plugin's refusal.
    pub async fn audit(
        &self,
        store: &mut Store<HostState>,
        batch: &[&Item],
    ) -> wasmtime::Result<Vec<Result<Vec<Issue>, String>>> {
        match self {
            ContractPre::V0_1_0(pre) => pre.audit(store, batch).await,
        }
    }

    pub async fn notify(
        &self,
        store: &mut Store<HostState>,
        changes: &[Change],
    ) -> wasmtime::Result<Result<(), String>> {
        match self {
            ContractPre::V0_1_0(pre) => pre.notify(store, changes).await,
        }
    }
}
