//! The GitHub Action's installer (action/install.sh) against a release laid out as the release
//! workflow publishes it: it installs a matching archive and refuses one whose checksum does
//! not match, installing nothing.

use std::path::Path;
use std::process::{Command, Output};

use crate::support::repo;

const TARGET: &str = "x86_64-unknown-linux-musl";

/// A release `v0.2.0` under `dir` with one archive (`ekspec-<target>/ekspec` inside, as
/// cargo-dist packs it) and its `.sha256`; returns the archive's path.
fn publish(dir: &Path, binary: &str) -> std::path::PathBuf {
    let release = dir.join("v0.2.0");
    let staging = dir.join("staging").join(format!("ekspec-{TARGET}"));
    std::fs::create_dir_all(&release).unwrap();
    std::fs::create_dir_all(&staging).unwrap();
    let program = staging.join("ekspec");
    std::fs::write(&program, binary).unwrap();
    let chmod = Command::new("chmod")
        .arg("755")
        .arg(&program)
        .status()
        .unwrap();
    assert!(chmod.success());
    let archive = release.join(format!("ekspec-{TARGET}.tar.xz"));
    let tar = Command::new("tar")
        .arg("-cJf")
        .arg(&archive)
        .arg("-C")
        .arg(dir.join("staging"))
        .arg(format!("ekspec-{TARGET}"))
        .status()
        .unwrap();
    assert!(tar.success());
    let sum = Command::new("sha256sum").arg(&archive).output().unwrap();
    let hash = String::from_utf8(sum.stdout).unwrap();
    let hash = hash.split_whitespace().next().unwrap().to_owned();
    std::fs::write(
        release.join(format!("ekspec-{TARGET}.tar.xz.sha256")),
        format!("{hash} *ekspec-{TARGET}.tar.xz\n"),
    )
    .unwrap();
    archive
}

fn install(releases: &Path, install_dir: &Path, version: &str, pinned: &str) -> Output {
    Command::new("bash")
        .arg(repo().join("action/install.sh"))
        .env("EKSPEC_VERSION", version)
        .env("EKSPEC_INSTALL_DIR", install_dir)
        .env("EKSPEC_RELEASES", format!("file://{}", releases.display()))
        .env("EKSPEC_TARGET", TARGET)
        .env("EKSPEC_SHA256", pinned)
        .output()
        .unwrap()
}

fn tools_missing() -> bool {
    let missing: Vec<&str> = ["bash", "curl", "tar", "xz", "sha256sum"]
        .into_iter()
        .filter(|tool| {
            Command::new("sh")
                .arg("-c")
                .arg(format!("command -v {tool}"))
                .output()
                .map_or(true, |out| !out.status.success())
        })
        .collect();
    if !missing.is_empty() {
        println!("skipped: the action installer test needs {missing:?}");
    }
    !missing.is_empty()
}

#[test]
fn the_action_installs_a_release_whose_checksum_matches_and_refuses_one_that_does_not() {
    if tools_missing() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let releases = dir.path().join("releases");
    let archive = publish(&releases, "#!/bin/sh\necho 'ekspec 0.2.0 (test)'\n");

    // A matching archive is installed and runs.
    let installed = dir.path().join("bin");
    let out = install(&releases, &installed, "v0.2.0", "");
    assert!(out.status.success(), "{out:?}");
    let run = Command::new(installed.join("ekspec")).output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&run.stdout),
        "ekspec 0.2.0 (test)\n"
    );

    // A pinned checksum that differs: nothing is installed.
    let pinned_dir = dir.path().join("pinned");
    let out = install(&releases, &pinned_dir, "0.2.0", &"0".repeat(64));
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not the pinned"),
        "{out:?}"
    );
    assert!(!pinned_dir.join("ekspec").exists());

    // An archive replaced after the checksum was published: refused, nothing installed.
    let sums = std::fs::read(archive.with_extension("xz.sha256")).unwrap();
    publish(&releases, "#!/bin/sh\necho tampered\n");
    std::fs::write(archive.with_extension("xz.sha256"), sums).unwrap();
    let tampered_dir = dir.path().join("tampered");
    let out = install(&releases, &tampered_dir, "0.2.0", "");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("does not match the checksum published with v0.2.0"),
        "{stderr}"
    );
    assert!(!tampered_dir.join("ekspec").exists());

    // Not a version: a clear message naming the input.
    let out = install(&releases, &dir.path().join("none"), "latest", "");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("set the action's `version` input"),
        "{out:?}"
    );
}
