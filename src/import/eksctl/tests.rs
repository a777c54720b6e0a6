use super::*;
use crate::spec::POD_IDENTITY_AGENT;

/// The `version` line most configs here carry.
pub(super) const VERSION: &str = "  version: \"1.31\"\n";

/// An eksctl config of cluster `demo` in us-east-1: more metadata lines (`meta`), then `body`.
pub(super) fn header(meta: &str, body: &str) -> String {
    format!(
        "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata:\n  name: demo\n  region: us-east-1\n{meta}{body}"
    )
}

fn config(body: &str) -> String {
    header(VERSION, body)
}

/// The conversion of [`header`]`(meta, body)`, which must succeed.
pub(super) fn imported(meta: &str, body: &str) -> Conversion {
    match convert("cluster.yaml", &header(meta, body)) {
        Ok(conversion) => conversion,
        Err(error) => panic!("{error}"),
    }
}

fn convert_ok(body: &str) -> Conversion {
    imported(VERSION, body)
}

/// The imported spec, which must pass ekspec's own validation without errors.
pub(super) fn spec_of(conversion: &Conversion) -> ClusterFile {
    let report = spec::parse_str("out", &conversion.spec_yaml);
    match report.spec {
        Some(spec) => spec,
        None => panic!("{:#?}\n{}", report.diagnostics, conversion.spec_yaml),
    }
}

pub(super) fn finding<'c>(conversion: &'c Conversion, path: &str) -> &'c Finding {
    match conversion
        .findings
        .iter()
        .find(|f| f.path.to_string() == path)
    {
        Some(finding) => finding,
        None => panic!("no finding at {path}: {:#?}", conversion.findings),
    }
}

#[test]
fn ami_family_follows_the_instance_architecture() {
    let conversion = convert_ok(
        "managedNodeGroups:\n  - {name: a, instanceType: m7g.large, amiFamily: AmazonLinux2023}\n  - {name: b, instanceType: g5.xlarge, amiFamily: Bottlerocket}\n  - {name: c, instanceType: inf2.xlarge}\n  - {name: d, instanceTypes: [c7g.large], amiFamily: Bottlerocket}\n",
    );
    let spec = spec_of(&conversion);
    let types: Vec<AmiType> = spec.spec.node_groups.iter().map(|g| g.ami_type).collect();
    assert_eq!(
        types,
        [
            AmiType::AL2023_ARM_64_STANDARD,
            AmiType::BOTTLEROCKET_x86_64_NVIDIA,
            AmiType::AL2023_x86_64_NEURON,
            AmiType::BOTTLEROCKET_ARM_64,
        ]
    );
    assert_eq!(
        finding(&conversion, "managedNodeGroups[2].amiFamily").kind,
        FindingKind::Assumed
    );
}

#[test]
fn mixed_architectures_and_unsupported_families_are_reported() {
    let conversion = convert_ok(
        "managedNodeGroups:\n  - {name: a, instanceTypes: [m7g.large, m6i.large], amiFamily: AmazonLinux2023}\n  - {name: b, instanceType: m6g.large, amiFamily: Ubuntu2204}\n",
    );
    let mixed = finding(&conversion, "managedNodeGroups[0].amiFamily");
    assert_eq!(mixed.kind, FindingKind::NotCarriedOver);
    assert!(
        mixed.message.contains("x86-64 and Arm"),
        "{}",
        mixed.message
    );
    let ubuntu = finding(&conversion, "managedNodeGroups[1].amiFamily");
    assert!(
        ubuntu
            .message
            .contains("AL2023_ARM_64_STANDARD is written instead"),
        "{}",
        ubuntu.message
    );
}

#[test]
fn both_taint_forms_become_a_list() {
    let conversion = convert_ok(
        "managedNodeGroups:\n  - name: a\n    taints: {dedicated: \"gpu:NoSchedule\", spot: \":PreferNoSchedule\", bad: novalue}\n  - name: b\n    taints: [{key: k, value: v, effect: NoExecute}, {key: x, effect: Sometimes}]\n",
    );
    let spec = spec_of(&conversion);
    let a = &spec.spec.node_groups[0].taints;
    assert_eq!(
        a,
        &[
            Taint {
                key: "dedicated".into(),
                value: Some("gpu".into()),
                effect: TaintEffect::NoSchedule
            },
            Taint {
                key: "spot".into(),
                value: None,
                effect: TaintEffect::PreferNoSchedule
            },
        ]
    );
    assert_eq!(
        finding(&conversion, "managedNodeGroups[0].taints.bad").kind,
        FindingKind::NotCarriedOver
    );
    assert_eq!(spec.spec.node_groups[1].taints.len(), 1);
    assert!(
        finding(&conversion, "managedNodeGroups[1].taints[1].effect")
            .message
            .contains("Sometimes")
    );
}

