//! The command line: clap types here, one file per command.

mod apply;
mod completions;
mod export;
mod fleet;
mod get;
mod import;
mod init;
mod karpenter;
mod kubeconfig;
mod man;
mod plan;
mod schema;
mod session;
mod timeline;
mod token;
mod validate;

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::printer::{OutputFormat, Printer};
use crate::resources::adopt::AdoptMode;

/// How a command ended; `main` turns it into the process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Everything worked (and, for `--detailed-exitcode`, nothing changes).
    Success,
    /// Something failed: invalid spec, AWS error, refused confirmation.
    Failure,
    /// `--detailed-exitcode`: the plan has changes.
    Changes,
}

impl ExitStatus {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Self::Success => 0,
            Self::Failure => 1,
            Self::Changes => 2,
        }
    }
}

/// Declarative Amazon EKS clusters: plan and apply YAML specs against live AWS.
#[derive(Debug, Parser)]
#[command(
    name = "ekspec",
    version = concat!(env!("CARGO_PKG_VERSION"), " (", env!("EKSPEC_COMMIT"), ")"),
    about,
    long_about = "ekspec makes an AWS account match a cluster spec kept in git.\n\n\
        Live AWS is the state: every resource ekspec creates carries the tags \
        `ekspec.io/cluster` and `ekspec.io/resource`, so there is no state file.",
    after_help = "Examples:\n  ekspec init --name demo --region us-east-1\n  ekspec validate -f clusters/\n  ekspec schema > schema/ekspec.schema.json"
)]
pub struct Cli {
    /// Options every command understands.
    #[command(flatten)]
    pub global: GlobalOptions,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command understands.
#[derive(Debug, Clone, Args)]
pub struct GlobalOptions {
    /// AWS region; must agree with `metadata.region` of the spec.
    #[arg(long, global = true)]
    pub region: Option<String>,
    /// AWS shared config profile (default: AWS_PROFILE or `default`).
    #[arg(long, global = true)]
    pub profile: Option<String>,
    /// Send AWS API calls to this endpoint (e.g. a local emulator).
    #[arg(long, global = true, env = "AWS_ENDPOINT_URL", value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// More detail (repeat for more).
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,
    /// Print only results and errors.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Output format.
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
    /// Disable colors (also when NO_COLOR is set).
    #[arg(long, global = true)]
    pub no_color: bool,
}

impl GlobalOptions {
    /// The printer these options ask for.
    pub fn printer(&self) -> Printer {
        let no_color_env = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Printer::new(
            self.quiet,
            self.verbose,
            !self.no_color && !no_color_env,
            self.output,
        )
    }
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check spec files: syntax, fields, values and cross-references.
    #[command(
        after_help = "Examples:\n  ekspec validate -f clusters/prod.yaml\n  ekspec validate -f clusters/ --strict\n  ekspec validate -f examples/ --output json"
    )]
    Validate(ValidateArgs),
    /// Print the JSON Schema of the spec format (for editors and CI linters).
    #[command(after_help = "Example:\n  ekspec schema > schema/ekspec.schema.json")]
    Schema,
    /// Write a commented starter spec.
    #[command(
        after_help = "Examples:\n  ekspec init --name demo --region eu-west-1\n  ekspec init --name demo -f - > clusters/demo.yaml"
    )]
    Init(InitArgs),
    /// Convert another tool's cluster config into an ekspec spec.
    #[command(subcommand)]
    Import(ImportSource),
    /// Show what apply would change in AWS.
    #[command(
        after_help = "Examples:\n  ekspec plan -f clusters/prod.yaml\n  ekspec plan -f clusters/prod.yaml --detailed-exitcode   # 0 no changes, 2 changes, 1 error\n  ekspec plan -f clusters/prod.yaml --output json\n  ekspec plan -f clusters/prod.yaml --out prod.plan.json   # then: ekspec apply prod.plan.json\n  ekspec plan clusters/                                    # every spec in the folder\n  ekspec plan -f clusters/prod.yaml --graph dot | dot -Tsvg > plan.svg\n  ekspec plan clusters/ --output markdown > comment.md      # a pull-request comment"
    )]
    Plan(PlanArgs),
    /// Make AWS match the spec.
    #[command(
        after_help = "Examples:\n  ekspec apply -f clusters/prod.yaml\n  ekspec apply -f clusters/prod.yaml --auto-approve   # CI\n  ekspec apply prod.plan.json                         # exactly the plan saved by plan --out\n  ekspec apply clusters/ --auto-approve               # every spec in the folder, concurrently\n  ekspec apply -f clusters/prod.yaml --break-lock     # a killed run left its lock"
    )]
    Apply(ApplyArgs),
    /// Take ownership of a cluster another tool made (eksctl, Terraform, the console).
    ///
    /// The same as `apply --adopt`: live resources that match the spec and carry no ekspec
    /// tags (the cluster by name, its node groups, Fargate profiles, add-ons, access entries
    /// and Pod Identity associations by name, the IAM roles they use, the OIDC provider) get
    /// the ownership tags, then the spec is applied as for any owned cluster; with
    /// `--adopt-network`, the VPC the spec brings in and what is in it too. A resource of
    /// another ekspec cluster is never adopted. Asks first, like a delete. See docs/adopt.md.
    #[command(
        after_help = "Examples:\n  ekspec export --name shop --region eu-west-1 -o clusters/shop.yaml\n  ekspec plan --adopt -f clusters/shop.yaml   # what adoption tags and changes\n  ekspec adopt -f clusters/shop.yaml\n  ekspec plan -f clusters/shop.yaml           # then: the normal plan\n  ekspec adopt --adopt-network -f clusters/shop.yaml   # the VPC too: delete then removes it"
    )]
    Adopt(ApplyArgs),
    /// Delete everything a cluster owns.
    #[command(
        after_help = "Examples:\n  ekspec delete -f clusters/dev.yaml\n  ekspec delete --name dev --region eu-west-1 --auto-approve"
    )]
    Delete(DeleteArgs),
    /// Draw the Gantt chart of a run from the events it printed (`apply --output json`).
    #[command(
        after_help = "Examples:\n  ekspec apply -f clusters/prod.yaml --auto-approve --output json > events.ndjson\n  ekspec timeline events.ndjson -o timeline.svg\n  ekspec timeline events.ndjson -o timeline.html   # the chart and a table of the changes"
    )]
    Timeline(TimelineArgs),
    /// Show the live resources of a cluster.
    #[command(after_help = "Example:\n  ekspec get -f clusters/prod.yaml")]
    Get(GetArgs),
    /// Write the spec of a live cluster, whoever made it.
    ///
    /// Reads the cluster (Describe/List/Get calls only: the read-only policy is enough) and
    /// writes the spec that describes it to stdout (or -o FILE). Every live setting the spec
    /// cannot express is listed on stderr with its resource and field; nothing is dropped
    /// silently. A VPC ekspec did not make is brought in by id.
    #[command(
        after_help = "Examples:\n  ekspec export --name prod --region eu-west-1 > clusters/prod.yaml\n  ekspec export --name prod --region eu-west-1 -o clusters/prod.yaml\n  ekspec export --name prod --region eu-west-1 -o clusters/prod.yaml --force   # overwrite"
    )]
    Export(ExportArgs),
    /// Add a context for a live cluster to your kubeconfig (other entries stay).
    #[command(
        after_help = "Examples:\n  ekspec kubeconfig -f clusters/prod.yaml && kubectl get nodes\n  ekspec kubeconfig --name prod --region eu-west-1 --context prod\n  ekspec kubeconfig -f clusters/prod.yaml --kubeconfig ./prod.kubeconfig"
    )]
    Kubeconfig(KubeconfigArgs),
    /// Karpenter: what its Helm chart needs from the live cluster.
    #[command(subcommand)]
    Karpenter(KarpenterCommand),
    /// Print an ExecCredential with an EKS token (kubectl's credential plugin).
    #[command(
        long_about = "Print an ExecCredential with an EKS token, the same format `aws eks get-token` prints, \
            for kubectl's `exec` credential plugin (`ekspec kubeconfig` sets it up). The token is an STS \
            GetCallerIdentity URL presigned with your AWS credentials, and is valid for 15 minutes; the \
            ExecCredential says 14, so kubectl asks for a new one in time. Signing needs no network; \
            only --role-arn calls AWS (AssumeRole).",
        after_help = "Examples:\n  ekspec token --cluster prod --region eu-west-1\n  ekspec token --cluster prod --region eu-west-1 --role-arn arn:aws:iam::111122223333:role/admin\n  ekspec token --cluster prod --region eu-west-1 | jq -r .status.token"
    )]
    Token(TokenArgs),
    /// Print the manual page, or write one per command.
    #[command(
        after_help = "Examples:\n  ekspec man | man -l -\n  ekspec man --out /usr/local/share/man/man1"
    )]
    Man(ManArgs),
    /// Print a shell completion script.
    #[command(after_help = "Example:\n  ekspec completions bash > /etc/bash_completion.d/ekspec")]
    Completions(CompletionsArgs),
}

