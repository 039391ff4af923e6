//! `atwb new URL|PATH`: scaffold packages from an upstream repository. Detection proposes every
//! value; on a terminal each is shown to accept (Enter) or change, `--yes` takes them all, and
//! `--json` prints the proposal (and, with `--yes`, what was written). Without `--yes` and
//! without a terminal nothing is written.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use super::output::{Mode, escape_controls, shown_path, with_stdout};
use crate::scaffold::{self, Proposal, Request};

#[derive(Debug, Args)]
pub struct NewArgs {
    /// A local repository (bare or not), or a git URL to clone into atwb's cache.
    pub source: String,
    /// The org folder (default: the upstream owner in kebab case).
    #[arg(long)]
    pub org: Option<String>,
    /// 1 foundation, 2 ecosystem service, 3 specialized (default 3).
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=3))]
    pub tier: Option<u8>,
    /// The commit, branch or tag to pin (default: newest release tag, else the default branch).
    #[arg(long)]
    pub rev: Option<String>,
    /// Take every proposal and write without asking.
    #[arg(long, short)]
    pub yes: bool,
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &NewArgs, catalog: &Path) -> Result<ExitCode> {
    let request = Request {
        source: args.source.clone(),
        org: args.org.clone(),
        tier: args.tier,
        rev: args.rev.clone(),
    };
    let chatty = std::io::stderr().is_terminal();
    let mut progress = |step: &str| {
        if chatty {
            eprintln!("atwb new: {}", escape_controls(step));
        }
    };
    let mut proposal = scaffold::detect(&request, &mut progress)?;
    let interactive = !args.yes && !args.json && std::io::stdin().is_terminal();
    if interactive {
        if !review(&mut proposal)? {
            eprintln!("atwb new: nothing written");
            return Ok(ExitCode::from(1));
        }
    } else if !args.yes {
        with_stdout(Mode::of(args.json), |out| {
            if args.json {
                let v = serde_json::json!({"proposal": proposal, "written": []});
                writeln!(out, "{}", serde_json::to_string_pretty(&v)?)
            } else {
                write_proposal(out, &proposal)?;
                writeln!(
                    out,
                    "(not written: pass --yes, or run on a terminal to review each value)"
                )
            }
        })?;
        return Ok(if args.json {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
    }
    let written = scaffold::write_packages(catalog, &proposal)?;
    with_stdout(Mode::of(args.json), |out| {
        if args.json {
            let files: Vec<_> = written
                .iter()
                .map(|w| serde_json::json!({"name": w.name, "path": w.path.display().to_string()}))
                .collect();
            let v = serde_json::json!({"proposal": proposal, "written": files});
            return writeln!(out, "{}", serde_json::to_string_pretty(&v)?);
        }
        if !interactive {
            write_proposal(out, &proposal)?;
        }
        for w in &written {
            writeln!(out, "wrote {}", shown_path(&w.path))?;
        }
        writeln!(
            out,
            "next: `atwb check`, then build it (`atwb build {}`)",
            written[0].name
        )
    })?;
    Ok(ExitCode::SUCCESS)
}

fn write_proposal(out: &mut dyn Write, p: &Proposal) -> std::io::Result<()> {
    let s = &p.source;
    writeln!(
        out,
        "source   {} {} ({})",
        s.host,
        s.owner.as_ref().zip(s.repo.as_ref()).map_or_else(
            || s.url.clone().unwrap_or_default(),
            |(o, r)| format!("{o}/{r}")
        ),
        s.rev_reason
    )?;
    writeln!(
        out,
        "rev      {}{}",
        s.rev,
        s.tag
            .as_ref()
            .map(|t| format!(" (tag {t})"))
            .unwrap_or_default()
    )?;
    writeln!(out, "version  {}", s.version)?;
    writeln!(out, "hash     {}", s.hash)?;
    for f in p.fields() {
        writeln!(out, "{:<28} {:<30} {}", f.label, f.value, f.why)?;
    }
    for part in p.included() {
        writeln!(
            out,
            "{:<28} {:<30} {}",
            format!("{} deps_hash", part.name),
            part.deps_hash,
            part.deps_reason
        )?;
    }
    for n in &p.notes {
        writeln!(out, "note: {n}")?;
    }
    Ok(())
}

/// Asks for each field (Enter keeps the proposal) and then for the go-ahead.
fn review(p: &mut Proposal) -> Result<bool> {
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    let mut err = std::io::stderr();
    let s = &p.source;
    writeln!(
        err,
        "pinning {} ({}), version {}, hash {}",
        s.rev, s.rev_reason, s.version, s.hash
    )?;
    for n in &p.notes {
        writeln!(err, "note: {}", escape_controls(n))?;
    }
    let mut i = 0;
    while let Some(f) = p.fields().get(i).cloned() {
        write!(
            err,
            "{} [{}] ({}): ",
            escape_controls(&f.label),
            escape_controls(&f.value),
            escape_controls(&f.why)
        )?;
        err.flush()?;
        let Some(line) = lines.next().transpose()? else {
            return Ok(false);
        };
        let answer = line.trim();
        if !answer.is_empty()
            && let Err(e) = p.set(&f.key, answer)
        {
            writeln!(err, "  {}", escape_controls(&e))?;
            continue;
        }
        i += 1;
    }
    let n = p.included().count();
    write!(err, "write {n} package(s) under {}? [Y/n] ", p.org)?;
    err.flush()?;
    let answer = lines.next().transpose()?.unwrap_or_default();
    Ok(matches!(answer.trim(), "" | "y" | "Y" | "yes"))
}
