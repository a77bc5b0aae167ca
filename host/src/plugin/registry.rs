//! The live plugin set: which version of which plugin serves right now.
//!
//! Owns loading plugin directories into it (each named after its plugin's id: the operator's
//! grants, settings and pin are bound to that name), swapping versions atomically (calls in flight keep
//! the `Arc` of the version they started on), keeping the previous version when a replacement
//! is refused, generations, per-directory status for `simian plugins`, and the "plugin set
//! changed" event. It must never run audits itself.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use serde::Serialize;
use tokio::sync::broadcast;

use super::engine::PluginEngine;
use futures::StreamExt;

use super::loaded::{
    Counters, CountersSnapshot, LoadError, LoadRequest, LoadedPlugin, PluginFiles,
};
use super::manifest::{MANIFEST_FILE, PluginKind};
use crate::config::Config;
use crate::services::HostServices;

pub type PluginMap = BTreeMap<String, Arc<LoadedPlugin>>;

/// Sent whenever the set of serving plugins changes.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PluginSetEvent {
    pub plugin: String,
    pub change: Change,
    /// The plugin's generation after the change (0 once unloaded).
    pub generation: u64,
    pub kind: PluginKind,
    /// Resource types the plugin (old or new version) audits: what needs re-auditing.
    pub resource_types: Vec<String>,
    /// Increments on every change of the whole set.
    pub set_generation: u64,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    Loaded,
    Replaced,
    Unloaded,
}

/// One plugin directory as `simian plugins` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct PluginStatus {
    pub id: Option<String>,
    pub version: Option<String>,
    pub kind: Option<PluginKind>,
    pub dir: PathBuf,
    /// `loaded` (a version serves), `rejected` (nothing serves), `disabled` (by the operator).
    pub status: &'static str,
    pub generation: u64,
    /// Why the newest file was refused, even while an older version still serves.
    pub last_error: Option<String>,
    pub resource_types: Vec<String>,
    pub capabilities: Vec<String>,
    /// Capabilities it imports without declaring: linked, every call answers `denied`.
    pub undeclared_capabilities: Vec<String>,
    pub memory_limit_mib: Option<u64>,
    pub timeout_ms: Option<u64>,
    pub from_cache: Option<bool>,
    pub load_time_ms: Option<f64>,
    pub counters: Option<CountersSnapshot>,
    /// Spending per window and sweep, host calls, budget and whether it is paused.
    pub usage: Option<super::budget::UsageReport>,
}

/// What a refused load does to the version already serving.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OnRefusal {
    /// A new file was refused: the version that passed keeps serving.
    KeepServing,
    /// The operator's terms changed and the plugin no longer passes them.
    Unload,
}

/// Plugin directories loaded at once by a scan.
const SCAN_CONCURRENCY: usize = 4;

enum DirOnDisk {
    Gone,
    Refused(String),
    Files(Box<PluginFiles>),
}

#[derive(Default)]
struct DirState {
    /// The plugin id this directory serves, if any.
    serving: Option<String>,
    /// Hash of the files last attempted, loaded or not.
    attempted_hash: Option<String>,
    last_error: Option<String>,
    manifest_id: Option<String>,
    disabled: bool,
}

pub struct PluginSet {
    pub engine: Arc<PluginEngine>,
    pub services: Arc<HostServices>,
    /// The live configuration, shared with whoever reloads it (the runtime).
    config: Arc<ArcSwap<Config>>,
    /// Fixed at start: the reloader watches this directory.
    plugins_dir: PathBuf,
    current: ArcSwap<PluginMap>,
    dirs: tokio::sync::Mutex<BTreeMap<PathBuf, DirState>>,
    /// One lock per plugin directory, held for a whole `sync_dir`, so loads of the same
    /// directory run in the order their events came (never an older version last).
    dir_locks: Mutex<HashMap<PathBuf, Arc<tokio::sync::Mutex<()>>>>,
    counters: Mutex<HashMap<String, Arc<Counters>>>,
    generations: Mutex<HashMap<String, u64>>,
    set_generation: AtomicU64,
    events: broadcast::Sender<PluginSetEvent>,
}

impl PluginSet {
    pub fn new(
        engine: Arc<PluginEngine>,
        services: Arc<HostServices>,
        config: Arc<ArcSwap<Config>>,
    ) -> PluginSet {
        let plugins_dir = config.load().plugins.dir.clone();
        PluginSet {
            engine,
            services,
            config,
            plugins_dir,
            current: ArcSwap::from_pointee(PluginMap::new()),
            dirs: tokio::sync::Mutex::new(BTreeMap::new()),
            dir_locks: Mutex::new(HashMap::new()),
            counters: Mutex::new(HashMap::new()),
            generations: Mutex::new(HashMap::new()),
            set_generation: AtomicU64::new(0),
            events: broadcast::channel(1024).0,
        }
    }

