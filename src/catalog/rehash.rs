//! A catalog package's source and dependency hashes recomputed natively at a commit: the
//! source from git objects (`nix::fetcher`), the dependency hash from the lockfile in that
//! commit and cached artifacts (`nix::cargo_vendor`, `nix::npm_deps`). The one computation
//! behind `atwb bump` (a new commit) and `jobs::rehash` (`atwb hash`, the TUI's `#`: the
//! pinned commit); finding, reading and hashing a lockfile lives here only.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::edit::{PackageFile, find_package_file};
use crate::nix::cargo_lock::Lockfile;
use crate::nix::cargo_vendor::{CrateSources, cargo_vendor_hash_reporting};
use crate::nix::crate_download::{Download, download_missing};
use crate::nix::fetcher::{FetchArgs, Fetcher, PrefetchResult, Rev, prefetch, semantics_name};
use crate::nix::npm_deps::{NpmOptions, npm_deps_hash};
use crate::nix::npm_sources::NpmSources;
use crate::nix::submodules::LocalRepos;

/// Where dependency artifacts are looked for besides the default caches.
#[derive(Debug, Clone, Default)]
pub struct DepSources {
    /// A directory of `.crate` files, searched before $CARGO_HOME/registry/cache.
    pub crates: Option<PathBuf>,
    /// atwb's own crate cache (`Download::cache_dir`), searched after `crates`.
    pub crate_cache: Option<PathBuf>,
    /// Download registry crates missing from every cache (each checked against Cargo.lock's
    /// checksum) before hashing.
    pub download: Option<Download>,
    /// Local clones holding git dependencies, searched after the package's own checkout.
    pub git_repos: Vec<PathBuf>,
    /// A directory of npm tarballs (any names), searched besides the npm cache.
    pub tarballs: Option<PathBuf>,
    /// The npm cache to read instead of $npm_config_cache or ~/.npm.
    pub npm_cache: Option<PathBuf>,
}

/// How far a computation got, for a progress line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashStep {
    /// The source tree, from git objects.
    SourceTree,
    /// A lockfile's registry crates and git dependencies, `done` of `total` hashed.
    Crates { done: usize, total: usize },
    /// An npm lockfile's tarballs.
    NpmTarballs,
}

impl std::fmt::Display for HashStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HashStep::SourceTree => write!(f, "source tree"),
            HashStep::Crates { done, total } => write!(f, "{done}/{total} crates"),
            HashStep::NpmTarballs => write!(f, "npm tarballs"),
        }
    }
}

/// Where a computation reports its [`HashStep`]s (`&|_| {}` when nobody listens).
pub type Progress<'a> = &'a (dyn Fn(HashStep) + Sync);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockKind {
    Cargo,
    Npm,
}

impl LockKind {
    pub fn of(path: &Path) -> Result<LockKind> {
        match path.file_name().and_then(|n| n.to_str()) {
            Some("Cargo.lock") => Ok(LockKind::Cargo),
            Some("package-lock.json" | "npm-shrinkwrap.json") => Ok(LockKind::Npm),
            _ => bail!(
                "{}: not a lockfile atwb can hash; expected Cargo.lock (cargoHash) or \
                 package-lock.json / npm-shrinkwrap.json (npmDepsHash)",
                path.display()
            ),
        }
    }

    /// The lockfile a builder of this kind reads.
    pub fn of_builder(builder: &str) -> Option<LockKind> {
        match builder {
            "rust-workspace" | "rust-package" => Some(LockKind::Cargo),
            "npm-package" => Some(LockKind::Npm),
            _ => None,
        }
    }

    pub fn nix_name(self) -> &'static str {
        match self {
            LockKind::Cargo => "cargoHash",
            LockKind::Npm => "npmDepsHash",
        }
    }

    fn file_name(self) -> &'static str {
        match self {
            LockKind::Cargo => "Cargo.lock",
            LockKind::Npm => "package-lock.json",
        }
    }
}

/// A lockfile's contents, read from disk or from a git commit.
pub struct LockBytes {
    pub kind: LockKind,
    /// Names it in errors; the file itself when `on_disk`.
    pub path: PathBuf,
    pub bytes: Vec<u8>,
    pub executable: bool,
    /// False for a commit's blob: the working tree may hold another version of the file.
    pub on_disk: bool,
}

