//! AWS emulators for end-to-end tests, one process per test: started on a free port, killed
//! when dropped. moto is required (CI installs it); fakecloud is optional (an hour to build),
//! and its tests say `skipped: fakecloud not installed` without it.

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const MOTO_INSTALL: &str = "pip install 'moto[server]==5.2.1'";
const FAKECLOUD_INSTALL: &str = "cargo install fakecloud --version 0.51.0 --locked";

/// A running emulator, killed on drop.
pub struct Emulator {
    child: Child,
    port: u16,
}

/// The moto server the AWS tests use.
pub type MotoServer = Emulator;

/// The day the project's moto judges EKS's version calendar on (`EKSPEC_MOTO_TODAY`, see
/// tests/moto/cluster_settings.py): pinned, so the suite's verdicts do not change as real days
/// pass (a version leaving extended support would otherwise break tests overnight). On it
/// Kubernetes 1.29-1.31 are in extended support, 1.32-1.35 in standard support and 1.28 is
/// gone. Tests about today's calendar set it with the `eks-clock` control.
pub const SUITE_DAY: &str = "2026-02-01";

impl Emulator {
    /// Starts moto (with the documented AWS behaviour it lacks patched in, see
    /// `tests/moto/server.py`) with AWS managed IAM policies loaded.
    pub fn start() -> Self {
        Self::moto(false)
    }

    /// [`Self::start`] in strict mode (`tests/moto/strict.py`): timed states and the rules
    /// AWS enforces that moto skips, each answered in AWS's error shape.
    pub fn strict() -> Self {
        Self::moto(true)
    }

    fn moto(strict: bool) -> Self {
        let port = free_port();
        let script = crate::support::repo().join("tests/moto/server.py");
        let child = Command::new("python3")
            .arg(script)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
            .env("EKSPEC_MOTO_STRICT", if strict { "1" } else { "0" })
            .env("EKSPEC_MOTO_TODAY", SUITE_DAY)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| match e.kind() {
                ErrorKind::NotFound => panic!("python3 is not on PATH; the AWS tests need it"),
                _ => panic!("cannot start moto: {e}"),
            });
        Self::ready("moto", child, port, MOTO_INSTALL)
    }

    /// Starts fakecloud when it is installed (`FAKECLOUD_BIN`, or `fakecloud` on PATH);
    /// otherwise prints the skip line and returns `None`.
    pub fn fakecloud() -> Option<Self> {
        Self::fakecloud_with(&[])
    }

    /// [`Self::fakecloud`] with extra command-line options (`--iam strict`, ...).
    pub fn fakecloud_with(options: &[&str]) -> Option<Self> {
        let Some(binary) = fakecloud_binary() else {
            println!(
                "skipped: fakecloud not installed ({FAKECLOUD_INSTALL}, or set FAKECLOUD_BIN)"
            );
            return None;
        };
        let port = free_port();
        let child = Command::new(&binary)
            .args(["--addr", &format!("127.0.0.1:{port}")])
            .args(options)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        Some(Self::ready("fakecloud", child, port, FAKECLOUD_INSTALL))
    }

    /// The URL to send AWS requests to.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// POSTs to one of the emulator's own endpoints (fakecloud's `/_reset`); fails the test
    /// unless it answers 200.
    pub fn post(&self, path: &str) {
        self.post_body(path, "");
    }

    /// Calls a strict-mode test hook of the project's moto (`strict.control` in
    /// `tests/moto/strict.py`): puts a resource in a state AWS can reach but an emulator
    /// cannot (CREATE_FAILED, DEGRADED, ...). Returns the hook's JSON answer.
    pub fn control(&self, name: &str, body: serde_json::Value) -> serde_json::Value {
        let answer = self.post_body(&format!("/moto-api/ekspec/{name}"), &body.to_string());
        serde_json::from_str(&answer).unwrap_or_else(|e| panic!("control {name}: {e}: {answer}"))
    }

    /// POSTs `body`; fails the test unless the answer is 200; returns the answer's body.
    fn post_body(&self, path: &str, body: &str) -> String {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).expect("send");
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        assert!(answer.starts_with("HTTP/1.1 200"), "POST {path}: {answer}");
        answer
            .split_once("\r\n\r\n")
            .map(|(_, body)| body.to_owned())
            .unwrap_or_default()
    }

    fn ready(name: &'static str, child: Child, port: u16, install: &str) -> Self {
        let mut server = Self { child, port };
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("{name} exited with {status} before answering (is `{install}` done?)");
            }
            if server.answers_http() {
                return server;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("{name} did not answer on port {port} within 60s");
    }

    fn answers_http(&self) -> bool {
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
        let request = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
        let mut head = [0u8; 5];
        stream.write_all(request.as_bytes()).is_ok()
            && stream.read_exact(&mut head).is_ok()
            && &head == b"HTTP/"
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn fakecloud_binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("FAKECLOUD_BIN") {
        return Some(PathBuf::from(path));
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join("fakecloud"))
        .find(|candidate| candidate.is_file())
}

/// A port nobody listens on right now.
fn free_port() -> u16 {
    let listener = TcpListener::bind(("127.0.0.1", 0)).expect("bind an ephemeral port");
    listener.local_addr().expect("local address").port()
}
