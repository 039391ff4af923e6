//! The event loop: terminal events and a tick become `Action`s, `update` turns them into state
//! changes and `Command`s, and a frame is drawn only when something changed.

use std::io::stdout;
use std::ops::ControlFlow;
use std::time::Duration;

use anyhow::{Context, Result};
use crossterm::event::{
    DisableMouseCapture, EnableMouseCapture, Event, EventStream, KeyEventKind, MouseButton,
    MouseEventKind,
};
use crossterm::execute;
use futures::StreamExt;
use ratatui::DefaultTerminal;

use super::action::{Action, Command};
use super::app::App;
use super::keymap::Key;
use super::update::update;
use super::views;

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
    ratatui::restore();
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

pub fn run(mut app: App) -> Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let (mut terminal, _guard) = enter()?;
    let size = terminal.size().context("reading the terminal size")?;
    update(
        &mut app,
        Action::Resize {
            width: size.width,
            height: size.height,
        },
    );
    rt.block_on(event_loop(&mut terminal, &mut app))
}

async fn event_loop(terminal: &mut DefaultTerminal, app: &mut App) -> Result<()> {
    let mut events = EventStream::new();
    // Drives spinners and elapsed times once jobs exist; a tick that changes nothing draws nothing.
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        if app.dirty {
            terminal.draw(|f| views::draw(f, app)).context("drawing")?;
            app.dirty = false;
            test_panic_hook();
        }
        // Later: a third arm receives job events (`JobEvent`) from the engine's channel.
        let action = tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(ev)) => event_to_action(app, &ev),
                Some(Err(e)) => return Err(e).context("reading terminal events"),
                None => return Ok(()),
            },
            _ = tick.tick() => Some(Action::Tick),
        };
        let Some(action) = action else { continue };
        tracing::trace!(?action, "action");
        for command in update(app, action) {
            if execute(command).is_break() {
                return Ok(());
            }
        }
    }
}

/// Performs one command. Later commands (submit or cancel a job, open `$EDITOR`, write a hash fix)
/// go to the job engine handle or suspend the terminal here; the UI itself never does effects.
fn execute(command: Command) -> ControlFlow<()> {
    match command {
        Command::Quit => ControlFlow::Break(()),
    }
}

/// Debug builds only: `ATWB_TEST_PANIC=1` panics right after the first frame, so the tmux
/// end-to-end test can check that a panic restores the terminal. Release builds ignore it.
fn test_panic_hook() {
    if cfg!(debug_assertions) && std::env::var_os("ATWB_TEST_PANIC").is_some_and(|v| v == "1") {
        panic!("ATWB_TEST_PANIC: deliberate panic after the first frame (debug builds only)");
    }
}
