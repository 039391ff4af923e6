//! The log view's runtime side against a real running job: once the engine's ring dropped a
//! job's early lines, the view still pages and searches them from the job's log file, with the
//! same display line numbers as the ring.

mod common;

use std::sync::Arc;
use std::time::Duration;

use atwb::jobs::logpage::{LogPage, LogRange, LogSeek};
use atwb::jobs::{Engine, EngineConfig, JobEvent, JobSpec, StatusStore};
use atwb::nix::command::Installable;
use atwb::tui::action::{Feedback, LogSource};
use atwb::tui::effects::Effects;

async fn next_feedback(rx: &mut tokio::sync::mpsc::UnboundedReceiver<Feedback>) -> Feedback {
    tokio::time::timeout(Duration::from_secs(30), rx.recv())
        .await
        .expect("no feedback in 30 s")
        .expect("feedback channel closed")
}

async fn page(
    effects: &Effects,
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<Feedback>,
    source: &LogSource,
    range: LogRange,
) -> LogPage {
    effects.load_log(source.clone(), range);
    match next_feedback(rx).await {
        Feedback::LogPage { page, .. } => page.unwrap_or_else(|e| panic!("{range:?}: {e}")),
        other => panic!("expected a page, got {other:?}"),
    }
}

/// The `i` of a "bulk line i" display line.
fn bulk_no(text: &str) -> Option<u64> {
    text.strip_prefix("bulk line ")?.parse().ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(clippy::too_many_lines)] // one scenario, step by step
async fn a_running_jobs_dropped_lines_are_paged_and_searched_from_its_file() {
    if !common::nix_env() {
        return;
    }
    let dir = tempfile::Builder::new()
        .prefix("atwb-scrollback-")
        .tempdir()
        .unwrap();
    let flake = dir.path().join("flake");
    common::copy_dir(
        &common::repo_root().join("tests/fixtures/flakes/basic"),
        &flake,
    );
    let salt = format!(
        "atwbsalt{}x{}",
        std::process::id(),
        dir.path().file_name().unwrap().to_string_lossy()
    );
    std::fs::write(flake.join("salt.txt"), &salt).unwrap();

    // Saved logs go to the XDG state dir: keep them in the temporary directory.
    // SAFETY: the only test of this binary, before its engine starts any thread.
    unsafe { std::env::set_var("XDG_STATE_HOME", dir.path().join("xdg-state")) };
    let mut cfg = EngineConfig::new(dir.path().join("state/logs"));
    cfg.ring_lines = 1000;
    let engine = Engine::new(cfg);
    let mut events = engine.subscribe();
    // 20,000 "bulk line" lines, then 30 "stream line" lines, then 1.5 s of silence: the job
    // still runs while the test looks at it, and the ring kept only the newest 1,000 lines.
    let id = engine.submit(JobSpec::build(
        "stream",
        Installable::new(flake.to_string_lossy(), "stream"),
    ));
    let mut log_file = None;
    loop {
        let ev = tokio::time::timeout(Duration::from_secs(60), events.recv())
            .await
            .expect("no event in 60 s")
            .unwrap();
        match ev {
            JobEvent::Started { log_file: f, .. } => log_file = Some(f),
            JobEvent::Log { text, .. } if text == "stream line 29" => break,
            JobEvent::Finished(r) => panic!("finished before the test looked: {r:?}"),
            _ => {}
        }
    }

    let store = Arc::new(StatusStore::open_in(dir.path(), &dir.path().join("state")).unwrap());
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let effects = Effects::new(
        engine.handle(),
        store,
        dir.path().to_path_buf(),
        Ok(flake.to_string_lossy().into_owned()),
        tx,
    );
    let source = LogSource::Job { id, log_file };

    let tail = page(&effects, &mut rx, &source, LogRange::Tail).await;
    assert!(
        tail.first > 19_000,
        "the tail is numbered like the whole log, not from the ring's start: {}",
        tail.first
    );
    assert!(tail.at_tail);
    // Display number of "bulk line 0": nix prints a line or two before the builder's output.
    let offset = tail
        .lines
        .iter()
        .enumerate()
        .find_map(|(i, l)| Some(tail.first + i as u64 - bulk_no(&l.text)?))
        .expect("bulk lines in the tail");

    // Scrolling up from the ring's first line reaches the file, contiguous with the ring.
    let older = page(&effects, &mut rx, &source, LogRange::Before(tail.first)).await;
    assert_eq!(older.first + older.lines.len() as u64, tail.first);
    for (i, l) in older.lines.iter().enumerate() {
        if let Some(b) = bulk_no(&l.text) {
            assert_eq!(older.first + i as u64, b + offset, "{l:?}");
        }
    }
    let head = page(&effects, &mut rx, &source, LogRange::Head).await;
    assert_eq!(head.first, 0);
    assert_eq!(
        head.lines[offset as usize].text, "bulk line 0",
        "the job's first lines, long dropped from the ring, come from its log file"
    );

    // A search from the tail backwards finds a line only the file still has.
    effects.seek_log(
        source.clone(),
        LogSeek::Match {
            query: "BULK LINE 123".into(),
            from: tail.first,
            forward: false,
            drv: None,
        },
    );
    let found = match next_feedback(&mut rx).await {
        Feedback::LogSought { line, .. } => line.unwrap().expect("a match"),
        other => panic!("expected a seek answer, got {other:?}"),
    };
    // The last of "bulk line 123", "bulk line 1230".."1239", "bulk line 12300".."12399" before
    // the tail is "bulk line 12399".
    assert_eq!(found, 12_399 + offset);
    let around = page(&effects, &mut rx, &source, LogRange::Around(found)).await;
    assert_eq!(
        around.lines[(found - around.first) as usize].text,
        "bulk line 12399"
    );
    // Saving while it runs writes the whole log: the file's dropped lines, then the ring's.
    effects.save_log(source.clone(), "stream".into());
    let saved = match next_feedback(&mut rx).await {
        Feedback::LogSaved { result, .. } => result.unwrap(),
        other => panic!("expected a save, got {other:?}"),
    };
    assert!(saved.starts_with(dir.path()), "{}", saved.display());
    let text = std::fs::read_to_string(&saved).unwrap();
    let saved_lines: Vec<&str> = text.lines().collect();
    assert_eq!(saved_lines.len() as u64, tail.total);
    assert_eq!(saved_lines[offset as usize], "bulk line 0");
    assert_eq!(saved_lines[(19_999 + offset) as usize], "bulk line 19999");
    assert_eq!(saved_lines.last(), Some(&"stream line 29"));

    engine.cancel(id);
    loop {
        let ev = tokio::time::timeout(Duration::from_secs(30), events.recv())
            .await
            .expect("the cancelled job did not finish in 30 s")
            .unwrap();
        if matches!(ev, JobEvent::Finished(_)) {
            break;
        }
    }
}
