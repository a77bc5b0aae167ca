//! The operator's configuration file (`simian.toml`).
//!
//! Owns parsing and validating the file into typed settings, resolving relative paths against
//! the file's directory. It must never act on the settings (no I/O beyond reading the file):
//! every other module receives an already validated `Config`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub use crate::scopes::{FilesGrant, ItemsGrant, Limits, MailGrant, Origin};

mod budgets;
mod ops;
mod sections;
pub use budgets::EffectiveBudget;
pub use ops::{DrillConfig, EventsConfig, MonitorConfig};
use sections::{
    RawConfig, accounts_section, networks_section, plugin_section, plugins_section,
    storage_section, web_section,
};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("invalid config file {path}: field `{field}`: {message}")]
    Field {
        path: PathBuf,
        field: String,
        message: String,
    },
}

/// The whole configuration, with defaults filled in and paths made absolute.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the file came from (None: built-in defaults).
    pub source: Option<PathBuf>,
    pub data_dir: PathBuf,
    pub storage: StorageConfig,
    pub plugins: PluginsConfig,
    pub accounts: Vec<AccountConfig>,
    pub networks: Vec<NetworkConfig>,
    pub smtp: Option<SmtpConfig>,
    /// Per-plugin operator settings, grants and limits, keyed by plugin id.
    pub plugin: BTreeMap<String, PluginOperatorConfig>,
    pub aws: AwsConfig,
    pub watch: WatchConfig,
    /// Operator overrides of checks, first match wins.
    pub overrides: Vec<Override>,
    pub notify: NotifyConfig,
    /// The console and REST API, served by `simian run`; off when absent.
    pub web: Option<WebConfig>,
    pub events: EventsConfig,
    pub drill: DrillConfig,
    pub monitor: MonitorConfig,
}

/// `[web]`: the console's address, TLS, and trusted-header auth.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebConfig {
    pub listen: std::net::SocketAddr,
    /// Certificate chain and key, PEM; plain HTTP when absent (e.g. behind a proxy).
    pub tls: Option<(PathBuf, PathBuf)>,
    /// A header naming the signed-in user, set by an SSO proxy (lower-case).
    pub auth_header: Option<String>,
    /// The only peers whose `auth_header` is believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    pub session_hours: u32,
}

/// How the outbox retries a failed delivery: exponential backoff between the two bounds.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct NotifyConfig {
    pub retry_initial_ms: u64,
    pub retry_max_ms: u64,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        NotifyConfig {
            retry_initial_ms: 1_000,
            retry_max_ms: 5 * 60 * 1_000,
        }
    }
}

/// Disable a check or change its score, for accounts matching a pattern.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Override {
    pub plugin: String,
    /// A check id; every check of the plugin when absent.
    pub check: Option<String>,
    /// Account ids, `*` wildcards allowed; every account when empty.
    #[serde(default)]
    pub accounts: Vec<String>,
    #[serde(default)]
    pub disabled: bool,
    pub score: Option<u32>,
}

impl Override {
    fn matches(&self, plugin: &str, check: &str, account: &str) -> bool {
        self.plugin == plugin
            && self.check.as_deref().is_none_or(|c| c == check)
            && (self.accounts.is_empty() || self.accounts.iter().any(|p| glob(p, account)))
    }
}

/// `*` matches any run of characters; everything else literally.
fn glob(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, rest)) => {
            let Some(tail) = text.strip_prefix(head) else {
                return false;
            };
            (0..=tail.len()).any(|i| tail.is_char_boundary(i) && glob(rest, &tail[i..]))
        }
    }
}

/// How simian talks to AWS. Credentials and endpoints come from the standard AWS settings
/// (environment, profiles, SSO, instance role; `AWS_ENDPOINT_URL`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AwsConfig {
    /// Region for global services and accounts that list none; default: the AWS settings'.
    pub region: Option<String>,
    /// Attempts per call, with adaptive retry on throttling and 5xx.
    pub max_attempts: u32,
    pub initial_backoff_ms: u64,
    pub connect_timeout_ms: u64,
    pub attempt_timeout_ms: u64,
    pub operation_timeout_ms: u64,
    /// Calls per second per (account, service), so simian never starves production automation.
    pub requests_per_second: f64,
    /// Path-style S3 addressing (implied when an endpoint override is set).
    pub s3_force_path_style: bool,
}

