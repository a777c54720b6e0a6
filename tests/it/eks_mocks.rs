//! The EKS calls whose slow and failing paths moto cannot show (add-ons, access entries,
//! version and encryption updates: moto finishes each at once), run
//! through the real AWS layer and executor, with EKS answering through SDK mocks in AWS's own
//! response and error shapes: updates InProgress then Successful or Failed, add-ons DEGRADED
//! before ACTIVE, ResourceInUseException while another update runs, throttling, an access entry
//! that exists already, default add-on versions per Kubernetes version, Fargate profiles
//! waiting their turn and failing, and new IAM roles EKS refuses for a while.

use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_sdk_eks::Client;
use aws_sdk_eks::error::ErrorMetadata;
use aws_sdk_eks::operation::associate_access_policy::AssociateAccessPolicyOutput;
use aws_sdk_eks::operation::create_access_entry::CreateAccessEntryError;
use aws_sdk_eks::operation::create_addon::CreateAddonOutput;
use aws_sdk_eks::operation::create_cluster::{CreateClusterError, CreateClusterOutput};
use aws_sdk_eks::operation::create_fargate_profile::{
    CreateFargateProfileError, CreateFargateProfileOutput,
};
use aws_sdk_eks::operation::delete_fargate_profile::{
    DeleteFargateProfileError, DeleteFargateProfileOutput,
};
use aws_sdk_eks::operation::describe_access_entry::DescribeAccessEntryOutput;
use aws_sdk_eks::operation::describe_addon::{DescribeAddonError, DescribeAddonOutput};
use aws_sdk_eks::operation::describe_addon_versions::DescribeAddonVersionsOutput;
use aws_sdk_eks::operation::describe_cluster::DescribeClusterOutput;
use aws_sdk_eks::operation::describe_fargate_profile::{
    DescribeFargateProfileError, DescribeFargateProfileOutput,
};
use aws_sdk_eks::operation::describe_nodegroup::DescribeNodegroupOutput;
use aws_sdk_eks::operation::describe_update::DescribeUpdateOutput;
use aws_sdk_eks::operation::list_access_entries::ListAccessEntriesOutput;
use aws_sdk_eks::operation::list_associated_access_policies::ListAssociatedAccessPoliciesOutput;
use aws_sdk_eks::operation::tag_resource::TagResourceOutput;
use aws_sdk_eks::operation::update_access_entry::UpdateAccessEntryOutput;
use aws_sdk_eks::operation::update_cluster_version::UpdateClusterVersionOutput;
use aws_sdk_eks::operation::update_nodegroup_version::{
    UpdateNodegroupVersionError, UpdateNodegroupVersionOutput,
};
use aws_sdk_eks::types::error::{
    InvalidParameterException, ResourceInUseException, ResourceNotFoundException,
};
use aws_sdk_eks::types::{
    AccessEntry, AccessScope, AccessScopeType, Addon, AddonHealth, AddonInfo, AddonIssue,
    AddonIssueCode, AddonStatus, AddonVersionInfo, AssociatedAccessPolicy, Cluster, ClusterStatus,
    Compatibility, ErrorCode, ErrorDetail, FargateProfile, FargateProfileHealth,
    FargateProfileIssue, FargateProfileIssueCode, FargateProfileStatus, Nodegroup, NodegroupStatus,
    Update, UpdateStatus, UpdateType,
};
use aws_smithy_mocks::{MockResponseInterceptor, Rule, RuleMode, mock};
use ekspec::cloud::AccessPolicy;
use ekspec::cloud::aws::{AwsCloud, retry_config, retry_partition};
use ekspec::exec::operation::{Context, ROLE_PROPAGATION, run};
use ekspec::exec::wait::{Reporter, Waiter};
use ekspec::exec::{Event, ExecError};
use ekspec::plan::{Operation, Ref};
use ekspec::resources::Observed;

const CLUSTER: &str = "demo";
const ADMIN: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";
const PRINCIPAL: &str = "arn:aws:iam::111122223333:role/platform-admin";

