//! An HTTP proxy between ekspec and the emulator that sees every AWS call from outside the
//! process: it counts mutating calls and can SIGKILL (or SIGSTOP) the ekspec process right
//! after the k-th one was answered, so crash and lock tests exercise the real binary and its
//! real SDK stack at a chosen point.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the proxy shares with its test.
#[derive(Default)]
struct Shared {
    mutations: AtomicUsize,
    calls: Mutex<Vec<String>>,
    kill_after: Mutex<Option<usize>>,
    victim: Mutex<Option<u32>>,
    signal: Mutex<&'static str>,
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
                let upstream = upstream.clone();
                std::thread::spawn(move || {
                    let _ = relay(client, &upstream, &shared);
                });
            }
        });
        Self { port, shared }
    }

    /// The URL to give ekspec as its AWS endpoint.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
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
}

/// Forwards one request (forcing `Connection: close`) and its response, then counts it.
fn relay(client: TcpStream, upstream: &str, shared: &Shared) -> std::io::Result<()> {
    client.set_read_timeout(Some(Duration::from_secs(120)))?;
    let mut reader = BufReader::new(client.try_clone()?);
    let mut head = Vec::new();
    let mut content_length = 0usize;
    let mut request_line = String::new();
    let mut target = None;
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
        if lower.starts_with("connection:") {
            continue;
        }
        head.push(line);
    }
    let mut body = vec![0u8; content_length];
    reader.read_exact(&mut body)?;
    let call = mutating_call(&request_line, target.as_deref(), &body);

    let mut server = TcpStream::connect(upstream)?;
    for line in &head {
        server.write_all(line.as_bytes())?;
    }
    server.write_all(b"Connection: close\r\n\r\n")?;
    server.write_all(&body)?;
    let mut response = Vec::new();
    server.read_to_end(&mut response)?;
    let due = call.and_then(|call| record(shared, call));
    // STOP freezes the process before it learns the answer (it cannot go on meanwhile);
    // KILL comes after the answer was sent, as a crash right after the call would.
    if let Some(("STOP", pid)) = due {
        send_signal("STOP", pid);
    }
    let mut client = client;
    client.write_all(&response)?;
    client.flush()?;
    let _ = client.shutdown(Shutdown::Both);
    if let Some((signal @ "KILL", pid)) = due {
        send_signal(signal, pid);
    }
    Ok(())
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