impl LockBytes {
    /// The lockfile at `path` on disk.
    pub fn read(path: &Path) -> Result<LockBytes> {
        use std::os::unix::fs::PermissionsExt;
        let kind = LockKind::of(path)?;
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        Ok(LockBytes {
            kind,
            path: path.to_path_buf(),
            bytes,
            executable: std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o111 != 0),
            on_disk: true,
        })
    }

    /// The lockfile's bytes and executable bit in `rev` (npm-shrinkwrap.json preferred, as
    /// fetchNpmDeps does), with a display path `<checkout>/<rel>` for errors.
    pub fn at_commit(checkout: &Path, rev: &str, rel: &str, kind: LockKind) -> Result<LockBytes> {
        let repo = git2::Repository::open(checkout)
            .with_context(|| format!("opening {}", checkout.display()))?;
        let tree = repo
            .revparse_single(rev)
            .and_then(|o| o.peel_to_tree())
            .with_context(|| format!("{}: no commit {rev}", checkout.display()))?;
        let mut candidates = vec![rel.to_string()];
        if kind == LockKind::Npm {
            candidates.insert(0, rel.replace("package-lock.json", "npm-shrinkwrap.json"));
        }
        for candidate in &candidates {
            if let Ok(entry) = tree.get_path(Path::new(candidate)) {
                let blob = entry
                    .to_object(&repo)
                    .and_then(|o| o.peel_to_blob())
                    .with_context(|| format!("{candidate} at {rev} is not a file"))?;
                return Ok(LockBytes {
                    kind,
                    path: checkout.join(candidate),
                    bytes: blob.content().to_vec(),
                    executable: entry.filemode() == 0o100_755,
                    on_disk: false,
                });
            }
        }
        bail!(
            "commit {} of {} has no {rel}",
            short(rev),
            checkout.display()
        )
    }
}

/// The SRI dependency hash of `lock`; `repos` may hold git dependencies (searched before
/// `sources.git_repos`).
pub fn lock_deps_hash(
    lock: LockBytes,
    sources: &DepSources,
    repos: &[PathBuf],
    progress: Progress<'_>,
) -> Result<String> {
    let path = lock.path.as_path();
    match lock.kind {
        LockKind::Cargo => {
            let lock = Lockfile::parse(path, lock.bytes, lock.executable)?;
            let mut crates = CrateSources::from_env();
            crates.crate_dirs.extend(sources.crates.iter().cloned());
            crates
                .crate_dirs
                .extend(sources.crate_cache.iter().cloned());
            crates.git_repos.extend(repos.iter().cloned());
            crates.git_repos.extend(sources.git_repos.iter().cloned());
            if let Some(dl) = &sources.download {
                let n = download_missing(&lock, &crates, dl)?;
                if n > 0 {
                    tracing::info!(n, base = %dl.base_url, "downloaded crates");
                }
            }
            progress(HashStep::Crates { done: 0, total: 0 });
            let report = |done, total| progress(HashStep::Crates { done, total });
            Ok(cargo_vendor_hash_reporting(&lock, &crates, &report)?.sri())
        }
        LockKind::Npm => {
            progress(HashStep::NpmTarballs);
            let mut npm = match &sources.npm_cache {
                Some(dir) => NpmSources::with_caches(vec![dir.clone()]),
                None => NpmSources::from_env(),
            };
            if let Some(dir) = &sources.tarballs {
                npm.add_tarball_dir(dir)?;
            }
            // fetchNpmDeps reads the lockfile from the source tree; a commit's blob is staged
            // in a temporary directory under the same name.
            let staged = tempfile::tempdir().context("creating a temporary directory")?;
            let file = if lock.on_disk {
                path.to_path_buf()
            } else {
                let file = staged.path().join(path.file_name().unwrap_or_default());
                std::fs::write(&file, &lock.bytes)
                    .with_context(|| format!("writing {}", file.display()))?;
                file
            };
            Ok(npm_deps_hash(&file, &npm, NpmOptions::default())?
                .hash
                .sri())
        }
    }
}

/// What the catalog says about a package's source and build, read from its `package.toml`.
#[derive(Debug, Clone)]
pub struct SourceEntry {
    pub file: PackageFile,
    pub rev: String,
    pub hash: String,
    pub verified: bool,
    pub provenance: String,
    pub version: String,
    pub deps_hash: Option<String>,
    pub builder: String,
    /// The URL the fetcher downloads from (github/tangled spelt out).
    pub url: String,
    pub fetch: FetchArgs,
    pub source_root: Option<String>,
    pub workspace: Option<String>,
}

/// Reads `name`'s `package.toml` as the hash tools need it.
pub fn read_entry(catalog: &Path, name: &str) -> Result<SourceEntry> {
    let path = find_package_file(catalog, name)
        .with_context(|| format!("no package `{name}` in {}", catalog.display()))?;
    entry_of(PackageFile::read(&path)?)
}

