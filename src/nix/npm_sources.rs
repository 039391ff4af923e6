//! Where the tarballs of an npm lockfile are found: npm's own content-addressed cache
//! (`~/.npm/_cacache`, as `npm ci` and `npm cache add` leave it) and directories of `.tgz`
//! files, matched by digest so their names do not matter.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use sha2::{Digest, Sha256};

use super::npm_deps::{NpmError, Verifier};
use super::npm_integrity::{Algo, Sri};
use super::npm_lock::LockedTarball;

/// A tarball's file and its size when it was found.
#[derive(Debug, Clone)]
pub struct Located {
    pub path: PathBuf,
    pub size: u64,
}

#[derive(Debug, Default)]
pub struct NpmSources {
    /// npm cache directories (`~/.npm`) or their `_cacache` directories, searched in order.
    pub npm_caches: Vec<PathBuf>,
    /// Files of the given tarball directories by (algorithm, digest).
    by_digest: HashMap<(Algo, Vec<u8>), PathBuf>,
}

impl NpmSources {
    /// These npm cache directories (`~/.npm` or a `_cacache`), searched in order.
    pub fn with_caches(npm_caches: Vec<PathBuf>) -> Self {
        NpmSources {
            npm_caches,
            ..NpmSources::default()
        }
    }

    /// npm's cache as npm itself finds it: `$npm_config_cache`, else `~/.npm`.
    pub fn from_env() -> Self {
        let cache = std::env::var_os("npm_config_cache")
            .or_else(|| std::env::var_os("NPM_CONFIG_CACHE"))
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".npm")));
        Self::with_caches(cache.into_iter().collect())
    }

    /// Adds a directory of tarballs (any names; not recursive), digesting each file once.
    pub fn add_tarball_dir(&mut self, dir: &Path) -> Result<(), NpmError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| NpmError::Io { path, source }
        };
        for entry in std::fs::read_dir(dir).map_err(io(dir))? {
            let path = entry.map_err(io(dir))?.path();
            if !path.is_file() {
                continue;
            }
            for algo in [Algo::Sha512, Algo::Sha1] {
                let digest = digest_file(&path, algo)?;
                self.by_digest
                    .entry((algo, digest))
                    .or_insert_with(|| path.clone());
            }
        }
        Ok(())
    }

    /// The file holding `tarball`, unverified (its digest is checked while it is hashed), or
    /// `None` when no source has it.
    pub fn locate(&self, tarball: &LockedTarball) -> Result<Option<Located>, NpmError> {
        // The strongest hash first: a file found under it can only be the right one or damaged.
        let mut hashes: Vec<&Sri> = vec![&tarball.integrity];
        hashes.extend(
            tarball
                .all_hashes
                .iter()
                .filter(|h| h.text != tarball.integrity.text),
        );
        for sri in &hashes {
            if let Some(path) = self.by_digest.get(&(sri.algo, sri.digest.clone())) {
                return located(path);
            }
        }
        for cache in &self.npm_caches {
            let cacache = cacache_dir(cache);
            for sri in &hashes {
                let path = content_path(&cacache, sri.algo.name(), &sri.digest);
                if path.is_file() {
                    return located(&path);
                }
            }
            // npm may file a tarball under another algorithm than the lockfile's: its index
            // entry for the URL says which.
            for (algo, digest) in indexed_integrity(&cacache, tarball.url.as_str()) {
                let path = content_path(&cacache, &algo, &digest);
                if path.is_file() {
                    return located(&path);
                }
            }
        }
        Ok(None)
    }
}

fn located(path: &Path) -> Result<Option<Located>, NpmError> {
    let meta = std::fs::metadata(path).map_err(|source| NpmError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(Some(Located {
        path: path.to_path_buf(),
        size: meta.len(),
    }))
}

fn digest_file(path: &Path, algo: Algo) -> Result<Vec<u8>, NpmError> {
    let io = |source| NpmError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(io)?;
    let mut hasher = Verifier::new(algo);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buf).map_err(io)?;
        if n == 0 {
            return Ok(hasher.finish());
        }
        hasher.update(&buf[..n]);
    }
}

/// `~/.npm` holds the cache in `_cacache`; a `_cacache` directory given directly is used as is.
fn cacache_dir(cache: &Path) -> PathBuf {
    let inner = cache.join("_cacache");
    if inner.is_dir() {
        inner
    } else {
        cache.to_path_buf()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn content_path(cacache: &Path, algo: &str, digest: &[u8]) -> PathBuf {
    let h = hex(digest);
    if h.len() < 5 {
        return cacache.join("content-v2").join(algo).join(h);
    }
    cacache
        .join("content-v2")
        .join(algo)
        .join(&h[..2])
        .join(&h[2..4])
        .join(&h[4..])
}

/// The integrity npm's index records for `url` (its last entry for the key wins, as in
/// cacache), as (algorithm, digest) pairs; nothing if there is no usable entry.
fn indexed_integrity(cacache: &Path, url: &str) -> Vec<(String, Vec<u8>)> {
    let key = format!("make-fetch-happen:request-cache:{url}");
    let k = hex(&Sha256::digest(key.as_bytes()));
    let bucket = cacache
        .join("index-v5")
        .join(&k[..2])
        .join(&k[2..4])
        .join(&k[4..]);
    let Ok(text) = std::fs::read_to_string(bucket) else {
        return Vec::new();
    };
    let last = text
        .lines()
        .rev()
        .filter_map(|line| line.split_once('\t'))
        .filter_map(|(_, json)| serde_json::from_str::<serde_json::Value>(json).ok())
        .find(|entry| entry.get("key").and_then(|k| k.as_str()) == Some(key.as_str()));
    let Some(integrity) = last.as_ref().and_then(|e| e.get("integrity")?.as_str()) else {
        return Vec::new();
    };
    integrity
        .split_ascii_whitespace()
        .filter_map(|token| {
            let (algo, b64) = token.split_once('-')?;
            // Options after `?` are part of SRI; the digest is what comes before.
            let b64 = b64.split('?').next()?;
            let digest = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
            Some((algo.to_string(), digest))
        })
        .collect()
}
