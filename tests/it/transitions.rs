//! Random spec transitions: a random valid spec A is applied, then a random valid successor B
//! (node groups added, removed and changed, service accounts, logging, endpoint settings,
//! tags, Karpenter and its interruption queue). After B the plan is empty, the live state is
//! B's, and the mutating calls the apply made are exactly those its plan announced. `EKSPEC_TRANSITION_SEED=<hex>` replays a run;
//! `EKSPEC_TRANSITIONS=<n>` changes how many transitions run (default 100).

use std::collections::BTreeMap;

use ekspec::cloud::memory::MemoryCloud;
use ekspec::plan::{Operation, Plan};
use ekspec::resources::{karpenter_interruption, observe, owned_id};
use proptest::prelude::*;
use proptest::sample::subsequence;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};

use crate::reconcile_memory::{apply, kinds, plan_for, spec};

const CLUSTER: &str = "prop";
const GROUP_NAMES: [&str; 4] = ["system", "spot", "batch", "gpu"];
const ACCOUNT_NAMES: [&str; 4] = ["dns", "autoscaler", "ebs", "logs"];
const INSTANCE_TYPES: [&str; 4] = ["m6i.large", "m5.large", "m6a.large", "c6i.large"];
const LOG_TYPES: [&str; 5] = [
    "api",
    "audit",
    "authenticator",
    "controllerManager",
    "scheduler",
];
const POLICIES: [&str; 3] = [
    "arn:aws:iam::aws:policy/AmazonRoute53FullAccess",
    "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
    "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy",
];

#[derive(Debug, Clone)]
struct NodeGroup {
    spot: bool,
    instance_types: Vec<&'static str>,
    min: u32,
    extra: u32,
    role_label: Option<&'static str>,
    taint: Option<&'static str>,
    disk: u32,
}

#[derive(Debug, Clone)]
struct Account {
    policies: Vec<&'static str>,
    inline: bool,
}

/// The parts of a spec that vary.
#[derive(Debug, Clone)]
struct Shape {
    groups: Vec<Option<NodeGroup>>,
    accounts: Vec<Option<Account>>,
    logging: Vec<&'static str>,
    endpoint: (bool, bool),
    cidrs: Vec<&'static str>,
    team: &'static str,
    cost_center: bool,
    /// Karpenter's version and whether it has its interruption queue.
    karpenter: Option<(&'static str, bool)>,
}

fn node_group() -> impl Strategy<Value = NodeGroup> {
    (
        any::<bool>(),
        subsequence(INSTANCE_TYPES.to_vec(), 1..=3),
        0u32..3,
        0u32..4,
        prop::option::of(prop::sample::select(vec!["system", "workers"])),
        prop::option::of(prop::sample::select(vec!["gpu", "batch"])),
        prop::sample::select(vec![20u32, 50]),
    )
        .prop_map(
            |(spot, instance_types, min, extra, role_label, taint, disk)| NodeGroup {
                spot,
                instance_types,
                min,
                extra,
                role_label,
                taint,
                disk,
            },
        )
}

fn account() -> impl Strategy<Value = Account> {
    (subsequence(POLICIES.to_vec(), 0..=2), any::<bool>())
        .prop_map(|(policies, inline)| Account { policies, inline })
}

fn shape() -> impl Strategy<Value = Shape> {
    (
        prop::collection::vec(prop::option::weighted(0.6, node_group()), GROUP_NAMES.len()),
        prop::collection::vec(prop::option::weighted(0.5, account()), ACCOUNT_NAMES.len()),
        subsequence(LOG_TYPES.to_vec(), 0..=LOG_TYPES.len()),
        prop::sample::select(vec![(true, true), (true, false), (false, true)]),
        subsequence(vec!["203.0.113.0/24", "198.51.100.0/24"], 0..=2),
        prop::sample::select(vec!["web", "data"]),
        any::<bool>(),
        prop::option::of((prop::sample::select(vec!["1.8.1", "1.10.0"]), any::<bool>())),
    )
        .prop_map(
            |(groups, accounts, logging, endpoint, cidrs, team, cost_center, karpenter)| Shape {
                groups,
                accounts,
                logging,
                endpoint,
                cidrs,
                team,
                cost_center,
                karpenter,
            },
        )
}

impl Shape {
    fn groups(&self) -> impl Iterator<Item = (&'static str, &NodeGroup)> {
        GROUP_NAMES
            .iter()
            .zip(&self.groups)
            .filter_map(|(name, g)| g.as_ref().map(|g| (*name, g)))
    }