#[test]
fn eksctl_defaults_that_differ_from_ekspec_are_written_out() {
    let conversion = convert_ok("managedNodeGroups:\n  - name: a\n");
    let spec = spec_of(&conversion);
    assert_eq!(spec.spec.vpc.cidr.as_deref(), Some("192.168.0.0/16"));
    assert!(!spec.spec.endpoint.private_access);
    let group = &spec.spec.node_groups[0];
    assert_eq!(group.instance_types, ["m5.large"]);
    assert_eq!(group.disk_size_gib, 80);
    assert!(!group.private_networking);
    for path in [
        "vpc.cidr",
        "vpc.clusterEndpoints.privateAccess",
        "managedNodeGroups[0].instanceType",
        "managedNodeGroups[0].volumeSize",
        "managedNodeGroups[0].privateNetworking",
    ] {
        assert_eq!(
            finding(&conversion, path).kind,
            FindingKind::Assumed,
            "{path}"
        );
    }
}

#[test]
fn unknown_and_unsupported_fields_are_reported_by_path_and_line() {
    let conversion = convert_ok(
        "managedNodeGroups:\n  - name: a\n    ssh: {allow: true}\n    enableDetailedMonitoring: false\n    desiredCapcity: 2\nfrobnicate: true\n",
    );
    let ssh = finding(&conversion, "managedNodeGroups[0].ssh");
    assert_eq!(ssh.kind, FindingKind::NotCarriedOver);
    assert_eq!(ssh.position, Position { line: 9, column: 5 });
    assert!(ssh.message.contains("SSM"), "{}", ssh.message);
    assert_eq!(
        finding(&conversion, "managedNodeGroups[0].enableDetailedMonitoring").kind,
        FindingKind::Assumed
    );
    assert!(
        finding(&conversion, "managedNodeGroups[0].desiredCapcity")
            .message
            .contains("not a field")
    );
    assert_eq!(
        finding(&conversion, "frobnicate").kind,
        FindingKind::NotCarriedOver
    );
}

#[test]
fn addon_policies_become_an_irsa_service_account() {
    let conversion = convert_ok(
        "addons:\n  - name: aws-ebs-csi-driver\n    version: latest\n    attachPolicyARNs: [arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy]\n    configurationValues: '{\"controller\": {\"replicaCount\": 2}}'\n",
    );
    let spec = spec_of(&conversion);
    let addon = &spec.spec.addons[0];
    assert_eq!(addon.version, None);
    assert_eq!(
        addon.service_account.as_deref(),
        Some("ebs-csi-controller-sa")
    );
    assert_eq!(
        addon.configuration_values,
        Some(serde_json::json!({"controller": {"replicaCount": 2}}))
    );
    let account = &spec.spec.service_accounts[0];
    assert_eq!(
        (account.name.as_str(), account.namespace.as_str()),
        ("ebs-csi-controller-sa", "kube-system")
    );
}

#[test]
fn logging_wildcards_mean_every_type() {
    for wildcard in ["\"*\"", "all"] {
        let conversion = convert_ok(&format!(
            "cloudWatch:\n  clusterLogging:\n    enableTypes: [{wildcard}]\n"
        ));
        assert_eq!(spec_of(&conversion).spec.logging, LogType::ALL);
    }
}

#[test]
fn invalid_input_is_refused_with_a_position() {
    let cases = [
        ("", "the file is empty", 1),
        ("metadata: [\n", "invalid YAML", 1),
        ("- a\n", "the document is a list", 1),
        (
            "apiVersion: ekspec/v1alpha1\nkind: Cluster\n",
            "kind is `Cluster`",
            2,
        ),
        ("kind: ClusterConfig\n", "`apiVersion` is missing", 1),
    ];
    for (text, message, line) in cases {
        let Err(error) = convert("x.yaml", text) else {
            panic!("{text:?} converted");
        };
        assert!(error.message.contains(message), "{text:?}: {error}");
        assert_eq!(error.position.line, line, "{text:?}: {error}");
    }
    let Err(error) = convert(
        "x.yaml",
        &config("managedNodeGroups:\n  - name: a\n    minSize: lots\n"),
    ) else {
        panic!("converted");
    };
    assert!(
        error
            .message
            .starts_with("managedNodeGroups[0].minSize: invalid type"),
        "{error}"
    );
    assert_eq!(
        error.position,
        Position {
            line: 9,
            column: 14
        }
    );
    let Err(error) = convert(
        "x.yaml",
        "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata: {name: a}\n",
    ) else {
        panic!("converted");
    };
    assert!(
        error.message.contains("metadata.region is required"),
        "{error}"
    );
}

