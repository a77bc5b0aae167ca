//! The API's OpenAPI 3.1 document, built from one table of operations, and a human-readable
//! page of the same table. The console test calls every documented GET path, so a documented
//! route that is not served fails it; a new route must be added here by hand.

use axum::Json;
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::auth::Caller;
use super::params::{API_ISSUE_PARAMS, API_ITEM_PARAMS, ISSUE_PARAMS, ITEM_PARAMS};

/// One operation: method, path (OpenAPI syntax), the least role, summary, query parameters,
/// and a JSON body's required fields (writes only).
pub struct Operation {
    pub method: &'static str,
    pub path: &'static str,
    pub role: &'static str,
    pub summary: &'static str,
    pub query: &'static [&'static str],
    pub body: &'static [&'static str],
}

pub const OPERATIONS: &[Operation] = &[
    Operation {
        method: "get",
        path: "/items",
        role: "viewer",
        summary: "Items matching a filter, a page at a time (keyset cursor); with `at`, the estate as it was then.",
        query: API_ITEM_PARAMS,
        body: &[],
    },
    Operation {
        method: "get",
        path: "/items/{id}",
        role: "viewer",
        summary: "One item: envelope, score, newest revisions with diffs, issues with their audit trail.",
        query: &[],
        body: &[],
    },
    Operation {
        method: "get",
        path: "/items/{id}/revisions",
        role: "viewer",
        summary: "An item's revisions, newest first, each with its diff against the one before.",
        query: &["cursor", "limit"],
        body: &[],
    },
    Operation {
        method: "get",
        path: "/items/{id}/diff",
        role: "viewer",
        summary: "The structured diff between two revisions of an item (ephemeral paths marked).",
        query: &["from", "to"],
        body: &[],
    },
    Operation {
        method: "get",
        path: "/compare",
        role: "viewer",
        summary: "2–4 items (items=1,2) or two revisions (item=&from=&to=) aligned path by path.",
        query: &["items", "item", "from", "to"],
        body: &[],
    },
    Operation {
        method: "get",
        path: "/issues",
        role: "viewer",
        summary: "Issues matching a filter, worst first, a page at a time; with `at`, as recorded then.",
        query: API_ISSUE_PARAMS,
        body: &[],
    },
    Operation {
        method: "get",
        path: "/issues/groups",
        role: "viewer",
        summary: "Issues grouped by check: X of Y items, worst score, failing since.",
        query: ISSUE_PARAMS,
        body: &[],
    },
    Operation {
        method: "get",
        path: "/issues/{id}",
        role: "viewer",
        summary: "One issue with its item and audit trail.",
        query: &[],
        body: &[],
    },
    Operation {
        method: "post",
        path: "/issues/{id}/justify",
        role: "justifier",
        summary: "Justify one issue (its evidence only), optionally until a date.",
        query: &[],
        body: &["reason"],
    },
    Operation {
        method: "post",
        path: "/issues/{id}/unjustify",
        role: "justifier",
        summary: "Withdraw an issue's justification.",
        query: &[],
        body: &[],
    },
    Operation {
        method: "post",
        path: "/issues/justify",
        role: "justifier",
        summary: "Bulk justify a filter's open issues: without `confirm` a preview; with the previewed count, applied.",
        query: &[],
        body: &["filter"],
    },
    Operation {
        method: "get",
        path: "/accounts",
        role: "viewer",
        summary: "The configured accounts.",
        query: &[],
        body: &[],
    },
    Operation {
        method: "get",
        path: "/plugins",
        role: "viewer",
        summary: "Plugins: status, counters, re-audit progress, outbox.",
        query: &[],
        body: &[],
    },
    Operation {
        method: "get",
        path: "/sweeps",
        role: "viewer",
        summary: "Recent sweeps, the last sweep's listing errors, and each (account, type)'s last listing.",
        query: &["limit"],
        body: &[],
    },
    Operation {
        method: "get",
        path: "/dashboard",
        role: "viewer",
        summary: "The dashboard's figures: scores, bands, news since the last sweep, health, 30-day series.",
        query: &[],
        body: &[],
    },
    Operation {
        method: "get",
        path: "/users",
        role: "admin",
        summary: "Console users and their roles.",
        query: &[],
        body: &[],
    },
    Operation {
        method: "get",
        path: "/tokens",
        role: "admin",
        summary: "API tokens (never their secrets): owner, expiry, last use.",
        query: &[],
        body: &[],
    },
    Operation {
        method: "post",
        path: "/tokens",
        role: "admin",
        summary: "Create an API token for a user; the token is shown once.",
        query: &[],
        body: &["user"],
    },
    Operation {
        method: "post",
        path: "/tokens/{id}/revoke",
        role: "admin",
        summary: "Revoke an API token.",
        query: &[],
        body: &[],
    },
    Operation {
        method: "get",
        path: "/export/items.csv",
        role: "viewer",
        summary: "Every item of a filter as CSV (streamed).",
        query: ITEM_PARAMS,
        body: &[],
    },
    Operation {
        method: "get",
        path: "/export/items.json",
        role: "viewer",
        summary: "Every item of a filter as JSON (streamed).",
        query: ITEM_PARAMS,
        body: &[],
    },
    Operation {
        method: "get",
        path: "/export/issues.csv",
        role: "viewer",
        summary: "Every issue of a filter as CSV (streamed).",
        query: ISSUE_PARAMS,
        body: &[],
    },
    Operation {
        method: "get",
        path: "/export/issues.json",
        role: "viewer",
        summary: "Every issue of a filter as JSON (streamed).",
        query: ISSUE_PARAMS,
        body: &[],
    },
    Operation {
        method: "get",
        path: "/openapi.json",
        role: "viewer",
        summary: "This document.",
        query: &[],
        body: &[],
    },
];

