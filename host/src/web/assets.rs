//! The console's static files, compiled into the binary: our stylesheet and the vendored
//! htmx (see host/static/vendor/README.md for its origin and licence).

use axum::extract::Path;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::error::WebError;

const CSS: &str = include_str!("../../static/simian.css");
const HTMX: &str = include_str!("../../static/vendor/htmx-2.0.11.min.js");

pub async fn file(Path(name): Path<String>) -> Response {
    let (body, kind) = match name.as_str() {
        "simian.css" => (CSS, "text/css; charset=utf-8"),
        "htmx.min.js" => (HTMX, "text/javascript; charset=utf-8"),
        _ => return WebError::NotFound("no such file".into()).into_page(),
    };
    let mut response = body.into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    response
}
