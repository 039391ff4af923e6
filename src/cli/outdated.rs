//! `atwb outdated [NAME...]`: where upstream moved, one line per package as each answer comes
//! (`--json`: one JSON object per line, JSON Lines, so a consumer streams them too).

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;

use super::output::{Mode, find_package, load_catalog, with_stdout};
use crate::jobs::upstream::{
    GithubApi, Status, UpstreamOptions, UpstreamQuery, UpstreamRow, check_all,
};

#[derive(Debug, Args)]
pub struct OutdatedArgs {
    /// Packages to check (default: every package of the catalog).
    pub names: Vec<String>,
    /// One JSON object per package and line (JSON Lines), in the order they finish.
    #[arg(long)]
    pub json: bool,
    /// Only list refs (head, tags); do not fetch into the cache to count commits behind.
    #[arg(long)]
    pub no_fetch: bool,
    /// Packages checked at once.
    #[arg(long, default_value_t = 4, value_name = "N")]
    pub jobs: usize,
    /// Seconds allowed for listing refs and for each GitHub API request.
    #[arg(long, default_value_t = 20, value_name = "SECS")]
    pub timeout: u64,
    /// Seconds allowed for each fetch into the cache.
    #[arg(long, default_value_t = 300, value_name = "SECS")]
    pub fetch_timeout: u64,
}

/// Exit 0 when every package's refs could be listed (whatever its status), 1 when some
/// could not.
pub fn run(args: &OutdatedArgs, root: &Path) -> Result<ExitCode> {
    let loaded = load_catalog(root)?;
    let packages: Vec<_> = if args.names.is_empty() {
        let invalid: std::collections::BTreeSet<_> =
            loaded.diagnostics.iter().map(|d| &d.file).collect();
        if !invalid.is_empty() {
            eprintln!(
                "atwb: {} package file(s) with errors are not checked (see `atwb check`)",
                invalid.len()
            );
        }
        loaded.catalog.packages.iter().collect()
    } else {
        let mut found = Vec::new();
        for n in &args.names {
            match find_package(loaded, n)? {
                Some(p) => found.push(p),
                None => return Ok(ExitCode::from(1)),
            }
        }
        found
    };
    let queries: Vec<_> = packages
        .iter()
        .filter_map(|p| UpstreamQuery::of(p))
        .collect();
    let width = queries
        .iter()
        .map(|q| q.name.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let timeout = Duration::from_secs(args.timeout.max(1));
    let opts = UpstreamOptions {
        jobs: args.jobs.max(1),
        timeout,
        fetch_timeout: Duration::from_secs(args.fetch_timeout.max(1)),
        fetch: !args.no_fetch,
        github: GithubApi::from_env(timeout),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let json = args.json;
    if !json {
        with_stdout(Mode::Text, |out| write_header(out, width))?;
    }
    let unreachable = runtime.block_on(async move {
        let mut rx = check_all(queries, opts);
        let mut unreachable = 0usize;
        while let Some(row) = rx.recv().await {
            unreachable += usize::from(row.status == Status::Unreachable);
            with_stdout(Mode::of(json), |out| {
                if json {
                    serde_json::to_writer(&mut *out, &row)?;
                    writeln!(out)
                } else {
                    write_row(out, &row, width)
                }
            })?;
        }
        anyhow::Ok(unreachable)
    })?;
    // A timed-out listing or fetch may still sit in a blocking thread (until its socket gives
    // up): its row is printed, so do not wait for it.
    runtime.shutdown_background();
    Ok(if unreachable == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn write_header(out: &mut dyn std::io::Write, width: usize) -> std::io::Result<()> {
    writeln!(
        out,
        "{:<width$}  {:<34}  {:<12}  {:<20}  {:>6}  STATUS",
        "NAME", "PINNED", "HEAD", "NEWEST TAG", "BEHIND"
    )
}

fn short(rev: Option<&str>) -> String {
    rev.map_or_else(|| "-".into(), |r| r.chars().take(12).collect())
}

fn write_row(out: &mut dyn std::io::Write, row: &UpstreamRow, width: usize) -> std::io::Result<()> {
    let pinned = format!(
        "{} @{}",
        row.pinned_version,
        short(Some(&row.pinned_rev)).get(..7).unwrap_or_default()
    );
    let behind = row.behind.map_or_else(|| "-".into(), |n| n.to_string());
    writeln!(
        out,
        "{:<width$}  {pinned:<34}  {:<12}  {:<20}  {behind:>6}  {}: {}",
        row.name,
        short(row.head.as_deref()),
        row.newest_tag.as_deref().unwrap_or("-"),
        row.status.as_str(),
        row.reason
    )?;
    for p in &row.problems {
        writeln!(out, "{:<width$}  ! {p}", "")?;
    }
    if let Some(r) = &row.release {
        let title = r
            .name
            .as_deref()
            .filter(|n| !n.is_empty())
            .unwrap_or(&r.tag_name);
        let first = r
            .body
            .as_deref()
            .and_then(|b| b.lines().map(str::trim).find(|l| !l.is_empty()))
            .unwrap_or("(no notes)");
        writeln!(out, "{:<width$}  release {title}: {first}", "")?;
    }
    Ok(())
}
