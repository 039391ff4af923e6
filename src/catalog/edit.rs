//! Format-preserving edits of `package.toml` (toml_edit), written atomically, refusing to
//! overwrite a file that changed on disk since it was read.
//!
//! The first user is the hash-mismatch fix: nix says `specified: X got: Y`, and the `got:` hash
//! goes into `source.hash` or `build.deps_hash` of every package sharing that derivation.

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use toml_edit::{DocumentMut, Item, Value};

use super::validate::rules::{FAKE_HASH, sha256_digest, sri_sha256};
use crate::nix::failure_summary::{FailureSummary, HashMismatchInfo};
use crate::nix::state::drv_name;

#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("reading {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("writing {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not valid TOML ({source}); fix it by hand first")]
    Parse {
        path: PathBuf,
        source: toml_edit::TomlError,
    },
    #[error(
        "{path} changed on disk since atwb read it; not overwriting the other change. Reload and retry"
    )]
    ChangedOnDisk { path: PathBuf },
    /// `field` is the dotted field the problem is about, empty when it concerns the whole file.
    #[error("{path}: {}{message}", field_label(.field))]
    Field {
        path: PathBuf,
        field: String,
        message: String,
    },
}

fn field_label(field: &str) -> String {
    if field.is_empty() {
        String::new()
    } else {
        format!("field `{field}`: ")
    }
}

/// One `package.toml` as read, with the fingerprint of the bytes it was read from.
#[derive(Debug, Clone)]
pub struct PackageFile {
    pub path: PathBuf,
    doc: DocumentMut,
    read_digest: [u8; 32],
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

impl PackageFile {
    pub fn read(path: &Path) -> Result<Self, EditError> {
        let bytes = std::fs::read(path).map_err(|source| EditError::Read {
            path: path.into(),
            source,
        })?;
        // Decoding lossily would write replacement characters back: refuse instead.
        let text = std::str::from_utf8(&bytes).map_err(|e| EditError::Field {
            path: path.into(),
            field: String::new(),
            message: format!("is not valid UTF-8 ({e}); fix the file's encoding by hand first"),
        })?;
        let doc = text
            .parse::<DocumentMut>()
            .map_err(|source| EditError::Parse {
                path: path.into(),
                source,
            })?;
        Ok(PackageFile {
            path: path.into(),
            doc,
            read_digest: digest(&bytes),
        })
    }

    fn item(&self, field: &str) -> Option<&Item> {
        let mut item = self.doc.as_item();
        for key in field.split('.') {
            item = item.get(key)?;
        }
        Some(item)
    }

    /// A string field by dotted path (`source.hash`, `build.workspace`).
    pub fn get_str(&self, field: &str) -> Option<&str> {
        self.item(field)?.as_str()
    }

    /// Set an existing value or create it in an existing table, keeping the key's comments and
    /// the value's trailing comment.
    pub fn set(&mut self, field: &str, value: impl Into<Value>) -> Result<(), EditError> {
        let (table_path, key) = field.rsplit_once('.').unwrap_or(("", field));
        let mut table = self.doc.as_table_mut() as &mut dyn toml_edit::TableLike;
        if !table_path.is_empty() {
            for part in table_path.split('.') {
                table = table
                    .get_mut(part)
                    .and_then(Item::as_table_like_mut)
                    .ok_or_else(|| EditError::Field {
                        path: self.path.clone(),
                        field: field.into(),
                        message: format!("there is no [{table_path}] table to put it in"),
                    })?;
            }
        }
        let mut new: Value = value.into();
        match table.get_mut(key) {
            Some(Item::Value(old)) => {
                *new.decor_mut() = old.decor().clone();
                *old = new;
            }
            Some(_) => {
                return Err(EditError::Field {
                    path: self.path.clone(),
                    field: field.into(),
                    message: "is a table, expected a value".into(),
                });
            }
            None => {
                table.insert(key, Item::Value(new));
            }
        }
        Ok(())
    }

    /// The edited text.
    pub fn render(&self) -> String {
        self.doc.to_string()
    }

    /// Fail when the file on disk is no longer what was read.
    pub fn check_unchanged(&self) -> Result<(), EditError> {
        let now = std::fs::read(&self.path).map_err(|source| EditError::Read {
            path: self.path.clone(),
            source,
        })?;
        if digest(&now) != self.read_digest {
            return Err(EditError::ChangedOnDisk {
                path: self.path.clone(),
            });
        }
        Ok(())
    }

