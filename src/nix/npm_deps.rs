//! `npmDepsHash` without a build: the NAR hash of the directory nixpkgs' `fetchNpmDeps` makes,
//! computed from the lockfile and the tarballs it names, streamed (no directory is written).
//!
//! fetchNpmDeps (`pkgs/build-support/node/prefetch-npm-deps/`, the default `fetcherVersion = 1`)
//! runs `prefetch-npm-deps <lockfile> $out`, which writes an npm cache as `npm ci --offline`
//! reads it:
//!
//! ```text
//! $out/package-lock.json                the lockfile, verbatim (npm-shrinkwrap.json if the
//!                                       source has one, under this name)
//! $out/_cacache/content-v2/             always present, even empty
//!   <algo>/<h[0..2]>/<h[2..4]>/<h[4..]> per tarball: its bytes as downloaded; <algo> and the
//!                                       hex digest <h> from its strongest lockfile integrity
//! $out/_cacache/index-v5/               always present, even empty
//!   <k[0..2]>/<k[2..4]>/<k[4..]>        per tarball, k = hex sha256 of its key
//!                                       `make-fetch-happen:request-cache:<url>`; one line, no
//!                                       newline: `<hex sha1 of J>\t<J>` where J is the compact
//!                                       JSON {"key","integrity","time":0,"size","metadata":
//!                                       {"url","options":{"compress":true}}}
//! ```
//!
//! Nothing in it depends on time, order or machine: the index `time` is 0 and every file is
//! written fresh (mode 0644). `fetcherVersion = 2` adds registry packuments fetched at build
//! time and `.fetcher-version`; it is refused here (see [`NpmError::FetcherVersion`]).
//!
//! The tarballs come from npm's own cache (`~/.npm/_cacache`, filled by `npm ci` or
//! `npm cache add`) or from directories of `.tgz` files, each checked against the lockfile's
//! integrity while it is hashed.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};

use super::hash_error::HashError;
use super::nar::{NarHash, NarWriter, hash_with};
use super::npm_integrity::Algo;
use super::npm_lock::{LockedTarball, NpmLockfile, parse};
use super::npm_sources::{Located, NpmSources};

const FOD_HINT: &str = "use the fixed-output route instead (a fake hash, then nix's `got:` line; \
                        the TUI's `f`)";

#[derive(Debug, thiserror::Error)]
pub enum NpmError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}:{line}:{column}: not valid JSON: {message}", path.display())]
    Json {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error(transparent)]
    Invalid(#[from] crate::nix::hash_error::LockfileLine),
    #[error(
        "{}:{line}: `{name}` is a git dependency ({url}); prefetch-npm-deps downloads the host's \
         archive of that commit and repacks it with GNU tar and gzip, whose bytes atwb does not \
         reproduce; {FOD_HINT}",
        path.display()
    )]
    GitDependency {
        path: PathBuf,
        line: usize,
        name: String,
        url: String,
    },
    #[error(
        "{}:{line}: `{name}` has a `resolved` URL but no `integrity`; prefetch-npm-deps stops on \
         it too. Regenerate the lockfile with a current npm (`npm install --package-lock-only`) \
         or fix it with npm-lockfile-fix",
        path.display()
    )]
    NoIntegrity {
        path: PathBuf,
        line: usize,
        name: String,
    },
    #[error(
        "{}: no dependency to cache (no entry with a `resolved` URL); fetchNpmDeps refuses an \
         empty cache unless `forceEmptyCache = true`",
        path.display()
    )]
    EmptyCache { path: PathBuf },
    #[error(
        "fetcherVersion {0} is not reproduced: from version 2 on, prefetch-npm-deps also caches \
         each package's registry metadata (packument) as registry.npmjs.org serves it when the \
         hash is made (filtered to the lockfile's versions, but with the registry's current \
         `dist` fields such as signatures), so the hash follows the registry, not only the \
         lockfile and tarballs; {FOD_HINT}"
    )]
    FetcherVersion(u32),
    #[error(
        "{}: {count} of {total} tarballs are not in the npm cache or the given directories: \
         {list}; run `npm ci --ignore-scripts --no-audit` (or `npm cache add <name>@<version>` \
         for each) in {dir} to fill ~/.npm/_cacache, or pass a directory holding the .tgz files",
        lockfile.display(),
        count = missing.len(),
        list = summarize(missing),
        dir = lockfile.parent().map_or_else(|| ".".into(), |p| p.display().to_string())
    )]
    MissingTarballs {
        lockfile: PathBuf,
        total: usize,
        missing: Vec<String>,
    },
    #[error("{0}")]
    IntegrityMismatch(Box<IntegrityMismatch>),
    #[error(transparent)]
    Hash(#[from] HashError),
}

