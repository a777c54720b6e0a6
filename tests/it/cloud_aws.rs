//! The AWS SDK implementation of the cloud traits against moto.

use std::collections::BTreeMap;

use ekspec::cloud::aws::{ConnectOptions, connect};
use ekspec::cloud::*;
use serde_json::json;

use crate::moto::MotoServer;

const ACCOUNT: &str = "123456789012";

async fn cloud(moto: &MotoServer) -> Cloud {
    connect(&options(moto)).await.unwrap()
}

fn options(moto: &MotoServer) -> ConnectOptions {
    ConnectOptions {
        region: "us-east-1".to_owned(),
        profile: None,
        endpoint_url: Some(moto.endpoint()),
        credentials: Some(("testing".to_owned(), "testing".to_owned())),
        ..ConnectOptions::default()
    }
}

fn tags(resource: &str) -> Tags {
    Tags::from([
        ("ekspec.io/cluster".to_owned(), "demo".to_owned()),
        ("ekspec.io/resource".to_owned(), resource.to_owned()),
        ("team".to_owned(), "platform".to_owned()),
    ])
}

fn subnet(vpc_id: &str, cidr: &str, zone: &str, public: bool) -> SubnetRequest {
    SubnetRequest {
        vpc_id: vpc_id.to_owned(),
        cidr: cidr.to_owned(),
        availability_zone: zone.to_owned(),
        public,
        tags: tags(&format!("subnet/{cidr}")),
    }
}

#[tokio::test]
async fn network_is_created_tagged_and_discovered() {
    let moto = MotoServer::start();
    let net = cloud(&moto).await.network;

    let zones = net.availability_zones().await.unwrap();
    let names: Vec<&str> = zones.iter().map(|z| z.name.as_str()).collect();
    assert!(names.contains(&"us-east-1a"), "{zones:?}");
    assert!(names.is_sorted());
    let a = zones.iter().find(|z| z.name == "us-east-1a").unwrap();
    assert_eq!(
        (a.id.as_str(), a.kind.as_str()),
        ("use1-az6", "availability-zone")
    );

    let vpc = net.create_vpc("10.0.0.0/16", &tags("vpc")).await.unwrap();
    let public = net
        .create_subnet(&subnet(&vpc, "10.0.0.0/20", "us-east-1a", true))
        .await
        .unwrap();
    let private = net
        .create_subnet(&subnet(&vpc, "10.0.16.0/20", "us-east-1b", false))
        .await
        .unwrap();
    let igw = net
        .create_internet_gateway(&vpc, &tags("igw"))
        .await
        .unwrap();
    let eip = net.allocate_address(&tags("eip")).await.unwrap();
    let (nat, _) = net
        .create_nat_gateway(&public, &eip, &tags("nat"), "token-nat-1")
        .await
        .unwrap();
    assert_eq!(
        net.nat_gateway_state(&nat).await.unwrap().as_deref(),
        Some("available")
    );
    assert_eq!(
        net.nat_gateway_state("nat-0123456789abcdef0")
            .await
            .unwrap(),
        None
    );
    let public_rt = net
        .create_route_table(&vpc, &tags("rt/public"))
        .await
        .unwrap();
    net.set_default_route(&public_rt, &RouteTarget::InternetGateway(igw.clone()))
        .await
        .unwrap();
    let association = net
        .associate_route_table(&public_rt, &public)
        .await
        .unwrap();
    let private_rt = net
        .create_route_table(&vpc, &tags("rt/private"))
        .await
        .unwrap();
    // First to the internet gateway, then replaced by the NAT gateway.
    net.set_default_route(&private_rt, &RouteTarget::InternetGateway(igw.clone()))
        .await
        .unwrap();
    net.set_default_route(&private_rt, &RouteTarget::NatGateway(nat.clone()))
        .await
        .unwrap();

    let seen = net.discover("demo").await.unwrap();
    assert_eq!(seen.vpcs.len(), 1);
    assert_eq!(seen.vpcs[0].id, vpc);
    assert_eq!(seen.vpcs[0].cidr, "10.0.0.0/16");
    assert_eq!(seen.vpcs[0].tags, tags("vpc"));

    let mut subnets = seen.subnets.clone();
    subnets.sort_by(|a, b| a.cidr.cmp(&b.cidr));
    assert_eq!(subnets.len(), 2);
    assert_eq!(subnets[0].id, public);
    assert_eq!(subnets[0].vpc_id, vpc);
    assert_eq!(subnets[0].availability_zone, "us-east-1a");
    assert!(subnets[0].map_public_ip_on_launch);
    assert!(!subnets[1].map_public_ip_on_launch);
    assert_eq!(subnets[1].tags, tags("subnet/10.0.16.0/20"));

    assert_eq!(seen.internet_gateways.len(), 1);
    assert_eq!(seen.internet_gateways[0].id, igw);
    assert_eq!(
        seen.internet_gateways[0].attached_vpc_ids,
        vec![vpc.clone()]
    );
    assert_eq!(seen.internet_gateways[0].tags, tags("igw"));

    assert_eq!(seen.addresses.len(), 1);
    assert_eq!(seen.addresses[0].allocation_id, eip);
    assert!(seen.addresses[0].public_ip.is_some());
    assert_eq!(seen.addresses[0].tags, tags("eip"));

    assert_eq!(seen.nat_gateways.len(), 1);
    assert_eq!(seen.nat_gateways[0].id, nat);
    assert_eq!(seen.nat_gateways[0].subnet_id, public);
    assert_eq!(seen.nat_gateways[0].allocation_ids, vec![eip.clone()]);
    assert_eq!(seen.nat_gateways[0].tags, tags("nat"));

    let table = |id: &str| seen.route_tables.iter().find(|t| t.id == id).unwrap();
    assert_eq!(seen.route_tables.len(), 2);
    assert_eq!(
        table(&public_rt).default_route,
        Some(RouteTarget::InternetGateway(igw.clone()))
    );
    assert_eq!(
        table(&public_rt).associations,
        vec![(association.clone(), public.clone())]
    );
    assert_eq!(table(&public_rt).tags, tags("rt/public"));
    assert_eq!(
        table(&private_rt).default_route,
        Some(RouteTarget::NatGateway(nat.clone()))
    );

    // Another cluster's view is empty; an existing VPC is read by id, missing subnets left out.
    assert_eq!(
        net.discover("other").await.unwrap(),
        ObservedNetwork::default()
    );
    let (existing, existing_subnets) = net
        .describe_existing(
            &vpc,
            &[private.clone(), "subnet-0123456789abcdef0".to_owned()],
        )
        .await
        .unwrap();
    assert_eq!(existing.unwrap().id, vpc);
    assert_eq!(existing_subnets.len(), 1);
    assert_eq!(existing_subnets[0].id, private);
    let (missing, _) = net
        .describe_existing("vpc-0123456789abcdef0", &[])
        .await
        .unwrap();
    assert_eq!(missing, None);

    // Tags on BYO subnets.
    let byo = [private.clone()];
    let elb = Tags::from([("kubernetes.io/role/internal-elb".to_owned(), "1".to_owned())]);
    net.create_tags(&byo, &elb).await.unwrap();
    let (_, tagged) = net.describe_existing(&vpc, &byo).await.unwrap();
    assert_eq!(tagged[0].tags["kubernetes.io/role/internal-elb"], "1");

    // Tear down in dependency order; a deleted NAT gateway no longer shows.
    net.disassociate_route_table(&association).await.unwrap();
    net.disassociate_route_table(&association).await.unwrap();
    net.delete(Ec2Kind::RouteTable, &public_rt).await.unwrap();
    net.delete(Ec2Kind::RouteTable, &private_rt).await.unwrap();
    net.delete(Ec2Kind::NatGateway, &nat).await.unwrap();
    net.delete(Ec2Kind::Address, &eip).await.unwrap();
    net.detach_internet_gateway(&igw, &vpc).await.unwrap();
    net.delete(Ec2Kind::InternetGateway, &igw).await.unwrap();
    net.delete(Ec2Kind::Subnet, &public).await.unwrap();
    net.delete(Ec2Kind::Subnet, &private).await.unwrap();
    net.delete(Ec2Kind::Vpc, &vpc).await.unwrap();
    assert_eq!(
        net.discover("demo").await.unwrap(),
        ObservedNetwork::default()
    );
}

