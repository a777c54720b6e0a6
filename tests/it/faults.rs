//! Faults between the real binary and moto, injected by the proxy in AWS's own shapes:
//! throttling, 5xx answers, connection resets and slow answers on a share of all calls; and
//! what moto never does: resources that stay CREATING or pending for a few polls, a new IAM
//! role EKS cannot use yet, a node group that ends CREATE_FAILED with health issues, a
//! deletion blocked by a dependency. Apply succeeds where AWS would let it, without twins;
//! otherwise it stops with an error naming the resource and AWS's reason, and the next apply
//! finishes the job.

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::Duration;

use tempfile::TempDir;

use crate::inventory::Inventory;
use crate::moto::MotoServer;
use crate::proxy::{Fault, Proxy, Rule};
use crate::support::{Ekspec, Output};

const SPEC: &str = r#"apiVersion: ekspec/v1alpha1
kind: Cluster
metadata: {name: faults, region: us-east-1}
spec:
  kubernetesVersion: "1.31"
  vpc: {availabilityZones: [us-east-1a, us-east-1b], natGateway: single}
  nodeGroups:
    - {name: system, instanceTypes: [m6i.large], minSize: 1, maxSize: 3}
  serviceAccounts:
    - {name: dns, namespace: kube-system, policyArns: ['arn:aws:iam::aws:policy/AmazonRoute53FullAccess']}
"#;

/// moto with the proxy in front, and the spec.
struct Faulty {
    moto: MotoServer,
    proxy: Proxy,
    spec: String,
    _dir: TempDir,
}

impl Faulty {
    fn new() -> Self {
        let moto = MotoServer::start();
        let proxy = Proxy::start(&moto.endpoint());
        let dir = TempDir::new().unwrap();
        let spec = dir.path().join("faults.yaml");
        std::fs::write(&spec, SPEC).unwrap();
        Self {
            moto,
            proxy,
            spec: spec.to_string_lossy().into_owned(),
            _dir: dir,
        }
    }

    /// Runs `ekspec COMMAND -f SPEC ARGS...` through the proxy (`faulty`) or straight to moto.
    fn run(&self, faulty: bool, command: &str, args: &[&str]) -> Output {
        let endpoint = if faulty {
            self.proxy.endpoint()
        } else {
            self.moto.endpoint()
        };
        let mut all = vec![command, "-f", &self.spec];
        all.extend(args);
        Ekspec::new(&all)
            .env("AWS_ENDPOINT_URL", &endpoint)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .run()
    }

    /// Resources of each kind in the account.
    fn kinds(&self) -> BTreeMap<String, usize> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let everything = runtime.block_on(async {
            Inventory::new(&self.moto.endpoint(), "us-east-1")
                .await
                .everything()
                .await
        });
        let mut kinds = BTreeMap::new();
        for line in everything {
            *kinds
                .entry(line.split(' ').next().unwrap().to_owned())
                .or_default() += 1;
        }
        kinds
    }

    /// The plan straight against moto is empty.
    fn converged(&self) {
        let plan = self.run(false, "plan", &["--detailed-exitcode"]);
        assert_eq!(plan.code, 0, "plan after the apply: {plan:?}");
        assert_eq!(plan.stdout.trim(), "No changes.");
    }
}

/// What a clean apply of the spec makes, by kind (one reference run per test binary).
fn reference() -> &'static BTreeMap<String, usize> {
    static KINDS: OnceLock<BTreeMap<String, usize>> = OnceLock::new();
    KINDS.get_or_init(|| {
        let clean = Faulty::new();
        let out = clean.run(false, "apply", &["--auto-approve"]);
        assert_eq!(out.code, 0, "clean apply: {out:?}");
        clean.kinds()
    })
}

fn rewrite(pairs: &[(&str, &str)]) -> Fault {
    Fault::Rewrite(
        pairs
            .iter()
            .map(|(from, to)| ((*from).to_owned(), (*to).to_owned()))
            .collect(),
    )
}

fn any_call(_: &str) -> bool {
    true
}

fn count(list: &[String], prefix: &str) -> usize {
    list.iter().filter(|l| l.starts_with(prefix)).count()
}

