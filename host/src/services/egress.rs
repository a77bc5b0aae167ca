//! Outbound HTTP on a plugin's behalf.
//!
//! The `http` capability's egress rules: every request and every redirect hop is checked
//! against the plugin's granted origins (its `HttpScope`); the
//! host resolves DNS itself and pins the connection to an address it checked, refusing
//! loopback, link-local (cloud metadata), private and unspecified addresses unless the operator
//! listed them. Time and response size are capped.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use super::HostError;
use crate::scopes::{HttpScope, Origin};

#[derive(Debug, Clone)]
pub struct HttpLimits {
    pub max_timeout: Duration,
    pub default_timeout: Duration,
    pub max_response_bytes: usize,
    pub max_request_bytes: usize,
    pub max_redirects: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            max_timeout: Duration::from_secs(30),
            default_timeout: Duration::from_secs(10),
            max_response_bytes: 4 * 1024 * 1024,
            max_request_bytes: 4 * 1024 * 1024,
            max_redirects: 5,
        }
    }
}

#[derive(Debug, Clone)]
pub struct HttpRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
    pub timeout: Option<Duration>,
}

#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Why an address is off limits by default, if it is.
pub fn restricted_range(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            if v4.is_loopback() {
                Some("loopback")
            } else if v4.is_link_local() {
                Some("link-local")
            } else if v4.is_private() || (o[0] == 100 && (o[1] & 0xc0) == 64) {
                Some("private")
            } else if v4.is_unspecified() || o[0] == 0 {
                Some("unspecified")
            } else if v4.is_broadcast() || v4.is_multicast() {
                Some("broadcast/multicast")
            } else {
                None
            }
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return restricted_range(IpAddr::V4(v4));
            }
            let seg = v6.segments();
            // Addresses that carry an IPv4 address a translator or tunnel would deliver to
            // are judged by that address.
            if let Some(v4) = embedded_ipv4(&seg) {
                return restricted_range(IpAddr::V4(v4));
            }
            if seg[0] == 0x64 && seg[1] == 0xff9b && seg[2] == 1 {
                // 64:ff9b:1::/48, local-use NAT64 (RFC 8215): a site's own translator.
                return Some("private");
            }
            if v6.is_loopback() {
                Some("loopback")
            } else if v6.is_unspecified() {
                Some("unspecified")
            } else if (seg[0] & 0xffc0) == 0xfe80 {
                Some("link-local")
            } else if (seg[0] & 0xfe00) == 0xfc00 {
                Some("private")
            } else if v6.is_multicast() {
                Some("broadcast/multicast")
            } else {
                None
            }
        }
    }
}

/// The IPv4 address inside an IPv4-compatible (`::a.b.c.d`), SIIT (`::ffff:0:a.b.c.d`),
/// NAT64 (`64:ff9b::/96`), 6to4 (`2002::/16`) or Teredo (`2001::/32`, the client) address.
fn embedded_ipv4(seg: &[u16; 8]) -> Option<std::net::Ipv4Addr> {
    let v4 = |hi: u16, lo: u16| std::net::Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    let zero = |range: std::ops::Range<usize>| seg[range].iter().all(|&s| s == 0);
    if zero(0..6) && !(seg[6] == 0 && seg[7] <= 1) {
        return Some(v4(seg[6], seg[7]));
    }
    if zero(0..4) && seg[4] == 0xffff && seg[5] == 0 {
        return Some(v4(seg[6], seg[7]));
    }
    if seg[0] == 0x64 && seg[1] == 0xff9b && zero(2..6) {
        return Some(v4(seg[6], seg[7]));
    }
    if seg[0] == 0x2002 {
        return Some(v4(seg[1], seg[2]));
    }
    if seg[0] == 0x2001 && seg[1] == 0 {
        return Some(v4(!seg[6], !seg[7]));
    }
    None
}

async fn resolve_checked(
    origin: &Origin,
    scope: &HttpScope,
    deadline: tokio::time::Instant,
) -> Result<SocketAddr, HostError> {
    let addrs: Vec<SocketAddr> = match origin.host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, origin.port)],
        Err(_) => {
            let lookup = tokio::net::lookup_host((origin.host.as_str(), origin.port));
            tokio::time::timeout_at(deadline, lookup)
                .await
                .map_err(|_| HostError::Timeout)?
                .map_err(|e| HostError::Failed(format!("cannot resolve {}: {e}", origin.host)))?
                .collect()
        }
    };
    if addrs.is_empty() {
        return Err(HostError::Failed(format!(
            "{} resolves to no address",
            origin.host
        )));
    }
    // Refuse if ANY answer is restricted: otherwise a name with one public and one metadata
    // address could be steered to the latter.
    for addr in &addrs {
        if let Some(range) = restricted_range(addr.ip())
            && !scope
                .private_networks
                .iter()
                .any(|n| n.contains(&addr.ip()))
        {
            return Err(HostError::Denied(format!(
                "{} resolves to {} ({range} address); grant it with http.private_networks",
                origin.host,
                addr.ip()
            )));
        }
    }
    Ok(addrs[0])
}

// Long because one request is a loop over redirect hops, and every hop repeats the whole

// check (origin, resolution, address) before it connects.

