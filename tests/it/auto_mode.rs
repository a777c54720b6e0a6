//! EKS Auto Mode end to end against strict moto: a cluster made with it (and no node group),
//! turned on, changed and off in place, and deleted with what Auto Mode left in the VPC.

use aws_sdk_ec2::types::{ResourceType, Tag, TagSpecification};

use crate::e2e::{Emulated, edit};
use crate::inventory::Inventory;
use crate::leftovers::{assert_node_gone, seed_node};

const CLUSTER: &str = "am";
const ACCOUNT: &str = "123456789012";

const SPEC: &str = r#"apiVersion: ekspec/v1alpha1
kind: Cluster
metadata:
  name: am
  region: us-east-1
spec:
  kubernetesVersion: "1.31"
  vpc:
    zoneCount: 2
    natGateway: none
  autoMode:
    enabled: true
"#;

fn node_role_arn() -> String {
    format!("arn:aws:iam::{ACCOUNT}:role/ekspec/{CLUSTER}/{CLUSTER}-auto-node")
}

/// The cluster's Auto Mode as DescribeCluster reports it: (compute on, node pools sorted, node
/// role, block storage on, load balancing on).
async fn auto_mode(inventory: &Inventory) -> (bool, Vec<String>, Option<String>, bool, bool) {
    let described = inventory
        .eks
        .describe_cluster()
        .name(CLUSTER)
        .send()
        .await
        .unwrap();
    let cluster = described.cluster().unwrap();
    let compute = cluster.compute_config();
    let mut pools = compute.map(|c| c.node_pools().to_vec()).unwrap_or_default();
    pools.sort();
    (
        compute.and_then(|c| c.enabled()) == Some(true),
        pools,
        compute.and_then(|c| c.node_role_arn()).map(str::to_owned),
        cluster
            .storage_config()
            .and_then(|s| s.block_storage())
            .and_then(|b| b.enabled())
            == Some(true),
        cluster
            .kubernetes_network_config()
            .and_then(|n| n.elastic_load_balancing())
            .and_then(|e| e.enabled())
            == Some(true),
    )
}

async fn policies(inventory: &Inventory, role: &str) -> Vec<String> {
    let attached = inventory
        .iam
        .list_attached_role_policies()
        .role_name(role)
        .send()
        .await
        .unwrap();
    let mut names: Vec<String> = attached
        .attached_policies()
        .iter()
        .filter_map(|p| p.policy_name().map(str::to_owned))
        .collect();
    names.sort();
    names
}

