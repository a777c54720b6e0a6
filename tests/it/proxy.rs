//! An HTTP proxy between ekspec and the emulator that sees every AWS call from outside the
//! process: it counts mutating calls and can SIGKILL (or SIGSTOP) the ekspec process right
//! after the k-th one was answered, so crash and lock tests exercise the real binary and its
//! real SDK stack at a chosen point. It also injects faults in AWS's own shapes (throttling,
//! 5xx, resets, slow answers, refusals, and states rewritten in answers), for the fault tests.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the proxy does to a call instead of (or besides) forwarding it.
#[derive(Clone, Debug)]
pub enum Fault {
    /// Answer with AWS's throttling error for the call's protocol; nothing is forwarded.
    Throttle,
    /// Answer `503 Service Unavailable`; nothing is forwarded.
    Unavailable,
    /// Close the connection without an answer; nothing is forwarded.
    Reset,
    /// Forward, and answer only after this delay.
    Slow(Duration),
    /// Answer with this error (HTTP status, AWS code, message); nothing is forwarded.
    Refuse(u16, &'static str, String),
    /// Forward, then replace in the answer every first of a pair with its second.
    Rewrite(Vec<(String, String)>),
}

/// When a fault applies: to calls whose name (`CreateVpc`, `POST /clusters`) `matches`, on
/// every `every`-th such call, at most `times` times.
pub struct Rule {
    matches: Box<dyn Fn(&str) -> bool + Send + Sync>,
    fault: Fault,
    every: usize,
    times: usize,
    seen: usize,
    applied: usize,
}

impl Rule {
    /// A fault on every call `matches` accepts, at most `times` times.
    pub fn new(
        matches: impl Fn(&str) -> bool + Send + Sync + 'static,
        fault: Fault,
        times: usize,
    ) -> Self {
        Self {
            matches: Box::new(matches),
            fault,
            every: 1,
            times,
            seen: 0,
            applied: 0,
        }
    }

    /// Only on every `n`-th matching call.
    pub fn every(mut self, n: usize) -> Self {
        self.every = n.max(1);
        self
    }
}

/// A request as the proxy saw it, for an [`Proxy::authorize`] gate.
pub struct Request<'a> {
    /// `CreateVpc` (query and JSON protocols) or `POST /clusters` (EKS).
    pub name: &'a str,
    /// `POST`, `GET`, ...
    pub method: &'a str,
    /// The path, without the query string.
    pub path: &'a str,
    /// `X-Amz-Target` (JSON protocol).
    pub target: Option<&'a str>,
    /// The `Authorization` header (SigV4: names the access key, region and service).
    pub authorization: &'a str,
    /// The body.
    pub body: &'a [u8],
}

