//! Shared machinery for the end-to-end tests: build the real plugin components and the real
//! `simian` binary once per test process, lay out throwaway environments, start a real host.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub mod browser;
pub mod cloudtrail;
pub mod console;
pub mod estate;
pub mod fault;
pub mod hostile;
pub mod http;
pub mod logs;
pub mod moto;
pub mod ocsf;
pub mod pg;
pub mod report;
pub mod smtp;

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace")
        .to_path_buf()
}

/// `<target>/<profile>` of the running test binary (`…/debug/deps/test-hash`).
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    exe.parent()
        .and_then(Path::parent)
        .expect("test binary lives in <target>/<profile>/deps")
        .to_path_buf()
}

pub fn target_dir() -> PathBuf {
    profile_dir()
        .parent()
        .expect("profile dir has a parent")
        .to_path_buf()
}

fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(workspace())
        .env("CARGO_TARGET_DIR", target_dir());
    cmd
}

fn run_cargo(args: &[&str]) {
    let status = cargo()
        .args(args)
        .status()
        .unwrap_or_else(|e| panic!("cannot run cargo {args:?}: {e}"));
    assert!(status.success(), "cargo {args:?} failed");
}

/// The plugin packages the tests deploy, built once as wasm32-wasip2 components.
pub const PLUGIN_PACKAGES: &[&str] = &[
    "simian-plugin-sg-internet-accessible",
    "simian-plugin-security-group",
    "simian-plugin-s3-bucket",
    "simian-plugin-iam-role",
    "simian-plugin-iam-policy",
    "simian-plugin-iam-user",
    "simian-plugin-employee-accounts",
    "simian-plugin-email-notifier",
    "simian-plugin-webhook-notifier",
    "simian-plugin-vpc-flow-logs",
    "simian-plugin-sqs-queue",
    "simian-plugin-sns-topic",
    "simian-plugin-kms-key",
    "simian-plugin-acm-certificate",
    "simian-plugin-snapshot-sharing",
    "simian-plugin-cloudtrail",
    "simian-plugin-lambda-function",
    "simian-plugin-rds-instance",
    "simian-plugin-iam-server-certificate",
    "simian-plugin-load-balancer",
    "simian-fixture-hostile",
    "simian-fixture-hostile-notifier",
    "simian-fixture-undeclared-import",
    "simian-fixture-sg-rule-next",
];

/// Path of a built plugin component, e.g. `wasm("simian_fixture_hostile")`.
pub fn wasm(crate_name: &str) -> PathBuf {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let mut args = vec!["build", "--target", "wasm32-wasip2", "--profile", "plugin"];
        for p in PLUGIN_PACKAGES {
            args.push("-p");
            args.push(p);
        }
        run_cargo(&args);
    });
    let path = target_dir()
        .join("wasm32-wasip2/plugin")
        .join(format!("{crate_name}.wasm"));
    assert!(path.exists(), "{} was not built", path.display());
    path
}

/// The real `simian` binary, built in the tests' own profile.
pub fn simian_bin() -> PathBuf {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        // Benchmarks (`…/release`) time the host as `cargo bench` builds it.
        if profile_dir().ends_with("release") {
            run_cargo(&[
                "build",
                "--profile",
                "bench",
                "-p",
                "simian",
                "--bin",
                "simian",
            ]);
        } else {
            run_cargo(&["build", "-p", "simian", "--bin", "simian"]);
        }
    });
    profile_dir().join("simian")
}

/// A throwaway simian installation: data dir, plugins dir, config file.
pub struct Env {
    pub root: tempfile::TempDir,
}

impl Env {
    /// `extra` is appended to a config that sets the data and plugins directories.
    pub fn new(extra: &str) -> Env {
        let root = tempfile::Builder::new()
            .prefix("simian-e2e")
            .tempdir()
            .expect("tempdir");
        let env = Env { root };
        std::fs::create_dir_all(env.plugins_dir()).expect("plugins dir");
        env.write_config(extra);
        env
    }

    pub fn path(&self) -> &Path {
        self.root.path()
    }

    pub fn plugins_dir(&self) -> PathBuf {
        self.path().join("plugins")
    }

    pub fn config_path(&self) -> PathBuf {
        self.path().join("simian.toml")
    }

    pub fn write_config(&self, extra: &str) {
        let text = format!("data_dir = \"data\"\n[plugins]\ndir = \"plugins\"\n{extra}\n");
        std::fs::write(self.config_path(), text).expect("write config");
    }

    pub fn config(&self) -> simian::config::Config {
        simian::config::Config::load(&self.config_path()).expect("valid config")
    }

