//! A real HTTP/1.1 receiver on loopback for tests: answers every request with a fixed status
//! and body (or a redirect) and records what it received.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

#[derive(Clone, Debug)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub body: Vec<u8>,
    /// When the request had been read (latency benchmarks).
    pub at: std::time::Instant,
}

pub struct Receiver {
    pub port: u16,
    pub received: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    /// `redirect_to`: answer 302 with this Location instead of 200.
    pub fn start(status: u16, body: &'static str, redirect_to: Option<String>) -> Receiver {
        Self::start_on(0, status, body, redirect_to)
    }

    /// `start` on a given port (0: any), e.g. one that was down until now.
    pub fn start_on(
        port: u16,
        status: u16,
        body: &'static str,
        redirect_to: Option<String>,
    ) -> Receiver {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind loopback");
        let port = listener.local_addr().expect("addr").port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let log = received.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
                let mut request_line = String::new();
                if reader.read_line(&mut request_line).is_err() {
                    continue;
                }
                let mut parts = request_line.split_whitespace();
                let method = parts.next().unwrap_or_default().to_string();
                let path = parts.next().unwrap_or_default().to_string();
                let mut length = 0usize;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).is_err() || line == "\r\n" || line.is_empty() {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut req_body = vec![0; length];
                let _ = reader.read_exact(&mut req_body);
                if let Ok(mut l) = log.lock() {
                    l.push(Received {
                        method,
                        path,
                        body: req_body,
                        at: std::time::Instant::now(),
                    });
                }
                let response = match &redirect_to {
                    Some(location) => format!(
                        "HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    ),
                    None => format!(
                        "HTTP/1.1 {status} X\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    ),
                };
                let _ = stream.write_all(response.as_bytes());
            }
        });
        Receiver { port, received }
    }

    pub fn count(&self) -> usize {
        self.received.lock().map(|r| r.len()).unwrap_or(0)
    }
}