/// An executor context whose EKS calls are answered by `rules` (the first matching rule with a
/// response left answers); the SDK retries as in a real run, waits poll every few ms.
fn context(rules: &[&Rule]) -> Context {
    let mut interceptor = MockResponseInterceptor::new().rule_mode(RuleMode::MatchAny);
    for rule in rules {
        interceptor = interceptor.with_rule(rule);
    }
    let eks = aws_sdk_eks::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("AKID", "SECRET", None, None, "test"))
        .retry_config(retry_config())
        .retry_partition(retry_partition("eks"))
        .http_client(aws_smithy_mocks::create_mock_http_client())
        .interceptor(interceptor)
        .build();
    let shared = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .build();
    let cloud = AwsCloud::new(&shared)
        .with_eks(Client::from_conf(eks))
        .into_cloud();
    let waiter = Waiter {
        initial: Duration::from_millis(1),
        max: Duration::from_millis(5),
        // Generous: after a throttling answer the adaptive rate limiter lets this new client
        // send about one call per 2 s at first (its minimum rate), as in a real run, so a wait
        // that saw throttling takes seconds; 10 s timed out on a loaded machine.
        timeout: Duration::from_secs(120),
        scale_rollouts: false,
    };
    Context::new(cloud, &Observed::default(), CLUSTER, "us-east-1", waiter)
}

fn meta(code: &str, message: &str) -> ErrorMetadata {
    ErrorMetadata::builder().code(code).message(message).build()
}

fn active_cluster() -> Rule {
    mock!(Client::describe_cluster).then_output(|| {
        DescribeClusterOutput::builder()
            .cluster(
                Cluster::builder()
                    .name(CLUSTER)
                    .arn("arn:aws:eks:us-east-1:111122223333:cluster/demo")
                    .status(ClusterStatus::Active)
                    .version("1.30")
                    .build(),
            )
            .build()
    })
}

fn update(id: &str, kind: UpdateType, status: UpdateStatus) -> Update {
    Update::builder().id(id).r#type(kind).status(status).build()
}

fn addon(status: AddonStatus, issues: Vec<AddonIssue>) -> Addon {
    Addon::builder()
        .addon_name("coredns")
        .cluster_name(CLUSTER)
        .addon_arn("arn:aws:eks:us-east-1:111122223333:addon/demo/coredns/1")
        .addon_version("v1.11.1-eksbuild.9")
        .status(status)
        .health(AddonHealth::builder().set_issues(Some(issues)).build())
        .build()
}

async fn run_one(ctx: &Context, resource: &str, operation: Operation) -> Result<(), ExecError> {
    run(ctx, resource, &operation).await
}

#[tokio::test]
async fn a_version_upgrade_waits_for_the_update_to_succeed() {
    let start = mock!(Client::update_cluster_version)
        .match_requests(|r| r.name() == Some(CLUSTER) && r.version() == Some("1.31"))
        .then_output(|| {
            UpdateClusterVersionOutput::builder()
                .update(update(
                    "u-1",
                    UpdateType::VersionUpdate,
                    UpdateStatus::InProgress,
                ))
                .build()
        });
    let progress = mock!(Client::describe_update)
        .match_requests(|r| r.name() == Some(CLUSTER) && r.update_id() == Some("u-1"))
        .sequence()
        .output(|| {
            DescribeUpdateOutput::builder()
                .update(update(
                    "u-1",
                    UpdateType::VersionUpdate,
                    UpdateStatus::InProgress,
                ))
                .build()
        })
        .times(3)
        .output(|| {
            DescribeUpdateOutput::builder()
                .update(update(
                    "u-1",
                    UpdateType::VersionUpdate,
                    UpdateStatus::Successful,
                ))
                .build()
        })
        .build();
    let cluster = active_cluster();
    let ctx = context(&[&start, &progress, &cluster]);
    run_one(
        &ctx,
        "cluster/version-1.31",
        Operation::UpdateClusterVersion {
            name: CLUSTER.to_owned(),
            version: "1.31".to_owned(),
        },
    )
    .await
    .unwrap();
    assert_eq!(start.num_calls(), 1);
    assert_eq!(progress.num_calls(), 4, "polled until Successful");
}