    /// The configuration in force now (operator overrides, grants, limits).
    pub fn config(&self) -> Arc<Config> {
        self.config.load_full()
    }

    pub fn plugins_dir(&self) -> &Path {
        &self.plugins_dir
    }

    /// Load the plugin of `id`'s directory again even if its files did not change, because
    /// the operator changed its grants, settings, limits or pin. Unlike a refused new file, a
    /// refusal here unloads the version serving: it was admitted under terms that no longer
    /// hold (a revoked grant must take effect).
    pub async fn reload_plugin(&self, id: &str) {
        let dir = self.plugins_dir.join(id);
        if let Some(state) = self.dirs.lock().await.get_mut(&dir) {
            state.attempted_hash = None;
        }
        self.sync(&dir, OnRefusal::Unload).await;
    }

    /// The serving plugins; hold the `Arc` for as long as a call should see one consistent set.
    pub fn snapshot(&self) -> Arc<PluginMap> {
        self.current.load_full()
    }

    pub fn get(&self, id: &str) -> Option<Arc<LoadedPlugin>> {
        self.current.load().get(id).cloned()
    }

    pub fn set_generation(&self) -> u64 {
        self.set_generation.load(Ordering::SeqCst)
    }

    pub fn subscribe(&self) -> broadcast::Receiver<PluginSetEvent> {
        self.events.subscribe()
    }

    /// The entries of the plugins dir that may hold a plugin: directories, and symlinks (which
    /// are never followed, but shown as refused so the operator sees why).
    fn plugin_dirs(&self) -> Vec<PathBuf> {
        let mut dirs = Vec::new();
        if let Ok(entries) = std::fs::read_dir(self.plugins_dir()) {
            for entry in entries.flatten() {
                let path = entry.path();
                let listed = entry
                    .file_type()
                    .is_ok_and(|t| t.is_dir() || t.is_symlink());
                if listed && !is_hidden(&path) {
                    dirs.push(path);
                }
            }
        }
        dirs.sort();
        dirs
    }

    /// Bring the whole set in line with the plugins directory. Directories load concurrently,
    /// so one slow or hostile plugin does not hold up the others.
    pub async fn scan(&self) {
        let mut dirs: Vec<PathBuf> = self.plugin_dirs();
        let known: Vec<PathBuf> = self.dirs.lock().await.keys().cloned().collect();
        for k in known {
            if !dirs.contains(&k) {
                dirs.push(k);
            }
        }
        futures::stream::iter(dirs)
            .for_each_concurrent(SCAN_CONCURRENCY, |dir| async move {
                self.sync_dir(&dir).await;
            })
            .await;
    }

    /// Load, replace or unload the plugin of one directory to match what is on disk.
    ///
    /// Files are read and the component compiled and described outside the registry lock, so
    /// `simian plugins`, audits and other directories never wait on one plugin's load.
    pub async fn sync_dir(&self, dir: &Path) {
        self.sync(dir, OnRefusal::KeepServing).await;
    }

    // Long because its three phases share one per-directory state: decide under the registry

    // lock, load outside it, then install only if no newer attempt superseded this one.

