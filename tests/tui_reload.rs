//! Headless tests of the edit loop around broken files, driven by actions and by the feedback
//! the runtime would send: invalid packages as `⚠` rows, the problems view's jump, reloads of one
//! package after a change on disk (selection and scroll kept, stale marked, catalog-wide rules
//! falling back to a full load), `ctrl-r`, and the bounded message history. Real files in a
//! temporary copy of `tests/fixtures/tui-catalog`.

mod common;

use std::path::{Path, PathBuf};

use atwb::catalog::{Reloaded, load, load_package};
use atwb::jobs::{JobKind, Outcome, PackageStatus, RunRecord};
use atwb::tui::action::Feedback;
use atwb::tui::app::{Overlay, Pane, Row};
use atwb::tui::keymap::View;
use atwb::tui::update::on_feedback;
use atwb::tui::{Action, App, Command, KeyMap, update};

fn app_of(root: &Path, height: u16) -> App {
    let loaded = load(root).unwrap();
    let mut app = App::new(loaded.catalog, "catalog/".into(), 0, KeyMap::default());
    app.set_problems(loaded.invalid, loaded.diagnostics);
    app.refilter();
    update(&mut app, Action::Resize { width: 120, height });
    app
}

fn file_of(root: &Path, org: &str, name: &str) -> PathBuf {
    root.join("pkgs").join(org).join(name).join("package.toml")
}

/// Replaces `from` by `to` in a package file (it must occur).
fn rewrite(file: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(file).unwrap();
    assert!(text.contains(from), "{from:?} not in {}", file.display());
    std::fs::write(file, text.replacen(from, to, 1)).unwrap();
}

/// What the watcher sends after a change in `dir`: the folder read again on its own.
fn changed(app: &mut App, root: &Path, dir: &Path) -> Vec<Command> {
    let result = load_package(root, dir).unwrap();
    on_feedback(
        app,
        Feedback::PackageReloaded {
            dir: dir.to_path_buf(),
            result,
        },
    )
}

fn select(app: &mut App, name: &str) {
    app.selected = app
        .rows
        .iter()
        .position(|r| match r {
            Row::Package { index } => app.catalog.packages[*index].name == name,
            Row::Invalid { index } => app.invalid[*index].name == name,
            _ => false,
        })
        .unwrap_or_else(|| panic!("{name} is not in the tree"));
}

fn selected_name(app: &App) -> Option<String> {
    app.selected_package()
        .map(|p| p.name.clone())
        .or_else(|| app.selected_invalid().map(|p| format!("⚠{}", p.name)))
}

fn built(outcome: Outcome) -> PackageStatus {
    let run = RunRecord {
        kind: JobKind::Build,
        target: "packages.x86_64-linux.x".into(),
        outcome,
        failure: None,
        duration_secs: 1.0,
        finished_at: 1_000,
        drv_path: None,
        out_paths: Vec::new(),
        log_file: None,
        fingerprint: None,
    };
    PackageStatus {
        last: run.clone(),
        last_build: Some(run.clone()),
        stale: false,
        cached_in: None,
        history: vec![run],
    }
}

