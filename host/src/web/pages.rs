//! The console's pages: server-rendered askama templates over the values `views` computes.
//! Readable without JavaScript; htmx (vendored) swaps the items table, the issue groups and
//! the justify forms in place. Every stored string reaches the page through askama's HTML
//! escaping; templates never mark data `safe`.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::Shared;
use super::auth::Caller;
use super::error::{PageResult, WebError};
use super::params::{ISSUE_PARAMS, ITEM_PARAMS, Params};
use super::views::{self, BulkOutcome, Comparison, DiffLine, GroupView, ItemDetail};
use crate::store::{Actor, IssueRow, ItemSummary};
use crate::users::Role;
use crate::when::rfc3339;

/// Render a template; a template error is logged and shown as a plain 500.
pub fn html<T: Template>(page: &T) -> Response {
    match page.render() {
        Ok(body) => Html(body).into_response(),
        Err(e) => {
            tracing::error!("rendering a console page failed: {e}");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

/// What every signed-in page shows around its content.
pub struct Layout {
    pub title: String,
    pub nav: &'static str,
    pub user: String,
    pub role: String,
    pub csrf: String,
    pub can_justify: bool,
}

impl Layout {
    pub fn for_caller(caller: &Caller, nav: &'static str, title: &str) -> Layout {
        Layout::new(caller, nav, title)
    }

    fn new(caller: &Caller, nav: &'static str, title: impl Into<String>) -> Layout {
        Layout {
            title: title.into(),
            nav,
            user: caller.name.clone(),
            role: caller.role.to_string(),
            csrf: caller.csrf.clone().unwrap_or_default(),
            can_justify: caller.role.allows(Role::Justifier),
        }
    }
}

fn is_htmx(headers: &HeaderMap) -> bool {
    headers.contains_key("hx-request")
}

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub next: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub status: u16,
    pub message: String,
}

pub async fn not_found(uri: Uri) -> Response {
    WebError::NotFound(format!(
        "no page at {}",
        crate::text::escape_controls(uri.path())
    ))
    .into_page()
}

/// One bar or point of a chart, precomputed so the template only places numbers.
pub struct Bar {
    pub x: u32,
    pub y: u32,
    pub h: u32,
    pub label: String,
}

pub struct Line {
    pub name: String,
    pub points: String,
    pub class: String,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
pub struct DashboardPage {
    pub layout: Layout,
    pub d: views::Dashboard,
    pub last_sweep: String,
    pub accounts: Vec<(String, String, u64)>,
    pub new_bars: Vec<Bar>,
    pub fixed_bars: Vec<Bar>,
    pub lines: Vec<Line>,
    pub max_score: u64,
    pub max_day: u64,
    pub first_day: String,
    pub last_day: String,
    pub stale: Vec<(String, String, String, String)>,
    pub band10: u64,
    pub band5: u64,
    pub band1: u64,
}

const CHART_W: u32 = 600;
const CHART_H: u32 = 120;

pub async fn dashboard(State(s): State<Shared>, caller: Caller) -> PageResult<Response> {
    let d = views::dashboard(&s).await?;
    let names: std::collections::BTreeMap<String, String> = s
        .runtime
        .config()
        .accounts
        .iter()
        .map(|a| (a.id.clone(), a.name.clone()))
        .collect();
    let days = d.days.len().max(1) as u32;
    let step = CHART_W / days;
    let max_day = d
        .days
        .iter()
        .map(|p| p.new.max(p.fixed))
        .max()
        .unwrap_or(0)
        .max(1);
    let bar = |i: usize, n: u64, offset: u32, label: String| {
        let h = (n * u64::from(CHART_H) / max_day) as u32;
        Bar {
            x: i as u32 * step + offset,
            y: CHART_H - h,
            h,
            label,
        }
    };
    let new_bars = d
        .days
        .iter()
        .enumerate()
        .map(|(i, p)| {
            bar(
                i,
                p.new,
                0,
                format!(
                    "{}: {} new",
                    rfc3339(p.day_ms).get(..10).unwrap_or(""),
                    p.new
                ),
            )
        })
        .collect();
    let fixed_bars = d
        .days
        .iter()
        .enumerate()
        .map(|(i, p)| {
            bar(
                i,
                p.fixed,
                step / 2,
                format!(
                    "{}: {} fixed",
                    rfc3339(p.day_ms).get(..10).unwrap_or(""),
                    p.fixed
                ),
            )
        })
        .collect();
    let accounts_seen: std::collections::BTreeSet<&String> =
        d.days.iter().flat_map(|p| p.open_score.keys()).collect();
    let max_score = d
        .days
        .iter()
        .flat_map(|p| p.open_score.values().copied())
        .max()
        .unwrap_or(0)
        .max(1);
    let lines = accounts_seen
        .iter()
        .enumerate()
        .map(|(n, account)| Line {
            name: names
                .get(*account)
                .map_or_else(|| (*account).clone(), |name| format!("{name} ({account})")),
            class: format!("series{}", n % 6),
            points: d
                .days
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    let v = p.open_score.get(*account).copied().unwrap_or(0);
                    format!(
                        "{},{}",
                        i as u32 * step + step / 2,
                        CHART_H - (v * u64::from(CHART_H) / max_score) as u32
                    )
                })
                .collect::<Vec<_>>()
                .join(" "),
        })
        .collect();
    let accounts = d
        .by_account
        .iter()
        .map(|(id, score)| {
            (
                id.clone(),
                names.get(id).cloned().unwrap_or_default(),
                *score,
            )
        })
        .collect();
    let stale = d
        .scopes
        .iter()
        .filter(|v| v.stale)
        .map(|v| {
            (
                v.health.account_id.clone(),
                v.health.resource_type.clone(),
                v.health.last_complete_ms.map_or("never".into(), rfc3339),
                v.health.last_error.clone().unwrap_or_default(),
            )
        })
        .collect();
    let page = DashboardPage {
        layout: Layout::new(&caller, "dashboard", "Dashboard"),
        last_sweep: d.last_sweep.as_ref().map_or("no sweep yet".into(), |w| {
            format!(
                "sweep {} {} at {}",
                w.id.0,
                w.status.as_str(),
                rfc3339(w.started_ms)
            )
        }),
        first_day: d
            .days
            .first()
            .map(|p| rfc3339(p.day_ms)[..10].to_string())
            .unwrap_or_default(),
        last_day: d
            .days
            .last()
            .map(|p| rfc3339(p.day_ms)[..10].to_string())
            .unwrap_or_default(),
        accounts,
        new_bars,
        fixed_bars,
        lines,
        max_score,
        max_day,
        stale,
        band10: d.bands[0],
        band5: d.bands[1],
        band1: d.bands[2],
        d,
    };
    Ok(html(&page))
}

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
#[derive(Default)]
pub struct FilterForm {
    pub account: String,
    pub region: String,
    pub rtype: String,
    pub q: String,
    pub has_issues: bool,
    pub min_score: String,
    pub deleted: bool,
    pub status: String,
    pub plugin: String,
    pub check: String,
}

impl FilterForm {
    fn from(params: &Params) -> FilterForm {
        let t = |k: &str| params.text(k).unwrap_or_default();
        FilterForm {
            account: t("account"),
            region: t("region"),
            rtype: t("type"),
            q: t("q"),
            has_issues: params.flag("has_issues").unwrap_or(false),
            min_score: t("min_score"),
            deleted: params.flag("deleted").unwrap_or(false),
            status: t("status"),
            plugin: t("plugin"),
            check: t("check"),
        }
    }
}

fn account_choices(s: &Shared) -> Vec<(String, String)> {
    s.runtime
        .config()
        .accounts
        .iter()
        .map(|a| (a.id.clone(), a.name.clone()))
        .collect()
}

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
    let page = views::issue_page(&s, &params).await?;
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
    caller.require(Role::Justifier)?;
    caller.check_write(&headers, form.csrf.as_deref())?;
    let id = views::issue_id(&id)?;
    let until = views::expiry(form.expires.as_deref())?;
    let reason = views::reason(&form.reason)?;
    let actor = Actor {
        name: &caller.name,
        via: caller.via.as_str(),
    };
    if s.store.justify_issues(&[id], &reason, actor, until).await? == 0 {
        return Err(WebError::NotFound(format!("no issue with id {id}")).into());
    }
    let (issue, _) = views::issue_with_actions(&s, id).await?;
    let fallback = format!("/items/{}#issue-{id}", issue.issue.item_id);
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
    caller.require(Role::Justifier)?;
    caller.check_write(&headers, form.csrf.as_deref())?;
    let id = views::issue_id(&id)?;
    let actor = Actor {
        name: &caller.name,
        via: caller.via.as_str(),
    };
    if s.store.unjustify_issues(&[id], actor).await? == 0 {
        return Err(WebError::NotFound(format!("no issue with id {id}")).into());
    }
    let (issue, _) = views::issue_with_actions(&s, id).await?;
    let fallback = format!("/items/{}#issue-{id}", issue.issue.item_id);
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

#[derive(Template)]
#[template(path = "compare.html")]
pub struct ComparePage {
    pub layout: Layout,
    pub c: Comparison,
    pub only_differences: bool,
}

/// The items page's checkboxes send `pick=ID` once per item: gather them into `items`.
fn gather_picks(uri: &Uri) -> String {
    let mut picks = Vec::new();
    let mut rest = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes()) {
        if k == "pick" {
            picks.push(v.into_owned());
        } else {
            rest.append_pair(&k, &v);
        }
    }
    if !picks.is_empty() {
        rest.append_pair("items", &picks.join(","));
    }
    rest.finish()
}

