//! Command-line interface. `atwb` alone opens the TUI; every other action is a subcommand that
//! runs the same engine headless (with `--json` for CI).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, CommandFactory, Parser, Subcommand};

use crate::paths;

#[derive(Debug, Parser)]
#[command(
    name = "atwb",
    version,
    about = "Terminal workbench for the ATproto Nix User Repository"
)]
pub struct Cli {
    /// The catalog directory (default: $ATWB_CATALOG, else catalog/ of the enclosing git repository).
    #[arg(long, global = true, value_name = "PATH")]
    pub catalog: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate every package.toml; exit 1 on any error.
    Check(CheckArgs),
    /// List packages.
    List(ListArgs),
    /// Show one package.
    Show(ShowArgs),
    /// Print the systemd [Service] section a service's module would produce.
    Unit(UnitArgs),
    /// Build packages (one nix process per target) and record their status.
    Build(BuildArgs),
    /// Open a saved internal-json log and triage it.
    Log(LogArgs),
    /// Print shell completions.
    Completions(CompletionsArgs),
    /// Entry points for benchmarks and debugging.
    #[command(subcommand, hide = true)]
    Debug(DebugCommand),
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only this tier (1, 2 or 3).
    #[arg(long)]
    pub tier: Option<u8>,
    /// Only this org.
    #[arg(long)]
    pub org: Option<String>,
    /// Fuzzy filter over name, org, description and services (the TUI's matcher).
    #[arg(long, value_name = "QUERY")]
    pub filter: Option<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    pub name: String,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct UnitArgs {
    /// A service name, or PACKAGE to print all of its services.
    pub name: String,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    /// Packages (catalog names) or, with --flake, flake attributes.
    pub names: Vec<String>,
    #[arg(long, conflicts_with_all = ["tier", "org"])]
    pub all: bool,
    #[arg(long)]
    pub tier: Option<u8>,
    #[arg(long)]
    pub org: Option<String>,
    /// Run the packages' checks (smoke and VM tests) instead of building them.
    #[arg(long)]
    pub test: bool,
    /// Flake to build from (default: the repository holding the catalog).
    #[arg(long, value_name = "REF")]
    pub flake: Option<String>,
    #[arg(long)]
    pub json: bool,
    /// Write a JUnit XML report.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct LogArgs {
    pub file: PathBuf,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    pub shell: clap_complete::Shell,
}

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

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("atwb: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    let catalog = || {
        let cwd = std::env::current_dir()?;
        paths::find_catalog(cli.catalog.as_deref(), &cwd)
    };
    match cli.command {
        None => {
            crate::tui::run(catalog()?)?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Completions(a)) => {
            clap_complete::generate(a.shell, &mut Cli::command(), "atwb", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Check(a)) => crate::catalog::commands::check(&catalog()?, a.json),
        Some(Command::List(a)) => {
            let query = crate::catalog::commands::ListQuery {
                tier: a.tier,
                org: a.org.as_deref(),
                filter: a.filter.as_deref(),
                json: a.json,
            };
            crate::catalog::commands::list(&catalog()?, &query)
        }
        Some(Command::Show(a)) => crate::catalog::commands::show(&catalog()?, &a.name, a.json),
        Some(Command::Unit(a)) => crate::nix::unit::run_cli(&catalog()?, &a.name, a.json),
        Some(Command::Build(a)) => crate::jobs::cli::run(&a, cli.catalog.as_deref()),
        Some(Command::Log(a)) => crate::nix::logfile::run(&a.file, a.json),
        Some(Command::Debug(DebugCommand::Ingest { file, parse_only })) => {
            crate::nix::logfile::debug_ingest(&file, parse_only)
        }
        Some(Command::Debug(DebugCommand::Filter { names, query })) => {
            crate::tui::debug::filter(&names, &query)
        }
        Some(Command::Debug(DebugCommand::FirstFrame {
            width,
            height,
            print,
            timings,
            search,
        })) => crate::tui::debug::first_frame(
            &catalog()?,
            width,
            height,
            print,
            timings,
            search.as_deref(),
        ),
        Some(Command::Debug(DebugCommand::Latency {
            flake,
            attrs,
            keys,
            interval_ms,
            warmup_ms,
            width,
            height,
        })) => crate::tui::debug::latency(
            &catalog()?,
            &crate::tui::debug::LatencyOptions {
                flake,
                attrs,
                keys,
                interval_ms,
                width,
                height,
                warmup_ms,
            },
        ),
    }
}
