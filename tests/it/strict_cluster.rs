//! The control plane on strict moto (tests/moto/strict_cluster.py): zones EKS refuses, a
//! cluster another tool is updating, control plane subnets changed in place, and upgrades
//! EKS's readiness checks block.

use serde_json::json;

use crate::e2e::{Emulated, edit};

/// A cluster without compute and without NAT gateways: the quickest to create.
fn spec(name: &str, vpc: &str) -> String {
    format!(
        "apiVersion: ekspec/v1alpha1\nkind: Cluster\nmetadata:\n  name: {name}\n  region: us-east-1\nspec:\n  kubernetesVersion: \"1.30\"\n  vpc:\n{vpc}"
    )
}

/// The zones of the subnets a plan creates.
fn planned_zones(plan: &str) -> Vec<String> {
    let mut zones: Vec<String> = plan
        .lines()
        .filter_map(|l| l.split("subnet/private-").nth(1))
        .map(|rest| rest.split([' ', ':']).next().unwrap_or_default().to_owned())
        .collect();
    zones.sort();
    zones.dedup();
    zones
}

#[tokio::test(flavor = "multi_thread")]
async fn default_zones_skip_local_zones_and_the_zone_eks_refuses() {
    let aws = Emulated::start();
    // us-east-1 lists opted-in Local and Wavelength Zones (they sort first) and us-east-1e,
    // which is use1-az3 and refused by EKS.
    let file = aws.spec(
        "zones.yaml",
        &spec("zones", "    zoneCount: 5\n    natGateway: none\n"),
    );
    let plan = aws.expect(0, &["plan", "-f", &file]);
    assert_eq!(
        planned_zones(&plan.stdout),
        [
            "us-east-1a",
            "us-east-1b",
            "us-east-1c",
            "us-east-1d",
            "us-east-1f"
        ],
        "{}",
        plan.stdout
    );
    // And EKS takes them.
    let apply = aws.expect(0, &["apply", "-f", &file, "--auto-approve"]);
    assert!(apply.stdout.contains("+ cluster: done"), "{}", apply.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_listed_zone_eks_refuses_fails_naming_the_zones_it_takes() {
    let aws = Emulated::start();
    let file = aws.spec(
        "listed.yaml",
        &spec(
            "listed",
            "    availabilityZones: [us-east-1a, us-east-1e]\n    natGateway: none\n",
        ),
    );
    let out = aws.expect(1, &["apply", "-f", &file, "--auto-approve"]);
    let text = format!("{}{}", out.stdout, out.stderr);
    assert!(
        text.contains("UnsupportedAvailabilityZoneException")
            && text.contains(
                "Retry and choose from these availability zones: us-east-1a, us-east-1b, us-east-1c, us-east-1d, us-east-1f"
            )
            && text.contains("spec.vpc.availabilityZones"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rerun_waits_for_another_tools_cluster_update() {
    let aws = Emulated::start();
    let base = spec("busy", "    zoneCount: 2\n    natGateway: none\n");
    let file = aws.spec("busy.yaml", &base);
    aws.expect(0, &["apply", "-f", &file, "--auto-approve"]);

    // Another tool updates the control plane; meanwhile the spec gains a Fargate profile and
    // an access entry, which EKS refuses until the cluster is ACTIVE again (no cluster change
    // of this run's own waits for it first).
    let answer = aws
        .emulator()
        .control("cluster-update", json!({"name": "busy", "seconds": 4}));
    assert_eq!(answer["status"], "UPDATING", "{answer}");
    let more = format!(
        "{base}  fargateProfiles:\n    - name: batch\n      selectors: [{{namespace: batch}}]\n  accessEntries:\n    - principalArn: arn:aws:iam::123456789012:role/platform-admin\n      policies:\n        - policyArn: arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy\n"
    );
    let file = aws.spec("busy.yaml", &more);
    let apply = aws.expect(0, &["apply", "-f", &file, "--auto-approve"]);
    assert!(
        apply.stdout.contains("fargate-profile/batch: done"),
        "{}",
        apply.stdout
    );
    let again = aws.expect(0, &["plan", "-f", &file, "--detailed-exitcode"]);
    assert_eq!(again.stdout.trim(), "No changes.");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_upgrade_blocked_by_upgrade_insights_needs_force_upgrade() {
    let aws = Emulated::start();
    let base = spec("insight", "    zoneCount: 2\n    natGateway: none\n");
    let file = aws.spec("insight.yaml", &base);
    aws.expect(0, &["apply", "-f", &file, "--auto-approve"]);
    aws.emulator().control(
        "upgrade-insight",
        json!({"name": "insight", "blocking": true}),
    );

    let file = aws.spec(
        "insight.yaml",
        &edit(
            &base,
            "kubernetesVersion: \"1.30\"",
            "kubernetesVersion: \"1.31\"",
        ),
    );
    let blocked = aws.expect(1, &["apply", "-f", &file, "--auto-approve"]);
    let text = format!("{}{}", blocked.stdout, blocked.stderr);
    // ekspec reads the insights first and stops before EKS would refuse the upgrade.
    assert!(
        text.contains("EKS upgrade insights report issues that block this upgrade")
            && text.contains("Deprecated APIs removed in Kubernetes v1.31")
            && text.contains("ekspec apply --force-upgrade")
            && text.contains("list-insights --cluster-name insight"),
        "{text}"
    );
    // The forced run also adds a Fargate profile and an access entry: EKS takes them only
    // once the control plane is ACTIVE again, so they start after the upgrade step.
    let more = format!(
        "{}  fargateProfiles:\n    - name: batch\n      selectors: [{{namespace: batch}}]\n  accessEntries:\n    - principalArn: arn:aws:iam::123456789012:role/platform-admin\n",
        edit(
            &base,
            "kubernetesVersion: \"1.30\"",
            "kubernetesVersion: \"1.31\""
        )
    );
    let file = aws.spec("insight.yaml", &more);
    let apply = aws.expect(
        0,
        &["apply", "-f", &file, "--auto-approve", "--force-upgrade"],
    );
    let line = |needle: &str| {
        apply
            .stdout
            .lines()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no `{needle}` in\n{}", apply.stdout))
    };
    let upgraded = line("cluster/version-1.31: done");
    assert!(
        upgraded < line("fargate-profile/batch: create"),
        "{}",
        apply.stdout
    );
    assert!(
        upgraded < line("access-entry/arn:aws:iam::123456789012:role/platform-admin: create"),
        "{}",
        apply.stdout
    );
    let inventory = aws.inventory("us-east-1").await;
    let cluster = inventory
        .eks
        .describe_cluster()
        .name("insight")
        .send()
        .await
        .unwrap();
    assert_eq!(cluster.cluster().unwrap().version(), Some("1.31"));
}

#[tokio::test(flavor = "multi_thread")]
async fn control_plane_subnets_move_in_place_within_their_zones() {
    let aws = Emulated::start();
    let inventory = aws.inventory("us-east-1").await;
    let ec2 = &inventory.ec2;
    let vpc = ec2
        .create_vpc()
        .cidr_block("10.1.0.0/16")
        .send()
        .await
        .unwrap()
        .vpc()
        .unwrap()
        .vpc_id()
        .unwrap()
        .to_owned();
    let mut subnets = Vec::new();
    for (i, zone) in [
        "us-east-1a",
        "us-east-1b",
        "us-east-1a",
        "us-east-1b",
        "us-east-1c",
    ]
    .iter()
    .enumerate()
    {
        let subnet = ec2
            .create_subnet()
            .vpc_id(&vpc)
            .cidr_block(format!("10.1.{i}.0/24"))
            .availability_zone(*zone)
            .send()
            .await
            .unwrap();
        subnets.push(subnet.subnet().unwrap().subnet_id().unwrap().to_owned());
    }
    let byo = |private: [&str; 2]| {
        spec(
            "moved",
            &format!(
                "    id: {vpc}\n    subnets:\n      private: [{}, {}]\n",
                private[0], private[1]
            ),
        )
    };
    let file = aws.spec("moved.yaml", &byo([&subnets[0], &subnets[1]]));
    aws.expect(0, &["apply", "-f", &file, "--auto-approve"]);

    // Other subnets in the same zones: an update in place.
    let file = aws.spec("moved.yaml", &byo([&subnets[2], &subnets[3]]));
    let plan = aws.expect(2, &["plan", "-f", &file, "--detailed-exitcode"]);
    assert!(
        plan.stdout.contains("~ update cluster (moved)")
            && plan.stdout.contains("spec.vpc.subnets"),
        "{}",
        plan.stdout
    );
    aws.expect(0, &["apply", "-f", &file, "--auto-approve"]);
    let cluster = inventory
        .eks
        .describe_cluster()
        .name("moved")
        .send()
        .await
        .unwrap();
    let mut live: Vec<String> = cluster
        .cluster()
        .unwrap()
        .resources_vpc_config()
        .unwrap()
        .subnet_ids()
        .to_vec();
    live.sort();
    let mut want = vec![subnets[2].clone(), subnets[3].clone()];
    want.sort();
    assert_eq!(live, want);
    let again = aws.expect(0, &["plan", "-f", &file, "--detailed-exitcode"]);
    assert_eq!(again.stdout.trim(), "No changes.");

    // A zone the cluster was not created in: EKS cannot, so nothing is changed.
    let file = aws.spec("moved.yaml", &byo([&subnets[2], &subnets[4]]));
    let out = aws.expect(1, &["plan", "-f", &file]);
    let text = format!("{}{}", out.stdout, out.stderr);
    assert!(
        text.contains("only to subnets in the zones it was created in (us-east-1a, us-east-1b)")
            && text.contains("us-east-1c"),
        "{text}"
    );
}
