//! Host calls answered by the thread's installed test host.
//!
//! Without one, logs go to stderr, settings are empty and every capability is denied, which
//! is what a plugin would see from a host whose operator granted nothing.

use crate::accounts::Classification;
use crate::http::{Request, Response};
use crate::log::Level;
use crate::mail::Message;
use crate::testing::{self, TestHost};
use crate::{HostError, Item};

fn with_host<T>(call: impl FnOnce(&TestHost) -> Result<T, HostError>) -> Result<T, HostError> {
    match testing::current() {
        Some(host) => call(&host),
        None => Err(HostError::Denied("no test host installed".to_string())),
    }
}

pub(crate) fn log(level: Level, message: &str) {
    match testing::current() {
        Some(host) => host.record_log(level, message),
        None => eprintln!("[{level}] {message}"),
    }
}

pub(crate) fn setting(key: &str) -> Option<String> {
    testing::current().and_then(|host| host.setting_text(key))
}

pub(crate) fn settings_all() -> String {
    testing::current().map_or_else(|| "{}".to_string(), |host| host.settings_text())
}

pub(crate) fn classify_account(own: &str, account_id: &str) -> Result<Classification, HostError> {
    with_host(|host| host.classify_account(own, account_id))
}

pub(crate) fn classify_arn(own: &str, arn: &str) -> Result<Classification, HostError> {
    with_host(|host| host.classify_arn(own, arn))
}

pub(crate) fn classify_cidr(own: &str, cidr: &str) -> Result<Classification, HostError> {
    with_host(|host| host.classify_cidr(own, cidr))
}

pub(crate) fn classify_canonical_id(
    own: &str,
    canonical_id: &str,
) -> Result<Classification, HostError> {
    with_host(|host| host.classify_canonical_id(own, canonical_id))
}

pub(crate) fn get_item_by_arn(arn: &str) -> Result<Option<Item>, HostError> {
    with_host(|host| host.item_by_arn(arn))
}

pub(crate) fn get_item(
    account_id: &str,
    region: &str,
    resource_type: &str,
    resource_id: &str,
) -> Result<Option<Item>, HostError> {
    with_host(|host| host.find_item(account_id, region, resource_type, resource_id))
}

pub(crate) fn list_items(
    resource_type: &str,
    account_id: Option<&str>,
    offset: u32,
    limit: u32,
) -> Result<Vec<Item>, HostError> {
    with_host(|host| host.list_items(resource_type, account_id, offset, limit))
}

pub(crate) fn send_http(request: Request) -> Result<Response, HostError> {
    with_host(|host| host.send_http(request))
}

pub(crate) fn send_mail(message: Message) -> Result<(), HostError> {
    with_host(|host| host.send_mail(message))
}
