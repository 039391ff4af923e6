//! Headless tests of the TUI: drive `update` with `Action`s against the fixture catalog and check
//! the state (no terminal involved).

mod common;

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
    assert_eq!(
        update(&mut app, Action::ForceQuit),
        vec![Command::CancelAll, Command::Quit]
    );
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
        "[jobs]\nmax_parallel = 1\n\n[keys.main]\n\"x\" = \"explode\"\n",
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
        err.contains("config.toml:5:") && err.contains("unknown action `explode`"),
        "{err}"
    );
}

#[test]
fn invalid_packages_are_counted_in_the_status_bar() {
    let dir = tempfile::tempdir().unwrap();
    common::copy_dir(&fixture_root(), dir.path());
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
    assert!(screen.contains("⚠ 1 invalid (! problems)"), "{screen}");
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

// ---- Builds, jobs, logs: fabricated engine events and status records drive the
// pure update; the runtime and real nix are covered by tests/e2e_tmux.rs.

mod jobs {
    use std::path::PathBuf;
    use std::time::Duration;

    use atwb::jobs::logpage::{LogLine, LogPage, LogRange};
    use atwb::jobs::spec::FailureSummary;
    use atwb::jobs::{
        JobEvent, JobId, JobKind, JobResult, JobSpec, Outcome, PackageStatus, Progress, RunRecord,
    };
    use atwb::nix::classify::{ErrorClass, Failure};
    use atwb::nix::command::Installable;
    use atwb::tui::action::{Feedback, LogSource};
    use atwb::tui::app::{Hardening, OnYes, Overlay, PackageStatus as Glyph, Row};
    use atwb::tui::keymap::View;
    use atwb::tui::update::{on_feedback, on_job_event};
    use atwb::tui::{Action, App, Command, update};

    use super::{app, selected_name};

    fn select(app: &mut App, name: &str) {
        app.selected = app
            .rows
            .iter()
            .position(|r| matches!(r, Row::Package { index } if app.catalog.packages[*index].name == name))
            .unwrap();
    }

    fn index_of(app: &App, name: &str) -> usize {
        app.catalog
            .packages
            .iter()
            .position(|p| p.name == name)
            .unwrap()
    }

    pub fn spec(pkg: &str) -> JobSpec {
        JobSpec::build(
            pkg,
            Installable::new("path:/flake", format!("packages.x86_64-linux.{pkg}")),
        )
    }

    fn mismatch() -> Failure {
        Failure {
            class: ErrorClass::HashMismatch {
                drv: "/nix/store/00000000000000000000000000000000-source.drv".into(),
                specified: "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".into(),
                got: "sha256-3q2+7w3q2+7w3q2+7w3q2+7w3q2+7w3q2+7w3q0=".into(),
                confirmed: true,
            },
            first_line: "error: hash mismatch in fixed-output derivation".into(),
        }
    }

    pub fn finished(
        id: u64,
        spec: JobSpec,
        outcome: Outcome,
        failure: Option<Failure>,
    ) -> JobEvent {
        JobEvent::Finished(Box::new(JobResult {
            id: JobId(id),
            spec,
            outcome,
            failure,
            exit_code: Some(i32::from(outcome != Outcome::Ok)),
            duration: Duration::from_millis(2500),
            started_at: 1_000,
            drv_path: None,
            out_paths: Vec::new(),
            log_file: Some(PathBuf::from(format!("/state/logs/job{id}.log"))),
            value: None,
            tree: atwb::jobs::interpret::TreeReport::default(),
        }))
    }

    pub fn record(outcome: Outcome, secs: f64, failure: Option<FailureSummary>) -> RunRecord {
        RunRecord {
            kind: JobKind::Build,
            target: "packages.x86_64-linux.pds".into(),
            outcome,
            failure,
            duration_secs: secs,
            finished_at: 1_000,
            drv_path: None,
            out_paths: Vec::new(),
            log_file: Some(PathBuf::from("/state/logs/pds.log")),
            fingerprint: None,
        }
    }

    pub fn status(history: Vec<RunRecord>, stale: bool) -> PackageStatus {
        let last = history.last().unwrap().clone();
        PackageStatus {
            last_build: Some(last.clone()),
            last,
            stale,
            history,
            cached_in: None,
        }
    }

    /// A bulk action: it asks first (nothing starts), then yes starts it.
    fn confirmed(app: &mut App, action: Action) -> Vec<Command> {
        assert!(update(app, action).is_empty(), "{action:?} asks first");
        assert!(matches!(app.overlays.last(), Some(Overlay::Confirm { .. })));
        update(app, Action::Confirm)
    }

    fn confirm_message(app: &App) -> String {
        match app.overlays.last() {
            Some(Overlay::Confirm { message, .. }) => message.clone(),
            other => panic!("no confirm dialog: {other:?}"),
        }
    }

    #[test]
    fn bulk_builds_ask_with_the_count_and_an_estimate_from_history() {
        let mut a = app();
        // pds: median of its ok builds 60 s (a failure does not count); goat: 9 min.
        a.statuses.insert(
            "pds".into(),
            status(
                vec![
                    record(Outcome::Ok, 50.0, None),
                    record(Outcome::Failed, 900.0, None),
                    record(Outcome::Ok, 60.0, None),
                    record(Outcome::Ok, 70.0, None),
                ],
                false,
            ),
        );
        a.statuses.insert(
            "goat".into(),
            status(vec![record(Outcome::Ok, 540.0, None)], false),
        );
        update(&mut a, Action::BuildAll);
        assert_eq!(
            confirm_message(&a),
            "Build 7 packages? about 10 min; 5 never built"
        );
        // No: nothing starts.
        assert!(update(&mut a, Action::CloseOverlay).is_empty());
        assert!(a.overlays.is_empty() && a.batch.is_none());
        // A tier line asks too; one package does not.
        a.selected = 0;
        update(&mut a, Action::Build);
        assert!(confirm_message(&a).starts_with("Build 4 packages? about 10 min; 2 never built"));
        update(&mut a, Action::CloseOverlay);
        select(&mut a, "pds");
        assert_eq!(update(&mut a, Action::Build).len(), 1);
        assert!(a.overlays.is_empty());
        // Nothing known at all.
        a.statuses.clear();
        update(&mut a, Action::BuildShown);
        assert_eq!(
            confirm_message(&a),
            "Build 7 packages? no build time known: none built before"
        );
    }

    #[test]
    fn a_batch_ends_with_one_summary_notice() {
        let mut a = app();
        a.selected = 0;
        let Command::Build { packages, .. } = confirmed(&mut a, Action::Build).remove(0) else {
            panic!()
        };
        assert_eq!(packages.len(), 4);
        let outcomes = [
            Outcome::Failed,
            Outcome::Ok,
            Outcome::Failed,
            Outcome::Cancelled,
        ];
        for (i, (p, o)) in packages.iter().zip(outcomes).enumerate() {
            let id = i as u64 + 1;
            start(&mut a, id, p);
            // A job outside the batch (a test run of the same package) is not counted.
            on_job_event(
                &mut a,
                finished(
                    100 + id,
                    JobSpec::eval(p.as_str(), Installable::new("path:/flake", "x")),
                    Outcome::Ok,
                    None,
                ),
            );
            on_job_event(&mut a, finished(id, spec(p), o, None));
            let text = a.notice.as_ref().unwrap().text.clone();
            if i + 1 < packages.len() {
                assert!(!text.contains("4 builds"), "{text}");
                assert!(a.batch.is_some());
            } else {
                assert_eq!(text, "4 builds: 1 ok, 2 failed, 1 cancelled");
                assert!(a.notice.as_ref().unwrap().error);
                assert!(a.batch.is_none());
            }
        }
    }

    #[test]
    fn jobs_view_hides_and_clears_finished_jobs_but_keeps_running_ones() {
        let mut a = app();
        start(&mut a, 1, "pds");
        start(&mut a, 2, "goat");
        on_job_event(&mut a, finished(2, spec("goat"), Outcome::Failed, None));
        start(&mut a, 3, "leaflet");
        on_job_event(&mut a, finished(3, spec("leaflet"), Outcome::Ok, None));
        update(&mut a, Action::Jobs);
        let listed = |a: &App| a.jobs.listed().iter().map(|j| j.id.0).collect::<Vec<_>>();
        assert_eq!(listed(&a), [1, 3, 2]);
        update(&mut a, Action::ToggleHideFinished);
        assert_eq!(listed(&a), [1]);
        assert_eq!(a.jobs.jobs.len(), 3, "hidden, not forgotten");
        // The selection moves over what is listed: the only row is the running job.
        update(&mut a, Action::Bottom);
        assert_eq!(
            update(&mut a, Action::CancelJob),
            vec![Command::Cancel(JobId(1))]
        );
        update(&mut a, Action::ToggleHideFinished);
        assert_eq!(listed(&a), [1, 3, 2]);
        update(&mut a, Action::ClearFinished);
        assert_eq!(listed(&a), [1]);
        assert_eq!(a.jobs.jobs.len(), 1);
        assert_eq!(a.notice.as_ref().unwrap().text, "cleared 2 finished job(s)");
        // The keys are bound in the jobs view.
        let keys = atwb::tui::KeyMap::default();
        for (key, want) in [
            ("H", Action::ToggleHideFinished),
            ("X", Action::ClearFinished),
        ] {
            let k = atwb::tui::keymap::Key::parse(key).unwrap();
            assert_eq!(keys.action(View::Jobs, &k), Some(want), "{key}");
        }
    }

    fn start(app: &mut App, id: u64, pkg: &str) {
        on_job_event(
            app,
            JobEvent::Queued {
                id: JobId(id),
                spec: spec(pkg),
            },
        );
        on_job_event(
            app,
            JobEvent::Started {
                id: JobId(id),
                pid: 4242,
                command: "nix build".into(),
                log_file: PathBuf::from(format!("/state/logs/job{id}.log")),
            },
        );
    }

    #[test]
    fn b_builds_the_selection_and_b_upper_everything_shown() {
        let mut a = app();
        select(&mut a, "pds");
        assert_eq!(
            update(&mut a, Action::Build),
            vec![Command::Build {
                packages: vec!["pds".into()],
                tests: false
            }]
        );
        // On a tier line: every package shown in that tier.
        a.selected = 0;
        let Command::Build { packages, .. } = confirmed(&mut a, Action::Build).remove(0) else {
            panic!()
        };
        assert_eq!(packages, ["goat", "pds", "constellation", "slingshot"]);
        // B builds what the filter shows.
        update(&mut a, Action::FilterTier2);
        let Command::Build { packages, .. } = confirmed(&mut a, Action::BuildShown).remove(0)
        else {
            panic!()
        };
        assert_eq!(packages, ["rsky-relay", "leaflet"]);
        select(&mut a, "leaflet");
        assert_eq!(
            update(&mut a, Action::Test),
            vec![Command::Build {
                packages: vec!["leaflet".into()],
                tests: true
            }]
        );
    }

    #[test]
    fn job_events_drive_glyphs_strip_counts_and_refresh() {
        let mut a = app();
        let pds = index_of(&a, "pds");
        assert_eq!(a.status(pds), Glyph::NeverBuilt);
        assert!(atwb::tui::layout::areas(&a).jobs.is_none());
        start(&mut a, 1, "pds");
        assert_eq!(a.status(pds), Glyph::Building);
        assert!(
            atwb::tui::layout::areas(&a).jobs.is_some(),
            "jobs strip shown"
        );
        assert!(a.status_counts().contains(&(Glyph::Building, 1)));
        a.dirty = false;
        update(&mut a, Action::Tick);
        assert!(a.dirty, "ticks redraw while a job runs (spinner, elapsed)");
        on_job_event(
            &mut a,
            JobEvent::Progress {
                id: JobId(1),
                progress: Progress {
                    done: 1,
                    expected: 3,
                    running: 1,
                    failed: 0,
                },
                phase: Some("buildPhase".into()),
            },
        );
        assert_eq!(a.jobs.jobs[&JobId(1)].state_text(), "buildPhase");
        let cmds = on_job_event(
            &mut a,
            finished(1, spec("pds"), Outcome::Failed, Some(mismatch())),
        );
        assert_eq!(cmds, vec![Command::RefreshStatus(vec!["pds".into()])]);
        assert!(atwb::tui::layout::areas(&a).jobs.is_none(), "strip gone");
        let n = a.notice.clone().unwrap();
        assert!(
            n.error && n.text.contains("hash mismatch") && n.text.contains("f fixes it"),
            "{n:?}"
        );
        a.dirty = false;
        update(&mut a, Action::Tick);
        assert!(!a.dirty, "no redraw on tick once idle");
        // A frame still pending (deferred by the runtime's frame budget) survives a tick: the
        // tick must not cancel the frame that shows the job finished.
        on_job_event(
            &mut a,
            JobEvent::Queued {
                id: JobId(2),
                spec: spec("goat"),
            },
        );
        on_job_event(&mut a, finished(2, spec("goat"), Outcome::Ok, None));
        assert!(a.dirty);
        update(&mut a, Action::Tick);
        assert!(a.dirty, "the finished job is still drawn");
        // The refreshed store record decides the glyph now.
        let fs = FailureSummary::from(&mismatch());
        on_feedback(
            &mut a,
            Feedback::Statuses(
                [(
                    "pds".to_string(),
                    status(vec![record(Outcome::Failed, 2.5, Some(fs))], false),
                )]
                .into(),
            ),
        );
        assert_eq!(a.status(pds), Glyph::Failed);
        on_feedback(
            &mut a,
            Feedback::Statuses(
                [(
                    "goat".to_string(),
                    status(vec![record(Outcome::Ok, 1.0, None)], true),
                )]
                .into(),
            ),
        );
        assert_eq!(a.status(index_of(&a, "goat")), Glyph::Stale);
    }

    #[test]
    fn f_fixes_a_hash_mismatch_then_offers_a_rebuild() {
        let mut a = app();
        select(&mut a, "pds");
        assert!(
            update(&mut a, Action::FixHash).is_empty(),
            "nothing to fix yet"
        );
        assert!(a.notice.as_ref().unwrap().error);
        let fs = FailureSummary::from(&mismatch());
        on_feedback(
            &mut a,
            Feedback::Statuses(
                [(
                    "pds".to_string(),
                    status(vec![record(Outcome::Failed, 2.0, Some(fs.clone()))], false),
                )]
                .into(),
            ),
        );
        assert_eq!(
            update(&mut a, Action::FixHash),
            vec![Command::FixHash {
                package: "pds".into(),
                failure: fs.clone()
            }]
        );
        on_feedback(
            &mut a,
            Feedback::HashFixed {
                package: "pds".into(),
                result: Ok(atwb::catalog::edit::FixReport {
                    field: atwb::catalog::edit::HashField::SourceHash,
                    old: fs.hash_mismatch.as_ref().unwrap().specified.clone(),
                    new: fs.hash_mismatch.as_ref().unwrap().got.clone(),
                    files: vec![PathBuf::from(
                        "catalog/pkgs/bluesky-social/pds/package.toml",
                    )],
                }),
            },
        );
        assert_eq!(a.view(), View::Confirm);
        assert!(
            matches!(a.overlays.last(), Some(Overlay::Confirm { on_yes: OnYes::Rebuild(p), .. }) if p == &["pds"])
        );
        assert_eq!(
            update(&mut a, Action::Confirm),
            vec![Command::Build {
                packages: vec!["pds".into()],
                tests: false
            }]
        );
        assert!(a.overlays.is_empty());
        // A failure that is not a mismatch is refused with a reason.
        let other = FailureSummary {
            class: "builder_failed".into(),
            first_line: "x".into(),
            hash_mismatch: None,
            hint: None,
        };
        on_feedback(
            &mut a,
            Feedback::Statuses(
                [(
                    "pds".to_string(),
                    status(vec![record(Outcome::Failed, 2.0, Some(other))], false),
                )]
                .into(),
            ),
        );
        assert!(update(&mut a, Action::FixHash).is_empty());
        assert!(a.notice.as_ref().unwrap().text.contains("builder failed"));
    }

    #[test]
    fn q_asks_while_jobs_run_and_ctrl_c_cancels_then_quits() {
        let mut a = app();
        start(&mut a, 1, "pds");
        assert!(update(&mut a, Action::Quit).is_empty(), "asks first");
        assert_eq!(a.view(), View::Confirm);
        update(&mut a, Action::CloseOverlay);
        assert!(a.overlays.is_empty(), "n / esc keeps running");
        update(&mut a, Action::Quit);
        assert_eq!(
            update(&mut a, Action::Confirm),
            vec![Command::CancelAll, Command::Quit]
        );
        assert_eq!(
            update(&mut a, Action::ForceQuit),
            vec![Command::CancelAll, Command::Quit]
        );
    }

    fn lines(n: usize) -> Vec<LogLine> {
        (0..n)
            .map(|i| LogLine::new(format!("line {i}"), None))
            .collect()
    }

    fn log_view(a: &mut App) -> &mut atwb::tui::logview::LogView {
        a.log_view_mut().expect("log view on top")
    }

    #[test]
    #[allow(clippy::too_many_lines)] // one scenario, step by step
    fn l_opens_a_live_log_that_follows_and_pages_back() {
        let mut a = app();
        select(&mut a, "pds");
        assert!(update(&mut a, Action::OpenLog).is_empty(), "no log yet");
        start(&mut a, 7, "pds");
        let cmds = update(&mut a, Action::OpenLog);
        let source = LogSource::Job {
            id: JobId(7),
            log_file: Some(PathBuf::from("/state/logs/job7.log")),
        };
        assert_eq!(
            cmds,
            vec![Command::LoadLog {
                source: source.clone(),
                range: LogRange::Tail
            }]
        );
        assert_eq!(a.view(), View::Log);
        // The seed: lines 3000..3100 of the log (older ones on disk), then live events.
        on_feedback(
            &mut a,
            Feedback::LogPage {
                source: source.clone(),
                page: Ok(LogPage {
                    first: 3000,
                    lines: lines(100),
                    total: 3100,
                    at_tail: true,
                    raw_total: 5000,
                    ..Default::default()
                }),
            },
        );
        on_job_event(
            &mut a,
            JobEvent::Log {
                id: JobId(7),
                line_no: 4999,
                drv: None,
                text: "old".into(),
            },
        );
        on_job_event(
            &mut a,
            JobEvent::Log {
                id: JobId(7),
                line_no: 5000,
                drv: None,
                text: "new".into(),
            },
        );
        let v = log_view(&mut a);
        assert_eq!(
            (v.total, v.lines.back().unwrap().text.as_str()),
            (3101, "new"),
            "seeded lines are not doubled"
        );
        assert!(v.follow && v.live);
        // Scrolling up leaves follow mode; at the top of the window the older page is asked for.
        update(&mut a, Action::MoveUp);
        assert!(!log_view(&mut a).follow);
        update(&mut a, Action::Top);
        let cmds = update(&mut a, Action::MoveUp);
        assert!(cmds.is_empty(), "g already asked for the head");
        assert!(log_view(&mut a).loading);
        log_view(&mut a).loading = false;
        assert_eq!(
            update(&mut a, Action::MoveUp),
            vec![Command::LoadLog {
                source: source.clone(),
                range: LogRange::Before(3000)
            }]
        );
        on_feedback(
            &mut a,
            Feedback::LogPage {
                source: source.clone(),
                page: Ok(LogPage {
                    first: 1000,
                    lines: lines(2000),
                    total: 3101,
                    ..Default::default()
                }),
            },
        );
        let v = log_view(&mut a);
        assert_eq!((v.first, v.lines.len()), (1000, 2101));
        // G follows again; c cancels the live job from the log.
        update(&mut a, Action::Bottom);
        assert!(log_view(&mut a).follow);
        assert_eq!(
            update(&mut a, Action::CancelJob),
            vec![Command::Cancel(JobId(7))]
        );
        // The job ends: the view stops being live and shows the outcome.
        on_job_event(&mut a, finished(7, spec("pds"), Outcome::Ok, None));
        let v = log_view(&mut a);
        assert!(!v.live);
        assert_eq!(v.outcome, Some(Outcome::Ok));
        // Lines of a job whose log is not on top do not redraw.
        update(&mut a, Action::CloseOverlay);
        start(&mut a, 8, "goat");
        a.dirty = false;
        on_job_event(
            &mut a,
            JobEvent::Log {
                id: JobId(8),
                line_no: 0,
                drv: None,
                text: "x".into(),
            },
        );
        assert!(!a.dirty);
    }

    #[test]
    fn log_search_error_jump_drv_filter_wrap_and_save() {
        let mut a = app();
        start(&mut a, 1, "pds");
        select(&mut a, "pds");
        update(&mut a, Action::OpenLog);
        let drv_a = "/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-a.drv".to_string();
        let drv_b = "/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-b.drv".to_string();
        let page = LogPage {
            lines: vec![
                LogLine::new("compiling foo", Some(drv_a.clone())),
                LogLine::new(
                    "\x1b[31;1merror:\x1b[0m linking failed",
                    Some(drv_b.clone()),
                ),
                LogLine::new("FOO again", Some(drv_a.clone())),
                LogLine::new("done", None),
            ],
            total: 4,
            drvs: vec![drv_a.clone(), drv_b.clone()],
            at_tail: true,
            ..Default::default()
        };
        let source = log_view(&mut a).source.clone();
        on_feedback(
            &mut a,
            Feedback::LogPage {
                source: source.clone(),
                page: Ok(page),
            },
        );
        update(&mut a, Action::Search);
        assert_eq!(a.view(), View::Search, "typing goes to the query");
        for c in "foo".chars() {
            update(&mut a, Action::SearchInput(c));
        }
        update(&mut a, Action::SearchConfirm);
        assert_eq!(a.view(), View::Log);
        assert_eq!(log_view(&mut a).current, Some(0));
        update(&mut a, Action::SearchNext);
        assert_eq!(log_view(&mut a).current, Some(2), "case-insensitive");
        update(&mut a, Action::SearchNext);
        assert_eq!(log_view(&mut a).current, Some(0), "wraps");
        update(&mut a, Action::SearchPrev);
        assert_eq!(log_view(&mut a).current, Some(2));
        update(&mut a, Action::FirstError);
        assert_eq!(
            log_view(&mut a).current,
            Some(1),
            "ANSI is ignored when looking for error:"
        );
        update(&mut a, Action::CycleDrv);
        assert_eq!(log_view(&mut a).visible(), vec![0, 2]);
        update(&mut a, Action::CycleDrv);
        assert_eq!(log_view(&mut a).visible(), vec![1]);
        update(&mut a, Action::CycleDrv);
        assert_eq!(log_view(&mut a).visible().len(), 4, "then all again");
        update(&mut a, Action::ToggleWrap);
        assert!(log_view(&mut a).wrap);
        assert_eq!(
            update(&mut a, Action::SaveLog),
            vec![Command::SaveLog {
                source: source.clone(),
                name: "pds".into()
            }]
        );
        on_feedback(
            &mut a,
            Feedback::LogSaved {
                source,
                result: Ok(PathBuf::from("/state/saved-logs/pds-1.log")),
            },
        );
        assert!(
            log_view(&mut a)
                .message
                .as_deref()
                .unwrap()
                .contains("/state/saved-logs/pds-1.log")
        );
    }

    #[test]
    fn jobs_view_cancels_reruns_and_builds_all() {
        let mut a = app();
        start(&mut a, 1, "pds");
        on_job_event(
            &mut a,
            JobEvent::Queued {
                id: JobId(2),
                spec: spec("goat"),
            },
        );
        on_job_event(
            &mut a,
            JobEvent::Queued {
                id: JobId(3),
                spec: spec("leaflet"),
            },
        );
        on_job_event(&mut a, finished(3, spec("leaflet"), Outcome::Failed, None));
        on_job_event(
            &mut a,
            JobEvent::Queued {
                id: JobId(4),
                spec: spec("slingshot"),
            },
        );
        on_job_event(&mut a, finished(4, spec("slingshot"), Outcome::Ok, None));
        update(&mut a, Action::Jobs);
        assert_eq!(a.view(), View::Jobs);
        // Order: running, queued, then finished newest first.
        let order: Vec<u64> = a.jobs.ordered().iter().map(|j| j.id.0).collect();
        assert_eq!(order, [1, 2, 4, 3]);
        assert_eq!(
            update(&mut a, Action::CancelJob),
            vec![Command::Cancel(JobId(1))]
        );
        update(&mut a, Action::Bottom);
        assert_eq!(
            update(&mut a, Action::RerunJob),
            vec![Command::Submit(vec![spec("leaflet")])]
        );
        assert_eq!(
            update(&mut a, Action::RerunFailed),
            vec![Command::Submit(vec![spec("leaflet")])]
        );
        assert!(
            update(&mut a, Action::CancelJob).is_empty(),
            "finished jobs cannot be cancelled"
        );
        let Command::Build {
            packages,
            tests: false,
        } = confirmed(&mut a, Action::BuildAll).remove(0)
        else {
            panic!()
        };
        assert_eq!(packages.len(), 7);
        assert!(matches!(
            update(&mut a, Action::OpenLog).as_slice(),
            [Command::LoadLog {
                range: LogRange::Tail,
                ..
            }]
        ));
        assert_eq!(a.view(), View::Log);
    }

    #[test]
    fn enter_opens_a_log_only_when_there_is_one_and_e_edits() {
        let mut a = app();
        select(&mut a, "pds");
        assert!(update(&mut a, Action::OpenLogOrToggle).is_empty());
        assert!(a.overlays.is_empty(), "no log: Enter focuses the detail");
        assert_eq!(a.focus, atwb::tui::app::Pane::Detail);
        update(&mut a, Action::Collapse);
        on_feedback(
            &mut a,
            Feedback::Statuses(
                [(
                    "pds".to_string(),
                    status(vec![record(Outcome::Ok, 2.0, None)], false),
                )]
                .into(),
            ),
        );
        assert_eq!(
            update(&mut a, Action::OpenLogOrToggle),
            vec![Command::LoadLog {
                source: LogSource::File(PathBuf::from("/state/logs/pds.log")),
                range: LogRange::Tail
            }]
        );
        update(&mut a, Action::CloseOverlay);
        let cmds = update(&mut a, Action::OpenEditor);
        let [
            Command::OpenEditor {
                file: path,
                line: None,
            },
        ] = cmds.as_slice()
        else {
            panic!("{cmds:?}")
        };
        assert!(
            path.ends_with("bluesky-social/pds/package.toml"),
            "{path:?}"
        );
        assert_eq!(selected_name(&a).as_deref(), Some("pds"));
    }

    #[test]
    fn o_prompts_for_a_saved_log_file() {
        let mut a = app();
        update(&mut a, Action::OpenLogFile);
        assert_eq!(a.view(), View::Search, "the prompt takes typed text");
        for c in "ci.log".chars() {
            update(&mut a, Action::SearchInput(c));
        }
        let cmds = update(&mut a, Action::SearchConfirm);
        assert_eq!(
            cmds,
            vec![Command::LoadLog {
                source: LogSource::File(PathBuf::from("ci.log")),
                range: LogRange::Tail
            }]
        );
        assert_eq!(a.view(), View::Log);
        let source = LogSource::File(PathBuf::from("ci.log"));
        on_feedback(
            &mut a,
            Feedback::LogPage {
                source,
                page: Err("ci.log: No such file or directory".into()),
            },
        );
        assert!(
            log_view(&mut a)
                .message
                .as_deref()
                .unwrap()
                .contains("No such file")
        );
    }

    #[test]
    fn hardening_scores_show_pending_then_score_or_na() {
        let mut a = app();
        // Nothing is evaluated at start-up: the score waits for `H`.
        assert_eq!(a.hardening_text("pds"), "not scored (H)");
        assert_eq!(
            a.keymap
                .action(View::Main, &atwb::tui::keymap::Key::char('H')),
            Some(Action::ScoreHardening)
        );
        assert_eq!(
            update(&mut a, Action::ScoreHardening),
            [Command::ScoreHardening]
        );
        assert_eq!(a.hardening_text("pds"), "…");
        // Asked again while it runs: no second evaluation.
        assert_eq!(update(&mut a, Action::ScoreHardening), []);
        on_feedback(
            &mut a,
            Feedback::Hardening(Hardening::Scores([("pds".to_string(), Ok(1.9f32))].into())),
        );
        assert_eq!(a.hardening_text("pds"), "1.9");
        assert_eq!(a.hardening_text("constellation"), "n/a");
        on_feedback(
            &mut a,
            Feedback::Hardening(Hardening::Unavailable("nix not installed".into())),
        );
        assert_eq!(a.hardening_text("pds"), "n/a");
    }
}
