//! `atwb fix NAME [--rebuild]`: the TUI's `f` without the TUI. It takes the hash mismatch of the
//! package's last recorded run from the status store and writes nix's `got:` hash through
//! `catalog::edit::fix_from_summary`, the edit path the TUI's fix uses; `--rebuild` then builds
//! the package again, as `atwb build NAME` would.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Args;

use super::build::BuildArgs;
use super::output::escape_controls;
use crate::jobs::StatusStore;

#[derive(Debug, Args)]
pub struct FixArgs {
    /// The catalog package whose last run failed with a hash mismatch.
    pub name: String,
    /// Build the package again after the fix.
    #[arg(long)]
    pub rebuild: bool,
}

pub fn run(args: &FixArgs, catalog_flag: Option<&Path>) -> Result<ExitCode> {
    let catalog = crate::paths::locate_catalog(catalog_flag)?;
    let store = StatusStore::open(&catalog)?;
    let name = &args.name;
    let Some(status) = store.status(name) else {
        bail!("{name} has no recorded run; build it first (`atwb build {name}`)");
    };
    let Some(failure) = status.last.failure else {
        bail!(
            "the last run of {name} ({}) did not fail; nothing to fix",
            status.last.outcome.as_str()
        );
    };
    let report = crate::catalog::edit::fix_from_summary(&catalog, name, &failure)
        .with_context(|| format!("fixing the hash of {name}"))?;
    let files: Vec<String> = report
        .files
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    let line = format!(
        "{name}: {} {} -> {} ({})\n",
        report.field.as_str(),
        report.old,
        report.new,
        files.join(", ")
    );
    let _ = std::io::stderr().write_all(escape_controls(&line).as_bytes());
    if !args.rebuild {
        return Ok(ExitCode::SUCCESS);
    }
    super::build::run(&BuildArgs::one(name), catalog_flag)
}