/// What the `at` parameter means, in the document and on the API page.
pub const AT_DESCRIPTION: &str = "Time travel: answer as of this moment — unix milliseconds, \
    YYYY-MM-DD (the start of that day, UTC) or RFC 3339 (UTC). Items are those whose revision \
    in force then (the latest captured at or before it) is not a deletion; issues are as \
    recorded then (open, score, justification), not re-judged. The response gains `at` (unix \
    ms). A malformed moment is a 400 naming `at`.";

pub fn spec() -> Value {
    let mut paths: Map<String, Value> = Map::new();
    for op in OPERATIONS {
        let mut parameters: Vec<Value> = op
            .query
            .iter()
            .map(|q| {
                let mut p = json!({"name": q, "in": "query", "required": false, "schema": {"type": "string"}});
                if *q == "at" {
                    p["description"] = json!(AT_DESCRIPTION);
                }
                p
            })
            .collect();
        if op.path.contains("{id}") {
            parameters.push(json!({"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}));
        }
        let mut operation = json!({
            "summary": op.summary,
            "description": format!("Needs the {} role.", op.role),
            "parameters": parameters,
            "responses": {
                "200": {"description": "OK"},
                "400": {"description": "A malformed or unknown parameter or body field", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                "401": {"description": "No valid session or token"},
                "403": {"description": "The caller's role does not allow this, or CSRF"},
                "404": {"description": "No such item, issue, revision or token"},
            },
        });
        if !op.body.is_empty() || op.method == "post" {
            operation["requestBody"] = json!({
                "required": !op.body.is_empty(),
                "content": {"application/json": {"schema": {
                    "type": "object", "required": op.body,
                }}},
            });
        }
        paths
            .entry(format!("/api/v1{}", op.path))
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .map(|o| o.insert(op.method.to_string(), operation));
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "simian", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Configuration history and audit findings of the watched AWS accounts."},
        "security": [{"bearer": []}, {"session": []}],
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "simian token create"},
                "session": {"type": "apiKey", "in": "cookie", "name": "simian_session"},
            },
            "schemas": {"Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}}},
        },
        "paths": paths,
    })
}

pub async fn document(_c: Caller) -> Json<Value> {
    Json(spec())
}

#[derive(askama::Template)]
#[template(path = "api.html")]
pub struct ApiPage {
    pub layout: super::pages::Layout,
    pub operations: &'static [Operation],
}

pub async fn page(caller: Caller) -> Response {
    super::pages::html(&ApiPage {
        layout: super::pages::Layout::for_caller(&caller, "api", "API"),
        operations: OPERATIONS,
    })
}
