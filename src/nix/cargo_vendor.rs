//! `cargoHash` without a build: the NAR hash of the directory nixpkgs' `fetchCargoVendor`
//! hashes, computed from `Cargo.lock` and the artifacts it names.
//!
//! fetchCargoVendor is two derivations. The fixed-output one (`*-vendor-staging`, the one whose
//! hash is `cargoHash`) runs `fetch-cargo-vendor-util create-vendor-staging Cargo.lock $out`
//! (in `cargoRoot` if set), which makes:
//!
//! ```text
//! $out/Cargo.lock                     a copy of the lockfile (shutil.copy: mode kept)
//! $out/git/<commit>/                  per locked git commit: nix-prefetch-git --fetch-submodules
//!                                     of the whole repository (every .git removed), only if
//!                                     the lockfile has git packages
//! $out/tarballs/<name>-<version>.tar.gz
//!                                     per registry crate: the downloaded `.crate` file, byte
//!                                     for byte, checked against its lockfile checksum; only if
//!                                     the lockfile has registry packages
//! ```
//!
//! Nothing else: the `.cargo-checksum.json` files, the unpacked crates, the crate subdirectory
//! of a workspace git repository (found by `cargo metadata`, its `workspace = true` values
//! filled in), the dropping of symlinks that dangle or leave the repository, and
//! `.cargo/config.toml` are all done by the second, ordinary derivation (`create-vendor`) from
//! the staging directory, so none of them is part of the hash: a git dependency's whole
//! repository is hashed, as nix-prefetch-git leaves it (symlinks kept as they are).
//!
//! `cargoRoot`: the lockfile is `$cargoRoot/Cargo.lock`; pass that file.
//!
//! Here the `.crate` files come from cargo's own cache (`$CARGO_HOME/registry/cache/*/`, filled
//! by `cargo fetch --locked`) or from directories given by the caller, and git dependencies
//! from git objects (`$CARGO_HOME/git/db/*`, listed repositories), with submodules.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{SyncSender, sync_channel};

use git2::Oid;
use sha2::{Digest, Sha256};

use super::cargo_lock::{Lockfile, PackageSource};
use super::git_tree::{GitTree, Semantics};
use super::hash_error::HashError;
use super::nar::{NarHash, NarWriter, dump, hash_with};
use super::submodules::LocalRepos;

#[derive(Debug, thiserror::Error)]
pub enum CargoError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {message}", path.display())]
    Parse { path: PathBuf, message: String },
    #[error(transparent)]
    Invalid(#[from] crate::nix::hash_error::LockfileLine),
    #[error(
        "{}: {} not in the local cargo cache: {}; run `cargo fetch --locked` in {} (or pass the \
         directory holding the `.crate` files, or `--download` to fetch them from crates.io)",
        lockfile.display(),
        if crates.len() == 1 { "1 crate is" } else { "crates are" },
        crates.join(", "),
        lockfile.parent().map_or_else(|| ".".into(), |p| p.display().to_string())
    )]
    MissingCrates {
        lockfile: PathBuf,
        crates: Vec<String>,
    },
    #[error(
        "crate {name} {version}: {} has sha256 {actual} but Cargo.lock says {expected}; the file \
         is damaged or not the published crate. Delete it and run `cargo fetch --locked` again",
        file.display()
    )]
    ChecksumMismatch {
        name: String,
        version: String,
        file: PathBuf,
        expected: String,
        actual: String,
    },
    #[error(
        "{}: `{file_name}` would be written twice in the staging directory (the same crate \
         name and version from two registries); fetchCargoVendor cannot vendor this lockfile",
        lockfile.display()
    )]
    DuplicateTarball {
        lockfile: PathBuf,
        file_name: String,
    },
    #[error("{0}")]
    MissingGitDependency(Box<MissingGitDependency>),
    #[error(transparent)]
    Hash(#[from] HashError),
}

/// A git dependency whose commit no local repository holds.
#[derive(Debug)]
pub struct MissingGitDependency {
    pub lockfile: PathBuf,
    pub line: usize,
    pub name: String,
    pub version: String,
    pub url: String,
    pub commit: String,
}

