//! Names of the AWS resources ekspec derives from a spec, in one place.

use crate::cloud::Tags;

/// IAM limits role names to 64 characters.
pub const MAX_ROLE_NAME: usize = 64;

/// The tag that marks a resource as owned by a cluster.
pub const CLUSTER_TAG: &str = "ekspec.io/cluster";
/// The tag that holds a resource's logical id within its cluster.
pub const RESOURCE_TAG: &str = "ekspec.io/resource";
/// Tag prefix reserved for ekspec itself.
pub const RESERVED_TAG_PREFIX: &str = "ekspec.io/";
/// The tag the AWS Load Balancer Controller puts on its load balancers and target groups;
/// the value is the cluster name.
pub const LB_CONTROLLER_CLUSTER_TAG: &str = "elbv2.k8s.aws/cluster";

/// The tag EKS Auto Mode puts on everything it makes for a cluster (instances, launch
/// templates, load balancers, security groups; value: the cluster name): its managed policies
/// (AmazonEKSComputePolicy, AmazonEKSLoadBalancingPolicy) let it create only what carries
/// `aws:RequestTag/eks:eks-cluster-name`.
pub const AUTO_MODE_CLUSTER_TAG: &str = "eks:eks-cluster-name";

/// The tag key Kubernetes puts on what it makes for `cluster` (value `owned`) and on what it
/// may use (value `shared`).
pub fn kubernetes_cluster_tag(cluster: &str) -> String {
    format!("kubernetes.io/cluster/{cluster}")
}

/// Whether a load balancer or target group was made by Kubernetes for `cluster`: the in-tree
/// cloud provider tags `kubernetes.io/cluster/<cluster> = owned`, the AWS Load Balancer
/// Controller `elbv2.k8s.aws/cluster = <cluster>`, EKS Auto Mode `eks:eks-cluster-name =
/// <cluster>`. `shared` ones belong to someone else.
pub fn made_by_kubernetes_for(tags: &Tags, cluster: &str) -> bool {
    tags.get(&kubernetes_cluster_tag(cluster))
        .is_some_and(|value| value == "owned")
        || [LB_CONTROLLER_CLUSTER_TAG, AUTO_MODE_CLUSTER_TAG]
            .iter()
            .any(|key| tags.get(*key).is_some_and(|value| value == cluster))
}

/// IAM path of every role ekspec creates for `cluster`.
pub fn iam_path(cluster: &str) -> String {
    format!("/ekspec/{cluster}/")
}

/// Name of the EKS cluster service role.
pub fn cluster_role(cluster: &str) -> String {
    format!("{cluster}-cluster")
}

/// Name of the role the managed node groups' instances use.
pub fn node_role(cluster: &str) -> String {
    format!("{cluster}-node")
}

/// Name of the Fargate pod execution role.
pub fn fargate_role(cluster: &str) -> String {
    format!("{cluster}-fargate")
}

/// Name of the role the nodes Karpenter launches use.
pub fn karpenter_node_role(cluster: &str) -> String {
    format!("{cluster}-karpenter-node")
}

/// Name of the Karpenter controller's role.
pub fn karpenter_controller_role(cluster: &str) -> String {
    format!("{cluster}-karpenter")
}

/// Name of the role of the instances EKS Auto Mode launches.
pub fn auto_mode_node_role(cluster: &str) -> String {
    format!("{cluster}-auto-node")
}

/// SQS limits queue names to 80 characters.
pub const MAX_QUEUE_NAME: usize = 80;

/// EventBridge limits rule names to 64 characters.
pub const MAX_EVENT_RULE_NAME: usize = 64;

/// Name of Karpenter's interruption queue (the Helm chart's `settings.interruptionQueue`).
pub fn karpenter_queue(cluster: &str) -> String {
    format!("{cluster}-karpenter")
}

/// Name of the EventBridge rule that sends Karpenter one `kind` of event.
pub fn karpenter_event_rule(cluster: &str, kind: &str) -> String {
    format!("{cluster}-karpenter-{kind}")
}

/// The kinds of events Karpenter's interruption queue is fed, each by its own rule: the four
/// of its getting-started CloudFormation template since 1.0, and the capacity reservation
/// interruption warning it added in 1.10.
pub const KARPENTER_EVENT_KINDS: [&str; 5] = [
    "spot-interruption",
    "rebalance",
    "instance-state-change",
    "scheduled-change",
    "capacity-reservation",
];

/// The tag Karpenter's `EC2NodeClass` selects subnets and security groups by (value: the
/// cluster name), as its getting-started guide sets it.
pub const KARPENTER_DISCOVERY_TAG: &str = "karpenter.sh/discovery";

/// The service-linked role EC2 needs before the first spot launch of an account.
pub const SPOT_SERVICE_LINKED_ROLE: &str = "AWSServiceRoleForEC2Spot";

/// The tag Karpenter puts on the instances and launch templates it makes (value: the
/// NodePool); its controller policy lets it delete only what carries it.
pub const KARPENTER_NODEPOOL_TAG: &str = "karpenter.sh/nodepool";

/// The tag Karpenter puts on the instance profiles it makes (value: the EC2NodeClass).
pub const KARPENTER_NODE_CLASS_TAG: &str = "karpenter.k8s.aws/ec2nodeclass";

/// How the names of the instance profiles EKS makes start: AmazonEKSComputePolicy lets EKS
/// Auto Mode add a role only to `arn:aws:iam::*:instance-profile/eks*`.
pub const EKS_INSTANCE_PROFILE_PREFIX: &str = "eks";
/// The region tag Karpenter puts on the instance profiles it makes (IAM is global).
pub const KARPENTER_REGION_TAG: &str = "topology.kubernetes.io/region";

/// Every role name ekspec derives from the cluster name alone.
pub fn cluster_roles(cluster: &str, karpenter: bool) -> Vec<String> {
    let mut roles = vec![
        cluster_role(cluster),
        node_role(cluster),
        fargate_role(cluster),
    ];
    if karpenter {
        roles.extend([
            karpenter_node_role(cluster),
            karpenter_controller_role(cluster),
        ]);
    }
    roles
}

/// Default name of the IRSA role of a service account.
pub fn irsa_role(cluster: &str, namespace: &str, name: &str) -> String {
    format!("{cluster}-{namespace}-{name}")
}

/// Whether `name` uses only the characters IAM allows in role names.
pub fn is_valid_role_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_ROLE_NAME
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> Tags {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn load_balancers_of_kubernetes_are_told_by_their_tags() {
        let owned = tags(&[("kubernetes.io/cluster/demo", "owned")]);
        let controller = tags(&[("elbv2.k8s.aws/cluster", "demo")]);
        assert!(made_by_kubernetes_for(&owned, "demo"));
        assert!(made_by_kubernetes_for(&controller, "demo"));
        assert!(!made_by_kubernetes_for(&owned, "other"));
        assert!(!made_by_kubernetes_for(&controller, "other"));
        assert!(!made_by_kubernetes_for(
            &tags(&[("kubernetes.io/cluster/demo", "shared")]),
            "demo"
        ));
        assert!(!made_by_kubernetes_for(&Tags::new(), "demo"));
    }
}