#[test]
fn subnets_without_a_vpc_id_are_kept_and_the_missing_id_reported() {
    let conversion = convert_ok(
        "vpc:\n  subnets:\n    private:\n      us-east-1a: {id: subnet-0a1b2c3d4e5f60718}\n      us-east-1b: {id: subnet-0a1b2c3d4e5f60719}\n",
    );
    assert_eq!(
        finding(&conversion, "vpc").kind,
        FindingKind::NotCarriedOver
    );
    // ekspec's validation then refuses the spec, naming vpc.id: better than a new VPC.
    let report = spec::parse_str("out", &conversion.spec_yaml);
    assert!(report.has_errors());
    assert!(conversion.spec_yaml.contains("subnet-0a1b2c3d4e5f60719"));
}

#[test]
fn eksctl_zone_keyed_subnet_cidrs_give_the_zones_of_a_new_vpc() {
    let conversion = convert_ok(
        "vpc:\n  cidr: 10.1.0.0/16\n  subnets:\n    private:\n      us-east-1a: {cidr: 10.1.0.0/19}\n      us-east-1b: {cidr: 10.1.32.0/19}\n",
    );
    let spec = spec_of(&conversion);
    assert_eq!(
        spec.spec.vpc.availability_zones,
        Some(vec!["us-east-1a".to_owned(), "us-east-1b".to_owned()])
    );
    assert_eq!(
        finding(&conversion, "vpc.subnets").kind,
        FindingKind::NotCarriedOver
    );
}

fn account<'s>(spec: &'s ClusterFile, namespace: &str, name: &str) -> &'s ServiceAccountSpec {
    match spec
        .spec
        .service_accounts
        .iter()
        .find(|a| a.namespace == namespace && a.name == name)
    {
        Some(account) => account,
        None => panic!(
            "no service account {namespace}/{name}: {:#?}",
            spec.spec.service_accounts
        ),
    }
}

fn addon<'s>(spec: &'s ClusterFile, name: &str) -> &'s AddonSpec {
    match spec.spec.addons.iter().find(|a| a.name == name) {
        Some(addon) => addon,
        None => panic!("no add-on {name}: {:#?}", spec.spec.addons),
    }
}

#[test]
fn pod_identity_associations_become_pod_identity_service_accounts() {
    let conversion = convert_ok(
        "addons: [{name: eks-pod-identity-agent}]\niam:\n  podIdentityAssociations:\n    - namespace: dev\n      serviceAccountName: app\n      roleName: app-role\n      permissionPolicyARNs: [arn:aws:iam::111122223333:policy/p1]\n      permissionPolicy: {Version: \"2012-10-17\", Statement: [{Effect: Allow, Action: [\"s3:GetObject\"], Resource: \"*\"}]}\n      permissionPolicyName: app-inline\n      wellKnownPolicies: {autoScaler: true}\n      permissionsBoundaryARN: arn:aws:iam::111122223333:policy/boundary\n      tags: {team: web}\n      targetRoleARN: arn:aws:iam::444455556666:role/b\n      disableSessionTags: true\n      policy: '{}'\n    - namespace: default\n      serviceAccountName: s3-reader\n      createServiceAccount: true\n      roleARN: arn:aws:iam::111122223333:role/role-1\n",
    );
    let spec = spec_of(&conversion);
    let app = account(&spec, "dev", "app");
    assert_eq!(app.mechanism, IdentityMechanism::PodIdentity);
    assert_eq!(app.policy_arns, ["arn:aws:iam::111122223333:policy/p1"]);
    assert_eq!(app.role_name.as_deref(), Some("app-role"));
    assert_eq!(
        app.inline_policy
            .as_ref()
            .and_then(|p| p.pointer("/Statement/0/Action/0")),
        Some(&serde_json::json!("s3:GetObject"))
    );
    // An existing role cannot be carried over, so neither is its association.
    assert_eq!(spec.spec.service_accounts.len(), 1);
    assert!(
        finding(&conversion, "iam.podIdentityAssociations[1].roleARN")
            .message
            .contains("`default/s3-reader` is not carried over")
    );
    assert_eq!(
        finding(
            &conversion,
            "iam.podIdentityAssociations[1].createServiceAccount"
        )
        .kind,
        FindingKind::Assumed
    );
    // eksctl's autoScaler statements, after the permissionPolicy's own.
    assert_eq!(
        app.inline_policy
            .as_ref()
            .and_then(|p| p.pointer("/Statement/1/Action/0")),
        Some(&serde_json::json!("autoscaling:DescribeAutoScalingGroups"))
    );
    assert_eq!(
        finding(
            &conversion,
            "iam.podIdentityAssociations[0].wellKnownPolicies"
        )
        .kind,
        FindingKind::Assumed
    );
    for field in [
        "permissionsBoundaryARN",
        "tags",
        "targetRoleARN",
        "disableSessionTags",
        "policy",
    ] {
        let path = format!("iam.podIdentityAssociations[0].{field}");
        assert_eq!(
            finding(&conversion, &path).kind,
            FindingKind::NotCarriedOver,
            "{path}"
        );
    }
    assert_eq!(
        finding(
            &conversion,
            "iam.podIdentityAssociations[0].permissionPolicyName"
        )
        .kind,
        FindingKind::Assumed
    );
}

