//! The migration a new user tries first: an eksctl config converted with `ekspec import
//! eksctl`, applied against strict moto, its cluster read back with `ekspec export`, and the
//! two specs compared field by field. Everything the import carried over comes back; the few
//! differences are how export writes a spec (defaults left out, lists in name order, add-on
//! versions pinned), each undone below with its reason, and `plan` of the export is a no-op.

use ekspec::spec::{ClusterFile, parse_str};

use crate::e2e::Emulated;
use crate::support::repo;

fn parsed(name: &str, text: &str) -> ClusterFile {
    let report = parse_str(name, text);
    report
        .spec
        .unwrap_or_else(|| panic!("{name} does not validate: {:#?}", report.diagnostics))
}

/// What a spec says, without the ways of writing the same thing: lists that are sets in name
/// order, node group sizes after their defaults, commands as the lines the user data holds.
fn normalized(mut file: ClusterFile) -> ClusterFile {
    let spec = &mut file.spec;
    spec.node_groups.sort_by(|a, b| a.name.cmp(&b.name));
    for group in &mut spec.node_groups {
        let scaling = group.scaling();
        group.min_size = Some(scaling.min);
        group.max_size = Some(scaling.max);
        group.desired_size = Some(scaling.desired);
        // A command with a line break is one line each in the user data, and read back so.
        group.pre_bootstrap_commands = group
            .pre_bootstrap_commands
            .join("\n")
            .lines()
            .map(str::to_owned)
            .collect();
    }
    spec.addons.sort_by(|a, b| a.name.cmp(&b.name));
    spec.fargate_profiles.sort_by(|a, b| a.name.cmp(&b.name));
    spec.service_accounts
        .sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    spec.access_entries
        .sort_by(|a, b| a.principal_arn.cmp(&b.principal_arn));
    file
}

#[test]
fn an_imported_eksctl_config_applied_and_exported_gives_back_the_import() {
    let aws = Emulated::start();
    let eksctl = repo().join("tests/fixtures/import-export/eksctl.yaml");
    let imported = aws.spec("imported.yaml", "");
    std::fs::remove_file(&imported).unwrap();
    aws.expect(
        0,
        &[
            "import",
            "eksctl",
            &eksctl.to_string_lossy(),
            "-o",
            &imported,
        ],
    );
    aws.expect(0, &["apply", "-f", &imported, "--auto-approve"]);
    let exported = aws.spec("exported.yaml", "");
    std::fs::remove_file(&exported).unwrap();
    let out = aws.expect(
        0,
        &[
            "export",
            "--name",
            "shop",
            "--region",
            "us-east-1",
            "-o",
            &exported,
        ],
    );
    // The one live thing not from the config: the cluster creator's access entry.
    assert!(
        out.stderr.contains("1 live setting left out")
            && out.stderr.contains("the cluster creator's entry is one"),
        "{}",
        out.stderr
    );
    let plan = aws.expect(0, &["plan", "-f", &exported, "--detailed-exitcode"]);
    assert_eq!(plan.stdout.trim(), "No changes.");

    let imported_text = std::fs::read_to_string(&imported).unwrap();
    let exported_text = std::fs::read_to_string(&exported).unwrap();
    let mut want = normalized(parsed("imported.yaml", &imported_text));
    let mut got = normalized(parsed("exported.yaml", &exported_text));

    // The VPC: the import spells out eksctl's zones (the region's first three) and its single
    // NAT gateway; both are the spec's defaults, which export leaves out.
    assert_eq!(
        want.spec.vpc.availability_zones.as_deref(),
        Some(&["us-east-1a", "us-east-1b", "us-east-1c"].map(String::from)[..])
    );
    assert_eq!(
        (
            got.spec.vpc.availability_zones.as_ref(),
            got.spec.vpc.zone_count,
            got.spec.vpc.nat_gateway
        ),
        (None, None, None),
        "{exported_text}"
    );
    want.spec.vpc.availability_zones = None;
    want.spec.vpc.nat_gateway = None;
    // Add-ons the config left to EKS's default are pinned to the version running.
    for addon in &mut got.spec.addons {
        let pinned_by_user = want
            .spec
            .addons
            .iter()
            .any(|a| a.name == addon.name && a.version.is_some());
        if !pinned_by_user {
            assert!(addon.version.is_some(), "{exported_text}");
            addon.version = None;
        }
    }
    assert_eq!(
        want, got,
        "imported:\n{imported_text}\nexported:\n{exported_text}"
    );
}
