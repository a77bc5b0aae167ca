//! The items list (filters in the URL, keyset pages, htmx table swaps) and one item's page
//! (configuration, issues with their trail and justify forms, revisions with diffs).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri};
use axum::response::Response;

use super::{FilterForm, Layout, account_choices, html, is_htmx};
use crate::store::ItemSummary;
use crate::web::Shared;
use crate::web::auth::Caller;
use crate::web::error::PageResult;
use crate::web::params::{ITEM_PARAMS, Params};
use crate::web::views::{self, DiffLine, ItemDetail};
use crate::when::rfc3339;

pub struct ItemRow {
    pub id: i64,
    pub name: String,
    pub resource_type: String,
    pub account: String,
    pub region: String,
    pub arn: String,
    pub score: u32,
    pub open_issues: u32,
    pub deleted: bool,
    pub changed: String,
}

impl From<&ItemSummary> for ItemRow {
    fn from(i: &ItemSummary) -> ItemRow {
        ItemRow {
            id: i.id,
            name: if i.resource_name.is_empty() {
                i.resource_id.clone()
            } else {
                i.resource_name.clone()
            },
            resource_type: i.resource_type.clone(),
            account: i.account_id.clone(),
            region: i.region.clone(),
            arn: i.arn.clone(),
            score: i.score,
            open_issues: i.open_issues,
            deleted: i.deleted,
            changed: rfc3339(i.last_changed_ms),
        }
    }
}

#[derive(Template)]
#[template(path = "items.html")]
pub struct ItemsPage {
    pub layout: Layout,
    pub rows: Vec<ItemRow>,
    pub total: u64,
    pub next: Option<String>,
    pub query: String,
    pub f: FilterForm,
    pub types: Vec<String>,
    pub accounts: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "items_rows.html")]
pub struct ItemsRows {
    pub rows: Vec<ItemRow>,
    pub total: u64,
    pub next: Option<String>,
    pub query: String,
}

/// The filter form's current values.
pub async fn items(
    State(s): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
    uri: Uri,
) -> PageResult<Response> {
    let params = Params::parse(&uri, ITEM_PARAMS)?;
    let page = views::item_page(&s, &params).await?;
    let rows: Vec<ItemRow> = page.items.iter().map(ItemRow::from).collect();
    if is_htmx(&headers) {
        return Ok(html(&ItemsRows {
            rows,
            total: page.total,
            next: page.next_cursor,
            query: page.query,
        }));
    }
    Ok(html(&ItemsPage {
        layout: Layout::new(&caller, "items", "Items"),
        rows,
        total: page.total,
        next: page.next_cursor,
        query: page.query,
        f: FilterForm::from(&params),
        types: crate::resource_types::all()
            .into_iter()
            .map(String::from)
            .collect(),
        accounts: account_choices(&s),
    }))
}

pub struct DiffRow {
    pub sign: &'static str,
    pub class: &'static str,
    pub path: String,
    pub old: String,
    pub new: String,
    pub ephemeral: bool,
}

fn diff_rows(lines: &[DiffLine]) -> Vec<DiffRow> {
    use crate::store::DiffOp;
    let show = |v: &Option<serde_json::Value>| v.as_ref().map_or(String::new(), |v| v.to_string());
    lines
        .iter()
        .map(|l| {
            let (sign, class) = match l.entry.op {
                DiffOp::Added => ("+", "added"),
                DiffOp::Removed => ("-", "removed"),
                DiffOp::Changed => ("~", "changed"),
            };
            DiffRow {
                sign,
                class,
                path: l.entry.path.clone(),
                old: show(&l.entry.old),
                new: show(&l.entry.new),
                ephemeral: l.ephemeral,
            }
        })
        .collect()
}

pub struct RevisionRow {
    pub id: i64,
    pub kind: String,
    pub captured: String,
    pub sweep: i64,
    pub first: bool,
    pub previous: Option<i64>,
    pub diff: Vec<DiffRow>,
}