/// Arguments of `validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Spec files or folders (every *.yaml / *.yml inside).
    #[arg(short, long = "file", value_name = "FILE|DIR", required = true, num_args = 1..)]
    pub files: Vec<PathBuf>,
    /// Treat warnings as errors.
    #[arg(long)]
    pub strict: bool,
}

/// Which specs a command works on: files or folders (every *.yaml / *.yml inside), given with
/// `-f` or as arguments.
#[derive(Debug, Args)]
pub struct SpecPaths {
    /// Spec files or folders.
    #[arg(short, long = "file", value_name = "FILE|DIR", num_args = 1..)]
    pub files: Vec<PathBuf>,
    /// Spec files or folders (the same as -f).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

impl SpecPaths {
    /// Every path given, in order.
    pub fn all(&self) -> Vec<PathBuf> {
        self.files.iter().chain(&self.paths).cloned().collect()
    }
}

/// Arguments of `plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub specs: SpecPaths,
    /// Exit 0 when nothing changes, 2 when something does, 1 on error.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Also save the plan, for `ekspec apply FILE` to apply exactly it (one spec only).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Print the plan's dependency graph instead of the text plan: Graphviz DOT or Mermaid,
    /// coloured by kind, the critical path under the time model of BENCHMARKS.md thick.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub graph: Option<crate::plan::graph::GraphFormat>,
    /// With `--output markdown`: the most characters to print (a matrix job's share of one
    /// comment); detail is left out to fit, and the comment says what.
    #[arg(long, value_name = "CHARS", default_value_t = crate::plan::markdown::GITHUB_COMMENT_LIMIT)]
    pub markdown_limit: usize,
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Also plan the adoption of live resources another tool made that the spec matches
    /// (see `ekspec adopt`); `--out` saves it for `ekspec apply PLAN.json`.
    #[arg(long)]
    pub adopt: bool,
    /// With `--adopt`: also adopt the VPC the spec brings in (spec.vpc.id) and what is in it
    /// (its subnets, gateways, route tables, security groups), so `ekspec delete` deletes it
    /// after the cluster. Implies `--adopt`. See docs/adopt.md.
    #[arg(long)]
    pub adopt_network: bool,
}