impl Default for AwsConfig {
    fn default() -> Self {
        AwsConfig {
            region: None,
            max_attempts: 5,
            initial_backoff_ms: 100,
            connect_timeout_ms: 3_100,
            attempt_timeout_ms: 20_000,
            operation_timeout_ms: 120_000,
            requests_per_second: 20.0,
            s3_force_path_style: false,
        }
    }
}

/// When and how widely `simian run` sweeps.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WatchConfig {
    /// Default minutes between sweeps of one (account, resource type).
    pub interval_minutes: u64,
    /// Per resource type overrides, e.g. `"AWS::IAM::User" = 30`.
    pub intervals: BTreeMap<String, u64>,
    /// Listings in flight at once.
    pub concurrency: usize,
    /// Seconds between sweeps, overriding `interval_minutes` (demos and tests).
    pub interval_seconds: Option<u64>,
}

impl Default for WatchConfig {
    fn default() -> Self {
        WatchConfig {
            interval_minutes: 60,
            intervals: BTreeMap::new(),
            concurrency: 4,
            interval_seconds: None,
        }
    }
}

impl WatchConfig {
    pub fn interval(&self, resource_type: &str) -> std::time::Duration {
        if let Some(seconds) = self.interval_seconds {
            return std::time::Duration::from_secs(seconds.max(1));
        }
        let minutes = self
            .intervals
            .get(resource_type)
            .copied()
            .unwrap_or(self.interval_minutes)
            .max(1);
        std::time::Duration::from_secs(minutes * 60)
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct StorageConfig {
    /// `sqlite://…` (default: a file in the data directory) or `postgres://…`.
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginsConfig {
    pub dir: PathBuf,
    /// Default memory cap per plugin instance.
    pub memory_mib: u32,
    /// Ceiling for any per-plugin memory setting; also sizes the pooling allocator's slots.
    pub max_memory_mib: u32,
    /// Default wall-clock budget of one call into a plugin.
    pub timeout_ms: u64,
    /// Ceiling for any per-plugin budget: neither `[plugin.<id>.limits]` nor a manifest can
    /// give a plugin more time than this.
    pub max_timeout_ms: u64,
    /// Largest plugin file (component or manifest) read from the plugins directory, checked
    /// before anything is read or compiled.
    pub max_file_bytes: u64,
    /// Live plugin instances at once, across all plugins.
    pub max_instances: u32,
    /// Items handed to an auditor per call.
    pub batch_size: usize,
    /// Length of the fixed window the `*_per_hour` budgets count in (`budgets`).
    pub budget_window_seconds: u64,
    /// `simian run` re-audits every current item with each auditor this often, so checks
    /// that depend on the clock (certificate expiry, key age) are judged again on items that
    /// did not change. 0: only on change and on (re)load.
    pub reaudit_minutes: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountConfig {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub third_party: bool,
    #[serde(default = "yes")]
    pub active: bool,
    pub role_arn: Option<String>,
    pub external_id: Option<String>,
    #[serde(default)]
    pub regions: Vec<String>,
    /// S3 canonical user id of the account, for classifying ACL grantees.
    pub canonical_id: Option<String>,
}

pub(crate) fn yes() -> bool {
    true
}

impl Default for PluginOperatorConfig {
    /// A plugin the operator says nothing about: enabled, no settings, nothing granted.
    fn default() -> Self {
        PluginOperatorConfig {
            enabled: true,
            sha256: None,
            settings: toml::Table::new(),
            grants: GrantsConfig::default(),
            limits: LimitsConfig::default(),
            reaudit_minutes: None,
        }
    }
}

/// A network treated as ours (or, with `account`, as that account's).
#[derive(Debug, Clone)]
pub struct NetworkConfig {
    pub name: String,
    pub cidr: ipnet::IpNet,
    pub account: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    #[serde(default = "smtp_port")]
    pub port: u16,
    pub from: String,
    pub username: Option<String>,
    /// Name of an environment variable holding the password (kept out of the file).
    pub password_env: Option<String>,
    #[serde(default)]
    pub tls: SmtpTls,
    #[serde(default = "smtp_timeout")]
    pub timeout_ms: u64,
}

fn smtp_port() -> u16 {
    25
}
fn smtp_timeout() -> u64 {
    10_000
}

#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain SMTP: only for a relay on loopback or a trusted network.
    None,
    #[default]
    Starttls,
    /// Implicit TLS (SMTPS, usually port 465).
    Tls,
}

/// What the operator says about one plugin.
#[derive(Debug, Clone, PartialEq)]
pub struct PluginOperatorConfig {
    pub enabled: bool,
    /// SHA-256 of the plugin's component file (hex): when set, any other file in the plugin's
    /// directory is refused, so grants and settings stay with the code the operator vetted.
    pub sha256: Option<String>,
    /// Values the plugin reads through the `settings` interface.
    pub settings: toml::Table,
    pub grants: GrantsConfig,
    pub limits: LimitsConfig,
    /// Overrides `[plugins] reaudit_minutes` for this plugin (0: never on a schedule).
    pub reaudit_minutes: Option<u64>,
}

/// Capabilities the operator grants one plugin, parsed; the plugin gets the intersection of
/// these and what its manifest asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GrantsConfig {
    pub accounts: bool,
    pub items: Option<ItemsGrant>,
    pub http: Option<HttpGrant>,
    pub mail: Option<MailGrant>,
    /// Directories the plugin may read (WASI preopens at the same path, read-only).
    pub files: Option<FilesGrant>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpGrant {
    pub origins: Vec<Origin>,
    /// Loopback, link-local, private or unspecified ranges the plugin may still reach; refused
    /// unless listed here.
    pub private_networks: Vec<ipnet::IpNet>,
}

/// The operator's limits for one plugin.
pub type LimitsConfig = Limits;

/// What a plugin actually runs under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EffectiveLimits {
    pub memory_mib: u32,
    pub timeout_ms: u64,
    pub budget: EffectiveBudget,
}

impl Config {
    /// Load from a file; relative paths in it are taken from the file's directory.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, Some(path))
    }

    /// Where to look when no `--config` is given: `$SIMIAN_CONFIG`, else `./simian.toml` if it
    /// exists, else built-in defaults.
    pub fn discover(explicit: Option<&Path>) -> Result<Config, ConfigError> {
        if let Some(path) = explicit {
            return Self::load(path);
        }
        if let Some(path) = std::env::var_os("SIMIAN_CONFIG") {
            return Self::load(Path::new(&path));
        }
        let local = Path::new("simian.toml");
        if local.exists() {
            return Self::load(local);
        }
        Self::parse("", None)
    }

    pub fn parse(text: &str, path: Option<&Path>) -> Result<Config, ConfigError> {
        let shown = path
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("<defaults>"));
        let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: shown.clone(),
            message: e.to_string(),
        })?;
        let field = |field: &str, message: String| ConfigError::Field {
            path: shown.clone(),
            field: field.to_string(),
            message,
        };
        let base = match path.and_then(Path::parent) {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
        };
        let base = std::fs::canonicalize(&base).unwrap_or(base);
        let resolve = |p: PathBuf| if p.is_absolute() { p } else { base.join(p) };

        let data_dir = match raw.data_dir {
            Some(dir) => resolve(dir),
            None => default_data_dir(),
        };
        let storage = storage_section(raw.storage, &data_dir).map_err(|e| field(e.0, e.1))?;
        let plugins = plugins_section(raw.plugins, &resolve).map_err(|e| field(e.0, e.1))?;
        accounts_section(&raw.accounts).map_err(|(f, m)| field(&f, m))?;
        let networks = networks_section(raw.networks).map_err(|(f, m)| field(&f, m))?;
        let mut plugin = BTreeMap::new();
        for (id, op) in raw.plugin {
            let parsed = plugin_section(&id, op, &plugins).map_err(|(f, m)| field(&f, m))?;
            plugin.insert(id, parsed);
        }
        for (i, o) in raw.overrides.iter().enumerate() {
            if !o.disabled && o.score.is_none() {
                return Err(field(
                    &format!("overrides[{i}]"),
                    "sets neither `disabled = true` nor `score`".into(),
                ));
            }
        }
        let web = raw
            .web
            .map(|w| web_section(w, &resolve))
            .transpose()
            .map_err(|e| field(e.0, e.1))?;
        let watched: Vec<&str> = raw
            .accounts
            .iter()
            .filter(|a| a.active && !a.third_party)
            .map(|a| a.id.as_str())
            .collect();
        ops::check(&raw.events, &raw.drill, &raw.monitor, &watched)
            .map_err(|(f, m)| field(&f, m))?;
        if raw.aws.max_attempts == 0 {
            return Err(field("aws.max_attempts", "must be at least 1".into()));
        }
        if let Some(smtp) = &raw.smtp
            && !smtp.from.contains('@')
        {
            return Err(field(
                "smtp.from",
                format!("`{}` is not an address", smtp.from),
            ));
        }

        Ok(Config {
            source: path.map(Path::to_path_buf),
            data_dir,
            storage,
            plugins,
            accounts: raw.accounts,
            networks,
            smtp: raw.smtp,
            plugin,
            aws: raw.aws,
            watch: raw.watch,
            overrides: raw.overrides,
            notify: raw.notify,
            web,
            events: raw.events,
            drill: raw.drill,
            monitor: raw.monitor,
        })
    }

    /// The first override for this (plugin, check, account), if any.
    pub fn override_for(&self, plugin: &str, check: &str, account: &str) -> Option<&Override> {
        self.overrides
            .iter()
            .find(|o| o.matches(plugin, check, account))
    }

    pub fn operator(&self, plugin_id: &str) -> PluginOperatorConfig {
        self.plugin.get(plugin_id).cloned().unwrap_or_default()
    }

    /// The limits one plugin runs under: the operator's (`[plugin.<id>.limits]`, else
    /// `[plugins]`), lowered by the manifest's own request, never raised by it.
    pub fn effective_limits(&self, plugin_id: &str, requested: &Limits) -> EffectiveLimits {
        let op = self
            .plugin
            .get(plugin_id)
            .map(|p| p.limits)
            .unwrap_or_default();
        let memory_mib = op.memory_mib.unwrap_or(self.plugins.memory_mib);
        let timeout_ms = op.timeout_ms.unwrap_or(self.plugins.timeout_ms);
        EffectiveLimits {
            memory_mib: requested
                .memory_mib
                .map_or(memory_mib, |m| m.clamp(1, memory_mib))
                .min(self.plugins.max_memory_mib),
            timeout_ms: requested
                .timeout_ms
                .map_or(timeout_ms, |t| t.clamp(1, timeout_ms))
                .min(self.plugins.max_timeout_ms),
            budget: self.effective_budget(&op, requested),
        }
    }

    /// The Unix socket a running `simian run` answers on.
    pub fn control_socket(&self) -> PathBuf {
        self.data_dir.join("simian.sock")
    }

    pub fn compile_cache_dir(&self) -> PathBuf {
        self.data_dir.join("cache").join("plugins")
    }
}

