//! The policy gate (`--policy`) as a user runs it, against strict moto, with the example
//! policies of examples/policies/: each is tested on a plan it passes and one it fails, and
//! `plan`, `apply` and `delete` stop before changing anything when a policy denies.

use std::path::PathBuf;

use ekspec::policy::{Level, PolicySet};
use serde_json::{Value, json};

use crate::e2e::{Emulated, edit, small};
use crate::support::repo;

fn example(name: &str) -> String {
    repo()
        .join("examples/policies")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

/// The input document of a spec given as YAML, with the plan `changes` and `params`.
fn input(spec_yaml: &str, changes: Value, params: Value, now: &str) -> Value {
    let report = ekspec::spec::parse_str("spec.yaml", spec_yaml);
    assert!(!report.has_errors(), "{:?}", report.diagnostics);
    let file = report.spec.expect("a valid spec");
    json!({
        "formatVersion": 1,
        "plan": {"formatVersion": 1, "cluster": file.metadata.name, "region": file.metadata.region,
                 "changes": changes, "hasChanges": true},
        "spec": file,
        "specFile": "spec.yaml",
        "params": params,
        "now": now,
    })
}

/// The (level, rule, resource, message start) of each finding of one example policy.
fn judge(policy: &str, input: &Value) -> Vec<(Level, String, Option<String>)> {
    let set = PolicySet::load(&[PathBuf::from(example(policy))], "main").unwrap();
    set.evaluate(input)
        .unwrap()
        .findings
        .into_iter()
        .map(|f| (f.level, f.rule, f.resource))
        .collect()
}

const NOW: &str = "2026-12-01T12:00:00Z";

fn tagged(spec: &str) -> String {
    edit(
        spec,
        "metadata: {name: NAME, region: us-east-1}",
        "metadata: {name: NAME, region: us-east-1, tags: {team: web, cost-center: \"4711\"}}",
    )
}

#[test]
fn each_example_policy_passes_a_good_plan_and_fails_a_bad_one() {
    let base = small("shop", "10.30.0.0/16");
    let deny = |rule: &str, resource: &str| {
        vec![(Level::Deny, rule.to_owned(), Some(resource.to_owned()))]
    };
    let none: Vec<(Level, String, Option<String>)> = Vec::new();
    let ok = input(
        &tagged(&small("NAME", "10.30.0.0/16")).replace("NAME", "shop"),
        json!([]),
        json!({}),
        NOW,
    );

    // Required tags.
    assert_eq!(judge("required_tags.rego", &ok), none);
    let untagged = input(&base, json!([]), json!({}), NOW);
    let found = judge("required_tags.rego", &untagged);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found.iter().all(|f| f.1 == "deny_required_tags"));

    // No public endpoint open to everyone in production.
    assert_eq!(judge("public_endpoint.rego", &ok), none);
    let production = |cidrs: &str| {
        let spec = edit(
            &base,
            "metadata: {name: shop, region: us-east-1}",
            "metadata: {name: shop, region: us-east-1, tags: {environment: production}}",
        );
        input(
            &edit(
                &spec,
                "endpoint: {publicAccess: true}",
                &format!("endpoint: {{publicAccess: true, publicAccessCidrs: {cidrs}}}"),
            ),
            json!([]),
            json!({}),
            NOW,
        )
    };
    assert_eq!(
        judge("public_endpoint.rego", &production("[0.0.0.0/0]")),
        deny("deny_public_endpoint", "cluster")
    );
    assert_eq!(
        judge("public_endpoint.rego", &production("[203.0.113.0/24]")),
        none
    );

    // Instance type allow-list.
    assert_eq!(judge("instance_types.rego", &ok), none);
    let odd = input(
        &edit(
            &base,
            "instanceTypes: [t3.large]",
            "instanceTypes: [t3.large, x2iedn.xlarge]",
        ),
        json!([]),
        json!({}),
        NOW,
    );
    assert_eq!(
        judge("instance_types.rego", &odd),
        deny("deny_instance_type", "nodegroup/web")
    );

    // Spot only for batch groups.
    let spot = |labels: &str| {
        input(
            &edit(
                &base,
                "privateNetworking: false}",
                &format!("privateNetworking: false, capacityType: spot{labels}}}"),
            ),
            json!([]),
            json!({}),
            NOW,
        )
    };
    assert_eq!(
        judge("spot_batch.rego", &spot("")),
        deny("deny_spot_outside_batch", "nodegroup/web")
    );
    assert_eq!(
        judge("spot_batch.rego", &spot(", labels: {workload: batch}")),
        none
    );
    assert_eq!(judge("spot_batch.rego", &ok), none);

    // Deleting the control plane needs the pull request's yes.
    let delete = json!([{"resource": "cluster", "kind": "delete", "physicalId": "shop"}]);
    let update = json!([{"resource": "cluster", "kind": "update", "physicalId": "shop"}]);
    assert_eq!(
        judge(
            "control_plane_delete.rego",
            &input(&base, delete.clone(), json!({}), NOW)
        ),
        deny("deny_control_plane_delete", "cluster")
    );
    assert_eq!(
        judge(
            "control_plane_delete.rego",
            &input(&base, delete, json!({"allowClusterDelete": "true"}), NOW)
        ),
        none
    );
    assert_eq!(
        judge(
            "control_plane_delete.rego",
            &input(&base, update, json!({}), NOW)
        ),
        none
    );

    // Versions in extended support, by the date of the evaluation.
    let version = |v: &str, now: &str| {
        input(
            &edit(
                &base,
                "kubernetesVersion: \"1.31\"",
                &format!("kubernetesVersion: \"{v}\""),
            ),
            json!([]),
            json!({}),
            now,
        )
    };
    assert_eq!(
        judge("extended_support.rego", &version("1.31", NOW)),
        deny("deny_extended_support", "cluster")
    );
    assert_eq!(
        judge(
            "extended_support.rego",
            &version("1.31", "2025-06-01T00:00:00Z")
        ),
        none
    );
    assert_eq!(
        judge("extended_support.rego", &version("1.34", NOW)),
        vec![(
            Level::Warn,
            "warn_extended_support_soon".to_owned(),
            Some("cluster".to_owned())
        )]
    );
    assert_eq!(judge("extended_support.rego", &version("1.35", NOW)), none);
}