/// What a gate decided about a request.
pub enum Verdict {
    /// Forward it as it is.
    Forward,
    /// Forward it with this `Authorization` header instead (as another caller).
    ForwardAs(String),
    /// Forward it as another caller (this `Authorization` header) with this body instead.
    ForwardEdited {
        authorization: String,
        body: Vec<u8>,
    },
    /// Answer this error (HTTP status, AWS code, message) instead of forwarding.
    Refuse(u16, &'static str, String),
    /// Answer `200 OK` with this JSON-protocol body (what the emulator does not hold).
    Answer(String),
}

/// Decides whether and how a request reaches the emulator.
pub type Gate = Arc<dyn Fn(&Request) -> Verdict + Send + Sync>;

/// What the proxy shares with its test.
#[derive(Default)]
struct Shared {
    mutations: AtomicUsize,
    calls: Mutex<Vec<String>>,
    kill_after: Mutex<Option<usize>>,
    victim: Mutex<Option<u32>>,
    signal: Mutex<&'static str>,
    rules: Mutex<Vec<Rule>>,
    /// Calls that reached the emulator, by name.
    forwarded: Mutex<Vec<String>>,
    /// Faults injected, as `fault call`.
    injected: Mutex<Vec<String>>,
    /// Asked about every request before it is forwarded.
    gate: Mutex<Option<Gate>>,
    /// Connections being relayed.
    in_flight: AtomicUsize,
}

/// Counts a connection in flight until dropped.
struct InFlight(Arc<Shared>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Shared {
    /// The fault for this call: every rule that matches counts it, and the first one whose
    /// turn it is applies.
    fn fault_for(&self, call: &str) -> Option<Fault> {
        let mut rules = self.rules.lock().unwrap();
        let mut fault = None;
        for rule in rules
            .iter_mut()
            .filter(|r| r.applied < r.times && (r.matches)(call))
        {
            rule.seen += 1;
            if fault.is_none() && rule.seen % rule.every == 0 {
                rule.applied += 1;
                fault = Some(rule.fault.clone());
            }
        }
        if let Some(fault) = &fault {
            self.injected
                .lock()
                .unwrap()
                .push(format!("{fault:?} {call}"));
        }
        fault
    }
}

/// A running proxy to `upstream` (`127.0.0.1:PORT`).
pub struct Proxy {
    port: u16,
    shared: Arc<Shared>,
}

impl Proxy {
    /// Starts a proxy in front of an emulator endpoint (`http://127.0.0.1:PORT`).
    pub fn start(upstream: &str) -> Self {
        let upstream = upstream
            .strip_prefix("http://")
            .expect("an http:// endpoint")
            .to_owned();
        let listener = TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Shared::default());
        let accepting = Arc::clone(&shared);
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let shared = Arc::clone(&accepting);
                shared.in_flight.fetch_add(1, Ordering::SeqCst);
                let upstream = upstream.clone();
                std::thread::spawn(move || {
                    let in_flight = InFlight(shared);
                    let _ = relay(client, &upstream, &in_flight.0);
                });
            }
        });
        Self { port, shared }
    }

    /// The URL to give ekspec as its AWS endpoint.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Asks `gate` about every request from now on; a refused one is answered with the
    /// gate's error in the service's own shape and not forwarded.
    pub fn authorize(&self, gate: Gate) {
        *self.shared.gate.lock().unwrap() = Some(gate);
    }

    /// Kill `pid` right after the `k`-th mutating call from now on has been answered.
    pub fn kill_after(&self, k: usize, pid: u32) {
        self.signal_after(k, pid, "KILL");
    }

    /// Send `signal` (`KILL`, `STOP`) to `pid` right after the `k`-th mutating call from now on
    /// has been answered.
    pub fn signal_after(&self, k: usize, pid: u32, signal: &'static str) {
        self.shared.mutations.store(0, Ordering::SeqCst);
        self.shared.calls.lock().unwrap().clear();
        *self.shared.signal.lock().unwrap() = signal;
        *self.shared.kill_after.lock().unwrap() = Some(k);
        *self.shared.victim.lock().unwrap() = Some(pid);
    }

    /// Waits until no request is being relayed (those a killed process sent before it died
    /// are answered by the emulator all the same), for at most a minute.
    pub fn settle(&self) {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while self.shared.in_flight.load(Ordering::SeqCst) > 0
            && std::time::Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stop killing; reset the count.
    pub fn disarm(&self) {
        *self.shared.kill_after.lock().unwrap() = None;
        self.shared.mutations.store(0, Ordering::SeqCst);
        self.shared.calls.lock().unwrap().clear();
    }

    /// The mutating calls (API operation names) since the last reset, in order.
    pub fn calls(&self) -> Vec<String> {
        self.shared.calls.lock().unwrap().clone()
    }

    /// Mutating calls since the last reset.
    pub fn mutations(&self) -> usize {
        self.shared.mutations.load(Ordering::SeqCst)
    }

    /// Injects faults by these rules (replacing earlier ones).
    pub fn faults(&self, rules: Vec<Rule>) {
        *self.shared.rules.lock().unwrap() = rules;
    }

    /// The faults injected so far (`fault call`).
    pub fn injected(&self) -> Vec<String> {
        self.shared.injected.lock().unwrap().clone()
    }

    /// The calls that reached the emulator, by name.
    pub fn forwarded(&self) -> Vec<String> {
        self.shared.forwarded.lock().unwrap().clone()
    }
}

