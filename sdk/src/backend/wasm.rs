//! Host calls through the generated imports.
//!
//! One function per import and no shared dispatch table: a plugin that never calls, say,
//! `mail::send` must not link that import, or the host would demand a grant it never needs.

use crate::accounts::Classification;
use crate::bindings::simian::plugin as wit;
use crate::convert;
use crate::http::{Request, Response};
use crate::log::Level;
use crate::mail::Message;
use crate::{HostError, Item};

pub(crate) fn log(level: Level, message: &str) {
    let level = match level {
        Level::Trace => wit::log::Level::Trace,
        Level::Debug => wit::log::Level::Debug,
        Level::Info => wit::log::Level::Info,
        Level::Warn => wit::log::Level::Warn,
        Level::Error => wit::log::Level::Error,
    };
    wit::log::log(level, message);
}

pub(crate) fn setting(key: &str) -> Option<String> {
    wit::settings::get(key)
}

pub(crate) fn settings_all() -> String {
    wit::settings::all()
}

pub(crate) fn classify_account(own: &str, account_id: &str) -> Result<Classification, HostError> {
    convert::classification(wit::accounts::classify_account(own, account_id))
}

pub(crate) fn classify_arn(own: &str, arn: &str) -> Result<Classification, HostError> {
    convert::classification(wit::accounts::classify_arn(own, arn))
}

pub(crate) fn classify_cidr(own: &str, cidr: &str) -> Result<Classification, HostError> {
    convert::classification(wit::accounts::classify_cidr(own, cidr))
}

pub(crate) fn classify_canonical_id(
    own: &str,
    canonical_id: &str,
) -> Result<Classification, HostError> {
    convert::classification(wit::accounts::classify_canonical_id(own, canonical_id))
}

pub(crate) fn get_item_by_arn(arn: &str) -> Result<Option<Item>, HostError> {
    wit::items::get_by_arn(arn)
        .map(|item| item.map(convert::item_from_wit))
        .map_err(convert::host_error)
}

pub(crate) fn get_item(
    account_id: &str,
    region: &str,
    resource_type: &str,
    resource_id: &str,
) -> Result<Option<Item>, HostError> {
    wit::items::get(account_id, region, resource_type, resource_id)
        .map(|item| item.map(convert::item_from_wit))
        .map_err(convert::host_error)
}

pub(crate) fn list_items(
    resource_type: &str,
    account_id: Option<&str>,
    offset: u32,
    limit: u32,
) -> Result<Vec<Item>, HostError> {
    wit::items::list(resource_type, account_id, offset, limit)
        .map(|items| items.into_iter().map(convert::item_from_wit).collect())
        .map_err(convert::host_error)
}

pub(crate) fn send_http(request: Request) -> Result<Response, HostError> {
    let header = |(name, value)| wit::http::Header { name, value };
    let request = wit::http::Request {
        method: request.method,
        url: request.url,
        headers: request.headers.into_iter().map(header).collect(),
        body: request.body,
        timeout_ms: request.timeout_ms,
    };
    let response = wit::http::send(&request).map_err(convert::host_error)?;
    Ok(Response {
        status: response.status,
        headers: response
            .headers
            .into_iter()
            .map(|h| (h.name, h.value))
            .collect(),
        body: response.body,
    })
}

pub(crate) fn send_mail(message: Message) -> Result<(), HostError> {
    let message = wit::mail::Message {
        to: message.to,
        subject: message.subject,
        text: message.text,
        html: message.html,
    };
    wit::mail::send(&message).map_err(convert::host_error)
}
