//! The event loop: terminal events and a tick become `Action`s, `update` turns them into state
//! changes and `Command`s, and a frame is drawn only when something changed.

use std::io::stdout;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use crossterm::event::{
    DisableMouseCapture, EnableMouseCapture, Event, KeyEventKind, MouseButton, MouseEventKind,
};
use crossterm::execute;
use futures::StreamExt;
use ratatui::DefaultTerminal;
use tokio::sync::mpsc;

use super::action::{Action, Command, Feedback};
use super::app::{App, Notice};
use super::effects::Effects;
use super::keymap::Key;
use super::update::{on_feedback, on_job_event, update};
use super::views;
use crate::config::Config;
use crate::jobs::{Engine, EngineConfig, EngineHandle, JobEvent, JobState, StatusStore};

/// Restores the terminal when dropped, so every exit path (return, `?`, unwinding) leaves it
/// usable. The panic hook installed in `enter` covers the panic case before unwinding starts.
struct TerminalGuard;

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

fn restore() {
    let _ = execute!(stdout(), DisableMouseCapture);
    // Not `ratatui::restore`: it reports a failure with eprintln!, which panics when the terminal
    // is gone (SIGHUP), and a panic here would replace the exit status.
    if let Err(e) = ratatui::try_restore() {
        tracing::warn!("restoring the terminal: {e}");
    }
}

/// Raw mode, alternate screen, mouse capture, and a panic hook that undoes all three before the
/// panic message prints.
fn enter() -> Result<(DefaultTerminal, TerminalGuard)> {
    // ratatui's hook restores raw mode and the alternate screen; ours runs first and also turns
    // mouse capture off, which ratatui does not know about.
    // The guard exists first so that a half-done init (raw mode on, alternate screen failed) is
    // undone too; restoring a terminal that was never changed is harmless.
    let guard = TerminalGuard;
    let terminal = ratatui::try_init().context("opening the terminal")?;
    let ratatui_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        tracing::error!("panic: {info}");
        let _ = execute!(stdout(), DisableMouseCapture);
        ratatui_hook(info);
    }));
    execute!(stdout(), EnableMouseCapture).context("enabling mouse capture")?;
    Ok((terminal, guard))
}

/// Translates one terminal event into an action, using the keymap of the current view.
pub fn event_to_action(app: &App, event: &Event) -> Option<Action> {
    match event {
        Event::Key(key) if key.kind == KeyEventKind::Press => {
            let k = Key::from_event(key);
            let view = app.view();
            if let Some(action) = app.keymap.action(view, &k) {
                return Some(action);
            }
            match (view, k.code) {
                (super::keymap::View::Search, crossterm::event::KeyCode::Char(c))
                    if !k.ctrl && !k.alt =>
                {
                    Some(Action::SearchInput(c))
                }
                // A form's editor gets every key its keymap leaves free.
                (super::keymap::View::FormEdit, code) => {
                    super::forms::EditKey::from_crossterm(code, k.ctrl, k.alt).map(Action::FormKey)
                }
                _ => None,
            }
        }
        Event::Mouse(m) => match m.kind {
            MouseEventKind::Down(MouseButton::Left) => Some(Action::Click {
                column: m.column,
                row: m.row,
            }),
            MouseEventKind::ScrollDown => Some(Action::Scroll {
                column: m.column,
                row: m.row,
                down: true,
            }),
            MouseEventKind::ScrollUp => Some(Action::Scroll {
                column: m.column,
                row: m.row,
                down: false,
            }),
            _ => None,
        },
        Event::Resize(width, height) => Some(Action::Resize {
            width: *width,
            height: *height,
        }),
        _ => None,
    }
}