    /// Write atomically (temp file in the same directory, fsync, rename), refusing if the file
    /// changed since it was read. The new text must still parse as TOML.
    pub fn save(&mut self) -> Result<(), EditError> {
        let text = self.render();
        toml::from_str::<toml::Table>(&text).map_err(|e| EditError::Field {
            path: self.path.clone(),
            field: String::new(),
            message: format!("the edit would produce invalid TOML ({e}); nothing written"),
        })?;
        self.check_unchanged()?;
        write_atomic(&self.path, text.as_bytes())?;
        self.read_digest = digest(text.as_bytes());
        Ok(())
    }
}

/// Temp file + rename in the same directory, keeping the original's permissions.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), EditError> {
    let werr = |source| EditError::Write {
        path: path.into(),
        source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.atwb-{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        if let Ok(meta) = std::fs::metadata(path) {
            f.set_permissions(meta.permissions())?;
        }
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(werr)
}

/// Which field a mismatch is fixed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum HashField {
    #[serde(rename = "source.hash")]
    SourceHash,
    #[serde(rename = "build.deps_hash")]
    DepsHash,
}

impl HashField {
    pub fn as_str(self) -> &'static str {
        match self {
            HashField::SourceHash => "source.hash",
            HashField::DepsHash => "build.deps_hash",
        }
    }
}

/// What a fix changed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FixReport {
    pub field: HashField,
    pub old: String,
    pub new: String,
    /// Every `package.toml` written (the package and its workspace siblings).
    pub files: Vec<PathBuf>,
}

/// Source fetchers name their output `source` (fetchFromGitHub, fetchgit) or `<x>-source`.
fn is_source_drv(drv_path: &str) -> bool {
    let n = drv_name(drv_path);
    n == "source" || n.ends_with("-source")
}

/// Whether the field holds the hash nix checked against. Compared as digests: nix prints
/// `specified:` in canonical SRI even when the file holds base32, hex or non-canonical base64.
fn field_matches(current: Option<&str>, specified: &str, field: HashField) -> bool {
    match current {
        Some("unknown") => field == HashField::DepsHash && same_digest(FAKE_HASH, specified),
        Some(c) => c == specified || same_digest(c, specified),
        None => false,
    }
}

fn same_digest(a: &str, b: &str) -> bool {
    matches!((sha256_digest(a), sha256_digest(b)), (Some(x), Some(y)) if x == y)
}

/// The `package.toml` of every package in the catalog (`pkgs/<org>/<name>/package.toml`).
pub fn package_files(catalog_root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(orgs) = std::fs::read_dir(catalog_root.join("pkgs")) else {
        return out;
    };
    for org in orgs.flatten() {
        let Ok(pkgs) = std::fs::read_dir(org.path()) else {
            continue;
        };
        for p in pkgs.flatten() {
            let f = p.path().join("package.toml");
            if f.is_file() {
                out.push(f);
            }
        }
    }
    out.sort();
    out
}

/// The `package.toml` of the package named `package` (`pkgs/<org>/<package>/package.toml`).
/// Looks in each org folder (sorted, so a name duplicated across orgs resolves the same way each
/// time) without listing every package: the status store asks this for each package it shows.
pub fn find_package_file(catalog_root: &Path, package: &str) -> Option<PathBuf> {
    let mut orgs: Vec<PathBuf> = std::fs::read_dir(catalog_root.join("pkgs"))
        .ok()?
        .flatten()
        .map(|org| org.path())
        .collect();
    orgs.sort();
    orgs.into_iter()
        .map(|org| org.join(package).join("package.toml"))
        .find(|f| f.is_file())
}

