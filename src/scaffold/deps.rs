//! Dependency hashes of the proposed parts, computed natively where atwb reproduces the
//! fetcher (cargoHash from `Cargo.lock`, npmDepsHash from `package-lock.json`, with the
//! artifacts in this user's cargo and npm caches), else `"unknown"` with the reason (the
//! first build's `got:` line then fills it in).

use std::collections::HashMap;
use std::path::Path;

use super::proposal::Part;
use super::repo::{CommitFiles, join};
use crate::catalog::model::Builder;
use crate::nix::cargo_lock::Lockfile;
use crate::nix::cargo_vendor::{CrateSources, cargo_vendor_hash};
use crate::nix::npm_deps::{NpmOptions, npm_deps_hash};
use crate::nix::npm_sources::NpmSources;

/// Fills `deps_hash` and `deps_reason` of every part; parts built from the same lockfile share
/// one computation.
pub fn compute(parts: &mut [Part], files: &CommitFiles, repo: &Path) {
    let mut done: HashMap<String, Result<String, String>> = HashMap::new();
    for part in parts.iter_mut() {
        let root = part.source_root.clone().unwrap_or_default();
        let (lockfile, result) = match part.builder {
            Builder::RustWorkspace | Builder::RustPackage => {
                let lock = join(&root, "Cargo.lock");
                let r = done
                    .entry(lock.clone())
                    .or_insert_with(|| cargo(files, &lock, repo))
                    .clone();
                (lock, r)
            }
            Builder::NpmPackage => {
                let shrink = join(&root, "npm-shrinkwrap.json");
                let lock = if files.is_file(&shrink) {
                    shrink
                } else {
                    join(&root, "package-lock.json")
                };
                let r = done
                    .entry(lock.clone())
                    .or_insert_with(|| npm(files, &lock))
                    .clone();
                (lock, r)
            }
            other => (String::new(), Err(unsupported(other).to_string())),
        };
        match result {
            Ok(hash) => {
                part.deps_reason = format!(
                    "{} computed natively from {lockfile}",
                    part.builder.deps_hash_nix_name()
                );
                part.deps_hash = hash;
            }
            Err(reason) => {
                part.deps_hash = "unknown".into();
                part.deps_reason = reason;
            }
        }
    }
}

fn unsupported(builder: Builder) -> &'static str {
    match builder {
        Builder::GoModule => {
            "vendorHash depends on `go mod vendor` output (module proxy contents), which atwb does not reproduce"
        }
        Builder::PnpmWorkspace => {
            "pnpmDeps.hash depends on one pnpm version's store layout and tar/zstd output, which atwb does not reproduce"
        }
        Builder::DenoApp => {
            "denoDepsHash depends on deno's cache layout, which atwb does not reproduce"
        }
        Builder::StaticSite => "static-site fetches no dependencies",
        _ => "atwb computes cargo and npm dependency hashes only",
    }
}

fn cargo(files: &CommitFiles, lock: &str, repo: &Path) -> Result<String, String> {
    let bytes = files
        .read(lock)
        .ok_or_else(|| format!("no {lock} in the commit; cargoHash needs a lockfile"))?;
    let lockfile = Lockfile::parse(Path::new(lock), bytes.into_bytes(), false)
        .map_err(|e| format!("{lock}: {e}"))?;
    let mut sources = CrateSources::from_env();
    sources.git_repos.push(repo.to_path_buf());
    cargo_vendor_hash(&lockfile, &sources)
        .map(|h| h.sri())
        .map_err(|e| format!("cargoHash not computed: {e}"))
}

fn npm(files: &CommitFiles, lock: &str) -> Result<String, String> {
    let text = files
        .read(lock)
        .ok_or_else(|| format!("no {lock} in the commit; npmDepsHash needs a lockfile"))?;
    // fetchNpmDeps reads the lockfile from the source tree; the commit's blob is staged under
    // its own name.
    let staged = tempfile::tempdir().map_err(|e| format!("creating a temporary directory: {e}"))?;
    let file = staged.path().join(super::repo::basename(lock));
    std::fs::write(&file, text).map_err(|e| format!("writing {}: {e}", file.display()))?;
    npm_deps_hash(&file, &NpmSources::from_env(), NpmOptions::default())
        .map(|h| h.hash.sri())
        .map_err(|e| format!("npmDepsHash not computed: {e}"))
}
