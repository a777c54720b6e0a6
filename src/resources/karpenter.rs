//! Karpenter's AWS side, as its getting-started guide documents it for the version named
//! (website/content/en/<version>/getting-started/getting-started-with-karpenter/
//! cloudformation.yaml in aws/karpenter-provider-aws): the node role, the controller role
//! (EKS Pod Identity) with the controller policy scoped to this cluster, the
//! `karpenter.sh/discovery` tag on the cluster security group, and the cleanup of what a
//! running Karpenter leaves (instances, launch templates, instance profiles). The interruption
//! queue and its rules are `karpenter_interruption`'s; the node role's access entry is
//! `access`'s; the subnets' discovery tags are `network`'s.

use serde_json::{Value, json};

use crate::cloud::Tags;
use crate::naming::{self, KARPENTER_DISCOVERY_TAG};
use crate::plan::operation::Trust;
use crate::plan::{Change, ChangeKind, Operation, Ref};
use crate::spec::validate::karpenter_version;

use super::iam::{DesiredRole, aws_policy, plan_role};
use super::planner::Planning;
use super::tag_drift;

/// Logical id of the role the nodes Karpenter launches use.
pub const NODE_ROLE: &str = "role/karpenter-node";
/// Logical id of the controller's role.
pub const CONTROLLER_ROLE: &str = "role/karpenter";
/// Logical id of the discovery tag on the security group EKS made for the cluster.
pub const CLUSTER_SECURITY_GROUP: &str = "cluster-security-group";
/// Logical id of EC2 Spot's service-linked role (made when missing, never deleted).
pub const SPOT_SERVICE_LINKED_ROLE: &str = "spot-service-linked-role";
/// Logical id of the cleanup of what Karpenter launched (see [`leftovers_change`]).
pub const KARPENTER_LEFTOVERS: &str = "karpenter-leftovers";

/// The discovery tag of `cluster`: what the guide's `EC2NodeClass` selects by.
pub fn discovery_tag(cluster: &str) -> Tags {
    Tags::from([(KARPENTER_DISCOVERY_TAG.to_owned(), cluster.to_owned())])
}

/// The managed policies of the node role for Karpenter 1.`minor`: worker, CNI, ECR pull and
/// SSM. The guide moved from `AmazonEC2ContainerRegistryReadOnly` to
/// `AmazonEC2ContainerRegistryPullOnly` (which adds the pull-through cache's
/// `ecr:BatchImportUpstreamImage`) in the 1.2 docs and from 1.4 on; the 1.3 docs have
/// ReadOnly again. Each version gets what its docs say.
pub fn node_policies(partition: &str, minor: u32) -> Vec<String> {
    let registry = if minor == 2 || minor >= 4 {
        "AmazonEC2ContainerRegistryPullOnly"
    } else {
        "AmazonEC2ContainerRegistryReadOnly"
    };
    [
        "AmazonEKS_CNI_Policy",
        "AmazonEKSWorkerNodePolicy",
        registry,
        "AmazonSSMManagedInstanceCore",
    ]
    .iter()
    .map(|name| aws_policy(partition, name))
    .collect()
}

/// What the controller policy is scoped to.
#[derive(Debug, Clone, Copy)]
pub struct PolicyScope<'a> {
    /// The cluster name.
    pub cluster: &'a str,
    /// The caller's partition.
    pub partition: &'a str,
    /// The cluster's region.
    pub region: &'a str,
    /// The caller's account.
    pub account: &'a str,
    /// The node role's ARN (the only role the controller may pass).
    pub node_role_arn: &'a str,
    /// The interruption queue's ARN, when there is one.
    pub queue_arn: Option<&'a str>,
}

