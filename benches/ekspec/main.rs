//! ekspec's benchmarks (`cargo bench --bench ekspec`; method and figures in BENCHMARKS.md):
//! - apply of the production example against moto under a simulated AWS time model, against
//!   the critical path of the plan's dependency graph under the same model;
//! - AWS read calls and wall time of no-op plans as clusters grow;
//! - validate and plan computation (no network) of a very large spec: time, peak memory;
//! - start-up of the binary: time, peak memory;
//! - a fleet of cluster specs planned at once, with AWS-like throttling;
//! - 500 IRSA roles applied under IAM throttling, with and without the cap on requests in
//!   flight.
//!
//! `-- --smoke` runs one small case of each in seconds (CI runs it so the code does not rot);
//! `-- --only apply,plans,offline,startup,fleet,throttle` picks sections; `--minute-ms 100,1000` the
//! apply section's time scales and `--repeats N` its runs per scale (the median is shown);
//! `--iam-in-flight 4,20` the caps the throttle section compares with no cap.

mod apply;
mod local;
mod plans;
mod sim;
mod throttle;

/// The emulator the integration tests use, shared with them.
#[allow(dead_code, clippy::print_stdout)]
#[path = "../../tests/it/moto.rs"]
mod moto;

/// What `moto` needs from the test support module.
mod support {
    use std::path::PathBuf;

    /// The repository root.
    pub fn repo() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
    }
}

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, Result, anyhow, bail};
use ekspec::cloud::Cloud;
use ekspec::cloud::aws::{ConnectOptions, connect};
use ekspec::printer::Printer;
use ekspec::spec::{self, ClusterFile};

/// What to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// One small case of each kind, in seconds.
    pub smoke: bool,
    /// Sections to run (`None`: all).
    pub only: Option<Vec<String>>,
    /// Real times of one simulated minute the apply section runs at.
    pub minutes: Vec<Duration>,
    /// Runs of each apply scenario per scale.
    pub repeats: usize,
    /// Latency added to every AWS call in the apply runs, in simulated time.
    pub call_latency: Duration,
    /// Latency added to every AWS call in the second no-op plan run (real time).
    pub plan_latency: Duration,
    /// Caps on IAM requests in flight the throttle section compares with no cap.
    pub iam_in_flight: Vec<usize>,
}

impl Options {
    fn parse(args: &[String]) -> Result<Self> {
        let smoke = args.iter().any(|a| a == "--smoke");
        let mut options = Self {
            smoke,
            only: None,
            // The default scale, and ten times slower, where moto's own time per call (about
            // 10 ms, 0.6 simulated seconds) is close to AWS's; a smoke run only checks that
            // things run.
            minutes: if smoke {
                vec![Duration::from_millis(10)]
            } else {
                vec![Duration::from_millis(100), Duration::from_millis(1000)]
            },
            // Runs of each apply scenario; the table shows the median run. A run at the default
            // scale takes seconds, and a single one moves by a few percent with the machine's
            // load.
            repeats: if smoke { 1 } else { 5 },
            call_latency: Duration::from_millis(200),
            plan_latency: Duration::from_millis(50),
            iam_in_flight: vec![ekspec::cloud::aws::InFlight::default().iam],
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let mut value = || {
                args.next()
                    .ok_or_else(|| anyhow!("{arg} needs a value"))
                    .cloned()
            };
            match arg.as_str() {
                "--only" => {
                    options.only = Some(value()?.split(',').map(str::to_owned).collect());
                }
                "--minute-ms" => {
                    options.minutes = value()?
                        .split(',')
                        .map(|ms| Ok(Duration::from_millis(ms.parse()?)))
                        .collect::<Result<_>>()?;
                }
                "--repeats" => {
                    options.repeats = value()?.parse::<usize>()?.max(1);
                }
                "--call-latency-ms" => {
                    options.call_latency = Duration::from_millis(value()?.parse()?);
                }
                "--iam-in-flight" => {
                    options.iam_in_flight = value()?
                        .split(',')
                        .map(|n| Ok(n.parse()?))
                        .collect::<Result<_>>()?;
                }
                "--plan-latency-ms" => {
                    options.plan_latency = Duration::from_millis(value()?.parse()?);
                }
                // `cargo bench` passes `--bench`; a name filter may follow it.
                _ => {}
            }
        }
        Ok(options)
    }

    fn runs(&self, section: &str) -> bool {
        self.only
            .as_ref()
            .is_none_or(|only| only.iter().any(|s| s == section))
    }
}

/// moto behind the simulator.
pub struct Aws {
    moto: moto::MotoServer,
    /// The simulated AWS in the SDK's HTTP layer.
    pub sim: sim::Simulator,
}

