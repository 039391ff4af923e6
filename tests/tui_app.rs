//! Headless tests of the TUI: drive `update` with `Action`s against the fixture catalog and check
//! the state (no terminal involved).

use std::path::{Path, PathBuf};

use atwb::config::Config;
use atwb::tui::app::{Mode, Pane, Row};
use atwb::tui::keymap::{Key, View};
use atwb::tui::{Action, App, Command, KeyMap, update};
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};

fn fixture_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tui-catalog")
}

fn app_with(keymap: KeyMap) -> App {
    let loaded = atwb::catalog::load(&fixture_root()).expect("fixture loads");
    assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
    let mut app = App::new(loaded.catalog, "fixture/".into(), 0, keymap);
    update(
        &mut app,
        Action::Resize {
            width: 120,
            height: 30,
        },
    );
    app
}

fn app() -> App {
    app_with(KeyMap::default())
}

fn selected_name(app: &App) -> Option<String> {
    app.selected_package().map(|p| p.name.clone())
}

fn shown_names(app: &App) -> Vec<String> {
    app.shown
        .iter()
        .map(|&i| app.catalog.packages[i].name.clone())
        .collect()
}

fn type_query(app: &mut App, q: &str) {
    update(app, Action::Search);
    for c in q.chars() {
        update(app, Action::SearchInput(c));
    }
}

#[test]
fn starts_on_first_package_with_everything_expanded() {
    let app = app();
    assert_eq!(selected_name(&app).as_deref(), Some("goat"));
    assert_eq!(app.shown.len(), 7);
    // 3 tiers + 5 orgs + 7 packages.
    assert_eq!(app.rows.len(), 15);
}

#[test]
fn navigation_moves_and_clamps() {
    let mut app = app();
    update(&mut app, Action::MoveDown);
    assert_eq!(selected_name(&app).as_deref(), Some("pds"));
    update(&mut app, Action::MoveDown); // the microcosm org line
    assert!(matches!(app.selected_row(), Some(Row::Org { org, .. }) if org == "microcosm"));
    update(&mut app, Action::Bottom);
    assert_eq!(selected_name(&app).as_deref(), Some("pds-dash"));
    update(&mut app, Action::MoveDown);
    assert_eq!(
        selected_name(&app).as_deref(),
        Some("pds-dash"),
        "stays on the last line"
    );
    update(&mut app, Action::Top);
    assert_eq!(app.selected, 0);
    update(&mut app, Action::MoveUp);
    assert_eq!(app.selected, 0);
    update(&mut app, Action::PageDown);
    assert_eq!(
        app.selected,
        app.rows.len() - 1,
        "a page is larger than the fixture tree"
    );
}

#[test]
fn small_terminal_scrolls_the_tree_to_keep_the_selection_visible() {
    let mut app = app();
    update(
        &mut app,
        Action::Resize {
            width: 120,
            height: 8,
        },
    ); // 4 tree lines
    update(&mut app, Action::Bottom);
    let visible = 8 - 2 - 2;
    assert!(app.tree_offset + visible > app.selected && app.tree_offset <= app.selected);
    update(&mut app, Action::Top);
    assert_eq!(app.tree_offset, 0);
}

#[test]
fn search_filters_live_and_enter_keeps_the_filter() {
    let mut app = app();
    type_query(&mut app, "relay");
    assert_eq!(app.mode, Mode::Search);
    assert_eq!(app.view(), View::Search);
    assert_eq!(shown_names(&app), ["rsky-relay"]);
    assert_eq!(
        selected_name(&app).as_deref(),
        Some("rsky-relay"),
        "best match selected"
    );
    update(&mut app, Action::SearchConfirm);
    assert_eq!(app.mode, Mode::Normal);
    assert_eq!(app.focus, Pane::Tree);
    assert_eq!(shown_names(&app), ["rsky-relay"], "Enter keeps the filter");
    update(&mut app, Action::ClearSearch);
    assert_eq!(app.shown.len(), 7);
    assert_eq!(
        selected_name(&app).as_deref(),
        Some("rsky-relay"),
        "selection survives clearing"
    );
}

