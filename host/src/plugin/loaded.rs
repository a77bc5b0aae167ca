//! One plugin, loaded: read from its directory, compiled, checked against the contract and the
//! operator's grants, asked to `describe()` itself, and then called.
//!
//! Owns the safety of a single call: a fresh instance from the pooling allocator, a memory cap,
//! an epoch deadline plus an async timeout, captured output, and a failure named for its cause.
//! It must never decide which plugins are live (that is `registry`).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;
use wasmtime::component::types::ComponentItem;
use wasmtime::{Store, UpdateDeadline};

use super::contract::{Change, Issue};
pub use super::contract::{CheckInfo, PluginInfo};
use super::engine::{CompileError, EPOCH_TICK, PluginEngine};
use super::grants::{Capability, Grants};
use super::host::{DeadlineExceeded, HostState, PluginContext};
use super::manifest::{Manifest, PluginKind};
pub use super::package::PluginFiles;
use super::package::ReadError;
use super::wit::{ContractPre, SUPPORTED_CONTRACTS};
use crate::config::{EffectiveLimits, PluginOperatorConfig};
use crate::item::Item;
use crate::services::HostServices;
use crate::services::items::ItemSource;
use crate::text::{escape_controls, for_log};

/// Beyond the epoch deadline, how long the async timeout waits before abandoning a call stuck
/// in a host function.
const HOST_GRACE: Duration = Duration::from_millis(500);
/// Output bounds on what an auditor may return per item.
pub const MAX_ISSUES_PER_ITEM: usize = 10_000;
pub const MAX_NOTES_BYTES: usize = 64 * 1024;
pub const MAX_TITLE_BYTES: usize = 1024;
pub const MAX_REMEDIATION_BYTES: usize = 16 * 1024;
/// The most a `describe()` call may take, whatever the plugin's own budget: it runs at every
/// load and reload, and only lists checks.
pub const DESCRIBE_BUDGET: Duration = Duration::from_secs(2);

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error(
        "plugin directory {dir} holds plugin `{id}`; a plugin's directory must be named after its id, since grants and settings are bound to that name"
    )]
    WrongDirectory { dir: PathBuf, id: String },
    #[error(
        "plugin `{plugin}`: {path} has SHA-256 {actual}, but [plugin.{plugin}] sha256 pins {pinned}; refused (run `simian plugin trust` after vetting the new file)"
    )]
    PinMismatch {
        plugin: String,
        path: PathBuf,
        actual: String,
        pinned: String,
    },
    #[error("{path}: {source}")]
    Compile { path: PathBuf, source: CompileError },
    #[error("plugin `{plugin}` ({path}): {message}")]
    Contract {
        plugin: String,
        path: PathBuf,
        message: String,
    },
    #[error(
        "plugin `{plugin}` imports `{import}`, which is neither part of the simian:plugin contract nor WASI; it cannot be loaded"
    )]
    UndeclaredImport { plugin: String, import: String },
    #[error(
        "plugin `{plugin}` imports capability `{capability}` but its plugin.toml does not declare it under [capabilities]"
    )]
    CapabilityNotDeclared {
        plugin: String,
        capability: Capability,
    },
    #[error(
        "plugin `{plugin}` imports capability `{capability}`, which the operator has not granted; to grant it add to simian.toml: {hint}"
    )]
    CapabilityNotGranted {
        plugin: String,
        capability: Capability,
        hint: String,
    },
    #[error("plugin `{plugin}`: describe() failed: {failure}")]
    Describe {
        plugin: String,
        failure: PluginFailure,
    },
    #[error(
        "plugin `{plugin}`: plugin.toml says {field} = {manifest} but describe() says {described}"
    )]
    Mismatch {
        plugin: String,
        field: &'static str,
        manifest: String,
        described: String,
    },
}

