//! A plugin's stdout/stderr: captured in memory up to a cap (the rest is dropped, never an
//! error the guest would panic on), then forwarded to `tracing` with the plugin id.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

#[derive(Clone)]
pub struct CapturedOutput {
    inner: Arc<Inner>,
}

struct Inner {
    data: Mutex<Vec<u8>>,
    cap: usize,
    /// Set once the cap is reached: from then on a write only counts its bytes, so a flood
    /// past the cap costs next to nothing.
    full: AtomicBool,
    dropped: AtomicU64,
}

impl CapturedOutput {
    pub fn new(cap: usize) -> CapturedOutput {
        CapturedOutput {
            inner: Arc::new(Inner {
                data: Mutex::new(Vec::new()),
                cap,
                full: AtomicBool::new(false),
                dropped: AtomicU64::new(0),
            }),
        }
    }

    fn push(&self, bytes: &[u8]) {
        let inner = &self.inner;
        if inner.full.load(Ordering::Relaxed) {
            inner
                .dropped
                .fetch_add(bytes.len() as u64, Ordering::Relaxed);
            return;
        }
        if let Ok(mut data) = inner.data.lock() {
            let room = inner.cap.saturating_sub(data.len());
            let take = room.min(bytes.len());
            data.extend_from_slice(&bytes[..take]);
            if take < bytes.len() || data.len() >= inner.cap {
                inner.full.store(true, Ordering::Relaxed);
            }
            inner
                .dropped
                .fetch_add((bytes.len() - take) as u64, Ordering::Relaxed);
        }
    }

    /// What was written, and how many bytes past the cap were dropped.
    pub fn take(&self) -> (String, u64) {
        let inner = &self.inner;
        match inner.data.lock() {
            Ok(mut data) => {
                let text = String::from_utf8_lossy(&data).into_owned();
                data.clear();
                inner.full.store(false, Ordering::Relaxed);
                (text, inner.dropped.swap(0, Ordering::Relaxed))
            }
            Err(_) => (String::new(), 0),
        }
    }
}

impl IsTerminal for CapturedOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for CapturedOutput {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[async_trait::async_trait]
impl Pollable for CapturedOutput {
    async fn ready(&mut self) {}
}

impl OutputStream for CapturedOutput {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.push(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(64 * 1024)
    }
}

impl tokio::io::AsyncWrite for CapturedOutput {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        self.push(buf);
        std::task::Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_and_counts_dropped_bytes() {
        let out = CapturedOutput::new(5);
        out.push(b"hello world");
        let (text, dropped) = out.take();
        assert_eq!(text, "hello");
        assert_eq!(dropped, 6);
        assert_eq!(out.take(), (String::new(), 0));
    }
}
