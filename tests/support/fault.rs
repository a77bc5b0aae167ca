//! A fault-injecting HTTP proxy on loopback, in front of the AWS emulator: requests matching a
//! rule get throttled, fail with 5xx, stall, or are denied; everything else is forwarded.
//! Simian reaches it through `AWS_ENDPOINT_URL` like any endpoint.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the proxy saw of one request.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub target: String,
    pub service: String,
    pub region: String,
    pub params: BTreeMap<String, String>,
}

impl Seen {
    /// The operation: `Action` for query protocols, else method and path.
    pub fn action(&self) -> String {
        self.params
            .get("Action")
            .cloned()
            .unwrap_or_else(|| format!("{} {}", self.method, self.target))
    }
}

#[derive(Clone, Debug)]
pub enum Fault {
    /// Throttling in the service's own error dialect.
    Throttle,
    /// A 500-class server error.
    ServerError,
    /// Hold the request this long before forwarding.
    Delay(Duration),
    /// 403 AccessDenied.
    Deny,
}

pub struct Rule {
    pub matches: Box<dyn Fn(&Seen) -> bool + Send + Sync>,
    pub fault: Fault,
    /// How many more times it fires (None: always).
    pub remaining: Option<u32>,
    pub fired: u32,
}

/// A request exactly as forwarded, for replaying against the emulator.
#[derive(Clone, Debug)]
pub struct RawRequest {
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

#[derive(Clone, Default)]
pub struct Faults {
    rules: Arc<Mutex<Vec<Rule>>>,
    seen: Arc<Mutex<Vec<Seen>>>,
    raw: Arc<Mutex<Vec<RawRequest>>>,
}

impl Faults {
    pub fn add(
        &self,
        fault: Fault,
        times: Option<u32>,
        matches: impl Fn(&Seen) -> bool + Send + Sync + 'static,
    ) {
        self.rules.lock().expect("rules").push(Rule {
            matches: Box::new(matches),
            fault,
            remaining: times,
            fired: 0,
        });
    }

    pub fn clear(&self) {
        self.rules.lock().expect("rules").clear();
    }

    /// How often each rule fired, in the order added.
    pub fn fired(&self) -> Vec<u32> {
        self.rules
            .lock()
            .expect("rules")
            .iter()
            .map(|r| r.fired)
            .collect()
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("seen").clone()
    }

    /// Forwarded requests since the last call, oldest first.
    pub fn take_raw(&self) -> Vec<RawRequest> {
        std::mem::take(&mut *self.raw.lock().expect("raw"))
    }

    fn pick(&self, seen: &Seen) -> Option<Fault> {
        self.seen.lock().expect("seen").push(seen.clone());
        let mut rules = self.rules.lock().expect("rules");
        for rule in rules.iter_mut() {
            if rule.remaining == Some(0) || !(rule.matches)(seen) {
                continue;
            }
            if let Some(n) = rule.remaining.as_mut() {
                *n -= 1;
            }
            rule.fired += 1;
            return Some(rule.fault.clone());
        }
        None
    }
}

pub struct FaultProxy {
    pub port: u16,
    pub faults: Faults,
}

impl FaultProxy {
    pub fn start(upstream_port: u16) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let faults = Faults::default();
        let shared = faults.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let faults = shared.clone();
                std::thread::spawn(move || {
                    let _ = serve(stream, upstream_port, &faults);
                });
            }
        });
        FaultProxy { port, faults }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

struct Request {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn read_request(reader: &mut BufReader<TcpStream>) -> std::io::Result<Option<Request>> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or_default().to_string();
    let mut headers = Vec::new();
    let mut length = 0usize;
    loop {
        let mut h = String::new();
        reader.read_line(&mut h)?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().unwrap_or(0);
            }
            headers.push((k.to_string(), v.trim().to_string()));
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok(Some(Request {
        method,
        target,
        headers,
        body,
    }))
}

