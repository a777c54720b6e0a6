//! All terminal output goes through [`Printer`], so quiet/verbose/color/JSON are decided once.

use std::fmt::Display;
use std::io::{IsTerminal, Write};

/// Machine- or human-readable output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum OutputFormat {
    /// Text for people.
    #[default]
    Text,
    /// JSON for programs.
    Json,
    /// Markdown for pull-request comments (`plan` only).
    Markdown,
}

/// Owns stdout and stderr.
#[derive(Debug, Clone)]
pub struct Printer {
    quiet: bool,
    verbose: u8,
    color: bool,
    format: OutputFormat,
}

impl Printer {
    /// A printer; color only when asked for and stderr is a terminal.
    pub fn new(quiet: bool, verbose: u8, want_color: bool, format: OutputFormat) -> Self {
        Self {
            quiet,
            verbose,
            color: want_color && std::io::stderr().is_terminal(),
            format,
        }
    }

    /// A printer for tests and library callers: plain text, no color.
    pub fn plain() -> Self {
        Self::new(false, 0, false, OutputFormat::Text)
    }

    /// Whether ANSI colors may be used.
    pub fn color(&self) -> bool {
        self.color
    }

    /// Whether `-q` was given.
    pub fn quiet(&self) -> bool {
        self.quiet
    }

    /// How many `-v` were given.
    pub fn verbose(&self) -> u8 {
        self.verbose
    }

    /// The output format.
    pub fn format(&self) -> OutputFormat {
        self.format
    }

    /// A result line on stdout (always printed).
    #[allow(clippy::print_stdout)]
    pub fn result(&self, text: impl Display) {
        let mut out = std::io::stdout().lock();
        // A closed pipe (`ekspec plan | head`) is not an error worth a panic.
        let _ = writeln!(out, "{text}");
    }

    /// A progress or informational line on stdout, hidden by `-q`.
    pub fn info(&self, text: impl Display) {
        if !self.quiet {
            self.result(text);
        }
    }

    /// A diagnostic on stderr (always printed).
    #[allow(clippy::print_stderr)]
    pub fn diagnostic(&self, text: impl Display) {
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "{text}");
    }

    /// A JSON document on one line of stdout (newline-delimited JSON).
    pub fn json_line(&self, value: &serde_json::Value) {
        self.result(value);
    }

    /// A JSON document on stdout.
    pub fn json(&self, value: &serde_json::Value) {
        let text = serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".to_owned());
        self.result(text);
    }
}
