//! Content fingerprints for staleness: a package is stale when the files that define its build
//! (its own directory and `catalog/lib/**`) hash differently from when it was last built.
//!
//! All of `catalog/lib` counts, because which lib files a package's Nix code reaches is only known
//! to the evaluator; over-reporting staleness after a lib edit is the safe direction.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use sha2::{Digest, Sha256};

/// Hashes files, re-reading a file only when its size or mtime changed (the TUI asks often).
#[derive(Debug, Default)]
pub struct Fingerprinter {
    cache: Mutex<HashMap<PathBuf, CachedDigest>>,
}

/// A file's digest, valid while its (mtime, size) stay the same.
type CachedDigest = (SystemTime, u64, [u8; 32]);

impl Fingerprinter {
    /// Fingerprint of `package_dir` plus `catalog_root/lib`, as 32 hex digits.
    pub fn package(&self, catalog_root: &Path, package_dir: &Path) -> String {
        let mut h = Sha256::new();
        for (label, dir) in [
            ("pkg", package_dir.to_path_buf()),
            ("lib", catalog_root.join("lib")),
        ] {
            let mut files = Vec::new();
            walk(&dir, &mut files);
            files.sort();
            for f in files {
                let rel = f.strip_prefix(&dir).unwrap_or(&f);
                h.update(label.as_bytes());
                h.update(rel.as_os_str().as_encoded_bytes());
                h.update([0]);
                h.update(self.file(&f));
            }
        }
        h.finalize()
            .iter()
            .take(16)
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    fn file(&self, path: &Path) -> [u8; 32] {
        let meta = std::fs::metadata(path).ok();
        let key = meta
            .as_ref()
            .map(|m| (m.modified().unwrap_or(SystemTime::UNIX_EPOCH), m.len()));
        if let (Some((mtime, len)), Ok(cache)) = (key, self.cache.lock())
            && let Some((m, l, d)) = cache.get(path)
            && (*m, *l) == (mtime, len)
        {
            return *d;
        }
        let digest: [u8; 32] = match std::fs::read(path) {
            Ok(bytes) => Sha256::digest(&bytes).into(),
            Err(_) => [0; 32],
        };
        if let (Some((mtime, len)), Ok(mut cache)) = (key, self.cache.lock()) {
            cache.insert(path.to_path_buf(), (mtime, len, digest));
        }
        digest
    }
}

/// Regular files under `dir`, skipping hidden entries (editor swap files, our own temp files).
fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        if e.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let p = e.path();
        match e.file_type() {
            Ok(t) if t.is_dir() => walk(&p, out),
            Ok(t) if t.is_file() => out.push(p),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_with_package_or_lib_content_only() {
        let t = tempfile::tempdir().unwrap();
        let pkg = t.path().join("pkgs/o/a");
        std::fs::create_dir_all(&pkg).unwrap();
        std::fs::create_dir_all(t.path().join("lib")).unwrap();
        std::fs::write(pkg.join("package.toml"), "name = \"a\"").unwrap();
        std::fs::write(t.path().join("lib/x.nix"), "{}").unwrap();
        let f = Fingerprinter::default();
        let a = f.package(t.path(), &pkg);
        assert_eq!(a, f.package(t.path(), &pkg));
        std::fs::write(t.path().join("lib/x.nix"), "{ y = 1; }").unwrap();
        let b = f.package(t.path(), &pkg);
        assert_ne!(a, b);
        std::fs::write(pkg.join(".package.toml.swp"), "junk").unwrap();
        assert_eq!(b, f.package(t.path(), &pkg));
        std::fs::write(pkg.join("package.nix"), "{}").unwrap();
        assert_ne!(b, f.package(t.path(), &pkg));
    }
}
