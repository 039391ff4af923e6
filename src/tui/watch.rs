//! Watching the catalog's files, so a change made outside atwb (another editor, `git pull`, a
//! fix of a broken file) shows without a restart. The watch covers the catalog directory only
//! and does not follow links (a link out of the catalog is neither watched nor read). Events are
//! debounced: editors save through a temporary file and a rename, several events for one save,
//! so a package is read again once its folder has been quiet for [`DEBOUNCE`] (or at the latest
//! after [`MAX_DELAY`] of continuous writes). Reading happens on the watcher's own thread; the
//! results reach `update` as `Feedback`, like every other effect.

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use notify::event::{AccessKind, AccessMode, EventKind};
use notify::{RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::mpsc::UnboundedSender;

use super::action::Feedback;

/// Quiet time after the last event before a package is read again.
pub const DEBOUNCE: Duration = Duration::from_millis(200);
/// Longest wait under a stream of events.
pub const MAX_DELAY: Duration = Duration::from_secs(1);

/// What one changed path asks for.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Change {
    /// Something in this package folder (`<root>/pkgs/<org>/<name>`, the root as given).
    Package(PathBuf),
    /// A folder above the packages (`pkgs/`, an org): read the whole catalog.
    Catalog,
    /// `lib/`: no package file changed, but every build may be stale.
    Lib,
}

/// The change a path (relative to the catalog root) stands for; None for files that do not
/// matter (hidden files, editor backups, files outside `pkgs/` and `lib/`).
pub fn classify(root: &Path, relative: &Path) -> Option<Change> {
    let parts: Vec<&str> = relative
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => s.to_str(),
            _ => None,
        })
        .collect();
    // Editors' temporary and backup files, and our own atomic-write temporaries (hidden).
    let ignored = |name: &str| {
        name.starts_with('.')
            || name.ends_with('~')
            || name.ends_with(".swp")
            || name.ends_with(".swx")
            || name == "4913"
    };
    if parts.iter().any(|p| ignored(p)) {
        return None;
    }
    match parts.as_slice() {
        ["pkgs"] | ["pkgs", _] => Some(Change::Catalog),
        ["pkgs", org, name, ..] => Some(Change::Package(root.join("pkgs").join(org).join(name))),
        ["lib", ..] => Some(Change::Lib),
        _ => None,
    }
}

/// Whether an event may change a file's content or a folder's entries (opening and reading a
/// file, which the loader itself does, does not).
fn changes_something(kind: EventKind) -> bool {
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        _ => true,
    }
}

/// Keeps the watch alive; dropping it stops the watch and its thread.
pub struct CatalogWatcher {
    _watcher: RecommendedWatcher,
}

/// Starts watching the catalog at `root` (as given: the paths sent back are under it).
pub fn start(root: &Path, feedback: UnboundedSender<Feedback>) -> anyhow::Result<CatalogWatcher> {
    let real = std::fs::canonicalize(root)?;
    let (tx, rx) = mpsc::channel();
    let config = notify::Config::default().with_follow_symlinks(false);
    let mut watcher = RecommendedWatcher::new(
        move |event| {
            let _ = tx.send(event);
        },
        config,
    )?;
    watcher.watch(&real, RecursiveMode::Recursive)?;
    let root = root.to_path_buf();
    std::thread::Builder::new()
        .name("atwb-watch".into())
        .spawn(move || debounce_loop(&root, &real, &rx, &feedback))?;
    Ok(CatalogWatcher { _watcher: watcher })
}

