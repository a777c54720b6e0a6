//! EC2 as strict as AWS (tests/moto/strict_ec2.py), end to end through the real binary:
//! client tokens EC2 remembers across runs, a NAT gateway that fails, an address and a subnet
//! still in use while the cluster is deleted, the AWS Load Balancer Controller's security
//! groups, Bottlerocket's data volume, tags reaching instances through a new launch template
//! version, and brought-in public subnets that give nodes no public address.

use aws_sdk_ec2::types::{Filter, NatGatewayState, ResourceType, Tag, TagSpecification};

use crate::e2e::{Emulated, edit, node_groups};
use crate::inventory::Inventory;

/// A cluster in two zones with one NAT gateway and the given node groups.
fn spec(cluster: &str, node_groups: &str) -> String {
    format!(
        "apiVersion: ekspec/v1alpha1
kind: Cluster
metadata:
  name: {cluster}
  region: us-east-1
  tags: {{team: platform}}
spec:
  kubernetesVersion: \"1.31\"
  vpc:
    availabilityZones: [us-east-1a, us-east-1b]
    natGateway: single
  nodeGroups:
{node_groups}"
    )
}

fn group(name: &str, extra: &str) -> String {
    format!(
        "    - name: {name}\n      instanceTypes: [m6i.large]\n      minSize: 1\n      maxSize: 2\n{extra}"
    )
}

fn tagged(cluster: &str) -> Filter {
    Filter::builder()
        .name("tag:ekspec.io/cluster")
        .values(cluster)
        .build()
}

/// The cluster's NAT gateways as `(id, state)`.
async fn nat_gateways(inventory: &Inventory, cluster: &str) -> Vec<(String, String)> {
    let described = inventory
        .ec2
        .describe_nat_gateways()
        .filter(tagged(cluster))
        .send()
        .await
        .unwrap();
    described
        .nat_gateways()
        .iter()
        .map(|n| {
            (
                n.nat_gateway_id().unwrap().to_owned(),
                n.state().unwrap().as_str().to_owned(),
            )
        })
        .collect()
}

