//! EKS Auto Mode: the node role its instances use, the cluster role's extra policies and
//! trust, and the cluster's compute, block storage and load balancing settings (planned by
//! `cluster` as part of the cluster).

use crate::cloud::{AutoMode, ObservedCluster};
use crate::naming;
use crate::plan::operation::Trust;
use crate::plan::{Change, ChangeKind, FieldChange, Operation};

use super::iam::{DesiredRole, aws_policy, plan_role};
use super::karpenter::role_arn;
use super::planner::Planning;

/// Logical id of the role of the instances Auto Mode launches.
pub const NODE_ROLE: &str = "role/auto-mode-node";

/// The managed policies the cluster role needs besides `AmazonEKSClusterPolicy` for Auto Mode
/// (EKS user guide, "Amazon EKS Auto Mode cluster IAM role").
pub const CLUSTER_POLICIES: [&str; 4] = [
    "AmazonEKSComputePolicy",
    "AmazonEKSBlockStoragePolicy",
    "AmazonEKSLoadBalancingPolicy",
    "AmazonEKSNetworkingPolicy",
];

/// The managed policies of the Auto Mode node role (EKS user guide, "Amazon EKS Auto Mode node
/// IAM role").
pub const NODE_POLICIES: [&str; 2] = [
    "AmazonEKSWorkerNodeMinimalPolicy",
    "AmazonEC2ContainerRegistryPullOnly",
];

/// The access policy EKS gives the node role's `EC2` access entry, which ekspec makes itself
/// when no built-in node pool is on (EKS makes it only with node pools:
/// terraform-aws-modules/terraform-aws-eks#3578).
pub const NODE_ACCESS_POLICY: &str = "AmazonEKSAutoNodePolicy";

/// Whether the cluster role needs Auto Mode's policies and session tags: while the spec
/// wants Auto Mode, and while the live cluster still runs it (they go once it is off).
pub fn cluster_role_needs_it(p: &Planning<'_>) -> bool {
    p.file.is_some_and(|f| f.spec.auto_mode().is_some())
}

/// Whether the live cluster runs Auto Mode the spec turns off (its roles' changes then wait
/// for the cluster's update: EKS cleans up with them).
pub fn turning_off(p: &Planning<'_>) -> bool {
    !cluster_role_needs_it(p)
        && p.observed
            .cluster
            .as_ref()
            .is_some_and(|c| c.auto_mode.is_some())
}

/// The Auto Mode the spec wants for the cluster, with the node role's ARN (made by
/// [`plan_node_role`]).
pub fn desired(p: &Planning<'_>) -> Option<AutoMode> {
    let file = p.file?;
    let auto_mode = file.spec.auto_mode()?;
    let cluster = &file.metadata.name;
    let mut node_pools: Vec<String> = auto_mode
        .node_pools
        .iter()
        .map(|pool| pool.eks_name().to_owned())
        .collect();
    node_pools.sort();
    node_pools.dedup();
    let node_role_arn = (!node_pools.is_empty())
        .then(|| role_arn(p, NODE_ROLE, &naming::auto_mode_node_role(cluster), cluster));
    Some(AutoMode {
        node_pools,
        node_role_arn,
    })
}

/// Plans the Auto Mode node role, and its access entry when EKS does not make it.
pub fn plan_node_role(p: &mut Planning<'_>) {
    let Some(file) = p.file else {
        return;
    };
    let Some(auto_mode) = file.spec.auto_mode() else {
        return;
    };
    let cluster = file.metadata.name.clone();
    let partition = p.observed.partition().to_owned();
    plan_role(
        p,
        DesiredRole {
            resource: NODE_ROLE.to_owned(),
            name: naming::auto_mode_node_role(&cluster),
            trust: Trust::Service(vec!["ec2.amazonaws.com".to_owned()]),
            description: format!("Nodes EKS Auto Mode launches for {cluster} (ekspec)"),
            policies: NODE_POLICIES
                .iter()
                .map(|n| aws_policy(&partition, n))
                .collect(),
            inline: None,
            after: Vec::new(),
        },
        None,
    );
    if auto_mode.node_pools.is_empty() {
        plan_node_access_entry(p, &cluster, &partition);
    } else {
        // Made while there were no node pools: kept, EKS would make the same.
        let arn = role_arn(
            p,
            NODE_ROLE,
            &naming::auto_mode_node_role(&cluster),
            &cluster,
        );
        let resource = super::access::resource_id(&arn);
        if p.observed
            .access_entries
            .iter()
            .any(|e| e.principal_arn == arn && p.owned(&e.tags) == Some(resource.as_str()))
        {
            p.desire(&resource);
        }
    }
}

