//! The `ekspec` binary: parse arguments, run the command, map the outcome to an exit code.

use std::process::ExitCode;

use clap::Parser;
use ekspec::cli::{Cli, run};
use tracing_subscriber::Layer as _;
use tracing_subscriber::filter::FilterExt as _;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

/// Whether an event is a trace of the AWS SDK or its HTTP stack: those print whole requests
/// and responses (the session token header, credentials in STS and SSO answers), so they
/// are never shown, whatever `-v` or `EKSPEC_LOG` asks for.
fn shows_wire_data(meta: &tracing::Metadata<'_>) -> bool {
    const WIRE: &[&str] = &["aws_", "hyper", "h2", "rustls", "tower"];
    *meta.level() == tracing::Level::TRACE
        && WIRE.iter().any(|prefix| meta.target().starts_with(prefix))
}

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
        0 => "warn",
        1 => "ekspec=info",
        2 => "ekspec=debug",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("EKSPEC_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(filter))
        .and(tracing_subscriber::filter::filter_fn(|meta| {
            !shows_wire_data(meta)
        }));
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .without_time()
                .with_filter(filter),
        )
        .init();
    ExitCode::from(run(cli).code())
}