impl PlanArgs {
    /// What `--adopt` and `--adopt-network` ask for.
    pub fn adopt_mode(&self) -> AdoptMode {
        AdoptMode::new(self.adopt, self.adopt_network)
    }
}

/// The policy gate of `plan` and `apply`.
#[derive(Debug, Args, Default)]
pub struct PolicyArgs {
    /// Rego policies (a .rego file, or a folder searched recursively; `*_test.rego` left
    /// out) that judge each plan before anything changes: `deny`/`violation` rules fail it,
    /// `warn` rules are printed. Repeatable. Input document: docs/policy.md.
    #[arg(long = "policy", value_name = "PATH")]
    pub policy: Vec<PathBuf>,
    /// The Rego package the rules are read from.
    #[arg(long, value_name = "PACKAGE", default_value = crate::policy::DEFAULT_NAMESPACE)]
    pub namespace: String,
    /// A value the policies read as `input.params.KEY` (e.g. a pull request label).
    /// Repeatable.
    #[arg(long = "policy-param", value_name = "KEY=VALUE", value_parser = crate::policy::parse_param)]
    pub policy_param: Vec<(String, String)>,
}

impl PolicyArgs {
    /// The gate, when policies were given: loaded (and checked) before AWS is read.
    pub fn gate(&self) -> anyhow::Result<Option<crate::policy::Gate>> {
        if self.policy.is_empty() {
            if !self.policy_param.is_empty() {
                anyhow::bail!("--policy-param is read by policies: give them with --policy");
            }
            return Ok(None);
        }
        Ok(Some(crate::policy::Gate {
            policies: crate::policy::PolicySet::load(&self.policy, &self.namespace)?,
            params: self.policy_param.iter().cloned().collect(),
        }))
    }
}

