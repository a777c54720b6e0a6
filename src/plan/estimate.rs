//! How long a plan takes: AWS's time model and the critical path of a plan under it.
//!
//! Durations are AWS's own typical figures in minutes. `plan --graph` runs the model at real
//! scale (one minute is a minute); the bench (BENCHMARKS.md) at a simulated scale, where one
//! minute takes `minute` of real time (a 9-minute control plane takes 0.9 s at 100 ms).

use std::collections::HashMap;
use std::time::Duration;

use super::{Change, ChangeKind, Operation, Plan, chain};
use crate::cloud::Ec2Kind;

/// How long AWS keeps each asynchronous resource in a transitional state, in simulated minutes.
#[derive(Debug, Clone, Copy)]
pub struct TimeModel {
    /// Real time of one simulated minute.
    pub minute: Duration,
    /// EKS control plane: CREATING.
    pub cluster_create: f64,
    /// Control plane: UPDATING after an endpoint or logging change.
    pub cluster_config: f64,
    /// Control plane: UPDATING during a Kubernetes version upgrade.
    pub cluster_version: f64,
    /// Control plane: DELETING.
    pub cluster_delete: f64,
    /// Managed node group: CREATING.
    pub node_group_create: f64,
    /// Node group: UPDATING after a scaling, label or taint change.
    pub node_group_config: f64,
    /// Node group: UPDATING during a version update (a rolling replacement of the nodes).
    pub node_group_version: f64,
    /// Node group: DELETING.
    pub node_group_delete: f64,
    /// NAT gateway: pending.
    pub nat_create: f64,
    /// NAT gateway: deleting.
    pub nat_delete: f64,
    /// Fargate profile: CREATING.
    pub fargate_create: f64,
    /// Fargate profile: DELETING.
    pub fargate_delete: f64,
}

impl TimeModel {
    /// AWS's typical figures (control plane ~9 min, node group ~3 min, NAT ~1.5 min, node
    /// group version update ~10 min, deletions alike); the config updates and Fargate
    /// figures are our estimates.
    pub fn aws(minute: Duration) -> Self {
        Self {
            minute,
            cluster_create: 9.0,
            cluster_config: 3.0,
            cluster_version: 9.0,
            cluster_delete: 9.0,
            node_group_create: 3.0,
            node_group_config: 1.0,
            node_group_version: 10.0,
            node_group_delete: 3.0,
            nat_create: 1.5,
            nat_delete: 1.5,
            fargate_create: 2.5,
            fargate_delete: 2.5,
        }
    }

    /// Real time of `minutes` simulated minutes.
    pub fn real(&self, minutes: f64) -> Duration {
        self.minute.mul_f64(minutes)
    }

    /// Simulated minutes of a real duration.
    pub fn minutes(&self, real: Duration) -> f64 {
        real.as_secs_f64() / self.minute.as_secs_f64()
    }

    /// How long AWS keeps what `op` creates, changes or deletes in a transitional state.
    pub fn transition(&self, op: &Operation) -> f64 {
        match op {
            Operation::CreateNatGateway { .. } => self.nat_create,
            Operation::DeleteEc2 {
                kind: Ec2Kind::NatGateway,
                ..
            } => self.nat_delete,
            Operation::CreateCluster { .. } => self.cluster_create,
            Operation::UpdateClusterConfig { .. } | Operation::AssociateEncryptionConfig { .. } => {
                self.cluster_config
            }
            Operation::UpdateClusterVersion { .. } => self.cluster_version,
            Operation::DeleteCluster { .. } => self.cluster_delete,
            Operation::CreateNodeGroup { .. } => self.node_group_create,
            Operation::UpdateNodeGroup { .. } => self.node_group_config,
            Operation::UpdateNodeGroupVersion { .. }
            | Operation::UpdateNodeGroupLaunchTemplate { .. } => self.node_group_version,
            Operation::DeleteNodeGroup { .. } => self.node_group_delete,
            Operation::CreateFargateProfile { .. } => self.fargate_create,
            Operation::DeleteFargateProfile { .. } => self.fargate_delete,
            _ => 0.0,
        }
    }
}

