//! EKS Pod Identity associations through the cloud layer: the AWS implementation with EKS
//! answering through SDK mocks in AWS's own shapes (pagination, errors, the client token), the
//! same implementation against the project's moto (tests/moto/pod_identity.py), and the
//! in-memory cloud's rules.

use std::sync::{Arc, Mutex};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_sdk_eks::Client;
use aws_sdk_eks::config::retry::RetryConfig;
use aws_sdk_eks::error::ErrorMetadata;
use aws_sdk_eks::operation::create_addon::CreateAddonOutput;
use aws_sdk_eks::operation::create_pod_identity_association::{
    CreatePodIdentityAssociationError, CreatePodIdentityAssociationOutput,
};
use aws_sdk_eks::operation::delete_pod_identity_association::DeletePodIdentityAssociationError;
use aws_sdk_eks::operation::describe_addon::DescribeAddonOutput;
use aws_sdk_eks::operation::describe_pod_identity_association::{
    DescribePodIdentityAssociationError, DescribePodIdentityAssociationOutput,
};
use aws_sdk_eks::operation::list_pod_identity_associations::ListPodIdentityAssociationsOutput;
use aws_sdk_eks::operation::update_addon::UpdateAddonOutput;
use aws_sdk_eks::operation::update_pod_identity_association::UpdatePodIdentityAssociationOutput;
use aws_sdk_eks::types::error::{ResourceInUseException, ResourceNotFoundException};
use aws_sdk_eks::types::{Addon, PodIdentityAssociation, PodIdentityAssociationSummary};
use aws_smithy_mocks::{MockResponseInterceptor, Rule, RuleMode, mock};
use ekspec::cloud::aws::{AwsCloud, ConnectOptions, connect};
use ekspec::cloud::memory::MemoryCloud;
use ekspec::cloud::*;
use serde_json::json;

use crate::moto::MotoServer;

const CLUSTER: &str = "demo";
const ACCOUNT: &str = "123456789012";
const EBS_ADDON: &str = "arn:aws:eks:us-east-1:123456789012:addon/demo/aws-ebs-csi-driver/1";

// --- SDK mocks ----------------------------------------------------------------------------------

/// The cloud with EKS answered by `rules` (any matching rule with a response left answers) and
/// the SDK retrying throttling as in a real run.
fn mocked(rules: &[&Rule]) -> Cloud {
    let mut interceptor = MockResponseInterceptor::new().rule_mode(RuleMode::MatchAny);
    for rule in rules {
        interceptor = interceptor.with_rule(rule);
    }
    let eks = aws_sdk_eks::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("AKID", "SECRET", None, None, "test"))
        .retry_config(RetryConfig::standard().with_max_attempts(3))
        .http_client(aws_smithy_mocks::create_mock_http_client())
        .interceptor(interceptor)
        .build();
    let shared = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .build();
    AwsCloud::new(&shared)
        .with_eks(Client::from_conf(eks))
        .into_cloud()
}

fn meta(code: &str, message: &str) -> ErrorMetadata {
    ErrorMetadata::builder().code(code).message(message).build()
}

fn arn(id: &str) -> String {
    format!("arn:aws:eks:us-east-1:{ACCOUNT}:podidentityassociation/{CLUSTER}/{id}")
}

fn role(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:role/ekspec/{CLUSTER}/{name}")
}

fn summary(id: &str, namespace: &str, service_account: &str) -> PodIdentityAssociationSummary {
    PodIdentityAssociationSummary::builder()
        .cluster_name(CLUSTER)
        .association_id(id)
        .association_arn(arn(id))
        .namespace(namespace)
        .service_account(service_account)
        .build()
}

fn described(id: &str, namespace: &str, service_account: &str) -> PodIdentityAssociation {
    PodIdentityAssociation::builder()
        .cluster_name(CLUSTER)
        .association_id(id)
        .association_arn(arn(id))
        .namespace(namespace)
        .service_account(service_account)
        .role_arn(role(service_account))
        .tags(
            "ekspec.io/resource",
            format!("pod-identity/{namespace}/{service_account}"),
        )
        .build()
}

