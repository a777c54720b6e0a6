//! Node group settings EKS added lately, end to end through the real binary against strict
//! moto (tests/moto/strict_nodegroup_settings.py): node auto repair and the update strategy set
//! at create and changed in place with UpdateNodegroupConfig, and Capacity Reservation targeting
//! carried by the launch template, changed through a new version the node group rolls to. Each
//! apply is followed by a plan with no changes.

use aws_sdk_ec2::types::{
    CapacityReservationPreference, CapacityReservationTarget,
    LaunchTemplateCapacityReservationSpecificationRequest, RequestLaunchTemplateData,
};
use aws_sdk_eks::types::{NodeRepairConfig, NodegroupScalingConfig, NodegroupUpdateConfig};

use crate::e2e::{Emulated, edit, node_groups};
use crate::inventory::Inventory;

fn spec(cluster: &str, settings: &str) -> String {
    format!(
        "apiVersion: ekspec/v1alpha1
kind: Cluster
metadata: {{name: {cluster}, region: us-east-1}}
spec:
  kubernetesVersion: \"1.31\"
  vpc: {{availabilityZones: [us-east-1a, us-east-1b], natGateway: single}}
  nodeGroups:
    - name: gpu
      instanceTypes: [m6i.large]
      minSize: 1
      maxSize: 3
{settings}"
    )
}

fn converged(aws: &Emulated, spec: &str) {
    let plan = aws.expect(0, &["plan", "-f", spec, "--detailed-exitcode"]);
    assert_eq!(plan.stdout.trim(), "No changes.", "{}", plan.stdout);
}

/// The one generation of `gpu`.
async fn gpu(inventory: &Inventory, cluster: &str) -> aws_sdk_eks::types::Nodegroup {
    let mut groups = node_groups(inventory, cluster, "gpu").await;
    assert_eq!(groups.len(), 1, "{groups:?}");
    groups.remove(0)
}

/// (enabled, threshold count, threshold %, parallel count, parallel %) as EKS reports it.
fn repair(group: &aws_sdk_eks::types::Nodegroup) -> Option<RepairView> {
    group.node_repair_config().map(|r| {
        (
            r.enabled(),
            r.max_unhealthy_node_threshold_count(),
            r.max_unhealthy_node_threshold_percentage(),
            r.max_parallel_nodes_repaired_count(),
            r.max_parallel_nodes_repaired_percentage(),
        )
    })
}

type RepairView = (
    Option<bool>,
    Option<i32>,
    Option<i32>,
    Option<i32>,
    Option<i32>,
);

