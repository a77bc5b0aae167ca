//! Who is calling: a bearer token (API clients), a session cookie (the console), or a
//! trusted proxy's user header. Also signing in and out, the failed-login limits, and CSRF.
//!
//! It must never accept a credential it cannot verify in the store, never fall back from a
//! bad bearer token to another method, and never say whether a user name exists.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::Form;
use axum::extract::{ConnectInfo, FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::error::WebError;
use super::security::{PeerAddr, same_origin};
use super::{Shared, render};
use crate::store::{UserRow, now_ms};
use crate::users::{self, Role};

pub const SESSION_COOKIE: &str = "simian_session";

/// How a caller proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Token,
    Session,
    ProxyHeader,
}

impl Via {
    /// As recorded in the audit trail.
    pub fn as_str(self) -> &'static str {
        match self {
            Via::Token => "api",
            Via::Session | Via::ProxyHeader => "web",
        }
    }
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    pub name: String,
    pub role: Role,
    pub via: Via,
    /// The token this caller's forms must carry (none for bearer tokens: not ambient).
    pub csrf: Option<String>,
}

impl Caller {
    pub fn require(&self, needed: Role) -> Result<(), WebError> {
        if self.role.allows(needed) {
            Ok(())
        } else {
            Err(WebError::Forbidden(format!(
                "{} may not do this: it needs the {needed} role ({} has {})",
                self.name, self.name, self.role
            )))
        }
    }

    /// A state-changing request: same origin, and the session's CSRF token in the form field
    /// or the `X-CSRF-Token` header. Bearer-token calls carry no ambient credential.
    pub fn check_write(
        &self,
        headers: &HeaderMap,
        form_token: Option<&str>,
    ) -> Result<(), WebError> {
        let Some(expected) = &self.csrf else {
            return Ok(());
        };
        same_origin(headers)?;
        let sent = form_token.or_else(|| headers.get("x-csrf-token").and_then(|h| h.to_str().ok()));
        match sent {
            Some(sent) if constant_time_eq(sent.as_bytes(), expected.as_bytes()) => Ok(()),
            _ => Err(WebError::Forbidden(
                "missing or wrong CSRF token; reload the page and try again".into(),
            )),
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn role_of(user: &UserRow) -> Result<Role, WebError> {
    user.role
        .parse()
        .map_err(|e: users::UserError| WebError::Internal(e.to_string()))
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Why a request is not authenticated: API callers get 401, browsers the login page.
pub struct AuthRejection {
    error: WebError,
    api: bool,
    next: String,
}

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        if self.api {
            self.error.into_json()
        } else if matches!(self.error, WebError::Unauthenticated) {
            let next: String = url::form_urlencoded::byte_serialize(self.next.as_bytes()).collect();
            Redirect::to(&format!("/login?next={next}")).into_response()
        } else {
            self.error.into_page()
        }
    }
}

impl FromRequestParts<Shared> for Caller {
    type Rejection = AuthRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Shared,
    ) -> Result<Self, Self::Rejection> {
        // Inside `/api/v1` the router sees the path without its prefix: ask for the original.
        let uri = parts
            .extensions
            .get::<axum::extract::OriginalUri>()
            .map_or_else(|| parts.uri.clone(), |o| o.0.clone());
        let api = uri.path().starts_with("/api/");
        let next = uri
            .path_and_query()
            .map_or("/".to_string(), |p| p.as_str().to_string());
        let reject = |error: WebError| AuthRejection {
            error,
            api,
            next: next.clone(),
        };
        let peer = peer_ip(parts);
        authenticate(state, &parts.headers, peer)
            .await
            .map_err(reject)
    }
}

fn peer_ip(parts: &Parts) -> Option<std::net::IpAddr> {
    parts
        .extensions
        .get::<ConnectInfo<PeerAddr>>()
        .map(|c| c.0.0.ip())
}

/// The connection's peer address, when the server recorded one (tests may call the router
/// without a socket).
pub struct Peer(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Peer(peer_ip(parts)))
    }
}

