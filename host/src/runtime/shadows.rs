//! Shadow candidates in `simian run`: a plugin placed under `plugins/.shadow/<id>/` is judged
//! beside the live version when its files change, when the host starts, and again after every
//! sweep or event refresh that changed something, so its diff follows the estate.
//!
//! It must never let a candidate touch the live set or the issues (`shadow` only records a
//! run), and never hold up a sweep: candidates are judged on this task, one at a time.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};

use super::Runtime;
use crate::plugin::manifest::MANIFEST_FILE;
use crate::shadow::SHADOW_DIR;

/// Quiet time after a change before judging: staging writes two files.
const SETTLE: Duration = Duration::from_millis(200);

pub struct Shadows {
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Shadows {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The channel the plugins-directory watcher sends changed candidate directories to.
pub fn channel() -> (UnboundedSender<PathBuf>, UnboundedReceiver<PathBuf>) {
    tokio::sync::mpsc::unbounded_channel()
}

fn candidates(runtime: &Runtime) -> Vec<PathBuf> {
    let root = runtime.plugins.plugins_dir().join(SHADOW_DIR);
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.join(MANIFEST_FILE).is_file())
                .collect()
        })
        .unwrap_or_default();
    dirs.sort();
    dirs
}

pub fn start(runtime: Arc<Runtime>, mut changed: UnboundedReceiver<PathBuf>) -> Shadows {
    // Made now, so it is watched before any candidate is staged in it: files written into a
    // directory created after the watch began can be missed.
    let root = runtime.plugins.plugins_dir().join(SHADOW_DIR);
    if let Err(e) = std::fs::create_dir_all(&root) {
        tracing::warn!(dir = %root.display(), "cannot create the shadow directory: {e}");
    }
    let task = tokio::spawn(async move {
        let mut due: BTreeSet<PathBuf> = candidates(&runtime).into_iter().collect();
        loop {
            if due.is_empty() {
                tokio::select! {
                    dir = changed.recv() => match dir {
                        Some(dir) => { due.insert(dir); }
                        None => return,
                    },
                    () = runtime.swept.notified() => due.extend(candidates(&runtime)),
                }
            }
            tokio::time::sleep(SETTLE).await;
            while let Ok(dir) = changed.try_recv() {
                due.insert(dir);
            }
            // `.shadow` itself changed (created, replaced): look at all its candidates.
            let root = runtime.plugins.plugins_dir().join(SHADOW_DIR);
            if due.remove(&root) {
                due.extend(candidates(&runtime));
            }
            for dir in std::mem::take(&mut due) {
                if !dir.join(MANIFEST_FILE).is_file() {
                    continue; // promoted or discarded meanwhile
                }
                let Ok(store) = runtime.store() else { return };
                if let Err(e) = crate::shadow::run(store, &runtime.plugins, &dir, "host").await {
                    tracing::warn!(dir = %dir.display(), "shadow run not recorded: {e}");
                }
            }
        }
    });
    Shadows { task }
}
