//! A catalog package's source and dependency hashes recomputed natively (git objects, a lockfile
//! and cached artifacts), and written through the format-preserving, conflict-refusing edit
//! path: the one computation behind `atwb hash NAME` and the TUI's hash action. Blocking work
//! (git objects, SHA-256 of every crate): a front end runs it off its event loop, and hears how
//! far it got through the `progress` callback.

use crate::nix::crate_download::{Download, download_missing};
use crate::nix::git_remote::{self, Want};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::catalog::edit::{PackageFile, find_package_file, package_files, save_all};
use crate::nix::cargo_lock::Lockfile;
use crate::nix::cargo_vendor::{CrateSources, cargo_vendor_hash_reporting};
use crate::nix::fetcher::{FetchArgs, Fetcher, Rev, prefetch, semantics_name};
use crate::nix::npm_deps::{NpmOptions, npm_deps_hash};
use crate::nix::npm_sources::NpmSources;
use crate::nix::submodules::LocalRepos;

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

// The lockfile types are the catalog's (the bump uses them too); reading one from disk is here.
pub use crate::catalog::rehash::{LockBytes, LockKind};

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
}

/// The SRI dependency hash of `lock`; `repos` may hold git dependencies.
pub fn deps_hash(
    lock: LockBytes,
    opts: &HashOptions,
    repos: &[PathBuf],
    progress: &(dyn Fn(HashStep) + Sync),
) -> Result<String> {
    let path = lock.path.as_path();
    match lock.kind {
        LockKind::Cargo => {
            let lock = Lockfile::parse(path, lock.bytes, lock.executable)?;
            let mut sources = CrateSources::from_env();
            sources.crate_dirs.extend(opts.crates.iter().cloned());
            let state = crate::paths::state_dir();
            sources.crate_dirs.push(Download::cache_dir(&state));
            sources.git_repos.extend(repos.iter().cloned());
            sources.git_repos.extend(opts.git_repos.iter().cloned());
            if opts.download {
                let dl = Download::new(&state, opts.crates_url.clone());
                let n = download_missing(&lock, &sources, &dl)?;
                if n > 0 {
                    tracing::info!(n, base = %dl.base_url, "downloaded crates");
                }
            }
            progress(HashStep::Crates { done: 0, total: 0 });
            let report = |done, total| progress(HashStep::Crates { done, total });
            Ok(cargo_vendor_hash_reporting(&lock, &sources, &report)?.sri())
        }
        LockKind::Npm => {
            progress(HashStep::NpmTarballs);
            let mut sources = match &opts.npm_cache {
                Some(dir) => NpmSources::with_caches(vec![dir.clone()]),
                None => NpmSources::from_env(),
            };
            if let Some(dir) = &opts.tarballs {
                sources.add_tarball_dir(dir)?;
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
            Ok(npm_deps_hash(&file, &sources, NpmOptions::default())?
                .hash
                .sri())
        }
    }
}

/// What the catalog says about a package, read from its `package.toml`.
struct Entry {
    file: PackageFile,
    rev: String,
    hash: String,
    verified: bool,
    provenance: String,
    deps_hash: Option<String>,
    builder: String,
    url: String,
    fetch: FetchArgs,
    source_root: Option<String>,
}

fn read_entry(catalog: &Path, name: &str) -> Result<Entry> {
    let path = find_package_file(catalog, name)
        .with_context(|| format!("no package `{name}` in {}", catalog.display()))?;
    let file = PackageFile::read(&path)?;
    let table: toml::Table =
        toml::from_str(&file.render()).with_context(|| format!("parsing {}", path.display()))?;
    let s = |section: &str, key: &str| {
        table
            .get(section)
            .and_then(|t| t.get(key))
            .and_then(toml::Value::as_str)
            .map(str::to_string)
    };
    let flag = |key: &str| {
        table
            .get("source")
            .and_then(|t| t.get(key))
            .and_then(toml::Value::as_bool)
            .unwrap_or(false)
    };
    let field = |key: &str| {
        s("source", key).with_context(|| format!("{}: [source] has no `{key}`", path.display()))
    };
    let host = field("host")?;
    let submodules = flag("submodules");
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
    Ok(Entry {
        rev: field("rev")?,
        hash: field("hash")?,
        verified: flag("verified"),
        provenance: s("source", "provenance").unwrap_or_default(),
        deps_hash: s("build", "deps_hash"),
        builder: s("build", "builder").unwrap_or_default(),
        source_root: s("build", "source_root"),
        url,
        fetch: FetchArgs {
            fetcher: Some(fetcher),
            submodules: Some(submodules),
            ..FetchArgs::default()
        },
        file,
    })
}

/// One recomputed hash: the catalog's value and atwb's, or why atwb could not compute it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashField {
    /// `source.hash` or `build.deps_hash`.
    pub field: &'static str,
    pub old: String,
    pub new: Result<String, String>,
    /// How `new` was computed.
    pub from: String,
    /// False when atwb does not compute this kind of hash at all.
    pub supported: bool,
}

