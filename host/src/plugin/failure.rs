//! Why a call into a plugin did not return a usable answer, named for the operator: out of
//! time, over its memory cap, a runaway recursion, an exit, a panic (with the plugin's message,
//! escaped), another trap.
//!
//! Owns telling these apart from what wasmtime reports. It must never decide what happens
//! next (retry, record, count): the caller does.

use serde::Serialize;

use super::host::DeadlineExceeded;
use crate::text::for_log;

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
    /// Not called: a budget is spent for this window (`budget`). Not the plugin's fault
    /// within a call, and no reason to change what it found before.
    #[error("{message}")]
    Paused { message: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("plugin `{plugin}` {cause}")]
pub struct PluginFailure {
    pub plugin: String,
    #[serde(flatten)]
    pub cause: FailureCause,
}

/// Name the cause of a failed call. `timeout` is the cause to give when the deadline passed;
/// `refused` is the memory growth the limiter refused, if any; `stderr` is what the plugin
/// wrote (a Rust panic message lands there).
pub fn classify(
    error: &wasmtime::Error,
    timeout: FailureCause,
    refused: Option<usize>,
    memory_bytes: usize,
    stderr: &str,
) -> FailureCause {
    if error.downcast_ref::<DeadlineExceeded>().is_some() {
        return timeout;
    }
    let trap = error.downcast_ref::<wasmtime::Trap>().copied();
    if let Some(exit) = error.downcast_ref::<wasmtime_wasi::I32Exit>() {
        FailureCause::Exited { code: exit.0 }
    } else if let Some(requested) = refused {
        FailureCause::MemoryLimit {
            limit_mib: (memory_bytes / (1024 * 1024)) as u64,
            requested_mib: (requested / (1024 * 1024)) as u64,
        }
    } else if trap == Some(wasmtime::Trap::StackOverflow) || runaway_recursion(error) {
        FailureCause::StackOverflow
    } else if let Some(message) = panic_message(stderr) {
        FailureCause::Panic {
            message: for_log(&message),
        }
    } else if let Some(trap) = trap {
        FailureCause::Trap {
            message: trap.to_string(),
        }
    } else {
        FailureCause::Failed {
            message: for_log(&format!("{error:#}")),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panics_are_read_from_stderr() {
        let stderr = "noise\nthread 'main' panicked at src/lib.rs:3:5:\nboom\nnote: more";
        assert_eq!(
            panic_message(stderr).as_deref(),
            Some("boom (panicked at src/lib.rs:3:5:)")
        );
        assert_eq!(panic_message("all fine"), None);
    }

    #[test]
    fn causes_are_named() {
        let timeout = FailureCause::Timeout { ms: 500 };
        let deadline = wasmtime::Error::new(DeadlineExceeded);
        assert_eq!(classify(&deadline, timeout.clone(), None, 0, ""), timeout);
        let exit = wasmtime::Error::new(wasmtime_wasi::I32Exit(0));
        assert_eq!(
            classify(&exit, timeout.clone(), None, 0, "").to_string(),
            "exited (status 0) instead of returning"
        );
        let oom = wasmtime::Error::new(wasmtime::Trap::MemoryOutOfBounds);
        assert_eq!(
            classify(&oom, timeout.clone(), Some(96 << 20), 64 << 20, ""),
            FailureCause::MemoryLimit {
                limit_mib: 64,
                requested_mib: 96
            }
        );
        let panicked = classify(
            &oom,
            timeout,
            None,
            64 << 20,
            "thread panicked at x.rs:1:1:\nbad\u{1b}[2J",
        );
        assert_eq!(
            panicked.to_string(),
            "panicked: bad\\u{1b}[2J (panicked at x.rs:1:1:)"
        );
    }
}
