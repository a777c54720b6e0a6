//! End to end through the real binary against fakecloud, a second emulator of the EKS APIs
//! moto 5.2.1 lacks (add-ons, access entries, version upgrades, encryption; e2e_lifecycle.rs
//! runs the same scenarios on moto with those APIs patched in). fakecloud validates little, so
//! only the paths that succeed are tested here; rejections are tested with SDK mocks.

use crate::e2e::{Emulated, edit, node_groups};
use crate::support::repo;

#[tokio::test(flavor = "multi_thread")]
async fn a_spec_with_every_field_applies_converges_and_deletes() {
    let Some(aws) = Emulated::fakecloud() else {
        return;
    };
    let text =
        std::fs::read_to_string(repo().join("tests/fixtures/valid/everything.yaml")).unwrap();
    // fakecloud (unlike moto) refuses to attach a policy that does not exist; the fixture's
    // is in another account.
    let text = edit(
        &text,
        "arn:aws:iam::111122223333:policy/app-read",
        "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
    );
    // fakecloud 0.51 keeps no updateConfig.updateStrategy (every group reads back DEFAULT);
    // moto's strict rules and e2e_lifecycle.rs cover it.
    let text = edit(&text, "      updateStrategy: MINIMAL\n", "");
    let spec = aws.spec("everything.yaml", &text);
    aws.expect(0, &["apply", "-f", &spec, "--auto-approve"]);
    let again = aws.expect(0, &["plan", "-f", &spec, "--detailed-exitcode"]);
    assert_eq!(again.stdout.trim(), "No changes.");
    let get = aws.expect(0, &["get", "-f", &spec]);
    for row in [
        "aws-ebs-csi-driver",
        "vpc-cni",
        "arn:aws:iam::111122223333:user/alice",
    ] {
        assert!(get.stdout.contains(row), "no {row} in\n{}", get.stdout);
    }
    aws.expect(0, &["delete", "-f", &spec, "--auto-approve"]);
    let inventory = aws.inventory("eu-central-1").await;
    assert_eq!(inventory.owned("everything").await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_upgrade_from_1_29_to_1_31_runs_as_two_ordered_steps() {
    let Some(aws) = Emulated::fakecloud() else {
        return;
    };
    // The production example on 1.31, made on 1.29.
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

    let spec = aws.spec("prod.yaml", &example);
    let plan = aws.expect(2, &["plan", "-f", &spec, "--detailed-exitcode"]);
    for expected in [
        "~ update cluster/version-1.30 (prod)",
        "kubernetesVersion: 1.29 -> 1.30",
        "~ update cluster/version-1.31 (prod)",
        "kubernetesVersion: 1.30 -> 1.31",
        "~ update nodegroup/system/version-1.30",
        "~ update nodegroup/system/version-1.31",
    ] {
        assert!(
            plan.stdout.contains(expected),
            "no `{expected}` in\n{}",
            plan.stdout
        );
    }
    let apply = aws.expect(0, &["apply", "-f", &spec, "--auto-approve"]);
    let line = |needle: &str| {
        apply
            .stdout
            .lines()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no `{needle}` in\n{}", apply.stdout))
    };
    assert!(line("cluster/version-1.30: done") < line("nodegroup/system/version-1.30: update"));
    assert!(line("nodegroup/system/version-1.30: done") < line("cluster/version-1.31: update"));
    let again = aws.expect(0, &["plan", "-f", &spec, "--detailed-exitcode"]);
    assert_eq!(again.stdout.trim(), "No changes.");

    let inventory = aws.inventory("us-east-1").await;
    let cluster = inventory
        .eks
        .describe_cluster()
        .name("prod")
        .send()
        .await
        .unwrap();
    assert_eq!(cluster.cluster().unwrap().version(), Some("1.31"));
    let system = node_groups(&inventory, "prod", "system").await;
    assert_eq!(system[0].version(), Some("1.31"));
    aws.expect(0, &["delete", "-f", &spec, "--auto-approve"]);
}