fn request(namespace: &str, service_account: &str) -> PodIdentityAssociationRequest {
    PodIdentityAssociationRequest {
        cluster: CLUSTER.to_owned(),
        namespace: namespace.to_owned(),
        service_account: service_account.to_owned(),
        role_arn: role(service_account),
        tags: Tags::from([(
            "ekspec.io/resource".to_owned(),
            format!("pod-identity/{namespace}/{service_account}"),
        )]),
        client_request_token: "ekspec-0123456789abcdef".to_owned(),
    }
}

#[tokio::test]
async fn every_page_is_listed_and_each_association_described_with_its_role_tags_and_owner() {
    let first = mock!(Client::list_pod_identity_associations)
        .match_requests(|r| r.cluster_name() == Some(CLUSTER) && r.next_token().is_none())
        .then_output(|| {
            ListPodIdentityAssociationsOutput::builder()
                .associations(summary("a-2", "web", "app"))
                .associations(summary("a-gone", "web", "old"))
                .next_token("page-2")
                .build()
        });
    let second = mock!(Client::list_pod_identity_associations)
        .match_requests(|r| r.next_token() == Some("page-2"))
        .then_output(|| {
            ListPodIdentityAssociationsOutput::builder()
                .associations(summary("a-1", "kube-system", "ebs-csi-controller-sa"))
                .build()
        });
    let describe = |id: &'static str, namespace: &'static str, account: &'static str| {
        mock!(Client::describe_pod_identity_association)
            .match_requests(move |r| {
                r.cluster_name() == Some(CLUSTER) && r.association_id() == Some(id)
            })
            .then_output(move || {
                let association = if id == "a-1" {
                    // Made by the add-on: owned by it, without tags.
                    PodIdentityAssociation::builder()
                        .cluster_name(CLUSTER)
                        .association_id(id)
                        .association_arn(arn(id))
                        .namespace(namespace)
                        .service_account(account)
                        .role_arn(role(account))
                        .owner_arn(EBS_ADDON)
                        .build()
                } else {
                    described(id, namespace, account)
                };
                DescribePodIdentityAssociationOutput::builder()
                    .association(association)
                    .build()
            })
    };
    let app = describe("a-2", "web", "app");
    let ebs = describe("a-1", "kube-system", "ebs-csi-controller-sa");
    // Deleted between the list and its describe: left out, not an error.
    let gone = mock!(Client::describe_pod_identity_association)
        .match_requests(|r| r.association_id() == Some("a-gone"))
        .then_error(|| {
            DescribePodIdentityAssociationError::ResourceNotFoundException(
                ResourceNotFoundException::builder()
                    .message("Association not found")
                    .meta(meta("ResourceNotFoundException", "Association not found"))
                    .build(),
            )
        });
    let cloud = mocked(&[&first, &second, &app, &ebs, &gone]);

    let found = cloud
        .pod_identity
        .list_pod_identity_associations(CLUSTER)
        .await
        .unwrap();
    assert_eq!(first.num_calls(), 1);
    assert_eq!(second.num_calls(), 1, "the second page is read");
    assert_eq!(
        found,
        vec![
            ObservedPodIdentityAssociation {
                association_id: "a-1".to_owned(),
                association_arn: arn("a-1"),
                namespace: "kube-system".to_owned(),
                service_account: "ebs-csi-controller-sa".to_owned(),
                role_arn: role("ebs-csi-controller-sa"),
                owner_arn: Some(EBS_ADDON.to_owned()),
                tags: Tags::new(),
            },
            ObservedPodIdentityAssociation {
                association_id: "a-2".to_owned(),
                association_arn: arn("a-2"),
                namespace: "web".to_owned(),
                service_account: "app".to_owned(),
                role_arn: role("app"),
                owner_arn: None,
                tags: Tags::from([(
                    "ekspec.io/resource".to_owned(),
                    "pod-identity/web/app".to_owned()
                )]),
            },
        ]
    );
}

