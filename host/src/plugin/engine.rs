//! The one wasmtime `Engine` of the process, its linkers, the epoch ticker, the instance
//! semaphore and the compiled-code cache.
//!
//! Owns turning wasm bytes into a validated, linked `Component`. It must never know about a
//! particular plugin's manifest or grants.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;
use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use super::host::HostState;
use super::manifest::PluginKind;

/// How often the epoch advances; deadlines are counted in these ticks.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);
/// Linear memory and async stack kept mapped between a slot's instances (see `new`).
const KEEP_RESIDENT_MEMORY: usize = 4 << 20;
const KEEP_RESIDENT_STACK: usize = 256 << 10;
/// Frames captured in a trap's backtrace.
pub const BACKTRACE_FRAMES: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    #[error("not a WebAssembly file (no \\0asm header)")]
    NotWasm,
    #[error(
        "a core WebAssembly module, not a component: build for wasm32-wasip2 (simian plugin build)"
    )]
    CoreModule,
    #[error("invalid component: {0}")]
    Invalid(String),
}

#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Live instances at once, across all plugins.
    pub max_instances: u32,
    /// Largest memory any plugin may be given.
    pub max_memory_bytes: usize,
    /// Compiled-code cache; None disables it.
    pub cache_dir: Option<PathBuf>,
}

pub struct PluginEngine {
    pub engine: Engine,
    pub auditor_linker: Linker<HostState>,
    pub notifier_linker: Linker<HostState>,
    /// Bounds live instances below the pooling allocator's slots so a burst waits instead of
    /// failing to instantiate.
    pub permits: Arc<Semaphore>,
    cache_dir: Option<PathBuf>,
    engine_key: String,
    stop_ticker: Arc<AtomicBool>,
}

impl Drop for PluginEngine {
    fn drop(&mut self) {
        self.stop_ticker.store(true, Ordering::Relaxed);
    }
}

impl PluginEngine {
    pub fn new(opts: EngineOptions) -> anyhow::Result<PluginEngine> {
        let mut config = Config::new();
        config.wasm_component_model(true);
        config.epoch_interruption(true);
        config.max_wasm_stack(1024 * 1024);
        // Enough frames to recognise runaway recursion in a trap (see `loaded`).
        config.wasm_backtrace_max_frames(std::num::NonZeroUsize::new(BACKTRACE_FRAMES));
        config.async_stack_size(2 * 1024 * 1024);
        let slots = opts.max_instances.max(1);
        let mut pool = PoolingAllocationConfig::default();
        // A Rust plugin instance holds a few core instances (the module plus adapters/shims),
        // hence the headroom over `slots`.
        pool.total_component_instances(slots)
            .total_core_instances(slots * 8)
            .total_memories(slots * 2)
            .total_tables(slots * 8)
            .total_stacks(slots)
            .max_memories_per_component(2)
            .max_core_instances_per_component(16)
            .max_tables_per_component(16)
            .max_memory_size(opts.max_memory_bytes)
            // Every call gets a fresh instance. Without these, the memory and stack a call
            // touched are given back to the kernel afterwards, and the next call page-faults
            // them in again, zeroed; kept resident, they are reset with memset instead.
            .linear_memory_keep_resident(KEEP_RESIDENT_MEMORY)
            .async_stack_keep_resident(KEEP_RESIDENT_STACK);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&config).map_err(|e| anyhow::anyhow!("wasmtime engine: {e}"))?;

        let mut auditor_linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut auditor_linker)
            .map_err(|e| anyhow::anyhow!("linking WASI: {e}"))?;
        super::wasi_files::guard_open_at(&mut auditor_linker)?;
        super::wit::add_to_linker(&mut auditor_linker, PluginKind::Auditor)?;
        let mut notifier_linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut notifier_linker)
            .map_err(|e| anyhow::anyhow!("linking WASI: {e}"))?;
        super::wasi_files::guard_open_at(&mut notifier_linker)?;
        super::wit::add_to_linker(&mut notifier_linker, PluginKind::Notifier)?;

        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let engine_key = format!("{:016x}", hasher.finish());

        let stop_ticker = Arc::new(AtomicBool::new(false));
        {
            let engine = engine.clone();
            let stop = stop_ticker.clone();
            std::thread::Builder::new()
                .name("simian-epoch".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(EPOCH_TICK);
                        engine.increment_epoch();
                    }
                })?;
        }
        if let Some(dir) = &opts.cache_dir {
            std::fs::create_dir_all(dir).map_err(|e| {
                anyhow::anyhow!("cannot create compile cache {}: {e}", dir.display())
            })?;
        }
        Ok(PluginEngine {
            engine,
            auditor_linker,
            notifier_linker,
            permits: Arc::new(Semaphore::new(slots as usize)),
            cache_dir: opts.cache_dir,
            engine_key,
            stop_ticker,
        })
    }

    fn cache_path(&self, wasm_hash: &str) -> Option<PathBuf> {
        self.cache_dir
            .as_ref()
            .map(|d| d.join(format!("{wasm_hash}-{}.cwasm", self.engine_key)))
    }

    /// Compile (or fetch from the cache) a component. CPU-heavy: call from a blocking thread.
    /// Returns the component and whether the cache answered.
    pub fn compile(&self, bytes: &[u8]) -> Result<(Component, bool), CompileError> {
        if bytes.len() < 8 || &bytes[..4] != b"\0asm" {
            return Err(CompileError::NotWasm);
        }
        // Byte 4..8 is the version/layer: core modules are layer 0, components layer 1.
        if bytes[6] == 0 && bytes[7] == 0 {
            return Err(CompileError::CoreModule);
        }
        let hash = hex::encode(Sha256::digest(bytes));
        let cached = self.cache_path(&hash);
        if let Some(path) = &cached
            && path.exists()
        {
            // SAFETY: the cache directory is host-owned and entries are written only by
            // `Component::serialize` below under a key that includes the engine config hash;
            // wasmtime additionally checks the header's compatibility before use.
            match unsafe { Component::deserialize_file(&self.engine, path) } {
                Ok(component) => return Ok((component, true)),
                Err(e) => {
                    tracing::warn!(path = %path.display(), "discarding unusable cache entry: {e}");
                    let _ = std::fs::remove_file(path);
                }
            }
        }
        let component = Component::from_binary(&self.engine, bytes)
            .map_err(|e| CompileError::Invalid(format!("{e:#}")))?;
        if let Some(path) = cached
            && let Err(e) = write_cache(&component, &path)
        {
            tracing::warn!(path = %path.display(), "cannot write compile cache: {e}");
        }
        Ok((component, false))
    }
}

/// Write a cache entry by renaming a uniquely named temporary file into place. Loads run
/// concurrently, and the same component can load under several ids at once: a shared
/// temporary name would let one writer truncate the file another just renamed into place while
/// a third has it mapped (SIGBUS). A renamed-over entry stays valid for whoever mapped it.
fn write_cache(component: &Component, path: &Path) -> anyhow::Result<()> {
    use std::io::Write;
    let bytes = component
        .serialize()
        .map_err(|e| anyhow::anyhow!("serialize: {e}"))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".entry")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    tmp.write_all(&bytes)?;
    tmp.persist(path).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(())
}