/// (maxUnavailable, updateStrategy) as EKS reports it.
fn update_config(group: &aws_sdk_eks::types::Nodegroup) -> (Option<i32>, Option<String>) {
    let config = group.update_config().unwrap();
    (
        config.max_unavailable(),
        config.update_strategy().map(|s| s.as_str().to_owned()),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn node_repair_and_update_strategy_are_set_at_create_and_changed_in_place() {
    let aws = Emulated::start();
    let inventory = aws.inventory("us-east-1").await;
    let created = spec(
        "repair",
        "      maxUnavailable: 2
      updateStrategy: MINIMAL
      nodeRepairConfig:
        enabled: true
        maxUnhealthyNodeThresholdPercentage: 20
        maxParallelNodesRepairedCount: 1
",
    );
    let file = aws.spec("repair.yaml", &created);
    aws.expect(0, &["apply", "-f", &file, "--auto-approve"]);
    let group = gpu(&inventory, "repair").await;
    let name = group.nodegroup_name().unwrap().to_owned();
    assert_eq!(
        repair(&group),
        Some((Some(true), None, Some(20), Some(1), None))
    );
    assert_eq!(update_config(&group), (Some(2), Some("MINIMAL".into())));
    converged(&aws, &file);

    // Each setting changes in place: the same generation, one UpdateNodegroupConfig.
    let changed = edit(
        &edit(
            &created,
            "updateStrategy: MINIMAL",
            "updateStrategy: DEFAULT",
        ),
        "        maxUnhealthyNodeThresholdPercentage: 20
        maxParallelNodesRepairedCount: 1",
        "        maxUnhealthyNodeThresholdCount: 3
        maxParallelNodesRepairedPercentage: 50",
    );
    std::fs::write(&file, &changed).unwrap();
    let plan = aws.expect(2, &["plan", "-f", &file, "--detailed-exitcode"]);
    assert!(plan.stdout.contains("updateStrategy"), "{}", plan.stdout);
    assert!(plan.stdout.contains("nodeRepairConfig"), "{}", plan.stdout);
    assert!(
        plan.stdout.contains("~ update nodegroup/gpu"),
        "{}",
        plan.stdout
    );
    assert!(plan.stdout.contains("0 to replace"), "{}", plan.stdout);
    aws.expect(0, &["apply", "-f", &file, "--auto-approve"]);
    let group = gpu(&inventory, "repair").await;
    assert_eq!(group.nodegroup_name(), Some(name.as_str()));
    assert_eq!(
        repair(&group),
        Some((Some(true), Some(3), None, None, Some(50)))
    );
    assert_eq!(update_config(&group), (Some(2), Some("DEFAULT".into())));
    converged(&aws, &file);

    // Without the block, repair is EKS's default again: off.
    let plain = spec("repair", "      maxUnavailable: 2\n");
    std::fs::write(&file, &plain).unwrap();
    let plan = aws.expect(2, &["plan", "-f", &file, "--detailed-exitcode"]);
    assert!(plan.stdout.contains("disabled"), "{}", plan.stdout);
    aws.expect(0, &["apply", "-f", &file, "--auto-approve"]);
    let group = gpu(&inventory, "repair").await;
    assert_eq!(repair(&group).and_then(|r| r.0), Some(false));
    converged(&aws, &file);
}

/// The `CapacityReservationSpecification` of the group's launch template version the group
/// runs, as (preference, reservation id, resource group ARN).
async fn reservation(
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
    let spec = data.capacity_reservation_specification().unwrap();
    let target = spec.capacity_reservation_target();
    (
        spec.capacity_reservation_preference()
            .map(|p| p.as_str().to_owned()),
        target
            .and_then(|t| t.capacity_reservation_id())
            .map(str::to_owned),
        target
            .and_then(|t| t.capacity_reservation_resource_group_arn())
            .map(str::to_owned),
    )
}

const GROUP_ARN: &str = "arn:aws:resource-groups:us-east-1:123456789012:group/ml-reservations";

#[tokio::test(flavor = "multi_thread")]
async fn a_capacity_reservation_change_is_a_new_launch_template_version_the_group_rolls_to() {
    let aws = Emulated::start();
    let inventory = aws.inventory("us-east-1").await;
    let created = spec(
        "reserved",
        "      capacityReservation:
        preference: capacity-reservations-only
        id: cr-0123456789abcdef0
",
    );
    let file = aws.spec("reserved.yaml", &created);
    aws.expect(0, &["apply", "-f", &file, "--auto-approve"]);
    let group = gpu(&inventory, "reserved").await;
    let name = group.nodegroup_name().unwrap().to_owned();
    assert_eq!(
        reservation(&inventory, &group).await,
        (
            Some("capacity-reservations-only".into()),
            Some("cr-0123456789abcdef0".into()),
            None
        )
    );
    converged(&aws, &file);

    for (from, to, expected) in [
        (
            "        preference: capacity-reservations-only\n        id: cr-0123456789abcdef0\n",
            format!("        resourceGroupArn: {GROUP_ARN}\n"),
            (None, None, Some(GROUP_ARN.to_owned())),
        ),
        (
            &*format!("        resourceGroupArn: {GROUP_ARN}\n"),
            "        preference: none\n".to_owned(),
            (Some("none".to_owned()), None, None),
        ),
    ] {
        let text = std::fs::read_to_string(&file).unwrap();
        std::fs::write(&file, edit(&text, from, &to)).unwrap();
        let plan = aws.expect(2, &["plan", "-f", &file, "--detailed-exitcode"]);
        assert!(
            plan.stdout.contains("capacityReservation"),
            "{}",
            plan.stdout
        );
        assert!(
            plan.stdout.contains("launchTemplate version"),
            "{}",
            plan.stdout
        );
        aws.expect(0, &["apply", "-f", &file, "--auto-approve"]);
        let group = gpu(&inventory, "reserved").await;
        assert_eq!(
            group.nodegroup_name(),
            Some(name.as_str()),
            "rolled, not replaced"
        );
        assert_eq!(reservation(&inventory, &group).await, expected);
        converged(&aws, &file);
    }
}

/// The refusals the spec's validation mirrors, straight from strict moto: what AWS answers a
/// tool that sends them.
#[tokio::test(flavor = "multi_thread")]
async fn strict_moto_refuses_what_eks_and_ec2_refuse() {
    let aws = Emulated::start();
    let inventory = aws.inventory("us-east-1").await;
    let file = aws.spec("refused.yaml", &spec("refused", ""));
    aws.expect(0, &["apply", "-f", &file, "--auto-approve"]);
    let group = gpu(&inventory, "refused").await;
    let name = group.nodegroup_name().unwrap();

    let both = NodeRepairConfig::builder()
        .enabled(true)
        .max_unhealthy_node_threshold_count(2)
        .max_unhealthy_node_threshold_percentage(20)
        .build();
    let error = inventory
        .eks
        .update_nodegroup_config()
        .cluster_name("refused")
        .nodegroup_name(name)
        .node_repair_config(both)
        .send()
        .await
        .unwrap_err();
    let error = error.into_service_error();
    assert!(error.is_invalid_parameter_exception(), "{error:?}");

    let strategy_alone = NodegroupUpdateConfig::builder()
        .update_strategy("MINIMAL".into())
        .build();
    let error = inventory
        .eks
        .create_nodegroup()
        .cluster_name("refused")
        .nodegroup_name("other")
        .node_role(group.node_role().unwrap())
        .subnets(group.subnets()[0].clone())
        .scaling_config(NodegroupScalingConfig::builder().desired_size(1).build())
        .update_config(strategy_alone)
        .send()
        .await
        .unwrap_err();
    assert!(
        error.into_service_error().is_invalid_parameter_exception(),
        "updateConfig without a budget"
    );

    let open_and_target = LaunchTemplateCapacityReservationSpecificationRequest::builder()
        .capacity_reservation_preference(CapacityReservationPreference::Open)
        .capacity_reservation_target(
            CapacityReservationTarget::builder()
                .capacity_reservation_id("cr-0123456789abcdef0")
                .build(),
        )
        .build();
    let error = inventory
        .ec2
        .create_launch_template()
        .launch_template_name("open-and-target")
        .launch_template_data(
            RequestLaunchTemplateData::builder()
                .capacity_reservation_specification(open_and_target)
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error.into_service_error().meta().code(),
        Some("InvalidParameterCombination")
    );
}

mod memory {
    //! The planner and executor against the in-memory cloud: what each setting sends, and which
    //! live states count as the spec's.

    use ekspec::cloud::memory::MemoryCloud;
    use ekspec::cloud::{
        CapacityReservationTargeting, NodeGroupConfigChange, NodeRepair, ObservedNodeGroup,
        UpdateBudget,
    };
    use ekspec::plan::{ChangeKind, Operation, Plan};
    use ekspec::resources::observe;

    use crate::reconcile_memory::{apply, kinds, plan_for, spec};

    fn text(settings: &str) -> String {
        super::spec("mem", settings)
    }

    async fn group(aws: &MemoryCloud) -> ObservedNodeGroup {
        let observed = observe(&aws.cloud(), "mem", None).await.unwrap();
        assert_eq!(observed.node_groups.len(), 1);
        observed.node_groups[0].clone()
    }

    /// The one UpdateNodegroupConfig change of the plan.
    fn config_change(plan: &Plan) -> NodeGroupConfigChange {
        assert_eq!(
            kinds(plan),
            [("nodegroup/gpu".to_owned(), ChangeKind::Update)]
        );
        match &plan.changes[0].operations[..] {
            [Operation::UpdateNodeGroup { change, .. }] => change.clone(),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn repair_and_strategy_are_sent_at_create_and_only_what_differs_is_changed() {
        let aws = MemoryCloud::new();
        let created = spec(&text(
            "      nodeRepairConfig: {enabled: true, maxParallelNodesRepairedPercentage: 25}\n      updateStrategy: MINIMAL\n",
        ));
        apply(&aws, &created).await;
        let live = group(&aws).await;
        assert_eq!(
            live.node_repair,
            Some(NodeRepair {
                enabled: true,
                max_parallel_nodes_repaired_percentage: Some(25),
                ..NodeRepair::default()
            })
        );
        assert_eq!(live.update_strategy.as_deref(), Some("MINIMAL"));
        assert!(plan_for(&aws, &created).await.is_empty());

        // The strategy alone goes with the budget EKS requires beside it, and nothing else.
        let default = spec(&text(
            "      nodeRepairConfig: {enabled: true, maxParallelNodesRepairedPercentage: 25}\n      updateStrategy: DEFAULT\n",
        ));
        let change = config_change(&plan_for(&aws, &default).await);
        assert_eq!(change.update_strategy.as_deref(), Some("DEFAULT"));
        assert_eq!(change.update_budget, Some(UpdateBudget::Count(1)));
        assert_eq!(change.node_repair, None);
        assert_eq!(change.scaling, None);
        apply(&aws, &default).await;
        assert!(plan_for(&aws, &default).await.is_empty());

        // No strategy in the spec is EKS's default: a group on DEFAULT is left alone.
        let unsaid = spec(&text(
            "      nodeRepairConfig: {enabled: true, maxParallelNodesRepairedPercentage: 25}\n",
        ));
        assert!(plan_for(&aws, &unsaid).await.is_empty());

        // Without the block, repair is turned off; once off, nothing more is sent.
        let plain = spec(&text(""));
        let change = config_change(&plan_for(&aws, &plain).await);
        assert_eq!(change.node_repair, Some(NodeRepair::default()));
        assert_eq!(change.update_budget, None);
        apply(&aws, &plain).await;
        assert!(plan_for(&aws, &plain).await.is_empty());
    }

    #[tokio::test]
    async fn a_reservation_change_is_a_template_version_and_the_spelled_out_default_is_no_change() {
        let aws = MemoryCloud::new();
        let open = spec(&text("      capacityReservation: {preference: open}\n"));
        apply(&aws, &open).await;
        let observed = observe(&aws.cloud(), "mem", None).await.unwrap();
        let data = observed.network.launch_templates[0].data.clone().unwrap();
        assert_eq!(
            data.capacity_reservation,
            Some(CapacityReservationTargeting {
                preference: Some("open".into()),
                id: None,
                resource_group_arn: None,
            })
        );
        // `open` is EC2's default: saying it or not is the same template.
        assert!(plan_for(&aws, &spec(&text(""))).await.is_empty());

        let only = spec(&text(
            "      capacityReservation: {preference: capacity-reservations-only, id: cr-0123456789abcdef0}\n",
        ));
        let plan = plan_for(&aws, &only).await;
        let template = plan
            .changes
            .iter()
            .find(|c| c.resource.starts_with("launch-template/"))
            .unwrap();
        assert_eq!(template.kind, ChangeKind::Update);
        assert_eq!(template.fields[0].field, "capacityReservation");
        assert_eq!(template.fields[0].old.as_deref(), Some("open"));
        assert_eq!(
            template.fields[0].new.as_deref(),
            Some("capacity-reservations-only cr-0123456789abcdef0")
        );
        let group_change = plan
            .changes
            .iter()
            .find(|c| c.resource == "nodegroup/gpu")
            .unwrap();
        assert!(
            matches!(
                group_change.operations[..],
                [Operation::UpdateNodeGroupLaunchTemplate { .. }]
            ),
            "{:?}",
            group_change.operations
        );
        apply(&aws, &only).await;
        assert!(plan_for(&aws, &only).await.is_empty());
        let observed = observe(&aws.cloud(), "mem", None).await.unwrap();
        let template = &observed.network.launch_templates[0];
        assert_eq!(template.latest_version, 2);
        assert_eq!(
            observed.node_groups[0].launch_template,
            Some((template.id.clone(), "2".to_owned()))
        );
    }
}
