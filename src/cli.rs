//! Command-line interface. `atwb` alone opens the TUI; every other action is a subcommand that
//! runs the same engine headless (with `--json` for CI).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, CommandFactory, Parser, Subcommand};

use crate::paths;

#[derive(Debug, Parser)]
#[command(name = "atwb", version, about = "Terminal workbench for the ATproto Nix User Repository")]
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
        Some(Command::Check(_a)) => not_yet("check"),
        Some(Command::List(_a)) => not_yet("list"),
        Some(Command::Show(_a)) => not_yet("show"),
        Some(Command::Unit(_a)) => not_yet("unit"),
        Some(Command::Build(_a)) => not_yet("build"),
        Some(Command::Log(_a)) => not_yet("log"),
        Some(Command::Debug(DebugCommand::Filter { .. })) => not_yet("debug filter"),
    }
}

fn not_yet(what: &str) -> Result<ExitCode> {
    anyhow::bail!("`atwb {what}` is not implemented yet")
}
