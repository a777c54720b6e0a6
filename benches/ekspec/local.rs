//! Work without AWS: validate and plan computation of a very large spec, and the binary's
//! start-up. Each measurement runs in a child process, so its peak memory is its own.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context as _, Result, anyhow, bail};
use ekspec::printer::Printer;
use ekspec::resources::{Observed, planner};
use ekspec::spec;
use tokio::time::Instant;

use crate::{Options, generated_spec, seconds};

/// The peak resident memory of this process so far (`VmHWM`), in KiB.
fn peak_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// In the child: validate and plan `path` with no network, print the figures on one line.
pub fn offline_child(printer: &Printer, path: &Path) -> Result<()> {
    let started = Instant::now();
    let report = spec::load(path)?;
    let file = report
        .spec
        .ok_or_else(|| anyhow!("{} is not valid", path.display()))?;
    let validate = started.elapsed();
    // A cluster that does not exist yet: everything is created.
    let observed = Observed {
        account: "123456789012".to_owned(),
        zones: ["us-east-1a", "us-east-1b", "us-east-1c"]
            .map(str::to_owned)
            .to_vec(),
        ..Observed::default()
    };
    let started = Instant::now();
    let plan = planner::plan(&file, &observed);
    let planning = started.elapsed();
    printer.result(format!(
        "validate_us={} plan_us={} changes={} peak_kib={}",
        validate.as_micros(),
        planning.as_micros(),
        plan.changes.len(),
        peak_kib().map_or_else(|| "n/a".to_owned(), |k| k.to_string())
    ));
    Ok(())
}

fn field<'l>(line: &'l str, name: &str) -> Option<&'l str> {
    line.split_whitespace()
        .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
}

fn mib(kib: &str) -> String {
    kib.parse::<f64>()
        .map_or_else(|_| kib.to_owned(), |k| format!("{:.1} MiB", k / 1024.0))
}

/// Validate and plan of a large generated spec, in a child process per run.
pub fn offline_section(printer: &Printer, options: &Options) -> Result<()> {
    let (node_groups, service_accounts, runs) = if options.smoke {
        (10, 40, 1)
    } else {
        (500, 2000, 5)
    };
    printer.result("");
    printer.result(format!(
        "== Offline: validate and plan (no network) of a spec with {node_groups} node groups \
         and {service_accounts} service accounts; best of {runs} runs, each in a fresh process =="
    ));
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("large.yaml");
    let text = generated_spec("large", "10.0.0.0/16", node_groups, service_accounts);
    std::fs::write(&path, &text)?;
    let exe = std::env::current_exe()?;
    let mut best: Option<(u128, u128, String, String)> = None;
    for _ in 0..runs {
        let output = Command::new(&exe)
            .arg("--child-offline")
            .arg(&path)
            .output()
            .context("cannot run the benchmark's child process")?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            bail!(
                "the offline child failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        let line = stdout.lines().last().unwrap_or_default();
        let number = |name: &str| -> Result<u128> {
            field(line, name)
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| anyhow!("no {name} in `{line}`"))
        };
        let (validate, planning) = (number("validate_us")?, number("plan_us")?);
        let changes = field(line, "changes").unwrap_or("?").to_owned();
        let peak = field(line, "peak_kib").unwrap_or("n/a").to_owned();
        if best
            .as_ref()
            .is_none_or(|(v, p, _, _)| validate + planning < v + p)
        {
            best = Some((validate, planning, changes, peak));
        }
    }
    let Some((validate, planning, changes, peak)) = best else {
        bail!("no offline run");
    };
    printer.result(format!(
        "{:>10} {:>10} {:>10} {:>8} {:>12}",
        "spec size", "validate", "plan", "changes", "peak memory"
    ));
    printer.result(format!(
        "{:>10} {:>10} {:>10} {:>8} {:>12}",
        format!("{} KiB", text.len() / 1024),
        format!("{:.1} ms", validate as f64 / 1000.0),
        format!("{:.1} ms", planning as f64 / 1000.0),
        changes,
        mib(&peak)
    ));
    printer.result(
        "validate = read, parse, default and check the file; plan = the diff against an empty \
         account; peak memory = the whole process's (the benchmark binary)",
    );
    Ok(())
}

/// Runs `ekspec ARGS` under `/usr/bin/time` (for its peak memory, when installed).
fn timed_run(binary: &Path, args: &[&str]) -> Result<(Duration, Option<String>)> {
    let gnu_time = PathBuf::from("/usr/bin/time");
    let mut command = if gnu_time.is_file() {
        let mut command = Command::new(&gnu_time);
        command.args(["-f", "peak_kib=%M"]).arg(binary);
        command
    } else {
        Command::new(binary)
    };
    command
        .args(args)
        .current_dir(crate::support::repo())
        .env("NO_COLOR", "1");
    let started = Instant::now();
    let output = command.output().context("cannot run ekspec")?;
    let wall = started.elapsed();
    if !output.status.success() {
        bail!(
            "ekspec {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let peak = stderr
        .lines()
        .rev()
        .find_map(|l| field(l, "peak_kib"))
        .map(str::to_owned);
    Ok((wall, peak))
}

/// `ekspec --version` and `ekspec validate` of the minimal example.
pub fn startup_section(printer: &Printer, options: &Options) -> Result<()> {
    let runs = if options.smoke { 1 } else { 20 };
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_ekspec"));
    printer.result("");
    printer.result(format!(
        "== Start-up of the ekspec binary: median and slowest of {runs} runs, peak memory \
         (GNU time's maximum resident set) =="
    ));
    printer.result(format!(
        "{:<40} {:>10} {:>10} {:>12}",
        "command", "median", "slowest", "peak memory"
    ));
    for args in [
        &["--version"][..],
        &["validate", "-f", "examples/minimal.yaml"][..],
    ] {
        let mut walls = Vec::new();
        let mut peak: Option<u64> = None;
        for _ in 0..runs {
            let (wall, kib) = timed_run(&binary, args)?;
            walls.push(wall);
            if let Some(kib) = kib.and_then(|k| k.parse().ok()) {
                peak = Some(peak.map_or(kib, |p: u64| p.max(kib)));
            }
        }
        walls.sort();
        printer.result(format!(
            "{:<40} {:>10} {:>10} {:>12}",
            format!("ekspec {}", args.join(" ")),
            seconds(walls[walls.len() / 2]),
            seconds(walls[walls.len() - 1]),
            peak.map_or_else(|| "n/a".to_owned(), |k| mib(&k.to_string()))
        ));
    }
    Ok(())
}