fn template_data(hop_limit: u32, disk: u32) -> LaunchTemplateData {
    LaunchTemplateData {
        disk_device: "/dev/xvda".to_owned(),
        disk_size_gib: disk,
        os_device: None,
        metadata_hop_limit: hop_limit,
        metadata_tokens_required: true,
        instance_tags: Tags::from([("team".to_owned(), "platform".to_owned())]),
        image_id: None,
        user_data: None,
        capacity_reservation: None,
    }
}

#[tokio::test]
async fn launch_template_settings_round_trip() {
    let moto = MotoServer::start();
    let net = cloud(&moto).await.network;
    let request = LaunchTemplateRequest {
        name: "demo-system".to_owned(),
        data: template_data(1, 20),
        tags: tags("lt/system"),
        client_token: "token-lt-1".to_owned(),
    };
    let (id, version) = net.create_launch_template(&request).await.unwrap();
    assert_eq!(version, 1);

    let seen = net.discover("demo").await.unwrap().launch_templates;
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].id, id);
    assert_eq!(seen[0].name, "demo-system");
    assert_eq!(seen[0].latest_version, 1);
    assert_eq!(seen[0].tags, tags("lt/system"));
    assert_eq!(seen[0].data, Some(template_data(1, 20)));

    net.delete(Ec2Kind::LaunchTemplate, &id).await.unwrap();
    assert!(
        net.discover("demo")
            .await
            .unwrap()
            .launch_templates
            .is_empty()
    );
}

#[tokio::test]
async fn a_custom_ami_and_its_user_data_round_trip() {
    let moto = MotoServer::start();
    let net = cloud(&moto).await.network;
    let mut data = template_data(1, 20);
    data.image_id = Some("ami-0123456789abcdef0".to_owned());
    data.user_data = Some("[settings.kubernetes]\ncluster-name = \"demo\"\n".to_owned());
    let request = LaunchTemplateRequest {
        name: "demo-custom".to_owned(),
        data: data.clone(),
        tags: tags("lt/custom"),
        client_token: "token-lt-custom".to_owned(),
    };
    let (id, _) = net.create_launch_template(&request).await.unwrap();
    let seen = net.discover("demo").await.unwrap().launch_templates;
    assert_eq!(seen[0].data, Some(data.clone()));

    // A new AMI is a new version, read back decoded.
    data.image_id = Some("ami-0fedcba9876543210".to_owned());
    let version = net
        .create_launch_template_version(&id, &data, "token-lt-custom-2")
        .await
        .unwrap();
    assert_eq!(version, 2);
    let seen = net.discover("demo").await.unwrap().launch_templates;
    assert_eq!(
        (seen[0].latest_version, seen[0].data.clone()),
        (2, Some(data))
    );
}

/// SDK configuration for talking to moto directly, to make what Kubernetes would.
async fn sdk_config(moto: &MotoServer) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(moto.endpoint())
        .credentials_provider(aws_sdk_ec2::config::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        .load()
        .await
}

