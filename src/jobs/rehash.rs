//! A catalog package's source and dependency hashes recomputed natively (git objects, a lockfile
//! and cached artifacts), and written through the format-preserving, conflict-refusing edit
//! path: the one computation behind `atwb hash NAME` and the TUI's hash action. Blocking work
//! (git objects, SHA-256 of every crate): a front end runs it off its event loop, and hears how
//! far it got through the `progress` callback. Reading the package, finding and hashing the
//! lockfile are `catalog::rehash` (the bump uses them too); this adds where the artifacts come
//! from (atwb's download cache, the prefetch cache), the provenance and the write.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::catalog::edit::{PackageFile, package_files, save_all};
use crate::catalog::rehash::{
    DepSources, Outcome, deps_outcome, lock_deps_hash, read_entry, short, source_outcome,
};
use crate::nix::crate_download::Download;
use crate::nix::fetcher::Rev;
use crate::nix::git_remote::{self, Want};

pub use crate::catalog::rehash::{HashStep, LockBytes, LockKind, Progress};

/// One recomputed hash: the catalog's value and atwb's, or why atwb could not compute it.
pub type HashField = Outcome;

/// Where the artifacts come from, besides the user's own caches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HashOptions {
    /// A directory of `.crate` files, searched before $CARGO_HOME/registry/cache.
    pub crates: Option<PathBuf>,
    /// A directory of npm tarballs (any names), searched besides the npm cache.
    pub tarballs: Option<PathBuf>,
    /// The npm cache to read instead of $npm_config_cache or ~/.npm.
    pub npm_cache: Option<PathBuf>,
    /// A local clone of the package's repository (default: atwb's prefetch cache of its URL).
    pub source: Option<PathBuf>,
    /// Download registry crates missing from the caches (each checked against Cargo.lock's
    /// checksum) into atwb's cache under the state directory.
    pub download: bool,
    /// Where crates are downloaded from (`{URL}/{name}/{name}-{version}.crate`; default crates.io).
    pub crates_url: Option<String>,
    /// Local clones holding git dependencies of the lockfile.
    pub git_repos: Vec<PathBuf>,
}

impl HashOptions {
    /// The artifact sources these options name, with atwb's download cache under the state
    /// directory always searched (crates downloaded once serve every later hash).
    fn dep_sources(&self) -> DepSources {
        let state = crate::paths::state_dir();
        DepSources {
            crates: self.crates.clone(),
            crate_cache: Some(Download::cache_dir(&state)),
            download: self
                .download
                .then(|| Download::new(&state, self.crates_url.clone())),
            git_repos: self.git_repos.clone(),
            tarballs: self.tarballs.clone(),
            npm_cache: self.npm_cache.clone(),
        }
    }
}

/// The SRI dependency hash of `lock`; `repos` may hold git dependencies.
pub fn deps_hash(
    lock: LockBytes,
    opts: &HashOptions,
    repos: &[PathBuf],
    progress: Progress<'_>,
) -> Result<String> {
    lock_deps_hash(lock, &opts.dep_sources(), repos, progress)
}

/// A package's hashes as recomputed, and what writing them would change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageHashes {
    pub package: String,
    pub file: PathBuf,
    pub rev: String,
    pub source: HashField,
    pub deps: HashField,
    /// `source.verified` and `source.provenance` now, and what a write sets them to.
    pub old_verified: bool,
    pub old_provenance: String,
    pub new_provenance: String,
}

impl PackageHashes {
    /// Whether the source pin is rewritten: a changed hash, or a correct one that was only
    /// copied (unverified) until now.
    pub fn rewrites_source(&self) -> bool {
        self.source.changed().is_some() || (self.source.new.is_ok() && !self.old_verified)
    }

    /// Whether [`write`] would change anything.
    pub fn has_changes(&self) -> bool {
        self.rewrites_source() || self.deps.changed().is_some()
    }

