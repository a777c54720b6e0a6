//! Self-managed node groups, well-known policies, the version, and where the errors of a spec
//! that does not validate are reported.

use serde_json::{Value, json};

use super::tests::{VERSION, finding, header, imported, spec_of};
use super::well_known::{self, FLAGS};
use super::*;

fn convert_text(text: &str) -> Result<Conversion, ImportError> {
    convert("cluster.yaml", text)
}

fn group<'s>(spec: &'s ClusterFile, name: &str) -> &'s NodeGroupSpec {
    match spec.spec.node_groups.iter().find(|g| g.name == name) {
        Some(group) => group,
        None => panic!("no node group {name}: {:#?}", spec.spec.node_groups),
    }
}

#[test]
fn self_managed_node_groups_become_managed_ones_where_their_fields_map() {
    let conversion = imported(
        VERSION,
        "managedNodeGroups: [{name: ng}]\nnodeGroups:\n  - name: ng\n    instanceType: m5.xlarge\n    amiFamily: Bottlerocket\n    minSize: 1\n    maxSize: 4\n    desiredCapacity: 2\n    volumeSize: 50\n    privateNetworking: true\n    labels: {role: web}\n    taints: [{key: dedicated, value: web, effect: NoSchedule}]\n    tags: {team: web}\n    targetGroupARNs: [arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/web/1]\n    kubeletExtraConfig: {maxPods: 50}\n    enclaveEnabled: true\n    containerRuntime: containerd\n    ssh: {allow: true}\n",
    );
    let spec = spec_of(&conversion);
    assert_eq!(spec.spec.node_groups.len(), 2);
    let web = group(&spec, "ng-unmanaged");
    assert_eq!(web.instance_types, ["m5.xlarge"]);
    assert_eq!(web.ami_type, AmiType::BOTTLEROCKET_x86_64);
    assert_eq!(
        (web.min_size, web.max_size, web.desired_size),
        (Some(1), Some(4), Some(2))
    );
    assert_eq!(web.disk_size_gib, 50);
    assert!(web.private_networking);
    assert_eq!(web.labels.get("role").map(String::as_str), Some("web"));
    assert_eq!(web.taints.len(), 1);
    assert_eq!(web.tags.get("team").map(String::as_str), Some("web"));
    assert_eq!(web.capacity_type, CapacityType::OnDemand);
    let becomes = finding(&conversion, "nodeGroups[0]");
    assert_eq!(becomes.kind, FindingKind::Assumed);
    assert!(
        becomes
            .message
            .starts_with("self-managed node group `ng` becomes a managed node group"),
        "{}",
        becomes.message
    );
    let renamed = finding(&conversion, "nodeGroups[0].name");
    assert!(
        renamed.message.contains("`ng-unmanaged`"),
        "{}",
        renamed.message
    );
    for field in [
        "targetGroupARNs",
        "kubeletExtraConfig",
        "enclaveEnabled",
        "ssh",
    ] {
        let path = format!("nodeGroups[0].{field}");
        assert_eq!(
            finding(&conversion, &path).kind,
            FindingKind::NotCarriedOver,
            "{path}"
        );
    }
    assert_eq!(
        finding(&conversion, "nodeGroups[0].containerRuntime").kind,
        FindingKind::Assumed
    );
}

#[test]
fn windows_node_groups_are_not_made_linux_ones() {
    let conversion = imported(
        VERSION,
        "nodeGroups:\n  - {name: linux}\n  - {name: win, amiFamily: WindowsServer2019FullContainer, desiredCapacity: 2}\n",
    );
    let spec = spec_of(&conversion);
    let names: Vec<&str> = spec
        .spec
        .node_groups
        .iter()
        .map(|g| g.name.as_str())
        .collect();
    assert_eq!(names, ["linux"]);
    let lost = finding(&conversion, "nodeGroups[1]");
    assert_eq!(lost.kind, FindingKind::NotCarriedOver);
    assert!(
        lost.message.contains("WindowsServer2019FullContainer"),
        "{}",
        lost.message
    );
}

