//! `atwb hash`: dependency hashes of a lockfile, and a catalog package's source and dependency
//! hashes recomputed natively (git objects, lockfile + cached artifacts), with `--write` through
//! the format-preserving, conflict-refusing edit path.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Args;

use super::output::{Mode, with_stdout};
use super::prefetch::{cache_dir, semantics_name};
use crate::catalog::edit::{PackageFile, find_package_file, package_files};
use crate::nix::cargo_lock::Lockfile;
use crate::nix::cargo_vendor::{CrateSources, cargo_vendor_hash};
use crate::nix::crate_download::{Download, download_missing};
use crate::nix::fetcher::{FetchArgs, Fetcher, Rev, prefetch};
use crate::nix::git_remote::{self, Want};
use crate::nix::npm_deps::{NpmOptions, npm_deps_hash};
use crate::nix::npm_sources::NpmSources;
use crate::nix::submodules::LocalRepos;
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
        let hash = deps_hash(lock, args, &[])?;
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LockKind {
    Cargo,
    Npm,
}

impl LockKind {
    fn of(path: &Path) -> Result<LockKind> {
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

    fn nix_name(self) -> &'static str {
        match self {
            LockKind::Cargo => "cargoHash",
            LockKind::Npm => "npmDepsHash",
        }
    }
}

/// A lockfile's contents, read from disk or from a git commit.
struct LockBytes {
    kind: LockKind,
    /// Names it in errors; the file itself when `on_disk`.
    path: PathBuf,
    bytes: Vec<u8>,
    executable: bool,
    /// False for a commit's blob: the working tree may hold another version of the file.
    on_disk: bool,
}

/// The SRI dependency hash of `lock`; `repos` may hold git dependencies.
fn deps_hash(lock: LockBytes, args: &HashArgs, repos: &[PathBuf]) -> Result<String> {
    let path = lock.path.as_path();
    match lock.kind {
        LockKind::Cargo => {
            let lock = Lockfile::parse(path, lock.bytes, lock.executable)?;
            let mut sources = CrateSources::from_env();
            sources.crate_dirs.extend(args.crates.iter().cloned());
            let state = paths::state_dir();
            sources.crate_dirs.push(Download::cache_dir(&state));
            sources.git_repos.extend(repos.iter().cloned());
            sources.git_repos.extend(args.git_repo.iter().cloned());
            if args.download {
                let dl = Download::new(&state, args.crates_url.clone());
                let n = download_missing(&lock, &sources, &dl)?;
                if n > 0 {
                    eprintln!(
                        "downloaded {n} crate(s) from {} into {}",
                        dl.base_url,
                        dl.cache_dir.display()
                    );
                }
            }
            Ok(cargo_vendor_hash(&lock, &sources)?.sri())
        }
        LockKind::Npm => {
            let mut sources = match &args.npm_cache {
                Some(dir) => NpmSources::with_caches(vec![dir.clone()]),
                None => NpmSources::from_env(),
            };
            if let Some(dir) = &args.tarballs {
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
struct Outcome {
    field: &'static str,
    old: String,
    new: Result<String, String>,
    from: String,
    /// False when atwb does not compute this kind of hash at all.
    supported: bool,
}

impl Outcome {
    fn changed(&self) -> Option<&str> {
        self.new.as_deref().ok().filter(|n| *n != self.old)
    }
}

fn run_package(args: &HashArgs, catalog: &Path, name: &str) -> Result<ExitCode> {
    let entry = read_entry(catalog, name)?;
    let checkout = if let Some(p) = &args.source {
        p.clone()
    } else {
        let dir = cache_dir(&entry.url);
        git_remote::ensure(&entry.url, &dir, &Want::from_rev(&entry.rev)).with_context(|| {
            format!(
                "getting {} of {} (or pass --source PATH)",
                short(&entry.rev),
                entry.url
            )
        })?;
        dir
    };
    let resolver = LocalRepos::new(vec![checkout.clone()]);
    let pin = prefetch(
        &checkout,
        &Rev::Rev(entry.rev.clone()),
        &entry.fetch,
        &resolver,
    )
    .with_context(|| format!("hashing {} at {}", checkout.display(), entry.rev))?;
    let source = Outcome {
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
    let deps = deps_outcome(&entry, &checkout, args);
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

fn short(rev: &str) -> &str {
    rev.get(..12).unwrap_or(rev)
}

/// The builder's dependency hash from the lockfile in the commit (not the working tree).
fn deps_outcome(entry: &Entry, checkout: &Path, args: &HashArgs) -> Outcome {
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
    let file_name = match kind {
        LockKind::Cargo => "Cargo.lock",
        LockKind::Npm => "package-lock.json",
    };
    let rel = entry.source_root.as_deref().map_or_else(
        || file_name.to_string(),
        |r| format!("{}/{file_name}", r.trim_end_matches('/')),
    );
    let computed = lockfile_at(checkout, &entry.rev, &rel, kind)
        .and_then(|lock| deps_hash(lock, args, &[checkout.to_path_buf()]));
    Outcome {
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
/// (same workspace and rev), all files checked for concurrent edits before any is written.
fn write_outcomes(catalog: &Path, entry: &Entry, outcomes: &[Outcome]) -> Result<Vec<PathBuf>> {
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
    for f in &files {
        f.check_unchanged()?;
    }
    for f in &mut files {
        f.save()?;
    }
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
