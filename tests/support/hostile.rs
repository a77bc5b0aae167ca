//! Shared pieces of the hostile-plugin tests: the misbehaving fixtures deployed under many ids,
//! operator sections for them, an in-process plugin set, and an audit of the two test items.

use std::sync::Arc;
use std::time::{Duration, Instant};

use simian::audit::{AuditReport, audit_items};
use simian::item::Item;
use simian::plugin::PluginSet;
use simian::services::HostServices;
use simian::services::items::{ItemSource, MemoryItems};

use crate::{Env, sg_items, sg_manifest, wasm};

/// Upper bound for any single audit here; every limit in these tests is far smaller.
pub const BOUND: Duration = Duration::from_secs(60);

/// The hostile auditor's manifest under `id`, asking for every capability.
pub fn hostile_manifest(id: &str) -> String {
    format!(
        r#"id = "{id}"
version = "0.1.0"
kind = "auditor"
contract = "0.1.0"
resource_types = ["AWS::EC2::SecurityGroup"]
wasm = "hostile.wasm"
[capabilities]
accounts = true
items = {{ resource_types = ["AWS::EC2::SecurityGroup", "AWS::IAM::User"] }}
http = {{ origins = ["http://127.0.0.1:1", "http://localhost:1", "http://169.254.169.254", "http://203.0.113.9"] }}
mail = {{ recipients = ["sec@example.com"] }}
"#
    )
}

/// The hostile notifier's manifest under `id`.
pub fn hostile_notifier_manifest(id: &str) -> String {
    format!(
        "id = \"{id}\"\nversion = \"0.1.0\"\nkind = \"notifier\"\ncontract = \"0.1.0\"\nwasm = \"hostile-notifier.wasm\"\n[capabilities]\nhttp = {{ origins = [\"*\"] }}\n"
    )
}

/// Operator section for one hostile variant: settings, full grants unless `grants` overrides.
pub fn operator(id: &str, settings: &str, grants: Option<&str>, limits: &str) -> String {
    let grants = grants.map(str::to_string).unwrap_or_else(|| {
        r#"accounts = true
items = { resource_types = ["AWS::EC2::SecurityGroup"] }
http = { origins = ["http://127.0.0.1:1", "http://localhost:1", "http://169.254.169.254"] }
mail = { recipients = ["sec@example.com"] }"#
            .to_string()
    });
    format!(
        "[plugin.{id}.settings]\n{settings}\n[plugin.{id}.grants]\n{grants}\n[plugin.{id}.limits]\n{limits}\n"
    )
}

/// A plugin set over `env`'s plugins directory, scanned once.
pub async fn load(env: &Env) -> Arc<PluginSet> {
    load_with(env, Arc::new(MemoryItems::default())).await
}

/// `load`, with plugins' `items` lookups answered from `items`.
pub async fn load_with(env: &Env, items: Arc<dyn ItemSource>) -> Arc<PluginSet> {
    let config = Arc::new(env.config());
    let services = Arc::new(HostServices::from_config(&config, items).expect("services"));
    let set = simian::plugin::plugin_set(config, services).expect("plugin set");
    set.scan().await;
    set
}

/// Audit the open and the clean security group.
pub async fn audit(set: &PluginSet) -> (AuditReport, Duration) {
    let items = Item::parse_document(&sg_items(), "sg.json").expect("items");
    audit_these(set, items).await
}

pub async fn audit_these(set: &PluginSet, items: Vec<Item>) -> (AuditReport, Duration) {
    let started = Instant::now();
    let report = audit_items(set, &items, Arc::new(MemoryItems::new(items.clone())), 64).await;
    (report, started.elapsed())
}

pub fn hostile_wasm() -> Vec<u8> {
    std::fs::read(wasm("simian_fixture_hostile")).expect("hostile wasm")
}

pub fn deploy_hostile(env: &Env, id: &str) {
    env.deploy(id, &hostile_wasm(), &hostile_manifest(id));
}

pub fn deploy_hostile_notifier(env: &Env, id: &str) {
    let bytes = std::fs::read(wasm("simian_fixture_hostile_notifier")).expect("notifier wasm");
    env.deploy(id, &bytes, &hostile_notifier_manifest(id));
}

pub fn deploy_sg(env: &Env) {
    let bytes = std::fs::read(wasm("simian_plugin_sg_internet_accessible")).expect("sg wasm");
    env.deploy("sg-internet-accessible", &bytes, &sg_manifest());
}

/// The example rule's finding on the open group, which every test expects to survive.
pub fn assert_sg_intact(report: &AuditReport) {
    let open = &report.items[0];
    let found = open.issues.iter().any(|i| {
        i.plugin == "sg-internet-accessible"
            && i.title == "Internet Accessible"
            && i.score == 10
            && i.notes.contains("0.0.0.0/0")
            && i.notes.contains("ingress:tcp:22")
    });
    assert!(found, "example rule's issue missing: {:#?}", open.issues);
    assert!(
        !report.items[1]
            .issues
            .iter()
            .any(|i| i.plugin == "sg-internet-accessible"),
        "clean group flagged"
    );
}

pub fn item_error<'a>(report: &'a AuditReport, plugin: &str) -> &'a str {
    report.items[0]
        .errors
        .iter()
        .find(|e| e.plugin == plugin)
        .map(|e| e.error.as_str())
        .unwrap_or_else(|| panic!("no error recorded for {plugin}: {report:#?}"))
}

pub fn issue_notes(report: &AuditReport, plugin: &str) -> String {
    report.items[0]
        .issues
        .iter()
        .find(|i| i.plugin == plugin)
        .map(|i| i.notes.clone())
        .unwrap_or_else(|| panic!("no issue from {plugin}: {report:#?}"))
}

/// The status `simian plugins` would show for one plugin id.
pub async fn status(set: &PluginSet, id: &str) -> simian::plugin::PluginStatus {
    set.statuses()
        .await
        .into_iter()
        .find(|s| s.id.as_deref() == Some(id))
        .unwrap_or_else(|| panic!("no status for {id}"))
}