/// A tarball whose bytes are not the ones its lockfile integrity names.
#[derive(Debug, thiserror::Error)]
#[error(
    "`{name}` ({url}): {} does not match the lockfile's integrity {expected} (its {algo} is \
     {algo}-{actual}); the cached file is damaged or not the published tarball. Run `npm cache \
     verify` (or delete the file) and fetch it again",
    file.display()
)]
pub struct IntegrityMismatch {
    pub name: String,
    pub url: String,
    pub file: PathBuf,
    pub algo: &'static str,
    pub expected: String,
    pub actual: String,
}

fn summarize(names: &[String]) -> String {
    const SHOWN: usize = 8;
    let mut out = names
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > SHOWN {
        out.push_str(&format!(" and {} more", names.len() - SHOWN));
    }
    out
}

/// What fetchNpmDeps is asked for, besides the lockfile.
#[derive(Debug, Clone, Copy)]
pub struct NpmOptions {
    /// `fetcherVersion` (`npmDepsFetcherVersion`); only 1 is reproduced.
    pub fetcher_version: u32,
    /// `forceEmptyCache`.
    pub force_empty_cache: bool,
}

impl Default for NpmOptions {
    fn default() -> Self {
        NpmOptions {
            fetcher_version: 1,
            force_empty_cache: false,
        }
    }
}

#[derive(Debug)]
pub struct NpmDepsHash {
    pub hash: NarHash,
    /// Tarballs in the cache (one per URL).
    pub tarballs: usize,
    /// `file:` entries the fetcher leaves out.
    pub skipped_local: Vec<String>,
}

/// The `npmDepsHash` of `lockfile` (a `package-lock.json` or `npm-shrinkwrap.json`, as it is
/// after the package's patches), with tarballs found through `sources`.
pub fn npm_deps_hash(
    lockfile: &Path,
    sources: &NpmSources,
    options: NpmOptions,
) -> Result<NpmDepsHash, NpmError> {
    if options.fetcher_version != 1 {
        return Err(NpmError::FetcherVersion(options.fetcher_version));
    }
    let text = std::fs::read_to_string(lockfile).map_err(|source| NpmError::Io {
        path: lockfile.to_path_buf(),
        source,
    })?;
    let lock = parse(lockfile, text, options.force_empty_cache)?;
    let located = locate_all(&lock, sources)?;
    let tree = layout(&lock, &located);
    let hash = hash_with(|nar| write_dir(nar, &tree, &lock.tarballs, &located))?;
    Ok(NpmDepsHash {
        hash,
        tarballs: lock.tarballs.len(),
        skipped_local: lock.skipped_local,
    })
}

/// Finds every tarball first, so a missing one is reported with all the others.
fn locate_all(lock: &NpmLockfile, sources: &NpmSources) -> Result<Vec<Located>, NpmError> {
    let mut found = Vec::with_capacity(lock.tarballs.len());
    let mut missing = Vec::new();
    for tarball in &lock.tarballs {
        match sources.locate(tarball)? {
            Some(located) => found.push(located),
            None => missing.push(display_name(tarball)),
        }
    }
    if !missing.is_empty() {
        return Err(NpmError::MissingTarballs {
            lockfile: lock.path.clone(),
            total: lock.tarballs.len(),
            missing,
        });
    }
    Ok(found)
}

