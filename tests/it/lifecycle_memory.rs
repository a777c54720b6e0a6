//! The cluster lifecycle against the in-memory cloud: add-ons, access entries, encryption and
//! version upgrades planned, applied in order, and converged.

use ekspec::cloud::memory::MemoryCloud;
use ekspec::cloud::{AccessPolicy, AddonRequest, Tags};
use ekspec::plan::{ChangeKind, Plan};

use crate::reconcile_memory::{apply, kinds, plan_for, spec};

const ADMIN: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";
const EDIT: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy";
const VIEW: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy";

const FULL: &str = r#"apiVersion: ekspec/v1alpha1
kind: Cluster
metadata: {name: life, region: us-east-1}
spec:
  kubernetesVersion: "1.29"
  vpc: {cidr: 10.3.0.0/16, availabilityZones: [us-east-1a, us-east-1b], natGateway: single}
  nodeGroups:
    - {name: system, instanceTypes: [m6i.large], minSize: 2, maxSize: 4}
    - {name: spot, capacityType: spot, instanceTypes: [m6i.large, m5.large], minSize: 0, maxSize: 5}
  serviceAccounts:
    - {name: ebs-csi-controller-sa, namespace: kube-system, policyArns: ['arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy']}
  addons:
    - name: vpc-cni
    - name: kube-proxy
    - name: coredns
      configurationValues: {replicaCount: 3}
    - name: aws-ebs-csi-driver
      serviceAccount: ebs-csi-controller-sa
  accessEntries:
    - principalArn: arn:aws:iam::111122223333:role/admin
      policies: [{policyArn: arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy, scope: cluster}]
    - principalArn: arn:aws:iam::111122223333:role/dev
      kubernetesGroups: [developers]
      policies: [{policyArn: arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy, scope: {namespaces: [apps, staging]}}]
"#;

fn change<'p>(plan: &'p Plan, resource: &str) -> &'p ekspec::plan::Change {
    plan.changes
        .iter()
        .find(|c| c.resource == resource)
        .unwrap_or_else(|| panic!("no {resource} in {:?}", kinds(plan)))
}

fn position(calls: &[String], prefix: &str) -> usize {
    calls
        .iter()
        .position(|c| c.starts_with(prefix))
        .unwrap_or_else(|| panic!("no `{prefix}` call in {calls:#?}"))
}

