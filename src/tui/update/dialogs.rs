//! Quitting (asking first while jobs run), the yes/no confirm dialog and the path prompt.

use crate::tui::action::{Action, Command, LogSource};
use crate::tui::app::{App, OnYes, Overlay};
use crate::tui::logview::LogView;

use super::{builds, bulk, caches, log, problems};

/// `q`: quit at once when nothing runs, else ask first.
pub(super) fn quit(app: &mut App) -> Vec<Command> {
    let n = app.jobs.active_count();
    if n == 0 {
        return vec![Command::Quit];
    }
    app.overlays.push(Overlay::Confirm {
        message: format!(
            "{n} job{} still running or queued. Cancel {} and quit?",
            if n == 1 { " is" } else { "s are" },
            if n == 1 { "it" } else { "them" }
        ),
        on_yes: OnYes::QuitCancelling,
    });
    Vec::new()
}

/// Keys while a confirm dialog is on top.
pub(super) fn confirm_action(app: &mut App, action: Action) -> Vec<Command> {
    if action != Action::Confirm {
        app.dirty = false;
        return Vec::new();
    }
    match app.overlays.pop() {
        Some(Overlay::Confirm { on_yes, .. }) => match on_yes {
            OnYes::QuitCancelling => vec![Command::CancelAll, Command::Quit],
            OnYes::Rebuild(packages) => builds::build(app, packages, false),
            OnYes::EditAgain { file, line } => problems::edit_again(app, file, line),
            OnYes::BuildBatch(packages) => bulk::start(app, packages),
            OnYes::CheckCaches(packages) => caches::start(app, packages),
        },
        Some(other) => {
            app.overlays.push(other);
            Vec::new()
        }
        None => Vec::new(),
    }
}

/// Keys while the path prompt is on top.
pub(super) fn prompt_action(app: &mut App, action: Action) -> Vec<Command> {
    let Some(Overlay::Prompt { text, .. }) = app.overlays.last_mut() else {
        return Vec::new();
    };
    match action {
        Action::SearchInput(c) => text.push(c),
        Action::SearchBackspace => {
            text.pop();
        }
        Action::SearchCancel => {
            app.overlays.pop();
        }
        Action::SearchConfirm => {
            let path = text.trim().to_owned();
            app.overlays.pop();
            if path.is_empty() {
                return Vec::new();
            }
            let path = std::path::PathBuf::from(path);
            let title = format!("{} (saved log)", path.display());
            return log::open_view(app, LogView::new(LogSource::File(path), title, None, false));
        }
        _ => app.dirty = false,
    }
    Vec::new()
}
