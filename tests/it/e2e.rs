//! End to end through the real binary against moto: plan, apply, change, apply, delete, and an
//! independent listing of the account after each step.

use std::collections::BTreeMap;
use std::path::PathBuf;

use tempfile::TempDir;

use crate::inventory::Inventory;
use crate::moto::{Emulator, MotoServer};
use crate::support::{Ekspec, Output, repo};

/// An AWS emulator and a folder for spec files.
pub struct Emulated {
    moto: Emulator,
    dir: TempDir,
}

impl Emulated {
    /// moto in strict mode (tests/moto/strict.py).
    pub fn start() -> Self {
        Self {
            moto: MotoServer::strict(),
            dir: TempDir::new().unwrap(),
        }
    }

    /// fakecloud, when installed.
    pub fn fakecloud() -> Option<Self> {
        Some(Self {
            moto: Emulator::fakecloud()?,
            dir: TempDir::new().unwrap(),
        })
    }

    /// Writes a spec file and returns its path.
    pub fn spec(&self, name: &str, text: &str) -> String {
        let path: PathBuf = self.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_string_lossy().into_owned()
    }

    /// The emulator (its strict-mode test hooks: [`Emulator::control`]).
    pub fn emulator(&self) -> &Emulator {
        &self.moto
    }

    /// The emulator's URL.
    pub fn endpoint(&self) -> String {
        self.moto.endpoint()
    }

    /// ekspec with `endpoint` (the emulator, or a proxy in front of it) as AWS and dummy
    /// credentials.
    pub fn command(&self, endpoint: &str, args: &[&str]) -> Ekspec {
        Ekspec::new(args)
            .env("AWS_ENDPOINT_URL", endpoint)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_EC2_METADATA_DISABLED", "true")
    }

    /// Runs ekspec with moto as AWS and dummy credentials.
    fn ekspec(&self, args: &[&str]) -> Output {
        self.command(&self.moto.endpoint(), args).run()
    }

    /// Runs ekspec and fails the test unless it exits with `code`.
    pub fn expect(&self, code: i32, args: &[&str]) -> Output {
        let out = self.ekspec(args);
        assert_eq!(
            out.code, code,
            "ekspec {args:?} exited {} (expected {code})\nstdout:\n{}\nstderr:\n{}",
            out.code, out.stdout, out.stderr
        );
        out
    }

    pub async fn inventory(&self, region: &str) -> Inventory {
        Inventory::new(&self.moto.endpoint(), region).await
    }
}

/// `text` with the first `from` replaced by `to`; fails when `from` is missing, so an edit of an
/// example cannot silently do nothing.
pub fn edit(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "the spec has no `{from}`");
    text.replacen(from, to, 1)
}

/// How many resources of each kind a listing holds.
fn count_kinds(listing: &[String]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for line in listing {
        let kind = line.split(' ').next().unwrap().to_owned();
        *counts.entry(kind).or_default() += 1;
    }
    counts
}

fn kinds(expected: &[(&str, usize)]) -> BTreeMap<String, usize> {
    expected
        .iter()
        .map(|(k, n)| ((*k).to_owned(), *n))
        .collect()
}

/// The node groups of a cluster whose name starts with `prefix-`.
pub async fn node_groups(
    inventory: &Inventory,
    cluster: &str,
    prefix: &str,
) -> Vec<aws_sdk_eks::types::Nodegroup> {
    let names = inventory
        .eks
        .list_nodegroups()
        .cluster_name(cluster)
        .send()
        .await
        .unwrap();
    let mut groups = Vec::new();
    for name in names.nodegroups() {
        if name.starts_with(&format!("{prefix}-")) {
            let described = inventory
                .eks
                .describe_nodegroup()
                .cluster_name(cluster)
                .nodegroup_name(name)
                .send()
                .await
                .unwrap();
            groups.push(described.nodegroup().unwrap().clone());
        }
    }
    groups
}

