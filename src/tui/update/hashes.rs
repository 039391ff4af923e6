//! The hash action: `#` asks the runtime to recompute the selected package's hashes in the
//! background; its progress shows in the status bar; the result opens a dialog of old against
//! new values, and confirming it asks the runtime to write them. Errors become notices.

use std::path::PathBuf;

use crate::jobs::rehash::{HashStep, PackageHashes};
use crate::tui::action::{Action, Command};
use crate::tui::app::{App, Overlay};

/// `#` on a package.
pub(super) fn hash_selected(app: &mut App) -> Vec<Command> {
    let Some(package) = app.selected_package().map(|p| p.name.clone()) else {
        app.notify("select a package to recompute its hashes", true);
        return Vec::new();
    };
    if let Some((running, _)) = &app.hashing {
        app.notify(format!("already computing the hashes of {running}"), true);
        return Vec::new();
    }
    app.hashing = Some((package.clone(), None));
    vec![Command::ComputeHashes { package }]
}

pub(super) fn on_progress(app: &mut App, package: &str, step: HashStep) {
    match &mut app.hashing {
        Some((p, s)) if p == package => *s = Some(step),
        _ => app.dirty = false,
    }
}

pub(super) fn on_computed(
    app: &mut App,
    package: &str,
    result: Result<Box<PackageHashes>, String>,
) {
    app.hashing = None;
    let hashes = match result {
        Ok(h) => h,
        Err(e) => return app.notify(format!("{package}: hashes not computed: {e}"), true),
    };
    let errors = hashes.errors();
    if let Some(first) = errors.first() {
        // One status line: the first error, which carries its own hint (`cargo fetch --locked`).
        app.notify(format!("{package}: {first}"), true);
    } else if !hashes.has_changes() {
        app.notify(
            format!("{package}: hashes unchanged, nothing to write"),
            false,
        );
    }
    if hashes.has_changes() {
        app.overlays.push(Overlay::Hashes(hashes));
    }
}

/// Keys while the old-vs-new dialog is on top: confirm writes, anything bound to close closes.
pub(super) fn dialog_action(app: &mut App, action: Action) -> Vec<Command> {
    if action != Action::Confirm {
        app.dirty = false;
        return Vec::new();
    }
    match app.overlays.pop() {
        Some(Overlay::Hashes(h)) => vec![Command::WriteHashes(h)],
        Some(other) => {
            app.overlays.push(other);
            Vec::new()
        }
        None => Vec::new(),
    }
}

/// Written: say where, and re-read the package's status, which the edit made stale.
pub(super) fn on_written(
    app: &mut App,
    package: String,
    result: Result<Vec<PathBuf>, String>,
) -> Vec<Command> {
    match result {
        Ok(files) => {
            app.notify(
                format!(
                    "{package}: wrote the new hashes into {} file(s); rebuild to check them",
                    files.len()
                ),
                false,
            );
            let mut names: Vec<String> = files
                .iter()
                .filter_map(|f| f.parent()?.file_name()?.to_str().map(str::to_owned))
                .collect();
            if !names.contains(&package) {
                names.push(package);
            }
            vec![Command::RefreshStatus(names)]
        }
        Err(e) => {
            app.notify(format!("{package}: hashes not written: {e}"), true);
            Vec::new()
        }
    }
}