/// A create rule that records the client token of every request it answers.
fn recording_create(tokens: Arc<Mutex<Vec<String>>>) -> Rule {
    mock!(Client::create_pod_identity_association)
        .match_requests(move |r| {
            tokens
                .lock()
                .unwrap()
                .push(r.client_request_token().unwrap_or("<none>").to_owned());
            r.cluster_name() == Some(CLUSTER)
                && r.namespace() == Some("web")
                && r.service_account() == Some("app")
                && r.role_arn() == Some(role("app").as_str())
                && r.tags().and_then(|t| t.get("ekspec.io/resource"))
                    == Some(&"pod-identity/web/app".to_owned())
        })
        .then_output(|| {
            CreatePodIdentityAssociationOutput::builder()
                .association(described("a-new", "web", "app"))
                .build()
        })
}

#[tokio::test]
async fn a_create_sends_the_tags_and_the_callers_client_token_on_every_attempt() {
    let tokens = Arc::new(Mutex::new(Vec::new()));
    let create = recording_create(tokens.clone());
    let cloud = mocked(&[&create]);
    let request = request("web", "app");
    // The same create sent again (a lost answer, a retried step): the same token, so EKS
    // answers the association it made instead of a second one.
    for _ in 0..2 {
        let id = cloud
            .pod_identity
            .create_pod_identity_association(&request)
            .await
            .unwrap();
        assert_eq!(id, "a-new");
    }
    assert_eq!(create.num_calls(), 2);
    assert_eq!(
        *tokens.lock().unwrap(),
        vec!["ekspec-0123456789abcdef"; 2],
        "the token is the request's, not one the SDK makes up per call"
    );
}

#[tokio::test]
async fn a_second_association_for_a_service_account_is_in_use_and_names_it() {
    const TAKEN: &str = "Association already exists: a-hglcskyuft3ui87hc";
    let create = mock!(Client::create_pod_identity_association).then_error(|| {
        CreatePodIdentityAssociationError::ResourceInUseException(
            ResourceInUseException::builder()
                .message(TAKEN)
                .meta(meta("ResourceInUseException", TAKEN))
                .build(),
        )
    });
    let error = mocked(&[&create])
        .pod_identity
        .create_pod_identity_association(&request("web", "app"))
        .await
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::InUse);
    assert_eq!(error.operation, "CreatePodIdentityAssociation");
    assert_eq!(
        error.resource,
        "pod identity association web/app of cluster demo"
    );
    assert!(error.to_string().contains(TAKEN), "{error}");
}

#[tokio::test]
async fn an_association_for_a_missing_cluster_is_not_found() {
    const GONE: &str = "No cluster found for name: demo.";
    let create = mock!(Client::create_pod_identity_association).then_error(|| {
        CreatePodIdentityAssociationError::ResourceNotFoundException(
            ResourceNotFoundException::builder()
                .message(GONE)
                .meta(meta("ResourceNotFoundException", GONE))
                .build(),
        )
    });
    let error = mocked(&[&create])
        .pod_identity
        .create_pod_identity_association(&request("web", "app"))
        .await
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::NotFound);
    assert!(error.to_string().contains(GONE), "{error}");
}

#[tokio::test]
async fn an_update_points_the_association_at_the_role_and_a_delete_of_a_gone_one_succeeds() {
    let update = mock!(Client::update_pod_identity_association)
        .match_requests(|r| {
            r.cluster_name() == Some(CLUSTER)
                && r.association_id() == Some("a-1")
                && r.role_arn() == Some(role("other").as_str())
        })
        .then_output(|| {
            UpdatePodIdentityAssociationOutput::builder()
                .association(described("a-1", "web", "other"))
                .build()
        });
    let delete = mock!(Client::delete_pod_identity_association)
        .match_requests(|r| r.association_id() == Some("a-1"))
        .then_error(|| {
            DeletePodIdentityAssociationError::ResourceNotFoundException(
                ResourceNotFoundException::builder()
                    .message("Association not found: a-1")
                    .meta(meta(
                        "ResourceNotFoundException",
                        "Association not found: a-1",
                    ))
                    .build(),
            )
        });
    let cloud = mocked(&[&update, &delete]);
    cloud
        .pod_identity
        .update_pod_identity_association(CLUSTER, "a-1", &role("other"))
        .await
        .unwrap();
    assert_eq!(update.num_calls(), 1);
    cloud
        .pod_identity
        .delete_pod_identity_association(CLUSTER, "a-1")
        .await
        .unwrap();
    assert_eq!(delete.num_calls(), 1);
}

