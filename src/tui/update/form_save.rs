//! A form's save (refused while a field is invalid, the first invalid field focused), its
//! result (saved: the package is reloaded and stale; a conflict: the conflict view), the leave
//! prompt and the conflict view's choices, and the reload code's notice that a form's file
//! changed on disk.

use std::path::Path;

use crate::tui::action::{Action, Command};
use crate::tui::app::{App, Overlay};
use crate::tui::forms::{Conflict, Dialog, Draft, Form, SaveError, Side};

use super::forms::{form_mut, notify};

/// Ctrl-s: refused while a field is invalid (the first invalid one gets the focus), else the
/// draft is written by effects.
pub(super) fn save(app: &mut App) -> Vec<Command> {
    let Some(form) = form_mut(app) else {
        return Vec::new();
    };
    form.editing = None;
    form.close_session();
    if form.saving {
        return Vec::new();
    }
    if form.invalid() {
        let n = form.problems.len() + form.pending.len();
        let row = form.first_invalid_row();
        let text = if let Some(r) = row {
            let label = form.rows[r].field().map(|i| form.fields[i].label.clone());
            form.focus = r;
            format!(
                "not saved: {n} problem(s); fix {} first",
                label.unwrap_or_default()
            )
        } else {
            let (p, m) = form.other_problems().first().map_or(("", ""), |x| *x);
            format!("not saved: {p}: {m}")
        };
        form.dialog = None;
        return notify(app, &text);
    }
    if !form.dirty() {
        let leave = form.leave_after_save;
        if leave {
            app.overlays.pop();
        }
        app.notify("no changes to save", false);
        return Vec::new();
    }
    form.saving = true;
    vec![Command::SaveForm {
        package: form.package.clone(),
        draft: Box::new(form.draft.clone()),
    }]
}

/// The write's result: saved (the package reloads and is stale), a conflict, or an error.
pub fn on_saved(app: &mut App, package: &str, result: Result<Draft, SaveError>) -> Vec<Command> {
    let Some(form) = app.overlays.iter_mut().rev().find_map(|o| match o {
        Overlay::Form(f) if f.package == package => Some(f.as_mut()),
        _ => None,
    }) else {
        return Vec::new();
    };
    form.saving = false;
    match result {
        Ok(written) => {
            let file = written.path().display().to_string();
            form.saved(written);
            if form.leave_after_save {
                app.overlays
                    .retain(|o| !matches!(o, Overlay::Form(f) if f.package == package));
            }
            mark_stale(app, package);
            app.notify(format!("saved {file}"), false);
            vec![Command::RefreshStatus(vec![package.to_owned()])]
        }
        Err(SaveError::Conflict(raw)) => {
            let fields = raw.fields();
            // Where only one side changed a field, that side is kept; both: mine by default.
            let choice = fields
                .iter()
                .map(|f| {
                    if f.ours == f.base {
                        Side::Disk
                    } else {
                        Side::Mine
                    }
                })
                .collect();
            form.leave_after_save = false;
            form.changed_on_disk = true;
            form.dialog = Some(Dialog::Conflict(Box::new(Conflict {
                raw: *raw,
                fields,
                choice,
                selected: 0,
            })));
            Vec::new()
        }
        Err(SaveError::Failed(e)) => {
            form.leave_after_save = false;
            app.notify(format!("{package}: not saved: {e}"), true);
            Vec::new()
        }
    }
}

/// The package's files changed: its last build no longer says anything about it.
fn mark_stale(app: &mut App, package: &str) {
    if let Some(s) = app.statuses.get_mut(package)
        && s.last_build.is_some()
    {
        s.stale = true;
    }
}

/// For the reload code: `path` changed on disk. A form open on it remembers, so the title says
/// so and saving shows the conflict view instead of writing.
pub fn on_file_changed(app: &mut App, path: &Path, bytes: Option<&[u8]>) {
    for o in &mut app.overlays {
        if let Overlay::Form(f) = o
            && f.draft.path() == path
            && bytes != Some(f.draft.base_bytes())
        {
            f.changed_on_disk = true;
        }
    }
}

/// The leave prompt and the conflict view.
pub(super) fn dialog_action(app: &mut App, action: Action) -> Vec<Command> {
    let Some(form) = form_mut(app) else {
        return Vec::new();
    };
    match form.dialog.as_mut() {
        Some(Dialog::Leave) => match action {
            Action::FormSave => {
                form.dialog = None;
                form.leave_after_save = true;
                return save(app);
            }
            Action::FormDiscard => {
                app.overlays.pop();
            }
            Action::CloseOverlay => form.dialog = None,
            _ => app.dirty = false,
        },
        Some(Dialog::Conflict(c)) => {
            let n = c.fields.len();
            return conflict_action(app, action, n);
        }
        None => {}
    }
    Vec::new()
}

fn conflict_action(app: &mut App, action: Action, n: usize) -> Vec<Command> {
    let Some(form) = form_mut(app) else {
        return Vec::new();
    };
    let Some(Dialog::Conflict(c)) = form.dialog.as_mut() else {
        return Vec::new();
    };
    match action {
        Action::MoveDown => c.selected = (c.selected + 1).min(n.saturating_sub(1)),
        Action::MoveUp => c.selected = c.selected.saturating_sub(1),
        Action::FormKeepMine | Action::FormTakeDisk => {
            let side = if action == Action::FormKeepMine {
                Side::Mine
            } else {
                Side::Disk
            };
            if let Some(s) = c.choice.get_mut(c.selected) {
                *s = side;
            }
        }
        Action::Confirm | Action::FormSave => {
            let c = c.clone();
            form.dialog = None;
            let disk_wins: Vec<String> = c
                .fields
                .iter()
                .zip(&c.choice)
                .filter(|(_, side)| **side == Side::Disk)
                .map(|(f, _)| f.path.clone())
                .collect();
            match form.draft.resolve(&c.raw, &disk_wins, false) {
                Ok(merged) => {
                    form.checkpoint(false);
                    form.base = merged.clone();
                    form.draft = merged;
                    form.changed_on_disk = false;
                    form.refresh();
                    return save(app);
                }
                Err(e) => return notify(app, &format!("cannot merge: {e}; re-open (r) instead")),
            }
        }
        Action::FormReopen => match form.draft.resolve(&c.raw, &[], true) {
            Ok(disk) => {
                let (package, kind) = (form.package.clone(), form.kind.clone());
                *form = Form::new(package, kind, disk);
                app.notify("re-opened from disk; your edits were dropped", false);
            }
            Err(e) => return notify(app, &format!("cannot re-open: {e}")),
        },
        Action::CloseOverlay => form.dialog = None,
        _ => app.dirty = false,
    }
    Vec::new()
}
