//! Capacity Blocks for ML in managed node groups (`capacityType: capacityBlock`), end to end
//! through the real binary against strict moto (tests/moto/strict_capacity_block.py): the
//! launch template carries the block's instance type, market type and reservation, the
//! CreateNodegroup request names no instance types, and the group gets only the subnets of the
//! block's zone. A plan after the apply has no changes, and delete leaves nothing.

use aws_sdk_ec2::types::{
    CapacityReservationTarget, InstanceType, LaunchTemplateCapacityReservationSpecificationRequest,
    LaunchTemplateInstanceMarketOptionsRequest, MarketType, RequestLaunchTemplateData,
};
use aws_sdk_eks::types::{CapacityTypes, LaunchTemplateSpecification, NodegroupScalingConfig};

use crate::e2e::{Emulated, node_groups};
use crate::inventory::Inventory;

const BLOCK: &str = "cr-0123456789abcdef0";

fn spec(cluster: &str, group: &str) -> String {
    format!(
        "apiVersion: ekspec/v1alpha1
kind: Cluster
metadata: {{name: {cluster}, region: us-east-1}}
spec:
  kubernetesVersion: \"1.31\"
  vpc: {{availabilityZones: [us-east-1a, us-east-1b, us-east-1c], natGateway: single}}
  nodeGroups:
{group}"
    )
}

const GPU: &str = "    - name: gpu
      instanceTypes: [p5.48xlarge]
      amiType: AL2023_x86_64_NVIDIA
      capacityType: capacityBlock
      capacityReservation: {id: cr-0123456789abcdef0}
      availabilityZones: [us-east-1b]
      minSize: 0
      maxSize: 2
      desiredSize: 0
";

/// The zones of a node group's subnets.
async fn zones(inventory: &Inventory, group: &aws_sdk_eks::types::Nodegroup) -> Vec<String> {
    let subnets = inventory
        .ec2
        .describe_subnets()
        .set_subnet_ids(Some(group.subnets().to_vec()))
        .send()
        .await
        .unwrap();
    let mut zones: Vec<String> = subnets
        .subnets()
        .iter()
        .filter_map(|s| s.availability_zone().map(str::to_owned))
        .collect();
    zones.sort();
    zones
}

