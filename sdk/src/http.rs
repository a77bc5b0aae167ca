//! Outbound HTTP(S) to operator-allowlisted origins. Needs the `http` grant.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{Error, HostError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
    /// Capped by the host's own limit.
    pub timeout_ms: Option<u32>,
}

impl Request {
    pub fn new(method: impl Into<String>, url: impl Into<String>) -> Request {
        Request {
            method: method.into(),
            url: url.into(),
            headers: Vec::new(),
            body: None,
            timeout_ms: None,
        }
    }

    pub fn get(url: impl Into<String>) -> Request {
        Request::new("GET", url)
    }

    pub fn post(url: impl Into<String>) -> Request {
        Request::new("POST", url)
    }

    pub fn put(url: impl Into<String>) -> Request {
        Request::new("PUT", url)
    }

    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Request {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Request {
        self.body = Some(body.into());
        self
    }

    /// Serialize `value` as the body and set `content-type: application/json`.
    pub fn json<T: Serialize + ?Sized>(self, value: &T) -> Result<Request, Error> {
        let body = serde_json::to_vec(value)?;
        Ok(self.header("content-type", "application/json").body(body))
    }

    pub fn timeout_ms(mut self, timeout_ms: u32) -> Request {
        self.timeout_ms = Some(timeout_ms);
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The first header named `name`, compared case-insensitively as HTTP requires.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> Result<&str, Error> {
        std::str::from_utf8(&self.body)
            .map_err(|e| Error::new(format!("response body is not UTF-8: {e}")))
    }

    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_slice(&self.body).map_err(|e| Error::from(e).context("response body"))
    }
}

pub fn send(request: Request) -> Result<Response, HostError> {
    crate::backend::send_http(request)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_request_and_response_helpers() {
        let request = Request::post("https://hooks.example.com/x")
            .header("x-token", "t")
            .json(&serde_json::json!({"a": 1}))
            .expect("serializable");
        assert_eq!(request.method, "POST");
        assert_eq!(request.body.as_deref(), Some(&b"{\"a\":1}"[..]));
        assert!(
            request
                .headers
                .contains(&("content-type".into(), "application/json".into()))
        );

        let response = Response {
            status: 201,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: b"{\"ok\":true}".to_vec(),
        };
        assert!(response.is_success());
        assert_eq!(response.header("content-type"), Some("application/json"));
        let v: serde_json::Value = response.json().expect("json");
        assert_eq!(v["ok"], true);
        let bad = Response {
            status: 500,
            headers: vec![],
            body: vec![0xff],
        };
        assert!(!bad.is_success());
        assert!(bad.text().is_err());
        assert!(bad.json::<serde_json::Value>().is_err());
    }
}
