//! `package-lock.json` (or `npm-shrinkwrap.json`) read as nixpkgs' `prefetch-npm-deps` reads it:
//! which entries it downloads into the npm cache it hashes, under which URL and which integrity.
//!
//! The rules, from `pkgs/build-support/node/prefetch-npm-deps/src/parse/`:
//! - lockfile versions 2 and 3: every entry of `packages` except the root `""` whose `resolved`
//!   parses as an absolute URL (relative `resolved` of `link` entries and workspaces are left
//!   out); version 1: every entry of the nested `dependencies` not marked `bundled` (nor anything
//!   under it), its `resolved` taken from `version` when `version` is a URL (`npm:` aliases keep
//!   their `resolved`, `github:` shorthands become `git+ssh://git@github.com/...`);
//! - `integrity` is a space-separated list of `sha1-`/`sha512-` SRI hashes, every entry's list is
//!   parsed (an unknown algorithm fails the whole lockfile), and the strongest one is the one
//!   cached;
//! - entries are deduplicated by URL, keeping the strongest integrity;
//! - `git+…`/`ssh` URLs of GitHub, Bitbucket and sourcehut are fetched as the host's tarball and
//!   repacked with GNU tar and gzip, other hosts are refused; `file:` URLs are not cached.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use url::Url;

use super::npm_deps::NpmError;
use super::npm_integrity::{Sri, best, parse_sri};

/// A tarball the fetcher downloads into its cache.
#[derive(Debug, Clone)]
pub struct LockedTarball {
    /// The lockfile key (`node_modules/@scope/name`) or, in version 1, the dependency name.
    pub name: String,
    pub url: Url,
    /// The strongest hash, the one the cache is keyed by.
    pub integrity: Sri,
    /// Every hash the lockfile lists for it, to find the file under any of them.
    pub all_hashes: Vec<Sri>,
    /// 1-based line of the entry in the lockfile, for messages.
    pub line: usize,
}

#[derive(Debug)]
pub struct NpmLockfile {
    pub path: PathBuf,
    /// The file's text: written verbatim as `package-lock.json` into the fetcher's output.
    pub text: String,
    pub version: u8,
    /// Sorted by URL, one per URL.
    pub tarballs: Vec<LockedTarball>,
    /// Entries with a `file:` URL, which the fetcher leaves out of its cache.
    pub skipped_local: Vec<String>,
}

/// The lockfile fetchNpmDeps uses in a source directory: `npm-shrinkwrap.json` wins over
/// `package-lock.json`, as in its build phase.
pub fn find_lockfile(dir: &Path) -> Option<PathBuf> {
    ["npm-shrinkwrap.json", "package-lock.json"]
        .iter()
        .map(|name| dir.join(name))
        .find(|p| p.is_file())
}

/// An entry before it is checked: what both lockfile layouts reduce to.
struct RawEntry {
    name: String,
    resolved: Option<Url>,
    integrity: Vec<Sri>,
}

struct Ctx<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Ctx<'_> {
    fn invalid(&self, name: &str, message: String) -> NpmError {
        NpmError::Invalid(crate::nix::hash_error::LockfileLine {
            path: self.path.to_path_buf(),
            line: line_of(self.text, name),
            message,
        })
    }
}

/// Parses `text` (the contents of `path`) into the tarballs prefetch-npm-deps caches.
pub fn parse(path: &Path, text: String, force_empty_cache: bool) -> Result<NpmLockfile, NpmError> {
    let value: Value = serde_json::from_str(&text).map_err(|e| NpmError::Json {
        path: path.to_path_buf(),
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })?;
    let ctx = Ctx { path, text: &text };
    let root = value
        .as_object()
        .ok_or_else(|| ctx.invalid("", "the lockfile is not a JSON object".into()))?;
    let version = lockfile_version(&ctx, root)?;
    // Like the fetcher's serde model, the legacy `dependencies` tree is parsed (and can fail)
    // in every version, though only version 1 takes packages from it.
    let mut legacy = Vec::new();
    if let Some(deps) = root.get("dependencies") {
        legacy_entries(&ctx, deps, &mut legacy)?;
    }
    let raw = match version {
        1 => legacy,
        2 | 3 => package_entries(&ctx, root)?,
        v => {
            return Err(ctx.invalid(
                "lockfileVersion",
                format!("lockfileVersion {v} is not supported by prefetch-npm-deps (1, 2, 3)"),
            ));
        }
    };
    let (tarballs, skipped_local) = select(&ctx, raw)?;
    if tarballs.is_empty() && !force_empty_cache {
        return Err(NpmError::EmptyCache {
            path: path.to_path_buf(),
        });
    }
    Ok(NpmLockfile {
        path: path.to_path_buf(),
        text,
        version,
        tarballs,
        skipped_local,
    })
}