fn form(text: &str) -> BTreeMap<String, String> {
    text.split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| {
            let v = v.replace('+', " ");
            let decoded = percent_decode(&v);
            (k.to_string(), decoded)
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn describe(req: &Request) -> Seen {
    let auth = req
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        .map(|(_, v)| v.as_str())
        .unwrap_or_default();
    // Credential=AKID/date/region/service/aws4_request
    let scope: Vec<&str> = auth
        .split("Credential=")
        .nth(1)
        .and_then(|c| c.split(',').next())
        .map(|c| c.split('/').collect())
        .unwrap_or_default();
    let mut params = form(&String::from_utf8_lossy(&req.body));
    if let Some((_, q)) = req.target.split_once('?') {
        for (k, v) in form(q) {
            params.entry(k).or_insert(v);
        }
    }
    Seen {
        method: req.method.clone(),
        target: req.target.clone(),
        region: scope.get(2).copied().unwrap_or_default().to_string(),
        service: scope.get(3).copied().unwrap_or_default().to_string(),
        params,
    }
}

fn error_response(seen: &Seen, fault: &Fault) -> (u16, String) {
    let (status, code, message) = match fault {
        Fault::Throttle if seen.service == "ec2" => {
            (503, "RequestLimitExceeded", "Request limit exceeded.")
        }
        Fault::Throttle if seen.service == "s3" => {
            (503, "SlowDown", "Please reduce your request rate.")
        }
        Fault::Throttle => (400, "Throttling", "Rate exceeded"),
        Fault::ServerError => (500, "InternalError", "We encountered an internal error."),
        Fault::Deny => (
            403,
            "AccessDenied",
            "User is not authorized to perform this action",
        ),
        Fault::Delay(_) => (200, "", ""),
    };
    let body = match seen.service.as_str() {
        "ec2" => format!(
            "<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors><RequestID>fault</RequestID></Response>"
        ),
        "s3" => format!(
            "<Error><Code>{code}</Code><Message>{message}</Message><RequestId>fault</RequestId></Error>"
        ),
        _ => format!(
            "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>fault</RequestId></ErrorResponse>"
        ),
    };
    (status, body)
}

fn serve(client: TcpStream, upstream: u16, faults: &Faults) -> std::io::Result<()> {
    // Without this, Nagle plus the client's delayed ACK stalls every keep-alive response ~40 ms.
    client.set_nodelay(true)?;
    let mut reader = BufReader::new(client.try_clone()?);
    let mut client = client;
    while let Some(req) = read_request(&mut reader)? {
        let seen = describe(&req);
        match faults.pick(&seen) {
            Some(Fault::Delay(d)) => std::thread::sleep(d),
            Some(fault) => {
                let (status, body) = error_response(&seen, &fault);
                let response = format!(
                    "HTTP/1.1 {status} Fault\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                );
                client.write_all(response.as_bytes())?;
                continue;
            }
            None => {}
        }
        faults.raw.lock().expect("raw").push(RawRequest {
            method: req.method.clone(),
            target: req.target.clone(),
            headers: req.headers.clone(),
            body: req.body.clone(),
        });
        let (status_line, headers, body) = forward(&req, upstream)?;
        // One write per response, for the same reason as set_nodelay.
        let mut response = Vec::with_capacity(body.len() + 512);
        write!(response, "{status_line}\r\n")?;
        for (k, v) in headers {
            write!(response, "{k}: {v}\r\n")?;
        }
        write!(response, "Content-Length: {}\r\n\r\n", body.len())?;
        response.extend_from_slice(&body);
        client.write_all(&response)?;
    }
    Ok(())
}

type Response = (String, Vec<(String, String)>, Vec<u8>);

/// Send one recorded request straight to the emulator and read the whole answer.
pub fn replay(req: &RawRequest, upstream: u16) -> std::io::Result<usize> {
    let r = Request {
        method: req.method.clone(),
        target: req.target.clone(),
        headers: req.headers.clone(),
        body: req.body.clone(),
    };
    forward(&r, upstream).map(|(_, _, body)| body.len())
}

fn forward(req: &Request, upstream: u16) -> std::io::Result<Response> {
    let mut up = TcpStream::connect(("127.0.0.1", upstream))?;
    up.set_nodelay(true)?;
    let mut request = Vec::with_capacity(req.body.len() + 1024);
    write!(request, "{} {} HTTP/1.1\r\n", req.method, req.target)?;
    for (k, v) in &req.headers {
        if k.eq_ignore_ascii_case("connection") {
            continue;
        }
        write!(request, "{k}: {v}\r\n")?;
    }
    write!(request, "Connection: close\r\n\r\n")?;
    request.extend_from_slice(&req.body);
    up.write_all(&request)?;
    let mut reader = BufReader::new(up);
    let mut status_line = String::new();
    reader.read_line(&mut status_line)?;
    let mut headers = Vec::new();
    let mut length: Option<usize> = None;
    let mut chunked = false;
    loop {
        let mut h = String::new();
        reader.read_line(&mut h)?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            let v = v.trim();
            if k.eq_ignore_ascii_case("content-length") {
                length = v.parse().ok();
                continue;
            }
            if k.eq_ignore_ascii_case("transfer-encoding") {
                chunked = v.eq_ignore_ascii_case("chunked");
                continue;
            }
            if k.eq_ignore_ascii_case("connection") {
                continue;
            }
            headers.push((k.to_string(), v.to_string()));
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size)?;
            let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            if n == 0 {
                let mut end = String::new();
                reader.read_line(&mut end)?;
                break;
            }
            let mut chunk = vec![0; n];
            reader.read_exact(&mut chunk)?;
            body.extend_from_slice(&chunk);
            let mut crlf = String::new();
            reader.read_line(&mut crlf)?;
        }
    } else if let Some(n) = length {
        body.resize(n, 0);
        reader.read_exact(&mut body)?;
    } else if req.method != "HEAD" {
        reader.read_to_end(&mut body)?;
    }
    Ok((status_line.trim_end().to_string(), headers, body))
}