    async fn sync(&self, dir: &Path, on_refusal: OnRefusal) {
        let dir_lock = {
            let mut locks = self.dir_locks.lock().unwrap_or_else(|p| p.into_inner());
            locks.entry(dir.to_path_buf()).or_default().clone()
        };
        let _serial = dir_lock.lock().await;
        let on_disk = self.read_dir_files(dir);
        let (files, operator, limits, counters, generation, id) = {
            let mut dirs = self.dirs.lock().await;
            let files = match on_disk {
                DirOnDisk::Gone => {
                    if let Some(state) = dirs.remove(dir)
                        && let Some(id) = state.serving
                    {
                        self.unload(&id);
                    }
                    return;
                }
                DirOnDisk::Refused(msg) => {
                    let state = dirs.entry(dir.to_path_buf()).or_default();
                    tracing::warn!(dir = %dir.display(), "plugin not loaded: {msg}");
                    state.last_error = Some(msg);
                    state.attempted_hash = None;
                    return;
                }
                DirOnDisk::Files(files) => files,
            };
            let state = dirs.entry(dir.to_path_buf()).or_default();
            if state.attempted_hash.as_deref() == Some(files.content_hash.as_str()) {
                return;
            }
            state.attempted_hash = Some(files.content_hash.clone());
            state.manifest_id = Some(files.manifest.id.clone());
            let id = files.manifest.id.clone();

            // Grants and settings are the operator's, keyed by id: only the directory named
            // after the id may claim them, so a directory cannot borrow another plugin's.
            if dir.file_name().and_then(|n| n.to_str()) != Some(id.as_str()) {
                let msg = LoadError::WrongDirectory {
                    dir: dir.to_path_buf(),
                    id: crate::text::escape_controls(&id).into_owned(),
                }
                .to_string();
                tracing::warn!(dir = %dir.display(), "plugin refused: {msg}");
                state.last_error = Some(msg);
                if on_refusal == OnRefusal::Unload
                    && let Some(old) = state.serving.take()
                {
                    self.unload(&old);
                }
                return;
            }
            let config = self.config.load_full();
            let operator = config.operator(&id);
            if !operator.enabled {
                state.disabled = true;
                state.last_error = None;
                if let Some(old) = state.serving.take() {
                    self.unload(&old);
                }
                tracing::info!(plugin = %id, "plugin disabled by the operator; not loaded");
                return;
            }
            state.disabled = false;
            if let Some(pinned) = &operator.sha256
                && !pinned.eq_ignore_ascii_case(&files.wasm_sha256)
            {
                let msg = LoadError::PinMismatch {
                    plugin: id.clone(),
                    path: files.wasm_path.clone(),
                    actual: files.wasm_sha256.clone(),
                    pinned: pinned.clone(),
                }
                .to_string();
                tracing::warn!(plugin = %id, "plugin refused: {msg}");
                state.last_error = Some(msg);
                if on_refusal == OnRefusal::Unload
                    && let Some(old) = state.serving.take()
                {
                    self.unload(&old);
                }
                return;
            }
            let limits = config.effective_limits(&id, &files.manifest.limits);
            let counters = self.counters_for(&id);
            let generation = self.peek_generation(&id) + 1;
            (files, operator, limits, counters, generation, id)
        };

        let content_hash = files.content_hash.clone();
        let result = super::loaded::load(
            &self.engine,
            LoadRequest {
                files: *files,
                operator: &operator,
                limits,
                services: self.services.clone(),
                counters,
                generation,
                inspect_only: false,
            },
        )
        .await;

        let mut dirs = self.dirs.lock().await;
        let Some(state) = dirs.get_mut(dir) else {
            // The directory went away while loading.
            return;
        };
        if state.attempted_hash.as_deref() != Some(content_hash.as_str()) {
            // A newer version of the files arrived meanwhile; its own load decides.
            return;
        }
        match result {
            Ok(plugin) => {
                state.last_error = None;
                state.serving = Some(id);
                self.install(plugin);
            }
            Err(e) => {
                let msg = e.to_string();
                if on_refusal == OnRefusal::Unload
                    && let Some(old) = state.serving.take()
                {
                    tracing::warn!(plugin = %id, "plugin refused under the new configuration; unloaded: {msg}");
                    self.unload(&old);
                }
                match &state.serving {
                    Some(serving) => tracing::warn!(
                        plugin = %id,
                        "replacement refused, generation {} keeps serving: {msg}",
                        self.peek_generation(serving)
                    ),
                    None => tracing::warn!(plugin = %id, "plugin refused: {msg}"),
                }
                state.last_error = Some(msg);
            }
        }
    }

    /// What a plugin directory holds right now, read without the registry lock.
    fn read_dir_files(&self, dir: &Path) -> DirOnDisk {
        let Ok(meta) = std::fs::symlink_metadata(dir) else {
            return DirOnDisk::Gone;
        };
        if meta.file_type().is_symlink() {
            return DirOnDisk::Refused(format!(
                "{} is a symlink; plugin directories must be real directories inside the plugins directory (symlinks are not followed)",
                dir.display()
            ));
        }
        if !meta.is_dir() || std::fs::symlink_metadata(dir.join(MANIFEST_FILE)).is_err() {
            return DirOnDisk::Gone;
        }
        let max_bytes = self.config.load().plugins.max_file_bytes;
        match PluginFiles::read(dir, self.plugins_dir(), max_bytes) {
            Ok(files) => DirOnDisk::Files(Box::new(files)),
            // A file still being written looks like this too; a later event retries.
            Err(e) => DirOnDisk::Refused(e.to_string()),
        }
    }

    fn counters_for(&self, id: &str) -> Arc<Counters> {
        let mut map = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(id.to_string()).or_default().clone()
    }

    fn peek_generation(&self, id: &str) -> u64 {
        let map = self.generations.lock().unwrap_or_else(|p| p.into_inner());
        map.get(id).copied().unwrap_or(0)
    }

