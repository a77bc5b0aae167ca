//! The host's log, captured in-process: installs (once per test binary) a `tracing` subscriber
//! that writes plain text into memory, so a test can read exactly what an operator's log would
//! hold. Tests in one binary share it: filter by plugin id.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut b) = self.0.lock() {
            b.extend_from_slice(bytes);
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn buffer() -> &'static Buffer {
    static BUFFER: OnceLock<Buffer> = OnceLock::new();
    BUFFER.get_or_init(|| {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let _ = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_max_level(tracing::Level::INFO)
            .with_writer(move || writer.clone())
            .try_init();
        buffer
    })
}

/// Start capturing (idempotent); call before the code under test runs.
pub fn capture() {
    buffer();
}

/// Everything logged so far, as text.
pub fn text() -> String {
    buffer()
        .0
        .lock()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

/// The log lines that mention `needle`.
pub fn lines_with(needle: &str) -> Vec<String> {
    text()
        .lines()
        .filter(|l| l.contains(needle))
        .map(str::to_string)
        .collect()
}
