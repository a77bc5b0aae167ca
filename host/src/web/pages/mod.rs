//! The console's pages: server-rendered askama templates over the values `views` computes.
//! Readable without JavaScript; htmx (vendored) swaps the items table, the issue groups and
//! the justify forms in place. Every stored string reaches the page through askama's HTML
//! escaping; templates never mark data `safe`.

mod compare;
mod dashboard;
mod issues;
mod items;
mod status;

use axum::http::{HeaderMap, Uri};
use axum::response::Response;

use super::Shared;
use super::auth::Caller;
use super::error::WebError;
use super::params::Params;
use crate::users::Role;

pub use super::render::html;
pub use compare::compare;
pub use dashboard::dashboard;
pub use issues::{issue_group, issues, justify, justify_bulk, unjustify};
pub use items::{item, items};
pub use status::{accounts, plugins};

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

pub(super) fn is_htmx(headers: &HeaderMap) -> bool {
    headers.contains_key("hx-request")
}

pub async fn not_found(uri: Uri) -> Response {
    WebError::NotFound(format!(
        "no page at {}",
        crate::text::escape_controls(uri.path())
    ))
    .into_page()
}

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
    pub(super) fn from(params: &Params) -> FilterForm {
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

pub(super) fn account_choices(s: &Shared) -> Vec<(String, String)> {
    s.runtime
        .config()
        .accounts
        .iter()
        .map(|a| (a.id.clone(), a.name.clone()))
        .collect()
}
