//! The `ekspec` binary: parse arguments, run the command, map the outcome to an exit code.

use std::process::ExitCode;

use clap::Parser;
use ekspec::cli::{Cli, run};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // Usage errors exit 1, not clap's 2: with `plan --detailed-exitcode`, 2 means "changes".
        Err(error) => {
            let _ = error.print();
            return ExitCode::from(u8::from(error.use_stderr()));
        }
    };
    let filter = match cli.global.verbose {
        // The SDK's credential providers warn with their debug dump; the error says it once.
        0 => "warn,aws_config=error",
        1 => "ekspec=info",
        2 => "ekspec=debug",
        _ => "debug",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("EKSPEC_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(filter)),
        )
        .with_writer(std::io::stderr)
        .without_time()
        .init();
    ExitCode::from(run(cli).code())
}