impl std::fmt::Display for MissingGitDependency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let dir = self
            .lockfile
            .parent()
            .map_or_else(|| ".".into(), |p| p.display().to_string());
        write!(
            f,
            "{}:{}: git dependency {} {} ({} at {}) is not in any local git repository; run \
             `cargo fetch --locked` in {dir} (cargo keeps it in $CARGO_HOME/git/db), or pass a \
             clone of {}",
            self.lockfile.display(),
            self.line,
            self.name,
            self.version,
            self.url,
            self.commit,
            self.url
        )
    }
}

/// Where the artifacts a lockfile names are looked for.
#[derive(Debug, Clone, Default)]
pub struct CrateSources {
    /// Directories holding `<name>-<version>.crate` (or `.tar.gz`) files, searched first.
    pub crate_dirs: Vec<PathBuf>,
    /// A cargo home whose `registry/cache/*/` and `git/` are searched.
    pub cargo_home: Option<PathBuf>,
    /// Extra git repositories that may hold git dependencies and their submodules.
    pub git_repos: Vec<PathBuf>,
}

impl CrateSources {
    /// `$CARGO_HOME`, else `~/.cargo`.
    pub fn cargo_home_from_env() -> Option<PathBuf> {
        std::env::var_os("CARGO_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
    }

    /// The cargo cache of this user, nothing else.
    pub fn from_env() -> Self {
        CrateSources {
            cargo_home: Self::cargo_home_from_env(),
            ..CrateSources::default()
        }
    }

    /// Whether any file may be `<name>-<version>`'s `.crate` (its checksum is checked later).
    pub fn has_crate(&self, name: &str, version: &str) -> bool {
        !self.crate_candidates(name, version).is_empty()
    }

    /// Files that may be `<name>-<version>`'s `.crate`, in search order.
    fn crate_candidates(&self, name: &str, version: &str) -> Vec<PathBuf> {
        let stem = format!("{name}-{version}");
        let mut out = Vec::new();
        for dir in &self.crate_dirs {
            out.push(dir.join(format!("{stem}.crate")));
            out.push(dir.join(format!("{stem}.tar.gz")));
        }
        if let Some(home) = &self.cargo_home {
            let cache = home.join("registry").join("cache");
            for registry in subdirs(&cache) {
                out.push(registry.join(format!("{stem}.crate")));
            }
        }
        out.retain(|p| p.is_file());
        out
    }

    /// Repositories that may hold git dependencies or their submodules: the given ones, cargo's
    /// bare databases, and the submodule repositories inside cargo's checkouts.
    fn git_candidates(&self) -> Vec<PathBuf> {
        let mut out = self.git_repos.clone();
        if let Some(home) = &self.cargo_home {
            out.extend(subdirs(&home.join("git").join("db")));
            for checkout in subdirs(&home.join("git").join("checkouts")) {
                for rev in subdirs(&checkout) {
                    collect_modules(&rev.join(".git"), &mut out, 0);
                }
            }
        }
        out
    }
}

fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    out.sort();
    out
}

/// `GITDIR/modules/<name>` repositories, recursively (nested submodules).
fn collect_modules(git_dir: &Path, out: &mut Vec<PathBuf>, depth: usize) {
    if depth > 16 {
        return;
    }
    for module in subdirs(&git_dir.join("modules")) {
        collect_modules(&module, out, depth + 1);
        out.push(module);
    }
}

/// A registry crate resolved to its file.
struct Tarball {
    name: String,
    version: String,
    checksum: String,
    file: PathBuf,
    /// Already verified (when several candidates had to be told apart).
    verified: bool,
}

/// The `cargoHash` nixpkgs' fetchCargoVendor records for `lockfile`, in SRI form via
/// [`NarHash::sri`].
///
/// Every registry crate must be found and match its checksum, and every git dependency's
/// commit must be in a local repository; otherwise the error names what is missing.
pub fn cargo_vendor_hash(
    lockfile: &Lockfile,
    sources: &CrateSources,
) -> Result<NarHash, CargoError> {
    cargo_vendor_hash_reporting(lockfile, sources, &|_, _| {})
}

