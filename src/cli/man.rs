//! `ekspec man`: manual pages, generated from the same clap definitions as `--help`.

use std::path::Path;

use anyhow::{Context as _, Result};
use clap::CommandFactory;

use super::{Cli, ExitStatus, ManArgs};
use crate::printer::Printer;

/// Runs `man`: `ekspec.1` on stdout, or one page per command in `--out DIR`.
pub fn run(args: &ManArgs, printer: &Printer) -> Result<ExitStatus> {
    let command = Cli::command();
    let Some(dir) = &args.out else {
        let mut page = Vec::new();
        clap_mangen::Man::new(command).render(&mut page)?;
        printer.result(String::from_utf8_lossy(&page).trim_end());
        return Ok(ExitStatus::Success);
    };
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    write_page(dir, "ekspec", command.clone())?;
    for sub in command.get_subcommands() {
        write_page(dir, &format!("ekspec-{}", sub.get_name()), sub.clone())?;
    }
    printer.info(format!("Manual pages written to {}.", dir.display()));
    Ok(ExitStatus::Success)
}

fn write_page(dir: &Path, name: &str, command: clap::Command) -> Result<()> {
    let path = dir.join(format!("{name}.1"));
    let mut page = Vec::new();
    clap_mangen::Man::new(command)
        .title(name.to_uppercase())
        .render(&mut page)?;
    std::fs::write(&path, page).with_context(|| format!("cannot write {}", path.display()))
}
