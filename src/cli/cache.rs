//! `atwb cache [NAMES…|--all] [--json]`: which binary cache has each target's outputs, without
//! building (nix-eval-jobs' `--check-cache-status`): one batch evaluation, the narinfo queries
//! for the configured substituters, both recorded in the status store. Exit 0 whatever the
//! caches say; a target that does not evaluate is a row with its error.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::Args;
use tokio_util::sync::CancellationToken;

use super::build::{Targets, plan};
use super::output::{Mode, escape_controls, with_stdout};
use crate::config::Config;
use crate::jobs::cache::CacheState;
use crate::jobs::cache_check::{CacheRow, CheckStage, RowJson};
use crate::jobs::engine::cache_check::{self, CheckSetup};
use crate::jobs::{JobKind, StatusStore};
use crate::paths;

#[derive(Debug, Args)]
pub struct CacheArgs {
    #[command(flatten)]
    pub targets: Targets,
    /// One JSON object per target and line (JSON Lines).
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &CacheArgs, catalog_flag: Option<&Path>) -> Result<ExitCode> {
    let config = Config::load_from(&paths::config_dir())?;
    // With --flake the catalog is optional (the answers are recorded only if there is one).
    let catalog = match paths::locate_catalog(catalog_flag) {
        Ok(c) => Some(c),
        Err(e) if args.targets.flake.is_none() => return Err(e),
        Err(_) => None,
    };
    let specs: Vec<_> = plan(
        &args.targets,
        false,
        catalog.as_deref(),
        config.jobs.flake.as_deref(),
    )?
    .into_iter()
    .filter(|s| s.kind == JobKind::Build)
    .collect();
    if specs.is_empty() {
        bail!("nothing to ask about: name packages, or use --all, --tier N or --org O");
    }
    let store = match &catalog {
        Some(c) => Some(StatusStore::open(c)?),
        None => None,
    };
    let setup = CheckSetup {
        store: store.as_ref(),
        substituters: config.jobs.substituters.as_deref(),
        grace: crate::jobs::process::GRACE,
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let report = rt.block_on(async {
        let cancel = CancellationToken::new();
        let progress = |stage: CheckStage| note(&format!("{stage}…"));
        let check = cache_check::check(&specs, setup, &cancel, &progress);
        tokio::pin!(check);
        tokio::select! {
            r = &mut check => r,
            _ = tokio::signal::ctrl_c() => {
                note("interrupted: cancelling the evaluation");
                cancel.cancel();
                check.await
            }
        }
    });
    let Some(report) = report else {
        return Ok(ExitCode::from(130));
    };
    with_stdout(Mode::of(args.json), |out| {
        if args.json {
            for row in &report.rows {
                serde_json::to_writer(&mut *out, &RowJson::from(row))?;
                writeln!(out)?;
            }
            return Ok(());
        }
        write!(out, "{}", table(&report.rows))
    })?;
    let asked = if report.asked.substituters.is_empty() {
        "no substituters are configured".to_string()
    } else {
        format!("asked {}", report.asked.substituters.join(", "))
    };
    note(&format!("{} ({asked})", report.summary()));
    if let Some(store) = &store {
        for e in store.take_write_errors() {
            note(&format!("atwb: {e}"));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// To stderr, ignoring errors (a closed terminal must not end the command).
fn note(text: &str) {
    let _ = std::io::stderr().write_all(format!("{}\n", escape_controls(text)).as_bytes());
}

/// `NAME  CACHED  CACHE  OUT PATH`, one row per target; an evaluation error in the cache column.
fn table(rows: &[CacheRow]) -> String {
    let cells: Vec<[String; 4]> = rows
        .iter()
        .map(|r| {
            let (cached, cache) = match &r.state {
                Ok(CacheState::Cached { url }) => ("yes", url.clone()),
                Ok(CacheState::NotCached) => ("no", "-".into()),
                Ok(CacheState::Unknown { why }) => ("?", format!("unknown: {why}")),
                Err(e) => (
                    "?",
                    format!(
                        "evaluation error: {}",
                        e.strip_prefix("error: ").unwrap_or(e)
                    ),
                ),
            };
            let out = r.out_paths.first().cloned().unwrap_or_else(|| "-".into());
            [r.package.clone(), cached.into(), cache, out]
        })
        .collect();
    let head = ["NAME", "CACHED", "CACHE", "OUT PATH"];
    let mut width = head.map(str::len);
    for row in &cells {
        for (w, c) in width.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cols: [&str; 4]| {
        let text: Vec<String> = cols
            .iter()
            .zip(width)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        format!("{}\n", text.join("  ").trim_end())
    };
    let mut s = line(head);
    for row in &cells {
        s.push_str(&line([&row[0], &row[1], &row[2], &row[3]]));
    }
    s
}
