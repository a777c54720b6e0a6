//! Crash safety: a command is SIGKILLed right after its k-th mutating AWS call; a second run of
//! it must succeed and leave the account as one clean run does: after an `apply`,
//! `plan --detailed-exitcode` at 0 and exactly what a clean apply makes (no twin, nothing
//! untagged left over); after a `delete`, the account as it was before the cluster. The kill
//! comes from a proxy in front of moto (tests/it/proxy.rs), so the binary under test is the
//! real one. A killed run leaves its cluster lock behind (that is what the lock is for), so the
//! recovery runs pass `--break-lock`, as a person would after making sure the killed run is
//! gone; the account must then hold no lock either.
//!
//! The scenarios are [`SCENARIOS`]: the production example's apply and delete (with the kinds
//! Pod Identity and Karpenter bring), an IPv6 cluster with EKS Auto Mode made and deleted (the
//! VPC's IPv6 block, the subnets' IPv6 CIDRs, the egress-only internet gateway and IPv6 default
//! routes, Auto Mode's node role and the cluster's Auto Mode configuration), and an apply that
//! changes a live cluster's settings in place (Auto Mode turned on, support policy, deletion
//! protection, zonal shift, control plane tier, node group repair and update strategy), and
//! `ekspec adopt --adopt-network` of a cluster made the way eksctl makes one, with its VPC
//! (tests/it/adopt.rs), from the spec `ekspec export` wrote for it.
//!
//! Each crash point costs two or three runs against strict moto (tests/moto/strict.py, timed
//! states), so one test run tries a sample: the first and last call of each scenario and
//! `EKSPEC_CRASH_POINTS` others (default 26) drawn from all scenarios' calls together with a
//! seed it prints. `EKSPEC_CRASH_POINTS=all` tries every call of every scenario;
//! `EKSPEC_CRASH_SEED=HEX` replays a sample; `EKSPEC_CRASH_SCENARIOS=NAME,...` runs only those
//! scenarios; `EKSPEC_CRASH_AT=NAME:K,...` tries just those points.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tempfile::TempDir;

use crate::inventory::Inventory;
use crate::moto::MotoServer;
use crate::proxy::{Fault, Proxy, Rule};
use crate::support::{Ekspec, repo};

/// How many crash points run at once (each has its own moto).
const PARALLEL: usize = 3;

/// How many crash points besides the first and last one of each scenario a run tries.
const SAMPLED_POINTS: usize = 26;

/// What the account must look like after the recovery run.
#[derive(Clone, Copy, PartialEq)]
enum End {
    /// As after one clean run of the command, and `plan` finds nothing to do.
    Converged,
    /// As before the scenario's cluster existed.
    Gone,
}

/// A command killed at each of its mutating calls, from a state `prepare` makes.
struct Scenario {
    /// Names it in the sample, in failures and in `EKSPEC_CRASH_SCENARIOS`.
    name: &'static str,
    /// The spec the killed command runs with (empty where `prepare` writes it).
    spec: fn() -> String,
    /// Brings a fresh account to where the killed command starts, straight against moto.
    prepare: fn(&Bench),
    /// The command killed (`-f SPEC` and `--auto-approve` are added); the recovery run is the
    /// same with `--break-lock`.
    command: &'static [&'static str],
    end: End,
    /// Mutating calls (a part of the proxy's name for them) a clean run must make at least
    /// this many times: what the scenario is there to crash.
    exercises: &'static [(&'static str, usize)],
}