fn addon_request(associations: Option<Vec<AddonPodIdentity>>) -> AddonRequest {
    AddonRequest {
        cluster: CLUSTER.to_owned(),
        name: "aws-ebs-csi-driver".to_owned(),
        version: "v1.44.0-eksbuild.1".to_owned(),
        service_account_role_arn: None,
        configuration_values: None,
        pod_identity_associations: associations,
        tags: Tags::new(),
        client_request_token: "ekspec-addon".to_owned(),
    }
}

fn ebs_association() -> AddonPodIdentity {
    AddonPodIdentity {
        service_account: "ebs-csi-controller-sa".to_owned(),
        role_arn: role("ebs"),
    }
}

#[tokio::test]
async fn add_on_associations_are_sent_as_given_and_left_out_when_none() {
    let create = mock!(Client::create_addon)
        .match_requests(|r| {
            r.pod_identity_associations().len() == 1
                && r.pod_identity_associations()[0].service_account() == "ebs-csi-controller-sa"
                && r.pod_identity_associations()[0].role_arn() == role("ebs")
        })
        .then_output(|| CreateAddonOutput::builder().build());
    // On update, an empty list deletes the add-on's associations and no list keeps them: the
    // two must reach EKS as different requests.
    let cleared = mock!(Client::update_addon)
        .match_requests(|r| {
            r.pod_identity_associations
                .as_ref()
                .is_some_and(Vec::is_empty)
        })
        .then_output(|| UpdateAddonOutput::builder().build());
    let kept = mock!(Client::update_addon)
        .match_requests(|r| r.pod_identity_associations.is_none())
        .then_output(|| UpdateAddonOutput::builder().build());
    let cloud = mocked(&[&create, &cleared, &kept]);
    let eks = &cloud.kubernetes;
    eks.create_addon(&addon_request(Some(vec![ebs_association()])))
        .await
        .unwrap();
    eks.update_addon(&addon_request(Some(Vec::new())))
        .await
        .unwrap();
    eks.update_addon(&addon_request(None)).await.unwrap();
    assert_eq!(
        (create.num_calls(), cleared.num_calls(), kept.num_calls()),
        (1, 1, 1)
    );
}

#[tokio::test]
async fn an_add_on_is_read_with_the_arns_of_its_associations() {
    let describe = mock!(Client::describe_addon).then_output(|| {
        DescribeAddonOutput::builder()
            .addon(
                Addon::builder()
                    .addon_name("aws-ebs-csi-driver")
                    .addon_version("v1.44.0-eksbuild.1")
                    .pod_identity_associations(arn("a-2"))
                    .pod_identity_associations(arn("a-1"))
                    .build(),
            )
            .build()
    });
    let addon = mocked(&[&describe])
        .kubernetes
        .describe_addon(CLUSTER, "aws-ebs-csi-driver")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        addon.pod_identity_associations,
        vec![arn("a-1"), arn("a-2")]
    );
}

// --- Against the project's moto ----------------------------------------------------------------

async fn moto_cloud(moto: &MotoServer) -> Cloud {
    connect(&ConnectOptions {
        region: "us-east-1".to_owned(),
        endpoint_url: Some(moto.endpoint()),
        credentials: Some(("testing".to_owned(), "testing".to_owned())),
        ..ConnectOptions::default()
    })
    .await
    .unwrap()
}

fn trust(service: &str, actions: &[&str]) -> serde_json::Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": actions}],
    })
}

async fn make_role(cloud: &Cloud, name: &str, trust_policy: serde_json::Value) -> String {
    cloud
        .identity
        .create_role(&RoleRequest {
            name: format!("{CLUSTER}-{name}"),
            path: format!("/ekspec/{CLUSTER}/"),
            trust_policy,
            description: name.to_owned(),
            tags: Tags::new(),
        })
        .await
        .unwrap()
}

fn owned() -> Tags {
    Tags::from([("ekspec.io/cluster".to_owned(), CLUSTER.to_owned())])
}

/// A pod role as ekspec makes it: trusted by EKS Pod Identity.
async fn pod_role(cloud: &Cloud, name: &str) -> String {
    make_role(
        cloud,
        name,
        trust(
            "pods.eks.amazonaws.com",
            &["sts:AssumeRole", "sts:TagSession"],
        ),
    )
    .await
}

