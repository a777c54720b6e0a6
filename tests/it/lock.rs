//! Concurrent runs through the real binary against moto: two `apply` runs on one cluster never
//! both change it. The first run is frozen (SIGSTOP) or killed by the proxy in front of moto
//! right at its first mutating call, the creation of the lock, so the overlap is certain, not
//! a matter of timing. A second proxy records which calls the other run makes.

use std::process::Child;
use std::time::{Duration, Instant};

use crate::e2e::{Emulated, small};
use crate::proxy::Proxy;
use crate::support::Output;

/// The identity moto gives every caller.
const MOTO_CALLER: &str = "arn:aws:sts::123456789012:user/moto";

struct Bench {
    aws: Emulated,
    spec: String,
}

impl Bench {
    fn new() -> Self {
        let aws = Emulated::start();
        let spec = aws.spec("locked.yaml", &small("locked", "10.40.0.0/16"));
        Self { aws, spec }
    }

    /// Starts `apply` through `proxy`, which stops or kills it (`signal`) once it created the
    /// lock; returns when that happened.
    fn first_run(&self, proxy: &Proxy, signal: &'static str) -> Child {
        let child = self
            .aws
            .command(
                &proxy.endpoint(),
                &["apply", "-f", &self.spec, "--auto-approve"],
            )
            .spawn_piped();
        proxy.signal_after(1, child.id(), signal);
        let deadline = Instant::now() + Duration::from_secs(120);
        while proxy.mutations() == 0 {
            assert!(
                Instant::now() < deadline,
                "the first apply never took the lock"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(proxy.calls(), ["PutParameter"], "the first mutating call");
        if signal == "STOP" {
            wait_for_state(child.id(), 'T');
        }
        child
    }

    /// Runs ekspec straight against moto, or through `proxy`.
    fn run(&self, proxy: Option<&Proxy>, args: &[&str]) -> Output {
        let endpoint = proxy.map_or_else(|| self.aws.endpoint(), Proxy::endpoint);
        let mut all = args.to_vec();
        all.extend(["-f", &self.spec]);
        self.aws.command(&endpoint, &all).run()
    }

    /// `plan` says there is nothing to do and no lock is left in the account.
    async fn settled(&self) {
        let plan = self.run(None, &["plan", "--detailed-exitcode"]);
        assert_eq!(plan.code, 0, "{plan:?}");
        assert!(plan.stdout.contains("No changes."), "{}", plan.stdout);
        let inventory = self.aws.inventory("us-east-1").await;
        assert_eq!(inventory.parameters().await, Vec::new(), "a lock is left");
        let get = self.run(None, &["get"]);
        assert!(
            !get.stdout.contains("/ekspec/locked/lock"),
            "{}",
            get.stdout
        );
    }
}

/// Waits until process `pid` is in `state` (`T`: stopped).
fn wait_for_state(pid: u32, state: char) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        // The state follows the command name, which is in parentheses.
        let current = stat
            .rsplit_once(") ")
            .and_then(|(_, rest)| rest.chars().next());
        if current == Some(state) {
            return;
        }
        assert!(Instant::now() < deadline, "process {pid} is in {current:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn resume(child: &Child) {
    let status = std::process::Command::new("kill")
        .args(["-CONT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

fn holder(pid: u32) -> String {
    let host = gethostname::gethostname().to_string_lossy().into_owned();
    format!("{MOTO_CALLER} (host {host}, pid {pid})")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_apply_stops_naming_the_holder_and_changes_nothing() {
    let bench = Bench::new();
    let proxy = Proxy::start(&bench.aws.endpoint());
    let first = bench.first_run(&proxy, "STOP");
    let pid = first.id();

    let get = bench.run(None, &["get"]);
    assert_eq!(get.code, 0, "{get:?}");
    let row = get
        .stdout
        .lines()
        .find(|l| l.starts_with("lock "))
        .unwrap_or_else(|| panic!("no lock row:\n{}", get.stdout));
    assert!(row.contains("/ekspec/locked/lock"), "{row}");
    assert!(
        row.contains(&format!("held: apply by {} since ", holder(pid))),
        "{row}"
    );

    let watcher = Proxy::start(&bench.aws.endpoint());
    let second = bench.run(Some(&watcher), &["apply", "--auto-approve"]);
    assert_eq!(second.code, 1, "{second:?}");
    let expected = format!(
        "error: cluster `locked` is being changed by {} since ",
        holder(pid)
    );
    assert!(second.stderr.contains(&expected), "{}", second.stderr);
    assert!(
        second
            .stderr
            .contains("; wait for it, or pass --break-lock if that run is dead"),
        "{}",
        second.stderr
    );
    // Its only mutating call was the create of the lock, which AWS refused.
    assert_eq!(watcher.calls(), ["PutParameter"]);

    proxy.disarm();
    resume(&first);
    let output = first.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("Apply complete"), "{stdout}");
    bench.settled().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_lock_of_a_killed_run_is_removed_with_break_lock() {
    let bench = Bench::new();
    let proxy = Proxy::start(&bench.aws.endpoint());
    let first = bench.first_run(&proxy, "KILL");
    let pid = first.id();
    let output = first.wait_with_output().unwrap();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&output.status),
        Some(9)
    );

    let refused = bench.run(None, &["apply", "--auto-approve"]);
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(refused.stderr.contains(&holder(pid)), "{}", refused.stderr);

    let broken = bench.run(None, &["apply", "--auto-approve", "--break-lock"]);
    assert_eq!(broken.code, 0, "{broken:?}");
    let warning = format!(
        "warning: cluster `locked`: --break-lock removed the lock of {} since ",
        holder(pid)
    );
    assert!(broken.stderr.contains(&warning), "{}", broken.stderr);
    assert!(
        broken.stdout.contains("Apply complete"),
        "{}",
        broken.stdout
    );
    bench.settled().await;

    // `delete` takes the lock too, and removes it with everything else.
    let deleted = bench.run(None, &["delete", "--auto-approve"]);
    assert_eq!(deleted.code, 0, "{deleted:?}");
    let inventory = bench.aws.inventory("us-east-1").await;
    assert_eq!(inventory.owned("locked").await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_whose_lock_was_broken_does_not_apply_its_stale_plan() {
    let bench = Bench::new();
    let proxy = Proxy::start(&bench.aws.endpoint());
    let first = bench.first_run(&proxy, "STOP");
    let other = bench.run(None, &["apply", "--auto-approve", "--break-lock"]);
    assert_eq!(other.code, 0, "{other:?}");
    let inventory = bench.aws.inventory("us-east-1").await;
    let applied = inventory.owned("locked").await;

    proxy.disarm();
    resume(&first);
    let output = first.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("error: cluster `locked` changed since the plan above was made"),
        "{stderr}"
    );
    assert!(
        stderr.contains("the lock was removed (--break-lock) during this run"),
        "{stderr}"
    );
    // No twin of anything the other run made.
    assert_eq!(inventory.owned("locked").await, applied);
    bench.settled().await;
}

/// A secret that must never be printed, whatever the verbosity.
const SECRET_KEY: &str = "Sh0uldNeverBeL0gged/9f3c1e7a2b";
const SESSION_TOKEN: &str = "IQoJb3JpZ2luX2VjEDoNotLogThisSessionToken4a7f";

#[tokio::test(flavor = "multi_thread")]
async fn credentials_never_appear_in_the_output_even_at_vvv() {
    let bench = Bench::new();
    let run = |args: &[&str], log: Option<&str>| {
        let mut all = vec!["-vvv"];
        all.extend(args);
        all.extend(["-f", &bench.spec]);
        let mut command = bench
            .aws
            .command(&bench.aws.endpoint(), &all)
            .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
            .env("AWS_SESSION_TOKEN", SESSION_TOKEN);
        if let Some(log) = log {
            command = command.env("EKSPEC_LOG", log);
        }
        let out = command.run();
        assert_eq!(out.code, 0, "{args:?}: {}", out.stderr);
        out
    };
    let runs = [
        (&["plan"][..], None),
        (&["apply", "--auto-approve"], None),
        (&["get"], None),
        // Everything the SDK can log, asked for explicitly: it redacts the signing headers
        // (`x-amz-security-token: ** redacted **`) and never sees the secret key's value.
        (&["plan"], Some("trace")),
        (&["delete", "--auto-approve"], None),
    ];
    for (args, log) in runs {
        let out = run(args, log);
        // The debug logs are really on (the SDK's too), so the check below means something.
        assert!(
            out.stderr.contains("DEBUG") && out.stderr.contains("aws_smithy_runtime"),
            "{args:?}: no SDK debug logs"
        );
        for (name, secret) in [("secret key", SECRET_KEY), ("session token", SESSION_TOKEN)] {
            for (stream, text) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
                assert!(
                    !text.contains(secret) && !text.contains(&secret[..16]),
                    "{args:?} (EKSPEC_LOG={log:?}): the {name} appears on {stream}"
                );
            }
        }
    }
}