    fn install(&self, plugin: LoadedPlugin) {
        let id = plugin.id().to_string();
        {
            let mut g = self.generations.lock().unwrap_or_else(|p| p.into_inner());
            g.insert(id.clone(), plugin.generation);
        }
        let plugin = Arc::new(plugin);
        let mut previous = None;
        self.current.rcu(|map| {
            let mut next = PluginMap::clone(map);
            previous = next.insert(id.clone(), plugin.clone());
            next
        });
        let mut resource_types = plugin.info.resource_types.clone();
        if let Some(old) = &previous {
            for t in &old.info.resource_types {
                if !resource_types.contains(t) {
                    resource_types.push(t.clone());
                }
            }
        }
        let change = if previous.is_some() {
            Change::Replaced
        } else {
            Change::Loaded
        };
        tracing::info!(
            plugin = %id,
            version = %plugin.info.version,
            generation = plugin.generation,
            from_cache = plugin.from_cache,
            load_ms = plugin.load_time.as_secs_f64() * 1000.0,
            "plugin {}",
            if previous.is_some() { "replaced" } else { "loaded" }
        );
        self.emit(PluginSetEvent {
            plugin: id,
            change,
            generation: plugin.generation,
            kind: plugin.kind(),
            resource_types,
            set_generation: 0,
        });
    }

    fn unload(&self, id: &str) {
        let mut previous = None;
        self.current.rcu(|map| {
            let mut next = PluginMap::clone(map);
            previous = next.remove(id);
            next
        });
        if let Some(old) = previous {
            tracing::info!(plugin = %id, "plugin unloaded");
            self.emit(PluginSetEvent {
                plugin: id.to_string(),
                change: Change::Unloaded,
                generation: 0,
                kind: old.kind(),
                resource_types: old.info.resource_types.clone(),
                set_generation: 0,
            });
        }
    }

    fn emit(&self, mut event: PluginSetEvent) {
        event.set_generation = self.set_generation.fetch_add(1, Ordering::SeqCst) + 1;
        // No subscribers is fine: nobody needs re-auditing yet.
        let _ = self.events.send(event);
    }

    pub async fn statuses(&self) -> Vec<PluginStatus> {
        let dirs = self.dirs.lock().await;
        let current = self.snapshot();
        let mut out = Vec::new();
        for (dir, state) in dirs.iter() {
            let serving = state.serving.as_ref().and_then(|id| current.get(id));
            let status = if state.disabled {
                "disabled"
            } else if serving.is_some() {
                "loaded"
            } else {
                "rejected"
            };
            out.push(match serving {
                Some(p) => PluginStatus {
                    id: Some(p.info.id.clone()),
                    version: Some(p.info.version.clone()),
                    kind: Some(p.kind()),
                    dir: dir.clone(),
                    status,
                    generation: p.generation,
                    last_error: state.last_error.clone(),
                    resource_types: p.info.resource_types.clone(),
                    undeclared_capabilities: p
                        .ctx
                        .undeclared
                        .iter()
                        .map(|c| c.to_string())
                        .collect(),
                    capabilities: p
                        .ctx
                        .grants
                        .list()
                        .iter()
                        .map(|c| c.to_string())
                        .chain((!p.ctx.grants.files.is_empty()).then(|| "files".to_string()))
                        .collect(),
                    memory_limit_mib: Some((p.memory_bytes / (1024 * 1024)) as u64),
                    timeout_ms: Some(p.timeout.as_millis() as u64),
                    from_cache: Some(p.from_cache),
                    load_time_ms: Some(p.load_time.as_secs_f64() * 1000.0),
                    counters: Some(p.counters.snapshot()),
                    usage: Some(p.usage(crate::store::now_ms())),
                },
                None => PluginStatus {
                    id: state.manifest_id.clone(),
                    version: None,
                    kind: None,
                    dir: dir.clone(),
                    status,
                    generation: 0,
                    last_error: state.last_error.clone(),
                    resource_types: Vec::new(),
                    capabilities: Vec::new(),
                    undeclared_capabilities: Vec::new(),
                    memory_limit_mib: None,
                    timeout_ms: None,
                    from_cache: None,
                    load_time_ms: None,
                    counters: None,
                    usage: None,
                },
            });
        }
        out
    }

    /// Load errors of directories that serve nothing, for reports.
    pub async fn rejections(&self) -> Vec<(String, String)> {
        self.statuses()
            .await
            .into_iter()
            .filter(|s| s.status == "rejected")
            .map(|s| {
                (
                    s.id.unwrap_or_else(|| s.dir.display().to_string()),
                    s.last_error.unwrap_or_default(),
                )
            })
            .collect()
    }
}

fn is_hidden(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.'))
}

/// Errors when a single file cannot be loaded at all (used by `simian plugin check`).
pub type CheckError = LoadError;