#[test]
fn a_pod_identity_association_without_a_namespace_is_refused_as_eksctl_does() {
    let Err(error) = convert(
        "x.yaml",
        &config(
            "iam:\n  podIdentityAssociations:\n    - serviceAccountName: app\n      permissionPolicyARNs: [arn:aws:iam::aws:policy/ReadOnlyAccess]\n",
        ),
    ) else {
        panic!("converted");
    };
    assert!(
        error
            .message
            .contains("iam.podIdentityAssociations[0].namespace is required"),
        "{error}"
    );
}

#[test]
fn addon_associations_use_the_first_and_make_the_rest_standalone() {
    let conversion = convert_ok(
        "addons:\n  - name: eks-pod-identity-agent\n  - name: adot\n    podIdentityAssociations:\n      - {namespace: opentelemetry-operator-system, serviceAccountName: adot-col-prom-metrics, permissionPolicyARNs: [arn:aws:iam::aws:policy/AmazonPrometheusRemoteWriteAccess]}\n      - {namespace: opentelemetry-operator-system, serviceAccountName: adot-col-container-logs, permissionPolicyARNs: [arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy]}\n  - name: aws-ebs-csi-driver\n    podIdentityAssociations:\n      - {serviceAccountName: ebs-csi-controller-sa, permissionPolicyARNs: [arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy]}\n  - name: amazon-cloudwatch-observability\n    podIdentityAssociations:\n      - {serviceAccountName: cloudwatch-agent, permissionPolicyARNs: [arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy]}\n  - name: some-partner-addon\n    podIdentityAssociations:\n      - {serviceAccountName: partner, permissionPolicyARNs: [arn:aws:iam::aws:policy/ReadOnlyAccess]}\n",
    );
    let spec = spec_of(&conversion);
    assert_eq!(
        addon(&spec, "adot").service_account.as_deref(),
        Some("adot-col-prom-metrics")
    );
    let logs = account(
        &spec,
        "opentelemetry-operator-system",
        "adot-col-container-logs",
    );
    assert_eq!(logs.mechanism, IdentityMechanism::PodIdentity);
    assert!(
        finding(&conversion, "addons[1].podIdentityAssociations[1]")
            .message
            .contains("a service account of its own"),
    );
    // Without a namespace: the add-on's own, else kube-system, said in the report.
    assert_eq!(
        addon(&spec, "aws-ebs-csi-driver")
            .service_account
            .as_deref(),
        Some("ebs-csi-controller-sa")
    );
    assert_eq!(
        account(&spec, "kube-system", "ebs-csi-controller-sa").mechanism,
        IdentityMechanism::PodIdentity
    );
    account(&spec, "amazon-cloudwatch", "cloudwatch-agent");
    account(&spec, "kube-system", "partner");
    for i in 2..=4 {
        let path = format!("addons[{i}].podIdentityAssociations[0].namespace");
        assert_eq!(
            finding(&conversion, &path).kind,
            FindingKind::Assumed,
            "{path}"
        );
    }
}

#[test]
fn recommended_addon_policies_are_reported_not_guessed() {
    let conversion = convert_ok(
        "addonsConfig:\n  autoApplyPodIdentityAssociations: true\n  disableDefaultAddons: true\naddons:\n  - name: eks-pod-identity-agent\n  - name: vpc-cni\n    useDefaultPodIdentityAssociations: true\n",
    );
    let spec = spec_of(&conversion);
    assert!(spec.spec.service_accounts.is_empty());
    assert_eq!(addon(&spec, "vpc-cni").service_account, None);
    for path in [
        "addons[1].useDefaultPodIdentityAssociations",
        "addonsConfig.autoApplyPodIdentityAssociations",
        "addonsConfig.disableDefaultAddons",
    ] {
        assert_eq!(
            finding(&conversion, path).kind,
            FindingKind::NotCarriedOver,
            "{path}"
        );
    }
    assert!(
        finding(&conversion, "addons[1].useDefaultPodIdentityAssociations")
            .message
            .contains("describe-addon-configuration")
    );
}

