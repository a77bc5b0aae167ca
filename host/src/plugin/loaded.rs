//! One plugin, loaded: its files compiled, checked against the contract and the operator's
//! grants, linked, and asked to `describe()` itself, in that order (`calls` then calls it).
//!
//! Owns the load stages and what a refused load says. It must never decide which plugins are
//! live (that is `registry`).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;
use wasmtime::component::types::ComponentItem;

pub use super::contract::{CheckInfo, PluginInfo};
use super::engine::{CompileError, PluginEngine};
use super::failure::PluginFailure;
use super::grants::{Capability, Grants};
use super::host::PluginContext;
use super::manifest::{Manifest, PluginKind};
pub use super::package::PluginFiles;
use super::package::ReadError;
use super::wit::{ContractPre, SUPPORTED_CONTRACTS};
use crate::config::{EffectiveLimits, PluginOperatorConfig};
use crate::services::HostServices;
use crate::services::items::ItemSource;
use crate::text::escape_controls;

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

/// Per-plugin counters, kept across reloads of the same plugin id.
#[derive(Debug, Default)]
pub struct Counters {
    pub calls: AtomicU64,
    pub items: AtomicU64,
    pub total_time_us: AtomicU64,
    pub traps: AtomicU64,
    pub timeouts: AtomicU64,
    pub peak_memory_bytes: AtomicU64,
    /// Per window, per sweep and by capability (`budget`).
    pub usage: super::budget::Usage,
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
    pub(super) pre: ContractPre,
    pub(super) engine: Arc<PluginEngine>,
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

// Long because it is the load stages in order (compile, contract, grants, link, describe),

// each a call; what remains is building the LoadedPlugin they produce.

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

    // 1. Compile (or fetch from the cache), off the async threads.
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

    // 2. What it imports: the contract version and the capabilities it will call.
    let summary = summarize_imports(&engine.engine, &component);
    let contract = check_contract(&summary, &manifest).map_err(|e| match e {
        ContractProblem::Load(e) => e,
        ContractProblem::Message(m) => contract_err(m),
    })?;

    // 3. What it may do: the manifest's request against the operator's grants.
    let (grants, undeclared) = if inspect_only {
        (Grants::none(), Vec::new())
    } else {
        grant(&summary, &manifest, operator)?
    };

    // 4. Link against the world its manifest names.
    let pre = link(engine, &component, &summary, &manifest, &contract).map_err(contract_err)?;