#[tokio::test]
async fn a_failed_update_reports_the_errors_eks_gives() {
    let start = mock!(Client::update_cluster_version).then_output(|| {
        UpdateClusterVersionOutput::builder()
            .update(update(
                "u-2",
                UpdateType::VersionUpdate,
                UpdateStatus::InProgress,
            ))
            .build()
    });
    let failed = mock!(Client::describe_update).then_output(|| {
        DescribeUpdateOutput::builder()
            .update(
                Update::builder()
                    .id("u-2")
                    .status(UpdateStatus::Failed)
                    .errors(
                        ErrorDetail::builder()
                            .error_code(ErrorCode::SubnetNotFound)
                            .error_message("The subnet ID 'subnet-0abc' does not exist")
                            .resource_ids("subnet-0abc")
                            .build(),
                    )
                    .errors(
                        ErrorDetail::builder()
                            .error_code(ErrorCode::InsufficientFreeAddresses)
                            .error_message("One or more of the subnets has too few free IPs")
                            .build(),
                    )
                    .build(),
            )
            .build()
    });
    let cluster = active_cluster();
    let ctx = context(&[&start, &failed, &cluster]);
    let error = run_one(
        &ctx,
        "cluster/version-1.31",
        Operation::UpdateClusterVersion {
            name: CLUSTER.to_owned(),
            version: "1.31".to_owned(),
        },
    )
    .await
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "update u-2 of cluster demo: EKS reports the update failed: \
         SubnetNotFound: The subnet ID 'subnet-0abc' does not exist (subnet-0abc); \
         InsufficientFreeAddresses: One or more of the subnets has too few free IPs"
    );
}

#[tokio::test]
async fn a_node_group_upgrade_retries_while_another_update_runs() {
    let group = mock!(Client::describe_nodegroup).then_output(|| {
        DescribeNodegroupOutput::builder()
            .nodegroup(
                Nodegroup::builder()
                    .nodegroup_name("system-1a2b")
                    .cluster_name(CLUSTER)
                    .status(NodegroupStatus::Active)
                    .version("1.31")
                    .build(),
            )
            .build()
    });
    let busy = mock!(Client::update_nodegroup_version)
        .match_requests(|r| {
            r.nodegroup_name() == Some("system-1a2b") && r.version() == Some("1.31")
        })
        .sequence()
        .error(|| {
            UpdateNodegroupVersionError::ResourceInUseException(
                ResourceInUseException::builder()
                    .message("Nodegroup system-1a2b is currently being updated")
                    .meta(meta(
                        "ResourceInUseException",
                        "Nodegroup system-1a2b is currently being updated",
                    ))
                    .build(),
            )
        })
        .times(2)
        .output(|| {
            UpdateNodegroupVersionOutput::builder()
                .update(update(
                    "u-3",
                    UpdateType::VersionUpdate,
                    UpdateStatus::InProgress,
                ))
                .build()
        })
        .build();
    let done = mock!(Client::describe_update)
        .match_requests(|r| r.nodegroup_name() == Some("system-1a2b"))
        .then_output(|| {
            DescribeUpdateOutput::builder()
                .update(update(
                    "u-3",
                    UpdateType::VersionUpdate,
                    UpdateStatus::Successful,
                ))
                .build()
        });
    let ctx = context(&[&group, &busy, &done]);
    run_one(
        &ctx,
        "nodegroup/system/version-1.31",
        Operation::UpdateNodeGroupVersion {
            cluster: CLUSTER.to_owned(),
            name: "system-1a2b".to_owned(),
            version: "1.31".to_owned(),
        },
    )
    .await
    .unwrap();
    assert_eq!(busy.num_calls(), 3, "two refusals, then the update");
    assert_eq!(done.num_calls(), 1);
}