#[test]
fn a_broken_file_at_start_up_is_a_row_not_dropped() {
    let (_dir, root) = common::tui_catalog_copy();
    rewrite(
        &file_of(&root, "bluesky-social", "pds"),
        "version = ",
        "version = = ",
    );
    let app = app_of(&root, 30);
    assert_eq!(app.catalog.packages.len(), 6);
    assert_eq!(app.invalid.len(), 1);
    let pds = &app.invalid[0];
    assert_eq!(
        (pds.name.as_str(), pds.org.as_str()),
        ("pds", "bluesky-social")
    );
    assert_eq!(
        pds.tier.map(atwb::catalog::Tier::number),
        Some(1),
        "tier read from the broken file"
    );
    // In the tree where it belongs: after goat under bluesky-social.
    let at = app
        .rows
        .iter()
        .position(|r| matches!(r, Row::Invalid { .. }))
        .unwrap();
    assert!(
        matches!(&app.rows[at - 1], Row::Package { index } if app.catalog.packages[*index].name == "goat"),
        "{:?}",
        &app.rows[..=at]
    );
    assert!(
        matches!(&app.rows[at - 2], Row::Org { org, count: 2, .. } if org == "bluesky-social"),
        "the org counts it"
    );
    assert_eq!(app.diagnostics, 1);
    // Building it says why not.
    let mut b = app.clone();
    b.selected = at;
    assert!(update(&mut b, Action::Build).is_empty());
    let n = b.notice.clone().unwrap();
    assert!(n.error && n.text.starts_with("pds does not load"), "{n:?}");
    // The tier filter and the search find it like a valid package.
    let mut a = app.clone();
    update(&mut a, Action::FilterTier2);
    assert!(a.shown_invalid.is_empty());
    update(&mut a, Action::FilterTier1);
    assert_eq!(a.shown_invalid, vec![0]);
    update(&mut a, Action::FilterTierAll);
    update(&mut a, Action::Search);
    for c in "pds".chars() {
        update(&mut a, Action::SearchInput(c));
    }
    assert_eq!(a.shown_invalid, vec![0]);
}

#[test]
fn the_problems_view_lists_every_diagnostic_and_enter_jumps_to_its_package() {
    let (_dir, root) = common::tui_catalog_copy();
    rewrite(
        &file_of(&root, "blacksky", "rsky-relay"),
        "tier = 2",
        "tier = 9",
    );
    rewrite(
        &file_of(&root, "microcosm", "slingshot"),
        "\nlicense",
        "\nlicence",
    );
    let mut app = app_of(&root, 30);
    let check = load(&root).unwrap().diagnostics;
    assert_eq!(app.problems, check, "the same diagnostics as atwb check");
    assert!(check.len() >= 2);
    // A filter hides both packages; the jump clears it.
    update(&mut app, Action::FilterTier3);
    update(&mut app, Action::Problems);
    assert_eq!(app.view(), View::Problems);
    let last = app.problems.len() - 1;
    update(&mut app, Action::Bottom);
    assert!(
        matches!(app.overlays.last(), Some(Overlay::Problems { selected }) if *selected == last)
    );
    let target = app.problems[last].file.clone();
    update(&mut app, Action::JumpToPackage);
    assert!(app.overlays.is_empty());
    assert_eq!(app.focus, Pane::Tree);
    assert_eq!(app.filter.tier, None, "the filter that hid it is cleared");
    let selected = app
        .selected_invalid()
        .expect("an invalid package is selected");
    assert_eq!(selected.file, target);
    // E in the problems view opens the diagnostic's own line.
    update(&mut app, Action::Problems);
    let d = app.problems[0].clone();
    assert_eq!(
        update(&mut app, Action::OpenEditor),
        vec![Command::OpenEditor {
            file: d.file,
            line: Some(d.line)
        }]
    );
}

