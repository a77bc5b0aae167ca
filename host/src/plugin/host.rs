//! The host side of the plugin imports, whatever the contract version: what a plugin's `log`,
//! `settings`, `accounts`, `items`, `http` and `mail` calls do, in host types (`wit` maps each
//! released contract's functions onto these).
//!
//! Every call re-checks the plugin's effective grant and answers a denial with an error value,
//! never a trap. It must never hold state between calls beyond the one store it serves.

use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::budget::HostCall;
use super::contract::LogLevel;
use super::grants::{Capability, Grants};
use super::output::CapturedOutput;
use crate::accounts::Classification;
use crate::item::Item;
use crate::services::items::ItemSource;
use crate::services::{HostError, HostServices, egress, mail as relay};

/// What one loaded plugin may reach; shared by all its instances.
pub struct PluginContext {
    pub id: String,
    pub grants: Grants,
    /// Capabilities it imports without declaring them: linked, but every call is denied.
    pub undeclared: Vec<Capability>,
    pub settings: serde_json::Map<String, serde_json::Value>,
    pub services: Arc<HostServices>,
    /// What it may spend per window; its `http` and `mail` calls are refused once spent.
    pub budget: crate::config::EffectiveBudget,
    /// Where its host calls are counted (shared with the plugin's other instances).
    pub counters: Arc<super::loaded::Counters>,
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

    /// Count a host call; http and mail are refused once their budget is spent this window.
    fn take(&self, call: HostCall) -> Result<(), HostError> {
        self.plugin
            .counters
            .usage
            .take_host_call(&self.plugin.budget, crate::store::now_ms(), call)
            .map_err(|pause| HostError::Denied(pause.to_string()))
    }

    fn require(&self, cap: Capability) -> Result<(), HostError> {
        if self.plugin.grants.has(cap) {
            Ok(())
        } else {
            Err(self.denial(cap))
        }
    }

    /// Why `cap` is refused, naming who adds it: the author declares, the operator grants.
    fn denial(&self, cap: Capability) -> HostError {
        let id = &self.plugin.id;
        HostError::Denied(if self.plugin.undeclared.contains(&cap) {
            format!(
                "capability `{cap}` is not declared by plugin `{id}`: declare it under [capabilities] in its plugin.toml ({}) and have the operator grant it in simian.toml ({})",
                cap.declare_hint(),
                cap.grant_hint(id)
            )
        } else {
            format!(
                "capability `{cap}` is not granted to plugin `{id}`; to grant it add to simian.toml: {}",
                cap.grant_hint(id)
            )
        })
    }

    /// `log`: one record, within the call's budget, escaped.
    pub fn log_record(&mut self, level: LogLevel, message: &str) {
        let plugin = self.plugin.id.as_str();
        let message = crate::text::truncate(message, LOG_RECORD_BYTES);
        if !self.log_budget.take(message.len()) {
            return;
        }
        // Escaped: a newline or escape sequence must not forge a host log line.
        let message = crate::text::for_log(message);
        match level {
            LogLevel::Trace => tracing::trace!(plugin, "{message}"),
            LogLevel::Debug => tracing::debug!(plugin, "{message}"),
            LogLevel::Info => tracing::info!(plugin, "{message}"),
            LogLevel::Warn => tracing::warn!(plugin, "{message}"),
            LogLevel::Error => tracing::error!(plugin, "{message}"),
        }
    }

    /// `settings.get`: one setting as JSON text.
    pub fn setting(&self, key: &str) -> Option<String> {
        self.plugin.settings.get(key).map(|v| v.to_string())
    }

    /// `settings.all`: every setting as one JSON object.
    pub fn all_settings(&self) -> String {
        serde_json::Value::Object(self.plugin.settings.clone()).to_string()
    }

    pub fn classify_account(
        &self,
        own: &str,
        account_id: &str,
    ) -> Result<Classification, HostError> {
        self.require(Capability::Accounts)?;
        self.take(HostCall::Accounts)?;
        Ok(self
            .plugin
            .services
            .accounts
            .load()
            .classify_account(own, account_id))
    }

