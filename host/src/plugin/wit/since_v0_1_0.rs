//! Contract `simian:plugin@0.1.0` (released, frozen): its generated bindings, the host's
//! imports for it (each delegating to the version-independent operations on `HostState`),
//! and conversions between its types and the host's.
//!
//! The notifier world reuses the auditor world's interface modules so one set of host trait
//! implementations serves both.

use std::time::Duration;

use wasmtime::Store;
use wasmtime::component::{HasSelf, InstancePre, Linker};

use crate::accounts::{Classification, Relation};
use crate::item::Item;
use crate::plugin::contract::{self, CheckInfo, LogLevel, PluginInfo};
use crate::plugin::host::HostState;
use crate::plugin::manifest::PluginKind;
use crate::services::{HostError, egress};

pub const VERSION: &str = "0.1.0";

pub mod auditor {
    wasmtime::component::bindgen!({
        path: "../wit/since_v0.1.0",
        world: "auditor",
        imports: { default: async },
        exports: { default: async },
    });
}

pub mod notifier {
    wasmtime::component::bindgen!({
        path: "../wit/since_v0.1.0",
        world: "notifier",
        imports: { default: async },
        exports: { default: async },
        with: {
            "simian:plugin/types": super::auditor::simian::plugin::types,
            "simian:plugin/log": super::auditor::simian::plugin::log,
            "simian:plugin/settings": super::auditor::simian::plugin::settings,
            "simian:plugin/accounts": super::auditor::simian::plugin::accounts,
            "simian:plugin/items": super::auditor::simian::plugin::items,
            "simian:plugin/http": super::auditor::simian::plugin::http,
            "simian:plugin/mail": super::auditor::simian::plugin::mail,
        },
    });
}

use auditor::simian::plugin::{accounts, http, items, log, mail, settings, types};

pub fn add_to_linker(linker: &mut Linker<HostState>, kind: PluginKind) -> anyhow::Result<()> {
    match kind {
        PluginKind::Auditor => {
            auditor::Auditor::add_to_linker::<HostState, HasSelf<HostState>>(linker, |s| s)
        }
        PluginKind::Notifier => {
            notifier::Notifier::add_to_linker::<HostState, HasSelf<HostState>>(linker, |s| s)
        }
    }
    .map_err(|e| anyhow::anyhow!("linking the {kind} world of contract {VERSION}: {e}"))
}

pub enum Pre {
    Auditor(auditor::AuditorPre<HostState>),
    Notifier(notifier::NotifierPre<HostState>),
}

impl Pre {
    pub fn new(kind: PluginKind, pre: InstancePre<HostState>) -> Result<Pre, String> {
        match kind {
            PluginKind::Auditor => auditor::AuditorPre::new(pre)
                .map(Pre::Auditor)
                .map_err(|e| format!("does not match the auditor world: {e:#}")),
            PluginKind::Notifier => notifier::NotifierPre::new(pre)
                .map(Pre::Notifier)
                .map_err(|e| format!("does not match the notifier world: {e:#}")),
        }
    }

    pub async fn describe(&self, store: &mut Store<HostState>) -> wasmtime::Result<PluginInfo> {
        let info = match self {
            Pre::Auditor(pre) => {
                let i = pre.instantiate_async(&mut *store).await?;
                i.call_describe(&mut *store).await?
            }
            Pre::Notifier(pre) => {
                let i = pre.instantiate_async(&mut *store).await?;
                i.call_describe(&mut *store).await?
            }
        };
        Ok(info.into())
    }

    pub async fn audit(
        &self,
        store: &mut Store<HostState>,
        batch: &[&Item],
    ) -> wasmtime::Result<Vec<Result<Vec<contract::Issue>, String>>> {
        let Pre::Auditor(pre) = self else {
            return Err(wasmtime::format_err!("a notifier cannot audit"));
        };
        let items: Vec<types::Item> = batch.iter().map(|i| item_to_wit(i)).collect();
        let i = pre.instantiate_async(&mut *store).await?;
        let results = i.call_audit(&mut *store, &items).await?;
        Ok(results
            .into_iter()
            .map(|r| r.map(|issues| issues.into_iter().map(Into::into).collect()))
            .collect())
    }

    pub async fn notify(
        &self,
        store: &mut Store<HostState>,
        changes: &[contract::Change],
    ) -> wasmtime::Result<Result<(), String>> {
        let Pre::Notifier(pre) = self else {
            return Err(wasmtime::format_err!("an auditor cannot notify"));
        };
        let changes: Vec<types::Change> = changes.iter().map(change_to_wit).collect();
        let i = pre.instantiate_async(&mut *store).await?;
        i.call_notify(&mut *store, &changes).await
    }
}

impl From<types::PluginInfo> for PluginInfo {
    fn from(p: types::PluginInfo) -> Self {
        PluginInfo {
            id: p.id,
            version: p.version,
            kind: match p.kind {
                types::PluginKind::Auditor => PluginKind::Auditor,
                types::PluginKind::Notifier => PluginKind::Notifier,
            },
            description: p.description,
            resource_types: p.resource_types,
            checks: p
                .checks
                .into_iter()
                .map(|c| CheckInfo {
                    id: c.id,
                    title: c.title,
                    score: c.score,
                    description: c.description,
                })
                .collect(),
        }
    }
}

