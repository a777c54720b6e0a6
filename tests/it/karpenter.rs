//! `spec.karpenter` end to end through the real binary against strict moto: the roles, the
//! node role's access entry and the discovery tags are made, `karpenter values` prints what
//! the live cluster says, a second plan changes nothing, and what a running Karpenter leaves
//! (an instance, its launch template, an instance profile holding the node role) is cleaned
//! up when the section goes and by `delete`, which then leaves nothing.

use aws_sdk_ec2::types::{Filter, Tag};

use crate::e2e::{Emulated, edit};
use crate::inventory::Inventory;
use crate::leftovers::{assert_node_gone, seed_node};

const CLUSTER: &str = "kp";

const SPEC: &str = "apiVersion: ekspec/v1alpha1\nkind: Cluster\nmetadata: {name: kp, region: us-east-1}\nspec:\n  kubernetesVersion: \"1.31\"\n  vpc: {cidr: 10.40.0.0/16, availabilityZones: [us-east-1a, us-east-1b], natGateway: none}\n  nodeGroups:\n    - {name: system, instanceTypes: [t3.large], minSize: 1, maxSize: 2}\n  addons:\n    - {name: eks-pod-identity-agent}\n  karpenter: {version: \"1.8.1\", serviceAccount: kp-controller}\n";

const DISCOVERY: &str = "karpenter.sh/discovery";

