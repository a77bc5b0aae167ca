//! Query strings into store filters, strictly: an unknown parameter, a repeated one, or a
//! value of the wrong shape is a 400 naming it, never ignored and never a 500.
//!
//! The console's forms and the API take the same parameters, so a filtered page's URL with
//! `/api/v1` in front (or the export links) returns exactly what the page shows.

use std::collections::BTreeMap;

use axum::http::Uri;

use super::error::WebError;
use crate::store::{IssueFilter, IssueState, ItemFilter};

pub const DEFAULT_PAGE: u32 = 50;
pub const MAX_PAGE: u32 = 500;

/// Parsed `key=value` pairs; empty values (an untouched form field) count as absent.
#[derive(Debug, Default)]
pub struct Params {
    values: BTreeMap<String, String>,
}

impl Params {
    pub fn parse(uri: &Uri, allowed: &[&str]) -> Result<Params, WebError> {
        let mut values = BTreeMap::new();
        for (key, value) in url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes()) {
            if !allowed.contains(&key.as_ref()) {
                return Err(WebError::BadRequest(format!(
                    "unknown parameter `{}`; this endpoint takes: {}",
                    shown(&key),
                    allowed.join(", ")
                )));
            }
            if value.len() > 512 {
                return Err(WebError::BadRequest(format!(
                    "parameter `{key}` is longer than 512 bytes"
                )));
            }
            if value.is_empty() {
                continue;
            }
            if values.insert(key.to_string(), value.to_string()).is_some() {
                return Err(WebError::BadRequest(format!(
                    "parameter `{key}` is given more than once"
                )));
            }
        }
        Ok(Params { values })
    }

    pub fn text(&self, key: &str) -> Option<String> {
        self.values.get(key).cloned()
    }

    pub fn number<T: std::str::FromStr>(
        &self,
        key: &str,
        what: &str,
    ) -> Result<Option<T>, WebError> {
        self.values
            .get(key)
            .map(|v| {
                v.parse().map_err(|_| {
                    WebError::BadRequest(format!("parameter `{key}`: `{}` is not {what}", shown(v)))
                })
            })
            .transpose()
    }

    pub fn flag(&self, key: &str) -> Result<bool, WebError> {
        match self.values.get(key).map(String::as_str) {
            None | Some("false" | "0" | "no" | "off") => Ok(false),
            Some("true" | "1" | "yes" | "on") => Ok(true),
            Some(other) => Err(WebError::BadRequest(format!(
                "parameter `{key}`: `{}` is not true or false",
                shown(other)
            ))),
        }
    }

    pub fn limit(&self) -> Result<u32, WebError> {
        match self.number::<u32>("limit", "a number")? {
            None => Ok(DEFAULT_PAGE),
            Some(n) if (1..=MAX_PAGE).contains(&n) => Ok(n),
            Some(n) => Err(WebError::BadRequest(format!(
                "parameter `limit`: {n} is not between 1 and {MAX_PAGE}"
            ))),
        }
    }

    /// The query string of these parameters without `drop` (for "next page" and export links).
    pub fn query_without(&self, drop: &[&str]) -> String {
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(
                self.values
                    .iter()
                    .filter(|(k, _)| !drop.contains(&k.as_str())),
            )
            .finish()
    }
}

/// A value quoted back in an error: bounded and free of control characters.
fn shown(value: &str) -> String {
    crate::text::escape_controls(crate::text::truncate(value, 80)).into_owned()
}

fn account(params: &Params) -> Result<Option<String>, WebError> {
    match params.text("account") {
        Some(a) if a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()) => Ok(Some(a)),
        Some(a) => Err(WebError::BadRequest(format!(
            "parameter `account`: `{}` is not a 12-digit account id",
            shown(&a)
        ))),
        None => Ok(None),
    }
}

fn resource_type(params: &Params) -> Result<Option<String>, WebError> {
    match params.text("type") {
        Some(t) if crate::resource_types::is_supported(&t) => Ok(Some(t)),
        Some(t) => Err(WebError::BadRequest(format!(
            "parameter `type`: `{}` is not a resource type simian watches ({})",
            shown(&t),
            crate::resource_types::all().join(", ")
        ))),
        None => Ok(None),
    }
}

pub const ITEM_PARAMS: &[&str] = &[
    "account",
    "region",
    "type",
    "q",
    "has_issues",
    "min_score",
    "deleted",
    "cursor",
    "limit",
];