pub async fn compare(State(s): State<Shared>, caller: Caller, uri: Uri) -> PageResult<Response> {
    let query = gather_picks(&uri);
    let uri: Uri = format!("/compare?{query}")
        .parse()
        .map_err(|_| WebError::BadRequest("not a query string".into()))?;
    let params = Params::parse(&uri, &["items", "item", "from", "to", "all"])?;
    let only_differences = !params.flag("all")?;
    let layout = Layout::new(&caller, "compare", "Compare");
    if params.text("items").is_none() && params.text("item").is_none() {
        let c = Comparison {
            columns: Vec::new(),
            column_links: Vec::new(),
            rows: Vec::new(),
        };
        return Ok(html(&ComparePage {
            layout,
            c,
            only_differences,
        }));
    }
    let core: Uri = format!("/compare?{}", params.query_without(&["all"]))
        .parse()
        .map_err(|_| WebError::BadRequest("not a query string".into()))?;
    let core = Params::parse(&core, views::COMPARE_PARAMS)?;
    let c = views::compare(&s, &core).await?;
    Ok(html(&ComparePage {
        layout,
        c,
        only_differences,
    }))
}

#[derive(Template)]
#[template(path = "plugins.html")]
pub struct PluginsPage {
    pub layout: Layout,
    pub rows: Vec<Vec<String>>,
    pub config_error: Option<String>,
}