impl Aws {
    fn start() -> Self {
        Self {
            moto: moto::MotoServer::start(),
            sim: sim::Simulator::new(),
        }
    }

    /// How ekspec connects: moto's endpoint, through the simulator.
    pub fn options(&self) -> ConnectOptions {
        ConnectOptions {
            region: "us-east-1".to_owned(),
            profile: None,
            endpoint_url: Some(self.moto.endpoint()),
            credentials: Some(("testing".to_owned(), "testing".to_owned())),
            http_client: Some(self.sim.client()),
            ..ConnectOptions::default()
        }
    }

    /// A fresh connection, as each CLI command makes.
    pub async fn cloud(&self) -> Result<Cloud> {
        Ok(connect(&self.options()).await?)
    }
}

/// A spec from text; its diagnostics when invalid.
pub fn parse_spec(name: &str, text: &str) -> Result<ClusterFile> {
    let report = spec::parse_str(name, text);
    report.spec.ok_or_else(|| {
        let problems: Vec<String> = report
            .diagnostics
            .iter()
            .map(|d| spec::render::render(name, text, d, false))
            .collect();
        anyhow!("{name} is not a valid spec:\n{}", problems.join("\n"))
    })
}

/// A cluster spec with `node_groups` node groups and `service_accounts` IRSA roles.
pub fn generated_spec(
    name: &str,
    cidr: &str,
    node_groups: usize,
    service_accounts: usize,
) -> String {
    let mut text = format!(
        "apiVersion: ekspec/v1alpha1\nkind: Cluster\nmetadata:\n  name: {name}\n  region: us-east-1\n\
         spec:\n  kubernetesVersion: \"1.35\"\n  vpc:\n    cidr: {cidr}\n  nodeGroups:\n"
    );
    for i in 0..node_groups {
        text.push_str(&format!(
            "    - name: ng-{i:03}\n      instanceTypes: [m6i.large]\n      minSize: 1\n      maxSize: 3\n"
        ));
    }
    if service_accounts > 0 {
        text.push_str("  serviceAccounts:\n");
    }
    for i in 0..service_accounts {
        text.push_str(&format!(
            "    - name: sa-{i:04}\n      namespace: apps\n      \
             policyArns: [arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess]\n"
        ));
    }
    text
}

/// Text replacement that must apply.
pub fn edit(text: &str, from: &str, to: &str) -> Result<String> {
    if !text.contains(from) {
        bail!("the spec has no `{from}` to edit");
    }
    Ok(text.replacen(from, to, 1))
}

/// A duration in seconds with milliseconds.
pub fn seconds(d: Duration) -> String {
    format!("{:.3} s", d.as_secs_f64())
}

/// The machine the figures come from.
fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kib| kib.parse::<f64>().ok())
        })
        .map_or_else(
            || "unknown memory".to_owned(),
            |kib| format!("{:.0} GiB", kib / 1024.0 / 1024.0),
        );
    format!("{cores} cores ({cpu}), {memory}")
}

fn run(printer: &Printer) -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(i) = args.iter().position(|a| a == "--child-offline") {
        let path = args
            .get(i + 1)
            .context("--child-offline needs a spec file")?;
        return local::offline_child(printer, &PathBuf::from(path));
    }
    let options = Options::parse(&args)?;
    printer.result(format!(
        "ekspec benchmarks ({}), {}",
        if options.smoke {
            "smoke run"
        } else {
            "full run"
        },
        machine()
    ));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let needs_moto = ["apply", "plans", "fleet", "throttle"]
        .iter()
        .any(|s| options.runs(s));
    let aws = needs_moto.then(Aws::start);
    if let Some(aws) = &aws {
        if options.runs("apply") {
            runtime.block_on(apply::section(printer, aws, &options))?;
        }
        if options.runs("plans") {
            runtime.block_on(plans::noop_section(printer, aws, &options))?;
        }
    }
    if options.runs("offline") {
        local::offline_section(printer, &options)?;
    }
    if options.runs("startup") {
        local::startup_section(printer, &options)?;
    }
    if let Some(aws) = &aws
        && options.runs("fleet")
    {
        runtime.block_on(plans::fleet_section(printer, aws, &options))?;
    }
    if let Some(aws) = &aws
        && options.runs("throttle")
    {
        runtime.block_on(throttle::section(printer, aws, &options))?;
    }
    Ok(())
}

fn main() -> ExitCode {
    let printer = Printer::plain();
    match run(&printer) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            printer.diagnostic(format!("benchmark failed: {error:#}\n"));
            ExitCode::FAILURE
        }
    }
}