#[test]
fn the_pod_identity_agent_is_added_once_where_ekspec_needs_it() {
    let without = convert_ok(
        "iam:\n  podIdentityAssociations:\n    - {namespace: dev, serviceAccountName: app, permissionPolicyARNs: [arn:aws:iam::aws:policy/ReadOnlyAccess]}\n",
    );
    let spec = spec_of(&without);
    let agents = spec
        .spec
        .addons
        .iter()
        .filter(|a| a.name == POD_IDENTITY_AGENT)
        .count();
    assert_eq!(agents, 1);
    let added = finding(&without, "iam.podIdentityAssociations[0]");
    assert!(
        added.message.contains("eks-pod-identity-agent"),
        "{}",
        added.message
    );

    let with = convert_ok(
        "addons: [{name: eks-pod-identity-agent, version: v1.3.4-eksbuild.1}]\niam:\n  podIdentityAssociations:\n    - {namespace: dev, serviceAccountName: app, permissionPolicyARNs: [arn:aws:iam::aws:policy/ReadOnlyAccess]}\n",
    );
    let spec = spec_of(&with);
    assert_eq!(spec.spec.addons.len(), 1);
    assert_eq!(
        spec.spec.addons[0].version.as_deref(),
        Some("v1.3.4-eksbuild.1")
    );

    // IRSA alone needs no agent.
    let irsa = convert_ok(
        "iam:\n  serviceAccounts:\n    - metadata: {name: app, namespace: dev}\n      attachPolicyARNs: [arn:aws:iam::aws:policy/ReadOnlyAccess]\n",
    );
    assert!(spec_of(&irsa).spec.addons.is_empty());
}

#[test]
fn pod_identity_in_a_namespace_fargate_runs_falls_back_to_irsa() {
    let conversion = convert_ok(
        "addons: [{name: eks-pod-identity-agent}]\nfargateProfiles:\n  - name: fp\n    selectors: [{namespace: serverless}, {namespace: mixed, labels: {on: fargate}}]\niam:\n  podIdentityAssociations:\n    - {namespace: serverless, serviceAccountName: app, permissionPolicyARNs: [arn:aws:iam::aws:policy/ReadOnlyAccess]}\n    - {namespace: mixed, serviceAccountName: app, permissionPolicyARNs: [arn:aws:iam::aws:policy/ReadOnlyAccess]}\n",
    );
    let spec = spec_of(&conversion);
    assert_eq!(
        account(&spec, "serverless", "app").mechanism,
        IdentityMechanism::Irsa
    );
    assert!(
        finding(&conversion, "iam.podIdentityAssociations[0]")
            .message
            .contains("Fargate profile `fp`")
    );
    // Only some pods of `mixed` run on Fargate: kept as eksctl had it (ekspec warns).
    assert_eq!(
        account(&spec, "mixed", "app").mechanism,
        IdentityMechanism::PodIdentity
    );
}

#[test]
fn one_role_per_service_account() {
    let conversion = convert_ok(
        "addons: [{name: eks-pod-identity-agent}]\niam:\n  serviceAccounts:\n    - metadata: {name: app, namespace: dev}\n      roleOnly: true\n      attachPolicyARNs: [arn:aws:iam::aws:policy/ReadOnlyAccess]\n  podIdentityAssociations:\n    - {namespace: dev, serviceAccountName: app, permissionPolicyARNs: [arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess]}\n",
    );
    let spec = spec_of(&conversion);
    assert_eq!(spec.spec.service_accounts.len(), 1);
    assert_eq!(
        spec.spec.service_accounts[0].mechanism,
        IdentityMechanism::Irsa
    );
    let lost = finding(&conversion, "iam.podIdentityAssociations[0]");
    assert_eq!(lost.kind, FindingKind::NotCarriedOver);
    assert!(lost.message.contains("IRSA role"), "{}", lost.message);
}

/// An eksctl config with `metadata.tags`, which [`config`] does not give.
fn tagged(tags: &str, body: &str) -> Conversion {
    imported(&format!("{VERSION}  tags: {tags}\n"), body)
}