pub async fn plugins(State(s): State<Shared>, caller: Caller) -> PageResult<Response> {
    let v = views::plugins(&s).await;
    let text = |p: &serde_json::Value, k: &str| match &p[k] {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(t) => t.clone(),
        other => other.to_string(),
    };
    let rows = v["plugins"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|p| {
                    let work = if p["reaudit"].is_object() {
                        format!(
                            "re-audit {}/{}",
                            text(&p["reaudit"], "done"),
                            text(&p["reaudit"], "total")
                        )
                    } else if p["outbox"].is_object() {
                        format!(
                            "outbox: {} pending, {} failing",
                            text(&p["outbox"], "pending"),
                            text(&p["outbox"], "failing")
                        )
                    } else {
                        String::new()
                    };
                    vec![
                        text(p, "id"),
                        text(p, "version"),
                        text(p, "kind"),
                        text(p, "status"),
                        p["resource_types"]
                            .as_array()
                            .map(|t| {
                                t.iter()
                                    .filter_map(|x| x.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            })
                            .unwrap_or_default(),
                        work,
                        text(p, "last_error"),
                    ]
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(html(&PluginsPage {
        layout: Layout::new(&caller, "plugins", "Plugins"),
        rows,
        config_error: v["config_error"].as_str().map(String::from),
    }))
}

#[derive(Template)]
#[template(path = "accounts.html")]
pub struct AccountsPage {
    pub layout: Layout,
    pub rows: Vec<Vec<String>>,
}

pub async fn accounts(State(s): State<Shared>, caller: Caller) -> PageResult<Response> {
    let scores = s.store.scores_by_account_and_type().await?;
    let rows = s
        .runtime
        .config()
        .accounts
        .iter()
        .map(|a| {
            let score: u64 = scores
                .iter()
                .filter(|c| c.account_id == a.id)
                .map(|c| c.score)
                .sum();
            vec![
                a.id.clone(),
                a.name.clone(),
                if a.third_party { "third party" } else { "own" }.to_string(),
                if a.active { "active" } else { "inactive" }.to_string(),
                a.regions.join(", "),
                score.to_string(),
            ]
        })
        .collect();
    Ok(html(&AccountsPage {
        layout: Layout::new(&caller, "accounts", "Accounts"),
        rows,
    }))
}