const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "production-apply",
        spec: production,
        prepare: |_| {},
        command: &["apply"],
        end: End::Converged,
        exercises: &[
            ("CreateNatGateway", 3),
            ("POST /clusters/prod/node-groups", 2),
            ("POST /clusters/prod/pod-identity-associations", 1),
            ("CreateQueue", 1),
        ],
    },
    Scenario {
        name: "production-delete",
        spec: production,
        prepare: Bench::apply,
        command: &["delete"],
        end: End::Gone,
        exercises: &[
            ("DeleteNatGateway", 3),
            ("DELETE /clusters/prod", 1),
            ("DeleteQueue", 1),
        ],
    },
    Scenario {
        name: "ipv6-auto-mode-apply",
        spec: ipv6_auto_mode,
        prepare: |_| {},
        command: &["apply"],
        end: End::Converged,
        exercises: &[
            ("AssociateVpcCidrBlock", 1),
            ("AssociateSubnetCidrBlock", 4),
            ("CreateEgressOnlyInternetGateway", 1),
            ("CreateRoute", 4),
            ("CreateRole", 3),
            ("POST /clusters", 1),
        ],
    },
    Scenario {
        name: "ipv6-auto-mode-delete",
        spec: ipv6_auto_mode,
        prepare: Bench::apply,
        command: &["delete"],
        end: End::Gone,
        exercises: &[
            ("DeleteEgressOnlyInternetGateway", 1),
            ("DELETE /clusters/dual", 1),
            ("DeleteRole", 3),
        ],
    },
    Scenario {
        name: "settings-update",
        spec: settings_changed,
        prepare: |bench| bench.apply_text(&settings_base()),
        command: &["apply"],
        end: End::Converged,
        exercises: &[
            // Auto Mode's node role, then one update each for Auto Mode, the support policy,
            // deletion protection, zonal shift and the tier; the node group's settings.
            ("CreateRole", 1),
            ("POST /clusters/tuned/update-config", 5),
            ("POST /clusters/tuned/node-groups/", 1),
        ],
    },
    Scenario {
        name: "adopt",
        spec: String::new,
        prepare: Bench::seed_eksctl_cluster,
        command: &["adopt", "--adopt-network"],
        end: End::Converged,
        exercises: &[
            // The VPC and what is in it tagged (subnets, gateways, the NAT gateway and its
            // address, route tables, security groups); the cluster, cluster/node/IRSA roles,
            // the add-on, access entry and Pod Identity association tagged; eksctl's node
            // group replaced by ekspec's (the new one made before the old one goes).
            ("CreateTags", 12),
            ("POST /tags/", 4),
            ("TagRole", 4),
            ("TagOpenIDConnectProvider", 1),
            ("POST /clusters/shop/node-groups", 1),
            ("DELETE /clusters/shop/node-groups/ng-1", 1),
        ],
    },
];

/// The production example without its add-ons and access entries (e2e_lifecycle.rs covers
/// them), plus the kinds Pod Identity and Karpenter bring: the agent add-on, an account on Pod
/// Identity (role, association), Karpenter's roles, node access entry, interruption queue and
/// rules, discovery tags and the spot service-linked role.
fn production() -> String {
    let full = std::fs::read_to_string(repo().join("examples/production.yaml")).unwrap();
    format!(
        "{}{}",
        &full[..full.find("  addons:\n").unwrap()],
        "    - name: orders-api\n      namespace: orders\n      mechanism: podIdentity\n      policyArns: [arn:aws:iam::aws:policy/AmazonDynamoDBReadOnlyAccess]\n  addons:\n    - name: eks-pod-identity-agent\n  karpenter:\n    version: \"1.8.1\"\n"
    )
}

/// An IPv6 cluster in two zones with Auto Mode's built-in node pools and a node group: the
/// VPC's Amazon-provided IPv6 block, an IPv6 CIDR on each of the four subnets, IPv6 default
/// routes to the internet gateway and to an egress-only internet gateway, the node role with
/// the CNI's IPv6 policy, Auto Mode's node role, and the cluster created with
/// `ipFamily: ipv6` and Auto Mode's compute, block storage and load balancing on.
fn ipv6_auto_mode() -> String {
    "apiVersion: ekspec/v1alpha1
kind: Cluster
metadata: {name: dual, region: us-east-1}
spec:
  kubernetesVersion: \"1.35\"
  ipFamily: ipv6
  vpc: {availabilityZones: [us-east-1a, us-east-1b], natGateway: single}
  autoMode: {enabled: true, nodePools: [general-purpose, system]}
  nodeGroups:
    - name: default
      instanceTypes: [m6i.large]
      minSize: 1
      maxSize: 2
"
    .to_owned()
}

/// A cluster with a node group, deletion protection on and the other settings at their
/// defaults: where the settings update starts.
fn settings_base() -> String {
    "apiVersion: ekspec/v1alpha1
kind: Cluster
metadata: {name: tuned, region: us-east-1}
spec:
  kubernetesVersion: \"1.35\"
  vpc: {availabilityZones: [us-east-1a, us-east-1b], natGateway: single}
  deletionProtection: true
  nodeGroups:
    - name: workers
      instanceTypes: [m6i.large]
      minSize: 1
      maxSize: 3
"
    .to_owned()
}