#[test]
fn karpenter_becomes_spec_karpenter_with_eksctl_defaults_written_out() {
    let conversion = tagged(
        "{karpenter.sh/discovery: demo, team: platform}",
        "iam: {withOIDC: true}\nkarpenter:\n  version: v1.2.1\n  createServiceAccount: true\n  defaultInstanceProfile: KarpenterNodeInstanceProfile\nmanagedNodeGroups: [{name: system}]\n",
    );
    let spec = spec_of(&conversion);
    let Some(karpenter) = &spec.spec.karpenter else {
        panic!("no spec.karpenter:\n{}", conversion.spec_yaml);
    };
    assert_eq!(karpenter.version, "1.2.1");
    assert!(
        !karpenter.interruption_queue,
        "eksctl's default is no queue"
    );
    assert_eq!(
        (karpenter.namespace(), karpenter.service_account()),
        ("karpenter", "karpenter")
    );
    assert_eq!(
        spec.metadata.tags.keys().collect::<Vec<_>>(),
        ["team"],
        "the discovery tag is ekspec's to place"
    );
    assert_eq!(addon(&spec, POD_IDENTITY_AGENT).service_account, None);
    for (path, kind) in [
        ("karpenter.version", FindingKind::Assumed),
        ("karpenter.withSpotInterruptionQueue", FindingKind::Assumed),
        ("karpenter.createServiceAccount", FindingKind::Assumed),
        (
            "karpenter.defaultInstanceProfile",
            FindingKind::NotCarriedOver,
        ),
        (
            "metadata.tags[\"karpenter.sh/discovery\"]",
            FindingKind::Assumed,
        ),
    ] {
        assert_eq!(finding(&conversion, path).kind, kind, "{path}");
    }
    assert!(
        finding(&conversion, "iam.withOIDC")
            .message
            .contains("Pod Identity needs no OIDC provider")
    );
    let about: Vec<&str> = conversion
        .findings
        .iter()
        .filter(|f| f.path.to_string() == "karpenter")
        .map(|f| f.message.as_str())
        .collect();
    assert!(
        about.iter().any(|m| m.contains("`demo-karpenter-node`")),
        "{about:#?}"
    );
    assert!(
        about.iter().any(|m| m.contains("eks-pod-identity-agent")),
        "{about:#?}"
    );
}

#[test]
fn karpenter_before_1_0_is_reported_whole() {
    let conversion = tagged(
        "{karpenter.sh/discovery: demo}",
        "karpenter: {version: v0.37.0, withSpotInterruptionQueue: true}\nmanagedNodeGroups: [{name: system}]\n",
    );
    let spec = spec_of(&conversion);
    assert_eq!(spec.spec.karpenter, None);
    assert!(spec.spec.addons.is_empty());
    // Without spec.karpenter the tag is the user's own: kept.
    assert_eq!(
        spec.metadata
            .tags
            .get("karpenter.sh/discovery")
            .map(String::as_str),
        Some("demo")
    );
    let lost = finding(&conversion, "karpenter");
    assert_eq!(lost.kind, FindingKind::NotCarriedOver);
    assert!(lost.message.contains("1.0.0 and newer"), "{}", lost.message);
}

#[test]
fn karpenter_discovery_tags_and_fargate_are_ekspec_s_way() {
    let conversion = tagged(
        "{karpenter.sh/discovery: shared-fleet}",
        "karpenter: {version: \"1.8.1\", withSpotInterruptionQueue: true}\nmanagedNodeGroups: [{name: system}]\nfargateProfiles:\n  - name: karpenter\n    selectors: [{namespace: karpenter}]\n  - name: mixed\n    selectors: [{namespace: karpenter}, {namespace: batch}]\n",
    );
    let spec = spec_of(&conversion);
    assert!(
        spec.spec
            .karpenter
            .as_ref()
            .is_some_and(|k| k.interruption_queue)
    );
    assert!(spec.metadata.tags.is_empty());
    let tag = finding(&conversion, "metadata.tags[\"karpenter.sh/discovery\"]");
    assert_eq!(tag.kind, FindingKind::NotCarriedOver);
    assert!(
        tag.message.contains("instead of `shared-fleet`"),
        "{}",
        tag.message
    );
    // The controller's namespace leaves Fargate; a profile with nothing else goes.
    let names: Vec<&str> = spec
        .spec
        .fargate_profiles
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(names, ["mixed"]);
    assert_eq!(spec.spec.fargate_profiles[0].selectors.len(), 1);
    assert_eq!(
        spec.spec.fargate_profiles[0].selectors[0].namespace,
        "batch"
    );
    for path in ["fargateProfiles[0]", "fargateProfiles[1]"] {
        assert_eq!(
            finding(&conversion, path).kind,
            FindingKind::NotCarriedOver,
            "{path}"
        );
    }
}

#[test]
fn karpenter_s_own_service_account_is_not_declared_twice() {
    let conversion = convert_ok(
        "karpenter: {version: \"1.8.1\"}\nmanagedNodeGroups: [{name: system}]\niam:\n  serviceAccounts:\n    - metadata: {name: karpenter, namespace: karpenter}\n      attachPolicyARNs: [arn:aws:iam::aws:policy/ReadOnlyAccess]\n",
    );
    let spec = spec_of(&conversion);
    assert!(spec.spec.service_accounts.is_empty());
    assert!(
        conversion
            .findings
            .iter()
            .any(|f| f.kind == FindingKind::NotCarriedOver
                && f.message
                    .contains("`karpenter/karpenter` is Karpenter's controller")),
        "{:#?}",
        conversion.findings
    );
}