/// A cluster `demo` (VPC, two subnets, its role), waited for until ACTIVE; returns its request.
async fn active_cluster(cloud: &Cloud) -> ClusterRequest {
    let vpc = cloud
        .network
        .create_vpc("10.0.0.0/16", &owned())
        .await
        .unwrap();
    let mut subnets = Vec::new();
    for (cidr, zone) in [
        ("10.0.0.0/20", "us-east-1a"),
        ("10.0.16.0/20", "us-east-1b"),
    ] {
        subnets.push(
            cloud
                .network
                .create_subnet(&SubnetRequest {
                    vpc_id: vpc.clone(),
                    cidr: cidr.to_owned(),
                    availability_zone: zone.to_owned(),
                    public: false,
                    tags: owned(),
                })
                .await
                .unwrap(),
        );
    }
    let role = make_role(
        cloud,
        "cluster",
        trust("eks.amazonaws.com", &["sts:AssumeRole"]),
    )
    .await;
    let request = ClusterRequest {
        name: CLUSTER.to_owned(),
        version: "1.31".to_owned(),
        role_arn: role,
        subnet_ids: subnets,
        endpoint_public_access: true,
        endpoint_private_access: true,
        public_access_cidrs: Vec::new(),
        enabled_log_types: Vec::new(),
        encryption_key_arn: None,
        tags: Tags::new(),
        client_request_token: "token-cluster".to_owned(),
        auto_mode: None,
        support_type: "STANDARD".to_owned(),
        deletion_protection: false,
        zonal_shift: false,
        scaling_tier: "standard".to_owned(),
        ip_family: None,
    };
    cloud.kubernetes.create_cluster(&request).await.unwrap();
    for _ in 0..100 {
        let cluster = cloud.kubernetes.describe_cluster(CLUSTER).await.unwrap();
        if cluster.is_some_and(|c| c.status == "ACTIVE") {
            return request;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the cluster never became ACTIVE");
}

fn moto_request(
    namespace: &str,
    service_account: &str,
    role_arn: &str,
) -> PodIdentityAssociationRequest {
    PodIdentityAssociationRequest {
        role_arn: role_arn.to_owned(),
        client_request_token: format!("token-{namespace}-{service_account}"),
        ..request(namespace, service_account)
    }
}

#[tokio::test]
async fn associations_are_created_listed_updated_tagged_and_deleted_on_moto() {
    let moto = MotoServer::start();
    let cloud = moto_cloud(&moto).await;
    let _ = active_cluster(&cloud).await;
    let app = pod_role(&cloud, "app").await;
    let other = pod_role(&cloud, "other").await;
    let pods = &cloud.pod_identity;

    let request = moto_request("web", "app", &app);
    let id = pods
        .create_pod_identity_association(&request)
        .await
        .unwrap();
    assert!(id.starts_with("a-"), "{id}");
    // The same request with the same token (a lost answer): the same association.
    assert_eq!(
        pods.create_pod_identity_association(&request)
            .await
            .unwrap(),
        id
    );
    // Another request for the service account: refused, not a second association.
    let error = pods
        .create_pod_identity_association(&PodIdentityAssociationRequest {
            client_request_token: "token-another".to_owned(),
            ..request.clone()
        })
        .await
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::InUse, "{error}");
    assert_eq!(error.code.as_deref(), Some("ResourceInUseException"));
    assert!(error.message.contains(&id), "{error}");
    assert_eq!(
        error.resource,
        "pod identity association web/app of cluster demo"
    );

    let listed = pods.list_pod_identity_associations(CLUSTER).await.unwrap();
    assert_eq!(
        listed,
        vec![ObservedPodIdentityAssociation {
            association_id: id.clone(),
            association_arn: format!(
                "arn:aws:eks:us-east-1:{ACCOUNT}:podidentityassociation/{CLUSTER}/{id}"
            ),
            namespace: "web".to_owned(),
            service_account: "app".to_owned(),
            role_arn: app.clone(),
            owner_arn: None,
            tags: request.tags.clone(),
        }]
    );

    pods.update_pod_identity_association(CLUSTER, &id, &other)
        .await
        .unwrap();
    cloud
        .kubernetes
        .tag_resource(
            &listed[0].association_arn,
            &Tags::from([("team".to_owned(), "web".to_owned())]),
        )
        .await
        .unwrap();
    let listed = pods.list_pod_identity_associations(CLUSTER).await.unwrap();
    assert_eq!(listed[0].role_arn, other);
    assert_eq!(listed[0].tags.get("team").map(String::as_str), Some("web"));

    pods.delete_pod_identity_association(CLUSTER, &id)
        .await
        .unwrap();
    assert_eq!(
        pods.list_pod_identity_associations(CLUSTER).await.unwrap(),
        []
    );
    // Already gone: succeeds.
    pods.delete_pod_identity_association(CLUSTER, &id)
        .await
        .unwrap();
}

#[tokio::test]
async fn moto_refuses_a_role_that_does_not_exist_in_aws_words() {
    let moto = MotoServer::start();
    let cloud = moto_cloud(&moto).await;
    let _ = active_cluster(&cloud).await;
    let error = cloud
        .pod_identity
        .create_pod_identity_association(&moto_request("web", "app", &role("missing")))
        .await
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::Invalid, "{error}");
    assert_eq!(error.message, "Role provided in the request does not exist");
}