    /// The errors of hashes that atwb computes for this package but could not.
    pub fn errors(&self) -> Vec<String> {
        [&self.source, &self.deps]
            .into_iter()
            .filter_map(|f| Some(format!("{}: {}", f.field, f.error()?)))
            .collect()
    }
}

/// Recomputes `name`'s source hash and dependency hash. Err: the package cannot be read or its
/// source is in no local repository (the message says how to get it); a dependency hash that
/// cannot be computed is an `Err` in [`PackageHashes::deps`] instead.
pub fn compute(
    catalog: &Path,
    name: &str,
    opts: &HashOptions,
    progress: Progress<'_>,
) -> Result<PackageHashes> {
    let entry = read_entry(catalog, name)?;
    let checkout = if let Some(p) = &opts.source {
        p.clone()
    } else {
        let dir = crate::catalog::git_cache::cache_dir(&entry.url);
        // Fetches only the pinned commit when the cache lacks it (shallow where the server allows).
        git_remote::ensure(&entry.url, &dir, &Want::from_rev(&entry.rev)).with_context(|| {
            format!(
                "getting {} of {} (or pass a local clone with --source PATH)",
                short(&entry.rev),
                entry.url
            )
        })?;
        dir
    };
    progress(HashStep::SourceTree);
    let (_, source) = source_outcome(&entry, &checkout, &Rev::Rev(entry.rev.clone()))?;
    let sources = opts.dep_sources();
    let deps = deps_outcome(&entry, &checkout, &entry.rev, &sources, progress);
    let new_provenance = format!(
        "computed natively by atwb {} from {}, {}",
        env!("CARGO_PKG_VERSION"),
        source.from,
        crate::time::today_utc()
    );
    Ok(PackageHashes {
        package: name.to_string(),
        file: entry.file.path.clone(),
        rev: entry.rev.clone(),
        source,
        deps,
        old_verified: entry.verified,
        old_provenance: entry.provenance.clone(),
        new_provenance,
    })
}

/// Writes every computed change into the package and the packages sharing its derivation
/// (same workspace and rev), as one transaction. Refused, writing nothing, when the package's
/// hashes or rev changed since `hashes` was computed (an edit in between: recompute), or when
/// a file changes while being written. Returns the files written.
pub fn write(catalog: &Path, hashes: &PackageHashes) -> Result<Vec<PathBuf>> {
    if !hashes.has_changes() {
        return Ok(Vec::new());
    }
    let main = PackageFile::read(&hashes.file)?;
    let now = |field: &str| main.get_str(field).map(str::to_string);
    let unchanged = now("source.rev").as_deref() == Some(hashes.rev.as_str())
        && now("source.hash").as_deref() == Some(hashes.source.old.as_str())
        && now("build.deps_hash").unwrap_or_else(|| "unknown".into()) == hashes.deps.old;
    if !unchanged {
        bail!(
            "{} changed since its hashes were computed; nothing written (compute them again)",
            hashes.file.display()
        );
    }
    let mut files = vec![main];
    let workspace = files[0].get_str("build.workspace").map(str::to_string);
    if workspace.is_some() {
        for path in package_files(catalog) {
            if path == hashes.file {
                continue;
            }
            let f = PackageFile::read(&path)?;
            if f.get_str("build.workspace") == workspace.as_deref()
                && f.get_str("source.rev") == Some(hashes.rev.as_str())
            {
                files.push(f);
            }
        }
    }
    let source_new = hashes.source.new.as_deref().ok();
    for f in &mut files {
        if let (true, Some(hash)) = (hashes.rewrites_source(), source_new) {
            f.set("source.hash", hash)?;
            f.set("source.verified", true)?;
            f.set("source.provenance", hashes.new_provenance.as_str())?;
        }
        if let Some(hash) = hashes.deps.changed() {
            f.set("build.deps_hash", hash)?;
        }
    }
    save_all(&mut files)?;
    Ok(files.into_iter().map(|f| f.path).collect())
}