#[tokio::test]
async fn leftovers_of_kubernetes_are_found_and_deleted() {
    let moto = MotoServer::start();
    let net = cloud(&moto).await.network;
    let vpc = net.create_vpc("10.1.0.0/16", &tags("vpc")).await.unwrap();
    let subnet_id = net
        .create_subnet(&subnet(&vpc, "10.1.0.0/20", "us-east-1a", false))
        .await
        .unwrap();

    // What the AWS load balancer controller and the VPC CNI leave behind, made directly.
    let ec2 = aws_sdk_ec2::Client::new(&sdk_config(&moto).await);
    let group = ec2
        .create_security_group()
        .group_name("k8s-elb-a1b2")
        .description("load balancer")
        .vpc_id(&vpc)
        .tag_specifications(
            aws_sdk_ec2::types::TagSpecification::builder()
                .resource_type(aws_sdk_ec2::types::ResourceType::SecurityGroup)
                .tags(
                    aws_sdk_ec2::types::Tag::builder()
                        .key("kubernetes.io/cluster/demo")
                        .value("owned")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap()
        .group_id
        .unwrap();
    // The AWS Load Balancer Controller's groups carry its own tag, not Kubernetes' one.
    let controller_group = |name: &'static str, cluster: &'static str| {
        ec2.create_security_group()
            .group_name(name)
            .description("[k8s] Managed SecurityGroup for LoadBalancer")
            .vpc_id(&vpc)
            .tag_specifications(
                aws_sdk_ec2::types::TagSpecification::builder()
                    .resource_type(aws_sdk_ec2::types::ResourceType::SecurityGroup)
                    .tags(
                        aws_sdk_ec2::types::Tag::builder()
                            .key("elbv2.k8s.aws/cluster")
                            .value(cluster)
                            .build(),
                    )
                    .build(),
            )
            .send()
    };
    let controller = controller_group("k8s-traffic-demo-1a2b", "demo")
        .await
        .unwrap()
        .group_id
        .unwrap();
    controller_group("k8s-traffic-other-3c4d", "other")
        .await
        .unwrap();
    let interface = ec2
        .create_network_interface()
        .subnet_id(&subnet_id)
        .send()
        .await
        .unwrap()
        .network_interface
        .unwrap()
        .network_interface_id
        .unwrap();

    let leftovers = net.discover_leftovers("demo", &vpc).await.unwrap();
    let mut groups = vec![group.clone(), controller.clone()];
    groups.sort();
    let mut found = leftovers.security_groups.clone();
    found.sort();
    assert_eq!(found, groups);
    assert_eq!(leftovers.network_interfaces, vec![interface.clone()]);
    assert_eq!(
        net.discover_leftovers("third", &vpc)
            .await
            .unwrap()
            .security_groups,
        Vec::<String>::new()
    );

    net.delete(Ec2Kind::SecurityGroup, &group).await.unwrap();
    net.delete(Ec2Kind::SecurityGroup, &controller)
        .await
        .unwrap();
    net.delete(Ec2Kind::NetworkInterface, &interface)
        .await
        .unwrap();
    assert_eq!(
        net.discover_leftovers("demo", &vpc).await.unwrap(),
        Leftovers::default()
    );
}

/// Makes load balancers and target groups the way Kubernetes does, straight through the SDKs.
struct LoadBalancerMaker {
    elb: aws_sdk_elasticloadbalancing::Client,
    elbv2: aws_sdk_elasticloadbalancingv2::Client,
    ec2: aws_sdk_ec2::Client,
}

impl LoadBalancerMaker {
    async fn new(moto: &MotoServer) -> Self {
        let config = sdk_config(moto).await;
        Self {
            elb: aws_sdk_elasticloadbalancing::Client::new(&config),
            elbv2: aws_sdk_elasticloadbalancingv2::Client::new(&config),
            ec2: aws_sdk_ec2::Client::new(&config),
        }
    }

    /// An ALB or NLB; returns its ARN.
    async fn v2(
        &self,
        name: &str,
        kind: &str,
        subnets: &[String],
        tags: &[(&str, &str)],
    ) -> String {
        use aws_sdk_elasticloadbalancingv2::types::LoadBalancerTypeEnum;
        self.elbv2
            .create_load_balancer()
            .name(name)
            .r#type(LoadBalancerTypeEnum::from(kind))
            .set_subnets(Some(subnets.to_vec()))
            .set_tags(Some(v2_tags(tags)))
            .send()
            .await
            .unwrap()
            .load_balancers()[0]
            .load_balancer_arn()
            .unwrap()
            .to_owned()
    }

    /// A target group that a listener of `load_balancer` forwards `protocol` (`HTTP` for an
    /// ALB, `TCP` for an NLB) to; returns its ARN.
    async fn target_group(
        &self,
        name: &str,
        protocol: &str,
        vpc_id: &str,
        load_balancer: &str,
        tags: &[(&str, &str)],
    ) -> String {
        use aws_sdk_elasticloadbalancingv2::types::{
            Action, ActionTypeEnum, ProtocolEnum, TargetTypeEnum,
        };
        let arn = self
            .elbv2
            .create_target_group()
            .name(name)
            .protocol(ProtocolEnum::from(protocol))
            .port(30080)
            .vpc_id(vpc_id)
            .target_type(TargetTypeEnum::Instance)
            .set_tags(Some(v2_tags(tags)))
            .send()
            .await
            .unwrap()
            .target_groups()[0]
            .target_group_arn()
            .unwrap()
            .to_owned();
        self.elbv2
            .create_listener()
            .load_balancer_arn(load_balancer)
            .protocol(ProtocolEnum::from(protocol))
            .port(80)
            .default_actions(
                Action::builder()
                    .r#type(ActionTypeEnum::Forward)
                    .target_group_arn(&arn)
                    .build(),
            )
            .send()
            .await
            .unwrap();
        arn
    }

    /// A classic ELB; returns its name.
    async fn classic(
        &self,
        name: &str,
        subnets: &[String],
        security_group: &str,
        tags: &[(&str, &str)],
    ) -> String {
        use aws_sdk_elasticloadbalancing::types::{Listener, Tag};
        self.elb
            .create_load_balancer()
            .load_balancer_name(name)
            .listeners(
                Listener::builder()
                    .protocol("TCP")
                    .load_balancer_port(80)
                    .instance_port(30080)
                    .build()
                    .unwrap(),
            )
            .set_subnets(Some(subnets.to_vec()))
            // moto makes an untagged group per load balancer when none is given.
            .security_groups(security_group)
            .set_tags(Some(
                tags.iter()
                    .map(|(k, v)| Tag::builder().key(*k).value(*v).build().unwrap())
                    .collect(),
            ))
            .send()
            .await
            .unwrap();
        name.to_owned()
    }

    async fn security_group(&self, vpc_id: &str) -> String {
        self.ec2
            .create_security_group()
            .group_name(format!("elb-{vpc_id}"))
            .description("classic load balancers")
            .vpc_id(vpc_id)
            .send()
            .await
            .unwrap()
            .group_id
            .unwrap()
    }

    /// Names of every ALB and NLB, target group and classic ELB, each sorted.
    async fn names(&self) -> [Vec<String>; 3] {
        let sorted = |names: Vec<&str>| {
            let mut names: Vec<String> = names.into_iter().map(str::to_owned).collect();
            names.sort();
            names
        };
        let v2 = self.elbv2.describe_load_balancers().send().await.unwrap();
        let groups = self.elbv2.describe_target_groups().send().await.unwrap();
        let classic = self.elb.describe_load_balancers().send().await.unwrap();
        [
            sorted(
                v2.load_balancers()
                    .iter()
                    .filter_map(|lb| lb.load_balancer_name())
                    .collect(),
            ),
            sorted(
                groups
                    .target_groups()
                    .iter()
                    .filter_map(|group| group.target_group_name())
                    .collect(),
            ),
            sorted(
                classic
                    .load_balancer_descriptions()
                    .iter()
                    .filter_map(|lb| lb.load_balancer_name())
                    .collect(),
            ),
        ]
    }
}

fn v2_tags(tags: &[(&str, &str)]) -> Vec<aws_sdk_elasticloadbalancingv2::types::Tag> {
    tags.iter()
        .map(|(key, value)| {
            aws_sdk_elasticloadbalancingv2::types::Tag::builder()
                .key(*key)
                .value(*value)
                .build()
        })
        .collect()
}

// moto 5.2.1 quirks met here: DescribeLoadBalancers (both APIs) and DescribeTargetGroups take
// no VPC or tag filter (nor does AWS); DescribeTargetGroups ignores PageSize and Marker; ELBv2
// DescribeTags answers unknown ARNs with empty tags instead of an error (classic DescribeTags
// fails with LoadBalancerNotFound); DeleteLoadBalancer (both APIs) succeeds on a missing load
// balancer, DeleteTargetGroup answers TargetGroupNotFound; load balancers get no network
// interfaces and block no subnet or VPC deletion, so the lingering ENIs of real AWS are not
// seen here; a classic ELB made without security groups gets a new untagged group that
// outlives it; listener protocols must match the type (HTTP/HTTPS for an ALB).
#[tokio::test]
async fn load_balancers_of_kubernetes_are_found_and_deleted() {
    let moto = MotoServer::start();
    let net = cloud(&moto).await.network;
    let make = LoadBalancerMaker::new(&moto).await;
    let vpc = net.create_vpc("10.2.0.0/16", &tags("vpc")).await.unwrap();
    let mut subnets = Vec::new();
    for (cidr, zone) in [
        ("10.2.0.0/20", "us-east-1a"),
        ("10.2.16.0/20", "us-east-1b"),
    ] {
        subnets.push(
            net.create_subnet(&subnet(&vpc, cidr, zone, true))
                .await
                .unwrap(),
        );
    }
    let elsewhere = net.create_vpc("10.3.0.0/16", &tags("vpc")).await.unwrap();
    let elsewhere_subnets = [net
        .create_subnet(&subnet(&elsewhere, "10.3.0.0/20", "us-east-1a", true))
        .await
        .unwrap()];
    let group = make.security_group(&vpc).await;
    let elsewhere_group = make.security_group(&elsewhere).await;

    // Untagged ones first, so the owned ones are read in the second DescribeTags batch.
    for i in 0..20 {
        make.v2(&format!("plain-{i:02}"), "network", &subnets, &[])
            .await;
        make.classic(&format!("plain-{i:02}"), &subnets, &group, &[])
            .await;
    }
    let controller = [
        ("elbv2.k8s.aws/cluster", "demo"),
        ("ingress.k8s.aws/stack", "web"),
    ];
    let in_tree = [
        ("kubernetes.io/cluster/demo", "owned"),
        ("kubernetes.io/service-name", "default/web"),
    ];
    let alb = make
        .v2("k8s-default-web", "application", &subnets, &controller)
        .await;
    let alb_targets = make
        .target_group("k8s-default-web-tg", "HTTP", &vpc, &alb, &controller)
        .await;
    let nlb = make.v2("a1b2c3-nlb", "network", &subnets, &in_tree).await;
    let nlb_targets = make
        .target_group("k8s-default-web-nlb", "TCP", &vpc, &nlb, &in_tree)
        .await;
    let classic = make.classic("a1b2c3", &subnets, &group, &in_tree).await;

    // Not this cluster's: another cluster's, a shared one, and ours in another VPC.
    let theirs = [("elbv2.k8s.aws/cluster", "other")];
    let other_alb = make
        .v2("k8s-other-web", "application", &subnets, &theirs)
        .await;
    make.target_group("k8s-other-web-tg", "HTTP", &vpc, &other_alb, &theirs)
        .await;
    make.classic(
        "d4e5f6",
        &subnets,
        &group,
        &[("kubernetes.io/cluster/other", "owned")],
    )
    .await;
    make.classic(
        "shared",
        &subnets,
        &group,
        &[("kubernetes.io/cluster/demo", "shared")],
    )
    .await;
    make.classic("elsewhere", &elsewhere_subnets, &elsewhere_group, &in_tree)
        .await;
    make.v2("elsewhere", "network", &elsewhere_subnets, &controller)
        .await;

    let leftovers = net.discover_leftovers("demo", &vpc).await.unwrap();
    let mut v2 = vec![alb.clone(), nlb.clone()];
    v2.sort();
    let mut expected = vec![LoadBalancerRef::Classic(classic)];
    expected.extend(v2.into_iter().map(LoadBalancerRef::V2));
    assert_eq!(leftovers.load_balancers, expected);
    let mut target_groups = vec![alb_targets, nlb_targets];
    target_groups.sort();
    assert_eq!(leftovers.target_groups, target_groups);
    assert!(leftovers.security_groups.is_empty(), "{leftovers:?}");

    // What `ekspec delete` runs before deleting the VPC; the listeners keep the target groups
    // in use until their load balancers are gone.
    let ctx = ekspec::exec::Context::new(
        cloud(&moto).await,
        &ekspec::resources::Observed::default(),
        "demo",
        "us-east-1",
        ekspec::exec::wait::Waiter {
            initial: std::time::Duration::from_millis(50),
            max: std::time::Duration::from_millis(200),
            timeout: std::time::Duration::from_secs(10),
            scale_rollouts: false,
        },
    );
    let delete = ekspec::plan::Operation::DeleteLeftovers {
        cluster: "demo".to_owned(),
        vpc_id: vpc.clone(),
    };
    ekspec::exec::operation::run(&ctx, "vpc", &delete)
        .await
        .unwrap();
    assert_eq!(
        net.discover_leftovers("demo", &vpc).await.unwrap(),
        Leftovers::default()
    );
    let plain: Vec<String> = (0..20).map(|i| format!("plain-{i:02}")).collect();
    let mut v2_left = plain.clone();
    v2_left.extend(["elsewhere".to_owned(), "k8s-other-web".to_owned()]);
    v2_left.sort();
    let mut classic_left = plain;
    classic_left.extend(["d4e5f6", "elsewhere", "shared"].map(str::to_owned));
    classic_left.sort();
    assert_eq!(
        make.names().await,
        [v2_left, vec!["k8s-other-web-tg".to_owned()], classic_left]
    );

    // A second run finds nothing, and deleting what is gone succeeds.
    ekspec::exec::operation::run(&ctx, "vpc", &delete)
        .await
        .unwrap();
    net.delete_load_balancer(&expected[0]).await.unwrap();
    net.delete_load_balancer(&expected[1]).await.unwrap();
    net.delete_target_group(&target_groups[0]).await.unwrap();
}

#[tokio::test]
async fn deleting_what_is_gone_succeeds() {
    let moto = MotoServer::start();
    let cloud = cloud(&moto).await;
    let missing = [
        (Ec2Kind::Vpc, "vpc-0123456789abcdef0"),
        (Ec2Kind::Subnet, "subnet-0123456789abcdef0"),
        (Ec2Kind::InternetGateway, "igw-0123456789abcdef0"),
        (Ec2Kind::Address, "eipalloc-0123456789abcdef0"),
        // Not NatGateway: moto answers a 500 for a missing one (AWS says NatGatewayNotFound).
        (Ec2Kind::RouteTable, "rtb-0123456789abcdef0"),
        (Ec2Kind::LaunchTemplate, "lt-0123456789abcdef0"),
        (Ec2Kind::SecurityGroup, "sg-0123456789abcdef0"),
        (Ec2Kind::NetworkInterface, "eni-0123456789abcdef0"),
    ];
    for (kind, id) in missing {
        let result = cloud.network.delete(kind, id).await;
        assert!(result.is_ok(), "{kind:?}: {result:?}");
    }
    let identity = &cloud.identity;
    identity.delete_role("demo-missing").await.unwrap();
    identity
        .delete_inline_policy("demo-missing", "inline")
        .await
        .unwrap();
    identity
        .delete_oidc_provider(&format!(
            "arn:aws:iam::{ACCOUNT}:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/MISSING"
        ))
        .await
        .unwrap();
    let eks = &cloud.kubernetes;
    eks.delete_cluster("missing").await.unwrap();
    eks.delete_node_group("missing", "system-1a2b3c4d")
        .await
        .unwrap();
    eks.delete_fargate_profile("missing", "batch")
        .await
        .unwrap();
    assert_eq!(eks.describe_cluster("missing").await.unwrap(), None);
    assert_eq!(
        eks.describe_node_group("missing", "system").await.unwrap(),
        None
    );
    assert_eq!(
        eks.describe_fargate_profile("missing", "batch")
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn not_found_errors_name_the_operation_and_resource() {
    let moto = MotoServer::start();
    let cloud = cloud(&moto).await;

    let error = cloud
        .network
        .create_subnet(&subnet(
            "vpc-0123456789abcdef0",
            "10.0.0.0/20",
            "us-east-1a",
            false,
        ))
        .await
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::NotFound, "{error}");
    assert_eq!(error.operation, "CreateSubnet");
    assert!(error.resource.contains("vpc-0123456789abcdef0"), "{error}");
    assert!(error.code.is_some());

    let error = cloud
        .identity
        .attach_policy(
            "demo-missing",
            "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy",
        )
        .await
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::NotFound, "{error}");
    assert_eq!(error.operation, "AttachRolePolicy");
    assert_eq!(error.code.as_deref(), Some("NoSuchEntity"));
    assert!(error.resource.contains("demo-missing"), "{error}");

    let error = cloud
        .kubernetes
        .update_node_group_config(
            "missing",
            "system-1a2b3c4d",
            &NodeGroupConfigChange {
                scaling: Some(NodeScaling {
                    min: 1,
                    max: 2,
                    desired: 1,
                }),
                ..NodeGroupConfigChange::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::NotFound, "{error}");
    assert_eq!(error.operation, "UpdateNodegroupConfig");
    assert_eq!(error.resource, "node group missing/system-1a2b3c4d");
}

fn trust(service: &str) -> serde_json::Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": "sts:AssumeRole"
        }]
    })
}

