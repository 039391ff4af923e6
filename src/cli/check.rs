//! `atwb check [--json]`: every problem in the catalog; exit 1 when there is any.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use serde::Serialize;

use super::output::{JsonDiagnostic, Mode, load_catalog, with_stdout, write_diagnostic};

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &CheckArgs, root: &Path) -> Result<ExitCode> {
    let json = args.json;
    let loaded = load_catalog(root)?;
    let ok = loaded.diagnostics.is_empty();
    let bad_files: BTreeSet<&Path> = loaded
        .diagnostics
        .iter()
        .map(|d| d.file.as_path())
        .collect();
    with_stdout(Mode::of(json), |out| {
        if json {
            #[derive(Serialize)]
            struct Report<'a> {
                ok: bool,
                packages: usize,
                invalid_files: usize,
                diagnostics: Vec<JsonDiagnostic<'a>>,
            }
            let report = Report {
                ok,
                packages: loaded.catalog.packages.len(),
                invalid_files: bad_files.len(),
                diagnostics: loaded
                    .diagnostics
                    .iter()
                    .map(JsonDiagnostic::from)
                    .collect(),
            };
            serde_json::to_writer_pretty(&mut *out, &report)?;
            return writeln!(out);
        }
        for d in &loaded.diagnostics {
            write_diagnostic(out, d)?;
        }
        let n = loaded.catalog.packages.len();
        if ok {
            writeln!(out, "ok: {n} packages, no problems")
        } else {
            let problems = loaded.diagnostics.len();
            let files = bad_files.len();
            writeln!(
                out,
                "{problems} problem(s) in {files} file(s); {n} valid package(s) loaded"
            )
        }
    })?;
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
