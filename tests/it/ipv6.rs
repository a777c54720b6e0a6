//! IPv6 clusters (`spec.ipFamily: ipv6`): through the binary against strict moto (the dual-stack
//! network, the cluster's IP family, a refused change of it, a delete that leaves nothing), and
//! against the in-memory cloud (a VPC made for IPv4 gets its IPv6 blocks in place).

use std::sync::Arc;

use aws_sdk_ec2::types::Filter;
use ekspec::cloud::memory::MemoryCloud;
use ekspec::cloud::{CloudError, ErrorKind, RouteTarget};
use ekspec::exec::{self, Context, wait::Waiter};
use ekspec::plan::{ChangeKind, Operation};
use ekspec::resources::{observe, planner};
use ipnet::Ipv6Net;

use crate::e2e::{Emulated, edit};
use crate::reconcile_memory::{apply, plan_for, spec};
use crate::support::repo;

fn example() -> String {
    std::fs::read_to_string(repo().join("examples/ipv6.yaml")).unwrap()
}

fn owned_by(cluster: &str) -> Filter {
    Filter::builder()
        .name("tag:ekspec.io/cluster")
        .values(cluster)
        .build()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_ipv6_cluster_is_dual_stack_keeps_its_family_and_leaves_nothing() {
    let aws = Emulated::start();
    let spec = aws.spec("dual.yaml", &example());

    let plan = aws.expect(2, &["plan", "-f", &spec, "--detailed-exitcode"]);
    for expected in [
        "egress-only-internet-gateway",
        "ipv6-route/public",
        "ipv6-route/private-us-east-1a",
    ] {
        assert!(
            plan.stdout.contains(expected),
            "{expected}:\n{}",
            plan.stdout
        );
    }
    aws.expect(0, &["apply", "-f", &spec, "--auto-approve"]);
    aws.expect(0, &["plan", "-f", &spec, "--detailed-exitcode"]);

    let inventory = aws.inventory("us-east-1").await;
    let ec2 = &inventory.ec2;
    // The VPC's Amazon-provided block, and a /64 of it in every subnet.
    let vpcs = ec2
        .describe_vpcs()
        .filters(owned_by("dual"))
        .send()
        .await
        .unwrap();
    let vpc = &vpcs.vpcs()[0];
    let association = &vpc.ipv6_cidr_block_association_set()[0];
    assert_eq!(
        association
            .ipv6_cidr_block_state()
            .and_then(|s| s.state())
            .map(|s| s.as_str()),
        Some("associated")
    );
    let block: Ipv6Net = association.ipv6_cidr_block().unwrap().parse().unwrap();
    let subnets = ec2
        .describe_subnets()
        .filters(owned_by("dual"))
        .send()
        .await
        .unwrap();
    assert_eq!(subnets.subnets().len(), 4);
    let mut blocks = Vec::new();
    for subnet in subnets.subnets() {
        let own: Ipv6Net = subnet.ipv6_cidr_block_association_set()[0]
            .ipv6_cidr_block()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(own.prefix_len(), 64);
        assert!(block.contains(&own), "{own} is not in {block}");
        assert_eq!(subnet.assign_ipv6_address_on_creation(), Some(true));
        blocks.push(own);
    }
    blocks.sort();
    blocks.dedup();
    assert_eq!(blocks.len(), 4, "{blocks:?}");

    // Private subnets send IPv6 out through the egress-only gateway, public ones through the
    // internet gateway.
    let gateways = ec2
        .describe_egress_only_internet_gateways()
        .send()
        .await
        .unwrap();
    let gateways = gateways.egress_only_internet_gateways();
    assert_eq!(gateways.len(), 1);
    let eigw = gateways[0].egress_only_internet_gateway_id().unwrap();
    let tags: Vec<(&str, &str)> = gateways[0]
        .tags()
        .iter()
        .map(|t| (t.key().unwrap(), t.value().unwrap()))
        .collect();
    assert!(tags.contains(&("ekspec.io/cluster", "dual")), "{tags:?}");
    assert!(
        tags.contains(&("ekspec.io/resource", "egress-only-internet-gateway")),
        "{tags:?}"
    );
    let tables = ec2
        .describe_route_tables()
        .filters(owned_by("dual"))
        .send()
        .await
        .unwrap();
    assert_eq!(tables.route_tables().len(), 3);
    for table in tables.route_tables() {
        let resource = table
            .tags()
            .iter()
            .find(|t| t.key() == Some("ekspec.io/resource"))
            .and_then(|t| t.value())
            .unwrap();
        let route = table
            .routes()
            .iter()
            .find(|r| r.destination_ipv6_cidr_block() == Some("::/0"))
            .unwrap_or_else(|| panic!("{resource} has no ::/0 route"));
        if resource == "route-table/public" {
            assert!(route.gateway_id().unwrap().starts_with("igw-"), "{route:?}");
        } else {
            assert_eq!(route.egress_only_internet_gateway_id(), Some(eigw));
        }
    }

    // The cluster's IP family, and the CNI's IPv6 policy on the node role.
    let cluster = inventory
        .eks
        .describe_cluster()
        .name("dual")
        .send()
        .await
        .unwrap();
    let network = cluster
        .cluster()
        .unwrap()
        .kubernetes_network_config()
        .unwrap();
    assert_eq!(network.ip_family().map(|f| f.as_str()), Some("ipv6"));
    let role = "dual-node";
    let attached = inventory
        .iam
        .list_attached_role_policies()
        .role_name(role)
        .send()
        .await
        .unwrap();
    assert!(
        attached
            .attached_policies()
            .iter()
            .all(|p| p.policy_name() != Some("AmazonEKS_CNI_Policy")),
        "{attached:?}"
    );
    let inline = inventory
        .iam
        .get_role_policy()
        .role_name(role)
        .policy_name("ekspec-inline")
        .send()
        .await
        .unwrap();
    assert!(
        crate::e2e::percent_decode(inline.policy_document()).contains("ec2:AssignIpv6Addresses")
    );

    // `get` shows the IPv6 pieces.
    let get = aws.expect(0, &["get", "-f", &spec]);
    let line = |resource: &str| {
        get.stdout
            .lines()
            .find(|l| l.starts_with(&format!("{resource} ")))
            .unwrap_or_else(|| panic!("no {resource} in\n{}", get.stdout))
    };
    let eigw_line = line("egress-only-internet-gateway");
    assert!(
        eigw_line.contains(eigw) && eigw_line.ends_with("attached"),
        "{eigw_line}"
    );
    let raw_block = association.ipv6_cidr_block().unwrap();
    assert!(
        line("vpc").ends_with(&format!("10.0.0.0/16 {raw_block}")),
        "{}",
        get.stdout
    );
    assert!(
        line("cluster").ends_with("ACTIVE 1.35 ipv6"),
        "{}",
        get.stdout
    );

    // EKS cannot change the family: the plan says so and apply changes nothing.
    let ipv4 = aws.spec("dual.yaml", &edit(&example(), "  ipFamily: ipv6\n", ""));
    let plan = aws.expect(1, &["plan", "-f", &ipv4]);
    assert!(
        plan.stdout.contains(
            "EKS cannot change a cluster's IP family: the cluster `dual` was created with ipv6"
        ),
        "{}",
        plan.stdout
    );
    let refused = aws.expect(1, &["apply", "-f", &ipv4, "--auto-approve"]);
    assert!(
        refused.stderr.contains("no change was made"),
        "{}",
        refused.stderr
    );

    aws.expect(0, &["delete", "-f", &spec, "--auto-approve"]);
    assert_eq!(inventory.owned("dual").await, Vec::<String>::new());
    let left = ec2
        .describe_egress_only_internet_gateways()
        .send()
        .await
        .unwrap();
    assert!(left.egress_only_internet_gateways().is_empty(), "{left:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_existing_vpc_without_ipv6_blocks_is_impossible_for_an_ipv6_cluster() {
    let aws = Emulated::start();
    let inventory = aws.inventory("eu-west-1").await;
    let ec2 = &inventory.ec2;
    let vpc = ec2
        .create_vpc()
        .cidr_block("10.60.0.0/16")
        .send()
        .await
        .unwrap();
    let vpc = vpc.vpc().unwrap().vpc_id().unwrap().to_owned();
    let mut subnets = Vec::new();
    for (i, zone) in ["eu-west-1a", "eu-west-1b"].iter().enumerate() {
        let subnet = ec2
            .create_subnet()
            .vpc_id(&vpc)
            .cidr_block(format!("10.60.{i}.0/24"))
            .availability_zone(*zone)
            .send()
            .await
            .unwrap();
        subnets.push(subnet.subnet().unwrap().subnet_id().unwrap().to_owned());
    }
    let text = format!(
        "apiVersion: ekspec/v1alpha1\nkind: Cluster\nmetadata: {{name: byo6, region: eu-west-1}}\nspec:\n  kubernetesVersion: \"1.31\"\n  ipFamily: ipv6\n  vpc: {{id: {vpc}, subnets: {{private: [{}, {}]}}}}\n",
        subnets[0], subnets[1]
    );
    let spec = aws.spec("byo6.yaml", &text);
    let out = aws.expect(1, &["apply", "-f", &spec, "--auto-approve"]);
    assert!(
        out.stdout.contains(&format!(
            "VPC `{vpc}` (spec.vpc.id) has no IPv6 block, which an IPv6 cluster (spec.ipFamily: ipv6) needs"
        )),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(&format!(
            "subnet `{}` (spec.vpc.subnets.private[0]) has no IPv6 block",
            subnets[0]
        )),
        "{}",
        out.stdout
    );
    assert!(out.stderr.contains("no change was made"), "{}", out.stderr);
    assert_eq!(inventory.owned("byo6").await, Vec::<String>::new());
}

const IPV4: &str = r#"apiVersion: ekspec/v1alpha1
kind: Cluster
metadata: {name: late6, region: us-east-1}
spec:
  kubernetesVersion: "1.31"
  vpc: {availabilityZones: [us-east-1a, us-east-1b]}
  nodeGroups: [{name: default, instanceTypes: [m6i.large], minSize: 1, maxSize: 2}]
"#;

/// A network made for an IPv4 spec whose cluster EKS refused: the spec then asks for IPv6, and
/// the VPC and subnets get their IPv6 blocks in place before EKS is asked again; the delete
/// then removes the egress-only gateway before the VPC, which it blocks. (Paused clock: the
/// delete's retries while something blocks take no real time.)
#[tokio::test(start_paused = true)]
async fn a_network_made_for_ipv4_gets_its_ipv6_blocks_in_place() {
    let aws = MemoryCloud::new();
    let ipv4 = spec(IPV4);
    aws.fail_next(
        "CreateCluster",
        CloudError {
            operation: "CreateCluster",
            resource: "late6".to_owned(),
            code: Some("InvalidParameterException".to_owned()),
            message: "refused".to_owned(),
            kind: ErrorKind::Invalid,
        },
    );
    let observed = observe(&aws.cloud(), "late6", Some(&ipv4)).await.unwrap();
    let plan = planner::plan(&ipv4, &observed);
    let ctx = Context::new(
        aws.cloud(),
        &observed,
        "late6",
        "us-east-1",
        Waiter::default(),
    );
    let (_stop, stop) = tokio::sync::watch::channel(false);
    let report = exec::execute(&plan, Arc::new(ctx), stop, |_| {}).await;
    assert!(!report.success());

    let ipv6 = spec(&IPV4.replace("  vpc:", "  ipFamily: ipv6\n  vpc:"));
    let plan = plan_for(&aws, &ipv6).await;
    let change = |resource: &str| {
        plan.changes
            .iter()
            .find(|c| c.resource == resource)
            .unwrap_or_else(|| panic!("no change of {resource}: {plan:#?}"))
    };
    assert_eq!(change("vpc").kind, ChangeKind::Update);
    assert!(
        change("vpc")
            .operations
            .iter()
            .any(|op| matches!(op, Operation::AssociateVpcIpv6Cidr { .. }))
    );
    let subnet = change("subnet/private-us-east-1b");
    assert_eq!(subnet.kind, ChangeKind::Update);
    assert!(
        subnet.after.contains(&"vpc".to_owned()),
        "{:?}",
        subnet.after
    );
    assert!(subnet.operations.iter().any(|op| matches!(
        op,
        Operation::EnableSubnetIpv6 {
            vpc_block: Some(_),
            index: 3,
            ..
        }
    )));
    apply(&aws, &ipv6).await;
    assert!(plan_for(&aws, &ipv6).await.changes.is_empty());

    let observed = observe(&aws.cloud(), "late6", Some(&ipv6)).await.unwrap();
    let cluster = observed.cluster.as_ref().unwrap();
    assert_eq!(cluster.ip_family.as_deref(), Some("ipv6"));
    let block: Ipv6Net = observed.network.vpcs[0]
        .ipv6_cidr
        .as_deref()
        .unwrap()
        .parse()
        .unwrap();
    for subnet in &observed.network.subnets {
        let own: Ipv6Net = subnet.ipv6_cidr.as_deref().unwrap().parse().unwrap();
        assert!(block.contains(&own) && own.prefix_len() == 64, "{own}");
        assert!(subnet.assign_ipv6_address_on_creation);
    }
    let eigw = &observed.network.egress_only_internet_gateways[0].id;
    for table in &observed.network.route_tables {
        let want = if table.tags["ekspec.io/resource"] == "route-table/public" {
            matches!(
                table.default_ipv6_route,
                Some(RouteTarget::InternetGateway(_))
            )
        } else {
            table.default_ipv6_route == Some(RouteTarget::EgressOnlyInternetGateway(eigw.clone()))
        };
        assert!(want, "{table:?}");
    }

    let observed = observe(&aws.cloud(), "late6", None).await.unwrap();
    let plan = planner::plan_delete("late6", "us-east-1", &observed);
    let ctx = Context::new(
        aws.cloud(),
        &observed,
        "late6",
        "us-east-1",
        Waiter::default(),
    );
    let (_stop, stop) = tokio::sync::watch::channel(false);
    let report = exec::execute(&plan, Arc::new(ctx), stop, |_| {}).await;
    assert!(report.success(), "{:?} {:?}", report.failed, report.skipped);
    assert_eq!(aws.resource_count(), 0);
}
