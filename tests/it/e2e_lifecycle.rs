//! The whole EKS lifecycle end to end through the real binary against moto, with the add-on,
//! access entry, upgrade and encryption APIs `tests/moto/eks_lifecycle.py` fills in: the
//! scenarios of `e2e_fakecloud.rs`, checked field by field through an independent reading of
//! the account.

use aws_sdk_eks::types::AccessScopeType;
use serde_json::Value;

use crate::e2e::{Emulated, edit, node_groups};
use crate::inventory::Inventory;
use crate::support::repo;

const VIEW_POLICY: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy";
const ADMIN_POLICY: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";
const EDIT_POLICY: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy";

/// The status column of `get --output json` for `resource`.
fn status(get: &Value, resource: &str) -> String {
    get["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["resource"] == resource)
        .unwrap_or_else(|| panic!("no {resource} in\n{get:#}"))["status"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Whether the plan JSON's change `later` waits, directly or through others, for `earlier`.
fn comes_after(plan: &Value, later: &str, earlier: &str) -> bool {
    let changes = plan["changes"].as_array().unwrap();
    let mut seen = std::collections::BTreeSet::new();
    let mut open = vec![later.to_owned()];
    while let Some(id) = open.pop() {
        let change = changes
            .iter()
            .find(|c| c["resource"] == id.as_str())
            .unwrap_or_else(|| panic!("no change {id} in\n{plan:#}"));
        for before in change["after"].as_array().into_iter().flatten() {
            let before = before.as_str().unwrap().to_owned();
            if before == earlier {
                return true;
            }
            // Dependencies on resources without a change in this plan end the walk.
            let planned = changes.iter().any(|c| c["resource"] == before.as_str());
            if planned && seen.insert(before.clone()) {
                open.push(before);
            }
        }
    }
    false
}

async fn addon(inventory: &Inventory, cluster: &str, name: &str) -> aws_sdk_eks::types::Addon {
    let described = inventory
        .eks
        .describe_addon()
        .cluster_name(cluster)
        .addon_name(name)
        .send()
        .await
        .unwrap();
    described.addon().unwrap().clone()
}

/// An access entry's policies as `(policy ARN, namespaces)`; no namespaces for a cluster scope.
async fn policies(
    inventory: &Inventory,
    cluster: &str,
    principal: &str,
) -> Vec<(String, Vec<String>)> {
    let listed = inventory
        .eks
        .list_associated_access_policies()
        .cluster_name(cluster)
        .principal_arn(principal)
        .send()
        .await
        .unwrap();
    let mut policies: Vec<(String, Vec<String>)> = listed
        .associated_access_policies()
        .iter()
        .map(|p| {
            let scope = p.access_scope().unwrap();
            let mut namespaces = scope.namespaces().to_vec();
            namespaces.sort();
            match scope.r#type() {
                Some(AccessScopeType::Cluster) => assert!(namespaces.is_empty()),
                other => assert_eq!(other, Some(&AccessScopeType::Namespace)),
            }
            (p.policy_arn().unwrap().to_owned(), namespaces)
        })
        .collect();
    policies.sort();
    policies
}

#[tokio::test(flavor = "multi_thread")]
async fn a_spec_with_every_field_applies_converges_and_deletes_on_moto() {
    let aws = Emulated::start();
    let inventory = aws.inventory("eu-central-1").await;
    let fixture =
        std::fs::read_to_string(repo().join("tests/fixtures/valid/everything.yaml")).unwrap();
    // The fixture's customer-managed policy lives in an account moto does not hold; attaching
    // it fails there as on AWS. An AWS-managed policy stands in for it.
    let text = edit(
        &fixture,
        "arn:aws:iam::111122223333:policy/app-read",
        "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
    );
    let spec = aws.spec("everything.yaml", &text);
    let plan = aws.expect(2, &["plan", "-f", &spec, "--detailed-exitcode"]);
    for expected in [
        "+ create addon/vpc-cni",
        "+ create addon/aws-ebs-csi-driver",
        "+ create access-entry/arn:aws:iam::111122223333:user/alice",
    ] {
        assert!(
            plan.stdout.contains(expected),
            "no `{expected}` in\n{}",
            plan.stdout
        );
    }
    aws.expect(0, &["apply", "-f", &spec, "--auto-approve"]);
    let again = aws.expect(0, &["plan", "-f", &spec, "--detailed-exitcode"]);
    assert_eq!(again.stdout.trim(), "No changes.");

    // What ekspec reads back.
    let get = aws.expect(0, &["get", "-f", &spec, "--output", "json"]);
    let get: Value = serde_json::from_str(&get.stdout).unwrap();
    assert_eq!(status(&get, "addon/vpc-cni"), "ACTIVE v1.18.3-eksbuild.1");
    // No version in the spec: EKS's default for Kubernetes 1.32.
    assert_eq!(
        status(&get, "addon/aws-ebs-csi-driver"),
        "ACTIVE v1.44.0-eksbuild.1"
    );
    assert_eq!(
        status(&get, "access-entry/arn:aws:iam::111122223333:user/alice"),
        "1 policies"
    );

    // What the account holds, read past ekspec.
    let cluster = inventory
        .eks
        .describe_cluster()
        .name("everything")
        .send()
        .await
        .unwrap();
    let cluster = cluster.cluster().unwrap();
    assert_eq!(cluster.version(), Some("1.32"));
    let key = cluster.encryption_config()[0].provider().unwrap().key_arn();
    assert_eq!(
        key,
        Some("arn:aws:kms:eu-central-1:111122223333:alias/eks-secrets")
    );
    let cni = addon(&inventory, "everything", "vpc-cni").await;
    let values: Value = serde_json::from_str(cni.configuration_values().unwrap()).unwrap();
    assert_eq!(values["env"]["ENABLE_PREFIX_DELEGATION"], "true");
    assert_eq!(cni.service_account_role_arn(), None);
    let ebs = addon(&inventory, "everything", "aws-ebs-csi-driver").await;
    let role = ebs.service_account_role_arn().unwrap();
    assert!(role.ends_with("/everything-app"), "{role}");
    let role = inventory
        .iam
        .get_role()
        .role_name("everything-app")
        .send()
        .await
        .unwrap();
    assert!(
        role.role()
            .unwrap()
            .tags()
            .iter()
            .any(|t| t.key() == "ekspec.io/cluster")
    );
    for live in [&cni, &ebs] {
        let tags = live.tags().unwrap();
        assert_eq!(
            tags.get("ekspec.io/cluster").map(String::as_str),
            Some("everything")
        );
        assert_eq!(tags.get("team").map(String::as_str), Some("platform"));
    }
    let alice = "arn:aws:iam::111122223333:user/alice";
    let entry = inventory
        .eks
        .describe_access_entry()
        .cluster_name("everything")
        .principal_arn(alice)
        .send()
        .await
        .unwrap();
    let entry = entry.access_entry().unwrap();
    assert_eq!(entry.kubernetes_groups(), ["viewers"]);
    assert_eq!(entry.username(), Some("alice"));
    assert_eq!(entry.r#type(), Some("STANDARD"));
    let tagged = inventory
        .eks
        .list_tags_for_resource()
        .resource_arn(entry.access_entry_arn().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        tagged
            .tags()
            .unwrap()
            .get("ekspec.io/cluster")
            .map(String::as_str),
        Some("everything")
    );
    assert_eq!(
        policies(&inventory, "everything", alice).await,
        [(
            VIEW_POLICY.to_owned(),
            vec!["apps".to_owned(), "team-*".to_owned()]
        )]
    );
    // EKS's own entries (the cluster creator, the node role) stay as EKS made them.
    let listed = inventory
        .eks
        .list_access_entries()
        .cluster_name("everything")
        .send()
        .await
        .unwrap();
    let node_role = listed
        .access_entries()
        .iter()
        .find(|arn| arn.ends_with("/everything-node"))
        .unwrap_or_else(|| panic!("no node role entry in {listed:?}"));
    let node_entry = inventory
        .eks
        .describe_access_entry()
        .cluster_name("everything")
        .principal_arn(node_role)
        .send()
        .await
        .unwrap();
    let node_entry = node_entry.access_entry().unwrap();
    assert_eq!(node_entry.r#type(), Some("EC2_LINUX"));
    assert!(
        node_entry.tags().is_none_or(|t| t.is_empty()),
        "{node_entry:?}"
    );
    assert!(
        listed
            .access_entries()
            .iter()
            .any(|arn| arn.ends_with(":user/moto")),
        "no cluster creator entry in {listed:?}"
    );
    let owned = inventory.owned("everything").await;
    for row in [
        "addon everything/aws-ebs-csi-driver",
        "addon everything/vpc-cni",
        &format!("access-entry everything/{alice}"),
    ] {
        assert!(owned.iter().any(|o| o == row), "no {row} in {owned:#?}");
    }

    // A change to each: a newer add-on version, another scope, another group.
    let mut changed = edit(&text, "v1.18.3-eksbuild.1", "v1.19.2-eksbuild.1");
    changed = edit(
        &changed,
        "kubernetesGroups: [viewers]",
        "kubernetesGroups: [auditors]",
    );
    changed = edit(&changed, "[apps, \"team-*\"]", "[apps]");
    let spec = aws.spec("everything.yaml", &changed);
    let plan = aws.expect(2, &["plan", "-f", &spec, "--detailed-exitcode"]);
    for expected in [
        "~ update addon/vpc-cni",
        "version: v1.18.3-eksbuild.1 -> v1.19.2-eksbuild.1",
        "~ update access-entry/arn:aws:iam::111122223333:user/alice",
    ] {
        assert!(
            plan.stdout.contains(expected),
            "no `{expected}` in\n{}",
            plan.stdout
        );
    }
    aws.expect(0, &["apply", "-f", &spec, "--auto-approve"]);
    let again = aws.expect(0, &["plan", "-f", &spec, "--detailed-exitcode"]);
    assert_eq!(again.stdout.trim(), "No changes.");
    let cni = addon(&inventory, "everything", "vpc-cni").await;
    assert_eq!(cni.addon_version(), Some("v1.19.2-eksbuild.1"));
    assert_eq!(
        policies(&inventory, "everything", alice).await,
        [(VIEW_POLICY.to_owned(), vec!["apps".to_owned()])]
    );

    aws.expect(0, &["delete", "-f", &spec, "--auto-approve"]);
    assert_eq!(inventory.owned("everything").await, Vec::<String>::new());
    let clusters = inventory.eks.list_clusters().send().await.unwrap();
    assert!(clusters.clusters().is_empty(), "{clusters:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_upgrade_from_1_29_to_1_31_runs_as_two_ordered_steps_on_moto() {
    let aws = Emulated::start();
    let inventory = aws.inventory("us-east-1").await;
    // The production example on 1.31, made on 1.29 (both offered on the suite's day).
    let example = edit(
        &std::fs::read_to_string(repo().join("examples/production.yaml")).unwrap(),
        "kubernetesVersion: \"1.35\"",
        "kubernetesVersion: \"1.31\"",
    );
    let old = edit(
        &example,
        "kubernetesVersion: \"1.31\"",
        "kubernetesVersion: \"1.29\"",
    );
    let spec = aws.spec("prod.yaml", &old);
    aws.expect(0, &["apply", "-f", &spec, "--auto-approve"]);
    aws.expect(0, &["plan", "-f", &spec, "--detailed-exitcode"]);
    // Add-ons without a version get EKS's default for 1.29.
    for (name, version) in [
        ("vpc-cni", "v1.18.5-eksbuild.1"),
        ("kube-proxy", "v1.29.10-eksbuild.3"),
        ("coredns", "v1.11.3-eksbuild.1"),
        ("aws-ebs-csi-driver", "v1.41.0-eksbuild.1"),
    ] {
        assert_eq!(
            addon(&inventory, "prod", name).await.addon_version(),
            Some(version)
        );
    }
    let ebs = addon(&inventory, "prod", "aws-ebs-csi-driver").await;
    assert!(
        ebs.service_account_role_arn()
            .is_some_and(|r| r.contains(":role/"))
    );
    assert_eq!(
        policies(
            &inventory,
            "prod",
            "arn:aws:iam::111122223333:role/platform-admin"
        )
        .await,
        [(ADMIN_POLICY.to_owned(), vec![])]
    );
    assert_eq!(
        policies(
            &inventory,
            "prod",
            "arn:aws:iam::111122223333:role/developers"
        )
        .await,
        [(
            EDIT_POLICY.to_owned(),
            vec!["apps".to_owned(), "staging".to_owned()]
        )]
    );

    let spec = aws.spec("prod.yaml", &example);
    let plan = aws.expect(2, &["plan", "-f", &spec, "--detailed-exitcode"]);
    for expected in [
        "~ update cluster/version-1.30 (prod)",
        "kubernetesVersion: 1.29 -> 1.30",
        "~ update cluster/version-1.31 (prod)",
        "kubernetesVersion: 1.30 -> 1.31",
        "~ update nodegroup/system/version-1.30",
        "~ update nodegroup/system/version-1.31",
        "~ update addon/kube-proxy/version-1.30",
        "version: v1.29.10-eksbuild.3 -> v1.30.6-eksbuild.3",
    ] {
        assert!(
            plan.stdout.contains(expected),
            "no `{expected}` in\n{}",
            plan.stdout
        );
    }
    // The chain, from the plan's dependencies: each control plane step waits for the node
    // groups and add-ons of the one before, and they wait for it.
    let json = aws.expect(
        2,
        &[
            "plan",
            "-f",
            &spec,
            "--detailed-exitcode",
            "--output",
            "json",
        ],
    );
    let json: Value = serde_json::from_str(&json.stdout).unwrap();
    for (later, earlier) in [
        ("nodegroup/system/version-1.30", "cluster/version-1.30"),
        (
            "nodegroup/spot-workers/version-1.30",
            "cluster/version-1.30",
        ),
        ("addon/kube-proxy/version-1.30", "cluster/version-1.30"),
        ("cluster/version-1.31", "nodegroup/system/version-1.30"),
        (
            "cluster/version-1.31",
            "nodegroup/spot-workers/version-1.30",
        ),
        ("cluster/version-1.31", "addon/kube-proxy/version-1.30"),
        ("nodegroup/system/version-1.31", "cluster/version-1.31"),
        ("addon/kube-proxy", "cluster/version-1.31"),
    ] {
        assert!(
            comes_after(&json, later, earlier),
            "{later} does not wait for {earlier}:\n{json:#}"
        );
    }
    let line = |text: &str, needle: &str| {
        text.lines()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no `{needle}` in\n{text}"))
    };
    let apply = aws.expect(0, &["apply", "-f", &spec, "--auto-approve"]);
    let done = |needle: &str| line(&apply.stdout, needle);
    assert!(done("cluster/version-1.30: done") < done("nodegroup/system/version-1.30: update"));
    assert!(done("nodegroup/system/version-1.30: done") < done("cluster/version-1.31: update"));
    let again = aws.expect(0, &["plan", "-f", &spec, "--detailed-exitcode"]);
    assert_eq!(again.stdout.trim(), "No changes.");

    let cluster = inventory
        .eks
        .describe_cluster()
        .name("prod")
        .send()
        .await
        .unwrap();
    assert_eq!(cluster.cluster().unwrap().version(), Some("1.31"));
    for prefix in ["system", "workers"] {
        for group in node_groups(&inventory, "prod", prefix).await {
            assert_eq!(group.version(), Some("1.31"), "{group:?}");
        }
    }
    // Add-ons without a version move to EKS's default for 1.31.
    for (name, version) in [
        ("kube-proxy", "v1.31.3-eksbuild.2"),
        ("coredns", "v1.11.3-eksbuild.1"),
        ("vpc-cni", "v1.19.2-eksbuild.1"),
    ] {
        assert_eq!(
            addon(&inventory, "prod", name).await.addon_version(),
            Some(version)
        );
    }

    aws.expect(0, &["delete", "-f", &spec, "--auto-approve"]);
    assert_eq!(inventory.owned("prod").await, Vec::<String>::new());
}
