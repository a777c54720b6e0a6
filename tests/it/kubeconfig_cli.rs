//! `ekspec token` and `ekspec kubeconfig` through the real binary: offline checks of the token
//! and the errors, then a cluster applied to moto, its context written into a kubeconfig that
//! already holds other entries, and the credential plugin run as kubectl would run it.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use serde_json::Value;
use tempfile::TempDir;

use crate::e2e::{Emulated, small};
use crate::support::{Ekspec, Output};

/// ekspec with static test credentials and nothing else of the machine's AWS setup (an empty
/// HOME: no ~/.aws).
fn offline(args: &[&str], home: &Path) -> Ekspec {
    Ekspec::new(args)
        .env("HOME", &home.to_string_lossy())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ACCESS_KEY_ID", "AKIDTESTING")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
}

fn expect(code: i32, out: Output) -> Output {
    assert_eq!(out.code, code, "{out:?}");
    out
}

/// The presigned URL inside a token.
fn url_of(token: &str) -> String {
    let encoded = token
        .strip_prefix("k8s-aws-v1.")
        .unwrap_or_else(|| panic!("no k8s-aws-v1. prefix: {token}"));
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(encoded)
        .unwrap();
    String::from_utf8(bytes).unwrap()
}

/// Checks an ExecCredential as kubectl reads it; returns its decoded URL.
fn check_credential(stdout: &str, api_version: &str, region: &str) -> String {
    let credential: Value = serde_json::from_str(stdout).unwrap();
    assert_eq!(credential["kind"], "ExecCredential");
    assert_eq!(credential["apiVersion"], api_version);
    assert_eq!(credential["spec"], serde_json::json!({}));
    let expires = humantime::parse_rfc3339(
        credential["status"]["expirationTimestamp"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    let now = SystemTime::now();
    assert!(
        expires > now + Duration::from_secs(13 * 60)
            && expires <= now + Duration::from_secs(14 * 60),
        "{stdout}"
    );
    let url = url_of(credential["status"]["token"].as_str().unwrap());
    let prefix = format!(
        "https://sts.{region}.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential="
    );
    assert!(url.starts_with(&prefix), "{url}");
    assert!(
        url.contains("&X-Amz-Expires=60&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id&"),
        "{url}"
    );
    assert!(url.contains("&X-Amz-Signature="), "{url}");
    url
}

#[test]
fn token_prints_an_exec_credential_offline() {
    let home = TempDir::new().unwrap();
    let out = expect(
        0,
        offline(
            &["token", "--cluster", "demo", "--region", "eu-west-1"],
            home.path(),
        )
        .run(),
    );
    let url = check_credential(
        &out.stdout,
        "client.authentication.k8s.io/v1beta1",
        "eu-west-1",
    );
    assert!(
        url.contains("X-Amz-Credential=AKIDTESTING%2F")
            && url.contains("%2Feu-west-1%2Fsts%2Faws4_request&"),
        "{url}"
    );
    assert!(!url.contains("Security-Token"), "{url}");
    assert_eq!(out.stderr, "");

    // kubectl says which API version it wants; the region may come from the environment.
    let out = expect(
        0,
        offline(&["token", "--cluster", "demo"], home.path())
            .env("AWS_REGION", "ap-southeast-2")
            .env("AWS_SESSION_TOKEN", "session+token/=")
            .env(
                "KUBERNETES_EXEC_INFO",
                r#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false}}"#,
            )
            .run(),
    );
    let url = check_credential(
        &out.stdout,
        "client.authentication.k8s.io/v1",
        "ap-southeast-2",
    );
    assert!(
        url.contains("&X-Amz-Security-Token=session%2Btoken%2F%3D&"),
        "{url}"
    );
}

#[test]
fn token_errors_say_what_is_missing() {
    let home = TempDir::new().unwrap();
    let out = expect(
        1,
        offline(&["token", "--cluster", "demo"], home.path()).run(),
    );
    assert!(
        out.stderr
            .contains("no region for the token: pass --region"),
        "{}",
        out.stderr
    );

    let out = expect(
        1,
        offline(
            &["token", "--cluster", "demo", "--region", "mars-north-1 x"],
            home.path(),
        )
        .run(),
    );
    assert!(
        out.stderr
            .contains("no STS endpoint for region `mars-north-1 x`"),
        "{}",
        out.stderr
    );

    let out = expect(
        1,
        Ekspec::new(&["token", "--cluster", "demo", "--region", "eu-west-1"])
            .env("HOME", &home.path().to_string_lossy())
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .run(),
    );
    assert!(
        out.stderr.contains("no AWS credentials found") && out.stdout.is_empty(),
        "{out:?}"
    );

    // Nothing listens on the discard port: assuming the role fails, saying which call and why.
    let out = expect(
        1,
        offline(
            &[
                "token",
                "--cluster",
                "demo",
                "--region",
                "eu-west-1",
                "--role-arn",
                "arn:aws:iam::123456789012:role/x",
            ],
            home.path(),
        )
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .run(),
    );
    assert!(
        out.stderr
            .contains("AssumeRole role arn:aws:iam::123456789012:role/x: could not reach AWS"),
        "{}",
        out.stderr
    );

    let out = expect(
        1,
        offline(&["token", "--region", "eu-west-1"], home.path()).run(),
    );
    assert!(out.stderr.contains("--cluster"), "{}", out.stderr);
}

#[test]
fn kubeconfig_refuses_a_file_that_is_no_kubeconfig_before_calling_aws() {
    let home = TempDir::new().unwrap();
    let path = home.path().join("config");
    std::fs::write(&path, "clusters: {not: a list}\n").unwrap();
    let out = expect(
        1,
        offline(
            &["kubeconfig", "--name", "demo", "--region", "eu-west-1"],
            home.path(),
        )
        .env("KUBECONFIG", &path.to_string_lossy())
        // Nothing listens here: the error must come before any AWS call.
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .run(),
    );
    assert!(
        out.stderr.contains(&format!(
            "{}: `clusters` is a mapping, not a list",
            path.display()
        )),
        "{}",
        out.stderr
    );
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "clusters: {not: a list}\n"
    );

    let out = expect(
        1,
        offline(&["kubeconfig", "--name", "demo"], home.path()).run(),
    );
    assert!(
        out.stderr.contains("--name needs --region"),
        "{}",
        out.stderr
    );
}

#[test]
fn help_shows_examples() {
    for command in ["token", "kubeconfig"] {
        let out = expect(0, Ekspec::new(&[command, "--help"]).run());
        assert!(
            out.stdout.contains("Examples:"),
            "{command}: {}",
            out.stdout
        );
        assert!(
            out.stdout.contains(&format!("ekspec {command} ")),
            "{}",
            out.stdout
        );
    }
}

/// A kubeconfig someone already uses: another cluster and a stale entry for ours.
const EXISTING: &str = "apiVersion: v1
kind: Config
clusters:
- name: kind-dev
  cluster: {server: 'https://127.0.0.1:6443', certificate-authority-data: a2luZA==}
- name: arn:aws:eks:us-east-1:123456789012:cluster/kc
  cluster: {server: 'https://stale.example.com'}
users:
- name: kind-dev
  user: {token: dev-token}
contexts:
- name: kind-dev
  context: {cluster: kind-dev, user: kind-dev, namespace: web}
current-context: kind-dev
preferences: {}
x-team-tool: {owner: platform}
";

fn load(path: &Path) -> Value {
    serde_saphyr::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn named<'v>(config: &'v Value, key: &str, name: &str) -> &'v Value {
    config[key]
        .as_array()
        .unwrap()
        .iter()
        .find(|item| item["name"] == name)
        .unwrap_or_else(|| panic!("no {key} entry {name} in {config:#}"))
}

