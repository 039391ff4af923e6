//! `Cargo.lock` as nixpkgs' `fetchCargoVendor` reads it (`fetch-cargo-vendor-util.py`,
//! `load_lockfile`): packages without `source` are local and skipped; `registry+URL` and
//! `sparse+URL` packages are registry crates with a sha256 `checksum` (in lockfile v1 under
//! `[metadata]` as `"checksum NAME VERSION (SOURCE)"`); `git+URL[?rev|tag|branch=V]#COMMIT`
//! packages are git dependencies pinned to COMMIT; any other source is an error there, and here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::cargo_vendor::CargoError;

/// A parsed `Cargo.lock`, with its bytes (the staging directory holds a copy of the file).
#[derive(Debug, Clone)]
pub struct Lockfile {
    pub path: PathBuf,
    pub bytes: Vec<u8>,
    /// `shutil.copy` keeps the file's mode, so its execute bit reaches the NAR.
    pub executable: bool,
    pub packages: Vec<LockedPackage>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedPackage {
    pub name: String,
    pub version: String,
    pub source: PackageSource,
    /// 1-based line of the package's `name` in the lockfile, for messages.
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackageSource {
    /// A registry crate: its `source` string and the sha256 (hex) of its `.crate` file.
    Registry { source: String, checksum: String },
    /// A git dependency: the repository url and the locked commit (40 hex digits).
    Git { url: String, commit: String },
}

#[derive(Deserialize)]
struct RawLock {
    #[serde(default)]
    package: Vec<RawPackage>,
    #[serde(default)]
    metadata: BTreeMap<String, toml::Value>,
}

#[derive(Deserialize)]
struct RawPackage {
    name: Spanned<String>,
    version: String,
    source: Option<String>,
    checksum: Option<String>,
}

impl Lockfile {
    /// Reads and parses the lockfile at `path`.
    pub fn read(path: &Path) -> Result<Lockfile, CargoError> {
        let io = |source| CargoError::Io {
            path: path.to_path_buf(),
            source,
        };
        let bytes = std::fs::read(path).map_err(io)?;
        let meta = std::fs::metadata(path).map_err(io)?;
        let executable = std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o100 != 0;
        Lockfile::parse(path, bytes, executable)
    }

    /// Parses lockfile `bytes`; `path` names it in messages.
    pub fn parse(path: &Path, bytes: Vec<u8>, executable: bool) -> Result<Lockfile, CargoError> {
        let text = std::str::from_utf8(&bytes).map_err(|e| {
            CargoError::Invalid(crate::nix::hash_error::LockfileLine {
                path: path.to_path_buf(),
                line: line_of(&bytes, e.valid_up_to()),
                message: "the file is not UTF-8".into(),
            })
        })?;
        let raw: RawLock = toml::from_str(text).map_err(|e| CargoError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let mut packages = Vec::new();
        for p in raw.package {
            let line = line_of(&bytes, p.name.span().start);
            let Some(source) = p.source else { continue };
            let name = p.name.into_inner();
            let source = parse_source(&source, &name, &p.version, p.checksum, &raw.metadata)
                .map_err(|message| {
                    CargoError::Invalid(crate::nix::hash_error::LockfileLine {
                        path: path.to_path_buf(),
                        line,
                        message: format!("package `{name} {}`: {message}", p.version),
                    })
                })?;
            packages.push(LockedPackage {
                name,
                version: p.version,
                source,
                line,
            });
        }
        Ok(Lockfile {
            path: path.to_path_buf(),
            bytes,
            executable,
            packages,
        })
    }
}

fn line_of(bytes: &[u8], offset: usize) -> usize {
    1 + bytes[..offset.min(bytes.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
}

fn parse_source(
    source: &str,
    name: &str,
    version: &str,
    checksum: Option<String>,
    metadata: &BTreeMap<String, toml::Value>,
) -> Result<PackageSource, String> {
    if source.starts_with("registry+") || source.starts_with("sparse+") {
        let checksum = checksum
            .or_else(|| {
                let key = format!("checksum {name} {version} ({source})");
                metadata.get(&key)?.as_str().map(str::to_string)
            })
            .ok_or("a registry crate without `checksum` (fetchCargoVendor needs it)")?;
        if checksum.len() != 64 || !checksum.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!("checksum `{checksum}` is not 64 hex digits"));
        }
        return Ok(PackageSource::Registry {
            source: source.to_string(),
            checksum: checksum.to_ascii_lowercase(),
        });
    }
    if let Some(rest) = source.strip_prefix("git+") {
        let (url, commit) =
            parse_git_source(rest).ok_or_else(|| format!("cannot read git source `{source}`"))?;
        if commit.len() != 40 || !commit.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!(
                "git source `{source}` is not locked to a full commit id"
            ));
        }
        return Ok(PackageSource::Git {
            url: url.to_string(),
            commit: commit.to_ascii_lowercase(),
        });
    }
    Err(format!(
        "source `{source}` is neither a registry nor git; fetchCargoVendor cannot process it"
    ))
}

/// `URL[?(rev|tag|branch)=VALUE]#COMMIT`, split as nixpkgs' regex does: the url stops at the
/// first `?`, the commit follows the last `#`.
fn parse_git_source(rest: &str) -> Option<(&str, &str)> {
    let (before, commit) = rest.rsplit_once('#')?;
    let url = match before.split_once('?') {
        Some((url, query)) => {
            let selector = ["rev=", "tag=", "branch="];
            selector
                .iter()
                .any(|s| query.starts_with(s))
                .then_some(url)?
        }
        None => before,
    };
    (!url.is_empty()).then_some((url, commit))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = r#"version = 3

[[package]]
name = "app"
version = "0.1.0"

[[package]]
name = "itoa"
version = "1.0.11"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "49f1f14873335454500d59611f1cf4a4b0f786f9ac11f4312a78e4cf2566695b"

[[package]]
name = "dep"
version = "0.2.0"
source = "git+https://github.com/o/dep?branch=main#0123456789abcdef0123456789abcdef01234567"
"#;

    #[test]
    fn registry_and_git_packages_local_ones_skipped() {
        let lock = Lockfile::parse(Path::new("Cargo.lock"), LOCK.into(), false).unwrap();
        assert_eq!(lock.packages.len(), 2);
        assert_eq!(lock.packages[0].name, "itoa");
        assert_eq!(lock.packages[0].line, 8);
        assert_eq!(
            lock.packages[1].source,
            PackageSource::Git {
                url: "https://github.com/o/dep".into(),
                commit: "0123456789abcdef0123456789abcdef01234567".into()
            }
        );
    }

    #[test]
    fn v1_checksums_come_from_metadata() {
        let v1 = r#"[[package]]
name = "a"
version = "1.0.0"
source = "registry+https://github.com/rust-lang/crates.io-index"

[metadata]
"checksum a 1.0.0 (registry+https://github.com/rust-lang/crates.io-index)" = "49f1f14873335454500d59611f1cf4a4b0f786f9ac11f4312a78e4cf2566695b"
"#;
        let lock = Lockfile::parse(Path::new("Cargo.lock"), v1.into(), false).unwrap();
        assert!(matches!(
            &lock.packages[0].source,
            PackageSource::Registry { checksum, .. } if checksum.starts_with("49f1")
        ));
    }

    #[test]
    fn bad_sources_name_file_line_and_package() {
        let bad = LOCK.replace("git+https://github.com/o/dep?branch=main#", "path+x#");
        let err = Lockfile::parse(Path::new("x/Cargo.lock"), bad.into(), false).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("x/Cargo.lock:14"), "{msg}");
        assert!(msg.contains("dep 0.2.0"), "{msg}");
        assert!(parse_git_source("https://h/r?foo=1#abc").is_none());
        assert_eq!(
            parse_git_source("https://h/r#abc"),
            Some(("https://h/r", "abc"))
        );
    }
}