/// Runs the UI with a job engine for the catalog at `catalog_root`. On every way out (quit,
/// error, panic, SIGTERM / SIGHUP / SIGQUIT / SIGINT) running jobs are cancelled and nix gets a
/// bounded time to stop its builders before the terminal is restored. Returns the signal that
/// ended it, if one did (the caller exits with 128 + its number).
pub fn run(mut app: App, catalog_root: PathBuf) -> Result<Option<i32>> {
    let config = Config::load_from(&crate::paths::config_dir())?;
    let store =
        Arc::new(StatusStore::open(&catalog_root).context("opening the build status store")?);
    let flake = match &config.jobs.flake {
        Some(f) => Ok(f.clone()),
        None => crate::paths::repo_flake(&catalog_root).map_err(|e| format!("{e:#}")),
    };
    // Two workers: nix output is read off the UI's thread, so a chatty build never delays a key.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let in_rt = rt.enter();
    // Before the terminal changes mode: from here on a signal is handled, never fatal.
    let mut signals = StopSignals::new();
    let (mut terminal, _guard) = enter()?;
    let mut engine_cfg = EngineConfig::from_config(&config.jobs, &catalog_root);
    engine_cfg.store = Some(store.clone());
    // Declared after the terminal guard, so dropped before it: nix is stopped first.
    let engine = Engine::new(engine_cfg);
    let jobs_rx = engine.subscribe();
    install_cancel_on_panic(engine.handle());
    let (tx, feedback_rx) = tokio::sync::mpsc::unbounded_channel();
    // Changes on disk reload their package; kept alive until the loop ends.
    let _watcher = match super::watch::start(&catalog_root, tx.clone()) {
        Ok(w) => Some(w),
        Err(e) => {
            let _ = tx.send(Feedback::Notice(Notice {
                text: format!("not watching the catalog for changes ({e:#}); ctrl-r reloads it"),
                error: true,
            }));
            None
        }
    };
    let effects = Effects::new(engine.handle(), store, catalog_root, flake, tx);
    let size = terminal.size().context("reading the terminal size")?;
    stamp_clock(&mut app);
    update(
        &mut app,
        Action::Resize {
            width: size.width,
            height: size.height,
        },
    );
    let result = rt.block_on(async {
        effects.refresh_statuses(app.package_names());
        // Never an evaluation at start-up: browsing a catalog must not run its Nix code.
        effects.remembered_hardening();
        // A signal ends the loop as Ctrl-c does: what follows cancels the jobs.
        let ended = tokio::select! {
            r = event_loop(&mut terminal, &mut app, &effects, jobs_rx, feedback_rx) => r.map(|()| None),
            sig = signals.recv() => Ok(Some(sig)),
        };
        tokio::select! {
            () = finish_jobs(&effects.engine) => {}
            // A second signal: leave now (dropping the engine below still stops nix).
            _ = signals.recv() => {}
        }
        ended
    });
    // Cancel and wait (bounded: SIGINT, SIGTERM, then the whole tree killed) before the guard
    // restores the terminal.
    drop(effects);
    drop(engine);
    drop(in_rt);
    // Do not wait for a background evaluation (hardening scores) still running: quitting must
    // be quick. Builders are already stopped above; an evaluation ends by itself.
    rt.shutdown_background();
    result
}

/// Cancels every job and waits until each has finished, i.e. nix has exited and the result
/// (cancelled) is in the status store; at most as long as the supervisor's escalation from
/// SIGINT to a kill of nix's whole tree takes.
async fn finish_jobs(engine: &EngineHandle) {
    engine.cancel_all();
    let deadline = Instant::now() + engine.config().grace * 2 + Duration::from_secs(1);
    let running = || {
        engine
            .jobs()
            .iter()
            .any(|j| !matches!(j.state, JobState::Finished { .. }))
    };
    while running() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The signals that end the UI (and `atwb build`) as Ctrl-c does. Their default action would kill
/// atwb at once: the terminal left in raw mode, the alternate screen and mouse tracking, nix's
/// builds unrecorded. (In raw mode the terminal's own Ctrl-c is a key, not SIGINT; a SIGINT comes
/// from `kill`, or from Ctrl-c in `atwb build`.)
pub(crate) struct StopSignals {
    signals: Vec<(i32, tokio::signal::unix::Signal)>,
}

impl StopSignals {
    /// SIGTERM, SIGHUP, SIGQUIT and SIGINT.
    pub(crate) const ALL: [i32; 4] = [libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT, libc::SIGINT];

    /// Inside the runtime. A signal that cannot be watched keeps its default action.
    pub(crate) fn new() -> StopSignals {
        use tokio::signal::unix::{SignalKind, signal};
        let mut signals = Vec::new();
        for n in Self::ALL {
            match signal(SignalKind::from_raw(n)) {
                Ok(s) => signals.push((n, s)),
                Err(e) => tracing::warn!("cannot watch signal {n}: {e}"),
            }
        }
        StopSignals { signals }
    }

    /// The number of the next signal received.
    pub(crate) async fn recv(&mut self) -> i32 {
        if self.signals.is_empty() {
            return std::future::pending().await;
        }
        let waits = self.signals.iter_mut().map(|(n, s)| {
            let n = *n;
            Box::pin(async move {
                s.recv().await;
                n
            })
        });
        let (n, ..) = futures::future::select_all(waits).await;
        tracing::info!(signal = n, "stopping on a signal");
        n
    }
}

/// A panic cancels the jobs too, and waits (bounded) for nix to stop its builders before the
/// previous hook restores the terminal and prints the message.
fn install_cancel_on_panic(handle: crate::jobs::EngineHandle) {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let pids = handle.cancel_all();
        crate::jobs::process::stop_blocking(&pids, handle.config().grace);
        previous(info);
    }));
}