fn default_data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("SIMIAN_DATA_DIR") {
        return PathBuf::from(dir);
    }
    if let Some(xdg) = std::env::var_os("XDG_DATA_HOME") {
        return PathBuf::from(xdg).join("simian");
    }
    match std::env::var_os("HOME") {
        Some(home) => PathBuf::from(home).join(".local/share/simian"),
        None => PathBuf::from(".simian"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_web_section_is_checked_field_by_field() {
        let c = Config::parse("data_dir = \"/tmp/x\"", None).expect("parses");
        assert_eq!(c.web, None, "no console unless configured");
        let c = Config::parse(
            "data_dir = \"/tmp/x\"\n[web]\nlisten = \"127.0.0.1:8080\"\nauth_header = \"X-Forwarded-User\"\ntrusted_proxies = [\"10.0.0.5\", \"10.1.0.0/24\"]",
            None,
        )
        .expect("parses");
        let web = c.web.expect("web");
        assert_eq!(web.listen.port(), 8080);
        assert_eq!(web.auth_header.as_deref(), Some("x-forwarded-user"));
        assert_eq!(web.trusted_proxies.len(), 2);
        assert_eq!(web.session_hours, 12);
        for (text, field) in [
            ("listen = \"localhost\"", "web.listen"),
            (
                "listen = \"127.0.0.1:1\"\ntls_cert = \"c.pem\"",
                "web.tls_key",
            ),
            (
                "listen = \"127.0.0.1:1\"\nauth_header = \"X-User\"",
                "web.trusted_proxies",
            ),
            (
                "listen = \"127.0.0.1:1\"\nauth_header = \"bad header\"\ntrusted_proxies = [\"10.0.0.1\"]",
                "web.auth_header",
            ),
            (
                "listen = \"127.0.0.1:1\"\ntrusted_proxies = [\"somewhere\"]",
                "web.trusted_proxies",
            ),
            (
                "listen = \"127.0.0.1:1\"\nsession_hours = 0",
                "web.session_hours",
            ),
        ] {
            let e = Config::parse(&format!("[web]\n{text}"), None).expect_err(text);
            assert!(
                e.to_string().contains(&format!("field `{field}`")),
                "{text}: {e}"
            );
        }
    }

    #[test]
    fn re_audits_default_to_daily_and_are_set_per_plugin() {
        let c = Config::parse("data_dir = \"/tmp/x\"", None).expect("parses");
        assert_eq!(c.plugins.reaudit_minutes, 24 * 60);
        assert_eq!(c.operator("acm-certificate").reaudit_minutes, None);
        let c = Config::parse(
            "[plugins]\nreaudit_minutes = 0\n[plugin.acm-certificate]\nreaudit_minutes = 60\n",
            None,
        )
        .expect("parses");
        assert_eq!(c.plugins.reaudit_minutes, 0);
        assert_eq!(c.operator("acm-certificate").reaudit_minutes, Some(60));
        let e = Config::parse("[plugins]\nreaudit_minutes = -1\n", None).expect_err("negative");
        assert!(e.to_string().contains("reaudit_minutes"), "{e}");
    }

    #[test]
    fn defaults_when_empty() {
        let c = Config::parse("data_dir = \"/tmp/x\"", None).expect("parses");
        assert_eq!(c.plugins.memory_mib, 64);
        assert_eq!(c.watch.interval("AWS::IAM::User").as_secs(), 3600);
        assert_eq!(c.storage.url, "sqlite:///tmp/x/simian.db");
        assert!(c.plugins.dir.ends_with("plugins"));
    }

    #[test]
    fn unknown_field_is_named() {
        let err = Config::parse(
            "[plugins]\ndirr = \"x\"\n",
            Some(Path::new("/etc/simian.toml")),
        )
        .expect_err("must fail");
        let msg = err.to_string();
        assert!(msg.contains("/etc/simian.toml"), "{msg}");
        assert!(msg.contains("dirr"), "{msg}");
    }

    #[test]
    fn bad_account_id_is_named() {
        let err = Config::parse("[[accounts]]\nid = \"12\"\nname = \"x\"\n", None)
            .expect_err("must fail");
        assert!(err.to_string().contains("accounts[0].id"), "{err}");
    }

    #[test]
    fn bad_cidr_and_origin_are_named() {
        let err = Config::parse("[[networks]]\nname = \"n\"\ncidr = \"10.0.0/8\"\n", None)
            .expect_err("must fail");
        assert!(err.to_string().contains("networks[0].cidr"), "{err}");
        let err = Config::parse("[plugin.x.grants.http]\norigins = [\"ftp://a\"]\n", None)
            .expect_err("must fail");
        assert!(
            err.to_string().contains("plugin.x.grants.http.origins[0]"),
            "{err}"
        );
    }

    #[test]
    fn overrides_match_by_plugin_check_and_account_pattern() {
        let c = Config::parse(
            r#"
[[overrides]]
plugin = "sg"
check = "internet-accessible"
accounts = ["1111*"]
disabled = true
[[overrides]]
plugin = "sg"
score = 3
"#,
            None,
        )
        .expect("parses");
        assert!(
            c.override_for("sg", "internet-accessible", "111122223333")
                .is_some_and(|o| o.disabled)
        );
        assert_eq!(
            c.override_for("sg", "internet-accessible", "999999999999")
                .and_then(|o| o.score),
            Some(3)
        );
        assert_eq!(
            c.override_for("sg", "other", "111122223333")
                .and_then(|o| o.score),
            Some(3)
        );
        assert!(c.override_for("iam", "x", "111122223333").is_none());
        let e = Config::parse("[[overrides]]\nplugin = \"sg\"\n", None).expect_err("no effect");
        assert!(e.to_string().contains("overrides[0]"), "{e}");
        assert!(glob("*", "") && glob("12*34", "1299934") && !glob("12*34", "1235"));
    }

    #[test]
    fn operator_limits_stay_under_the_ceilings_and_manifests_only_lower_them() {
        let e = Config::parse("[plugin.x.limits]\ntimeout_ms = 3600000\n", None)
            .expect_err("over the ceiling");
        assert!(e.to_string().contains("plugin.x.limits.timeout_ms"), "{e}");
        let e = Config::parse("[plugins]\ntimeout_ms = 70000\n", None).expect_err("over");
        assert!(e.to_string().contains("plugins.timeout_ms"), "{e}");
        let e = Config::parse("[plugin.x]\nsha256 = \"abc\"\n", None).expect_err("pin");
        assert!(e.to_string().contains("plugin.x.sha256"), "{e}");
        let e = Config::parse(
            "[plugin.x.grants]\nmail = { recipients = [\"a%b@corp.example\"] }\n",
            None,
        )
        .expect_err("routed address");
        assert!(
            e.to_string().contains("plugin.x.grants.mail.recipients[0]"),
            "{e}"
        );

        let c = Config::parse(
            "[plugins]\ntimeout_ms = 400\nmax_timeout_ms = 1000\n[plugin.y.limits]\ntimeout_ms = 900\nmemory_mib = 16\n",
            None,
        )
        .expect("parses");
        use crate::scopes::Limits as RequestedLimits;
        let greedy = RequestedLimits {
            memory_mib: Some(4096),
            timeout_ms: Some(3_600_000),
            ..Default::default()
        };
        let modest = RequestedLimits {
            memory_mib: Some(8),
            timeout_ms: Some(100),
            ..Default::default()
        };
        let limits = |id: &str, r: &RequestedLimits| {
            let l = c.effective_limits(id, r);
            (l.memory_mib, l.timeout_ms)
        };
        assert_eq!(limits("x", &greedy), (64, 400));
        assert_eq!(limits("x", &modest), (8, 100));
        assert_eq!(limits("y", &greedy), (16, 900));
        assert_eq!(limits("y", &RequestedLimits::default()), (16, 900));
    }

    #[test]
    fn plugin_sections_parse() {
        let c = Config::parse(
            r#"
[plugin.hr.settings]
roster = ["alice", "bob"]
[plugin.hr.grants]
accounts = true
items = { resource_types = ["AWS::IAM::User"] }
http = { origins = ["https://hr.example.com"] }
[plugin.hr.limits]
memory_mib = 32
"#,
            None,
        )
        .expect("parses");
        let op = c.operator("hr");
        assert!(op.grants.accounts);
        assert_eq!(op.limits.memory_mib, Some(32));
        assert!(op.settings.contains_key("roster"));
        assert!(!c.operator("other").grants.accounts);
        // Unmentioned plugins are enabled with nothing granted.
        assert!(c.operator("other").enabled);
    }
}
