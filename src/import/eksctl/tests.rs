use super::*;

fn config(body: &str) -> String {
    format!(
        "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata:\n  name: demo\n  region: us-east-1\n  version: \"1.31\"\n{body}"
    )
}

fn convert_ok(body: &str) -> Conversion {
    match convert("cluster.yaml", &config(body)) {
        Ok(conversion) => conversion,
        Err(error) => panic!("{error}"),
    }
}

fn spec_of(conversion: &Conversion) -> ClusterFile {
    let report = spec::parse_str("out", &conversion.spec_yaml);
    match report.spec {
        Some(spec) => spec,
        None => panic!("{:#?}\n{}", report.diagnostics, conversion.spec_yaml),
    }
}

fn finding<'c>(conversion: &'c Conversion, path: &str) -> &'c Finding {
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