fn lockfile_version(ctx: &Ctx, root: &Map<String, Value>) -> Result<u8, NpmError> {
    let field = root
        .get("lockfileVersion")
        .ok_or_else(|| ctx.invalid("", "no `lockfileVersion` field".into()))?;
    field
        .as_u64()
        .and_then(|v| u8::try_from(v).ok())
        .ok_or_else(|| {
            ctx.invalid(
                "lockfileVersion",
                format!("`lockfileVersion` is {field}, not a small integer"),
            )
        })
}

/// Versions 2 and 3: the flat `packages` map.
fn package_entries(ctx: &Ctx, root: &Map<String, Value>) -> Result<Vec<RawEntry>, NpmError> {
    let Some(packages) = root.get("packages") else {
        return Ok(Vec::new());
    };
    let packages = packages
        .as_object()
        .ok_or_else(|| ctx.invalid("packages", "`packages` is not an object".into()))?;
    let mut out = Vec::new();
    for (key, entry) in packages {
        let entry = entry
            .as_object()
            .ok_or_else(|| ctx.invalid(key, format!("package `{key}` is not an object")))?;
        if entry.get("name").is_some_and(|n| !n.is_string()) {
            return Err(ctx.invalid(key, format!("package `{key}`: `name` is not a string")));
        }
        let integrity = integrity_of(ctx, key, entry)?;
        let resolved = match entry.get("resolved") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Url::parse(s).ok(),
            Some(other) => {
                return Err(ctx.invalid(
                    key,
                    format!("package `{key}`: `resolved` is {other}, not a string"),
                ));
            }
        };
        // The root entry and entries whose `resolved` is not an absolute URL (workspace members,
        // `link` entries) are not fetched.
        if key.is_empty() || resolved.is_none() {
            continue;
        }
        out.push(RawEntry {
            name: key.clone(),
            resolved,
            integrity,
        });
    }
    Ok(out)
}

/// Version 1: the nested `dependencies` tree, flattened as the fetcher's `to_new_packages` does.
fn legacy_entries(ctx: &Ctx, deps: &Value, out: &mut Vec<RawEntry>) -> Result<(), NpmError> {
    let deps = deps
        .as_object()
        .ok_or_else(|| ctx.invalid("dependencies", "`dependencies` is not an object".into()))?;
    for (name, dep) in deps {
        let dep = dep
            .as_object()
            .ok_or_else(|| ctx.invalid(name, format!("dependency `{name}` is not an object")))?;
        let Some(Value::String(version)) = dep.get("version") else {
            return Err(ctx.invalid(name, format!("dependency `{name}` has no `version` string")));
        };
        let integrity = integrity_of(ctx, name, dep)?;
        let resolved = match dep.get("resolved") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.as_str()),
            Some(other) => {
                return Err(ctx.invalid(
                    name,
                    format!("dependency `{name}`: `resolved` is {other}, not a string"),
                ));
            }
        };
        // A bundled dependency ships inside its parent's tarball; neither it nor anything below
        // it is fetched.
        if dep.get("bundled").and_then(Value::as_bool) == Some(true) {
            continue;
        }
        out.push(RawEntry {
            name: name.clone(),
            resolved: legacy_resolved(version, resolved),
            integrity,
        });
        if let Some(nested) = dep.get("dependencies") {
            legacy_entries(ctx, nested, out)?;
        }
    }
    Ok(())
}

/// A version-1 entry's URL: its `version` when that is a URL (rewriting `npm:` aliases to their
/// `resolved` and host shorthands to git URLs), else its `resolved` if that is a URL.
fn legacy_resolved(version: &str, resolved: Option<&str>) -> Option<Url> {
    let resolved_url = resolved.and_then(|r| Url::parse(r).ok());
    let Ok(version_url) = Url::parse(version) else {
        return resolved_url;
    };
    if version_url.scheme() == "npm" {
        return Some(resolved_url.unwrap_or(version_url));
    }
    for (scheme, host) in [
        ("github", "github.com"),
        ("bitbucket", "bitbucket.org"),
        ("gitlab", "gitlab.com"),
    ] {
        if version_url.scheme() == scheme {
            let path = version_url.path();
            let path = if path.ends_with(".git") {
                path.to_string()
            } else {
                format!("{path}.git")
            };
            let fragment = version_url
                .fragment()
                .map(|f| format!("#{f}"))
                .unwrap_or_default();
            return Url::parse(&format!("git+ssh://git@{host}/{path}{fragment}")).ok();
        }
    }
    Some(version_url)
}