    let settings = match toml_to_json(toml::Value::Table(operator.settings.clone())) {
        serde_json::Value::Object(map) => map,
        _ => serde_json::Map::new(),
    };
    let ctx = Arc::new(PluginContext {
        id: id.clone(),
        grants,
        undeclared,
        settings,
        services,
        budget: limits.budget,
        counters: counters.clone(),
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
        memory_bytes: limits.memory_mib as usize * 1024 * 1024,
        timeout: Duration::from_millis(limits.timeout_ms.max(1)),
        ctx,
        counters,
        from_cache,
        load_time: Duration::ZERO,
        pre,
        engine: engine.clone(),
    };

    // 5. Ask it to describe itself, within the describe budget, and reconcile with plugin.toml.
    let empty: Arc<dyn ItemSource> = Arc::new(crate::services::items::MemoryItems::default());
    let info = plugin
        .describe(empty)
        .await
        .map_err(|failure| LoadError::Describe {
            plugin: id.clone(),
            failure,
        })?;
    plugin.info = reconcile(info, &plugin.manifest, inspect_only)?;
    plugin.load_time = started.elapsed();
    Ok(plugin)
}

enum ContractProblem {
    Load(LoadError),
    Message(String),
}

/// The contract version the component was built against, if this host links it and the
/// manifest agrees; nothing outside the contract and WASI may be imported.
fn check_contract(summary: &ImportSummary, manifest: &Manifest) -> Result<String, ContractProblem> {
    if let Some(import) = summary.undeclared.first() {
        return Err(ContractProblem::Load(LoadError::UndeclaredImport {
            plugin: manifest.id.clone(),
            import: import.clone(),
        }));
    }
    let contract = summary
        .contract
        .clone()
        .unwrap_or_else(|| manifest.contract.clone());
    if !SUPPORTED_CONTRACTS.contains(&contract.as_str()) {
        return Err(ContractProblem::Message(format!(
            "built against simian:plugin@{contract}; this host supports {}",
            SUPPORTED_CONTRACTS.join(", ")
        )));
    }
    if contract != manifest.contract {
        return Err(ContractProblem::Load(LoadError::Mismatch {
            plugin: manifest.id.clone(),
            field: "contract",
            manifest: manifest.contract.clone(),
            described: contract,
        }));
    }
    Ok(contract)
}

/// The effective grants, and the imported capabilities the manifest does not declare.
///
/// A declared capability must be granted by the operator, or the plugin is refused: its author
/// said it needs it. An imported one that is not declared is linked all the same, and every call
/// to it answers `denied`: componentize-py and componentize-js import every interface of the
/// world, called or not, and the manifest, not the import list, is what the plugin asks for.
fn grant(
    summary: &ImportSummary,
    manifest: &Manifest,
    operator: &PluginOperatorConfig,
) -> Result<(Grants, Vec<Capability>), LoadError> {
    let id = &manifest.id;
    let grants = Grants::effective(&manifest.capabilities, &operator.grants);
    let mut undeclared = Vec::new();
    for cap in &summary.capabilities {
        if !manifest.capabilities.declares(*cap) {
            tracing::info!(
                plugin = %id,
                "imports capability `{cap}` without declaring it in plugin.toml; its calls answer `denied`"
            );
            undeclared.push(*cap);
            continue;
        }
        if !grants.has(*cap) {
            return Err(LoadError::CapabilityNotGranted {
                plugin: id.clone(),
                capability: *cap,
                hint: cap.grant_hint(id),
            });
        }
    }
    Ok((grants, undeclared))
}

/// Link the component as the world its manifest's `kind` names.
fn link(
    engine: &PluginEngine,
    component: &wasmtime::component::Component,
    summary: &ImportSummary,
    manifest: &Manifest,
    contract: &str,
) -> Result<ContractPre, String> {
    let has_export = |name: &str| summary.exports.iter().any(|e| e == name);
    let (linker, export) = match manifest.kind {
        PluginKind::Auditor => (&engine.auditor_linker, "audit"),
        PluginKind::Notifier => (&engine.notifier_linker, "notify"),
    };
    let kind = manifest.kind;
    if !has_export(export) || !has_export("describe") {
        return Err(format!(
            "plugin.toml says kind = \"{kind}\" but the component does not export the {kind} world (exports: {})",
            summary.exports.join(", ")
        ));
    }
    let instance_pre = linker
        .instantiate_pre(component)
        .map_err(|e| format!("does not link as {} {kind}: {e:#}", article(kind)))?;
    ContractPre::new(contract, kind, instance_pre)
}

fn article(kind: PluginKind) -> &'static str {
    match kind {
        PluginKind::Auditor => "an",
        PluginKind::Notifier => "a",
    }
}

/// What the loaded plugin is: plugin.toml is the single source of id, version and resource
/// types (plugins built with the SDK leave them out of describe()); the checks come from
/// describe(). A plugin that states its metadata (written without the SDK) must agree.
fn reconcile(info: PluginInfo, m: &Manifest, inspect_only: bool) -> Result<PluginInfo, LoadError> {
    let mismatch = |field: &'static str, manifest: String, described: String| LoadError::Mismatch {
        plugin: m.id.clone(),
        field,
        manifest,
        // What describe() said is the plugin's text.
        described: escape_controls(crate::text::truncate(&described, 256)).into_owned(),
    };
    if info.kind != m.kind {
        return Err(mismatch("kind", m.kind.to_string(), info.kind.to_string()));
    }
    if !info.id.is_empty() {
        if inspect_only {
            // `simian plugin check` shows what such a plugin says, to compare it with the
            // manifest beside it.
            return Ok(info);
        }
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
    Ok(PluginInfo {
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
    })
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
    /// Why this plugin is not to be called now, if a budget of this window is spent.
    pub fn paused(&self, now_ms: i64) -> Option<super::budget::Pause> {
        self.counters.usage.pause(&self.ctx.budget, now_ms)
    }

    pub fn usage(&self, now_ms: i64) -> super::budget::UsageReport {
        self.counters.usage.report(&self.ctx.budget, now_ms)
    }

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
}
