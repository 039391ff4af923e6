//! Writing the proposal: names, service names and default ports checked against the catalog
//! (a clashing port moves to the next free one, and the long description says so), each file
//! rendered and validated before anything is written, then every file created without ever
//! replacing one (a hard link from a synced temp file fails if the target exists), all or none.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::ScaffoldError;
use super::proposal::Proposal;
use super::render::render;
use crate::catalog::model::ExtraFiles;
use crate::catalog::validate::{PackageFile, check};

/// What was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub name: String,
    pub path: PathBuf,
}

/// Where a part's file goes: `<catalog>/pkgs/<org>/<name>/package.toml`.
pub fn package_path(catalog_root: &Path, org: &str, name: &str) -> PathBuf {
    catalog_root
        .join("pkgs")
        .join(org)
        .join(name)
        .join("package.toml")
}

/// Moves clashing default ports (with the catalog, and between the proposal's own services) to
/// free ones, noting each move. Returns the notes.
pub fn resolve_ports(p: &mut Proposal, taken: &BTreeSet<u16>) -> Vec<String> {
    let mut used = taken.clone();
    let mut notes = Vec::new();
    for part in p.parts.iter_mut().filter(|x| x.include) {
        let Some(s) = part.service.as_mut() else {
            continue;
        };
        for (name, port) in &mut s.ports {
            if used.insert(*port) {
                continue;
            }
            let old = *port;
            let mut new = old;
            while used.contains(&new) {
                new = if new == u16::MAX { 1024 } else { new + 1 };
            }
            used.insert(new);
            *port = new;
            notes.push(format!(
                "{}'s port {name} moved from upstream's {old} to {new}: {old} is taken in the catalog",
                s.name
            ));
        }
    }
    notes
}

/// Renders, validates and writes every included part. Nothing is written when any part fails.
pub fn write_packages(
    catalog_root: &Path,
    proposal: &Proposal,
) -> Result<Vec<Written>, ScaffoldError> {
    let loaded =
        crate::catalog::load(catalog_root).map_err(|e| ScaffoldError::Io(e.to_string()))?;
    let catalog = &loaded.catalog;
    let mut p = proposal.clone();
    if p.included().next().is_none() {
        return Err(ScaffoldError::NothingToWrite);
    }
    let taken: BTreeSet<u16> = catalog
        .packages
        .iter()
        .flat_map(|x| x.services.values())
        .flat_map(|s| s.ports.values().copied())
        .collect();
    let moved = resolve_ports(&mut p, &taken);
    p.notes.extend(moved);
    let services: BTreeSet<&str> = catalog
        .packages
        .iter()
        .flat_map(|x| x.services.keys().map(String::as_str))
        .collect();
    let mut planned: Vec<(String, PathBuf, String)> = Vec::new();
    for part in p.included() {
        if catalog.get(&part.name).is_some() {
            return Err(ScaffoldError::Taken(part.name.clone()));
        }
        if let Some(s) = &part.service
            && services.contains(s.name.as_str())
        {
            return Err(ScaffoldError::Taken(format!(
                "{} (as a service name)",
                s.name
            )));
        }
        let path = package_path(catalog_root, &p.org, &part.name);
        if path.exists() || path.parent().is_some_and(Path::exists) {
            return Err(ScaffoldError::Exists(path));
        }
        let text = render(&p, part);
        validate(&path, &p.org, &part.name, &text)?;
        planned.push((part.name.clone(), path, text));
    }
    let mut written: Vec<Written> = Vec::new();
    for (name, path, text) in &planned {
        if let Err(e) = create_new(path, text.as_bytes()) {
            for w in &written {
                remove_package(&w.path);
            }
            return Err(e);
        }
        written.push(Written {
            name: name.clone(),
            path: path.clone(),
        });
    }
    // The catalog-wide rules (workspaces agreeing, names, ports) over the files as written.
    let after = crate::catalog::load(catalog_root).map_err(|e| ScaffoldError::Io(e.to_string()))?;
    let ours: Vec<String> = after
        .diagnostics
        .iter()
        .filter(|d| {
            written.iter().any(|w| {
                d.file
                    .ends_with(w.path.strip_prefix(catalog_root).unwrap_or(&w.path))
            })
        })
        .map(|d| {
            format!(
                "{}:{}:{}: {}: {}",
                d.file.display(),
                d.line,
                d.column,
                d.field,
                d.message
            )
        })
        .collect();
    if !ours.is_empty() {
        for w in &written {
            remove_package(&w.path);
        }
        return Err(ScaffoldError::Invalid(ours.join("\n")));
    }
    Ok(written)
}

fn validate(path: &Path, org: &str, name: &str, text: &str) -> Result<(), ScaffoldError> {
    let dir = path.parent().unwrap_or(path);
    let checked = check(&PackageFile {
        file: path,
        dir,
        org,
        folder: name,
        text,
        extra_files: ExtraFiles::default(),
    });
    if checked.diagnostics.is_empty() {
        return Ok(());
    }
    let lines: Vec<String> = checked
        .diagnostics
        .iter()
        .map(|d| {
            let hint = d
                .hint
                .as_deref()
                .map(|h| format!(" (hint: {h})"))
                .unwrap_or_default();
            format!(
                "{}:{}:{}: {}: {}{hint}",
                path.display(),
                d.line,
                d.column,
                d.field,
                d.message
            )
        })
        .collect();
    Err(ScaffoldError::Invalid(lines.join("\n")))
}

/// Creates `path` with `bytes`, never replacing anything: a synced temp file beside it is hard
/// linked to the name (which fails if the name exists), then removed.
fn create_new(path: &Path, bytes: &[u8]) -> Result<(), ScaffoldError> {
    use std::io::Write;
    let io = |e: std::io::Error| ScaffoldError::Io(format!("writing {}: {e}", path.display()));
    let dir = path.parent().expect("a package file has a folder");
    std::fs::create_dir_all(dir).map_err(io)?;
    let tmp = dir.join(format!(".package.toml.atwb-{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create_new(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::hard_link(&tmp, path)
    })();
    let _ = std::fs::remove_file(&tmp);
    match result {
        Ok(()) => {
            std::fs::File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(io)?;
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            Err(ScaffoldError::Exists(path.to_path_buf()))
        }
        Err(e) => Err(io(e)),
    }
}

/// Removes a package file this run wrote, and its folder (and the org folder) when left empty.
fn remove_package(path: &Path) {
    let _ = std::fs::remove_file(path);
    if let Some(dir) = path.parent() {
        let _ = std::fs::remove_dir(dir);
        if let Some(org) = dir.parent() {
            let _ = std::fs::remove_dir(org);
        }
    }
}
