//! `ekspec export` through the real binary against strict moto: a cluster ekspec made exports
//! to a spec that plans `No changes.`; a cluster made directly with the SDK the way eksctl
//! names and tags things exports to a valid spec with a brought-in VPC and a stderr list of
//! what the spec cannot carry; and the errors a user can run into are clear.

use std::time::Duration;

use aws_sdk_ec2::types::{
    LaunchTemplateBlockDeviceMappingRequest, LaunchTemplateEbsBlockDeviceRequest,
    LaunchTemplateHttpTokensState, LaunchTemplateInstanceMetadataOptionsRequest,
    RequestLaunchTemplateData, ResourceType, Tag, TagSpecification, VolumeType,
};
use aws_sdk_eks::types::{
    AccessScope, AccessScopeType, AuthenticationMode, CreateAccessConfigRequest,
    LaunchTemplateSpecification, LogSetup, LogType, Logging, NodegroupScalingConfig, Taint,
    TaintEffect, VpcConfigRequest,
};
use serde_json::json;
use tempfile::TempDir;

use crate::e2e::Emulated;
use crate::inventory::Inventory;
use crate::support::{Ekspec, repo};

const REGION: &str = "us-east-1";

/// Applies an example, exports its cluster, and checks the export plans `No changes.` and
/// contains `expected`; returns export's stderr.
fn round_trip(example: &str, cluster: &str, expected: &[&str]) -> String {
    let aws = Emulated::start();
    let text = std::fs::read_to_string(repo().join("examples").join(example)).unwrap();
    round_trip_of(&aws, &text, cluster, REGION, expected)
}

/// Applies `text`, exports cluster `cluster` of `region` and checks the export.
fn round_trip_of(
    aws: &Emulated,
    text: &str,
    cluster: &str,
    region: &str,
    expected: &[&str],
) -> String {
    let spec = aws.spec("applied.yaml", text);
    aws.expect(0, &["apply", "-f", &spec, "--auto-approve"]);

    let exported = aws.spec("exported.yaml", "");
    std::fs::remove_file(&exported).unwrap();
    let args = [
        "export", "--name", cluster, "--region", region, "-o", &exported,
    ];
    let out = aws.expect(0, &args);
    let text = std::fs::read_to_string(&exported).unwrap();
    for expected in expected {
        assert!(text.contains(expected), "no `{expected}` in\n{text}");
    }
    // ekspec's own bookkeeping and defaults stay out of the spec.
    for unwanted in [
        "ekspec.io/",
        "interruptionQueue",
        "availabilityZones",
        "zoneCount: 3",
    ] {
        assert!(!text.contains(unwanted), "`{unwanted}` in\n{text}");
    }
    aws.expect(0, &["validate", "-f", &exported]);
    let plan = aws.expect(0, &["plan", "-f", &exported, "--detailed-exitcode"]);
    assert_eq!(plan.stdout.trim(), "No changes.", "{text}");

    // An existing file is not overwritten without --force, and is with it.
    let again = aws.expect(1, &args);
    assert!(again.stderr.contains("pass --force"), "{}", again.stderr);
    aws.expect(0, &[&args[..], &["--force"]].concat());
    out.stderr
}

