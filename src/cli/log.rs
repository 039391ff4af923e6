//! `atwb log FILE [--json]`: triage a saved internal-json log (derivations built and failed, the
//! failure's class and its last lines).

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use super::output::{Mode, with_stdout};
use crate::nix::classify::{ErrorClass, Failure};
use crate::nix::logfile::{Summary, summarise};
use crate::nix::state::drv_name;
use crate::nix::{advice, ansi};

#[derive(Debug, Args)]
pub struct LogArgs {
    pub file: PathBuf,
    #[arg(long)]
    pub json: bool,
}

/// `atwb log FILE [--json]`: exit 1 when the log shows a failure, 2 when it is not a nix log.
pub fn run(args: &LogArgs) -> Result<ExitCode> {
    let summary = summarise(&args.file)?;
    // A log holds whatever builders printed: the output is sanitised like the catalog's.
    with_stdout(Mode::of(args.json), |out| {
        if args.json {
            serde_json::to_writer_pretty(&mut *out, &summary)?;
            writeln!(out)
        } else {
            write_text(out, &summary)
        }
    })?;
    Ok(if !summary.nix_log {
        ExitCode::from(2)
    } else if summary.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn write_text(out: &mut dyn Write, s: &Summary) -> io::Result<()> {
    writeln!(
        out,
        "log: {} ({} lines, {} nix events)",
        s.file, s.lines, s.json_events
    )?;
    if !s.nix_log {
        writeln!(
            out,
            "result: not a nix log (no nix events, errors or builder lines)\nhint: capture with `nix build --log-format internal-json -v ... 2> FILE`"
        )?;
        return write_warnings(out, s);
    }
    if s.json_events == 0 && s.lines > 0 {
        writeln!(
            out,
            "note: no internal-json events; capture with `nix build --log-format internal-json -v ... 2> FILE`"
        )?;
    }
    let p = s.progress;
    writeln!(
        out,
        "derivations: {} built, {} failed, {} cancelled, {} unfinished (nix progress: {} done of {}, {} running, {} failed)",
        s.built.len(),
        s.failed.len(),
        s.cancelled.len(),
        s.unfinished.len(),
        p.done,
        p.expected,
        p.running,
        p.failed
    )?;
    for d in &s.failed {
        writeln!(out, "  failed: {} ({})", d.name, d.path)?;
    }
    for d in &s.cancelled {
        writeln!(out, "  cancelled: {} ({})", d.name, d.path)?;
    }
    for d in &s.unfinished {
        writeln!(out, "  unfinished: {} ({})", d.name, d.path)?;
    }
    match &s.error {
        None => writeln!(out, "result: ok")?,
        Some(f) => {
            writeln!(out, "result: {} ({})", f.class.label(), f.class.name())?;
            writeln!(out, "  {}", f.first_line)?;
            write_class_details(out, f)?;
            if let Some(hint) = advice::hint(&f.class, &advice::Context::default()) {
                writeln!(out, "hint: {hint}")?;
            }
        }
    }
    write_warnings(out, s)
}

fn write_warnings(out: &mut dyn Write, s: &Summary) -> io::Result<()> {
    if s.warnings_total > 0 {
        writeln!(out, "warnings: {}", s.warnings_total)?;
        for w in &s.warnings {
            writeln!(out, "  {}", ansi::strip(w))?;
        }
    }
    Ok(())
}

fn write_class_details(out: &mut dyn Write, f: &Failure) -> io::Result<()> {
    use ErrorClass::{BuilderFailed, DependencyFailed, HashMismatch, TestFailed};
    match &f.class {
        HashMismatch { specified, got, .. } => {
            writeln!(out, "  specified: {specified}")?;
            writeln!(out, "  got:       {got}")?;
        }
        BuilderFailed {
            drv, last_lines, ..
        }
        | TestFailed {
            drv, last_lines, ..
        } => {
            write_lines(out, drv, last_lines)?;
        }
        DependencyFailed {
            drv,
            dependency,
            last_lines,
            ..
        } => {
            writeln!(out, "  {} could not be built", drv_name(drv))?;
            if let Some(dep) = dependency {
                write_lines(out, dep, last_lines)?;
            }
        }
        _ => {}
    }
    Ok(())
}

fn write_lines(out: &mut dyn Write, drv: &str, lines: &[String]) -> io::Result<()> {
    if lines.is_empty() {
        return Ok(());
    }
    writeln!(out, "last {} log lines of {}:", lines.len(), drv_name(drv))?;
    for l in lines {
        writeln!(out, "  > {l}")?;
    }
    Ok(())
}
