//! Generated bindings, one module per released contract version (frozen like the WIT itself).
//! The notifier world reuses the auditor world's interface modules so one set of host trait
//! implementations serves both.

pub mod v0_1_0 {
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

    pub use auditor::simian::plugin::{accounts, http, items, log, mail, settings, types};
}

/// The contract versions this host links, newest last.
pub const SUPPORTED_CONTRACTS: &[&str] = &["0.1.0"];
