//! Crash safety: `apply` of the production example is SIGKILLed right after its k-th mutating
//! AWS call, for every k; a second `apply` must succeed, leave `plan --detailed-exitcode` at 0,
//! and the account must hold exactly what a clean apply makes (no twin, nothing untagged left
//! over). The same for `delete`: killed at every step, a second `delete` leaves the account as
//! it was before the cluster. The kill comes from a proxy in front of moto (tests/it/proxy.rs),
//! so the binary under test is the real one. A killed run leaves its cluster lock behind (that
//! is what the lock is for), so the recovery runs pass `--break-lock`, as a person would after
//! making sure the killed run is gone; the account must then hold no lock either.
//!
//! Each crash point costs two runs against strict moto (tests/moto/strict.py, timed states),
//! so one test run tries a sample: the first and last call of each command and
//! `EKSPEC_CRASH_POINTS` others (default 16) drawn with a seed it prints.
//! `EKSPEC_CRASH_POINTS=all` tries every call; `EKSPEC_CRASH_SEED=HEX` replays a sample.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tempfile::TempDir;

use crate::inventory::Inventory;
use crate::moto::MotoServer;
use crate::proxy::Proxy;
use crate::support::{Ekspec, repo};

/// How many crash points run at once (each has its own moto).
const PARALLEL: usize = 3;

/// One moto, a proxy in front of it, and the spec.
struct Bench {
    moto: MotoServer,
    proxy: Proxy,
    spec: String,
    _dir: TempDir,
    runtime: tokio::runtime::Runtime,
}

impl Bench {
    fn new() -> Self {
        let moto = MotoServer::strict();
        let proxy = Proxy::start(&moto.endpoint());
        let dir = TempDir::new().unwrap();
        // The production example without its add-ons and access entries (e2e_lifecycle.rs
        // covers them), plus the kinds Pod Identity and Karpenter bring: the agent add-on, an
        // account on Pod Identity (role, association), Karpenter's roles, node access entry,
        // interruption queue and rules, discovery tags and the spot service-linked role.
        let full = std::fs::read_to_string(repo().join("examples/production.yaml")).unwrap();
        let text = format!(
            "{}{}",
            &full[..full.find("  addons:\n").unwrap()],
            "    - name: orders-api\n      namespace: orders\n      mechanism: podIdentity\n      policyArns: [arn:aws:iam::aws:policy/AmazonDynamoDBReadOnlyAccess]\n  addons:\n    - name: eks-pod-identity-agent\n  karpenter:\n    version: \"1.8.1\"\n"
        );
        let spec = dir.path().join("prod.yaml");
        std::fs::write(&spec, text).unwrap();
        Self {
            moto,
            proxy,
            spec: spec.to_string_lossy().into_owned(),
            _dir: dir,
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
        }
    }

    fn ekspec(&self, endpoint: &str, args: &[&str]) -> Ekspec {
        let mut all = args.to_vec();
        all.extend(["-f", &self.spec]);
        if args[0] != "plan" {
            all.push("--auto-approve");
        }
        Ekspec::new(&all)
            .env("AWS_ENDPOINT_URL", endpoint)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_EC2_METADATA_DISABLED", "true")
    }

    /// Runs a command to the end straight against moto; it must succeed.
    fn succeed(&self, args: &[&str]) {
        let out = self.ekspec(&self.moto.endpoint(), args).run();
        assert_eq!(out.code, 0, "ekspec {args:?}: {out:?}");
    }

    /// Runs a command through the proxy, killed after the k-th mutating call (if it gets
    /// that far); returns whether it was killed.
    fn crash(&self, command: &str, k: usize) -> bool {
        let child = self.ekspec(&self.proxy.endpoint(), &[command]).spawn();
        self.proxy.kill_after(k, child.id());
        let output = child.wait_with_output().unwrap();
        self.proxy.disarm();
        let killed = std::os::unix::process::ExitStatusExt::signal(&output.status) == Some(9);
        assert!(
            killed || output.status.success(),
            "{command} (k={k}) failed without being killed: {output:?}"
        );
        killed
    }

    /// Mutating calls of one uninterrupted run through the proxy.
    fn count(&self, command: &str) -> usize {
        self.proxy.disarm();
        let out = self.ekspec(&self.proxy.endpoint(), &[command]).run();
        assert_eq!(out.code, 0, "{command}: {out:?}");
        self.proxy.mutations()
    }

    fn kinds(&self) -> BTreeMap<String, usize> {
        let inventory = self
            .runtime
            .block_on(Inventory::new(&self.moto.endpoint(), "us-east-1"));
        let everything = self.runtime.block_on(inventory.everything());
        let mut kinds = BTreeMap::new();
        // EC2 Spot's service-linked role stays after a delete: it is the account's (made once
        // for Karpenter's first spot launch), not the cluster's.
        for line in everything
            .iter()
            .filter(|l| !l.starts_with("service-linked-role "))
        {
            *kinds
                .entry(line.split(' ').next().unwrap().to_owned())
                .or_default() += 1;
        }
        kinds
    }

