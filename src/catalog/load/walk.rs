//! Finding `pkgs/<org>/<name>/` folders and checking their files on all cores.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use super::LoadError;
use super::files::{self, CatalogRoot};
use crate::catalog::diagnostic::Diagnostic;
use crate::catalog::invalid::lenient_placement;
use crate::catalog::model::{Category, ExtraFiles, Tier};
use crate::catalog::position::line_column;
use crate::catalog::validate::{self, Checked, PackageFile};

/// One `pkgs/<org>/<name>/` folder.
pub struct PackageDir {
    pub org: String,
    pub folder: String,
    pub dir: PathBuf,
}

impl PackageDir {
    pub fn file(&self) -> PathBuf {
        self.dir.join("package.toml")
    }
}

/// A checked package together with where it came from.
pub struct CheckedDir {
    pub file: PathBuf,
    pub folder: String,
    pub org: String,
    pub dir: PathBuf,
    /// Where the package belongs in the tree: from the package, or read leniently from a file
    /// that did not validate (so an invalid package still shows under its tier).
    pub tier: Option<Tier>,
    pub category: Option<Category>,
    pub checked: Checked,
}

/// Every package folder under `pkgs/`, plus diagnostics for files at the wrong depth and links
/// out of the catalog. Hidden entries (`.git`, editor files) are skipped.
pub fn package_dirs(
    root: &CatalogRoot,
    pkgs: &Path,
) -> Result<(Vec<PackageDir>, Vec<Diagnostic>), LoadError> {
    let mut dirs = Vec::new();
    let mut diagnostics = Vec::new();
    for org in visible_entries(root, pkgs, &mut diagnostics)? {
        if !org.is_dir {
            misplaced(
                &mut diagnostics,
                &org.path,
                "pkgs/<org>/<name>/package.toml",
            );
            continue;
        }
        for pkg in visible_entries(root, &org.path, &mut diagnostics)? {
            if pkg.is_dir {
                dirs.push(PackageDir {
                    org: org.name.clone(),
                    folder: pkg.name,
                    dir: pkg.path,
                });
            } else {
                misplaced(
                    &mut diagnostics,
                    &pkg.path,
                    &format!("pkgs/{}/<name>/package.toml", org.name),
                );
            }
        }
    }
    Ok((dirs, diagnostics))
}

struct Entry {
    name: String,
    path: PathBuf,
    is_dir: bool,
}

/// The entries of `dir` not starting with a dot; a link out of the catalog is left out and
/// reported.
fn visible_entries(
    root: &CatalogRoot,
    dir: &Path,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<Vec<Entry>, LoadError> {
    let io = |source| LoadError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        // The directory entry's own type costs no system call; only links need resolving (a
        // link to a folder inside the catalog is still a folder).
        let file_type = entry.file_type().map_err(io)?;
        let is_dir = if file_type.is_symlink() {
            match files::is_folder(root, &entry.path()) {
                Ok(is_dir) => is_dir,
                Err(refusal) => {
                    diagnostics.push(refusal.diagnostic(&entry.path(), "folder"));
                    continue;
                }
            }
        } else {
            file_type.is_dir()
        };
        out.push(Entry {
            name,
            path: entry.path(),
            is_dir,
        });
    }
    Ok(out)
}

/// A `package.toml` outside `pkgs/<org>/<name>/` is an error; other stray files are left alone.
fn misplaced(diagnostics: &mut Vec<Diagnostic>, path: &Path, expected: &str) {
    if path.file_name().is_some_and(|n| n == "package.toml") {
        diagnostics.push(Diagnostic::new(
            path.to_path_buf(),
            (0, 0),
            "file",
            "package.toml is not in a package folder, so it is not read",
            format!("move it to {expected}"),
        ));
    }
}

