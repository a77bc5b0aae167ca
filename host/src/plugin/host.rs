//! The host side of the WIT imports: what a plugin's `log`, `settings`, `accounts`, `items`,
//! `http` and `mail` calls do.
//!
//! Every call re-checks the plugin's effective grant and answers a denial with a `host-error`
//! value, never a trap. It must never hold state between calls beyond the one store it serves.

use std::sync::Arc;
use std::time::Duration;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::bindings::v0_1_0::{accounts, http, items, log, mail, settings, types};
use super::grants::{Capability, Grants};
use super::output::CapturedOutput;
use crate::accounts::{Classification, Relation};
use crate::item::Item;
use crate::services::items::ItemSource;
use crate::services::{HostError, HostServices, egress, mail as relay};

/// What one loaded plugin may reach; shared by all its instances.
pub struct PluginContext {
    pub id: String,
    pub grants: Grants,
    pub settings: serde_json::Map<String, serde_json::Value>,
    pub services: Arc<HostServices>,
}

/// Tracks memory against the plugin's cap, remembering the peak and any refused growth so a
/// later trap can be named for what it was.
pub struct MemoryLimiter {
    pub cap: usize,
    pub peak: usize,
    pub refused: Option<usize>,
}

impl wasmtime::ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.cap {
            self.refused = Some(desired);
            return Ok(false);
        }
        self.peak = self.peak.max(desired);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 1_000_000)
    }
}

/// The data of one plugin store.
pub struct HostState {
    pub wasi: WasiCtx,
    pub table: ResourceTable,
    pub limiter: MemoryLimiter,
    pub plugin: Arc<PluginContext>,
    /// Where `items` lookups go for this call.
    pub items: Arc<dyn ItemSource>,
    pub stdout: CapturedOutput,
    pub stderr: CapturedOutput,
    /// Epoch ticks left before the call is out of time.
    pub ticks_left: u64,
    pub log_budget: LogBudget,
}

/// How much one call may write through the `log` interface; the rest is counted and summarised
/// once when the call ends.
#[derive(Debug)]
pub struct LogBudget {
    pub records_left: u32,
    pub bytes_left: usize,
    pub suppressed: u64,
}

/// Records and bytes one call may log.
pub const LOG_RECORDS_PER_CALL: u32 = 256;
pub const LOG_BYTES_PER_CALL: usize = 64 * 1024;
/// Longest single log record; longer ones are cut.
const LOG_RECORD_BYTES: usize = 8192;

impl LogBudget {
    fn new() -> LogBudget {
        LogBudget {
            records_left: LOG_RECORDS_PER_CALL,
            bytes_left: LOG_BYTES_PER_CALL,
            suppressed: 0,
        }
    }

    /// Whether a record of `len` bytes may still be written.
    fn take(&mut self, len: usize) -> bool {
        if self.records_left == 0 || self.bytes_left < len {
            self.suppressed += 1;
            // Once over, stay over: a later short record must not slip between long ones.
            self.records_left = 0;
            return false;
        }
        self.records_left -= 1;
        self.bytes_left -= len;
        true
    }
}

/// Raised from the epoch callback when a call runs out of time.
#[derive(Debug, thiserror::Error)]
#[error("deadline exceeded")]
pub struct DeadlineExceeded;

/// Captured output per stream beyond which bytes are dropped.
const OUTPUT_CAP: usize = 64 * 1024;

