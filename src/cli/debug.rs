//! `atwb debug ...`: hidden entry points for benchmarks and debugging. `filter` and `ingest` are
//! here; `first-frame` and `latency` drive the TUI's loop and live in `tui::debug`.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Subcommand;

use crate::nix::internal_json::{Event, parse_line};
use crate::nix::logfile::{self, IngestStats};
use crate::nix::state::BuildState;
use crate::tui::debug::{LatencyOptions, first_frame, latency};

#[derive(Debug, Subcommand)]
pub enum DebugCommand {
    /// Filter a file of names (one per line) with the TUI's fuzzy matcher; prints matches best first.
    Filter {
        #[arg(long)]
        names: PathBuf,
        query: String,
    },
    /// Read an internal-json log through the parser and build state, timed (benchmark).
    Ingest {
        file: PathBuf,
        /// Parse only; do not build the state.
        #[arg(long)]
        parse_only: bool,
    },
    /// Load the catalog and draw the TUI's first frame to an in-memory terminal, then exit (benchmark).
    FirstFrame {
        #[arg(long, default_value_t = 120)]
        width: u16,
        #[arg(long, default_value_t = 40)]
        height: u16,
        /// Print the frame as text.
        #[arg(long)]
        print: bool,
        /// Print load / state / draw times to stderr.
        #[arg(long)]
        timings: bool,
        /// Then type this search query key by key (with --timings: time per key).
        #[arg(long, value_name = "QUERY")]
        search: Option<String>,
    },
    /// Keystroke-to-frame latency of the TUI loop while real nix jobs stream logs (benchmark).
    Latency {
        /// Flake to build from, e.g. path:/tmp/x (bench/latency.sh copies tests/fixtures/flakes/tui).
        #[arg(long)]
        flake: String,
        /// Attributes to build at once.
        #[arg(long, num_args = 1.., default_values_t = ["stream1".to_string(), "stream2".to_string(), "stream3".to_string(), "stream4".to_string()])]
        attrs: Vec<String>,
        #[arg(long, default_value_t = 300)]
        keys: usize,
        #[arg(long, default_value_t = 20)]
        interval_ms: u64,
        #[arg(long, default_value_t = 1500)]
        warmup_ms: u64,
        #[arg(long, default_value_t = 120)]
        width: u16,
        #[arg(long, default_value_t = 40)]
        height: u16,
    },
}

/// `catalog` finds the catalog; only the commands that need one call it.
pub fn run(command: &DebugCommand, catalog: impl Fn() -> Result<PathBuf>) -> Result<ExitCode> {
    match command {
        DebugCommand::Filter { names, query } => filter(names, query),
        DebugCommand::Ingest { file, parse_only } => ingest(file, *parse_only),
        DebugCommand::FirstFrame {
            width,
            height,
            print,
            timings,
            search,
        } => first_frame(
            &catalog()?,
            *width,
            *height,
            *print,
            *timings,
            search.as_deref(),
        ),
        DebugCommand::Latency {
            flake,
            attrs,
            keys,
            interval_ms,
            warmup_ms,
            width,
            height,
        } => latency(
            &catalog()?,
            &LatencyOptions {
                flake: flake.clone(),
                attrs: attrs.clone(),
                keys: *keys,
                interval_ms: *interval_ms,
                width: *width,
                height: *height,
                warmup_ms: *warmup_ms,
            },
        ),
    }
}

/// `atwb debug filter --names FILE QUERY`: the TUI's matcher over a file of names, best first.
fn filter(names: &Path, query: &str) -> Result<ExitCode> {
    let text =
        std::fs::read_to_string(names).with_context(|| format!("reading {}", names.display()))?;
    let lines: Vec<&str> = text.lines().collect();
    let hits = crate::search::filter_strings(&lines, query);
    let mut out = BufWriter::new(std::io::stdout().lock());
    for (i, _) in &hits {
        if writeln!(out, "{}", lines[*i]).is_err() {
            break; // closed pipe (e.g. `| head`): stop quietly
        }
    }
    let _ = out.flush();
    // Like fzf --filter: exit 1 when nothing matched.
    Ok(if hits.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// `atwb debug ingest FILE [--parse-only]`: the ingest loop alone, timed, for benchmarks.
fn ingest(path: &Path, parse_only: bool) -> Result<ExitCode> {
    let started = Instant::now();
    let (stats, errors) = if parse_only {
        let mut stats = IngestStats::default();
        logfile::for_each_line(logfile::open(path)?, |line| {
            let event = parse_line(line);
            stats.lines += 1;
            stats.bytes += line.len() as u64 + 1;
            stats.json_events += u64::from(!matches!(event, Event::Plain(_)));
        })?;
        (stats, 0)
    } else {
        let mut state = BuildState::new();
        let stats = logfile::ingest(logfile::open(path)?, &mut state)?;
        (stats, state.errors_total())
    };
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{} lines, {} bytes, {} events, {} errors in {:.3} s: {:.0} lines/s, {:.1} MB/s",
        stats.lines,
        stats.bytes,
        stats.json_events,
        errors,
        secs,
        stats.lines as f64 / secs,
        stats.bytes as f64 / secs / 1e6
    );
    Ok(ExitCode::SUCCESS)
}
