//! The cluster's settings on strict moto (tests/moto/cluster_settings.py and
//! strict_cluster_settings.py): support policy, deletion protection, zonal shift and control
//! plane tier at create and in place (one UpdateClusterConfig each: strict moto refuses two
//! kinds in one call), `delete` of a protected cluster, the extended-support warning and EKS's
//! upgrade insights before an upgrade.

use aws_sdk_eks::types::Cluster;
use serde_json::json;

use crate::e2e::{Emulated, edit};

/// A cluster without compute and without NAT gateways (the quickest to create), with `extra`
/// lines under `spec:`.
fn spec(name: &str, version: &str, extra: &str) -> String {
    format!(
        "apiVersion: ekspec/v1alpha1\nkind: Cluster\nmetadata:\n  name: {name}\n  region: us-east-1\nspec:\n  kubernetesVersion: \"{version}\"\n  vpc:\n    zoneCount: 2\n    natGateway: none\n{extra}"
    )
}

/// moto judges EKS support as of `date` (DescribeClusterVersions).
fn clock(aws: &Emulated, date: &str) {
    aws.emulator().control("eks-clock", json!({"date": date}));
}

async fn cluster(aws: &Emulated, name: &str) -> Option<Cluster> {
    let inventory = aws.inventory("us-east-1").await;
    inventory
        .eks
        .describe_cluster()
        .name(name)
        .send()
        .await
        .ok()
        .and_then(|o| o.cluster().cloned())
}