/// [`cargo_vendor_hash`], calling `progress(done, total)` as each git dependency and registry
/// crate of the staging directory is hashed (a front end shows `N/M crates`).
pub fn cargo_vendor_hash_reporting(
    lockfile: &Lockfile,
    sources: &CrateSources,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<NarHash, CargoError> {
    let tarballs = resolve_tarballs(lockfile, sources)?;
    let git_deps = git_dependencies(lockfile);
    let repos = LocalRepos::new(sources.git_candidates());
    // Each crate is read once; the bytes written to the NAR are checked against the lockfile
    // on a second thread, so the two SHA-256 passes run side by side.
    std::thread::scope(|scope| {
        let (tx, rx) = sync_channel::<(&Tarball, Arc<Vec<u8>>)>(4);
        let verifier = scope.spawn(move || {
            for (t, data) in rx {
                let actual = hex(&Sha256::digest(&*data));
                if actual != t.checksum {
                    return Err(mismatch(t, actual));
                }
            }
            Ok(())
        });
        let staging = Staging {
            lockfile,
            tarballs: &tarballs,
            git_deps: &git_deps,
            repos: &repos,
            progress,
        };
        let hashed = hash_with(|nar| write_staging(nar, &staging, &tx));
        drop(tx);
        let verified = verifier.join().expect("the checksum thread does not panic");
        // A damaged crate explains any other failure, so it is reported first.
        verified.and(hashed)
    })
}

fn mismatch(t: &Tarball, actual: String) -> CargoError {
    CargoError::ChecksumMismatch {
        name: t.name.clone(),
        version: t.version.clone(),
        file: t.file.clone(),
        expected: t.checksum.clone(),
        actual,
    }
}

/// Registry crates by staging file name (sorted as the NAR needs them).
fn resolve_tarballs(
    lockfile: &Lockfile,
    sources: &CrateSources,
) -> Result<BTreeMap<String, Tarball>, CargoError> {
    let mut out = BTreeMap::new();
    let mut missing = Vec::new();
    for p in &lockfile.packages {
        let PackageSource::Registry { checksum, .. } = &p.source else {
            continue;
        };
        let file_name = format!("{}-{}.tar.gz", p.name, p.version);
        if out.contains_key(&file_name) {
            return Err(CargoError::DuplicateTarball {
                lockfile: lockfile.path.clone(),
                file_name,
            });
        }
        let candidates = sources.crate_candidates(&p.name, &p.version);
        let (file, verified) = match candidates.as_slice() {
            [] => {
                missing.push(format!("{} {}", p.name, p.version));
                continue;
            }
            [one] => (one.clone(), false),
            many => (pick_matching(many, &p.name, &p.version, checksum)?, true),
        };
        let tarball = Tarball {
            name: p.name.clone(),
            version: p.version.clone(),
            checksum: checksum.clone(),
            file,
            verified,
        };
        out.insert(file_name, tarball);
    }
    if !missing.is_empty() {
        return Err(CargoError::MissingCrates {
            lockfile: lockfile.path.clone(),
            crates: missing,
        });
    }
    Ok(out)
}

/// Of several files for one crate, the one whose sha256 is the lockfile's.
fn pick_matching(
    files: &[PathBuf],
    name: &str,
    version: &str,
    checksum: &str,
) -> Result<PathBuf, CargoError> {
    let mut first_actual = None;
    for f in files {
        let actual = sha256_file(f)?;
        if actual == checksum {
            return Ok(f.clone());
        }
        first_actual.get_or_insert(actual);
    }
    Err(CargoError::ChecksumMismatch {
        name: name.into(),
        version: version.into(),
        file: files[0].clone(),
        expected: checksum.into(),
        actual: first_actual.unwrap_or_default(),
    })
}

fn sha256_file(path: &Path) -> Result<String, CargoError> {
    let mut f = File::open(path).map_err(|source| CargoError::Io {
        path: path.into(),
        source,
    })?;
    let mut hasher = super::nar::HashSink::default();
    std::io::copy(&mut f, &mut hasher).map_err(|source| CargoError::Io {
        path: path.into(),
        source,
    })?;
    Ok(hasher.finish().0.hex())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// One git dependency per locked commit (several packages of one repository share it). The
/// current util fetches once per distinct source string; two strings locked to the same commit
/// would make it check out twice into the same directory, which git refuses, so there is no
/// other hash to match for that case.
struct GitDep {
    url: String,
    name: String,
    version: String,
    line: usize,
}

fn git_dependencies(lockfile: &Lockfile) -> BTreeMap<String, GitDep> {
    let mut out = BTreeMap::new();
    for p in &lockfile.packages {
        if let PackageSource::Git { url, commit } = &p.source {
            out.entry(commit.clone()).or_insert_with(|| GitDep {
                url: url.clone(),
                name: p.name.clone(),
                version: p.version.clone(),
                line: p.line,
            });
        }
    }
    out
}

/// Crates whose bytes still need their checksum checked, with those bytes.
type Verify<'t> = SyncSender<(&'t Tarball, Arc<Vec<u8>>)>;

/// What the staging directory is made of.
struct Staging<'t> {
    lockfile: &'t Lockfile,
    tarballs: &'t BTreeMap<String, Tarball>,
    git_deps: &'t BTreeMap<String, GitDep>,
    repos: &'t LocalRepos,
    progress: &'t (dyn Fn(usize, usize) + Sync),
}