#[test]
fn spot_comes_through_instances_distribution_and_a_mix_is_listed() {
    let conversion = imported(
        VERSION,
        "nodeGroups:\n  - name: spot\n    desiredCapacity: 2\n    instancesDistribution:\n      instanceTypes: [c5.large, c5a.large]\n      onDemandBaseCapacity: 0\n      onDemandPercentageAboveBaseCapacity: 0\n      maxPrice: 0.1\n      spotAllocationStrategy: capacity-optimized\n      capacityRebalance: true\n  - name: mixed\n    instanceType: mixed\n    instancesDistribution:\n      instanceTypes: [t3.small, t3.medium]\n      onDemandBaseCapacity: 1\n      onDemandPercentageAboveBaseCapacity: 50\n  - name: on-demand\n    instancesDistribution: {instanceTypes: [m5.large]}\n",
    );
    let spec = spec_of(&conversion);
    let spot = group(&spec, "spot");
    assert_eq!(spot.capacity_type, CapacityType::Spot);
    assert_eq!(spot.instance_types, ["c5.large", "c5a.large"]);
    for field in ["maxPrice", "spotAllocationStrategy"] {
        let path = format!("nodeGroups[0].instancesDistribution.{field}");
        assert_eq!(
            finding(&conversion, &path).kind,
            FindingKind::NotCarriedOver,
            "{path}"
        );
    }
    assert_eq!(
        finding(
            &conversion,
            "nodeGroups[0].instancesDistribution.capacityRebalance"
        )
        .kind,
        FindingKind::Assumed
    );
    let mixed = group(&spec, "mixed");
    assert_eq!(mixed.capacity_type, CapacityType::OnDemand);
    assert_eq!(mixed.instance_types, ["t3.small", "t3.medium"]);
    let listed = finding(&conversion, "nodeGroups[1].instancesDistribution");
    assert_eq!(listed.kind, FindingKind::NotCarriedOver);
    assert!(
        listed.message.contains("cannot be expressed"),
        "{}",
        listed.message
    );
    // AWS's defaults (no on-demand base, 100% on-demand above it) are plain on-demand.
    assert_eq!(
        group(&spec, "on-demand").capacity_type,
        CapacityType::OnDemand
    );
    assert!(
        !conversion.findings.iter().any(|f| f
            .path
            .to_string()
            .starts_with("nodeGroups[2].instancesDistribution")),
        "{:#?}",
        conversion.findings
    );
}

#[test]
fn without_a_version_amazon_linux_2_groups_get_the_newest_version_with_their_amis() {
    let al2 = imported(
        "",
        "managedNodeGroups: [{name: a, amiFamily: AmazonLinux2}]\nnodeGroups: [{name: b}]\n",
    );
    let spec = spec_of(&al2);
    assert_eq!(
        spec.spec.kubernetes_version,
        format!("1.{}", spec::validate::AL2_NEWEST_MINOR)
    );
    let said = finding(&al2, "metadata.version");
    assert!(said.message.contains("Amazon Linux 2"), "{}", said.message);
    assert!(
        said.message.contains("node group a uses"),
        "{}",
        said.message
    );

    let al2023 = imported("", "managedNodeGroups: [{name: a}]\n");
    assert_eq!(
        spec_of(&al2023).spec.kubernetes_version,
        format!("1.{}", spec::validate::NEWEST_MINOR - 2)
    );
}

#[test]
fn a_version_eks_no_longer_supports_is_refused_at_its_line_with_the_oldest_supported() {
    let text = header("  version: \"1.21\"\n", "managedNodeGroups: [{name: a}]\n");
    let Err(error) = convert_text(&text) else {
        panic!("converted");
    };
    assert_eq!(
        error.position,
        Position {
            line: 6,
            column: 12
        }
    );
    assert!(
        error
            .message
            .contains("Kubernetes 1.21 is no longer supported"),
        "{}",
        error.message
    );
    let oldest = format!("\"1.{}\"", spec::validate::OLDEST_MINOR);
    assert!(
        error.hint.as_deref().is_some_and(|h| h.contains(&oldest)),
        "{:?}",
        error.hint
    );
}