#[tokio::test]
async fn strict_moto_refuses_a_role_that_does_not_trust_pod_identity() {
    let moto = MotoServer::strict();
    let cloud = moto_cloud(&moto).await;
    let _ = active_cluster(&cloud).await;
    // An IRSA role, and one trusted by Pod Identity without sts:TagSession.
    let irsa = make_role(
        &cloud,
        "irsa",
        trust("eks.amazonaws.com", &["sts:AssumeRoleWithWebIdentity"]),
    )
    .await;
    let untagged = make_role(
        &cloud,
        "untagged",
        trust("pods.eks.amazonaws.com", &["sts:AssumeRole"]),
    )
    .await;
    for role_arn in [&irsa, &untagged] {
        let error = cloud
            .pod_identity
            .create_pod_identity_association(&moto_request("web", "app", role_arn))
            .await
            .unwrap_err();
        assert_eq!(error.kind, ErrorKind::Invalid, "{error}");
        assert_eq!(
            error.message,
            "Trust policy of the role provided is invalid."
        );
    }
    let app = pod_role(&cloud, "app").await;
    cloud
        .pod_identity
        .create_pod_identity_association(&moto_request("web", "app", &app))
        .await
        .unwrap();
}

#[tokio::test]
async fn strict_moto_does_not_see_a_new_role_until_it_propagates() {
    let moto = MotoServer::strict();
    let cloud = moto_cloud(&moto).await;
    let _ = active_cluster(&cloud).await;
    moto.control("iam-propagation", json!({"seconds": 2}));
    let app = pod_role(&cloud, "app").await;
    let request = moto_request("web", "app", &app);
    let error = cloud
        .pod_identity
        .create_pod_identity_association(&request)
        .await
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::Invalid, "{error}");
    assert_eq!(error.message, "Role provided in the request does not exist");
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    cloud
        .pod_identity
        .create_pod_identity_association(&request)
        .await
        .unwrap();
}