/// The items filter of `ITEM_PARAMS`; `cursor` is the last id of the previous page.
pub fn item_filter(params: &Params) -> Result<ItemFilter, WebError> {
    let region = match params.text("region") {
        Some(r)
            if r.len() <= 32
                && r.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') =>
        {
            Some(r)
        }
        Some(r) => {
            return Err(WebError::BadRequest(format!(
                "parameter `region`: `{}` is not a region name",
                shown(&r)
            )));
        }
        None => None,
    };
    let after_id = match params.number::<i64>("cursor", "a cursor from a previous page")? {
        Some(n) if n >= 0 => Some(n),
        Some(_) => {
            return Err(WebError::BadRequest(
                "parameter `cursor` is not a cursor from a previous page".into(),
            ));
        }
        None => None,
    };
    Ok(ItemFilter {
        resource_type: resource_type(params)?,
        account_id: account(params)?,
        region,
        text: params.text("q"),
        min_score: params.number("min_score", "a score")?,
        has_open_issues: params.flag("has_issues")?,
        include_deleted: params.flag("deleted")?,
        after_id,
        ..ItemFilter::default()
    })
}

/// The API's items parameters: the console's and `at` (time travel, API only).
pub const API_ITEM_PARAMS: &[&str] = &[
    "account",
    "region",
    "type",
    "q",
    "has_issues",
    "min_score",
    "deleted",
    "cursor",
    "limit",
    "at",
];

/// `at=`: the moment to answer as of (unix ms, `YYYY-MM-DD` for the start of that day UTC, or
/// RFC 3339); None when absent.
pub fn at(params: &Params) -> Result<Option<i64>, WebError> {
    params
        .text("at")
        .map(|v| {
            crate::when::parse_instant(&v).map_err(|_| {
                WebError::BadRequest(format!(
                    "parameter `at`: `{}` is not a moment (unix milliseconds, YYYY-MM-DD or \
                     RFC 3339, between 1970 and 9999)",
                    shown(&v)
                ))
            })
        })
        .transpose()
}

pub const ISSUE_PARAMS: &[&str] = &[
    "status",
    "min_score",
    "plugin",
    "check",
    "account",
    "type",
    "item",
    "cursor",
    "limit",
];

/// The API's issues parameters: the console's and `at` (time travel, API only).
pub const API_ISSUE_PARAMS: &[&str] = &[
    "status",
    "min_score",
    "plugin",
    "check",
    "account",
    "type",
    "item",
    "cursor",
    "limit",
    "at",
];