/// Copies some example policies into a folder of their own.
fn policies(dir: &std::path::Path, names: &[&str]) -> String {
    let folder = dir.join("policies");
    std::fs::create_dir_all(&folder).unwrap();
    for name in names {
        std::fs::copy(example(name), folder.join(name)).unwrap();
    }
    folder.to_string_lossy().into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_denying_policy_stops_plan_apply_and_delete_before_any_change() {
    let aws = Emulated::start();
    let dir = tempfile::TempDir::new().unwrap();
    let untagged = aws.spec("untagged.yaml", &small("gate", "10.31.0.0/16"));
    let tagged = aws.spec(
        "tagged.yaml",
        &tagged(&small("NAME", "10.31.0.0/16")).replace("NAME", "gate"),
    );
    let rules = policies(
        dir.path(),
        &[
            "required_tags.rego",
            "instance_types.rego",
            "spot_batch.rego",
            "public_endpoint.rego",
            "control_plane_delete.rego",
        ],
    );
    // A warning passes and is printed.
    std::fs::write(
        std::path::Path::new(&rules).join("warn_public.rego"),
        "package main\nimport rego.v1\n\nwarn contains \"the API endpoint is public\" if input.spec.spec.endpoint.publicAccess\n",
    )
    .unwrap();

    let plan = aws.expect(1, &["plan", "-f", &untagged, "--policy", &rules]);
    assert!(
        plan.stdout.contains("Plan: "),
        "the plan is shown: {}",
        plan.stdout
    );
    let denied: Vec<&str> = plan
        .stderr
        .lines()
        .filter(|l| l.starts_with("policy denied: "))
        .collect();
    assert_eq!(denied.len(), 2, "{}", plan.stderr);
    assert!(
        denied[0].contains(
            "required_tags.rego (deny_required_tags) cluster: metadata.tags.cost-center is required"
        ),
        "{}",
        plan.stderr
    );
    assert!(
        plan.stderr.contains("policy warning: ")
            && plan.stderr.contains("(warn): the API endpoint is public")
    );
    assert!(plan.stderr.contains("the policies deny this plan"));

    let apply = aws.expect(
        1,
        &[
            "apply",
            "-f",
            &untagged,
            "--auto-approve",
            "--policy",
            &rules,
        ],
    );
    assert!(
        apply.stderr.contains("no change was made"),
        "{}",
        apply.stderr
    );
    assert!(
        aws.inventory("us-east-1")
            .await
            .owned("gate")
            .await
            .is_empty(),
        "nothing was made"
    );

    let plan = aws.expect(
        2,
        &[
            "plan",
            "-f",
            &tagged,
            "--policy",
            &rules,
            "--detailed-exitcode",
        ],
    );
    assert!(!plan.stderr.contains("policy denied"), "{}", plan.stderr);
    aws.expect(
        0,
        &["apply", "-f", &tagged, "--auto-approve", "--policy", &rules],
    );
    assert!(
        !aws.inventory("us-east-1")
            .await
            .owned("gate")
            .await
            .is_empty()
    );

    // Deleting the control plane needs the parameter the pull request's label sets.
    let delete = aws.expect(
        1,
        &[
            "delete",
            "-f",
            &tagged,
            "--auto-approve",
            "--policy",
            &rules,
        ],
    );
    assert!(delete.stderr.contains("(deny_control_plane_delete) cluster: the plan would delete the EKS control plane of gate"), "{}", delete.stderr);
    assert!(
        !aws.inventory("us-east-1")
            .await
            .owned("gate")
            .await
            .is_empty(),
        "nothing was deleted"
    );
    aws.expect(
        0,
        &[
            "delete",
            "-f",
            &tagged,
            "--auto-approve",
            "--policy",
            &rules,
            "--policy-param",
            "allowClusterDelete=true",
        ],
    );
    assert!(
        aws.inventory("us-east-1")
            .await
            .owned("gate")
            .await
            .is_empty()
    );
}

#[test]
fn policies_that_cannot_be_read_fail_before_aws_is_called() {
    let dir = tempfile::TempDir::new().unwrap();
    let spec = dir.path().join("spec.yaml");
    std::fs::write(&spec, small("gate", "10.31.0.0/16")).unwrap();
    let bad = dir.path().join("bad.rego");
    std::fs::write(&bad, "package main\ndeny contains msg if {\n").unwrap();
    // No credentials and no endpoint: the gate is refused before any call.
    let out = crate::support::Ekspec::new(&[
        "plan",
        "-f",
        &spec.to_string_lossy(),
        "--policy",
        &bad.to_string_lossy(),
    ])
    .env("AWS_ACCESS_KEY_ID", "")
    .run();
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("bad.rego: not valid Rego"),
        "{}",
        out.stderr
    );
    let out = crate::support::Ekspec::new(&[
        "plan",
        "-f",
        &spec.to_string_lossy(),
        "--policy-param",
        "a=b",
    ])
    .run();
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("give them with --policy"),
        "{}",
        out.stderr
    );
}

