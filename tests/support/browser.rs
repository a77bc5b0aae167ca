//! A real headless Chromium (Debian's `chromium` and `chromium-driver` packages, installed by
//! scripts/test.sh) driven over the W3C WebDriver protocol. The protocol is JSON over HTTP;
//! the handful of commands the console tests use are spoken directly with reqwest, which the
//! test crate already builds, instead of a WebDriver crate and its dependency tree.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::moto::free_port;
use crate::wait_until;

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct Browser {
    driver: Child,
    base: String,
    http: reqwest::Client,
    _profile: tempfile::TempDir,
}

pub struct Element(String);

/// None (after saying so) when Chromium is missing outside CI; in CI it is mandatory.
pub fn available() -> bool {
    let found = ["/usr/bin/chromium", "/usr/bin/chromedriver"]
        .iter()
        .all(|p| std::path::Path::new(p).exists());
    if !found {
        if std::env::var_os("CI").is_some() {
            panic!(
                "CI is set but chromium/chromedriver are missing: scripts/test.sh installs them"
            );
        }
        eprintln!("skipping the browser test: install Debian's chromium and chromium-driver");
    }
    found
}

impl Browser {
    pub async fn start() -> Browser {
        let port = free_port();
        let driver = Command::new("/usr/bin/chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let up = wait_until(Duration::from_secs(20), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        assert!(up, "chromedriver did not listen");
        let profile = tempfile::tempdir().expect("profile dir");
        let mut browser = Browser {
            driver,
            base: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::new(),
            _profile: profile,
        };
        // As root in a container: no sandbox; no background traffic to a closed network.
        let args = json!([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-quic",
            "--no-first-run",
            "--window-size=1400,1000",
            format!("--user-data-dir={}", browser._profile.path().display()),
        ]);
        let session = browser
            .call(
                "POST",
                "/session",
                json!({"capabilities": {"alwaysMatch": {
                    "browserName": "chrome",
                    "goog:chromeOptions": {"binary": "/usr/bin/chromium", "args": args},
                }}}),
            )
            .await;
        let id = session["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {session}"))
            .to_string();
        browser.base = format!("{}/session/{id}", browser.base);
        browser
    }

    async fn call(&self, method: &str, path: &str, body: Value) -> Value {
        let url = format!("{}{path}", self.base);
        let req = match method {
            "GET" => self.http.get(&url),
            "DELETE" => self.http.delete(&url),
            _ => self
                .http
                .post(&url)
                .header("content-type", "application/json")
                .body(body.to_string()),
        };
        let text = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}"))
            .text()
            .await
            .expect("WebDriver answer");
        let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if let Some(e) = v["value"]["error"].as_str() {
            panic!("WebDriver {method} {path}: {e}: {}", v["value"]["message"]);
        }
        v["value"].clone()
    }

    pub async fn goto(&self, url: &str) {
        self.call("POST", "/url", json!({ "url": url })).await;
    }

    pub async fn url(&self) -> String {
        self.call("GET", "/url", Value::Null)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub async fn find(&self, css: &str) -> Element {
        let v = self
            .call(
                "POST",
                "/element",
                json!({"using": "css selector", "value": css}),
            )
            .await;
        Element(v[ELEMENT].as_str().expect("element reference").to_string())
    }

    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        let v = self
            .call(
                "POST",
                "/elements",
                json!({"using": "css selector", "value": css}),
            )
            .await;
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e[ELEMENT].as_str())
                    .map(|r| Element(r.to_string()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Wait (polling) until `css` matches something.
    pub async fn wait_for(&self, css: &str) -> Element {
        for _ in 0..100 {
            if let Some(e) = self.find_all(css).await.into_iter().next() {
                return e;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("nothing matched `{css}` at {}", self.url().await);
    }

    pub async fn click(&self, e: &Element) {
        self.call("POST", &format!("/element/{}/click", e.0), json!({}))
            .await;
    }

    pub async fn type_into(&self, e: &Element, text: &str) {
        self.call("POST", &format!("/element/{}/clear", e.0), json!({}))
            .await;
        self.call(
            "POST",
            &format!("/element/{}/value", e.0),
            json!({ "text": text }),
        )
        .await;
    }

    pub async fn text(&self, e: &Element) -> String {
        self.call("GET", &format!("/element/{}/text", e.0), Value::Null)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub async fn attribute(&self, e: &Element, name: &str) -> Option<String> {
        self.call(
            "GET",
            &format!("/element/{}/attribute/{name}", e.0),
            Value::Null,
        )
        .await
        .as_str()
        .map(String::from)
    }

    pub async fn run(&self, script: &str) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            json!({"script": script, "args": []}),
        )
        .await
    }

    /// The text of the first element matching `css` right now (None if none): read in the
    /// page, so a swap between finding and reading cannot leave a stale reference.
    pub async fn text_of(&self, css: &str) -> Option<String> {
        let v = self
            .call(
                "POST",
                "/execute/sync",
                json!({
                    "script": "const e = document.querySelector(arguments[0]); return e ? e.textContent.trim() : null;",
                    "args": [css],
                }),
            )
            .await;
        v.as_str().map(String::from)
    }

    /// Wait until the first element matching `css` has exactly `text`.
    pub async fn wait_for_text(&self, css: &str, text: &str) {
        for _ in 0..100 {
            if self.text_of(css).await.as_deref() == Some(text) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "`{css}` never read `{text}` (it reads {:?})",
            self.text_of(css).await
        );
    }

    /// `name=value` of a cookie the browser holds.
    pub async fn cookie(&self, name: &str) -> Option<String> {
        let v = self
            .call("GET", &format!("/cookie/{name}"), Value::Null)
            .await;
        v["value"].as_str().map(|value| format!("{name}={value}"))
    }

    pub async fn screenshot(&self, path: &std::path::Path) {
        use base64::Engine;
        let v = self.call("GET", "/screenshot", Value::Null).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(v.as_str().expect("base64 png"))
            .expect("decode screenshot");
        std::fs::write(path, png).expect("write screenshot");
    }

    pub async fn close(mut self) {
        self.call("DELETE", "", Value::Null).await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
    }
}