fn real(path: &str) -> PathBuf {
    std::fs::canonicalize(path).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn kubeconfig_and_token_for_a_cluster_on_moto() {
    let aws = Emulated::start();
    let spec = aws.spec("kc.yaml", &small("kc", "10.40.0.0/16"));
    let expect_aws = |code: i32, command: Ekspec| expect(code, command.run());
    aws.expect(0, &["apply", "-f", &spec, "--auto-approve"]);
    let inventory = aws.inventory("us-east-1").await;
    let live = inventory
        .eks
        .describe_cluster()
        .name("kc")
        .send()
        .await
        .unwrap();
    let live = live.cluster().unwrap();
    let arn = live.arn().unwrap();
    let endpoint = live.endpoint().unwrap();
    let ca = live.certificate_authority().unwrap().data().unwrap();

    // KUBECONFIG names two files: ekspec writes to the first, like kubectl.
    let dir = TempDir::new().unwrap();
    let (first, second) = (dir.path().join("first"), dir.path().join("second"));
    std::fs::write(&first, EXISTING).unwrap();
    let kubeconfig_env = std::env::join_paths([&first, &second]).unwrap();
    let kubeconfig_env = kubeconfig_env.to_string_lossy();
    let with_env = |args: &[&str]| {
        aws.command(&aws.endpoint(), args)
            .env("KUBECONFIG", &kubeconfig_env)
    };

    let out = expect_aws(0, with_env(&["kubeconfig", "-f", &spec]));
    assert_eq!(
        out.stdout.trim(),
        format!(
            "Added context `{arn}` to {}; it is the current context.",
            first.display()
        )
    );
    assert!(!second.exists());
    let before: Value = serde_saphyr::from_str(EXISTING).unwrap();
    let config = load(&first);
    for key in ["clusters", "users", "contexts"] {
        assert_eq!(
            named(&config, key, "kind-dev"),
            named(&before, key, "kind-dev")
        );
        // The stale cluster entry of the same ARN is replaced, not repeated.
        assert_eq!(config[key].as_array().unwrap().len(), 2, "{config:#}");
    }
    assert_eq!(config["x-team-tool"], before["x-team-tool"]);
    assert_eq!(config["current-context"], arn);
    let cluster = &named(&config, "clusters", arn)["cluster"];
    assert_eq!(cluster["server"], endpoint);
    assert_eq!(cluster["certificate-authority-data"], ca);
    let context = &named(&config, "contexts", arn)["context"];
    assert_eq!(context["cluster"], arn);
    assert_eq!(context["user"], arn);
    let exec = &named(&config, "users", arn)["user"]["exec"];
    assert_eq!(exec["apiVersion"], "client.authentication.k8s.io/v1beta1");
    let command = exec["command"].as_str().unwrap();
    assert_eq!(real(command), real(env!("CARGO_BIN_EXE_ekspec")));
    let args: Vec<&str> = exec["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(args, ["token", "--cluster", "kc", "--region", "us-east-1"]);

    // Again: nothing to do, the file is untouched.
    let written = std::fs::read(&first).unwrap();
    let out = expect_aws(0, with_env(&["kubeconfig", "-f", &spec]));
    assert!(
        out.stdout.contains("is up to date and current"),
        "{}",
        out.stdout
    );
    assert_eq!(std::fs::read(&first).unwrap(), written);

    // The plugin, run as kubectl runs it: no emulator needed, dummy credentials are enough.
    let home = TempDir::new().unwrap();
    let out = expect(
        0,
        offline(&args, home.path())
            .env(
                "KUBERNETES_EXEC_INFO",
                r#"{"apiVersion":"client.authentication.k8s.io/v1beta1","spec":{"interactive":false}}"#,
            )
            .run(),
    );
    check_credential(
        &out.stdout,
        "client.authentication.k8s.io/v1beta1",
        "us-east-1",
    );

    // A new file, a context name of one's own, a role, JSON output.
    let fresh = dir.path().join("new/config");
    let out = expect_aws(
        0,
        aws.command(
            &aws.endpoint(),
            &[
                "kubeconfig",
                "-f",
                &spec,
                "--kubeconfig",
                &fresh.to_string_lossy(),
                "--context",
                "kc",
                "--role-arn",
                "arn:aws:iam::123456789012:role/kc-admin",
                "--output",
                "json",
            ],
        ),
    );
    let report: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(report["change"], "added");
    assert_eq!(report["context"], "kc");
    assert_eq!(report["cluster"], arn);
    let config = load(&fresh);
    assert_eq!(config["current-context"], "kc");
    assert_eq!(named(&config, "contexts", "kc")["context"]["cluster"], arn);
    assert_eq!(
        named(&config, "users", arn)["user"]["exec"]["args"][5],
        "--role-arn"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&fresh).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // --role-arn: the token is signed with the assumed role's session credentials.
    let out = expect_aws(
        0,
        aws.command(
            &aws.endpoint(),
            &[
                "token",
                "--cluster",
                "kc",
                "--region",
                "us-east-1",
                "--role-arn",
                "arn:aws:iam::123456789012:role/kc-admin",
            ],
        ),
    );
    let url = check_credential(
        &out.stdout,
        "client.authentication.k8s.io/v1beta1",
        "us-east-1",
    );
    assert!(!url.contains("X-Amz-Credential=testing%2F"), "{url}");
    assert!(url.contains("&X-Amz-Security-Token="), "{url}");

    // A cluster that does not exist: a clear error, the file untouched.
    let out = expect_aws(
        1,
        with_env(&["kubeconfig", "--name", "nope", "--region", "us-east-1"]),
    );
    assert!(
        out.stderr
            .contains("cluster `nope` does not exist in us-east-1"),
        "{}",
        out.stderr
    );
    assert_eq!(std::fs::read(&first).unwrap(), written);
}