/// Arguments of `apply`.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// Specs, or one plan saved with `plan --out`.
    #[command(flatten)]
    pub specs: SpecPaths,
    /// Do not ask before deleting or replacing resources.
    #[arg(long)]
    pub auto_approve: bool,
    /// Give up waiting for one resource after this long ("40m", "90s", "1h"; a bare number
    /// is minutes). Default: 40m, and for a node group's rolling update 20m per batch of
    /// `maxUnavailable` nodes when that is longer.
    #[arg(long, value_name = "DURATION", value_parser = parse_timeout)]
    pub timeout: Option<Duration>,
    /// Remove the cluster's lock even if another run holds it (when that run is dead).
    #[arg(long)]
    pub break_lock: bool,
    /// Upgrade Kubernetes even when EKS's upgrade insights report upgrade-blocking issues
    /// (`aws eks list-insights`): passes `force` to UpdateClusterVersion.
    #[arg(long)]
    pub force_upgrade: bool,
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Write a Gantt chart of the run to FILE.svg (or FILE.html, with a table of the changes):
    /// each change's start, AWS waits and end, failures and retries marked, the critical path
    /// highlighted. Written whether the run succeeds or not.
    #[arg(long, value_name = "FILE", value_parser = parse_timeline_path)]
    pub timeline: Option<PathBuf>,
    /// Take ownership of live resources another tool made that the spec matches (the same
    /// as `ekspec adopt`).
    #[arg(long)]
    pub adopt: bool,
    /// Also adopt the VPC the spec brings in (spec.vpc.id) and what is in it (its subnets,
    /// gateways, route tables, security groups), so `ekspec delete` deletes it after the
    /// cluster. Implies `--adopt`. See docs/adopt.md.
    #[arg(long)]
    pub adopt_network: bool,
}

impl ApplyArgs {
    /// What `--adopt` and `--adopt-network` ask for.
    pub fn adopt_mode(&self) -> AdoptMode {
        AdoptMode::new(self.adopt, self.adopt_network)
    }
}

/// Arguments of `delete`.
#[derive(Debug, Args)]
pub struct DeleteArgs {
    #[command(flatten)]
    pub specs: SpecPaths,
    /// The cluster name (with --region) instead of a spec.
    #[arg(long, conflicts_with_all = ["files", "paths"])]
    pub name: Option<String>,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub auto_approve: bool,
    /// Give up waiting for one resource after this long ("40m", "90s", "1h"; a bare number
    /// is minutes). Default: 40m.
    #[arg(long, value_name = "DURATION", value_parser = parse_timeout)]
    pub timeout: Option<Duration>,
    /// Remove the cluster's lock even if another run holds it (when that run is dead).
    #[arg(long)]
    pub break_lock: bool,
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Write a Gantt chart of the run to FILE.svg or FILE.html (see `apply --timeline`).
    #[arg(long, value_name = "FILE", value_parser = parse_timeline_path)]
    pub timeline: Option<PathBuf>,
}

/// Arguments of `timeline`.
#[derive(Debug, Args)]
pub struct TimelineArgs {
    /// The events of a run: what `apply --output json` or `delete --output json` printed
    /// (`-` reads stdin).
    #[arg(value_name = "EVENTS.ndjson")]
    pub events: PathBuf,
    /// The chart to write: FILE.svg, or FILE.html (the chart and a table of the changes).
    #[arg(short = 'o', long = "out", value_name = "FILE", value_parser = parse_timeline_path)]
    pub out: PathBuf,
}