/// Check every package folder, spreading the work over the available cores. Files are small and
/// independent, so a shared counter handing out chunks keeps both cores busy without a pool.
pub fn check_all(root: &CatalogRoot, dirs: &[PackageDir]) -> Vec<CheckedDir> {
    const CHUNK: usize = 32;
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let threads = cores.min(dirs.len().div_ceil(CHUNK)).max(1);
    if threads == 1 {
        return dirs.iter().map(|d| check_dir(root, d)).collect();
    }
    let next = AtomicUsize::new(0);
    let worker = || {
        let mut out = Vec::new();
        loop {
            let start = next.fetch_add(CHUNK, Ordering::Relaxed);
            if start >= dirs.len() {
                return out;
            }
            out.extend(
                dirs[start..(start + CHUNK).min(dirs.len())]
                    .iter()
                    .map(|d| check_dir(root, d)),
            );
        }
    };
    std::thread::scope(|s| {
        let handles: Vec<_> = (1..threads).map(|_| s.spawn(worker)).collect();
        let mut all = worker();
        for h in handles {
            all.extend(h.join().expect("package checker thread panicked"));
        }
        all
    })
}

pub fn check_dir(root: &CatalogRoot, d: &PackageDir) -> CheckedDir {
    let file = d.file();
    let mut placement = (None, None);
    let checked = match read_package_dir(root, d, &file) {
        Ok((text, extra_files)) => {
            let checked = validate::check(&PackageFile {
                file: &file,
                dir: &d.dir,
                org: &d.org,
                folder: &d.folder,
                text: &text,
                extra_files,
            });
            placement = match &checked.package {
                Some(p) => (Some(p.tier), Some(p.category)),
                // Rare (only broken files): a second, lenient read for the tree.
                None => lenient_placement(&text),
            };
            checked
        }
        Err(diagnostics) => Checked {
            package: None,
            diagnostics,
            ..Default::default()
        },
    };
    CheckedDir {
        file,
        folder: d.folder.clone(),
        org: d.org.clone(),
        dir: d.dir.clone(),
        tier: placement.0,
        category: placement.1,
        checked,
    }
}

/// The text of `package.toml` and which optional Nix files sit beside it. Those are not read
/// here, but Nix reads them, so they follow the same rules (regular files, no links out).
fn read_package_dir(
    root: &CatalogRoot,
    d: &PackageDir,
    file: &Path,
) -> Result<(String, ExtraFiles), Vec<Diagnostic>> {
    let mut extra = ExtraFiles::default();
    let mut has_toml = false;
    let mut problems = Vec::new();
    let entries = std::fs::read_dir(&d.dir)
        .map_err(|e| vec![files::Refusal::Io(e).diagnostic(&d.dir, "folder")])?;
    for entry in entries.flatten() {
        let flag = match entry.file_name().to_str() {
            Some("package.toml") => &mut has_toml,
            Some("package.nix") => &mut extra.package_nix,
            Some("module.nix") => &mut extra.module_nix,
            Some("test.nix") => &mut extra.test_nix,
            _ => continue,
        };
        *flag = true;
        if entry.file_name() != "package.toml"
            && let Err(refusal) = files::check_file(root, &entry.path())
        {
            problems.push(refusal.diagnostic(&entry.path(), "file"));
        }
    }
    if !has_toml {
        problems.push(Diagnostic::new(
            d.dir.clone(),
            (0, 0),
            "folder",
            "package folder has no package.toml",
            "add a package.toml (see catalog/README.md) or remove the folder",
        ));
        return Err(problems);
    }
    let text = files::read_file(root, file)
        .map_err(|refusal| refusal.diagnostic(file, "file"))
        .and_then(|bytes| utf8(file, bytes));
    match text {
        Ok(text) if problems.is_empty() => Ok((text, extra)),
        Ok(_) => Err(problems),
        Err(d) => {
            problems.insert(0, d);
            Err(problems)
        }
    }
}

/// The file's text, or a diagnostic pointing at the first byte that is not UTF-8.
fn utf8(file: &Path, bytes: Vec<u8>) -> Result<String, Diagnostic> {
    String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let prefix = std::str::from_utf8(&e.as_bytes()[..valid]).unwrap_or_default();
        Diagnostic::new(
            file.to_path_buf(),
            line_column(prefix, valid),
            "file",
            format!("is not valid UTF-8 (byte {valid})"),
            "save the file as UTF-8",
        )
    })
}