/// The AWS calls `op` makes one after another when nothing is in a transitional state: the
/// mutating calls, plus the one read that finds a wait already settled. Of calls the AWS layer
/// makes concurrently, one is named. `*` stands for a call of any kind.
pub fn api_calls(op: &Operation) -> Vec<&'static str> {
    match op {
        // ModifyVpcAttribute takes one attribute per call.
        Operation::CreateVpc { .. } => {
            vec!["CreateVpc", "ModifyVpcAttribute", "ModifyVpcAttribute"]
        }
        Operation::CreateSubnet { public: true, .. } => {
            vec!["CreateSubnet", "ModifySubnetAttribute"]
        }
        Operation::CreateSubnet { .. } => vec!["CreateSubnet"],
        Operation::CreateInternetGateway { .. } => {
            vec!["CreateInternetGateway", "AttachInternetGateway"]
        }
        Operation::AllocateAddress { .. } => vec!["AllocateAddress"],
        Operation::CreateNatGateway { .. } => vec!["CreateNatGateway", "DescribeNatGateways"],
        Operation::CreateRouteTable { .. } => vec!["CreateRouteTable"],
        Operation::SetDefaultRoute { .. } => vec!["CreateRoute"],
        Operation::AssociateRouteTable { .. } => vec!["AssociateRouteTable"],
        Operation::DisassociateRouteTable { .. } => vec!["DisassociateRouteTable"],
        Operation::DeleteDefaultRoute { .. } => vec!["DeleteRoute"],
        // The state read, the association, the read that finds it associated, the block.
        Operation::AssociateVpcIpv6Cidr { .. } => vec![
            "DescribeVpcs",
            "AssociateVpcCidrBlock",
            "DescribeVpcs",
            "DescribeVpcs",
        ],
        Operation::EnableSubnetIpv6 {
            vpc_block: Some(_), ..
        } => vec!["AssociateSubnetCidrBlock", "ModifySubnetAttribute"],
        Operation::EnableSubnetIpv6 { .. } => vec!["ModifySubnetAttribute"],
        Operation::CreateEgressOnlyInternetGateway { .. } => {
            vec!["CreateEgressOnlyInternetGateway"]
        }
        Operation::SetDefaultIpv6Route { .. } => vec!["CreateRoute"],
        Operation::TagEc2 { .. } => vec!["CreateTags"],
        Operation::UntagEc2 { .. } => vec!["DeleteTags"],
        Operation::TagOidcProvider { .. } => vec!["TagOpenIDConnectProvider"],
        Operation::TagEks { .. } => vec!["TagResource"],
        Operation::CreateLaunchTemplate { .. } => vec!["CreateLaunchTemplate"],
        Operation::CreateLaunchTemplateVersion { .. } => vec!["CreateLaunchTemplateVersion"],
        Operation::CreateRole {
            policies, inline, ..
        } => {
            let mut calls = vec!["CreateRole"];
            calls.extend(policies.iter().map(|_| "AttachRolePolicy"));
            calls.extend(inline.iter().map(|_| "PutRolePolicy"));
            calls
        }
        Operation::UpdateTrust { .. } => vec!["UpdateAssumeRolePolicy"],
        Operation::AttachPolicy { .. } => vec!["AttachRolePolicy"],
        Operation::DetachPolicy { .. } => vec!["DetachRolePolicy"],
        Operation::PutInlinePolicy { .. } => vec!["PutRolePolicy"],
        Operation::DeleteInlinePolicy { .. } => vec!["DeleteRolePolicy"],
        Operation::TagRole { .. } => vec!["TagRole"],
        Operation::CreateServiceLinkedRole { .. } => vec!["CreateServiceLinkedRole"],
        Operation::CreateCluster { .. } => vec!["CreateCluster", "DescribeCluster"],
        // Wait for ACTIVE, update, the update's status, ACTIVE again.
        Operation::UpdateClusterConfig { .. } => vec![
            "DescribeCluster",
            "UpdateClusterConfig",
            "DescribeUpdate",
            "DescribeCluster",
        ],
        Operation::UpdateClusterVersion { .. } => vec![
            "DescribeCluster",
            "UpdateClusterVersion",
            "DescribeUpdate",
            "DescribeCluster",
        ],
        Operation::AssociateEncryptionConfig { .. } => vec![
            "DescribeCluster",
            "AssociateEncryptionConfig",
            "DescribeUpdate",
            "DescribeCluster",
        ],
        Operation::UpdateNodeGroupVersion { .. }
        | Operation::UpdateNodeGroupLaunchTemplate { .. } => vec![
            "DescribeNodegroup",
            "UpdateNodegroupVersion",
            "DescribeUpdate",
            "DescribeNodegroup",
        ],
        Operation::CreateAddon { .. } => vec!["CreateAddon", "DescribeAddon"],
        Operation::UpdateAddon { .. } => {
            vec![
                "DescribeAddon",
                "UpdateAddon",
                "DescribeUpdate",
                "DescribeAddon",
            ]
        }
        Operation::DeleteAddon { .. } => vec!["DeleteAddon", "DescribeAddon"],
        Operation::CreateAccessEntry { .. } => vec!["CreateAccessEntry"],
        Operation::UpdateAccessEntry { .. } => vec!["UpdateAccessEntry"],
        Operation::AssociateAccessPolicy { .. } => vec!["AssociateAccessPolicy"],
        Operation::DisassociateAccessPolicy { .. } => vec!["DisassociateAccessPolicy"],
        Operation::DeleteAccessEntry { .. } => vec!["DeleteAccessEntry"],
        Operation::CreatePodIdentityAssociation { .. } => vec!["CreatePodIdentityAssociation"],
        Operation::UpdatePodIdentityAssociation { .. } => vec!["UpdatePodIdentityAssociation"],
        Operation::DeletePodIdentityAssociation { .. } => vec!["DeletePodIdentityAssociation"],
        // The issuer is known from the cluster's own wait.
        Operation::CreateOidcProvider { .. } => vec!["CreateOpenIDConnectProvider"],
        Operation::CreateNodeGroup { .. } => vec!["CreateNodegroup", "DescribeNodegroup"],
        Operation::UpdateNodeGroup { .. } => {
            vec![
                "DescribeNodegroup",
                "UpdateNodegroupConfig",
                "DescribeUpdate",
                "DescribeNodegroup",
            ]
        }
        // The replacement's ACTIVE state first, when there is one.
        Operation::DeleteNodeGroup { replaced_by, .. } => {
            let mut calls: Vec<&'static str> =
                replaced_by.iter().map(|_| "DescribeNodegroup").collect();
            calls.extend(["DeleteNodegroup", "DescribeNodegroup"]);
            calls
        }
        Operation::CreateFargateProfile { .. } => {
            vec!["CreateFargateProfile", "DescribeFargateProfile"]
        }
        Operation::DeleteFargateProfile { .. } => {
            vec!["DeleteFargateProfile", "DescribeFargateProfile"]
        }
        Operation::DeleteCluster { .. } => vec!["DeleteCluster", "DescribeCluster"],
        // The policy listings (concurrent), the detaches (concurrent), the delete.
        Operation::DeleteRole { .. } => {
            vec!["ListAttachedRolePolicies", "DetachRolePolicy", "DeleteRole"]
        }
        // Nothing to delete: the listing that finds nothing.
        Operation::DeleteAutoModeInstanceProfiles { .. } => vec!["ListInstanceProfilesForRole"],
        Operation::DeleteOidcProvider { .. } => vec!["DeleteOpenIDConnectProvider"],
        Operation::DetachInternetGateway { .. } => vec!["DetachInternetGateway"],
        Operation::RevokeGroupRules { rules, .. } => {
            let ingress = rules.iter().any(|r| r.ingress);
            let egress = rules.iter().any(|r| !r.ingress);
            [
                ingress.then_some("RevokeSecurityGroupIngress"),
                egress.then_some("RevokeSecurityGroupEgress"),
            ]
            .into_iter()
            .flatten()
            .collect()
        }
        Operation::DeleteEc2 { kind, .. } => match kind {
            Ec2Kind::Vpc => vec!["DeleteVpc"],
            Ec2Kind::Subnet => vec!["DeleteSubnet"],
            Ec2Kind::InternetGateway => vec!["DeleteInternetGateway"],
            Ec2Kind::Address => vec!["ReleaseAddress"],
            Ec2Kind::NatGateway => vec!["DeleteNatGateway", "DescribeNatGateways"],
            Ec2Kind::RouteTable => vec!["DeleteRouteTable"],
            Ec2Kind::LaunchTemplate => vec!["DeleteLaunchTemplate"],
            Ec2Kind::SecurityGroup => vec!["DeleteSecurityGroup"],
            Ec2Kind::NetworkInterface => vec!["DeleteNetworkInterface"],
            Ec2Kind::EgressOnlyInternetGateway => vec!["DeleteEgressOnlyInternetGateway"],
        },
        // Security groups, interfaces and load balancers are read concurrently.
        Operation::DeleteLeftovers { .. } => vec!["DescribeSecurityGroups"],
        // Nothing left: the reads that find nothing, made concurrently.
        Operation::DeleteKarpenterLeftovers { .. } => {
            vec!["DescribeInstances", "ListInstanceProfilesForRole"]
        }
        Operation::CreateQueue { .. } => vec!["CreateQueue"],
        Operation::SetQueueAttributes { .. } => vec!["SetQueueAttributes"],
        Operation::TagQueue { .. } => vec!["TagQueue"],
        Operation::DeleteQueue { .. } => vec!["DeleteQueue"],
        Operation::PutRule { .. } => vec!["PutRule"],
        Operation::PutTargets { .. } => vec!["PutTargets"],
        Operation::RemoveTargets { .. } => vec!["RemoveTargets"],
        Operation::TagRule { .. } => vec!["TagResource"],
        Operation::DeleteRule { .. } => vec!["DeleteRule"],
    }
}

