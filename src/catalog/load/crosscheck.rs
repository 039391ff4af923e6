//! Rules that need the whole catalog: names and service names are global in the NUR
//! (`pkgs.<name>`, `services.atproto.<service>`), and packages of one workspace share one
//! derivation. A package breaking one of them is left out like any other invalid package.

use std::path::Path;

use super::files::{self, CatalogRoot};
use super::walk::CheckedDir;
use crate::catalog::diagnostic::Diagnostic;
use crate::catalog::model::Package;
use crate::catalog::position::line_column;
use crate::catalog::validate::key_offset;

/// Add a catalog-wide diagnostic to `c` and leave the package out. `locate` finds the byte offset
/// to point at in the file's text, read again here (this path is rare) under the loader's rules:
/// a package that failed to load takes part in the name check, and its file may be a FIFO.
fn push(
    root: &CatalogRoot,
    c: &mut CheckedDir,
    locate: impl FnOnce(&str) -> Option<usize>,
    field: &str,
    message: String,
    hint: &str,
) {
    let text = files::read_file(root, &c.file)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok());
    let position = match text {
        Some(text) => locate(&text).map_or((1, 1), |offset| line_column(&text, offset)),
        None => (0, 0),
    };
    let diagnostic = Diagnostic::new(c.file.clone(), position, field, message, hint);
    c.checked.diagnostics.push(diagnostic);
    c.checked.package = None;
}

/// Other files named in a message, relative to the catalog root (`pkgs/<org>/<name>/package.toml`).
fn list_files<'a>(root: &Path, files: impl IntoIterator<Item = &'a Path>) -> String {
    let shown = |f: &Path| f.strip_prefix(root).unwrap_or(f).display().to_string();
    files.into_iter().map(shown).collect::<Vec<_>>().join(", ")
}

/// The files of the group `idx` other than `all[i]`'s, listed for a clash message.
fn list_others(root: &Path, all: &[CheckedDir], idx: &[usize], i: usize) -> String {
    list_files(
        root,
        idx.iter()
            .filter(|&&j| j != i)
            .map(|&j| all[j].file.as_path()),
    )
}

/// Keys that occur more than once, with the indices holding them, sorted by key. Only repeated
/// keys are copied, so the common case (no clash among 10k packages) allocates little.
fn repeated<'a>(keys: impl Iterator<Item = (&'a str, usize)>) -> Vec<(String, Vec<usize>)> {
    // Sorting the (key, index) pairs groups equal keys; no hashing, no copies of unique keys.
    let mut pairs: Vec<(&str, usize)> = keys.collect();
    pairs.sort_unstable();
    let mut out = Vec::new();
    for group in pairs.chunk_by(|a, b| a.0 == b.0).filter(|g| g.len() > 1) {
        out.push((
            group[0].0.to_string(),
            group.iter().map(|&(_, i)| i).collect(),
        ));
    }
    out
}

/// Two orgs with a package of the same name: both are reported (the folder name is used, so even
/// packages with other errors take part).
pub fn duplicate_names(all: &mut [CheckedDir], catalog: &CatalogRoot) {
    let root = catalog.given.as_path();
    let by_name = repeated(all.iter().enumerate().map(|(i, c)| (c.folder.as_str(), i)));
    for (name, idx) in by_name {
        for &i in &idx {
            let msg = format!(
                "package name `{name}` is also used by {}",
                list_others(root, all, &idx, i)
            );
            let anchor = all[i].checked.anchors.name;
            let anchor = move |_: &str| Some(anchor);
            let hint = "package names are global (pkgs.<name>): rename one of them, e.g. prefix it with its org";
            push(catalog, &mut all[i], anchor, "name", msg, hint);
        }
    }
}

/// Two packages defining the same service would both generate `services.atproto.<service>`.
pub fn service_names(all: &mut [CheckedDir], catalog: &CatalogRoot) {
    let root = catalog.given.as_path();
    let services = all.iter().enumerate().flat_map(|(i, c)| {
        c.checked
            .package
            .iter()
            .flat_map(move |p| p.services.keys().map(move |s| (s.as_str(), i)))
    });
    for (svc, idx) in repeated(services) {
        for &i in &idx {
            let (msg, hint) = service_clash(&svc, &list_others(root, all, &idx, i));
            let anchor = |text: &str| key_offset(text, &["services", &svc]);
            push(
                catalog,
                &mut all[i],
                anchor,
                &format!("services.{svc}"),
                msg,
                hint,
            );
        }
    }
}

/// The message and hint for a service `svc` that `others` (files) define too.
pub fn service_clash(svc: &str, others: &str) -> (String, &'static str) {
    (
        format!("service `{svc}` is also defined by {others}"),
        "service names are global (services.atproto.<service>): rename one of them",
    )
}

/// Packages naming the same `build.workspace` must agree on what that one derivation is.
pub fn workspaces(all: &mut [CheckedDir], catalog: &CatalogRoot) {
    let root = catalog.given.as_path();
    let workspaces = all.iter().enumerate().filter_map(|(i, c)| {
        let p = c.checked.package.as_ref()?;
        Some((p.build.workspace.as_deref()?, i))
    });
    for (workspace, mut idx) in repeated(workspaces) {
        idx.sort_by(|&a, &b| all[a].file.cmp(&all[b].file));
        let reference_file = all[idx[0]].file.clone();
        for &i in &idx[1..] {
            let member = all[i]
                .checked
                .package
                .as_ref()
                .expect("grouped packages are valid");
            let reference = all[idx[0]]
                .checked
                .package
                .as_ref()
                .expect("grouped packages are valid");
            let differs = differences(member, reference);
            if differs.is_empty() {
                continue;
            }
            let msg = format!(
                "workspace `{workspace}` is shared with {}, but they differ in {}",
                list_files(root, [reference_file.as_path()]),
                differs.join(", ")
            );
            let anchor = all[i].checked.anchors.workspace;
            let anchor = move |_: &str| anchor;
            let hint = "packages of one workspace are built by one derivation: give them the same [source], \
                        builder and deps_hash (or different workspace names)";
            push(catalog, &mut all[i], anchor, "build.workspace", msg, hint);
        }
    }
}

fn differences(p: &Package, reference: &Package) -> Vec<&'static str> {
    let (a, b) = (&p.source, &reference.source);
    let mut out = Vec::new();
    let pairs = [
        ("source.host", a.host == b.host),
        (
            "source.owner/repo/url",
            a.owner == b.owner && a.repo == b.repo && a.url == b.url,
        ),
        ("source.rev", a.rev == b.rev),
        ("source.hash", a.hash == b.hash),
        ("source.submodules", a.submodules == b.submodules),
        ("build.builder", p.build.builder == reference.build.builder),
        (
            "build.deps_hash",
            p.build.deps_hash == reference.build.deps_hash,
        ),
    ];
    for (name, same) in pairs {
        if !same {
            out.push(name);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::repeated;

    #[test]
    fn only_repeated_keys_are_returned_sorted() {
        let keys = [("b", 0), ("a", 1), ("b", 2), ("c", 3), ("a", 4), ("b", 5)];
        assert_eq!(
            repeated(keys.into_iter()),
            vec![
                ("a".to_string(), vec![1, 4]),
                ("b".to_string(), vec![0, 2, 5])
            ]
        );
        assert!(repeated([("x", 0)].into_iter()).is_empty());
    }
}
