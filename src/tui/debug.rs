//! The TUI halves of the hidden `atwb debug ...` benchmarks (`first-frame`, `latency`): they run
//! the TUI's own code paths without a terminal.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::action::Action;
use super::update::update;
use super::views;

/// `atwb debug first-frame [--width W --height H]`: what `atwb` does before its first frame
/// (load catalog and config, build the state, lay out and draw), drawn to an in-memory terminal
/// instead of the real one. The benchmark for "first frame <= 30 ms" times this process;
/// `timings` prints the in-process split (load / state / draw) to stderr.
pub fn first_frame(
    catalog_root: &Path,
    width: u16,
    height: u16,
    print: bool,
    timings: bool,
    search: Option<&str>,
) -> Result<ExitCode> {
    let start = Instant::now();
    let catalog = crate::catalog::load(catalog_root)?;
    let loaded = start.elapsed();
    let mut app = super::build_app(catalog, catalog_root)?;
    update(&mut app, Action::Resize { width, height });
    let built = start.elapsed();
    let mut terminal = Terminal::new(TestBackend::new(width, height))?;
    terminal.draw(|f| views::draw(f, &app))?;
    let drawn = start.elapsed();
    if let Some(query) = search {
        // Type the query one key at a time, drawing after each key as the runtime does.
        update(&mut app, Action::Search);
        for c in query.chars() {
            let key = Instant::now();
            update(&mut app, Action::SearchInput(c));
            terminal.draw(|f| views::draw(f, &app))?;
            if timings {
                eprintln!(
                    "key {c:?}: {} shown, update+draw {:.2} ms",
                    app.shown.len(),
                    ms(key.elapsed())
                );
            }
        }
    }
    if print {
        println!("{}", terminal.backend());
    }
    if timings {
        eprintln!(
            "packages {}  load {:.2} ms  state {:.2} ms  draw {:.2} ms  total {:.2} ms",
            app.catalog.packages.len(),
            ms(loaded),
            ms(built.checked_sub(loaded).unwrap()),
            ms(drawn.checked_sub(built).unwrap()),
            ms(drawn)
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Options of `atwb debug latency`.
pub struct LatencyOptions {
    /// Flake whose attributes are built (`path:...`).
    pub flake: String,
    /// Attributes to build at once, one job each (all run in parallel).
    pub attrs: Vec<String>,
    pub keys: usize,
    pub interval_ms: u64,
    pub width: u16,
    pub height: u16,
    /// Wait this long after submitting before the first key (nix evaluates, builders start).
    pub warmup_ms: u64,
}

/// `atwb debug latency`: keystroke-to-frame latency while real nix jobs stream logs. Runs the
/// TUI's own loop (`runtime::run_loop`: job events, update, commands, draw) with the real
/// engine, drawing into an in-memory terminal and reading synthetic key events. A key's latency
/// is from the moment it is sent until the frame drawn after the loop took it has been drawn.
/// Keys: open the jobs view and the first job's log (following), scroll it up and down, then the
/// same in the tree; Ctrl-c at the end (cancel all, quit).
pub fn latency(catalog_root: &Path, opts: &LatencyOptions) -> Result<ExitCode> {
    use std::sync::{Arc, Mutex};

    use crossterm::event::Event;

    use crate::jobs::{Engine, EngineConfig, JobSpec, StatusStore};
    use crate::nix::command::Installable;

    let mut app = super::build_app(crate::catalog::load(catalog_root)?, catalog_root)?;
    let scratch = tempfile_dir()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let _in_rt = rt.enter();
    let mut cfg = EngineConfig::new(scratch.join("logs"));
    cfg.max_parallel = opts.attrs.len().max(1);
    let engine = Engine::new(cfg);
    let jobs_rx = engine.subscribe();
    let store = Arc::new(StatusStore::open_in(catalog_root, &scratch.join("state"))?);
    let (tx, feedback_rx) = tokio::sync::mpsc::unbounded_channel();
    let effects = super::effects::Effects::new(
        engine.handle(),
        store,
        catalog_root.to_path_buf(),
        Ok(opts.flake.clone()),
        tx,
    );
    update(
        &mut app,
        Action::Resize {
            width: opts.width,
            height: opts.height,
        },
    );
    for a in &opts.attrs {
        engine.submit(JobSpec::build(
            a.clone(),
            Installable::new(opts.flake.clone(), a.clone()),
        ));
    }

    // Keys travel with the instant they were sent; the stream notes it when the loop takes the
    // key, and the next completed draw closes every noted key.
    let (key_tx, key_rx) = tokio::sync::mpsc::unbounded_channel::<(Event, Instant)>();
    let taken: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let latencies: Arc<Mutex<Vec<f64>>> = Arc::default();
    let mut screen = BenchScreen {
        terminal: Terminal::new(TestBackend::new(opts.width, opts.height))?,
        keys: Some(key_rx),
        taken: taken.clone(),
        latencies: latencies.clone(),
        frames: 0,
    };

    let (script, n_keys) = key_script(opts.keys);
    let (warmup, interval) = (opts.warmup_ms, opts.interval_ms);
    rt.spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(warmup)).await;
        for ev in script {
            let _ = key_tx.send((ev, Instant::now()));
            tokio::time::sleep(std::time::Duration::from_millis(interval)).await;
        }
    });
    let lines_seen = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let started = Instant::now();
    rt.block_on(super::runtime::run_loop(
        &mut screen,
        &mut app,
        &effects,
        count_lines(jobs_rx, lines_seen.clone()),
        feedback_rx,
    ))?;
    let wall = started.elapsed();
    let running_at_end = app.jobs.active_count();
    drop(engine);
    let _ = std::fs::remove_dir_all(&scratch);

    let mut lat = latencies.lock().expect("latencies").clone();
    // The final Ctrl-c quits without a frame; every other key got one.
    lat.sort_by(f64::total_cmp);
    let pct = |p: f64| lat[((lat.len() as f64 - 1.0) * p).round() as usize];
    if lat.is_empty() {
        anyhow::bail!("no key produced a frame");
    }
    let lines = lines_seen.load(std::sync::atomic::Ordering::Relaxed);
    println!(
        "keys {} (framed {})  jobs {}  log events seen {} ({:.0}/s)  frames {}  wall {:.1} s  jobs running when Ctrl-c quit {}",
        n_keys,
        lat.len(),
        opts.attrs.len(),
        lines,
        lines as f64 / wall.as_secs_f64(),
        screen.frames,
        wall.as_secs_f64(),
        running_at_end
    );
    println!(
        "key-to-frame ms: p50 {:.2}  p90 {:.2}  p99 {:.2}  max {:.2}",
        pct(0.5),
        pct(0.9),
        pct(0.99),
        lat[lat.len() - 1]
    );
    Ok(ExitCode::SUCCESS)
}

