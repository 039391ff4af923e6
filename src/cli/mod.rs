//! Command-line interface. `atwb` alone opens the TUI; every other action is a subcommand that
//! runs the same code headless (with `--json` for CI). Each subcommand's arguments and front end
//! live in its own file; this one only parses and dispatches.

mod build;
mod build_estimates;
mod build_eval;
mod build_output;
mod build_progress;
mod bump;
mod cache;
mod check;
mod completions;
mod debug;
mod fix;
mod hash;
mod list;
mod log;
mod new;
mod options;
mod outdated;
mod output;
mod prefetch;
mod set;
mod show;
mod status;
mod unit;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};

pub use build::BuildArgs;
pub use bump::BumpArgs;
pub use check::CheckArgs;
pub use completions::CompletionsArgs;
pub use debug::DebugCommand;
pub use hash::HashArgs;
pub use list::ListArgs;
pub use log::LogArgs;
pub use new::NewArgs;
pub use options::OptionsArgs;
pub use outdated::OutdatedArgs;
pub use prefetch::PrefetchArgs;
pub use set::SetArgs;
pub use show::ShowArgs;
pub use unit::UnitArgs;

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
    /// Set one field of a package.toml (validated, format-preserving, atomic); exit 1 if invalid.
    Set(SetArgs),
    /// The NixOS options of a package's services (a reference: --markdown).
    Options(OptionsArgs),
    /// Print the systemd [Service] section a service's module would produce.
    Unit(UnitArgs),
    /// Build packages (one nix process per target) and record their status.
    Build(BuildArgs),
    /// Ask the binary caches about packages without building them (evaluates their drv and
    /// out paths once, then queries each substituter's narinfo); exit 0.
    Cache(cache::CacheArgs),
    /// Write nix's `got:` hash of the last run's hash mismatch (the TUI's `f`); --rebuild builds again.
    Fix(fix::FixArgs),
    /// Open a saved internal-json log and triage it.
    Log(LogArgs),
    /// Pin a git revision: rev, NAR hash, commit date and version, from git objects.
    Prefetch(PrefetchArgs),
    /// Compute a lockfile's dependency hash, or a catalog package's source and dependency hashes.
    Hash(HashArgs),
    /// Scaffold packages from an upstream repository (detects build, license, services, hashes).
    New(NewArgs),

    /// Where upstream moved: head, newest tag, commits behind, release notes (streamed).
    Outdated(OutdatedArgs),
    /// Move a package to a new upstream commit or tag, hashes recomputed; --write writes it.
    Bump(BumpArgs),
    /// Print shell completions.
    Completions(CompletionsArgs),
    /// Entry points for benchmarks and debugging.
    #[command(subcommand, hide = true)]
    Debug(DebugCommand),
}

pub fn main() -> ExitCode {
    // nix runs atwb as its build hook (see `nix::build_hook`) before every local build: answer
    // before anything else is set up.
    if crate::nix::build_hook::started_as_hook() {
        return crate::nix::build_hook::run_declining_hook();
    }
    if let Ok(exe) = std::env::current_exe() {
        crate::nix::build_hook::set_hook_exe(exe);
    }
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            // Errors can quote catalog values: no control character reaches the terminal.
            eprintln!("atwb: {}", output::escape_controls(&format!("{e:#}")));
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    let flag = cli.catalog.as_deref();
    let catalog = || paths::locate_catalog(flag);
    match &cli.command {
        None => crate::tui::run(catalog()?),
        Some(Command::Completions(a)) => Ok(completions::run(a)),
        Some(Command::Check(a)) => check::run(a, &catalog()?),
        Some(Command::List(a)) => list::run(a, &catalog()?),
        Some(Command::Show(a)) => show::run(a, &catalog()?),
        Some(Command::Set(a)) => set::run(a, &catalog()?),
        Some(Command::Options(a)) => options::run(a, &catalog()?),
        Some(Command::Unit(a)) => unit::run(a, &catalog()?),
        // With --flake the catalog is optional, so `build` looks it up itself.
        Some(Command::Build(a)) => build::run(a, flag),
        Some(Command::Fix(a)) => fix::run(a, flag),
        Some(Command::Cache(a)) => cache::run(a, flag),
        Some(Command::Log(a)) => log::run(a),
        Some(Command::Prefetch(a)) => prefetch::run(a),
        // --lockfile needs no catalog, so `hash` looks it up itself.
        Some(Command::Hash(a)) => hash::run(a, flag),
        Some(Command::New(a)) => new::run(a, &catalog()?),

        Some(Command::Outdated(a)) => outdated::run(a, &catalog()?),
        Some(Command::Bump(a)) => bump::run(a, flag),
        Some(Command::Debug(d)) => debug::run(d, catalog),
    }
}