/// Why a call into a plugin did not return a usable answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "cause", rename_all = "kebab-case")]
pub enum FailureCause {
    #[error("timed out after {ms} ms")]
    Timeout { ms: u64 },
    #[error("exceeded its memory limit of {limit_mib} MiB (asked for {requested_mib} MiB)")]
    MemoryLimit { limit_mib: u64, requested_mib: u64 },
    #[error("overflowed its stack (unbounded recursion)")]
    StackOverflow,
    #[error("exited (status {code}) instead of returning")]
    Exited { code: i32 },
    #[error("panicked: {message}")]
    Panic { message: String },
    #[error("trapped: {message}")]
    Trap { message: String },
    #[error("could not be instantiated: {message}")]
    Instantiate { message: String },
    #[error("returned unusable output: {message}")]
    BadOutput { message: String },
    #[error("failed: {message}")]
    Failed { message: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("plugin `{plugin}` {cause}")]
pub struct PluginFailure {
    pub plugin: String,
    #[serde(flatten)]
    pub cause: FailureCause,
}

/// Per-plugin counters, kept across reloads of the same plugin id.
#[derive(Debug, Default)]
pub struct Counters {
    pub calls: AtomicU64,
    pub items: AtomicU64,
    pub total_time_us: AtomicU64,
    pub traps: AtomicU64,
    pub timeouts: AtomicU64,
    pub peak_memory_bytes: AtomicU64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CountersSnapshot {
    pub calls: u64,
    pub items: u64,
    pub total_time_ms: f64,
    pub traps: u64,
    pub timeouts: u64,
    pub peak_memory_bytes: u64,
}

impl Counters {
    pub fn snapshot(&self) -> CountersSnapshot {
        CountersSnapshot {
            calls: self.calls.load(Ordering::Relaxed),
            items: self.items.load(Ordering::Relaxed),
            total_time_ms: self.total_time_us.load(Ordering::Relaxed) as f64 / 1000.0,
            traps: self.traps.load(Ordering::Relaxed),
            timeouts: self.timeouts.load(Ordering::Relaxed),
            peak_memory_bytes: self.peak_memory_bytes.load(Ordering::Relaxed),
        }
    }
}

pub struct LoadedPlugin {
    pub manifest: Manifest,
    pub info: PluginInfo,
    pub dir: PathBuf,
    pub wasm_path: PathBuf,
    pub content_hash: String,
    pub generation: u64,
    pub contract: String,
    /// Interfaces the component imports, as named in the component.
    pub imports: Vec<String>,
    pub memory_bytes: usize,
    pub timeout: Duration,
    pub ctx: Arc<PluginContext>,
    pub counters: Arc<Counters>,
    /// Whether the compiled code came from the cache.
    pub from_cache: bool,
    pub load_time: Duration,
    pre: ContractPre,
    engine: Arc<PluginEngine>,
}

/// How the host wants one plugin loaded.
pub struct LoadRequest<'a> {
    pub files: PluginFiles,
    /// Grants and settings.
    pub operator: &'a PluginOperatorConfig,
    pub limits: EffectiveLimits,
    pub services: Arc<HostServices>,
    pub counters: Arc<Counters>,
    pub generation: u64,
    /// `simian plugin check`: link every capability but grant none, so any plugin can be
    /// inspected.
    pub inspect_only: bool,
}

/// A component's simian contract version and capabilities, read from its imports.
pub struct ImportSummary {
    pub contract: Option<String>,
    pub capabilities: Vec<Capability>,
    pub imports: Vec<String>,
    pub undeclared: Vec<String>,
    pub exports: Vec<String>,
}

pub fn summarize_imports(
    engine: &wasmtime::Engine,
    component: &wasmtime::component::Component,
) -> ImportSummary {
    let ty = component.component_type();
    let mut summary = ImportSummary {
        contract: None,
        capabilities: Vec::new(),
        imports: Vec::new(),
        undeclared: Vec::new(),
        exports: ty.exports(engine).map(|(n, _)| n.to_string()).collect(),
    };
    for (name, item) in ty.imports(engine) {
        // World-level `use` of contract types shows up as type imports; they carry no
        // capability and wasmtime resolves them structurally.
        if matches!(item.ty, ComponentItem::Type(_)) {
            continue;
        }
        summary.imports.push(name.to_string());
        if name.starts_with("wasi:") {
            continue;
        }
        let Some(rest) = name.strip_prefix("simian:plugin/") else {
            summary.undeclared.push(name.to_string());
            continue;
        };
        let (iface, version) = rest.split_once('@').unwrap_or((rest, ""));
        if summary.contract.is_none() && !version.is_empty() {
            summary.contract = Some(version.to_string());
        }
        if let Some(cap) = Capability::from_interface(iface) {
            summary.capabilities.push(cap);
        } else if !matches!(iface, "types" | "log" | "settings")
            || !matches!(item.ty, ComponentItem::ComponentInstance(_))
        {
            summary.undeclared.push(name.to_string());
        }
    }
    summary.capabilities.sort();
    summary.capabilities.dedup();
    summary
}

pub async fn load(
    engine: &Arc<PluginEngine>,
    req: LoadRequest<'_>,
) -> Result<LoadedPlugin, LoadError> {
    let started = Instant::now();
    let LoadRequest {
        files,
        operator,
        limits,
        services,
        counters,
        generation,
        inspect_only,
    } = req;
    let manifest = files.manifest;
    let id = manifest.id.clone();
    let contract_err = |message: String| LoadError::Contract {
        plugin: id.clone(),
        path: files.wasm_path.clone(),
        message,
    };

    let compiled = {
        let engine = engine.clone();
        let bytes = files.wasm;
        tokio::task::spawn_blocking(move || engine.compile(&bytes))
            .await
            .map_err(|e| contract_err(format!("compiler task failed: {e}")))?
    };
    let (component, from_cache) = compiled.map_err(|source| LoadError::Compile {
        path: files.wasm_path.clone(),
        source,
    })?;

    let summary = summarize_imports(&engine.engine, &component);
    if let Some(import) = summary.undeclared.first() {
        return Err(LoadError::UndeclaredImport {
            plugin: id,
            import: import.clone(),
        });
    }
    let contract = summary
        .contract
        .clone()
        .unwrap_or_else(|| manifest.contract.clone());
    if !SUPPORTED_CONTRACTS.contains(&contract.as_str()) {
        return Err(contract_err(format!(
            "built against simian:plugin@{contract}; this host supports {}",
            SUPPORTED_CONTRACTS.join(", ")
        )));
    }
    if contract != manifest.contract {
        return Err(LoadError::Mismatch {
            plugin: id,
            field: "contract",
            manifest: manifest.contract.clone(),
            described: contract,
        });
    }

    let grants = if inspect_only {
        Grants::none()
    } else {
        let grants = Grants::effective(&manifest.capabilities, &operator.grants);
        for cap in &summary.capabilities {
            let declared = match cap {
                Capability::Accounts => manifest.capabilities.accounts,
                Capability::Items => manifest.capabilities.items.is_some(),
                Capability::Http => manifest.capabilities.http.is_some(),
                Capability::Mail => manifest.capabilities.mail.is_some(),
            };
            if !declared {
                return Err(LoadError::CapabilityNotDeclared {
                    plugin: id,
                    capability: *cap,
                });
            }
            if !grants.has(*cap) {
                return Err(LoadError::CapabilityNotGranted {
                    plugin: id.clone(),
                    capability: *cap,
                    hint: cap.grant_hint(&id),
                });
            }
        }
        grants
    };

    let has_export = |name: &str| summary.exports.iter().any(|e| e == name);
    let pre = match manifest.kind {
        PluginKind::Auditor => {
            if !has_export("audit") || !has_export("describe") {
                return Err(contract_err(format!(
                    "plugin.toml says kind = \"auditor\" but the component does not export the auditor world (exports: {})",
                    summary.exports.join(", ")
                )));
            }
            let instance_pre = engine
                .auditor_linker
                .instantiate_pre(&component)
                .map_err(|e| contract_err(format!("does not link as an auditor: {e:#}")))?;
            ContractPre::new(&contract, manifest.kind, instance_pre).map_err(contract_err)?
        }
        PluginKind::Notifier => {
            if !has_export("notify") || !has_export("describe") {
                return Err(contract_err(format!(
                    "plugin.toml says kind = \"notifier\" but the component does not export the notifier world (exports: {})",
                    summary.exports.join(", ")
                )));
            }
            let instance_pre = engine
                .notifier_linker
                .instantiate_pre(&component)
                .map_err(|e| contract_err(format!("does not link as a notifier: {e:#}")))?;
            ContractPre::new(&contract, manifest.kind, instance_pre).map_err(contract_err)?
        }
    };

    let memory_mib = limits.memory_mib;
    let timeout_ms = limits.timeout_ms.max(1);
    let settings = match toml_to_json(toml::Value::Table(operator.settings.clone())) {
        serde_json::Value::Object(map) => map,
        _ => serde_json::Map::new(),
    };
    let ctx = Arc::new(PluginContext {
        id: id.clone(),
        grants,
        settings,
        services,
    });
    let mut plugin = LoadedPlugin {
        info: PluginInfo {
            id: id.clone(),
            version: manifest.version.clone(),
            kind: manifest.kind,
            description: manifest.description.clone(),
            resource_types: manifest.resource_types.clone(),
            checks: Vec::new(),
        },
        manifest,
        dir: files.dir,
        wasm_path: files.wasm_path,
        content_hash: files.content_hash,
        generation,
        contract,
        imports: summary.imports,
        memory_bytes: memory_mib as usize * 1024 * 1024,
        timeout: Duration::from_millis(timeout_ms),
        ctx,
        counters,
        from_cache,
        load_time: Duration::ZERO,
        pre,
        engine: engine.clone(),
    };

    let empty: Arc<dyn ItemSource> = Arc::new(crate::services::items::MemoryItems::default());
    let info = plugin
        .describe(empty)
        .await
        .map_err(|failure| LoadError::Describe {
            plugin: id.clone(),
            failure,
        })?;
    plugin.load_time = started.elapsed();
    let m = &plugin.manifest;
    let mismatch = |field: &'static str, manifest: String, described: String| LoadError::Mismatch {
        plugin: id.clone(),
        field,
        manifest,
        // What describe() said is the plugin's text.
        described: escape_controls(crate::text::truncate(&described, 256)).into_owned(),
    };
    if info.kind != m.kind {
        return Err(mismatch("kind", m.kind.to_string(), info.kind.to_string()));
    }
    // plugin.toml is the single source of id, version and resource types; plugins built with
    // the SDK leave them out of describe(). One that states them (written without the SDK)
    // must agree.
    if !inspect_only && !info.id.is_empty() {
        if info.id != m.id {
            return Err(mismatch("id", m.id.clone(), info.id));
        }
        if info.version != m.version {
            return Err(mismatch("version", m.version.clone(), info.version));
        }
        let mut a = m.resource_types.clone();
        let mut b = info.resource_types.clone();
        a.sort();
        b.sort();
        if a != b {
            return Err(mismatch(
                "resource_types",
                format!("{a:?}"),
                format!("{b:?}"),
            ));
        }
    }
    if inspect_only && !info.id.is_empty() {
        // `simian plugin check` shows what a plugin that states its metadata says, so the
        // command can compare it with the manifest beside it.
        plugin.info = info;
        return Ok(plugin);
    }
    plugin.info = PluginInfo {
        id: m.id.clone(),
        version: m.version.clone(),
        kind: m.kind,
        description: if m.description.is_empty() {
            info.description
        } else {
            m.description.clone()
        },
        resource_types: m.resource_types.clone(),
        checks: info.checks,
    };
    plugin.load_time = started.elapsed();
    Ok(plugin)
}