#[tokio::test]
async fn add_on_associations_appear_with_their_owner_and_go_with_the_add_on_on_moto() {
    let moto = MotoServer::start();
    let cloud = moto_cloud(&moto).await;
    let _ = active_cluster(&cloud).await;
    let ebs = pod_role(&cloud, "ebs").await;
    let eks = &cloud.kubernetes;
    let pods = &cloud.pod_identity;
    let wanted = vec![AddonPodIdentity {
        service_account: "ebs-csi-controller-sa".to_owned(),
        role_arn: ebs.clone(),
    }];
    // An add-on cannot take over a standalone association of its service account.
    let standalone = pods
        .create_pod_identity_association(&moto_request(
            "kube-system",
            "ebs-csi-controller-sa",
            &ebs,
        ))
        .await
        .unwrap();
    let error = eks
        .create_addon(&addon_request(Some(wanted.clone())))
        .await
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::InUse, "{error}");
    assert!(
        eks.describe_addon(CLUSTER, "aws-ebs-csi-driver")
            .await
            .unwrap()
            .is_none()
    );
    pods.delete_pod_identity_association(CLUSTER, &standalone)
        .await
        .unwrap();
    eks.create_addon(&addon_request(Some(wanted.clone())))
        .await
        .unwrap();

    let addon = eks
        .describe_addon(CLUSTER, "aws-ebs-csi-driver")
        .await
        .unwrap()
        .unwrap();
    let listed = pods.list_pod_identity_associations(CLUSTER).await.unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    let association = &listed[0];
    assert_eq!(
        (
            association.namespace.as_str(),
            association.service_account.as_str(),
            association.role_arn.as_str(),
            association.owner_arn.as_deref(),
        ),
        (
            "kube-system",
            "ebs-csi-controller-sa",
            ebs.as_str(),
            Some(addon.arn.as_str())
        )
    );
    assert_eq!(
        addon.pod_identity_associations,
        vec![association.association_arn.clone()]
    );

    // A standalone association for the add-on's service account is refused.
    let error = pods
        .create_pod_identity_association(&moto_request(
            "kube-system",
            "ebs-csi-controller-sa",
            &ebs,
        ))
        .await
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::InUse, "{error}");

    // Not sent: the associations stay; an empty list deletes them.
    eks.update_addon(&addon_request(None)).await.unwrap();
    assert_eq!(
        pods.list_pod_identity_associations(CLUSTER)
            .await
            .unwrap()
            .len(),
        1
    );
    eks.update_addon(&addon_request(Some(Vec::new())))
        .await
        .unwrap();
    assert_eq!(
        pods.list_pod_identity_associations(CLUSTER).await.unwrap(),
        []
    );
    let addon = eks
        .describe_addon(CLUSTER, "aws-ebs-csi-driver")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(addon.pod_identity_associations, Vec::<String>::new());

    // Given back, then the add-on deleted: its associations go with it.
    eks.update_addon(&addon_request(Some(wanted)))
        .await
        .unwrap();
    assert_eq!(
        pods.list_pod_identity_associations(CLUSTER)
            .await
            .unwrap()
            .len(),
        1
    );
    eks.delete_addon(CLUSTER, "aws-ebs-csi-driver")
        .await
        .unwrap();
    assert_eq!(
        pods.list_pod_identity_associations(CLUSTER).await.unwrap(),
        []
    );
}

#[tokio::test]
async fn associations_go_with_their_cluster_on_moto() {
    let moto = MotoServer::start();
    let cloud = moto_cloud(&moto).await;
    let cluster = active_cluster(&cloud).await;
    let app = pod_role(&cloud, "app").await;
    cloud
        .pod_identity
        .create_pod_identity_association(&moto_request("web", "app", &app))
        .await
        .unwrap();
    cloud.kubernetes.delete_cluster(CLUSTER).await.unwrap();
    let error = cloud
        .pod_identity
        .list_pod_identity_associations(CLUSTER)
        .await
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::NotFound, "{error}");
    // A new cluster of that name starts without them.
    cloud.kubernetes.create_cluster(&cluster).await.unwrap();
    assert_eq!(
        cloud
            .pod_identity
            .list_pod_identity_associations(CLUSTER)
            .await
            .unwrap(),
        []
    );
}

// --- The in-memory cloud -----------------------------------------------------------------------

async fn memory_with_cluster() -> (MemoryCloud, Cloud) {
    let aws = MemoryCloud::new();
    let cloud = aws.cloud();
    cloud
        .kubernetes
        .create_cluster(&ClusterRequest {
            name: CLUSTER.to_owned(),
            version: "1.31".to_owned(),
            role_arn: role("cluster"),
            subnet_ids: Vec::new(),
            endpoint_public_access: true,
            endpoint_private_access: false,
            public_access_cidrs: Vec::new(),
            enabled_log_types: Vec::new(),
            encryption_key_arn: None,
            tags: Tags::new(),
            client_request_token: "token-cluster".to_owned(),
            auto_mode: None,
            support_type: "STANDARD".to_owned(),
            deletion_protection: false,
            zonal_shift: false,
            scaling_tier: "standard".to_owned(),
            ip_family: None,
        })
        .await
        .unwrap();
    (aws, cloud)
}