/// The source and build fields of an already-read `package.toml`.
pub fn entry_of(file: PackageFile) -> Result<SourceEntry> {
    let path = file.path.clone();
    let s = |field: &str| file.get_str(field).map(str::to_string);
    let flag = |field: &str| file.get_bool(field).unwrap_or(false);
    let field = |key: &str| {
        s(&format!("source.{key}"))
            .with_context(|| format!("{}: [source] has no `{key}`", path.display()))
    };
    let host = field("host")?;
    // As catalog/lib/packaging.nix picks the fetcher for each host.
    let (url, fetcher) = match host.as_str() {
        "github" => (
            format!("https://github.com/{}/{}", field("owner")?, field("repo")?),
            Fetcher::GitHub,
        ),
        "tangled" => (
            format!("https://tangled.org/{}/{}", field("owner")?, field("repo")?),
            Fetcher::GitHub,
        ),
        _ => (field("url")?, Fetcher::Git),
    };
    Ok(SourceEntry {
        rev: field("rev")?,
        hash: field("hash")?,
        verified: flag("source.verified"),
        provenance: s("source.provenance").unwrap_or_default(),
        version: s("version").unwrap_or_default(),
        deps_hash: s("build.deps_hash"),
        builder: s("build.builder").unwrap_or_default(),
        source_root: s("build.source_root"),
        workspace: s("build.workspace"),
        url,
        fetch: FetchArgs {
            fetcher: Some(fetcher),
            submodules: Some(flag("source.submodules")),
            ..FetchArgs::default()
        },
        file,
    })
}

/// One recomputed hash: the catalog's value and atwb's, or why atwb could not compute it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Outcome {
    /// `source.hash` or `build.deps_hash`.
    pub field: &'static str,
    pub old: String,
    pub new: Result<String, String>,
    /// How `new` was computed.
    pub from: String,
    /// False when atwb does not compute this kind of hash at all.
    pub supported: bool,
}

impl Outcome {
    /// The new value, when it differs from the old one.
    pub fn changed(&self) -> Option<&str> {
        self.new.as_deref().ok().filter(|n| *n != self.old)
    }

    /// Why a hash atwb computes for this builder could not be computed.
    pub fn error(&self) -> Option<&str> {
        self.new
            .as_ref()
            .err()
            .filter(|_| self.supported)
            .map(String::as_str)
    }
}

pub fn short(rev: &str) -> &str {
    rev.get(..12).unwrap_or(rev)
}

/// The source pin of `rev` in `checkout` as the entry's fetcher would produce it, and its
/// `source.hash` outcome.
pub fn source_outcome(
    entry: &SourceEntry,
    checkout: &Path,
    rev: &Rev,
) -> Result<(PrefetchResult, Outcome)> {
    let resolver = LocalRepos::new(vec![checkout.to_path_buf()]);
    let pin = prefetch(checkout, rev, &entry.fetch, &resolver).with_context(|| {
        let r = match rev {
            Rev::Rev(r) | Rev::Tag(r) => r,
        };
        format!("hashing {} at {r}", checkout.display())
    })?;
    let outcome = Outcome {
        field: "source.hash",
        old: entry.hash.clone(),
        new: Ok(pin.hash.sri()),
        from: format!(
            "git objects of {} at {} ({})",
            entry.url,
            short(&pin.rev),
            semantics_name(pin.semantics)
        ),
        supported: true,
    };
    Ok((pin, outcome))
}

/// The builder's dependency hash from the lockfile in commit `rev` (not the working tree).
pub fn deps_outcome(
    entry: &SourceEntry,
    checkout: &Path,
    rev: &str,
    sources: &DepSources,
    progress: Progress<'_>,
) -> Outcome {
    let old = entry.deps_hash.clone().unwrap_or_else(|| "unknown".into());
    let Some(kind) = LockKind::of_builder(&entry.builder) else {
        let why = match entry.builder.as_str() {
            "go-module" => {
                "Go's vendorHash depends on `go mod vendor` output, which atwb does not reproduce"
            }
            "pnpm-workspace" => {
                "pnpmDeps depends on the pnpm store layout of a pnpm version, which atwb does not reproduce"
            }
            _ => "atwb computes dependency hashes for rust and npm builders only",
        };
        return Outcome {
            field: "build.deps_hash",
            old,
            new: Err(format!(
                "{} builder: {why}; keeping the fixed-output route",
                entry.builder
            )),
            from: String::new(),
            supported: false,
        };
    };
    let file_name = kind.file_name();
    let rel = entry.source_root.as_deref().map_or_else(
        || file_name.to_string(),
        |r| format!("{}/{file_name}", r.trim_end_matches('/')),
    );
    let computed = LockBytes::at_commit(checkout, rev, &rel, kind)
        .and_then(|lock| lock_deps_hash(lock, sources, &[checkout.to_path_buf()], progress));
    Outcome {
        field: "build.deps_hash",
        old,
        new: computed.map_err(|e| format!("{e:#}")),
        from: format!("{rel} at {} ({})", short(rev), kind.nix_name()),
        supported: true,
    }
}

#[cfg(test)]
#[path = "rehash_tests.rs"]
mod tests;