/// The controller policy of Karpenter 1.`minor`: the statements of the guide's managed
/// policies for that version (one `KarpenterControllerPolicy` up to 1.8, split into
/// NodeLifecycle, IAMIntegration, EKSIntegration, Interruption, ZonalShift (1.12 on) and
/// ResourceDiscovery from 1.9) in one inline policy: well under IAM's 10,240 characters per
/// role even for a 100-character cluster name. Versions newer than the newest known get the
/// newest known policy.
pub fn controller_policy(scope: &PolicyScope<'_>, minor: u32) -> Value {
    let PolicyScope {
        cluster,
        partition,
        region,
        account,
        node_role_arn,
        queue_arn,
    } = *scope;
    let ec2 = |resource: &str| format!("arn:{partition}:ec2:{region}:*:{resource}");
    let resource_owned = format!("aws:ResourceTag/kubernetes.io/cluster/{cluster}");
    let request_owned = format!("aws:RequestTag/kubernetes.io/cluster/{cluster}");
    let cluster_arn = format!("arn:{partition}:eks:{region}:{account}:cluster/{cluster}");
    let instance_profiles = format!("arn:{partition}:iam::{account}:instance-profile/*");

    let mut launch_resources = vec![
        format!("arn:{partition}:ec2:{region}::image/*"),
        format!("arn:{partition}:ec2:{region}::snapshot/*"),
        ec2("security-group/*"),
        ec2("subnet/*"),
    ];
    if minor >= 3 {
        launch_resources.push(ec2("capacity-reservation/*"));
    }
    if minor >= 11 {
        launch_resources.push(ec2("placement-group/*"));
    }
    let tagged_kinds = [
        "fleet/*",
        "instance/*",
        "volume/*",
        "network-interface/*",
        "launch-template/*",
        "spot-instances-request/*",
    ];
    let tagged: Vec<String> = tagged_kinds.iter().map(|k| ec2(k)).collect();
    let mut tagged_launch = tagged.clone();
    if (3..9).contains(&minor) {
        tagged_launch.push(ec2("capacity-reservation/*"));
    }
    let passed_to = if minor == 0 {
        json!("ec2.amazonaws.com")
    } else {
        json!(["ec2.amazonaws.com", "ec2.amazonaws.com.cn"])
    };

    let mut statements = vec![
        json!({
            "Sid": "AllowScopedEC2InstanceAccessActions",
            "Effect": "Allow",
            "Resource": launch_resources,
            "Action": ["ec2:RunInstances", "ec2:CreateFleet"]
        }),
        json!({
            "Sid": "AllowScopedEC2LaunchTemplateAccessActions",
            "Effect": "Allow",
            "Resource": ec2("launch-template/*"),
            "Action": ["ec2:RunInstances", "ec2:CreateFleet"],
            "Condition": {
                "StringEquals": {(resource_owned.clone()): "owned"},
                "StringLike": {"aws:ResourceTag/karpenter.sh/nodepool": "*"}
            }
        }),
        json!({
            "Sid": "AllowScopedEC2InstanceActionsWithTags",
            "Effect": "Allow",
            "Resource": tagged_launch,
            "Action": ["ec2:RunInstances", "ec2:CreateFleet", "ec2:CreateLaunchTemplate"],
            "Condition": {
                "StringEquals": {
                    (request_owned.clone()): "owned",
                    "aws:RequestTag/eks:eks-cluster-name": cluster
                },
                "StringLike": {"aws:RequestTag/karpenter.sh/nodepool": "*"}
            }
        }),
        json!({
            "Sid": "AllowScopedResourceCreationTagging",
            "Effect": "Allow",
            "Resource": tagged,
            "Action": "ec2:CreateTags",
            "Condition": {
                "StringEquals": {
                    (request_owned.clone()): "owned",
                    "aws:RequestTag/eks:eks-cluster-name": cluster,
                    "ec2:CreateAction": ["RunInstances", "CreateFleet", "CreateLaunchTemplate"]
                },
                "StringLike": {"aws:RequestTag/karpenter.sh/nodepool": "*"}
            }
        }),
        json!({
            "Sid": "AllowScopedResourceTagging",
            "Effect": "Allow",
            "Resource": ec2("instance/*"),
            "Action": "ec2:CreateTags",
            "Condition": {
                "StringEquals": {(resource_owned.clone()): "owned"},
                "StringLike": {"aws:ResourceTag/karpenter.sh/nodepool": "*"},
                "StringEqualsIfExists": {"aws:RequestTag/eks:eks-cluster-name": cluster},
                "ForAllValues:StringEquals": {
                    "aws:TagKeys": ["eks:eks-cluster-name", "karpenter.sh/nodeclaim", "Name"]
                }
            }
        }),
        json!({
            "Sid": "AllowScopedDeletion",
            "Effect": "Allow",
            "Resource": [ec2("instance/*"), ec2("launch-template/*")],
            "Action": ["ec2:TerminateInstances", "ec2:DeleteLaunchTemplate"],
            "Condition": {
                "StringEquals": {(resource_owned.clone()): "owned"},
                "StringLike": {"aws:ResourceTag/karpenter.sh/nodepool": "*"}
            }
        }),
        json!({
            "Sid": "AllowPassingInstanceRole",
            "Effect": "Allow",
            "Resource": node_role_arn,
            "Action": "iam:PassRole",
            "Condition": {"StringEquals": {"iam:PassedToService": passed_to}}
        }),
        json!({
            "Sid": "AllowScopedInstanceProfileCreationActions",
            "Effect": "Allow",
            "Resource": instance_profiles,
            "Action": ["iam:CreateInstanceProfile"],
            "Condition": {
                "StringEquals": {
                    (request_owned.clone()): "owned",
                    "aws:RequestTag/eks:eks-cluster-name": cluster,
                    "aws:RequestTag/topology.kubernetes.io/region": region
                },
                "StringLike": {"aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "*"}
            }
        }),
        json!({
            "Sid": "AllowScopedInstanceProfileTagActions",
            "Effect": "Allow",
            "Resource": instance_profiles,
            "Action": ["iam:TagInstanceProfile"],
            "Condition": {
                "StringEquals": {
                    (resource_owned.clone()): "owned",
                    "aws:ResourceTag/topology.kubernetes.io/region": region,
                    (request_owned): "owned",
                    "aws:RequestTag/eks:eks-cluster-name": cluster,
                    "aws:RequestTag/topology.kubernetes.io/region": region
                },
                "StringLike": {
                    "aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass": "*",
                    "aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "*"
                }
            }
        }),
        json!({
            "Sid": "AllowScopedInstanceProfileActions",
            "Effect": "Allow",
            "Resource": instance_profiles,
            "Action": [
                "iam:AddRoleToInstanceProfile",
                "iam:RemoveRoleFromInstanceProfile",
                "iam:DeleteInstanceProfile"
            ],
            "Condition": {
                "StringEquals": {
                    (resource_owned): "owned",
                    "aws:ResourceTag/topology.kubernetes.io/region": region
                },
                "StringLike": {"aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass": "*"}
            }
        }),
        json!({
            "Sid": "AllowAPIServerEndpointDiscovery",
            "Effect": "Allow",
            "Resource": cluster_arn,
            "Action": "eks:DescribeCluster"
        }),
    ];
    if let Some(queue_arn) = queue_arn {
        statements.push(json!({
            "Sid": "AllowInterruptionQueueActions",
            "Effect": "Allow",
            "Resource": queue_arn,
            "Action": ["sqs:DeleteMessage", "sqs:GetQueueUrl", "sqs:ReceiveMessage"]
        }));
    }
    match minor {
        0..12 => {}
        12 => statements.push(json!({
            "Sid": "AllowZonalShiftStatusReadOnly",
            "Effect": "Allow",
            "Resource": cluster_arn,
            "Action": ["arc-zonal-shift:GetManagedResource"]
        })),
        _ => statements.push(json!({
            "Sid": "AllowZonalShiftStatusReadOnly",
            "Effect": "Allow",
            "Resource": "*",
            "Action": ["arc-zonal-shift:GetManagedResource"],
            "Condition": {"StringEquals": {"arc-zonal-shift:ResourceIdentifier": cluster_arn}}
        })),
    }
    let reads: Vec<&str> = [
        ("ec2:DescribeAvailabilityZones", minor == 0),
        ("ec2:DescribeCapacityReservations", minor >= 3),
        ("ec2:DescribeImages", true),
        ("ec2:DescribeInstances", true),
        ("ec2:DescribeInstanceStatus", minor >= 13),
        ("ec2:DescribeInstanceTypeOfferings", true),
        ("ec2:DescribeInstanceTypes", true),
        ("ec2:DescribeLaunchTemplates", true),
        ("ec2:DescribePlacementGroups", minor >= 11),
        ("ec2:DescribeSecurityGroups", true),
        ("ec2:DescribeSpotPriceHistory", true),
        ("ec2:DescribeSubnets", true),
    ]
    .into_iter()
    .filter_map(|(action, documented)| documented.then_some(action))
    .collect();
    statements.extend([
        json!({
            "Sid": "AllowRegionalReadActions",
            "Effect": "Allow",
            "Resource": "*",
            "Action": reads,
            "Condition": {"StringEquals": {"aws:RequestedRegion": region}}
        }),
        json!({
            "Sid": "AllowSSMReadActions",
            "Effect": "Allow",
            "Resource": format!("arn:{partition}:ssm:{region}::parameter/aws/service/*"),
            "Action": "ssm:GetParameter"
        }),
        json!({
            "Sid": "AllowPricingReadActions",
            "Effect": "Allow",
            "Resource": "*",
            "Action": "pricing:GetProducts"
        }),
    ]);
    if minor >= 7 {
        statements.push(json!({
            "Sid": "AllowUnscopedInstanceProfileListAction",
            "Effect": "Allow",
            "Resource": "*",
            "Action": "iam:ListInstanceProfiles"
        }));
    }
    statements.push(json!({
        "Sid": "AllowInstanceProfileReadActions",
        "Effect": "Allow",
        "Resource": instance_profiles,
        "Action": "iam:GetInstanceProfile"
    }));
    if minor == 12 {
        statements.push(json!({
            "Sid": "AllowUnscopedEC2DescribeInstanceStatus",
            "Effect": "Allow",
            "Resource": "*",
            "Action": "ec2:DescribeInstanceStatus"
        }));
    }
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// The ARN a role of this cluster has (or will have): the live one's, else the one IAM gives
/// a role of that name under the cluster's path.
pub fn role_arn(p: &Planning<'_>, resource: &str, name: &str, cluster: &str) -> String {
    p.observed
        .roles
        .iter()
        .find(|r| p.owned(&r.tags) == Some(resource))
        .map_or_else(
            || {
                format!(
                    "arn:{}:iam::{}:role{}{name}",
                    p.observed.partition(),
                    p.observed.account,
                    naming::iam_path(cluster)
                )
            },
            |role| role.arn.clone(),
        )
}

/// Plans the node and controller roles and the cluster security group's discovery tag.
pub fn plan(p: &mut Planning<'_>) {
    let Some(file) = p.file else {
        return;
    };
    let cluster = file.metadata.name.as_str();
    let Some(karpenter) = &file.spec.karpenter else {
        plan_security_group_tag(p, cluster, false);
        return;
    };
    // Validation refuses any other version.
    let Some((_, minor, _)) = karpenter_version(&karpenter.version) else {
        return;
    };
    let partition = p.observed.partition().to_owned();
    let ipv6 = file.spec.ip_family == crate::spec::IpFamily::Ipv6;
    let region = file.metadata.region.as_str();
    let node_role = naming::karpenter_node_role(cluster);
    let node_role_arn = role_arn(p, NODE_ROLE, &node_role, cluster);
    let queue_arn = karpenter.interruption_queue.then(|| {
        format!(
            "arn:{partition}:sqs:{region}:{}:{}",
            p.observed.account,
            naming::karpenter_queue(cluster)
        )
    });
    let scope = PolicyScope {
        cluster,
        partition: &partition,
        region,
        account: &p.observed.account,
        node_role_arn: &node_role_arn,
        queue_arn: queue_arn.as_deref(),
    };
    let controller = DesiredRole {
        resource: CONTROLLER_ROLE.to_owned(),
        name: naming::karpenter_controller_role(cluster),
        trust: Trust::PodIdentity,
        description: format!(
            "Karpenter {} controller {}/{} of {cluster} (ekspec)",
            karpenter.version,
            karpenter.namespace(),
            karpenter.service_account()
        ),
        policies: Vec::new(),
        inline: Some(controller_policy(&scope, minor)),
        after: Vec::new(),
    };
    let node = DesiredRole {
        resource: NODE_ROLE.to_owned(),
        name: node_role,
        trust: Trust::Service(vec!["ec2.amazonaws.com".to_owned()]),
        description: format!("Nodes Karpenter launches for {cluster} (ekspec)"),
        // In an IPv6 cluster the CNI on Karpenter's nodes needs the IPv6 policy instead of
        // AmazonEKS_CNI_Policy, as on the node groups' nodes.
        policies: node_policies(&partition, minor)
            .into_iter()
            .filter(|arn| !(ipv6 && arn.ends_with("/AmazonEKS_CNI_Policy")))
            .collect(),
        inline: ipv6.then(|| super::iam::cni_ipv6_policy(&partition)),
        after: Vec::new(),
    };
    plan_role(p, node, None);
    plan_role(p, controller, None);
    plan_security_group_tag(p, cluster, true);
    plan_spot_service_linked_role(p);
}

/// EC2 Spot's service-linked role, which an account has once it launched a spot instance:
/// without it Karpenter's first spot launch fails (AuthFailure.
/// ServiceLinkedRoleCreationNotPermitted: its controller policy may not create it;
/// terraform-aws-eks#2565, eksctl#6064), so the guide creates it (step06-add-spot-role.sh).
/// Made when missing; never deleted: it is the account's, and other tools use it.
fn plan_spot_service_linked_role(p: &mut Planning<'_>) {
    if p.observed.spot_service_linked_role == Some(false) {
        p.push(
            Change::new(
                SPOT_SERVICE_LINKED_ROLE,
                ChangeKind::Create,
                vec![Operation::CreateServiceLinkedRole {
                    service: "spot.amazonaws.com".to_owned(),
                }],
            )
            .id(naming::SPOT_SERVICE_LINKED_ROLE)
            .reason("the account has never launched a spot instance: Karpenter's first spot launch needs EC2 Spot's service-linked role, which its own policy may not create; it stays the account's (never deleted)"),
        );
    }
}

/// Adds the discovery tag to the security group EKS made for the cluster, or removes the one
/// ekspec added once `karpenter` is gone from the spec (a live Karpenter would otherwise keep
/// discovering it for nodes whose role no longer exists).
fn plan_security_group_tag(p: &mut Planning<'_>, cluster: &str, wanted: bool) {
    let desired = discovery_tag(cluster);
    match (&p.observed.cluster_security_group, wanted) {
        (Some(live), true) => {
            let (missing, fields) = tag_drift(&live.tags, &desired);
            if !missing.is_empty() {
                p.push(
                    Change::new(
                        CLUSTER_SECURITY_GROUP,
                        ChangeKind::Update,
                        vec![Operation::TagEc2 {
                            ids: vec![Ref::Value(live.id.clone())],
                            tags: missing,
                        }],
                    )
                    .id(&live.id)
                    .fields(fields)
                    .after(["cluster"]),
                );
            }
        }
        // The cluster (and so its group) is made by this plan: tagged once it exists.
        (None, true) if p.changes().iter().any(|c| c.resource == "cluster") => p.push(
            Change::new(
                CLUSTER_SECURITY_GROUP,
                ChangeKind::Update,
                vec![Operation::TagEc2 {
                    ids: vec![Ref::output("cluster", "security-group")],
                    tags: desired.clone(),
                }],
            )
            .fields(
                desired
                    .iter()
                    .map(|(k, v)| crate::plan::FieldChange {
                        field: format!("tags.{k}"),
                        old: None,
                        new: Some(v.clone()),
                    })
                    .collect(),
            )
            .after(["cluster"]),
        ),
        (Some(live), false) => {
            if let Some(change) =
                untag_change(CLUSTER_SECURITY_GROUP, &live.id, &live.tags, cluster)
            {
                p.push(change);
            }
        }
        _ => {}
    }
}

/// A change removing `cluster`'s discovery tag from an EC2 resource that has it.
pub fn untag_change(resource: &str, id: &str, live: &Tags, cluster: &str) -> Option<Change> {
    let value = live.get(KARPENTER_DISCOVERY_TAG)?;
    (value == cluster).then(|| {
        Change::new(
            resource,
            ChangeKind::Update,
            vec![Operation::UntagEc2 {
                ids: vec![Ref::Value(id.to_owned())],
                tags: discovery_tag(cluster),
            }],
        )
        .id(id)
        .fields(vec![crate::plan::FieldChange {
            field: format!("tags.{KARPENTER_DISCOVERY_TAG}"),
            old: Some(value.clone()),
            new: None,
        }])
        .reason("spec.karpenter is gone: Karpenter no longer discovers it")
    })
}

/// Cleans up what a running Karpenter launched, when its node role is deleted (the section
/// left the spec, or the cluster is deleted): the instances (their interfaces block the
/// subnets and the cluster security group), their launch templates, and the instance profiles
/// Karpenter made for the node role (IAM refuses to delete a role still in one:
/// DeleteConflict, "Cannot delete entity, must remove roles from instance profile first",
/// awslabs/eksdemo#148). Karpenter does not clean these up itself when the cluster goes
/// (aws/karpenter-provider-aws#1955).
pub fn leftovers_change(p: &Planning<'_>, region: &str) -> Option<Change> {
    let cluster = p.cluster_name()?;
    let role = p
        .observed
        .roles
        .iter()
        .find(|r| p.owned(&r.tags) == Some(NODE_ROLE) && !p.is_desired(NODE_ROLE))?;
    Some(
        Change::new(
            KARPENTER_LEFTOVERS,
            ChangeKind::Delete,
            vec![Operation::DeleteKarpenterLeftovers {
                cluster: cluster.to_owned(),
                region: region.to_owned(),
                node_role: role.name.clone(),
            }],
        )
        .id(&role.name)
        .reason(
            "Karpenter's node role goes: the instances Karpenter launched with it are terminated, and its launch templates and instance profiles deleted",
        ),
    )
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::resources::Observed;
    use crate::resources::planner::plan as plan_cluster;
    use crate::spec::ClusterFile;

    /// The IAM side of the guide's CloudFormation template per docs version, rendered by
    /// tests/fixtures/karpenter-cloudformation.py from aws/karpenter-provider-aws (commit
    /// 1d927085, the v1.x docs folders and their release tags) for cluster `demo` in
    /// us-east-1, account 111122223333.
    const DOCUMENTED: &str = include_str!("../../tests/fixtures/karpenter-cloudformation.json");

    const NODE_ROLE_ARN: &str = "arn:aws:iam::111122223333:role/ekspec/demo/demo-karpenter-node";
    const QUEUE_ARN: &str = "arn:aws:sqs:us-east-1:111122223333:demo-karpenter";

    fn scope(queue: bool) -> PolicyScope<'static> {
        PolicyScope {
            cluster: "demo",
            partition: "aws",
            region: "us-east-1",
            account: "111122223333",
            node_role_arn: NODE_ROLE_ARN,
            queue_arn: queue.then_some(QUEUE_ARN),
        }
    }

    fn by_sid(policy: &Value) -> BTreeMap<String, Value> {
        policy["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| (s["Sid"].as_str().unwrap().to_owned(), s.clone()))
            .collect()
    }

    #[test]
    fn the_policies_are_the_documented_ones_for_every_version() {
        let documented: BTreeMap<String, Value> = serde_json::from_str(DOCUMENTED).unwrap();
        assert_eq!(documented.len(), 15);
        for (version, docs) in &documented {
            let minor: u32 = version.trim_start_matches("1.").parse().unwrap();
            let want: BTreeMap<String, Value> = docs["controllerStatements"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| (s["Sid"].as_str().unwrap().to_owned(), s.clone()))
                .collect();
            let have = by_sid(&controller_policy(&scope(true), minor));
            assert_eq!(
                have.keys().collect::<Vec<_>>(),
                want.keys().collect::<Vec<_>>(),
                "statements of {version}"
            );
            for (sid, statement) in &want {
                assert_eq!(&have[sid], statement, "{sid} of {version}");
            }
            assert_eq!(
                serde_json::to_value(node_policies("aws", minor)).unwrap(),
                docs["nodePolicies"],
                "node role of {version}"
            );
        }
        // A version newer than the docs this was written from gets the newest policy.
        assert_eq!(
            controller_policy(&scope(true), 40),
            controller_policy(&scope(true), 14)
        );
    }

    #[test]
    fn without_the_queue_there_is_no_queue_statement() {
        let statements = by_sid(&controller_policy(&scope(false), 8));
        assert!(!statements.contains_key("AllowInterruptionQueueActions"));
        assert!(statements.contains_key("AllowAPIServerEndpointDiscovery"));
    }

    fn file(extra: &str) -> ClusterFile {
        let text = format!(
            "apiVersion: ekspec/v1alpha1\nkind: Cluster\nmetadata: {{name: demo, region: eu-west-1}}\nspec:\n  kubernetesVersion: \"1.31\"\n  vpc: {{availabilityZones: [eu-west-1a, eu-west-1b], natGateway: none}}\n  nodeGroups: [{{name: system, instanceTypes: [m6i.large], minSize: 1, maxSize: 3}}]\n  addons: [{{name: eks-pod-identity-agent}}]\n{extra}"
        );
        let report = crate::spec::parse_str("t.yaml", &text);
        report
            .spec
            .unwrap_or_else(|| panic!("{:#?}", report.diagnostics))
    }

    fn observed(partition: &str) -> Observed {
        Observed {
            account: "444455556666".to_owned(),
            caller_partition: partition.to_owned(),
            ..Observed::default()
        }
    }

    /// Every ARN in a policy document (Resource values and condition values that are ARNs).
    fn arns(value: &Value, found: &mut Vec<String>) {
        match value {
            Value::String(s) if s.starts_with("arn:") => found.push(s.clone()),
            Value::Array(items) => items.iter().for_each(|v| arns(v, found)),
            Value::Object(map) => map.values().for_each(|v| arns(v, found)),
            _ => {}
        }
    }

    #[test]
    fn the_roles_are_scoped_to_the_cluster_partition_and_account() {
        let file = file("  karpenter: {version: \"1.8.1\"}\n");
        let plan = plan_cluster(&file, &observed("aws-cn"));
        let create = |resource: &str| {
            plan.changes
                .iter()
                .find(|c| c.resource == resource)
                .and_then(|c| match c.operations.first() {
                    Some(Operation::CreateRole {
                        name,
                        trust,
                        policies,
                        inline,
                        ..
                    }) => Some((
                        name.clone(),
                        trust.clone(),
                        policies.clone(),
                        inline.clone(),
                    )),
                    _ => None,
                })
                .unwrap_or_else(|| panic!("no create of {resource}"))
        };
        let (name, trust, policies, inline) = create(NODE_ROLE);
        assert_eq!(name, "demo-karpenter-node");
        assert_eq!(trust, Trust::Service(vec!["ec2.amazonaws.com".to_owned()]));
        assert!(inline.is_none());
        assert_eq!(policies.len(), 4);
        assert!(
            policies
                .iter()
                .all(|p| p.starts_with("arn:aws-cn:iam::aws:policy/")),
            "{policies:?}"
        );
        let (name, trust, policies, inline) = create(CONTROLLER_ROLE);
        assert_eq!(name, "demo-karpenter");
        assert_eq!(trust, Trust::PodIdentity);
        assert!(policies.is_empty());
        let policy = inline.unwrap();
        let mut found = Vec::new();
        arns(&policy, &mut found);
        assert!(found.len() > 20, "{found:?}");
        for arn in &found {
            let parts: Vec<&str> = arn.splitn(6, ':').collect();
            assert_eq!(parts.len(), 6, "{arn}");
            assert_eq!(parts[1], "aws-cn", "{arn}");
            assert!(!parts[2].is_empty() && !parts[5].is_empty(), "{arn}");
            // Regional services are in the cluster's region, and what is the account's in
            // its account (EC2 resources of any account, as the guide writes them).
            if ["eks", "sqs", "ssm", "ec2"].contains(&parts[2]) {
                assert_eq!(parts[3], "eu-west-1", "{arn}");
            }
            if ["eks", "sqs", "iam"].contains(&parts[2]) && !arn.contains(":iam::aws:") {
                assert_eq!(parts[4], "444455556666", "{arn}");
            }
        }
        let statements = by_sid(&policy);
        assert_eq!(
            statements["AllowPassingInstanceRole"]["Resource"],
            "arn:aws-cn:iam::444455556666:role/ekspec/demo/demo-karpenter-node"
        );
        assert_eq!(
            statements["AllowInterruptionQueueActions"]["Resource"],
            "arn:aws-cn:sqs:eu-west-1:444455556666:demo-karpenter"
        );
        assert_eq!(
            statements["AllowScopedDeletion"]["Condition"]["StringEquals"]["aws:ResourceTag/kubernetes.io/cluster/demo"],
            "owned"
        );
        // The node role's access entry comes with it, after it and the cluster.
        let entry = plan
            .changes
            .iter()
            .find(|c| {
                c.resource
                    == "access-entry/arn:aws-cn:iam::444455556666:role/ekspec/demo/demo-karpenter-node"
            })
            .unwrap();
        assert!(matches!(
            entry.operations.as_slice(),
            [Operation::CreateAccessEntry { entry_type: Some(kind), tags, .. }]
                if kind == "EC2_LINUX" && tags.contains_key(naming::CLUSTER_TAG)
        ));
        assert!(entry.after.contains(&NODE_ROLE.to_owned()));
        // The private subnets carry the discovery tag from their create; the public ones not.
        for change in &plan.changes {
            if let Some(Operation::CreateSubnet { public, tags, .. }) = change.operations.first() {
                assert_eq!(
                    tags.get(KARPENTER_DISCOVERY_TAG).map(String::as_str),
                    (!public).then_some("demo"),
                    "{}",
                    change.resource
                );
            }
        }
        // The cluster security group is tagged once the cluster exists.
        let group = plan
            .changes
            .iter()
            .find(|c| c.resource == CLUSTER_SECURITY_GROUP)
            .unwrap();
        assert!(matches!(
            group.operations.as_slice(),
            [Operation::TagEc2 { ids, tags }]
                if ids == &[Ref::output("cluster", "security-group")] && tags == &discovery_tag("demo")
        ));
    }

    #[test]
    fn no_karpenter_no_karpenter_resources() {
        let plan = plan_cluster(&file(""), &observed("aws"));
        for change in &plan.changes {
            assert!(
                !change.resource.contains("karpenter") && change.resource != CLUSTER_SECURITY_GROUP,
                "{}",
                change.resource
            );
            if let Some(Operation::CreateSubnet { tags, .. }) = change.operations.first() {
                assert!(!tags.contains_key(KARPENTER_DISCOVERY_TAG));
            }
        }
    }

    /// A BYO network whose private subnets carry `private_tag` (discovery tag value).
    fn byo(karpenter: bool, private_tag: Option<&str>) -> (ClusterFile, Observed) {
        let section = if karpenter {
            "  karpenter: {version: \"1.0.0\"}\n"
        } else {
            ""
        };
        let text = format!(
            "apiVersion: ekspec/v1alpha1\nkind: Cluster\nmetadata: {{name: demo, region: eu-west-1}}\nspec:\n  kubernetesVersion: \"1.31\"\n  vpc: {{id: vpc-0123abcd, subnets: {{private: [subnet-0123abcd, subnet-4567abcd], public: [subnet-89abcdef]}}}}\n  nodeGroups: [{{name: system, instanceTypes: [m6i.large], minSize: 1, maxSize: 3}}]\n  addons: [{{name: eks-pod-identity-agent}}]\n{section}"
        );
        let report = crate::spec::parse_str("t.yaml", &text);
        let file = report
            .spec
            .unwrap_or_else(|| panic!("{:#?}", report.diagnostics));
        let subnet = |id: &str, zone: &str, public: bool| {
            let mut tags = crate::resources::network::kubernetes_subnet_tags("demo", public);
            if let (false, Some(value)) = (public, private_tag) {
                tags.insert(KARPENTER_DISCOVERY_TAG.to_owned(), value.to_owned());
            }
            crate::cloud::ObservedSubnet {
                id: id.to_owned(),
                vpc_id: "vpc-0123abcd".to_owned(),
                cidr: "10.0.0.0/20".to_owned(),
                availability_zone: zone.to_owned(),
                map_public_ip_on_launch: public,
                tags,
                ipv6_cidr: None,
                assign_ipv6_address_on_creation: false,
            }
        };
        let observed = Observed {
            existing_vpc: Some(crate::cloud::ObservedVpc {
                id: "vpc-0123abcd".to_owned(),
                cidr: "10.0.0.0/16".to_owned(),
                tags: Tags::new(),
                ipv6_cidr: None,
            }),
            existing_subnets: vec![
                subnet("subnet-0123abcd", "eu-west-1a", false),
                subnet("subnet-4567abcd", "eu-west-1b", false),
                subnet("subnet-89abcdef", "eu-west-1a", true),
            ],
            ..observed("aws")
        };
        (file, observed)
    }

    fn subnet_changes(file: &ClusterFile, observed: &Observed) -> Vec<Change> {
        plan_cluster(file, observed)
            .changes
            .into_iter()
            .filter(|c| c.resource.starts_with("existing-subnet/"))
            .collect()
    }

    #[test]
    fn byo_private_subnets_get_the_discovery_tag_and_lose_it_with_karpenter() {
        let (file, observed) = byo(true, None);
        let changes = subnet_changes(&file, &observed);
        assert_eq!(changes.len(), 2, "{changes:#?}");
        for change in &changes {
            assert!(
                change.resource.contains("subnet-0123abcd")
                    || change.resource.contains("subnet-4567abcd")
            );
            assert!(matches!(
                change.operations.as_slice(),
                [Operation::TagEc2 { tags, .. }] if tags == &discovery_tag("demo")
            ));
        }
        // Tagged: nothing to do.
        let (file, observed) = byo(true, Some("demo"));
        assert!(subnet_changes(&file, &observed).is_empty());
        // The section gone: the tag this cluster's value goes, only where it is.
        let (file, observed) = byo(false, Some("demo"));
        let changes = subnet_changes(&file, &observed);
        assert_eq!(changes.len(), 2, "{changes:#?}");
        assert!(changes.iter().all(|c| matches!(
            c.operations.as_slice(),
            [Operation::UntagEc2 { tags, .. }] if tags == &discovery_tag("demo")
        )));
        // Another cluster's tag is neither taken over nor removed.
        let (file, observed) = byo(false, Some("other"));
        assert!(subnet_changes(&file, &observed).is_empty());
        let (file, observed) = byo(true, Some("other"));
        let changes = subnet_changes(&file, &observed);
        assert_eq!(changes.len(), 2);
        assert!(changes.iter().all(|c| {
            c.kind == ChangeKind::Impossible
                && c.reason
                    .as_deref()
                    .is_some_and(|r| r.contains("karpenter.sh/discovery=other"))
        }));
    }
}