#[tokio::test]
async fn the_memory_cloud_keeps_one_association_per_service_account_and_honours_the_token() {
    let (_aws, cloud) = memory_with_cluster().await;
    let pods = &cloud.pod_identity;
    let request = request("web", "app");
    let id = pods
        .create_pod_identity_association(&request)
        .await
        .unwrap();
    assert_eq!(
        pods.create_pod_identity_association(&request)
            .await
            .unwrap(),
        id
    );
    let error = pods
        .create_pod_identity_association(&PodIdentityAssociationRequest {
            client_request_token: "another".to_owned(),
            ..request.clone()
        })
        .await
        .unwrap_err();
    assert_eq!(
        (error.kind, error.code.as_deref()),
        (ErrorKind::InUse, Some("ResourceInUseException"))
    );
    pods.update_pod_identity_association(CLUSTER, &id, &role("other"))
        .await
        .unwrap();
    let listed = pods.list_pod_identity_associations(CLUSTER).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].role_arn, role("other"));
    assert_eq!(listed[0].tags, request.tags);
    assert_eq!(listed[0].owner_arn, None);

    let missing = pods
        .create_pod_identity_association(&PodIdentityAssociationRequest {
            cluster: "other".to_owned(),
            ..request.clone()
        })
        .await
        .unwrap_err();
    assert_eq!(missing.kind, ErrorKind::NotFound);

    pods.delete_pod_identity_association(CLUSTER, &id)
        .await
        .unwrap();
    pods.delete_pod_identity_association(CLUSTER, &id)
        .await
        .unwrap();
    assert_eq!(
        pods.list_pod_identity_associations(CLUSTER).await.unwrap(),
        []
    );
}

#[tokio::test]
async fn the_memory_cloud_gives_add_on_associations_their_owner_and_removes_them_with_it() {
    let (aws, cloud) = memory_with_cluster().await;
    let (eks, pods) = (&cloud.kubernetes, &cloud.pod_identity);
    eks.create_addon(&addon_request(Some(vec![ebs_association()])))
        .await
        .unwrap();
    let addon = eks
        .describe_addon(CLUSTER, "aws-ebs-csi-driver")
        .await
        .unwrap()
        .unwrap();
    let listed = pods.list_pod_identity_associations(CLUSTER).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].owner_arn.as_deref(), Some(addon.arn.as_str()));
    assert_eq!(
        (
            listed[0].namespace.as_str(),
            listed[0].service_account.as_str()
        ),
        ("kube-system", "ebs-csi-controller-sa")
    );
    assert_eq!(
        addon.pod_identity_associations,
        vec![listed[0].association_arn.clone()]
    );

    // A standalone association cannot take the add-on's service account.
    let error = pods
        .create_pod_identity_association(&request("kube-system", "ebs-csi-controller-sa"))
        .await
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::InUse);

    eks.update_addon(&addon_request(None)).await.unwrap();
    assert_eq!(
        pods.list_pod_identity_associations(CLUSTER)
            .await
            .unwrap()
            .len(),
        1
    );
    eks.update_addon(&addon_request(Some(Vec::new())))
        .await
        .unwrap();
    assert_eq!(
        pods.list_pod_identity_associations(CLUSTER).await.unwrap(),
        []
    );
    let addon = eks
        .describe_addon(CLUSTER, "aws-ebs-csi-driver")
        .await
        .unwrap()
        .unwrap();
    assert!(addon.pod_identity_associations.is_empty());

    eks.update_addon(&addon_request(Some(vec![ebs_association()])))
        .await
        .unwrap();
    eks.delete_addon(CLUSTER, "aws-ebs-csi-driver")
        .await
        .unwrap();
    assert_eq!(
        pods.list_pod_identity_associations(CLUSTER).await.unwrap(),
        []
    );

    // Associations go with their cluster.
    pods.create_pod_identity_association(&request("web", "app"))
        .await
        .unwrap();
    let before = aws.resource_count();
    eks.delete_cluster(CLUSTER).await.unwrap();
    assert_eq!(
        aws.resource_count(),
        before - 2,
        "the cluster and its association"
    );
}
