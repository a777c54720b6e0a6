//! The cluster's settings against the in-memory cloud: what the plan sends, one
//! UpdateClusterConfig per setting, the delete of a protected cluster, and the warnings about
//! extended support and EKS's upgrade insights.

use ekspec::cloud::memory::MemoryCloud;
use ekspec::cloud::{ClusterConfigChange, ObservedInsight, VersionSupport};
use ekspec::plan::{ChangeKind, Operation};
use ekspec::resources::{observe, planner};

use crate::reconcile_memory::{apply, kinds, plan_for, spec};

fn text(extra: &str, version: &str) -> String {
    format!(
        "apiVersion: ekspec/v1alpha1\nkind: Cluster\nmetadata: {{name: knobs, region: us-east-1}}\nspec:\n  kubernetesVersion: \"{version}\"\n  vpc: {{cidr: 10.4.0.0/16, availabilityZones: [us-east-1a, us-east-1b], natGateway: none}}\n{extra}"
    )
}

#[tokio::test]
async fn a_spec_that_says_nothing_creates_standard_support_and_no_protection() {
    let aws = MemoryCloud::new();
    let plan = plan_for(&aws, &spec(&text("", "1.33"))).await;
    let create = plan
        .changes
        .iter()
        .flat_map(|c| &c.operations)
        .find_map(|op| match op {
            Operation::CreateCluster {
                support_type,
                deletion_protection,
                zonal_shift,
                scaling_tier,
                ..
            } => Some((
                support_type.clone(),
                *deletion_protection,
                *zonal_shift,
                scaling_tier.clone(),
            )),
            _ => None,
        })
        .expect("a CreateCluster");
    assert_eq!(
        create,
        ("STANDARD".to_owned(), false, false, "standard".to_owned())
    );
}

#[tokio::test]
async fn each_setting_is_its_own_update_and_converges() {
    let aws = MemoryCloud::new();
    apply(&aws, &spec(&text("", "1.33"))).await;
    let changed = spec(&text(
        "  upgradePolicy: {supportType: EXTENDED}\n  deletionProtection: true\n  zonalShift: true\n  controlPlaneScalingTier: tier-4xl\n",
        "1.33",
    ));
    let plan = apply(&aws, &changed).await;
    let cluster = plan
        .changes
        .iter()
        .find(|c| c.resource == "cluster")
        .expect("a cluster change");
    assert_eq!(cluster.kind, ChangeKind::Update);
    let changes: Vec<&ClusterConfigChange> = cluster
        .operations
        .iter()
        .filter_map(|op| match op {
            Operation::UpdateClusterConfig { change, .. } => Some(change),
            _ => None,
        })
        .collect();
    assert_eq!(
        changes,
        [
            &ClusterConfigChange::UpgradePolicy {
                support_type: "EXTENDED".to_owned()
            },
            &ClusterConfigChange::DeletionProtection { enabled: true },
            &ClusterConfigChange::ZonalShift { enabled: true },
            &ClusterConfigChange::ScalingTier {
                tier: "tier-4xl".to_owned()
            },
        ]
    );
    let again = plan_for(&aws, &changed).await;
    assert!(again.is_empty(), "{:?}", kinds(&again));
}

#[tokio::test]
async fn delete_of_a_protected_cluster_is_one_impossible_change() {
    let aws = MemoryCloud::new();
    apply(&aws, &spec(&text("  deletionProtection: true\n", "1.33"))).await;
    let observed = observe(&aws.cloud(), "knobs", None).await.unwrap();
    let plan = planner::plan_delete("knobs", "us-east-1", &observed);
    assert_eq!(
        kinds(&plan),
        [("cluster".to_owned(), ChangeKind::Impossible)]
    );
    let reason = plan.changes[0].reason.as_deref().unwrap_or_default();
    assert!(
        reason.contains("set `deletionProtection: false` in the spec, run `ekspec apply`"),
        "{reason}"
    );

    apply(&aws, &spec(&text("", "1.33"))).await;
    let observed = observe(&aws.cloud(), "knobs", None).await.unwrap();
    let plan = planner::plan_delete("knobs", "us-east-1", &observed);
    assert!(
        plan.changes
            .iter()
            .any(|c| c.resource == "cluster" && c.kind == ChangeKind::Delete),
        "{:?}",
        kinds(&plan)
    );
}

#[tokio::test]
async fn warnings_name_extended_support_and_insights_that_are_not_passing() {
    let aws = MemoryCloud::new();
    apply(
        &aws,
        &spec(&text("  upgradePolicy: {supportType: EXTENDED}\n", "1.32")),
    )
    .await;
    aws.seed_version_support(VersionSupport {
        version: "1.32".to_owned(),
        status: "EXTENDED_SUPPORT".to_owned(),
        end_of_standard_support: Some("2026-03-23".to_owned()),
        end_of_extended_support: Some("2027-03-23".to_owned()),
    });
    for (name, status) in [
        ("Kubelet version skew", "WARNING"),
        ("Cluster health issues", "PASSING"),
    ] {
        aws.seed_insight(
            "knobs",
            ObservedInsight {
                id: name.to_owned(),
                name: name.to_owned(),
                kubernetes_version: Some("1.33".to_owned()),
                status: status.to_owned(),
                reason: "reason".to_owned(),
                recommendation: None,
            },
        );
    }
    // STANDARD asked while 1.32 is in extended support, and an upgrade to 1.33.
    let plan = plan_for(&aws, &spec(&text("", "1.33"))).await;
    let warnings = plan.warnings.join("\n");
    assert!(
        warnings.contains("Kubernetes 1.32 is in EKS extended support (standard support ended 2026-03-23; extended support ends 2027-03-23)")
            && warnings.contains("EKS upgrade insight for Kubernetes 1.33: Kubelet version skew is WARNING: reason")
            && !warnings.contains("Cluster health issues")
            && warnings.contains("spec.upgradePolicy.supportType stays EXTENDED"),
        "{warnings}"
    );
    assert!(
        !plan
            .changes
            .iter()
            .flat_map(|c| &c.operations)
            .any(|op| matches!(
                op,
                Operation::UpdateClusterConfig {
                    change: ClusterConfigChange::UpgradePolicy { .. },
                    ..
                }
            )),
        "no support policy change EKS would refuse"
    );
    // Without an upgrade, insights are not read and none are shown.
    let plan = plan_for(
        &aws,
        &spec(&text("  upgradePolicy: {supportType: EXTENDED}\n", "1.32")),
    )
    .await;
    assert!(
        !plan.warnings.iter().any(|w| w.contains("insight")),
        "{:?}",
        plan.warnings
    );
}