#[test]
fn an_association_that_is_not_carried_over_needs_no_agent() {
    let conversion = convert_ok(
        "iam:\n  serviceAccounts:\n    - metadata: {name: app, namespace: dev}\n      attachPolicyARNs: [arn:aws:iam::aws:policy/ReadOnlyAccess]\n  podIdentityAssociations:\n    - {namespace: dev, serviceAccountName: app, permissionPolicyARNs: [arn:aws:iam::aws:policy/ReadOnlyAccess]}\n    - {namespace: web, serviceAccountName: app, roleARN: arn:aws:iam::111122223333:role/web}\n",
    );
    let spec = spec_of(&conversion);
    assert!(spec.spec.addons.is_empty(), "{:#?}", spec.spec.addons);
}

#[test]
fn cluster_settings_are_carried_over_and_eksctl_s_extended_default_written_out() {
    let conversion = convert_ok(
        "upgradePolicy: {supportType: STANDARD}\nzonalShiftConfig: {enabled: true}\ncontrolPlaneScalingConfig: {tier: tier-2xl}\n",
    );
    let spec = spec_of(&conversion);
    assert_eq!(
        spec.spec.upgrade_policy.support_type,
        crate::spec::SupportType::Standard
    );
    assert!(spec.spec.zonal_shift);
    assert_eq!(
        spec.spec.control_plane_scaling_tier,
        crate::spec::ControlPlaneScalingTier::Tier2xl
    );
    assert!(
        !conversion
            .findings
            .iter()
            .any(|f| f.path.to_string().starts_with("zonalShiftConfig")),
        "{:#?}",
        conversion.findings
    );

    // Not set: eksctl made the cluster with EXTENDED, and the spec says so.
    let conversion = convert_ok("");
    let spec = spec_of(&conversion);
    assert_eq!(
        spec.spec.upgrade_policy.support_type,
        crate::spec::SupportType::Extended
    );
    assert!(
        conversion
            .spec_yaml
            .contains("upgradePolicy:\n    supportType: EXTENDED"),
        "{}",
        conversion.spec_yaml
    );
    let assumed = finding(&conversion, "upgradePolicy.supportType");
    assert_eq!(assumed.kind, FindingKind::Assumed);
    assert!(assumed.message.contains("ekspec's own default is STANDARD"));

    let conversion = convert_ok("controlPlaneScalingConfig: {tier: tier-16xl}\n");
    assert_eq!(
        finding(&conversion, "controlPlaneScalingConfig.tier").kind,
        FindingKind::NotCarriedOver
    );
}

#[test]
fn the_ip_family_carries_over_and_the_service_cidr_is_reported() {
    let conversion = convert_ok("kubernetesNetworkConfig:\n  ipFamily: IPv6\n");
    assert_eq!(spec_of(&conversion).spec.ip_family, IpFamily::Ipv6);
    assert!(
        conversion.spec_yaml.contains("ipFamily: ipv6"),
        "{}",
        conversion.spec_yaml
    );

    let conversion = convert_ok(
        "kubernetesNetworkConfig:\n  ipFamily: IPv4\n  serviceIPv4CIDR: 172.20.0.0/16\n",
    );
    assert_eq!(spec_of(&conversion).spec.ip_family, IpFamily::Ipv4);
    let cidr = finding(&conversion, "kubernetesNetworkConfig.serviceIPv4CIDR");
    assert_eq!(cidr.kind, FindingKind::NotCarriedOver);
    assert!(
        cidr.message.contains("default service CIDR"),
        "{}",
        cidr.message
    );

    let conversion = convert_ok("kubernetesNetworkConfig:\n  ipFamily: IPv5\n");
    let family = finding(&conversion, "kubernetesNetworkConfig.ipFamily");
    assert!(
        family.message.contains("unknown IP family `IPv5`"),
        "{}",
        family.message
    );
}

