//! A console under test: `simian run` with `[web]` on a free port, fed by moto, with users of
//! each role; and a small HTTP client that keeps the session cookie by hand (no redirects
//! followed, so tests see every 303).

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::moto::{ACCOUNT, Moto, free_port, seed_estate};
use crate::{Env, HostProcess, deploy_shipped, simian_bin, wait_until};

/// A tag value and a security group name an attacker could set in their own account.
pub const HOSTILE_TAG: &str =
    "<script>window.__pwned=1</script><img src=x onerror=\"window.__pwned=2\">";
pub const FORMULA_NAME: &str = "=HYPERLINK(\"http://evil.example\")";
pub const PASSWORD: &str = "correct horse battery";

pub struct Console {
    pub env: Env,
    pub moto: Moto,
    pub host: HostProcess,
    pub base: String,
    pub http: reqwest::Client,
}

/// The demo estate plus hostile strings: a tag with markup on the open SSH group and a
/// group whose name is a spreadsheet formula.
pub async fn seed_hostile_estate(moto: &Moto) {
    let conf = moto.sdk_config().await;
    seed_estate(&conf).await;
    let ec2 = aws_sdk_ec2::Client::new(&conf);
    let groups = ec2.describe_security_groups().send().await.expect("groups");
    let open = groups
        .security_groups()
        .iter()
        .find(|g| g.group_name() == Some("open-ssh"))
        .and_then(|g| g.group_id())
        .expect("open-ssh")
        .to_string();
    ec2.create_tags()
        .resources(&open)
        .tags(
            aws_sdk_ec2::types::Tag::builder()
                .key("note")
                .value(HOSTILE_TAG)
                .build(),
        )
        .send()
        .await
        .expect("tag");
    let formula = ec2
        .create_security_group()
        .group_name(FORMULA_NAME)
        .description("formula")
        .send()
        .await
        .expect("sg");
    crate::moto::allow_tcp(&ec2, formula.group_id().expect("id"), 3389, "0.0.0.0/0").await;
    crate::moto::attach(&ec2, &[formula.group_id().expect("id")]).await;
}

/// A durable change in the estate: internal-web also allows 8443 from 10.1.0.0/16.
pub async fn widen_internal_web(moto: &Moto) {
    let conf = moto.sdk_config().await;
    let ec2 = aws_sdk_ec2::Client::new(&conf);
    let group = ec2
        .describe_security_groups()
        .group_names("internal-web")
        .send()
        .await
        .expect("group");
    let group_id = group.security_groups()[0]
        .group_id()
        .expect("id")
        .to_string();
    crate::moto::allow_tcp(&ec2, &group_id, 8443, "10.1.0.0/16").await;
}

impl Console {
    /// Start the host with the shipped SG and S3 rules; `storage` is a PostgreSQL URL or
    /// None for SQLite. Users `admin`, `justifier` and `viewer` exist with [`PASSWORD`].
    pub async fn start(storage: Option<&str>, interval_seconds: u64) -> Console {
        Self::start_with(storage, interval_seconds, "").await
    }

    /// `start` with more `[web]` settings (TLS files, trusted-header auth); with `tls_cert`
    /// the client speaks HTTPS and accepts the test's self-signed certificate.
    pub async fn start_with(
        storage: Option<&str>,
        interval_seconds: u64,
        web_extra: &str,
    ) -> Console {
        let moto = Moto::start();
        seed_hostile_estate(&moto).await;
        let port = free_port();
        let storage = storage.map_or(String::new(), |url| format!("[storage]\nurl = \"{url}\"\n"));
        let env = Env::new(&format!(
            "{storage}[[accounts]]\nid = \"{ACCOUNT}\"\nname = \"demo\"\nregions = [\"us-east-1\"]\n\n\
             [aws]\nrequests_per_second = 0\n\n[watch]\ninterval_seconds = {interval_seconds}\n\n\
             [web]\nlisten = \"127.0.0.1:{port}\"\n{web_extra}\n"
        ));
        for id in ["sg-internet-accessible", "s3-bucket", "security-group"] {
            deploy_shipped(&env, id);
        }
        for (name, role) in [
            ("admin", "admin"),
            ("justifier", "justifier"),
            ("viewer", "viewer"),
        ] {
            add_user(&env, name, role, PASSWORD);
        }
        let host = env.start_host_env(&moto.env());
        let tls = web_extra.contains("tls_cert");
        let base = format!("{}://127.0.0.1:{port}", if tls { "https" } else { "http" });
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .danger_accept_invalid_certs(tls)
            .build()
            .expect("client");
        let console = Console {
            env,
            moto,
            host,
            base,
            http,
        };
        let up = wait_until(Duration::from_secs(30), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        assert!(up, "console never listened:\n{}", console.host.log_text());
        console
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Wait until the rules have found something (the first sweep and audit are done).
    pub async fn wait_for_issues(&self, token: &str) {
        for _ in 0..600 {
            let (status, v) = self.get_json("/api/v1/issues?limit=1", Some(token)).await;
            if status == 200 && v["issues"].as_array().is_some_and(|a| !a.is_empty()) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("no issues appeared:\n{}", self.host.log_text());
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        let mut req = self.http.get(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.expect("GET")
    }

    pub async fn get_json(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        let r = self.get(path, token).await;
        let status = r.status().as_u16();
        let text = r.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn post_json(&self, path: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
        let mut req = self
            .http
            .post(self.url(path))
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let r = req.send().await.expect("POST");
        let status = r.status().as_u16();
        let text = r.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// Sign in through the login form; the session cookie (`name=value`).
    pub async fn login(&self, user: &str, password: &str) -> Result<String, (u16, String)> {
        let r = self
            .http
            .post(self.url("/login"))
            .form(&[("user", user), ("password", password), ("next", "/")])
            .send()
            .await
            .expect("login");
        let status = r.status().as_u16();
        let cookie = r
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or_default().to_string());
        match (status, cookie) {
            (303, Some(c)) => Ok(c),
            _ => Err((status, r.text().await.unwrap_or_default())),
        }
    }

    /// A CLI-made API token for `user`.
    pub fn token(&self, user: &str) -> String {
        let out = self.env.cli(&["token", "create", "--user", user]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

/// `simian user add` with the password on standard input.
pub fn add_user(env: &Env, name: &str, role: &str, password: &str) {
    let mut child = Command::new(simian_bin())
        .args(["user", "add", name, "--role", role, "--config"])
        .arg(env.config_path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("simian user add");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{password}\n").as_bytes())
        .expect("password");
    let out = child.wait_with_output().expect("wait");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
