//! Wrapping in the views that wrap: continuation lines start under their text.

use crate::jobs::logpage::LogLine;
use crate::tui::action::Action;
use crate::tui::tests::builds::{hash_mismatch_log_app, saved_log_app};
use crate::tui::tests::{fixture_app, render};
use crate::tui::update::update;

fn rows(app: &crate::tui::app::App) -> Vec<String> {
    let t = render(app);
    let buf = t.backend().buffer();
    (0..buf.area.height)
        .map(|y| (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect())
        .collect()
}

#[test]
fn wrapped_log_lines_continue_after_the_line_number_and_indent() {
    let mut app = hash_mismatch_log_app();
    let words = "lorem ipsum dolor sit amet ".repeat(12);
    let v = app.log_view_mut().unwrap();
    v.lines
        .push_back(LogLine::new(format!("   --> {words}"), None));
    v.total += 1;
    let n = v.first + v.lines.len() as u64;
    update(&mut app, Action::ToggleWrap);
    let screen = rows(&app);
    let first = screen
        .iter()
        .position(|r| r.contains(&format!("{n:>6}    --> lorem")))
        .unwrap_or_else(|| panic!("{}", screen.join("\n")));
    // Border, 7 columns of number and space, then the line's own 3-space indent.
    for row in &screen[first + 1..first + 3] {
        let inside: String = row.chars().skip(1).collect();
        let text = inside.trim_start();
        assert_eq!(inside.len() - text.len(), 10, "{}", screen.join("\n"));
        assert!(words.contains(text.split(' ').next().unwrap()), "{row}");
    }
    assert!(
        screen[first + 1..]
            .iter()
            .all(|r| !r.contains(&format!("{n:>6}")))
    );
}

#[test]
fn the_help_overlay_wraps_under_the_descriptions() {
    let mut app = fixture_app(46, 30);
    update(&mut app, Action::Help);
    let screen = rows(&app);
    // `page up` + `page_up` do not fit in 44 columns: the name goes under the description.
    let at = screen
        .iter()
        .position(|r| r.contains("pgup ctrl-u"))
        .unwrap_or_else(|| panic!("{}", screen.join("\n")));
    let next = &screen[at + 1];
    let col = |row: &str, text: &str| row.find(text).map(|b| row[..b].chars().count());
    assert_eq!(
        col(next, "page_up"),
        col(&screen[at], "page up"),
        "{}",
        screen.join("\n")
    );
    // Scrolling reaches the last wrapped line.
    let total = super::help::line_count(&app);
    assert!(
        total
            > app
                .keymap
                .help_rows()
                .iter()
                .map(|(_, r)| r.len())
                .sum::<usize>()
    );
}

#[test]
fn the_log_header_shows_the_class_hint() {
    let app = saved_log_app("triage/assert.log");
    let mut app = app;
    let failure = app.log_view_mut().unwrap().failure.clone().unwrap();
    assert_eq!(failure.class, "eval_error");
    let hint = failure.hint.unwrap();
    assert!(hint.starts_with("the error is at /nix/store/"), "{hint}");
    let screen = rows(&app);
    assert!(
        screen
            .iter()
            .any(|r| r.contains("hint: the error is at /nix/store/")),
        "{}",
        screen.join("\n")
    );
    insta::assert_snapshot!(render(&app).backend());
}

#[test]
fn the_jobs_view_has_a_detail_pane_of_the_selected_job() {
    use crate::jobs::spec::{JobEvent, JobId, JobResult, JobSpec, Outcome};
    use crate::nix::command::Installable;
    use crate::tui::update::on_job_event;
    use std::path::PathBuf;
    use std::time::Duration;

    let mut app = fixture_app(120, 30);
    app.unix_now = 1_796_134_989;
    let spec = JobSpec::build(
        "goat",
        Installable::new("path:/flake", "packages.x86_64-linux.goat"),
    );
    on_job_event(
        &mut app,
        JobEvent::Queued {
            id: JobId(7),
            spec: spec.clone(),
        },
    );
    on_job_event(
        &mut app,
        JobEvent::Started {
            id: JobId(7),
            pid: 4242,
            command:
                "nix build --log-format internal-json -v path:/flake#packages.x86_64-linux.goat"
                    .into(),
            log_file: PathBuf::from("/state/logs/goat-7.log"),
        },
    );
    on_job_event(
        &mut app,
        JobEvent::Finished(Box::new(JobResult {
            id: JobId(7),
            spec,
            outcome: Outcome::Failed,
            failure: None,
            exit_code: Some(1),
            duration: Duration::from_secs(75),
            started_at: 0,
            drv_path: Some("/nix/store/00000000000000000000000000000000-goat-0.4.drv".into()),
            out_paths: vec![],
            log_file: Some(PathBuf::from("/state/logs/goat-7.log")),
            value: None,
            tree: crate::jobs::interpret::TreeReport::default(),
        })),
    );
    update(&mut app, Action::Jobs);
    let screen = rows(&app).join("\n");
    for want in [
        "command  nix build --log-format internal-json",
        "start    2026-12-01 14:23:09 UTC",
        "end      2026-12-01 14:24:24 UTC",
        "exit     1 (failed)",
        "drv      /nix/store/00000000000000000000000000000000-goat-0.4.drv",
        "log      /state/logs/goat-7.log",
    ] {
        assert!(screen.contains(want), "{want}\n{screen}");
    }
    insta::assert_snapshot!(render(&app).backend());
}
