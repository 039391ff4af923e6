//! Snapshot tests of the views on `TestBackend`, against `tests/fixtures/tui-catalog`.
//! Update after an intended change with `INSTA_UPDATE=always cargo test --lib tui::tests`.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Modifier;

use super::action::Action;
use super::app::{App, Row};
use super::keymap::KeyMap;
use super::update::update;
use super::views;

pub(super) fn fixture_app(width: u16, height: u16) -> App {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tui-catalog");
    let loaded = crate::catalog::load(&root).expect("fixture catalog loads");
    assert!(
        loaded.diagnostics.is_empty(),
        "fixture must be valid: {:?}",
        loaded.diagnostics
    );
    let mut app = App::new(
        loaded.catalog,
        "tests/fixtures/tui-catalog/".into(),
        0,
        KeyMap::default(),
    );
    // As after the runtime read an empty status store (no "reading…" placeholders).
    app.statuses_loaded = true;
    update(&mut app, Action::Resize { width, height });
    app
}

pub(super) fn render(app: &App) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(app.width, app.height)).unwrap();
    t.draw(|f| views::draw(f, app)).unwrap();
    t
}

pub(super) fn select(app: &mut App, name: &str) {
    let pos = app
        .rows
        .iter()
        .position(
            |r| matches!(r, Row::Package { index } if app.catalog.packages[*index].name == name),
        )
        .unwrap_or_else(|| panic!("{name} is not in the tree"));
    app.selected = pos;
}

#[test]
fn main_screen() {
    let app = fixture_app(120, 30);
    insta::assert_snapshot!(render(&app).backend());
}

#[test]
fn search_highlights_matched_characters() {
    let mut app = fixture_app(120, 30);
    update(&mut app, Action::Search);
    for c in "cnstl".chars() {
        update(&mut app, Action::SearchInput(c));
    }
    let t = render(&app);
    insta::assert_snapshot!(t.backend());

    // The tree line `◌ constellation` highlights c, n, s, t, l of the name.
    let buf = t.backend().buffer();
    let y = (0..app.height)
        .find(|&y| row_text(buf, y).contains("◌ constellation"))
        .unwrap();
    let line = row_text(buf, y);
    let x0 = line.chars().position(|c| c == '◌').unwrap() as u16 + 2;
    let hl: String = (0..13u16)
        .filter(|&i| buf[(x0 + i, y)].modifier.contains(Modifier::UNDERLINED))
        .map(|i| buf[(x0 + i, y)].symbol().to_owned())
        .collect();
    assert_eq!(hl, "cnstl", "highlighted characters of the tree line");
    // `slingshot` matches nothing and is hidden.
    assert!(!(0..app.height).any(|y| row_text(buf, y).contains("slingshot")));
}

#[test]
fn help_overlay() {
    let mut app = fixture_app(100, 44);
    update(&mut app, Action::Help);
    insta::assert_snapshot!(render(&app).backend());
}

#[test]
fn detail_of_package_with_services_and_options() {
    let mut app = fixture_app(120, 40);
    select(&mut app, "pds");
    insta::assert_snapshot!(render(&app).backend());
}

#[test]
fn detail_of_workspace_member_with_two_options() {
    let mut app = fixture_app(120, 40);
    select(&mut app, "constellation");
    insta::assert_snapshot!(render(&app).backend());
}

#[test]
fn narrow_terminal_shows_one_pane() {
    let mut app = fixture_app(50, 16);
    insta::assert_snapshot!("narrow_tree", render(&app).backend());
    update(&mut app, Action::NextPane);
    insta::assert_snapshot!("narrow_detail", render(&app).backend());
}

#[test]
fn tier_and_category_filters_in_title_and_status() {
    let mut app = fixture_app(100, 16);
    update(&mut app, Action::FilterTier1);
    update(&mut app, Action::CycleCategory); // infrastructure
    insta::assert_snapshot!(render(&app).backend());
}

