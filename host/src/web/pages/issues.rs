//! Issues grouped by check, one group's issues, and the justify / unjustify / bulk forms.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{FilterForm, Layout, account_choices, html};
use crate::store::IssueRow;
use crate::users::Role;
use crate::web::Shared;
use crate::web::auth::Caller;
use crate::web::error::PageResult;
use crate::web::params::{ISSUE_PARAMS, Params};
use crate::web::views::{self, BulkOutcome, GroupView};
use crate::when::rfc3339;

pub struct GroupRow {
    pub plugin: String,
    pub check_id: String,
    pub title: String,
    pub issues: u64,
    pub items: u64,
    pub of_items: u64,
    pub worst: u32,
    pub since: String,
    pub query: String,
}

#[derive(Template)]
#[template(path = "issues.html")]
pub struct IssuesPage {
    pub layout: Layout,
    pub groups: Vec<GroupRow>,
    pub f: FilterForm,
    pub query: String,
    pub types: Vec<String>,
    pub accounts: Vec<(String, String)>,
}

pub struct IssueLine {
    pub id: i64,
    pub item_id: i64,
    pub item: String,
    pub account: String,
    pub region: String,
    pub score: u32,
    pub notes: String,
    pub open: bool,
    pub justified: Option<String>,
}

impl From<&IssueRow> for IssueLine {
    fn from(r: &IssueRow) -> IssueLine {
        IssueLine {
            id: r.issue.id,
            item_id: r.issue.item_id,
            item: if r.resource_name.is_empty() {
                r.arn.clone()
            } else {
                r.resource_name.clone()
            },
            account: r.account_id.clone(),
            region: r.region.clone(),
            score: r.issue.score,
            notes: r.issue.notes.clone(),
            open: r.issue.open,
            justified: r
                .issue
                .justification
                .as_ref()
                .map(|j| format!("{}: {}", j.by, j.reason)),
        }
    }
}

#[derive(Template)]
#[template(path = "issue_list.html")]
pub struct IssueList {
    pub layout: Layout,
    pub lines: Vec<IssueLine>,
    pub next: Option<String>,
    pub query: String,
}

fn group_rows(groups: Vec<GroupView>, params: &Params) -> Vec<GroupRow> {
    let base = params.query_without(&["plugin", "check", "cursor"]);
    groups
        .into_iter()
        .map(|g| {
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            query
                .append_pair("plugin", &g.group.plugin)
                .append_pair("check", &g.group.check_id);
            let mut query = query.finish();
            if !base.is_empty() {
                query = format!("{base}&{query}");
            }
            GroupRow {
                plugin: g.group.plugin,
                check_id: g.group.check_id,
                title: g.group.title,
                issues: g.group.issues,
                items: g.group.items,
                of_items: g.of_items,
                worst: g.group.worst_score,
                since: rfc3339(g.group.failing_since_ms),
                query,
            }
        })
        .collect()
}

pub async fn issues(State(s): State<Shared>, caller: Caller, uri: Uri) -> PageResult<Response> {
    let params = Params::parse(&uri, ISSUE_PARAMS)?;
    let groups = views::issue_groups(&s, &params).await?;
    Ok(html(&IssuesPage {
        layout: Layout::new(&caller, "issues", "Issues"),
        groups: group_rows(groups, &params),
        f: FilterForm::from(&params),
        query: params.query_without(&["cursor"]),
        types: crate::resource_types::all()
            .into_iter()
            .map(String::from)
            .collect(),
        accounts: account_choices(&s),
    }))
}

/// One group's issues (htmx swaps this under the group's row; plain GET shows it alone).
pub async fn issue_group(
    State(s): State<Shared>,
    caller: Caller,
    uri: Uri,
) -> PageResult<Response> {
    let params = Params::parse(&uri, ISSUE_PARAMS)?;
    let page = views::issue_page(&s, &params, None).await?;
    Ok(html(&IssueList {
        layout: Layout::new(&caller, "issues", "Issues"),
        lines: page.issues.iter().map(IssueLine::from).collect(),
        next: page.next_cursor,
        query: page.query,
    }))
}

#[derive(Deserialize)]
pub struct JustifyForm {
    csrf: Option<String>,
    reason: String,
    expires: Option<String>,
    /// Where to go afterwards (a console path).
    back: Option<String>,
}

fn back_to(back: Option<&str>, fallback: String) -> String {
    match back {
        Some(b) if b.starts_with('/') && !b.starts_with("//") && !b.contains('\\') => b.to_string(),
        _ => fallback,
    }
}

pub async fn justify(
    State(s): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<JustifyForm>,
) -> PageResult<Response> {
    caller.check_write(&headers, form.csrf.as_deref())?;
    let change = Some((form.reason.as_str(), form.expires.as_deref()));
    let (issue, _) = views::set_justification(&s, &caller, &id, change).await?;
    let fallback = format!("/items/{}#issue-{}", issue.issue.item_id, issue.issue.id);
    Ok(Redirect::to(&back_to(form.back.as_deref(), fallback)).into_response())
}

#[derive(Deserialize)]
pub struct UnjustifyForm {
    csrf: Option<String>,
    back: Option<String>,
}

pub async fn unjustify(
    State(s): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<UnjustifyForm>,
) -> PageResult<Response> {
    caller.check_write(&headers, form.csrf.as_deref())?;
    let (issue, _) = views::set_justification(&s, &caller, &id, None).await?;
    let fallback = format!("/items/{}#issue-{}", issue.issue.item_id, issue.issue.id);
    Ok(Redirect::to(&back_to(form.back.as_deref(), fallback)).into_response())
}

#[derive(Deserialize)]
pub struct BulkForm {
    csrf: Option<String>,
    filter: String,
    reason: Option<String>,
    expires: Option<String>,
    confirm: Option<u64>,
}

#[derive(Template)]
#[template(path = "bulk.html")]
pub struct BulkPage {
    pub layout: Layout,
    pub outcome: BulkOutcome,
    pub lines: Vec<IssueLine>,
    pub reason: String,
    pub expires: String,
}

pub async fn justify_bulk(
    State(s): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
    Form(form): Form<BulkForm>,
) -> PageResult<Response> {
    caller.require(Role::Justifier)?;
    caller.check_write(&headers, form.csrf.as_deref())?;
    let outcome = views::bulk_justify(
        &s,
        &caller,
        &form.filter,
        form.reason.as_deref(),
        form.expires.as_deref(),
        form.confirm,
    )
    .await?;
    Ok(html(&BulkPage {
        layout: Layout::new(&caller, "issues", "Justify many"),
        lines: outcome.sample.iter().map(IssueLine::from).collect(),
        reason: form.reason.unwrap_or_default(),
        expires: form.expires.unwrap_or_default(),
        outcome,
    }))
}