impl HashField {
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
    progress: &(dyn Fn(HashStep) + Sync),
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
                entry.rev.get(..12).unwrap_or(&entry.rev),
                entry.url
            )
        })?;
        dir
    };
    progress(HashStep::SourceTree);
    let resolver = LocalRepos::new(vec![checkout.clone()]);
    let pin = prefetch(
        &checkout,
        &Rev::Rev(entry.rev.clone()),
        &entry.fetch,
        &resolver,
    )
    .with_context(|| format!("hashing {} at {}", checkout.display(), entry.rev))?;
    let source = HashField {
        field: "source.hash",
        old: entry.hash.clone(),
        new: Ok(pin.hash.sri()),
        from: format!(
            "git objects of {} at {} ({})",
            entry.url,
            short(&entry.rev),
            semantics_name(pin.semantics)
        ),
        supported: true,
    };
    let deps = deps_field(&entry, &checkout, opts, progress);
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

fn short(rev: &str) -> &str {
    rev.get(..12).unwrap_or(rev)
}

/// The builder's dependency hash from the lockfile in the commit (not the working tree).
fn deps_field(
    entry: &Entry,
    checkout: &Path,
    opts: &HashOptions,
    progress: &(dyn Fn(HashStep) + Sync),
) -> HashField {
    let old = entry.deps_hash.clone().unwrap_or_else(|| "unknown".into());
    let kind = match entry.builder.as_str() {
        "rust-workspace" | "rust-package" => Some(LockKind::Cargo),
        "npm-package" => Some(LockKind::Npm),
        _ => None,
    };
    let Some(kind) = kind else {
        let why = match entry.builder.as_str() {
            "go-module" => {
                "Go's vendorHash depends on `go mod vendor` output, which atwb does not reproduce"
            }
            "pnpm-workspace" => {
                "pnpmDeps depends on the pnpm store layout of a pnpm version, which atwb does not reproduce"
            }
            _ => "atwb computes dependency hashes for rust and npm builders only",
        };
        return HashField {
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
    let file_name = match kind {
        LockKind::Cargo => "Cargo.lock",
        LockKind::Npm => "package-lock.json",
    };
    let rel = entry.source_root.as_deref().map_or_else(
        || file_name.to_string(),
        |r| format!("{}/{file_name}", r.trim_end_matches('/')),
    );
    let computed = lockfile_at(checkout, &entry.rev, &rel, kind)
        .and_then(|lock| deps_hash(lock, opts, &[checkout.to_path_buf()], progress));
    HashField {
        field: "build.deps_hash",
        old,
        new: computed.map_err(|e| format!("{e:#}")),
        from: format!("{rel} at {} ({})", short(&entry.rev), kind.nix_name()),
        supported: true,
    }
}

/// The lockfile's bytes and executable bit in `rev` (npm-shrinkwrap.json preferred, as
/// fetchNpmDeps does), with a display path `<checkout>/<rel>` for errors.
fn lockfile_at(checkout: &Path, rev: &str, rel: &str, kind: LockKind) -> Result<LockBytes> {
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