/// `(supportType, deletionProtection, zonalShift, tier)` as EKS reports them.
fn settings(cluster: &Cluster) -> (String, bool, bool, String) {
    (
        cluster
            .upgrade_policy()
            .and_then(|p| p.support_type())
            .map(|t| t.as_str().to_owned())
            .unwrap_or_default(),
        cluster.deletion_protection() == Some(true),
        cluster
            .zonal_shift_config()
            .and_then(|z| z.enabled())
            .unwrap_or(false),
        cluster
            .control_plane_scaling_config()
            .and_then(|c| c.tier())
            .map(|t| t.as_str().to_owned())
            .unwrap_or_default(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn settings_are_made_at_create_and_changed_in_place_one_update_each() {
    let aws = Emulated::start();
    clock(&aws, "2025-12-01");
    let set = spec(
        "settings",
        "1.33",
        "  upgradePolicy: {supportType: EXTENDED}\n  deletionProtection: true\n  zonalShift: true\n  controlPlaneScalingTier: tier-xl\n",
    );
    let file = aws.spec("settings.yaml", &set);
    aws.expect(0, &["apply", "-f", &file, "--auto-approve"]);
    let live = cluster(&aws, "settings").await.unwrap();
    assert_eq!(
        settings(&live),
        ("EXTENDED".to_owned(), true, true, "tier-xl".to_owned())
    );
    let again = aws.expect(0, &["plan", "-f", &file, "--detailed-exitcode"]);
    assert_eq!(again.stdout.trim(), "No changes.");

    // Back to the defaults: four changes in place, each its own update.
    let file = aws.spec("settings.yaml", &spec("settings", "1.33", ""));
    let plan = aws.expect(2, &["plan", "-f", &file, "--detailed-exitcode"]);
    for field in [
        "spec.upgradePolicy.supportType: EXTENDED -> STANDARD",
        "spec.deletionProtection: true -> false",
        "spec.zonalShift: true -> false",
        "spec.controlPlaneScalingTier: tier-xl -> standard",
    ] {
        assert!(plan.stdout.contains(field), "{field}\n{}", plan.stdout);
    }
    assert!(
        plan.stdout
            .contains("Plan: 0 to create, 1 to update, 0 to replace, 0 to delete."),
        "{}",
        plan.stdout
    );
    aws.expect(0, &["apply", "-f", &file, "--auto-approve"]);
    let live = cluster(&aws, "settings").await.unwrap();
    assert_eq!(
        settings(&live),
        ("STANDARD".to_owned(), false, false, "standard".to_owned())
    );
    let again = aws.expect(0, &["plan", "-f", &file, "--detailed-exitcode"]);
    assert_eq!(again.stdout.trim(), "No changes.");
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_of_a_protected_cluster_stops_before_changing_anything() {
    let aws = Emulated::start();
    clock(&aws, "2025-12-01");
    let base = spec("guarded", "1.33", "  deletionProtection: true\n");
    let file = aws.spec("guarded.yaml", &base);
    aws.expect(0, &["apply", "-f", &file, "--auto-approve"]);
    // Said nothing about the support policy: STANDARD, not EKS's own default EXTENDED.
    let live = cluster(&aws, "guarded").await.unwrap();
    assert_eq!(
        settings(&live),
        ("STANDARD".to_owned(), true, false, "standard".to_owned())
    );
    let inventory = aws.inventory("us-east-1").await;
    let before = inventory.owned("guarded").await;

    let out = aws.expect(1, &["delete", "-f", &file, "--auto-approve"]);
    let text = format!("{}{}", out.stdout, out.stderr);
    assert!(
        text.contains("deletion protection is on for cluster guarded")
            && text.contains("set `deletionProtection: false` in the spec, run `ekspec apply`"),
        "{text}"
    );
    assert_eq!(inventory.owned("guarded").await, before, "nothing deleted");
    let again = aws.expect(0, &["plan", "-f", &file, "--detailed-exitcode"]);
    assert_eq!(again.stdout.trim(), "No changes.");

    // As the message says: turn it off, apply, delete.
    let file = aws.spec(
        "guarded.yaml",
        &edit(
            &base,
            "deletionProtection: true",
            "deletionProtection: false",
        ),
    );
    aws.expect(0, &["apply", "-f", &file, "--auto-approve"]);
    aws.expect(0, &["delete", "-f", &file, "--auto-approve"]);
    assert!(inventory.owned("guarded").await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_shows_upgrade_insights_and_apply_refuses_an_error_without_force_upgrade() {
    let aws = Emulated::start();
    clock(&aws, "2025-06-01");
    let base = spec("insights", "1.32", "");
    let file = aws.spec("insights.yaml", &base);
    aws.expect(0, &["apply", "-f", &file, "--auto-approve"]);
    let plant = |insight: &str, status: &str, reason: &str| {
        aws.emulator().control(
            "insight",
            json!({
                "name": "insights",
                "insight": insight,
                "status": status,
                "reason": reason,
                "recommendation": format!("fix {insight}"),
            }),
        );
    };
    plant(
        "Deprecated APIs removed in Kubernetes v1.33",
        "ERROR",
        "Deprecated API usage detected",
    );
    plant("Kubelet version skew", "WARNING", "kubelet 1.30 on 2 nodes");

    let file = aws.spec(
        "insights.yaml",
        &edit(
            &base,
            "kubernetesVersion: \"1.32\"",
            "kubernetesVersion: \"1.33\"",
        ),
    );
    let plan = aws.expect(0, &["plan", "-f", &file]);
    assert!(
        plan.stderr.contains(
            "EKS upgrade insight for Kubernetes 1.33: Deprecated APIs removed in Kubernetes v1.33 is ERROR: Deprecated API usage detected (recommendation: fix Deprecated APIs removed in Kubernetes v1.33)"
        ) && plan.stderr.contains(
            "Kubelet version skew is WARNING: kubelet 1.30 on 2 nodes"
        ),
        "{}",
        plan.stderr
    );
    // EKS's passing checks are not shown.
    assert!(
        !plan.stderr.contains("Cluster health issues"),
        "{}",
        plan.stderr
    );

    let refused = aws.expect(1, &["apply", "-f", &file, "--auto-approve"]);
    assert!(
        refused.stderr.contains(
            "EKS upgrade insights report issues that block this upgrade:\n  Deprecated APIs removed in Kubernetes v1.33 (Kubernetes 1.33): Deprecated API usage detected"
        ) && refused.stderr.contains("ekspec apply --force-upgrade")
            && !refused.stderr.contains("Kubelet version skew (Kubernetes"),
        "{}",
        refused.stderr
    );
    let live = cluster(&aws, "insights").await.unwrap();
    assert_eq!(live.version(), Some("1.32"), "nothing changed");

    aws.expect(
        0,
        &["apply", "-f", &file, "--auto-approve", "--force-upgrade"],
    );
    let live = cluster(&aws, "insights").await.unwrap();
    assert_eq!(live.version(), Some("1.33"));
    let again = aws.expect(0, &["plan", "-f", &file, "--detailed-exitcode"]);
    assert_eq!(again.stdout.trim(), "No changes.");
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_warns_in_extended_support_where_eks_cannot_turn_it_off() {
    let aws = Emulated::start();
    // 1.32: standard support ended 2026-03-23, extended support ends 2027-03-23.
    clock(&aws, "2026-06-01");
    let extended = spec("old", "1.32", "  upgradePolicy: {supportType: EXTENDED}\n");
    let file = aws.spec("old.yaml", &extended);
    let plan = aws.expect(0, &["plan", "-f", &file]);
    let warning = "warning: cluster `old`: Kubernetes 1.32 is in EKS extended support (standard support ended 2026-03-23; extended support ends 2027-03-23)";
    assert!(plan.stderr.contains(warning), "{}", plan.stderr);
    aws.expect(0, &["apply", "-f", &file, "--auto-approve"]);

    // STANDARD while 1.32 is in extended support: EKS refuses it, so the plan says so and
    // changes nothing.
    let file = aws.spec("old.yaml", &spec("old", "1.32", ""));
    let plan = aws.expect(0, &["plan", "-f", &file, "--detailed-exitcode"]);
    assert_eq!(plan.stdout.trim(), "No changes.");
    assert!(
        plan.stderr.contains(warning)
            && plan.stderr.contains(
                "spec.upgradePolicy.supportType stays EXTENDED for now: EKS cannot turn extended support off while Kubernetes 1.32 is in it"
            ),
        "{}",
        plan.stderr
    );

    // Upgraded to a version in standard support, the next apply sets STANDARD.
    let file = aws.spec("old.yaml", &spec("old", "1.33", ""));
    aws.expect(0, &["apply", "-f", &file, "--auto-approve"]);
    let plan = aws.expect(2, &["plan", "-f", &file, "--detailed-exitcode"]);
    assert!(
        plan.stdout
            .contains("spec.upgradePolicy.supportType: EXTENDED -> STANDARD"),
        "{}",
        plan.stdout
    );
    aws.expect(0, &["apply", "-f", &file, "--auto-approve"]);
    let live = cluster(&aws, "old").await.unwrap();
    assert_eq!(settings(&live).0, "STANDARD");
    let again = aws.expect(0, &["plan", "-f", &file, "--detailed-exitcode"]);
    assert_eq!(again.stdout.trim(), "No changes.");
}

/// On 2026-12-01 Kubernetes 1.31 is past EKS's extended support (it ended 2026-11-26), and on
/// 2025-12-01 EKS did not list 1.35 yet (released 2026-01-27): CreateCluster would refuse both
/// ("unsupported Kubernetes version") after the network is made, so the plan says impossible
/// and apply changes nothing. A cluster left on a version past its extended support is warned
/// about (EKS upgrades it on its own); an upgrade to a version EKS does not list is impossible.
#[tokio::test(flavor = "multi_thread")]
async fn a_version_eks_no_longer_offers_is_impossible_before_anything_is_made() {
    let aws = Emulated::start();
    let inventory = aws.inventory("us-east-1").await;
    for (day, version, reason) in [
        (
            "2026-12-01",
            "1.31",
            "EKS no longer offers Kubernetes 1.31: its extended support ended 2026-11-26; set spec.kubernetesVersion to a version in standard support",
        ),
        (
            "2025-12-01",
            "1.35",
            "EKS does not offer Kubernetes 1.35 (DescribeClusterVersions does not list it)",
        ),
    ] {
        clock(&aws, day);
        let file = aws.spec("old.yaml", &spec("old", version, ""));
        let plan = aws.expect(1, &["plan", "-f", &file, "--detailed-exitcode"]);
        assert!(
            plan.stdout.contains("! impossible cluster (old)") && plan.stdout.contains(reason),
            "{}\n{}",
            plan.stdout,
            plan.stderr
        );
        let apply = aws.expect(1, &["apply", "-f", &file, "--auto-approve"]);
        assert!(
            apply.stderr.contains("no change was made"),
            "{}",
            apply.stderr
        );
        assert_eq!(inventory.owned("old").await, Vec::<String>::new());
    }
    clock(&aws, "2026-12-01");
    let file = aws.spec("old.yaml", &spec("old", "1.35", ""));
    aws.expect(2, &["plan", "-f", &file, "--detailed-exitcode"]);

    // Made on 1.31 while EKS offered it; once its extended support is over, plan warns.
    clock(&aws, "2026-06-01");
    let file = aws.spec("old.yaml", &spec("old", "1.31", ""));
    aws.expect(0, &["apply", "-f", &file, "--auto-approve"]);
    clock(&aws, "2026-12-01");
    let plan = aws.expect(0, &["plan", "-f", &file, "--detailed-exitcode"]);
    assert!(
        plan.stderr.contains("Kubernetes 1.31 is past the end of EKS extended support (2026-11-26): EKS upgrades the control plane on its own"),
        "{}",
        plan.stderr
    );
    // An upgrade to a version EKS does not list is impossible too (UpdateClusterVersion would
    // refuse it).
    clock(&aws, "2025-12-01");
    let newer = aws.spec("newer.yaml", &spec("old", "1.35", ""));
    let plan = aws.expect(1, &["plan", "-f", &newer]);
    assert!(
        plan.stdout.contains(
            "EKS does not offer Kubernetes 1.35 (DescribeClusterVersions does not list it)"
        ),
        "{}",
        plan.stdout
    );
    clock(&aws, "2026-12-01");
    aws.expect(0, &["delete", "-f", &file, "--auto-approve"]);
}