pub fn toml_to_json(v: toml::Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        toml::Value::String(s) => J::String(s),
        toml::Value::Integer(i) => J::from(i),
        toml::Value::Float(f) => serde_json::Number::from_f64(f).map_or(J::Null, J::Number),
        toml::Value::Boolean(b) => J::Bool(b),
        toml::Value::Datetime(d) => J::String(d.to_string()),
        toml::Value::Array(a) => J::Array(a.into_iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => {
            J::Object(t.into_iter().map(|(k, v)| (k, toml_to_json(v))).collect())
        }
    }
}

impl LoadedPlugin {
    pub fn id(&self) -> &str {
        &self.info.id
    }

    pub fn kind(&self) -> PluginKind {
        self.info.kind
    }

    pub fn handles(&self, resource_type: &str) -> bool {
        self.info
            .resource_types
            .iter()
            .any(|t| t == resource_type || t == "*")
    }

    async fn permit(&self) -> Result<tokio::sync::OwnedSemaphorePermit, PluginFailure> {
        self.engine
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| PluginFailure {
                plugin: self.info.id.clone(),
                cause: FailureCause::Failed {
                    message: "host is shutting down".into(),
                },
            })
    }

    /// A fresh store with this plugin's memory cap and the given time budget.
    fn new_store(&self, items: Arc<dyn ItemSource>, budget: Duration) -> Store<HostState> {
        let ticks = (budget.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64;
        let mut store = Store::new(
            &self.engine.engine,
            HostState::new(self.ctx.clone(), items, self.memory_bytes, ticks),
        );
        store.limiter(|s| &mut s.limiter);
        store.set_epoch_deadline(1);
        // Yield to the runtime at every tick so one busy plugin cannot starve others, and trap
        // once the budget is spent.
        store.epoch_deadline_callback(|mut ctx| {
            let state = ctx.data_mut();
            if state.ticks_left == 0 {
                return Err(wasmtime::Error::new(DeadlineExceeded));
            }
            state.ticks_left -= 1;
            Ok(UpdateDeadline::Yield(1))
        });
        store
    }

    /// Forward captured output, update counters, release the instance, and name a failure.
    fn finish<R>(
        &self,
        store: Store<HostState>,
        permit: tokio::sync::OwnedSemaphorePermit,
        call: CallStart,
        outcome: Result<wasmtime::Result<R>, tokio::time::error::Elapsed>,
    ) -> Result<R, PluginFailure> {
        let fail = |cause: FailureCause| PluginFailure {
            plugin: self.info.id.clone(),
            cause,
        };
        let elapsed = call.started.elapsed();
        let state = store.data();
        let plugin = self.info.id.as_str();
        let (out, out_dropped) = state.stdout.take();
        let (err, err_dropped) = state.stderr.take();
        // One record per line, each escaped: a plugin must not forge the host's log lines.
        for line in out.lines().filter(|l| !l.trim().is_empty()) {
            tracing::info!(plugin, stream = "stdout", "{}", for_log(line));
        }
        for line in err.lines().filter(|l| !l.trim().is_empty()) {
            tracing::warn!(plugin, stream = "stderr", "{}", for_log(line));
        }
        if out_dropped + err_dropped > 0 {
            tracing::warn!(
                plugin,
                dropped_bytes = out_dropped + err_dropped,
                "plugin output over the capture cap was dropped"
            );
        }
        if state.log_budget.suppressed > 0 {
            tracing::warn!(
                plugin,
                suppressed = state.log_budget.suppressed,
                "suppressed {} log messages over the per-call budget",
                state.log_budget.suppressed
            );
        }
        let c = &self.counters;
        c.calls.fetch_add(1, Ordering::Relaxed);
        c.items.fetch_add(call.work_items, Ordering::Relaxed);
        c.total_time_us
            .fetch_add(elapsed.as_micros() as u64, Ordering::Relaxed);
        c.peak_memory_bytes
            .fetch_max(state.limiter.peak as u64, Ordering::Relaxed);
        let refused = state.limiter.refused;
        drop(store);
        drop(permit);

        let timeout = FailureCause::Timeout {
            ms: call.budget.as_millis() as u64,
        };
        let error = match outcome {
            Ok(Ok(value)) => return Ok(value),
            Err(_elapsed) => {
                c.timeouts.fetch_add(1, Ordering::Relaxed);
                return Err(fail(timeout));
            }
            Ok(Err(error)) => error,
        };
        let cause = if error.downcast_ref::<DeadlineExceeded>().is_some() {
            c.timeouts.fetch_add(1, Ordering::Relaxed);
            timeout
        } else {
            c.traps.fetch_add(1, Ordering::Relaxed);
            let trap = error.downcast_ref::<wasmtime::Trap>().copied();
            if let Some(exit) = error.downcast_ref::<wasmtime_wasi::I32Exit>() {
                FailureCause::Exited { code: exit.0 }
            } else if let Some(requested) = refused {
                FailureCause::MemoryLimit {
                    limit_mib: (self.memory_bytes / (1024 * 1024)) as u64,
                    requested_mib: (requested / (1024 * 1024)) as u64,
                }
            } else if trap == Some(wasmtime::Trap::StackOverflow) || runaway_recursion(&error) {
                FailureCause::StackOverflow
            } else if let Some(message) = panic_message(&err) {
                FailureCause::Panic {
                    message: for_log(&message),
                }
            } else if let Some(trap) = trap {
                tracing::debug!(plugin, "trap: {}", for_log(&format!("{error:?}")));
                FailureCause::Trap {
                    message: trap.to_string(),
                }
            } else {
                FailureCause::Failed {
                    message: for_log(&format!("{error:#}")),
                }
            }
        };
        Err(fail(cause))
    }

    /// `describe()` under [`DESCRIBE_BUDGET`] (or the plugin's own budget, if smaller).
    pub async fn describe(&self, items: Arc<dyn ItemSource>) -> Result<PluginInfo, PluginFailure> {
        let permit = self.permit().await?;
        let call = CallStart::new(self.timeout.min(DESCRIBE_BUDGET), 0);
        let mut store = self.new_store(items, call.budget);
        let outcome =
            tokio::time::timeout(call.budget + HOST_GRACE, self.pre.describe(&mut store)).await;
        self.finish(store, permit, call, outcome)
    }

    /// Audit a batch: one result per item, in order. A failure of the whole call (trap,
    /// timeout) is the outer error; a per-item refusal is the inner one.
    pub async fn audit(
        &self,
        batch: &[&Item],
        items: Arc<dyn ItemSource>,
    ) -> Result<Vec<Result<Vec<Issue>, String>>, PluginFailure> {
        let permit = self.permit().await?;
        let call = CallStart::new(self.timeout, batch.len() as u64);
        let mut store = self.new_store(items, call.budget);
        let outcome =
            tokio::time::timeout(call.budget + HOST_GRACE, self.pre.audit(&mut store, batch)).await;
        let results = self.finish(store, permit, call, outcome)?;
        if results.len() != batch.len() {
            return Err(PluginFailure {
                plugin: self.info.id.clone(),
                cause: FailureCause::BadOutput {
                    message: format!(
                        "returned {} results for a batch of {} items",
                        results.len(),
                        batch.len()
                    ),
                },
            });
        }
        Ok(results
            .into_iter()
            .map(|r| r.map_err(|e| for_log(&e)).and_then(validate_issues))
            .collect())
    }

    /// Hand a batch of changes to a notifier. The inner error is the notifier's own refusal,
    /// escaped and with URLs cut to their origin, since it is shown and stored.
    pub async fn notify(
        &self,
        changes: &[Change],
        items: Arc<dyn ItemSource>,
    ) -> Result<Result<(), String>, PluginFailure> {
        let permit = self.permit().await?;
        let call = CallStart::new(self.timeout, changes.len() as u64);
        let mut store = self.new_store(items, call.budget);
        let outcome = tokio::time::timeout(
            call.budget + HOST_GRACE,
            self.pre.notify(&mut store, changes),
        )
        .await;
        self.finish(store, permit, call, outcome)
            .map(|r| r.map_err(|e| for_log(&e)))
    }
}