#[test]
fn search_matches_org_description_and_service_names() {
    let mut app = app();
    type_query(&mut app, "microcosm");
    assert_eq!(shown_names(&app), ["constellation", "slingshot"], "org");
    update(&mut app, Action::SearchCancel);
    type_query(&mut app, "backlink");
    assert_eq!(shown_names(&app), ["constellation"], "description");
    update(&mut app, Action::SearchCancel);
    assert_eq!(app.shown.len(), 7, "Esc clears");
    assert_eq!(app.filter.query, "");
}

#[test]
fn backspace_widens_the_search() {
    let mut app = app();
    type_query(&mut app, "goatx");
    assert!(app.shown.is_empty());
    assert!(app.rows.is_empty());
    assert_eq!(app.selected_package(), None);
    update(&mut app, Action::SearchBackspace);
    // `goat` also matches the description "Global backlink index for the ATmosphere".
    assert_eq!(shown_names(&app), ["goat", "constellation", "slingshot"]);
    assert_eq!(
        selected_name(&app).as_deref(),
        Some("goat"),
        "the name match ranks first"
    );
}

#[test]
fn tier_filter_keys() {
    let mut app = app();
    update(&mut app, Action::FilterTier2);
    assert_eq!(shown_names(&app), ["rsky-relay", "leaflet"]);
    assert!(matches!(app.rows[0], Row::Tier { count: 2, .. }));
    update(&mut app, Action::FilterTier3);
    assert_eq!(shown_names(&app), ["pds-dash"]);
    update(&mut app, Action::FilterTierAll);
    assert_eq!(app.shown.len(), 7);
}

#[test]
fn category_filter_cycles_and_combines_with_search() {
    let mut app = app();
    update(&mut app, Action::CycleCategory);
    assert_eq!(
        shown_names(&app),
        ["pds", "constellation", "slingshot", "rsky-relay"]
    );
    update(&mut app, Action::CycleCategory); // application
    assert_eq!(shown_names(&app), ["leaflet", "pds-dash"]);
    type_query(&mut app, "pds");
    assert_eq!(shown_names(&app), ["pds-dash"]);
    update(&mut app, Action::SearchCancel);
    for _ in 0..3 {
        update(&mut app, Action::CycleCategory); // utility, library, all
    }
    assert_eq!(app.filter.category, None);
    assert_eq!(app.shown.len(), 7);
}

#[test]
fn expand_collapse_and_parent() {
    let mut app = app();
    // On `goat`: collapse goes to its org, a second collapse closes the org.
    update(&mut app, Action::Collapse);
    assert!(
        matches!(app.selected_row(), Some(Row::Org { org, expanded: true, .. }) if org == "bluesky-social")
    );
    update(&mut app, Action::Collapse);
    assert!(matches!(
        app.selected_row(),
        Some(Row::Org {
            expanded: false,
            count: 2,
            ..
        })
    ));
    assert_eq!(app.rows.len(), 13);
    update(&mut app, Action::Expand);
    assert_eq!(app.rows.len(), 15);
    // Closing a tier hides its orgs and packages; Toggle reopens it.
    update(&mut app, Action::Top);
    update(&mut app, Action::Toggle);
    assert_eq!(app.rows.len(), 15 - 2 - 4);
    update(&mut app, Action::Toggle);
    assert_eq!(app.rows.len(), 15);
    // Expand on a package focuses the detail pane; collapse returns.
    update(&mut app, Action::Bottom);
    update(&mut app, Action::Expand);
    assert_eq!(app.focus, Pane::Detail);
    update(&mut app, Action::Collapse);
    assert_eq!(app.focus, Pane::Tree);
}

#[test]
fn detail_pane_scrolls_when_focused() {
    let mut app = app();
    update(
        &mut app,
        Action::Resize {
            width: 120,
            height: 12,
        },
    );
    update(&mut app, Action::NextPane);
    assert_eq!(app.focus, Pane::Detail);
    let before = app.selected;
    update(&mut app, Action::MoveDown);
    assert_eq!(app.detail_scroll, 1);
    assert_eq!(app.selected, before, "tree selection unchanged");
    update(&mut app, Action::Bottom);
    let bottom = app.detail_scroll;
    assert!(bottom > 5);
    update(&mut app, Action::MoveDown);
    assert_eq!(app.detail_scroll, bottom, "clamped at the end");
}

