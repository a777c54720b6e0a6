//! Names the commit ekspec is built from, for `ekspec --version`: `EKSPEC_COMMIT` when the
//! build sets it (a release job, a container build without `.git`), else the checkout's HEAD,
//! else the commit `cargo package` recorded in `.cargo_vcs_info.json` (a crates.io build).

use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=EKSPEC_COMMIT");
    let commit = std::env::var("EKSPEC_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .or_else(git_head)
        .or_else(packaged_commit)
        .unwrap_or_else(|| "unknown commit".to_owned());
    println!("cargo:rustc-env=EKSPEC_COMMIT={}", commit.trim());
}

/// HEAD of the git checkout the build runs in (12 hex digits), and a rerun when it moves.
fn git_head() -> Option<String> {
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|out| out.status.success())
            .and_then(|out| String::from_utf8(out.stdout).ok())
            .map(|text| text.trim().to_owned())
    };
    let commit = git(&["rev-parse", "--short=12", "HEAD"])?;
    // HEAD names a branch whose ref file (or packed-refs) moves with each commit.
    for path in ["HEAD", "packed-refs"] {
        if let Some(file) = git(&["rev-parse", "--git-path", path]) {
            println!("cargo:rerun-if-changed={file}");
        }
    }
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"])
        && let Some(file) = git(&["rev-parse", "--git-path", &branch])
    {
        println!("cargo:rerun-if-changed={file}");
    }
    Some(commit)
}

/// The commit `cargo package` wrote into the package. The rerun line matters where the
/// package's build shares a target directory with a checkout's (`cargo package` verifies the
/// package there): without it the checkout's build would keep this commit forever, since the
/// only other rerun condition is `EKSPEC_COMMIT`.
fn packaged_commit() -> Option<String> {
    println!("cargo:rerun-if-changed=.cargo_vcs_info.json");
    let text = std::fs::read_to_string(Path::new(".cargo_vcs_info.json")).ok()?;
    let start = text.find("\"sha1\"")?;
    let rest = &text[start + "\"sha1\"".len()..];
    let value = rest.split('"').nth(1)?;
    Some(value.chars().take(12).collect())
}
