//! `ekspec completions`: shell completion scripts.

use anyhow::Result;
use clap::CommandFactory;

use super::{Cli, CompletionsArgs, ExitStatus};

/// Runs `completions`.
pub fn run(args: &CompletionsArgs) -> Result<ExitStatus> {
    let mut command = Cli::command();
    clap_complete::generate(args.shell, &mut command, "ekspec", &mut std::io::stdout());
    Ok(ExitStatus::Success)
}