/// [`settings_base`] with every setting changed in place: Auto Mode on, extended support,
/// deletion protection off, zonal shift on, a larger control plane tier, and the node group's
/// update budget, strategy and repair.
fn settings_changed() -> String {
    settings_base()
        .replacen(
            "  deletionProtection: true\n",
            "  deletionProtection: false
  upgradePolicy: {supportType: EXTENDED}
  zonalShift: true
  controlPlaneScalingTier: tier-xl
  autoMode: {enabled: true}
",
            1,
        )
        .replacen(
            "      maxSize: 3\n",
            "      maxSize: 3
      maxUnavailable: 2
      updateStrategy: MINIMAL
      nodeRepairConfig: {enabled: true, maxUnhealthyNodeThresholdPercentage: 20, maxParallelNodesRepairedCount: 1}
",
            1,
        )
}

/// One moto, a proxy in front of it, and a scenario's spec.
struct Bench {
    moto: MotoServer,
    proxy: Proxy,
    spec: PathBuf,
    dir: TempDir,
    runtime: tokio::runtime::Runtime,
}

impl Bench {
    fn new(spec: &str) -> Self {
        let moto = MotoServer::strict();
        let proxy = Proxy::start(&moto.endpoint());
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("cluster.yaml");
        std::fs::write(&path, spec).unwrap();
        Self {
            moto,
            proxy,
            spec: path,
            dir,
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
        }
    }

    fn ekspec(&self, endpoint: &str, spec: &std::path::Path, args: &[&str]) -> Ekspec {
        let mut all = args.to_vec();
        let spec = spec.to_string_lossy();
        all.extend(["-f", &spec]);
        if args[0] != "plan" {
            all.push("--auto-approve");
        }
        Self::against(endpoint, &all)
    }

    /// `ekspec ARGS` with credentials for the emulator at `endpoint`.
    fn against(endpoint: &str, args: &[&str]) -> Ekspec {
        Ekspec::new(args)
            .env("AWS_ENDPOINT_URL", endpoint)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_EC2_METADATA_DISABLED", "true")
    }

    /// Runs a command with the scenario's spec to the end straight against moto; it must
    /// succeed.
    fn succeed(&self, args: &[&str]) {
        let out = self.ekspec(&self.moto.endpoint(), &self.spec, args).run();
        assert_eq!(out.code, 0, "ekspec {args:?}: {out:?}");
    }

    /// Applies the scenario's spec straight.
    fn apply(&self) {
        self.succeed(&["apply"]);
    }

    /// Applies another spec straight (a state the scenario starts from).
    fn apply_text(&self, text: &str) {
        let path = self.dir.path().join("before.yaml");
        std::fs::write(&path, text).unwrap();
        let out = self.ekspec(&self.moto.endpoint(), &path, &["apply"]).run();
        assert_eq!(out.code, 0, "ekspec apply of\n{text}\n{out:?}");
    }

    /// A cluster made the way eksctl makes one with its VPC, not ekspec's; the scenario's
    /// spec becomes what `ekspec export` writes for it.
    fn seed_eksctl_cluster(&self) {
        let inventory = self
            .runtime
            .block_on(Inventory::new(&self.moto.endpoint(), "us-east-1"));
        self.runtime.block_on(async {
            let vpc = crate::adopt::seed_eksctl_style(&inventory, "shop").await;
            crate::adopt::seed_eksctl_network(&inventory, "shop", &vpc).await;
        });
        let args = ["export", "--name", "shop", "--region", "us-east-1"];
        let out = Self::against(&self.moto.endpoint(), &args).run();
        assert_eq!(out.code, 0, "ekspec export: {out:?}");
        std::fs::write(&self.spec, out.stdout).unwrap();
    }

    /// Runs a command through the proxy, killed after the k-th mutating call (if it gets
    /// that far); returns whether it was killed.
    fn crash(&self, command: &[&str], k: usize) -> bool {
        let child = self
            .ekspec(&self.proxy.endpoint(), &self.spec, command)
            .spawn();
        self.proxy.kill_after(k, child.id());
        let output = child.wait_with_output().unwrap();
        // Requests the process sent before it died still reach AWS; the next run is started
        // once they did (a person reruns after a moment, not while the dead run's last
        // requests are on the wire: ekspec then rightly refuses, the account having changed
        // between its plan and its run).
        self.proxy.settle();
        self.proxy.disarm();
        let killed = std::os::unix::process::ExitStatusExt::signal(&output.status) == Some(9);
        assert!(
            killed || output.status.success(),
            "{command:?} (k={k}) failed without being killed: {output:?}"
        );
        killed
    }

