//! A real SMTP server on loopback for tests: aiosmtpd (from the emulator's venv) writing every
//! message it accepts to a JSON-lines file that tests read back.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct SmtpSink {
    child: Child,
    pub port: u16,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

/// One accepted message, decoded (transfer encodings undone by Python's `email` package).
#[derive(Debug, Clone)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    pub subject: String,
    /// The text/plain part.
    pub text: String,
    /// The text/html part, empty if none.
    pub html: String,
    /// Whether the raw message held a CR that was not part of a CRLF.
    pub bare_cr: bool,
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl SmtpSink {
    pub fn start() -> SmtpSink {
        let python = crate::moto::venv_python();
        let dir = tempfile::tempdir().expect("tempdir");
        let log = dir.path().join("mail.jsonl");
        let port = crate::moto::free_port();
        let child = Command::new(python)
            .arg(crate::workspace().join("tests/support/smtp_sink.py"))
            .arg(&log)
            .arg(port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the SMTP sink");
        let sink = SmtpSink {
            child,
            port,
            log,
            _dir: dir,
        };
        let up = crate::wait_until(Duration::from_secs(30), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        assert!(up, "SMTP sink did not come up on port {port}");
        sink
    }

    /// Messages accepted so far, in arrival order.
    pub fn messages(&self) -> Vec<Mail> {
        let Ok(text) = std::fs::read_to_string(&self.log) else {
            return Vec::new();
        };
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).expect("sink record");
                Mail {
                    from: v["mail_from"].as_str().unwrap_or_default().to_string(),
                    to: v["rcpt_tos"]
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(|s| s.as_str().map(str::to_string))
                                .collect()
                        })
                        .unwrap_or_default(),
                    subject: v["subject"].as_str().unwrap_or_default().to_string(),
                    text: v["text"].as_str().unwrap_or_default().to_string(),
                    html: v["html"].as_str().unwrap_or_default().to_string(),
                    bare_cr: v["bare_cr"].as_bool().unwrap_or(false),
                }
            })
            .collect()
    }
}
