//! Finding `pkgs/<org>/<name>/` folders and checking their files on all cores.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use super::LoadError;
use crate::catalog::diagnostic::Diagnostic;
use crate::catalog::model::ExtraFiles;
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
    pub checked: Checked,
}

/// Every package folder under `pkgs/`, plus diagnostics for files at the wrong depth.
/// Hidden entries (`.git`, editor files) are skipped.
pub fn package_dirs(pkgs: &Path) -> Result<(Vec<PackageDir>, Vec<Diagnostic>), LoadError> {
    let mut dirs = Vec::new();
    let mut diagnostics = Vec::new();
    for org in visible_entries(pkgs)? {
        if !org.is_dir {
            misplaced(
                &mut diagnostics,
                &org.path,
                "pkgs/<org>/<name>/package.toml",
            );
            continue;
        }
        for pkg in visible_entries(&org.path)? {
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

fn visible_entries(dir: &Path) -> Result<Vec<Entry>, LoadError> {
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
        // The directory entry's own type costs no system call; only symlinks need a stat (a
        // symlinked package folder is still a package folder).
        let file_type = entry.file_type().map_err(io)?;
        let is_dir = file_type.is_dir() || (file_type.is_symlink() && entry.path().is_dir());
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
        diagnostics.push(Diagnostic {
            file: path.to_path_buf(),
            line: 0,
            column: 0,
            field: "file".into(),
            message: "package.toml is not in a package folder, so it is not read".into(),
            hint: Some(format!("move it to {expected}")),
        });
    }
}

/// Check every package folder, spreading the work over the available cores. Files are small and
/// independent, so a shared counter handing out chunks keeps both cores busy without a pool.
pub fn check_all(dirs: &[PackageDir]) -> Vec<CheckedDir> {
    const CHUNK: usize = 32;
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let threads = cores.min(dirs.len().div_ceil(CHUNK)).max(1);
    if threads == 1 {
        return dirs.iter().map(check_dir).collect();
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
                    .map(check_dir),
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

fn check_dir(d: &PackageDir) -> CheckedDir {
    let file = d.file();
    let checked = match read_package_dir(d, &file) {
        Ok((text, extra_files)) => validate::check(&PackageFile {
            file: &file,
            dir: &d.dir,
            org: &d.org,
            folder: &d.folder,
            text: &text,
            extra_files,
        }),
        Err(diagnostic) => Checked {
            package: None,
            diagnostics: vec![diagnostic],
            ..Default::default()
        },
    };
    CheckedDir {
        file,
        folder: d.folder.clone(),
        checked,
    }
}

/// The text of `package.toml` and which optional Nix files sit beside it.
fn read_package_dir(d: &PackageDir, file: &Path) -> Result<(String, ExtraFiles), Diagnostic> {
    let whole_file = |message: String, hint: &str| Diagnostic {
        file: file.to_path_buf(),
        line: 0,
        column: 0,
        field: "file".into(),
        message,
        hint: Some(hint.into()),
    };
    let mut extra = ExtraFiles::default();
    let mut has_toml = false;
    let entries = std::fs::read_dir(&d.dir)
        .map_err(|e| whole_file(format!("cannot read the folder: {e}"), "check permissions"))?;
    for entry in entries.flatten() {
        match entry.file_name().to_str() {
            Some("package.toml") => has_toml = true,
            Some("package.nix") => extra.package_nix = true,
            Some("module.nix") => extra.module_nix = true,
            Some("test.nix") => extra.test_nix = true,
            _ => {}
        }
    }
    if !has_toml {
        return Err(whole_file(
            "package folder has no package.toml".into(),
            "add a package.toml (see catalog/README.md) or remove the folder",
        ));
    }
    let bytes = std::fs::read(file)
        .map_err(|e| whole_file(format!("cannot read: {e}"), "check permissions"))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        whole_file(
            format!("is not valid UTF-8 (byte {})", e.utf8_error().valid_up_to()),
            "save the file as UTF-8",
        )
    })?;
    Ok((text, extra))
}
