//! The REST API under `/api/v1`: JSON in the CLI's field names. Each handler is a thin
//! shell over a function in `views` (shared with the console's pages) or the store.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri};
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::Caller;
use super::error::{ApiResult, WebError};
use super::params::{API_ISSUE_PARAMS, API_ITEM_PARAMS, ISSUE_PARAMS, Params};
use super::{Shared, views};
use crate::store::{IssueAction, IssueRow};
use crate::users::{self, Role};

pub async fn not_found(uri: Uri) -> ApiResult<Json<Value>> {
    Err(WebError::NotFound(format!(
        "no API route {}",
        crate::text::escape_controls(uri.path())
    ))
    .into())
}

pub async fn items(State(s): State<Shared>, _c: Caller, uri: Uri) -> ApiResult<Json<Value>> {
    let params = Params::parse(&uri, API_ITEM_PARAMS)?;
    if let Some(at) = super::params::at(&params)? {
        return Ok(Json(items_at(&s, &params, at).await?));
    }
    let page = views::item_page(&s, &params).await?;
    Ok(Json(json!({
        "items": page.items.iter().map(views::summary_json).collect::<Vec<_>>(),
        "total": page.total,
        "next_cursor": page.next_cursor,
    })))
}

fn no_params(uri: &Uri) -> Result<(), WebError> {
    Params::parse(uri, &[]).map(|_| ())
}

pub async fn item(
    State(s): State<Shared>,
    _c: Caller,
    Path(id): Path<String>,
    uri: Uri,
) -> ApiResult<Json<Value>> {
    no_params(&uri)?;
    let detail = views::item_detail(&s, &id).await?;
    Ok(Json(detail.to_json()))
}

pub async fn revisions(
    State(s): State<Shared>,
    _c: Caller,
    Path(id): Path<String>,
    uri: Uri,
) -> ApiResult<Json<Value>> {
    let params = Params::parse(&uri, &["cursor", "limit"])?;
    let item = views::item_id(&id)?;
    let page = views::revision_page(&s, item, &params).await?;
    Ok(Json(json!({
        "revisions": page.revisions.iter().map(views::RevisionView::to_json).collect::<Vec<_>>(),
        "next_cursor": page.next_cursor,
    })))
}

pub async fn diff(
    State(s): State<Shared>,
    _c: Caller,
    Path(id): Path<String>,
    uri: Uri,
) -> ApiResult<Json<Value>> {
    let params = Params::parse(&uri, &["from", "to"])?;
    let item = views::item_id(&id)?;
    let d = views::revision_diff(&s, item, &params).await?;
    Ok(Json(json!({
        "from": d.from,
        "to": d.to,
        "diff": d.entries,
    })))
}

pub async fn compare(State(s): State<Shared>, _c: Caller, uri: Uri) -> ApiResult<Json<Value>> {
    let params = Params::parse(&uri, views::COMPARE_PARAMS)?;
    let c = views::compare(&s, &params).await?;
    Ok(Json(c.to_json()))
}

pub async fn issues(State(s): State<Shared>, _c: Caller, uri: Uri) -> ApiResult<Json<Value>> {
    let params = Params::parse(&uri, API_ISSUE_PARAMS)?;
    let at = super::params::at(&params)?;
    let page = views::issue_page(&s, &params, at).await?;
    let mut out = json!({
        "issues": page.issues,
        "next_cursor": page.next_cursor,
    });
    if let Some(at) = at {
        out["at"] = json!(at);
    }
    Ok(Json(out))
}

/// `GET /items?at=`: the estate as it was at `at`, in `simian items --at --format json`'s
/// names (without documents), paged by item id like the live listing.
async fn items_at(s: &Shared, params: &Params, at: i64) -> Result<Value, WebError> {
    let filter = super::params::item_filter(params)?;
    let limit = params.limit()?;
    // One read serves the total and the page: the total ignores the cursor.
    let after = filter.after_id;
    let all = s
        .store
        .items_at(
            at,
            &crate::store::ItemFilter {
                after_id: None,
                ..filter
            },
        )
        .await?;
    let total = all.len();
    let page: Vec<_> = all
        .into_iter()
        .filter(|i| after.is_none_or(|a| i.id > a))
        .take(limit as usize)
        .collect();
    let next_cursor = (page.len() == limit as usize)
        .then(|| page.last().map(|i| i.id.to_string()))
        .flatten();
    let items: Vec<Value> = page
        .iter()
        .map(|i| {
            json!({
                "resourceType": i.item.resource_type,
                "resourceId": i.item.resource_id,
                "resourceName": i.item.resource_name,
                "arn": i.item.arn,
                "accountId": i.item.account_id,
                "awsRegion": i.item.region,
                "simian": {
                    "itemId": i.id,
                    "revisionId": i.revision_id,
                    "deleted": i.deleted,
                    "lastChangedMs": i.last_changed_ms,
                },
            })
        })
        .collect();
    Ok(json!({ "items": items, "total": total, "next_cursor": next_cursor, "at": at }))
}

pub async fn issue_groups(State(s): State<Shared>, _c: Caller, uri: Uri) -> ApiResult<Json<Value>> {
    let params = Params::parse(&uri, ISSUE_PARAMS)?;
    let groups = views::issue_groups(&s, &params).await?;
    Ok(Json(json!({ "groups": groups })))
}

