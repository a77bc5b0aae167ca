//! The file as written (`Raw*`, what serde reads) and one step per section that checks it and
//! turns it into the typed configuration, naming the field that failed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{
    AccountConfig, AwsConfig, FilesGrant, GrantsConfig, HttpGrant, ItemsGrant, Limits, MailGrant,
    NetworkConfig, NotifyConfig, Origin, Override, PluginOperatorConfig, PluginsConfig, SmtpConfig,
    StorageConfig, WatchConfig, WebConfig, yes,
};
use crate::scopes::{check_recipient_pattern, is_plugin_id};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    pub(super) data_dir: Option<PathBuf>,
    #[serde(default)]
    pub(super) storage: RawStorage,
    #[serde(default)]
    pub(super) plugins: RawPlugins,
    #[serde(default)]
    pub(super) accounts: Vec<AccountConfig>,
    #[serde(default)]
    pub(super) networks: Vec<RawNetwork>,
    pub(super) smtp: Option<SmtpConfig>,
    #[serde(default)]
    pub(super) plugin: BTreeMap<String, RawPluginOperator>,
    #[serde(default)]
    pub(super) aws: AwsConfig,
    #[serde(default)]
    pub(super) watch: WatchConfig,
    #[serde(default)]
    pub(super) overrides: Vec<Override>,
    #[serde(default)]
    pub(super) notify: NotifyConfig,
    pub(super) web: Option<RawWeb>,
    #[serde(default)]
    pub(super) events: super::EventsConfig,
    #[serde(default)]
    pub(super) drill: super::DrillConfig,
    #[serde(default)]
    pub(super) monitor: super::MonitorConfig,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWeb {
    pub(super) listen: String,
    pub(super) tls_cert: Option<PathBuf>,
    pub(super) tls_key: Option<PathBuf>,
    pub(super) auth_header: Option<String>,
    #[serde(default)]
    pub(super) trusted_proxies: Vec<String>,
    pub(super) session_hours: Option<u32>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStorage {
    pub(super) url: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPlugins {
    pub(super) dir: Option<PathBuf>,
    pub(super) memory_mib: Option<u32>,
    pub(super) max_memory_mib: Option<u32>,
    pub(super) timeout_ms: Option<u64>,
    pub(super) max_timeout_ms: Option<u64>,
    pub(super) max_instances: Option<u32>,
    pub(super) batch_size: Option<usize>,
    pub(super) max_file_mib: Option<u32>,
    pub(super) reaudit_minutes: Option<u64>,
    pub(super) budget_window_seconds: Option<u64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNetwork {
    pub(super) name: String,
    pub(super) cidr: String,
    pub(super) account: Option<String>,
}

/// What the operator says about one plugin, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPluginOperator {
    #[serde(default = "yes")]
    pub(super) enabled: bool,
    pub(super) sha256: Option<String>,
    #[serde(default)]
    pub(super) settings: toml::Table,
    #[serde(default)]
    pub(super) grants: RawGrants,
    #[serde(default)]
    pub(super) limits: Limits,
    pub(super) reaudit_minutes: Option<u64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGrants {
    #[serde(default)]
    pub(super) accounts: bool,
    pub(super) items: Option<ItemsGrant>,
    pub(super) http: Option<RawHttpGrant>,
    pub(super) mail: Option<MailGrant>,
    pub(super) files: Option<FilesGrant>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHttpGrant {
    pub(super) origins: Vec<String>,
    #[serde(default)]
    pub(super) private_networks: Vec<String>,
}

/// `[web]`: where the console listens, TLS, and trusted-header auth only from named proxies.
pub(super) fn web_section(
    raw: RawWeb,
    resolve: &dyn Fn(PathBuf) -> PathBuf,
) -> Result<WebConfig, (&'static str, String)> {
    let listen = raw.listen.parse().map_err(|e| {
        (
            "web.listen",
            format!("`{}` is not an address:port ({e})", raw.listen),
        )
    })?;
    let tls = match (raw.tls_cert, raw.tls_key) {
        (Some(cert), Some(key)) => Some((resolve(cert), resolve(key))),
        (None, None) => None,
        (Some(_), None) => return Err(("web.tls_key", "is required with `tls_cert`".into())),
        (None, Some(_)) => return Err(("web.tls_cert", "is required with `tls_key`".into())),
    };
    let trusted_proxies = raw
        .trusted_proxies
        .iter()
        .map(|p| {
            p.parse::<ipnet::IpNet>()
                .or_else(|_| p.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| {
                    (
                        "web.trusted_proxies",
                        format!("`{p}` is neither an address nor a CIDR"),
                    )
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(header) = &raw.auth_header {
        if header.parse::<http::HeaderName>().is_err() {
            return Err((
                "web.auth_header",
                format!("`{header}` is not a header name"),
            ));
        }
        if trusted_proxies.is_empty() {
            return Err((
                "web.trusted_proxies",
                "must name the proxies `auth_header` is accepted from".into(),
            ));
        }
    }
    let session_hours = raw.session_hours.unwrap_or(12);
    if !(1..=24 * 30).contains(&session_hours) {
        return Err(("web.session_hours", "must be between 1 and 720".into()));
    }
    Ok(WebConfig {
        listen,
        tls,
        auth_header: raw.auth_header.map(|h| h.to_ascii_lowercase()),
        trusted_proxies,
        session_hours,
    })
}

/// A field that failed, and why: the caller adds the file.
pub(super) type FieldError = (String, String);

pub(super) fn storage_section(
    raw: RawStorage,
    data_dir: &Path,
) -> Result<StorageConfig, (&'static str, String)> {
    let url = match raw.url {
        Some(url) => {
            if !(url.starts_with("sqlite:")
                || url.starts_with("postgres://")
                || url.starts_with("postgresql://"))
            {
                return Err((
                    "storage.url",
                    format!("`{url}` is neither sqlite:… nor postgres://…"),
                ));
            }
            url
        }
        None => format!("sqlite://{}", data_dir.join("simian.db").display()),
    };
    Ok(StorageConfig { url })
}

pub(super) fn plugins_section(
    raw: RawPlugins,
    resolve: &dyn Fn(PathBuf) -> PathBuf,
) -> Result<PluginsConfig, (&'static str, String)> {
    let memory_mib = raw.memory_mib.unwrap_or(64);
    let max_memory_mib = raw.max_memory_mib.unwrap_or(512);
    if memory_mib == 0 || memory_mib > max_memory_mib {
        return Err((
            "plugins.memory_mib",
            format!("{memory_mib} must be between 1 and plugins.max_memory_mib ({max_memory_mib})"),
        ));
    }
    if max_memory_mib > 4096 {
        return Err((
            "plugins.max_memory_mib",
            format!("{max_memory_mib} exceeds the 4096 MiB a wasm32 memory can hold"),
        ));
    }
    let max_timeout_ms = raw.max_timeout_ms.unwrap_or(60_000);
    let timeout_ms = raw.timeout_ms.unwrap_or(10_000.min(max_timeout_ms));
    if timeout_ms == 0 || timeout_ms > max_timeout_ms {
        return Err((
            "plugins.timeout_ms",
            format!("{timeout_ms} must be between 1 and plugins.max_timeout_ms ({max_timeout_ms})"),
        ));
    }
    let budget_window_seconds = super::budgets::window_seconds(raw.budget_window_seconds)?;
    let max_file_mib = raw.max_file_mib.unwrap_or(64);
    if max_file_mib == 0 {
        return Err(("plugins.max_file_mib", "must be at least 1".into()));
    }
    Ok(PluginsConfig {
        dir: resolve(raw.dir.unwrap_or_else(|| PathBuf::from("plugins"))),
        memory_mib,
        max_memory_mib,
        timeout_ms,
        max_timeout_ms,
        max_file_bytes: u64::from(max_file_mib) * 1024 * 1024,
        max_instances: raw.max_instances.unwrap_or(64).max(1),
        batch_size: raw.batch_size.unwrap_or(256).max(1),
        budget_window_seconds,
        reaudit_minutes: raw.reaudit_minutes.unwrap_or(DEFAULT_REAUDIT_MINUTES),
    })
}

/// Time-dependent checks (certificate expiry, key age) are judged again daily by default.
const DEFAULT_REAUDIT_MINUTES: u64 = 24 * 60;

pub(super) fn accounts_section(accounts: &[AccountConfig]) -> Result<(), FieldError> {
    let mut seen = std::collections::BTreeSet::new();
    for (i, account) in accounts.iter().enumerate() {
        if account.id.len() != 12 || !account.id.bytes().all(|b| b.is_ascii_digit()) {
            return Err((
                format!("accounts[{i}].id"),
                format!("`{}` is not a 12-digit AWS account id", account.id),
            ));
        }
        if !seen.insert(account.id.clone()) {
            return Err((
                format!("accounts[{i}].id"),
                format!("account {} is listed twice", account.id),
            ));
        }
    }
    Ok(())
}

pub(super) fn networks_section(raw: Vec<RawNetwork>) -> Result<Vec<NetworkConfig>, FieldError> {
    raw.into_iter()
        .enumerate()
        .map(|(i, net)| {
            let cidr = net.cidr.parse::<ipnet::IpNet>().map_err(|e| {
                (
                    format!("networks[{i}].cidr"),
                    format!("`{}`: {e}", net.cidr),
                )
            })?;
            Ok(NetworkConfig {
                name: net.name,
                cidr: cidr.trunc(),
                account: net.account,
            })
        })
        .collect()
}

/// One `[plugin.<id>]` section, its grants parsed (origins, networks, recipients checked).
// Long because it checks each field of a `[plugin.<id>]` section in turn, each with its own
// error naming that field.
pub(super) fn plugin_section(
    id: &str,
    raw: RawPluginOperator,
    plugins: &PluginsConfig,
) -> Result<PluginOperatorConfig, FieldError> {
    let at = |f: &str| format!("plugin.{id}{f}");
    if !is_plugin_id(id) {
        return Err((
            at(""),
            "a plugin id is lowercase letters, digits and dashes, starting with a letter".into(),
        ));
    }
    if let Some(pin) = &raw.sha256
        && (pin.len() != 64 || !pin.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        return Err((
            at(".sha256"),
            format!(
                "`{pin}` is not a SHA-256 digest (64 hex digits); `simian plugin trust <dir>` writes it"
            ),
        ));
    }
    if let Some(ms) = raw.limits.timeout_ms
        && (ms == 0 || ms > plugins.max_timeout_ms)
    {
        return Err((
            at(".limits.timeout_ms"),
            format!(
                "{ms} must be between 1 and plugins.max_timeout_ms ({})",
                plugins.max_timeout_ms
            ),
        ));
    }
    if let Some(mem) = raw.limits.memory_mib
        && (mem == 0 || mem > plugins.max_memory_mib)
    {
        return Err((
            at(".limits.memory_mib"),
            format!(
                "{mem} must be between 1 and plugins.max_memory_mib ({})",
                plugins.max_memory_mib
            ),
        ));
    }
    super::budgets::check_limits(&raw.limits).map_err(|(f, m)| (at(&format!(".limits.{f}")), m))?;
    let g = raw.grants;
    if let Some(files) = &g.files {
        for (j, dir) in files.dirs.iter().enumerate() {
            if !dir.is_absolute() {
                return Err((
                    at(&format!(".grants.files.dirs[{j}]")),
                    format!("`{}` must be an absolute path", dir.display()),
                ));
            }
        }
    }
    if let Some(mail) = &g.mail {
        for (j, r) in mail.recipients.iter().enumerate() {
            check_recipient_pattern(r)
                .map_err(|e| (at(&format!(".grants.mail.recipients[{j}]")), e))?;
        }
    }
    let http = match g.http {
        None => None,
        Some(http) => Some(HttpGrant {
            origins: http
                .origins
                .iter()
                .enumerate()
                .map(|(j, o)| {
                    Origin::parse(o).map_err(|e| (at(&format!(".grants.http.origins[{j}]")), e))
                })
                .collect::<Result<_, _>>()?,
            private_networks: http
                .private_networks
                .iter()
                .enumerate()
                .map(|(j, n)| {
                    n.parse::<ipnet::IpNet>().map_err(|e| {
                        (
                            at(&format!(".grants.http.private_networks[{j}]")),
                            format!("`{n}`: {e}"),
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
        }),
    };
    Ok(PluginOperatorConfig {
        enabled: raw.enabled,
        sha256: raw.sha256,
        settings: raw.settings,
        grants: GrantsConfig {
            accounts: g.accounts,
            items: g.items,
            http,
            mail: g.mail,
            files: g.files,
        },
        limits: raw.limits,
        reaudit_minutes: raw.reaudit_minutes,
    })
}