#[tokio::test]
async fn an_add_on_may_be_degraded_before_it_is_active_and_throttling_is_retried() {
    let create = mock!(Client::create_addon)
        .match_requests(|r| {
            r.addon_name() == Some("coredns")
                && r.addon_version() == Some("v1.11.1-eksbuild.9")
                && r.configuration_values() == Some(r#"{"replicaCount":3}"#)
                && r.tags()
                    .and_then(|t| t.get("ekspec.io/resource"))
                    .map(String::as_str)
                    == Some("addon/coredns")
        })
        .then_output(|| CreateAddonOutput::builder().build());
    let describe = mock!(Client::describe_addon)
        .sequence()
        .error(|| {
            DescribeAddonError::generic(meta("ThrottlingException", "Rate exceeded"))
        })
        .output(|| {
            DescribeAddonOutput::builder()
                .addon(addon(AddonStatus::Creating, Vec::new()))
                .build()
        })
        .output(|| {
            DescribeAddonOutput::builder()
                .addon(addon(
                    AddonStatus::Degraded,
                    vec![
                        AddonIssue::builder()
                            .code(AddonIssueCode::InsufficientNumberOfReplicas)
                            .message("The add-on is unhealthy because it doesn't have the desired number of replicas.")
                            .build(),
                    ],
                ))
                .build()
        })
        .times(2)
        .output(|| {
            DescribeAddonOutput::builder()
                .addon(addon(AddonStatus::Active, Vec::new()))
                .build()
        })
        .build();
    let ctx = context(&[&create, &describe]);
    let tags = [
        ("ekspec.io/cluster".to_owned(), CLUSTER.to_owned()),
        ("ekspec.io/resource".to_owned(), "addon/coredns".to_owned()),
    ]
    .into_iter()
    .collect();
    run_one(
        &ctx,
        "addon/coredns",
        Operation::CreateAddon {
            cluster: CLUSTER.to_owned(),
            name: "coredns".to_owned(),
            version: "v1.11.1-eksbuild.9".to_owned(),
            role: None,
            configuration: Some(r#"{"replicaCount":3}"#.to_owned()),
            pod_identity: Vec::new(),
            tags,
        },
    )
    .await
    .unwrap();
    assert_eq!(create.num_calls(), 1);
    // The throttled describe was retried by the SDK, then CREATING, DEGRADED twice, ACTIVE.
    assert_eq!(describe.num_calls(), 5);
}

#[tokio::test]
async fn an_add_on_that_fails_names_its_health_issues() {
    let create = mock!(Client::create_addon).then_output(|| CreateAddonOutput::builder().build());
    let describe = mock!(Client::describe_addon).then_output(|| {
        DescribeAddonOutput::builder()
            .addon(addon(
                AddonStatus::CreateFailed,
                vec![
                    AddonIssue::builder()
                        .code(AddonIssueCode::ConfigurationConflict)
                        .message("Conflicts found when trying to apply. Will not continue due to resolve conflicts mode.")
                        .build(),
                ],
            ))
            .build()
    });
    let ctx = context(&[&create, &describe]);
    let error = run_one(
        &ctx,
        "addon/coredns",
        Operation::CreateAddon {
            cluster: CLUSTER.to_owned(),
            name: "coredns".to_owned(),
            version: "v1.11.1-eksbuild.9".to_owned(),
            role: None,
            configuration: None,
            pod_identity: Vec::new(),
            tags: Default::default(),
        },
    )
    .await
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "add-on coredns: the add-on is CREATE_FAILED: ConfigurationConflict: Conflicts found when trying to apply. Will not continue due to resolve conflicts mode."
    );
}

#[tokio::test]
async fn an_access_entry_that_exists_already_is_updated_and_tagged() {
    let exists = mock!(Client::create_access_entry).then_error(|| {
        CreateAccessEntryError::ResourceInUseException(
            ResourceInUseException::builder()
                .message("The specified access entry resource is already in use on this cluster.")
                .meta(meta(
                    "ResourceInUseException",
                    "The specified access entry resource is already in use on this cluster.",
                ))
                .build(),
        )
    });
    let entry_arn = "arn:aws:eks:us-east-1:111122223333:access-entry/demo/role/111122223333/platform-admin/0ec9";
    let describe = mock!(Client::describe_access_entry).then_output(move || {
        DescribeAccessEntryOutput::builder()
            .access_entry(
                AccessEntry::builder()
                    .cluster_name(CLUSTER)
                    .principal_arn(PRINCIPAL)
                    .access_entry_arn(entry_arn)
                    .kubernetes_groups("old-group")
                    .r#type("STANDARD")
                    .build(),
            )
            .build()
    });
    let policies = mock!(Client::list_associated_access_policies).then_output(|| {
        ListAssociatedAccessPoliciesOutput::builder()
            .cluster_name(CLUSTER)
            .principal_arn(PRINCIPAL)
            .build()
    });
    let update = mock!(Client::update_access_entry)
        .match_requests(|r| r.kubernetes_groups() == ["platform"])
        .then_output(|| UpdateAccessEntryOutput::builder().build());
    let tag = mock!(Client::tag_resource)
        .match_requests(move |r| {
            r.resource_arn() == Some(entry_arn)
                && r.tags()
                    .and_then(|t| t.get("ekspec.io/cluster"))
                    .map(String::as_str)
                    == Some(CLUSTER)
        })
        .then_output(|| TagResourceOutput::builder().build());
    let ctx = context(&[&exists, &describe, &policies, &update, &tag]);
    let tags = [("ekspec.io/cluster".to_owned(), CLUSTER.to_owned())]
        .into_iter()
        .collect();
    run_one(
        &ctx,
        "access-entry/platform-admin",
        Operation::CreateAccessEntry {
            cluster: CLUSTER.to_owned(),
            principal: PRINCIPAL.to_owned(),
            groups: vec!["platform".to_owned()],
            username: None,
            entry_type: None,
            tags,
        },
    )
    .await
    .unwrap();
    assert_eq!(exists.num_calls(), 1, "a refused create is not retried");
    assert_eq!(update.num_calls(), 1);
    assert_eq!(tag.num_calls(), 1);
}

#[tokio::test]
async fn access_entries_are_read_with_their_policies_and_scopes() {
    let list = mock!(Client::list_access_entries).then_output(|| {
        ListAccessEntriesOutput::builder()
            .access_entries(PRINCIPAL)
            .build()
    });
    let describe = mock!(Client::describe_access_entry).then_output(|| {
        DescribeAccessEntryOutput::builder()
            .access_entry(
                AccessEntry::builder()
                    .principal_arn(PRINCIPAL)
                    .access_entry_arn("arn:aws:eks:us-east-1:111122223333:access-entry/demo/x")
                    .kubernetes_groups("b")
                    .kubernetes_groups("a")
                    .username("admin")
                    .r#type("STANDARD")
                    .build(),
            )
            .build()
    });
    let policies = mock!(Client::list_associated_access_policies).then_output(|| {
        ListAssociatedAccessPoliciesOutput::builder()
            .associated_access_policies(
                AssociatedAccessPolicy::builder()
                    .policy_arn(ADMIN)
                    .access_scope(
                        AccessScope::builder()
                            .r#type(AccessScopeType::Cluster)
                            .build(),
                    )
                    .build(),
            )
            .associated_access_policies(
                AssociatedAccessPolicy::builder()
                    .policy_arn("arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy")
                    .access_scope(
                        AccessScope::builder()
                            .r#type(AccessScopeType::Namespace)
                            .namespaces("staging")
                            .namespaces("apps")
                            .build(),
                    )
                    .build(),
            )
            .build()
    });
    let ctx = context(&[&list, &describe, &policies]);
    let entries = ctx
        .cloud
        .kubernetes
        .list_access_entries(CLUSTER)
        .await
        .unwrap();
    assert_eq!(entries.len(), 1);
    let entry = &entries[0];
    assert_eq!(entry.kubernetes_groups, ["a", "b"]);
    assert_eq!(entry.username.as_deref(), Some("admin"));
    assert_eq!(
        entry.policies,
        vec![
            AccessPolicy {
                policy_arn: ADMIN.to_owned(),
                namespaces: None
            },
            AccessPolicy {
                policy_arn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy".to_owned(),
                namespaces: Some(vec!["apps".to_owned(), "staging".to_owned()]),
            },
        ]
    );
}

#[tokio::test]
async fn a_namespace_scoped_policy_is_associated_with_its_namespaces() {
    let associate = mock!(Client::associate_access_policy)
        .match_requests(|r| {
            r.policy_arn() == Some(ADMIN)
                && r.access_scope().is_some_and(|s| {
                    s.r#type() == Some(&AccessScopeType::Namespace)
                        && s.namespaces() == ["apps", "staging"]
                })
        })
        .then_output(|| AssociateAccessPolicyOutput::builder().build());
    let ctx = context(&[&associate]);
    run_one(
        &ctx,
        "access-entry/platform-admin",
        Operation::AssociateAccessPolicy {
            cluster: CLUSTER.to_owned(),
            principal: PRINCIPAL.to_owned(),
            policy: AccessPolicy {
                policy_arn: ADMIN.to_owned(),
                namespaces: Some(vec!["apps".to_owned(), "staging".to_owned()]),
            },
        },
    )
    .await
    .unwrap();
    assert_eq!(associate.num_calls(), 1);
}

fn version(name: &str, compatible: &[(&str, bool)]) -> AddonVersionInfo {
    compatible
        .iter()
        .fold(
            AddonVersionInfo::builder().addon_version(name),
            |b, (k8s, default)| {
                b.compatibilities(
                    Compatibility::builder()
                        .cluster_version(*k8s)
                        .default_version(*default)
                        .build(),
                )
            },
        )
        .build()
}

#[tokio::test]
async fn the_default_add_on_version_is_looked_up_per_kubernetes_version() {
    // As EKS answers: every version compatible with the asked Kubernetes version, newest first,
    // one of them marked default for it.
    let for_1_30 = mock!(Client::describe_addon_versions)
        .match_requests(|r| {
            r.kubernetes_version() == Some("1.30") && r.addon_name() == Some("vpc-cni")
        })
        .then_output(|| {
            DescribeAddonVersionsOutput::builder()
                .addons(
                    AddonInfo::builder()
                        .addon_name("vpc-cni")
                        .addon_versions(version(
                            "v1.19.0-eksbuild.1",
                            &[("1.31", false), ("1.30", false)],
                        ))
                        .addon_versions(version(
                            "v1.18.3-eksbuild.1",
                            &[("1.31", true), ("1.30", true)],
                        ))
                        .build(),
                )
                .build()
        });
    let for_1_31 = mock!(Client::describe_addon_versions)
        .match_requests(|r| r.kubernetes_version() == Some("1.31"))
        .then_output(|| {
            DescribeAddonVersionsOutput::builder()
                .addons(
                    AddonInfo::builder()
                        .addon_name("vpc-cni")
                        .addon_versions(version("v1.19.2-eksbuild.1", &[("1.31", false)]))
                        .addon_versions(version("v1.19.0-eksbuild.1", &[("1.31", true)]))
                        .build(),
                )
                .build()
        });
    let none = mock!(Client::describe_addon_versions)
        .match_requests(|r| r.kubernetes_version() == Some("1.20"))
        .then_output(|| DescribeAddonVersionsOutput::builder().build());
    let ctx = context(&[&for_1_30, &for_1_31, &none]);
    let eks = &ctx.cloud.kubernetes;
    assert_eq!(
        eks.default_addon_version("vpc-cni", "1.30")
            .await
            .unwrap()
            .as_deref(),
        Some("v1.18.3-eksbuild.1")
    );
    assert_eq!(
        eks.default_addon_version("vpc-cni", "1.31")
            .await
            .unwrap()
            .as_deref(),
        Some("v1.19.0-eksbuild.1")
    );
    assert_eq!(
        eks.default_addon_version("vpc-cni", "1.20").await.unwrap(),
        None
    );
}

// --- Fargate profiles and new IAM roles ---------------------------------------------------------

const PROFILE: &str = "batch-1a2b3c4d";
const FARGATE_ROLE: &str = "arn:aws:iam::111122223333:role/ekspec/demo/demo-fargate";

fn fargate_profile(status: FargateProfileStatus, issues: Vec<FargateProfileIssue>) -> Rule {
    mock!(Client::describe_fargate_profile).then_output(move || {
        DescribeFargateProfileOutput::builder()
            .fargate_profile(
                FargateProfile::builder()
                    .fargate_profile_name(PROFILE)
                    .cluster_name(CLUSTER)
                    .status(status.clone())
                    .health(
                        FargateProfileHealth::builder()
                            .set_issues(Some(issues.clone()))
                            .build(),
                    )
                    .build(),
            )
            .build()
    })
}

fn create_profile() -> Operation {
    Operation::CreateFargateProfile {
        cluster: CLUSTER.to_owned(),
        name: PROFILE.to_owned(),
        role: Ref::Value(FARGATE_ROLE.to_owned()),
        subnets: vec![Ref::Value("subnet-1".to_owned())],
        selectors: vec![("batch".to_owned(), Default::default())],
        tags: Default::default(),
    }
}

/// Runs `operation` as the change `resource` would, returning its result and the states its
/// waits reported.
async fn run_reported(
    ctx: &Context,
    resource: &str,
    operation: Operation,
) -> (Result<(), ExecError>, Vec<String>) {
    let (events, mut received) = tokio::sync::mpsc::unbounded_channel();
    let reporter = Reporter {
        resource: resource.to_owned(),
        events,
    };
    let result = reporter.scope(run(ctx, resource, &operation)).await;
    let mut states = Vec::new();
    while let Ok(event) = received.try_recv() {
        if let Event::Waiting { what, state, .. } = event {
            states.push(format!("{what}: {state}"));
        }
    }
    (result, states)
}

#[tokio::test]
async fn a_fargate_profile_waits_while_another_one_of_the_cluster_is_creating() {
    let busy = format!(
        "Cannot create Fargate Profile {PROFILE} because cluster {CLUSTER} currently has Fargate profile other-0 in status CREATING"
    );
    let refused = busy.clone();
    let create = mock!(Client::create_fargate_profile)
        .sequence()
        .error(move || CreateFargateProfileError::generic(meta("ResourceInUseException", &refused)))
        .times(2)
        .output(|| CreateFargateProfileOutput::builder().build())
        .build();
    let active = fargate_profile(FargateProfileStatus::Active, Vec::new());
    let ctx = context(&[&create, &active]);
    let (result, states) = run_reported(&ctx, "fargate-profile/batch", create_profile()).await;
    result.unwrap();
    assert_eq!(
        create.num_calls(),
        3,
        "EKS's turn-taking is waited out, not taken for `already exists`"
    );
    assert!(
        states.iter().any(|s| s.contains(&busy)),
        "the wait says why: {states:?}"
    );
}

#[tokio::test]
async fn a_fargate_profile_that_exists_already_is_waited_for() {
    let create = mock!(Client::create_fargate_profile).then_error(|| {
        CreateFargateProfileError::generic(meta(
            "ResourceInUseException",
            "A Fargate Profile already exists with this name in this cluster.",
        ))
    });
    let active = fargate_profile(FargateProfileStatus::Active, Vec::new());
    let ctx = context(&[&create, &active]);
    run_one(&ctx, "fargate-profile/batch", create_profile())
        .await
        .unwrap();
    assert_eq!(create.num_calls(), 1);
    assert_eq!(active.num_calls(), 1);
}

#[tokio::test]
async fn a_fargate_profile_delete_waits_for_the_one_being_deleted() {
    let delete = mock!(Client::delete_fargate_profile)
        .sequence()
        .error(|| {
            DeleteFargateProfileError::generic(meta(
                "ResourceInUseException",
                "Cannot Delete Fargate Profile batch-1a2b3c4d because cluster demo currently has Fargate profile batch-0 in status DELETING",
            ))
        })
        .times(2)
        .output(|| DeleteFargateProfileOutput::builder().build())
        .build();
    let gone = mock!(Client::describe_fargate_profile).then_error(|| {
        DescribeFargateProfileError::ResourceNotFoundException(
            ResourceNotFoundException::builder()
                .message("No Fargate Profile found with name: batch-1a2b3c4d.")
                .meta(meta(
                    "ResourceNotFoundException",
                    "No Fargate Profile found with name: batch-1a2b3c4d.",
                ))
                .build(),
        )
    });
    let ctx = context(&[&delete, &gone]);
    run_one(
        &ctx,
        "fargate-profile/batch",
        Operation::DeleteFargateProfile {
            cluster: CLUSTER.to_owned(),
            name: PROFILE.to_owned(),
        },
    )
    .await
    .unwrap();
    assert_eq!(delete.num_calls(), 3, "two refusals, then the delete");
}

#[tokio::test]
async fn a_failed_fargate_profile_names_what_eks_reports() {
    let create = mock!(Client::create_fargate_profile)
        .then_output(|| CreateFargateProfileOutput::builder().build());
    let failed = fargate_profile(
        FargateProfileStatus::CreateFailed,
        vec![
            FargateProfileIssue::builder()
                .code(FargateProfileIssueCode::AccessDenied)
                .message("The pod execution role cannot be assumed")
                .build(),
        ],
    );
    let ctx = context(&[&create, &failed]);
    let error = run_one(&ctx, "fargate-profile/batch", create_profile())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("CREATE_FAILED")
            && error.contains("AccessDenied: The pod execution role cannot be assumed"),
        "{error}"
    );
}

