//! The control socket of a running `simian run`: one JSON request per line, one JSON answer
//! per line, on a Unix socket in the data directory. `simian plugins` and `simian audit` use
//! it so they see the plugins the running host has hot-loaded.
//!
//! It must never expose more than those read-mostly operations; the socket file is created
//! owner-only.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};

use crate::audit;
use crate::item::Item;
use crate::pipeline::Progress;
use crate::plugin::PluginSet;
use crate::services::items::MemoryItems;
use crate::store::Store;

/// What the control socket answers from.
#[derive(Clone)]
pub struct Context {
    pub set: Arc<PluginSet>,
    /// Why the configuration file's last edit is not in force, if it is not.
    pub config_error: Arc<std::sync::Mutex<Option<String>>>,
    /// Outbox state per notifier.
    pub store: Option<Store>,
    /// Re-audit progress per auditor.
    pub progress: Arc<Progress>,
}

/// Largest request accepted (an audit of many items).
const MAX_REQUEST: usize = 256 * 1024 * 1024;

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub enum Request {
    Plugins,
    Audit { items: Vec<serde_json::Value> },
}

#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("another simian is already answering on {0}")]
    InUse(PathBuf),
    #[error("control socket {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("bad answer from the running host: {0}")]
    Protocol(String),
}

pub struct ControlServer {
    path: PathBuf,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ControlServer {
    fn drop(&mut self) {
        self.task.abort();
        let _ = std::fs::remove_file(&self.path);
    }
}

pub async fn serve(path: &Path, context: Context) -> Result<ControlServer, ControlError> {
    let io = |source| ControlError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    if path.exists() {
        if UnixStream::connect(path).await.is_ok() {
            return Err(ControlError::InUse(path.to_path_buf()));
        }
        // Left behind by a host that died.
        std::fs::remove_file(path).map_err(io)?;
    }
    let listener = UnixListener::bind(path).map_err(io)?;
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
    }
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let context = context.clone();
            tokio::spawn(async move {
                if let Err(e) = handle(stream, context).await {
                    tracing::debug!("control connection: {e}");
                }
            });
        }
    });
    Ok(ControlServer {
        path: path.to_path_buf(),
        task,
    })
}

async fn handle(stream: UnixStream, context: Context) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read.take(MAX_REQUEST as u64));
    let mut line = String::new();
    reader.read_line(&mut line).await?;
    let answer = match serde_json::from_str::<Request>(&line) {
        Ok(request) => answer(request, &context).await,
        Err(e) => serde_json::json!({ "error": format!("bad request: {e}") }),
    };
    let mut text = answer.to_string();
    text.push('\n');
    write.write_all(text.as_bytes()).await?;
    write.shutdown().await
}

use tokio::io::AsyncReadExt;

async fn answer(request: Request, context: &Context) -> serde_json::Value {
    let set = &context.set;
    let batch_size = set.config().plugins.batch_size;
    match request {
        Request::Plugins => serde_json::json!({
            "source": "running-host",
            "pid": std::process::id(),
            "set_generation": set.set_generation(),
            "config_error": context
                .config_error
                .lock()
                .map(|e| e.clone())
                .unwrap_or_default(),
            "plugins": plugin_statuses(context).await,
        }),
        Request::Audit { items } => {
            let parsed: Result<Vec<Item>, String> = items
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    Item::from_envelope(v)
                        .map_err(|e| format!("item[{i}]: field `{}`: {}", e.field, e.message))
                })
                .collect();
            match parsed {
                Ok(items) => {
                    let source = Arc::new(MemoryItems::new(items.clone()));
                    let report = audit::audit_items(set, &items, source, batch_size).await;
                    serde_json::json!({ "report": report })
                }
                Err(e) => serde_json::json!({ "error": e }),
            }
        }
    }
}

/// The plugin set's statuses, each with its re-audit progress (auditors) or outbox state
/// (notifiers).
pub async fn plugin_statuses(context: &Context) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    for status in context.set.statuses().await {
        let mut value = serde_json::to_value(&status).unwrap_or_default();
        if let (Some(id), Some(obj)) = (status.id.as_deref(), value.as_object_mut()) {
            if let Some(progress) = context.progress.get(id) {
                obj.insert(
                    "reaudit".into(),
                    serde_json::to_value(progress).unwrap_or_default(),
                );
            }
            if status.kind == Some(crate::plugin::PluginKind::Notifier)
                && let Some(store) = &context.store
            {
                let outbox = match store.outbox_stats(id).await {
                    Ok(stats) => serde_json::to_value(stats).unwrap_or_default(),
                    Err(e) => serde_json::json!({ "error": e.to_string() }),
                };
                obj.insert("outbox".into(), outbox);
            }
        }
        out.push(value);
    }
    out
}

/// Ask a running host; Ok(None) when none is listening.
pub async fn request(
    path: &Path,
    request: &Request,
) -> Result<Option<serde_json::Value>, ControlError> {
    let Ok(stream) = UnixStream::connect(path).await else {
        return Ok(None);
    };
    let io = |source| ControlError::Io {
        path: path.to_path_buf(),
        source,
    };
    let (read, mut write) = stream.into_split();
    let mut text =
        serde_json::to_string(request).map_err(|e| ControlError::Protocol(e.to_string()))?;
    text.push('\n');
    write.write_all(text.as_bytes()).await.map_err(io)?;
    let mut reader = BufReader::new(read);
    let mut line = String::new();
    reader.read_line(&mut line).await.map_err(io)?;
    let value: serde_json::Value =
        serde_json::from_str(&line).map_err(|e| ControlError::Protocol(e.to_string()))?;
    if let Some(err) = value.get("error").and_then(|e| e.as_str()) {
        return Err(ControlError::Protocol(err.to_string()));
    }
    Ok(Some(value))
}