pub struct IssueCard {
    pub id: i64,
    pub open: bool,
    pub title: String,
    pub score: u32,
    pub plugin: String,
    pub check_id: String,
    pub notes: String,
    pub remediation: String,
    pub first_seen: String,
    pub fixed: String,
    pub introduced_in: String,
    pub justified: Option<String>,
    pub actions: Vec<String>,
    pub disabled: bool,
}

#[derive(Template)]
#[template(path = "item.html")]
pub struct ItemPage {
    pub layout: Layout,
    pub id: i64,
    pub name: String,
    pub arn: String,
    pub resource_type: String,
    pub account: String,
    pub region: String,
    pub deleted: bool,
    pub score: u32,
    pub configuration: String,
    pub tags: Vec<(String, String)>,
    pub revision_count: u64,
    pub revisions: Vec<RevisionRow>,
    pub next: Option<String>,
    pub issues: Vec<IssueCard>,
}

fn issue_card(v: &views::IssueView) -> IssueCard {
    let i = &v.issue;
    IssueCard {
        id: i.id,
        open: i.open,
        title: i.title.clone(),
        score: i.score,
        plugin: i.plugin.clone(),
        check_id: i.check_id.clone(),
        notes: i.notes.clone(),
        remediation: i.remediation.clone().unwrap_or_default(),
        first_seen: rfc3339(i.first_seen_ms),
        fixed: i.fixed_ms.map(rfc3339).unwrap_or_default(),
        introduced_in: v.introduced_in.map(|r| r.to_string()).unwrap_or_default(),
        justified: i.justification.as_ref().map(|j| {
            let until = j
                .until_ms
                .map(|u| format!(" until {}", rfc3339(u)))
                .unwrap_or_default();
            format!("justified by {}{until}: {}", j.by, j.reason)
        }),
        actions: v
            .actions
            .iter()
            .map(|a| {
                format!(
                    "{} {} by {} via {}{}",
                    rfc3339(a.at_ms),
                    a.action,
                    a.actor,
                    a.via,
                    a.reason
                        .as_ref()
                        .map(|r| format!(": {r}"))
                        .unwrap_or_default()
                )
            })
            .collect(),
        disabled: i.disabled,
    }
}

fn item_page_of(caller: &Caller, d: &ItemDetail) -> ItemPage {
    let item = &d.stored.item;
    let configuration = serde_json::from_str::<serde_json::Value>(&item.configuration)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| item.configuration.clone());
    ItemPage {
        layout: Layout::new(caller, "items", item.label()),
        id: d.stored.id,
        name: if item.resource_name.is_empty() {
            item.resource_id.clone()
        } else {
            item.resource_name.clone()
        },
        arn: item.arn.clone(),
        resource_type: item.resource_type.clone(),
        account: item.account_id.clone(),
        region: item.region.clone(),
        deleted: d.stored.deleted,
        score: d.score,
        configuration,
        tags: item.tags.clone(),
        revision_count: d.revision_count,
        revisions: d
            .revisions
            .revisions
            .iter()
            .enumerate()
            .map(|(n, r)| RevisionRow {
                id: r.revision.id,
                kind: r.revision.kind.as_str().to_string(),
                captured: rfc3339(r.revision.captured_at_ms),
                sweep: r.revision.sweep_id.0,
                first: r.first,
                previous: d
                    .revisions
                    .revisions
                    .get(n + 1)
                    .map(|p| p.revision.id)
                    .or_else(|| (!r.first).then_some(0)),
                diff: diff_rows(&r.diff),
            })
            .collect(),
        next: d.revisions.next_cursor.clone(),
        issues: d.issues.iter().map(issue_card).collect(),
    }
}

pub async fn item(
    State(s): State<Shared>,
    caller: Caller,
    Path(id): Path<String>,
    uri: Uri,
) -> PageResult<Response> {
    let params = Params::parse(&uri, &["cursor"])?;
    let id = views::item_id(&id)?;
    let detail = views::item_detail_page(&s, id, &params).await?;
    Ok(html(&item_page_of(&caller, &detail)))
}