pub async fn send(
    scope: &HttpScope,
    limits: &HttpLimits,
    req: HttpRequest,
) -> Result<HttpResponse, HostError> {
    let timeout = req
        .timeout
        .unwrap_or(limits.default_timeout)
        .min(limits.max_timeout);
    let deadline = tokio::time::Instant::now() + timeout;
    let mut method = reqwest::Method::from_bytes(req.method.to_ascii_uppercase().as_bytes())
        .map_err(|_| HostError::Invalid(format!("method `{}`", req.method)))?;
    let mut body = req.body;
    if body
        .as_ref()
        .is_some_and(|b| b.len() > limits.max_request_bytes)
    {
        return Err(HostError::TooLarge(format!(
            "request body over {} bytes",
            limits.max_request_bytes
        )));
    }
    // Errors name the origin at most: a URL's path and query may be a secret (a webhook).
    let mut url = url::Url::parse(&req.url).map_err(|e| HostError::Invalid(format!("url: {e}")))?;
    for hop in 0..=limits.max_redirects {
        let origin = Origin::of_url(&url).map_err(HostError::Invalid)?;
        scope.check(&origin).map_err(HostError::Denied)?;
        let addr = resolve_checked(&origin, scope, deadline).await?;
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .resolve(&origin.host, addr)
            .build()
            .map_err(|e| HostError::Failed(format!("http client: {e}")))?;
        let mut builder = client.request(method.clone(), url.clone());
        for (name, value) in &req.headers {
            if name.eq_ignore_ascii_case("host") {
                continue;
            }
            builder = builder.header(name, value);
        }
        if let Some(b) = &body {
            builder = builder.body(b.clone());
        }
        let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
        let mut resp = tokio::time::timeout(remaining, builder.send())
            .await
            .map_err(|_| HostError::Timeout)?
            .map_err(|e| HostError::Failed(format!("{origin}: {}", without_url(e))))?;
        let status = resp.status();
        if status.is_redirection()
            && let Some(location) = resp.headers().get(reqwest::header::LOCATION)
        {
            if hop == limits.max_redirects {
                return Err(HostError::Failed(format!(
                    "more than {} redirects",
                    limits.max_redirects
                )));
            }
            let location = location
                .to_str()
                .map_err(|_| HostError::Failed("redirect location is not text".into()))?;
            url = url
                .join(location)
                .map_err(|e| HostError::Failed(format!("{origin}: bad redirect location: {e}")))?;
            if status == reqwest::StatusCode::SEE_OTHER
                || ((status == reqwest::StatusCode::MOVED_PERMANENTLY
                    || status == reqwest::StatusCode::FOUND)
                    && method == reqwest::Method::POST)
            {
                method = reqwest::Method::GET;
                body = None;
            }
            continue;
        }
        let headers = resp
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.to_string(), v.to_str().ok()?.to_string())))
            .collect();
        let mut out = Vec::new();
        loop {
            let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
            let chunk = tokio::time::timeout(remaining, resp.chunk())
                .await
                .map_err(|_| HostError::Timeout)?
                .map_err(|e| {
                    HostError::Failed(format!("{origin}: reading body: {}", without_url(e)))
                })?;
            let Some(chunk) = chunk else { break };
            if out.len() + chunk.len() > limits.max_response_bytes {
                return Err(HostError::TooLarge(format!(
                    "response body over {} bytes",
                    limits.max_response_bytes
                )));
            }
            out.extend_from_slice(&chunk);
        }
        return Ok(HttpResponse {
            status: status.as_u16(),
            headers,
            body: out,
        });
    }
    Err(HostError::Failed("too many redirects".into()))
}

/// A client error's text without the URL it carries (reqwest prints the whole URL).
fn without_url(e: reqwest::Error) -> String {
    crate::text::redact_urls(&e.without_url().to_string()).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restricted_ranges() {
        let r = |s: &str| restricted_range(s.parse().expect("ip"));
        assert_eq!(r("127.0.0.1"), Some("loopback"));
        assert_eq!(r("169.254.169.254"), Some("link-local"));
        assert_eq!(r("10.1.2.3"), Some("private"));
        assert_eq!(r("172.16.0.1"), Some("private"));
        assert_eq!(r("192.168.1.1"), Some("private"));
        assert_eq!(r("100.64.0.1"), Some("private"));
        assert_eq!(r("0.0.0.0"), Some("unspecified"));
        assert_eq!(r("::1"), Some("loopback"));
        assert_eq!(r("::ffff:127.0.0.1"), Some("loopback"));
        assert_eq!(r("fd00::1"), Some("private"));
        assert_eq!(r("fe80::1"), Some("link-local"));
        assert_eq!(r("93.184.216.34"), None);
        // IPv6 forms that carry an IPv4 address are judged by it.
        assert_eq!(r("::127.0.0.1"), Some("loopback"));
        assert_eq!(r("::169.254.169.254"), Some("link-local"));
        assert_eq!(r("::ffff:0:10.0.0.1"), Some("private"));
        assert_eq!(r("64:ff9b::127.0.0.1"), Some("loopback"));
        assert_eq!(r("64:ff9b::a9fe:a9fe"), Some("link-local"));
        assert_eq!(r("64:ff9b::93.184.216.34"), None);
        assert_eq!(r("64:ff9b:1::5"), Some("private"));
        assert_eq!(r("2002:7f00:1::"), Some("loopback"));
        assert_eq!(r("2002:a9fe:a9fe::1"), Some("link-local"));
        assert_eq!(r("2002:c0a8:101::1"), Some("private"));
        assert_eq!(r("2002:5db8:d822::1"), None);
        // Teredo: the client address is stored inverted.
        assert_eq!(r("2001:0:4136:e378:8000:63bf:80ff:fffe"), Some("loopback"));
        assert_eq!(r("2606:4700::1"), None);
    }
}