    /// Deploy a plugin directory the way operators should: component first, manifest last,
    /// each written to a temporary name and renamed into place.
    pub fn deploy(&self, dir_name: &str, wasm: &[u8], manifest: &str) {
        let dir = self.plugins_dir().join(dir_name);
        std::fs::create_dir_all(&dir).expect("plugin dir");
        let wasm_name = manifest_wasm_name(manifest);
        put(&dir.join(wasm_name), wasm);
        put(&dir.join("plugin.toml"), manifest.as_bytes());
    }

    pub fn remove(&self, dir_name: &str) {
        std::fs::remove_dir_all(self.plugins_dir().join(dir_name)).expect("remove plugin dir");
    }

    pub fn write_file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path().join(name);
        std::fs::write(&path, text).expect("write file");
        path
    }

    /// Run the simian CLI with this environment's config.
    pub fn cli(&self, args: &[&str]) -> Output {
        Command::new(simian_bin())
            .args(args)
            .arg("--config")
            .arg(self.config_path())
            .env_remove("SIMIAN_CONFIG")
            .output()
            .expect("run simian")
    }

    /// Run the simian CLI with this environment's config and extra environment variables.
    pub fn cli_env(&self, args: &[&str], vars: &[(&str, String)]) -> Output {
        let mut cmd = Command::new(simian_bin());
        cmd.args(args)
            .arg("--config")
            .arg(self.config_path())
            .env_remove("SIMIAN_CONFIG");
        for (k, v) in vars {
            cmd.env(k, v);
        }
        cmd.output().expect("run simian")
    }

    /// Start `simian run` and wait until its control socket answers.
    pub fn start_host(&self) -> HostProcess {
        self.start_host_env(&[])
    }

    /// `start_host` with extra environment variables (e.g. the emulator's endpoint).
    pub fn start_host_env(&self, vars: &[(&str, String)]) -> HostProcess {
        let log = std::fs::File::create(self.path().join("host.log")).expect("log file");
        let child = Command::new(simian_bin())
            .args(["run", "--config"])
            .arg(self.config_path())
            .env("SIMIAN_LOG", "info")
            .envs(vars.iter().map(|(k, v)| (*k, v.as_str())))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start simian run");
        let mut host = HostProcess {
            child,
            log: self.path().join("host.log"),
        };
        let socket = self.path().join("data/simian.sock");
        let ready = wait_until(Duration::from_secs(60), || {
            std::os::unix::net::UnixStream::connect(&socket).is_ok()
        });
        if !ready {
            let _ = host.child.kill();
            panic!("simian run did not come up:\n{}", host.log_text());
        }
        host
    }
}

fn manifest_wasm_name(manifest: &str) -> String {
    let value: toml::Table = manifest.parse().expect("manifest is TOML");
    match value.get("wasm").and_then(|v| v.as_str()) {
        Some(name) => name.to_string(),
        None => format!(
            "{}.wasm",
            value
                .get("id")
                .and_then(|v| v.as_str())
                .expect("manifest has an id")
        ),
    }
}

/// Write via a temporary name and rename.
pub fn put(path: &Path, bytes: &[u8]) {
    let tmp = path.with_file_name(format!(
        ".{}.tmp",
        path.file_name()
            .and_then(|n| n.to_str())
            .expect("file name")
    ));
    std::fs::write(&tmp, bytes).expect("write temp");
    std::fs::rename(&tmp, path).expect("rename into place");
}

pub struct HostProcess {
    pub child: Child,
    pub log: PathBuf,
}