#[test]
fn help_overlay_toggles_and_takes_the_keys() {
    let mut app = app();
    update(&mut app, Action::Help);
    assert_eq!(app.view(), View::Help);
    let before = app.selected;
    update(&mut app, Action::MoveDown);
    assert_eq!(app.selected, before, "keys scroll the help, not the tree");
    update(&mut app, Action::CloseOverlay);
    assert_eq!(app.view(), View::Main);
    assert!(app.overlays.is_empty());
}

#[test]
fn quit_returns_the_quit_command() {
    let mut app = app();
    assert_eq!(update(&mut app, Action::Quit), vec![Command::Quit]);
    assert_eq!(update(&mut app, Action::ForceQuit), vec![Command::Quit]);
    assert!(update(&mut app, Action::MoveDown).is_empty());
}

#[test]
fn mouse_click_selects_and_wheel_scrolls() {
    let mut app = app();
    // Short enough that the detail overflows and can scroll.
    update(
        &mut app,
        Action::Resize {
            width: 120,
            height: 12,
        },
    );
    // Tree lines start at y=2 (title bar, border); line 7 of the tree is `slingshot`.
    update(
        &mut app,
        Action::Click {
            column: 5,
            row: 2 + 6,
        },
    );
    assert_eq!(selected_name(&app).as_deref(), Some("slingshot"));
    // A click in the detail pane focuses it.
    update(
        &mut app,
        Action::Click {
            column: 80,
            row: 10,
        },
    );
    assert_eq!(app.focus, Pane::Detail);
    update(
        &mut app,
        Action::Scroll {
            column: 80,
            row: 10,
            down: true,
        },
    );
    assert_eq!(app.detail_scroll, 3);
    update(
        &mut app,
        Action::Scroll {
            column: 80,
            row: 10,
            down: false,
        },
    );
    assert_eq!(app.detail_scroll, 0);
}

#[test]
fn tick_and_unhandled_clicks_do_not_redraw() {
    let mut app = app();
    app.dirty = false;
    update(&mut app, Action::Tick);
    assert!(!app.dirty);
    update(&mut app, Action::Click { column: 5, row: 0 }); // title bar
    assert!(!app.dirty);
    update(&mut app, Action::MoveDown);
    assert!(app.dirty);
}

#[test]
fn key_events_map_through_the_current_view() {
    let mut app = app();
    let key = |c: char| Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
    let to = atwb::tui::runtime::event_to_action;
    assert_eq!(to(&app, &key('j')), Some(Action::MoveDown));
    assert_eq!(to(&app, &key('?')), Some(Action::Help));
    assert_eq!(
        to(
            &app,
            &Event::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL))
        ),
        Some(Action::ForceQuit)
    );
    update(&mut app, Action::Search);
    assert_eq!(
        to(&app, &key('j')),
        Some(Action::SearchInput('j')),
        "typing, not moving"
    );
    assert_eq!(to(&app, &key('q')), Some(Action::SearchInput('q')));
    assert_eq!(
        to(
            &app,
            &Event::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE))
        ),
        Some(Action::SearchCancel)
    );
    assert_eq!(
        to(&app, &Event::Resize(90, 20)),
        Some(Action::Resize {
            width: 90,
            height: 20
        })
    );
}

fn keymap_from(toml: &str) -> anyhow::Result<KeyMap> {
    let config = Config::parse(toml)?;
    KeyMap::with_overrides(&config.keys, Path::new("/home/u/.config/atwb/config.toml"))
}

#[test]
fn keymap_override_rebinds_and_unbinds() {
    let km = keymap_from(
        "[keys.main]\n\"x\" = \"quit\"\n\"q\" = \"none\"\n\"ctrl-j\" = \"move_down\"\n",
    )
    .unwrap();
    assert_eq!(km.action(View::Main, &Key::char('x')), Some(Action::Quit));
    assert_eq!(km.action(View::Main, &Key::char('q')), None);
    assert_eq!(
        km.action(View::Main, &Key::parse("ctrl-j").unwrap()),
        Some(Action::MoveDown)
    );
    assert_eq!(
        km.action(View::Main, &Key::char('j')),
        Some(Action::MoveDown),
        "defaults kept"
    );
    // The help overlay and the status bar hints follow the override.
    let app = app_with(km);
    assert_eq!(
        app.keymap.hint(View::Main, Action::Quit).as_deref(),
        Some("x")
    );
    let help: Vec<String> = app.keymap.help_rows()[0]
        .1
        .iter()
        .filter(|(_, a)| *a == Action::Quit)
        .map(|(k, _)| k.clone())
        .collect();
    assert_eq!(help, ["x"]);
}