#[tokio::test]
async fn add_ons_and_access_entries_are_created_in_order_and_converge() {
    let aws = MemoryCloud::new();
    let file = spec(FULL);
    let plan = apply(&aws, &file).await;
    // vpc-cni and kube-proxy before nodes; coredns and the CSI driver after the first nodes;
    // the CSI driver after its IRSA role.
    let system = change(&plan, "nodegroup/system");
    assert!(system.after.contains(&"addon/vpc-cni".to_owned()));
    assert!(system.after.contains(&"addon/kube-proxy".to_owned()));
    assert!(
        change(&plan, "addon/coredns")
            .after
            .contains(&"nodegroup/system".to_owned())
    );
    let ebs = change(&plan, "addon/aws-ebs-csi-driver");
    assert!(
        ebs.after
            .contains(&"role/irsa/kube-system/ebs-csi-controller-sa".to_owned())
    );
    let calls = aws.mutating_calls();
    assert!(position(&calls, "CreateAddon vpc-cni") < position(&calls, "CreateNodegroup system"));
    assert!(position(&calls, "CreateNodegroup system") < position(&calls, "CreateAddon coredns"));
    let again = plan_for(&aws, &file).await;
    assert!(again.is_empty(), "{:?}", kinds(&again));

    let cloud = aws.cloud();
    let addons = cloud.kubernetes.list_addons("life").await.unwrap();
    let coredns = addons.iter().find(|a| a.name == "coredns").unwrap();
    assert_eq!(coredns.version, "v1.29.0-eksbuild.1");
    assert_eq!(
        coredns.configuration_values.as_deref(),
        Some(r#"{"replicaCount":3}"#)
    );
    let ebs = addons
        .iter()
        .find(|a| a.name == "aws-ebs-csi-driver")
        .unwrap();
    assert!(
        ebs.service_account_role_arn
            .as_deref()
            .is_some_and(|arn| arn.ends_with("life-kube-system-ebs-csi-controller-sa")),
        "{ebs:?}"
    );
    let entries = cloud.kubernetes.list_access_entries("life").await.unwrap();
    let dev = entries
        .iter()
        .find(|e| e.principal_arn.ends_with("role/dev"))
        .unwrap();
    assert_eq!(dev.kubernetes_groups, ["developers"]);
    assert_eq!(
        dev.policies,
        [AccessPolicy {
            policy_arn: EDIT.to_owned(),
            namespaces: Some(vec!["apps".to_owned(), "staging".to_owned()]),
        }]
    );
}

#[tokio::test]
async fn add_on_and_access_entry_changes_are_updates_and_removals_are_deletes() {
    let aws = MemoryCloud::new();
    apply(&aws, &spec(FULL)).await;
    let changed = spec(
        &FULL
            .replace("{replicaCount: 3}", "{replicaCount: 2}")
            .replace(
                "    - name: kube-proxy\n",
                "    - name: kube-proxy\n      version: v1.29.9-eksbuild.2\n",
            )
            .replace(
                "    - name: aws-ebs-csi-driver\n      serviceAccount: ebs-csi-controller-sa\n",
                "",
            )
            .replace(
                "kubernetesGroups: [developers]",
                "kubernetesGroups: [developers, oncall]",
            )
            .replace(
                "scope: {namespaces: [apps, staging]}",
                "scope: {namespaces: [apps]}",
            )
            .replace(
                "AmazonEKSClusterAdminPolicy, scope: cluster}]",
                "AmazonEKSViewPolicy, scope: cluster}]",
            ),
    );
    let plan = plan_for(&aws, &changed).await;
    let fields = |resource: &str| -> Vec<String> {
        change(&plan, resource)
            .fields
            .iter()
            .map(|f| {
                format!(
                    "{}: {} -> {}",
                    f.field,
                    f.old.as_deref().unwrap_or("-"),
                    f.new.as_deref().unwrap_or("-")
                )
            })
            .collect()
    };
    assert_eq!(
        fields("addon/coredns"),
        [r#"configurationValues: {"replicaCount":3} -> {"replicaCount":2}"#]
    );
    assert_eq!(
        fields("addon/kube-proxy"),
        ["version: v1.29.0-eksbuild.1 -> v1.29.9-eksbuild.2"]
    );
    assert_eq!(
        change(&plan, "addon/aws-ebs-csi-driver").kind,
        ChangeKind::Delete
    );
    assert_eq!(
        fields("access-entry/arn:aws:iam::111122223333:role/dev"),
        [
            "kubernetesGroups: developers -> developers,oncall",
            &format!("policies[{EDIT}]: namespaces apps,staging -> namespaces apps"),
        ]
    );
    assert_eq!(
        fields("access-entry/arn:aws:iam::111122223333:role/admin"),
        [
            format!("policies[{VIEW}]: - -> cluster"),
            format!("policies[{ADMIN}]: cluster -> -"),
        ]
    );
    apply(&aws, &changed).await;
    let again = plan_for(&aws, &changed).await;
    assert!(again.is_empty(), "{:?}", kinds(&again));

    // Removing every access entry deletes the owned ones.
    let text = FULL[..FULL.find("  accessEntries:").unwrap()].to_owned();
    let plan = apply(&aws, &spec(&text)).await;
    let deletes: Vec<&str> = plan
        .changes
        .iter()
        .filter(|c| c.kind == ChangeKind::Delete)
        .map(|c| c.resource.as_str())
        .collect();
    assert_eq!(
        deletes,
        [
            "access-entry/arn:aws:iam::111122223333:role/admin",
            "access-entry/arn:aws:iam::111122223333:role/dev"
        ]
    );
    let cloud = aws.cloud();
    assert!(
        cloud
            .kubernetes
            .list_access_entries("life")
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn an_upgrade_is_a_chain_of_one_minor_steps() {
    let aws = MemoryCloud::new();
    apply(&aws, &spec(FULL)).await;
    let before = aws.mutating_calls().len();
    let upgraded = spec(&FULL.replace("\"1.29\"", "\"1.31\""));
    let plan = plan_for(&aws, &upgraded).await;
    let k = kinds(&plan);
    for resource in [
        "cluster/version-1.30",
        "cluster/version-1.31",
        "addon/coredns/version-1.30",
        "addon/coredns",
        "nodegroup/system/version-1.30",
        "nodegroup/system/version-1.31",
        "nodegroup/spot/version-1.31",
    ] {
        assert!(
            k.contains(&(resource.to_owned(), ChangeKind::Update)),
            "{resource} in {k:?}"
        );
    }
    assert_eq!(
        change(&plan, "cluster/version-1.30").fields[0]
            .old
            .as_deref(),
        Some("1.29")
    );
    // The last step moves each add-on on from where the step before left it.
    let version = |resource: &str| {
        let field = &change(&plan, resource).fields[0];
        (field.old.clone().unwrap(), field.new.clone().unwrap())
    };
    assert_eq!(
        version("addon/coredns/version-1.30"),
        (
            "v1.29.0-eksbuild.1".to_owned(),
            "v1.30.0-eksbuild.1".to_owned()
        )
    );
    assert_eq!(
        version("addon/coredns"),
        (
            "v1.30.0-eksbuild.1".to_owned(),
            "v1.31.0-eksbuild.1".to_owned()
        )
    );
    // Step 2 waits for every node group of step 1.
    let second = change(&plan, "cluster/version-1.31");
    assert!(
        second
            .after
            .contains(&"nodegroup/system/version-1.30".to_owned())
    );
    assert!(
        second
            .after
            .contains(&"nodegroup/spot/version-1.30".to_owned())
    );
    assert!(
        change(&plan, "nodegroup/system/version-1.31")
            .after
            .contains(&"addon/coredns".to_owned())
    );

    apply(&aws, &upgraded).await;
    let calls = aws.mutating_calls()[before..].to_vec();
    let first = position(&calls, "UpdateClusterVersion life 1.30");
    let addon = position(&calls, "UpdateAddon coredns");
    let nodes = position(&calls, "UpdateNodegroupVersion system");
    let second = position(&calls, "UpdateClusterVersion life 1.31");
    assert!(
        first < addon && addon < nodes && nodes < second,
        "{calls:#?}"
    );
    let again = plan_for(&aws, &upgraded).await;
    assert!(again.is_empty(), "{:?}", kinds(&again));
    let cloud = aws.cloud();
    let groups = cloud.kubernetes.list_node_groups("life").await.unwrap();
    assert!(
        groups.iter().all(|g| g.version.as_deref() == Some("1.31")),
        "{groups:?}"
    );
    let coredns = cloud
        .kubernetes
        .describe_addon("life", "coredns")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(coredns.version, "v1.31.0-eksbuild.1");

    // Going back is impossible and changes nothing.
    let plan = plan_for(&aws, &spec(FULL)).await;
    let cluster = change(&plan, "cluster");
    assert_eq!(cluster.kind, ChangeKind::Impossible);
    assert!(cluster.reason.as_deref().unwrap().contains("downgrade"));
}

#[tokio::test]
async fn secrets_encryption_can_be_enabled_but_not_changed() {
    let aws = MemoryCloud::new();
    apply(&aws, &spec(FULL)).await;
    let key = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    let encrypted = spec(&FULL.replace(
        "  nodeGroups:",
        &format!("  secretsEncryption: {{keyArn: {key}}}\n  nodeGroups:"),
    ));
    let plan = plan_for(&aws, &encrypted).await;
    assert_eq!(kinds(&plan), [("cluster".to_owned(), ChangeKind::Update)]);
    apply(&aws, &encrypted).await;
    assert!(plan_for(&aws, &encrypted).await.is_empty());

    let other = spec(&FULL.replace(
        "  nodeGroups:",
        &format!(
            "  secretsEncryption: {{keyArn: {}}}\n  nodeGroups:",
            key.replace("1234abcd", "9999abcd")
        ),
    ));
    let plan = plan_for(&aws, &other).await;
    assert_eq!(change(&plan, "cluster").kind, ChangeKind::Impossible);
}

#[tokio::test]
async fn a_declared_add_on_made_outside_ekspec_is_adopted() {
    let aws = MemoryCloud::new();
    let file = spec(FULL);
    apply(&aws, &spec(&FULL[..FULL.find("  addons:").unwrap()])).await;
    // Someone installed vpc-cni by hand, at another version.
    aws.cloud()
        .kubernetes
        .create_addon(&AddonRequest {
            cluster: "life".to_owned(),
            name: "vpc-cni".to_owned(),
            version: "v1.0.0-eksbuild.1".to_owned(),
            service_account_role_arn: None,
            configuration_values: None,
            pod_identity_associations: None,
            tags: Tags::new(),
            client_request_token: "manual".to_owned(),
        })
        .await
        .unwrap();
    let plan = plan_for(&aws, &file).await;
    let adopt = change(&plan, "addon/vpc-cni");
    assert_eq!(adopt.kind, ChangeKind::Adopt);
    assert!(
        adopt
            .reason
            .as_deref()
            .unwrap()
            .contains("not created by ekspec")
    );
    apply(&aws, &file).await;
    let again = plan_for(&aws, &file).await;
    assert!(again.is_empty(), "{:?}", kinds(&again));
}

const KARPENTER: &str = r#"apiVersion: ekspec/v1alpha1
kind: Cluster
metadata: {name: kp, region: us-east-1}
spec:
  kubernetesVersion: "1.31"
  vpc: {cidr: 10.5.0.0/16, availabilityZones: [us-east-1a, us-east-1b], natGateway: single}
  nodeGroups:
    - {name: system, instanceTypes: [m6i.large], minSize: 2, maxSize: 4}
  addons:
    - name: eks-pod-identity-agent
  karpenter: {version: "1.8.1"}
"#;

/// The tags Karpenter 1.x gives what it launches (pkg/utils GetTags) and the instance
/// profiles it makes (EC2NodeClass.InstanceProfileTags), for cluster `cluster`.
fn karpenter_tags(cluster: &str, profile: bool) -> Tags {
    let mut tags = Tags::from([
        (
            format!("kubernetes.io/cluster/{cluster}"),
            "owned".to_owned(),
        ),
        ("karpenter.sh/nodepool".to_owned(), "default".to_owned()),
        ("eks:eks-cluster-name".to_owned(), cluster.to_owned()),
        (
            "karpenter.k8s.aws/ec2nodeclass".to_owned(),
            "default".to_owned(),
        ),
    ]);
    if profile {
        tags.remove("karpenter.sh/nodepool");
        tags.insert(
            "topology.kubernetes.io/region".to_owned(),
            "us-east-1".to_owned(),
        );
    }
    tags
}

// Paused clock: the retries of what the instances block take no real time.
#[tokio::test(start_paused = true)]
async fn karpenters_leftovers_go_after_its_controller_role_and_before_what_they_block() {
    let aws = MemoryCloud::new();
    let file = spec(KARPENTER);
    apply(&aws, &file).await;
    let again = plan_for(&aws, &file).await;
    assert!(again.is_empty(), "{:?}", kinds(&again));
    assert_eq!(
        aws.cluster_security_group_tags("kp")
            .unwrap()
            .get("karpenter.sh/discovery")
            .map(String::as_str),
        Some("kp")
    );
    let observed = ekspec::resources::observe(&aws.cloud(), "kp", Some(&file))
        .await
        .unwrap();
    let private = observed
        .network
        .subnets
        .iter()
        .find(|s| s.tags.get("karpenter.sh/discovery").map(String::as_str) == Some("kp"))
        .unwrap()
        .id
        .clone();
    aws.add_instance(&private, karpenter_tags("kp", false));
    aws.add_foreign_launch_template("karpenter.k8s.aws/1", karpenter_tags("kp", false));
    aws.add_instance_profile("kp_1", "kp-karpenter-node", karpenter_tags("kp", true));
    // Another cluster's Karpenter node is not this cluster's to terminate.
    aws.add_instance("subnet-elsewhere", karpenter_tags("other", false));

    let observed = ekspec::resources::observe(&aws.cloud(), "kp", None)
        .await
        .unwrap();
    let plan = ekspec::resources::planner::plan_delete("kp", "us-east-1", &observed);
    let ctx = ekspec::exec::Context::new(
        aws.cloud(),
        &observed,
        "kp",
        "us-east-1",
        ekspec::exec::wait::Waiter::default(),
    );
    let (_stop, stop) = tokio::sync::watch::channel(false);
    let report = ekspec::exec::execute(&plan, std::sync::Arc::new(ctx), stop, |_| {}).await;
    assert!(report.success(), "{:?} {:?}", report.failed, report.skipped);
    assert_eq!(
        aws.resource_count(),
        1,
        "only the other cluster's instance is left"
    );
    let calls = aws.mutating_calls();
    assert!(position(&calls, "DeleteRole kp-karpenter") < position(&calls, "TerminateInstances"));
    for after in [
        "DeleteCluster",
        "DeleteSubnet",
        "DeleteInstanceProfile kp_1",
    ] {
        assert!(
            position(&calls, "TerminateInstances") < position(&calls, after),
            "{after}: {calls:#?}"
        );
    }
    assert!(
        position(&calls, "DeleteInstanceProfile kp_1")
            < position(&calls, "DeleteRole kp-karpenter-node")
    );
}
