//! `atwb bump NAME [--to REV|TAG] [--write]`: move a package to a new upstream commit or tag,
//! hashes recomputed natively; prints the diff of package.toml, and writes only with --write.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use super::output::{Mode, with_stdout};
use crate::catalog::bump::{BumpOptions, BumpPlan, BumpTarget, plan};
use crate::catalog::rehash::{DepSources, short};
use crate::paths;

#[derive(Debug, Args)]
pub struct BumpArgs {
    pub name: String,
    /// A tag or any revision (default: the newest tag for a release pin, else the head of the
    /// default branch).
    #[arg(long, value_name = "REV|TAG")]
    pub to: Option<String>,
    /// Write the diff shown (the package and the workspace siblings sharing its source).
    #[arg(long)]
    pub write: bool,
    /// A local clone to read instead of atwb's cache of the package's URL.
    #[arg(long, value_name = "PATH")]
    pub source: Option<PathBuf>,
    /// Use the cache as it is; do not fetch from upstream first.
    #[arg(long)]
    pub no_fetch: bool,
    /// A directory of `.crate` files, searched before $CARGO_HOME/registry/cache.
    #[arg(long, value_name = "DIR")]
    pub crates: Option<PathBuf>,
    /// A directory of npm tarballs (any names), searched besides the npm cache.
    #[arg(long, value_name = "DIR")]
    pub tarballs: Option<PathBuf>,
    /// The npm cache to read instead of $npm_config_cache or ~/.npm.
    #[arg(long, value_name = "DIR")]
    pub npm_cache: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

/// Exit 0 when the bump is shown (or written) with every hash computed, 1 when a dependency
/// hash had to become "unknown".
pub fn run(args: &BumpArgs, catalog_flag: Option<&Path>) -> Result<ExitCode> {
    let catalog = paths::locate_catalog(catalog_flag)?;
    let target = args.to.clone().map_or(BumpTarget::Default, BumpTarget::To);
    let opts = BumpOptions {
        checkout: args.source.clone(),
        fetch: !args.no_fetch,
        sources: DepSources {
            crates: args.crates.clone(),
            tarballs: args.tarballs.clone(),
            npm_cache: args.npm_cache.clone(),
            ..DepSources::default()
        },
    };
    let mut bump = plan(&catalog, &args.name, &target, &opts)?;
    let written = if args.write && !bump.is_noop() {
        bump.write()?
    } else {
        Vec::new()
    };
    with_stdout(Mode::of(args.json), |out| {
        if args.json {
            let v = serde_json::json!({"bump": &bump, "written": written});
            return writeln!(out, "{v}");
        }
        report(out, &bump, &written)
    })?;
    Ok(
        if bump.deps_verified == Some(false) && bump.deps.supported {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        },
    )
}

fn report(
    out: &mut dyn std::io::Write,
    bump: &BumpPlan,
    written: &[PathBuf],
) -> std::io::Result<()> {
    if bump.is_noop() {
        return writeln!(
            out,
            "{} is already at {} ({}); nothing to change",
            bump.package, bump.new_rev, bump.new_version
        );
    }
    let to = bump
        .tag
        .as_deref()
        .map_or_else(String::new, |t| format!(" (tag {t})"));
    writeln!(
        out,
        "{}: {} {} -> {} {}{to}",
        bump.package,
        bump.old_version,
        short(&bump.old_rev),
        bump.new_version,
        short(&bump.new_rev)
    )?;
    if let Err(why) = &bump.deps.new {
        writeln!(
            out,
            "build.deps_hash: unknown (deps_verified = false): {why}"
        )?;
    }
    out.write_all(bump.diff.as_bytes())?;
    if written.is_empty() {
        writeln!(out, "(not written; pass --write to update package.toml)")?;
    }
    for p in written {
        writeln!(out, "wrote {}", p.display())?;
    }
    if !written.is_empty() {
        let names = bump.packages().join(" ");
        writeln!(out, "stale until rebuilt: atwb build {names}")?;
    }
    Ok(())
}
