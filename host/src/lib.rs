//! simian: watches AWS configuration, keeps its history, and judges it with sandboxed,
//! hot-swappable WebAssembly plugins.

pub mod accounts;
pub mod audit;
pub mod cli;
pub mod config;
pub mod control;
pub mod drill;
pub mod events;
pub mod findings;
pub mod item;
pub mod metrics;
pub mod notify;
pub mod pipeline;
pub mod plugin;
pub mod replay;
pub mod resource_types;
pub mod runtime;
pub mod scopes;
pub mod services;
pub mod shadow;
pub mod store;
pub mod text;
pub mod users;
pub mod watch;
pub mod web;
pub mod when;
