//! Node groups as EKS runs them, end to end through the real binary against strict moto
//! (`tests/moto/strict_nodegroups.py`): generations that end CREATE_FAILED, DEGRADED or DELETING,
//! updates followed by id to EKS's errors, and upgrades over more than one minor version while
//! node groups are replaced or removed. The last ACTIVE generation is never deleted.

use std::time::{Duration, Instant};

use aws_sdk_eks::types::{LaunchTemplateSpecification, Nodegroup, NodegroupStatus};
use serde_json::json;

use crate::e2e::{Emulated, edit, node_groups};
use crate::inventory::Inventory;

const CLUSTER: &str = "ng";

fn spec(version: &str, extra_group: bool) -> String {
    let extra = if extra_group {
        "    - {name: batch, instanceTypes: [c6i.large], minSize: 0, maxSize: 2}\n"
    } else {
        ""
    };
    format!(
        r#"apiVersion: ekspec/v1alpha1
kind: Cluster
metadata: {{name: {CLUSTER}, region: us-east-1}}
spec:
  kubernetesVersion: "{version}"
  vpc: {{availabilityZones: [us-east-1a, us-east-1b], natGateway: single}}
  nodeGroups:
    - {{name: workers, instanceTypes: [m6i.large], minSize: 1, maxSize: 3}}
{extra}"#
    )
}

const CAPACITY: &str = "AsgInstanceLaunchFailures";

fn capacity_issue() -> serde_json::Value {
    json!([{
        "code": CAPACITY,
        "message": "Could not launch On-Demand Instances. InsufficientInstanceCapacity - We currently do not have sufficient m6i.xlarge capacity in the Availability Zone you requested.",
        "resourceIds": ["eks-workers-asg"],
    }])
}

/// The live generations of `workers`, by name.
async fn workers(inventory: &Inventory) -> Vec<Nodegroup> {
    let mut groups = node_groups(inventory, CLUSTER, "workers").await;
    groups.sort_by(|a, b| a.nodegroup_name().cmp(&b.nodegroup_name()));
    groups
}

fn names(groups: &[Nodegroup]) -> Vec<String> {
    groups
        .iter()
        .map(|g| g.nodegroup_name().unwrap().to_owned())
        .collect()
}