pub async fn issue(
    State(s): State<Shared>,
    _c: Caller,
    Path(id): Path<String>,
    uri: Uri,
) -> ApiResult<Json<Value>> {
    no_params(&uri)?;
    let id = views::issue_id(&id)?;
    let (issue, actions) = views::issue_with_actions(&s, id).await?;
    issue_json(&issue, &actions)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JustifyBody {
    pub reason: String,
    /// YYYY-MM-DD (end of that day, UTC) or RFC 3339.
    pub expires: Option<String>,
}

pub async fn justify(
    State(s): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: views::ApiJson<JustifyBody>,
) -> ApiResult<Json<Value>> {
    caller.check_write(&headers, None)?;
    let body = body.0;
    let change = Some((body.reason.as_str(), body.expires.as_deref()));
    let (issue, actions) = views::set_justification(&s, &caller, &id, change).await?;
    issue_json(&issue, &actions)
}

pub async fn unjustify(
    State(s): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    caller.check_write(&headers, None)?;
    let (issue, actions) = views::set_justification(&s, &caller, &id, None).await?;
    issue_json(&issue, &actions)
}

/// An issue in the CLI's names, with its audit trail under `actions`.
fn issue_json(issue: &IssueRow, actions: &[IssueAction]) -> ApiResult<Json<Value>> {
    let mut v = serde_json::to_value(issue).map_err(|e| WebError::Internal(e.to_string()))?;
    v["actions"] = json!(actions);
    Ok(Json(v))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BulkBody {
    pub reason: Option<String>,
    pub expires: Option<String>,
    /// The filter, as the issues endpoint takes it (a query string: `check=x&account=y`).
    pub filter: String,
    /// Apply only if the filter still matches exactly this many issues (from a preview).
    pub confirm: Option<u64>,
}

/// Bulk justify: without `confirm`, a preview (how many, which); with the previewed count,
/// the justification of exactly those issues.
pub async fn justify_bulk(
    State(s): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
    body: views::ApiJson<BulkBody>,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Justifier)?;
    caller.check_write(&headers, None)?;
    let body = body.0;
    let outcome = views::bulk_justify(
        &s,
        &caller,
        &body.filter,
        body.reason.as_deref(),
        body.expires.as_deref(),
        body.confirm,
    )
    .await?;
    Ok(Json(
        serde_json::to_value(&outcome).map_err(|e| WebError::Internal(e.to_string()))?,
    ))
}

pub async fn accounts(State(s): State<Shared>, _c: Caller, uri: Uri) -> ApiResult<Json<Value>> {
    no_params(&uri)?;
    Ok(Json(json!({ "accounts": views::accounts(&s) })))
}

pub async fn plugins(State(s): State<Shared>, _c: Caller, uri: Uri) -> ApiResult<Json<Value>> {
    no_params(&uri)?;
    Ok(Json(views::plugins(&s).await))
}

pub async fn sweeps(State(s): State<Shared>, _c: Caller, uri: Uri) -> ApiResult<Json<Value>> {
    let params = Params::parse(&uri, &["limit"])?;
    let limit = params.limit()?;
    let sweeps = s.store.sweeps(limit).await?;
    let mut errors = Vec::new();
    if let Some(last) = sweeps.first() {
        errors = s.store.listing_errors(last.id).await?;
    }
    Ok(Json(json!({
        "sweeps": sweeps,
        "last_sweep_errors": errors,
        "scopes": s.store.scope_health().await?,
    })))
}

pub async fn dashboard(State(s): State<Shared>, _c: Caller, uri: Uri) -> ApiResult<Json<Value>> {
    no_params(&uri)?;
    let d = views::dashboard(&s).await?;
    Ok(Json(
        serde_json::to_value(&d).map_err(|e| WebError::Internal(e.to_string()))?,
    ))
}

pub async fn users(State(s): State<Shared>, caller: Caller, uri: Uri) -> ApiResult<Json<Value>> {
    caller.require(Role::Admin)?;
    no_params(&uri)?;
    Ok(Json(json!({ "users": s.store.users().await? })))
}

pub async fn tokens(State(s): State<Shared>, caller: Caller, uri: Uri) -> ApiResult<Json<Value>> {
    caller.require(Role::Admin)?;
    no_params(&uri)?;
    Ok(Json(json!({ "tokens": s.store.tokens().await? })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenBody {
    pub user: String,
    /// YYYY-MM-DD or RFC 3339; never expires when absent.
    pub expires: Option<String>,
}

pub async fn create_token(
    State(s): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
    body: views::ApiJson<TokenBody>,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Admin)?;
    caller.check_write(&headers, None)?;
    let until = views::expiry(body.0.expires.as_deref())?;
    let (token, hash) =
        users::new_secret(users::TOKEN_PREFIX).map_err(|e| WebError::Internal(e.to_string()))?;
    let Some(id) = s.store.add_token(&body.0.user, &hash, until).await? else {
        return Err(WebError::NotFound(format!(
            "no user `{}`",
            crate::text::escape_controls(&body.0.user)
        ))
        .into());
    };
    tracing::info!(by = %caller.name, token = id, "API token created");
    Ok(Json(
        json!({ "id": id, "token": token, "expires_ms": until }),
    ))
}

pub async fn revoke_token(
    State(s): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Admin)?;
    caller.check_write(&headers, None)?;
    let id: i64 = id
        .parse()
        .map_err(|_| WebError::BadRequest("a token id is a number".into()))?;
    if !s.store.revoke_token(id).await? {
        return Err(WebError::NotFound(format!("no live token with id {id}")).into());
    }
    tracing::info!(by = %caller.name, token = id, "API token revoked");
    Ok(Json(json!({ "revoked": id })))
}