#[tokio::test]
async fn roles_round_trip_with_policies_and_are_deleted_whole() {
    let moto = MotoServer::start();
    let iam = cloud(&moto).await.identity;
    assert_eq!(iam.account_id().await.unwrap(), ACCOUNT);

    let request = RoleRequest {
        name: "demo-node".to_owned(),
        path: "/ekspec/demo/".to_owned(),
        trust_policy: trust("ec2.amazonaws.com"),
        description: "Nodes of EKS cluster demo".to_owned(),
        tags: tags("role/node"),
    };
    let arn = iam.create_role(&request).await.unwrap();
    assert_eq!(
        arn,
        format!("arn:aws:iam::{ACCOUNT}:role/ekspec/demo/demo-node")
    );
    let again = iam.create_role(&request).await.unwrap_err();
    assert_eq!(again.kind, ErrorKind::AlreadyExists, "{again}");

    // Someone else's role under another path is not listed.
    iam.create_role(&RoleRequest {
        name: "unrelated".to_owned(),
        path: "/other/".to_owned(),
        ..request.clone()
    })
    .await
    .unwrap();

    let worker = "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy";
    let registry = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly";
    iam.attach_policy("demo-node", worker).await.unwrap();
    iam.attach_policy("demo-node", registry).await.unwrap();
    // Characters IAM URL-encodes when it returns the document.
    let inline = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": "arn:aws:s3:::demo bucket/100%/*"
        }]
    });
    iam.put_inline_policy("demo-node", "ekspec", &inline)
        .await
        .unwrap();
    iam.update_trust_policy("demo-node", &trust("eks.amazonaws.com"))
        .await
        .unwrap();
    iam.tag_role(
        "demo-node",
        &Tags::from([("owner".to_owned(), "sre".to_owned())]),
    )
    .await
    .unwrap();

    let roles = iam.list_roles("/ekspec/demo/").await.unwrap();
    assert_eq!(roles.len(), 1);
    let role = &roles[0];
    assert_eq!(role.name, "demo-node");
    assert_eq!(role.arn, arn);
    assert_eq!(role.path, "/ekspec/demo/");
    assert_eq!(role.trust_policy, trust("eks.amazonaws.com"));
    let mut expected_tags = tags("role/node");
    expected_tags.insert("owner".to_owned(), "sre".to_owned());
    assert_eq!(role.tags, expected_tags);
    assert_eq!(role.attached_policies, vec![registry, worker]);
    assert_eq!(
        role.inline_policies,
        BTreeMap::from([("ekspec".to_owned(), inline.clone())])
    );

    iam.detach_policy("demo-node", registry).await.unwrap();
    iam.detach_policy("demo-node", registry).await.unwrap();
    iam.delete_inline_policy("demo-node", "ekspec")
        .await
        .unwrap();
    let role = &iam.list_roles("/ekspec/demo/").await.unwrap()[0];
    assert_eq!(role.attached_policies, vec![worker]);
    assert!(role.inline_policies.is_empty());

    // Deleting detaches what is left first.
    iam.put_inline_policy("demo-node", "ekspec", &inline)
        .await
        .unwrap();
    iam.delete_role("demo-node").await.unwrap();
    assert!(iam.list_roles("/ekspec/").await.unwrap().is_empty());
    assert_eq!(iam.list_roles("/other/").await.unwrap().len(), 1);
}

#[tokio::test]
async fn oidc_providers_are_listed_by_cluster_tag() {
    let moto = MotoServer::start();
    let iam = cloud(&moto).await.identity;
    let issuer = "https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE";
    let arn = iam
        .create_oidc_provider(issuer, &tags("oidc"))
        .await
        .unwrap();
    assert_eq!(
        arn,
        format!(
            "arn:aws:iam::{ACCOUNT}:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
        )
    );
    let mut other_tags = tags("oidc");
    other_tags.insert("ekspec.io/cluster".to_owned(), "other".to_owned());
    iam.create_oidc_provider(
        "https://oidc.eks.us-east-1.amazonaws.com/id/OTHER",
        &other_tags,
    )
    .await
    .unwrap();

    let providers = iam.list_oidc_providers("demo", None).await.unwrap();
    assert_eq!(providers.len(), 1);
    assert_eq!(providers[0].arn, arn);
    assert_eq!(
        providers[0].url,
        "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
    );
    assert_eq!(providers[0].client_ids, vec!["sts.amazonaws.com"]);
    assert_eq!(providers[0].tags, tags("oidc"));

    // With the cluster's issuer, its provider is found the same way, in one read of one
    // provider instead of one read per provider in the account.
    let proxy = crate::proxy::Proxy::start(&moto.endpoint());
    let through = connect(&ConnectOptions {
        endpoint_url: Some(proxy.endpoint()),
        ..options(&moto)
    })
    .await
    .unwrap()
    .identity;
    let known = through
        .list_oidc_providers("demo", Some(issuer))
        .await
        .unwrap();
    assert_eq!(known, providers);
    let reads = |name: &str| proxy.forwarded().iter().filter(|c| *c == name).count();
    assert_eq!(reads("GetOpenIDConnectProvider"), 1);
    through.list_oidc_providers("demo", None).await.unwrap();
    assert_eq!(reads("GetOpenIDConnectProvider"), 1 + 2);
    // Another cluster's issuer is not taken for this cluster's.
    let other = "https://oidc.eks.us-east-1.amazonaws.com/id/OTHER";
    assert_eq!(
        iam.list_oidc_providers("demo", Some(other)).await.unwrap(),
        providers
    );

    iam.delete_oidc_provider(&arn).await.unwrap();
    assert!(
        iam.list_oidc_providers("demo", None)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        iam.list_oidc_providers("other", None).await.unwrap().len(),
        1
    );
}

/// A VPC with two subnets and the cluster role, as EKS needs them.
async fn cluster_prerequisites(cloud: &Cloud) -> (Vec<String>, String) {
    let vpc = cloud
        .network
        .create_vpc("10.0.0.0/16", &tags("vpc"))
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
                .create_subnet(&subnet(&vpc, cidr, zone, false))
                .await
                .unwrap(),
        );
    }
    let role = cloud
        .identity
        .create_role(&RoleRequest {
            name: "demo-cluster".to_owned(),
            path: "/ekspec/demo/".to_owned(),
            trust_policy: trust("eks.amazonaws.com"),
            description: "EKS cluster demo".to_owned(),
            tags: tags("role/cluster"),
        })
        .await
        .unwrap();
    (subnets, role)
}

fn cluster_request(subnets: &[String], role: &str) -> ClusterRequest {
    ClusterRequest {
        name: "demo".to_owned(),
        version: "1.31".to_owned(),
        role_arn: role.to_owned(),
        subnet_ids: subnets.iter().rev().cloned().collect(),
        endpoint_public_access: true,
        endpoint_private_access: true,
        public_access_cidrs: vec!["203.0.113.0/24".to_owned(), "198.51.100.0/24".to_owned()],
        enabled_log_types: vec!["audit".to_owned(), "api".to_owned()],
        encryption_key_arn: Some(format!(
            "arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
        )),
        tags: tags("cluster"),
        client_request_token: "token-cluster".to_owned(),
        auto_mode: None,
        support_type: "STANDARD".to_owned(),
        deletion_protection: false,
        zonal_shift: false,
        scaling_tier: "standard".to_owned(),
        ip_family: None,
    }
}

#[tokio::test]
async fn cluster_is_created_described_updated_and_deleted() {
    let moto = MotoServer::start();
    let cloud = cloud(&moto).await;
    let (subnets, role) = cluster_prerequisites(&cloud).await;
    let eks = &cloud.kubernetes;
    let request = cluster_request(&subnets, &role);
    eks.create_cluster(&request).await.unwrap();

    let cluster = eks.describe_cluster("demo").await.unwrap().unwrap();
    assert_eq!(cluster.name, "demo");
    assert_eq!(
        cluster.arn,
        format!("arn:aws:eks:us-east-1:{ACCOUNT}:cluster/demo")
    );
    assert!(!cluster.status.is_empty());
    assert_eq!(cluster.version, "1.31");
    assert_eq!(cluster.role_arn, role);
    let mut sorted_subnets = subnets.clone();
    sorted_subnets.sort();
    assert_eq!(cluster.subnet_ids, sorted_subnets);
    assert!(cluster.endpoint_public_access);
    assert!(cluster.endpoint_private_access);
    assert_eq!(
        cluster.public_access_cidrs,
        vec!["198.51.100.0/24", "203.0.113.0/24"]
    );
    assert_eq!(cluster.enabled_log_types, vec!["api", "audit"]);
    assert_eq!(cluster.encryption_key_arn, request.encryption_key_arn);
    assert!(cluster.oidc_issuer.unwrap().starts_with("https://"));
    assert!(cluster.endpoint.is_some());
    assert!(cluster.certificate_authority.is_some());
    assert_eq!(cluster.tags, tags("cluster"));

    eks.update_cluster_config(
        "demo",
        &ClusterConfigChange::Endpoint {
            public_access: false,
            private_access: true,
            public_access_cidrs: Vec::new(),
        },
    )
    .await
    .unwrap();
    let cluster = eks.describe_cluster("demo").await.unwrap().unwrap();
    assert!(!cluster.endpoint_public_access);
    assert!(cluster.endpoint_private_access);

    eks.update_cluster_config(
        "demo",
        &ClusterConfigChange::Logging {
            enable: vec!["scheduler".to_owned()],
            disable: vec!["api".to_owned(), "audit".to_owned()],
        },
    )
    .await
    .unwrap();
    let cluster = eks.describe_cluster("demo").await.unwrap().unwrap();
    assert_eq!(cluster.enabled_log_types, vec!["scheduler"]);

    eks.delete_cluster("demo").await.unwrap();
    let gone = eks.describe_cluster("demo").await.unwrap();
    assert!(
        gone.is_none() || gone.is_some_and(|c| c.status == "DELETING"),
        "the cluster is gone or going"
    );
}

#[tokio::test]
async fn cluster_settings_version_support_and_insights_round_trip() {
    let moto = MotoServer::start();
    let cloud = cloud(&moto).await;
    let (subnets, role) = cluster_prerequisites(&cloud).await;
    let eks = &cloud.kubernetes;
    let request = ClusterRequest {
        support_type: "EXTENDED".to_owned(),
        deletion_protection: true,
        zonal_shift: true,
        scaling_tier: "tier-2xl".to_owned(),
        ..cluster_request(&subnets, &role)
    };
    eks.create_cluster(&request).await.unwrap();
    let cluster = eks.describe_cluster("demo").await.unwrap().unwrap();
    assert_eq!(
        (
            cluster.support_type.as_deref(),
            cluster.deletion_protection,
            cluster.zonal_shift,
            cluster.scaling_tier.as_deref()
        ),
        (Some("EXTENDED"), true, true, Some("tier-2xl"))
    );
    for change in [
        ClusterConfigChange::UpgradePolicy {
            support_type: "STANDARD".to_owned(),
        },
        ClusterConfigChange::DeletionProtection { enabled: false },
        ClusterConfigChange::ZonalShift { enabled: false },
        ClusterConfigChange::ScalingTier {
            tier: "standard".to_owned(),
        },
    ] {
        let id = eks.update_cluster_config("demo", &change).await.unwrap();
        let update = eks
            .describe_update("demo", UpdateOf::Cluster, &id.unwrap())
            .await
            .unwrap();
        assert_eq!(update.status, "Successful", "{change:?}");
    }
    let cluster = eks.describe_cluster("demo").await.unwrap().unwrap();
    assert_eq!(
        (
            cluster.support_type.as_deref(),
            cluster.deletion_protection,
            cluster.zonal_shift,
            cluster.scaling_tier.as_deref()
        ),
        (Some("STANDARD"), false, false, Some("standard"))
    );

    moto.control("eks-clock", json!({"date": "2026-01-01"}));
    assert_eq!(
        eks.version_support("1.31").await.unwrap(),
        Some(VersionSupport {
            version: "1.31".to_owned(),
            status: "EXTENDED_SUPPORT".to_owned(),
            end_of_standard_support: Some("2025-11-26".to_owned()),
            end_of_extended_support: Some("2026-11-26".to_owned()),
        })
    );
    // Not listed, even with includeAll: EKS does not offer it.
    assert_eq!(
        eks.version_support("1.9").await.unwrap(),
        Some(VersionSupport {
            version: "1.9".to_owned(),
            status: VersionSupport::NOT_LISTED.to_owned(),
            ..VersionSupport::default()
        })
    );

    // EKS's checks for 1.32 pass but one: only that one is returned, with its advice.
    moto.control(
        "insight",
        json!({"name": "demo", "insight": "Kubelet version skew", "status": "ERROR",
               "reason": "kubelet 1.29 on 3 nodes", "recommendation": "upgrade the nodes"}),
    );
    let insights = eks.upgrade_insights("demo", "1.32").await.unwrap();
    assert_eq!(insights.len(), 1, "{insights:?}");
    assert_eq!(
        (
            insights[0].name.as_str(),
            insights[0].status.as_str(),
            insights[0].reason.as_str(),
            insights[0].recommendation.as_deref(),
            insights[0].kubernetes_version.as_deref()
        ),
        (
            "Kubelet version skew",
            "ERROR",
            "kubelet 1.29 on 3 nodes",
            Some("upgrade the nodes"),
            Some("1.32")
        )
    );
    assert!(
        eks.upgrade_insights("demo", "1.33")
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn node_groups_and_fargate_profiles_round_trip() {
    let moto = MotoServer::start();
    let cloud = cloud(&moto).await;
    let (subnets, role) = cluster_prerequisites(&cloud).await;
    let eks = &cloud.kubernetes;
    eks.create_cluster(&cluster_request(&subnets, &role))
        .await
        .unwrap();
    let (template, version) = cloud
        .network
        .create_launch_template(&LaunchTemplateRequest {
            name: "demo-system".to_owned(),
            data: template_data(1, 50),
            tags: tags("lt/system"),
            client_token: "token-lt".to_owned(),
        })
        .await
        .unwrap();

    let taint = |key: &str, effect: &str| NodeTaint {
        key: key.to_owned(),
        value: "true".to_owned(),
        effect: effect.to_owned(),
    };
    let request = NodeGroupRequest {
        cluster: "demo".to_owned(),
        name: "system-1a2b3c4d".to_owned(),
        node_role_arn: format!("arn:aws:iam::{ACCOUNT}:role/ekspec/demo/demo-node"),
        subnet_ids: subnets.clone(),
        instance_types: vec!["m6i.large".to_owned()],
        capacity_type: "ON_DEMAND".to_owned(),
        ami_type: "AL2023_x86_64_STANDARD".to_owned(),
        scaling: NodeScaling {
            min: 2,
            max: 4,
            desired: 2,
        },
        labels: BTreeMap::from([("role".to_owned(), "system".to_owned())]),
        taints: vec![
            taint("dedicated", "NO_EXECUTE"),
            taint("CriticalAddonsOnly", "NO_SCHEDULE"),
        ],
        launch_template: (template.clone(), version.to_string()),
        update_budget: UpdateBudget::Count(1),
        tags: tags("nodegroup/system"),
        client_request_token: "token-ng".to_owned(),
        update_strategy: None,
        node_repair: None,
    };
    eks.create_node_group(&request).await.unwrap();

    let groups = eks.list_node_groups("demo").await.unwrap();
    assert_eq!(groups.len(), 1);
    let group = &groups[0];
    assert_eq!(group.name, "system-1a2b3c4d");
    assert!(!group.status.is_empty());
    assert_eq!(group.instance_types, vec!["m6i.large"]);
    assert_eq!(group.capacity_type, "ON_DEMAND");
    assert_eq!(group.ami_type, "AL2023_x86_64_STANDARD");
    assert_eq!(group.scaling, request.scaling);
    assert_eq!(group.labels, request.labels);
    assert_eq!(
        group.taints,
        vec![
            taint("CriticalAddonsOnly", "NO_SCHEDULE"),
            taint("dedicated", "NO_EXECUTE"),
        ]
    );
    let mut sorted_subnets = subnets.clone();
    sorted_subnets.sort();
    assert_eq!(group.subnet_ids, sorted_subnets);
    assert_eq!(
        group.launch_template,
        Some((template.clone(), version.to_string()))
    );
    // moto drops updateConfig on CreateNodegroup; UpdateNodegroupConfig below keeps it.
    assert_eq!(group.node_role_arn, request.node_role_arn);
    assert_eq!(group.tags, tags("nodegroup/system"));
    assert_eq!(
        eks.describe_node_group("demo", "system-1a2b3c4d")
            .await
            .unwrap()
            .as_ref(),
        Some(group)
    );

    eks.update_node_group_config(
        "demo",
        "system-1a2b3c4d",
        &NodeGroupConfigChange {
            add_labels: BTreeMap::from([("tier".to_owned(), "core".to_owned())]),
            remove_labels: vec!["role".to_owned()],
            add_taints: vec![taint("gpu", "PREFER_NO_SCHEDULE")],
            remove_taints: vec![taint("dedicated", "NO_EXECUTE")],
            scaling: Some(NodeScaling {
                min: 1,
                max: 6,
                desired: 3,
            }),
            update_budget: Some(UpdateBudget::Percentage(25)),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let group = eks
        .describe_node_group("demo", "system-1a2b3c4d")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        group.labels,
        BTreeMap::from([("tier".to_owned(), "core".to_owned())])
    );
    assert_eq!(
        group.taints,
        vec![
            taint("CriticalAddonsOnly", "NO_SCHEDULE"),
            taint("gpu", "PREFER_NO_SCHEDULE"),
        ]
    );
    assert_eq!(
        group.scaling,
        NodeScaling {
            min: 1,
            max: 6,
            desired: 3
        }
    );
    assert_eq!(group.update_budget, Some(UpdateBudget::Percentage(25)));

    eks.delete_node_group("demo", "system-1a2b3c4d")
        .await
        .unwrap();
    let remaining = eks.list_node_groups("demo").await.unwrap();
    assert!(
        remaining.iter().all(|g| g.status == "DELETING"),
        "{remaining:?}"
    );

    let fargate = FargateProfileRequest {
        cluster: "demo".to_owned(),
        name: "batch".to_owned(),
        pod_execution_role_arn: format!("arn:aws:iam::{ACCOUNT}:role/ekspec/demo/demo-fargate"),
        subnet_ids: subnets.clone(),
        selectors: vec![
            (
                "batch".to_owned(),
                BTreeMap::from([("tier".to_owned(), "jobs".to_owned())]),
            ),
            ("cron".to_owned(), BTreeMap::new()),
        ],
        tags: tags("fargate/batch"),
        client_request_token: "token-fp".to_owned(),
    };
    eks.create_fargate_profile(&fargate).await.unwrap();
    let profiles = eks.list_fargate_profiles("demo").await.unwrap();
    assert_eq!(profiles.len(), 1);
    assert_eq!(profiles[0].name, "batch");
    assert!(!profiles[0].status.is_empty());
    assert_eq!(
        profiles[0].pod_execution_role_arn,
        fargate.pod_execution_role_arn
    );
    assert_eq!(profiles[0].subnet_ids, sorted_subnets);
    assert_eq!(profiles[0].selectors, fargate.selectors);
    assert_eq!(profiles[0].tags, tags("fargate/batch"));
    assert!(
        eks.describe_fargate_profile("demo", "batch")
            .await
            .unwrap()
            .is_some()
    );

    eks.delete_fargate_profile("demo", "batch").await.unwrap();
    let status = eks
        .describe_fargate_profile("demo", "batch")
        .await
        .unwrap()
        .map(|p| p.status);
    assert!(
        status.is_none() || status.as_deref() == Some("DELETING"),
        "{status:?}"
    );
}

#[tokio::test]
async fn parameters_are_created_once_tagged_read_overwritten_and_deleted() {
    let moto = MotoServer::start();
    let cloud = cloud(&moto).await;
    let store = cloud.parameters.as_ref();
    let name = "/ekspec/demo/lock";
    assert_eq!(store.get_parameter(name).await.unwrap(), None);
    assert!(
        store
            .create_parameter(name, "first", &tags("lock"))
            .await
            .unwrap()
    );
    // The atomic create the lock relies on: a second create is refused and writes nothing.
    assert!(
        !store
            .create_parameter(name, "second", &tags("lock"))
            .await
            .unwrap()
    );
    assert_eq!(
        store.get_parameter(name).await.unwrap().as_deref(),
        Some("first")
    );
    store.overwrite_parameter(name, "third").await.unwrap();
    assert_eq!(
        store.get_parameter(name).await.unwrap().as_deref(),
        Some("third")
    );

    let inventory = crate::inventory::Inventory::new(&moto.endpoint(), "us-east-1").await;
    assert_eq!(
        inventory.parameters().await,
        vec![(name.to_owned(), tags("lock"))],
        "tagged in the create call, and the tags stay on overwrite"
    );
    store.delete_parameter(name).await.unwrap();
    store.delete_parameter(name).await.unwrap();
    assert_eq!(store.get_parameter(name).await.unwrap(), None);
}

#[tokio::test]
async fn the_cluster_lock_works_against_ssm() {
    use ekspec::lock::{ClusterLock, Holder, LockError, Released};

    let moto = MotoServer::start();
    let cloud = cloud(&moto).await;
    let arn = cloud.identity.caller_arn().await.unwrap();
    assert_eq!(arn, format!("arn:aws:sts::{ACCOUNT}:user/moto"));
    let lock = ClusterLock::new(cloud.parameters.as_ref(), "demo");
    let first = lock
        .acquire(&Holder::this_process(arn.clone(), "apply"), false)
        .await
        .unwrap();
    let mut other = Holder::this_process(arn.clone(), "apply");
    other.pid += 1;
    let error = lock.acquire(&other, false).await.unwrap_err();
    assert!(
        matches!(&error, LockError::Held { info, .. } if **info == first.info),
        "{error}"
    );
    assert_eq!(lock.describe().await.unwrap(), Some(first.info.clone()));

    let second = lock.acquire(&other, true).await.unwrap();
    assert_eq!(
        second.broken.map(|b| b.to_string()),
        Some(format!(
            "the lock of {} since {} (expires {})",
            first.info.who(),
            first.info.started,
            first.info.expires
        ))
    );
    assert_eq!(
        lock.release(&first.info).await.unwrap(),
        Released::HeldByOther(second.info.clone())
    );
    assert_eq!(
        lock.release(&second.info).await.unwrap(),
        Released::Released
    );
    assert_eq!(lock.describe().await.unwrap(), None);

    // A lock left behind is taken over once it expired (seen from a clock past the expiry).
    let left = lock.acquire(&other, false).await.unwrap();
    let later =
        ClusterLock::new(cloud.parameters.as_ref(), "demo").with_clock(std::sync::Arc::new(|| {
            std::time::SystemTime::now() + ekspec::lock::LOCK_TTL * 2
        }));
    let next = later
        .acquire(&Holder::this_process(arn, "delete"), false)
        .await
        .unwrap();
    assert_eq!(next.took_over, Some(left.info));
    assert_eq!(lock.describe().await.unwrap(), Some(next.info.clone()));
    let inventory = crate::inventory::Inventory::new(&moto.endpoint(), "us-east-1").await;
    let names: Vec<String> = inventory
        .parameters()
        .await
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(names, ["/ekspec/demo/lock"], "the takeover claim is gone");
}

/// EC2 Spot's service-linked role: made once, and made again (IAM's "has been taken" answer)
/// is success, as the guide's `create-service-linked-role ... || true` treats it.
#[tokio::test]
async fn the_spot_service_linked_role_is_made_once() {
    let moto = MotoServer::strict();
    let identity = cloud(&moto).await.identity;
    assert!(
        !identity
            .role_exists("AWSServiceRoleForEC2Spot")
            .await
            .unwrap()
    );
    identity
        .create_service_linked_role("spot.amazonaws.com")
        .await
        .unwrap();
    assert!(
        identity
            .role_exists("AWSServiceRoleForEC2Spot")
            .await
            .unwrap()
    );
    identity
        .create_service_linked_role("spot.amazonaws.com")
        .await
        .unwrap();
}

/// Karpenter's leftovers are told apart by the tags its controller policy scopes deletes by:
/// another cluster's instance and launch template, an instance profile of another region or
/// one Karpenter did not make, are not this cluster's.
#[tokio::test]
async fn karpenters_leftovers_are_only_this_clusters() {
    use aws_sdk_ec2::types::{ResourceType, Tag, TagSpecification};
    let moto = MotoServer::start();
    let config = sdk_config(&moto).await;
    let ec2 = aws_sdk_ec2::Client::new(&config);
    let iam = aws_sdk_iam::Client::new(&config);
    let cloud = cloud(&moto).await;
    let karpenter = |cluster: &str| {
        vec![
            (
                format!("kubernetes.io/cluster/{cluster}"),
                "owned".to_owned(),
            ),
            ("karpenter.sh/nodepool".to_owned(), "default".to_owned()),
            (
                "karpenter.k8s.aws/ec2nodeclass".to_owned(),
                "default".to_owned(),
            ),
        ]
    };
    let spec = |kind: ResourceType, tags: &[(String, String)]| {
        TagSpecification::builder()
            .resource_type(kind)
            .set_tags(Some(
                tags.iter()
                    .map(|(k, v)| Tag::builder().key(k).value(v).build())
                    .collect(),
            ))
            .build()
    };
    let image = ec2.describe_images().send().await.unwrap().images()[0]
        .image_id()
        .unwrap()
        .to_owned();
    let mut instances = Vec::new();
    let mut templates = Vec::new();
    for (name, tags) in [
        ("kp", karpenter("kp")),
        ("other", karpenter("other")),
        // Tagged for the cluster, but not by Karpenter (no NodePool).
        ("plain", karpenter("kp")[..1].to_vec()),
    ] {
        let run = ec2
            .run_instances()
            .image_id(&image)
            .min_count(1)
            .max_count(1)
            .tag_specifications(spec(ResourceType::Instance, &tags))
            .send()
            .await
            .unwrap();
        instances.push(run.instances()[0].instance_id().unwrap().to_owned());
        let template = ec2
            .create_launch_template()
            .launch_template_name(format!("karpenter.k8s.aws/{name}"))
            .launch_template_data(
                aws_sdk_ec2::types::RequestLaunchTemplateData::builder()
                    .image_id(&image)
                    .build(),
            )
            .tag_specifications(spec(ResourceType::LaunchTemplate, &tags))
            .send()
            .await
            .unwrap();
        templates.push(
            template
                .launch_template()
                .unwrap()
                .launch_template_id()
                .unwrap()
                .to_owned(),
        );
    }
    let found = cloud
        .network
        .discover_karpenter_leftovers("kp")
        .await
        .unwrap();
    assert_eq!(found.instances, [instances[0].clone()]);
    assert_eq!(found.launch_templates, [templates[0].clone()]);
    cloud
        .network
        .terminate_instances(&found.instances)
        .await
        .unwrap();
    assert!(
        cloud
            .network
            .instances_not_terminated(&found.instances)
            .await
            .unwrap()
            .is_empty()
    );
    // Terminated ones are not found again.
    let again = cloud
        .network
        .discover_karpenter_leftovers("kp")
        .await
        .unwrap();
    assert!(again.instances.is_empty(), "{again:?}");

    iam.create_role()
        .role_name("kp-karpenter-node")
        .assume_role_policy_document("{}")
        .send()
        .await
        .unwrap();
    let profile_tags = |region: &str, node_class: bool| {
        let mut tags = vec![
            ("kubernetes.io/cluster/kp".to_owned(), "owned".to_owned()),
            (
                "topology.kubernetes.io/region".to_owned(),
                region.to_owned(),
            ),
        ];
        if node_class {
            tags.push((
                "karpenter.k8s.aws/ec2nodeclass".to_owned(),
                "default".to_owned(),
            ));
        }
        tags.into_iter()
            .map(|(k, v)| {
                aws_sdk_iam::types::Tag::builder()
                    .key(k)
                    .value(v)
                    .build()
                    .unwrap()
            })
            .collect::<Vec<_>>()
    };
    for (name, tags) in [
        ("kp_1", profile_tags("us-east-1", true)),
        ("kp_west", profile_tags("us-west-2", true)),
        ("kp_by_hand", profile_tags("us-east-1", false)),
    ] {
        iam.create_instance_profile()
            .instance_profile_name(name)
            .set_tags(Some(tags))
            .send()
            .await
            .unwrap();
        iam.add_role_to_instance_profile()
            .instance_profile_name(name)
            .role_name("kp-karpenter-node")
            .send()
            .await
            .unwrap();
    }
    let profiles = cloud
        .identity
        .karpenter_instance_profiles("kp-karpenter-node", "kp", "us-east-1")
        .await
        .unwrap();
    assert_eq!(profiles, ["kp_1"]);
    cloud
        .identity
        .delete_instance_profile("kp_1", "kp-karpenter-node")
        .await
        .unwrap();
    // Gone: deleting again succeeds.
    cloud
        .identity
        .delete_instance_profile("kp_1", "kp-karpenter-node")
        .await
        .unwrap();
    assert!(
        iam.get_instance_profile()
            .instance_profile_name("kp_1")
            .send()
            .await
            .is_err()
    );
    // The role of a missing cluster has no profiles.
    assert!(
        cloud
            .identity
            .karpenter_instance_profiles("gone-karpenter-node", "gone", "us-east-1")
            .await
            .unwrap()
            .is_empty()
    );
}
