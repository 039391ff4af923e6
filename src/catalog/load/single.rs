//! Loading one package folder again (a file changed on disk), and telling when that is not
//! enough: the rules over the whole catalog (global names and services, shared workspaces,
//! catalog-wide ports) can make a change in one file change another package's validity, and then
//! only a full load gives the right answer.

use std::collections::BTreeSet;
use std::path::Path;

use super::LoadError;
use super::files::CatalogRoot;
use super::walk::{self, CheckedDir, PackageDir};
use crate::catalog::invalid::InvalidPackage;
use crate::catalog::model::Package;

/// One package folder, read and checked on its own.
#[derive(Debug, Clone, PartialEq)]
pub enum Reloaded {
    Valid(Box<Package>),
    Invalid(InvalidPackage),
    /// The folder is gone (deleted or renamed).
    Gone,
    /// Not a plain `pkgs/<org>/<name>/` folder (a link, a file in its place): load the whole
    /// catalog, which reports it.
    NeedsFullLoad,
}

/// The invalid entry for a checked folder; `local` is how many of its diagnostics its own check
/// made (the rest come from the catalog-wide rules).
pub(super) fn invalid_entry(c: &CheckedDir, local: usize) -> InvalidPackage {
    let mut diagnostics = c.checked.diagnostics.clone();
    super::sort_diagnostics(&mut diagnostics);
    InvalidPackage {
        name: c.folder.clone(),
        org: c.org.clone(),
        dir: c.dir.clone(),
        file: c.file.clone(),
        tier: c.tier,
        category: c.category,
        catalog_wide: c.checked.diagnostics.len() > local,
        diagnostics,
    }
}

/// Reads and checks the package folder `dir` (`root/pkgs/<org>/<name>`) on its own, under the
/// same rules as [`super::load`]: no link is followed out of the catalog.
pub fn load_package(root: &Path, dir: &Path) -> Result<Reloaded, LoadError> {
    let io = |source| LoadError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let (Some(folder), Some(org_dir)) = (dir.file_name(), dir.parent()) else {
        return Ok(Reloaded::NeedsFullLoad);
    };
    let (Some(org), Some(pkgs)) = (org_dir.file_name(), org_dir.parent()) else {
        return Ok(Reloaded::NeedsFullLoad);
    };
    if pkgs != root.join("pkgs") {
        return Ok(Reloaded::NeedsFullLoad);
    }
    let hidden = |n: &std::ffi::OsStr| n.to_string_lossy().starts_with('.');
    if hidden(folder) || hidden(org) {
        return Ok(Reloaded::Gone);
    }
    for d in [org_dir, dir] {
        match std::fs::symlink_metadata(d) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Reloaded::Gone),
            Err(e) => return Err(io(e)),
            Ok(m) if !m.is_dir() => return Ok(Reloaded::NeedsFullLoad),
            Ok(_) => {}
        }
    }
    let catalog_root = CatalogRoot::new(root).map_err(io)?;
    let d = PackageDir {
        org: org.to_string_lossy().into_owned(),
        folder: folder.to_string_lossy().into_owned(),
        dir: dir.to_path_buf(),
    };
    let c = walk::check_dir(&catalog_root, &d);
    let local = c.checked.diagnostics.len();
    Ok(match c.checked.package {
        Some(ref p) => Reloaded::Valid(Box::new(p.clone())),
        None => Reloaded::Invalid(invalid_entry(&c, local)),
    })
}

/// Whether putting `new` in place of the package at `dir` gives what a full load would. True
/// when no catalog-wide rule is involved: no package is invalid because of one, the folder name
/// is unique, and the new package shares no service name, workspace or port with another (nor
/// did the old one share a workspace, of which it may have been the reference).
pub fn replaces_exactly(
    packages: &[Package],
    invalid: &[InvalidPackage],
    dir: &Path,
    new: &Reloaded,
) -> bool {
    if invalid.iter().any(|i| i.catalog_wide) {
        return false;
    }
    let others = || packages.iter().filter(|p| p.dir != dir);
    let shares_workspace = |p: &Package| {
        p.build
            .workspace
            .as_ref()
            .is_some_and(|w| others().any(|o| o.build.workspace.as_ref() == Some(w)))
    };
    if packages
        .iter()
        .find(|p| p.dir == dir)
        .is_some_and(shares_workspace)
    {
        return false;
    }
    let name_taken = |name: &str| {
        others().any(|p| p.name == name) || invalid.iter().any(|i| i.dir != dir && i.name == name)
    };
    match new {
        Reloaded::Gone => true,
        Reloaded::NeedsFullLoad => false,
        Reloaded::Invalid(i) => !name_taken(&i.name),
        Reloaded::Valid(p) => {
            let services: BTreeSet<&str> = others()
                .flat_map(|o| o.services.keys().map(String::as_str))
                .collect();
            let ports: BTreeSet<u16> = others()
                .flat_map(|o| o.services.values())
                .flat_map(|s| s.ports.values().copied())
                .collect();
            !name_taken(&p.name)
                && !shares_workspace(p)
                && !p.services.keys().any(|s| services.contains(s.as_str()))
                && !p
                    .services
                    .values()
                    .flat_map(|s| s.ports.values())
                    .any(|n| ports.contains(n))
        }
    }
}