/// `name@version` from a registry URL's file name where it has one, else the lockfile key.
fn display_name(tarball: &LockedTarball) -> String {
    let key = tarball
        .name
        .rsplit_once("node_modules/")
        .map_or(tarball.name.as_str(), |(_, n)| n);
    let file = tarball.url.path().rsplit('/').next().unwrap_or("");
    let unscoped = key.rsplit('/').next().unwrap_or(key);
    match file
        .strip_prefix(unscoped)
        .and_then(|rest| rest.strip_prefix('-'))
        .and_then(|rest| rest.strip_suffix(".tgz"))
    {
        Some(version) => format!("{key}@{version}"),
        None => format!("{key} ({})", tarball.url),
    }
}

/// A node of the output directory: subdirectories, small files made here, or a tarball.
enum Node {
    Dir(Dir),
    Bytes(Vec<u8>),
    /// Index into the lockfile's tarballs (and the located files).
    Tarball(usize),
}

type Dir = BTreeMap<Vec<u8>, Node>;

/// The cache index entry of one tarball, field order as prefetch-npm-deps serialises it.
#[derive(Serialize)]
struct IndexEntry<'a> {
    key: &'a str,
    integrity: &'a str,
    time: u8,
    size: u64,
    metadata: IndexMetadata<'a>,
}

#[derive(Serialize)]
struct IndexMetadata<'a> {
    url: &'a str,
    options: IndexOptions,
}