fn row_text(buf: &ratatui::buffer::Buffer, y: u16) -> String {
    (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect()
}

#[test]
fn detail_scrolls_exactly_to_its_last_wrapped_line() {
    // Narrow enough that the long lines wrap; Bottom must land with `cache` (after `status`) as
    // the last line.
    let mut app = fixture_app(80, 12);
    select(&mut app, "pds");
    update(&mut app, Action::NextPane);
    update(&mut app, Action::Bottom);
    let t = render(&app);
    let buf = t.backend().buffer();
    let last_inner_row = app.height - 3; // title bar, bottom border, status bar
    assert!(
        row_text(buf, last_inner_row).contains("cache     unknown"),
        "{}",
        t.backend()
    );
    update(&mut app, Action::MoveDown);
    assert_eq!(
        render(&app).backend().buffer(),
        buf,
        "already at the bottom"
    );
}

// ---- Build status, jobs and logs. Engine events and status records are fabricated;
// the clock is fixed, so elapsed times are stable.

pub(super) mod builds {
    use std::path::PathBuf;
    use std::time::Duration;

    use super::{fixture_app, render, select};
    use crate::jobs::logpage::LogRange;
    use crate::jobs::spec::FailureSummary;
    use crate::jobs::{
        JobEvent, JobId, JobKind, JobResult, JobSpec, Outcome, PackageStatus, Progress, RunRecord,
    };
    use crate::nix::classify::{ErrorClass, Failure};
    use crate::nix::command::Installable;
    use crate::tui::action::{Action, Feedback, LogSource};
    use crate::tui::app::App;
    use crate::tui::update::{on_feedback, on_job_event, update};

    fn spec(pkg: &str) -> JobSpec {
        JobSpec::build(
            pkg,
            Installable::new("path:/flake", format!("packages.x86_64-linux.{pkg}")),
        )
    }

    fn run(outcome: Outcome, secs: f64, failure: Option<FailureSummary>) -> RunRecord {
        RunRecord {
            kind: JobKind::Build,
            target: "packages.x86_64-linux.x".into(),
            outcome,
            failure,
            duration_secs: secs,
            finished_at: 10_000,
            drv_path: None,
            out_paths: Vec::new(),
            log_file: Some(PathBuf::from("/state/logs/x.log")),
            fingerprint: None,
        }
    }

    fn mismatch() -> FailureSummary {
        FailureSummary::from(&Failure {
            class: ErrorClass::HashMismatch {
                drv: "/nix/store/00000000000000000000000000000000-source.drv".into(),
                specified: "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".into(),
                got: "sha256-3q2+7w3q2+7w3q2+7w3q2+7w3q2+7w3q2+7w3q0=".into(),
                confirmed: true,
            },
            first_line: "error: hash mismatch in fixed-output derivation".into(),
        })
    }

    fn set_status(app: &mut App, name: &str, history: Vec<RunRecord>, stale: bool) {
        let last = history.last().unwrap().clone();
        let s = PackageStatus {
            last_build: Some(last.clone()),
            last,
            stale,
            history,
            cached_in: None,
        };
        on_feedback(app, Feedback::Statuses([(name.to_string(), s)].into()));
    }

    /// An app with statuses for most packages, two running jobs and one queued, at a fixed clock.
    pub(in crate::tui) fn busy_app(width: u16, height: u16) -> App {
        let mut app = fixture_app(width, height);
        app.unix_now = 10_300;
        set_status(
            &mut app,
            "pds",
            vec![
                run(Outcome::Ok, 40.0, None),
                run(Outcome::Ok, 52.0, None),
                run(Outcome::Failed, 3.0, None),
                run(Outcome::Ok, 47.5, None),
                run(Outcome::Failed, 12.0, Some(mismatch())),
            ],
            false,
        );
        set_status(&mut app, "goat", vec![run(Outcome::Ok, 8.0, None)], false);
        set_status(
            &mut app,
            "constellation",
            vec![run(Outcome::Ok, 95.0, None)],
            true,
        );
        set_status(
            &mut app,
            "leaflet",
            vec![run(Outcome::Cancelled, 5.0, None)],
            false,
        );
        let base = app.now;
        for (id, pkg) in [(1, "slingshot"), (2, "rsky-relay"), (3, "pds-dash")] {
            on_job_event(
                &mut app,
                JobEvent::Queued {
                    id: JobId(id),
                    spec: spec(pkg),
                },
            );
        }
        for id in [1, 2] {
            on_job_event(
                &mut app,
                JobEvent::Started {
                    id: JobId(id),
                    pid: 100 + id as u32,
                    command: "nix build".into(),
                    log_file: PathBuf::from(format!("/state/logs/{id}.log")),
                },
            );
        }
        on_job_event(
            &mut app,
            JobEvent::Progress {
                id: JobId(1),
                progress: Progress {
                    done: 2,
                    expected: 5,
                    running: 1,
                    failed: 0,
                },
                phase: Some("buildPhase".into()),
            },
        );
        app.now = base + Duration::from_millis(12_400);
        update(&mut app, Action::Resize { width, height });
        app
    }

    #[test]
    fn tree_with_status_glyphs_counts_and_jobs_strip() {
        let app = busy_app(120, 30);
        insta::assert_snapshot!(render(&app).backend());
    }

    #[test]
    fn detail_with_status_and_sparkline() {
        let mut app = busy_app(120, 30);
        select(&mut app, "pds");
        update(&mut app, Action::NextPane);
        update(&mut app, Action::Bottom);
        insta::assert_snapshot!(render(&app).backend());
    }

    #[test]
    fn jobs_view() {
        let mut app = busy_app(120, 20);
        on_job_event(
            &mut app,
            JobEvent::Queued {
                id: JobId(4),
                spec: spec("goat"),
            },
        );
        on_job_event(
            &mut app,
            JobEvent::Finished(Box::new(JobResult {
                id: JobId(4),
                spec: spec("goat"),
                outcome: Outcome::Failed,
                failure: Some(Failure {
                    class: ErrorClass::BuilderFailed {
                        drv: "/nix/store/x-goat.drv".into(),
                        exit_code: Some(2),
                        last_lines: vec![],
                    },
                    first_line: "builder failed".into(),
                }),
                exit_code: Some(1),
                duration: Duration::from_millis(3_200),
                started_at: 0,
                drv_path: None,
                out_paths: vec![],
                log_file: None,
                value: None,
                tree: crate::jobs::interpret::TreeReport::default(),
            })),
        );
        update(&mut app, Action::Jobs);
        insta::assert_snapshot!(render(&app).backend());
    }

    /// The real captured log of a fixed-output hash mismatch (tests/fixtures/logs), read as the
    /// runtime reads it.
    pub(in crate::tui) fn hash_mismatch_log_app() -> App {
        saved_log_app("hash-mismatch.log")
    }

    /// A log view of `tests/fixtures/logs/<rel>`, read as the runtime reads a saved log.
    pub(in crate::tui) fn saved_log_app(rel: &str) -> App {
        let mut app = fixture_app(120, 24);
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/logs")
            .join(rel);
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        app.overlays.push(crate::tui::app::Overlay::Log(Box::new(
            crate::tui::logview::LogView::new(
                LogSource::File(path.clone()),
                format!("{name} (saved log)"),
                Some("pds".into()),
                false,
            ),
        )));
        let page = crate::jobs::logpage::read_page(&path, LogRange::Tail).unwrap();
        on_feedback(
            &mut app,
            Feedback::LogPage {
                source: LogSource::File(path),
                page: Ok(page),
            },
        );
        app
    }

    #[test]
    fn log_view_with_a_hash_mismatch_header() {
        let app = hash_mismatch_log_app();
        let Some(crate::tui::app::Overlay::Log(v)) = app.overlays.last() else {
            panic!("log view on top")
        };
        assert_eq!(v.failure.as_ref().unwrap().class, "hash_mismatch");
        assert!(v.got_hash().unwrap().starts_with("sha256-"));
        insta::assert_snapshot!(render(&app).backend());
    }

    #[test]
    fn log_view_search_highlight() {
        let mut app = hash_mismatch_log_app();
        update(&mut app, Action::Search);
        for c in "got".chars() {
            update(&mut app, Action::SearchInput(c));
        }
        update(&mut app, Action::SearchConfirm);
        let t = render(&app);
        insta::assert_snapshot!(t.backend());
        let buf = t.backend().buffer();
        let hits = (0..app.height)
            .flat_map(|y| (0..app.width).map(move |x| (x, y)))
            .filter(|&(x, y)| {
                buf[(x, y)]
                    .modifier
                    .contains(ratatui::style::Modifier::UNDERLINED)
            })
            .count();
        assert!(hits >= 3, "the match `got` is highlighted");
    }
}
