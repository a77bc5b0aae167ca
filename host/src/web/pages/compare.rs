//! Items or revisions side by side.

use askama::Template;
use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;

use super::{Layout, html};
use crate::web::Shared;
use crate::web::auth::Caller;
use crate::web::error::{PageResult, WebError};
use crate::web::params::Params;
use crate::web::views::{self, Comparison};

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
    // `views::compare` reads only its own parameters; `all` is this page's.
    let c = if params.text("items").is_none() && params.text("item").is_none() {
        Comparison {
            columns: Vec::new(),
            column_links: Vec::new(),
            rows: Vec::new(),
        }
    } else {
        views::compare(&s, &params).await?
    };
    Ok(html(&ComparePage {
        layout,
        c,
        only_differences,
    }))
}