/// The benchmark's terminal: draws into memory and closes the latency of every key taken
/// since the last frame.
struct BenchScreen {
    terminal: Terminal<TestBackend>,
    keys: Option<tokio::sync::mpsc::UnboundedReceiver<(crossterm::event::Event, Instant)>>,
    taken: std::sync::Arc<std::sync::Mutex<Vec<Instant>>>,
    latencies: std::sync::Arc<std::sync::Mutex<Vec<f64>>>,
    frames: u64,
}
impl super::runtime::Screen for BenchScreen {
    fn draw(&mut self, app: &super::App) -> Result<()> {
        self.terminal.draw(|f| views::draw(f, app))?;
        self.frames += 1;
        let done = Instant::now();
        let mut taken = self.taken.lock().expect("taken");
        let mut lat = self.latencies.lock().expect("latencies");
        lat.extend(taken.drain(..).map(|t| ms(done - t)));
        Ok(())
    }
    fn events(&mut self) -> super::runtime::Events {
        let taken = self.taken.clone();
        let rx = self.keys.take().expect("one event stream");
        Box::pin(futures::StreamExt::map(
            tokio_stream_from(rx),
            move |(ev, sent)| {
                taken.lock().expect("taken").push(sent);
                Ok(ev)
            },
        ))
    }
    fn edit(&mut self, _path: &Path, _line: Option<usize>) -> Result<()> {
        anyhow::bail!("no editor in the benchmark")
    }
}

/// Open the jobs view and the first job's log, scroll it, close it, scroll the tree; Ctrl-c
/// last. Returns the events and how many of them should produce a frame.
fn key_script(keys: usize) -> (Vec<crossterm::event::Event>, usize) {
    use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
    let key = |c: char| Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
    let mut script = vec![
        key('J'),
        Event::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
    ];
    let half = keys / 2;
    script.extend((0..half).map(|i| key(if i % 2 == 0 { 'k' } else { 'j' })));
    script.extend([key('q'), key('q')]);
    script.extend((0..keys - half).map(|i| key(if i % 2 == 0 { 'j' } else { 'k' })));
    let n_keys = script.len();
    script.push(Event::Key(KeyEvent::new(
        KeyCode::Char('c'),
        KeyModifiers::CONTROL,
    )));
    (script, n_keys)
}

/// Counts the log events on their way to the loop (the benchmark reports the stream's rate).
fn count_lines(
    mut rx: tokio::sync::mpsc::Receiver<crate::jobs::JobEvent>,
    seen: std::sync::Arc<std::sync::atomic::AtomicU64>,
) -> tokio::sync::mpsc::Receiver<crate::jobs::JobEvent> {
    let (tx, out) = tokio::sync::mpsc::channel(4096);
    tokio::spawn(async move {
        while let Some(ev) = rx.recv().await {
            if matches!(ev, crate::jobs::JobEvent::Log { .. }) {
                seen.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            if tx.send(ev).await.is_err() {
                break;
            }
        }
    });
    out
}

fn tokio_stream_from<T: Send + 'static>(
    mut rx: tokio::sync::mpsc::UnboundedReceiver<T>,
) -> impl futures::Stream<Item = T> + Send {
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

fn tempfile_dir() -> Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "atwb-latency-{}-{}",
        std::process::id(),
        crate::time::file_stamp()
    ));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}
