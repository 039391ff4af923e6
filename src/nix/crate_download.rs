//! Registry crates the local caches lack, downloaded when the user asks for it: from the
//! registry's download URL (crates.io: `https://static.crates.io/crates/{name}/{name}-{version}.crate`),
//! a few at a time, each checked against its `Cargo.lock` checksum before it is stored (atomically)
//! in atwb's own cache, never in `~/.cargo`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use futures::StreamExt;
use sha2::{Digest, Sha256};

use super::cargo_lock::{LockedPackage, Lockfile, PackageSource};
use super::cargo_vendor::CrateSources;

/// crates.io's `dl` (its index's config.json).
pub const CRATES_IO_DOWNLOAD: &str = "https://static.crates.io/crates";

/// The two spellings of crates.io in a `Cargo.lock`.
const CRATES_IO_SOURCES: [&str; 2] = [
    "registry+https://github.com/rust-lang/crates.io-index",
    "sparse+https://index.crates.io/",
];

#[derive(Debug, Clone)]
pub struct Download {
    /// `{base}/{name}/{name}-{version}.crate` is fetched.
    pub base_url: String,
    /// Where verified crates are stored as `{name}-{version}.crate`.
    pub cache_dir: PathBuf,
    pub concurrency: usize,
    /// For each request as a whole (connecting has a shorter limit of its own).
    pub timeout: Duration,
}

impl Download {
    /// crates.io, or `ATWB_CRATES_URL` when set; atwb's cache under `state_dir`.
    pub fn new(state_dir: &Path, base_url: Option<String>) -> Download {
        let base_url = base_url
            .or_else(|| {
                std::env::var("ATWB_CRATES_URL")
                    .ok()
                    .filter(|v| !v.is_empty())
            })
            .unwrap_or_else(|| CRATES_IO_DOWNLOAD.to_string());
        Download {
            base_url: base_url.trim_end_matches('/').to_string(),
            cache_dir: Self::cache_dir(state_dir),
            concurrency: 8,
            timeout: Duration::from_secs(120),
        }
    }

    /// `<state dir>/crates`, searched for crates on every hash, downloaded or not.
    pub fn cache_dir(state_dir: &Path) -> PathBuf {
        state_dir.join("crates")
    }

    fn url(&self, p: &LockedPackage) -> String {
        format!(
            "{}/{}/{}-{}.crate",
            self.base_url, p.name, p.name, p.version
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    #[error(
        "crate {name} {version} comes from {source_id}, not crates.io; atwb downloads from \
         crates.io only. Run `cargo fetch --locked` in {dir}"
    )]
    OtherRegistry {
        name: String,
        version: String,
        source_id: String,
        dir: String,
    },
    #[error("{}", failures.join("\n"))]
    Failed { failures: Vec<String> },
    #[error("{}: {message}", path.display())]
    Cache { path: PathBuf, message: String },
}

/// Downloads every crates.io crate of `lockfile` that `sources` cannot find; returns how many.
pub fn download_missing(
    lockfile: &Lockfile,
    sources: &CrateSources,
    dl: &Download,
) -> Result<usize, DownloadError> {
    let dir = lockfile
        .path
        .parent()
        .map_or_else(|| ".".into(), |p| p.display().to_string());
    let mut wanted = Vec::new();
    for p in &lockfile.packages {
        let PackageSource::Registry { source, checksum } = &p.source else {
            continue;
        };
        if sources.has_crate(&p.name, &p.version) {
            continue;
        }
        if !CRATES_IO_SOURCES.contains(&source.as_str()) {
            return Err(DownloadError::OtherRegistry {
                name: p.name.clone(),
                version: p.version.clone(),
                source_id: source.clone(),
                dir,
            });
        }
        wanted.push((p, checksum.as_str()));
    }
    if wanted.is_empty() {
        return Ok(0);
    }
    std::fs::create_dir_all(&dl.cache_dir).map_err(|e| DownloadError::Cache {
        path: dl.cache_dir.clone(),
        message: e.to_string(),
    })?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| DownloadError::Cache {
            path: dl.cache_dir.clone(),
            message: format!("starting the download runtime: {e}"),
        })?;
    let failures = runtime.block_on(fetch_all(&wanted, dl));
    if failures.is_empty() {
        Ok(wanted.len())
    } else {
        Err(DownloadError::Failed { failures })
    }
}

async fn fetch_all(wanted: &[(&LockedPackage, &str)], dl: &Download) -> Vec<String> {
    let client = match reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(15))
        .timeout(dl.timeout)
        .user_agent(concat!("atwb/", env!("CARGO_PKG_VERSION")))
        .build()
    {
        Ok(c) => c,
        Err(e) => return vec![format!("creating the HTTP client: {e}")],
    };
    let mut failures: Vec<String> = futures::stream::iter(wanted)
        .map(|(p, checksum)| {
            let client = &client;
            async move { fetch_one(client, p, checksum, dl).await.err() }
        })
        .buffer_unordered(dl.concurrency.max(1))
        .filter_map(|r| async move { r })
        .collect()
        .await;
    failures.sort();
    failures
}

/// Fetches one crate, refuses it unless its sha256 is the lockfile's, then stores it.
async fn fetch_one(
    client: &reqwest::Client,
    p: &LockedPackage,
    checksum: &str,
    dl: &Download,
) -> Result<(), String> {
    let url = dl.url(p);
    let what = format!("crate {} {} ({url})", p.name, p.version);
    let response = client
        .get(&url)
        .send()
        .await
        .map_err(|e| format!("{what}: {}", describe(&e)))?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("{what}: the server answered {status}"));
    }
    let bytes = response
        .bytes()
        .await
        .map_err(|e| format!("{what}: {}", describe(&e)))?;
    let actual: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if actual != checksum {
        return Err(format!(
            "{what}: refused, its sha256 is {actual} but Cargo.lock says {checksum}"
        ));
    }
    let file = dl.cache_dir.join(format!("{}-{}.crate", p.name, p.version));
    store(&dl.cache_dir, &file, &bytes).map_err(|e| format!("{what}: {}: {e}", file.display()))
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        format!("timed out ({e})")
    } else if e.is_connect() {
        format!("cannot connect ({e})")
    } else {
        e.to_string()
    }
}

/// Writes `bytes` to `file` through a temporary file in the same directory.
fn store(dir: &Path, file: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.persist(file).map_err(|e| e.error)?;
    Ok(())
}