/// A plan's duration under the model.
#[derive(Debug, Clone)]
pub struct PathFigures {
    /// The longest chain of dependent changes.
    pub critical: Duration,
    /// Every change one after another.
    pub sequential: Duration,
    /// Modeled calls of the whole plan.
    pub calls: usize,
    /// The changes on the critical path, first to last.
    pub path: Vec<String>,
    /// When each change of the plan ends under the model.
    pub ends: HashMap<String, Duration>,
}

impl TimeModel {
    /// The model at real scale: one minute of the model is a minute.
    pub fn real_time() -> Self {
        Self::aws(Duration::from_secs(60))
    }
}

/// What one AWS call costs in `plan`'s estimate: a typical round trip from a CI runner in the
/// same region (the bench measures its own instead).
pub const CALL: Duration = Duration::from_millis(250);

/// A duration in whole minutes, rounded, and at least 1 when not zero (so a short plan does
/// not read as "0 min").
pub fn minutes(duration: Duration) -> u64 {
    let rounded = (duration.as_secs() + 30) / 60;
    if rounded == 0 && !duration.is_zero() {
        1
    } else {
        rounded
    }
}

/// The critical path and the sequential sum of `plan` when a call of each operation takes
/// `cost(name)` and each transitional state lasts what `model` says. The graph is the
/// executor's: a change waits for its `after` changes that are in the plan.
pub fn critical_path(
    plan: &Plan,
    model: &TimeModel,
    cost: impl Fn(&str) -> Duration,
) -> PathFigures {
    let mut calls = 0;
    let chain = longest_chain(plan, |change| {
        change
            .operations
            .iter()
            .map(|op| {
                let names = api_calls(op);
                calls += names.len();
                names.iter().map(|name| cost(name)).sum::<Duration>()
                    + model.real(model.transition(op))
            })
            .sum()
    });
    PathFigures {
        critical: chain.length,
        sequential: chain.sequential,
        calls,
        path: chain.path,
        ends: chain.ends,
    }
}