#[test]
fn bad_keymap_errors_name_file_key_and_fix() {
    let err = keymap_from("[keys.main]\n\"x\" = \"quit_now\"\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("/home/u/.config/atwb/config.toml"), "{err}");
    assert!(err.contains("[keys.main] \"x\" = \"quit_now\""), "{err}");
    assert!(err.contains("unknown action `quit_now`"), "{err}");
    assert!(err.contains("did you mean `quit`"), "{err}");
    assert!(err.contains("move_down"), "lists the known actions: {err}");

    let err = keymap_from("[keys.main]\n\"hyper-x\" = \"quit\"\n")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("\"hyper-x\"") && err.contains("is not a key"),
        "{err}"
    );

    let err = keymap_from("[keys.mian]\n\"x\" = \"quit\"\n")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("unknown view `mian`") && err.contains("[keys.main]"),
        "{err}"
    );

    // Runtime-only actions cannot be bound.
    assert!(keymap_from("[keys.main]\n\"x\" = \"tick\"\n").is_err());
}

#[test]
fn load_app_reports_a_bad_keymap_from_the_config_dir() {
    let home = tempfile::tempdir().unwrap();
    let cfg = home.path().join("config/atwb");
    std::fs::create_dir_all(&cfg).unwrap();
    std::fs::write(
        cfg.join("config.toml"),
        "[keys.main]\n\"x\" = \"explode\"\n",
    )
    .unwrap();
    // load_app reads the XDG config dir of this process; run it in a child to set the env safely.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_atwb"))
        .args(["--catalog"])
        .arg(fixture_root())
        .args(["debug", "first-frame"])
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("XDG_STATE_HOME", home.path().join("state"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("config.toml") && err.contains("unknown action `explode`"),
        "{err}"
    );
}

#[test]
fn invalid_packages_are_counted_in_the_status_bar() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixture_root(), dir.path());
    let bad = dir.path().join("pkgs/microcosm/broken");
    std::fs::create_dir_all(&bad).unwrap();
    std::fs::write(bad.join("package.toml"), "name = \"broken\"\ntier = 7\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_atwb"))
        .arg("--catalog")
        .arg(dir.path())
        .args([
            "debug",
            "first-frame",
            "--print",
            "--width",
            "120",
            "--height",
            "10",
        ])
        .env("XDG_CONFIG_HOME", dir.path().join("no-config"))
        .output()
        .unwrap();
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(screen.contains("7/7 shown"), "{screen}");
    assert!(screen.contains("⚠ 1 invalid (atwb check)"), "{screen}");
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn incremental_search_ranks_exactly_like_a_fresh_search() {
    // Typing narrows the previous matches (search::rank_among); the result must equal ranking
    // the whole catalog, including after backspace and a switch to case-sensitive (smart case).
    for query in ["relay", "pds", "miCro", "bsky social", "cnstl", "o", "goat"] {
        let mut app = app();
        update(&mut app, Action::Search);
        for c in query.chars() {
            update(&mut app, Action::SearchInput(c));
            let fresh: std::collections::HashMap<usize, i64> =
                atwb::search::rank(&app.catalog.packages, &app.filter.query)
                    .into_iter()
                    .collect();
            assert_eq!(app.scores, fresh, "after typing {:?}", app.filter.query);
        }
        update(&mut app, Action::SearchBackspace);
        if app.filter.query.is_empty() {
            assert!(
                app.scores.is_empty() && app.shown.len() == 7,
                "empty query shows everything"
            );
            continue;
        }
        let fresh: std::collections::HashMap<usize, i64> =
            atwb::search::rank(&app.catalog.packages, &app.filter.query)
                .into_iter()
                .collect();
        assert_eq!(app.scores, fresh, "after backspace");
    }
}
