//! `ekspec import eksctl`: golden conversions of realistic eksctl configs, each validated by
//! ekspec's own checks, and the command's output, exit codes and `-o`.
//!
//! `EKSPEC_BLESS=1 cargo test --test it import_eksctl` rewrites the golden files; review the diff.

use std::path::{Path, PathBuf};

use crate::support::{Ekspec, golden, repo};

const FIXTURES: &str = "tests/fixtures/eksctl";

/// Every fixture folder: `cluster.yaml` in, `expected.yaml` and `expected-report.txt` out.
fn fixtures() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(repo().join(FIXTURES))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_dir())
        .collect();
    dirs.sort();
    dirs
}

fn relative(dir: &Path, file: &str) -> String {
    format!(
        "{FIXTURES}/{}/{file}",
        dir.file_name().unwrap().to_string_lossy()
    )
}

#[test]
fn fixtures_convert_to_the_expected_specs_and_reports() {
    let dirs = fixtures();
    assert!(dirs.len() >= 5, "{dirs:?}");
    for dir in dirs {
        let input = relative(&dir, "cluster.yaml");
        let text = std::fs::read_to_string(repo().join(&input)).unwrap();
        let conversion = ekspec::import::eksctl::convert(&input, &text)
            .unwrap_or_else(|e| panic!("{input}: {e}"));
        golden(&dir.join("expected.yaml"), &conversion.spec_yaml);
        golden(&dir.join("expected-report.txt"), &conversion.report(&input));
        let report = ekspec::spec::parse_str(&input, &conversion.spec_yaml);
        assert!(
            !report.has_errors(),
            "{input}: the imported spec does not validate: {:#?}",
            report.diagnostics
        );
    }
}

#[test]
fn the_cli_prints_the_spec_and_the_report() {
    for dir in fixtures() {
        let input = relative(&dir, "cluster.yaml");
        let out = Ekspec::new(&["import", "eksctl", &input]).run();
        assert_eq!(out.code, 0, "{input}: {}", out.stderr);
        let expected = std::fs::read_to_string(dir.join("expected.yaml")).unwrap();
        assert_eq!(out.stdout, expected, "{input}");
        let report = std::fs::read_to_string(dir.join("expected-report.txt")).unwrap();
        assert!(out.stderr.starts_with(&report), "{input}: {}", out.stderr);
        // After the report only ekspec's own warnings about the result may follow.
        let rest = &out.stderr[report.len()..];
        assert!(
            rest.is_empty() || rest.starts_with(&format!("{input}:")),
            "{input}: {rest}"
        );
    }
}

#[test]
fn out_writes_a_file_and_refuses_to_overwrite_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("prod.yaml");
    let target_arg = target.to_str().unwrap();
    let input = format!("{FIXTURES}/production/cluster.yaml");
    let expected =
        std::fs::read_to_string(repo().join(FIXTURES).join("production/expected.yaml")).unwrap();

    let out = Ekspec::new(&["import", "eksctl", &input, "-o", target_arg]).run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        format!("wrote {target_arg}; next: ekspec validate -f {target_arg}\n")
    );
    assert!(
        out.stderr.contains("imported cluster `prod`"),
        "{}",
        out.stderr
    );
    assert_eq!(std::fs::read_to_string(&target).unwrap(), expected);

    std::fs::write(&target, "keep me\n").unwrap();
    let out = Ekspec::new(&["import", "eksctl", &input, "-o", target_arg]).run();
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains(&format!(
            "{target_arg} already exists; pass --force to overwrite it"
        )),
        "{}",
        out.stderr
    );
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me\n");

    let out = Ekspec::new(&["import", "eksctl", &input, "-o", target_arg, "--force"]).run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(std::fs::read_to_string(&target).unwrap(), expected);

    let written = Ekspec::new(&["validate", "-f", target_arg]).run();
    assert_eq!(written.code, 0, "{}", written.stderr);
}

/// eksctl's Pod Identity and Karpenter configs import into specs `ekspec validate` accepts,
/// including one eksctl itself would refuse for lack of the Pod Identity agent add-on.
#[test]
fn pod_identity_and_karpenter_imports_validate() {
    let dir = tempfile::tempdir().unwrap();
    let bare = dir.path().join("no-agent.yaml");
    std::fs::write(
        &bare,
        "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata: {name: pia, region: eu-west-1, version: \"1.32\"}\nmanagedNodeGroups: [{name: ng}]\niam:\n  podIdentityAssociations:\n    - namespace: web\n      serviceAccountName: app\n      permissionPolicyARNs: [arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess]\n",
    )
    .unwrap();
    let inputs = [
        format!("{FIXTURES}/pod-identity/cluster.yaml"),
        format!("{FIXTURES}/karpenter/cluster.yaml"),
        bare.to_str().unwrap().to_owned(),
    ];
    for (i, input) in inputs.iter().enumerate() {
        let target = dir.path().join(format!("imported-{i}.yaml"));
        let target = target.to_str().unwrap();
        let out = Ekspec::new(&["import", "eksctl", input, "-o", target]).run();
        assert_eq!(out.code, 0, "{input}: {}", out.stderr);
        let written = std::fs::read_to_string(target).unwrap();
        assert!(
            written.contains("- name: eks-pod-identity-agent"),
            "{input}:\n{written}"
        );
        assert!(
            written.contains("mechanism: podIdentity") || written.contains("karpenter:"),
            "{input}:\n{written}"
        );
        let validated = Ekspec::new(&["validate", "-f", target]).run();
        assert_eq!(validated.code, 0, "{input}: {}", validated.stderr);
        assert!(
            validated.stdout.contains(": valid (cluster `"),
            "{input}: {}",
            validated.stdout
        );
    }
    let out = Ekspec::new(&["import", "eksctl", inputs[2].as_str()]).run();
    assert!(
        out.stderr.contains(
            "assumed: iam.podIdentityAssociations[0]: the `eks-pod-identity-agent` add-on is added to spec.addons"
        ),
        "{}",
        out.stderr
    );
}