/// The hashes of an entry's `integrity`, each checked as the fetcher checks them.
fn integrity_of(ctx: &Ctx, name: &str, entry: &Map<String, Value>) -> Result<Vec<Sri>, NpmError> {
    let text = match entry.get("integrity") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::String(s)) => s,
        Some(other) => {
            return Err(ctx.invalid(
                name,
                format!("`{name}`: `integrity` is {other}, not a string"),
            ));
        }
    };
    text.split_ascii_whitespace()
        .map(|token| parse_sri(token).map_err(|why| ctx.invalid(name, format!("`{name}`: {why}"))))
        .collect()
}

/// Applies the fetcher's choices: git and `file:` URLs, required integrity, one entry per URL.
fn select(ctx: &Ctx, raw: Vec<RawEntry>) -> Result<(Vec<LockedTarball>, Vec<String>), NpmError> {
    let mut by_url: BTreeMap<String, LockedTarball> = BTreeMap::new();
    let mut skipped_local = Vec::new();
    for entry in raw {
        let Some(url) = entry.resolved else {
            return Err(ctx.invalid(
                &entry.name,
                format!(
                    "dependency `{}` has no `resolved` URL; prefetch-npm-deps stops on it. \
                     Regenerate the lockfile (`npm install --package-lock-only`)",
                    entry.name
                ),
            ));
        };
        if ["git", "git+ssh", "git+https", "ssh"].contains(&url.scheme()) {
            return Err(NpmError::GitDependency {
                path: ctx.path.to_path_buf(),
                line: line_of(ctx.text, &entry.name),
                name: entry.name,
                url: url.to_string(),
            });
        }
        let best = best(&entry.integrity).map_err(|why| ctx.invalid(&entry.name, why))?;
        let Some(best) = best.cloned() else {
            return Err(NpmError::NoIntegrity {
                path: ctx.path.to_path_buf(),
                line: line_of(ctx.text, &entry.name),
                name: entry.name,
            });
        };
        if url.scheme() == "file" {
            skipped_local.push(entry.name);
            continue;
        }
        let candidate = LockedTarball {
            line: line_of(ctx.text, &entry.name),
            name: entry.name,
            url,
            integrity: best,
            all_hashes: entry.integrity,
        };
        merge(ctx, &mut by_url, candidate)?;
    }
    Ok((by_url.into_values().collect(), skipped_local))
}

/// Keeps one entry per URL: the one with the stronger hash; equal strength must be equal hashes.
fn merge(
    ctx: &Ctx,
    by_url: &mut BTreeMap<String, LockedTarball>,
    candidate: LockedTarball,
) -> Result<(), NpmError> {
    let Some(kept) = by_url.get_mut(candidate.url.as_str()) else {
        by_url.insert(candidate.url.to_string(), candidate);
        return Ok(());
    };
    if candidate.integrity.algo > kept.integrity.algo {
        *kept = candidate;
    } else if candidate.integrity.text == kept.integrity.text {
        // The same tarball listed twice: name it by its shallowest entry in messages.
        if candidate.name.len() < kept.name.len() {
            kept.name = candidate.name;
            kept.line = candidate.line;
        }
    } else if candidate.integrity.algo == kept.integrity.algo
        && candidate.integrity.text != kept.integrity.text
    {
        return Err(ctx.invalid(
            &candidate.name,
            format!(
                "`{}` and `{}` resolve to {} with different integrity ({} and {}); \
                 prefetch-npm-deps would keep either",
                kept.name,
                candidate.name,
                candidate.url,
                kept.integrity.text,
                candidate.integrity.text
            ),
        ));
    }
    Ok(())
}

