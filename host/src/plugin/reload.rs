//! Hot reload: watch the plugins directory and re-sync the plugin directories that changed.
//!
//! notify reports file opens too, and the reloader itself opens the files it loads, so only
//! events that can change content count, and `registry` skips files whose hash it has already
//! tried. Deploy plugins by writing to a temporary name and renaming.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use notify::EventKind;
use notify::event::{AccessKind, AccessMode, ModifyKind};
use notify_debouncer_full::{DebounceEventResult, Debouncer, RecommendedCache, new_debouncer_opt};

use super::registry::PluginSet;

/// Quiet time after the last event before reloading; short because deployments rename whole
/// files into place.
pub const DEBOUNCE: Duration = Duration::from_millis(20);

pub struct Reloader {
    _debouncer: Debouncer<notify::RecommendedWatcher, RecommendedCache>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Reloader {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn relevant(kind: &EventKind) -> bool {
    match kind {
        EventKind::Create(_) | EventKind::Remove(_) => true,
        EventKind::Modify(ModifyKind::Metadata(_)) => false,
        EventKind::Modify(_) => true,
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        _ => false,
    }
}

/// The plugin directory (direct child of `root`) a changed path belongs to.
fn plugin_dir_of(root: &Path, path: &Path) -> Option<PathBuf> {
    let rel = path.strip_prefix(root).ok()?;
    let first = rel.components().next()?;
    Some(root.join(first))
}

/// The shadow candidate directory (`root/.shadow/<id>`) a changed path belongs to, or
/// `root/.shadow` itself when that changed (its candidates are looked at again).
fn shadow_dir_of(root: &Path, path: &Path) -> Option<PathBuf> {
    let shadows = root.join(SHADOW_DIR);
    let rel = path.strip_prefix(&shadows).ok()?;
    Some(match rel.components().next() {
        Some(first) => shadows.join(first),
        None => shadows,
    })
}

const SHADOW_DIR: &str = ".shadow";

/// Watch the plugins directory; changes under `.shadow/<id>/` go to `shadows` (when given)
/// instead of the live set.
pub fn watch(
    set: Arc<PluginSet>,
    shadows: Option<tokio::sync::mpsc::UnboundedSender<PathBuf>>,
) -> anyhow::Result<Reloader> {
    let root = set.plugins_dir().to_path_buf();
    std::fs::create_dir_all(&root)
        .map_err(|e| anyhow::anyhow!("cannot create plugins dir {}: {e}", root.display()))?;
    let root = std::fs::canonicalize(&root).unwrap_or(root);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<BTreeSet<PathBuf>>();
    let handler_root = root.clone();
    // Symlinks are never followed: a `docs -> /usr` link must not cost thousands of inotify
    // watches (plugin directories and files that are symlinks are refused anyway).
    let watcher_config = notify::Config::default().with_follow_symlinks(false);
    let mut debouncer = new_debouncer_opt::<_, notify::RecommendedWatcher, RecommendedCache>(
        DEBOUNCE,
        None,
        move |result: DebounceEventResult| match result {
            Ok(events) => {
                let paths: Vec<&PathBuf> = events
                    .iter()
                    .filter(|e| relevant(&e.kind))
                    .flat_map(|e| e.paths.iter())
                    .collect();
                let candidates: BTreeSet<PathBuf> = paths
                    .iter()
                    .filter_map(|p| shadow_dir_of(&handler_root, p))
                    .collect();
                if let Some(shadows) = &shadows {
                    for dir in candidates {
                        let _ = shadows.send(dir);
                    }
                }
                let dirs: BTreeSet<PathBuf> = paths
                    .iter()
                    .filter(|p| shadow_dir_of(&handler_root, p).is_none())
                    .filter_map(|p| plugin_dir_of(&handler_root, p))
                    .collect();
                if !dirs.is_empty() {
                    let _ = tx.send(dirs);
                }
            }
            Err(errors) => {
                for e in errors {
                    tracing::warn!("plugin watcher: {e}");
                }
            }
        },
        RecommendedCache::default(),
        watcher_config,
    )
    .map_err(|e| anyhow::anyhow!("cannot watch plugins dir: {e}"))?;
    debouncer
        .watch(&root, notify::RecursiveMode::Recursive)
        .map_err(|e| anyhow::anyhow!("cannot watch {}: {e}", root.display()))?;

    let task = tokio::spawn(async move {
        while let Some(mut dirs) = rx.recv().await {
            // Coalesce whatever else arrived meanwhile.
            while let Ok(more) = rx.try_recv() {
                dirs.extend(more);
            }
            // Each directory on its own task: one plugin's slow load never delays another's.
            // `sync_dir` serialises work on the same directory.
            for dir in dirs {
                let set = set.clone();
                tokio::spawn(async move { set.sync_dir(&dir).await });
            }
        }
    });
    Ok(Reloader {
        _debouncer: debouncer,
        task,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_paths_to_plugin_dirs() {
        let root = Path::new("/p");
        assert_eq!(
            plugin_dir_of(root, Path::new("/p/sg/plugin.toml")),
            Some(PathBuf::from("/p/sg"))
        );
        assert_eq!(
            plugin_dir_of(root, Path::new("/p/sg")),
            Some(PathBuf::from("/p/sg"))
        );
        assert_eq!(plugin_dir_of(root, Path::new("/elsewhere/x")), None);
        assert!(!relevant(&EventKind::Access(AccessKind::Open(
            AccessMode::Any
        ))));
        assert!(relevant(&EventKind::Access(AccessKind::Close(
            AccessMode::Write
        ))));
    }
}
