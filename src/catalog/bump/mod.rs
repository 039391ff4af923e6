//! One-key bump: move a package (and the workspace siblings sharing its source) to a new
//! upstream commit or tag. `rev` and `version` move (a tag gives the version, a commit
//! `0-unstable-YYYY-MM-DD`), `source.hash` and `build.deps_hash` are recomputed natively
//! (`rehash`), and the edit is shown as a unified diff before anything is written.
//!
//! A dependency hash atwb cannot compute for the new commit (a builder it does not reproduce,
//! crates missing from the cache) becomes `"unknown"`, never the old commit's hash: the next
//! build then takes the fixed-output route and the hash fix writes nix's `got:`. Writing goes
//! through `edit::save_all`: format-preserving, atomic, all files or none, and refused when a
//! file changed on disk since the plan was made. The changed `package.toml` changes the
//! package's fingerprint, so the status store reports it stale until it is rebuilt.

mod diff;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Serialize;

use super::edit::{EditError, PackageFile, package_files, save_all};
use super::git_cache::{cache_dir, clone_or_fetch, explain_clone_error};
use super::rehash::{
    DepSources, Outcome, SourceEntry, deps_outcome, entry_of, read_entry, short, source_outcome,
};
use super::tags::newest_tag;
use crate::nix::fetcher::Rev;

pub use diff::unified;

/// Where to move.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BumpTarget {
    /// The newest tag when the package is pinned to a release (its version has no
    /// `unstable`) and upstream has tags; otherwise the head of the default branch.
    Default,
    /// A tag when the repository has one by that name, else any revision git resolves.
    To(String),
}

#[derive(Debug, Clone, Default)]
pub struct BumpOptions {
    /// A local clone to read instead of atwb's cache of the package's URL.
    pub checkout: Option<PathBuf>,
    /// Fetch the cache from upstream first (ignored with `checkout`).
    pub fetch: bool,
    pub sources: DepSources,
}

/// What a bump would write, and why each value is what it is.
#[derive(Debug, Clone, Serialize)]
pub struct BumpPlan {
    pub package: String,
    pub old_rev: String,
    pub new_rev: String,
    pub tag: Option<String>,
    pub old_version: String,
    pub new_version: String,
    pub source: Outcome,
    pub deps: Outcome,
    /// The deps hash written was computed for the new commit (false: it became "unknown");
    /// None for a builder without dependencies (static-site).
    pub deps_verified: Option<bool>,
    /// Every `package.toml` that moves: the package first, then its siblings.
    pub files: Vec<PathBuf>,
    /// Unified diff of all of them (paths relative to the catalog).
    pub diff: String,
    #[serde(skip)]
    edited: Vec<PackageFile>,
}

impl BumpPlan {
    pub fn is_noop(&self) -> bool {
        self.diff.is_empty()
    }

    /// The packages a bump moves (for the rebuild it offers), by folder name.
    pub fn packages(&self) -> Vec<String> {
        self.files
            .iter()
            .filter_map(|f| f.parent()?.file_name()?.to_str().map(str::to_string))
            .collect()
    }

    /// Writes every file of the plan as one transaction; refuses if any changed since read.
    pub fn write(&mut self) -> Result<Vec<PathBuf>, EditError> {
        save_all(&mut self.edited)?;
        Ok(self.files.clone())
    }
}