#[test]
fn the_production_example_exported_plans_no_changes() {
    let stderr = round_trip(
        "production.yaml",
        "prod",
        &[
            "cidr: 10.20.0.0/16",
            "natGateway: perZone",
            "publicAccessCidrs: [198.51.100.17/32, 203.0.113.0/24]",
            "logging: [api, audit, authenticator, controllerManager, scheduler]",
            "keyArn: arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "taints: [{key: CriticalAddonsOnly, value: \"true\", effect: NoSchedule}]",
            "maxUnavailablePercentage: 25",
            "diskSizeGiB: 100",
            "- name: cluster-autoscaler",
            "aws:ResourceTag/k8s.io/cluster-autoscaler/prod: owned",
            "serviceAccount: ebs-csi-controller-sa",
            "scope: {namespaces: [apps, staging]}",
            "cost-center: \"4711\"",
        ],
    );
    // The one thing of an ekspec cluster that is not its: the creator's access entry.
    assert!(
        stderr.contains("left out: access-entry ")
            && stderr.contains("the cluster creator's entry is one")
            && stderr.contains("1 live setting left out"),
        "{stderr}"
    );
}

#[test]
fn the_karpenter_example_exported_plans_no_changes() {
    round_trip(
        "karpenter.yaml",
        "karpenter",
        &[
            "  karpenter:\n    version: 1.8.1\n",
            "- name: eks-pod-identity-agent",
        ],
    );
}

#[test]
fn the_pod_identity_example_exported_plans_no_changes() {
    round_trip(
        "pod-identity.yaml",
        "pid",
        &[
            "zoneCount: 2",
            "- name: orders-api\n      namespace: shop\n      mechanism: podIdentity",
            "serviceAccount: ebs-csi-controller-sa",
            "Action: [sqs:SendMessage]",
        ],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_existing_vpc_example_exported_plans_no_changes() {
    let aws = Emulated::start();
    let inventory = aws.inventory("eu-west-1").await;
    let ec2 = &inventory.ec2;
    let vpc = ec2
        .create_vpc()
        .cidr_block("10.50.0.0/16")
        .send()
        .await
        .unwrap()
        .vpc()
        .unwrap()
        .vpc_id()
        .unwrap()
        .to_owned();
    let mut subnets = Vec::new();
    for (i, zone) in [
        "eu-west-1a",
        "eu-west-1b",
        "eu-west-1c",
        "eu-west-1a",
        "eu-west-1b",
    ]
    .iter()
    .enumerate()
    {
        let subnet = ec2
            .create_subnet()
            .vpc_id(&vpc)
            .cidr_block(format!("10.50.{}.0/20", i * 16))
            .availability_zone(*zone)
            .send()
            .await
            .unwrap();
        subnets.push(subnet.subnet().unwrap().subnet_id().unwrap().to_owned());
    }
    // Private subnets listed against their sort order: the node group's EKS name hashes them
    // in the spec's order, which export has to find again.
    let (private, public) = subnets.split_at_mut(3);
    private.sort_by(|a, b| b.cmp(a));
    public.sort();
    let example = std::fs::read_to_string(repo().join("examples/existing-vpc.yaml")).unwrap();
    let text = example
        .replace("vpc-0123456789abcdef0", &vpc)
        .replace(
            "[subnet-0a1b2c3d4e5f60718, subnet-0a1b2c3d4e5f60719, subnet-0a1b2c3d4e5f6071a]",
            &format!("[{}]", private.join(", ")),
        )
        .replace(
            "[subnet-0b1b2c3d4e5f60718, subnet-0b1b2c3d4e5f60719]",
            &format!("[{}]", public.join(", ")),
        );
    round_trip_of(
        &aws,
        &text,
        "shared-net",
        "eu-west-1",
        &[
            &format!("id: {vpc}"),
            &format!("private: [{}]", private.join(", ")),
            &format!("public: [{}]", public.join(", ")),
            "amiType: AL2023_ARM_64_STANDARD",
            "tags: {team: payments}",
        ],
    );
}

fn tags(resource: ResourceType, pairs: &[(&str, &str)]) -> TagSpecification {
    pairs
        .iter()
        .fold(
            TagSpecification::builder().resource_type(resource),
            |b, (k, v)| b.tags(Tag::builder().key(*k).value(*v).build()),
        )
        .build()
}

pub async fn role(inventory: &Inventory, name: &str, trust: serde_json::Value) -> String {
    inventory
        .iam
        .create_role()
        .role_name(name)
        .assume_role_policy_document(trust.to_string())
        .send()
        .await
        .unwrap()
        .role()
        .unwrap()
        .arn()
        .to_owned()
}

pub fn service(principal: &str) -> serde_json::Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": principal}, "Action": "sts:AssumeRole"}]})
}

/// A trust policy of eksctl's `iam.serviceAccounts`: the provider, for `sub` under `operator`.
fn irsa_trust(provider: &str, host: &str, operator: &str, sub: &str) -> serde_json::Value {
    json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow",
        "Principal": {"Federated": provider},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {operator: {format!("{host}:sub"): sub, format!("{host}:aud"): "sts.amazonaws.com"}}
    }]})
}