/// Arguments of `get`.
#[derive(Debug, Args)]
pub struct GetArgs {
    #[command(flatten)]
    pub specs: SpecPaths,
}

/// Arguments of `export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The EKS cluster's name (with --region).
    #[arg(long, value_name = "NAME")]
    pub name: String,
    /// Write the spec to this file instead of stdout.
    #[arg(short = 'o', long = "out", value_name = "FILE")]
    pub out: Option<std::path::PathBuf>,
    /// Overwrite the -o file if it exists.
    #[arg(long, requires = "out")]
    pub force: bool,
}

/// Arguments of `kubeconfig`.
#[derive(Debug, Args)]
pub struct KubeconfigArgs {
    /// The spec of the cluster (one).
    #[command(flatten)]
    pub specs: SpecPaths,
    /// The cluster name (with --region) instead of a spec.
    #[arg(long, conflicts_with_all = ["files", "paths"])]
    pub name: Option<String>,
    /// The file to write (default: the first file in KUBECONFIG, else ~/.kube/config).
    #[arg(long, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// Name of the context (default: the cluster ARN, as `aws eks update-kubeconfig` names it).
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
    /// Have the context's tokens signed as this IAM role (`ekspec token --role-arn`).
    #[arg(long, value_name = "ARN")]
    pub role_arn: Option<String>,
}

/// The `karpenter` commands.
#[derive(Debug, Subcommand)]
pub enum KarpenterCommand {
    /// Print the Helm values of the Karpenter chart for a live cluster with `spec.karpenter`:
    /// cluster name and endpoint, interruption queue, service account.
    #[command(after_help = "Examples:
  ekspec karpenter values -f clusters/prod.yaml > karpenter-values.yaml
  helm upgrade --install karpenter oci://public.ecr.aws/karpenter/karpenter --version 1.8.1 \
    --namespace karpenter --create-namespace --values karpenter-values.yaml
  ekspec karpenter values -f clusters/prod.yaml --output json")]
    Values(KarpenterValuesArgs),
}

/// Arguments of `karpenter values`.
#[derive(Debug, Args)]
pub struct KarpenterValuesArgs {
    /// The spec of the cluster (one).
    #[command(flatten)]
    pub specs: SpecPaths,
}

/// Arguments of `token`.
#[derive(Debug, Args)]
pub struct TokenArgs {
    /// The EKS cluster name the token is for.
    #[arg(long, value_name = "NAME")]
    pub cluster: String,
    /// Assume this IAM role with your credentials and sign as the role.
    #[arg(long, value_name = "ARN")]
    pub role_arn: Option<String>,
}

/// Arguments of `init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Cluster name.
    #[arg(long, default_value = "demo")]
    pub name: String,
    /// Where to write the spec (`-` for stdout); default `<name>.yaml`.
    #[arg(short, long = "file", value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Overwrite an existing file.
    #[arg(long)]
    pub force: bool,
}

/// The tools `import` reads.
#[derive(Debug, Subcommand)]
pub enum ImportSource {
    /// Convert an eksctl ClusterConfig (eksctl.io/v1alpha5) into an ekspec spec.
    ///
    /// The spec goes to stdout (or -o FILE); every eksctl field that could not be carried over,
    /// and every default assumed, is listed on stderr with its path. Exit 1 when the eksctl file
    /// cannot be read or the result does not validate.
    #[command(
        after_help = "Examples:\n  ekspec import eksctl cluster.yaml > clusters/prod.yaml\n  ekspec import eksctl cluster.yaml -o clusters/prod.yaml\n  ekspec import eksctl cluster.yaml -o clusters/prod.yaml --force   # overwrite"
    )]
    Eksctl(ImportEksctlArgs),
}

/// Arguments of `import eksctl`.
#[derive(Debug, Args)]
pub struct ImportEksctlArgs {
    /// The eksctl config file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Write the spec to this file instead of stdout.
    #[arg(short = 'o', long = "out", value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Overwrite the -o file if it exists.
    #[arg(long, requires = "out")]
    pub force: bool,
}