fn stamp_clock(app: &mut App) {
    app.now = Instant::now();
    app.unix_now = crate::time::unix_now();
}

/// Minimum time between two frames drawn for streamed events (keys draw at once).
const FRAME_BUDGET: Duration = Duration::from_millis(16);

/// What the loop does after a command.
enum Flow {
    Continue,
    Quit,
    /// Leave the terminal to `$EDITOR` for this file, at this line.
    Edit(PathBuf, Option<usize>),
}

/// Terminal events, boxed so the loop also runs on synthetic events (`debug latency`).
pub type Events = std::pin::Pin<Box<dyn futures::Stream<Item = std::io::Result<Event>> + Send>>;

/// Where the loop draws and reads events: the real terminal, or an in-memory one for benchmarks.
pub trait Screen {
    fn draw(&mut self, app: &App) -> Result<()>;
    /// The terminal's events (called once).
    fn events(&mut self) -> Events;
    /// Leave the terminal to `$EDITOR` for `path` (at `line` when the editor takes one) and
    /// take it back.
    fn edit(&mut self, path: &Path, line: Option<usize>) -> Result<()>;
}

struct RealScreen<'a> {
    terminal: &'a mut DefaultTerminal,
    input: Input,
}

impl Screen for RealScreen<'_> {
    fn draw(&mut self, app: &App) -> Result<()> {
        self.terminal
            .draw(|f| views::draw(f, app))
            .context("drawing")?;
        Ok(())
    }

    fn events(&mut self) -> Events {
        let mut rx = self.input.events.take().expect("events() is called once");
        Box::pin(futures::stream::poll_fn(move |cx| rx.poll_recv(cx)))
    }

    fn edit(&mut self, path: &Path, line: Option<usize>) -> Result<()> {
        // The editor must get every key: stop reading the terminal first.
        self.input.pause(true);
        let result = edit(self.terminal, path, line);
        self.input.pause(false);
        result
    }
}

/// Reads terminal events on its own thread, polling with a timeout so it can be paused while
/// `$EDITOR` owns the terminal (crossterm's `EventStream` cannot be paused: its reader would
/// swallow the editor's first keys).
struct Input {
    events: Option<mpsc::UnboundedReceiver<std::io::Result<Event>>>,
    paused: Arc<std::sync::atomic::AtomicBool>,
    /// The thread saw `paused` and is not reading.
    idle: Arc<std::sync::atomic::AtomicBool>,
}

impl Input {
    fn spawn() -> Input {
        use std::sync::atomic::{AtomicBool, Ordering};
        let (tx, rx) = mpsc::unbounded_channel();
        let paused = Arc::new(AtomicBool::new(false));
        let idle = Arc::new(AtomicBool::new(false));
        let (p, i) = (paused.clone(), idle.clone());
        std::thread::spawn(move || {
            while !tx.is_closed() {
                if p.load(Ordering::SeqCst) {
                    i.store(true, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                }
                i.store(false, Ordering::SeqCst);
                // poll returns as soon as input arrives: the timeout only bounds how long a
                // pause waits.
                match crossterm::event::poll(Duration::from_millis(50)) {
                    Ok(true) => {
                        if tx.send(crossterm::event::read()).is_err() {
                            break;
                        }
                    }
                    Ok(false) => {}
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        break;
                    }
                }
            }
        });
        Input {
            events: Some(rx),
            paused,
            idle,
        }
    }