fn tags_of(tags: &[Tag]) -> Vec<(String, String)> {
    tags.iter()
        .map(|t| {
            (
                t.key().unwrap_or_default().to_owned(),
                t.value().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn has_discovery(tags: &[Tag]) -> bool {
    tags_of(tags)
        .iter()
        .any(|(k, v)| k == DISCOVERY && v == CLUSTER)
}

/// The cluster's subnets as (private?, tagged for discovery?).
async fn subnets(inventory: &Inventory) -> Vec<(bool, bool)> {
    let out = inventory
        .ec2
        .describe_subnets()
        .filters(
            Filter::builder()
                .name("tag:ekspec.io/cluster")
                .values(CLUSTER)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let mut found: Vec<(bool, bool)> = out
        .subnets()
        .iter()
        .map(|s| {
            let private = tags_of(s.tags())
                .iter()
                .any(|(k, _)| k == "kubernetes.io/role/internal-elb");
            (private, has_discovery(s.tags()))
        })
        .collect();
    found.sort();
    found
}

/// The cluster security group's id and whether it carries the discovery tag.
async fn cluster_security_group(inventory: &Inventory) -> (String, bool) {
    let cluster = inventory
        .eks
        .describe_cluster()
        .name(CLUSTER)
        .send()
        .await
        .unwrap();
    let id = cluster
        .cluster()
        .and_then(|c| c.resources_vpc_config())
        .and_then(|v| v.cluster_security_group_id())
        .expect("EKS reports the cluster security group")
        .to_owned();
    let groups = inventory
        .ec2
        .describe_security_groups()
        .group_ids(&id)
        .send()
        .await
        .unwrap();
    let tagged = has_discovery(groups.security_groups()[0].tags());
    (id, tagged)
}

async fn role_exists(inventory: &Inventory, name: &str) -> bool {
    inventory
        .iam
        .get_role()
        .role_name(name)
        .send()
        .await
        .is_ok()
}

/// What a running Karpenter 1.x leaves, made directly through the emulator with the tags
/// Karpenter gives them (pkg/utils GetTags, EC2NodeClass.InstanceProfileTags): an instance
/// in a private subnet, its launch template, an instance profile holding the node role.
/// Returns (instance id, launch template id, instance profile name).
async fn seed_leftovers(inventory: &Inventory, round: u32) -> (String, String, String) {
    let ec2 = &inventory.ec2;
    let owner = format!("kubernetes.io/cluster/{CLUSTER}");
    let karpenter_tags = [
        (owner.as_str(), "owned"),
        ("karpenter.sh/nodepool", "default"),
        ("eks:eks-cluster-name", CLUSTER),
        ("karpenter.k8s.aws/ec2nodeclass", "default"),
    ];
    let private = ec2
        .describe_subnets()
        .filters(
            Filter::builder()
                .name(format!("tag:{DISCOVERY}"))
                .values(CLUSTER)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let subnet = private.subnets()[0].subnet_id().unwrap().to_owned();
    let (instance, template) = seed_node(
        ec2,
        &format!("karpenter.k8s.aws/{round}"),
        &subnet,
        &karpenter_tags,
    )
    .await;
    let profile = format!("{CLUSTER}_{round}1234567890");
    inventory
        .iam
        .create_instance_profile()
        .instance_profile_name(&profile)
        .set_tags(Some(
            karpenter_tags
                .iter()
                .chain(&[("topology.kubernetes.io/region", "us-east-1")])
                .map(|(k, v)| {
                    aws_sdk_iam::types::Tag::builder()
                        .key(*k)
                        .value(*v)
                        .build()
                        .unwrap()
                })
                .collect(),
        ))
        .send()
        .await
        .unwrap();
    inventory
        .iam
        .add_role_to_instance_profile()
        .instance_profile_name(&profile)
        .role_name("kp-karpenter-node")
        .send()
        .await
        .unwrap();
    (instance, template, profile)
}

/// Whether the seeded leftovers are gone: the instance terminated, the launch template and
/// the instance profile deleted.
async fn leftovers_gone(inventory: &Inventory, seeded: &(String, String, String)) {
    let (instance, template, profile) = seeded;
    assert_node_gone(&inventory.ec2, instance, template).await;
    let profile_left = inventory
        .iam
        .get_instance_profile()
        .instance_profile_name(profile)
        .send()
        .await;
    assert!(profile_left.is_err(), "instance profile {profile} is left");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_karpenter_cluster_is_made_printed_and_cleaned_up() {
    let aws = Emulated::start();
    let inventory = aws.inventory("us-east-1").await;
    let spec = aws.spec("kp.yaml", SPEC);

    // Before the cluster exists there is no endpoint to print.
    let early = aws.expect(1, &["karpenter", "values", "-f", &spec]);
    assert!(
        early
            .stderr
            .contains("cluster `kp` does not exist in us-east-1"),
        "{}",
        early.stderr
    );

    let first = aws.expect(0, &["apply", "-f", &spec, "--auto-approve"]);
    for role in ["kp-karpenter-node", "kp-karpenter"] {
        assert!(role_exists(&inventory, role).await, "no role {role}");
    }
    // A new account has never launched spot: EC2 Spot's service-linked role is made.
    assert!(
        first.stdout.contains("+ create spot-service-linked-role"),
        "{}",
        first.stdout
    );
    assert!(role_exists(&inventory, "AWSServiceRoleForEC2Spot").await);
    let trust = inventory
        .iam
        .get_role()
        .role_name("kp-karpenter")
        .send()
        .await
        .unwrap();
    let trust = percent_encoding::percent_decode_str(
        trust.role().unwrap().assume_role_policy_document().unwrap(),
    )
    .decode_utf8()
    .unwrap()
    .into_owned();
    assert!(
        trust.contains("pods.eks.amazonaws.com") && trust.contains("sts:TagSession"),
        "{trust}"
    );
    let policy = inventory
        .iam
        .get_role_policy()
        .role_name("kp-karpenter")
        .policy_name("ekspec-inline")
        .send()
        .await
        .unwrap();
    let policy = percent_encoding::percent_decode_str(policy.policy_document())
        .decode_utf8()
        .unwrap()
        .into_owned();
    assert!(
        policy.contains("arn:aws:iam::123456789012:role/ekspec/kp/kp-karpenter-node")
            && policy.contains("aws:ResourceTag/kubernetes.io/cluster/kp"),
        "{policy}"
    );
    let attached = inventory
        .iam
        .list_attached_role_policies()
        .role_name("kp-karpenter-node")
        .send()
        .await
        .unwrap();
    let mut names: Vec<&str> = attached
        .attached_policies()
        .iter()
        .filter_map(|p| p.policy_name())
        .collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "AmazonEC2ContainerRegistryPullOnly",
            "AmazonEKSWorkerNodePolicy",
            "AmazonEKS_CNI_Policy",
            "AmazonSSMManagedInstanceCore"
        ]
    );
    let entry = inventory
        .eks
        .describe_access_entry()
        .cluster_name(CLUSTER)
        .principal_arn("arn:aws:iam::123456789012:role/ekspec/kp/kp-karpenter-node")
        .send()
        .await
        .unwrap();
    let entry = entry.access_entry().unwrap();
    assert_eq!(entry.r#type(), Some("EC2_LINUX"));
    assert_eq!(
        entry
            .tags()
            .unwrap()
            .get("ekspec.io/cluster")
            .map(String::as_str),
        Some(CLUSTER)
    );
    assert_eq!(
        subnets(&inventory).await,
        [(false, false), (false, false), (true, true), (true, true)]
    );
    assert!(cluster_security_group(&inventory).await.1);

    let values = aws.expect(0, &["karpenter", "values", "-f", &spec]);
    let cluster = inventory
        .eks
        .describe_cluster()
        .name(CLUSTER)
        .send()
        .await
        .unwrap();
    let endpoint = cluster.cluster().unwrap().endpoint().unwrap();
    for line in [
        "  name: \"kp-controller\"".to_owned(),
        "  clusterName: \"kp\"".to_owned(),
        format!("  clusterEndpoint: \"{endpoint}\""),
        "  interruptionQueue: \"kp-karpenter\"".to_owned(),
    ] {
        assert!(
            values.stdout.lines().any(|l| l == line),
            "no `{line}` in\n{}",
            values.stdout
        );
    }
    let json = aws.expect(0, &["karpenter", "values", "-f", &spec, "--output", "json"]);
    let json: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(json["settings"]["clusterEndpoint"], endpoint);

    let again = aws.expect(0, &["plan", "-f", &spec, "--detailed-exitcode"]);
    assert_eq!(again.stdout.trim(), "No changes.");

    // Another version: its documented policies, in place (1.3's docs name ECR ReadOnly and
    // have no iam:ListInstanceProfiles).
    let older = aws.spec("kp-1.3.yaml", &edit(SPEC, "\"1.8.1\"", "\"1.3.0\""));
    let plan = aws.expect(2, &["plan", "-f", &older, "--detailed-exitcode"]);
    assert!(
        plan.stdout.contains("~ update role/karpenter-node")
            && plan.stdout.contains("~ update role/karpenter "),
        "{}",
        plan.stdout
    );
    aws.expect(0, &["apply", "-f", &older, "--auto-approve"]);
    let attached = inventory
        .iam
        .list_attached_role_policies()
        .role_name("kp-karpenter-node")
        .send()
        .await
        .unwrap();
    assert!(
        attached
            .attached_policies()
            .iter()
            .any(|p| p.policy_name() == Some("AmazonEC2ContainerRegistryReadOnly"))
            && !attached
                .attached_policies()
                .iter()
                .any(|p| p.policy_name() == Some("AmazonEC2ContainerRegistryPullOnly")),
        "{attached:?}"
    );
    let policy = inventory
        .iam
        .get_role_policy()
        .role_name("kp-karpenter")
        .policy_name("ekspec-inline")
        .send()
        .await
        .unwrap();
    assert!(!policy.policy_document().contains("ListInstanceProfiles"));
    let again = aws.expect(0, &["plan", "-f", &older, "--detailed-exitcode"]);
    assert_eq!(again.stdout.trim(), "No changes.");

    // The section goes while Karpenter's nodes run: they and what it made go first, then the
    // roles, the entry and the discovery tags.
    let seeded = seed_leftovers(&inventory, 1).await;
    let without = aws.spec(
        "kp-without.yaml",
        &edit(
            SPEC,
            "  karpenter: {version: \"1.8.1\", serviceAccount: kp-controller}\n",
            "",
        ),
    );
    aws.expect(
        0,
        &["apply", "-f", &without, "--auto-approve", "--timeout", "2m"],
    );
    leftovers_gone(&inventory, &seeded).await;
    for role in ["kp-karpenter-node", "kp-karpenter"] {
        assert!(!role_exists(&inventory, role).await, "role {role} is left");
    }
    assert_eq!(
        subnets(&inventory).await,
        [(false, false), (false, false), (true, false), (true, false)]
    );
    assert!(!cluster_security_group(&inventory).await.1);
    let entries = inventory
        .eks
        .list_access_entries()
        .cluster_name(CLUSTER)
        .send()
        .await
        .unwrap();
    assert!(
        !entries
            .access_entries()
            .iter()
            .any(|e| e.contains("karpenter")),
        "{entries:?}"
    );
    let again = aws.expect(0, &["plan", "-f", &without, "--detailed-exitcode"]);
    assert_eq!(again.stdout.trim(), "No changes.");

    // Back, with Karpenter's nodes running at delete.
    aws.expect(0, &["apply", "-f", &spec, "--auto-approve"]);
    let seeded = seed_leftovers(&inventory, 2).await;
    aws.expect(
        0,
        &["delete", "-f", &spec, "--auto-approve", "--timeout", "2m"],
    );
    leftovers_gone(&inventory, &seeded).await;
    assert_eq!(inventory.owned(CLUSTER).await, Vec::<String>::new());
    assert!(!role_exists(&inventory, "kp-karpenter-node").await);
    // The account's, not the cluster's: it stays.
    assert!(role_exists(&inventory, "AWSServiceRoleForEC2Spot").await);
}

/// Karpenter's leftovers are terminated and deleted on their tags, not on EC2's filters
/// alone: an answer that holds more than the filters asked for (fakecloud 0.51 ignores them on
/// DescribeLaunchTemplates) must not take ekspec's own launch templates or another cluster's
/// instances along.
#[tokio::test]
async fn leftovers_are_checked_by_their_tags_not_only_by_the_filters() {
    use aws_config::{BehaviorVersion, Region, SdkConfig};
    use aws_credential_types::Credentials;
    use aws_sdk_ec2::operation::describe_instances::DescribeInstancesOutput;
    use aws_sdk_ec2::operation::describe_launch_templates::DescribeLaunchTemplatesOutput;
    use aws_sdk_ec2::types::{Instance, LaunchTemplate, Reservation};
    use aws_smithy_mocks::{MockResponseInterceptor, RuleMode, mock};
    use ekspec::cloud::aws::AwsCloud;

    let tag = |key: &str, value: &str| Tag::builder().key(key).value(value).build();
    let karpenters = vec![
        tag("kubernetes.io/cluster/kp", "owned"),
        tag("karpenter.sh/nodepool", "default"),
    ];
    let ekspecs = vec![
        tag("kubernetes.io/cluster/kp", "owned"),
        tag("ekspec.io/cluster", "kp"),
    ];
    let other_clusters = vec![
        tag("kubernetes.io/cluster/other", "owned"),
        tag("karpenter.sh/nodepool", "default"),
    ];
    let (instances, templates) = (karpenters.clone(), karpenters);
    let describe_instances =
        mock!(aws_sdk_ec2::Client::describe_instances).then_output(move || {
            let instance = |id: &str, tags: &Vec<Tag>| {
                Instance::builder()
                    .instance_id(id)
                    .set_tags(Some(tags.clone()))
                    .build()
            };
            DescribeInstancesOutput::builder()
                .reservations(
                    Reservation::builder()
                        .instances(instance("i-karpenter", &instances))
                        .instances(instance("i-other", &other_clusters))
                        .build(),
                )
                .build()
        });
    let describe_templates =
        mock!(aws_sdk_ec2::Client::describe_launch_templates).then_output(move || {
            let template = |id: &str, tags: &Vec<Tag>| {
                LaunchTemplate::builder()
                    .launch_template_id(id)
                    .set_tags(Some(tags.clone()))
                    .build()
            };
            DescribeLaunchTemplatesOutput::builder()
                .launch_templates(template("lt-karpenter", &templates))
                .launch_templates(template("lt-ekspec", &ekspecs))
                .build()
        });
    let interceptor = MockResponseInterceptor::new()
        .rule_mode(RuleMode::MatchAny)
        .with_rule(&describe_instances)
        .with_rule(&describe_templates);
    let ec2 = aws_sdk_ec2::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("AKID", "SECRET", None, None, "test"))
        .http_client(aws_smithy_mocks::create_mock_http_client())
        .interceptor(interceptor)
        .build();
    let shared = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .build();
    let cloud = AwsCloud::new(&shared)
        .with_ec2(aws_sdk_ec2::Client::from_conf(ec2))
        .into_cloud();
    let found = cloud
        .network
        .discover_karpenter_leftovers(CLUSTER)
        .await
        .unwrap();
    assert_eq!(found.instances, ["i-karpenter"]);
    assert_eq!(found.launch_templates, ["lt-karpenter"]);
}