/// Write nix's `got:` hash into the right field of `package`'s `package.toml`, and of every
/// package sharing that derivation (same `build.workspace`; for a source, same `rev` and hash).
///
/// Refuses, writing nothing, when the field no longer holds the `specified:` value (the file
/// changed since that build) or when any file changed between reading and writing.
pub fn apply_hash_fix(
    catalog_root: &Path,
    package: &str,
    m: &HashMismatchInfo,
) -> Result<FixReport, EditError> {
    let main_path = find_package_file(catalog_root, package).ok_or_else(|| EditError::Field {
        path: catalog_root.join("pkgs"),
        field: "name".into(),
        message: format!("no package `{package}` (looked for pkgs/*/{package}/package.toml)"),
    })?;
    if sri_sha256(&m.got).is_err() {
        return Err(EditError::Field {
            path: main_path,
            field: String::new(),
            message: format!(
                "nix's `got:` value {:?} is not an SRI sha256 hash; nothing written",
                m.got
            ),
        });
    }
    let main = PackageFile::read(&main_path)?;
    let preferred = if is_source_drv(&m.drv_path) {
        HashField::SourceHash
    } else {
        HashField::DepsHash
    };
    let other = match preferred {
        HashField::SourceHash => HashField::DepsHash,
        HashField::DepsHash => HashField::SourceHash,
    };
    // The name says which field; the `specified:` value must confirm it, so a stale failure can
    // never overwrite a hash someone already changed.
    let field = [preferred, other]
        .into_iter()
        .find(|f| field_matches(main.get_str(f.as_str()), &m.specified, *f))
        .ok_or_else(|| EditError::Field {
            path: main_path.clone(),
            field: preferred.as_str().into(),
            message: format!(
                "holds {:?}, but nix checked against {}; the file changed since that build. Rebuild first",
                main.get_str(preferred.as_str()).unwrap_or("(missing)"),
                m.specified
            ),
        })?;
    let old = main.get_str(field.as_str()).unwrap_or_default().to_string();

    let workspace = main.get_str("build.workspace").map(str::to_string);
    let rev = main.get_str("source.rev").map(str::to_string);
    let mut files = vec![main];
    for path in package_files(catalog_root) {
        if path == main_path {
            continue;
        }
        let f = PackageFile::read(&path)?;
        let same_ws = workspace.is_some() && f.get_str("build.workspace") == workspace.as_deref();
        let same_src = field == HashField::SourceHash
            && rev.is_some()
            && f.get_str("source.rev") == rev.as_deref();
        if (same_ws || same_src) && field_matches(f.get_str(field.as_str()), &m.specified, field) {
            files.push(f);
        }
    }

    let today = crate::time::today_utc();
    for f in &mut files {
        f.set(field.as_str(), m.got.as_str())?;
        if field == HashField::SourceHash {
            // nix fetched the real upstream tree and hashed it: a fact computed here.
            f.set("source.verified", true)?;
            f.set(
                "source.provenance",
                format!(
                    "got: from nix build fixed-output check ({}), {today}",
                    drv_name(&m.drv_path)
                ),
            )?;
        }
    }
    // Check every file before writing any, so a concurrent edit leaves all of them untouched.
    for f in &files {
        f.check_unchanged()?;
    }
    for f in &mut files {
        f.save()?;
    }
    Ok(FixReport {
        field,
        old,
        new: m.got.clone(),
        files: files.into_iter().map(|f| f.path).collect(),
    })
}

/// The one-key fix: apply a job's hash-mismatch failure to the catalog.
pub fn fix_hash_mismatch(
    catalog_root: &Path,
    package: &str,
    failure: &crate::nix::classify::Failure,
) -> Result<FixReport, EditError> {
    fix_from_summary(catalog_root, package, &FailureSummary::from(failure))
}

/// The same fix from a failure read back from the status store (after a restart).
pub fn fix_from_summary(
    catalog_root: &Path,
    package: &str,
    failure: &FailureSummary,
) -> Result<FixReport, EditError> {
    let m = failure
        .hash_mismatch
        .as_ref()
        .ok_or_else(|| EditError::Field {
            path: catalog_root.into(),
            field: String::new(),
            message: format!(
                "the last failure of {package} is `{}`, not a hash mismatch; nothing to fix",
                failure.class
            ),
        })?;
    apply_hash_fix(catalog_root, package, m)
}

#[cfg(test)]
mod tests {