    fn accounts(&self) -> impl Iterator<Item = (&'static str, &Account)> {
        ACCOUNT_NAMES
            .iter()
            .zip(&self.accounts)
            .filter_map(|(name, a)| a.as_ref().map(|a| (*name, a)))
    }

    fn yaml(&self) -> String {
        let list = |items: &[&str]| items.join(", ");
        let mut text = format!(
            "apiVersion: ekspec/v1alpha1\nkind: Cluster\nmetadata:\n  name: {CLUSTER}\n  region: us-east-1\n  tags: {{team: {}{}}}\nspec:\n  kubernetesVersion: \"1.31\"\n  vpc: {{cidr: 10.9.0.0/16, availabilityZones: [us-east-1a, us-east-1b], natGateway: single}}\n  endpoint: {{publicAccess: {}, privateAccess: {}{}}}\n  logging: [{}]\n",
            self.team,
            if self.cost_center {
                ", cost-center: \"42\""
            } else {
                ""
            },
            self.endpoint.0,
            self.endpoint.1,
            if self.endpoint.0 && !self.cidrs.is_empty() {
                format!(", publicAccessCidrs: [{}]", list(&self.cidrs))
            } else {
                String::new()
            },
            list(&self.logging),
        );
        text.push_str(if self.groups().next().is_some() {
            "  nodeGroups:\n"
        } else {
            "  nodeGroups: []\n"
        });
        for (name, g) in self.groups() {
            text.push_str(&format!(
                "    - name: {name}\n      capacityType: {}\n      instanceTypes: [{}]\n      minSize: {}\n      maxSize: {}\n      diskSizeGiB: {}\n",
                if g.spot { "spot" } else { "onDemand" },
                list(&g.instance_types),
                g.min,
                (g.min + g.extra).max(1),
                g.disk,
            ));
            if let Some(role) = g.role_label {
                text.push_str(&format!("      labels: {{role: {role}}}\n"));
            }
            if let Some(taint) = g.taint {
                text.push_str(&format!(
                    "      taints: [{{key: dedicated, value: {taint}, effect: NoSchedule}}]\n"
                ));
            }
        }
        text.push_str(if self.accounts().next().is_some() {
            "  serviceAccounts:\n"
        } else {
            "  serviceAccounts: []\n"
        });
        for (name, a) in self.accounts() {
            text.push_str(&format!(
                "    - name: {name}\n      namespace: kube-system\n      policyArns: [{}]\n",
                list(&a.policies)
            ));
            if a.inline {
                text.push_str("      inlinePolicy: {Version: \"2012-10-17\", Statement: [{Effect: Allow, Action: [\"s3:GetObject\"], Resource: \"*\"}]}\n");
            }
        }
        if let Some((version, queue)) = self.karpenter {
            text.push_str(&format!(
                "  addons:\n    - name: eks-pod-identity-agent\n  karpenter:\n    version: \"{version}\"\n    interruptionQueue: {queue}\n"
            ));
        }
        text
    }
}

/// The API calls an operation may make: the first is the one it must make.
fn calls_of(operation: &Operation) -> &'static [&'static str] {
    use Operation as O;
    match operation {
        O::CreateVpc { .. } => &["CreateVpc"],
        O::CreateSubnet { .. } => &["CreateSubnet"],
        O::CreateInternetGateway { .. } => &["CreateInternetGateway"],
        O::AllocateAddress { .. } => &["AllocateAddress"],
        O::CreateNatGateway { .. } => &["CreateNatGateway"],
        O::CreateRouteTable { .. } => &["CreateRouteTable"],
        O::SetDefaultRoute { .. } => &["CreateRoute"],
        O::AssociateRouteTable { .. } => &["AssociateRouteTable"],
        O::DisassociateRouteTable { .. } => &["DisassociateRouteTable"],
        O::DeleteDefaultRoute { .. } => &["DeleteRoute"],
        O::AssociateVpcIpv6Cidr { .. } => &["AssociateVpcCidrBlock"],
        O::EnableSubnetIpv6 {
            vpc_block: None, ..
        } => &["ModifySubnetAttribute"],
        O::EnableSubnetIpv6 { .. } => &["AssociateSubnetCidrBlock", "ModifySubnetAttribute"],
        O::CreateEgressOnlyInternetGateway { .. } => &["CreateEgressOnlyInternetGateway"],
        O::SetDefaultIpv6Route { .. } => &["CreateRoute"],
        O::TagEc2 { .. } => &["CreateTags"],
        O::UntagEc2 { .. } => &["DeleteTags"],
        O::TagOidcProvider { .. } => &["TagOpenIDConnectProvider"],
        O::TagEks { .. } => &["TagResource"],
        O::CreateLaunchTemplate { .. } => &["CreateLaunchTemplate"],
        O::CreateLaunchTemplateVersion { .. } => &["CreateLaunchTemplateVersion"],
        O::CreateRole { .. } => &["CreateRole", "AttachRolePolicy", "PutRolePolicy"],
        O::UpdateTrust { .. } => &["UpdateAssumeRolePolicy"],
        O::AttachPolicy { .. } => &["AttachRolePolicy"],
        O::DetachPolicy { .. } => &["DetachRolePolicy"],
        O::PutInlinePolicy { .. } => &["PutRolePolicy"],
        O::DeleteInlinePolicy { .. } => &["DeleteRolePolicy"],
        O::TagRole { .. } => &["TagRole"],
        O::CreateCluster { .. } => &["CreateCluster"],
        O::UpdateClusterConfig { .. } => &["UpdateClusterConfig"],
        O::UpdateClusterVersion { .. } => &["UpdateClusterVersion"],
        O::AssociateEncryptionConfig { .. } => &["AssociateEncryptionConfig"],
        O::UpdateNodeGroupVersion { .. } => &["UpdateNodegroupVersion"],
        O::UpdateNodeGroupLaunchTemplate { .. } => &["UpdateNodegroupVersion"],
        O::CreateAddon { .. } => &["CreateAddon"],
        O::UpdateAddon { .. } => &["UpdateAddon"],
        O::DeleteAddon { .. } => &["DeleteAddon"],
        O::CreateAccessEntry { .. } => &["CreateAccessEntry"],
        O::UpdateAccessEntry { .. } => &["UpdateAccessEntry"],
        O::AssociateAccessPolicy { .. } => &["AssociateAccessPolicy"],
        O::DisassociateAccessPolicy { .. } => &["DisassociateAccessPolicy"],
        O::DeleteAccessEntry { .. } => &["DeleteAccessEntry"],
        O::CreatePodIdentityAssociation { .. } => &[
            "CreatePodIdentityAssociation",
            "UpdatePodIdentityAssociation",
        ],
        O::UpdatePodIdentityAssociation { .. } => &["UpdatePodIdentityAssociation"],
        O::DeletePodIdentityAssociation { .. } => &["DeletePodIdentityAssociation"],
        O::CreateOidcProvider { .. } => &["CreateOpenIDConnectProvider"],
        O::CreateNodeGroup { .. } => &["CreateNodegroup"],
        O::UpdateNodeGroup { .. } => &["UpdateNodegroupConfig"],
        O::DeleteNodeGroup { .. } => &["DeleteNodegroup"],
        O::CreateFargateProfile { .. } => &["CreateFargateProfile"],
        O::DeleteFargateProfile { .. } => &["DeleteFargateProfile"],
        O::DeleteCluster { .. } => &["DeleteCluster"],
        O::CreateServiceLinkedRole { .. } => &["CreateServiceLinkedRole"],
        O::DeleteRole { .. } => &["DeleteRole"],
        // A read when EKS made none.
        O::DeleteAutoModeInstanceProfiles { .. } => {
            &["ListInstanceProfilesForRole", "DeleteInstanceProfile"]
        }
        O::DeleteOidcProvider { .. } => &["DeleteOpenIDConnectProvider"],
        O::DetachInternetGateway { .. } => &["DetachInternetGateway"],
        O::RevokeGroupRules { .. } => &["RevokeSecurityGroup"],
        O::DeleteEc2 { .. } => &["Delete"],
        O::DeleteLeftovers { .. } => &[
            "DeleteLoadBalancer",
            "DeleteTargetGroup",
            "Delete",
            "TerminateInstances",
        ],
        O::DeleteKarpenterLeftovers { .. } => {
            &["TerminateInstances", "Delete", "DeleteInstanceProfile"]
        }
        // A queue of the name that is already this one's is brought up to date instead.
        O::CreateQueue { .. } => &["CreateQueue", "SetQueueAttributes", "TagQueue"],
        O::SetQueueAttributes { .. } => &["SetQueueAttributes"],
        O::TagQueue { .. } => &["TagQueue"],
        O::DeleteQueue { .. } => &["DeleteQueue"],
        O::PutRule { .. } => &["PutRule"],
        O::PutTargets { .. } => &["PutTargets"],
        O::RemoveTargets { .. } => &["RemoveTargets"],
        O::TagRule { .. } => &["TagResource"],
        O::DeleteRule { .. } => &["DeleteRule"],
    }
}