const NEW_ROLE: &str = "Role with arn: arn:aws:iam::111122223333:role/ekspec/demo/demo-cluster, could not be assumed because it does not exist or the trusted entity is not correct";

fn create_cluster() -> Operation {
    Operation::CreateCluster {
        name: CLUSTER.to_owned(),
        version: "1.31".to_owned(),
        role: Ref::Value("arn:aws:iam::111122223333:role/ekspec/demo/demo-cluster".to_owned()),
        subnets: vec![Ref::Value("subnet-1".to_owned())],
        endpoint_public_access: true,
        endpoint_private_access: true,
        public_access_cidrs: Vec::new(),
        logging: Vec::new(),
        encryption_key_arn: None,
        tags: Default::default(),
        auto_mode: None,
        support_type: "STANDARD".to_owned(),
        deletion_protection: false,
        zonal_shift: false,
        scaling_tier: "standard".to_owned(),
        ip_family: None,
    }
}

fn refusing_new_role(times: usize) -> Rule {
    mock!(Client::create_cluster)
        .sequence()
        .error(|| {
            CreateClusterError::InvalidParameterException(
                InvalidParameterException::builder()
                    .message(NEW_ROLE)
                    .meta(meta("InvalidParameterException", NEW_ROLE))
                    .build(),
            )
        })
        .times(times)
        .output(|| CreateClusterOutput::builder().build())
        .build()
}

