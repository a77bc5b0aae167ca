//! What a page shows and what the API answers, computed once: the console's pages render
//! these values, the API serialises them. Also the JSON-body extractor and the checks on
//! the values people type (ids, reasons, expiry dates).

use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use super::Shared;
use super::error::{ApiError, WebError};
use crate::store::{SweepRecord, now_ms};

mod compare;
mod issues;
mod items;
mod status;

pub use compare::{COMPARE_PARAMS, Comparison, compare};
pub use issues::{
    BulkOutcome, GroupView, bulk_justify, issue_groups, issue_page, issue_with_actions,
    set_justification,
};
pub use items::{
    DiffLine, IssueView, ItemDetail, RevisionView, item_detail, item_detail_page, item_page,
    revision_diff, revision_page, summary_json,
};
pub use status::{Dashboard, accounts, dashboard, plugins};

/// A JSON request body; a wrong content type is a 415 and a malformed body a 400 naming the
/// problem, both as JSON.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        use axum::extract::rejection::JsonRejection;
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(JsonRejection::MissingJsonContentType(_)) => {
                Err(ApiError(WebError::UnsupportedMediaType(
                    "send the body as Content-Type: application/json".into(),
                )))
            }
            Err(JsonRejection::BytesRejection(_)) => {
                Err(ApiError(WebError::TooLarge(super::MAX_BODY)))
            }
            Err(e) => Err(ApiError(WebError::BadRequest(format!(
                "request body: {}",
                crate::text::escape_controls(&e.body_text())
            )))),
        }
    }
}

pub fn item_id(text: &str) -> Result<i64, WebError> {
    text.parse()
        .map_err(|_| WebError::BadRequest("an item id is a number".into()))
}

pub fn issue_id(text: &str) -> Result<i64, WebError> {
    text.parse()
        .map_err(|_| WebError::BadRequest("an issue id is a number".into()))
}

/// A justification's expiry: absent, or a date in the future.
pub fn expiry(text: Option<&str>) -> Result<Option<i64>, WebError> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let until = crate::when::parse_expiry(text)
        .map_err(|e| WebError::BadRequest(format!("expires: {e}")))?;
    if until <= now_ms() {
        return Err(WebError::BadRequest("expires: that is in the past".into()));
    }
    Ok(Some(until))
}

pub const MAX_REASON: usize = 1000;

pub fn reason(text: &str) -> Result<String, WebError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(WebError::BadRequest(
            "reason: say why (it is kept with the issue)".into(),
        ));
    }
    if text.chars().count() > MAX_REASON {
        return Err(WebError::BadRequest(format!(
            "reason: at most {MAX_REASON} characters"
        )));
    }
    Ok(text.to_string())
}

/// When the last sweep started (0 before any): "new" and "fixed" count from here.
pub async fn last_sweep(s: &Shared) -> Result<Option<SweepRecord>, WebError> {
    Ok(s.store.sweeps(1).await?.into_iter().next())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_values_are_checked() {
        assert!(item_id("12").is_ok());
        assert!(item_id("12; DROP TABLE items").is_err());
        assert!(reason("  ").is_err());
        assert!(reason(&"x".repeat(MAX_REASON + 1)).is_err());
        assert_eq!(reason(" ok ").expect("reason"), "ok");
        assert!(expiry(Some("2001-01-01")).is_err(), "past");
        assert!(expiry(Some("soon")).is_err());
        assert_eq!(expiry(Some("")).expect("none"), None);
        assert!(expiry(Some("2999-01-01")).expect("future").is_some());
    }
}
