//! Format-preserving edits of `package.toml` (toml_edit), written atomically (several files as
//! one transaction, `atomic.rs`), refusing to overwrite a file that changed on disk since it
//! was read.
//!
//! The first user is the hash-mismatch fix: nix says `specified: X got: Y`, and the `got:` hash
//! goes into `source.hash` or `build.deps_hash` of every package sharing that derivation.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use toml_edit::{DocumentMut, Item, Value};

mod atomic;

pub use atomic::{
    STALE_AFTER, Transaction, clean_stale_temp_files, write_atomic, write_atomic_dir_unsynced,
};

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
    /// A multi-file edit failed while replacing `path`; the files replaced before it were put
    /// back (`restored`), so the catalog is as it was.
    #[error("writing {path}: {source}; {}", rolled_back_label(*.restored))]
    RolledBack {
        path: PathBuf,
        source: std::io::Error,
        restored: bool,
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

fn rolled_back_label(restored: bool) -> &'static str {
    if restored {
        "the files written before it were restored: nothing changed"
    } else {
        "restoring the files written before it failed too: their originals are kept beside them \
         as .<name>.atwb-<pid>.orig (see atwb.log)"
    }
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

    /// A boolean field by dotted path (`source.verified`).
    pub fn get_bool(&self, field: &str) -> Option<bool> {
        self.item(field)?.as_bool()
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

    /// The edited text, refused when it would no longer parse as TOML.
    fn checked_text(&self) -> Result<String, EditError> {
        let text = self.render();
        toml::from_str::<toml::Table>(&text).map_err(|e| EditError::Field {
            path: self.path.clone(),
            field: String::new(),
            message: format!("the edit would produce invalid TOML ({e}); nothing written"),
        })?;
        Ok(text)
    }

    /// Write atomically (temp file in the same directory, fsync, rename), refusing if the file
    /// changed since it was read. The new text must still parse as TOML.
    pub fn save(&mut self) -> Result<(), EditError> {
        let text = self.checked_text()?;
        self.check_unchanged()?;
        write_atomic(&self.path, text.as_bytes())?;
        self.read_digest = digest(text.as_bytes());
        Ok(())
    }
}

/// Save several edited files as one [`Transaction`]: every file is written or none is, and
/// none is written if any changed on disk since it was read.
pub fn save_all(files: &mut [PackageFile]) -> Result<(), EditError> {
    save_all_with(files, &mut |from, to| std::fs::rename(from, to))
}

fn save_all_with(
    files: &mut [PackageFile],
    install: &mut dyn FnMut(&Path, &Path) -> std::io::Result<()>,
) -> Result<(), EditError> {
    let mut tx = Transaction::new();
    let mut texts = Vec::with_capacity(files.len());
    for f in files.iter() {
        if let Some(dir) = f.path.parent() {
            clean_stale_temp_files(dir);
        }
        let text = f.checked_text()?;
        tx.replace(&f.path, text.clone().into_bytes(), f.read_digest);
        texts.push(text);
    }
    tx.commit_with(install)?;
    for (f, text) in files.iter_mut().zip(texts) {
        f.read_digest = digest(text.as_bytes());
    }
    Ok(())
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
/// changed since that build) or when any file changed between reading and writing; the files
/// are written as one transaction, so a failure part-way leaves every one as it was.
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

    for f in &mut files {
        set_fix(f, field, m)?;
    }
    save_all(&mut files)?;
    Ok(FixReport {
        field,
        old,
        new: m.got.clone(),
        files: files.into_iter().map(|f| f.path).collect(),
    })
}

/// Put `m.got` into `field`; for a source, also whether it is verified and where it came from.
fn set_fix(f: &mut PackageFile, field: HashField, m: &HashMismatchInfo) -> Result<(), EditError> {
    f.set(field.as_str(), m.got.as_str())?;
    if field != HashField::SourceHash {
        return Ok(());
    }
    let today = crate::time::today_utc();
    let drv = drv_name(&m.drv_path);
    if m.confirmed {
        // nix fetched the real upstream tree and hashed it: a fact computed here.
        f.set("source.verified", true)?;
        f.set(
            "source.provenance",
            format!("got: from nix build fixed-output check ({drv}), {today}"),
        )?;
    } else {
        // The message did not come from nix itself (a builder, or a plain-format log, can print
        // any `got:`): recorded, but not as verified.
        f.set("source.verified", false)?;
        f.set(
            "source.provenance",
            format!(
                "from nix build log, unconfirmed: got: of {drv}, {today}; not reported by nix itself, recompute before trusting it"
            ),
        )?;
    }
    Ok(())
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
mod tests;
