//! Exports of exactly a filtered view (the same parameters as the page or API list), as CSV
//! or JSON, streamed a page at a time: memory stays flat however many rows match.
//!
//! Cells that a spreadsheet would run as a formula (`=`, `+`, `-`, `@` first) are prefixed
//! with `'`: names and tags come from AWS accounts an attacker may control.

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderValue, Uri, header};
use axum::response::{IntoResponse, Response};
use futures::stream::{self, Stream};

use super::Shared;
use super::auth::Caller;
use super::error::ApiResult;
use super::params::{ISSUE_PARAMS, ITEM_PARAMS, Params, issue_filter, item_filter};
use super::views::{self, summary_json};
use crate::findings::csv::cell;
use crate::store::{IssueFilter, IssueRow, ItemFilter, ItemSummary};

/// Rows fetched per store query while streaming.
const CHUNK: u32 = 2000;

fn attachment(body: Body, kind: &'static str, name: &'static str) -> Response {
    let mut response = body.into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static(name));
    response
}

fn csv_line(fields: &[&str]) -> Bytes {
    // A small buffer: one writer per line, and the default 8 KiB each would dominate.
    let mut w = csv::WriterBuilder::new()
        .buffer_capacity(512)
        .from_writer(Vec::with_capacity(256));
    let cells: Vec<std::borrow::Cow<'_, str>> = fields.iter().map(|f| cell(f)).collect();
    // Writing to a Vec cannot fail.
    let _ = w.write_record(cells.iter().map(|c| c.as_ref()));
    Bytes::from(w.into_inner().unwrap_or_default())
}

enum Format {
    Csv,
    Json,
}

/// Pages of items after `after`, until none are left; errors end the stream (the client sees
/// a truncated body, and the host logs why).
fn item_pages(s: Shared, filter: ItemFilter) -> impl Stream<Item = Vec<ItemSummary>> {
    stream::unfold(Some(filter), move |filter| {
        let s = s.clone();
        async move {
            let filter = filter?;
            match s.store.item_summaries(&filter, CHUNK).await {
                Ok(page) if page.is_empty() => None,
                Ok(page) => {
                    let next = (page.len() == CHUNK as usize).then(|| ItemFilter {
                        after_id: page.last().map(|i| i.id),
                        ..filter
                    });
                    Some((page, next))
                }
                Err(e) => {
                    tracing::error!("export stopped: {e}");
                    None
                }
            }
        }
    })
}

fn issue_pages(s: Shared, filter: IssueFilter) -> impl Stream<Item = Vec<IssueRow>> {
    stream::unfold(Some(filter), move |filter| {
        let s = s.clone();
        async move {
            let filter = filter?;
            match s.store.issues(&filter).await {
                Ok(page) if page.is_empty() => None,
                Ok(page) => {
                    let next = (page.len() == CHUNK as usize).then(|| IssueFilter {
                        after: page.last().map(|r| (r.issue.score, r.issue.id)),
                        ..filter
                    });
                    Some((page, next))
                }
                Err(e) => {
                    tracing::error!("export stopped: {e}");
                    None
                }
            }
        }
    })
}

fn framed<T, S>(
    pages: S,
    head: Bytes,
    tail: Bytes,
    mut render: impl FnMut(&T, bool) -> Bytes + Send + 'static,
) -> Body
where
    T: Send + 'static,
    S: Stream<Item = Vec<T>> + Send + 'static,
{
    use futures::StreamExt;
    let mut first = true;
    let rows = pages.map(move |page| {
        let mut buf = Vec::new();
        for row in &page {
            buf.extend_from_slice(&render(row, first));
            first = false;
        }
        Ok::<_, std::io::Error>(Bytes::from(buf))
    });
    let all = stream::once(async move { Ok(head) })
        .chain(rows)
        .chain(stream::once(async move { Ok(tail) }));
    Body::from_stream(all)
}