/// Collects changes until the catalog is quiet, then reads what changed. Ends when the watcher
/// is dropped or the UI is gone.
fn debounce_loop(
    root: &Path,
    real: &Path,
    rx: &mpsc::Receiver<notify::Result<notify::Event>>,
    feedback: &UnboundedSender<Feedback>,
) {
    let mut pending: BTreeSet<Change> = BTreeSet::new();
    let mut since: Option<Instant> = None;
    loop {
        let event = if pending.is_empty() {
            rx.recv().map_err(|_| RecvTimeoutError::Disconnected)
        } else {
            rx.recv_timeout(DEBOUNCE)
        };
        let timed_out = matches!(event, Err(RecvTimeoutError::Timeout));
        match event {
            Ok(Ok(event)) if changes_something(event.kind) => {
                let changes = event.paths.iter().filter_map(|p| {
                    let relative = p.strip_prefix(real).ok()?;
                    classify(root, relative)
                });
                let before = pending.len();
                pending.extend(changes);
                if pending.len() > before {
                    since.get_or_insert_with(Instant::now);
                }
            }
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                tracing::warn!("watching the catalog: {e}");
                // Events may have been lost (a full queue): read everything.
                pending.insert(Change::Catalog);
                since.get_or_insert_with(Instant::now);
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
        let quiet_or_late = timed_out || since.is_some_and(|s| s.elapsed() >= MAX_DELAY);
        if !pending.is_empty() && quiet_or_late {
            since = None;
            if !reload(root, std::mem::take(&mut pending), feedback) {
                return;
            }
        }
    }
}

/// Reads what changed and reports it; false when the UI is gone.
fn reload(root: &Path, changes: BTreeSet<Change>, feedback: &UnboundedSender<Feedback>) -> bool {
    if changes.contains(&Change::Catalog) {
        super::effects::reload_catalog(root, feedback);
        return !feedback.is_closed();
    }
    for change in &changes {
        let sent = match change {
            Change::Package(dir) => {
                let result = match crate::catalog::load_package(root, dir) {
                    Ok(r) => r,
                    Err(e) => {
                        tracing::warn!("reloading {}: {e}", dir.display());
                        crate::catalog::Reloaded::NeedsFullLoad
                    }
                };
                let file = dir.join("package.toml");
                // With the bytes now on disk, so a form whose file is unchanged (atwb's own save,
                // an editor that rewrote the same bytes, a touch) is not told of a conflict.
                let bytes = std::fs::read(&file).ok();
                feedback
                    .send(Feedback::PackageFileChanged(file, bytes))
                    .is_ok()
                    && feedback
                        .send(Feedback::PackageReloaded {
                            dir: dir.clone(),
                            result,
                        })
                        .is_ok()
            }
            Change::Lib => feedback.send(Feedback::LibChanged).is_ok(),
            Change::Catalog => true,
        };
        if !sent {
            return false;
        }
    }
    // Cached hardening scores are keyed by the files under lib/ and pkgs/.
    super::effects::remembered_hardening(root, feedback);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_to_their_package_folder_or_the_whole_catalog() {
        let root = Path::new("cat");
        let c = |p: &str| classify(root, Path::new(p));
        assert_eq!(
            c("pkgs/microcosm/constellation/package.toml"),
            Some(Change::Package(PathBuf::from(
                "cat/pkgs/microcosm/constellation"
            )))
        );
        assert_eq!(
            c("pkgs/microcosm/constellation"),
            Some(Change::Package(PathBuf::from(
                "cat/pkgs/microcosm/constellation"
            )))
        );
        assert_eq!(c("pkgs/microcosm"), Some(Change::Catalog));
        assert_eq!(c("pkgs"), Some(Change::Catalog));
        assert_eq!(c("lib/atproto-core.nix"), Some(Change::Lib));
        // Editors' temporaries and backups, hidden folders, files beside the catalog.
        assert_eq!(c("pkgs/microcosm/constellation/.package.toml.swp"), None);
        assert_eq!(c("pkgs/microcosm/constellation/package.toml~"), None);
        assert_eq!(c("pkgs/microcosm/constellation/4913"), None);
        assert_eq!(c("pkgs/.git/HEAD"), None);
        assert_eq!(c("README.md"), None);
    }

    /// Waits (bounded) for a feedback that `want` accepts.
    fn wait_for(
        rx: &mut tokio::sync::mpsc::UnboundedReceiver<Feedback>,
        want: impl Fn(&Feedback) -> bool,
    ) -> Option<Feedback> {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            match rx.try_recv() {
                Ok(f) if want(&f) => return Some(f),
                Ok(_) => {}
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
        None
    }

    #[test]
    fn a_real_write_reloads_that_package_and_a_broken_file_comes_back_invalid() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("catalog");
        let pkg = root.join("pkgs/acme/demo");
        std::fs::create_dir_all(&pkg).unwrap();
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tui-catalog");
        let text = first_fixture_package(&fixture);
        // The fixture's own package, renamed into this folder.
        let name = text
            .lines()
            .find_map(|l| l.strip_prefix("name = "))
            .unwrap()
            .trim_matches('"')
            .to_owned();
        let text = text.replace(&format!("name = \"{name}\""), "name = \"demo\"");
        std::fs::write(pkg.join("package.toml"), &text).unwrap();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let _watcher = start(&root, tx).unwrap();

        // An editor's save: a temporary file renamed over the old one.
        let broken = text.replacen("tier = ", "tier = \"", 1);
        std::fs::write(pkg.join(".package.toml.tmp"), &broken).unwrap();
        let started = Instant::now();
        std::fs::rename(pkg.join(".package.toml.tmp"), pkg.join("package.toml")).unwrap();
        let got = wait_for(&mut rx, |f| matches!(f, Feedback::PackageReloaded { .. }));
        let waited = started.elapsed();
        let Some(Feedback::PackageReloaded { dir: d, result }) = got else {
            panic!("no reload event within 10 s");
        };
        assert_eq!(d, pkg);
        assert!(waited >= DEBOUNCE, "debounced: {waited:?}");
        println!("write to reload event: {waited:?}");
        let crate::catalog::Reloaded::Invalid(invalid) = result else {
            panic!("the broken file must come back invalid: {result:?}");
        };
        assert_eq!(
            (invalid.name.as_str(), invalid.org.as_str()),
            ("demo", "acme")
        );
        assert!(invalid.first_line().is_some(), "{invalid:?}");

        std::fs::write(pkg.join("package.toml"), &text).unwrap();
        let got = wait_for(&mut rx, |f| matches!(f, Feedback::PackageReloaded { .. }));
        assert!(
            matches!(
                got,
                Some(Feedback::PackageReloaded {
                    result: crate::catalog::Reloaded::Valid(_),
                    ..
                })
            ),
            "{got:?}"
        );
    }

    #[test]
    fn a_link_out_of_the_catalog_is_not_watched() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("catalog");
        let inside = root.join("pkgs/acme/demo");
        std::fs::create_dir_all(&inside).unwrap();
        let outside = dir.path().join("elsewhere");
        std::fs::create_dir_all(&outside).unwrap();
        std::os::unix::fs::symlink(&outside, root.join("pkgs/acme/linked")).unwrap();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let _watcher = start(&root, tx).unwrap();
        std::fs::write(outside.join("package.toml"), "name = \"linked\"\n").unwrap();
        std::thread::sleep(DEBOUNCE * 3);
        assert!(rx.try_recv().is_err(), "a write behind the link was seen");
        // The watch itself works: a write inside is seen.
        std::fs::write(inside.join("package.toml"), "name = \"demo\"\n").unwrap();
        let got = wait_for(&mut rx, |f| matches!(f, Feedback::PackageReloaded { .. }));
        assert!(
            matches!(&got, Some(Feedback::PackageReloaded { dir, .. }) if dir == &inside),
            "{got:?}"
        );
    }

    fn first_fixture_package(fixture: &Path) -> String {
        let mut files: Vec<PathBuf> = walk(&fixture.join("pkgs"));
        files.sort();
        let file = files
            .into_iter()
            .find(|f| f.ends_with("package.toml"))
            .expect("a fixture package");
        std::fs::read_to_string(file).unwrap()
    }

    fn walk(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            if e.file_type().unwrap().is_dir() {
                out.extend(walk(&e.path()));
            } else {
                out.push(e.path());
            }
        }
        out
    }
}