    /// The mutating calls of one uninterrupted run through the proxy.
    fn calls(&self, command: &[&str]) -> Vec<String> {
        self.proxy.disarm();
        let out = self
            .ekspec(&self.proxy.endpoint(), &self.spec, command)
            .run();
        assert_eq!(out.code, 0, "{command:?}: {out:?}");
        self.proxy.calls()
    }

    /// How many resources of each kind the account holds, and how many IPv6 blocks its VPCs
    /// and subnets have (a twin association is no resource of its own).
    fn kinds(&self) -> BTreeMap<String, usize> {
        let inventory = self
            .runtime
            .block_on(Inventory::new(&self.moto.endpoint(), "us-east-1"));
        let mut everything = self.runtime.block_on(inventory.everything());
        everything.extend(self.runtime.block_on(ipv6_blocks(&inventory.ec2)));
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
            .ekspec(
                &self.moto.endpoint(),
                &self.spec,
                &["plan", "--detailed-exitcode"],
            )
            .run();
        assert_eq!(out.code, 0, "plan after recovery: {out:?}");
    }
}

/// The IPv6 blocks associated with VPCs (`vpc-ipv6-block`) and subnets (`subnet-ipv6-block`).
async fn ipv6_blocks(ec2: &aws_sdk_ec2::Client) -> Vec<String> {
    let live = |state: Option<&str>| matches!(state, Some("associated" | "associating"));
    let mut found = Vec::new();
    for vpc in ec2.describe_vpcs().send().await.unwrap().vpcs() {
        for block in vpc.ipv6_cidr_block_association_set() {
            let state = block.ipv6_cidr_block_state().and_then(|s| s.state());
            if live(state.map(|s| s.as_str())) {
                found.push(format!(
                    "vpc-ipv6-block {}",
                    block.association_id().unwrap_or_default()
                ));
            }
        }
    }
    for subnet in ec2.describe_subnets().send().await.unwrap().subnets() {
        for block in subnet.ipv6_cidr_block_association_set() {
            let state = block.ipv6_cidr_block_state().and_then(|s| s.state());
            if live(state.map(|s| s.as_str())) {
                found.push(format!(
                    "subnet-ipv6-block {}",
                    block.association_id().unwrap_or_default()
                ));
            }
        }
    }
    found
}

/// What one clean run of a scenario did: its mutating calls and the account after it.
struct Reference {
    /// The mutating calls, by the proxy's name for them.
    calls: Vec<String>,
    after: BTreeMap<String, usize>,
}

impl Reference {
    fn of(scenario: &Scenario) -> Self {
        let bench = Bench::new(&(scenario.spec)());
        let before = bench.kinds();
        (scenario.prepare)(&bench);
        let calls = bench.calls(scenario.command);
        for &(call, times) in scenario.exercises {
            let made = calls.iter().filter(|c| c.contains(call)).count();
            assert!(
                made >= times,
                "{}: a clean run made {made} `{call}` calls, not {times}: {calls:?}",
                scenario.name
            );
        }
        let after = bench.kinds();
        if scenario.end == End::Gone {
            assert_eq!(
                after, before,
                "{}: a clean run leaves the account as it was",
                scenario.name
            );
        }
        Self { calls, after }
    }
}

/// The scenarios `EKSPEC_CRASH_SCENARIOS` names (all without it).
fn chosen_scenarios() -> Vec<&'static Scenario> {
    let Ok(names) = std::env::var("EKSPEC_CRASH_SCENARIOS") else {
        return SCENARIOS.iter().collect();
    };
    let names: Vec<&str> = names.split(',').map(str::trim).collect();
    for name in &names {
        assert!(
            SCENARIOS.iter().any(|s| s.name == *name),
            "EKSPEC_CRASH_SCENARIOS: no scenario `{name}` (there are {:?})",
            SCENARIOS.iter().map(|s| s.name).collect::<Vec<_>>()
        );
    }
    SCENARIOS
        .iter()
        .filter(|s| names.contains(&s.name))
        .collect()
}