impl From<types::Issue> for contract::Issue {
    fn from(i: types::Issue) -> Self {
        contract::Issue {
            check_id: i.check_id,
            title: i.title,
            score: i.score,
            notes: i.notes,
            remediation: i.remediation,
        }
    }
}

fn issue_to_wit(i: &contract::Issue) -> types::Issue {
    types::Issue {
        check_id: i.check_id.clone(),
        title: i.title.clone(),
        score: i.score,
        notes: i.notes.clone(),
        remediation: i.remediation.clone(),
    }
}

fn change_to_wit(c: &contract::Change) -> types::Change {
    let issues = |list: &[contract::Issue]| list.iter().map(issue_to_wit).collect();
    types::Change {
        kind: match c.kind {
            contract::ChangeKind::Created => types::ChangeKind::Created,
            contract::ChangeKind::Modified => types::ChangeKind::Modified,
            contract::ChangeKind::Deleted => types::ChangeKind::Deleted,
        },
        item: with_actor(item_to_wit(&c.item), c.actor.as_ref()),
        previous_configuration: c.previous_configuration.clone(),
        new_issues: issues(&c.new_issues),
        regressed_issues: issues(&c.regressed_issues),
        fixed_issues: issues(&c.fixed_issues),
        still_open_issues: issues(&c.still_open_issues),
    }
}

/// 0.1.0's `change` has no actor field: the actor rides in the item's supplementary
/// configuration under `simian:changedBy` (documented in docs/plugins.md; the SDK's
/// `Change::actor` reads it back), added for notifiers only, never for auditors.
fn with_actor(mut item: types::Item, actor: Option<&simian_model::actor::Actor>) -> types::Item {
    let Some(actor) = actor else {
        return item;
    };
    let mut supplementary: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&item.supplementary_configuration).unwrap_or_default();
    if let Ok(value) = serde_json::to_value(actor) {
        supplementary.insert(simian_model::actor::SUPPLEMENTARY_KEY.to_string(), value);
    }
    item.supplementary_configuration = serde_json::Value::Object(supplementary).to_string();
    item
}

fn item_to_wit(item: &Item) -> types::Item {
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

fn wit_error(e: HostError) -> types::HostError {
    match e {
        HostError::Denied(m) => types::HostError::Denied(m),
        HostError::Invalid(m) => types::HostError::Invalid(m),
        HostError::Timeout => types::HostError::Timeout,
        HostError::TooLarge(m) => types::HostError::TooLarge(m),
        HostError::Failed(m) => types::HostError::Failed(m),
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
        let level = match level {
            log::Level::Trace => LogLevel::Trace,
            log::Level::Debug => LogLevel::Debug,
            log::Level::Info => LogLevel::Info,
            log::Level::Warn => LogLevel::Warn,
            log::Level::Error => LogLevel::Error,
        };
        self.log_record(level, &message);
    }
}

impl settings::Host for HostState {
    async fn get(&mut self, key: String) -> Option<String> {
        self.setting(&key)
    }

    async fn all(&mut self) -> String {
        self.all_settings()
    }
}

impl accounts::Host for HostState {
    async fn classify_account(
        &mut self,
        own_account: String,
        account_id: String,
    ) -> Result<accounts::Classification, types::HostError> {
        HostState::classify_account(self, &own_account, &account_id)
            .map(classification)
            .map_err(wit_error)
    }

    async fn classify_arn(
        &mut self,
        own_account: String,
        arn: String,
    ) -> Result<accounts::Classification, types::HostError> {
        HostState::classify_arn(self, &own_account, &arn)
            .map(classification)
            .map_err(wit_error)
    }

    async fn classify_cidr(
        &mut self,
        own_account: String,
        cidr: String,
    ) -> Result<accounts::Classification, types::HostError> {
        HostState::classify_cidr(self, &own_account, &cidr)
            .map(classification)
            .map_err(wit_error)
    }

    async fn classify_canonical_id(
        &mut self,
        own_account: String,
        canonical_id: String,
    ) -> Result<accounts::Classification, types::HostError> {
        HostState::classify_canonical_id(self, &own_account, &canonical_id)
            .map(classification)
            .map_err(wit_error)
    }
}

impl items::Host for HostState {
    async fn get_by_arn(&mut self, arn: String) -> Result<Option<types::Item>, types::HostError> {
        self.item_by_arn(&arn)
            .await
            .map(|found| found.as_ref().map(item_to_wit))
            .map_err(wit_error)
    }

    async fn get(
        &mut self,
        account_id: String,
        region: String,
        resource_type: String,
        resource_id: String,
    ) -> Result<Option<types::Item>, types::HostError> {
        self.item(&account_id, &region, &resource_type, &resource_id)
            .await
            .map(|found| found.as_ref().map(item_to_wit))
            .map_err(wit_error)
    }

    async fn list(
        &mut self,
        resource_type: String,
        account_id: Option<String>,
        offset: u32,
        limit: u32,
    ) -> Result<Vec<types::Item>, types::HostError> {
        self.items(&resource_type, account_id.as_deref(), offset, limit)
            .await
            .map(|list| list.iter().map(item_to_wit).collect())
            .map_err(wit_error)
    }
}

impl http::Host for HostState {
    async fn send(&mut self, request: http::Request) -> Result<http::Response, types::HostError> {
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
        self.http_send(req)
            .await
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
        self.mail_send(
            &message.to,
            &message.subject,
            &message.text,
            message.html.as_deref(),
        )
        .await
        .map_err(wit_error)
    }
}