impl HostState {
    pub fn new(
        plugin: Arc<PluginContext>,
        items: Arc<dyn ItemSource>,
        memory_cap: usize,
        ticks: u64,
    ) -> HostState {
        let stdout = CapturedOutput::new(OUTPUT_CAP);
        let stderr = CapturedOutput::new(OUTPUT_CAP);
        // Deny everything: no env, args, sockets or name lookups; files only in the directories
        // the operator granted, read-only.
        let mut builder = WasiCtx::builder();
        builder
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false);
        for dir in &plugin.grants.files {
            let guest = dir.to_string_lossy();
            if let Err(e) =
                builder.preopened_dir(dir, guest.as_ref(), wasmtime_wasi::FsPerms::ReadOnly)
            {
                tracing::warn!(plugin = %plugin.id, dir = %dir.display(), "granted directory not available: {e}");
            }
        }
        let wasi = builder.build();
        HostState {
            wasi,
            table: ResourceTable::new(),
            limiter: MemoryLimiter {
                cap: memory_cap,
                peak: 0,
                refused: None,
            },
            plugin,
            items,
            stdout,
            stderr,
            ticks_left: ticks,
            log_budget: LogBudget::new(),
        }
    }

    fn require(&self, cap: Capability) -> Result<(), types::HostError> {
        if self.plugin.grants.has(cap) {
            Ok(())
        } else {
            Err(types::HostError::Denied(format!(
                "capability `{cap}` is not granted to plugin `{}`",
                self.plugin.id
            )))
        }
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

fn wit_error(e: HostError) -> types::HostError {
    match e {
        HostError::Denied(m) => types::HostError::Denied(m),
        HostError::Invalid(m) => types::HostError::Invalid(m),
        HostError::Timeout => types::HostError::Timeout,
        HostError::TooLarge(m) => types::HostError::TooLarge(m),
        HostError::Failed(m) => types::HostError::Failed(m),
    }
}

pub fn item_to_wit(item: &Item) -> types::Item {
    types::Item {
        resource_type: item.resource_type.clone(),
        resource_id: item.resource_id.clone(),
        resource_name: item.resource_name.clone(),
        arn: item.arn.clone(),
        account_id: item.account_id.clone(),
        region: item.region.clone(),
        capture_time: item.capture_time.clone(),
        configuration: item.configuration.clone(),
        supplementary_configuration: item.supplementary_configuration.clone(),
        tags: item
            .tags
            .iter()
            .map(|(k, v)| types::Tag {
                key: k.clone(),
                value: v.clone(),
            })
            .collect(),
    }
}

fn classification(c: Classification) -> accounts::Classification {
    accounts::Classification {
        relation: match c.relation {
            Relation::Same => accounts::Relation::Same,
            Relation::Friendly => accounts::Relation::Friendly,
            Relation::ThirdParty => accounts::Relation::ThirdParty,
            Relation::Unknown => accounts::Relation::Unknown,
        },
        account_id: c.account_id,
        name: c.name,
    }
}

impl types::Host for HostState {}

impl log::Host for HostState {
    async fn log(&mut self, level: log::Level, message: String) {
        let plugin = self.plugin.id.as_str();
        let message = crate::text::truncate(&message, LOG_RECORD_BYTES);
        if !self.log_budget.take(message.len()) {
            return;
        }
        // Escaped: a newline or escape sequence must not forge a host log line.
        let message = crate::text::for_log(message);
        match level {
            log::Level::Trace => tracing::trace!(plugin, "{message}"),
            log::Level::Debug => tracing::debug!(plugin, "{message}"),
            log::Level::Info => tracing::info!(plugin, "{message}"),
            log::Level::Warn => tracing::warn!(plugin, "{message}"),
            log::Level::Error => tracing::error!(plugin, "{message}"),
        }
    }
}

impl settings::Host for HostState {
    async fn get(&mut self, key: String) -> Option<String> {
        self.plugin.settings.get(&key).map(|v| v.to_string())
    }

    async fn all(&mut self) -> String {
        serde_json::Value::Object(self.plugin.settings.clone()).to_string()
    }
}

impl accounts::Host for HostState {
    async fn classify_account(
        &mut self,
        own_account: String,
        account_id: String,
    ) -> Result<accounts::Classification, types::HostError> {
        self.require(Capability::Accounts)?;
        let book = self.plugin.services.accounts.load();
        Ok(classification(
            book.classify_account(&own_account, &account_id),
        ))
    }

    async fn classify_arn(
        &mut self,
        own_account: String,
        arn: String,
    ) -> Result<accounts::Classification, types::HostError> {
        self.require(Capability::Accounts)?;
        let book = self.plugin.services.accounts.load();
        book.classify_arn(&own_account, &arn)
            .map(classification)
            .map_err(types::HostError::Invalid)
    }

    async fn classify_cidr(
        &mut self,
        own_account: String,
        cidr: String,
    ) -> Result<accounts::Classification, types::HostError> {
        self.require(Capability::Accounts)?;
        let book = self.plugin.services.accounts.load();
        book.classify_cidr(&own_account, &cidr)
            .map(classification)
            .map_err(types::HostError::Invalid)
    }

    async fn classify_canonical_id(
        &mut self,
        own_account: String,
        canonical_id: String,
    ) -> Result<accounts::Classification, types::HostError> {
        self.require(Capability::Accounts)?;
        let book = self.plugin.services.accounts.load();
        Ok(classification(
            book.classify_canonical_id(&own_account, &canonical_id),
        ))
    }
}

impl items::Host for HostState {
    async fn get_by_arn(&mut self, arn: String) -> Result<Option<types::Item>, types::HostError> {
        self.require(Capability::Items)?;
        let found = self
            .items
            .get_by_arn(&arn)
            .await
            .map_err(types::HostError::Failed)?;
        // An item of a type the plugin may not read answers exactly like an unknown ARN: a
        // denial would reveal that the resource exists, and its type.
        Ok(found
            .filter(|item| self.plugin.grants.check_items(&item.resource_type).is_ok())
            .map(|item| item_to_wit(&item)))
    }

    async fn get(
        &mut self,
        account_id: String,
        region: String,
        resource_type: String,
        resource_id: String,
    ) -> Result<Option<types::Item>, types::HostError> {
        self.plugin
            .grants
            .check_items(&resource_type)
            .map_err(types::HostError::Denied)?;
        self.items
            .get(&account_id, &region, &resource_type, &resource_id)
            .await
            .map(|o| o.as_ref().map(item_to_wit))
            .map_err(types::HostError::Failed)
    }

    async fn list(
        &mut self,
        resource_type: String,
        account_id: Option<String>,
        offset: u32,
        limit: u32,
    ) -> Result<Vec<types::Item>, types::HostError> {
        self.plugin
            .grants
            .check_items(&resource_type)
            .map_err(types::HostError::Denied)?;
        self.items
            .list(&resource_type, account_id.as_deref(), offset, limit)
            .await
            .map(|list| list.iter().map(item_to_wit).collect())
            .map_err(types::HostError::Failed)
    }
}

impl http::Host for HostState {
    async fn send(&mut self, request: http::Request) -> Result<http::Response, types::HostError> {
        self.require(Capability::Http)?;
        let plugin = self.plugin.clone();
        let req = egress::HttpRequest {
            method: request.method,
            url: request.url,
            headers: request
                .headers
                .into_iter()
                .map(|h| (h.name, h.value))
                .collect(),
            body: request.body,
            timeout: request
                .timeout_ms
                .map(|ms| Duration::from_millis(ms.into())),
        };
        let result = egress::send(&plugin.grants, &plugin.services.http, req).await;
        if let Err(e) = &result {
            // The URL is the plugin's and may carry a secret (a webhook path): errors name the
            // origin only.
            tracing::info!(plugin = %plugin.id, "http call refused or failed: {}", crate::text::for_log(&e.to_string()));
        }
        result
            .map(|r| http::Response {
                status: r.status,
                headers: r
                    .headers
                    .into_iter()
                    .map(|(name, value)| http::Header { name, value })
                    .collect(),
                body: r.body,
            })
            .map_err(wit_error)
    }
}

impl mail::Host for HostState {
    async fn send(&mut self, message: mail::Message) -> Result<(), types::HostError> {
        self.require(Capability::Mail)?;
        let to = message
            .to
            .iter()
            .map(|to| self.plugin.grants.check_recipient(to))
            .collect::<Result<Vec<String>, String>>()
            .map_err(types::HostError::Denied)?;
        let plugin = self.plugin.clone();
        let Some(relay) = &plugin.services.mail else {
            return Err(types::HostError::Failed(
                "the host has no SMTP relay configured ([smtp] in simian.toml)".into(),
            ));
        };
        relay
            .send(relay::OutgoingMail {
                plugin_id: &plugin.id,
                to: &to,
                subject: &message.subject,
                text: &message.text,
                html: message.html.as_deref(),
            })
            .await
            .map_err(wit_error)
    }
}