/// Computes the bump of `name` without writing anything.
pub fn plan(
    catalog: &Path,
    name: &str,
    target: &BumpTarget,
    opts: &BumpOptions,
) -> Result<BumpPlan> {
    let entry = read_entry(catalog, name)?;
    let checkout = if let Some(p) = &opts.checkout {
        p.clone()
    } else {
        let dir = cache_dir(&entry.url);
        if opts.fetch {
            clone_or_fetch(&entry.url, &dir, None)
                .map_err(|e| explain_clone_error(&entry.url, &e))?;
        } else if !dir.exists() {
            bail!(
                "no local clone of {}; fetch it (without --no-fetch) or pass --source PATH",
                entry.url
            );
        }
        dir
    };
    let rev = resolve_target(&checkout, target, &entry.version)?;
    let (pin, source) = source_outcome(&entry, &checkout, &rev)?;
    let deps = deps_outcome(&entry, &checkout, &pin.rev, &opts.sources, &|_| {});
    let no_deps = entry.builder == "static-site";
    let deps_hash = match (&deps.new, no_deps) {
        (_, true) => None,
        (Ok(h), false) => Some(h.clone()),
        // The old hash belongs to the old commit: never keep it with a new rev.
        (Err(_), false) => Some("unknown".to_string()),
    };
    let deps_verified = (!no_deps).then_some(deps.new.is_ok());
    let provenance = format!(
        "computed natively by atwb {} from {}, {}; bumped from {}",
        env!("CARGO_PKG_VERSION"),
        source.from,
        crate::time::today_utc(),
        short(&entry.rev)
    );
    let values = NewValues {
        rev: &pin.rev,
        version: &pin.version,
        hash: source.new.as_deref().unwrap_or_default(),
        deps_hash: deps_hash.as_deref(),
        provenance: &provenance,
    };
    let moved = pin.rev != entry.rev;
    let mut edited = Vec::new();
    let mut diff = String::new();
    for file in moving_files(catalog, &entry)? {
        let before = file.render();
        let mut after = file.clone();
        if moved || source.changed().is_some() || deps.changed().is_some() {
            values.apply(&mut after)?;
        }
        let label = file
            .path
            .strip_prefix(catalog)
            .unwrap_or(&file.path)
            .display()
            .to_string();
        diff.push_str(&unified(&label, &before, &after.render()));
        edited.push(after);
    }
    Ok(BumpPlan {
        package: name.to_string(),
        old_rev: entry.rev.clone(),
        new_rev: pin.rev.clone(),
        tag: pin.tag.clone(),
        old_version: entry.version.clone(),
        new_version: pin.version.clone(),
        source,
        deps,
        deps_verified,
        files: edited.iter().map(|f| f.path.clone()).collect(),
        diff,
        edited,
    })
}

/// The values every moving file gets.
struct NewValues<'a> {
    rev: &'a str,
    version: &'a str,
    hash: &'a str,
    deps_hash: Option<&'a str>,
    provenance: &'a str,
}

impl NewValues<'_> {
    fn apply(&self, f: &mut PackageFile) -> Result<(), EditError> {
        if f.get_str("version") != Some(self.version) {
            f.set("version", self.version)?;
        }
        f.set("source.rev", self.rev)?;
        f.set("source.hash", self.hash)?;
        if f.get_bool("source.verified") != Some(true) {
            f.set("source.verified", true)?;
        }
        f.set("source.provenance", self.provenance)?;
        if let Some(h) = self.deps_hash
            && f.get_str("build.deps_hash") != Some(h)
        {
            f.set("build.deps_hash", h)?;
        }
        Ok(())
    }
}

/// The package's file, then every workspace sibling pinned to the same source (the validator
/// requires siblings to share `[source]`, so they must move together).
fn moving_files(catalog: &Path, entry: &SourceEntry) -> Result<Vec<PackageFile>> {
    let mut files = vec![entry.file.clone()];
    let Some(workspace) = &entry.workspace else {
        return Ok(files);
    };
    for path in package_files(catalog) {
        if path == entry.file.path {
            continue;
        }
        let sibling = entry_of(PackageFile::read(&path)?)?;
        if sibling.workspace.as_deref() == Some(workspace.as_str())
            && sibling.rev == entry.rev
            && sibling.url == entry.url
        {
            files.push(sibling.file);
        }
    }
    Ok(files)
}

/// The revision a target names in `checkout`.
fn resolve_target(checkout: &Path, target: &BumpTarget, version: &str) -> Result<Rev> {
    let repo = git2::Repository::open(checkout)
        .with_context(|| format!("opening {}", checkout.display()))?;
    let tags: std::collections::BTreeMap<String, String> = repo
        .tag_names(None)
        .map(|names| {
            names
                .iter()
                .flatten()
                .flatten()
                .map(|n| (n.to_string(), String::new()))
                .collect()
        })
        .unwrap_or_default();
    Ok(match target {
        BumpTarget::To(t) if tags.contains_key(t) => Rev::Tag(t.clone()),
        BumpTarget::To(r) => Rev::Rev(r.clone()),
        BumpTarget::Default => match newest_tag(&tags, version) {
            Some(t) if !version.contains("unstable") => Rev::Tag(t.to_string()),
            _ => Rev::Rev("HEAD".into()),
        },
    })
}