#[test]
fn throttling_5xx_resets_and_slow_answers_are_retried_without_twins() {
    let aws = Faulty::new();
    aws.proxy.faults(vec![
        Rule::new(any_call, Fault::Throttle, 12).every(5),
        Rule::new(any_call, Fault::Unavailable, 6).every(7),
        Rule::new(any_call, Fault::Reset, 4).every(11),
        Rule::new(any_call, Fault::Slow(Duration::from_millis(300)), 10).every(4),
    ]);
    let out = aws.run(true, "apply", &["--auto-approve"]);
    assert_eq!(out.code, 0, "apply through faults: {out:?}");
    let injected = aws.proxy.injected();
    for fault in ["Throttle", "Unavailable", "Reset", "Slow"] {
        assert!(
            count(&injected, fault) > 0,
            "no {fault} injected: {injected:#?}"
        );
    }
    aws.converged();
    assert_eq!(&aws.kinds(), reference(), "twins or leftovers");
    println!("apply survived {} injected faults", injected.len());
}

#[test]
fn slow_states_and_a_role_eks_cannot_use_yet_are_waited_out() {
    let aws = Faulty::new();
    aws.proxy.faults(vec![
        // A new role is not usable by EKS for a few seconds after IAM created it.
        Rule::new(
            |call| call == "POST /clusters",
            Fault::Refuse(
                400,
                "InvalidParameterException",
                "Role with arn: arn:aws:iam::123456789012:role/ekspec/faults/faults-cluster could not be assumed because it does not exist or the trusted entity is not correct".to_owned(),
            ),
            1,
        ),
        Rule::new(
            |call| call == "GET /clusters/faults",
            rewrite(&[(r#""status": "ACTIVE""#, r#""status": "CREATING""#)]),
            3,
        ),
        Rule::new(
            |call| call.starts_with("GET /clusters/faults/node-groups/"),
            rewrite(&[(r#""status": "ACTIVE""#, r#""status": "CREATING""#)]),
            2,
        ),
        Rule::new(
            |call| call == "DescribeNatGateways",
            rewrite(&[("<state>available</state>", "<state>pending</state>")]),
            2,
        ),
    ]);
    let out = aws.run(true, "apply", &["--auto-approve"]);
    assert_eq!(out.code, 0, "apply: {out:?}");
    let injected = aws.proxy.injected();
    assert_eq!(count(&injected, "Refuse"), 1, "{injected:#?}");
    assert_eq!(count(&injected, "Rewrite"), 7, "{injected:#?}");
    // The refused create reached AWS only when retried: one cluster, made once.
    assert_eq!(
        aws.proxy
            .forwarded()
            .iter()
            .filter(|c| *c == "POST /clusters")
            .count(),
        1
    );
    aws.converged();
    assert_eq!(&aws.kinds(), reference());
}

#[test]
fn a_failed_node_group_is_reported_with_its_health_issues_and_the_next_apply_finishes() {
    let aws = Faulty::new();
    let issues = r#""issues": [{"code": "AsgInstanceLaunchFailures", "message": "Could not launch On-Demand Instances. InsufficientInstanceCapacity - We currently do not have sufficient m6i.large capacity.", "resourceIds": ["eks-system-asg"]}]"#;
    aws.proxy.faults(vec![Rule::new(
        |call| call.starts_with("GET /clusters/faults/node-groups/"),
        rewrite(&[
            (r#""status": "ACTIVE""#, r#""status": "CREATE_FAILED""#),
            (r#""issues": []"#, issues),
        ]),
        usize::MAX,
    )]);
    let out = aws.run(true, "apply", &["--auto-approve"]);
    assert_eq!(out.code, 1, "apply: {out:?}");
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(
        all.contains("node group system-")
            && all.contains("CREATE_FAILED")
            && all.contains("AsgInstanceLaunchFailures: Could not launch On-Demand Instances"),
        "the error names the node group and EKS's reason:\n{all}"
    );
    // Independent branches finished: the IRSA role exists although the node group failed.
    let plan = aws.run(false, "plan", &[]);
    assert!(
        !plan.stdout.contains("role/irsa/kube-system/dns"),
        "the IRSA role was not made:\n{}",
        plan.stdout
    );
    // Capacity came back: the next apply finishes without making anything twice.
    aws.proxy.faults(Vec::new());
    let out = aws.run(true, "apply", &["--auto-approve"]);
    assert_eq!(out.code, 0, "second apply: {out:?}");
    aws.converged();
    assert_eq!(&aws.kinds(), reference());
}

#[test]
fn a_wait_reports_progress_and_gives_up_at_the_timeout_and_the_next_apply_finishes() {
    let aws = Faulty::new();
    // The node groups never leave CREATING.
    aws.proxy.faults(vec![Rule::new(
        |call| call.starts_with("GET /clusters/faults/node-groups/"),
        rewrite(&[(r#""status": "ACTIVE""#, r#""status": "CREATING""#)]),
        usize::MAX,
    )]);
    let out = aws.run(true, "apply", &["--auto-approve", "--timeout", "5s"]);
    assert_eq!(out.code, 1, "apply: {out:?}");
    let all = format!("{}{}", out.stdout, out.stderr);
    // Progress names the change, what it waits for and AWS's state...
    assert!(
        all.lines().any(
            |l| l.contains("nodegroup/system: waiting for node group system-")
                && l.contains(": CREATING (")
        ),
        "no waiting line:\n{all}"
    );
    // ... and the timeout names them too, and how to go on.
    assert!(
        all.contains("gave up waiting for node group system-")
            && all.contains("after 5s (still CREATING); run apply again to keep waiting"),
        "{all}"
    );
    // The node group was made once; the next apply waits for it and finishes.
    aws.proxy.faults(Vec::new());
    let out = aws.run(true, "apply", &["--auto-approve"]);
    assert_eq!(out.code, 0, "second apply: {out:?}");
    aws.converged();
    assert_eq!(&aws.kinds(), reference());
}

#[test]
fn a_bad_timeout_is_refused_before_anything_runs() {
    let aws = Faulty::new();
    let out = aws.run(true, "apply", &["--auto-approve", "--timeout", "soon"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("--timeout"), "{}", out.stderr);
    assert!(out.stderr.contains("40m"), "{}", out.stderr);
    assert!(aws.proxy.forwarded().is_empty());
}

#[test]
fn a_deletion_blocked_by_a_dependency_is_retried_until_aws_allows_it() {
    let aws = Faulty::new();
    let before = aws.kinds();
    let out = aws.run(false, "apply", &["--auto-approve"]);
    assert_eq!(out.code, 0, "apply: {out:?}");
    // Network interfaces of deleted nodes take a while to go: AWS refuses the subnet and VPC
    // deletes until then.
    aws.proxy.faults(vec![
        Rule::new(
            |call| call == "DeleteSubnet",
            Fault::Refuse(
                400,
                "DependencyViolation",
                "The subnet 'subnet-1' has dependencies and cannot be deleted.".to_owned(),
            ),
            3,
        ),
        Rule::new(
            |call| call == "DeleteVpc",
            Fault::Refuse(
                400,
                "DependencyViolation",
                "The vpc 'vpc-1' has dependencies and cannot be deleted.".to_owned(),
            ),
            2,
        ),
        // A load balancer's interfaces keep public addresses mapped through the gateway.
        Rule::new(
            |call| call == "DetachInternetGateway",
            Fault::Refuse(
                400,
                "DependencyViolation",
                "Network vpc-1 has some mapped public address(es). Please unmap those public \
                 address(es) before detaching the gateway."
                    .to_owned(),
            ),
            2,
        ),
    ]);
    let out = aws.run(true, "delete", &["--auto-approve"]);
    assert_eq!(out.code, 0, "delete: {out:?}");
    assert_eq!(count(&aws.proxy.injected(), "Refuse"), 7);
    assert_eq!(aws.kinds(), before, "the delete left something behind");
}

#[test]
fn a_refusal_aws_will_not_lift_stops_with_the_resource_and_reason() {
    let aws = Faulty::new();
    aws.proxy.faults(vec![Rule::new(
        |call| call == "CreateNatGateway",
        Fault::Refuse(
            400,
            "NatGatewayLimitExceeded",
            "The maximum number of NAT gateways has been reached.".to_owned(),
        ),
        usize::MAX,
    )]);
    let out = aws.run(true, "apply", &["--auto-approve"]);
    assert_eq!(out.code, 1, "apply: {out:?}");
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(
        all.contains("CreateNatGateway")
            && all.contains(
                "NatGatewayLimitExceeded: The maximum number of NAT gateways has been reached."
            ),
        "{all}"
    );
    assert_eq!(
        aws.proxy
            .injected()
            .iter()
            .filter(|c| c.contains("CreateNatGateway"))
            .count(),
        1,
        "a refusal is not retried"
    );
    aws.proxy.faults(Vec::new());
    let out = aws.run(true, "apply", &["--auto-approve"]);
    assert_eq!(out.code, 0, "the next apply: {out:?}");
    aws.converged();
    assert_eq!(&aws.kinds(), reference());
}