/// The crash points to try, as (scenario, k) with k among 1..=calls[scenario]: those
/// `EKSPEC_CRASH_AT` names, all of them with `EKSPEC_CRASH_POINTS=all`, else the first and last
/// of each scenario and a seeded sample of all the others together.
fn crash_points(
    scenarios: &[&Scenario],
    calls: &[usize],
    rng: &mut fastrand::Rng,
) -> Vec<(usize, usize)> {
    if let Ok(at) = std::env::var("EKSPEC_CRASH_AT") {
        return at
            .split(',')
            .map(|point| {
                let (name, k) = point
                    .trim()
                    .rsplit_once(':')
                    .unwrap_or_else(|| panic!("EKSPEC_CRASH_AT: `{point}` is not NAME:K"));
                let s = scenarios
                    .iter()
                    .position(|s| s.name == name)
                    .unwrap_or_else(|| panic!("EKSPEC_CRASH_AT: no scenario `{name}` chosen"));
                let k = k.parse().expect("EKSPEC_CRASH_AT: K is a number");
                assert!(
                    (1..=calls[s]).contains(&k),
                    "EKSPEC_CRASH_AT: {name} makes {} calls",
                    calls[s]
                );
                (s, k)
            })
            .collect();
    }
    let all = calls
        .iter()
        .enumerate()
        .flat_map(|(s, &n)| (1..=n).map(move |k| (s, k)));
    let wanted = match std::env::var("EKSPEC_CRASH_POINTS").as_deref() {
        Ok("all") => return all.collect(),
        Ok(count) => count
            .parse()
            .unwrap_or_else(|_| panic!("EKSPEC_CRASH_POINTS={count}: a number or `all`")),
        Err(_) => SAMPLED_POINTS,
    };
    let (mut points, mut middle): (Vec<_>, Vec<_>) =
        all.partition(|&(s, k)| k == 1 || k == calls[s]);
    rng.shuffle(&mut middle);
    middle.truncate(wanted);
    points.extend(middle);
    points.sort_unstable();
    points
}

/// Runs `each(item)` for every item on `PARALLEL` threads; returns the failures, each
/// introduced by `label(item)`.
fn in_parallel<T: Sync>(
    items: &[T],
    label: impl Fn(&T) -> String + Sync,
    each: impl Fn(&T) + Sync,
) -> Vec<String> {
    let next = AtomicUsize::new(0);
    let failures = Arc::new(Mutex::new(Vec::new()));
    std::thread::scope(|scope| {
        for _ in 0..PARALLEL {
            scope.spawn(|| {
                while let Some(item) = items.get(next.fetch_add(1, Ordering::SeqCst)) {
                    let result =
                        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| each(item)));
                    if let Err(panic) = result {
                        let message = panic
                            .downcast_ref::<String>()
                            .cloned()
                            .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                            .unwrap_or_default();
                        let failure = format!("{}: {message}", label(item));
                        // At once too: an `EKSPEC_CRASH_POINTS=all` run takes long.
                        println!("crash point failed: {failure}");
                        failures.lock().unwrap().push(failure);
                    }
                }
            });
        }
    });
    failures.lock().unwrap().clone()
}

#[test]
fn commands_recover_from_a_crash_after_every_mutating_call() {
    let scenarios = chosen_scenarios();
    // Reference figures from one clean run of each scenario.
    let references = Mutex::new(BTreeMap::new());
    let failures = in_parallel(
        &scenarios,
        |s| s.name.to_owned(),
        |s| {
            let reference = Reference::of(s);
            references.lock().unwrap().insert(s.name, reference);
        },
    );
    assert!(failures.is_empty(), "clean runs:\n{}", failures.join("\n"));
    let references = references.into_inner().unwrap();
    let reference = |s: &Scenario| &references[s.name];

    let seed = std::env::var("EKSPEC_CRASH_SEED")
        .ok()
        .map(|hex| u64::from_str_radix(&hex, 16).expect("EKSPEC_CRASH_SEED: hex"))
        .unwrap_or_else(|| fastrand::u64(..));
    let mut rng = fastrand::Rng::with_seed(seed);
    let calls: Vec<usize> = scenarios.iter().map(|s| reference(s).calls.len()).collect();
    let points = crash_points(&scenarios, &calls, &mut rng);
    let sample: Vec<String> = scenarios
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let ks: Vec<usize> = points
                .iter()
                .filter(|(p, _)| *p == i)
                .map(|(_, k)| *k)
                .collect();
            format!("{} {ks:?} of {}", s.name, calls[i])
        })
        .collect();
    println!(
        "crash points (EKSPEC_CRASH_SEED={seed:x}): {}",
        sample.join(", ")
    );

    let failures = in_parallel(
        &points,
        |&(s, k)| {
            let scenario = scenarios[s];
            let call = &reference(scenario).calls[k - 1];
            format!("{} k={k} (killed after {call})", scenario.name)
        },
        |&(s, k)| {
            let scenario = scenarios[s];
            let bench = Bench::new(&(scenario.spec)());
            (scenario.prepare)(&bench);
            bench.crash(scenario.command, k);
            let mut recovery = scenario.command.to_vec();
            recovery.push("--break-lock");
            bench.succeed(&recovery);
            if scenario.end == End::Converged {
                bench.plan_is_empty();
            }
            assert_eq!(
                bench.kinds(),
                reference(scenario).after,
                "twins or leftovers after a crash at call {k}"
            );
        },
    );
    println!(
        "crash points tried: {} of {}; failures: {}",
        points.len(),
        calls.iter().sum::<usize>(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "replay with EKSPEC_CRASH_SEED={seed:x}\n{}",
        failures.join("\n")
    );
}