#[test]
fn a_change_on_disk_reloads_that_package_keeping_selection_and_scroll() {
    let (_dir, root) = common::tui_catalog_copy();
    // A short screen, so the tree scrolls.
    let mut app = app_of(&root, 12);
    select(&mut app, "pds-dash");
    update(&mut app, Action::MoveDown);
    let offset = app.tree_offset;
    assert!(offset > 0, "the tree is scrolled");
    let selected = app.selected;
    app.statuses.insert("goat".into(), built(Outcome::Ok));

    // goat's description changes on disk (goat shares no workspace, service or port).
    let dir = root.join("pkgs/bluesky-social/goat");
    rewrite(
        &dir.join("package.toml"),
        "description = \"",
        "description = \"Edited: ",
    );
    let commands = changed(&mut app, &root, &dir);
    assert_eq!(commands, vec![Command::RefreshStatus(vec!["goat".into()])]);
    let c = app.catalog.get("goat").unwrap();
    assert!(c.description.starts_with("Edited: "), "{}", c.description);
    assert_eq!((app.selected, app.tree_offset), (selected, offset));
    assert!(app.statuses["goat"].stale, "built before: now stale");
    assert_eq!(
        app.status(
            app.catalog
                .packages
                .iter()
                .position(|p| p.name == "goat")
                .unwrap()
        ),
        atwb::tui::app::PackageStatus::Stale
    );

    // The selected package breaks: it becomes a ⚠ row, still selected; fixed, it comes back.
    select(&mut app, "leaflet");
    let file = file_of(&root, "hyperlink-academy", "leaflet");
    rewrite(&file, "\nhomepage = ", "\nhomepage = 12 # ");
    let dir = file.parent().unwrap().to_path_buf();
    assert!(changed(&mut app, &root, &dir).is_empty());
    assert_eq!(selected_name(&app).as_deref(), Some("⚠leaflet"));
    assert_eq!(app.catalog.packages.len(), 6);
    assert!(app.problems.iter().any(|d| d.file == file));
    assert!(app.notice.as_ref().is_some_and(|n| n.error));
    rewrite(&file, "\nhomepage = 12 # ", "\nhomepage = ");
    changed(&mut app, &root, &dir);
    assert_eq!(selected_name(&app).as_deref(), Some("leaflet"));
    assert!(app.invalid.is_empty() && app.problems.is_empty() && app.diagnostics == 0);
    // A package of a shared workspace (constellation and slingshot build together): the whole
    // catalog is read again.
    let dir = root.join("pkgs/microcosm/constellation");
    rewrite(
        &dir.join("package.toml"),
        "description = \"",
        "description = \"Edited: ",
    );
    assert_eq!(changed(&mut app, &root, &dir), vec![Command::ReloadCatalog]);
    on_feedback(
        &mut app,
        Feedback::CatalogReloaded(Box::new(load(&root).unwrap())),
    );
    assert_eq!(selected_name(&app).as_deref(), Some("leaflet"));
    // Exactly what a full load gives.
    let full = load(&root).unwrap();
    assert_eq!(app.catalog.packages, full.catalog.packages);
}

#[test]
fn a_change_under_a_catalog_wide_rule_reloads_everything() {
    let (_dir, root) = common::tui_catalog_copy();
    let mut app = app_of(&root, 30);
    // goat takes the name `pds`'s service uses: two packages would define one service.
    let pds = app.catalog.get("pds").unwrap();
    let service = pds
        .services
        .keys()
        .next()
        .expect("pds has a service")
        .clone();
    let goat = file_of(&root, "bluesky-social", "goat");
    let text = std::fs::read_to_string(&goat).unwrap();
    let pds_text = std::fs::read_to_string(file_of(&root, "bluesky-social", "pds")).unwrap();
    let section = pds_text
        .find(&format!("[services.{service}]"))
        .expect("pds's service section");
    // goat gets pds's whole service section (same name, same ports).
    std::fs::write(&goat, format!("{text}\n{}", &pds_text[section..])).unwrap();
    let dir = goat.parent().unwrap().to_path_buf();
    let result = load_package(&root, &dir).unwrap();
    assert!(
        matches!(result, Reloaded::Valid(_)),
        "valid on its own: {result:?}"
    );
    let commands = on_feedback(&mut app, Feedback::PackageReloaded { dir, result });
    assert_eq!(commands, vec![Command::ReloadCatalog]);
    assert!(
        app.catalog.get("goat").is_some(),
        "nothing replaced by the single reload"
    );
    // The full load marks both.
    let full = load(&root).unwrap();
    let names: Vec<&str> = full.invalid.iter().map(|i| i.name.as_str()).collect();
    assert!(
        names.contains(&"goat") && names.contains(&"pds"),
        "{names:?}"
    );
    assert!(full.invalid.iter().all(|i| i.catalog_wide));
    on_feedback(&mut app, Feedback::CatalogReloaded(Box::new(full)));
    assert_eq!(app.invalid.len(), 2);
}

