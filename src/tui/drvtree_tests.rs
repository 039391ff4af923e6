//! The derivation tree through the whole App (a headless test), and its benchmark under load (`bench/README.md`): 5,000 derivations and a million
//! log lines go through the jobs layer's interpreter (the engine's per-line fold, without the
//! pipe) into the App as engine events, while keystrokes are injected every 10 ms; each key's
//! latency is from injection to the end of the frame drawn after it (real `update` and `draw`
//! on a `TestBackend`). The anchor is the same run with no log stream. Run with
//! `cargo test --release --lib drvtree_tests::drvtree_bench -- --ignored --nocapture`.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::jobs::interpret::LineInterpreter;
use crate::jobs::spec::{TREE_EVERY, TREE_ROWS};
use crate::jobs::{JobEvent, JobId, JobSpec};
use crate::nix::command::Installable;
use crate::tui::action::Action;
use crate::tui::tests::{fixture_app, render, select};
use crate::tui::update::{on_job_event, update};

/// The engine's subscriber channel holds this many events; droppable ones beyond are dropped.
const CHANNEL: usize = 1024;
const KEY_EVERY: Duration = Duration::from_millis(10);
/// The runtime's batch of engine events (`recv_many`) and its frame budget for streamed lines.
const BATCH: usize = 256;
const FRAME_BUDGET: Duration = Duration::from_millis(16);

struct Figures {
    keys: usize,
    p50: Duration,
    p99: Duration,
    max: Duration,
    lines: u64,
    wall: Duration,
    hwm_kib: u64,
}

fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// The producer: the synthetic log through the interpreter, events sent as the engine does.
fn produce(tx: mpsc::SyncSender<JobEvent>, id: JobId, drvs: usize, lines_per: usize) -> u64 {
    let mut interp = LineInterpreter::default();
    let mut last_tree = Instant::now();
    let mut n = 0;
    for (line_no, line) in crate::nix::drvtree::tests::synthetic_log(drvs, lines_per).enumerate() {
        n += 1;
        let meaning = interp.feed(&line, true);
        if let Some(text) = meaning.text {
            let ev = JobEvent::Log {
                id,
                line_no: line_no as u64,
                drv: meaning.drv,
                text,
            };
            if let Err(mpsc::TrySendError::Disconnected(_)) = tx.try_send(ev) {
                break;
            }
        }
        if last_tree.elapsed() >= TREE_EVERY {
            last_tree = Instant::now();
            if let Some(tree) = interp.tree_snapshot(TREE_ROWS, false) {
                let _ = tx.try_send(JobEvent::Tree {
                    id,
                    tree: Box::new(tree),
                });
            }
        }
    }
    if let Some(tree) = interp.tree_snapshot(TREE_ROWS, true) {
        let _ = tx.send(JobEvent::Tree {
            id,
            tree: Box::new(tree),
        });
    }
    n
}

fn run(stream: bool, min_keys: usize) -> Figures {
    let mut app = fixture_app(120, 40);
    let id = JobId(1);
    let spec = JobSpec::build(
        "slingshot",
        Installable::new("path:/f", "packages.x86_64-linux.slingshot"),
    );
    on_job_event(&mut app, JobEvent::Queued { id, spec });
    on_job_event(
        &mut app,
        JobEvent::Started {
            id,
            pid: 1,
            command: "nix build".into(),
            log_file: "/nonexistent/x.log".into(),
        },
    );
    select(&mut app, "slingshot");
    update(&mut app, Action::OpenLog);
    update(&mut app, Action::ToggleTree);
    let (tx, rx) = mpsc::sync_channel(CHANNEL);
    let producer = stream.then(|| std::thread::spawn(move || produce(tx, id, 5000, 200)));
    let start = Instant::now();
    let mut latencies = Vec::new();
    let mut next_key = start + KEY_EVERY;
    let mut lines = 0;
    let mut last_frame = Instant::now();
    let keys = [
        Action::MoveUp,
        Action::MoveDown,
        Action::ToggleWrap,
        Action::ToggleWrap,
    ];
    loop {
        let done = producer
            .as_ref()
            .is_none_or(std::thread::JoinHandle::is_finished);
        if done && latencies.len() >= min_keys {
            break;
        }
        // As the runtime's loop: keys first (its select! is biased), events in batches of
        // BATCH, and streamed lines drawn at most every FRAME_BUDGET; a key's frame at once.
        let now = Instant::now();
        if now >= next_key {
            let mut injected = Vec::new();
            while next_key <= now {
                update(
                    &mut app,
                    keys[(latencies.len() + injected.len()) % keys.len()],
                );
                injected.push(next_key);
                next_key += KEY_EVERY;
            }
            let _ = render(&app);
            app.dirty = false;
            last_frame = Instant::now();
            latencies.extend(injected.iter().map(Instant::elapsed));
            continue;
        }
        let mut got = 0;
        while got < BATCH
            && let Ok(ev) = rx.try_recv()
        {
            on_job_event(&mut app, ev);
            got += 1;
        }
        if app.dirty && last_frame.elapsed() >= FRAME_BUDGET {
            let _ = render(&app);
            app.dirty = false;
            last_frame = Instant::now();
        } else if got == 0 {
            std::thread::sleep(Duration::from_micros(200));
        }
    }
    if let Some(p) = producer {
        lines = p.join().unwrap();
    }
    latencies.sort();
    let q = |f: f64| latencies[((latencies.len() - 1) as f64 * f) as usize];
    Figures {
        keys: latencies.len(),
        p50: q(0.5),
        p99: q(0.99),
        max: *latencies.last().unwrap(),
        lines,
        wall: start.elapsed(),
        hwm_kib: peak_rss_kib(),
    }
}

