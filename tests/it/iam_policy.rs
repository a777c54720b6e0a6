//! docs/iam-policy.json must allow every AWS operation ekspec's code calls, and the read-only
//! policy every read: the operation names are taken from the AWS layer's source, so a new call
//! without a policy entry fails here.

use std::collections::BTreeSet;

use crate::support::repo;

/// `Operation` names quoted in a source file (the AWS layer names each call it makes).
fn operations(file: &str) -> BTreeSet<String> {
    let text = std::fs::read_to_string(repo().join(file)).unwrap();
    text.split('"')
        .skip(1)
        .step_by(2)
        .filter(|s| {
            s.len() > 3
                && s.chars().all(|c| c.is_ascii_alphanumeric())
                && s.starts_with(|c: char| c.is_ascii_uppercase())
                && [
                    "Create",
                    "Delete",
                    "Describe",
                    "List",
                    "Update",
                    "Attach",
                    "Detach",
                    "Put",
                    "Get",
                    "Tag",
                    "Associate",
                    "Disassociate",
                    "Allocate",
                    "Release",
                    "Modify",
                    "Replace",
                    "Set",
                    "Remove",
                    "Terminate",
                    "Revoke",
                ]
                .iter()
                .any(|verb| s.starts_with(verb))
        })
        .map(str::to_owned)
        .collect()
}

fn allowed(policy: &str) -> BTreeSet<String> {
    let text = std::fs::read_to_string(repo().join(policy)).unwrap();
    let policy: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut actions = BTreeSet::new();
    for statement in policy["Statement"].as_array().unwrap() {
        assert_eq!(statement["Effect"], "Allow");
        match &statement["Action"] {
            serde_json::Value::String(a) => {
                actions.insert(a.clone());
            }
            serde_json::Value::Array(list) => {
                actions.extend(list.iter().map(|a| a.as_str().unwrap().to_owned()));
            }
            other => panic!("unexpected Action {other}"),
        }
    }
    actions
}

fn called() -> BTreeSet<String> {
    let mut called = BTreeSet::new();
    for (file, prefix) in [
        ("src/cloud/aws/ec2.rs", "ec2"),
        ("src/cloud/aws/eks/mod.rs", "eks"),
        ("src/cloud/aws/eks/control_plane.rs", "eks"),
        ("src/cloud/aws/eks/node_groups.rs", "eks"),
        ("src/cloud/aws/eks/fargate.rs", "eks"),
        ("src/cloud/aws/eks/addons.rs", "eks"),
        ("src/cloud/aws/eks/access_entries.rs", "eks"),
        ("src/cloud/aws/pod_identity.rs", "eks"),
        ("src/cloud/aws/iam.rs", "iam"),
        ("src/cloud/aws/elb.rs", "elasticloadbalancing"),
        ("src/cloud/aws/ssm.rs", "ssm"),
        ("src/cloud/aws/sqs.rs", "sqs"),
        ("src/cloud/aws/eventbridge.rs", "events"),
    ] {
        for operation in operations(file) {
            let prefix = if operation == "GetCallerIdentity" {
                "sts"
            } else {
                prefix
            };
            called.insert(format!("{prefix}:{operation}"));
        }
    }
    assert!(
        called.len() > 60,
        "the scan found too few calls: {called:?}"
    );
    called
}

#[test]
fn the_policy_allows_every_call_ekspec_makes() {
    let allowed = allowed("docs/iam-policy.json");
    let missing: Vec<String> = called()
        .into_iter()
        .filter(|a| !allowed.contains(a))
        .collect();
    assert!(missing.is_empty(), "docs/iam-policy.json lacks {missing:?}");
}

/// Actions the policy needs although ekspec's code never names them: AWS checks them inside
/// another call (tags given to a create are authorized as the tagging action; EKS checks
/// `iam:PassRole`, creates its service-linked roles and uses the secrets key as the caller).
const CHECKED_INSIDE_OTHER_CALLS: &[&str] = &[
    "iam:PassRole",
    "iam:CreateServiceLinkedRole",
    "kms:CreateGrant",
    "kms:DescribeKey",
    "ssm:AddTagsToResource",
];

#[test]
fn the_policy_allows_nothing_ekspec_does_not_need() {
    let called = called();
    let spare: Vec<String> = allowed("docs/iam-policy.json")
        .into_iter()
        .filter(|a| !called.contains(a) && !CHECKED_INSIDE_OTHER_CALLS.contains(&a.as_str()))
        .collect();
    assert!(
        spare.is_empty(),
        "docs/iam-policy.json allows actions ekspec never calls: {spare:?}"
    );
}

#[test]
fn the_read_only_policy_allows_every_read_and_nothing_else() {
    let allowed = allowed("docs/iam-policy-readonly.json");
    let reads: Vec<String> = called()
        .into_iter()
        .filter(|a| {
            let operation = a.split(':').nth(1).unwrap();
            ["Describe", "List", "Get"]
                .iter()
                .any(|v| operation.starts_with(v))
        })
        .collect();
    let missing: Vec<&String> = reads.iter().filter(|a| !allowed.contains(*a)).collect();
    assert!(
        missing.is_empty(),
        "docs/iam-policy-readonly.json lacks {missing:?}"
    );
    let writes: Vec<&String> = allowed
        .iter()
        .filter(|a| {
            let operation = a.split(':').nth(1).unwrap();
            !["Describe", "List", "Get"]
                .iter()
                .any(|v| operation.starts_with(v))
        })
        .collect();
    assert!(writes.is_empty(), "the read-only policy allows {writes:?}");
}
