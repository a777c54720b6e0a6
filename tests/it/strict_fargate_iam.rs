//! End to end against strict moto (tests/moto/strict_fargate.py, strict_iam.py): Fargate
//! profiles that take their turn and fail as on AWS, new IAM roles EKS refuses for a while, and
//! the access entry EKS made for a node role that is deleted and made again.

use serde_json::json;

use crate::e2e::{Emulated, edit, small};

const FARGATE: &str = "apiVersion: ekspec/v1alpha1\nkind: Cluster\nmetadata: {name: NAME, region: us-east-1}\nspec:\n  kubernetesVersion: \"1.31\"\n  vpc: {cidr: 10.30.0.0/16, availabilityZones: [us-east-1a, us-east-1b], natGateway: none}\n  fargateProfiles:\n    - {name: batch, selectors: [{namespace: batch}]}\n";

fn fargate(name: &str) -> String {
    FARGATE.replace("NAME", name)
}

fn all(out: &crate::support::Output) -> String {
    format!("{}{}", out.stdout, out.stderr)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_fargate_profile_shows_in_the_plan_and_is_made_again() {
    let aws = Emulated::start();
    let spec = aws.spec("fg.yaml", &fargate("fg"));
    aws.emulator().control(
        "fargate-profile-fails-next",
        json!({"cluster": "fg", "issues": [{"code": "AccessDenied", "message": "the pod execution role cannot be assumed", "resourceIds": []}]}),
    );
    let failed = aws.expect(1, &["apply", "-f", &spec, "--auto-approve"]);
    assert!(
        all(&failed)
            .contains("CREATE_FAILED: AccessDenied: the pod execution role cannot be assumed"),
        "the apply says what EKS reported:\n{}",
        all(&failed)
    );
    // The failed generation is not taken for the current one: the plan says what EKS
    // reported and makes it again.
    let plan = aws.expect(2, &["plan", &spec, "--detailed-exitcode"]);
    assert!(
        plan.stdout.contains("fargate-profile/batch")
            && plan.stdout.contains("CREATE_FAILED")
            && plan.stdout.contains("AccessDenied"),
        "{}",
        plan.stdout
    );
    aws.expect(0, &["apply", "-f", &spec, "--auto-approve"]);
    aws.expect(0, &["plan", &spec, "--detailed-exitcode"]);
    let inventory = aws.inventory("us-east-1").await;
    let names = inventory
        .eks
        .list_fargate_profiles()
        .cluster_name("fg")
        .send()
        .await
        .unwrap();
    assert_eq!(names.fargate_profile_names().len(), 1, "{names:?}");
    let profile = inventory
        .eks
        .describe_fargate_profile()
        .cluster_name("fg")
        .fargate_profile_name(&names.fargate_profile_names()[0])
        .send()
        .await
        .unwrap();
    assert_eq!(
        profile
            .fargate_profile()
            .and_then(|p| p.status())
            .map(|s| s.as_str()),
        Some("ACTIVE")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn eks_refusals_of_new_roles_and_busy_profiles_are_waited_out_with_progress() {
    let aws = Emulated::start();
    // EKS cannot use a role for 2 s after it is made.
    aws.emulator()
        .control("iam-propagation", json!({"seconds": 2}));
    let with_profiles = fargate("busy");
    let profiles = "  fargateProfiles:\n    - {name: batch, selectors: [{namespace: batch}]}\n";
    let spec = aws.spec("busy.yaml", &edit(&with_profiles, profiles, ""));
    let first = aws.expect(0, &["apply", "-f", &spec, "--auto-approve"]);
    let out = all(&first);
    assert!(
        out.lines().any(
            |l| l.contains("cluster: waiting for creation of cluster busy")
                && l.contains("could not be assumed")
        ),
        "no waiting line for the cluster's new role:\n{out}"
    );
    // Another tool's profile is CREATING (EKS creates one profile at a time per cluster), and
    // the Fargate role is made by this apply.
    let inventory = aws.inventory("us-east-1").await;
    let role = inventory
        .iam
        .get_role()
        .role_name("busy-cluster")
        .send()
        .await
        .unwrap();
    inventory
        .eks
        .create_fargate_profile()
        .cluster_name("busy")
        .fargate_profile_name("other-tool")
        .pod_execution_role_arn(role.role().unwrap().arn())
        .selectors(
            aws_sdk_eks::types::FargateProfileSelector::builder()
                .namespace("other")
                .build(),
        )
        .send()
        .await
        .unwrap();
    aws.emulator().control(
        "fargate-profile",
        json!({"cluster": "busy", "name": "other-tool", "status": "CREATING", "seconds": 8}),
    );
    let spec = aws.spec("busy.yaml", &with_profiles);
    let second = aws.expect(0, &["apply", "-f", &spec, "--auto-approve"]);
    let out = all(&second);
    let waits: Vec<&str> = out
        .lines()
        .filter(|l| {
            l.contains("fargate-profile/batch: waiting for creation of Fargate profile batch-")
        })
        .collect();
    assert!(
        waits
            .iter()
            .any(|l| l.contains("Misconfigured PodExecutionRole Trust Policy")),
        "no waiting line for the Fargate role:\n{out}"
    );
    assert!(
        waits
            .iter()
            .any(|l| l.contains("currently has Fargate profile other-tool in status CREATING")),
        "no waiting line for EKS's turn-taking:\n{out}"
    );
    aws.expect(0, &["plan", &spec, "--detailed-exitcode"]);
}

/// What the project's moto says about the access entry of `principal`.
fn entry(aws: &Emulated, cluster: &str, principal: &str) -> serde_json::Value {
    aws.emulator().control(
        "access-entry",
        json!({"cluster": cluster, "principal": principal}),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_node_role_made_again_does_not_keep_a_stale_access_entry() {
    let aws = Emulated::start();
    let with_nodes = small("again", "10.40.0.0/16");
    let spec = aws.spec("again.yaml", &with_nodes);
    aws.expect(0, &["apply", "-f", &spec, "--auto-approve"]);
    let role = "arn:aws:iam::123456789012:role/ekspec/again/again-node";
    let made = entry(&aws, "again", role);
    assert_eq!(
        (made["type"].as_str(), made["stale"].as_bool()),
        (Some("EC2_LINUX"), Some(false)),
        "EKS made the node role's entry: {made}"
    );
    // No node groups: the node role goes, and the entry EKS made for it with it.
    let without = edit(
        &with_nodes,
        "  nodeGroups:\n    - {name: web, instanceTypes: [t3.large], minSize: 1, maxSize: 3, privateNetworking: false}\n",
        "",
    );
    let spec = aws.spec("again.yaml", &without);
    aws.expect(0, &["apply", "-f", &spec, "--auto-approve"]);
    assert_eq!(entry(&aws, "again", role)["exists"], json!(false));
    // Node groups again: a new role of the same name, and an entry bound to it.
    let spec = aws.spec("again.yaml", &with_nodes);
    aws.expect(0, &["apply", "-f", &spec, "--auto-approve"]);
    let again = entry(&aws, "again", role);
    assert_eq!(
        again["stale"],
        json!(false),
        "the entry is bound to the role made again: {again}"
    );
    aws.expect(0, &["plan", &spec, "--detailed-exitcode"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stale_node_entry_left_by_a_role_made_again_elsewhere_is_repaired() {
    let aws = Emulated::start();
    let spec = aws.spec("stale.yaml", &small("stale", "10.50.0.0/16"));
    aws.expect(0, &["apply", "-f", &spec, "--auto-approve"]);
    let role = "arn:aws:iam::123456789012:role/ekspec/stale/stale-node";
    // Someone deletes the node role and makes it again under the same name (same tags,
    // trust and policies): the entry EKS made still holds the old role's id.
    let inventory = aws.inventory("us-east-1").await;
    let iam = &inventory.iam;
    let old = iam.get_role().role_name("stale-node").send().await.unwrap();
    let old = old.role().unwrap().clone();
    let attached = iam
        .list_attached_role_policies()
        .role_name("stale-node")
        .send()
        .await
        .unwrap();
    for policy in attached.attached_policies() {
        iam.detach_role_policy()
            .role_name("stale-node")
            .policy_arn(policy.policy_arn().unwrap())
            .send()
            .await
            .unwrap();
    }
    iam.delete_role()
        .role_name("stale-node")
        .send()
        .await
        .unwrap();
    iam.create_role()
        .role_name("stale-node")
        .path(old.path())
        .assume_role_policy_document(
            percent_encoding::percent_decode_str(old.assume_role_policy_document().unwrap())
                .decode_utf8_lossy(),
        )
        .set_tags(Some(old.tags().to_vec()))
        .send()
        .await
        .unwrap();
    for policy in attached.attached_policies() {
        iam.attach_role_policy()
            .role_name("stale-node")
            .policy_arn(policy.policy_arn().unwrap())
            .send()
            .await
            .unwrap();
    }
    assert_eq!(entry(&aws, "stale", role)["stale"], json!(true));
    let plan = aws.expect(2, &["plan", &spec, "--detailed-exitcode"]);
    assert!(
        plan.stdout.contains(&format!("access-entry/{role}")),
        "the plan shows the repair:\n{}",
        plan.stdout
    );
    aws.expect(0, &["apply", "-f", &spec, "--auto-approve"]);
    let repaired = entry(&aws, "stale", role);
    assert_eq!(
        (repaired["type"].as_str(), repaired["stale"].as_bool()),
        (Some("EC2_LINUX"), Some(false)),
        "{repaired}"
    );
    aws.expect(0, &["plan", &spec, "--detailed-exitcode"]);
}