#[test]
#[ignore = "benchmark: run in release with --ignored --nocapture"]
fn drvtree_bench() {
    let anchor = run(false, 500);
    let loaded = run(true, 500);
    for (name, f) in [
        ("anchor (no stream)", &anchor),
        ("5000 drvs, 1M lines", &loaded),
    ] {
        println!(
            "{name}: keys {} p50 {:?} p99 {:?} max {:?} lines {} wall {:?} peak RSS {} KiB",
            f.keys, f.p50, f.p99, f.max, f.lines, f.wall, f.hwm_kib
        );
    }
    println!(
        "p99 ratio {:.2}, peak RSS growth {} KiB",
        loaded.p99.as_secs_f64() / anchor.p99.as_secs_f64(),
        loaded.hwm_kib.saturating_sub(anchor.hwm_kib)
    );
    assert!(loaded.lines >= 1_000_000, "{} lines", loaded.lines);
    assert!(
        loaded.p99 <= Duration::from_millis(50),
        "p99 {:?}",
        loaded.p99
    );
}

/// The whole path: a real log through the jobs layer's interpreter, its tree events into
/// the App, `T` in the log view, and the frame drawn by the real views.
#[test]
fn headless_app_streams_a_log_and_the_pane_shows_its_rows() {
    use crate::jobs::interpret::LineInterpreter;
    use crate::jobs::{JobEvent, JobId, JobSpec};
    use crate::nix::command::Installable;
    use crate::tui::action::Action;
    use crate::tui::tests::{fixture_app, render, select};
    use crate::tui::update::{on_job_event, update};

    let mut app = fixture_app(100, 40);
    let id = JobId(1);
    let spec = JobSpec::build(
        "slingshot",
        Installable::new("path:/f", "packages.x86_64-linux.slingshot"),
    );
    on_job_event(&mut app, JobEvent::Queued { id, spec });
    on_job_event(
        &mut app,
        JobEvent::Started {
            id,
            pid: 1,
            command: "nix build".into(),
            log_file: "/tmp/x.log".into(),
        },
    );
    select(&mut app, "slingshot");
    update(&mut app, Action::OpenLog);
    update(&mut app, Action::ToggleTree);
    let path = format!(
        "{}/tests/fixtures/logs/tree-keep-going.log",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(path).unwrap();
    let mut interp = LineInterpreter::default();
    let screen = |app: &crate::tui::app::App| {
        let t = render(app);
        let buf = t.backend().buffer().clone();
        (0..buf.area.height)
            .map(|y| {
                (0..buf.area.width)
                    .map(|x| buf[(x, y)].symbol())
                    .collect::<String>()
            })
            .collect::<Vec<_>>()
    };
    let mut seen_running = false;
    for line in text.lines() {
        interp.feed(line, true);
        let tree = interp
            .tree_snapshot(crate::jobs::spec::TREE_ROWS, false)
            .unwrap_or_default();
        on_job_event(
            &mut app,
            JobEvent::Tree {
                id,
                tree: Box::new(tree),
            },
        );
        if line.contains("c is broken") {
            let rows = screen(&app);
            seen_running = rows.iter().any(|r| r.contains("⏵ tree-c"))
                && rows.iter().any(|r| r.contains("⏵ tree-a"))
                && rows.iter().any(|r| r.contains("⏵ 2 building"));
        }
    }
    assert!(seen_running, "both builds shown running mid-log");
    let rows = screen(&app);
    for name in ["tree-c", "tree-d", "tree-top"] {
        assert!(
            rows.iter().any(|r| r.contains(&format!("✘ {name}"))),
            "{name} failed: {rows:#?}"
        );
    }
    assert!(rows.iter().any(|r| r.contains("✔ 3 done")), "{rows:#?}");
    assert!(rows.iter().any(|r| r.contains("✔ 3/6 built")), "{rows:#?}");
    // `T` again hides the pane.
    update(&mut app, Action::ToggleTree);
    assert!(!screen(&app).iter().any(|r| r.contains("3/6 built")));
}