fn converged(aws: &Emulated, spec: &str) {
    let plan = aws.expect(0, &["plan", "-f", spec, "--detailed-exitcode"]);
    assert_eq!(plan.stdout.trim(), "No changes.");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_create_failed_generation_is_made_again_and_the_active_one_stays_until_then() {
    let aws = Emulated::start();
    let inventory = aws.inventory("us-east-1").await;
    let v1 = aws.spec("v1.yaml", &spec("1.31", false));
    aws.expect(0, &["apply", "-f", &v1, "--auto-approve"]);
    let first = names(&workers(&inventory).await);

    // The replacement's create fails (no capacity for the new type): the old one stays.
    aws.emulator().control(
        "nodegroup",
        json!({"cluster": CLUSTER, "nodegroup": "workers-", "failNextCreate": capacity_issue()}),
    );
    let text = edit(
        &spec("1.31", false),
        "instanceTypes: [m6i.large]",
        "instanceTypes: [m6i.xlarge]",
    );
    let v2 = aws.spec("v2.yaml", &text);
    let out = aws.expect(1, &["apply", "-f", &v2, "--auto-approve"]);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(
        all.contains("CREATE_FAILED") && all.contains(CAPACITY),
        "the error names EKS's reason:\n{all}"
    );
    let live = workers(&inventory).await;
    assert_eq!(live.len(), 2, "{live:#?}");
    assert!(
        live.iter().any(|g| names(std::slice::from_ref(g)) == first
            && g.status() == Some(&NodegroupStatus::Active))
    );

    // EKS keeps the failed generation; the plan says so and makes it again, and the old one
    // goes only once the new one is ACTIVE.
    let plan = aws.expect(2, &["plan", "-f", &v2, "--detailed-exitcode"]);
    for expected in [
        "-/+ replace nodegroup/workers",
        "CREATE_FAILED",
        CAPACITY,
        "it is deleted and created again",
        &format!("`{}` is deleted only once it is ACTIVE", first[0]),
    ] {
        assert!(
            plan.stdout.contains(expected),
            "no `{expected}` in\n{}",
            plan.stdout
        );
    }
    aws.expect(0, &["apply", "-f", &v2, "--auto-approve"]);
    let live = workers(&inventory).await;
    assert_eq!(live.len(), 1, "{live:#?}");
    assert_ne!(names(&live), first);
    assert_eq!(live[0].status(), Some(&NodegroupStatus::Active));
    assert_eq!(live[0].instance_types(), ["m6i.xlarge"]);
    converged(&aws, &v2);
}

/// Waits until a node group is ACTIVE.
async fn active(inventory: &Inventory, name: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let group = inventory
            .eks
            .describe_nodegroup()
            .cluster_name(CLUSTER)
            .nodegroup_name(name)
            .send()
            .await
            .unwrap();
        if group.nodegroup().unwrap().status() == Some(&NodegroupStatus::Active) {
            return;
        }
        assert!(Instant::now() < deadline, "{name} never became ACTIVE");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replacement_reverted_while_the_spec_generation_is_deleting_keeps_the_active_one() {
    let aws = Emulated::start();
    let inventory = aws.inventory("us-east-1").await;
    let v1 = aws.spec("v1.yaml", &spec("1.31", false));
    aws.expect(0, &["apply", "-f", &v1, "--auto-approve"]);
    let first = names(&workers(&inventory).await).remove(0);
    let text = edit(
        &spec("1.31", false),
        "instanceTypes: [m6i.large]",
        "instanceTypes: [m6i.xlarge]",
    );
    let v2 = aws.spec("v2.yaml", &text);
    aws.expect(0, &["apply", "-f", &v2, "--auto-approve"]);
    let second = workers(&inventory).await.remove(0);

    // What a run reverting to v1 leaves when it stops while the v1 generation is being
    // deleted: that generation DELETING, the v2 one ACTIVE.
    let template = second.launch_template().unwrap();
    inventory
        .eks
        .create_nodegroup()
        .cluster_name(CLUSTER)
        .nodegroup_name(&first)
        .node_role(second.node_role().unwrap())
        .set_subnets(Some(second.subnets().to_vec()))
        .instance_types("m6i.large")
        .launch_template(
            LaunchTemplateSpecification::builder()
                .id(template.id().unwrap())
                .version(template.version().unwrap())
                .build(),
        )
        .set_tags(second.tags().cloned())
        .send()
        .await
        .unwrap();
    active(&inventory, &first).await;
    let answer = aws.emulator().control(
        "nodegroup",
        json!({"cluster": CLUSTER, "nodegroup": first, "deleteAfter": 8}),
    );
    assert_eq!(answer["changed"], json!([first]));

    let plan = aws.expect(2, &["plan", "-f", &v1, "--detailed-exitcode"]);
    for expected in [
        "-/+ replace nodegroup/workers",
        &format!("node group `{first}` is still being deleted"),
        &format!(
            "`{}` is deleted only once it is ACTIVE",
            second.nodegroup_name().unwrap()
        ),
    ] {
        assert!(
            plan.stdout.contains(expected),
            "no `{expected}` in\n{}",
            plan.stdout
        );
    }
    aws.expect(0, &["apply", "-f", &v1, "--auto-approve"]);
    let live = workers(&inventory).await;
    assert_eq!(names(&live), [first], "{live:#?}");
    assert_eq!(live[0].status(), Some(&NodegroupStatus::Active));
    converged(&aws, &v1);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_upgrade_over_two_minors_waits_for_replaced_and_removed_node_groups() {
    let aws = Emulated::start();
    let inventory = aws.inventory("us-east-1").await;
    let v1 = aws.spec("v1.yaml", &spec("1.29", true));
    aws.expect(0, &["apply", "-f", &v1, "--auto-approve"]);

    // Two control plane steps while `workers` is replaced and `batch` removed: EKS refuses
    // 1.30 -> 1.31 while either is still on 1.29.
    let text = edit(
        &spec("1.31", false),
        "instanceTypes: [m6i.large]",
        "instanceTypes: [m6i.xlarge]",
    );
    let v2 = aws.spec("v2.yaml", &text);
    aws.expect(0, &["apply", "-f", &v2, "--auto-approve"]);
    let cluster = inventory
        .eks
        .describe_cluster()
        .name(CLUSTER)
        .send()
        .await
        .unwrap();
    assert_eq!(cluster.cluster().unwrap().version(), Some("1.31"));
    let live = workers(&inventory).await;
    assert_eq!(live.len(), 1, "{live:#?}");
    assert_eq!(live[0].version(), Some("1.31"));
    assert_eq!(live[0].instance_types(), ["m6i.xlarge"]);
    assert!(node_groups(&inventory, CLUSTER, "batch").await.is_empty());
    converged(&aws, &v2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_config_update_is_followed_to_eks_errors_and_heals_a_degraded_group() {
    let aws = Emulated::start();
    let inventory = aws.inventory("us-east-1").await;
    let v1 = aws.spec("v1.yaml", &spec("1.31", false));
    aws.expect(0, &["apply", "-f", &v1, "--auto-approve"]);
    let name = names(&workers(&inventory).await).remove(0);
    let v2 = aws.spec(
        "v2.yaml",
        &edit(&spec("1.31", false), "maxSize: 3", "maxSize: 5"),
    );

    // EKS takes the update, then reports it failed: the apply fails with EKS's error.
    aws.emulator().control(
        "nodegroup",
        json!({"cluster": CLUSTER, "nodegroup": name, "failNextUpdate": {
            "code": "PodEvictionFailure",
            "message": "Reached max retries while trying to evict pods from nodes in node group workers",
        }}),
    );
    let out = aws.expect(1, &["apply", "-f", &v2, "--auto-approve"]);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(
        all.contains("update failed") && all.contains("PodEvictionFailure"),
        "the error names EKS's reason:\n{all}"
    );

    // The group cannot scale out: DEGRADED until a scaling change succeeds.
    aws.emulator().control(
        "nodegroup",
        json!({"cluster": CLUSTER, "nodegroup": name, "status": "DEGRADED",
               "issues": capacity_issue(), "healedBy": ["scalingConfig"]}),
    );
    let plan = aws.expect(2, &["plan", "-f", &v2, "--detailed-exitcode"]);
    for expected in [
        "~ update nodegroup/workers",
        "maxSize: 3 -> 5",
        &format!("EKS reports `{name}` DEGRADED"),
        CAPACITY,
    ] {
        assert!(
            plan.stdout.contains(expected),
            "no `{expected}` in\n{}",
            plan.stdout
        );
    }
    aws.expect(0, &["apply", "-f", &v2, "--auto-approve"]);
    let live = workers(&inventory).await;
    assert_eq!(live[0].status(), Some(&NodegroupStatus::Active));
    assert_eq!(live[0].scaling_config().and_then(|s| s.max_size()), Some(5));
    assert!(live[0].health().unwrap().issues().is_empty());
    converged(&aws, &v2);
}

/// The same guard against the in-memory cloud, where the state between the plan and the
/// delete can be set exactly: the replacement was CREATING when planned and failed since.
#[tokio::test]
async fn the_old_generation_is_not_deleted_when_its_replacement_failed_after_the_plan() {
    use std::sync::Arc;

    use ekspec::cloud::memory::MemoryCloud;
    use ekspec::cloud::{CloudError, ErrorKind};
    use ekspec::exec::{self, Context, wait::Waiter};
    use ekspec::plan::{ChangeKind, Operation};
    use ekspec::resources::observe;

    use crate::reconcile_memory::{apply, plan_for, spec as parse};

    let aws = MemoryCloud::new();
    let v1 = parse(&spec("1.31", false));
    apply(&aws, &v1).await;
    let v2 = parse(&edit(
        &spec("1.31", false),
        "instanceTypes: [m6i.large]",
        "instanceTypes: [m6i.xlarge]",
    ));
    // A run that stopped after making the new generation, before deleting the old one.
    let replace = plan_for(&aws, &v2).await;
    let (new, old) = match &replace
        .changes
        .iter()
        .find(|c| c.resource == "nodegroup/workers")
        .unwrap()
        .operations[..]
    {
        [
            Operation::CreateNodeGroup { name: new, .. },
            Operation::DeleteNodeGroup { name: old, .. },
        ] => (new.clone(), old.clone()),
        other => panic!("{other:#?}"),
    };
    aws.fail_next(
        "DeleteNodegroup",
        CloudError {
            operation: "DeleteNodegroup",
            resource: old.clone(),
            code: Some("ServerException".into()),
            message: "interrupted".into(),
            kind: ErrorKind::Other,
        },
    );
    let observed = observe(&aws.cloud(), CLUSTER, Some(&v2)).await.unwrap();
    let ctx = Context::new(
        aws.cloud(),
        &observed,
        CLUSTER,
        "us-east-1",
        Waiter::default(),
    );
    let (_stop, stop) = tokio::sync::watch::channel(false);
    assert!(
        !exec::execute(&replace, Arc::new(ctx), stop, |_| {})
            .await
            .success()
    );

    // Planned while the new generation is still CREATING: the old one waits for it.
    aws.set_node_group_status(CLUSTER, &new, "CREATING", &[]);
    let observed = observe(&aws.cloud(), CLUSTER, Some(&v2)).await.unwrap();
    let plan = ekspec::resources::planner::plan(&v2, &observed);
    let change = plan
        .changes
        .iter()
        .find(|c| c.resource == "nodegroup/workers")
        .unwrap();
    assert_eq!(change.kind, ChangeKind::Replace);
    assert_eq!(
        change.operations,
        [Operation::DeleteNodeGroup {
            cluster: CLUSTER.to_owned(),
            name: old.clone(),
            replaced_by: Some(new.clone()),
        }]
    );
    // It fails before the delete runs: the old generation, the last ACTIVE one, stays.
    aws.set_node_group_status(
        CLUSTER,
        &new,
        "CREATE_FAILED",
        &["AsgInstanceLaunchFailures: no m6i.xlarge capacity"],
    );
    let ctx = Context::new(
        aws.cloud(),
        &observed,
        CLUSTER,
        "us-east-1",
        Waiter::default(),
    );
    let (_stop, stop) = tokio::sync::watch::channel(false);
    let report = exec::execute(&plan, Arc::new(ctx), stop, |_| {}).await;
    let errors = format!("{:?}", report.failed);
    assert!(
        errors.contains("CREATE_FAILED") && errors.contains("AsgInstanceLaunchFailures"),
        "{errors}"
    );
    let live = aws
        .cloud()
        .kubernetes
        .list_node_groups(CLUSTER)
        .await
        .unwrap();
    let old_group = live
        .iter()
        .find(|g| g.name == old)
        .expect("the old generation stays");
    assert_eq!(old_group.status, "ACTIVE");
}
