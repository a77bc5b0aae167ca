//! Transport and browser hardening: security headers on every response, the same-origin
//! check for state-changing requests, the peer address, and TLS.
//!
//! It must never relax a header per route: the Content-Security-Policy allows no inline
//! script or style anywhere, so nothing a plugin or an AWS tag holds can run in the console.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use axum::extract::connect_info::Connected;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use axum::serve::{IncomingStream, Listener};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use super::error::WebError;
use super::{ServeError, Shared};

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
    connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Adds the security headers to every response, and `no-store` to everything but static
/// files (pages and API answers hold what only signed-in users may see).
pub async fn headers(State(state): State<Shared>, request: Request, next: Next) -> Response {
    let is_static = request.uri().path().starts_with("/static/");
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    if !is_static {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if state.web.tls.is_some() {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    response
}

/// A state-changing request from a browser must come from this console's own pages: when the
/// browser says where it comes from (`Origin`, else `Referer`), that must be this host.
pub fn same_origin(headers: &HeaderMap) -> Result<(), WebError> {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    let claimed = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
        .and_then(|h| h.to_str().ok());
    let Some(claimed) = claimed else {
        return Ok(());
    };
    let claimed_host = url::Url::parse(claimed).ok().and_then(|u| {
        u.host_str().map(|h| match u.port() {
            Some(p) => format!("{h}:{p}"),
            None => h.to_string(),
        })
    });
    if claimed_host.as_deref() == Some(host) {
        Ok(())
    } else {
        Err(WebError::Forbidden(
            "cross-site request refused (Origin does not match this console)".into(),
        ))
    }
}

/// The TCP peer of a request, as the connection saw it (for login limits and for trusting a
/// proxy's user header).
#[derive(Debug, Clone, Copy)]
pub struct PeerAddr(pub SocketAddr);

impl Connected<IncomingStream<'_, TcpListener>> for PeerAddr {
    fn connect_info(stream: IncomingStream<'_, TcpListener>) -> PeerAddr {
        PeerAddr(*stream.remote_addr())
    }
}

impl Connected<IncomingStream<'_, TlsListener>> for PeerAddr {
    fn connect_info(stream: IncomingStream<'_, TlsListener>) -> PeerAddr {
        PeerAddr(*stream.remote_addr())
    }
}

/// Accepts TCP connections and completes the TLS handshake before handing them to axum.
pub struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
}

impl TlsListener {
    pub fn new(tcp: TcpListener, cert: &Path, key: &Path) -> Result<TlsListener, ServeError> {
        use rustls_pki_types::pem::PemObject;
        use rustls_pki_types::{CertificateDer, PrivateKeyDer};
        let certs = CertificateDer::pem_file_iter(cert)
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .map_err(|e| ServeError::Tls(format!("web.tls_cert {}: {e}", cert.display())))?;
        if certs.is_empty() {
            return Err(ServeError::Tls(format!(
                "web.tls_cert {}: no certificate in the file",
                cert.display()
            )));
        }
        let key = PrivateKeyDer::from_pem_file(key)
            .map_err(|e| ServeError::Tls(format!("web.tls_key {}: {e}", key.display())))?;
        let config = tokio_rustls::rustls::ServerConfig::builder_with_provider(Arc::new(
            tokio_rustls::rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| ServeError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| ServeError::Tls(format!("certificate and key: {e}")))?;
        Ok(TlsListener {
            tcp,
            acceptor: TlsAcceptor::from(Arc::new(config)),
        })
    }
}

impl Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let (stream, addr) = match self.tcp.accept().await {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors and the like: back off instead of spinning.
                    tracing::warn!("console accept failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            };
            // A client that never finishes its handshake must not hold up the others.
            let handshake = self.acceptor.accept(stream);
            match tokio::time::timeout(std::time::Duration::from_secs(10), handshake).await {
                Ok(Ok(tls)) => return (tls, addr),
                Ok(Err(e)) => tracing::debug!(peer = %addr, "TLS handshake failed: {e}"),
                Err(_) => tracing::debug!(peer = %addr, "TLS handshake timed out"),
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).expect("header"));
        }
        h
    }

    #[test]
    fn cross_site_posts_are_refused() {
        let host = ("host", "127.0.0.1:8080");
        assert!(same_origin(&with(&[host, ("origin", "http://127.0.0.1:8080")])).is_ok());
        assert!(
            same_origin(&with(&[host])).is_ok(),
            "non-browser clients send none"
        );
        assert!(same_origin(&with(&[host, ("origin", "http://evil.example")])).is_err());
        assert!(same_origin(&with(&[host, ("origin", "http://127.0.0.1:9999")])).is_err());
        assert!(same_origin(&with(&[host, ("origin", "null")])).is_err());
        assert!(
            same_origin(&with(&[
                host,
                ("referer", "http://evil.example/x?127.0.0.1:8080")
            ]))
            .is_err()
        );
    }
}