async fn vpc_id(inventory: &Inventory, cluster: &str) -> String {
    let vpcs = inventory
        .ec2
        .describe_vpcs()
        .filters(tagged(cluster))
        .send()
        .await
        .unwrap();
    vpcs.vpcs()[0].vpc_id().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cluster_made_again_under_a_long_name_gets_tokens_ec2_accepts() {
    let aws = Emulated::start();
    let inventory = aws.inventory("us-east-1").await;
    // Long enough that a token built from the cluster's or the node groups' names passes
    // EC2's 64 characters, and node groups whose names differ only at their ends.
    let cluster = "payments-platform-production-eu-blue-green-2026";
    let groups =
        group("general-purpose-workers-blue", "") + &group("general-purpose-workers-green", "");
    let path = aws.spec("long.yaml", &spec(cluster, &groups));
    aws.expect(0, &["apply", "-f", &path, "--auto-approve"]);
    aws.expect(0, &["delete", "-f", &path, "--auto-approve"]);
    // EC2 remembers every token: the same create made again must not reuse one.
    aws.expect(0, &["apply", "-f", &path, "--auto-approve"]);
    let again = aws.expect(0, &["plan", "-f", &path, "--detailed-exitcode"]);
    assert_eq!(again.stdout.trim(), "No changes.");
    let live: Vec<String> = nat_gateways(&inventory, cluster)
        .await
        .into_iter()
        .filter(|(_, state)| state == NatGatewayState::Available.as_str())
        .map(|(id, _)| id)
        .collect();
    assert_eq!(live.len(), 1, "{live:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_nat_gateway_is_replaced_and_busy_resources_are_waited_out_on_delete() {
    let aws = Emulated::start();
    let inventory = aws.inventory("us-east-1").await;
    let cluster = "busy";
    let path = aws.spec("busy.yaml", &spec(cluster, &group("system", "")));
    aws.expect(0, &["apply", "-f", &path, "--auto-approve"]);

    // AWS can fail a NAT gateway at any time; it is then gone for planning, and the new one
    // needs a new client token (the old one answers the failed gateway).
    let gateways = nat_gateways(&inventory, cluster).await;
    assert_eq!(gateways.len(), 1, "{gateways:?}");
    let failed = gateways[0].0.clone();
    aws.emulator()
        .control("nat-gateway-failed", serde_json::json!({"id": failed}));
    let plan = aws.expect(2, &["plan", "-f", &path, "--detailed-exitcode"]);
    assert!(
        plan.stdout.contains("+ create nat-gateway/us-east-1a"),
        "{}",
        plan.stdout
    );
    aws.expect(0, &["apply", "-f", &path, "--auto-approve"]);
    let gateways = nat_gateways(&inventory, cluster).await;
    let replacement: Vec<&String> = gateways
        .iter()
        .filter(|(_, state)| state == "available")
        .map(|(id, _)| id)
        .collect();
    assert_eq!(replacement.len(), 1, "{gateways:?}");
    assert_ne!(replacement[0], &failed);
    let again = aws.expect(0, &["plan", "-f", &path, "--detailed-exitcode"]);
    assert_eq!(again.stdout.trim(), "No changes.");

    // What the AWS Load Balancer Controller leaves: a security group with its own tag.
    let vpc = vpc_id(&inventory, cluster).await;
    let group_id = inventory
        .ec2
        .create_security_group()
        .group_name("k8s-traffic-busy-1a2b3c")
        .description("[k8s] Shared Backend SecurityGroup for LoadBalancer")
        .vpc_id(&vpc)
        .tag_specifications(
            TagSpecification::builder()
                .resource_type(ResourceType::SecurityGroup)
                .tags(
                    Tag::builder()
                        .key("elbv2.k8s.aws/cluster")
                        .value(cluster)
                        .build(),
                )
                .tags(
                    Tag::builder()
                        .key("elbv2.k8s.aws/resource")
                        .value("backend-sg")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap()
        .group_id
        .unwrap();
    // The Elastic IP stays mapped for a while after its NAT gateway is deleted: releasing it
    // answers InvalidIPAddress.InUse (and the interface holding it keeps a subnet busy).
    let addresses = inventory
        .ec2
        .describe_addresses()
        .filters(tagged(cluster))
        .send()
        .await
        .unwrap();
    let allocation = addresses.addresses()[0].allocation_id().unwrap().to_owned();
    aws.emulator().control(
        "hold-address",
        serde_json::json!({"allocationId": allocation, "seconds": 6}),
    );
    aws.expect(
        0,
        &["delete", "-f", &path, "--auto-approve", "--timeout", "90s"],
    );
    assert!(
        inventory.owned(cluster).await.is_empty(),
        "{:?}",
        inventory.owned(cluster).await
    );
    let groups = inventory
        .ec2
        .describe_security_groups()
        .filters(Filter::builder().name("group-id").values(&group_id).build())
        .send()
        .await
        .unwrap();
    assert!(groups.security_groups().is_empty(), "{groups:?}");
}

/// The block device mappings of a launch template version as `(device, size, encrypted)`.
async fn mappings(
    inventory: &Inventory,
    template: &str,
    version: &str,
) -> Vec<(String, Option<i32>, Option<bool>)> {
    let versions = inventory
        .ec2
        .describe_launch_template_versions()
        .launch_template_id(template)
        .versions(version)
        .send()
        .await
        .unwrap();
    let data = versions.launch_template_versions()[0]
        .launch_template_data()
        .unwrap();
    let mut mappings: Vec<_> = data
        .block_device_mappings()
        .iter()
        .map(|m| {
            let ebs = m.ebs().unwrap();
            (
                m.device_name().unwrap().to_owned(),
                ebs.volume_size(),
                ebs.encrypted(),
            )
        })
        .collect();
    mappings.sort();
    mappings
}

/// The tags a launch template version gives to instances.
async fn instance_tags(inventory: &Inventory, template: &str, version: &str) -> Vec<String> {
    let versions = inventory
        .ec2
        .describe_launch_template_versions()
        .launch_template_id(template)
        .versions(version)
        .send()
        .await
        .unwrap();
    let data = versions.launch_template_versions()[0]
        .launch_template_data()
        .unwrap();
    let mut tags: Vec<String> = data
        .tag_specifications()
        .iter()
        .filter(|s| s.resource_type() == Some(&ResourceType::Instance))
        .flat_map(|s| s.tags())
        .map(|t| format!("{}={}", t.key().unwrap(), t.value().unwrap()))
        .collect();
    tags.sort();
    tags
}

#[tokio::test(flavor = "multi_thread")]
async fn bottlerocket_disks_size_the_data_volume_and_tags_roll_out_in_a_new_template_version() {
    let aws = Emulated::start();
    let inventory = aws.inventory("us-east-1").await;
    let cluster = "rocket";
    let text = spec(
        cluster,
        &group(
            "bottles",
            "      amiType: BOTTLEROCKET_x86_64\n      diskSizeGiB: 50\n",
        ),
    );
    let path = aws.spec("rocket.yaml", &text);
    aws.expect(0, &["apply", "-f", &path, "--auto-approve"]);
    let groups = node_groups(&inventory, cluster, "bottles").await;
    let template = groups[0].launch_template().unwrap();
    let id = template.id().unwrap().to_owned();
    assert_eq!(template.version(), Some("1"));
    // Bottlerocket's OS is /dev/xvda; diskSizeGiB is its data volume, and both are encrypted.
    assert_eq!(
        mappings(&inventory, &id, "1").await,
        vec![
            ("/dev/xvda".to_owned(), None, Some(true)),
            ("/dev/xvdb".to_owned(), Some(50), Some(true)),
        ]
    );
    let again = aws.expect(0, &["plan", "-f", &path, "--detailed-exitcode"]);
    assert_eq!(again.stdout.trim(), "No changes.");

    // A tag change reaches instances and volumes only through a new version of the template,
    // which the node group rolls to.
    let changed = aws.spec(
        "rocket-tags.yaml",
        &edit(&text, "tags: {team: platform}", "tags: {team: payments}"),
    );
    let plan = aws.expect(2, &["plan", "-f", &changed, "--detailed-exitcode"]);
    assert!(
        plan.stdout
            .contains("instanceTags.team: platform -> payments"),
        "{}",
        plan.stdout
    );
    aws.expect(0, &["apply", "-f", &changed, "--auto-approve"]);
    let groups = node_groups(&inventory, cluster, "bottles").await;
    let template = groups[0].launch_template().unwrap();
    assert_eq!(template.id(), Some(id.as_str()));
    assert_eq!(template.version(), Some("2"));
    assert_eq!(
        instance_tags(&inventory, &id, "2").await,
        vec!["Name=rocket-bottles", "team=payments"]
    );
    assert_eq!(
        mappings(&inventory, &id, "2").await,
        mappings(&inventory, &id, "1").await
    );
    let again = aws.expect(0, &["plan", "-f", &changed, "--detailed-exitcode"]);
    assert_eq!(again.stdout.trim(), "No changes.");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_brought_in_public_subnet_without_public_addresses_is_refused_for_public_nodes() {
    let aws = Emulated::start();
    let inventory = aws.inventory("us-east-1").await;
    let ec2 = &inventory.ec2;
    let vpc = ec2
        .create_vpc()
        .cidr_block("10.8.0.0/16")
        .send()
        .await
        .unwrap()
        .vpc
        .unwrap()
        .vpc_id
        .unwrap();
    let mut subnets = Vec::new();
    for (cidr, zone) in [
        ("10.8.0.0/20", "us-east-1a"),
        ("10.8.16.0/20", "us-east-1b"),
    ] {
        let subnet = ec2
            .create_subnet()
            .vpc_id(&vpc)
            .cidr_block(cidr)
            .availability_zone(zone)
            .send()
            .await
            .unwrap()
            .subnet
            .unwrap()
            .subnet_id
            .unwrap();
        subnets.push(subnet);
    }
    let text = format!(
        "apiVersion: ekspec/v1alpha1
kind: Cluster
metadata:
  name: edge
  region: us-east-1
spec:
  kubernetesVersion: \"1.31\"
  vpc:
    id: {vpc}
    subnets: {{private: [{private}], public: [{public}]}}
  nodeGroups:
    - name: internal
      instanceTypes: [m6i.large]
      minSize: 1
      maxSize: 2
    - name: edge
      instanceTypes: [m6i.large]
      minSize: 1
      maxSize: 2
      privateNetworking: false
",
        private = subnets[0],
        public = subnets[1],
    );
    let path = aws.spec("edge.yaml", &text);
    let plan = aws.expect(1, &["plan", "-f", &path]);
    let said = format!("{}{}", plan.stdout, plan.stderr);
    for expected in [
        format!("subnet `{}` (spec.vpc.subnets.public[0])", subnets[1]),
        "node group `edge` (spec.nodeGroups[1].privateNetworking: false)".to_owned(),
        "Ec2SubnetInvalidConfiguration".to_owned(),
        "MapPublicIpOnLaunch".to_owned(),
    ] {
        assert!(said.contains(&expected), "no `{expected}` in:\n{said}");
    }
    aws.expect(1, &["apply", "-f", &path, "--auto-approve"]);

    // Once the subnet gives public addresses, the plan goes ahead.
    ec2.modify_subnet_attribute()
        .subnet_id(&subnets[1])
        .map_public_ip_on_launch(
            aws_sdk_ec2::types::AttributeBooleanValue::builder()
                .value(true)
                .build(),
        )
        .send()
        .await
        .unwrap();
    aws.expect(2, &["plan", "-f", &path, "--detailed-exitcode"]);
}
