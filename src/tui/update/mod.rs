//! The one place state changes: `update(&mut App, Action) -> Vec<Command>`. Pure: no I/O, no
//! processes, no clock; the runtime performs the returned commands.
//!
//! This file only dispatches, to one file per view or concern: `main` (the tree, navigation,
//! search, filters, mouse), `builds` (starting jobs from the main view, the hash fix), `log`
//! (the log view), `jobs` (the jobs view), `dialogs` (quitting, confirm, prompt) and `events`
//! (the engine's events and the runtime's feedback).

mod builds;
mod bulk;
mod caches;
mod dialogs;
mod events;
pub mod form_save;
mod forms;
mod hashes;
mod jobs;
mod log;
mod main;
mod wizard;

mod problems;

mod updates;

use super::action::{Action, Command};
use super::app::{App, Mode, Overlay};
use super::views::help;

pub use events::{on_feedback, on_job_event};

pub fn update(app: &mut App, action: Action) -> Vec<Command> {
    // A frame may already be pending (the runtime defers frames for streamed lines): an action
    // that changes nothing (a tick, an unbound key) must not cancel it.
    let pending = app.dirty;
    let commands = apply(app, action);
    app.dirty |= pending;
    commands
}

fn apply(app: &mut App, action: Action) -> Vec<Command> {
    // Most actions change what is drawn; the few that do not reset this below.
    app.dirty = true;
    if !matches!(action, Action::Tick | Action::Resize { .. }) {
        // A key press acknowledges the last message.
        app.notice = None;
    }
    match action {
        Action::Quit => return dialogs::quit(app),
        // Cancel first: the runtime then waits (bounded) for nix to exit before leaving.
        Action::ForceQuit => return vec![Command::CancelAll, Command::Quit],
        // Spinners and elapsed times move while jobs run; otherwise a tick draws nothing.
        Action::Tick => {
            app.dirty = app.jobs.active_count() > 0
                || app
                    .overlays
                    .iter()
                    .any(|o| matches!(o, Overlay::Wizard(w) if w.is_busy()));
        }
        Action::Resize { width, height } => {
            app.width = width;
            app.height = height;
            main::keep_selection_visible(app);
        }
        // A form takes every key but help (it decides itself what closing means: it asks
        // first when changes are unsaved), and the mouse does not reach the tree under it.
        _ if action != Action::Help && matches!(app.overlays.last(), Some(Overlay::Form(_))) => {
            return forms::form_action(app, action);
        }
        Action::Click { column, row } => main::click(app, column, row),
        Action::Scroll { column, row, down } => main::scroll(app, column, row, down),
        Action::Help => app.overlays.push(Overlay::Help { scroll: 0 }),
        Action::CloseOverlay => {
            app.overlays.pop();
        }
        Action::Updates if app.overlays.is_empty() && app.mode == Mode::Normal => {
            return updates::open(app);
        }
        _ if !app.overlays.is_empty() => return overlay_action(app, action),
        Action::NewPackage => wizard::open(app),
        Action::MetadataForm | Action::ServiceForm if app.mode == Mode::Normal => {
            return forms::open(app, action == Action::ServiceForm);
        }
        _ if app.mode == Mode::Normal => {
            match problems::main_action(app, action)
                .or_else(|| builds::main_action(app, action))
                .or_else(|| caches::main_action(app, action))
            {
                Some(commands) => return commands,
                None => main::navigation(app, action),
            }
        }
        _ => main::navigation(app, action),
    }
    Vec::new()
}

/// Keys while an overlay is open go to the topmost one.
fn overlay_action(app: &mut App, action: Action) -> Vec<Command> {
    match app.overlays.last() {
        Some(Overlay::Log(_)) => log::log_action(app, action),
        Some(Overlay::Jobs { .. }) => jobs::jobs_action(app, action),
        Some(Overlay::Confirm { .. }) => dialogs::confirm_action(app, action),
        Some(Overlay::Updates(_)) => updates::updates_action(app, action),
        Some(Overlay::BumpPreview { .. }) => updates::preview_action(app, action),
        Some(Overlay::Prompt { .. }) => dialogs::prompt_action(app, action),
        Some(Overlay::Wizard(_)) => wizard::wizard_action(app, action),

        Some(Overlay::Problems { .. }) => problems::problems_action(app, action),
        Some(Overlay::Messages { .. }) => {
            problems::messages_action(app, action);
            Vec::new()
        }

        Some(Overlay::Form(_)) => forms::form_action(app, action),
        Some(Overlay::Hashes(_)) => hashes::dialog_action(app, action),
        Some(Overlay::Help { .. }) => {
            help_action(app, action);
            Vec::new()
        }
        None => Vec::new(),
    }
}

/// Keys while the help overlay is on top: it only scrolls.
fn help_action(app: &mut App, action: Action) {
    let max = help::line_count(app).saturating_sub(1) as u16;
    if let Some(Overlay::Help { scroll }) = app.overlays.last_mut() {
        match action {
            Action::MoveDown => *scroll = (*scroll + 1).min(max),
            Action::MoveUp => *scroll = scroll.saturating_sub(1),
            _ => app.dirty = false,
        }
    }
}
