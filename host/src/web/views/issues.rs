//! Issues: pages, groups by check, one issue with its trail, bulk justification.

use axum::http::Uri;
use serde::Serialize;

use super::{expiry, last_sweep, reason};
use crate::store::{Actor, IssueAction, IssueGroup, IssueRow};
use crate::web::Shared;
use crate::web::auth::Caller;
use crate::web::error::WebError;
use crate::web::params::{ISSUE_PARAMS, Params, issue_filter};

pub struct IssuePage {
    pub issues: Vec<IssueRow>,
    pub next_cursor: Option<String>,
    pub query: String,
}

/// A page of issues; with `at`, as they were recorded at that moment.
pub async fn issue_page(
    s: &Shared,
    params: &Params,
    at: Option<i64>,
) -> Result<IssuePage, WebError> {
    let since = last_sweep(s).await?.map_or(0, |w| w.started_ms);
    let mut filter = issue_filter(params, since)?;
    let limit = params.limit()?;
    filter.limit = Some(u64::from(limit));
    let issues = match at {
        Some(at) => s.store.issues_at(at, &filter).await?,
        None => s.store.issues(&filter).await?,
    };
    let next_cursor = (issues.len() == limit as usize)
        .then(|| {
            issues
                .last()
                .map(|r| format!("{}.{}", r.issue.score, r.issue.id))
        })
        .flatten();
    Ok(IssuePage {
        issues,
        next_cursor,
        query: params.query_without(&["cursor"]),
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct GroupView {
    #[serde(flatten)]
    pub group: IssueGroup,
    /// Live items of the group's resource types: the Y of "X of Y items".
    pub of_items: u64,
}

pub async fn issue_groups(s: &Shared, params: &Params) -> Result<Vec<GroupView>, WebError> {
    let since = last_sweep(s).await?.map_or(0, |w| w.started_ms);
    let filter = issue_filter(params, since)?;
    let per_type = s.store.items_per_type().await?;
    Ok(s.store
        .issue_groups(&filter)
        .await?
        .into_iter()
        .map(|group| GroupView {
            of_items: group
                .resource_types
                .iter()
                .map(|t| per_type.get(t).copied().unwrap_or(0))
                .sum(),
            group,
        })
        .collect())
}

pub async fn issue_with_actions(
    s: &Shared,
    id: i64,
) -> Result<(IssueRow, Vec<IssueAction>), WebError> {
    let issue = s
        .store
        .issue(id)
        .await?
        .ok_or_else(|| WebError::NotFound(format!("no issue with id {id}")))?;
    Ok((issue, s.store.issue_actions(id).await?))
}

/// What a bulk justification matched, and whether it was applied.
#[derive(Debug, Clone, Serialize)]
pub struct BulkOutcome {
    pub matched: u64,
    /// The first few, to see what the filter catches.
    pub sample: Vec<IssueRow>,
    pub applied: Option<u64>,
    pub filter: String,
}

const BULK_SAMPLE: usize = 20;

pub async fn bulk_justify(
    s: &Shared,
    caller: &Caller,
    filter_query: &str,
    reason_text: Option<&str>,
    expires: Option<&str>,
    confirm: Option<u64>,
) -> Result<BulkOutcome, WebError> {
    let uri: Uri = format!("/?{}", filter_query.trim_start_matches('?'))
        .parse()
        .map_err(|_| WebError::BadRequest("filter: not a query string".into()))?;
    let params = Params::parse(&uri, ISSUE_PARAMS)?;
    if params.text("cursor").is_some() || params.text("limit").is_some() {
        return Err(WebError::BadRequest(
            "filter: a bulk justification takes the whole filtered set (no cursor or limit)".into(),
        ));
    }
    let since = last_sweep(s).await?.map_or(0, |w| w.started_ms);
    let mut filter = issue_filter(&params, since)?;
    // Only open issues can be excused.
    if filter.open == Some(false) {
        return Err(WebError::BadRequest(
            "filter: fixed issues need no justification".into(),
        ));
    }
    filter.open = Some(true);
    let matched = s.store.issues(&filter).await?;
    let count = matched.len() as u64;
    let mut outcome = BulkOutcome {
        matched: count,
        sample: matched.iter().take(BULK_SAMPLE).cloned().collect(),
        applied: None,
        filter: params.query_without(&[]),
    };
    let Some(confirm) = confirm else {
        return Ok(outcome);
    };
    if confirm != count {
        return Err(WebError::BadRequest(format!(
            "the filter now matches {count} issues, not the {confirm} you previewed; preview again"
        )));
    }
    let reason = reason(reason_text.unwrap_or(""))?;
    let until = expiry(expires)?;
    let ids: Vec<i64> = matched.iter().map(|r| r.issue.id).collect();
    let actor = Actor {
        name: &caller.name,
        via: caller.via.as_str(),
    };
    let applied = s.store.justify_issues(&ids, &reason, actor, until).await?;
    tracing::info!(by = %caller.name, issues = applied, "bulk justification");
    outcome.applied = Some(applied);
    Ok(outcome)
}

/// Justify (`Some(reason, expires)`) or unjustify (`None`) one issue as `caller`, after the
/// role check; the issue afterwards with its trail. The caller checks CSRF first.
pub async fn set_justification(
    s: &Shared,
    caller: &Caller,
    id_text: &str,
    justify: Option<(&str, Option<&str>)>,
) -> Result<(IssueRow, Vec<IssueAction>), WebError> {
    caller.require(crate::users::Role::Justifier)?;
    let id = super::issue_id(id_text)?;
    let actor = Actor {
        name: &caller.name,
        via: caller.via.as_str(),
    };
    let changed = match justify {
        Some((reason_text, expires)) => {
            let until = expiry(expires)?;
            let reason = reason(reason_text)?;
            s.store.justify_issues(&[id], &reason, actor, until).await?
        }
        None => s.store.unjustify_issues(&[id], actor).await?,
    };
    if changed == 0 {
        return Err(WebError::NotFound(format!("no issue with id {id}")));
    }
    issue_with_actions(s, id).await
}