#[test]
fn origins_name_the_eksctl_field_of_each_spec_field() {
    let conversion = imported(
        "  version: \"1.33\"\n",
        "nodeGroups: [{name: old, amiFamily: AmazonLinux2}]\nmanagedNodeGroups:\n  - name: new\n    amiFamily: AmazonLinux2\n    instanceType: m5.large\nfargateProfiles:\n  - name: karpenter\n    selectors: [{namespace: karpenter}]\n  - name: apps\n    selectors: [{namespace: apps}]\niam:\n  serviceAccounts:\n    - metadata: {name: a, namespace: apps}\n      attachPolicyARNs: [arn:aws:iam::aws:policy/ReadOnlyAccess]\n",
    );
    let origin = |spec_path: &str| {
        let path =
            spec_path
                .split('.')
                .fold(FieldPath::root(), |path, step| match step.split_once('[') {
                    Some((key, index)) => path
                        .key(key)
                        .index(index.trim_end_matches(']').parse().unwrap_or_default()),
                    None => path.key(step),
                });
        match conversion.origin_of(&path) {
            Some(origin) => (origin.input.to_string(), origin.position.line),
            None => panic!("no origin for {spec_path}"),
        }
    };
    // Managed node groups come first in the spec, self-managed ones after them.
    assert_eq!(
        origin("spec.nodeGroups[0].amiType"),
        ("managedNodeGroups[0].amiFamily".to_owned(), 10)
    );
    assert_eq!(
        origin("spec.nodeGroups[1].amiType"),
        ("nodeGroups[0].amiFamily".to_owned(), 7)
    );
    assert_eq!(
        origin("spec.nodeGroups[0].instanceTypes[0]"),
        ("managedNodeGroups[0].instanceType".to_owned(), 11)
    );
    assert_eq!(
        origin("spec.kubernetesVersion"),
        ("metadata.version".to_owned(), 6)
    );
    // Karpenter is not asked for, so both profiles stay; indexes follow the spec.
    assert_eq!(
        origin("spec.fargateProfiles[1]"),
        ("fargateProfiles[1]".to_owned(), 15)
    );
    assert_eq!(
        origin("spec.serviceAccounts[0].policyArns[0]"),
        ("iam.serviceAccounts[0].attachPolicyARNs".to_owned(), 20)
    );
    // What the importer writes on its own is reported at the top of the file.
    assert_eq!(origin("apiVersion"), ("(document)".to_owned(), 1));

    // Both AL2 groups fail validation at 1.33; each error moves to its own eksctl line.
    let report = spec::parse_str("out", &conversion.spec_yaml);
    let moved: Vec<(usize, String)> = report
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| {
            let moved = conversion.at_origin(d, d.path.as_ref());
            (moved.position.line, moved.message)
        })
        .collect();
    assert_eq!(moved.len(), 2, "{moved:#?}");
    assert_eq!(moved[0].0, 10);
    assert!(
        moved[0]
            .1
            .starts_with("spec.nodeGroups[0].amiType (from managedNodeGroups[0].amiFamily): EKS publishes no Amazon Linux 2 AMIs"),
        "{}",
        moved[0].1
    );
    assert_eq!(moved[1].0, 7);
}

#[test]
fn origins_follow_items_the_conversion_drops() {
    // Karpenter takes its namespace off Fargate, which drops the first profile.
    let conversion = imported(
        VERSION,
        "karpenter: {version: \"1.2.1\"}\nfargateProfiles:\n  - name: karpenter\n    selectors: [{namespace: karpenter}]\n  - name: apps\n    selectors: [{namespace: apps}]\n",
    );
    let spec = spec_of(&conversion);
    assert_eq!(spec.spec.fargate_profiles.len(), 1);
    let path = FieldPath::root()
        .key("spec")
        .key("fargateProfiles")
        .index(0);
    let origin = conversion.origin_of(&path).map(|o| o.input.to_string());
    assert_eq!(origin.as_deref(), Some("fargateProfiles[1]"));
}

/// eksctl's statement.go, copied verbatim (Apache-2.0, see NOTICE).
const EKSCTL_STATEMENTS: &str =
    include_str!("../../../tests/fixtures/eksctl-well-known/statement.go");
/// The policy document eksctl's own test expects for awsLoadBalancerController
/// (pkg/cfn/builder/iam_test.go, `expectedAWSLoadBalancerControllerPolicyDocument`).
const EKSCTL_LOAD_BALANCER_POLICY: &str =
    include_str!("../../../tests/fixtures/eksctl-well-known/aws-load-balancer-controller.json");

