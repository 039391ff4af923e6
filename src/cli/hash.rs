//! `atwb hash`: dependency hashes of a lockfile, and a catalog package's source and dependency
//! hashes recomputed natively (git objects, lockfile + cached artifacts), with `--write` through
//! the format-preserving, conflict-refusing edit path. The computation is `jobs::rehash`, which
//! the TUI's hash action runs too; this file parses, prints and sets the exit code.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use super::output::{Mode, with_stdout};
use crate::jobs::rehash::{self, HashField, HashOptions, LockBytes};
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
    /// Download registry crates missing from the caches (each checked against Cargo.lock's
    /// checksum) into atwb's cache under the state directory.
    #[arg(long)]
    pub download: bool,
    /// Where crates are downloaded from: `{URL}/{name}/{name}-{version}.crate`.
    #[arg(
        long,
        value_name = "URL",
        env = "ATWB_CRATES_URL",
        requires = "download"
    )]
    pub crates_url: Option<String>,
    /// A local clone holding git dependencies of the lockfile (repeatable).
    #[arg(long, value_name = "PATH")]
    pub git_repo: Vec<PathBuf>,
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
    let opts = HashOptions {
        crates: args.crates.clone(),
        tarballs: args.tarballs.clone(),
        npm_cache: args.npm_cache.clone(),
        source: args.source.clone(),
        download: args.download,
        crates_url: args.crates_url.clone(),
        git_repos: args.git_repo.clone(),
    };
    if let Some(lockfile) = &args.lockfile {
        let lock = LockBytes::read(lockfile)?;
        let field = lock.kind.nix_name();
        let hash = rehash::deps_hash(lock, &opts, &[], &|_| {})?;
        with_stdout(Mode::of(args.json), |out| {
            if args.json {
                let v = serde_json::json!({"lockfile": lockfile.display().to_string(),
                    "field": field, "hash": hash});
                writeln!(out, "{v}")
            } else {
                writeln!(out, "{field} {hash}")
            }
        })?;
        return Ok(ExitCode::SUCCESS);
    }
    let name = args
        .name
        .as_deref()
        .expect("clap requires NAME without --lockfile");
    let catalog = paths::locate_catalog(catalog_flag)?;
    let hashes = rehash::compute(&catalog, name, &opts, &|_| {})?;
    let written = if args.write {
        rehash::write(&catalog, &hashes)?
    } else {
        Vec::new()
    };
    let fields = [hashes.source.clone(), hashes.deps.clone()];
    with_stdout(Mode::of(args.json), |out| {
        report(out, name, &fields, &written, args.json)
    })?;
    // An unsupported builder is information; a supported one that failed is an error.
    Ok(if hashes.errors().is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn report(
    out: &mut dyn std::io::Write,
    name: &str,
    outcomes: &[HashField],
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