/// Imports the eksctl config `text`, written as `name` in a folder of its own, which must be
/// refused: exit 1, nothing on stdout. Returns the file's path and stderr.
fn refused(name: &str, text: &str) -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    let path = path.to_string_lossy().into_owned();
    let out = Ekspec::new(&["import", "eksctl", &path]).run();
    assert_eq!(out.code, 1, "{name}: {}", out.stderr);
    assert!(out.stdout.is_empty(), "{name}: {}", out.stdout);
    (path, out.stderr)
}

#[test]
fn unreadable_input_exits_1_with_file_line_and_column() {
    let cases = [
        (
            "broken.yaml",
            "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata: {name: a\n",
            ":3:11: error: invalid YAML: unclosed bracket",
        ),
        (
            "types.yaml",
            "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata: {name: a, region: us-east-1}\nmanagedNodeGroups:\n  - name: ng\n    maxSize: many\n",
            ":6:14: error: managedNodeGroups[0].maxSize: invalid type: string \"many\", expected u32",
        ),
        (
            "pod.yaml",
            "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n",
            ":2:7: error: not an eksctl ClusterConfig: kind is `Pod`, expected `ClusterConfig`",
        ),
    ];
    for (name, text, message) in cases {
        let (path, stderr) = refused(name, text);
        assert!(
            stderr.starts_with(&format!("{path}{message}")),
            "{name}: {stderr}"
        );
    }

    let out = Ekspec::new(&["import", "eksctl", "examples/minimal.yaml"]).run();
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("already an ekspec spec"),
        "{}",
        out.stderr
    );

    let out = Ekspec::new(&["import", "eksctl", "no/such/file.yaml"]).run();
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("cannot read no/such/file.yaml"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_result_that_does_not_validate_is_shown_at_the_eksctl_lines_it_came_from() {
    let (input, stderr) = refused(
        "al2.yaml",
        "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata:\n  name: al2\n  region: us-east-1\n  version: \"1.33\"\nmanagedNodeGroups:\n  - name: old\n    amiFamily: AmazonLinux2\n",
    );
    assert!(
        stderr.contains(&format!(
            "{input}:9:16: error: spec.nodeGroups[0].amiType (from managedNodeGroups[0].amiFamily): EKS publishes no Amazon Linux 2 AMIs for Kubernetes 1.33"
        )),
        "{stderr}"
    );
    // The source line shown is the eksctl file's.
    assert!(
        stderr.contains("9 |     amiFamily: AmazonLinux2"),
        "{stderr}"
    );
    assert!(!stderr.contains("(imported spec)"), "{stderr}");
    assert!(
        stderr.contains("error: the imported spec does not validate, so it is not written"),
        "{stderr}"
    );
}

#[test]
fn a_version_newer_than_ekspec_knows_is_imported_with_a_warning_at_its_line() {
    // EKS releases a minor about every four months: a config on one newer than this release
    // knows is imported (plan asks EKS whether it offers it), with a warning at its line.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.yaml");
    std::fs::write(
        &path,
        "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata: {name: new, region: us-east-1, version: \"1.90\"}\n",
    )
    .unwrap();
    let input = path.to_string_lossy().into_owned();
    let out = Ekspec::new(&["import", "eksctl", &input]).run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "{input}:3:51: warning: spec.kubernetesVersion (from metadata.version): Kubernetes 1.90 is newer than the versions this release of ekspec knows"
        )),
        "{}",
        out.stderr
    );
    assert!(
        out.stdout.contains("kubernetesVersion: '1.90'")
            || out.stdout.contains("kubernetesVersion: \"1.90\""),
        "{}",
        out.stdout
    );
}

#[test]
fn a_version_eks_dropped_is_refused_at_its_line() {
    let (input, stderr) = refused(
        "old.yaml",
        "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata: {name: old, region: us-east-1, version: \"1.21\"}\n",
    );
    assert!(
        stderr.contains(&format!(
            "{input}:3:51: error: metadata.version: Kubernetes 1.21 is no longer supported by EKS"
        )),
        "{stderr}"
    );
    assert!(stderr.contains("help: set `version: \"1.28\"`"), "{stderr}");
}

#[test]
fn help_shows_examples() {
    let out = Ekspec::new(&["import", "eksctl", "--help"]).run();
    assert_eq!(out.code, 0);
    assert!(
        out.stdout
            .contains("ekspec import eksctl cluster.yaml -o clusters/prod.yaml"),
        "{}",
        out.stdout
    );
}