/// Arguments of `man`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write `ekspec.1` and `ekspec-COMMAND.1` here instead of printing `ekspec.1`.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// Arguments of `completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> ExitStatus {
    let printer = cli.global.printer();
    if cli.global.output == OutputFormat::Markdown && !matches!(cli.command, Command::Plan(_)) {
        print_error(
            &printer,
            &anyhow::anyhow!(
                "--output markdown is for `ekspec plan` (pull-request comments); use --output text or json here"
            ),
        );
        return ExitStatus::Failure;
    }
    let result = match &cli.command {
        Command::Validate(args) => validate::run(args, &cli.global, &printer),
        Command::Schema => schema::run(&printer),
        Command::Init(args) => init::run(args, &cli.global, &printer),
        Command::Import(ImportSource::Eksctl(args)) => import::run_eksctl(args, &printer),
        Command::Completions(args) => completions::run(args),
        Command::Man(args) => man::run(args, &printer),
        Command::Plan(args) => plan::run(args, &cli.global, &printer),
        Command::Apply(args) => apply::run_apply(args, args.adopt_mode(), &cli.global, &printer),
        Command::Adopt(args) => apply::run_apply(
            args,
            AdoptMode::new(true, args.adopt_network),
            &cli.global,
            &printer,
        ),
        Command::Delete(args) => apply::run_delete(args, &cli.global, &printer),
        Command::Timeline(args) => timeline::run(args, &printer),
        Command::Get(args) => get::run(args, &cli.global, &printer),
        Command::Export(args) => export::run(args, &cli.global, &printer),
        Command::Kubeconfig(args) => kubeconfig::run(args, &cli.global, &printer),
        Command::Token(args) => token::run(args, &cli.global, &printer),
        Command::Karpenter(KarpenterCommand::Values(args)) => {
            karpenter::run_values(args, &cli.global, &printer)
        }
    };
    match result {
        Ok(status) => status,
        Err(error) => {
            print_error(&printer, &error);
            ExitStatus::Failure
        }
    }
}

/// Prints an error once, with its cause chain.
pub fn print_error(printer: &Printer, error: &anyhow::Error) {
    let label = if printer.color() {
        let style = anstyle::AnsiColor::Red.on_default().bold();
        format!("{style}error{style:#}")
    } else {
        "error".to_owned()
    };
    let mut text = format!("{label}: {error}\n");
    for cause in error.chain().skip(1) {
        text.push_str(&format!("  caused by: {cause}\n"));
    }
    printer.diagnostic(text);
}

/// A `--timeout`: a duration with units ("40m", "90s", "1h30m"), or a bare number of minutes.
fn parse_timeout(text: &str) -> Result<Duration, String> {
    let duration = match text.trim().parse::<u64>() {
        Ok(minutes) => Duration::from_secs(minutes.saturating_mul(60)),
        Err(_) => humantime::parse_duration(text.trim()).map_err(|e| {
            format!("{e}; give a duration such as 40m, 90s or 1h30m (a bare number is minutes)")
        })?,
    };
    if duration.is_zero() {
        return Err("must be more than zero".to_owned());
    }
    Ok(duration)
}

/// A timeline file: .svg or .html, in a folder that exists (checked before a run, not after).
fn parse_timeline_path(text: &str) -> Result<PathBuf, String> {
    let path = PathBuf::from(text);
    crate::timeline::Format::of(&path)?;
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() && !dir.is_dir() => Err(format!(
            "the folder {} does not exist; create it first",
            dir.display()
        )),
        _ => Ok(path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_take_units_or_minutes() {
        assert_eq!(parse_timeout("40"), Ok(Duration::from_secs(2400)));
        assert_eq!(parse_timeout("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_timeout("1h30m"), Ok(Duration::from_secs(5400)));
        assert!(parse_timeout("0").is_err());
        let error = parse_timeout("soon").unwrap_err();
        assert!(error.contains("40m"), "{error}");
    }
}