/// Waits until the cluster, or a node group of it, is ACTIVE.
pub async fn active(inventory: &Inventory, cluster: &str, nodegroup: Option<&str>) {
    for _ in 0..100 {
        let status = match nodegroup {
            None => inventory
                .eks
                .describe_cluster()
                .name(cluster)
                .send()
                .await
                .unwrap()
                .cluster()
                .and_then(|c| c.status().map(|s| s.as_str().to_owned())),
            Some(group) => inventory
                .eks
                .describe_nodegroup()
                .cluster_name(cluster)
                .nodegroup_name(group)
                .send()
                .await
                .unwrap()
                .nodegroup()
                .and_then(|g| g.status().map(|s| s.as_str().to_owned())),
        };
        if status.as_deref() == Some("ACTIVE") {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("{cluster} {nodegroup:?} never became ACTIVE");
}

/// A route table of `vpc` whose default route (0.0.0.0/0) goes to `gateway`, an internet
/// gateway (`igw-`) or a NAT gateway (`nat-`). Returns its id.
pub async fn route_table_with_default_route(
    ec2: &aws_sdk_ec2::Client,
    vpc: &str,
    gateway: &str,
) -> String {
    let table = ec2
        .create_route_table()
        .vpc_id(vpc)
        .send()
        .await
        .unwrap()
        .route_table()
        .unwrap()
        .route_table_id()
        .unwrap()
        .to_owned();
    let route = ec2
        .create_route()
        .route_table_id(&table)
        .destination_cidr_block("0.0.0.0/0");
    let route = if gateway.starts_with("nat-") {
        route.nat_gateway_id(gateway)
    } else {
        route.gateway_id(gateway)
    };
    route.send().await.unwrap();
    table
}

/// What eksctl makes for `eksctl create cluster -f` with one managed node group, IRSA service
/// accounts, the vpc-cni add-on with its role and an access entry, named and tagged as eksctl
/// does (its CloudFormation stacks tag the cluster with `aws:cloudformation:*`, which users
/// cannot set: moto takes them). Returns the VPC id and its (public, private) subnets.
pub async fn eksctl_cluster(
    inventory: &Inventory,
    name: &str,
) -> (String, Vec<String>, Vec<String>) {
    let ec2 = &inventory.ec2;
    let owner = [("alpha.eksctl.io/cluster-name", name)];
    let vpc = ec2
        .create_vpc()
        .cidr_block("192.168.0.0/16")
        .tag_specifications(tags(ResourceType::Vpc, &owner))
        .send()
        .await
        .unwrap()
        .vpc()
        .unwrap()
        .vpc_id()
        .unwrap()
        .to_owned();
    let igw = ec2
        .create_internet_gateway()
        .send()
        .await
        .unwrap()
        .internet_gateway()
        .unwrap()
        .internet_gateway_id()
        .unwrap()
        .to_owned();
    ec2.attach_internet_gateway()
        .internet_gateway_id(&igw)
        .vpc_id(&vpc)
        .send()
        .await
        .unwrap();
    let public_table = route_table_with_default_route(ec2, &vpc, &igw).await;
    let mut public = Vec::new();
    let mut private = Vec::new();
    for (cidr, zone, is_public) in [
        ("192.168.0.0/19", "us-east-1a", true),
        ("192.168.32.0/19", "us-east-1b", true),
        ("192.168.64.0/19", "us-east-1a", false),
        ("192.168.96.0/19", "us-east-1b", false),
    ] {
        let subnet = ec2
            .create_subnet()
            .vpc_id(&vpc)
            .cidr_block(cidr)
            .availability_zone(zone)
            .tag_specifications(tags(ResourceType::Subnet, &owner))
            .send()
            .await
            .unwrap()
            .subnet()
            .unwrap()
            .subnet_id()
            .unwrap()
            .to_owned();
        // Private subnets stay on the VPC's main route table, which has no internet route.
        if is_public {
            ec2.associate_route_table()
                .route_table_id(&public_table)
                .subnet_id(&subnet)
                .send()
                .await
                .unwrap();
            public.push(subnet);
        } else {
            private.push(subnet);
        }
    }
    public.sort();
    private.sort();

    let cluster_role = role(
        inventory,
        &format!("eksctl-{name}-cluster-ServiceRole-Q1W2E3"),
        service("eks.amazonaws.com"),
    )
    .await;
    let node_role = role(
        inventory,
        &format!("eksctl-{name}-nodegroup-ng-1-NodeInstanceRole-R4T5Y6"),
        service("ec2.amazonaws.com"),
    )
    .await;
    let admin = role(inventory, "platform-admin", service("ec2.amazonaws.com")).await;
    let eks = &inventory.eks;
    eks.create_cluster()
        .name(name)
        .version("1.31")
        .role_arn(cluster_role)
        .resources_vpc_config(
            VpcConfigRequest::builder()
                .set_subnet_ids(Some([public.clone(), private.clone()].concat()))
                .endpoint_private_access(false)
                .endpoint_public_access(true)
                .build(),
        )
        .logging(
            Logging::builder()
                .cluster_logging(
                    LogSetup::builder()
                        .types(LogType::Api)
                        .types(LogType::Audit)
                        .enabled(true)
                        .build(),
                )
                .build(),
        )
        // eksctl's default since access entries came (0.175).
        .access_config(
            CreateAccessConfigRequest::builder()
                .authentication_mode(AuthenticationMode::ApiAndConfigMap)
                .build(),
        )
        .tags("alpha.eksctl.io/cluster-name", name)
        .tags("eksctl.cluster.k8s.io/v1alpha1/cluster-name", name)
        .tags(
            "aws:cloudformation:stack-name",
            format!("eksctl-{name}-cluster"),
        )
        .tags("team", "shop")
        .send()
        .await
        .unwrap();
    active(inventory, name, None).await;
    let issuer = eks
        .describe_cluster()
        .name(name)
        .send()
        .await
        .unwrap()
        .cluster()
        .unwrap()
        .identity()
        .unwrap()
        .oidc()
        .unwrap()
        .issuer()
        .unwrap()
        .to_owned();
    let provider = inventory
        .iam
        .create_open_id_connect_provider()
        .url(&issuer)
        .client_id_list("sts.amazonaws.com")
        .thumbprint_list("9e99a48a9960b14926bb7f3b02e22da2b0ab7280")
        .send()
        .await
        .unwrap()
        .open_id_connect_provider_arn()
        .unwrap()
        .to_owned();
    let host = issuer.trim_start_matches("https://");
    let cni = role(
        inventory,
        &format!("eksctl-{name}-addon-iamserviceaccount-kube-sy-Role1-A1B2"),
        irsa_trust(
            &provider,
            host,
            "StringEquals",
            "system:serviceaccount:kube-system:aws-node",
        ),
    )
    .await;
    inventory
        .iam
        .attach_role_policy()
        .role_name(cni.rsplit('/').next().unwrap())
        .policy_arn("arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy")
        .send()
        .await
        .unwrap();
    let uploader = format!("eksctl-{name}-addon-iamserviceaccount-apps-uploader-Role1-C3D4");
    role(
        inventory,
        &uploader,
        irsa_trust(
            &provider,
            host,
            "StringEquals",
            "system:serviceaccount:apps:uploader",
        ),
    )
    .await;
    inventory
        .iam
        .put_role_policy()
        .role_name(&uploader)
        .policy_name("s3-put")
        .policy_document(
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::uploads/*"}]})
                .to_string(),
        )
        .send()
        .await
        .unwrap();
    // A role for every service account of a namespace: not one service account.
    role(
        inventory,
        "ci-runners",
        irsa_trust(&provider, host, "StringLike", "system:serviceaccount:ci:*"),
    )
    .await;

    let template = ec2
        .create_launch_template()
        .launch_template_name(format!("eksctl-{name}-nodegroup-ng-1"))
        .launch_template_data(
            RequestLaunchTemplateData::builder()
                .block_device_mappings(
                    LaunchTemplateBlockDeviceMappingRequest::builder()
                        .device_name("/dev/xvda")
                        .ebs(
                            LaunchTemplateEbsBlockDeviceRequest::builder()
                                .volume_size(80)
                                .volume_type(VolumeType::Gp3)
                                .build(),
                        )
                        .build(),
                )
                .metadata_options(
                    LaunchTemplateInstanceMetadataOptionsRequest::builder()
                        .http_tokens(LaunchTemplateHttpTokensState::Required)
                        .http_put_response_hop_limit(2)
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap()
        .launch_template()
        .unwrap()
        .launch_template_id()
        .unwrap()
        .to_owned();
    eks.create_nodegroup()
        .cluster_name(name)
        .nodegroup_name("ng-1")
        .node_role(node_role)
        .set_subnets(Some(public.clone()))
        .instance_types("m5.large")
        .scaling_config(
            NodegroupScalingConfig::builder()
                .min_size(2)
                .max_size(4)
                .desired_size(3)
                .build(),
        )
        .labels("alpha.eksctl.io/cluster-name", name)
        .labels("role", "web")
        .taints(
            Taint::builder()
                .key("dedicated")
                .value("web")
                .effect(TaintEffect::NoSchedule)
                .build(),
        )
        .launch_template(
            LaunchTemplateSpecification::builder()
                .id(&template)
                .version("1")
                .build(),
        )
        .tags("alpha.eksctl.io/nodegroup-name", "ng-1")
        .tags("alpha.eksctl.io/nodegroup-type", "managed")
        .tags("team", "shop")
        .tags("tier", "frontend")
        .send()
        .await
        .unwrap();
    active(inventory, name, Some("ng-1")).await;
    eks.create_addon()
        .cluster_name(name)
        .addon_name("vpc-cni")
        .service_account_role_arn(&cni)
        .send()
        .await
        .unwrap();
    // eksctl's `iam.podIdentityAssociations`: a role trusting EKS Pod Identity, bound to a
    // service account.
    let orders = role(
        inventory,
        &format!("eksctl-{name}-podidentityrole-shop-orders-Role1-E5F6"),
        json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "pods.eks.amazonaws.com"},
            "Action": ["sts:AssumeRole", "sts:TagSession"]
        }]}),
    )
    .await;
    inventory
        .iam
        .attach_role_policy()
        .role_name(orders.rsplit('/').next().unwrap())
        .policy_arn("arn:aws:iam::aws:policy/AmazonDynamoDBReadOnlyAccess")
        .send()
        .await
        .unwrap();
    eks.create_pod_identity_association()
        .cluster_name(name)
        .namespace("shop")
        .service_account("orders")
        .role_arn(&orders)
        .send()
        .await
        .unwrap();
    eks.create_access_entry()
        .cluster_name(name)
        .principal_arn(&admin)
        .kubernetes_groups("ops")
        .send()
        .await
        .unwrap();
    eks.associate_access_policy()
        .cluster_name(name)
        .principal_arn(&admin)
        .policy_arn("arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy")
        .access_scope(
            AccessScope::builder()
                .r#type(AccessScopeType::Namespace)
                .namespaces("apps")
                .build(),
        )
        .send()
        .await
        .unwrap();
    (vpc, public, private)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cluster_eksctl_made_exports_with_a_brought_in_vpc_and_lists_what_it_left_out() {
    let aws = Emulated::start();
    let inventory = aws.inventory(REGION).await;
    let (vpc, public, private) = eksctl_cluster(&inventory, "shop").await;

    let out = aws.expect(0, &["export", "--name", "shop", "--region", REGION]);
    let text = &out.stdout;
    for expected in [
        "name: shop".to_owned(),
        "tags: {team: shop}".to_owned(),
        format!("id: {vpc}"),
        format!("private: [{}]", private.join(", ")),
        format!("public: [{}]", public.join(", ")),
        "privateAccess: false".to_owned(),
        "logging: [api, audit]".to_owned(),
        // The node group, from EKS and its launch template.
        "- name: ng-1".to_owned(),
        "instanceTypes: [m5.large]".to_owned(),
        "desiredSize: 3".to_owned(),
        "diskSizeGiB: 80".to_owned(),
        "privateNetworking: false".to_owned(),
        "taints: [{key: dedicated, value: web, effect: NoSchedule}]".to_owned(),
        "podImdsAccess: true".to_owned(),
        "tags: {tier: frontend}".to_owned(),
        // IRSA roles, by the one service account their trust names.
        "- name: aws-node".to_owned(),
        "policyArns: [arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy]".to_owned(),
        "roleName: eksctl-shop-addon-iamserviceaccount-kube-sy-Role1-A1B2".to_owned(),
        "- name: uploader".to_owned(),
        "Action: s3:PutObject".to_owned(),
        // The Pod Identity association, with its role's policies.
        "- name: orders\n      namespace: shop\n      mechanism: podIdentity\n      policyArns: [arn:aws:iam::aws:policy/AmazonDynamoDBReadOnlyAccess]\n      roleName: eksctl-shop-podidentityrole-shop-orders-Role1-E5F6".to_owned(),
        // The add-on, pinned, with its role's account.
        "- name: vpc-cni".to_owned(),
        "  addons:\n    - name: eks-pod-identity-agent\n    - name: vpc-cni".to_owned(),
        "# Inferred: the cluster has Pod Identity associations but no `eks-pod-identity-agent` add-on".to_owned(),
        "serviceAccount: aws-node".to_owned(),
        "principalArn: arn:aws:iam::123456789012:role/platform-admin".to_owned(),
        "kubernetesGroups: [ops]".to_owned(),
        "scope: {namespaces: [apps]}".to_owned(),
    ] {
        assert!(text.contains(&expected), "no `{expected}` in\n{text}");
    }
    assert!(
        !text.contains("ci-runners") && !text.contains("cloudformation"),
        "{text}"
    );
    let stderr = &out.stderr;
    for expected in [
        "left out: cluster shop tags.aws:cloudformation:stack-name: a tag AWS keeps for itself",
        "left out: cluster shop tags.alpha.eksctl.io/cluster-name: a tag eksctl keeps for itself",
        "left out: cluster shop roleArn: the cluster uses role arn:aws:iam::123456789012:role/eksctl-shop-cluster-ServiceRole-Q1W2E3",
        "left out: nodegroup ng-1 launchTemplate: lt-",
        "left out: nodegroup ng-1 nodeRole: arn:aws:iam::123456789012:role/eksctl-shop-nodegroup-ng-1-NodeInstanceRole-R4T5Y6",
        "left out: nodegroup ng-1 tags.alpha.eksctl.io/nodegroup-name: a tag eksctl keeps for itself",
        "left out: role ci-runners trustPolicy: trusts the cluster's OIDC provider for system:serviceaccount:ci:*",
        "left out: access-entry arn:aws:iam::123456789012:role/eksctl-shop-nodegroup-ng-1-NodeInstanceRole-R4T5Y6 type: EC2_LINUX",
        "review them before `ekspec plan`",
    ] {
        assert!(stderr.contains(expected), "no `{expected}` in\n{stderr}");
    }
    // What it wrote is a spec ekspec takes.
    let spec = aws.spec("shop.yaml", text);
    aws.expect(0, &["validate", "-f", &spec, "--strict"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn exporting_a_missing_cluster_or_without_credentials_fails_clearly() {
    let aws = Emulated::start();
    let out = aws.expect(1, &["export", "--name", "nowhere", "--region", REGION]);
    assert!(
        out.stderr
            .contains("no EKS cluster named `nowhere` in us-east-1: check --name and --region")
            && out.stdout.is_empty(),
        "{out:?}"
    );
    let out = aws.expect(1, &["export", "--name", "nowhere"]);
    assert!(
        out.stderr
            .contains("export needs the cluster's region: --region"),
        "{out:?}"
    );

    let home = TempDir::new().unwrap();
    let out = Ekspec::new(&["export", "--name", "prod", "--region", REGION])
        .env("HOME", &home.path().to_string_lossy())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ENDPOINT_URL", &aws.endpoint())
        .run();
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains("no AWS credentials found") && !out.stderr.contains("panicked"),
        "{}",
        out.stderr
    );
}

#[test]
fn the_auto_mode_example_exported_plans_no_changes() {
    let stderr = round_trip(
        "auto-mode.yaml",
        "auto",
        &["  autoMode:\n    enabled: true\n    nodePools: [general-purpose, system]\n"],
    );
    // Auto Mode's node role is ekspec's: nothing to list about it.
    assert!(!stderr.contains("computeConfig"), "{stderr}");
}

#[test]
fn the_ipv6_example_exported_plans_no_changes() {
    round_trip(
        "ipv6.yaml",
        "dual",
        &["  ipFamily: ipv6\n", "instanceTypes: [m6i.large]"],
    );
}

/// Every cluster setting and node group setting of issue 15, and custom AMIs of each OS
/// family ekspec bootstraps (from an SSM parameter and by id; an NVIDIA one, which only its
/// EKS name tells apart from the standard AMI type).
const EVERY_SETTING: &str = r#"apiVersion: ekspec/v1alpha1
kind: Cluster
metadata: {name: settings, region: us-east-1}
spec:
  kubernetesVersion: "1.33"
  vpc: {cidr: 10.40.0.0/16, zoneCount: 2, natGateway: single}
  upgradePolicy: {supportType: EXTENDED}
  deletionProtection: true
  zonalShift: true
  controlPlaneScalingTier: tier-xl
  nodeGroups:
    - name: batch
      instanceTypes: [m6i.large]
      minSize: 1
      maxSize: 3
      maxUnavailable: 2
      updateStrategy: MINIMAL
      nodeRepairConfig: {enabled: true, maxUnhealthyNodeThresholdPercentage: 20, maxParallelNodesRepairedCount: 2}
      capacityReservation: {preference: capacity-reservations-only, id: cr-0123456789abcdef0}
      preBootstrapCommands: ["echo tuned > /etc/motd", "sysctl -w vm.max_map_count=262144"]
    - name: arm
      instanceTypes: [m7g.large]
      amiType: AL2023_ARM_64_STANDARD
      amiParameter: /aws/service/eks/optimized-ami/1.33/amazon-linux-2023/arm64/standard/recommended/image_id
      labels: {role: arm}
      taints: [{key: dedicated, value: arm, effect: NoSchedule}]
      preBootstrapCommands: ["echo arm > /etc/motd"]
    - name: gpu
      instanceTypes: [g5.xlarge]
      amiType: AL2023_x86_64_NVIDIA
      amiId: ami-0123456789abcdef0
      nodeRepairConfig: {enabled: false}
    - name: br
      instanceTypes: [m6i.large]
      amiType: BOTTLEROCKET_x86_64
      amiId: ami-0fedcba9876543210
      capacityReservation: {preference: none}
"#;

#[test]
fn every_cluster_and_node_group_setting_exported_plans_no_changes() {
    let aws = Emulated::start();
    let stderr = round_trip_of(
        &aws,
        EVERY_SETTING,
        "settings",
        REGION,
        &[
            "  upgradePolicy:\n    supportType: EXTENDED\n  deletionProtection: true\n  zonalShift: true\n  controlPlaneScalingTier: tier-xl\n",
            "maxUnavailable: 2",
            "      nodeRepairConfig:\n        enabled: true\n        maxUnhealthyNodeThresholdPercentage: 20\n        maxParallelNodesRepairedCount: 2\n      updateStrategy: MINIMAL\n      capacityReservation:\n        preference: capacity-reservations-only\n        id: cr-0123456789abcdef0\n",
            "preBootstrapCommands: [echo tuned > /etc/motd, sysctl -w vm.max_map_count=262144]",
            "amiType: AL2023_ARM_64_STANDARD",
            "preBootstrapCommands: [echo arm > /etc/motd]",
            "amiType: AL2023_x86_64_NVIDIA",
            "amiId: ami-0123456789abcdef0",
            "amiType: BOTTLEROCKET_x86_64",
            "amiId: ami-0fedcba9876543210\n      capacityReservation:\n        preference: none\n",
            "# Inferred: nodegroup arm runs the custom AMI ami-",
            "amiType AL2023_x86_64_NVIDIA: the OS family from its user data (a nodeadm NodeConfig), the variant from its EKS name",
        ],
    );
    assert!(!stderr.contains("left out: nodegroup"), "{stderr}");
}

/// A launch template made with the SDK: user data (base64), an AMI and Capacity Reservation
/// targeting when given.
async fn launch_template(
    inventory: &Inventory,
    name: &str,
    user_data: &str,
    image: Option<&str>,
    reservation: Option<aws_sdk_ec2::types::LaunchTemplateCapacityReservationSpecificationRequest>,
) -> String {
    use base64::Engine as _;
    inventory
        .ec2
        .create_launch_template()
        .launch_template_name(name)
        .launch_template_data(
            RequestLaunchTemplateData::builder()
                .user_data(base64::engine::general_purpose::STANDARD.encode(user_data))
                .set_image_id(image.map(str::to_owned))
                .set_capacity_reservation_specification(reservation)
                .build(),
        )
        .send()
        .await
        .unwrap()
        .launch_template()
        .unwrap()
        .launch_template_id()
        .unwrap()
        .to_owned()
}

/// A cluster made directly with the SDK with every setting of issue 15 (as Terraform or
/// eksctl would send them): an IPv6 cluster with Auto Mode on its own node role, extended
/// support, deletion protection, zonal shift and a provisioned tier; node groups with node
/// repair, the MINIMAL strategy, a Capacity Reservation and another tool's pre-bootstrap
/// script, and custom AMIs joined by nodeadm, Bottlerocket TOML and Amazon Linux 2's
/// bootstrap.sh.
#[tokio::test(flavor = "multi_thread")]
async fn a_cluster_made_with_the_sdk_exports_its_issue_15_settings() {
    use aws_sdk_ec2::types::{
        CapacityReservationPreference, CapacityReservationTarget,
        LaunchTemplateCapacityReservationSpecificationRequest,
    };
    use aws_sdk_eks::types::{
        BlockStorage, ComputeConfigRequest, ControlPlaneScalingConfig, ElasticLoadBalancing,
        IpFamily, KubernetesNetworkConfigRequest, NodeRepairConfig, NodegroupUpdateConfig,
        NodegroupUpdateStrategies, ProvisionedControlPlaneTier, StorageConfigRequest, SupportType,
        UpgradePolicyRequest, ZonalShiftConfigRequest,
    };

    let aws = Emulated::start();
    let inventory = aws.inventory(REGION).await;
    let ec2 = &inventory.ec2;
    let vpc = ec2
        .create_vpc()
        .cidr_block("10.60.0.0/16")
        .amazon_provided_ipv6_cidr_block(true)
        .send()
        .await
        .unwrap()
        .vpc()
        .unwrap()
        .vpc_id()
        .unwrap()
        .to_owned();
    // The IPv6 block is `associating` for a moment (strict moto, as EC2).
    let mut block = None;
    for _ in 0..50 {
        let described = ec2.describe_vpcs().vpc_ids(&vpc).send().await.unwrap();
        block = described.vpcs()[0]
            .ipv6_cidr_block_association_set()
            .iter()
            .find(|a| {
                a.ipv6_cidr_block_state().and_then(|s| s.state())
                    == Some(&aws_sdk_ec2::types::VpcCidrBlockStateCode::Associated)
            })
            .and_then(|a| a.ipv6_cidr_block().map(str::to_owned));
        if block.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let block: ipnet::Ipv6Net = block.expect("an IPv6 block").parse().unwrap();
    let mut blocks = block.subnets(64).unwrap();
    let igw = ec2
        .create_internet_gateway()
        .send()
        .await
        .unwrap()
        .internet_gateway()
        .unwrap()
        .internet_gateway_id()
        .unwrap()
        .to_owned();
    ec2.attach_internet_gateway()
        .internet_gateway_id(&igw)
        .vpc_id(&vpc)
        .send()
        .await
        .unwrap();
    let mut subnets = Vec::new();
    for (cidr, zone) in [
        ("10.60.0.0/20", "us-east-1a"),
        ("10.60.16.0/20", "us-east-1b"),
    ] {
        let subnet = ec2
            .create_subnet()
            .vpc_id(&vpc)
            .cidr_block(cidr)
            .ipv6_cidr_block(blocks.next().unwrap().to_string())
            .availability_zone(zone)
            .tag_specifications(tags(
                ResourceType::Subnet,
                &[("kubernetes.io/role/elb", "1")],
            ))
            .send()
            .await
            .unwrap();
        subnets.push(subnet.subnet().unwrap().subnet_id().unwrap().to_owned());
    }
    subnets.sort();

    let cluster_role = role(
        &inventory,
        "tf-settings-cluster",
        service("eks.amazonaws.com"),
    )
    .await;
    let node_role = role(&inventory, "tf-settings-node", service("ec2.amazonaws.com")).await;
    let auto_role = role(&inventory, "tf-settings-auto", service("ec2.amazonaws.com")).await;
    let eks = &inventory.eks;
    eks.create_cluster()
        .name("tf")
        .version("1.33")
        .role_arn(cluster_role)
        .resources_vpc_config(
            VpcConfigRequest::builder()
                .set_subnet_ids(Some(subnets.clone()))
                .endpoint_public_access(true)
                .build(),
        )
        .upgrade_policy(
            UpgradePolicyRequest::builder()
                .support_type(SupportType::Extended)
                .build(),
        )
        .deletion_protection(true)
        .zonal_shift_config(ZonalShiftConfigRequest::builder().enabled(true).build())
        .control_plane_scaling_config(
            ControlPlaneScalingConfig::builder()
                .tier(ProvisionedControlPlaneTier::from("tier-2xl"))
                .build(),
        )
        .compute_config(
            ComputeConfigRequest::builder()
                .enabled(true)
                .node_pools("general-purpose")
                .node_role_arn(&auto_role)
                .build(),
        )
        .storage_config(
            StorageConfigRequest::builder()
                .block_storage(BlockStorage::builder().enabled(true).build())
                .build(),
        )
        // Auto Mode takes access entries (EKS User Guide, "Create an Auto Mode cluster").
        .access_config(
            CreateAccessConfigRequest::builder()
                .authentication_mode(AuthenticationMode::Api)
                .build(),
        )
        .kubernetes_network_config(
            KubernetesNetworkConfigRequest::builder()
                .ip_family(IpFamily::Ipv6)
                .elastic_load_balancing(ElasticLoadBalancing::builder().enabled(true).build())
                .build(),
        )
        .send()
        .await
        .unwrap();
    active(&inventory, "tf", None).await;
    let cluster = eks.describe_cluster().name("tf").send().await.unwrap();
    let cluster = cluster.cluster().unwrap();
    let endpoint = cluster.endpoint().unwrap();
    let ca = cluster.certificate_authority().unwrap().data().unwrap();

    // Another tool's pre-bootstrap commands on EKS's AMI: a script part per command.
    let batch_data = "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"==BOUNDARY==\"\n\n--==BOUNDARY==\nContent-Type: text/x-shellscript; charset=\"us-ascii\"\n\n#!/bin/bash\necho tuned > /etc/motd\n\n--==BOUNDARY==\nContent-Type: text/x-shellscript; charset=\"us-ascii\"\n\n#!/bin/bash\nsysctl -w vm.max_map_count=262144\n\n--==BOUNDARY==--\n";
    let reservation = LaunchTemplateCapacityReservationSpecificationRequest::builder()
        .capacity_reservation_preference(CapacityReservationPreference::CapacityReservationsOnly)
        .capacity_reservation_target(
            CapacityReservationTarget::builder()
                .capacity_reservation_id("cr-0123456789abcdef0")
                .build(),
        )
        .build();
    let batch = launch_template(&inventory, "tf-batch", batch_data, None, Some(reservation)).await;
    // eksctl's user data of an AL2023 custom AMI ("Node bootstrapping" in its docs).
    let nodeadm = format!(
        "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=//\n\n--//\nContent-Type: application/node.eks.aws\n\napiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  cluster:\n    apiServerEndpoint: {endpoint}\n    certificateAuthority: {ca}\n    cidr: fd00:10:96::/108\n    name: tf\n\n--//--\n"
    );
    let arm = launch_template(
        &inventory,
        "tf-arm",
        &nodeadm,
        Some("ami-0a1b2c3d4e5f60718"),
        None,
    )
    .await;
    let toml = format!(
        "[settings.kubernetes]\napi-server = \"{endpoint}\"\ncluster-certificate = \"{ca}\"\ncluster-name = \"tf\"\n"
    );
    let br = launch_template(
        &inventory,
        "tf-br",
        &toml,
        Some("ami-0b1b2c3d4e5f60718"),
        None,
    )
    .await;
    let al2 = format!(
        "#!/bin/bash\n/etc/eks/bootstrap.sh tf --apiserver-endpoint {endpoint} --b64-cluster-ca {ca}\n"
    );
    let legacy = launch_template(
        &inventory,
        "tf-legacy",
        &al2,
        Some("ami-0c1b2c3d4e5f60718"),
        None,
    )
    .await;

    for (name, types, template) in [
        ("batch", "m6i.large", batch),
        ("arm", "m7g.large", arm),
        ("br", "m6i.large", br),
        // On Arm: written on EKS's AL2023 for Arm, which validates.
        ("legacy", "m6g.large", legacy),
    ] {
        let mut create = eks
            .create_nodegroup()
            .cluster_name("tf")
            .nodegroup_name(name)
            .node_role(&node_role)
            .set_subnets(Some(subnets.clone()))
            .instance_types(types)
            .scaling_config(
                NodegroupScalingConfig::builder()
                    .min_size(1)
                    .max_size(3)
                    .desired_size(1)
                    .build(),
            )
            .launch_template(
                LaunchTemplateSpecification::builder()
                    .id(template)
                    .version("1")
                    .build(),
            );
        if name == "batch" {
            // As Terraform's module sends it (moto's default is AL2, which EKS no longer
            // gives 1.33).
            create = create
                .ami_type(aws_sdk_eks::types::AmiTypes::Al2023X8664Standard)
                .update_config(
                    NodegroupUpdateConfig::builder()
                        .max_unavailable(2)
                        .update_strategy(NodegroupUpdateStrategies::Minimal)
                        .build(),
                )
                .node_repair_config(
                    NodeRepairConfig::builder()
                        .enabled(true)
                        .max_unhealthy_node_threshold_count(3)
                        .max_parallel_nodes_repaired_percentage(50)
                        .build(),
                );
        }
        create.send().await.unwrap();
        active(&inventory, "tf", Some(name)).await;
    }

    // Amazon Linux 2 on EKS's AMI, left on 1.32 when the control plane went to 1.33.
    eks.create_nodegroup()
        .cluster_name("tf")
        .nodegroup_name("al2")
        .node_role(&node_role)
        .set_subnets(Some(subnets.clone()))
        .instance_types("m5.large")
        .ami_type(aws_sdk_eks::types::AmiTypes::Al2X8664)
        .version("1.32")
        .send()
        .await
        .unwrap();
    active(&inventory, "tf", Some("al2")).await;

    let out = aws.expect(0, &["export", "--name", "tf", "--region", REGION]);
    let text = &out.stdout;
    for expected in [
        "  autoMode:\n    enabled: true\n    nodePools: [general-purpose]\n  upgradePolicy:\n    supportType: EXTENDED\n  deletionProtection: true\n  zonalShift: true\n  controlPlaneScalingTier: tier-2xl\n  ipFamily: ipv6\n",
        "    - name: arm\n      instanceTypes: [m7g.large]\n      amiType: AL2023_ARM_64_STANDARD\n",
        "amiId: ami-0a1b2c3d4e5f60718\n",
        "    - name: batch\n      instanceTypes: [m6i.large]\n",
        "      maxUnavailable: 2\n",
        "preBootstrapCommands: [echo tuned > /etc/motd, sysctl -w vm.max_map_count=262144]\n      nodeRepairConfig:\n        enabled: true\n        maxUnhealthyNodeThresholdCount: 3\n        maxParallelNodesRepairedPercentage: 50\n      updateStrategy: MINIMAL\n      capacityReservation:\n        preference: capacity-reservations-only\n        id: cr-0123456789abcdef0\n",
        "    - name: br\n      instanceTypes: [m6i.large]\n      amiType: BOTTLEROCKET_x86_64\n",
        "amiId: ami-0b1b2c3d4e5f60718\n",
        "    - name: legacy\n      instanceTypes: [m6g.large]\n      amiType: AL2023_ARM_64_STANDARD\n",
        "# Inferred: nodegroup arm runs the custom AMI ami-0a1b2c3d4e5f60718 of its launch template",
        "the variant from the instance types' architecture",
    ] {
        assert!(text.contains(expected), "no `{expected}` in\n{text}");
    }
    assert!(
        !text.contains("ami-0c1b2c3d4e5f60718") && !text.contains("bootstrap.sh"),
        "{text}"
    );
    let stderr = &out.stderr;
    for expected in [
        "left out: cluster tf computeConfig.nodeRoleArn: Auto Mode's nodes use role arn:aws:iam::123456789012:role/tf-settings-auto",
        "left out: nodegroup batch userData: ekspec writes its own user data; carried over from this one: 2 shell line(s) as preBootstrapCommands",
        "left out: nodegroup arm userData: ekspec writes its own user data; carried over from this one: the OS family (AL2023_ARM_64_STANDARD)",
        "left out: nodegroup legacy amiType: CUSTOM, ami-0c1b2c3d4e5f60718 joins nodes with Amazon Linux 2's /etc/eks/bootstrap.sh",
        "left out: nodegroup al2 amiType: AL2_x86_64 under a Kubernetes 1.33 control plane: EKS publishes no Amazon Linux 2 AMIs after 1.32: written as AL2023_x86_64_STANDARD",
        "left out: nodegroup al2 version: 1.32, behind the control plane's 1.33",
    ] {
        assert!(stderr.contains(expected), "no `{expected}` in\n{stderr}");
    }
    let spec = aws.spec("tf.yaml", text);
    aws.expect(0, &["validate", "-f", &spec, "--strict"]);
}

/// A cluster in the `CONFIG_MAP` authentication mode (EKS's only mode before access entries)
/// has no access entries to list: EKS refuses ListAccessEntries there, and export says what it
/// did not read instead of failing.
#[tokio::test(flavor = "multi_thread")]
async fn a_config_map_cluster_exports_and_says_access_was_not_read() {
    let aws = Emulated::start();
    let inventory = aws.inventory(REGION).await;
    let cluster_role = role(&inventory, "old-cluster", service("eks.amazonaws.com")).await;
    inventory
        .eks
        .create_cluster()
        .name("old")
        .version("1.31")
        .role_arn(cluster_role)
        .resources_vpc_config(
            VpcConfigRequest::builder()
                .endpoint_public_access(true)
                .build(),
        )
        .access_config(
            CreateAccessConfigRequest::builder()
                .authentication_mode(AuthenticationMode::ConfigMap)
                .build(),
        )
        .send()
        .await
        .unwrap();
    active(&inventory, "old", None).await;
    let out = aws.expect(0, &["export", "--name", "old", "--region", REGION]);
    assert!(
        out.stderr.contains("left out: cluster old accessConfig.authenticationMode: the cluster takes the aws-auth ConfigMap only (CONFIG_MAP)"),
        "{}",
        out.stderr
    );
    assert!(!out.stdout.contains("accessEntries"), "{}", out.stdout);
}