/// Every string of a statement block of statement.go (keys, actions, condition keys and
/// values), with eksctl's constants and partition prefix resolved for the `aws` partition.
fn go_statement_strings(block: &str) -> Vec<String> {
    let mut strings = Vec::new();
    let mut rest = block;
    while let Some(start) = rest.find(|c: char| c == '"' || c.is_ascii_alphabetic()) {
        rest = &rest[start..];
        if let Some(quoted) = rest.strip_prefix('"') {
            let end = quoted.find('"').unwrap_or(quoted.len());
            strings.push(quoted[..end].to_owned());
            rest = &quoted[(end + 1).min(quoted.len())..];
            continue;
        }
        let end = rest
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(rest.len());
        match &rest[..end] {
            "effectAllow" => strings.push("Allow".to_owned()),
            "resourceAll" => strings.push("*".to_owned()),
            "addARNPartitionPrefix" => {
                // The argument is the next quoted string.
                let open = rest.find('"').unwrap_or(rest.len() - 1) + 1;
                let close = rest[open..].find('"').unwrap_or(0) + open;
                strings.push(format!("arn:aws:{}", &rest[open..close]));
                rest = &rest[(close + 1).min(rest.len())..];
                continue;
            }
            _ => {}
        }
        rest = &rest[end..];
    }
    strings.sort();
    strings
}

/// The statements of each function of statement.go, by function name.
fn go_statements(function: &str) -> Vec<Vec<String>> {
    let start = format!("func {function}() []cft.MapOfInterfaces {{");
    let Some(body) = EKSCTL_STATEMENTS.split(&start).nth(1) else {
        panic!("statement.go has no {function}");
    };
    let body = body.split("\nfunc ").next().unwrap_or_default();
    body.split("\n\t\t{\n")
        .skip(1)
        .map(|block| go_statement_strings(block.split("\n\t\t},").next().unwrap_or_default()))
        .collect()
}

fn json_strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(text) => out.push(text.clone()),
        Value::Array(items) => items.iter().for_each(|item| json_strings(item, out)),
        Value::Object(map) => {
            for (key, value) in map {
                out.push(key.clone());
                json_strings(value, out);
            }
        }
        _ => {}
    }
}

fn statement_strings(statement: &Value) -> Vec<String> {
    let mut strings = Vec::new();
    json_strings(statement, &mut strings);
    strings.sort();
    strings
}

#[test]
fn well_known_statements_are_eksctls_statement_for_statement() {
    // createWellKnownPolicies (pkg/cfn/builder/iam_helper.go): the flags' custom policies.
    let functions: &[(&str, &[&str])] = &[
        ("autoScaler", &["autoScalerStatements"]),
        (
            "awsLoadBalancerController",
            &["loadBalancerControllerStatements"],
        ),
        (
            "externalDNS",
            &["changeSetStatements", "externalDNSHostedZonesStatements"],
        ),
        (
            "certManager",
            &[
                "changeSetStatements",
                "certManagerGetChangeStatements",
                "certManagerHostedZonesStatements",
            ],
        ),
        ("efsCSIController", &["efsCSIControllerStatements"]),
    ];
    for (flag, functions) in functions {
        let expected: Vec<Vec<String>> = functions.iter().flat_map(|f| go_statements(f)).collect();
        let ours = well_known::policies(flag, "aws").unwrap_or_default();
        let actual: Vec<Vec<String>> = ours.statements.iter().map(statement_strings).collect();
        assert_eq!(actual, expected, "{flag}");
        assert!(ours.policy_arns.is_empty(), "{flag}");
    }
    for (flag, arn) in [
        (
            "imageBuilder",
            "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser",
        ),
        (
            "ebsCSIController",
            "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy",
        ),
    ] {
        let ours = well_known::policies(flag, "aws").unwrap_or_default();
        assert_eq!(ours.policy_arns, [arn], "{flag}");
        assert!(ours.statements.is_empty(), "{flag}");
    }
    assert_eq!(FLAGS.len(), 7);
}

