//! Missing or unloadable credentials: every command that calls AWS says what is missing and
//! the ways to provide credentials, once, without the SDK's debug dump, and exits 1.

use tempfile::TempDir;

use crate::moto::MotoServer;
use crate::support::{Ekspec, Output, repo};

/// The ways the hint lists, one a line.
const WAYS: [&str; 4] = [
    "    - environment variables: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
    "    - a profile from ~/.aws/credentials or ~/.aws/config: --profile",
    "    - SSO: `aws sso login --profile",
    "    - a role: a profile with role_arn and source_profile, or AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE",
];

/// ekspec with no credentials anywhere: no AWS_* variables (`Ekspec::new` removes them), a
/// HOME of its own, no instance metadata.
fn without_credentials(home: &TempDir, endpoint: &str, args: &[&str]) -> Output {
    Ekspec::new(args)
        .env("HOME", &home.path().to_string_lossy())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ENDPOINT_URL", endpoint)
        .run()
}

/// Exit 1, nothing on stdout, and one error naming the failure, then the ways to fix it;
/// no permission hint (nothing reached AWS) and none of the SDK's `Debug` text or log lines.
fn assert_says_how_to_provide_credentials(out: &Output, first_line: &str, args: &[&str]) {
    assert_eq!(out.code, 1, "{args:?}: {out:?}");
    assert!(out.stdout.is_empty(), "{args:?}: {out:?}");
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert!(
        lines.first().is_some_and(|l| l.starts_with(first_line)),
        "{args:?}:\n{}",
        out.stderr
    );
    assert_eq!(
        lines.get(1),
        Some(&"  hint: provide AWS credentials in one of these ways:"),
        "{args:?}:\n{}",
        out.stderr
    );
    for (line, way) in lines[2..].iter().zip(WAYS) {
        assert!(line.starts_with(way), "{args:?}: `{line}` is not `{way}`");
    }
    assert_eq!(lines.len(), 2 + WAYS.len(), "{args:?}:\n{}", out.stderr);
    for noise in [
        "permission",
        "ProviderError",
        "CredentialsNotLoaded",
        "WARN",
        "{",
    ] {
        assert!(
            !out.stderr.contains(noise),
            "{args:?}: `{noise}` in\n{}",
            out.stderr
        );
    }
}

#[test]
fn every_command_that_calls_aws_says_how_to_provide_missing_credentials() {
    let moto = MotoServer::strict();
    let home = TempDir::new().unwrap();
    let spec = repo().join("clusters/demo.yaml");
    let spec = spec.to_string_lossy();
    let karpenter = repo().join("examples/karpenter.yaml");
    let commands: [&[&str]; 8] = [
        &["plan", "-f", &spec],
        &["apply", "-f", &spec, "--auto-approve"],
        &["delete", "-f", &spec, "--auto-approve"],
        &["get", "-f", &spec],
        &["export", "--name", "demo", "--region", "us-east-1"],
        &["kubeconfig", "--name", "demo", "--region", "us-east-1"],
        &["token", "--cluster", "demo", "--region", "us-east-1"],
        &["karpenter", "values", &karpenter.to_string_lossy()],
    ];
    for args in commands {
        let out = without_credentials(&home, &moto.endpoint(), args);
        assert_says_how_to_provide_credentials(
            &out,
            "error: no AWS credentials found: none in the environment, in the default profile (~/.aws/config, ~/.aws/credentials)",
            args,
        );
    }
}

#[test]
fn an_sso_profile_without_a_login_says_which_profile_and_how_to_log_in() {
    let moto = MotoServer::strict();
    let home = TempDir::new().unwrap();
    std::fs::create_dir(home.path().join(".aws")).unwrap();
    std::fs::write(
        home.path().join(".aws/config"),
        "[profile work]\nsso_start_url = https://example.awsapps.com/start\nsso_region = us-east-1\n\
         sso_account_id = 111122223333\nsso_role_name = Admin\nregion = us-east-1\n",
    )
    .unwrap();
    let spec = repo().join("clusters/demo.yaml");
    let args = ["plan", "-f", &spec.to_string_lossy(), "--profile", "work"];
    let out = without_credentials(&home, &moto.endpoint(), &args);
    assert_says_how_to_provide_credentials(
        &out,
        "error: could not load the AWS credentials of profile `work`: failed to read",
        &args,
    );
    assert!(
        out.stderr
            .contains("    - SSO: `aws sso login --profile work`, then --profile work"),
        "{}",
        out.stderr
    );

    let args = [
        "plan",
        "-f",
        &spec.to_string_lossy(),
        "--profile",
        "nowhere",
    ];
    let out = without_credentials(&home, &moto.endpoint(), &args);
    assert_says_how_to_provide_credentials(
        &out,
        "error: no AWS credentials found: none in the environment, and profile `nowhere` is not in ~/.aws/config",
        &args,
    );
}