/// Without built-in node pools EKS gets no node role and makes no access entry, so the nodes of
/// the user's own `NodePool`s (whose `NodeClass` names the role) could not join: ekspec makes
/// the `EC2` entry with `AmazonEKSAutoNodePolicy`, as EKS does for its own pools.
fn plan_node_access_entry(p: &mut Planning<'_>, cluster: &str, partition: &str) {
    let arn = role_arn(p, NODE_ROLE, &naming::auto_mode_node_role(cluster), cluster);
    let resource = super::access::resource_id(&arn);
    if p.file
        .is_some_and(|f| f.spec.access_entries.iter().any(|e| e.principal_arn == arn))
    {
        return;
    }
    p.desire(&resource);
    let Some(file) = p.file else {
        return;
    };
    let tags = super::owned_tags(file, &resource, &crate::cloud::Tags::new());
    if p.observed
        .access_entries
        .iter()
        .any(|e| e.principal_arn == arn && e.entry_type == "EC2")
    {
        return;
    }
    let policy = format!("arn:{partition}:eks::aws:cluster-access-policy/{NODE_ACCESS_POLICY}");
    p.push(
        Change::new(
            &resource,
            ChangeKind::Create,
            vec![
                Operation::CreateAccessEntry {
                    cluster: cluster.to_owned(),
                    principal: arn.clone(),
                    groups: Vec::new(),
                    username: None,
                    entry_type: Some("EC2".to_owned()),
                    tags,
                },
                Operation::AssociateAccessPolicy {
                    cluster: cluster.to_owned(),
                    principal: arn.clone(),
                    policy: crate::cloud::AccessPolicy {
                        policy_arn: policy,
                        namespaces: None,
                    },
                },
            ],
        )
        .id(&arn)
        .reason("no built-in node pool: EKS makes no access entry for the Auto Mode node role, which your own NodeClass names")
        .after([NODE_ROLE, "cluster"]),
    );
}

/// The in-place change of the live cluster's Auto Mode to `want`, if any: its operation and
/// field, or the reason EKS cannot make it.
pub fn update(
    live: &ObservedCluster,
    want: Option<&AutoMode>,
) -> Result<Option<(Operation, FieldChange)>, (String, FieldChange)> {
    let name = live.name.clone();
    let operation = |auto_mode: Option<&AutoMode>| Operation::UpdateClusterConfig {
        name: name.clone(),
        change: crate::cloud::ClusterConfigChange::AutoMode(auto_mode.cloned()),
    };
    match (&live.auto_mode, want) {
        (None, None) => Ok(None),
        (None, Some(want)) => Ok(Some((
            operation(Some(want)),
            FieldChange::new("spec.autoMode.enabled", false, true),
        ))),
        (Some(_), None) => Ok(Some((
            operation(None),
            FieldChange::new("spec.autoMode.enabled", true, false),
        ))),
        (Some(have), Some(want)) => {
            if let (Some(had), Some(wanted)) = (&have.node_role_arn, &want.node_role_arn)
                && had != wanted
            {
                return Err((
                    format!(
                        "EKS cannot change the node role of Auto Mode once it is on (the cluster's is {had}): turn Auto Mode off and on again (an apply each), or create a new cluster"
                    ),
                    FieldChange::new("computeConfig.nodeRoleArn", had, wanted),
                ));
            }
            if have.node_pools == want.node_pools {
                return Ok(None);
            }
            Ok(Some((
                operation(Some(want)),
                FieldChange::new(
                    "spec.autoMode.nodePools",
                    have.node_pools.join(","),
                    want.node_pools.join(","),
                ),
            )))
        }
    }
}