/// The 1-based line where `"key":` first appears (the lockfile's own formatting), or 1.
fn line_of(text: &str, key: &str) -> usize {
    let needle = format!("\"{key}\"");
    let mut from = 0;
    while let Some(pos) = text[from..].find(&needle) {
        let at = from + pos;
        let rest = text[at + needle.len()..].trim_start();
        if rest.starts_with(':') {
            return text[..at].bytes().filter(|&b| b == b'\n').count() + 1;
        }
        from = at + needle.len();
    }
    1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nix::npm_integrity::Algo;
    use base64::Engine as _;

    fn sri512(byte: u8) -> String {
        format!(
            "sha512-{}",
            base64::engine::general_purpose::STANDARD.encode([byte; 64])
        )
    }

    fn parse_text(text: &str) -> Result<NpmLockfile, NpmError> {
        parse(Path::new("package-lock.json"), text.to_string(), false)
    }

    #[test]
    fn v3_keeps_absolute_urls_and_skips_links_root_and_file_urls() {
        let text = format!(
            r#"{{"lockfileVersion": 3, "packages": {{
  "": {{"name": "app"}},
  "node_modules/a": {{"resolved": "https://registry.npmjs.org/a/-/a-1.0.0.tgz", "integrity": "{a}"}},
  "packages/w": {{"name": "w"}},
  "node_modules/w": {{"resolved": "packages/w", "link": true}},
  "node_modules/l": {{"resolved": "file:l-1.0.0.tgz", "integrity": "{a}"}}
}}}}"#,
            a = sri512(1)
        );
        let lock = parse_text(&text).unwrap();
        assert_eq!(lock.tarballs.len(), 1);
        assert_eq!(lock.tarballs[0].name, "node_modules/a");
        assert_eq!(lock.tarballs[0].line, 3);
        assert_eq!(lock.skipped_local, ["node_modules/l"]);
    }

    #[test]
    fn strongest_hash_wins_within_an_entry_and_across_duplicates() {
        let sha1 = format!(
            "sha1-{}",
            base64::engine::general_purpose::STANDARD.encode([7u8; 20])
        );
        let text = format!(
            r#"{{"lockfileVersion": 1, "dependencies": {{
  "x": {{"version": "1.0.0", "resolved": "https://r/x.tgz", "integrity": "{sha1}"}},
  "y": {{"version": "1.0.0", "resolved": "https://r/x.tgz", "integrity": "{sha1} {b}",
         "dependencies": {{"z": {{"version": "2.0.0", "resolved": "https://r/z.tgz", "integrity": "{sha1}"}}}}}},
  "bundled": {{"version": "1.0.0", "bundled": true}}
}}}}"#,
            b = sri512(2)
        );
        let lock = parse_text(&text).unwrap();
        let names: Vec<_> = lock.tarballs.iter().map(|t| t.url.as_str()).collect();
        assert_eq!(names, ["https://r/x.tgz", "https://r/z.tgz"]);
        assert_eq!(lock.tarballs[0].integrity.algo, Algo::Sha512);
        assert_eq!(lock.tarballs[1].integrity.algo, Algo::Sha1);
    }

    #[test]
    fn v1_shorthands_and_aliases_follow_the_fetcher() {
        assert_eq!(
            legacy_resolved("github:mapbox/node-sqlite3#593c9d4", None)
                .unwrap()
                .as_str(),
            "git+ssh://git@github.com/mapbox/node-sqlite3.git#593c9d4"
        );
        assert_eq!(
            legacy_resolved(
                "npm:string-width@4.2.3",
                Some("https://registry.npmjs.org/string-width/-/string-width-4.2.3.tgz")
            )
            .unwrap()
            .as_str(),
            "https://registry.npmjs.org/string-width/-/string-width-4.2.3.tgz"
        );
        assert!(legacy_resolved("1.2.3", Some("../relative")).is_none());
    }

    #[test]
    fn refusals_name_the_entry() {
        let git = r#"{"lockfileVersion": 2, "packages": {
  "node_modules/g": {"resolved": "git+ssh://git@github.com/o/r.git#abc"}}}"#;
        assert!(matches!(
            parse_text(git),
            Err(NpmError::GitDependency { line: 2, .. })
        ));
        let none = r#"{"lockfileVersion": 2, "packages": {
  "node_modules/n": {"resolved": "https://r/n.tgz"}}}"#;
        assert!(matches!(
            parse_text(none),
            Err(NpmError::NoIntegrity { line: 2, .. })
        ));
        let algo = r#"{"lockfileVersion": 3, "packages": {"": {"integrity": "md5-AAAA"}}}"#;
        let err = parse_text(algo).unwrap_err().to_string();
        assert!(err.contains("unknown hash algorithm \"md5\""), "{err}");
        assert!(matches!(
            parse_text(r#"{"lockfileVersion": 3, "packages": {}}"#),
            Err(NpmError::EmptyCache { .. })
        ));
        let bad = parse_text("{\n  \"lockfileVersion\": 3,\n  oops\n}").unwrap_err();
        assert!(matches!(bad, NpmError::Json { line: 3, .. }), "{bad}");
        assert!(parse_text(r#"{"lockfileVersion": 4}"#).is_err());
    }

    #[test]
    fn conflicting_hashes_for_one_url_are_refused() {
        let text = format!(
            r#"{{"lockfileVersion": 1, "dependencies": {{
  "a": {{"version": "1.0.0", "resolved": "https://r/a.tgz", "integrity": "{x}"}},
  "b": {{"version": "1.0.0", "resolved": "https://r/a.tgz", "integrity": "{y}"}}}}}}"#,
            x = sri512(1),
            y = sri512(2)
        );
        let err = parse_text(&text).unwrap_err().to_string();
        assert!(err.contains("different integrity"), "{err}");
    }
}