    #[test]
    fn refuses_a_file_that_is_not_utf8_instead_of_mangling_it() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("package.toml");
        std::fs::write(&p, b"name = \"x\xff\"\n").unwrap();
        let Err(err) = PackageFile::read(&p) else {
            panic!("a non-UTF-8 file must be refused");
        };
        let err = err.to_string();
        assert!(err.contains("not valid UTF-8"), "{err}");
    }

    use super::*;

    const GOT: &str = "sha256-WJG1tSLV3whtD/CxEPvZ0hu0/HFjrzTQgoai6Eb2vgM=";
    const OLD: &str = "sha256-etApf/SFz6qsbrmGmqSTL+nReMfyCpedqFNBEhkhilU=";

    fn pkg(root: &Path, org: &str, name: &str, ws: Option<&str>, deps: &str) -> PathBuf {
        let dir = root.join("pkgs").join(org).join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let ws = ws
            .map(|w| format!("workspace = \"{w}\"  # shared\n"))
            .unwrap_or_default();
        let text = format!(
            "name = \"{name}\" # the name\n\n[source]\nhost = \"github\"\nrev = \"{}\"\nhash = \"{OLD}\"\nverified = false\nprovenance = \"copied\"\n\n[build]\n# the deps\ndeps_hash = \"{deps}\"   # keep me\n{ws}",
            "a".repeat(40)
        );
        std::fs::write(dir.join("package.toml"), text).unwrap();
        dir.join("package.toml")
    }

    fn mismatch(name: &str, specified: &str) -> HashMismatchInfo {
        HashMismatchInfo {
            drv_path: format!("/nix/store/{}-{name}.drv", "z".repeat(32)),
            specified: specified.into(),
            got: GOT.into(),
        }
    }

    #[test]
    fn deps_hash_fix_changes_only_that_value_in_the_whole_workspace() {
        let t = tempfile::tempdir().unwrap();
        let a = pkg(t.path(), "o", "a", Some("ws"), "unknown");
        let b = pkg(t.path(), "o", "b", Some("ws"), "unknown");
        let c = pkg(t.path(), "o", "c", None, "unknown");
        let before = std::fs::read_to_string(&a).unwrap();
        let r = apply_hash_fix(t.path(), "a", &mismatch("a-0.1-vendor", FAKE_HASH)).unwrap();
        assert_eq!(r.field, HashField::DepsHash);
        assert_eq!(r.files, vec![a.clone(), b.clone()]);
        let after = std::fs::read_to_string(&a).unwrap();
        assert_eq!(
            after,
            before.replace("deps_hash = \"unknown\"", &format!("deps_hash = \"{GOT}\""))
        );
        assert!(after.contains("# keep me") && after.contains("# the deps"));
        assert!(std::fs::read_to_string(&b).unwrap().contains(GOT));
        assert!(!std::fs::read_to_string(&c).unwrap().contains(GOT));
    }

    #[test]
    fn source_fix_sets_hash_and_provenance() {
        let t = tempfile::tempdir().unwrap();
        let a = pkg(t.path(), "o", "a", None, "unknown");
        let r = apply_hash_fix(t.path(), "a", &mismatch("source", OLD)).unwrap();
        assert_eq!(r.field, HashField::SourceHash);
        let after = std::fs::read_to_string(&a).unwrap();
        assert!(after.contains(&format!("hash = \"{GOT}\"")));
        assert!(after.contains("verified = true") && after.contains("got: from nix build"));
        assert!(after.contains("deps_hash = \"unknown\""));
    }

    #[test]
    fn refuses_when_field_no_longer_holds_specified() {
        let t = tempfile::tempdir().unwrap();
        let a = pkg(
            t.path(),
            "o",
            "a",
            None,
            "sha256-BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB=",
        );
        let before = std::fs::read_to_string(&a).unwrap();
        let e = apply_hash_fix(t.path(), "a", &mismatch("a-vendor", FAKE_HASH)).unwrap_err();
        assert!(e.to_string().contains("changed since that build"), "{e}");
        assert_eq!(std::fs::read_to_string(&a).unwrap(), before);
    }

    #[test]
    fn save_refuses_after_outside_change() {
        let t = tempfile::tempdir().unwrap();
        let a = pkg(t.path(), "o", "a", None, "unknown");
        let mut f = PackageFile::read(&a).unwrap();
        f.set("build.deps_hash", GOT).unwrap();
        std::fs::write(&a, "name = \"a\"\n# edited elsewhere\n").unwrap();
        assert!(matches!(f.save(), Err(EditError::ChangedOnDisk { .. })));
        assert!(
            std::fs::read_to_string(&a)
                .unwrap()
                .contains("edited elsewhere")
        );
    }

    #[test]
    fn bad_got_value_is_rejected() {
        let t = tempfile::tempdir().unwrap();
        pkg(t.path(), "o", "a", None, "unknown");
        let mut m = mismatch("a-vendor", FAKE_HASH);
        m.got = "sha256-short".into();
        assert!(apply_hash_fix(t.path(), "a", &m).is_err());
    }

    #[test]
    fn digests_compare_across_encodings() {
        // The same hash as SRI, nix base32 and hex (values from `nix hash to-base32/to-base16`).
        let sri = "sha256-etApf/SFz6qsbrmGmqSTL+nReMfyCpedqFNBEhkhilU=";
        let hex = "7ad0297ff485cfaaac6eb9869aa4932fe9d178c7f20a979da853411219218a55";
        let nix32 = "0mca44ci4hakm2frf2pjqxwd3s9gjfj9m1mrdsnamkw5yizjkl3s";
        assert_eq!(sha256_digest(sri).map(|d| d[0]), Some(0x7a));
        assert!(same_digest(sri, hex) && same_digest(sri, nix32));
        assert!(same_digest(FAKE_HASH, &"0".repeat(52)));
        assert!(same_digest(
            "sha256-BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB=",
            "sha256-BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA="
        ));
        assert!(!same_digest(sri, FAKE_HASH));
    }

    #[test]
    fn drv_names() {
        assert_eq!(
            drv_name(&format!("/nix/store/{}-source.drv", "a".repeat(32))),
            "source"
        );
        assert_eq!(
            drv_name(&format!("/nix/store/{}-foo-1.0-vendor.drv", "a".repeat(32))),
            "foo-1.0-vendor"
        );
    }
}