#[test]
fn ctrl_r_reloads_everything_and_a_removed_package_goes() {
    let (_dir, root) = common::tui_catalog_copy();
    let mut app = app_of(&root, 30);
    let key = atwb::tui::keymap::Key::parse("ctrl-r").unwrap();
    assert_eq!(
        app.keymap.action(View::Main, &key),
        Some(Action::ReloadCatalog)
    );
    assert_eq!(
        update(&mut app, Action::ReloadCatalog),
        vec![Command::ReloadCatalog]
    );
    select(&mut app, "leaflet");
    let dir = root.join("pkgs/hyperlink-academy/leaflet");
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(load_package(&root, &dir).unwrap(), Reloaded::Gone);
    changed(&mut app, &root, &dir);
    assert!(app.catalog.get("leaflet").is_none());
    assert_eq!(app.catalog.packages.len(), 6);
    // A new package folder appears: read, placed, counted.
    common::copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/tui-catalog/pkgs/hyperlink-academy/leaflet"),
        &dir,
    );
    changed(&mut app, &root, &dir);
    assert!(app.catalog.get("leaflet").is_some());
    assert_eq!(app.catalog.packages, load(&root).unwrap().catalog.packages);
}

#[test]
fn the_message_history_keeps_the_last_200_whole() {
    let (_dir, root) = common::tui_catalog_copy();
    let mut app = app_of(&root, 30);
    for i in 0..250 {
        app.unix_now = 1_000 + i;
        app.notify(format!("message {i}: {}", "why ".repeat(40)), i % 3 == 0);
    }
    update(&mut app, Action::MessageHistory);
    assert_eq!(app.view(), View::Messages);
    assert_eq!(app.messages.len(), 200);
    let newest: Vec<_> = app.messages.newest_first().collect();
    assert!(newest[0].text.starts_with("message 249: "));
    assert!(newest[199].text.starts_with("message 50: "));
    assert!(newest[0].text.ends_with("why "), "kept whole");
    assert_eq!(newest[0].unix, 1_249);
    // Feedback notices land there too.
    update(&mut app, Action::CloseOverlay);
    on_feedback(
        &mut app,
        Feedback::Notice(atwb::tui::app::Notice {
            text: "from the runtime".into(),
            error: true,
        }),
    );
    assert_eq!(
        app.messages.newest_first().next().unwrap().text,
        "from the runtime"
    );
}

#[test]
fn after_a_hash_fix_the_log_header_and_the_status_counts_follow() {
    use atwb::jobs::spec::FailureSummary;
    use atwb::tui::action::LogSource;
    use atwb::tui::logview::LogView;
    let (_dir, root) = common::tui_catalog_copy();
    let mut app = app_of(&root, 30);
    let failure = FailureSummary {
        class: "hash_mismatch".into(),
        first_line: "hash mismatch in fixed-output derivation".into(),
        hash_mismatch: Some(atwb::nix::failure_summary::HashMismatchInfo {
            drv_path: "/nix/store/x-pds.drv".into(),
            specified: "sha256-AAAA".into(),
            got: "sha256-BBBB".into(),
            confirmed: true,
        }),
        hint: None,
    };
    let mut view = LogView::new(
        LogSource::File(PathBuf::from("/state/pds.log")),
        "pds".into(),
        Some("pds".into()),
        false,
    );
    view.failure = Some(failure);
    app.overlays.push(Overlay::Log(Box::new(view)));
    let draw = |app: &App| -> String {
        let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 30)).unwrap();
        t.draw(|f| atwb::tui::views::draw(f, app)).unwrap();
        t.backend()
            .buffer()
            .content
            .iter()
            .map(ratatui::buffer::Cell::symbol)
            .collect()
    };
    assert!(draw(&app).contains("f writes it into package.toml"));
    let commands = on_feedback(
        &mut app,
        Feedback::HashFixed {
            package: "pds".into(),
            result: Ok(atwb::catalog::edit::FixReport {
                field: atwb::catalog::edit::HashField::SourceHash,
                old: "sha256-AAAA".into(),
                new: "sha256-BBBB".into(),
                files: vec![file_of(&root, "bluesky-social", "pds")],
            }),
        },
    );
    // The counts come from the store again (the fixed package is stale until rebuilt).
    assert_eq!(commands, vec![Command::RefreshStatus(vec!["pds".into()])]);
    // Under the rebuild question, the log's header no longer offers the fix.
    app.overlays.pop();
    let screen = draw(&app);
    assert!(
        screen.contains("wrote source.hash = sha256-BBBB"),
        "{screen}"
    );
    assert!(
        !screen.contains("f writes it into package.toml"),
        "{screen}"
    );
}