/// eksctl's `{"Fn::Sub": "arn:${AWS::Partition}:..."}` as the ARN in `partition`.
fn resolve_partition(value: &Value, partition: &str) -> Value {
    match value {
        Value::Object(map) if map.len() == 1 && map.contains_key("Fn::Sub") => {
            let text = map["Fn::Sub"].as_str().unwrap_or_default();
            Value::from(text.replace("${AWS::Partition}", partition))
        }
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), resolve_partition(v, partition)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| resolve_partition(v, partition))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[test]
fn the_load_balancer_controller_policy_is_the_document_eksctl_tests_for() {
    let expected: Value = match serde_json::from_str(EKSCTL_LOAD_BALANCER_POLICY) {
        Ok(value) => value,
        Err(error) => panic!("{error}"),
    };
    for partition in ["aws", "aws-cn"] {
        let region = if partition == "aws" {
            "us-east-1"
        } else {
            "cn-north-1"
        };
        let text = format!(
            "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata: {{name: demo, region: {region}, version: \"1.31\"}}\niam:\n  serviceAccounts:\n    - metadata: {{name: lb, namespace: kube-system}}\n      wellKnownPolicies: {{awsLoadBalancerController: true}}\n"
        );
        let conversion = match convert_text(&text) {
            Ok(conversion) => conversion,
            Err(error) => panic!("{error}"),
        };
        let spec = spec_of(&conversion);
        let policy = spec.spec.service_accounts[0].inline_policy.clone();
        assert_eq!(
            policy,
            Some(resolve_partition(&expected, partition)),
            "{partition}"
        );
    }
}

#[test]
fn well_known_policies_join_attach_policy_and_arns_and_report_unknown_flags() {
    let conversion = imported(
        VERSION,
        "iam:\n  serviceAccounts:\n    - metadata: {name: dns, namespace: ops}\n      attachPolicyARNs: [arn:aws:iam::aws:policy/ReadOnlyAccess]\n      attachPolicy: {Version: \"2012-10-17\", Statement: {Effect: Allow, Action: [\"s3:GetObject\"], Resource: \"*\"}}\n      wellKnownPolicies: {externalDNS: true, imageBuilder: true, autoScaler: false, appMesh: true}\naddons:\n  - name: aws-ebs-csi-driver\n    wellKnownPolicies: {ebsCSIController: true}\n",
    );
    let spec = spec_of(&conversion);
    let dns = &spec.spec.service_accounts[0];
    assert_eq!(
        dns.policy_arns,
        [
            "arn:aws:iam::aws:policy/ReadOnlyAccess",
            "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser"
        ]
    );
    let statements = dns
        .inline_policy
        .as_ref()
        .and_then(|p| p.get("Statement"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    // attachPolicy's single statement first, then externalDNS's two (autoScaler is off).
    assert_eq!(statements.len(), 3, "{statements:#?}");
    assert_eq!(statements[0]["Action"], json!(["s3:GetObject"]));
    assert_eq!(
        statements[1]["Action"],
        json!(["route53:ChangeResourceRecordSets"])
    );
    assert_eq!(
        finding(
            &conversion,
            "iam.serviceAccounts[0].wellKnownPolicies.appMesh"
        )
        .kind,
        FindingKind::NotCarriedOver
    );
    let said = finding(&conversion, "iam.serviceAccounts[0].wellKnownPolicies");
    assert!(
        said.message.contains("imageBuilder, externalDNS"),
        "{}",
        said.message
    );
    // An add-on's flags go to the IRSA role of its service account.
    let ebs = spec
        .spec
        .service_accounts
        .iter()
        .find(|a| a.name == "ebs-csi-controller-sa");
    assert_eq!(
        ebs.map(|a| a.policy_arns.clone()),
        Some(vec![
            "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy".to_owned()
        ])
    );
    assert_eq!(
        spec.spec.addons[0].service_account.as_deref(),
        Some("ebs-csi-controller-sa")
    );
}

#[test]
fn every_well_known_policy_at_once_fits_an_inline_policy() {
    // IAM limits a role's inline policies to 10,240 characters, whitespace not counted.
    let conversion = imported(
        VERSION,
        &format!(
            "iam:\n  serviceAccounts:\n    - metadata: {{name: all, namespace: ops}}\n      wellKnownPolicies: {{{}}}\n",
            FLAGS
                .iter()
                .map(|f| format!("{f}: true"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    );
    let spec = spec_of(&conversion);
    let policy = spec.spec.service_accounts[0]
        .inline_policy
        .clone()
        .unwrap_or_default();
    let size = serde_json::to_string(&policy).unwrap_or_default().len();
    assert!(size < 10_240, "{size}");
}
