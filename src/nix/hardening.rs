//! Scoring a unit with `systemd-analyze security --offline=yes` (systemd 252 on Debian 12).
//!
//! Observed on that version: the unit file must be named `*.service`; `ExecStart` need not exist;
//! a `[Unit]` section is optional; the last line reads
//! `→ Overall exposure level for NAME.service: 1.2 OK 🙂`; a bad setting exits 1 with the reason
//! on stderr ("Unit x.service has a bad unit file setting.").
//!
//! Scores need the catalog's Nix code evaluated, so the TUI computes them only when asked and
//! remembers them in a [`ScoreCache`] under a key of the catalog's content: a later start on the
//! same files shows them without evaluating anything.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, anyhow, bail};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What systemd-analyze said about one unit.
#[derive(Debug, Clone, PartialEq)]
pub struct HardeningReport {
    /// Overall exposure, 0.0 (best) to 10.0.
    pub score: f32,
    /// systemd's label: PERFECT, SAFE, OK, MEDIUM, EXPOSED, UNSAFE, DANGEROUS.
    pub label: String,
    /// The settings it counted against the unit (lines starting with ✗).
    pub findings: Vec<String>,
}

/// Parse systemd-analyze's table; the overall line is the one that matters.
pub fn parse_report(stdout: &str) -> Result<HardeningReport> {
    let overall = stdout
        .lines()
        .find(|l| l.contains("Overall exposure level for"))
        .ok_or_else(|| anyhow!("systemd-analyze printed no overall exposure line:\n{stdout}"))?;
    let after = overall
        .rsplit_once(": ")
        .map(|(_, rest)| rest)
        .ok_or_else(|| anyhow!("unexpected overall line: {overall}"))?;
    let mut words = after.split_whitespace();
    let score: f32 = words
        .next()
        .and_then(|w| w.parse().ok())
        .ok_or_else(|| anyhow!("no score in: {overall}"))?;
    let label = words.next().unwrap_or_default().to_string();
    let findings = stdout
        .lines()
        .filter(|l| l.starts_with('✗'))
        .map(|l| l.trim_start_matches('✗').trim().to_string())
        .collect();
    Ok(HardeningReport {
        score,
        label,
        findings,
    })
}

/// Write the unit to a private temporary directory and score it.
pub fn analyze(unit_text: &str) -> Result<HardeningReport> {
    // A fresh directory with an unpredictable name (mode 0700), removed when `dir` drops.
    let dir = tempfile::Builder::new()
        .prefix("atwb-hardening-")
        .tempdir()
        .context("creating a temporary directory for systemd-analyze")?;
    let file = dir.path().join("atwb-scored.service");
    let result = (|| {
        std::fs::write(&file, unit_text).with_context(|| format!("writing {}", file.display()))?;
        let output = Command::new("systemd-analyze")
            .args(["security", "--offline=yes", "--no-pager"])
            .arg(&file)
            .output()
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => {
                    anyhow!("systemd-analyze is not installed (package systemd)")
                }
                _ => anyhow!("running systemd-analyze: {e}"),
            })?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            bail!(
                "systemd-analyze rejected the unit: {}",
                String::from_utf8_lossy(&output.stderr).trim_end()
            );
        }
        parse_report(&stdout)
    })();
    drop(dir);
    result
}

/// Per service name: its exposure score, or why it could not be scored.
pub type Scores = BTreeMap<String, Result<f32, String>>;

/// A hash of everything a score depends on: every file under the catalog's `lib/` and `pkgs/`
/// (names and bytes; a symlink by its target, never followed) and the atwb version (the unit is
/// rendered in Rust). Reads files only, evaluates nothing.
pub fn content_key(catalog_root: &Path) -> String {
    let mut h = Sha256::new();
    h.update(concat!("atwb ", env!("CARGO_PKG_VERSION"), "\0").as_bytes());
    for top in ["lib", "pkgs"] {
        let mut files = Vec::new();
        walk(&catalog_root.join(top), &mut files);
        files.sort();
        for f in files {
            let rel = f.strip_prefix(catalog_root).unwrap_or(&f);
            h.update(rel.as_os_str().as_encoded_bytes());
            h.update([0]);
            let content = match std::fs::read_link(&f) {
                Ok(target) => [b"link:", target.as_os_str().as_encoded_bytes()].concat(),
                Err(_) => std::fs::read(&f).unwrap_or_else(|e| format!("unreadable: {e}").into()),
            };
            h.update(Sha256::digest(&content));
        }
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Files and symlinks under `dir`, recursively, without following links.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        match e.file_type() {
            Ok(t) if t.is_dir() => walk(&e.path(), out),
            Ok(_) => out.push(e.path()),
            Err(_) => {}
        }
    }
}