async fn trust(inventory: &Inventory, role: &str) -> String {
    let role = inventory
        .iam
        .get_role()
        .role_name(role)
        .send()
        .await
        .unwrap();
    percent_encoding::percent_decode_str(
        role.role().unwrap().assume_role_policy_document().unwrap(),
    )
    .decode_utf8()
    .unwrap()
    .into_owned()
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

/// The instance profiles EKS Auto Mode made (`eks-...`) and the roles in each.
async fn eks_instance_profiles(inventory: &Inventory) -> Vec<(String, Vec<String>)> {
    let listed = inventory.iam.list_instance_profiles().send().await.unwrap();
    listed
        .instance_profiles()
        .iter()
        .filter(|p| p.instance_profile_name().starts_with("eks-"))
        .map(|p| {
            (
                p.instance_profile_name().to_owned(),
                p.roles().iter().map(|r| r.role_name().to_owned()).collect(),
            )
        })
        .collect()
}

/// What EKS Auto Mode leaves in the VPC, made as Auto Mode makes it (everything tagged
/// `eks:eks-cluster-name`): an instance, a launch template, a load balancer and its security
/// group. Returns (instance, launch template, load balancer ARN, security group).
async fn seed_leftovers(inventory: &Inventory) -> (String, String, String, String) {
    let ec2 = &inventory.ec2;
    let described = inventory
        .eks
        .describe_cluster()
        .name(CLUSTER)
        .send()
        .await
        .unwrap();
    let vpc = described.cluster().unwrap().resources_vpc_config().unwrap();
    let subnets = vpc.subnet_ids().to_vec();
    let vpc_id = vpc.vpc_id().unwrap().to_owned();
    let (instance, template) = seed_node(
        ec2,
        "eks-auto-general-purpose",
        &subnets[0],
        &[
            ("eks:eks-cluster-name", CLUSTER),
            ("eks:kubernetes-node-pool-name", "general-purpose"),
        ],
    )
    .await;
    let group = ec2
        .create_security_group()
        .group_name("k8s-default-web-1234567890")
        .description("[k8s] Managed SecurityGroup for LoadBalancer")
        .vpc_id(&vpc_id)
        .tag_specifications(
            TagSpecification::builder()
                .resource_type(ResourceType::SecurityGroup)
                .tags(
                    Tag::builder()
                        .key("eks:eks-cluster-name")
                        .value(CLUSTER)
                        .build(),
                )
                .tags(
                    Tag::builder()
                        .key("service.eks.amazonaws.com/resource")
                        .value("ManagedLBSecurityGroup")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap()
        .group_id()
        .unwrap()
        .to_owned();
    let load_balancer = inventory
        .elbv2
        .create_load_balancer()
        .name("k8s-default-web-1234567890")
        .set_subnets(Some(subnets.clone()))
        .security_groups(&group)
        .tags(
            aws_sdk_elasticloadbalancingv2::types::Tag::builder()
                .key("eks:eks-cluster-name")
                .value(CLUSTER)
                .build(),
        )
        .send()
        .await
        .unwrap()
        .load_balancers()[0]
        .load_balancer_arn()
        .unwrap()
        .to_owned();
    (instance, template, load_balancer, group)
}

async fn leftovers_gone(
    inventory: &Inventory,
    (instance, template, load_balancer, group): &(String, String, String, String),
) {
    assert_node_gone(&inventory.ec2, instance, template).await;
    let groups = inventory
        .ec2
        .describe_security_groups()
        .group_ids(group)
        .send()
        .await;
    assert!(
        groups.is_err() || groups.unwrap().security_groups().is_empty(),
        "security group {group} is left"
    );
    let left = inventory
        .elbv2
        .describe_load_balancers()
        .load_balancer_arns(load_balancer)
        .send()
        .await;
    assert!(
        left.is_err() || left.unwrap().load_balancers().is_empty(),
        "load balancer {load_balancer} is left"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_auto_mode_cluster_without_node_groups_is_made_and_deleted_with_its_leftovers() {
    let aws = Emulated::start();
    let inventory = aws.inventory("us-east-1").await;
    let spec = aws.spec("am.yaml", SPEC);

    let plan = aws.expect(2, &["plan", "-f", &spec, "--detailed-exitcode"]);
    assert!(
        plan.stdout.contains("+ create role/auto-mode-node")
            && plan.stdout.contains("+ create cluster"),
        "{}",
        plan.stdout
    );
    aws.expect(0, &["apply", "-f", &spec, "--auto-approve"]);
    assert_eq!(
        auto_mode(&inventory).await,
        (
            true,
            vec!["general-purpose".to_owned(), "system".to_owned()],
            Some(node_role_arn()),
            true,
            true
        )
    );
    assert_eq!(
        policies(&inventory, "am-cluster").await,
        [
            "AmazonEKSBlockStoragePolicy",
            "AmazonEKSClusterPolicy",
            "AmazonEKSComputePolicy",
            "AmazonEKSLoadBalancingPolicy",
            "AmazonEKSNetworkingPolicy",
        ]
    );
    let cluster_trust = trust(&inventory, "am-cluster").await;
    assert!(
        cluster_trust.contains("eks.amazonaws.com") && cluster_trust.contains("sts:TagSession"),
        "{cluster_trust}"
    );
    assert_eq!(
        policies(&inventory, "am-auto-node").await,
        [
            "AmazonEC2ContainerRegistryPullOnly",
            "AmazonEKSWorkerNodeMinimalPolicy"
        ]
    );
    // EKS gives the node role its access entry itself (built-in node pools are on).
    let entry = inventory
        .eks
        .describe_access_entry()
        .cluster_name(CLUSTER)
        .principal_arn(node_role_arn())
        .send()
        .await
        .unwrap();
    assert_eq!(entry.access_entry().unwrap().r#type(), Some("EC2"));

    let again = aws.expect(0, &["plan", "-f", &spec, "--detailed-exitcode"]);
    assert_eq!(again.stdout.trim(), "No changes.");
    // EKS put the node role in an instance profile of its own, which it leaves behind.
    let profiles = eks_instance_profiles(&inventory).await;
    assert_eq!(profiles.len(), 1, "{profiles:?}");
    assert_eq!(profiles[0].1, ["am-auto-node"]);

    let seeded = seed_leftovers(&inventory).await;
    aws.expect(
        0,
        &["delete", "-f", &spec, "--auto-approve", "--timeout", "2m"],
    );
    leftovers_gone(&inventory, &seeded).await;
    assert_eq!(inventory.owned(CLUSTER).await, Vec::<String>::new());
    for role in ["am-cluster", "am-auto-node"] {
        assert!(!role_exists(&inventory, role).await, "role {role} is left");
    }
    assert_eq!(eks_instance_profiles(&inventory).await, Vec::new());
}

#[tokio::test(flavor = "multi_thread")]
async fn auto_mode_is_turned_on_changed_and_off_in_place() {
    let aws = Emulated::start();
    let inventory = aws.inventory("us-east-1").await;
    let without = aws.spec(
        "am-without.yaml",
        &edit(SPEC, "  autoMode:\n    enabled: true\n", ""),
    );
    aws.expect(0, &["apply", "-f", &without, "--auto-approve"]);
    assert_eq!(
        auto_mode(&inventory).await,
        (false, Vec::new(), None, false, false)
    );
    assert_eq!(
        policies(&inventory, "am-cluster").await,
        ["AmazonEKSClusterPolicy"]
    );

    // On, with the system pool only: the cluster is updated, not replaced.
    let system = aws.spec(
        "am-system.yaml",
        &edit(
            SPEC,
            "    enabled: true\n",
            "    enabled: true\n    nodePools: [system]\n",
        ),
    );
    let plan = aws.expect(2, &["plan", "-f", &system, "--detailed-exitcode"]);
    for line in [
        "~ update cluster",
        "~ update role/cluster",
        "+ create role/auto-mode-node",
        "spec.autoMode.enabled",
    ] {
        assert!(
            plan.stdout.contains(line),
            "no `{line}` in\n{}",
            plan.stdout
        );
    }
    assert!(
        !plan.stdout.contains("-/+ replace") && !plan.stdout.contains("- delete"),
        "{}",
        plan.stdout
    );
    aws.expect(0, &["apply", "-f", &system, "--auto-approve"]);
    assert_eq!(
        auto_mode(&inventory).await,
        (
            true,
            vec!["system".to_owned()],
            Some(node_role_arn()),
            true,
            true
        )
    );
    assert!(
        trust(&inventory, "am-cluster")
            .await
            .contains("sts:TagSession")
    );
    let again = aws.expect(0, &["plan", "-f", &system, "--detailed-exitcode"]);
    assert_eq!(again.stdout.trim(), "No changes.");

    // Both built-in pools: one more update in place.
    let spec = aws.spec("am.yaml", SPEC);
    let plan = aws.expect(2, &["plan", "-f", &spec, "--detailed-exitcode"]);
    assert!(
        plan.stdout.contains("~ update cluster") && plan.stdout.contains("spec.autoMode.nodePools"),
        "{}",
        plan.stdout
    );
    aws.expect(0, &["apply", "-f", &spec, "--auto-approve"]);
    assert_eq!(auto_mode(&inventory).await.1, ["general-purpose", "system"]);
    let again = aws.expect(0, &["plan", "-f", &spec, "--detailed-exitcode"]);
    assert_eq!(again.stdout.trim(), "No changes.");

    // Off: the cluster is updated, then its roles lose what Auto Mode needed.
    let off = aws.spec(
        "am-off.yaml",
        &edit(SPEC, "enabled: true", "enabled: false"),
    );
    let plan = aws.expect(2, &["plan", "-f", &off, "--detailed-exitcode"]);
    assert!(
        plan.stdout.contains("~ update cluster")
            && plan.stdout.contains("- delete role/auto-mode-node"),
        "{}",
        plan.stdout
    );
    assert!(
        !eks_instance_profiles(&inventory).await.is_empty(),
        "EKS made no instance profile for the node role"
    );
    aws.expect(0, &["apply", "-f", &off, "--auto-approve"]);
    assert_eq!(
        auto_mode(&inventory).await,
        (false, Vec::new(), None, false, false)
    );
    assert!(!role_exists(&inventory, "am-auto-node").await);
    assert_eq!(eks_instance_profiles(&inventory).await, Vec::new());
    assert_eq!(
        policies(&inventory, "am-cluster").await,
        ["AmazonEKSClusterPolicy"]
    );
    assert!(
        !trust(&inventory, "am-cluster")
            .await
            .contains("sts:TagSession")
    );
    let again = aws.expect(0, &["plan", "-f", &off, "--detailed-exitcode"]);
    assert_eq!(again.stdout.trim(), "No changes.");
    aws.expect(0, &["delete", "-f", &off, "--auto-approve"]);
    assert_eq!(inventory.owned(CLUSTER).await, Vec::<String>::new());
}

mod memory {
    //! Planning against the in-memory cloud: what the plan holds and in which order.

    use ekspec::cloud::memory::MemoryCloud;
    use ekspec::plan::{ChangeKind, Operation};

    use crate::reconcile_memory::{apply, kinds, plan_for, spec};

    const NO_POOLS: &str = r#"apiVersion: ekspec/v1alpha1
kind: Cluster
metadata: {name: am, region: us-east-1}
spec:
  kubernetesVersion: "1.31"
  vpc: {zoneCount: 2, natGateway: none}
  autoMode: {enabled: true, nodePools: []}
"#;

    #[tokio::test]
    async fn without_node_pools_the_node_role_gets_its_access_entry_from_ekspec() {
        let aws = MemoryCloud::new();
        let file = spec(NO_POOLS);
        let plan = apply(&aws, &file).await;
        let entry = plan
            .changes
            .iter()
            .find(|c| c.resource.starts_with("access-entry/"))
            .expect("no access entry change");
        assert_eq!(entry.kind, ChangeKind::Create);
        assert!(entry.after.iter().any(|a| a == "role/auto-mode-node"));
        assert!(
            matches!(
                entry.operations.as_slice(),
                [
                    Operation::CreateAccessEntry { entry_type: Some(kind), principal, .. },
                    Operation::AssociateAccessPolicy { policy, .. },
                ] if kind == "EC2"
                    && principal == "arn:aws:iam::111122223333:role/ekspec/am/am-auto-node"
                    && policy.policy_arn == "arn:aws:eks::aws:cluster-access-policy/AmazonEKSAutoNodePolicy"
                    && policy.namespaces.is_none()
            ),
            "{:?}",
            entry.operations
        );
        // Compute on without a role: EKS refuses a role without node pools.
        let create = plan
            .changes
            .iter()
            .find(|c| c.resource == "cluster")
            .unwrap();
        assert!(
            matches!(
                create.operations.as_slice(),
                [Operation::CreateCluster { auto_mode: Some(auto), .. }]
                    if auto.node_pools.is_empty() && auto.node_role_arn.is_none()
            ),
            "{:?}",
            create.operations
        );
        assert!(plan_for(&aws, &file).await.changes.is_empty());

        // Node pools later: the entry stays (EKS would make the same), the role is sent.
        let pools = spec(&NO_POOLS.replace("nodePools: []", "nodePools: [system]"));
        let plan = plan_for(&aws, &pools).await;
        assert_eq!(kinds(&plan), [("cluster".to_owned(), ChangeKind::Update)]);
        apply(&aws, &pools).await;
        assert!(plan_for(&aws, &pools).await.changes.is_empty());
    }

    #[tokio::test]
    async fn turned_off_the_roles_change_after_the_cluster() {
        let aws = MemoryCloud::new();
        let on = spec(&NO_POOLS.replace("nodePools: []", "nodePools: [general-purpose]"));
        apply(&aws, &on).await;
        let off = spec(&NO_POOLS.replace("enabled: true, nodePools: []", "enabled: false"));
        let plan = plan_for(&aws, &off).await;
        let change = |resource: &str| {
            plan.changes
                .iter()
                .find(|c| c.resource == resource)
                .unwrap_or_else(|| panic!("no change of {resource}: {:?}", kinds(&plan)))
        };
        assert_eq!(change("cluster").kind, ChangeKind::Update);
        assert!(change("cluster").after.is_empty());
        for role in ["role/cluster", "role/auto-mode-node"] {
            assert!(
                change(role).after.iter().any(|a| a == "cluster"),
                "{role}: {:?}",
                change(role).after
            );
        }
        assert_eq!(change("role/auto-mode-node").kind, ChangeKind::Delete);
        // The instance profile EKS made for the role (and left) goes first: IAM refuses to
        // delete a role still in one.
        assert!(
            matches!(
                change("role/auto-mode-node").operations.as_slice(),
                [
                    Operation::DeleteAutoModeInstanceProfiles { role },
                    Operation::DeleteRole { name },
                ] if role == "am-auto-node" && name == "am-auto-node"
            ),
            "{:?}",
            change("role/auto-mode-node").operations
        );
        apply(&aws, &off).await;
        assert!(
            aws.mutating_calls()
                .iter()
                .any(|c| c == "DeleteInstanceProfile eks-us-east-1-am-auto"),
            "{:?}",
            aws.mutating_calls()
        );
        assert!(plan_for(&aws, &off).await.changes.is_empty());

        // And on again: the roles first, then the cluster.
        let plan = plan_for(&aws, &on).await;
        let cluster = plan
            .changes
            .iter()
            .find(|c| c.resource == "cluster")
            .unwrap();
        for role in ["role/cluster", "role/auto-mode-node"] {
            assert!(
                cluster.after.iter().any(|a| a == role),
                "{:?}",
                cluster.after
            );
        }
    }
}

/// The EKS rules tests/moto/eks_auto_mode.py adds, as AWS answers them.
mod eks_rules {
    use aws_sdk_eks::types::{
        BlockStorage, ComputeConfigRequest, ElasticLoadBalancing, KubernetesNetworkConfigRequest,
        StorageConfigRequest, VpcConfigRequest,
    };

    use crate::e2e::Emulated;

    const ROLE: &str = "arn:aws:iam::123456789012:role/ekspec/rules/rules-auto-node";

    fn compute(pools: &[&str], role: Option<&str>) -> ComputeConfigRequest {
        ComputeConfigRequest::builder()
            .enabled(true)
            .set_node_pools(Some(pools.iter().map(|p| (*p).to_owned()).collect()))
            .set_node_role_arn(role.map(str::to_owned))
            .build()
    }

    fn storage(on: bool) -> StorageConfigRequest {
        StorageConfigRequest::builder()
            .block_storage(BlockStorage::builder().enabled(on).build())
            .build()
    }

    fn network(on: bool) -> KubernetesNetworkConfigRequest {
        KubernetesNetworkConfigRequest::builder()
            .elastic_load_balancing(ElasticLoadBalancing::builder().enabled(on).build())
            .build()
    }

    /// `InvalidParameterException: <message>` of a refused call.
    fn refusal<E: std::error::Error + aws_sdk_eks::error::ProvideErrorMetadata>(
        error: &aws_sdk_eks::error::SdkError<E>,
    ) -> String {
        let service = error.as_service_error().expect("a service error");
        format!(
            "{}: {}",
            service.code().unwrap_or_default(),
            service.message().unwrap_or_default()
        )
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn eks_refuses_auto_mode_half_on_pools_without_a_role_and_a_new_role() {
        let aws = Emulated::start();
        let eks = aws.inventory("us-east-1").await.eks;
        let create = |name: &str| {
            eks.create_cluster()
                .name(name)
                .version("1.31")
                .role_arn("arn:aws:iam::123456789012:role/ekspec/rules/rules-cluster")
                .resources_vpc_config(VpcConfigRequest::builder().build())
        };
        let half = create("half")
            .compute_config(compute(&["system"], Some(ROLE)))
            .send()
            .await
            .unwrap_err();
        assert_eq!(
            refusal(&half),
            "InvalidParameterException: For EKS Auto Mode, please ensure that all required configs, including computeConfig, kubernetesNetworkConfig, and blockStorage are all either fully enabled or fully disabled."
        );
        let no_role = create("norole")
            .compute_config(compute(&["system"], None))
            .storage_config(storage(true))
            .kubernetes_network_config(network(true))
            .send()
            .await
            .unwrap_err();
        assert_eq!(
            refusal(&no_role),
            "InvalidParameterException: When Compute Config nodeRoleArn is null or empty, nodePool list cannot be populated."
        );
        let no_pools = create("nopools")
            .compute_config(compute(&[], Some(ROLE)))
            .storage_config(storage(true))
            .kubernetes_network_config(network(true))
            .send()
            .await
            .unwrap_err();
        assert_eq!(
            refusal(&no_pools),
            "InvalidParameterException: When Compute Config nodeRoleArn is not null or empty, nodePool value(s) must be provided."
        );

        create("rules")
            .compute_config(compute(&["general-purpose"], Some(ROLE)))
            .storage_config(storage(true))
            .kubernetes_network_config(network(true))
            .send()
            .await
            .unwrap();
        // Wait out CREATING: updates need an ACTIVE cluster.
        for _ in 0..100 {
            let status = eks.describe_cluster().name("rules").send().await.unwrap();
            if status
                .cluster()
                .and_then(|c| c.status())
                .map(|s| s.as_str())
                == Some("ACTIVE")
            {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let other_role = eks
            .update_cluster_config()
            .name("rules")
            .compute_config(compute(
                &["general-purpose"],
                Some("arn:aws:iam::123456789012:role/other"),
            ))
            .storage_config(storage(true))
            .kubernetes_network_config(network(true))
            .send()
            .await
            .unwrap_err();
        assert_eq!(
            refusal(&other_role),
            "InvalidParameterException: The nodeRoleArn cannot be changed after the compute capability of EKS Auto Mode is enabled."
        );
        // Off needs all three off, in one call.
        let half_off = eks
            .update_cluster_config()
            .name("rules")
            .compute_config(ComputeConfigRequest::builder().enabled(false).build())
            .send()
            .await
            .unwrap_err();
        assert!(refusal(&half_off).contains("fully enabled or fully disabled"));
        let off = eks
            .update_cluster_config()
            .name("rules")
            .compute_config(ComputeConfigRequest::builder().enabled(false).build())
            .storage_config(storage(false))
            .kubernetes_network_config(network(false))
            .send()
            .await
            .unwrap();
        assert_eq!(
            off.update().and_then(|u| u.r#type()).map(|t| t.as_str()),
            Some("AutoModeUpdate")
        );
    }
}
