//! A plugin that is not serving: a shadow version waiting to be promoted, or a rule replayed
//! over history. It is loaded with exactly the terms the live plugin of the same id gets — the
//! operator's grants, settings and limits for that id, intersected with what its own manifest
//! asks for — and never with more.
//!
//! Owns finding a candidate's files (a plugin directory, or a `.wasm` with its `plugin.toml`
//! beside it) and loading them outside the live set. It must never install the candidate: the
//! live set changes only through `registry`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::loaded::{Counters, LoadRequest};
use super::manifest::MANIFEST_FILE;
use super::package::PluginFiles;
use super::{LoadedPlugin, PluginSet};

#[derive(Debug, thiserror::Error)]
pub enum CandidateError {
    #[error("{path}: no such plugin file or directory, and no plugin `{id}` in {plugins_dir}")]
    NotFound {
        path: PathBuf,
        id: String,
        plugins_dir: PathBuf,
    },
    #[error(
        "{0}: a plugin is a directory with plugin.toml, or a .wasm file with plugin.toml beside it"
    )]
    NotAPlugin(PathBuf),
    #[error("{0}")]
    Read(String),
    #[error("plugin `{0}` is disabled by the operator (`[plugin.{0}] enabled = false`)")]
    Disabled(String),
    #[error("{0}")]
    Load(String),
}

/// Where a candidate's files are: `arg` is a plugin directory, a `.wasm` in one, or the id of a
/// plugin deployed in the plugins directory.
pub fn locate(arg: &str, plugins_dir: &Path) -> Result<PathBuf, CandidateError> {
    let path = PathBuf::from(arg);
    let meta = std::fs::metadata(&path);
    let dir = match meta {
        Ok(m) if m.is_dir() => path.clone(),
        Ok(m) if m.is_file() => path
            .parent()
            .map(|p| {
                if p.as_os_str().is_empty() {
                    PathBuf::from(".")
                } else {
                    p.to_path_buf()
                }
            })
            .ok_or_else(|| CandidateError::NotAPlugin(path.clone()))?,
        _ => {
            let deployed = plugins_dir.join(arg);
            if crate::scopes::is_plugin_id(arg) && deployed.join(MANIFEST_FILE).is_file() {
                return Ok(deployed);
            }
            return Err(CandidateError::NotFound {
                path,
                id: crate::text::escape_controls(arg).into_owned(),
                plugins_dir: plugins_dir.to_path_buf(),
            });
        }
    };
    if !dir.join(MANIFEST_FILE).is_file() {
        return Err(CandidateError::NotAPlugin(path));
    }
    Ok(dir)
}

/// Load the plugin in `dir` beside the live set, under the operator's terms for its id. The
/// operator's pin (`sha256`) is not applied: a candidate is by definition another file, and it
/// never serves; promoting it re-pins (see `simian plugin promote`).
pub async fn load(set: &PluginSet, dir: &Path) -> Result<LoadedPlugin, CandidateError> {
    let config = set.config();
    let root = dir.parent().unwrap_or(dir);
    let files = PluginFiles::read(dir, root, config.plugins.max_file_bytes)
        .map_err(|e| CandidateError::Read(e.to_string()))?;
    let id = files.manifest.id.clone();
    let operator = config.operator(&id);
    if !operator.enabled {
        return Err(CandidateError::Disabled(id));
    }
    let limits = config.effective_limits(&id, &files.manifest.limits);
    let generation = set.get(&id).map(|p| p.generation).unwrap_or(0);
    super::loaded::load(
        &set.engine,
        LoadRequest {
            files,
            operator: &operator,
            limits,
            services: set.services.clone(),
            // Its own counters: a candidate's calls never count as the live plugin's.
            counters: Arc::new(Counters::default()),
            generation,
            inspect_only: false,
        },
    )
    .await
    .map_err(|e| CandidateError::Load(e.to_string()))
}
