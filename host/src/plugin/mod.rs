//! The plugin runtime: the wasmtime engine, loading and validating components, capabilities,
//! limits, the live plugin set and hot reload.
//!
//! It owns everything between a `.wasm` file on disk and a safe call into it. It must never
//! know what an audit pipeline or a store does with the answers.

pub mod budget;
pub mod calls;
pub mod candidate;
pub mod contract;
pub mod engine;
pub mod failure;
pub mod grants;
pub mod host;
pub mod loaded;
pub mod manifest;
pub mod output;
pub mod package;
pub mod registry;
pub mod reload;
pub mod wasi_files;
pub mod wit;

pub use failure::{FailureCause, PluginFailure};
pub use loaded::{LoadError, LoadedPlugin, PluginInfo};
pub use manifest::{Manifest, PluginKind};
pub use registry::{PluginSet, PluginSetEvent, PluginStatus};

use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::config::Config;
use crate::services::HostServices;

/// Build the engine and an empty plugin set for a fixed configuration.
pub fn plugin_set(
    config: Arc<Config>,
    services: Arc<HostServices>,
) -> anyhow::Result<Arc<PluginSet>> {
    live_plugin_set(Arc::new(ArcSwap::new(config)), services)
}

/// Build the engine and an empty plugin set that follows a live configuration. The engine's
/// own sizing (instances, largest memory, cache) is read once, here.
pub fn live_plugin_set(
    config: Arc<ArcSwap<Config>>,
    services: Arc<HostServices>,
) -> anyhow::Result<Arc<PluginSet>> {
    let engine = {
        let config = config.load();
        engine::PluginEngine::new(engine::EngineOptions {
            max_instances: config.plugins.max_instances,
            max_memory_bytes: config.plugins.max_memory_mib as usize * 1024 * 1024,
            cache_dir: Some(config.compile_cache_dir()),
        })?
    };
    Ok(Arc::new(PluginSet::new(Arc::new(engine), services, config)))
}