/// Forwards one request (forcing `Connection: close`) and its response, then counts it.
fn relay(client: TcpStream, upstream: &str, shared: &Shared) -> std::io::Result<()> {
    client.set_read_timeout(Some(Duration::from_secs(120)))?;
    let mut reader = BufReader::new(client.try_clone()?);
    let mut head = Vec::new();
    let mut content_length = 0usize;
    let mut request_line = String::new();
    let mut target = None;
    let mut authorization = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        if request_line.is_empty() {
            request_line = line.trim_end().to_owned();
            head.push(line);
            continue;
        }
        if line == "\r\n" {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(value) = lower.strip_prefix("content-length:") {
            content_length = value.trim().parse().unwrap_or(0);
        }
        if lower.starts_with("x-amz-target:") {
            target = line.split_once(':').map(|(_, v)| v.trim().to_owned());
        }
        if lower.starts_with("authorization:") {
            authorization = line
                .split_once(':')
                .map(|(_, v)| v.trim().to_owned())
                .unwrap_or_default();
        }
        if lower.starts_with("connection:") {
            continue;
        }
        head.push(line);
    }
    let mut body = vec![0u8; content_length];
    reader.read_exact(&mut body)?;
    let mut edited = None;
    let call = mutating_call(&request_line, target.as_deref(), &body);
    let name = call_name(&request_line, target.as_deref(), &body);
    let gate = shared.gate.lock().unwrap().clone();
    let verdict = gate.map_or(Verdict::Forward, |gate| {
        let mut parts = request_line.split_whitespace();
        let method = parts.next().unwrap_or_default();
        let path = parts.next().unwrap_or_default();
        gate(&Request {
            name: &name,
            method,
            path: path.split('?').next().unwrap_or_default(),
            target: target.as_deref(),
            authorization: &authorization,
            body: &body,
        })
    });
    let fault = match verdict {
        Verdict::Answer(json) => {
            let mut client = client;
            client.write_all(
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\nx-amzn-RequestId: proxy\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{json}",
                    json.len()
                )
                .as_bytes(),
            )?;
            client.flush()?;
            let _ = client.shutdown(Shutdown::Both);
            return Ok(());
        }
        Verdict::Refuse(status, code, message) => Some(Fault::Refuse(status, code, message)),
        Verdict::ForwardAs(other) => {
            sign_as(&mut head, &other);
            shared.fault_for(&name)
        }
        Verdict::ForwardEdited {
            authorization,
            body: other,
        } => {
            sign_as(&mut head, &authorization);
            for line in &mut head {
                if line.to_ascii_lowercase().starts_with("content-length:") {
                    *line = format!("Content-Length: {}\r\n", other.len());
                }
            }
            edited = Some(other);
            shared.fault_for(&name)
        }
        Verdict::Forward => shared.fault_for(&name),
    };
    let mut client = client;
    let answer = match &fault {
        Some(Fault::Reset) => {
            let _ = client.shutdown(Shutdown::Both);
            return Ok(());
        }
        Some(Fault::Throttle) => {
            // Each service's own throttling answer.
            let text = String::from_utf8_lossy(&body);
            let (status, code) = if text.contains("Version=2016-11-15") {
                (503, "RequestLimitExceeded")
            } else if text.contains("Action=") {
                (400, "Throttling")
            } else {
                (429, "ThrottlingException")
            };
            Some(aws_error(&body, status, code, "Rate exceeded"))
        }
        Some(Fault::Unavailable) => Some(aws_error(
            &body,
            503,
            "ServiceUnavailable",
            "Service is unavailable. Please try again later.",
        )),
        Some(Fault::Refuse(status, code, message)) => {
            Some(aws_error(&body, *status, code, message))
        }
        _ => None,
    };
    if let Some(answer) = answer {
        client.write_all(&answer)?;
        client.flush()?;
        let _ = client.shutdown(Shutdown::Both);
        return Ok(());
    }

    let mut server = TcpStream::connect(upstream)?;
    for line in &head {
        server.write_all(line.as_bytes())?;
    }
    server.write_all(b"Connection: close\r\n\r\n")?;
    server.write_all(edited.as_deref().unwrap_or(&body))?;
    let mut response = Vec::new();
    server.read_to_end(&mut response)?;
    shared.forwarded.lock().unwrap().push(name);
    match fault {
        Some(Fault::Slow(delay)) => std::thread::sleep(delay),
        Some(Fault::Rewrite(pairs)) => response = rewrite(&response, &pairs),
        _ => {}
    }
    let due = call.and_then(|call| record(shared, call));
    // STOP freezes the process before it learns the answer (it cannot go on meanwhile);
    // KILL comes after the answer was sent, as a crash right after the call would.
    if let Some(("STOP", pid)) = due {
        send_signal("STOP", pid);
    }
    client.write_all(&response)?;
    client.flush()?;
    let _ = client.shutdown(Shutdown::Both);
    if let Some((signal @ "KILL", pid)) = due {
        send_signal(signal, pid);
    }
    Ok(())
}

