//! End-to-end tests of the metadata and service options forms in the real `atwb` binary, in a
//! private tmux server per test: edit a field through a form, save with Ctrl-s, and check the
//! file's diff is exactly that change.
//!
//! Needs tmux: skipped with a printed reason when it is missing, a failure under `CI=true`.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::tmux::{Pane, Tmux};

const PANE: Pane = Pane {
    cols: 120,
    rows: 32,
    deadline: Duration::from_secs(15),
};

/// `atwb --catalog <catalog>` in a 120x32 pane (see `common::tmux`).
fn start(catalog: &Path) -> Option<Tmux> {
    Tmux::start(&PANE, catalog, &[], None)
}

/// The lines that differ between `old` and `new` (which must have as many lines).
fn changed_lines(old: &str, new: &str) -> Vec<(String, String)> {
    assert_eq!(old.lines().count(), new.lines().count(), "{new}");
    old.lines()
        .zip(new.lines())
        .filter(|(a, b)| a != b)
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .collect()
}

/// `atwb` on a fresh copy of the TUI fixture catalog with `pds` selected (found by a search),
/// and pds's `package.toml` with its text before any edit. `None` where `start` skips.
fn pds_selected() -> Option<(tempfile::TempDir, Tmux, PathBuf, String)> {
    let (dir, root) = common::tui_catalog_copy();
    let file = root.join("pkgs/bluesky-social/pds/package.toml");
    let before = std::fs::read_to_string(&file).unwrap();
    let t = start(&root)?;
    t.wait_all(&["◌ constellation", "q quit"]);
    t.keys(&["/"]);
    t.type_text("pds");
    t.keys(&["Enter"]);
    t.wait_all(&["Personal data server hosting user repositories"]);
    Some((dir, t, file, before))
}

#[test]
fn the_metadata_form_edits_a_description_and_the_diff_is_exactly_that() {
    let Some((_dir, t, file, before)) = pds_selected() else {
        return;
    };
    t.keys(&["m"]);
    t.wait_all(&["pds · metadata", "▸ name"]);
    // name, version, tier, category, then description.
    t.keys(&["j", "j", "j", "j"]);
    t.wait_all(&["▸ description"]);
    t.keys(&["Enter"]);
    t.type_text(" and blobs");
    t.keys(&["Enter"]);
    t.wait_all(&["repositories and blobs ●", "● modified"]);
    t.keys(&["C-s"]);
    t.wait_all(&["saved "]);
    let after = std::fs::read_to_string(&file).unwrap();
    assert_eq!(
        changed_lines(&before, &after),
        [(
            "description = \"Personal data server hosting user repositories\"".to_owned(),
            "description = \"Personal data server hosting user repositories and blobs\"".to_owned()
        )]
    );
    // Leaving a saved form does not ask; the tree shows the reloaded package.
    t.keys(&["Escape"]);
    t.wait_all(&["repositories and blobs", "q quit"]);
}

#[test]
fn the_service_form_edits_a_port_refusing_letters_and_the_diff_is_exactly_that() {
    let Some((_dir, t, file, before)) = pds_selected() else {
        return;
    };
    t.keys(&["s"]);
    t.wait_all(&["pds · service pds", "▸ exec"]);
    // exec, its item, ports, then ports.http.
    t.keys(&["j", "j", "j"]);
    t.wait_all(&["▸ ports.http"]);
    t.keys(&["Enter"]);
    t.type_text("x");
    t.wait_all(&["refused: a whole number: digits only"]);
    t.type_text("00");
    t.keys(&["Enter"]);
    t.wait_all(&["300000 ●", "port 300000 is out of range"]);
    // Saving is refused and the focus goes back to the invalid port.
    t.keys(&["g", "C-s"]);
    t.wait_all(&["not saved", "▸ ports.http"]);
    t.keys(&["Enter", "BSpace", "BSpace", "BSpace"]);
    t.type_text("1");
    t.keys(&["Enter"]);
    t.wait_all(&["▸ ports.http          3001 ●"]);
    t.keys(&["C-s"]);
    t.wait_all(&["saved "]);
    let after = std::fs::read_to_string(&file).unwrap();
    assert_eq!(
        changed_lines(&before, &after),
        [(
            "ports = { http = 3000 }".to_owned(),
            "ports = { http = 3001 }".to_owned()
        )]
    );
}