/// The last scores computed for a catalog, with the content key they were computed for.
pub struct ScoreCache {
    file: PathBuf,
}

#[derive(Serialize, Deserialize)]
struct CacheFile {
    key: String,
    scores: Scores,
}

impl ScoreCache {
    /// The cache of the catalog at `catalog_root`, in its state directory.
    pub fn for_catalog(catalog_root: &Path) -> ScoreCache {
        ScoreCache::in_file(crate::paths::catalog_state_dir(catalog_root).join("hardening.json"))
    }

    pub fn in_file(file: PathBuf) -> ScoreCache {
        ScoreCache { file }
    }

    /// The scores stored for exactly this content key; anything else (no file, another key, a
    /// file from another version) is a miss.
    pub fn get(&self, key: &str) -> Option<Scores> {
        let text = std::fs::read(&self.file).ok()?;
        let cached: CacheFile = serde_json::from_slice(&text).ok()?;
        (cached.key == key).then_some(cached.scores)
    }

    /// Replaces the stored scores (written to a temporary file, synced, then renamed).
    pub fn put(&self, key: &str, scores: &Scores) -> Result<()> {
        let dir = self.file.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let doc = CacheFile {
            key: key.to_owned(),
            scores: scores.clone(),
        };
        let mut tmp = tempfile::Builder::new()
            .prefix(".hardening.json.")
            .tempfile_in(dir)
            .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
        tmp.write_all(&serde_json::to_vec_pretty(&doc)?)?;
        tmp.as_file().sync_all()?;
        tmp.persist(&self.file)
            .with_context(|| format!("writing {}", self.file.display()))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_hits_only_for_the_same_catalog_content() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("catalog");
        std::fs::create_dir_all(root.join("lib")).unwrap();
        std::fs::create_dir_all(root.join("pkgs/o/a")).unwrap();
        std::fs::write(root.join("lib/offline.nix"), "{ }").unwrap();
        std::fs::write(root.join("pkgs/o/a/package.toml"), "name = \"a\"").unwrap();
        let cache = ScoreCache::in_file(t.path().join("state/hardening.json"));
        let key = content_key(&root);
        assert_eq!(cache.get(&key), None, "nothing stored yet");
        let scores: Scores = [("a".to_string(), Ok(1.5)), ("b".into(), Err("no".into()))].into();
        cache.put(&key, &scores).unwrap();
        assert_eq!(cache.get(&key), Some(scores.clone()));
        assert_eq!(content_key(&root), key, "reading changes nothing");
        // Any file the evaluation may read changes the key: lib, a package, a new file.
        for (file, text) in [
            ("lib/offline.nix", "{ x = 1; }"),
            ("pkgs/o/a/package.toml", "name = \"b\""),
            ("pkgs/o/a/package.nix", "{ }"),
        ] {
            let before = content_key(&root);
            std::fs::write(root.join(file), text).unwrap();
            let after = content_key(&root);
            assert_ne!(before, after, "{file}");
            assert_eq!(cache.get(&after), None, "{file}");
        }
        std::fs::write(cache.file.clone(), "not json").unwrap();
        assert_eq!(cache.get(&key), None, "a damaged cache is a miss");
    }

    #[test]
    fn parses_the_overall_line_and_findings() {
        let out = "  NAME   DESCRIPTION   EXPOSURE\n\
                   ✗ PrivateNetwork=   Service has access to the host's network   0.5\n\
                   ✓ UMask=   Files created by service are accessible only by service's own user by default\n\
                   \n→ Overall exposure level for x.service: 1.2 OK 🙂\n";
        let r = parse_report(out).unwrap();
        assert_eq!(r.score, 1.2);
        assert_eq!(r.label, "OK");
        assert_eq!(r.findings.len(), 1);
        assert!(r.findings[0].starts_with("PrivateNetwork="));
    }

    #[test]
    fn no_overall_line_is_an_error() {
        assert!(parse_report("garbage").is_err());
    }
}