    pub fn classify_arn(&self, own: &str, arn: &str) -> Result<Classification, HostError> {
        self.require(Capability::Accounts)?;
        self.take(HostCall::Accounts)?;
        self.plugin
            .services
            .accounts
            .load()
            .classify_arn(own, arn)
            .map_err(|e| HostError::Invalid(e.to_string()))
    }

    pub fn classify_cidr(&self, own: &str, cidr: &str) -> Result<Classification, HostError> {
        self.require(Capability::Accounts)?;
        self.take(HostCall::Accounts)?;
        self.plugin
            .services
            .accounts
            .load()
            .classify_cidr(own, cidr)
            .map_err(|e| HostError::Invalid(e.to_string()))
    }

    pub fn classify_canonical_id(
        &self,
        own: &str,
        canonical_id: &str,
    ) -> Result<Classification, HostError> {
        self.require(Capability::Accounts)?;
        self.take(HostCall::Accounts)?;
        Ok(self
            .plugin
            .services
            .accounts
            .load()
            .classify_canonical_id(own, canonical_id))
    }

    /// `items.get-by-arn`. An item of a type the plugin may not read answers exactly like an
    /// unknown ARN: a denial would reveal that the resource exists, and its type.
    pub async fn item_by_arn(&mut self, arn: &str) -> Result<Option<Item>, HostError> {
        self.require(Capability::Items)?;
        self.take(HostCall::Items)?;
        let found = self
            .items
            .get_by_arn(arn)
            .await
            .map_err(HostError::Failed)?;
        Ok(found.filter(|item| self.plugin.grants.check_items(&item.resource_type).is_ok()))
    }

    pub async fn item(
        &mut self,
        account_id: &str,
        region: &str,
        resource_type: &str,
        resource_id: &str,
    ) -> Result<Option<Item>, HostError> {
        self.require(Capability::Items)?;
        self.plugin
            .grants
            .check_items(resource_type)
            .map_err(HostError::Denied)?;
        self.take(HostCall::Items)?;
        self.items
            .get(account_id, region, resource_type, resource_id)
            .await
            .map_err(HostError::Failed)
    }

    pub async fn items(
        &mut self,
        resource_type: &str,
        account_id: Option<&str>,
        offset: u32,
        limit: u32,
    ) -> Result<Vec<Item>, HostError> {
        self.require(Capability::Items)?;
        self.plugin
            .grants
            .check_items(resource_type)
            .map_err(HostError::Denied)?;
        self.take(HostCall::Items)?;
        self.items
            .list(resource_type, account_id, offset, limit)
            .await
            .map_err(HostError::Failed)
    }

    pub async fn http_send(
        &mut self,
        req: egress::HttpRequest,
    ) -> Result<egress::HttpResponse, HostError> {
        let plugin = self.plugin.clone();
        let Some(scope) = &plugin.grants.http else {
            return Err(self.denial(Capability::Http));
        };
        self.take(HostCall::Http)?;
        let result = egress::send(scope, &plugin.services.http, req).await;
        if let Err(e) = &result {
            // The URL is the plugin's and may carry a secret (a webhook path): errors name the
            // origin only.
            tracing::info!(plugin = %plugin.id, "http call refused or failed: {}", crate::text::for_log(&e.to_string()));
        }
        result
    }

    pub async fn mail_send(
        &mut self,
        to: &[String],
        subject: &str,
        text: &str,
        html: Option<&str>,
    ) -> Result<(), HostError> {
        self.require(Capability::Mail)?;
        let to = to
            .iter()
            .map(|to| self.plugin.grants.check_recipient(to))
            .collect::<Result<Vec<String>, String>>()
            .map_err(HostError::Denied)?;
        self.take(HostCall::Mail)?;
        let plugin = self.plugin.clone();
        let Some(relay) = &plugin.services.mail else {
            return Err(HostError::Failed(
                "the host has no SMTP relay configured ([smtp] in simian.toml)".into(),
            ));
        };
        relay
            .send(relay::OutgoingMail {
                plugin_id: &plugin.id,
                to: &to,
                subject,
                text,
                html,
            })
            .await
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