#[tokio::test]
async fn a_new_role_eks_refuses_for_a_while_is_waited_for_with_a_progress_report() {
    // More refusals than the 10 a fixed retry count allowed (30 s of them on AWS, where IAM
    // may take minutes): the wait lasts until EKS accepts the role.
    let create = refusing_new_role(25);
    let ctx = context(&[&create, &active_cluster()]);
    let (result, states) = run_reported(&ctx, "cluster", create_cluster()).await;
    result.unwrap();
    assert_eq!(create.num_calls(), 26);
    assert!(
        states
            .iter()
            .any(|s| s.contains("not usable by EKS yet") && s.contains(NEW_ROLE)),
        "{states:?}"
    );
}

#[tokio::test]
async fn a_role_eks_never_accepts_fails_with_what_eks_said() {
    let create = refusing_new_role(100_000);
    let mut ctx = context(&[&create]);
    ctx.waiter.timeout = Duration::from_millis(300);
    let error = run_one(&ctx, "cluster", create_cluster())
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains(NEW_ROLE), "{error}");
}

#[test]
fn eks_gets_minutes_to_accept_a_new_role() {
    // terraform-provider-aws waits 2 minutes, aws-cdk#16037 saw 3: not 30 seconds.
    assert!(ROLE_PROPAGATION >= Duration::from_secs(180));
}