/// `head` with its `Authorization` header replaced by `authorization`.
fn sign_as(head: &mut [String], authorization: &str) {
    for line in head {
        if line.to_ascii_lowercase().starts_with("authorization:") {
            *line = format!("Authorization: {authorization}\r\n");
        }
    }
}

/// Counts a mutating call; returns the signal and process due now, if this call is the one.
fn record(shared: &Shared, call: String) -> Option<(&'static str, u32)> {
    // The count and the list change together, so a test that sees the count sees the call.
    let mut calls = shared.calls.lock().unwrap();
    calls.push(call);
    let n = shared.mutations.fetch_add(1, Ordering::SeqCst) + 1;
    drop(calls);
    if *shared.kill_after.lock().unwrap() != Some(n) {
        return None;
    }
    let pid = (*shared.victim.lock().unwrap())?;
    Some((*shared.signal.lock().unwrap(), pid))
}

fn send_signal(signal: &str, pid: u32) {
    let _ = std::process::Command::new("kill")
        .args([&format!("-{signal}"), &pid.to_string()])
        .status();
}

/// The call a request makes, if it changes something: query-protocol services (EC2, IAM, STS,
/// ELB) name it in `Action=`, JSON-protocol ones (SSM) in `X-Amz-Target: Service.Action`;
/// REST services (EKS) use GET for reads.
fn mutating_call(request_line: &str, target: Option<&str>, body: &[u8]) -> Option<String> {
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or_default();
    let path = parts.next().unwrap_or_default();
    let body = String::from_utf8_lossy(body);
    let action = body
        .split('&')
        .find_map(|pair| pair.strip_prefix("Action="))
        .or_else(|| target.and_then(|t| t.rsplit('.').next()))
        .map(str::to_owned);
    match action {
        Some(action) => {
            let read = ["Describe", "List", "Get"]
                .iter()
                .any(|verb| action.starts_with(verb));
            (!read).then_some(action)
        }
        None if method == "GET" || method == "HEAD" => None,
        None => Some(format!("{method} {path}")),
    }
}

/// A call's name: the `Action` of query-protocol services (EC2, IAM, STS, ELB) or of
/// JSON-protocol ones (SSM), else `METHOD path` (EKS: `POST /clusters`,
/// `GET /clusters/prod/node-groups/system-1a2b`).
fn call_name(request_line: &str, target: Option<&str>, body: &[u8]) -> String {
    let body = String::from_utf8_lossy(body);
    if let Some(action) = body
        .split('&')
        .find_map(|pair| pair.strip_prefix("Action="))
        .or_else(|| target.and_then(|t| t.rsplit('.').next()))
    {
        return action.to_owned();
    }
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or_default();
    let path = parts.next().unwrap_or_default();
    format!("{method} {}", path.split('?').next().unwrap_or_default())
}

/// An error answer as the service of `body` shapes it: EC2's XML, the other query services'
/// `ErrorResponse`, or EKS's REST-JSON with the code in `x-amzn-ErrorType`.
fn aws_error(body: &[u8], status: u16, code: &str, message: &str) -> Vec<u8> {
    let body = String::from_utf8_lossy(body);
    let (content_type, text) = if body.contains("Version=2016-11-15") {
        (
            "text/xml",
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors><RequestID>fault</RequestID></Response>"
            ),
        )
    } else if body.contains("Action=") {
        (
            "text/xml",
            format!(
                "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>fault</RequestId></ErrorResponse>"
            ),
        )
    } else {
        (
            "application/json",
            serde_json::json!({ "message": message }).to_string(),
        )
    };
    format!(
        "HTTP/1.1 {status} Fault\r\nContent-Type: {content_type}\r\nx-amzn-ErrorType: {code}\r\nx-amzn-RequestId: fault\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
        text.len()
    )
    .into_bytes()
}

/// `response` with each pair's first replaced by its second in the body, and the length fixed.
fn rewrite(response: &[u8], pairs: &[(String, String)]) -> Vec<u8> {
    let text = String::from_utf8_lossy(response);
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return response.to_vec();
    };
    let body = pairs
        .iter()
        .fold(body.to_owned(), |body, (from, to)| body.replace(from, to));
    let head: Vec<String> = head
        .split("\r\n")
        .map(|line| {
            if line.to_ascii_lowercase().starts_with("content-length:") {
                format!("Content-Length: {}", body.len())
            } else {
                line.to_owned()
            }
        })
        .collect();
    format!("{}\r\n\r\n{body}", head.join("\r\n")).into_bytes()
}