/// Checks that `calls` (API names) are what `plan` announced: every operation's own call was
/// made, and nothing else than what its operations may make.
fn check_calls(plan: &Plan, calls: &[String]) -> Result<(), String> {
    let mut made: BTreeMap<&str, usize> = BTreeMap::new();
    for call in calls {
        *made.entry(call.as_str()).or_default() += 1;
    }
    let mut required: BTreeMap<&str, usize> = BTreeMap::new();
    let mut allowed: Vec<&str> = Vec::new();
    for operation in plan.changes.iter().flat_map(|c| &c.operations) {
        let names = calls_of(operation);
        *required.entry(names[0]).or_default() += 1;
        allowed.extend(names);
    }
    for (name, count) in &required {
        let done = made.get(name).copied().unwrap_or(0);
        if done < *count {
            return Err(format!(
                "the plan announced {count} {name} but the apply made {done}"
            ));
        }
    }
    if let Some(surprise) = made.keys().find(|name| !allowed.contains(name)) {
        return Err(format!(
            "the apply called {surprise}, which no operation of the plan makes"
        ));
    }
    Ok(())
}

/// The API name of a logged call (`CreateRole name` -> `CreateRole`; EC2 deletes are logged
/// `DeleteSubnet id` and count as `Delete`).
fn api_name(call: &str) -> String {
    let name = call.split_whitespace().next().unwrap_or_default();
    let known_delete = [
        "DeleteRoute",
        "DeleteTags",
        "DeleteLoadBalancer",
        "DeleteTargetGroup",
        "DeleteRole",
        "DeleteRolePolicy",
        "DeleteCluster",
        "DeleteNodegroup",
        "DeleteFargateProfile",
        "DeleteAddon",
        "DeleteAccessEntry",
        "DeletePodIdentityAssociation",
        "DeleteQueue",
        "DeleteRule",
        "DeleteOpenIDConnectProvider",
    ];
    if name.starts_with("Delete") && !known_delete.contains(&name) {
        "Delete".to_owned()
    } else {
        name.to_owned()
    }
}