/// When a call started, its budget, and how many items it carried (for the counters).
struct CallStart {
    started: Instant,
    budget: Duration,
    work_items: u64,
}

impl CallStart {
    fn new(budget: Duration, work_items: u64) -> CallStart {
        CallStart {
            started: Instant::now(),
            budget,
            work_items,
        }
    }
}

/// Languages that keep their stack in linear memory (Rust, C) run out of it before the wasm
/// call stack does, so unbounded recursion traps as an out-of-bounds access; a backtrace that
/// is deep and almost all one function tells it apart from other memory bugs.
fn runaway_recursion(error: &wasmtime::Error) -> bool {
    let Some(bt) = error.downcast_ref::<wasmtime::WasmBacktrace>() else {
        return false;
    };
    let frames = bt.frames();
    if frames.len() < super::engine::BACKTRACE_FRAMES {
        return false;
    }
    let mut counts = std::collections::HashMap::new();
    for f in frames {
        *counts.entry(f.func_index()).or_insert(0usize) += 1;
    }
    counts
        .values()
        .max()
        .is_some_and(|&n| n * 10 >= frames.len() * 9)
}

/// Rust's panic hook writes "panicked at <location>:" and the message on the next line.
fn panic_message(stderr: &str) -> Option<String> {
    let mut lines = stderr.lines();
    while let Some(line) = lines.next() {
        if let Some(pos) = line.find("panicked at") {
            let at = line[pos..].trim();
            let msg = lines.next().unwrap_or_default().trim();
            return Some(format!("{msg} ({at})").trim().to_string());
        }
    }
    None
}