impl HostProcess {
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for HostProcess {
    fn drop(&mut self) {
        // SIGTERM first so the host removes its socket, then make sure.
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn wait_until(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    f()
}

/// `[smtp]` on the SMTP sink's port and the shipped email and webhook notifiers' sections:
/// mail to `to` for every account from `min_score` up, posts to the loopback receiver on
/// `hook`.
pub fn notifier_sections(smtp: u16, hook: u16, to: &str, min_score: u32) -> String {
    format!(
        r#"
[smtp]
host = "127.0.0.1"
port = {smtp}
from = "simian@example.com"
tls = "none"

[plugin.email-notifier.settings]
subscriptions = [{{ to = ["{to}"], accounts = ["*"], min_score = {min_score} }}]

[plugin.email-notifier.grants]
mail = {{ recipients = ["{to}"] }}

[plugin.webhook-notifier.settings]
url = "http://127.0.0.1:{hook}/hooks/simian"

[plugin.webhook-notifier.grants]
http = {{ origins = ["http://127.0.0.1:{hook}"], private_networks = ["127.0.0.0/8"] }}
"#
    )
}

/// A security group item open on 22 to the world, plus a clean one.
pub fn sg_items() -> String {
    serde_json::json!([
        {
            "resourceType": "AWS::EC2::SecurityGroup",
            "resourceId": "sg-open",
            "resourceName": "open-ssh",
            "arn": "arn:aws:ec2:us-east-1:123456789012:security-group/sg-open",
            "accountId": "123456789012",
            "awsRegion": "us-east-1",
            "configurationItemCaptureTime": "2026-11-22T00:00:00Z",
            "configuration": {
                "groupId": "sg-open",
                "groupName": "open-ssh",
                "ipPermissions": [
                    {"ipProtocol": "tcp", "fromPort": 22, "toPort": 22,
                     "ipv4Ranges": [{"cidrIp": "0.0.0.0/0"}], "ipv6Ranges": []}
                ],
                "ipPermissionsEgress": []
            },
            "tags": {"owner": "alice"}
        },
        {
            "resourceType": "AWS::EC2::SecurityGroup",
            "resourceId": "sg-clean",
            "resourceName": "internal",
            "arn": "arn:aws:ec2:us-east-1:123456789012:security-group/sg-clean",
            "accountId": "123456789012",
            "awsRegion": "us-east-1",
            "configurationItemCaptureTime": "2026-11-22T00:00:00Z",
            "configuration": {
                "groupId": "sg-clean",
                "ipPermissions": [
                    {"ipProtocol": "tcp", "fromPort": 443, "toPort": 443,
                     "ipv4Ranges": [{"cidrIp": "10.0.0.0/8"}]}
                ]
            }
        }
    ])
    .to_string()
}

/// The shipped example rule's manifest.
/// The `plugin.toml` we ship for plugin `id` (its directory under `plugins/`).
pub fn shipped_manifest(id: &str) -> String {
    std::fs::read_to_string(workspace().join("plugins").join(id).join("plugin.toml"))
        .unwrap_or_else(|e| panic!("manifest of plugin {id}: {e}"))
}

/// Deploy one of the plugins we ship, as `cargo plugins` builds it.
pub fn deploy_shipped(env: &Env, id: &str) {
    let wasm = std::fs::read(wasm(&format!("simian_plugin_{}", id.replace('-', "_"))))
        .unwrap_or_else(|e| panic!("component of plugin {id}: {e}"));
    env.deploy(id, &wasm, &shipped_manifest(id));
}

pub fn sg_manifest() -> String {
    std::fs::read_to_string(workspace().join("plugins/sg-internet-accessible/plugin.toml"))
        .expect("example plugin manifest")
}

/// The account the stored-history tests (replay, shadow) file their groups under.
pub const HISTORY_ACCOUNT: &str = "123456789012";

/// Record `groups` as one complete sweep of security groups in [`HISTORY_ACCOUNT`],
/// us-east-1, in the store `env` is configured with.
pub async fn seed_groups(env: &Env, groups: Vec<simian::item::Item>) {
    use simian::store::{Listing, Scope, Store};
    let store = Store::open(&env.config().storage.url).await.expect("store");
    let scope = Scope {
        account_id: HISTORY_ACCOUNT.into(),
        region: "us-east-1".into(),
        resource_type: "AWS::EC2::SecurityGroup".into(),
    };
    let sweep = store.begin_sweep().await.expect("begin");
    store
        .apply_listing(sweep, &scope, Listing::Complete(groups))
        .await
        .expect("apply");
    store.finish_sweep(sweep).await.expect("finish");
    store.close().await;
}

/// The ARN of security group `id` in [`HISTORY_ACCOUNT`], us-east-1.
pub fn sg_arn(id: &str) -> String {
    format!("arn:aws:ec2:us-east-1:{HISTORY_ACCOUNT}:security-group/{id}")
}

/// A security group item with one TCP ingress rule per `(port, cidr)`, observed at
/// `captured` (RFC 3339: what its revision is dated by), tagged `team = tag`.
pub fn sg_item(id: &str, ports: &[(i64, &str)], tag: &str, captured: &str) -> simian::item::Item {
    let permissions: Vec<serde_json::Value> = ports
        .iter()
        .map(|(port, cidr)| {
            serde_json::json!({"ipProtocol": "tcp", "fromPort": port, "toPort": port,
                               "ipv4Ranges": [{"cidrIp": cidr}], "ipv6Ranges": []})
        })
        .collect();
    simian::item::Item::from_envelope(&serde_json::json!({
        "resourceType": "AWS::EC2::SecurityGroup",
        "resourceId": id,
        "resourceName": id,
        "arn": sg_arn(id),
        "accountId": HISTORY_ACCOUNT,
        "awsRegion": "us-east-1",
        "configurationItemCaptureTime": captured,
        "configuration": {"groupId": id, "groupName": id, "ipPermissions": permissions,
                          "ipPermissionsEgress": []},
        "tags": {"team": tag}
    }))
    .expect("valid group")
}