fn write_staging<'t, W: Write>(
    nar: &mut NarWriter<W>,
    staging: &Staging<'t>,
    verify: &Verify<'t>,
) -> Result<(), CargoError> {
    let Staging {
        lockfile,
        tarballs,
        git_deps,
        repos,
        progress,
    } = *staging;
    let total = git_deps.len() + tarballs.len();
    let mut done = 0;
    let w = |r: std::io::Result<()>| r.map_err(|e| CargoError::Hash(HashError::Write(e)));
    w(nar.begin_directory())?;
    w(nar.begin_entry(b"Cargo.lock"))?;
    w(nar.regular(lockfile.executable, &lockfile.bytes))?;
    w(nar.end_entry())?;
    if !git_deps.is_empty() {
        w(nar.begin_entry(b"git"))?;
        w(nar.begin_directory())?;
        for (commit, dep) in git_deps {
            w(nar.begin_entry(commit.as_bytes()))?;
            write_git_dep(nar, lockfile, commit, dep, repos)?;
            w(nar.end_entry())?;
            done += 1;
            progress(done, total);
        }
        w(nar.end_directory())?;
        w(nar.end_entry())?;
    }
    if !tarballs.is_empty() {
        w(nar.begin_entry(b"tarballs"))?;
        w(nar.begin_directory())?;
        for (file_name, tarball) in tarballs {
            w(nar.begin_entry(file_name.as_bytes()))?;
            write_tarball(nar, tarball, verify)?;
            w(nar.end_entry())?;
            done += 1;
            progress(done, total);
        }
        w(nar.end_directory())?;
        w(nar.end_entry())?;
    }
    w(nar.end_directory())
}

fn write_git_dep<W: Write>(
    nar: &mut NarWriter<W>,
    lockfile: &Lockfile,
    commit: &str,
    dep: &GitDep,
    repos: &LocalRepos,
) -> Result<(), CargoError> {
    let missing = || {
        CargoError::MissingGitDependency(Box::new(MissingGitDependency {
            lockfile: lockfile.path.clone(),
            line: dep.line,
            name: dep.name.clone(),
            version: dep.version.clone(),
            url: dep.url.clone(),
            commit: commit.to_string(),
        }))
    };
    let oid = Oid::from_str(commit).map_err(|_| missing())?;
    let repo = repos.find_commit(oid).ok_or_else(missing)?;
    // nix-prefetch-git --fetch-submodules: a checkout with submodules, `.git` removed.
    let semantics = Semantics::Checkout { submodules: true };
    let mut tree = GitTree::new(&repo, oid, Some(&dep.url), semantics, repos)?;
    dump(&mut tree, nar)?;
    Ok(())
}

/// Writes a `.crate` file into the NAR and hands the same bytes to the checksum thread.
fn write_tarball<'t, W: Write>(
    nar: &mut NarWriter<W>,
    t: &'t Tarball,
    verify: &Verify<'t>,
) -> Result<(), CargoError> {
    let data = std::fs::read(&t.file).map_err(|source| CargoError::Io {
        path: t.file.clone(),
        source,
    })?;
    let data = Arc::new(data);
    if !t.verified {
        // A closed channel means the checker stopped at a mismatch, which it will report.
        let _ = verify.send((t, Arc::clone(&data)));
    }
    nar.regular(false, &data)
        .map_err(|e| CargoError::Hash(HashError::Write(e)))
}