fn validate_issues(issues: Vec<Issue>) -> Result<Vec<Issue>, String> {
    if issues.len() > MAX_ISSUES_PER_ITEM {
        return Err(format!(
            "returned {} issues for one item; the limit is {MAX_ISSUES_PER_ITEM}",
            issues.len()
        ));
    }
    for issue in &issues {
        if issue.notes.len() > MAX_NOTES_BYTES {
            return Err(format!(
                "issue `{}` has {} bytes of notes; the limit is {MAX_NOTES_BYTES}",
                escape_controls(crate::text::truncate(&issue.check_id, 64)),
                issue.notes.len()
            ));
        }
        if let Some(remediation) = &issue.remediation
            && remediation.len() > MAX_REMEDIATION_BYTES
        {
            return Err(format!(
                "issue `{}` has {} bytes of remediation; the limit is {MAX_REMEDIATION_BYTES}",
                escape_controls(crate::text::truncate(&issue.check_id, 64)),
                remediation.len()
            ));
        }
        if issue.title.len() > MAX_TITLE_BYTES || issue.check_id.len() > MAX_TITLE_BYTES {
            return Err(format!(
                "issue `{}` has an over-long title or check id",
                escape_controls(crate::text::truncate(&issue.check_id, 64))
            ));
        }
        if issue.check_id.is_empty() {
            return Err("an issue has an empty check id".into());
        }
    }
    Ok(issues)
}