async fn items(s: Shared, uri: Uri, format: Format) -> ApiResult<Response> {
    let params = Params::parse(&uri, ITEM_PARAMS)?;
    // An export is the whole filtered view, never one page of it (`limit` is not read).
    let filter = ItemFilter {
        after_id: None,
        ..item_filter(&params)?
    };
    let pages = item_pages(s, filter);
    Ok(match format {
        Format::Csv => attachment(
            framed(
                pages,
                csv_line(&[
                    "item_id",
                    "arn",
                    "resource_type",
                    "resource_id",
                    "resource_name",
                    "account_id",
                    "region",
                    "deleted",
                    "last_changed",
                    "score",
                    "open_issues",
                ]),
                Bytes::new(),
                |i: &ItemSummary, _| {
                    csv_line(&[
                        &i.id.to_string(),
                        &i.arn,
                        &i.resource_type,
                        &i.resource_id,
                        &i.resource_name,
                        &i.account_id,
                        &i.region,
                        if i.deleted { "true" } else { "false" },
                        &crate::when::rfc3339(i.last_changed_ms),
                        &i.score.to_string(),
                        &i.open_issues.to_string(),
                    ])
                },
            ),
            "text/csv; charset=utf-8",
            "attachment; filename=\"simian-items.csv\"",
        ),
        Format::Json => attachment(
            framed(
                pages,
                Bytes::from_static(b"{\"items\":["),
                Bytes::from_static(b"]}\n"),
                |i: &ItemSummary, first| {
                    let sep = if first { "" } else { "," };
                    Bytes::from(format!("{sep}{}", summary_json(i)))
                },
            ),
            "application/json",
            "attachment; filename=\"simian-items.json\"",
        ),
    })
}

async fn issues(s: Shared, uri: Uri, format: Format) -> ApiResult<Response> {
    let params = Params::parse(&uri, ISSUE_PARAMS)?;
    let since = views::last_sweep(&s).await?.map_or(0, |w| w.started_ms);
    let mut filter = issue_filter(&params, since)?;
    filter.after = None;
    filter.limit = Some(u64::from(CHUNK));
    let pages = issue_pages(s, filter);
    Ok(match format {
        Format::Csv => attachment(
            framed(
                pages,
                csv_line(&[
                    "issue_id",
                    "item_id",
                    "arn",
                    "account_id",
                    "region",
                    "resource_type",
                    "plugin",
                    "check_id",
                    "title",
                    "score",
                    "status",
                    "justified_by",
                    "justification",
                    "first_seen",
                    "notes",
                ]),
                Bytes::new(),
                |r: &IssueRow, _| {
                    let i = &r.issue;
                    let (by, why) = i
                        .justification
                        .as_ref()
                        .map_or(("", ""), |j| (j.by.as_str(), j.reason.as_str()));
                    csv_line(&[
                        &i.id.to_string(),
                        &i.item_id.to_string(),
                        &r.arn,
                        &r.account_id,
                        &r.region,
                        &r.resource_type,
                        &i.plugin,
                        &i.check_id,
                        &i.title,
                        &i.score.to_string(),
                        if i.open { "open" } else { "fixed" },
                        by,
                        why,
                        &crate::when::rfc3339(i.first_seen_ms),
                        &i.notes,
                    ])
                },
            ),
            "text/csv; charset=utf-8",
            "attachment; filename=\"simian-issues.csv\"",
        ),
        Format::Json => attachment(
            framed(
                pages,
                Bytes::from_static(b"{\"issues\":["),
                Bytes::from_static(b"]}\n"),
                |r: &IssueRow, first| {
                    let sep = if first { "" } else { "," };
                    Bytes::from(format!(
                        "{sep}{}",
                        serde_json::to_string(r).unwrap_or_else(|_| "null".into())
                    ))
                },
            ),
            "application/json",
            "attachment; filename=\"simian-issues.json\"",
        ),
    })
}

pub async fn items_csv(State(s): State<Shared>, _c: Caller, uri: Uri) -> ApiResult<Response> {
    items(s, uri, Format::Csv).await
}

pub async fn items_json(State(s): State<Shared>, _c: Caller, uri: Uri) -> ApiResult<Response> {
    items(s, uri, Format::Json).await
}

pub async fn issues_csv(State(s): State<Shared>, _c: Caller, uri: Uri) -> ApiResult<Response> {
    issues(s, uri, Format::Csv).await
}

pub async fn issues_json(State(s): State<Shared>, _c: Caller, uri: Uri) -> ApiResult<Response> {
    issues(s, uri, Format::Json).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_defused_and_quotes_escaped() {
        let line = csv_line(&["=HYPERLINK(\"http://evil\")", "plain", "-1", "a,b"]);
        assert_eq!(
            String::from_utf8_lossy(&line),
            "\"'=HYPERLINK(\"\"http://evil\"\")\",plain,'-1,\"a,b\"\n"
        );
    }
}