/// The longest chain through a plan's dependency graph.
#[derive(Debug, Clone, PartialEq)]
pub struct Chain {
    /// When the last change of the chain ends.
    pub length: Duration,
    /// Every change's own duration, one after another.
    pub sequential: Duration,
    /// The changes of the chain, first to last.
    pub path: Vec<String>,
    /// When each change ends if it starts as soon as the changes it waits for end.
    pub ends: HashMap<String, Duration>,
}

/// The longest chain of `plan` when each change takes `own(change)` (modeled, or measured in a
/// run) and starts as soon as its `after` changes that are in the plan end. Impossible
/// changes never run and are left out.
pub fn longest_chain(plan: &Plan, mut own: impl FnMut(&Change) -> Duration) -> Chain {
    let changes: Vec<_> = plan
        .changes
        .iter()
        .filter(|c| c.kind != ChangeKind::Impossible)
        .collect();
    let index: HashMap<&str, usize> = changes
        .iter()
        .enumerate()
        .map(|(i, c)| (c.resource.as_str(), i))
        .collect();
    let own: Vec<Duration> = changes.iter().map(|change| own(change)).collect();
    let after: Vec<Vec<usize>> = changes
        .iter()
        .map(|change| {
            change
                .after
                .iter()
                .filter(|a| **a != change.resource)
                .filter_map(|a| index.get(a.as_str()).copied())
                .collect()
        })
        .collect();
    let ends = chain::ends(&own, &after);
    let end = |i: usize| ends[i].0;
    // The chain of the last change to finish (the last of equals).
    let path = (0..changes.len())
        .max_by_key(|i| end(*i))
        .map(|last| chain::ending_at(last, &ends))
        .unwrap_or_default();
    Chain {
        length: (0..changes.len()).map(end).max().unwrap_or_default(),
        sequential: own.iter().sum(),
        path: path
            .into_iter()
            .map(|i| changes[i].resource.clone())
            .collect(),
        ends: changes
            .iter()
            .enumerate()
            .map(|(i, c)| (c.resource.clone(), end(i)))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::Tags;
    use crate::plan::Ref;

    /// A plan small enough to do by hand: a VPC, then a NAT gateway and a role at once, then a
    /// cluster after both (and after a resource not in the plan).
    fn small_plan() -> Plan {
        let tags = Tags::new();
        let vpc = Change::new(
            "vpc",
            ChangeKind::Create,
            vec![Operation::CreateVpc {
                cidr: "10.0.0.0/16".to_owned(),
                tags: tags.clone(),
            }],
        );
        let nat = Change::new(
            "nat",
            ChangeKind::Create,
            vec![Operation::CreateNatGateway {
                subnet: Ref::Value("subnet-1".to_owned()),
                address: Ref::Value("eipalloc-1".to_owned()),
                tags: tags.clone(),
            }],
        )
        .after(["vpc"]);
        let role = Change::new(
            "role",
            ChangeKind::Create,
            vec![Operation::TagRole {
                role: "r".to_owned(),
                tags: tags.clone(),
            }],
        );
        let cluster = Change::new(
            "cluster",
            ChangeKind::Create,
            vec![Operation::DeleteCluster {
                name: "c".to_owned(),
            }],
        )
        .after(["nat", "role", "not-in-plan"]);
        Plan {
            cluster: "c".to_owned(),
            region: "us-east-1".to_owned(),
            changes: vec![cluster, role, nat, vpc],
            warnings: Vec::new(),
        }
    }

    #[test]
    fn critical_path_by_hand() {
        let model = TimeModel::aws(Duration::from_millis(100));
        let call = Duration::from_millis(10);
        let figures = critical_path(&small_plan(), &model, |_| call);
        // vpc (3 calls) -> nat (2 calls + 1.5 min) -> cluster (2 calls + 9 min deleting).
        let critical = call * 7 + model.real(10.5);
        assert_eq!(figures.critical, critical);
        // ... plus the role's one call.
        assert_eq!(figures.sequential, critical + call);
        assert_eq!(figures.calls, 8);
        assert_eq!(figures.path, ["vpc", "nat", "cluster"]);
        assert_eq!(figures.ends["role"], call);
    }

    #[test]
    fn longest_chain_of_measured_durations() {
        // A run where the role took longest: the chain goes through it instead of the NAT.
        let secs = |resource: &str| match resource {
            "vpc" => 1,
            "nat" => 2,
            "role" => 10,
            _ => 5,
        };
        let chain = longest_chain(&small_plan(), |c| Duration::from_secs(secs(&c.resource)));
        assert_eq!(chain.path, ["role", "cluster"]);
        assert_eq!(chain.length, Duration::from_secs(15));
        assert_eq!(chain.sequential, Duration::from_secs(18));
        assert_eq!(chain.ends["nat"], Duration::from_secs(3));
    }

    #[test]
    fn impossible_changes_and_cycles_do_not_hang() {
        let mut plan = small_plan();
        plan.changes[3].after.push("cluster".to_owned());
        plan.changes
            .push(Change::new("blocked", ChangeKind::Impossible, Vec::new()).after(["cluster"]));
        let chain = longest_chain(&plan, |_| Duration::from_secs(1));
        assert!(!chain.ends.contains_key("blocked"));
        assert_eq!(chain.ends.len(), 4);
        let mut walked = chain.path.clone();
        walked.sort();
        walked.dedup();
        assert_eq!(walked.len(), chain.path.len(), "{chain:?}");
    }
}