async fn transition(a: &Shape, b: &Shape) -> Result<(), String> {
    let aws = MemoryCloud::new();
    let first = spec(&a.yaml());
    apply(&aws, &first).await;
    let before = aws.mutating_calls().len();
    let second = spec(&b.yaml());
    let plan = apply(&aws, &second).await;
    let calls: Vec<String> = aws.mutating_calls()[before..]
        .iter()
        .map(|c| api_name(c))
        .collect();
    check_calls(&plan, &calls)?;

    let again = plan_for(&aws, &second).await;
    if !again.is_empty() {
        return Err(format!(
            "the plan after B is not empty: {:?}",
            kinds(&again)
        ));
    }

    let observed = observe(&aws.cloud(), CLUSTER, Some(&second))
        .await
        .map_err(|e| e.to_string())?;
    let cluster = observed.cluster.as_ref().ok_or("no cluster after B")?;
    let mut logging: Vec<&str> = b.logging.clone();
    logging.sort();
    if cluster.enabled_log_types != logging {
        return Err(format!(
            "logging is {:?}, B wants {logging:?}",
            cluster.enabled_log_types
        ));
    }
    if (
        cluster.endpoint_public_access,
        cluster.endpoint_private_access,
    ) != b.endpoint
    {
        return Err("endpoint access differs from B".to_owned());
    }
    let live_groups: BTreeMap<&str, _> = observed
        .node_groups
        .iter()
        .filter_map(|g| Some((owned_id(&g.tags, CLUSTER)?, g)))
        .collect();
    let mut want_groups: Vec<String> = b.groups().map(|(n, _)| format!("nodegroup/{n}")).collect();
    want_groups.sort();
    let have_groups: Vec<String> = live_groups.keys().map(|k| (*k).to_owned()).collect();
    if have_groups != want_groups {
        return Err(format!(
            "node groups {have_groups:?}, B wants {want_groups:?}"
        ));
    }
    for (name, want) in b.groups() {
        let live = live_groups[format!("nodegroup/{name}").as_str()];
        let capacity = if want.spot { "SPOT" } else { "ON_DEMAND" };
        if live.instance_types != want.instance_types
            || live.capacity_type != capacity
            || live.scaling.min != want.min as i32
            || live.scaling.max != (want.min + want.extra).max(1) as i32
            || live.labels.get("role").map(String::as_str) != want.role_label
            || live.taints.first().map(|t| t.value.as_str()) != want.taint
        {
            return Err(format!("node group {name} is {live:?}, B wants {want:?}"));
        }
    }
    let mut have_roles: Vec<String> = observed
        .roles
        .iter()
        .filter_map(|r| owned_id(&r.tags, CLUSTER))
        .filter(|id| id.starts_with("role/irsa/"))
        .map(str::to_owned)
        .collect();
    have_roles.sort();
    let mut want_roles: Vec<String> = b
        .accounts()
        .map(|(name, _)| format!("role/irsa/kube-system/{name}"))
        .collect();
    want_roles.sort();
    if have_roles != want_roles {
        return Err(format!("IRSA roles {have_roles:?}, B wants {want_roles:?}"));
    }
    let mut have_queue: Vec<String> = observed
        .queues
        .iter()
        .map(|q| &q.tags)
        .chain(observed.event_rules.iter().map(|r| &r.tags))
        .filter_map(|tags| owned_id(tags, CLUSTER).map(str::to_owned))
        .collect();
    have_queue.sort();
    let mut want_queue: Vec<String> = match b.karpenter {
        Some((version, true)) => karpenter_interruption::rules_for(version)
            .into_iter()
            .map(|(kind, _)| karpenter_interruption::rule_id(kind))
            .chain([karpenter_interruption::QUEUE.to_owned()])
            .collect(),
        _ => Vec::new(),
    };
    want_queue.sort();
    if have_queue != want_queue {
        return Err(format!(
            "interruption queue and rules {have_queue:?}, B wants {want_queue:?}"
        ));
    }
    for role in observed
        .roles
        .iter()
        .filter(|r| owned_id(&r.tags, CLUSTER).is_some_and(|id| id.starts_with("role/irsa/")))
    {
        let name = owned_id(&role.tags, CLUSTER)
            .and_then(|id| id.rsplit('/').next())
            .unwrap_or_default();
        let (_, want) = b
            .accounts()
            .find(|(n, _)| *n == name)
            .ok_or("role without account")?;
        let mut policies = want.policies.clone();
        policies.sort();
        if role.attached_policies != policies || role.inline_policies.is_empty() == want.inline {
            return Err(format!("role for {name} is {role:?}, B wants {want:?}"));
        }
    }
    Ok(())
}

fn seed() -> [u8; 32] {
    let mut seed = [0u8; 32];
    match std::env::var("EKSPEC_TRANSITION_SEED") {
        Ok(hex) => {
            for (i, byte) in seed.iter_mut().enumerate() {
                *byte = hex
                    .get(2 * i..2 * i + 2)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .unwrap_or(0);
            }
        }
        Err(_) => {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos();
            seed[..16].copy_from_slice(&nanos.to_le_bytes());
        }
    }
    seed
}

#[test]
fn random_spec_transitions_converge_with_only_the_announced_calls() {
    let seed = seed();
    let hex: String = seed.iter().map(|b| format!("{b:02x}")).collect();
    let cases = std::env::var("EKSPEC_TRANSITIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100);
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap();
    let result = runner.run(&(shape(), shape()), |(a, b)| {
        runtime.block_on(transition(&a, &b)).map_err(|reason| {
            TestCaseError::fail(format!("{reason}\nA:\n{}\nB:\n{}", a.yaml(), b.yaml()))
        })
    });
    println!("{cases} spec transitions, seed {hex}");
    if let Err(error) = result {
        panic!("{error}\nreplay with EKSPEC_TRANSITION_SEED={hex}");
    }
}