async fn authenticate(
    state: &Shared,
    headers: &HeaderMap,
    peer: Option<std::net::IpAddr>,
) -> Result<Caller, WebError> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or(WebError::Unauthenticated)?;
        let user = state
            .store
            .user_by_token(&users::secret_hash(token))
            .await?
            .ok_or(WebError::Unauthenticated)?;
        return Ok(Caller {
            role: role_of(&user)?,
            name: user.name,
            via: Via::Token,
            csrf: None,
        });
    }
    if let Some(session) = cookie(headers, SESSION_COOKIE)
        && let Some(row) = state.store.session(&users::secret_hash(session)).await?
    {
        return Ok(Caller {
            role: role_of(&row.user)?,
            name: row.user.name,
            via: Via::Session,
            csrf: Some(row.csrf),
        });
    }
    if let (Some(name), Some(peer)) = (state.web.auth_header.as_deref(), peer)
        && state
            .web
            .trusted_proxies
            .iter()
            .any(|net| net.contains(&peer))
        && let Some(user) = headers.get(name).and_then(|v| v.to_str().ok())
    {
        let row = state.store.user(user.trim()).await?.ok_or_else(|| {
            WebError::Forbidden(format!(
                "the proxy signed in `{}`, who is not a simian user (simian user add)",
                crate::text::escape_controls(user)
            ))
        })?;
        let csrf = hex::encode(
            Sha256::new()
                .chain_update(state.header_csrf_key)
                .chain_update(row.name.as_bytes())
                .finalize(),
        );
        return Ok(Caller {
            role: role_of(&row)?,
            name: row.name,
            via: Via::ProxyHeader,
            csrf: Some(csrf),
        });
    }
    Err(WebError::Unauthenticated)
}

/// Failed sign-ins per user name and per address, in a sliding window.
#[derive(Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, Vec<i64>>>,
}

const WINDOW_MS: i64 = 15 * 60 * 1000;
const PER_USER: usize = 5;
const PER_ADDRESS: usize = 20;

impl LoginLimiter {
    fn keys(user: &str, addr: Option<std::net::IpAddr>) -> [(String, usize); 2] {
        [
            (format!("user:{user}"), PER_USER),
            (
                format!("addr:{}", addr.map_or("?".to_string(), |a| a.to_string())),
                PER_ADDRESS,
            ),
        ]
    }

    /// Err with the minutes to wait when either key is over its limit.
    pub fn check(&self, user: &str, addr: Option<std::net::IpAddr>) -> Result<(), WebError> {
        let now = now_ms();
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        for (key, limit) in Self::keys(user, addr) {
            if let Some(times) = map.get_mut(&key) {
                times.retain(|t| now - t < WINDOW_MS);
                if times.len() >= limit {
                    let wait = (times[0] + WINDOW_MS - now).max(0) / 60_000 + 1;
                    return Err(WebError::TooMany(format!(
                        "too many failed sign-ins; try again in {wait} minute(s)"
                    )));
                }
            }
        }
        Ok(())
    }

    pub fn failed(&self, user: &str, addr: Option<std::net::IpAddr>) {
        let now = now_ms();
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        // Bounded: a flood of distinct names must not grow this without end.
        if map.len() > 100_000 {
            map.retain(|_, times| times.iter().any(|t| now - t < WINDOW_MS));
        }
        for (key, _) in Self::keys(user, addr) {
            map.entry(key).or_default().push(now);
        }
    }

    pub fn succeeded(&self, user: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&format!("user:{user}"));
    }
}

#[derive(Deserialize)]
pub struct NextParam {
    next: Option<String>,
}

/// Only local paths: a `next` pointing elsewhere would make the login an open redirect.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/".to_string(),
    }
}

pub async fn login_page(Query(q): Query<NextParam>) -> Response {
    let page = render::LoginPage {
        next: safe_next(q.next.as_deref()),
        error: None,
    };
    render::html(&page).into_response()
}

#[derive(Deserialize)]
pub struct LoginForm {
    user: String,
    password: String,
    next: Option<String>,
}

