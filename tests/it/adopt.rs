//! `ekspec adopt` through the real binary against strict moto: a cluster made directly with
//! the SDK the way eksctl names and tags things is exported, adopted, planned `No changes.`,
//! changed and deleted (what was adopted goes, the brought-in VPC stays); another ekspec
//! cluster's resources are refused; a plan without `--adopt` says how; a saved adopt plan
//! applies. An adopt killed after any of its mutating calls is the crash test's `adopt`
//! scenario (tests/it/crash.rs).

use crate::e2e::{Emulated, edit};
use crate::export::eksctl_cluster;
use crate::inventory::Inventory;

pub const REGION: &str = "us-east-1";

/// A cluster made the way eksctl makes one (see `export::eksctl_cluster`), with the public
/// subnets eksctl's VPC template gives public addresses: what `adopt` takes over here and in
/// the crash test's `adopt` scenario. Returns the VPC's id.
pub async fn seed_eksctl_style(inventory: &Inventory, name: &str) -> String {
    let (vpc, public, _) = eksctl_cluster(inventory, name).await;
    // eksctl's public subnets give instances public addresses (its VPC template sets
    // MapPublicIpOnLaunch), which a node group on them needs.
    for subnet in &public {
        inventory
            .ec2
            .modify_subnet_attribute()
            .subnet_id(subnet)
            .map_public_ip_on_launch(
                aws_sdk_ec2::types::AttributeBooleanValue::builder()
                    .value(true)
                    .build(),
            )
            .send()
            .await
            .unwrap();
    }
    vpc
}

/// [`seed_eksctl_style`], and the spec `ekspec export` writes for it. Returns the spec's path
/// and the VPC's id.
async fn seed_eksctl_style_cluster(aws: &Emulated, name: &str) -> (String, String) {
    let vpc = seed_eksctl_style(&aws.inventory(REGION).await, name).await;
    let out = aws.expect(0, &["export", "--name", name, "--region", REGION]);
    let spec = aws.spec(&format!("{name}.yaml"), &out.stdout);
    (spec, vpc)
}

/// Names of the node groups of `cluster`.
async fn node_group_names(inventory: &Inventory, cluster: &str) -> Vec<String> {
    let mut names = inventory
        .eks
        .list_nodegroups()
        .cluster_name(cluster)
        .send()
        .await
        .unwrap()
        .nodegroups()
        .to_vec();
    names.sort();
    names
}

