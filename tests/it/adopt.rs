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