#[test]
fn custom_amis_and_pre_bootstrap_commands_are_carried_over() {
    let conversion = convert_ok(
        "managedNodeGroups:\n  - name: a\n    instanceType: m6i.large\n    amiFamily: AmazonLinux2023\n    ami: ami-0123456789abcdef0\n    preBootstrapCommands: [\"echo one\", \"echo two\"]\n    overrideBootstrapCommand: \"#!/bin/bash\\n/etc/eks/bootstrap.sh demo\"\n  - name: b\n    instanceType: m6i.large\n    amiFamily: Bottlerocket\n    ami: ami-0fedcba9876543210\n    preBootstrapCommands: [\"echo three\"]\n  - {name: c, instanceType: m6i.large, amiFamily: AmazonLinux2, ami: ami-0aaaabbbbccccdddd}\n  - {name: d, instanceType: m6i.large, ami: auto-ssm}\n",
    );
    let spec = spec_of(&conversion);
    let groups = &spec.spec.node_groups;
    assert_eq!(groups[0].ami_id.as_deref(), Some("ami-0123456789abcdef0"));
    assert_eq!(groups[0].pre_bootstrap_commands, ["echo one", "echo two"]);
    assert_eq!(
        finding(&conversion, "managedNodeGroups[0].overrideBootstrapCommand").kind,
        FindingKind::NotCarriedOver
    );
    assert_eq!(
        (groups[1].ami_type, groups[1].ami_id.as_deref()),
        (AmiType::BOTTLEROCKET_x86_64, Some("ami-0fedcba9876543210"))
    );
    assert!(groups[1].pre_bootstrap_commands.is_empty());
    let shell = finding(&conversion, "managedNodeGroups[1].preBootstrapCommands");
    assert_eq!(shell.kind, FindingKind::NotCarriedOver);
    let al2 = finding(&conversion, "managedNodeGroups[2].ami");
    assert_eq!(al2.kind, FindingKind::NotCarriedOver);
    assert!(al2.message.contains("AL2_x86_64"), "{}", al2.message);
    assert_eq!(groups[2].ami_id, None);
    assert_eq!(
        finding(&conversion, "managedNodeGroups[3].ami").kind,
        FindingKind::Assumed
    );
    assert_eq!(groups[3].ami_id, None);
}

#[test]
fn node_repair_and_capacity_reservations_are_carried_over() {
    let conversion = convert_ok(
        "managedNodeGroups:
  - name: gpu
    instanceType: m6i.large
    nodeRepairConfig:
      enabled: true
      maxUnhealthyNodeThresholdPercentage: 20
      maxParallelNodesRepairedCount: 2
      nodeRepairConfigOverrides: [{nodeMonitoringCondition: AcceleratedHardwareReady, nodeUnhealthyReason: NvidiaXID13Error, minRepairWaitTimeMins: 10, repairAction: Reboot}]
    capacityReservation:
      capacityReservationTarget: {capacityReservationID: cr-0123456789abcdef0}
    instanceMarketOptions: {marketType: capacity-block}
    availabilityZones: [us-west-2b]
  - name: open
    instanceType: m6i.large
    nodeRepairConfig: {maxParallelNodesRepairedPercentage: 50}
    capacityReservation: {capacityReservationPreference: none}
",
    );
    let spec = spec_of(&conversion);
    let (gpu, open) = (&spec.spec.node_groups[0], &spec.spec.node_groups[1]);
    assert_eq!(
        gpu.node_repair_config,
        Some(NodeRepairConfig {
            enabled: true,
            max_unhealthy_node_threshold_count: None,
            max_unhealthy_node_threshold_percentage: Some(20),
            max_parallel_nodes_repaired_count: Some(2),
            max_parallel_nodes_repaired_percentage: None,
        })
    );
    assert_eq!(
        gpu.capacity_reservation,
        Some(CapacityReservationSpec {
            preference: None,
            id: Some("cr-0123456789abcdef0".into()),
            resource_group_arn: None,
        })
    );
    // eksctl's Capacity Block (eksctl-io/eksctl#8207): market type, reservation and zone.
    assert_eq!(gpu.capacity_type, CapacityType::CapacityBlock);
    assert_eq!(gpu.availability_zones, ["us-west-2b"]);
    assert_eq!(
        finding(
            &conversion,
            "managedNodeGroups[0].nodeRepairConfig.nodeRepairConfigOverrides"
        )
        .kind,
        FindingKind::NotCarriedOver
    );
    // eksctl leaves `enabled` unset: ekspec writes EKS's default and says so.
    assert_eq!(open.node_repair_config.map(|r| r.enabled), Some(false));
    assert_eq!(
        finding(&conversion, "managedNodeGroups[1].nodeRepairConfig.enabled").kind,
        FindingKind::Assumed
    );
    assert_eq!(
        open.capacity_reservation
            .as_ref()
            .and_then(|c| c.preference),
        Some(CapacityReservationPreference::None)
    );
}

#[test]
fn a_market_type_other_than_a_capacity_blocks_is_not_carried_over() {
    let conversion = convert_ok(
        "managedNodeGroups:
  - name: spotty
    instanceType: m6i.large
    instanceMarketOptions: {marketType: spot}
",
    );
    let spec = spec_of(&conversion);
    assert_eq!(
        spec.spec.node_groups[0].capacity_type,
        CapacityType::OnDemand
    );
    let lost = finding(
        &conversion,
        "managedNodeGroups[0].instanceMarketOptions.marketType",
    );
    assert_eq!(lost.kind, FindingKind::NotCarriedOver);
    assert!(lost.message.contains("capacity-block"), "{}", lost.message);
}
