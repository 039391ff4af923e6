//! Whole-log search and first-error in the log view: the view holds a window of 5,000 lines; a
//! match outside it is found by the runtime streaming the file (here: the same functions the
//! runtime calls on its blocking thread) and the view jumps to it.

use std::io::Write;
use std::path::{Path, PathBuf};

use atwb::jobs::logpage::{LogRange, LogSeek, WINDOW_LINES, read_page, seek_file};
use atwb::tui::action::{Feedback, LogSource};
use atwb::tui::app::Overlay;
use atwb::tui::logview::LogView;
use atwb::tui::update::on_feedback;
use atwb::tui::{Action, App, Command, KeyMap, update};

const LINES: u64 = 50_000;

/// A 50k-line log of plain builder output: "needle" on lines 777 and 46,000, an error on 1,234.
fn write_log(dir: &Path) -> PathBuf {
    let path = dir.join("big.log");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    for i in 0..LINES {
        match i {
            777 | 46_000 => writeln!(f, "line {i} has the Needle in it").unwrap(),
            1_234 => writeln!(f, "src/main.rs:3: error: expected `;`").unwrap(),
            _ => writeln!(f, "line {i} compiling unit {i}").unwrap(),
        }
    }
    f.flush().unwrap();
    path
}

fn app_with_log(path: &Path) -> App {
    let loaded = atwb::catalog::load(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tui-catalog"),
    )
    .unwrap();
    let mut app = App::new(loaded.catalog, "fixture/".into(), 0, KeyMap::default());
    update(
        &mut app,
        Action::Resize {
            width: 120,
            height: 30,
        },
    );
    app.overlays.push(Overlay::Log(Box::new(LogView::new(
        LogSource::File(path.into()),
        "big.log".into(),
        None,
        false,
    ))));
    feed_page(&mut app, path, LogRange::Tail);
    app
}

fn view(app: &mut App) -> &mut LogView {
    app.log_view_mut().unwrap()
}

/// What the runtime does for `Command::LoadLog`.
fn feed_page(app: &mut App, path: &Path, range: LogRange) -> Vec<Command> {
    let page = read_page(path, range).unwrap();
    on_feedback(
        app,
        Feedback::LogPage {
            source: LogSource::File(path.into()),
            page: Ok(page),
        },
    )
}

/// Runs the commands the way the runtime would, until none is left.
fn run(app: &mut App, path: &Path, mut cmds: Vec<Command>) {
    while let Some(cmd) = cmds.pop() {
        let more = match cmd {
            Command::SeekLog { source, seek } => {
                let line = seek_file(path, &seek).map_err(|e| e.to_string());
                on_feedback(app, Feedback::LogSought { source, seek, line })
            }
            Command::LoadLog { range, .. } => feed_page(app, path, range),
            other => panic!("unexpected {other:?}"),
        };
        cmds.extend(more);
    }
}

/// Display number of the view's current match.
fn current_line(app: &mut App) -> u64 {
    let v = view(app);
    v.first + v.current.expect("a current match") as u64
}

#[test]
fn search_and_first_error_reach_beyond_the_loaded_window() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_log(dir.path());
    let mut app = app_with_log(&path);
    assert_eq!(view(&mut app).first, LINES - WINDOW_LINES as u64);
    assert_eq!(view(&mut app).total, LINES);

    update(&mut app, Action::Search);
    for c in "needle".chars() {
        update(&mut app, Action::SearchInput(c));
    }
    // The screen shows the log's last lines; like `less`, the search goes forward from the
    // screen's top, finds nothing below it and wraps around the whole log, to line 777, which
    // only the file has.
    let cmds = update(&mut app, Action::SearchConfirm);
    assert!(
        matches!(
            &cmds[..],
            [Command::SeekLog {
                seek: LogSeek::Match { forward: true, .. },
                ..
            }]
        ),
        "{cmds:?}"
    );
    run(&mut app, &path, cmds);
    assert_eq!(current_line(&mut app), 777);
    let v = view(&mut app);
    assert!(v.lines[v.current.unwrap()].text.contains("Needle"));
    assert!(!v.follow);

    // n: the next match is beyond the window now around 777.
    let cmds = update(&mut app, Action::SearchNext);
    assert!(!cmds.is_empty());
    run(&mut app, &path, cmds);
    assert_eq!(current_line(&mut app), 46_000);

    // N: back to 777, again from the file.
    let cmds = update(&mut app, Action::SearchPrev);
    assert!(!cmds.is_empty());
    run(&mut app, &path, cmds);
    assert_eq!(current_line(&mut app), 777);
    // N again wraps backwards to the last match.
    let cmds = update(&mut app, Action::SearchPrev);
    run(&mut app, &path, cmds);
    assert_eq!(current_line(&mut app), 46_000);

    // The first error is far above the window.
    let cmds = update(&mut app, Action::FirstError);
    assert!(
        matches!(
            &cmds[..],
            [Command::SeekLog {
                seek: LogSeek::FirstError { .. },
                ..
            }]
        ),
        "{cmds:?}"
    );
    run(&mut app, &path, cmds);
    assert_eq!(current_line(&mut app), 1_234);

    // A query found nowhere says so.
    update(&mut app, Action::Search);
    for c in "absent-word".chars() {
        update(&mut app, Action::SearchInput(c));
    }
    let cmds = update(&mut app, Action::SearchConfirm);
    run(&mut app, &path, cmds);
    assert_eq!(view(&mut app).current, None);
    assert!(
        view(&mut app)
            .message
            .as_deref()
            .unwrap()
            .contains("no match")
    );
}

#[test]
fn an_older_page_is_numbered_like_the_tail_without_reading_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_log(dir.path());
    let page = read_page(&path, LogRange::Before(2_000)).unwrap();
    assert_eq!(page.first, 0);
    assert_eq!(page.lines.len(), 2_000);
    assert_eq!(page.lines[1_999].text, "line 1999 compiling unit 1999");
    assert!(!page.at_tail);
    let around = read_page(&path, LogRange::Around(30_000)).unwrap();
    assert_eq!(
        around.lines[(30_000 - around.first) as usize].text,
        "line 30000 compiling unit 30000"
    );
    // The seek itself, with the file streamed: constant memory, any position.
    let seek = LogSeek::Match {
        query: "NEEDLE".into(),
        from: 777,
        forward: true,
        drv: None,
    };
    assert_eq!(seek_file(&path, &seek).unwrap(), Some(46_000));
}