/// A cluster whose delete finishes between two reads of it: EKS answers DescribeCluster with
/// the cluster, then ListNodegroups with ResourceNotFoundException. A `delete` resumed after a
/// crash (its cluster DELETING) reads it so and must finish, not stop at the error: the crash
/// test found a recovery `delete` stopped so. The proxy gives EKS's answer for a gone cluster
/// (moto would need the cluster to go in the few milliseconds between the two reads).
#[test]
fn a_delete_that_finds_its_cluster_gone_between_two_reads_finishes() {
    let bench = Bench::new(
        "apiVersion: ekspec/v1alpha1
kind: Cluster
metadata: {name: brief, region: us-east-1}
spec:
  kubernetesVersion: \"1.35\"
  vpc: {zoneCount: 2, natGateway: none}
",
    );
    let before = bench.kinds();
    bench.apply();
    bench.proxy.faults(vec![Rule::new(
        |call| call == "GET /clusters/brief/node-groups",
        Fault::Refuse(
            404,
            "ResourceNotFoundException",
            "No cluster found for name: brief.".to_owned(),
        ),
        1,
    )]);
    let out = bench
        .ekspec(&bench.proxy.endpoint(), &bench.spec, &["delete"])
        .run();
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        bench.proxy.injected().len(),
        1,
        "the delete read the node groups once"
    );
    assert_eq!(bench.kinds(), before, "the delete left something behind");
}

/// A run stopped while its VPC's IPv6 block was still `associating` (it had asked for the
/// block and was waiting for it): the next run takes that block as the VPC's, not as missing
/// (its plan would shrink as the block settles, and a run refuses a plan that changed under
/// it: the crash test found recovery runs stopped so), and gives the subnets their /64s once
/// the block is associated (EC2 takes them only of an associated block).
#[test]
fn an_ipv6_block_still_associating_is_the_vpcs() {
    let bench = Bench::new(
        "apiVersion: ekspec/v1alpha1
kind: Cluster
metadata: {name: settling, region: us-east-1}
spec:
  kubernetesVersion: \"1.35\"
  ipFamily: ipv6
  vpc: {cidr: 10.40.0.0/16, zoneCount: 2, natGateway: none}
",
    );
    bench
        .moto
        .control("vpc-ipv6-associating", serde_json::json!({"seconds": 10}));
    // The VPC as the stopped run left it.
    let ec2 = bench
        .runtime
        .block_on(Inventory::new(&bench.moto.endpoint(), "us-east-1"))
        .ec2;
    bench.runtime.block_on(async {
        let tag = |key: &str, value: &str| {
            aws_sdk_ec2::types::Tag::builder()
                .key(key)
                .value(value)
                .build()
        };
        let vpc = ec2
            .create_vpc()
            .cidr_block("10.40.0.0/16")
            .tag_specifications(
                aws_sdk_ec2::types::TagSpecification::builder()
                    .resource_type(aws_sdk_ec2::types::ResourceType::Vpc)
                    .tags(tag("ekspec.io/cluster", "settling"))
                    .tags(tag("ekspec.io/resource", "vpc"))
                    .build(),
            )
            .send()
            .await
            .unwrap();
        ec2.associate_vpc_cidr_block()
            .vpc_id(vpc.vpc().unwrap().vpc_id().unwrap())
            .amazon_provided_ipv6_cidr_block(true)
            .send()
            .await
            .unwrap();
    });

    let plan = bench
        .ekspec(&bench.moto.endpoint(), &bench.spec, &["plan"])
        .run();
    assert_eq!(plan.code, 0, "{plan:?}");
    assert!(
        !plan.stdout.contains("ipv6Cidr"),
        "the VPC has its block already:\n{}",
        plan.stdout
    );
    bench.apply();
    bench.plan_is_empty();
    assert_eq!(bench.kinds()["vpc-ipv6-block"], 1, "one IPv6 block");
}