/// (instance type, market type, reservation id) of the launch template version a group runs.
async fn template(
    inventory: &Inventory,
    group: &aws_sdk_eks::types::Nodegroup,
) -> (Option<String>, Option<String>, Option<String>) {
    let template = group.launch_template().unwrap();
    let versions = inventory
        .ec2
        .describe_launch_template_versions()
        .launch_template_id(template.id().unwrap())
        .versions(template.version().unwrap())
        .send()
        .await
        .unwrap();
    let data = versions.launch_template_versions()[0]
        .launch_template_data()
        .unwrap();
    (
        data.instance_type().map(|t| t.as_str().to_owned()),
        data.instance_market_options()
            .and_then(|m| m.market_type())
            .map(|m| m.as_str().to_owned()),
        data.capacity_reservation_specification()
            .and_then(|s| s.capacity_reservation_target())
            .and_then(|t| t.capacity_reservation_id())
            .map(str::to_owned),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_capacity_block_group_is_made_in_the_blocks_zone_from_its_launch_template() {
    let aws = Emulated::start();
    let inventory = aws.inventory("us-east-1").await;
    let file = aws.spec("block.yaml", &spec("block", GPU));
    aws.expect(0, &["apply", "-f", &file, "--auto-approve"]);
    let groups = node_groups(&inventory, "block", "gpu").await;
    assert_eq!(groups.len(), 1, "{groups:?}");
    let group = &groups[0];
    assert_eq!(group.capacity_type(), Some(&CapacityTypes::CapacityBlock));
    assert_eq!(zones(&inventory, group).await, ["us-east-1b"]);
    assert_eq!(
        template(&inventory, group).await,
        (
            Some("p5.48xlarge".to_owned()),
            Some("capacity-block".to_owned()),
            Some(BLOCK.to_owned())
        )
    );
    let plan = aws.expect(0, &["plan", "-f", &file, "--detailed-exitcode"]);
    assert_eq!(plan.stdout.trim(), "No changes.", "{}", plan.stdout);
    aws.expect(0, &["delete", "-f", &file, "--auto-approve"]);
    assert_eq!(inventory.owned("block").await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_zone_without_a_subnet_is_impossible_and_nothing_is_made() {
    let aws = Emulated::start();
    // Listed zones are checked by `validate`; a zone count's zones only at plan time.
    let text = spec("nozone", GPU)
        .replace(
            "availabilityZones: [us-east-1a, us-east-1b, us-east-1c], ",
            "zoneCount: 2, ",
        )
        .replace("[us-east-1b]", "[us-east-1c]");
    let file = aws.spec("nozone.yaml", &text);
    let out = aws.expect(1, &["apply", "-f", &file, "--auto-approve"]);
    assert!(
        out.stdout.contains(
            "the VPC has no subnet in us-east-1c (availabilityZones); its zones are us-east-1a, us-east-1b"
        ),
        "{}\n{}",
        out.stdout,
        out.stderr
    );
    let inventory = aws.inventory("us-east-1").await;
    assert_eq!(inventory.owned("nozone").await, Vec::<String>::new());
}

/// What strict moto answers a tool that gets a Capacity Block wrong: AWS's refusals.
#[tokio::test(flavor = "multi_thread")]
async fn strict_moto_refuses_what_eks_refuses_for_capacity_blocks() {
    let aws = Emulated::start();
    let inventory = aws.inventory("us-east-1").await;
    let file = aws.spec("refused.yaml", &spec("refused", GPU));
    aws.expect(0, &["apply", "-f", &file, "--auto-approve"]);
    let group = node_groups(&inventory, "refused", "gpu").await.remove(0);
    let block = template(&inventory, &group).await;
    assert_eq!(block.1.as_deref(), Some("capacity-block"));

    let all_subnets: Vec<String> = inventory
        .ec2
        .describe_subnets()
        .send()
        .await
        .unwrap()
        .subnets()
        .iter()
        .filter(|s| s.map_public_ip_on_launch() != Some(true))
        .filter_map(|s| s.subnet_id().map(str::to_owned))
        .collect();
    let make_template = |name: &'static str, market: bool| {
        let ec2 = inventory.ec2.clone();
        async move {
            let mut data = RequestLaunchTemplateData::builder()
                .instance_type(InstanceType::from("p5.48xlarge"))
                .capacity_reservation_specification(
                    LaunchTemplateCapacityReservationSpecificationRequest::builder()
                        .capacity_reservation_target(
                            CapacityReservationTarget::builder()
                                .capacity_reservation_id(BLOCK)
                                .build(),
                        )
                        .build(),
                );
            if market {
                data = data.instance_market_options(
                    LaunchTemplateInstanceMarketOptionsRequest::builder()
                        .market_type(MarketType::CapacityBlock)
                        .build(),
                );
            }
            let made = ec2
                .create_launch_template()
                .launch_template_name(name)
                .launch_template_data(data.build())
                .send()
                .await
                .unwrap();
            made.launch_template()
                .unwrap()
                .launch_template_id()
                .unwrap()
                .to_owned()
        }
    };
    let create = |name: &str, template: &str, capacity: CapacityTypes, subnets: Vec<String>| {
        inventory
            .eks
            .create_nodegroup()
            .cluster_name("refused")
            .nodegroup_name(name)
            .node_role(group.node_role().unwrap())
            .set_subnets(Some(subnets))
            .scaling_config(NodegroupScalingConfig::builder().desired_size(0).build())
            .capacity_type(capacity)
            .launch_template(
                LaunchTemplateSpecification::builder()
                    .id(template)
                    .version("1")
                    .build(),
            )
    };
    let one_zone = group.subnets().to_vec();

    // No market type in the template: "the create request will be rejected".
    let no_market = make_template("no-market", false).await;
    let error = create(
        "a",
        &no_market,
        CapacityTypes::CapacityBlock,
        one_zone.clone(),
    )
    .send()
    .await
    .unwrap_err()
    .into_service_error();
    assert!(error.is_invalid_parameter_exception(), "{error:?}");
    assert!(format!("{error:?}").contains("MarketType"), "{error:?}");

    // A Capacity Block template without CAPACITY_BLOCK.
    let market = make_template("market", true).await;
    let error = create("b", &market, CapacityTypes::OnDemand, one_zone.clone())
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(error.is_invalid_parameter_exception(), "{error:?}");

    // Subnets outside the block's one zone.
    let error = create("c", &market, CapacityTypes::CapacityBlock, all_subnets)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(error.is_invalid_parameter_exception(), "{error:?}");

    // Instance types in both the template and the request.
    let error = create("d", &market, CapacityTypes::CapacityBlock, one_zone.clone())
        .instance_types("p5.48xlarge")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(error.is_invalid_request_exception(), "{error:?}");

    // And the right request is taken.
    create("e", &market, CapacityTypes::CapacityBlock, one_zone)
        .send()
        .await
        .unwrap();
}