    fn pause(&self, pause: bool) {
        use std::sync::atomic::Ordering;
        self.paused.store(pause, Ordering::SeqCst);
        if pause {
            let deadline = Instant::now() + Duration::from_millis(500);
            while !self.idle.load(Ordering::SeqCst) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    }
}

async fn event_loop(
    terminal: &mut DefaultTerminal,
    app: &mut App,
    effects: &Effects,
    jobs_rx: mpsc::Receiver<JobEvent>,
    feedback_rx: mpsc::UnboundedReceiver<Feedback>,
) -> Result<()> {
    run_loop(
        &mut RealScreen {
            terminal,
            input: Input::spawn(),
        },
        app,
        effects,
        jobs_rx,
        feedback_rx,
    )
    .await
}

/// The loop itself: draw when dirty, then wait for a key, a tick, a batch of job events or the
/// runtime's feedback, update, and execute the resulting commands.
pub async fn run_loop(
    screen: &mut impl Screen,
    app: &mut App,
    effects: &Effects,
    mut jobs_rx: mpsc::Receiver<JobEvent>,
    mut feedback_rx: mpsc::UnboundedReceiver<Feedback>,
) -> Result<()> {
    let mut events = screen.events();
    // Drives spinners and elapsed times while jobs run; a tick that changes nothing draws nothing.
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut batch = Vec::with_capacity(256);
    let mut jobs_open = true;
    // A key is drawn at once; streamed log lines at most once per FRAME_BUDGET, so a chatty
    // build costs ~60 frames a second, not one per batch, and keys never queue behind frames.
    let mut last_draw = Instant::now().checked_sub(FRAME_BUDGET).unwrap();
    let mut key_pending = true;
    loop {
        if app.dirty && (key_pending || last_draw.elapsed() >= FRAME_BUDGET) {
            screen.draw(app)?;
            last_draw = Instant::now();
            app.dirty = false;
            key_pending = false;
            test_panic_hook(app);
        }
        let next_frame = tokio::time::Instant::from_std(last_draw + FRAME_BUDGET);
        let mut commands = Vec::new();
        tokio::select! {
            // Keys first whenever several sources are ready.
            biased;
            ev = events.next() => match ev {
                Some(Ok(ev)) => {
                    if let Some(action) = event_to_action(app, &ev) {
                        tracing::trace!(?action, "action");
                        stamp_clock(app);
                        commands = update(app, action);
                        key_pending = true;
                    }
                }
                Some(Err(e)) => return Err(e).context("reading terminal events"),
                None => return Ok(()),
            },
            () = tokio::time::sleep_until(next_frame), if app.dirty => {}
            Some(fb) = feedback_rx.recv() => {
                stamp_clock(app);
                commands = on_feedback(app, fb);
            }
            n = jobs_rx.recv_many(&mut batch, 256), if jobs_open => {
                if n == 0 {
                    jobs_open = false;
                } else {
                    stamp_clock(app);
                }
                for ev in batch.drain(..) {
                    commands.extend(on_job_event(app, ev));
                }
            }
            _ = tick.tick() => {
                stamp_clock(app);
                commands = update(app, Action::Tick);
            }
        }
        // Commands can produce feedback that is applied at once (a running job's log page), so
        // drain until none is left.
        let mut queue: std::collections::VecDeque<Command> = commands.into();
        while let Some(command) = queue.pop_front() {
            match execute(app, effects, command) {
                Flow::Continue => {}
                Flow::Quit => return Ok(()),
                Flow::Edit(path, line) => {
                    let outcome = screen.edit(&path, line);
                    app.dirty = true;
                    if let Err(e) = outcome {
                        queue.extend(on_feedback(
                            app,
                            Feedback::Notice(Notice {
                                text: format!("{e:#}"),
                                error: true,
                            }),
                        ));
                    }
                    // Whatever the editor did, the file may have changed: the reload also
                    // tells whether it still has errors (then the user is offered another go).
                    effects.reload_catalog();
                    effects.refresh_statuses(app.package_names());
                }
            }
            while let Ok(fb) = feedback_rx.try_recv() {
                queue.extend(on_feedback(app, fb));
            }
        }
    }
}

/// Performs one command against the engine or in the background; the UI itself never does.
fn execute(app: &App, effects: &Effects, command: Command) -> Flow {
    match command {
        Command::Quit => return Flow::Quit,
        Command::Build { packages, tests } => effects.build(&app.catalog, &packages, tests),
        Command::Submit(specs) => effects.submit(specs),
        Command::Cancel(id) => effects.engine.cancel(id),
        Command::CancelAll => {
            effects.engine.cancel_all();
        }
        Command::OpenEditor { file, line } => return Flow::Edit(file, line),
        Command::ReloadCatalog => effects.reload_catalog(),
        Command::FixHash { package, failure } => effects.fix_hash(package, failure),
        Command::LoadLog { source, range } => effects.load_log(source, range),
        Command::SaveLog { source, name } => effects.save_log(source, name),
        Command::SeekLog { source, seek } => effects.seek_log(source, seek),
        Command::RefreshStatus(names) => effects.refresh_statuses(names),
        Command::ScoreHardening => effects.score_hardening(),
        Command::DetectPackage { source } => effects.detect_package(source),
        Command::WritePackage(proposal) => effects.write_package(*proposal),

        Command::CheckUpstream { check, queries } => effects.check_upstream(check, queries),
        Command::PlanBump { package, to } => effects.plan_bump(package, to),
        Command::WriteBump(package) => effects.write_bump(package),

        Command::OpenForm {
            package,
            path,
            kind,
        } => {
            let context = super::forms::Draft::context(&app.catalog, &path);
            effects.open_form(package, path, kind, context);
        }
        Command::SaveForm { package, draft } => effects.save_form(package, *draft),
        Command::ComputeHashes { package } => effects.compute_hashes(package),
        Command::WriteHashes(hashes) => effects.write_hashes(*hashes),
        Command::CheckCaches(packages) => effects.check_caches(&packages),
    }
    Flow::Continue
}

/// Raw mode, alternate screen and mouse again, and a fresh `Terminal` so the next frame is drawn
/// whole (no cursor-position query, which the paused input thread could not answer).
fn take_back(terminal: &mut DefaultTerminal) -> Result<()> {
    crossterm::terminal::enable_raw_mode()?;
    execute!(
        stdout(),
        crossterm::terminal::EnterAlternateScreen,
        EnableMouseCapture
    )?;
    *terminal = ratatui::Terminal::new(ratatui::backend::CrosstermBackend::new(stdout()))?;
    Ok(())
}

/// Suspends the UI, runs `$VISUAL` / `$EDITOR` (default `vi`) on `path`, and takes the terminal
/// back, whatever the editor did.
fn edit(terminal: &mut DefaultTerminal, path: &Path, line: Option<usize>) -> Result<()> {
    restore();
    let editor = super::editor::editor_from_env();
    // Through the shell, so EDITOR may carry arguments (`code --wait`).
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(super::editor::shell_command(&editor, line))
        .arg("atwb-editor")
        .arg(path)
        .status();
    take_back(terminal).context("taking the terminal back after the editor")?;
    match status {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => anyhow::bail!("{editor} exited with {s}; the catalog is reloaded anyway"),
        Err(e) => anyhow::bail!("could not start the editor `{editor}`: {e} (set $EDITOR)"),
    }
}

/// Debug builds only: `ATWB_TEST_PANIC=1` panics right after the first frame, `=running` after
/// the first frame drawn while a job's builder runs, so the tmux end-to-end tests can check that
/// a panic restores the terminal and stops nix. Release builds ignore it.
fn test_panic_hook(app: &App) {
    if !cfg!(debug_assertions) {
        return;
    }
    match std::env::var("ATWB_TEST_PANIC").as_deref() {
        Ok("1") => {
            panic!("ATWB_TEST_PANIC: deliberate panic after the first frame (debug builds only)")
        }
        Ok("running")
            if app
                .jobs
                .jobs
                .values()
                .any(|j| j.lines > 0 && j.is_running()) =>
        {
            panic!("ATWB_TEST_PANIC: deliberate panic while a build runs (debug builds only)")
        }
        _ => {}
    }
}