#[derive(Serialize)]
struct IndexOptions {
    compress: bool,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The `<h[0..2]>/<h[2..4]>/<h[4..]>` path cacache files a hex digest under.
fn split_hex(hex: &str) -> [Vec<u8>; 3] {
    [&hex[..2], &hex[2..4], &hex[4..]].map(|s| s.as_bytes().to_vec())
}

fn insert(dir: &mut Dir, path: &[Vec<u8>], leaf: Node) {
    let (last, parents) = path.split_last().expect("a path has a name");
    let mut here = dir;
    for name in parents {
        let node = here
            .entry(name.clone())
            .or_insert_with(|| Node::Dir(Dir::new()));
        here = match node {
            Node::Dir(d) => d,
            _ => unreachable!("cache paths never go through a file"),
        };
    }
    // Two URLs with the same strongest integrity share one content file with the same bytes.
    here.entry(last.clone()).or_insert(leaf);
}

/// The directory prefetch-npm-deps writes, with the tarballs left as references.
fn layout(lock: &NpmLockfile, located: &[Located]) -> Dir {
    let mut cacache = Dir::new();
    cacache.insert(b"content-v2".to_vec(), Node::Dir(Dir::new()));
    cacache.insert(b"index-v5".to_vec(), Node::Dir(Dir::new()));
    for (i, (tarball, file)) in lock.tarballs.iter().zip(located).enumerate() {
        let digest = hex(&tarball.integrity.digest);
        let mut content = vec![
            b"content-v2".to_vec(),
            tarball.integrity.algo.name().as_bytes().to_vec(),
        ];
        content.extend(split_hex(&digest));
        insert(&mut cacache, &content, Node::Tarball(i));

        let key = format!("make-fetch-happen:request-cache:{}", tarball.url);
        let json = serde_json::to_string(&IndexEntry {
            key: &key,
            integrity: &tarball.integrity.text,
            time: 0,
            size: file.size,
            metadata: IndexMetadata {
                url: tarball.url.as_str(),
                options: IndexOptions { compress: true },
            },
        })
        .expect("the index entry serialises");
        let line = format!("{}\t{json}", hex(&Sha1::digest(json.as_bytes())));
        let mut index = vec![b"index-v5".to_vec()];
        index.extend(split_hex(&hex(&Sha256::digest(key.as_bytes()))));
        insert(&mut cacache, &index, Node::Bytes(line.into_bytes()));
    }
    let mut root = Dir::new();
    root.insert(b"_cacache".to_vec(), Node::Dir(cacache));
    root.insert(
        b"package-lock.json".to_vec(),
        Node::Bytes(lock.text.clone().into_bytes()),
    );
    root
}

fn write_dir<W: std::io::Write>(
    nar: &mut NarWriter<W>,
    dir: &Dir,
    tarballs: &[LockedTarball],
    located: &[Located],
) -> Result<(), NpmError> {
    nar.begin_directory().map_err(HashError::Write)?;
    for (name, node) in dir {
        nar.begin_entry(name).map_err(HashError::Write)?;
        match node {
            Node::Dir(sub) => write_dir(nar, sub, tarballs, located)?,
            Node::Bytes(bytes) => nar.regular(false, bytes).map_err(HashError::Write)?,
            Node::Tarball(i) => write_tarball(nar, &tarballs[*i], &located[*i])?,
        }
        nar.end_entry().map_err(HashError::Write)?;
    }
    nar.end_directory().map_err(HashError::Write)?;
    Ok(())
}

/// Streams one tarball into the NAR while hashing it with its integrity's algorithm; a
/// mismatch fails the whole hash, so a wrong file never yields a hash.
fn write_tarball<W: std::io::Write>(
    nar: &mut NarWriter<W>,
    tarball: &LockedTarball,
    file: &Located,
) -> Result<(), NpmError> {
    let io_err = |source| NpmError::Io {
        path: file.path.clone(),
        source,
    };
    let mut reader = std::fs::File::open(&file.path).map_err(io_err)?;
    let mut digest = Verifier::new(tarball.integrity.algo);
    nar.begin_regular(false, file.size)
        .map_err(HashError::Write)?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut left = file.size;
    while left > 0 {
        let want = usize::try_from(left.min(buf.len() as u64)).unwrap_or(buf.len());
        let n = reader.read(&mut buf[..want]).map_err(io_err)?;
        if n == 0 {
            return Err(HashError::FileChanged {
                path: file.path.clone(),
                expected: file.size,
            }
            .into());
        }
        digest.update(&buf[..n]);
        nar.contents(&buf[..n]).map_err(HashError::Write)?;
        left -= n as u64;
    }
    nar.end_regular(file.size).map_err(HashError::Write)?;
    let actual = digest.finish();
    if actual != tarball.integrity.digest {
        use base64::Engine as _;
        return Err(NpmError::IntegrityMismatch(Box::new(IntegrityMismatch {
            name: tarball.name.clone(),
            url: tarball.url.to_string(),
            file: file.path.clone(),
            algo: tarball.integrity.algo.name(),
            expected: tarball.integrity.text.clone(),
            actual: base64::engine::general_purpose::STANDARD.encode(actual),
        })));
    }
    Ok(())
}

/// The digest an integrity names, fed as the bytes stream by.
pub(crate) enum Verifier {
    Sha1(Sha1),
    Sha512(Sha512),
}

impl Verifier {
    pub(crate) fn new(algo: Algo) -> Self {
        match algo {
            Algo::Sha1 => Verifier::Sha1(Sha1::new()),
            Algo::Sha512 => Verifier::Sha512(Sha512::new()),
        }
    }

    pub(crate) fn update(&mut self, bytes: &[u8]) {
        match self {
            Verifier::Sha1(h) => h.update(bytes),
            Verifier::Sha512(h) => h.update(bytes),
        }
    }

    pub(crate) fn finish(self) -> Vec<u8> {
        match self {
            Verifier::Sha1(h) => h.finalize().to_vec(),
            Verifier::Sha512(h) => h.finalize().to_vec(),
        }
    }
}