/// Whether IAM has a role of this name.
async fn role_exists(inventory: &Inventory, name: &str) -> bool {
    inventory
        .iam
        .get_role()
        .role_name(name)
        .send()
        .await
        .is_ok()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_eksctl_cluster_is_exported_adopted_changed_and_deleted() {
    let aws = Emulated::start();
    let inventory = aws.inventory(REGION).await;
    let (spec, vpc) = seed_eksctl_style_cluster(&aws, "shop").await;

    // Without --adopt the plan refuses, and says how.
    let refused = aws.expect(1, &["plan", "-f", &spec]);
    assert!(
        refused
            .stdout
            .contains("already exists but was not created by ekspec")
            && refused.stdout.contains("ekspec adopt -f SPEC"),
        "{refused:?}"
    );

    let plan = aws.expect(0, &["plan", "--adopt", "-f", &spec]);
    let text = &plan.stdout;
    for expected in [
        "<= adopt cluster (shop)",
        "tags.ekspec.io/cluster: (none) -> shop",
        "<= adopt nodegroup/ng-1 (ng-1-",
        "then replaced: EKS cannot change these fields in place",
        "<= adopt role/cluster (eksctl-shop-cluster-ServiceRole-Q1W2E3)",
        "<= adopt role/node (eksctl-shop-nodegroup-ng-1-NodeInstanceRole-R4T5Y6)",
        "<= adopt role/irsa/kube-system/aws-node (eksctl-shop-addon-iamserviceaccount-kube-sy-Role1-A1B2)",
        "<= adopt role/irsa/apps/uploader",
        "<= adopt role/irsa/shop/orders",
        "<= adopt oidc-provider",
        "<= adopt pod-identity/shop/orders",
        "<= adopt addon/vpc-cni",
        "<= adopt access-entry/arn:aws:iam::123456789012:role/platform-admin",
        "+ create addon/eks-pod-identity-agent",
        "to adopt, ",
    ] {
        assert!(text.contains(expected), "no `{expected}` in\n{text}");
    }
    // Nothing was changed by planning (EKS tags the cluster's security group itself).
    let owned = inventory.owned("shop").await;
    assert!(
        owned.iter().all(|o| o.starts_with("security-group ")),
        "{owned:#?}"
    );

    aws.expect(0, &["adopt", "-f", &spec, "--auto-approve"]);
    let again = aws.expect(0, &["plan", "-f", &spec, "--detailed-exitcode"]);
    assert_eq!(again.stdout.trim(), "No changes.", "{}", again.stderr);
    let owned = inventory.owned("shop").await;
    for expected in [
        "cluster shop",
        "role eksctl-shop-cluster-ServiceRole-Q1W2E3",
        "role eksctl-shop-nodegroup-ng-1-NodeInstanceRole-R4T5Y6",
        "role eksctl-shop-addon-iamserviceaccount-kube-sy-Role1-A1B2",
        "addon shop/vpc-cni",
    ] {
        assert!(
            owned.iter().any(|o| o.starts_with(expected)),
            "no {expected} in {owned:#?}"
        );
    }
    // The node group on eksctl's launch template was replaced by one on ekspec's.
    let groups = node_group_names(&inventory, "shop").await;
    assert!(
        groups.len() == 1 && groups[0].starts_with("ng-1-"),
        "{groups:?}"
    );
    // Another IRSA role of the provider that no spec account names stays someone else's.
    assert!(
        !owned.iter().any(|o| o.contains("ci-runners")),
        "{owned:#?}"
    );

    // A change, applied like on any owned cluster.
    let text = std::fs::read_to_string(&spec).unwrap();
    let changed = edit(
        &text,
        "logging: [api, audit]",
        "logging: [api, audit, scheduler]",
    );
    let spec = aws.spec("shop.yaml", &changed);
    let plan = aws.expect(2, &["plan", "-f", &spec, "--detailed-exitcode"]);
    assert!(
        plan.stdout.contains("~ update cluster") && !plan.stdout.contains("adopt"),
        "{}",
        plan.stdout
    );
    aws.expect(0, &["apply", "-f", &spec, "--auto-approve"]);
    let again = aws.expect(0, &["plan", "-f", &spec, "--detailed-exitcode"]);
    assert_eq!(again.stdout.trim(), "No changes.");

    // Delete: what was adopted goes, the brought-in VPC and what was not adopted stay.
    aws.expect(0, &["delete", "-f", &spec, "--auto-approve"]);
    assert_eq!(inventory.owned("shop").await, Vec::<String>::new());
    let clusters = inventory.eks.list_clusters().send().await.unwrap();
    assert!(clusters.clusters().is_empty(), "{clusters:?}");
    assert!(!role_exists(&inventory, "eksctl-shop-cluster-ServiceRole-Q1W2E3").await);
    assert!(role_exists(&inventory, "ci-runners").await);
    assert!(role_exists(&inventory, "platform-admin").await);
    let vpcs = inventory
        .ec2
        .describe_vpcs()
        .vpc_ids(&vpc)
        .send()
        .await
        .unwrap();
    assert_eq!(vpcs.vpcs().len(), 1, "the brought-in VPC was deleted");
}

#[tokio::test(flavor = "multi_thread")]
async fn another_clusters_resources_are_refused_and_a_saved_adopt_plan_applies() {
    let aws = Emulated::start();
    let inventory = aws.inventory(REGION).await;
    let (spec, _) = seed_eksctl_style_cluster(&aws, "shop").await;
    let cluster_arn = inventory
        .eks
        .describe_cluster()
        .name("shop")
        .send()
        .await
        .unwrap()
        .cluster()
        .unwrap()
        .arn()
        .unwrap()
        .to_owned();

    // The cluster itself carries another ekspec cluster's tag.
    inventory
        .eks
        .tag_resource()
        .resource_arn(&cluster_arn)
        .tags("ekspec.io/cluster", "web")
        .send()
        .await
        .unwrap();
    for args in [
        vec!["plan", "--adopt", "-f", &spec],
        vec!["plan", "-f", &spec],
    ] {
        let out = aws.expect(1, &args);
        assert!(
            out.stdout.contains("! impossible cluster (shop)")
                && out.stdout.contains("belongs to ekspec cluster `web`")
                && out.stdout.contains("not to `shop`"),
            "{out:?}"
        );
    }
    inventory
        .eks
        .untag_resource()
        .resource_arn(&cluster_arn)
        .tag_keys("ekspec.io/cluster")
        .send()
        .await
        .unwrap();

    // An adopt that stopped after tagging the cluster only: a plan without --adopt does not
    // make twins of what is left to adopt, it says how to go on.
    inventory
        .eks
        .tag_resource()
        .resource_arn(&cluster_arn)
        .tags("ekspec.io/cluster", "shop")
        .tags("ekspec.io/resource", "cluster")
        .send()
        .await
        .unwrap();
    let out = aws.expect(1, &["plan", "-f", &spec]);
    for expected in [
        "! impossible nodegroup/ng-1 (ng-1)\n        cannot: ng-1 is the node group named `ng-1` in the spec but carries no ekspec tags (an interrupted adopt, or made outside ekspec); ekspec takes it over only when told: `ekspec adopt -f SPEC`",
        "! impossible role/cluster (eksctl-shop-cluster-ServiceRole-Q1W2E3)",
    ] {
        assert!(
            out.stdout.contains(expected),
            "no `{expected}` in\n{}",
            out.stdout
        );
    }
    assert!(!out.stdout.contains("create nodegroup"), "{}", out.stdout);
    inventory
        .eks
        .untag_resource()
        .resource_arn(&cluster_arn)
        .tag_keys("ekspec.io/cluster")
        .tag_keys("ekspec.io/resource")
        .send()
        .await
        .unwrap();

    // The node role does.
    let node_role = "eksctl-shop-nodegroup-ng-1-NodeInstanceRole-R4T5Y6";
    inventory
        .iam
        .tag_role()
        .role_name(node_role)
        .tags(
            aws_sdk_iam::types::Tag::builder()
                .key("ekspec.io/cluster")
                .value("web")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let out = aws.expect(1, &["plan", "--adopt", "-f", &spec]);
    assert!(
        out.stdout.contains(&format!(
            "! impossible role/node ({node_role})\n        cannot: {node_role} belongs to ekspec cluster `web` (its tag ekspec.io/cluster says so), not to `shop`"
        )),
        "{}",
        out.stdout
    );
    let out = aws.expect(1, &["adopt", "-f", &spec, "--auto-approve"]);
    assert!(out.stderr.contains("no change was made"), "{out:?}");
    let owned = inventory.owned("shop").await;
    assert!(
        owned.iter().all(|o| o.starts_with("security-group ")),
        "{owned:#?}"
    );
    inventory
        .iam
        .untag_role()
        .role_name(node_role)
        .tag_keys("ekspec.io/cluster")
        .send()
        .await
        .unwrap();

    // A saved adopt plan carries the adoption to `apply PLAN.json`.
    let saved = aws.spec("shop.plan.json", "");
    aws.expect(0, &["plan", "--adopt", "-f", &spec, "--out", &saved]);
    let document = std::fs::read_to_string(&saved).unwrap();
    assert!(
        document.contains("\"adopt\": true") && document.contains("\"kind\": \"adopt\""),
        "{document}"
    );
    aws.expect(0, &["apply", &saved, "--auto-approve"]);
    let again = aws.expect(0, &["plan", "-f", &spec, "--detailed-exitcode"]);
    assert_eq!(again.stdout.trim(), "No changes.", "{}", again.stderr);
}

/// What eksctl's VPC template adds to [`seed_eksctl_style`]'s VPC: a NAT gateway with its
/// Elastic IP in the first public subnet, a private route table through it for the private
/// subnets, and its two security groups (the control plane's, and the one shared by all
/// nodes, which lets the cluster security group EKS made in and is let into the control
/// plane's: rules that name other groups). Returns the shared node group's id.
pub async fn seed_eksctl_network(inventory: &Inventory, cluster: &str, vpc: &str) -> String {
    use aws_sdk_ec2::types::{DomainType, Filter, IpPermission, UserIdGroupPair};
    let ec2 = &inventory.ec2;
    let subnets = ec2
        .describe_subnets()
        .filters(Filter::builder().name("vpc-id").values(vpc).build())
        .send()
        .await
        .unwrap();
    let (public, private): (Vec<_>, Vec<_>) = subnets
        .subnets()
        .iter()
        .partition(|s| s.map_public_ip_on_launch() == Some(true));
    let allocation = ec2
        .allocate_address()
        .domain(DomainType::Vpc)
        .send()
        .await
        .unwrap()
        .allocation_id()
        .unwrap()
        .to_owned();
    let nat = ec2
        .create_nat_gateway()
        .subnet_id(public[0].subnet_id().unwrap())
        .allocation_id(&allocation)
        .send()
        .await
        .unwrap()
        .nat_gateway()
        .unwrap()
        .nat_gateway_id()
        .unwrap()
        .to_owned();
    let table = crate::export::route_table_with_default_route(ec2, vpc, &nat).await;
    for subnet in &private {
        ec2.associate_route_table()
            .route_table_id(&table)
            .subnet_id(subnet.subnet_id().unwrap())
            .send()
            .await
            .unwrap();
    }
    let group = |name: String| async move {
        ec2.create_security_group()
            .group_name(name)
            .description("made the way eksctl's cluster stack makes it")
            .vpc_id(vpc)
            .send()
            .await
            .unwrap()
            .group_id()
            .unwrap()
            .to_owned()
    };
    let control_plane = group(format!(
        "eksctl-{cluster}-cluster-ControlPlaneSecurityGroup-1A2B"
    ))
    .await;
    let shared = group(format!(
        "eksctl-{cluster}-cluster-ClusterSharedNodeSecurityGroup-3C4D"
    ))
    .await;
    let eks_group = inventory
        .eks
        .describe_cluster()
        .name(cluster)
        .send()
        .await
        .unwrap()
        .cluster()
        .and_then(|c| c.resources_vpc_config())
        .and_then(|c| c.cluster_security_group_id())
        .unwrap()
        .to_owned();
    let all_from = |source: &str| {
        IpPermission::builder()
            .ip_protocol("-1")
            .user_id_group_pairs(UserIdGroupPair::builder().group_id(source).build())
            .build()
    };
    // eksctl: IngressInterNodeGroupSG, IngressDefaultClusterToNodeSG, IngressNodeToDefaultClusterSG.
    for (group, source) in [
        (&shared, &shared),
        (&shared, &eks_group),
        (&eks_group, &shared),
        (&control_plane, &shared),
    ] {
        ec2.authorize_security_group_ingress()
            .group_id(group)
            .ip_permissions(all_from(source))
            .send()
            .await
            .unwrap();
    }
    shared
}

/// How many there are of the VPC itself, its subnets, its security groups (the default one
/// too), its NAT gateways not deleted, and the region's Elastic IPs.
async fn in_vpc(inventory: &Inventory, vpc: &str) -> (usize, usize, usize, usize, usize) {
    use aws_sdk_ec2::types::Filter;
    let ec2 = &inventory.ec2;
    let by_vpc = || Filter::builder().name("vpc-id").values(vpc).build();
    let vpcs = ec2.describe_vpcs().filters(by_vpc()).send().await.unwrap();
    let subnets = ec2
        .describe_subnets()
        .filters(by_vpc())
        .send()
        .await
        .unwrap();
    let groups = ec2
        .describe_security_groups()
        .filters(by_vpc())
        .send()
        .await
        .unwrap();
    let nats = ec2
        .describe_nat_gateways()
        .filter(by_vpc())
        .send()
        .await
        .unwrap();
    let addresses = ec2.describe_addresses().send().await.unwrap();
    (
        vpcs.vpcs().len(),
        subnets.subnets().len(),
        groups.security_groups().len(),
        nats.nat_gateways()
            .iter()
            .filter(|n| n.state().is_some_and(|s| s.as_str() != "deleted"))
            .count(),
        addresses.addresses().len(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn adopt_network_takes_the_vpc_and_delete_removes_it_after_the_cluster() {
    let aws = Emulated::start();
    let inventory = aws.inventory(REGION).await;
    let vpc = seed_eksctl_style(&inventory, "shop").await;
    let shared = seed_eksctl_network(&inventory, "shop", &vpc).await;
    let out = aws.expect(0, &["export", "--name", "shop", "--region", REGION]);
    let spec = aws.spec("shop.yaml", &out.stdout);

    let plan = aws.expect(0, &["plan", "--adopt-network", "-f", &spec]);
    let text = &plan.stdout;
    for expected in [
        "<= adopt cluster (shop)",
        &format!("<= adopt vpc ({vpc})"),
        "<= adopt subnet/subnet-",
        "<= adopt internet-gateway/igw-",
        "<= adopt nat-gateway/nat-",
        "<= adopt eip/eipalloc-",
        "<= adopt route-table/rtb-",
        "<= adopt security-group/sg-",
        "the VPC of spec.vpc.id",
    ] {
        assert!(text.contains(expected), "no `{expected}` in\n{text}");
    }
    // Two of eksctl's groups; the VPC's default one, EKS's cluster group and the VPC's main
    // route table are not adopted.
    assert_eq!(
        text.matches("<= adopt security-group/").count(),
        2,
        "{text}"
    );
    assert_eq!(text.matches("<= adopt route-table/").count(), 2, "{text}");

    aws.expect(
        0,
        &["adopt", "--adopt-network", "-f", &spec, "--auto-approve"],
    );
    let again = aws.expect(0, &["plan", "-f", &spec, "--detailed-exitcode"]);
    assert_eq!(again.stdout.trim(), "No changes.", "{}", again.stderr);
    let owned = inventory.owned("shop").await;
    for expected in [
        "vpc ",
        "subnet ",
        "internet-gateway ",
        "nat-gateway ",
        "route-table ",
    ] {
        assert!(
            owned.iter().any(|o| o.starts_with(expected)),
            "no {expected} in {owned:#?}"
        );
    }
    // An adopt stopped before it tagged a subnet: the plan stops and says how to go on.
    let subnet = owned
        .iter()
        .find_map(|o| o.strip_prefix("subnet "))
        .and_then(|o| o.split_whitespace().next())
        .unwrap()
        .to_owned();
    inventory
        .ec2
        .delete_tags()
        .resources(&subnet)
        .tags(
            aws_sdk_ec2::types::Tag::builder()
                .key("ekspec.io/cluster")
                .build(),
        )
        .tags(
            aws_sdk_ec2::types::Tag::builder()
                .key("ekspec.io/resource")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let stopped = aws.expect(1, &["plan", "-f", &spec]);
    assert!(
        stopped
            .stdout
            .contains(&format!("! impossible subnet/{subnet} ({subnet})"))
            && stopped
                .stdout
                .contains("`ekspec adopt --adopt-network -f SPEC`"),
        "{}",
        stopped.stdout
    );
    aws.expect(
        0,
        &["adopt", "--adopt-network", "-f", &spec, "--auto-approve"],
    );
    // A second adopt has nothing left to take.
    let again = aws.expect(
        0,
        &[
            "plan",
            "--adopt-network",
            "-f",
            &spec,
            "--detailed-exitcode",
        ],
    );
    assert_eq!(again.stdout.trim(), "No changes.", "{}", again.stderr);

    // The spec's tags, not ekspec's Name: the other tool's stays.
    let tags = inventory
        .ec2
        .describe_vpcs()
        .vpc_ids(&vpc)
        .send()
        .await
        .unwrap()
        .vpcs()[0]
        .tags()
        .iter()
        .map(|t| format!("{}={}", t.key().unwrap(), t.value().unwrap()))
        .collect::<Vec<_>>();
    assert!(
        tags.contains(&"team=shop".to_owned())
            && tags.contains(&"ekspec.io/resource=vpc".to_owned())
            && !tags.iter().any(|t| t.starts_with("Name=shop/")),
        "{tags:?}"
    );
    // EC2 refuses to delete a group another group's rule names (strict moto, as AWS does).
    let refused = inventory
        .ec2
        .delete_security_group()
        .group_id(&shared)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        aws_sdk_ec2::error::ProvideErrorMetadata::code(&refused),
        Some("DependencyViolation"),
        "{refused:?}"
    );

    // Delete takes the network after the cluster: the groups' rules naming each other and
    // EKS's group are revoked first, so every group (and EKS's) can go.
    let plan = aws.expect(0, &["plan", "-f", &spec]);
    assert!(!plan.stdout.contains("delete"), "{}", plan.stdout);
    let delete = aws.expect(0, &["delete", "-f", &spec, "--auto-approve"]);
    assert!(
        delete.stdout.contains(&format!(
            "- delete security-group-rules/{shared} ({shared})\n        ingress from "
        )) && delete.stdout.contains("all traffic -> (none)"),
        "{}",
        delete.stdout
    );
    assert_eq!(inventory.owned("shop").await, Vec::<String>::new());
    assert_eq!(in_vpc(&inventory, &vpc).await, (0, 0, 0, 0, 0));
}

#[tokio::test(flavor = "multi_thread")]
async fn adopt_network_refuses_another_clusters_network_and_what_it_cannot_delete() {
    use aws_sdk_ec2::types::{Filter, Tag};
    let aws = Emulated::start();
    let inventory = aws.inventory(REGION).await;
    let vpc = seed_eksctl_style(&inventory, "shop").await;
    let out = aws.expect(0, &["export", "--name", "shop", "--region", REGION]);
    let spec = aws.spec("shop.yaml", &out.stdout);
    let ec2 = &inventory.ec2;

    // A spec that makes its own network has none to adopt.
    let own = aws.spec(
        "own.yaml",
        "apiVersion: ekspec/v1alpha1\nkind: Cluster\nmetadata: {name: own, region: us-east-1}\nspec:\n  kubernetesVersion: \"1.35\"\n",
    );
    let out = aws.expect(1, &["plan", "--adopt-network", "-f", &own]);
    assert!(
        out.stderr
            .contains("--adopt-network takes over the VPC a spec brings in")
            && out.stderr.contains("own.yaml has none"),
        "{out:?}"
    );

    // A VPC another ekspec cluster owns.
    let tag = |key: &str, value: &str| Tag::builder().key(key).value(value).build();
    ec2.create_tags()
        .resources(&vpc)
        .tags(tag("ekspec.io/cluster", "web"))
        .send()
        .await
        .unwrap();
    let out = aws.expect(1, &["plan", "--adopt-network", "-f", &spec]);
    assert!(
        out.stdout.contains(&format!(
            "! impossible vpc ({vpc})\n        cannot: {vpc} belongs to ekspec cluster `web`"
        )) && out.stdout.contains("not to `shop`")
            && !out.stdout.contains("adopt subnet/"),
        "{}",
        out.stdout
    );
    ec2.delete_tags()
        .resources(&vpc)
        .tags(tag("ekspec.io/cluster", "web"))
        .send()
        .await
        .unwrap();

    // A subnet the spec does not list, and an instance that is not a node of the cluster.
    let extra = ec2
        .create_subnet()
        .vpc_id(&vpc)
        .cidr_block("192.168.250.0/24")
        .availability_zone("us-east-1a")
        .send()
        .await
        .unwrap()
        .subnet()
        .unwrap()
        .subnet_id()
        .unwrap()
        .to_owned();
    let (instance, _) =
        crate::leftovers::seed_node(ec2, "bastion", &extra, &[("Name", "bastion")]).await;
    let out = aws.expect(1, &["plan", "--adopt-network", "-f", &spec]);
    for expected in [
        format!("! impossible subnet/{extra} ({extra})"),
        format!(
            "subnet {extra} (192.168.250.0/24, us-east-1a) is in VPC {vpc} but not in spec.vpc.subnets"
        ),
        format!("instance {instance} (running) is in VPC {vpc} and is not a node of cluster shop"),
    ] {
        assert!(
            out.stdout.contains(&expected),
            "no `{expected}` in\n{}",
            out.stdout
        );
    }
    // Nothing was changed, and without --adopt-network the VPC stays brought-in.
    let out = aws.expect(
        1,
        &["adopt", "--adopt-network", "-f", &spec, "--auto-approve"],
    );
    assert!(out.stderr.contains("no change was made"), "{out:?}");
    let plan = aws.expect(0, &["plan", "--adopt", "-f", &spec]);
    assert!(!plan.stdout.contains("adopt vpc"), "{}", plan.stdout);
    let tagged = ec2
        .describe_vpcs()
        .filters(
            Filter::builder()
                .name("tag-key")
                .values("ekspec.io/cluster")
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert!(tagged.vpcs().is_empty(), "{tagged:?}");
}