pub async fn login(
    State(state): State<Shared>,
    Peer(addr): Peer,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let next = safe_next(form.next.as_deref());
    let fail = |status: StatusCode, message: String| {
        let page = render::LoginPage {
            next: next.clone(),
            error: Some(message),
        };
        (status, render::html(&page)).into_response()
    };
    if let Err(e) = same_origin(&headers) {
        return fail(StatusCode::FORBIDDEN, e.to_string());
    }
    if let Err(e) = state.limiter.check(&form.user, addr) {
        return fail(StatusCode::TOO_MANY_REQUESTS, e.to_string());
    }
    let user = match state.store.user(&form.user).await {
        Ok(user) => user,
        Err(e) => return WebError::from(e).into_page(),
    };
    let password = form.password;
    let hash = user.as_ref().and_then(|u| u.password_hash.clone());
    // argon2 is deliberately slow: off the async workers.
    let ok = tokio::task::spawn_blocking(move || match hash {
        Some(hash) => users::verify_password(&password, &hash),
        None => {
            users::burn_password_check(&password);
            false
        }
    })
    .await
    .unwrap_or(false);
    let Some(user) = user.filter(|_| ok) else {
        state.limiter.failed(&form.user, addr);
        tracing::info!(user = %crate::text::for_log(&form.user), "console sign-in failed");
        return fail(
            StatusCode::UNAUTHORIZED,
            "wrong user name or password".into(),
        );
    };
    state.limiter.succeeded(&user.name);
    let created = users::new_secret("")
        .and_then(|(id, hash)| users::new_secret("").map(|(csrf, _)| (id, hash, csrf)));
    let (session, hash, csrf) = match created {
        Ok(s) => s,
        Err(e) => return WebError::Internal(e.to_string()).into_page(),
    };
    let max_age = i64::from(state.web.session_hours) * 3600;
    if let Err(e) = state
        .store
        .add_session(&hash, user.id, &csrf, now_ms() + max_age * 1000)
        .await
    {
        return WebError::from(e).into_page();
    }
    tracing::info!(user = %user.name, "console sign-in");
    let secure = if state.web.tls.is_some() {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{SESSION_COOKIE}={session}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    );
    let mut response = Redirect::to(&next).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: Option<String>,
}

pub async fn logout(
    State(state): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Result<Response, super::error::PageError> {
    caller.check_write(&headers, form.csrf.as_deref())?;
    if let Some(session) = cookie(&headers, SESSION_COOKIE) {
        state
            .store
            .remove_session(&users::secret_hash(session))
            .await?;
    }
    let mut response = Redirect::to("/login").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("simian_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"),
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_never_leaves_the_console() {
        assert_eq!(safe_next(Some("/items?account=1")), "/items?account=1");
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "items",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad}");
        }
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn failed_logins_lock_the_name_then_the_address() {
        let limiter = LoginLimiter::default();
        let addr = Some("10.0.0.1".parse().expect("ip"));
        for _ in 0..PER_USER {
            assert!(limiter.check("alice", addr).is_ok());
            limiter.failed("alice", addr);
        }
        let e = limiter.check("alice", addr).expect_err("locked");
        assert!(matches!(e, WebError::TooMany(_)), "{e}");
        // Another name from another address is unaffected.
        assert!(
            limiter
                .check("bob", Some("10.0.0.2".parse().expect("ip")))
                .is_ok()
        );
        // Spraying many names from one address trips the address limit.
        for n in 0..PER_ADDRESS {
            limiter.failed(&format!("spray{n}"), Some("10.0.0.3".parse().expect("ip")));
        }
        assert!(
            limiter
                .check("carol", Some("10.0.0.3".parse().expect("ip")))
                .is_err()
        );
        limiter.succeeded("alice");
        assert!(
            limiter
                .check("alice", Some("10.0.0.9".parse().expect("ip")))
                .is_ok()
        );
    }

    #[test]
    fn csrf_compares_whole_tokens() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
