//! Snapshot and headless tests of invalid packages, the problems view, the message history and
//! long status messages, on a copy of `tests/fixtures/tui-catalog` with two broken packages.
//! Update after an intended change with `INSTA_UPDATE=always cargo test --lib problems_tests`.

use std::path::{Path, PathBuf};

use super::action::{Action, Command, Feedback};
use super::app::{App, OnYes, Overlay, Row};
use super::keymap::{KeyMap, View};
use super::tests::render;
use super::update::{on_feedback, update};

/// A copy of the fixture catalog where `microcosm/slingshot` misspells a key (its tier stays
/// known) and `acme/broken` has an out-of-range tier (so its tier is unknown).
pub(super) fn broken_catalog() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("catalog");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tui-catalog");
    copy(&fixture, &root);
    let sling = root.join("pkgs/microcosm/slingshot/package.toml");
    let text = std::fs::read_to_string(&sling).unwrap();
    std::fs::write(&sling, text.replace("\ndescription = ", "\ndescripton = ")).unwrap();
    let broken = root.join("pkgs/acme/broken");
    std::fs::create_dir_all(&broken).unwrap();
    std::fs::write(broken.join("package.toml"), "name = \"broken\"\ntier = 7\n").unwrap();
    (dir, root)
}

fn copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

pub(super) fn app_of(root: &Path, width: u16, height: u16) -> App {
    let loaded = crate::catalog::load(root).unwrap();
    let mut app = App::new(loaded.catalog, "catalog/".into(), 0, KeyMap::default());
    app.set_problems(loaded.invalid, loaded.diagnostics);
    app.refilter();
    app.statuses_loaded = true;
    update(&mut app, Action::Resize { width, height });
    app
}

fn select_invalid(app: &mut App, name: &str) {
    app.selected = app
        .rows
        .iter()
        .position(|r| matches!(r, Row::Invalid { index } if app.invalid[*index].name == name))
        .unwrap_or_else(|| panic!("no ⚠ row for {name}"));
}

#[test]
fn invalid_row_and_its_diagnostics() {
    let (_dir, root) = broken_catalog();
    let mut app = app_of(&root, 120, 30);
    select_invalid(&mut app, "slingshot");
    insta::assert_snapshot!(render(&app).backend());
}

#[test]
fn invalid_package_of_unknown_tier() {
    let (_dir, root) = broken_catalog();
    let mut app = app_of(&root, 120, 30);
    select_invalid(&mut app, "broken");
    insta::assert_snapshot!(render(&app).backend());
}

#[test]
fn problems_view() {
    let (_dir, root) = broken_catalog();
    let mut app = app_of(&root, 120, 36);
    update(&mut app, Action::Problems);
    update(&mut app, Action::Bottom);
    assert_eq!(app.view(), View::Problems);
    insta::assert_snapshot!(render(&app).backend());
}

#[test]
fn message_history() {
    let (_dir, root) = broken_catalog();
    let mut app = app_of(&root, 100, 20);
    app.unix_now = 1_764_547_200 + 13 * 3600;
    app.notify("building goat", false);
    app.unix_now += 65;
    app.notify(
        "build goat: failed · hash mismatch · f fixes it; the deps hash in package.toml is not the one \
         nix computed for the vendored dependencies, so the fixed-output derivation was refused",
        true,
    );
    app.unix_now += 3;
    app.notify(
        "slingshot: changed on disk and has 1 error (! shows it)",
        true,
    );
    update(&mut app, Action::MessageHistory);
    assert_eq!(app.view(), View::Messages);
    insta::assert_snapshot!(render(&app).backend());
}

#[test]
fn a_long_message_wraps_in_the_status_bar() {
    let (_dir, root) = broken_catalog();
    let mut app = app_of(&root, 80, 24);
    let text = "reloading the catalog: reading /a/very/long/path/to/some/catalog/pkgs/acme/broken: \
                permission denied (check that it exists and that its permissions let you read it)";
    app.notify(text, true);
    let t = render(&app);
    insta::assert_snapshot!(t.backend());
    let screen: String = t
        .backend()
        .buffer()
        .content
        .iter()
        .map(ratatui::buffer::Cell::symbol)
        .collect();
    let squashed = |s: &str| s.split_whitespace().collect::<String>();
    assert!(
        squashed(&screen).contains(&squashed(text)),
        "the whole reason is on screen"
    );
}

#[test]
fn e_on_an_invalid_row_opens_its_first_error_and_offers_to_edit_again() {
    let (_dir, root) = broken_catalog();
    let mut app = app_of(&root, 120, 30);
    select_invalid(&mut app, "slingshot");
    let file = root.join("pkgs/microcosm/slingshot/package.toml");
    assert_eq!(
        update(&mut app, Action::OpenEditor),
        vec![Command::OpenEditor {
            file: file.clone(),
            line: Some(6)
        }]
    );
    // The editor saved it still broken: the reload after it asks.
    let loaded = crate::catalog::load(&root).unwrap();
    on_feedback(&mut app, Feedback::CatalogReloaded(Box::new(loaded)));
    let Some(Overlay::Confirm { message, on_yes }) = app.overlays.last() else {
        panic!("no edit-again prompt: {:?}", app.overlays);
    };
    assert_eq!(
        message,
        "pkgs/microcosm/slingshot/package.toml still has 1 error: edit again?"
    );
    assert_eq!(
        on_yes,
        &OnYes::EditAgain {
            file: file.clone(),
            line: Some(6)
        }
    );
    assert_eq!(
        update(&mut app, Action::Confirm),
        vec![Command::OpenEditor {
            file: file.clone(),
            line: Some(6)
        }]
    );
    // Fixed this time: no prompt, the package is back and still selected.
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replace("descripton", "description")).unwrap();
    let loaded = crate::catalog::load(&root).unwrap();
    let commands = on_feedback(&mut app, Feedback::CatalogReloaded(Box::new(loaded)));
    assert!(app.overlays.is_empty(), "{:?}", app.overlays);
    assert_eq!(
        app.selected_package().map(|p| p.name.as_str()),
        Some("slingshot")
    );
    // Every status is read again: slingshot has none yet, and staleness may have changed.
    assert_eq!(commands, vec![Command::RefreshStatus(app.package_names())]);
    assert!(app.package_names().contains(&"slingshot".to_string()));
    assert!(
        app.notice
            .as_ref()
            .is_some_and(|n| n.text.ends_with(": loads again"))
    );
    // Declining the prompt leaves the ⚠ row selected.
    std::fs::write(&file, text).unwrap();
    update(&mut app, Action::OpenEditor);
    on_feedback(
        &mut app,
        Feedback::CatalogReloaded(Box::new(crate::catalog::load(&root).unwrap())),
    );
    assert_eq!(app.view(), View::Confirm);
    assert!(update(&mut app, Action::CloseOverlay).is_empty());
    assert_eq!(
        app.selected_invalid().map(|p| p.name.as_str()),
        Some("slingshot")
    );
}
