//! The REST API and the console's server side, through a real `simian run` fed by moto, on
//! SQLite and PostgreSQL: authentication, roles, tokens, CSRF, filters and pagination, diffs,
//! justification with its audit trail, exports, and bad input answered with clear 4xx that
//! change nothing.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{Value, json};
use simian_tests::console::{Console, FORMULA_NAME, HOSTILE_TAG, PASSWORD};
use simian_tests::pg::on_postgres;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_and_console_on_sqlite() {
    api_and_console(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_and_console_on_postgres() {
    on_postgres(
        "web",
        |url| async move { api_and_console(Some(&url)).await },
    )
    .await;
}

async fn api_and_console(storage: Option<&str>) {
    // Sweeps every 2 s, so a change made in moto shows up as a new revision.
    let c = Console::start(storage, 2).await;
    let viewer = c.token("viewer");
    let justifier = c.token("justifier");
    let admin = c.token("admin");
    c.wait_for_issues(&viewer).await;

    anonymous_callers_get_nothing(&c).await;
    metrics_need_a_login_and_readiness_names_nothing(&c, &viewer).await;
    items_filter_and_page(&c, &viewer).await;
    bad_input_is_a_clear_4xx_and_changes_nothing(&c, &viewer, &justifier).await;
    roles_decide_who_writes(&c, &viewer, &justifier, &admin).await;
    tokens_expire_and_revoke(&c, &admin).await;
    sessions_need_csrf(&c).await;
    failed_logins_are_limited(&c).await;
    revisions_diff(&c, &viewer).await;
    exports_match_the_view(&c, &viewer).await;
    bulk_justify_previews_then_applies(&c, &justifier).await;
    openapi_documents_every_route(&c, &viewer).await;
}

async fn metrics_need_a_login_and_readiness_names_nothing(c: &Console, viewer: &str) {
    for token in [None, Some("simian_not-a-token")] {
        let r = c.get("/metrics", token).await;
        let status = r.status().as_u16();
        let body = r.text().await.unwrap_or_default();
        assert!(matches!(status, 401 | 303), "{status}: {body}");
        assert!(!body.contains("simian_"), "{body}");
    }
    let r = c.get("/metrics", Some(viewer)).await;
    assert_eq!(r.status().as_u16(), 200);
    let text = r.text().await.expect("metrics");
    assert!(text.contains("# TYPE simian_sweeps counter"), "{text}");
    assert!(text.contains("simian_listings_total{"), "{text}");
    // Readiness is open to probes, so it says how many, never which.
    let r = c.get("/health/ready", None).await;
    assert!(matches!(r.status().as_u16(), 200 | 503));
    let body = r.text().await.expect("readiness");
    let v: Value = serde_json::from_str(&body).expect("readiness JSON");
    assert_eq!(v["store"], "ok", "{body}");
    assert!(!body.contains("123456789012"), "{body}");
    assert!(!body.contains("sg-internet-accessible"), "{body}");
}

async fn anonymous_callers_get_nothing(c: &Console) {
    let r = c.get("/health", None).await;
    assert_eq!(r.status().as_u16(), 200);
    let (status, v) = c.get_json("/api/v1/items", None).await;
    assert_eq!((status, v["error"].as_str()), (401, Some("sign in first")));
    let r = c.get("/items?type=AWS::EC2::SecurityGroup", None).await;
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(
        r.headers()["location"],
        "/login?next=%2Fitems%3Ftype%3DAWS%3A%3AEC2%3A%3ASecurityGroup"
    );
    let (status, _) = c
        .get_json("/api/v1/items", Some("simian_not-a-token"))
        .await;
    assert_eq!(status, 401);
    // Security headers on everything, the login page included.
    let r = c.get("/login", None).await;
    let h = r.headers();
    let csp = h["content-security-policy"].to_str().expect("csp");
    assert!(
        csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "same-origin");
}

fn ids(v: &Value) -> Vec<i64> {
    v["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|i| i["simian"]["itemId"].as_i64())
                .collect()
        })
        .unwrap_or_default()
}

async fn items_filter_and_page(c: &Console, token: &str) {
    let (status, all) = c.get_json("/api/v1/items?limit=500", Some(token)).await;
    assert_eq!(status, 200, "{all}");
    let total = all["total"].as_u64().expect("total");
    assert_eq!(total as usize, ids(&all).len());
    assert!(total >= 10, "{all}");
    // Keyset pages of 3 cover everything exactly once, in order.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/items?limit=3&cursor={c}"),
            None => "/api/v1/items?limit=3".to_string(),
        };
        let (status, page) = c.get_json(&path, Some(token)).await;
        assert_eq!(status, 200, "{page}");
        assert!(ids(&page).len() <= 3);
        seen.extend(ids(&page));
        cursor = page["next_cursor"].as_str().map(String::from);
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(seen, ids(&all));
    // Filters.
    let (_, sgs) = c
        .get_json("/api/v1/items?type=AWS::EC2::SecurityGroup", Some(token))
        .await;
    let list = sgs["items"].as_array().expect("items");
    assert!(list.len() >= 3, "{sgs}");
    assert!(
        list.iter()
            .all(|i| i["resourceType"] == "AWS::EC2::SecurityGroup")
    );
    let (_, named) = c.get_json("/api/v1/items?q=OPEN-SSH", Some(token)).await;
    let names: Vec<&str> = named["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["resourceName"].as_str())
        .collect();
    assert_eq!(names, ["open-ssh"], "{named}");
    let (_, scored) = c.get_json("/api/v1/items?min_score=10", Some(token)).await;
    let scored = scored["items"].as_array().expect("items").clone();
    assert!(!scored.is_empty());
    assert!(
        scored
            .iter()
            .all(|i| i["simian"]["score"].as_u64() >= Some(10)),
        "{scored:?}"
    );
    let (_, with_issues) = c
        .get_json("/api/v1/items?has_issues=true", Some(token))
        .await;
    assert!(
        with_issues["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|i| i["simian"]["openIssues"].as_u64() > Some(0))
    );
    // One item: envelope, issues, the hostile tag as data.
    let open_ssh = named["items"][0]["simian"]["itemId"].as_i64().expect("id");
    let (status, item) = c
        .get_json(&format!("/api/v1/items/{open_ssh}"), Some(token))
        .await;
    assert_eq!(status, 200, "{item}");
    assert_eq!(item["tags"]["note"], HOSTILE_TAG);
    assert!(
        item["issues"].as_array().is_some_and(|a| !a.is_empty()),
        "{item}"
    );
    // The item page renders the tag as text.
    let cookie = c.login("viewer", PASSWORD).await.expect("login");
    let page = c
        .http
        .get(c.url(&format!("/items/{open_ssh}")))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(
        !page.contains("<script>window.__pwned"),
        "raw markup in the page"
    );
    let shown = page
        .find("window.__pwned=1")
        .map(|i| &page[i.saturating_sub(40)..(i + 60).min(page.len())])
        .unwrap_or("(absent)");
    assert!(
        page.contains("&#60;script&#62;window.__pwned=1&#60;")
            || page.contains("&lt;script&gt;window.__pwned=1&lt;"),
        "tag not shown: {shown}"
    );
}

async fn issue_count(c: &Console, token: &str) -> usize {
    let (_, v) = c
        .get_json("/api/v1/issues?status=all&limit=500", Some(token))
        .await;
    v["issues"].as_array().map_or(0, Vec::len)
}

async fn justified_count(c: &Console, token: &str) -> usize {
    let (_, v) = c
        .get_json("/api/v1/issues?status=justified&limit=500", Some(token))
        .await;
    v["issues"].as_array().map_or(0, Vec::len)
}

async fn bad_input_is_a_clear_4xx_and_changes_nothing(c: &Console, viewer: &str, justifier: &str) {
    let before = (
        issue_count(c, viewer).await,
        justified_count(c, viewer).await,
    );
    for (path, status, says) in [
        ("/api/v1/items?acount=1", 400, "unknown parameter `acount`"),
        ("/api/v1/items?cursor=xyz", 400, "`cursor`"),
        ("/api/v1/items?limit=0", 400, "`limit`"),
        ("/api/v1/items?type=AWS::Nope", 400, "not a resource type"),
        ("/api/v1/items?min_score=-1", 400, "`min_score`"),
        ("/api/v1/issues?status=closed", 400, "`status`"),
        ("/api/v1/issues?cursor=1", 400, "`cursor`"),
        ("/api/v1/items/abc", 400, "an item id is a number"),
        ("/api/v1/items/999999999", 404, "no item with id 999999999"),
        ("/api/v1/items/1/diff?from=1", 400, "`to` is required"),
        ("/api/v1/issues/424242", 404, "no issue"),
        ("/api/v1/nothing-here", 404, "no API route"),
        ("/api/v1/compare?items=1", 400, "2 to 4 items"),
    ] {
        let (got, v) = c.get_json(path, Some(viewer)).await;
        assert_eq!(got, status, "{path}: {v}");
        let error = v["error"].as_str().unwrap_or_default();
        assert!(error.contains(says), "{path}: {error}");
    }
    let (_, issues) = c.get_json("/api/v1/issues?limit=1", Some(viewer)).await;
    let id = issues["issues"][0]["id"].as_i64().expect("an issue");
    let path = format!("/api/v1/issues/{id}/justify");
    // Wrong content type, malformed JSON, unknown field, empty reason, past expiry, huge body.
    let r = c
        .http
        .post(c.url(&path))
        .bearer_auth(justifier)
        .header("content-type", "text/plain")
        .body("reason=x")
        .send()
        .await
        .expect("post");
    assert_eq!(r.status().as_u16(), 415);
    for (body, says) in [
        ("{", "request body"),
        (r#"{"reason":"x","sneaky":1}"#, "unknown field `sneaky`"),
        (r#"{"reason":"   "}"#, "reason"),
        (r#"{"reason":"x","expires":"2001-01-01"}"#, "in the past"),
        (r#"{"reason":"x","expires":"someday"}"#, "not a date"),
    ] {
        let r = c
            .http
            .post(c.url(&path))
            .bearer_auth(justifier)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("post");
        assert_eq!(r.status().as_u16(), 400, "{body}");
        let text = r.text().await.expect("body");
        assert!(text.contains(says), "{body}: {text}");
    }
    let huge = json!({ "reason": "x".repeat(200_000) });
    // On a connection of its own: the server answers 413 without reading the body and closes
    // the connection, which a pooled client would otherwise try to reuse for the next request.
    let status = reqwest::Client::new()
        .post(c.url(&path))
        .bearer_auth(justifier)
        .header("content-type", "application/json")
        .body(huge.to_string())
        .send()
        .await
        .expect("post")
        .status()
        .as_u16();
    assert_eq!(status, 413);
    // GET on a write route is not a write.
    let r = c.get(&path, Some(justifier)).await;
    assert_eq!(r.status().as_u16(), 405);
    assert_eq!(
        (
            issue_count(c, viewer).await,
            justified_count(c, viewer).await
        ),
        before,
        "bad input changed the store"
    );
}

async fn roles_decide_who_writes(c: &Console, viewer: &str, justifier: &str, admin: &str) {
    let (_, issues) = c.get_json("/api/v1/issues?limit=1", Some(viewer)).await;
    let id = issues["issues"][0]["id"].as_i64().expect("an issue");
    let path = format!("/api/v1/issues/{id}/justify");
    let body = json!({"reason": "accepted risk: bastion", "expires": "2999-12-31"});
    let (status, v) = c.post_json(&path, Some(viewer), &body).await;
    assert_eq!(status, 403, "{v}");
    assert!(
        v["error"]
            .as_str()
            .unwrap_or_default()
            .contains("justifier role"),
        "{v}"
    );
    let (status, v) = c.post_json(&path, Some(justifier), &body).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["justification"]["by"], "justifier");
    assert_eq!(v["justification"]["reason"], "accepted risk: bastion");
    let trail = v["actions"].as_array().expect("trail");
    assert_eq!(trail.len(), 1);
    assert_eq!(
        (&trail[0]["actor"], &trail[0]["via"]),
        (&json!("justifier"), &json!("api"))
    );
    let (_, justified) = c
        .get_json("/api/v1/issues?status=justified", Some(viewer))
        .await;
    assert!(
        justified["issues"]
            .as_array()
            .expect("list")
            .iter()
            .any(|i| i["id"] == id)
    );
    let (status, v) = c
        .post_json(
            &format!("/api/v1/issues/{id}/unjustify"),
            Some(justifier),
            &json!({}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    assert!(v["justification"].is_null(), "{v}");
    let (_, v) = c
        .get_json(&format!("/api/v1/issues/{id}"), Some(viewer))
        .await;
    assert_eq!(v["actions"].as_array().map(Vec::len), Some(2), "{v}");
    // Users and tokens are the admin's.
    let (status, _) = c.get_json("/api/v1/users", Some(justifier)).await;
    assert_eq!(status, 403);
    let (status, users) = c.get_json("/api/v1/users", Some(admin)).await;
    assert_eq!(status, 200);
    let text = users.to_string();
    assert!(
        text.contains("\"viewer\"") && !text.contains("argon2"),
        "{text}"
    );
    let (status, tokens) = c.get_json("/api/v1/tokens", Some(admin)).await;
    assert_eq!(status, 200);
    assert!(
        !tokens.to_string().contains("simian_"),
        "token secrets listed: {tokens}"
    );
}

async fn tokens_expire_and_revoke(c: &Console, admin: &str) {
    let soon = simian::when::rfc3339(simian::store::now_ms() + 4_000);
    let (status, made) = c
        .post_json(
            "/api/v1/tokens",
            Some(admin),
            &json!({"user": "viewer", "expires": soon}),
        )
        .await;
    assert_eq!(status, 200, "{made}");
    let token = made["token"].as_str().expect("token").to_string();
    assert!(token.starts_with("simian_"));
    let (status, _) = c.get_json("/api/v1/accounts", Some(&token)).await;
    assert_eq!(status, 200);
    tokio::time::sleep(Duration::from_millis(5_500)).await;
    let (status, _) = c.get_json("/api/v1/accounts", Some(&token)).await;
    assert_eq!(status, 401, "an expired token still works");

    let fresh = c.token("viewer");
    let (status, _) = c.get_json("/api/v1/accounts", Some(&fresh)).await;
    assert_eq!(status, 200);
    let (_, list) = c.get_json("/api/v1/tokens", Some(admin)).await;
    let id = list["tokens"]
        .as_array()
        .and_then(|a| {
            a.iter()
                .rev()
                .find(|t| t["user"] == "viewer" && t["revoked_ms"].is_null())
        })
        .and_then(|t| t["id"].as_i64())
        .expect("the fresh token");
    assert!(
        list["tokens"]
            .as_array()
            .expect("list")
            .iter()
            .any(|t| t["last_used_ms"].is_i64()),
        "last use is recorded: {list}"
    );
    let out = c.env.cli(&["token", "revoke", &id.to_string()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (status, _) = c.get_json("/api/v1/accounts", Some(&fresh)).await;
    assert_eq!(status, 401, "a revoked token still works");
}

async fn sessions_need_csrf(c: &Console) {
    let cookie = c.login("justifier", PASSWORD).await.expect("login");
    let page = c
        .http
        .get(c.url("/issues?status=open"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("issues page");
    assert_eq!(page.status().as_u16(), 200);
    let html = page.text().await.expect("html");
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a CSRF token in the page")
        .to_string();
    let (_, issues) = c
        .get_json("/api/v1/issues?limit=1", Some(&c.token("viewer")))
        .await;
    let id = issues["issues"][0]["id"].as_i64().expect("an issue");
    let post = |form: Vec<(&'static str, String)>, origin: Option<&'static str>| {
        let mut req = c
            .http
            .post(c.url(&format!("/issues/{id}/justify")))
            .header("cookie", &cookie)
            .form(&form);
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        req.send()
    };
    let reason = || ("reason", "csrf test".to_string());
    let r = post(vec![reason()], None).await.expect("post");
    assert_eq!(r.status().as_u16(), 403, "no CSRF token");
    let r = post(vec![reason(), ("csrf", "0".repeat(64))], None)
        .await
        .expect("post");
    assert_eq!(r.status().as_u16(), 403, "wrong CSRF token");
    let r = post(
        vec![reason(), ("csrf", csrf.clone())],
        Some("http://evil.example"),
    )
    .await
    .expect("post");
    assert_eq!(r.status().as_u16(), 403, "cross-site origin");
    let r = post(vec![reason(), ("csrf", csrf.clone())], None)
        .await
        .expect("post");
    assert_eq!(
        r.status().as_u16(),
        303,
        "{}",
        r.text().await.unwrap_or_default()
    );
    // The session cookie's attributes.
    let r = c
        .http
        .post(c.url("/login"))
        .form(&[("user", "viewer"), ("password", PASSWORD)])
        .send()
        .await
        .expect("login");
    let set = r.headers()["set-cookie"]
        .to_str()
        .expect("cookie")
        .to_string();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );
    // Signing out ends the session.
    let r = c
        .http
        .post(c.url("/logout"))
        .header("cookie", &cookie)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .expect("logout");
    assert_eq!(r.status().as_u16(), 303);
    let r = c
        .http
        .get(c.url("/"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("get");
    assert_eq!(r.status().as_u16(), 303, "the session outlived sign-out");
}

async fn failed_logins_are_limited(c: &Console) {
    for _ in 0..5 {
        let e = c
            .login("viewer", "wrong password!")
            .await
            .expect_err("wrong");
        assert_eq!(e.0, 401);
        assert!(e.1.contains("wrong user name or password"));
    }
    let e = c.login("viewer", PASSWORD).await.expect_err("locked out");
    assert_eq!(e.0, 429, "{}", e.1);
    // An unknown user answers like a wrong password.
    let e = c
        .login("nobody", "whatever-it-is")
        .await
        .expect_err("unknown");
    assert_eq!(e.0, 401);
}

async fn revisions_diff(c: &Console, token: &str) {
    let (_, named) = c
        .get_json("/api/v1/items?q=internal-web", Some(token))
        .await;
    let id = named["items"][0]["simian"]["itemId"]
        .as_i64()
        .expect("internal-web");
    simian_tests::console::widen_internal_web(&c.moto).await;
    let mut revisions = Value::Null;
    for _ in 0..300 {
        let (_, v) = c
            .get_json(&format!("/api/v1/items/{id}/revisions"), Some(token))
            .await;
        if v["revisions"].as_array().is_some_and(|a| a.len() >= 2) {
            revisions = v;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let list = revisions["revisions"]
        .as_array()
        .expect("a second revision");
    let (newest, older) = (
        list[0]["revision"].as_i64().expect("id"),
        list[1]["revision"].as_i64().expect("id"),
    );
    assert!(
        list[0]["diff"].to_string().contains("8443"),
        "{}",
        list[0]["diff"]
    );
    let (status, d) = c
        .get_json(
            &format!("/api/v1/items/{id}/diff?from={older}&to={newest}"),
            Some(token),
        )
        .await;
    assert_eq!(status, 200, "{d}");
    let entries = d["diff"].as_array().expect("diff");
    assert!(
        entries.iter().any(|e| e["op"] == "added"
            && e["path"]
                .as_str()
                .unwrap_or_default()
                .starts_with("configuration.ipPermissions")
            && e["ephemeral"] == false),
        "{d}"
    );
    // A revision of another item is not this item's.
    let (_, other) = c.get_json("/api/v1/items?q=open-ssh", Some(token)).await;
    let other_id = other["items"][0]["simian"]["itemId"].as_i64().expect("id");
    let (_, other_revs) = c
        .get_json(&format!("/api/v1/items/{other_id}/revisions"), Some(token))
        .await;
    let foreign = other_revs["revisions"][0]["revision"]
        .as_i64()
        .expect("rev");
    let (status, _) = c
        .get_json(
            &format!("/api/v1/items/{id}/diff?from={foreign}&to={newest}"),
            Some(token),
        )
        .await;
    assert_eq!(status, 404);
    // Compare: two items side by side, and two revisions.
    let (status, cmp) = c
        .get_json(
            &format!("/api/v1/compare?items={id},{other_id}"),
            Some(token),
        )
        .await;
    assert_eq!(status, 200, "{cmp}");
    assert_eq!(cmp["columns"].as_array().map(Vec::len), Some(2));
    assert!(
        cmp["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .any(|r| r["differs"] == true)
    );
    let (status, cmp) = c
        .get_json(
            &format!("/api/v1/compare?item={id}&from={older}&to={newest}"),
            Some(token),
        )
        .await;
    assert_eq!(status, 200, "{cmp}");
    assert!(cmp.to_string().contains("8443"));
}

async fn exports_match_the_view(c: &Console, token: &str) {
    let (_, view) = c
        .get_json(
            "/api/v1/items?type=AWS::EC2::SecurityGroup&limit=500",
            Some(token),
        )
        .await;
    let expected: BTreeSet<String> = view["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["arn"].as_str().map(String::from))
        .collect();
    let r = c
        .get(
            "/api/v1/export/items.csv?type=AWS::EC2::SecurityGroup&cursor=5&limit=1",
            Some(token),
        )
        .await;
    assert_eq!(r.status().as_u16(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .expect("type")
            .starts_with("text/csv")
    );
    let csv = r.text().await.expect("csv");
    let mut lines = csv.lines();
    assert!(
        lines
            .next()
            .expect("header")
            .starts_with("item_id,arn,resource_type")
    );
    let arns: BTreeSet<String> = lines
        .filter_map(|l| l.split(',').nth(1).map(String::from))
        .collect();
    assert_eq!(arns, expected, "the export is the whole filtered view");
    // A formula-shaped name is defused.
    assert!(csv.contains(",\"'=HYPERLINK("), "{csv}");
    assert!(!csv.contains(&format!(",\"{}", &FORMULA_NAME[..10])));
    let (status, json) = c
        .get_json("/api/v1/export/issues.json?status=all", Some(token))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        json["issues"].as_array().map(Vec::len),
        Some(issue_count(c, token).await)
    );
}

async fn bulk_justify_previews_then_applies(c: &Console, justifier: &str) {
    let filter = "check=internet-accessible&status=open";
    let (status, preview) = c
        .post_json(
            "/api/v1/issues/justify",
            Some(justifier),
            &json!({"filter": filter}),
        )
        .await;
    assert_eq!(status, 200, "{preview}");
    let matched = preview["matched"].as_u64().expect("count");
    assert!(matched >= 1, "{preview}");
    assert!(preview["applied"].is_null());
    let (status, v) = c
        .post_json(
            "/api/v1/issues/justify",
            Some(justifier),
            &json!({"filter": filter, "reason": "bulk", "confirm": matched + 1}),
        )
        .await;
    assert_eq!(status, 400, "a stale preview must not apply: {v}");
    let (status, v) = c
        .post_json(
            "/api/v1/issues/justify",
            Some(justifier),
            &json!({"filter": filter, "reason": "lab accounts", "confirm": matched}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["applied"].as_u64(), Some(matched));
    let (_, after) = c
        .post_json(
            "/api/v1/issues/justify",
            Some(justifier),
            &json!({"filter": filter}),
        )
        .await;
    assert_eq!(after["matched"].as_u64(), Some(0), "{after}");
}

async fn openapi_documents_every_route(c: &Console, token: &str) {
    let (status, doc) = c.get_json("/api/v1/openapi.json", Some(token)).await;
    assert_eq!(status, 200);
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.len() >= 20, "{doc}");
    let (_, items) = c.get_json("/api/v1/items?limit=1", Some(token)).await;
    let item = items["items"][0]["simian"]["itemId"]
        .as_i64()
        .expect("item");
    let (_, issues) = c
        .get_json("/api/v1/issues?limit=1&status=all", Some(token))
        .await;
    let issue = issues["issues"][0]["id"].as_i64().expect("issue");
    for (path, ops) in paths {
        if ops.get("get").is_none() {
            continue;
        }
        let id = if path.starts_with("/api/v1/issues") {
            issue
        } else {
            item
        };
        let concrete = path.replace("{id}", &id.to_string());
        let query = match concrete.as_str() {
            p if p.ends_with("/diff") => "?from=1&to=1",
            p if p.ends_with("/compare") => "?items=1,2",
            _ => "",
        };
        let r = c.get(&format!("{concrete}{query}"), Some(token)).await;
        let status = r.status().as_u16();
        assert!(
            status != 405
                && !(status == 404 && r.text().await.unwrap_or_default().contains("no API route")),
            "documented {path} is not routed ({status})"
        );
    }
}

/// A self-signed certificate for 127.0.0.1, made with the openssl CLI.
fn self_signed(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let out = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .args([
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ])
        .output()
        .expect("openssl");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (cert, key)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_and_a_trusted_proxys_user_header() {
    let certs = tempfile::tempdir().expect("dir");
    let (cert, key) = self_signed(certs.path());
    // Served over TLS; the proxy header is believed from 127.0.0.1 only.
    let c = Console::start_with(
        None,
        3600,
        &format!(
            "tls_cert = \"{}\"\ntls_key = \"{}\"\nauth_header = \"X-Forwarded-User\"\ntrusted_proxies = [\"127.0.0.1\"]",
            cert.display(),
            key.display()
        ),
    )
    .await;
    assert!(c.base.starts_with("https://"));
    let r = c.get("/health", None).await;
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.headers().contains_key("strict-transport-security"));
    let r = c
        .http
        .post(c.url("/login"))
        .form(&[("user", "viewer"), ("password", PASSWORD)])
        .send()
        .await
        .expect("login");
    let set = r.headers()["set-cookie"]
        .to_str()
        .expect("cookie")
        .to_string();
    assert!(set.contains("; Secure"), "{set}");
    // Plain HTTP on the TLS port gets nothing.
    let plain = reqwest::Client::new()
        .get(c.url("/health").replace("https://", "http://"))
        .send()
        .await;
    assert!(plain.is_err() || plain.is_ok_and(|r| !r.status().is_success()));

    let header = |user: &'static str| {
        c.http
            .get(c.url("/api/v1/accounts"))
            .header("x-forwarded-user", user)
            .send()
    };
    let r = header("viewer").await.expect("get");
    assert_eq!(
        r.status().as_u16(),
        200,
        "the trusted proxy's user is signed in"
    );
    let r = header("mallory").await.expect("get");
    assert_eq!(
        r.status().as_u16(),
        403,
        "an unknown user is refused, not created"
    );
    // A proxy-signed-in viewer still cannot justify.
    let r = c
        .http
        .post(c.url("/api/v1/issues/1/justify"))
        .header("x-forwarded-user", "viewer")
        .header("content-type", "application/json")
        .body(r#"{"reason":"x"}"#)
        .send()
        .await
        .expect("post");
    assert_eq!(r.status().as_u16(), 403);
    drop(c);

    // The same header from a peer that is not a trusted proxy is ignored.
    let c = Console::start_with(
        None,
        3600,
        "auth_header = \"X-Forwarded-User\"\ntrusted_proxies = [\"10.9.9.9\"]",
    )
    .await;
    let r = c
        .http
        .get(c.url("/api/v1/accounts"))
        .header("x-forwarded-user", "admin")
        .send()
        .await
        .expect("get");
    assert_eq!(
        r.status().as_u16(),
        401,
        "a spoofed proxy header was believed"
    );
}