/// The issues filter of `ISSUE_PARAMS`. `status` is new, open, justified, fixed, regressed or
/// all (default: open and justified, i.e. not fixed). `new` means first seen since
/// `last_sweep_ms`.
pub fn issue_filter(params: &Params, last_sweep_ms: i64) -> Result<IssueFilter, WebError> {
    let (open, state) = match params.text("status").as_deref() {
        None => (Some(true), None),
        Some("all") => (None, None),
        Some("new") => (None, Some(IssueState::NewSince(last_sweep_ms))),
        Some("open") => (None, Some(IssueState::Open)),
        Some("justified") => (None, Some(IssueState::Justified)),
        Some("fixed") => (None, Some(IssueState::Fixed)),
        Some("regressed") => (None, Some(IssueState::Regressed)),
        Some(other) => {
            return Err(WebError::BadRequest(format!(
                "parameter `status`: `{}` is not new, open, justified, fixed, regressed or all",
                shown(other)
            )));
        }
    };
    let after = match params.text("cursor") {
        None => None,
        Some(c) => Some(
            c.split_once('.')
                .and_then(|(s, i)| Some((s.parse::<u32>().ok()?, i.parse::<i64>().ok()?)))
                .ok_or_else(|| {
                    WebError::BadRequest(format!(
                        "parameter `cursor`: `{}` is not a cursor from a previous page",
                        shown(&c)
                    ))
                })?,
        ),
    };
    let name = |key: &str| -> Result<Option<String>, WebError> {
        match params.text(key) {
            Some(v)
                if v.len() <= 128
                    && v.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b)) =>
            {
                Ok(Some(v))
            }
            Some(v) => Err(WebError::BadRequest(format!(
                "parameter `{key}`: `{}` is not a plugin or check id",
                shown(&v)
            ))),
            None => Ok(None),
        }
    };
    Ok(IssueFilter {
        open,
        state,
        min_score: params.number("min_score", "a score")?.unwrap_or(0),
        account_id: account(params)?,
        resource_type: resource_type(params)?,
        plugin: name("plugin")?,
        check_id: name("check")?,
        item_id: params.number("item", "an item id")?,
        include_disabled: false,
        after,
        limit: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(q: &str) -> Uri {
        format!("/x?{q}").parse().expect("uri")
    }

    #[test]
    fn unknown_repeated_and_malformed_parameters_are_named() {
        let e = Params::parse(&uri("acount=1"), ITEM_PARAMS).expect_err("unknown");
        assert!(e.to_string().contains("unknown parameter `acount`"), "{e}");
        let e = Params::parse(&uri("q=a&q=b"), ITEM_PARAMS).expect_err("twice");
        assert!(e.to_string().contains("`q` is given more than once"), "{e}");
        let p = Params::parse(&uri("min_score=lots"), ITEM_PARAMS).expect("parsed");
        let e = item_filter(&p).expect_err("bad score");
        assert!(
            e.to_string().contains("`min_score`: `lots` is not a score"),
            "{e}"
        );
        let p = Params::parse(&uri("account=12345"), ITEM_PARAMS).expect("parsed");
        assert!(item_filter(&p).is_err());
        let p = Params::parse(&uri("type=AWS::Nope::Thing"), ITEM_PARAMS).expect("parsed");
        assert!(
            item_filter(&p)
                .expect_err("type")
                .to_string()
                .contains("AWS::IAM::User")
        );
        let p = Params::parse(&uri("cursor=abc"), ISSUE_PARAMS).expect("parsed");
        assert!(issue_filter(&p, 0).is_err());
        let p = Params::parse(&uri("limit=100000"), ITEM_PARAMS).expect("parsed");
        assert!(p.limit().is_err());
        let p = Params::parse(&uri("status=closed"), ISSUE_PARAMS).expect("parsed");
        assert!(issue_filter(&p, 0).is_err());
    }

    #[test]
    fn the_api_takes_the_console_parameters_and_at() {
        for (api, console) in [
            (API_ITEM_PARAMS, ITEM_PARAMS),
            (API_ISSUE_PARAMS, ISSUE_PARAMS),
        ] {
            let rest: Vec<&str> = api.iter().copied().filter(|p| *p != "at").collect();
            assert_eq!(rest, console);
        }
        let p = Params::parse(&uri("at=1970-01-02"), API_ITEM_PARAMS).expect("parsed");
        assert_eq!(at(&p).expect("at"), Some(86_400_000));
        for bad in ["soon", "-1", "99999999999999999999999"] {
            let p = Params::parse(&uri(&format!("at={bad}")), API_ITEM_PARAMS).expect("parsed");
            let e = at(&p).expect_err("bad at");
            assert!(e.to_string().contains("parameter `at`"), "{e}");
        }
    }

    #[test]
    fn filters_read_what_the_forms_send() {
        let p = Params::parse(
            &uri("account=123456789012&region=&type=AWS%3A%3AIAM%3A%3AUser&q=adm&has_issues=on&min_score=5&cursor=40"),
            ITEM_PARAMS,
        )
        .expect("parsed");
        let f = item_filter(&p).expect("filter");
        assert_eq!(f.account_id.as_deref(), Some("123456789012"));
        assert_eq!(f.region, None, "empty form fields are absent");
        assert_eq!(f.resource_type.as_deref(), Some("AWS::IAM::User"));
        assert_eq!(
            (f.text.as_deref(), f.min_score, f.has_open_issues),
            (Some("adm"), Some(5), true)
        );
        assert_eq!(f.after_id, Some(40));
        assert_eq!(
            p.query_without(&["cursor"]),
            "account=123456789012&has_issues=on&min_score=5&q=adm&type=AWS%3A%3AIAM%3A%3AUser"
        );
        let p = Params::parse(
            &uri("status=justified&cursor=10.77&check=open-ssh"),
            ISSUE_PARAMS,
        )
        .expect("parsed");
        let f = issue_filter(&p, 0).expect("filter");
        assert_eq!(f.state, Some(IssueState::Justified));
        assert_eq!(f.after, Some((10, 77)));
        assert_eq!(f.check_id.as_deref(), Some("open-ssh"));
    }
}
