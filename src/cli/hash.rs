//! `atwb hash`: dependency hashes of a lockfile, and a catalog package's source and dependency
//! hashes recomputed natively (git objects, lockfile + cached artifacts), with `--write` through
//! the format-preserving, conflict-refusing edit path.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Args;

use super::output::{Mode, with_stdout};
use crate::catalog::edit::{PackageFile, package_files, save_all};
use crate::catalog::git_cache::cache_dir;
use crate::catalog::rehash::{
    DepSources, LockBytes, LockKind, Outcome, SourceEntry, deps_outcome, lock_deps_hash,
    read_entry, source_outcome,
};
use crate::nix::fetcher::Rev;
use crate::paths;

#[derive(Debug, Args)]
pub struct HashArgs {
    /// A catalog package: recompute its source hash and dependency hash.
    #[arg(required_unless_present = "lockfile", conflicts_with = "lockfile")]
    pub name: Option<String>,
    /// A Cargo.lock (cargoHash) or package-lock.json / npm-shrinkwrap.json (npmDepsHash).
    #[arg(long, value_name = "PATH")]
    pub lockfile: Option<PathBuf>,
    /// A directory of `.crate` files, searched before $CARGO_HOME/registry/cache.
    #[arg(long, value_name = "DIR")]
    pub crates: Option<PathBuf>,
    /// A directory of npm tarballs (any names), searched besides the npm cache.
    #[arg(long, value_name = "DIR")]
    pub tarballs: Option<PathBuf>,
    /// The npm cache to read instead of $npm_config_cache or ~/.npm.
    #[arg(long, value_name = "DIR")]
    pub npm_cache: Option<PathBuf>,
    /// A local clone of the package's repository (default: atwb's prefetch cache of its URL).
    #[arg(long, value_name = "PATH", requires = "name")]
    pub source: Option<PathBuf>,
    /// Write the new hashes into package.toml (and the other members of its workspace).
    #[arg(long, requires = "name")]
    pub write: bool,
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &HashArgs, catalog_flag: Option<&Path>) -> Result<ExitCode> {
    if let Some(lockfile) = &args.lockfile {
        let kind = LockKind::of(lockfile)?;
        let bytes =
            std::fs::read(lockfile).with_context(|| format!("reading {}", lockfile.display()))?;
        let lock = LockBytes {
            kind,
            path: lockfile.clone(),
            bytes,
            executable: is_executable(lockfile),
            on_disk: true,
        };
        let hash = lock_deps_hash(lock, &dep_sources(args), &[])?;
        with_stdout(Mode::of(args.json), |out| {
            if args.json {
                let v = serde_json::json!({"lockfile": lockfile.display().to_string(),
                    "field": kind.nix_name(), "hash": hash});
                writeln!(out, "{v}")
            } else {
                writeln!(out, "{} {hash}", kind.nix_name())
            }
        })?;
        return Ok(ExitCode::SUCCESS);
    }
    let name = args
        .name
        .as_deref()
        .expect("clap requires NAME without --lockfile");
    let catalog = paths::locate_catalog(catalog_flag)?;
    run_package(args, &catalog, name)
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
}

fn dep_sources(args: &HashArgs) -> DepSources {
    DepSources {
        crates: args.crates.clone(),
        tarballs: args.tarballs.clone(),
        npm_cache: args.npm_cache.clone(),
    }
}

fn run_package(args: &HashArgs, catalog: &Path, name: &str) -> Result<ExitCode> {
    let entry = read_entry(catalog, name)?;
    let checkout = if let Some(p) = &args.source {
        p.clone()
    } else {
        let dir = cache_dir(&entry.url);
        if !dir.exists() {
            bail!(
                "no local clone of {}; pass --source PATH, or run `atwb prefetch {}` first",
                entry.url,
                entry.url
            );
        }
        dir
    };
    let (_, source) = source_outcome(&entry, &checkout, &Rev::Rev(entry.rev.clone()))?;
    let deps = deps_outcome(&entry, &checkout, &entry.rev, &dep_sources(args));
    let outcomes = [source, deps];
    let written = if args.write {
        write_outcomes(catalog, &entry, &outcomes)?
    } else {
        Vec::new()
    };
    with_stdout(Mode::of(args.json), |out| {
        report(out, name, &outcomes, &written, args.json)
    })?;
    // An unsupported builder is information; a supported one that failed is an error.
    Ok(if outcomes.iter().any(|o| o.new.is_err() && o.supported) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Writes every computed change into the package and the packages sharing its derivation
/// (same workspace and rev), all files checked for concurrent edits before any is written.
fn write_outcomes(
    catalog: &Path,
    entry: &SourceEntry,
    outcomes: &[Outcome],
) -> Result<Vec<PathBuf>> {
    let source = &outcomes[0];
    let deps = &outcomes[1];
    let source_new = source.new.as_deref().ok();
    let rewrite_source = source.changed().is_some() || (source_new.is_some() && !entry.verified);
    let deps_new = deps.changed();
    if !rewrite_source && deps_new.is_none() {
        return Ok(Vec::new());
    }
    let mut files = vec![entry.file.clone()];
    let workspace = entry.file.get_str("build.workspace").map(str::to_string);
    if workspace.is_some() {
        for path in package_files(catalog) {
            if path == entry.file.path {
                continue;
            }
            let f = PackageFile::read(&path)?;
            if f.get_str("build.workspace") == workspace.as_deref()
                && f.get_str("source.rev") == Some(entry.rev.as_str())
            {
                files.push(f);
            }
        }
    }
    let provenance = format!(
        "computed natively by atwb {} from {}, {}",
        env!("CARGO_PKG_VERSION"),
        source.from,
        crate::time::today_utc()
    );
    for f in &mut files {
        if let (true, Some(hash)) = (rewrite_source, source_new) {
            f.set("source.hash", hash)?;
            f.set("source.verified", true)?;
            f.set("source.provenance", provenance.as_str())?;
        }
        if let Some(hash) = deps_new {
            f.set("build.deps_hash", hash)?;
        }
    }
    // One transaction: every file or none, and none if any changed since it was read.
    save_all(&mut files)?;
    Ok(files.into_iter().map(|f| f.path).collect())
}

fn report(
    out: &mut dyn std::io::Write,
    name: &str,
    outcomes: &[Outcome],
    written: &[PathBuf],
    json: bool,
) -> std::io::Result<()> {
    if json {
        let items: Vec<_> = outcomes
            .iter()
            .map(|o| {
                serde_json::json!({
                    "field": o.field,
                    "old": o.old,
                    "new": o.new.as_ref().ok(),
                    "error": o.new.as_ref().err(),
                    "from": o.from,
                    "changed": o.changed().is_some(),
                })
            })
            .collect();
        let written: Vec<_> = written.iter().map(|p| p.display().to_string()).collect();
        let v = serde_json::json!({"package": name, "hashes": items, "written": written});
        return writeln!(out, "{v}");
    }
    for o in outcomes {
        match &o.new {
            Ok(new) if *new == o.old => writeln!(out, "{:<16} {new} (unchanged)", o.field)?,
            Ok(new) => {
                writeln!(out, "{:<16} old {}", o.field, o.old)?;
                writeln!(out, "{:<16} new {new}  from {}", "", o.from)?;
            }
            Err(e) => writeln!(out, "{:<16} {} (kept: {e})", o.field, o.old)?,
        }
    }
    for p in written {
        writeln!(out, "wrote {}", p.display())?;
    }
    if written.is_empty() && outcomes.iter().any(|o| o.changed().is_some()) {
        writeln!(out, "(not written; pass --write to update package.toml)")?;
    }
    Ok(())
}
