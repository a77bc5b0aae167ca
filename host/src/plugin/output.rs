//! A plugin's stdout/stderr: captured in memory up to a cap (the rest is dropped, never an
//! error the guest would panic on), then forwarded to `tracing` with the plugin id.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

#[derive(Clone)]
pub struct CapturedOutput {
    inner: Arc<Mutex<Buffer>>,
}

struct Buffer {
    data: Vec<u8>,
    cap: usize,
    dropped: u64,
}

impl CapturedOutput {
    pub fn new(cap: usize) -> CapturedOutput {
        CapturedOutput {
            inner: Arc::new(Mutex::new(Buffer {
                data: Vec::new(),
                cap,
                dropped: 0,
            })),
        }
    }

    fn push(&self, bytes: &[u8]) {
        if let Ok(mut b) = self.inner.lock() {
            let room = b.cap.saturating_sub(b.data.len());
            let take = room.min(bytes.len());
            b.data.extend_from_slice(&bytes[..take]);
            b.dropped += (bytes.len() - take) as u64;
        }
    }

    /// What was written, and how many bytes past the cap were dropped.
    pub fn take(&self) -> (String, u64) {
        match self.inner.lock() {
            Ok(mut b) => {
                let text = String::from_utf8_lossy(&b.data).into_owned();
                let dropped = b.dropped;
                b.data.clear();
                b.dropped = 0;
                (text, dropped)
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