/// A fleet folder: each cluster is judged on its own; a denied one is marked in the summary and
/// left alone while the others are applied, and the run exits 1.
#[tokio::test(flavor = "multi_thread")]
async fn each_cluster_of_a_fleet_is_judged_on_its_own() {
    let aws = Emulated::start();
    let dir = tempfile::TempDir::new().unwrap();
    let fleet = dir.path().join("fleet");
    std::fs::create_dir(&fleet).unwrap();
    std::fs::write(
        fleet.join("kept.yaml"),
        tagged(&small("NAME", "10.32.0.0/16")).replace("NAME", "kept"),
    )
    .unwrap();
    std::fs::write(fleet.join("refused.yaml"), small("refused", "10.33.0.0/16")).unwrap();
    let rules = policies(dir.path(), &["required_tags.rego"]);
    let folder = fleet.to_string_lossy().into_owned();

    let plan = aws.expect(1, &["plan", &folder, "--policy", &rules]);
    let row = |name: &str| {
        plan.stdout
            .lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("no row for {name}: {}", plan.stdout))
            .to_owned()
    };
    assert!(
        row("refused").ends_with("denied by policy"),
        "{}",
        plan.stdout
    );
    assert!(
        row("kept").ends_with("ok") || row("kept").ends_with("changes"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stderr.contains(
            "required_tags.rego (deny_required_tags) cluster: metadata.tags.cost-center is required"
        ),
        "{}",
        plan.stderr
    );

    let apply = aws.expect(
        1,
        &["apply", "-f", &folder, "--auto-approve", "--policy", &rules],
    );
    assert!(
        apply.stdout.contains("denied by policy; nothing done"),
        "{}",
        apply.stdout
    );
    let inventory = aws.inventory("us-east-1").await;
    assert!(
        inventory.owned("refused").await.is_empty(),
        "nothing of the denied cluster"
    );
    assert!(
        !inventory.owned("kept").await.is_empty(),
        "the other cluster was applied"
    );
}