    fn plan_is_empty(&self) {
        let out = self
            .ekspec(&self.moto.endpoint(), &["plan", "--detailed-exitcode"])
            .run();
        assert_eq!(out.code, 0, "plan after recovery: {out:?}");
    }
}

/// How many crash points besides the first and last one a run tries per command.
const SAMPLED_POINTS: usize = 16;

/// The crash points to try among 1..=n: all of them with `EKSPEC_CRASH_POINTS=all`, else the
/// first, the last and a seeded sample of the others.
fn crash_points(n: usize, rng: &mut fastrand::Rng) -> Vec<usize> {
    let wanted = match std::env::var("EKSPEC_CRASH_POINTS").as_deref() {
        Ok("all") => return (1..=n).collect(),
        Ok(count) => count
            .parse()
            .unwrap_or_else(|_| panic!("EKSPEC_CRASH_POINTS={count}: a number or `all`")),
        Err(_) => SAMPLED_POINTS,
    };
    let mut middle: Vec<usize> = (2..n).collect();
    rng.shuffle(&mut middle);
    middle.truncate(wanted);
    let mut points = vec![1, n];
    points.extend(middle);
    points.sort_unstable();
    points.dedup();
    points
}

/// Runs `check(k)` for each crash point on `PARALLEL` threads; returns the failures.
fn each_crash_point(points: &[usize], check: impl Fn(usize) + Sync) -> Vec<String> {
    let next = AtomicUsize::new(0);
    let failures = Arc::new(Mutex::new(Vec::new()));
    std::thread::scope(|scope| {
        for _ in 0..PARALLEL {
            scope.spawn(|| {
                while let Some(&k) = points.get(next.fetch_add(1, Ordering::SeqCst)) {
                    let result =
                        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(k)));
                    if let Err(panic) = result {
                        let message = panic
                            .downcast_ref::<String>()
                            .cloned()
                            .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                            .unwrap_or_default();
                        failures.lock().unwrap().push(format!("k={k}: {message}"));
                    }
                }
            });
        }
    });
    failures.lock().unwrap().clone()
}

#[test]
fn apply_and_delete_recover_from_a_crash_after_every_mutating_call() {
    // Reference figures from one clean run.
    let reference = Bench::new();
    let before = reference.kinds();
    let apply_calls = reference.count("apply");
    let applied = reference.kinds();
    let delete_calls = reference.count("delete");
    assert_eq!(
        reference.kinds(),
        before,
        "a clean delete leaves the account as it was"
    );
    assert!(
        apply_calls > 30 && delete_calls > 20,
        "{apply_calls} {delete_calls}"
    );

    let seed = std::env::var("EKSPEC_CRASH_SEED")
        .ok()
        .map(|hex| u64::from_str_radix(&hex, 16).expect("EKSPEC_CRASH_SEED: hex"))
        .unwrap_or_else(|| fastrand::u64(..));
    let mut rng = fastrand::Rng::with_seed(seed);
    let apply_points = crash_points(apply_calls, &mut rng);
    let delete_points = crash_points(delete_calls, &mut rng);
    println!(
        "crash points (EKSPEC_CRASH_SEED={seed:x}): apply {apply_points:?} of {apply_calls}, delete {delete_points:?} of {delete_calls}"
    );

    let apply_failures = each_crash_point(&apply_points, |k| {
        let bench = Bench::new();
        bench.crash("apply", k);
        bench.succeed(&["apply", "--break-lock"]);
        bench.plan_is_empty();
        assert_eq!(
            bench.kinds(),
            applied,
            "twins or leftovers after a crash at call {k}"
        );
    });
    let delete_failures = each_crash_point(&delete_points, |k| {
        let bench = Bench::new();
        bench.succeed(&["apply"]);
        bench.crash("delete", k);
        bench.succeed(&["delete", "--break-lock"]);
        assert_eq!(
            bench.kinds(),
            before,
            "leftovers after a delete crashed at call {k}"
        );
    });
    println!(
        "crash points tried: {} of {apply_calls} during apply, {} of {delete_calls} during delete; failures: {}",
        apply_points.len(),
        delete_points.len(),
        apply_failures.len() + delete_failures.len()
    );
    assert!(
        apply_failures.is_empty() && delete_failures.is_empty(),
        "replay with EKSPEC_CRASH_SEED={seed:x}\napply:\n{}\ndelete:\n{}",
        apply_failures.join("\n"),
        delete_failures.join("\n")
    );
}