fn lines_with<'o>(out: &'o str, needle: &str) -> Vec<&'o str> {
    out.lines().filter(|l| l.contains(needle)).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn production_cluster_lifecycle() {
    let aws = Emulated::start();
    let inventory = aws.inventory("us-east-1").await;
    // Add-ons and access entries are left out here: e2e_lifecycle.rs covers them.
    let full = std::fs::read_to_string(repo().join("examples/production.yaml")).unwrap();
    let example = full[..full.find("  addons:\n").unwrap()].to_owned();
    let v1 = aws.spec("prod.yaml", &example);

    // Create.
    let plan = aws.expect(2, &["plan", "-f", &v1, "--detailed-exitcode"]);
    assert!(
        plan.stdout
            .contains("Plan: 33 to create, 0 to update, 0 to replace, 0 to delete."),
        "{}",
        plan.stdout
    );
    let apply = aws.expect(0, &["apply", "-f", &v1, "--auto-approve"]);
    assert!(
        apply.stdout.contains("Apply complete: 33 changes."),
        "{}",
        apply.stdout
    );
    assert!(
        apply.stdout.contains("+ cluster: done ("),
        "each step reports its duration:\n{}",
        apply.stdout
    );
    let created = inventory.owned("prod").await;
    assert_eq!(
        count_kinds(&created),
        kinds(&[
            ("cluster", 1),
            ("eip", 3),
            ("internet-gateway", 1),
            ("launch-template", 2),
            ("nat-gateway", 3),
            ("nodegroup", 2),
            ("oidc-provider", 1),
            ("role", 5),
            ("route-table", 4),
            // The one EKS makes for the cluster, tagged kubernetes.io/cluster/prod=owned.
            ("security-group", 1),
            ("subnet", 6),
            ("vpc", 1),
        ]),
        "{created:#?}"
    );
    let again = aws.expect(0, &["plan", "-f", &v1, "--detailed-exitcode"]);
    assert_eq!(again.stdout.trim(), "No changes.");
    let again = aws.expect(0, &["apply", "-f", &v1, "--auto-approve"]);
    assert_eq!(again.stdout.trim(), "No changes.");

    // Change scaling, labels, a taint, logging, public CIDRs; add a spot node group and a
    // service account; change an instance type (a replace).
    let mut text = edit(
        &example,
        "minSize: 0\n      maxSize: 20",
        "minSize: 1\n      maxSize: 30",
    );
    text = edit(
        &text,
        "instanceTypes: [m6i.large]",
        "instanceTypes: [m6i.xlarge]",
    );
    text = edit(&text, "cost-center: \"4711\"", "cost-center: \"4712\"");
    text = edit(
        &text,
        "labels: {role: workers, lifecycle: spot}",
        "labels: {role: workers, lifecycle: spot, tier: batch}\n      \
         taints: [{key: spot, value: \"true\", effect: PreferNoSchedule}]",
    );
    text = edit(
        &text,
        "logging: [api, audit, authenticator, controllerManager, scheduler]",
        "logging: [api, audit]",
    );
    text = edit(
        &text,
        "publicAccessCidrs: [203.0.113.0/24, 198.51.100.17/32]",
        "publicAccessCidrs: [203.0.113.0/24]",
    );
    text = edit(
        &text,
        "  serviceAccounts:\n",
        "    - name: gpu-spot\n      capacityType: spot\n      \
         instanceTypes: [g5.xlarge, g5.2xlarge]\n      minSize: 0\n      maxSize: 4\n  \
         serviceAccounts:\n    - name: karpenter\n      namespace: karpenter\n      \
         policyArns: [arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess]\n",
    );
    let v2 = aws.spec("prod.yaml", &text);
    let plan = aws.expect(2, &["plan", "-f", &v2, "--detailed-exitcode"]);
    for expected in [
        "~ update cluster (prod)",
        "spec.logging: api,audit,authenticator,controllerManager,scheduler -> api,audit",
        "spec.endpoint.publicAccessCidrs: 198.51.100.17/32,203.0.113.0/24 -> 203.0.113.0/24",
        "minSize: 0 -> 1",
        "maxSize: 20 -> 30",
        "labels.tier: (none) -> batch",
        "taints: (none) -> spot=true:PREFER_NO_SCHEDULE",
        "+ create nodegroup/gpu-spot",
        "-/+ replace nodegroup/system",
        "instanceTypes: m6i.large -> m6i.xlarge",
        "+ create role/irsa/karpenter/karpenter (prod-karpenter-karpenter)",
        "tags.cost-center: 4711 -> 4712",
        "Plan: 4 to create, 27 to update, 1 to replace, 1 to delete.",
    ] {
        assert!(
            plan.stdout.contains(expected),
            "no `{expected}` in:\n{}",
            plan.stdout
        );
    }
    let json = aws.expect(0, &["plan", "-f", &v2, "--output", "json"]);
    let json: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(json["formatVersion"], 1);
    assert_eq!(json["hasChanges"], true);
    assert_eq!(
        json["summary"],
        serde_json::json!({"create": 4, "update": 27, "replace": 1, "delete": 1, "impossible": 0})
    );
    let replace = json["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["resource"] == "nodegroup/system")
        .unwrap();
    assert_eq!(replace["kind"], "replace");
    assert_eq!(replace["fields"][0]["old"], "m6i.large");
    assert!(
        replace["physicalId"]
            .as_str()
            .unwrap()
            .starts_with("system-")
    );
    // A replace needs confirmation; without a terminal and without --auto-approve, nothing runs.
    let refused = aws.expect(1, &["apply", "-f", &v2]);
    assert!(
        refused.stderr.contains("re-run with --auto-approve"),
        "{}",
        refused.stderr
    );
    assert_eq!(inventory.owned("prod").await, created);

    aws.expect(0, &["apply", "-f", &v2, "--auto-approve"]);
    let again = aws.expect(0, &["plan", "-f", &v2, "--detailed-exitcode"]);
    assert_eq!(again.stdout.trim(), "No changes.");

    let system = node_groups(&inventory, "prod", "system").await;
    assert_eq!(system.len(), 1, "the old generation is deleted: {system:?}");
    assert_eq!(system[0].instance_types(), ["m6i.xlarge"]);
    let spot = node_groups(&inventory, "prod", "spot-workers").await;
    let scaling = spot[0].scaling_config().unwrap();
    assert_eq!(
        (
            scaling.min_size(),
            scaling.desired_size(),
            scaling.max_size()
        ),
        (Some(1), Some(1), Some(30))
    );
    assert_eq!(spot[0].labels().unwrap()["tier"], "batch");
    assert_eq!(spot[0].tags().unwrap()["cost-center"], "4712");
    assert_eq!(spot[0].taints()[0].key(), Some("spot"));
    assert_eq!(
        node_groups(&inventory, "prod", "gpu-spot").await[0]
            .capacity_type()
            .map(|c| c.as_str()),
        Some("SPOT")
    );
    let cluster = inventory
        .eks
        .describe_cluster()
        .name("prod")
        .send()
        .await
        .unwrap();
    let cluster = cluster.cluster().unwrap();
    assert_eq!(cluster.tags().unwrap()["cost-center"], "4712");
    assert_eq!(
        cluster
            .resources_vpc_config()
            .unwrap()
            .public_access_cidrs(),
        ["203.0.113.0/24"]
    );
    let mut logging: Vec<&str> = cluster
        .logging()
        .unwrap()
        .cluster_logging()
        .iter()
        .filter(|s| s.enabled() == Some(true))
        .flat_map(|s| s.types().iter().map(|t| t.as_str()))
        .collect();
    logging.sort_unstable();
    assert_eq!(logging, ["api", "audit"]);
    let role = inventory
        .iam
        .get_role()
        .role_name("prod-karpenter-karpenter")
        .send()
        .await
        .unwrap();
    let trust = percent_decode(role.role().unwrap().assume_role_policy_document().unwrap());
    assert!(
        trust.contains("system:serviceaccount:karpenter:karpenter"),
        "{trust}"
    );

    // Remove a node group and a service account: apply deletes them.
    let mut text = edit(
        &text,
        "    - name: gpu-spot\n      capacityType: spot\n      \
         instanceTypes: [g5.xlarge, g5.2xlarge]\n      minSize: 0\n      maxSize: 4\n",
        "",
    );
    text = edit(
        &text,
        "    - name: karpenter\n      namespace: karpenter\n      \
         policyArns: [arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess]\n",
        "",
    );
    let v3 = aws.spec("prod.yaml", &text);
    let plan = aws.expect(2, &["plan", "-f", &v3, "--detailed-exitcode"]);
    for expected in [
        "- delete nodegroup/gpu-spot",
        "- delete role/irsa/karpenter/karpenter (prod-karpenter-karpenter)",
        "Plan: 0 to create, 0 to update, 0 to replace, 3 to delete.",
    ] {
        assert!(
            plan.stdout.contains(expected),
            "no `{expected}` in:\n{}",
            plan.stdout
        );
    }
    aws.expect(0, &["apply", "-f", &v3, "--auto-approve"]);
    aws.expect(0, &["plan", "-f", &v3, "--detailed-exitcode"]);
    let remaining = inventory.owned("prod").await;
    assert!(
        !remaining
            .iter()
            .any(|r| r.contains("gpu-spot") || r.contains("karpenter")),
        "{remaining:#?}"
    );

    // `get` shows the live resources.
    let get = aws.expect(0, &["get", "-f", &v3]);
    assert!(get.stdout.starts_with("RESOURCE"), "{}", get.stdout);
    assert_eq!(
        lines_with(&get.stdout, "nodegroup/").len(),
        2,
        "{}",
        get.stdout
    );

    // Delete: a destructive plan refused without confirmation, then everything goes.
    aws.expect(1, &["delete", "-f", &v3]);
    assert!(!inventory.owned("prod").await.is_empty());
    let delete = aws.expect(0, &["delete", "-f", &v3, "--auto-approve"]);
    assert!(
        delete.stdout.contains("Delete complete"),
        "{}",
        delete.stdout
    );
    assert_eq!(inventory.owned("prod").await, Vec::<String>::new());
    let nothing = aws.expect(0, &["delete", "--name", "prod", "--region", "us-east-1"]);
    assert_eq!(nothing.stdout.trim(), "No changes.");
}

#[tokio::test(flavor = "multi_thread")]
async fn existing_vpc_cluster_leaves_the_network_alone() {
    let aws = Emulated::start();
    let inventory = aws.inventory("eu-west-1").await;
    let ec2 = &inventory.ec2;
    // The network another team owns.
    let vpc = ec2
        .create_vpc()
        .cidr_block("10.50.0.0/16")
        .send()
        .await
        .unwrap();
    let vpc = vpc.vpc().unwrap().vpc_id().unwrap().to_owned();
    let mut subnets = Vec::new();
    for (i, zone) in [
        "eu-west-1a",
        "eu-west-1b",
        "eu-west-1c",
        "eu-west-1a",
        "eu-west-1b",
    ]
    .iter()
    .enumerate()
    {
        let subnet = ec2
            .create_subnet()
            .vpc_id(&vpc)
            .cidr_block(format!("10.50.{}.0/20", i * 16))
            .availability_zone(*zone)
            .send()
            .await
            .unwrap();
        subnets.push(subnet.subnet().unwrap().subnet_id().unwrap().to_owned());
    }
    let example = std::fs::read_to_string(repo().join("examples/existing-vpc.yaml")).unwrap();
    let mut text = edit(&example, "vpc-0123456789abcdef0", &vpc);
    for (placeholder, id) in [
        "subnet-0a1b2c3d4e5f60718",
        "subnet-0a1b2c3d4e5f60719",
        "subnet-0a1b2c3d4e5f6071a",
        "subnet-0b1b2c3d4e5f60718",
        "subnet-0b1b2c3d4e5f60719",
    ]
    .iter()
    .zip(&subnets)
    {
        text = edit(&text, placeholder, id);
    }
    let spec = aws.spec("shared-net.yaml", &text);

    let plan = aws.expect(2, &["plan", "-f", &spec, "--detailed-exitcode"]);
    assert!(!plan.stdout.contains("create vpc"), "{}", plan.stdout);
    assert!(!plan.stdout.contains("create subnet"), "{}", plan.stdout);
    aws.expect(0, &["apply", "-f", &spec, "--auto-approve"]);
    aws.expect(0, &["plan", "-f", &spec, "--detailed-exitcode"]);

    // Only the Kubernetes subnet tags were added to the subnets.
    let described = ec2
        .describe_subnets()
        .set_subnet_ids(Some(subnets.clone()))
        .send()
        .await
        .unwrap();
    for subnet in described.subnets() {
        let keys: Vec<&str> = subnet.tags().iter().filter_map(|t| t.key()).collect();
        assert!(
            keys.contains(&"kubernetes.io/cluster/shared-net"),
            "{keys:?}"
        );
        assert!(!keys.contains(&"ekspec.io/cluster"), "{keys:?}");
    }
    let owned = inventory.owned("shared-net").await;
    assert_eq!(
        count_kinds(&owned),
        kinds(&[
            ("cluster", 1),
            ("launch-template", 1),
            ("nodegroup", 1),
            ("role", 2),
            // The one EKS makes for the cluster, tagged kubernetes.io/cluster/shared-net=owned.
            ("security-group", 1),
        ]),
        "{owned:#?}"
    );

    // Machines get one JSON event per line.
    let delete = aws.expect(
        0,
        &["delete", "-f", &spec, "--auto-approve", "--output", "json"],
    );
    let events: Vec<serde_json::Value> = delete
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(events[0]["event"], "plan");
    assert!(
        events
            .iter()
            .any(|e| e["event"] == "finished" && e["resource"] == "cluster")
    );
    let result = events.last().unwrap();
    assert_eq!(
        (&result["event"], &result["success"]),
        (&"result".into(), &true.into())
    );
    assert_eq!(inventory.owned("shared-net").await, Vec::<String>::new());
    // The VPC and its subnets survive.
    let left = ec2
        .describe_subnets()
        .set_subnet_ids(Some(subnets.clone()))
        .send()
        .await
        .unwrap();
    assert_eq!(left.subnets().len(), subnets.len());
    let vpcs = ec2.describe_vpcs().vpc_ids(&vpc).send().await.unwrap();
    assert_eq!(vpcs.vpcs().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_existing_vpc_is_impossible_and_changes_nothing() {
    let aws = Emulated::start();
    let spec = repo().join("examples/existing-vpc.yaml");
    let spec = spec.to_string_lossy();
    let out = aws.expect(1, &["apply", "-f", &spec, "--auto-approve"]);
    assert!(
        out.stdout
            .contains("VPC `vpc-0123456789abcdef0` (spec.vpc.id) does not exist in eu-west-1"),
        "{}",
        out.stdout
    );
    assert!(out.stderr.contains("no change was made"), "{}", out.stderr);
    let inventory = aws.inventory("eu-west-1").await;
    assert_eq!(inventory.owned("shared-net").await, Vec::<String>::new());
}

/// IAM returns policy documents URL-encoded.
pub fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

#[test]
fn missing_credentials_and_unreachable_aws_are_clear_errors() {
    let spec = repo().join("clusters/demo.yaml");
    let spec = spec.to_string_lossy();
    let home = TempDir::new().unwrap();
    let out = Ekspec::new(&["plan", "-f", &spec])
        .env("HOME", &home.path().to_string_lossy())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .run();
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains("no AWS credentials found") && out.stderr.contains("AWS_ACCESS_KEY_ID"),
        "{}",
        out.stderr
    );

    // Nothing listens on the discard port.
    let out = Ekspec::new(&["plan", "-f", &spec])
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .run();
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains("could not reach AWS") && !out.stderr.contains("panicked"),
        "{}",
        out.stderr
    );
}

const SMALL: &str = "apiVersion: ekspec/v1alpha1\nkind: Cluster\nmetadata: {name: NAME, region: us-east-1}\nspec:\n  kubernetesVersion: \"1.31\"\n  vpc: {cidr: CIDR, availabilityZones: [us-east-1a, us-east-1b], natGateway: none}\n  endpoint: {publicAccess: true}\n  nodeGroups:\n    - {name: web, instanceTypes: [t3.large], minSize: 1, maxSize: 3, privateNetworking: false}\n";

/// A small spec (VPC without NAT, one node group) of cluster `name`.
pub fn small(name: &str, cidr: &str) -> String {
    SMALL.replace("NAME", name).replace("CIDR", cidr)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_folder_of_specs_is_a_fleet() {
    let aws = Emulated::start();
    let fleet = aws.dir.path().join("fleet");
    std::fs::create_dir(&fleet).unwrap();
    std::fs::write(fleet.join("blue.yaml"), small("blue", "10.10.0.0/16")).unwrap();
    std::fs::write(fleet.join("green.yml"), small("green", "10.20.0.0/16")).unwrap();
    std::fs::write(fleet.join("README.md"), "not a spec").unwrap();
    let dir = fleet.to_string_lossy();

    let plan = aws.expect(2, &["plan", &dir, "--detailed-exitcode"]);
    let table: Vec<&str> = plan
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("CLUSTER"))
        .collect();
    assert_eq!(table.len(), 3, "{}", plan.stdout);
    assert!(table[1].starts_with("blue ") && table[1].ends_with("changes"));
    assert!(table[2].starts_with("green ") && table[2].contains("to create"));

    let apply = aws.expect(0, &["apply", "-f", &dir, "--auto-approve"]);
    assert!(
        apply.stdout.contains("[blue] + cluster: done"),
        "{}",
        apply.stdout
    );
    assert!(
        apply.stdout.contains("[green] + cluster: done"),
        "{}",
        apply.stdout
    );
    let again = aws.expect(0, &["plan", &dir, "--detailed-exitcode"]);
    assert!(
        again.stdout.lines().filter(|l| l.ends_with(" ok")).count() == 2,
        "{}",
        again.stdout
    );
    let get = aws.expect(0, &["get", &dir, "--output", "json"]);
    let get: serde_json::Value = serde_json::from_str(&get.stdout).unwrap();
    assert_eq!(get.as_array().unwrap().len(), 2);

    // One bad spec fails the fleet but not the other cluster's plan.
    std::fs::write(fleet.join("green.yml"), small("green", "10.20.0.0/8")).unwrap();
    let broken = aws.expect(1, &["plan", &dir]);
    assert!(broken.stderr.contains("green.yml"), "{}", broken.stderr);

    std::fs::remove_file(fleet.join("green.yml")).unwrap();
    aws.expect(0, &["delete", &dir, "--auto-approve"]);
    aws.expect(
        0,
        &[
            "delete",
            "--name",
            "green",
            "--region",
            "us-east-1",
            "--auto-approve",
        ],
    );
    let inventory = aws.inventory("us-east-1").await;
    assert!(inventory.owned("blue").await.is_empty());
    assert!(inventory.owned("green").await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_saved_plan_is_applied_only_while_nothing_moved() {
    let aws = Emulated::start();
    let spec = aws.spec("web.yaml", &small("web", "10.30.0.0/16"));
    let saved = aws.dir.path().join("web.plan.json");
    let saved = saved.to_string_lossy();
    aws.expect(0, &["plan", "-f", &spec, "--out", &saved]);
    aws.expect(0, &["apply", &saved, "--auto-approve"]);
    aws.expect(0, &["plan", "-f", &spec, "--detailed-exitcode"]);

    // The spec changed after the plan was saved.
    aws.expect(0, &["plan", "-f", &spec, "--out", &saved]);
    aws.spec(
        "web.yaml",
        &small("web", "10.30.0.0/16").replace("maxSize: 3", "maxSize: 4"),
    );
    let refused = aws.expect(1, &["apply", &saved]);
    assert!(
        refused.stderr.contains("changed since the plan"),
        "{}",
        refused.stderr
    );

    // Live AWS changed after the plan was saved.
    aws.expect(0, &["plan", "-f", &spec, "--out", &saved]);
    let other = aws.spec(
        "other.yaml",
        &small("web", "10.30.0.0/16").replace("maxSize: 3", "maxSize: 5"),
    );
    aws.expect(0, &["apply", "-f", &other, "--auto-approve"]);
    let refused = aws.expect(1, &["apply", &saved]);
    assert!(
        refused.stderr.contains("live AWS changed") && refused.stderr.contains("maxSize -> 4"),
        "{}",
        refused.stderr
    );
    let not_a_plan = aws.spec("bogus.json", "{}");
    let refused = aws.expect(1, &["apply", &not_a_plan]);
    assert!(
        refused.stderr.contains("is not a plan saved by"),
        "{}",
        refused.stderr
    );
    aws.expect(0, &["delete", "-f", &spec, "--auto-approve"]);
}
